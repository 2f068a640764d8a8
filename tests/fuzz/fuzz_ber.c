/*
 * libFuzzer target: the BER reader (ber/reader.c) over arbitrary
 * bytes, with and without libtasn1 validation, into the null visitor, the
 * legacy writer and the JSON dump, reading both from memory and from a
 * file descriptor.
 *
 * Oracles besides the sanitizers: the error contract (fuzz_common.c);
 * validation only adds checks (what it accepts, the plain reader accepts);
 * the legacy writer can rebuild, and the JSON dump show (as valid JSON),
 * every stream the reader accepts; a file descriptor source gives the same
 * result as a memory source.
 */
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_result plain, valid, mem, fd;
    fz_run(FZ_READ_BER, FZ_WRITE_NULL, FZ_INPUT_MEM, data, size, &plain);
    fz_run(FZ_READ_BER_VALIDATE, FZ_WRITE_NULL, FZ_INPUT_MEM, data, size,
           &valid);
    if (valid.ok && !plain.ok) {
        abort();
    }
    fz_run(FZ_READ_BER, FZ_WRITE_LEGACY, FZ_INPUT_MEM, data, size, &mem);
    if (mem.ok != plain.ok) {
        abort();
    }
    fz_reader r = size && (data[size - 1] & 1) ? FZ_READ_BER_VALIDATE
                                               : FZ_READ_BER;
    fz_run(r, FZ_WRITE_LEGACY, FZ_INPUT_FD, data, size, &fd);
    if (fd.ok != (r == FZ_READ_BER ? plain.ok : valid.ok)) {
        abort();
    }
    if (fd.ok) {
        fz_assert_same(mem.out, mem.out_len, fd.out, fd.out_len);
    }
    if (plain.ok) {
        fz_result json;
        fz_writer jw = size && (data[size - 1] & 2) ? FZ_WRITE_JSON_RAM
                                                    : FZ_WRITE_JSON;
        fz_run(FZ_READ_BER, jw, FZ_INPUT_MEM, data, size, &json);
        if (!json.ok) {
            abort();
        }
        fz_assert_json(json.out, json.out_len);
        fz_result_free(&json);
    }
    fz_result_free(&plain);
    fz_result_free(&valid);
    fz_result_free(&mem);
    fz_result_free(&fd);
    return 0;
}
