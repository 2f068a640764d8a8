/*
 * mapped-ram files (QEMU >= 9.0, `migrate file:` with the mapped-ram
 * capability; migration/ram.c mapped_ram_setup_ramblock and
 * parse_ramblock_mapped_ram).
 *
 * In such a stream each RAM block entry of the MEM_SIZE record is followed
 * by a MappedRamHeader (packed, big-endian: u32 version = 1, u64 page_size,
 * u64 bitmap_offset, u64 pages_offset).  The offsets are absolute offsets in
 * the file.  The bitmap (one bit per page, host unsigned long words, so
 * BITS_TO_LONGS(pages) * 8 bytes on the 64-bit hosts QEMU supports for this,
 * bit i of the little-endian bit string = page i) says which pages were
 * written; page i lies at pages_offset + i * page_size, and the stream goes
 * on at pages_offset + used_length.  QEMU writes the bitmap right after the
 * header and aligns pages_offset to 1 MiB; the space between is a hole.
 *
 * migconv reads such a block in file order: the bytes from the end of the
 * header to pages_offset + used_length are a "region", passed on as
 * MAPPED_BYTES and MAPPED_ZEROS records (core/visitor.h) that cover it
 * exactly, in order.  mc_mapped_block checks a header against what the
 * stream allows and follows a block's region record by record, keeping the
 * bitmap (pages / 8 bytes: 32 KiB per GiB of RAM at 4 KiB pages).
 */
#ifndef MC_CORE_MAPPED_RAM_H
#define MC_CORE_MAPPED_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define MC_MAPPED_RAM_HDR_VERSION 1
#define MC_MAPPED_RAM_HDR_SIZE 28
/* MAPPED_RAM_FILE_OFFSET_ALIGNMENT: where QEMU puts pages_offset */
#define MC_MAPPED_RAM_ALIGN 0x100000u
/* Largest bitmap migconv keeps (a block of 4 TiB at 4 KiB pages). */
#define MC_MAPPED_RAM_MAX_BITMAP (128u << 20)

typedef struct mc_mapped_ram_header {
    uint32_t version;
    uint64_t page_size;
    uint64_t bitmap_offset;
    uint64_t pages_offset;
} mc_mapped_ram_header;

void mc_mapped_ram_header_decode(const uint8_t *p, mc_mapped_ram_header *h);
void mc_mapped_ram_header_encode(const mc_mapped_ram_header *h, uint8_t *p);
/* BITS_TO_LONGS(pages) * sizeof(unsigned long), 64-bit host */
uint64_t mc_mapped_ram_bitmap_size(uint64_t pages);

/* One block's region being read or written. */
typedef struct mc_mapped_block {
    char idstr[256];
    uint64_t used_length;
    mc_mapped_ram_header hdr;
    uint64_t start;        /* file offset right after the header */
    uint64_t pos;          /* next file offset of the region */
    uint64_t end;          /* pages_offset + used_length */
    uint64_t pages;        /* used_length / page_size */
    uint64_t bitmap_size;
    uint8_t *bitmap;       /* bitmap_size bytes, filled as they arrive */
    bool bitmap_done;      /* all of it arrived (and was checked) */
    uint64_t present;      /* bits set (once bitmap_done) */
} mc_mapped_block;

/*
 * Start a block: idstr and used_length from its MEM_SIZE entry, the header
 * read at header_at (its end is the region's start).  page_size: the
 * stream's; file_size: the input's size when known, else UINT64_MAX.
 * Errors (with offset header_at and path): a version other than 1, a page
 * size other than the stream's, a used length that is no multiple of it,
 * a bitmap that overlaps the header or the pages or is larger than
 * MC_MAPPED_RAM_MAX_BITMAP, pages not page-aligned, offsets that point past
 * the end of the file, or that are not in file order (the only order QEMU
 * writes, and the one a sequential read needs).
 */
bool mc_mapped_block_begin(mc_mapped_block *b, const char *idstr,
                           uint64_t used_length,
                           const mc_mapped_ram_header *h, uint64_t header_at,
                           uint32_t page_size, uint64_t file_size,
                           const char *path, mc_error **errp);
/*
 * The next len bytes of the region at file offset off (data, or NULL for
 * zeros).  Errors: off is not where the region goes on, the bytes run past
 * its end, a piece of the pages area that does not start or end on a page
 * boundary, a bitmap that marks pages past the end of the block.
 */
bool mc_mapped_block_feed(mc_mapped_block *b, uint64_t off,
                          const uint8_t *data, uint64_t len, uint64_t at,
                          const char *path, mc_error **errp);
static inline bool mc_mapped_block_complete(const mc_mapped_block *b)
{
    return b->pos == b->end;
}
/* Whether page idx is marked in the bitmap (false until it arrived). */
bool mc_mapped_block_present(const mc_mapped_block *b, uint64_t idx);
/* Free the bitmap; the block is empty afterwards. */
void mc_mapped_block_clear(mc_mapped_block *b);

/*
 * The whole pages of the pages area inside [off, off + len) (a record just
 * fed), one call each: page index, data (NULL for zeros), present bit.
 */
typedef bool (*mc_mapped_page_fn)(void *opaque, uint64_t idx,
                                  const uint8_t *data, bool present,
                                  mc_error **errp);
bool mc_mapped_block_pages(const mc_mapped_block *b, uint64_t off,
                           const uint8_t *data, uint64_t len,
                           mc_mapped_page_fn fn, void *opaque,
                           mc_error **errp);

#endif
