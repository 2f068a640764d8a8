/*
 * lzop files (libvirt save_image_format "lzop"), read and written with
 * liblzo2: the lzop header (magic, version, method, flags, mode, mtime,
 * name, checksum), then blocks of at most 256 KiB of data, each stored or
 * LZO1X-compressed, with the Adler-32 or CRC-32 checksums the flags ask
 * for; a zero length ends the file.  Its mc_codec_ops (the compression
 * row of format/registry.c) is at the end of lzop.c.
 */
#ifndef MC_CONTAINER_LZOP_H
#define MC_CONTAINER_LZOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/io.h"

#define MC_LZOP_MAGIC "\x89LZO\0\r\n\x1a\n"

typedef struct mc_lzop_reader mc_lzop_reader;
bool mc_lzop_reader_open(mc_src *lower, mc_src *out, mc_lzop_reader **rp,
                         mc_error **errp);
void mc_lzop_reader_free(mc_lzop_reader *r);

/* Written as `lzop -c` from a pipe writes: LZO1X-1 (level 3), Adler-32 of
 * the data, Unix, no name, mtime 0. */
typedef struct mc_lzop_writer mc_lzop_writer;
mc_lzop_writer *mc_lzop_writer_open(mc_sink *lower, mc_sink *out);
bool mc_lzop_writer_finish(mc_lzop_writer *w, mc_error **errp);
void mc_lzop_writer_free(mc_lzop_writer *w);

#endif
