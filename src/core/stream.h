/*
 * Constants of QEMU's legacy migration stream ("QEVM", file version 3).
 * Names follow QEMU's own (migration/savevm.c, migration/ram.c) with an MC_
 * prefix so that the code reads side by side with QEMU's.
 */
#ifndef MC_CORE_STREAM_H
#define MC_CORE_STREAM_H

#include <stdint.h>

#define MC_VM_FILE_MAGIC 0x5145564du   /* "QEVM" */
#define MC_VM_FILE_VERSION_COMPAT 0x00000002u
#define MC_VM_FILE_VERSION 0x00000003u

/* Section type bytes (QEMU_VM_*). */
#define MC_VM_EOF 0x00
#define MC_VM_SECTION_START 0x01
#define MC_VM_SECTION_PART 0x02
#define MC_VM_SECTION_END 0x03
#define MC_VM_SECTION_FULL 0x04
#define MC_VM_SUBSECTION 0x05
#define MC_VM_VMDESCRIPTION 0x06
#define MC_VM_CONFIGURATION 0x07
#define MC_VM_COMMAND 0x08
#define MC_VM_SECTION_FOOTER 0x7e

/* QEMU_VM_COMMAND sub-commands (enum qemu_vm_cmd). */
#define MC_MIG_CMD_INVALID 0
#define MC_MIG_CMD_OPEN_RETURN_PATH 1
#define MC_MIG_CMD_PING 2
#define MC_MIG_CMD_POSTCOPY_ADVISE 3
#define MC_MIG_CMD_POSTCOPY_LISTEN 4
#define MC_MIG_CMD_POSTCOPY_RUN 5
#define MC_MIG_CMD_POSTCOPY_RAM_DISCARD 6
#define MC_MIG_CMD_PACKAGED 7
#define MC_MIG_CMD_ENABLE_COLO 8
#define MC_MIG_CMD_POSTCOPY_RESUME 9
#define MC_MIG_CMD_RECV_BITMAP 10
#define MC_MIG_CMD_SWITCHOVER_START 11
#define MC_MIG_CMD_MAX 12

/* RAM record flags (RAM_SAVE_FLAG_*), in the low bits of the be64 header. */
#define MC_RAM_SAVE_FLAG_FULL 0x01
#define MC_RAM_SAVE_FLAG_ZERO 0x02
#define MC_RAM_SAVE_FLAG_MEM_SIZE 0x04
#define MC_RAM_SAVE_FLAG_PAGE 0x08
#define MC_RAM_SAVE_FLAG_EOS 0x10
#define MC_RAM_SAVE_FLAG_CONTINUE 0x20
#define MC_RAM_SAVE_FLAG_XBZRLE 0x40
#define MC_RAM_SAVE_FLAG_HOOK 0x80
#define MC_RAM_SAVE_FLAG_COMPRESS_PAGE 0x100
#define MC_RAM_SAVE_FLAG_MULTIFD_FLUSH 0x200

#define MC_VMS_NULLPTR_MARKER 0x30

/* Page size assumed when the stream does not say (4 KiB on every target
 * whose configuration omits target-page-bits). */
#define MC_DEFAULT_PAGE_SIZE 4096u

const char *mc_section_type_name(unsigned type);
const char *mc_command_name(unsigned cmd);

/* Limits of the stream's rules, shared by every reader and writer. */
/* A counted string (idstr, RAM block name, subsection name) has a length
 * byte: at most 255 bytes. */
#define MC_MAX_COUNTED 255u
/* migconv reads at most this many RAM blocks (QEMU has a few dozen). */
#define MC_MAX_RAM_BLOCKS 4096

/* zlib's compressBound(): the largest a compressed page of n bytes can be
 * (RAM_SAVE_FLAG_COMPRESS_PAGE). */
static inline uint64_t mc_compress_bound(uint64_t n)
{
    return n + (n >> 12) + (n >> 14) + (n >> 25) + 13;
}

#endif
