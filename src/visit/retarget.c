/*
 * The retarget visitor: checks a stream against a target QEMU version with
 * the rules of desc/compat.h and, in rewrite mode, passes a rewritten
 * stream on to the next visitor: normalize's (visit/normalize.h), which
 * turns the COMPRESS_PAGE and XBZRLE records it passes on, and the pages
 * of a mapped-ram file, into PAGE records (keeping page contents in
 * unnamed temporary files, not in memory), and then the legacy writer.
 *
 * Check mode (compat) reports every finding and changes nothing.  Rewrite
 * mode (retarget) applies the rewrites, drops what --allow-loss allows,
 * and fails on the first finding it cannot rewrite, naming the section.
 * Findings and rewrites go to the caller's callback, one line each; only
 * the CLI prints them.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/path.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "desc/builtin.h"
#include "desc/compat.h"
#include "desc/json.h"
#include "desc/tables.h"
#include "desc/vmstate_desc.h"
#include "visit/target_profile.h"
#include "visit/visitors.h"

/* A section's first part: where it starts in the input, for a refusal
 * found later, in the vmdesc (rule field-layout). */
typedef struct sec_at {
    char *idstr;
    uint32_t instance, section_id;
    unsigned type;
    uint64_t offset;
} sec_at;

/* A subsection left out (--allow-loss subsection), for the vmdesc. */
typedef struct sub_drop {
    char *idstr;
    uint32_t instance;
    char *name;
} sub_drop;

/* A call held back for the next visitor (--allow-loss field). */
typedef enum tape_kind {
    TK_INT, TK_BYTES, TK_PACKED, TK_START_STRUCT, TK_END_STRUCT,
    TK_START_ARRAY, TK_END_ARRAY, TK_START_SUB, TK_END_SUB,
} tape_kind;

typedef struct tape_op {
    tape_kind kind;
    long top;            /* the section's top-level field it is part of
                            (index into fnames), or -1 */
    char *name, *type;   /* the field's, or the subsection's name */
    mc_wire_type wt;
    uint64_t raw;        /* int: value; packed, array: count;
                            subsection: version_id */
    uint8_t *data;       /* bytes, packed */
    size_t len;
} tape_op;

/* The bytes a section's held calls may take (a device section is small;
 * the legacy reader holds them all anyway). */
#define MC_RETARGET_TAPE_LIMIT (64u << 20)

/* A field left out (--allow-loss field), for the vmdesc. */
typedef struct field_drop {
    char *idstr;
    uint32_t instance;
    char *name;
} field_drop;

/* At most this many sections' offsets are kept (a hostile stream may
 * have more; their refusals then give no offset). */
#define MC_RETARGET_MAX_SECTIONS 65536

/* An int held back (its field's strings copied). */
typedef struct held {
    bool on;
    char name[32];
    char type[32];
    mc_wire_type wt;
    uint64_t raw;
} held;

typedef struct retarget {
    mc_visitor base;
    mc_visitor_ops ops;
    mc_visitor *down;          /* rewrite mode: the next visitor */
    mc_retarget_opts o;
    unsigned to;               /* target version number (0: none) */
    char tname[32];            /* "QEMU 7.2", or "the target" */
    const mc_target_profile *ts;  /* --to-stream: the target's own stream */

    bool in_config;
    bool machine_seen;
    const char *target;        /* of the machine type */
    const mc_tables *tables;   /* the target version's built-in tables */
    /* compat --to V: V's own -dump-vmstate (desc/vmstate_desc.h), for the
     * rules subsection and field-layout */
    const mc_vmstate_desc *vd;
    bool sec_described;        /* vd describes the section's vmsd */
    bool sec_sub_blocked;      /* a subsection of it was reported */
    char **undescribed;        /* vmsd names noted as not in vd */
    size_t n_undescribed;
    size_t undescribed_more;   /* beyond the 64 listed */

    sec_at *secs;              /* rewrite mode with vd: section offsets */
    size_t n_secs;
    sub_drop *subs;            /* subsections left out */
    size_t n_subs;
    unsigned sub_depth;        /* depth of the subsection being left out */

    /* --allow-loss field: the top-level field names of a section whose
     * vmsd vd describes; from the first one V's vmsd does not have on,
     * what goes to the next visitor is held on a tape until the section
     * ends, when mc_vmstate_desc_extra says which fields to leave out */
    const char *fvmsd;         /* the section's vmsd in vd, or NULL */
    uint32_t fversion;         /* the section's version */
    char **fnames;
    size_t n_fnames;
    long ftop;                 /* the top-level field being visited, or -1 */
    bool taping;
    tape_op *tape;
    size_t n_tape, tape_bytes;
    field_drop *fdrops;
    size_t n_fdrops;
    uint32_t instance;         /* the section's instance id, as read */
    unsigned sec_type;         /* its QEMU_VM_SECTION_* type */

    uint32_t *dropped;         /* section ids left out (--allow-loss block) */
    size_t n_dropped;
    bool dropping;             /* inside a section left out */
    uint64_t dropped_records;

    char machine[256];         /* the configuration's machine type */
    char idstr[256];           /* the section being read */
    uint32_t section_id;

    /* the virtio field's queue table, virtio/vq[N] (legacy/virtio.c):
     * vring.num (and vring.align) are held back until vring.desc tells
     * whether the guest set the queue up */
    unsigned depth;            /* structs, arrays, subsections open */
    unsigned virtio_depth;     /* depth inside the virtio struct, or 0 */
    unsigned vq_depth;         /* depth inside its vq array, or 0 */
    uint32_t vq_count, vq_next, vq_index;
    held h_num, h_align;
    /* the virtio field is read in one piece and then decoded: the input
     * offset at its start_struct is where the field ends (legacy) or the
     * field's own start (BER); in a legacy stream its bytes are counted */
    uint64_t virtio_at;        /* the input offset at its start_struct */
    uint64_t virtio_bytes;     /* legacy bytes of its items so far */
    uint64_t num_rel;          /* of the held vring.num, from the start */
    /* the refusal of a queue in use, given when the field ends and the
     * offset of its vring.num is known */
    bool refuse;
    uint32_t refuse_index, refuse_size;
    uint64_t refuse_num, refuse_rel;
    unsigned vq_fixed;         /* queues of the section rewritten */
    uint32_t vq_fixed_index, vq_fixed_from, vq_fixed_to;
    unsigned vq_unknown;       /* size not in the ring size table */
    unsigned vq_smaller;       /* unused, smaller than the table says */
    uint32_t vq_smaller_index, vq_smaller_num, vq_smaller_size;

    unsigned slirp_renumbered;
    uint32_t slirp_seen;       /* slirp sections so far (--to-stream) */
    uint32_t *slirp_inst;      /* the k-th slirp section's instance id as
                                  written */
    size_t n_slirp;
    uint64_t compress_pages;
    uint64_t mapped_blocks;    /* MappedRamHeaders (rule mapped-ram) */
    char mapped_first[64];     /* the first one's block */
    uint64_t xbzrle_pages;
    unsigned blockers;         /* check mode: findings that block */

    /* input offsets: at the previous callback (where the item of this
     * one starts, as the readers call after reading an item) and at this
     * one */
    uint64_t at_prev, at_now;
} retarget;

