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

static void usage(FILE *f)
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
    int opt, code = 0;
    while ((opt = getopt_long(argc, argv, MC_CLI_COMMON_SHORT, longopts,
                              NULL)) != -1) {
        if (mc_cli_common_opt(&c, opt, optarg, "normalize", &code)) {
            if (code) {
                return code;
            }
            continue;
        }
        if (opt == 'h') {
            usage(stdout);
            return 0;
        } else if (opt == OPT_SQUASH) {
            no.squash = true;
        } else if (opt == OPT_MAPPED_RAM) {
            no.mapped_ram = true;
        } else {
            return mc_cli_usage_error("normalize", "invalid option");
        }
    }
    if (argc - optind != 2) {
        return mc_cli_usage_error("normalize", "expected IN and OUT");
    }
    if (no.squash && no.mapped_ram) {
        return mc_cli_usage_error("normalize", "--squash and --mapped-ram "
                                  "exclude each other (a mapped-ram file "
                                  "holds each page once anyway)");
    }
    const char *inpath = argv[optind], *outpath = argv[optind + 1];
    mc_error *err = NULL;
    mc_input in;
    if (!mc_input_open(&in, inpath, &c, &err)) {
        return mc_cli_report(strcmp(inpath, "-") ? inpath : "(stdin)", err);
    }
    if (!in.fmt) {
        mc_error_data(&err, 0, NULL, "not a QEMU migration stream or BER");
        code = mc_cli_report(in.name, err);
        mc_input_close(&in);
        return code;
    }
    mc_output out;
    if (!mc_output_open(&out, outpath, true, &c, &in, &err)) {
        code = mc_cli_report(strcmp(outpath, "-") ? outpath : "(stdout)", err);
        mc_input_close(&in);
        return code;
    }
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
    bool ok = mc_cli_read(&in, in.format, v, &c, false, &err);
    mc_visitor_free(v);
    const char *errfile = in.name;
    if (ok) {
        errfile = out.name;
        ok = mc_output_commit(&out, &err);
    } else {
        if (err && err->cls == MC_ERR_IO && err->offset == MC_NO_OFFSET &&
            strstr(err->msg, "write")) {
            errfile = out.name;
        }
        mc_output_abort(&out);
    }
    mc_input_close(&in);
    return ok ? 0 : mc_cli_report(errfile, err);
}
