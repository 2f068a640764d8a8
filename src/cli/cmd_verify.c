/*
 * verify: convert each input to the other format and back, and compare the
 * result with the original byte for byte.  Both passes stream: the
 * intermediate goes to an unlinked temporary file and the second pass
 * compares while it writes, so memory stays bounded for any input size.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"
#include "desc/tables.h"
#include "core/stream.h"
#include "core/visitor-impl.h"
#include "visit/visitors.h"

static void usage(FILE *f)
{
    fprintf(f,
"Usage: migconv verify [OPTIONS] IN...\n"
"For each input, convert legacy->BER->legacy (or BER->legacy->BER for BER\n"
"input) and compare the result with the original.  Prints one line per\n"
"input; the exit status is 0 only if every input came back identical.\n"
"\n"
"Options:\n"
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE,\n"
"      --vmdesc-limit N, --tables-limit N:\n"
"                       as for legacy-to-ber\n"
"  -h, --help           show this help\n");
}

static const char *temp_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

/* Errors on the temporary files name the directory, not the input. */
#define TEMP_FILE_NAME "temporary file in %s"

static int temp_fd(mc_error **errp)
{
    const char *dir = temp_dir();
    char path[4096];
    snprintf(path, sizeof(path), "%s/migconv-verify.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        mc_error_set_errno(errp, errno, "cannot create a temporary file");
        mc_error_set_file(errp, dir);
        return -1;
    }
    unlink(path);
    return fd;
}

/* ---- comparing sink ---- */

typedef struct cmp_state {
    mc_src orig;
    uint64_t pos;
    bool differ;
    uint64_t diff_at;
} cmp_state;

static bool cmp_write(mc_sink *k, const uint8_t *p, size_t n, mc_error **errp)
{
    cmp_state *c = k->opaque;
    while (n > 0) {
        size_t chunk = n < MC_SRC_BUFSIZE ? n : MC_SRC_BUFSIZE;
        const uint8_t *q;
        mc_error *err = NULL;
        if (!mc_src_peek(&c->orig, chunk, &q, &err)) {
            if (err->cls != MC_ERR_DATA) {
                mc_error_propagate(errp, err);
                return false;
            }
            mc_error_free(err);
            /* The original is shorter: compare what is left of it. */
            size_t left = mc_src_buffered(&c->orig);
            mc_src_peek(&c->orig, left, &q, NULL);
            size_t i = 0;
            while (i < left && q[i] == p[i]) {
                i++;
            }
            c->differ = true;
            c->diff_at = c->pos + i;
            mc_error_data(errp, c->diff_at, NULL,
                          "round trip differs from the original");
            return false;
        }
        if (memcmp(q, p, chunk) != 0) {
            size_t i = 0;
            while (q[i] == p[i]) {
                i++;
            }
            c->differ = true;
            c->diff_at = c->pos + i;
            mc_error_data(errp, c->diff_at, NULL,
                          "round trip differs from the original");
            return false;
        }
        mc_src_skip(&c->orig, chunk, NULL);
        c->pos += chunk;
        p += chunk;
        n -= chunk;
    }
    return true;
}

/* ---- locating the section around an offset ---- */

typedef struct locator {
    mc_visitor base;
    mc_src *src;
    uint64_t target;
    char where[300];
} locator;

static bool loc_section(mc_visitor *v, const mc_section_info *info,
                        mc_error **errp)
{
    locator *l = (locator *)v;
    if (mc_src_offset(l->src) > l->target) {
        mc_error_data(errp, MC_NO_OFFSET, NULL, "located");
        return false;
    }
    snprintf(l->where, sizeof(l->where), "%s section '%s'",
             mc_section_type_name(info->type), info->idstr ? info->idstr : "?");
    return true;
}

static bool loc_item(mc_visitor *v, const char *what, mc_error **errp)
{
    locator *l = (locator *)v;
    if (mc_src_offset(l->src) > l->target) {
        mc_error_data(errp, MC_NO_OFFSET, NULL, "located");
        return false;
    }
    snprintf(l->where, sizeof(l->where), "%s", what);
    return true;
}

static bool loc_stream(mc_visitor *v, const mc_stream_info *i, mc_error **e)
{
    return loc_item(v, "stream header", e);
}
static bool loc_end_section(mc_visitor *v, bool f, mc_error **e)
{
    return true;
}
static bool loc_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                    uint64_t raw, mc_error **e)
{
    return true;
}
static bool loc_bytes(mc_visitor *v, const mc_field *f, const uint8_t *d,
                      size_t n, mc_error **e)
{
    return true;
}
static bool loc_struct(mc_visitor *v, const mc_field *f, mc_error **e)
{
    return true;
}
static bool loc_end(mc_visitor *v, mc_error **e)
{
    return true;
}
static bool loc_array(mc_visitor *v, const mc_field *f, uint32_t n,
                      mc_error **e)
{
    return true;
}
static bool loc_sub(mc_visitor *v, const char *n, uint32_t ver, mc_error **e)
{
    return true;
}
static bool loc_ram(mc_visitor *v, const mc_ram_record *r, mc_error **e)
{
    return true;
}
static bool loc_cmd(mc_visitor *v, uint16_t c, const uint8_t *d, uint16_t n,
                    mc_error **e)
{
    return loc_item(v, "a command", e);
}
static bool loc_pkg(mc_visitor *v, uint32_t n, mc_error **e)
{
    return loc_item(v, "a package", e);
}
static bool loc_eof(mc_visitor *v, mc_error **e)
{
    return loc_item(v, "the end of the stream", e);
}
static bool loc_vmdesc(mc_visitor *v, const uint8_t *j, size_t n, mc_error **e)
{
    return loc_item(v, "the vmdesc", e);
}
static void loc_free(mc_visitor *v)
{
}

