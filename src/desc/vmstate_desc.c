/* The built-in vmstate descriptions and the layout check (vmstate_desc.h). */
#include "desc/vmstate_desc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "desc/desc.h"
#include "desc/json.h"

struct mc_vmstate_desc {
    json_t *vmsd;   /* {NAME: [{"v","m","f","s"}, ...]} */
};

/* Parsed once per process, read-only from then on. */
#define MAX_DESCS 32
static struct {
    pthread_once_t once;
    mc_vmstate_desc descs[MAX_DESCS];
    json_t *roots[MAX_DESCS];
    mc_error *err;
} sets = {.once = PTHREAD_ONCE_INIT};

static void sets_load(void)
{
    for (size_t i = 0; i < mc_vmstate_index_len && i < MAX_DESCS; i++) {
        const mc_builtin_entry *e = &mc_vmstate_index[i];
        mc_json_limit lim = {(*e->len + 1) * MC_JSON_BYTES_PER_UNIT,
                             "vmstate description", NULL};
        json_t *root = mc_json_parse(e->json, *e->len, &lim, &sets.err);
        json_t *vmsd = root ? json_object_get(root, "vmsd") : NULL;
        if (!vmsd || !json_is_object(vmsd)) {
            if (!sets.err) {
                mc_error_set(&sets.err, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                             "built-in vmstate description of QEMU %s %s: "
                             "no \"vmsd\" object", e->version, e->target);
            }
            json_decref(root);
            return;
        }
        sets.roots[i] = root;
        sets.descs[i].vmsd = vmsd;
    }
}

__attribute__((destructor)) static void sets_free(void)
{
    for (size_t i = 0; i < MAX_DESCS; i++) {
        json_decref(sets.roots[i]);
    }
    mc_error_free(sets.err);
}

bool mc_vmstate_desc_for(const char *version, const char *target,
                         const mc_vmstate_desc **out, mc_error **errp)
{
    pthread_once(&sets.once, sets_load);
    *out = NULL;
    if (sets.err) {
        mc_error_set(errp, sets.err->cls, sets.err->offset, sets.err->path,
                     "%s", sets.err->msg);
        return false;
    }
    for (size_t i = 0; i < mc_vmstate_index_len && i < MAX_DESCS; i++) {
        const mc_builtin_entry *e = &mc_vmstate_index[i];
        if (strcmp(e->version, version) == 0 &&
            strcmp(e->target, target) == 0) {
            *out = &sets.descs[i];
            return true;
        }
    }
    return true;
}

static const json_t *variants(const mc_vmstate_desc *d, const char *name)
{
    const json_t *a = name ? json_object_get(d->vmsd, name) : NULL;
    return json_is_array(a) ? a : NULL;
}

static uint32_t u32(const json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v < 0 ? 0 : (uint32_t)v;
}

bool mc_vmstate_desc_knows(const mc_vmstate_desc *d, const char *vmsd,
                           uint32_t *version)
{
    const json_t *a = variants(d, vmsd);
    if (!a || json_array_size(a) == 0) {
        return false;
    }
    uint32_t best = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(a, i, e) {
        uint32_t v = u32(e, "v");
        best = v > best ? v : best;
    }
    if (version) {
        *version = best;
    }
    return true;
}

/* ---- the check ---- */

/* A target field: [name, size, version_id, exists, num, struct]. */
typedef struct vfield {
    const char *name;
    json_int_t size;
    json_int_t version;
    bool exists;       /* a field_exists test decides */
    const char *vmsd;  /* nested vmsd, or NULL */
} vfield;

static bool vfield_get(const json_t *f, vfield *out)
{
    out->name = json_string_value(json_array_get(f, 0));
    out->size = json_integer_value(json_array_get(f, 1));
    out->version = json_integer_value(json_array_get(f, 2));
    out->exists = json_integer_value(json_array_get(f, 3)) != 0;
    out->vmsd = json_string_value(json_array_get(f, 5));
    return out->name != NULL;
}

/* The vmdesc types of fixed-size scalars, whose "size" (the bytes written)
 * equals the field's size in the dump. */
static bool scalar_type(const char *type)
{
    return type && (strncmp(type, "int", 3) == 0 ||
                    strncmp(type, "uint", 4) == 0 ||
                    strcmp(type, "bool") == 0);
}

static bool scalar_size(json_int_t s)
{
    return s == 1 || s == 2 || s == 4 || s == 8;
}

