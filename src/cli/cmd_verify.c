/*
 * verify: convert each input to the other format and back, and compare the
 * result with the original byte for byte (mc_verify_one, cli/pipeline.c).
 * Both passes stream: the intermediate goes to an unlinked temporary file
 * and the second pass compares while it writes, so memory stays bounded
 * for any input size.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/pipeline.h"

static void usage(const void *opaque, FILE *f)
{
    fprintf(f,
"Usage: migconv verify [OPTIONS] IN...\n"
"For each input, convert legacy->BER->legacy (or BER->legacy->BER for BER\n"
"input) and compare the result with the original.  Prints one line per\n"
"input; the exit status is 0 only if every input came back identical.\n"
"\n"
"Options:\n"
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE,\n"
"      --vmdesc-limit N, --tables-limit N, --qemu-version V:\n"
"                       as for legacy-to-ber\n"
"      --snapshot NAME|ID: as for legacy-to-ber (a container's stream is\n"
"                       verified, not the container)\n"
"  -h, --help           show this help\n");
}

int mc_cmd_verify(int argc, char **argv)
{
    mc_cli_common c = {.progress = -1};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {NULL, 0, NULL, 0},
    };
    mc_run run;
    const mc_cli_cmdline l = {
        .cmd = "verify", .longopts = longopts, .usage = usage,
        .min_args = 1, .max_args = -1,
        .args_msg = "expected at least one input", .run = &run,
    };
    int code = mc_cli_parse(&l, argc, argv, &c);
    if (code != MC_CLI_GO) {
        return code;
    }
    int worst = 0;
    for (int i = optind; i < argc; i++) {
        int r = mc_verify_one(&run, argv[i]);
        if (r > worst) {
            worst = r;
        }
    }
    mc_run_cleanup(&run);
    return worst;
}
