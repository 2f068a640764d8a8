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
"      --vmdesc         print only the vmdesc JSON, as the stream holds it\n"
"      --validate       BER input: check every record against the schema\n"
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE,\n"
"      --snapshot NAME|ID: as for legacy-to-ber\n"
"  -h, --help           show this help\n");
}

/* dump --vmdesc: only the vmdesc JSON on stdout. */
static int dump_vmdesc(const mc_run *run, bool validate, const char *inpath)
{
    mc_error *err = NULL;
    mc_input in;
    if (!mc_input_open(&in, inpath, run->c, &err)) {
        return mc_cli_report(strcmp(inpath, "-") ? inpath : "(stdin)", err);
    }
    int code;
    if (!in.fmt) {
        mc_error_data(&err, 0, NULL, "not a QEMU migration stream or BER");
        code = mc_run_report(&in, in.name, NULL, err);
        mc_input_close(&in);
        return code;
    }
    mc_sink sink;
    mc_sink_init_fd(&sink, STDOUT_FILENO);
    mc_visitor *v = mc_vmdesc_visitor_new(&sink);
    bool ok = mc_run_read(run, &in, in.fmt, v, validate, &err);
    mc_visitor_free(v);
    mc_sink_cleanup(&sink);
    code = ok ? 0 : mc_run_report(&in, in.name, "(stdout)", err);
    mc_input_close(&in);
    return code;
}

int mc_cmd_dump(int argc, char **argv)
{
    mc_cli_common c = {.progress = -1};
    mc_json_opts jo = {0};
    bool validate = false, vmdesc = false;
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"ram-records", no_argument, NULL, MC_OPT_RAM_RECORDS},
        {"validate", no_argument, NULL, MC_OPT_VALIDATE},
        {"vmdesc", no_argument, NULL, MC_OPT_VMDESC},
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
        } else if (opt == MC_OPT_VMDESC) {
            vmdesc = true;
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
    code = vmdesc ? dump_vmdesc(&run, validate, argv[optind])
                  : mc_dump_one(&run, &jo, validate, argv[optind]);
    mc_run_cleanup(&run);
    return code;
}
