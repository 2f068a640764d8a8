#include "container/qcow2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "format/registry.h"

#define QCOW2_MAGIC "QFI\xfb"
#define L1E_OFFSET_MASK 0x00fffffffffffe00ull
#define L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW_OFLAG_COMPRESSED (1ull << 62)
#define QCOW_OFLAG_ZERO 1ull
#define INCOMPAT_DATA_FILE (1ull << 2)
#define INCOMPAT_EXTL2 (1ull << 4)

bool mc_qcow2_detect(const uint8_t *p, size_t n)
{
    return n >= 4 && memcmp(p, QCOW2_MAGIC, 4) == 0;
}

static bool rd(int fd, uint64_t off, void *buf, size_t n, const char *what,
               mc_error **errp)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, n - done,
                          (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            mc_error_set_errno(errp, errno, "qcow2: cannot read %s at "
                               "offset %llu", what,
                               (unsigned long long)(off + done));
            return false;
        }
        if (r == 0) {
            mc_error_data(errp, off + done, what,
                          "qcow2: the image ends inside the %s", what);
            return false;
        }
        done += (size_t)r;
    }
    return true;
}

bool mc_qcow2_open(int fd, mc_qcow2 *q, mc_error **errp)
{
    memset(q, 0, sizeof(*q));
    q->fd = fd;
    uint8_t h[112];
    memset(h, 0, sizeof(h));
    if (!rd(fd, 0, h, 72, "qcow2 header", errp)) {
        return false;
    }
    if (!mc_qcow2_detect(h, 4)) {
        mc_error_data(errp, 0, "qcow2 header/magic", "not a qcow2 image");
        return false;
    }
    q->version = mc_be32(h + 4);
    if (q->version != 2 && q->version != 3) {
        mc_error_data(errp, 4, "qcow2 header/version",
                      "unsupported qcow2 version %u", q->version);
        return false;
    }
    q->cluster_bits = mc_be32(h + 20);
    q->size = mc_be64(h + 24);
    uint32_t crypt = mc_be32(h + 32);
    q->nb_snapshots = mc_be32(h + 60);
    uint64_t snap_off = mc_be64(h + 64);
    if (q->cluster_bits < 9 || q->cluster_bits > 21) {
        mc_error_data(errp, 20, "qcow2 header/cluster_bits",
                      "invalid cluster_bits %u (9 to 21 allowed)",
                      q->cluster_bits);
        return false;
    }
    if (crypt != 0) {
        mc_error_data(errp, 32, "qcow2 header/crypt_method",
                      "encrypted qcow2 images are not supported");
        return false;
    }
    if (q->version == 3) {
        if (!rd(fd, 72, h + 72, 32, "qcow2 header", errp)) {
            return false;
        }
        uint64_t incompat = mc_be64(h + 72);
        uint32_t header_length = mc_be32(h + 100);
        q->extended_l2 = (incompat & INCOMPAT_EXTL2) != 0;
        if (incompat & INCOMPAT_DATA_FILE) {
            mc_error_data(errp, 72, "qcow2 header/incompatible_features",
                          "qcow2 images with an external data file are not "
                          "supported");
            return false;
        }
        if (header_length > 104) {
            if (!rd(fd, 104, h + 104, 1, "qcow2 header", errp)) {
                return false;
            }
            q->compression_type = h[104];
        }
        if (q->extended_l2 && q->cluster_bits < 14) {
            mc_error_data(errp, 20, "qcow2 header/cluster_bits",
                          "extended L2 entries need clusters of 16 KiB or "
                          "more (cluster_bits %u)", q->cluster_bits);
            return false;
        }
    }
    if (q->nb_snapshots > MC_QCOW2_MAX_SNAPSHOTS) {
        mc_error_data(errp, 60, "qcow2 header/nb_snapshots",
                      "%u snapshots (at most %u allowed)", q->nb_snapshots,
                      MC_QCOW2_MAX_SNAPSHOTS);
        return false;
    }
    if (q->nb_snapshots && (snap_off & 7)) {
        mc_error_data(errp, 64, "qcow2 header/snapshots_offset",
                      "snapshot table offset %llu is not aligned",
                      (unsigned long long)snap_off);
        return false;
    }
    q->snapshots = mc_calloc(q->nb_snapshots ? q->nb_snapshots : 1,
                             sizeof(*q->snapshots));
    uint64_t off = snap_off;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        mc_qcow2_snapshot *s = &q->snapshots[i];
        uint8_t e[40];
        s->entry_offset = off;
        if (!rd(fd, off, e, 40, "qcow2 snapshot table", errp)) {
            goto fail;
        }
        s->l1_table_offset = mc_be64(e);
        s->l1_size = mc_be32(e + 8);
        uint16_t id_len = mc_be16(e + 12), name_len = mc_be16(e + 14);
        s->date_sec = mc_be32(e + 16);
        s->date_nsec = mc_be32(e + 20);
        s->vm_clock_nsec = mc_be64(e + 24);
        s->vm_state_size = mc_be32(e + 32);
        uint32_t extra_len = mc_be32(e + 36);
        if (extra_len > 1024) {  /* QCOW_MAX_SNAPSHOT_EXTRA_DATA */
            mc_error_data(errp, off + 36, "qcow2 snapshot table/extra_data_size",
                          "snapshot %u: extra data of %u bytes (at most 1024)",
                          i, extra_len);
            goto fail;
        }
        uint8_t extra[1024];
        if (!rd(fd, off + 40, extra, extra_len, "qcow2 snapshot table", errp)) {
            goto fail;
        }
        s->disk_size = q->size;
        if (extra_len >= 8) {
            s->vm_state_size = mc_be64(extra);
        }
        if (extra_len >= 16) {
            s->disk_size = mc_be64(extra + 8);
        }
        s->id = mc_calloc(1, (size_t)id_len + 1);
        s->name = mc_calloc(1, (size_t)name_len + 1);
        if (!rd(fd, off + 40 + extra_len, s->id, id_len,
                "qcow2 snapshot table", errp) ||
            !rd(fd, off + 40 + extra_len + id_len, s->name, name_len,
                "qcow2 snapshot table", errp)) {
            goto fail;
        }
        off += 40 + (uint64_t)extra_len + id_len + name_len;
        off = (off + 7) & ~7ull;
        if ((s->l1_table_offset & 511) ||
            s->l1_size > (1u << 25)) {  /* QCOW_MAX_L1_SIZE / 8 */
            mc_error_data(errp, s->entry_offset,
                          "qcow2 snapshot table/l1_table_offset",
                          "snapshot '%s': invalid L1 table (offset %llu, "
                          "%u entries)", s->id,
                          (unsigned long long)s->l1_table_offset, s->l1_size);
            goto fail;
        }
    }
    return true;
