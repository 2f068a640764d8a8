/*
 * DER building: a growable buffer with a stack of open constructed TLVs.
 * Each open TLV reserves one length byte; closing it writes the minimal
 * DER length (moving the content up when the length needs more bytes).
 * Tags and the limits of the format are in core/ber.h.
 */
#ifndef MC_CORE_DER_H
#define MC_CORE_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"

/* Nesting of open TLVs inside one record (a sane reader nests values at
 * most 64 deep; every level costs up to three TLVs). */
#define MC_DER_MAX_OPEN 1024u

typedef struct mc_der_buf {
    uint8_t *p;
    size_t len, cap;
    size_t *open;           /* positions of reserved length bytes */
    size_t n_open, cap_open;
} mc_der_buf;

void mc_der_free(mc_der_buf *d);
/* Minimal DER length octets of n into out (at most 9 bytes). */
unsigned mc_der_len(uint8_t *out, uint64_t n);
/* Tag and definite length into out (at most 10 bytes). */
unsigned mc_der_tl(uint8_t *out, uint8_t tag, uint64_t n);
/*
 * Minimal two's-complement INTEGER content of a value: an unsigned value
 * (is_neg false, v its bits) or a negative one (is_neg true, v its 64-bit
 * two's complement).  out holds at most 9 bytes.
 */
unsigned mc_der_int_content(uint8_t *out, uint64_t v, bool is_neg);
/* A complete INTEGER-valued TLV (tag given) of an unsigned value. */
unsigned mc_der_uint_tlv(uint8_t *out, uint8_t tag, uint64_t v);
void mc_der_put_tl(mc_der_buf *d, uint8_t tag, uint64_t n);
void mc_der_put_uint(mc_der_buf *d, uint8_t tag, uint64_t v);
void mc_der_put_sint(mc_der_buf *d, uint8_t tag, int64_t v);
void mc_der_put_str(mc_der_buf *d, uint8_t tag, const char *s);
bool mc_der_open(mc_der_buf *d, uint8_t tag, mc_error **errp);
void mc_der_close(mc_der_buf *d);

static inline void mc_der_reserve(mc_der_buf *d, size_t n)
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

static inline void mc_der_put(mc_der_buf *d, const void *p, size_t n)
{
    mc_der_reserve(d, n);
    if (n) {
        memcpy(d->p + d->len, p, n);
    }
    d->len += n;
}

static inline void mc_der_byte(mc_der_buf *d, uint8_t b)
{
    mc_der_reserve(d, 1);
    d->p[d->len++] = b;
}

#endif