/* Called first by every callback: remember where its item starts. */
static void mark(retarget *r)
{
    r->at_prev = r->at_now;
    r->at_now = r->o.src ? mc_src_offset(r->o.src) : MC_NO_OFFSET;
}

/* The input offset where the current item starts (MC_NO_OFFSET without a
 * source). */
static uint64_t item_offset(const retarget *r)
{
    return r->o.src ? r->at_prev : MC_NO_OFFSET;
}

static void say(retarget *r, mc_retarget_kind kind, const char *rule,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(retarget *r, mc_retarget_kind kind, const char *rule,
                const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (kind == MC_RETARGET_BLOCKS) {
        r->blockers++;
    }
    if (r->o.report) {
        r->o.report(r->o.report_opaque, kind, rule, line);
    }
}

static bool rewriting(const retarget *r)
{
    return r->down != NULL;
}

static bool loss_allowed(const retarget *r, const char *what)
{
    for (size_t i = 0; i < r->o.n_allow_loss; i++) {
        if (strcmp(r->o.allow_loss[i], what) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether a rule that depends on the target's version applies: only when
 * the version is known (--to). */
static bool applies(const retarget *r, const mc_compat_rule *rule)
{
    return r->o.to && mc_compat_rule_applies(rule, r->to);
}

static bool is_dropped(const retarget *r, uint32_t id)
{
    for (size_t i = 0; i < r->n_dropped; i++) {
        if (r->dropped[i] == id) {
            return true;
        }
    }
    return false;
}

/* The vmsd name of a section as the target's tables know it: the longest
 * '/'-separated suffix of its idstr they know. */
static const char *known_vmsd(const retarget *r, const char *idstr)
{
    for (const char *p = idstr; p; p = strchr(p, '/')) {
        if (*p == '/') {
            p++;
        }
        if (mc_tables_knows(r->tables, p)) {
            return p;
        }
    }
    return NULL;
}

/* Whether the target's tables have layouts for vmsd at version. */
static bool has_version(const retarget *r, const char *vmsd, uint32_t version)
{
    mc_desc_vmsd *variants = NULL;
    size_t n = 0;
    mc_error *err = NULL;
    bool ok = mc_tables_find(r->tables, vmsd, version, &variants, &n, &err);
    mc_tables_variants_free(variants, n);
    mc_error_free(err);
    return ok && n > 0;
}

/* A section version the target's vmsd is older than (QEMU refuses).  The
 * tables hold the version each QEMU writes, its newest: one known above
 * the stream's means the stream's is older, which QEMU loads. */
static bool version_newer(const retarget *r, const char *vmsd,
                          uint32_t version, uint32_t *theirs)
{
    if (has_version(r, vmsd, version)) {
        return false;
    }
    for (uint32_t v = version + 1; v < version + 64; v++) {
        if (has_version(r, vmsd, v)) {
            return false;
        }
    }
    for (uint32_t v = version; v-- > 0;) {
        if (has_version(r, vmsd, v)) {
            *theirs = v;
            return true;
        }
    }
    return false;
}

/* Pass a call on unless the section or subsection is left out. */
#define PASS(r) (rewriting(r) && !(r)->dropping && !(r)->sub_depth)

/* ---- fields the target lacks (rule field-layout, --allow-loss field) ---- */

static char *dup_or_null(const char *p)
{
    return p ? mc_strdup(p) : NULL;
}

static bool tape_push(retarget *r, tape_kind kind, const mc_field *f,
                      const char *name, mc_wire_type wt, uint64_t raw,
                      const uint8_t *data, size_t len, mc_error **errp)
{
    size_t cost = len + sizeof(tape_op) + 64;
    if (r->tape_bytes + cost > MC_RETARGET_TAPE_LIMIT) {
        mc_error_data(errp, item_offset(r), r->idstr, "section '%s' (id %u) "
                      "is larger than the %u MiB --allow-loss field holds "
                      "back", r->idstr, r->section_id,
                      MC_RETARGET_TAPE_LIMIT >> 20);
        return false;
    }
    r->tape_bytes += cost;
    r->tape = mc_realloc(r->tape, (r->n_tape + 1) * sizeof(*r->tape));
    tape_op *op = &r->tape[r->n_tape++];
    *op = (tape_op){.kind = kind, .top = r->ftop, .wt = wt, .raw = raw,
                    .len = len};
    op->name = dup_or_null(f ? f->name : name);
    op->type = dup_or_null(f ? f->type : NULL);
    if (len) {
        op->data = mc_malloc(len);
        memcpy(op->data, data, len);
    }
    return true;
}

static void tape_clear(retarget *r)
{
    for (size_t i = 0; i < r->n_tape; i++) {
        free(r->tape[i].name);
        free(r->tape[i].type);
        free(r->tape[i].data);
    }
    free(r->tape);
    r->tape = NULL;
    r->n_tape = r->tape_bytes = 0;
    r->taping = false;
    for (size_t i = 0; i < r->n_fnames; i++) {
        free(r->fnames[i]);
    }
    free(r->fnames);
    r->fnames = NULL;
    r->n_fnames = 0;
    r->ftop = -1;
}

/* A call at the section's top level: a field (name) or a subsection
 * (NULL).  The first field V's vmsd does not have starts the tape. */
static void top_level(retarget *r, const char *name)
{
    if (!r->fvmsd || r->depth != 0) {
        return;
    }
    if (!name) {
        r->ftop = -1;
        return;
    }
    r->fnames = mc_realloc(r->fnames, (r->n_fnames + 1) * sizeof(*r->fnames));
    r->fnames[r->n_fnames] = mc_strdup(name);
    r->ftop = (long)r->n_fnames++;
    if (!r->taping && !mc_vmstate_desc_has_field(r->vd, r->fvmsd, name)) {
        r->taping = true;
    }
}

/* The calls to the next visitor, or to the tape. */
static bool emit_int(retarget *r, const mc_field *f, mc_wire_type wt,
                     uint64_t raw, mc_error **errp)
{
    return r->taping ? tape_push(r, TK_INT, f, NULL, wt, raw, NULL, 0, errp)
                     : mc_visit_int(r->down, f, wt, raw, errp);
}

static bool emit_bytes(retarget *r, const mc_field *f, const uint8_t *data,
                       size_t len, mc_error **errp)
{
    return r->taping ? tape_push(r, TK_BYTES, f, NULL, 0, 0, data, len, errp)
                     : mc_visit_bytes(r->down, f, data, len, errp);
}

static bool emit_packed(retarget *r, const mc_field *f, mc_wire_type wt,
                        uint32_t count, const uint8_t *data, mc_error **errp)
{
    return r->taping
               ? tape_push(r, TK_PACKED, f, NULL, wt, count, data,
                           (size_t)count * mc_wire_type_width(wt), errp)
               : mc_visit_packed(r->down, f, wt, count, data, errp);
}

static bool emit_start(retarget *r, tape_kind kind, const mc_field *f,
                       const char *name, uint64_t raw, mc_error **errp)
{
    if (r->taping) {
        return tape_push(r, kind, f, name, 0, raw, NULL, 0, errp);
    }
    switch (kind) {
    case TK_START_STRUCT:
        return mc_visit_start_struct(r->down, f, errp);
    case TK_START_ARRAY:
        return mc_visit_start_array(r->down, f, (uint32_t)raw, errp);
    default:
        return mc_visit_start_subsection(r->down, name, (uint32_t)raw, errp);
    }
}

static bool emit_end(retarget *r, tape_kind kind, mc_error **errp)
{
    if (r->taping) {
        return tape_push(r, kind, NULL, NULL, 0, 0, NULL, 0, errp);
    }
    switch (kind) {
    case TK_END_STRUCT:
        return mc_visit_end_struct(r->down, errp);
    case TK_END_ARRAY:
        return mc_visit_end_array(r->down, errp);
    default:
        return mc_visit_end_subsection(r->down, errp);
    }
}

static bool play(retarget *r, const tape_op *op, mc_error **errp)
{
    mc_field f = {op->name, op->type};
    switch (op->kind) {
    case TK_INT:
        return mc_visit_int(r->down, &f, op->wt, op->raw, errp);
    case TK_BYTES:
        return mc_visit_bytes(r->down, &f, op->data, op->len, errp);
    case TK_PACKED:
        return mc_visit_packed(r->down, &f, op->wt, (uint32_t)op->raw,
                               op->data, errp);
    case TK_START_STRUCT:
        return mc_visit_start_struct(r->down, &f, errp);
    case TK_START_ARRAY:
        return mc_visit_start_array(r->down, &f, (uint32_t)op->raw, errp);
    case TK_START_SUB:
        return mc_visit_start_subsection(r->down, op->name, (uint32_t)op->raw,
                                         errp);
    case TK_END_STRUCT:
        return mc_visit_end_struct(r->down, errp);
    case TK_END_ARRAY:
        return mc_visit_end_array(r->down, errp);
    case TK_END_SUB:
        return mc_visit_end_subsection(r->down, errp);
    }
    return true;
}

/* The end of a section with a tape: leave out the fields V's vmsd does
 * not have when that gives its layout, and pass the rest on. */
static bool tape_end(retarget *r, mc_error **errp)
{
    if (!r->taping) {
        tape_clear(r);
        return true;
    }
    bool *drop = mc_calloc(r->n_fnames ? r->n_fnames : 1, sizeof(*drop));
    bool some = mc_vmstate_desc_extra(r->vd, r->fvmsd, r->fversion,
                                      (const char *const *)r->fnames,
                                      r->n_fnames, drop);
    for (size_t i = 0; some && i < r->n_fnames; i++) {
        if (!drop[i]) {
            continue;
        }
        say(r, MC_RETARGET_REWRITE, "field-layout", "section '%s' (id %u): "
            "field '%s', which %s's vmsd '%s' does not have, left out: its "
            "state is lost (--allow-loss field)", r->idstr, r->section_id,
            r->fnames[i], r->tname, r->fvmsd);
        r->fdrops = mc_realloc(r->fdrops, (r->n_fdrops + 1) *
                                              sizeof(*r->fdrops));
        r->fdrops[r->n_fdrops++] = (field_drop){
            mc_strdup(r->idstr), r->instance, mc_strdup(r->fnames[i])};
    }
    bool ok = true;
    for (size_t i = 0; ok && i < r->n_tape; i++) {
        const tape_op *op = &r->tape[i];
        if (!(some && op->top >= 0 && drop[op->top])) {
            ok = play(r, op, errp);
        }
    }
    free(drop);
    tape_clear(r);
    return ok;
}

/* VIRTQUEUE_MAX_SIZE: the largest ring, what QEMU 10.0 writes. */
#define MC_VIRTQUEUE_MAX_SIZE 1024u

/* ---- virtio ring sizes (rule vring-num) ---- */

static void hold(held *h, const mc_field *f, mc_wire_type wt, uint64_t raw)
{
    h->on = true;
    snprintf(h->name, sizeof(h->name), "%s", f->name ? f->name : "");
    snprintf(h->type, sizeof(h->type), "%s", f->type ? f->type : "");
    h->wt = wt;
    h->raw = raw;
}

static bool release(retarget *r, held *h, mc_error **errp)
{
    if (!h->on) {
        return true;
    }
    h->on = false;
    mc_field f = {h->name, h->type[0] ? h->type : NULL};
    return !PASS(r) || emit_int(r, &f, h->wt, h->raw, errp);
}

/* Pass on what is held, unchanged. */
static bool flush(retarget *r, mc_error **errp)
{
    return release(r, &r->h_num, errp) && release(r, &r->h_align, errp);
}

/* The device's vmsd name: the idstr's last component. */
static const char *device_name(const retarget *r)
{
    const char *slash = strrchr(r->idstr, '/');
    return slash ? slash + 1 : r->idstr;
}

/* vring.desc of the queue whose vring.num is held: decide on vring.num. */
static bool vq_decide(retarget *r, uint64_t desc, mc_error **errp)
{
    const mc_compat_rule *rule = mc_compat_rule_get("vring-num");
    if (!applies(r, rule) && !(r->ts && !r->o.to)) {
        return true;
    }
    uint64_t num = r->h_num.raw;
    uint32_t size;
    if (!(r->ts &&
          mc_target_profile_ring(r->ts, r->idstr, r->vq_index, &size)) &&
        !mc_compat_ring_size(device_name(r), r->machine[0] ? r->machine : NULL,
                             r->vq_index, r->vq_count, &size)) {
        if (num == MC_VIRTQUEUE_MAX_SIZE) {
            r->vq_unknown++;
        }
        return true;
    }
    if (num <= size) {
        if (num < size && desc == 0 && r->vq_smaller++ == 0) {
            r->vq_smaller_index = r->vq_index;
            r->vq_smaller_num = (uint32_t)num;
            r->vq_smaller_size = size;
        }
        return true;
    }
    if (desc != 0 && !rewriting(r)) {
        say(r, r->o.to ? MC_RETARGET_BLOCKS : MC_RETARGET_NOTE, rule->id,
            "section '%s' (id %u): virtio queue %u is in use with vring.num "
            "%llu, more than the %u %s allocates; a ring in use cannot "
            "be shrunk", r->idstr, r->section_id, r->vq_index,
            (unsigned long long)num, size, r->tname);
        return true;
    }
    if (desc != 0) {
        /* refused when the virtio field ends (vq_refuse) */
        if (!r->refuse) {
            r->refuse = true;
            r->refuse_index = r->vq_index;
            r->refuse_num = num;
            r->refuse_size = size;
            r->refuse_rel = r->num_rel;
        }
        return true;
    }
    if (r->vq_fixed++ == 0) {
        r->vq_fixed_index = r->vq_index;
        r->vq_fixed_from = (uint32_t)num;
        r->vq_fixed_to = size;
    }
    if (rewriting(r)) {
        r->h_num.raw = size;
    }
    return true;
}

/* The end of the virtio field: refuse a queue in use that is too large,
 * naming its vring.num's input offset: counted back from the field's end
 * in a legacy stream, the field's own in BER. */
static bool vq_refuse(retarget *r, mc_error **errp)
{
    if (!r->refuse) {
        return true;
    }
    r->refuse = false;
    char path[320];
    snprintf(path, sizeof(path), "%s/virtio/vq[%u]/vring.num", r->idstr,
             r->refuse_index);
    uint64_t at = MC_NO_OFFSET;
    if (r->o.src && r->o.src_legacy && r->virtio_at >= r->virtio_bytes) {
        at = r->virtio_at - r->virtio_bytes + r->refuse_rel;
    } else if (r->o.src && !r->o.src_legacy) {
        at = r->virtio_at;
    }
    mc_error_data(errp, at, path,
                  "virtio queue in use with vring.num %llu, more than "
                  "the %u %s allocates: refused (rule vring-num)",
                  (unsigned long long)r->refuse_num, r->refuse_size,
                  r->tname);
    return false;
}

/* Count the legacy bytes of an item of the virtio field. */
static void vio_count(retarget *r, uint64_t n)
{
    if (r->virtio_depth) {
        r->virtio_bytes += n;
    }
}

/* The end of a section: one line for its queues. */
static void vq_report(retarget *r)
{
    const char *id = "vring-num";
    if (r->vq_fixed) {
        if (rewriting(r)) {
            say(r, MC_RETARGET_REWRITE, id,
                "section '%s' (id %u): vring.num of %u virtio queues never "
                "set up -> the ring sizes %s allocates (queue %u: %u -> "
                "%u)", r->idstr, r->section_id, r->vq_fixed, r->tname,
                r->vq_fixed_index, r->vq_fixed_from, r->vq_fixed_to);
        } else {
            say(r, r->o.to ? MC_RETARGET_BLOCKS : MC_RETARGET_NOTE, id,
                "section '%s' (id %u): %u virtio queues never set up have a "
                "vring.num larger than the ring %s allocates (queue %u: "
                "%u > %u); retarget sets them to QEMU's sizes", r->idstr,
                r->section_id, r->vq_fixed, r->tname, r->vq_fixed_index,
                r->vq_fixed_from, r->vq_fixed_to);
        }
    }
    if (r->vq_unknown) {
        say(r, MC_RETARGET_NOTE, id,
            "section '%s' (id %u): %u virtio queues have vring.num %u; the "
            "ring size table does not know device '%s', and %s refuses "
            "a vring.num above the size it allocates", r->idstr,
            r->section_id, r->vq_unknown, MC_VIRTQUEUE_MAX_SIZE,
            device_name(r), r->tname);
    }
    if (r->vq_smaller && !rewriting(r)) {
        say(r, MC_RETARGET_NOTE, id,
            "section '%s' (id %u): %u virtio queues never set up have a "
            "vring.num smaller than the ring size table's (queue %u: %u < "
            "%u): the device was started with other queue sizes", r->idstr,
            r->section_id, r->vq_smaller, r->vq_smaller_index,
            r->vq_smaller_num, r->vq_smaller_size);
    }
    r->vq_fixed = r->vq_unknown = r->vq_smaller = 0;
}

/* ---- subsections and field layouts (rules subsection, field-layout) ---- */

/* The vmsd name of a section as V's description knows it: the longest
 * '/'-separated suffix of its idstr it describes. */
static const char *described_vmsd(const retarget *r, const char *idstr)
{
    for (const char *p = idstr; p; p = strchr(p, '/')) {
        if (*p == '/') {
            p++;
        }
        if (mc_vmstate_desc_knows(r->vd, p, NULL)) {
            return p;
        }
    }
    return NULL;
}

/* Whether V's description has the vmsd a subsection belongs to: its name
 * up to the last '/' (QEMU names a subsection "PARENT/what").  Others, as
 * the subsections of vmstate_virtio inside a virtio field, which the dump
 * does not follow, are not checked. */
static bool parent_described(const retarget *r, const char *sub)
{
    const char *slash = strrchr(sub, '/');
    char parent[256];
    if (!slash || (size_t)(slash - sub) >= sizeof(parent)) {
        return false;
    }
    memcpy(parent, sub, (size_t)(slash - sub));
    parent[slash - sub] = '\0';
    return mc_vmstate_desc_knows(r->vd, parent, NULL);
}

/* Remember a vmsd name V's description does not have (noted at the end,
 * one line for all). */
static void note_undescribed(retarget *r, const char *idstr)
{
    const char *slash = strrchr(idstr, '/');
    const char *name = slash ? slash + 1 : idstr;
    for (size_t i = 0; i < r->n_undescribed; i++) {
        if (strcmp(r->undescribed[i], name) == 0) {
            return;
        }
    }
    if (r->n_undescribed >= 64) {
        r->undescribed_more++;   /* counted, not listed */
        return;
    }
    r->undescribed = mc_realloc(r->undescribed, (r->n_undescribed + 1) *
                                                    sizeof(*r->undescribed));
    r->undescribed[r->n_undescribed++] = mc_strdup(name);
}

/* The note on the vmsds V's -dump-vmstate does not describe. */
static void report_undescribed(retarget *r)
{
    if (r->n_undescribed == 0) {
        return;
    }
    char list[320] = "";
    size_t used = 0, shown = 0;
    for (size_t i = 0; i < r->n_undescribed; i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s'%s'",
                         i ? ", " : "", r->undescribed[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - used) {
            list[used] = '\0';
            break;
        }
        used += (size_t)w;
        shown++;
    }
    say(r, MC_RETARGET_NOTE, "field-layout",
        "%s's -dump-vmstate does not describe %zu vmsds of the stream, "
        "which QEMU registers without a device type (%s%s): their "
        "subsections and fields are not checked", r->tname,
        r->n_undescribed + r->undescribed_more, list,
        shown < r->n_undescribed + r->undescribed_more ? ", ..." : "");
}

/* The devices of the stream's vmdesc against V's description. */
static bool check_layouts(retarget *r, const uint8_t *json, size_t len,
                          mc_error **errp)
{
    /* the reader took it already: limits it passed */
    mc_json_limit lim = {(len + 1) * MC_JSON_BYTES_PER_UNIT, "vmdesc", NULL};
    json_t *root = mc_json_parse(json, len, &lim, errp);
    if (!root) {
        return false;
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(root, "devices"), i, d) {
        const char *name = json_string_value(json_object_get(d, "name"));
        if (!json_object_get(d, "vmsd_name") || !name) {
            continue;
        }
        char why[512];
        if (mc_vmstate_desc_check(r->vd, d, r->tname, why, sizeof(why)) !=
            MC_VMSTATE_DIFFERS) {
            continue;
        }
        json_int_t instance =
            json_integer_value(json_object_get(d, "instance_id"));
        if (!rewriting(r)) {
            say(r, MC_RETARGET_BLOCKS, "field-layout",
                "section '%s' (instance %lld): %s", name,
                (long long)instance, why);
            continue;
        }
        /* refused, at the section's first part */
        char path[320] = "";
        uint64_t at = MC_NO_OFFSET;
        for (size_t k = 0; k < r->n_secs; k++) {
            const sec_at *sa = &r->secs[k];
            if (sa->instance == instance && strcmp(sa->idstr, name) == 0) {
                mc_path_push_section(path, sizeof(path), sa->type, sa->idstr,
                                     sa->section_id);
                at = sa->offset;
                break;
            }
        }
        if (!path[0]) {
            mc_path_push(path, sizeof(path), "vmdesc/%s", name);
        }
        /* a field the target lacks: --allow-loss field may leave it out */
        bool extra = strncmp(why, "the stream has field ", 21) == 0 &&
                     !loss_allowed(r, "field");
        mc_error_data(errp, at, path, "%s: refused%s (rule field-layout)",
                      why, extra ? ": --allow-loss field leaves it out" : "");
        json_decref(root);
        return false;
    }
    json_decref(root);
    return true;
}

/* ---- callbacks ---- */

static bool rt_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    retarget *r = (retarget *)v;
    return !rewriting(r) || mc_visit_start_stream(r->down, info, errp);
}

static bool rt_end_stream(mc_visitor *v, mc_error **errp)
{
    retarget *r = (retarget *)v;
    return !rewriting(r) || mc_visit_end_stream(r->down, errp);
}

static bool check_machine(retarget *r, const char *machine, mc_error **errp)
{
    r->machine_seen = true;
    if (machine) {
        snprintf(r->machine, sizeof(r->machine), "%s", machine);
    }
    r->target = mc_machine_target(machine);
    if (r->o.to_tables) {
        r->tables = r->o.to_tables;
    } else if (r->o.to && r->target &&
               !mc_builtin_tables_for(r->o.to, r->target, &r->tables, errp)) {
        return false;
    } else if (!r->o.to && r->ts) {
        r->tables = mc_target_profile_tables(r->ts);
    }
    if (r->o.to && r->target &&
        !mc_vmstate_desc_for(r->o.to, r->target, &r->vd, errp)) {
        return false;
    }
    const char *theirs = r->ts ? mc_target_profile_machine(r->ts) : "";
    if (!r->o.to && machine && theirs[0] && strcmp(machine, theirs) != 0) {
        say(r, MC_RETARGET_NOTE, "machine-type",
            "configuration: machine type '%s', the target stream's is '%s': "
            "kept as it is, so the target must have '%s' too", machine,
            theirs, machine);
    }
    if (!r->o.to || mc_compat_machine_known(machine, r->to)) {
        return true;
    }
    if (rewriting(r)) {
        mc_error_data(errp, item_offset(r), "configuration",
                      "%s has no machine type '%s'; retarget keeps "
                      "machine types as they are (rule machine-type)",
                      r->tname, machine);
        return false;
    }
    say(r, MC_RETARGET_BLOCKS, "machine-type",
        "configuration: %s has no machine type '%s'", r->tname, machine);
    return true;
}

/* The slirp sections' instance ids as written, in order (the vmdesc's
 * slirp entries follow them). */
static void slirp_set(retarget *r, uint32_t instance)
{
    r->slirp_inst = mc_realloc(r->slirp_inst,
                               (r->n_slirp + 1) * sizeof(*r->slirp_inst));
    r->slirp_inst[r->n_slirp++] = instance;
}

/* A finding that stops a rewrite: an error naming the section. */
static bool refuse(retarget *r, const mc_section_info *info, const char *rule,
                   const char *why, mc_error **errp)
{
    char path[320] = "";
    mc_path_push_section(path, sizeof(path), info->type, info->idstr,
                         info->section_id);
    const mc_compat_rule *cr = mc_compat_rule_get(rule);
    if (cr && cr->loss) {
        mc_error_data(errp, item_offset(r), path, "%s: refused: "
                      "--allow-loss %s leaves it out (rule %s)", why,
                      cr->loss, rule);
    } else {
        mc_error_data(errp, item_offset(r), path, "%s: refused (rule %s)",
                      why, rule);
    }
    return false;
}

/* The section against the target's own stream (--to-stream): QEMU finds a
 * section by idstr and instance and refuses a version newer than its own.
 * Slirp sections take the instance ids the target gives its own, in
 * order (rule slirp-instance): each belongs to one -netdev user backend,
 * and both QEMUs save them in the order the backends were made. */
static bool check_target_stream(retarget *r, const mc_section_info *info,
                                mc_section_info *copy, mc_error **errp)
{
    const char *idstr = r->idstr;
    uint32_t instance = info->instance_id, theirs, version;
    char why[512];
    if (strcmp(idstr, "slirp") == 0 &&
        mc_target_profile_instance(r->ts, "slirp", r->slirp_seen++, &theirs) &&
        theirs != instance) {
        bool known = mc_target_profile_section(r->ts, idstr, instance,
                                               &version);
        if (rewriting(r)) {
            say(r, MC_RETARGET_REWRITE, "slirp-instance",
                "section 'slirp' (id %u): instance %u -> %u, as the target "
                "stream numbers its slirp section %u", info->section_id,
                instance, theirs, r->slirp_seen - 1);
            copy->instance_id = theirs;
            slirp_set(r, theirs);
            r->slirp_renumbered++;
        } else {
            say(r, known ? MC_RETARGET_NOTE : MC_RETARGET_BLOCKS,
                "slirp-instance",
                "section 'slirp' (id %u) instance %u: the target stream %s; "
                "retarget renumbers it", info->section_id, instance,
                known ? "numbers this slirp section otherwise (QEMU would "
                        "load it into another -netdev user backend)"
                      : "has this section only with other instance ids");
        }
        instance = theirs;
    }
    if (mc_target_profile_section(r->ts, idstr, instance, &version)) {
        if (info->version_id <= version) {
            return true;
        }
        snprintf(why, sizeof(why), "version %u is newer than the target "
                 "stream's %u", info->version_id, version);
        if (rewriting(r)) {
            return refuse(r, info, "section-version", why, errp);
        }
        say(r, MC_RETARGET_BLOCKS, "section-version", "section '%s' (id %u): "
            "%s", idstr, info->section_id, why);
    } else if (mc_target_profile_has_idstr(r->ts, idstr)) {
        snprintf(why, sizeof(why), "instance %u: the target stream has this "
                 "section only with other instance ids", instance);
        if (rewriting(r)) {
            return refuse(r, info, "section-instance", why, errp);
        }
        say(r, MC_RETARGET_BLOCKS, "section-instance", "section '%s' (id %u) "
            "%s", idstr, info->section_id, why);
    } else {
        say(r, MC_RETARGET_NOTE, "section-instance",
            "section '%s' (id %u): not in the target stream (a section "
            "its QEMU only loads, as 7.2 and later do with 'audio', or "
            "one it does not know)", idstr, info->section_id);
    }
    return true;
}

static bool rt_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    mc_section_info copy = *info;
    r->in_config = info->kind == MC_SECTION_CONFIG;
    if (!r->in_config && !r->machine_seen &&
        !check_machine(r, NULL, errp)) {
        return false;
    }
    bool first = info->type == MC_VM_SECTION_START ||
                 info->type == MC_VM_SECTION_FULL;
    const char *idstr = info->idstr ? info->idstr : "";
    snprintf(r->idstr, sizeof(r->idstr), "%s", idstr);
    r->section_id = info->section_id;
    r->sec_type = info->type;
    r->instance = info->instance_id;
    r->sub_depth = 0;
    r->depth = r->virtio_depth = r->vq_depth = 0;
    if (!first && is_dropped(r, info->section_id)) {
        r->dropping = true;
        return true;
    }
    const mc_compat_rule *rule;
    if (first && strcmp(idstr, "block") == 0 &&
        applies(r, rule = mc_compat_rule_get("block"))) {
        if (!rewriting(r)) {
            say(r, MC_RETARGET_BLOCKS, rule->id,
                "section 'block' (id %u): %s has no block migration; "
                "retarget --allow-loss block leaves the disk data out",
                info->section_id, r->tname);
        } else if (!loss_allowed(r, "block")) {
            char why[160];
            snprintf(why, sizeof(why), "block-migration data (disk "
                     "contents) that %s cannot load", r->tname);
            return refuse(r, info, rule->id, why, errp);
        } else {
            r->dropped = mc_realloc(r->dropped,
                                    (r->n_dropped + 1) * sizeof(*r->dropped));
            r->dropped[r->n_dropped++] = info->section_id;
            say(r, MC_RETARGET_REWRITE, rule->id,
                "section 'block' (id %u) left out: its disk data is lost "
                "(--allow-loss block)", info->section_id);
            r->dropping = true;
            return true;
        }
    }
    if (first && !r->in_config && r->ts &&
        !check_target_stream(r, info, &copy, errp)) {
        return false;
    }
    if (first && strcmp(idstr, "slirp") == 0 && info->instance_id != 0 &&
        !(r->ts && mc_target_profile_has_idstr(r->ts, "slirp")) &&
        applies(r, rule = mc_compat_rule_get("slirp-instance"))) {
        if (rewriting(r)) {
            say(r, MC_RETARGET_REWRITE, rule->id,
                "section 'slirp' (id %u): instance %u -> 0", info->section_id,
                info->instance_id);
            copy.instance_id = 0;
            slirp_set(r, 0);
            r->slirp_renumbered++;
        } else {
            say(r, MC_RETARGET_BLOCKS, rule->id,
                "section 'slirp' (id %u) instance %u: %s numbers every "
                "slirp section 0; retarget renumbers it", info->section_id,
                info->instance_id, r->tname);
        }
    } else if (first && strcmp(idstr, "slirp") == 0 && rewriting(r) &&
               copy.instance_id == info->instance_id) {
        slirp_set(r, info->instance_id);
    }
    if (first && rewriting(r) && r->vd && r->n_secs < MC_RETARGET_MAX_SECTIONS) {
        r->secs = mc_realloc(r->secs, (r->n_secs + 1) * sizeof(*r->secs));
        r->secs[r->n_secs++] = (sec_at){mc_strdup(idstr), info->instance_id,
                                        info->section_id, info->type,
                                        item_offset(r)};
    }
    r->sec_described = r->sec_sub_blocked = false;
    tape_clear(r);
    r->fvmsd = NULL;
    if (first && r->vd && info->kind == MC_SECTION_VMSTATE) {
        r->sec_described = described_vmsd(r, idstr) != NULL;
        if (rewriting(r) && loss_allowed(r, "field")) {
            r->fvmsd = described_vmsd(r, idstr);
            r->fversion = info->version_id;
        }
        if (!r->sec_described) {
            note_undescribed(r, idstr);
        }
    }
    const char *vmsd;
    uint32_t theirs;
    if (first && r->tables && info->kind == MC_SECTION_VMSTATE && !r->ts &&
        (vmsd = known_vmsd(r, idstr)) &&
        version_newer(r, vmsd, info->version_id, &theirs)) {
        if (rewriting(r)) {
            char why[160];
            snprintf(why, sizeof(why), "version %u is newer than %s's %u",
                     info->version_id, r->tname, theirs);
            return refuse(r, info, "section-version", why, errp);
        }
        say(r, MC_RETARGET_BLOCKS, "section-version",
            "section '%s' (id %u): version %u is newer than %s's %u",
            idstr, info->section_id, info->version_id, r->tname, theirs);
    }
    return !rewriting(r) || mc_visit_start_section(r->down, &copy, errp);
}

static bool rt_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    r->in_config = false;
    if (!flush(r, errp)) {
        return false;
    }
    vq_report(r);
    if (r->dropping) {
        r->dropping = false;
        return true;
    }
    if (!tape_end(r, errp)) {
        return false;
    }
    r->fvmsd = NULL;
    return !rewriting(r) || mc_visit_end_section(r->down, footer, errp);
}

static bool rt_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                   uint64_t raw, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    const char *name = f->name ? f->name : "";
    uint64_t rel = r->virtio_bytes;
    vio_count(r, mc_wire_type_width(wt));
    top_level(r, f->name);
    if (r->vq_depth && r->depth == r->vq_depth + 1) {
        if (strcmp(name, "vring.num") == 0 && !r->h_num.on) {
            hold(&r->h_num, f, wt, raw);
            r->num_rel = rel;
            return true;
        }
        if (strcmp(name, "vring.align") == 0 && r->h_num.on &&
            !r->h_align.on) {
            hold(&r->h_align, f, wt, raw);
            return true;
        }
        if (strcmp(name, "vring.desc") == 0 && r->h_num.on &&
            !vq_decide(r, raw, errp)) {
            return false;
        }
    }
    return flush(r, errp) && (!PASS(r) || emit_int(r, f, wt, raw, errp));
}

