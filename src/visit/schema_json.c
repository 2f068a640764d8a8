/*
 * JSON Schema (draft 2020-12) of migconv dump's output for the devices of
 * a learnt schema (visit/schema.h).
 *
 * Each type becomes $defs/IDENT: the "fields" array of a body, item by
 * item (prefixItems, no further items) with the exact keys dump writes for
 * a value, and the "subsections" the type was seen with.  A section item
 * is matched to its types by vmsd_name and version_id (by idstr when the
 * section has no vmsd name, as in a --no-names dump); sections of devices
 * the schema does not know are not constrained.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "visit/schema.h"

typedef struct jctx {
    const mc_schema *s;
    bool names;
} jctx;

static json_t *body_schema(const jctx *c, const mc_snode *n);

static json_t *range(uint64_t lo, uint64_t hi)
{
    if (lo == hi) {
        return json_pack("{s:I}", "const", (json_int_t)lo);
    }
    return json_pack("{s:s,s:I,s:I}", "type", "integer", "minimum",
                     (json_int_t)lo, "maximum", (json_int_t)hi);
}

static json_t *scalar(mc_wire_type wt)
{
    if (wt == MC_WT_BOOL) {
        return json_pack("{s:s}", "type", "boolean");
    }
    unsigned bits = mc_wire_type_width(wt) * 8;
    json_t *o = json_pack("{s:s}", "type", "integer");
    if (mc_wire_type_signed(wt)) {
        json_int_t lo = bits == 64 ? INT64_MIN : -((json_int_t)1 << (bits - 1));
        json_int_t hi = bits == 64 ? INT64_MAX : ((json_int_t)1 << (bits - 1)) - 1;
        json_object_set_new(o, "minimum", json_integer(lo));
        json_object_set_new(o, "maximum", json_integer(hi));
    } else {
        json_object_set_new(o, "minimum", json_integer(0));
        if (bits < 64) {
            json_object_set_new(o, "maximum",
                                json_integer(((json_int_t)1 << bits) - 1));
        }
    }
    return o;
}

/* The "type" dump writes for a value. */
static const char *dump_type(const jctx *c, const mc_snode *n)
{
    if (c->names && n->type) {
        return n->type;
    }
    switch (n->kind) {
    case MC_SN_INT:
    case MC_SN_PACKED:
        return mc_wire_type_name(n->wt);
    case MC_SN_BYTES:
        return "bytes";
    case MC_SN_STRUCT:
        return "struct";
    case MC_SN_ARRAY:
        return "array";
    default:
        return NULL;
    }
}

static json_t *value_schema(const jctx *c, const mc_snode *n)
{
    json_t *props = json_object();
    json_t *req = json_array();
    if (c->names && n->name) {
        json_object_set_new(props, "name", json_pack("{s:s}", "const", n->name));
        json_array_append_new(req, json_string("name"));
    }
    const char *type = dump_type(c, n);
    if (type) {
        json_object_set_new(props, "type", json_pack("{s:s}", "const", type));
        json_array_append_new(req, json_string("type"));
    }
    const char *wname = mc_wire_type_name(n->wt);
    bool wire = c->names && n->type && strcmp(n->type, wname) != 0 &&
                (n->kind == MC_SN_INT || n->kind == MC_SN_PACKED);
    if (wire) {
        json_object_set_new(props, "wire_type", json_pack("{s:s}", "const", wname));
        json_array_append_new(req, json_string("wire_type"));
    }
    switch (n->kind) {
    case MC_SN_INT:
    case MC_SN_SIZED:
        json_object_set_new(props, "value", scalar(n->wt));
        json_array_append_new(req, json_string("value"));
        break;
    case MC_SN_BYTES:
        json_object_set_new(props, "length", range(n->lo, n->hi));
        json_object_set_new(props, "hex",
                            json_pack("{s:s,s:s,s:I,s:I}", "type", "string",
                                      "pattern", "^[0-9a-f]*$",
                                      "minLength", (json_int_t)(2 * n->lo),
                                      "maxLength", (json_int_t)(2 * n->hi)));
        json_array_append_new(req, json_string("length"));
        json_array_append_new(req, json_string("hex"));
        break;
    case MC_SN_PACKED:
        json_object_set_new(props, "packed",
                            json_pack("{s:s,s:o,s:I,s:I}", "type", "array",
                                      "items", scalar(n->wt),
                                      "minItems", (json_int_t)n->lo,
                                      "maxItems", (json_int_t)n->hi));
        json_array_append_new(req, json_string("packed"));
        break;
    case MC_SN_STRUCT: {
        json_t *b = body_schema(c, n);
        json_t *bp = json_object_get(b, "properties");
        const char *k;
        json_t *v;
        json_object_foreach(bp, k, v) {
            json_object_set(props, k, v);
        }
        json_array_append_new(req, json_string("fields"));
        json_decref(b);
        break;
    }
    case MC_SN_ARRAY: {
        json_object_set_new(props, "count", range(n->lo, n->hi));
        json_t *arr = json_pack("{s:s,s:I,s:I}", "type", "array",
                                "minItems", (json_int_t)n->lo,
                                "maxItems", (json_int_t)n->hi);
        if (n->uniform) {
            if (n->elem) {
                json_object_set_new(arr, "items", value_schema(c, n->elem));
            }
        } else {
            json_t *pre = json_array();
            for (size_t i = 0; i < n->n_kids; i++) {
                json_array_append_new(pre, value_schema(c, n->kids[i]));
            }
            if (n->n_kids) {
                json_object_set_new(arr, "prefixItems", pre);
            } else {
                json_decref(pre);
            }
            json_object_set_new(arr, "items", json_false());
        }
        json_object_set_new(props, "array", arr);
        json_array_append_new(req, json_string("count"));
        json_array_append_new(req, json_string("array"));
        break;
    }
    }
    return json_pack("{s:s,s:o,s:o,s:b}", "type", "object", "properties",
                     props, "required", req, "additionalProperties", 0);
}

