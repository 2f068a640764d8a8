/* Containers: libvirt save-image header, compression layers, Container
 * and Trailer records, qcow2 snapshot tables and vmstate reading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "container/ber_container.h"
#include "container/codec.h"
#include "format/registry.h"
#include "container/libvirt_save.h"
#include "container/qcow2.h"
#include "format/readers.h"
#include "testutil.h"

/* ---- libvirt header ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void make_header(uint8_t h[92], uint32_t version, uint32_t data_len,
                        uint32_t running, uint32_t format, uint32_t cookie)
{
    memset(h, 0, 92);
    memcpy(h, "LibvirtQemudSave", 16);
    put_le32(h + 16, version);
    put_le32(h + 20, data_len);
    put_le32(h + 24, running);
    put_le32(h + 28, format);
    put_le32(h + 32, cookie);
}

static void expect_header_error(const uint8_t *p, size_t n, const char *what)
{
    mc_libvirt_header h;
    mc_error *err = NULL;
    assert_false(mc_libvirt_header_parse(p, n, &h, &err));
    assert_non_null(err);
    assert_int_equal(err->cls, MC_ERR_DATA);
    if (!strstr(err->msg, what)) {
        fail_msg("'%s' does not say '%s'", err->msg, what);
    }
    mc_error_free(err);
}

static void test_libvirt_header(void **state)
{
    uint8_t h[92], back[92];
    for (uint32_t fmt = 0; fmt <= 5; fmt++) {
        make_header(h, 2, 66619, fmt & 1, fmt, 811);
        h[40] = 0x5a; /* unused words are kept too */
        mc_libvirt_header lh;
        mc_error *err = NULL;
        assert_true(mc_libvirt_header_parse(h, 92, &lh, &err));
        assert_int_equal(lh.version, 2);
        assert_int_equal(lh.data_len, 66619);
        assert_int_equal(lh.was_running, fmt & 1);
        assert_int_equal(lh.format, fmt);
        assert_int_equal(lh.cookie_offset, 811);
        assert_false(lh.big_endian);
        assert_int_equal(mc_libvirt_stream_format(&lh), fmt);
        mc_libvirt_header_write(&lh, back);
        assert_memory_equal(h, back, 92);
    }
    /* Written on a big-endian host: libvirt swaps when version > 2. */
    uint8_t be[92];
    memset(be, 0, 92);
    memcpy(be, "LibvirtQemudSave", 16);
    be[19] = 2;
    be[22] = 0x10;  /* data_len 0x1000 */
    be[31] = 3;     /* xz */
    mc_libvirt_header lh;
    assert_true(mc_libvirt_header_parse(be, 92, &lh, NULL));
    assert_true(lh.big_endian);
    assert_int_equal(lh.data_len, 0x1000);
    assert_int_equal(lh.format, MC_LIBVIRT_XZ);
    mc_libvirt_header_write(&lh, back);
    assert_memory_equal(be, back, 92);
    /* Version 1: no compression whatever the format field says. */
    make_header(h, 1, 100, 1, 1, 0);
    assert_true(mc_libvirt_header_parse(h, 92, &lh, NULL));
    assert_int_equal(mc_libvirt_stream_format(&lh), MC_LIBVIRT_RAW);

    make_header(h, 2, 100, 1, 0, 0);
    memcpy(h, "LibvirtQemudPart", 16);
    expect_header_error(h, 92, "save image is incomplete");
    make_header(h, 2, 100, 1, 0, 0);
    expect_header_error(h, 91, "header cut short");
    expect_header_error(h, 10, "not a libvirt save image");
    h[0] = 'l';
    expect_header_error(h, 92, "not a libvirt save image");
    make_header(h, 3, 100, 1, 0, 0);
    expect_header_error(h, 92, "unsupported save image version");
    make_header(h, 2, 0, 1, 0, 0);
    expect_header_error(h, 92, "invalid XML data length 0");
    make_header(h, 2, 1u << 30, 1, 0, 0);
    expect_header_error(h, 92, "invalid XML data length");
    make_header(h, 2, 100, 1, 0, 101);
    expect_header_error(h, 92, "cookie offset 101 is past");
    make_header(h, 2, 100, 1, 6, 0);
    expect_header_error(h, 92, "sparse (mapped-ram) save image format is not supported yet");
    make_header(h, 2, 100, 1, 7, 0);
    expect_header_error(h, 92, "unknown save image format 7");
}

