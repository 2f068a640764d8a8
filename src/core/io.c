#define _GNU_SOURCE /* O_TMPFILE */
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

static bool fd_read(mc_src *s, uint8_t *buf, size_t cap, size_t *got,
                    mc_error **errp)
{
    int fd = (int)(intptr_t)s->read_opaque;
    for (;;) {
        ssize_t r = read(fd, buf, cap);
        if (r >= 0) {
            *got = (size_t)r;
            return true;
        }
        if (errno != EINTR) {
            mc_error_set_errno(errp, errno, "read error at offset %llu",
                               (unsigned long long)(s->base + s->len));
            mc_error_set_side(errp, MC_SIDE_INPUT);
            return false;
        }
    }
}

void mc_src_init_fd(mc_src *s, int fd)
{
    mc_src_init_read(s, NULL, fd_read, (void *)(intptr_t)fd);
}

void mc_src_init_read(mc_src *s, const char *layer, mc_src_read_fn fn,
                      void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->read = fn;
    s->read_opaque = opaque;
    s->layer = layer;
    s->cap = MC_SRC_BUFSIZE;
    s->buf = mc_malloc(s->cap);
    s->owned = true;
    s->limit = UINT64_MAX;
    s->pin = UINT64_MAX;
}

void mc_src_init_mem(mc_src *s, const uint8_t *data, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->buf = (uint8_t *)data;
    s->cap = s->len = len;
    s->eof = true;
    s->limit = UINT64_MAX;
    s->pin = UINT64_MAX;
}

void mc_src_cleanup(mc_src *s)
{
    if (s->owned) {
        free(s->buf);
    }
    s->buf = NULL;
}

static void truncated(mc_src *s, size_t n, mc_error **errp)
{
    mc_error_data(errp, mc_src_offset(s), s->path,
                  "unexpected end of input (needed %zu more bytes, %zu left)",
                  n, s->len - s->pos);
}

/* Read more input into the buffer so that at least n bytes follow pos. */
static bool fill(mc_src *s, size_t n, mc_error **errp)
{
    if (!s->read) {
        truncated(s, n, errp);
        return false;
    }
    /* Discard consumed bytes not covered by a pin. */
    size_t keep_from = s->pos;
    if (s->pin != UINT64_MAX && s->pin >= s->base && s->pin - s->base < keep_from) {
        keep_from = (size_t)(s->pin - s->base);
    }
    if (keep_from > 0) {
        memmove(s->buf, s->buf + keep_from, s->len - keep_from);
        s->len -= keep_from;
        s->pos -= keep_from;
        s->base += keep_from;
    }
    if (n > SIZE_MAX - s->pos) {
        mc_error_set(errp, MC_ERR_INTERNAL, mc_src_offset(s), s->path,
                     "read request of %zu bytes is too large", n);
        return false;
    }
    size_t want = s->pos + n;
    if (want > s->cap) {
        size_t ncap = s->cap ? s->cap : MC_SRC_BUFSIZE;
        while (ncap < want) {
            ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
        }
        s->buf = mc_realloc(s->buf, ncap);
        s->cap = ncap;
    }
    while (s->len < want) {
        if (s->eof) {
            truncated(s, n, errp);
            return false;
        }
        size_t r = 0;
        if (!s->read(s, s->buf + s->len, s->cap - s->len, &r, errp)) {
            return false;
        }
        if (r == 0) {
            s->eof = true;
            continue;
        }
        s->len += r;
    }
    if (s->progress) {
        s->progress(s->progress_opaque, s->base + s->len);
    }
    return true;
}

bool mc_src_need(mc_src *s, size_t n, mc_error **errp)
{
    if (s->limit != UINT64_MAX && n > s->limit - mc_src_offset(s)) {
        mc_error_data(errp, mc_src_offset(s), s->path,
                      "data runs past the end of its container "
                      "(needed %zu bytes, %llu left)",
                      n, (unsigned long long)(s->limit - mc_src_offset(s)));
        return false;
    }
    if (s->len - s->pos >= n) {
        return true;
    }
    if (n > MC_SRC_MAX_REQUEST) {
        mc_error_data(errp, mc_src_offset(s), s->path,
                      "length %zu exceeds the limit of %u bytes", n,
                      MC_SRC_MAX_REQUEST);
        return false;
    }
    return fill(s, n, errp);
}

bool mc_src_peek(mc_src *s, size_t n, const uint8_t **p, mc_error **errp)
{
    if (!mc_src_need(s, n, errp)) {
        return false;
    }
    *p = s->buf + s->pos;
    return true;
}

