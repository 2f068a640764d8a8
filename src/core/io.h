/*
 * Byte streams: a buffered input source with bounded look-ahead and a
 * buffered output sink.
 *
 * mc_src reads a file descriptor (regular file or pipe) or a memory buffer.
 * Callers ask for N contiguous bytes and get a pointer into the source's
 * buffer that stays valid until the next call on the source.  Consumed bytes
 * are discarded on refill unless pinned, so memory stays bounded by the
 * largest single request, except after mc_src_slurp(), which deliberately
 * buffers everything that is left (with a cap).
 *
 * mc_sink collects output in a buffer and hands full buffers to a write
 * function: a file descriptor, a growable memory buffer, or any callback
 * (verify uses one that compares instead of writing).
 */
#ifndef MC_CORE_IO_H
#define MC_CORE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define MC_SRC_BUFSIZE (1u << 20)
/* Largest single contiguous request a source will grow its buffer for. */
#define MC_SRC_MAX_REQUEST (64u << 20)

typedef struct mc_src {
    int fd;              /* -1 for a memory source */
    uint8_t *buf;
    size_t cap;          /* allocated size of buf (fd sources) */
    size_t pos;          /* next unread byte in buf */
    size_t len;          /* valid bytes in buf */
    uint64_t base;       /* input offset of buf[0] */
    uint64_t limit;      /* reads may not pass this offset (UINT64_MAX: none) */
    uint64_t pin;        /* keep bytes from this offset on refill (or MAX) */
    bool eof;            /* the fd returned end of file */
    bool owned;          /* buf is ours to free */
    const char *path;    /* context path used in truncation errors */
    /* Optional progress hook, called from refills with the input offset. */
    void (*progress)(void *opaque, uint64_t offset);
    void *progress_opaque;
} mc_src;

void mc_src_init_fd(mc_src *s, int fd);
void mc_src_init_mem(mc_src *s, const uint8_t *data, size_t len);
void mc_src_cleanup(mc_src *s);

static inline uint64_t mc_src_offset(const mc_src *s)
{
    return s->base + s->pos;
}

/* Make n bytes available at the read position; truncated input is an
 * MC_ERR_DATA error ("unexpected end of input"). */
bool mc_src_need(mc_src *s, size_t n, mc_error **errp);
/* Pointer to the next n bytes without consuming them. */
bool mc_src_peek(mc_src *s, size_t n, const uint8_t **p, mc_error **errp);
/* Pointer to the next n bytes, consumed. */
bool mc_src_take(mc_src *s, size_t n, const uint8_t **p, mc_error **errp);
bool mc_src_skip(mc_src *s, size_t n, mc_error **errp);
bool mc_src_u8(mc_src *s, uint8_t *v, mc_error **errp);
bool mc_src_be16(mc_src *s, uint16_t *v, mc_error **errp);
bool mc_src_be32(mc_src *s, uint32_t *v, mc_error **errp);
bool mc_src_be64(mc_src *s, uint64_t *v, mc_error **errp);
/* Sets *at_end when no byte is left before EOF or the limit. */
bool mc_src_at_end(mc_src *s, bool *at_end, mc_error **errp);
/* Bytes left before the limit, if the limit is set. */
uint64_t mc_src_left_in_limit(const mc_src *s);
/* Buffer all remaining input (at most cap bytes past the read position;
 * cap must be below SIZE_MAX - MC_SRC_BUFSIZE, as --buffer-limit's range is). */
bool mc_src_slurp(mc_src *s, size_t cap, mc_error **errp);
/* Bytes buffered past the read position (after slurp: all that is left). */
static inline size_t mc_src_buffered(const mc_src *s)
{
    return s->len - s->pos;
}
/* Return to an earlier offset that is still buffered (pinned or slurped). */
bool mc_src_rewind(mc_src *s, uint64_t offset);

typedef struct mc_sink mc_sink;
typedef bool (*mc_sink_write_fn)(mc_sink *k, const uint8_t *p, size_t n,
                                 mc_error **errp);

struct mc_sink {
    uint8_t *buf;
    size_t cap, len;
    uint64_t written;    /* bytes accepted so far (including buffered) */
    mc_sink_write_fn write;
    int fd;
    void *opaque;
    /* Memory sinks: output grows buf without limit. */
    bool mem;
    /* fd sinks: the output's name for write errors (mc_error_set_file),
     * e.g. "(stdout)"; NULL to leave them unnamed. */
    const char *name;
};

void mc_sink_init_fd(mc_sink *k, int fd);
void mc_sink_init_mem(mc_sink *k);
void mc_sink_init_fn(mc_sink *k, mc_sink_write_fn fn, void *opaque);
void mc_sink_cleanup(mc_sink *k);
bool mc_sink_write(mc_sink *k, const void *p, size_t n, mc_error **errp);
bool mc_sink_flush(mc_sink *k, mc_error **errp);
static inline uint64_t mc_sink_offset(const mc_sink *k)
{
    return k->written;
}

#endif
