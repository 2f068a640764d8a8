#include "container/ber_container.h"

#include <stdlib.h>
#include <string.h>

#include "container/libvirt_save.h"
#include "core/util.h"
#include "format/registry.h"

void mc_container_info_free(mc_container_info *ci)
{
    free(ci->libvirt);
    ci->libvirt = NULL;
    ci->libvirt_len = 0;
}

/* ---- DER helpers ---- */

static size_t put_len(uint8_t *p, uint64_t len)
{
    if (len < 0x80) {
        p[0] = (uint8_t)len;
        return 1;
    }
    unsigned n = 0;
    for (uint64_t v = len; v; v >>= 8) {
        n++;
    }
    p[0] = (uint8_t)(0x80 | n);
    for (unsigned i = 0; i < n; i++) {
        p[1 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
    }
    return 1 + n;
}

/* Minimal two's complement INTEGER contents of a non-negative value. */
static size_t put_uint(uint8_t *p, uint64_t v)
{
    uint8_t tmp[9];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)v;
        v >>= 8;
    } while (v);
    if (tmp[n - 1] & 0x80) {
        tmp[n++] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        p[i] = tmp[n - 1 - i];
    }
    return n;
}

static size_t put_tlv_uint(uint8_t *p, uint8_t tag, uint64_t v)
{
    p[0] = tag;
    size_t n = put_uint(p + 2, v);
    p[1] = (uint8_t)n;
    return 2 + n;
}

bool mc_container_ber_write(mc_sink *k, const mc_container_info *ci,
                            mc_error **errp)
{
    uint8_t body[64];
    size_t n = 0;
    n += put_tlv_uint(body + n, 0x0a, (uint64_t)ci->kind);
    n += put_tlv_uint(body + n, 0x0a, (uint64_t)ci->codec);
    n += put_tlv_uint(body + n, 0x02, (uint64_t)ci->level);
    uint8_t lv_hdr[10];
    size_t lv_hdr_len = 0;
    if (ci->libvirt) {
        lv_hdr[0] = 0x80;
        lv_hdr_len = 1 + put_len(lv_hdr + 1, ci->libvirt_len);
    }
    uint8_t head[10];
    head[0] = MC_BER_CONTAINER_TAG;
    size_t hl = 1 + put_len(head + 1, n + lv_hdr_len + ci->libvirt_len);
    return mc_sink_write(k, head, hl, errp) && mc_sink_write(k, body, n, errp) &&
           mc_sink_write(k, lv_hdr, lv_hdr_len, errp) &&
           mc_sink_write(k, ci->libvirt, ci->libvirt_len, errp);
}

/* A DER header at *p (n bytes): tag and definite length. */
static bool get_tl(const uint8_t *p, size_t n, size_t *hl, uint64_t *len)
{
    if (n < 2) {
        return false;
    }
    if (p[1] < 0x80) {
        *hl = 2;
        *len = p[1];
        return true;
    }
    unsigned k = p[1] & 0x7f;
    if (k == 0 || k > 8 || n < 2 + (size_t)k) {
        return false;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < k; i++) {
        v = v << 8 | p[2 + i];
    }
    *hl = 2 + k;
    *len = v;
    return true;
}

static bool get_uint(const uint8_t *p, uint64_t len, uint64_t *v)
{
    if (len == 0 || len > 9 || (p[0] & 0x80) || (len == 9 && p[0] != 0)) {
        return false;
    }
    *v = 0;
    for (uint64_t i = 0; i < len; i++) {
        *v = *v << 8 | p[i];
    }
    return true;
}

