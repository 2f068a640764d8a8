/*
 * Container layers under an input, found by content: a libvirt save image
 * (header, XML and cookie, then the stream, maybe compressed), a gzip,
 * bzip2, xz, zstd or lzop layer, a qcow2 image's snapshot vmstate
 * (--snapshot), and a BER file's Container record.  Each layer is a source
 * in in->layers[] reading from the one below (core/io.h); in->src is the
 * top one, and in->name then says which layer the offsets in messages
 * count in ("vm.save: gzip data in a libvirt image: offset N").  These
 * layers need the command's options (--snapshot) and keep what the BER
 * records of them (in->container), so they are stacked here rather than
 * as rows of the filter table of format/registry.c; the registry's
 * filters, if any, stack above them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "container/codec.h"
#include "container/libvirt_save.h"
#include "container/qcow2.h"
#include "core/util.h"

#define MAX_LAYERS 3

struct mc_input_layers {
    int n;
    mc_decomp *decomp[MC_INPUT_MAX_LAYERS];
    mc_qcow2 qcow2;
    bool has_qcow2;
    mc_qcow2_vmstate *vmstate;
    char label[512];
};

/* A layer that passes bytes through, counting offsets from where it
 * starts (the stream after a libvirt header). */
static bool pass_read(mc_src *s, uint8_t *buf, size_t n, size_t *got,
                      mc_error **errp)
{
    return mc_src_read(s->read_opaque, buf, n, got, errp);
}

/* Up to n bytes at the read position: fewer only at the end of the
 * input; a layer's own error (damaged compressed data) is an error. */
static bool peek_upto(mc_src *s, size_t n, const uint8_t **p, size_t *have,
                      mc_error **errp)
{
    mc_error *err = NULL;
    if (mc_src_peek(s, n, p, &err)) {
        *have = n;
        return true;
    }
    if (err->cls != MC_ERR_DATA ||
        strncmp(err->msg, "unexpected end of input", 23) != 0) {
        mc_error_propagate(errp, err);
        return false;
    }
    mc_error_free(err);
    *have = mc_src_buffered(s);
    return mc_src_peek(s, *have, p, errp);
}

/* A new layer slot above in->src; returns the source below it (NULL when
 * there is no room).  The caller initialises in->src, or calls pop(). */
static mc_src *push(mc_input *in, mc_error **errp)
{
    if (in->n_layers == MC_INPUT_MAX_LAYERS || in->ext->n == MAX_LAYERS) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "more than %d container layers", MAX_LAYERS);
        return NULL;
    }
    mc_src *below = in->src;
    in->filters[in->n_layers] = NULL;
    in->src = &in->layers[in->n_layers++];
    in->ext->n++;
    memset(in->src, 0, sizeof(*in->src));
    return below;
}

static void pop(mc_input *in, mc_src *below)
{
    in->n_layers--;
    in->ext->n--;
    in->src = below;
}

static mc_codec libvirt_codec(uint32_t format)
{
    switch (format) {
    case MC_LIBVIRT_GZIP:
        return MC_CODEC_GZIP;
    case MC_LIBVIRT_BZIP2:
        return MC_CODEC_BZIP2;
    case MC_LIBVIRT_XZ:
        return MC_CODEC_XZ;
    case MC_LIBVIRT_ZSTD:
        return MC_CODEC_ZSTD;
    case MC_LIBVIRT_LZOP:
        return MC_CODEC_LZOP;
    default:
        return MC_CODEC_NONE;
    }
}

static bool stack_libvirt(mc_input *in, mc_error **errp)
{
    const uint8_t *p;
    size_t have;
    if (!peek_upto(in->src, MC_LIBVIRT_HEADER_SIZE, &p, &have, errp)) {
        return false;
    }
    mc_libvirt_header h;
    if (!mc_libvirt_header_parse(p, have, &h, errp)) {
        return false;
    }
    size_t total = MC_LIBVIRT_HEADER_SIZE + (size_t)h.data_len;
    if (in->size && in->size < total) {
        mc_error_data(errp, 20, "libvirt header/data_len",
                      "XML data length %u runs past the end of the file "
                      "(%llu bytes)", h.data_len,
                      (unsigned long long)in->size);
        return false;
    }
    mc_error *err = NULL;
    if (!mc_src_take(in->src, total, &p, &err)) {
        mc_error_free(err);
        mc_error_data(errp, 20, "libvirt header/data_len",
                      "XML data length %u runs past the end of the input",
                      h.data_len);
        return false;
    }
    uint32_t fmt = mc_libvirt_stream_format(&h);
    in->has_container = true;
    in->container.kind = MC_CONTAINER_LIBVIRT;
    in->container.codec = libvirt_codec(fmt);
    in->container.level = in->container.codec
                              ? mc_codec_default_level(in->container.codec)
                              : 0;
    in->container.libvirt = mc_malloc(total);
    memcpy(in->container.libvirt, p, total);
    in->container.libvirt_len = total;
    mc_src *below = push(in, errp);
    if (!below) {
        return false;
    }
    struct mc_input_layers *L = in->ext;
    if (in->container.codec == MC_CODEC_NONE) {
        mc_src_init_read(in->src, NULL, pass_read, below);
        snprintf(L->label, sizeof(L->label), "%s: stream in a libvirt image",
                 in->fname);
        return true;
    }
    if (!mc_decomp_open(in->container.codec, below, in->src,
                        &L->decomp[in->n_layers - 1], errp)) {
        pop(in, below);
        return false;
    }
    snprintf(L->label, sizeof(L->label), "%s: %s data in a libvirt image",
             in->fname, mc_codec_name(in->container.codec));
    return true;
}

