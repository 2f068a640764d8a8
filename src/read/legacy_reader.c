/*
 * The legacy stream reader: walks a QEMU "QEVM" v3 migration stream and
 * drives a visitor (core/visitor.h).
 *
 * Layout (migration/savevm.c): magic, version, [configuration], then
 * sections (START/PART/END/FULL), commands and subsections inside device
 * state, QEMU_VM_EOF, and the vmdesc JSON.  Sections carry no length, so:
 *  - the "ram" live section is parsed record by record (migration/ram.c),
 *    streaming: pages are handed to the visitor straight from the input
 *    buffer and never accumulate;
 *  - device (VMState) sections are interpreted field by field with their
 *    description from the vmdesc.  QEMU writes the vmdesc after EOF, so at
 *    the first device section the reader buffers the rest of the input (the
 *    device state and the vmdesc: small, with a cap), finds the vmdesc at
 *    its end, and continues from the buffer.
 *
 * Every device section is first checked with a null visitor: the parse
 * must consume exactly the sizes the vmdesc claims and end at the footer
 * (or, without footers, at a valid section type).  Only then is it replayed
 * into the real visitor.  When the vmdesc is wrong the section is carried as
 * exact opaque bytes bounded by its footer instead of being parsed wrongly.
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
#include "read/field_codec.h"
#include "read/live.h"
#include "read/mapped_ram_read.h"
#include "read/readers.h"
#include "read/vmdesc_scan.h"
#include "visit/visitors.h"

#define MAX_SECTIONS 65536
#define MAX_PACKAGE_DEPTH 4
/* Array elements that occupy no bytes (a vmdesc can describe 2^32 of
 * them, nested arrays multiply): at most this many per stream. */
#define MAX_EMPTY_ELEMS (1u << 16)

typedef struct section_slot {
    uint32_t id;
    char *idstr;
    mc_section_kind kind;
    uint32_t version_id;
    const mc_live_codec *codec; /* live sections other than RAM */
    void *codec_state;
} section_slot;

typedef enum footer_mode { FOOTERS_UNKNOWN, FOOTERS_YES, FOOTERS_NO } footer_mode;

typedef struct reader {
    mc_src *src;
    mc_visitor *v;
    const mc_read_opts *opts;
    char path[1024];

    uint32_t page_size;
    mc_page_size_source page_size_source;
    bool ignore_shared;      /* configuration lists x-ignore-shared */
    bool mapped_ram;         /* configuration lists mapped-ram */
    bool postcopy_advised;   /* POSTCOPY_ADVISE with a page-size payload */
    uint64_t ram_total;      /* from the last MEM_SIZE record, 0 if none */
    uint64_t pagesize_summary;

    section_slot *sections;
    size_t n_sections;
    footer_mode footers;

    bool vmdesc_searched;
    mc_vmdesc *vmdesc;
    uint64_t vmdesc_offset;  /* offset of the QEMU_VM_VMDESCRIPTION byte */

    mc_ram_block *blocks;    /* the last MEM_SIZE's block list */
    char **block_names;
    size_t blocks_cap;
    char name_buf[256];

    int package_depth;
    mc_visitor *dry;         /* null visitor for dry runs */
    uint32_t empty_elems;    /* zero-byte array elements read so far */

    /* Descriptor tables, for device sections without a vmdesc: the set
     * being tried (tables), and every set to try, best first: the
     * caller's, then the built-in ones the machine type suggests
     * (desc/builtin.h), chosen at the first section that needs them. */
    const mc_tables *tables;
    const mc_tables *cands[MC_BUILTIN_MAX_CANDIDATES + 1];
    size_t n_cands;
    bool cands_chosen;
    bool has_machine;        /* the configuration named the machine type */
    char machine[256];
    bool table_mode;         /* parsing with tables: subsections are found
                                by their header, sizes are not checked */
} reader;

/* ---- paths ---- */

#define path_push(r, ...) mc_path_push((r)->path, sizeof((r)->path), __VA_ARGS__)
#define path_pop(r, old) mc_path_pop((r)->path, (old))

/* "TYPE IDSTR (id N)", once per section: without printf. */
static size_t path_push_section(reader *r, const char *type, const char *idstr,
                                uint32_t id)
{
    size_t old = mc_path_add(r->path, sizeof(r->path), type, " ", 1, false,
                             0, "");
    mc_path_add(r->path, sizeof(r->path), "", idstr, 255, false, 0, " (id ");
    mc_path_add(r->path, sizeof(r->path), "", NULL, 0, true, id, ")");
    return old;
}

#define DATA_ERR(r, off, ...) \
    mc_error_data(errp, (off), (r)->path, __VA_ARGS__)

/* ---- small readers ---- */

