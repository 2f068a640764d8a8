/*
 * The codecs of the "block" (block migration) and "dirty-bitmap" live
 * sections: golden streams built byte by byte (annotated per field), the
 * exact visitor calls they produce, the legacy writer and BER giving the
 * bytes back, every truncation failing cleanly, damaged records, and the
 * real QEMU 7.2 fixtures pc-block, pc-dirty-bitmap and pc-postcopy-switched.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/stream.h"
#include "format/readers.h"
#include "recorder.h"
#include "testutil.h"
#include "visit/visitors.h"

/* migration/block.c */
#define BLK_DEVICE_BLOCK 0x01
#define BLK_EOS 0x02
#define BLK_PROGRESS 0x04
#define BLK_ZERO_BLOCK 0x08
#define BLK_SIZE (1u << 20)

/* migration/block-dirty-bitmap.c */
#define DBM_EOS 0x01
#define DBM_ZEROES 0x02
#define DBM_BITMAP_NAME 0x04
#define DBM_DEVICE_NAME 0x08
#define DBM_START 0x10
#define DBM_COMPLETE 0x20
#define DBM_BITS 0x40
#define DBM_EXTRA 0x80

/* ---- helpers ---- */

static void put_header(tu_buf *b)
{
    tu_be32(b, MC_VM_FILE_MAGIC);
    tu_be32(b, MC_VM_FILE_VERSION);
}

static void put_start(tu_buf *b, uint32_t id, const char *idstr,
                      uint32_t version)
{
    tu_u8(b, MC_VM_SECTION_START);
    tu_be32(b, id);             /* section id */
    tu_str(b, idstr);           /* idstr */
    tu_be32(b, 0);              /* instance id */
    tu_be32(b, version);        /* version id */
}

static void put_footer(tu_buf *b, uint32_t id)
{
    tu_u8(b, MC_VM_SECTION_FOOTER);
    tu_be32(b, id);
}

static uint8_t blk_byte(size_t i)
{
    return (uint8_t)(i * 7 + 3);
}

static char *hex_of(const uint8_t *p, size_t n)
{
    static const char dig[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = dig[p[i] >> 4];
        s[2 * i + 1] = dig[p[i] & 15];
    }
    s[2 * n] = 0;
    return s;
}

static char *record(const tu_buf *b, bool *ok, mc_error **err)
{
    mc_visitor *rec = tu_recorder_new();
    *ok = tu_run(tu_legacy_reader, b->p, b->len, rec, err);
    char *text = strdup(tu_recorder_text(rec));
    mc_visitor_free(rec);
    return text;
}

static void expect_calls(const tu_buf *b, const char *want)
{
    mc_error *err = NULL;
    bool ok;
    char *got = record(b, &ok, &err);
    if (!ok) {
        fail_msg("%s", mc_error_format(err));
    }
    assert_string_equal(got, want);
    free(got);
}

/* The legacy writer, and BER with and without names, give the bytes back. */
static void expect_round_trips(const uint8_t *in, size_t len)
{
    mc_sink k;
    mc_sink_init_mem(&k);
    mc_visitor *w = mc_legacy_writer_new(&k);
    mc_error *err = NULL;
    if (!tu_run(tu_legacy_reader, in, len, w, &err)) {
        fail_msg("legacy writer: %s", mc_error_format(err));
    }
    mc_visitor_free(w);
    assert_int_equal(k.len, len);
    assert_memory_equal(k.buf, in, len);
    mc_sink_cleanup(&k);

    for (int names = 0; names < 2; names++) {
        size_t blen, llen;
        uint8_t *ber = tu_legacy_to_ber(in, len, names, &blen, &err);
        if (!ber) {
            fail_msg("to BER: %s", mc_error_format(err));
        }
        uint8_t *back = tu_ber_to_legacy(ber, blen, &llen, &err);
        if (!back) {
            fail_msg("from BER: %s", mc_error_format(err));
        }
        assert_int_equal(llen, len);
        assert_memory_equal(back, in, len);
        free(back);
        free(ber);
    }
}

/*
 * Every proper prefix fails with a data error that has an offset within
 * the prefix.  Inside [skip_from, skip_to) (bulk data) only every 65521st
 * prefix is tried, to keep the test fast.
 */
