/* Descriptor tables (see tables.h for the file format). */
#include "desc/tables.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "desc/json.h"

#define MAX_DEPTH MC_DESC_MAX_DEPTH

struct mc_tables {
    json_t *vmsds;          /* {"name": {"version": {...}}} */
};

mc_tables *mc_tables_new(void)
{
    mc_tables *t = mc_calloc(1, sizeof(*t));
    t->vmsds = json_object();
    return t;
}

void mc_tables_free(mc_tables *t)
{
    if (t) {
        json_decref(t->vmsds);
        free(t);
    }
}

static json_t *entry_for(mc_tables *t, const char *name, json_int_t version)
{
    json_t *byname = json_object_get(t->vmsds, name);
    if (!byname) {
        byname = json_object();
        json_object_set_new(t->vmsds, name, byname);
    }
    char v[32];
    snprintf(v, sizeof(v), "%lld", (long long)version);
    json_t *e = json_object_get(byname, v);
    if (!e) {
        e = json_pack("{s:[],s:[]}", "variants", "subsections");
        json_object_set_new(byname, v, e);
    }
    return e;
}

static void add_unique(json_t *arr, json_t *value)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        if (json_equal(x, value)) {
            return;
        }
    }
    json_array_append(arr, value);
}

static bool learn_vmsd(mc_tables *t, json_t *o, int depth, mc_error **errp);

static bool learn_fields(mc_tables *t, json_t *fields, int depth,
                         mc_error **errp)
{
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        json_t *st = json_object_get(f, "struct");
        const char *type = json_string_value(json_object_get(f, "type"));
        if (json_is_object(st) && json_object_get(st, "vmsd_name")) {
            if (!learn_vmsd(t, st, depth + 1, errp)) {
                return false;
            }
        } else if (type && (!strcmp(type, "vstruct") || !strcmp(type, "tmp")) &&
                   json_object_get(f, "vmsd_name")) {
            if (!learn_vmsd(t, f, depth + 1, errp)) {
                return false;
            }
        }
    }
    return true;
}

static bool learn_vmsd(mc_tables *t, json_t *o, int depth, mc_error **errp)
{
    const char *name = json_string_value(json_object_get(o, "vmsd_name"));
    json_t *ver = json_object_get(o, "version");
    json_t *fields = json_object_get(o, "fields");
    if (depth > MAX_DEPTH) {
        mc_error_data(errp, MC_NO_OFFSET, NULL, "vmdesc nesting too deep");
        return false;
    }
    if (!name || !json_is_integer(ver) || !json_is_array(fields)) {
        return true; /* old-style sections have no layout to learn */
    }
    json_t *e = entry_for(t, name, json_integer_value(ver));
    add_unique(json_object_get(e, "variants"), fields);
    if (!learn_fields(t, fields, depth, errp)) {
        return false;
    }
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(o, "subsections"), i, s) {
        const char *sn = json_string_value(json_object_get(s, "vmsd_name"));
        if (sn) {
            json_t *js = json_string(sn);
            add_unique(json_object_get(e, "subsections"), js);
            json_decref(js);
        }
        if (!learn_vmsd(t, s, depth + 1, errp)) {
            return false;
        }
    }
    return true;
}

bool mc_tables_add_vmdesc(mc_tables *t, const uint8_t *json, size_t len,
                          size_t limit, mc_error **errp)
{
    mc_json_limit lim = {limit ? limit : MC_DEFAULT_VMDESC_LIMIT, "vmdesc",
                         "--vmdesc-limit"};
    json_t *root = mc_json_parse(json, len, &lim, errp);
    if (!root) {
        return false;
    }
    bool ok = true;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(root, "devices"), i, d) {
        if (!(ok = learn_vmsd(t, d, 0, errp))) {
            break;
        }
    }
    json_decref(root);
    return ok;
}

bool mc_tables_load(mc_tables *t, const uint8_t *json, size_t len,
                    mc_error **errp)
{
    return mc_tables_load_limited(t, json, len, SIZE_MAX, errp);
}

