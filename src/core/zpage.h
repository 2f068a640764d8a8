/*
 * A COMPRESS_PAGE record's payload (QEMU's compress capability,
 * migration/qemu-file.c qemu_put_compression_data): one complete zlib
 * stream, deflated from exactly one target page.
 */
#ifndef MC_CORE_ZPAGE_H
#define MC_CORE_ZPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Inflate data[0..len) into page[0..page_size): it must give exactly
 * page_size bytes and end its zlib stream there. */
bool mc_zpage_inflate(const uint8_t *data, size_t len, uint8_t *page,
                      size_t page_size, mc_error **errp);

#endif
