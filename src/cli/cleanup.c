/*
 * Temporary outputs to remove if a signal ends the process.
 *
 * Every output in progress registers its temporary path here; SIGINT,
 * SIGTERM and SIGHUP unlink every registered path and then end the process
 * as the signal would have.  A signal handler has no context to be handed,
 * so this list is the one piece of process-wide state written while
 * commands run: a fixed array of atomic slots, claimed and released with
 * compare-and-swap, so that any number of outputs (in any threads) may be
 * open at once and the handler only reads.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define MC_CLEANUP_SLOTS 64

static _Atomic(const char *) slots[MC_CLEANUP_SLOTS];
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void on_signal(int sig)
{
    for (size_t i = 0; i < MC_CLEANUP_SLOTS; i++) {
        const char *p = atomic_load(&slots[i]);
        if (p) {
            unlink(p);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Out of memory (mc_set_oom_handler): one line on stderr, the temporary
 * outputs removed (an unnamed O_TMPFILE output vanishes by itself), exit 4
 * without running atexit handlers or flushing stdio, which could allocate.
 * Only async-signal-safe calls, so no allocation. */
_Noreturn void mc_cleanup_oom(size_t n)
{
    char msg[80] = "migconv: out of memory (";
    size_t len = strlen(msg);
    char digits[24];
    size_t d = 0;
    do {
        digits[d++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (d) {
        msg[len++] = digits[--d];
    }
    memcpy(msg + len, " bytes)\n", 8);
    len += 8;
    ssize_t w = write(STDERR_FILENO, msg, len);
    (void)w;
    for (size_t i = 0; i < MC_CLEANUP_SLOTS; i++) {
        const char *p = atomic_load(&slots[i]);
        if (p) {
            unlink(p);
        }
    }
    _exit(MC_EXIT_INTERNAL);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

bool mc_cleanup_add(const char *path)
{
    pthread_once(&installed, install);
    for (size_t i = 0; i < MC_CLEANUP_SLOTS; i++) {
        const char *expect = NULL;
        if (atomic_compare_exchange_strong(&slots[i], &expect, path)) {
            return true;
        }
    }
    return false;
}

void mc_cleanup_remove(const char *path)
{
    for (size_t i = 0; i < MC_CLEANUP_SLOTS; i++) {
        const char *expect = path;
        if (atomic_compare_exchange_strong(&slots[i], &expect, NULL)) {
            return;
        }
    }
}
