/*
 * A legacy stream written back into the container its input came in: the
 * libvirt header, XML and cookie as they were, then the stream compressed
 * as it was (the codec and level recorded by the input's filters, or by
 * the BER's Container record).  ber-to-legacy and retarget write through
 * it, so that what was a `virsh save` image stays one.
 */
#include "cli/cli.h"
#include "container/codec.h"

bool mc_rewrap_begin(mc_rewrap *w, mc_sink *out, const mc_container_info *ci,
                     mc_error **errp)
{
    *w = (mc_rewrap){.sink = out};
    if (!ci) {
        return true;
    }
    if (ci->libvirt && !mc_sink_write(out, ci->libvirt, ci->libvirt_len, errp)) {
        return false;
    }
    if (ci->codec == MC_CODEC_NONE) {
        return true;
    }
    w->comp = mc_comp_open(ci->codec, ci->level, out, &w->csink);
    if (!w->comp) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "cannot start the %s compressor", mc_codec_name(ci->codec));
        return false;
    }
    w->sink = &w->csink;
    return true;
}

bool mc_rewrap_end(mc_rewrap *w, bool ok, mc_error **errp)
{
    if (w->comp) {
        ok = ok && mc_sink_flush(&w->csink, errp) &&
             mc_comp_finish(w->comp, errp);
        mc_sink_cleanup(&w->csink);
        mc_comp_free(w->comp);
        w->comp = NULL;
    }
    return ok;
}
