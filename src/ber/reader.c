/*
 * The BER reader: walks a migconv BER stream (asn1/migconv.asn) and drives
 * a visitor with the same calls the legacy reader makes for the legacy
 * stream it encodes.
 *
 * The stream is never held whole.  The indefinite-length containers
 * (Stream, items, Packaged, a large RamSection and its records) are
 * followed by position in the source; every DER record inside them (a
 * section, a RAM record, a command, the vmdesc ...) is taken contiguously
 * after its length has been checked against MC_SRC_MAX_REQUEST, then
 * parsed in memory by a small hand-written TLV parser.  The parser accepts
 * only the encoding the format defines: the tags of the schema, minimal
 * definite lengths and minimal INTEGERs inside DER records, DEFAULT values
 * omitted, BOOLEANs 00/ff, values within their wire type's range.  It also
 * accepts only the one encoding the BER writer (ber/writer.c) makes
 * for a stream, so BER -> BER is byte for byte: no names or types in a
 * stream without names, no type that repeats the wire type, RAM runs
 * merged as far as the writer merges them, and a RAM section definite
 * exactly when its records fit the writer's buffer.
 *
 * With opts->validate every definite item and every RAM record is also
 * decoded with libtasn1 against the compiled schema before it is used.
 *
 * This file holds the stream and its items; the DER cursor, section ids,
 * values and RAM have files of their own (ber/reader_impl.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/ber.h"
#include "core/path.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor.h"
#include "desc/desc.h"
#include "ber/reader_impl.h"
#include "format/readers.h"

/* ---- sections ---- */

/* SectionHeader; ram: of a RamSection.  Strings point to scratch. */
bool mc_br_read_section_header(reader *r, cur *c, bool ram,
                               mc_section_info *info, mc_error **errp)
{
    cur h;
    uint64_t off = c->off;
    uint64_t type, v;
    memset(info, 0, sizeof(*info));
    if (!mc_br_cur_expect(r, c, MC_BER_SEQ, &h, "section header", errp) ||
        !mc_br_cur_uint(r, &h, MC_BER_INTEGER, 255, &type, "section type",
                        errp)) {
        return false;
    }
    switch (type) {
    case MC_VM_SECTION_START:
    case MC_VM_SECTION_PART:
    case MC_VM_SECTION_END:
    case MC_VM_SECTION_FULL:
        break;
    case MC_VM_CONFIGURATION:
        if (!ram) {
            break;
        }
        /* fall through */
    default:
        return DATA_ERR(r, off, "invalid section type %llu for a%s section",
                        (unsigned long long)type, ram ? " RAM" : "");
    }
    info->type = (uint8_t)type;
    info->kind = ram ? MC_SECTION_RAM
                     : type == MC_VM_CONFIGURATION ? MC_SECTION_CONFIG
                                                   : MC_SECTION_VMSTATE;
    if (type == MC_VM_CONFIGURATION) {
        info->idstr = "configuration";
    } else {
        if (!mc_br_cur_uint(r, &h, MC_BER_CTX | 0, UINT32_MAX, &v, "section id",
                            errp)) {
            return false;
        }
        info->section_id = (uint32_t)v;
    }
    if (type == MC_VM_SECTION_START || type == MC_VM_SECTION_FULL) {
        cur s;
        if (!mc_br_cur_expect(r, &h, MC_BER_CTX | 1, &s, "section idstr",
                              errp) ||
            !mc_br_cur_string(r, &s, S_IDSTR, 1, MC_MAX_COUNTED, &info->idstr,
                              "section idstr", errp) ||
            !mc_br_cur_uint(r, &h, MC_BER_CTX | 2, UINT32_MAX, &v,
                            "instance id", errp)) {
            return false;
        }
        info->instance_id = (uint32_t)v;
        if (!mc_br_cur_uint(r, &h, MC_BER_CTX | 3, UINT32_MAX, &v, "version id",
                            errp)) {
            return false;
        }
        info->version_id = (uint32_t)v;
    } else if (type != MC_VM_CONFIGURATION) {
        info->idstr = mc_br_id_lookup(r, info->section_id);
    }
    uint64_t voff = h.off;
    if (!mc_br_cur_opt_string(r, &h, MC_BER_CTX | 4, S_VMSD, 0, SIZE_MAX,
                        &info->vmsd_name, "vmsd name", errp)) {
        return false;
    }
    if (info->vmsd_name && !r->info.names) {
        return DATA_ERR(r, voff, "vmsd name in a stream written without "
                        "names");
    }
    return mc_br_cur_end(r, &h, "section header", errp);
}

