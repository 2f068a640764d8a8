/*
 * The JSON emitter (visit/json_emit.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "visit/json_emit.h"

/* Level flags. */
#define JL_ARRAY 1u
#define JL_MEMBERS 2u

void mc_jemit_release(mc_json_emitter *e)
{
    free(e->lev);
    mc_error_free(e->err);
}

void mc_jemit_write(mc_json_emitter *e, const void *p, size_t n)
{
    if (e->err || e->failed || n == 0) {
        return;
    }
    mc_sink_write(e->out, p, n, &e->err);
}

void mc_jemit_puts(mc_json_emitter *e, const char *s)
{
    mc_jemit_write(e, s, strlen(s));
}


static void indent(mc_json_emitter *e)
{
    static const char spaces[] = "                                ";
    size_t n = e->nlev * 2;
    mc_jemit_write(e, "\n", 1);
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        mc_jemit_write(e, spaces, k);
        n -= k;
    }
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xbf;
    size_t len;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) {
            lo = 0xa0; /* no overlong forms */
        } else if (c == 0xed) {
            hi = 0x9f; /* no surrogates */
        }
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) {
            lo = 0x90;
        } else if (c == 0xf4) {
            hi = 0x8f; /* nothing above U+10FFFF */
        }
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return len;
}

static const char hexdig[] = "0123456789abcdef";

void mc_jemit_string(mc_json_emitter *e, const uint8_t *s, size_t n)
{
    char buf[256];
    size_t k = 0;
    buf[k++] = '"';
    for (size_t i = 0; i < n;) {
        if (k > sizeof(buf) - 8) {
            mc_jemit_write(e, buf, k);
            k = 0;
        }
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : utf8_len(s + i, n - i);
        if (len > 1) {
            memcpy(buf + k, s + i, len);
            k += len;
            i += len;
            continue;
        }
        i++;
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default: break;
        }
        if (esc) {
            buf[k++] = esc[0];
            buf[k++] = esc[1];
        } else if (c < 0x20 || c >= 0x7f) {
            /* control characters, DEL, and bytes that are not UTF-8 */
            memcpy(buf + k, "\\u00", 4);
            buf[k + 4] = hexdig[c >> 4];
            buf[k + 5] = hexdig[c & 15];
            k += 6;
        } else {
            buf[k++] = (char)c;
        }
    }
    buf[k++] = '"';
    mc_jemit_write(e, buf, k);
}

void mc_jemit_cstring(mc_json_emitter *e, const char *s)
{
    mc_jemit_string(e, (const uint8_t *)s, strlen(s));
}

/* Start a member (key non-NULL, in an object) or element (in an array). */
void mc_jemit_member(mc_json_emitter *e, const char *key)
{
    if (e->nlev > 0) {
        uint8_t *l = &e->lev[e->nlev - 1];
        if (*l & JL_MEMBERS) {
            mc_jemit_write(e, ",", 1);
        }
        *l |= JL_MEMBERS;
        indent(e);
    }
    if (key) {
        mc_jemit_cstring(e, key);
        mc_jemit_write(e, ": ", 2);
    }
}

void mc_jemit_open(mc_json_emitter *e, const char *key, bool array)
{
    mc_jemit_member(e, key);
    mc_jemit_write(e, array ? "[" : "{", 1);
    if (e->nlev == e->lev_cap) {
        e->lev_cap = e->lev_cap ? e->lev_cap * 2 : 32;
        e->lev = mc_realloc(e->lev, e->lev_cap);
    }
    e->lev[e->nlev++] = array ? JL_ARRAY : 0;
}

void mc_jemit_close(mc_json_emitter *e)
{
    uint8_t l = e->lev[--e->nlev];
    if (l & JL_MEMBERS) {
        indent(e);
    }
    mc_jemit_write(e, (l & JL_ARRAY) ? "]" : "}", 1);
}

void mc_jemit_kstr(mc_json_emitter *e, const char *key, const char *s)
{
    mc_jemit_member(e, key);
    mc_jemit_cstring(e, s);
}

void mc_jemit_kstrn(mc_json_emitter *e, const char *key, const uint8_t *s,
                    size_t n)
{
    mc_jemit_member(e, key);
    mc_jemit_string(e, s, n);
}

void mc_jemit_ku64(mc_json_emitter *e, const char *key, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
    mc_jemit_member(e, key);
    mc_jemit_write(e, buf, (size_t)n);
}

void mc_jemit_kbool(mc_json_emitter *e, const char *key, bool v)
{
    mc_jemit_member(e, key);
    mc_jemit_puts(e, v ? "true" : "false");
}

void mc_jemit_khex(mc_json_emitter *e, const char *key, const uint8_t *p,
                   size_t n)
{
    char buf[1024];
    size_t k = 0;
    mc_jemit_member(e, key);
    buf[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (k + 2 > sizeof(buf)) {
            mc_jemit_write(e, buf, k);
            k = 0;
        }
        buf[k++] = hexdig[p[i] >> 4];
        buf[k++] = hexdig[p[i] & 15];
    }
    if (k == sizeof(buf)) {
        mc_jemit_write(e, buf, k);
        k = 0;
    }
    buf[k++] = '"';
    mc_jemit_write(e, buf, k);
}

/* A scalar of a wire type: bools as true/false, the rest as integers. */
int mc_jemit_format_scalar(char *buf, size_t size, mc_wire_type wt,
                           uint64_t raw)
{
    if (wt == MC_WT_BOOL && raw <= 1) {
        return snprintf(buf, size, "%s", raw ? "true" : "false");
    }
    if (mc_wire_type_signed(wt)) {
        return snprintf(buf, size, "%" PRId64, mc_wire_type_sext(wt, raw));
    }
    return snprintf(buf, size, "%" PRIu64, raw);
}

void mc_jemit_kscalar(mc_json_emitter *e, const char *key, mc_wire_type wt,
                      uint64_t raw)
{
    char buf[24];
    int n = mc_jemit_format_scalar(buf, sizeof(buf), wt, raw);
    mc_jemit_member(e, key);
    mc_jemit_write(e, buf, (size_t)n);
}