static void expect_truncations_fail(const tu_buf *b, size_t skip_from,
                                    size_t skip_to)
{
    for (size_t n = 0; n < b->len; n++) {
        if (n > skip_from && n + 1 < skip_to && (n - skip_from) % 65521) {
            continue;
        }
        mc_visitor *v = mc_null_visitor_new();
        mc_error *err = NULL;
        bool ok = tu_run(tu_legacy_reader, b->p, n, v, &err);
        mc_visitor_free(v);
        if (ok) {
            fail_msg("truncation to %zu of %zu bytes was accepted", n, b->len);
        }
        assert_non_null(err);
        assert_int_equal(err->cls, MC_ERR_DATA);
        assert_true(err->offset != MC_NO_OFFSET);
        assert_true(err->offset <= n);
        mc_error_free(err);
    }
}

static void expect_error(const tu_buf *b, uint64_t offset, const char *path,
                         const char *msg)
{
    mc_visitor *v = mc_null_visitor_new();
    mc_error *err = NULL;
    assert_false(tu_run(tu_legacy_reader, b->p, b->len, v, &err));
    mc_visitor_free(v);
    assert_non_null(err);
    char *m = mc_error_format(err);
    if (!strstr(m, msg) || err->offset != offset ||
        !err->path || !strstr(err->path, path)) {
        fail_msg("got \"%s\" (offset %llu), wanted \"%s\" at %llu in %s", m,
                 (unsigned long long)err->offset, msg,
                 (unsigned long long)offset, path);
    }
    assert_int_equal(err->cls, MC_ERR_DATA);
    free(m);
    mc_error_free(err);
}

/* ---- block ---- */

/* As QEMU 7.2 writes it (block_save_setup/iterate/complete), with one
 * device block of data and one zero block.  *data_off: where the data of
 * the device block starts. */
static void put_block_golden(tu_buf *b, size_t *data_off)
{
    put_header(b);
    /* START: block_save_setup sends nothing but EOS */
    put_start(b, 3, "block", 1);
    tu_be64(b, BLK_EOS);                              /* sector_flags: EOS */
    put_footer(b, 3);
    /* PART: bulk phase */
    tu_u8(b, MC_VM_SECTION_PART);
    tu_be32(b, 3);                                    /* section id */
    tu_be64(b, 0ull << 9 | BLK_PROGRESS);             /* progress 0 % */
    tu_be64(b, 2048ull << 9 | BLK_DEVICE_BLOCK);      /* sector 2048 */
    tu_str(b, "disk0");                               /* device name */
    *data_off = b->len;
    uint8_t *chunk = malloc(BLK_SIZE);
    for (size_t i = 0; i < BLK_SIZE; i++) {
        chunk[i] = blk_byte(i);
    }
    tu_put(b, chunk, BLK_SIZE);                       /* data: 1 MiB */
    free(chunk);
    tu_be64(b, 4096ull << 9 | BLK_DEVICE_BLOCK | BLK_ZERO_BLOCK); /* 2 MiB */
    tu_str(b, "disk0");                               /* device name */
    tu_be64(b, 50ull << 9 | BLK_PROGRESS);            /* progress 50 % */
    tu_be64(b, BLK_EOS);
    put_footer(b, 3);
    /* END: block_save_complete */
    tu_u8(b, MC_VM_SECTION_END);
    tu_be32(b, 3);
    tu_be64(b, 100ull << 9 | BLK_PROGRESS);           /* progress 100 % */
    tu_be64(b, BLK_EOS);
    put_footer(b, 3);
    tu_u8(b, MC_VM_EOF);
}

static const char block_calls[] =
    "start_stream magic=5145564d version=3 page_size=4096 src=default names=1\n"
    "start_section type=1 kind=vmstate id=3 idstr=block instance=0 version=1\n"
    "start_struct name=record type=eos\n"
    "int name=sector_flags type=uint64 wt=uint64 raw=0x2\n"
    "end_struct\n"
    "end_section footer=1\n"
    "start_section type=2 kind=vmstate id=3 idstr=block instance=0 version=0\n"
    "start_struct name=record type=progress\n"
    "int name=sector_flags type=uint64 wt=uint64 raw=0x4\n"
    "end_struct\n"
    "start_struct name=record type=device-block\n"
    "int name=sector_flags type=uint64 wt=uint64 raw=0x100001\n"
    "start_struct name=device type=counted string\n"
    "int name=len type=uint8 wt=uint8 raw=0x5\n"
    "bytes name=name type=buffer len=5 hex=6469736b30\n"
    "end_struct\n"
    "bytes name=data type=buffer len=1048576 hex=%s\n"
    "end_struct\n"
    "start_struct name=record type=zero-block\n"
    "int name=sector_flags type=uint64 wt=uint64 raw=0x200009\n"
    "start_struct name=device type=counted string\n"
    "int name=len type=uint8 wt=uint8 raw=0x5\n"
    "bytes name=name type=buffer len=5 hex=6469736b30\n"
    "end_struct\n"
    "end_struct\n"
    "start_struct name=record type=progress\n"
    "int name=sector_flags type=uint64 wt=uint64 raw=0x6404\n"
    "end_struct\n"
    "start_struct name=record type=eos\n"
    "int name=sector_flags type=uint64 wt=uint64 raw=0x2\n"
    "end_struct\n"
    "end_section footer=1\n"
    "start_section type=3 kind=vmstate id=3 idstr=block instance=0 version=0\n"
    "start_struct name=record type=progress\n"
    "int name=sector_flags type=uint64 wt=uint64 raw=0xc804\n"
    "end_struct\n"
    "start_struct name=record type=eos\n"
    "int name=sector_flags type=uint64 wt=uint64 raw=0x2\n"
    "end_struct\n"
    "end_section footer=1\n"
    "eof\n"
    "end_stream\n";

