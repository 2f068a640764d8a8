/*
 * Damaged real streams: every truncation of a small fixture (legacy and
 * BER) but the one just before its vmdesc is rejected with a data error that carries an offset; samples of
 * truncations of larger fixtures likewise; random bit flips and overwritten
 * length fields either are rejected cleanly or, when the damage lands in
 * plain data, convert and come back byte for byte.  Nothing crashes, hangs
 * or leaks (CI runs this under ASan and UBSan too).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"
#include "format/readers.h"
#include "testutil.h"
#include "visit/visitors.h"

/* A small deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void expect_clean_failure(tu_reader_fn reader, const uint8_t *p,
                                 size_t n, size_t full, const char *what)
{
    mc_visitor *v = mc_null_visitor_new();
    mc_error *err = NULL;
    bool ok = tu_run(reader, p, n, v, &err);
    mc_visitor_free(v);
    if (ok) {
        fail_msg("%s truncated to %zu of %zu bytes was accepted", what, n,
                 full);
    }
    if (!err || err->cls != MC_ERR_DATA || err->offset == MC_NO_OFFSET ||
        err->offset > n) {
        fail_msg("%s truncated to %zu: bad error (%s, offset %llu)", what, n,
                 err ? err->msg : "none",
                 err ? (unsigned long long)err->offset : 0ull);
    }
    mc_error_free(err);
}

/* The BER reader without the libtasn1 schema pass (which the golden tests
 * of test_ber.c cover on every truncation): the same structural checks,
 * fast enough to try every length of a real stream. */
static bool plain_ber_reader(mc_src *src, mc_visitor *v, mc_error **errp)
{
    mc_read_opts o = {0};
    return mc_ber_read(src, v, &o, errp);
}

/*
 * MC_TEST_SCALE=P (1..100, default 100) runs P percent of the work: every
 * (100/P)th truncation length and P percent of the random samples.  The
 * sanitizer job uses it, since the full sweep is quadratic and ASan
 * multiplies its cost; the plain run does everything.
 */
static int scale_percent(void)
{
    const char *e = getenv("MC_TEST_SCALE");
    long v = e ? strtol(e, NULL, 10) : 100;
    return v >= 1 && v <= 100 ? (int)v : 100;
}

static size_t truncation_step(void)
{
    return (size_t)((100 + scale_percent() - 1) / scale_percent());
}

static int samples(int n)
{
    int k = n * scale_percent() / 100;
    return k > 0 ? k : 1;
}

static void test_every_truncation_small_fixture(void **state)
{
    size_t step = truncation_step();
    size_t len, blen;
    uint8_t *in = tu_read_file(tu_fixture("x86-microvm"), &len);
    mc_error *err = NULL;
    uint8_t *ber = tu_legacy_to_ber(in, len, true, &blen, &err);
    assert_non_null(ber);
    /* Cut just before its vmdesc (QEMU_VM_VMDESCRIPTION, be32 length,
     * the JSON up to the end), the stream is whole, as QEMU writes it with
     * suppress-vmdesc=on: the built-in tables read it. */
    size_t cut = len;
    for (size_t o = len - 6; o > 0 && cut == len; o--) {
        if (in[o] == 0x06 && in[o + 5] == '{' &&
            ((size_t)in[o + 1] << 24 | (size_t)in[o + 2] << 16 |
             (size_t)in[o + 3] << 8 | in[o + 4]) == len - o - 5) {
            cut = o;
        }
    }
    assert_true(cut < len);
    mc_visitor *whole = mc_null_visitor_new();
    assert_true(tu_run(tu_legacy_reader, in, cut, whole, &err));
    mc_visitor_free(whole);
    for (size_t n = 0; n < len; n += step) {
        if (n != cut) {
            expect_clean_failure(tu_legacy_reader, in, n, len, "legacy");
        }
    }
    for (size_t n = 0; n < blen; n += step) {
        expect_clean_failure(n % 16 ? plain_ber_reader : tu_ber_reader, ber,
                             n, blen, "BER");
    }
    free(ber);
    free(in);
}

static void test_sampled_truncations(void **state)
{
    const char *names[] = {"pc-bare", "q35-devices", "pc-xbzrle", "pc-block",
                           "ppc64-pseries", "pc-postcopy-switched"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t len, blen;
        uint8_t *in = tu_read_file(tu_fixture(names[i]), &len);
        mc_error *err = NULL;
        uint8_t *ber = tu_legacy_to_ber(in, len, true, &blen, &err);
        assert_non_null(ber);
        for (int k = 0; k < samples(150); k++) {
            expect_clean_failure(tu_legacy_reader, in, rnd() % len, len,
                                 names[i]);
            expect_clean_failure(tu_ber_reader, ber, rnd() % blen, blen,
                                 names[i]);
        }
        free(ber);
        free(in);
    }
}