static bool rt_bytes(mc_visitor *v, const mc_field *f, const uint8_t *data,
                     size_t len, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    vio_count(r, len);
    if (r->in_config && !r->machine_seen) {
        /* the configuration's first byte field is the machine type */
        char machine[256];
        size_t n = len < sizeof(machine) - 1 ? len : sizeof(machine) - 1;
        memcpy(machine, data, n);
        machine[n] = '\0';
        if (!check_machine(r, machine, errp)) {
            return false;
        }
    }
    top_level(r, f->name);
    return flush(r, errp) &&
           (!PASS(r) || emit_bytes(r, f, data, len, errp));
}

static bool rt_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                      uint32_t count, const uint8_t *data, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    vio_count(r, (uint64_t)count * mc_wire_type_width(wt));
    top_level(r, f->name);
    return flush(r, errp) &&
           (!PASS(r) || emit_packed(r, f, wt, count, data, errp));
}

static bool rt_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    if (!flush(r, errp)) {
        return false;
    }
    if (r->vq_depth && r->depth == r->vq_depth) {
        r->vq_index = r->vq_next++;
    }
    top_level(r, f->name);
    r->depth++;
    if (!r->virtio_depth && f->name && strcmp(f->name, "virtio") == 0 &&
        f->type && strcmp(f->type, "virtio") == 0) {
        r->virtio_depth = r->depth;
        r->virtio_at = r->at_now;
        r->virtio_bytes = 0;
        r->refuse = false;
    }
    return !PASS(r) || emit_start(r, TK_START_STRUCT, f, NULL, 0, errp);
}

