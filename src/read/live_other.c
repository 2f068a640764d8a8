/*
 * Codecs for the non-VMState sections of other targets (see live.h):
 *
 *  - "spapr/htab" (POWER hash page table, live, version 1), from
 *    hw/ppc/spapr.c htab_save_setup/_iterate/_complete and htab_load;
 *  - "s390-storage_attributes" (CMMA, live, version 0), from
 *    hw/s390x/s390-stattrib.c cmma_save_setup/cmma_save and cmma_load;
 *  - "s390-skeys" (storage keys, old-style save_state, version 1), from
 *    hw/s390x/s390-skeys.c s390_storage_keys_save/_load.
 *
 * Each parse reads one section's data exactly as QEMU 7.2's loader does
 * and reports every byte as a value, in wire order, with the wire width
 * QEMU used (qemu_put_be16/be32/be64, raw buffers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "read/live.h"

#define DATA_ERR(env, off, ...) \
    mc_error_data(errp, (off), (env)->path, __VA_ARGS__)

/* ---- helpers ---- */

static bool visit_u16(mc_src *src, mc_visitor *v, const char *name,
                      uint16_t *out, mc_error **errp)
{
    mc_field f = {name, "uint16"};
    return mc_src_be16(src, out, errp) &&
           mc_visit_int(v, &f, MC_WT_U16, *out, errp);
}

static bool visit_u32(mc_src *src, mc_visitor *v, const char *name,
                      uint32_t *out, mc_error **errp)
{
    mc_field f = {name, "uint32"};
    return mc_src_be32(src, out, errp) &&
           mc_visit_int(v, &f, MC_WT_U32, *out, errp);
}

static bool visit_u64_value(mc_visitor *v, const char *name, uint64_t raw,
                            mc_error **errp)
{
    mc_field f = {name, "uint64"};
    return mc_visit_int(v, &f, MC_WT_U64, raw, errp);
}

static bool check_version(const mc_live_env *env, const char *what,
                          uint32_t want, mc_error **errp)
{
    if (env->version_id != want) {
        DATA_ERR(env, mc_src_offset(env->src),
                 "%s version %u is not supported (QEMU writes version %u)",
                 what, env->version_id, want);
        return false;
    }
    return true;
}

/*
 * count raw bytes named name, after checking that such a request is
 * possible at all: a length from the stream is never trusted before this.
 */
