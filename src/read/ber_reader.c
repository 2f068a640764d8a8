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
 * accepts only the one encoding the BER writer (visit/ber_writer.c) makes
 * for a stream, so BER -> BER is byte for byte: no names or types in a
 * stream without names, no type that repeats the wire type, RAM runs
 * merged as far as the writer merges them, and a RAM section definite
 * exactly when its records fit the writer's buffer.
 *
 * With opts->validate every definite item and every RAM record is also
 * decoded with libtasn1 against the compiled schema before it is used.
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
#include "read/readers.h"

/* Nesting of packages, structs, arrays and subsections. */
#define MAX_DEPTH 64
/* Same cap as the legacy reader. */
/* Legacy counted strings (idstr, block and subsection names). */
/* The StreamHeader is a handful of small INTEGERs. */
#define MAX_STREAM_HEADER 64
/* A RAM section header: a few INTEGERs, the idstr and the vmsd name. */
#define MAX_SECTION_HEADER 4096
/* RAM record flags use the low 10 bits of an offset (up to
 * RAM_SAVE_FLAG_MULTIFD_FLUSH 0x200), so pages are at least 1 KiB
 * (QEMU's TARGET_PAGE_BITS_MIN); the legacy reader's cap is 2^30. */
#define MIN_PAGE_SIZE (1u << 10)
#define MAX_PAGE_SIZE (1u << 30)
/* The writer's choices the reader insists on are in core/ber.h. */


/* section id -> idstr of its START/FULL (for PART/END) */
typedef struct id_slot {
    uint32_t id;
    char *idstr;            /* NULL: free slot */
} id_slot;

/* Scratch strings, NUL-terminated copies of UTF8Strings. */
enum { S_NAME, S_TYPE, S_IDSTR, S_VMSD, S_BLOCK, S__COUNT };

typedef struct reader {
    mc_src *src;
    mc_visitor *v;
    bool validate;
    size_t vmdesc_limit;    /* opts->vmdesc_limit or the default */
    bool keep_trailer;
    mc_stream_info info;
    char path[1024];
    unsigned depth;

    id_slot *ids;
    size_t ids_cap, ids_used;

    char *str[S__COUNT];
    size_t str_cap[S__COUNT];

    mc_ram_block *blocks;
    char (*block_names)[MC_MAX_COUNTED + 1];
    size_t blocks_cap;

    /* The previous RAM record, if it was a run (for canonical merging). */
    uint8_t run_tag;        /* MC_BER_RAM_ZERO, MC_BER_RAM_PAGES or 0 */
    uint8_t run_fill;
    uint64_t run_count;
    uint64_t ram_total;     /* from the last memSize record, 0 if none */
    bool seen_eof;          /* top level: the eof item was read */
    bool seen_vmdesc;       /* top level: the vmdesc item was read */
    uint64_t run_next;      /* offset a continuing page would have */
    bool run_next_ok;
    uint32_t run_max_pages;
    /* mapped-ram: the block whose region is being read (mapped.end != 0),
     * and the RAM of the last memSize not yet given to mappedBlocks */
    mc_mapped_block mapped;
    bool mapped_first;      /* no piece of its region read yet */
    uint64_t mapped_left;
} reader;

/* A window of a record in memory; off is the input offset of p[0]. */
typedef struct cur {
    const uint8_t *p;
    size_t n;
    uint64_t off;
} cur;

/* ---- paths and errors ---- */

#define path_push(r, ...) mc_path_push((r)->path, sizeof((r)->path), __VA_ARGS__)
#define path_add(r, ...) mc_path_add((r)->path, sizeof((r)->path), __VA_ARGS__)
#define path_pop(r, old) mc_path_pop((r)->path, (old))

#define DATA_ERR(r, off, ...) \
    (mc_error_data(errp, (off), (r)->path, __VA_ARGS__), false)

/* ---- TLV headers ---- */

typedef struct tl {
    uint8_t tag;
    bool indef;
    size_t hl;              /* identifier + length octets */
    uint64_t len;           /* content length (0 when indefinite) */
} tl;

enum { TL_OK, TL_SHORT, TL_BAD };

/*
 * Parse identifier and length octets from p (avail bytes).  TL_SHORT: more
 * bytes are needed (*need says how many in all); TL_BAD: *why says what is
 * wrong.  Only single-byte identifiers occur in the format.
 */
static int parse_tl(const uint8_t *p, size_t avail, tl *t, size_t *need,
                    const char **why)
{
    if (avail < 2) {
        *need = 2;
        return TL_SHORT;
    }
    t->tag = p[0];
    t->indef = false;
    if ((p[0] & 0x1f) == 0x1f) {
        *why = "multi-byte tags do not occur in this format";
        return TL_BAD;
    }
    uint8_t l0 = p[1];
    if (l0 < 0x80) {
        t->hl = 2;
        t->len = l0;
        return TL_OK;
    }
    if (l0 == 0x80) {
        t->hl = 2;
        t->len = 0;
        t->indef = true;
        return TL_OK;
    }
    size_t k = l0 & 0x7f;
    if (k > 8) {
        *why = "length field too long";
        return TL_BAD;
    }
    if (avail < 2 + k) {
        *need = 2 + k;
        return TL_SHORT;
    }
    if (p[2] == 0 || (k == 1 && p[2] < 0x80)) {
        *why = "non-minimal length encoding";
        return TL_BAD;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++) {
        v = v << 8 | p[2 + i];
    }
    t->hl = 2 + k;
    t->len = v;
    return TL_OK;
}

