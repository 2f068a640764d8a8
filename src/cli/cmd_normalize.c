/* normalize: the same VM state with RAM as plain pages */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "visit/normalize.h"
#include "visit/visitors.h"

enum { OPT_SQUASH = 0x200, OPT_MAPPED_RAM };

static void usage(const void *opaque, FILE *f)
{
    fprintf(f,
"Usage: migconv normalize [OPTIONS] IN OUT\n"
"Write the VM state of IN (legacy or BER, detected) as a legacy stream that\n"
"any QEMU loads without the source's RAM capabilities: XBZRLE and\n"
"COMPRESS_PAGE records become PAGE records with the decoded page, in the\n"
"same place; everything else is copied unchanged.  A mapped-ram file becomes\n"
"a sequential stream (all blocks in one MEM_SIZE record, then the pages its\n"
"bitmaps mark; the capability leaves the configuration).  IN and OUT may be\n"
"'-'.\n"
"OUT is written to a temporary file beside it and renamed on success.\n"
"Page contents are kept in unlinked temporary files in TMPDIR.\n"
"\n"
"Options:\n"
"      --squash         send each page once, with its final content, in the\n"
"                       last RAM section (ZERO when uniform, else PAGE)\n"
"      --mapped-ram     write a mapped-ram file (QEMU >= 9.0 loads it with\n"
"                       mapped-ram on and migrate-incoming file:OUT): every\n"
"                       page at its fixed offset, OUT a named regular file\n"
"  -f, --force          overwrite OUT if it exists\n"
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE:\n"
"                       as for legacy-to-ber\n"
"  -h, --help           show this help\n");
}

static bool normalize_opt(void *opaque, int opt, const char *arg,
                          int *exit_code)
{
    mc_normalize_opts *no = opaque;
    if (opt == OPT_SQUASH) {
        no->squash = true;
    } else if (opt == OPT_MAPPED_RAM) {
        no->mapped_ram = true;
    } else {
        return false;
    }
    return true;
}

int mc_cmd_normalize(int argc, char **argv)
{
    mc_cli_common c = {.progress = -1};
    mc_normalize_opts no = {0};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"squash", no_argument, NULL, OPT_SQUASH},
        {"mapped-ram", no_argument, NULL, OPT_MAPPED_RAM},
        {NULL, 0, NULL, 0},
    };
    const mc_cli_cmdline l = {
        .cmd = "normalize", .longopts = longopts, .usage = usage,
        .opt = normalize_opt, .opaque = &no,
        .min_args = 2, .max_args = 2, .args_msg = "expected IN and OUT",
    };
    int code = mc_cli_parse(&l, argc, argv, &c);
    if (code != MC_CLI_GO) {
        return code;
    }
    if (no.squash && no.mapped_ram) {
        return mc_cli_usage_error("normalize", "--squash and --mapped-ram "
                                  "exclude each other (a mapped-ram file "
                                  "holds each page once anyway)");
    }
    const char *inpath = argv[optind], *outpath = argv[optind + 1];
    mc_input in;
    if ((code = mc_cli_open_stream(&in, inpath, &c)) != 0) {
        return code;
    }
    mc_output out;
    if ((code = mc_cli_open_output(&out, outpath, true, &c, &in)) != 0) {
        mc_input_close(&in);
        return code;
    }
    mc_error *err = NULL;
    struct stat st;
    if (no.mapped_ram && (strcmp(outpath, "-") == 0 ||
                          fstat(out.fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        mc_error_set(&err, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "--mapped-ram needs a named regular file as OUT (its "
                     "pages are written at fixed offsets)");
        mc_output_abort(&out);
        mc_input_close(&in);
        return mc_cli_report(out.name, err);
    }
    no.out_fd = out.fd;
    no.out_sink = &out.sink;
    const char *tmpdir = getenv("TMPDIR");
    no.tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp";
    no.src = in.src;
    /* pages are read back from the input file instead of copied: only for
     * a regular file read from its start, with no layer in between */
    no.src_fd = -1;
    if (strcmp(inpath, "-") != 0 && mc_src_file_size(in.src) != UINT64_MAX) {
        no.src_fd = mc_src_fd(in.src);
    }
    mc_visitor *v = mc_normalize_visitor_new(&no,
                                             mc_legacy_writer_new(&out.sink));
    bool read_ok = mc_cli_read(&in, in.format, v, &c, false, &err);
    mc_visitor_free(v);
    /* After a failed read, a failed write is the output's. */
    const char *errfile =
        read_ok || (err && err->cls == MC_ERR_IO &&
                    err->offset == MC_NO_OFFSET && strstr(err->msg, "write"))
            ? out.name
            : in.name;
    bool ok = mc_cli_output_end(&out, read_ok, &err);
    mc_input_close(&in);
    return ok ? 0 : mc_cli_report(errfile, err);
}
