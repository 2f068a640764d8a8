#include "container/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "format/registry.h"

mc_codec mc_codec_detect(const uint8_t *p, size_t n)
{
    const mc_codec_ops *c = mc_codec_bid(p, n);
    return c ? c->id : MC_CODEC_NONE;
}

const char *mc_codec_name(mc_codec c)
{
    const mc_codec_ops *ops = mc_codec_get(c);
    return ops ? ops->name : "none";
}

int mc_codec_default_level(mc_codec c)
{
    const mc_codec_ops *ops = mc_codec_get(c);
    return ops ? ops->level : 3;
}

/* ---- decompressing source ---- */

struct mc_decomp {
    const mc_codec_ops *ops;
    void *e;         /* the engine (NULL: the codec's own source, state) */
    void *state;
    mc_src *lower;
    bool ended;      /* the last member/frame ended and nothing follows */
    bool in_member;  /* some bytes of the current member were consumed */
};

static bool step(const mc_codec_ops *ops, void *e, const uint8_t *in,
                 size_t inlen, size_t *used, uint8_t *out, size_t outcap,
                 size_t *made, bool finish, bool *end, const char **msg)
{
    *end = false;
    *msg = NULL;
    return ops->engine_step(e, in, inlen, used, out, outcap, made, finish,
                            end, msg);
}

/* A new engine of ops, or NULL if its library refuses. */
static void *engine_new(const mc_codec_ops *ops, bool compress, int level)
{
    void *e = mc_calloc(1, ops->engine_size);
    if (!ops->engine_init(e, compress, level)) {
        free(e);
        return NULL;
    }
    return e;
}

static void engine_free(const mc_codec_ops *ops, void *e)
{
    if (e) {
        ops->engine_end(e);
        free(e);
    }
}

static long decomp_read_impl(void *opaque, uint8_t *buf, size_t n,
                        mc_error **errp)
{
    mc_decomp *d = opaque;
    const char *name = d->ops->name;
    while (!d->ended) {
        bool at_end;
        if (!mc_src_at_end(d->lower, &at_end, errp)) {
            return -1;
        }
        if (at_end) {
            if (d->in_member) {
                mc_error_data(errp, MC_NO_OFFSET, NULL,
                              "%s data cut short at file offset %llu (the "
                              "compressed stream has no end)", name,
                              (unsigned long long)mc_src_offset(d->lower));
                return -1;
            }
            d->ended = true;
            break;
        }
        if (!d->in_member) {
            /* At a member boundary: another member of the same format,
             * else bytes that do not belong here. */
            const uint8_t *p;
            size_t have = mc_src_buffered(d->lower);
            mc_error *err = NULL;
            if (have < 6 && mc_src_peek(d->lower, 6, &p, &err)) {
                have = 6;
            }
            mc_error_free(err);
            have = mc_src_buffered(d->lower);
            (void)mc_src_peek(d->lower, have, &p, NULL);
            if (!d->ops->detect(p, have)) {
                mc_error_data(errp, MC_NO_OFFSET, NULL,
                              "trailing bytes after the %s data at file "
                              "offset %llu", name,
                              (unsigned long long)mc_src_offset(d->lower));
                return -1;
            }
            engine_free(d->ops, d->e);
            d->e = engine_new(d->ops, false, 0);
            if (!d->e) {
                mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                             "cannot start the %s decompressor", name);
                return -1;
            }
            d->in_member = true;
        }
        const uint8_t *p;
        size_t have = mc_src_buffered(d->lower);
        if (!mc_src_peek(d->lower, have, &p, errp)) {
            return -1;
        }
        size_t used = 0, made = 0;
        bool end;
        const char *msg;
        uint64_t at = mc_src_offset(d->lower);
        if (!step(d->ops, d->e, p, have, &used, buf, n, &made, false, &end,
                  &msg)) {
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "%s: %s (compressed data at file offset %llu)",
                          name, msg, (unsigned long long)at);
            return -1;
        }
        if (!mc_src_skip(d->lower, used, errp)) {
            return -1;
        }
        if (end) {
            d->in_member = false;
        }
        if (made > 0) {
            return (long)made;
        }
        if (used == 0 && !end) {
            /* Needs more input than is buffered: make the lower source
             * read some (or find its end). */
            if (!mc_src_need(d->lower, have + 1, NULL)) {
                if (!mc_src_at_end(d->lower, &at_end, errp)) {
                    return -1;
                }
                size_t left = mc_src_buffered(d->lower);
                if (left == have) {
                    mc_error_data(errp, MC_NO_OFFSET, NULL,
                                  "%s data cut short at file offset %llu "
                                  "(the compressed stream has no end)", name,
                                  (unsigned long long)(mc_src_offset(d->lower)
                                                       + left));
                    return -1;
                }
            }
        }
    }
    return 0;
}

