/*
 * The BER reader: RAM sections and their records.  Runs must be merged
 * exactly as far as the writer merges them (ber/writer_ram.c), so
 * that BER -> BER is byte for byte.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/ber.h"
#include "core/mapped_ram.h"
#include "core/path.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor.h"
#include "desc/desc.h"
#include "ber/reader_impl.h"
#include "format/readers.h"

/* ---- RAM ---- */

static bool read_page_offset(reader *r, cur *c, uint64_t *offset,
                             const char *what, mc_error **errp)
{
    uint64_t off = c->off;
    if (!mc_br_cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, offset, what, errp)) {
        return false;
    }
    if (*offset & (r->info.page_size - 1)) {
        return DATA_ERR(r, off, "%s 0x%llx is not a multiple of the page "
                        "size %u", what, (unsigned long long)*offset,
                        r->info.page_size);
    }
    return true;
}

/* Offset and optional block name, the start of every page record. */
static bool read_page_prefix(reader *r, cur *c, mc_ram_record *rec,
                             mc_error **errp)
{
    return read_page_offset(r, c, &rec->offset, "page offset", errp) &&
           mc_br_cur_opt_string(r, c, MC_BER_CTX | 0, S_BLOCK, 1,
                                MC_MAX_COUNTED, &rec->block, "RAM block name",
                                errp);
}

/* count pages from offset on: the last one must still have an offset. */
static bool check_run(reader *r, uint64_t offset, uint64_t count, uint64_t off,
                      mc_error **errp)
{
    if ((count - 1) > (UINT64_MAX - offset) / r->info.page_size) {
        return DATA_ERR(r, off, "run of %llu pages from 0x%llx overflows",
                        (unsigned long long)count,
                        (unsigned long long)offset);
    }
    /* A run cannot reach past the RAM the stream announced (or, before
     * any memSize record, past 1 TiB): a few bytes of BER must not stand
     * for an unbounded amount of legacy output. */
    uint64_t limit = r->ram_total ? r->ram_total : UINT64_C(1) << 40;
    if (offset > limit || count > (limit - offset) / r->info.page_size) {
        return DATA_ERR(r, off, "run of %llu pages from 0x%llx goes past the "
                        "%llu bytes of RAM the stream announced",
                        (unsigned long long)count, (unsigned long long)offset,
                        (unsigned long long)limit);
    }
    return true;
}

static bool read_mem_size(reader *r, cur *c, mc_error **errp)
{
    cur list;
    mc_ram_record rec = {.kind = MC_RAM_MEM_SIZE};
    if (!read_page_offset(r, c, &rec.offset, "RAM total", errp) ||
        !mc_br_cur_expect(r, c, MC_BER_SEQ, &list, "RAM blocks", errp) ||
        !mc_br_cur_end(r, c, "mem size", errp)) {
        return false;
    }
    r->ram_total = rec.offset;
    r->mapped_left = rec.offset;
    size_t n = 0;
    while (list.n) {
        uint64_t boff = list.off;
        cur b, s;
        const char *name;
        bool present;
        if (n >= MC_MAX_RAM_BLOCKS) {
            return DATA_ERR(r, boff, "more than %d RAM blocks",
                            MC_MAX_RAM_BLOCKS);
        }
        if (n == r->blocks_cap) {
            r->blocks_cap = r->blocks_cap ? r->blocks_cap * 2 : 16;
            r->blocks = mc_realloc(r->blocks,
                                   r->blocks_cap * sizeof(*r->blocks));
            r->block_names = mc_realloc(r->block_names,
                                        r->blocks_cap *
                                            sizeof(*r->block_names));
        }
        mc_ram_block *blk = &r->blocks[n];
        memset(blk, 0, sizeof(*blk));
        if (!mc_br_cur_expect(r, &list, MC_BER_SEQ, &b, "RAM block", errp) ||
            !mc_br_cur_expect(r, &b, MC_BER_UTF8, &s, "RAM block name", errp) ||
            !mc_br_cur_string(r, &s, S_BLOCK, 1, MC_MAX_COUNTED, &name,
                              "RAM block name", errp) ||
            !mc_br_cur_uint(r, &b, MC_BER_INTEGER, UINT64_MAX,
                            &blk->used_length, "used length", errp) ||
            !mc_br_cur_opt_uint(r, &b, MC_BER_CTX | 0, UINT64_MAX,
                                &blk->has_page_size, &blk->page_size,
                                "block page size", errp) ||
            !mc_br_cur_opt_uint(r, &b, MC_BER_CTX | 1, UINT64_MAX, &present,
                                &blk->addr, "block address", errp) ||
            !mc_br_cur_end(r, &b, "RAM block", errp)) {
            return false;
        }
        blk->has_addr = present;
        strcpy(r->block_names[n], name);
        blk->idstr = r->block_names[n];
        n++;
    }
    rec.blocks = r->blocks;
    rec.n_blocks = n;
    if (n) {
        r->mapped_left = 0;   /* mapped blocks follow only an empty list */
    }
    return mc_visit_ram_record(r->v, &rec, errp);
}

