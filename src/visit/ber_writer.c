/*
 * BER writer: re-encodes a visitor walk as the migconv BER format
 * (asn1/migconv.asn, IMPLICIT TAGS).
 *
 * Framing:
 *   60 80                       Stream, indefinite
 *     30 L StreamHeader         DER
 *     30 80                     items, indefinite
 *       61 L Section            one DER record per configuration/device
 *                               section, built in memory
 *       62 L / 62 80 RamSection definite when its records stay within
 *                               MC_BER_RAM_DEFINITE_MAX bytes, indefinite otherwise
 *       63 L Command, 64 80 Packaged, 45 00 eof, 46 L vmdesc
 *     00 00
 *   00 00
 *
 * Device sections are small, so a section is assembled in a growable buffer
 * with a stack of open constructed TLVs: each open TLV reserves one length
 * byte, and closing it writes the minimal DER length (moving the content
 * up when the length needs more than one byte).
 *
 * RAM records never go through that buffer one page at a time: consecutive
 * zero pages and full pages that continue each other are merged into
 * ZeroRun / PageRun records (bounded: a page run holds at most
 * MC_BER_RUN_MAX_BYTES of data) and encoded by hand when the run ends.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/ber.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/visitors.h"

/* Nesting of open TLVs inside one section record (a sane reader nests
 * values at most 64 deep; every level costs up to three TLVs). */
#define MAX_OPEN 1024u
/* Legacy counted strings are at most 255 bytes. */


/* ---- DER building buffer ---- */

typedef struct dbuf {
    uint8_t *p;
    size_t len, cap;
    size_t *open;           /* positions of reserved length bytes */
    size_t n_open, cap_open;
} dbuf;

static void db_reserve(dbuf *d, size_t n)
{
    if (d->cap - d->len >= n) {
        return;
    }
    size_t ncap = d->cap ? d->cap : 256;
    while (ncap - d->len < n) {
        ncap *= 2;
    }
    d->p = mc_realloc(d->p, ncap);
    d->cap = ncap;
}

static void db_put(dbuf *d, const void *p, size_t n)
{
    db_reserve(d, n);
    if (n) {
        memcpy(d->p + d->len, p, n);
    }
    d->len += n;
}

static void db_byte(dbuf *d, uint8_t b)
{
    db_reserve(d, 1);
    d->p[d->len++] = b;
}

static void db_free(dbuf *d)
{
    free(d->p);
    free(d->open);
    memset(d, 0, sizeof(*d));
}

/* Minimal DER length octets of n into out (at most 9 bytes). */
static unsigned der_len(uint8_t *out, uint64_t n)
{
    if (n < 0x80) {
        out[0] = (uint8_t)n;
        return 1;
    }
    unsigned k = 0;
    for (uint64_t v = n; v; v >>= 8) {
        k++;
    }
    out[0] = (uint8_t)(0x80 | k);
    for (unsigned i = 0; i < k; i++) {
        out[1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
    }
    return 1 + k;
}

/* Tag and definite length into out (at most 10 bytes). */
static unsigned der_tl(uint8_t *out, uint8_t tag, uint64_t n)
{
    out[0] = tag;
    return 1 + der_len(out + 1, n);
}

/*
 * Minimal two's-complement INTEGER content of a value: an unsigned value
 * (is_neg false, v its bits) or a negative one (is_neg true, v its 64-bit
 * two's complement).  out holds at most 9 bytes.
 */
static unsigned der_int_content(uint8_t *out, uint64_t v, bool is_neg)
{
    uint8_t b[9];
    b[0] = is_neg ? 0xff : 0x00;
    mc_put_be64(b + 1, v);
    unsigned i = 0;
    while (i < 8 && ((b[i] == 0x00 && !(b[i + 1] & 0x80)) ||
                     (b[i] == 0xff && (b[i + 1] & 0x80)))) {
        i++;
    }
    memcpy(out, b + i, 9 - i);
    return 9 - i;
}

/* A complete INTEGER-valued TLV (tag given) of an unsigned value. */
static unsigned der_uint_tlv(uint8_t *out, uint8_t tag, uint64_t v)
{
    out[0] = tag;
    out[1] = (uint8_t)der_int_content(out + 2, v, false);
    return 2u + out[1];
}

static void db_tl(dbuf *d, uint8_t tag, uint64_t n)
{
    uint8_t tl[10];
    db_put(d, tl, der_tl(tl, tag, n));
}

static void db_uint(dbuf *d, uint8_t tag, uint64_t v)
{
    uint8_t tlv[11];
    db_put(d, tlv, der_uint_tlv(tlv, tag, v));
}

static void db_sint(dbuf *d, uint8_t tag, int64_t v)
{
    uint8_t tlv[11];
    tlv[0] = tag;
    tlv[1] = (uint8_t)der_int_content(tlv + 2, (uint64_t)v, v < 0);
    db_put(d, tlv, 2u + tlv[1]);
}

static void db_str(dbuf *d, uint8_t tag, const char *s)
{
    size_t n = strlen(s);
    db_tl(d, tag, n);
    db_put(d, s, n);
}

static bool db_open(dbuf *d, uint8_t tag, mc_error **errp)
{
    if (d->n_open >= MAX_OPEN) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "ber writer: values nested more than %u levels deep",
                     MAX_OPEN / 3);
        return false;
    }
    if (d->n_open == d->cap_open) {
        d->cap_open = d->cap_open ? d->cap_open * 2 : 16;
        d->open = mc_realloc(d->open, d->cap_open * sizeof(*d->open));
    }
    db_byte(d, tag);
    d->open[d->n_open++] = d->len;
    db_byte(d, 0);
    return true;
}

