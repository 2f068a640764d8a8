/*
 * The "virtio" field codec (src/legacy/virtio.c): golden fields built byte
 * by byte after QEMU 7.2's virtio_save (hw/virtio/virtio.c),
 * virtio_pci_save_config / msix_save / vmstate_virtio_pci
 * (hw/virtio/virtio-pci.c, hw/pci/msix.c) and virtio_mmio_save_config /
 * vmstate_virtio_mmio (hw/virtio/virtio-mmio.c); the exact visitor calls
 * they produce; the legacy writer and BER giving the bytes back through
 * the legacy reader; and fields that do not fit falling back to bytes
 * with a warning.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/stream.h"
#include "legacy/field_codec.h"
#include "format/readers.h"
#include "recorder.h"
#include "testutil.h"
#include "visit/visitors.h"

#define QMAX 1024 /* VIRTIO_QUEUE_MAX */

static void put_sub(tu_buf *b, const char *name)
{
    tu_u8(b, MC_VM_SUBSECTION);
    tu_str(b, name);
    tu_be32(b, 1);              /* version_id */
}

static void put_zeros(tu_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tu_u8(b, 0);
    }
}

/*
 * virtio-net-pci with 3 MSI-X vectors and 2 queues, the guest driver
 * running on queue 0.
 */
static void put_pci_field(tu_buf *b)
{
    /* virtio_pci_save_config: pci_device_save (vmstate "PCIDevice") */
    tu_be32(b, 2);              /* version_id: int32 */
    uint8_t cfg[256] = {0};
    cfg[0x00] = 0xf4;           /* vendor 0x1af4, little-endian */
    cfg[0x01] = 0x1a;
    cfg[0x02] = 0x00;           /* device 0x1000 */
    cfg[0x03] = 0x10;
    cfg[0x06] = 0x10;           /* status: PCI_STATUS_CAP_LIST */
    cfg[0x34] = 0x40;           /* capability list at 0x40 */
    cfg[0x40] = 0x09;           /* vendor-specific capability, */
    cfg[0x41] = 0x50;           /* next at 0x50 */
    cfg[0x50] = 0x11;           /* PCI_CAP_ID_MSIX, */
    cfg[0x51] = 0x00;           /* last */
    cfg[0x52] = 0x02;           /* flags: table size - 1 = 2: 3 vectors */
    cfg[0x53] = 0x80;           /* MSI-X enable */
    tu_put(b, cfg, sizeof(cfg)); /* config: 256 bytes */
    for (int pin = 0; pin < 4; pin++) {
        tu_be32(b, pin == 0);   /* irq_state[4]: int32 */
    }
    /* msix_save: table (3 x 16 bytes), pending bits (1 byte) */
    for (int i = 0; i < 3 * 16; i++) {
        tu_u8(b, (uint8_t)(0xa0 + i));
    }
    tu_u8(b, 0x04);             /* pba */
    tu_be16(b, 2);              /* config_vector */
    /* virtio_save */
    tu_u8(b, 0x0f);             /* status: DRIVER_OK | ... */
    tu_u8(b, 0x01);             /* isr */
    tu_be16(b, 1);              /* queue_sel */
    tu_be32(b, 0x30000021);     /* guest_features_lo */
    tu_be32(b, 6);              /* config_len */
    tu_put(b, "\x52\x54\x00\x12\x34\x56", 6); /* config: the MAC */
    tu_be32(b, 2);              /* num_queues */
    tu_be32(b, 256);            /* vq[0]: vring.num */
    tu_be64(b, 0x7f000);        /*        vring.desc */
    tu_be16(b, 17);             /*        last_avail_idx */
    tu_be16(b, 0);              /*        vector (virtio_pci_save_queue) */
    tu_be32(b, 64);             /* vq[1]: vring.num */
    tu_be64(b, 0);              /*        vring.desc: never set up */
    tu_be16(b, 0);              /*        last_avail_idx */
    tu_be16(b, 0xffff);         /*        vector: VIRTIO_NO_VECTOR */
    /* the device's own state (vdc->vmsd): 4 bytes, one of them 0x05 */
    tu_put(b, "\x00\x05\x00\x01", 4);
    /* vmstate_virtio subsections */
    put_sub(b, "virtio/64bit_features");
    tu_be64(b, 0x130000021ull); /* guest_features */
    put_sub(b, "virtio/virtqueues");
    tu_be64(b, 0x80000);        /* vq[0]: vring.avail */
    tu_be64(b, 0x81000);        /*        vring.used */
    put_zeros(b, (QMAX - 1) * 16);
    put_sub(b, "virtio/extra_state");
    /* virtio_pci_save_extra_state: vmstate "virtio_pci", no fields */
    put_sub(b, "virtio_pci/modern_state");
    tu_be32(b, 1);              /* dfselect */
    tu_be32(b, 0);              /* gfselect */
    tu_be32(b, 0x30000021);     /* guest_features[0] */
    tu_be32(b, 1);              /* guest_features[1] */
    tu_be16(b, 256);            /* vqs[0]: num */
    tu_u8(b, 0);                /*         unused */
    tu_u8(b, 1);                /*         enabled */
    tu_be32(b, 0x7f000);        /*         desc[0] */
    tu_be32(b, 0);              /*         desc[1] */
    tu_be32(b, 0x80000);        /*         avail[0] */
    tu_be32(b, 0);              /*         avail[1] */
    tu_be32(b, 0x81000);        /*         used[0] */
    tu_be32(b, 0);              /*         used[1] */
    put_zeros(b, (QMAX - 1) * 28);
    put_sub(b, "virtio_pci/modern_state/features128");
    tu_be32(b, 0);              /* guest_features[2] */
    tu_be32(b, 8);              /* guest_features[3] */
    put_sub(b, "virtio/started");
    tu_u8(b, 1);                /* started */
}

