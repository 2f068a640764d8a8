/*
 * BER writer, reader and schema check (src/ber/writer.c,
 * src/ber/reader.c, src/ber/schema.c).
 *
 * In the style of QEMU's tests/unit/test-vmstate.c: a small fake stream is
 * driven straight into the BER writer with the mc_visit_* calls, and the
 * output is compared with expected bytes annotated field by field.  The
 * bytes are then read back (BER -> BER must be identical, and the reader
 * must make exactly the calls that produced them), checked record by
 * record against the schema with libtasn1, and damaged in every way we can
 * think of to see the reader fail cleanly with an offset.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "format/readers.h"
#include "testutil.h"
#include "visit/visitors.h"

#define PAGE 1024u

/* ------------------------------------------------------------------ */
/* A visitor that records every call as a line of text.               */

typedef struct recorder {
    mc_visitor base;
    tu_buf log;
    unsigned named_fields;  /* values and containers that had a name */
    unsigned typed_fields;
} recorder;

static void rec_printf(recorder *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rec_printf(recorder *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(line));
    tu_put(&r->log, line, (size_t)n);
    tu_u8(&r->log, '\n');
}

static const char *s_or(const char *s)
{
    return s ? s : "-";
}

static void rec_hex(recorder *r, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        tu_u8(&r->log, (uint8_t)hex[p[i] >> 4]);
        tu_u8(&r->log, (uint8_t)hex[p[i] & 15]);
    }
    tu_u8(&r->log, '\n');
}

static void rec_field(recorder *r, const char *what, const mc_field *f)
{
    r->named_fields += f && f->name;
    r->typed_fields += f && f->type;
    rec_printf(r, "%s name=%s type=%s", what, s_or(f ? f->name : NULL),
               s_or(f ? f->type : NULL));
}

static recorder *rec_of(mc_visitor *v)
{
    return (recorder *)v;
}

static bool rec_start_stream(mc_visitor *v, const mc_stream_info *i,
                             mc_error **errp)
{
    rec_printf(rec_of(v),
               "stream magic=%08x version=%u page=%u src=%s names=%d",
               i->magic, i->version, i->page_size,
               mc_page_size_source_name(i->page_size_source), i->names);
    return true;
}

static bool rec_end_stream(mc_visitor *v, mc_error **errp)
{
    rec_printf(rec_of(v), "end_stream");
    return true;
}

static bool rec_start_section(mc_visitor *v, const mc_section_info *i,
                              mc_error **errp)
{
    rec_printf(rec_of(v),
               "section type=%u kind=%d id=%u idstr=%s inst=%u ver=%u vmsd=%s",
               i->type, i->kind, i->section_id, s_or(i->idstr),
               i->instance_id, i->version_id, s_or(i->vmsd_name));
    return true;
}

static bool rec_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    rec_printf(rec_of(v), "end_section footer=%d", footer);
    return true;
}

static bool rec_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                    uint64_t raw, mc_error **errp)
{
    rec_field(rec_of(v), "int", f);
    rec_printf(rec_of(v), "  %s 0x%llx", mc_wire_type_name(wt),
               (unsigned long long)raw);
    return true;
}

static bool rec_bytes(mc_visitor *v, const mc_field *f, const uint8_t *d,
                      size_t len, mc_error **errp)
{
    rec_field(rec_of(v), "bytes", f);
    rec_hex(rec_of(v), d, len);
    return true;
}

static bool rec_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                       uint32_t count, const uint8_t *d, mc_error **errp)
{
    rec_field(rec_of(v), "packed", f);
    rec_printf(rec_of(v), "  %s x%u", mc_wire_type_name(wt), count);
    rec_hex(rec_of(v), d, (size_t)count * mc_wire_type_width(wt));
    return true;
}

static bool rec_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    rec_field(rec_of(v), "struct", f);
    return true;
}

static bool rec_end_struct(mc_visitor *v, mc_error **errp)
{
    rec_printf(rec_of(v), "end_struct");
    return true;
}

static bool rec_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                            mc_error **errp)
{
    rec_field(rec_of(v), "array", f);
    rec_printf(rec_of(v), "  count=%u", count);
    return true;
}

static bool rec_end_array(mc_visitor *v, mc_error **errp)
{
    rec_printf(rec_of(v), "end_array");
    return true;
}

static bool rec_start_subsection(mc_visitor *v, const char *name,
                                 uint32_t version, mc_error **errp)
{
    rec_printf(rec_of(v), "subsection %s v%u", name, version);
    return true;
}

static bool rec_end_subsection(mc_visitor *v, mc_error **errp)
{
    rec_printf(rec_of(v), "end_subsection");
    return true;
}

static bool rec_ram(mc_visitor *v, const mc_ram_record *r, mc_error **errp)
{
    recorder *rc = rec_of(v);
    rec_printf(rc, "ram %s off=0x%llx block=%s fill=%u enc=%u n=%zu blocks=%zu",
               mc_ram_kind_name(r->kind), (unsigned long long)r->offset,
               s_or(r->block), r->fill, r->encoding, r->len, r->n_blocks);
    if (r->len) {
        rec_hex(rc, r->data, r->len);
    }
    for (size_t i = 0; i < r->n_blocks; i++) {
        const mc_ram_block *b = &r->blocks[i];
        rec_printf(rc, "  block %s used=0x%llx ps=%d:0x%llx addr=%d:0x%llx",
                   b->idstr, (unsigned long long)b->used_length,
                   b->has_page_size, (unsigned long long)b->page_size,
                   b->has_addr, (unsigned long long)b->addr);
    }
    return true;
}

static bool rec_command(mc_visitor *v, uint16_t cmd, const uint8_t *d,
                        uint16_t len, mc_error **errp)
{
    rec_printf(rec_of(v), "command %u", cmd);
    rec_hex(rec_of(v), d, len);
    return true;
}

static bool rec_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    rec_printf(rec_of(v), "packaged %u", len);
    return true;
}

static bool rec_end_packaged(mc_visitor *v, mc_error **errp)
{
    rec_printf(rec_of(v), "end_packaged");
    return true;
}

static bool rec_eof(mc_visitor *v, mc_error **errp)
{
    rec_printf(rec_of(v), "eof");
    return true;
}

static bool rec_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                       mc_error **errp)
{
    rec_printf(rec_of(v), "vmdesc");
    rec_hex(rec_of(v), json, len);
    return true;
}

static void rec_free(mc_visitor *v)
{
    tu_free(&rec_of(v)->log);
    free(v);
}

static const mc_visitor_ops recorder_ops = {
    .start_stream = rec_start_stream,
    .end_stream = rec_end_stream,
    .start_section = rec_start_section,
    .end_section = rec_end_section,
    .visit_int = rec_int,
    .visit_bytes = rec_bytes,
    .visit_packed = rec_packed,
    .start_struct = rec_start_struct,
    .end_struct = rec_end_struct,
    .start_array = rec_start_array,
    .end_array = rec_end_array,
    .start_subsection = rec_start_subsection,
    .end_subsection = rec_end_subsection,
    .ram_record = rec_ram,
    .command = rec_command,
    .start_packaged = rec_start_packaged,
    .end_packaged = rec_end_packaged,
    .eof = rec_eof,
    .vmdesc = rec_vmdesc,
    .free = rec_free,
};

static recorder *recorder_new(void)
{
    recorder *r = mc_calloc(1, sizeof(*r));
    r->base.ops = &recorder_ops;
    return r;
}

/* NUL-terminated copy of the log (caller frees). */
static char *rec_text(recorder *r)
{
    return mc_strndup((const char *)r->log.p, r->log.len);
}

/* ------------------------------------------------------------------ */
/* The fake stream.                                                    */

static uint8_t page_data[2 * PAGE];
static const uint8_t xbz_data[5] = {0x01, 0x02, 0xaa, 0xbb, 0x00};
static const uint8_t zlib_data[3] = {0x78, 0x9c, 0x03};

static void init_pages(void)
{
    for (size_t i = 0; i < sizeof(page_data); i++) {
        page_data[i] = (uint8_t)(i * 7 + 1);
    }
}

#define OK(call) assert_true(call)

static void drive_ram(mc_visitor *v, mc_error **e)
{
    mc_section_info ram = {
        .type = MC_VM_SECTION_START, .kind = MC_SECTION_RAM, .section_id = 3,
        .idstr = "ram", .instance_id = 0, .version_id = 4,
    };
    mc_ram_block blocks[2] = {
        {.idstr = "pc.ram", .used_length = 0xf000},
        {.idstr = "vga", .used_length = 0x1000, .has_page_size = true,
         .page_size = 0x200000, .has_addr = true, .addr = 0xfd000000},
    };
    OK(mc_visit_start_section(v, &ram, e));
    mc_ram_record mem = {.kind = MC_RAM_MEM_SIZE, .offset = 0x10000,
                         .blocks = blocks, .n_blocks = 2};
    OK(mc_visit_ram_record(v, &mem, e));
    /* three zero pages, the first naming its block */
    for (unsigned i = 0; i < 3; i++) {
        mc_ram_record z = {.kind = MC_RAM_ZERO, .offset = i * PAGE,
                           .block = i ? NULL : "pc.ram"};
        OK(mc_visit_ram_record(v, &z, e));
    }
    /* two full pages, continuing */
    for (unsigned i = 0; i < 2; i++) {
        mc_ram_record pg = {.kind = MC_RAM_PAGE, .offset = (3 + i) * PAGE,
                            .data = page_data + i * PAGE, .len = PAGE};
        OK(mc_visit_ram_record(v, &pg, e));
    }
    mc_ram_record x = {.kind = MC_RAM_XBZRLE, .offset = 5 * PAGE,
                       .encoding = 1, .data = xbz_data,
                       .len = sizeof(xbz_data)};
    OK(mc_visit_ram_record(v, &x, e));
    mc_ram_record c = {.kind = MC_RAM_COMPRESS, .offset = 6 * PAGE,
                       .block = "vga", .data = zlib_data,
                       .len = sizeof(zlib_data)};
    OK(mc_visit_ram_record(v, &c, e));
    mc_ram_record eos = {.kind = MC_RAM_EOS};
    OK(mc_visit_ram_record(v, &eos, e));
    OK(mc_visit_end_section(v, true, e));
}