static void db_close(dbuf *d)
{
    size_t lpos = d->open[--d->n_open];
    size_t clen = d->len - lpos - 1;
    uint8_t l[9];
    unsigned n = der_len(l, clen);
    if (n > 1) {
        db_reserve(d, n - 1);
        memmove(d->p + lpos + n, d->p + lpos + 1, clen);
        d->len += n - 1;
    }
    memcpy(d->p + lpos, l, n);
}

/* ---- the writer ---- */

typedef enum frame_kind {
    FR_SECTION,     /* the body of a configuration/device section */
    FR_STRUCT,
    FR_SUBSECTION,
    FR_ARRAY,
} frame_kind;

typedef struct frame {
    frame_kind kind;
    bool in_subs;       /* body: the fields list is closed, [0] is open */
    uint32_t left;      /* array: elements still expected */
    bool wrapped;       /* struct/array: inside a Field (name or type) */
} frame;

typedef enum run_kind { RUN_NONE, RUN_ZERO, RUN_PAGE } run_kind;

typedef struct ber_writer {
    mc_visitor base;
    mc_sink *out;
    bool names;

    bool started, ended;
    uint32_t page_size;
    unsigned packaged;      /* open packages */

    /* the section being written */
    bool in_section;
    mc_section_kind kind;
    dbuf rec;               /* device section record */
    frame *frames;
    size_t n_frames, cap_frames;

    /* RAM section */
    dbuf ram_hdr;           /* encoded SectionHeader */
    dbuf ram_buf;           /* buffered records (definite form) */
    dbuf scratch;           /* one record's TL/TLV */
    bool ram_indef;

    /* pending run */
    run_kind run;
    uint64_t run_offset;    /* offset of the first page */
    uint64_t run_count;
    uint64_t run_next;      /* offset the next page must have to join */
    bool run_next_ok;       /* run_next did not overflow */
    uint8_t run_fill;
    bool run_has_block;
    char run_block[MC_MAX_COUNTED + 1];
    uint8_t *run_data;      /* page run data, run_max_pages pages */
    uint32_t run_max_pages;
} ber_writer;

static ber_writer *bw_of(mc_visitor *v)
{
    return (ber_writer *)v;
}

static bool out_write(ber_writer *w, const void *p, size_t n, mc_error **errp)
{
    /* Empty buffers may have no storage: never hand a NULL on. */
    return n == 0 || mc_sink_write(w->out, p, n, errp);
}

static bool misuse(mc_error **errp, const char *what)
{
    mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                 "ber writer: %s", what);
    return false;
}

static bool check_item_ok(ber_writer *w, mc_error **errp)
{
    if (!w->started || w->ended) {
        return misuse(errp, "item outside the stream");
    }
    if (w->in_section) {
        return misuse(errp, "item inside a section");
    }
    return true;
}

/* A counted name (RAM block, idstr, subsection): 1..255 bytes. */
static bool check_counted(const char *s, const char *what, mc_error **errp)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > MC_MAX_COUNTED) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s of %zu bytes cannot be encoded (1 to %u bytes)",
                      what, n, MC_MAX_COUNTED);
        return false;
    }
    return true;
}

/* ---- stream ---- */

