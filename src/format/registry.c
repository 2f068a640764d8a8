#include "format/registry.h"

#include <string.h>

#include "core/ber.h"
#include "visit/visitors.h"

/* ---- legacy QEMU stream (QEVM, file version 3) ---- */

static int legacy_bid(const uint8_t *p, size_t n)
{
    return n >= 4 && memcmp(p, "QEVM", 4) == 0 ? 100 : 0;
}

static mc_visitor *legacy_writer(mc_sink *out, const mc_write_opts *o)
{
    (void)o;
    return mc_legacy_writer_new(out);
}

/* ---- BER (asn1/migconv.asn) ---- */

static int ber_bid(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] == MC_BER_STREAM && p[1] == 0x80 ? 100 : 0;
}

static mc_visitor *ber_writer(mc_sink *out, const mc_write_opts *o)
{
    mc_ber_writer_opts bo = {.names = o->names};
    return mc_ber_writer_new(out, &bo);
}

/*
 * Whether a BER stream was written with field names: the last element of
 * its StreamHeader, BOOLEAN names (asn1/migconv.asn).  The header is at the
 * start: 60 80 30 LEN ... 01 01 XX.  When the header is not all there,
 * names (the default).
 */
static void ber_write_opts_of(const uint8_t *p, size_t n, mc_write_opts *o)
{
    o->names = true;
    if (n < 4 || p[2] != 0x30 || p[3] > 0x7f || n < 4 + (size_t)p[3]) {
        return;
    }
    const uint8_t *end = p + 4 + p[3];
    o->names = !(p[3] >= 3 && end[-3] == 0x01 && end[-2] == 0x01 &&
                 end[-1] == 0);
}

/* ---- the tables ---- */

static const mc_format_ops formats[] = {
    {
        .id = MC_FORMAT_LEGACY, .name = "legacy",
        .convert_to = MC_FORMAT_BER, .convert_cmd = "legacy-to-ber",
        .bid_bytes = 4, .bid = legacy_bid,
        .read = mc_legacy_read, .writer_new = legacy_writer,
    },
    {
        .id = MC_FORMAT_BER, .name = "ber",
        .convert_to = MC_FORMAT_LEGACY, .convert_cmd = "ber-to-legacy",
        .bid_bytes = 2, .bid = ber_bid,
        .read = mc_ber_read, .writer_new = ber_writer,
        .write_opts_of = ber_write_opts_of,
    },
};

/*
 * Source filters, tried in front of the format bids, each defined in its
 * container's file.  The magics do not overlap, so the order only decides
 * which message a damaged input gets; a compression row is CODEC_ROW(its
 * mc_codec_ops).
 */
extern const mc_filter_ops mc_filter_libvirt;        /* libvirt_save.c */
extern const mc_filter_ops mc_filter_qcow2;          /* qcow2.c */
extern const mc_codec_ops mc_codec_gzip;             /* gzip.c */
extern const mc_codec_ops mc_codec_bzip2;            /* bzip2.c */
extern const mc_codec_ops mc_codec_xz;               /* xz.c */
extern const mc_codec_ops mc_codec_zstd;             /* zstd.c */
extern const mc_codec_ops mc_codec_lzop;             /* lzop.c */
extern const mc_filter_ops mc_filter_ber_container;  /* ber_container.c */

#define CODEC_ROW(ops)                                                  \
    (&(const mc_filter_ops){                                            \
        .codec = &(ops), .once = true, .layer = true,                  \
        .bid = mc_codec_filter_bid, .open = mc_codec_filter_open,       \
        .free = mc_codec_filter_free})

static const mc_filter_ops *const filters[] = {
    &mc_filter_libvirt,
    &mc_filter_qcow2,
    CODEC_ROW(mc_codec_gzip),
    CODEC_ROW(mc_codec_bzip2),
    CODEC_ROW(mc_codec_xz),
    CODEC_ROW(mc_codec_zstd),
    CODEC_ROW(mc_codec_lzop),
    &mc_filter_ber_container,
    NULL,
};

const mc_format_ops *mc_format_get(mc_format id)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (formats[i].id == id) {
            return &formats[i];
        }
    }
    return NULL;
}

const mc_format_ops *mc_format_bid(const uint8_t *p, size_t n)
{
    const mc_format_ops *best = NULL;
    int best_bid = 0;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        int b = formats[i].bid(p, n);
        if (b > best_bid) {
            best_bid = b;
            best = &formats[i];
        }
    }
    return best;
}

void mc_format_write_opts(const mc_format_ops *f, const uint8_t *p, size_t n,
                          mc_write_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->names = true;
    if (f && f->write_opts_of) {
        f->write_opts_of(p, n, o);
    }
}

/* Whether row f may stand where cx is (first, once). */
static bool filter_fits(const mc_filter_ops *f, const mc_filter_ctx *cx)
{
    if (f->first && cx->depth > 0) {
        return false;
    }
    if (f->once && *cx->has_container &&
        (!f->codec || cx->container->codec != MC_CODEC_NONE)) {
        return false;
    }
    return true;
}

const mc_filter_ops *mc_filter_bid(const mc_filter_ctx *cx, const uint8_t *p,
                                   size_t n)
{
    const mc_filter_ops *best = NULL;
    int best_bid = 0;
    for (size_t i = 0; filters[i]; i++) {
        if (!filter_fits(filters[i], cx)) {
            continue;
        }
        int b = filters[i]->bid(filters[i], p, n);
        if (b > best_bid) {
            best_bid = b;
            best = filters[i];
        }
    }
    return best;
}

const mc_filter_ops *mc_filter_at(size_t i)
{
    return i < sizeof(filters) / sizeof(filters[0]) ? filters[i] : NULL;
}

bool mc_filter_peek(mc_src *s, size_t n, const uint8_t **p, size_t *have,
                    mc_error **errp)
{
    mc_error *err = NULL;
    if (mc_src_peek(s, n, p, &err)) {
        *have = n;
        return true;
    }
    if (err->cls != MC_ERR_DATA ||
        strncmp(err->msg, "unexpected end of input", 23) != 0) {
        mc_error_propagate(errp, err);
        return false;
    }
    mc_error_free(err);
    *have = mc_src_buffered(s);
    return mc_src_peek(s, *have, p, errp);
}

/* ---- the compressions: the rows with a codec ---- */

const mc_codec_ops *mc_codec_get(mc_codec id)
{
    for (size_t i = 0; filters[i]; i++) {
        if (filters[i]->codec && filters[i]->codec->id == id) {
            return filters[i]->codec;
        }
    }
    return NULL;
}

const mc_codec_ops *mc_codec_by_libvirt(uint32_t format)
{
    for (size_t i = 0; format && filters[i]; i++) {
        if (filters[i]->codec && filters[i]->codec->libvirt_format == format) {
            return filters[i]->codec;
        }
    }
    return NULL;
}

const mc_codec_ops *mc_codec_bid(const uint8_t *p, size_t n)
{
    for (size_t i = 0; filters[i]; i++) {
        if (filters[i]->codec && filters[i]->codec->detect(p, n)) {
            return filters[i]->codec;
        }
    }
    return NULL;
}

/* ---- the enum interface of format/readers.h ---- */

mc_format mc_format_detect(const uint8_t *p, size_t n)
{
    const mc_format_ops *f = mc_format_bid(p, n);
    return f ? f->id : MC_FORMAT_UNKNOWN;
}

const char *mc_format_name(mc_format id)
{
    const mc_format_ops *f = mc_format_get(id);
    return f ? f->name : "unknown";
}
