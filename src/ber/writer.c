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
#include "core/der.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "ber/writer_impl.h"
#include "visit/visitors.h"

/* ---- the writer ---- */



ber_writer *mc_bw_of(mc_visitor *v)
{
    return (ber_writer *)v;
}

bool mc_bw_out_write(ber_writer *w, const void *p, size_t n, mc_error **errp)
{
    /* Empty buffers may have no storage: never hand a NULL on. */
    return n == 0 || mc_sink_write(w->out, p, n, errp);
}

bool mc_bw_misuse(mc_error **errp, const char *what)
{
    mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                 "ber writer: %s", what);
    return false;
}

/* A counted name (RAM block, idstr, subsection): 1..255 bytes. */
bool mc_bw_check_counted(const char *s, const char *what, mc_error **errp)
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
    ber_writer *w = mc_bw_of(v);
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
        return mc_bw_misuse(errp, "page size 0");
    }
    w->started = true;
    w->page_size = info->page_size;
    w->run_max_pages = mc_ber_run_max_pages(info->page_size);

    mc_der_buf *d = &w->scratch;
    d->len = 0;
    mc_der_byte(d, MC_BER_STREAM);
    mc_der_byte(d, 0x80);
    if (!mc_der_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    mc_der_put_uint(d, MC_BER_INTEGER, 1);                   /* formatVersion */
    mc_der_put_uint(d, MC_BER_INTEGER, info->magic);         /* magic */
    mc_der_put_uint(d, MC_BER_INTEGER, info->version);       /* fileVersion */
    mc_der_put_uint(d, MC_BER_INTEGER, info->page_size);     /* pageSize */
    mc_der_put_uint(d, MC_BER_ENUM, source);                 /* pageSizeSource */
    mc_der_byte(d, MC_BER_BOOLEAN);                      /* names */
    mc_der_byte(d, 1);
    mc_der_byte(d, w->names ? 0xff : 0x00);
    mc_der_close(d);
    mc_der_byte(d, MC_BER_SEQ);                          /* items */
    mc_der_byte(d, 0x80);
    return mc_bw_out_write(w, d->p, d->len, errp);
}

static bool bw_end_stream(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    w->ended = true;
    static const uint8_t eoc[4] = {0, 0, 0, 0};
    return mc_bw_out_write(w, eoc, sizeof(eoc), errp);
}

/* ---- section headers ---- */