static bool bw_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (w->started) {
        return misuse(errp, "stream started twice");
    }
    unsigned source;
    switch (info->page_size_source) {
    case MC_PAGE_SIZE_DEFAULT:
        source = 0;
        break;
    case MC_PAGE_SIZE_CONFIGURATION:
        source = 1;
        break;
    default:
        /* A BER reader passes the header's own source through; anything
         * else has no encoding. */
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "ber writer: page size source '%s' cannot be recorded",
                     mc_page_size_source_name(info->page_size_source));
        return false;
    }
    if (info->page_size == 0) {
        return misuse(errp, "page size 0");
    }
    w->started = true;
    w->page_size = info->page_size;
    w->run_max_pages = mc_ber_run_max_pages(info->page_size);

    dbuf *d = &w->scratch;
    d->len = 0;
    db_byte(d, MC_BER_STREAM);
    db_byte(d, 0x80);
    if (!db_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    db_uint(d, MC_BER_INTEGER, 1);                   /* formatVersion */
    db_uint(d, MC_BER_INTEGER, info->magic);         /* magic */
    db_uint(d, MC_BER_INTEGER, info->version);       /* fileVersion */
    db_uint(d, MC_BER_INTEGER, info->page_size);     /* pageSize */
    db_uint(d, MC_BER_ENUM, source);                 /* pageSizeSource */
    db_byte(d, MC_BER_BOOLEAN);                      /* names */
    db_byte(d, 1);
    db_byte(d, w->names ? 0xff : 0x00);
    db_close(d);
    db_byte(d, MC_BER_SEQ);                          /* items */
    db_byte(d, 0x80);
    return out_write(w, d->p, d->len, errp);
}

static bool bw_end_stream(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!check_item_ok(w, errp)) {
        return false;
    }
    if (w->packaged) {
        return misuse(errp, "stream ended inside a package");
    }
    w->ended = true;
    static const uint8_t eoc[4] = {0, 0, 0, 0};
    return out_write(w, eoc, sizeof(eoc), errp);
}

/* ---- section headers ---- */

static bool encode_section_header(ber_writer *w, dbuf *d,
                                  const mc_section_info *info,
                                  mc_error **errp)
{
    bool full = info->type == MC_VM_SECTION_START ||
                info->type == MC_VM_SECTION_FULL;
    if (full && !check_counted(info->idstr, "section idstr", errp)) {
        return false;
    }
    if (!db_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    db_uint(d, MC_BER_INTEGER, info->type);
    if (info->type != MC_VM_CONFIGURATION) {
        db_uint(d, MC_BER_CTX | 0, info->section_id);
    }
    if (full) {
        db_str(d, MC_BER_CTX | 1, info->idstr);
        db_uint(d, MC_BER_CTX | 2, info->instance_id);
        db_uint(d, MC_BER_CTX | 3, info->version_id);
    }
    if (w->names && info->vmsd_name) {
        db_str(d, MC_BER_CTX | 4, info->vmsd_name);
    }
    db_close(d);
    return true;
}

static frame *push_frame(ber_writer *w, frame_kind kind)
{
    if (w->n_frames == w->cap_frames) {
        w->cap_frames = w->cap_frames ? w->cap_frames * 2 : 16;
        w->frames = mc_realloc(w->frames, w->cap_frames * sizeof(*w->frames));
    }
    frame *f = &w->frames[w->n_frames++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    return f;
}

static frame *top_frame(ber_writer *w)
{
    return w->n_frames ? &w->frames[w->n_frames - 1] : NULL;
}

static bool bw_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!check_item_ok(w, errp)) {
        return false;
    }
    switch (info->type) {
    case MC_VM_SECTION_START:
    case MC_VM_SECTION_PART:
    case MC_VM_SECTION_END:
    case MC_VM_SECTION_FULL:
        if (info->kind == MC_SECTION_CONFIG) {
            return misuse(errp, "configuration kind on a device section");
        }
        break;
    case MC_VM_CONFIGURATION:
        if (info->kind != MC_SECTION_CONFIG) {
            return misuse(errp, "configuration type on a non-configuration "
                                "section");
        }
        break;
    default:
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "section type %u cannot be encoded", info->type);
        return false;
    }
    w->kind = info->kind;
    if (info->kind == MC_SECTION_RAM) {
        w->ram_hdr.len = 0;
        w->ram_hdr.n_open = 0;
        w->ram_buf.len = 0;
        w->ram_indef = false;
        w->run = RUN_NONE;
        if (!encode_section_header(w, &w->ram_hdr, info, errp)) {
            return false;
        }
        w->in_section = true;
        return true;
    }
    dbuf *d = &w->rec;
    d->len = 0;
    d->n_open = 0;
    w->n_frames = 0;
    if (!db_open(d, MC_BER_SECTION, errp) ||
        !encode_section_header(w, d, info, errp) ||
        !db_open(d, MC_BER_SEQ, errp) ||     /* body */
        !db_open(d, MC_BER_SEQ, errp)) {     /* body.fields */
        return false;
    }
    push_frame(w, FR_SECTION);
    w->in_section = true;
    return true;
}

