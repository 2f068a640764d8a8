/*
 * Codecs for live (iterative) sections other than RAM, and other sections
 * whose data no vmdesc describes: block migration, dirty bitmaps, the POWER
 * hash page table, s390 storage attributes.  Each codec reads one section's
 * data from the legacy stream and reports it to the visitor as ordinary
 * values (mc_visit_int, mc_visit_bytes, structs, arrays), in wire order, so
 * that every other part of migconv (BER, dump, the legacy writer) handles
 * it without knowing the codec.
 */
#ifndef MC_LEGACY_LIVE_H
#define MC_LEGACY_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/io.h"
#include "core/visitor.h"

typedef struct mc_live_env {
    mc_src *src;
    const char *path;        /* for error messages */
    uint32_t page_size;      /* target page size */
    uint8_t section_type;    /* MC_VM_SECTION_START/PART/END/FULL */
    uint32_t version_id;     /* of the section's START (or FULL) */
    void **state;            /* per-section codec state, starts NULL */
} mc_live_env;

typedef struct mc_live_codec {
    const char *idstr;       /* section idstr the codec handles */
    /* Read the data of one section (up to, not including, any footer). */
    bool (*parse)(const mc_live_env *env, mc_visitor *v, mc_error **errp);
    /* Optional: free *env->state at the end of the stream. */
    void (*free_state)(void *state);
} mc_live_codec;

/* The codec for a section idstr, or NULL. */
const mc_live_codec *mc_live_codec_find(const char *idstr);

/* The codecs, one file each (live_*.c), listed in live.c. */
extern const mc_live_codec mc_live_block, mc_live_dirty_bitmap, mc_live_htab,
    mc_live_s390_stattr, mc_live_s390_skeys;

/* Helpers for codecs (live_util.c). */
bool mc_live_put_int(mc_visitor *v, const char *name, const char *type,
                     mc_wire_type wt, uint64_t raw, mc_error **errp);
bool mc_live_start_record(mc_visitor *v, const char *kind, mc_error **errp);
bool mc_live_counted_name(const mc_live_env *env, mc_visitor *v,
                          const char *role, mc_error **errp);
bool mc_live_u16(mc_src *src, mc_visitor *v, const char *name, uint16_t *out,
                 mc_error **errp);
bool mc_live_u32(mc_src *src, mc_visitor *v, const char *name, uint32_t *out,
                 mc_error **errp);
bool mc_live_u64_value(mc_visitor *v, const char *name, uint64_t raw,
                       mc_error **errp);
bool mc_live_check_version(const mc_live_env *env, const char *what,
                           uint32_t want, mc_error **errp);
bool mc_live_counted_bytes(const mc_live_env *env, mc_visitor *v,
                           const char *name, const char *type, uint64_t count,
                           uint64_t count_off, mc_error **errp);

#endif