/* Damage that is accepted must survive the round trip exactly. */
static void check_damaged(const uint8_t *p, size_t n, const char *what)
{
    mc_error *err = NULL;
    size_t blen, llen;
    uint8_t *ber = tu_legacy_to_ber(p, n, true, &blen, &err);
    if (!ber) {
        assert_non_null(err);
        assert_true(err->cls == MC_ERR_DATA);
        assert_true(err->offset == MC_NO_OFFSET || err->offset <= n);
        mc_error_free(err);
        return;
    }
    uint8_t *back = tu_ber_to_legacy(ber, blen, &llen, &err);
    if (!back) {
        fail_msg("%s: accepted legacy input failed to come back: %s", what,
                 err->msg);
    }
    if (llen != n || memcmp(back, p, n) != 0) {
        fail_msg("%s: accepted damaged input did not round-trip", what);
    }
    free(back);
    free(ber);
}

static void test_bit_flips_and_lengths(void **state)
{
    const char *names[] = {"pc-bare", "q35-bare", "pc-1.4", "x86-microvm",
                           "s390x-ccw"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t len;
        uint8_t *in = tu_read_file(tu_fixture(names[i]), &len);
        uint8_t *d = mc_malloc(len);
        /* Bit flips anywhere; the device state is at the start and end,
         * so half the flips go into the first and last 64 KiB. */
        for (int k = 0; k < samples(120); k++) {
            memcpy(d, in, len);
            size_t at = rnd() % len;
            if (k % 2 && len > 131072) {
                at = rnd() % 65536;
                if (k % 4 == 1) {
                    at = len - 1 - at;
                }
            }
            d[at] ^= (uint8_t)(1u << (rnd() % 8));
            check_damaged(d, len, names[i]);
        }
        /* Overwritten big-endian length-like words: 0xffffffff and 0x7fff
         * at random 4-byte positions. */
        for (int k = 0; k < samples(60); k++) {
            memcpy(d, in, len);
            size_t at = rnd() % (len - 4);
            mc_put_be32(d + at, k % 2 ? 0xffffffffu : 0x00007fffu);
            check_damaged(d, len, names[i]);
        }
        free(d);
        free(in);
    }
}

/*
 * Damage to BER input: rejected cleanly, or accepted, in which case the
 * legacy stream it stands for converts back to BER and again to the same
 * legacy bytes.  (Field names and types are informational: a damaged name
 * is accepted and the BER made again from the legacy stream carries the
 * vmdesc's name, so the invariant is on the legacy bytes.)
 */
static void test_ber_bit_flips(void **state)
{
    size_t len, blen;
    uint8_t *in = tu_read_file(tu_fixture("pc-bare"), &len);
    mc_error *err = NULL;
    uint8_t *ber = tu_legacy_to_ber(in, len, true, &blen, &err);
    assert_non_null(ber);
    uint8_t *d = mc_malloc(blen);
    int accepted = 0;
    for (int k = 0; k < samples(300); k++) {
        memcpy(d, ber, blen);
        d[rnd() % blen] ^= (uint8_t)(1u << (rnd() % 8));
        size_t llen;
        uint8_t *leg = tu_ber_to_legacy(d, blen, &llen, &err);
        if (!leg) {
            assert_true(err->cls == MC_ERR_DATA);
            assert_true(err->offset != MC_NO_OFFSET && err->offset <= blen);
            mc_error_free(err);
            err = NULL;
            continue;
        }
        accepted++;
        size_t b2len, l2len;
        uint8_t *b2 = tu_legacy_to_ber(leg, llen, true, &b2len, &err);
        if (!b2) {
            fail_msg("legacy from accepted BER was rejected: %s", err->msg);
        }
        uint8_t *l2 = tu_ber_to_legacy(b2, b2len, &l2len, &err);
        assert_non_null(l2);
        assert_int_equal(l2len, llen);
        assert_memory_equal(l2, leg, llen);
        free(l2);
        free(b2);
        free(leg);
    }
    /* most flips land in page data and values, which stay valid */
    assert_true(accepted > 0);
    free(d);
    free(ber);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_truncation_small_fixture),
        cmocka_unit_test(test_sampled_truncations),
        cmocka_unit_test(test_bit_flips_and_lengths),
        cmocka_unit_test(test_ber_bit_flips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