/* Recorder lines, with hex dumps longer than 40 digits cut to 40 and "~". */
static char *squash(const char *text)
{
    char *out = malloc(strlen(text) + 1);
    char *o = out;
    while (*text) {
        const char *h = strstr(text, "hex=");
        const char *nl = strchr(text, '\n');
        if (!h || (nl && h > nl)) {
            size_t n = nl ? (size_t)(nl - text) + 1 : strlen(text);
            memcpy(o, text, n);
            o += n;
            text += n;
            continue;
        }
        size_t n = (size_t)(h - text) + 4;
        memcpy(o, text, n);
        o += n;
        text += n;
        size_t digits = strcspn(text, "\n");
        size_t keep = digits > 40 ? 40 : digits;
        memcpy(o, text, keep);
        o += keep;
        if (digits > 40) {
            *o++ = '~';
        }
        text += digits;
    }
    *o = 0;
    return out;
}

static const char pci_calls[] =
    "start_struct name=virtio type=virtio\n"
    "start_struct name=transport type=virtio-pci\n"
    "start_struct name=pci_dev type=PCIDevice\n"
    "int name=version_id type=int32 wt=int32 raw=0x2\n"
    "bytes name=config type=pci config len=256 hex=f41a001000001000000000000000000000000000~\n"
    "packed name=irq_state wt=int32 count=4 hex=00000001000000000000000000000000\n"
    "end_struct\n"
    "bytes name=msix_table type=msix table len=48 hex=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3~\n"
    "bytes name=msix_pba type=msix pba len=1 hex=04\n"
    "int name=config_vector type=uint16 wt=uint16 raw=0x2\n"
    "end_struct\n"
    "int name=status type=uint8 wt=uint8 raw=0xf\n"
    "int name=isr type=uint8 wt=uint8 raw=0x1\n"
    "int name=queue_sel type=uint16 wt=uint16 raw=0x1\n"
    "int name=guest_features_lo type=uint32 wt=uint32 raw=0x30000021\n"
    "int name=config_len type=uint32 wt=uint32 raw=0x6\n"
    "bytes name=config type=virtio config len=6 hex=525400123456\n"
    "int name=num_queues type=uint32 wt=uint32 raw=0x2\n"
    "start_array name=vq count=2\n"
    "start_struct name=- type=virtqueue\n"
    "int name=vring.num type=uint32 wt=uint32 raw=0x100\n"
    "int name=vring.desc type=uint64 wt=uint64 raw=0x7f000\n"
    "int name=last_avail_idx type=uint16 wt=uint16 raw=0x11\n"
    "int name=vector type=uint16 wt=uint16 raw=0x0\n"
    "end_struct\n"
    "start_struct name=- type=virtqueue\n"
    "int name=vring.num type=uint32 wt=uint32 raw=0x40\n"
    "int name=vring.desc type=uint64 wt=uint64 raw=0x0\n"
    "int name=last_avail_idx type=uint16 wt=uint16 raw=0x0\n"
    "int name=vector type=uint16 wt=uint16 raw=0xffff\n"
    "end_struct\n"
    "end_array\n"
    "bytes name=device type=virtio device len=4 hex=00050001\n"
    "start_subsection name=virtio/64bit_features version=1\n"
    "int name=guest_features type=uint64 wt=uint64 raw=0x130000021\n"
    "end_subsection\n"
    "start_subsection name=virtio/virtqueues version=1\n"
    "start_array name=vq count=2\n"
    "start_struct name=- type=struct\n"
    "int name=vring.avail type=uint64 wt=uint64 raw=0x80000\n"
    "int name=vring.used type=uint64 wt=uint64 raw=0x81000\n"
    "end_struct\n"
    "start_struct name=- type=struct\n"
    "int name=vring.avail type=uint64 wt=uint64 raw=0x0\n"
    "int name=vring.used type=uint64 wt=uint64 raw=0x0\n"
    "end_struct\n"
    "end_array\n"
    "bytes name=vq_rest type=unused queues len=16352 hex=0000000000000000000000000000000000000000~\n"
    "end_subsection\n"
    "start_subsection name=virtio/extra_state version=1\n"
    "start_struct name=extra_state type=virtio_pci\n"
    "start_subsection name=virtio_pci/modern_state version=1\n"
    "int name=dfselect type=uint32 wt=uint32 raw=0x1\n"
    "int name=gfselect type=uint32 wt=uint32 raw=0x0\n"
    "packed name=guest_features wt=uint32 count=2 hex=3000002100000001\n"
    "start_array name=vqs count=2\n"
    "start_struct name=- type=struct\n"
    "int name=num type=uint16 wt=uint16 raw=0x100\n"
    "bytes name=unused type=unused_buffer len=1 hex=00\n"
    "int name=enabled type=bool wt=bool raw=0x1\n"
    "packed name=desc wt=uint32 count=2 hex=0007f00000000000\n"
    "packed name=avail wt=uint32 count=2 hex=0008000000000000\n"
    "packed name=used wt=uint32 count=2 hex=0008100000000000\n"
    "end_struct\n"
    "start_struct name=- type=struct\n"
    "int name=num type=uint16 wt=uint16 raw=0x0\n"
    "bytes name=unused type=unused_buffer len=1 hex=00\n"
    "int name=enabled type=bool wt=bool raw=0x0\n"
    "packed name=desc wt=uint32 count=2 hex=0000000000000000\n"
    "packed name=avail wt=uint32 count=2 hex=0000000000000000\n"
    "packed name=used wt=uint32 count=2 hex=0000000000000000\n"
    "end_struct\n"
    "end_array\n"
    "bytes name=vqs_rest type=unused queues len=28616 hex=0000000000000000000000000000000000000000~\n"
    "start_subsection name=virtio_pci/modern_state/features128 version=1\n"
    "packed name=guest_features wt=uint32 count=2 hex=0000000000000008\n"
    "end_subsection\n"
    "end_subsection\n"
    "end_struct\n"
    "end_subsection\n"
    "start_subsection name=virtio/started version=1\n"
    "int name=started type=bool wt=bool raw=0x1\n"
    "end_subsection\n"
    "end_struct\n";

