/*
 * Legacy writer: drive it with mc_visit_* calls and compare the output with
 * hand-annotated legacy bytes (one commented line per wire field).  Also
 * covers the null visitor and the recording visitor used by other tests.
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
#include "recorder.h"
#include "testutil.h"
#include "visit/visitors.h"

typedef struct fx {
    mc_sink sink;
    mc_visitor *v;
    mc_error *err;
    tu_buf exp;
} fx;

static int setup(void **state)
{
    fx *f = mc_calloc(1, sizeof(*f));
    mc_sink_init_mem(&f->sink);
    f->v = mc_legacy_writer_new(&f->sink);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    mc_visitor_free(f->v);
    mc_sink_cleanup(&f->sink);
    mc_error_free(f->err);
    tu_free(&f->exp);
    free(f);
    return 0;
}

/* Run a visitor call that must succeed. */
#define OK(call)                                                        \
    do {                                                                \
        if (!(call)) {                                                  \
            fail_msg("%s failed: %s", #call,                            \
                     f->err ? f->err->msg : "(no error set)");          \
        }                                                               \
    } while (0)

/* Run a visitor call that must fail with an error of class klass. */
#define FAILS(call, klass)                                              \
    do {                                                                \
        assert_false(call);                                             \
        assert_non_null(f->err);                                        \
        assert_int_equal(f->err->cls, (klass));                         \
    } while (0)

#define FLD(n, t) (&(mc_field){(n), (t)})

static void assert_output(fx *f)
{
    const tu_buf *e = &f->exp;
    size_t n = f->sink.len < e->len ? f->sink.len : e->len;
    for (size_t i = 0; i < n; i++) {
        if (f->sink.buf[i] != e->p[i]) {
            fail_msg("byte %zu: got 0x%02x, expected 0x%02x", i,
                     f->sink.buf[i], e->p[i]);
        }
    }
    assert_int_equal(f->sink.len, e->len);
}

static void assert_msg_has(const mc_error *err, const char *needle)
{
    if (!strstr(err->msg, needle)) {
        fail_msg("error \"%s\" lacks \"%s\"", err->msg, needle);
    }
}

static const mc_stream_info stream_4k = {
    .magic = MC_VM_FILE_MAGIC,
    .version = MC_VM_FILE_VERSION,
    .page_size = 4096,
    .page_size_source = MC_PAGE_SIZE_CONFIGURATION,
    .names = true,
};

static mc_section_info sec(uint8_t type, mc_section_kind kind, uint32_t id,
                           const char *idstr, uint32_t instance,
                           uint32_t version)
{
    mc_section_info s = {
        .type = type, .kind = kind, .section_id = id, .idstr = idstr,
        .instance_id = instance, .version_id = version,
    };
    return s;
}

/* The stream header every golden output starts with. */
static void exp_header(tu_buf *e)
{
    tu_be32(e, 0x5145564d);             /* magic "QEVM" */
    tu_be32(e, 0x00000003);             /* file version */
}

static void test_header_eof_vmdesc(void **state)
{
    fx *f = *state;
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    OK(mc_visit_vmdesc(f->v, (const uint8_t *)"{\"a\":1}", 7, &f->err));
    OK(mc_visit_end_stream(f->v, &f->err));
    OK(mc_visitor_complete(f->v, &f->err));

    tu_buf *e = &f->exp;
    exp_header(e);
    tu_u8(e, 0x00);                     /* QEMU_VM_EOF */
    tu_u8(e, 0x06);                     /* QEMU_VM_VMDESCRIPTION */
    tu_be32(e, 7);                      /*   json length */
    tu_put(e, "{\"a\":1}", 7);          /*   json */
    assert_output(f);
}

