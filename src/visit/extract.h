/*
 * The extract visitor (migconv extract): each RAM block of a stream as a
 * sparse raw image of guest memory, with the final content of every page
 * (visit/ram_image.h says how pages are applied and files named).
 */
#ifndef MC_VISIT_EXTRACT_H
#define MC_VISIT_EXTRACT_H

#include <stddef.h>

#include "core/io.h"
#include "core/visitor.h"

typedef struct mc_extract_opts {
    /* Directory for the images (one file per block, named by
     * mc_ram_image_file_name), blocks.json and vmdesc.json; -1: none. */
    int dirfd;
    /* Extract only this block (NULL: every block).  Records of other
     * blocks are still checked, not written. */
    const char *block;
    /* With block set: write its image to this seekable file descriptor
     * instead of a file in dirfd (-1: in dirfd).  The caller owns it. */
    int block_fd;
    /* The input, for byte offsets in error messages (may be NULL). */
    const mc_src *src;
} mc_extract_opts;

/* inner (may be NULL) receives every call (the device state dump) and is
 * owned by the new visitor from now on. */
mc_visitor *mc_extract_visitor_new(const mc_extract_opts *opts,
                                   mc_visitor *inner);

/* The input offset of a record's payload (for messages): exact when the
 * payload lies in the source's buffer, else the source's position. */
uint64_t mc_extract_record_offset(const mc_src *s, const mc_ram_record *rec);

#endif