static void test_libvirt_split(void **state)
{
    const char data[] = "<domain/>\0\0\0<cookie/>\0\0\0\0";
    mc_libvirt_header h = {.version = 2, .data_len = sizeof(data) - 1,
                           .cookie_offset = 12};
    const char *xml, *cookie;
    size_t xl, cl;
    mc_libvirt_data_split(&h, (const uint8_t *)data, &xml, &xl, &cookie, &cl);
    assert_int_equal(xl, 9);
    assert_memory_equal(xml, "<domain/>", 9);
    assert_int_equal(cl, 9);
    assert_memory_equal(cookie, "<cookie/>", 9);
    h.cookie_offset = 0;
    mc_libvirt_data_split(&h, (const uint8_t *)data, &xml, &xl, &cookie, &cl);
    assert_null(cookie);
    assert_int_equal(xl, 9);
}

/* ---- compression ---- */

static uint8_t *sample(size_t n)
{
    uint8_t *p = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (i / 4096) % 3 == 0 ? 0 : (uint8_t)(x >> 24) % 16;
    }
    return p;
}

static uint8_t *compress_mem(mc_codec c, const uint8_t *p, size_t n,
                             size_t *out_len)
{
    mc_sink mem, top;
    mc_sink_init_mem(&mem);
    mc_comp *cp = mc_comp_open(c, mc_codec_default_level(c), &mem, &top);
    assert_non_null(cp);
    assert_true(mc_sink_write(&top, p, n, NULL));
    assert_true(mc_sink_flush(&top, NULL));
    assert_true(mc_comp_finish(cp, NULL));
    mc_comp_free(cp);
    mc_sink_cleanup(&top);
    *out_len = mem.len;
    return mem.buf; /* owned by the caller now */
}