static void test_configuration(void **state)
{
    fx *f = *state;
    mc_section_info s = sec(MC_VM_CONFIGURATION, MC_SECTION_CONFIG, 0,
                            "configuration", 0, 0);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_int(f->v, FLD("len", "uint32"), MC_WT_U32, 13, &f->err));
    OK(mc_visit_bytes(f->v, FLD("name", "buffer"),
                      (const uint8_t *)"pc-i440fx-7.2", 13, &f->err));
    OK(mc_visit_start_subsection(f->v, "configuration/target-page-bits", 1,
                                 &f->err));
    OK(mc_visit_int(f->v, FLD("target_page_bits", "uint32"), MC_WT_U32, 12,
                    &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_start_subsection(f->v, "configuration/capabilities", 1,
                                 &f->err));
    OK(mc_visit_int(f->v, FLD("caps_count", "uint32"), MC_WT_U32, 1,
                    &f->err));
    OK(mc_visit_start_array(f->v, FLD("capabilities", "capability"), 1,
                            &f->err));
    OK(mc_visit_start_struct(f->v, FLD(NULL, "capability"), &f->err));
    OK(mc_visit_int(f->v, FLD("len", NULL), MC_WT_U8, 15, &f->err));
    OK(mc_visit_bytes(f->v, FLD("name", NULL),
                      (const uint8_t *)"x-ignore-shared", 15, &f->err));
    OK(mc_visit_end_struct(f->v, &f->err));
    OK(mc_visit_end_array(f->v, &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    OK(mc_visit_end_stream(f->v, &f->err));
    OK(mc_visitor_complete(f->v, &f->err));

    tu_buf *e = &f->exp;
    exp_header(e);
    tu_u8(e, 0x07);                     /* QEMU_VM_CONFIGURATION */
    tu_be32(e, 13);                     /*   len */
    tu_put(e, "pc-i440fx-7.2", 13);     /*   name */
    tu_u8(e, 0x05);                     /*   QEMU_VM_SUBSECTION */
    tu_str(e, "configuration/target-page-bits"); /* name */
    tu_be32(e, 1);                      /*     version */
    tu_be32(e, 12);                     /*     target_page_bits */
    tu_u8(e, 0x05);                     /*   QEMU_VM_SUBSECTION */
    tu_str(e, "configuration/capabilities"); /* name */
    tu_be32(e, 1);                      /*     version */
    tu_be32(e, 1);                      /*     caps_count */
    tu_u8(e, 15);                       /*     capabilities[0].len */
    tu_put(e, "x-ignore-shared", 15);   /*     capabilities[0].name */
                                        /* (no footer) */
    assert_output(f);
}

static void test_full_section_values(void **state)
{
    fx *f = *state;
    mc_section_info s = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 3,
                            "timer", 0, 2);
    const uint8_t buf[3] = {1, 2, 3};
    const uint8_t p32[12] = {0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff};
    const uint8_t p16[4] = {0x12, 0x34, 0x56, 0x78};
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_int(f->v, FLD("u8", "uint8"), MC_WT_U8, 0xab, &f->err));
    OK(mc_visit_int(f->v, FLD("u16", "uint16"), MC_WT_U16, 0xbeef, &f->err));
    OK(mc_visit_int(f->v, FLD("u32", "uint32"), MC_WT_U32, 0xdeadbeef,
                    &f->err));
    OK(mc_visit_int(f->v, FLD("u64", "uint64"), MC_WT_U64,
                    0x0123456789abcdefull, &f->err));
    /* signed values arrive either as wire bits or sign-extended */
    OK(mc_visit_int(f->v, FLD("i8", "int8"), MC_WT_I8, 0xff, &f->err));
    OK(mc_visit_int(f->v, FLD("i16", "int16"), MC_WT_I16, (uint64_t)-2,
                    &f->err));
    OK(mc_visit_int(f->v, FLD("i32", "int32"), MC_WT_I32, 0x80000000u,
                    &f->err));
    OK(mc_visit_int(f->v, FLD("i64", "timer"), MC_WT_I64, (uint64_t)-1,
                    &f->err));
    OK(mc_visit_int(f->v, FLD("b", "bool"), MC_WT_BOOL, 1, &f->err));
    OK(mc_visit_bytes(f->v, FLD("buf", "buffer"), buf, 3, &f->err));
    OK(mc_visit_bytes(f->v, FLD("empty", "buffer"), NULL, 0, &f->err));
    OK(mc_visit_start_struct(f->v, FLD("regs", "struct"), &f->err));
    OK(mc_visit_int(f->v, FLD("a", NULL), MC_WT_U32, 1, &f->err));
    OK(mc_visit_start_subsection(f->v, "regs/extra", 1, &f->err));
    OK(mc_visit_int(f->v, FLD("x", NULL), MC_WT_U16, 7, &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_end_struct(f->v, &f->err));
    OK(mc_visit_start_array(f->v, FLD("mix", NULL), 4, &f->err));
    OK(mc_visit_int(f->v, NULL, MC_WT_U16, 0x0102, &f->err));
    OK(mc_visit_bytes(f->v, NULL, buf, 2, &f->err));
    OK(mc_visit_packed(f->v, NULL, MC_WT_U16, 2, p16, &f->err));
    OK(mc_visit_start_array(f->v, NULL, 2, &f->err));
    OK(mc_visit_int(f->v, NULL, MC_WT_I8, (uint64_t)-128, &f->err));
    OK(mc_visit_start_struct(f->v, NULL, &f->err));
    OK(mc_visit_end_struct(f->v, &f->err));
    OK(mc_visit_end_array(f->v, &f->err));
    OK(mc_visit_end_array(f->v, &f->err));
    OK(mc_visit_start_array(f->v, FLD("none", NULL), 0, &f->err));
    OK(mc_visit_end_array(f->v, &f->err));
    OK(mc_visit_packed(f->v, FLD("p", "uint32"), MC_WT_U32, 3, p32,
                       &f->err));
    OK(mc_visit_start_subsection(f->v, "timer/sub", 1, &f->err));
    OK(mc_visit_int(f->v, FLD("s", NULL), MC_WT_U8, 9, &f->err));
    OK(mc_visit_start_subsection(f->v, "timer/sub/deep", 2, &f->err));
    OK(mc_visit_packed(f->v, FLD("d", NULL), MC_WT_U16, 2, p16, &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));
    OK(mc_visit_end_stream(f->v, &f->err));
    OK(mc_visitor_complete(f->v, &f->err));

    tu_buf *e = &f->exp;
    exp_header(e);
    tu_u8(e, 0x04);                     /* QEMU_VM_SECTION_FULL */
    tu_be32(e, 3);                      /*   section_id */
    tu_str(e, "timer");                 /*   idstr */
    tu_be32(e, 0);                      /*   instance_id */
    tu_be32(e, 2);                      /*   version_id */
    tu_u8(e, 0xab);                     /*   u8 */
    tu_be16(e, 0xbeef);                 /*   u16 */
    tu_be32(e, 0xdeadbeef);             /*   u32 */
    tu_be64(e, 0x0123456789abcdefull);  /*   u64 */
    tu_u8(e, 0xff);                     /*   i8 = -1 */
    tu_be16(e, 0xfffe);                 /*   i16 = -2 */
    tu_be32(e, 0x80000000u);            /*   i32 = INT32_MIN */
    tu_be64(e, UINT64_MAX);             /*   i64 (timer) = -1 */
    tu_u8(e, 0x01);                     /*   b = true */
    tu_put(e, buf, 3);                  /*   buf */
                                        /*   empty: nothing */
    tu_be32(e, 1);                      /*   regs.a */
    tu_u8(e, 0x05);                     /*   regs: QEMU_VM_SUBSECTION */
    tu_str(e, "regs/extra");            /*     name */
    tu_be32(e, 1);                      /*     version */
    tu_be16(e, 7);                      /*     x */
    tu_be16(e, 0x0102);                 /*   mix[0] */
    tu_put(e, buf, 2);                  /*   mix[1] */
    tu_put(e, p16, 4);                  /*   mix[2] (packed u16 x2) */
    tu_u8(e, 0x80);                     /*   mix[3][0] = -128 */
                                        /*   mix[3][1]: empty struct */
                                        /*   none: empty array */
    tu_put(e, p32, 12);                 /*   p (packed u32 x3) */
    tu_u8(e, 0x05);                     /*   QEMU_VM_SUBSECTION */
    tu_str(e, "timer/sub");             /*     name */
    tu_be32(e, 1);                      /*     version */
    tu_u8(e, 9);                        /*     s */
    tu_u8(e, 0x05);                     /*     QEMU_VM_SUBSECTION */
    tu_str(e, "timer/sub/deep");        /*       name */
    tu_be32(e, 2);                      /*       version */
    tu_put(e, p16, 4);                  /*       d (packed u16 x2) */
    tu_u8(e, 0x7e);                     /*   QEMU_VM_SECTION_FOOTER */
    tu_be32(e, 3);                      /*     section_id */
    assert_output(f);
}

static void test_start_part_end(void **state)
{
    fx *f = *state;
    mc_section_info s = sec(MC_VM_SECTION_START, MC_SECTION_VMSTATE, 5,
                            "dirty-bitmap", 0, 1);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_bytes(f->v, FLD("data", NULL), (const uint8_t *)"\x01", 1,
                      &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));
    /* PART/END: only the id goes on the wire, idstr is informational */
    s = sec(MC_VM_SECTION_PART, MC_SECTION_VMSTATE, 5, "dirty-bitmap", 9, 9);
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_bytes(f->v, FLD("data", NULL), (const uint8_t *)"\x02", 1,
                      &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));
    s = sec(MC_VM_SECTION_END, MC_SECTION_VMSTATE, 5, "dirty-bitmap", 9, 9);
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_bytes(f->v, FLD("data", NULL), (const uint8_t *)"\x03", 1,
                      &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    OK(mc_visit_end_stream(f->v, &f->err));
    OK(mc_visitor_complete(f->v, &f->err));

    tu_buf *e = &f->exp;
    exp_header(e);
    tu_u8(e, 0x01);                     /* QEMU_VM_SECTION_START */
    tu_be32(e, 5);                      /*   section_id */
    tu_str(e, "dirty-bitmap");          /*   idstr */
    tu_be32(e, 0);                      /*   instance_id */
    tu_be32(e, 1);                      /*   version_id */
    tu_u8(e, 0x01);                     /*   data */
    tu_u8(e, 0x7e);                     /*   QEMU_VM_SECTION_FOOTER */
    tu_be32(e, 5);                      /*     section_id */
    tu_u8(e, 0x02);                     /* QEMU_VM_SECTION_PART */
    tu_be32(e, 5);                      /*   section_id */
    tu_u8(e, 0x02);                     /*   data */
    tu_u8(e, 0x7e);                     /*   QEMU_VM_SECTION_FOOTER */
    tu_be32(e, 5);                      /*     section_id */
    tu_u8(e, 0x03);                     /* QEMU_VM_SECTION_END */
    tu_be32(e, 5);                      /*   section_id */
    tu_u8(e, 0x03);                     /*   data (no footer) */
    tu_u8(e, 0x00);                     /* QEMU_VM_EOF */
    assert_output(f);
}

