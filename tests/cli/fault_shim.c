/*
 * Fault injection for the shell tests, loaded with LD_PRELOAD into the
 * unmodified migconv binary (the product has no test-only code paths).
 * Failing allocations are in fault_malloc.c, a library of its own (a
 * sanitized binary keeps its own allocator: it gets this one alone).
 * Each fault is off unless its environment variable is set:
 *
 *   MC_SHIM_NO_TMPFILE=1      open()/openat() with O_TMPFILE fail with
 *                             EOPNOTSUPP, as on a filesystem without it
 *                             (the temp + rename fallback is taken)
 *   MC_SHIM_LOG=FILE          append one line per fsync/fdatasync call
 *                             ("fsync FD FILE-TYPE") and per O_TMPFILE
 *                             refused ("no-tmpfile DIR") to FILE
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void shim_log(const char *fmt, ...)
{
    const char *log = getenv("MC_SHIM_LOG");
    if (!log || !*log) {
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof(line)) {
        n = sizeof(line) - 1;
    }
    int saved = errno;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, log,
                          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
        close(fd);
    }
    errno = saved;
}

static int no_tmpfile(const char *path, int flags)
{
    if ((flags & O_TMPFILE) != O_TMPFILE) {
        return 0;
    }
    const char *v = getenv("MC_SHIM_NO_TMPFILE");
    if (!v || strcmp(v, "1") != 0) {
        return 0;
    }
    shim_log("no-tmpfile %s\n", path);
    errno = EOPNOTSUPP;
    return 1;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
           ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (no_tmpfile(path, flags)) {
        return -1;
    }
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (no_tmpfile(path, flags)) {
        return -1;
    }
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (no_tmpfile(path, flags)) {
        return -1;
    }
    return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (no_tmpfile(path, flags)) {
        return -1;
    }
    return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

static const char *type_of(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return "bad";
    }
    return S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file"
                                                               : "other";
}

int fsync(int fd)
{
    shim_log("fsync %d %s\n", fd, type_of(fd));
    return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
    shim_log("fdatasync %d %s\n", fd, type_of(fd));
    return (int)syscall(SYS_fdatasync, fd);
}
