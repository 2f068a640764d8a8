/*
 * What every command does with its command line and its files: the option
 * loop (the common options, -h/--help, the command's own options through
 * its callback, "invalid option"), the count of operands, opening the input
 * with a stream format checked, and opening the output; each error printed
 * as the commands always printed it, the result the exit code.
 */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/pipeline.h"

int mc_cli_parse(const mc_cli_cmdline *l, int argc, char **argv,
                 mc_cli_common *c)
{
    const char *shortopts = l->shortopts ? l->shortopts : MC_CLI_COMMON_SHORT;
    int opt, code = 0;
    while ((opt = getopt_long(argc, argv, shortopts, l->longopts, NULL)) !=
           -1) {
        if (mc_cli_common_opt(c, opt, optarg, l->cmd, &code)) {
            if (code) {
                return code;
            }
            continue;
        }
        if (opt == 'h') {
            l->usage(l->opaque, stdout);
            return 0;
        }
        code = -1;
        if (!l->opt || !l->opt(l->opaque, opt, optarg, &code)) {
            return mc_cli_usage_error(l->cmd, "invalid option");
        }
        if (code >= 0) {
            return code;
        }
        code = 0;
    }
    int n = argc - optind;
    if (l->args_msg &&
        (n < l->min_args || (l->max_args >= 0 && n > l->max_args))) {
        return mc_cli_usage_error(l->cmd, "%s", l->args_msg);
    }
    if (l->run && (code = mc_run_init(l->run, c)) != 0) {
        return code;
    }
    return MC_CLI_GO;
}

int mc_cli_open_stream(mc_input *in, const char *path,
                       const mc_cli_common *c)
{
    mc_error *err = NULL;
    if (!mc_input_open(in, path, c, &err)) {
        return mc_cli_report(strcmp(path, "-") ? path : "(stdin)", err);
    }
    if (!in->fmt) {
        mc_error_data(&err, 0, NULL, "not a QEMU migration stream or BER");
        mc_error_set_side(&err, MC_SIDE_INPUT);
        int code = mc_run_report(in, in->name, NULL, err);
        mc_input_close(in);
        return code;
    }
    return 0;
}

int mc_cli_open_output(mc_output *out, const char *path, bool binary,
                       const mc_cli_common *c, const mc_input *in)
{
    mc_error *err = NULL;
    if (!mc_output_open(out, path, binary, c, in, &err)) {
        return mc_cli_report(strcmp(path, "-") ? path : "(stdout)", err);
    }
    return 0;
}

bool mc_cli_output_end(mc_output *out, bool ok, mc_error **errp)
{
    if (!ok) {
        mc_output_abort(out);
        return false;
    }
    if (!mc_output_commit(out, errp)) {
        mc_error_set_side(errp, MC_SIDE_OUTPUT);
        return false;
    }
    return true;
}
