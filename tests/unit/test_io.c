/*
 * Stackable byte sources (core/io.h) and the format registry
 * (format/registry.h): a filter over a lower source, offsets counted in
 * the stream of the top layer, readers that do not assume their stream
 * starts at offset 0, and detection and dispatch from the table.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io.h"
#include "core/util.h"
#include "desc/desc.h"
#include "format/registry.h"
#include "legacy/vmdesc_scan.h"
#include "testutil.h"
#include "visit/visitors.h"

/* A filter like a container header: skips a fixed-size header of the lower
 * source, then passes its bytes through in small pieces (to exercise
 * refills across the layer). */
typedef struct skip_filter {
    mc_src *lower;
    size_t header;
    bool skipped;
    size_t piece;
} skip_filter;

static bool skip_read(mc_src *s, uint8_t *buf, size_t cap, size_t *got,
                      mc_error **errp)
{
    skip_filter *f = s->read_opaque;
    if (!f->skipped) {
        if (!mc_src_skip(f->lower, f->header, errp)) {
            return false;
        }
        f->skipped = true;
    }
    return mc_src_read(f->lower, buf, cap < f->piece ? cap : f->piece, got,
                       errp);
}

static uint8_t *with_header(const uint8_t *p, size_t n, size_t header)
{
    uint8_t *b = mc_malloc(n + header);
    memset(b, 'H', header);
    memcpy(b + header, p, n);
    return b;
}

/* Read a fixture through a filter: the BER is the same as straight. */
static void test_filter_passes_stream(void **state)
{
    (void)state;
    size_t n;
    uint8_t *mig = tu_read_file(tu_fixture("pc-bare"), &n);
    uint8_t *file = with_header(mig, n, 512);

    mc_sink straight;
    mc_sink_init_mem(&straight);
    mc_src plain;
    mc_src_init_mem(&plain, mig, n);
    const mc_format_ops *fmt = mc_format_bid(mig, n);
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "legacy");
    mc_write_opts wo = {.names = true};
    mc_visitor *v = mc_format_get(fmt->convert_to)->writer_new(&straight, &wo);
    mc_error *err = NULL;
    assert_true(fmt->read(&plain, v, NULL, &err) &&
                mc_visitor_complete(v, &err));
    mc_visitor_free(v);

    mc_src lower, top;
    mc_src_init_mem(&lower, file, n + 512);
    skip_filter f = {.lower = &lower, .header = 512, .piece = 777};
    mc_src_init_read(&top, "test.layer", skip_read, &f);
    /* the file starts with the header: no format bids for it */
    const uint8_t *p;
    assert_true(mc_src_peek(&lower, 4, &p, NULL));
    assert_null(mc_format_bid(p, mc_src_buffered(&lower)));
    assert_true(mc_src_peek(&top, 4, &p, &err));
    assert_ptr_equal(mc_format_bid(p, mc_src_buffered(&top)), fmt);
    mc_sink layered;
    mc_sink_init_mem(&layered);
    v = mc_format_get(fmt->convert_to)->writer_new(&layered, &wo);
    assert_true(fmt->read(&top, v, NULL, &err) &&
                mc_visitor_complete(v, &err));
    assert_null(err);
    mc_visitor_free(v);
    assert_int_equal(mc_src_offset(&top), n);
    assert_int_equal(mc_src_offset(&lower), n + 512);
    assert_int_equal(layered.len, straight.len);
    assert_memory_equal(layered.buf, straight.buf, straight.len);

    mc_sink_cleanup(&layered);
    mc_sink_cleanup(&straight);
    mc_src_cleanup(&top);
    mc_src_cleanup(&lower);
    mc_src_cleanup(&plain);
    free(file);
    free(mig);
}

/* A truncated stream behind a filter: the offset is the stream's, not the
 * file's, and names the layer when formatted. */
static void test_filter_offsets_in_errors(void **state)
{
    (void)state;
    size_t n;
    uint8_t *mig = tu_read_file(tu_fixture("pc-bare"), &n);
    size_t cut = n / 2;
    uint8_t *file = with_header(mig, cut, 100);
    mc_src lower, top;
    mc_src_init_mem(&lower, file, cut + 100);
    skip_filter f = {.lower = &lower, .header = 100, .piece = 4096};
    mc_src_init_read(&top, "test.layer", skip_read, &f);
    mc_visitor *v = mc_null_visitor_new();
    mc_error *err = NULL;
    assert_false(mc_legacy_read(&top, v, NULL, &err));
    assert_non_null(err);
    assert_int_equal(err->cls, MC_ERR_DATA);
    assert_true(err->offset <= cut);
    assert_true(err->offset + 4096 >= cut);
    mc_error_set_layer(err, top.layer);
    char *m = mc_error_format(err);
    char want[64];
    snprintf(want, sizeof(want), "test.layer: stream offset %llu: ",
             (unsigned long long)err->offset);
    assert_true(strncmp(m, want, strlen(want)) == 0);
    free(m);
    mc_error_free(err);
    mc_visitor_free(v);
    mc_src_cleanup(&top);
    mc_src_cleanup(&lower);
    free(file);
    free(mig);
}

