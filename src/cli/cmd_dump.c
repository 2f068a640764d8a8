/* dump: a stream (legacy or BER) as JSON on stdout */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/pipeline.h"

static void usage(const void *opaque, FILE *f)
{
    fprintf(f,
"Usage: migconv dump [OPTIONS] IN\n"
"Print a migration stream, legacy or BER (detected), as JSON on stdout:\n"
"header, configuration, every section with its fields by name and typed\n"
"values, subsections, commands, and a per-block RAM summary.\n"
"\n"
"Options:\n"
"      --ram-records    list every RAM record, not only the summary\n"
"      --vmdesc         print only the vmdesc JSON, as the stream holds it\n"
"      --validate       BER input: check every record against the schema\n"
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE,\n"
"      --vmdesc-limit N, --tables-limit N, --qemu-version V,\n"
"      --snapshot NAME|ID: as for legacy-to-ber\n"
"  -h, --help           show this help\n");
}

static bool dump_opt(void *opaque, int opt, const char *arg, int *exit_code)
{
    mc_dump_opts *a = opaque;
    if (opt == MC_OPT_RAM_RECORDS) {
        a->json.ram_records = true;
    } else if (opt == MC_OPT_VALIDATE) {
        a->validate = true;
    } else if (opt == MC_OPT_VMDESC) {
        a->vmdesc = true;
    } else {
        return false;
    }
    return true;
}

int mc_cmd_dump(int argc, char **argv)
{
    mc_cli_common c = {.progress = -1};
    mc_dump_opts a = {0};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"ram-records", no_argument, NULL, MC_OPT_RAM_RECORDS},
        {"validate", no_argument, NULL, MC_OPT_VALIDATE},
        {"vmdesc", no_argument, NULL, MC_OPT_VMDESC},
        {NULL, 0, NULL, 0},
    };
    mc_run run;
    const mc_cli_cmdline l = {
        .cmd = "dump", .longopts = longopts, .usage = usage,
        .opt = dump_opt, .opaque = &a,
        .min_args = 1, .max_args = 1, .args_msg = "expected one input",
        .run = &run,
    };
    int code = mc_cli_parse(&l, argc, argv, &c);
    if (code != MC_CLI_GO) {
        return code;
    }
    code = mc_dump_one(&run, &a, argv[optind]);
    mc_run_cleanup(&run);
    return code;
}
