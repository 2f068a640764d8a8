/*
 * Helpers shared by the live-section codecs (live.h): values reported with
 * their exact wire width, records, counted names and bytes, versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "legacy/live.h"

#define DATA_ERR(env, off, ...) \
    mc_error_data(errp, (off), (env)->path, __VA_ARGS__)

bool mc_live_put_int(mc_visitor *v, const char *name, const char *type,
                    mc_wire_type wt, uint64_t raw, mc_error **errp)
{
    mc_field f = {name, type};
    return mc_visit_int(v, &f, wt, raw, errp);
}

bool mc_live_start_record(mc_visitor *v, const char *kind, mc_error **errp)
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
bool mc_live_counted_name(const mc_live_env *env, mc_visitor *v,
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
           mc_live_put_int(v, "len", "uint8", MC_WT_U8, len, errp) &&
           mc_visit_bytes(v, &fn, p, len, errp) && mc_visit_end_struct(v, errp);
}


bool mc_live_u16(mc_src *src, mc_visitor *v, const char *name,
                      uint16_t *out, mc_error **errp)
{
    mc_field f = {name, "uint16"};
    return mc_src_be16(src, out, errp) &&
           mc_visit_int(v, &f, MC_WT_U16, *out, errp);
}

bool mc_live_u32(mc_src *src, mc_visitor *v, const char *name,
                      uint32_t *out, mc_error **errp)
{
    mc_field f = {name, "uint32"};
    return mc_src_be32(src, out, errp) &&
           mc_visit_int(v, &f, MC_WT_U32, *out, errp);
}

bool mc_live_u64_value(mc_visitor *v, const char *name, uint64_t raw,
                            mc_error **errp)
{
    mc_field f = {name, "uint64"};
    return mc_visit_int(v, &f, MC_WT_U64, raw, errp);
}

bool mc_live_check_version(const mc_live_env *env, const char *what,
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
bool mc_live_counted_bytes(const mc_live_env *env, mc_visitor *v,
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
