/*
 * Compression layers: a decompressing source stacked on another source, and
 * a compressing sink stacked on another sink.  Each compression format is
 * one file (gzip.c, bzip2.c, xz.c, zstd.c, lzop.c) with its mc_codec_ops:
 * its magic, its levels and either a streaming engine driven buffer to
 * buffer by this module (gzip with zlib, bzip2 with libbz2, xz with liblzma,
 * zstd with libzstd, the reference library of each format) or a source and
 * a sink of its own (lzop).  Memory stays bounded and a pipe works as well
 * as a file.  Concatenated members/streams/frames of one format are read as
 * one stream, as gzip -d, bzip2 -d, xz -d and zstd -d do.
 *
 * The codecs are found through the source-filter table of format/registry.c:
 * every compression is one row there (mc_codec_get, mc_codec_bid).
 */
#ifndef MC_CONTAINER_CODEC_H
#define MC_CONTAINER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/io.h"

/* A compression's number: the value of Container.compression in the BER
 * (asn1/migconv.asn), kept in its mc_codec_ops.  The names below are the
 * numbers of the first five; 0 is no compression. */
typedef enum mc_codec {
    MC_CODEC_NONE = 0,
    MC_CODEC_GZIP = 1,
    MC_CODEC_BZIP2 = 2,
    MC_CODEC_XZ = 3,
    MC_CODEC_ZSTD = 4,
    MC_CODEC_LZOP = 5,
} mc_codec;

/* One compression format. */
typedef struct mc_codec_ops {
    mc_codec id;
    const char *name;          /* "gzip": in messages and layer labels */
    /* Its number in a libvirt save image header (libvirt_save.h), 0 (raw)
     * when libvirt has none. */
    uint32_t libvirt_format;
    /* The level used when compressing again: the level of the command-line
     * tool libvirt runs (gzip -c: 6, bzip2 -c: 9, xz -c -3: 3, zstd -c: 3,
     * lzop -c: 3), and that of a plain compressed file, made by hand with
     * the tool's own default (xz: 6). */
    int level;
    int file_level;
    /* True if p (n bytes, up to 16 given) starts with the format's magic. */
    bool (*detect)(const uint8_t *p, size_t n);

    /* A streaming engine of engine_size bytes (codec.c allocates it
     * zeroed): init (false if the library refuses), one step (consume
     * from in, produce into out; finish: no more input, compression only;
     * *end: the (de)compressed stream or member ended; false with *msg on
     * damaged data), end (after a successful init). */
    size_t engine_size;
    bool (*engine_init)(void *e, bool compress, int level);
    bool (*engine_step)(void *e, const uint8_t *in, size_t inlen,
                        size_t *used, uint8_t *out, size_t outcap,
                        size_t *made, bool finish, bool *end,
                        const char **msg);
    void (*engine_end)(void *e);

    /* Or a format with framing of its own: a source over lower and a sink
     * into lower, each with its state (used when engine_size is 0). */
    bool (*src_open)(mc_src *lower, mc_src *out, void **state,
                     mc_error **errp);
    void (*src_free)(void *state);
    void *(*sink_open)(mc_sink *lower, mc_sink *out, int level);
    bool (*sink_finish)(void *state, mc_error **errp);
    void (*sink_free)(void *state);
} mc_codec_ops;

/* The compression format whose magic p starts with, or MC_CODEC_NONE. */
mc_codec mc_codec_detect(const uint8_t *p, size_t n);
/* The name of c, "none" for MC_CODEC_NONE or an unknown number. */
const char *mc_codec_name(mc_codec c);
/* The level libvirt's tool uses for c (its row's level; 3 without one). */
int mc_codec_default_level(mc_codec c);

/* A decompressing source.  lower is read from its current position; the
 * stacked source offers the decompressed bytes (offsets count from the
 * first decompressed byte).  Truncated or damaged compressed data is an
 * MC_ERR_DATA error at the compressed offset in lower. */
typedef struct mc_decomp mc_decomp;
bool mc_decomp_open(mc_codec c, mc_src *lower, mc_src *out, mc_decomp **dp,
                    mc_error **errp);
bool mc_decomp_open_ops(const mc_codec_ops *ops, mc_src *lower, mc_src *out,
                        mc_decomp **dp, mc_error **errp);
void mc_decomp_free(mc_decomp *d);

/* A compressing sink: bytes written to *out are compressed into lower.
 * Flush *out, then mc_comp_finish ends the compressed stream (lower is
 * not flushed).  NULL if the library refuses the level (or c is not a
 * known compression). */
typedef struct mc_comp mc_comp;
mc_comp *mc_comp_open(mc_codec c, int level, mc_sink *lower, mc_sink *out);
bool mc_comp_finish(mc_comp *cp, mc_error **errp);
void mc_comp_free(mc_comp *cp);

#endif
