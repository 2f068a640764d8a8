/* dump: a stream (legacy or BER) as JSON on stdout */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/pipeline.h"

static void usage(FILE *f)
{
    fprintf(f,
"Usage: migconv dump [OPTIONS] IN\n"
"Print a migration stream, legacy or BER (detected), as JSON on stdout:\n"
"header, configuration, every section with its fields by name and typed\n"
"values, subsections, commands, and a per-block RAM summary.\n"
"\n"
"Options:\n"
"      --ram-records    list every RAM record, not only the summary\n"
"      --validate       BER input: check every record against the schema\n"
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE:\n"
"                       as for legacy-to-ber\n"
"  -h, --help           show this help\n");
}

int mc_cmd_dump(int argc, char **argv)
{
    mc_cli_common c = {.progress = -1};
    mc_json_opts jo = {0};
    bool validate = false;
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"ram-records", no_argument, NULL, MC_OPT_RAM_RECORDS},
        {"validate", no_argument, NULL, MC_OPT_VALIDATE},
        {NULL, 0, NULL, 0},
    };
    int opt, code = 0;
    while ((opt = getopt_long(argc, argv, MC_CLI_COMMON_SHORT, longopts,
                              NULL)) != -1) {
        if (mc_cli_common_opt(&c, opt, optarg, "dump", &code)) {
            if (code) {
                return code;
            }
            continue;
        }
        if (opt == 'h') {
            usage(stdout);
            return 0;
        } else if (opt == MC_OPT_RAM_RECORDS) {
            jo.ram_records = true;
        } else if (opt == MC_OPT_VALIDATE) {
            validate = true;
        } else {
            return mc_cli_usage_error("dump", "invalid option");
        }
    }
    if (argc - optind != 1) {
        return mc_cli_usage_error("dump", "expected one input");
    }
    mc_run run;
    if ((code = mc_run_init(&run, &c)) != 0) {
        return code;
    }
    code = mc_dump_one(&run, &jo, validate, argv[optind]);
    mc_run_cleanup(&run);
    return code;
}
