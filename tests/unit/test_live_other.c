/*
 * The codecs of src/legacy/live_other.c: spapr/htab, s390-storage_attributes
 * and s390-skeys.  Golden streams built byte by byte (annotated per field,
 * after hw/ppc/spapr.c, hw/s390x/s390-stattrib.c and hw/s390x/s390-skeys.c
 * of QEMU 7.2), the exact visitor calls they produce, the legacy writer and
 * BER giving the bytes back, every truncation failing cleanly, damaged
 * records, and the real QEMU 7.2 streams of other architectures.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/stream.h"
#include "legacy/live.h"
#include "format/readers.h"
#include "recorder.h"
#include "testutil.h"
#include "visit/visitors.h"

/* ---- building streams ---- */

/* "QEVM", version 3; no configuration: 4 KiB pages by default. */
static void put_header(tu_buf *b)
{
    tu_be32(b, MC_VM_FILE_MAGIC);
    tu_be32(b, MC_VM_FILE_VERSION);
}

/* START or FULL header: type, section id, idstr, instance, version. */
static void put_start(tu_buf *b, uint8_t type, uint32_t id, const char *idstr,
                      uint32_t version)
{
    tu_u8(b, type);
    tu_be32(b, id);             /* section id */
    tu_str(b, idstr);           /* u8 length + idstr */
    tu_be32(b, 0);              /* instance id */
    tu_be32(b, version);        /* version id */
}

/* PART or END header: type, section id. */
static void put_part(tu_buf *b, uint8_t type, uint32_t id)
{
    tu_u8(b, type);
    tu_be32(b, id);
}

static void put_footer(tu_buf *b, uint32_t id)
{
    tu_u8(b, MC_VM_SECTION_FOOTER);
    tu_be32(b, id);
}

/* ---- golden streams ---- */

/*
 * spapr/htab (version 1) of a guest with a 2 MiB hash page table:
 * save_setup, one save_live_iterate (first pass: valid HPTEs), and
 * save_live_complete (later pass: dirty HPTEs, valid then invalid).
 */
static void put_htab(tu_buf *b)
{
    put_header(b);
    put_start(b, MC_VM_SECTION_START, 3, "spapr/htab", 1);
    tu_be32(b, 21);             /* htab_shift: 2 MiB, 131072 HPTEs */
    put_footer(b, 3);

    put_part(b, MC_VM_SECTION_PART, 3);
    tu_be32(b, 0);              /* iteration header: chunks follow */
    tu_be32(b, 0x20);           /* chunk: index */
    tu_be16(b, 2);              /*        n_valid */
    tu_be16(b, 0);              /*        n_invalid */
    tu_be64(b, 0x1081);         /*        HPTE 0x20: v (AVPN | VALID) */
    tu_be64(b, 0x100192);       /*                   r (RPN | R C M | PP) */
    tu_be64(b, 0x1101);         /*        HPTE 0x21: v */
    tu_be64(b, 0x110192);       /*                   r */
    tu_be32(b, 0);              /* end marker: index 0 */
    tu_be16(b, 0);              /*             n_valid 0 */
    tu_be16(b, 0);              /*             n_invalid 0 */
    put_footer(b, 3);

    put_part(b, MC_VM_SECTION_END, 3);
    tu_be32(b, 0);              /* iteration header */
    tu_be32(b, 0x800);          /* chunk: index */
    tu_be16(b, 1);              /*        n_valid */
    tu_be16(b, 2);              /*        n_invalid: 0x801, 0x802 zeroed */
    tu_be64(b, 0x1201);         /*        HPTE 0x800: v */
    tu_be64(b, 0x130192);       /*                    r */
    tu_be32(b, 0x900);          /* chunk: index */
    tu_be16(b, 0);              /*        n_valid */
    tu_be16(b, 1);              /*        n_invalid */
    tu_be32(b, 0);              /* end marker */
    tu_be16(b, 0);
    tu_be16(b, 0);
    put_footer(b, 3);
    tu_u8(b, MC_VM_EOF);
}

