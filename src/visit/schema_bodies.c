/*
 * Where the bodies are in a BER stream (migconv schema --bodies): a walk
 * over the TLVs of the file, independent of the BER reader, that lists the
 * byte range of each Section's body and each Subsection's body, so that a
 * body can be cut out and handed to a decoder (asn1Decoding) with its
 * generated type.  Device section records are read one at a time (each is
 * one DER TLV); RAM sections, commands and the vmdesc are skipped.
 */
#include <inttypes.h>
#include <string.h>

#include "core/ber.h"
#include "core/io.h"
#include "visit/schema.h"

/* Device section records larger than this are refused. */
#define MAX_RECORD MC_SRC_MAX_REQUEST
#define MAX_DEPTH 256

typedef struct bwalk {
    const mc_schema *s;
    mc_src *src;
    mc_text *index;
    size_t next;           /* next slot of s->assign */
} bwalk;

/* A TL header in memory: tag, content length, header length. */
static bool tl_mem(const uint8_t *p, size_t n, uint8_t *tag, size_t *clen,
                   size_t *hlen)
{
    if (n < 2) {
        return false;
    }
    *tag = p[0];
    if ((p[0] & 0x1f) == 0x1f) {
        return false;      /* migconv writes no high tag numbers */
    }
    uint8_t l = p[1];
    if (l < 0x80) {
        *clen = l;
        *hlen = 2;
    } else {
        unsigned k = l & 0x7f;
        if (k == 0 || k > 4 || n < 2u + k) {
            return false;
        }
        size_t v = 0;
        for (unsigned i = 0; i < k; i++) {
            v = v << 8 | p[2 + i];
        }
        *clen = v;
        *hlen = 2 + k;
    }
    return *clen <= n - *hlen;
}

static bool bad(bwalk *w, uint64_t off, const char *what, mc_error **errp)
{
    mc_error_data(errp, off, NULL, "%s", what);
    return false;
}

static bool emit(bwalk *w, uint64_t off, size_t len, mc_error **errp)
{
    if (w->next >= w->s->n_assign || w->s->assign[w->next] == SIZE_MAX) {
        return bad(w, off, "more bodies than the stream's walk reported", errp);
    }
    const mc_stype *t = w->s->types[w->s->assign[w->next++]];
    mc_text_printf(w->index, "%" PRIu64 " %zu %s\n", off, len, t->ident);
    return true;
}

static bool body(bwalk *w, const uint8_t *p, size_t n, uint64_t off,
                 int depth, mc_error **errp);

/* A value or an element (a Field or a bare value): find structs. */
static bool element(bwalk *w, const uint8_t *p, size_t n, uint64_t off,
                    int depth, mc_error **errp)
{
    uint8_t tag;
    size_t clen, hlen;
    if (depth > MAX_DEPTH) {
        return bad(w, off, "values nested too deep", errp);
    }
    if (!tl_mem(p, n, &tag, &clen, &hlen)) {
        return bad(w, off, "malformed element", errp);
    }
    const uint8_t *c = p + hlen;
    if (tag == MC_BER_SEQ) {
        /* Field: name, type, then the value last */
        size_t pos = 0, last = SIZE_MAX;
        while (pos < clen) {
            uint8_t t2;
            size_t c2, h2;
            if (!tl_mem(c + pos, clen - pos, &t2, &c2, &h2)) {
                return bad(w, off + hlen + pos, "malformed field", errp);
            }
            last = pos;
            pos += h2 + c2;
        }
        if (last == SIZE_MAX) {
            return bad(w, off, "empty field", errp);
        }
        return element(w, c + last, clen - last, off + hlen + last, depth + 1,
                       errp);
    }
    if (tag == MC_BER_VAL_STRUCT) {
        return body(w, p, hlen + clen, off, depth + 1, errp);
    }
    if (tag == MC_BER_VAL_ARRAY) {
        size_t pos = 0;
        while (pos < clen) {
            uint8_t t2;
            size_t c2, h2;
            if (!tl_mem(c + pos, clen - pos, &t2, &c2, &h2) ||
                !element(w, c + pos, h2 + c2, off + hlen + pos, depth + 1,
                         errp)) {
                return errp && *errp ? false
                                     : bad(w, off + hlen + pos,
                                           "malformed array", errp);
            }
            pos += h2 + c2;
        }
    }
    return true;
}

