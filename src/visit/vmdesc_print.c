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
    mc_visitor_ops ops;     /* mc_null_ops with vmdesc and complete set */
    mc_sink *out;
    bool seen;
} vd_visitor;

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

mc_visitor *mc_vmdesc_visitor_new(mc_sink *out)
{
    vd_visitor *x = mc_calloc(1, sizeof(*x));
    x->ops = mc_null_ops;
    x->ops.vmdesc = vd_vmdesc;
    x->ops.complete = vd_complete;
    x->base.ops = &x->ops;
    x->out = out;
    return &x->base;
}
