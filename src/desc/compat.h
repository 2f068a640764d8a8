/*
 * What stops one QEMU version from loading another's stream, and which
 * rewrites keep all state while removing the obstacle: the rule table of
 * `migconv compat` and `migconv retarget` (visit/retarget.c applies it).
 *
 * Each rule says from which versions' streams and to which versions it
 * applies, what it changes, and why that is safe (or, for a refusal, what
 * would be lost).  Versions are numbers major * 100 + minor (desc/builtin.h).
 * The facts come from real QEMU 5.2, 7.2, 10.0 and 11.1 (Debian bullseye,
 * bookworm, trixie, sid) loading each other's streams.
 */
#ifndef MC_DESC_COMPAT_H
#define MC_DESC_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum mc_compat_action {
    MC_COMPAT_REWRITE, /* retarget rewrites it, keeping all state */
    MC_COMPAT_LOSS,    /* retarget refuses unless --allow-loss names it */
    MC_COMPAT_REFUSE,  /* retarget cannot help */
} mc_compat_action;

typedef struct mc_compat_rule {
    const char *id;        /* "slirp-instance", ... */
    const char *from;      /* streams it concerns, in words */
    const char *to;        /* target versions it applies to, in words */
    unsigned to_min;       /* applies when to_min <= target <= to_max */
    unsigned to_max;
    mc_compat_action action;
    const char *loss;      /* MC_COMPAT_LOSS: the --allow-loss word */
    const char *change;    /* what retarget changes (or refuses) */
    const char *why;       /* why that is safe, or what would be lost */
} mc_compat_rule;

/* The rule table, in a fixed order. */
size_t mc_compat_rules(const mc_compat_rule **rules);
/* The rule with this id (NULL if none). */
const mc_compat_rule *mc_compat_rule_get(const char *id);
/* Whether the rule applies to target version to (a number). */
bool mc_compat_rule_applies(const mc_compat_rule *r, unsigned to);

/* Whether QEMU version to (a number) has the machine type: versioned
 * names (pc-q35-X.Y, pc-i440fx-X.Y, virt-X.Y, pseries-X.Y,
 * s390-ccw-virtio-X.Y) from a table of the oldest each version keeps, up
 * to its own; names without a version (microvm, riscv64 virt) always. */
bool mc_compat_machine_known(const char *machine, unsigned to);

/* The ring size QEMU gives queue index (of num_queues) of a virtio device
 * (its vmsd name: "virtio-net", ...) on machine type machine (may be
 * NULL): false when the table does not know the device or queue. */
bool mc_compat_ring_size(const char *device, const char *machine,
                         uint32_t index, uint32_t num_queues, uint32_t *size);

#endif
