/* dump: a stream (legacy or BER) as JSON on stdout */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "visit/visitors.h"

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
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE,\n"
"      --vmdesc-limit N, --tables-limit N:\n"
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
    const char *inpath = argv[optind];
    mc_error *err = NULL;
    mc_input in;
    if (!mc_input_open(&in, inpath, &c, &err)) {
        return mc_cli_report(strcmp(inpath, "-") ? inpath : "(stdin)", err);
    }
    if (in.format == MC_FORMAT_UNKNOWN) {
        mc_error_data(&err, 0, NULL, "not a QEMU migration stream or BER");
        code = mc_cli_report(in.name, err);
        mc_input_close(&in);
        return code;
    }
    mc_sink sink;
    mc_sink_init_fd(&sink, STDOUT_FILENO);
    sink.name = "(stdout)";
    mc_visitor *v = mc_json_visitor_new(&sink, &jo);
    bool ok = mc_cli_read(&in, in.format, v, &c, validate, &err);
    mc_visitor_free(v);
    if (!ok) {
        /* Whatever JSON was written is incomplete; end the line so the
         * message is not glued to it. */
        mc_sink_flush(&sink, NULL);
    }
    mc_sink_cleanup(&sink);
    mc_input_close(&in);
    return ok ? 0 : mc_cli_report(in.name, err);
}
