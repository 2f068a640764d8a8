/*
 * The legacy stream reader: walks a QEMU "QEVM" v3 migration stream and
 * drives a visitor (core/visitor.h).
 *
 * Layout (migration/savevm.c): magic, version, [configuration], then
 * sections (START/PART/END/FULL), commands and subsections inside device
 * state, QEMU_VM_EOF, and the vmdesc JSON.  Sections carry no length, so:
 *  - the "ram" live section is parsed record by record (migration/ram.c),
 *    streaming: pages are handed to the visitor straight from the input
 *    buffer and never accumulate;
 *  - device (VMState) sections are interpreted field by field with their
 *    description from the vmdesc.  QEMU writes the vmdesc after EOF, so at
 *    the first device section the reader buffers the rest of the input (the
 *    device state and the vmdesc: small, with a cap), finds the vmdesc at
 *    its end, and continues from the buffer.
 *
 * Every device section is first checked with a null visitor: the parse
 * must consume exactly the sizes the vmdesc claims and end at the footer
 * (or, without footers, at a valid section type).  Only then is it replayed
 * into the real visitor.  When the vmdesc is wrong the section is carried as
 * exact opaque bytes bounded by its footer instead of being parsed wrongly.
 *
 * This file holds the framing; the configuration, device sections and RAM
 * have files of their own (legacy/reader_impl.h).
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

/* ---- small readers ---- */

/* A counted string (u8 length + bytes, no NUL) into buf[256]. */
bool mc_lr_read_counted(reader *r, char *buf, const char *what,
                        mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    uint8_t len;
    const uint8_t *p;
    if (!mc_src_u8(r->src, &len, errp) || !mc_src_take(r->src, len, &p, errp)) {
        return false;
    }
    if (len == 0) {
        DATA_ERR(r, off, "empty %s", what);
        return false;
    }
    if (memchr(p, 0, len)) {
        DATA_ERR(r, off, "%s contains a NUL byte", what);
        return false;
    }
    memcpy(buf, p, len);
    buf[len] = 0;
    return true;
}

static section_slot *find_section(reader *r, uint32_t id)
{
    for (size_t i = r->n_sections; i-- > 0;) {
        if (r->sections[i].id == id) {
            return &r->sections[i];
        }
    }
    return NULL;
}

static bool add_section(reader *r, uint32_t id, const char *idstr,
                        mc_section_kind kind, uint64_t off, mc_error **errp)
{
    section_slot *s = find_section(r, id);
    if (s) {
        free(s->idstr);
        if (s->codec && s->codec->free_state) {
            s->codec->free_state(s->codec_state);
        }
    } else {
        if (r->n_sections >= MAX_SECTIONS) {
            DATA_ERR(r, off, "more than %d sections", MAX_SECTIONS);
            return false;
        }
        if ((r->n_sections & (r->n_sections - 1)) == 0) {
            r->sections = mc_realloc(
                r->sections, (r->n_sections ? r->n_sections * 2 : 16) *
                                 sizeof(*r->sections));
        }
        s = &r->sections[r->n_sections++];
    }
    s->id = id;
    s->idstr = mc_strdup(idstr);
    s->kind = kind;
    s->codec = kind == MC_SECTION_RAM ? NULL : mc_live_codec_find(idstr);
    s->codec_state = NULL;
    s->version_id = 0;
    return true;
}

/* ---- section ends and footers ---- */

bool mc_lr_valid_next_type(uint8_t t)
{
    return t == MC_VM_EOF || t == MC_VM_SECTION_START ||
           t == MC_VM_SECTION_PART || t == MC_VM_SECTION_END ||
           t == MC_VM_SECTION_FULL || t == MC_VM_COMMAND;
}

/*
 * Without footers, the only sign that a section's data ended in the right
 * place is that a well-formed item follows.  Check as much of it as is
 * buffered: a section header with a printable idstr or a known id, a known
 * command, or EOF followed by the end or by the vmdesc.
 */
