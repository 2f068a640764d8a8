/*
 * batch: convert many inputs (files, or directories walked recursively)
 * into OUTDIR, N at a time.  Each input is converted by its own worker
 * process running the one-input pipeline (pipeline.c), so a crash, a
 * signal or a failing input touches only that input; outputs are written
 * to a temporary file and renamed, so an interrupted batch leaves no
 * partial output and --skip-existing resumes it.  --shard K/N keeps the
 * inputs whose relative path hashes to K, so any scheduler can fan out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"

static void usage(FILE *f)
{
    fprintf(f,
"Usage: migconv batch -o OUTDIR [OPTIONS] IN...\n"
"Convert every input (files, and directories walked recursively) into\n"
"OUTDIR, mirroring the input paths: '.ber' is added going to BER and\n"
"removed going back ('.mig' is added when there is no '.ber' to remove).\n"
"The direction follows each input's format unless --to says.\n"
"\n"
"Options:\n"
"  -o, --output-dir DIR  where the outputs go (created if needed)\n"
"  -j, --jobs N         N conversions at a time (default: the CPU count)\n"
"      --to ber|legacy  convert only in this direction; other inputs fail\n"
"      --verify         convert each output back and compare it with the\n"
"                       input (the stream, and a container's header)\n"
"      --report FILE    one JSON line per input: paths, status, bytes,\n"
"                       seconds, error\n"
"      --skip-existing  leave inputs whose output exists (resume a batch)\n"
"      --shard K/N      only the inputs whose relative path hashes to K\n"
"                       (0 <= K < N): every input is in exactly one shard\n"
"  -f, --force          overwrite existing outputs\n"
"      --snapshot NAME|ID, --drop-trailer, --no-names, --tables FILE,\n"
"      --buffer-limit N: as for legacy-to-ber\n"
"      --progress, --no-progress, -q: one progress line for the batch\n"
"  -h, --help           show this help\n"
"\n"
"Exit status: 0 if every input succeeded (or was skipped), 1 if any\n"
"failed, 2 usage error, 130 interrupted (SIGINT/SIGTERM).\n");
}

typedef struct job {
    char *path;      /* as found */
    char *rel;       /* mirrored under OUTDIR */
    uint64_t size;
} job;

typedef struct job_list {
    job *v;
    size_t n, cap;
} job_list;

typedef struct batch_opts {
    const char *outdir;
    long jobs;
    mc_format from;          /* MC_FORMAT_UNKNOWN: by content */
    bool verify, skip_existing;
    const char *report;
    unsigned shard_k, shard_n;
    mc_cli_convert_opts conv;
    mc_cli_common c;
} batch_opts;

/* What a worker tells the parent (one write on a pipe). */
typedef struct job_result {
    int status;              /* 0 ok, 1 failed, 2 skipped */
    int exit_code;
    char from[8], to[8], container[16];
    uint64_t bytes_in, bytes_out, trailer;
    char output[1024];
    char error[1500];
} job_result;

/* ---- inputs ---- */

static void add_job(job_list *l, const char *path, const char *rel,
                    uint64_t size)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = mc_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].path = mc_strdup(path);
    l->v[l->n].rel = mc_strdup(rel);
    l->v[l->n].size = size;
    l->n++;
}

/* The path mirrored under OUTDIR: without leading '/' and './', with no
 * '..' component. */
static bool relative(const char *path, char *out, size_t cap)
{
    while (*path == '/') {
        path++;
    }
    while (path[0] == '.' && path[1] == '/') {
        path += 2;
        while (*path == '/') {
            path++;
        }
    }
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            return false;
        }
        p += n;
        while (*p == '/') {
            p++;
        }
    }
    if (!*path || strlen(path) >= cap) {
        return false;
    }
    snprintf(out, cap, "%s", path);
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool walk(job_list *l, const char *dir, int depth, mc_error **errp)
{
    if (depth > 64) {
        mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "%s: directories nested too deeply", dir);
        return false;
    }
    DIR *d = opendir(dir);
    if (!d) {
        mc_error_set_errno(errp, errno, "%s: cannot read the directory", dir);
        return false;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            e->d_name[0] == '.') {
            continue;   /* hidden files, and migconv's own temporaries */
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            names = mc_realloc(names, cap * sizeof(*names));
        }
        names[n++] = mc_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *p = mc_malloc(len);
        snprintf(p, len, "%s%s%s", dir,
                 dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        struct stat st;
        if (ok && stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                ok = walk(l, p, depth + 1, errp);
            } else if (S_ISREG(st.st_mode)) {
                char rel[4096];
                if (relative(p, rel, sizeof(rel))) {
                    add_job(l, p, rel, (uint64_t)st.st_size);
                }
            }
        }
        free(p);
        free(names[i]);
    }
    free(names);
    return ok;
}

