/*
 * Live-section codec: block migration ("block", migration/block.c of QEMU
 * 7.2; block migration was removed in 9.1).  Written by an old-style save
 * handler, so no vmdesc describes it: each START/PART/END holds a run of
 * records that ends with a record carrying the EOS flag.  Every record is
 * reported as a struct named "record" whose type says what kind of record
 * it is, holding its fields in wire order with their exact wire width, so
 * that the legacy writer rebuilds the bytes from the values alone.
 */
#include <string.h>

#include "legacy/live.h"

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
        if (!mc_live_start_record(v, kind, errp) ||
            !mc_live_put_int(v, "sector_flags", "uint64", MC_WT_U64, hdr, errp)) {
            return false;
        }
        if (flags & BLK_MIG_FLAG_DEVICE_BLOCK) {
            if (!mc_live_counted_name(env, v, "device", errp)) {
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

const mc_live_codec mc_live_block = {
    .idstr = "block",
    .parse = block_parse,
};
