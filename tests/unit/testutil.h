/* Helpers shared by the cmocka unit tests. */
#ifndef MC_TESTUTIL_H
#define MC_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/io.h"
#include "core/visitor.h"

/* Read a whole file; aborts the test on failure.  Caller frees. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* Path of a committed fixture stream (tests/fixtures/streams/NAME.mig). */
const char *tu_fixture(const char *name);
bool tu_fixture_exists(const char *name);

/* Growable byte buffer for building golden inputs. */
typedef struct tu_buf {
    uint8_t *p;
    size_t len, cap;
} tu_buf;
void tu_put(tu_buf *b, const void *p, size_t n);
void tu_u8(tu_buf *b, uint8_t v);
void tu_be16(tu_buf *b, uint16_t v);
void tu_be32(tu_buf *b, uint32_t v);
void tu_be64(tu_buf *b, uint64_t v);
void tu_str(tu_buf *b, const char *s); /* u8 length + bytes */
void tu_free(tu_buf *b);

/* Run a reader over bytes in memory into a visitor.  Returns the reader's
 * result; *errp receives the error (or NULL). */
typedef bool (*tu_reader_fn)(mc_src *src, mc_visitor *v, mc_error **errp);
bool tu_run(tu_reader_fn reader, const uint8_t *in, size_t len, mc_visitor *v,
            mc_error **errp);
bool tu_legacy_reader(mc_src *src, mc_visitor *v, mc_error **errp);
bool tu_ber_reader(mc_src *src, mc_visitor *v, mc_error **errp);

/* Convert in memory; returns a malloc'd buffer (NULL on error, *errp set). */
uint8_t *tu_legacy_to_ber(const uint8_t *in, size_t len, bool names,
                          size_t *out_len, mc_error **errp);
uint8_t *tu_ber_to_legacy(const uint8_t *in, size_t len, size_t *out_len,
                          mc_error **errp);

#endif
