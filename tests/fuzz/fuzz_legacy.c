/*
 * libFuzzer target: the legacy stream reader (legacy/reader.c) over
 * arbitrary bytes, into the null visitor and into the JSON dump visitor,
 * reading both from memory and from a file descriptor.
 *
 * Oracles besides the sanitizers: the error contract (fuzz_common.c); the
 * JSON dump accepts every stream the reader accepts and writes valid JSON;
 * a file descriptor source gives exactly the same result as a memory
 * source.
 */
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_result dry, mem, fd;
    fz_run(FZ_READ_LEGACY, FZ_WRITE_NULL, FZ_INPUT_MEM, data, size, &dry);

    /* The last byte picks the dump mode, so both get fuzzed. */
    fz_writer json = size && (data[size - 1] & 1) ? FZ_WRITE_JSON_RAM
                                                  : FZ_WRITE_JSON;
    fz_run(FZ_READ_LEGACY, json, FZ_INPUT_MEM, data, size, &mem);
    if (mem.ok != dry.ok || mem.warnings != dry.warnings) {
        abort();
    }
    fz_run(FZ_READ_LEGACY, json, FZ_INPUT_FD, data, size, &fd);
    if (fd.ok != mem.ok || fd.warnings != mem.warnings) {
        abort();
    }
    if (mem.ok) {
        fz_assert_same(mem.out, mem.out_len, fd.out, fd.out_len);
        fz_assert_json(mem.out, mem.out_len);
    }
    fz_result_free(&dry);
    fz_result_free(&mem);
    fz_result_free(&fd);
    return 0;
}
