/*
 * The locator: which item of a stream covers a byte offset.  Driven by a
 * reader over the stream, it remembers the last section header or item
 * that started at or before the offset and stops the reader (with an error
 * the caller discards) at the first one after it.  verify names the place
 * of a difference with it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/visitors.h"

typedef struct locator {
    mc_visitor base;
    mc_visitor_ops ops;
    const mc_src *src;
    uint64_t target;
    char where[300];
} locator;

static bool past(locator *l, mc_error **errp)
{
    if (mc_src_offset(l->src) > l->target) {
        mc_error_data(errp, MC_NO_OFFSET, NULL, "located");
        return true;
    }
    return false;
}

static bool loc_item(mc_visitor *v, const char *what, mc_error **errp)
{
    locator *l = (locator *)v;
    if (past(l, errp)) {
        return false;
    }
    snprintf(l->where, sizeof(l->where), "%s", what);
    return true;
}

static bool loc_section(mc_visitor *v, const mc_section_info *info,
                        mc_error **errp)
{
    locator *l = (locator *)v;
    if (past(l, errp)) {
        return false;
    }
    snprintf(l->where, sizeof(l->where), "%s section '%s'",
             mc_section_type_name(info->type), info->idstr ? info->idstr : "?");
    return true;
}

static bool loc_stream(mc_visitor *v, const mc_stream_info *i, mc_error **e)
{
    (void)i;
    return loc_item(v, "stream header", e);
}

static bool loc_cmd(mc_visitor *v, uint16_t c, const uint8_t *d, uint16_t n,
                    mc_error **e)
{
    (void)c, (void)d, (void)n;
    return loc_item(v, "a command", e);
}

static bool loc_pkg(mc_visitor *v, uint32_t n, mc_error **e)
{
    (void)n;
    return loc_item(v, "a package", e);
}

static bool loc_eof(mc_visitor *v, mc_error **e)
{
    return loc_item(v, "the end of the stream", e);
}

static bool loc_vmdesc(mc_visitor *v, const uint8_t *j, size_t n, mc_error **e)
{
    (void)j, (void)n;
    return loc_item(v, "the vmdesc", e);
}

mc_visitor *mc_locator_new(const mc_src *src, uint64_t target)
{
    locator *l = mc_calloc(1, sizeof(*l));
    l->src = src;
    l->target = target;
    l->ops = mc_null_ops;
    l->ops.start_stream = loc_stream;
    l->ops.start_section = loc_section;
    l->ops.command = loc_cmd;
    l->ops.start_packaged = loc_pkg;
    l->ops.eof = loc_eof;
    l->ops.vmdesc = loc_vmdesc;
    l->base.ops = &l->ops;
    return &l->base;
}

const char *mc_locator_where(const mc_visitor *v)
{
    const locator *l = (const locator *)v;
    return l->where[0] ? l->where : "?";
}
