/*
 * Live-section codec: "spapr/htab" (POWER hash page table, live, version
 * 1), from hw/ppc/spapr.c htab_save_setup/_iterate/_complete and
 * htab_load.  The data is read exactly as QEMU 7.2's loader does and every
 * byte reported as a value, in wire order, with the wire width QEMU used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "legacy/live.h"

#define DATA_ERR(env, off, ...) \
    mc_error_data(errp, (off), (env)->path, __VA_ARGS__)

/* ---- spapr/htab (hw/ppc/spapr.c) ---- */

#define HTAB_VERSION 1
#define HASH_PTE_SIZE_64 16     /* one HPTE: be64 v + be64 r */
#define HTAB_NO_HPT 0xffffffffu /* header "-1": the guest has no HPT */

typedef struct htab_state {
    bool known;          /* a header gave the table size */
    uint64_t slots;      /* HPTEs in the table */
    uint32_t shift;
} htab_state;

/*
 * One section of spapr/htab.  QEMU's loader (htab_load) decides by the
 * be32 header alone, whatever the section type:
 *   -1        no hash page table: nothing follows;
 *   non-zero  the table size (htab_shift, bytes = 1 << shift): nothing
 *             follows (save_setup, the START section);
 *   0         chunks follow (save_live_iterate, save_live_complete):
 *             be32 index, be16 n_valid, be16 n_invalid, n_valid HPTEs,
 *             until a chunk of (0, 0, 0).
 * A chunk that runs past the table is rejected as QEMU rejects it.
 */
static bool htab_parse(const mc_live_env *env, mc_visitor *v, mc_error **errp)
{
    mc_src *src = env->src;
    if (!mc_live_check_version(env, "spapr/htab", HTAB_VERSION, errp)) {
        return false;
    }
    if (!*env->state) {
        *env->state = mc_calloc(1, sizeof(htab_state));
    }
    htab_state *st = *env->state;

    uint32_t hdr;
    if (!mc_src_be32(src, &hdr, errp)) {
        return false;
    }
    if (hdr != 0) {
        /* htab_shift, or -1 for "no HPT" (the loader frees its table) */
        mc_field f = {"htab_shift", "uint32"};
        if (!mc_visit_int(v, &f, MC_WT_U32, hdr, errp)) {
            return false;
        }
        /* 2^shift bytes of 16-byte HPTEs; no table: no entries */
        st->known = hdr == HTAB_NO_HPT || (hdr >= 4 && hdr < 64 + 4);
        st->shift = hdr;
        st->slots = st->known && hdr != HTAB_NO_HPT ? (uint64_t)1 << (hdr - 4)
                                                    : 0;
        return true;
    }
    mc_field fh = {"header", "uint32"};
    if (!mc_visit_int(v, &fh, MC_WT_U32, hdr, errp)) {
        return false;
    }
    for (;;) {
        uint64_t coff = mc_src_offset(src);
        uint32_t index;
        uint16_t n_valid, n_invalid;
        const uint8_t *p;
        /* the three header words decide the record's kind: peek them */
        if (!mc_src_peek(src, 8, &p, errp)) {
            return false;
        }
        index = mc_be32(p);
        n_valid = mc_be16(p + 4);
        n_invalid = mc_be16(p + 6);
        bool end = index == 0 && n_valid == 0 && n_invalid == 0;
        if (!end && st->known &&
            (uint64_t)index + n_valid + n_invalid > st->slots) {
            if (st->shift == HTAB_NO_HPT) {
                DATA_ERR(env, coff, "HPTE chunk at index %u (%u valid, %u "
                         "invalid) but the stream said there is no hash page "
                         "table", index, n_valid, n_invalid);
            } else {
                DATA_ERR(env, coff, "HPTE chunk at index %u (%u valid, %u "
                         "invalid) runs past the %llu entries of the hash "
                         "page table (htab_shift %u)", index, n_valid,
                         n_invalid, (unsigned long long)st->slots, st->shift);
            }
            return false;
        }
        mc_field fs = {end ? "end" : "chunk", end ? "htab end" : "htab chunk"};
        if (!mc_visit_start_struct(v, &fs, errp) ||
            !mc_live_u32(src, v, "index", &index, errp) ||
            !mc_live_u16(src, v, "n_valid", &n_valid, errp) ||
            !mc_live_u16(src, v, "n_invalid", &n_invalid, errp)) {
            return false;
        }
        if (!end) {
            /* n_valid HPTEs as QEMU keeps them: two be64 words each */
            size_t n = (size_t)n_valid * HASH_PTE_SIZE_64;
            mc_field fp = {"hptes", "hpte"};
            if (!mc_src_take(src, n, &p, errp) ||
                !mc_visit_packed(v, &fp, MC_WT_U64, (uint32_t)n_valid * 2, p,
                                 errp)) {
                return false;
            }
        }
        if (!mc_visit_end_struct(v, errp)) {
            return false;
        }
        if (end) {
            return true;
        }
    }
}

const mc_live_codec mc_live_htab = {
    .idstr = "spapr/htab",
    .parse = htab_parse,
    .free_state = free,
};
