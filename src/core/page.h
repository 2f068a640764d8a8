/*
 * Decoding one RAM page record into the page's content.
 *
 * QEMU's RAM section sends a guest page as one of several records
 * (migration/ram.c): RAM_SAVE_FLAG_ZERO (the page filled with one byte),
 * RAM_SAVE_FLAG_PAGE (the bytes themselves), RAM_SAVE_FLAG_XBZRLE (a delta
 * against the content the destination already holds, migration/xbzrle.c)
 * and RAM_SAVE_FLAG_COMPRESS_PAGE (one zlib stream of the page).  These
 * functions turn a record's payload (mc_ram_record.data/len) into the
 * page's new content, for anyone who needs plain pages: `extract` (RAM
 * images), `normalize` (plain PAGE records) and `retarget`.
 *
 * Every function works on a caller-owned page buffer of page_size bytes
 * and allocates nothing except the inflate state of an mc_page_inflater.
 * On failure the page buffer's content is unspecified (the caller drops
 * it) and *errp is set once with an MC_ERR_DATA error carrying the given
 * input offset and field path (the caller knows where the record was).
 *
 * Where QEMU is lenient, these are strict, because a converter must not
 * invent bytes: an XBZRLE delta is only applied to a page the caller knows
 * was sent before (QEMU's source never sends one otherwise; the caller
 * checks and reports "never sent", see mc_page_xbzrle_apply), and a
 * compressed page must inflate to exactly one page with nothing after the
 * zlib stream (QEMU's destination accepts a short page and keeps the old
 * tail).
 */
#ifndef MC_CORE_PAGE_H
#define MC_CORE_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* ENCODING_FLAG_XBZRLE: the only XBZRLE encoding byte QEMU writes. */
#define MC_ENCODING_FLAG_XBZRLE 0x1

/* A ZERO record: every byte of the page is fill (QEMU only sends 0, but a
 * stream may carry any byte and QEMU's destination applies it). */
void mc_page_fill(uint8_t *page, size_t page_size, uint8_t fill);

/* True if all page_size bytes equal the first one (*fill gets it). */
bool mc_page_is_uniform(const uint8_t *page, size_t page_size, uint8_t *fill);

/*
 * Apply an XBZRLE delta to page, which must hold the page's previous
 * content.  The delta is a sequence of (zero run, non-zero run) pairs as
 * written by xbzrle_encode_buffer(): ULEB128 run lengths of at most two
 * bytes (< 2^14), a zero run of 0 only in the first pair, a non-zero run
 * of at least 1 followed by that many literal bytes that replace the
 * page's bytes; bytes not covered keep their previous value.  Errors
 * (same conditions as QEMU's xbzrle_decode_buffer): a truncated pair, a
 * run length of 3 bytes or more, a zero-length run where not allowed, a
 * run past the page's end or a literal past the delta's end.  A wrong
 * encoding byte is an error too ("encoding" is the record's byte).
 */
bool mc_page_xbzrle_apply(uint8_t *page, size_t page_size, uint8_t encoding,
                          const uint8_t *delta, size_t len, uint64_t offset,
                          const char *path, mc_error **errp);

/*
 * Build the XBZRLE delta that turns old into new (the inverse of
 * mc_page_xbzrle_apply, same encoding as QEMU's xbzrle_encode_buffer).
 * Returns the delta's length, 0 if the pages are equal, or -1 if it would
 * not fit into cap bytes.  Used by the tests and by writers that re-encode.
 */
long mc_page_xbzrle_encode(const uint8_t *old, const uint8_t *new_page,
                           size_t page_size, uint8_t *out, size_t cap);

/* Inflates COMPRESS_PAGE payloads; one per user, reused for every page. */
typedef struct mc_page_inflater mc_page_inflater;

mc_page_inflater *mc_page_inflater_new(void);
void mc_page_inflater_free(mc_page_inflater *z);

/*
 * Inflate one COMPRESS_PAGE payload (a complete zlib stream) into page.
 * Errors: not a valid zlib stream, fewer than page_size bytes ("inflates to
 * N bytes, not a page of M"), more than page_size bytes, or bytes left
 * over after the end of the zlib stream.
 */
bool mc_page_inflate(mc_page_inflater *z, uint8_t *page, size_t page_size,
                     const uint8_t *data, size_t len, uint64_t offset,
                     const char *path, mc_error **errp);

/*
 * The set of pages of one RAM block that a stream has sent so far, to
 * reject an XBZRLE record for a page never sent (its "previous content"
 * does not exist).  Memory grows with the pages actually seen (one bit
 * each, in 32768-page chunks allocated on first use), never with the
 * block's announced length.
 */
typedef struct mc_page_set mc_page_set;

mc_page_set *mc_page_set_new(void);
void mc_page_set_free(mc_page_set *s);
void mc_page_set_add(mc_page_set *s, uint64_t index);
bool mc_page_set_has(const mc_page_set *s, uint64_t index);
/* Number of distinct pages added. */
uint64_t mc_page_set_count(const mc_page_set *s);

#endif
