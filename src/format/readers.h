/*
 * Stream readers.  A reader walks one input stream and drives a visitor
 * (core/visitor.h).  Readers never print; errors carry the input offset and
 * the section/field path.
 */
#ifndef MC_FORMAT_READERS_H
#define MC_FORMAT_READERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "core/visitor.h"

typedef enum mc_format {
    MC_FORMAT_UNKNOWN,
    MC_FORMAT_LEGACY,
    MC_FORMAT_BER,
} mc_format;

/* Guess the format from the first bytes (at least 4 are needed). */
mc_format mc_format_detect(const uint8_t *p, size_t n);
const char *mc_format_name(mc_format f);

/* Default cap on device state buffered while waiting for the vmdesc. */
#define MC_DEFAULT_TAIL_CAP (64u << 20)

struct mc_tables;

typedef struct mc_read_opts {
    size_t tail_cap;   /* 0: MC_DEFAULT_TAIL_CAP */
    /* The largest vmdesc accepted (0: MC_DEFAULT_VMDESC_LIMIT, 16 MiB); a
     * legacy reader's vmdesc JSON may hold limit / 3 units of elements. */
    size_t vmdesc_limit;
    bool validate;     /* BER: also decode every record with libtasn1
                          against the compiled schema */
    /* Optional: told about input that was read but not as described, e.g.
     * a device section carried as opaque bytes because its vmdesc entry
     * does not match the bytes.  The error is borrowed for the call. */
    void (*warn)(void *opaque, const mc_error *warning);
    void *warn_opaque;
    /* Legacy: descriptor tables for device sections that no vmdesc
     * describes (desc/tables.h), tried before the built-in ones; NULL:
     * only the built-in tables (desc/builtin.h). */
    const struct mc_tables *tables;
    /* Legacy: use only this QEMU version's built-in tables ("5.2", ...);
     * NULL: choose by the machine type (desc/builtin.h). */
    const char *qemu_version;
    /* Legacy: use tables alone, without the built-in ones. */
    bool tables_only;
    /* Stop after the vmdesc (legacy) or after the end of the Stream (BER)
     * and leave whatever follows in the source for the caller: the bytes
     * after a stream in a state volume, or the BER's Trailer items.
     * false: such bytes are an error. */
    bool keep_trailer;
} mc_read_opts;

bool mc_legacy_read(mc_src *src, mc_visitor *v, const mc_read_opts *opts,
                    mc_error **errp);
bool mc_ber_read(mc_src *src, mc_visitor *v, const mc_read_opts *opts,
                 mc_error **errp);

/* Check one complete DER TLV against the compiled schema type (e.g.
 * "MigConv.ItemL"), recursing into the ANY holes.  Used by the BER reader
 * with opts->validate and by tests. */
bool mc_ber_schema_check(const char *type, const uint8_t *der, size_t len,
                         mc_error **errp);

#endif