/* The $defs entries a subsection (name, version) may match. */
static json_t *sub_refs(const jctx *c, const mc_ssub *sub)
{
    json_t *any = json_array();
    for (size_t i = 0; i < c->s->n_types; i++) {
        const mc_stype *t = c->s->types[i];
        if (t->part == MC_ST_FULL && t->version == sub->version &&
            strcmp(t->key, sub->name) == 0) {
            char ref[128];
            snprintf(ref, sizeof(ref), "#/$defs/%s", t->ident);
            json_array_append_new(any, json_pack("{s:s}", "$ref", ref));
        }
    }
    return json_pack("{s:[{s:o},{s:{s:{s:s},s:{s:I}},s:[s,s]}]}", "allOf",
                     "anyOf", any,
                     "properties", "name", "const", sub->name,
                     "version_id", "const", (json_int_t)sub->version,
                     "required", "name", "version_id");
}

static const char *part_json(mc_stype_part p)
{
    switch (p) {
    case MC_ST_PART: return "part";
    case MC_ST_END: return "end";
    case MC_ST_CONFIG: return "configuration";
    default: return NULL;
    }
}

/* A body's "fields" and "subsections", as an object schema. */
static json_t *body_schema(const jctx *c, const mc_snode *n)
{
    json_t *pre = json_array();
    for (size_t i = 0; i < n->n_kids; i++) {
        json_array_append_new(pre, value_schema(c, n->kids[i]));
    }
    json_t *fields = json_pack("{s:s,s:b,s:I}", "type", "array",
                               "items", 0, "minItems", (json_int_t)n->n_kids);
    if (n->n_kids) {
        json_object_set_new(fields, "prefixItems", pre);
    } else {
        json_decref(pre);
    }
    json_t *props = json_pack("{s:o}", "fields", fields);
    if (n->n_subs) {
        json_t *any = json_array();
        for (size_t i = 0; i < n->n_subs; i++) {
            json_array_append_new(any, sub_refs(c, &n->subs[i]));
        }
        json_object_set_new(props, "subsections",
                            json_pack("{s:s,s:{s:o},s:I,s:I}", "type", "array",
                                      "items", "anyOf", any,
                                      "minItems", (json_int_t)n->subs_lo,
                                      "maxItems", (json_int_t)n->subs_hi));
    } else {
        json_object_set_new(props, "subsections", json_false());
    }
    return json_pack("{s:s,s:o,s:[s]}", "type", "object", "properties", props,
                     "required", "fields");
}

