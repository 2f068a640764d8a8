#include "container/lzop.h"

#include <lzo/lzo1x.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "container/codec.h"
#include "container/libvirt_save.h"
#include "core/util.h"

#define F_ADLER32_D 0x1u
#define F_ADLER32_C 0x2u
#define F_H_EXTRA_FIELD 0x40u
#define F_CRC32_D 0x100u
#define F_CRC32_C 0x200u
#define F_MULTIPART 0x400u
#define F_H_FILTER 0x800u
#define F_H_CRC32 0x1000u
#define F_OS_UNIX 0x03000000u
#define M_LZO1X_1 1
#define M_LZO1X_1_15 2
#define M_LZO1X_999 3
#define BLOCK (256u * 1024u)
#define MAX_BLOCK (64u << 20)   /* lzop's MAX_BLOCK_SIZE */

struct mc_lzop_reader {
    mc_src *lower;
    uint32_t flags;
    bool header_done, ended;
    uint8_t *block;      /* decompressed block */
    size_t len, pos;
};

static bool fail(mc_error **errp, const mc_src *s, const char *what)
{
    mc_error_data(errp, MC_NO_OFFSET, NULL, "lzop: %s at file offset %llu",
                  what, (unsigned long long)mc_src_offset(s));
    return false;
}

/* Take n header bytes, adding them to the running header checksums. */
static bool hdr_take(mc_src *s, size_t n, const uint8_t **p, uLong *ad,
                     uLong *crc, mc_error **errp)
{
    mc_error *err = NULL;
    if (!mc_src_take(s, n, p, &err)) {
        mc_error_free(err);
        return fail(errp, s, "header cut short");
    }
    *ad = adler32(*ad, *p, (uInt)n);
    *crc = crc32(*crc, *p, (uInt)n);
    return true;
}

static bool read_header(mc_lzop_reader *r, mc_error **errp)
{
    mc_src *s = r->lower;
    const uint8_t *p;
    mc_error *err = NULL;
    if (!mc_src_take(s, 9, &p, &err) || memcmp(p, MC_LZOP_MAGIC, 9) != 0) {
        mc_error_free(err);
        return fail(errp, s, "not an lzop file");
    }
    uLong ad = adler32(0, NULL, 0), crc = crc32(0, NULL, 0);
    if (!hdr_take(s, 4, &p, &ad, &crc, errp)) {
        return false;
    }
    uint16_t version = mc_be16(p);
    if (version < 0x0900) {
        return fail(errp, s, "unsupported lzop version");
    }
    if (version >= 0x0940 && !hdr_take(s, 2, &p, &ad, &crc, errp)) {
        return false;
    }
    if (!hdr_take(s, 1, &p, &ad, &crc, errp)) {
        return false;
    }
    uint8_t method = p[0];
    if (method != M_LZO1X_1 && method != M_LZO1X_1_15 &&
        method != M_LZO1X_999) {
        return fail(errp, s, "unsupported compression method");
    }
    if (version >= 0x0940 && !hdr_take(s, 1, &p, &ad, &crc, errp)) {
        return false;
    }
    if (!hdr_take(s, 4, &p, &ad, &crc, errp)) {
        return false;
    }
    r->flags = mc_be32(p);
    if (r->flags & (F_H_FILTER | F_MULTIPART)) {
        return fail(errp, s, "filters and multipart files are not supported");
    }
    /* mode, mtime low, mtime high */
    if (!hdr_take(s, version >= 0x0940 ? 12 : 8, &p, &ad, &crc, errp) ||
        !hdr_take(s, 1, &p, &ad, &crc, errp)) {
        return false;
    }
    uint8_t name_len = p[0];
    if (name_len && !hdr_take(s, name_len, &p, &ad, &crc, errp)) {
        return false;
    }
    uint32_t want = (uint32_t)((r->flags & F_H_CRC32) ? crc : ad);
    if (!mc_src_take(s, 4, &p, &err)) {
        mc_error_free(err);
        return fail(errp, s, "header cut short");
    }
    if (mc_be32(p) != want) {
        return fail(errp, s, "header checksum mismatch");
    }
    if (r->flags & F_H_EXTRA_FIELD) {
        uint32_t n;
        if (!mc_src_be32(s, &n, &err) || n > MAX_BLOCK ||
            !mc_src_skip(s, (size_t)n + 4, &err)) {
            mc_error_free(err);
            return fail(errp, s, "bad extra field");
        }
    }
    r->header_done = true;
    return true;
}

