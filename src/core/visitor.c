#include "core/visitor-impl.h"

#include <stdlib.h>

#include "core/util.h"

/*
 * The grammar checks (core/visitor.h), with -DMC_CHECKS=ON: each mc_visit_*
 * call of a walk is checked against the open frames before it reaches the
 * visitor (ck_check), and the frames change only when the visitor accepted
 * the call (ck_commit).  A walk starts at start_stream; calls before it
 * (the dry runs the legacy reader makes into a null visitor) are not
 * checked.
 */
#ifdef MC_CHECKS
typedef enum ck_op {
    OP_START_STREAM, OP_END_STREAM, OP_ITEM, OP_START_SECTION,
    OP_END_SECTION, OP_VALUE, OP_START_STRUCT, OP_END_STRUCT,
    OP_START_ARRAY, OP_END_ARRAY, OP_START_SUBSECTION, OP_END_SUBSECTION,
    OP_RAM_RECORD, OP_START_PACKAGED, OP_END_PACKAGED,
} ck_op;

typedef enum ck_kind {
    CK_PACKAGED, CK_BODY, CK_RAM, CK_STRUCT, CK_ARRAY, CK_SUBSECTION,
} ck_kind;

typedef mc_checks_frame ck_frame;

static const char *const ck_names[] = {
    [CK_PACKAGED] = "a package", [CK_BODY] = "a section",
    [CK_RAM] = "a RAM section", [CK_STRUCT] = "a struct",
    [CK_ARRAY] = "an array", [CK_SUBSECTION] = "a subsection",
};

static const char *const op_names[] = {
    [OP_START_STREAM] = "start_stream", [OP_END_STREAM] = "end_stream",
    [OP_ITEM] = "item", [OP_START_SECTION] = "start_section",
    [OP_END_SECTION] = "end_section", [OP_VALUE] = "value",
    [OP_START_STRUCT] = "start_struct", [OP_END_STRUCT] = "end_struct",
    [OP_START_ARRAY] = "start_array", [OP_END_ARRAY] = "end_array",
    [OP_START_SUBSECTION] = "start_subsection",
    [OP_END_SUBSECTION] = "end_subsection", [OP_RAM_RECORD] = "ram_record",
    [OP_START_PACKAGED] = "start_packaged",
    [OP_END_PACKAGED] = "end_packaged",
};

static bool ck_fail(mc_error **errp, ck_op op, const char *why,
                    const char *what)
{
    mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                 "visitor call out of grammar: %s %s%s", op_names[op], why,
                 what ? what : "");
    return false;
}

/* The frame an end_X closes. */
static bool ck_closes(const ck_frame *t, ck_op op)
{
    switch (op) {
    case OP_END_SECTION: return t->kind == CK_BODY || t->kind == CK_RAM;
    case OP_END_STRUCT: return t->kind == CK_STRUCT;
    case OP_END_ARRAY: return t->kind == CK_ARRAY;
    case OP_END_SUBSECTION: return t->kind == CK_SUBSECTION;
    default: return t->kind == CK_PACKAGED;
    }
}

