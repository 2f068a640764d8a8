/* bzip2 with libbz2: one compression row of format/registry.c. */
#include <bzlib.h>

#include "container/codec.h"
#include "container/libvirt_save.h"

typedef struct bz_engine {
    bz_stream bz;
    bool compress;
} bz_engine;

/* "BZh" + block size digit + the block magic (pi) or end of stream. */
static bool bz_detect(const uint8_t *p, size_t n)
{
    return n >= 6 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' &&
           p[3] >= '1' && p[3] <= '9' &&
           ((p[4] == 0x31 && p[5] == 0x41) || (p[4] == 0x17 && p[5] == 0x72));
}

static bool bz_init(void *opaque, bool compress, int level)
{
    bz_engine *e = opaque;
    e->compress = compress;
    return (compress ? BZ2_bzCompressInit(&e->bz, level, 0, 0)
                     : BZ2_bzDecompressInit(&e->bz, 0, 0)) == BZ_OK;
}

static bool bz_step(void *opaque, const uint8_t *in, size_t inlen,
                    size_t *used, uint8_t *out, size_t outcap, size_t *made,
                    bool finish, bool *end, const char **msg)
{
    bz_engine *e = opaque;
    e->bz.next_in = (char *)in;
    e->bz.avail_in = (unsigned)(inlen > UINT32_MAX ? UINT32_MAX : inlen);
    e->bz.next_out = (char *)out;
    e->bz.avail_out = (unsigned)(outcap > UINT32_MAX ? UINT32_MAX : outcap);
    int rc = e->compress ? BZ2_bzCompress(&e->bz, finish ? BZ_FINISH : BZ_RUN)
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

static void bz_end(void *opaque)
{
    bz_engine *e = opaque;
    (void)(e->compress ? BZ2_bzCompressEnd(&e->bz)
                       : BZ2_bzDecompressEnd(&e->bz));
}

const mc_codec_ops mc_codec_bzip2 = {
    .id = MC_CODEC_BZIP2, .name = "bzip2", .libvirt_format = MC_LIBVIRT_BZIP2,
    .level = 9, .file_level = 9, .detect = bz_detect,
    .engine_size = sizeof(bz_engine), .engine_init = bz_init,
    .engine_step = bz_step, .engine_end = bz_end,
};
