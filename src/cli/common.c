#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"
#include "desc/builtin.h"
#include "desc/tables.h"

const char *const mc_prog = "migconv";

int mc_cli_report(const char *file, mc_error *err)
{
    char *m = mc_error_format(err);
    if (err->file) {
        file = err->file;
    }
    if (file) {
        fprintf(stderr, "%s: %s: %s\n", mc_prog, file, m);
    } else {
        fprintf(stderr, "%s: %s\n", mc_prog, m);
    }
    free(m);
    int code = mc_error_exit_code(err);
    mc_error_free(err);
    return code;
}

void mc_cli_warn(void *opaque, const mc_error *w)
{
    const char *file = opaque;
    char *m = mc_error_format(w);
    fprintf(stderr, "%s: %s: warning: %s\n", mc_prog, file, m);
    free(m);
}

int mc_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s%s%s: ", mc_prog, cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s%s%s --help' for more information.\n", mc_prog,
            cmd ? " " : "", cmd ? cmd : "");
    return MC_EXIT_USAGE;
}

/* Sizes on the command line: decimal digits and an optional K, M, G or T
 * (powers of 1024), from 1 byte to MC_CLI_MAX_SIZE.  No sign, no spaces:
 * strtoull() would take "-1" as its two's complement. */
static bool parse_size(const char *s, size_t *out)
{
    if (*s < '0' || *s > '9') {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) {
        return false;
    }
    unsigned long long mul = 1;
    switch (*end) {
    case 'K': case 'k': mul = 1ull << 10; end++; break;
    case 'M': case 'm': mul = 1ull << 20; end++; break;
    case 'G': case 'g': mul = 1ull << 30; end++; break;
    case 'T': case 't': mul = 1ull << 40; end++; break;
    }
    if (*end || v == 0 || v > MC_CLI_MAX_SIZE / mul) {
        return false;
    }
    *out = (size_t)(v * mul);
    return true;
}

bool mc_cli_common_opt(mc_cli_common *c, int opt, const char *arg,
                       const char *cmd, int *exit_code)
{
    switch (opt) {
    case 'f':
        c->force = true;
        return true;
    case 'q':
        c->quiet = true;
        c->progress = 0;
        return true;
    case MC_OPT_PROGRESS:
        c->progress = 1;
        return true;
    case MC_OPT_NO_PROGRESS:
        c->progress = 0;
        return true;
    case MC_OPT_TABLES:
        c->tables_path = arg;
        return true;
    case MC_OPT_SYNC:
        c->sync = true;
        return true;
    case MC_OPT_VMDESC_LIMIT:
    case MC_OPT_TABLES_LIMIT:
        if (!parse_size(arg, opt == MC_OPT_VMDESC_LIMIT ? &c->vmdesc_limit
                                                        : &c->tables_limit)) {
            *exit_code = mc_cli_usage_error(
                cmd, "invalid size '%s' for %s (1 to 1T, with an optional "
                "K, M, G or T)", arg, opt == MC_OPT_VMDESC_LIMIT
                                          ? "--vmdesc-limit" : "--tables-limit");
        }
        return true;
    case MC_OPT_QEMU_VERSION:
        if (!mc_builtin_version_known(arg)) {
            const char *const *vs;
            size_t n = mc_builtin_versions(&vs);
            *exit_code = mc_cli_usage_error(
                cmd, "unknown QEMU version '%s' (built-in tables: %s ... %s)",
                arg, vs[0], vs[n - 1]);
        }
        c->qemu_version = arg;
        return true;
    case MC_OPT_SNAPSHOT:
        c->snapshot = arg;
        return true;
    case MC_OPT_DROP_TRAILER:
        c->drop_trailer = true;
        return true;
    case MC_OPT_BUFFER_LIMIT:
        if (!parse_size(arg, &c->tail_cap)) {
            *exit_code = mc_cli_usage_error(
                cmd, "invalid size '%s' for --buffer-limit (1 to 1T, "
                "with an optional K, M, G or T)", arg);
        }
        return true;
    }
    return false;
}

/* ---- inputs ---- */

/* Pipes between migconv processes move megabytes per second: a larger
 * pipe buffer than the default 64 KiB means fewer context switches.  Best
 * effort: the kernel may refuse (pipe-max-size). */
static void grow_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
        (void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
    }
#else
    (void)fd;
#endif
}

