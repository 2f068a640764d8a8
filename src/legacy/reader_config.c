/*
 * The legacy reader: the configuration section (migration/savevm.c
 * vmstate_configuration).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/path.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "desc/desc.h"
#include "desc/builtin.h"
#include "desc/tables.h"
#include "legacy/field_codec.h"
#include "legacy/reader_impl.h"
#include "legacy/live.h"
#include "format/readers.h"
#include "visit/visitors.h"

/* ---- configuration section (savevm.c vmstate_configuration) ---- */

static bool cfg_int(reader *r, mc_visitor *v, const char *name, uint32_t *out,
                    mc_error **errp)
{
    mc_field f = {name, "uint32"};
    return mc_src_be32(r->src, out, errp) &&
           mc_visit_int(v, &f, MC_WT_U32, *out, errp);
}

/*
 * The configuration has a fixed layout known to every QEMU since 2.4: the
 * machine type (be32 length + bytes) and optional subsections.  It is
 * parsed without the vmdesc (which comes last) because the page size and
 * capabilities it holds are needed to read the RAM that follows.  With
 * learn set, the values are recorded in the reader.
 */
bool mc_lr_parse_configuration(reader *r, mc_visitor *v, bool learn,
                               mc_error **errp)
{
    mc_section_info info = {
        .type = MC_VM_CONFIGURATION,
        .kind = MC_SECTION_CONFIG,
        .idstr = "configuration",
        .vmsd_name = "configuration",
    };
    size_t old = path_push(r, "configuration");
    uint32_t len;
    const uint8_t *p;
    if (!mc_visit_start_section(v, &info, errp) ||
        !cfg_int(r, v, "len", &len, errp)) {
        return false;
    }
    uint64_t off = mc_src_offset(r->src);
    if (len > 255) {
        DATA_ERR(r, off, "machine type name of %u bytes is implausible", len);
        return false;
    }
    mc_field fname = {"name", "buffer"};
    if (!mc_src_take(r->src, len, &p, errp) ||
        !mc_visit_bytes(v, &fname, p, len, errp)) {
        return false;
    }
    memcpy(r->machine, p, len);
    r->machine[len] = '\0';
    r->has_machine = true;
    for (;;) {
        if (!mc_src_peek(r->src, 1, &p, errp)) {
            return false;
        }
        if (p[0] != MC_VM_SUBSECTION) {
            break;
        }
        off = mc_src_offset(r->src);
        char name[256];
        uint32_t version;
        if (!mc_src_skip(r->src, 1, errp) ||
            !mc_lr_read_counted(r, name, "subsection name", errp) ||
            !mc_src_be32(r->src, &version, errp)) {
            return false;
        }
        size_t sold = path_push(r, "/%s", name);
        if (!mc_visit_start_subsection(v, name, version, errp)) {
            return false;
        }
        if (strcmp(name, "configuration/target-page-bits") == 0) {
            uint32_t bits;
            if (!cfg_int(r, v, "target_page_bits", &bits, errp)) {
                return false;
            }
            if (bits < 10 || bits > 30) {
                DATA_ERR(r, off, "target page bits %u out of range", bits);
                return false;
            }
            if (learn) {
                r->page_size = 1u << bits;
                r->page_size_source = MC_PAGE_SIZE_CONFIGURATION;
            }
        } else if (strcmp(name, "configuration/capabilities") == 0) {
            uint32_t count;
            if (!cfg_int(r, v, "caps_count", &count, errp)) {
                return false;
            }
            if (count > 256) {
                DATA_ERR(r, off, "%u capabilities is implausible", count);
                return false;
            }
            mc_field fa = {"capabilities", "capability"};
            mc_field fe = {NULL, "capability"};
            if (!mc_visit_start_array(v, &fa, count, errp)) {
                return false;
            }
            for (uint32_t i = 0; i < count; i++) {
                uint64_t coff = mc_src_offset(r->src);
                char cap[256];
                if (!mc_lr_read_counted(r, cap, "capability name", errp) ||
                    !mc_src_rewind(r->src, coff) ||
                    !mc_src_take(r->src, 1 + strlen(cap), &p, errp) ||
                    !mc_visit_bytes(v, &fe, p, 1 + strlen(cap), errp)) {
                    return false;
                }
                if (learn && strcmp(cap, "x-ignore-shared") == 0) {
                    r->ignore_shared = true;
                }
                if (learn && strcmp(cap, "mapped-ram") == 0) {
                    r->mapped_ram = true;
                }
            }
            if (!mc_visit_end_array(v, errp)) {
                return false;
            }
        } else if (strcmp(name, "configuration/uuid") == 0) {
            mc_field fu = {"uuid", "uint8"};
            if (!mc_src_take(r->src, 16, &p, errp) ||
                !mc_visit_packed(v, &fu, MC_WT_U8, 16, p, errp)) {
                return false;
            }
        } else {
            DATA_ERR(r, off, "unknown configuration subsection '%s'", name);
            return false;
        }
        if (!mc_visit_end_subsection(v, errp)) {
            return false;
        }
        path_pop(r, sold);
    }
    path_pop(r, old);
    return mc_visit_end_section(v, false, errp);
}
