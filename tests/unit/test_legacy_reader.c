/*
 * The legacy stream reader: golden streams built byte by byte (annotated
 * per field), the exact visitor call sequence they produce, every
 * truncation failing cleanly, damaged input, and real QEMU 7.2 fixtures.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/stream.h"
#include "desc/tables.h"
#include "format/readers.h"
#include "recorder.h"
#include "testutil.h"
#include "visit/visitors.h"

#define PAGE 8192 /* the golden stream says target-page-bits 13 */

static const char golden_vmdesc[] =
    "{\"page_size\":8192,\"devices\":["
    "{\"name\":\"timer\",\"instance_id\":0,\"vmsd_name\":\"timer\",\"version\":2,"
    "\"fields\":[{\"name\":\"cpu_ticks_offset\",\"type\":\"int64\",\"size\":8},"
    "{\"name\":\"cpu_clock_offset\",\"type\":\"int64\",\"size\":8}],"
    "\"subsections\":[{\"vmsd_name\":\"timer/extra\",\"version\":1,"
    "\"fields\":[{\"name\":\"v\",\"type\":\"uint32\",\"size\":4}]}]},"
    "{\"name\":\"dev\",\"instance_id\":0,\"vmsd_name\":\"dev\",\"version\":1,"
    "\"fields\":["
    "{\"name\":\"on\",\"type\":\"bool\",\"size\":1},"
    "{\"name\":\"w\",\"type\":\"uint16\",\"size\":2},"
    "{\"name\":\"arr\",\"array_len\":3,\"type\":\"uint8\",\"size\":1},"
    "{\"name\":\"s\",\"type\":\"struct\",\"struct\":{\"vmsd_name\":\"s\",\"version\":1,"
    "\"fields\":[{\"name\":\"x\",\"type\":\"uint32\",\"size\":4}]},\"size\":4},"
    "{\"name\":\"e\",\"index\":0,\"type\":\"uint16\",\"size\":2},"
    "{\"name\":\"e\",\"index\":1,\"type\":\"uint16\",\"size\":2},"
    "{\"name\":\"buf\",\"type\":\"buffer\",\"size\":4},"
    "{\"name\":\"t\",\"type\":\"timer\",\"size\":8},"
    "{\"name\":\"cfg\",\"type\":\"pci config\",\"size\":3}]}]}";

/* The device section "dev" (FULL, id 2) as the vmdesc above describes it;
 * struct_size lets a test make the vmdesc lie about "s". */
static void put_dev_section(tu_buf *b)
{
    tu_u8(b, MC_VM_SECTION_FULL);
    tu_be32(b, 2);              /* section id */
    tu_str(b, "dev");           /* idstr */
    tu_be32(b, 0);              /* instance id */
    tu_be32(b, 1);              /* version id */
    tu_u8(b, 1);                /* on: bool */
    tu_be16(b, 0x1234);         /* w: uint16 */
    tu_put(b, "\x01\x02\x03", 3); /* arr[3]: uint8, packed */
    tu_be32(b, 0xcafe);         /* s.x: uint32 */
    tu_be16(b, 7);              /* e[0]: uint16 */
    tu_be16(b, 8);              /* e[1]: uint16 */
    tu_put(b, "abcd", 4);       /* buf: buffer[4] */
    tu_be64(b, UINT64_MAX);     /* t: timer, -1 = not armed */
    tu_put(b, "\xaa\xbb\xcc", 3); /* cfg: "pci config", 3 bytes opaque */
    tu_u8(b, MC_VM_SECTION_FOOTER);
    tu_be32(b, 2);
}

