/*
 * Per-device differences between two learnt schemas (schema --diff), in the
 * spirit of QEMU's scripts/vmstate-static-checker.py.
 *
 * Devices are matched by vmsd name (or idstr, with the section type for
 * part and end sections); the highest version on each side is compared.
 * Fields are matched by name (a trailing "[N]" index dropped, the k-th
 * field of a name matching the k-th); an unmatched pair at the same
 * position with the same shape is a rename.  A field's shape is its
 * element size, element count and, where both sides know it, wire type;
 * structs compare field by field.  QEMU's -dump-vmstate gives sizes only,
 * and array lengths only since QEMU 8.1: what one side does not know is
 * not compared.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "visit/schema.h"

typedef struct shape {
    bool is_struct;
    const mc_snode *body;  /* struct: the node holding the fields */
    uint64_t size_lo, size_hi; /* bytes per element (0: unknown) */
    uint64_t count;        /* elements (0: unknown) */
    bool has_wt;
    mc_wire_type wt;
} shape;

static shape shape_of(const mc_snode *n)
{
    shape s = {0};
    s.count = 1;
    switch (n->kind) {
    case MC_SN_INT:
        s.size_lo = s.size_hi = mc_wire_type_width(n->wt);
        s.has_wt = true;
        s.wt = n->wt;
        break;
    case MC_SN_BYTES:
        s.size_lo = n->lo;
        s.size_hi = n->hi;
        break;
    case MC_SN_PACKED:
        s.size_lo = s.size_hi = mc_wire_type_width(n->wt);
        s.has_wt = true;
        s.wt = n->wt;
        s.count = n->lo == n->hi ? n->lo : 0;
        break;
    case MC_SN_SIZED:
        s.size_lo = s.size_hi = n->lo;
        s.count = n->hi;
        break;
    case MC_SN_STRUCT:
        s.is_struct = true;
        s.body = n;
        s.count = n->lo ? n->hi : 1;
        break;
    case MC_SN_ARRAY:
        if (n->uniform && n->elem) {
            s = shape_of(n->elem);
            if (s.is_struct && s.count != 1) {
                s.count = 0;
            }
        } else {
            s.size_lo = s.size_hi = 0;
        }
        s.count = n->lo == n->hi ? n->lo : 0;
        break;
    }
    return s;
}

static void size_text(char *buf, size_t n, const shape *s)
{
    if (s->is_struct) {
        snprintf(buf, n, "a struct%s", s->count > 1 ? "s" : "");
    } else if (s->size_lo == s->size_hi) {
        snprintf(buf, n, "%" PRIu64 " byte%s", s->size_lo,
                 s->size_lo == 1 ? "" : "s");
    } else {
        snprintf(buf, n, "%" PRIu64 "..%" PRIu64 " bytes", s->size_lo,
                 s->size_hi);
    }
    if (s->count > 1) {
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, " x %" PRIu64, s->count);
    }
}

typedef struct dctx {
    mc_text *t;
    size_t lines;
    const char *dev;      /* "KEY vN" */
} dctx;

