/*
 * The visitor contract: how readers describe a migration stream.
 *
 * A reader (legacy stream reader, BER reader) walks a stream once, front to
 * back, and calls the mc_visit_* functions below; a visitor (BER writer,
 * legacy writer, JSON dump, null visitor, ...) receives the calls and
 * re-emits or inspects what it sees.  Because both readers drive the same
 * calls, any reader can be paired with any visitor.
 *
 * Grammar of one walk (brackets: optional, star: repeated):
 *
 *   stream    = start_stream item* end_stream
 *   item      = section | command | packaged | eof | vmdesc
 *   section   = start_section (value* subsection* | ram_record*) end_section
 *   value     = int | bytes | packed | struct | array
 *   struct    = start_struct value* subsection* end_struct
 *   array     = start_array value{count} end_array
 *   subsection= start_subsection value* subsection* end_subsection
 *   packaged  = start_packaged item* end_packaged
 *
 * Rules:
 *  - Every successful start_X is paired with exactly one end_X, properly
 *    nested.  If any call fails, the walk stops: no further calls are made,
 *    not even the pending end_X calls.  The owner then destroys the visitor.
 *  - Values come in legacy wire order, and every byte of the legacy stream
 *    is represented by exactly one call, so a visitor can rebuild the
 *    legacy bytes exactly.  Within a struct, subsection, or section body,
 *    all plain values come before the first subsection.
 *  - Pointers passed in (names, data, info structs) are borrowed: valid only
 *    for the duration of the call.  A visitor that needs them later copies.
 *  - Names may be NULL (a BER stream written without names; array elements).
 *    "type" is the producer's type string (QEMU's VMStateInfo name such as
 *    "uint32", "timer", "pci config") or NULL when only the wire type is
 *    known.
 *  - A callback reports failure by returning false and setting *errp; the
 *    reader adds nothing to the message, so callbacks say what went wrong
 *    themselves.
 */
#ifndef MC_CORE_VISITOR_H
#define MC_CORE_VISITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct mc_visitor mc_visitor;

/* How a scalar is laid out on the legacy wire (always big-endian). */
typedef enum mc_wire_type {
    MC_WT_U8,
    MC_WT_U16,
    MC_WT_U32,
    MC_WT_U64,
    MC_WT_I8,
    MC_WT_I16,
    MC_WT_I32,
    MC_WT_I64,
    MC_WT_BOOL, /* one byte, 0 or 1 */
    MC_WT__COUNT
} mc_wire_type;

unsigned mc_wire_type_width(mc_wire_type wt);
bool mc_wire_type_signed(mc_wire_type wt);
const char *mc_wire_type_name(mc_wire_type wt);
/* Sign-extend a raw value of the given wire type to int64. */
int64_t mc_wire_type_sext(mc_wire_type wt, uint64_t raw);
/* Whether raw holds a value of wire type wt: its width in bits, or, for
 * signed types, a sign-extended negative value of that width. */
bool mc_wire_type_fits(mc_wire_type wt, uint64_t raw);

typedef enum mc_page_size_source {
    MC_PAGE_SIZE_DEFAULT,       /* no information: MC_DEFAULT_PAGE_SIZE */
    MC_PAGE_SIZE_CONFIGURATION, /* configuration/target-page-bits */
    MC_PAGE_SIZE_HEADER,        /* a BER stream header */
} mc_page_size_source;

const char *mc_page_size_source_name(mc_page_size_source s);

typedef struct mc_stream_info {
    uint32_t magic;    /* MC_VM_FILE_MAGIC */
    uint32_t version;  /* MC_VM_FILE_VERSION */
    uint32_t page_size; /* target page size used to split RAM records */
    mc_page_size_source page_size_source;
    bool names;        /* field names are available (false: BER --no-names) */
} mc_stream_info;

typedef enum mc_section_kind {
    MC_SECTION_VMSTATE, /* fields described by a vmdesc or tables */
    MC_SECTION_CONFIG,  /* the configuration section */
    MC_SECTION_RAM,     /* the "ram" live section: ram_record calls */
} mc_section_kind;

typedef struct mc_section_info {
    uint8_t type;          /* MC_VM_SECTION_START/PART/END/FULL, MC_VM_CONFIGURATION */
    mc_section_kind kind;
    uint32_t section_id;   /* 0 for the configuration */
    const char *idstr;     /* START/FULL: from the stream; PART/END: the idstr
                              of the START with the same id (informational);
                              configuration: "configuration" */
    uint32_t instance_id;  /* START/FULL only */
    uint32_t version_id;   /* START/FULL only */
    const char *vmsd_name; /* from the description, or NULL */
} mc_section_info;