/*
 * virtio-rng on virtio-mmio (x86 microvm), in the modern (non-legacy) mode
 * that writes virtio/extra_state, and a big-endian guest's device_endian.
 */
static void put_mmio_field(tu_buf *b)
{
    /* virtio_mmio_save_config */
    tu_be32(b, 1);              /* host_features_sel */
    tu_be32(b, 1);              /* guest_features_sel */
    tu_be32(b, 12);             /* guest_page_shift */
    /* virtio_save */
    tu_u8(b, 0x07);             /* status */
    tu_u8(b, 0);                /* isr */
    tu_be16(b, 0);              /* queue_sel */
    tu_be32(b, 0);              /* guest_features_lo */
    tu_be32(b, 0);              /* config_len: virtio-rng has none */
    tu_be32(b, 1);              /* num_queues */
    tu_be32(b, 8);              /* vq[0]: vring.num */
    tu_be32(b, 4096);           /*        vring.align (variable: mmio) */
    tu_be64(b, 0x10000);        /*        vring.desc */
    tu_be16(b, 3);              /*        last_avail_idx */
    /* virtio-rng has no state of its own; subsections: */
    put_sub(b, "virtio/device_endian");
    tu_u8(b, 1);                /* device_endian: VIRTIO_DEVICE_ENDIAN_BIG */
    put_sub(b, "virtio/64bit_features");
    tu_be64(b, 0x100000000ull); /* guest_features: VIRTIO_F_VERSION_1 */
    put_sub(b, "virtio/extra_state");
    put_sub(b, "virtio_mmio/state");
    tu_be32(b, 0);              /* guest_features[0] */
    tu_be32(b, 1);              /* guest_features[1] */
    tu_be16(b, 8);              /* vqs[0]: num */
    tu_u8(b, 1);                /*         enabled */
    put_zeros(b, 24);           /*         desc, avail, used: 2 x u32 each */
    put_zeros(b, (QMAX - 1) * 27);
}

