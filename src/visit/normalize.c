/*
 * The normalize visitor: XBZRLE and COMPRESS_PAGE records to PAGE records,
 * optionally every page once (see visit/normalize.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mapped_ram.h"
#include "core/page.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/extract.h"
#include "visit/normalize.h"
#include "visit/ram_image.h"

typedef struct nz_visitor {
    mc_visitor base;
    mc_normalize_opts o;
    mc_visitor *out;
    mc_ram_image *img;
    uint32_t page_size;
    uint8_t *page;
    /* the section being passed on: a RAM END section (squash output) */
    bool in_ram_end;
    bool squashed;       /* the pages went out */
    bool ram_pages_seen; /* a page record was read */
    bool after_squash_page; /* a page record after the pages went out */
    /* configuration/capabilities, held to drop (or add) mapped-ram */
    bool in_config;
    bool caps_held;      /* inside the held subsection */
    bool caps_seen;
    uint32_t caps_version;
    uint32_t n_caps;
    uint8_t caps[256][257]; /* counted names: length byte, name */
    bool cfg_mapped;     /* the input lists mapped-ram */
    /* mapped-ram input: the MEM_SIZE held until its blocks are known */
    bool mapped_pending;
    uint64_t mapped_total;
    mc_ram_block *mblocks;
    char (*mnames)[256];
    size_t n_mblocks;
    /* mapped-ram output: where each block's bitmap and pages go */
    struct nz_out_block {
        uint64_t bitmap_offset, pages_offset, used_length;
    } *oblocks;
    size_t n_oblocks;
    bool out_mem_size;   /* the MEM_SIZE record went out */
} nz_visitor;

static nz_visitor *nz_of(mc_visitor *v)
{
    return (nz_visitor *)v;
}

/* Every page sent, once, with its final content. */
static bool nz_emit_pages(nz_visitor *x, mc_error **errp);
static bool nz_emit_caps(nz_visitor *x, mc_error **errp);

static bool nz_emit_all(nz_visitor *x, mc_error **errp)
{
    if (!nz_emit_pages(x, errp)) {
        return false;
    }
    x->squashed = true;
    return true;
}

static bool nz_emit_pages(nz_visitor *x, mc_error **errp)
{
    size_t n = mc_ram_image_count(x->img);
    for (size_t i = 0; i < n; i++) {
        mc_ram_image_block b;
        mc_ram_image_block_info(x->img, i, &b);
        uint64_t pages = b.used_length / x->page_size;
        bool named = false;
        for (uint64_t idx = 0; idx < pages; idx++) {
            if (!mc_ram_image_sent(x->img, i, idx)) {
                continue;
            }
            uint64_t off = idx * x->page_size;
            if (!mc_ram_image_read(x->img, i, off, x->page, errp)) {
                return false;
            }
            mc_ram_record r = {
                .offset = off, .block = named ? NULL : b.idstr,
            };
            if (mc_page_is_uniform(x->page, x->page_size, &r.fill)) {
                r.kind = MC_RAM_ZERO;
            } else {
                r.kind = MC_RAM_PAGE;
                r.data = x->page;
                r.len = x->page_size;
            }
            if (!mc_visit_ram_record(x->out, &r, errp)) {
                return false;
            }
            named = true;
        }
    }
    return true;
}

/* mapped-ram input: the MEM_SIZE record with every block, then every page
 * the bitmaps mark (core/mapped_ram.h), before the record that follows
 * the blocks' regions (the RAM START section's EOS). */
static bool nz_mapped_flush(nz_visitor *x, mc_error **errp)
{
    x->mapped_pending = false;
    mc_ram_record m = {
        .kind = MC_RAM_MEM_SIZE, .offset = x->mapped_total,
        .blocks = x->mblocks, .n_blocks = x->n_mblocks,
    };
    if (!mc_visit_ram_record(x->out, &m, errp) || !nz_emit_pages(x, errp)) {
        return false;
    }
    if (x->o.squash) {
        x->squashed = true;
    }
    return true;
}

/* mapped-ram output: the MEM_SIZE record becomes a MEM_SIZE without
 * blocks and, per block, its entry with a MappedRamHeader and a hole for
 * its bitmap and pages (filled by nz_mapped_fill); page records stay in
 * the page store. */
