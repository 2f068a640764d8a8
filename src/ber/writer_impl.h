/*
 * The BER writer's state, shared by its two files: writer.c (stream,
 * sections, values, other items) and writer_ram.c (RAM sections and
 * their page runs).  Private to the writer.
 */
#ifndef MC_BER_WRITER_IMPL_H
#define MC_BER_WRITER_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/der.h"
#include "core/io.h"
#include "core/stream.h"
#include "core/visitor-impl.h"

typedef enum frame_kind {
    FR_SECTION,     /* the body of a configuration/device section */
    FR_STRUCT,
    FR_SUBSECTION,
    FR_ARRAY,
} frame_kind;

typedef struct frame {
    frame_kind kind;
    bool in_subs;       /* body: the fields list is closed, [0] is open */
    uint32_t left;      /* array: elements still expected */
    bool wrapped;       /* struct/array: inside a Field (name or type) */
} frame;

typedef enum run_kind { RUN_NONE, RUN_ZERO, RUN_PAGE } run_kind;

typedef struct ber_writer {
    mc_visitor base;
    mc_sink *out;
    bool names;

    bool started, ended;
    uint32_t page_size;
    unsigned packaged;      /* open packages */

    /* the section being written */
    bool in_section;
    mc_section_kind kind;
    mc_der_buf rec;               /* device section record */
    frame *frames;
    size_t n_frames, cap_frames;

    /* RAM section */
    mc_der_buf ram_hdr;           /* encoded SectionHeader */
    mc_der_buf ram_buf;           /* buffered records (definite form) */
    mc_der_buf scratch;           /* one record's TL/TLV */
    bool ram_indef;

    /* pending run */
    run_kind run;
    uint64_t run_offset;    /* offset of the first page */
    uint64_t run_count;
    uint64_t run_next;      /* offset the next page must have to join */
    bool run_next_ok;       /* run_next did not overflow */
    uint8_t run_fill;
    bool run_has_block;
    char run_block[MC_MAX_COUNTED + 1];
    uint8_t *run_data;      /* page run data, run_max_pages pages */
    uint32_t run_max_pages;
} ber_writer;

ber_writer *mc_bw_of(mc_visitor *v);
bool mc_bw_out_write(ber_writer *w, const void *p, size_t n, mc_error **errp);
bool mc_bw_misuse(mc_error **errp, const char *what);
/* A counted name (RAM block, idstr, subsection): 1..255 bytes. */
bool mc_bw_check_counted(const char *s, const char *what, mc_error **errp);
bool mc_bw_encode_section_header(ber_writer *w, mc_der_buf *d,
                                 const mc_section_info *info,
                                 mc_error **errp);

/* writer_ram.c */
bool mc_bw_ram_record(mc_visitor *v, const mc_ram_record *rec,
                      mc_error **errp);
/* Write out a RAM section at its end (the pending run, the records). */
bool mc_bw_end_ram_section(ber_writer *w, bool footer, mc_error **errp);

#endif
