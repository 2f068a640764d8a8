/*
 * The format registry: every stream format migconv reads and writes, and
 * every source filter that can stand in front of a stream, each one row of
 * a const table.  Detection and dispatch happen here and nowhere else.
 *
 * A format row names its reader and its writer; a *bid* looks at the first
 * bytes of an input and says how sure it is that they start this format
 * (0: not this format; the highest bid wins, as with libarchive's bidders).
 *
 * A source filter row (a saved-image header, a compression layer, the BER
 * file's Container record) bids the same way and, when it wins, opens a new
 * source above the input's current top (core/io.h: a source whose read
 * hook pulls from the one below), or reads its record in place.  The input
 * layer (cli/input_stack.c) stacks filters until none bids, then bids for
 * the format on the top source.  Adding a format or a filter is one new
 * file with its functions plus one row in the tables of registry.c (the
 * row and its extern declaration); a compression is one mc_codec_ops in
 * its own file and the row CODEC_ROW(its ops).
 */
#ifndef MC_FORMAT_REGISTRY_H
#define MC_FORMAT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container/ber_container.h"
#include "container/codec.h"
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

/*
 * What a filter row works with when it bids and opens: the input file, the
 * options that concern containers, and the container the BER keeps of the
 * input (container/ber_container.h), which a row records itself in.
 */
typedef struct mc_filter_ctx {
    int fd;                  /* the input file (a qcow2 image is pread) */
    uint64_t size;           /* its size, 0 for a pipe */
    const char *fname;       /* its name, for layer labels */
    const char *snapshot;    /* --snapshot NAME|ID, or NULL */
    size_t depth;            /* layers stacked so far (0: the file's own) */
    bool *has_container;
    mc_container_info *container;
} mc_filter_ctx;

typedef struct mc_filter_ops mc_filter_ops;
struct mc_filter_ops {
    const char *name;          /* "libvirt" (NULL: a compression row) */
    /* A compression row: its codec (container/codec.h); bid, open and
     * free are then codec.c's mc_codec_filter_*. */
    const mc_codec_ops *codec;
    /* first: bids only over the file itself (depth 0).  once: bids only
     * while the container records nothing of its kind: a compression row
     * while the container has no compression, another row while there is
     * no container. */
    bool first, once;
    /* layer: open makes a new source above the current top (false: it
     * reads a record from the top source, and the stream follows there). */
    bool layer;
    /* How sure the row is that p[0..n) (n up to MC_FILTER_BID_BYTES, fewer
     * at the end of a short input) starts its container: 0 not at all. */
    int (*bid)(const mc_filter_ops *self, const uint8_t *p, size_t n);
    /* Open over lower, the current top: a layer row initialises top (an
     * empty source; its layer name stays NULL: the label says which
     * layer offsets count in), sets *state and writes its label
     * ("vm.save: gzip data") into label[0..cap); it records what it is
     * in cx->container and sets *cx->has_container.  On failure nothing
     * is left to free but cx->container. */
    bool (*open)(const mc_filter_ops *self, mc_filter_ctx *cx, mc_src *lower,
                 mc_src *top, void **state, char *label, size_t cap,
                 mc_error **errp);
    /* Free *state, after top is cleaned up (NULL: nothing to free). */
    void (*free)(void *state);
};

/* The first bytes a filter bid sees. */
#define MC_FILTER_BID_BYTES 16

/* Up to n bytes at s's read position: fewer only at the end of the input
 * (then *have says how many); a layer's own error (damaged compressed
 * data) is an error. */
bool mc_filter_peek(mc_src *s, size_t n, const uint8_t **p, size_t *have,
                    mc_error **errp);

/* The best filter that may stand at cx and bids for p[0..n), or NULL. */
const mc_filter_ops *mc_filter_bid(const mc_filter_ctx *cx, const uint8_t *p,
                                   size_t n);
/* The rows of the filter table, in order: i from 0 until NULL. */
const mc_filter_ops *mc_filter_at(size_t i);

/* The compressions are the rows with a codec: the one numbered id (the
 * BER's Container.compression), the one libvirt numbers format, the one
 * whose magic p[0..n) starts with; NULL when none. */
const mc_codec_ops *mc_codec_get(mc_codec id);
const mc_codec_ops *mc_codec_by_libvirt(uint32_t format);
const mc_codec_ops *mc_codec_bid(const uint8_t *p, size_t n);

/* Bid, open and free of a compression row (container/codec.c). */
int mc_codec_filter_bid(const mc_filter_ops *self, const uint8_t *p,
                        size_t n);
bool mc_codec_filter_open(const mc_filter_ops *self, mc_filter_ctx *cx,
                          mc_src *lower, mc_src *top, void **state,
                          char *label, size_t cap, mc_error **errp);
void mc_codec_filter_free(void *state);

#endif
