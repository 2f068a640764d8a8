/*
 * fuzz_regress: replay inputs through every fuzz target without libFuzzer.
 *
 *   fuzz_regress [-t TARGET]... PATH...
 *
 * Each PATH is a file or a directory (its regular files, not recursive,
 * dot files and README* skipped).  Every target runs on every input in a
 * child process, so an abort(), a sanitizer report, a crash or a hang
 * (more than FUZZ_REGRESS_TIMEOUT seconds, default 60) counts as one
 * failure and the run goes on.  Prints each failure and a summary line;
 * exits 0 only if nothing failed and there was at least one input.
 *
 * The targets' entry points are renamed at compile time
 * (-DLLVMFuzzerTestOneInput=fuzz_<target>_one; see CMakeLists.txt).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int fuzz_legacy_one(const uint8_t *data, size_t size);
int fuzz_ber_one(const uint8_t *data, size_t size);
int fuzz_roundtrip_one(const uint8_t *data, size_t size);

static const struct {
    const char *name;
    int (*fn)(const uint8_t *data, size_t size);
} targets[] = {
    {"legacy", fuzz_legacy_one},
    {"ber", fuzz_ber_one},
    {"roundtrip", fuzz_roundtrip_one},
};
#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

typedef struct file_list {
    char **paths;
    size_t n, cap;
} file_list;

static void add_path(file_list *l, const char *path)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->paths = realloc(l->paths, l->cap * sizeof(*l->paths));
        if (!l->paths) {
            perror("fuzz_regress");
            exit(2);
        }
    }
    l->paths[l->n++] = strdup(path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add a file, or the regular files of a directory (sorted). */
static bool collect(file_list *l, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "fuzz_regress: %s: %s\n", arg, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_path(l, arg);
        return true;
    }
    DIR *d = opendir(arg);
    if (!d) {
        fprintf(stderr, "fuzz_regress: %s: %s\n", arg, strerror(errno));
        return false;
    }
    size_t first = l->n;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) {
            continue;
        }
        size_t n = strlen(arg) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        snprintf(p, n, "%s/%s", arg, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            add_path(l, p);
        }
        free(p);
    }
    closedir(d);
    qsort(l->paths + first, l->n - first, sizeof(*l->paths), cmp_str);
    return true;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            break;
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Run one target on one input in a child; true if it returned normally. */
static bool run_one(size_t t, const char *path, const uint8_t *data,
                    size_t len, unsigned timeout)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fuzz_regress: fork");
        return false;
    }
    if (pid == 0) {
        alarm(timeout);
        targets[t].fn(data, len);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("fuzz_regress: waitpid");
            return false;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return true;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        printf("FAIL %s %s: %s\n", targets[t].name, path,
               sig == SIGALRM ? "timeout" : strsignal(sig));
    } else {
        printf("FAIL %s %s: exit status %d\n", targets[t].name, path,
               WEXITSTATUS(status));
    }
    return false;
}

static void usage(void)
{
    fprintf(stderr, "usage: fuzz_regress [-t legacy|ber|roundtrip]... "
                    "FILE-OR-DIR...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bool selected[N_TARGETS] = {false};
    bool any_selected = false;
    file_list files = {0};
    bool args_ok = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0) {
            if (++i == argc) {
                usage();
            }
            size_t t = 0;
            while (t < N_TARGETS && strcmp(targets[t].name, argv[i]) != 0) {
                t++;
            }
            if (t == N_TARGETS) {
                usage();
            }
            selected[t] = any_selected = true;
        } else if (argv[i][0] == '-') {
            usage();
        } else {
            args_ok &= collect(&files, argv[i]);
        }
    }
    const char *env = getenv("FUZZ_REGRESS_TIMEOUT");
    unsigned timeout = env && atoi(env) > 0 ? (unsigned)atoi(env) : 60;

    unsigned passed = 0, failed = 0;
    for (size_t i = 0; i < files.n; i++) {
        size_t len = 0;
        uint8_t *data = read_file(files.paths[i], &len);
        if (!data) {
            printf("FAIL %s: cannot read: %s\n", files.paths[i],
                   strerror(errno));
            failed++;
            continue;
        }
        for (size_t t = 0; t < N_TARGETS; t++) {
            if (any_selected && !selected[t]) {
                continue;
            }
            if (run_one(t, files.paths[i], data, len, timeout)) {
                passed++;
            } else {
                failed++;
            }
        }
        free(data);
    }
    printf("%u passed, %u failed (%zu inputs)\n", passed, failed, files.n);
    for (size_t i = 0; i < files.n; i++) {
        free(files.paths[i]);
    }
    free(files.paths);
    if (!args_ok || files.n == 0) {
        return 2;
    }
    return failed ? 1 : 0;
}