static void test_block_golden(void **state)
{
    tu_buf b = {0};
    size_t data_off;
    put_block_golden(&b, &data_off);
    char *hex = hex_of(b.p + data_off, BLK_SIZE);
    size_t n = sizeof(block_calls) + strlen(hex);
    char *want = malloc(n);
    snprintf(want, n, block_calls, hex);
    expect_calls(&b, want);
    free(want);
    free(hex);
    expect_round_trips(b.p, b.len);
    tu_free(&b);
}

static void test_block_truncations(void **state)
{
    tu_buf b = {0};
    size_t data_off;
    put_block_golden(&b, &data_off);
    expect_truncations_fail(&b, data_off, data_off + BLK_SIZE);
    tu_free(&b);
}

/* Records QEMU's block_load() takes although QEMU never writes them: the
 * EOS bit ends the data after the record's own payload, and unknown flag
 * bits beside DEVICE_BLOCK or PROGRESS are ignored. */
static void test_block_flag_combinations(void **state)
{
    tu_buf b = {0};
    put_header(&b);
    put_start(&b, 7, "block", 1);
    tu_be64(&b, 1ull << 9 | BLK_PROGRESS | 0x100);    /* progress + bit 8 */
    tu_be64(&b, 6144ull << 9 | BLK_DEVICE_BLOCK | BLK_ZERO_BLOCK | BLK_EOS);
    tu_str(&b, "d");                                  /* device name */
    put_footer(&b, 7);
    tu_u8(&b, MC_VM_SECTION_END);
    tu_be32(&b, 7);
    tu_be64(&b, 100ull << 9 | BLK_PROGRESS | BLK_EOS); /* progress, ends */
    put_footer(&b, 7);
    tu_u8(&b, MC_VM_EOF);
    expect_calls(&b,
        "start_stream magic=5145564d version=3 page_size=4096 src=default names=1\n"
        "start_section type=1 kind=vmstate id=7 idstr=block instance=0 version=1\n"
        "start_struct name=record type=progress\n"
        "int name=sector_flags type=uint64 wt=uint64 raw=0x304\n"
        "end_struct\n"
        "start_struct name=record type=zero-block\n"
        "int name=sector_flags type=uint64 wt=uint64 raw=0x30000b\n"
        "start_struct name=device type=counted string\n"
        "int name=len type=uint8 wt=uint8 raw=0x1\n"
        "bytes name=name type=buffer len=1 hex=64\n"
        "end_struct\n"
        "end_struct\n"
        "end_section footer=1\n"
        "start_section type=3 kind=vmstate id=7 idstr=block instance=0 version=0\n"
        "start_struct name=record type=progress\n"
        "int name=sector_flags type=uint64 wt=uint64 raw=0xc806\n"
        "end_struct\n"
        "end_section footer=1\n"
        "eof\n"
        "end_stream\n");
    expect_round_trips(b.p, b.len);
    expect_truncations_fail(&b, 0, 0);
    tu_free(&b);
}