/* "KIND IDSTR (id N)" in place of "items[I]", as the legacy reader names
 * the same section (core/path.h). */
size_t mc_br_push_section_path(reader *r, const mc_section_info *info)
{
    path_pop(r, r->item_path);
    return mc_path_push_section(r->path, sizeof(r->path), info->type,
                                info->idstr, info->section_id);
}

size_t mc_br_push_item_kind(reader *r, const char *kind)
{
    path_pop(r, r->item_path);
    return path_add(r, r->item_path ? "/" : "", kind, 32, false, 0, "");
}

/* Name a section before its record is taken whole, from its header if
 * that much of it is at hand: a section cut short is then named like the
 * legacy reader names it, not only by its item number. */
static void name_section_early(reader *r, const tl *t)
{
    if (t->indef) {
        return;
    }
    size_t n = t->len > MAX_SECTION_HEADER + 16 ? t->hl + MAX_SECTION_HEADER + 16
                                                : t->hl + (size_t)t->len;
    const uint8_t *p;
    mc_error *ignored = NULL;
    if (!mc_src_peek(r->src, n, &p, &ignored)) {
        mc_error_free(ignored);
        ignored = NULL;
        n = mc_src_buffered(r->src);
        if (n <= t->hl || !mc_src_peek(r->src, n, &p, &ignored)) {
            mc_error_free(ignored);
            return;
        }
    }
    cur c = {p + t->hl, n - t->hl, mc_src_offset(r->src) + t->hl};
    mc_section_info info;
    if (mc_br_read_section_header(r, &c, false, &info, &ignored)) {
        mc_br_push_section_path(r, &info);
    }
    mc_error_free(ignored);
}

/* A configuration or device section (one DER record). */
static bool read_section(reader *r, const tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    size_t total;
    name_section_early(r, t);
    if (!mc_br_take_item(r, t, &p, &total, errp)) {
        return false;
    }
    cur c = {p + t->hl, total - t->hl, off + t->hl};
    cur body;
    mc_section_info info;
    if (!mc_br_read_section_header(r, &c, false, &info, errp)) {
        return false;
    }
    size_t old = mc_br_push_section_path(r, &info);
    if (info.type == MC_VM_SECTION_START || info.type == MC_VM_SECTION_FULL) {
        mc_br_id_put(r, info.section_id, info.idstr);
    }
    if (!mc_br_cur_expect(r, &c, MC_BER_SEQ, &body, "section body", errp)) {
        return false;
    }
    bool footer = false;
    if (mc_br_cur_peek(&c) == (MC_BER_CTX | 0)) {
        cur fv;
        uint64_t foff = c.off;
        if (!mc_br_cur_expect(r, &c, MC_BER_CTX | 0, &fv, "footer", errp)) {
            return false;
        }
        if (fv.n) {
            return DATA_ERR(r, foff, "footer NULL with content");
        }
        footer = true;
    }
    if (!mc_br_cur_end(r, &c, "section", errp)) {
        return false;
    }
    if (!mc_visit_start_section(r->v, &info, errp) ||
        !mc_br_read_body(r, &body, errp) ||
        !mc_visit_end_section(r->v, footer, errp)) {
        return false;
    }
    path_pop(r, old);
    return true;
}

/* ---- other items ---- */

static bool read_command(reader *r, const tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    size_t total;
    uint64_t cmd;
    cur data;
    mc_br_push_item_kind(r, "command");
    if (!mc_br_take_item(r, t, &p, &total, errp)) {
        return false;
    }
    cur c = {p + t->hl, total - t->hl, off + t->hl};
    if (!mc_br_cur_uint(r, &c, MC_BER_INTEGER, UINT16_MAX, &cmd, "command",
                        errp) ||
        !mc_br_cur_expect(r, &c, MC_BER_OCTETS, &data, "command data", errp) ||
        !mc_br_cur_end(r, &c, "command", errp)) {
        return false;
    }
    if (cmd == MC_MIG_CMD_PACKAGED) {
        return DATA_ERR(r, off, "PACKAGED must be a packaged item, not a "
                        "command");
    }
    if (data.n > UINT16_MAX) {
        return DATA_ERR(r, data.off, "command data of %zu bytes (at most "
                        "65535)", data.n);
    }
    return mc_visit_command(r->v, (uint16_t)cmd, data.p, (uint16_t)data.n,
                            errp);
}

static bool read_items(reader *r, mc_error **errp);