/* FNV-1a, 64 bits: stable across machines and versions. */
static uint64_t path_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---- one input, in a worker ---- */

static bool mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                return false;
            }
            *p = '/';
        }
    }
    return true;
}

static void output_name(const batch_opts *o, const job *j, mc_format to,
                        char *out, size_t cap)
{
    size_t n = strlen(j->rel);
    if (to == MC_FORMAT_BER) {
        snprintf(out, cap, "%s/%s.ber", o->outdir, j->rel);
    } else if (n > 4 && strcmp(j->rel + n - 4, ".ber") == 0) {
        snprintf(out, cap, "%s/%.*s", o->outdir, (int)(n - 4), j->rel);
    } else {
        snprintf(out, cap, "%s/%s.mig", o->outdir, j->rel);
    }
}

static void set_error(job_result *r, const char *file, mc_error *err)
{
    char *m = mc_error_format(err);
    snprintf(r->error, sizeof(r->error), "%s: %s", file, m);
    free(m);
    r->exit_code = mc_error_exit_code(err);
    mc_error_free(err);
    r->status = 1;
}

/* --verify: the output, converted back, holds the same stream (and the
 * same container header) as the input. */
static bool same_content(const char *a, const char *b, const mc_cli_common *c,
                         mc_error **errp)
{
    mc_input x, y;
    if (!mc_input_open(&x, a, c, errp)) {
        return false;
    }
    if (!mc_input_open(&y, b, c, errp)) {
        mc_input_close(&x);
        return false;
    }
    bool ok = true;
    if (x.has_container != y.has_container ||
        (x.has_container &&
         (x.container.codec != y.container.codec ||
          x.container.libvirt_len != y.container.libvirt_len ||
          (x.container.libvirt &&
           memcmp(x.container.libvirt, y.container.libvirt,
                  x.container.libvirt_len) != 0)))) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "verify: the container differs after the round trip");
        ok = false;
    }
    while (ok) {
        bool ex, ey;
        ok = mc_src_at_end(x.src, &ex, errp) && mc_src_at_end(y.src, &ey, errp);
        if (!ok || (ex && ey)) {
            break;
        }
        size_t nx = mc_src_buffered(x.src), ny = mc_src_buffered(y.src);
        size_t n = nx < ny ? nx : ny;
        const uint8_t *px, *py;
        uint64_t at = mc_src_offset(x.src);
        if (ex != ey || !mc_src_take(x.src, n, &px, NULL) ||
            !mc_src_take(y.src, n, &py, NULL) || memcmp(px, py, n) != 0) {
            mc_error_data(errp, at, NULL, "verify: the round trip differs "
                          "from the input (%s)", x.name);
            ok = false;
        }
    }
    mc_input_close(&x);
    mc_input_close(&y);
    return ok;
}

/* What name_output needs (convert.c): the output is named once the input
 * is open and its format known, so every input is opened once (a FIFO
 * needs no --to). */
typedef struct naming {
    const batch_opts *o;
    const job *j;
    job_result *r;
} naming;

static bool name_output(void *opaque, mc_format from, char *out, size_t cap,
                        bool *skip, mc_error **errp)
{
    naming *nm = opaque;
    job_result *r = nm->r;
    mc_format to = from == MC_FORMAT_LEGACY ? MC_FORMAT_BER : MC_FORMAT_LEGACY;
    output_name(nm->o, nm->j, to, r->output, sizeof(r->output));
    snprintf(out, cap, "%s", r->output);
    snprintf(r->from, sizeof(r->from), "%s", mc_format_name(from));
    snprintf(r->to, sizeof(r->to), "%s", mc_format_name(to));
    struct stat st;
    if (nm->o->skip_existing && stat(r->output, &st) == 0) {
        *skip = true;
        return false;
    }
    if (!mkdirs(r->output)) {
        mc_error_set_errno(errp, errno, "cannot create the directory");
        return false;
    }
    return true;
}

