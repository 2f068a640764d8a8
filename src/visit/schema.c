/*
 * The schema visitor: learns per-device body layouts from a walk (see
 * visit/schema.h).  Nothing but the visitor calls is used, so the schema
 * follows whatever a reader or a field codec reports.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/schema.h"

/* ---- text buffer ---- */

void mc_text_put(mc_text *t, const char *s, size_t n)
{
    if (t->cap - t->len < n + 1) {
        size_t ncap = t->cap ? t->cap : 1024;
        while (ncap - t->len < n + 1) {
            ncap *= 2;
        }
        t->p = mc_realloc(t->p, ncap);
        t->cap = ncap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

void mc_text_printf(mc_text *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n < sizeof(buf)) {
        mc_text_put(t, buf, (size_t)n);
        return;
    }
    char *big = mc_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    mc_text_put(t, big, (size_t)n);
    free(big);
}

void mc_text_free(mc_text *t)
{
    free(t->p);
    memset(t, 0, sizeof(*t));
}

/* ---- identifiers ---- */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

void mc_schema_ident(const char *name, bool type_ref, char *out)
{
    char buf[65];
    size_t n = 0;
    bool hyphen = false;
    for (const char *p = name ? name : ""; *p && n < 60; p++) {
        if (is_alnum(*p)) {
            if (hyphen && n) {
                buf[n++] = '-';
            }
            hyphen = false;
            buf[n++] = *p;
        } else {
            hyphen = true;
        }
    }
    buf[n] = '\0';
    const char *prefix = "";
    if (type_ref) {
        if (buf[0] >= 'a' && buf[0] <= 'z') {
            buf[0] = (char)(buf[0] - 'a' + 'A');
        } else if (!(buf[0] >= 'A' && buf[0] <= 'Z')) {
            prefix = n ? "T-" : "T";
        }
    } else if (!(buf[0] >= 'a' && buf[0] <= 'z')) {
        prefix = n ? "f-" : "f";
    }
    snprintf(out, 65, "%s%s", prefix, buf);
}

/* ---- nodes ---- */

mc_snode *mc_snode_new(mc_snode_kind kind, const char *name, const char *type)
{
    mc_snode *n = mc_calloc(1, sizeof(*n));
    n->kind = kind;
    n->name = name ? mc_strdup(name) : NULL;
    n->type = type ? mc_strdup(type) : NULL;
    n->uniform = true;
    return n;
}

void mc_snode_free(mc_snode *n)
{
    if (!n) {
        return;
    }
    for (size_t i = 0; i < n->n_kids; i++) {
        mc_snode_free(n->kids[i]);
    }
    for (size_t i = 0; i < n->n_subs; i++) {
        free(n->subs[i].name);
    }
    mc_snode_free(n->elem);
    free(n->kids);
    free(n->subs);
    free(n->name);
    free(n->type);
    free(n);
}

void mc_snode_add_kid(mc_snode *parent, mc_snode *kid)
{
    if (parent->n_kids == parent->cap_kids) {
        parent->cap_kids = parent->cap_kids ? parent->cap_kids * 2 : 8;
        parent->kids = mc_realloc(parent->kids,
                                  parent->cap_kids * sizeof(*parent->kids));
    }
    parent->kids[parent->n_kids++] = kid;
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

bool mc_snode_compatible(const mc_snode *a, const mc_snode *b)
{
    if (!a || !b) {
        return a == b;
    }
    if (a->kind != b->kind || !str_eq(a->name, b->name) ||
        !str_eq(a->type, b->type)) {
        return false;
    }
    switch (a->kind) {
    case MC_SN_INT:
    case MC_SN_PACKED:
        return a->wt == b->wt;
    case MC_SN_BYTES:
        return true;
    case MC_SN_SIZED:
        return a->lo == b->lo && a->hi == b->hi;
    case MC_SN_STRUCT:
        if (a->n_kids != b->n_kids) {
            return false;
        }
        for (size_t i = 0; i < a->n_kids; i++) {
            if (!mc_snode_compatible(a->kids[i], b->kids[i])) {
                return false;
            }
        }
        return true;
    case MC_SN_ARRAY:
        if (a->uniform != b->uniform) {
            return false;
        }
        if (a->uniform) {
            return !a->elem || !b->elem || mc_snode_compatible(a->elem, b->elem);
        }
        if (a->n_kids != b->n_kids) {
            return false;
        }
        for (size_t i = 0; i < a->n_kids; i++) {
            if (!mc_snode_compatible(a->kids[i], b->kids[i])) {
                return false;
            }
        }
        return true;
    }
    return false;
}

static mc_snode *snode_copy(const mc_snode *b)
{
    if (!b) {
        return NULL;
    }
    mc_snode *n = mc_snode_new(b->kind, b->name, b->type);
    n->wt = b->wt;
    n->lo = b->lo;
    n->hi = b->hi;
    n->uniform = b->uniform;
    n->subs_lo = b->subs_lo;
    n->subs_hi = b->subs_hi;
    for (size_t i = 0; i < b->n_kids; i++) {
        mc_snode_add_kid(n, snode_copy(b->kids[i]));
    }
    if (b->n_subs) {
        n->subs = mc_calloc(b->n_subs, sizeof(*n->subs));
        for (size_t i = 0; i < b->n_subs; i++) {
            n->subs[i].name = mc_strdup(b->subs[i].name);
            n->subs[i].version = b->subs[i].version;
        }
        n->n_subs = b->n_subs;
    }
    n->elem = snode_copy(b->elem);
    return n;
}

static bool sub_has(const mc_snode *n, const mc_ssub *s)
{
    for (size_t i = 0; i < n->n_subs; i++) {
        if (n->subs[i].version == s->version &&
            strcmp(n->subs[i].name, s->name) == 0) {
            return true;
        }
    }
    return false;
}

void mc_snode_add_sub(mc_snode *n, const char *name, uint32_t version)
{
    mc_ssub s = {(char *)name, version};
    if (sub_has(n, &s)) {
        return;
    }
    n->subs = mc_realloc(n->subs, (n->n_subs + 1) * sizeof(*n->subs));
    n->subs[n->n_subs].name = mc_strdup(name);
    n->subs[n->n_subs].version = version;
    n->n_subs++;
}

void mc_snode_merge(mc_snode *a, const mc_snode *b)
{
    if (b->lo < a->lo) {
        a->lo = b->lo;
    }
    if (b->hi > a->hi) {
        a->hi = b->hi;
    }
    if (b->subs_lo < a->subs_lo) {
        a->subs_lo = b->subs_lo;
    }
    if (b->subs_hi > a->subs_hi) {
        a->subs_hi = b->subs_hi;
    }
    for (size_t i = 0; i < b->n_subs; i++) {
        mc_snode_add_sub(a, b->subs[i].name, b->subs[i].version);
    }
    for (size_t i = 0; i < a->n_kids && i < b->n_kids; i++) {
        mc_snode_merge(a->kids[i], b->kids[i]);
    }
    if (b->elem) {
        if (a->elem) {
            mc_snode_merge(a->elem, b->elem);
        } else {
            a->elem = snode_copy(b->elem);
        }
    }
}

/* ---- the type set ---- */

mc_schema *mc_schema_new(void)
{
    return mc_calloc(1, sizeof(mc_schema));
}

void mc_schema_free(mc_schema *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n_types; i++) {
        mc_stype *t = s->types[i];
        free(t->key);
        free(t->ident);
        free(t->idstr);
        for (size_t k = 0; k < t->n_idstrs; k++) {
            free(t->idstrs[k]);
        }
        free(t->idstrs);
        mc_snode_free(t->body);
        free(t);
    }
    for (size_t i = 0; i < s->n_idents; i++) {
        free(s->idents[i]);
    }
    free(s->idents);
    free(s->types);
    free(s->assign);
    free(s);
}

static bool ident_taken(const mc_schema *s, const char *id)
{
    for (size_t i = 0; i < s->n_idents; i++) {
        if (strcmp(s->idents[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/* Register a unique type reference made from base (cut to fit with a
 * numeric suffix when taken). */
static char *ident_claim(mc_schema *s, const char *base)
{
    char id[80];
    snprintf(id, sizeof(id), "%s", base);
    for (unsigned k = 2; ident_taken(s, id); k++) {
        snprintf(id, sizeof(id), "%.54s-%u", base, k);
    }
    if (s->n_idents == s->cap_idents) {
        s->cap_idents = s->cap_idents ? s->cap_idents * 2 : 64;
        s->idents = mc_realloc(s->idents, s->cap_idents * sizeof(*s->idents));
    }
    s->idents[s->n_idents++] = mc_strdup(id);
    return mc_strdup(id);
}

size_t mc_schema_find(const mc_schema *s, const char *key, mc_stype_part part,
                      uint32_t version)
{
    for (size_t i = 0; i < s->n_types; i++) {
        const mc_stype *t = s->types[i];
        if (t->part == part && t->variant == 1 && strcmp(t->key, key) == 0 &&
            (part != MC_ST_FULL || t->version == version)) {
            return i;
        }
    }
    return SIZE_MAX;
}

static void idstr_add(mc_stype *t, const char *idstr)
{
    if (!idstr) {
        return;
    }
    for (size_t i = 0; i < t->n_idstrs; i++) {
        if (strcmp(t->idstrs[i], idstr) == 0) {
            return;
        }
    }
    t->idstrs = mc_realloc(t->idstrs, (t->n_idstrs + 1) * sizeof(*t->idstrs));
    t->idstrs[t->n_idstrs++] = mc_strdup(idstr);
}

size_t mc_schema_add(mc_schema *s, const char *key, bool by_idstr,
                     bool is_sub, mc_stype_part part, uint32_t version,
                     const char *idstr, mc_snode *body)
{
    unsigned variants = 0;
    for (size_t i = 0; i < s->n_types; i++) {
        mc_stype *t = s->types[i];
        if (t->part != part || strcmp(t->key, key) != 0 ||
            (part == MC_ST_FULL && t->version != version)) {
            continue;
        }
        variants++;
        if (mc_snode_compatible(t->body, body)) {
            mc_snode_merge(t->body, body);
            t->count++;
            t->is_sub |= is_sub;
            idstr_add(t, idstr);
            mc_snode_free(body);
            return i;
        }
    }
    mc_stype *t = mc_calloc(1, sizeof(*t));
    t->key = mc_strdup(key);
    t->by_idstr = by_idstr;
    t->is_sub = is_sub;
    t->part = part;
    t->version = version;
    t->variant = variants + 1;
    t->count = 1;
    t->body = body;
    t->idstr = idstr ? mc_strdup(idstr) : NULL;
    idstr_add(t, idstr);
    char base[65], full[100];
    mc_schema_ident(key, true, base);
    switch (part) {
    case MC_ST_FULL:
        snprintf(full, sizeof(full), "%.50s-v%u", base, version);
        break;
    case MC_ST_PART:
        snprintf(full, sizeof(full), "%.50s-part", base);
        break;
    case MC_ST_END:
        snprintf(full, sizeof(full), "%.50s-end", base);
        break;
    default:
        snprintf(full, sizeof(full), "%.50s", base);
        break;
    }
    if (t->variant > 1) {
        size_t n = strlen(full);
        snprintf(full + n, sizeof(full) - n, "-alt%u", t->variant);
    }
    t->ident = ident_claim(s, full);
    if (s->n_types == s->cap_types) {
        s->cap_types = s->cap_types ? s->cap_types * 2 : 32;
        s->types = mc_realloc(s->types, s->cap_types * sizeof(*s->types));
    }
    s->types[s->n_types++] = t;
    return s->n_types - 1;
}

/* ---- the visitor ----
 *
 * One frame per open body (section, subsection), struct and array, in
 * step with the call grammar of core/visitor.h, which the visitor assumes
 * as visitor-impl.h allows: the dispatcher checks it (-DMC_CHECKS=ON), so
 * no call here re-checks which frame is open.  Its own state needs no
 * check of its own either: every frame it closes is the one the grammar
 * says is on top, a RAM section (in_ram) opens no frame, and a walk cut
 * short by an error leaves frames that sv_free frees.
 */

typedef struct sframe {
    mc_snode *node;
    /* a body (section, subsection) is typed on its own */
    bool is_body;
    size_t assign_slot;
    char *key;
    bool by_idstr, is_sub;
    mc_stype_part part;
    uint32_t version;
    char *idstr;
} sframe;

typedef struct schema_visitor {
    mc_visitor base;
    mc_schema *s;
    sframe *fr;
    size_t n_fr, cap_fr;
    bool in_ram;
} schema_visitor;

static schema_visitor *sv_of(mc_visitor *v)
{
    return (schema_visitor *)v;
}

static size_t slot_reserve(mc_schema *s)
{
    if (s->n_assign == s->cap_assign) {
        s->cap_assign = s->cap_assign ? s->cap_assign * 2 : 64;
        s->assign = mc_realloc(s->assign, s->cap_assign * sizeof(*s->assign));
    }
    s->assign[s->n_assign] = SIZE_MAX;
    return s->n_assign++;
}

static sframe *sv_push(schema_visitor *w, mc_snode *node)
{
    if (w->n_fr == w->cap_fr) {
        w->cap_fr = w->cap_fr ? w->cap_fr * 2 : 16;
        w->fr = mc_realloc(w->fr, w->cap_fr * sizeof(*w->fr));
    }
    sframe *f = &w->fr[w->n_fr++];
    memset(f, 0, sizeof(*f));
    f->node = node;
    return f;
}

static sframe *sv_top(schema_visitor *w)
{
    return w->n_fr ? &w->fr[w->n_fr - 1] : NULL;
}

/* Hand a finished value node to the enclosing struct, body or array
 * (the grammar puts values only there). */
static bool sv_attach(schema_visitor *w, mc_snode *n)
{
    mc_snode_add_kid(sv_top(w)->node, n);
    return true;
}

static bool sv_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    return true;
}

static bool sv_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    if (info->kind == MC_SECTION_RAM) {
        w->in_ram = true;
        return true;
    }
    sframe *f = sv_push(w, mc_snode_new(MC_SN_STRUCT, NULL, NULL));
    f->is_body = true;
    f->assign_slot = slot_reserve(w->s);
    const char *idstr = info->idstr ? info->idstr : "section";
    f->by_idstr = info->vmsd_name == NULL;
    f->key = mc_strdup(info->vmsd_name ? info->vmsd_name : idstr);
    f->idstr = info->idstr ? mc_strdup(info->idstr) : NULL;
    switch (info->type) {
    case MC_VM_SECTION_PART:
        f->part = MC_ST_PART;
        break;
    case MC_VM_SECTION_END:
        f->part = MC_ST_END;
        break;
    case MC_VM_CONFIGURATION:
        f->part = MC_ST_CONFIG;
        break;
    default:
        f->part = MC_ST_FULL;
        f->version = info->version_id;
        break;
    }
    return true;
}

/* Close a body frame: type it and fill its slot. */
static void sv_close_body(schema_visitor *w)
{
    sframe *f = &w->fr[--w->n_fr];
    size_t i = mc_schema_add(w->s, f->key, f->by_idstr, f->is_sub, f->part,
                             f->version, f->idstr, f->node);
    w->s->assign[f->assign_slot] = i;
    free(f->key);
    free(f->idstr);
}

static bool sv_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    if (w->in_ram) {
        w->in_ram = false;
        return true;
    }
    sv_close_body(w);
    return true;
}

static bool sv_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    mc_snode *n = mc_snode_new(MC_SN_INT, f ? f->name : NULL,
                               f ? f->type : NULL);
    n->wt = wt;
    return sv_attach(w, n);
}

static bool sv_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    mc_snode *n = mc_snode_new(MC_SN_BYTES, f ? f->name : NULL,
                               f ? f->type : NULL);
    n->lo = n->hi = len;
    return sv_attach(w, n);
}

static bool sv_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    mc_snode *n = mc_snode_new(MC_SN_PACKED, f ? f->name : NULL,
                               f ? f->type : NULL);
    n->wt = wt;
    n->lo = n->hi = count;
    return sv_attach(w, n);
}

