/*
 * The vmdesc visitor (dump --vmdesc): writes the stream's vmdesc JSON, its
 * exact bytes and a newline, and ignores everything else.  A stream
 * without a vmdesc is an error when the walk completes.
 */
#include <stdlib.h>

#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/visitors.h"

typedef struct vd_visitor {
    mc_visitor base;
    mc_sink *out;
    bool seen;
} vd_visitor;

static bool vd_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    return true;
}

static bool vd_done(mc_visitor *v, mc_error **errp)
{
    return true;
}

static bool vd_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    return true;
}

static bool vd_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    return true;
}

static bool vd_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    return true;
}

static bool vd_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    return true;
}

static bool vd_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    return true;
}

static bool vd_start_field(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    return true;
}

static bool vd_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    return true;
}

static bool vd_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    return true;
}

static bool vd_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    return true;
}

static bool vd_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    return true;
}

static bool vd_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    return true;
}

static bool vd_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    vd_visitor *x = (vd_visitor *)v;
    x->seen = true;
    return mc_sink_write(x->out, json, len, errp) &&
           mc_sink_write(x->out, "\n", 1, errp);
}

static bool vd_complete(mc_visitor *v, mc_error **errp)
{
    vd_visitor *x = (vd_visitor *)v;
    if (!x->seen) {
        mc_error_data(errp, MC_NO_OFFSET, NULL, "the stream has no vmdesc");
        return false;
    }
    return mc_sink_flush(x->out, errp);
}

static void vd_free(mc_visitor *v)
{
    free(v);
}

static const mc_visitor_ops vd_ops = {
    .start_stream = vd_start_stream,
    .end_stream = vd_done,
    .start_section = vd_start_section,
    .end_section = vd_end_section,
    .visit_int = vd_visit_int,
    .visit_bytes = vd_visit_bytes,
    .visit_packed = vd_visit_packed,
    .start_struct = vd_start_field,
    .end_struct = vd_done,
    .start_array = vd_start_array,
    .end_array = vd_done,
    .start_subsection = vd_start_subsection,
    .end_subsection = vd_done,
    .ram_record = vd_ram_record,
    .command = vd_command,
    .start_packaged = vd_start_packaged,
    .end_packaged = vd_done,
    .eof = vd_done,
    .vmdesc = vd_vmdesc,
    .complete = vd_complete,
    .free = vd_free,
};

mc_visitor *mc_vmdesc_visitor_new(mc_sink *out)
{
    vd_visitor *x = mc_calloc(1, sizeof(*x));
    x->base.ops = &vd_ops;
    x->out = out;
    return &x->base;
}