static void run_job(const batch_opts *o, const job *j, job_result *r)
{
    memset(r, 0, sizeof(*r));
    mc_error *err = NULL;
    struct stat st;
    if (o->verify && stat(j->path, &st) == 0 && !S_ISREG(st.st_mode)) {
        mc_error_set(&err, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "--verify reads the input twice: it needs a regular "
                     "file, not a pipe or device");
        set_error(r, j->path, err);
        return;
    }
    /* The direction, from the content unless --to says (o->from). */
    naming nm = {.o = o, .j = j, .r = r};
    mc_cli_convert_opts conv = o->conv;
    conv.name_output = name_output;
    conv.name_opaque = &nm;
    mc_cli_convert_result res;
    if (!mc_cli_convert_one(j->path, NULL, o->from, &conv, &o->c, &res,
                            &err)) {
        set_error(r, res.errfile, err);
        return;
    }
    if (res.skipped) {
        r->status = 2;
        return;
    }
    mc_format to = res.to;
    r->bytes_in = res.bytes_in;
    r->bytes_out = res.bytes_out;
    r->trailer = res.trailer;
    snprintf(r->container, sizeof(r->container), "%s",
             res.container ? res.container : "");
    if (o->verify) {
        char back[1100];
        snprintf(back, sizeof(back), "%s.verify", r->output);
        mc_cli_common c2 = o->c;
        c2.force = true;
        c2.progress = 0;
        c2.quiet = true;
        mc_cli_convert_result res2;
        bool ok = mc_cli_convert_one(r->output, back, MC_FORMAT_UNKNOWN,
                                     &o->conv, &c2, &res2, &err) &&
                  same_content(to == MC_FORMAT_BER ? j->path : back,
                               to == MC_FORMAT_BER ? back : j->path, &c2, &err);
        unlink(back);
        if (!ok) {
            unlink(r->output);
            set_error(r, j->path, err);
        }
    }
}

/* ---- the parent ---- */

