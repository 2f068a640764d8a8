/*
 * ASN.1 module of a learnt schema (visit/schema.h).
 *
 * Every type describes the exact bytes migconv's BER carries for a body
 * (asn1/migconv.asn, Body): the generic Value CHOICE alternatives become
 * the IMPLICIT tags of the components ([0] u8 ... [12] packed), a named
 * value's Field SEQUENCE becomes a SEQUENCE of name, type (when the BER
 * carries it) and value, a bare value stays bare.  Subsections keep their
 * own types; a body holds them as SEQUENCE OF ANY, since every subsection
 * starts with the same SEQUENCE tag and a decoder could not tell them
 * apart by tag.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "visit/schema.h"

/* Under the UUID arc of ITU-T X.667 (2.25), which needs no registration. */
#define MC_SCHEMA_OID "joint-iso-itu-t(2) uuid(25) " \
    "135932653191705535361511596922825986013"

typedef struct helper {
    char name[96];
    const mc_snode *node;
} helper;

typedef struct emitter {
    const mc_schema_emit_opts *o;
    mc_text *t;
    helper *helpers;
    size_t n_helpers, cap_helpers;
    const char *owner;     /* type reference helpers are named after */
    unsigned next_helper;
} emitter;

static const char *const packed_names[MC_WT__COUNT] = {
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool",
};

/* Text safe inside an ASN.1 comment (no "--", no line breaks). */
static void comment_text(mc_text *t, const char *s)
{
    char prev = 0;
    for (const char *p = s ? s : ""; *p; p++) {
        char c = *p;
        if ((unsigned char)c < 0x20 || c == 0x7f || (c == '-' && prev == '-')) {
            c = '?';
        }
        mc_text_put(t, &c, 1);
        prev = c;
    }
}

static void indent(mc_text *t, int level)
{
    for (int i = 0; i < level; i++) {
        mc_text_put(t, "    ", 4);
    }
}

/* The type string migconv's BER carries for a value, or NULL. */
static const char *shown_type(const mc_snode *n)
{
    const char *canonical = NULL;
    switch (n->kind) {
    case MC_SN_INT:
        canonical = mc_wire_type_name(n->wt);
        break;
    case MC_SN_BYTES:
        canonical = "buffer";
        break;
    case MC_SN_STRUCT:
        canonical = "struct";
        break;
    default:
        break;
    }
    if (!n->type || (canonical && strcmp(n->type, canonical) == 0)) {
        return NULL;
    }
    return n->type;
}

static void size_range(mc_text *t, uint64_t lo, uint64_t hi)
{
    if (lo == hi) {
        mc_text_printf(t, "SIZE (%" PRIu64 ")", lo);
    } else {
        mc_text_printf(t, "SIZE (%" PRIu64 "..%" PRIu64 ")", lo, hi);
    }
}

static void int_range(mc_text *t, mc_wire_type wt)
{
    unsigned bits = mc_wire_type_width(wt) * 8;
    if (mc_wire_type_signed(wt)) {
        int64_t lo = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
        int64_t hi = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
        mc_text_printf(t, "(%" PRId64 "..%" PRId64 ")", lo, hi);
    } else {
        uint64_t hi = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        mc_text_printf(t, "(0..%" PRIu64 ")", hi);
    }
}

static const char *add_helper(emitter *e, const mc_snode *n)
{
    if (e->n_helpers == e->cap_helpers) {
        e->cap_helpers = e->cap_helpers ? e->cap_helpers * 2 : 16;
        e->helpers = mc_realloc(e->helpers,
                                e->cap_helpers * sizeof(*e->helpers));
    }
    helper *h = &e->helpers[e->n_helpers++];
    snprintf(h->name, sizeof(h->name), "%s-e%u", e->owner, ++e->next_helper);
    h->node = n;
    return h->name;
}

static void body(emitter *e, const mc_snode *n, int level);

