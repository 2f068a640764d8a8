/*
 * Live-section codec: dirty bitmaps ("dirty-bitmap",
 * migration/block-dirty-bitmap.c; the records are still the same in the
 * newest QEMU).  Records as for block migration (live_block.c): a struct
 * "record" per record, fields in wire order with their wire width, ending
 * with the EOS flag; a counted name (u8 length + bytes) becomes a struct
 * holding an int "len" (u8) and bytes "name".
 */
#include <string.h>

#include "legacy/live.h"

/* ---- dirty bitmaps (migration/block-dirty-bitmap.c) ---- */

#define DIRTY_BITMAP_MIG_FLAG_EOS 0x01
#define DIRTY_BITMAP_MIG_FLAG_ZEROES 0x02
#define DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME 0x04
#define DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME 0x08
#define DIRTY_BITMAP_MIG_FLAG_START 0x10
#define DIRTY_BITMAP_MIG_FLAG_COMPLETE 0x20
#define DIRTY_BITMAP_MIG_FLAG_BITS 0x40
#define DIRTY_BITMAP_MIG_EXTRA_FLAGS 0x80

/* dirty_bitmap_load_bits() refuses larger buffers (CHUNK_SIZE is 1 KiB). */
#define DIRTY_BITMAP_MAX_BUFFER (10u * 1024)

/*
 * Records (dirty_bitmap_load): flags in 1, 2 or 4 bytes: a first byte with
 * EXTRA_FLAGS (0x80) is followed by a second; a second with EXTRA_FLAGS by
 * two more.  QEMU keeps the flags in a uint8_t while reading them
 * (qemu_get_bitmap_flags), so the flags that count are those of the last
 * byte read, which is also where the flag bits sit in the big-endian
 * value.  Then [counted node alias if DEVICE_NAME] [counted bitmap alias
 * if BITMAP_NAME], then by the first of these that is set:
 *   START:    be32 granularity, u8 bitmap flags;
 *   COMPLETE: nothing;
 *   BITS:     be64 start sector, be32 number of sectors, and unless
 *             ZEROES: be64 buffer size (at most 10 KiB) and the buffer.
 * A record with EOS ends the section's data.
 */
static bool dbm_flags(const mc_live_env *env, unsigned *flags,
                      mc_wire_type *wt, uint64_t *raw, mc_error **errp)
{
    uint8_t b;
    if (!mc_src_u8(env->src, &b, errp)) {
        return false;
    }
    *raw = b;
    *wt = MC_WT_U8;
    if (b & DIRTY_BITMAP_MIG_EXTRA_FLAGS) {
        if (!mc_src_u8(env->src, &b, errp)) {
            return false;
        }
        *raw = *raw << 8 | b;
        *wt = MC_WT_U16;
        if (b & DIRTY_BITMAP_MIG_EXTRA_FLAGS) {
            uint16_t lo;
            if (!mc_src_be16(env->src, &lo, errp)) {
                return false;
            }
            *raw = *raw << 16 | lo;
            *wt = MC_WT_U32;
            b = (uint8_t)lo;
        }
    }
    *flags = b;
    return true;
}

static const char *dbm_kind(unsigned flags)
{
    if (flags & DIRTY_BITMAP_MIG_FLAG_START) {
        return "start";
    }
    if (flags & DIRTY_BITMAP_MIG_FLAG_COMPLETE) {
        return "complete";
    }
    if (flags & DIRTY_BITMAP_MIG_FLAG_BITS) {
        return flags & DIRTY_BITMAP_MIG_FLAG_ZEROES ? "bits-zeroes" : "bits";
    }
    return flags & DIRTY_BITMAP_MIG_FLAG_EOS ? "eos" : "header";
}

static bool dbm_bits(const mc_live_env *env, mc_visitor *v, unsigned flags,
                     mc_error **errp)
{
    uint64_t sector, size;
    uint32_t n;
    if (!mc_src_be64(env->src, &sector, errp) ||
        !mc_live_put_int(v, "start_sector", "uint64", MC_WT_U64, sector, errp) ||
        !mc_src_be32(env->src, &n, errp) ||
        !mc_live_put_int(v, "nr_sectors", "uint32", MC_WT_U32, n, errp)) {
        return false;
    }
    if (flags & DIRTY_BITMAP_MIG_FLAG_ZEROES) {
        return true;
    }
    uint64_t off = mc_src_offset(env->src);
    if (!mc_src_be64(env->src, &size, errp)) {
        return false;
    }
    if (size > DIRTY_BITMAP_MAX_BUFFER) {
        mc_error_data(errp, off, env->path,
                      "dirty bitmap buffer of %llu bytes exceeds the %u "
                      "QEMU accepts", (unsigned long long)size,
                      DIRTY_BITMAP_MAX_BUFFER);
        return false;
    }
    const uint8_t *p;
    mc_field fd = {"data", "buffer"};
    return mc_live_put_int(v, "buffer_size", "uint64", MC_WT_U64, size, errp) &&
           mc_src_take(env->src, (size_t)size, &p, errp) &&
           mc_visit_bytes(v, &fd, p, (size_t)size, errp);
}

static bool dbm_parse(const mc_live_env *env, mc_visitor *v, mc_error **errp)
{
    if (env->version_id != 1) {
        mc_error_data(errp, mc_src_offset(env->src), env->path,
                      "dirty-bitmap section version %u is not supported "
                      "(QEMU knows version 1)", env->version_id);
        return false;
    }
    for (;;) {
        unsigned flags;
        mc_wire_type wt;
        uint64_t raw;
        if (!dbm_flags(env, &flags, &wt, &raw, errp)) {
            return false;
        }
        if (!mc_live_start_record(v, dbm_kind(flags), errp) ||
            !mc_live_put_int(v, "flags", mc_wire_type_name(wt), wt, raw, errp)) {
            return false;
        }
        if ((flags & DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME) &&
            !mc_live_counted_name(env, v, "node", errp)) {
            return false;
        }
        if ((flags & DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME) &&
            !mc_live_counted_name(env, v, "bitmap", errp)) {
            return false;
        }
        if (flags & DIRTY_BITMAP_MIG_FLAG_START) {
            uint32_t gran;
            uint8_t bflags;
            if (!mc_src_be32(env->src, &gran, errp) ||
                !mc_live_put_int(v, "granularity", "uint32", MC_WT_U32, gran, errp) ||
                !mc_src_u8(env->src, &bflags, errp) ||
                !mc_live_put_int(v, "bitmap_flags", "uint8", MC_WT_U8, bflags,
                         errp)) {
                return false;
            }
        } else if (flags & DIRTY_BITMAP_MIG_FLAG_COMPLETE) {
            /* no payload */
        } else if (flags & DIRTY_BITMAP_MIG_FLAG_BITS) {
            if (!dbm_bits(env, v, flags, errp)) {
                return false;
            }
        }
        if (!mc_visit_end_struct(v, errp)) {
            return false;
        }
        if (flags & DIRTY_BITMAP_MIG_FLAG_EOS) {
            return true;
        }
    }
}

const mc_live_codec mc_live_dirty_bitmap = {
    .idstr = "dirty-bitmap",
    .parse = dbm_parse,
};