static bool visit_counted_bytes(const mc_live_env *env, mc_visitor *v,
                                const char *name, const char *type,
                                uint64_t count, uint64_t count_off,
                                mc_error **errp)
{
    if (count > MC_SRC_MAX_REQUEST || count > mc_src_left_in_limit(env->src)) {
        DATA_ERR(env, count_off,
                 "%s of %llu bytes is more than the section can hold",
                 name, (unsigned long long)count);
        return false;
    }
    const uint8_t *p;
    mc_field f = {name, type};
    return mc_src_take(env->src, (size_t)count, &p, errp) &&
           mc_visit_bytes(v, &f, p, (size_t)count, errp);
}

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
    if (!check_version(env, "spapr/htab", HTAB_VERSION, errp)) {
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
            !visit_u32(src, v, "index", &index, errp) ||
            !visit_u16(src, v, "n_valid", &n_valid, errp) ||
            !visit_u16(src, v, "n_invalid", &n_invalid, errp)) {
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

/* ---- flag-word records of s390 (storage attributes, storage keys) ---- */

/*
 * Both s390 formats are a loop of be64 words whose low bits (below the
 * target page size) are flags and whose high bits are a guest address.
 * The loaders switch on the exact flag value.
 */
typedef struct flag_format {
    const char *what;        /* for messages */
    uint64_t eos, data, error, done; /* flag values (done: 0 if none) */
    const char *data_name;   /* struct of a data record */
    const char *data_type;
    const char *count_name;  /* its be64 count */
    const char *bytes_name;  /* its count bytes */
    const char *bytes_type;
} flag_format;

static bool flag_records(const mc_live_env *env, mc_visitor *v,
                         const flag_format *ff, mc_error **errp)
{
    mc_src *src = env->src;
    if (env->page_size == 0 || (env->page_size & (env->page_size - 1))) {
        DATA_ERR(env, mc_src_offset(src), "page size %u is not a power of two",
                 env->page_size);
        return false;
    }
    const uint64_t mask = (uint64_t)env->page_size - 1;
    for (;;) {
        uint64_t off = mc_src_offset(src);
        uint64_t word;
        if (!mc_src_be64(src, &word, errp)) {
            return false;
        }
        uint64_t flags = word & mask;
        if (flags == ff->data) {
            mc_field fs = {ff->data_name, ff->data_type};
            uint64_t count;
            uint64_t coff = mc_src_offset(src);
            if (!mc_visit_start_struct(v, &fs, errp) ||
                !visit_u64_value(v, "addr_flags", word, errp) ||
                !mc_src_be64(src, &count, errp) ||
                !visit_u64_value(v, ff->count_name, count, errp) ||
                !visit_counted_bytes(env, v, ff->bytes_name, ff->bytes_type,
                                     count, coff, errp) ||
                !mc_visit_end_struct(v, errp)) {
                return false;
            }
        } else if (ff->done && flags == ff->done) {
            /* the end of pre-copy: the loader synchronises and goes on */
            if (!visit_u64_value(v, "done", word, errp)) {
                return false;
            }
        } else if (flags == ff->eos) {
            return visit_u64_value(v, "eos", word, errp);
        } else if (flags == ff->error) {
            /* the saver's "data incomplete" mark: QEMU's loader fails on
             * it, nothing of this section follows */
            return visit_u64_value(v, "error", word, errp);
        } else {
            DATA_ERR(env, off, "unexpected %s flags 0x%llx in 0x%016llx",
                     ff->what, (unsigned long long)flags,
                     (unsigned long long)word);
            return false;
        }
    }
}

/* ---- s390-storage_attributes (hw/s390x/s390-stattrib.c) ---- */

#define STATTR_VERSION 0

/*
 * Records until STATTR_FLAG_EOS: MORE (be64 gfn << page bits | 2, be64
 * count, count attribute bytes, one per page), DONE (8, after the last
 * pre-copied values), EOS (1), ERROR (4, never written by QEMU; its
 * loader fails on it).  START holds only EOS (cmma_save_setup).
 */
static const flag_format stattr_format = {
    .what = "storage attribute",
    .eos = 0x01,
    .data = 0x02,
    .error = 0x04,
    .done = 0x08,
    .data_name = "more",
    .data_type = "stattr more",
    .count_name = "count",
    .bytes_name = "attributes",
    .bytes_type = "cmma",
};

static bool stattr_parse(const mc_live_env *env, mc_visitor *v,
                         mc_error **errp)
{
    return check_version(env, "s390-storage_attributes", STATTR_VERSION,
                         errp) &&
           flag_records(env, v, &stattr_format, errp);
}

/* ---- s390-skeys (hw/s390x/s390-skeys.c) ---- */

#define SKEYS_VERSION 1

/*
 * One FULL section: per guest memory range, be64 (address | SKEYS 2) and
 * be64 pages, then one key byte per page; then EOS (1), or ERROR (4) when
 * reading the keys failed (the keys sent are zeros then).  A guest that
 * never enabled storage keys sends EOS alone.
 */
static const flag_format skeys_format = {
    .what = "storage key",
    .eos = 0x01,
    .data = 0x02,
    .error = 0x04,
    .done = 0,
    .data_name = "range",
    .data_type = "skeys range",
    .count_name = "pages",
    .bytes_name = "keys",
    .bytes_type = "skeys",
};

static bool skeys_parse(const mc_live_env *env, mc_visitor *v,
                        mc_error **errp)
{
    if (env->section_type != MC_VM_SECTION_FULL) {
        DATA_ERR(env, mc_src_offset(env->src),
                 "s390-skeys is saved in one full section, not a live one");
        return false;
    }
    return check_version(env, "s390-skeys", SKEYS_VERSION, errp) &&
           flag_records(env, v, &skeys_format, errp);
}

/* ---- the table ---- */

static const mc_live_codec htab_codec = {
    .idstr = "spapr/htab",
    .parse = htab_parse,
    .free_state = free,
};

static const mc_live_codec stattr_codec = {
    .idstr = "s390-storage_attributes",
    .parse = stattr_parse,
};

static const mc_live_codec skeys_codec = {
    .idstr = "s390-skeys",
    .parse = skeys_parse,
};

const mc_live_codec *const mc_live_codecs_other[] = {
    &htab_codec,
    &stattr_codec,
    &skeys_codec,
    NULL,
};