/* A counted string (u8 length + bytes, no NUL) into buf[256]. */
static bool read_counted(reader *r, char *buf, const char *what,
                         mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    uint8_t len;
    const uint8_t *p;
    if (!mc_src_u8(r->src, &len, errp) || !mc_src_take(r->src, len, &p, errp)) {
        return false;
    }
    if (len == 0) {
        DATA_ERR(r, off, "empty %s", what);
        return false;
    }
    if (memchr(p, 0, len)) {
        DATA_ERR(r, off, "%s contains a NUL byte", what);
        return false;
    }
    memcpy(buf, p, len);
    buf[len] = 0;
    return true;
}

static section_slot *find_section(reader *r, uint32_t id)
{
    for (size_t i = r->n_sections; i-- > 0;) {
        if (r->sections[i].id == id) {
            return &r->sections[i];
        }
    }
    return NULL;
}

static bool add_section(reader *r, uint32_t id, const char *idstr,
                        mc_section_kind kind, uint64_t off, mc_error **errp)
{
    section_slot *s = find_section(r, id);
    if (s) {
        free(s->idstr);
        if (s->codec && s->codec->free_state) {
            s->codec->free_state(s->codec_state);
        }
    } else {
        if (r->n_sections >= MAX_SECTIONS) {
            DATA_ERR(r, off, "more than %d sections", MAX_SECTIONS);
            return false;
        }
        if ((r->n_sections & (r->n_sections - 1)) == 0) {
            r->sections = mc_realloc(
                r->sections, (r->n_sections ? r->n_sections * 2 : 16) *
                                 sizeof(*r->sections));
        }
        s = &r->sections[r->n_sections++];
    }
    s->id = id;
    s->idstr = mc_strdup(idstr);
    s->kind = kind;
    s->codec = kind == MC_SECTION_RAM ? NULL : mc_live_codec_find(idstr);
    s->codec_state = NULL;
    s->version_id = 0;
    return true;
}


/* ---- configuration section (savevm.c vmstate_configuration) ---- */

static bool cfg_int(reader *r, mc_visitor *v, const char *name, uint32_t *out,
                    mc_error **errp)
{
    mc_field f = {name, "uint32"};
    return mc_src_be32(r->src, out, errp) &&
           mc_visit_int(v, &f, MC_WT_U32, *out, errp);
}

/*
 * The configuration has a fixed layout known to every QEMU since 2.4: the
 * machine type (be32 length + bytes) and optional subsections.  It is
 * parsed without the vmdesc (which comes last) because the page size and
 * capabilities it holds are needed to read the RAM that follows.  With
 * learn set, the values are recorded in the reader.
 */
static bool parse_configuration(reader *r, mc_visitor *v, bool learn,
                                mc_error **errp)
{
    mc_section_info info = {
        .type = MC_VM_CONFIGURATION,
        .kind = MC_SECTION_CONFIG,
        .idstr = "configuration",
        .vmsd_name = "configuration",
    };
    size_t old = path_push(r, "configuration");
    uint32_t len;
    const uint8_t *p;
    if (!mc_visit_start_section(v, &info, errp) ||
        !cfg_int(r, v, "len", &len, errp)) {
        return false;
    }
    uint64_t off = mc_src_offset(r->src);
    if (len > 255) {
        DATA_ERR(r, off, "machine type name of %u bytes is implausible", len);
        return false;
    }
    mc_field fname = {"name", "buffer"};
    if (!mc_src_take(r->src, len, &p, errp) ||
        !mc_visit_bytes(v, &fname, p, len, errp)) {
        return false;
    }
    memcpy(r->machine, p, len);
    r->machine[len] = '\0';
    r->has_machine = true;
    for (;;) {
        if (!mc_src_peek(r->src, 1, &p, errp)) {
            return false;
        }
        if (p[0] != MC_VM_SUBSECTION) {
            break;
        }
        off = mc_src_offset(r->src);
        char name[256];
        uint32_t version;
        if (!mc_src_skip(r->src, 1, errp) ||
            !read_counted(r, name, "subsection name", errp) ||
            !mc_src_be32(r->src, &version, errp)) {
            return false;
        }
        size_t sold = path_push(r, "/%s", name);
        if (!mc_visit_start_subsection(v, name, version, errp)) {
            return false;
        }
        if (strcmp(name, "configuration/target-page-bits") == 0) {
            uint32_t bits;
            if (!cfg_int(r, v, "target_page_bits", &bits, errp)) {
                return false;
            }
            if (bits < 10 || bits > 30) {
                DATA_ERR(r, off, "target page bits %u out of range", bits);
                return false;
            }
            if (learn) {
                r->page_size = 1u << bits;
                r->page_size_source = MC_PAGE_SIZE_CONFIGURATION;
            }
        } else if (strcmp(name, "configuration/capabilities") == 0) {
            uint32_t count;
            if (!cfg_int(r, v, "caps_count", &count, errp)) {
                return false;
            }
            if (count > 256) {
                DATA_ERR(r, off, "%u capabilities is implausible", count);
                return false;
            }
            mc_field fa = {"capabilities", "capability"};
            mc_field fe = {NULL, "capability"};
            if (!mc_visit_start_array(v, &fa, count, errp)) {
                return false;
            }
            for (uint32_t i = 0; i < count; i++) {
                uint64_t coff = mc_src_offset(r->src);
                char cap[256];
                if (!read_counted(r, cap, "capability name", errp) ||
                    !mc_src_rewind(r->src, coff) ||
                    !mc_src_take(r->src, 1 + strlen(cap), &p, errp) ||
                    !mc_visit_bytes(v, &fe, p, 1 + strlen(cap), errp)) {
                    return false;
                }
                if (learn && strcmp(cap, "x-ignore-shared") == 0) {
                    r->ignore_shared = true;
                }
                if (learn && strcmp(cap, "mapped-ram") == 0) {
                    r->mapped_ram = true;
                }
            }
            if (!mc_visit_end_array(v, errp)) {
                return false;
            }
        } else if (strcmp(name, "configuration/uuid") == 0) {
            mc_field fu = {"uuid", "uint8"};
            if (!mc_src_take(r->src, 16, &p, errp) ||
                !mc_visit_packed(v, &fu, MC_WT_U8, 16, p, errp)) {
                return false;
            }
        } else {
            DATA_ERR(r, off, "unknown configuration subsection '%s'", name);
            return false;
        }
        if (!mc_visit_end_subsection(v, errp)) {
            return false;
        }
        path_pop(r, sold);
    }
    path_pop(r, old);
    return mc_visit_end_section(v, false, errp);
}

