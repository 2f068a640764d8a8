/*
 * Per-device migration schemas (migconv schema).
 *
 * The schema visitor (schema.c) watches a walk, like any other visitor,
 * and learns from the calls alone what each device section body looks
 * like: one type per (vmsd name, version), with its fields in wire order,
 * their names, QEMU types, wire types and sizes, nested structs and
 * arrays, and the subsections seen.  Sections without a vmsd name are
 * keyed by their idstr; PART and END sections of live sections by idstr
 * and section type.  Instances of one type that disagree in their sizes
 * (buffer lengths, array counts) widen the size to a range; instances that
 * disagree in structure become variants of the type.
 *
 * From the learnt set the emitters write an ASN.1 module describing the
 * exact BER bodies (schema_asn1.c), a JSON Schema of migconv dump's JSON
 * (schema_json.c) and a per-device comparison of two sets
 * (schema_diff.c).
 */
#ifndef MC_VISIT_SCHEMA_H
#define MC_VISIT_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/visitor.h"

typedef enum mc_snode_kind {
    MC_SN_INT,     /* a scalar of wire type wt */
    MC_SN_BYTES,   /* lo..hi bytes */
    MC_SN_PACKED,  /* lo..hi scalars of wire type wt */
    MC_SN_STRUCT,  /* kids: fields; subs: subsections seen */
    MC_SN_ARRAY,   /* lo..hi elements: elem (uniform) or kids (one each) */
    MC_SN_SIZED,   /* only a size is known (QEMU's -dump-vmstate):
                      lo bytes per element, hi elements (0: unknown) */
} mc_snode_kind;

typedef struct mc_ssub {
    char *name;
    uint32_t version;
} mc_ssub;

typedef struct mc_snode mc_snode;
struct mc_snode {
    mc_snode_kind kind;
    char *name;            /* NULL: none */
    char *type;            /* producer's type name, NULL: none
                              ("field_exists": a -dump-vmstate field that
                              is only there when its test says so) */
    mc_wire_type wt;       /* INT, PACKED */
    uint64_t lo, hi;       /* BYTES, PACKED, ARRAY: size range; SIZED;
                              STRUCT from -dump-vmstate: lo 1, hi the
                              element count (0: unknown) */
    mc_snode **kids;       /* STRUCT: fields; ARRAY (!uniform): elements */
    size_t n_kids, cap_kids;
    mc_ssub *subs;         /* STRUCT: subsections seen, in order */
    size_t n_subs;
    uint32_t subs_lo, subs_hi; /* subsections per instance */
    bool uniform;          /* ARRAY: every element has one layout */
    mc_snode *elem;        /* ARRAY, uniform: NULL when always empty */
};

typedef enum mc_stype_part {
    MC_ST_FULL,        /* START/FULL section or subsection: has a version */
    MC_ST_PART,        /* PART section of a live section */
    MC_ST_END,         /* END section */
    MC_ST_CONFIG,      /* the configuration section */
} mc_stype_part;

typedef struct mc_stype {
    char *key;             /* vmsd name, else idstr */
    bool by_idstr;         /* no vmsd name was known */
    bool is_sub;           /* seen as a subsection */
    mc_stype_part part;
    uint32_t version;      /* MC_ST_FULL */
    unsigned variant;      /* 1, 2, ... within (key, part, version) */
    unsigned count;        /* instances seen */
    char *ident;           /* ASN.1 type reference, unique in the set */
    mc_snode *body;        /* MC_SN_STRUCT */
    char *idstr;           /* first section idstr seen with it (or NULL) */
    char **idstrs;         /* every section idstr seen with it */
    size_t n_idstrs;
} mc_stype;

typedef struct mc_schema {
    mc_stype **types;      /* in order of first appearance */
    size_t n_types, cap_types;
    /* The type of every typed body in document order (each section body,
     * then its subsections depth first): indexes into types. */
    size_t *assign;
    size_t n_assign, cap_assign;
    char **idents;         /* every identifier handed out (types, helpers) */
    size_t n_idents, cap_idents;
} mc_schema;