static bool sv_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    sv_push(w, mc_snode_new(MC_SN_STRUCT, f ? f->name : NULL,
                            f ? f->type : NULL));
    return true;
}

/* Close the struct or array on top and hand it to its parent. */
static bool sv_end_value(schema_visitor *w)
{
    mc_snode *n = sv_top(w)->node;
    w->n_fr--;
    return sv_attach(w, n);
}

static bool sv_end_struct(mc_visitor *v, mc_error **errp)
{
    return sv_end_value(sv_of(v));
}

static bool sv_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    mc_snode *n = mc_snode_new(MC_SN_ARRAY, f ? f->name : NULL,
                               f ? f->type : NULL);
    n->lo = n->hi = count;
    sv_push(w, n);
    return true;
}

/* An array's elements collapse to one layout when they all share it. */
static void array_fold(mc_snode *a)
{
    bool same = true;
    for (size_t i = 1; i < a->n_kids && same; i++) {
        same = mc_snode_compatible(a->kids[0], a->kids[i]);
    }
    if (!same) {
        a->uniform = false;
        return;
    }
    a->uniform = true;
    if (a->n_kids) {
        a->elem = a->kids[0];
        for (size_t i = 1; i < a->n_kids; i++) {
            mc_snode_merge(a->elem, a->kids[i]);
            mc_snode_free(a->kids[i]);
        }
    }
    free(a->kids);
    a->kids = NULL;
    a->n_kids = a->cap_kids = 0;
}