/* ---- VMState device sections ---- */

static bool parse_vmsd(reader *r, mc_visitor *v, const mc_desc_vmsd *m,
                       int depth, mc_error **errp);

/* A run of bytes: through its field codec (read/field_codec.h) when its
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
        if (!read_counted(r, name, "subsection name", errp) ||
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
            !read_counted(r, name, "subsection name", errp) ||
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

/* ---- section ends and footers ---- */

static bool valid_next_type(uint8_t t)
{
    return t == MC_VM_EOF || t == MC_VM_SECTION_START ||
           t == MC_VM_SECTION_PART || t == MC_VM_SECTION_END ||
           t == MC_VM_SECTION_FULL || t == MC_VM_COMMAND;
}

/*
 * Without footers, the only sign that a section's data ended in the right
 * place is that a well-formed item follows.  Check as much of it as is
 * buffered: a section header with a printable idstr or a known id, a known
 * command, or EOF followed by the end or by the vmdesc.
 */
static bool plausible_next(reader *r)
{
    const uint8_t *p = mc_src_window(r->src);
    size_t n = mc_src_buffered(r->src);
    if (n == 0) {
        return false;
    }
    switch (p[0]) {
    case MC_VM_EOF:
        /* With keep_trailer, bytes may follow the vmdesc. */
        return n == 1 || (p[1] == MC_VM_VMDESCRIPTION &&
                          (n < 6 || ((r->opts && r->opts->keep_trailer
                                          ? mc_be32(p + 2) <= n - 6
                                          : mc_be32(p + 2) == n - 6) &&
                                     p[6] == '{')));
    case MC_VM_SECTION_START:
    case MC_VM_SECTION_FULL: {
        if (n < 6) {
            return true;
        }
        size_t len = p[5];
        if (len == 0) {
            return false;
        }
        for (size_t i = 0; i < len && 6 + i < n; i++) {
            if (p[6 + i] < 0x20 || p[6 + i] > 0x7e) {
                return false;
            }
        }
        return true;
    }
    case MC_VM_SECTION_PART:
    case MC_VM_SECTION_END:
        return n < 5 || find_section(r, mc_be32(p + 1)) != NULL;
    case MC_VM_COMMAND:
        return n < 3 || (mc_be16(p + 1) > MC_MIG_CMD_INVALID &&
                         mc_be16(p + 1) < MC_MIG_CMD_MAX);
    default:
        return false;
    }
}

/*
 * After a section's data: consume a footer if there is one.  *footer says
 * whether one was there.  A footer must name the section just read; a
 * stream with footers has them on every section.
 */
