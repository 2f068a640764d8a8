/*
 * The BER reader: the values of configuration and device sections
 * (fields, structs, arrays, packed arrays, subsections).
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

/* ---- values ---- */

static bool read_field(reader *r, cur *list, uint32_t index, bool element,
                       mc_error **errp);

static bool read_struct(reader *r, const mc_field *f, cur *val, uint64_t off,
                        mc_error **errp)
{
    if (!mc_br_depth_enter(r, off, errp) ||
        !mc_visit_start_struct(r->v, f, errp) ||
        !mc_br_read_body(r, val, errp) || !mc_visit_end_struct(r->v, errp)) {
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
        if (!mc_br_cur_tlv(r, &scan, &t, &elem, errp)) {
            return false;
        }
        count++;
    }
    if (count > UINT32_MAX) {
        return DATA_ERR(r, off, "array of %llu elements",
                        (unsigned long long)count);
    }
    if (!mc_br_depth_enter(r, off, errp) ||
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
    if (!mc_br_cur_uint(r, val, MC_BER_ENUM, MC_WT_BOOL, &et,
                        "packed element type", errp) ||
        !mc_br_cur_expect(r, val, MC_BER_OCTETS, &data, "packed data", errp) ||
        !mc_br_cur_end(r, val, "packed value", errp)) {
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
    if (!mc_br_der_integer(r, val, &neg, &bits, &big, errp)) {
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
    /* core/path.h: "[I]" for an element, "/NAME" for a named field,
     * "/fields[I]" for a field without a name */
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
        if (!mc_br_cur_tlv(r, list, &t0, &v0, errp)) {
            return false;
        }
        fc = one;
        fc.n = (size_t)(list->off - one.off);
    } else if (!mc_br_cur_expect(r, list, MC_BER_SEQ, &fc, "field", errp) ||
               !mc_br_cur_opt_string(r, &fc, MC_BER_UTF8, S_NAME, 0, SIZE_MAX,
                                     &f.name, "field name", errp)) {
        return false;
    }
    if (f.name && !element) {
        path_pop(r, old);
        path_add(r, "/", f.name, 255, false, 0, "");
    }
    if (!mc_br_cur_opt_string(r, &fc, MC_BER_FIELD_TYPE, S_TYPE, 0, SIZE_MAX,
                              &f.type, "field type", errp)) {
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
    if (!mc_br_cur_tlv(r, &fc, &t, &val, errp) ||
        !mc_br_cur_end(r, &fc, "field", errp)) {
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
    if (!mc_br_cur_expect(r, list, MC_BER_SEQ, &sc, "subsection", errp) ||
        !mc_br_cur_expect(r, &sc, MC_BER_UTF8, &v, "subsection name", errp) ||
        !mc_br_cur_string(r, &v, S_NAME, 1, MC_MAX_COUNTED, &name,
                          "subsection name", errp)) {
        return false;
    }
    size_t old = path_add(r, "/", name, 255, false, 0, "");
    if (!mc_br_cur_uint(r, &sc, MC_BER_INTEGER, UINT32_MAX, &version,
                  "subsection version", errp) ||
        !mc_br_cur_expect(r, &sc, MC_BER_SEQ, &body, "subsection body", errp) ||
        !mc_br_cur_end(r, &sc, "subsection", errp) ||
        !mc_br_depth_enter(r, off, errp) ||
        !mc_visit_start_subsection(r->v, name, (uint32_t)version, errp) ||
        !mc_br_read_body(r, &body, errp) ||
        !mc_visit_end_subsection(r->v, errp)) {
        return false;
    }
    r->depth--;
    path_pop(r, old);
    return true;
}

/* Body (or a struct value): fields, then [0] subsections if any. */
bool mc_br_read_body(reader *r, cur *c, mc_error **errp)
{
    cur fields, subs;
    if (!mc_br_cur_expect(r, c, MC_BER_SEQ, &fields, "fields", errp)) {
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
    if (!mc_br_cur_expect(r, c, MC_BER_CTX_CONS | 0, &subs, "subsections",
                          errp)) {
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
    return mc_br_cur_end(r, c, "body", errp);
}