/* A Body TLV (any tag): fields, then [0] subsections. */
static bool body(bwalk *w, const uint8_t *p, size_t n, uint64_t off,
                 int depth, mc_error **errp)
{
    uint8_t tag;
    size_t clen, hlen;
    if (!tl_mem(p, n, &tag, &clen, &hlen)) {
        return bad(w, off, "malformed body", errp);
    }
    const uint8_t *c = p + hlen;
    size_t pos = 0;
    while (pos < clen) {
        uint8_t t2;
        size_t c2, h2;
        if (!tl_mem(c + pos, clen - pos, &t2, &c2, &h2)) {
            return bad(w, off + hlen + pos, "malformed body", errp);
        }
        const uint8_t *q = c + pos + h2;
        uint64_t qoff = off + hlen + pos + h2;
        size_t ipos = 0;
        while (ipos < c2) {
            uint8_t t3;
            size_t c3, h3;
            if (!tl_mem(q + ipos, c2 - ipos, &t3, &c3, &h3)) {
                return bad(w, qoff + ipos, "malformed body", errp);
            }
            if (t2 == MC_BER_SEQ) {
                if (!element(w, q + ipos, h3 + c3, qoff + ipos, depth + 1,
                             errp)) {
                    return false;
                }
            } else if (t2 == (MC_BER_CTX_CONS | 0)) {
                /* Subsection: name, version, body */
                const uint8_t *r = q + ipos + h3;
                size_t rpos = 0, nth = 0;
                while (rpos < c3) {
                    uint8_t t4;
                    size_t c4, h4;
                    if (!tl_mem(r + rpos, c3 - rpos, &t4, &c4, &h4)) {
                        return bad(w, qoff + ipos, "malformed subsection",
                                   errp);
                    }
                    if (nth == 2) {
                        uint64_t boff = qoff + ipos + h3 + rpos;
                        if (!emit(w, boff, h4 + c4, errp) ||
                            !body(w, r + rpos, h4 + c4, boff, depth + 1,
                                  errp)) {
                            return false;
                        }
                    }
                    nth++;
                    rpos += h4 + c4;
                }
            }
            ipos += h3 + c3;
        }
        pos += h2 + c2;
    }
    return true;
}

/* A device Section record in memory (its TLV at off). */
static bool section(bwalk *w, const uint8_t *p, size_t n, uint64_t off,
                    mc_error **errp)
{
    uint8_t tag;
    size_t clen, hlen;
    if (!tl_mem(p, n, &tag, &clen, &hlen)) {
        return bad(w, off, "malformed section", errp);
    }
    const uint8_t *c = p + hlen;
    size_t pos = 0, nth = 0;
    while (pos < clen) {
        uint8_t t2;
        size_t c2, h2;
        if (!tl_mem(c + pos, clen - pos, &t2, &c2, &h2)) {
            return bad(w, off + hlen + pos, "malformed section", errp);
        }
        if (nth == 1) {
            uint64_t boff = off + hlen + pos;
            return emit(w, boff, h2 + c2, errp) &&
                   body(w, c + pos, h2 + c2, boff, 0, errp);
        }
        nth++;
        pos += h2 + c2;
    }
    return bad(w, off, "section without a body", errp);
}