static bool decompress_mem(mc_codec c, const uint8_t *p, size_t n,
                           uint8_t **out, size_t *out_len, mc_error **errp)
{
    mc_src lower, top;
    mc_src_init_mem(&lower, p, n);
    mc_decomp *d;
    if (!mc_decomp_open(c, &lower, &top, &d, errp)) {
        return false;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    bool ok = true;
    for (;;) {
        bool at_end;
        if (!mc_src_at_end(&top, &at_end, errp)) {
            ok = false;
            break;
        }
        if (at_end) {
            break;
        }
        size_t k = mc_src_buffered(&top);
        const uint8_t *q;
        assert_true(mc_src_take(&top, k, &q, NULL));
        while (len + k > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        memcpy(buf + len, q, k);
        len += k;
    }
    mc_src_cleanup(&top);
    mc_decomp_free(d);
    *out = buf;
    *out_len = len;
    return ok;
}

static void test_codecs(void **state)
{
    size_t n = 3u << 20;
    uint8_t *data = sample(n);
    static const char *magic[] = {NULL, "\x1f\x8b", "BZh", "\xfd" "7zXZ",
                                  "\x28\xb5\x2f\xfd", "\x89LZO"};
    /* Every compression row of the registry, the five first among them. */
    for (mc_codec c = MC_CODEC_GZIP; c <= MC_CODEC_LZOP; c++) {
        assert_non_null(mc_codec_get(c));
    }
    size_t tried = 0;
    for (size_t row = 0; mc_filter_at(row); row++) {
        const mc_codec_ops *ops = mc_filter_at(row)->codec;
        if (!ops) {
            continue;
        }
        mc_codec c = ops->id;
        tried++;
        size_t zl;
        uint8_t *z = compress_mem(c, data, n, &zl);
        assert_true(zl < (c == MC_CODEC_LZOP ? n : n / 2));
        if (c <= MC_CODEC_LZOP) {
            assert_memory_equal(z, magic[c], strlen(magic[c]));
        }
        assert_int_equal(mc_codec_detect(z, zl), c);
        uint8_t *back;
        size_t bl;
        mc_error *err = NULL;
        assert_true(decompress_mem(c, z, zl, &back, &bl, &err));
        assert_int_equal(bl, n);
        assert_memory_equal(back, data, n);
        free(back);
        /* Two members/streams/frames back to back: one stream. */
        uint8_t *two = malloc(2 * zl);
        memcpy(two, z, zl);
        memcpy(two + zl, z, zl);
        assert_true(decompress_mem(c, two, 2 * zl, &back, &bl, &err));
        assert_int_equal(bl, 2 * n);
        assert_memory_equal(back + n, data, n);
        free(back);
        /* Every cut of the compressed data is an error, never a short
         * stream taken for a whole one. */
        size_t cuts[] = {1, zl / 3, zl / 2, zl - 1};
        for (size_t i = 0; i < 4; i++) {
            err = NULL;
            if (decompress_mem(c, z, cuts[i], &back, &bl, &err)) {
                fail_msg("%s cut at %zu accepted", mc_codec_name(c), cuts[i]);
            }
            assert_non_null(err);
            assert_int_equal(err->cls, MC_ERR_DATA);
            assert_non_null(strstr(err->msg, mc_codec_name(c)));
            mc_error_free(err);
            free(back);
        }
        /* Bytes of another kind after the end. */
        memcpy(two + zl, "garbage!", 8);
        err = NULL;
        assert_false(decompress_mem(c, two, zl + 8, &back, &bl, &err));
        assert_non_null(strstr(err->msg, "trailing bytes after the"));
        mc_error_free(err);
        free(back);
        free(two);
        free(z);
    }
    free(data);
    assert_true(tried >= 5);
    assert_int_equal(mc_codec_detect((const uint8_t *)"QEVM", 4), MC_CODEC_NONE);
    assert_int_equal(mc_codec_detect((const uint8_t *)"BZh9xx", 6), MC_CODEC_NONE);
}

/* ---- Container and Trailer records ---- */

static void test_container_record(void **state)
{
    uint8_t lv[92 + 16];
    make_header(lv, 2, 16, 1, 1, 0);
    memcpy(lv + 92, "<domain/>\0\0\0\0\0\0\0", 16);
    mc_container_info ci = {.kind = MC_CONTAINER_LIBVIRT,
                            .codec = MC_CODEC_GZIP, .level = 6,
                            .libvirt = lv, .libvirt_len = sizeof(lv)};
    mc_sink k;
    mc_sink_init_mem(&k);
    assert_true(mc_container_ber_write(&k, &ci, NULL));
    mc_error *err = NULL;
    if (!mc_ber_schema_check("MigConv.Container", k.buf, k.len, &err)) {
        fail_msg("schema: %s", err->msg);
    }
    mc_src s;
    mc_src_init_mem(&s, k.buf, k.len);
    mc_container_info back;
    assert_true(mc_container_ber_read(&s, &back, &err));
    assert_int_equal(back.kind, MC_CONTAINER_LIBVIRT);
    assert_int_equal(back.codec, MC_CODEC_GZIP);
    assert_int_equal(back.level, 6);
    assert_int_equal(back.libvirt_len, sizeof(lv));
    assert_memory_equal(back.libvirt, lv, sizeof(lv));
    assert_int_equal(mc_src_offset(&s), k.len);
    mc_container_info_free(&back);
    /* A libvirt header whose data_len disagrees with the bytes kept. */
    k.buf[k.len - 16 - 92 + 20] = 17;
    mc_src_init_mem(&s, k.buf, k.len);
    assert_false(mc_container_ber_read(&s, &back, &err));
    assert_non_null(strstr(err->msg, "libvirt header is invalid"));
    mc_error_free(err);
    err = NULL;
    /* Cut. */
    mc_src_init_mem(&s, k.buf, k.len - 1);
    assert_false(mc_container_ber_read(&s, &back, &err));
    mc_error_free(err);
    mc_sink_cleanup(&k);
    /* A compressed stream: no libvirt part. */
    mc_container_info cz = {.kind = MC_CONTAINER_COMPRESSED,
                            .codec = MC_CODEC_ZSTD, .level = 3};
    mc_sink_init_mem(&k);
    assert_true(mc_container_ber_write(&k, &cz, NULL));
    assert_true(mc_ber_schema_check("MigConv.Container", k.buf, k.len, NULL));
    mc_src_init_mem(&s, k.buf, k.len);
    assert_true(mc_container_ber_read(&s, &back, NULL));
    assert_int_equal(back.codec, MC_CODEC_ZSTD);
    assert_null(back.libvirt);
    /* An unknown compression. */
    k.buf[7] = 9;
    mc_src_init_mem(&s, k.buf, k.len);
    err = NULL;
    assert_false(mc_container_ber_read(&s, &back, &err));
    mc_error_free(err);
    mc_sink_cleanup(&k);
}

static uint8_t *encode_trailer(const uint8_t *p, size_t n, size_t step,
                               size_t *len)
{
    mc_sink k;
    mc_sink_init_mem(&k);
    mc_trailer_writer *t = malloc(sizeof(*t));
    mc_trailer_writer_init(t, &k);
    for (size_t i = 0; i < n; i += step) {
        assert_true(mc_trailer_writer_feed(t, p + i, n - i < step ? n - i : step, NULL));
    }
    assert_true(mc_trailer_writer_finish(t, NULL));
    assert_int_equal(t->total, n);
    free(t);
    *len = k.len;
    return k.buf;
}

static void test_trailer(void **state)
{
    /* 1000 zeros, text, 63 zeros (kept as bytes), 200000 random-ish
     * bytes (several chunks), 8 MiB of zeros. */
    size_t n = 1000 + 9 + 63 + 200000 + (8u << 20);
    uint8_t *p = calloc(1, n);
    memcpy(p + 1000, "old bytes", 9);
    uint32_t x = 7;
    for (size_t i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        p[1072 + i] = (uint8_t)((x >> 24) | 1);
    }
    size_t len;
    uint8_t *ber = encode_trailer(p, n, n, &len);
    assert_true(len < 200000 + 200);
    assert_int_equal(ber[0], 0x68);
    assert_int_equal(ber[1], 0x80);
    /* The schema (definite-length copy: libtasn1 wants DER at the top). */
    /* Deterministic whatever the feeding. */
    size_t steps[] = {1, 7, 4096, 65536};
    for (size_t i = 0; i < 4; i++) {
        size_t l2;
        uint8_t *b2 = encode_trailer(p, n, steps[i], &l2);
        assert_int_equal(l2, len);
        assert_memory_equal(b2, ber, len);
        free(b2);
    }
    mc_src s;
    mc_src_init_mem(&s, ber, len);
    mc_sink k;
    mc_sink_init_mem(&k);
    uint64_t total = 0;
    mc_error *err = NULL;
    assert_true(mc_trailer_read(&s, &k, &total, &err));
    assert_int_equal(total, n);
    assert_int_equal(k.len, n);
    assert_memory_equal(k.buf, p, n);
    mc_sink_cleanup(&k);
    /* Each chunk is a TrailerChunk of the schema. */
    size_t off = 2;
    int chunks = 0;
    while (ber[off] != 0) {
        size_t hl = 2, cl = ber[off + 1];
        if (cl & 0x80) {
            unsigned nb = cl & 0x7f;
            cl = 0;
            for (unsigned i = 0; i < nb; i++) {
                cl = cl << 8 | ber[off + 2 + i];
            }
            hl += nb;
        }
        if (!mc_ber_schema_check("MigConv.TrailerChunk", ber + off, hl + cl, &err)) {
            fail_msg("chunk at %zu: %s", off, err->msg);
        }
        off += hl + cl;
        chunks++;
    }
    assert_true(chunks >= 6);
    /* Nothing after the vmdesc: nothing written. */
    size_t l0;
    uint8_t *none = encode_trailer(p, 0, 1, &l0);
    assert_int_equal(l0, 0);
    free(none);
    /* Damaged: a cut Trailer, an unknown chunk, data after it. */
    size_t bad_len[] = {len - 1, 2, 5};
    for (size_t i = 0; i < 3; i++) {
        mc_src_init_mem(&s, ber, bad_len[i]);
        mc_sink_init_mem(&k);
        err = NULL;
        assert_false(mc_trailer_read(&s, &k, NULL, &err));
        assert_non_null(err);
        mc_error_free(err);
        mc_sink_cleanup(&k);
    }
    uint8_t *ext = malloc(len + 1);
    memcpy(ext, ber, len);
    ext[len] = 0x42;
    mc_src_init_mem(&s, ext, len + 1);
    mc_sink_init_mem(&k);
    err = NULL;
    assert_false(mc_trailer_read(&s, &k, NULL, &err));
    assert_non_null(strstr(err->msg, "trailing data after the Trailer"));
    mc_error_free(err);
    mc_sink_cleanup(&k);
    ber[2] = 0x85;
    mc_src_init_mem(&s, ber, len);
    mc_sink_init_mem(&k);
    err = NULL;
    assert_false(mc_trailer_read(&s, &k, NULL, &err));
    assert_non_null(strstr(err->msg, "invalid Trailer chunk"));
    mc_error_free(err);
    mc_sink_cleanup(&k);
    free(ext);
    free(ber);
    free(p);
}

/* ---- qcow2 ---- */

typedef struct img {
    tu_buf b;
} img;

static void put_at(tu_buf *b, size_t off, const void *p, size_t n)
{
    if (b->len < off + n) {
        size_t need = off + n;
        while (b->cap < need) {
            b->cap = b->cap ? 2 * b->cap : 4096;
            b->p = realloc(b->p, b->cap);
        }
        memset(b->p + b->len, 0, need - b->len);
        b->len = need;
    }
    memcpy(b->p + off, p, n);
}

static void be64_at(tu_buf *b, size_t off, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++) {
        x[i] = (uint8_t)(v >> (56 - 8 * i));
    }
    put_at(b, off, x, 8);
}

static void be32_at(tu_buf *b, size_t off, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    put_at(b, off, x, 4);
}

/*
 * A qcow2 image with one snapshot whose vmstate is 3 clusters + 100
 * bytes: cluster 0 allocated (pattern), cluster 1 a zero cluster (or, with
 * extended L2, zero subclusters), cluster 2 unallocated, cluster 3
 * allocated (the last 100 bytes).  The active L1 maps nothing: only the
 * snapshot's tables reach the vmstate.
 */
static char *make_qcow2(unsigned version, unsigned cb, bool extl2,
                        uint64_t disk_size, bool extra, uint8_t **vm,
                        size_t *vm_len)
{
    tu_buf b = {0};
    uint64_t cs = 1ull << cb;
    unsigned l2b = cb - (extl2 ? 4 : 3);
    size_t esz = extl2 ? 16 : 8;
    unsigned shift = cb + l2b;
    uint64_t vm_off = ((disk_size + (1ull << shift) - 1) >> shift) << shift;
    *vm_len = 3 * cs + 100;
    *vm = calloc(1, *vm_len);
    for (uint64_t i = 0; i < cs; i++) {
        (*vm)[i] = (uint8_t)(i * 7 + 1);
    }
    for (uint64_t i = 0; i < 100; i++) {
        (*vm)[3 * cs + i] = (uint8_t)(i + 3);
    }
    put_at(&b, 0, "QFI\xfb", 4);
    be32_at(&b, 4, version);
    be32_at(&b, 20, cb);
    be64_at(&b, 24, 12345);           /* the image's size now */
    uint64_t l1 = 1 * cs, l2 = 2 * cs, snap = 3 * cs, c0 = 4 * cs, c3 = 5 * cs;
    uint32_t l1_size = (uint32_t)(vm_off >> shift) + 1;
    be32_at(&b, 36, 1);               /* active L1: one empty entry */
    be64_at(&b, 40, 6 * cs);
    be32_at(&b, 60, 1);
    be64_at(&b, 64, snap);
    if (version == 3) {
        be64_at(&b, 72, extl2 ? 1u << 4 : 0);
        be32_at(&b, 96, 4);
        be32_at(&b, 100, 112);
    }
    put_at(&b, 6 * cs, "\0\0\0\0\0\0\0\0", 8);
    /* Snapshot L1: the entry covering vm_off points at the L2 table. */
    be64_at(&b, l1 + 8 * (size_t)(vm_off >> shift), l2 | (1ull << 63));
    size_t first = (size_t)((vm_off >> cb) & ((1ull << l2b) - 1));
    be64_at(&b, l2 + esz * first, c0 | (1ull << 63));
    if (extl2) {
        be64_at(&b, l2 + esz * first + 8, 0xffffffffull);
        be64_at(&b, l2 + esz * (first + 1) + 8, 0xffffffffull << 32);
        be64_at(&b, l2 + esz * (first + 3), c3);
        be64_at(&b, l2 + esz * (first + 3) + 8, 0xffffffffull);
    } else {
        be64_at(&b, l2 + esz * (first + 1), version == 3 ? 1 : 0);
        be64_at(&b, l2 + esz * (first + 3), c3 | (1ull << 63));
    }
    put_at(&b, l2 + cs - 1, "", 1);
    put_at(&b, c0, *vm, cs);
    put_at(&b, c3, *vm + 3 * cs, 100);
    put_at(&b, c3 + cs - 1, "", 1);
    /* Snapshot table entry. */
    be64_at(&b, snap, l1);
    be32_at(&b, snap + 8, l1_size);
    be32_at(&b, snap + 12, 1u << 16 | 5);  /* id_len 1, name_len 5 */
    be32_at(&b, snap + 16, 1700000000);
    be64_at(&b, snap + 24, 123456789);
    be32_at(&b, snap + 32, extra ? 0 : (uint32_t)*vm_len);
    be32_at(&b, snap + 36, extra ? 24 : 0);
    size_t o = snap + 40;
    if (extra) {
        be64_at(&b, o, *vm_len);
        be64_at(&b, o + 8, disk_size);
        be64_at(&b, o + 16, (uint64_t)-1);
        o += 24;
    }
    put_at(&b, o, "1first", 6);
    char *path = strdup("/tmp/mc-qcow2-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
    close(fd);
    tu_free(&b);
    return path;
}

static void read_vmstate(const char *path, const char *sel, uint8_t **out,
                         size_t *len)
{
    FILE *f = fopen(path, "rb");
    mc_qcow2 q;
    mc_error *err = NULL;
    if (!mc_qcow2_open(fileno(f), &q, &err)) {
        fail_msg("open: %s", err->msg);
    }
    size_t idx;
    assert_true(mc_qcow2_find(&q, sel, &idx, NULL));
    mc_src s;
    mc_qcow2_vmstate *v;
    assert_true(mc_qcow2_vmstate_open(&q, idx, &s, &v, NULL));
    assert_true(mc_src_slurp(&s, 64u << 20, NULL));
    *len = mc_src_buffered(&s);
    *out = malloc(*len);
    memcpy(*out, s.buf + s.pos, *len);
    mc_src_cleanup(&s);
    mc_qcow2_vmstate_free(v);
    mc_qcow2_close(&q);
    fclose(f);
}

static void test_qcow2_vmstate(void **state)
{
    struct {
        unsigned version, cb;
        bool extl2, extra;
        uint64_t disk;
    } cases[] = {
        {2, 16, false, false, 12345},        /* compat 0.10: no extra data */
        {3, 16, false, true, 16u << 20},
        {3, 9, false, true, 16u << 20},      /* 512-byte clusters */
        {3, 21, false, true, 5u << 20},      /* 2 MiB clusters */
        {3, 16, true, true, 16u << 20},      /* extended L2 */
        {3, 14, true, true, 100u << 20},
        {3, 16, false, true, 40u << 30},     /* disk_size != image size */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *want, *got;
        size_t wl, gl;
        char *path = make_qcow2(cases[i].version, cases[i].cb, cases[i].extl2,
                                cases[i].disk, cases[i].extra, &want, &wl);
        read_vmstate(path, "first", &got, &gl);
        assert_int_equal(gl, wl);
        assert_memory_equal(got, want, wl);
        free(got);
        read_vmstate(path, "1", &got, &gl);  /* by ID */
        assert_int_equal(gl, wl);
        free(got);
        /* Negative control: with the image's own size instead of the
         * snapshot's, the vmstate would be looked for elsewhere. */
        unsigned sh = 2 * cases[i].cb - (cases[i].extl2 ? 4 : 3);
        if (cases[i].disk >> sh != 12345ull >> sh &&
            ((cases[i].disk + (1ull << sh) - 1) >> sh) != 1) {
            FILE *f = fopen(path, "rb");
            mc_qcow2 q;
            assert_true(mc_qcow2_open(fileno(f), &q, NULL));
            assert_int_equal(q.snapshots[0].disk_size, cases[i].disk);
            q.snapshots[0].disk_size = q.size;
            mc_src s;
            mc_qcow2_vmstate *v;
            assert_true(mc_qcow2_vmstate_open(&q, 0, &s, &v, NULL));
            assert_true(mc_src_slurp(&s, 64u << 20, NULL));
            assert_true(memcmp(s.buf, want, wl) != 0);
            mc_src_cleanup(&s);
            mc_qcow2_vmstate_free(v);
            mc_qcow2_close(&q);
            fclose(f);
        }
        unlink(path);
        free(path);
        free(want);
    }
}

static void expect_qcow2_error(const char *path, const char *what)
{
    FILE *f = fopen(path, "rb");
    mc_qcow2 q;
    mc_error *err = NULL;
    assert_false(mc_qcow2_open(fileno(f), &q, &err));
    assert_non_null(err);
    if (!strstr(err->msg, what)) {
        fail_msg("'%s' does not say '%s'", err->msg, what);
    }
    mc_error_free(err);
    fclose(f);
}

static void patch(const char *path, long off, const void *p, size_t n)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, off, SEEK_SET);
    fwrite(p, 1, n, f);
    fclose(f);
}

