/*
 * The legacy reader: the "ram" live section (migration/ram.c), record by
 * record; pages go to the visitor straight from the input buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/path.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "desc/desc.h"
#include "desc/builtin.h"
#include "desc/tables.h"
#include "legacy/field_codec.h"
#include "legacy/reader_impl.h"
#include "legacy/live.h"
#include "legacy/mapped_ram_read.h"
#include "format/readers.h"
#include "visit/visitors.h"

/* ---- the "ram" live section (migration/ram.c) ---- */

static bool read_block_name(reader *r, bool cont, const char **block,
                            mc_error **errp)
{
    *block = NULL;
    if (cont) {
        return true;
    }
    if (!mc_lr_read_counted(r, r->name_buf, "RAM block name", errp)) {
        return false;
    }
    *block = r->name_buf;
    return true;
}

static bool parse_mem_size(reader *r, mc_visitor *v, uint64_t total,
                           mc_error **errp)
{
    uint64_t left = total;
    size_t n = 0;
    /* mapped-ram (QEMU >= 9.0 file: migration): each block entry is
     * followed by its MappedRamHeader and region (legacy/mapped_ram_read.h),
     * so the MEM_SIZE record goes out first, without its blocks. */
    mc_mapped_block mapped = {0};
    if (r->mapped_ram) {
        mc_ram_record head = {.kind = MC_RAM_MEM_SIZE, .offset = total};
        if (!mc_visit_ram_record(v, &head, errp)) {
            return false;
        }
    }
    while (left > 0) {
        uint64_t off = mc_src_offset(r->src);
        if (n >= MC_MAX_RAM_BLOCKS) {
            DATA_ERR(r, off, "more than %d RAM blocks", MC_MAX_RAM_BLOCKS);
            return false;
        }
        if (n == r->blocks_cap) {
            size_t cap = r->blocks_cap ? r->blocks_cap * 2 : 8;
            r->blocks = mc_realloc(r->blocks, cap * sizeof(*r->blocks));
            r->block_names = mc_realloc(r->block_names,
                                        cap * sizeof(*r->block_names));
            memset(r->block_names + r->blocks_cap, 0,
                   (cap - r->blocks_cap) * sizeof(*r->block_names));
            r->blocks_cap = cap;
        }
        mc_ram_block *b = &r->blocks[n];
        memset(b, 0, sizeof(*b));
        char name[256];
        if (!mc_lr_read_counted(r, name, "RAM block name", errp) ||
            !mc_src_be64(r->src, &b->used_length, errp)) {
            return false;
        }
        if (b->used_length > left) {
            DATA_ERR(r, off, "RAM block '%s' of %llu bytes exceeds the %llu "
                     "bytes left of the announced total", name,
                     (unsigned long long)b->used_length,
                     (unsigned long long)left);
            return false;
        }
        left -= b->used_length;
        free(r->block_names[n]);
        r->block_names[n] = mc_strdup(name);
        b->idstr = r->block_names[n];
        /* migration/ram.c ram_save_setup: a page size when postcopy is on
         * and the block's page size is not the host's; the destination
         * knows from POSTCOPY_ADVISE whether any block has one. */
        if (r->postcopy_advised && r->pagesize_summary != r->page_size) {
            const uint8_t *p;
            if (!mc_src_peek(r->src, 8, &p, errp)) {
                return false;
            }
            uint64_t ps = mc_be64(p);
            if (ps != 0 && (ps & (ps - 1)) == 0 && (ps & r->pagesize_summary) &&
                ps != r->page_size) {
                b->has_page_size = true;
                b->page_size = ps;
                if (!mc_src_skip(r->src, 8, errp)) {
                    return false;
                }
            }
        }
        if (r->ignore_shared && !mc_src_be64(r->src, &b->addr, errp)) {
            return false;
        }
        b->has_addr = r->ignore_shared;
        n++;
        if (r->mapped_ram &&
            !mc_mapped_ram_read_block(r->src, v, b, r->page_size, &mapped,
                                      r->path, errp)) {
            mc_mapped_block_clear(&mapped);
            return false;
        }
    }
    r->ram_total = total;
    if (r->mapped_ram) {
        return true;
    }
    mc_ram_record rec = {
        .kind = MC_RAM_MEM_SIZE, .offset = total, .blocks = r->blocks,
        .n_blocks = n,
    };
    return mc_visit_ram_record(v, &rec, errp);
}

