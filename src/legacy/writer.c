/*
 * Legacy (QEVM) stream writer.
 *
 * Rebuilds the exact legacy bytes from visitor calls: every call carries
 * the bytes it stands for (core/visitor.h), so this visitor mostly writes
 * headers back in QEMU's layout (savevm.c save_section_header,
 * vmstate_subsection_save, ram.c save_page_header) and the values in wire
 * order.
 *
 * It also checks what the legacy layout cannot express or what would
 * silently produce a different stream: RAM offsets that would spill into
 * the record flags, names longer than a counted string, arrays whose
 * element count differs from the declared one, packages whose nested
 * stream has another length than announced.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/path.h"
#include "core/stream.h"
#include "core/mapped_ram.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/visitors.h"

/* Every RAM_SAVE_FLAG_* bit up to MULTIFD_FLUSH (0x200). */
#define LW_RAM_FLAG_BITS 0x3ffu
/* Longest counted string (u8 length). */

typedef enum lw_frame_kind {
    LW_SECTION,
    LW_STRUCT,
    LW_ARRAY,
    LW_SUBSECTION,
    LW_PACKAGED,
} lw_frame_kind;

typedef struct lw_frame {
    lw_frame_kind kind;
    char *name;          /* idstr, field or subsection name; may be NULL */
    uint8_t type;        /* LW_SECTION: the section type byte */
    uint32_t section_id; /* LW_SECTION */
    uint32_t count;      /* LW_ARRAY: declared elements; LW_PACKAGED: len */
    uint32_t seen;       /* LW_ARRAY: elements so far */
    uint64_t start;      /* output offset where the frame's bytes begin */
} lw_frame;

typedef struct mc_legacy_writer {
    mc_visitor base;
    mc_sink *out;
    uint32_t page_size;
    lw_frame *frames;
    size_t depth, cap;
} mc_legacy_writer;

static mc_legacy_writer *lw_of(mc_visitor *v)
{
    return (mc_legacy_writer *)v;
}

static lw_frame *lw_top(mc_legacy_writer *w)
{
    return w->depth ? &w->frames[w->depth - 1] : NULL;
}