/* Close the list of a body frame (fields, or subsections if open). */
static void close_body_list(ber_writer *w)
{
    db_close(&w->rec);
}

/* ---- RAM records ---- */

static bool ram_switch_indef(ber_writer *w, mc_error **errp)
{
    static const uint8_t sec[2] = {MC_BER_RAMSECTION, 0x80};
    static const uint8_t recs[2] = {MC_BER_SEQ, 0x80};
    w->ram_indef = true;
    bool ok = out_write(w, sec, 2, errp) &&
              out_write(w, w->ram_hdr.p, w->ram_hdr.len, errp) &&
              out_write(w, recs, 2, errp) &&
              out_write(w, w->ram_buf.p, w->ram_buf.len, errp);
    w->ram_buf.len = 0;
    return ok;
}

/* Emit one complete record: head followed by data (data may be empty). */
static bool ram_emit(ber_writer *w, const uint8_t *head, size_t hn,
                     const uint8_t *data, size_t dn, mc_error **errp)
{
    if (!w->ram_indef) {
        if (w->ram_buf.len + hn + dn <= MC_BER_RAM_DEFINITE_MAX) {
            db_put(&w->ram_buf, head, hn);
            db_put(&w->ram_buf, data, dn);
            return true;
        }
        if (!ram_switch_indef(w, errp)) {
            return false;
        }
    }
    return out_write(w, head, hn, errp) &&
           (dn == 0 || out_write(w, data, dn, errp));
}

/* INTEGER offset and optional [0] block name, the start of every page
 * record's content; returns the encoded length. */
static size_t page_prefix_len(uint64_t offset, const char *block, size_t *bn)
{
    uint8_t tmp[11];
    *bn = block ? strlen(block) : 0;
    size_t n = der_uint_tlv(tmp, MC_BER_INTEGER, offset);
    if (block) {
        uint8_t l[9];
        n += 1 + der_len(l, *bn) + *bn;
    }
    return n;
}

static void put_page_prefix(dbuf *d, uint64_t offset, const char *block)
{
    db_uint(d, MC_BER_INTEGER, offset);
    if (block) {
        db_str(d, MC_BER_CTX | 0, block);
    }
}

/*
 * Encode a record made of: offset, [block], extra small TLVs (already
 * encoded in extra/en), and, if with_data, an OCTET STRING of dn bytes
 * whose bytes follow separately.  The head (everything but the data
 * bytes) is left in w->scratch.
 */
static void encode_page_head(ber_writer *w, uint8_t tag, uint64_t offset,
                             const char *block, const uint8_t *extra,
                             size_t en, bool with_data, size_t dn)
{
    size_t bn;
    uint64_t content = page_prefix_len(offset, block, &bn) + en;
    uint8_t l[9];
    if (with_data) {
        content += 1 + der_len(l, dn) + dn;
    }
    dbuf *d = &w->scratch;
    d->len = 0;
    db_tl(d, tag, content);
    put_page_prefix(d, offset, block);
    db_put(d, extra, en);
    if (with_data) {
        db_tl(d, MC_BER_OCTETS, dn);
    }
}

static bool flush_run(ber_writer *w, mc_error **errp)
{
    if (w->run == RUN_NONE) {
        return true;
    }
    const char *block = w->run_has_block ? w->run_block : NULL;
    run_kind kind = w->run;
    w->run = RUN_NONE;
    if (kind == RUN_ZERO) {
        uint8_t extra[22];
        size_t en = 0;
        if (w->run_count != 1) {
            en += der_uint_tlv(extra + en, MC_BER_CTX | 1, w->run_count);
        }
        if (w->run_fill != 0) {
            en += der_uint_tlv(extra + en, MC_BER_CTX | 2, w->run_fill);
        }
        encode_page_head(w, MC_BER_RAM_ZERO, w->run_offset, block, extra, en,
                         false, 0);
        return ram_emit(w, w->scratch.p, w->scratch.len, NULL, 0, errp);
    }
    size_t dn = (size_t)w->run_count * w->page_size;
    encode_page_head(w, MC_BER_RAM_PAGES, w->run_offset, block, NULL, 0, true, dn);
    return ram_emit(w, w->scratch.p, w->scratch.len, w->run_data, dn, errp);
}

