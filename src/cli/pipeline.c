/* The pipeline for one input (cli/pipeline.h). */
#include "cli/pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "desc/tables.h"

/* ---- run state ---- */

int mc_run_init(mc_run *run, const mc_cli_common *c)
{
    memset(run, 0, sizeof(*run));
    run->c = c;
    mc_error *err = NULL;
    if (!mc_cli_tables(c, &run->tables, &err)) {
        return mc_cli_report(c->tables_path, err);
    }
    return 0;
}

void mc_run_cleanup(mc_run *run)
{
    mc_tables_free(run->tables);
    run->tables = NULL;
}

static bool run_read(const mc_run *run, mc_input *in, const mc_format_ops *fmt,
                     mc_visitor *v, bool validate, mc_cli_trailer_fn trailer,
                     void *opaque, mc_error **errp)
{
    const mc_cli_common *c = run->c;
    mc_read_opts ro = {
        .tables = run->tables,
        .qemu_version = c->qemu_version,
        .tail_cap = c->tail_cap,
        .vmdesc_limit = c->vmdesc_limit,
        .validate = validate,
        .warn = c->quiet ? NULL : mc_cli_warn,
        .warn_opaque = (void *)in->name,
        /* bytes after the stream (a state volume's old contents) are
         * the trailer's to handle, or left unread: they are not state */
        .keep_trailer = true,
    };
    if (!fmt->read(in->src, v, &ro, errp) ||
        (trailer && !trailer(in, opaque, errp)) ||
        !mc_visitor_complete(v, errp)) {
        mc_input_blame(in, errp ? *errp : NULL);
        return false;
    }
    return true;
}

bool mc_run_read(const mc_run *run, mc_input *in, const mc_format_ops *fmt,
                 mc_visitor *v, bool validate, mc_error **errp)
{
    return run_read(run, in, fmt, v, validate, NULL, NULL, errp);
}

bool mc_cli_read(mc_input *in, mc_format fmt, mc_visitor *v,
                 const mc_cli_common *c, bool validate, mc_error **errp)
{
    return mc_cli_read_ex(in, fmt, v, c, validate, NULL, NULL, errp);
}

bool mc_cli_read_ex(mc_input *in, mc_format fmt, mc_visitor *v,
                    const mc_cli_common *c, bool validate,
                    mc_cli_trailer_fn trailer, void *opaque, mc_error **errp)
{
    const mc_format_ops *f = mc_format_get(fmt);
    if (!f) {
        mc_error_data(errp, 0, NULL, "not a QEMU migration stream or BER");
        return false;
    }
    mc_run run = {.c = c};
    if (!mc_cli_tables(c, &run.tables, errp)) {
        return false;
    }
    bool ok = run_read(&run, in, f, v, validate, trailer, opaque, errp);
    mc_run_cleanup(&run);
    return ok;
}

int mc_run_report(const mc_input *in, const char *in_name,
                  const char *out_name, mc_error *err)
{
    const char *file = in_name;
    /* A failed write, close or rename is the output's; a writer refusing
     * the data it was given is about the input (the message says "output
     * offset"). */
    if (err && err->side == MC_SIDE_OUTPUT && err->cls == MC_ERR_IO &&
        out_name) {
        file = out_name;
    } else if (in) {
        mc_input_blame(in, err);
    }
    return mc_cli_report(file, err);
}

/* ---- convert ---- */

int mc_convert_one(const mc_run *run, const mc_convert_opts *o,
                   const char *inpath, const char *outpath)
{
    /* The conversion with the input's container and trailer: convert.c. */
    mc_cli_convert_opts co = {.names = o->write.names,
                              .validate = o->validate};
    mc_cli_convert_result res;
    mc_error *err = NULL;
    if (!mc_cli_convert_one(inpath, outpath, o->from, &co, run->c, &res,
                            &err)) {
        return mc_cli_report(res.errfile, err);
    }
    return 0;
}

/* ---- dump ---- */

static bool discard(mc_sink *k, const uint8_t *p, size_t n, mc_error **errp)
{
    return true;
}

/* What follows the stream: a BER's Trailer is checked, bytes after a
 * legacy stream's vmdesc are accepted (the converters keep them). */
