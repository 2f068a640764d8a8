/*
 * Finding the vmdesc (QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION, be32 length,
 * JSON) while the input is buffered, when bytes may follow it (a state
 * volume's old contents): the first candidate whose JSON parses as a
 * vmdesc ends the buffering, so what follows the vmdesc, however large, is
 * never held in memory.  Used with mc_src_slurp_until (core/io.h).
 */
#ifndef MC_LEGACY_VMDESC_SCAN_H
#define MC_LEGACY_VMDESC_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct mc_vmdesc_scan {
    size_t limit;   /* --vmdesc-limit: longer candidates are not vmdescs */
    size_t next;    /* the first window position not looked at yet */
    bool found;
    size_t at;      /* found (or err): window position of the
                     * QEMU_VM_VMDESCRIPTION byte */
    size_t end;     /* found: where the vmdesc ends in the window */
    struct mc_vmdesc *vmdesc;  /* found: parsed, now the caller's */
    mc_error *err;  /* a failure not about the bytes (out of memory): the
                     * scan stops, the caller reports and frees it */
} mc_vmdesc_scan;

/* An mc_src_enough_fn: true once a whole vmdesc that parses is buffered. */
bool mc_vmdesc_scan_enough(void *opaque, const uint8_t *p, size_t n,
                           bool eof);

#endif