fail:
    mc_qcow2_close(q);
    return false;
}

void mc_qcow2_close(mc_qcow2 *q)
{
    if (q->snapshots) {
        for (uint32_t i = 0; i < q->nb_snapshots; i++) {
            free(q->snapshots[i].id);
            free(q->snapshots[i].name);
        }
        free(q->snapshots);
    }
    q->snapshots = NULL;
    q->nb_snapshots = 0;
}

bool mc_qcow2_find(const mc_qcow2 *q, const char *sel, size_t *index,
                   mc_error **errp)
{
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        if (strcmp(q->snapshots[i].id, sel) == 0) {
            *index = i;
            return true;
        }
    }
    size_t found = SIZE_MAX;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        if (strcmp(q->snapshots[i].name, sel) == 0) {
            if (found != SIZE_MAX) {
                mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                             "several snapshots are named '%s': give an ID",
                             sel);
                return false;
            }
            found = i;
        }
    }
    if (found == SIZE_MAX) {
        mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "no snapshot with ID or name '%s' (%u in the image)",
                     sel, q->nb_snapshots);
        return false;
    }
    *index = found;
    return true;
}

/* ---- vmstate reader ---- */

struct mc_qcow2_vmstate {
    const mc_qcow2 *q;
    const mc_qcow2_snapshot *s;
    uint64_t start;      /* virtual offset of the vmstate */
    uint64_t pos;        /* bytes of vmstate delivered */
    uint32_t l2_bits;
    /* The L2 table last used. */
    uint64_t l2_offset;
    uint8_t *l2;
};

static long vmstate_read_impl(void *opaque, uint8_t *buf, size_t n,
                         mc_error **errp)
{
    mc_qcow2_vmstate *v = opaque;
    const mc_qcow2 *q = v->q;
    const mc_qcow2_snapshot *s = v->s;
    if (v->pos >= s->vm_state_size) {
        return 0;
    }
    uint64_t cs = 1ull << q->cluster_bits;
    uint64_t va = v->start + v->pos;
    uint64_t in_cluster = va & (cs - 1);
    uint64_t want = cs - in_cluster;
    if (want > s->vm_state_size - v->pos) {
        want = s->vm_state_size - v->pos;
    }
    if (want > n) {
        want = n;
    }
    uint64_t l1_index = va >> (q->cluster_bits + v->l2_bits);
    uint64_t l2_index = (va >> q->cluster_bits) & ((1ull << v->l2_bits) - 1);
    uint64_t host = 0;   /* 0: reads as zeros */
    if (l1_index < s->l1_size) {
        uint8_t e[8];
        if (!rd(q->fd, s->l1_table_offset + 8 * l1_index, e, 8,
                "qcow2 snapshot L1 table", errp)) {
            return -1;
        }
        uint64_t l2_off = mc_be64(e) & L1E_OFFSET_MASK;
        if (l2_off) {
            size_t esz = q->extended_l2 ? 16 : 8;
            if (v->l2_offset != l2_off) {
                if (!rd(q->fd, l2_off, v->l2, (size_t)cs, "qcow2 L2 table",
                        errp)) {
                    v->l2_offset = 0;
                    return -1;
                }
                v->l2_offset = l2_off;
            }
            uint64_t l2e = mc_be64(v->l2 + esz * l2_index);
            if (l2e & QCOW_OFLAG_COMPRESSED) {
                mc_error_data(errp, l2_off + esz * l2_index, "qcow2 L2 table",
                              "the vmstate of snapshot '%s' is in a "
                              "compressed cluster (not supported)", s->id);
                return -1;
            }
            if (q->extended_l2) {
                uint64_t bitmap = mc_be64(v->l2 + esz * l2_index + 8);
                uint64_t scs = cs / 32;
                unsigned sc = (unsigned)(in_cluster / scs);
                if (want > scs - in_cluster % scs) {
                    want = scs - in_cluster % scs;
                }
                if ((bitmap >> sc) & 1) {
                    host = (l2e & L2E_OFFSET_MASK) + in_cluster;
                    if (host == in_cluster) {
                        mc_error_data(errp, l2_off + esz * l2_index,
                                      "qcow2 L2 table",
                                      "allocated subcluster without an "
                                      "offset");
                        return -1;
                    }
                }
            } else if (!(l2e & QCOW_OFLAG_ZERO) && (l2e & L2E_OFFSET_MASK)) {
                host = (l2e & L2E_OFFSET_MASK) + in_cluster;
            }
        }
    }
    if (host) {
        if (!rd(q->fd, host, buf, (size_t)want, "qcow2 data cluster", errp)) {
            return -1;
        }
    } else {
        memset(buf, 0, (size_t)want);
    }
    v->pos += want;
    return (long)want;
}

