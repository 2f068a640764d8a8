/*
 * Compression layers: a decompressing source stacked on another source, and
 * a compressing sink stacked on another sink.  gzip (zlib), bzip2 (libbz2),
 * xz (liblzma) and zstd (libzstd), the reference library of each format,
 * driven buffer to buffer so that memory stays bounded and a pipe works as
 * well as a file.  Concatenated members/streams/frames of one format are
 * read as one stream, as gzip -d, bzip2 -d, xz -d and zstd -d do.
 */
#ifndef MC_CONTAINER_CODEC_H
#define MC_CONTAINER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/io.h"

typedef enum mc_codec {
    MC_CODEC_NONE = 0,
    MC_CODEC_GZIP,
    MC_CODEC_BZIP2,
    MC_CODEC_XZ,
    MC_CODEC_ZSTD,
    MC_CODEC_LZOP,      /* liblzo2, container in lzop.c */
    MC_CODEC__COUNT,
} mc_codec;

/* The compression format whose magic p starts with, or MC_CODEC_NONE
 * (bzip2 and xz need 6 bytes, gzip 3, zstd 4). */
mc_codec mc_codec_detect(const uint8_t *p, size_t n);
const char *mc_codec_name(mc_codec c);
/* The level used when compressing again: the level of the command-line
 * tool libvirt runs (gzip -c: 6, bzip2 -c: 9, xz -c -3: 3, zstd -c: 3, lzop -c: 3). */
int mc_codec_default_level(mc_codec c);

/* A decompressing source.  lower is read from its current position; the
 * stacked source offers the decompressed bytes (offsets count from the
 * first decompressed byte).  Truncated or damaged compressed data is an
 * MC_ERR_DATA error at the compressed offset in lower. */
typedef struct mc_decomp mc_decomp;
bool mc_decomp_open(mc_codec c, mc_src *lower, mc_src *out, mc_decomp **dp,
                    mc_error **errp);
void mc_decomp_free(mc_decomp *d);

/* A compressing sink: bytes written to *out are compressed into lower.
 * Flush *out, then mc_comp_finish ends the compressed stream (lower is
 * not flushed).  NULL if the library refuses the level. */
typedef struct mc_comp mc_comp;
mc_comp *mc_comp_open(mc_codec c, int level, mc_sink *lower, mc_sink *out);
bool mc_comp_finish(mc_comp *cp, mc_error **errp);
void mc_comp_free(mc_comp *cp);

#endif
