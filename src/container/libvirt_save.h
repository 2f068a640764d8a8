/*
 * libvirt save images (virsh save, managedsave, external memory snapshots):
 * a 92-byte header, the domain XML and cookie, then the QEMU stream,
 * compressed as a whole when the header says so.  Layout as in libvirt's
 * src/qemu/qemu_saveimage.h (virQEMUSaveHeader):
 *
 *   0  char magic[16]      "LibvirtQemudSave" ("LibvirtQemudPart" while
 *                          libvirt is still writing the image)
 *  16  u32 version         2 (1: no compression)
 *  20  u32 data_len        XML + NUL + cookie + NUL + zero padding
 *  24  u32 was_running
 *  28  u32 compressed      the format, see mc_libvirt_format
 *  32  u32 cookieOffset    relative to byte 92; 0 = no cookie
 *  36  u32 unused[14]
 *  92  data_len bytes, then the stream
 *
 * The u32 are in the byte order of the host that wrote the image; libvirt
 * byte-swaps them when the version it reads is above 2.  The parsed header
 * remembers the order so that it is written back exactly.
 */
#ifndef MC_CONTAINER_LIBVIRT_SAVE_H
#define MC_CONTAINER_LIBVIRT_SAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define MC_LIBVIRT_MAGIC "LibvirtQemudSave"
#define MC_LIBVIRT_PARTIAL "LibvirtQemudPart"
#define MC_LIBVIRT_HEADER_SIZE 92u
#define MC_LIBVIRT_VERSION 2u
/* libvirt itself writes a few KiB of XML; refuse to buffer absurd ones. */
#define MC_LIBVIRT_MAX_DATA (16u << 20)

typedef enum mc_libvirt_format {
    MC_LIBVIRT_RAW = 0,
    MC_LIBVIRT_GZIP = 1,
    MC_LIBVIRT_BZIP2 = 2,
    MC_LIBVIRT_XZ = 3,
    MC_LIBVIRT_LZOP = 4,
    MC_LIBVIRT_ZSTD = 5,   /* libvirt >= 10.4 */
    MC_LIBVIRT_SPARSE = 6, /* libvirt >= 11.2: QEMU mapped-ram */
} mc_libvirt_format;

typedef struct mc_libvirt_header {
    uint32_t version;
    uint32_t data_len;
    uint32_t was_running;
    uint32_t format;
    uint32_t cookie_offset;
    uint32_t unused[14];
    bool big_endian;       /* the u32 are big-endian in the file */
} mc_libvirt_header;

/* True if p (n bytes) starts with either libvirt magic. */
bool mc_libvirt_detect(const uint8_t *p, size_t n);

/* Parse the 92-byte header.  Errors: cut header, incomplete image
 * (LibvirtQemudPart), bad magic, unsupported version, zero or too large
 * data_len, a cookie offset past data_len, an unknown format, and the
 * sparse format (not supported yet). */
bool mc_libvirt_header_parse(const uint8_t *p, size_t n,
                             mc_libvirt_header *h, mc_error **errp);

/* The 92 bytes of h, as they were read. */
void mc_libvirt_header_write(const mc_libvirt_header *h, uint8_t out[92]);

/* The stream's compression: MC_LIBVIRT_RAW for version 1 whatever the
 * format field says (libvirt only decompresses version 2 images). */
mc_libvirt_format mc_libvirt_stream_format(const mc_libvirt_header *h);
const char *mc_libvirt_format_name(uint32_t format);

/* The XML and cookie inside the data_len bytes that follow the header:
 * each up to its first NUL (cookie NULL when there is none). */
void mc_libvirt_data_split(const mc_libvirt_header *h, const uint8_t *data,
                           const char **xml, size_t *xml_len,
                           const char **cookie, size_t *cookie_len);

#endif