static void drive_device(mc_visitor *v, mc_error **e)
{
    mc_section_info dev = {
        .type = MC_VM_SECTION_FULL, .kind = MC_SECTION_VMSTATE,
        .section_id = 2, .idstr = "dev0", .instance_id = 0, .version_id = 3,
        .vmsd_name = "dev",
    };
    static const uint8_t h[3] = {1, 2, 3};
    static const uint8_t packed[8] = {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff};
    OK(mc_visit_start_section(v, &dev, e));
    OK(mc_visit_int(v, &(mc_field){"a", "uint8"}, MC_WT_U8, 0xff, e));
    OK(mc_visit_int(v, &(mc_field){"b", "uint16"}, MC_WT_U16, 0x1234, e));
    OK(mc_visit_int(v, &(mc_field){"c", "int8"}, MC_WT_I8, 0xff, e));
    OK(mc_visit_int(v, &(mc_field){"d", "int64"}, MC_WT_I64,
                    0xfffffffffffffffeull, e));
    OK(mc_visit_int(v, &(mc_field){"e", "uint64"}, MC_WT_U64,
                    0x8000000000000001ull, e));
    OK(mc_visit_int(v, &(mc_field){"f", "bool"}, MC_WT_BOOL, 1, e));
    OK(mc_visit_int(v, &(mc_field){"g", "int32 le"}, MC_WT_I32, 0x80, e));
    OK(mc_visit_bytes(v, &(mc_field){"h", "pci config"}, h, sizeof(h), e));
    OK(mc_visit_start_struct(v, &(mc_field){"s", "struct"}, e));
    OK(mc_visit_int(v, &(mc_field){"x", "uint32"}, MC_WT_U32, 5, e));
    OK(mc_visit_start_struct(v, &(mc_field){"t", "tmp"}, e));
    OK(mc_visit_int(v, &(mc_field){"z", "int16"}, MC_WT_I16, 0xfed4, e));
    OK(mc_visit_end_struct(v, e));
    OK(mc_visit_end_struct(v, e));
    OK(mc_visit_start_array(v, &(mc_field){"arr", "uint16"}, 2, e));
    OK(mc_visit_int(v, &(mc_field){NULL, "uint16"}, MC_WT_U16, 1, e));
    OK(mc_visit_int(v, &(mc_field){NULL, "uint16"}, MC_WT_U16, 0x100, e));
    OK(mc_visit_end_array(v, e));
    OK(mc_visit_packed(v, &(mc_field){"p", "uint32"}, MC_WT_U32, 2, packed, e));
    OK(mc_visit_start_subsection(v, "dev/sub", 2, e));
    OK(mc_visit_int(v, &(mc_field){"flag", "bool"}, MC_WT_BOOL, 0, e));
    OK(mc_visit_end_subsection(v, e));
    OK(mc_visit_end_section(v, true, e));
}

/* The whole fake stream, into any visitor. */
static void drive(mc_visitor *v)
{
    mc_error *err = NULL;
    mc_error **e = &err;
    mc_stream_info info = {
        .magic = MC_VM_FILE_MAGIC, .version = MC_VM_FILE_VERSION,
        .page_size = PAGE, .page_size_source = MC_PAGE_SIZE_CONFIGURATION,
        .names = true,
    };
    OK(mc_visit_start_stream(v, &info, e));

    mc_section_info cfg = {
        .type = MC_VM_CONFIGURATION, .kind = MC_SECTION_CONFIG,
        .idstr = "configuration", .vmsd_name = "configuration",
    };
    OK(mc_visit_start_section(v, &cfg, e));
    OK(mc_visit_int(v, &(mc_field){"len", "uint32"}, MC_WT_U32, 2, e));
    OK(mc_visit_bytes(v, &(mc_field){"name", "buffer"},
                      (const uint8_t *)"pc", 2, e));
    OK(mc_visit_start_subsection(v, "configuration/target-page-bits", 1, e));
    OK(mc_visit_int(v, &(mc_field){"target_page_bits", "uint32"}, MC_WT_U32,
                    10, e));
    OK(mc_visit_end_subsection(v, e));
    OK(mc_visit_end_section(v, false, e));

    drive_device(v, e);
    drive_ram(v, e);

    static const uint8_t ping[4] = {0, 0, 0, 1};
    OK(mc_visit_command(v, MC_MIG_CMD_PING, ping, sizeof(ping), e));

    /* the nested section is 21 legacy bytes: type, id, idstr, instance,
     * version, one u8 */
    OK(mc_visit_start_packaged(v, 21, e));
    mc_section_info nested = {
        .type = MC_VM_SECTION_FULL, .kind = MC_SECTION_VMSTATE,
        .section_id = 4, .idstr = "nested", .instance_id = 0,
        .version_id = 1,
    };
    OK(mc_visit_start_section(v, &nested, e));
    OK(mc_visit_int(v, &(mc_field){"v", "uint8"}, MC_WT_U8, 7, e));
    OK(mc_visit_end_section(v, false, e));
    OK(mc_visit_end_packaged(v, e));

    OK(mc_visit_eof(v, e));
    OK(mc_visit_vmdesc(v, (const uint8_t *)"{}", 2, e));
    OK(mc_visit_end_stream(v, e));
    OK(mc_visitor_complete(v, e));
    assert_null(err);
}

/* Drive the fake stream into a BER writer; returns the bytes. */
static uint8_t *write_fake(bool names, size_t *len)
{
    mc_sink sink;
    mc_sink_init_mem(&sink);
    mc_ber_writer_opts o = {.names = names};
    mc_visitor *v = mc_ber_writer_new(&sink, &o);
    drive(v);
    mc_visitor_free(v);
    *len = sink.len;
    return sink.buf;
}

/* ------------------------------------------------------------------ */
/* Expected bytes, annotated.                                          */

static const uint8_t exp_head[] = {
    0x60, 0x80,                         /* Stream [APPLICATION 0], indef */
    0x30, 0x16,                         /*   StreamHeader */
    0x02, 0x01, 0x01,                   /*     formatVersion 1 */
    0x02, 0x04, 0x51, 0x45, 0x56, 0x4d, /*     magic "QEVM" */
    0x02, 0x01, 0x03,                   /*     fileVersion 3 */
    0x02, 0x02, 0x04, 0x00,             /*     pageSize 1024 */
    0x0a, 0x01, 0x01,                   /*     pageSizeSource configuration */
    0x01, 0x01, 0xff,                   /*     names TRUE */
    0x30, 0x80,                         /*   items, indef */
};

static const uint8_t exp_config[] = {
    0x61, 0x70,                         /* section [APPLICATION 1] */
    0x30, 0x12,                         /*   SectionHeader */
    0x02, 0x01, 0x07,                   /*     type configuration */
                                        /*     (no sectionId) */
    0x84, 0x0d, 'c', 'o', 'n', 'f', 'i', 'g', 'u', 'r', 'a', 't', 'i',
    'o', 'n',                           /*     [4] vmsdName */
    0x30, 0x5a,                         /*   Body */
    0x30, 0x16,                         /*     fields */
    0x30, 0x08,                         /*       Field */
    0x0c, 0x03, 'l', 'e', 'n',          /*         name (type elided) */
    0x82, 0x01, 0x02,                   /*         u32 2 */
    0x30, 0x0a,                         /*       Field */
    0x0c, 0x04, 'n', 'a', 'm', 'e',     /*         name */
    0x89, 0x02, 'p', 'c',               /*         bytes "pc" */
    0xa0, 0x40,                         /*     [0] subsections */
    0x30, 0x3e,                         /*       Subsection */
    0x0c, 0x1e, 'c', 'o', 'n', 'f', 'i', 'g', 'u', 'r', 'a', 't', 'i',
    'o', 'n', '/', 't', 'a', 'r', 'g', 'e', 't', '-', 'p', 'a', 'g',
    'e', '-', 'b', 'i', 't', 's',       /*         name */
    0x02, 0x01, 0x01,                   /*         version 1 */
    0x30, 0x19,                         /*         Body */
    0x30, 0x17,                         /*           fields */
    0x30, 0x15,                         /*             Field */
    0x0c, 0x10, 't', 'a', 'r', 'g', 'e', 't', '_', 'p', 'a', 'g', 'e',
    '_', 'b', 'i', 't', 's',            /*               name */
    0x82, 0x01, 0x0a,                   /*               u32 10 */
};