static bool plausible_next(reader *r)
{
    const uint8_t *p = mc_src_window(r->src);
    size_t n = mc_src_buffered(r->src);
    if (n == 0) {
        return false;
    }
    switch (p[0]) {
    case MC_VM_EOF:
        /* With keep_trailer, bytes may follow the vmdesc. */
        return n == 1 || (p[1] == MC_VM_VMDESCRIPTION &&
                          (n < 6 || ((r->opts && r->opts->keep_trailer
                                          ? mc_be32(p + 2) <= n - 6
                                          : mc_be32(p + 2) == n - 6) &&
                                     p[6] == '{')));
    case MC_VM_SECTION_START:
    case MC_VM_SECTION_FULL: {
        if (n < 6) {
            return true;
        }
        size_t len = p[5];
        if (len == 0) {
            return false;
        }
        for (size_t i = 0; i < len && 6 + i < n; i++) {
            if (p[6 + i] < 0x20 || p[6 + i] > 0x7e) {
                return false;
            }
        }
        return true;
    }
    case MC_VM_SECTION_PART:
    case MC_VM_SECTION_END:
        return n < 5 || find_section(r, mc_be32(p + 1)) != NULL;
    case MC_VM_COMMAND:
        return n < 3 || (mc_be16(p + 1) > MC_MIG_CMD_INVALID &&
                         mc_be16(p + 1) < MC_MIG_CMD_MAX);
    default:
        return false;
    }
}

/*
 * After a section's data: consume a footer if there is one.  *footer says
 * whether one was there.  A footer must name the section just read; a
 * stream with footers has them on every section.
 */
bool mc_lr_read_footer(reader *r, uint32_t id, bool *footer, mc_error **errp)
{
    const uint8_t *p;
    bool at_end;
    *footer = false;
    if (!mc_src_at_end(r->src, &at_end, errp)) {
        return false;
    }
    if (at_end) {
        DATA_ERR(r, mc_src_offset(r->src), "stream ends without QEMU_VM_EOF");
        return false;
    }
    uint64_t off = mc_src_offset(r->src);
    if (!mc_src_peek(r->src, 1, &p, errp)) {
        return false;
    }
    if (p[0] == MC_VM_SECTION_FOOTER) {
        uint32_t fid;
        if (!mc_src_skip(r->src, 1, errp) || !mc_src_be32(r->src, &fid, errp)) {
            return false;
        }
        if (fid != id) {
            DATA_ERR(r, off, "section footer names section %u, expected %u",
                     fid, id);
            return false;
        }
        if (r->footers == FOOTERS_NO) {
            DATA_ERR(r, off, "section footer in a stream without footers");
            return false;
        }
        r->footers = FOOTERS_YES;
        *footer = true;
        return true;
    }
    if (r->footers == FOOTERS_YES) {
        DATA_ERR(r, off, "missing section footer (found byte 0x%02x)", p[0]);
        return false;
    }
    if (!mc_lr_valid_next_type(p[0]) || !plausible_next(r)) {
        DATA_ERR(r, off, "section data is followed by byte 0x%02x, which "
                 "starts no plausible section", p[0]);
        return false;
    }
    r->footers = FOOTERS_NO;
    return true;
}

/* ---- vmdesc ---- */

size_t mc_lr_vmdesc_limit(const reader *r)
{
    return r->opts && r->opts->vmdesc_limit ? r->opts->vmdesc_limit
                                            : MC_DEFAULT_VMDESC_LIMIT;
}


/* ---- sections, commands, packages ---- */

