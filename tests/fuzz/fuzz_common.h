/*
 * Helpers shared by the fuzz targets (fuzz_legacy.c, fuzz_ber.c,
 * fuzz_roundtrip.c): run one reader over bytes in memory into one visitor,
 * with bounded memory, checking the error contract of core/error.h on the
 * way.  Nothing here prints; a broken invariant calls abort() so that
 * libFuzzer (or the regression driver) records the input.
 */
#ifndef MC_FUZZ_COMMON_H
#define MC_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device state a reader may buffer while looking for the vmdesc. */
#define FZ_TAIL_CAP ((size_t)1 << 20)

typedef enum fz_reader {
    FZ_READ_LEGACY,
    FZ_READ_BER,          /* mc_ber_read, hand-written parser only */
    FZ_READ_BER_VALIDATE, /* mc_ber_read with opts.validate (libtasn1) */
} fz_reader;

typedef enum fz_writer {
    FZ_WRITE_NULL,
    FZ_WRITE_JSON,        /* summary only */
    FZ_WRITE_JSON_RAM,    /* every RAM record */
    FZ_WRITE_BER,         /* with names */
    FZ_WRITE_BER_NONAMES,
    FZ_WRITE_LEGACY,
} fz_writer;

typedef enum fz_input {
    FZ_INPUT_MEM,         /* mc_src_init_mem over the bytes */
    FZ_INPUT_FD,          /* the bytes in a memfd, through mc_src_init_fd */
} fz_input;

typedef struct fz_result {
    bool ok;
    uint8_t *out;         /* what the visitor wrote (malloc'd), or NULL */
    size_t out_len;
    int warnings;         /* opts.warn calls */
} fz_result;

/*
 * Run reader over data into a new visitor of kind writer, then complete
 * the visitor.  On success res->out holds the sink's bytes (NULL for the
 * null visitor).  Errors are checked (set exactly when the run fails, with
 * a message, never MC_ERR_INTERNAL, which means a reader drove a visitor
 * against the contract) and freed.
 */
void fz_run(fz_reader reader, fz_writer writer, fz_input input,
            const uint8_t *data, size_t size, fz_result *res);
void fz_result_free(fz_result *res);

/* abort() unless the two byte strings are identical. */
void fz_assert_same(const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen);

/* abort() unless the bytes are one valid JSON text (the dump's promise;
 * numbers may exceed int64: uint64 values are printed as they are). */
void fz_assert_json(const uint8_t *p, size_t n);

/* The "names" BOOLEAN of an accepted BER stream's StreamHeader. */
bool fz_ber_names(const uint8_t *ber, size_t len);

#endif