static bool read_footer(reader *r, uint32_t id, bool *footer, mc_error **errp)
{
    const uint8_t *p;
    bool at_end;
    *footer = false;
    if (!mc_src_at_end(r->src, &at_end, errp)) {
        return false;
    }
    if (at_end) {
        DATA_ERR(r, mc_src_offset(r->src), "stream ends without QEMU_VM_EOF");
        return false;
    }
    uint64_t off = mc_src_offset(r->src);
    if (!mc_src_peek(r->src, 1, &p, errp)) {
        return false;
    }
    if (p[0] == MC_VM_SECTION_FOOTER) {
        uint32_t fid;
        if (!mc_src_skip(r->src, 1, errp) || !mc_src_be32(r->src, &fid, errp)) {
            return false;
        }
        if (fid != id) {
            DATA_ERR(r, off, "section footer names section %u, expected %u",
                     fid, id);
            return false;
        }
        if (r->footers == FOOTERS_NO) {
            DATA_ERR(r, off, "section footer in a stream without footers");
            return false;
        }
        r->footers = FOOTERS_YES;
        *footer = true;
        return true;
    }
    if (r->footers == FOOTERS_YES) {
        DATA_ERR(r, off, "missing section footer (found byte 0x%02x)", p[0]);
        return false;
    }
    if (!valid_next_type(p[0]) || !plausible_next(r)) {
        DATA_ERR(r, off, "section data is followed by byte 0x%02x, which "
                 "starts no plausible section", p[0]);
        return false;
    }
    r->footers = FOOTERS_NO;
    return true;
}

/* ---- vmdesc ---- */

