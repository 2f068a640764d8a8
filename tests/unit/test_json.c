/*
 * JSON dump visitor: feed call sequences, parse the output back with
 * jansson and check the values; check the exact text where the numbers
 * are beyond what jansson holds, and for the layout.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "core/stream.h"
#include "core/util.h"
#include "testutil.h"
#include "visit/visitors.h"

typedef struct fx {
    mc_sink sink;
    mc_visitor *v;
    mc_error *err;
    char *text;
    json_t *doc;
} fx;

static void fx_open(fx *f, bool ram_records)
{
    mc_json_opts o = {.ram_records = ram_records};
    mc_visitor_free(f->v);
    mc_sink_cleanup(&f->sink);
    mc_sink_init_mem(&f->sink);
    f->v = mc_json_visitor_new(&f->sink, &o);
}

static int setup(void **state)
{
    fx *f = mc_calloc(1, sizeof(*f));
    fx_open(f, false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    mc_visitor_free(f->v);
    mc_sink_cleanup(&f->sink);
    mc_error_free(f->err);
    free(f->text);
    json_decref(f->doc);
    free(f);
    return 0;
}

#define OK(call)                                                        \
    do {                                                                \
        if (!(call)) {                                                  \
            fail_msg("%s failed: %s", #call,                            \
                     f->err ? f->err->msg : "(no error set)");          \
        }                                                               \
    } while (0)

#define FLD(n, t) (&(mc_field){(n), (t)})

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

/* End the stream, keep the text, parse it with the given jansson flags. */
static void finish(fx *f, size_t flags)
{
    OK(mc_visit_end_stream(f->v, &f->err));
    OK(mc_visitor_complete(f->v, &f->err));
    f->text = mc_strndup((const char *)f->sink.buf, f->sink.len);
    json_error_t je;
    f->doc = json_loadb(f->text, f->sink.len, flags, &je);
    if (!f->doc) {
        fail_msg("invalid JSON: %s (line %d, column %d)\n%s", je.text,
                 je.line, je.column, f->text);
    }
}

/* Walk "items/2/fields/0/value": array indexes or object keys. */
static json_t *jp(json_t *j, const char *path)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        j = json_is_array(j) ? json_array_get(j, strtoul(t, NULL, 10))
                             : json_object_get(j, t);
        if (!j) {
            fail_msg("%s: no \"%s\"", path, t);
        }
    }
    return j;
}

static bool jhas(json_t *j, const char *path, const char *key)
{
    return json_object_get(jp(j, path), key) != NULL;
}

#define INT(path, v) assert_int_equal(json_integer_value(jp(f->doc, path)), (v))
#define STR(path, s) assert_string_equal(json_string_value(jp(f->doc, path)), (s))
#define TRUE(path) assert_true(json_is_true(jp(f->doc, path)))
#define FALSE(path) assert_true(json_is_false(jp(f->doc, path)))
#define SIZE(path, n) assert_int_equal(json_array_size(jp(f->doc, path)), (n))

static void assert_text_has(fx *f, const char *needle)
{
    if (!strstr(f->text, needle)) {
        fail_msg("output lacks <%s>:\n%s", needle, f->text);
    }
}

static uint8_t page[4096];