static void test_block_damaged(void **state)
{
    tu_buf b = {0};
    /* a record with none of DEVICE_BLOCK, PROGRESS, EOS */
    put_header(&b);
    put_start(&b, 3, "block", 1);
    size_t rec = b.len;
    tu_be64(&b, 5ull << 9 | 0x10);
    put_footer(&b, 3);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, rec, "start block (id 3)",
                 "unknown block migration flags 0x10");
    tu_free(&b);

    /* an empty device name */
    put_header(&b);
    put_start(&b, 3, "block", 1);
    tu_be64(&b, BLK_DEVICE_BLOCK | BLK_ZERO_BLOCK);
    size_t name = b.len;
    tu_u8(&b, 0);
    tu_be64(&b, BLK_EOS);
    put_footer(&b, 3);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, name, "block", "empty device name");
    tu_free(&b);

    /* a device name with a NUL byte */
    put_header(&b);
    put_start(&b, 3, "block", 1);
    tu_be64(&b, BLK_DEVICE_BLOCK | BLK_ZERO_BLOCK);
    name = b.len;
    tu_u8(&b, 3);
    tu_put(&b, "a\0b", 3);
    tu_be64(&b, BLK_EOS);
    put_footer(&b, 3);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, name, "block", "device name contains a NUL byte");
    tu_free(&b);

    /* a version QEMU 7.2 does not know */
    put_header(&b);
    put_start(&b, 3, "block", 2);
    size_t data = b.len;
    tu_be64(&b, BLK_EOS);
    put_footer(&b, 3);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, data, "block", "block section version 2 is not supported");
    tu_free(&b);

    /* a device block whose 1 MiB of data runs past the end of a package */
    put_header(&b);
    tu_u8(&b, MC_VM_COMMAND);
    tu_be16(&b, MC_MIG_CMD_PACKAGED);
    tu_be16(&b, 4);
    tu_be32(&b, 1000);                               /* package length */
    size_t pkg = b.len;
    put_start(&b, 3, "block", 1);
    tu_be64(&b, BLK_DEVICE_BLOCK);
    tu_str(&b, "disk0");
    while (b.len < pkg + 1000) {
        tu_u8(&b, 0xee);
    }
    for (int i = 0; i < 2 * (int)BLK_SIZE / 4096; i++) {
        uint8_t page[4096] = {0};
        tu_put(&b, page, sizeof(page));              /* beyond the package */
    }
    mc_visitor *v = mc_null_visitor_new();
    mc_error *err = NULL;
    assert_false(tu_run(tu_legacy_reader, b.p, b.len, v, &err));
    mc_visitor_free(v);
    assert_int_equal(err->cls, MC_ERR_DATA);
    assert_true(err->offset != MC_NO_OFFSET && err->offset <= pkg + 1000);
    mc_error_free(err);
    tu_free(&b);
}

/* ---- dirty-bitmap ---- */

/* As QEMU 7.2 writes it: two bitmaps on node "disk0" (the second START
 * only names its bitmap), a PART with just EOS (paused guest), and the END
 * with the bits and the COMPLETE records. */
static void put_dbm_golden(tu_buf *b)
{
    put_header(b);
    /* migrate_postcopy() is true with dirty-bitmaps: an empty ADVISE */
    tu_u8(b, MC_VM_COMMAND);
    tu_be16(b, MC_MIG_CMD_POSTCOPY_ADVISE);
    tu_be16(b, 0);
    /* START: dirty_bitmap_save_setup */
    put_start(b, 4, "dirty-bitmap", 1);
    tu_u8(b, DBM_START | DBM_DEVICE_NAME | DBM_BITMAP_NAME); /* flags 0x1c */
    tu_str(b, "disk0");                         /* node alias */
    tu_str(b, "bitmap1");                       /* bitmap alias */
    tu_be32(b, 65536);                          /* granularity */
    tu_u8(b, 0x00);                             /* bitmap flags: disabled */
    tu_u8(b, DBM_START | DBM_BITMAP_NAME);      /* flags 0x14: same node */
    tu_str(b, "bitmap0");                       /* bitmap alias */
    tu_be32(b, 512);                            /* granularity */
    tu_u8(b, 0x03);                             /* enabled | persistent */
    tu_u8(b, DBM_EOS);                          /* flags: EOS */
    put_footer(b, 4);
    /* PART: dirty_bitmap_save_iterate outside postcopy */
    tu_u8(b, MC_VM_SECTION_PART);
    tu_be32(b, 4);
    tu_u8(b, DBM_EOS);
    put_footer(b, 4);
    /* END: dirty_bitmap_save_complete */
    tu_u8(b, MC_VM_SECTION_END);
    tu_be32(b, 4);
    tu_u8(b, DBM_BITS | DBM_ZEROES | DBM_BITMAP_NAME); /* flags 0x46 */
    tu_str(b, "bitmap1");                       /* bitmap alias */
    tu_be64(b, 0);                              /* start sector */
    tu_be32(b, 16384);                          /* nr sectors */
    tu_u8(b, DBM_BITS | DBM_BITMAP_NAME);       /* flags 0x44 */
    tu_str(b, "bitmap0");                       /* bitmap alias */
    tu_be64(b, 0);                              /* start sector */
    tu_be32(b, 8192);                           /* nr sectors */
    tu_be64(b, 32);                             /* buffer size */
    for (int i = 0; i < 32; i++) {
        tu_u8(b, i < 16 ? 0xff : 0x00);         /* buffer */
    }
    tu_u8(b, DBM_BITS | DBM_ZEROES);            /* flags 0x42: same bitmap */
    tu_be64(b, 8192);                           /* start sector */
    tu_be32(b, 8192);                           /* nr sectors */
    tu_u8(b, DBM_COMPLETE | DBM_BITMAP_NAME);   /* flags 0x24 */
    tu_str(b, "bitmap1");
    tu_u8(b, DBM_COMPLETE | DBM_BITMAP_NAME);   /* flags 0x24 */
    tu_str(b, "bitmap0");
    tu_u8(b, DBM_EOS);
    put_footer(b, 4);
    tu_u8(b, MC_VM_EOF);
}

