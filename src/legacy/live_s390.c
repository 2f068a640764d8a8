/*
 * Live-section codecs of s390x, both made of flag-word records:
 *  - "s390-storage_attributes" (CMMA, live, version 0), from
 *    hw/s390x/s390-stattrib.c cmma_save_setup/cmma_save and cmma_load;
 *  - "s390-skeys" (storage keys, old-style save_state, version 1), from
 *    hw/s390x/s390-skeys.c s390_storage_keys_save/_load.
 * The data is read exactly as QEMU 7.2's loader does and every byte
 * reported as a value, in wire order, with the wire width QEMU used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "legacy/live.h"

#define DATA_ERR(env, off, ...) \
    mc_error_data(errp, (off), (env)->path, __VA_ARGS__)

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
                !mc_live_u64_value(v, "addr_flags", word, errp) ||
                !mc_src_be64(src, &count, errp) ||
                !mc_live_u64_value(v, ff->count_name, count, errp) ||
                !mc_live_counted_bytes(env, v, ff->bytes_name, ff->bytes_type,
                                     count, coff, errp) ||
                !mc_visit_end_struct(v, errp)) {
                return false;
            }
        } else if (ff->done && flags == ff->done) {
            /* the end of pre-copy: the loader synchronises and goes on */
            if (!mc_live_u64_value(v, "done", word, errp)) {
                return false;
            }
        } else if (flags == ff->eos) {
            return mc_live_u64_value(v, "eos", word, errp);
        } else if (flags == ff->error) {
            /* the saver's "data incomplete" mark: QEMU's loader fails on
             * it, nothing of this section follows */
            return mc_live_u64_value(v, "error", word, errp);
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
    return mc_live_check_version(env, "s390-storage_attributes", STATTR_VERSION,
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
    return mc_live_check_version(env, "s390-skeys", SKEYS_VERSION, errp) &&
           flag_records(env, v, &skeys_format, errp);
}

const mc_live_codec mc_live_s390_stattr = {
    .idstr = "s390-storage_attributes",
    .parse = stattr_parse,
};

const mc_live_codec mc_live_s390_skeys = {
    .idstr = "s390-skeys",
    .parse = skeys_parse,
};