/* The Value alternative of n, as a type. */
static void value_type(emitter *e, const mc_snode *n, int level)
{
    mc_text *t = e->t;
    switch (n->kind) {
    case MC_SN_INT:
    case MC_SN_SIZED:
        if (n->wt == MC_WT_BOOL) {
            mc_text_printf(t, "[8] BOOLEAN");
        } else {
            mc_text_printf(t, "[%u] INTEGER ", (unsigned)n->wt);
            int_range(t, n->wt);
        }
        return;
    case MC_SN_BYTES:
        mc_text_printf(t, "[9] OCTET STRING (");
        size_range(t, n->lo, n->hi);
        mc_text_printf(t, ")");
        return;
    case MC_SN_PACKED: {
        unsigned w = mc_wire_type_width(n->wt);
        mc_text_printf(t, "[12] SEQUENCE { elementType ENUMERATED { %s(%u) }, "
                       "data OCTET STRING (", packed_names[n->wt],
                       (unsigned)n->wt);
        size_range(t, n->lo * w, n->hi * w);
        mc_text_printf(t, ") }");
        return;
    }
    case MC_SN_STRUCT:
        mc_text_printf(t, "[10] ");
        body(e, n, level);
        return;
    case MC_SN_ARRAY:
        if (n->uniform) {
            mc_text_printf(t, "[11] SEQUENCE ");
            size_range(t, n->lo, n->hi);
            mc_text_printf(t, " OF %s", n->elem ? add_helper(e, n->elem) : "ANY");
            return;
        }
        mc_text_printf(t, "[11] SEQUENCE {\n");
        for (size_t i = 0; i < n->n_kids; i++) {
            indent(t, level + 1);
            mc_text_printf(t, "e%zu ", i + 1);
            /* element_type, inline */
            const mc_snode *k = n->kids[i];
            bool name = e->o->names && k->name;
            const char *type = e->o->names ? shown_type(k) : NULL;
            if (name || type) {
                mc_text_printf(t, "SEQUENCE { %s%svalue ",
                               name ? "name UTF8String, " : "",
                               type ? "type [20] UTF8String, " : "");
                value_type(e, k, level + 1);
                mc_text_printf(t, " }");
            } else {
                value_type(e, k, level + 1);
            }
            mc_text_printf(t, "%s\n", i + 1 < n->n_kids ? "," : "");
        }
        indent(t, level);
        mc_text_printf(t, "}");
        return;
    }
}

/* n as an Element: wrapped in its Field when the BER names or types it. */
static void element_type(emitter *e, const mc_snode *n, int level)
{
    bool name = e->o->names && n->name;
    const char *type = e->o->names ? shown_type(n) : NULL;
    if (!name && !type) {
        value_type(e, n, level);
        return;
    }
    mc_text *t = e->t;
    mc_text_printf(t, "SEQUENCE {\n");
    if (name) {
        indent(t, level + 1);
        mc_text_printf(t, "name UTF8String,  -- \"");
        comment_text(t, n->name);
        mc_text_printf(t, "\"\n");
    }
    if (type) {
        indent(t, level + 1);
        mc_text_printf(t, "type [20] UTF8String,  -- \"");
        comment_text(t, type);
        mc_text_printf(t, "\"\n");
    }
    indent(t, level + 1);
    mc_text_printf(t, "value ");
    value_type(e, n, level + 1);
    mc_text_printf(t, "\n");
    indent(t, level);
    mc_text_printf(t, "}");
}

/* Component identifiers of a body's fields: from the names, unique. */
static void field_idents(const mc_snode *n, char (*ids)[72])
{
    for (size_t i = 0; i < n->n_kids; i++) {
        const mc_snode *k = n->kids[i];
        if (k->name) {
            mc_schema_ident(k->name, false, ids[i]);
        } else {
            snprintf(ids[i], 72, "f%zu", i + 1);
        }
        char base[72];
        memcpy(base, ids[i], sizeof(base));
        for (unsigned dup = 2;; dup++) {
            bool taken = false;
            for (size_t j = 0; j < i && !taken; j++) {
                taken = strcmp(ids[j], ids[i]) == 0;
            }
            if (!taken) {
                break;
            }
            snprintf(ids[i], 72, "%.60s-%u", base, dup);
        }
    }
}

