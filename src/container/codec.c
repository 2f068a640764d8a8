#include "container/codec.h"

#include <bzlib.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "container/lzop.h"
#include "core/util.h"

mc_codec mc_codec_detect(const uint8_t *p, size_t n)
{
    if (n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8) {
        return MC_CODEC_GZIP;
    }
    if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0) {
        return MC_CODEC_XZ;
    }
    if (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0) {
        return MC_CODEC_ZSTD;
    }
    if (n >= 9 && memcmp(p, MC_LZOP_MAGIC, 9) == 0) {
        return MC_CODEC_LZOP;
    }
    /* "BZh" + block size digit + the block magic (pi) or end of stream. */
    if (n >= 6 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' &&
        p[3] <= '9' &&
        ((p[4] == 0x31 && p[5] == 0x41) || (p[4] == 0x17 && p[5] == 0x72))) {
        return MC_CODEC_BZIP2;
    }
    return MC_CODEC_NONE;
}

const char *mc_codec_name(mc_codec c)
{
    switch (c) {
    case MC_CODEC_GZIP:
        return "gzip";
    case MC_CODEC_BZIP2:
        return "bzip2";
    case MC_CODEC_XZ:
        return "xz";
    case MC_CODEC_ZSTD:
        return "zstd";
    case MC_CODEC_LZOP:
        return "lzop";
    default:
        return "none";
    }
}

int mc_codec_default_level(mc_codec c)
{
    switch (c) {
    case MC_CODEC_GZIP:
        return 6;
    case MC_CODEC_BZIP2:
        return 9;
    default:
        return 3;
    }
}

/* ---- one engine per format: init, step, end ---- */

typedef struct engine {
    mc_codec codec;
    bool compress;
    z_stream z;
    bz_stream bz;
    lzma_stream xz;
    ZSTD_DStream *zd;
    ZSTD_CStream *zc;
    bool live;
} engine;

static bool engine_init(engine *e, mc_codec c, bool compress, int level)
{
    memset(e, 0, sizeof(*e));
    e->codec = c;
    e->compress = compress;
    int rc = 0;
    switch (c) {
    case MC_CODEC_GZIP:
        rc = compress ? deflateInit2(&e->z, level, Z_DEFLATED, 31, 8,
                                     Z_DEFAULT_STRATEGY)
                      : inflateInit2(&e->z, 31);
        if (rc != Z_OK) {
            return false;
        }
        break;
    case MC_CODEC_BZIP2:
        rc = compress ? BZ2_bzCompressInit(&e->bz, level, 0, 0)
                      : BZ2_bzDecompressInit(&e->bz, 0, 0);
        if (rc != BZ_OK) {
            return false;
        }
        break;
    case MC_CODEC_XZ: {
        lzma_stream init = LZMA_STREAM_INIT;
        e->xz = init;
        lzma_ret lr = compress
                          ? lzma_easy_encoder(&e->xz, (uint32_t)level,
                                              LZMA_CHECK_CRC64)
                          : lzma_stream_decoder(&e->xz, UINT64_MAX, 0);
        if (lr != LZMA_OK) {
            return false;
        }
        break;
    }
    case MC_CODEC_ZSTD:
        if (compress) {
            e->zc = ZSTD_createCStream();
            if (!e->zc ||
                ZSTD_isError(ZSTD_CCtx_setParameter(e->zc,
                                                    ZSTD_c_compressionLevel,
                                                    level)) ||
                ZSTD_isError(ZSTD_CCtx_setParameter(e->zc,
                                                    ZSTD_c_checksumFlag, 1))) {
                ZSTD_freeCStream(e->zc);
                return false;
            }
        } else {
            e->zd = ZSTD_createDStream();
            if (!e->zd || ZSTD_isError(ZSTD_initDStream(e->zd))) {
                ZSTD_freeDStream(e->zd);
                return false;
            }
        }
        break;
    default:
        return false;
    }
    e->live = true;
    return true;
}

static void engine_end(engine *e)
{
    if (!e->live) {
        return;
    }
    switch (e->codec) {
    case MC_CODEC_GZIP:
        if (e->compress) {
            deflateEnd(&e->z);
        } else {
            inflateEnd(&e->z);
        }
        break;
    case MC_CODEC_BZIP2:
        if (e->compress) {
            BZ2_bzCompressEnd(&e->bz);
        } else {
            BZ2_bzDecompressEnd(&e->bz);
        }
        break;
    case MC_CODEC_XZ:
        lzma_end(&e->xz);
        break;
    case MC_CODEC_ZSTD:
        ZSTD_freeCStream(e->zc);
        ZSTD_freeDStream(e->zd);
        break;
    default:
        break;
    }
    e->live = false;
}

/* One step: consume from in, produce into out.  finish: no more input
 * (compression only).  *end: the (de)compressed stream ended.  Returns
 * false with a message on damaged data. */