/* The records of a "ram" section; *n counts them (from 0). */
static bool parse_ram_records(reader *r, mc_visitor *v, uint64_t *n,
                              mc_error **errp)
{
    const uint64_t mask = (uint64_t)r->page_size - 1;
    for (;; ++*n) {
        uint64_t off = mc_src_offset(r->src);
        uint64_t hdr;
        if (!mc_src_be64(r->src, &hdr, errp)) {
            return false;
        }
        uint64_t flags = hdr & mask;
        uint64_t addr = hdr & ~mask;
        bool cont = flags & MC_RAM_SAVE_FLAG_CONTINUE;
        mc_ram_record rec = {.offset = addr};
        const uint8_t *p;
        switch (flags & ~(uint64_t)MC_RAM_SAVE_FLAG_CONTINUE) {
        case MC_RAM_SAVE_FLAG_MEM_SIZE:
            if (cont) {
                goto bad_flags;
            }
            if (!parse_mem_size(r, v, addr, errp)) {
                return false;
            }
            continue;
        case MC_RAM_SAVE_FLAG_ZERO:
            rec.kind = MC_RAM_ZERO;
            if (!read_block_name(r, cont, &rec.block, errp) ||
                !mc_src_u8(r->src, &rec.fill, errp)) {
                return false;
            }
            break;
        case MC_RAM_SAVE_FLAG_PAGE:
            rec.kind = MC_RAM_PAGE;
            rec.len = r->page_size;
            if (!read_block_name(r, cont, &rec.block, errp) ||
                !mc_src_take(r->src, rec.len, &rec.data, errp)) {
                return false;
            }
            break;
        case MC_RAM_SAVE_FLAG_XBZRLE: {
            uint16_t len;
            rec.kind = MC_RAM_XBZRLE;
            if (!read_block_name(r, cont, &rec.block, errp) ||
                !mc_src_u8(r->src, &rec.encoding, errp) ||
                !mc_src_be16(r->src, &len, errp)) {
                return false;
            }
            if (len > r->page_size) {
                DATA_ERR(r, off, "XBZRLE data of %u bytes exceeds the page "
                         "size %u", len, r->page_size);
                return false;
            }
            rec.len = len;
            if (!mc_src_take(r->src, len, &rec.data, errp)) {
                return false;
            }
            break;
        }
        case MC_RAM_SAVE_FLAG_COMPRESS_PAGE: {
            uint32_t len;
            rec.kind = MC_RAM_COMPRESS;
            if (!read_block_name(r, cont, &rec.block, errp) ||
                !mc_src_be32(r->src, &len, errp)) {
                return false;
            }
            if (len > mc_compress_bound(r->page_size)) {
                DATA_ERR(r, off, "compressed page of %u bytes exceeds the "
                         "bound for a page", len);
                return false;
            }
            rec.len = len;
            if (!mc_src_take(r->src, len, &rec.data, errp)) {
                return false;
            }
            break;
        }
        case MC_RAM_SAVE_FLAG_EOS:
        case MC_RAM_SAVE_FLAG_MULTIFD_FLUSH:
            if (cont || addr != 0) {
                goto bad_flags;
            }
            rec.kind = flags == MC_RAM_SAVE_FLAG_EOS ? MC_RAM_EOS
                                                      : MC_RAM_MULTIFD_FLUSH;
            if (!mc_visit_ram_record(v, &rec, errp)) {
                return false;
            }
            if (rec.kind == MC_RAM_EOS) {
                return true;
            }
            continue;
        case MC_RAM_SAVE_FLAG_HOOK:
            DATA_ERR(r, off, "RDMA hook records are not supported");
            return false;
        default:
            goto bad_flags;
        }
        if (rec.kind == MC_RAM_ZERO || rec.kind == MC_RAM_PAGE) {
            /* The page must lie in the RAM the stream announced (1 TiB
             * before any MEM_SIZE), as the BER reader requires of runs. */
            uint64_t limit = r->ram_total ? r->ram_total : UINT64_C(1) << 40;
            if (addr > limit || limit - addr < r->page_size) {
                DATA_ERR(r, off, "page at 0x%llx lies past the %llu bytes of "
                         "RAM the stream announced", (unsigned long long)addr,
                         (unsigned long long)limit);
                return false;
            }
        }
        if (!mc_visit_ram_record(v, &rec, errp)) {
            return false;
        }
        (void)p;
        continue;
    bad_flags:
        DATA_ERR(r, off, "invalid RAM record header 0x%016llx (flags 0x%llx)",
                 (unsigned long long)hdr, (unsigned long long)flags);
        return false;
    }
}

bool mc_lr_parse_ram(reader *r, mc_visitor *v, mc_error **errp)
{
    /* The record goes into the path only when there is an error (not once
     * per page): an error the reader set here names the section's path,
     * which then gets "/records[N]" (core/path.h). */
    uint64_t n = 0;
    mc_error *err = NULL;
    if (parse_ram_records(r, v, &n, &err)) {
        return true;
    }
    if (err && err->path && strcmp(err->path, r->path) == 0) {
        size_t old = mc_path_add(r->path, sizeof(r->path), "/records[", NULL,
                                 0, true, n, "]");
        free(err->path);
        err->path = mc_strdup(r->path);
        mc_path_pop(r->path, old);
    }
    mc_error_propagate(errp, err);
    return false;
}