static uint8_t page[4096];

static void test_ram_records(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof(page); i++) {
        page[i] = (uint8_t)(i * 7);
    }
    const uint8_t xb[5] = {0x02, 0x03, 0xaa, 0xbb, 0xcc};
    const uint8_t z[4] = {0x78, 0x9c, 0x03, 0x00};
    mc_ram_block blocks[2] = {
        {.idstr = "pc.ram", .used_length = 0x2000000},
        {.idstr = "/rom@etc/acpi/tables", .used_length = 0x20000,
         .has_page_size = true, .page_size = 0x200000,
         .has_addr = true, .addr = 0xfffc0000},
    };
    mc_section_info s = sec(MC_VM_SECTION_START, MC_SECTION_RAM, 2, "ram",
                            0, 4);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_MEM_SIZE, .offset = 0x2020000, .blocks = blocks,
        .n_blocks = 2}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){.kind = MC_RAM_EOS},
                           &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));

    s = sec(MC_VM_SECTION_PART, MC_SECTION_RAM, 2, "ram", 0, 0);
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0, .block = "pc.ram"}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x1000, .fill = 0x5a}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_PAGE, .offset = 0x2000, .block = "pc.ram",
        .data = page, .len = sizeof(page)}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_PAGE, .offset = 0x3000, .data = page,
        .len = sizeof(page)}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_XBZRLE, .offset = 0x4000, .block = "pc.ram",
        .encoding = 1, .data = xb, .len = 5}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_XBZRLE, .offset = 0x5000, .encoding = 1, .data = xb,
        .len = 3}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_COMPRESS, .offset = 0x6000, .block = "pc.ram",
        .data = z, .len = 4}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_COMPRESS, .offset = 0x7000, .data = z, .len = 2},
        &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_MULTIFD_FLUSH}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){.kind = MC_RAM_EOS},
                           &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));

    s = sec(MC_VM_SECTION_END, MC_SECTION_RAM, 2, "ram", 0, 0);
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x1ffff000, .block = "pc.ram"},
        &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){.kind = MC_RAM_EOS},
                           &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    OK(mc_visit_end_stream(f->v, &f->err));
    OK(mc_visitor_complete(f->v, &f->err));

    tu_buf *e = &f->exp;
    exp_header(e);
    tu_u8(e, 0x01);                     /* QEMU_VM_SECTION_START */
    tu_be32(e, 2);                      /*   section_id */
    tu_str(e, "ram");                   /*   idstr */
    tu_be32(e, 0);                      /*   instance_id */
    tu_be32(e, 4);                      /*   version_id */
    tu_be64(e, 0x2020000 | 0x04);       /*   total | MEM_SIZE */
    tu_str(e, "pc.ram");                /*     block idstr */
    tu_be64(e, 0x2000000);              /*     used_length */
    tu_str(e, "/rom@etc/acpi/tables");  /*     block idstr */
    tu_be64(e, 0x20000);                /*     used_length */
    tu_be64(e, 0x200000);               /*     page_size (postcopy) */
    tu_be64(e, 0xfffc0000);             /*     addr (x-ignore-shared) */
    tu_be64(e, 0x10);                   /*   EOS */
    tu_u8(e, 0x7e);                     /*   QEMU_VM_SECTION_FOOTER */
    tu_be32(e, 2);                      /*     section_id */
    tu_u8(e, 0x02);                     /* QEMU_VM_SECTION_PART */
    tu_be32(e, 2);                      /*   section_id */
    tu_be64(e, 0x0000 | 0x02);          /*   offset | ZERO */
    tu_str(e, "pc.ram");                /*     block */
    tu_u8(e, 0x00);                     /*     fill */
    tu_be64(e, 0x1000 | 0x02 | 0x20);   /*   offset | ZERO | CONTINUE */
    tu_u8(e, 0x5a);                     /*     fill */
    tu_be64(e, 0x2000 | 0x08);          /*   offset | PAGE */
    tu_str(e, "pc.ram");                /*     block */
    tu_put(e, page, sizeof(page));      /*     page data */
    tu_be64(e, 0x3000 | 0x08 | 0x20);   /*   offset | PAGE | CONTINUE */
    tu_put(e, page, sizeof(page));      /*     page data */
    tu_be64(e, 0x4000 | 0x40);          /*   offset | XBZRLE */
    tu_str(e, "pc.ram");                /*     block */
    tu_u8(e, 0x01);                     /*     encoding */
    tu_be16(e, 5);                      /*     length */
    tu_put(e, xb, 5);                   /*     data */
    tu_be64(e, 0x5000 | 0x40 | 0x20);   /*   offset | XBZRLE | CONTINUE */
    tu_u8(e, 0x01);                     /*     encoding */
    tu_be16(e, 3);                      /*     length */
    tu_put(e, xb, 3);                   /*     data */
    tu_be64(e, 0x6000 | 0x100);         /*   offset | COMPRESS_PAGE */
    tu_str(e, "pc.ram");                /*     block */
    tu_be32(e, 4);                      /*     length */
    tu_put(e, z, 4);                    /*     data */
    tu_be64(e, 0x7000 | 0x100 | 0x20);  /*   offset | COMPRESS | CONTINUE */
    tu_be32(e, 2);                      /*     length */
    tu_put(e, z, 2);                    /*     data */
    tu_be64(e, 0x200);                  /*   MULTIFD_FLUSH */
    tu_be64(e, 0x10);                   /*   EOS */
    tu_u8(e, 0x7e);                     /*   QEMU_VM_SECTION_FOOTER */
    tu_be32(e, 2);                      /*     section_id */
    tu_u8(e, 0x03);                     /* QEMU_VM_SECTION_END */
    tu_be32(e, 2);                      /*   section_id */
    tu_be64(e, 0x1ffff000 | 0x02);      /*   offset | ZERO */
    tu_str(e, "pc.ram");                /*     block */
    tu_u8(e, 0x00);                     /*     fill */
    tu_be64(e, 0x10);                   /*   EOS (no footer) */
    assert_output(f);
}