#define DBM_NAME(role, len, hex)                                   \
    "start_struct name=" role " type=counted string\n"             \
    "int name=len type=uint8 wt=uint8 raw=" len "\n"               \
    "bytes name=name type=buffer len=" hex "\n"                    \
    "end_struct\n"

static const char dbm_calls[] =
    "start_stream magic=5145564d version=3 page_size=4096 src=default names=1\n"
    "command cmd=3 len=0 hex=\n"
    "start_section type=1 kind=vmstate id=4 idstr=dirty-bitmap instance=0 version=1\n"
    "start_struct name=record type=start\n"
    "int name=flags type=uint8 wt=uint8 raw=0x1c\n"
    DBM_NAME("node", "0x5", "5 hex=6469736b30")
    DBM_NAME("bitmap", "0x7", "7 hex=6269746d617031")
    "int name=granularity type=uint32 wt=uint32 raw=0x10000\n"
    "int name=bitmap_flags type=uint8 wt=uint8 raw=0x0\n"
    "end_struct\n"
    "start_struct name=record type=start\n"
    "int name=flags type=uint8 wt=uint8 raw=0x14\n"
    DBM_NAME("bitmap", "0x7", "7 hex=6269746d617030")
    "int name=granularity type=uint32 wt=uint32 raw=0x200\n"
    "int name=bitmap_flags type=uint8 wt=uint8 raw=0x3\n"
    "end_struct\n"
    "start_struct name=record type=eos\n"
    "int name=flags type=uint8 wt=uint8 raw=0x1\n"
    "end_struct\n"
    "end_section footer=1\n"
    "start_section type=2 kind=vmstate id=4 idstr=dirty-bitmap instance=0 version=0\n"
    "start_struct name=record type=eos\n"
    "int name=flags type=uint8 wt=uint8 raw=0x1\n"
    "end_struct\n"
    "end_section footer=1\n"
    "start_section type=3 kind=vmstate id=4 idstr=dirty-bitmap instance=0 version=0\n"
    "start_struct name=record type=bits-zeroes\n"
    "int name=flags type=uint8 wt=uint8 raw=0x46\n"
    DBM_NAME("bitmap", "0x7", "7 hex=6269746d617031")
    "int name=start_sector type=uint64 wt=uint64 raw=0x0\n"
    "int name=nr_sectors type=uint32 wt=uint32 raw=0x4000\n"
    "end_struct\n"
    "start_struct name=record type=bits\n"
    "int name=flags type=uint8 wt=uint8 raw=0x44\n"
    DBM_NAME("bitmap", "0x7", "7 hex=6269746d617030")
    "int name=start_sector type=uint64 wt=uint64 raw=0x0\n"
    "int name=nr_sectors type=uint32 wt=uint32 raw=0x2000\n"
    "int name=buffer_size type=uint64 wt=uint64 raw=0x20\n"
    "bytes name=data type=buffer len=32 hex="
    "ffffffffffffffffffffffffffffffff00000000000000000000000000000000\n"
    "end_struct\n"
    "start_struct name=record type=bits-zeroes\n"
    "int name=flags type=uint8 wt=uint8 raw=0x42\n"
    "int name=start_sector type=uint64 wt=uint64 raw=0x2000\n"
    "int name=nr_sectors type=uint32 wt=uint32 raw=0x2000\n"
    "end_struct\n"
    "start_struct name=record type=complete\n"
    "int name=flags type=uint8 wt=uint8 raw=0x24\n"
    DBM_NAME("bitmap", "0x7", "7 hex=6269746d617031")
    "end_struct\n"
    "start_struct name=record type=complete\n"
    "int name=flags type=uint8 wt=uint8 raw=0x24\n"
    DBM_NAME("bitmap", "0x7", "7 hex=6269746d617030")
    "end_struct\n"
    "start_struct name=record type=eos\n"
    "int name=flags type=uint8 wt=uint8 raw=0x1\n"
    "end_struct\n"
    "end_section footer=1\n"
    "eof\n"
    "end_stream\n";