bool mc_bw_encode_section_header(ber_writer *w, mc_der_buf *d,
                                  const mc_section_info *info,
                                  mc_error **errp)
{
    bool full = info->type == MC_VM_SECTION_START ||
                info->type == MC_VM_SECTION_FULL;
    if (full && !mc_bw_check_counted(info->idstr, "section idstr", errp)) {
        return false;
    }
    if (!mc_der_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    mc_der_put_uint(d, MC_BER_INTEGER, info->type);
    if (info->type != MC_VM_CONFIGURATION) {
        mc_der_put_uint(d, MC_BER_CTX | 0, info->section_id);
    }
    if (full) {
        mc_der_put_str(d, MC_BER_CTX | 1, info->idstr);
        mc_der_put_uint(d, MC_BER_CTX | 2, info->instance_id);
        mc_der_put_uint(d, MC_BER_CTX | 3, info->version_id);
    }
    if (w->names && info->vmsd_name) {
        mc_der_put_str(d, MC_BER_CTX | 4, info->vmsd_name);
    }
    mc_der_close(d);
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
    ber_writer *w = mc_bw_of(v);
    switch (info->type) {
    case MC_VM_SECTION_START:
    case MC_VM_SECTION_PART:
    case MC_VM_SECTION_END:
    case MC_VM_SECTION_FULL:
        if (info->kind == MC_SECTION_CONFIG) {
            return mc_bw_misuse(errp, "configuration kind on a device section");
        }
        break;
    case MC_VM_CONFIGURATION:
        if (info->kind != MC_SECTION_CONFIG) {
            return mc_bw_misuse(errp, "configuration type on a non-configuration "
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
        if (!mc_bw_encode_section_header(w, &w->ram_hdr, info, errp)) {
            return false;
        }
        w->in_section = true;
        return true;
    }
    mc_der_buf *d = &w->rec;
    d->len = 0;
    d->n_open = 0;
    w->n_frames = 0;
    if (!mc_der_open(d, MC_BER_SECTION, errp) ||
        !mc_bw_encode_section_header(w, d, info, errp) ||
        !mc_der_open(d, MC_BER_SEQ, errp) ||     /* body */
        !mc_der_open(d, MC_BER_SEQ, errp)) {     /* body.fields */
        return false;
    }
    push_frame(w, FR_SECTION);
    w->in_section = true;
    return true;
}

/* Close the list of a body frame (fields, or subsections if open). */
static void close_body_list(ber_writer *w)
{
    mc_der_close(&w->rec);
}

static bool bw_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    if (w->kind == MC_SECTION_RAM) {
        w->in_section = false;
        return mc_bw_end_ram_section(w, footer, errp);
    }
    w->n_frames = 0;
    w->in_section = false;
    mc_der_buf *d = &w->rec;
    close_body_list(w);
    mc_der_close(d);                    /* body */
    if (footer) {
        mc_der_byte(d, MC_BER_CTX | 0);
        mc_der_byte(d, 0);
    }
    mc_der_close(d);                    /* section */
    return mc_bw_out_write(w, d->p, d->len, errp);
}

/* ---- values ---- */

/*
 * Count an array element and open the value's Element: a Field with the name and, unless it is the canonical
 * one, the type; or, when there is neither, nothing (a bare Value).
 * *wrapped tells the caller whether a Field is open to close.
 */
static bool open_field(ber_writer *w, const mc_field *f, const char *canonical,
                       bool *wrapped, mc_error **errp)
{
    frame *fr = top_frame(w);
    if (fr->kind == FR_ARRAY) {
        fr->left--;
    }
    mc_der_buf *d = &w->rec;
    bool name = w->names && f && f->name;
    bool type = w->names && f && f->type &&
                (!canonical || strcmp(f->type, canonical) != 0);
    *wrapped = name || type;
    if (!*wrapped) {
        return true;
    }
    if (!mc_der_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    if (name) {
        mc_der_put_str(d, MC_BER_UTF8, f->name);
    }
    if (type) {
        mc_der_put_str(d, MC_BER_FIELD_TYPE, f->type);
    }
    return true;
}

static bool bw_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    if (wt >= MC_WT__COUNT) {
        return mc_bw_misuse(errp, "invalid wire type");
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
    mc_der_buf *d = &w->rec;
    if (wt == MC_WT_BOOL) {
        mc_der_byte(d, MC_BER_VAL_BOOL);
        mc_der_byte(d, 1);
        mc_der_byte(d, raw ? 0xff : 0x00);
    } else if (mc_wire_type_signed(wt)) {
        mc_der_put_sint(d, (uint8_t)(MC_BER_CTX | wt), mc_wire_type_sext(wt, raw));
    } else {
        mc_der_put_uint(d, (uint8_t)(MC_BER_CTX | wt), raw);
    }
    if (wrapped) {
        mc_der_close(d);
    }
    return true;
}

static bool bw_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    bool wrapped;
    if (!open_field(w, f, "buffer", &wrapped, errp)) {
        return false;
    }
    mc_der_buf *d = &w->rec;
    mc_der_put_tl(d, MC_BER_VAL_BYTES, len);
    mc_der_put(d, data, len);
    if (wrapped) {
        mc_der_close(d);
    }
    return true;
}

static bool bw_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    if (wt >= MC_WT__COUNT) {
        return mc_bw_misuse(errp, "invalid wire type");
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
    mc_der_buf *d = &w->rec;
    if (!mc_der_open(d, MC_BER_VAL_PACKED, errp)) {
        return false;
    }
    mc_der_byte(d, MC_BER_ENUM);
    mc_der_byte(d, 1);
    mc_der_byte(d, (uint8_t)wt);
    mc_der_put_tl(d, MC_BER_OCTETS, n);
    mc_der_put(d, data, n);
    mc_der_close(d);
    if (wrapped) {
        mc_der_close(d);
    }
    return true;
}

static bool bw_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    bool wrapped;
    if (!open_field(w, f, "struct", &wrapped, errp) ||
        !mc_der_open(&w->rec, MC_BER_VAL_STRUCT, errp) ||
        !mc_der_open(&w->rec, MC_BER_SEQ, errp)) {
        return false;
    }
    push_frame(w, FR_STRUCT)->wrapped = wrapped;
    return true;
}

static bool bw_end_struct(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    frame *fr = top_frame(w);
    w->n_frames--;
    close_body_list(w);
    mc_der_close(&w->rec);              /* [10] struct */
    if (fr->wrapped) {
        mc_der_close(&w->rec);          /* Field */
    }
    return true;
}

static bool bw_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    bool wrapped;
    if (!open_field(w, f, NULL, &wrapped, errp) ||
        !mc_der_open(&w->rec, MC_BER_VAL_ARRAY, errp)) {
        return false;
    }
    frame *fr = push_frame(w, FR_ARRAY);
    fr->left = count;
    fr->wrapped = wrapped;
    return true;
}