/* Remember a run and where a page continuing it would be. */
static void note_run(reader *r, uint8_t tag, uint64_t offset, uint64_t count,
                     uint8_t fill)
{
    /* the last page's offset fits: checked by check_run */
    uint64_t last = offset + (count - 1) * r->info.page_size;
    r->run_tag = tag;
    r->run_fill = fill;
    r->run_count = count;
    r->run_next_ok = last <= UINT64_MAX - r->info.page_size;
    r->run_next = last + r->info.page_size;
}

/* Would the writer have merged this run into the previous one? */
static bool check_merge(reader *r, uint8_t tag, const mc_ram_record *rec,
                        uint8_t fill, uint64_t off, mc_error **errp)
{
    bool joins = r->run_tag == tag && !rec->block && r->run_next_ok &&
                 rec->offset == r->run_next &&
                 (tag == MC_BER_RAM_ZERO ? fill == r->run_fill
                                    : r->run_count < r->run_max_pages);
    if (joins) {
        return DATA_ERR(r, off, "%s continues the previous one (the runs "
                        "must be merged)",
                        tag == MC_BER_RAM_ZERO ? "zero run" : "page run");
    }
    return true;
}

static bool read_zero_run(reader *r, cur *c, uint64_t off, mc_error **errp)
{
    mc_ram_record rec = {.kind = MC_RAM_ZERO};
    uint64_t count = 1, fill = 0;
    bool present;
    uint64_t coff;
    if (!read_page_prefix(r, c, &rec, errp)) {
        return false;
    }
    coff = c->off;
    if (!mc_br_cur_opt_uint(r, c, MC_BER_CTX | 1, UINT64_MAX, &present, &count,
                      "zero run count", errp)) {
        return false;
    }
    if (present && count < 2) {
        return DATA_ERR(r, coff, "zero run count %llu (%s)",
                        (unsigned long long)count,
                        count ? "the default 1 must be omitted"
                              : "must be at least 1");
    }
    coff = c->off;
    if (!mc_br_cur_opt_uint(r, c, MC_BER_CTX | 2, 255, &present, &fill,
                            "fill byte", errp)) {
        return false;
    }
    if (present && fill == 0) {
        return DATA_ERR(r, coff, "fill byte 0 (the default must be omitted)");
    }
    if (!mc_br_cur_end(r, c, "zero run", errp) ||
        !check_run(r, rec.offset, count, off, errp) ||
        !check_merge(r, MC_BER_RAM_ZERO, &rec, (uint8_t)fill, off, errp)) {
        return false;
    }
    note_run(r, MC_BER_RAM_ZERO, rec.offset, count, (uint8_t)fill);
    rec.fill = (uint8_t)fill;
    uint64_t first = rec.offset;
    for (uint64_t i = 0; i < count; i++) {
        rec.offset = first + i * r->info.page_size;
        if (!mc_visit_ram_record(r->v, &rec, errp)) {
            return false;
        }
        rec.block = NULL;
    }
    return true;
}

