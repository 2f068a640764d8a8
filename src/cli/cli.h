/* Shared pieces of the migconv command line. */
#ifndef MC_CLI_CLI_H
#define MC_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/io.h"
#include "container/ber_container.h"
#include "format/registry.h"
#include "format/readers.h"

/* Options common to every command. */
typedef struct mc_cli_common {
    bool force;        /* -f: overwrite an existing output */
    int progress;      /* -1: auto (stderr is a terminal), 0 off, 1 on */
    bool quiet;        /* -q: no progress, no warnings */
    size_t tail_cap;   /* --buffer-limit */
    const char *tables_path; /* --tables FILE */
    bool sync;         /* --sync: fsync the output and its directory */
    size_t vmdesc_limit; /* --vmdesc-limit (0: MC_DEFAULT_VMDESC_LIMIT) */
    size_t tables_limit; /* --tables-limit (0: MC_DEFAULT_TABLES_LIMIT) */
    const char *qemu_version; /* --qemu-version V: its built-in tables only */
    const char *snapshot;    /* --snapshot NAME|ID: qcow2 internal snapshot */
    bool drop_trailer;       /* --drop-trailer */
} mc_cli_common;

/* The largest size option accepted (--buffer-limit and the like): 1 TiB,
 * far above any memory, small enough that no size arithmetic can wrap. */
#define MC_CLI_MAX_SIZE (1ull << 40)

/* First thing in main(): open whichever of fds 0-2 is closed to /dev/null,
 * so that no file opened later takes its number (a temporary output on
 * fd 2 would receive the warnings), and ignore SIGXFSZ, so that exceeding
 * the file size limit is a write error (EFBIG) like a full disk. */
void mc_cli_startup(void);

extern const char *const mc_prog;

/* Print "migconv: FILE: offset N: PATH: MESSAGE" and return the exit code;
 * FILE is the error's own file when it names one (mc_error_set_file). */
int mc_cli_report(const char *file, mc_error *err);
void mc_cli_warn(void *opaque, const mc_error *w);
int mc_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse a common option; returns true if c was one. */
#define MC_CLI_COMMON_SHORT "fqh"
enum { MC_OPT_PROGRESS = 0x100, MC_OPT_NO_PROGRESS, MC_OPT_BUFFER_LIMIT,
       MC_OPT_NO_NAMES, MC_OPT_RAM_RECORDS, MC_OPT_VALIDATE, MC_OPT_TABLES,
       MC_OPT_SYNC, MC_OPT_VMDESC_LIMIT, MC_OPT_TABLES_LIMIT,
       MC_OPT_QEMU_VERSION, MC_OPT_SNAPSHOT, MC_OPT_DROP_TRAILER, MC_OPT_VMDESC };
#define MC_CLI_COMMON_LONG                                              \
    {"force", no_argument, NULL, 'f'},                                  \
    {"quiet", no_argument, NULL, 'q'},                                  \
    {"help", no_argument, NULL, 'h'},                                   \
    {"progress", no_argument, NULL, MC_OPT_PROGRESS},                   \
    {"no-progress", no_argument, NULL, MC_OPT_NO_PROGRESS},             \
    {"buffer-limit", required_argument, NULL, MC_OPT_BUFFER_LIMIT},     \
    {"tables", required_argument, NULL, MC_OPT_TABLES},                 \
    {"vmdesc-limit", required_argument, NULL, MC_OPT_VMDESC_LIMIT},     \
    {"tables-limit", required_argument, NULL, MC_OPT_TABLES_LIMIT},     \
    {"qemu-version", required_argument, NULL, MC_OPT_QEMU_VERSION},     \
    {"snapshot", required_argument, NULL, MC_OPT_SNAPSHOT},             \
    {"drop-trailer", no_argument, NULL, MC_OPT_DROP_TRAILER}
/* The options of commands that write an output file. */
#define MC_CLI_OUTPUT_LONG                                              \
    {"sync", no_argument, NULL, MC_OPT_SYNC}
bool mc_cli_common_opt(mc_cli_common *c, int opt, const char *arg,
                       const char *cmd, int *exit_code);

/*
 * A command's command line (cmdline.c): the common options go into c, -h
 * and --help print usage, every other option goes to opt, which returns
 * false when it is not one of the command's ("invalid option") and may set
 * *exit_code (-1 on entry) to end the command with that code (a usage
 * error, or 0 after an option that only prints).  Then the operands
 * argv[optind..argc) are counted: fewer than min_args or more than
 * max_args (when >= 0) is the usage error args_msg (NULL: the command
 * checks them itself).
 */