static const char htab_calls[] =
    "start_stream magic=5145564d version=3 page_size=4096 src=default names=1\n"
    "start_section type=1 kind=vmstate id=3 idstr=spapr/htab instance=0 version=1\n"
    "int name=htab_shift type=uint32 wt=uint32 raw=0x15\n"
    "end_section footer=1\n"
    "start_section type=2 kind=vmstate id=3 idstr=spapr/htab instance=0 version=0\n"
    "int name=header type=uint32 wt=uint32 raw=0x0\n"
    "start_struct name=chunk type=htab chunk\n"
    "int name=index type=uint32 wt=uint32 raw=0x20\n"
    "int name=n_valid type=uint16 wt=uint16 raw=0x2\n"
    "int name=n_invalid type=uint16 wt=uint16 raw=0x0\n"
    "packed name=hptes wt=uint64 count=4 hex="
    "0000000000001081" "0000000000100192" "0000000000001101" "0000000000110192\n"
    "end_struct\n"
    "start_struct name=end type=htab end\n"
    "int name=index type=uint32 wt=uint32 raw=0x0\n"
    "int name=n_valid type=uint16 wt=uint16 raw=0x0\n"
    "int name=n_invalid type=uint16 wt=uint16 raw=0x0\n"
    "end_struct\n"
    "end_section footer=1\n"
    "start_section type=3 kind=vmstate id=3 idstr=spapr/htab instance=0 version=0\n"
    "int name=header type=uint32 wt=uint32 raw=0x0\n"
    "start_struct name=chunk type=htab chunk\n"
    "int name=index type=uint32 wt=uint32 raw=0x800\n"
    "int name=n_valid type=uint16 wt=uint16 raw=0x1\n"
    "int name=n_invalid type=uint16 wt=uint16 raw=0x2\n"
    "packed name=hptes wt=uint64 count=2 hex=0000000000001201" "0000000000130192\n"
    "end_struct\n"
    "start_struct name=chunk type=htab chunk\n"
    "int name=index type=uint32 wt=uint32 raw=0x900\n"
    "int name=n_valid type=uint16 wt=uint16 raw=0x0\n"
    "int name=n_invalid type=uint16 wt=uint16 raw=0x1\n"
    "packed name=hptes wt=uint64 count=0 hex=\n"
    "end_struct\n"
    "start_struct name=end type=htab end\n"
    "int name=index type=uint32 wt=uint32 raw=0x0\n"
    "int name=n_valid type=uint16 wt=uint16 raw=0x0\n"
    "int name=n_invalid type=uint16 wt=uint16 raw=0x0\n"
    "end_struct\n"
    "end_section footer=1\n"
    "eof\n"
    "end_stream\n";

/* spapr/htab of a guest without a hash page table (radix): -1 in every
 * section and nothing else (htab_save_setup/_iterate/_complete). */
static void put_htab_none(tu_buf *b)
{
    put_header(b);
    put_start(b, MC_VM_SECTION_START, 0, "spapr/htab", 1);
    tu_be32(b, 0xffffffff);     /* htab_shift -1: no HPT */
    put_footer(b, 0);
    put_part(b, MC_VM_SECTION_PART, 0);
    tu_be32(b, 0xffffffff);     /* iteration header -1 */
    put_footer(b, 0);
    put_part(b, MC_VM_SECTION_END, 0);
    tu_be32(b, 0xffffffff);
    put_footer(b, 0);
    tu_u8(b, MC_VM_EOF);
}

static const char htab_none_calls[] =
    "start_stream magic=5145564d version=3 page_size=4096 src=default names=1\n"
    "start_section type=1 kind=vmstate id=0 idstr=spapr/htab instance=0 version=1\n"
    "int name=htab_shift type=uint32 wt=uint32 raw=0xffffffff\n"
    "end_section footer=1\n"
    "start_section type=2 kind=vmstate id=0 idstr=spapr/htab instance=0 version=0\n"
    "int name=htab_shift type=uint32 wt=uint32 raw=0xffffffff\n"
    "end_section footer=1\n"
    "start_section type=3 kind=vmstate id=0 idstr=spapr/htab instance=0 version=0\n"
    "int name=htab_shift type=uint32 wt=uint32 raw=0xffffffff\n"
    "end_section footer=1\n"
    "eof\n"
    "end_stream\n";

