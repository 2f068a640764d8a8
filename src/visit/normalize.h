/*
 * The normalize visitor (migconv normalize): the same VM state with RAM as
 * plain records that any QEMU loads without the source's RAM capabilities.
 *
 * Every call is passed on to an output visitor (the legacy writer), except
 * that XBZRLE and COMPRESS_PAGE records become PAGE records holding the
 * page's decoded content (same block, same offset, same place in the
 * stream).  To decode XBZRLE it keeps every page's content in unnamed
 * temporary files (visit/ram_image.h), never in memory.
 *
 * mapped-ram input (core/mapped_ram.h) becomes an ordinary sequential
 * stream: one MEM_SIZE record with every block, then the pages the bitmaps
 * mark, in the RAM START section; the mapped-ram capability leaves the
 * configuration.  With mapped_ram the other way round.
 *
 * With squash, each page sent goes out once, with its final content, in
 * the last RAM section (the END section, before its EOS): ZERO with the
 * fill byte when the page is uniform, else PAGE.  Streams whose RAM does
 * not end with an END section (a switched postcopy) cannot be squashed.
 */
#ifndef MC_VISIT_NORMALIZE_H
#define MC_VISIT_NORMALIZE_H

#include <stdbool.h>

#include "core/io.h"
#include "core/visitor.h"

typedef struct mc_normalize_opts {
    bool squash;
    /* Write a mapped-ram file (core/mapped_ram.h) instead: every page sent
     * goes, with its final content, to its fixed place in out_fd (a
     * regular file the output visitor writes through out_sink, from its
     * offset 0) once the stream is complete; the configuration lists the
     * mapped-ram capability. */
    bool mapped_ram;
    int out_fd;
    const struct mc_sink *out_sink;
    const char *tmpdir;   /* for the page store (NULL: /tmp) */
    const mc_src *src;    /* the input, for offsets in messages (or NULL) */
    /* src's file descriptor when src reads a regular file from its start
     * (else -1 or 0, as a zeroed struct has): pages are then noted by
     * their input offset, not copied */
    int src_fd;
} mc_normalize_opts;

/* out receives the normalized stream and is owned by the new visitor. */
mc_visitor *mc_normalize_visitor_new(const mc_normalize_opts *opts,
                                     mc_visitor *out);

#endif
