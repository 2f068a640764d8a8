/* zstd with libzstd: one compression row of format/registry.c. */
#include <string.h>
#include <zstd.h>

#include "container/codec.h"
#include "container/libvirt_save.h"

typedef struct zs_engine {
    ZSTD_DStream *zd;
    ZSTD_CStream *zc;
} zs_engine;

static bool zs_detect(const uint8_t *p, size_t n)
{
    return n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0;
}

static void zs_end(void *opaque)
{
    zs_engine *e = opaque;
    ZSTD_freeCStream(e->zc);
    ZSTD_freeDStream(e->zd);
}

/* Compressing: a stream with the level and a checksum (zstd -c writes
 * one); decompressing: a plain stream. */
static bool zs_init(void *opaque, bool compress, int level)
{
    zs_engine *e = opaque;
    bool ok;
    if (compress) {
        e->zc = ZSTD_createCStream();
        ok = e->zc &&
             !ZSTD_isError(ZSTD_CCtx_setParameter(e->zc,
                                                  ZSTD_c_compressionLevel,
                                                  level)) &&
             !ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_checksumFlag,
                                                  1));
    } else {
        e->zd = ZSTD_createDStream();
        ok = e->zd && !ZSTD_isError(ZSTD_initDStream(e->zd));
    }
    if (!ok) {
        zs_end(e);
    }
    return ok;
}

static bool zs_step(void *opaque, const uint8_t *in, size_t inlen,
                    size_t *used, uint8_t *out, size_t outcap, size_t *made,
                    bool finish, bool *end, const char **msg)
{
    zs_engine *e = opaque;
    ZSTD_inBuffer ib = {in, inlen, 0};
    ZSTD_outBuffer ob = {out, outcap, 0};
    size_t rc = e->zc ? ZSTD_compressStream2(e->zc, &ob, &ib,
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
    *end = rc == 0 && (e->zc ? finish : true);
    return true;
}

const mc_codec_ops mc_codec_zstd = {
    .id = MC_CODEC_ZSTD, .name = "zstd", .libvirt_format = MC_LIBVIRT_ZSTD,
    .level = 3, .file_level = 3, .detect = zs_detect,
    .engine_size = sizeof(zs_engine), .engine_init = zs_init,
    .engine_step = zs_step, .engine_end = zs_end,
};