static void test_document(void **state)
{
    fx *f = *state;
    fx_open(f, true);
    const uint8_t buf[3] = {1, 2, 0xff};
    const uint8_t p32[12] = {0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff};
    const uint8_t p16[4] = {0xff, 0xff, 0x00, 0x01};
    uint8_t advise[16] = {0};
    advise[15] = 0x10;
    mc_ram_block blocks[2] = {
        {.idstr = "pc.ram", .used_length = 0x2000000},
        {.idstr = "vga.vram", .used_length = 0x1000000,
         .has_page_size = true, .page_size = 0x200000},
    };
    mc_section_info cfg = sec(MC_VM_CONFIGURATION, MC_SECTION_CONFIG, 0,
                              "configuration", 0, 0);
    mc_section_info dev = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 3,
                              "timer", 0, 2);
    dev.vmsd_name = "timer";
    mc_section_info ram = sec(MC_VM_SECTION_START, MC_SECTION_RAM, 2, "ram",
                              0, 4);
    mc_section_info apic = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 7,
                               "apic", 0, 3);

    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    /* items/0 */
    OK(mc_visit_start_section(f->v, &cfg, &f->err));
    OK(mc_visit_int(f->v, FLD("len", "uint32"), MC_WT_U32, 13, &f->err));
    OK(mc_visit_bytes(f->v, FLD("name", "buffer"),
                      (const uint8_t *)"pc-i440fx-7.2", 13, &f->err));
    OK(mc_visit_start_subsection(f->v, "configuration/target-page-bits", 1,
                                 &f->err));
    OK(mc_visit_int(f->v, FLD("target_page_bits", "uint32"), MC_WT_U32, 12,
                    &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    /* items/1 */
    OK(mc_visit_start_section(f->v, &dev, &f->err));
    OK(mc_visit_int(f->v, FLD("u64", "uint64"), MC_WT_U64, 0x123456789ull,
                    &f->err));
    OK(mc_visit_int(f->v, FLD("neg", "int32"), MC_WT_I32, 0xfffffffe,
                    &f->err));
    OK(mc_visit_int(f->v, FLD("flag", "bool"), MC_WT_BOOL, 1, &f->err));
    OK(mc_visit_int(f->v, FLD(NULL, NULL), MC_WT_U16, 7, &f->err));
    OK(mc_visit_int(f->v, FLD("expire", "timer"), MC_WT_I64, (uint64_t)-5,
                    &f->err));
    OK(mc_visit_bytes(f->v, FLD("buf", NULL), buf, 3, &f->err));
    OK(mc_visit_start_struct(f->v, FLD("regs", NULL), &f->err));
    OK(mc_visit_int(f->v, FLD("a", NULL), MC_WT_U8, 1, &f->err));
    OK(mc_visit_start_subsection(f->v, "regs/x", 1, &f->err));
    OK(mc_visit_int(f->v, FLD("b", NULL), MC_WT_U8, 2, &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_end_struct(f->v, &f->err));
    OK(mc_visit_start_array(f->v, FLD("arr", "uint8"), 2, &f->err));
    OK(mc_visit_int(f->v, NULL, MC_WT_U8, 5, &f->err));
    OK(mc_visit_start_struct(f->v, NULL, &f->err));
    OK(mc_visit_end_struct(f->v, &f->err));
    OK(mc_visit_end_array(f->v, &f->err));
    OK(mc_visit_packed(f->v, FLD("p", "uint32"), MC_WT_U32, 3, p32, &f->err));
    OK(mc_visit_packed(f->v, FLD("q", NULL), MC_WT_I16, 2, p16, &f->err));
    OK(mc_visit_start_subsection(f->v, "timer/sub", 3, &f->err));
    OK(mc_visit_start_subsection(f->v, "timer/sub/deep", 1, &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));
    /* items/2 */
    OK(mc_visit_start_section(f->v, &ram, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_MEM_SIZE, .offset = 0x3000000, .blocks = blocks,
        .n_blocks = 2}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0, .block = "pc.ram"}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x1000}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_PAGE, .offset = 0x2000, .data = page, .len = 4096},
        &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_XBZRLE, .offset = 0x3000, .block = "vga.vram",
        .encoding = 1, .data = page, .len = 10}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_COMPRESS, .offset = 0x4000, .data = page, .len = 20},
        &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_MULTIFD_FLUSH}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){.kind = MC_RAM_EOS},
                           &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));
    /* items/3 .. 6 */
    OK(mc_visit_command(f->v, MC_MIG_CMD_POSTCOPY_ADVISE, advise, 16,
                        &f->err));
    OK(mc_visit_start_packaged(f->v, 30, &f->err));
    OK(mc_visit_start_section(f->v, &apic, &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    OK(mc_visit_end_packaged(f->v, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    OK(mc_visit_vmdesc(f->v, (const uint8_t *)"{}", 2, &f->err));
    finish(f, 0);

    STR("magic", "QEVM");
    INT("file_version", 3);
    INT("page_size", 4096);
    STR("page_size_source", "configuration");
    TRUE("names");
    SIZE("items", 7);

    STR("items/0/item", "section");
    STR("items/0/type", "configuration");
    assert_false(jhas(f->doc, "items/0", "section_id"));
    assert_false(jhas(f->doc, "items/0", "instance_id"));
    STR("items/0/idstr", "configuration");
    STR("items/0/kind", "configuration");
    STR("items/0/fields/0/name", "len");
    STR("items/0/fields/0/type", "uint32");
    INT("items/0/fields/0/value", 13);
    STR("items/0/fields/1/type", "buffer");
    INT("items/0/fields/1/length", 13);
    STR("items/0/fields/1/hex", "70632d6934343066782d372e32");
    STR("items/0/subsections/0/name", "configuration/target-page-bits");
    INT("items/0/subsections/0/version_id", 1);
    INT("items/0/subsections/0/fields/0/value", 12);
    FALSE("items/0/footer");

    STR("items/1/type", "full");
    INT("items/1/section_id", 3);
    STR("items/1/idstr", "timer");
    INT("items/1/instance_id", 0);
    INT("items/1/version_id", 2);
    STR("items/1/vmsd_name", "timer");
    STR("items/1/kind", "vmstate");
    INT("items/1/fields/0/value", 0x123456789ll);
    INT("items/1/fields/1/value", -2);
    TRUE("items/1/fields/2/value");
    assert_false(jhas(f->doc, "items/1/fields/3", "name"));
    STR("items/1/fields/3/type", "uint16");
    INT("items/1/fields/3/value", 7);
    STR("items/1/fields/4/type", "timer");
    STR("items/1/fields/4/wire_type", "int64");
    INT("items/1/fields/4/value", -5);
    assert_false(jhas(f->doc, "items/1/fields/0", "wire_type"));
    STR("items/1/fields/5/type", "bytes");
    STR("items/1/fields/5/hex", "0102ff");
    STR("items/1/fields/6/name", "regs");
    STR("items/1/fields/6/type", "struct");
    INT("items/1/fields/6/fields/0/value", 1);
    STR("items/1/fields/6/subsections/0/name", "regs/x");
    INT("items/1/fields/6/subsections/0/fields/0/value", 2);
    STR("items/1/fields/7/type", "uint8");
    INT("items/1/fields/7/count", 2);
    SIZE("items/1/fields/7/array", 2);
    assert_false(jhas(f->doc, "items/1/fields/7/array/0", "name"));
    INT("items/1/fields/7/array/0/value", 5);
    STR("items/1/fields/7/array/1/type", "struct");
    SIZE("items/1/fields/7/array/1/fields", 0);
    assert_false(jhas(f->doc, "items/1/fields/7/array/1", "subsections"));
    SIZE("items/1/fields/8/packed", 3);
    INT("items/1/fields/8/packed/2", 4294967295ll);
    STR("items/1/fields/9/type", "int16");
    INT("items/1/fields/9/packed/0", -1);
    INT("items/1/fields/9/packed/1", 1);
    STR("items/1/subsections/0/name", "timer/sub");
    INT("items/1/subsections/0/version_id", 3);
    SIZE("items/1/subsections/0/fields", 0);
    STR("items/1/subsections/0/subsections/0/name", "timer/sub/deep");
    TRUE("items/1/footer");

    STR("items/2/kind", "ram");
    assert_false(jhas(f->doc, "items/2", "fields"));
    INT("items/2/ram/records/mem_size", 1);
    INT("items/2/ram/records/zero", 2);
    INT("items/2/ram/records/page", 1);
    INT("items/2/ram/records/xbzrle", 1);
    INT("items/2/ram/records/compress", 1);
    INT("items/2/ram/records/multifd_flush", 1);
    INT("items/2/ram/records/eos", 1);
    /* legacy bytes: 48 + 16 + 9 + 4104 + 30 + 32 + 8 + 8 */
    INT("items/2/ram/bytes", 4255);
    SIZE("items/2/ram/records_list", 8);
    STR("items/2/ram/records_list/0/kind", "mem_size");
    INT("items/2/ram/records_list/0/total", 0x3000000);
    STR("items/2/ram/records_list/0/blocks/1/idstr", "vga.vram");
    INT("items/2/ram/records_list/0/blocks/1/used_length", 0x1000000);
    INT("items/2/ram/records_list/0/blocks/1/page_size", 0x200000);
    assert_false(jhas(f->doc, "items/2/ram/records_list/0/blocks/1", "addr"));
    assert_false(jhas(f->doc, "items/2/ram/records_list/0/blocks/0",
                      "page_size"));
    STR("items/2/ram/records_list/1/kind", "zero");
    STR("items/2/ram/records_list/1/block", "pc.ram");
    INT("items/2/ram/records_list/1/offset", 0);
    INT("items/2/ram/records_list/1/fill", 0);
    assert_false(jhas(f->doc, "items/2/ram/records_list/2", "block"));
    INT("items/2/ram/records_list/2/offset", 4096);
    STR("items/2/ram/records_list/3/kind", "page");
    INT("items/2/ram/records_list/3/length", 4096);
    STR("items/2/ram/records_list/4/block", "vga.vram");
    INT("items/2/ram/records_list/4/encoding", 1);
    INT("items/2/ram/records_list/4/length", 10);
    STR("items/2/ram/records_list/5/kind", "compress");
    INT("items/2/ram/records_list/5/length", 20);
    STR("items/2/ram/records_list/6/kind", "multifd_flush");
    STR("items/2/ram/records_list/7/kind", "eos");
    assert_false(jhas(f->doc, "items/2/ram/records_list/7", "offset"));

    STR("items/3/item", "command");
    INT("items/3/cmd", 3);
    STR("items/3/name", "POSTCOPY_ADVISE");
    INT("items/3/length", 16);
    STR("items/3/hex", "00000000000000000000000000000010");
    STR("items/4/item", "packaged");
    INT("items/4/length", 30);
    STR("items/4/items/0/idstr", "apic");
    STR("items/4/items/1/item", "eof");
    STR("items/5/item", "eof");
    STR("items/6/item", "vmdesc");
    INT("items/6/length", 2);

    /* the summary: CONTINUE records count for the last named block */
    SIZE("ram_summary/blocks", 2);
    STR("ram_summary/blocks/0/name", "pc.ram");
    INT("ram_summary/blocks/0/used_length", 0x2000000);
    INT("ram_summary/blocks/0/records/zero", 2);
    INT("ram_summary/blocks/0/records/page", 1);
    assert_false(jhas(f->doc, "ram_summary/blocks/0/records", "xbzrle"));
    INT("ram_summary/blocks/0/data_bytes", 4096);
    STR("ram_summary/blocks/1/name", "vga.vram");
    INT("ram_summary/blocks/1/used_length", 0x1000000);
    INT("ram_summary/blocks/1/records/xbzrle", 1);
    INT("ram_summary/blocks/1/records/compress", 1);
    INT("ram_summary/blocks/1/data_bytes", 30);
    INT("ram_summary/records/zero", 2);
    INT("ram_summary/records/eos", 1);
    INT("ram_summary/records/mem_size", 1);
}

static void test_integers_exact(void **state)
{
    fx *f = *state;
    mc_section_info dev = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1,
                              "dev", 0, 1);
    const uint8_t pmax[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t pmin[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &dev, &f->err));
    OK(mc_visit_int(f->v, FLD("umax", "uint64"), MC_WT_U64, UINT64_MAX,
                    &f->err));
    OK(mc_visit_int(f->v, FLD("minus1", "int64"), MC_WT_I64, UINT64_MAX,
                    &f->err));
    OK(mc_visit_int(f->v, FLD("i64min", "int64"), MC_WT_I64,
                    0x8000000000000000ull, &f->err));
    OK(mc_visit_int(f->v, FLD("i8", "int8"), MC_WT_I8, 0x80, &f->err));
    OK(mc_visit_packed(f->v, FLD("pu", NULL), MC_WT_U64, 1, pmax, &f->err));
    OK(mc_visit_packed(f->v, FLD("ps", NULL), MC_WT_I64, 1, pmin, &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    /* jansson keeps integers in a long long: read them as reals to check
     * the document, and the text for the exact digits */
    finish(f, JSON_DECODE_INT_AS_REAL);
    assert_text_has(f, "\"name\": \"umax\",\n          \"type\": \"uint64\",\n"
                       "          \"value\": 18446744073709551615\n");
    assert_text_has(f, "\"name\": \"minus1\",\n          \"type\": \"int64\",\n"
                       "          \"value\": -1\n");
    assert_text_has(f, "\"value\": -9223372036854775808\n");
    assert_text_has(f, "\"value\": -128\n");
    assert_text_has(f, "\"packed\": [18446744073709551615]");
    assert_text_has(f, "\"packed\": [-9223372036854775808]");
    assert_null(strchr(f->text, '.')); /* no floating point */
    assert_true(json_real_value(jp(f->doc, "items/0/fields/0/value")) >
                1.8e19);
}

static void test_escaping(void **state)
{
    fx *f = *state;
    mc_section_info dev = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1,
                              "dev\tice\x01", 0, 1);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &dev, &f->err));
    OK(mc_visit_int(f->v, FLD("a\"b\nc\xff" "d", NULL), MC_WT_U8, 1,
                    &f->err));
    /* valid UTF-8 (2, 3, 4 bytes) is copied; backslash and DEL escaped */
    OK(mc_visit_int(f->v, FLD("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\\x7f",
                              NULL), MC_WT_U8, 2, &f->err));
    /* not UTF-8: overlong, surrogate, truncated, above U+10FFFF */
    OK(mc_visit_int(f->v, FLD("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82",
                              NULL), MC_WT_U8, 3, &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    finish(f, 0);

    assert_text_has(f, "\"idstr\": \"dev\\tice\\u0001\"");
    assert_text_has(f, "\"name\": \"a\\\"b\\nc\\u00ffd\"");
    assert_text_has(f, "\"name\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                       "\\\\\\u007f\"");
    assert_text_has(f, "\"name\": \"\\u00c0\\u00af|\\u00ed\\u00a0\\u0080|"
                       "\\u00f4\\u0090\\u0080\\u0080|\\u00e2\\u0082\"");
    STR("items/0/idstr", "dev\tice\x01");
    /* \u00ff reads back as U+00FF */
    STR("items/0/fields/0/name", "a\"b\nc\xc3\xbf" "d");
    STR("items/0/fields/1/name", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\\x7f");
}

static void test_magic_not_text(void **state)
{
    fx *f = *state;
    mc_stream_info si = stream_4k;
    si.magic = 0x00ff4142;
    si.page_size_source = MC_PAGE_SIZE_DEFAULT;
    si.names = false;
    OK(mc_visit_start_stream(f->v, &si, &f->err));
    finish(f, JSON_ALLOW_NUL);
    assert_text_has(f, "\"magic\": \"\\u0000\\u00ffAB\"");
    STR("page_size_source", "default");
    FALSE("names");
}

/* The exact layout: two-space indentation, packed numbers on one line. */
static void test_layout(void **state)
{
    fx *f = *state;
    mc_section_info dev = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1,
                              "dev", 0, 1);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &dev, &f->err));
    OK(mc_visit_packed(f->v, FLD("p", NULL), MC_WT_U8, 2,
                       (const uint8_t *)"\x01\x02", &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    OK(mc_visit_start_section(f->v, &dev, &f->err));
    OK(mc_visit_end_section(f->v, true, &f->err));
    OK(mc_visit_eof(f->v, &f->err));
    finish(f, 0);
    assert_string_equal(f->text,
        "{\n"
        "  \"magic\": \"QEVM\",\n"
        "  \"file_version\": 3,\n"
        "  \"page_size\": 4096,\n"
        "  \"page_size_source\": \"configuration\",\n"
        "  \"names\": true,\n"
        "  \"items\": [\n"
        "    {\n"
        "      \"item\": \"section\",\n"
        "      \"type\": \"full\",\n"
        "      \"section_id\": 1,\n"
        "      \"idstr\": \"dev\",\n"
        "      \"instance_id\": 0,\n"
        "      \"version_id\": 1,\n"
        "      \"kind\": \"vmstate\",\n"
        "      \"fields\": [\n"
        "        {\n"
        "          \"name\": \"p\",\n"
        "          \"type\": \"uint8\",\n"
        "          \"packed\": [1, 2]\n"
        "        }\n"
        "      ],\n"
        "      \"footer\": false\n"
        "    },\n"
        "    {\n"
        "      \"item\": \"section\",\n"
        "      \"type\": \"full\",\n"
        "      \"section_id\": 1,\n"
        "      \"idstr\": \"dev\",\n"
        "      \"instance_id\": 0,\n"
        "      \"version_id\": 1,\n"
        "      \"kind\": \"vmstate\",\n"
        "      \"fields\": [],\n"
        "      \"footer\": true\n"
        "    },\n"
        "    {\n"
        "      \"item\": \"eof\"\n"
        "    }\n"
        "  ],\n"
        "  \"ram_summary\": {\n"
        "    \"blocks\": [],\n"
        "    \"records\": {}\n"
        "  }\n"
        "}\n");
}

static void test_ram_without_list(void **state)
{
    fx *f = *state;
    mc_section_info ram = sec(MC_VM_SECTION_START, MC_SECTION_RAM, 2, "ram",
                              0, 4);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &ram, &f->err));
    /* CONTINUE before any named record in the chain */
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x1000}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_PAGE, .offset = 0x2000, .block = "pc.ram",
        .data = page, .len = 4096}, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){.kind = MC_RAM_EOS},
                           &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    /* a PART continues the chain: CONTINUE means pc.ram */
    ram = sec(MC_VM_SECTION_PART, MC_SECTION_RAM, 2, "ram", 0, 0);
    OK(mc_visit_start_section(f->v, &ram, &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_PAGE, .offset = 0x3000, .data = page, .len = 4096},
        &f->err));
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){.kind = MC_RAM_EOS,
                                                  .offset = 0x5000}, &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    finish(f, 0);

    STR("items/0/type", "start");
    assert_false(jhas(f->doc, "items/0/ram", "records_list"));
    INT("items/0/ram/records/zero", 1);
    INT("items/0/ram/bytes", 9 + 8 + 7 + 4096 + 8);
    STR("items/1/type", "part");
    INT("items/1/section_id", 2);
    assert_false(jhas(f->doc, "items/1", "instance_id"));
    assert_false(jhas(f->doc, "items/1", "version_id"));
    INT("items/1/ram/records/page", 1);
    assert_false(jhas(f->doc, "items/1/ram/records", "zero"));

    SIZE("ram_summary/blocks", 2);
    STR("ram_summary/blocks/0/name", "pc.ram");
    assert_false(jhas(f->doc, "ram_summary/blocks/0", "used_length"));
    INT("ram_summary/blocks/0/records/page", 2);
    INT("ram_summary/blocks/0/data_bytes", 8192);
    STR("ram_summary/blocks/1/name", "(unknown)");
    INT("ram_summary/blocks/1/records/zero", 1);
    INT("ram_summary/records/page", 2);
    INT("ram_summary/records/eos", 2);
}