static void put_golden(tu_buf *b, const char *vmdesc)
{
    tu_be32(b, MC_VM_FILE_MAGIC);
    tu_be32(b, MC_VM_FILE_VERSION);
    /* configuration */
    tu_u8(b, MC_VM_CONFIGURATION);
    tu_be32(b, 4);              /* len */
    tu_put(b, "pc-x", 4);       /* name */
    tu_u8(b, MC_VM_SUBSECTION);
    tu_str(b, "configuration/target-page-bits");
    tu_be32(b, 1);              /* subsection version */
    tu_be32(b, 13);             /* target_page_bits: 8 KiB pages */
    /* ram START, id 0 */
    tu_u8(b, MC_VM_SECTION_START);
    tu_be32(b, 0);
    tu_str(b, "ram");
    tu_be32(b, 0);              /* instance */
    tu_be32(b, 4);              /* version */
    tu_be64(b, 0x4000 | MC_RAM_SAVE_FLAG_MEM_SIZE); /* total 16 KiB */
    tu_str(b, "a");
    tu_be64(b, 0x2000);         /* used_length */
    tu_str(b, "b");
    tu_be64(b, 0x2000);
    tu_be64(b, MC_RAM_SAVE_FLAG_EOS);
    tu_u8(b, MC_VM_SECTION_FOOTER);
    tu_be32(b, 0);
    /* ram PART */
    tu_u8(b, MC_VM_SECTION_PART);
    tu_be32(b, 0);
    tu_be64(b, 0 | MC_RAM_SAVE_FLAG_ZERO); /* zero page at 0 of "a" */
    tu_str(b, "a");
    tu_u8(b, 0);                /* fill */
    tu_be64(b, 0 | MC_RAM_SAVE_FLAG_PAGE); /* page at 0 of "b" */
    tu_str(b, "b");
    for (int i = 0; i < PAGE; i++) {
        tu_u8(b, (uint8_t)i);
    }
    tu_be64(b, 0 | MC_RAM_SAVE_FLAG_PAGE | MC_RAM_SAVE_FLAG_CONTINUE);
    for (int i = 0; i < PAGE; i++) {
        tu_u8(b, 0x5a);
    }
    tu_be64(b, MC_RAM_SAVE_FLAG_EOS);
    tu_u8(b, MC_VM_SECTION_FOOTER);
    tu_be32(b, 0);
    /* ram END */
    tu_u8(b, MC_VM_SECTION_END);
    tu_be32(b, 0);
    tu_be64(b, MC_RAM_SAVE_FLAG_MULTIFD_FLUSH);
    tu_be64(b, MC_RAM_SAVE_FLAG_EOS);
    tu_u8(b, MC_VM_SECTION_FOOTER);
    tu_be32(b, 0);
    /* timer FULL, id 1 */
    tu_u8(b, MC_VM_SECTION_FULL);
    tu_be32(b, 1);
    tu_str(b, "timer");
    tu_be32(b, 0);
    tu_be32(b, 2);
    tu_be64(b, (uint64_t)-5);   /* cpu_ticks_offset */
    tu_be64(b, 7);              /* cpu_clock_offset */
    tu_u8(b, MC_VM_SUBSECTION);
    tu_str(b, "timer/extra");
    tu_be32(b, 1);              /* subsection version */
    tu_be32(b, 0xdeadbeef);     /* v */
    tu_u8(b, MC_VM_SECTION_FOOTER);
    tu_be32(b, 1);
    put_dev_section(b);
    /* command PING 5 */
    tu_u8(b, MC_VM_COMMAND);
    tu_be16(b, MC_MIG_CMD_PING);
    tu_be16(b, 4);
    tu_be32(b, 5);
    tu_u8(b, MC_VM_EOF);
    tu_u8(b, MC_VM_VMDESCRIPTION);
    tu_be32(b, (uint32_t)strlen(vmdesc));
    tu_put(b, vmdesc, strlen(vmdesc));
}