/* Identifier and length at the read position of the source (not consumed). */
static bool src_tl(reader *r, tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    size_t need = 2;
    const char *why = NULL;
    for (;;) {
        if (!mc_src_peek(r->src, need, &p, errp)) {
            return false;
        }
        switch (parse_tl(p, need, t, &need, &why)) {
        case TL_OK:
            return true;
        case TL_BAD:
            return DATA_ERR(r, off, "%s (tag 0x%02x)", why, p[0]);
        default:
            break;
        }
    }
}

/* Read the next TLV of a DER window: definite, inside the window. */
static bool cur_tlv(reader *r, cur *c, tl *t, cur *val, mc_error **errp)
{
    size_t need;
    const char *why = NULL;
    switch (parse_tl(c->p, c->n, t, &need, &why)) {
    case TL_SHORT:
        return DATA_ERR(r, c->off, "truncated tag and length (%zu bytes left "
                        "in the enclosing value)", c->n);
    case TL_BAD:
        return DATA_ERR(r, c->off, "%s (tag 0x%02x)", why, c->p[0]);
    default:
        break;
    }
    if (t->indef) {
        return DATA_ERR(r, c->off, "indefinite length inside a DER record "
                        "(tag 0x%02x)", t->tag);
    }
    if (t->len > c->n - t->hl) {
        return DATA_ERR(r, c->off, "value of %llu bytes runs past its "
                        "container (%zu bytes left, tag 0x%02x)",
                        (unsigned long long)t->len, c->n - t->hl, t->tag);
    }
    val->p = c->p + t->hl;
    val->n = (size_t)t->len;
    val->off = c->off + t->hl;
    c->p += t->hl + val->n;
    c->n -= t->hl + val->n;
    c->off += t->hl + val->n;
    return true;
}

static int cur_peek(const cur *c)
{
    return c->n ? c->p[0] : -1;
}

static bool cur_expect(reader *r, cur *c, uint8_t tag, cur *val,
                       const char *what, mc_error **errp)
{
    if (c->n == 0) {
        return DATA_ERR(r, c->off, "missing %s (tag 0x%02x)", what, tag);
    }
    if (c->p[0] != tag) {
        return DATA_ERR(r, c->off, "expected %s (tag 0x%02x), found tag 0x%02x",
                        what, tag, c->p[0]);
    }
    tl t;
    return cur_tlv(r, c, &t, val, errp);
}

static bool cur_end(reader *r, const cur *c, const char *what, mc_error **errp)
{
    if (c->n) {
        return DATA_ERR(r, c->off, "unexpected tag 0x%02x in %s", c->p[0],
                        what);
    }
    return true;
}

/* ---- primitive values ---- */

/* A minimal INTEGER: *neg and the value's 64-bit two's complement. */
static bool der_integer(reader *r, const cur *v, bool *neg, uint64_t *bits,
                        bool *big, mc_error **errp)
{
    const uint8_t *p = v->p;
    size_t n = v->n;
    if (n == 0) {
        return DATA_ERR(r, v->off, "empty INTEGER");
    }
    if (n > 1 && ((p[0] == 0x00 && !(p[1] & 0x80)) ||
                  (p[0] == 0xff && (p[1] & 0x80)))) {
        return DATA_ERR(r, v->off, "non-minimal INTEGER");
    }
    *neg = p[0] & 0x80;
    /* At most 8 value bytes, plus a leading 00 for unsigned 64-bit. */
    *big = n > 9 || (n == 9 && (p[0] != 0x00));
    uint64_t x = *neg ? UINT64_MAX : 0;
    for (size_t i = 0; i < n && !*big; i++) {
        x = x << 8 | p[i];
    }
    *bits = x;
    return true;
}

/* An unsigned INTEGER value in 0..max. */
static bool cur_uint(reader *r, cur *c, uint8_t tag, uint64_t max,
                     uint64_t *out, const char *what, mc_error **errp)
{
    cur v;
    uint64_t off = c->off;
    bool neg, big;
    if (!cur_expect(r, c, tag, &v, what, errp) ||
        !der_integer(r, &v, &neg, out, &big, errp)) {
        return false;
    }
    if (neg || big || *out > max) {
        return DATA_ERR(r, off, "%s out of range (0..%llu)", what,
                        (unsigned long long)max);
    }
    return true;
}

/* An optional [n] INTEGER; *present says whether it was there. */
static bool cur_opt_uint(reader *r, cur *c, uint8_t tag, uint64_t max,
                         bool *present, uint64_t *out, const char *what,
                         mc_error **errp)
{
    *present = cur_peek(c) == tag;
    return !*present || cur_uint(r, c, tag, max, out, what, errp);
}

/* Copy a string value into scratch slot s (NUL-terminated). */
static bool cur_string(reader *r, const cur *v, int s, size_t min, size_t max,
                       const char **out, const char *what, mc_error **errp)
{
    if (v->n < min || v->n > max) {
        return DATA_ERR(r, v->off, "%s of %zu bytes (expected %zu to %zu)",
                        what, v->n, min, max);
    }
    if (memchr(v->p, 0, v->n)) {
        return DATA_ERR(r, v->off, "%s contains a NUL byte", what);
    }
    if (r->str_cap[s] < v->n + 1) {
        r->str_cap[s] = v->n + 1 > 256 ? v->n + 1 : 256;
        free(r->str[s]);
        r->str[s] = mc_malloc(r->str_cap[s]);
    }
    memcpy(r->str[s], v->p, v->n);
    r->str[s][v->n] = 0;
    *out = r->str[s];
    return true;
}

