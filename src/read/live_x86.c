/*
 * Live-section codecs: block migration ("block") and dirty bitmaps
 * ("dirty-bitmap").
 *
 * Both sections are written by old-style save handlers, so no vmdesc
 * describes them.  Each START/PART/END of them holds a run of records that
 * ends with a record carrying the EOS flag.  Every record is reported as a
 * struct named "record" whose type says what kind of record it is, holding
 * its fields in wire order with their exact wire width, so that the legacy
 * writer rebuilds the bytes from the values alone.  A counted name (u8
 * length + bytes) becomes a struct holding an int "len" (u8) and bytes
 * "name".
 *
 * Layouts are those of QEMU 7.2's migration/block.c and
 * migration/block-dirty-bitmap.c (block migration was removed in 9.1; the
 * dirty-bitmap records are still the same in the newest QEMU).
 */
#include <string.h>

#include "read/live.h"

/* ---- helpers ---- */

static bool put_int(mc_visitor *v, const char *name, const char *type,
                    mc_wire_type wt, uint64_t raw, mc_error **errp)
{
    mc_field f = {name, type};
    return mc_visit_int(v, &f, wt, raw, errp);
}

static bool start_record(mc_visitor *v, const char *kind, mc_error **errp)
{
    mc_field f = {"record", kind};
    return mc_visit_start_struct(v, &f, errp);
}

/*
 * A counted name: u8 length and that many bytes, reported as the struct
 * "role" { len: u8, name: bytes }.  QEMU's loaders cannot use an empty
 * name or one with a NUL byte in it (nothing can be named that way), so
 * those are refused.
 */
static bool counted_name(const mc_live_env *env, mc_visitor *v,
                         const char *role, mc_error **errp)
{
    uint64_t off = mc_src_offset(env->src);
    uint8_t len;
    const uint8_t *p;
    if (!mc_src_u8(env->src, &len, errp)) {
        return false;
    }
    if (len == 0) {
        mc_error_data(errp, off, env->path, "empty %s name", role);
        return false;
    }
    if (!mc_src_take(env->src, len, &p, errp)) {
        return false;
    }
    if (memchr(p, 0, len)) {
        mc_error_data(errp, off, env->path, "%s name contains a NUL byte",
                      role);
        return false;
    }
    mc_field fs = {role, "counted string"};
    mc_field fn = {"name", "buffer"};
    return mc_visit_start_struct(v, &fs, errp) &&
           put_int(v, "len", "uint8", MC_WT_U8, len, errp) &&
           mc_visit_bytes(v, &fn, p, len, errp) && mc_visit_end_struct(v, errp);
}

/* ---- block migration (migration/block.c) ---- */

/* Every device block carries this much data, even the last, shorter chunk
 * of a device (blk_send() always sends the whole buffer). */
#define BLK_MIG_BLOCK_SIZE (1u << 20)
#define BDRV_SECTOR_BITS 9

#define BLK_MIG_FLAG_DEVICE_BLOCK 0x01
#define BLK_MIG_FLAG_EOS 0x02
#define BLK_MIG_FLAG_PROGRESS 0x04
#define BLK_MIG_FLAG_ZERO_BLOCK 0x08

/*
 * Records (block_load): be64 (sector << 9 | flags), the flags being the
 * low 9 bits.  DEVICE_BLOCK: counted device name, then 1 MiB of data
 * unless ZERO_BLOCK.  PROGRESS: the "sector" is a percentage.  Anything
 * with the EOS bit ends the section's data after its own payload; QEMU
 * rejects a record with none of DEVICE_BLOCK, PROGRESS and EOS.
 *
 * The sector and the flags share one be64 on the wire, so the record
 * holds that be64 as the single int "sector_flags".
 */
static bool block_parse(const mc_live_env *env, mc_visitor *v,
                        mc_error **errp)
{
    if (env->version_id > 1) {
        mc_error_data(errp, mc_src_offset(env->src), env->path,
                      "block section version %u is not supported (QEMU "
                      "knows version 1)", env->version_id);
        return false;
    }
    for (;;) {
        uint64_t off = mc_src_offset(env->src);
        uint64_t hdr;
        if (!mc_src_be64(env->src, &hdr, errp)) {
            return false;
        }
        unsigned flags = (unsigned)(hdr & ((1u << BDRV_SECTOR_BITS) - 1));
        const char *kind;
        if (flags & BLK_MIG_FLAG_DEVICE_BLOCK) {
            kind = flags & BLK_MIG_FLAG_ZERO_BLOCK ? "zero-block"
                                                   : "device-block";
        } else if (flags & BLK_MIG_FLAG_PROGRESS) {
            kind = "progress";
        } else if (flags & BLK_MIG_FLAG_EOS) {
            kind = "eos";
        } else {
            mc_error_data(errp, off, env->path,
                          "unknown block migration flags 0x%x in record "
                          "0x%016llx", flags, (unsigned long long)hdr);
            return false;
        }
        if (!start_record(v, kind, errp) ||
            !put_int(v, "sector_flags", "uint64", MC_WT_U64, hdr, errp)) {
            return false;
        }
        if (flags & BLK_MIG_FLAG_DEVICE_BLOCK) {
            if (!counted_name(env, v, "device", errp)) {
                return false;
            }
            if (!(flags & BLK_MIG_FLAG_ZERO_BLOCK)) {
                const uint8_t *p;
                mc_field fd = {"data", "buffer"};
                if (!mc_src_take(env->src, BLK_MIG_BLOCK_SIZE, &p, errp) ||
                    !mc_visit_bytes(v, &fd, p, BLK_MIG_BLOCK_SIZE, errp)) {
                    return false;
                }
            }
        }
        if (!mc_visit_end_struct(v, errp)) {
            return false;
        }
        if (flags & BLK_MIG_FLAG_EOS) {
            return true;
        }
    }
}

static const mc_live_codec block_codec = {
    .idstr = "block",
    .parse = block_parse,
};

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
        !put_int(v, "start_sector", "uint64", MC_WT_U64, sector, errp) ||
        !mc_src_be32(env->src, &n, errp) ||
        !put_int(v, "nr_sectors", "uint32", MC_WT_U32, n, errp)) {
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
    return put_int(v, "buffer_size", "uint64", MC_WT_U64, size, errp) &&
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
        if (!start_record(v, dbm_kind(flags), errp) ||
            !put_int(v, "flags", mc_wire_type_name(wt), wt, raw, errp)) {
            return false;
        }
        if ((flags & DIRTY_BITMAP_MIG_FLAG_DEVICE_NAME) &&
            !counted_name(env, v, "node", errp)) {
            return false;
        }
        if ((flags & DIRTY_BITMAP_MIG_FLAG_BITMAP_NAME) &&
            !counted_name(env, v, "bitmap", errp)) {
            return false;
        }
        if (flags & DIRTY_BITMAP_MIG_FLAG_START) {
            uint32_t gran;
            uint8_t bflags;
            if (!mc_src_be32(env->src, &gran, errp) ||
                !put_int(v, "granularity", "uint32", MC_WT_U32, gran, errp) ||
                !mc_src_u8(env->src, &bflags, errp) ||
                !put_int(v, "bitmap_flags", "uint8", MC_WT_U8, bflags,
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

static const mc_live_codec dirty_bitmap_codec = {
    .idstr = "dirty-bitmap",
    .parse = dbm_parse,
};

const mc_live_codec *const mc_live_codecs_x86[] = {
    &block_codec,
    &dirty_bitmap_codec,
    NULL,
};
