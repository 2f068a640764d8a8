/*
 * The vmdesc JSON (QEMU_VM_VMDESCRIPTION) to device descriptions.
 *
 * QEMU writes it in migration/vmstate.c (vmsd_desc_field_start/_end,
 * vmstate_save_state_v, vmstate_subsection_save) and savevm.c (vmstate_save,
 * vmstate_save_old_style):
 *
 *   {"page_size":4096,"devices":[{"name":IDSTR,"instance_id":N,
 *      "vmsd_name":V,"version":N,"fields":[...],"subsections":[...]}, ...]}
 *
 * A field entry is {"name","type","size"} plus "array_len" (all elements
 * alike, only the first described) or "index" (one entry per element), and
 * for VMS_STRUCT a "struct" object holding a nested vmsd.  "vstruct" and
 * "tmp" write their nested vmsd keys into the field object itself.  Other
 * types that nest ("qtailq", "qlist", "gtree") repeat keys per element and
 * are carried as sized bytes.  "size" is the number of bytes written for
 * that element.
 */
#include "desc/desc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "desc/json.h"

static const struct {
    const char *name;
    mc_wire_type wt;
} scalar_types[] = {
    {"bool", MC_WT_BOOL},
    {"uint8", MC_WT_U8},       {"uint16", MC_WT_U16},
    {"uint32", MC_WT_U32},     {"uint64", MC_WT_U64},
    {"int8", MC_WT_I8},        {"int16", MC_WT_I16},
    {"int32", MC_WT_I32},      {"int64", MC_WT_I64},
    {"uint8 equal", MC_WT_U8}, {"uint16 equal", MC_WT_U16},
    {"uint32 equal", MC_WT_U32}, {"uint64 equal", MC_WT_U64},
    {"int32 equal", MC_WT_I32}, {"int64 equal", MC_WT_I64},
    {"int32 le", MC_WT_I32},
    {"timer", MC_WT_I64},      /* be64 expiry, -1 when not armed */
    {"CPU_Double_U", MC_WT_U64}, {"float64", MC_WT_U64},
};

bool mc_desc_wire_type(const char *type, uint64_t size, mc_wire_type *wt)
{
    for (size_t i = 0; i < sizeof(scalar_types) / sizeof(scalar_types[0]);
         i++) {
        if (strcmp(type, scalar_types[i].name) == 0 &&
            mc_wire_type_width(scalar_types[i].wt) == size) {
            *wt = scalar_types[i].wt;
            return true;
        }
    }
    return false;
}

typedef struct parser {
    mc_error **errp;
    char path[512];
} parser;

static bool fail(parser *p, const char *msg)
{
    mc_error_data(p->errp, MC_NO_OFFSET, p->path[0] ? p->path : NULL,
                  "invalid vmdesc: %s", msg);
    return false;
}

static bool get_u64(json_t *o, const char *key, uint64_t *v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_integer(j) || json_integer_value(j) < 0) {
        return false;
    }
    *v = (uint64_t)json_integer_value(j);
    return true;
}

static bool parse_vmsd(parser *p, json_t *o, mc_desc_vmsd *m, int depth);

static void elem_clear(mc_desc_elem *e)
{
    free(e->type);
    if (e->vmsd) {
        mc_desc_vmsd_clear(e->vmsd);
        free(e->vmsd);
    }
}

static bool parse_elem(parser *p, json_t *o, mc_desc_elem *e, int depth)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type) {
        return fail(p, "field without a type");
    }
    if (!get_u64(o, "size", &e->size)) {
        return fail(p, "field without a valid size");
    }
    e->type = mc_strdup(type);
    json_t *nested = NULL;
    if (strcmp(type, "struct") == 0) {
        nested = json_object_get(o, "struct");
    } else if (strcmp(type, "vstruct") == 0 || strcmp(type, "tmp") == 0) {
        nested = json_object_get(o, "fields") ? o : NULL;
    }
    if (nested && json_is_object(nested) &&
        json_object_get(nested, "fields")) {
        e->kind = MC_DESC_STRUCT;
        e->vmsd = mc_calloc(1, sizeof(*e->vmsd));
        return parse_vmsd(p, nested, e->vmsd, depth + 1);
    }
    if (mc_desc_wire_type(type, e->size, &e->wt)) {
        e->kind = MC_DESC_SCALAR;
    } else {
        e->kind = MC_DESC_BYTES;
    }
    return true;
}