static void start_run(ber_writer *w, run_kind kind, const mc_ram_record *rec)
{
    w->run = kind;
    w->run_offset = rec->offset;
    w->run_count = 1;
    w->run_fill = rec->fill;
    w->run_has_block = rec->block != NULL;
    if (rec->block) {
        strcpy(w->run_block, rec->block);   /* checked: at most 255 bytes */
    }
    w->run_next_ok = rec->offset <= UINT64_MAX - w->page_size;
    w->run_next = rec->offset + w->page_size;
    if (kind == RUN_PAGE) {
        if (!w->run_data) {
            w->run_data = mc_malloc((size_t)w->run_max_pages * w->page_size);
        }
        memcpy(w->run_data, rec->data, w->page_size);
    }
}

/* Does rec continue the pending run? */
static bool run_extends(ber_writer *w, run_kind kind, const mc_ram_record *rec)
{
    if (w->run != kind || rec->block || !w->run_next_ok ||
        rec->offset != w->run_next) {
        return false;
    }
    if (kind == RUN_ZERO) {
        return rec->fill == w->run_fill && w->run_count < UINT64_MAX;
    }
    return w->run_count < w->run_max_pages;
}

static bool encode_mem_size(ber_writer *w, const mc_ram_record *rec,
                            mc_error **errp)
{
    dbuf *d = &w->scratch;
    d->len = 0;
    d->n_open = 0;
    if (!db_open(d, MC_BER_RAM_MEMSIZE, errp)) {
        return false;
    }
    db_uint(d, MC_BER_INTEGER, rec->offset);
    if (!db_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    for (size_t i = 0; i < rec->n_blocks; i++) {
        const mc_ram_block *b = &rec->blocks[i];
        if (!check_counted(b->idstr, "RAM block name", errp) ||
            !db_open(d, MC_BER_SEQ, errp)) {
            return false;
        }
        db_str(d, MC_BER_UTF8, b->idstr);
        db_uint(d, MC_BER_INTEGER, b->used_length);
        if (b->has_page_size) {
            db_uint(d, MC_BER_CTX | 0, b->page_size);
        }
        if (b->has_addr) {
            db_uint(d, MC_BER_CTX | 1, b->addr);
        }
        db_close(d);
    }
    db_close(d);
    db_close(d);
    return true;
}

static bool bw_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!w->in_section || w->kind != MC_SECTION_RAM) {
        return misuse(errp, "RAM record outside a RAM section");
    }
    if (rec->block && !check_counted(rec->block, "RAM block name", errp)) {
        return false;
    }
    switch (rec->kind) {
    case MC_RAM_ZERO:
        if (run_extends(w, RUN_ZERO, rec)) {
            w->run_count++;
            w->run_next_ok = w->run_next <= UINT64_MAX - w->page_size;
            w->run_next += w->page_size;
            return true;
        }
        if (!flush_run(w, errp)) {
            return false;
        }
        start_run(w, RUN_ZERO, rec);
        return true;
    case MC_RAM_PAGE:
        if (rec->len != w->page_size) {
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "page record of %zu bytes in a stream with "
                          "%u-byte pages", rec->len, w->page_size);
            return false;
        }
        if (run_extends(w, RUN_PAGE, rec)) {
            memcpy(w->run_data + (size_t)w->run_count * w->page_size,
                   rec->data, w->page_size);
            w->run_count++;
            w->run_next_ok = w->run_next <= UINT64_MAX - w->page_size;
            w->run_next += w->page_size;
            return true;
        }
        if (!flush_run(w, errp)) {
            return false;
        }
        start_run(w, RUN_PAGE, rec);
        return true;
    default:
        break;
    }
    if (!flush_run(w, errp)) {
        return false;
    }
    switch (rec->kind) {
    case MC_RAM_MEM_SIZE:
        if (rec->block) {
            return misuse(errp, "mem_size record with a block name");
        }
        if (!encode_mem_size(w, rec, errp)) {
            return false;
        }
        return ram_emit(w, w->scratch.p, w->scratch.len, NULL, 0, errp);
    case MC_RAM_XBZRLE: {
        uint8_t extra[11];
        size_t en = 0;
        if (rec->encoding != 1) {
            en = der_uint_tlv(extra, MC_BER_CTX | 1, rec->encoding);
        }
        encode_page_head(w, MC_BER_RAM_XBZRLE, rec->offset, rec->block, extra, en,
                         true, rec->len);
        return ram_emit(w, w->scratch.p, w->scratch.len, rec->data, rec->len,
                        errp);
    }
    case MC_RAM_COMPRESS:
        encode_page_head(w, MC_BER_RAM_COMPRESSED, rec->offset, rec->block, NULL, 0,
                         true, rec->len);
        return ram_emit(w, w->scratch.p, w->scratch.len, rec->data, rec->len,
                        errp);
    case MC_RAM_EOS:
    case MC_RAM_MULTIFD_FLUSH: {
        if (rec->offset != 0 || rec->block) {
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "%s record with an offset or block name cannot be "
                          "encoded", mc_ram_kind_name(rec->kind));
            return false;
        }
        uint8_t tlv[2] = {rec->kind == MC_RAM_EOS ? MC_BER_RAM_EOS : MC_BER_RAM_FLUSH, 0};
        return ram_emit(w, tlv, 2, NULL, 0, errp);
    }
    default:
        return misuse(errp, "unknown RAM record kind");
    }
}

