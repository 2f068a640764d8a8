/*
 * libFuzzer target: lossless conversion in both directions.
 *
 *  - Legacy input that converts to BER must convert back to exactly the
 *    input (with and without names in the BER), and converting it twice
 *    must give the same BER bytes (determinism).  BER written by the
 *    writer must pass the reader's libtasn1 validation.
 *  - BER input that the reader accepts is in the one encoding the writer
 *    produces: read and written again (BER to BER, no legacy in between)
 *    it comes back byte for byte.  It converts to legacy, and those legacy
 *    bytes obey the promises above.
 *  - With FUZZ_STRICT_BER=1 in the environment, accepted BER must also
 *    come back identical through BER->legacy->BER.  That needs the BER to
 *    agree with its own vmdesc (field names and layout, page size, valid
 *    JSON) and to have a legacy stream's structure: the legacy stream
 *    keeps only the wire bytes and the vmdesc, so a field name or layout
 *    the vmdesc does not give is lost on the way.  The BER reader does not
 *    check all of that yet (README.md, open/).
 *
 * Every broken promise is an abort().
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* BER produced from legacy bytes must come back as those bytes. */
static void back_to_legacy(const fz_result *ber, const uint8_t *data,
                           size_t size)
{
    fz_result back;
    fz_run(FZ_READ_BER_VALIDATE, FZ_WRITE_LEGACY, FZ_INPUT_MEM, ber->out,
           ber->out_len, &back);
    if (!back.ok) {
        abort();
    }
    fz_assert_same(data, size, back.out, back.out_len);
    fz_result_free(&back);
}

static void legacy_input(const uint8_t *data, size_t size)
{
    fz_result ber, again, bare;
    fz_run(FZ_READ_LEGACY, FZ_WRITE_BER, FZ_INPUT_MEM, data, size, &ber);
    if (!ber.ok) {
        return;
    }
    back_to_legacy(&ber, data, size);
    fz_run(FZ_READ_LEGACY, FZ_WRITE_BER, FZ_INPUT_MEM, data, size, &again);
    if (!again.ok) {
        abort();
    }
    fz_assert_same(ber.out, ber.out_len, again.out, again.out_len);
    fz_run(FZ_READ_LEGACY, FZ_WRITE_BER_NONAMES, FZ_INPUT_MEM, data, size,
           &bare);
    if (!bare.ok) {
        abort();
    }
    back_to_legacy(&bare, data, size);
    fz_result_free(&ber);
    fz_result_free(&again);
    fz_result_free(&bare);
}

static bool strict_ber(void)
{
    static int strict = -1;
    if (strict < 0) {
        const char *e = getenv("FUZZ_STRICT_BER");
        strict = e && *e && strcmp(e, "0") != 0;
    }
    return strict;
}

static void ber_input(const uint8_t *data, size_t size)
{
    fz_result legacy, same, ber;
    fz_run(FZ_READ_BER, FZ_WRITE_LEGACY, FZ_INPUT_MEM, data, size, &legacy);
    if (!legacy.ok) {
        return;
    }
    fz_writer w = fz_ber_names(data, size) ? FZ_WRITE_BER
                                           : FZ_WRITE_BER_NONAMES;
    /* Only the canonical encoding is accepted. */
    fz_run(FZ_READ_BER, w, FZ_INPUT_MEM, data, size, &same);
    if (!same.ok) {
        abort();
    }
    fz_assert_same(data, size, same.out, same.out_len);
    fz_result_free(&same);

    if (!strict_ber()) {
        legacy_input(legacy.out, legacy.out_len);
        fz_result_free(&legacy);
        return;
    }
    fz_run(FZ_READ_LEGACY, w, FZ_INPUT_MEM, legacy.out, legacy.out_len, &ber);
    if (!ber.ok) {
        abort(); /* the legacy bytes it stands for cannot be read back */
    }
    fz_assert_same(data, size, ber.out, ber.out_len);
    fz_result_free(&legacy);
    fz_result_free(&ber);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Both directions on every input: each reader rejects the other
     * format at its first bytes. */
    legacy_input(data, size);
    ber_input(data, size);
    return 0;
}