static bool bw_end_array(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    frame *fr = top_frame(w);
    w->n_frames--;
    mc_der_close(&w->rec);              /* [11] array */
    if (fr->wrapped) {
        mc_der_close(&w->rec);          /* Field */
    }
    return true;
}

static bool bw_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    frame *fr = top_frame(w);
    if (!mc_bw_check_counted(name, "subsection name", errp)) {
        return false;
    }
    mc_der_buf *d = &w->rec;
    if (!fr->in_subs) {
        mc_der_close(d);                /* fields */
        if (!mc_der_open(d, MC_BER_CTX_CONS | 0, errp)) {
            return false;
        }
        fr->in_subs = true;
    }
    if (!mc_der_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    mc_der_put_str(d, MC_BER_UTF8, name);
    mc_der_put_uint(d, MC_BER_INTEGER, version_id);
    if (!mc_der_open(d, MC_BER_SEQ, errp) ||     /* body */
        !mc_der_open(d, MC_BER_SEQ, errp)) {     /* body.fields */
        return false;
    }
    push_frame(w, FR_SUBSECTION);
    return true;
}

static bool bw_end_subsection(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    w->n_frames--;
    close_body_list(w);
    mc_der_close(&w->rec);              /* body */
    mc_der_close(&w->rec);              /* Subsection */
    return true;
}

/* ---- other items ---- */

static bool bw_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    uint8_t head[24];
    uint8_t icmd[11];
    unsigned ni = mc_der_uint_tlv(icmd, MC_BER_INTEGER, cmd);
    uint8_t otl[10];
    unsigned no = mc_der_tl(otl, MC_BER_OCTETS, len);
    unsigned nh = mc_der_tl(head, MC_BER_COMMAND, (uint64_t)ni + no + len);
    memcpy(head + nh, icmd, ni);
    nh += ni;
    memcpy(head + nh, otl, no);
    nh += no;
    return mc_bw_out_write(w, head, nh, errp) && mc_bw_out_write(w, data, len, errp);
}

static bool bw_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    uint8_t head[2 + 7 + 2];
    head[0] = MC_BER_PACKAGED;
    head[1] = 0x80;
    unsigned n = 2 + mc_der_uint_tlv(head + 2, MC_BER_INTEGER, len);
    head[n++] = MC_BER_SEQ;
    head[n++] = 0x80;
    w->packaged++;
    return mc_bw_out_write(w, head, n, errp);
}

static bool bw_end_packaged(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    w->packaged--;
    static const uint8_t eoc[4] = {0, 0, 0, 0};
    return mc_bw_out_write(w, eoc, sizeof(eoc), errp);
}

static bool bw_eof(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    /* eof [APPLICATION 5] INTEGER 0 */
    static const uint8_t tlv[3] = {MC_BER_EOF, 1, 0};
    return mc_bw_out_write(w, tlv, 3, errp);
}

static bool bw_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    /* vmdescDeflated [APPLICATION 7] {length, zlib}, unless compressing
     * does not make it smaller. */
    uLongf zlen = compressBound((uLong)len);
    uint8_t *z = mc_malloc(zlen);
    if (len <= UINT32_MAX &&
        compress2(z, &zlen, json, (uLong)len, Z_BEST_COMPRESSION) == Z_OK &&
        zlen + 16 < len) {
        mc_der_buf *d = &w->rec;
        d->len = 0;
        bool ok = mc_der_open(d, MC_BER_VMDESC_DEFLATED, errp);
        if (ok) {
            mc_der_put_uint(d, MC_BER_INTEGER, len);
            mc_der_put_tl(d, MC_BER_OCTETS, zlen);
            mc_der_put(d, z, zlen);
            mc_der_close(d);
            ok = mc_bw_out_write(w, d->p, d->len, errp);
        }
        free(z);
        return ok;
    }
    free(z);
    uint8_t tl[10];
    unsigned n = mc_der_tl(tl, MC_BER_VMDESC, len);
    return mc_bw_out_write(w, tl, n, errp) && mc_bw_out_write(w, json, len, errp);
}

static bool bw_complete(mc_visitor *v, mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    if (!w->ended) {
        return mc_bw_misuse(errp, "stream not ended");
    }
    return mc_sink_flush(w->out, errp);
}

static void bw_free(mc_visitor *v)
{
    ber_writer *w = mc_bw_of(v);
    mc_der_free(&w->rec);
    mc_der_free(&w->ram_hdr);
    mc_der_free(&w->ram_buf);
    mc_der_free(&w->scratch);
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
    .ram_record = mc_bw_ram_record,
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