static void test_commands_packaged(void **state)
{
    fx *f = *state;
    const uint8_t ping[4] = {0, 0, 0, 1};
    uint8_t advise[16];
    mc_put_be64(advise, 0x1000);
    mc_put_be64(advise + 8, 0x1000);
    mc_section_info s = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 7,
                            "apic", 0, 3);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_command(f->v, MC_MIG_CMD_OPEN_RETURN_PATH, NULL, 0,
                        &f->err));
    OK(mc_visit_command(f->v, MC_MIG_CMD_PING, ping, 4, &f->err));
    OK(mc_visit_command(f->v, MC_MIG_CMD_POSTCOPY_ADVISE, advise, 16,
                        &f->err));
    OK(mc_visit_start_packaged(f->v, 39, &f->err));
    OK(mc_visit_start_section(f->v, &s, &f->err));
    OK(mc_visit_int(f->v, FLD("x", NULL), MC_WT_U8, 5, &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));
    OK(mc_visit_command(f->v, MC_MIG_CMD_POSTCOPY_RUN, NULL, 0, &f->err));
    OK(mc_visit_start_packaged(f->v, 0, &f->err));   /* nested, empty */
    OK(mc_visit_end_packaged(f->v, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    OK(mc_visit_end_packaged(f->v, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    OK(mc_visit_end_stream(f->v, &f->err));
    OK(mc_visitor_complete(f->v, &f->err));

    tu_buf *e = &f->exp;
    exp_header(e);
    tu_u8(e, 0x08);                     /* QEMU_VM_COMMAND */
    tu_be16(e, 1);                      /*   OPEN_RETURN_PATH */
    tu_be16(e, 0);                      /*   len */
    tu_u8(e, 0x08);                     /* QEMU_VM_COMMAND */
    tu_be16(e, 2);                      /*   PING */
    tu_be16(e, 4);                      /*   len */
    tu_put(e, ping, 4);                 /*   value */
    tu_u8(e, 0x08);                     /* QEMU_VM_COMMAND */
    tu_be16(e, 3);                      /*   POSTCOPY_ADVISE */
    tu_be16(e, 16);                     /*   len */
    tu_put(e, advise, 16);              /*   page sizes */
    tu_u8(e, 0x08);                     /* QEMU_VM_COMMAND */
    tu_be16(e, 7);                      /*   PACKAGED */
    tu_be16(e, 4);                      /*   len */
    tu_be32(e, 39);                     /*   package length (24+5+9+1) */
    tu_u8(e, 0x04);                     /*   QEMU_VM_SECTION_FULL (18) */
    tu_be32(e, 7);                      /*     section_id */
    tu_str(e, "apic");                  /*     idstr */
    tu_be32(e, 0);                      /*     instance_id */
    tu_be32(e, 3);                      /*     version_id */
    tu_u8(e, 5);                        /*     x (1) */
    tu_u8(e, 0x7e);                     /*     QEMU_VM_SECTION_FOOTER (5) */
    tu_be32(e, 7);                      /*       section_id */
    tu_u8(e, 0x08);                     /*   QEMU_VM_COMMAND (5) */
    tu_be16(e, 5);                      /*     POSTCOPY_RUN */
    tu_be16(e, 0);                      /*     len */
    tu_u8(e, 0x08);                     /*   QEMU_VM_COMMAND (9) */
    tu_be16(e, 7);                      /*     PACKAGED */
    tu_be16(e, 4);                      /*     len */
    tu_be32(e, 0);                      /*     package length */
    tu_u8(e, 0x00);                     /*   QEMU_VM_EOF (1) */
    tu_u8(e, 0x00);                     /* QEMU_VM_EOF */
    assert_output(f);
}

static void test_packaged_length_mismatch(void **state)
{
    fx *f = *state;
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_packaged(f->v, 10, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    FAILS(mc_visit_end_packaged(f->v, &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "10");
    assert_msg_has(f->err, "take 1");
    /* the offset is where the nested stream starts: 8 + 9 */
    assert_int_equal(f->err->offset, 17);
}

static void test_packaged_too_long(void **state)
{
    fx *f = *state;
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_packaged(f->v, 0, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    FAILS(mc_visit_end_packaged(f->v, &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "take 2");
}

/* Start a stream of page size ps and an open RAM PART section. */
static void ram_part(fx *f, uint32_t ps)
{
    mc_stream_info si = stream_4k;
    si.page_size = ps;
    mc_section_info s = sec(MC_VM_SECTION_PART, MC_SECTION_RAM, 2, "ram",
                            0, 0);
    OK(mc_visit_start_stream(f->v, &si, &f->err));
    OK(mc_visit_start_section(f->v, &s, &f->err));
}

static void test_ram_bad_offset(void **state)
{
    fx *f = *state;
    ram_part(f, 4096);
    uint64_t before = mc_sink_offset(&f->sink);
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x1001, .block = "pc.ram"}, &f->err),
        MC_ERR_DATA);
    assert_msg_has(f->err, "0x1001");
    assert_msg_has(f->err, "page size 4096");
    assert_string_equal(f->err->path, "part ram (id 2)");
    assert_int_equal(f->err->offset, before);
    /* nothing of the record was written */
    assert_int_equal(mc_sink_offset(&f->sink), before);
}

static void test_ram_bad_offset_half_page(void **state)
{
    fx *f = *state;
    ram_part(f, 4096);
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_PAGE, .offset = 0x800, .data = page, .len = 4096},
        &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "0x800");
}

static void test_ram_bad_mem_size_total(void **state)
{
    fx *f = *state;
    ram_part(f, 4096);
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_MEM_SIZE, .offset = 0x1234}, &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "0x1234");
}

