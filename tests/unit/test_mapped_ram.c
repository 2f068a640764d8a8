/*
 * mapped-ram headers and block regions (core/mapped_ram.h): the header's
 * wire layout, the checks of mc_mapped_block_begin and _feed, the bitmap
 * and the pages of a record.  Every rejected header differs from an
 * accepted one in the one field being tested.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/mapped_ram.h"

#define PS 4096u

/* pc.ram of 16 pages: header at 100, bitmap right after, pages at 64 KiB */
static mc_mapped_ram_header good(void)
{
    mc_mapped_ram_header h = {1, PS, 128, 65536};
    return h;
}

static bool begin(mc_mapped_block *b, const mc_mapped_ram_header *h,
                  mc_error **err)
{
    return mc_mapped_block_begin(b, "pc.ram", 16 * PS, h, 100, PS,
                                 65536 + 16 * PS, "ram", err);
}

static void expect_err(mc_error *err, const char *want)
{
    assert_non_null(err);
    assert_int_equal(err->cls, MC_ERR_DATA);
    assert_int_equal(err->offset, 100);
    if (!strstr(err->msg, want)) {
        fail_msg("error '%s' lacks '%s'", err->msg, want);
    }
    mc_error_free(err);
}

static void test_header_wire(void **state)
{
    (void)state;
    static const uint8_t wire[MC_MAPPED_RAM_HDR_SIZE] = {
        0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0x10, 0,
        0, 0, 0, 0, 0, 0, 0, 0x8d,  0, 0, 0, 0, 0, 0x10, 0, 0,
    };
    mc_mapped_ram_header h;
    mc_mapped_ram_header_decode(wire, &h);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.page_size, 4096);
    assert_int_equal(h.bitmap_offset, 0x8d);
    assert_int_equal(h.pages_offset, 0x100000);
    uint8_t back[MC_MAPPED_RAM_HDR_SIZE];
    mc_mapped_ram_header_encode(&h, back);
    assert_memory_equal(back, wire, sizeof(wire));
    /* BITS_TO_LONGS(pages) * 8 */
    assert_int_equal(mc_mapped_ram_bitmap_size(0), 0);
    assert_int_equal(mc_mapped_ram_bitmap_size(1), 8);
    assert_int_equal(mc_mapped_ram_bitmap_size(64), 8);
    assert_int_equal(mc_mapped_ram_bitmap_size(65), 16);
    assert_int_equal(mc_mapped_ram_bitmap_size(8192), 1024);
}

static void test_begin_checks(void **state)
{
    (void)state;
    mc_mapped_block b = {0};
    mc_error *err = NULL;
    mc_mapped_ram_header h = good();
    assert_true(begin(&b, &h, &err));
    assert_null(err);
    assert_int_equal(b.start, 128);
    assert_int_equal(b.end, 65536 + 16 * PS);
    assert_int_equal(b.bitmap_size, 8);

    h = good(); h.version = 2;
    assert_false(begin(&b, &h, &err));
    expect_err(err, "version 2 (only 1 is known)");
    err = NULL;
    h = good(); h.page_size = 512;
    assert_false(begin(&b, &h, &err));
    expect_err(err, "page size 512 is not the stream's 4096");
    err = NULL;
    h = good(); h.bitmap_offset = 127;
    assert_false(begin(&b, &h, &err));
    expect_err(err, "overlaps the header");
    err = NULL;
    h = good(); h.pages_offset = 132;   /* the bitmap is 8 bytes at 128 */
    assert_false(begin(&b, &h, &err));
    expect_err(err, "overlaps the pages at pages_offset 0x84");
    err = NULL;
    h = good(); h.pages_offset = 136;   /* right after the bitmap: fine... */
    assert_false(begin(&b, &h, &err)); /* ...but not page-aligned */
    expect_err(err, "is not page-aligned");
    err = NULL;
    h = good(); h.pages_offset = 65536 + PS;
    assert_false(begin(&b, &h, &err));
    expect_err(err, "point past the end of the file");
    err = NULL;
    h = good(); h.pages_offset = UINT64_MAX - PS + 1;
    assert_false(begin(&b, &h, &err));
    expect_err(err, "point past the end of the file");
    mc_mapped_block_clear(&b);
}