static bool ck_check(mc_visitor *v, ck_op op, mc_error **errp)
{
    mc_checks *c = &v->checks;
    if (op == OP_START_STREAM) {
        return !c->started || ck_fail(errp, op, "twice", NULL);
    }
    if (!c->started || c->over) {
        return true;
    }
    const ck_frame *t = c->n ? &c->fr[c->n - 1] : NULL;
    if (c->ended) {
        return ck_fail(errp, op, "after end_stream", NULL);
    }
    switch (op) {
    case OP_END_STREAM:
        return !t || ck_fail(errp, op, "inside ", ck_names[t->kind]);
    case OP_ITEM:
    case OP_START_SECTION:
    case OP_START_PACKAGED:
        return !t || t->kind == CK_PACKAGED ||
               ck_fail(errp, op, "inside ", ck_names[t->kind]);
    case OP_VALUE:
    case OP_START_STRUCT:
    case OP_START_ARRAY:
        if (!t || t->kind == CK_PACKAGED || t->kind == CK_RAM) {
            return ck_fail(errp, op, t ? "inside " : "outside a section",
                           t ? ck_names[t->kind] : NULL);
        }
        if (t->kind == CK_ARRAY) {
            return t->left ||
                   ck_fail(errp, op, "beyond the announced array elements",
                           NULL);
        }
        return !t->subs || ck_fail(errp, op, "after a subsection", NULL);
    case OP_START_SUBSECTION:
        return (t && (t->kind == CK_BODY || t->kind == CK_STRUCT ||
                      t->kind == CK_SUBSECTION)) ||
               ck_fail(errp, op, t ? "inside " : "outside a section",
                       t ? ck_names[t->kind] : NULL);
    case OP_RAM_RECORD:
        return (t && t->kind == CK_RAM) ||
               ck_fail(errp, op, "outside a RAM section", NULL);
    default: /* the end of a frame */
        if (!t || !ck_closes(t, op)) {
            return ck_fail(errp, op, t ? "inside " : "with no open frame",
                           t ? ck_names[t->kind] : NULL);
        }
        return op != OP_END_ARRAY || t->left == 0 ||
               ck_fail(errp, op, "before all announced array elements",
                       NULL);
    }
}

static void ck_push(mc_checks *c, ck_kind kind, uint32_t left)
{
    if (c->over || c->n == MC_CHECKS_DEPTH) {
        c->over++;
        return;
    }
    c->fr[c->n].kind = (unsigned char)kind;
    c->fr[c->n].subs = false;
    c->fr[c->n].left = left;
    c->n++;
}

/* After the visitor accepted the call.  arg: an array's count, or for a
 * section whether it is a RAM section. */
static void ck_commit(mc_visitor *v, ck_op op, uint32_t arg)
{
    mc_checks *c = &v->checks;
    if (op == OP_START_STREAM) {
        c->started = true;
        return;
    }
    if (!c->started) {
        return;
    }
    if (c->over) {
        bool start = op == OP_START_SECTION || op == OP_START_STRUCT ||
                     op == OP_START_ARRAY || op == OP_START_SUBSECTION ||
                     op == OP_START_PACKAGED;
        bool end = op == OP_END_SECTION || op == OP_END_STRUCT ||
                   op == OP_END_ARRAY || op == OP_END_SUBSECTION ||
                   op == OP_END_PACKAGED;
        c->over += start ? 1 : end ? (unsigned)-1 : 0;
        return;
    }
    ck_frame *t = c->n ? &c->fr[c->n - 1] : NULL;
    if (t && t->kind == CK_ARRAY &&
        (op == OP_VALUE || op == OP_START_STRUCT || op == OP_START_ARRAY)) {
        t->left--;
    }
    switch (op) {
    case OP_END_STREAM: c->ended = true; break;
    case OP_START_SECTION: ck_push(c, arg ? CK_RAM : CK_BODY, 0); break;
    case OP_START_STRUCT: ck_push(c, CK_STRUCT, 0); break;
    case OP_START_ARRAY: ck_push(c, CK_ARRAY, arg); break;
    case OP_START_SUBSECTION:
        t->subs = true;
        ck_push(c, CK_SUBSECTION, 0);
        break;
    case OP_START_PACKAGED: ck_push(c, CK_PACKAGED, 0); break;
    case OP_END_SECTION:
    case OP_END_STRUCT:
    case OP_END_ARRAY:
    case OP_END_SUBSECTION:
    case OP_END_PACKAGED: c->n--; break;
    default: break;
    }
}

/* Check operation op, make the call, record it if the visitor took it. */
#define DISPATCH(v, op, arg, call, errp) \
    do { \
        if (!ck_check((v), (op), (errp))) { \
            return false; \
        } \
        bool ok_ = (call); \
        if (ok_) { \
            ck_commit((v), (op), (arg)); \
        } \
        return ok_; \
    } while (0)