/* A stream that starts at a later offset of its source: the reader's own
 * offsets (here the magic check) count from where the stream starts. */
static void test_stream_not_at_offset_zero(void **state)
{
    (void)state;
    uint8_t buf[16] = "junkQEVX\0\0\0\3";
    mc_src s;
    mc_src_init_mem(&s, buf, sizeof(buf));
    assert_true(mc_src_skip(&s, 4, NULL));
    mc_visitor *v = mc_null_visitor_new();
    mc_error *err = NULL;
    assert_false(mc_legacy_read(&s, v, NULL, &err));
    assert_non_null(err);
    assert_int_equal(err->offset, 4);
    assert_non_null(strstr(err->msg, "not a QEMU migration stream"));
    mc_error_free(err);
    /* negative control: the same bytes at offset 0 say offset 0 */
    mc_src t;
    mc_src_init_mem(&t, buf + 4, sizeof(buf) - 4);
    err = NULL;
    assert_false(mc_legacy_read(&t, v, NULL, &err));
    assert_int_equal(err->offset, 0);
    mc_error_free(err);
    mc_visitor_free(v);
    mc_src_cleanup(&s);
    mc_src_cleanup(&t);
}

static void test_registry(void **state)
{
    (void)state;
    const uint8_t ber[] = {0x60, 0x80, 0x30, 0x03, 0x01, 0x01, 0x00};
    const mc_format_ops *b = mc_format_bid(ber, sizeof(ber));
    assert_non_null(b);
    assert_int_equal(b->id, MC_FORMAT_BER);
    assert_ptr_equal(mc_format_get(MC_FORMAT_BER), b);
    assert_int_equal(b->convert_to, MC_FORMAT_LEGACY);
    assert_string_equal(b->convert_cmd, "ber-to-legacy");
    mc_write_opts o;
    mc_format_write_opts(b, ber, sizeof(ber), &o);
    assert_false(o.names);
    const uint8_t named[] = {0x60, 0x80, 0x30, 0x03, 0x01, 0x01, 0xff};
    mc_format_write_opts(b, named, sizeof(named), &o);
    assert_true(o.names);
    assert_null(mc_format_bid((const uint8_t *)"QEV", 3));
    assert_null(mc_format_get(MC_FORMAT_UNKNOWN));
    /* The filter table: a stream bids for no filter; each container for
     * its row, only where its row may stand (first, once). */
    bool has = false;
    mc_container_info ci = {0};
    mc_filter_ctx cx = {.has_container = &has, .container = &ci};
    assert_null(mc_filter_bid(&cx, ber, sizeof(ber)));
    const uint8_t gz[] = {0x1f, 0x8b, 8, 0};
    const mc_filter_ops *f = mc_filter_bid(&cx, gz, sizeof(gz));
    assert_non_null(f);
    assert_ptr_equal(f->codec, mc_codec_get(MC_CODEC_GZIP));
    assert_true(f->layer);
    const uint8_t *lv = (const uint8_t *)"LibvirtQemudSave";
    f = mc_filter_bid(&cx, lv, 16);
    assert_non_null(f);
    assert_string_equal(f->name, "libvirt");
    cx.depth = 1;                       /* libvirt stands only first */
    assert_null(mc_filter_bid(&cx, lv, 16));
    assert_non_null(mc_filter_bid(&cx, gz, sizeof(gz)));
    const uint8_t rec[] = {0x69, 0x09};
    f = mc_filter_bid(&cx, rec, sizeof(rec));
    assert_non_null(f);
    assert_false(f->layer);
    has = true;                         /* a container without compression */
    assert_null(mc_filter_bid(&cx, rec, sizeof(rec)));
    assert_non_null(mc_filter_bid(&cx, gz, sizeof(gz)));
    ci.codec = MC_CODEC_XZ;             /* one compression only */
    assert_null(mc_filter_bid(&cx, gz, sizeof(gz)));
    assert_ptr_equal(mc_codec_by_libvirt(1), mc_codec_get(MC_CODEC_GZIP));
    assert_null(mc_codec_by_libvirt(0));
    assert_string_equal(mc_format_name(MC_FORMAT_LEGACY), "legacy");
}