static bool parse_section(reader *r, uint8_t type, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src) - 1;
    mc_section_info info = {.type = type};
    char idstr[256];
    if (!mc_src_be32(r->src, &info.section_id, errp)) {
        return false;
    }
    if (type == MC_VM_SECTION_START || type == MC_VM_SECTION_FULL) {
        if (!mc_lr_read_counted(r, idstr, "section idstr", errp) ||
            !mc_src_be32(r->src, &info.instance_id, errp) ||
            !mc_src_be32(r->src, &info.version_id, errp)) {
            return false;
        }
        info.idstr = idstr;
        info.kind = (type == MC_VM_SECTION_START && strcmp(idstr, "ram") == 0)
                        ? MC_SECTION_RAM
                        : MC_SECTION_VMSTATE;
        if (!add_section(r, info.section_id, idstr, info.kind, off, errp)) {
            return false;
        }
    } else {
        section_slot *s = find_section(r, info.section_id);
        if (!s) {
            DATA_ERR(r, off, "section %u continues but never started",
                     info.section_id);
            return false;
        }
        info.idstr = s->idstr;
        info.kind = s->kind;
    }
    section_slot *slot = find_section(r, info.section_id);
    if (type == MC_VM_SECTION_START || type == MC_VM_SECTION_FULL) {
        slot->version_id = info.version_id;
    }
    size_t old = mc_path_push_section(r->path, sizeof(r->path), type,
                                      info.idstr, info.section_id);
    if (slot->codec) {
        mc_live_env env = {
            .src = r->src,
            .path = r->path,
            .page_size = r->page_size,
            .section_type = type,
            .version_id = slot->version_id,
            .state = &slot->codec_state,
        };
        bool footer;
        if (!mc_visit_start_section(r->v, &info, errp) ||
            !slot->codec->parse(&env, r->v, errp) ||
            !mc_lr_read_footer(r, info.section_id, &footer, errp) ||
            !mc_visit_end_section(r->v, footer, errp)) {
            return false;
        }
    } else if (info.kind == MC_SECTION_RAM) {
        bool footer;
        if (!mc_visit_start_section(r->v, &info, errp) ||
            !mc_lr_parse_ram(r, r->v, errp) ||
            !mc_lr_read_footer(r, info.section_id, &footer, errp) ||
            !mc_visit_end_section(r->v, footer, errp)) {
            return false;
        }
    } else if (type == MC_VM_SECTION_FULL) {
        if (!mc_lr_parse_device(r, r->v, &info, errp)) {
            return false;
        }
    } else {
        /* START/PART/END of a live handler other than RAM (block,
         * dirty-bitmap, vfio, ...): its data has no description. */
        DATA_ERR(r, off, "no codec for the data of live section '%s'",
                 info.idstr);
        return false;
    }
    path_pop(r, old);
    return true;
}

static bool parse_items(reader *r, bool top, mc_error **errp);

static bool parse_command(reader *r, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src) - 1;
    uint16_t cmd, len;
    const uint8_t *p;
    size_t old = path_push(r, "%scommand", r->path[0] ? "/" : "");
    if (!mc_src_be16(r->src, &cmd, errp) || !mc_src_be16(r->src, &len, errp) ||
        !mc_src_take(r->src, len, &p, errp)) {
        return false;
    }
    if (cmd == MC_MIG_CMD_INVALID || cmd >= MC_MIG_CMD_MAX) {
        DATA_ERR(r, off, "unknown command 0x%x", cmd);
        return false;
    }
    if (cmd == MC_MIG_CMD_POSTCOPY_ADVISE && len == 16) {
        r->postcopy_advised = true;
        r->pagesize_summary = mc_be64(p);
    }
    if (cmd != MC_MIG_CMD_PACKAGED) {
        if (!mc_visit_command(r->v, cmd, p, len, errp)) {
            return false;
        }
        path_pop(r, old);
        return true;
    }
    path_pop(r, old);
    path_push(r, "%spackage", r->path[0] ? "/" : "");
    if (len != 4) {
        DATA_ERR(r, off, "PACKAGED command with %u bytes of arguments, "
                 "expected 4", len);
        return false;
    }
    uint32_t plen = mc_be32(p);
    if (plen > mc_src_left_in_limit(r->src)) {
        DATA_ERR(r, off, "package of %u bytes runs past its container", plen);
        return false;
    }
    if (r->package_depth >= MAX_PACKAGE_DEPTH) {
        DATA_ERR(r, off, "packages nested too deep");
        return false;
    }
    uint64_t saved = mc_src_push_limit(r->src, mc_src_offset(r->src) + plen);
    r->package_depth++;
    bool ok = mc_visit_start_packaged(r->v, plen, errp) &&
              parse_items(r, false, errp) &&
              mc_visit_end_packaged(r->v, errp);
    r->package_depth--;
    mc_src_pop_limit(r->src, saved);
    if (ok) {
        path_pop(r, old);
    }
    return ok;
}

