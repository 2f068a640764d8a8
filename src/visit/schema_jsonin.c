/*
 * A JSON Schema written by migconv schema --format json-schema, read back
 * as a learnt schema (for schema --diff).  Each $defs entry with an
 * "x-migconv" annotation is a type; its fields are rebuilt from the value
 * schemas schema_json.c writes (wire types from the value ranges, sizes
 * from the length and count constraints).
 */
#include <jansson.h>
#include <string.h>

#include "core/util.h"
#include "visit/schema.h"

#define MAX_DEPTH 64

static bool body_of(json_t *obj, mc_snode *body, int depth, mc_error **errp);

static bool wt_of(json_t *v, mc_wire_type *wt)
{
    const char *type = json_string_value(json_object_get(v, "type"));
    if (type && strcmp(type, "boolean") == 0) {
        *wt = MC_WT_BOOL;
        return true;
    }
    json_t *jmin = json_object_get(v, "minimum");
    json_t *jmax = json_object_get(v, "maximum");
    if (!json_is_integer(jmin)) {
        return false;
    }
    json_int_t lo = json_integer_value(jmin);
    json_int_t hi = json_is_integer(jmax) ? json_integer_value(jmax) : -1;
    static const struct { json_int_t lo, hi; mc_wire_type wt; } ranges[] = {
        {0, 255, MC_WT_U8}, {0, 65535, MC_WT_U16},
        {0, 4294967295LL, MC_WT_U32}, {0, -1, MC_WT_U64},
        {-128, 127, MC_WT_I8}, {-32768, 32767, MC_WT_I16},
        {-2147483648LL, 2147483647LL, MC_WT_I32},
        {INT64_MIN, INT64_MAX, MC_WT_I64},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (ranges[i].lo == lo && ranges[i].hi == hi) {
            *wt = ranges[i].wt;
            return true;
        }
    }
    return false;
}

/* A size constraint: {"const": n} or {"minimum", "maximum"}. */
static void range_of(json_t *v, uint64_t *lo, uint64_t *hi)
{
    json_t *c = json_object_get(v, "const");
    if (json_is_integer(c)) {
        *lo = *hi = (uint64_t)json_integer_value(c);
        return;
    }
    *lo = (uint64_t)json_integer_value(json_object_get(v, "minimum"));
    *hi = (uint64_t)json_integer_value(json_object_get(v, "maximum"));
}

static mc_snode *value_of(json_t *schema, int depth, mc_error **errp)
{
    json_t *props = json_object_get(schema, "properties");
    if (!json_is_object(props) || depth > MAX_DEPTH) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "JSON Schema: a field without properties");
        return NULL;
    }
    const char *name = json_string_value(
        json_object_get(json_object_get(props, "name"), "const"));
    const char *type = json_string_value(
        json_object_get(json_object_get(props, "type"), "const"));
    mc_snode *n = NULL;
    json_t *v;
    if ((v = json_object_get(props, "value"))) {
        n = mc_snode_new(MC_SN_INT, name, type);
        if (!wt_of(v, &n->wt)) {
            goto bad;
        }
    } else if ((v = json_object_get(props, "length"))) {
        n = mc_snode_new(MC_SN_BYTES, name, type);
        range_of(v, &n->lo, &n->hi);
    } else if ((v = json_object_get(props, "packed"))) {
        n = mc_snode_new(MC_SN_PACKED, name, type);
        if (!wt_of(json_object_get(v, "items"), &n->wt)) {
            goto bad;
        }
        n->lo = (uint64_t)json_integer_value(json_object_get(v, "minItems"));
        n->hi = (uint64_t)json_integer_value(json_object_get(v, "maxItems"));
    } else if (json_object_get(props, "fields")) {
        n = mc_snode_new(MC_SN_STRUCT, name, type);
        if (!body_of(schema, n, depth + 1, errp)) {
            mc_snode_free(n);
            return NULL;
        }
    } else if ((v = json_object_get(props, "array"))) {
        n = mc_snode_new(MC_SN_ARRAY, name, type);
        range_of(json_object_get(props, "count"), &n->lo, &n->hi);
        json_t *pre = json_object_get(v, "prefixItems");
        json_t *items = json_object_get(v, "items");
        if (json_is_array(pre)) {
            n->uniform = false;
            size_t i;
            json_t *e;
            json_array_foreach(pre, i, e) {
                mc_snode *k = value_of(e, depth + 1, errp);
                if (!k) {
                    mc_snode_free(n);
                    return NULL;
                }
                mc_snode_add_kid(n, k);
            }
        } else if (json_is_object(items)) {
            n->elem = value_of(items, depth + 1, errp);
            if (!n->elem) {
                mc_snode_free(n);
                return NULL;
            }
        }
    } else {
        goto bad;
    }
    return n;