struct option;
typedef struct mc_cli_cmdline {
    const char *cmd;                /* "dump": in messages */
    const char *shortopts;          /* NULL: MC_CLI_COMMON_SHORT */
    const struct option *longopts;  /* MC_CLI_COMMON_LONG, its own, {NULL} */
    void (*usage)(const void *opaque, FILE *out);
    bool (*opt)(void *opaque, int opt, const char *arg, int *exit_code);
    void *opaque;
    int min_args, max_args;
    const char *args_msg;
    /* When set, the run state is made from the options once they are
     * parsed (mc_run_init, cli/pipeline.h); the caller cleans it up when
     * mc_cli_parse returned MC_CLI_GO. */
    struct mc_run *run;
} mc_cli_cmdline;
/* mc_cli_parse's "go on with the operands". */
#define MC_CLI_GO (-1)
/* MC_CLI_GO, or the exit code to return (0 after --help). */
int mc_cli_parse(const mc_cli_cmdline *l, int argc, char **argv,
                 mc_cli_common *c);

/* Source filters stacked at most this deep over one input file. */
#define MC_INPUT_MAX_LAYERS 4

/* An input: a path or "-" for stdin, with the source filters that bid for
 * it stacked over the file (format/registry.h, cli/input_stack.c) and the
 * format of the stream on top detected. */
typedef struct mc_input {
    const char *name;  /* for messages: the file's, or its top layer's label */
    const char *fname; /* as given ("(stdin)" for "-") */
    int fd;
    mc_src file;       /* the file's bytes */
    mc_src layers[MC_INPUT_MAX_LAYERS];
    const mc_filter_ops *filters[MC_INPUT_MAX_LAYERS];
    void *states[MC_INPUT_MAX_LAYERS];
    size_t n_layers;
    char label[512];   /* the top layer's ("vm.save: gzip data") */
    mc_src *src;       /* the stream: the top layer (or &file) */
    mc_format format;
    const mc_format_ops *fmt; /* NULL if no format bid */
    uint64_t size;     /* 0 if unknown (pipe) */
    struct mc_progress *progress;
    /* The container to keep in (legacy input) or found in (BER input) the
     * BER, as the filters recorded it; has_container false when the stream
     * is bare. */
    bool has_container;
    mc_container_info container;
} mc_input;

/* Bytes of the file itself read so far (the whole size for a file). */
uint64_t mc_input_file_offset(const mc_input *in);

bool mc_input_open(mc_input *in, const char *path, const mc_cli_common *c,
                   mc_error **errp);
/* Stack the filters that bid for in->src until none does, then detect the
 * format on top (input_stack.c; done by mc_input_open).  c: the options
 * filters use (--snapshot), or NULL. */
bool mc_input_stack(mc_input *in, const mc_cli_common *c, mc_error **errp);
/* Clean the layers up and forget the container (done by mc_input_close). */
void mc_input_unstack(mc_input *in);
void mc_input_close(mc_input *in);
/* Copy the rest of the input's stream to an unlinked temporary file and
 * return its descriptor (-1 on error), so that it can be read again. */
int mc_input_spool(mc_input *in, mc_error **errp);
/* An unlinked temporary file in $TMPDIR (or /tmp); -1 on error. */
int mc_temp_fd(mc_error **errp);
/* $TMPDIR, or /tmp when unset or empty. */
const char *mc_temp_dir(void);
/* "temporary file in DIR": the name write errors on those files carry. */
void mc_temp_sink_name(char *buf, size_t n);
/* Put the name of the input's top layer into an error of the input side
 * that has an offset ("vm.save: stream offset N"). */
void mc_input_blame(const mc_input *in, mc_error *err);
/* Open the input at path and check that it is a stream of a known format:
 * 0, or the exit code once the error is printed ("(stdin)" for "-"; the
 * input is then closed). */
int mc_cli_open_stream(mc_input *in, const char *path,
                       const mc_cli_common *c);

/* An output, created without a name (O_TMPFILE) in the target's directory
 * and linked into place on success, or where that is not available written
 * to a hidden temporary file beside it and renamed on success (removed on
 * failure and on SIGINT/SIGTERM/SIGHUP).  With --sync the file and the
 * directory are fsync'ed before success is reported. */
typedef struct mc_output {
    const char *name;
    char *tmp_path;    /* a named temporary file, while one exists */
    char *dir;         /* the target's directory (regular file outputs) */
    bool anon;         /* fd is an unnamed O_TMPFILE file */
    bool replace;      /* the target existed (-f) */
    bool sync;
    int fd;
    mc_sink sink;
} mc_output;

bool mc_output_open(mc_output *out, const char *path, bool binary,
                    const mc_cli_common *c, const mc_input *in,
                    mc_error **errp);
bool mc_output_commit(mc_output *out, mc_error **errp);
/* The list of temporary outputs removed on SIGINT/SIGTERM/SIGHUP
 * (cli/cleanup.c); add installs the handlers on first use and fails
 * when too many outputs are open at once. */
bool mc_cleanup_add(const char *path);
void mc_cleanup_remove(const char *path);
/* The CLI's out-of-memory handler: one line, temporary outputs removed,
 * exit 4 (installed by mc_cli_startup). */
