/* legacy-to-ber and ber-to-legacy */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/pipeline.h"

typedef struct convert_args {
    const char *cmd;
    mc_format from;
    char **argv;
    bool names, validate;
} convert_args;

static void usage(const void *opaque, FILE *f)
{
    const char *cmd = ((const convert_args *)opaque)->cmd;
    fprintf(f,
"Usage: migconv %s [OPTIONS] IN OUT\n"
"Convert %s.  IN and OUT may be '-' (stdin, stdout).\n"
"OUT appears only once it is complete: it is written as an unnamed file in\n"
"its directory (or a hidden temporary file) and linked into place.\n"
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
"      --sync           fsync OUT and its directory before exiting with 0\n"
"      --buffer-limit N device state buffered while looking for the\n"
"                       vmdesc (K/M/G/T suffixes, at most 1T; default 64M)\n"
"      --tables FILE    descriptor tables for device sections that no\n"
"                       vmdesc describes (see migconv tables), tried before\n"
"                       the built-in ones\n"
"      --vmdesc-limit N largest vmdesc read, at most N/3 JSON units\n"
"                       (default 16M)\n"
"      --tables-limit N largest --tables file read (default 16M)\n"
"      --qemu-version V use only QEMU V's built-in tables (5.2, 7.2, 10.0,\n"
"                       11.1); default: chosen by the machine type\n"
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

static bool convert_opt(void *opaque, int opt, const char *arg,
                        int *exit_code)
{
    convert_args *a = opaque;
    if (opt == MC_OPT_NO_NAMES && a->from == MC_FORMAT_LEGACY) {
        a->names = false;
    } else if (opt == MC_OPT_VALIDATE && a->from == MC_FORMAT_BER) {
        a->validate = true;
    } else if (opt == MC_OPT_NO_NAMES || opt == MC_OPT_VALIDATE) {
        *exit_code = mc_cli_usage_error(a->cmd,
                                        "option '%s' does not apply to %s",
                                        a->argv[optind - 1], a->cmd);
    } else {
        return false;
    }
    return true;
}

int mc_cmd_convert(int argc, char **argv, mc_format from)
{
    const char *cmd = from == MC_FORMAT_LEGACY ? "legacy-to-ber" : "ber-to-legacy";
    mc_cli_common c = {.progress = -1};
    convert_args a = {.cmd = cmd, .from = from, .argv = argv, .names = true};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        MC_CLI_OUTPUT_LONG,
        {"no-names", no_argument, NULL, MC_OPT_NO_NAMES},
        {"validate", no_argument, NULL, MC_OPT_VALIDATE},
        {NULL, 0, NULL, 0},
    };
    mc_run run;
    const mc_cli_cmdline l = {
        .cmd = cmd, .longopts = longopts, .usage = usage, .opt = convert_opt,
        .opaque = &a, .min_args = 2, .max_args = 2,
        .args_msg = "expected IN and OUT", .run = &run,
    };
    int code = mc_cli_parse(&l, argc, argv, &c);
    if (code != MC_CLI_GO) {
        return code;
    }
    mc_convert_opts o = {
        .from = from,
        .write = {.names = a.names},
        .validate = a.validate,
    };
    code = mc_convert_one(&run, &o, argv[optind], argv[optind + 1]);
    mc_run_cleanup(&run);
    return code;
}
