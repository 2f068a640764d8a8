/*
 * Reading one RAM block's mapped-ram header and region from a legacy
 * stream (core/mapped_ram.h), for the legacy reader's MEM_SIZE record.
 */
#ifndef MC_READ_MAPPED_RAM_READ_H
#define MC_READ_MAPPED_RAM_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/io.h"
#include "core/mapped_ram.h"
#include "core/visitor.h"

/*
 * The source is right after block b's MEM_SIZE entry: read its
 * MappedRamHeader, check it (mc_mapped_block_begin), and pass on one
 * MAPPED_BLOCK record and the region's bytes in file order as MAPPED_BYTES
 * (at most 1 MiB each, never splitting a page) and MAPPED_ZEROS records
 * (every run of zero bytes that covers whole page-aligned pieces: holes
 * and zeros alike).  Leaves the source at pages_offset + used_length.
 * state is the caller's, cleared afterwards.  Reads the input
 * sequentially: a pipe works as well as a file (QEMU writes the regions in
 * file order).
 */
bool mc_mapped_ram_read_block(mc_src *src, mc_visitor *v,
                              const mc_ram_block *b, uint32_t page_size,
                              mc_mapped_block *state, const char *path,
                              mc_error **errp);

#endif