static void lw_push(mc_legacy_writer *w, lw_frame_kind kind, const char *name)
{
    if (w->depth == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->frames = mc_realloc(w->frames, w->cap * sizeof(*w->frames));
    }
    lw_frame *f = &w->frames[w->depth++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->name = name ? mc_strdup(name) : NULL;
    f->start = mc_sink_offset(w->out);
}

static void lw_pop(mc_legacy_writer *w)
{
    free(w->frames[--w->depth].name);
}

/* ---- error paths ---- */

/* Error paths are built with core/path.h into a buffer of this size. */
#define LW_PATH_MAX 4096

static void lw_path_name(char *path, const char *name)
{
    if (name) {
        mc_path_push(path, LW_PATH_MAX, "%s%s", path[0] ? "/" : "", name);
    }
}

/*
 * "full IDSTR (id N)/field/sub[2]/leaf" (core/path.h, as the readers name
 * the same place): the open section, structs, arrays (with the index of
 * the element being written) and subsections, "package" for a package.
 * elem: the error is about the value just counted, so an enclosing array
 * adds its index, and leaf (the value's name, possibly NULL) ends the path.
 */
static char *lw_path(mc_legacy_writer *w, bool elem, const char *leaf)
{
    char path[LW_PATH_MAX] = "";
    for (size_t i = 0; i < w->depth; i++) {
        const lw_frame *f = &w->frames[i];
        if (i > 0 && w->frames[i - 1].kind == LW_ARRAY) {
            mc_path_push(path, sizeof(path), "[%" PRIu32 "]",
                         w->frames[i - 1].seen - 1);
        }
        if (f->kind == LW_SECTION) {
            mc_path_push_section(path, sizeof(path), f->type, f->name,
                                 f->section_id);
        } else if (f->kind == LW_PACKAGED) {
            lw_path_name(path, "package");
        } else {
            lw_path_name(path, f->name);
        }
    }
    const lw_frame *top = lw_top(w);
    if (elem && top && top->kind == LW_ARRAY && top->seen > 0) {
        mc_path_push(path, sizeof(path), "[%" PRIu32 "]", top->seen - 1);
    }
    lw_path_name(path, leaf);
    return path[0] ? mc_strdup(path) : NULL;
}

static void lw_verror(mc_legacy_writer *w, mc_error **errp,
                      mc_error_class cls, uint64_t offset, bool elem,
                      const char *leaf, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

static void lw_verror(mc_legacy_writer *w, mc_error **errp,
                      mc_error_class cls, uint64_t offset, bool elem,
                      const char *leaf, const char *fmt, va_list ap)
{
    if (!errp || *errp) {
        return;
    }
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char *path = lw_path(w, elem, leaf);
    mc_error_set(errp, cls, offset, path, "%s", msg);
    /* the offset counts in the output */
    mc_error_set_side(errp, MC_SIDE_OUTPUT);
    free(path);
}

/* An error about the current container (path: the open frames, then leaf). */
static void lw_error(mc_legacy_writer *w, mc_error **errp, mc_error_class cls,
                     uint64_t offset, const char *leaf, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void lw_error(mc_legacy_writer *w, mc_error **errp, mc_error_class cls,
                     uint64_t offset, const char *leaf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_verror(w, errp, cls, offset, false, leaf, fmt, ap);
    va_end(ap);
}

/* An error about the value being written (already counted in its array). */
static void lw_value_error(mc_legacy_writer *w, mc_error **errp,
                           mc_error_class cls, const mc_field *f,
                           const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void lw_value_error(mc_legacy_writer *w, mc_error **errp,
                           mc_error_class cls, const mc_field *f,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_verror(w, errp, cls, mc_sink_offset(w->out), true, f ? f->name : NULL,
              fmt, ap);
    va_end(ap);
}

/* ---- output ---- */

static bool lw_put(mc_legacy_writer *w, const void *p, size_t n,
                   mc_error **errp)
{
    return n == 0 || mc_sink_write(w->out, p, n, errp);
}

static bool lw_u8(mc_legacy_writer *w, uint8_t v, mc_error **errp)
{
    return lw_put(w, &v, 1, errp);
}

static bool lw_be16(mc_legacy_writer *w, uint16_t v, mc_error **errp)
{
    uint8_t b[2];
    mc_put_be16(b, v);
    return lw_put(w, b, sizeof(b), errp);
}

static bool lw_be32(mc_legacy_writer *w, uint32_t v, mc_error **errp)
{
    uint8_t b[4];
    mc_put_be32(b, v);
    return lw_put(w, b, sizeof(b), errp);
}

static bool lw_be64(mc_legacy_writer *w, uint64_t v, mc_error **errp)
{
    uint8_t b[8];
    mc_put_be64(b, v);
    return lw_put(w, b, sizeof(b), errp);
}

/* A counted string; its length must have been checked (lw_check_name). */
static bool lw_counted(mc_legacy_writer *w, const char *s, mc_error **errp)
{
    size_t n = strlen(s);
    return lw_u8(w, (uint8_t)n, errp) && lw_put(w, s, n, errp);
}

static bool lw_check_name(mc_legacy_writer *w, const char *s,
                          const char *what, mc_error **errp)
{
    if (!s) {
        lw_error(w, errp, MC_ERR_INTERNAL, mc_sink_offset(w->out), NULL,
                 "%s is missing", what);
        return false;
    }
    size_t n = strlen(s);
    if (n > MC_MAX_COUNTED) {
        lw_error(w, errp, MC_ERR_DATA, mc_sink_offset(w->out), NULL,
                 "%s is %zu bytes long, the legacy format allows at most %u",
                 what, n, MC_MAX_COUNTED);
        return false;
    }
    return true;
}

/* ---- structure checks ---- */

/*
 * A value (int, bytes, packed, struct, array) is about to be written:
 * inside an array it is one more element (for error paths).  The call
 * grammar is the dispatcher's to check (core/visitor-impl.h).
 */
static bool lw_value(mc_legacy_writer *w, const mc_field *f, mc_error **errp)
{
    lw_frame *top = lw_top(w);
    if (top->kind == LW_ARRAY) {
        top->seen++;
    }
    return true;
}

/* ---- ops ---- */

static bool lw_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    w->page_size = info->page_size;
    return lw_be32(w, info->magic, errp) && lw_be32(w, info->version, errp);
}

static bool lw_end_stream(mc_visitor *v, mc_error **errp)
{
    return true;
}

static bool lw_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    bool ok;
    switch (info->type) {
    case MC_VM_CONFIGURATION:
        ok = lw_u8(w, info->type, errp);
        break;
    case MC_VM_SECTION_START:
    case MC_VM_SECTION_FULL:
        if (!lw_check_name(w, info->idstr, "section idstr", errp)) {
            return false;
        }
        ok = lw_u8(w, info->type, errp) && lw_be32(w, info->section_id, errp) &&
             lw_counted(w, info->idstr, errp) &&
             lw_be32(w, info->instance_id, errp) &&
             lw_be32(w, info->version_id, errp);
        break;
    case MC_VM_SECTION_PART:
    case MC_VM_SECTION_END:
        ok = lw_u8(w, info->type, errp) && lw_be32(w, info->section_id, errp);
        break;
    default:
        lw_error(w, errp, MC_ERR_DATA, mc_sink_offset(w->out), info->idstr,
                 "unknown section type %u", info->type);
        return false;
    }
    if (!ok) {
        return false;
    }
    lw_push(w, LW_SECTION, info->idstr);
    lw_top(w)->type = info->type;
    lw_top(w)->section_id = info->section_id;
    return true;
}

static bool lw_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    const lw_frame *sec = lw_top(w);
    if (footer) {
        if (sec->type == MC_VM_CONFIGURATION) {
            lw_error(w, errp, MC_ERR_DATA, mc_sink_offset(w->out), NULL,
                     "the configuration section cannot have a footer");
            return false;
        }
        if (!lw_u8(w, MC_VM_SECTION_FOOTER, errp) ||
            !lw_be32(w, sec->section_id, errp)) {
            return false;
        }
    }
    lw_pop(w);
    return true;
}

static bool lw_check_wire_type(mc_legacy_writer *w, mc_wire_type wt,
                               const mc_field *f, mc_error **errp)
{
    if ((unsigned)wt >= MC_WT__COUNT) {
        lw_value_error(w, errp, MC_ERR_INTERNAL, f, "invalid wire type %u",
                       (unsigned)wt);
        return false;
    }
    return true;
}

static bool lw_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    if (!lw_value(w, f, errp) || !lw_check_wire_type(w, wt, f, errp)) {
        return false;
    }
    if (!mc_wire_type_fits(wt, raw)) {
        lw_value_error(w, errp, MC_ERR_DATA, f,
                       "value 0x%" PRIx64 " does not fit a %s", raw,
                       mc_wire_type_name(wt));
        return false;
    }
    uint8_t b[8];
    unsigned width = mc_wire_type_width(wt);
    mc_put_be(b, width, raw);
    return lw_put(w, b, width, errp);
}

