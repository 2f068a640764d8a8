/* What a stream of the target QEMU shows about it (target_profile.h). */
#include "visit/target_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"

typedef struct tp_section {
    char *idstr;
    uint32_t instance, version;
    uint32_t *rings;         /* vring.num of queues never set up, else 0 */
    uint32_t n_rings;
} tp_section;

struct mc_target_profile {
    tp_section *s;
    size_t n, cap;
    mc_tables *tables;
    size_t vmdesc_limit;
    char machine[256];
};

typedef struct tp_visitor {
    mc_visitor base;
    mc_visitor_ops ops;
    mc_target_profile *p;
    tp_section *cur;         /* the section being read (first parts only) */
    bool in_config, machine_seen;
    unsigned depth, virtio_depth, vq_depth;
    uint32_t vq_index, vq_next;
    uint32_t num;            /* the queue's vring.num, until vring.desc */
} tp_visitor;

mc_target_profile *mc_target_profile_new(size_t vmdesc_limit)
{
    mc_target_profile *p = mc_calloc(1, sizeof(*p));
    p->vmdesc_limit = vmdesc_limit;
    return p;
}

void mc_target_profile_free(mc_target_profile *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        free(p->s[i].idstr);
        free(p->s[i].rings);
    }
    free(p->s);
    mc_tables_free(p->tables);
    free(p);
}

static tp_visitor *tp_of(mc_visitor *v)
{
    return (tp_visitor *)v;
}

static bool tp_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    (void)errp;
    tp_visitor *t = tp_of(v);
    mc_target_profile *p = t->p;
    t->cur = NULL;
    t->depth = t->virtio_depth = t->vq_depth = 0;
    t->in_config = info->kind == MC_SECTION_CONFIG;
    if (t->in_config || !info->idstr ||
        (info->type != MC_VM_SECTION_START &&
         info->type != MC_VM_SECTION_FULL)) {
        return true;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->s = mc_realloc(p->s, p->cap * sizeof(*p->s));
    }
    tp_section *s = &p->s[p->n++];
    *s = (tp_section){.idstr = mc_strdup(info->idstr),
                      .instance = info->instance_id,
                      .version = info->version_id};
    t->cur = s;
    return true;
}

static bool tp_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    (void)footer;
    (void)errp;
    tp_visitor *t = tp_of(v);
    t->cur = NULL;
    t->in_config = false;
    return true;
}

static bool tp_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    (void)errp;
    tp_visitor *t = tp_of(v);
    if (t->vq_depth && t->depth == t->vq_depth) {
        t->vq_index = t->vq_next++;
        t->num = 0;
    }
    t->depth++;
    if (!t->virtio_depth && f->name && strcmp(f->name, "virtio") == 0 &&
        f->type && strcmp(f->type, "virtio") == 0) {
        t->virtio_depth = t->depth;
    }
    return true;
}

static bool tp_end_struct(mc_visitor *v, mc_error **errp)
{
    (void)errp;
    tp_visitor *t = tp_of(v);
    if (t->depth == t->virtio_depth) {
        t->virtio_depth = 0;
    }
    t->depth--;
    return true;
}

static bool tp_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    (void)errp;
    tp_visitor *t = tp_of(v);
    t->depth++;
    if (t->cur && !t->cur->rings && t->virtio_depth &&
        t->depth == t->virtio_depth + 1 && f->name &&
        strcmp(f->name, "vq") == 0 && count <= 1024) {
        t->vq_depth = t->depth;
        t->vq_next = 0;
        t->cur->rings = mc_calloc(count ? count : 1, sizeof(uint32_t));
        t->cur->n_rings = count;
    }
    return true;
}

static bool tp_end_array(mc_visitor *v, mc_error **errp)
{
    (void)errp;
    tp_visitor *t = tp_of(v);
    if (t->depth == t->vq_depth) {
        t->vq_depth = 0;
    }
    t->depth--;
    return true;
}

static bool tp_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    (void)name;
    (void)version_id;
    (void)errp;
    tp_of(v)->depth++;
    return true;
}