static bool skip_trailer(mc_input *in, void *opaque, mc_error **errp)
{
    if (in->format != MC_FORMAT_BER) {
        return true;
    }
    mc_sink none;
    mc_sink_init_fn(&none, discard, NULL);
    bool ok = mc_trailer_read(in->src, &none, NULL, errp) &&
              mc_sink_flush(&none, errp);
    mc_sink_cleanup(&none);
    return ok;
}

int mc_dump_one(const mc_run *run, const mc_dump_opts *o, const char *inpath)
{
    mc_input in;
    int code = mc_cli_open_stream(&in, inpath, run->c);
    if (code) {
        return code;
    }
    mc_error *err = NULL;
    mc_sink sink;
    mc_sink_init_fd(&sink, STDOUT_FILENO);
    mc_visitor *v;
    if (o->vmdesc) {
        v = mc_vmdesc_visitor_new(&sink);
    } else {
        sink.name = "(stdout)";
        mc_json_opts jo = o->json;
        if (in.has_container) {
            jo.container = &in.container;
        }
        v = mc_json_visitor_new(&sink, &jo);
    }
    bool ok = run_read(run, &in, in.fmt, v, o->validate,
                       o->vmdesc ? NULL : skip_trailer, NULL, &err);
    mc_visitor_free(v);
    if (!ok && !o->vmdesc) {
        /* Whatever JSON was written is incomplete; end the line so the
         * message is not glued to it. */
        mc_sink_flush(&sink, NULL);
    }
    mc_sink_cleanup(&sink);
    code = ok ? 0 : mc_run_report(&in, in.name, "(stdout)", err);
    mc_input_close(&in);
    return code;
}

/* ---- verify ---- */

/* Read the stream on src (format fmt) into a writer of the other format
 * (with options wo) writing to sink. */
static bool pass(const mc_run *run, const mc_format_ops *fmt, mc_src *src,
                 mc_sink *sink, const mc_write_opts *wo, const char *name,
                 mc_error **errp)
{
    const mc_format_ops *to = mc_format_get(fmt->convert_to);
    mc_visitor *v = to->writer_new(sink, wo);
    const mc_cli_common *c = run->c;
    mc_read_opts ro = {
        .tables = run->tables,
        .qemu_version = c->qemu_version,
        .tail_cap = c->tail_cap,
        .vmdesc_limit = c->vmdesc_limit,
        .warn = c->quiet ? NULL : mc_cli_warn,
        .warn_opaque = (void *)name,
        .keep_trailer = true,
    };
    /* Bytes after the vmdesc go through a Trailer and back. */
    bool ok = fmt->read(src, v, &ro, errp) &&
              (fmt->id == MC_FORMAT_LEGACY
                   ? mc_trailer_copy_out(src, sink, NULL, errp)
                   : mc_trailer_read(src, sink, NULL, errp)) &&
              mc_visitor_complete(v, errp);
    mc_visitor_free(v);
    return ok && mc_sink_flush(sink, errp);
}

/* Which item of the stream on fd (format fmt) covers offset target. */
static void locate(int fd, const mc_format_ops *fmt, uint64_t target,
                   char *where, size_t n)
{
    snprintf(where, n, "?");
    if (lseek(fd, 0, SEEK_SET) != 0) {
        return;
    }
    mc_src src;
    mc_src_init_fd(&src, fd);
    mc_visitor *l = mc_locator_new(&src, target);
    mc_read_opts ro = {0};
    mc_error *err = NULL;
    (void)fmt->read(&src, l, &ro, &err); /* stops past the target */
    mc_error_free(err);
    snprintf(where, n, "%s", mc_locator_where(l));
    mc_visitor_free(l);
    mc_src_cleanup(&src);
}

