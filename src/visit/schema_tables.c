/*
 * Descriptor tables as a walk: every (vmsd, version, layout) of a tables
 * document is visited as one device section whose values follow the
 * layout exactly as the legacy reader would report them (values zero),
 * with each subsection the tables list for it.  The schema visitor then
 * learns the tables' types the same way it learns a stream's.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/stream.h"
#include "core/util.h"
#include "desc/tables.h"
#include "visit/schema.h"

typedef struct walk {
    const mc_tables *t;
    json_t *doc;          /* the tables as JSON: names, versions, subs */
    mc_visitor *v;
    uint8_t *zeros;       /* enough zero bytes for any field */
    size_t n_zeros;
} walk;

static const uint8_t *zeros(walk *w, uint64_t n)
{
    if (n > w->n_zeros) {
        free(w->zeros);
        w->zeros = mc_calloc(1, (size_t)n);
        w->n_zeros = (size_t)n;
    }
    return w->zeros;
}

static bool walk_vmsd(walk *w, const mc_desc_vmsd *m, int depth,
                      mc_error **errp);

static bool walk_elem(walk *w, const mc_desc_elem *e, const char *name,
                      int depth, mc_error **errp)
{
    mc_field f = {name, e->type};
    switch (e->kind) {
    case MC_DESC_SCALAR:
        return mc_visit_int(w->v, &f, e->wt, 0, errp);
    case MC_DESC_BYTES:
        if (e->size > MC_SRC_MAX_REQUEST) {
            mc_error_data(errp, MC_NO_OFFSET, name,
                          "field of %llu bytes is too large",
                          (unsigned long long)e->size);
            return false;
        }
        return mc_visit_bytes(w->v, &f, zeros(w, e->size), (size_t)e->size,
                              errp);
    case MC_DESC_STRUCT:
        return mc_visit_start_struct(w->v, &f, errp) &&
               walk_vmsd(w, e->vmsd, depth + 1, errp) &&
               mc_visit_end_struct(w->v, errp);
    }
    return false;
}

static bool walk_field(walk *w, const mc_desc_field *fd, int depth,
                       mc_error **errp)
{
    const mc_desc_elem *e0 = &fd->elems[0];
    if (!fd->is_array) {
        return walk_elem(w, e0, fd->name, depth, errp);
    }
    mc_field f = {fd->name, e0->type};
    if (fd->packed) {
        uint64_t n = (uint64_t)fd->count * mc_wire_type_width(e0->wt);
        if (n > MC_SRC_MAX_REQUEST) {
            mc_error_data(errp, MC_NO_OFFSET, fd->name,
                          "array of %llu bytes is too large",
                          (unsigned long long)n);
            return false;
        }
        return mc_visit_packed(w->v, &f, e0->wt, fd->count, zeros(w, n),
                               errp);
    }
    if (!mc_visit_start_array(w->v, &f, fd->count, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < fd->count; i++) {
        const mc_desc_elem *e = &fd->elems[fd->n_elems == 1 ? 0 : i];
        if (!walk_elem(w, e, NULL, depth, errp)) {
            return false;
        }
    }
    return mc_visit_end_array(w->v, errp);
}

static bool walk_subs(walk *w, const char *name, uint32_t version, int depth,
                      mc_error **errp);

static bool walk_vmsd(walk *w, const mc_desc_vmsd *m, int depth,
                      mc_error **errp)
{
    if (depth > MC_DESC_MAX_DEPTH) {
        mc_error_data(errp, MC_NO_OFFSET, m->name, "nesting too deep");
        return false;
    }
    for (size_t i = 0; i < m->n_fields; i++) {
        if (!walk_field(w, &m->fields[i], depth, errp)) {
            return false;
        }
    }
    return true;
}

/* Each subsection the tables list for (name, version), at every version
 * the tables know for it. */
static bool walk_subs(walk *w, const char *name, uint32_t version, int depth,
                      mc_error **errp)
{
    char vs[16];
    snprintf(vs, sizeof(vs), "%u", version);
    json_t *vmsds = json_object_get(w->doc, "vmsds");
    json_t *subs = json_object_get(
        json_object_get(json_object_get(vmsds, name), vs), "subsections");
    size_t i;
    json_t *js;
    json_array_foreach(subs, i, js) {
        const char *sub = json_string_value(js);
        json_t *versions = json_object_get(vmsds, sub ? sub : "");
        const char *sv;
        json_t *ignored;
        json_object_foreach(versions, sv, ignored) {
            uint32_t ver = (uint32_t)strtoul(sv, NULL, 10);
            mc_desc_vmsd *variants;
            size_t n;
            if (!mc_tables_find(w->t, sub, ver, &variants, &n, errp)) {
                return false;
            }
            if (n == 0) {
                continue;
            }
            bool ok = depth <= MC_DESC_MAX_DEPTH;
            if (!ok) {
                mc_error_data(errp, MC_NO_OFFSET, sub, "nesting too deep");
            }
            ok = ok && mc_visit_start_subsection(w->v, sub, ver, errp) &&
                 walk_vmsd(w, &variants[0], depth + 1, errp) &&
                 walk_subs(w, sub, ver, depth + 1, errp) &&
                 mc_visit_end_subsection(w->v, errp);
            mc_tables_variants_free(variants, n);
            if (!ok) {
                return false;
            }
        }
    }
    return true;
}

bool mc_schema_from_tables(mc_schema *s, const mc_tables *t, mc_error **errp)
{
    char *dump = mc_tables_dump(t);
    json_error_t jerr;
    walk w = {.t = t, .doc = json_loads(dump, 0, &jerr)};
    free(dump);
    if (!w.doc) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "tables: %s", jerr.text);
        return false;
    }
    w.v = mc_schema_visitor_new(s);
    mc_stream_info si = {.magic = MC_VM_FILE_MAGIC,
                         .version = MC_VM_FILE_VERSION,
                         .page_size = 4096,
                         .names = true};
    bool ok = mc_visit_start_stream(w.v, &si, errp);
    const char *name;
    json_t *versions;
    json_object_foreach(json_object_get(w.doc, "vmsds"), name, versions) {
        const char *vs;
        json_t *ignored;
        json_object_foreach(versions, vs, ignored) {
            uint32_t ver = (uint32_t)strtoul(vs, NULL, 10);
            mc_desc_vmsd *variants = NULL;
            size_t n = 0;
            ok = ok && mc_tables_find(t, name, ver, &variants, &n, errp);
            for (size_t k = 0; ok && k < n; k++) {
                mc_section_info info = {.type = MC_VM_SECTION_FULL,
                                        .kind = MC_SECTION_VMSTATE,
                                        .idstr = name,
                                        .version_id = ver,
                                        .vmsd_name = name};
                ok = mc_visit_start_section(w.v, &info, errp) &&
                     walk_vmsd(&w, &variants[k], 0, errp) &&
                     walk_subs(&w, name, ver, 0, errp) &&
                     mc_visit_end_section(w.v, false, errp);
            }
            mc_tables_variants_free(variants, n);
        }
    }
    ok = ok && mc_visit_end_stream(w.v, errp);
    mc_visitor_free(w.v);
    json_decref(w.doc);
    free(w.zeros);
    return ok;
}
