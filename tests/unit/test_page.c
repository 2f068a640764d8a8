/*
 * RAM page decoding (core/page.h): ZERO fill, XBZRLE deltas in QEMU's
 * encoding, COMPRESS_PAGE inflate with exact sizes, the set of sent
 * pages.  Every error case is paired with a valid input that differs in
 * the one byte or length being tested, so no check passes vacuously.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "core/page.h"
#include "core/util.h"

#define PS 4096u

static uint32_t rng_state = 12345;
static uint8_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (uint8_t)(rng_state >> 16);
}

/* Expect a data error whose message contains want, with offset and path
 * passed through. */
static void expect_err(mc_error *err, const char *want)
{
    assert_non_null(err);
    assert_int_equal(err->cls, MC_ERR_DATA);
    assert_int_equal(err->offset, 77);
    assert_string_equal(err->path, "ram/pc.ram");
    if (!strstr(err->msg, want)) {
        fail_msg("error '%s' lacks '%s'", err->msg, want);
    }
    mc_error_free(err);
}

static void test_fill(void **state)
{
    uint8_t page[PS], f = 0;
    mc_page_fill(page, PS, 0xab);
    assert_true(mc_page_is_uniform(page, PS, &f));
    assert_int_equal(f, 0xab);
    page[PS - 1] = 0;
    assert_false(mc_page_is_uniform(page, PS, &f));
}

static bool apply(uint8_t *page, const uint8_t *d, size_t n, mc_error **e)
{
    return mc_page_xbzrle_apply(page, PS, MC_ENCODING_FLAG_XBZRLE, d, n, 77,
                                "ram/pc.ram", e);
}

static void test_xbzrle_vectors(void **state)
{
    uint8_t page[PS];
    memset(page, 0x11, PS);
    /* zero run 5, literal "abc"; zero run 200 (two bytes), literal 'z' */
    const uint8_t d[] = {5, 3, 'a', 'b', 'c', 0xc8, 0x01, 1, 'z'};
    mc_error *err = NULL;
    assert_true(apply(page, d, sizeof(d), &err));
    assert_null(err);
    for (unsigned i = 0; i < PS; i++) {
        uint8_t want = 0x11;
        if (i >= 5 && i < 8) {
            want = (uint8_t)"abc"[i - 5];
        } else if (i == 208) {
            want = 'z';
        }
        assert_int_equal(page[i], want);
    }
    /* first pair may have an empty zero run; an empty delta changes
     * nothing */
    const uint8_t d0[] = {0, 1, 'q'};
    assert_true(apply(page, d0, sizeof(d0), &err));
    assert_int_equal(page[0], 'q');
    assert_true(apply(page, d0, 0, &err));
    assert_int_equal(page[0], 'q');
    /* a literal run reaching exactly the page's end is valid */
    const uint8_t dend[] = {0xff, 0x1f, 1, 'e'}; /* zero run 4095 */
    assert_true(apply(page, dend, sizeof(dend), &err));
    assert_int_equal(page[PS - 1], 'e');
}