static const char golden_calls[] =
    "start_stream magic=5145564d version=3 page_size=8192 src=configuration names=1\n"
    "start_section type=7 kind=configuration id=0 idstr=configuration instance=0 version=0 vmsd=configuration\n"
    "int name=len type=uint32 wt=uint32 raw=0x4\n"
    "bytes name=name type=buffer len=4 hex=70632d78\n"
    "start_subsection name=configuration/target-page-bits version=1\n"
    "int name=target_page_bits type=uint32 wt=uint32 raw=0xd\n"
    "end_subsection\n"
    "end_section footer=0\n"
    "start_section type=1 kind=ram id=0 idstr=ram instance=0 version=4\n"
    "ram kind=mem_size total=0x4000 blocks=a:0x2000,b:0x2000\n"
    "ram kind=eos\n"
    "end_section footer=1\n"
    "start_section type=2 kind=ram id=0 idstr=ram instance=0 version=0\n"
    "ram kind=zero offset=0x0 block=a fill=0\n"
    "ram kind=page offset=0x0 block=b len=8192\n"
    "ram kind=page offset=0x0 block=- len=8192\n"
    "ram kind=eos\n"
    "end_section footer=1\n"
    "start_section type=3 kind=ram id=0 idstr=ram instance=0 version=0\n"
    "ram kind=multifd_flush\n"
    "ram kind=eos\n"
    "end_section footer=1\n"
    "start_section type=4 kind=vmstate id=1 idstr=timer instance=0 version=2 vmsd=timer\n"
    "int name=cpu_ticks_offset type=int64 wt=int64 raw=0xfffffffffffffffb\n"
    "int name=cpu_clock_offset type=int64 wt=int64 raw=0x7\n"
    "start_subsection name=timer/extra version=1\n"
    "int name=v type=uint32 wt=uint32 raw=0xdeadbeef\n"
    "end_subsection\n"
    "end_section footer=1\n"
    "start_section type=4 kind=vmstate id=2 idstr=dev instance=0 version=1 vmsd=dev\n"
    "int name=on type=bool wt=bool raw=0x1\n"
    "int name=w type=uint16 wt=uint16 raw=0x1234\n"
    "packed name=arr wt=uint8 count=3 hex=010203\n"
    "start_struct name=s type=struct\n"
    "int name=x type=uint32 wt=uint32 raw=0xcafe\n"
    "end_struct\n"
    "start_array name=e count=2\n"
    "int name=- type=uint16 wt=uint16 raw=0x7\n"
    "int name=- type=uint16 wt=uint16 raw=0x8\n"
    "end_array\n"
    "bytes name=buf type=buffer len=4 hex=61626364\n"
    "int name=t type=timer wt=int64 raw=0xffffffffffffffff\n"
    "bytes name=cfg type=pci config len=3 hex=aabbcc\n"
    "end_section footer=1\n"
    "command cmd=2 len=4 hex=00000005\n"
    "eof\n"
    "vmdesc len=%zu\n"
    "end_stream\n";

static char *expected_calls(size_t vmdesc_len)
{
    size_t n = sizeof(golden_calls) + 32;
    char *s = malloc(n);
    snprintf(s, n, golden_calls, vmdesc_len);
    return s;
}

static bool read_into(const tu_buf *b, mc_visitor *v, mc_error **errp)
{
    return tu_run(tu_legacy_reader, b->p, b->len, v, errp);
}

static void test_golden_calls(void **state)
{
    tu_buf b = {0};
    put_golden(&b, golden_vmdesc);
    mc_visitor *rec = tu_recorder_new();
    mc_error *err = NULL;
    bool ok = read_into(&b, rec, &err);
    if (!ok) {
        fail_msg("%s", mc_error_format(err));
    }
    char *want = expected_calls(strlen(golden_vmdesc));
    assert_string_equal(tu_recorder_text(rec), want);
    free(want);
    mc_visitor_free(rec);
    tu_free(&b);
}

/* Reading from a pipe that delivers the stream in small pieces gives the
 * same calls (the vmdesc search buffers the tail of the pipe). */