static void test_dbm_golden(void **state)
{
    tu_buf b = {0};
    put_dbm_golden(&b);
    expect_calls(&b, dbm_calls);
    expect_round_trips(b.p, b.len);
    expect_truncations_fail(&b, 0, 0);
    tu_free(&b);
}

/*
 * Flags of 2 and 4 bytes (EXTRA_FLAGS in the first, then in the second
 * byte) keep their exact width; the flags that count are those of the
 * last byte, as in QEMU's qemu_get_bitmap_flags().  A record with no
 * START/COMPLETE/BITS is only a header (QEMU reads it and goes on).
 */
static void test_dbm_wide_flags(void **state)
{
    tu_buf b = {0};
    put_header(&b);
    put_start(&b, 5, "dirty-bitmap", 1);
    tu_u8(&b, DBM_EXTRA);                       /* flags: 2 bytes */
    tu_u8(&b, DBM_DEVICE_NAME);                 /*   last byte 0x08 */
    tu_str(&b, "n");                            /* node alias */
    tu_u8(&b, DBM_EXTRA | DBM_START);           /* flags: 4 bytes; the */
    tu_u8(&b, DBM_EXTRA);                       /*   START bit of the first */
    tu_be16(&b, DBM_COMPLETE | DBM_BITMAP_NAME); /*  byte does not count */
    tu_str(&b, "b");                            /* bitmap alias */
    tu_u8(&b, DBM_START | DBM_EOS);             /* flags: START, ends */
    tu_be32(&b, 4096);                          /* granularity */
    tu_u8(&b, 0x01);                            /* bitmap flags */
    put_footer(&b, 5);
    tu_u8(&b, MC_VM_EOF);
    expect_calls(&b,
        "start_stream magic=5145564d version=3 page_size=4096 src=default names=1\n"
        "start_section type=1 kind=vmstate id=5 idstr=dirty-bitmap instance=0 version=1\n"
        "start_struct name=record type=header\n"
        "int name=flags type=uint16 wt=uint16 raw=0x8008\n"
        DBM_NAME("node", "0x1", "1 hex=6e")
        "end_struct\n"
        "start_struct name=record type=complete\n"
        "int name=flags type=uint32 wt=uint32 raw=0x90800024\n"
        DBM_NAME("bitmap", "0x1", "1 hex=62")
        "end_struct\n"
        "start_struct name=record type=start\n"
        "int name=flags type=uint8 wt=uint8 raw=0x11\n"
        "int name=granularity type=uint32 wt=uint32 raw=0x1000\n"
        "int name=bitmap_flags type=uint8 wt=uint8 raw=0x1\n"
        "end_struct\n"
        "end_section footer=1\n"
        "eof\n"
        "end_stream\n");
    expect_round_trips(b.p, b.len);
    expect_truncations_fail(&b, 0, 0);
    tu_free(&b);
}

