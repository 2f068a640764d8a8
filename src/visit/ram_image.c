/* Guest RAM images on disk (see visit/ram_image.h). */
#define _GNU_SOURCE /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"
#include "core/mapped_ram.h"
#include "core/page.h"
#include "core/util.h"
#include "visit/ram_image.h"

typedef struct ri_block {
    char *idstr;
    char *file;          /* name in dirfd, or NULL */
    int fd;              /* -1: not tracked */
    bool own_fd;
    uint64_t used_length;
    mc_page_set *sent, *data;
    int ifd;             /* input offsets + 1 per page (0: none), or -1 */
} ri_block;

/* A cache of the offset index: windows of RI_IDX_N entries. */
#define RI_IDX_N 512
#define RI_IDX_SLOTS 16
typedef struct ri_idx_slot {
    long block;          /* -1: empty */
    uint64_t first;      /* index of entry 0 */
    bool dirty;
    uint64_t e[RI_IDX_N];
} ri_idx_slot;

/* Pages for consecutive offsets of one block are gathered and written
 * with one pwrite(): far fewer system calls for the long runs of PAGE
 * records a stream mostly is. */
#define RI_RUN_BYTES (1u << 20)

struct mc_ram_image {
    mc_ram_image_opts o;
    uint8_t *run;        /* RI_RUN_BYTES (or one page, if larger) */
    size_t run_cap, run_len;
    long run_block;      /* -1: empty */
    uint64_t run_start;
    uint32_t page_size;
    uint8_t *page, *zero;
    mc_page_inflater *z;
    ri_block *blocks;
    size_t n_blocks;
    long cur;            /* block of the last named record, -1: none */
    bool lazy;           /* note input offsets of PAGE records */
    ri_idx_slot *idx;    /* RI_IDX_SLOTS, when lazy */
};

void mc_ram_image_file_name(const char *idstr, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)idstr; *p; p++) {
        bool safe = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
                    *p == '@' || *p == '+' ||
                    (*p == '.' && p != (const unsigned char *)idstr);
        if (o + 4 + 5 >= cap) {
            break;
        }
        if (safe) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    snprintf(out + o, cap - o, ".ram");
}

mc_ram_image *mc_ram_image_new(uint32_t page_size,
                               const mc_ram_image_opts *opts)
{
    mc_ram_image *img = mc_calloc(1, sizeof(*img));
    img->o = *opts;
    img->page_size = page_size;
    img->page = mc_malloc(page_size);
    img->zero = mc_calloc(1, page_size);
    img->z = mc_page_inflater_new();
    img->cur = -1;
    img->run_cap = page_size > RI_RUN_BYTES ? page_size
                                            : RI_RUN_BYTES / page_size * page_size;
    img->run = mc_malloc(img->run_cap);
    img->run_block = -1;
    img->lazy = opts->dirfd < 0 && opts->src_fd >= 0 && opts->src;
    if (img->lazy) {
        img->idx = mc_calloc(RI_IDX_SLOTS, sizeof(*img->idx));
        for (size_t i = 0; i < RI_IDX_SLOTS; i++) {
            img->idx[i].block = -1;
        }
    }
    return img;
}

void mc_ram_image_free(mc_ram_image *img)
{
    if (!img) {
        return;
    }
    for (size_t i = 0; i < img->n_blocks; i++) {
        ri_block *b = &img->blocks[i];
        if (b->fd >= 0 && b->own_fd) {
            close(b->fd);
        }
        if (b->ifd >= 0) {
            close(b->ifd);
        }
        free(b->idstr);
        free(b->file);
        mc_page_set_free(b->sent);
        mc_page_set_free(b->data);
    }
    free(img->blocks);
    free(img->idx);
    free(img->run);
    free(img->page);
    free(img->zero);
    mc_page_inflater_free(img->z);
    free(img);
}