static bool read_block(mc_lzop_reader *r, mc_error **errp)
{
    mc_src *s = r->lower;
    mc_error *err = NULL;
    uint32_t dst_len, src_len, d_ad = 0, d_crc = 0, c_ad = 0, c_crc = 0;
    if (!mc_src_be32(s, &dst_len, &err)) {
        mc_error_free(err);
        return fail(errp, s, "data cut short (no end marker)");
    }
    if (dst_len == 0) {
        r->ended = true;
        return true;
    }
    if (dst_len > MAX_BLOCK || !mc_src_be32(s, &src_len, &err) ||
        src_len > dst_len ||
        ((r->flags & F_ADLER32_D) && !mc_src_be32(s, &d_ad, &err)) ||
        ((r->flags & F_CRC32_D) && !mc_src_be32(s, &d_crc, &err))) {
        bool cut = err != NULL;
        mc_error_free(err);
        return fail(errp, s, cut ? "data cut short" : "bad block length");
    }
    if (src_len < dst_len &&
        (((r->flags & F_ADLER32_C) && !mc_src_be32(s, &c_ad, &err)) ||
         ((r->flags & F_CRC32_C) && !mc_src_be32(s, &c_crc, &err)))) {
        mc_error_free(err);
        return fail(errp, s, "data cut short");
    }
    const uint8_t *p;
    if (!mc_src_take(s, src_len, &p, &err)) {
        mc_error_free(err);
        return fail(errp, s, "data cut short");
    }
    if (src_len < dst_len) {
        if (((r->flags & F_ADLER32_C) &&
             adler32(adler32(0, NULL, 0), p, src_len) != c_ad) ||
            ((r->flags & F_CRC32_C) && crc32(crc32(0, NULL, 0), p, src_len) != c_crc)) {
            return fail(errp, s, "checksum mismatch in compressed data");
        }
    }
    r->block = mc_realloc(r->block, dst_len);
    if (src_len == dst_len) {
        memcpy(r->block, p, dst_len);
    } else {
        lzo_uint out = dst_len;
        if (lzo1x_decompress_safe(p, src_len, r->block, &out, NULL) != LZO_E_OK ||
            out != dst_len) {
            return fail(errp, s, "damaged compressed data");
        }
    }
    if (((r->flags & F_ADLER32_D) &&
         adler32(adler32(0, NULL, 0), r->block, dst_len) != d_ad) ||
        ((r->flags & F_CRC32_D) &&
         crc32(crc32(0, NULL, 0), r->block, dst_len) != d_crc)) {
        return fail(errp, s, "checksum mismatch in the data");
    }
    r->len = dst_len;
    r->pos = 0;
    return true;
}

static long lzop_read_impl(void *opaque, uint8_t *buf, size_t n, mc_error **errp)
{
    mc_lzop_reader *r = opaque;
    if (!r->header_done && !read_header(r, errp)) {
        return -1;
    }
    while (r->pos == r->len) {
        if (r->ended) {
            bool at_end;
            if (!mc_src_at_end(r->lower, &at_end, errp)) {
                return -1;
            }
            if (at_end) {
                return 0;
            }
            /* Another lzop file concatenated, as lzop -d accepts. */
            const uint8_t *p;
            mc_error *err = NULL;
            if (!mc_src_peek(r->lower, 9, &p, &err) ||
                memcmp(p, MC_LZOP_MAGIC, 9) != 0) {
                mc_error_free(err);
                fail(errp, r->lower, "trailing bytes after the lzop data");
                return -1;
            }
            r->ended = false;
            if (!read_header(r, errp)) {
                return -1;
            }
        }
        if (!read_block(r, errp)) {
            return -1;
        }
        if (r->ended) {
            continue;
        }
    }
    size_t k = r->len - r->pos < n ? r->len - r->pos : n;
    memcpy(buf, r->block + r->pos, k);
    r->pos += k;
    return (long)k;
}

static bool lzop_read(mc_src *s, uint8_t *buf, size_t n, size_t *got,
                      mc_error **errp)
{
    long r = lzop_read_impl(s->read_opaque, buf, n, errp);
    if (r < 0) {
        return false;
    }
    *got = (size_t)r;
    return true;
}

bool mc_lzop_reader_open(mc_src *lower, mc_src *out, mc_lzop_reader **rp,
                         mc_error **errp)
{
    if (lzo_init() != LZO_E_OK) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "cannot start liblzo2");
        return false;
    }
    mc_lzop_reader *r = mc_calloc(1, sizeof(*r));
    r->lower = lower;
    mc_src_init_read(out, NULL, lzop_read, r);
    *rp = r;
    return true;
}

void mc_lzop_reader_free(mc_lzop_reader *r)
{
    if (r) {
        free(r->block);
        free(r);
    }
}

/* ---- writer ---- */

struct mc_lzop_writer {
    mc_sink *lower;
    bool header_done;
    uint8_t in[BLOCK];
    size_t len;
    uint8_t out[BLOCK + BLOCK / 16 + 64 + 3];
    uint8_t wrk[LZO1X_1_MEM_COMPRESS];
};