static bool parse_vmdesc(reader *r, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    uint8_t type;
    uint32_t len;
    const uint8_t *p;
    if (!mc_src_u8(r->src, &type, errp)) {
        return false;
    }
    if (type != MC_VM_VMDESCRIPTION) {
        DATA_ERR(r, off, "unexpected byte 0x%02x after QEMU_VM_EOF", type);
        return false;
    }
    size_t old = path_push(r, "%svmdesc", r->path[0] ? "/" : "");
    if (!mc_src_be32(r->src, &len, errp)) {
        return false;
    }
    if (len > mc_lr_vmdesc_limit(r)) {
        DATA_ERR(r, off + 1, "vmdesc of %u bytes exceeds the limit of %zu "
                 "bytes (raise it with --vmdesc-limit)", len,
                 mc_lr_vmdesc_limit(r));
        return false;
    }
    if (!mc_src_take(r->src, len, &p, errp)) {
        return false;
    }
    if (r->vmdesc && off != r->vmdesc_offset) {
        DATA_ERR(r, off, "vmdesc found at an unexpected position");
        return false;
    }
    if (!r->vmdesc) {
        /* Not needed for parsing (no device sections), but it must be the
         * JSON object QEMU writes. */
        mc_vmdesc *d = NULL;
        mc_error *err = NULL;
        if (!mc_vmdesc_parse(p, len, mc_lr_vmdesc_limit(r), &d, &err)) {
            /* the vmdesc's own path ("vmdesc/IDSTR/FIELD") if it has one */
            mc_error_set(errp, err->cls, off + 5,
                         err->path ? err->path : r->path, "%s", err->msg);
            mc_error_free(err);
            return false;
        }
        mc_vmdesc_free(d);
    }
    if (!mc_visit_vmdesc(r->v, p, len, errp)) {
        return false;
    }
    path_pop(r, old);
    bool at_end;
    if (!mc_src_at_end(r->src, &at_end, errp)) {
        return false;
    }
    if (!at_end && !(r->opts && r->opts->keep_trailer)) {
        DATA_ERR(r, mc_src_offset(r->src), "trailing bytes after the vmdesc");
        return false;
    }
    return true;
}

/* Items until QEMU_VM_EOF (top level) or the end of the package. */
static bool parse_items(reader *r, bool top, mc_error **errp)
{
    for (;;) {
        bool at_end;
        if (!mc_src_at_end(r->src, &at_end, errp)) {
            return false;
        }
        if (at_end) {
            if (top) {
                DATA_ERR(r, mc_src_offset(r->src),
                         "stream ends without QEMU_VM_EOF");
                return false;
            }
            return true;
        }
        uint64_t off = mc_src_offset(r->src);
        uint8_t type;
        if (!mc_src_u8(r->src, &type, errp)) {
            return false;
        }
        switch (type) {
        case MC_VM_SECTION_START:
        case MC_VM_SECTION_PART:
        case MC_VM_SECTION_END:
        case MC_VM_SECTION_FULL:
            if (!parse_section(r, type, errp)) {
                return false;
            }
            break;
        case MC_VM_COMMAND:
            if (!parse_command(r, errp)) {
                return false;
            }
            break;
        case MC_VM_EOF:
            if (!mc_visit_eof(r->v, errp)) {
                return false;
            }
            if (!top) {
                break;
            }
            if (!mc_src_at_end(r->src, &at_end, errp)) {
                return false;
            }
            if (!at_end && !r->vmdesc && r->opts && r->opts->keep_trailer) {
                /* A stream without a vmdesc, then other bytes (a state
                 * volume's): they are the trailer. */
                const uint8_t *p;
                if (!mc_src_peek(r->src, 1, &p, errp)) {
                    return false;
                }
                if (p[0] != MC_VM_VMDESCRIPTION) {
                    return true;
                }
            }
            return at_end || parse_vmdesc(r, errp);
        case MC_VM_CONFIGURATION:
            DATA_ERR(r, off, "configuration section not at the start");
            return false;
        default:
            DATA_ERR(r, off, "unknown section type 0x%02x", type);
            return false;
        }
    }
}