static const char mmio_calls[] =
    "start_struct name=virtio type=virtio\n"
    "start_struct name=transport type=virtio-mmio\n"
    "int name=host_features_sel type=uint32 wt=uint32 raw=0x1\n"
    "int name=guest_features_sel type=uint32 wt=uint32 raw=0x1\n"
    "int name=guest_page_shift type=uint32 wt=uint32 raw=0xc\n"
    "end_struct\n"
    "int name=status type=uint8 wt=uint8 raw=0x7\n"
    "int name=isr type=uint8 wt=uint8 raw=0x0\n"
    "int name=queue_sel type=uint16 wt=uint16 raw=0x0\n"
    "int name=guest_features_lo type=uint32 wt=uint32 raw=0x0\n"
    "int name=config_len type=uint32 wt=uint32 raw=0x0\n"
    "bytes name=config type=virtio config len=0 hex=\n"
    "int name=num_queues type=uint32 wt=uint32 raw=0x1\n"
    "start_array name=vq count=1\n"
    "start_struct name=- type=virtqueue\n"
    "int name=vring.num type=uint32 wt=uint32 raw=0x8\n"
    "int name=vring.align type=uint32 wt=uint32 raw=0x1000\n"
    "int name=vring.desc type=uint64 wt=uint64 raw=0x10000\n"
    "int name=last_avail_idx type=uint16 wt=uint16 raw=0x3\n"
    "end_struct\n"
    "end_array\n"
    "bytes name=device type=virtio device len=0 hex=\n"
    "start_subsection name=virtio/device_endian version=1\n"
    "int name=device_endian type=uint8 wt=uint8 raw=0x1\n"
    "end_subsection\n"
    "start_subsection name=virtio/64bit_features version=1\n"
    "int name=guest_features type=uint64 wt=uint64 raw=0x100000000\n"
    "end_subsection\n"
    "start_subsection name=virtio/extra_state version=1\n"
    "start_struct name=extra_state type=virtio_mmio\n"
    "start_subsection name=virtio_mmio/state version=1\n"
    "packed name=guest_features wt=uint32 count=2 hex=0000000000000001\n"
    "start_array name=vqs count=1\n"
    "start_struct name=- type=struct\n"
    "int name=num type=uint16 wt=uint16 raw=0x8\n"
    "int name=enabled type=bool wt=bool raw=0x1\n"
    "packed name=desc wt=uint32 count=2 hex=0000000000000000\n"
    "packed name=avail wt=uint32 count=2 hex=0000000000000000\n"
    "packed name=used wt=uint32 count=2 hex=0000000000000000\n"
    "end_struct\n"
    "end_array\n"
    "bytes name=vqs_rest type=unused queues len=27621 hex=0000000000000000000000000000000000000000~\n"
    "end_subsection\n"
    "end_struct\n"
    "end_subsection\n"
    "end_struct\n";