static void test_dbm_damaged(void **state)
{
    tu_buf b = {0};
    /* a buffer larger than QEMU reads (10 KiB), and a huge one: refused
     * before any byte of it is taken */
    uint64_t sizes[] = {10 * 1024 + 1, UINT64_MAX / 2};
    for (int i = 0; i < 2; i++) {
        put_header(&b);
        put_start(&b, 4, "dirty-bitmap", 1);
        tu_u8(&b, DBM_BITS | DBM_DEVICE_NAME | DBM_BITMAP_NAME);
        tu_str(&b, "disk0");
        tu_str(&b, "bitmap0");
        tu_be64(&b, 0);                         /* start sector */
        tu_be32(&b, 8192);                      /* nr sectors */
        size_t size = b.len;
        tu_be64(&b, sizes[i]);                  /* buffer size */
        tu_u8(&b, DBM_EOS);
        put_footer(&b, 4);
        tu_u8(&b, MC_VM_EOF);
        expect_error(&b, size, "start dirty-bitmap (id 4)",
                     "dirty bitmap buffer of");
        tu_free(&b);
    }

    /* an empty node alias */
    put_header(&b);
    put_start(&b, 4, "dirty-bitmap", 1);
    tu_u8(&b, DBM_COMPLETE | DBM_DEVICE_NAME);
    size_t name = b.len;
    tu_u8(&b, 0);
    tu_u8(&b, DBM_EOS);
    put_footer(&b, 4);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, name, "dirty-bitmap", "empty node name");
    tu_free(&b);

    /* a bitmap alias with a NUL byte */
    put_header(&b);
    put_start(&b, 4, "dirty-bitmap", 1);
    tu_u8(&b, DBM_COMPLETE | DBM_BITMAP_NAME);
    name = b.len;
    tu_u8(&b, 2);
    tu_put(&b, "\0x", 2);
    tu_u8(&b, DBM_EOS);
    put_footer(&b, 4);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, name, "dirty-bitmap", "bitmap name contains a NUL byte");
    tu_free(&b);

    /* dirty_bitmap_load() takes version 1 only */
    put_header(&b);
    put_start(&b, 4, "dirty-bitmap", 2);
    size_t data = b.len;
    tu_u8(&b, DBM_EOS);
    put_footer(&b, 4);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, data, "dirty-bitmap",
                 "dirty-bitmap section version 2 is not supported");
    tu_free(&b);

    /* EOS missing: the records run into the footer, whose bytes read as
     * flags 0x7e (BITMAP_NAME|DEVICE_NAME|START|COMPLETE|BITS|ZEROES) and
     * then a node alias of 0 bytes */
    put_header(&b);
    put_start(&b, 4, "dirty-bitmap", 1);
    tu_u8(&b, DBM_COMPLETE | DBM_BITMAP_NAME);
    tu_str(&b, "b");
    size_t foot = b.len;
    put_footer(&b, 4);
    tu_u8(&b, MC_VM_EOF);
    expect_error(&b, foot + 1, "dirty-bitmap", "empty node name");
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
    expect_round_trips(in, len);
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

static int count_between(const char *from, const char *to, const char *needle)
{
    int n = 0;
    for (const char *p = from; (p = strstr(p, needle)) && p < to; p++) {
        n++;
    }
    return n;
}

static void test_fixture_pc_block(void **state)
{
    char *t = record_fixture("pc-block");
    /* START, PARTs and END of "block" (instance 0, version 1) */
    assert_int_equal(count(t, "start_section type=1 kind=vmstate id="), 1);
    assert_non_null(strstr(t, "idstr=block instance=0 version=1\n"));
    assert_true(count(t, "idstr=block instance=0 version=0\n") >= 2);
    /* a 3.5 MiB drive with data in its second MiB only, zero-blocks on:
     * one device block (sector 2048) and three zero blocks */
    assert_int_equal(count(t, "start_struct name=record type=device-block\n"
                              "int name=sector_flags type=uint64 wt=uint64 "
                              "raw=0x100001\n"), 1);
    assert_int_equal(count(t, "bytes name=data type=buffer len=1048576 "
                              "hex="), 1);
    assert_int_equal(count(t, "type=zero-block\n"), 3);
    assert_int_equal(count(t, "bytes name=name type=buffer len=5 "
                              "hex=6469736b30\n"), 4); /* "disk0" */
    /* the data: 32 KiB random, then text ("000001: ...") */
    const char *data = strstr(t, "len=1048576 hex=");
    assert_non_null(data);
    data += strlen("len=1048576 hex=");
    assert_memory_equal(data + 2 * (32 << 10), "3030303030313a20", 16);
    /* progress up to 100 % */
    assert_true(count(t, "type=progress\n") >= 2);
    assert_int_equal(count(t, "raw=0xc804\n"), 1);
    /* each START/PART/END of block ends with one EOS record */
    assert_int_equal(count(t, "type=eos\n"),
                     count(t, "idstr=block instance=0"));
    assert_non_null(strstr(t, "vmdesc len="));
    free(t);
}