bool mc_input_open(mc_input *in, const char *path, const mc_cli_common *c,
                   mc_error **errp)
{
    memset(in, 0, sizeof(*in));
    in->name = strcmp(path, "-") == 0 ? "(stdin)" : path;
    in->fname = in->name;
    if (strcmp(path, "-") == 0) {
        in->fd = STDIN_FILENO;
    } else {
        in->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            mc_error_set_errno(errp, errno, "cannot open");
            return false;
        }
    }
    struct stat st;
    if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        in->size = (uint64_t)st.st_size;
    } else if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        mc_error_set(errp, MC_ERR_IO, MC_NO_OFFSET, NULL, "is a directory");
        mc_input_close(in);
        return false;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    grow_pipe(in->fd);
    mc_src_init_fd(&in->file, in->fd);
    in->progress = mc_progress_new(in->name, in->size, c);
    if (in->progress) {
        in->file.progress = mc_progress_update;
        in->file.progress_opaque = in->progress;
    }
    in->src = &in->file;
    if (!mc_input_stack(in, c, errp)) {
        mc_input_close(in);
        return false;
    }
    return true;
}

void mc_input_blame(const mc_input *in, mc_error *err)
{
    if (err && err->offset != MC_NO_OFFSET && in->src && in->src->layer &&
        !err->layer) {
        mc_error_set_layer(err, in->src->layer);
    }
}

void mc_input_close(mc_input *in)
{
    mc_input_unstack(in);
    if (in->progress) {
        mc_progress_finish(in->progress);
        in->progress = NULL;
    }
    mc_src_cleanup(&in->file);
    if (in->fd > STDERR_FILENO) {
        close(in->fd);
    }
    in->fd = -1;
}

/* Copy the rest of the input's stream (its top layer) to an unlinked
 * temporary file, so that it can be read more than once. */
int mc_input_spool(mc_input *in, mc_error **errp)
{
    int fd = mc_temp_fd(errp);
    if (fd < 0) {
        return -1;
    }
    char tname[4200];
    mc_temp_sink_name(tname, sizeof(tname));
    mc_sink k;
    mc_sink_init_fd(&k, fd);
    k.name = tname;
    for (;;) {
        size_t n = mc_src_buffered(in->src);
        const uint8_t *p;
        if (n == 0) {
            bool at_end;
            if (!mc_src_at_end(in->src, &at_end, errp)) {
                goto fail;
            }
            if (at_end) {
                break;
            }
            n = mc_src_buffered(in->src);
        }
        if (!mc_src_take(in->src, n, &p, errp) ||
            !mc_sink_write(&k, p, n, errp)) {
            goto fail;
        }
    }
    if (!mc_sink_flush(&k, errp)) {
        goto fail;
    }
    mc_sink_cleanup(&k);
    return fd;
fail:
    mc_sink_cleanup(&k);
    close(fd);
    return -1;
}

const char *mc_temp_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

void mc_temp_sink_name(char *buf, size_t n)
{
    snprintf(buf, n, "temporary file in %s", mc_temp_dir());
}

int mc_temp_fd(mc_error **errp)
{
    const char *dir = mc_temp_dir();
    char path[4096];
    snprintf(path, sizeof(path), "%s/migconv-verify.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        mc_error_set_errno(errp, errno, "cannot create a temporary file");
        mc_error_set_file(errp, dir);
        return -1;
    }
    unlink(path);
    return fd;
}

/* ---- outputs ---- */

void mc_cli_startup(void)
{
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int n = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
            if (n < 0) {
                /* Nothing can be reported without a stderr. */
                _exit(MC_EXIT_IO);
            }
            if (n != fd) {
                /* Lower fds are open now, so this cannot happen; be safe. */
                dup2(n, fd);
                close(n);
            }
        }
    }
    signal(SIGXFSZ, SIG_IGN);
    mc_set_oom_handler(mc_cleanup_oom);
}

static void block_signals(sigset_t *old)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, old);
}

/* "DIR/.BASE." + suffix, the hidden temporary name beside path. */
static char *temp_name(const char *path, const char *suffix)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + strlen(suffix) + 3;
    char *t = mc_malloc(n);
    snprintf(t, n, "%.*s.%s.%s", (int)dirlen, path, path + dirlen, suffix);
    return t;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        return mc_strdup(".");
    }
    if (slash == path) {
        return mc_strdup("/");
    }
    size_t n = (size_t)(slash - path);
    char *d = mc_malloc(n + 1);
    memcpy(d, path, n);
    d[n] = 0;
    return d;
}

/* An unnamed file in dir (O_TMPFILE), or -1 where the filesystem or kernel
 * has none or it could not be linked later (no /proc). */