static void test_xbzrle_errors(void **state)
{
    uint8_t page[PS];
    memset(page, 0, PS);
    mc_error *err = NULL;

    const uint8_t ok[] = {1, 1, 'x'};
    assert_false(mc_page_xbzrle_apply(page, PS, 2, ok, sizeof(ok), 77,
                                      "ram/pc.ram", &err));
    expect_err(err, "encoding byte is 0x02");
    err = NULL;

    const uint8_t t1[] = {1};
    assert_false(apply(page, t1, sizeof(t1), &err));
    expect_err(err, "truncated run length");
    err = NULL;
    const uint8_t t2[] = {1, 2, 'x'};       /* one literal byte missing */
    assert_false(apply(page, t2, sizeof(t2), &err));
    expect_err(err, "passes the end of the 3-byte delta");
    err = NULL;
    const uint8_t t3[] = {1, 1, 'x', 1};    /* second pair cut short */
    assert_false(apply(page, t3, sizeof(t3), &err));
    expect_err(err, "truncated run length");
    err = NULL;
    /* QEMU wants two bytes before a run length, even a one-byte one */
    const uint8_t t4[] = {1, 1};
    assert_false(apply(page, t4, sizeof(t4), &err));
    expect_err(err, "truncated run length");
    err = NULL;

    const uint8_t l3[] = {0x80, 0x80, 0x01, 1, 'x'};
    assert_false(apply(page, l3, sizeof(l3), &err));
    expect_err(err, "longer than two bytes");
    err = NULL;

    const uint8_t ez[] = {1, 1, 'x', 0, 1, 'y'};
    assert_false(apply(page, ez, sizeof(ez), &err));
    expect_err(err, "empty zero run");
    err = NULL;
    const uint8_t el[] = {1, 0, 1, 1, 'y'};
    assert_false(apply(page, el, sizeof(el), &err));
    expect_err(err, "empty literal run");
    err = NULL;

    /* zero run 4097 > page */
    const uint8_t zp[] = {0x81, 0x20, 1, 'x'};
    assert_false(apply(page, zp, sizeof(zp), &err));
    expect_err(err, "zero run of 4097 bytes passes the end");
    err = NULL;
    /* zero run 4096 then a literal: one byte past the page */
    const uint8_t lp[] = {0x80, 0x20, 1, 'x'};
    assert_false(apply(page, lp, sizeof(lp), &err));
    expect_err(err, "literal run of 1 bytes passes the end of the 4096-byte page");
    err = NULL;
}

static void test_xbzrle_roundtrip(void **state)
{
    static uint8_t old[65536], cur[65536], page[65536], delta[65536 + 64];
    size_t sizes[] = {4096, 65536};
    for (int s = 0; s < 2; s++) {
        size_t ps = sizes[s];
        for (int iter = 0; iter < 200; iter++) {
            for (size_t i = 0; i < ps; i++) {
                old[i] = rnd();
            }
            memcpy(cur, old, ps);
            int changes = rnd() % 40;
            for (int c = 0; c < changes; c++) {
                size_t at = ((size_t)rnd() << 8 | rnd()) % ps;
                size_t n = (size_t)(rnd() % 64) + 1;
                for (size_t k = at; k < at + n && k < ps; k++) {
                    cur[k] = (uint8_t)(old[k] + 1 + rnd() % 255);
                }
            }
            if (iter == 0) {
                memset(cur, 0, 100);    /* change at offset 0 */
                memset(old, 1, 100);
            }
            long n = mc_page_xbzrle_encode(old, cur, ps, delta, sizeof(delta));
            assert_true(n >= 0);
            memcpy(page, old, ps);
            mc_error *err = NULL;
            assert_true(mc_page_xbzrle_apply(page, ps, MC_ENCODING_FLAG_XBZRLE,
                                             delta, (size_t)n, 0, NULL, &err));
            assert_memory_equal(page, cur, ps);
        }
    }
    /* a 64 KiB page equal except one byte after a zero run over the cap */
    memset(old, 7, 65536);
    memcpy(cur, old, 65536);
    cur[40000] = 8;
    cur[40001] = 9;
    long n = mc_page_xbzrle_encode(old, cur, 65536, delta, sizeof(delta));
    assert_true(n > 0);
    memcpy(page, old, 65536);
    assert_true(mc_page_xbzrle_apply(page, 65536, 1, delta, (size_t)n, 0, NULL,
                                     NULL));
    assert_memory_equal(page, cur, 65536);
    /* equal pages: empty delta; fully different 64 KiB: not encodable */
    assert_int_equal(mc_page_xbzrle_encode(old, old, 65536, delta, 10), 0);
    memset(cur, 8, 65536);
    assert_int_equal(mc_page_xbzrle_encode(old, cur, 65536, delta,
                                           sizeof(delta)), -1);
    /* does not fit */
    assert_int_equal(mc_page_xbzrle_encode(old, cur, 4096, delta, 100), -1);
}