static bool end_ram_section(ber_writer *w, bool footer, mc_error **errp)
{
    static const uint8_t foot[2] = {MC_BER_CTX | 0, 0};
    static const uint8_t eoc[2] = {0, 0};
    if (!flush_run(w, errp)) {
        return false;
    }
    if (w->ram_indef) {
        return out_write(w, eoc, 2, errp) &&
               (!footer || out_write(w, foot, 2, errp)) &&
               out_write(w, eoc, 2, errp);
    }
    uint8_t sec_tl[10], rec_tl[10];
    size_t rn = w->ram_buf.len;
    unsigned rtl = der_tl(rec_tl, MC_BER_SEQ, rn);
    uint64_t content = w->ram_hdr.len + rtl + rn + (footer ? 2 : 0);
    unsigned stl = der_tl(sec_tl, MC_BER_RAMSECTION, content);
    return out_write(w, sec_tl, stl, errp) &&
           out_write(w, w->ram_hdr.p, w->ram_hdr.len, errp) &&
           out_write(w, rec_tl, rtl, errp) &&
           out_write(w, w->ram_buf.p, rn, errp) &&
           (!footer || out_write(w, foot, 2, errp));
}

static bool bw_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!w->in_section) {
        return misuse(errp, "end of a section that was not started");
    }
    if (w->kind == MC_SECTION_RAM) {
        w->in_section = false;
        return end_ram_section(w, footer, errp);
    }
    if (w->n_frames != 1) {
        return misuse(errp, "section ended inside a struct, array or "
                            "subsection");
    }
    w->n_frames = 0;
    w->in_section = false;
    dbuf *d = &w->rec;
    close_body_list(w);
    db_close(d);                    /* body */
    if (footer) {
        db_byte(d, MC_BER_CTX | 0);
        db_byte(d, 0);
    }
    db_close(d);                    /* section */
    return out_write(w, d->p, d->len, errp);
}

/* ---- values ---- */

/*
 * Check that a value may be written here (array elements are counted) and
 * open its Element: a Field with the name and, unless it is the canonical
 * one, the type; or, when there is neither, nothing (a bare Value).
 * *wrapped tells the caller whether a Field is open to close.
 */
static bool open_field(ber_writer *w, const mc_field *f, const char *canonical,
                       bool *wrapped, mc_error **errp)
{
    frame *fr = top_frame(w);
    if (!w->in_section || w->kind == MC_SECTION_RAM || !fr) {
        return misuse(errp, "value outside a device section");
    }
    if (fr->kind == FR_ARRAY) {
        if (fr->left == 0) {
            return misuse(errp, "more array elements than announced");
        }
        fr->left--;
    } else if (fr->in_subs) {
        return misuse(errp, "value after a subsection");
    }
    dbuf *d = &w->rec;
    bool name = w->names && f && f->name;
    bool type = w->names && f && f->type &&
                (!canonical || strcmp(f->type, canonical) != 0);
    *wrapped = name || type;
    if (!*wrapped) {
        return true;
    }
    if (!db_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    if (name) {
        db_str(d, MC_BER_UTF8, f->name);
    }
    if (type) {
        db_str(d, MC_BER_FIELD_TYPE, f->type);
    }
    return true;
}

static bool bw_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (wt >= MC_WT__COUNT) {
        return misuse(errp, "invalid wire type");
    }
    if (!mc_wire_type_fits(wt, raw) || (wt == MC_WT_BOOL && raw > 1)) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "ber writer: value 0x%llx does not fit %s",
                     (unsigned long long)raw, mc_wire_type_name(wt));
        return false;
    }
    bool wrapped;
    if (!open_field(w, f, mc_wire_type_name(wt), &wrapped, errp)) {
        return false;
    }
    dbuf *d = &w->rec;
    if (wt == MC_WT_BOOL) {
        db_byte(d, MC_BER_VAL_BOOL);
        db_byte(d, 1);
        db_byte(d, raw ? 0xff : 0x00);
    } else if (mc_wire_type_signed(wt)) {
        db_sint(d, (uint8_t)(MC_BER_CTX | wt), mc_wire_type_sext(wt, raw));
    } else {
        db_uint(d, (uint8_t)(MC_BER_CTX | wt), raw);
    }
    if (wrapped) {
        db_close(d);
    }
    return true;
}

