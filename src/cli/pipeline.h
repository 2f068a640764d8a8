/*
 * The pipeline for one input, the same for every command: open the input
 * (filters stacked, format detected), check the format, open the output,
 * pick the writer from the format registry, read, commit or abort, and
 * report with the error blamed on the side it belongs to.
 *
 * Options and run state are apart: mc_cli_common and the per-command
 * option structs are set by option parsing and read-only afterwards;
 * mc_run holds what a command's inputs share while it runs (the tables,
 * read-only once loaded).  Nothing here writes process globals, so
 * several inputs may run at once over one mc_run.
 */
#ifndef MC_CLI_PIPELINE_H
#define MC_CLI_PIPELINE_H

#include <stdbool.h>

#include "cli/cli.h"
#include "format/registry.h"
#include "visit/visitors.h"

struct mc_tables;

/* The run state of one command. */
typedef struct mc_run {
    const mc_cli_common *c;     /* the common options */
    struct mc_tables *tables;   /* --tables merged over the built-in ones;
                                   NULL: the built-in tables */
} mc_run;

/* Load what the options ask for (--tables); errors are printed, the
 * result is the exit code (0: ready). */
int mc_run_init(mc_run *run, const mc_cli_common *c);
void mc_run_cleanup(mc_run *run);

/* Read the input's stream with its format's reader into v and complete v. */
bool mc_run_read(const mc_run *run, mc_input *in, const mc_format_ops *fmt,
                 mc_visitor *v, bool validate, mc_error **errp);

/* Print err against the input or the output, by the side it belongs to,
 * and return the exit code.  Either may be NULL. */
int mc_run_report(const mc_input *in, const char *in_name,
                  const char *out_name, mc_error *err);

typedef struct mc_convert_opts {
    mc_format from;            /* the input must be this format */
    mc_write_opts write;       /* for the writer of from's counterpart */
    bool validate;             /* BER input: schema check */
} mc_convert_opts;

/* Convert one input to one output; the exit code. */
int mc_convert_one(const mc_run *run, const mc_convert_opts *o,
                   const char *inpath, const char *outpath);
/* Round trip one input and compare; prints "NAME: OK (...)"; exit code. */
int mc_verify_one(const mc_run *run, const char *inpath);
typedef struct mc_dump_opts {
    mc_json_opts json;
    bool validate;             /* BER input: schema check */
    bool vmdesc;               /* only the vmdesc JSON, as the stream has it */
} mc_dump_opts;

/* One input as JSON on stdout; the exit code. */
int mc_dump_one(const mc_run *run, const mc_dump_opts *o, const char *inpath);

#endif
