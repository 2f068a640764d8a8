/*
 * The format registry: every stream format migconv reads and writes, and
 * every source filter that can stand in front of a stream, each one row of
 * a const table.  Detection and dispatch happen here and nowhere else.
 *
 * A format row names its reader and its writer; a *bid* looks at the first
 * bytes of an input and says how sure it is that they start this format
 * (0: not this format; the highest bid wins, as with libarchive's bidders).
 *
 * A source filter row (a container header, a compression layer) bids the
 * same way and, when it wins, opens a new source above the input's current
 * top (core/io.h: a source whose read hook pulls from the one below).  The
 * input layer stacks filters until none bids, then bids for the format on
 * the top source.  Adding a format or a filter is one new file with its
 * functions plus one row in the tables of registry.c.
 */
#ifndef MC_FORMAT_REGISTRY_H
#define MC_FORMAT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "core/visitor.h"
#include "format/readers.h"

/* Options of the writers (a writer ignores those that do not apply). */
typedef struct mc_write_opts {
    bool names;        /* BER: write field names, types and vmsd names */
} mc_write_opts;

typedef struct mc_format_ops {
    mc_format id;
    const char *name;          /* "legacy", "ber": in messages */
    /* The format a conversion from this one produces, and the command
     * that does it (named in "use ..." hints). */
    mc_format convert_to;
    const char *convert_cmd;
    /* Bytes at least this many for a bid to be meaningful. */
    size_t bid_bytes;
    int (*bid)(const uint8_t *p, size_t n);
    bool (*read)(mc_src *src, mc_visitor *v, const mc_read_opts *opts,
                 mc_error **errp);
    mc_visitor *(*writer_new)(mc_sink *out, const mc_write_opts *opts);
    /* Optional: the writer options that reproduce a stream of this format
     * byte for byte, judged from its first bytes (p, n); NULL: defaults. */
    void (*write_opts_of)(const uint8_t *p, size_t n, mc_write_opts *o);
} mc_format_ops;

/* Enough first bytes for every bid and every write_opts_of (a shorter
 * stream gives what it has). */
#define MC_FORMAT_HEAD_BYTES 131

/* The row of format id, or NULL (MC_FORMAT_UNKNOWN). */
const mc_format_ops *mc_format_get(mc_format id);
/* The best bidder for the first bytes p[0..n), or NULL. */
const mc_format_ops *mc_format_bid(const uint8_t *p, size_t n);
/* Default writer options for a stream of format f, or those that
 * reproduce the stream starting with p[0..n). */
void mc_format_write_opts(const mc_format_ops *f, const uint8_t *p, size_t n,
                          mc_write_opts *o);

typedef struct mc_filter_ops {
    const char *name;          /* the layer's name in messages: "vm.save" */
    int (*bid)(const uint8_t *p, size_t n);
    /* Make top a source over lower (mc_src_init_read with this row's name;
     * the filter's state goes in top->read_opaque). */
    bool (*open)(mc_src *lower, mc_src *top, mc_error **errp);
    /* Free the state open() made (then the caller cleans top up). */
    void (*close)(mc_src *top);
} mc_filter_ops;

/* The best filter bidding for the first bytes p[0..n), or NULL. */
const mc_filter_ops *mc_filter_bid(const uint8_t *p, size_t n);

#endif