static void test_fixture_pc_dirty_bitmap(void **state)
{
    char *t = record_fixture("pc-dirty-bitmap");
    assert_non_null(strstr(t, "command cmd=3 len=0 hex=\n"));
    assert_non_null(strstr(t, "idstr=dirty-bitmap instance=0 version=1\n"));
    /* START records: disk0/bitmap1 (64 KiB, disabled), then bitmap0 (512,
     * enabled + persistent) with the node name left out */
    assert_non_null(strstr(t,
        "start_struct name=record type=start\n"
        "int name=flags type=uint8 wt=uint8 raw=0x1c\n"
        DBM_NAME("node", "0x5", "5 hex=6469736b30")
        DBM_NAME("bitmap", "0x7", "7 hex=6269746d617031")
        "int name=granularity type=uint32 wt=uint32 raw=0x10000\n"
        "int name=bitmap_flags type=uint8 wt=uint8 raw=0x0\n"));
    assert_non_null(strstr(t,
        "start_struct name=record type=start\n"
        "int name=flags type=uint8 wt=uint8 raw=0x14\n"
        DBM_NAME("bitmap", "0x7", "7 hex=6269746d617030")
        "int name=granularity type=uint32 wt=uint32 raw=0x200\n"
        "int name=bitmap_flags type=uint8 wt=uint8 raw=0x3\n"));
    /* END: bitmap0's first 4 MiB chunk has data (writes at 0 and 3 MiB),
     * its second and all of bitmap1 are zeroes; then two COMPLETEs */
    assert_non_null(strstr(t,
        "int name=start_sector type=uint64 wt=uint64 raw=0x0\n"
        "int name=nr_sectors type=uint32 wt=uint32 raw=0x2000\n"
        "int name=buffer_size type=uint64 wt=uint64 raw=0x400\n"
        "bytes name=data type=buffer len=1024 hex=ffff"));
    assert_int_equal(count(t, "type=bits\n"), 1);
    assert_int_equal(count(t, "type=bits-zeroes\n"), 2);
    assert_int_equal(count(t, "type=complete\n"), 2);
    assert_int_equal(count(t, "type=eos\n"),
                     count(t, "idstr=dirty-bitmap instance=0"));
    free(t);
}

static void test_fixture_pc_postcopy_switched(void **state)
{
    char *t = record_fixture("pc-postcopy-switched");
    const char *pkg = strstr(t, "start_packaged len=");
    assert_non_null(pkg);
    const char *pkg_end = strstr(pkg, "end_packaged\n");
    assert_non_null(pkg_end);
    assert_int_equal(count(t, "start_packaged"), 1);
    /* before the package: return path, ADVISE with the page sizes,
     * RAM, and the discards of the pages not sent yet */
    assert_true(count_between(t, pkg, "command cmd=1 len=0") == 1);
    assert_true(count_between(t, pkg, "command cmd=3 len=16 ") == 1);
    assert_true(count_between(t, pkg, "command cmd=6 ") >= 1);
    assert_true(count_between(t, pkg, "start_section type=1 kind=ram") == 1);
    assert_int_equal(count_between(t, pkg, "kind=vmstate"), 0);
    /* the package: LISTEN, every device section (read with the built-in
     * descriptor tables: no vmdesc), PING, RUN */
    assert_true(strncmp(strchr(pkg, '\n') + 1, "command cmd=4 len=0", 19) == 0);
    assert_true(count_between(pkg, pkg_end, "start_section type=4 "
                                            "kind=vmstate") >= 20);
    assert_int_equal(count_between(pkg, pkg_end, "type=opaque"), 0);
    assert_true(count_between(pkg, pkg_end, "vmsd=cpu\n") == 1);
    assert_true(count_between(pkg, pkg_end, "command cmd=5 len=0") == 1);
    /* after it: the rest of RAM and EOF, no vmdesc */
    assert_true(count(pkg_end, "ram kind=page") >= 1);
    assert_non_null(strstr(pkg_end, "start_section type=3 kind=ram"));
    assert_non_null(strstr(pkg_end, "\neof\nend_stream\n"));
    assert_null(strstr(t, "vmdesc len="));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_golden),
        cmocka_unit_test(test_block_truncations),
        cmocka_unit_test(test_block_flag_combinations),
        cmocka_unit_test(test_block_damaged),
        cmocka_unit_test(test_dbm_golden),
        cmocka_unit_test(test_dbm_wide_flags),
        cmocka_unit_test(test_dbm_damaged),
        cmocka_unit_test(test_fixture_pc_block),
        cmocka_unit_test(test_fixture_pc_dirty_bitmap),
        cmocka_unit_test(test_fixture_pc_postcopy_switched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