static void test_block_cap(void **state)
{
    fx *f = *state;
    mc_section_info ram = sec(MC_VM_SECTION_START, MC_SECTION_RAM, 2, "ram",
                              0, 4);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &ram, &f->err));
    for (unsigned i = 0; i < 4100; i++) {
        char name[32];
        snprintf(name, sizeof(name), "blk%u", i);
        OK(mc_visit_ram_record(f->v, &(mc_ram_record){
            .kind = MC_RAM_ZERO, .offset = 0, .block = name}, &f->err));
        /* the same name again finds the same summary */
        OK(mc_visit_ram_record(f->v, &(mc_ram_record){
            .kind = MC_RAM_ZERO, .offset = 0x1000, .block = name}, &f->err));
    }
    /* CONTINUE after an overflowing block still goes to "(other)" */
    OK(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_ZERO, .offset = 0x2000}, &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    finish(f, 0);
    SIZE("ram_summary/blocks", 4097);
    STR("ram_summary/blocks/0/name", "blk0");
    INT("ram_summary/blocks/0/records/zero", 2);
    STR("ram_summary/blocks/4095/name", "blk4095");
    INT("ram_summary/blocks/4095/records/zero", 2);
    STR("ram_summary/blocks/4096/name", "(other)");
    INT("ram_summary/blocks/4096/records/zero", 9);
    INT("ram_summary/records/zero", 8201);
}