static bool nz_mapped_out_blocks(nz_visitor *x, const mc_ram_record *rec,
                                 mc_error **errp)
{
    if (x->out_mem_size) {
        mc_error_data(errp, MC_NO_OFFSET, "ram", "--mapped-ram: a second "
                      "MEM_SIZE record (a mapped-ram file has one block list)");
        return false;
    }
    x->out_mem_size = true;
    mc_ram_record head = {.kind = MC_RAM_MEM_SIZE, .offset = rec->offset};
    if (!mc_visit_ram_record(x->out, &head, errp)) {
        return false;
    }
    x->oblocks = mc_calloc(rec->n_blocks ? rec->n_blocks : 1,
                           sizeof(*x->oblocks));
    for (size_t i = 0; i < rec->n_blocks; i++) {
        const mc_ram_block *b = &rec->blocks[i];
        if (b->used_length % x->page_size) {
            mc_error_data(errp, MC_NO_OFFSET, "ram", "--mapped-ram: block "
                          "'%s' is not a whole number of pages", b->idstr);
            return false;
        }
        /* as QEMU's mapped_ram_setup_ramblock: the bitmap right after the
         * header, the pages at the next 1 MiB boundary */
        uint64_t entry = 1 + strlen(b->idstr) + 8 + (b->has_page_size ? 8 : 0) +
                         (b->has_addr ? 8 : 0);
        uint64_t bsize = mc_mapped_ram_bitmap_size(b->used_length /
                                                   x->page_size);
        mc_mapped_ram_header h = {
            .version = MC_MAPPED_RAM_HDR_VERSION, .page_size = x->page_size,
            .bitmap_offset = mc_sink_offset(x->o.out_sink) + entry +
                             MC_MAPPED_RAM_HDR_SIZE,
        };
        uint64_t a = MC_MAPPED_RAM_ALIGN;
        h.pages_offset = (h.bitmap_offset + bsize + a - 1) / a * a;
        mc_ram_record mb = {
            .kind = MC_RAM_MAPPED_BLOCK, .blocks = b, .n_blocks = 1,
            .mapped_hdr = &h,
        };
        mc_ram_record hole = {
            .kind = MC_RAM_MAPPED_ZEROS, .offset = h.bitmap_offset,
            .len = (size_t)(h.pages_offset + b->used_length - h.bitmap_offset),
        };
        if (!mc_visit_ram_record(x->out, &mb, errp) ||
            !mc_visit_ram_record(x->out, &hole, errp)) {
            return false;
        }
        x->oblocks[i].bitmap_offset = h.bitmap_offset;
        x->oblocks[i].pages_offset = h.pages_offset;
        x->oblocks[i].used_length = b->used_length;
        x->n_oblocks = i + 1;
    }
    return true;
}

static bool nz_mapped_out_record(nz_visitor *x, const mc_ram_record *rec,
                                 uint64_t at, mc_error **errp)
{
    switch (rec->kind) {
    case MC_RAM_MEM_SIZE:
        if (rec->n_blocks == 0 && x->cfg_mapped) {
            /* mapped-ram input: its blocks follow */
            x->mapped_pending = true;
            x->mapped_total = rec->offset;
            return true;
        }
        return nz_mapped_out_blocks(x, rec, errp);
    case MC_RAM_MAPPED_BLOCK:
        if (!x->mapped_pending) {
            mc_error_data(errp, at, "ram", "mapped-ram block without its "
                          "MEM_SIZE record");
            return false;
        }
        x->n_mblocks++;
        x->mblocks = mc_realloc(x->mblocks, x->n_mblocks * sizeof(*x->mblocks));
        x->mnames = mc_realloc(x->mnames, x->n_mblocks * sizeof(*x->mnames));
        x->mblocks[x->n_mblocks - 1] = rec->blocks[0];
        snprintf(x->mnames[x->n_mblocks - 1], sizeof(x->mnames[0]), "%s",
                 rec->blocks[0].idstr);
        for (size_t i = 0; i < x->n_mblocks; i++) {
            x->mblocks[i].idstr = x->mnames[i];
        }
        return true;
    case MC_RAM_MAPPED_BYTES:
    case MC_RAM_MAPPED_ZEROS:
    case MC_RAM_ZERO:
    case MC_RAM_PAGE:
    case MC_RAM_XBZRLE:
    case MC_RAM_COMPRESS:
        return true;    /* in the page store */
    default:
        if (x->mapped_pending) {
            x->mapped_pending = false;
            mc_ram_record m = {
                .kind = MC_RAM_MEM_SIZE, .offset = x->mapped_total,
                .blocks = x->mblocks, .n_blocks = x->n_mblocks,
            };
            if (!nz_mapped_out_blocks(x, &m, errp)) {
                return false;
            }
        }
        return mc_visit_ram_record(x->out, rec, errp);
    }
}