static void test_golden_from_pipe(void **state)
{
    tu_buf b = {0};
    put_golden(&b, golden_vmdesc);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        for (size_t off = 0; off < b.len; off += 1000) {
            size_t n = b.len - off < 1000 ? b.len - off : 1000;
            if (write(fds[1], b.p + off, n) != (ssize_t)n) {
                _exit(1);
            }
        }
        _exit(0);
    }
    close(fds[1]);
    mc_src src;
    mc_src_init_fd(&src, fds[0]);
    mc_visitor *rec = tu_recorder_new();
    mc_error *err = NULL;
    mc_read_opts o = {0};
    assert_true(mc_legacy_read(&src, rec, &o, &err));
    char *want = expected_calls(strlen(golden_vmdesc));
    assert_string_equal(tu_recorder_text(rec), want);
    free(want);
    mc_visitor_free(rec);
    mc_src_cleanup(&src);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    tu_free(&b);
}

/* Every proper prefix of the stream fails with a data error that has an
 * offset; none crashes (run under valgrind/ASan in CI).  (The prefix that
 * ends right after QEMU_VM_EOF is a stream without a vmdesc: it fails
 * because the descriptor tables do not know the made-up device "dev".) */
static void test_every_truncation_fails(void **state)
{
    tu_buf b = {0};
    put_golden(&b, golden_vmdesc);
    for (size_t n = 0; n < b.len; n++) {
        mc_visitor *v = mc_null_visitor_new();
        mc_error *err = NULL;
        bool ok = tu_run(tu_legacy_reader, b.p, n, v, &err);
        mc_visitor_free(v);
        if (ok) {
            fail_msg("truncation to %zu of %zu bytes was accepted", n, b.len);
        }
        assert_non_null(err);
        assert_int_equal(err->cls, MC_ERR_DATA);
        assert_true(err->offset != MC_NO_OFFSET);
        assert_true(err->offset <= n);
        mc_error_free(err);
    }
    tu_free(&b);
}

static void expect_error(const tu_buf *b, uint64_t offset, const char *msg)
{
    mc_visitor *v = mc_null_visitor_new();
    mc_error *err = NULL;
    assert_false(tu_run(tu_legacy_reader, b->p, b->len, v, &err));
    mc_visitor_free(v);
    assert_non_null(err);
    char *m = mc_error_format(err);
    if (!strstr(m, msg) || (offset != MC_NO_OFFSET && err->offset != offset)) {
        fail_msg("got \"%s\" (offset %llu), wanted \"%s\" at %llu", m,
                 (unsigned long long)err->offset, msg,
                 (unsigned long long)offset);
    }
    free(m);
    mc_error_free(err);
}

static void test_bad_header(void **state)
{
    tu_buf b = {0};
    tu_be32(&b, 0x51454d56);
    tu_be32(&b, 3);
    expect_error(&b, 0, "not a QEMU migration stream");
    tu_free(&b);
    tu_be32(&b, MC_VM_FILE_MAGIC);
    tu_be32(&b, MC_VM_FILE_VERSION_COMPAT);
    expect_error(&b, 4, "unsupported stream version 2");
    tu_free(&b);
    tu_be32(&b, MC_VM_FILE_MAGIC);
    tu_be32(&b, 3);
    tu_u8(&b, 0x09);
    expect_error(&b, 8, "unknown section type 0x09");
    tu_free(&b);
}

/* Offset of the first occurrence of a byte string (for patching). */
static size_t find(const tu_buf *b, const void *pat, size_t n, size_t from)
{
    for (size_t i = from; i + n <= b->len; i++) {
        if (memcmp(b->p + i, pat, n) == 0) {
            return i;
        }
    }
    fail_msg("pattern not found");
    return 0;
}