/*
 * s390-storage_attributes (version 0) with CMMA data, as KVM gives it:
 * cmma_save_setup (EOS alone), one cmma_save_iterate (MORE, EOS) and
 * cmma_save_complete (MORE, DONE, EOS).
 */
static void put_stattr(tu_buf *b)
{
    put_header(b);
    put_start(b, MC_VM_SECTION_START, 7, "s390-storage_attributes", 0);
    tu_be64(b, 0x01);           /* EOS */
    put_footer(b, 7);

    put_part(b, MC_VM_SECTION_PART, 7);
    tu_be64(b, 0x5000 | 0x02);  /* MORE: gfn 5 << 12 | STATTR_FLAG_MORE */
    tu_be64(b, 3);              /* count: 3 pages */
    tu_put(b, "\x00\x01\x03", 3); /* one attribute byte per page */
    tu_be64(b, 0x01);           /* EOS */
    put_footer(b, 7);

    put_part(b, MC_VM_SECTION_END, 7);
    tu_be64(b, 0x8000 | 0x02);  /* MORE: gfn 8 */
    tu_be64(b, 1);              /* count */
    tu_u8(b, 0x40);             /* attribute */
    tu_be64(b, 0x08);           /* DONE */
    tu_be64(b, 0x01);           /* EOS */
    put_footer(b, 7);
    tu_u8(b, MC_VM_EOF);
}

static const char stattr_calls[] =
    "start_stream magic=5145564d version=3 page_size=4096 src=default names=1\n"
    "start_section type=1 kind=vmstate id=7 idstr=s390-storage_attributes instance=0 version=0\n"
    "int name=eos type=uint64 wt=uint64 raw=0x1\n"
    "end_section footer=1\n"
    "start_section type=2 kind=vmstate id=7 idstr=s390-storage_attributes instance=0 version=0\n"
    "start_struct name=more type=stattr more\n"
    "int name=addr_flags type=uint64 wt=uint64 raw=0x5002\n"
    "int name=count type=uint64 wt=uint64 raw=0x3\n"
    "bytes name=attributes type=cmma len=3 hex=000103\n"
    "end_struct\n"
    "int name=eos type=uint64 wt=uint64 raw=0x1\n"
    "end_section footer=1\n"
    "start_section type=3 kind=vmstate id=7 idstr=s390-storage_attributes instance=0 version=0\n"
    "start_struct name=more type=stattr more\n"
    "int name=addr_flags type=uint64 wt=uint64 raw=0x8002\n"
    "int name=count type=uint64 wt=uint64 raw=0x1\n"
    "bytes name=attributes type=cmma len=1 hex=40\n"
    "end_struct\n"
    "int name=done type=uint64 wt=uint64 raw=0x8\n"
    "int name=eos type=uint64 wt=uint64 raw=0x1\n"
    "end_section footer=1\n"
    "eof\n"
    "end_stream\n";

/*
 * s390-skeys (version 1, one FULL section): two memory ranges, then EOS
 * (s390_storage_keys_save).  A second FULL section of another instance
 * shows the saver's ERROR end (keys could not be read, zeros sent).
 */
