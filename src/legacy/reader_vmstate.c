/*
 * The legacy reader: device (VMState) sections (migration/vmstate.c),
 * interpreted field by field with the vmdesc found at the end of the
 * stream or, without one, with the descriptor tables; a section neither
 * describes is carried as exact opaque bytes bounded by its footer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/path.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "desc/desc.h"
#include "desc/builtin.h"
#include "desc/tables.h"
#include "legacy/field_codec.h"
#include "legacy/reader_impl.h"
#include "legacy/vmdesc_scan.h"
#include "legacy/live.h"
#include "format/readers.h"
#include "visit/visitors.h"

/* ---- VMState device sections ---- */

static bool parse_vmsd(reader *r, mc_visitor *v, const mc_desc_vmsd *m,
                       int depth, mc_error **errp);

/* A run of bytes: through its field codec (legacy/field_codec.h) when its
 * type has one; warnings only on the real run, not the dry run. */
static bool field_codec_visit(reader *r, mc_visitor *v, const mc_field *f,
                              uint64_t off, const uint8_t *p, size_t len,
                              mc_error **errp)
{
    const mc_field_codec *codec = mc_field_codec_find(f->type);
    if (!codec) {
        return mc_visit_bytes(v, f, p, len, errp);
    }
    bool real = v != r->dry && r->opts && r->opts->warn;
    mc_field_env env = {r->path, off, real ? r->opts->warn : NULL,
                        real ? r->opts->warn_opaque : NULL};
    return codec->visit(&env, v, f, p, len, errp);
}

/* With tables, the size of a field whose codec can tell from the bytes
 * (what is buffered of them) where it ends; else the tables' size. */
static uint64_t field_codec_measure(reader *r, const mc_desc_elem *e)
{
    const mc_field_codec *codec = mc_field_codec_find(e->type);
    size_t avail = mc_src_buffered(r->src), len;
    const uint8_t *p;
    mc_error *ignored = NULL;
    if (!codec || !codec->measure || e->size > SIZE_MAX) {
        return e->size;
    }
    if (avail > mc_src_left_in_limit(r->src)) {
        avail = (size_t)mc_src_left_in_limit(r->src);
    }
    if (!mc_src_peek(r->src, avail, &p, &ignored)) {
        mc_error_free(ignored);
        return e->size;
    }
    return codec->measure(p, avail, (size_t)e->size, &len) ? len : e->size;
}

static bool parse_elem(reader *r, mc_visitor *v, const mc_desc_elem *e,
                       const char *name, int depth, mc_error **errp)
{
    uint64_t start = mc_src_offset(r->src);
    const uint8_t *p;
    mc_field f = {name, e->type};
    switch (e->kind) {
    case MC_DESC_SCALAR: {
        unsigned w = mc_wire_type_width(e->wt);
        if (!mc_src_take(r->src, w, &p, errp)) {
            return false;
        }
        uint64_t raw = mc_get_be(p, w);
        mc_wire_type wt = e->wt;
        if (wt == MC_WT_BOOL && raw > 1) {
            wt = MC_WT_U8; /* keep the exact byte; the type still says bool */
        }
        return mc_visit_int(v, &f, wt, raw, errp);
    }
    case MC_DESC_BYTES: {
        uint64_t size = r->table_mode ? field_codec_measure(r, e) : e->size;
        if (size > mc_src_left_in_limit(r->src) ||
            size > MC_SRC_MAX_REQUEST) {
            DATA_ERR(r, start, "field of %llu bytes runs past the section",
                     (unsigned long long)size);
            return false;
        }
        if (!mc_src_take(r->src, (size_t)size, &p, errp)) {
            return false;
        }
        return field_codec_visit(r, v, &f, start, p, (size_t)size, errp);
    }
    case MC_DESC_STRUCT:
        if (!mc_visit_start_struct(v, &f, errp) ||
            !parse_vmsd(r, v, e->vmsd, depth + 1, errp) ||
            !mc_visit_end_struct(v, errp)) {
            return false;
        }
        if (!r->table_mode && mc_src_offset(r->src) - start != e->size) {
            DATA_ERR(r, start,
                     "struct is %llu bytes on the wire but the vmdesc says %llu",
                     (unsigned long long)(mc_src_offset(r->src) - start),
                     (unsigned long long)e->size);
            return false;
        }
        return true;
    }
    return false;
}