static bool parse_fields(parser *p, json_t *arr, mc_desc_vmsd *m, int depth)
{
    size_t n = json_array_size(arr);
    m->fields = mc_calloc(n ? n : 1, sizeof(*m->fields));
    size_t plen = strlen(p->path);
    for (size_t i = 0; i < n;) {
        json_t *o = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(o, "name"));
        if (!json_is_object(o) || !name) {
            return fail(p, "field without a name");
        }
        snprintf(p->path + plen, sizeof(p->path) - plen, "/%s", name);
        mc_desc_field *f = &m->fields[m->n_fields++];
        f->name = mc_strdup(name);
        uint64_t v;
        if (get_u64(o, "array_len", &v)) {
            if (v > UINT32_MAX) {
                return fail(p, "array_len out of range");
            }
            f->is_array = true;
            f->count = (uint32_t)v;
            f->n_elems = 1;
            f->elems = mc_calloc(1, sizeof(*f->elems));
            if (!parse_elem(p, o, &f->elems[0], depth)) {
                return false;
            }
            f->packed = f->elems[0].kind == MC_DESC_SCALAR;
            i++;
        } else if (get_u64(o, "index", &v)) {
            /* One entry per element: index 0, 1, 2, ... under one name. */
            if (v != 0) {
                return fail(p, "array element entries do not start at index 0");
            }
            size_t j = i;
            while (j < n) {
                json_t *oj = json_array_get(arr, j);
                const char *nj = json_string_value(json_object_get(oj, "name"));
                uint64_t idx;
                if (!nj || strcmp(nj, name) != 0 || !get_u64(oj, "index", &idx) ||
                    idx != j - i) {
                    break;
                }
                j++;
            }
            f->is_array = true;
            f->count = f->n_elems = (uint32_t)(j - i);
            f->elems = mc_calloc(f->n_elems, sizeof(*f->elems));
            for (size_t k = i; k < j; k++) {
                if (!parse_elem(p, json_array_get(arr, k), &f->elems[k - i],
                                depth)) {
                    return false;
                }
            }
            i = j;
        } else {
            f->count = f->n_elems = 1;
            f->elems = mc_calloc(1, sizeof(*f->elems));
            if (!parse_elem(p, o, &f->elems[0], depth)) {
                return false;
            }
            i++;
        }
        p->path[plen] = 0;
    }
    return true;
}

static bool parse_vmsd(parser *p, json_t *o, mc_desc_vmsd *m, int depth)
{
    if (depth > MC_DESC_MAX_DEPTH) {
        return fail(p, "nesting too deep");
    }
    const char *name = json_string_value(json_object_get(o, "vmsd_name"));
    m->name = name ? mc_strdup(name) : NULL;
    uint64_t v = 0;
    if (get_u64(o, "version", &v) && v <= UINT32_MAX) {
        m->version = (uint32_t)v;
    }
    json_t *fields = json_object_get(o, "fields");
    if (fields && !json_is_array(fields)) {
        return fail(p, "\"fields\" is not an array");
    }
    if (!parse_fields(p, fields, m, depth)) {
        return false;
    }
    json_t *subs = json_object_get(o, "subsections");
    if (subs) {
        if (!json_is_array(subs)) {
            return fail(p, "\"subsections\" is not an array");
        }
        size_t n = json_array_size(subs);
        m->subs = mc_calloc(n ? n : 1, sizeof(*m->subs));
        for (size_t i = 0; i < n; i++) {
            json_t *so = json_array_get(subs, i);
            m->n_subs++;
            if (!json_is_object(so) ||
                !json_string_value(json_object_get(so, "vmsd_name"))) {
                return fail(p, "subsection without a vmsd_name");
            }
            if (!parse_vmsd(p, so, &m->subs[i], depth + 1)) {
                return false;
            }
        }
    }
    return true;
}