int mc_verify_one(const mc_run *run, const char *inpath)
{
    mc_input in;
    int code = mc_cli_open_stream(&in, inpath, run->c);
    if (code) {
        return code;
    }
    mc_error *err = NULL;
    const char *name = in.name;
    const mc_format_ops *fmt = in.fmt;
    const mc_format_ops *other = mc_format_get(fmt->convert_to);
    /* The writer options that give this stream back (BER: names or not). */
    mc_write_opts wo;
    const uint8_t *head;
    (void)mc_src_peek(in.src, MC_FORMAT_HEAD_BYTES, &head, NULL);
    mc_format_write_opts(fmt, mc_src_window(in.src), mc_src_buffered(in.src),
                         &wo);
    /* The stream is read three times (there, back, and to locate a
     * difference): from the file when it is one and seekable, else from
     * a spooled copy of the stream. */
    int orig_fd = in.fd;
    int spooled = -1;
    int mid = -1;
    if (in.size == 0 || in.n_layers > 0 || in.has_container) {
        spooled = mc_input_spool(&in, &err);
        if (spooled < 0) {
            code = mc_run_report(&in, name, NULL, err);
            goto out;
        }
        orig_fd = spooled;
        if (lseek(orig_fd, 0, SEEK_SET) != 0) {
            mc_error_set_errno(&err, errno, "cannot rewind");
            code = mc_cli_report(name, err);
            goto out;
        }
    }
    mc_src first;
    if (spooled >= 0) {
        mc_src_init_fd(&first, orig_fd);
        first.progress = in.progress ? mc_progress_update : NULL;
        first.progress_opaque = in.progress;
    }
    mc_src *src1 = spooled >= 0 ? &first : in.src;
    mid = mc_temp_fd(&err);
    if (mid < 0) {
        if (spooled >= 0) {
            mc_src_cleanup(&first);
        }
        code = mc_cli_report(name, err);
        goto out;
    }
    /* Pass 1: to the other format. */
    char tname[4200];
    mc_temp_sink_name(tname, sizeof(tname));
    mc_sink k;
    mc_sink_init_fd(&k, mid);
    k.name = tname;
    bool ok = pass(run, fmt, src1, &k, &wo, name, &err);
    uint64_t mid_size = k.written;
    mc_sink_cleanup(&k);
    if (spooled >= 0) {
        mc_src_cleanup(&first);
    }
    if (!ok) {
        code = mc_run_report(&in, name, NULL, err);
        goto out;
    }
    /* Pass 2: back, comparing with the original as it is written. */
    if (lseek(mid, 0, SEEK_SET) != 0 || lseek(orig_fd, 0, SEEK_SET) != 0) {
        mc_error_set_errno(&err, errno, "cannot rewind");
        code = mc_cli_report(name, err);
        goto out;
    }
    mc_src orig, back;
    mc_src_init_fd(&orig, orig_fd);
    mc_src_init_fd(&back, mid);
    mc_sink_cmp cs;
    mc_sink_init_cmp(&k, &cs, &orig);
    ok = pass(run, other, &back, &k, &wo, name, &err);
    mc_sink_cleanup(&k);
    mc_src_cleanup(&back);
    bool extra = false;
    if (ok) {
        bool at_end;
        ok = mc_src_at_end(&orig, &at_end, &err);
        if (ok && !at_end) {
            cs.differ = true;
            cs.diff_at = cs.pos;
            extra = true;
            ok = false;
        }
    }
    mc_src_cleanup(&orig);
    if (!ok && cs.differ) {
        char where[300];
        locate(orig_fd, fmt, cs.diff_at, where, sizeof(where));
        mc_error_free(err);
        err = NULL;
        mc_error_data(&err, cs.diff_at, NULL, "%s (near %s)",
                      extra ? "round trip ends early"
                            : "round trip differs from the original",
                      where);
        code = mc_run_report(&in, name, NULL, err);
    } else if (!ok) {
        mc_error_prepend(&err, fmt->id == MC_FORMAT_LEGACY
                                   ? "reading back the BER"
                                   : "reading back the legacy stream");
        code = mc_cli_report(name, err);
    } else {
        printf("%s: OK (%s, %llu bytes; %s %llu bytes)\n", name, fmt->name,
               (unsigned long long)cs.pos, other->name,
               (unsigned long long)mid_size);
        fflush(stdout);
    }
out:
    if (mid >= 0) {
        close(mid);
    }
    if (spooled >= 0) {
        close(spooled);
    }
    mc_input_close(&in);
    return code;
}