static void put_skeys(tu_buf *b)
{
    put_header(b);
    put_start(b, MC_VM_SECTION_FULL, 12, "s390-skeys", 1);
    tu_be64(b, 0x0 | 0x02);     /* range: address 0 | SKEYS */
    tu_be64(b, 4);              /*        pages */
    tu_put(b, "\x06\x16\x26\x36", 4); /*  one key per page */
    tu_be64(b, 0x100000 | 0x02); /* range: address 1 MiB | SKEYS */
    tu_be64(b, 2);              /*        pages */
    tu_put(b, "\xf6\x00", 2);   /*        keys */
    tu_be64(b, 0x01);           /* EOS */
    put_footer(b, 12);

    tu_u8(b, MC_VM_SECTION_FULL);
    tu_be32(b, 13);             /* section id */
    tu_str(b, "s390-skeys");
    tu_be32(b, 1);              /* instance id */
    tu_be32(b, 1);              /* version id */
    tu_be64(b, 0x02);           /* range: address 0 | SKEYS */
    tu_be64(b, 1);              /*        pages */
    tu_u8(b, 0);                /*        key (zeroed after the error) */
    tu_be64(b, 0x04);           /* ERROR */
    put_footer(b, 13);
    tu_u8(b, MC_VM_EOF);
}

static const char skeys_calls[] =
    "start_stream magic=5145564d version=3 page_size=4096 src=default names=1\n"
    "start_section type=4 kind=vmstate id=12 idstr=s390-skeys instance=0 version=1\n"
    "start_struct name=range type=skeys range\n"
    "int name=addr_flags type=uint64 wt=uint64 raw=0x2\n"
    "int name=pages type=uint64 wt=uint64 raw=0x4\n"
    "bytes name=keys type=skeys len=4 hex=06162636\n"
    "end_struct\n"
    "start_struct name=range type=skeys range\n"
    "int name=addr_flags type=uint64 wt=uint64 raw=0x100002\n"
    "int name=pages type=uint64 wt=uint64 raw=0x2\n"
    "bytes name=keys type=skeys len=2 hex=f600\n"
    "end_struct\n"
    "int name=eos type=uint64 wt=uint64 raw=0x1\n"
    "end_section footer=1\n"
    "start_section type=4 kind=vmstate id=13 idstr=s390-skeys instance=1 version=1\n"
    "start_struct name=range type=skeys range\n"
    "int name=addr_flags type=uint64 wt=uint64 raw=0x2\n"
    "int name=pages type=uint64 wt=uint64 raw=0x1\n"
    "bytes name=keys type=skeys len=1 hex=00\n"
    "end_struct\n"
    "int name=error type=uint64 wt=uint64 raw=0x4\n"
    "end_section footer=1\n"
    "eof\n"
    "end_stream\n";

typedef struct golden {
    const char *name;
    void (*put)(tu_buf *b);
    const char *calls;
} golden;

static const golden goldens[] = {
    {"spapr/htab", put_htab, htab_calls},
    {"spapr/htab without HPT", put_htab_none, htab_none_calls},
    {"s390-storage_attributes", put_stattr, stattr_calls},
    {"s390-skeys", put_skeys, skeys_calls},
};
#define N_GOLDENS (sizeof(goldens) / sizeof(goldens[0]))

/* ---- golden tests ---- */

static void test_codecs_registered(void **state)
{
    const char *ids[] = {"spapr/htab", "s390-storage_attributes",
                         "s390-skeys"};
    for (size_t i = 0; i < 3; i++) {
        const mc_live_codec *c = mc_live_codec_find(ids[i]);
        assert_non_null(c);
        assert_string_equal(c->idstr, ids[i]);
        assert_non_null(c->parse);
    }
    assert_null(mc_live_codec_find("spapr"));
    assert_null(mc_live_codec_find("s390_css"));
}

static void test_golden_calls(void **state)
{
    for (size_t i = 0; i < N_GOLDENS; i++) {
        tu_buf b = {0};
        goldens[i].put(&b);
        mc_visitor *rec = tu_recorder_new();
        mc_error *err = NULL;
        if (!tu_run(tu_legacy_reader, b.p, b.len, rec, &err)) {
            fail_msg("%s: %s", goldens[i].name, mc_error_format(err));
        }
        assert_string_equal(tu_recorder_text(rec), goldens[i].calls);
        mc_visitor_free(rec);
        tu_free(&b);
    }
}