static bool bw_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    bool wrapped;
    if (!open_field(w, f, "buffer", &wrapped, errp)) {
        return false;
    }
    dbuf *d = &w->rec;
    db_tl(d, MC_BER_VAL_BYTES, len);
    db_put(d, data, len);
    if (wrapped) {
        db_close(d);
    }
    return true;
}

static bool bw_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (wt >= MC_WT__COUNT) {
        return misuse(errp, "invalid wire type");
    }
    size_t n = (size_t)count * mc_wire_type_width(wt);
    if (wt == MC_WT_BOOL) {
        for (size_t i = 0; i < n; i++) {
            if (data[i] > 1) {
                mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                             "ber writer: packed bool element %zu is 0x%02x",
                             i, data[i]);
                return false;
            }
        }
    }
    bool wrapped;
    if (!open_field(w, f, NULL, &wrapped, errp)) {
        return false;
    }
    dbuf *d = &w->rec;
    if (!db_open(d, MC_BER_VAL_PACKED, errp)) {
        return false;
    }
    db_byte(d, MC_BER_ENUM);
    db_byte(d, 1);
    db_byte(d, (uint8_t)wt);
    db_tl(d, MC_BER_OCTETS, n);
    db_put(d, data, n);
    db_close(d);
    if (wrapped) {
        db_close(d);
    }
    return true;
}

static bool bw_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    bool wrapped;
    if (!open_field(w, f, "struct", &wrapped, errp) ||
        !db_open(&w->rec, MC_BER_VAL_STRUCT, errp) ||
        !db_open(&w->rec, MC_BER_SEQ, errp)) {
        return false;
    }
    push_frame(w, FR_STRUCT)->wrapped = wrapped;
    return true;
}

static bool bw_end_struct(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    frame *fr = top_frame(w);
    if (!w->in_section || !fr || fr->kind != FR_STRUCT) {
        return misuse(errp, "end of a struct that was not started");
    }
    w->n_frames--;
    close_body_list(w);
    db_close(&w->rec);              /* [10] struct */
    if (fr->wrapped) {
        db_close(&w->rec);          /* Field */
    }
    return true;
}

static bool bw_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    ber_writer *w = bw_of(v);
    bool wrapped;
    if (!open_field(w, f, NULL, &wrapped, errp) ||
        !db_open(&w->rec, MC_BER_VAL_ARRAY, errp)) {
        return false;
    }
    frame *fr = push_frame(w, FR_ARRAY);
    fr->left = count;
    fr->wrapped = wrapped;
    return true;
}

static bool bw_end_array(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    frame *fr = top_frame(w);
    if (!w->in_section || !fr || fr->kind != FR_ARRAY) {
        return misuse(errp, "end of an array that was not started");
    }
    if (fr->left) {
        return misuse(errp, "fewer array elements than announced");
    }
    w->n_frames--;
    db_close(&w->rec);              /* [11] array */
    if (fr->wrapped) {
        db_close(&w->rec);          /* Field */
    }
    return true;
}

static bool bw_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    frame *fr = top_frame(w);
    if (!w->in_section || w->kind == MC_SECTION_RAM || !fr ||
        fr->kind == FR_ARRAY) {
        return misuse(errp, "subsection outside a section, struct or "
                            "subsection body");
    }
    if (!check_counted(name, "subsection name", errp)) {
        return false;
    }
    dbuf *d = &w->rec;
    if (!fr->in_subs) {
        db_close(d);                /* fields */
        if (!db_open(d, MC_BER_CTX_CONS | 0, errp)) {
            return false;
        }
        fr->in_subs = true;
    }
    if (!db_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    db_str(d, MC_BER_UTF8, name);
    db_uint(d, MC_BER_INTEGER, version_id);
    if (!db_open(d, MC_BER_SEQ, errp) ||     /* body */
        !db_open(d, MC_BER_SEQ, errp)) {     /* body.fields */
        return false;
    }
    push_frame(w, FR_SUBSECTION);
    return true;
}

static bool bw_end_subsection(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    frame *fr = top_frame(w);
    if (!w->in_section || !fr || fr->kind != FR_SUBSECTION) {
        return misuse(errp, "end of a subsection that was not started");
    }
    w->n_frames--;
    close_body_list(w);
    db_close(&w->rec);              /* body */
    db_close(&w->rec);              /* Subsection */
    return true;
}