static int open_anon(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) {
        return -1;
    }
    char proc[64];
    struct stat st;
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    if (stat(proc, &st) != 0) {
        close(fd);
        return -1;
    }
    return fd;
#else
    (void)dir;
    return -1;
#endif
}

/* Give the unnamed file fd the name path (fails with EEXIST if it exists). */
static int link_anon(int fd, const char *path)
{
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

bool mc_output_open(mc_output *out, const char *path, bool binary,
                    const mc_cli_common *c, const mc_input *in,
                    mc_error **errp)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    out->sync = c->sync;
    if (strcmp(path, "-") == 0) {
        out->name = "(stdout)";
        if (binary && isatty(STDOUT_FILENO)) {
            mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                         "refusing to write binary data to a terminal "
                         "(redirect it or name an output file)");
            return false;
        }
        out->fd = STDOUT_FILENO;
        grow_pipe(out->fd);
        mc_sink_init_fd(&out->sink, out->fd);
        out->sink.name = out->name;
        return true;
    }
    out->name = path;
    struct stat st, ist;
    if (stat(path, &st) == 0) {
        if (in && fstat(in->fd, &ist) == 0 && st.st_dev == ist.st_dev &&
            st.st_ino == ist.st_ino) {
            mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                         "output is the same file as the input");
            return false;
        }
        if (!c->force) {
            mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                         "already exists (use -f to overwrite)");
            return false;
        }
        if (!S_ISREG(st.st_mode)) {
            /* A device or FIFO: write to it directly. */
            out->fd = open(path, O_WRONLY | O_CLOEXEC);
            if (out->fd < 0) {
                mc_error_set_errno(errp, errno, "cannot open");
                return false;
            }
            mc_sink_init_fd(&out->sink, out->fd);
            out->sink.name = out->name;
            return true;
        }
        out->replace = true;
    }
    out->dir = dir_of(path);
    /* An unnamed file in the target's directory: no name exists until
     * commit links it in, so nothing is left behind whatever ends the
     * process.  Where that is not available, a hidden temporary file
     * beside the target, renamed on commit and removed on failure and on
     * SIGINT/SIGTERM/SIGHUP. */
    out->fd = open_anon(out->dir);
    if (out->fd >= 0) {
        out->anon = true;
    } else {
        out->tmp_path = temp_name(path, "XXXXXX");
        sigset_t old;
        block_signals(&old);
        out->fd = mkstemp(out->tmp_path);
        bool listed = out->fd >= 0 && mc_cleanup_add(out->tmp_path);
        if (out->fd >= 0 && !listed) {
            unlink(out->tmp_path);
            close(out->fd);
            out->fd = -1;
            errno = EMFILE;
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (out->fd < 0) {
            mc_error_set_errno(errp, errno, "cannot create a temporary file "
                               "beside the output");
            free(out->tmp_path);
            out->tmp_path = NULL;
            free(out->dir);
            out->dir = NULL;
            return false;
        }
        mode_t mask = umask(0);
        umask(mask);
        fchmod(out->fd, 0666 & ~mask);
    }
    mc_sink_init_fd(&out->sink, out->fd);
    out->sink.name = out->name;
    return true;
}

/* Link the unnamed output into place: directly when there was no file of
 * that name (link fails if one appeared since), else under a temporary
 * name renamed over the old file. */
static bool commit_anon(mc_output *out, mc_error **errp)
{
    if (!out->replace) {
        if (link_anon(out->fd, out->name) != 0) {
            mc_error_set_errno(errp, errno, errno == EEXIST
                               ? "cannot create (use -f to overwrite)"
                               : "cannot link the output into place");
            return false;
        }
        return true;
    }
    for (unsigned i = 0;; i++) {
        char suffix[32];
        snprintf(suffix, sizeof(suffix), "%u-%u", (unsigned)getpid(), i);
        char *t = temp_name(out->name, suffix);
        sigset_t old;
        block_signals(&old);
        int r = link_anon(out->fd, t);
        int e = errno;
        if (r == 0 && !mc_cleanup_add(t)) {
            unlink(t);
            r = -1;
            e = EMFILE;
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (r == 0) {
            out->tmp_path = t;
            break;
        }
        free(t);
        if (e != EEXIST || i >= 100) {
            mc_error_set_errno(errp, e, "cannot link the output into place");
            return false;
        }
    }
    if (rename(out->tmp_path, out->name) != 0) {
        mc_error_set_errno(errp, errno, "cannot rename the temporary file");
        return false;
    }
    return true;
}

static bool sync_dir(const char *dir, mc_error **errp)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        mc_error_set_errno(errp, errno, "cannot sync the directory %s", dir);
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    close(fd);
    return true;
}