bad:
    mc_snode_free(n);
    mc_error_data(errp, MC_NO_OFFSET, name,
                  "JSON Schema: a field migconv did not write");
    return NULL;
}

static bool body_of(json_t *obj, mc_snode *body, int depth, mc_error **errp)
{
    json_t *props = json_object_get(obj, "properties");
    json_t *fields = json_object_get(props, "fields");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(fields, "prefixItems"), i, f) {
        mc_snode *k = value_of(f, depth, errp);
        if (!k) {
            return false;
        }
        mc_snode_add_kid(body, k);
    }
    json_t *subs = json_object_get(props, "subsections");
    if (json_is_object(subs)) {
        body->subs_lo = (uint32_t)json_integer_value(json_object_get(subs, "minItems"));
        body->subs_hi = (uint32_t)json_integer_value(json_object_get(subs, "maxItems"));
        json_t *any = json_object_get(json_object_get(subs, "items"), "anyOf");
        json_t *one;
        json_array_foreach(any, i, one) {
            json_t *p = json_object_get(
                json_array_get(json_object_get(one, "allOf"), 1), "properties");
            const char *name = json_string_value(
                json_object_get(json_object_get(p, "name"), "const"));
            json_t *ver = json_object_get(json_object_get(p, "version_id"),
                                          "const");
            if (name && json_is_integer(ver)) {
                mc_snode_add_sub(body, name, (uint32_t)json_integer_value(ver));
            }
        }
    }
    return true;
}

bool mc_schema_from_json_schema(mc_schema *s, const uint8_t *json, size_t len,
                                mc_error **errp)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)json, len, 0, &jerr);
    if (!doc) {
        mc_error_data(errp, (uint64_t)jerr.position, NULL, "JSON Schema: %s",
                      jerr.text);
        return false;
    }
    const char *ident;
    json_t *def;
    bool ok = true;
    json_object_foreach(json_object_get(doc, "$defs"), ident, def) {
        json_t *x = json_object_get(def, "x-migconv");
        if (!x) {
            continue;
        }
        const char *key = json_string_value(json_object_get(x, "key"));
        const char *part = json_string_value(json_object_get(x, "part"));
        if (!key || !part) {
            mc_error_data(errp, MC_NO_OFFSET, ident,
                          "JSON Schema: a type without key or part");
            ok = false;
            break;
        }
        mc_stype_part p = strcmp(part, "part") == 0 ? MC_ST_PART
                        : strcmp(part, "end") == 0 ? MC_ST_END
                        : strcmp(part, "configuration") == 0 ? MC_ST_CONFIG
                        : MC_ST_FULL;
        mc_snode *body = mc_snode_new(MC_SN_STRUCT, NULL, NULL);
        if (!body_of(def, body, 0, errp)) {
            mc_snode_free(body);
            ok = false;
            break;
        }
        mc_schema_add(s, key, json_is_true(json_object_get(x, "by_idstr")),
                      json_is_true(json_object_get(x, "subsection")), p,
                      (uint32_t)json_integer_value(json_object_get(x, "version")),
                      NULL, body);
    }
    json_decref(doc);
    return ok;
}