/* A Body: SEQUENCE { fields, subsections }. */
static void body(emitter *e, const mc_snode *n, int level)
{
    mc_text *t = e->t;
    mc_text_printf(t, "SEQUENCE {\n");
    indent(t, level + 1);
    if (n->n_kids == 0) {
        mc_text_printf(t, "fields SEQUENCE SIZE (0) OF ANY");
    } else {
        char (*ids)[72] = mc_calloc(n->n_kids, sizeof(*ids));
        field_idents(n, ids);
        mc_text_printf(t, "fields SEQUENCE {\n");
        for (size_t i = 0; i < n->n_kids; i++) {
            indent(t, level + 2);
            mc_text_printf(t, "%s ", ids[i]);
            element_type(e, n->kids[i], level + 2);
            mc_text_printf(t, "%s\n", i + 1 < n->n_kids ? "," : "");
        }
        free(ids);
        indent(t, level + 1);
        mc_text_printf(t, "}");
    }
    if (n->n_subs) {
        mc_text_printf(t, ",\n");
        indent(t, level + 1);
        mc_text_printf(t, "-- each one of:");
        for (size_t i = 0; i < n->n_subs; i++) {
            mc_text_printf(t, " \"");
            comment_text(t, n->subs[i].name);
            mc_text_printf(t, "\" v%u", n->subs[i].version);
        }
        mc_text_printf(t, "\n");
        indent(t, level + 1);
        mc_text_printf(t, "subsections [0] SEQUENCE ");
        size_range(t, n->subs_lo ? n->subs_lo : 1, n->subs_hi);
        mc_text_printf(t, " OF ANY%s", n->subs_lo ? "" : " OPTIONAL");
    }
    mc_text_printf(t, "\n");
    indent(t, level);
    mc_text_printf(t, "}");
}

static const char *part_name(mc_stype_part p)
{
    switch (p) {
    case MC_ST_PART: return "part sections";
    case MC_ST_END: return "end sections";
    case MC_ST_CONFIG: return "the configuration section";
    default: return NULL;
    }
}

void mc_schema_emit_asn1(const mc_schema *s, const mc_schema_emit_opts *o,
                         mc_text *t)
{
    emitter e = {.o = o, .t = t};
    mc_text_printf(t,
"-- Per-device schema of migconv BER section bodies (migconv schema).\n"
"-- Generated from: ");
    comment_text(t, o->source);
    mc_text_printf(t,
"\n--\n"
"-- One type per (vmsd name, version): it describes the bytes of a Body\n"
"-- (asn1/migconv.asn) of a %s stream, i.e. the \"body\" of a\n"
"-- Section or of a Subsection.  Decode a body with, for example,\n"
"--   asn1Decoding THIS-FILE BODY.der %s.TYPE\n"
"-- Subsections are typed on their own; a body holds them as ANY.\n"
"-- libtasn1 checks tags and structure; it checks neither value ranges,\n"
"-- SIZE constraints nor the names' values, which migconv(1) explains.\n\n",
        o->names ? "named" : "nameless (no-names)",
        o->names ? "MigConvSchema" : "MigConvSchemaNoNames");
    mc_text_printf(t, "%s { " MC_SCHEMA_OID " %s }\n"
                   "DEFINITIONS IMPLICIT TAGS ::=\n\nBEGIN\n",
                   o->names ? "MigConvSchema" : "MigConvSchemaNoNames",
                   o->names ? "names(1)" : "no-names(2)");
    for (size_t i = 0; i < s->n_types; i++) {
        const mc_stype *ty = s->types[i];
        mc_text_printf(t, "\n-- %s \"", ty->by_idstr ? "idstr" : "vmsd");
        comment_text(t, ty->key);
        if (ty->part == MC_ST_FULL) {
            mc_text_printf(t, "\" version %u", ty->version);
        } else {
            mc_text_printf(t, "\", %s", part_name(ty->part));
        }
        if (ty->variant > 1) {
            mc_text_printf(t, ", layout %u", ty->variant);
        }
        mc_text_printf(t, "%s; seen %u time%s", ty->is_sub ? ", a subsection" : "",
                       ty->count, ty->count == 1 ? "" : "s");
        if (ty->idstr && strcmp(ty->idstr, ty->key) != 0) {
            mc_text_printf(t, ", e.g. as \"");
            comment_text(t, ty->idstr);
            mc_text_printf(t, "\"");
        }
        mc_text_printf(t, "\n%s ::= ", ty->ident);
        e.owner = ty->ident;
        e.next_helper = 0;
        e.n_helpers = 0;
        body(&e, ty->body, 0);
        mc_text_printf(t, "\n");
        for (size_t h = 0; h < e.n_helpers; h++) {
            /* helpers may add helpers */
            const mc_snode *n = e.helpers[h].node;
            char name[96];
            memcpy(name, e.helpers[h].name, sizeof(name));
            mc_text_printf(t, "%s ::= ", name);
            element_type(&e, n, 0);
            mc_text_printf(t, "\n");
        }
    }
    mc_text_printf(t, "\nEND\n");
    free(e.helpers);
}