static bool stack_qcow2(mc_input *in, const mc_cli_common *c,
                        mc_error **errp)
{
    struct mc_input_layers *L = in->ext;
    if (in->size == 0) {
        mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "a qcow2 image must be read from a file, not a pipe");
        return false;
    }
    if (!mc_qcow2_open(in->fd, &L->qcow2, errp)) {
        return false;
    }
    L->has_qcow2 = true;
    if (!c->snapshot) {
        mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "a qcow2 image with %u snapshots: name one with "
                     "--snapshot NAME|ID (migconv snapshots lists them)",
                     L->qcow2.nb_snapshots);
        return false;
    }
    size_t idx;
    if (!mc_qcow2_find(&L->qcow2, c->snapshot, &idx, errp)) {
        return false;
    }
    mc_src *below = push(in, errp);
    if (!below) {
        return false;
    }
    if (!mc_qcow2_vmstate_open(&L->qcow2, idx, in->src, &L->vmstate, errp)) {
        pop(in, below);
        return false;
    }
    snprintf(L->label, sizeof(L->label), "%s: vmstate of snapshot %s (%s)",
             in->fname, L->qcow2.snapshots[idx].id,
             L->qcow2.snapshots[idx].name);
    return true;
}

bool mc_input_stack_containers(mc_input *in, const mc_cli_common *c,
                               mc_error **errp)
{
    in->ext = mc_calloc(1, sizeof(*in->ext));
    struct mc_input_layers *L = in->ext;
    for (;;) {
        const uint8_t *p;
        size_t have;
        if (!peek_upto(in->src, 16, &p, &have, errp)) {
            return false;
        }
        if (L->n == 0 && mc_libvirt_detect(p, have)) {
            if (!stack_libvirt(in, errp)) {
                return false;
            }
            continue;
        }
        if (L->n == 0 && mc_qcow2_detect(p, have)) {
            if (!stack_qcow2(in, c, errp)) {
                return false;
            }
            continue;
        }
        mc_codec codec = mc_codec_detect(p, have);
        if (codec != MC_CODEC_NONE &&
            !(in->has_container && in->container.codec != MC_CODEC_NONE)) {
            if (!in->has_container) {
                in->has_container = true;
                in->container.kind = MC_CONTAINER_COMPRESSED;
                in->container.codec = codec;
                /* The command-line tool's default (xz -6, not libvirt's
                 * xz -3): a plain compressed file was made by hand. */
                in->container.level = codec == MC_CODEC_XZ
                                          ? 6
                                          : mc_codec_default_level(codec);
            }
            mc_src *below = push(in, errp);
            if (!below) {
                return false;
            }
            if (!mc_decomp_open(codec, below, in->src,
                                &L->decomp[in->n_layers - 1], errp)) {
                pop(in, below);
                return false;
            }
            snprintf(L->label, sizeof(L->label), "%s: %s data", in->fname,
                     mc_codec_name(codec));
            continue;
        }
        if (have >= 1 && p[0] == MC_BER_CONTAINER_TAG && !in->has_container) {
            /* A BER file that keeps its container: read the record; the
             * Stream follows in the same layer. */
            if (!mc_container_ber_read(in->src, &in->container, errp)) {
                return false;
            }
            in->has_container = true;
            continue;
        }
        break;
    }
    if (L->n > 0) {
        in->name = L->label;
    }
    return true;
}

/* After the sources of the layers are cleaned up (common.c: unstack). */
void mc_input_unstack_containers(mc_input *in)
{
    struct mc_input_layers *L = in->ext;
    mc_container_info_free(&in->container);
    in->has_container = false;
    if (!L) {
        return;
    }
    for (size_t i = 0; i < MC_INPUT_MAX_LAYERS; i++) {
        mc_decomp_free(L->decomp[i]);
    }
    mc_qcow2_vmstate_free(L->vmstate);
    if (L->has_qcow2) {
        mc_qcow2_close(&L->qcow2);
    }
    free(L);
    in->ext = NULL;
    in->name = in->fname;
}

uint64_t mc_input_file_offset(const mc_input *in)
{
    if (in->size) {
        return in->size;
    }
    return mc_src_offset(&in->file);
}
