/*
 * The layers under an input, found by content: each a row of the source
 * filter table of format/registry.c (a libvirt save image, a gzip, bzip2,
 * xz, zstd or lzop layer, a qcow2 image's snapshot vmstate with
 * --snapshot, a BER file's Container record).  Each layer is a source in
 * in->layers[] reading from the one below (core/io.h); in->src is the top
 * one, and in->name then says which layer the offsets in messages count
 * in ("vm.save: gzip data in a libvirt image: offset N").  What the layers
 * are goes in in->container, which the BER keeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

bool mc_input_stack(mc_input *in, const mc_cli_common *c, mc_error **errp)
{
    mc_filter_ctx cx = {
        .fd = in->fd, .size = in->size, .fname = in->fname,
        .snapshot = c ? c->snapshot : NULL,
        .has_container = &in->has_container, .container = &in->container,
    };
    for (;;) {
        const uint8_t *p;
        size_t have;
        if (!mc_filter_peek(in->src, MC_FILTER_BID_BYTES, &p, &have, errp)) {
            return false;
        }
        cx.depth = in->n_layers;
        const mc_filter_ops *f = mc_filter_bid(&cx, p, have);
        if (!f) {
            break;
        }
        mc_src *top = NULL;
        if (f->layer) {
            if (in->n_layers == MC_INPUT_MAX_LAYERS) {
                mc_error_data(errp, MC_NO_OFFSET, NULL,
                              "more than %d container layers",
                              MC_INPUT_MAX_LAYERS);
                return false;
            }
            top = &in->layers[in->n_layers];
            memset(top, 0, sizeof(*top));
        }
        void *state = NULL;
        if (!f->open(f, &cx, in->src, top, &state, in->label,
                     sizeof(in->label), errp)) {
            return false;
        }
        if (top) {
            in->filters[in->n_layers] = f;
            in->states[in->n_layers++] = state;
            in->src = top;
        }
    }
    if (in->n_layers > 0) {
        in->name = in->label;
    }
    /* The format of the stream on top. */
    const uint8_t *p;
    mc_error *err = NULL;
    if (!mc_src_peek(in->src, 4, &p, &err)) {
        if (err->cls == MC_ERR_DATA) {
            mc_error_free(err);
            mc_error_data(errp, mc_src_offset(in->src), NULL,
                          "too short to be a migration stream (%zu bytes)",
                          mc_src_buffered(in->src));
            mc_input_blame(in, *errp);
        } else {
            mc_error_propagate(errp, err);
        }
        return false;
    }
    in->fmt = mc_format_bid(p, mc_src_buffered(in->src));
    in->format = in->fmt ? in->fmt->id : MC_FORMAT_UNKNOWN;
    return true;
}

void mc_input_unstack(mc_input *in)
{
    while (in->n_layers > 0) {
        in->n_layers--;
        mc_src_cleanup(&in->layers[in->n_layers]);
        const mc_filter_ops *f = in->filters[in->n_layers];
        if (f->free && in->states[in->n_layers]) {
            f->free(in->states[in->n_layers]);
        }
        in->states[in->n_layers] = NULL;
    }
    in->src = &in->file;
    mc_container_info_free(&in->container);
    in->has_container = false;
    in->name = in->fname;
}

uint64_t mc_input_file_offset(const mc_input *in)
{
    if (in->size) {
        return in->size;
    }
    return mc_src_offset(&in->file);
}