static bool vmstate_read(mc_src *s, uint8_t *buf, size_t n, size_t *got,
                         mc_error **errp)
{
    long r = vmstate_read_impl(s->read_opaque, buf, n, errp);
    if (r < 0) {
        return false;
    }
    *got = (size_t)r;
    return true;
}

bool mc_qcow2_vmstate_open(const mc_qcow2 *q, size_t index, mc_src *out,
                           mc_qcow2_vmstate **vp, mc_error **errp)
{
    const mc_qcow2_snapshot *s = &q->snapshots[index];
    if (s->vm_state_size == 0) {
        mc_error_data(errp, s->entry_offset, "qcow2 snapshot table",
                      "snapshot '%s' (%s) has no vmstate (a disk-only "
                      "snapshot)", s->id, s->name);
        return false;
    }
    mc_qcow2_vmstate *v = mc_calloc(1, sizeof(*v));
    v->q = q;
    v->s = s;
    v->l2_bits = q->cluster_bits - (q->extended_l2 ? 4 : 3);
    unsigned shift = q->cluster_bits + v->l2_bits;
    uint64_t l1_entries = (s->disk_size + (1ull << shift) - 1) >> shift;
    v->start = l1_entries << shift;
    v->l2 = mc_malloc((size_t)1 << q->cluster_bits);
    mc_src_init_read(out, NULL, vmstate_read, v);
    *vp = v;
    return true;
}

void mc_qcow2_vmstate_free(mc_qcow2_vmstate *v)
{
    if (v) {
        free(v->l2);
        free(v);
    }
}

/* ---- a qcow2 snapshot's vmstate as a row of format/registry.c ---- */

typedef struct qcow2_layer {
    mc_qcow2 q;
    mc_qcow2_vmstate *vmstate;
} qcow2_layer;

static int qcow2_bid(const mc_filter_ops *self, const uint8_t *p, size_t n)
{
    (void)self;
    return mc_qcow2_detect(p, n) ? 100 : 0;
}

static void qcow2_free(void *state)
{
    qcow2_layer *l = state;
    if (l) {
        mc_qcow2_vmstate_free(l->vmstate);
        mc_qcow2_close(&l->q);
        free(l);
    }
}

/* The image is read from the file (pread), not through lower; the
 * snapshot is the one --snapshot names. */
static bool qcow2_open(const mc_filter_ops *self, mc_filter_ctx *cx,
                       mc_src *lower, mc_src *top, void **state, char *label,
                       size_t cap, mc_error **errp)
{
    (void)self;
    (void)lower;
    if (cx->size == 0) {
        mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "a qcow2 image must be read from a file, not a pipe");
        return false;
    }
    qcow2_layer *l = mc_calloc(1, sizeof(*l));
    if (!mc_qcow2_open(cx->fd, &l->q, errp)) {
        free(l);
        return false;
    }
    size_t idx;
    if (!cx->snapshot) {
        mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "a qcow2 image with %u snapshots: name one with "
                     "--snapshot NAME|ID (migconv snapshots lists them)",
                     l->q.nb_snapshots);
        goto fail;
    }
    if (!mc_qcow2_find(&l->q, cx->snapshot, &idx, errp) ||
        !mc_qcow2_vmstate_open(&l->q, idx, top, &l->vmstate, errp)) {
        goto fail;
    }
    snprintf(label, cap, "%s: vmstate of snapshot %s (%s)", cx->fname,
             l->q.snapshots[idx].id, l->q.snapshots[idx].name);
    *state = l;
    return true;
fail:
    qcow2_free(l);
    return false;
}

const mc_filter_ops mc_filter_qcow2 = {
    .name = "qcow2", .first = true, .layer = true,
    .bid = qcow2_bid, .open = qcow2_open, .free = qcow2_free,
};