static bool read_packaged(reader *r, const tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    mc_br_push_item_kind(r, "package");
    if (!t->indef) {
        return DATA_ERR(r, off, "packaged must use indefinite length");
    }
    if (!mc_src_skip(r->src, t->hl, errp)) {
        return false;
    }
    uint64_t loff = mc_src_offset(r->src);
    tl lt;
    const uint8_t *p;
    size_t total;
    uint64_t len;
    if (!mc_br_src_tl(r, &lt, errp)) {
        return false;
    }
    if (lt.tag != MC_BER_INTEGER || lt.indef || lt.len > 9) {
        return DATA_ERR(r, loff, "expected the package length (a small "
                        "INTEGER), found tag 0x%02x", lt.tag);
    }
    if (!mc_br_take_record(r, &lt, &p, &total, errp)) {
        return false;
    }
    cur c = {p, total, loff};
    if (!mc_br_cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &len,
                        "package length", errp)) {
        return false;
    }
    uint64_t ioff = mc_src_offset(r->src);
    tl it;
    if (!mc_br_src_tl(r, &it, errp)) {
        return false;
    }
    if (it.tag != MC_BER_SEQ || !it.indef) {
        return DATA_ERR(r, ioff, "expected the package items (30 80)");
    }
    if (!mc_src_skip(r->src, it.hl, errp) || !mc_br_depth_enter(r, off, errp) ||
        !mc_visit_start_packaged(r->v, (uint32_t)len, errp) ||
        !read_items(r, errp) ||
        !mc_br_expect_eoc(r, "the package", errp) ||
        !mc_visit_end_packaged(r->v, errp)) {
        return false;
    }
    r->depth--;
    return true;
}

static bool read_eof(reader *r, const tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    size_t total;
    /* eof [APPLICATION 5] INTEGER: always 0, the QEMU_VM_EOF byte */
    mc_br_push_item_kind(r, "eof");
    if (t->indef || t->len != 1) {
        return DATA_ERR(r, off, "eof must be the INTEGER 0");
    }
    if (!mc_br_take_item(r, t, &p, &total, errp)) {
        return false;
    }
    if (p[t->hl] != 0) {
        return DATA_ERR(r, off, "eof must be the INTEGER 0");
    }
    return mc_visit_eof(r->v, errp);
}

static size_t vmdesc_limit(const reader *r)
{
    return r->vmdesc_limit;
}

static bool read_vmdesc(reader *r, const tl *t, mc_error **errp)
{
    const uint8_t *p;
    size_t total;
    mc_br_push_item_kind(r, "vmdesc");
    if (!t->indef && t->len > vmdesc_limit(r)) {
        return DATA_ERR(r, mc_src_offset(r->src), "vmdesc of %llu bytes "
                        "exceeds the limit of %zu bytes (raise it with "
                        "--vmdesc-limit)", (unsigned long long)t->len,
                        vmdesc_limit(r));
    }
    if (!mc_br_take_item(r, t, &p, &total, errp)) {
        return false;
    }
    return mc_visit_vmdesc(r->v, p + t->hl, total - t->hl, errp);
}

/* vmdescDeflated {length INTEGER, zlib OCTET STRING}: inflated into a
 * buffer of exactly the announced length (bounded like any record). */
static bool read_vmdesc_deflated(reader *r, const tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    size_t total;
    mc_br_push_item_kind(r, "vmdesc");
    if (!mc_br_take_item(r, t, &p, &total, errp)) {
        return false;
    }
    cur c = {p + t->hl, total - t->hl, off + t->hl}, z;
    uint64_t len;
    if (!mc_br_cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &len,
                        "vmdesc length", errp) ||
        !mc_br_cur_expect(r, &c, MC_BER_OCTETS, &z, "deflated vmdesc", errp) ||
        !mc_br_cur_end(r, &c, "deflated vmdesc", errp)) {
        return false;
    }
    if (len > vmdesc_limit(r)) {
        return DATA_ERR(r, off, "vmdesc of %llu bytes exceeds the limit of "
                        "%zu bytes (raise it with --vmdesc-limit)",
                        (unsigned long long)len, vmdesc_limit(r));
    }
    /* deflate expands at most 1032:1, so a small record cannot make the
     * reader allocate much */
    if (len > MC_SRC_MAX_REQUEST || len > (uint64_t)z.n * 1032 + 64) {
        return DATA_ERR(r, off, "vmdesc of %llu bytes from %zu deflated "
                        "bytes is not plausible", (unsigned long long)len,
                        z.n);
    }
    uint8_t *json = mc_malloc(len ? (size_t)len : 1);
    uLongf got = (uLongf)len;
    int zr = uncompress(json, &got, z.p, (uLong)z.n);
    bool ok;
    if (zr != Z_OK || got != len) {
        ok = DATA_ERR(r, z.off, "deflated vmdesc does not inflate to %llu "
                      "bytes (zlib: %s)", (unsigned long long)len,
                      zr == Z_OK ? "length mismatch" : zError(zr));
    } else {
        ok = mc_visit_vmdesc(r->v, json, (size_t)len, errp);
    }
    free(json);
    return ok;
}