static bool read_page_run(reader *r, cur *c, uint64_t off, mc_error **errp)
{
    mc_ram_record rec = {.kind = MC_RAM_PAGE};
    cur data;
    if (!read_page_prefix(r, c, &rec, errp) ||
        !mc_br_cur_expect(r, c, MC_BER_OCTETS, &data, "page data", errp) ||
        !mc_br_cur_end(r, c, "page run", errp)) {
        return false;
    }
    size_t ps = r->info.page_size;
    if (data.n == 0 || data.n % ps) {
        return DATA_ERR(r, data.off, "page data of %zu bytes is not a "
                        "non-zero multiple of the page size %zu", data.n, ps);
    }
    uint64_t count = data.n / ps;
    if (count > r->run_max_pages) {
        return DATA_ERR(r, off, "page run of %llu pages (at most %u)",
                        (unsigned long long)count, r->run_max_pages);
    }
    if (!check_run(r, rec.offset, count, off, errp) ||
        !check_merge(r, MC_BER_RAM_PAGES, &rec, 0, off, errp)) {
        return false;
    }
    note_run(r, MC_BER_RAM_PAGES, rec.offset, count, 0);
    uint64_t first = rec.offset;
    rec.len = ps;
    for (uint64_t i = 0; i < count; i++) {
        rec.offset = first + i * ps;
        rec.data = data.p + i * ps;
        if (!mc_visit_ram_record(r->v, &rec, errp)) {
            return false;
        }
        rec.block = NULL;
    }
    return true;
}

static bool read_xbzrle(reader *r, cur *c, mc_error **errp)
{
    mc_ram_record rec = {.kind = MC_RAM_XBZRLE};
    uint64_t enc = 1;
    bool present;
    cur data;
    if (!read_page_prefix(r, c, &rec, errp)) {
        return false;
    }
    uint64_t eoff = c->off;
    if (!mc_br_cur_opt_uint(r, c, MC_BER_CTX | 1, 255, &present, &enc,
                            "xbzrle encoding", errp)) {
        return false;
    }
    if (present && enc == 1) {
        return DATA_ERR(r, eoff, "xbzrle encoding 1 (the default must be "
                        "omitted)");
    }
    if (!mc_br_cur_expect(r, c, MC_BER_OCTETS, &data, "xbzrle data", errp) ||
        !mc_br_cur_end(r, c, "xbzrle page", errp)) {
        return false;
    }
    if (data.n > UINT16_MAX || data.n > r->info.page_size) {
        return DATA_ERR(r, data.off, "xbzrle data of %zu bytes exceeds the "
                        "page size %u", data.n, r->info.page_size);
    }
    rec.encoding = (uint8_t)enc;
    rec.data = data.p;
    rec.len = data.n;
    return mc_visit_ram_record(r->v, &rec, errp);
}

static bool read_compressed(reader *r, cur *c, mc_error **errp)
{
    mc_ram_record rec = {.kind = MC_RAM_COMPRESS};
    cur data;
    if (!read_page_prefix(r, c, &rec, errp) ||
        !mc_br_cur_expect(r, c, MC_BER_OCTETS, &data, "compressed data",
                          errp) ||
        !mc_br_cur_end(r, c, "compressed page", errp)) {
        return false;
    }
    if (data.n > mc_compress_bound(r->info.page_size)) {
        return DATA_ERR(r, data.off, "compressed page of %zu bytes exceeds "
                        "the bound for a page", data.n);
    }
    rec.data = data.p;
    rec.len = data.n;
    return mc_visit_ram_record(r->v, &rec, errp);
}

