/*
 * Codecs for live (iterative) sections other than RAM, and other sections
 * whose data no vmdesc describes: block migration, dirty bitmaps, the POWER
 * hash page table, s390 storage attributes.  Each codec reads one section's
 * data from the legacy stream and reports it to the visitor as ordinary
 * values (mc_visit_int, mc_visit_bytes, structs, arrays), in wire order, so
 * that every other part of migconv (BER, dump, the legacy writer) handles
 * it without knowing the codec.
 */
#ifndef MC_READ_LIVE_H
#define MC_READ_LIVE_H

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

#endif