#else
#define DISPATCH(v, op, arg, call, errp) return (call)
#endif

static const struct {
    unsigned width;
    bool is_signed;
    const char *name;
} wire_types[MC_WT__COUNT] = {
    [MC_WT_U8] = {1, false, "uint8"},   [MC_WT_U16] = {2, false, "uint16"},
    [MC_WT_U32] = {4, false, "uint32"}, [MC_WT_U64] = {8, false, "uint64"},
    [MC_WT_I8] = {1, true, "int8"},     [MC_WT_I16] = {2, true, "int16"},
    [MC_WT_I32] = {4, true, "int32"},   [MC_WT_I64] = {8, true, "int64"},
    [MC_WT_BOOL] = {1, false, "bool"},
};

unsigned mc_wire_type_width(mc_wire_type wt)
{
    return wt < MC_WT__COUNT ? wire_types[wt].width : 0;
}

bool mc_wire_type_signed(mc_wire_type wt)
{
    return wt < MC_WT__COUNT && wire_types[wt].is_signed;
}

const char *mc_wire_type_name(mc_wire_type wt)
{
    return wt < MC_WT__COUNT ? wire_types[wt].name : "invalid";
}

int64_t mc_wire_type_sext(mc_wire_type wt, uint64_t raw)
{
    unsigned bits = mc_wire_type_width(wt) * 8;
    if (!mc_wire_type_signed(wt) || bits == 64 || bits == 0) {
        return (int64_t)raw;
    }
    uint64_t sign = 1ull << (bits - 1);
    raw &= (sign << 1) - 1;
    return (int64_t)((raw ^ sign) - sign);
}

bool mc_wire_type_fits(mc_wire_type wt, uint64_t raw)
{
    unsigned bits = mc_wire_type_width(wt) * 8;
    if (bits == 64 || raw >> bits == 0) {
        return true;
    }
    if (mc_wire_type_signed(wt)) {
        int64_t s = (int64_t)raw;
        return s < 0 && s >= -(int64_t)(UINT64_C(1) << (bits - 1));
    }
    return false;
}

const char *mc_page_size_source_name(mc_page_size_source s)
{
    switch (s) {
    case MC_PAGE_SIZE_CONFIGURATION: return "configuration";
    case MC_PAGE_SIZE_HEADER: return "ber-header";
    default: return "default";
    }
}

const char *mc_ram_kind_name(mc_ram_kind k)
{
    static const char *const names[MC_RAM__COUNT] = {
        [MC_RAM_MEM_SIZE] = "mem_size", [MC_RAM_ZERO] = "zero",
        [MC_RAM_PAGE] = "page",         [MC_RAM_XBZRLE] = "xbzrle",
        [MC_RAM_COMPRESS] = "compress", [MC_RAM_EOS] = "eos",
        [MC_RAM_MULTIFD_FLUSH] = "multifd_flush",
        [MC_RAM_MAPPED_BLOCK] = "mapped_block",
        [MC_RAM_MAPPED_BYTES] = "mapped_bytes",
        [MC_RAM_MAPPED_ZEROS] = "mapped_zeros",
    };
    return k < MC_RAM__COUNT ? names[k] : "unknown";
}

bool mc_visit_start_stream(mc_visitor *v, const mc_stream_info *info,
                           mc_error **errp)
{
    DISPATCH(v, OP_START_STREAM, 0, v->ops->start_stream(v, info, errp), errp);
}

bool mc_visit_end_stream(mc_visitor *v, mc_error **errp)
{
    DISPATCH(v, OP_END_STREAM, 0,
             v->ops->end_stream ? v->ops->end_stream(v, errp) : true, errp);
}

bool mc_visit_start_section(mc_visitor *v, const mc_section_info *info,
                            mc_error **errp)
{
    DISPATCH(v, OP_START_SECTION, info->kind == MC_SECTION_RAM,
             v->ops->start_section(v, info, errp), errp);
}

