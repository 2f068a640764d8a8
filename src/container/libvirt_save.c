#include "container/libvirt_save.h"

#include <stdio.h>
#include <string.h>

#include "container/codec.h"
#include "core/util.h"
#include "format/registry.h"

static uint32_t get32(const uint8_t *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                    (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[1] << 8 | p[0];
}

static void put32(uint8_t *p, uint32_t v, bool be)
{
    for (int i = 0; i < 4; i++) {
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

bool mc_libvirt_detect(const uint8_t *p, size_t n)
{
    return n >= 16 && (memcmp(p, MC_LIBVIRT_MAGIC, 16) == 0 ||
                       memcmp(p, MC_LIBVIRT_PARTIAL, 16) == 0);
}

static void read_fields(const uint8_t *p, mc_libvirt_header *h, bool be)
{
    h->big_endian = be;
    h->version = get32(p + 16, be);
    h->data_len = get32(p + 20, be);
    h->was_running = get32(p + 24, be);
    h->format = get32(p + 28, be);
    h->cookie_offset = get32(p + 32, be);
    for (int i = 0; i < 14; i++) {
        h->unused[i] = get32(p + 36 + 4 * i, be);
    }
}

bool mc_libvirt_header_parse(const uint8_t *p, size_t n,
                             mc_libvirt_header *h, mc_error **errp)
{
    memset(h, 0, sizeof(*h));
    if (n >= 16 && memcmp(p, MC_LIBVIRT_PARTIAL, 16) == 0) {
        mc_error_data(errp, 0, "libvirt header/magic",
                      "save image is incomplete (magic %s: libvirt did not "
                      "finish writing it)", MC_LIBVIRT_PARTIAL);
        return false;
    }
    if (n < 16 || memcmp(p, MC_LIBVIRT_MAGIC, 16) != 0) {
        mc_error_data(errp, 0, "libvirt header/magic",
                      "not a libvirt save image");
        return false;
    }
    if (n < MC_LIBVIRT_HEADER_SIZE) {
        mc_error_data(errp, n, "libvirt header",
                      "header cut short (%zu of %u bytes)", n,
                      MC_LIBVIRT_HEADER_SIZE);
        return false;
    }
    /* Host order of the writer: try little-endian (x86, arm, ...), and
     * swap as libvirt does when the version looks too large. */
    read_fields(p, h, false);
    if (h->version > MC_LIBVIRT_VERSION) {
        read_fields(p, h, true);
    }
    if (h->version == 0 || h->version > MC_LIBVIRT_VERSION) {
        mc_error_data(errp, 16, "libvirt header/version",
                      "unsupported save image version %u (1 and 2 are known)",
                      get32(p + 16, false));
        return false;
    }
    if (h->data_len == 0 || h->data_len > MC_LIBVIRT_MAX_DATA) {
        mc_error_data(errp, 20, "libvirt header/data_len",
                      "invalid XML data length %u (1 to %u bytes allowed)",
                      h->data_len, MC_LIBVIRT_MAX_DATA);
        return false;
    }
    if (h->cookie_offset > h->data_len) {
        mc_error_data(errp, 32, "libvirt header/cookieOffset",
                      "cookie offset %u is past the XML data (%u bytes)",
                      h->cookie_offset, h->data_len);
        return false;
    }
    if (h->version == 2 && h->format == MC_LIBVIRT_SPARSE) {
        mc_error_data(errp, 28, "libvirt header/format",
                      "the sparse (mapped-ram) save image format is not "
                      "supported yet");
        return false;
    }
    if (h->version == 2 && h->format > MC_LIBVIRT_SPARSE) {
        mc_error_data(errp, 28, "libvirt header/format",
                      "unknown save image format %u", h->format);
        return false;
    }
    return true;
}

void mc_libvirt_header_write(const mc_libvirt_header *h, uint8_t out[92])
{
    memcpy(out, MC_LIBVIRT_MAGIC, 16);
    bool be = h->big_endian;
    put32(out + 16, h->version, be);
    put32(out + 20, h->data_len, be);
    put32(out + 24, h->was_running, be);
    put32(out + 28, h->format, be);
    put32(out + 32, h->cookie_offset, be);
    for (int i = 0; i < 14; i++) {
        put32(out + 36 + 4 * i, h->unused[i], be);
    }
}

mc_libvirt_format mc_libvirt_stream_format(const mc_libvirt_header *h)
{
    return h->version == 2 ? (mc_libvirt_format)h->format : MC_LIBVIRT_RAW;
}

const char *mc_libvirt_format_name(uint32_t format)
{
    static const char *const names[] = {"raw", "gzip", "bzip2", "xz",
                                        "lzop", "zstd", "sparse"};
    return format < sizeof(names) / sizeof(names[0]) ? names[format]
                                                      : "unknown";
}

static size_t strnlen_u8(const uint8_t *p, size_t n)
{
    const uint8_t *z = memchr(p, 0, n);
    return z ? (size_t)(z - p) : n;
}

void mc_libvirt_data_split(const mc_libvirt_header *h, const uint8_t *data,
                           const char **xml, size_t *xml_len,
                           const char **cookie, size_t *cookie_len)
{
    size_t xml_area = h->cookie_offset ? h->cookie_offset : h->data_len;
    *xml = (const char *)data;
    *xml_len = strnlen_u8(data, xml_area);
    if (h->cookie_offset) {
        *cookie = (const char *)data + h->cookie_offset;
        *cookie_len = strnlen_u8(data + h->cookie_offset,
                                 h->data_len - h->cookie_offset);
    } else {
        *cookie = NULL;
        *cookie_len = 0;
    }
}

/* ---- the libvirt save image as a row of format/registry.c ---- */

static int libvirt_bid(const mc_filter_ops *self, const uint8_t *p, size_t n)
{
    (void)self;
    return mc_libvirt_detect(p, n) ? 100 : 0;
}

/* A layer that passes bytes through, counting offsets from where it
 * starts (the stream after the header). */
static bool pass_read(mc_src *s, uint8_t *buf, size_t n, size_t *got,
                      mc_error **errp)
{
    return mc_src_read(s->read_opaque, buf, n, got, errp);
}

/* Take the header, the XML and the cookie (kept in the container, so that
 * the image is written back exactly), then stack the stream: as it is, or
 * through the decompressor the header names. */
static bool libvirt_open(const mc_filter_ops *self, mc_filter_ctx *cx,
                         mc_src *lower, mc_src *top, void **state,
                         char *label, size_t cap, mc_error **errp)
{
    (void)self;
    const uint8_t *p;
    size_t have;
    if (!mc_filter_peek(lower, MC_LIBVIRT_HEADER_SIZE, &p, &have, errp)) {
        return false;
    }
    mc_libvirt_header h;
    if (!mc_libvirt_header_parse(p, have, &h, errp)) {
        return false;
    }
    size_t total = MC_LIBVIRT_HEADER_SIZE + (size_t)h.data_len;
    if (cx->size && cx->size < total) {
        mc_error_data(errp, 20, "libvirt header/data_len",
                      "XML data length %u runs past the end of the file "
                      "(%llu bytes)", h.data_len,
                      (unsigned long long)cx->size);
        return false;
    }
    mc_error *err = NULL;
    if (!mc_src_take(lower, total, &p, &err)) {
        mc_error_free(err);
        mc_error_data(errp, 20, "libvirt header/data_len",
                      "XML data length %u runs past the end of the input",
                      h.data_len);
        return false;
    }
    const mc_codec_ops *codec =
        mc_codec_by_libvirt(mc_libvirt_stream_format(&h));
    mc_container_info *ci = cx->container;
    *cx->has_container = true;
    ci->kind = MC_CONTAINER_LIBVIRT;
    ci->codec = codec ? codec->id : MC_CODEC_NONE;
    ci->level = codec ? codec->level : 0;
    ci->libvirt = mc_malloc(total);
    memcpy(ci->libvirt, p, total);
    ci->libvirt_len = total;
    if (!codec) {
        mc_src_init_read(top, NULL, pass_read, lower);
        snprintf(label, cap, "%s: stream in a libvirt image", cx->fname);
        return true;
    }
    mc_decomp *d;
    if (!mc_decomp_open_ops(codec, lower, top, &d, errp)) {
        return false;
    }
    *state = d;
    snprintf(label, cap, "%s: %s data in a libvirt image", cx->fname,
             codec->name);
    return true;
}

static void libvirt_free(void *state)
{
    mc_decomp_free(state);
}

const mc_filter_ops mc_filter_libvirt = {
    .name = "libvirt", .first = true, .layer = true,
    .bid = libvirt_bid, .open = libvirt_open, .free = libvirt_free,
};