static bool cur_opt_string(reader *r, cur *c, uint8_t tag, int s, size_t min,
                           size_t max, const char **out, const char *what,
                           mc_error **errp)
{
    cur v;
    *out = NULL;
    if (cur_peek(c) != tag) {
        return true;
    }
    return cur_expect(r, c, tag, &v, what, errp) &&
           cur_string(r, &v, s, min, max, out, what, errp);
}

/* ---- section ids ---- */

static size_t id_hash(uint32_t id, size_t cap)
{
    return (size_t)((id * UINT32_C(2654435761)) & (cap - 1));
}

static id_slot *id_find(reader *r, uint32_t id)
{
    if (!r->ids_cap) {
        return NULL;
    }
    for (size_t i = id_hash(id, r->ids_cap);; i = (i + 1) & (r->ids_cap - 1)) {
        id_slot *s = &r->ids[i];
        if (!s->idstr || s->id == id) {
            return s;
        }
    }
}

static void id_put(reader *r, uint32_t id, const char *idstr)
{
    if ((r->ids_used + 1) * 2 > r->ids_cap) {
        id_slot *old = r->ids;
        size_t old_cap = r->ids_cap;
        r->ids_cap = old_cap ? old_cap * 2 : 16;
        r->ids = mc_calloc(r->ids_cap, sizeof(*r->ids));
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i].idstr) {
                *id_find(r, old[i].id) = old[i];
            }
        }
        free(old);
    }
    id_slot *s = id_find(r, id);
    if (s->idstr) {
        free(s->idstr);
    } else {
        r->ids_used++;
    }
    s->id = id;
    s->idstr = mc_strdup(idstr);
}

static const char *id_lookup(reader *r, uint32_t id)
{
    id_slot *s = id_find(r, id);
    return s && s->idstr ? s->idstr : NULL;
}

/* ---- source helpers ---- */

/* Take a whole definite TLV (header included) whose header is t. */
static bool take_record(reader *r, const tl *t, const uint8_t **p,
                        size_t *total, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    if (t->indef) {
        return DATA_ERR(r, off, "tag 0x%02x must have a definite length",
                        t->tag);
    }
    if (t->len > MC_SRC_MAX_REQUEST - t->hl) {
        return DATA_ERR(r, off, "record of %llu bytes exceeds the limit of "
                        "%u bytes", (unsigned long long)t->len,
                        MC_SRC_MAX_REQUEST);
    }
    *total = t->hl + (size_t)t->len;
    return mc_src_take(r->src, *total, p, errp);
}

static bool schema_check(reader *r, const char *type, const uint8_t *p,
                         size_t n, uint64_t off, mc_error **errp)
{
    mc_error *err = NULL;
    if (mc_ber_schema_check(type, p, n, &err)) {
        return true;
    }
    if (err->cls != MC_ERR_DATA) {
        mc_error_propagate(errp, err);
        return false;
    }
    mc_error_data(errp, off, r->path, "schema check: %s", err->msg);
    mc_error_free(err);
    return false;
}

/* Take a whole definite item and, with validate, check it as an ItemL. */
static bool take_item(reader *r, const tl *t, const uint8_t **p, size_t *total,
                      mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    return take_record(r, t, p, total, errp) &&
           (!r->validate ||
            schema_check(r, "MigConv.ItemL", *p, *total, off, errp));
}

/* Consume end-of-contents octets. */
static bool expect_eoc(reader *r, const char *what, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    if (!mc_src_take(r->src, 2, &p, errp)) {
        return false;
    }
    if (p[0] != 0 || p[1] != 0) {
        return DATA_ERR(r, off, "expected the end of %s (00 00), found "
                        "%02x %02x", what, p[0], p[1]);
    }
    return true;
}

/* At the read position: end-of-contents?  (A 00 tag must be 00 00.) */
static bool at_eoc(reader *r, bool *eoc, mc_error **errp)
{
    const uint8_t *p;
    if (!mc_src_peek(r->src, 2, &p, errp)) {
        return false;
    }
    if (p[0] == 0 && p[1] != 0) {
        return DATA_ERR(r, mc_src_offset(r->src),
                        "malformed end-of-contents (00 %02x)", p[1]);
    }
    *eoc = p[0] == 0;
    return true;
}

static bool depth_enter(reader *r, uint64_t off, mc_error **errp)
{
    if (r->depth >= MAX_DEPTH) {
        return DATA_ERR(r, off, "nesting deeper than %d levels", MAX_DEPTH);
    }
    r->depth++;
    return true;
}

/* ---- values ---- */

static bool read_body(reader *r, cur *c, mc_error **errp);

static bool read_field(reader *r, cur *list, uint32_t index, bool element,
                       mc_error **errp);

static bool read_struct(reader *r, const mc_field *f, cur *val, uint64_t off,
                        mc_error **errp)
{
    if (!depth_enter(r, off, errp) || !mc_visit_start_struct(r->v, f, errp) ||
        !read_body(r, val, errp) || !mc_visit_end_struct(r->v, errp)) {
        return false;
    }
    r->depth--;
    return true;
}

