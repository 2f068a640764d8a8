/*
 * The legacy reader's state, shared by its files (QEMU keeps these jobs
 * in savevm.c, vmstate.c and ram.c):
 *  - reader.c: framing (header, the item loop, sections, commands,
 *    packages, footers, the trailing vmdesc item);
 *  - reader_config.c: the configuration section;
 *  - reader_vmstate.c: device (VMState) sections, interpreted with
 *    the vmdesc or the descriptor tables, the search for the vmdesc, and
 *    the carrying of undescribable sections as opaque bytes;
 *  - reader_ram.c: the "ram" live section.
 * Private to the reader.
 */
#ifndef MC_LEGACY_READER_IMPL_H
#define MC_LEGACY_READER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "core/path.h"
#include "core/stream.h"
#include "core/visitor-impl.h"
#include "desc/builtin.h"
#include "desc/desc.h"
#include "desc/tables.h"
#include "legacy/live.h"
#include "format/readers.h"

#define MAX_SECTIONS 65536
#define MAX_PACKAGE_DEPTH 4
/* Array elements that occupy no bytes (a vmdesc can describe 2^32 of
 * them, nested arrays multiply): at most this many per stream. */
#define MAX_EMPTY_ELEMS (1u << 16)

typedef struct section_slot {
    uint32_t id;
    char *idstr;
    mc_section_kind kind;
    uint32_t version_id;
    const mc_live_codec *codec; /* live sections other than RAM */
    void *codec_state;
} section_slot;

typedef enum footer_mode { FOOTERS_UNKNOWN, FOOTERS_YES, FOOTERS_NO } footer_mode;

typedef struct reader {
    mc_src *src;
    mc_visitor *v;
    const mc_read_opts *opts;
    char path[1024];

    uint32_t page_size;
    mc_page_size_source page_size_source;
    bool ignore_shared;      /* configuration lists x-ignore-shared */
    bool mapped_ram;         /* configuration lists mapped-ram */
    bool postcopy_advised;   /* POSTCOPY_ADVISE with a page-size payload */
    uint64_t ram_total;      /* from the last MEM_SIZE record, 0 if none */
    uint64_t pagesize_summary;

    section_slot *sections;
    size_t n_sections;
    footer_mode footers;

    bool vmdesc_searched;
    mc_vmdesc *vmdesc;
    uint64_t vmdesc_offset;  /* offset of the QEMU_VM_VMDESCRIPTION byte */

    mc_ram_block *blocks;    /* the last MEM_SIZE's block list */
    char **block_names;
    size_t blocks_cap;
    char name_buf[256];

    int package_depth;
    mc_visitor *dry;         /* null visitor for dry runs */
    uint32_t empty_elems;    /* zero-byte array elements read so far */

    /* Descriptor tables, for device sections without a vmdesc: the set
     * being tried (tables), and every set to try, best first: the
     * caller's, then the built-in ones the machine type suggests
     * (desc/builtin.h), chosen at the first section that needs them. */
    const mc_tables *tables;
    const mc_tables *cands[MC_BUILTIN_MAX_CANDIDATES + 1];
    size_t n_cands;
    bool cands_chosen;
    bool has_machine;        /* the configuration named the machine type */
    char machine[256];
    bool table_mode;         /* parsing with tables: subsections are found
                                by their header, sizes are not checked */
} reader;

#define path_push(r, ...) mc_path_push((r)->path, sizeof((r)->path), __VA_ARGS__)
#define path_pop(r, old) mc_path_pop((r)->path, (old))

#define DATA_ERR(r, off, ...) \
    mc_error_data(errp, (off), (r)->path, __VA_ARGS__)

/* reader.c */
bool mc_lr_read_counted(reader *r, char *buf, const char *what,
                        mc_error **errp);
bool mc_lr_read_footer(reader *r, uint32_t id, bool *footer, mc_error **errp);
bool mc_lr_valid_next_type(uint8_t t);
size_t mc_lr_vmdesc_limit(const reader *r);

/* reader_config.c */
bool mc_lr_parse_configuration(reader *r, mc_visitor *v, bool learn,
                               mc_error **errp);

/* reader_vmstate.c */
bool mc_lr_parse_device(reader *r, mc_visitor *v, mc_section_info *info,
                        mc_error **errp);

/* reader_ram.c */
bool mc_lr_parse_ram(reader *r, mc_visitor *v, mc_error **errp);

#endif
