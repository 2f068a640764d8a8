/*
 * mapped-ram headers and block regions (see core/mapped_ram.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/mapped_ram.h"
#include "core/util.h"

void mc_mapped_ram_header_decode(const uint8_t *p, mc_mapped_ram_header *h)
{
    h->version = mc_be32(p);
    h->page_size = mc_be64(p + 4);
    h->bitmap_offset = mc_be64(p + 12);
    h->pages_offset = mc_be64(p + 20);
}

void mc_mapped_ram_header_encode(const mc_mapped_ram_header *h, uint8_t *p)
{
    mc_put_be32(p, h->version);
    mc_put_be64(p + 4, h->page_size);
    mc_put_be64(p + 12, h->bitmap_offset);
    mc_put_be64(p + 20, h->pages_offset);
}

uint64_t mc_mapped_ram_bitmap_size(uint64_t pages)
{
    return (pages / 64 + (pages % 64 != 0)) * 8;
}

#define BLK_ERR(at, ...) mc_error_data(errp, (at), path, __VA_ARGS__)

bool mc_mapped_block_begin(mc_mapped_block *b, const char *idstr,
                           uint64_t used_length,
                           const mc_mapped_ram_header *h, uint64_t header_at,
                           uint32_t page_size, uint64_t file_size,
                           const char *path, mc_error **errp)
{
    mc_mapped_block_clear(b);
    uint64_t start = header_at + MC_MAPPED_RAM_HDR_SIZE;
    if (h->version != MC_MAPPED_RAM_HDR_VERSION) {
        BLK_ERR(header_at, "mapped-ram header of block '%s': version %" PRIu32
                " (only %d is known)", idstr, h->version,
                MC_MAPPED_RAM_HDR_VERSION);
        return false;
    }
    if (h->page_size != page_size) {
        BLK_ERR(header_at, "mapped-ram header of block '%s': page size %"
                PRIu64 " is not the stream's %" PRIu32, idstr, h->page_size,
                page_size);
        return false;
    }
    if (used_length % page_size) {
        BLK_ERR(header_at, "mapped-ram block '%s': used length %" PRIu64
                " is not a multiple of the page size %" PRIu32, idstr,
                used_length, page_size);
        return false;
    }
    uint64_t pages = used_length / page_size;
    uint64_t bsize = mc_mapped_ram_bitmap_size(pages);
    if (bsize > MC_MAPPED_RAM_MAX_BITMAP) {
        BLK_ERR(header_at, "mapped-ram block '%s': a bitmap of %" PRIu64
                " bytes is more than migconv keeps (%u)", idstr, bsize,
                MC_MAPPED_RAM_MAX_BITMAP);
        return false;
    }
    if (h->bitmap_offset < start) {
        BLK_ERR(header_at, "mapped-ram header of block '%s': bitmap_offset "
                "0x%" PRIx64 " overlaps the header or lies before it (the "
                "region starts at 0x%" PRIx64 ")", idstr, h->bitmap_offset,
                start);
        return false;
    }
    if (h->bitmap_offset > UINT64_MAX - bsize ||
        h->bitmap_offset + bsize > h->pages_offset) {
        BLK_ERR(header_at, "mapped-ram header of block '%s': the bitmap at "
                "0x%" PRIx64 " (%" PRIu64 " bytes for %" PRIu64 " pages) "
                "overlaps the pages at pages_offset 0x%" PRIx64, idstr,
                h->bitmap_offset, bsize, pages, h->pages_offset);
        return false;
    }
    if (h->pages_offset % page_size) {
        BLK_ERR(header_at, "mapped-ram header of block '%s': pages_offset "
                "0x%" PRIx64 " is not page-aligned", idstr, h->pages_offset);
        return false;
    }
    if (h->pages_offset > UINT64_MAX - used_length ||
        h->pages_offset + used_length > file_size) {
        BLK_ERR(header_at, "mapped-ram header of block '%s': the pages at "
                "0x%" PRIx64 " (%" PRIu64 " bytes) point past the end of "
                "the file (%" PRIu64 " bytes)", idstr, h->pages_offset,
                used_length, file_size);
        return false;
    }
    size_t n = strlen(idstr);
    if (n >= sizeof(b->idstr)) {
        n = sizeof(b->idstr) - 1;
    }
    memcpy(b->idstr, idstr, n);
    b->idstr[n] = '\0';
    b->used_length = used_length;
    b->hdr = *h;
    b->start = start;
    b->pos = start;
    b->end = h->pages_offset + used_length;
    b->pages = pages;
    b->bitmap_size = bsize;
    b->bitmap = mc_calloc(1, bsize ? bsize : 1);
    b->bitmap_done = bsize == 0;
    b->present = 0;
    return true;
}

static bool check_bitmap(mc_mapped_block *b, uint64_t at, const char *path,
                         mc_error **errp)
{
    uint64_t count = 0;
    for (uint64_t i = 0; i < b->bitmap_size; i++) {
        uint8_t byte = b->bitmap[i];
        if (!byte) {
            continue;
        }
        for (unsigned bit = 0; bit < 8; bit++) {
            if (!(byte & (1u << bit))) {
                continue;
            }
            uint64_t idx = i * 8 + bit;
            if (idx >= b->pages) {
                BLK_ERR(at, "mapped-ram bitmap of block '%s' marks page %"
                        PRIu64 ", past the block's %" PRIu64 " pages",
                        b->idstr, idx, b->pages);
                return false;
            }
            count++;
        }
    }
    b->present = count;
    b->bitmap_done = true;
    return true;
}

bool mc_mapped_block_feed(mc_mapped_block *b, uint64_t off,
                          const uint8_t *data, uint64_t len, uint64_t at,
                          const char *path, mc_error **errp)
{
    if (off != b->pos) {
        BLK_ERR(at, "mapped-ram block '%s': region bytes at file offset 0x%"
                PRIx64 " where 0x%" PRIx64 " comes next", b->idstr, off,
                b->pos);
        return false;
    }
    if (len > b->end - off) {
        BLK_ERR(at, "mapped-ram block '%s': %" PRIu64 " region bytes at 0x%"
                PRIx64 " run past its end at 0x%" PRIx64, b->idstr, len, off,
                b->end);
        return false;
    }
    uint64_t ps = b->hdr.page_size, po = b->hdr.pages_offset;
    uint64_t last = off + len;
    if ((off > po && (off - po) % ps) || (last > po && (last - po) % ps &&
                                          off < last)) {
        BLK_ERR(at, "mapped-ram block '%s': region piece 0x%" PRIx64
                "..0x%" PRIx64 " splits a page", b->idstr, off, last);
        return false;
    }
    /* the part of [off, last) that is bitmap */
    uint64_t bs = b->hdr.bitmap_offset, be = bs + b->bitmap_size;
    uint64_t lo = off > bs ? off : bs, hi = last < be ? last : be;
    if (lo < hi) {
        if (data) {
            memcpy(b->bitmap + (lo - bs), data + (lo - off), hi - lo);
        } else {
            memset(b->bitmap + (lo - bs), 0, hi - lo);
        }
    }
    b->pos = last;
    if (!b->bitmap_done && last >= be && !check_bitmap(b, at, path, errp)) {
        return false;
    }
    return true;
}

bool mc_mapped_block_present(const mc_mapped_block *b, uint64_t idx)
{
    if (!b->bitmap_done || idx >= b->pages) {
        return false;
    }
    return (b->bitmap[idx / 8] >> (idx % 8)) & 1;
}

void mc_mapped_block_clear(mc_mapped_block *b)
{
    free(b->bitmap);
    memset(b, 0, sizeof(*b));
}

bool mc_mapped_block_pages(const mc_mapped_block *b, uint64_t off,
                           const uint8_t *data, uint64_t len,
                           mc_mapped_page_fn fn, void *opaque,
                           mc_error **errp)
{
    uint64_t ps = b->hdr.page_size, po = b->hdr.pages_offset;
    uint64_t last = off + len;
    uint64_t from = off > po ? off : po;
    for (uint64_t p = from; p + ps <= last; p += ps) {
        uint64_t idx = (p - po) / ps;
        if (!fn(opaque, idx, data ? data + (p - off) : NULL,
                mc_mapped_block_present(b, idx), errp)) {
            return false;
        }
    }
    return true;
}