static bool read_array(reader *r, const mc_field *f, cur *val, uint64_t off,
                       mc_error **errp)
{
    /* Count the elements first: start_array needs the count. */
    cur scan = *val;
    uint64_t count = 0;
    while (scan.n) {
        tl t;
        cur elem;
        if (!cur_tlv(r, &scan, &t, &elem, errp)) {
            return false;
        }
        count++;
    }
    if (count > UINT32_MAX) {
        return DATA_ERR(r, off, "array of %llu elements",
                        (unsigned long long)count);
    }
    if (!depth_enter(r, off, errp) ||
        !mc_visit_start_array(r->v, f, (uint32_t)count, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (!read_field(r, val, i, true, errp)) {
            return false;
        }
    }
    if (!mc_visit_end_array(r->v, errp)) {
        return false;
    }
    r->depth--;
    return true;
}

static bool read_packed(reader *r, const mc_field *f, cur *val,
                        mc_error **errp)
{
    uint64_t et;
    cur data;
    uint64_t off = val->off;
    if (!cur_uint(r, val, MC_BER_ENUM, MC_WT_BOOL, &et, "packed element type",
                  errp) ||
        !cur_expect(r, val, MC_BER_OCTETS, &data, "packed data", errp) ||
        !cur_end(r, val, "packed value", errp)) {
        return false;
    }
    mc_wire_type wt = (mc_wire_type)et;
    unsigned w = mc_wire_type_width(wt);
    if (data.n % w) {
        return DATA_ERR(r, data.off, "packed %s data of %zu bytes is not a "
                        "whole number of elements", mc_wire_type_name(wt),
                        data.n);
    }
    if (data.n / w > UINT32_MAX) {
        return DATA_ERR(r, off, "packed array of %zu elements", data.n / w);
    }
    if (wt == MC_WT_BOOL) {
        for (size_t i = 0; i < data.n; i++) {
            if (data.p[i] > 1) {
                return DATA_ERR(r, data.off + i, "packed bool element %zu is "
                                "0x%02x", i, data.p[i]);
            }
        }
    }
    return mc_visit_packed(r->v, f, wt, (uint32_t)(data.n / w), data.p, errp);
}

/*
 * The type a writer leaves out because the value says it (the wire type's
 * name for an integer, "buffer", "struct"): it must not be there, and it
 * is given back to the visitor when the stream has names.
 */
static bool canonical_type(reader *r, mc_field *f, const char *canonical,
                           uint64_t off, mc_error **errp)
{
    if (f->type && strcmp(f->type, canonical) == 0) {
        return DATA_ERR(r, off, "field type '%s' repeats the value's type "
                        "(it must be omitted)", canonical);
    }
    if (!f->type && r->info.names) {
        f->type = canonical;
    }
    return true;
}

static bool read_int(reader *r, mc_field *f, mc_wire_type wt, const cur *val,
                     uint64_t off, mc_error **errp)
{
    bool neg, big;
    uint64_t bits;
    if (!der_integer(r, val, &neg, &bits, &big, errp)) {
        return false;
    }
    unsigned nbits = mc_wire_type_width(wt) * 8;
    uint64_t mask = nbits == 64 ? UINT64_MAX : (UINT64_C(1) << nbits) - 1;
    bool ok;
    if (mc_wire_type_signed(wt)) {
        int64_t s = (int64_t)bits;
        int64_t max = (int64_t)(mask >> 1);
        ok = !big && (neg ? s >= -max - 1 : !(bits >> 63) && s <= max);
    } else {
        ok = !big && !neg && bits <= mask;
    }
    if (!ok) {
        return DATA_ERR(r, off, "INTEGER out of range for %s",
                        mc_wire_type_name(wt));
    }
    return canonical_type(r, f, mc_wire_type_name(wt), off, errp) &&
           mc_visit_int(r->v, f, wt, bits & mask, errp);
}

/* One Field of a fields list or array. */
static bool read_field(reader *r, cur *list, uint32_t index, bool element,
                       mc_error **errp)
{
    uint64_t foff = list->off;
    cur fc, val;
    mc_field f = {NULL, NULL};
    size_t old = strlen(r->path);
    if (element) {
        path_add(r, "[", NULL, 0, true, index, "]");
    } else {
        path_add(r, "/fields[", NULL, 0, true, index, "]");
    }
    bool bare = list->n > 0 && list->p[0] != MC_BER_SEQ;
    if (bare) {
        /* An Element that is a bare Value (neither name nor type): read
         * it like the contents of a Field that holds only the value. */
        cur one = *list;
        tl t0;
        cur v0;
        if (!cur_tlv(r, list, &t0, &v0, errp)) {
            return false;
        }
        fc = one;
        fc.n = (size_t)(list->off - one.off);
    } else if (!cur_expect(r, list, MC_BER_SEQ, &fc, "field", errp) ||
               !cur_opt_string(r, &fc, MC_BER_UTF8, S_NAME, 0, SIZE_MAX, &f.name,
                               "field name", errp)) {
        return false;
    }
    if (f.name && !element) {
        path_pop(r, old);
        path_add(r, "/fields/", f.name, 64, false, 0, "");
    }
    if (!cur_opt_string(r, &fc, MC_BER_FIELD_TYPE, S_TYPE, 0, SIZE_MAX, &f.type,
                        "field type", errp)) {
        return false;
    }
    if (!r->info.names && (f.name || f.type)) {
        return DATA_ERR(r, foff, "field %s in a stream written without names",
                        f.name ? "name" : "type");
    }
    if (!bare && !f.name && !f.type) {
        return DATA_ERR(r, foff, "a field with neither name nor type must be "
                        "written as a bare value");
    }
    if (fc.n == 0) {
        return DATA_ERR(r, foff, "field without a value");
    }
    uint64_t voff = fc.off;
    tl t;
    if (!cur_tlv(r, &fc, &t, &val, errp) ||
        !cur_end(r, &fc, "field", errp)) {
        return false;
    }
    bool ok;
    switch (t.tag) {
    case MC_BER_CTX | MC_WT_U8:
    case MC_BER_CTX | MC_WT_U16:
    case MC_BER_CTX | MC_WT_U32:
    case MC_BER_CTX | MC_WT_U64:
    case MC_BER_CTX | MC_WT_I8:
    case MC_BER_CTX | MC_WT_I16:
    case MC_BER_CTX | MC_WT_I32:
    case MC_BER_CTX | MC_WT_I64:
        ok = read_int(r, &f, (mc_wire_type)(t.tag & 0x1f), &val, voff, errp);
        break;
    case MC_BER_VAL_BOOL:
        if (val.n != 1 || (val.p[0] != 0x00 && val.p[0] != 0xff)) {
            return DATA_ERR(r, voff, "BOOLEAN must be one byte 00 or ff");
        }
        ok = canonical_type(r, &f, mc_wire_type_name(MC_WT_BOOL), foff,
                            errp) &&
             mc_visit_int(r->v, &f, MC_WT_BOOL, val.p[0] ? 1 : 0, errp);
        break;
    case MC_BER_VAL_BYTES:
        ok = canonical_type(r, &f, "buffer", foff, errp) &&
             mc_visit_bytes(r->v, &f, val.p, val.n, errp);
        break;
    case MC_BER_VAL_STRUCT:
        ok = canonical_type(r, &f, "struct", foff, errp) &&
             read_struct(r, &f, &val, voff, errp);
        break;
    case MC_BER_VAL_ARRAY:
        ok = read_array(r, &f, &val, voff, errp);
        break;
    case MC_BER_VAL_PACKED:
        ok = read_packed(r, &f, &val, errp);
        break;
    default:
        return DATA_ERR(r, voff, "unknown value tag 0x%02x", t.tag);
    }
    if (ok) {
        path_pop(r, old);
    }
    return ok;
}

static bool read_subsection(reader *r, cur *list, mc_error **errp)
{
    uint64_t off = list->off;
    cur sc, v, body;
    const char *name;
    uint64_t version;
    if (!cur_expect(r, list, MC_BER_SEQ, &sc, "subsection", errp) ||
        !cur_expect(r, &sc, MC_BER_UTF8, &v, "subsection name", errp) ||
        !cur_string(r, &v, S_NAME, 1, MC_MAX_COUNTED, &name, "subsection name",
                    errp)) {
        return false;
    }
    size_t old = path_push(r, "/subsections/%.64s", name);
    if (!cur_uint(r, &sc, MC_BER_INTEGER, UINT32_MAX, &version,
                  "subsection version", errp) ||
        !cur_expect(r, &sc, MC_BER_SEQ, &body, "subsection body", errp) ||
        !cur_end(r, &sc, "subsection", errp) ||
        !depth_enter(r, off, errp) ||
        !mc_visit_start_subsection(r->v, name, (uint32_t)version, errp) ||
        !read_body(r, &body, errp) ||
        !mc_visit_end_subsection(r->v, errp)) {
        return false;
    }
    r->depth--;
    path_pop(r, old);
    return true;
}

/* Body (or a struct value): fields, then [0] subsections if any. */
static bool read_body(reader *r, cur *c, mc_error **errp)
{
    cur fields, subs;
    if (!cur_expect(r, c, MC_BER_SEQ, &fields, "fields", errp)) {
        return false;
    }
    for (uint32_t i = 0; fields.n; i++) {
        if (!read_field(r, &fields, i, false, errp)) {
            return false;
        }
    }
    if (c->n == 0) {
        return true;
    }
    uint64_t off = c->off;
    if (!cur_expect(r, c, MC_BER_CTX_CONS | 0, &subs, "subsections", errp)) {
        return false;
    }
    if (subs.n == 0) {
        return DATA_ERR(r, off, "empty subsection list (must be omitted)");
    }
    while (subs.n) {
        if (!read_subsection(r, &subs, errp)) {
            return false;
        }
    }
    return cur_end(r, c, "body", errp);
}

/* ---- sections ---- */

/* SectionHeader; ram: of a RamSection.  Strings point to scratch. */
static bool read_section_header(reader *r, cur *c, bool ram,
                                mc_section_info *info, mc_error **errp)
{
    cur h;
    uint64_t off = c->off;
    uint64_t type, v;
    memset(info, 0, sizeof(*info));
    if (!cur_expect(r, c, MC_BER_SEQ, &h, "section header", errp) ||
        !cur_uint(r, &h, MC_BER_INTEGER, 255, &type, "section type", errp)) {
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
        if (!cur_uint(r, &h, MC_BER_CTX | 0, UINT32_MAX, &v, "section id", errp)) {
            return false;
        }
        info->section_id = (uint32_t)v;
    }
    if (type == MC_VM_SECTION_START || type == MC_VM_SECTION_FULL) {
        cur s;
        if (!cur_expect(r, &h, MC_BER_CTX | 1, &s, "section idstr", errp) ||
            !cur_string(r, &s, S_IDSTR, 1, MC_MAX_COUNTED, &info->idstr,
                        "section idstr", errp) ||
            !cur_uint(r, &h, MC_BER_CTX | 2, UINT32_MAX, &v, "instance id", errp)) {
            return false;
        }
        info->instance_id = (uint32_t)v;
        if (!cur_uint(r, &h, MC_BER_CTX | 3, UINT32_MAX, &v, "version id", errp)) {
            return false;
        }
        info->version_id = (uint32_t)v;
    } else if (type != MC_VM_CONFIGURATION) {
        info->idstr = id_lookup(r, info->section_id);
    }
    uint64_t voff = h.off;
    if (!cur_opt_string(r, &h, MC_BER_CTX | 4, S_VMSD, 0, SIZE_MAX,
                        &info->vmsd_name, "vmsd name", errp)) {
        return false;
    }
    if (info->vmsd_name && !r->info.names) {
        return DATA_ERR(r, voff, "vmsd name in a stream written without "
                        "names");
    }
    return cur_end(r, &h, "section header", errp);
}

static size_t push_section_path(reader *r, const mc_section_info *info)
{
    if (info->idstr) {
        return path_add(r, " section '", info->idstr, 64, false, 0, "'");
    }
    return path_push(r, " section %u", info->section_id);
}

/* A configuration or device section (one DER record). */
static bool read_section(reader *r, const tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    size_t total;
    if (!take_item(r, t, &p, &total, errp)) {
        return false;
    }
    cur c = {p + t->hl, total - t->hl, off + t->hl};
    cur body;
    mc_section_info info;
    if (!read_section_header(r, &c, false, &info, errp)) {
        return false;
    }
    size_t old = push_section_path(r, &info);
    if (info.type == MC_VM_SECTION_START || info.type == MC_VM_SECTION_FULL) {
        id_put(r, info.section_id, info.idstr);
    }
    if (!cur_expect(r, &c, MC_BER_SEQ, &body, "section body", errp)) {
        return false;
    }
    bool footer = false;
    if (cur_peek(&c) == (MC_BER_CTX | 0)) {
        cur fv;
        uint64_t foff = c.off;
        if (!cur_expect(r, &c, MC_BER_CTX | 0, &fv, "footer", errp)) {
            return false;
        }
        if (fv.n) {
            return DATA_ERR(r, foff, "footer NULL with content");
        }
        footer = true;
    }
    if (!cur_end(r, &c, "section", errp)) {
        return false;
    }
    if (!mc_visit_start_section(r->v, &info, errp) ||
        !read_body(r, &body, errp) ||
        !mc_visit_end_section(r->v, footer, errp)) {
        return false;
    }
    path_pop(r, old);
    return true;
}

/* ---- RAM ---- */

static bool read_page_offset(reader *r, cur *c, uint64_t *offset,
                             const char *what, mc_error **errp)
{
    uint64_t off = c->off;
    if (!cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, offset, what, errp)) {
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
           cur_opt_string(r, c, MC_BER_CTX | 0, S_BLOCK, 1, MC_MAX_COUNTED,
                          &rec->block, "RAM block name", errp);
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
        !cur_expect(r, c, MC_BER_SEQ, &list, "RAM blocks", errp) ||
        !cur_end(r, c, "mem size", errp)) {
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
            return DATA_ERR(r, boff, "more than %d RAM blocks", MC_MAX_RAM_BLOCKS);
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
        if (!cur_expect(r, &list, MC_BER_SEQ, &b, "RAM block", errp) ||
            !cur_expect(r, &b, MC_BER_UTF8, &s, "RAM block name", errp) ||
            !cur_string(r, &s, S_BLOCK, 1, MC_MAX_COUNTED, &name,
                        "RAM block name", errp) ||
            !cur_uint(r, &b, MC_BER_INTEGER, UINT64_MAX, &blk->used_length,
                      "used length", errp) ||
            !cur_opt_uint(r, &b, MC_BER_CTX | 0, UINT64_MAX, &blk->has_page_size,
                          &blk->page_size, "block page size", errp) ||
            !cur_opt_uint(r, &b, MC_BER_CTX | 1, UINT64_MAX, &present, &blk->addr,
                          "block address", errp) ||
            !cur_end(r, &b, "RAM block", errp)) {
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
    if (!cur_opt_uint(r, c, MC_BER_CTX | 1, UINT64_MAX, &present, &count,
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
    if (!cur_opt_uint(r, c, MC_BER_CTX | 2, 255, &present, &fill, "fill byte",
                      errp)) {
        return false;
    }
    if (present && fill == 0) {
        return DATA_ERR(r, coff, "fill byte 0 (the default must be omitted)");
    }
    if (!cur_end(r, c, "zero run", errp) ||
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
        !cur_expect(r, c, MC_BER_OCTETS, &data, "page data", errp) ||
        !cur_end(r, c, "page run", errp)) {
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
    if (!cur_opt_uint(r, c, MC_BER_CTX | 1, 255, &present, &enc, "xbzrle encoding",
                      errp)) {
        return false;
    }
    if (present && enc == 1) {
        return DATA_ERR(r, eoff, "xbzrle encoding 1 (the default must be "
                        "omitted)");
    }
    if (!cur_expect(r, c, MC_BER_OCTETS, &data, "xbzrle data", errp) ||
        !cur_end(r, c, "xbzrle page", errp)) {
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
        !cur_expect(r, c, MC_BER_OCTETS, &data, "compressed data", errp) ||
        !cur_end(r, c, "compressed page", errp)) {
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
    if (!cur_expect(r, c, MC_BER_SEQ, &b, "RAM block", errp) ||
        !cur_expect(r, &b, MC_BER_UTF8, &s, "RAM block name", errp) ||
        !cur_string(r, &s, S_BLOCK, 1, MC_MAX_COUNTED, &name,
                    "RAM block name", errp) ||
        !cur_uint(r, &b, MC_BER_INTEGER, UINT64_MAX, &blk.used_length,
                  "used length", errp) ||
        !cur_opt_uint(r, &b, MC_BER_CTX | 0, UINT64_MAX, &blk.has_page_size,
                      &blk.page_size, "block page size", errp) ||
        !cur_opt_uint(r, &b, MC_BER_CTX | 1, UINT64_MAX, &present, &blk.addr,
                      "block address", errp) ||
        !cur_end(r, &b, "RAM block", errp) ||
        !cur_uint(r, c, MC_BER_INTEGER, UINT32_MAX, &v, "mapped-ram version",
                  errp)) {
        return false;
    }
    blk.has_addr = present;
    blk.idstr = name;
    h.version = (uint32_t)v;
    if (!cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &h.page_size,
                  "mapped-ram page size", errp) ||
        !cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &h.bitmap_offset,
                  "bitmap offset", errp) ||
        !cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &h.pages_offset,
                  "pages offset", errp) ||
        !cur_end(r, c, "mapped block", errp)) {
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
    if (!cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &rec.offset,
                  "file offset", errp)) {
        return false;
    }
    if (rec.kind == MC_RAM_MAPPED_BYTES) {
        if (!cur_expect(r, c, MC_BER_OCTETS, &data, "region bytes", errp)) {
            return false;
        }
        len = data.n;
    } else if (!cur_uint(r, c, MC_BER_INTEGER, UINT64_MAX, &len,
                         "zero bytes", errp)) {
        return false;
    }
    if (!cur_end(r, c, "mapped region piece", errp)) {
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
    if (!src_tl(r, &t, errp)) {
        return false;
    }
    if (t.indef) {
        return DATA_ERR(r, off, "RAM record with indefinite length");
    }
    if (!take_record(r, &t, &p, &total, errp) ||
        (r->validate &&
         !schema_check(r, "MigConv.RamRecord", p, total, off, errp))) {
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
static bool read_ram_section(reader *r, const tl *t, mc_error **errp)
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
             !schema_check(r, "MigConv.ItemL", p, t->hl + (size_t)t->len, off,
                           errp))) {
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
    if (!src_tl(r, &h, errp)) {
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
    if (!take_record(r, &h, &p, &total, errp)) {
        return false;
    }
    cur hc = {p, total, hoff};
    mc_section_info info;
    if (!read_section_header(r, &hc, true, &info, errp)) {
        return false;
    }
    size_t old = push_section_path(r, &info);
    if (info.type == MC_VM_SECTION_START || info.type == MC_VM_SECTION_FULL) {
        id_put(r, info.section_id, info.idstr);
    }
    if (!mc_visit_start_section(r->v, &info, errp)) {
        return false;
    }

    /* records */
    uint64_t roff = mc_src_offset(r->src);
    tl rl;
    if (!src_tl(r, &rl, errp)) {
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
        if (t->indef) {
            bool eoc;
            if (!at_eoc(r, &eoc, errp)) {
                return false;
            }
            if (eoc) {
                if (!mc_src_skip(r->src, 2, errp)) {
                    return false;
                }
                break;
            }
        } else if (here == rend) {
            break;
        }
        size_t rold = path_add(r, "/records[", NULL, 0, true, i, "]");
        if (!t->indef) {
            tl rt;
            if (!src_tl(r, &rt, errp)) {
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
        if (!expect_eoc(r, "the RAM section", errp)) {
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

/* ---- other items ---- */

static bool read_command(reader *r, const tl *t, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    const uint8_t *p;
    size_t total;
    uint64_t cmd;
    cur data;
    if (!take_item(r, t, &p, &total, errp)) {
        return false;
    }
    cur c = {p + t->hl, total - t->hl, off + t->hl};
    if (!cur_uint(r, &c, MC_BER_INTEGER, UINT16_MAX, &cmd, "command", errp) ||
        !cur_expect(r, &c, MC_BER_OCTETS, &data, "command data", errp) ||
        !cur_end(r, &c, "command", errp)) {
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
    if (!src_tl(r, &lt, errp)) {
        return false;
    }
    if (lt.tag != MC_BER_INTEGER || lt.indef || lt.len > 9) {
        return DATA_ERR(r, loff, "expected the package length (a small "
                        "INTEGER), found tag 0x%02x", lt.tag);
    }
    if (!take_record(r, &lt, &p, &total, errp)) {
        return false;
    }
    cur c = {p, total, loff};
    if (!cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &len, "package length",
                  errp)) {
        return false;
    }
    uint64_t ioff = mc_src_offset(r->src);
    tl it;
    if (!src_tl(r, &it, errp)) {
        return false;
    }
    if (it.tag != MC_BER_SEQ || !it.indef) {
        return DATA_ERR(r, ioff, "expected the package items (30 80)");
    }
    if (!mc_src_skip(r->src, it.hl, errp) || !depth_enter(r, off, errp) ||
        !mc_visit_start_packaged(r->v, (uint32_t)len, errp) ||
        !read_items(r, errp) ||
        !expect_eoc(r, "the package", errp) ||
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
    if (t->indef || t->len != 1) {
        return DATA_ERR(r, off, "eof must be the INTEGER 0");
    }
    if (!take_item(r, t, &p, &total, errp)) {
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
    if (!t->indef && t->len > vmdesc_limit(r)) {
        return DATA_ERR(r, mc_src_offset(r->src), "vmdesc of %llu bytes "
                        "exceeds the limit of %zu bytes (raise it with "
                        "--vmdesc-limit)", (unsigned long long)t->len,
                        vmdesc_limit(r));
    }
    if (!take_item(r, t, &p, &total, errp)) {
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
    if (!take_item(r, t, &p, &total, errp)) {
        return false;
    }
    cur c = {p + t->hl, total - t->hl, off + t->hl}, z;
    uint64_t len;
    if (!cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &len, "vmdesc length", errp) ||
        !cur_expect(r, &c, MC_BER_OCTETS, &z, "deflated vmdesc", errp) ||
        !cur_end(r, &c, "deflated vmdesc", errp)) {
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
        bool eoc;
        if (!at_eoc(r, &eoc, errp)) {
            return false;
        }
        bool top = r->depth == 0;
        if (eoc) {
            /* A legacy stream always ends with QEMU_VM_EOF. */
            if (top && !r->seen_eof) {
                return DATA_ERR(r, mc_src_offset(r->src),
                                "the stream has no eof item");
            }
            return mc_src_skip(r->src, 2, errp);
        }
        size_t old = path_add(r, base ? "/items[" : "items[", NULL, 0, true,
                              i, "]");
        uint64_t off = mc_src_offset(r->src);
        tl t;
        bool ok;
        if (!src_tl(r, &t, errp)) {
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
            ok = read_ram_section(r, &t, errp);
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
    if (!src_tl(r, &t, errp)) {
        return false;
    }
    if (t.tag != MC_BER_SEQ || t.indef || t.len > MAX_STREAM_HEADER) {
        return DATA_ERR(r, off, "expected the stream header (a short "
                        "definite SEQUENCE), found tag 0x%02x", t.tag);
    }
    if (!take_record(r, &t, &p, &total, errp) ||
        (r->validate &&
         !schema_check(r, "MigConv.StreamHeader", p, total, off, errp))) {
        return false;
    }
    cur c = {p + t.hl, total - t.hl, off + t.hl};
    uint64_t voff = c.off;
    if (!cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &v, "format version", errp)) {
        return false;
    }
    if (v != 1) {
        return DATA_ERR(r, voff, "unsupported format version %llu (only 1 is "
                        "supported)", (unsigned long long)v);
    }
    voff = c.off;
    if (!cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &v, "magic", errp)) {
        return false;
    }
    if (v != MC_VM_FILE_MAGIC) {
        return DATA_ERR(r, voff, "magic 0x%08llx is not QEVM",
                        (unsigned long long)v);
    }
    r->info.magic = (uint32_t)v;
    voff = c.off;
    if (!cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &v, "file version", errp)) {
        return false;
    }
    if (v != MC_VM_FILE_VERSION) {
        return DATA_ERR(r, voff, "unsupported stream version %llu (only %u "
                        "is supported)", (unsigned long long)v,
                        MC_VM_FILE_VERSION);
    }
    r->info.version = (uint32_t)v;
    voff = c.off;
    if (!cur_uint(r, &c, MC_BER_INTEGER, UINT32_MAX, &v, "page size", errp)) {
        return false;
    }
    if (v < MIN_PAGE_SIZE || v > MAX_PAGE_SIZE || (v & (v - 1))) {
        return DATA_ERR(r, voff, "page size %llu is not a power of two "
                        "from %u to %u", (unsigned long long)v, MIN_PAGE_SIZE,
                        MAX_PAGE_SIZE);
    }
    r->info.page_size = (uint32_t)v;
    r->run_max_pages = mc_ber_run_max_pages(r->info.page_size);
    if (!cur_uint(r, &c, MC_BER_ENUM, 1, &v, "page size source", errp)) {
        return false;
    }
    /* Pass the source through: a BER stream re-encodes to the same header. */
    r->info.page_size_source =
        v ? MC_PAGE_SIZE_CONFIGURATION : MC_PAGE_SIZE_DEFAULT;
    cur b;
    if (!cur_expect(r, &c, MC_BER_BOOLEAN, &b, "names flag", errp)) {
        return false;
    }
    if (b.n != 1 || (b.p[0] != 0x00 && b.p[0] != 0xff)) {
        return DATA_ERR(r, b.off, "BOOLEAN must be one byte 00 or ff");
    }
    r->info.names = b.p[0] != 0;
    if (!cur_end(r, &c, "stream header", errp)) {
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
        !expect_eoc(r, "the stream", errp)) {
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