static const uint8_t exp_device[] = {
    0x61, 0x81, 0xff,                   /* section, 255 bytes */
    0x30, 0x17,                         /*   SectionHeader */
    0x02, 0x01, 0x04,                   /*     type full */
    0x80, 0x01, 0x02,                   /*     [0] sectionId 2 */
    0x81, 0x04, 'd', 'e', 'v', '0',     /*     [1] idstr */
    0x82, 0x01, 0x00,                   /*     [2] instanceId 0 */
    0x83, 0x01, 0x03,                   /*     [3] versionId 3 */
    0x84, 0x03, 'd', 'e', 'v',          /*     [4] vmsdName */
    0x30, 0x81, 0xe1,                   /*   Body */
    0x30, 0x81, 0xbf,                   /*     fields */
    0x30, 0x07, 0x0c, 0x01, 'a',        /*       a: */
    0x80, 0x02, 0x00, 0xff,             /*         u8 255 (leading 00) */
    0x30, 0x07, 0x0c, 0x01, 'b',        /*       b: */
    0x81, 0x02, 0x12, 0x34,             /*         u16 0x1234 */
    0x30, 0x06, 0x0c, 0x01, 'c',        /*       c: */
    0x84, 0x01, 0xff,                   /*         i8 -1 */
    0x30, 0x06, 0x0c, 0x01, 'd',        /*       d: */
    0x87, 0x01, 0xfe,                   /*         i64 -2 */
    0x30, 0x0e, 0x0c, 0x01, 'e',        /*       e: */
    0x83, 0x09, 0x00, 0x80, 0x00, 0x00, /*         u64 2^63 + 1 */
    0x00, 0x00, 0x00, 0x00, 0x01,
    0x30, 0x06, 0x0c, 0x01, 'f',        /*       f: */
    0x88, 0x01, 0xff,                   /*         bool TRUE */
    0x30, 0x11, 0x0c, 0x01, 'g',        /*       g: */
    0x94, 0x08, 'i', 'n', 't', '3', '2', ' ', 'l', 'e', /* [20] type */
    0x86, 0x02, 0x00, 0x80,             /*         i32 128 */
    0x30, 0x14, 0x0c, 0x01, 'h',        /*       h: */
    0x94, 0x0a, 'p', 'c', 'i', ' ', 'c', 'o', 'n', 'f', 'i', 'g',
    0x89, 0x03, 0x01, 0x02, 0x03,       /*         bytes */
    0x30, 0x26, 0x0c, 0x01, 's',        /*       s: (type "struct" elided) */
    0xaa, 0x21,                         /*         [10] struct */
    0x30, 0x1f,                         /*           fields */
    0x30, 0x06, 0x0c, 0x01, 'x',        /*             x: */
    0x82, 0x01, 0x05,                   /*               u32 5 */
    0x30, 0x15, 0x0c, 0x01, 't',        /*             t: */
    0x94, 0x03, 't', 'm', 'p',          /*               [20] type */
    0xaa, 0x0b,                         /*               [10] struct */
    0x30, 0x09,                         /*                 fields */
    0x30, 0x07, 0x0c, 0x01, 'z',        /*                   z: */
    0x85, 0x02, 0xfe, 0xd4,             /*                     i16 -300 */
    0x30, 0x16, 0x0c, 0x03, 'a', 'r', 'r', /*    arr: */
    0x94, 0x06, 'u', 'i', 'n', 't', '1', '6', /* [20] type (arrays keep it) */
    0xab, 0x07,                         /*         [11] array */
    0x81, 0x01, 0x01,                   /*           u16 1 (bare Value) */
    0x81, 0x02, 0x01, 0x00,             /*           u16 0x100 */
    0x30, 0x1a, 0x0c, 0x01, 'p',        /*       p: */
    0x94, 0x06, 'u', 'i', 'n', 't', '3', '2', /* [20] type */
    0xac, 0x0d,                         /*         [12] packed */
    0x0a, 0x01, 0x02,                   /*           elementType u32 */
    0x04, 0x08, 0x00, 0x00, 0x00, 0x01, /*           data */
    0xff, 0xff, 0xff, 0xff,
    0xa0, 0x1d,                         /*     [0] subsections */
    0x30, 0x1b,                         /*       Subsection */
    0x0c, 0x07, 'd', 'e', 'v', '/', 's', 'u', 'b', /* name */
    0x02, 0x01, 0x02,                   /*         version 2 */
    0x30, 0x0d, 0x30, 0x0b,             /*         Body, fields */
    0x30, 0x09, 0x0c, 0x04, 'f', 'l', 'a', 'g', /* flag: */
    0x88, 0x01, 0x00,                   /*           bool FALSE */
    0x80, 0x00,                         /*   [0] footer */
};

/* The RAM section up to the page run's data ... */
static const uint8_t exp_ram_a[] = {
    0x62, 0x82, 0x08, 0x83,             /* ramSection [APPLICATION 2] */
    0x30, 0x11,                         /*   SectionHeader */
    0x02, 0x01, 0x01,                   /*     type start */
    0x80, 0x01, 0x03,                   /*     [0] sectionId 3 */
    0x81, 0x03, 'r', 'a', 'm',          /*     [1] idstr */
    0x82, 0x01, 0x00,                   /*     [2] instanceId 0 */
    0x83, 0x01, 0x04,                   /*     [3] versionId 4 */
    0x30, 0x82, 0x08, 0x6a,             /*   records */
    0xa0, 0x2d,                         /*     [0] memSize */
    0x02, 0x03, 0x01, 0x00, 0x00,       /*       total 0x10000 */
    0x30, 0x26,                         /*       blocks */
    0x30, 0x0d,                         /*         RamBlock */
    0x0c, 0x06, 'p', 'c', '.', 'r', 'a', 'm',
    0x02, 0x03, 0x00, 0xf0, 0x00,       /*           usedLength 0xf000 */
    0x30, 0x15,                         /*         RamBlock */
    0x0c, 0x03, 'v', 'g', 'a',
    0x02, 0x02, 0x10, 0x00,             /*           usedLength 0x1000 */
    0x80, 0x03, 0x20, 0x00, 0x00,       /*           [0] pageSize 2 MiB */
    0x81, 0x05, 0x00, 0xfd, 0x00, 0x00, 0x00, /*     [1] addr */
    0xa1, 0x0e,                         /*     [1] zero: 3 pages */
    0x02, 0x01, 0x00,                   /*       offset 0 */
    0x80, 0x06, 'p', 'c', '.', 'r', 'a', 'm', /*   [0] block */
    0x81, 0x01, 0x03,                   /*       [1] count 3 (fill elided) */
    0xa2, 0x82, 0x08, 0x08,             /*     [2] pages: 2 pages */
    0x02, 0x02, 0x0c, 0x00,             /*       offset 0xc00 (continue) */
    0x04, 0x82, 0x08, 0x00,             /*       data: 2048 bytes */
};

/* ... and after it. */
static const uint8_t exp_ram_b[] = {
    0xa3, 0x0b,                         /*     [3] xbzrle */
    0x02, 0x02, 0x14, 0x00,             /*       offset 0x1400 */
                                        /*       (encoding 1 elided) */
    0x04, 0x05, 0x01, 0x02, 0xaa, 0xbb, 0x00, /* data */
    0xa4, 0x0e,                         /*     [4] compressed */
    0x02, 0x02, 0x18, 0x00,             /*       offset 0x1800 */
    0x80, 0x03, 'v', 'g', 'a',          /*       [0] block */
    0x04, 0x03, 0x78, 0x9c, 0x03,       /*       data */
    0x85, 0x00,                         /*     [5] eos */
    0x80, 0x00,                         /*   [0] footer */
};

static const uint8_t exp_tail[] = {
    0x63, 0x09,                         /* command [APPLICATION 3] */
    0x02, 0x01, 0x02,                   /*   cmd PING */
    0x04, 0x04, 0x00, 0x00, 0x00, 0x01, /*   data */
    0x64, 0x80,                         /* packaged [APPLICATION 4], indef */
    0x02, 0x01, 0x15,                   /*   length 21 */
    0x30, 0x80,                         /*   items, indef */
    0x61, 0x22,                         /*     section */
    0x30, 0x14,                         /*       SectionHeader */
    0x02, 0x01, 0x04,                   /*         type full */
    0x80, 0x01, 0x04,                   /*         [0] sectionId 4 */
    0x81, 0x06, 'n', 'e', 's', 't', 'e', 'd',
    0x82, 0x01, 0x00,                   /*         [2] instanceId */
    0x83, 0x01, 0x01,                   /*         [3] versionId */
    0x30, 0x0a, 0x30, 0x08,             /*       Body, fields */
    0x30, 0x06, 0x0c, 0x01, 'v',        /*         v: */
    0x80, 0x01, 0x07,                   /*           u8 7 */
                                        /*       (no footer) */
    0x00, 0x00,                         /*   end of items */
    0x00, 0x00,                         /* end of packaged */
    0x45, 0x01, 0x00,                   /* eof [APPLICATION 5] INTEGER 0 */
    0x46, 0x02, '{', '}',               /* vmdesc [APPLICATION 6] */
    0x00, 0x00,                         /* end of items */
    0x00, 0x00,                         /* end of Stream */
};

static void expected_stream(tu_buf *b)
{
    tu_put(b, exp_head, sizeof(exp_head));
    tu_put(b, exp_config, sizeof(exp_config));
    tu_put(b, exp_device, sizeof(exp_device));
    tu_put(b, exp_ram_a, sizeof(exp_ram_a));
    tu_put(b, page_data, sizeof(page_data));
    tu_put(b, exp_ram_b, sizeof(exp_ram_b));
    tu_put(b, exp_tail, sizeof(exp_tail));
}

/* Show where two byte strings first differ (for failing comparisons). */
static void assert_same_bytes(const uint8_t *got, size_t got_len,
                              const uint8_t *want, size_t want_len)
{
    size_t n = got_len < want_len ? got_len : want_len;
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            fail_msg("bytes differ at %zu: got %02x, want %02x", i, got[i],
                     want[i]);
        }
    }
    if (got_len != want_len) {
        fail_msg("length %zu, want %zu", got_len, want_len);
    }
}

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