/* Items up to and including the end-of-contents of their SEQUENCE. */
static bool read_items(reader *r, mc_error **errp)
{
    size_t base = strlen(r->path);
    for (uint64_t i = 0;; i++) {
        /* the item's number until its kind is read (core/path.h) */
        size_t old = path_add(r, base ? "/items[" : "items[", NULL, 0, true,
                              i, "]");
        r->item_path = old;
        bool eoc;
        if (!mc_br_at_eoc(r, &eoc, errp)) {
            return false;
        }
        bool top = r->depth == 0;
        if (eoc) {
            /* A legacy stream always ends with QEMU_VM_EOF. */
            if (top && !r->seen_eof) {
                return DATA_ERR(r, mc_src_offset(r->src),
                                "the stream has no eof item");
            }
            path_pop(r, old);
            return mc_src_skip(r->src, 2, errp);
        }
        uint64_t off = mc_src_offset(r->src);
        tl t;
        bool ok;
        if (!mc_br_src_tl(r, &t, errp)) {
            return false;
        }
        /* At the top level only the vmdesc may follow eof, once; it may
         * appear nowhere else. */
        bool is_vmdesc = t.tag == MC_BER_VMDESC ||
                         t.tag == MC_BER_VMDESC_DEFLATED;
        if (top && r->seen_eof && (!is_vmdesc || r->seen_vmdesc)) {
            return DATA_ERR(r, off, "item after the end of the stream");
        }
        if (is_vmdesc && (!top || !r->seen_eof)) {
            return DATA_ERR(r, off, "vmdesc before the eof item");
        }
        if (top && t.tag == MC_BER_EOF) {
            r->seen_eof = true;
        }
        if (top && is_vmdesc) {
            r->seen_vmdesc = true;
        }
        switch (t.tag) {
        case MC_BER_SECTION:
            ok = read_section(r, &t, errp);
            break;
        case MC_BER_RAMSECTION:
            ok = mc_br_read_ram_section(r, &t, errp);
            break;
        case MC_BER_COMMAND:
            ok = read_command(r, &t, errp);
            break;
        case MC_BER_PACKAGED:
            ok = read_packaged(r, &t, errp);
            break;
        case MC_BER_EOF:
            ok = read_eof(r, &t, errp);
            break;
        case MC_BER_VMDESC:
            ok = read_vmdesc(r, &t, errp);
            break;
        case MC_BER_VMDESC_DEFLATED:
            ok = read_vmdesc_deflated(r, &t, errp);
            break;
        default:
            return DATA_ERR(r, off, "unknown item tag 0x%02x", t.tag);
        }
        if (!ok) {
            return false;
        }
        path_pop(r, old);
    }
}

/* ---- the stream ---- */