static bool engine_step(engine *e, const uint8_t *in, size_t inlen,
                        size_t *used, uint8_t *out, size_t outcap,
                        size_t *made, bool finish, bool *end,
                        const char **msg)
{
    *end = false;
    *msg = NULL;
    switch (e->codec) {
    case MC_CODEC_GZIP: {
        e->z.next_in = (Bytef *)in;
        e->z.avail_in = (uInt)(inlen > UINT32_MAX ? UINT32_MAX : inlen);
        e->z.next_out = out;
        e->z.avail_out = (uInt)(outcap > UINT32_MAX ? UINT32_MAX : outcap);
        int rc = e->compress ? deflate(&e->z, finish ? Z_FINISH : Z_NO_FLUSH)
                             : inflate(&e->z, Z_NO_FLUSH);
        *used = (size_t)(e->z.next_in - in);
        *made = (size_t)(e->z.next_out - out);
        if (rc == Z_STREAM_END) {
            *end = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            *msg = e->z.msg ? e->z.msg : "damaged gzip data";
            return false;
        }
        return true;
    }
    case MC_CODEC_BZIP2: {
        e->bz.next_in = (char *)in;
        e->bz.avail_in = (unsigned)(inlen > UINT32_MAX ? UINT32_MAX : inlen);
        e->bz.next_out = (char *)out;
        e->bz.avail_out = (unsigned)(outcap > UINT32_MAX ? UINT32_MAX : outcap);
        int rc = e->compress
                     ? BZ2_bzCompress(&e->bz, finish ? BZ_FINISH : BZ_RUN)
                     : BZ2_bzDecompress(&e->bz);
        *used = (size_t)((const uint8_t *)e->bz.next_in - in);
        *made = (size_t)((uint8_t *)e->bz.next_out - out);
        if (rc == BZ_STREAM_END) {
            *end = true;
        } else if (rc != BZ_OK && rc != BZ_RUN_OK && rc != BZ_FINISH_OK) {
            *msg = "damaged bzip2 data";
            return false;
        }
        return true;
    }
    case MC_CODEC_XZ: {
        e->xz.next_in = in;
        e->xz.avail_in = inlen;
        e->xz.next_out = out;
        e->xz.avail_out = outcap;
        lzma_ret rc = lzma_code(&e->xz, finish ? LZMA_FINISH : LZMA_RUN);
        *used = (size_t)(e->xz.next_in - in);
        *made = (size_t)(e->xz.next_out - out);
        if (rc == LZMA_STREAM_END) {
            *end = true;
        } else if (rc != LZMA_OK && rc != LZMA_BUF_ERROR) {
            *msg = rc == LZMA_MEMLIMIT_ERROR ? "xz memory limit reached"
                                             : "damaged xz data";
            return false;
        }
        return true;
    }
    case MC_CODEC_ZSTD: {
        ZSTD_inBuffer ib = {in, inlen, 0};
        ZSTD_outBuffer ob = {out, outcap, 0};
        size_t rc = e->compress
                        ? ZSTD_compressStream2(e->zc, &ob, &ib,
                                               finish ? ZSTD_e_end
                                                      : ZSTD_e_continue)
                        : ZSTD_decompressStream(e->zd, &ob, &ib);
        *used = ib.pos;
        *made = ob.pos;
        if (ZSTD_isError(rc)) {
            *msg = ZSTD_getErrorName(rc);
            return false;
        }
        /* Decompression: 0 = a frame is complete.  Compression with
         * ZSTD_e_end: 0 = everything flushed. */
        *end = rc == 0 && (e->compress ? finish : true);
        return true;
    }
    default:
        *msg = "no codec";
        return false;
    }
}

/* ---- decompressing source ---- */

struct mc_decomp {
    engine e;
    mc_lzop_reader *lz;
    mc_src *lower;
    bool ended;      /* the last member/frame ended and nothing follows */
    bool in_member;  /* some bytes of the current member were consumed */
};