static void test_large_bytes(void **state)
{
    fx *f = *state;
    size_t n = 70000;
    uint8_t *big = mc_malloc(n);
    for (size_t i = 0; i < n; i++) {
        big[i] = (uint8_t)(i % 251);
    }
    mc_section_info dev = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1,
                              "dev", 0, 1);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &dev, &f->err));
    OK(mc_visit_bytes(f->v, FLD("big", "buffer"), big, n, &f->err));
    OK(mc_visit_packed(f->v, FLD("pk", NULL), MC_WT_U8, (uint32_t)n, big,
                       &f->err));
    OK(mc_visit_end_section(f->v, false, &f->err));
    finish(f, 0);
    INT("items/0/fields/0/length", n);
    const char *hex = json_string_value(jp(f->doc, "items/0/fields/0/hex"));
    assert_int_equal(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        sscanf(hex + 2 * i, "%2x", &b);
        if (b != big[i]) {
            fail_msg("hex byte %zu is %02x, not %02x", i, b, big[i]);
        }
    }
    SIZE("items/0/fields/1/packed", n);
    INT("items/0/fields/1/packed/69999", 69999 % 251);
    free(big);
}

/* Calls out of grammar: the dispatcher refuses them (core/visitor.c, with
 * -DMC_CHECKS=ON) before the visitor sees them. */