static bool parse_field(reader *r, mc_visitor *v, const mc_desc_field *fd,
                        int depth, mc_error **errp)
{
    size_t old = path_push(r, "/%s", fd->name);
    const mc_desc_elem *e0 = &fd->elems[0];
    if (!fd->is_array) {
        if (!parse_elem(r, v, e0, fd->name, depth, errp)) {
            return false;
        }
        path_pop(r, old);
        return true;
    }
    if (fd->packed) {
        unsigned w = mc_wire_type_width(e0->wt);
        uint64_t n = (uint64_t)fd->count * w;
        const uint8_t *p;
        if (n > MC_SRC_MAX_REQUEST) {
            DATA_ERR(r, mc_src_offset(r->src), "array of %llu bytes is too large",
                     (unsigned long long)n);
            return false;
        }
        mc_field f = {fd->name, e0->type};
        mc_wire_type wt = e0->wt;
        if (!mc_src_take(r->src, (size_t)n, &p, errp)) {
            return false;
        }
        if (wt == MC_WT_BOOL) {
            for (uint64_t i = 0; i < n; i++) {
                if (p[i] > 1) {
                    wt = MC_WT_U8; /* not canonical bools: keep bytes exact */
                    break;
                }
            }
        }
        if (!mc_visit_packed(v, &f, wt, fd->count, p, errp)) {
            return false;
        }
        path_pop(r, old);
        return true;
    }
    mc_field f = {fd->name, e0->type};
    if (!mc_visit_start_array(v, &f, fd->count, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < fd->count; i++) {
        const mc_desc_elem *e = &fd->elems[fd->n_elems == 1 ? 0 : i];
        size_t eold = path_push(r, "[%u]", i);
        uint64_t before = mc_src_offset(r->src);
        if (!parse_elem(r, v, e, NULL, depth, errp)) {
            return false;
        }
        /* Elements that take input are bounded by the input; empty ones
         * only by this budget. */
        if (mc_src_offset(r->src) == before &&
            ++r->empty_elems > MAX_EMPTY_ELEMS) {
            DATA_ERR(r, before, "more than %u empty array elements",
                     MAX_EMPTY_ELEMS);
            return false;
        }
        path_pop(r, eold);
    }
    if (!mc_visit_end_array(v, errp)) {
        return false;
    }
    path_pop(r, old);
    return true;
}

static bool table_subsections(reader *r, mc_visitor *v, const mc_desc_vmsd *m,
                              int depth, mc_error **errp);

static bool parse_vmsd(reader *r, mc_visitor *v, const mc_desc_vmsd *m,
                       int depth, mc_error **errp)
{
    if (depth > MC_DESC_MAX_DEPTH) {
        DATA_ERR(r, mc_src_offset(r->src), "nesting too deep");
        return false;
    }
    for (size_t i = 0; i < m->n_fields; i++) {
        if (!parse_field(r, v, &m->fields[i], depth, errp)) {
            return false;
        }
    }
    if (r->table_mode) {
        return table_subsections(r, v, m, depth, errp);
    }
    for (size_t i = 0; i < m->n_subs; i++) {
        const mc_desc_vmsd *sub = &m->subs[i];
        uint64_t off = mc_src_offset(r->src);
        uint8_t marker;
        char name[256];
        uint32_t version;
        if (!mc_src_u8(r->src, &marker, errp)) {
            return false;
        }
        if (marker != MC_VM_SUBSECTION) {
            DATA_ERR(r, off, "expected subsection '%s', found byte 0x%02x",
                     sub->name, marker);
            return false;
        }
        if (!mc_lr_read_counted(r, name, "subsection name", errp) ||
            !mc_src_be32(r->src, &version, errp)) {
            return false;
        }
        if (strcmp(name, sub->name) != 0) {
            DATA_ERR(r, off, "subsection '%s' where the vmdesc says '%s'", name,
                     sub->name);
            return false;
        }
        size_t old = path_push(r, "/%s", name);
        if (!mc_visit_start_subsection(v, name, version, errp) ||
            !parse_vmsd(r, v, sub, depth + 1, errp) ||
            !mc_visit_end_subsection(v, errp)) {
            return false;
        }
        path_pop(r, old);
    }
    /* The loader would take a further subsection of this vmsd as state the
     * description does not know about: refuse to guess. */
    const uint8_t *p;
    if (m->name && mc_src_buffered(r->src) >= 2) {
        mc_error *ignored = NULL;
        if (mc_src_peek(r->src, 2, &p, &ignored) && p[0] == MC_VM_SUBSECTION) {
            size_t nl = strlen(m->name);
            const uint8_t *q;
            if (p[1] >= nl && mc_src_peek(r->src, 2 + (size_t)p[1], &q, &ignored) &&
                memcmp(q + 2, m->name, nl) == 0) {
                DATA_ERR(r, mc_src_offset(r->src),
                         "subsection '%.*s' is not in the vmdesc", p[1], q + 2);
                mc_error_free(ignored);
                return false;
            }
        }
        mc_error_free(ignored);
    }
    return true;
}

/*
 * With tables, subsections are recognised as QEMU's loader does
 * (vmstate_subsection_load): QEMU_VM_SUBSECTION and a name that starts
 * with the parent's name (a plain prefix, as QEMU compares it); their layout comes from the tables by name and
 * the version on the wire.
 */
static bool table_subsections(reader *r, mc_visitor *v, const mc_desc_vmsd *m,
                              int depth, mc_error **errp)
{
    size_t nl = m->name ? strlen(m->name) : 0;
    for (;;) {
        const uint8_t *p;
        bool at_end;
        if (!m->name || !mc_src_at_end(r->src, &at_end, errp)) {
            return m->name == NULL;
        }
        if (at_end || mc_src_buffered(r->src) < 2) {
            return true;
        }
        if (!mc_src_peek(r->src, 2, &p, errp)) {
            return false;
        }
        if (p[0] != MC_VM_SUBSECTION || p[1] < nl ||
            mc_src_buffered(r->src) < 2 + (size_t)p[1] + 4) {
            return true;
        }
        if (!mc_src_peek(r->src, 2 + (size_t)p[1], &p, errp)) {
            return false;
        }
        if (memcmp(p + 2, m->name, nl) != 0) {
            return true;
        }
        uint64_t off = mc_src_offset(r->src);
        char name[256];
        uint32_t version;
        if (!mc_src_skip(r->src, 1, errp) ||
            !mc_lr_read_counted(r, name, "subsection name", errp) ||
            !mc_src_be32(r->src, &version, errp)) {
            return false;
        }
        mc_desc_vmsd *variants;
        size_t n;
        if (!mc_tables_find(r->tables, name, version, &variants, &n, errp)) {
            return false;
        }
        if (n == 0) {
            DATA_ERR(r, off, "subsection '%s' version %u is not in the "
                     "descriptor tables", name, version);
            return false;
        }
        size_t old = path_push(r, "/%s", name);
        bool ok = mc_visit_start_subsection(v, name, version, errp) &&
                  parse_vmsd(r, v, &variants[0], depth + 1, errp) &&
                  mc_visit_end_subsection(v, errp);
        mc_tables_variants_free(variants, n);
        if (!ok) {
            return false;
        }
        path_pop(r, old);
    }
}

/* Take d, the vmdesc whose QEMU_VM_VMDESCRIPTION byte is at offset off. */
static bool adopt_vmdesc(reader *r, mc_vmdesc *d, uint64_t off,
                         mc_error **errp)
{
    r->vmdesc = d;
    r->vmdesc_offset = off;
    if (d->has_page_size && d->page_size != r->page_size) {
        DATA_ERR(r, r->vmdesc_offset,
                 "the vmdesc says page size %llu but RAM was read with %u "
                 "(from %s)", (unsigned long long)d->page_size,
                 r->page_size, mc_page_size_source_name(r->page_size_source));
        return false;
    }
    return true;
}

/*
 * Buffer the rest of the input and find the vmdesc at its end:
 * QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION, be32 length, JSON to the end.
 * With keep_trailer, bytes may follow it: then the first candidate that
 * parses, and the input is buffered only up to it (legacy/vmdesc_scan.h),
 * not to its end.  Sets r->vmdesc (NULL if the stream has none).
 */
static bool load_vmdesc(reader *r, mc_error **errp)
{
    if (r->vmdesc_searched) {
        return true;
    }
    r->vmdesc_searched = true;
    size_t cap = r->opts && r->opts->tail_cap ? r->opts->tail_cap
                                               : MC_DEFAULT_TAIL_CAP;
    bool trail = r->opts && r->opts->keep_trailer;
    mc_vmdesc_scan scan = {.limit = mc_lr_vmdesc_limit(r)};
    if (!(trail ? mc_src_slurp_until(r->src, cap, mc_vmdesc_scan_enough,
                                     &scan, errp)
                : mc_src_slurp(r->src, cap, errp))) {
        mc_vmdesc_free(scan.vmdesc);
        mc_error_free(scan.err);
        return false;
    }
    if (scan.err) {
        /* Not about the bytes (out of memory): said as it is. */
        mc_error_set(errp, scan.err->cls, mc_src_offset(r->src) + scan.at + 5,
                     scan.err->path ? scan.err->path : "vmdesc", "%s",
                     scan.err->msg);
        mc_error_free(scan.err);
        return false;
    }
    if (scan.found) {
        if (scan.end > cap) {
            /* What the limit counts: the rest of the stream, not what
             * follows it (and not less because it was read already). */
            mc_vmdesc_free(scan.vmdesc);
            mc_error_data(errp, mc_src_offset(r->src), r->src->path,
                          "the device state after this point exceeds the "
                          "buffering limit of %zu bytes", cap);
            return false;
        }
        return adopt_vmdesc(r, scan.vmdesc,
                            mc_src_offset(r->src) + scan.at, errp);
    }
    /* No candidate parsed (with keep_trailer the whole input is buffered
     * now): the vmdesc that runs to the end, if any, says what is wrong. */
    const uint8_t *b = mc_src_window(r->src);
    size_t n = mc_src_buffered(r->src);
    for (size_t i = 1; i + 5 < n; i++) {
        if (b[i] != MC_VM_VMDESCRIPTION || b[i - 1] != MC_VM_EOF ||
            b[i + 5] != '{' || mc_be32(b + i + 1) != n - i - 5) {
            continue;
        }
        mc_vmdesc *d = NULL;
        mc_error *err = NULL;
        if (!mc_vmdesc_parse(b + i + 5, mc_be32(b + i + 1),
                             mc_lr_vmdesc_limit(r), &d, &err)) {
            uint64_t off = mc_src_offset(r->src) + i + 5;
            mc_error_set(errp, err->cls, off, err->path ? err->path : "vmdesc",
                         "%s", err->msg);
            mc_error_free(err);
            return false;
        }
        return adopt_vmdesc(r, d, mc_src_offset(r->src) + i, errp);
    }
    return true;
}

/* Find the end of a section whose data cannot be parsed: the first footer
 * naming it that is followed by a plausible next item. */
static bool find_footer(reader *r, uint32_t id, size_t *len)
{
    const uint8_t *b = mc_src_window(r->src);
    size_t n = mc_src_buffered(r->src);
    for (size_t i = 0; i + 6 <= n; i++) {
        if (b[i] == MC_VM_SECTION_FOOTER && mc_be32(b + i + 1) == id &&
            (i + 5 == n || mc_lr_valid_next_type(b[i + 5]))) {
            *len = i;
            return true;
        }
    }
    return false;
}

/* A device section carried as len exact bytes up to its footer. */
static bool carry_opaque(reader *r, mc_visitor *v, mc_section_info *info,
                         size_t len, mc_error **errp)
{
    const uint8_t *p;
    bool footer;
    mc_field f = {"data", "opaque"};
    info->vmsd_name = NULL;
    return mc_visit_start_section(v, info, errp) &&
           mc_src_take(r->src, len, &p, errp) &&
           mc_visit_bytes(v, &f, p, len, errp) &&
           mc_lr_read_footer(r, info->section_id, &footer, errp) &&
           mc_visit_end_section(v, footer, errp);
}

/* The vmsd name of a section: the longest '/'-separated suffix of its
 * idstr ("0000:00:05.0/1/usb-ptr" -> "usb-ptr") that the tables know. */
static const char *tables_vmsd_name(reader *r, const char *idstr)
{
    for (const char *p = idstr; p; p = strchr(p, '/')) {
        if (*p == '/') {
            p++;
        }
        if (mc_tables_knows(r->tables, p)) {
            return p;
        }
    }
    return NULL;
}

/* The table sets to try, once per stream (after the configuration). */
static bool choose_tables(reader *r, mc_error **errp)
{
    if (r->cands_chosen) {
        return true;
    }
    r->n_cands = 0;
    if (r->opts && r->opts->tables) {
        r->cands[r->n_cands++] = r->opts->tables;
    }
    size_t n = 0;
    if ((!r->opts || !r->opts->tables_only) &&
        !mc_builtin_candidates(r->has_machine ? r->machine : NULL,
                               r->opts ? r->opts->qemu_version : NULL,
                               r->cands + r->n_cands, &n, errp)) {
        return false;
    }
    r->n_cands += n;
    r->cands_chosen = true;
    return true;
}

/* Try n layouts on the section at data_off (dry runs): *fit is the first
 * that accounts for its bytes exactly, or n with *last saying why the last
 * did not.  False only when the section cannot be read again. */
static bool try_layouts(reader *r, mc_section_info *info, uint64_t data_off,
                        const mc_desc_vmsd *variants, size_t n, size_t *fit,
                        mc_error **last, mc_error **errp)
{
    uint64_t saved_pin = mc_src_pin(r->src, data_off);
    bool footer;
    /* A failed attempt leaves the path where it failed (its error names
     * that place): each attempt starts again from the section. */
    size_t plen = strlen(r->path);
    *fit = n;
    r->table_mode = true;
    for (size_t k = 0; k < n && *fit == n; k++) {
        mc_error *err = NULL;
        if (parse_vmsd(r, r->dry, &variants[k], 0, &err) &&
            mc_lr_read_footer(r, info->section_id, &footer, &err)) {
            *fit = k;
        } else {
            mc_error_free(*last);
            *last = err;
        }
        path_pop(r, plen);
        if (!mc_src_rewind(r->src, data_off)) {
            mc_src_unpin(r->src, saved_pin);
            r->table_mode = false;
            mc_error_set(errp, MC_ERR_INTERNAL, data_off, r->path,
                         "cannot return to the start of the section");
            return false;
        }
    }
    mc_src_unpin(r->src, saved_pin);
    r->table_mode = false;
    return true;
}

/* A device section without a vmdesc: each table set in turn (the version
 * the machine type suggests first), each of its layouts in turn. */
static bool parse_device_tables(reader *r, mc_visitor *v,
                                mc_section_info *info, mc_error **errp)
{
    uint64_t data_off = mc_src_offset(r->src);
    if (!choose_tables(r, errp)) {
        return false;
    }
    mc_error *last = NULL;
    const char *known = NULL;
    bool tried = false;
    for (size_t i = 0; i < r->n_cands; i++) {
        r->tables = r->cands[i];
        const char *vmsd = tables_vmsd_name(r, info->idstr);
        mc_desc_vmsd *variants = NULL;
        size_t n = 0, fit;
        if (vmsd && !known) {
            known = vmsd;
        }
        if (vmsd && !mc_tables_find(r->tables, vmsd, info->version_id,
                                    &variants, &n, errp)) {
            mc_error_free(last);
            return false;
        }
        if (n == 0) {
            continue;
        }
        tried = true;
        if (!try_layouts(r, info, data_off, variants, n, &fit, &last, errp)) {
            mc_tables_variants_free(variants, n);
            mc_error_free(last);
            return false;
        }
        if (fit < n) {
            mc_error_free(last);
            info->vmsd_name = vmsd;
            bool footer;
            r->table_mode = true;
            bool ok = mc_visit_start_section(v, info, errp) &&
                      parse_vmsd(r, v, &variants[fit], 0, errp) &&
                      mc_lr_read_footer(r, info->section_id, &footer, errp) &&
                      mc_visit_end_section(v, footer, errp);
            r->table_mode = false;
            mc_tables_variants_free(variants, n);
            return ok;
        }
        mc_tables_variants_free(variants, n);
    }
    /* Sections saved by a save_state handler (slirp, todclock, ...) have
     * no layout to describe: with footers they are carried as exact
     * bytes.  Any other device the tables lack is an error that says how
     * to make tables for it. */
    static const char *const old_style[] = {"slirp", "todclock", NULL};
    bool old_style_section = false;
    for (int i = 0; old_style[i]; i++) {
        old_style_section |= strcmp(info->idstr, old_style[i]) == 0;
    }
    size_t len;
    if (!tried && old_style_section && r->footers != FOOTERS_NO &&
        find_footer(r, info->section_id, &len)) {
        return carry_opaque(r, v, info, len, errp);
    }
    if (!tried) {
        DATA_ERR(r, data_off,
                 "no vmdesc found at the end of the stream and the "
                 "descriptor tables do not "
                 "describe device '%s' version %u%s; make tables with "
                 "'migconv tables' from a stream of the same QEMU that has a "
                 "vmdesc and pass them with --tables", info->idstr,
                 info->version_id,
                 known ? " (they know other versions)" : "");
        return false;
    }
    size_t flen;
    if (r->footers != FOOTERS_NO && find_footer(r, info->section_id, &flen)) {
        /* As with a wrong vmdesc: carry the bytes rather than guess. */
        if (r->opts && r->opts->warn) {
            mc_error *w = NULL;
            mc_error_data(&w, last->offset, last->path,
                          "no layout in the descriptor tables fits this "
                          "section (%s); carrying its %zu bytes unparsed",
                          last->msg, flen);
            r->opts->warn(r->opts->warn_opaque, w);
            mc_error_free(w);
        }
        mc_error_free(last);
        return carry_opaque(r, v, info, flen, errp);
    }
    mc_error_prepend(&last, r->package_depth
                                ? "no layout in the descriptor tables fits"
                                : "no vmdesc found at the end of the stream "
                                  "and no layout in the descriptor tables "
                                  "fits");
    mc_error_propagate(errp, last);
    return false;
}

bool mc_lr_parse_device(reader *r, mc_visitor *v, mc_section_info *info,
                        mc_error **errp)
{
    uint64_t data_off = mc_src_offset(r->src);
    /* QEMU sends no vmdesc after a postcopy package: use the tables. */
    if (r->package_depth == 0 && !load_vmdesc(r, errp)) {
        return false;
    }
    if (!r->vmdesc || r->package_depth > 0) {
        return parse_device_tables(r, v, info, errp);
    }
    if (!r->vmdesc) {
        DATA_ERR(r, data_off,
                 "no vmdesc at the end of the stream to describe device '%s' "
                 "(instance %u, version %u): the stream is truncated or was "
                 "written without one", info->idstr, info->instance_id,
                 info->version_id);
        return false;
    }
    mc_desc_device *dev =
        mc_vmdesc_find(r->vmdesc, info->idstr, info->instance_id);
    if (!dev) {
        DATA_ERR(r, data_off, "device '%s' instance %u is not in the vmdesc",
                 info->idstr, info->instance_id);
        return false;
    }
    dev->used = true;
    info->vmsd_name = dev->vmsd.name;

    /* Dry run: the description must account for every byte up to the
     * footer (or the next section).  The pin keeps the section buffered
     * even when the dry run asks for more input than is left: the failed
     * refill would otherwise discard it and the rewind could not return. */
    bool footer;
    mc_error *dry_err = NULL;
    uint64_t saved_pin = mc_src_pin(r->src, data_off);
    size_t plen = strlen(r->path);
    bool ok = parse_vmsd(r, r->dry, &dev->vmsd, 0, &dry_err) &&
              mc_lr_read_footer(r, info->section_id, &footer, &dry_err);
    path_pop(r, plen);
    bool back = mc_src_rewind(r->src, data_off);
    mc_src_unpin(r->src, saved_pin);
    if (!back) {
        mc_error_free(dry_err);
        mc_error_set(errp, MC_ERR_INTERNAL, data_off, r->path,
                     "cannot return to the start of the section");
        return false;
    }
    if (ok) {
        if (!mc_visit_start_section(v, info, errp) ||
            !parse_vmsd(r, v, &dev->vmsd, 0, errp) ||
            !mc_lr_read_footer(r, info->section_id, &footer, errp) ||
            !mc_visit_end_section(v, footer, errp)) {
            return false;
        }
        return true;
    }
    /* The vmdesc does not match the bytes: carry them opaque, bounded by
     * the footer, rather than parse them wrongly. */
    size_t len;
    if (r->footers == FOOTERS_NO || !find_footer(r, info->section_id, &len)) {
        mc_error_propagate(errp, dry_err);
        return false;
    }
    if (r->opts && r->opts->warn) {
        mc_error *w = NULL;
        mc_error_data(&w, dry_err->offset, dry_err->path,
                      "the vmdesc does not match this section (%s); carrying "
                      "its %zu bytes unparsed", dry_err->msg, len);
        r->opts->warn(r->opts->warn_opaque, w);
        mc_error_free(w);
    }
    mc_error_free(dry_err);
    return carry_opaque(r, v, info, len, errp);
}