bool mc_legacy_read(mc_src *src, mc_visitor *v, const mc_read_opts *opts,
                    mc_error **errp)
{
    reader *r = mc_calloc(1, sizeof(*r));
    r->src = src;
    r->v = v;
    r->opts = opts;
    r->page_size = MC_DEFAULT_PAGE_SIZE;
    r->page_size_source = MC_PAGE_SIZE_DEFAULT;
    r->dry = mc_null_visitor_new();
    r->tables = NULL;
    const char *saved_path = mc_src_set_path(src, r->path);
    /* the stream need not start at offset 0 of its source */
    uint64_t start = mc_src_offset(src);

    bool ok = false;
    uint32_t magic, version;
    const uint8_t *p;
    path_push(r, "header");
    if (!mc_src_be32(src, &magic, errp)) {
        goto out;
    }
    if (magic != MC_VM_FILE_MAGIC) {
        DATA_ERR(r, start, "not a QEMU migration stream (magic 0x%08x)",
                 magic);
        goto out;
    }
    if (!mc_src_be32(src, &version, errp)) {
        goto out;
    }
    if (version != MC_VM_FILE_VERSION) {
        DATA_ERR(r, start + 4, "unsupported stream version %u (only %u is supported)",
                 version, MC_VM_FILE_VERSION);
        goto out;
    }
    path_pop(r, 0);
    bool at_end;
    if (!mc_src_at_end(src, &at_end, errp)) {
        goto out;
    }
    bool config = false;
    if (!at_end) {
        if (!mc_src_peek(src, 1, &p, errp)) {
            goto out;
        }
        config = p[0] == MC_VM_CONFIGURATION;
    }
    if (config) {
        /* Learn the page size and capabilities before anything is emitted:
         * they are part of the stream header for the visitors. */
        uint64_t cfg = mc_src_offset(src);
        uint64_t saved_pin = mc_src_pin(src, cfg);
        bool learned = mc_src_skip(src, 1, errp) &&
                       mc_lr_parse_configuration(r, r->dry, true, errp);
        bool back = mc_src_rewind(src, cfg);
        mc_src_unpin(src, saved_pin);
        if (learned && !back) {
            mc_error_set(errp, MC_ERR_INTERNAL, cfg, NULL,
                         "cannot return to the configuration");
            learned = false;
        }
        if (!learned) {
            goto out;
        }
        r->path[0] = 0;
    }
    mc_stream_info info = {
        .magic = magic,
        .version = version,
        .page_size = r->page_size,
        .page_size_source = r->page_size_source,
        .names = true,
    };
    if (!mc_visit_start_stream(v, &info, errp)) {
        goto out;
    }
    if (config && (!mc_src_skip(src, 1, errp) ||
                   !mc_lr_parse_configuration(r, v, false, errp))) {
        goto out;
    }
    ok = parse_items(r, true, errp) && mc_visit_end_stream(v, errp);
out:
    mc_src_set_path(src, saved_path);
    for (size_t i = 0; i < r->n_sections; i++) {
        free(r->sections[i].idstr);
        if (r->sections[i].codec && r->sections[i].codec->free_state) {
            r->sections[i].codec->free_state(r->sections[i].codec_state);
        }
    }
    free(r->sections);
    for (size_t i = 0; i < r->blocks_cap; i++) {
        free(r->block_names[i]);
    }
    free(r->block_names);
    free(r->blocks);
    mc_vmdesc_free(r->vmdesc);
    mc_visitor_free(r->dry);
    free(r);
    return ok;
}
