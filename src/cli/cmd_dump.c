/* dump: a stream (legacy or BER) as JSON on stdout */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* dump --vmdesc: only the vmdesc JSON on stdout. */
static int dump_vmdesc(const mc_run *run, bool validate, const char *inpath)
{
    mc_input in;
    int code = mc_cli_open_stream(&in, inpath, run->c);
    if (code) {
        return code;
    }
    mc_error *err = NULL;
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

typedef struct dump_args {
    mc_json_opts jo;
    bool validate, vmdesc;
} dump_args;

static bool dump_opt(void *opaque, int opt, const char *arg, int *exit_code)
{
    dump_args *a = opaque;
    if (opt == MC_OPT_RAM_RECORDS) {
        a->jo.ram_records = true;
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
    dump_args a = {0};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"ram-records", no_argument, NULL, MC_OPT_RAM_RECORDS},
        {"validate", no_argument, NULL, MC_OPT_VALIDATE},
        {"vmdesc", no_argument, NULL, MC_OPT_VMDESC},
        {NULL, 0, NULL, 0},
    };
    const mc_cli_cmdline l = {
        .cmd = "dump", .longopts = longopts, .usage = usage,
        .opt = dump_opt, .opaque = &a,
        .min_args = 1, .max_args = 1, .args_msg = "expected one input",
    };
    int code = mc_cli_parse(&l, argc, argv, &c);
    if (code != MC_CLI_GO) {
        return code;
    }
    mc_run run;
    if ((code = mc_run_init(&run, &c)) != 0) {
        return code;
    }
    code = a.vmdesc ? dump_vmdesc(&run, a.validate, argv[optind])
                    : mc_dump_one(&run, &a.jo, a.validate, argv[optind]);
    mc_run_cleanup(&run);
    return code;
}