static bool lw_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    return lw_value(w, f, errp) && lw_put(w, data, len, errp);
}

static bool lw_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    if (!lw_value(w, f, errp) || !lw_check_wire_type(w, wt, f, errp)) {
        return false;
    }
    return lw_put(w, data, (size_t)count * mc_wire_type_width(wt), errp);
}

static bool lw_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    if (!lw_value(w, f, errp)) {
        return false;
    }
    lw_push(w, LW_STRUCT, f ? f->name : NULL);
    return true;
}

static bool lw_end_struct(mc_visitor *v, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    lw_pop(w);
    return true;
}

static bool lw_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    if (!lw_value(w, f, errp)) {
        return false;
    }
    lw_push(w, LW_ARRAY, f ? f->name : NULL);
    lw_top(w)->count = count;
    return true;
}

static bool lw_end_array(mc_visitor *v, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    lw_pop(w);
    return true;
}

static bool lw_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    if (!lw_check_name(w, name, "subsection name", errp)) {
        return false;
    }
    if (!lw_u8(w, MC_VM_SUBSECTION, errp) || !lw_counted(w, name, errp) ||
        !lw_be32(w, version_id, errp)) {
        return false;
    }
    lw_push(w, LW_SUBSECTION, name);
    return true;
}

static bool lw_end_subsection(mc_visitor *v, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    lw_pop(w);
    return true;
}

