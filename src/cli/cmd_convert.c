/* legacy-to-ber and ber-to-legacy */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/pipeline.h"

static void usage(const char *cmd, FILE *f)
{
    fprintf(f,
"Usage: migconv %s [OPTIONS] IN OUT\n"
"Convert %s.  IN and OUT may be '-' (stdin, stdout).\n"
"OUT is written to a temporary file beside it and renamed on success.\n"
"IN may also be a libvirt save image, a gzip/bzip2/xz/zstd/lzop file, or a\n"
"qcow2 image with --snapshot; the BER keeps the container and the bytes\n"
"after the vmdesc, and ber-to-legacy rebuilds them.\n"
"\n"
"Options:\n"
"  -f, --force          overwrite OUT if it exists\n"
"%s"
"      --progress       show progress on stderr even if it is not a terminal\n"
"      --no-progress    never show progress\n"
"  -q, --quiet          no progress and no warnings\n"
"      --buffer-limit N device state buffered while looking for the\n"
"                       vmdesc (K/M/G suffixes; default 64M)\n"
"      --tables FILE    descriptor tables for device sections that no\n"
"                       vmdesc describes (see migconv tables)\n"
"      --snapshot NAME|ID  the qcow2 internal snapshot whose vmstate to read\n"
"      --drop-trailer   leave out the bytes that follow the stream's vmdesc\n"
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
    mc_run run;
    if ((code = mc_run_init(&run, &c)) != 0) {
        return code;
    }
    mc_convert_opts o = {
        .from = from,
        .write = {.names = names},
        .validate = validate,
    };
    code = mc_convert_one(&run, &o, argv[optind], argv[optind + 1]);
    mc_run_cleanup(&run);
    return code;
}
