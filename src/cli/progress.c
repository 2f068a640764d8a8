/* A throttled progress line on stderr: bytes, rate, percent and ETA. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"

struct mc_progress {
    const char *label;
    uint64_t total;
    double start, last;
    uint64_t done;
    bool shown;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct mc_progress *mc_progress_new(const char *label, uint64_t total,
                                    const mc_cli_common *c)
{
    bool on = c->progress > 0 ||
              (c->progress < 0 && !c->quiet && isatty(STDERR_FILENO));
    if (!on) {
        return NULL;
    }
    struct mc_progress *p = mc_calloc(1, sizeof(*p));
    p->label = label;
    p->total = total;
    p->start = p->last = now();
    return p;
}

static void show(struct mc_progress *p, double t)
{
    double mib = (double)p->done / (1 << 20);
    double el = t - p->start;
    double rate = el > 0 ? mib / el : 0;
    if (p->total) {
        double pct = 100.0 * (double)p->done / (double)p->total;
        double eta = rate > 0 ? ((double)(p->total - (p->done < p->total ? p->done : p->total)) /
                                 (1 << 20)) / rate : 0;
        fprintf(stderr, "\r%s: %s: %.1f / %.1f MiB (%.0f%%), %.1f MiB/s, ETA %.0f s   ",
                mc_prog, p->label, mib, (double)p->total / (1 << 20), pct, rate,
                eta);
    } else {
        fprintf(stderr, "\r%s: %s: %.1f MiB, %.1f MiB/s   ", mc_prog, p->label,
                mib, rate);
    }
    p->shown = true;
}

void mc_progress_update(void *opaque, uint64_t done)
{
    struct mc_progress *p = opaque;
    p->done = done;
    double t = now();
    if (t - p->last >= 0.25) {
        p->last = t;
        show(p, t);
    }
}

void mc_progress_finish(struct mc_progress *p)
{
    if (p->shown) {
        show(p, now());
        fputc('\n', stderr);
    }
    free(p);
}
