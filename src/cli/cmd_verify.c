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
    mc_run run;
    if ((code = mc_run_init(&run, &c)) != 0) {
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