static void line(dctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line(dctx *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    mc_text_printf(c->t, "%s: %s\n", c->dev, buf);
    c->lines++;
}

/* A field as compared: its name without a trailing "[N]" index, which
 * occurrence of that name it is, and how many consecutive fields of that
 * name and shape it stands for (QEMU's vmdesc lists the elements of an
 * array of structs one by one in some versions and as one array in
 * others). */
typedef struct entry {
    char name[256];
    unsigned nth;
    const mc_snode *node;
    uint64_t run;
} entry;

static bool shape_equal(const shape *a, const shape *b);

static shape entry_shape(const entry *e)
{
    shape s = shape_of(e->node);
    if (e->run > 1) {
        s.count = s.count ? s.count * e->run : 0;
    }
    return s;
}

static void base_name(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s", name ? name : "");
    char *br = strrchr(out, '[');
    if (br && br != out && br[strlen(br) - 1] == ']') {
        *br = '\0';
    }
}

static size_t entries_of(const mc_snode *body, entry *out)
{
    size_t m = 0;
    for (size_t i = 0; i < body->n_kids; i++) {
        char nm[256];
        base_name(nm, sizeof(nm), body->kids[i]->name);
        if (m && strcmp(out[m - 1].name, nm) == 0) {
            shape x = shape_of(out[m - 1].node), y = shape_of(body->kids[i]);
            if (shape_equal(&x, &y)) {
                out[m - 1].run++;
                continue;
            }
        }
        entry *e = &out[m++];
        memcpy(e->name, nm, sizeof(nm));
        e->node = body->kids[i];
        e->run = 1;
        e->nth = 0;
        for (size_t j = 0; j + 1 < m; j++) {
            if (strcmp(out[j].name, e->name) == 0) {
                e->nth++;
            }
        }
    }
    return m;
}



static bool fields_equal(const mc_snode *a, const mc_snode *b)
{
    entry *ea = mc_calloc(a->n_kids + 1, sizeof(*ea));
    entry *eb = mc_calloc(b->n_kids + 1, sizeof(*eb));
    size_t na = entries_of(a, ea), nb = entries_of(b, eb);
    bool same = na == nb;
    for (size_t i = 0; same && i < na; i++) {
        shape x = entry_shape(&ea[i]), y = entry_shape(&eb[i]);
        same = shape_equal(&x, &y);
    }
    free(ea);
    free(eb);
    return same;
}

static bool shape_equal(const shape *a, const shape *b)
{
    if (a->is_struct != b->is_struct) {
        return false;
    }
    if (a->count && b->count && a->count != b->count) {
        return false;
    }
    if (a->is_struct) {
        return fields_equal(a->body, b->body);
    }
    if (a->size_lo && b->size_lo &&
        (a->size_lo != b->size_lo || a->size_hi != b->size_hi)) {
        return false;
    }
    return !(a->has_wt && b->has_wt && a->wt != b->wt);
}

static void diff_body(dctx *c, const char *prefix, const mc_snode *a,
                      const mc_snode *b, int depth);

static const char *conditional(const mc_snode *n)
{
    return n->type && strcmp(n->type, "field_exists") == 0
               ? ", only when its field_exists test passes" : "";
}

static void diff_field(dctx *c, const char *prefix, const char *name,
                       const entry *x, const entry *y, int depth)
{
    shape a = entry_shape(x), b = entry_shape(y);
    char sa[64], sb[64];
    size_text(sa, sizeof(sa), &a);
    size_text(sb, sizeof(sb), &b);
    if (a.is_struct != b.is_struct) {
        line(c, "field %s%s changed from %s to %s", prefix, name, sa, sb);
        return;
    }
    if (a.count && b.count && a.count != b.count) {
        line(c, "field %s%s resized from %s to %s", prefix, name, sa, sb);
        return;
    }
    if (a.is_struct) {
        if (depth < 32) {
            char p[512];
            snprintf(p, sizeof(p), "%s%s.", prefix, name);
            diff_body(c, p, a.body, b.body, depth + 1);
        }
        return;
    }
    if (a.size_lo && b.size_lo &&
        (a.size_lo != b.size_lo || a.size_hi != b.size_hi)) {
        line(c, "field %s%s resized from %s to %s", prefix, name, sa, sb);
    } else if (a.has_wt && b.has_wt && a.wt != b.wt) {
        line(c, "field %s%s changed type from %s to %s", prefix, name,
             mc_wire_type_name(a.wt), mc_wire_type_name(b.wt));
    }
}

static void diff_body(dctx *c, const char *prefix, const mc_snode *a,
                      const mc_snode *b, int depth)
{
    entry *fa = mc_calloc(a->n_kids + 1, sizeof(*fa));
    entry *fb = mc_calloc(b->n_kids + 1, sizeof(*fb));
    size_t na = entries_of(a, fa), nb = entries_of(b, fb);
    long *match = mc_calloc(na + 1, sizeof(*match));
    bool *taken = mc_calloc(nb + 1, sizeof(*taken));
    for (size_t i = 0; i < na; i++) {
        match[i] = -1;
        for (size_t j = 0; j < nb; j++) {
            if (!taken[j] && fa[i].nth == fb[j].nth &&
                strcmp(fa[i].name, fb[j].name) == 0) {
                match[i] = (long)j;
                taken[j] = true;
                break;
            }
        }
    }
    /* renames: same position, both unmatched, same shape */
    for (size_t i = 0; i < na && i < nb; i++) {
        if (match[i] < 0 && !taken[i]) {
            shape x = entry_shape(&fa[i]), y = entry_shape(&fb[i]);
            if (shape_equal(&x, &y)) {
                match[i] = (long)i;
                taken[i] = true;
                line(c, "field %s%s renamed to %s%s", prefix, fa[i].name,
                     prefix, fb[i].name);
            }
        }
    }
    for (size_t i = 0; i < na; i++) {
        if (match[i] < 0) {
            char sz[64];
            shape x = entry_shape(&fa[i]);
            size_text(sz, sizeof(sz), &x);
            line(c, "field %s%s removed (%s%s)", prefix, fa[i].name, sz,
                 conditional(fa[i].node));
        }
    }
    for (size_t j = 0; j < nb; j++) {
        if (!taken[j]) {
            char sz[64];
            shape y = entry_shape(&fb[j]);
            size_text(sz, sizeof(sz), &y);
            line(c, "field %s%s added (%s, position %zu%s)", prefix,
                 fb[j].name, sz, j + 1, conditional(fb[j].node));
        }
    }
    for (size_t i = 0; i < na; i++) {
        if (match[i] >= 0) {
            diff_field(c, prefix, fa[i].name, &fa[i], &fb[(size_t)match[i]],
                       depth);
        }
    }
    /* order: matched fields that do not keep their relative order (those
     * outside a longest increasing run of their positions in b) moved */
    size_t m = 0;
    size_t *seq = mc_calloc(na + 1, sizeof(*seq));
    size_t *at = mc_calloc(na + 1, sizeof(*at));
    for (size_t i = 0; i < na; i++) {
        if (match[i] >= 0) {
            at[m] = i;
            seq[m++] = (size_t)match[i];
        }
    }
    size_t *len = mc_calloc(m + 1, sizeof(*len));
    size_t *prev = mc_calloc(m + 1, sizeof(*prev));
    bool *keep = mc_calloc(m + 1, sizeof(*keep));
    size_t best = 0, best_end = 0;
    for (size_t i = 0; i < m; i++) {
        len[i] = 1;
        prev[i] = SIZE_MAX;
        for (size_t j = 0; j < i; j++) {
            if (seq[j] < seq[i] && len[j] + 1 > len[i]) {
                len[i] = len[j] + 1;
                prev[i] = j;
            }
        }
        if (len[i] > best) {
            best = len[i];
            best_end = i;
        }
    }
    for (size_t i = best ? best_end : SIZE_MAX; i != SIZE_MAX; i = prev[i]) {
        keep[i] = true;
    }
    for (size_t i = 0; i < m; i++) {
        if (!keep[i]) {
            line(c, "field %s%s reordered (position %zu to %zu)", prefix,
                 fa[at[i]].name, at[i] + 1, seq[i] + 1);
        }
    }
    /* subsections */
    for (size_t i = 0; i < a->n_subs; i++) {
        bool found = false;
        for (size_t j = 0; j < b->n_subs && !found; j++) {
            found = strcmp(a->subs[i].name, b->subs[j].name) == 0;
        }
        if (!found) {
            line(c, "subsection %s removed%s%.*s", a->subs[i].name,
                 *prefix ? " from " : "", (int)(*prefix ? strlen(prefix) - 1 : 0),
                 prefix);
        }
    }
    for (size_t j = 0; j < b->n_subs; j++) {
        bool found = false;
        for (size_t i = 0; i < a->n_subs && !found; i++) {
            found = strcmp(a->subs[i].name, b->subs[j].name) == 0;
        }
        if (!found) {
            line(c, "subsection %s added%s%.*s", b->subs[j].name,
                 *prefix ? " to " : "", (int)(*prefix ? strlen(prefix) - 1 : 0),
                 prefix);
        }
    }
    free(fa);
    free(fb);
    free(match);
    free(taken);
    free(seq);
    free(at);
    free(len);
    free(prev);
    free(keep);
}

/* The type of a device with the highest version, first layout. */
static const mc_stype *newest(const mc_schema *s, const char *key,
                              mc_stype_part part, bool *several)
{
    const mc_stype *best = NULL;
    *several = false;
    for (size_t i = 0; i < s->n_types; i++) {
        const mc_stype *t = s->types[i];
        if (t->part != part || strcmp(t->key, key) != 0) {
            continue;
        }
        if (best && t->version != best->version) {
            *several = true;
        }
        if (!best || t->version > best->version ||
            (t->version == best->version && t->variant < best->variant)) {
            best = t;
        }
    }
    return best;
}

static const char *part_suffix(mc_stype_part p)
{
    switch (p) {
    case MC_ST_PART: return " (part sections)";
    case MC_ST_END: return " (end sections)";
    default: return "";
    }
}

/* Devices of x missing from y. */
static void only_in(dctx *c, const mc_schema *x, const mc_schema *y,
                    const char *side)
{
    for (size_t i = 0; i < x->n_types; i++) {
        const mc_stype *t = x->types[i];
        bool several;
        if (newest(x, t->key, t->part, &several) != t ||
            newest(y, t->key, t->part, &several)) {
            continue;
        }
        char dev[320];
        snprintf(dev, sizeof(dev), "%s%s", t->key, part_suffix(t->part));
        c->dev = dev;
        if (t->part == MC_ST_FULL) {
            line(c, "only in %s (version %u%s)", side, t->version,
                 t->is_sub ? ", a subsection" : "");
        } else {
            line(c, "only in %s", side);
        }
    }
}

size_t mc_schema_diff(const mc_schema *a, const mc_schema *b, mc_text *t)
{
    dctx c = {.t = t};
    only_in(&c, a, b, "A");
    only_in(&c, b, a, "B");
    for (size_t i = 0; i < a->n_types; i++) {
        const mc_stype *ta = a->types[i];
        bool sa, sb;
        if (newest(a, ta->key, ta->part, &sa) != ta) {
            continue;
        }
        const mc_stype *tb = newest(b, ta->key, ta->part, &sb);
        if (!tb) {
            continue;
        }
        char dev[320];
        snprintf(dev, sizeof(dev), "%s%s", ta->key, part_suffix(ta->part));
        c.dev = dev;
        if (ta->part == MC_ST_FULL && ta->version != tb->version) {
            line(&c, "version %u changed to %u", ta->version, tb->version);
        }
        diff_body(&c, "", ta->body, tb->body, 0);
    }
    return c.lines;
}