/* The pages (those that are not all zero, as QEMU leaves zero pages out)
 * and the bitmaps, into the holes the stream left for them. */
static bool nz_mapped_fill(nz_visitor *x, mc_error **errp)
{
    size_t n = mc_ram_image_count(x->img);
    if (n != x->n_oblocks) {
        mc_error_data(errp, MC_NO_OFFSET, "ram", "--mapped-ram: %zu RAM "
                      "blocks, %zu in the MEM_SIZE record", n, x->n_oblocks);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        mc_ram_image_block b;
        mc_ram_image_block_info(x->img, i, &b);
        const struct nz_out_block *ob = &x->oblocks[i];
        uint64_t pages = b.used_length / x->page_size;
        uint64_t bsize = mc_mapped_ram_bitmap_size(pages);
        uint8_t *bm = mc_calloc(1, bsize ? bsize : 1);
        bool ok = true;
        for (uint64_t idx = 0; ok && idx < pages; idx++) {
            uint8_t fill;
            if (!mc_ram_image_sent(x->img, i, idx)) {
                continue;
            }
            ok = mc_ram_image_read(x->img, i, idx * x->page_size, x->page,
                                   errp);
            if (!ok || (mc_page_is_uniform(x->page, x->page_size, &fill) &&
                        fill == 0)) {
                continue;
            }
            bm[idx / 8] |= (uint8_t)(1u << (idx % 8));
            ok = mc_fd_pwrite(x->o.out_fd, x->page, x->page_size,
                              ob->pages_offset + idx * x->page_size,
                              "the output", errp);
        }
        ok = ok && mc_fd_pwrite(x->o.out_fd, bm, (size_t)bsize,
                                ob->bitmap_offset, "the output", errp);
        if (!ok) {
            mc_error_set_side(errp, MC_SIDE_OUTPUT);
        }
        free(bm);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool nz_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    uint64_t at = mc_extract_record_offset(x->o.src, rec);
    const uint8_t *page = NULL;
    if (!mc_ram_image_apply(x->img, rec, at, &page, errp)) {
        return false;
    }
    if (x->o.mapped_ram) {
        return nz_mapped_out_record(x, rec, at, errp);
    }
    if (rec->kind == MC_RAM_MEM_SIZE && rec->n_blocks == 0 && x->cfg_mapped) {
        x->mapped_pending = true;
        x->mapped_total = rec->offset;
        return true;
    }
    if (rec->kind == MC_RAM_MAPPED_BLOCK) {
        if (!x->mapped_pending) {
            mc_error_data(errp, at, "ram", "mapped-ram block without its "
                          "MEM_SIZE record");
            return false;
        }
        if (x->n_mblocks >= MC_MAX_RAM_BLOCKS) {
            mc_error_data(errp, at, "ram", "more than %d RAM blocks",
                          MC_MAX_RAM_BLOCKS);
            return false;
        }
        size_t n = x->n_mblocks++;
        x->mblocks = mc_realloc(x->mblocks, x->n_mblocks * sizeof(*x->mblocks));
        x->mnames = mc_realloc(x->mnames, x->n_mblocks * sizeof(*x->mnames));
        x->mblocks[n] = rec->blocks[0];
        snprintf(x->mnames[n], sizeof(x->mnames[n]), "%s",
                 rec->blocks[0].idstr);
        for (size_t i = 0; i <= n; i++) {
            x->mblocks[i].idstr = x->mnames[i];
        }
        return true;
    }
    if (rec->kind == MC_RAM_MAPPED_BYTES || rec->kind == MC_RAM_MAPPED_ZEROS) {
        return true;
    }
    if (x->mapped_pending && !nz_mapped_flush(x, errp)) {
        return false;
    }
    bool is_page = rec->kind == MC_RAM_ZERO || rec->kind == MC_RAM_PAGE ||
                   rec->kind == MC_RAM_XBZRLE || rec->kind == MC_RAM_COMPRESS;
    if (x->o.squash) {
        if (is_page) {
            if (x->squashed) {
                mc_error_data(errp, at, "ram", "--squash: a page record after "
                              "the RAM END section");
                return false;
            }
            x->ram_pages_seen = true;
            return true;
        }
        if (rec->kind == MC_RAM_EOS && x->in_ram_end && !x->squashed &&
            !nz_emit_all(x, errp)) {
            return false;
        }
        return mc_visit_ram_record(x->out, rec, errp);
    }
    if (rec->kind == MC_RAM_XBZRLE || rec->kind == MC_RAM_COMPRESS) {
        mc_ram_record r = {
            .kind = MC_RAM_PAGE, .offset = rec->offset, .block = rec->block,
            .data = page, .len = x->page_size,
        };
        return mc_visit_ram_record(x->out, &r, errp);
    }
    return mc_visit_ram_record(x->out, rec, errp);
}

static bool nz_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (info->page_size == 0 || info->page_size > (1u << 24)) {
        mc_error_data(errp, MC_NO_OFFSET, NULL, "unusable page size %u",
                      info->page_size);
        return false;
    }
    x->page_size = info->page_size;
    free(x->page);
    x->page = mc_malloc(x->page_size);
    mc_ram_image_opts io = {
        .dirfd = -1, .tmpdir = x->o.tmpdir, .only_fd = -1,
        .src_fd = x->o.src && x->o.src_fd > 0 ? x->o.src_fd : -1,
        .src = x->o.src,
    };
    mc_ram_image_free(x->img);
    x->img = mc_ram_image_new(info->page_size, &io);
    return mc_visit_start_stream(x->out, info, errp);
}