static void test_ram_offset_overlaps_flags(void **state)
{
    fx *f = *state;
    /* a 256-byte page: 0x100 is page-aligned but is the COMPRESS flag */
    ram_part(f, 256);
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x100}, &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "overlaps the record flags");
}

static void test_ram_bad_page_size(void **state)
{
    fx *f = *state;
    ram_part(f, 3000);
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){.kind = MC_RAM_EOS},
                              &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "power of two");
}

static void test_ram_page_length(void **state)
{
    fx *f = *state;
    ram_part(f, 4096);
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_PAGE, .offset = 0x1000, .data = page, .len = 100},
        &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "100 bytes");
}

static void test_ram_xbzrle_too_long(void **state)
{
    fx *f = *state;
    static uint8_t big[70000];
    ram_part(f, 4096);
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_XBZRLE, .offset = 0x1000, .encoding = 1,
        .data = big, .len = sizeof(big)}, &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "70000");
}

static void test_ram_names(void **state)
{
    fx *f = *state;
    char name[257];
    memset(name, 'b', 256);
    name[256] = 0;
    ram_part(f, 4096);
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x1000, .block = name}, &f->err),
        MC_ERR_DATA);
    assert_msg_has(f->err, "256 bytes");
    mc_error_free(f->err);
    f->err = NULL;

    mc_ram_block b = {.idstr = name, .used_length = 0x1000};
    FAILS(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_MEM_SIZE, .offset = 0x1000, .blocks = &b,
        .n_blocks = 1}, &f->err), MC_ERR_DATA);
    mc_error_free(f->err);
    f->err = NULL;

    /* 255 bytes is the longest counted string */
    name[255] = 0;
    size_t before = f->sink.len;
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x1000, .block = name}, &f->err));
    assert_int_equal(f->sink.len - before, 8 + 1 + 255 + 1);
    assert_int_equal(f->sink.buf[before + 8], 255);
}