typedef struct worker {
    pid_t pid;
    int fd;          /* result pipe */
    size_t job;
    struct timespec start;
} worker;

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) +
           (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void report_line(FILE *f, const job *j, const job_result *r,
                        const char *status, double secs)
{
    if (!f) {
        return;
    }
    fprintf(f, "{\"input\": ");
    json_string(f, j->path);
    fprintf(f, ", \"output\": ");
    json_string(f, r->output);
    fprintf(f, ", \"status\": \"%s\"", status);
    if (r->from[0]) {
        fprintf(f, ", \"from\": \"%s\", \"to\": \"%s\"", r->from, r->to);
    }
    if (r->container[0]) {
        fprintf(f, ", \"container\": \"%s\"", r->container);
    }
    fprintf(f, ", \"bytes_in\": %llu, \"bytes_out\": %llu",
            (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out);
    if (r->trailer) {
        fprintf(f, ", \"trailer_bytes\": %llu", (unsigned long long)r->trailer);
    }
    fprintf(f, ", \"seconds\": %.3f", secs);
    if (r->error[0]) {
        fprintf(f, ", \"error\": ");
        json_string(f, r->error);
    }
    fprintf(f, "}\n");
    fflush(f);
}

static void human(char *buf, size_t cap, double v)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void progress_line(size_t done, size_t total, uint64_t bytes,
                          uint64_t total_bytes, double secs)
{
    char b[32], r[32];
    human(b, sizeof(b), (double)bytes);
    double rate = secs > 0 ? (double)bytes / secs : 0;
    human(r, sizeof(r), rate);
    char eta[32] = "--:--";
    if (rate > 0 && total_bytes >= bytes) {
        unsigned long s = (unsigned long)((double)(total_bytes - bytes) / rate);
        snprintf(eta, sizeof(eta), "%lu:%02lu", s / 60, s % 60);
    }
    fprintf(stderr, "\r\033[Kbatch: %zu/%zu files, %s, %s/s, ETA %s", done,
            total, b, r, eta);
    fflush(stderr);
}

static bool interrupted(void)
{
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, SIGINT) || sigismember(&p, SIGTERM) ||
           sigismember(&p, SIGHUP);
}

static int run_batch(const batch_opts *o, job_list *jobs)
{
    FILE *rep = NULL;
    if (o->report) {
        rep = fopen(o->report, "w");
        if (!rep) {
            mc_error *err = NULL;
            mc_error_set_errno(&err, errno, "cannot create the report");
            return mc_cli_report(o->report, err);
        }
    }
    /* Signals wait for the parent to look (sigpending); workers get the
     * default mask back and clean up their own temporary outputs. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    /* Also SIGCHLD, which the parent waits for with the others. */
    sigset_t wake = block;
    sigaddset(&wake, SIGCHLD);
    sigprocmask(SIG_BLOCK, &wake, &old);
    bool show = o->c.progress == 1 ||
                (o->c.progress == -1 && !o->c.quiet && isatty(STDERR_FILENO));
    worker *w = mc_calloc((size_t)o->jobs, sizeof(*w));
    for (long i = 0; i < o->jobs; i++) {
        w[i].pid = 0;
    }
    size_t next = 0, done = 0, failed = 0, skipped = 0, running = 0;
    uint64_t bytes_done = 0, bytes_total = 0, bytes_out = 0;
    for (size_t i = 0; i < jobs->n; i++) {
        bytes_total += jobs->v[i].size;
    }
    struct timespec t0, last = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool stop = false, signalled = false;
    while (done < jobs->n && !(stop && running == 0)) {
        if (!stop && (signalled || interrupted())) {
            stop = true;
            for (long i = 0; i < o->jobs; i++) {
                if (w[i].pid > 0) {
                    kill(w[i].pid, SIGTERM);
                }
            }
        }
        /* Start workers. */
        for (long i = 0; !stop && i < o->jobs && next < jobs->n; i++) {
            if (w[i].pid > 0) {
                continue;
            }
            int pfd[2];
            if (pipe(pfd) != 0) {
                break;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                close(pfd[0]);
                close(pfd[1]);
                break;
            }
            if (pid == 0) {
                close(pfd[0]);
                if (rep) {
                    /* Not ours to write: the parent reports. */
                    close(fileno(rep));
                }
                sigprocmask(SIG_SETMASK, &old, NULL);
                job_result r;
                run_job(o, &jobs->v[next], &r);
                ssize_t wr = write(pfd[1], &r, sizeof(r));
                _exit(wr == (ssize_t)sizeof(r) ? 0 : 4);
            }
            close(pfd[1]);
            w[i].pid = pid;
            w[i].fd = pfd[0];
            w[i].job = next++;
            clock_gettime(CLOCK_MONOTONIC, &w[i].start);
            running++;
        }
        /* Reap a worker, or wait for one to end (SIGCHLD), for a signal
         * that stops the batch, or for the next progress update. */
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            struct timespec ts = {0, 200 * 1000 * 1000};
            int sig = sigtimedwait(&wake, NULL, &ts);
            if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
                signalled = true;
            }
        } else {
            for (long i = 0; i < o->jobs; i++) {
                if (w[i].pid != pid) {
                    continue;
                }
                job_result r;
                memset(&r, 0, sizeof(r));
                ssize_t n = read(w[i].fd, &r, sizeof(r));
                close(w[i].fd);
                const job *j = &jobs->v[w[i].job];
                double secs = since(&w[i].start);
                const char *st;
                if (n != (ssize_t)sizeof(r)) {
                    r.status = 1;
                    snprintf(r.error, sizeof(r.error), "%s: %s", j->path,
                             WIFSIGNALED(status)
                                 ? (stop ? "interrupted" : "worker killed by a signal")
                                 : "worker failed");
                    st = stop ? "interrupted" : "failed";
                } else {
                    st = r.status == 0 ? "ok" : r.status == 2 ? "skipped" : "failed";
                }
                if (r.status == 1) {
                    failed++;
                    if (!stop) {
                        fprintf(stderr, "%s%s: %s\n", show ? "\r\033[K" : "",
                                mc_prog, r.error);
                    }
                } else if (r.status == 2) {
                    skipped++;
                }
                report_line(rep, j, &r, st, secs);
                bytes_done += j->size;
                bytes_out += r.bytes_out;
                done++;
                running--;
                w[i].pid = 0;
                break;
            }
        }
        if (show && since(&last) > 0.2) {
            clock_gettime(CLOCK_MONOTONIC, &last);
            progress_line(done, jobs->n, bytes_done, bytes_total, since(&t0));
        }
    }
    if (show) {
        fprintf(stderr, "\r\033[K");
    }
    double secs = since(&t0);
    if (!o->c.quiet) {
        char bi[32], bo[32];
        human(bi, sizeof(bi), (double)bytes_done);
        human(bo, sizeof(bo), (double)bytes_out);
        fprintf(stderr, "batch: %zu files: %zu converted, %zu skipped, %zu "
                "failed%s; %s in, %s out, %.1f s\n", jobs->n,
                done - failed - skipped, skipped, failed,
                stop ? ", interrupted" : "", bi, bo, secs);
    }
    if (rep) {
        fclose(rep);
    }
    free(w);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (stop) {
        return 130;
    }
    return failed ? MC_EXIT_DATA : 0;
}