typedef struct ctx {
    const mc_vmstate_desc *d;
    const char *tname;
    char *why;
    size_t n;
    int depth;
} ctx;

static bool check_vmsd(ctx *c, const json_t *in, const char *path,
                       bool at_theirs, bool *unknown);

/* Whether QEMU V reads the target field at this version (a field with a
 * field_exists test: perhaps). */
static bool read_at(const vfield *f, json_int_t version)
{
    return f->exists || f->version <= version;
}

/* The name QEMU's vmdesc gives field j of a field list: its own, with
 * "[N]" added when the name occurs more than once (vmsd_desc_field_start:
 * N counts the earlier fields of that name). */
static void display_name(const json_t *vf, size_t j, char *out, size_t n)
{
    const char *name = json_string_value(json_array_get(json_array_get(vf, j), 0));
    size_t count = 0, before = 0;
    for (size_t k = 0; k < json_array_size(vf); k++) {
        const char *o = json_string_value(json_array_get(json_array_get(vf, k), 0));
        if (o && name && strcmp(o, name) == 0) {
            count++;
            before += k < j;
        }
    }
    if (count > 1) {
        snprintf(out, n, "%s[%zu]", name ? name : "", before);
    } else {
        snprintf(out, n, "%s", name ? name : "");
    }
}

/* The target field whose vmdesc name is name (SIZE_MAX: none). */
static size_t find_field(const json_t *vf, const char *name)
{
    char dn[256];
    for (size_t j = 0; j < json_array_size(vf); j++) {
        display_name(vf, j, dn, sizeof(dn));
        if (strcmp(dn, name) == 0) {
            return j;
        }
    }
    return SIZE_MAX;
}

