/* compat and retarget: a stream and another QEMU version (desc/compat.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/pipeline.h"
#include "desc/builtin.h"
#include "desc/compat.h"
#include "desc/tables.h"
#include "visit/normalize.h"
#include "visit/target_profile.h"

enum { OPT_TO = 0x200, OPT_ALLOW_LOSS, OPT_RULES, OPT_TO_TABLES,
       OPT_TO_STREAM, OPT_BARE };

static void usage(bool compat, FILE *f)
{
    if (compat) {
        fprintf(f,
"Usage: migconv compat [OPTIONS] --to V IN\n"
"       migconv compat [OPTIONS] [--to V] --to-tables FILE | --to-stream T IN\n"
"       migconv compat --rules\n"
"Say what would stop QEMU V (5.2, 7.2, 10.0, 11.1) from loading the stream\n"
"IN (legacy or BER): one line per finding on stdout, 'blocks:' or 'note:'.\n"
"Exit status 0 when nothing blocks, 1 when something does.\n"
"\n"
"Options:\n"
"      --to V           the QEMU version that is to load IN\n"
"      --to-tables FILE the target's descriptor tables (migconv tables)\n"
"                       instead of V's built-in ones\n"
"      --to-stream T    a stream the target QEMU saved of the same VM: its\n"
"                       sections, instances, versions and ring sizes are\n"
"                       the target's; without --to, the rules that depend\n"
"                       on the target's version only give notes\n"
"      --rules          print the rule table and exit\n");
    } else {
        fprintf(f,
"Usage: migconv retarget [OPTIONS] --to V IN OUT\n"
"       migconv retarget [OPTIONS] [--to V] --to-tables FILE | --to-stream T\n"
"                        IN OUT\n"
"Rewrite the stream IN (legacy or BER) so that QEMU V (5.2, 7.2, 10.0,\n"
"11.1) loads it, keeping all state; OUT is a legacy stream.  Each rewrite\n"
"is one line on stderr.  What cannot be rewritten without losing state is\n"
"refused (exit 1, no output) unless --allow-loss names it.  COMPRESS_PAGE\n"
"and XBZRLE records become PAGE records, as with normalize (page contents\n"
"are kept in unlinked temporary files in TMPDIR).  OUT is in IN's\n"
"container: a libvirt save image stays one (same header and XML), a\n"
"compressed stream is compressed again the same way.\n"
"\n"
"Options:\n"
"      --to V           the QEMU version that is to load OUT\n"
"      --to-tables FILE the target's descriptor tables (migconv tables)\n"
"                       instead of V's built-in ones\n"
"      --to-stream T    a stream the target QEMU saved of the same VM: its\n"
"                       slirp numbering, ring sizes, sections and versions\n"
"                       are the target's; without --to, the rules that\n"
"                       depend on the target's version do not apply\n"
"      --allow-loss WHAT  accept losing WHAT: 'block' (block-migration\n"
"                       sections: the disk data they carry), 'subsection'\n"
"                       (subsections V does not know: their state),\n"
"                       'field' (fields of a section that V's vmsd does\n"
"                       not have: their state); may be repeated\n"
"      --bare           write the stream alone, without IN's container\n"
"  -f, --force          overwrite OUT if it exists\n");
    }
    fprintf(f,
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE,\n"
"      --qemu-version V (of IN's built-in tables): as for legacy-to-ber\n"
"  -h, --help           show this help\n"
"The rules are in migconv(1) and 'migconv compat --rules'.\n");
}

static const char *action_name(mc_compat_action a)
{
    return a == MC_COMPAT_REWRITE ? "rewrite" : a == MC_COMPAT_LOSS
                                                    ? "refused unless --allow-loss"
                                                    : "refused";
}

static void print_rules(void)
{
    const mc_compat_rule *r;
    size_t n = mc_compat_rules(&r);
    for (size_t i = 0; i < n; i++) {
        printf("%s (%s%s%s)\n  from: %s\n  to: %s\n  change: %s\n  why: %s\n",
               r[i].id, action_name(r[i].action), r[i].loss ? " " : "",
               r[i].loss ? r[i].loss : "", r[i].from, r[i].to, r[i].change,
               r[i].why);
    }
}

typedef struct report_ctx {
    const char *name;
    bool compat;
    bool quiet;
} report_ctx;

static void report(void *opaque, mc_retarget_kind kind, const char *rule,
                   const char *line)
{
    report_ctx *ctx = opaque;
    if (ctx->compat) {
        printf("%s: %s: %s [%s]\n", ctx->name,
               kind == MC_RETARGET_BLOCKS ? "blocks" : "note", line, rule);
    } else if (!ctx->quiet) {
        fprintf(stderr, "%s: %s: %s [%s]\n", mc_prog, ctx->name, line, rule);
    }
}

/* What --to-tables and --to-stream name, read before IN (0, or an exit
 * code: reported). */