/* mapped-ram (core/mapped_ram.h): MappedBlock, MappedBytes, MappedZeros */
static bool read_mapped_block(reader *r, cur *c, uint64_t off,
                              mc_error **errp)
{
    cur b, s;
    const char *name;
    bool present;
    uint64_t v;
    mc_ram_block blk = {0};
    mc_mapped_ram_header h;
    if (r->mapped.end && !mc_mapped_block_complete(&r->mapped)) {
        return DATA_ERR(r, off, "mapped block before the region of block "
                        "'%s' is complete", r->mapped.idstr);
    }
    if (!mc_br_cur_expect(r, c, MC_BER_SEQ, &b, "RAM block", errp) ||
        !mc_br_cur_expect(r, &b, MC_BER_UTF8, &s, "RAM block name", errp) ||
        !mc_br_cur_string(r, &s, S_BLOCK, 1, MC_MAX_COUNTED, &name,
                          "RAM block name", errp) ||
        !mc_br_cur_uint(r, &b, MC_BER_INTEGER, UINT64_MAX, &blk.used_length,
                        "used length", errp) ||
        !mc_br_cur_opt_uint(r, &b, MC_BER_CTX | 0, UINT64_MAX,
                            &blk.has_page_size, &blk.page_size,
                            "block page size", errp) ||
        !mc_br_cur_opt_uint(r, &b, MC_BER_CTX | 1, UINT64_MAX, &present,
                            &blk.addr, "block address", errp) ||
        !mc_br_cur_end(r, &b, "RAM block", errp) ||
        !mc_br_cur_uint(r, c, MC_BER_INTEGER, UINT32_MAX, &v,
                        "mapped-ram version", errp)) {
        return false;
    }
    blk.has_addr = present;
    blk.idstr = name;
    h.version = (uint32_t)v;
    if (!mc_br_cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &h.page_size,
                  "mapped-ram page size", errp) ||
        !mc_br_cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &h.bitmap_offset,
                  "bitmap offset", errp) ||
        !mc_br_cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &h.pages_offset,
                  "pages offset", errp) ||
        !mc_br_cur_end(r, c, "mapped block", errp)) {
        return false;
    }
    if (blk.used_length > r->mapped_left) {
        return DATA_ERR(r, off, "mapped block '%s' of %llu bytes exceeds the "
                        "%llu bytes left of the memSize total", name,
                        (unsigned long long)blk.used_length,
                        (unsigned long long)r->mapped_left);
    }
    /* Where the header ends in the legacy file is not known here: the
     * first region piece says (at or before the bitmap). */
    if (!mc_mapped_block_begin(&r->mapped, name, blk.used_length, &h, 0,
                               r->info.page_size, UINT64_MAX, r->path,
                               errp)) {
        return false;
    }
    r->mapped_first = true;
    r->mapped_left -= blk.used_length;
    mc_ram_record rec = {
        .kind = MC_RAM_MAPPED_BLOCK, .blocks = &blk, .n_blocks = 1,
        .mapped_hdr = &h, .mapped = &r->mapped,
    };
    return mc_visit_ram_record(r->v, &rec, errp);
}

static bool read_mapped_piece(reader *r, cur *c, uint8_t tag, uint64_t off,
                              mc_error **errp)
{
    mc_ram_record rec = {.kind = tag == MC_BER_RAM_MAPPED_BYTES
                                     ? MC_RAM_MAPPED_BYTES
                                     : MC_RAM_MAPPED_ZEROS};
    uint64_t len;
    cur data = {0};
    if (!r->mapped.end) {
        return DATA_ERR(r, off, "mapped-ram region bytes outside a mapped "
                        "block");
    }
    if (!mc_br_cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &rec.offset,
                  "file offset", errp)) {
        return false;
    }
    if (rec.kind == MC_RAM_MAPPED_BYTES) {
        if (!mc_br_cur_expect(r, c, MC_BER_OCTETS, &data, "region bytes",
                              errp)) {
            return false;
        }
        len = data.n;
    } else if (!mc_br_cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &len,
                         "zero bytes", errp)) {
        return false;
    }
    if (!mc_br_cur_end(r, c, "mapped region piece", errp)) {
        return false;
    }
    if (len == 0) {
        return DATA_ERR(r, off, "empty mapped-ram region piece");
    }
    if (r->mapped_first) {
        if (rec.offset > r->mapped.hdr.bitmap_offset) {
            return DATA_ERR(r, off, "the region of mapped block '%s' starts "
                            "at file offset 0x%llx, after its bitmap",
                            r->mapped.idstr,
                            (unsigned long long)rec.offset);
        }
        if (rec.offset >= r->mapped.start) {
            r->mapped.start = r->mapped.pos = rec.offset;
        }
        r->mapped_first = false;
    }
    if (!mc_mapped_block_feed(&r->mapped, rec.offset, data.p, len, off,
                              r->path, errp)) {
        return false;
    }
    rec.data = data.p;
    rec.len = (size_t)len;
    rec.mapped = &r->mapped;
    bool done = mc_mapped_block_complete(&r->mapped);
    bool ok = mc_visit_ram_record(r->v, &rec, errp);
    if (done) {
        mc_mapped_block_clear(&r->mapped);
    }
    return ok;
}

