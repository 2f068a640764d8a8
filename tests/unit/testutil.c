#include "testutil.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "core/util.h"
#include "format/readers.h"
#include "visit/visitors.h"

uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_msg("cannot open %s", path);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = mc_malloc((size_t)n + 1);
    if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
        fail_msg("cannot read %s", path);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

const char *tu_fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s.mig", MC_FIXTURES, name);
    return path;
}

bool tu_fixture_exists(const char *name)
{
    struct stat st;
    return stat(tu_fixture(name), &st) == 0;
}

void tu_put(tu_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = mc_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void tu_u8(tu_buf *b, uint8_t v)
{
    tu_put(b, &v, 1);
}

void tu_be16(tu_buf *b, uint16_t v)
{
    uint8_t x[2];
    mc_put_be16(x, v);
    tu_put(b, x, 2);
}

void tu_be32(tu_buf *b, uint32_t v)
{
    uint8_t x[4];
    mc_put_be32(x, v);
    tu_put(b, x, 4);
}

void tu_be64(tu_buf *b, uint64_t v)
{
    uint8_t x[8];
    mc_put_be64(x, v);
    tu_put(b, x, 8);
}

void tu_str(tu_buf *b, const char *s)
{
    tu_u8(b, (uint8_t)strlen(s));
    tu_put(b, s, strlen(s));
}

void tu_free(tu_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

bool tu_legacy_reader(mc_src *src, mc_visitor *v, mc_error **errp)
{
    mc_read_opts o = {0};
    return mc_legacy_read(src, v, &o, errp);
}

bool tu_ber_reader(mc_src *src, mc_visitor *v, mc_error **errp)
{
    mc_read_opts o = {.validate = true};
    return mc_ber_read(src, v, &o, errp);
}

bool tu_run(tu_reader_fn reader, const uint8_t *in, size_t len, mc_visitor *v,
            mc_error **errp)
{
    mc_src src;
    mc_src_init_mem(&src, in, len);
    bool ok = reader(&src, v, errp) && mc_visitor_complete(v, errp);
    mc_src_cleanup(&src);
    return ok;
}

static uint8_t *convert(tu_reader_fn reader, mc_visitor *(*mk)(mc_sink *, bool),
                        const uint8_t *in, size_t len, bool names,
                        size_t *out_len, mc_error **errp)
{
    mc_sink sink;
    mc_sink_init_mem(&sink);
    mc_visitor *v = mk(&sink, names);
    bool ok = tu_run(reader, in, len, v, errp);
    mc_visitor_free(v);
    if (!ok) {
        mc_sink_cleanup(&sink);
        return NULL;
    }
    *out_len = sink.len;
    return sink.buf;
}

static mc_visitor *mk_ber(mc_sink *k, bool names)
{
    mc_ber_writer_opts o = {.names = names};
    return mc_ber_writer_new(k, &o);
}

static mc_visitor *mk_legacy(mc_sink *k, bool names)
{
    return mc_legacy_writer_new(k);
}

uint8_t *tu_legacy_to_ber(const uint8_t *in, size_t len, bool names,
                          size_t *out_len, mc_error **errp)
{
    return convert(tu_legacy_reader, mk_ber, in, len, names, out_len, errp);
}

uint8_t *tu_ber_to_legacy(const uint8_t *in, size_t len, size_t *out_len,
                          mc_error **errp)
{
    return convert(tu_ber_reader, mk_legacy, in, len, true, out_len, errp);
}
