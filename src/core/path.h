/*
 * Error paths: the place in a stream an error is about, kept by a reader
 * while it walks the stream.  A path is a caller-owned NUL-terminated
 * buffer; push appends and returns the old length, pop truncates back to
 * it.  Text past the buffer is dropped.
 *
 * One grammar for every message, so that a place is named the same way
 * whether the stream is read in its legacy form or as BER:
 *
 *   PATH  = ITEM *("/" STEP)
 *   ITEM  = KIND " " IDSTR " (id " ID ")"  a section: KIND start, part, end
 *                                          or full, IDSTR its name, ID its
 *                                          section id ("KIND (id ID)" when
 *                                          the name is not known)
 *         | "header" | "configuration" | "command" | "eof" | "vmdesc"
 *         | "package/" ITEM                an item inside a package
 *                                          (MIG_CMD_PACKAGED)
 *         | "items[" I "]"                 BER only: item I of the stream
 *                                          (or package) whose header is not
 *                                          read yet, so its kind is unknown
 *   STEP  = NAME                           a field or subsection by its
 *                                          name (subsection names hold '/':
 *                                          "cpu/async_pf_msr")
 *         | STEP "[" I "]"                 element I of an array
 *         | "fields[" I "]"                field I of a stream written
 *                                          without names (BER --no-names)
 *         | "records[" N "]"               RAM record N of the section, in
 *                                          the form being read (legacy: one
 *                                          per page; BER: a run of pages is
 *                                          one record)
 *
 * e.g. "full 0000:00:02.0/e1000 (id 7)/mac_reg[3]",
 * "part ram (id 3)/records[12]", "configuration/name".  The legacy writer
 * names the place it was given the same way.  Places outside the stream
 * follow the same shape, an item and its fields: the vmdesc JSON
 * "vmdesc/IDSTR/FIELD..." (the device entry by its name), a tables file
 * "vmsds/VMSD/VERSION/variants[I]/FIELD...", a container layer's header
 * "libvirt header/data_len", "container", "trailer".  Byte offsets are
 * never part of a path: the message says the offset ("offset N: PATH:
 * message").
 */
#ifndef MC_CORE_PATH_H
#define MC_CORE_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

size_t mc_path_push(char *path, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append a, at most smax bytes of str (if any), num in decimal (if has_num)
 * and z, without printf: for paths built once per field or record. */
size_t mc_path_add(char *path, size_t cap, const char *a, const char *str,
                   size_t smax, bool has_num, uint64_t num, const char *z);

/* Append the ITEM of a section of the given QEMU_VM_SECTION_* type
 * ("KIND IDSTR (id ID)", or "configuration"), after a '/' unless the path
 * is empty; idstr may be NULL.  The one builder of section names. */
size_t mc_path_push_section(char *path, size_t cap, unsigned type,
                            const char *idstr, uint32_t id);

static inline void mc_path_pop(char *path, size_t old)
{
    path[old] = 0;
}

#endif
