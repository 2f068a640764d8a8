#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static char *vformat(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *vformat(const char *fmt, va_list ap)
{
    va_list aq;
    char probe[1];
    va_copy(aq, ap);
    int n = vsnprintf(probe, sizeof(probe), fmt, aq);
    va_end(aq);
    if (n < 0) {
        return mc_strdup("(unformattable error)");
    }
    char *s = mc_malloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

#ifdef MC_CHECKS
/* An error set where one is already set: a broken error rule (error.h). */
static void set_twice(const mc_error *old, const char *fmt)
{
    fprintf(stderr, "migconv: internal error: an error was set twice: "
            "\"%s\", then \"%s\"\n", old->msg, fmt);
    abort();
}
#endif

void mc_error_set(mc_error **errp, mc_error_class cls, uint64_t offset,
                  const char *path, const char *fmt, ...)
{
    if (!errp) {
        return;
    }
    if (*errp) {
#ifdef MC_CHECKS
        set_twice(*errp, fmt);
#endif
        return;
    }
    mc_error *e = mc_calloc(1, sizeof(*e));
    e->cls = cls;
    e->offset = offset;
    e->path = (path && *path) ? mc_strdup(path) : NULL;
    va_list ap;
    va_start(ap, fmt);
    e->msg = vformat(fmt, ap);
    va_end(ap);
    *errp = e;
}

void mc_error_set_errno(mc_error **errp, int errnum, const char *fmt, ...)
{
    if (!errp) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *m = vformat(fmt, ap);
    va_end(ap);
    mc_error_set(errp, MC_ERR_IO, MC_NO_OFFSET, NULL, "%s: %s", m,
                 strerror(errnum));
    free(m);
}

void mc_error_prepend(mc_error **errp, const char *prefix)
{
    if (!errp || !*errp || !prefix) {
        return;
    }
    mc_error *e = *errp;
    size_t n = strlen(prefix) + strlen(e->msg) + 3;
    char *m = mc_malloc(n);
    snprintf(m, n, "%s: %s", prefix, e->msg);
    free(e->msg);
    e->msg = m;
}

void mc_error_set_file(mc_error **errp, const char *file)
{
    if (!errp || !*errp || !file || (*errp)->file) {
        return;
    }
    (*errp)->file = mc_strdup(file);
}

void mc_error_set_side(mc_error **errp, mc_error_side side)
{
    if (errp && *errp && (*errp)->side == MC_SIDE_UNKNOWN) {
        (*errp)->side = side;
    }
}

void mc_error_set_layer(mc_error *err, const char *layer)
{
    if (err) {
        err->layer = layer;
    }
}

char *mc_error_format(const mc_error *err)
{
    char off[128] = "";
    if (err->offset != MC_NO_OFFSET && err->layer) {
        snprintf(off, sizeof(off), "%.60s: stream offset %llu: ", err->layer,
                 (unsigned long long)err->offset);
    } else if (err->offset != MC_NO_OFFSET && err->side == MC_SIDE_OUTPUT) {
        snprintf(off, sizeof(off), "output offset %llu: ",
                 (unsigned long long)err->offset);
    } else if (err->offset != MC_NO_OFFSET) {
        snprintf(off, sizeof(off), "offset %llu: ",
                 (unsigned long long)err->offset);
    }
    size_t n = strlen(off) + (err->path ? strlen(err->path) + 2 : 0) +
               strlen(err->msg) + 1;
    char *s = mc_malloc(n);
    snprintf(s, n, "%s%s%s%s", off, err->path ? err->path : "",
             err->path ? ": " : "", err->msg);
    return s;
}

int mc_error_exit_code(const mc_error *err)
{
    switch (err->cls) {
    case MC_ERR_DATA:
        return MC_EXIT_DATA;
    case MC_ERR_USAGE:
        return MC_EXIT_USAGE;
    case MC_ERR_IO:
        return MC_EXIT_IO;
    default:
        return MC_EXIT_INTERNAL;
    }
}

void mc_error_free(mc_error *err)
{
    if (err) {
        free(err->path);
        free(err->msg);
        free(err->file);
        free(err);
    }
}

void mc_error_propagate(mc_error **dst, mc_error *src)
{
    if (!src) {
        return;
    }
    if (dst && !*dst) {
        *dst = src;
    } else {
        mc_error_free(src);
    }
}