static void test_damaged(void **state)
{
    tu_buf b = {0};
    put_golden(&b, golden_vmdesc);
    /* footer of the timer section names another section */
    size_t t = find(&b, "\x05timer", 6, 0);
    size_t foot = t + 6 + 8 + 16 + 1 + 12 + 4 + 4;
    assert_int_equal(b.p[foot], MC_VM_SECTION_FOOTER);
    b.p[foot + 4] = 9;
    expect_error(&b, MC_NO_OFFSET, "footer");
    tu_free(&b);

    /* an RDMA hook record in the RAM part */
    put_golden(&b, golden_vmdesc);
    size_t part = find(&b, "\x02\x00\x00\x00\x00", 5, 50);
    b.p[part + 5 + 7] = MC_RAM_SAVE_FLAG_HOOK;
    expect_error(&b, part + 5, "RDMA hook");
    tu_free(&b);

    /* unknown RAM flags */
    put_golden(&b, golden_vmdesc);
    b.p[part + 5 + 7] = 0x03;
    expect_error(&b, part + 5, "invalid RAM record header");
    tu_free(&b);

    /* a device section with no vmdesc entry */
    put_golden(&b, "{\"devices\":[]}");
    expect_error(&b, MC_NO_OFFSET, "device 'timer' instance 0 is not in the vmdesc");
    tu_free(&b);

    /* trailing garbage after the vmdesc: the vmdesc no longer ends the
     * stream, so it is not found; the descriptor tables do not know "dev" */
    put_golden(&b, golden_vmdesc);
    tu_u8(&b, 0);
    expect_error(&b, MC_NO_OFFSET,
                 "descriptor tables do not describe device 'dev' version 1");
    tu_free(&b);

    /* a PART for a section that never started */
    tu_be32(&b, MC_VM_FILE_MAGIC);
    tu_be32(&b, 3);
    tu_u8(&b, MC_VM_SECTION_PART);
    tu_be32(&b, 42);
    expect_error(&b, 8, "section 42 continues but never started");
    tu_free(&b);
}

static void count_warning(void *opaque, const mc_error *w)
{
    (*(int *)opaque)++;
    assert_non_null(strstr(w->msg, "vmdesc does not match"));
}

/* A vmdesc that mis-describes a section: the bytes are carried opaque up
 * to the footer, with a warning, never parsed wrongly. */
static void test_wrong_vmdesc_falls_back_to_opaque(void **state)
{
    char *lie = strdup(golden_vmdesc);
    /* s is really 4 bytes: claim a uint16 x instead of a uint32 */
    char *p = strstr(lie, "{\"name\":\"x\",\"type\":\"uint32\",\"size\":4}");
    assert_non_null(p);
    memcpy(p, "{\"name\":\"x\",\"type\":\"uint16\",\"size\":2}", 36);
    tu_buf b = {0};
    put_golden(&b, lie);
    int warnings = 0;
    mc_read_opts o = {.warn = count_warning, .warn_opaque = &warnings};
    mc_src src;
    mc_src_init_mem(&src, b.p, b.len);
    mc_visitor *rec = tu_recorder_new();
    mc_error *err = NULL;
    assert_true(mc_legacy_read(&src, rec, &o, &err));
    assert_int_equal(warnings, 1);
    const char *text = tu_recorder_text(rec);
    assert_non_null(strstr(text,
        "start_section type=4 kind=vmstate id=2 idstr=dev instance=0 version=1\n"
        "bytes name=data type=opaque len=29 hex="));
    mc_visitor_free(rec);
    mc_src_cleanup(&src);
    tu_free(&b);
    free(lie);
}

/* The same golden stream round-trips through the legacy writer exactly. */
static void test_golden_rewrite_identical(void **state)
{
    tu_buf b = {0};
    put_golden(&b, golden_vmdesc);
    mc_sink k;
    mc_sink_init_mem(&k);
    mc_visitor *w = mc_legacy_writer_new(&k);
    mc_error *err = NULL;
    assert_true(tu_run(tu_legacy_reader, b.p, b.len, w, &err));
    mc_visitor_free(w);
    assert_int_equal(k.len, b.len);
    assert_memory_equal(k.buf, b.p, b.len);
    mc_sink_cleanup(&k);
    tu_free(&b);
}