typedef struct warnings {
    int n;
    char msg[512];
} warnings;

static void note_warning(void *opaque, const mc_error *w)
{
    warnings *ws = opaque;
    ws->n++;
    snprintf(ws->msg, sizeof(ws->msg), "%s", w->msg);
}

/* The codec over len bytes into a recorder; returns the squashed text. */
static char *decode(const uint8_t *p, size_t len, warnings *ws)
{
    const mc_field_codec *codec = mc_field_codec_find("virtio");
    assert_non_null(codec);
    mc_field_env env = {"full 0000:00:01.0/virtio-net (id 2)/virtio", 1000,
                        ws ? note_warning : NULL, ws};
    mc_field f = {"virtio", "virtio"};
    mc_visitor *rec = tu_recorder_new();
    mc_error *err = NULL;
    assert_true(codec->visit(&env, rec, &f, p, len, &err));
    assert_null(err);
    char *text = squash(tu_recorder_text(rec));
    mc_visitor_free(rec);
    return text;
}

static void test_pci_golden(void **state)
{
    tu_buf b = {0};
    put_pci_field(&b);
    warnings ws = {0};
    char *text = decode(b.p, b.len, &ws);
    assert_string_equal(text, pci_calls);
    assert_int_equal(ws.n, 0);
    free(text);
    tu_free(&b);
}

static void test_mmio_golden(void **state)
{
    tu_buf b = {0};
    put_mmio_field(&b);
    warnings ws = {0};
    char *text = decode(b.p, b.len, &ws);
    assert_string_equal(text, mmio_calls);
    assert_int_equal(ws.n, 0);
    free(text);
    tu_free(&b);
}

/* Bytes that do not fit: one bytes call with all of them, one warning. */
static void expect_fallback(const uint8_t *p, size_t len, const char *why)
{
    warnings ws = {0};
    char *text = decode(p, len, &ws);
    char want[128];
    snprintf(want, sizeof(want), "bytes name=virtio type=virtio len=%zu hex=",
             len);
    if (!strstr(text, want)) {
        fail_msg("not carried as bytes (%s):\n%.3000s", why, text);
    }
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1); /* 1 call */
    assert_int_equal(ws.n, 1);
    if (!strstr(ws.msg, why) || !strstr(ws.msg, "carrying its")) {
        fail_msg("warning '%s' does not say '%s'", ws.msg, why);
    }
    free(text);
    /* without a warn callback (a dry run): the same bytes, silently */
    text = decode(p, len, NULL);
    assert_non_null(strstr(text, want));
    free(text);
}

static void test_misfits_fall_back_to_bytes(void **state)
{
    tu_buf b = {0};
    put_pci_field(&b);
    /* one byte short: virtio/started loses its bool */
    expect_fallback(b.p, b.len - 1, "ends early");
    /* one byte more than the layout */
    tu_buf c = {0};
    tu_put(&c, b.p, b.len);
    tu_u8(&c, 0);
    expect_fallback(c.p, c.len, "bytes after the subsections");
    tu_free(&c);
    /* a subsection this layout does not know, from a future QEMU */
    c = (tu_buf){0};
    tu_put(&c, b.p, b.len);
    put_sub(&c, "virtio/future");
    tu_u8(&c, 1);
    expect_fallback(c.p, c.len, "does not know");
    tu_free(&c);
    /* virtio/started version 2 */
    c = (tu_buf){0};
    tu_put(&c, b.p, b.len);
    c.p[c.len - 2] = 2;
    expect_fallback(c.p, c.len, "version");
    tu_free(&c);
    /* num_queues beyond VIRTIO_QUEUE_MAX */
    c = (tu_buf){0};
    tu_put(&c, b.p, b.len);
    size_t nq_at = 4 + 256 + 16 + 48 + 1 + 2 + 1 + 1 + 2 + 4 + 4 + 6;
    assert_int_equal(c.p[nq_at + 3], 2);
    c.p[nq_at + 2] = 0x04;      /* 0x402 queues */
    expect_fallback(c.p, c.len, "");
    tu_free(&c);
    /* empty and tiny fields */
    expect_fallback((const uint8_t *)"", 0, "ends early");
    expect_fallback((const uint8_t *)"\x00\x00\x00\x02", 4, "ends early");
    tu_free(&b);
}