static bool plain_reader(mc_src *src, mc_visitor *v, mc_error **errp)
{
    mc_read_opts o = {.validate = false};
    return mc_ber_read(src, v, &o, errp);
}

/* BER -> BER through the reader (validating) and the writer. */
static uint8_t *ber_to_ber(const uint8_t *in, size_t len, bool names,
                           size_t *out_len, mc_error **errp)
{
    mc_sink sink;
    mc_sink_init_mem(&sink);
    mc_ber_writer_opts o = {.names = names};
    mc_visitor *v = mc_ber_writer_new(&sink, &o);
    bool ok = tu_run(tu_ber_reader, in, len, v, errp);
    mc_visitor_free(v);
    if (!ok) {
        mc_sink_cleanup(&sink);
        return NULL;
    }
    *out_len = sink.len;
    return sink.buf;
}

/* Read BER into a recorder; returns the log (caller frees). */
static char *read_log(tu_reader_fn fn, const uint8_t *in, size_t len,
                      unsigned *named, unsigned *typed)
{
    recorder *r = recorder_new();
    mc_error *err = NULL;
    bool ok = tu_run(fn, in, len, &r->base, &err);
    if (!ok) {
        char *s = mc_error_format(err);
        fail_msg("read failed: %s", s);
    }
    char *text = rec_text(r);
    if (named) {
        *named = r->named_fields;
    }
    if (typed) {
        *typed = r->typed_fields;
    }
    mc_visitor_free(&r->base);
    return text;
}

/* Expect the reader to fail; returns the error (caller frees). */
static mc_error *read_fails(tu_reader_fn fn, const uint8_t *in, size_t len)
{
    recorder *r = recorder_new();
    mc_error *err = NULL;
    bool ok = tu_run(fn, in, len, &r->base, &err);
    mc_visitor_free(&r->base);
    assert_false(ok);
    assert_non_null(err);
    assert_int_equal(err->cls, MC_ERR_DATA);
    assert_true(err->offset != MC_NO_OFFSET);
    assert_true(err->offset <= len);
    assert_non_null(err->msg);
    return err;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle,
                           size_t m)
{
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

/* Minimal TLV walker for the tests: header of the TLV at p. */
static void tlv_head(const uint8_t *p, size_t *hl, size_t *len, bool *indef)
{
    *indef = p[1] == 0x80;
    if (p[1] < 0x80 || *indef) {
        *hl = 2;
        *len = *indef ? 0 : p[1];
        return;
    }
    size_t k = p[1] & 0x7f;
    *len = 0;
    for (size_t i = 0; i < k; i++) {
        *len = *len << 8 | p[2 + i];
    }
    *hl = 2 + k;
}

/* Collect the offsets of every identifier octet (EOCs included) of the
 * TLV at p; returns its total length. */
static size_t tlv_tags(const uint8_t *base, const uint8_t *p, size_t *pos,
                       size_t *n_pos)
{
    size_t hl, len;
    bool indef;
    pos[(*n_pos)++] = (size_t)(p - base);
    tlv_head(p, &hl, &len, &indef);
    if (!(p[0] & 0x20)) {
        return hl + len;
    }
    const uint8_t *q = p + hl;
    if (indef) {
        while (q[0] != 0 || q[1] != 0) {
            q += tlv_tags(base, q, pos, n_pos);
        }
        pos[(*n_pos)++] = (size_t)(q - base);
        return (size_t)(q + 2 - p);
    }
    while (q < p + hl + len) {
        q += tlv_tags(base, q, pos, n_pos);
    }
    return hl + len;
}

/* A minimal stream around the given items (eof and end added). */
static void wrap_items(tu_buf *b, const uint8_t *items, size_t n)
{
    tu_put(b, exp_head, sizeof(exp_head));
    tu_put(b, items, n);
    static const uint8_t end[] = {0x45, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
    tu_put(b, end, sizeof(end));
}

/* ------------------------------------------------------------------ */
/* Tests.                                                              */

static void test_golden(void **state)
{
    init_pages();
    size_t len;
    uint8_t *out = write_fake(true, &len);
    tu_buf want = {0};
    expected_stream(&want);
    assert_same_bytes(out, len, want.p, want.len);
    tu_free(&want);
    free(out);
}

static void test_ber_to_ber(void **state)
{
    init_pages();
    for (int names = 0; names < 2; names++) {
        size_t len, len2 = 0;
        uint8_t *out = write_fake(names, &len);
        mc_error *err = NULL;
        uint8_t *again = ber_to_ber(out, len, names, &len2, &err);
        assert_null(err);
        assert_non_null(again);
        assert_same_bytes(again, len2, out, len);
        free(again);
        free(out);
    }
}

/* The reader makes exactly the calls that wrote the stream. */
static void test_call_sequence(void **state)
{
    init_pages();
    recorder *r = recorder_new();
    drive(&r->base);
    char *want = rec_text(r);
    mc_visitor_free(&r->base);

    size_t len;
    uint8_t *out = write_fake(true, &len);
    char *got = read_log(tu_ber_reader, out, len, NULL, NULL);
    assert_string_equal(got, want);
    free(got);
    /* The same without libtasn1 validation. */
    got = read_log(plain_reader, out, len, NULL, NULL);
    assert_string_equal(got, want);
    free(got);
    free(out);
    free(want);
}

static void test_no_names(void **state)
{
    init_pages();
    size_t len, named_len;
    uint8_t *out = write_fake(false, &len);
    uint8_t *named = write_fake(true, &named_len);
    assert_true(len < named_len);
    /* header: names FALSE */
    static const uint8_t hdr_names_false[] = {0x01, 0x01, 0x00, 0x30, 0x80};
    assert_memory_equal(out + 23, hdr_names_false, sizeof(hdr_names_false));
    /* field names, types and vmsd names are gone ... */
    assert_null(find(out, len, "target_page_bits", 16));
    assert_null(find(out, len, "pci config", 10));
    assert_null(find(out, len, "int32 le", 8));
    assert_null(find(out, len, "\x84\x03" "dev", 5));
    /* ... idstrs and subsection names stay */
    assert_non_null(find(out, len, "configuration/target-page-bits", 30));
    assert_non_null(find(out, len, "dev/sub", 7));
    assert_non_null(find(out, len, "\x81\x04" "dev0", 6));

    unsigned n_named, n_typed;
    char *log = read_log(tu_ber_reader, out, len, &n_named, &n_typed);
    assert_int_equal(n_named, 0);
    assert_int_equal(n_typed, 0);
    assert_non_null(strstr(log, "names=0"));
    assert_non_null(strstr(log, "subsection dev/sub v2"));
    assert_non_null(strstr(log, "idstr=dev0 inst=0 ver=3 vmsd=-"));
    free(log);
    free(out);
    free(named);
}

/* Every record of the stream passes the libtasn1 schema check. */
static void check_items(const uint8_t *p, size_t *off, unsigned *n_items,
                        unsigned *n_ram)
{
    while (p[*off] != 0 || p[*off + 1] != 0) {
        const uint8_t *q = p + *off;
        size_t hl, len;
        bool indef;
        tlv_head(q, &hl, &len, &indef);
        mc_error *err = NULL;
        if (!indef) {
            if (!mc_ber_schema_check("MigConv.ItemL", q, hl + len, &err)) {
                fail_msg("item at %zu: %s", *off, err->msg);
            }
            (*n_items)++;
            if (q[0] == 0x62) {
                /* each RAM record on its own */
                size_t hhl, hlen, rhl, rlen;
                bool ind;
                const uint8_t *h = q + hl;
                tlv_head(h, &hhl, &hlen, &ind);
                assert_true(mc_ber_schema_check("MigConv.SectionHeader", h,
                                                hhl + hlen, &err));
                const uint8_t *rs = h + hhl + hlen;
                tlv_head(rs, &rhl, &rlen, &ind);
                for (const uint8_t *r = rs + rhl; r < rs + rhl + rlen;) {
                    size_t xhl, xlen;
                    tlv_head(r, &xhl, &xlen, &ind);
                    if (!mc_ber_schema_check("MigConv.RamRecord", r,
                                             xhl + xlen, &err)) {
                        fail_msg("RAM record: %s", err->msg);
                    }
                    (*n_ram)++;
                    r += xhl + xlen;
                }
            }
            *off += hl + len;
            continue;
        }
        /* packaged: 64 80, length, 30 80, items, 00 00, 00 00 */
        assert_int_equal(q[0], 0x64);
        *off += 2;
        size_t ihl, ilen;
        tlv_head(p + *off, &ihl, &ilen, &indef);
        *off += ihl + ilen + 2;
        check_items(p, off, n_items, n_ram);
        *off += 2 + 2;
    }
}

static void test_schema_records(void **state)
{
    init_pages();
    size_t len;
    uint8_t *out = write_fake(true, &len);
    mc_error *err = NULL;
    size_t hl, hlen;
    bool indef;
    tlv_head(out + 2, &hl, &hlen, &indef);
    assert_true(mc_ber_schema_check("MigConv.StreamHeader", out + 2, hl + hlen,
                                    &err));
    size_t off = 2 + hl + hlen + 2;
    unsigned n_items = 0, n_ram = 0;
    check_items(out, &off, &n_items, &n_ram);
    assert_int_equal(off + 4, len);
    /* config, device, ram, command, nested section, eof, vmdesc */
    assert_int_equal(n_items, 7);
    assert_int_equal(n_ram, 6);
    /* The whole stream decodes as StreamL too (indefinite lengths). */
    if (!mc_ber_schema_check("MigConv.StreamL", out, len, &err)) {
        fail_msg("StreamL: %s", err->msg);
    }
    free(out);
}

static void test_schema_holes(void **state)
{
    mc_error *err = NULL;
    /* Field { struct { fields { u8 5 } } }: the inner element is a bare
     * Value */
    static const uint8_t good[] = {0x30, 0x07, 0xaa, 0x05, 0x30, 0x03,
                                   0x80, 0x01, 0x05};
    assert_true(mc_ber_schema_check("MigConv.FieldL", good, sizeof(good),
                                    &err));
    /* The same with a NULL where the inner value goes: the outer record
     * decodes (ANY), the hole does not. */
    static const uint8_t bad[] = {0x30, 0x08, 0xaa, 0x06, 0x30, 0x04,
                                  0x30, 0x02, 0x05, 0x00};
    assert_false(mc_ber_schema_check("MigConv.FieldL", bad, sizeof(bad),
                                     &err));
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "MigConv.ElementL"));
    mc_error_free(err);
    err = NULL;
    /* Trailing bytes after the record. */
    static const uint8_t trail[] = {0x45, 0x01, 0x00, 0x00};
    assert_false(mc_ber_schema_check("MigConv.ItemL", trail, sizeof(trail),
                                     &err));
    mc_error_free(err);
    err = NULL;
    /* Unknown type names are internal errors. */
    assert_false(mc_ber_schema_check("MigConv.NoSuchType", good, sizeof(good),
                                     &err));
    assert_int_equal(err->cls, MC_ERR_INTERNAL);
    mc_error_free(err);
}