static bool nz_end_stream(mc_visitor *v, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (x->o.squash && x->ram_pages_seen && !x->squashed) {
        mc_error_data(errp, MC_NO_OFFSET, "ram",
                      "--squash: the stream's RAM does not end with an END "
                      "section (postcopy?), so its pages have no place");
        return false;
    }
    return mc_visit_end_stream(x->out, errp);
}

static bool nz_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    x->in_config = info->kind == MC_SECTION_CONFIG;
    x->in_ram_end = info->kind == MC_SECTION_RAM &&
                    info->type == MC_VM_SECTION_END;
    return mc_visit_start_section(x->out, info, errp);
}

static bool nz_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    x->in_ram_end = false;
    if (x->in_config && x->o.mapped_ram && !x->caps_seen) {
        /* no capability list yet: one with mapped-ram alone */
        x->caps_seen = true;
        x->caps_version = 1;
        x->n_caps = 0;
        if (!nz_emit_caps(x, errp)) {
            return false;
        }
    }
    x->in_config = false;
    return mc_visit_end_section(x->out, footer, errp);
}

static bool nz_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (x->caps_held) {
        return true;    /* caps_count: written again from the list */
    }
    return mc_visit_int(x->out, f, wt, raw, errp);
}

static bool nz_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (x->caps_held) {
        static const char mr[] = "\012mapped-ram";
        if (len == sizeof(mr) - 1 && memcmp(data, mr, len) == 0) {
            x->cfg_mapped = true;   /* dropped */
            return true;
        }
        if (len == 0 || len > 256 || data[0] != len - 1 || x->n_caps >= 255) {
            mc_error_data(errp, MC_NO_OFFSET, "configuration/capabilities",
                          "unexpected capability list");
            return false;
        }
        memcpy(x->caps[x->n_caps], data, len);
        x->n_caps++;
        return true;
    }
    return mc_visit_bytes(x->out, f, data, len, errp);
}

static bool nz_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    return mc_visit_packed(nz_of(v)->out, f, wt, count, data, errp);
}

static bool nz_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    return mc_visit_start_struct(nz_of(v)->out, f, errp);
}

static bool nz_end_struct(mc_visitor *v, mc_error **errp)
{
    return mc_visit_end_struct(nz_of(v)->out, errp);
}

static bool nz_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (x->caps_held) {
        return true;
    }
    return mc_visit_start_array(x->out, f, count, errp);
}

static bool nz_end_array(mc_visitor *v, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (x->caps_held) {
        return true;
    }
    return mc_visit_end_array(x->out, errp);
}