bool mc_src_take(mc_src *s, size_t n, const uint8_t **p, mc_error **errp)
{
    if (!mc_src_need(s, n, errp)) {
        return false;
    }
    *p = s->buf + s->pos;
    s->pos += n;
    return true;
}

bool mc_src_skip(mc_src *s, size_t n, mc_error **errp)
{
    const uint8_t *p;
    return mc_src_take(s, n, &p, errp);
}

bool mc_src_u8(mc_src *s, uint8_t *v, mc_error **errp)
{
    const uint8_t *p;
    if (!mc_src_take(s, 1, &p, errp)) {
        return false;
    }
    *v = p[0];
    return true;
}

bool mc_src_be16(mc_src *s, uint16_t *v, mc_error **errp)
{
    const uint8_t *p;
    if (!mc_src_take(s, 2, &p, errp)) {
        return false;
    }
    *v = mc_be16(p);
    return true;
}

bool mc_src_be32(mc_src *s, uint32_t *v, mc_error **errp)
{
    const uint8_t *p;
    if (!mc_src_take(s, 4, &p, errp)) {
        return false;
    }
    *v = mc_be32(p);
    return true;
}

bool mc_src_be64(mc_src *s, uint64_t *v, mc_error **errp)
{
    const uint8_t *p;
    if (!mc_src_take(s, 8, &p, errp)) {
        return false;
    }
    *v = mc_be64(p);
    return true;
}

bool mc_src_at_end(mc_src *s, bool *at_end, mc_error **errp)
{
    if (s->limit != UINT64_MAX && mc_src_offset(s) >= s->limit) {
        *at_end = true;
        return true;
    }
    if (s->len > s->pos) {
        *at_end = false;
        return true;
    }
    if (!s->read || s->eof) {
        *at_end = true;
        return true;
    }
    mc_error *err = NULL;
    if (fill(s, 1, &err)) {
        *at_end = false;
        return true;
    }
    if (s->eof && s->len == s->pos) {
        mc_error_free(err);
        *at_end = true;
        return true;
    }
    mc_error_propagate(errp, err);
    return false;
}

uint64_t mc_src_left_in_limit(const mc_src *s)
{
    return s->limit == UINT64_MAX ? UINT64_MAX : s->limit - mc_src_offset(s);
}

bool mc_src_slurp(mc_src *s, size_t cap, mc_error **errp)
{
    return mc_src_slurp_until(s, cap, NULL, NULL, errp);
}

bool mc_src_slurp_until(mc_src *s, size_t cap, mc_src_enough_fn enough,
                        void *opaque, mc_error **errp)
{
    if (!s->read) {
        if (enough) {
            (void)enough(opaque, s->buf + s->pos, s->len - s->pos, true);
        }
        return true;
    }
    /* Grow in steps; each fill() reads until the buffer is full or EOF. */
    for (;;) {
        if (enough &&
            enough(opaque, s->buf + s->pos, s->len - s->pos, s->eof)) {
            return true;
        }
        if (s->eof) {
            break;
        }
        size_t have = s->len - s->pos;
        if (have > cap) {
            mc_error_data(errp, mc_src_offset(s), s->path,
                          "the device state after this point exceeds the "
                          "buffering limit of %zu bytes", cap);
            return false;
        }
        /* have <= cap here; neither sum may wrap */
        size_t step = have > SIZE_MAX - MC_SRC_BUFSIZE ? SIZE_MAX
                                                       : have + MC_SRC_BUFSIZE;
        if (cap < SIZE_MAX && step > cap + 1) {
            step = cap + 1;
        }
        mc_error *err = NULL;
        if (!fill(s, step, &err)) {
            if (s->eof) {
                mc_error_free(err);
                continue; /* enough() is told of the end */
            }
            mc_error_propagate(errp, err);
            return false;
        }
    }
    return true;
}

bool mc_src_rewind(mc_src *s, uint64_t offset)
{
    if (offset < s->base || offset > s->base + s->len) {
        return false;
    }
    s->pos = (size_t)(offset - s->base);
    return true;
}

uint64_t mc_src_pin(mc_src *s, uint64_t offset)
{
    uint64_t saved = s->pin;
    if (s->pin == UINT64_MAX || s->pin > offset) {
        s->pin = offset;
    }
    return saved;
}

void mc_src_unpin(mc_src *s, uint64_t saved)
{
    s->pin = saved;
}

uint64_t mc_src_push_limit(mc_src *s, uint64_t end)
{
    uint64_t saved = s->limit;
    s->limit = end;
    return saved;
}

void mc_src_pop_limit(mc_src *s, uint64_t saved)
{
    s->limit = saved;
}