static void test_truncations(void **state)
{
    init_pages();
    size_t len;
    uint8_t *out = write_fake(true, &len);
    for (size_t n = 0; n < len; n++) {
        /* A copy of exactly n bytes, so that valgrind sees overreads. */
        uint8_t *cut = mc_malloc(n);
        memcpy(cut, out, n);
        mc_error_free(read_fails(tu_ber_reader, cut, n));
        mc_error_free(read_fails(plain_reader, cut, n));
        free(cut);
    }
    free(out);
}

static void test_flipped_tags(void **state)
{
    init_pages();
    size_t len;
    uint8_t *out = write_fake(true, &len);
    size_t *pos = mc_calloc(len, sizeof(*pos));
    size_t n_pos = 0;
    assert_int_equal(tlv_tags(out, out, pos, &n_pos), len);
    assert_true(n_pos > 100);
    for (size_t i = 0; i < n_pos; i++) {
        out[pos[i]] ^= 0x40;    /* another class: no such tag anywhere */
        mc_error *err = read_fails(plain_reader, out, len);
        mc_error_free(err);
        err = read_fails(tu_ber_reader, out, len);
        mc_error_free(err);
        out[pos[i]] ^= 0x40;
    }
    /* Trailing garbage after the Stream. */
    uint8_t *more = mc_malloc(len + 1);
    memcpy(more, out, len);
    more[len] = 0;
    mc_error *err = read_fails(plain_reader, more, len + 1);
    assert_int_equal(err->offset, len);
    mc_error_free(err);
    free(more);
    free(pos);
    free(out);
}

static void test_out_of_range(void **state)
{
    init_pages();
    size_t len;
    uint8_t *out = write_fake(true, &len);
    /* field a: u8 255 -> 256 */
    static const uint8_t a[] = {0x0c, 0x01, 'a', 0x80, 0x02, 0x00, 0xff};
    uint8_t *p = (uint8_t *)find(out, len, a, sizeof(a));
    assert_non_null(p);
    p[5] = 0x01;
    p[6] = 0x00;
    mc_error *err = read_fails(plain_reader, out, len);
    assert_int_equal(err->offset, (size_t)(p - out) + 3);
    assert_non_null(strstr(err->msg, "out of range for uint8"));
    assert_string_equal(err->path, "full dev0 (id 2)/a");
    mc_error_free(err);
    /* negative for an unsigned type */
    p[5] = 0xff;
    p[6] = 0x80;
    mc_error_free(read_fails(plain_reader, out, len));
    /* the smallest i8, -128 (84 01 80), reads as raw 0x80 */
    p[5] = 0x00;
    p[6] = 0xff;
    static const uint8_t c[] = {0x0c, 0x01, 'c', 0x84, 0x01, 0xff};
    uint8_t *q = (uint8_t *)find(out, len, c, sizeof(c));
    assert_non_null(q);
    q[5] = 0x80;
    unsigned named;
    char *log = read_log(plain_reader, out, len, &named, NULL);
    assert_non_null(strstr(log, "\n  int8 0x80\n"));
    free(log);
    /* BOOLEAN 01 is BER but not DER */
    q[5] = 0xff;
    static const uint8_t f[] = {0x0c, 0x01, 'f', 0x88, 0x01, 0xff};
    uint8_t *fp = (uint8_t *)find(out, len, f, sizeof(f));
    assert_non_null(fp);
    fp[5] = 0x01;
    mc_error_free(read_fails(plain_reader, out, len));
    free(out);
}

/* A FULL section holding one small field, given as raw bytes. */
static void one_field_stream(tu_buf *b, const uint8_t *field, size_t n)
{
    static const uint8_t hdr[] = {
        0x30, 0x14, 0x02, 0x01, 0x04, 0x80, 0x01, 0x04,
        0x81, 0x06, 'n', 'e', 's', 't', 'e', 'd',
        0x82, 0x01, 0x00, 0x83, 0x01, 0x01,
    };
    uint8_t item[64];
    size_t k = 0;
    item[k++] = 0x61;
    item[k++] = (uint8_t)(sizeof(hdr) + 4 + n);
    memcpy(item + k, hdr, sizeof(hdr));
    k += sizeof(hdr);
    item[k++] = 0x30;                       /* body */
    item[k++] = (uint8_t)(2 + n);
    item[k++] = 0x30;                       /* fields */
    item[k++] = (uint8_t)n;
    memcpy(item + k, field, n);
    k += n;
    wrap_items(b, item, k);
}

static void test_non_minimal(void **state)
{
    /* sanity: the well-formed one-field stream reads */
    static const uint8_t good[] = {0x30, 0x06, 0x0c, 0x01, 'v', 0x80, 0x01,
                                   0x07};
    tu_buf b = {0};
    one_field_stream(&b, good, sizeof(good));
    char *log = read_log(tu_ber_reader, b.p, b.len, NULL, NULL);
    assert_non_null(strstr(log, "int name=v type=uint8\n  uint8 0x7\n"));
    free(log);
    tu_free(&b);

    /* non-minimal length of the Field: 30 81 06 */
    static const uint8_t len81[] = {0x30, 0x81, 0x06, 0x0c, 0x01, 'v', 0x80,
                                    0x01, 0x07};
    one_field_stream(&b, len81, sizeof(len81));
    mc_error *err = read_fails(plain_reader, b.p, b.len);
    assert_int_equal(err->offset, b.len - 7 - sizeof(len81));
    assert_non_null(strstr(err->msg, "non-minimal length"));
    mc_error_free(err);
    tu_free(&b);

    /* non-minimal INTEGER: u8 7 as 00 07 */
    static const uint8_t int0[] = {0x30, 0x07, 0x0c, 0x01, 'v', 0x80, 0x02,
                                   0x00, 0x07};
    one_field_stream(&b, int0, sizeof(int0));
    err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "non-minimal INTEGER"));
    mc_error_free(err);
    tu_free(&b);

    /* non-minimal length of a top-level item: vmdesc 46 81 02 */
    static const uint8_t vmdesc[] = {0x46, 0x81, 0x02, '{', '}'};
    wrap_items(&b, vmdesc, sizeof(vmdesc));
    err = read_fails(plain_reader, b.p, b.len);
    assert_int_equal(err->offset, sizeof(exp_head));
    mc_error_free(err);
    tu_free(&b);

    /* indefinite length inside a DER record */
    static const uint8_t indef[] = {0x30, 0x80, 0x0c, 0x01, 'v', 0x80, 0x01,
                                    0x07, 0x00};
    one_field_stream(&b, indef, sizeof(indef));
    mc_error_free(read_fails(plain_reader, b.p, b.len));
    tu_free(&b);
}