static bool sv_end_array(mc_visitor *v, mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    array_fold(sv_top(w)->node);
    return sv_end_value(w);
}

static bool sv_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    schema_visitor *w = sv_of(v);
    sframe *top = sv_top(w);
    mc_snode_add_sub(top->node, name, version_id);
    /* per instance both count the same; merging widens them */
    top->node->subs_lo++;
    top->node->subs_hi++;
    sframe *f = sv_push(w, mc_snode_new(MC_SN_STRUCT, NULL, NULL));
    f->is_body = true;
    f->is_sub = true;
    f->assign_slot = slot_reserve(w->s);
    f->key = mc_strdup(name);
    f->part = MC_ST_FULL;
    f->version = version_id;
    return true;
}

static bool sv_end_subsection(mc_visitor *v, mc_error **errp)
{
    sv_close_body(sv_of(v));
    return true;
}

static bool sv_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    return true;
}

static bool sv_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    return true;
}

static bool sv_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    return true;
}

static bool sv_nothing(mc_visitor *v, mc_error **errp)
{
    return true;
}

static bool sv_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    return true;
}

static void sv_free(mc_visitor *v)
{
    schema_visitor *w = sv_of(v);
    for (size_t i = 0; i < w->n_fr; i++) {
        mc_snode_free(w->fr[i].node);
        free(w->fr[i].key);
        free(w->fr[i].idstr);
    }
    free(w->fr);
    free(w);
}

static const mc_visitor_ops schema_visitor_ops = {
    .start_stream = sv_start_stream,
    .start_section = sv_start_section,
    .end_section = sv_end_section,
    .visit_int = sv_visit_int,
    .visit_bytes = sv_visit_bytes,
    .visit_packed = sv_visit_packed,
    .start_struct = sv_start_struct,
    .end_struct = sv_end_struct,
    .start_array = sv_start_array,
    .end_array = sv_end_array,
    .start_subsection = sv_start_subsection,
    .end_subsection = sv_end_subsection,
    .ram_record = sv_ram_record,
    .command = sv_command,
    .start_packaged = sv_packaged,
    .end_packaged = sv_nothing,
    .eof = sv_nothing,
    .vmdesc = sv_vmdesc,
    .free = sv_free,
};

mc_visitor *mc_schema_visitor_new(mc_schema *s)
{
    schema_visitor *w = mc_calloc(1, sizeof(*w));
    w->base.ops = &schema_visitor_ops;
    w->s = s;
    return &w->base;
}
