/* The recording visitor for tests (see recorder.h for the line formats). */
#include "recorder.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/visitor-impl.h"

typedef struct tu_recorder {
    mc_visitor base;
    char *p;
    size_t len, cap;
} tu_recorder;

static tu_recorder *rec_of(mc_visitor *v)
{
    return (tu_recorder *)v;
}

static void rec_reserve(tu_recorder *r, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->p = mc_realloc(r->p, r->cap);
    }
}

static void rec_add(tu_recorder *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rec_add(tu_recorder *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0) {
        return;
    }
    rec_reserve(r, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(r->p + r->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->len += (size_t)n;
}

/* A name: printable ASCII as is, other bytes and '\' as \xNN, NULL as -. */
static void rec_name(tu_recorder *r, const char *s)
{
    if (!s) {
        rec_add(r, "-");
        return;
    }
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x20 || *c >= 0x7f || *c == '\\') {
            rec_add(r, "\\x%02x", *c);
        } else {
            rec_add(r, "%c", *c);
        }
    }
}

static void rec_hex(tu_recorder *r, const uint8_t *p, size_t n)
{
    static const char dig[] = "0123456789abcdef";
    rec_reserve(r, 2 * n);
    for (size_t i = 0; i < n; i++) {
        r->p[r->len++] = dig[p[i] >> 4];
        r->p[r->len++] = dig[p[i] & 15];
    }
    r->p[r->len] = 0;
}

/* "name=N type=T" of a field. */
static void rec_field(tu_recorder *r, const mc_field *f, bool with_type)
{
    rec_add(r, "name=");
    rec_name(r, f ? f->name : NULL);
    if (with_type) {
        rec_add(r, " type=");
        rec_name(r, f ? f->type : NULL);
    }
}

static bool rec_line(mc_visitor *v, const char *line)
{
    rec_add(rec_of(v), "%s\n", line);
    return true;
}

static const char *rec_section_kind(mc_section_kind k)
{
    switch (k) {
    case MC_SECTION_VMSTATE: return "vmstate";
    case MC_SECTION_CONFIG: return "configuration";
    case MC_SECTION_RAM: return "ram";
    default: return "unknown";
    }
}

static bool rec_start_stream(mc_visitor *v, const mc_stream_info *info,
                             mc_error **errp)
{
    rec_add(rec_of(v),
            "start_stream magic=%08" PRIx32 " version=%" PRIu32
            " page_size=%" PRIu32 " src=%s names=%d\n",
            info->magic, info->version, info->page_size,
            mc_page_size_source_name(info->page_size_source), info->names);
    return true;
}

static bool rec_end_stream(mc_visitor *v, mc_error **errp)
{
    return rec_line(v, "end_stream");
}

static bool rec_start_section(mc_visitor *v, const mc_section_info *info,
                              mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "start_section type=%u kind=%s id=%" PRIu32 " idstr=",
            info->type, rec_section_kind(info->kind), info->section_id);
    rec_name(r, info->idstr);
    rec_add(r, " instance=%" PRIu32 " version=%" PRIu32, info->instance_id,
            info->version_id);
    if (info->vmsd_name) {
        rec_add(r, " vmsd=");
        rec_name(r, info->vmsd_name);
    }
    rec_add(r, "\n");
    return true;
}

static bool rec_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    rec_add(rec_of(v), "end_section footer=%d\n", footer);
    return true;
}

static bool rec_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                          uint64_t raw, mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "int ");
    rec_field(r, f, true);
    rec_add(r, " wt=%s raw=0x%" PRIx64 "\n", mc_wire_type_name(wt), raw);
    return true;
}

static bool rec_visit_bytes(mc_visitor *v, const mc_field *f,
                            const uint8_t *data, size_t len, mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "bytes ");
    rec_field(r, f, true);
    rec_add(r, " len=%zu hex=", len);
    rec_hex(r, data, len);
    rec_add(r, "\n");
    return true;
}

static bool rec_visit_packed(mc_visitor *v, const mc_field *f,
                             mc_wire_type wt, uint32_t count,
                             const uint8_t *data, mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "packed ");
    rec_field(r, f, false);
    rec_add(r, " wt=%s count=%" PRIu32 " hex=", mc_wire_type_name(wt), count);
    rec_hex(r, data, (size_t)count * mc_wire_type_width(wt));
    rec_add(r, "\n");
    return true;
}

static bool rec_start_struct(mc_visitor *v, const mc_field *f,
                             mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "start_struct ");
    rec_field(r, f, true);
    rec_add(r, "\n");
    return true;
}