/* ---- real QEMU 7.2 streams ---- */

static char *record_fixture(const char *name)
{
    size_t len;
    uint8_t *in = tu_read_file(tu_fixture(name), &len);
    mc_visitor *rec = tu_recorder_new();
    mc_error *err = NULL;
    if (!tu_run(tu_legacy_reader, in, len, rec, &err)) {
        fail_msg("%s: %s", name, mc_error_format(err));
    }
    char *text = strdup(tu_recorder_text(rec));
    mc_visitor_free(rec);
    free(in);
    return text;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

static void test_fixture_pc_bare(void **state)
{
    char *t = record_fixture("pc-bare");
    /* configuration: machine type pc-i440fx-7.2 */
    assert_non_null(strstr(t, "bytes name=name type=buffer len=13 hex=70632d69343430"
                              "66782d372e32\n"));
    /* RAM: 32 MiB pc.ram plus ROM blocks, pages are 4 KiB by default */
    assert_non_null(strstr(t, "page_size=4096 src=default"));
    assert_non_null(strstr(t, "pc.ram:0x2000000"));
    /* every device section parsed by field, none opaque */
    assert_int_equal(count(t, "type=opaque"), 0);
    assert_true(count(t, "start_section type=4 kind=vmstate") > 20);
    assert_non_null(strstr(t, "idstr=cpu instance=0"));
    assert_non_null(strstr(t, "idstr=0000:00:01.3/piix4_pm"));
    /* the paused CPU sits at the reset vector: CS base 0xffff0000,
     * EIP 0xfff0, CR0 0x60000010 */
    assert_non_null(strstr(t, "int name=env.eip type=uint64 wt=uint64 raw=0xfff0\n"));
    assert_non_null(strstr(t, "int name=env.cr[0] type=uint64 wt=uint64 raw=0x60000010\n"));
    assert_int_equal(count(t, "end_section footer=1"), count(t, "start_section") - 1);
    assert_int_equal(count(t, "\neof\n"), 1);
    free(t);
}

static void test_fixture_q35_devices(void **state)
{
    char *t = record_fixture("q35-devices");
    const char *devices[] = {
        "idstr=0000:00:01.0/virtio-net ", "idstr=0000:00:02.0/e1000 ",
        "idstr=0000:00:03.0/e1000e ", "idstr=0000:00:04.0/ich9_ahci ",
        "idstr=0000:00:05.0/xhci ", "idstr=0000:00:05.0/1/usb-ptr ",
        "idstr=0000:00:06.0/virtio-console ", "idstr=0000:00:07.0/virtio-balloon ",
        "idstr=0000:00:08.0/virtio-scsi ", "idstr=0000:00:09.0/intel-hda ",
        "idstr=hda-audio ", "idstr=0000:00:0a.0/qxl ", "idstr=serial ",
        "idstr=slirp "};
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
        if (!strstr(t, devices[i])) {
            fail_msg("no section for %s", devices[i]);
        }
    }
    assert_int_equal(count(t, "idstr=cpu instance="), 2); /* -smp 2 */
    assert_int_equal(count(t, "type=opaque"), 0);
    assert_true(count(t, "type=virtio ") >= 4); /* net, console, balloon, scsi */
    free(t);
}

static void test_fixture_old_machines(void **state)
{
    /* pc-i440fx-1.4 and 2.3: no configuration, no footers, but a vmdesc */
    const char *names[] = {"pc-1.4", "pc-2.3"};
    for (int i = 0; i < 2; i++) {
        char *t = record_fixture(names[i]);
        assert_null(strstr(t, "kind=configuration"));
        assert_int_equal(count(t, "footer=1"), 0);
        assert_non_null(strstr(t, "vmdesc len="));
        assert_int_equal(count(t, "type=opaque"), 0);
        free(t);
    }
}