typedef struct target_in {
    mc_tables *tables;
    mc_target_profile *ts;
} target_in;

static int target_load(const mc_run *run, const mc_cli_common *c,
                       mc_retarget_opts *ro, const char *to_tables,
                       const char *to_stream, target_in *t)
{
    mc_error *err = NULL;
    if (to_tables) {
        t->tables = mc_tables_new();
        if (!mc_cli_load_tables(t->tables, to_tables, c->tables_limit, &err)) {
            return mc_cli_report(to_tables, err);
        }
        ro->to_tables = t->tables;
    }
    if (!to_stream) {
        return 0;
    }
    mc_input tin;
    if (!mc_input_open(&tin, to_stream, c, &err)) {
        return mc_cli_report(to_stream, err);
    }
    int code = 0;
    if (!tin.fmt) {
        mc_error_data(&err, 0, NULL, "not a QEMU migration stream or BER");
        code = mc_run_report(&tin, tin.name, NULL, err);
    } else {
        t->ts = mc_target_profile_new(c->vmdesc_limit);
        mc_visitor *tv = mc_target_profile_visitor(t->ts);
        if (!mc_run_read(run, &tin, tin.fmt, tv, false, &err)) {
            code = mc_run_report(&tin, tin.name, NULL, err);
        }
        mc_visitor_free(tv);
        ro->to_stream = t->ts;
    }
    mc_input_close(&tin);
    return code;
}

static void target_free(target_in *t)
{
    mc_target_profile_free(t->ts);
    mc_tables_free(t->tables);
}

/* compat: IN checked, nothing written. */
static int compat_run(const mc_run *run, mc_input *in, mc_retarget_opts *ro)
{
    mc_error *err = NULL;
    mc_visitor *v = mc_retarget_new(NULL, ro);
    bool ok = mc_run_read(run, in, in->fmt, v, false, &err);
    unsigned blockers = mc_retarget_blockers(v);
    mc_visitor_free(v);
    fflush(stdout);
    return !ok ? mc_run_report(in, in->name, NULL, err)
               : blockers ? MC_EXIT_DATA : 0;
}

typedef struct retarget_args {
    bool compat;
    const char *cmd, *to, *to_tables, *to_stream;
    const char *loss[8];
    size_t n_loss;
    bool bare;
} retarget_args;

static void retarget_usage(const void *opaque, FILE *f)
{
    usage(((const retarget_args *)opaque)->compat, f);
}

static bool retarget_opt(void *opaque, int opt, const char *arg,
                         int *exit_code)
{
    retarget_args *a = opaque;
    const char *cmd = a->cmd;
    bool compat = a->compat;
    if (opt == OPT_TO) {
        if (!mc_builtin_version_known(arg)) {
            *exit_code = mc_cli_usage_error(cmd, "unknown QEMU version '%s' "
                                            "(known: 5.2, 7.2, 10.0, 11.1)",
                                            arg);
        }
        a->to = arg;
    } else if (opt == OPT_ALLOW_LOSS && !compat) {
        if (strcmp(arg, "block") != 0 && strcmp(arg, "subsection") != 0 &&
            strcmp(arg, "field") != 0) {
            *exit_code = mc_cli_usage_error(cmd, "--allow-loss: unknown loss "
                                            "'%s' (known: block, subsection, "
                                            "field)", arg);
        }
        if (a->n_loss < sizeof(a->loss) / sizeof(a->loss[0])) {
            a->loss[a->n_loss++] = arg;
        }
    } else if (opt == OPT_TO_TABLES) {
        a->to_tables = arg;
    } else if (opt == OPT_TO_STREAM) {
        a->to_stream = arg;
    } else if (opt == OPT_BARE && !compat) {
        a->bare = true;
    } else if (opt == OPT_RULES && compat) {
        print_rules();
        *exit_code = 0;
    } else {
        return false;
    }
    return true;
}