int mc_cmd_batch(int argc, char **argv)
{
    batch_opts o;
    memset(&o, 0, sizeof(o));
    o.c.progress = -1;
    o.conv.names = true;
    o.jobs = sysconf(_SC_NPROCESSORS_ONLN);
    if (o.jobs < 1) {
        o.jobs = 1;
    }
    enum { OPT_TO = 0x300, OPT_VERIFY, OPT_REPORT, OPT_SKIP, OPT_SHARD };
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"output-dir", required_argument, NULL, 'o'},
        {"jobs", required_argument, NULL, 'j'},
        {"to", required_argument, NULL, OPT_TO},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"report", required_argument, NULL, OPT_REPORT},
        {"skip-existing", no_argument, NULL, OPT_SKIP},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"no-names", no_argument, NULL, MC_OPT_NO_NAMES},
        {NULL, 0, NULL, 0},
    };
    int opt, code = 0;
    while ((opt = getopt_long(argc, argv, MC_CLI_COMMON_SHORT "o:j:", longopts,
                              NULL)) != -1) {
        if (mc_cli_common_opt(&o.c, opt, optarg, "batch", &code)) {
            if (code) {
                return code;
            }
            continue;
        }
        char *end;
        switch (opt) {
        case 'h':
            usage(stdout);
            return 0;
        case 'o':
            o.outdir = optarg;
            break;
        case 'j':
            o.jobs = strtol(optarg, &end, 10);
            if (*end || end == optarg || o.jobs < 1 || o.jobs > 1024) {
                return mc_cli_usage_error("batch", "invalid job count '%s'",
                                          optarg);
            }
            break;
        case OPT_TO:
            if (strcmp(optarg, "ber") == 0) {
                o.from = MC_FORMAT_LEGACY;
            } else if (strcmp(optarg, "legacy") == 0) {
                o.from = MC_FORMAT_BER;
            } else {
                return mc_cli_usage_error("batch", "--to takes ber or legacy");
            }
            break;
        case OPT_VERIFY:
            o.verify = true;
            break;
        case OPT_REPORT:
            o.report = optarg;
            break;
        case OPT_SKIP:
            o.skip_existing = true;
            break;
        case OPT_SHARD: {
            unsigned k, n;
            char c;
            if (sscanf(optarg, "%u/%u%c", &k, &n, &c) != 2 || n == 0 || k >= n) {
                return mc_cli_usage_error("batch", "--shard takes K/N with "
                                          "0 <= K < N, not '%s'", optarg);
            }
            o.shard_k = k;
            o.shard_n = n;
            break;
        }
        case MC_OPT_NO_NAMES:
            o.conv.names = false;
            break;
        default:
            return mc_cli_usage_error("batch", "invalid option");
        }
    }
    if (!o.outdir) {
        return mc_cli_usage_error("batch", "-o OUTDIR is required");
    }
    if (argc - optind < 1) {
        return mc_cli_usage_error("batch", "expected at least one input");
    }
    if (o.skip_existing && o.c.force) {
        return mc_cli_usage_error("batch", "--skip-existing and -f exclude "
                                  "each other");
    }
    if (mkdir(o.outdir, 0777) != 0 && errno != EEXIST) {
        mc_error *err = NULL;
        mc_error_set_errno(&err, errno, "cannot create the output directory");
        return mc_cli_report(o.outdir, err);
    }
    job_list all = {0};
    mc_error *err = NULL;
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            mc_error_set_errno(&err, errno, "cannot open");
            code = mc_cli_report(argv[i], err);
            err = NULL;
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            if (!walk(&all, argv[i], 0, &err)) {
                code = mc_cli_report(NULL, err);
                goto out;
            }
        } else {
            char rel[4096];
            if (!relative(argv[i], rel, sizeof(rel))) {
                code = mc_cli_usage_error("batch", "%s: cannot mirror this "
                                          "path under OUTDIR (..)", argv[i]);
                goto out;
            }
            add_job(&all, argv[i], rel, (uint64_t)st.st_size);
        }
    }
    job_list mine = {0};
    for (size_t i = 0; i < all.n; i++) {
        if (o.shard_n && path_hash(all.v[i].rel) % o.shard_n != o.shard_k) {
            continue;
        }
        add_job(&mine, all.v[i].path, all.v[i].rel, all.v[i].size);
    }
    code = mine.n ? run_batch(&o, &mine) : 0;
    if (!mine.n && !o.c.quiet) {
        fprintf(stderr, "batch: no inputs%s\n", o.shard_n ? " in this shard" : "");
    }
    for (size_t i = 0; i < mine.n; i++) {
        free(mine.v[i].path);
        free(mine.v[i].rel);
    }
    free(mine.v);
out:
    for (size_t i = 0; i < all.n; i++) {
        free(all.v[i].path);
        free(all.v[i].rel);
    }
    free(all.v);
    return code;
}
