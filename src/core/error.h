/*
 * Errors, in the style of QEMU's Error **errp.
 *
 * A fallible function takes "mc_error **errp" as its last parameter and
 * returns bool (true on success).  On failure it sets *errp exactly once
 * with mc_error_set() and returns false.  Callers may pass NULL to ignore the
 * error.  Nothing below the CLI prints or exits: the error travels up until
 * the CLI turns it into one line on stderr and an exit code.
 *
 * Every error carries:
 *   - a class, which decides the exit code (data, usage, I/O, internal);
 *   - the byte offset in the input where the problem was found, or
 *     MC_NO_OFFSET when there is no meaningful position;
 *   - the section/field path being read ("ram/record", "e1000/mac_reg[3]"),
 *     possibly empty;
 *   - one phrase, lower case, no trailing period;
 *   - the side it belongs to, when that is known: the input (a read
 *     failed, the data is bad) or the output (a write failed, or a writer
 *     refused what it was given: then the offset counts in the output and
 *     is formatted "output offset N"), so that the CLI can name the right
 *     file (the output for an I/O error of the output side, else the
 *     input);
 *   - the layer of a stacked input whose offsets it counts ("vm.save"),
 *     NULL when the offset is in the file itself.
 */
#ifndef MC_CORE_ERROR_H
#define MC_CORE_ERROR_H

#include <stdbool.h>
#include <stdint.h>

#define MC_NO_OFFSET UINT64_MAX

typedef enum mc_error_class {
    MC_ERR_DATA = 1,     /* malformed, unsupported or mismatching input */
    MC_ERR_USAGE = 2,    /* bad command line */
    MC_ERR_IO = 3,       /* open/read/write/rename failed */
    MC_ERR_INTERNAL = 4, /* out of memory or a bug */
} mc_error_class;

/* Process exit codes used by the CLI (documented in migconv(1)). */
enum {
    MC_EXIT_OK = 0,
    MC_EXIT_DATA = 1,
    MC_EXIT_USAGE = 2,
    MC_EXIT_IO = 3,
    MC_EXIT_INTERNAL = 4,
};

typedef enum mc_error_side {
    MC_SIDE_UNKNOWN = 0,
    MC_SIDE_INPUT,
    MC_SIDE_OUTPUT,
} mc_error_side;

typedef struct mc_error {
    mc_error_class cls;
    uint64_t offset;
    char *path;
    char *msg;
    char *file;   /* the file the error is about, when it is not the one
                     being read (an output, a tables file); NULL otherwise */
    mc_error_side side;
    const char *layer;   /* static string, not owned */
} mc_error;

/* Set *errp (if errp is non-NULL and *errp is still NULL). */
void mc_error_set(mc_error **errp, mc_error_class cls, uint64_t offset,
                  const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Shorthand for the common case of bad input data. */
#define mc_error_data(errp, offset, path, ...) \
    mc_error_set((errp), MC_ERR_DATA, (offset), (path), __VA_ARGS__)

/* An I/O error with strerror(errnum) appended. */
void mc_error_set_errno(mc_error **errp, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend "prefix: " to the message (e.g. a file name) */
void mc_error_prepend(mc_error **errp, const char *prefix);

/* Name the file the error is about (an output, a tables file, a temporary
 * directory) when it is not the input being read; the first name set stays. */
void mc_error_set_file(mc_error **errp, const char *file);
/* Say which side the error set in *errp (if any) belongs to, unless that
 * is already known. */
void mc_error_set_side(mc_error **errp, mc_error_side side);
/* Say that the offset of err counts in the named layer of a stacked input
 * (formatted "LAYER: stream offset N"); layer must outlive err. */
void mc_error_set_layer(mc_error *err, const char *layer);

/* Format "OFFSET: PATH: MSG" (parts omitted when absent) into a new string. */
char *mc_error_format(const mc_error *err);

int mc_error_exit_code(const mc_error *err);

void mc_error_free(mc_error *err);

/* Move src into *dst (if dst and *dst free), else free src. */
void mc_error_propagate(mc_error **dst, mc_error *src);

#endif