static void test_long_idstr_and_subsection(void **state)
{
    fx *f = *state;
    char name[300];
    memset(name, 'd', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    mc_section_info s = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1, name,
                            0, 1);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    FAILS(mc_visit_start_section(f->v, &s, &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "idstr");
    mc_error_free(f->err);
    f->err = NULL;

    s.idstr = "dev";
    OK(mc_visit_start_section(f->v, &s, &f->err));
    FAILS(mc_visit_start_subsection(f->v, name, 1, &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "subsection name");
}

static void open_dev(fx *f)
{
    mc_section_info s = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1, "dev",
                            0, 1);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &s, &f->err));
}

/* Array element counts, like the rest of the call grammar, are checked by
 * the dispatcher (core/visitor.c, with -DMC_CHECKS=ON). */
static void test_array_too_few(void **state)
{
#ifndef MC_CHECKS
    skip();
#endif
    fx *f = *state;
    open_dev(f);
    OK(mc_visit_start_array(f->v, FLD("arr", NULL), 3, &f->err));
    OK(mc_visit_int(f->v, NULL, MC_WT_U8, 1, &f->err));
    OK(mc_visit_start_struct(f->v, NULL, &f->err));
    OK(mc_visit_int(f->v, FLD("in", NULL), MC_WT_U8, 1, &f->err));
    OK(mc_visit_int(f->v, FLD("in2", NULL), MC_WT_U8, 1, &f->err));
    OK(mc_visit_end_struct(f->v, &f->err));
    FAILS(mc_visit_end_array(f->v, &f->err), MC_ERR_INTERNAL);
    assert_msg_has(f->err, "end_array before all announced array elements");
}

static void test_array_too_many(void **state)
{
#ifndef MC_CHECKS
    skip();
#endif
    fx *f = *state;
    open_dev(f);
    OK(mc_visit_start_array(f->v, FLD("arr", NULL), 1, &f->err));
    OK(mc_visit_packed(f->v, NULL, MC_WT_U8, 2, (const uint8_t *)"ab",
                       &f->err));
    FAILS(mc_visit_bytes(f->v, NULL, (const uint8_t *)"c", 1, &f->err),
          MC_ERR_INTERNAL);
    assert_msg_has(f->err, "value beyond the announced array elements");
}

static void test_int_range(void **state)
{
    fx *f = *state;
    open_dev(f);
    /* the extremes of each signed type pass, sign-extended or not */
    OK(mc_visit_int(f->v, NULL, MC_WT_I8, (uint64_t)-128, &f->err));
    OK(mc_visit_int(f->v, NULL, MC_WT_I8, 0x80, &f->err));
    OK(mc_visit_int(f->v, NULL, MC_WT_I32, (uint64_t)INT32_MIN, &f->err));
    OK(mc_visit_int(f->v, NULL, MC_WT_BOOL, 0, &f->err));
    OK(mc_visit_start_array(f->v, FLD("arr", NULL), 2, &f->err));
    OK(mc_visit_int(f->v, NULL, MC_WT_U16, 0xffff, &f->err));
    FAILS(mc_visit_int(f->v, NULL, MC_WT_U16, 0x10000, &f->err),
          MC_ERR_DATA);
    assert_msg_has(f->err, "0x10000 does not fit a uint16");
    assert_string_equal(f->err->path, "full dev (id 1)/arr[1]");
}

static void test_int_range_signed(void **state)
{
    fx *f = *state;
    open_dev(f);
    FAILS(mc_visit_int(f->v, FLD("s", NULL), MC_WT_I8, (uint64_t)-129,
                       &f->err), MC_ERR_DATA);
    assert_string_equal(f->err->path, "full dev (id 1)/s");
}

static void test_int_range_unsigned(void **state)
{
    fx *f = *state;
    open_dev(f);
    OK(mc_visit_start_struct(f->v, FLD("st", NULL), &f->err));
    FAILS(mc_visit_int(f->v, FLD("u", NULL), MC_WT_U8, (uint64_t)-1,
                       &f->err), MC_ERR_DATA);
    assert_string_equal(f->err->path, "full dev (id 1)/st/u");
}

static void test_configuration_footer(void **state)
{
    fx *f = *state;
    mc_section_info s = sec(MC_VM_CONFIGURATION, MC_SECTION_CONFIG, 0,
                            "configuration", 0, 0);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &s, &f->err));
    FAILS(mc_visit_end_section(f->v, true, &f->err), MC_ERR_DATA);
}