static const mc_visitor_ops locator_ops = {
    .start_stream = loc_stream,
    .start_section = loc_section,
    .end_section = loc_end_section,
    .visit_int = loc_int,
    .visit_bytes = loc_bytes,
    .start_struct = loc_struct,
    .end_struct = loc_end,
    .start_array = loc_array,
    .end_array = loc_end,
    .start_subsection = loc_sub,
    .end_subsection = loc_end,
    .ram_record = loc_ram,
    .command = loc_cmd,
    .start_packaged = loc_pkg,
    .end_packaged = loc_end,
    .eof = loc_eof,
    .vmdesc = loc_vmdesc,
    .free = loc_free,
};

static void locate(int fd, mc_format fmt, uint64_t target, char *where,
                   size_t n)
{
    snprintf(where, n, "?");
    if (lseek(fd, 0, SEEK_SET) != 0) {
        return;
    }
    locator l = {.base.ops = &locator_ops, .target = target};
    mc_src src;
    mc_src_init_fd(&src, fd);
    l.src = &src;
    mc_read_opts ro = {0};
    mc_error *err = NULL;
    if (fmt == MC_FORMAT_LEGACY) {
        mc_legacy_read(&src, &l.base, &ro, &err);
    } else {
        mc_ber_read(&src, &l.base, &ro, &err);
    }
    mc_error_free(err);
    mc_src_cleanup(&src);
    snprintf(where, n, "%s", l.where[0] ? l.where : "?");
}

/* ---- one input ---- */

static bool run(mc_format fmt, mc_src *src, mc_sink *sink, bool names,
                const mc_cli_common *c, mc_tables *tables, const char *name,
                mc_error **errp)
{
    mc_visitor *v;
    if (fmt == MC_FORMAT_LEGACY) {
        mc_ber_writer_opts bo = {.names = names};
        v = mc_ber_writer_new(sink, &bo);
    } else {
        v = mc_legacy_writer_new(sink);
    }
    mc_read_opts ro = {
        .tables = tables,
        .tail_cap = c->tail_cap,
        .vmdesc_limit = c->vmdesc_limit,
        .warn = c->quiet ? NULL : mc_cli_warn,
        .warn_opaque = (void *)name,
    };
    bool ok = (fmt == MC_FORMAT_LEGACY ? mc_legacy_read(src, v, &ro, errp)
                                       : mc_ber_read(src, v, &ro, errp)) &&
              mc_visitor_complete(v, errp);
    mc_visitor_free(v);
    return ok;
}

/*
 * Whether a BER stream was written with field names: the last element of
 * its StreamHeader, BOOLEAN names (asn1/migconv.asn).  The header is at the
 * start: 60 80 30 LEN ... 01 01 XX.
 */
static bool ber_has_names(mc_src *src)
{
    const uint8_t *p;
    if (!mc_src_peek(src, 4, &p, NULL) || p[2] != 0x30 || p[3] > 0x7f ||
        !mc_src_peek(src, 4 + (size_t)p[3], &p, NULL)) {
        return true;
    }
    const uint8_t *end = p + 4 + p[3];
    return !(p[3] >= 3 && end[-3] == 0x01 && end[-2] == 0x01 && end[-1] == 0);
}

/* Copy a pipe to an unlinked temporary file so it can be read twice. */
static int spool(mc_input *in, mc_error **errp)
{
    int fd = temp_fd(errp);
    if (fd < 0) {
        return -1;
    }
    char tname[4200];
    snprintf(tname, sizeof(tname), TEMP_FILE_NAME, temp_dir());
    mc_sink k;
    mc_sink_init_fd(&k, fd);
    k.name = tname;
    for (;;) {
        size_t n = mc_src_buffered(&in->src);
        const uint8_t *p;
        if (n == 0) {
            bool at_end;
            if (!mc_src_at_end(&in->src, &at_end, errp)) {
                goto fail;
            }
            if (at_end) {
                break;
            }
            n = mc_src_buffered(&in->src);
        }
        if (!mc_src_take(&in->src, n, &p, errp) ||
            !mc_sink_write(&k, p, n, errp)) {
            goto fail;
        }
    }
    if (!mc_sink_flush(&k, errp)) {
        goto fail;
    }
    mc_sink_cleanup(&k);
    return fd;
fail:
    mc_sink_cleanup(&k);
    close(fd);
    return -1;
}

