/*
 * Constructors of the visitors migconv ships.  Each returns a visitor that
 * implements the contract of core/visitor.h; free it with mc_visitor_free().
 * Visitors that write output write to a caller-owned mc_sink and flush it in
 * mc_visitor_complete().
 */
#ifndef MC_VISIT_VISITORS_H
#define MC_VISIT_VISITORS_H

#include <stdbool.h>

#include "core/io.h"
#include "core/visitor.h"

/* BER writer (asn1/migconv.asn). */
typedef struct mc_ber_writer_opts {
    bool names;        /* write field names, types and vmsd names */
} mc_ber_writer_opts;
mc_visitor *mc_ber_writer_new(mc_sink *out, const mc_ber_writer_opts *opts);

/* Legacy (QEVM) stream writer: rebuilds the exact legacy bytes. */
mc_visitor *mc_legacy_writer_new(mc_sink *out);

/* JSON dump (migconv dump). */
typedef struct mc_json_opts {
    bool ram_records;  /* list every RAM record, not only the summary */
    /* The container the stream came in (a libvirt image, a compressed
     * file), shown as "container" after "names"; NULL: none. */
    const struct mc_container_info *container;
} mc_json_opts;
mc_visitor *mc_json_visitor_new(mc_sink *out, const mc_json_opts *opts);

/* Writes only the vmdesc JSON (exact bytes, then a newline); a stream
 * without one fails in mc_visitor_complete() (dump --vmdesc). */
mc_visitor *mc_vmdesc_visitor_new(mc_sink *out);

/* Accepts every call and does nothing (validation runs, dry runs). */
mc_visitor *mc_null_visitor_new(void);

/* Finds the item of the stream read from src that covers offset target:
 * read the stream into it (the read stops with an error to discard once
 * past the target), then ask where.  The string lives with the visitor. */
mc_visitor *mc_locator_new(const mc_src *src, uint64_t target);
const char *mc_locator_where(const mc_visitor *v);

/* Retarget (visit/retarget.c, rules in desc/compat.h): check a stream
 * against QEMU version to (down NULL: compat, report only) or rewrite it
 * for that version into down (retarget; down is not owned).  Every finding
 * and every rewrite goes to report as one line. */
typedef enum mc_retarget_kind {
    MC_RETARGET_BLOCKS,   /* would stop QEMU `to` from loading the stream */
    MC_RETARGET_NOTE,     /* worth knowing, does not block */
    MC_RETARGET_REWRITE,  /* a rewrite retarget made */
} mc_retarget_kind;
struct mc_tables;
struct mc_target_profile;
typedef struct mc_retarget_opts {
    const char *to;                 /* "7.2" (a built-in version), or
                                       NULL with to_tables or to_stream */
    /* the target's layouts instead of the built-in tables of `to`
     * (--to-tables), and what the target's own stream shows (--to-stream,
     * visit/target_profile.h); not owned */
    const struct mc_tables *to_tables;
    const struct mc_target_profile *to_stream;
    const mc_src *src;              /* the input, for offsets in refusals
                                       (or NULL) */
    bool src_legacy;                /* src is a legacy stream: the bytes of
                                       a decoded field (virtio) are counted
                                       to give its items' offsets */
    const char *const *allow_loss;  /* --allow-loss words ("block") */
    size_t n_allow_loss;
    void (*report)(void *opaque, mc_retarget_kind kind, const char *rule,
                   const char *line);
    void *report_opaque;
} mc_retarget_opts;
mc_visitor *mc_retarget_new(mc_visitor *down, const mc_retarget_opts *o);
/* Check mode: how many findings block. */
unsigned mc_retarget_blockers(const mc_visitor *v);

#endif
