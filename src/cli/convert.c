/*
 * One conversion of one input to one output with its container, shared by
 * legacy-to-ber, ber-to-legacy (through mc_convert_one) and batch: open the
 * input with its container layers, pick the writer of the other format
 * from the registry, keep the container and the trailing bytes in the BER
 * (or rebuild them from it), commit or remove the output.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "container/codec.h"
#include "format/registry.h"
#include "visit/visitors.h"

typedef struct conv_state {
    const mc_cli_common *c;
    mc_sink *sink;          /* where the trailer goes */
    mc_cli_convert_result *res;
} conv_state;

static bool discard(mc_sink *k, const uint8_t *p, size_t n, mc_error **errp)
{
    return true;
}

/* Legacy input: the bytes after the vmdesc become a Trailer. */
static bool trailer_to_ber(mc_input *in, void *opaque, mc_error **errp)
{
    conv_state *st = opaque;
    if (st->c->drop_trailer) {
        return true;
    }
    return mc_trailer_copy_out(in->src, st->sink, &st->res->trailer, errp);
}

/* BER input: a Trailer becomes the bytes after the vmdesc again. */
static bool trailer_from_ber(mc_input *in, void *opaque, mc_error **errp)
{
    conv_state *st = opaque;
    if (st->c->drop_trailer) {
        mc_sink none;
        mc_sink_init_fn(&none, discard, NULL);
        bool ok = mc_trailer_read(in->src, &none, &st->res->trailer, errp) &&
                  mc_sink_flush(&none, errp);
        mc_sink_cleanup(&none);
        st->res->trailer = 0;
        return ok;
    }
    return mc_trailer_read(in->src, st->sink, &st->res->trailer, errp);
}

static void set_blame(mc_cli_convert_result *res, const char *name)
{
    size_t n = strlen(name);
    if (n >= sizeof(res->errfile)) {
        n = sizeof(res->errfile) - 1;
    }
    memcpy(res->errfile, name, n);
    res->errfile[n] = 0;
}

bool mc_cli_convert_one(const char *inpath, const char *outpath,
                        mc_format from, const mc_cli_convert_opts *o,
                        const mc_cli_common *c, mc_cli_convert_result *res,
                        mc_error **errp)
{
    memset(res, 0, sizeof(*res));
    mc_input in;
    set_blame(res, strcmp(inpath, "-") ? inpath : "(stdin)");
    if (!mc_input_open(&in, inpath, c, errp)) {
        return false;
    }
    set_blame(res, in.name);
    if (in.format == MC_FORMAT_UNKNOWN ||
        (from != MC_FORMAT_UNKNOWN && in.format != from)) {
        if (in.format == MC_FORMAT_UNKNOWN) {
            mc_error_data(errp, 0, NULL, "not a QEMU migration stream or BER");
        } else {
            mc_error_data(errp, 0, NULL, "this is %s, not %s input (use %s)",
                          mc_format_name(in.format), mc_format_name(from),
                          mc_format_get(in.format)->convert_cmd);
        }
        mc_input_close(&in);
        return false;
    }
    res->from = in.format;
    res->to = in.format == MC_FORMAT_LEGACY ? MC_FORMAT_BER : MC_FORMAT_LEGACY;
    if (in.has_container) {
        res->container = in.container.kind == MC_CONTAINER_LIBVIRT
                             ? "libvirt"
                             : mc_codec_name(in.container.codec);
    }
    char named[4096];
    if (o->name_output) {
        bool skip = false;
        if (!o->name_output(o->name_opaque, in.format, named, sizeof(named),
                            &skip, errp)) {
            mc_input_close(&in);
            if (skip) {
                res->skipped = true;
                return true;
            }
            set_blame(res, named);
            res->blame_output = true;
            return false;
        }
        outpath = named;
    }
    mc_output out;
    if (!mc_output_open(&out, outpath, true, c, &in, errp)) {
        set_blame(res, strcmp(outpath, "-") ? outpath : "(stdout)");
        res->blame_output = true;
        mc_input_close(&in);
        return false;
    }
    conv_state st = {.c = c, .sink = &out.sink, .res = res};
    mc_rewrap wrap;
    mc_visitor *v;
    bool ok = true;
    if (in.format == MC_FORMAT_LEGACY) {
        if (in.has_container) {
            ok = mc_container_ber_write(&out.sink, &in.container, errp);
        }
        mc_write_opts wo = {.names = o->names};
        v = mc_format_get(MC_FORMAT_BER)->writer_new(&out.sink, &wo);
        ok = ok && mc_cli_read_ex(&in, in.format, v, c, false, trailer_to_ber,
                                  &st, errp);
    } else {
        ok = mc_rewrap_begin(&wrap, &out.sink,
                             in.has_container ? &in.container : NULL, errp);
        st.sink = wrap.sink;
        mc_write_opts wo = {.names = true};
        v = mc_format_get(MC_FORMAT_LEGACY)->writer_new(st.sink, &wo);
        ok = ok && mc_cli_read_ex(&in, in.format, v, c, o->validate,
                                  trailer_from_ber, &st, errp);
        ok = mc_rewrap_end(&wrap, ok, errp);
    }
    mc_visitor_free(v);
    res->bytes_in = mc_input_file_offset(&in);
    res->bytes_out = out.sink.written;
    if (ok) {
        set_blame(res, out.name);
        res->blame_output = true;
        ok = mc_output_commit(&out, errp);
    } else {
        mc_error *e = errp ? *errp : NULL;
        /* A write failure is reported against the output. */
        if (e && e->side == MC_SIDE_OUTPUT) {
            set_blame(res, out.name);
            res->blame_output = true;
        }
        mc_output_abort(&out);
    }
    mc_input_close(&in);
    return ok;
}
