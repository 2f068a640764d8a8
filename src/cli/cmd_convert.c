/* legacy-to-ber and ber-to-legacy */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "visit/visitors.h"

static void usage(const char *cmd, FILE *f)
{
    fprintf(f,
"Usage: migconv %s [OPTIONS] IN OUT\n"
"Convert %s.  IN and OUT may be '-' (stdin, stdout).\n"
"OUT appears only once it is complete: it is written as an unnamed file in\n"
"its directory (or a hidden temporary file) and linked into place.\n"
"\n"
"Options:\n"
"  -f, --force          overwrite OUT if it exists\n"
"%s"
"      --progress       show progress on stderr even if it is not a terminal\n"
"      --no-progress    never show progress\n"
"  -q, --quiet          no progress and no warnings\n"
"      --sync           fsync OUT and its directory before exiting with 0\n"
"      --buffer-limit N device state buffered while looking for the\n"
"                       vmdesc (K/M/G/T suffixes, at most 1T; default 64M)\n"
"      --tables FILE    descriptor tables for device sections that no\n"
"                       vmdesc describes (see migconv tables)\n"
"      --vmdesc-limit N largest vmdesc read, at most N/3 JSON units\n"
"                       (default 16M)\n"
"      --tables-limit N largest --tables file read (default 16M)\n"
"  -h, --help           show this help\n",
            cmd,
            strcmp(cmd, "legacy-to-ber") == 0
                ? "a legacy QEMU migration stream to BER"
                : "a BER stream back to the legacy QEMU stream",
            strcmp(cmd, "legacy-to-ber") == 0
                ? "      --no-names       leave field names and types out of the BER\n"
                : "      --validate       check every BER record against the schema\n"
                  "                       with libtasn1 while converting\n");
}

int mc_cmd_convert(int argc, char **argv, mc_format from)
{
    const char *cmd = from == MC_FORMAT_LEGACY ? "legacy-to-ber" : "ber-to-legacy";
    mc_cli_common c = {.progress = -1};
    bool names = true, validate = false;
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        MC_CLI_OUTPUT_LONG,
        {"no-names", no_argument, NULL, MC_OPT_NO_NAMES},
        {"validate", no_argument, NULL, MC_OPT_VALIDATE},
        {NULL, 0, NULL, 0},
    };
    int opt, code = 0;
    while ((opt = getopt_long(argc, argv, MC_CLI_COMMON_SHORT, longopts,
                              NULL)) != -1) {
        if (mc_cli_common_opt(&c, opt, optarg, cmd, &code)) {
            if (code) {
                return code;
            }
            continue;
        }
        if (opt == 'h') {
            usage(cmd, stdout);
            return 0;
        } else if (opt == MC_OPT_NO_NAMES && from == MC_FORMAT_LEGACY) {
            names = false;
        } else if (opt == MC_OPT_VALIDATE && from == MC_FORMAT_BER) {
            validate = true;
        } else if (opt == MC_OPT_NO_NAMES || opt == MC_OPT_VALIDATE) {
            return mc_cli_usage_error(cmd, "option '%s' does not apply to %s",
                                      argv[optind - 1], cmd);
        } else {
            return mc_cli_usage_error(cmd, "invalid option");
        }
    }
    if (argc - optind != 2) {
        return mc_cli_usage_error(cmd, "expected IN and OUT");
    }
    const char *inpath = argv[optind], *outpath = argv[optind + 1];
    mc_error *err = NULL;
    mc_input in;
    if (!mc_input_open(&in, inpath, &c, &err)) {
        return mc_cli_report(strcmp(inpath, "-") ? inpath : "(stdin)", err);
    }
    if (in.format != from) {
        mc_error_data(&err, 0, NULL, "this is %s, not %s input (use %s)",
                      in.format == MC_FORMAT_UNKNOWN ? "not a migration stream"
                                                     : mc_format_name(in.format),
                      mc_format_name(from),
                      in.format == MC_FORMAT_BER      ? "ber-to-legacy"
                      : in.format == MC_FORMAT_LEGACY ? "legacy-to-ber"
                                                      : "a QEMU stream or BER");
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
    mc_visitor *v;
    if (from == MC_FORMAT_LEGACY) {
        mc_ber_writer_opts bo = {.names = names};
        v = mc_ber_writer_new(&out.sink, &bo);
    } else {
        v = mc_legacy_writer_new(&out.sink);
    }
    bool ok = mc_cli_read(&in, from, v, &c, validate, &err);
    mc_visitor_free(v);
    const char *errfile = in.name;
    if (ok) {
        errfile = out.name;
        ok = mc_output_commit(&out, &err);
    } else {
        /* A write failure is reported against the output. */
        if (err && err->cls == MC_ERR_IO && err->offset == MC_NO_OFFSET &&
            strstr(err->msg, "write")) {
            errfile = out.name;
        }
        mc_output_abort(&out);
    }
    mc_input_close(&in);
    return ok ? 0 : mc_cli_report(errfile, err);
}
