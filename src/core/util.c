#include "core/util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic(mc_oom_handler) oom_handler;

void mc_set_oom_handler(mc_oom_handler handler)
{
    atomic_store(&oom_handler, handler);
}

static void oom(size_t n)
{
    /* The one place below the CLI that may end the process: there is no
     * sensible way to report an allocation failure of a bounded size.  A
     * program's handler (the CLI's: one message line, temporary outputs
     * removed, exit 4) does not return; without one, abort. */
    mc_oom_handler handler = atomic_load(&oom_handler);
    if (handler) {
        handler(n);
    }
    fprintf(stderr, "migconv: out of memory (%zu bytes)\n", n);
    abort();
}

void *mc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        oom(n);
    }
    return p;
}

void *mc_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        oom(n * size);
    }
    return p;
}

void *mc_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        oom(n);
    }
    return q;
}

char *mc_strdup(const char *s)
{
    return mc_strndup(s, strlen(s));
}

char *mc_strndup(const char *s, size_t n)
{
    char *d = mc_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

uint64_t mc_get_be(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

void mc_put_be(uint8_t *p, unsigned width, uint64_t v)
{
    for (unsigned i = width; i-- > 0;) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}