/* A RAM section large enough for the indefinite form; runs are capped. */
static void test_large_ram(void **state)
{
    enum { N = 600 };
    uint8_t *pages = mc_malloc((size_t)N * PAGE);
    for (size_t i = 0; i < (size_t)N * PAGE; i++) {
        pages[i] = (uint8_t)(i / PAGE + i);
    }
    mc_sink sink;
    mc_sink_init_mem(&sink);
    mc_ber_writer_opts o = {.names = true};
    mc_visitor *v = mc_ber_writer_new(&sink, &o);
    recorder *r = recorder_new();
    mc_visitor *both[2] = {v, &r->base};
    mc_error *err = NULL;
    for (int k = 0; k < 2; k++) {
        mc_visitor *x = both[k];
        mc_stream_info info = {
            .magic = MC_VM_FILE_MAGIC, .version = MC_VM_FILE_VERSION,
            .page_size = PAGE, .page_size_source = MC_PAGE_SIZE_DEFAULT,
            .names = true,
        };
        mc_section_info part = {.type = MC_VM_SECTION_PART,
                                .kind = MC_SECTION_RAM, .section_id = 9};
        OK(mc_visit_start_stream(x, &info, &err));
        OK(mc_visit_start_section(x, &part, &err));
        for (unsigned i = 0; i < N; i++) {
            mc_ram_record pg = {.kind = MC_RAM_PAGE, .offset = i * PAGE,
                                .block = i ? NULL : "pc.ram",
                                .data = pages + (size_t)i * PAGE, .len = PAGE};
            OK(mc_visit_ram_record(x, &pg, &err));
        }
        /* zero pages: a different fill breaks the run */
        for (unsigned i = 0; i < 4; i++) {
            mc_ram_record z = {.kind = MC_RAM_ZERO,
                               .offset = (N + i) * PAGE, .fill = i == 3};
            OK(mc_visit_ram_record(x, &z, &err));
        }
        mc_ram_record f = {.kind = MC_RAM_MULTIFD_FLUSH};
        OK(mc_visit_ram_record(x, &f, &err));
        mc_ram_record eos = {.kind = MC_RAM_EOS};
        OK(mc_visit_ram_record(x, &eos, &err));
        OK(mc_visit_end_section(x, false, &err));
        OK(mc_visit_eof(x, &err));
        OK(mc_visit_end_stream(x, &err));
        OK(mc_visitor_complete(x, &err));
    }
    char *want = rec_text(r);
    mc_visitor_free(&r->base);
    mc_visitor_free(v);

    const uint8_t *out = sink.buf;
    size_t len = sink.len;
    /* 62 80, header (part: no idstr), 30 80 */
    static const uint8_t ram_head[] = {
        0x62, 0x80, 0x30, 0x06, 0x02, 0x01, 0x02, 0x80, 0x01, 0x09,
        0x30, 0x80,
    };
    assert_memory_equal(out + sizeof(exp_head), ram_head,
                        sizeof(ram_head));
    /* runs of 256, 256 and 88 pages; the first names its block */
    static const uint8_t run1[] = {0xa2, 0x83, 0x04, 0x00, 0x10, 0x02, 0x01,
                                   0x00, 0x80, 0x06, 'p', 'c', '.', 'r', 'a',
                                   'm', 0x04, 0x83, 0x04, 0x00, 0x00};
    assert_non_null(find(out, len, run1, sizeof(run1)));
    static const uint8_t run2[] = {0xa2, 0x83, 0x04, 0x00, 0x0a, 0x02, 0x03,
                                   0x04, 0x00, 0x00, 0x04, 0x83, 0x04, 0x00,
                                   0x00};
    assert_non_null(find(out, len, run2, sizeof(run2)));
    static const uint8_t run3[] = {0xa2, 0x83, 0x01, 0x60, 0x0a, 0x02, 0x03,
                                   0x08, 0x00, 0x00, 0x04, 0x83, 0x01, 0x60,
                                   0x00};
    assert_non_null(find(out, len, run3, sizeof(run3)));
    /* zero run of 3 (count), then a single one with fill 1 */
    static const uint8_t zeros[] = {0xa1, 0x08, 0x02, 0x03, 0x09, 0x60, 0x00,
                                    0x81, 0x01, 0x03,       /* count 3 */
                                    0xa1, 0x08, 0x02, 0x03, 0x09, 0x6c, 0x00,
                                    0x82, 0x01, 0x01,       /* fill 1 */
                                    0x86, 0x00, 0x85, 0x00,
                                    0x00, 0x00,     /* end of records */
                                    0x00, 0x00,     /* end of section */
                                    0x45, 0x01, 0x00, 0x00, 0x00, 0x00,
                                    0x00};
    assert_int_equal(len - sizeof(zeros),
                     (size_t)(find(out, len, zeros, sizeof(zeros)) - out));

    char *got = read_log(tu_ber_reader, out, len, NULL, NULL);
    assert_string_equal(got, want);
    free(got);
    size_t len2 = 0;
    uint8_t *again = ber_to_ber(out, len, true, &len2, &err);
    assert_non_null(again);
    assert_same_bytes(again, len2, out, len);
    free(again);
    free(want);
    mc_sink_cleanup(&sink);
    free(pages);
}

/* The item order of a legacy stream: eof last but for the vmdesc after
 * it, and no stream without eof. */
static void test_item_order(void **state)
{
    static const uint8_t no_eof[] = {0x00, 0x00, 0x00, 0x00};
    static const uint8_t vmdesc_first[] = {
        0x46, 0x02, '{', '}',            /* vmdesc before eof */
        0x45, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t after_vmdesc[] = {
        0x45, 0x01, 0x00, 0x46, 0x02, '{', '}',
        0x45, 0x01, 0x00,                /* a second eof */
        0x00, 0x00, 0x00, 0x00};
    const struct {
        const uint8_t *p;
        size_t n;
        const char *msg;
    } cases[] = {
        {no_eof, sizeof(no_eof), "no eof item"},
        {vmdesc_first, sizeof(vmdesc_first), "vmdesc before the eof item"},
        {after_vmdesc, sizeof(after_vmdesc), "item after the end"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tu_buf b = {0};
        tu_put(&b, exp_head, sizeof(exp_head));
        tu_put(&b, cases[i].p, cases[i].n);
        mc_error *err = read_fails(plain_reader, b.p, b.len);
        if (!strstr(err->msg, cases[i].msg)) {
            fail_msg("case %zu: got \"%s\"", i, err->msg);
        }
        assert_true(err->offset >= sizeof(exp_head));
        mc_error_free(err);
        tu_free(&b);
    }
}

static void test_reader_rules(void **state)
{
    tu_buf b = {0};
    mc_error *err;
    /* a RAM record whose count repeats the DEFAULT */
    static const uint8_t ram_default[] = {
        0x62, 0x0f, 0x30, 0x06, 0x02, 0x01, 0x02, 0x80, 0x01, 0x09,
        0x30, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x00,
    };
    wrap_items(&b, ram_default, sizeof(ram_default));
    char *log = read_log(tu_ber_reader, b.p, b.len, NULL, NULL);
    assert_non_null(strstr(log, "ram zero off=0x0 block=- fill=0"));
    free(log);
    tu_free(&b);
    static const uint8_t ram_count1[] = {
        0x62, 0x12, 0x30, 0x06, 0x02, 0x01, 0x02, 0x80, 0x01, 0x09,
        0x30, 0x08, 0xa1, 0x06, 0x02, 0x01, 0x00, 0x81, 0x01, 0x01,
    };
    wrap_items(&b, ram_count1, sizeof(ram_count1));
    err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "default 1 must be omitted"));
    assert_string_equal(err->path, "part (id 9)/records[0]");
    mc_error_free(err);
    tu_free(&b);
    /* an unaligned page offset */
    static const uint8_t ram_unaligned[] = {
        0x62, 0x0f, 0x30, 0x06, 0x02, 0x01, 0x02, 0x80, 0x01, 0x09,
        0x30, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x10,
    };
    wrap_items(&b, ram_unaligned, sizeof(ram_unaligned));
    mc_error_free(read_fails(plain_reader, b.p, b.len));
    tu_free(&b);
    /* page data that is not a whole number of pages */
    static const uint8_t ram_short_page[] = {
        0x62, 0x11, 0x30, 0x06, 0x02, 0x01, 0x02, 0x80, 0x01, 0x09,
        0x30, 0x07, 0xa2, 0x05, 0x02, 0x01, 0x00, 0x04, 0x00,
    };
    wrap_items(&b, ram_short_page, sizeof(ram_short_page));
    mc_error_free(read_fails(plain_reader, b.p, b.len));
    tu_free(&b);
    /* PACKAGED as a plain command */
    static const uint8_t cmd7[] = {0x63, 0x09, 0x02, 0x01, 0x07, 0x04, 0x04,
                                   0, 0, 0, 0};
    wrap_items(&b, cmd7, sizeof(cmd7));
    mc_error_free(read_fails(plain_reader, b.p, b.len));
    tu_free(&b);
    /* unknown item tag */
    static const uint8_t unknown[] = {0x47, 0x00};
    wrap_items(&b, unknown, sizeof(unknown));
    err = read_fails(plain_reader, b.p, b.len);
    assert_int_equal(err->offset, sizeof(exp_head));
    assert_string_equal(err->path, "items[0]");
    mc_error_free(err);
    tu_free(&b);
    /* a configuration section in a RAM section item */
    static const uint8_t cfg_ram[] = {0x62, 0x09, 0x30, 0x03, 0x02, 0x01, 0x07,
                                      0x30, 0x02, 0x85, 0x00};
    wrap_items(&b, cfg_ram, sizeof(cfg_ram));
    mc_error_free(read_fails(plain_reader, b.p, b.len));
    tu_free(&b);
    /* PART of a known START gets its idstr */
    static const uint8_t start_part[] = {
        0x62, 0x15, 0x30, 0x0f, 0x02, 0x01, 0x01, 0x80, 0x01, 0x05,
        0x81, 0x01, 'r', 0x82, 0x01, 0x00, 0x83, 0x01, 0x04,
        0x30, 0x02, 0x85, 0x00,
        0x62, 0x0c, 0x30, 0x06, 0x02, 0x01, 0x02, 0x80, 0x01, 0x05,
        0x30, 0x02, 0x85, 0x00,
    };
    wrap_items(&b, start_part, sizeof(start_part));
    log = read_log(tu_ber_reader, b.p, b.len, NULL, NULL);
    assert_non_null(strstr(log, "section type=2 kind=2 id=5 idstr=r inst=0"));
    free(log);
    tu_free(&b);
}

