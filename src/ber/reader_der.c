/*
 * The BER reader: TLV headers, the DER cursor over a record in memory,
 * primitive values, and the helpers that take records and items from the
 * source.
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

/* ---- TLV headers ---- */

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
bool mc_br_src_tl(reader *r, tl *t, mc_error **errp)
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
bool mc_br_cur_tlv(reader *r, cur *c, tl *t, cur *val, mc_error **errp)
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

bool mc_br_cur_expect(reader *r, cur *c, uint8_t tag, cur *val,
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
    return mc_br_cur_tlv(r, c, &t, val, errp);
}

bool mc_br_cur_end(reader *r, const cur *c, const char *what, mc_error **errp)
{
    if (c->n) {
        return DATA_ERR(r, c->off, "unexpected tag 0x%02x in %s", c->p[0],
                        what);
    }
    return true;
}

/* ---- primitive values ---- */

/* A minimal INTEGER: *neg and the value's 64-bit two's complement. */
bool mc_br_der_integer(reader *r, const cur *v, bool *neg, uint64_t *bits,
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
bool mc_br_cur_uint(reader *r, cur *c, uint8_t tag, uint64_t max,
                    uint64_t *out, const char *what, mc_error **errp)
{
    cur v;
    uint64_t off = c->off;
    bool neg, big;
    if (!mc_br_cur_expect(r, c, tag, &v, what, errp) ||
        !mc_br_der_integer(r, &v, &neg, out, &big, errp)) {
        return false;
    }
    if (neg || big || *out > max) {
        return DATA_ERR(r, off, "%s out of range (0..%llu)", what,
                        (unsigned long long)max);
    }
    return true;
}

/* An optional [n] INTEGER; *present says whether it was there. */
bool mc_br_cur_opt_uint(reader *r, cur *c, uint8_t tag, uint64_t max,
                        bool *present, uint64_t *out, const char *what,
                        mc_error **errp)
{
    *present = mc_br_cur_peek(c) == tag;
    return !*present || mc_br_cur_uint(r, c, tag, max, out, what, errp);
}

/* Copy a string value into scratch slot s (NUL-terminated). */
bool mc_br_cur_string(reader *r, const cur *v, int s, size_t min, size_t max,
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

bool mc_br_cur_opt_string(reader *r, cur *c, uint8_t tag, int s, size_t min,
                          size_t max, const char **out, const char *what,
                          mc_error **errp)
{
    cur v;
    *out = NULL;
    if (mc_br_cur_peek(c) != tag) {
        return true;
    }
    return mc_br_cur_expect(r, c, tag, &v, what, errp) &&
           mc_br_cur_string(r, &v, s, min, max, out, what, errp);
}

/* ---- source helpers ---- */

/* Take a whole definite TLV (header included) whose header is t. */
bool mc_br_take_record(reader *r, const tl *t, const uint8_t **p,
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

bool mc_br_schema_check(reader *r, const char *type, const uint8_t *p,
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
bool mc_br_take_item(reader *r, const tl *t, const uint8_t **p, size_t *total,
                     mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    return mc_br_take_record(r, t, p, total, errp) &&
           (!r->validate ||
            mc_br_schema_check(r, "MigConv.ItemL", *p, *total, off, errp));
}

/* Consume end-of-contents octets. */
bool mc_br_expect_eoc(reader *r, const char *what, mc_error **errp)
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
bool mc_br_at_eoc(reader *r, bool *eoc, mc_error **errp)
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

bool mc_br_depth_enter(reader *r, uint64_t off, mc_error **errp)
{
    if (r->depth >= MAX_DEPTH) {
        return DATA_ERR(r, off, "nesting deeper than %d levels", MAX_DEPTH);
    }
    r->depth++;
    return true;
}