/* One RamRecord at the read position. */
static bool read_ram_record(reader *r, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    tl t;
    const uint8_t *p;
    size_t total;
    if (!mc_br_src_tl(r, &t, errp)) {
        return false;
    }
    if (t.indef) {
        return DATA_ERR(r, off, "RAM record with indefinite length");
    }
    if (!mc_br_take_record(r, &t, &p, &total, errp) ||
        (r->validate &&
         !mc_br_schema_check(r, "MigConv.RamRecord", p, total, off, errp))) {
        return false;
    }
    cur c = {p + t.hl, total - t.hl, off + t.hl};
    if (t.tag != MC_BER_RAM_ZERO && t.tag != MC_BER_RAM_PAGES) {
        r->run_tag = 0;
    }
    if (r->mapped.end && t.tag != MC_BER_RAM_MAPPED_BYTES &&
        t.tag != MC_BER_RAM_MAPPED_ZEROS) {
        return DATA_ERR(r, off, "the region of mapped block '%s' ends at "
                        "file offset 0x%llx before 0x%llx", r->mapped.idstr,
                        (unsigned long long)r->mapped.pos,
                        (unsigned long long)r->mapped.end);
    }
    switch (t.tag) {
    case MC_BER_RAM_MAPPED_BLOCK:
        return read_mapped_block(r, &c, off, errp);
    case MC_BER_RAM_MAPPED_BYTES:
    case MC_BER_RAM_MAPPED_ZEROS:
        return read_mapped_piece(r, &c, t.tag, off, errp);
    case MC_BER_RAM_MEMSIZE:
        return read_mem_size(r, &c, errp);
    case MC_BER_RAM_ZERO:
        return read_zero_run(r, &c, off, errp);
    case MC_BER_RAM_PAGES:
        return read_page_run(r, &c, off, errp);
    case MC_BER_RAM_XBZRLE:
        return read_xbzrle(r, &c, errp);
    case MC_BER_RAM_COMPRESSED:
        return read_compressed(r, &c, errp);
    case MC_BER_RAM_EOS:
    case MC_BER_RAM_FLUSH: {
        if (c.n) {
            return DATA_ERR(r, off, "NULL with content");
        }
        mc_ram_record rec = {.kind = t.tag == MC_BER_RAM_EOS ? MC_RAM_EOS
                                                        : MC_RAM_MULTIFD_FLUSH};
        return mc_visit_ram_record(r->v, &rec, errp);
    }
    default:
        return DATA_ERR(r, off, "unknown RAM record tag 0x%02x", t.tag);
    }
}

/*
 * A RamSection: definite (records definite too, walked up to the end) or
 * indefinite (records indefinite, closed by end-of-contents).
 */