/* Whether the stream's field list has an entry named name. */
static bool in_has(const json_t *inf, const char *name)
{
    size_t i;
    const json_t *e;
    json_array_foreach(inf, i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && strcmp(n, name) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The fields of one target variant against the stream's, by the names
 * QEMU's vmdesc gives them (names are not on the wire, so a renamed field
 * of the same layout loads; only what no rename explains is reported):
 *   - a field of both, scalar in both, of another size;
 *   - a nested struct of both that differs (recursively);
 *   - a field of the stream the target does not have at all, when every
 *     field the target reads at this version is in the stream (it would
 *     read the stream's bytes as the wrong fields);
 *   - a field the target reads at this version (no field_exists test, not
 *     a nested struct, which may be an empty array the vmdesc leaves out)
 *     that the stream lacks, when every field of the stream is the
 *     target's.
 */
static bool check_fields(ctx *c, const json_t *var, const json_t *in,
                         json_int_t version, const char *path)
{
    const char *vname = json_string_value(json_object_get(in, "vmsd_name"));
    const json_t *vf = json_object_get(var, "f");
    const json_t *inf = json_object_get(in, "fields");
    const char *extra = NULL, *missing = NULL;
    bool any_missing = false;
    char dn[256];
    size_t i;
    const json_t *e;
    json_array_foreach(inf, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!name || json_integer_value(json_object_get(e, "index")) > 0) {
            continue;   /* an array's further elements */
        }
        size_t j = find_field(vf, name);
        vfield f;
        if (j == SIZE_MAX || !vfield_get(json_array_get(vf, j), &f)) {
            if (!extra) {
                extra = name;
            }
            continue;
        }
        const char *type = json_string_value(json_object_get(e, "type"));
        json_int_t size = json_integer_value(json_object_get(e, "size"));
        const json_t *st = json_object_get(e, "struct");
        char sub[512];
        snprintf(sub, sizeof(sub), "%s/%s", path, name);
        if (!read_at(&f, version)) {
            continue;
        }
        if (scalar_type(type) && scalar_size(size) && scalar_size(f.size) &&
            !f.vmsd && size != f.size) {
            snprintf(c->why, c->n, "field '%s' is %lld bytes in the stream, "
                     "%lld in %s's vmsd '%s'", sub, (long long)size,
                     (long long)f.size, c->tname, vname);
            return false;
        }
        if (json_is_object(st) && f.vmsd && type &&
            strcmp(type, "struct") == 0) {
            bool unknown = false;
            if (!check_vmsd(c, st, sub, true, &unknown) && !unknown) {
                return false;
            }
        }
    }
    for (size_t j = 0; j < json_array_size(vf); j++) {
        vfield f;
        if (!vfield_get(json_array_get(vf, j), &f) || !read_at(&f, version)) {
            continue;
        }
        display_name(vf, j, dn, sizeof(dn));
        if (in_has(inf, dn) || f.exists) {
            continue;   /* there, or its field_exists test said no */
        }
        any_missing = true;
        if (!missing && !f.vmsd) {
            missing = json_string_value(json_array_get(json_array_get(vf, j), 0));
            snprintf(c->why, c->n, "%s's vmsd '%s' (version %lld) reads "
                     "field '%s/%s', which the stream does not have",
                     c->tname, vname, (long long)version, path, dn);
        }
    }
    if (extra && !any_missing) {
        snprintf(c->why, c->n, "the stream has field '%s/%s', which %s's "
                 "vmsd '%s' (version %lld) does not have", path, extra,
                 c->tname, vname, (long long)version);
        return false;
    }
    return !(missing && !extra);
}

/* in against every target variant of its vmsd name: fits when one does.
 * at_theirs: compare at the target variant's own version (a nested
 * struct, which QEMU loads at its own vmsd's version_id); else at in's. */
static bool check_vmsd(ctx *c, const json_t *in, const char *path,
                       bool at_theirs, bool *unknown)
{
    const char *name = json_string_value(json_object_get(in, "vmsd_name"));
    const json_t *vars = variants(c->d, name);
    *unknown = !vars || json_array_size(vars) == 0;
    if (*unknown) {
        return false;
    }
    if (++c->depth > MC_JSON_MAX_DEPTH) {
        c->depth--;
        return true;
    }
    json_int_t version = json_integer_value(json_object_get(in, "version"));
    char first[512] = "";
    bool fits = false;
    size_t k;
    const json_t *var;
    json_array_foreach(vars, k, var) {
        json_int_t v = at_theirs ? json_integer_value(json_object_get(var, "v"))
                                 : version;
        if (check_fields(c, var, in, v, path)) {
            fits = true;
            break;
        }
        if (!first[0]) {
            snprintf(first, sizeof(first), "%s", c->why);
        }
    }
    /* the subsections the target knows, at the stream's versions */
    size_t s;
    const json_t *sub;
    json_array_foreach(json_object_get(in, "subsections"), s, sub) {
        if (!fits) {
            break;
        }
        const char *sname =
            json_string_value(json_object_get(sub, "vmsd_name"));
        bool sunknown = false;
        char spath[512];
        snprintf(spath, sizeof(spath), "%s", sname ? sname : "?");
        if (!check_vmsd(c, sub, spath, false, &sunknown) && !sunknown) {
            snprintf(first, sizeof(first), "%s", c->why);
            fits = false;
        }
    }
    c->depth--;
    if (!fits) {
        snprintf(c->why, c->n, "%s", first);
    }
    return fits;
}

mc_vmstate_fit mc_vmstate_desc_check(const mc_vmstate_desc *d,
                                     const json_t *vmsd, const char *tname,
                                     char *why, size_t n)
{
    ctx c = {d, tname, why, n, 0};
    const char *name = json_string_value(json_object_get(vmsd, "vmsd_name"));
    bool unknown = false;
    if (check_vmsd(&c, vmsd, name ? name : "?", false, &unknown)) {
        return MC_VMSTATE_FITS;
    }
    return unknown ? MC_VMSTATE_UNKNOWN : MC_VMSTATE_DIFFERS;
}

bool mc_vmstate_desc_has_field(const mc_vmstate_desc *d, const char *vmsd,
                               const char *name)
{
    size_t k;
    const json_t *var;
    json_array_foreach(variants(d, vmsd), k, var) {
        if (find_field(json_object_get(var, "f"), name) != SIZE_MAX) {
            return true;
        }
    }
    return false;
}

static bool has_name(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

bool mc_vmstate_desc_extra(const mc_vmstate_desc *d, const char *vmsd,
                           uint32_t version, const char *const *names,
                           size_t n, bool *drop)
{
    size_t k;
    const json_t *var;
    char dn[256];
    json_array_foreach(variants(d, vmsd), k, var) {
        const json_t *vf = json_object_get(var, "f");
        bool all = true;
        for (size_t j = 0; j < json_array_size(vf) && all; j++) {
            vfield f;
            if (!vfield_get(json_array_get(vf, j), &f) ||
                !read_at(&f, version) || f.exists) {
                continue;
            }
            display_name(vf, j, dn, sizeof(dn));
            all = has_name(names, n, dn);
        }
        if (!all) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            drop[i] = find_field(vf, names[i]) == SIZE_MAX;
        }
        return true;
    }
    return false;
}