typedef struct mc_field {
    const char *name;      /* may be NULL */
    const char *type;      /* may be NULL */
} mc_field;

typedef enum mc_ram_kind {
    MC_RAM_MEM_SIZE,
    MC_RAM_ZERO,
    MC_RAM_PAGE,
    MC_RAM_XBZRLE,
    MC_RAM_COMPRESS,
    MC_RAM_EOS,
    MC_RAM_MULTIFD_FLUSH,
    /* mapped-ram (core/mapped_ram.h): in a MEM_SIZE record's place, a
     * MEM_SIZE with no blocks, then per block MAPPED_BLOCK and the
     * MAPPED_BYTES/MAPPED_ZEROS records that cover its region in order */
    MC_RAM_MAPPED_BLOCK,
    MC_RAM_MAPPED_BYTES,
    MC_RAM_MAPPED_ZEROS,
    MC_RAM__COUNT
} mc_ram_kind;

const char *mc_ram_kind_name(mc_ram_kind k);

struct mc_mapped_block;
struct mc_mapped_ram_header;

typedef struct mc_ram_block {
    const char *idstr;     /* NUL-terminated, 1..255 bytes */
    uint64_t used_length;
    bool has_page_size;    /* postcopy-ram with a non-default page size */
    uint64_t page_size;
    bool has_addr;         /* x-ignore-shared */
    uint64_t addr;
} mc_ram_block;

/* One legacy RAM record, exactly as on the wire. */
typedef struct mc_ram_record {
    mc_ram_kind kind;
    uint64_t offset;       /* page offset in the block; MEM_SIZE: total bytes */
    const char *block;     /* block name, or NULL when RAM_SAVE_FLAG_CONTINUE */
    uint8_t fill;          /* ZERO: the fill byte */
    uint8_t encoding;      /* XBZRLE: the encoding byte (1) */
    const uint8_t *data;   /* PAGE: page_size bytes; XBZRLE, COMPRESS: payload */
    size_t len;
    const mc_ram_block *blocks; /* MEM_SIZE; MAPPED_BLOCK: its entry (one) */
    size_t n_blocks;
    /* MAPPED_BLOCK: the MappedRamHeader; MAPPED_BYTES/ZEROS: offset is the
     * file offset, data/len the bytes (ZEROS: len zero bytes, data NULL) */
    const struct mc_mapped_ram_header *mapped_hdr;
    /* MAPPED_*: the block's region as the reader follows it: for BYTES and
     * ZEROS already fed with the record (its bitmap, present pages) */
    const struct mc_mapped_block *mapped;
} mc_ram_record;

/* ---- client API: readers call these ---- */

bool mc_visit_start_stream(mc_visitor *v, const mc_stream_info *info,
                           mc_error **errp);
bool mc_visit_end_stream(mc_visitor *v, mc_error **errp);
bool mc_visit_start_section(mc_visitor *v, const mc_section_info *info,
                            mc_error **errp);
/* footer: the legacy section ended with a QEMU_VM_SECTION_FOOTER */
bool mc_visit_end_section(mc_visitor *v, bool footer, mc_error **errp);
bool mc_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                  uint64_t raw, mc_error **errp);
bool mc_visit_bytes(mc_visitor *v, const mc_field *f, const uint8_t *data,
                    size_t len, mc_error **errp);
/* count scalars of one wire type, data holds their big-endian bytes. */
bool mc_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                     uint32_t count, const uint8_t *data, mc_error **errp);
bool mc_visit_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp);
bool mc_visit_end_struct(mc_visitor *v, mc_error **errp);
bool mc_visit_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                          mc_error **errp);
bool mc_visit_end_array(mc_visitor *v, mc_error **errp);
bool mc_visit_start_subsection(mc_visitor *v, const char *name,
                               uint32_t version_id, mc_error **errp);
bool mc_visit_end_subsection(mc_visitor *v, mc_error **errp);
bool mc_visit_ram_record(mc_visitor *v, const mc_ram_record *rec,
                         mc_error **errp);
/* A QEMU_VM_COMMAND other than PACKAGED. */
bool mc_visit_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                      uint16_t len, mc_error **errp);
/* MIG_CMD_PACKAGED: len is the byte length of the nested stream. */
bool mc_visit_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp);
bool mc_visit_end_packaged(mc_visitor *v, mc_error **errp);
bool mc_visit_eof(mc_visitor *v, mc_error **errp);
/* The vmdesc JSON after EOF, exact bytes. */
bool mc_visit_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                     mc_error **errp);

/* Finish the visitor's output (flush); call once after a successful walk. */
bool mc_visitor_complete(mc_visitor *v, mc_error **errp);
/* Free the visitor (after success or failure). NULL is allowed. */
void mc_visitor_free(mc_visitor *v);

#endif