/* Bytes inside the device's state that look like a vmstate_virtio
 * subsection header are taken for the start of the subsections: the field
 * no longer fits and is carried whole, never mislabelled. */
static void test_device_state_with_subsection_lookalike(void **state)
{
    tu_buf b = {0};
    put_mmio_field(&b);
    /* a fake "virtio/64bit_features" header in the (empty) device state:
     * after the queue table at 12 + 12 + 4 + 18 = 46 bytes */
    size_t at = 46;
    tu_buf c = {0};
    tu_put(&c, b.p, at);
    put_sub(&c, "virtio/64bit_features");
    tu_put(&c, b.p + at, b.len - at);
    expect_fallback(c.p, c.len, "");
    tu_free(&c);
    tu_free(&b);
}

/* ---- through the legacy reader, and back ---- */

static void put_stream_vmdesc(tu_buf *b, const tu_buf *field, bool vmdesc);

static void put_stream(tu_buf *b, const tu_buf *field)
{
    put_stream_vmdesc(b, field, true);
}

/* vmdesc false: as QEMU writes with suppress-vmdesc=on; the built-in
 * descriptor tables then give virtio-net version 11 one "virtio" field of
 * 46143 bytes, the size in the q35-devices fixture. */
static void put_stream_vmdesc(tu_buf *b, const tu_buf *field, bool vmdesc)
{
    static const char idstr[] = "0000:00:01.0/virtio-net";
    tu_be32(b, MC_VM_FILE_MAGIC);
    tu_be32(b, MC_VM_FILE_VERSION);
    tu_u8(b, MC_VM_SECTION_FULL);
    tu_be32(b, 2);              /* section id */
    tu_str(b, idstr);
    tu_be32(b, 0);              /* instance id */
    tu_be32(b, 11);             /* version id */
    tu_put(b, field->p, field->len); /* the one field: VMSTATE_VIRTIO_DEVICE */
    tu_u8(b, MC_VM_SECTION_FOOTER);
    tu_be32(b, 2);
    tu_u8(b, MC_VM_EOF);
    if (!vmdesc) {
        return;
    }
    char json[512];
    int n = snprintf(json, sizeof(json),
                     "{\"page_size\":4096,\"devices\":[{\"name\":\"%s\","
                     "\"instance_id\":0,\"vmsd_name\":\"virtio-net\","
                     "\"version\":11,\"fields\":[{\"name\":\"virtio\","
                     "\"type\":\"virtio\",\"size\":%zu}]}]}",
                     idstr, field->len);
    tu_u8(b, MC_VM_VMDESCRIPTION);
    tu_be32(b, (uint32_t)n);
    tu_put(b, json, (size_t)n);
}

static void roundtrip(const tu_buf *field, const char *calls, int want_warnings)
{
    tu_buf b = {0};
    put_stream(&b, field);
    /* the reader reports the field through the codec, warning once */
    warnings ws = {0};
    mc_read_opts o = {.warn = note_warning, .warn_opaque = &ws};
    mc_src src;
    mc_src_init_mem(&src, b.p, b.len);
    mc_visitor *rec = tu_recorder_new();
    mc_error *err = NULL;
    assert_true(mc_legacy_read(&src, rec, &o, &err));
    char *text = squash(tu_recorder_text(rec));
    if (calls && !strstr(text, calls)) {
        fail_msg("the reader's calls do not contain the codec's:\n%s", text);
    }
    assert_int_equal(ws.n, want_warnings);
    free(text);
    mc_visitor_free(rec);
    mc_src_cleanup(&src);
    /* legacy -> BER -> legacy, with and without names: the same bytes */
    for (int names = 0; names < 2; names++) {
        size_t blen, llen;
        uint8_t *ber = tu_legacy_to_ber(b.p, b.len, names, &blen, &err);
        assert_non_null(ber);
        uint8_t *back = tu_ber_to_legacy(ber, blen, &llen, &err);
        assert_non_null(back);
        assert_int_equal(llen, b.len);
        assert_memory_equal(back, b.p, b.len);
        free(back);
        free(ber);
    }
    tu_free(&b);
}

