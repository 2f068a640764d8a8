/* gzip (RFC 1952) with zlib: one compression row of format/registry.c. */
#include <zlib.h>

#include "container/codec.h"
#include "container/libvirt_save.h"

typedef struct gz_engine {
    z_stream z;
    bool compress;
} gz_engine;

static bool gz_detect(const uint8_t *p, size_t n)
{
    return n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8;
}

static bool gz_init(void *opaque, bool compress, int level)
{
    gz_engine *e = opaque;
    e->compress = compress;
    return (compress ? deflateInit2(&e->z, level, Z_DEFLATED, 31, 8,
                                    Z_DEFAULT_STRATEGY)
                     : inflateInit2(&e->z, 31)) == Z_OK;
}

static bool gz_step(void *opaque, const uint8_t *in, size_t inlen,
                    size_t *used, uint8_t *out, size_t outcap, size_t *made,
                    bool finish, bool *end, const char **msg)
{
    gz_engine *e = opaque;
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

static void gz_end(void *opaque)
{
    gz_engine *e = opaque;
    (void)(e->compress ? deflateEnd(&e->z) : inflateEnd(&e->z));
}

const mc_codec_ops mc_codec_gzip = {
    .id = MC_CODEC_GZIP, .name = "gzip", .libvirt_format = MC_LIBVIRT_GZIP,
    .level = 6, .file_level = 6, .detect = gz_detect,
    .engine_size = sizeof(gz_engine), .engine_init = gz_init,
    .engine_step = gz_step, .engine_end = gz_end,
};