static void test_feed(void **state)
{
    (void)state;
    mc_mapped_block b = {0};
    mc_error *err = NULL;
    mc_mapped_ram_header h = good();
    assert_true(begin(&b, &h, &err));
    uint8_t bm[8] = {0x06};   /* pages 1 and 2 */
    /* out of order */
    assert_false(mc_mapped_block_feed(&b, 129, bm, 8, 100, "ram", &err));
    expect_err(err, "where 0x80 comes next");
    err = NULL;
    assert_true(mc_mapped_block_feed(&b, 128, bm, 8, 100, "ram", &err));
    assert_true(b.bitmap_done);
    assert_int_equal(b.present, 2);
    assert_false(mc_mapped_block_present(&b, 0));
    assert_true(mc_mapped_block_present(&b, 1));
    assert_true(mc_mapped_block_present(&b, 2));
    assert_false(mc_mapped_block_present(&b, 16));
    assert_true(mc_mapped_block_feed(&b, 136, NULL, 65536 - 136, 100, "ram",
                                     &err));
    /* a piece that splits a page */
    uint8_t page[PS] = {1};
    assert_false(mc_mapped_block_feed(&b, 65536, page, 100, 100, "ram", &err));
    expect_err(err, "splits a page");
    err = NULL;
    assert_true(mc_mapped_block_feed(&b, 65536, page, PS, 100, "ram", &err));
    assert_false(mc_mapped_block_complete(&b));
    /* past the end */
    assert_false(mc_mapped_block_feed(&b, 65536 + PS, NULL, 16 * PS, 100,
                                      "ram", &err));
    expect_err(err, "run past its end");
    err = NULL;
    assert_true(mc_mapped_block_feed(&b, 65536 + PS, NULL, 15 * PS, 100,
                                     "ram", &err));
    assert_true(mc_mapped_block_complete(&b));
    mc_mapped_block_clear(&b);
}

static void test_bitmap_past_block(void **state)
{
    (void)state;
    mc_mapped_block b = {0};
    mc_error *err = NULL;
    mc_mapped_ram_header h = good();
    assert_true(begin(&b, &h, &err));
    uint8_t bm[8] = {0, 0, 0x01};   /* page 16 of 16 */
    assert_false(mc_mapped_block_feed(&b, 128, bm, 8, 100, "ram", &err));
    expect_err(err, "marks page 16, past the block's 16 pages");
    err = NULL;
    /* negative control: page 15 is the block's last */
    assert_true(begin(&b, &h, &err));
    uint8_t ok[8] = {0, 0x80};
    assert_true(mc_mapped_block_feed(&b, 128, ok, 8, 100, "ram", &err));
    assert_true(mc_mapped_block_present(&b, 15));
    mc_mapped_block_clear(&b);
}

typedef struct seen {
    uint64_t idx[8];
    bool data[8], present[8];
    int n;
} seen;

static bool note(void *opaque, uint64_t idx, const uint8_t *data,
                 bool present, mc_error **errp)
{
    (void)errp;
    seen *s = opaque;
    s->idx[s->n] = idx;
    s->data[s->n] = data != NULL;
    s->present[s->n] = present;
    s->n++;
    return true;
}

static void test_pages(void **state)
{
    (void)state;
    mc_mapped_block b = {0};
    mc_error *err = NULL;
    mc_mapped_ram_header h = good();
    assert_true(begin(&b, &h, &err));
    uint8_t bm[8] = {0x06};
    assert_true(mc_mapped_block_feed(&b, 128, bm, 8, 100, "ram", &err));
    static uint8_t three[3 * PS];
    seen s = {0};
    /* a record over the bitmap's end and the first pages: only whole pages
     * of the pages area count */
    assert_true(mc_mapped_block_pages(&b, 65536, three, sizeof(three), note,
                                      &s, &err));
    assert_int_equal(s.n, 3);
    assert_int_equal(s.idx[0], 0);
    assert_false(s.present[0]);
    assert_int_equal(s.idx[1], 1);
    assert_true(s.present[1]);
    assert_true(s.data[1]);
    s.n = 0;
    assert_true(mc_mapped_block_pages(&b, 128, NULL, 65536 - 128, note, &s,
                                      &err));
    assert_int_equal(s.n, 0);
    mc_mapped_block_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_wire),
        cmocka_unit_test(test_begin_checks),
        cmocka_unit_test(test_feed),
        cmocka_unit_test(test_bitmap_past_block),
        cmocka_unit_test(test_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