mc_schema *mc_schema_new(void);
void mc_schema_free(mc_schema *s);

/* A visitor adding what it sees to s (s must outlive it). */
mc_visitor *mc_schema_visitor_new(mc_schema *s);

/* ---- building blocks for the emitters and other sources ---- */

mc_snode *mc_snode_new(mc_snode_kind kind, const char *name,
                       const char *type);
void mc_snode_free(mc_snode *n);
void mc_snode_add_kid(mc_snode *parent, mc_snode *kid);
/* Note that a body holds subsection (name, version) (once). */
void mc_snode_add_sub(mc_snode *n, const char *name, uint32_t version);
/* Same layout (sizes aside)?  Both NULL counts as equal. */
bool mc_snode_compatible(const mc_snode *a, const mc_snode *b);
/* Widen a by b (which must be compatible). */
void mc_snode_merge(mc_snode *a, const mc_snode *b);

/* Add a finished body (ownership passes) and return its type's index. */
size_t mc_schema_add(mc_schema *s, const char *key, bool by_idstr,
                     bool is_sub, mc_stype_part part, uint32_t version,
                     const char *idstr, mc_snode *body);
/* The index of a type by key, part and version (variant 1), or SIZE_MAX. */
size_t mc_schema_find(const mc_schema *s, const char *key, mc_stype_part part,
                      uint32_t version);

/*
 * ASN.1 identifiers (documented in migconv(1), SCHEMA): a name's letters
 * and digits are kept, every run of other characters becomes one hyphen,
 * leading and trailing hyphens are dropped; a component identifier that
 * does not then start with a lower-case letter gets "f-" in front, a type
 * reference starts with its first letter in upper case or gets "T-" in
 * front; identifiers are cut to 64 characters.  out must hold 65 bytes.
 */
void mc_schema_ident(const char *name, bool type_ref, char *out);

/* A growable text buffer for the emitters. */
typedef struct mc_text {
    char *p;
    size_t len, cap;
} mc_text;
void mc_text_printf(mc_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mc_text_put(mc_text *t, const char *s, size_t n);
void mc_text_free(mc_text *t);

/* ---- emitters ---- */

typedef struct mc_schema_emit_opts {
    bool names;            /* the variant for BER/dumps with names */
    const char *source;    /* what the schema was made from (a comment) */
} mc_schema_emit_opts;

/* The ASN.1 module (asn1Parser-compatible) into t. */
void mc_schema_emit_asn1(const mc_schema *s, const mc_schema_emit_opts *o,
                         mc_text *t);
/* The JSON Schema (draft 2020-12) of migconv dump's output into t. */
bool mc_schema_emit_json(const mc_schema *s, const mc_schema_emit_opts *o,
                         mc_text *t, mc_error **errp);

/* Differences between a and b, one line each, into t; returns how many. */
size_t mc_schema_diff(const mc_schema *a, const mc_schema *b, mc_text *t);

/* Learn every vmsd of a tables document (desc/tables.h) into s, through
 * the schema visitor. */
struct mc_tables;
bool mc_schema_from_tables(mc_schema *s, const struct mc_tables *t,
                           mc_error **errp);
/* Learn the vmsds of QEMU's -dump-vmstate JSON into s. */
bool mc_schema_from_dump_vmstate(mc_schema *s, const uint8_t *json,
                                 size_t len, mc_error **errp);

/* Learn the types of a JSON Schema that migconv schema wrote. */
bool mc_schema_from_json_schema(mc_schema *s, const uint8_t *json, size_t len,
                                mc_error **errp);

/* Every device section body and subsection body of a BER stream, in
 * document order, as "OFFSET LENGTH TYPE" lines (byte offset and length
 * of the body's TLV in the input) into index; the types come from s,
 * which must have been learnt from the same stream. */
struct mc_src;
bool mc_schema_bodies(const mc_schema *s, struct mc_src *src, mc_text *index,
                      mc_error **errp);

#endif