static void test_errors(void **state)
{
#ifndef MC_CHECKS
    skip();
#endif
    fx *f = *state;
    mc_section_info dev = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1,
                              "dev", 0, 1);
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &dev, &f->err));
    assert_false(mc_visit_ram_record(f->v, &(mc_ram_record){
        .kind = MC_RAM_EOS}, &f->err));
    assert_int_equal(f->err->cls, MC_ERR_INTERNAL);
    assert_non_null(strstr(f->err->msg, "ram_record outside a RAM section"));

    fx_open(f, false);
    mc_error_free(f->err);
    f->err = NULL;
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    OK(mc_visit_start_section(f->v, &dev, &f->err));
    OK(mc_visit_start_subsection(f->v, "dev/s", 1, &f->err));
    OK(mc_visit_end_subsection(f->v, &f->err));
    assert_false(mc_visit_int(f->v, FLD("late", NULL), MC_WT_U8, 1,
                              &f->err));
    assert_int_equal(f->err->cls, MC_ERR_INTERNAL);
    assert_non_null(strstr(f->err->msg, "after a subsection"));

    fx_open(f, false);
    mc_error_free(f->err);
    f->err = NULL;
    OK(mc_visit_start_stream(f->v, &stream_4k, &f->err));
    assert_false(mc_visit_end_struct(f->v, &f->err));
    assert_int_equal(f->err->cls, MC_ERR_INTERNAL);
}

