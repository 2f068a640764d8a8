/*
 * Device descriptions: what the fields of a VMState device section look
 * like on the wire.  They come from the vmdesc JSON that QEMU appends after
 * QEMU_VM_EOF (vmdesc.c); the legacy reader interprets device sections
 * field by field with them.
 *
 * A description says, per field, how many elements follow and how each is
 * laid out: a big-endian scalar, a run of bytes of known size, or a nested
 * VMState struct (with its own fields and subsections).
 */
#ifndef MC_DESC_DESC_H
#define MC_DESC_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/visitor.h"

/* Nesting deeper than this is rejected (the vmdesc is untrusted input). */
#define MC_DESC_MAX_DEPTH 32

typedef struct mc_desc_vmsd mc_desc_vmsd;

typedef enum mc_desc_kind {
    MC_DESC_SCALAR, /* wire type wt */
    MC_DESC_BYTES,  /* size bytes, carried exactly */
    MC_DESC_STRUCT, /* nested vmsd; size = bytes it occupies (if known) */
} mc_desc_kind;

/* Layout of one element. */
typedef struct mc_desc_elem {
    mc_desc_kind kind;
    mc_wire_type wt;       /* SCALAR */
    char *type;            /* QEMU's type name ("uint32", "timer", ...) */
    uint64_t size;         /* bytes per element as described */
    mc_desc_vmsd *vmsd;    /* STRUCT */
} mc_desc_elem;

typedef struct mc_desc_field {
    char *name;
    bool is_array;         /* described with array_len or index */
    bool packed;           /* array of scalars sharing one layout */
    uint32_t count;        /* number of elements (1 if not an array) */
    /* One layout for all elements (array_len form, or a plain field), or
     * one per element (index form).  n_elems is 1 or count. */
    mc_desc_elem *elems;
    uint32_t n_elems;
} mc_desc_field;

struct mc_desc_vmsd {
    char *name;            /* vmsd name, or NULL for old-style sections */
    uint32_t version;
    mc_desc_field *fields;
    size_t n_fields;
    mc_desc_vmsd *subs;    /* subsections, in the order written */
    size_t n_subs;
};

typedef struct mc_desc_device {
    char *idstr;
    uint32_t instance_id;
    bool used;             /* matched to a section already */
    mc_desc_vmsd vmsd;
} mc_desc_device;

typedef struct mc_vmdesc {
    bool has_page_size;
    uint64_t page_size;
    mc_desc_device *devices;
    size_t n_devices;
} mc_vmdesc;

/* Free what a description holds (not m itself). */
void mc_desc_vmsd_clear(mc_desc_vmsd *m);

/* Map a QEMU VMStateInfo name and element size to a wire type. */
bool mc_desc_wire_type(const char *type, uint64_t size, mc_wire_type *wt);

/* The largest vmdesc parsed by default (--vmdesc-limit); its JSON may
 * hold limit / 3 units of elements (desc/json_limit.c). */
#define MC_DEFAULT_VMDESC_LIMIT (16u << 20)

/* Parse a vmdesc of at most limit bytes (0: MC_DEFAULT_VMDESC_LIMIT). */
bool mc_vmdesc_parse(const uint8_t *json, size_t len, size_t limit,
                     mc_vmdesc **out, mc_error **errp);
void mc_vmdesc_free(mc_vmdesc *d);

/* Find the description of a device section: the first unused device with
 * this idstr and instance id (QEMU writes them in section order). */
mc_desc_device *mc_vmdesc_find(mc_vmdesc *d, const char *idstr,
                               uint32_t instance_id);

#endif
