/*
 * Field codecs: decoders for device fields whose VMStateInfo writes bytes
 * that no vmdesc describes (QEMU's vmdesc says only "type": "virtio",
 * "size": 46143).  A codec is given the field's exact bytes and reports
 * them to the visitor as ordinary values (ints, bytes, structs, arrays,
 * subsections) in wire order, every byte exactly once, so that the BER
 * writer, the BER reader and the legacy writer rebuild the same bytes
 * without knowing the codec.
 *
 * When the bytes do not fit the codec's layout exactly, the codec reports
 * the field as one run of bytes, as if it had no codec, and warns: a
 * codec never makes a stream fail that converts without it.
 */
#ifndef MC_LEGACY_FIELD_CODEC_H
#define MC_LEGACY_FIELD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/visitor.h"

typedef struct mc_field_env {
    const char *path;      /* the field's path, for warnings */
    uint64_t offset;       /* input offset of the field's first byte */
    /* Optional (NULL in dry runs): told when the bytes are carried whole
     * because they do not fit the layout.  The error is borrowed. */
    void (*warn)(void *opaque, const mc_error *warning);
    void *warn_opaque;
} mc_field_env;

typedef struct mc_field_codec {
    const char *type;      /* the VMStateInfo name it decodes */
    /* Report the len bytes of field f.  Fails only when the visitor does. */
    bool (*visit)(const mc_field_env *env, mc_visitor *v, const mc_field *f,
                  const uint8_t *data, size_t len, mc_error **errp);
    /* Optional: the length of the field that starts at data (avail bytes
     * of input from there), for streams whose size for it is only a
     * guess (descriptor tables: guess).  Sets *len and returns true when
     * the bytes tell; guess when they fit it exactly. */
    bool (*measure)(const uint8_t *data, size_t avail, size_t guess,
                    size_t *len);
} mc_field_codec;

/* The codec for a VMStateInfo name, or NULL. */
const mc_field_codec *mc_field_codec_find(const char *type);

/* "virtio" (QEMU hw/virtio/virtio.c virtio_save): see legacy/virtio.c. */
extern const mc_field_codec mc_virtio_codec;

#endif