void mc_desc_vmsd_clear(mc_desc_vmsd *m)
{
    free(m->name);
    for (size_t i = 0; i < m->n_fields; i++) {
        mc_desc_field *f = &m->fields[i];
        free(f->name);
        for (uint32_t k = 0; k < f->n_elems; k++) {
            elem_clear(&f->elems[k]);
        }
        free(f->elems);
    }
    free(m->fields);
    for (size_t i = 0; i < m->n_subs; i++) {
        mc_desc_vmsd_clear(&m->subs[i]);
    }
    free(m->subs);
}

bool mc_vmdesc_parse(const uint8_t *json, size_t len, size_t limit,
                     mc_vmdesc **out, mc_error **errp)
{
    mc_json_limit lim = {limit ? limit : MC_DEFAULT_VMDESC_LIMIT, "vmdesc",
                         "--vmdesc-limit"};
    json_t *root = mc_json_parse(json, len, &lim, errp);
    if (!root) {
        return false;
    }
    parser p = {.errp = errp};
    mc_vmdesc *d = mc_calloc(1, sizeof(*d));
    bool ok = true;
    if (get_u64(root, "page_size", &d->page_size)) {
        d->has_page_size = true;
    }
    json_t *devs = json_object_get(root, "devices");
    if (!json_is_array(devs)) {
        ok = fail(&p, "no \"devices\" array");
    } else {
        size_t n = json_array_size(devs);
        d->devices = mc_calloc(n ? n : 1, sizeof(*d->devices));
        for (size_t i = 0; ok && i < n; i++) {
            json_t *o = json_array_get(devs, i);
            const char *name = json_string_value(json_object_get(o, "name"));
            uint64_t inst;
            if (!name || !get_u64(o, "instance_id", &inst) ||
                inst > UINT32_MAX) {
                ok = fail(&p, "device without name or instance_id");
                break;
            }
            mc_desc_device *dev = &d->devices[d->n_devices++];
            dev->idstr = mc_strdup(name);
            dev->instance_id = (uint32_t)inst;
            /* core/path.h: "vmdesc/IDSTR/FIELD..." */
            snprintf(p.path, sizeof(p.path), "vmdesc/%s", name);
            ok = parse_vmsd(&p, o, &dev->vmsd, 0);
        }
    }
    json_decref(root);
    if (!ok) {
        mc_vmdesc_free(d);
        return false;
    }
    *out = d;
    return true;
}

void mc_vmdesc_free(mc_vmdesc *d)
{
    if (!d) {
        return;
    }
    for (size_t i = 0; i < d->n_devices; i++) {
        free(d->devices[i].idstr);
        mc_desc_vmsd_clear(&d->devices[i].vmsd);
    }
    free(d->devices);
    free(d);
}

mc_desc_device *mc_vmdesc_find(mc_vmdesc *d, const char *idstr,
                               uint32_t instance_id)
{
    for (size_t i = 0; i < d->n_devices; i++) {
        mc_desc_device *dev = &d->devices[i];
        if (!dev->used && dev->instance_id == instance_id &&
            strcmp(dev->idstr, idstr) == 0) {
            return dev;
        }
    }
    return NULL;
}

bool mc_desc_vmsd_from_json(json_t *o, const char *what, mc_desc_vmsd *m,
                            mc_error **errp)
{
    parser p = {.errp = errp};
    snprintf(p.path, sizeof(p.path), "%s", what);
    memset(m, 0, sizeof(*m));
    if (!parse_vmsd(&p, o, m, 0)) {
        mc_desc_vmsd_clear(m);
        return false;
    }
    return true;
}