bool mc_container_ber_read(mc_src *s, mc_container_info *ci, mc_error **errp)
{
    memset(ci, 0, sizeof(*ci));
    uint64_t off = mc_src_offset(s);
    const uint8_t *p;
    size_t hl;
    uint64_t len;
    size_t have = 12;
    if (!mc_src_peek(s, 2, &p, errp)) {
        return false;
    }
    if (!mc_src_peek(s, have, &p, NULL)) {
        have = mc_src_buffered(s);
        (void)mc_src_peek(s, have, &p, NULL);
    }
    if (p[0] != MC_BER_CONTAINER_TAG || !get_tl(p, have, &hl, &len) ||
        len > MC_LIBVIRT_MAX_DATA + MC_LIBVIRT_HEADER_SIZE + 64) {
        mc_error_data(errp, off, "container", "invalid Container header");
        return false;
    }
    if (!mc_src_take(s, hl + (size_t)len, &p, errp)) {
        return false;
    }
    const uint8_t *q = p + hl, *end = q + len;
    uint64_t vals[3];
    static const uint8_t tags[3] = {0x0a, 0x0a, 0x02};
    static const char *const names[3] = {"kind", "compression", "level"};
    for (int i = 0; i < 3; i++) {
        uint64_t l;
        if (!get_tl(q, (size_t)(end - q), &hl, &l) || q[0] != tags[i] ||
            l > (uint64_t)(end - q) - hl || !get_uint(q + hl, l, &vals[i])) {
            mc_error_data(errp, off + (uint64_t)(q - p), "container",
                          "invalid Container %s", names[i]);
            return false;
        }
        q += hl + l;
    }
    if (vals[0] > MC_CONTAINER_LIBVIRT || (vals[1] != MC_CODEC_NONE &&
                                        (vals[1] > INT32_MAX ||
                                         !mc_codec_get((mc_codec)vals[1]))) ||
        vals[2] > 22) {
        mc_error_data(errp, off, "container",
                      "unknown Container kind %llu or compression %llu or "
                      "level %llu", (unsigned long long)vals[0],
                      (unsigned long long)vals[1], (unsigned long long)vals[2]);
        return false;
    }
    ci->kind = (mc_container_kind)vals[0];
    ci->codec = (mc_codec)vals[1];
    ci->level = (int)vals[2];
    if (q < end) {
        uint64_t l;
        if (!get_tl(q, (size_t)(end - q), &hl, &l) || q[0] != 0x80 ||
            l != (uint64_t)(end - q) - hl) {
            mc_error_data(errp, off + (uint64_t)(q - p), "container/libvirt",
                          "invalid Container libvirt header");
            return false;
        }
        mc_libvirt_header h;
        mc_error *err = NULL;
        if (!mc_libvirt_header_parse(q + hl, (size_t)l, &h, &err) ||
            l != MC_LIBVIRT_HEADER_SIZE + (uint64_t)h.data_len) {
            mc_error_data(errp, off + (uint64_t)(q - p), "container/libvirt",
                          "the Container's libvirt header is invalid (%s)",
                          err ? err->msg : "data_len does not match");
            mc_error_free(err);
            return false;
        }
        ci->libvirt_len = (size_t)l;
        ci->libvirt = mc_malloc(ci->libvirt_len);
        memcpy(ci->libvirt, q + hl, ci->libvirt_len);
    }
    if ((ci->kind == MC_CONTAINER_LIBVIRT) != (ci->libvirt != NULL) ||
        (ci->kind == MC_CONTAINER_COMPRESSED && ci->codec == MC_CODEC_NONE)) {
        mc_error_data(errp, off, "container",
                      "Container kind and contents disagree");
        mc_container_info_free(ci);
        return false;
    }
    return true;
}

/* ---- trailer ---- */

void mc_trailer_writer_init(mc_trailer_writer *t, mc_sink *k)
{
    memset(t, 0, offsetof(mc_trailer_writer, buf));
    t->k = k;
}

static bool start(mc_trailer_writer *t, mc_error **errp)
{
    if (t->started) {
        return true;
    }
    t->started = true;
    static const uint8_t h[2] = {MC_BER_TRAILER_TAG, 0x80};
    return mc_sink_write(t->k, h, 2, errp);
}

static bool flush_bytes(mc_trailer_writer *t, mc_error **errp)
{
    if (t->len == 0) {
        return true;
    }
    uint8_t h[10];
    h[0] = 0x80;
    size_t hl = 1 + put_len(h + 1, t->len);
    bool ok = start(t, errp) && mc_sink_write(t->k, h, hl, errp) &&
              mc_sink_write(t->k, t->buf, t->len, errp);
    t->len = 0;
    return ok;
}

static bool push_byte_run(mc_trailer_writer *t, uint8_t b, uint64_t count,
                          mc_error **errp)
{
    while (count) {
        size_t room = MC_TRAILER_CHUNK - t->len;
        size_t n = count < room ? (size_t)count : room;
        memset(t->buf + t->len, b, n);
        t->len += n;
        count -= n;
        if (t->len == MC_TRAILER_CHUNK && !flush_bytes(t, errp)) {
            return false;
        }
    }
    return true;
}

/* End the pending zero run: a count when long, else plain bytes. */
static bool settle_zeros(mc_trailer_writer *t, mc_error **errp)
{
    if (t->zeros == 0) {
        return true;
    }
    uint64_t z = t->zeros;
    t->zeros = 0;
    if (z < MC_TRAILER_ZERO_RUN) {
        return push_byte_run(t, 0, z, errp);
    }
    uint8_t h[12];
    h[0] = 0x81;
    size_t n = put_uint(h + 2, z);
    h[1] = (uint8_t)n;
    return flush_bytes(t, errp) && start(t, errp) &&
           mc_sink_write(t->k, h, 2 + n, errp);
}

bool mc_trailer_writer_feed(mc_trailer_writer *t, const uint8_t *p, size_t n,
                            mc_error **errp)
{
    t->total += n;
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0) {
            size_t j = i;
            while (j < n && p[j] == 0) {
                j++;
            }
            t->zeros += j - i;
            i = j;
            continue;
        }
        if (!settle_zeros(t, errp)) {
            return false;
        }
        size_t j = i;
        while (j < n && p[j] != 0) {
            j++;
        }
        /* Non-zero bytes i..j-1, in chunk-sized pieces. */
        while (i < j) {
            size_t room = MC_TRAILER_CHUNK - t->len;
            size_t m = j - i < room ? j - i : room;
            memcpy(t->buf + t->len, p + i, m);
            t->len += m;
            i += m;
            if (t->len == MC_TRAILER_CHUNK && !flush_bytes(t, errp)) {
                return false;
            }
        }
    }
    return true;
}

