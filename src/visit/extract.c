/*
 * The extract visitor: RAM blocks of a stream as raw memory images.
 *
 * RAM records go to an mc_ram_image (visit/ram_image.h) writing named
 * files in the output directory; blocks.json lists them.
 *
 * All other calls go to an optional inner visitor (the JSON dump of the
 * device state); the vmdesc is also written as vmdesc.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/extract.h"
#include "visit/ram_image.h"

typedef struct ex_visitor {
    mc_visitor base;
    mc_extract_opts o;
    mc_visitor *inner;
    mc_ram_image *img;
} ex_visitor;

static ex_visitor *ex_of(mc_visitor *v)
{
    return (ex_visitor *)v;
}

/* Offset of the record's payload in the input when it lies in the
 * source's buffer, else the source's position. */
uint64_t mc_extract_record_offset(const mc_src *s, const mc_ram_record *rec)
{
    if (!s) {
        return MC_NO_OFFSET;
    }
    if (rec->data && s->buf && rec->data >= s->buf &&
        rec->data < s->buf + s->len) {
        return s->base + (uint64_t)(rec->data - s->buf);
    }
    return mc_src_offset(s);
}

static bool ex_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    if (x->inner && !mc_visit_ram_record(x->inner, rec, errp)) {
        return false;
    }
    return mc_ram_image_apply(x->img, rec,
                              mc_extract_record_offset(x->o.src, rec), NULL,
                              errp);
}

/* ---- everything else goes to the inner visitor ---- */

#define INNER(call) (!x->inner || (call))

static bool ex_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    if (info->page_size == 0 || info->page_size > (1u << 24)) {
        mc_error_data(errp, MC_NO_OFFSET, NULL, "unusable page size %u",
                      info->page_size);
        return false;
    }
    mc_ram_image_opts io = {
        .dirfd = x->o.dirfd, .only = x->o.block, .only_fd = x->o.block_fd,
        .src_fd = -1,
    };
    mc_ram_image_free(x->img);
    x->img = mc_ram_image_new(info->page_size, &io);
    return INNER(mc_visit_start_stream(x->inner, info, errp));
}

static bool ex_end_stream(mc_visitor *v, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_end_stream(x->inner, errp));
}

static bool ex_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_start_section(x->inner, info, errp));
}

static bool ex_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_end_section(x->inner, footer, errp));
}

static bool ex_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_int(x->inner, f, wt, raw, errp));
}

static bool ex_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_bytes(x->inner, f, data, len, errp));
}

static bool ex_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_packed(x->inner, f, wt, count, data, errp));
}

static bool ex_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_start_struct(x->inner, f, errp));
}

static bool ex_end_struct(mc_visitor *v, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_end_struct(x->inner, errp));
}

static bool ex_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_start_array(x->inner, f, count, errp));
}

static bool ex_end_array(mc_visitor *v, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_end_array(x->inner, errp));
}

static bool ex_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_start_subsection(x->inner, name, version_id, errp));
}

static bool ex_end_subsection(mc_visitor *v, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_end_subsection(x->inner, errp));
}

static bool ex_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_command(x->inner, cmd, data, len, errp));
}

static bool ex_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_start_packaged(x->inner, len, errp));
}

static bool ex_end_packaged(mc_visitor *v, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_end_packaged(x->inner, errp));
}

static bool ex_eof(mc_visitor *v, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    return INNER(mc_visit_eof(x->inner, errp));
}

static bool ex_write_file(int dirfd, const char *name, const void *p,
                          size_t n, mc_error **errp)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0666);
    if (fd < 0) {
        mc_error_set_errno(errp, errno, "cannot create %s", name);
        return false;
    }
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            mc_error_set_errno(errp, w < 0 ? errno : ENOSPC,
                               "write error on %s", name);
            close(fd);
            return false;
        }
        b += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0) {
        mc_error_set_errno(errp, errno, "write error on %s", name);
        return false;
    }
    return true;
}