/* The legacy writer gives back the exact bytes. */
static void test_golden_rewrite_identical(void **state)
{
    for (size_t i = 0; i < N_GOLDENS; i++) {
        tu_buf b = {0};
        goldens[i].put(&b);
        mc_sink k;
        mc_sink_init_mem(&k);
        mc_visitor *w = mc_legacy_writer_new(&k);
        mc_error *err = NULL;
        if (!tu_run(tu_legacy_reader, b.p, b.len, w, &err)) {
            fail_msg("%s: %s", goldens[i].name, mc_error_format(err));
        }
        mc_visitor_free(w);
        assert_int_equal(k.len, b.len);
        assert_memory_equal(k.buf, b.p, b.len);
        mc_sink_cleanup(&k);
        tu_free(&b);
    }
}

/* Through BER (with and without names) and back: the same bytes, and the
 * BER reader reports the same values as the legacy reader. */
static void test_golden_ber_round_trip(void **state)
{
    for (size_t i = 0; i < N_GOLDENS; i++) {
        tu_buf b = {0};
        goldens[i].put(&b);
        for (int names = 0; names < 2; names++) {
            size_t blen, llen;
            mc_error *err = NULL;
            uint8_t *ber = tu_legacy_to_ber(b.p, b.len, names, &blen, &err);
            if (!ber) {
                fail_msg("%s: %s", goldens[i].name, mc_error_format(err));
            }
            uint8_t *back = tu_ber_to_legacy(ber, blen, &llen, &err);
            if (!back) {
                fail_msg("%s: %s", goldens[i].name, mc_error_format(err));
            }
            assert_int_equal(llen, b.len);
            assert_memory_equal(back, b.p, b.len);
            if (names) {
                mc_visitor *rec = tu_recorder_new();
                assert_true(tu_run(tu_ber_reader, ber, blen, rec, &err));
                assert_string_equal(tu_recorder_text(rec), goldens[i].calls);
                mc_visitor_free(rec);
            }
            free(back);
            free(ber);
        }
        tu_free(&b);
    }
}

/* Every proper prefix fails with a data error that has an offset within
 * the prefix; none crashes or reads past it (ASan/valgrind in CI). */
static void test_every_truncation_fails(void **state)
{
    for (size_t i = 0; i < N_GOLDENS; i++) {
        tu_buf b = {0};
        goldens[i].put(&b);
        for (size_t n = 0; n < b.len; n++) {
            /* a copy of exactly n bytes, so reading past it is caught */
            uint8_t *p = malloc(n ? n : 1);
            memcpy(p, b.p, n);
            mc_visitor *v = mc_null_visitor_new();
            mc_error *err = NULL;
            bool ok = tu_run(tu_legacy_reader, p, n, v, &err);
            mc_visitor_free(v);
            free(p);
            if (ok) {
                fail_msg("%s: truncation to %zu of %zu bytes was accepted",
                         goldens[i].name, n, b.len);
            }
            assert_non_null(err);
            assert_int_equal(err->cls, MC_ERR_DATA);
            assert_true(err->offset != MC_NO_OFFSET);
            assert_true(err->offset <= n);
            mc_error_free(err);
        }
        tu_free(&b);
    }
}

/* ---- damaged input ---- */

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

/* The offset where the data of the first section starts. */
static size_t data_offset(const char *idstr)
{
    return 8 + 1 + 4 + 1 + strlen(idstr) + 4 + 4;
}