static bool nz_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (x->in_config && strcmp(name, "configuration/capabilities") == 0) {
        x->caps_held = true;
        x->caps_seen = true;
        x->caps_version = version_id;
        x->n_caps = 0;
        return true;
    }
    return mc_visit_start_subsection(x->out, name, version_id, errp);
}

/* The capability list without mapped-ram; none at all when it was the only
 * one (QEMU sends the subsection only when it has capabilities). */
static bool nz_emit_caps(nz_visitor *x, mc_error **errp)
{
    if (x->o.mapped_ram) {
        static const char mr[] = "\012mapped-ram";
        memcpy(x->caps[x->n_caps++], mr, sizeof(mr) - 1);
    }
    if (x->n_caps == 0) {
        return true;
    }
    mc_field fc = {"caps_count", "uint32"};
    mc_field fa = {"capabilities", "capability"};
    mc_field fe = {NULL, "capability"};
    if (!mc_visit_start_subsection(x->out, "configuration/capabilities",
                                   x->caps_version, errp) ||
        !mc_visit_int(x->out, &fc, MC_WT_U32, x->n_caps, errp) ||
        !mc_visit_start_array(x->out, &fa, x->n_caps, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < x->n_caps; i++) {
        if (!mc_visit_bytes(x->out, &fe, x->caps[i], 1u + x->caps[i][0],
                            errp)) {
            return false;
        }
    }
    return mc_visit_end_array(x->out, errp) &&
           mc_visit_end_subsection(x->out, errp);
}

static bool nz_end_subsection(mc_visitor *v, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (x->caps_held) {
        x->caps_held = false;
        return nz_emit_caps(x, errp);
    }
    return mc_visit_end_subsection(x->out, errp);
}

static bool nz_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    return mc_visit_command(nz_of(v)->out, cmd, data, len, errp);
}

static bool nz_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    if (x->o.squash || x->o.mapped_ram) {
        /* The package's length would change with the records in it. */
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s: postcopy packages are not supported",
                      x->o.squash ? "--squash" : "--mapped-ram");
        return false;
    }
    return mc_visit_start_packaged(x->out, len, errp);
}

static bool nz_end_packaged(mc_visitor *v, mc_error **errp)
{
    return mc_visit_end_packaged(nz_of(v)->out, errp);
}

static bool nz_eof(mc_visitor *v, mc_error **errp)
{
    return mc_visit_eof(nz_of(v)->out, errp);
}

static bool nz_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    return mc_visit_vmdesc(nz_of(v)->out, json, len, errp);
}

static bool nz_complete(mc_visitor *v, mc_error **errp)
{
    nz_visitor *x = nz_of(v);
    return mc_visitor_complete(x->out, errp) &&
           (!x->o.mapped_ram || nz_mapped_fill(x, errp));
}

static void nz_free(mc_visitor *v)
{
    nz_visitor *x = nz_of(v);
    mc_ram_image_free(x->img);
    mc_visitor_free(x->out);
    free(x->page);
    free(x->mblocks);
    free(x->mnames);
    free(x->oblocks);
    free(x);
}

static const mc_visitor_ops nz_ops = {
    .start_stream = nz_start_stream,
    .end_stream = nz_end_stream,
    .start_section = nz_start_section,
    .end_section = nz_end_section,
    .visit_int = nz_visit_int,
    .visit_bytes = nz_visit_bytes,
    .visit_packed = nz_visit_packed,
    .start_struct = nz_start_struct,
    .end_struct = nz_end_struct,
    .start_array = nz_start_array,
    .end_array = nz_end_array,
    .start_subsection = nz_start_subsection,
    .end_subsection = nz_end_subsection,
    .ram_record = nz_ram_record,
    .command = nz_command,
    .start_packaged = nz_start_packaged,
    .end_packaged = nz_end_packaged,
    .eof = nz_eof,
    .vmdesc = nz_vmdesc,
    .complete = nz_complete,
    .free = nz_free,
};

mc_visitor *mc_normalize_visitor_new(const mc_normalize_opts *opts,
                                     mc_visitor *out)
{
    nz_visitor *x = mc_calloc(1, sizeof(*x));
    x->base.ops = &nz_ops;
    x->o = *opts;
    x->out = out;
    return &x->base;
}