static bool ex_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    if (x->o.dirfd >= 0 &&
        !ex_write_file(x->o.dirfd, "vmdesc.json", json, len, errp)) {
        return false;
    }
    return INNER(mc_visit_vmdesc(x->inner, json, len, errp));
}

/* blocks.json: which file holds which block. */
static bool ex_write_index(ex_visitor *x, mc_error **errp)
{
    json_t *arr = json_array();
    size_t n = x->img ? mc_ram_image_count(x->img) : 0;
    for (size_t i = 0; i < n; i++) {
        mc_ram_image_block b;
        mc_ram_image_block_info(x->img, i, &b);
        if (!b.tracked || !b.file) {
            continue;
        }
        json_array_append_new(arr, json_pack(
            "{s:s, s:s, s:I, s:I}", "idstr", b.idstr, "file", b.file,
            "used_length", (json_int_t)b.used_length,
            "pages_sent", (json_int_t)b.pages_sent));
    }
    char *text = json_dumps(arr, JSON_INDENT(2));
    json_decref(arr);
    if (!text) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "out of memory");
        return false;
    }
    size_t len = strlen(text);
    text[len] = '\n';
    bool ok = ex_write_file(x->o.dirfd, "blocks.json", text, len + 1, errp);
    free(text);
    return ok;
}

static bool ex_complete(mc_visitor *v, mc_error **errp)
{
    ex_visitor *x = ex_of(v);
    size_t n = x->img ? mc_ram_image_count(x->img) : 0;
    if (x->o.block) {
        bool found = false;
        size_t cap = 64, len = 0;
        for (size_t i = 0; i < n; i++) {
            mc_ram_image_block b;
            mc_ram_image_block_info(x->img, i, &b);
            found |= b.tracked;
            cap += strlen(b.idstr) + 2;
        }
        if (!found) {
            char *names = mc_malloc(cap);
            names[0] = 0;
            for (size_t i = 0; i < n; i++) {
                mc_ram_image_block b;
                mc_ram_image_block_info(x->img, i, &b);
                len += (size_t)snprintf(names + len, cap - len, "%s%s",
                                        i ? ", " : "", b.idstr);
            }
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "the stream has no RAM block %s (it has: %s)",
                          x->o.block, n ? names : "none");
            free(names);
            return false;
        }
    }
    if (x->o.dirfd >= 0 && !ex_write_index(x, errp)) {
        return false;
    }
    if (x->img && !mc_ram_image_close(x->img, errp)) {
        return false;
    }
    return !x->inner || mc_visitor_complete(x->inner, errp);
}

static void ex_free(mc_visitor *v)
{
    ex_visitor *x = ex_of(v);
    mc_ram_image_free(x->img);
    mc_visitor_free(x->inner);
    free(x);
}

static const mc_visitor_ops ex_ops = {
    .start_stream = ex_start_stream,
    .end_stream = ex_end_stream,
    .start_section = ex_start_section,
    .end_section = ex_end_section,
    .visit_int = ex_visit_int,
    .visit_bytes = ex_visit_bytes,
    .visit_packed = ex_visit_packed,
    .start_struct = ex_start_struct,
    .end_struct = ex_end_struct,
    .start_array = ex_start_array,
    .end_array = ex_end_array,
    .start_subsection = ex_start_subsection,
    .end_subsection = ex_end_subsection,
    .ram_record = ex_ram_record,
    .command = ex_command,
    .start_packaged = ex_start_packaged,
    .end_packaged = ex_end_packaged,
    .eof = ex_eof,
    .vmdesc = ex_vmdesc,
    .complete = ex_complete,
    .free = ex_free,
};

mc_visitor *mc_extract_visitor_new(const mc_extract_opts *opts,
                                   mc_visitor *inner)
{
    ex_visitor *x = mc_calloc(1, sizeof(*x));
    x->base.ops = &ex_ops;
    x->o = *opts;
    x->inner = inner;
    return &x->base;
}