int mc_cmd_retarget(int argc, char **argv, bool compat)
{
    const char *cmd = compat ? "compat" : "retarget";
    mc_cli_common c = {.progress = -1};
    retarget_args a = {.compat = compat, .cmd = cmd};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"to", required_argument, NULL, OPT_TO},
        {"allow-loss", required_argument, NULL, OPT_ALLOW_LOSS},
        {"rules", no_argument, NULL, OPT_RULES},
        {"to-tables", required_argument, NULL, OPT_TO_TABLES},
        {"to-stream", required_argument, NULL, OPT_TO_STREAM},
        {"bare", no_argument, NULL, OPT_BARE},
        {NULL, 0, NULL, 0},
    };
    const mc_cli_cmdline l = {
        .cmd = cmd, .longopts = longopts, .usage = retarget_usage,
        .opt = retarget_opt, .opaque = &a,
    };
    int code = mc_cli_parse(&l, argc, argv, &c);
    if (code != MC_CLI_GO) {
        return code;
    }
    const char *to = a.to, *to_tables = a.to_tables, *to_stream = a.to_stream;
    if (!to && !to_tables && !to_stream) {
        return mc_cli_usage_error(cmd, "--to V, --to-tables FILE or "
                                       "--to-stream T is required");
    }
    if (argc - optind != (compat ? 1 : 2)) {
        return mc_cli_usage_error(cmd, compat ? "expected IN"
                                              : "expected IN and OUT");
    }
    const char *inpath = argv[optind];
    mc_run run;
    if ((code = mc_run_init(&run, &c)) != 0) {
        return code;
    }
    mc_error *err = NULL;
    mc_input in;
    if ((code = mc_cli_open_stream(&in, inpath, &c)) != 0) {
        mc_run_cleanup(&run);
        return code;
    }
    report_ctx ctx = {.name = in.name, .compat = compat, .quiet = c.quiet};
    mc_retarget_opts ro = {
        .to = to,
        .src = in.src,
        .src_legacy = in.fmt->id == MC_FORMAT_LEGACY,
        .allow_loss = a.loss,
        .n_allow_loss = a.n_loss,
        .report = report,
        .report_opaque = &ctx,
    };
    target_in t = {0};
    if ((code = target_load(&run, &c, &ro, to_tables, to_stream, &t)) != 0 ||
        compat) {
        if (code == 0) {
            code = compat_run(&run, &in, &ro);
        }
        target_free(&t);
        mc_input_close(&in);
        mc_run_cleanup(&run);
        return code;
    }
    const char *outpath = argv[optind + 1];
    mc_output out;
    if ((code = mc_cli_open_output(&out, outpath, true, &c, &in)) != 0) {
        target_free(&t);
        mc_input_close(&in);
        mc_run_cleanup(&run);
        return code;
    }
    /* retarget -> normalize (COMPRESS_PAGE and XBZRLE to PAGE, pages in
     * unnamed temporary files) -> the legacy writer */
    const char *tmpdir = getenv("TMPDIR");
    mc_normalize_opts no = {
        .tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp",
        .src = in.src,
    };
    /* OUT in IN's container, unless --bare */
    mc_rewrap wrap;
    bool ok = mc_rewrap_begin(&wrap, &out.sink,
                              in.has_container && !a.bare ? &in.container
                                                          : NULL,
                              &err);
    mc_visitor *n = mc_normalize_visitor_new(&no,
                                             mc_legacy_writer_new(wrap.sink));
    mc_visitor *v = mc_retarget_new(n, &ro);
    ok = ok && mc_run_read(&run, &in, in.fmt, v, false, &err);
    ok = mc_rewrap_end(&wrap, ok, &err);
    mc_visitor_free(v);
    mc_visitor_free(n);
    ok = mc_cli_output_end(&out, ok, &err);
    code = ok ? 0 : mc_run_report(&in, in.name, out.name, err);
    target_free(&t);
    mc_input_close(&in);
    mc_run_cleanup(&run);
    return code;
}