/* Read a TL from the stream: *indef for indefinite length. */
static bool tl_src(bwalk *w, uint8_t *tag, uint64_t *clen, bool *indef,
                   size_t *hlen, mc_error **errp)
{
    const uint8_t *p;
    uint64_t off = mc_src_offset(w->src);
    if (!mc_src_peek(w->src, 2, &p, errp)) {
        return false;
    }
    *tag = p[0];
    *indef = false;
    if (p[1] < 0x80) {
        *clen = p[1];
        *hlen = 2;
        return true;
    }
    unsigned k = p[1] & 0x7f;
    if (k == 0) {
        *indef = true;
        *clen = 0;
        *hlen = 2;
        return true;
    }
    if (k > 8) {
        return bad(w, off, "length of more than 8 bytes", errp);
    }
    if (!mc_src_peek(w->src, 2 + k, &p, errp)) {
        return false;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < k; i++) {
        v = v << 8 | p[2 + i];
    }
    *clen = v;
    *hlen = 2 + k;
    return true;
}

static bool skip_n(bwalk *w, uint64_t n, mc_error **errp)
{
    while (n) {
        size_t step = n > MC_SRC_BUFSIZE ? MC_SRC_BUFSIZE : (size_t)n;
        if (!mc_src_skip(w->src, step, errp)) {
            return false;
        }
        n -= step;
    }
    return true;
}

/* The contents of an indefinite-length or definite container of items
 * (Stream, items, Packaged); descend is set for item lists. */
static bool items(bwalk *w, bool indef, uint64_t end, int depth,
                  mc_error **errp)
{
    if (depth > MAX_DEPTH) {
        return bad(w, mc_src_offset(w->src), "nested too deep", errp);
    }
    for (;;) {
        uint64_t off = mc_src_offset(w->src);
        if (!indef && off >= end) {
            return true;
        }
        uint8_t tag;
        uint64_t clen;
        bool ind;
        size_t hlen;
        if (!tl_src(w, &tag, &clen, &ind, &hlen, errp)) {
            return false;
        }
        if (tag == MC_BER_EOC && clen == 0 && !ind) {
            return indef ? mc_src_skip(w->src, 2, errp)
                         : bad(w, off, "unexpected end-of-contents", errp);
        }
        if (tag == MC_BER_SECTION && !ind) {
            if (clen + hlen > MAX_RECORD) {
                return bad(w, off, "section record too large", errp);
            }
            const uint8_t *p;
            if (!mc_src_take(w->src, hlen + (size_t)clen, &p, errp) ||
                !section(w, p, hlen + (size_t)clen, off, errp)) {
                return false;
            }
            continue;
        }
        if (!mc_src_skip(w->src, hlen, errp)) {
            return false;
        }
        /* Containers of items: the stream, its items, a package and its
         * items; everything else is skipped whole. */
        bool container = tag == MC_BER_STREAM || tag == MC_BER_PACKAGED ||
                         (tag == MC_BER_SEQ && ind);
        if (ind && !container) {
            /* an indefinite RAM section: skip its parts */
            if (!items(w, true, 0, depth + 1, errp)) {
                return false;
            }
        } else if (container) {
            if (!items(w, ind, mc_src_offset(w->src) + clen, depth + 1, errp)) {
                return false;
            }
        } else if (!skip_n(w, clen, errp)) {
            return false;
        }
    }
}

bool mc_schema_bodies(const mc_schema *s, mc_src *src, mc_text *index,
                      mc_error **errp)
{
    bwalk w = {.s = s, .src = src, .index = index};
    uint8_t tag;
    uint64_t clen;
    bool ind;
    size_t hlen;
    if (!tl_src(&w, &tag, &clen, &ind, &hlen, errp)) {
        return false;
    }
    if (tag != MC_BER_STREAM || !ind) {
        return bad(&w, 0, "not a migconv BER stream", errp);
    }
    if (!mc_src_skip(src, hlen, errp) || !items(&w, true, 0, 0, errp)) {
        return false;
    }
    if (w.next != s->n_assign) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "the stream has %zu bodies but its walk reported %zu",
                      w.next, s->n_assign);
        return false;
    }
    return true;
}