/* The comparing sink: equal bytes pass, the first difference is found. */
static void test_cmp_sink(void **state)
{
    (void)state;
    const uint8_t a[] = "abcdefgh";
    mc_src orig;
    mc_src_init_mem(&orig, a, 8);
    mc_sink k;
    mc_sink_cmp c;
    mc_sink_init_cmp(&k, &c, &orig);
    mc_error *err = NULL;
    assert_true(mc_sink_write(&k, "abcd", 4, &err) && mc_sink_flush(&k, &err));
    assert_false(mc_sink_write(&k, "efXh", 4, &err) &&
                 mc_sink_flush(&k, &err));
    assert_true(c.differ);
    assert_int_equal(c.diff_at, 6);
    assert_int_equal(err->offset, 6);
    mc_error_free(err);
    mc_sink_cleanup(&k);
    mc_src_cleanup(&orig);
}

/* With MC_CHECKS (tests/run builds so), setting an error twice is a
 * broken rule and aborts; setting it once does not. */
static void test_error_set_once(void **state)
{
    (void)state;
    mc_error *err = NULL;
    mc_error_data(&err, 1, NULL, "first");
    mc_error_data(NULL, 2, NULL, "ignored: no errp");
    assert_string_equal(err->msg, "first");
#ifdef MC_CHECKS
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fclose(stderr);
        mc_error_data(&err, 2, NULL, "second");
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
#endif
    mc_error_free(err);
}

/* A stream's end, its vmdesc, then 64 MiB of other bytes, made as they
 * are read. */
typedef struct volume {
    uint8_t head[64];
    size_t head_len, at, total;
} volume;

static bool volume_read(mc_src *s, uint8_t *buf, size_t cap, size_t *got,
                        mc_error **errp)
{
    volume *v = s->read_opaque;
    size_t n = 0;
    while (n < cap && v->at < v->total) {
        buf[n++] = v->at < v->head_len ? v->head[v->at] : (uint8_t)(v->at * 7);
        v->at++;
    }
    *got = n;
    return true;
}

static void test_slurp_stops_at_the_vmdesc(void **state)
{
    static const char json[] = "{\"page_size\": 4096, \"devices\": []}";
    for (int keep = 0; keep < 2; keep++) {
        volume v = {.total = 64u << 20};
        memcpy(v.head, "dev", 3);
        v.head[3] = 0x00; /* QEMU_VM_EOF */
        v.head[4] = 0x06; /* QEMU_VM_VMDESCRIPTION */
        uint32_t len = (uint32_t)strlen(json);
        uint8_t be[4] = {len >> 24, len >> 16, len >> 8, len};
        memcpy(v.head + 5, be, 4);
        memcpy(v.head + 9, json, len);
        v.head_len = 9 + len;
        mc_src s;
        mc_src_init_read(&s, "volume", volume_read, &v);
        mc_error *err = NULL;
        if (keep) {
            mc_vmdesc_scan sc = {.limit = 1u << 20};
            assert_true(mc_src_slurp_until(&s, 4u << 20, mc_vmdesc_scan_enough,
                                           &sc, &err));
            assert_true(sc.found);
            assert_int_equal(sc.at, 4);
            assert_int_equal(sc.end, v.head_len);
            assert_non_null(sc.vmdesc);
            mc_vmdesc_free(sc.vmdesc);
            /* One step of reading, not the 64 MiB that follow. */
            assert_true(mc_src_buffered(&s) <= 2 * MC_SRC_BUFSIZE);
        } else {
            /* Negative control: buffering everything hits the limit. */
            assert_false(mc_src_slurp(&s, 4u << 20, &err));
            assert_non_null(strstr(err->msg, "buffering limit"));
            mc_error_free(err);
        }
        mc_src_cleanup(&s);
    }
    /* A candidate whose JSON does not parse is passed over, and one cut
     * by the end of the input too. */
    static const uint8_t junk[] = {0x00, 0x06, 0, 0, 0, 2, '{', 'x',
                                   0x00, 0x06, 0, 0, 0, 9, '{'};
    mc_vmdesc_scan sc = {.limit = 1u << 20};
    assert_false(mc_vmdesc_scan_enough(&sc, junk, sizeof(junk), true));
    assert_false(sc.found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_passes_stream),
        cmocka_unit_test(test_filter_offsets_in_errors),
        cmocka_unit_test(test_stream_not_at_offset_zero),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_cmp_sink),
        cmocka_unit_test(test_error_set_once),
        cmocka_unit_test(test_slurp_stops_at_the_vmdesc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
