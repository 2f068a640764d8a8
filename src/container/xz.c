/* xz with liblzma: one compression row of format/registry.c. */
#include <lzma.h>
#include <string.h>

#include "container/codec.h"
#include "container/libvirt_save.h"

typedef struct xz_engine {
    lzma_stream xz;
} xz_engine;

static bool xz_detect(const uint8_t *p, size_t n)
{
    return n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0;
}

static bool xz_init(void *opaque, bool compress, int level)
{
    xz_engine *e = opaque;
    lzma_stream init = LZMA_STREAM_INIT;
    e->xz = init;
    return (compress ? lzma_easy_encoder(&e->xz, (uint32_t)level,
                                         LZMA_CHECK_CRC64)
                     : lzma_stream_decoder(&e->xz, UINT64_MAX, 0)) == LZMA_OK;
}

static bool xz_step(void *opaque, const uint8_t *in, size_t inlen,
                    size_t *used, uint8_t *out, size_t outcap, size_t *made,
                    bool finish, bool *end, const char **msg)
{
    xz_engine *e = opaque;
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

static void xz_end(void *opaque)
{
    xz_engine *e = opaque;
    lzma_end(&e->xz);
}

/* libvirt runs xz -3; a plain .xz file was most likely made with xz's own
 * default, -6. */
const mc_codec_ops mc_codec_xz = {
    .id = MC_CODEC_XZ, .name = "xz", .libvirt_format = MC_LIBVIRT_XZ,
    .level = 3, .file_level = 6, .detect = xz_detect,
    .engine_size = sizeof(xz_engine), .engine_init = xz_init,
    .engine_step = xz_step, .engine_end = xz_end,
};