static bool failing_write(mc_sink *k, const uint8_t *p, size_t n,
                          mc_error **errp)
{
    mc_error_set(errp, MC_ERR_IO, MC_NO_OFFSET, NULL, "broken pipe");
    return false;
}

static void test_sink_error(void **state)
{
    fx *f = *state;
    mc_sink k;
    mc_sink_init_fn(&k, failing_write, NULL);
    mc_visitor *v = mc_json_visitor_new(&k, NULL);
    mc_section_info dev = sec(MC_VM_SECTION_FULL, MC_SECTION_VMSTATE, 1,
                              "dev", 0, 1);
    /* 2 MiB of hex overflows the 1 MiB sink buffer: the write fails in
     * the callback, which reports it */
    size_t n = 1u << 20;
    uint8_t *big = mc_calloc(1, n);
    OK(mc_visit_start_stream(v, &stream_4k, &f->err));
    OK(mc_visit_start_section(v, &dev, &f->err));
    assert_false(mc_visit_bytes(v, NULL, big, n, &f->err));
    assert_non_null(f->err);
    assert_int_equal(f->err->cls, MC_ERR_IO);
    assert_non_null(strstr(f->err->msg, "broken pipe"));
    mc_visitor_free(v);
    mc_sink_cleanup(&k);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_document),
        T(test_integers_exact),
        T(test_escaping),
        T(test_magic_not_text),
        T(test_layout),
        T(test_ram_without_list),
        T(test_block_cap),
        T(test_large_bytes),
        T(test_errors),
        T(test_sink_error),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
