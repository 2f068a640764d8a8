/*
 * Descriptor tables: per-device wire layouts for streams that carry no
 * vmdesc (machine types up to pc-i440fx-2.2, -machine suppress-vmdesc=on,
 * the device state inside a postcopy package).
 *
 * File format (JSON):
 *
 *   {"format": "migconv-tables", "version": 1,
 *    "vmsds": {
 *      "VMSD-NAME": {
 *        "VERSION": {
 *          "variants": [ FIELDS, ... ],
 *          "subsections": [ "VMSD-NAME/sub", ... ] } } } }
 *
 * FIELDS is a field array exactly as QEMU writes it in the vmdesc
 * ({"name","type","size"} plus "array_len" or "index", and "struct" for
 * nested VMState structs).  Each variant is one layout seen in a real
 * stream: fields guarded by field_exists() or buffers whose size depends on
 * the device's configuration give several.  "subsections" lists every
 * subsection seen for that vmsd; each has an entry of its own.  A reader
 * tries the variants in order and takes the first that accounts for the
 * section's bytes exactly; subsections are recognised on the wire by their
 * header, as QEMU's loader does.
 *
 * Tables are made from streams that do carry a vmdesc (`migconv tables`),
 * merging what every stream shows; migconv ships a set generated from
 * QEMU 7.2 x86 pc and q35 streams.
 */
#ifndef MC_DESC_TABLES_H
#define MC_DESC_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "desc/desc.h"

typedef struct mc_tables mc_tables;

mc_tables *mc_tables_new(void);
void mc_tables_free(mc_tables *t);

/* Merge a tables document into t. */
bool mc_tables_load(mc_tables *t, const uint8_t *json, size_t len,
                    mc_error **errp);
/* Merge the built-in tables (QEMU 7.2, x86 pc and q35). */
bool mc_tables_load_builtin(mc_tables *t, mc_error **errp);
/* The built-in tables, parsed once on first use (thread-safe) and shared,
 * read-only, by every reader of the process. */
const mc_tables *mc_tables_builtin(mc_error **errp);
/* Learn every vmsd of a vmdesc. */
bool mc_tables_add_vmdesc(mc_tables *t, const uint8_t *json, size_t len,
                          mc_error **errp);
/* The tables as a JSON document (malloc'd, NUL-terminated). */
char *mc_tables_dump(const mc_tables *t);
size_t mc_tables_count(const mc_tables *t);

/*
 * The layouts known for a vmsd at a version: sets *variants to a new array
 * of *n of them (0 and NULL: the tables do not know that version), for
 * mc_tables_variants_free().  False only on an error (a layout in the
 * tables that cannot be read).  Lookups do not change the tables.
 */
bool mc_tables_find(const mc_tables *t, const char *vmsd, uint32_t version,
                    mc_desc_vmsd **variants, size_t *n, mc_error **errp);
void mc_tables_variants_free(mc_desc_vmsd *variants, size_t n);
/* Whether the tables know a vmsd of this name at any version. */
bool mc_tables_knows(const mc_tables *t, const char *vmsd);

#endif