static void test_htab_damaged(void **state)
{
    tu_buf b = {0};
    size_t d = data_offset("spapr/htab");

    /* a chunk past the end of the 2^21 / 16 = 131072 HPTEs */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "spapr/htab", 1);
    tu_be32(&b, 21);
    put_footer(&b, 1);
    size_t part = b.len;
    put_part(&b, MC_VM_SECTION_PART, 1);
    tu_be32(&b, 0);
    tu_be32(&b, 131071);        /* index */
    tu_be16(&b, 1);             /* n_valid */
    tu_be16(&b, 1);             /* n_invalid: one past the end */
    tu_be64(&b, 1);
    tu_be64(&b, 0);
    expect_error(&b, part + 5 + 4, "runs past the 131072 entries");
    /* one fewer fits: the chunk is read, then the input ends */
    b.p[part + 5 + 4 + 7] = 0;
    expect_error(&b, MC_NO_OFFSET, "unexpected end of input");
    tu_free(&b);

    /* chunks after "no HPT" */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "spapr/htab", 1);
    tu_be32(&b, 0xffffffff);
    put_footer(&b, 1);
    part = b.len;
    put_part(&b, MC_VM_SECTION_END, 1);
    tu_be32(&b, 0);
    tu_be32(&b, 5);
    tu_be16(&b, 1);
    tu_be16(&b, 0);
    expect_error(&b, part + 5 + 4, "there is no hash page table");
    tu_free(&b);

    /* a version QEMU does not write */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "spapr/htab", 2);
    tu_be32(&b, 21);
    expect_error(&b, d, "spapr/htab version 2 is not supported");
    tu_free(&b);

    /* the chunk loop ends only at (0, 0, 0): a missing end marker runs
     * into the footer, read as a chunk header, and then out of input */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "spapr/htab", 1);
    tu_be32(&b, 0);
    put_footer(&b, 1);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, MC_NO_OFFSET, "unexpected end of input");
    tu_free(&b);
}

static void test_stattr_damaged(void **state)
{
    tu_buf b = {0};
    size_t d = data_offset("s390-storage_attributes");

    /* flags QEMU's loader does not know (MORE | EOS) */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "s390-storage_attributes", 0);
    tu_be64(&b, 0x7000 | 0x03);
    expect_error(&b, d, "unexpected storage attribute flags 0x3");
    tu_free(&b);

    /* a count no section can hold is refused before any byte is taken */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "s390-storage_attributes", 0);
    tu_be64(&b, 0x02);
    tu_be64(&b, (uint64_t)1 << 40);
    tu_be64(&b, 0x01);
    expect_error(&b, d + 8, "attributes of 1099511627776 bytes is more than "
                            "the section can hold");
    tu_free(&b);

    /* a count that runs past the input */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "s390-storage_attributes", 0);
    tu_be64(&b, 0x02);
    tu_be64(&b, 100);
    tu_put(&b, "abc", 3);
    expect_error(&b, MC_NO_OFFSET, "unexpected end of input");
    tu_free(&b);

    /* version 1 is not what QEMU writes */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "s390-storage_attributes", 1);
    tu_be64(&b, 0x01);
    expect_error(&b, d, "s390-storage_attributes version 1 is not supported");
    tu_free(&b);

    /* EOS must be followed by the footer: a second EOS is not data */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "s390-storage_attributes", 0);
    tu_be64(&b, 0x01);
    tu_be64(&b, 0x01);
    put_footer(&b, 1);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, d + 8, "section data is followed by byte 0x00");
    tu_free(&b);
}

static void test_skeys_damaged(void **state)
{
    tu_buf b = {0};
    size_t d = data_offset("s390-skeys");

    /* DONE belongs to the storage attributes, not to the keys */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_FULL, 1, "s390-skeys", 1);
    tu_be64(&b, 0x08);
    expect_error(&b, d, "unexpected storage key flags 0x8");
    tu_free(&b);

    /* storage keys are never a live section */
    put_header(&b);
    put_start(&b, MC_VM_SECTION_START, 1, "s390-skeys", 1);
    tu_be64(&b, 0x01);
    expect_error(&b, d, "s390-skeys is saved in one full section");
    tu_free(&b);

    put_header(&b);
    put_start(&b, MC_VM_SECTION_FULL, 1, "s390-skeys", 2);
    tu_be64(&b, 0x01);
    expect_error(&b, d, "s390-skeys version 2 is not supported");
    tu_free(&b);
}

/* ---- real QEMU 7.2 streams of other architectures ---- */

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

static void note_warning(void *opaque, const mc_error *w)
{
    char **last = opaque;
    free(*last);
    *last = mc_error_format(w);
}

typedef struct fixture_run {
    char *calls;     /* recorder text */
    char *warning;   /* the last warning, or NULL */
} fixture_run;

/* Read a fixture into the recorder (with a warning hook), check that it
 * goes through BER (with and without names) and back byte for byte. */