static bool rt_end_struct(mc_visitor *v, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    if (!flush(r, errp)) {
        return false;
    }
    if (r->depth == r->virtio_depth) {
        r->virtio_depth = 0;
        if (!vq_refuse(r, errp)) {
            return false;
        }
    }
    r->depth--;
    return !PASS(r) || emit_end(r, TK_END_STRUCT, errp);
}

static bool rt_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    if (!flush(r, errp)) {
        return false;
    }
    top_level(r, f->name);
    r->depth++;
    if (r->virtio_depth && r->depth == r->virtio_depth + 1 && f->name &&
        strcmp(f->name, "vq") == 0) {
        r->vq_depth = r->depth;
        r->vq_count = count;
        r->vq_next = 0;
    }
    return !PASS(r) || emit_start(r, TK_START_ARRAY, f, NULL, count, errp);
}

static bool rt_end_array(mc_visitor *v, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    if (!flush(r, errp)) {
        return false;
    }
    if (r->depth == r->vq_depth) {
        r->vq_depth = 0;
    }
    r->depth--;
    return !PASS(r) || emit_end(r, TK_END_ARRAY, errp);
}

/* A subsection the target does not know, or knows only at an older
 * version: check mode reports the section's first, rewrite mode refuses
 * it, or leaves it out with --allow-loss subsection. */