static void test_reader_pci_roundtrip(void **state)
{
    tu_buf f = {0};
    put_pci_field(&f);
    roundtrip(&f, pci_calls, 0);
    tu_free(&f);
}

static void test_reader_mmio_roundtrip(void **state)
{
    tu_buf f = {0};
    put_mmio_field(&f);
    roundtrip(&f, mmio_calls, 0);
    tu_free(&f);
}

/* A damaged field still converts: carried as bytes, warned about once
 * (not again for the reader's dry run), and round-trips exactly. */
static void test_reader_damaged_field(void **state)
{
    tu_buf f = {0};
    put_pci_field(&f);
    f.p[f.len - 2] = 9;         /* virtio/started version 9 */
    char want[80];
    snprintf(want, sizeof(want), "bytes name=virtio type=virtio len=%zu hex=",
             f.len);
    roundtrip(&f, want, 1);
    tu_free(&f);
}

/* Without a vmdesc the tables' size (46143) is only a guess: the golden
 * field, of another size, is measured by its bytes and decoded; one whose
 * subsections end in one this layout does not know cannot be measured and
 * the section is carried opaque, as before, with the reader's warning. */
static void test_tables_measure_the_field(void **state)
{
    tu_buf f = {0};
    put_pci_field(&f);
    assert_int_not_equal(f.len, 46143);
    for (int unknown = 0; unknown < 2; unknown++) {
        if (unknown) {
            put_sub(&f, "virtio/future");
            tu_u8(&f, 1);
        }
        tu_buf b = {0};
        put_stream_vmdesc(&b, &f, false);
        warnings ws = {0};
        mc_read_opts o = {.warn = note_warning, .warn_opaque = &ws};
        mc_src src;
        mc_src_init_mem(&src, b.p, b.len);
        mc_visitor *rec = tu_recorder_new();
        mc_error *err = NULL;
        assert_true(mc_legacy_read(&src, rec, &o, &err));
        char *text = squash(tu_recorder_text(rec));
        if (!unknown) {
            if (!strstr(text, pci_calls)) {
                fail_msg("the field is not decoded:\n%s", text);
            }
            assert_int_equal(ws.n, 0);
        } else {
            char want[64];
            snprintf(want, sizeof(want), "bytes name=data type=opaque len=%zu ",
                     f.len);
            assert_non_null(strstr(text, want));
            assert_int_equal(ws.n, 1);
            assert_non_null(strstr(ws.msg, "no layout in the descriptor tables"));
        }
        free(text);
        mc_visitor_free(rec);
        mc_src_cleanup(&src);
        /* and the bytes come back either way */
        size_t blen, llen;
        uint8_t *ber = tu_legacy_to_ber(b.p, b.len, true, &blen, &err);
        assert_non_null(ber);
        uint8_t *back = tu_ber_to_legacy(ber, blen, &llen, &err);
        assert_non_null(back);
        assert_int_equal(llen, b.len);
        assert_memory_equal(back, b.p, b.len);
        free(back);
        free(ber);
        tu_free(&b);
    }
    tu_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pci_golden),
        cmocka_unit_test(test_mmio_golden),
        cmocka_unit_test(test_misfits_fall_back_to_bytes),
        cmocka_unit_test(test_device_state_with_subsection_lookalike),
        cmocka_unit_test(test_reader_pci_roundtrip),
        cmocka_unit_test(test_reader_mmio_roundtrip),
        cmocka_unit_test(test_reader_damaged_field),
        cmocka_unit_test(test_tables_measure_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