static long decomp_read_impl(void *opaque, uint8_t *buf, size_t n,
                        mc_error **errp)
{
    mc_decomp *d = opaque;
    const char *name = mc_codec_name(d->e.codec);
    while (!d->ended) {
        bool at_end;
        if (!mc_src_at_end(d->lower, &at_end, errp)) {
            return -1;
        }
        if (at_end) {
            if (d->in_member) {
                mc_error_data(errp, MC_NO_OFFSET, NULL,
                              "%s data cut short at file offset %llu (the "
                              "compressed stream has no end)", name,
                              (unsigned long long)mc_src_offset(d->lower));
                return -1;
            }
            d->ended = true;
            break;
        }
        if (!d->in_member) {
            /* At a member boundary: another member of the same format,
             * else bytes that do not belong here. */
            const uint8_t *p;
            size_t have = mc_src_buffered(d->lower);
            mc_error *err = NULL;
            if (have < 6 && mc_src_peek(d->lower, 6, &p, &err)) {
                have = 6;
            }
            mc_error_free(err);
            have = mc_src_buffered(d->lower);
            (void)mc_src_peek(d->lower, have, &p, NULL);
            if (mc_codec_detect(p, have) != d->e.codec) {
                mc_error_data(errp, MC_NO_OFFSET, NULL,
                              "trailing bytes after the %s data at file "
                              "offset %llu", name,
                              (unsigned long long)mc_src_offset(d->lower));
                return -1;
            }
            engine_end(&d->e);
            if (!engine_init(&d->e, d->e.codec, false, 0)) {
                mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                             "cannot start the %s decompressor", name);
                return -1;
            }
            d->in_member = true;
        }
        const uint8_t *p;
        size_t have = mc_src_buffered(d->lower);
        if (!mc_src_peek(d->lower, have, &p, errp)) {
            return -1;
        }
        size_t used = 0, made = 0;
        bool end;
        const char *msg;
        uint64_t at = mc_src_offset(d->lower);
        if (!engine_step(&d->e, p, have, &used, buf, n, &made, false, &end,
                         &msg)) {
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "%s: %s (compressed data at file offset %llu)",
                          name, msg, (unsigned long long)at);
            return -1;
        }
        if (!mc_src_skip(d->lower, used, errp)) {
            return -1;
        }
        if (end) {
            d->in_member = false;
        }
        if (made > 0) {
            return (long)made;
        }
        if (used == 0 && !end) {
            /* Needs more input than is buffered: make the lower source
             * read some (or find its end). */
            if (!mc_src_need(d->lower, have + 1, NULL)) {
                if (!mc_src_at_end(d->lower, &at_end, errp)) {
                    return -1;
                }
                size_t left = mc_src_buffered(d->lower);
                if (left == have) {
                    mc_error_data(errp, MC_NO_OFFSET, NULL,
                                  "%s data cut short at file offset %llu "
                                  "(the compressed stream has no end)", name,
                                  (unsigned long long)(mc_src_offset(d->lower)
                                                       + left));
                    return -1;
                }
            }
        }
    }
    return 0;
}

static bool decomp_read(mc_src *s, uint8_t *buf, size_t n, size_t *got,
                        mc_error **errp)
{
    long r = decomp_read_impl(s->read_opaque, buf, n, errp);
    if (r < 0) {
        return false;
    }
    *got = (size_t)r;
    return true;
}

bool mc_decomp_open(mc_codec c, mc_src *lower, mc_src *out, mc_decomp **dp,
                    mc_error **errp)
{
    mc_decomp *d = mc_calloc(1, sizeof(*d));
    if (c == MC_CODEC_LZOP) {
        if (!mc_lzop_reader_open(lower, out, &d->lz, errp)) {
            free(d);
            return false;
        }
        *dp = d;
        return true;
    }
    if (!engine_init(&d->e, c, false, 0)) {
        free(d);
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "cannot start the %s decompressor", mc_codec_name(c));
        return false;
    }
    d->lower = lower;
    d->in_member = true;
    mc_src_init_read(out, NULL, decomp_read, d);
    *dp = d;
    return true;
}

void mc_decomp_free(mc_decomp *d)
{
    if (d) {
        engine_end(&d->e);
        mc_lzop_reader_free(d->lz);
        free(d);
    }
}

/* ---- compressing sink ---- */

struct mc_comp {
    engine e;
    mc_lzop_writer *lz;
    mc_sink *lower;
    uint8_t out[1 << 16];
    bool ok;
};

static bool comp_run(mc_comp *cp, const uint8_t *p, size_t n, bool finish,
                     mc_error **errp)
{
    for (;;) {
        size_t used = 0, made = 0;
        bool end;
        const char *msg;
        if (!engine_step(&cp->e, p, n, &used, cp->out, sizeof(cp->out), &made,
                         finish, &end, &msg)) {
            mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                         "%s compression failed: %s",
                         mc_codec_name(cp->e.codec), msg);
            return false;
        }
        p += used;
        n -= used;
        if (made && !mc_sink_write(cp->lower, cp->out, made, errp)) {
            return false;
        }
        if (finish ? end : (n == 0 && made < sizeof(cp->out))) {
            return true;
        }
    }
}

static bool comp_write(mc_sink *k, const uint8_t *p, size_t n,
                       mc_error **errp)
{
    return comp_run(k->opaque, p, n, false, errp);
}

mc_comp *mc_comp_open(mc_codec c, int level, mc_sink *lower, mc_sink *out)
{
    mc_comp *cp = mc_calloc(1, sizeof(*cp));
    if (c == MC_CODEC_LZOP) {
        cp->lz = mc_lzop_writer_open(lower, out);
        if (!cp->lz) {
            free(cp);
            return NULL;
        }
        return cp;
    }
    if (!engine_init(&cp->e, c, true, level)) {
        free(cp);
        return NULL;
    }
    cp->lower = lower;
    mc_sink_init_fn(out, comp_write, cp);
    return cp;
}

bool mc_comp_finish(mc_comp *cp, mc_error **errp)
{
    if (cp->lz) {
        return mc_lzop_writer_finish(cp->lz, errp);
    }
    return comp_run(cp, NULL, 0, true, errp);
}

void mc_comp_free(mc_comp *cp)
{
    if (cp) {
        engine_end(&cp->e);
        mc_lzop_writer_free(cp->lz);
        free(cp);
    }
}