/* The condition that a dump item is a section of type t's group. */
static json_t *section_if(const jctx *c, const mc_stype *t)
{
    json_t *props = json_pack("{s:{s:s}}", "item", "const", "section");
    json_t *req = json_pack("[s]", "item");
    const char *part = part_json(t->part);
    if (part) {
        json_object_set_new(props, "type", json_pack("{s:s}", "const", part));
        json_array_append_new(req, json_string("type"));
    } else {
        json_object_set_new(props, "version_id",
                            json_pack("{s:I}", "const", (json_int_t)t->version));
        json_array_append_new(req, json_string("version_id"));
    }
    if (c->names && !t->by_idstr && t->part == MC_ST_FULL) {
        json_object_set_new(props, "vmsd_name",
                            json_pack("{s:s}", "const", t->key));
        json_array_append_new(req, json_string("vmsd_name"));
    } else if (t->by_idstr || t->part != MC_ST_FULL) {
        json_object_set_new(props, "idstr", json_pack("{s:s}", "const",
                                                      t->by_idstr ? t->key
                                                                  : t->idstr));
        json_array_append_new(req, json_string("idstr"));
        if (c->names) {
            json_object_set_new(props, "vmsd_name", json_false());
        }
    } else {
        /* without names: the idstrs this vmsd was seen under */
        json_t *ids = json_array();
        for (size_t i = 0; i < c->s->n_types; i++) {
            const mc_stype *u = c->s->types[i];
            if (u->part == t->part && u->version == t->version &&
                strcmp(u->key, t->key) == 0) {
                for (size_t k = 0; k < u->n_idstrs; k++) {
                    json_array_append_new(ids, json_string(u->idstrs[k]));
                }
            }
        }
        json_object_set_new(props, "idstr", json_pack("{s:o}", "enum", ids));
        json_array_append_new(req, json_string("idstr"));
    }
    return json_pack("{s:o,s:o}", "properties", props, "required", req);
}

bool mc_schema_emit_json(const mc_schema *s, const mc_schema_emit_opts *o,
                         mc_text *t, mc_error **errp)
{
    jctx c = {.s = s, .names = o->names};
    json_t *defs = json_object();
    json_t *conds = json_array();
    for (size_t i = 0; i < s->n_types; i++) {
        const mc_stype *ty = s->types[i];
        json_t *b = body_schema(&c, ty->body);
        json_object_set_new(b, "title", json_string(ty->key));
        /* what the type is, for schema --diff (an annotation) */
        json_t *x = json_pack("{s:s,s:s,s:b,s:b}", "key", ty->key, "part",
                              part_json(ty->part) ? part_json(ty->part) : "full",
                              "by_idstr", ty->by_idstr, "subsection",
                              ty->is_sub);
        if (ty->part == MC_ST_FULL) {
            json_object_set_new(x, "version", json_integer(ty->version));
        }
        json_object_set_new(b, "x-migconv", x);
        json_object_set_new(defs, ty->ident, b);
        if (ty->variant != 1 || ty->is_sub) {
            continue;
        }
        /* one condition per (key, part, version): any of its layouts */
        json_t *any = json_array();
        for (size_t k = 0; k < s->n_types; k++) {
            const mc_stype *u = s->types[k];
            if (u->part == ty->part && strcmp(u->key, ty->key) == 0 &&
                (ty->part != MC_ST_FULL || u->version == ty->version)) {
                char ref[128];
                snprintf(ref, sizeof(ref), "#/$defs/%s", u->ident);
                json_array_append_new(any, json_pack("{s:s}", "$ref", ref));
            }
        }
        json_array_append_new(conds, json_pack("{s:o,s:{s:o}}", "if",
                                               section_if(&c, ty), "then",
                                               "anyOf", any));
    }
    /* packages hold items too */
    json_array_append_new(conds, json_pack(
        "{s:{s:{s:{s:s}},s:[s]},s:{s:{s:{s:s,s:{s:s}}}}}",
        "if", "properties", "item", "const", "packaged", "required", "item",
        "then", "properties", "items", "type", "array", "items", "$ref",
        "#/$defs/item"));
    json_object_set_new(defs, "item", json_pack("{s:s,s:o}", "type", "object",
                                                "allOf", conds));
    char title[512];
    snprintf(title, sizeof(title), "migconv dump of %s streams: %s",
             o->names ? "named" : "--no-names", o->source ? o->source : "");
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:s,s:[s,s],s:{s:{s:s,s:{s:s}}},s:o}",
        "$schema", "https://json-schema.org/draft/2020-12/schema",
        "$id", o->names ? "urn:uuid:6643ad3d-88d1-41d7-b79a-92c2da9dcfdd"
                        : "urn:uuid:6643ad3d-88d1-41d7-b79a-92c2da9dcfde",
        "title", title,
        "type", "object",
        "required", "magic", "items",
        "properties", "items", "type", "array", "items", "$ref",
        "#/$defs/item",
        "$defs", defs);
    if (!doc) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "cannot build the JSON Schema");
        return false;
    }
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "cannot write the JSON Schema");
        return false;
    }
    mc_text_put(t, text, strlen(text));
    mc_text_put(t, "\n", 1);
    free(text);
    return true;
}