const char *mc_src_set_path(mc_src *s, const char *path)
{
    const char *saved = s->path;
    s->path = path;
    return saved;
}

bool mc_src_read(mc_src *s, uint8_t *buf, size_t cap, size_t *got,
                 mc_error **errp)
{
    *got = 0;
    if (cap == 0) {
        return true;
    }
    bool at_end;
    if (!mc_src_at_end(s, &at_end, errp)) {
        return false;
    }
    if (at_end) {
        return true;
    }
    size_t n = mc_src_buffered(s);
    if (n > cap) {
        n = cap;
    }
    if (s->limit != UINT64_MAX && n > s->limit - mc_src_offset(s)) {
        n = (size_t)(s->limit - mc_src_offset(s));
    }
    memcpy(buf, s->buf + s->pos, n);
    s->pos += n;
    *got = n;
    return true;
}

/* ---- sinks ---- */

static bool sink_fd_write(mc_sink *k, const uint8_t *p, size_t n,
                          mc_error **errp)
{
    while (n > 0) {
        ssize_t w = write(k->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            mc_error_set_errno(errp, errno, "write error");
            mc_error_set_side(errp, MC_SIDE_OUTPUT);
            mc_error_set_file(errp, k->name);
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

void mc_sink_init_fd(mc_sink *k, int fd)
{
    memset(k, 0, sizeof(*k));
    k->cap = MC_SRC_BUFSIZE;
    k->buf = mc_malloc(k->cap);
    k->fd = fd;
    k->write = sink_fd_write;
}

void mc_sink_init_mem(mc_sink *k)
{
    memset(k, 0, sizeof(*k));
    k->cap = 4096;
    k->buf = mc_malloc(k->cap);
    k->fd = -1;
    k->mem = true;
}

void mc_sink_init_fn(mc_sink *k, mc_sink_write_fn fn, void *opaque)
{
    memset(k, 0, sizeof(*k));
    k->cap = MC_SRC_BUFSIZE;
    k->buf = mc_malloc(k->cap);
    k->fd = -1;
    k->write = fn;
    k->opaque = opaque;
}

void mc_sink_cleanup(mc_sink *k)
{
    free(k->buf);
    k->buf = NULL;
}

static bool sink_fix_hole(mc_sink *k, mc_error **errp)
{
    /* a hole at the end of the file exists only once the size says so */
    off_t at = lseek(k->fd, 0, SEEK_CUR);
    struct stat st;
    if (at < 0 || fstat(k->fd, &st) != 0 ||
        (st.st_size < at && ftruncate(k->fd, at) != 0)) {
        mc_error_set_errno(errp, errno, "write error");
        mc_error_set_side(errp, MC_SIDE_OUTPUT);
        mc_error_set_file(errp, k->name);
        return false;
    }
    k->hole_at_end = false;
    return true;
}

bool mc_sink_flush(mc_sink *k, mc_error **errp)
{
    if (k->hole_at_end && k->len == 0) {
        return sink_fix_hole(k, errp);
    }
    if (k->mem || k->len == 0) {
        return true;
    }
    bool ok = k->write(k, k->buf, k->len, errp);
    k->len = 0;
    return ok;
}

bool mc_sink_write_zeros(mc_sink *k, uint64_t n, mc_error **errp)
{
    static const uint8_t zeros[65536];
    if (k->seekable == 0) {
        struct stat st;
        k->seekable = !k->mem && k->write == sink_fd_write &&
                      fstat(k->fd, &st) == 0 && S_ISREG(st.st_mode) &&
                      lseek(k->fd, 0, SEEK_CUR) >= 0 ? 1 : -1;
    }
    if (k->seekable > 0 && n >= 4096) {
        if (!mc_sink_flush(k, errp)) {
            return false;
        }
        if (n > (uint64_t)INT64_MAX || lseek(k->fd, (off_t)n, SEEK_CUR) < 0) {
            mc_error_set_errno(errp, errno ? errno : EOVERFLOW,
                               "write error");
            mc_error_set_side(errp, MC_SIDE_OUTPUT);
            mc_error_set_file(errp, k->name);
            return false;
        }
        k->written += n;
        k->hole_at_end = true;
        return true;
    }
    while (n > 0) {
        size_t c = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
        if (!mc_sink_write(k, zeros, c, errp)) {
            return false;
        }
        n -= c;
    }
    return true;
}

static bool fd_pio(int fd, bool wr, void *p, size_t n, uint64_t at,
                   const char *what, mc_error **errp)
{
    uint8_t *q = p;
    while (n) {
        ssize_t r = wr ? pwrite(fd, q, n, (off_t)at)
                       : pread(fd, q, n, (off_t)at);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 || (wr && r == 0)) {
            mc_error_set_errno(errp, r < 0 ? errno : ENOSPC, "%s error on %s",
                               wr ? "write" : "read", what);
            return false;
        }
        if (r == 0) {
            memset(q, 0, n);
            return true;
        }
        q += r;
        n -= (size_t)r;
        at += (uint64_t)r;
    }
    return true;
}

bool mc_fd_pwrite(int fd, const void *p, size_t n, uint64_t at,
                  const char *what, mc_error **errp)
{
    return fd_pio(fd, true, (void *)p, n, at, what, errp);
}

bool mc_fd_pread(int fd, void *p, size_t n, uint64_t at, const char *what,
                 mc_error **errp)
{
    return fd_pio(fd, false, p, n, at, what, errp);
}

int mc_tmpfile(const char *dir, mc_error **errp)
{
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {
        size_t n = strlen(dir) + 32;
        char *p = mc_malloc(n);
        snprintf(p, n, "%s/migconv-tmp.XXXXXX", dir);
        fd = mkstemp(p);
        if (fd >= 0) {
            unlink(p);
        }
        free(p);
    }
    if (fd < 0) {
        mc_error_set_errno(errp, errno, "cannot create a temporary file in %s",
                           dir);
    }
    return fd;
}

int mc_src_fd(const mc_src *s)
{
    return s->read == fd_read ? (int)(intptr_t)s->read_opaque : -1;
}

uint64_t mc_src_file_size(const mc_src *s)
{
    struct stat st;
    if (s->read != fd_read ||
        fstat((int)(intptr_t)s->read_opaque, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        return UINT64_MAX;
    }
    return (uint64_t)st.st_size;
}

bool mc_sink_write(mc_sink *k, const void *p, size_t n, mc_error **errp)
{
    if (n == 0) {
        return true;
    }
    k->written += n;
    k->hole_at_end = false;
    if (k->mem) {
        if (n > SIZE_MAX - k->len) {
            mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                         "output of more than %zu bytes in memory", SIZE_MAX);
            return false;
        }
        if (k->len + n > k->cap) {
            size_t ncap = k->cap ? k->cap : 4096;
            while (ncap < k->len + n) {
                ncap = ncap > SIZE_MAX / 2 ? k->len + n : ncap * 2;
            }
            k->buf = mc_realloc(k->buf, ncap);
            k->cap = ncap;
        }
        memcpy(k->buf + k->len, p, n);
        k->len += n;
        return true;
    }
    if (k->len + n <= k->cap) {
        memcpy(k->buf + k->len, p, n);
        k->len += n;
        return true;
    }
    if (!mc_sink_flush(k, errp)) {
        return false;
    }
    if (n >= k->cap / 2) {
        /* Large writes bypass the buffer. */
        return k->write(k, p, n, errp);
    }
    memcpy(k->buf, p, n);
    k->len = n;
    return true;
}

/* ---- the comparing sink ---- */

static bool cmp_differ(mc_sink_cmp *c, const uint8_t *q, const uint8_t *p,
                       size_t n, mc_error **errp)
{
    size_t i = 0;
    while (i < n && q[i] == p[i]) {
        i++;
    }
    c->differ = true;
    c->diff_at = c->pos + i;
    mc_error_data(errp, c->diff_at, NULL,
                  "round trip differs from the original");
    return false;
}

static bool cmp_write(mc_sink *k, const uint8_t *p, size_t n, mc_error **errp)
{
    mc_sink_cmp *c = k->opaque;
    while (n > 0) {
        size_t chunk = n < MC_SRC_BUFSIZE ? n : MC_SRC_BUFSIZE;
        const uint8_t *q;
        mc_error *err = NULL;
        if (!mc_src_peek(c->orig, chunk, &q, &err)) {
            if (err->cls != MC_ERR_DATA) {
                mc_error_propagate(errp, err);
                return false;
            }
            mc_error_free(err);
            /* The original is shorter: compare what is left of it. */
            return cmp_differ(c, mc_src_window(c->orig), p,
                              mc_src_buffered(c->orig), errp);
        }
        if (memcmp(q, p, chunk) != 0) {
            return cmp_differ(c, q, p, chunk, errp);
        }
        if (!mc_src_skip(c->orig, chunk, errp)) {
            return false;
        }
        c->pos += chunk;
        p += chunk;
        n -= chunk;
    }
    return true;
}

void mc_sink_init_cmp(mc_sink *k, mc_sink_cmp *c, mc_src *orig)
{
    memset(c, 0, sizeof(*c));
    c->orig = orig;
    mc_sink_init_fn(k, cmp_write, c);
}
