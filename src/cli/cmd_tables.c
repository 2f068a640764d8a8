/* tables: make descriptor tables from streams that carry a vmdesc */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "desc/tables.h"
#include "visit/visitors.h"

static void usage(const void *opaque, FILE *f)
{
    fprintf(f,
"Usage: migconv tables [OPTIONS] IN...\n"
"Make descriptor tables from the vmdesc of each legacy stream IN and write\n"
"them as JSON.  Tables let migconv read streams that carry no vmdesc\n"
"(old machine types, suppress-vmdesc=on, postcopy packages): pass them\n"
"with --tables FILE.  Layouts from all inputs are merged.\n"
"\n"
"Options:\n"
"  -o, --output FILE    write the tables to FILE (default: stdout)\n"
"      --builtin        start from the built-in tables\n"
"  -f, --force          overwrite FILE if it exists\n"
"      --sync           fsync FILE and its directory before exiting with 0\n"
"  -q, --quiet, --progress, --no-progress, --buffer-limit N, --tables FILE,\n"
"  --vmdesc-limit N, --tables-limit N, --qemu-version V:\n"
"                       as for legacy-to-ber (--tables also merges FILE)\n"
"  -h, --help           show this help\n");
}

/* A visitor that ignores everything but the vmdesc. */
typedef struct catcher {
    mc_visitor base;
    mc_visitor_ops ops;
    mc_tables *tables;
    size_t vmdesc_limit;
    bool seen;
} catcher;

static bool catch_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                         mc_error **errp)
{
    catcher *c = (catcher *)v;
    c->seen = true;
    return mc_tables_add_vmdesc(c->tables, json, len, c->vmdesc_limit, errp);
}

static void catch_free(mc_visitor *v)
{
}

static bool learn(const char *path, mc_tables *t, const mc_cli_common *c,
                  int *code)
{
    mc_error *err = NULL;
    mc_input in;
    if (!mc_input_open(&in, path, c, &err)) {
        *code = mc_cli_report(strcmp(path, "-") ? path : "(stdin)", err);
        return false;
    }
    if (in.format != MC_FORMAT_LEGACY) {
        /* only the legacy stream has a vmdesc to learn from */
        mc_error_data(&err, 0, NULL, "not a legacy QEMU migration stream");
        *code = mc_cli_report(in.name, err);
        mc_input_close(&in);
        return false;
    }
    catcher k = {.tables = t, .ops = mc_null_ops,
                 .vmdesc_limit = c->vmdesc_limit};
    k.ops.vmdesc = catch_vmdesc;
    k.ops.free = catch_free;
    k.base.ops = &k.ops;
    /* bytes after the vmdesc (a state volume's) are left unread */
    mc_read_opts ro = {.tail_cap = c->tail_cap, .tables = t,
                       .vmdesc_limit = c->vmdesc_limit, .keep_trailer = true};
    bool ok = in.fmt->read(in.src, &k.base, &ro, &err);
    mc_input_blame(&in, err);
    if (ok && !k.seen) {
        mc_error_data(&err, MC_NO_OFFSET, NULL,
                      "the stream has no vmdesc to learn from");
        ok = false;
    }
    if (!ok) {
        *code = mc_cli_report(in.name, err);
    }
    mc_input_close(&in);
    return ok;
}

enum { OPT_BUILTIN = 0x200 };

typedef struct tables_args {
    const char *outpath;
    bool builtin;
} tables_args;

static bool tables_opt(void *opaque, int opt, const char *arg, int *exit_code)
{
    tables_args *a = opaque;
    if (opt == 'o') {
        a->outpath = arg;
    } else if (opt == OPT_BUILTIN) {
        a->builtin = true;
    } else {
        return false;
    }
    return true;
}

int mc_cmd_tables(int argc, char **argv)
{
    mc_cli_common c = {.progress = -1};
    tables_args a = {.outpath = "-"};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        MC_CLI_OUTPUT_LONG,
        {"output", required_argument, NULL, 'o'},
        {"builtin", no_argument, NULL, OPT_BUILTIN},
        {NULL, 0, NULL, 0},
    };
    const mc_cli_cmdline l = {
        .cmd = "tables", .shortopts = MC_CLI_COMMON_SHORT "o:",
        .longopts = longopts, .usage = usage, .opt = tables_opt, .opaque = &a,
        .min_args = 1, .max_args = -1,
        .args_msg = "expected at least one input",
    };
    int code = mc_cli_parse(&l, argc, argv, &c);
    if (code != MC_CLI_GO) {
        return code;
    }
    const char *outpath = a.outpath;
    bool builtin = a.builtin;
    mc_error *err = NULL;
    mc_tables *t = mc_tables_new();
    if ((builtin && !mc_tables_load_builtin(t, &err)) ||
        (c.tables_path && !mc_cli_load_tables(t, c.tables_path, c.tables_limit, &err))) {
        mc_tables_free(t);
        return mc_cli_report(c.tables_path, err);
    }
    int worst = 0;
    for (int i = optind; i < argc; i++) {
        int rc = 0;
        if (!learn(argv[i], t, &c, &rc) && rc > worst) {
            worst = rc;
        }
    }
    if (worst) {
        mc_tables_free(t);
        return worst;
    }
    char *json = mc_tables_dump(t);
    size_t n = mc_tables_count(t);
    mc_tables_free(t);
    mc_output out;
    if ((code = mc_cli_open_output(&out, outpath, false, &c, NULL)) != 0) {
        free(json);
        return code;
    }
    bool ok = mc_cli_output_end(
        &out,
        mc_sink_write(&out.sink, json, strlen(json), &err) &&
            mc_sink_write(&out.sink, "\n", 1, &err),
        &err);
    free(json);
    if (!ok) {
        return mc_cli_report(out.name, err);
    }
    if (!c.quiet && strcmp(outpath, "-") != 0) {
        fprintf(stderr, "%s: %s: %zu vmsd layouts\n", mc_prog, outpath, n);
    }
    return 0;
}