static bool sub_finding(retarget *r, const char *name, const char *why,
                        mc_error **errp)
{
    if (!rewriting(r)) {
        if (!r->sec_sub_blocked) {
            r->sec_sub_blocked = true;
            say(r, MC_RETARGET_BLOCKS, "subsection", "section '%s' (id %u): "
                "%s", r->idstr, r->section_id, why);
        }
        return true;
    }
    if (!loss_allowed(r, "subsection")) {
        char path[640] = "";
        mc_path_push_section(path, sizeof(path), r->sec_type, r->idstr,
                             r->section_id);
        mc_path_push(path, sizeof(path), "/%s", name);
        mc_error_data(errp, item_offset(r), path, "%s: refused: "
                      "--allow-loss subsection leaves it out (rule "
                      "subsection)", why);
        return false;
    }
    r->subs = mc_realloc(r->subs, (r->n_subs + 1) * sizeof(*r->subs));
    r->subs[r->n_subs++] = (sub_drop){mc_strdup(r->idstr), r->instance,
                                      mc_strdup(name)};
    say(r, MC_RETARGET_REWRITE, "subsection", "section '%s' (id %u): "
        "subsection '%s' left out: its state is lost (--allow-loss "
        "subsection)", r->idstr, r->section_id, name);
    r->sub_depth = r->depth + 1;
    return true;
}