bool mc_output_commit(mc_output *out, mc_error **errp)
{
    if (!mc_sink_flush(&out->sink, errp)) {
        mc_output_abort(out);
        return false;
    }
    mc_sink_cleanup(&out->sink);
    struct stat st;
    if (out->sync && fstat(out->fd, &st) == 0 && S_ISREG(st.st_mode) &&
        fsync(out->fd) != 0) {
        mc_error_set_errno(errp, errno, "cannot sync");
        mc_error_set_file(errp, out->name);
        mc_output_abort(out);
        return false;
    }
    bool linked = false;
    if (out->anon) {
        if (!commit_anon(out, errp)) {
            mc_error_set_file(errp, out->name);
            mc_output_abort(out);
            return false;
        }
        linked = true;
    }
    if (out->fd > STDERR_FILENO) {
        if (close(out->fd) != 0) {
            out->fd = -1;
            mc_error_set_errno(errp, errno, "write error");
            mc_error_set_file(errp, out->name);
            if (linked) {
                unlink(out->name);
            }
            mc_output_abort(out);
            return false;
        }
    }
    out->fd = -1;
    if (out->tmp_path && !linked) {
        if (rename(out->tmp_path, out->name) != 0) {
            mc_error_set_errno(errp, errno, "cannot rename the temporary file");
            mc_error_set_file(errp, out->name);
            mc_output_abort(out);
            return false;
        }
    }
    if (out->tmp_path) {
        mc_cleanup_remove(out->tmp_path);
    }
    free(out->tmp_path);
    out->tmp_path = NULL;
    if (out->sync && out->dir && !sync_dir(out->dir, errp)) {
        mc_error_set_file(errp, out->name);
        unlink(out->name);
        free(out->dir);
        out->dir = NULL;
        return false;
    }
    free(out->dir);
    out->dir = NULL;
    return true;
}

void mc_output_abort(mc_output *out)
{
    mc_sink_cleanup(&out->sink);
    if (out->fd > STDERR_FILENO) {
        close(out->fd);
    }
    out->fd = -1;
    if (out->tmp_path) {
        unlink(out->tmp_path);
        mc_cleanup_remove(out->tmp_path);
        free(out->tmp_path);
        out->tmp_path = NULL;
    }
    free(out->dir);
    out->dir = NULL;
}

/* ---- descriptor tables ---- */

bool mc_cli_load_tables(struct mc_tables *t, const char *path, size_t limit,
                        mc_error **errp)
{
    if (!limit) {
        limit = MC_DEFAULT_TABLES_LIMIT;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mc_error_set_errno(errp, errno, "cannot open");
        mc_error_set_file(errp, path);
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        mc_error_set_errno(errp, errno, "cannot stat");
        mc_error_set_file(errp, path);
        close(fd);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        mc_error_set(errp, MC_ERR_IO, MC_NO_OFFSET, NULL, "is a directory");
        mc_error_set_file(errp, path);
        close(fd);
        return false;
    }
    /* A regular file is refused by its size before anything is read; any
     * other (a pipe, /dev/zero) after limit + 1 bytes. */
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > limit) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "tables file of %llu bytes exceeds the limit of %zu "
                      "bytes (raise it with --tables-limit)",
                      (unsigned long long)st.st_size, limit);
        mc_error_set_file(errp, path);
        close(fd);
        return false;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = mc_malloc(cap);
    for (;;) {
        if (len == cap) {
            if (len > limit) {
                break;
            }
            cap = cap > limit / 2 ? limit + 1 : cap * 2;
            buf = mc_realloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            mc_error_set_errno(errp, errno, "read error");
            mc_error_set_file(errp, path);
            free(buf);
            close(fd);
            return false;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (len > limit) {
        free(buf);
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "tables file exceeds the limit of %zu bytes (raise it "
                      "with --tables-limit)", limit);
        mc_error_set_file(errp, path);
        return false;
    }
    bool ok = mc_tables_load_limited(t, buf, len, limit, errp);
    free(buf);
    mc_error_set_file(errp, path);
    return ok;
}

bool mc_cli_tables(const mc_cli_common *c, struct mc_tables **out,
                   mc_error **errp)
{
    *out = NULL;
    if (!c->tables_path) {
        return true;
    }
    mc_tables *t = mc_tables_new();
    if (!mc_cli_load_tables(t, c->tables_path, c->tables_limit, errp)) {
        mc_tables_free(t);
        return false;
    }
    *out = t;
    return true;
}