static bool ri_open(mc_ram_image *img, ri_block *b, mc_error **errp)
{
    if (img->o.only && strcmp(img->o.only, b->idstr) != 0) {
        return true;
    }
    if (img->o.only && img->o.only_fd >= 0) {
        b->fd = img->o.only_fd;
    } else if (img->o.dirfd >= 0) {
        char name[MC_RAM_IMAGE_NAME_MAX];
        mc_ram_image_file_name(b->idstr, name, sizeof(name));
        b->file = mc_strdup(name);
        b->fd = openat(img->o.dirfd, name,
                       O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (b->fd < 0) {
            mc_error_set_errno(errp, errno, "cannot create %s", name);
            return false;
        }
        b->own_fd = true;
    } else {
        b->fd = mc_tmpfile(img->o.tmpdir ? img->o.tmpdir : "/tmp", errp);
        if (b->fd < 0) {
            return false;
        }
        b->own_fd = true;
    }
    if (ftruncate(b->fd, (off_t)b->used_length) != 0) {
        mc_error_set_errno(errp, errno, "cannot size the image of RAM block "
                           "%s", b->idstr);
        return false;
    }
    return true;
}

static bool ri_mem_size(mc_ram_image *img, const mc_ram_record *rec,
                        uint64_t offset, mc_error **errp)
{
    for (size_t i = 0; i < rec->n_blocks; i++) {
        const mc_ram_block *rb = &rec->blocks[i];
        bool known = false;
        for (size_t k = 0; k < img->n_blocks; k++) {
            ri_block *b = &img->blocks[k];
            if (strcmp(b->idstr, rb->idstr) != 0) {
                continue;
            }
            known = true;
            if (b->used_length != rb->used_length) {
                mc_error_data(errp, offset, "ram",
                              "RAM block %s announced again with %llu bytes "
                              "instead of %llu", rb->idstr,
                              (unsigned long long)rb->used_length,
                              (unsigned long long)b->used_length);
                return false;
            }
        }
        if (known) {
            continue;
        }
        img->blocks = mc_realloc(img->blocks,
                                 (img->n_blocks + 1) * sizeof(*img->blocks));
        ri_block *b = &img->blocks[img->n_blocks++];
        memset(b, 0, sizeof(*b));
        b->idstr = mc_strdup(rb->idstr);
        b->fd = -1;
        b->ifd = -1;
        b->used_length = rb->used_length;
        b->sent = mc_page_set_new();
        b->data = mc_page_set_new();
        if (!ri_open(img, b, errp)) {
            return false;
        }
    }
    return true;
}

static bool ri_pwrite(ri_block *b, const uint8_t *p, size_t n, uint64_t at,
                      mc_error **errp)
{
    char what[300];
    snprintf(what, sizeof(what), "the image of RAM block %s", b->idstr);
    return mc_fd_pwrite(b->fd, p, n, at, what, errp);
}

static bool ri_pread(ri_block *b, uint8_t *p, size_t n, uint64_t at,
                     mc_error **errp)
{
    char what[300];
    snprintf(what, sizeof(what), "the image of RAM block %s", b->idstr);
    return mc_fd_pread(b->fd, p, n, at, what, errp);
}

static bool ri_flush(mc_ram_image *img, mc_error **errp)
{
    if (img->run_block < 0 || img->run_len == 0) {
        img->run_block = -1;
        return true;
    }
    ri_block *b = &img->blocks[img->run_block];
    size_t n = img->run_len;
    img->run_block = -1;
    img->run_len = 0;
    return ri_pwrite(b, img->run, n, img->run_start, errp);
}

static bool ri_io(int fd, bool wr, void *p, size_t n, uint64_t at,
                  const char *idstr, mc_error **errp)
{
    char what[300];
    snprintf(what, sizeof(what), "the page index of RAM block %s", idstr);
    return wr ? mc_fd_pwrite(fd, p, n, at, what, errp)
              : mc_fd_pread(fd, p, n, at, what, errp);
}

/* The cached window holding entry idx of block i. */
static ri_idx_slot *ri_idx_load(mc_ram_image *img, size_t i, uint64_t idx,
                                mc_error **errp)
{
    uint64_t first = idx - idx % RI_IDX_N;
    ri_idx_slot *s = &img->idx[(first / RI_IDX_N + i * 7) % RI_IDX_SLOTS];
    if (s->block == (long)i && s->first == first) {
        return s;
    }
    if (s->block >= 0 && s->dirty) {
        ri_block *ob = &img->blocks[s->block];
        if (!ri_io(ob->ifd, true, s->e, sizeof(s->e), s->first * 8,
                   ob->idstr, errp)) {
            return NULL;
        }
    }
    ri_block *b = &img->blocks[i];
    s->block = (long)i;
    s->first = first;
    s->dirty = false;
    if (b->ifd < 0) {
        memset(s->e, 0, sizeof(s->e));
        return s;
    }
    if (!ri_io(b->ifd, false, s->e, sizeof(s->e), first * 8, b->idstr, errp)) {
        s->block = -1;
        return NULL;
    }
    return s;
}

/* Note (v = input offset + 1) or forget (v = 0) where page idx lies. */
static bool ri_idx_set(mc_ram_image *img, size_t i, uint64_t idx, uint64_t v,
                       mc_error **errp)
{
    ri_block *b = &img->blocks[i];
    if (b->ifd < 0) {
        if (v == 0) {
            return true;   /* nothing noted in this block yet */
        }
        b->ifd = mc_tmpfile(img->o.tmpdir ? img->o.tmpdir : "/tmp", errp);
        if (b->ifd < 0) {
            return false;
        }
    }
    ri_idx_slot *s = ri_idx_load(img, i, idx, errp);
    if (!s) {
        return false;
    }
    if (s->e[idx - s->first] != v) {
        s->e[idx - s->first] = v;
        s->dirty = true;
    }
    return true;
}

/* The input offset + 1 of page idx, 0 when its content is in the image. */
static bool ri_idx_get(mc_ram_image *img, size_t i, uint64_t idx, uint64_t *v,
                       mc_error **errp)
{
    *v = 0;
    if (img->blocks[i].ifd < 0) {
        return true;
    }
    ri_idx_slot *s = ri_idx_load(img, i, idx, errp);
    if (!s) {
        return false;
    }
    *v = s->e[idx - s->first];
    return true;
}

/* The current content of page idx of block i. */
static bool ri_page(mc_ram_image *img, size_t i, uint64_t idx, uint8_t *out,
                    mc_error **errp)
{
    ri_block *b = &img->blocks[i];
    uint64_t v = 0;
    if (img->lazy && !ri_idx_get(img, i, idx, &v, errp)) {
        return false;
    }
    if (v) {
        return ri_io(img->o.src_fd, false, out, img->page_size, v - 1,
                     b->idstr, errp);
    }
    if (!mc_page_set_has(b->data, idx)) {
        memset(out, 0, img->page_size);
        return true;
    }
    return ri_flush(img, errp) &&
           ri_pread(b, out, img->page_size, idx * img->page_size, errp);
}

/* Queue one page for writing at offset of block i. */
static bool ri_queue(mc_ram_image *img, size_t i, const uint8_t *page,
                     uint64_t offset, mc_error **errp)
{
    size_t ps = img->page_size;
    if (img->run_block != (long)i ||
        offset != img->run_start + img->run_len ||
        img->run_len + ps > img->run_cap) {
        if (!ri_flush(img, errp)) {
            return false;
        }
        img->run_block = (long)i;
        img->run_start = offset;
    }
    memcpy(img->run + img->run_len, page, ps);
    img->run_len += ps;
    return true;
}

/* The input offset of a PAGE record's bytes, when they lie in the input's
 * buffer (so that pread of src_fd gets them back). */
static bool ri_src_offset(const mc_ram_image *img, const mc_ram_record *rec,
                          uint64_t *at)
{
    const mc_src *s = img->o.src;
    if (!rec->data || !s->buf || rec->data < s->buf ||
        rec->data + rec->len > s->buf + s->len) {
        return false;
    }
    *at = s->base + (uint64_t)(rec->data - s->buf);
    return true;
}

typedef struct ri_mapped_ctx {
    mc_ram_image *img;
    const char *idstr;
    uint64_t offset;
} ri_mapped_ctx;

/* A page of a mapped-ram region: present pages are applied as PAGE (or,
 * for a hole, ZERO) records; the others are what QEMU does not load. */
static bool ri_mapped_page(void *opaque, uint64_t idx, const uint8_t *data,
                           bool present, mc_error **errp)
{
    ri_mapped_ctx *c = opaque;
    if (!present) {
        return true;
    }
    mc_ram_record r = {
        .kind = data ? MC_RAM_PAGE : MC_RAM_ZERO,
        .offset = idx * c->img->page_size, .block = c->idstr,
        .data = data, .len = c->img->page_size,
    };
    return mc_ram_image_apply(c->img, &r, c->offset, NULL, errp);
}

bool mc_ram_image_apply(mc_ram_image *img, const mc_ram_record *rec,
                        uint64_t offset, const uint8_t **page,
                        mc_error **errp)
{
    if (page) {
        *page = NULL;
    }
    if (rec->kind == MC_RAM_MAPPED_BLOCK) {
        mc_ram_record m = {
            .kind = MC_RAM_MEM_SIZE, .offset = rec->blocks->used_length,
            .blocks = rec->blocks, .n_blocks = 1,
        };
        return ri_flush(img, errp) && ri_mem_size(img, &m, offset, errp);
    }
    if ((rec->kind == MC_RAM_MAPPED_BYTES ||
         rec->kind == MC_RAM_MAPPED_ZEROS) && rec->mapped) {
        ri_mapped_ctx c = {img, rec->mapped->idstr, offset};
        return mc_mapped_block_pages(rec->mapped, rec->offset,
                                     rec->kind == MC_RAM_MAPPED_BYTES
                                         ? rec->data : NULL,
                                     rec->len, ri_mapped_page, &c, errp);
    }
    if (rec->kind == MC_RAM_MEM_SIZE) {
        return ri_flush(img, errp) && ri_mem_size(img, rec, offset, errp);
    }
    if (rec->kind != MC_RAM_ZERO && rec->kind != MC_RAM_PAGE &&
        rec->kind != MC_RAM_XBZRLE && rec->kind != MC_RAM_COMPRESS) {
        return true;
    }
    if (rec->block) {
        long found = -1;
        for (size_t k = 0; k < img->n_blocks; k++) {
            if (strcmp(img->blocks[k].idstr, rec->block) == 0) {
                found = (long)k;
                break;
            }
        }
        if (found < 0) {
            mc_error_data(errp, offset, "ram",
                          "%s record for RAM block %s, which no MEM_SIZE "
                          "record announced", mc_ram_kind_name(rec->kind),
                          rec->block);
            return false;
        }
        img->cur = found;
    }
    if (img->cur < 0) {
        mc_error_data(errp, offset, "ram",
                      "%s record continues a RAM block before any was named",
                      mc_ram_kind_name(rec->kind));
        return false;
    }
    ri_block *b = &img->blocks[img->cur];
    char path[300];
    snprintf(path, sizeof(path), "ram/%s", b->idstr);
    const uint64_t ps = img->page_size;
    if (rec->offset % ps || rec->offset > b->used_length ||
        b->used_length - rec->offset < ps) {
        mc_error_data(errp, offset, path,
                      "page at 0x%llx lies outside the block's %llu bytes",
                      (unsigned long long)rec->offset,
                      (unsigned long long)b->used_length);
        return false;
    }
    uint64_t idx = rec->offset / ps;
    if (rec->kind == MC_RAM_XBZRLE && !mc_page_set_has(b->sent, idx)) {
        mc_error_data(errp, offset, path,
                      "XBZRLE record for the page at 0x%llx, which the stream "
                      "never sent before", (unsigned long long)rec->offset);
        return false;
    }
    mc_page_set_add(b->sent, idx);
    if (b->fd < 0) {
        return true; /* not tracked: checked, not written */
    }
    if (img->lazy) {
        uint64_t at;
        if (rec->kind == MC_RAM_PAGE && ri_src_offset(img, rec, &at)) {
            if (page) {
                *page = rec->data;
            }
            return ri_idx_set(img, (size_t)img->cur, idx, at + 1, errp);
        }
        if (rec->kind == MC_RAM_XBZRLE) {
            /* decode against the current content, wherever it is */
            if (!ri_page(img, (size_t)img->cur, idx, img->page, errp) ||
                !mc_page_xbzrle_apply(img->page, ps, rec->encoding, rec->data,
                                      rec->len, offset, path, errp)) {
                return false;
            }
        }
        if (!ri_idx_set(img, (size_t)img->cur, idx, 0, errp)) {
            return false;
        }
        if (rec->kind == MC_RAM_XBZRLE) {
            mc_page_set_add(b->data, idx);
            if (!ri_queue(img, (size_t)img->cur, img->page, rec->offset,
                          errp)) {
                return false;
            }
            if (page) {
                *page = img->run + img->run_len - ps;
            }
            return true;
        }
    }
    const uint8_t *out = img->page;
    switch (rec->kind) {
    case MC_RAM_ZERO:
        if (rec->fill == 0) {
            if (!mc_page_set_has(b->data, idx)) {
                return true;
            }
            out = img->zero;
        } else {
            mc_page_fill(img->page, ps, rec->fill);
        }
        break;
    case MC_RAM_PAGE:
        out = rec->data;
        break;
    case MC_RAM_XBZRLE:
        if (!ri_flush(img, errp) ||
            !ri_pread(b, img->page, ps, rec->offset, errp) ||
            !mc_page_xbzrle_apply(img->page, ps, rec->encoding, rec->data,
                                  rec->len, offset, path, errp)) {
            return false;
        }
        break;
    default: /* MC_RAM_COMPRESS */
        if (!mc_page_inflate(img->z, img->page, ps, rec->data, rec->len,
                             offset, path, errp)) {
            return false;
        }
        break;
    }
    mc_page_set_add(b->data, idx);
    if (!ri_queue(img, (size_t)img->cur, out, rec->offset, errp)) {
        return false;
    }
    if (page && rec->kind != MC_RAM_ZERO) {
        *page = img->run + img->run_len - ps; /* the queued copy */
    }
    return true;
}

bool mc_ram_image_read(mc_ram_image *img, size_t block, uint64_t page_offset,
                       uint8_t *out, mc_error **errp)
{
    ri_block *b = &img->blocks[block];
    if (b->fd < 0) {
        memset(out, 0, img->page_size);
        return true;
    }
    return ri_page(img, block, page_offset / img->page_size, out, errp);
}

size_t mc_ram_image_count(const mc_ram_image *img)
{
    return img->n_blocks;
}

void mc_ram_image_block_info(const mc_ram_image *img, size_t i,
                             mc_ram_image_block *out)
{
    const ri_block *b = &img->blocks[i];
    out->idstr = b->idstr;
    out->file = b->file;
    out->tracked = b->fd >= 0;
    out->used_length = b->used_length;
    out->pages_sent = mc_page_set_count(b->sent);
}

bool mc_ram_image_sent(const mc_ram_image *img, size_t i, uint64_t idx)
{
    return mc_page_set_has(img->blocks[i].sent, idx);
}

bool mc_ram_image_close(mc_ram_image *img, mc_error **errp)
{
    if (!ri_flush(img, errp)) {
        return false;
    }
    for (size_t i = 0; i < img->n_blocks; i++) {
        ri_block *b = &img->blocks[i];
        if (b->fd >= 0 && b->own_fd) {
            int fd = b->fd;
            b->fd = -1;
            if (close(fd) != 0) {
                mc_error_set_errno(errp, errno, "write error on the image of "
                                   "RAM block %s", b->idstr);
                return false;
            }
        }
    }
    return true;
}
