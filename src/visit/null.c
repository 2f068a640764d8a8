/*
 * The null visitor: accepts every call and does nothing.
 *
 * Paired with a reader it gives a validation run (the reader does all the
 * checking) or a dry run that measures the reader alone.  It enforces
 * nothing, not even the call grammar: every callback returns true.
 */
#include <stdlib.h>

#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/visitors.h"

static bool nv_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    return true;
}

static bool nv_done(mc_visitor *v, mc_error **errp)
{
    return true;
}

static bool nv_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    return true;
}

static bool nv_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    return true;
}

static bool nv_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    return true;
}

static bool nv_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    return true;
}

static bool nv_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    return true;
}

static bool nv_start_field(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    return true;
}

static bool nv_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    return true;
}

static bool nv_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    return true;
}

static bool nv_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    return true;
}

static bool nv_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    return true;
}

static bool nv_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    return true;
}

static bool nv_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    return true;
}

static void nv_free(mc_visitor *v)
{
    free(v);
}

const mc_visitor_ops mc_null_ops = {
    .start_stream = nv_start_stream,
    .end_stream = nv_done,
    .start_section = nv_start_section,
    .end_section = nv_end_section,
    .visit_int = nv_visit_int,
    .visit_bytes = nv_visit_bytes,
    .visit_packed = nv_visit_packed,
    .start_struct = nv_start_field,
    .end_struct = nv_done,
    .start_array = nv_start_array,
    .end_array = nv_done,
    .start_subsection = nv_start_subsection,
    .end_subsection = nv_done,
    .ram_record = nv_ram_record,
    .command = nv_command,
    .start_packaged = nv_start_packaged,
    .end_packaged = nv_done,
    .eof = nv_done,
    .vmdesc = nv_vmdesc,
    .complete = nv_done,
    .free = nv_free,
};

mc_visitor *mc_null_visitor_new(void)
{
    mc_visitor *v = mc_calloc(1, sizeof(*v));
    v->ops = &mc_null_ops;
    return v;
}