/* ---- RAM records ---- */

static const uint64_t lw_ram_flag[MC_RAM__COUNT] = {
    [MC_RAM_MEM_SIZE] = MC_RAM_SAVE_FLAG_MEM_SIZE,
    [MC_RAM_ZERO] = MC_RAM_SAVE_FLAG_ZERO,
    [MC_RAM_PAGE] = MC_RAM_SAVE_FLAG_PAGE,
    [MC_RAM_XBZRLE] = MC_RAM_SAVE_FLAG_XBZRLE,
    [MC_RAM_COMPRESS] = MC_RAM_SAVE_FLAG_COMPRESS_PAGE,
    [MC_RAM_EOS] = MC_RAM_SAVE_FLAG_EOS,
    [MC_RAM_MULTIFD_FLUSH] = MC_RAM_SAVE_FLAG_MULTIFD_FLUSH,
};

/* Check everything about a record before writing any of it. */
static bool lw_check_ram(mc_legacy_writer *w, const mc_ram_record *rec,
                         mc_error **errp)
{
    uint64_t at = mc_sink_offset(w->out);
    const char *kind = mc_ram_kind_name(rec->kind);
    if ((unsigned)rec->kind >= MC_RAM__COUNT) {
        lw_error(w, errp, MC_ERR_INTERNAL, at, NULL,
                 "invalid ram record kind %u", (unsigned)rec->kind);
        return false;
    }
    uint32_t ps = w->page_size;
    if (ps == 0 || (ps & (ps - 1)) != 0) {
        lw_error(w, errp, MC_ERR_DATA, at, NULL,
                 "page size %" PRIu32 " is not a power of two, so ram "
                 "records cannot be written", ps);
        return false;
    }
    if (rec->offset & (ps - 1)) {
        lw_error(w, errp, MC_ERR_DATA, at, NULL,
                 "ram %s record offset 0x%" PRIx64 " is not a multiple of "
                 "the page size %" PRIu32 " and would corrupt the record "
                 "flags", kind, rec->offset, ps);
        return false;
    }
    if (rec->offset & LW_RAM_FLAG_BITS) {
        lw_error(w, errp, MC_ERR_DATA, at, NULL,
                 "ram %s record offset 0x%" PRIx64 " overlaps the record "
                 "flags (page size %" PRIu32 " is too small)",
                 kind, rec->offset, ps);
        return false;
    }
    switch (rec->kind) {
    case MC_RAM_MEM_SIZE:
        if (rec->n_blocks && !rec->blocks) {
            lw_error(w, errp, MC_ERR_INTERNAL, at, NULL,
                     "mem_size record without its blocks");
            return false;
        }
        for (size_t i = 0; i < rec->n_blocks; i++) {
            if (!lw_check_name(w, rec->blocks[i].idstr, "ram block name",
                               errp)) {
                return false;
            }
        }
        return true;
    case MC_RAM_ZERO:
    case MC_RAM_PAGE:
    case MC_RAM_XBZRLE:
    case MC_RAM_COMPRESS:
        if (rec->block && !lw_check_name(w, rec->block, "ram block name",
                                         errp)) {
            return false;
        }
        break;
    default:
        return true;
    }
    if (rec->kind == MC_RAM_PAGE && rec->len != ps) {
        lw_error(w, errp, MC_ERR_DATA, at, NULL,
                 "ram page record at offset 0x%" PRIx64 " holds %zu bytes, "
                 "not the page size %" PRIu32, rec->offset, rec->len, ps);
        return false;
    }
    if (rec->kind == MC_RAM_XBZRLE && rec->len > UINT16_MAX) {
        lw_error(w, errp, MC_ERR_DATA, at, NULL,
                 "ram xbzrle record at offset 0x%" PRIx64 " holds %zu bytes, "
                 "more than a be16 length can say", rec->offset, rec->len);
        return false;
    }
    if (rec->kind == MC_RAM_COMPRESS && rec->len > UINT32_MAX) {
        lw_error(w, errp, MC_ERR_DATA, at, NULL,
                 "ram compress record at offset 0x%" PRIx64 " holds %zu "
                 "bytes, more than a be32 length can say",
                 rec->offset, rec->len);
        return false;
    }
    return true;
}