static void test_unknown_section_type(void **state)
{
    fx *f = *state;
    mc_section_info s = sec(0x09, MC_SECTION_VMSTATE, 1, "x", 0, 0);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    FAILS(mc_visit_start_section(f->v, &s, &f->err), MC_ERR_DATA);
    assert_msg_has(f->err, "unknown section type 9");
}

static void test_call_order_errors(void **state)
{
#ifndef MC_CHECKS
    skip();
#endif
    fx *f = *state;
    mc_section_info s = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1, "dev",
                            0, 1);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    FAILS(mc_visit_int(f->v, NULL, MC_WT_U8, 1, &f->err), MC_ERR_INTERNAL);
    mc_error_free(f->err);
    f->err = NULL;
    FAILS(mc_visit_end_struct(f->v, &f->err), MC_ERR_INTERNAL);
    mc_error_free(f->err);
    f->err = NULL;
    FAILS(mc_visit_end_section(f->v, false, &f->err), MC_ERR_INTERNAL);
    mc_error_free(f->err);
    f->err = NULL;
    FAILS(mc_visit_start_stream(f->v, &stream_4k, &f->err), MC_ERR_INTERNAL);
    mc_error_free(f->err);
    f->err = NULL;
    OK(mc_visit_start_section(f->v, &s, &f->err));
    FAILS(mc_visit_eof(f->v, &f->err), MC_ERR_INTERNAL);
    mc_error_free(f->err);
    f->err = NULL;
    FAILS(mc_visit_end_stream(f->v, &f->err), MC_ERR_INTERNAL);
}

static bool failing_write(mc_sink *k, const uint8_t *p, size_t n,
                          mc_error **errp)
{
    mc_error_set(errp, MC_ERR_IO, MC_NO_OFFSET, NULL, "disk full");
    return false;
}

static void test_sink_error(void **state)
{
    fx *f = *state;
    mc_sink k;
    mc_sink_init_fn(&k, failing_write, NULL);
    mc_visitor *v = mc_legacy_writer_new(&k);
    OK(mc_visit_start_stream(v, &stream_4k, &f->err));
    OK(mc_visit_eof(v, &f->err));
    FAILS(mc_visitor_complete(v, &f->err), MC_ERR_IO);
    assert_msg_has(f->err, "disk full");
    mc_visitor_free(v);
    mc_sink_cleanup(&k);
}

/* ---- one call of every kind, for the null visitor and the recorder ---- */

static bool play_sample(mc_visitor *v, mc_error **errp)
{
    static const uint8_t data[4] = {0xde, 0xad, 0xbe, 0xef};
    mc_ram_block b[2] = {
        {.idstr = "pc.ram", .used_length = 0x2000000},
        {.idstr = "vga.vram", .used_length = 0x800000, .has_page_size = true,
         .page_size = 0x200000, .has_addr = true, .addr = 0},
    };
    mc_section_info cfg = sec(MC_VM_CONFIGURATION, MC_SECTION_CONFIG, 0,
                              "configuration", 0, 0);
    mc_section_info dev = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 3,
                              "timer", 0, 2);
    mc_section_info ram = sec(MC_VM_SECTION_START, MC_SECTION_RAM, 2, "ram",
                              0, 4);
    dev.vmsd_name = "timer";
    return mc_visit_start_stream(v, &stream_4k, errp) &&
           mc_visit_start_section(v, &cfg, errp) &&
           mc_visit_int(v, FLD("len", "uint32"), MC_WT_U32, 2, errp) &&
           mc_visit_bytes(v, FLD("name", "buffer"), (const uint8_t *)"pc", 2,
                          errp) &&
           mc_visit_end_section(v, false, errp) &&
           mc_visit_start_section(v, &ram, errp) &&
           mc_visit_ram_record(v, &(mc_ram_record){
               .kind = MC_RAM_MEM_SIZE, .offset = 0x2800000, .blocks = b,
               .n_blocks = 2}, errp) &&
           mc_visit_ram_record(v, &(mc_ram_record){
               .kind = MC_RAM_ZERO, .offset = 0x1000, .block = "pc.ram"},
               errp) &&
           mc_visit_ram_record(v, &(mc_ram_record){
               .kind = MC_RAM_PAGE, .offset = 0x2000, .data = page,
               .len = 4096}, errp) &&
           mc_visit_ram_record(v, &(mc_ram_record){
               .kind = MC_RAM_XBZRLE, .offset = 0x3000, .encoding = 1,
               .data = data, .len = 4}, errp) &&
           mc_visit_ram_record(v, &(mc_ram_record){
               .kind = MC_RAM_COMPRESS, .offset = 0x3000, .block = "pc.ram",
               .data = data, .len = 3}, errp) &&
           mc_visit_ram_record(v, &(mc_ram_record){
               .kind = MC_RAM_MULTIFD_FLUSH}, errp) &&
           mc_visit_ram_record(v, &(mc_ram_record){.kind = MC_RAM_EOS},
                               errp) &&
           mc_visit_end_section(v, true, errp) &&
           mc_visit_start_section(v, &dev, errp) &&
           mc_visit_int(v, FLD("x", "uint32"), MC_WT_U32, 0x10, errp) &&
           mc_visit_int(v, FLD(NULL, NULL), MC_WT_I8, 0xff, errp) &&
           mc_visit_packed(v, FLD("a", NULL), MC_WT_U8, 3,
                           (const uint8_t *)"\x01\x02\x03", errp) &&
           mc_visit_start_struct(v, FLD("s", "struct"), errp) &&
           mc_visit_start_array(v, FLD("arr", "uint16"), 1, errp) &&
           mc_visit_int(v, NULL, MC_WT_U16, 7, errp) &&
           mc_visit_end_array(v, errp) &&
           mc_visit_end_struct(v, errp) &&
           mc_visit_start_subsection(v, "timer/sub", 1, errp) &&
           mc_visit_bytes(v, FLD("b\\n\x01", NULL), data, 2, errp) &&
           mc_visit_end_subsection(v, errp) &&
           mc_visit_end_section(v, true, errp) &&
           mc_visit_command(v, MC_MIG_CMD_PING, data, 4, errp) &&
           mc_visit_start_packaged(v, 1, errp) &&
           mc_visit_eof(v, errp) &&
           mc_visit_end_packaged(v, errp) &&
           mc_visit_eof(v, errp) &&
           mc_visit_vmdesc(v, (const uint8_t *)"{}", 2, errp) &&
           mc_visit_end_stream(v, errp) &&
           mc_visitor_complete(v, errp);
}