static int verify_one(const char *path, const mc_cli_common *c,
                      mc_tables *tables)
{
    mc_error *err = NULL;
    mc_input in;
    if (!mc_input_open(&in, path, c, &err)) {
        return mc_cli_report(strcmp(path, "-") ? path : "(stdin)", err);
    }
    const char *name = in.name;
    if (in.format == MC_FORMAT_UNKNOWN) {
        mc_error_data(&err, 0, NULL, "not a QEMU migration stream or BER");
        mc_input_close(&in);
        return mc_cli_report(name, err);
    }
    mc_format fmt = in.format;
    bool names = fmt == MC_FORMAT_BER ? ber_has_names(&in.src) : true;
    mc_format other = fmt == MC_FORMAT_LEGACY ? MC_FORMAT_BER : MC_FORMAT_LEGACY;
    int code = 0;
    int orig_fd = in.fd;
    int spooled = -1;
    if (in.size == 0) {
        spooled = spool(&in, &err);
        if (spooled < 0) {
            mc_input_close(&in);
            return mc_cli_report(name, err);
        }
        orig_fd = spooled;
        mc_src_cleanup(&in.src);
        lseek(orig_fd, 0, SEEK_SET);
        mc_src_init_fd(&in.src, orig_fd);
        in.src.progress = in.progress ? mc_progress_update : NULL;
        in.src.progress_opaque = in.progress;
    }
    int mid = temp_fd(&err);
    if (mid < 0) {
        code = mc_cli_report(name, err);
        goto out;
    }
    /* Pass 1: to the other format. */
    char tname[4200];
    snprintf(tname, sizeof(tname), TEMP_FILE_NAME, temp_dir());
    mc_sink k;
    mc_sink_init_fd(&k, mid);
    k.name = tname;
    bool ok = run(fmt, &in.src, &k, names, c, tables, name, &err) &&
              mc_sink_flush(&k, &err);
    uint64_t mid_size = k.written;
    mc_sink_cleanup(&k);
    if (!ok) {
        code = mc_cli_report(name, err);
        goto out;
    }
    /* Pass 2: back, comparing with the original as it is written. */
    cmp_state cs = {0};
    if (lseek(mid, 0, SEEK_SET) != 0 || lseek(orig_fd, 0, SEEK_SET) != 0) {
        mc_error_set_errno(&err, errno, "cannot rewind");
        code = mc_cli_report(name, err);
        goto out;
    }
    mc_src_init_fd(&cs.orig, orig_fd);
    mc_src back;
    mc_src_init_fd(&back, mid);
    mc_sink_init_fn(&k, cmp_write, &cs);
    ok = run(other, &back, &k, names, c, tables, name, &err) &&
         mc_sink_flush(&k, &err);
    mc_sink_cleanup(&k);
    mc_src_cleanup(&back);
    bool extra = false;
    if (ok) {
        bool at_end;
        ok = mc_src_at_end(&cs.orig, &at_end, &err);
        if (ok && !at_end) {
            cs.differ = true;
            cs.diff_at = cs.pos;
            extra = true;
            ok = false;
        }
    }
    mc_src_cleanup(&cs.orig);
    if (!ok && cs.differ) {
        char where[300];
        locate(orig_fd, fmt, cs.diff_at, where, sizeof(where));
        mc_error_free(err);
        err = NULL;
        mc_error_data(&err, cs.diff_at, NULL,
                      "%s (near %s)",
                      extra ? "round trip ends early" :
                              "round trip differs from the original",
                      where);
        code = mc_cli_report(name, err);
    } else if (!ok) {
        mc_error_prepend(&err, fmt == MC_FORMAT_LEGACY
                                   ? "reading back the BER"
                                   : "reading back the legacy stream");
        code = mc_cli_report(name, err);
    } else {
        printf("%s: OK (%s, %llu bytes; %s %llu bytes)\n", name,
               mc_format_name(fmt), (unsigned long long)cs.pos,
               mc_format_name(other), (unsigned long long)mid_size);
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

int mc_cmd_verify(int argc, char **argv)
{
    mc_cli_common c = {.progress = -1};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {NULL, 0, NULL, 0},
    };
    int opt, code = 0;
    while ((opt = getopt_long(argc, argv, MC_CLI_COMMON_SHORT, longopts,
                              NULL)) != -1) {
        if (mc_cli_common_opt(&c, opt, optarg, "verify", &code)) {
            if (code) {
                return code;
            }
            continue;
        }
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        return mc_cli_usage_error("verify", "invalid option");
    }
    if (argc - optind < 1) {
        return mc_cli_usage_error("verify", "expected at least one input");
    }
    mc_error *err = NULL;
    mc_tables *tables = NULL;
    if (!mc_cli_tables(&c, &tables, &err)) {
        return mc_cli_report(c.tables_path, err);
    }
    int worst = 0;
    for (int i = optind; i < argc; i++) {
        int r = verify_one(argv[i], &c, tables);
        if (r > worst) {
            worst = r;
        }
    }
    mc_tables_free(tables);
    return worst;
}