static void test_qcow2_damaged(void **state)
{
    uint8_t *want;
    size_t wl;
    char *path = make_qcow2(3, 16, false, 16u << 20, true, &want, &wl);
    uint8_t v[8] = {0, 0, 0, 0, 0, 6, 0, 0};
    patch(path, 64, v, 8);  /* the table 8 bytes before the end */
    expect_qcow2_error(path, "the image ends inside the qcow2 snapshot table");
    v[5] = 3;
    patch(path, 64, v, 8);
    uint8_t many[4] = {0, 2, 0, 0};
    patch(path, 60, many, 4);
    expect_qcow2_error(path, "131072 snapshots");
    many[1] = 0;
    many[3] = 1;
    patch(path, 60, many, 4);
    uint8_t big[4] = {0, 0, 0x10, 0};
    patch(path, 3 * 65536 + 36, big, 4);  /* extra data 4096 bytes */
    expect_qcow2_error(path, "extra data of 4096 bytes");
    uint8_t cb[4] = {0, 0, 0, 30};
    patch(path, 20, cb, 4);
    expect_qcow2_error(path, "invalid cluster_bits 30");
    uint8_t ver[4] = {0, 0, 0, 4};
    patch(path, 4, ver, 4);
    expect_qcow2_error(path, "unsupported qcow2 version 4");
    patch(path, 0, "QFI\xfa", 4);
    expect_qcow2_error(path, "not a qcow2 image");
    unlink(path);
    free(path);
    free(want);
    /* Selecting a snapshot that is not there; a disk-only snapshot. */
    path = make_qcow2(3, 16, false, 16u << 20, true, &want, &wl);
    FILE *f = fopen(path, "rb");
    mc_qcow2 q;
    assert_true(mc_qcow2_open(fileno(f), &q, NULL));
    size_t idx;
    mc_error *err = NULL;
    assert_false(mc_qcow2_find(&q, "second", &idx, &err));
    assert_int_equal(err->cls, MC_ERR_USAGE);
    mc_error_free(err);
    q.snapshots[0].vm_state_size = 0;
    mc_src s;
    mc_qcow2_vmstate *vs;
    err = NULL;
    assert_false(mc_qcow2_vmstate_open(&q, 0, &s, &vs, &err));
    assert_non_null(strstr(err->msg, "has no vmstate"));
    mc_error_free(err);
    mc_qcow2_close(&q);
    fclose(f);
    unlink(path);
    free(path);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libvirt_header),
        cmocka_unit_test(test_libvirt_split),
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_container_record),
        cmocka_unit_test(test_trailer),
        cmocka_unit_test(test_qcow2_vmstate),
        cmocka_unit_test(test_qcow2_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