static void test_null_visitor(void **state)
{
    fx *f = *state;
    mc_visitor *v = mc_null_visitor_new();
    OK(play_sample(v, &f->err));
#ifdef MC_CHECKS
    /* after a walk, the dispatcher refuses calls out of grammar */
    FAILS(mc_visit_end_struct(v, &f->err), MC_ERR_INTERNAL);
    assert_msg_has(f->err, "end_struct after end_stream");
    mc_error_free(f->err);
    f->err = NULL;
#endif
    mc_visitor_free(v);
    /* the visitor itself enforces nothing: outside a walk (no
     * start_stream) calls out of order succeed */
    v = mc_null_visitor_new();
    OK(mc_visit_end_struct(v, &f->err));
    OK(mc_visit_ram_record(v, &(mc_ram_record){.kind = MC_RAM_ZERO,
                                               .offset = 1}, &f->err));
    mc_visitor_free(v);
    mc_visitor_free(NULL);
}

static void test_recorder(void **state)
{
    fx *f = *state;
    mc_visitor *v = tu_recorder_new();
    OK(play_sample(v, &f->err));
    assert_string_equal(tu_recorder_text(v),
        "start_stream magic=5145564d version=3 page_size=4096 "
        "src=configuration names=1\n"
        "start_section type=7 kind=configuration id=0 idstr=configuration "
        "instance=0 version=0\n"
        "int name=len type=uint32 wt=uint32 raw=0x2\n"
        "bytes name=name type=buffer len=2 hex=7063\n"
        "end_section footer=0\n"
        "start_section type=1 kind=ram id=2 idstr=ram instance=0 version=4\n"
        "ram kind=mem_size total=0x2800000 blocks=pc.ram:0x2000000,"
        "vga.vram:0x800000:ps=0x200000:addr=0x0\n"
        "ram kind=zero offset=0x1000 block=pc.ram fill=0\n"
        "ram kind=page offset=0x2000 block=- len=4096\n"
        "ram kind=xbzrle offset=0x3000 block=- encoding=1 len=4\n"
        "ram kind=compress offset=0x3000 block=pc.ram len=3\n"
        "ram kind=multifd_flush\n"
        "ram kind=eos\n"
        "end_section footer=1\n"
        "start_section type=4 kind=vmstate id=3 idstr=timer instance=0 "
        "version=2 vmsd=timer\n"
        "int name=x type=uint32 wt=uint32 raw=0x10\n"
        "int name=- type=- wt=int8 raw=0xff\n"
        "packed name=a wt=uint8 count=3 hex=010203\n"
        "start_struct name=s type=struct\n"
        "start_array name=arr count=1\n"
        "int name=- type=- wt=uint16 raw=0x7\n"
        "end_array\n"
        "end_struct\n"
        "start_subsection name=timer/sub version=1\n"
        "bytes name=b\\x5cn\\x01 type=- len=2 hex=dead\n"
        "end_subsection\n"
        "end_section footer=1\n"
        "command cmd=2 len=4 hex=deadbeef\n"
        "start_packaged len=1\n"
        "eof\n"
        "end_packaged\n"
        "eof\n"
        "vmdesc len=2\n"
        "end_stream\n");
    mc_visitor_free(v);
}

/* The sample through the writer: spot-check the size and the tail. */
static void test_sample_through_writer(void **state)
{
    fx *f = *state;
    OK(play_sample(f->v, &f->err));
    size_t n = f->sink.len;
    assert_true(n > 4096);
    assert_memory_equal(f->sink.buf + n - 8,
                        "\x00\x06\x00\x00\x00\x02{}", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_header_eof_vmdesc),
        T(test_configuration),
        T(test_full_section_values),
        T(test_start_part_end),
        T(test_ram_records),
        T(test_commands_packaged),
        T(test_packaged_length_mismatch),
        T(test_packaged_too_long),
        T(test_ram_bad_offset),
        T(test_ram_bad_offset_half_page),
        T(test_ram_bad_mem_size_total),
        T(test_ram_offset_overlaps_flags),
        T(test_ram_bad_page_size),
        T(test_ram_page_length),
        T(test_ram_xbzrle_too_long),
        T(test_ram_names),
        T(test_long_idstr_and_subsection),
        T(test_array_too_few),
        T(test_array_too_many),
        T(test_int_range),
        T(test_int_range_signed),
        T(test_int_range_unsigned),
        T(test_configuration_footer),
        T(test_unknown_section_type),
        T(test_call_order_errors),
        T(test_sink_error),
        T(test_null_visitor),
        T(test_recorder),
        T(test_sample_through_writer),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
