/*
 * RAM page records to page content: ZERO fill, XBZRLE deltas, COMPRESS_PAGE
 * zlib streams (see core/page.h).  XBZRLE follows QEMU's
 * migration/xbzrle.c (xbzrle_decode_buffer, uleb128_decode_small).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/page.h"
#include "core/util.h"

void mc_page_fill(uint8_t *page, size_t page_size, uint8_t fill)
{
    memset(page, fill, page_size);
}

bool mc_page_is_uniform(const uint8_t *page, size_t page_size, uint8_t *fill)
{
    if (page_size == 0) {
        return false;
    }
    uint8_t b = page[0];
    for (size_t i = 1; i < page_size; i++) {
        if (page[i] != b) {
            return false;
        }
    }
    *fill = b;
    return true;
}

/* uleb128_decode_small: one or two bytes, a value below 2^14. */
static int uleb_small(const uint8_t *in, size_t avail, uint32_t *n)
{
    if (avail < 1) {
        return -1;
    }
    if (!(in[0] & 0x80)) {
        *n = in[0];
        return 1;
    }
    if (avail < 2 || (in[1] & 0x80)) {
        return -1;
    }
    *n = (uint32_t)(in[0] & 0x7f) | ((uint32_t)in[1] << 7);
    return 2;
}

bool mc_page_xbzrle_apply(uint8_t *page, size_t page_size, uint8_t encoding,
                          const uint8_t *delta, size_t len, uint64_t offset,
                          const char *path, mc_error **errp)
{
    if (encoding != MC_ENCODING_FLAG_XBZRLE) {
        mc_error_data(errp, offset, path,
                      "XBZRLE encoding byte is 0x%02x, not 0x%02x", encoding,
                      MC_ENCODING_FLAG_XBZRLE);
        return false;
    }
    size_t i = 0, d = 0;
    while (i < len) {
        uint32_t count;
        /* QEMU requires two bytes before each run length. */
        if (len - i < 2) {
            goto truncated;
        }
        int n = uleb_small(delta + i, len - i, &count);
        if (n < 0) {
            goto bad_length;
        }
        if (i != 0 && count == 0) {
            mc_error_data(errp, offset, path,
                          "XBZRLE delta byte %zu: empty zero run", i);
            return false;
        }
        i += (size_t)n;
        if (count > page_size - d) {
            mc_error_data(errp, offset, path,
                          "XBZRLE delta byte %zu: zero run of %u bytes passes "
                          "the end of the %zu-byte page",
                          i - (size_t)n, count, page_size);
            return false;
        }
        d += count;
        if (len - i < 2) {
            goto truncated;
        }
        n = uleb_small(delta + i, len - i, &count);
        if (n < 0) {
            goto bad_length;
        }
        if (count == 0) {
            mc_error_data(errp, offset, path,
                          "XBZRLE delta byte %zu: empty literal run", i);
            return false;
        }
        i += (size_t)n;
        if (count > page_size - d) {
            mc_error_data(errp, offset, path,
                          "XBZRLE delta byte %zu: literal run of %u bytes "
                          "passes the end of the %zu-byte page",
                          i - (size_t)n, count, page_size);
            return false;
        }
        if (count > len - i) {
            mc_error_data(errp, offset, path,
                          "XBZRLE delta byte %zu: literal run of %u bytes "
                          "passes the end of the %zu-byte delta",
                          i - (size_t)n, count, len);
            return false;
        }
        memcpy(page + d, delta + i, count);
        d += count;
        i += count;
    }
    return true;

truncated:
    mc_error_data(errp, offset, path,
                  "XBZRLE delta byte %zu: truncated run length", i);
    return false;
bad_length:
    mc_error_data(errp, offset, path,
                  "XBZRLE delta byte %zu: run length longer than two bytes",
                  i);
    return false;
}

static size_t uleb_put(uint8_t *out, uint32_t n)
{
    if (n < 0x80) {
        out[0] = (uint8_t)n;
        return 1;
    }
    out[0] = (uint8_t)(0x80 | (n & 0x7f));
    out[1] = (uint8_t)(n >> 7);
    return 2;
}

long mc_page_xbzrle_encode(const uint8_t *old, const uint8_t *new_page,
                           size_t page_size, uint8_t *out, size_t cap)
{
    /* Run lengths are below 2^14 (two-byte ULEB128).  A zero run that
     * reaches the cap ends with one unchanged byte sent as a literal; a
     * literal run cannot be split (the next zero run would be empty), so a
     * page with more than 2^14 - 1 changed bytes in a row is not
     * encodable: -1, as when the delta does not fit. */
    const uint32_t max_run = (1u << 14) - 1;
    size_t i = 0, o = 0;
    while (i < page_size) {
        uint32_t zrun = 0;
        while (i < page_size && old[i] == new_page[i] && zrun < max_run) {
            zrun++;
            i++;
        }
        if (i == page_size ||
            memcmp(old + i, new_page + i, page_size - i) == 0) {
            break;
        }
        size_t start = i;
        uint32_t nzrun = 0;
        if (old[i] == new_page[i]) {
            nzrun = 1; /* the zero run hit the cap */
            i++;
        }
        while (i < page_size && old[i] != new_page[i]) {
            if (nzrun == max_run) {
                return -1;
            }
            nzrun++;
            i++;
        }
        if (o + 4 + nzrun > cap) {
            return -1;
        }
        o += uleb_put(out + o, zrun);
        o += uleb_put(out + o, nzrun);
        memcpy(out + o, new_page + start, nzrun);
        o += nzrun;
    }
    return (long)o;
}