static bool rt_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    if (!flush(r, errp)) {
        return false;
    }
    /* QEMU_VM_SUBSECTION, the name's length and bytes, version_id */
    vio_count(r, 1 + 1 + (name ? strlen(name) : 0) + 4);
    uint32_t theirs = 0;
    if (name && r->sec_described && !r->sub_depth &&
        parent_described(r, name)) {
        char why[512] = "";
        if (!mc_vmstate_desc_knows(r->vd, name, &theirs)) {
            snprintf(why, sizeof(why), "subsection '%s', which %s does not "
                     "know", name, r->tname);
        } else if (version_id > theirs) {
            snprintf(why, sizeof(why), "subsection '%s' version %u is newer "
                     "than %s's %u", name, version_id, r->tname, theirs);
        }
        if (why[0] && !sub_finding(r, name, why, errp)) {
            return false;
        }
    }
    top_level(r, NULL);
    bool pass = PASS(r);
    r->depth++;
    return !pass || emit_start(r, TK_START_SUB, NULL, name, version_id, errp);
}

static bool rt_end_subsection(mc_visitor *v, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    if (!flush(r, errp)) {
        return false;
    }
    bool pass = PASS(r);
    if (r->sub_depth == r->depth) {
        r->sub_depth = 0;
    }
    r->depth--;
    return !pass || emit_end(r, TK_END_SUB, errp);
}