bool mc_trailer_writer_finish(mc_trailer_writer *t, mc_error **errp)
{
    if (!settle_zeros(t, errp) || !flush_bytes(t, errp)) {
        return false;
    }
    if (!t->started) {
        return true;
    }
    static const uint8_t eoc[2] = {0, 0};
    return mc_sink_write(t->k, eoc, 2, errp);
}

bool mc_trailer_copy_out(mc_src *src, mc_sink *k, uint64_t *total,
                         mc_error **errp)
{
    mc_trailer_writer *t = mc_malloc(sizeof(*t));
    mc_trailer_writer_init(t, k);
    bool ok = true;
    for (;;) {
        bool at_end;
        if (!mc_src_at_end(src, &at_end, errp)) {
            ok = false;
            break;
        }
        if (at_end) {
            break;
        }
        size_t n = mc_src_buffered(src);
        const uint8_t *p;
        if (!mc_src_take(src, n, &p, errp) ||
            !mc_trailer_writer_feed(t, p, n, errp)) {
            ok = false;
            break;
        }
    }
    ok = ok && mc_trailer_writer_finish(t, errp);
    if (total) {
        *total = t->total;
    }
    free(t);
    return ok;
}

bool mc_trailer_read(mc_src *src, mc_sink *k, uint64_t *total,
                     mc_error **errp)
{
    uint64_t sum = 0;
    bool at_end;
    if (!mc_src_at_end(src, &at_end, errp)) {
        return false;
    }
    if (!at_end) {
        uint64_t off = mc_src_offset(src);
        const uint8_t *p;
        if (!mc_src_take(src, 2, &p, errp)) {
            return false;
        }
        if (p[0] != MC_BER_TRAILER_TAG || p[1] != 0x80) {
            mc_error_data(errp, off, NULL,
                          "trailing data after the end of the stream "
                          "(%02x %02x is not a Trailer)", p[0], p[1]);
            return false;
        }
        static const uint8_t zero[4096];
        for (;;) {
            off = mc_src_offset(src);
            if (!mc_src_peek(src, 2, &p, errp)) {
                return false;
            }
            if (p[0] == 0 && p[1] == 0) {
                (void)mc_src_skip(src, 2, NULL);
                break;
            }
            size_t hl;
            uint64_t len;
            size_t have = mc_src_buffered(src) < 10 ? mc_src_buffered(src) : 10;
            if ((p[0] == 0x80 || p[0] == 0x81) &&
                !mc_src_peek(src, have, &p, errp)) {
                return false; /* the error is set once, by the peek */
            }
            if ((p[0] != 0x80 && p[0] != 0x81) ||
                !get_tl(p, have, &hl, &len) ||
                (p[0] == 0x80 && (len == 0 || len > MC_TRAILER_CHUNK))) {
                mc_error_data(errp, off, "trailer", "invalid Trailer chunk");
                return false;
            }
            if (p[0] == 0x80) {
                if (!mc_src_skip(src, hl, errp) ||
                    !mc_src_take(src, (size_t)len, &p, errp) ||
                    !mc_sink_write(k, p, (size_t)len, errp)) {
                    return false;
                }
                sum += len;
                continue;
            }
            uint64_t z;
            if (!mc_src_take(src, hl + (size_t)(len > 9 ? 0 : len), &p, errp)) {
                return false;
            }
            if (!get_uint(p + hl, len, &z) || z == 0) {
                mc_error_data(errp, off, "trailer", "invalid Trailer zero run");
                return false;
            }
            sum += z;
            while (z) {
                size_t m = z < sizeof(zero) ? (size_t)z : sizeof(zero);
                if (!mc_sink_write(k, zero, m, errp)) {
                    return false;
                }
                z -= m;
            }
        }
        if (!mc_src_at_end(src, &at_end, errp)) {
            return false;
        }
        if (!at_end) {
            mc_error_data(errp, mc_src_offset(src), NULL,
                          "trailing data after the Trailer");
            return false;
        }
    }
    if (total) {
        *total = sum;
    }
    return true;
}

/* ---- the Container record as a row of format/registry.c ---- */

static int container_bid(const mc_filter_ops *self, const uint8_t *p,
                         size_t n)
{
    (void)self;
    return n >= 1 && p[0] == MC_BER_CONTAINER_TAG ? 100 : 0;
}

/* A BER file that keeps its container: read the record; the Stream
 * follows in the same layer. */
static bool container_open(const mc_filter_ops *self, mc_filter_ctx *cx,
                           mc_src *lower, mc_src *top, void **state,
                           char *label, size_t cap, mc_error **errp)
{
    (void)self;
    (void)top;
    (void)state;
    (void)label;
    (void)cap;
    if (!mc_container_ber_read(lower, cx->container, errp)) {
        return false;
    }
    *cx->has_container = true;
    return true;
}

const mc_filter_ops mc_filter_ber_container = {
    .name = "container", .once = true,
    .bid = container_bid, .open = container_open,
};