bool mc_tables_load_limited(mc_tables *t, const uint8_t *json, size_t len,
                            size_t limit, mc_error **errp)
{
    mc_json_limit lim = {limit ? limit : MC_DEFAULT_TABLES_LIMIT, "tables",
                         "--tables-limit"};
    json_t *root = mc_json_parse(json, len, &lim, errp);
    if (!root) {
        return false;
    }
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *vmsds = json_object_get(root, "vmsds");
    if (!fmt || strcmp(fmt, "migconv-tables") != 0 || !json_is_object(vmsds) ||
        json_integer_value(json_object_get(root, "version")) != 1) {
        json_decref(root);
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "not a migconv descriptor tables file (version 1)");
        return false;
    }
    const char *name;
    json_t *byver;
    json_object_foreach(vmsds, name, byver) {
        const char *v;
        json_t *e;
        json_object_foreach(byver, v, e) {
            char *end;
            long long ver = strtoll(v, &end, 10);
            json_t *variants = json_object_get(e, "variants");
            json_t *subs = json_object_get(e, "subsections");
            if (*end || ver < 0 || ver > UINT32_MAX || !json_is_array(variants)) {
                json_decref(root);
                char where[320];
                snprintf(where, sizeof(where), "vmsds/%.255s/%.32s", name, v);
                mc_error_data(errp, MC_NO_OFFSET, where,
                              "tables: bad entry for '%s' version '%s'", name, v);
                return false;
            }
            json_t *mine = entry_for(t, name, ver);
            size_t i;
            json_t *x;
            json_array_foreach(variants, i, x) {
                add_unique(json_object_get(mine, "variants"), x);
            }
            json_array_foreach(subs, i, x) {
                if (json_is_string(x)) {
                    add_unique(json_object_get(mine, "subsections"), x);
                }
            }
        }
    }
    json_decref(root);
    return true;
}

char *mc_tables_dump(const mc_tables *t)
{
    json_t *root = json_pack("{s:s,s:i,s:O}", "format", "migconv-tables",
                             "version", 1, "vmsds", t->vmsds);
    char *s = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1) | JSON_COMPACT);
    json_decref(root);
    return s;
}

size_t mc_tables_count(const mc_tables *t)
{
    size_t n = 0;
    const char *name;
    json_t *byver;
    json_object_foreach(t->vmsds, name, byver) {
        n += json_object_size(byver);
    }
    return n;
}

bool mc_tables_knows(const mc_tables *t, const char *vmsd)
{
    return json_object_get(t->vmsds, vmsd) != NULL;
}

bool mc_tables_find(const mc_tables *t, const char *vmsd, uint32_t version,
                    mc_desc_vmsd **variants, size_t *n_variants,
                    mc_error **errp)
{
    *variants = NULL;
    *n_variants = 0;
    char v[16];
    snprintf(v, sizeof(v), "%u", version);
    json_t *e = json_object_get(json_object_get(t->vmsds, vmsd), v);
    json_t *list = json_object_get(e, "variants");
    size_t n = json_array_size(list);
    if (n == 0) {
        return true;
    }
    mc_desc_vmsd *out = mc_calloc(n, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s,s:i,s:O}", "vmsd_name", vmsd, "version",
                              (json_int_t)version, "fields",
                              json_array_get(list, i));
        /* the place in the tables JSON (core/path.h) */
        char where[320];
        snprintf(where, sizeof(where), "vmsds/%.255s/%u/variants[%zu]", vmsd,
                 version, i);
        bool ok = mc_desc_vmsd_from_json(o, where, &out[i], errp);
        json_decref(o);
        if (!ok) {
            mc_tables_variants_free(out, i);
            return false;
        }
    }
    *variants = out;
    *n_variants = n;
    return true;
}

void mc_tables_variants_free(mc_desc_vmsd *variants, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        mc_desc_vmsd_clear(&variants[k]);
    }
    free(variants);
}

extern const unsigned char mc_builtin_tables[];
extern const size_t mc_builtin_tables_len;

bool mc_tables_load_builtin(mc_tables *t, mc_error **errp)
{
    if (!mc_tables_load(t, mc_builtin_tables, mc_builtin_tables_len, errp)) {
        mc_error_prepend(errp, "built-in tables");
        return false;
    }
    return true;
}

/* The built-in tables are parsed once per process, the first time a
 * reader needs them, and are read-only from then on: any number of
 * readers, in any threads, share them. */
static struct {
    pthread_once_t once;
    mc_tables *tables;
    mc_error *err;
} builtin = {.once = PTHREAD_ONCE_INIT};

static void builtin_load(void)
{
    mc_tables *t = mc_tables_new();
    if (!mc_tables_load_builtin(t, &builtin.err)) {
        mc_tables_free(t);
        return;
    }
    builtin.tables = t;
}

const mc_tables *mc_tables_builtin(mc_error **errp)
{
    pthread_once(&builtin.once, builtin_load);
    if (!builtin.tables) {
        mc_error_set(errp, builtin.err->cls, builtin.err->offset,
                     builtin.err->path, "%s", builtin.err->msg);
    }
    return builtin.tables;
}

/* Free them at exit so that leak checkers see no residue. */
__attribute__((destructor)) static void builtin_free(void)
{
    mc_tables_free(builtin.tables);
    mc_error_free(builtin.err);
}