static bool decomp_read(mc_src *s, uint8_t *buf, size_t n, size_t *got,
                        mc_error **errp)
{
    long r = decomp_read_impl(s->read_opaque, buf, n, errp);
    if (r < 0) {
        return false;
    }
    *got = (size_t)r;
    return true;
}

bool mc_decomp_open_ops(const mc_codec_ops *ops, mc_src *lower, mc_src *out,
                        mc_decomp **dp, mc_error **errp)
{
    mc_decomp *d = mc_calloc(1, sizeof(*d));
    d->ops = ops;
    if (!ops->engine_size) {
        if (!ops->src_open(lower, out, &d->state, errp)) {
            free(d);
            return false;
        }
        *dp = d;
        return true;
    }
    d->e = engine_new(ops, false, 0);
    if (!d->e) {
        free(d);
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "cannot start the %s decompressor", ops->name);
        return false;
    }
    d->lower = lower;
    d->in_member = true;
    mc_src_init_read(out, NULL, decomp_read, d);
    *dp = d;
    return true;
}

bool mc_decomp_open(mc_codec c, mc_src *lower, mc_src *out, mc_decomp **dp,
                    mc_error **errp)
{
    const mc_codec_ops *ops = mc_codec_get(c);
    if (!ops) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "cannot start the %s decompressor", mc_codec_name(c));
        return false;
    }
    return mc_decomp_open_ops(ops, lower, out, dp, errp);
}

void mc_decomp_free(mc_decomp *d)
{
    if (d) {
        engine_free(d->ops, d->e);
        if (d->state) {
            d->ops->src_free(d->state);
        }
        free(d);
    }
}

/* ---- compressing sink ---- */

struct mc_comp {
    const mc_codec_ops *ops;
    void *e;         /* the engine (NULL: the codec's own sink, state) */
    void *state;
    mc_sink *lower;
    uint8_t out[1 << 16];
};

static bool comp_run(mc_comp *cp, const uint8_t *p, size_t n, bool finish,
                     mc_error **errp)
{
    for (;;) {
        size_t used = 0, made = 0;
        bool end;
        const char *msg;
        if (!step(cp->ops, cp->e, p, n, &used, cp->out, sizeof(cp->out),
                  &made, finish, &end, &msg)) {
            mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                         "%s compression failed: %s", cp->ops->name, msg);
            return false;
        }
        p += used;
        n -= used;
        if (made && !mc_sink_write(cp->lower, cp->out, made, errp)) {
            return false;
        }
        if (finish ? end : (n == 0 && made < sizeof(cp->out))) {
            return true;
        }
    }
}

static bool comp_write(mc_sink *k, const uint8_t *p, size_t n,
                       mc_error **errp)
{
    return comp_run(k->opaque, p, n, false, errp);
}

mc_comp *mc_comp_open(mc_codec c, int level, mc_sink *lower, mc_sink *out)
{
    const mc_codec_ops *ops = mc_codec_get(c);
    if (!ops) {
        return NULL;
    }
    mc_comp *cp = mc_calloc(1, sizeof(*cp));
    cp->ops = ops;
    if (!ops->engine_size) {
        cp->state = ops->sink_open(lower, out, level);
        if (!cp->state) {
            free(cp);
            return NULL;
        }
        return cp;
    }
    cp->e = engine_new(ops, true, level);
    if (!cp->e) {
        free(cp);
        return NULL;
    }
    cp->lower = lower;
    mc_sink_init_fn(out, comp_write, cp);
    return cp;
}

bool mc_comp_finish(mc_comp *cp, mc_error **errp)
{
    if (cp->state) {
        return cp->ops->sink_finish(cp->state, errp);
    }
    return comp_run(cp, NULL, 0, true, errp);
}

void mc_comp_free(mc_comp *cp)
{
    if (cp) {
        engine_free(cp->ops, cp->e);
        if (cp->state) {
            cp->ops->sink_free(cp->state);
        }
        free(cp);
    }
}

/* ---- a compression as a row of format/registry.c ---- */

int mc_codec_filter_bid(const mc_filter_ops *self, const uint8_t *p,
                        size_t n)
{
    return self->codec->detect(p, n) ? 100 : 0;
}

bool mc_codec_filter_open(const mc_filter_ops *self, mc_filter_ctx *cx,
                          mc_src *lower, mc_src *top, void **state,
                          char *label, size_t cap, mc_error **errp)
{
    const mc_codec_ops *ops = self->codec;
    if (!*cx->has_container) {
        /* A plain compressed file (inside a container the container says
         * what is there). */
        *cx->has_container = true;
        cx->container->kind = MC_CONTAINER_COMPRESSED;
        cx->container->codec = ops->id;
        cx->container->level = ops->file_level;
    }
    mc_decomp *d;
    if (!mc_decomp_open_ops(ops, lower, top, &d, errp)) {
        return false;
    }
    *state = d;
    snprintf(label, cap, "%s: %s data", cx->fname, ops->name);
    return true;
}

void mc_codec_filter_free(void *state)
{
    mc_decomp_free(state);
}
