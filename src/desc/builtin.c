/* Built-in descriptor tables per QEMU version and target (builtin.h). */
#include "desc/builtin.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const versions[] = {"5.2", "7.2", "10.0", "11.1"};
#define N_VERSIONS (sizeof(versions) / sizeof(versions[0]))
/* The version tried first when the machine type names none. */
#define DEFAULT_VERSION "7.2"

size_t mc_builtin_versions(const char *const **out)
{
    *out = versions;
    return N_VERSIONS;
}

bool mc_builtin_version_known(const char *v)
{
    for (size_t i = 0; i < N_VERSIONS; i++) {
        if (strcmp(v, versions[i]) == 0) {
            return true;
        }
    }
    return false;
}

unsigned mc_version_number(const char *v)
{
    char *end;
    unsigned long major = strtoul(v, &end, 10);
    if (end == v || *end != '.' || major > 99) {
        return 0;
    }
    const char *m = end + 1;
    unsigned long minor = strtoul(m, &end, 10);
    if (end == m || *end || minor > 99) {
        return 0;
    }
    return (unsigned)(major * 100 + minor);
}

unsigned mc_machine_version(const char *machine)
{
    const char *dash = machine ? strrchr(machine, '-') : NULL;
    return dash ? mc_version_number(dash + 1) : 0;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

const char *mc_machine_target(const char *machine)
{
    if (!machine) {
        return "x86";
    }
    if (strcmp(machine, "pc") == 0 || strcmp(machine, "q35") == 0 ||
        has_prefix(machine, "pc-") || strcmp(machine, "microvm") == 0 ||
        strcmp(machine, "isapc") == 0) {
        return "x86";
    }
    if (has_prefix(machine, "virt-")) {
        return "aarch64";
    }
    if (strcmp(machine, "virt") == 0) {
        return "riscv64";
    }
    if (has_prefix(machine, "pseries")) {
        return "ppc64";
    }
    if (has_prefix(machine, "s390-ccw-virtio")) {
        return "s390x";
    }
    return NULL;
}

/* Every built-in set is parsed once per process, the first time a reader
 * needs one, and is read-only from then on (like mc_tables_builtin()). */
#define MAX_ENTRIES 64
static struct {
    pthread_once_t once;
    mc_tables *tables[MAX_ENTRIES];
    mc_error *err;
} sets = {.once = PTHREAD_ONCE_INIT};

static void sets_load(void)
{
    for (size_t i = 0; i < mc_builtin_index_len && i < MAX_ENTRIES; i++) {
        const mc_builtin_entry *e = &mc_builtin_index[i];
        mc_tables *t = mc_tables_new();
        if (!mc_tables_load(t, e->json, *e->len, &sets.err)) {
            char what[64];
            snprintf(what, sizeof(what), "built-in tables of QEMU %s %s",
                     e->version, e->target);
            mc_error_prepend(&sets.err, what);
            mc_tables_free(t);
            return;
        }
        sets.tables[i] = t;
    }
}

__attribute__((destructor)) static void sets_free(void)
{
    for (size_t i = 0; i < MAX_ENTRIES; i++) {
        mc_tables_free(sets.tables[i]);
    }
    mc_error_free(sets.err);
}

bool mc_builtin_tables_for(const char *version, const char *target,
                           const mc_tables **out, mc_error **errp)
{
    pthread_once(&sets.once, sets_load);
    *out = NULL;
    if (sets.err) {
        mc_error_set(errp, sets.err->cls, sets.err->offset, sets.err->path,
                     "%s", sets.err->msg);
        return false;
    }
    for (size_t i = 0; i < mc_builtin_index_len && i < MAX_ENTRIES; i++) {
        const mc_builtin_entry *e = &mc_builtin_index[i];
        if (strcmp(e->version, version) == 0 && strcmp(e->target, target) == 0) {
            *out = sets.tables[i];
            return true;
        }
    }
    return true;
}

bool mc_builtin_candidates(const char *machine, const char *force,
                           const mc_tables **out, size_t *n, mc_error **errp)
{
    *n = 0;
    const char *target = mc_machine_target(machine);
    if (!target) {
        target = "x86";
    }
    const char *order[N_VERSIONS];
    size_t k = 0;
    if (force) {
        order[k++] = force;
    } else {
        unsigned mv = mc_machine_version(machine);
        if (mv == 0) {
            order[k++] = DEFAULT_VERSION;
            for (size_t i = N_VERSIONS; i-- > 0;) {
                if (strcmp(versions[i], DEFAULT_VERSION) != 0) {
                    order[k++] = versions[i];
                }
            }
        } else {
            for (size_t i = 0; i < N_VERSIONS; i++) {
                if (mc_version_number(versions[i]) >= mv) {
                    order[k++] = versions[i];
                }
            }
            for (size_t i = N_VERSIONS; i-- > 0;) {
                if (mc_version_number(versions[i]) < mv) {
                    order[k++] = versions[i];
                }
            }
        }
    }
    for (size_t i = 0; i < k && *n < MC_BUILTIN_MAX_CANDIDATES; i++) {
        const mc_tables *t;
        if (!mc_builtin_tables_for(order[i], target, &t, errp)) {
            return false;
        }
        if (t) {
            out[(*n)++] = t;
        }
    }
    return true;
}