/* Replace b by tag + DER length + b. */
static void tlv_wrap(tu_buf *b, uint8_t tag)
{
    tu_buf n = {0};
    uint8_t h[6];
    size_t k = 0;
    h[k++] = tag;
    if (b->len >= 0x80) {
        unsigned bytes = b->len >= 0x10000 ? 3 : b->len >= 0x100 ? 2 : 1;
        assert_true(b->len < 0x1000000);
        h[k++] = (uint8_t)(0x80 | bytes);
        for (unsigned i = bytes; i-- > 1;) {
            h[k++] = (uint8_t)(b->len >> (8 * i));
        }
    }
    h[k++] = (uint8_t)b->len;
    tu_put(&n, h, k);
    tu_put(&n, b->p, b->len);
    tu_free(b);
    *b = n;
}

/* A FULL section with one field: struct in struct ... depth levels. */
static void deep_struct_stream(tu_buf *out, int depth)
{
    static const uint8_t leaf[] = {0x80, 0x01, 0x00};  /* bare u8 0 */
    static const uint8_t hdr[] = {
        0x30, 0x0f, 0x02, 0x01, 0x04, 0x80, 0x01, 0x01,
        0x81, 0x01, 'd', 0x82, 0x01, 0x00, 0x83, 0x01, 0x01,
    };
    tu_buf f = {0};
    tu_put(&f, leaf, sizeof(leaf));
    for (int i = 0; i < depth; i++) {
        tlv_wrap(&f, 0x30);     /* fields */
        tlv_wrap(&f, 0xaa);     /* [10] struct, a bare Value */
    }
    tlv_wrap(&f, 0x30);         /* fields */
    tlv_wrap(&f, 0x30);         /* body */
    tu_buf sec = {0};
    tu_put(&sec, hdr, sizeof(hdr));
    tu_put(&sec, f.p, f.len);
    tlv_wrap(&sec, 0x61);
    wrap_items(out, sec.p, sec.len);
    tu_free(&sec);
    tu_free(&f);
}

static void test_deep_nesting(void **state)
{
    tu_buf s = {0};
    deep_struct_stream(&s, 64);
    char *slog = read_log(tu_ber_reader, s.p, s.len, NULL, NULL);
    free(slog);
    tu_free(&s);
    deep_struct_stream(&s, 65);
    mc_error *serr = read_fails(tu_ber_reader, s.p, s.len);
    assert_non_null(strstr(serr->msg, "nesting deeper than 64"));
    mc_error_free(serr);
    tu_free(&s);

    /* D levels of packages: 64 80 02 01 00 30 80 ... 00 00 00 00 */
    enum { D = 70 };
    tu_buf items = {0};
    static const uint8_t open[] = {0x64, 0x80, 0x02, 0x01, 0x00, 0x30, 0x80};
    static const uint8_t close[] = {0x00, 0x00, 0x00, 0x00};
    for (int i = 0; i < D; i++) {
        tu_put(&items, open, sizeof(open));
    }
    for (int i = 0; i < D; i++) {
        tu_put(&items, close, sizeof(close));
    }
    tu_buf b = {0};
    wrap_items(&b, items.p, items.len);
    mc_error *err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "nesting deeper than 64"));
    mc_error_free(err);
    tu_free(&b);
    tu_free(&items);
    /* 64 levels are fine */
    for (int i = 0; i < 64; i++) {
        tu_put(&items, open, sizeof(open));
    }
    for (int i = 0; i < 64; i++) {
        tu_put(&items, close, sizeof(close));
    }
    wrap_items(&b, items.p, items.len);
    char *log = read_log(tu_ber_reader, b.p, b.len, NULL, NULL);
    free(log);
    tu_free(&b);
    tu_free(&items);
}

/* s with the first occurrence of old replaced by new (caller frees). */
static char *replace_once(const char *s, const char *old, const char *new)
{
    const char *p = strstr(s, old);
    assert_non_null(p);
    tu_buf b = {0};
    tu_put(&b, s, (size_t)(p - s));
    tu_put(&b, new, strlen(new));
    tu_put(&b, p + strlen(old), strlen(p + strlen(old)) + 1);
    return (char *)b.p;
}

/* Corner cases: empty containers, long lengths, unnamed values. */
static void drive_edges(mc_visitor *v)
{
    mc_error *err = NULL;
    mc_error **e = &err;
    enum { BIG = 70000 };
    uint8_t *big = mc_calloc(1, BIG);
    big[0] = 1;
    big[BIG - 1] = 2;
    mc_stream_info info = {
        .magic = MC_VM_FILE_MAGIC, .version = MC_VM_FILE_VERSION,
        .page_size = 4096, .page_size_source = MC_PAGE_SIZE_DEFAULT,
        .names = true,
    };
    mc_section_info dev = {.type = MC_VM_SECTION_FULL,
                           .kind = MC_SECTION_VMSTATE, .section_id = 0xffffffff,
                           .idstr = "edge", .instance_id = 0x80000000,
                           .version_id = 0xffffffff};
    OK(mc_visit_start_stream(v, &info, e));
    OK(mc_visit_start_section(v, &dev, e));
    OK(mc_visit_bytes(v, &(mc_field){"empty", "buffer"}, NULL, 0, e));
    OK(mc_visit_bytes(v, &(mc_field){"big", "buffer"}, big, BIG, e));
    OK(mc_visit_int(v, &(mc_field){NULL, NULL}, MC_WT_I32, 0x80000000, e));
    OK(mc_visit_int(v, &(mc_field){"", "uint64"}, MC_WT_U64, UINT64_MAX, e));
    OK(mc_visit_int(v, &(mc_field){"min", "int64"}, MC_WT_I64,
                    0x8000000000000000ull, e));
    OK(mc_visit_int(v, &(mc_field){"zero", "uint8"}, MC_WT_U8, 0, e));
    OK(mc_visit_start_array(v, &(mc_field){"none", NULL}, 0, e));
    OK(mc_visit_end_array(v, e));
    OK(mc_visit_packed(v, &(mc_field){"nopack", "uint64"}, MC_WT_U64, 0, big,
                       e));
    OK(mc_visit_packed(v, &(mc_field){"bools", "bool"}, MC_WT_BOOL, 3,
                       (const uint8_t *)"\1\0\1", e));
    /* a struct with no fields but a subsection, holding an array of
     * structs */
    OK(mc_visit_start_struct(v, &(mc_field){"st", "struct"}, e));
    OK(mc_visit_start_subsection(v, "st/sub", 0, e));
    OK(mc_visit_start_array(v, &(mc_field){"arr", "struct"}, 2, e));
    for (int i = 0; i < 2; i++) {
        OK(mc_visit_start_struct(v, &(mc_field){NULL, "struct"}, e));
        OK(mc_visit_int(v, &(mc_field){"i", "int16"}, MC_WT_I16,
                        (uint64_t)(0x7fff + i) & 0xffff, e));
        OK(mc_visit_end_struct(v, e));
    }
    OK(mc_visit_end_array(v, e));
    OK(mc_visit_end_subsection(v, e));
    OK(mc_visit_start_subsection(v, "st/empty", 1, e));
    OK(mc_visit_end_subsection(v, e));
    OK(mc_visit_end_struct(v, e));
    OK(mc_visit_end_section(v, false, e));
    /* an empty device section and an empty RAM section */
    mc_section_info end = {.type = MC_VM_SECTION_END,
                           .kind = MC_SECTION_VMSTATE, .section_id = 0xffffffff,
                           .idstr = "edge"};
    OK(mc_visit_start_section(v, &end, e));
    OK(mc_visit_end_section(v, true, e));
    mc_section_info ram = {.type = MC_VM_SECTION_END, .kind = MC_SECTION_RAM,
                           .section_id = 7};
    OK(mc_visit_start_section(v, &ram, e));
    OK(mc_visit_end_section(v, false, e));
    OK(mc_visit_command(v, MC_MIG_CMD_OPEN_RETURN_PATH, NULL, 0, e));
    OK(mc_visit_start_packaged(v, 0, e));
    OK(mc_visit_end_packaged(v, e));
    OK(mc_visit_eof(v, e));
    OK(mc_visit_end_stream(v, e));
    OK(mc_visitor_complete(v, e));
    assert_null(err);
    free(big);
}

static void test_edge_values(void **state)
{
    recorder *r = recorder_new();
    drive_edges(&r->base);
    char *want = rec_text(r);
    mc_visitor_free(&r->base);

    mc_sink sink;
    mc_sink_init_mem(&sink);
    mc_ber_writer_opts o = {.names = true};
    mc_visitor *v = mc_ber_writer_new(&sink, &o);
    drive_edges(v);
    mc_visitor_free(v);
    /* the 70000-byte buffer has a three-byte length: 89 83 01 11 70 */
    static const uint8_t bigtl[] = {0x0c, 0x03, 'b', 'i', 'g',
                                    0x89, 0x83, 0x01, 0x11, 0x70};
    assert_non_null(find(sink.buf, sink.len, bigtl, sizeof(bigtl)));
    /* the empty subsection: name, version, Body { fields {} } */
    static const uint8_t emptysub[] = {0x30, 0x11, 0x0c, 0x08, 's', 't', '/',
                                       'e', 'm', 'p', 't', 'y', 0x02, 0x01,
                                       0x01, 0x30, 0x02, 0x30, 0x00};
    assert_non_null(find(sink.buf, sink.len, emptysub, sizeof(emptysub)));

    /* The reader restores canonical types it elided, so compare against
     * the driven calls with those filled in. */
    char *got = read_log(tu_ber_reader, sink.buf, sink.len, NULL, NULL);
    assert_non_null(strstr(want, "int name=- type=-\n  int32 0x80000000\n"));
    assert_non_null(
        strstr(got, "int name=- type=int32\n  int32 0x80000000\n"));
    char *fixed =
        replace_once(want, "type=-\n  int32", "type=int32\n  int32");
    assert_string_equal(got, fixed);
    free(fixed);
    free(got);
    free(want);

    size_t len2 = 0;
    mc_error *err = NULL;
    uint8_t *again = ber_to_ber(sink.buf, sink.len, true, &len2, &err);
    assert_non_null(again);
    assert_same_bytes(again, len2, sink.buf, sink.len);
    free(again);
    mc_sink_cleanup(&sink);
}