bool mc_visit_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    DISPATCH(v, OP_END_SECTION, 0, v->ops->end_section(v, footer, errp),
             errp);
}

bool mc_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                  uint64_t raw, mc_error **errp)
{
    DISPATCH(v, OP_VALUE, 0, v->ops->visit_int(v, f, wt, raw, errp), errp);
}

bool mc_visit_bytes(mc_visitor *v, const mc_field *f, const uint8_t *data,
                    size_t len, mc_error **errp)
{
    DISPATCH(v, OP_VALUE, 0, v->ops->visit_bytes(v, f, data, len, errp),
             errp);
}

static bool visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint32_t count, const uint8_t *data, mc_error **errp)
{
    if (v->ops->visit_packed) {
        return v->ops->visit_packed(v, f, wt, count, data, errp);
    }
    unsigned w = mc_wire_type_width(wt);
    mc_field elem = {NULL, f ? f->type : NULL};
    if (!v->ops->start_array(v, f, count, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (!v->ops->visit_int(v, &elem, wt, mc_get_be(data + (size_t)i * w, w),
                               errp)) {
            return false;
        }
    }
    return v->ops->end_array(v, errp);
}

bool mc_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                     uint32_t count, const uint8_t *data, mc_error **errp)
{
    DISPATCH(v, OP_VALUE, 0, visit_packed(v, f, wt, count, data, errp), errp);
}

bool mc_visit_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    DISPATCH(v, OP_START_STRUCT, 0, v->ops->start_struct(v, f, errp), errp);
}

bool mc_visit_end_struct(mc_visitor *v, mc_error **errp)
{
    DISPATCH(v, OP_END_STRUCT, 0, v->ops->end_struct(v, errp), errp);
}

bool mc_visit_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                          mc_error **errp)
{
    DISPATCH(v, OP_START_ARRAY, count, v->ops->start_array(v, f, count, errp),
             errp);
}

bool mc_visit_end_array(mc_visitor *v, mc_error **errp)
{
    DISPATCH(v, OP_END_ARRAY, 0, v->ops->end_array(v, errp), errp);
}

bool mc_visit_start_subsection(mc_visitor *v, const char *name,
                               uint32_t version_id, mc_error **errp)
{
    DISPATCH(v, OP_START_SUBSECTION, 0,
             v->ops->start_subsection(v, name, version_id, errp), errp);
}

bool mc_visit_end_subsection(mc_visitor *v, mc_error **errp)
{
    DISPATCH(v, OP_END_SUBSECTION, 0, v->ops->end_subsection(v, errp), errp);
}

bool mc_visit_ram_record(mc_visitor *v, const mc_ram_record *rec,
                         mc_error **errp)
{
    DISPATCH(v, OP_RAM_RECORD, 0, v->ops->ram_record(v, rec, errp), errp);
}

bool mc_visit_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                      uint16_t len, mc_error **errp)
{
    DISPATCH(v, OP_ITEM, 0, v->ops->command(v, cmd, data, len, errp), errp);
}

bool mc_visit_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    DISPATCH(v, OP_START_PACKAGED, 0, v->ops->start_packaged(v, len, errp),
             errp);
}

bool mc_visit_end_packaged(mc_visitor *v, mc_error **errp)
{
    DISPATCH(v, OP_END_PACKAGED, 0, v->ops->end_packaged(v, errp), errp);
}

bool mc_visit_eof(mc_visitor *v, mc_error **errp)
{
    DISPATCH(v, OP_ITEM, 0, v->ops->eof(v, errp), errp);
}

bool mc_visit_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                     mc_error **errp)
{
    DISPATCH(v, OP_ITEM, 0, v->ops->vmdesc(v, json, len, errp), errp);
}

bool mc_visitor_complete(mc_visitor *v, mc_error **errp)
{
    return v->ops->complete ? v->ops->complete(v, errp) : true;
}

void mc_visitor_free(mc_visitor *v)
{
    if (v) {
        v->ops->free(v);
    }
}