static size_t deflate_n(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    uLongf len = cap;
    assert_int_equal(compress2(out, &len, in, n, 1), Z_OK);
    return len;
}

static void test_inflate(void **state)
{
    static uint8_t src[PS + 1], page[PS], z[2 * PS];
    for (size_t i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t)(i % 7 == 0 ? rnd() : i);
    }
    mc_page_inflater *zi = mc_page_inflater_new();
    mc_error *err = NULL;

    size_t n = deflate_n(src, PS, z, sizeof(z));
    assert_true(mc_page_inflate(zi, page, PS, z, n, 77, "ram/pc.ram", &err));
    assert_null(err);
    assert_memory_equal(page, src, PS);
    /* reused for a second page */
    memset(src, 0x5a, PS);
    n = deflate_n(src, PS, z, sizeof(z));
    assert_true(mc_page_inflate(zi, page, PS, z, n, 77, "ram/pc.ram", &err));
    assert_memory_equal(page, src, PS);

    n = deflate_n(src, PS - 1, z, sizeof(z));
    assert_false(mc_page_inflate(zi, page, PS, z, n, 77, "ram/pc.ram", &err));
    expect_err(err, "inflates to 4095 bytes, not a page of 4096");
    err = NULL;

    n = deflate_n(src, PS + 1, z, sizeof(z));
    assert_false(mc_page_inflate(zi, page, PS, z, n, 77, "ram/pc.ram", &err));
    expect_err(err, "inflates to more than a page");
    err = NULL;

    n = deflate_n(src, PS, z, sizeof(z));
    assert_false(mc_page_inflate(zi, page, PS, z, n - 1, 77, "ram/pc.ram",
                                 &err));
    expect_err(err, "truncated");
    err = NULL;

    z[n] = 0;
    assert_false(mc_page_inflate(zi, page, PS, z, n + 1, 77, "ram/pc.ram",
                                 &err));
    expect_err(err, "1 bytes after the end of its zlib stream");
    err = NULL;

    memset(z, 0xff, 32);
    assert_false(mc_page_inflate(zi, page, PS, z, 32, 77, "ram/pc.ram", &err));
    expect_err(err, "not valid zlib data");
    err = NULL;

    assert_false(mc_page_inflate(zi, page, PS, z, 0, 77, "ram/pc.ram", &err));
    expect_err(err, "truncated");
    err = NULL;

    /* still usable after errors */
    n = deflate_n(src, PS, z, sizeof(z));
    assert_true(mc_page_inflate(zi, page, PS, z, n, 77, "ram/pc.ram", &err));
    mc_page_inflater_free(zi);
}

static void test_page_set(void **state)
{
    mc_page_set *s = mc_page_set_new();
    assert_false(mc_page_set_has(s, 0));
    uint64_t idx[] = {0, 1, 63, 64, 32767, 32768, 1ull << 40, 99999999};
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        assert_false(mc_page_set_has(s, idx[i]));
        mc_page_set_add(s, idx[i]);
        assert_true(mc_page_set_has(s, idx[i]));
    }
    mc_page_set_add(s, 64);
    assert_int_equal(mc_page_set_count(s), 8);
    assert_false(mc_page_set_has(s, 2));
    assert_false(mc_page_set_has(s, (1ull << 40) + 1));
    /* many chunks: the table grows */
    for (uint64_t i = 0; i < 200; i++) {
        mc_page_set_add(s, i * 32768 * 3 + 5);
    }
    for (uint64_t i = 0; i < 200; i++) {
        assert_true(mc_page_set_has(s, i * 32768 * 3 + 5));
        assert_false(mc_page_set_has(s, i * 32768 * 3 + 6));
    }
    mc_page_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_xbzrle_vectors),
        cmocka_unit_test(test_xbzrle_errors),
        cmocka_unit_test(test_xbzrle_roundtrip),
        cmocka_unit_test(test_inflate),
        cmocka_unit_test(test_page_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
