/*
 * The BER reader's state, shared by its files:
 *  - reader.c: the stream, items, sections, commands, packages, the
 *    vmdesc;
 *  - reader_der.c: TLV headers, the DER cursor over a record in
 *    memory, primitive values and the source helpers (records, items,
 *    end-of-contents, nesting);
 *  - reader_ids.c: section id -> idstr (for PART/END sections);
 *  - reader_values.c: the values of configuration and device
 *    sections;
 *  - reader_ram.c: RAM sections and their records, with the checks
 *    that runs are merged as the writer merges them.
 * Private to the reader.
 */
#ifndef MC_BER_READER_IMPL_H
#define MC_BER_READER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ber.h"
#include "core/io.h"
#include "core/mapped_ram.h"
#include "core/path.h"
#include "core/stream.h"
#include "core/visitor.h"
#include "format/readers.h"

/* Nesting of packages, structs, arrays and subsections. */
#define MAX_DEPTH 64
/* Same cap as the legacy reader. */
/* Legacy counted strings (idstr, block and subsection names). */
/* The StreamHeader is a handful of small INTEGERs. */
#define MAX_STREAM_HEADER 64
/* A RAM section header: a few INTEGERs, the idstr and the vmsd name. */
#define MAX_SECTION_HEADER 4096
/* RAM record flags use the low 10 bits of an offset (up to
 * RAM_SAVE_FLAG_MULTIFD_FLUSH 0x200), so pages are at least 1 KiB
 * (QEMU's TARGET_PAGE_BITS_MIN); the legacy reader's cap is 2^30. */
#define MIN_PAGE_SIZE (1u << 10)
#define MAX_PAGE_SIZE (1u << 30)
/* The writer's choices the reader insists on are in core/ber.h. */

/* section id -> idstr of its START/FULL (for PART/END) */
typedef struct id_slot {
    uint32_t id;
    char *idstr;            /* NULL: free slot */
} id_slot;

/* Scratch strings, NUL-terminated copies of UTF8Strings. */
enum { S_NAME, S_TYPE, S_IDSTR, S_VMSD, S_BLOCK, S__COUNT };

typedef struct reader {
    mc_src *src;
    mc_visitor *v;
    bool validate;
    size_t vmdesc_limit;    /* opts->vmdesc_limit or the default */
    bool keep_trailer;
    mc_stream_info info;
    char path[1024];
    size_t item_path;       /* length of the path before "items[I]" of the
                               item being read (core/path.h: the item's
                               kind replaces it once known) */
    unsigned depth;

    id_slot *ids;
    size_t ids_cap, ids_used;

    char *str[S__COUNT];
    size_t str_cap[S__COUNT];

    mc_ram_block *blocks;
    char (*block_names)[MC_MAX_COUNTED + 1];
    size_t blocks_cap;

    /* The previous RAM record, if it was a run (for canonical merging). */
    uint8_t run_tag;        /* MC_BER_RAM_ZERO, MC_BER_RAM_PAGES or 0 */
    uint8_t run_fill;
    uint64_t run_count;
    uint64_t ram_total;     /* from the last memSize record, 0 if none */
    bool seen_eof;          /* top level: the eof item was read */
    bool seen_vmdesc;       /* top level: the vmdesc item was read */
    uint64_t run_next;      /* offset a continuing page would have */
    bool run_next_ok;
    uint32_t run_max_pages;
    /* mapped-ram: the block whose region is being read (mapped.end != 0),
     * and the RAM of the last memSize not yet given to mappedBlocks */
    mc_mapped_block mapped;
    bool mapped_first;      /* no piece of its region read yet */
    uint64_t mapped_left;
} reader;

/* A window of a record in memory; off is the input offset of p[0]. */
typedef struct cur {
    const uint8_t *p;
    size_t n;
    uint64_t off;
} cur;

#define path_push(r, ...) mc_path_push((r)->path, sizeof((r)->path), __VA_ARGS__)
#define path_add(r, ...) mc_path_add((r)->path, sizeof((r)->path), __VA_ARGS__)
#define path_pop(r, old) mc_path_pop((r)->path, (old))

#define DATA_ERR(r, off, ...) \
    (mc_error_data(errp, (off), (r)->path, __VA_ARGS__), false)

typedef struct tl {
    uint8_t tag;
    bool indef;
    size_t hl;              /* identifier + length octets */
    uint64_t len;           /* content length (0 when indefinite) */
} tl;

enum { TL_OK, TL_SHORT, TL_BAD };

static inline int mc_br_cur_peek(const cur *c)
{
    return c->n ? c->p[0] : -1;
}

/* reader.c */
size_t mc_br_push_section_path(reader *r, const mc_section_info *info);
/* Name the item being read by its kind ("command", "package", ...) in
 * place of "items[I]"; returns the path's length before the item. */
size_t mc_br_push_item_kind(reader *r, const char *kind);
bool mc_br_read_section_header(reader *r, cur *c, bool ram,
                               mc_section_info *info, mc_error **errp);

/* reader_der.c */
bool mc_br_at_eoc(reader *r, bool *eoc, mc_error **errp);
bool mc_br_cur_end(reader *r, const cur *c, const char *what, mc_error **errp);
bool mc_br_cur_expect(reader *r, cur *c, uint8_t tag, cur *val,
                      const char *what, mc_error **errp);
bool mc_br_cur_opt_string(reader *r, cur *c, uint8_t tag, int s, size_t min,
                          size_t max, const char **out, const char *what,
                          mc_error **errp);
bool mc_br_cur_opt_uint(reader *r, cur *c, uint8_t tag, uint64_t max,
                        bool *present, uint64_t *out, const char *what,
                        mc_error **errp);
bool mc_br_cur_string(reader *r, const cur *v, int s, size_t min, size_t max,
                      const char **out, const char *what, mc_error **errp);
bool mc_br_cur_tlv(reader *r, cur *c, tl *t, cur *val, mc_error **errp);
bool mc_br_cur_uint(reader *r, cur *c, uint8_t tag, uint64_t max,
                    uint64_t *out, const char *what, mc_error **errp);
bool mc_br_depth_enter(reader *r, uint64_t off, mc_error **errp);
bool mc_br_der_integer(reader *r, const cur *v, bool *neg, uint64_t *bits,
                       bool *big, mc_error **errp);
bool mc_br_expect_eoc(reader *r, const char *what, mc_error **errp);
bool mc_br_schema_check(reader *r, const char *type, const uint8_t *p,
                        size_t n, uint64_t off, mc_error **errp);
bool mc_br_src_tl(reader *r, tl *t, mc_error **errp);
bool mc_br_take_item(reader *r, const tl *t, const uint8_t **p, size_t *total,
                     mc_error **errp);
bool mc_br_take_record(reader *r, const tl *t, const uint8_t **p,
                       size_t *total, mc_error **errp);

/* reader_ids.c */
const char *mc_br_id_lookup(reader *r, uint32_t id);
void mc_br_id_put(reader *r, uint32_t id, const char *idstr);

/* reader_values.c */
bool mc_br_read_body(reader *r, cur *c, mc_error **errp);

/* reader_ram.c */
bool mc_br_read_ram_section(reader *r, const tl *t, mc_error **errp);

#endif