/* ---- other items ---- */

static bool bw_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!check_item_ok(w, errp)) {
        return false;
    }
    uint8_t head[24];
    uint8_t icmd[11];
    unsigned ni = der_uint_tlv(icmd, MC_BER_INTEGER, cmd);
    uint8_t otl[10];
    unsigned no = der_tl(otl, MC_BER_OCTETS, len);
    unsigned nh = der_tl(head, MC_BER_COMMAND, (uint64_t)ni + no + len);
    memcpy(head + nh, icmd, ni);
    nh += ni;
    memcpy(head + nh, otl, no);
    nh += no;
    return out_write(w, head, nh, errp) && out_write(w, data, len, errp);
}

static bool bw_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!check_item_ok(w, errp)) {
        return false;
    }
    uint8_t head[2 + 7 + 2];
    head[0] = MC_BER_PACKAGED;
    head[1] = 0x80;
    unsigned n = 2 + der_uint_tlv(head + 2, MC_BER_INTEGER, len);
    head[n++] = MC_BER_SEQ;
    head[n++] = 0x80;
    w->packaged++;
    return out_write(w, head, n, errp);
}

static bool bw_end_packaged(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!check_item_ok(w, errp)) {
        return false;
    }
    if (!w->packaged) {
        return misuse(errp, "end of a package that was not started");
    }
    w->packaged--;
    static const uint8_t eoc[4] = {0, 0, 0, 0};
    return out_write(w, eoc, sizeof(eoc), errp);
}

static bool bw_eof(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    /* eof [APPLICATION 5] INTEGER 0 */
    static const uint8_t tlv[3] = {MC_BER_EOF, 1, 0};
    return check_item_ok(w, errp) && out_write(w, tlv, 3, errp);
}

static bool bw_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!check_item_ok(w, errp)) {
        return false;
    }
    /* vmdescDeflated [APPLICATION 7] {length, zlib}, unless compressing
     * does not make it smaller. */
    uLongf zlen = compressBound((uLong)len);
    uint8_t *z = mc_malloc(zlen);
    if (len <= UINT32_MAX &&
        compress2(z, &zlen, json, (uLong)len, Z_BEST_COMPRESSION) == Z_OK &&
        zlen + 16 < len) {
        dbuf *d = &w->rec;
        d->len = 0;
        bool ok = db_open(d, MC_BER_VMDESC_DEFLATED, errp);
        if (ok) {
            db_uint(d, MC_BER_INTEGER, len);
            db_tl(d, MC_BER_OCTETS, zlen);
            db_put(d, z, zlen);
            db_close(d);
            ok = out_write(w, d->p, d->len, errp);
        }
        free(z);
        return ok;
    }
    free(z);
    uint8_t tl[10];
    unsigned n = der_tl(tl, MC_BER_VMDESC, len);
    return out_write(w, tl, n, errp) && out_write(w, json, len, errp);
}

static bool bw_complete(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = bw_of(v);
    if (!w->ended) {
        return misuse(errp, "stream not ended");
    }
    return mc_sink_flush(w->out, errp);
}

static void bw_free(mc_visitor *v)
{
    ber_writer *w = bw_of(v);
    db_free(&w->rec);
    db_free(&w->ram_hdr);
    db_free(&w->ram_buf);
    db_free(&w->scratch);
    free(w->frames);
    free(w->run_data);
    free(w);
}

static const mc_visitor_ops ber_writer_ops = {
    .start_stream = bw_start_stream,
    .end_stream = bw_end_stream,
    .start_section = bw_start_section,
    .end_section = bw_end_section,
    .visit_int = bw_visit_int,
    .visit_bytes = bw_visit_bytes,
    .visit_packed = bw_visit_packed,
    .start_struct = bw_start_struct,
    .end_struct = bw_end_struct,
    .start_array = bw_start_array,
    .end_array = bw_end_array,
    .start_subsection = bw_start_subsection,
    .end_subsection = bw_end_subsection,
    .ram_record = bw_ram_record,
    .command = bw_command,
    .start_packaged = bw_start_packaged,
    .end_packaged = bw_end_packaged,
    .eof = bw_eof,
    .vmdesc = bw_vmdesc,
    .complete = bw_complete,
    .free = bw_free,
};

mc_visitor *mc_ber_writer_new(mc_sink *out, const mc_ber_writer_opts *opts)
{
    ber_writer *w = mc_calloc(1, sizeof(*w));
    w->base.ops = &ber_writer_ops;
    w->out = out;
    w->names = opts ? opts->names : true;
    return &w->base;
}