static bool read_stream_header(reader *r, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    tl t;
    const uint8_t *p;
    size_t total;
    uint64_t v;
    size_t old = path_push(r, "header");
    if (!mc_br_src_tl(r, &t, errp)) {
        return false;
    }
    if (t.tag != MC_BER_SEQ || t.indef || t.len > MAX_STREAM_HEADER) {
        return DATA_ERR(r, off, "expected the stream header (a short "
                        "definite SEQUENCE), found tag 0x%02x", t.tag);
    }
    if (!mc_br_take_record(r, &t, &p, &total, errp) ||
        (r->validate &&
         !mc_br_schema_check(r, "MigConv.StreamHeader", p, total, off, errp))) {
        return false;
    }
    cur c = {p + t.hl, total - t.hl, off + t.hl};
    uint64_t voff = c.off;
    if (!mc_br_cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &v, "format version",
                        errp)) {
        return false;
    }
    if (v != 1) {
        return DATA_ERR(r, voff, "unsupported format version %llu (only 1 is "
                        "supported)", (unsigned long long)v);
    }
    voff = c.off;
    if (!mc_br_cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &v, "magic", errp)) {
        return false;
    }
    if (v != MC_VM_FILE_MAGIC) {
        return DATA_ERR(r, voff, "magic 0x%08llx is not QEVM",
                        (unsigned long long)v);
    }
    r->info.magic = (uint32_t)v;
    voff = c.off;
    if (!mc_br_cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &v, "file version",
                        errp)) {
        return false;
    }
    if (v != MC_VM_FILE_VERSION) {
        return DATA_ERR(r, voff, "unsupported stream version %llu (only %u "
                        "is supported)", (unsigned long long)v,
                        MC_VM_FILE_VERSION);
    }
    r->info.version = (uint32_t)v;
    voff = c.off;
    if (!mc_br_cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &v, "page size",
                        errp)) {
        return false;
    }
    if (v < MIN_PAGE_SIZE || v > MAX_PAGE_SIZE || (v & (v - 1))) {
        return DATA_ERR(r, voff, "page size %llu is not a power of two "
                        "from %u to %u", (unsigned long long)v, MIN_PAGE_SIZE,
                        MAX_PAGE_SIZE);
    }
    r->info.page_size = (uint32_t)v;
    r->run_max_pages = mc_ber_run_max_pages(r->info.page_size);
    if (!mc_br_cur_uint(r, &c, MC_BER_ENUM, 1, &v, "page size source", errp)) {
        return false;
    }
    /* Pass the source through: a BER stream re-encodes to the same header. */
    r->info.page_size_source =
        v ? MC_PAGE_SIZE_CONFIGURATION : MC_PAGE_SIZE_DEFAULT;
    cur b;
    if (!mc_br_cur_expect(r, &c, MC_BER_BOOLEAN, &b, "names flag", errp)) {
        return false;
    }
    if (b.n != 1 || (b.p[0] != 0x00 && b.p[0] != 0xff)) {
        return DATA_ERR(r, b.off, "BOOLEAN must be one byte 00 or ff");
    }
    r->info.names = b.p[0] != 0;
    if (!mc_br_cur_end(r, &c, "stream header", errp)) {
        return false;
    }
    path_pop(r, old);
    return true;
}

static bool read_stream(reader *r, mc_error **errp)
{
    const uint8_t *p;
    if (!mc_src_peek(r->src, 2, &p, errp)) {
        return false;
    }
    if (p[0] != MC_BER_STREAM || p[1] != 0x80) {
        return DATA_ERR(r, mc_src_offset(r->src),
                        "not a migconv BER stream (expected 60 80, found "
                        "%02x %02x)", p[0], p[1]);
    }
    if (!mc_src_skip(r->src, 2, errp) || !read_stream_header(r, errp)) {
        return false;
    }
    uint64_t off = mc_src_offset(r->src);
    if (!mc_src_peek(r->src, 2, &p, errp)) {
        return false;
    }
    if (p[0] != MC_BER_SEQ || p[1] != 0x80) {
        return DATA_ERR(r, off, "expected the stream items (30 80), found "
                        "%02x %02x", p[0], p[1]);
    }
    if (!mc_src_skip(r->src, 2, errp) ||
        !mc_visit_start_stream(r->v, &r->info, errp) ||
        !read_items(r, errp) ||
        !mc_br_expect_eoc(r, "the stream", errp)) {
        return false;
    }
    bool at_end;
    if (!mc_src_at_end(r->src, &at_end, errp)) {
        return false;
    }
    if (!at_end && !r->keep_trailer) {
        return DATA_ERR(r, mc_src_offset(r->src),
                        "trailing data after the end of the stream");
    }
    return mc_visit_end_stream(r->v, errp);
}

bool mc_ber_read(mc_src *src, mc_visitor *v, const mc_read_opts *opts,
                 mc_error **errp)
{
    reader *r = mc_calloc(1, sizeof(*r));
    r->src = src;
    r->v = v;
    r->validate = opts && opts->validate;
    r->vmdesc_limit = opts && opts->vmdesc_limit ? opts->vmdesc_limit
                                                 : MC_DEFAULT_VMDESC_LIMIT;
    r->keep_trailer = opts && opts->keep_trailer;
    const char *saved_path = mc_src_set_path(src, r->path);

    bool ok = read_stream(r, errp);

    mc_src_set_path(src, saved_path);
    for (size_t i = 0; i < r->ids_cap; i++) {
        free(r->ids[i].idstr);
    }
    free(r->ids);
    for (int i = 0; i < S__COUNT; i++) {
        free(r->str[i]);
    }
    free(r->blocks);
    free(r->block_names);
    mc_mapped_block_clear(&r->mapped);
    free(r);
    return ok;
}
