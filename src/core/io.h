/*
 * Byte streams: a buffered input source with bounded look-ahead and a
 * buffered output sink.
 *
 * mc_src reads through a read hook (a file descriptor, regular file or
 * pipe, or any lower layer) or from a memory buffer.  Callers ask for N
 * contiguous bytes and get a pointer into the source's buffer that stays
 * valid until the next call on the source.  Consumed bytes are discarded on
 * refill unless pinned, so memory stays bounded by the largest single
 * request, except after mc_src_slurp(), which deliberately buffers
 * everything that is left (with a cap).
 *
 * Sources stack: a filter (a container header to skip, a decompressor) is
 * a source whose read hook pulls bytes from the source below it with
 * mc_src_read().  Each source counts offsets from the start of its own
 * bytes, and carries the name of its layer ("vm.save", NULL for the file
 * itself) so that messages can say which stream an offset is in.  Readers
 * use only the functions below, never the fields, and make no assumption
 * about the offset at which their stream starts.
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

struct mc_src;
/* Read up to cap bytes into buf for source s (its read_opaque is the
 * layer's state; the bytes go at offset s->base + s->len); *got = 0 means
 * end of input. */
typedef bool (*mc_src_read_fn)(struct mc_src *s, uint8_t *buf, size_t cap,
                               size_t *got, mc_error **errp);

typedef struct mc_src {
    mc_src_read_fn read; /* NULL for a memory source */
    void *read_opaque;
    const char *layer;   /* name of this layer, NULL for the file itself */
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
/* A source over a read hook, e.g. a filter over a lower source. */
void mc_src_init_read(mc_src *s, const char *layer, mc_src_read_fn fn,
                      void *opaque);
void mc_src_cleanup(mc_src *s);

/* Copy up to cap bytes from s (a lower layer) into buf, consuming them;
 * *got = 0 only at the end of s.  For read hooks of filters. */
bool mc_src_read(mc_src *s, uint8_t *buf, size_t cap, size_t *got,
                 mc_error **errp);

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
/* The same, stopping as soon as enough(opaque, window, buffered, eof)
 * says what is buffered suffices (it is asked again after each step of
 * MC_SRC_BUFSIZE, and once at the end of the input). */
typedef bool (*mc_src_enough_fn)(void *opaque, const uint8_t *p, size_t n,
                                 bool eof);
bool mc_src_slurp_until(mc_src *s, size_t cap, mc_src_enough_fn enough,
                        void *opaque, mc_error **errp);
/* Bytes buffered past the read position (after slurp: all that is left). */
static inline size_t mc_src_buffered(const mc_src *s)
{
    return s->len - s->pos;
}
/* Return to an earlier offset that is still buffered (pinned or slurped). */
bool mc_src_rewind(mc_src *s, uint64_t offset);
/* The buffered bytes at the read position (mc_src_buffered() of them). */
static inline const uint8_t *mc_src_window(const mc_src *s)
{
    return s->buf + s->pos;
}
/* Keep the bytes from offset on buffered across refills (for a rewind);
 * an earlier pin stays.  Returns the previous pin for mc_src_unpin(). */
uint64_t mc_src_pin(mc_src *s, uint64_t offset);
void mc_src_unpin(mc_src *s, uint64_t saved);
/* Let no read pass offset end (a container's end); returns the previous
 * limit for mc_src_pop_limit(). */
uint64_t mc_src_push_limit(mc_src *s, uint64_t end);
void mc_src_pop_limit(mc_src *s, uint64_t saved);
/* The size of the input when s reads a regular file directly (from the
 * start of the file: offsets are file offsets), else UINT64_MAX. */
uint64_t mc_src_file_size(const mc_src *s);
/* All n bytes at file offset at (EINTR retried; reading past the end of
 * the file gives zeros).  Errors: MC_ERR_IO, "write error on WHAT: ..." or
 * "read error on WHAT: ...". */
bool mc_fd_pwrite(int fd, const void *p, size_t n, uint64_t at,
                  const char *what, mc_error **errp);
bool mc_fd_pread(int fd, void *p, size_t n, uint64_t at, const char *what,
                 mc_error **errp);
/* An unnamed temporary file in dir (O_TMPFILE, else mkstemp + unlink),
 * read-write; -1 with "cannot create a temporary file in DIR". */
int mc_tmpfile(const char *dir, mc_error **errp);
/* The file descriptor s reads directly (a regular file or not), else -1. */
int mc_src_fd(const mc_src *s);
/* The field path named in truncation errors; returns the previous one. */
const char *mc_src_set_path(mc_src *s, const char *path);

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
    /* fd sinks: 1 regular file (holes by seeking), -1 not, 0 unknown */
    int seekable;
    bool hole_at_end;    /* the last bytes written were a hole */
};

/* A comparing sink: instead of writing, compares the bytes with those of
 * the source orig and fails with an MC_ERR_DATA error at the first
 * difference (or where orig ends first). */
typedef struct mc_sink_cmp {
    mc_src *orig;
    uint64_t pos;      /* bytes found equal so far */
    bool differ;
    uint64_t diff_at;  /* offset of the first difference, if differ */
} mc_sink_cmp;
void mc_sink_init_cmp(mc_sink *k, mc_sink_cmp *c, mc_src *orig);

void mc_sink_init_fd(mc_sink *k, int fd);
void mc_sink_init_mem(mc_sink *k);
void mc_sink_init_fn(mc_sink *k, mc_sink_write_fn fn, void *opaque);
void mc_sink_cleanup(mc_sink *k);
bool mc_sink_write(mc_sink *k, const void *p, size_t n, mc_error **errp);
/* n zero bytes: a hole (seek forward, the file's size fixed by the next
 * flush) when n >= 4096 and the sink writes a regular file through its fd,
 * else written. */
bool mc_sink_write_zeros(mc_sink *k, uint64_t n, mc_error **errp);
bool mc_sink_flush(mc_sink *k, mc_error **errp);
static inline uint64_t mc_sink_offset(const mc_sink *k)
{
    return k->written;
}

#endif