static bool rt_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    if (r->dropping) {
        r->dropped_records++;
        return true;
    }
    if (rec->kind == MC_RAM_XBZRLE && r->xbzrle_pages++ == 0 &&
        !rewriting(r)) {
        say(r, MC_RETARGET_NOTE, "xbzrle-page",
            "section 'ram': XBZRLE records (%s decodes them without "
            "the capability); retarget decodes them into PAGE records",
            r->tname);
    }
    if (rec->kind == MC_RAM_MAPPED_BLOCK && r->mapped_blocks++ == 0) {
        snprintf(r->mapped_first, sizeof(r->mapped_first), "%s",
                 rec->n_blocks && rec->blocks[0].idstr ? rec->blocks[0].idstr
                                                       : "");
        if (!rewriting(r) && r->o.to &&
            applies(r, mc_compat_rule_get("mapped-ram"))) {
            say(r, MC_RETARGET_BLOCKS, "mapped-ram",
                "section 'ram': a mapped-ram file (MappedRamHeader of block "
                "'%s'), which %s cannot read (mapped-ram came in 9.0); "
                "retarget writes its pages as page records", r->mapped_first,
                r->tname);
        } else if (!rewriting(r)) {
            say(r, MC_RETARGET_NOTE, "mapped-ram",
                "section 'ram': a mapped-ram file (MappedRamHeader of block "
                "'%s'): %s loads it only with the mapped-ram capability and "
                "a file: URI, or retarget writes its pages as page records",
                r->mapped_first, r->tname);
        }
    }
    if (rec->kind != MC_RAM_COMPRESS) {
        return !rewriting(r) || mc_visit_ram_record(r->down, rec, errp);
    }
    const mc_compat_rule *rule = mc_compat_rule_get("compress-page");
    if (r->compress_pages++ == 0 && !rewriting(r)) {
        if (r->to >= 901) {
            say(r, MC_RETARGET_BLOCKS, rule->id,
                "section 'ram': COMPRESS_PAGE records, which %s cannot "
                "read (compress was removed in 9.1); retarget inflates them "
                "into PAGE records", r->tname);
        } else {
            say(r, MC_RETARGET_NOTE, rule->id,
                "section 'ram': COMPRESS_PAGE records: %s needs the "
                "compress capability on the destination, or retarget "
                "inflates them into PAGE records", r->tname);
        }
    }
    /* the next visitor (normalize) decodes the page */
    return !rewriting(r) || mc_visit_ram_record(r->down, rec, errp);
}

static bool rt_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    return !rewriting(r) || mc_visit_command(r->down, cmd, data, len, errp);
}

static bool rt_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    return !rewriting(r) || mc_visit_start_packaged(r->down, len, errp);
}

static bool rt_end_packaged(mc_visitor *v, mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    return !rewriting(r) || mc_visit_end_packaged(r->down, errp);
}

static bool rt_eof(mc_visitor *v, mc_error **errp)
{
    retarget *r = (retarget *)v;
    if (!rewriting(r)) {
        report_undescribed(r);
    }
    if (rewriting(r) && r->compress_pages) {
        say(r, MC_RETARGET_REWRITE, "compress-page",
            "section 'ram': %llu COMPRESS_PAGE records -> PAGE",
            (unsigned long long)r->compress_pages);
    }
    if (rewriting(r) && r->mapped_blocks) {
        say(r, MC_RETARGET_REWRITE, "mapped-ram",
            "section 'ram': %llu mapped-ram blocks (first '%s') -> page "
            "records, capability mapped-ram dropped",
            (unsigned long long)r->mapped_blocks, r->mapped_first);
    }
    if (rewriting(r) && r->xbzrle_pages) {
        say(r, MC_RETARGET_REWRITE, "xbzrle-page",
            "section 'ram': %llu XBZRLE records -> PAGE",
            (unsigned long long)r->xbzrle_pages);
    }
    return !rewriting(r) || mc_visit_eof(r->down, errp);
}