static fixture_run run_fixture(const char *name)
{
    fixture_run fr = {0};
    if (!tu_fixture_exists(name)) {
        fail_msg("fixture %s is missing (tests/qemu/make-fixtures.py --only %s)",
                 name, name);
    }
    size_t len;
    uint8_t *in = tu_read_file(tu_fixture(name), &len);

    mc_read_opts o = {.warn = note_warning, .warn_opaque = &fr.warning};
    mc_src src;
    mc_src_init_mem(&src, in, len);
    mc_visitor *rec = tu_recorder_new();
    mc_error *err = NULL;
    if (!mc_legacy_read(&src, rec, &o, &err)) {
        fail_msg("%s: %s", name, mc_error_format(err));
    }
    fr.calls = strdup(tu_recorder_text(rec));
    mc_visitor_free(rec);
    mc_src_cleanup(&src);

    for (int names = 0; names < 2; names++) {
        size_t blen, llen;
        uint8_t *ber = tu_legacy_to_ber(in, len, names, &blen, &err);
        if (!ber) {
            fail_msg("%s: %s", name, mc_error_format(err));
        }
        uint8_t *back = tu_ber_to_legacy(ber, blen, &llen, &err);
        if (!back) {
            fail_msg("%s: %s", name, mc_error_format(err));
        }
        assert_int_equal(llen, len);
        assert_memory_equal(back, in, len);
        free(back);
        free(ber);
    }
    free(in);
    return fr;
}

static void free_run(fixture_run *fr)
{
    free(fr->calls);
    free(fr->warning);
}

static void expect_in(const char *name, const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fail_msg("%s: no \"%s\"", name, needle);
    }
}

static void test_fixture_ppc64_pseries(void **state)
{
    fixture_run fr = run_fixture("ppc64-pseries");
    const char *t = fr.calls;
    expect_in("ppc64", t, "page_size=4096 src=default");
    expect_in("ppc64", t, "bytes name=name type=buffer len=11 hex="
                          "707365726965732d372e32\n"); /* pseries-7.2 */
    /* START: a 2 MiB table */
    expect_in("ppc64", t, "idstr=spapr/htab instance=0 version=1\n"
                          "int name=htab_shift type=uint32 wt=uint32 raw=0x15\n"
                          "end_section footer=1\n");
    /* first pass: HPTEs 0x20 and 0x21 in one chunk, 0x400 in another, as
     * the firmware in tests/qemu/fixtures.py entered them */
    expect_in("ppc64", t, "start_struct name=chunk type=htab chunk\n"
                          "int name=index type=uint32 wt=uint32 raw=0x20\n"
                          "int name=n_valid type=uint16 wt=uint16 raw=0x2\n"
                          "int name=n_invalid type=uint16 wt=uint16 raw=0x0\n"
                          "packed name=hptes wt=uint64 count=4 hex="
                          "0000000000001081" "0000000000100192"
                          "0000000000001101" "0000000000110192\n");
    expect_in("ppc64", t, "int name=index type=uint32 wt=uint32 raw=0x400\n");
    /* the final pass: the HPTE the firmware keeps entering and removing */
    expect_in("ppc64", t, "int name=index type=uint32 wt=uint32 raw=0x800\n");
    assert_int_equal(count(t, "start_struct name=end type=htab end\n"),
                     count(t, "int name=header type=uint32 wt=uint32 raw=0x0\n"));
    assert_int_equal(count(t, "type=opaque"), 0);
    expect_in("ppc64", t, "idstr=spapr_iommu ");
    expect_in("ppc64", t, "idstr=cpu instance=0");
    free_run(&fr);
}

