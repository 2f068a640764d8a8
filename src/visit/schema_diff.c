/*
 * Per-device differences between two learnt schemas (schema --diff), in the
 * spirit of QEMU's scripts/vmstate-static-checker.py.
 *
 * Devices are matched by vmsd name (or idstr, with the section type for
 * part and end sections); the highest version on each side is compared,
 * and where a side has several layouts of it (vmsds of one name with
 * different fields), each layout with its closest partner.
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

/* A non-uniform array whose elements are all known (vmdesc "index"
 * entries): compared as its elements, one field each, as another version
 * may list them as fields of one name. */
static bool split_array(const mc_snode *n)
{
    return n->kind == MC_SN_ARRAY && !n->uniform && n->lo == n->hi &&
           n->n_kids == n->lo && n->n_kids > 0;
}

static void add_entry(entry *out, size_t *m, const char *name,
                      const mc_snode *node)
{
    char nm[256];
    base_name(nm, sizeof(nm), name);
    if (*m && strcmp(out[*m - 1].name, nm) == 0) {
        shape x = shape_of(out[*m - 1].node), y = shape_of(node);
        if (shape_equal(&x, &y)) {
            out[*m - 1].run++;
            return;
        }
    }
    entry *e = &out[(*m)++];
    memcpy(e->name, nm, sizeof(nm));
    e->node = node;
    e->run = 1;
    e->nth = 0;
    for (size_t j = 0; j + 1 < *m; j++) {
        if (strcmp(out[j].name, e->name) == 0) {
            e->nth++;
        }
    }
}

/* The fields of body as compared (allocated; their number in *n). */
static entry *entries_of(const mc_snode *body, size_t *n)
{
    size_t max = 1;
    for (size_t i = 0; i < body->n_kids; i++) {
        max += split_array(body->kids[i]) ? body->kids[i]->n_kids : 1;
    }
    entry *out = mc_calloc(max, sizeof(*out));
    size_t m = 0;
    for (size_t i = 0; i < body->n_kids; i++) {
        const mc_snode *k = body->kids[i];
        if (split_array(k)) {
            for (size_t e = 0; e < k->n_kids; e++) {
                add_entry(out, &m, k->name, k->kids[e]);
            }
        } else {
            add_entry(out, &m, k->name, k);
        }
    }
    *n = m;
    return out;
}

static bool fields_equal(const mc_snode *a, const mc_snode *b)
{
    size_t na, nb;
    entry *ea = entries_of(a, &na), *eb = entries_of(b, &nb);
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
    size_t na, nb;
    entry *fa = entries_of(a, &na), *fb = entries_of(b, &nb);
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

/* The layouts (variants) of (key, part, version) in s, in variant order:
 * how many, at most max into out. */
static size_t layouts(const mc_schema *s, const mc_stype *like,
                      const mc_stype **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_types && n < max; i++) {
        const mc_stype *t = s->types[i];
        if (t->part == like->part && t->version == like->version &&
            strcmp(t->key, like->key) == 0) {
            out[n++] = t;
        }
    }
    return n;
}

/* How many lines diff_body would print for a against b. */
static size_t body_cost(const mc_snode *a, const mc_snode *b)
{
    mc_text scratch = {0};
    dctx c = {.t = &scratch, .dev = ""};
    diff_body(&c, "", a, b, 0);
    mc_text_free(&scratch);
    return c.lines;
}

#define MC_DIFF_MAX_LAYOUTS 16

/* A device with several layouts on a side (QEMU has vmsds of one name and
 * version with different fields, e.g. "vga" of vga.c and of vga-pci.c):
 * each layout of A is paired with the layout of B it differs least from,
 * identical ones first, and compared with it; a layout left without a
 * partner is listed as only on its side. */
static void diff_layouts(dctx *c, const char *dev, const mc_stype **la,
                         size_t na, const mc_stype **lb, size_t nb)
{
    size_t cost[MC_DIFF_MAX_LAYOUTS][MC_DIFF_MAX_LAYOUTS];
    long pair[MC_DIFF_MAX_LAYOUTS];
    bool used[MC_DIFF_MAX_LAYOUTS] = {false};
    for (size_t i = 0; i < na; i++) {
        pair[i] = -1;
        for (size_t j = 0; j < nb; j++) {
            cost[i][j] = body_cost(la[i]->body, lb[j]->body);
        }
    }
    /* greedy: the cheapest remaining pair first (ties in layout order) */
    for (;;) {
        size_t bi = SIZE_MAX, bj = SIZE_MAX;
        for (size_t i = 0; i < na; i++) {
            for (size_t j = 0; pair[i] < 0 && j < nb; j++) {
                if (!used[j] && (bi == SIZE_MAX || cost[i][j] < cost[bi][bj])) {
                    bi = i;
                    bj = j;
                }
            }
        }
        if (bi == SIZE_MAX) {
            break;
        }
        pair[bi] = (long)bj;
        used[bj] = true;
    }
    char label[400];
    for (size_t i = 0; i < na; i++) {
        if (pair[i] < 0) {
            c->dev = dev;
            line(c, "layout %u only in A (%zu fields)", la[i]->variant,
                 la[i]->body->n_kids);
            continue;
        }
        const mc_stype *tb = lb[pair[i]];
        if (cost[i][pair[i]] == 0) {
            continue;
        }
        snprintf(label, sizeof(label), "%s (layout %u of A, %u of B)", dev,
                 la[i]->variant, tb->variant);
        c->dev = label;
        diff_body(c, "", la[i]->body, tb->body, 0);
    }
    c->dev = dev;
    for (size_t j = 0; j < nb; j++) {
        if (!used[j]) {
            line(c, "layout %u only in B (%zu fields)", lb[j]->variant,
                 lb[j]->body->n_kids);
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
        const mc_stype *la[MC_DIFF_MAX_LAYOUTS], *lb[MC_DIFF_MAX_LAYOUTS];
        size_t na = layouts(a, ta, la, MC_DIFF_MAX_LAYOUTS);
        size_t nb = layouts(b, tb, lb, MC_DIFF_MAX_LAYOUTS);
        if (na <= 1 && nb <= 1) {
            diff_body(&c, "", ta->body, tb->body, 0);
        } else {
            diff_layouts(&c, dev, la, na, lb, nb);
        }
    }
    return c.lines;
}