struct mc_page_inflater {
    z_stream zs;
    bool ready;
};

mc_page_inflater *mc_page_inflater_new(void)
{
    mc_page_inflater *z = mc_calloc(1, sizeof(*z));
    if (inflateInit(&z->zs) == Z_OK) {
        z->ready = true;
    }
    return z;
}

void mc_page_inflater_free(mc_page_inflater *z)
{
    if (!z) {
        return;
    }
    if (z->ready) {
        inflateEnd(&z->zs);
    }
    free(z);
}

bool mc_page_inflate(mc_page_inflater *z, uint8_t *page, size_t page_size,
                     const uint8_t *data, size_t len, uint64_t offset,
                     const char *path, mc_error **errp)
{
    if (!z->ready || inflateReset(&z->zs) != Z_OK) {
        mc_error_set(errp, MC_ERR_INTERNAL, offset, path,
                     "cannot initialise zlib");
        return false;
    }
    uint8_t extra;
    z->zs.next_in = (Bytef *)data;
    z->zs.avail_in = (uInt)len;
    z->zs.next_out = page;
    z->zs.avail_out = (uInt)page_size;
    int rc = inflate(&z->zs, Z_FINISH);
    if (rc == Z_BUF_ERROR && z->zs.avail_out == 0) {
        /* The page is full: see whether the stream holds more. */
        z->zs.next_out = &extra;
        z->zs.avail_out = 1;
        rc = inflate(&z->zs, Z_FINISH);
        if (z->zs.avail_out == 0) {
            mc_error_data(errp, offset, path,
                          "compressed page inflates to more than a page of "
                          "%zu bytes", page_size);
            return false;
        }
    }
    if (rc == Z_STREAM_END) {
        if (z->zs.total_out != page_size) {
            mc_error_data(errp, offset, path,
                          "compressed page inflates to %lu bytes, not a page "
                          "of %zu", (unsigned long)z->zs.total_out, page_size);
            return false;
        }
        if (z->zs.avail_in != 0) {
            mc_error_data(errp, offset, path,
                          "compressed page has %u bytes after the end of its "
                          "zlib stream", z->zs.avail_in);
            return false;
        }
        return true;
    }
    if (rc == Z_BUF_ERROR || rc == Z_OK) {
        mc_error_data(errp, offset, path,
                      "compressed page is truncated (inflates to %lu of %zu "
                      "bytes)", (unsigned long)z->zs.total_out, page_size);
        return false;
    }
    mc_error_data(errp, offset, path, "compressed page is not valid zlib data "
                  "(%s)", z->zs.msg ? z->zs.msg : zError(rc));
    return false;
}

/* ---- set of sent pages: a hash table of bitmap chunks ---- */

#define PS_CHUNK_PAGES 32768u /* bits per chunk: 4 KiB of bitmap */

typedef struct ps_chunk {
    uint64_t key;   /* chunk index + 1; 0: empty slot */
    uint64_t *bits;
} ps_chunk;

struct mc_page_set {
    ps_chunk *slots;
    size_t cap, used; /* cap is a power of two */
    uint64_t count;
};

mc_page_set *mc_page_set_new(void)
{
    mc_page_set *s = mc_calloc(1, sizeof(*s));
    s->cap = 16;
    s->slots = mc_calloc(s->cap, sizeof(*s->slots));
    return s;
}

void mc_page_set_free(mc_page_set *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->cap; i++) {
        free(s->slots[i].bits);
    }
    free(s->slots);
    free(s);
}

static size_t ps_hash(uint64_t key, size_t cap)
{
    key *= 0x9e3779b97f4a7c15ull;
    return (size_t)(key >> 17) & (cap - 1);
}

static ps_chunk *ps_find(const mc_page_set *s, uint64_t key)
{
    for (size_t i = ps_hash(key, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i].key == key || s->slots[i].key == 0) {
            return &s->slots[i];
        }
    }
}

static void ps_grow(mc_page_set *s)
{
    ps_chunk *old = s->slots;
    size_t ocap = s->cap;
    s->cap *= 2;
    s->slots = mc_calloc(s->cap, sizeof(*s->slots));
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].key) {
            *ps_find(s, old[i].key) = old[i];
        }
    }
    free(old);
}

void mc_page_set_add(mc_page_set *s, uint64_t index)
{
    uint64_t key = index / PS_CHUNK_PAGES + 1;
    ps_chunk *c = ps_find(s, key);
    if (c->key == 0) {
        if ((s->used + 1) * 2 > s->cap) {
            ps_grow(s);
            c = ps_find(s, key);
        }
        c->key = key;
        c->bits = mc_calloc(PS_CHUNK_PAGES / 64, sizeof(uint64_t));
        s->used++;
    }
    uint64_t bit = index % PS_CHUNK_PAGES;
    uint64_t m = 1ull << (bit % 64);
    if (!(c->bits[bit / 64] & m)) {
        c->bits[bit / 64] |= m;
        s->count++;
    }
}

bool mc_page_set_has(const mc_page_set *s, uint64_t index)
{
    const ps_chunk *c = ps_find(s, index / PS_CHUNK_PAGES + 1);
    if (c->key == 0) {
        return false;
    }
    uint64_t bit = index % PS_CHUNK_PAGES;
    return (c->bits[bit / 64] >> (bit % 64)) & 1;
}

uint64_t mc_page_set_count(const mc_page_set *s)
{
    return s->count;
}