_Noreturn void mc_cleanup_oom(size_t n);
void mc_output_abort(mc_output *out);
/* mc_output_open: 0, or the exit code once the error is printed
 * ("(stdout)" for "-"). */
int mc_cli_open_output(mc_output *out, const char *path, bool binary,
                       const mc_cli_common *c, const mc_input *in);
/* After the command wrote out: commit it when ok, else remove it.  True
 * when the output is in place; a failed commit's error is the output's
 * (its side). */
bool mc_cli_output_end(mc_output *out, bool ok, mc_error **errp);

/* A legacy stream written into the container of its input (cli/rewrap.c):
 * begin writes the libvirt prefix of ci (if any) to out and starts its
 * compression (if any); the stream then goes to w->sink; end finishes the
 * compression (when ok) and frees.  ci NULL: the stream goes to out. */
struct mc_comp;
typedef struct mc_rewrap {
    struct mc_comp *comp;
    mc_sink csink;
    mc_sink *sink;
} mc_rewrap;
bool mc_rewrap_begin(mc_rewrap *w, mc_sink *out, const mc_container_info *ci,
                     mc_error **errp);
bool mc_rewrap_end(mc_rewrap *w, bool ok, mc_error **errp);

/* Throttled progress on stderr. */
struct mc_progress *mc_progress_new(const char *label, uint64_t total,
                                    const mc_cli_common *c);
void mc_progress_update(void *p, uint64_t done);
void mc_progress_finish(struct mc_progress *p);

int mc_cmd_convert(int argc, char **argv, mc_format from);
int mc_cmd_dump(int argc, char **argv);
int mc_cmd_verify(int argc, char **argv);
int mc_cmd_tables(int argc, char **argv);
int mc_cmd_retarget(int argc, char **argv, bool compat);
int mc_cmd_schema(int argc, char **argv);
int mc_cmd_snapshots(int argc, char **argv);
int mc_cmd_batch(int argc, char **argv);
int mc_cmd_extract(int argc, char **argv);
int mc_cmd_normalize(int argc, char **argv);

struct mc_tables;
/* Merge a tables file of at most limit bytes (0: the default) into t;
 * errors name the file. */
bool mc_cli_load_tables(struct mc_tables *t, const char *path, size_t limit,
                        mc_error **errp);
/* Read the input (legacy or BER, as fmt says) into v and complete v,
 * with the common options: buffer limit, --tables (loaded here), warnings
 * on stderr unless quiet. */
bool mc_cli_read(mc_input *in, mc_format fmt, mc_visitor *v,
                 const mc_cli_common *c, bool validate, mc_error **errp);
/* The same, reading with keep_trailer: trailer(in, opaque) is called when
 * the stream (legacy: its vmdesc; BER: its Stream) has been read, before
 * the visitor is completed, to deal with what follows in in->src. */
typedef bool (*mc_cli_trailer_fn)(mc_input *in, void *opaque,
                                  mc_error **errp);
bool mc_cli_read_ex(mc_input *in, mc_format fmt, mc_visitor *v,
                    const mc_cli_common *c, bool validate,
                    mc_cli_trailer_fn trailer, void *opaque, mc_error **errp);

/* One conversion, IN to OUT, with its container and trailer (convert.c):
 * used by legacy-to-ber, ber-to-legacy and batch.  from: the input format
 * expected (MC_FORMAT_UNKNOWN: by content).  Counts bytes in and out;
 * errfile names the file (and layer) an error belongs to.  Nothing is
 * left at OUT on failure. */
typedef struct mc_cli_convert_opts {
    bool names;        /* legacy-to-ber: field names in the BER */
    bool validate;     /* ber-to-legacy: libtasn1 check of every record */
    /* When set, the output's name is chosen once the input is open and
     * its format known (batch: the name depends on the direction, and a
     * FIFO can be opened only once); outpath is then ignored.  It writes
     * the name to out, or sets *skip (--skip-existing), or fails. */
    bool (*name_output)(void *opaque, mc_format from, char *out, size_t cap,
                        bool *skip, mc_error **errp);
    void *name_opaque;
} mc_cli_convert_opts;
typedef struct mc_cli_convert_result {
    mc_format from, to;
    uint64_t bytes_in, bytes_out, trailer;
    bool blame_output;
    bool skipped;      /* name_output said to leave this input */
    char errfile[600];
    const char *container; /* "libvirt", "gzip", ... or NULL */
} mc_cli_convert_result;
bool mc_cli_convert_one(const char *inpath, const char *outpath,
                        mc_format from, const mc_cli_convert_opts *o,
                        const mc_cli_common *c, mc_cli_convert_result *res,
                        mc_error **errp);

/* The tables for reading: NULL (only the built-in ones, chosen by the
 * reader) unless --tables was given, then the file's, which the reader
 * tries before the built-in ones. */
bool mc_cli_tables(const mc_cli_common *c, struct mc_tables **out,
                   mc_error **errp);

#endif