/* Streams without a vmdesc are split with the built-in descriptor tables
 * and come back byte for byte; with tables that lack a device the error
 * names the device and how to make tables. */
static void test_fixture_no_vmdesc(void **state)
{
    const char *names[] = {"pc-2.0", "pc-suppress", "q35-devices-suppress"};
    for (int i = 0; i < 3; i++) {
        char *t = record_fixture(names[i]);
        assert_null(strstr(t, "vmdesc len="));
        assert_true(count(t, "kind=vmstate") > 20);
        /* only slirp's save_state blob is carried opaque */
        assert_int_equal(count(t, "type=opaque"), count(t, "idstr=slirp "));
        assert_non_null(strstr(t, "vmsd=cpu\n"));
        free(t);

        size_t len, blen, llen;
        uint8_t *in = tu_read_file(tu_fixture(names[i]), &len);
        mc_error *err = NULL;
        uint8_t *ber = tu_legacy_to_ber(in, len, true, &blen, &err);
        assert_non_null(ber);
        uint8_t *back = tu_ber_to_legacy(ber, blen, &llen, &err);
        assert_non_null(back);
        assert_int_equal(llen, len);
        assert_memory_equal(back, in, len);
        free(back);
        free(ber);
        free(in);
    }

    size_t len;
    uint8_t *in = tu_read_file(tu_fixture("pc-2.0"), &len);
    mc_tables *empty = mc_tables_new();
    mc_read_opts o = {.tables = empty, .tables_only = true};
    mc_src src;
    mc_src_init_mem(&src, in, len);
    mc_visitor *v = mc_null_visitor_new();
    mc_error *err = NULL;
    assert_false(mc_legacy_read(&src, v, &o, &err));
    assert_non_null(strstr(err->msg, "descriptor tables do not describe device"));
    assert_non_null(strstr(err->msg, "migconv tables"));
    assert_true(err->offset > 0 && err->offset < len);
    mc_error_free(err);
    mc_visitor_free(v);
    mc_src_cleanup(&src);
    mc_tables_free(empty);
    free(in);
}

static void test_fixture_capabilities(void **state)
{
    char *t = record_fixture("q35-ignore-shared");
    assert_non_null(strstr(t, "start_subsection name=configuration/capabilities"));
    assert_non_null(strstr(t, "hex=0f782d69676e6f72652d736861726564")); /* x-ignore-shared */
    assert_non_null(strstr(t, "start_subsection name=configuration/uuid"));
    assert_non_null(strstr(t, ":addr=")); /* block addresses in MEM_SIZE */
    free(t);

    t = record_fixture("pc-xbzrle");
    assert_true(count(t, "ram kind=xbzrle") > 50);
    free(t);
    t = record_fixture("pc-compress");
    assert_true(count(t, "ram kind=compress") > 200);
    free(t);
    t = record_fixture("pc-postcopy");
    assert_non_null(strstr(t, "command cmd=1 len=0"));  /* OPEN_RETURN_PATH */
    assert_non_null(strstr(t, "command cmd=3 len=16")); /* POSTCOPY_ADVISE */
    free(t);
    t = record_fixture("pc-loader");
    assert_true(count(t, "ram kind=page") >= 256);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_calls),
        cmocka_unit_test(test_golden_from_pipe),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_wrong_vmdesc_falls_back_to_opaque),
        cmocka_unit_test(test_golden_rewrite_identical),
        cmocka_unit_test(test_fixture_pc_bare),
        cmocka_unit_test(test_fixture_q35_devices),
        cmocka_unit_test(test_fixture_old_machines),
        cmocka_unit_test(test_fixture_no_vmdesc),
        cmocka_unit_test(test_fixture_capabilities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
