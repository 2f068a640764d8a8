#include "core/visitor-impl.h"

#include "core/util.h"

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
    return v->ops->start_stream(v, info, errp);
}

bool mc_visit_end_stream(mc_visitor *v, mc_error **errp)
{
    return v->ops->end_stream ? v->ops->end_stream(v, errp) : true;
}

bool mc_visit_start_section(mc_visitor *v, const mc_section_info *info,
                            mc_error **errp)
{
    return v->ops->start_section(v, info, errp);
}

bool mc_visit_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    return v->ops->end_section(v, footer, errp);
}

bool mc_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                  uint64_t raw, mc_error **errp)
{
    return v->ops->visit_int(v, f, wt, raw, errp);
}

bool mc_visit_bytes(mc_visitor *v, const mc_field *f, const uint8_t *data,
                    size_t len, mc_error **errp)
{
    return v->ops->visit_bytes(v, f, data, len, errp);
}

bool mc_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
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

bool mc_visit_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    return v->ops->start_struct(v, f, errp);
}

bool mc_visit_end_struct(mc_visitor *v, mc_error **errp)
{
    return v->ops->end_struct(v, errp);
}

bool mc_visit_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                          mc_error **errp)
{
    return v->ops->start_array(v, f, count, errp);
}

bool mc_visit_end_array(mc_visitor *v, mc_error **errp)
{
    return v->ops->end_array(v, errp);
}

bool mc_visit_start_subsection(mc_visitor *v, const char *name,
                               uint32_t version_id, mc_error **errp)
{
    return v->ops->start_subsection(v, name, version_id, errp);
}

bool mc_visit_end_subsection(mc_visitor *v, mc_error **errp)
{
    return v->ops->end_subsection(v, errp);
}

bool mc_visit_ram_record(mc_visitor *v, const mc_ram_record *rec,
                         mc_error **errp)
{
    return v->ops->ram_record(v, rec, errp);
}

bool mc_visit_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                      uint16_t len, mc_error **errp)
{
    return v->ops->command(v, cmd, data, len, errp);
}

bool mc_visit_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    return v->ops->start_packaged(v, len, errp);
}

bool mc_visit_end_packaged(mc_visitor *v, mc_error **errp)
{
    return v->ops->end_packaged(v, errp);
}

bool mc_visit_eof(mc_visitor *v, mc_error **errp)
{
    return v->ops->eof(v, errp);
}

bool mc_visit_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                     mc_error **errp)
{
    return v->ops->vmdesc(v, json, len, errp);
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