bool mc_br_read_ram_section(reader *r, const tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    uint64_t end = UINT64_MAX;
    if (!t->indef) {
        if (t->len > MC_SRC_MAX_REQUEST - t->hl) {
            return DATA_ERR(r, off, "definite-length RAM section of %llu "
                            "bytes exceeds the limit of %u bytes",
                            (unsigned long long)t->len, MC_SRC_MAX_REQUEST);
        }
        if (r->validate &&
            (!mc_src_peek(r->src, t->hl + (size_t)t->len, &p, errp) ||
             !mc_br_schema_check(r, "MigConv.ItemL", p, t->hl + (size_t)t->len,
                                 off, errp))) {
            return false;
        }
        end = off + t->hl + t->len;
    }
    if (!mc_src_skip(r->src, t->hl, errp)) {
        return false;
    }

    /* SectionHeader */
    uint64_t hoff = mc_src_offset(r->src);
    tl h;
    size_t total;
    if (!mc_br_src_tl(r, &h, errp)) {
        return false;
    }
    if (h.tag != MC_BER_SEQ) {
        return DATA_ERR(r, hoff, "expected section header (tag 0x30), found "
                        "tag 0x%02x", h.tag);
    }
    if (!h.indef && (h.len > MAX_SECTION_HEADER ||
                     h.hl + h.len > end - hoff)) {
        return DATA_ERR(r, hoff, "section header of %llu bytes does not fit",
                        (unsigned long long)h.len);
    }
    if (!mc_br_take_record(r, &h, &p, &total, errp)) {
        return false;
    }
    cur hc = {p, total, hoff};
    mc_section_info info;
    if (!mc_br_read_section_header(r, &hc, true, &info, errp)) {
        return false;
    }
    size_t old = mc_br_push_section_path(r, &info);
    if (info.type == MC_VM_SECTION_START || info.type == MC_VM_SECTION_FULL) {
        mc_br_id_put(r, info.section_id, info.idstr);
    }
    if (!mc_visit_start_section(r->v, &info, errp)) {
        return false;
    }

    /* records */
    uint64_t roff = mc_src_offset(r->src);
    tl rl;
    if (!mc_br_src_tl(r, &rl, errp)) {
        return false;
    }
    if (rl.tag != MC_BER_SEQ) {
        return DATA_ERR(r, roff, "expected RAM records (tag 0x30), found tag "
                        "0x%02x", rl.tag);
    }
    if (rl.indef != t->indef) {
        return DATA_ERR(r, roff, "RAM records must use the length form of "
                        "their section (%s)",
                        t->indef ? "indefinite" : "definite");
    }
    if (!t->indef && rl.hl + rl.len > end - roff) {
        return DATA_ERR(r, roff, "RAM records run past their section");
    }
    if (!t->indef && rl.len > MC_BER_RAM_DEFINITE_MAX) {
        return DATA_ERR(r, roff, "definite-length RAM records of %llu bytes "
                        "(above %u bytes they have indefinite length)",
                        (unsigned long long)rl.len, MC_BER_RAM_DEFINITE_MAX);
    }
    r->run_tag = 0;
    uint64_t rend = t->indef ? UINT64_MAX : roff + rl.hl + rl.len;
    if (!mc_src_skip(r->src, rl.hl, errp)) {
        return false;
    }
    uint64_t rbytes = 0;
    for (uint64_t i = 0;; i++) {
        uint64_t here = mc_src_offset(r->src);
        size_t rold = path_add(r, "/records[", NULL, 0, true, i, "]");
        if (t->indef) {
            bool eoc;
            if (!mc_br_at_eoc(r, &eoc, errp)) {
                return false;
            }
            if (eoc) {
                path_pop(r, rold);
                if (!mc_src_skip(r->src, 2, errp)) {
                    return false;
                }
                break;
            }
        } else if (here == rend) {
            path_pop(r, rold);
            break;
        }
        if (!t->indef) {
            tl rt;
            if (!mc_br_src_tl(r, &rt, errp)) {
                return false;
            }
            if (!rt.indef && rt.hl + rt.len > rend - here) {
                return DATA_ERR(r, here, "RAM record runs past the records");
            }
        }
        if (!read_ram_record(r, errp)) {
            return false;
        }
        path_pop(r, rold);
        rbytes += mc_src_offset(r->src) - here;
    }
    if (r->mapped.end) {
        return DATA_ERR(r, mc_src_offset(r->src), "the RAM section ends "
                        "inside the region of mapped block '%s' (at file "
                        "offset 0x%llx of 0x%llx)", r->mapped.idstr,
                        (unsigned long long)r->mapped.pos,
                        (unsigned long long)r->mapped.end);
    }
    if (t->indef && rbytes <= MC_BER_RAM_DEFINITE_MAX) {
        return DATA_ERR(r, roff, "indefinite-length RAM records of only %llu "
                        "bytes (up to %u bytes they have definite length)",
                        (unsigned long long)rbytes, MC_BER_RAM_DEFINITE_MAX);
    }

    /* footer and end */
    bool footer = false;
    uint64_t foff = mc_src_offset(r->src);
    if (t->indef || foff < end) {
        if (!mc_src_peek(r->src, 2, &p, errp)) {
            return false;
        }
        if (p[0] == (MC_BER_CTX | 0)) {
            if (p[1] != 0) {
                return DATA_ERR(r, foff, "footer NULL with content");
            }
            if (!mc_src_skip(r->src, 2, errp)) {
                return false;
            }
            footer = true;
        }
    }
    if (t->indef) {
        if (!mc_br_expect_eoc(r, "the RAM section", errp)) {
            return false;
        }
    } else if (mc_src_offset(r->src) != end) {
        return DATA_ERR(r, mc_src_offset(r->src),
                        "unexpected data at the end of the RAM section");
    }
    if (!mc_visit_end_section(r->v, footer, errp)) {
        return false;
    }
    path_pop(r, old);
    return true;
}
