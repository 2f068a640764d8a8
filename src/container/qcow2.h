/*
 * qcow2 internal snapshots (savevm, virsh snapshot-create-as, QMP
 * snapshot-save): the snapshot table and each snapshot's vmstate, read
 * through the snapshot's own L1/L2 tables.  Layout in QEMU's
 * docs/interop/qcow2.txt and block/qcow2-snapshot.c.
 *
 * The vmstate of a snapshot is vm_state_size bytes at the virtual offset
 * ceil(disk_size / 2^(cluster_bits + l2_bits)) * 2^(cluster_bits + l2_bits)
 * (QEMU's qcow2_vm_state_offset), l2_bits = cluster_bits - 3, or - 4 with
 * extended L2 entries; disk_size is the snapshot's own (extra data), else
 * the image's.  Unallocated and zero clusters (and subclusters) read as
 * zeros.  Compressed clusters, encryption and external data files are
 * refused with a clear error (QEMU never writes vmstate compressed).
 */
#ifndef MC_CONTAINER_QCOW2_H
#define MC_CONTAINER_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/io.h"

#define MC_QCOW2_MAX_SNAPSHOTS 65536u   /* QCOW_MAX_SNAPSHOTS */

typedef struct mc_qcow2_snapshot {
    char *id;
    char *name;
    uint64_t l1_table_offset;
    uint32_t l1_size;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;   /* vm_state_size_large when present */
    uint64_t disk_size;       /* the snapshot's, or the image's */
    uint64_t entry_offset;    /* file offset of the table entry */
} mc_qcow2_snapshot;

typedef struct mc_qcow2 {
    int fd;                   /* borrowed; must be seekable (pread) */
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t size;
    bool extended_l2;
    uint8_t compression_type; /* 0 zlib, 1 zstd */
    uint32_t nb_snapshots;
    mc_qcow2_snapshot *snapshots;
} mc_qcow2;

bool mc_qcow2_detect(const uint8_t *p, size_t n);
/* Read the header and the snapshot table of the image open on fd. */
bool mc_qcow2_open(int fd, mc_qcow2 *q, mc_error **errp);
void mc_qcow2_close(mc_qcow2 *q);
/* The snapshot whose id equals sel, else the one whose name equals it.
 * Error when none or when sel names several. */
bool mc_qcow2_find(const mc_qcow2 *q, const char *sel, size_t *index,
                   mc_error **errp);

/* A source reading the vmstate of snapshot index (offsets from 0 at the
 * first vmstate byte).  The reader object is freed with
 * mc_qcow2_vmstate_free after the source is cleaned up. */
typedef struct mc_qcow2_vmstate mc_qcow2_vmstate;
bool mc_qcow2_vmstate_open(const mc_qcow2 *q, size_t index, mc_src *out,
                           mc_qcow2_vmstate **vp, mc_error **errp);
void mc_qcow2_vmstate_free(mc_qcow2_vmstate *v);

#endif