/* mapped-ram: a block entry with its MappedRamHeader, or region bytes
 * that must land at their file offset (the output starts at offset 0). */
static bool lw_mapped(mc_legacy_writer *w, const mc_ram_record *rec,
                      mc_error **errp)
{
    uint64_t at = mc_sink_offset(w->out);
    if (rec->kind == MC_RAM_MAPPED_BLOCK) {
        if (rec->n_blocks != 1 || !rec->blocks || !rec->mapped_hdr) {
            lw_error(w, errp, MC_ERR_INTERNAL, at, NULL,
                     "mapped_block record without its block and header");
            return false;
        }
        const mc_ram_block *b = rec->blocks;
        uint8_t hdr[MC_MAPPED_RAM_HDR_SIZE];
        mc_mapped_ram_header_encode(rec->mapped_hdr, hdr);
        return lw_check_name(w, b->idstr, "ram block name", errp) &&
               lw_counted(w, b->idstr, errp) &&
               lw_be64(w, b->used_length, errp) &&
               (!b->has_page_size || lw_be64(w, b->page_size, errp)) &&
               (!b->has_addr || lw_be64(w, b->addr, errp)) &&
               lw_put(w, hdr, sizeof(hdr), errp);
    }
    if (rec->offset != at) {
        lw_error(w, errp, MC_ERR_DATA, at, NULL,
                 "mapped-ram region bytes of file offset 0x%" PRIx64
                 " would be written at output offset 0x%" PRIx64
                 " (a mapped-ram stream must start its file)",
                 rec->offset, at);
        return false;
    }
    if (rec->kind == MC_RAM_MAPPED_ZEROS) {
        return mc_sink_write_zeros(w->out, rec->len, errp);
    }
    return lw_put(w, rec->data, rec->len, errp);
}

static bool lw_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    if (rec->kind == MC_RAM_MAPPED_BLOCK || rec->kind == MC_RAM_MAPPED_BYTES ||
        rec->kind == MC_RAM_MAPPED_ZEROS) {
        return lw_mapped(w, rec, errp);
    }
    if (!lw_check_ram(w, rec, errp)) {
        return false;
    }
    uint64_t header = rec->offset | lw_ram_flag[rec->kind];
    switch (rec->kind) {
    case MC_RAM_MEM_SIZE:
        if (!lw_be64(w, header, errp)) {
            return false;
        }
        for (size_t i = 0; i < rec->n_blocks; i++) {
            const mc_ram_block *b = &rec->blocks[i];
            if (!lw_counted(w, b->idstr, errp) ||
                !lw_be64(w, b->used_length, errp) ||
                (b->has_page_size && !lw_be64(w, b->page_size, errp)) ||
                (b->has_addr && !lw_be64(w, b->addr, errp))) {
                return false;
            }
        }
        return true;
    case MC_RAM_EOS:
    case MC_RAM_MULTIFD_FLUSH:
        return lw_be64(w, header, errp);
    default:
        break;
    }
    /* ZERO, PAGE, XBZRLE, COMPRESS: header, block name, payload */
    if (!rec->block) {
        header |= MC_RAM_SAVE_FLAG_CONTINUE;
    }
    if (!lw_be64(w, header, errp) ||
        (rec->block && !lw_counted(w, rec->block, errp))) {
        return false;
    }
    switch (rec->kind) {
    case MC_RAM_ZERO:
        return lw_u8(w, rec->fill, errp);
    case MC_RAM_PAGE:
        return lw_put(w, rec->data, rec->len, errp);
    case MC_RAM_XBZRLE:
        return lw_u8(w, rec->encoding, errp) &&
               lw_be16(w, (uint16_t)rec->len, errp) &&
               lw_put(w, rec->data, rec->len, errp);
    default: /* MC_RAM_COMPRESS */
        return lw_be32(w, (uint32_t)rec->len, errp) &&
               lw_put(w, rec->data, rec->len, errp);
    }
}