static bool rec_end_struct(mc_visitor *v, mc_error **errp)
{
    return rec_line(v, "end_struct");
}

static bool rec_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                            mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "start_array ");
    rec_field(r, f, false);
    rec_add(r, " count=%" PRIu32 "\n", count);
    return true;
}

static bool rec_end_array(mc_visitor *v, mc_error **errp)
{
    return rec_line(v, "end_array");
}

static bool rec_start_subsection(mc_visitor *v, const char *name,
                                 uint32_t version_id, mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "start_subsection name=");
    rec_name(r, name);
    rec_add(r, " version=%" PRIu32 "\n", version_id);
    return true;
}

static bool rec_end_subsection(mc_visitor *v, mc_error **errp)
{
    return rec_line(v, "end_subsection");
}

static bool rec_ram_record(mc_visitor *v, const mc_ram_record *rec,
                           mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "ram kind=%s", mc_ram_kind_name(rec->kind));
    switch (rec->kind) {
    case MC_RAM_MEM_SIZE:
        rec_add(r, " total=0x%" PRIx64 " blocks=", rec->offset);
        for (size_t i = 0; i < rec->n_blocks; i++) {
            const mc_ram_block *b = &rec->blocks[i];
            if (i) {
                rec_add(r, ",");
            }
            rec_name(r, b->idstr);
            rec_add(r, ":0x%" PRIx64, b->used_length);
            if (b->has_page_size) {
                rec_add(r, ":ps=0x%" PRIx64, b->page_size);
            }
            if (b->has_addr) {
                rec_add(r, ":addr=0x%" PRIx64, b->addr);
            }
        }
        break;
    case MC_RAM_ZERO:
    case MC_RAM_PAGE:
    case MC_RAM_XBZRLE:
    case MC_RAM_COMPRESS:
        rec_add(r, " offset=0x%" PRIx64 " block=", rec->offset);
        rec_name(r, rec->block);
        if (rec->kind == MC_RAM_ZERO) {
            rec_add(r, " fill=%u", rec->fill);
            break;
        }
        if (rec->kind == MC_RAM_XBZRLE) {
            rec_add(r, " encoding=%u", rec->encoding);
        }
        rec_add(r, " len=%zu", rec->len);
        break;
    default:
        if (rec->offset) {
            rec_add(r, " offset=0x%" PRIx64, rec->offset);
        }
        break;
    }
    rec_add(r, "\n");
    return true;
}

static bool rec_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                        uint16_t len, mc_error **errp)
{
    tu_recorder *r = rec_of(v);
    rec_add(r, "command cmd=%u len=%u hex=", cmd, len);
    rec_hex(r, data, len);
    rec_add(r, "\n");
    return true;
}

static bool rec_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    rec_add(rec_of(v), "start_packaged len=%" PRIu32 "\n", len);
    return true;
}

static bool rec_end_packaged(mc_visitor *v, mc_error **errp)
{
    return rec_line(v, "end_packaged");
}

static bool rec_eof(mc_visitor *v, mc_error **errp)
{
    return rec_line(v, "eof");
}

static bool rec_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                       mc_error **errp)
{
    rec_add(rec_of(v), "vmdesc len=%zu\n", len);
    return true;
}

static void rec_free(mc_visitor *v)
{
    tu_recorder *r = rec_of(v);
    free(r->p);
    free(r);
}

static const mc_visitor_ops rec_ops = {
    .start_stream = rec_start_stream,
    .end_stream = rec_end_stream,
    .start_section = rec_start_section,
    .end_section = rec_end_section,
    .visit_int = rec_visit_int,
    .visit_bytes = rec_visit_bytes,
    .visit_packed = rec_visit_packed,
    .start_struct = rec_start_struct,
    .end_struct = rec_end_struct,
    .start_array = rec_start_array,
    .end_array = rec_end_array,
    .start_subsection = rec_start_subsection,
    .end_subsection = rec_end_subsection,
    .ram_record = rec_ram_record,
    .command = rec_command,
    .start_packaged = rec_start_packaged,
    .end_packaged = rec_end_packaged,
    .eof = rec_eof,
    .vmdesc = rec_vmdesc,
    .free = rec_free,
};

mc_visitor *tu_recorder_new(void)
{
    tu_recorder *r = mc_calloc(1, sizeof(*r));
    r->base.ops = &rec_ops;
    r->cap = 256;
    r->p = mc_malloc(r->cap);
    r->p[0] = 0;
    return &r->base;
}

const char *tu_recorder_text(mc_visitor *v)
{
    return rec_of(v)->p;
}
