/*
 * What a BER file holds besides the Stream (asn1/migconv.asn):
 *
 *   [Container]  Stream  [Trailer]
 *
 * Container ([APPLICATION 9], DER) says what the legacy stream was inside:
 * a compression format (and the level to compress with again) and, for a
 * libvirt save image, the exact bytes of its header, XML and cookie.
 * Trailer ([APPLICATION 8], indefinite length) holds the bytes that
 * followed the vmdesc, exactly, in chunks: runs of 64 or more zero bytes
 * as a count, other bytes as octet strings of at most 64 KiB.  The split
 * depends only on the bytes, so the encoding is deterministic.
 */
#ifndef MC_CONTAINER_BER_CONTAINER_H
#define MC_CONTAINER_BER_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container/codec.h"
#include "core/error.h"
#include "core/io.h"

#define MC_BER_CONTAINER_TAG 0x69  /* [APPLICATION 9] constructed */
#define MC_BER_TRAILER_TAG 0x68    /* [APPLICATION 8] constructed */
#define MC_TRAILER_ZERO_RUN 64u
#define MC_TRAILER_CHUNK 65536u

typedef enum mc_container_kind {
    MC_CONTAINER_COMPRESSED = 0,  /* a compressed stream, nothing else */
    MC_CONTAINER_LIBVIRT = 1,     /* a libvirt save image */
} mc_container_kind;

typedef struct mc_container_info {
    mc_container_kind kind;
    mc_codec codec;
    int level;
    uint8_t *libvirt;     /* header + data_len bytes (libvirt only) */
    size_t libvirt_len;
} mc_container_info;

void mc_container_info_free(mc_container_info *ci);

bool mc_container_ber_write(mc_sink *k, const mc_container_info *ci,
                            mc_error **errp);
/* Read a Container at the source's position (it starts with 0x69). */
bool mc_container_ber_read(mc_src *s, mc_container_info *ci,
                           mc_error **errp);

/* Encode trailing bytes as they come; nothing is written when there were
 * none. */
typedef struct mc_trailer_writer {
    mc_sink *k;
    bool started;
    uint64_t zeros;       /* pending zero bytes */
    size_t len;           /* pending other bytes */
    uint64_t total;       /* bytes fed */
    uint8_t buf[MC_TRAILER_CHUNK];
} mc_trailer_writer;

void mc_trailer_writer_init(mc_trailer_writer *t, mc_sink *k);
bool mc_trailer_writer_feed(mc_trailer_writer *t, const uint8_t *p, size_t n,
                            mc_error **errp);
bool mc_trailer_writer_finish(mc_trailer_writer *t, mc_error **errp);

/* Copy everything left in src into a Trailer on k.  *total: bytes. */
bool mc_trailer_copy_out(mc_src *src, mc_sink *k, uint64_t *total,
                         mc_error **errp);
/* After the Stream: an optional Trailer (its bytes go to k), then the end
 * of the input. */
bool mc_trailer_read(mc_src *src, mc_sink *k, uint64_t *total,
                     mc_error **errp);

#endif