/* ---- items ---- */

static bool lw_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    return lw_u8(w, MC_VM_COMMAND, errp) && lw_be16(w, cmd, errp) &&
           lw_be16(w, len, errp) && lw_put(w, data, len, errp);
}

static bool lw_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    if (!lw_u8(w, MC_VM_COMMAND, errp) ||
        !lw_be16(w, MC_MIG_CMD_PACKAGED, errp) || !lw_be16(w, 4, errp) ||
        !lw_be32(w, len, errp)) {
        return false;
    }
    lw_push(w, LW_PACKAGED, NULL);
    lw_top(w)->count = len;
    return true;
}

static bool lw_end_packaged(mc_visitor *v, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    const lw_frame *top = lw_top(w);
    uint64_t got = mc_sink_offset(w->out) - top->start;
    if (got != top->count) {
        lw_error(w, errp, MC_ERR_DATA, top->start, NULL,
                 "package length says %" PRIu32 " bytes but its items take "
                 "%" PRIu64, top->count, got);
        return false;
    }
    lw_pop(w);
    return true;
}

static bool lw_eof(mc_visitor *v, mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    return lw_u8(w, MC_VM_EOF, errp);
}

static bool lw_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    mc_legacy_writer *w = lw_of(v);
    if (len > UINT32_MAX) {
        lw_error(w, errp, MC_ERR_DATA, mc_sink_offset(w->out), NULL,
                 "vmdesc of %zu bytes is longer than a be32 length can say",
                 len);
        return false;
    }
    return lw_u8(w, MC_VM_VMDESCRIPTION, errp) &&
           lw_be32(w, (uint32_t)len, errp) && lw_put(w, json, len, errp);
}

static bool lw_complete(mc_visitor *v, mc_error **errp)
{
    return mc_sink_flush(lw_of(v)->out, errp);
}

static void lw_free(mc_visitor *v)
{
    mc_legacy_writer *w = lw_of(v);
    while (w->depth) {
        lw_pop(w);
    }
    free(w->frames);
    free(w);
}

static const mc_visitor_ops lw_ops = {
    .start_stream = lw_start_stream,
    .end_stream = lw_end_stream,
    .start_section = lw_start_section,
    .end_section = lw_end_section,
    .visit_int = lw_visit_int,
    .visit_bytes = lw_visit_bytes,
    .visit_packed = lw_visit_packed,
    .start_struct = lw_start_struct,
    .end_struct = lw_end_struct,
    .start_array = lw_start_array,
    .end_array = lw_end_array,
    .start_subsection = lw_start_subsection,
    .end_subsection = lw_end_subsection,
    .ram_record = lw_ram_record,
    .command = lw_command,
    .start_packaged = lw_start_packaged,
    .end_packaged = lw_end_packaged,
    .eof = lw_eof,
    .vmdesc = lw_vmdesc,
    .complete = lw_complete,
    .free = lw_free,
};

mc_visitor *mc_legacy_writer_new(mc_sink *out)
{
    mc_legacy_writer *w = mc_calloc(1, sizeof(*w));
    w->base.ops = &lw_ops;
    w->out = out;
    return &w->base;
}