/* A RAM PART section (id 9) around the given records, definite or not. */
static void ram_stream(tu_buf *out, const uint8_t *recs, size_t n, bool indef)
{
    static const uint8_t hdr[] = {0x30, 0x06, 0x02, 0x01, 0x02, 0x80, 0x01,
                                  0x09};
    tu_buf sec = {0};
    if (indef) {
        static const uint8_t open[] = {0x62, 0x80};
        static const uint8_t ropen[] = {0x30, 0x80};
        static const uint8_t eoc[] = {0x00, 0x00, 0x00, 0x00};
        tu_put(&sec, open, sizeof(open));
        tu_put(&sec, hdr, sizeof(hdr));
        tu_put(&sec, ropen, sizeof(ropen));
        tu_put(&sec, recs, n);
        tu_put(&sec, eoc, sizeof(eoc));
    } else {
        tu_buf r = {0};
        tu_put(&r, recs, n);
        tlv_wrap(&r, 0x30);
        tu_put(&sec, hdr, sizeof(hdr));
        tu_put(&sec, r.p, r.len);
        tlv_wrap(&sec, 0x62);
        tu_free(&r);
    }
    wrap_items(out, sec.p, sec.len);
    tu_free(&sec);
}

/* A page run record at offset, of pages zero pages. */
static void page_run(tu_buf *b, uint64_t offset, size_t pages)
{
    tu_buf data = {0}, rec = {0};
    uint8_t *zero = mc_calloc(1, PAGE);
    for (size_t i = 0; i < pages; i++) {
        tu_put(&data, zero, PAGE);
    }
    tlv_wrap(&data, 0x04);
    /* minimal INTEGER (offsets below 2^55 here) */
    uint8_t be[8];
    mc_put_be64(be, offset);
    size_t i = 0;
    while (i < 7 && be[i] == 0 && !(be[i + 1] & 0x80)) {
        i++;
    }
    assert_true(be[i] < 0x80);
    tu_u8(&rec, 0x02);
    tu_u8(&rec, (uint8_t)(8 - i));
    tu_put(&rec, be + i, 8 - i);
    tu_put(&rec, data.p, data.len);
    tlv_wrap(&rec, 0xa2);
    tu_put(b, rec.p, rec.len);
    tu_free(&rec);
    tu_free(&data);
    free(zero);
}

/* The reader accepts only what the writer writes. */
static void test_canonical_only(void **state)
{
    tu_buf b = {0};
    mc_error *err;
    /* a type that repeats the wire type */
    static const uint8_t typed[] = {0x30, 0x0a, 0x94, 0x05, 'u', 'i', 'n',
                                    't', '8', 0x80, 0x01, 0x07};
    one_field_stream(&b, typed, sizeof(typed));
    err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "must be omitted"));
    mc_error_free(err);
    tu_free(&b);
    /* a field name in a stream without names */
    static const uint8_t named[] = {0x30, 0x06, 0x0c, 0x01, 'v', 0x80, 0x01,
                                    0x07};
    one_field_stream(&b, named, sizeof(named));
    b.p[25] = 0x00;     /* names FALSE */
    err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "without names"));
    mc_error_free(err);
    tu_free(&b);

    /* zero runs: 0 and 0x400 join; a different fill does not */
    static const uint8_t zz[] = {0xa1, 0x03, 0x02, 0x01, 0x00,
                                 0xa1, 0x04, 0x02, 0x02, 0x04, 0x00};
    ram_stream(&b, zz, sizeof(zz), false);
    err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "must be merged"));
    assert_string_equal(err->path, "part (id 9)/records[1]");
    mc_error_free(err);
    tu_free(&b);
    static const uint8_t zf[] = {0xa1, 0x03, 0x02, 0x01, 0x00,
                                 0xa1, 0x07, 0x02, 0x02, 0x04, 0x00,
                                 0x82, 0x01, 0x01};
    ram_stream(&b, zf, sizeof(zf), false);
    char *log = read_log(tu_ber_reader, b.p, b.len, NULL, NULL);
    assert_non_null(strstr(log, "ram zero off=0x400 block=- fill=1"));
    free(log);
    tu_free(&b);

    /* page runs: 2 + 1 continuing pages must be one run */
    tu_buf recs = {0};
    page_run(&recs, 0, 2);
    page_run(&recs, 2 * PAGE, 1);
    ram_stream(&b, recs.p, recs.len, false);
    err = read_fails(plain_reader, b.p, b.len);
    if (!strstr(err->msg, "page run continues")) {
        fail_msg("%s", err->msg);
    }
    mc_error_free(err);
    tu_free(&b);
    tu_free(&recs);
    /* ... but 256 + 1 pages are two */
    page_run(&recs, 0, 256);
    page_run(&recs, 256 * PAGE, 1);
    ram_stream(&b, recs.p, recs.len, true);
    log = read_log(tu_ber_reader, b.p, b.len, NULL, NULL);
    assert_non_null(strstr(log, "ram page off=0x40000 block=-"));
    free(log);
    tu_free(&b);
    /* the same records with definite length: above the writer's buffer */
    ram_stream(&b, recs.p, recs.len, false);
    err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "indefinite length"));
    mc_error_free(err);
    tu_free(&b);
    tu_free(&recs);
    /* 257 pages in one run */
    page_run(&recs, 0, 257);
    ram_stream(&b, recs.p, recs.len, true);
    err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "at most 256"));
    mc_error_free(err);
    tu_free(&b);
    tu_free(&recs);
    /* small records with indefinite length */
    static const uint8_t eos[] = {0x85, 0x00};
    ram_stream(&b, eos, sizeof(eos), true);
    err = read_fails(plain_reader, b.p, b.len);
    assert_non_null(strstr(err->msg, "definite length"));
    mc_error_free(err);
    tu_free(&b);
}

static void test_writer_rejects(void **state)
{
    mc_sink sink;
    mc_sink_init_mem(&sink);
    mc_ber_writer_opts o = {.names = true};
    mc_visitor *v = mc_ber_writer_new(&sink, &o);
    mc_error *err = NULL;
    mc_stream_info info = {
        .magic = MC_VM_FILE_MAGIC, .version = MC_VM_FILE_VERSION,
        .page_size = PAGE, .page_size_source = MC_PAGE_SIZE_DEFAULT,
    };
    mc_section_info dev = {.type = MC_VM_SECTION_FULL,
                           .kind = MC_SECTION_VMSTATE, .section_id = 1,
                           .idstr = "d"};
    OK(mc_visit_start_stream(v, &info, &err));
    OK(mc_visit_start_section(v, &dev, &err));
    /* a bool must be 0 or 1 */
    assert_false(mc_visit_int(v, &(mc_field){"b", "bool"}, MC_WT_BOOL, 2,
                              &err));
    assert_non_null(err);
    mc_error_free(err);
    err = NULL;
    /* a u8 of 256 */
    assert_false(mc_visit_int(v, NULL, MC_WT_U8, 256, &err));
    mc_error_free(err);
    err = NULL;
    /* i8 given sign-extended is fine */
    OK(mc_visit_int(v, NULL, MC_WT_I8, UINT64_MAX, &err));
    mc_visitor_free(v);
    mc_sink_cleanup(&sink);

    /* the page size source of a BER header has no encoding */
    mc_sink_init_mem(&sink);
    v = mc_ber_writer_new(&sink, &o);
    info.page_size_source = MC_PAGE_SIZE_HEADER;
    assert_false(mc_visit_start_stream(v, &info, &err));
    mc_error_free(err);
    mc_visitor_free(v);
    mc_sink_cleanup(&sink);
}

static void test_format_detect(void **state)
{
    assert_int_equal(mc_format_detect((const uint8_t *)"QEVM\0\0\0\3", 8),
                     MC_FORMAT_LEGACY);
    static const uint8_t ber[] = {0x60, 0x80, 0x30, 0x16};
    assert_int_equal(mc_format_detect(ber, sizeof(ber)), MC_FORMAT_BER);
    assert_int_equal(mc_format_detect(ber, 1), MC_FORMAT_UNKNOWN);
    assert_int_equal(mc_format_detect((const uint8_t *)"QEV", 3),
                     MC_FORMAT_UNKNOWN);
    assert_int_equal(mc_format_detect((const uint8_t *)"\x30\x80xx", 4),
                     MC_FORMAT_UNKNOWN);
    assert_string_equal(mc_format_name(MC_FORMAT_BER), "ber");
    assert_string_equal(mc_format_name(MC_FORMAT_LEGACY), "legacy");
    assert_string_equal(mc_format_name(MC_FORMAT_UNKNOWN), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_ber_to_ber),
        cmocka_unit_test(test_call_sequence),
        cmocka_unit_test(test_no_names),
        cmocka_unit_test(test_schema_records),
        cmocka_unit_test(test_schema_holes),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_flipped_tags),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_non_minimal),
        cmocka_unit_test(test_large_ram),
        cmocka_unit_test(test_reader_rules),
        cmocka_unit_test(test_item_order),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_edge_values),
        cmocka_unit_test(test_canonical_only),
        cmocka_unit_test(test_writer_rejects),
        cmocka_unit_test(test_format_detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
