/* DER building (core/der.h). */
#include "core/der.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void mc_der_free(mc_der_buf *d)
{
    free(d->p);
    free(d->open);
    memset(d, 0, sizeof(*d));
}

/* Minimal DER length octets of n into out (at most 9 bytes). */
unsigned mc_der_len(uint8_t *out, uint64_t n)
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
unsigned mc_der_tl(uint8_t *out, uint8_t tag, uint64_t n)
{
    out[0] = tag;
    return 1 + mc_der_len(out + 1, n);
}

/*
 * Minimal two's-complement INTEGER content of a value: an unsigned value
 * (is_neg false, v its bits) or a negative one (is_neg true, v its 64-bit
 * two's complement).  out holds at most 9 bytes.
 */
unsigned mc_der_int_content(uint8_t *out, uint64_t v, bool is_neg)
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
unsigned mc_der_uint_tlv(uint8_t *out, uint8_t tag, uint64_t v)
{
    out[0] = tag;
    out[1] = (uint8_t)mc_der_int_content(out + 2, v, false);
    return 2u + out[1];
}

void mc_der_put_tl(mc_der_buf *d, uint8_t tag, uint64_t n)
{
    uint8_t tl[10];
    mc_der_put(d, tl, mc_der_tl(tl, tag, n));
}

void mc_der_put_uint(mc_der_buf *d, uint8_t tag, uint64_t v)
{
    uint8_t tlv[11];
    mc_der_put(d, tlv, mc_der_uint_tlv(tlv, tag, v));
}

void mc_der_put_sint(mc_der_buf *d, uint8_t tag, int64_t v)
{
    uint8_t tlv[11];
    tlv[0] = tag;
    tlv[1] = (uint8_t)mc_der_int_content(tlv + 2, (uint64_t)v, v < 0);
    mc_der_put(d, tlv, 2u + tlv[1]);
}

void mc_der_put_str(mc_der_buf *d, uint8_t tag, const char *s)
{
    size_t n = strlen(s);
    mc_der_put_tl(d, tag, n);
    mc_der_put(d, s, n);
}

bool mc_der_open(mc_der_buf *d, uint8_t tag, mc_error **errp)
{
    if (d->n_open >= MC_DER_MAX_OPEN) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "ber writer: values nested more than %u levels deep",
                     MC_DER_MAX_OPEN / 3);
        return false;
    }
    if (d->n_open == d->cap_open) {
        d->cap_open = d->cap_open ? d->cap_open * 2 : 16;
        d->open = mc_realloc(d->open, d->cap_open * sizeof(*d->open));
    }
    mc_der_byte(d, tag);
    d->open[d->n_open++] = d->len;
    mc_der_byte(d, 0);
    return true;
}

void mc_der_close(mc_der_buf *d)
{
    size_t lpos = d->open[--d->n_open];
    size_t clen = d->len - lpos - 1;
    uint8_t l[9];
    unsigned n = mc_der_len(l, clen);
    if (n > 1) {
        mc_der_reserve(d, n - 1);
        memmove(d->p + lpos + n, d->p + lpos + 1, clen);
        d->len += n - 1;
    }
    memcpy(d->p + lpos, l, n);
}