static bool tp_end_subsection(mc_visitor *v, mc_error **errp)
{
    (void)errp;
    tp_of(v)->depth--;
    return true;
}

static bool tp_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                   uint64_t raw, mc_error **errp)
{
    (void)wt;
    (void)errp;
    tp_visitor *t = tp_of(v);
    if (!t->vq_depth || t->depth != t->vq_depth + 1 || !f->name ||
        t->vq_index >= t->cur->n_rings) {
        return true;
    }
    if (strcmp(f->name, "vring.num") == 0) {
        t->num = raw > UINT32_MAX ? UINT32_MAX : (uint32_t)raw;
    } else if (strcmp(f->name, "vring.desc") == 0 && raw == 0) {
        t->cur->rings[t->vq_index] = t->num;
    }
    return true;
}

static bool tp_bytes(mc_visitor *v, const mc_field *f, const uint8_t *data,
                     size_t len, mc_error **errp)
{
    (void)f;
    (void)errp;
    tp_visitor *t = tp_of(v);
    if (t->in_config && !t->machine_seen) {
        /* the configuration's first byte field is the machine type */
        t->machine_seen = true;
        size_t n = len < sizeof(t->p->machine) - 1 ? len
                                                   : sizeof(t->p->machine) - 1;
        memcpy(t->p->machine, data, n);
        t->p->machine[n] = '\0';
    }
    return true;
}

static bool tp_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    mc_target_profile *p = tp_of(v)->p;
    if (!p->tables) {
        p->tables = mc_tables_new();
    }
    return mc_tables_add_vmdesc(p->tables, json, len, p->vmdesc_limit, errp);
}

static void tp_free(mc_visitor *v)
{
    free(v);
}

mc_visitor *mc_target_profile_visitor(mc_target_profile *p)
{
    tp_visitor *t = mc_calloc(1, sizeof(*t));
    t->p = p;
    mc_visitor_ops ops = mc_null_ops;
    ops.start_section = tp_start_section;
    ops.end_section = tp_end_section;
    ops.start_struct = tp_start_struct;
    ops.end_struct = tp_end_struct;
    ops.start_array = tp_start_array;
    ops.end_array = tp_end_array;
    ops.start_subsection = tp_start_subsection;
    ops.end_subsection = tp_end_subsection;
    ops.visit_int = tp_int;
    ops.visit_bytes = tp_bytes;
    ops.vmdesc = tp_vmdesc;
    ops.free = tp_free;
    t->ops = ops;
    t->base.ops = &t->ops;
    return &t->base;
}

bool mc_target_profile_has_idstr(const mc_target_profile *p, const char *idstr)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->s[i].idstr, idstr) == 0) {
            return true;
        }
    }
    return false;
}

bool mc_target_profile_section(const mc_target_profile *p, const char *idstr,
                               uint32_t instance, uint32_t *version)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->s[i].instance == instance && strcmp(p->s[i].idstr, idstr) == 0) {
            *version = p->s[i].version;
            return true;
        }
    }
    return false;
}

bool mc_target_profile_instance(const mc_target_profile *p,
                                const char *idstr, uint32_t k,
                                uint32_t *instance)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->s[i].idstr, idstr) == 0 && k-- == 0) {
            *instance = p->s[i].instance;
            return true;
        }
    }
    return false;
}

bool mc_target_profile_ring(const mc_target_profile *p, const char *idstr,
                            uint32_t index, uint32_t *num)
{
    for (size_t i = 0; i < p->n; i++) {
        const tp_section *s = &p->s[i];
        if (s->rings && strcmp(s->idstr, idstr) == 0) {
            if (index >= s->n_rings || s->rings[index] == 0) {
                return false;
            }
            *num = s->rings[index];
            return true;
        }
    }
    return false;
}

const mc_tables *mc_target_profile_tables(const mc_target_profile *p)
{
    return p->tables;
}

const char *mc_target_profile_machine(const mc_target_profile *p)
{
    return p->machine;
}