static size_t vmdesc_limit(const reader *r)
{
    return r->opts && r->opts->vmdesc_limit ? r->opts->vmdesc_limit
                                            : MC_DEFAULT_VMDESC_LIMIT;
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
 * parses, and the input is buffered only up to it (read/vmdesc_scan.h),
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
    mc_vmdesc_scan scan = {.limit = vmdesc_limit(r)};
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
                     "vmdesc", "%s", scan.err->msg);
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
        if (!mc_vmdesc_parse(b + i + 5, mc_be32(b + i + 1), vmdesc_limit(r),
                             &d, &err)) {
            uint64_t off = mc_src_offset(r->src) + i + 5;
            mc_error_set(errp, err->cls, off, "vmdesc", "%s", err->msg);
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
            (i + 5 == n || valid_next_type(b[i + 5]))) {
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
           read_footer(r, info->section_id, &footer, errp) &&
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
    *fit = n;
    r->table_mode = true;
    for (size_t k = 0; k < n && *fit == n; k++) {
        mc_error *err = NULL;
        if (parse_vmsd(r, r->dry, &variants[k], 0, &err) &&
            read_footer(r, info->section_id, &footer, &err)) {
            *fit = k;
        } else {
            mc_error_free(*last);
            *last = err;
        }
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
                      read_footer(r, info->section_id, &footer, errp) &&
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

static bool parse_device(reader *r, mc_visitor *v, mc_section_info *info,
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
    bool ok = parse_vmsd(r, r->dry, &dev->vmsd, 0, &dry_err) &&
              read_footer(r, info->section_id, &footer, &dry_err);
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
            !read_footer(r, info->section_id, &footer, errp) ||
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

/* ---- the "ram" live section (migration/ram.c) ---- */

static bool read_block_name(reader *r, bool cont, const char **block,
                            mc_error **errp)
{
    *block = NULL;
    if (cont) {
        return true;
    }
    if (!read_counted(r, r->name_buf, "RAM block name", errp)) {
        return false;
    }
    *block = r->name_buf;
    return true;
}

static bool parse_mem_size(reader *r, mc_visitor *v, uint64_t total,
                           mc_error **errp)
{
    uint64_t left = total;
    size_t n = 0;
    /* mapped-ram (QEMU >= 9.0 file: migration): each block entry is
     * followed by its MappedRamHeader and region (read/mapped_ram_read.h),
     * so the MEM_SIZE record goes out first, without its blocks. */
    mc_mapped_block mapped = {0};
    if (r->mapped_ram) {
        mc_ram_record head = {.kind = MC_RAM_MEM_SIZE, .offset = total};
        if (!mc_visit_ram_record(v, &head, errp)) {
            return false;
        }
    }
    while (left > 0) {
        uint64_t off = mc_src_offset(r->src);
        if (n >= MC_MAX_RAM_BLOCKS) {
            DATA_ERR(r, off, "more than %d RAM blocks", MC_MAX_RAM_BLOCKS);
            return false;
        }
        if (n == r->blocks_cap) {
            size_t cap = r->blocks_cap ? r->blocks_cap * 2 : 8;
            r->blocks = mc_realloc(r->blocks, cap * sizeof(*r->blocks));
            r->block_names = mc_realloc(r->block_names,
                                        cap * sizeof(*r->block_names));
            memset(r->block_names + r->blocks_cap, 0,
                   (cap - r->blocks_cap) * sizeof(*r->block_names));
            r->blocks_cap = cap;
        }
        mc_ram_block *b = &r->blocks[n];
        memset(b, 0, sizeof(*b));
        char name[256];
        if (!read_counted(r, name, "RAM block name", errp) ||
            !mc_src_be64(r->src, &b->used_length, errp)) {
            return false;
        }
        if (b->used_length > left) {
            DATA_ERR(r, off, "RAM block '%s' of %llu bytes exceeds the %llu "
                     "bytes left of the announced total", name,
                     (unsigned long long)b->used_length,
                     (unsigned long long)left);
            return false;
        }
        left -= b->used_length;
        free(r->block_names[n]);
        r->block_names[n] = mc_strdup(name);
        b->idstr = r->block_names[n];
        /* migration/ram.c ram_save_setup: a page size when postcopy is on
         * and the block's page size is not the host's; the destination
         * knows from POSTCOPY_ADVISE whether any block has one. */
        if (r->postcopy_advised && r->pagesize_summary != r->page_size) {
            const uint8_t *p;
            if (!mc_src_peek(r->src, 8, &p, errp)) {
                return false;
            }
            uint64_t ps = mc_be64(p);
            if (ps != 0 && (ps & (ps - 1)) == 0 && (ps & r->pagesize_summary) &&
                ps != r->page_size) {
                b->has_page_size = true;
                b->page_size = ps;
                if (!mc_src_skip(r->src, 8, errp)) {
                    return false;
                }
            }
        }
        if (r->ignore_shared && !mc_src_be64(r->src, &b->addr, errp)) {
            return false;
        }
        b->has_addr = r->ignore_shared;
        n++;
        if (r->mapped_ram &&
            !mc_mapped_ram_read_block(r->src, v, b, r->page_size, &mapped,
                                      r->path, errp)) {
            mc_mapped_block_clear(&mapped);
            return false;
        }
    }
    r->ram_total = total;
    if (r->mapped_ram) {
        return true;
    }
    mc_ram_record rec = {
        .kind = MC_RAM_MEM_SIZE, .offset = total, .blocks = r->blocks,
        .n_blocks = n,
    };
    return mc_visit_ram_record(v, &rec, errp);
}

static bool parse_ram(reader *r, mc_visitor *v, mc_error **errp)
{
    const uint64_t mask = (uint64_t)r->page_size - 1;
    for (;;) {
        uint64_t off = mc_src_offset(r->src);
        uint64_t hdr;
        if (!mc_src_be64(r->src, &hdr, errp)) {
            return false;
        }
        uint64_t flags = hdr & mask;
        uint64_t addr = hdr & ~mask;
        bool cont = flags & MC_RAM_SAVE_FLAG_CONTINUE;
        mc_ram_record rec = {.offset = addr};
        const uint8_t *p;
        switch (flags & ~(uint64_t)MC_RAM_SAVE_FLAG_CONTINUE) {
        case MC_RAM_SAVE_FLAG_MEM_SIZE:
            if (cont) {
                goto bad_flags;
            }
            if (!parse_mem_size(r, v, addr, errp)) {
                return false;
            }
            continue;
        case MC_RAM_SAVE_FLAG_ZERO:
            rec.kind = MC_RAM_ZERO;
            if (!read_block_name(r, cont, &rec.block, errp) ||
                !mc_src_u8(r->src, &rec.fill, errp)) {
                return false;
            }
            break;
        case MC_RAM_SAVE_FLAG_PAGE:
            rec.kind = MC_RAM_PAGE;
            rec.len = r->page_size;
            if (!read_block_name(r, cont, &rec.block, errp) ||
                !mc_src_take(r->src, rec.len, &rec.data, errp)) {
                return false;
            }
            break;
        case MC_RAM_SAVE_FLAG_XBZRLE: {
            uint16_t len;
            rec.kind = MC_RAM_XBZRLE;
            if (!read_block_name(r, cont, &rec.block, errp) ||
                !mc_src_u8(r->src, &rec.encoding, errp) ||
                !mc_src_be16(r->src, &len, errp)) {
                return false;
            }
            if (len > r->page_size) {
                DATA_ERR(r, off, "XBZRLE data of %u bytes exceeds the page "
                         "size %u", len, r->page_size);
                return false;
            }
            rec.len = len;
            if (!mc_src_take(r->src, len, &rec.data, errp)) {
                return false;
            }
            break;
        }
        case MC_RAM_SAVE_FLAG_COMPRESS_PAGE: {
            uint32_t len;
            rec.kind = MC_RAM_COMPRESS;
            if (!read_block_name(r, cont, &rec.block, errp) ||
                !mc_src_be32(r->src, &len, errp)) {
                return false;
            }
            if (len > mc_compress_bound(r->page_size)) {
                DATA_ERR(r, off, "compressed page of %u bytes exceeds the "
                         "bound for a page", len);
                return false;
            }
            rec.len = len;
            if (!mc_src_take(r->src, len, &rec.data, errp)) {
                return false;
            }
            break;
        }
        case MC_RAM_SAVE_FLAG_EOS:
        case MC_RAM_SAVE_FLAG_MULTIFD_FLUSH:
            if (cont || addr != 0) {
                goto bad_flags;
            }
            rec.kind = flags == MC_RAM_SAVE_FLAG_EOS ? MC_RAM_EOS
                                                      : MC_RAM_MULTIFD_FLUSH;
            if (!mc_visit_ram_record(v, &rec, errp)) {
                return false;
            }
            if (rec.kind == MC_RAM_EOS) {
                return true;
            }
            continue;
        case MC_RAM_SAVE_FLAG_HOOK:
            DATA_ERR(r, off, "RDMA hook records are not supported");
            return false;
        default:
            goto bad_flags;
        }
        if (rec.kind == MC_RAM_ZERO || rec.kind == MC_RAM_PAGE) {
            /* The page must lie in the RAM the stream announced (1 TiB
             * before any MEM_SIZE), as the BER reader requires of runs. */
            uint64_t limit = r->ram_total ? r->ram_total : UINT64_C(1) << 40;
            if (addr > limit || limit - addr < r->page_size) {
                DATA_ERR(r, off, "page at 0x%llx lies past the %llu bytes of "
                         "RAM the stream announced", (unsigned long long)addr,
                         (unsigned long long)limit);
                return false;
            }
        }
        if (!mc_visit_ram_record(v, &rec, errp)) {
            return false;
        }
        (void)p;
        continue;
    bad_flags:
        DATA_ERR(r, off, "invalid RAM record header 0x%016llx (flags 0x%llx)",
                 (unsigned long long)hdr, (unsigned long long)flags);
        return false;
    }
}

/* ---- sections, commands, packages ---- */

static bool parse_section(reader *r, uint8_t type, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src) - 1;
    mc_section_info info = {.type = type};
    char idstr[256];
    if (!mc_src_be32(r->src, &info.section_id, errp)) {
        return false;
    }
    if (type == MC_VM_SECTION_START || type == MC_VM_SECTION_FULL) {
        if (!read_counted(r, idstr, "section idstr", errp) ||
            !mc_src_be32(r->src, &info.instance_id, errp) ||
            !mc_src_be32(r->src, &info.version_id, errp)) {
            return false;
        }
        info.idstr = idstr;
        info.kind = (type == MC_VM_SECTION_START && strcmp(idstr, "ram") == 0)
                        ? MC_SECTION_RAM
                        : MC_SECTION_VMSTATE;
        if (!add_section(r, info.section_id, idstr, info.kind, off, errp)) {
            return false;
        }
    } else {
        section_slot *s = find_section(r, info.section_id);
        if (!s) {
            DATA_ERR(r, off, "section %u continues but never started",
                     info.section_id);
            return false;
        }
        info.idstr = s->idstr;
        info.kind = s->kind;
    }
    section_slot *slot = find_section(r, info.section_id);
    if (type == MC_VM_SECTION_START || type == MC_VM_SECTION_FULL) {
        slot->version_id = info.version_id;
    }
    size_t old = path_push_section(r, mc_section_type_name(type), info.idstr,
                                   info.section_id);
    if (slot->codec) {
        mc_live_env env = {
            .src = r->src,
            .path = r->path,
            .page_size = r->page_size,
            .section_type = type,
            .version_id = slot->version_id,
            .state = &slot->codec_state,
        };
        bool footer;
        if (!mc_visit_start_section(r->v, &info, errp) ||
            !slot->codec->parse(&env, r->v, errp) ||
            !read_footer(r, info.section_id, &footer, errp) ||
            !mc_visit_end_section(r->v, footer, errp)) {
            return false;
        }
    } else if (info.kind == MC_SECTION_RAM) {
        bool footer;
        if (!mc_visit_start_section(r->v, &info, errp) ||
            !parse_ram(r, r->v, errp) ||
            !read_footer(r, info.section_id, &footer, errp) ||
            !mc_visit_end_section(r->v, footer, errp)) {
            return false;
        }
    } else if (type == MC_VM_SECTION_FULL) {
        if (!parse_device(r, r->v, &info, errp)) {
            return false;
        }
    } else {
        /* START/PART/END of a live handler other than RAM (block,
         * dirty-bitmap, vfio, ...): its data has no description. */
        DATA_ERR(r, off, "no codec for the data of live section '%s'",
                 info.idstr);
        return false;
    }
    path_pop(r, old);
    return true;
}

static bool parse_items(reader *r, bool top, mc_error **errp);

static bool parse_command(reader *r, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src) - 1;
    uint16_t cmd, len;
    const uint8_t *p;
    if (!mc_src_be16(r->src, &cmd, errp) || !mc_src_be16(r->src, &len, errp) ||
        !mc_src_take(r->src, len, &p, errp)) {
        return false;
    }
    if (cmd == MC_MIG_CMD_INVALID || cmd >= MC_MIG_CMD_MAX) {
        DATA_ERR(r, off, "unknown command 0x%x", cmd);
        return false;
    }
    if (cmd == MC_MIG_CMD_POSTCOPY_ADVISE && len == 16) {
        r->postcopy_advised = true;
        r->pagesize_summary = mc_be64(p);
    }
    if (cmd != MC_MIG_CMD_PACKAGED) {
        return mc_visit_command(r->v, cmd, p, len, errp);
    }
    if (len != 4) {
        DATA_ERR(r, off, "PACKAGED command with %u bytes of arguments, "
                 "expected 4", len);
        return false;
    }
    uint32_t plen = mc_be32(p);
    if (plen > mc_src_left_in_limit(r->src)) {
        DATA_ERR(r, off, "package of %u bytes runs past its container", plen);
        return false;
    }
    if (r->package_depth >= MAX_PACKAGE_DEPTH) {
        DATA_ERR(r, off, "packages nested too deep");
        return false;
    }
    size_t old = path_push(r, "package@%llu/", (unsigned long long)off);
    uint64_t saved = mc_src_push_limit(r->src, mc_src_offset(r->src) + plen);
    r->package_depth++;
    bool ok = mc_visit_start_packaged(r->v, plen, errp) &&
              parse_items(r, false, errp) &&
              mc_visit_end_packaged(r->v, errp);
    r->package_depth--;
    mc_src_pop_limit(r->src, saved);
    if (ok) {
        path_pop(r, old);
    }
    return ok;
}

static bool parse_vmdesc(reader *r, mc_error **errp)
{
    uint64_t off = mc_src_offset(r->src);
    uint8_t type;
    uint32_t len;
    const uint8_t *p;
    if (!mc_src_u8(r->src, &type, errp)) {
        return false;
    }
    if (type != MC_VM_VMDESCRIPTION) {
        DATA_ERR(r, off, "unexpected byte 0x%02x after QEMU_VM_EOF", type);
        return false;
    }
    size_t old = path_push(r, "vmdesc");
    if (!mc_src_be32(r->src, &len, errp)) {
        return false;
    }
    if (len > vmdesc_limit(r)) {
        DATA_ERR(r, off + 1, "vmdesc of %u bytes exceeds the limit of %zu "
                 "bytes (raise it with --vmdesc-limit)", len, vmdesc_limit(r));
        return false;
    }
    if (!mc_src_take(r->src, len, &p, errp)) {
        return false;
    }
    if (r->vmdesc && off != r->vmdesc_offset) {
        DATA_ERR(r, off, "vmdesc found at an unexpected position");
        return false;
    }
    if (!r->vmdesc) {
        /* Not needed for parsing (no device sections), but it must be the
         * JSON object QEMU writes. */
        mc_vmdesc *d = NULL;
        mc_error *err = NULL;
        if (!mc_vmdesc_parse(p, len, vmdesc_limit(r), &d, &err)) {
            mc_error_set(errp, err->cls, off + 5, r->path, "%s", err->msg);
            mc_error_free(err);
            return false;
        }
        mc_vmdesc_free(d);
    }
    if (!mc_visit_vmdesc(r->v, p, len, errp)) {
        return false;
    }
    path_pop(r, old);
    bool at_end;
    if (!mc_src_at_end(r->src, &at_end, errp)) {
        return false;
    }
    if (!at_end && !(r->opts && r->opts->keep_trailer)) {
        DATA_ERR(r, mc_src_offset(r->src), "trailing bytes after the vmdesc");
        return false;
    }
    return true;
}

/* Items until QEMU_VM_EOF (top level) or the end of the package. */
static bool parse_items(reader *r, bool top, mc_error **errp)
{
    for (;;) {
        bool at_end;
        if (!mc_src_at_end(r->src, &at_end, errp)) {
            return false;
        }
        if (at_end) {
            if (top) {
                DATA_ERR(r, mc_src_offset(r->src),
                         "stream ends without QEMU_VM_EOF");
                return false;
            }
            return true;
        }
        uint64_t off = mc_src_offset(r->src);
        uint8_t type;
        if (!mc_src_u8(r->src, &type, errp)) {
            return false;
        }
        switch (type) {
        case MC_VM_SECTION_START:
        case MC_VM_SECTION_PART:
        case MC_VM_SECTION_END:
        case MC_VM_SECTION_FULL:
            if (!parse_section(r, type, errp)) {
                return false;
            }
            break;
        case MC_VM_COMMAND:
            if (!parse_command(r, errp)) {
                return false;
            }
            break;
        case MC_VM_EOF:
            if (!mc_visit_eof(r->v, errp)) {
                return false;
            }
            if (!top) {
                break;
            }
            if (!mc_src_at_end(r->src, &at_end, errp)) {
                return false;
            }
            if (!at_end && !r->vmdesc && r->opts && r->opts->keep_trailer) {
                /* A stream without a vmdesc, then other bytes (a state
                 * volume's): they are the trailer. */
                const uint8_t *p;
                if (!mc_src_peek(r->src, 1, &p, errp)) {
                    return false;
                }
                if (p[0] != MC_VM_VMDESCRIPTION) {
                    return true;
                }
            }
            return at_end || parse_vmdesc(r, errp);
        case MC_VM_CONFIGURATION:
            DATA_ERR(r, off, "configuration section not at the start");
            return false;
        default:
            DATA_ERR(r, off, "unknown section type 0x%02x", type);
            return false;
        }
    }
}

bool mc_legacy_read(mc_src *src, mc_visitor *v, const mc_read_opts *opts,
                    mc_error **errp)
{
    reader *r = mc_calloc(1, sizeof(*r));
    r->src = src;
    r->v = v;
    r->opts = opts;
    r->page_size = MC_DEFAULT_PAGE_SIZE;
    r->page_size_source = MC_PAGE_SIZE_DEFAULT;
    r->dry = mc_null_visitor_new();
    r->tables = NULL;
    const char *saved_path = mc_src_set_path(src, r->path);
    /* the stream need not start at offset 0 of its source */
    uint64_t start = mc_src_offset(src);

    bool ok = false;
    uint32_t magic, version;
    const uint8_t *p;
    if (!mc_src_be32(src, &magic, errp)) {
        goto out;
    }
    if (magic != MC_VM_FILE_MAGIC) {
        DATA_ERR(r, start, "not a QEMU migration stream (magic 0x%08x)",
                 magic);
        goto out;
    }
    if (!mc_src_be32(src, &version, errp)) {
        goto out;
    }
    if (version != MC_VM_FILE_VERSION) {
        DATA_ERR(r, start + 4, "unsupported stream version %u (only %u is supported)",
                 version, MC_VM_FILE_VERSION);
        goto out;
    }
    bool at_end;
    if (!mc_src_at_end(src, &at_end, errp)) {
        goto out;
    }
    bool config = false;
    if (!at_end) {
        if (!mc_src_peek(src, 1, &p, errp)) {
            goto out;
        }
        config = p[0] == MC_VM_CONFIGURATION;
    }
    if (config) {
        /* Learn the page size and capabilities before anything is emitted:
         * they are part of the stream header for the visitors. */
        uint64_t cfg = mc_src_offset(src);
        uint64_t saved_pin = mc_src_pin(src, cfg);
        bool learned = mc_src_skip(src, 1, errp) &&
                       parse_configuration(r, r->dry, true, errp);
        bool back = mc_src_rewind(src, cfg);
        mc_src_unpin(src, saved_pin);
        if (learned && !back) {
            mc_error_set(errp, MC_ERR_INTERNAL, cfg, NULL,
                         "cannot return to the configuration");
            learned = false;
        }
        if (!learned) {
            goto out;
        }
        r->path[0] = 0;
    }
    mc_stream_info info = {
        .magic = magic,
        .version = version,
        .page_size = r->page_size,
        .page_size_source = r->page_size_source,
        .names = true,
    };
    if (!mc_visit_start_stream(v, &info, errp)) {
        goto out;
    }
    if (config && (!mc_src_skip(src, 1, errp) ||
                   !parse_configuration(r, v, false, errp))) {
        goto out;
    }
    ok = parse_items(r, true, errp) && mc_visit_end_stream(v, errp);
out:
    mc_src_set_path(src, saved_path);
    for (size_t i = 0; i < r->n_sections; i++) {
        free(r->sections[i].idstr);
        if (r->sections[i].codec && r->sections[i].codec->free_state) {
            r->sections[i].codec->free_state(r->sections[i].codec_state);
        }
    }
    free(r->sections);
    for (size_t i = 0; i < r->blocks_cap; i++) {
        free(r->block_names[i]);
    }
    free(r->block_names);
    free(r->blocks);
    mc_vmdesc_free(r->vmdesc);
    mc_visitor_free(r->dry);
    free(r);
    return ok;
}