static void test_fixture_s390x_ccw(void **state)
{
    fixture_run fr = run_fixture("s390x-ccw");
    const char *t = fr.calls;
    /* storage attributes under TCG: EOS in every section, DONE at the end */
    expect_in("s390x", t, "idstr=s390-storage_attributes instance=0 version=0\n"
                          "int name=eos type=uint64 wt=uint64 raw=0x1\n"
                          "end_section footer=1\n");
    expect_in("s390x", t, "int name=done type=uint64 wt=uint64 raw=0x8\n"
                          "int name=eos type=uint64 wt=uint64 raw=0x1\n");
    /* storage keys: the tiny kernel set key 0x06 + 0x10 * page on all
     * 8192 pages of the 32 MiB guest */
    expect_in("s390x", t, "idstr=s390-skeys instance=0 version=1\n"
                          "start_struct name=range type=skeys range\n"
                          "int name=addr_flags type=uint64 wt=uint64 raw=0x2\n"
                          "int name=pages type=uint64 wt=uint64 raw=0x2000\n"
                          "bytes name=keys type=skeys len=8192 hex="
                          "06162636465666768696a6b6c6d6e6f606162636");
    /* the vmdesc describes s390_css's array of NULL pointers as empty
     * structs: that one section is carried as exact bytes, with a warning */
    assert_int_equal(count(t, "type=opaque"), 1);
    expect_in("s390x", t, "idstr=s390_css instance=0 version=1\n"
                          "bytes name=data type=opaque len=1039 hex=");
    assert_non_null(fr.warning);
    expect_in("s390x", fr.warning, "full s390_css");
    expect_in("s390x", fr.warning, "the vmdesc does not match this section");
    /* the other old-style section is described by the vmdesc */
    expect_in("s390x", t, "idstr=todclock ");
    free_run(&fr);
}

static void test_fixture_aarch64_virt(void **state)
{
    fixture_run fr = run_fixture("aarch64-virt");
    const char *t = fr.calls;
    /* arm's page size varies: the configuration says 4 KiB */
    expect_in("aarch64", t, "page_size=4096 src=configuration");
    expect_in("aarch64", t, "start_subsection name=configuration/target-page-bits "
                            "version=1\n"
                            "int name=target_page_bits type=uint32 wt=uint32 "
                            "raw=0xc\n");
    expect_in("aarch64", t, "idstr=arm_gic ");
    expect_in("aarch64", t, "idstr=cpu instance=0");
    expect_in("aarch64", t, "idstr=pl011 ");
    assert_int_equal(count(t, "type=opaque"), 0);
    assert_null(fr.warning);
    free_run(&fr);
}

static void test_fixture_riscv64_virt(void **state)
{
    fixture_run fr = run_fixture("riscv64-virt");
    const char *t = fr.calls;
    expect_in("riscv64", t, "page_size=4096 src=default");
    expect_in("riscv64", t, "idstr=riscv_sifive_plic ");
    expect_in("riscv64", t, "idstr=riscv_mtimer ");
    expect_in("riscv64", t, "idstr=cpu instance=0");
    assert_int_equal(count(t, "type=opaque"), 0);
    assert_null(fr.warning);
    free_run(&fr);
}

static void test_fixture_x86_microvm(void **state)
{
    fixture_run fr = run_fixture("x86-microvm");
    const char *t = fr.calls;
    expect_in("microvm", t, "bytes name=name type=buffer len=7 hex="
                            "6d6963726f766d\n"); /* microvm */
    expect_in("microvm", t, "/virtio-rng instance=0");
    expect_in("microvm", t, "idstr=acpi-ged ");
    assert_int_equal(count(t, "type=opaque"), 0);
    assert_null(fr.warning);
    free_run(&fr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codecs_registered),
        cmocka_unit_test(test_golden_calls),
        cmocka_unit_test(test_golden_rewrite_identical),
        cmocka_unit_test(test_golden_ber_round_trip),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_htab_damaged),
        cmocka_unit_test(test_stattr_damaged),
        cmocka_unit_test(test_skeys_damaged),
        cmocka_unit_test(test_fixture_ppc64_pseries),
        cmocka_unit_test(test_fixture_s390x_ccw),
        cmocka_unit_test(test_fixture_aarch64_virt),
        cmocka_unit_test(test_fixture_riscv64_virt),
        cmocka_unit_test(test_fixture_x86_microvm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