static bool write_header(mc_lzop_writer *w, mc_error **errp)
{
    uint8_t h[64];
    size_t n = 0;
    mc_put_be16(h + n, 0x1040);               /* version (lzop 1.04) */
    n += 2;
    mc_put_be16(h + n, (uint16_t)(lzo_version() & 0xffff));
    n += 2;
    mc_put_be16(h + n, 0x0940);               /* version needed */
    n += 2;
    h[n++] = M_LZO1X_1;
    h[n++] = 3;                                /* level */
    mc_put_be32(h + n, F_OS_UNIX | F_ADLER32_D);
    n += 4;
    mc_put_be32(h + n, 0);                     /* mode */
    n += 4;
    mc_put_be32(h + n, 0);                     /* mtime low */
    n += 4;
    mc_put_be32(h + n, 0);                     /* mtime high */
    n += 4;
    h[n++] = 0;                                /* no name */
    uint32_t ck = (uint32_t)adler32(adler32(0, NULL, 0), h, (uInt)n);
    mc_put_be32(h + n, ck);
    n += 4;
    w->header_done = true;
    return mc_sink_write(w->lower, MC_LZOP_MAGIC, 9, errp) &&
           mc_sink_write(w->lower, h, n, errp);
}

static bool write_block(mc_lzop_writer *w, mc_error **errp)
{
    if (!w->header_done && !write_header(w, errp)) {
        return false;
    }
    if (w->len == 0) {
        return true;
    }
    lzo_uint out = 0;
    if (lzo1x_1_compress(w->in, w->len, w->out, &out, w->wrk) != LZO_E_OK) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "lzop compression failed");
        return false;
    }
    bool stored = out >= w->len;
    uint8_t h[12];
    mc_put_be32(h, (uint32_t)w->len);
    mc_put_be32(h + 4, (uint32_t)(stored ? w->len : out));
    mc_put_be32(h + 8, (uint32_t)adler32(adler32(0, NULL, 0), w->in,
                                         (uInt)w->len));
    bool ok = mc_sink_write(w->lower, h, 12, errp) &&
              mc_sink_write(w->lower, stored ? w->in : w->out,
                            stored ? w->len : out, errp);
    w->len = 0;
    return ok;
}

static bool lzop_write(mc_sink *k, const uint8_t *p, size_t n,
                       mc_error **errp)
{
    mc_lzop_writer *w = k->opaque;
    while (n) {
        size_t m = BLOCK - w->len < n ? BLOCK - w->len : n;
        memcpy(w->in + w->len, p, m);
        w->len += m;
        p += m;
        n -= m;
        if (w->len == BLOCK && !write_block(w, errp)) {
            return false;
        }
    }
    return true;
}

mc_lzop_writer *mc_lzop_writer_open(mc_sink *lower, mc_sink *out)
{
    if (lzo_init() != LZO_E_OK) {
        return NULL;
    }
    mc_lzop_writer *w = mc_calloc(1, sizeof(*w));
    w->lower = lower;
    mc_sink_init_fn(out, lzop_write, w);
    return w;
}

bool mc_lzop_writer_finish(mc_lzop_writer *w, mc_error **errp)
{
    static const uint8_t end[4] = {0, 0, 0, 0};
    return write_block(w, errp) && mc_sink_write(w->lower, end, 4, errp);
}

void mc_lzop_writer_free(mc_lzop_writer *w)
{
    free(w);
}

/* ---- the compression row of format/registry.c ---- */

static bool lzop_detect(const uint8_t *p, size_t n)
{
    return n >= 9 && memcmp(p, MC_LZOP_MAGIC, 9) == 0;
}

static bool lzop_src_open(mc_src *lower, mc_src *out, void **state,
                          mc_error **errp)
{
    mc_lzop_reader *r;
    if (!mc_lzop_reader_open(lower, out, &r, errp)) {
        return false;
    }
    *state = r;
    return true;
}

static void lzop_src_free(void *state)
{
    mc_lzop_reader_free(state);
}

static void *lzop_sink_open(mc_sink *lower, mc_sink *out, int level)
{
    (void)level;
    return mc_lzop_writer_open(lower, out);
}

static bool lzop_sink_finish(void *state, mc_error **errp)
{
    return mc_lzop_writer_finish(state, errp);
}

static void lzop_sink_free(void *state)
{
    mc_lzop_writer_free(state);
}

const mc_codec_ops mc_codec_lzop = {
    .id = MC_CODEC_LZOP, .name = "lzop", .libvirt_format = MC_LIBVIRT_LZOP,
    .level = 3, .file_level = 3, .detect = lzop_detect,
    .src_open = lzop_src_open, .src_free = lzop_src_free,
    .sink_open = lzop_sink_open, .sink_finish = lzop_sink_finish,
    .sink_free = lzop_sink_free,
};