/* Remove the subsection named name from a vmdesc entry's subsections
 * (nested ones too); whether it was there. */
static bool remove_subsection(json_t *entry, const char *name, int depth)
{
    json_t *subs = json_object_get(entry, "subsections");
    size_t i;
    json_t *sub;
    if (depth > MC_JSON_MAX_DEPTH) {
        return false;
    }
    json_array_foreach(subs, i, sub) {
        const char *n = json_string_value(json_object_get(sub, "vmsd_name"));
        if (n && strcmp(n, name) == 0) {
            json_array_remove(subs, i);
            return true;
        }
        if (remove_subsection(sub, name, depth + 1)) {
            return true;
        }
    }
    return false;
}

/* Remove the field entries named name from a vmdesc entry's fields (an
 * array's elements may have one each); how many. */
static unsigned remove_field(json_t *entry, const char *name)
{
    json_t *fields = json_object_get(entry, "fields");
    unsigned n = 0;
    for (size_t i = json_array_size(fields); i-- > 0;) {
        const char *f = json_string_value(
            json_object_get(json_array_get(fields, i), "name"));
        if (f && strcmp(f, name) == 0) {
            json_array_remove(fields, i);
            n++;
        }
    }
    return n;
}

/* The vmdesc follows the sections: it is checked against V's field
 * layouts, and rewritten as the sections were (slirp instance ids,
 * subsections left out). */
static bool rt_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    retarget *r = (retarget *)v;
    mark(r);
    if (!rewriting(r) || (r->slirp_renumbered == 0 && r->n_subs == 0 &&
                          r->n_fdrops == 0)) {
        if (r->vd && !check_layouts(r, json, len, errp)) {
            return false;
        }
        return !rewriting(r) || mc_visit_vmdesc(r->down, json, len, errp);
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)json, len, 0, &jerr);
    if (!root) {
        mc_error_data(errp, item_offset(r), "vmdesc",
                      "invalid vmdesc JSON: %s", jerr.text);
        return false;
    }
    size_t i;
    json_t *d;
    unsigned n = 0, k = 0, gone = 0, fgone = 0;
    json_array_foreach(json_object_get(root, "devices"), i, d) {
        const char *name = json_string_value(json_object_get(d, "name"));
        json_int_t inst = json_integer_value(json_object_get(d, "instance_id"));
        if (!name) {
            continue;
        }
        if (strcmp(name, "slirp") == 0 && k < r->n_slirp) {
            if (inst != (json_int_t)r->slirp_inst[k]) {
                json_object_set_new(d, "instance_id",
                                    json_integer(r->slirp_inst[k]));
                n++;
            }
            k++;
        }
        for (size_t j = 0; j < r->n_subs; j++) {
            if (r->subs[j].instance == inst &&
                strcmp(r->subs[j].idstr, name) == 0 &&
                remove_subsection(d, r->subs[j].name, 0)) {
                gone++;
            }
        }
        for (size_t j = 0; j < r->n_fdrops; j++) {
            if (r->fdrops[j].instance == inst &&
                strcmp(r->fdrops[j].idstr, name) == 0) {
                fgone += remove_field(d, r->fdrops[j].name);
            }
        }
    }
    char *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!out) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, "vmdesc",
                     "cannot write the vmdesc");
        return false;
    }
    if (n) {
        say(r, MC_RETARGET_REWRITE, "slirp-instance",
            "vmdesc: %u slirp entries: instance ids as their sections'", n);
    }
    if (gone) {
        say(r, MC_RETARGET_REWRITE, "subsection",
            "vmdesc: %u subsections left out, as in their sections", gone);
    }
    if (fgone) {
        say(r, MC_RETARGET_REWRITE, "field-layout",
            "vmdesc: %u field entries left out, as in their sections", fgone);
    }
    /* the layouts as written, fields left out */
    bool ok = (!r->vd || check_layouts(r, (const uint8_t *)out, strlen(out),
                                       errp)) &&
              mc_visit_vmdesc(r->down, (const uint8_t *)out, strlen(out), errp);
    free(out);
    return ok;
}

static bool rt_complete(mc_visitor *v, mc_error **errp)
{
    retarget *r = (retarget *)v;
    return !rewriting(r) || mc_visitor_complete(r->down, errp);
}

static void rt_free(mc_visitor *v)
{
    retarget *r = (retarget *)v;
    free(r->dropped);
    free(r->slirp_inst);
    for (size_t i = 0; i < r->n_secs; i++) {
        free(r->secs[i].idstr);
    }
    free(r->secs);
    for (size_t i = 0; i < r->n_subs; i++) {
        free(r->subs[i].idstr);
        free(r->subs[i].name);
    }
    free(r->subs);
    tape_clear(r);
    for (size_t i = 0; i < r->n_fdrops; i++) {
        free(r->fdrops[i].idstr);
        free(r->fdrops[i].name);
    }
    free(r->fdrops);
    for (size_t i = 0; i < r->n_undescribed; i++) {
        free(r->undescribed[i]);
    }
    free(r->undescribed);
    free(r);
}

mc_visitor *mc_retarget_new(mc_visitor *down, const mc_retarget_opts *o)
{
    retarget *r = mc_calloc(1, sizeof(*r));
    r->ops = mc_null_ops;
    r->ops.start_stream = rt_start_stream;
    r->ops.end_stream = rt_end_stream;
    r->ops.start_section = rt_start_section;
    r->ops.end_section = rt_end_section;
    r->ops.visit_int = rt_int;
    r->ops.visit_bytes = rt_bytes;
    r->ops.visit_packed = rt_packed;
    r->ops.start_struct = rt_start_struct;
    r->ops.end_struct = rt_end_struct;
    r->ops.start_array = rt_start_array;
    r->ops.end_array = rt_end_array;
    r->ops.start_subsection = rt_start_subsection;
    r->ops.end_subsection = rt_end_subsection;
    r->ops.ram_record = rt_ram_record;
    r->ops.command = rt_command;
    r->ops.start_packaged = rt_start_packaged;
    r->ops.end_packaged = rt_end_packaged;
    r->ops.eof = rt_eof;
    r->ops.vmdesc = rt_vmdesc;
    r->ops.complete = rt_complete;
    r->ops.free = rt_free;
    r->base.ops = &r->ops;
    r->down = down;
    r->o = *o;
    r->to = o->to ? mc_version_number(o->to) : 0;
    r->ts = o->to_stream;
    r->ftop = -1;
    if (o->to) {
        snprintf(r->tname, sizeof(r->tname), "QEMU %s", o->to);
    } else {
        snprintf(r->tname, sizeof(r->tname), "the target");
    }
    return &r->base;
}

unsigned mc_retarget_blockers(const mc_visitor *v)
{
    return ((const retarget *)v)->blockers;
}
