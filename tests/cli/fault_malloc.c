/*
 * Failing allocations for the shell tests, loaded with LD_PRELOAD (with
 * fault_shim.c) into the unmodified migconv binary; not for sanitized
 * builds, whose allocator it would replace.
 *
 *   MC_SHIM_MALLOC_LIMIT=N    malloc, calloc and realloc of N bytes or
 *                             more return NULL (ENOMEM); unset, nothing
 *                             fails
 */
#include <errno.h>
#include <stdlib.h>

/* glibc's own allocator, which malloc() below falls through to (dlsym
 * would allocate itself). */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static size_t malloc_limit(void)
{
    static size_t limit = (size_t)-1;
    static int init;
    if (!init) {
        const char *v = getenv("MC_SHIM_MALLOC_LIMIT");
        if (v && *v) {
            limit = (size_t)strtoull(v, NULL, 10);
        }
        init = 1;
    }
    return limit;
}

void *malloc(size_t n)
{
    if (n >= malloc_limit()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    if (size && n >= malloc_limit() / size) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    if (n >= malloc_limit()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, n);
}

