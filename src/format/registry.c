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

/* Source filters, tried in front of the format bids.  None yet: a
 * container or compression layer adds its row here. */
static const mc_filter_ops *const filters[] = {
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

const mc_filter_ops *mc_filter_bid(const uint8_t *p, size_t n)
{
    const mc_filter_ops *best = NULL;
    int best_bid = 0;
    for (size_t i = 0; filters[i]; i++) {
        int b = filters[i]->bid(p, n);
        if (b > best_bid) {
            best_bid = b;
            best = filters[i];
        }
    }
    return best;
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
