/*
 * JSON dump visitor (migconv dump).
 *
 * The document is written as the walk goes: each call emits its part and
 * nothing of the stream is kept, except the per-block RAM summary printed
 * at the end (at most JV_MAX_BLOCKS distinct blocks, the rest counted under
 * "(other)").  Output is pretty-printed with two spaces per level, except
 * that a packed array's numbers and a hex string stay on one line.
 *
 *   {"magic", "file_version", "page_size", "page_size_source", "names",
 *    "items": [ section | command | packaged | eof | vmdesc objects ],
 *    "ram_summary": {"blocks": [...], "records": {...}}}
 *
 * A RAM section carries "ram": {["records_list": [...]], "records": {...},
 * "bytes": N}, where "bytes" is the legacy size of its RAM records (headers,
 * block names and payloads).  A block summary's "data_bytes" counts only
 * payloads (PAGE, XBZRLE, COMPRESS data).
 *
 * Integers are exact decimals (64-bit, signed types sign-extended, no
 * floating point).  Strings may hold any bytes: control characters are
 * escaped, valid UTF-8 is copied, and every other byte is written as
 * \u00XX.  The JSON text itself (escaping, indentation, separators) is
 * written by the emitter, visit/json_emit.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/ber_container.h"
#include "container/libvirt_save.h"
#include "core/mapped_ram.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor-impl.h"
#include "visit/json_emit.h"
#include "visit/visitors.h"

/* Distinct RAM blocks summarised one by one; further ones go to "(other)". */
#define JV_MAX_BLOCKS 4096u
/* Hash table slots for the block names (a power of two, > JV_MAX_BLOCKS). */
#define JV_TABLE_SIZE 8192u

/* Pseudo indexes of the block summary. */
#define JV_IDX_NONE (-1L)
#define JV_IDX_OTHER (-2L)
#define JV_IDX_UNKNOWN (-3L)

typedef enum jv_frame_kind {
    JF_ROOT,
    JF_SECTION,
    JF_STRUCT,
    JF_ARRAY,
    JF_SUBSECTION,
    JF_PACKAGED,
} jv_frame_kind;

/* Which array of a body ("fields", then "subsections") is open. */
typedef enum jv_body {
    JB_NONE,
    JB_FIELDS,
    JB_SUBSECTIONS,
} jv_body;

typedef struct jv_frame {
    jv_frame_kind kind;
    jv_body body;
    bool ram;                        /* JF_SECTION of kind MC_SECTION_RAM */
    uint64_t counts[MC_RAM__COUNT];  /* ram sections: records by kind */
    uint64_t bytes;                  /* ram sections: legacy record bytes */
} jv_frame;

typedef struct jv_block {
    char *name;
    bool used;
    bool has_used_length;
    uint64_t used_length;
    uint64_t counts[MC_RAM__COUNT];
    uint64_t data_bytes;
    /* mapped-ram: the MappedRamHeader and its bitmap */
    bool mapped;
    mc_mapped_ram_header hdr;
    uint64_t pages, bitmap_size, present;
    bool bitmap_done;
} jv_block;

typedef struct mc_json_visitor {
    mc_visitor base;
    mc_json_emitter em; /* the output (visit/json_emit.h) */
    mc_json_opts opts;
    /* visitor frames */
    jv_frame *fr;
    size_t nfr, fr_cap;
    /* RAM summary */
    jv_block *blocks;
    size_t n_blocks, blocks_cap;
    uint32_t *table;  /* block index + 1, 0 = empty slot */
    jv_block other;   /* blocks beyond JV_MAX_BLOCKS */
    jv_block unknown; /* CONTINUE records before any named one */
    long cur;         /* block of the last named record (or JV_IDX_*) */
    uint64_t totals[MC_RAM__COUNT];
} mc_json_visitor;

static mc_json_visitor *jv_of(mc_visitor *v)
{
    return (mc_json_visitor *)v;
}

/* ---- output and errors ---- */

/* End of a callback: report an output error, if any. */
static bool jv_done(mc_json_visitor *j, mc_error **errp)
{
    if (j->em.err) {
        mc_error_propagate(errp, j->em.err);
        j->em.err = NULL;
        j->em.failed = true;
        return false;
    }
    if (j->em.failed) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "json output called again after an error");
        return false;
    }
    return true;
}

static bool jv_fail(mc_json_visitor *j, const char *path, const char *what,
                    mc_error **errp)
{
    mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, path, "%s", what);
    j->em.failed = true;
    return false;
}

static void jv_kcounts(mc_json_visitor *j, const char *key,
                       const uint64_t counts[MC_RAM__COUNT])
{
    mc_jemit_open(&j->em, key, false);
    for (unsigned k = 0; k < MC_RAM__COUNT; k++) {
        if (counts[k]) {
            mc_jemit_ku64(&j->em, mc_ram_kind_name((mc_ram_kind)k), counts[k]);
        }
    }
    mc_jemit_close(&j->em);
}

/* ---- frames ---- */

static jv_frame *jv_top(mc_json_visitor *j)
{
    return j->nfr ? &j->fr[j->nfr - 1] : NULL;
}

static jv_frame *jv_push(mc_json_visitor *j, jv_frame_kind kind)
{
    if (j->nfr == j->fr_cap) {
        j->fr_cap = j->fr_cap ? j->fr_cap * 2 : 16;
        j->fr = mc_realloc(j->fr, j->fr_cap * sizeof(*j->fr));
    }
    jv_frame *f = &j->fr[j->nfr++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    return f;
}

/* Close a body: its "fields" (written empty if nothing came) or its
 * "subsections" array. */
static void jv_body_close(mc_json_visitor *j, jv_frame *f)
{
    if (f->body == JB_NONE) {
        mc_jemit_open(&j->em, "fields", true);
    }
    mc_jemit_close(&j->em);
}

/*
 * Open the object of a value (int, bytes, packed, struct, array): as an
 * element of the enclosing array, or in the enclosing body's "fields".
 */
static bool jv_value(mc_json_visitor *j, const mc_field *f, const char *type,
                     mc_error **errp)
{
    jv_frame *top = jv_top(j);
    const char *name = f ? f->name : NULL;
    if (top->kind != JF_ARRAY) {
        if (top->body == JB_NONE) {
            mc_jemit_open(&j->em, "fields", true);
            top->body = JB_FIELDS;
        }
    }
    mc_jemit_open(&j->em, NULL, false);
    if (name) {
        mc_jemit_kstr(&j->em, "name", name);
    }
    mc_jemit_kstr(&j->em, "type", type);
    return true;
}

/* "wire_type" when the producer's type name says something else. */
static void jv_wire_type(mc_json_visitor *j, const mc_field *f,
                         mc_wire_type wt)
{
    const char *wname = mc_wire_type_name(wt);
    if (f && f->type && strcmp(f->type, wname) != 0) {
        mc_jemit_kstr(&j->em, "wire_type", wname);
    }
}

static const char *jv_type(const mc_field *f, const char *dflt)
{
    return f && f->type ? f->type : dflt;
}

/* ---- stream and sections ---- */

static void jv_container(mc_json_visitor *j, const mc_container_info *ci)
{
    mc_jemit_open(&j->em, "container", false);
    mc_jemit_kstr(&j->em, "kind", ci->kind == MC_CONTAINER_LIBVIRT ? "libvirt"
                                                        : "compressed");
    mc_jemit_kstr(&j->em, "compression", mc_codec_name(ci->codec));
    mc_jemit_ku64(&j->em, "level", (uint64_t)ci->level);
    mc_libvirt_header h;
    if (ci->libvirt && mc_libvirt_header_parse(ci->libvirt, ci->libvirt_len,
                                               &h, NULL)) {
        const char *xml, *cookie;
        size_t xml_len, cookie_len;
        mc_libvirt_data_split(&h, ci->libvirt + MC_LIBVIRT_HEADER_SIZE, &xml,
                              &xml_len, &cookie, &cookie_len);
        mc_jemit_open(&j->em, "libvirt", false);
        mc_jemit_ku64(&j->em, "version", h.version);
        mc_jemit_ku64(&j->em, "data_len", h.data_len);
        mc_jemit_ku64(&j->em, "was_running", h.was_running);
        mc_jemit_kstr(&j->em, "format", mc_libvirt_format_name(h.format));
        mc_jemit_ku64(&j->em, "cookie_offset", h.cookie_offset);
        mc_jemit_kbool(&j->em, "big_endian", h.big_endian);
        mc_jemit_kstrn(&j->em, "xml", (const uint8_t *)xml, xml_len);
        if (cookie) {
            mc_jemit_kstrn(&j->em, "cookie", (const uint8_t *)cookie,
                           cookie_len);
        }
        mc_jemit_close(&j->em);
    }
    mc_jemit_close(&j->em);
}

static bool jv_start_stream(mc_visitor *v, const mc_stream_info *info,
                            mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    uint8_t magic[4];
    mc_put_be32(magic, info->magic);
    mc_jemit_open(&j->em, NULL, false);
    mc_jemit_kstrn(&j->em, "magic", magic, sizeof(magic));
    mc_jemit_ku64(&j->em, "file_version", info->version);
    mc_jemit_ku64(&j->em, "page_size", info->page_size);
    mc_jemit_kstr(&j->em, "page_size_source",
            mc_page_size_source_name(info->page_size_source));
    mc_jemit_kbool(&j->em, "names", info->names);
    if (j->opts.container) {
        jv_container(j, j->opts.container);
    }
    mc_jemit_open(&j->em, "items", true);
    jv_push(j, JF_ROOT);
    return jv_done(j, errp);
}

static void jv_block_out(mc_json_visitor *j, const jv_block *b,
                         const char *name)
{
    mc_jemit_open(&j->em, NULL, false);
    mc_jemit_kstr(&j->em, "name", name);
    if (b->has_used_length) {
        mc_jemit_ku64(&j->em, "used_length", b->used_length);
    }
    jv_kcounts(j, "records", b->counts);
    mc_jemit_ku64(&j->em, "data_bytes", b->data_bytes);
    if (b->mapped) {
        mc_jemit_open(&j->em, "mapped_ram", false);
        mc_jemit_ku64(&j->em, "version", b->hdr.version);
        mc_jemit_ku64(&j->em, "page_size", b->hdr.page_size);
        mc_jemit_ku64(&j->em, "bitmap_offset", b->hdr.bitmap_offset);
        mc_jemit_ku64(&j->em, "bitmap_size", b->bitmap_size);
        mc_jemit_ku64(&j->em, "pages_offset", b->hdr.pages_offset);
        mc_jemit_ku64(&j->em, "pages", b->pages);
        if (b->bitmap_done) {
            mc_jemit_ku64(&j->em, "pages_present", b->present);
        }
        mc_jemit_close(&j->em);
    }
    mc_jemit_close(&j->em);
}

static bool jv_end_stream(mc_visitor *v, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    mc_jemit_close(&j->em); /* items */
    mc_jemit_open(&j->em, "ram_summary", false);
    mc_jemit_open(&j->em, "blocks", true);
    for (size_t i = 0; i < j->n_blocks; i++) {
        jv_block_out(j, &j->blocks[i], j->blocks[i].name);
    }
    if (j->other.used) {
        jv_block_out(j, &j->other, "(other)");
    }
    if (j->unknown.used) {
        jv_block_out(j, &j->unknown, "(unknown)");
    }
    mc_jemit_close(&j->em);
    jv_kcounts(j, "records", j->totals);
    mc_jemit_close(&j->em); /* ram_summary */
    mc_jemit_close(&j->em); /* document */
    mc_jemit_write(&j->em, "\n", 1);
    j->nfr--;
    return jv_done(j, errp);
}

static const char *jv_section_kind_name(mc_section_kind k)
{
    switch (k) {
    case MC_SECTION_VMSTATE: return "vmstate";
    case MC_SECTION_CONFIG: return "configuration";
    case MC_SECTION_RAM: return "ram";
    default: return "unknown";
    }
}

static bool jv_start_section(mc_visitor *v, const mc_section_info *info,
                             mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    bool header = info->type == MC_VM_SECTION_START ||
                  info->type == MC_VM_SECTION_FULL;
    mc_jemit_open(&j->em, NULL, false);
    mc_jemit_kstr(&j->em, "item", "section");
    mc_jemit_kstr(&j->em, "type", mc_section_type_name(info->type));
    if (info->type != MC_VM_CONFIGURATION) {
        mc_jemit_ku64(&j->em, "section_id", info->section_id);
    }
    if (info->idstr) {
        mc_jemit_kstr(&j->em, "idstr", info->idstr);
    }
    if (header) {
        mc_jemit_ku64(&j->em, "instance_id", info->instance_id);
        mc_jemit_ku64(&j->em, "version_id", info->version_id);
    }
    if (info->vmsd_name) {
        mc_jemit_kstr(&j->em, "vmsd_name", info->vmsd_name);
    }
    mc_jemit_kstr(&j->em, "kind", jv_section_kind_name(info->kind));
    jv_frame *f = jv_push(j, JF_SECTION);
    if (info->kind == MC_SECTION_RAM) {
        f->ram = true;
        mc_jemit_open(&j->em, "ram", false);
        if (j->opts.ram_records) {
            mc_jemit_open(&j->em, "records_list", true);
        }
        if (header) {
            /* a new chain: QEMU names the first block again */
            j->cur = JV_IDX_NONE;
        }
    }
    return jv_done(j, errp);
}

static bool jv_end_section(mc_visitor *v, bool footer, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    jv_frame *f = jv_top(j);
    if (f->ram) {
        if (j->opts.ram_records) {
            mc_jemit_close(&j->em); /* records_list */
        }
        jv_kcounts(j, "records", f->counts);
        mc_jemit_ku64(&j->em, "bytes", f->bytes);
        mc_jemit_close(&j->em); /* ram */
    } else {
        jv_body_close(j, f);
    }
    mc_jemit_kbool(&j->em, "footer", footer);
    mc_jemit_close(&j->em);
    j->nfr--;
    return jv_done(j, errp);
}

/* ---- values ---- */

static bool jv_visit_int(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint64_t raw, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    if (!jv_value(j, f, jv_type(f, mc_wire_type_name(wt)), errp)) {
        return false;
    }
    jv_wire_type(j, f, wt);
    mc_jemit_kscalar(&j->em, "value", wt, raw);
    mc_jemit_close(&j->em);
    return jv_done(j, errp);
}

static bool jv_visit_bytes(mc_visitor *v, const mc_field *f,
                           const uint8_t *data, size_t len, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    if (!jv_value(j, f, jv_type(f, "bytes"), errp)) {
        return false;
    }
    mc_jemit_ku64(&j->em, "length", len);
    mc_jemit_khex(&j->em, "hex", data, len);
    mc_jemit_close(&j->em);
    return jv_done(j, errp);
}

static bool jv_visit_packed(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                            uint32_t count, const uint8_t *data,
                            mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    if (!jv_value(j, f, jv_type(f, mc_wire_type_name(wt)), errp)) {
        return false;
    }
    jv_wire_type(j, f, wt);
    mc_jemit_member(&j->em, "packed");
    unsigned w = mc_wire_type_width(wt);
    char buf[1024];
    size_t k = 0;
    buf[k++] = '[';
    for (uint32_t i = 0; i < count; i++) {
        if (k + 32 > sizeof(buf)) {
            mc_jemit_write(&j->em, buf, k);
            k = 0;
        }
        if (i) {
            buf[k++] = ',';
            buf[k++] = ' ';
        }
        uint64_t raw = mc_get_be(data + (size_t)i * w, w);
        k += (size_t)mc_jemit_format_scalar(buf + k, sizeof(buf) - k, wt, raw);
    }
    buf[k++] = ']';
    mc_jemit_write(&j->em, buf, k);
    mc_jemit_close(&j->em);
    return jv_done(j, errp);
}

static bool jv_start_struct(mc_visitor *v, const mc_field *f, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    if (!jv_value(j, f, jv_type(f, "struct"), errp)) {
        return false;
    }
    jv_push(j, JF_STRUCT);
    return jv_done(j, errp);
}

static bool jv_end_struct(mc_visitor *v, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    jv_body_close(j, jv_top(j));
    mc_jemit_close(&j->em);
    j->nfr--;
    return jv_done(j, errp);
}

static bool jv_start_array(mc_visitor *v, const mc_field *f, uint32_t count,
                           mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    if (!jv_value(j, f, jv_type(f, "array"), errp)) {
        return false;
    }
    mc_jemit_ku64(&j->em, "count", count);
    mc_jemit_open(&j->em, "array", true);
    jv_push(j, JF_ARRAY);
    return jv_done(j, errp);
}

static bool jv_end_array(mc_visitor *v, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    mc_jemit_close(&j->em); /* array */
    mc_jemit_close(&j->em); /* value */
    j->nfr--;
    return jv_done(j, errp);
}

static bool jv_start_subsection(mc_visitor *v, const char *name,
                                uint32_t version_id, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    jv_frame *top = jv_top(j);
    if (top->body != JB_SUBSECTIONS) {
        if (top->body == JB_NONE) {
            mc_jemit_open(&j->em, "fields", true);
        }
        mc_jemit_close(&j->em); /* fields */
        mc_jemit_open(&j->em, "subsections", true);
        top->body = JB_SUBSECTIONS;
    }
    mc_jemit_open(&j->em, NULL, false);
    if (name) {
        mc_jemit_kstr(&j->em, "name", name);
    }
    mc_jemit_ku64(&j->em, "version_id", version_id);
    jv_push(j, JF_SUBSECTION);
    return jv_done(j, errp);
}

static bool jv_end_subsection(mc_visitor *v, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    jv_body_close(j, jv_top(j));
    mc_jemit_close(&j->em);
    j->nfr--;
    return jv_done(j, errp);
}

/* ---- RAM ---- */

static uint32_t jv_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return h;
}

/* Index of the summary of block name, created on first sight. */
static long jv_block_index(mc_json_visitor *j, const char *name)
{
    if (!j->table) {
        j->table = mc_calloc(JV_TABLE_SIZE, sizeof(*j->table));
    }
    uint32_t h = jv_hash(name) & (JV_TABLE_SIZE - 1);
    while (j->table[h]) {
        uint32_t i = j->table[h] - 1;
        if (strcmp(j->blocks[i].name, name) == 0) {
            return (long)i;
        }
        h = (h + 1) & (JV_TABLE_SIZE - 1);
    }
    if (j->n_blocks == JV_MAX_BLOCKS) {
        return JV_IDX_OTHER;
    }
    if (j->n_blocks == j->blocks_cap) {
        j->blocks_cap = j->blocks_cap ? j->blocks_cap * 2 : 16;
        j->blocks = mc_realloc(j->blocks, j->blocks_cap * sizeof(*j->blocks));
    }
    jv_block *b = &j->blocks[j->n_blocks];
    memset(b, 0, sizeof(*b));
    b->name = mc_strdup(name);
    j->table[h] = (uint32_t)j->n_blocks + 1;
    return (long)j->n_blocks++;
}

static jv_block *jv_block_at(mc_json_visitor *j, long idx)
{
    jv_block *b;
    if (idx >= 0) {
        b = &j->blocks[idx];
    } else if (idx == JV_IDX_OTHER) {
        b = &j->other;
    } else {
        b = &j->unknown;
    }
    b->used = true;
    return b;
}

static size_t jv_counted_len(const char *s)
{
    return s ? 1 + strlen(s) : 0;
}

/* The record's size in the legacy stream. */
static uint64_t jv_ram_wire_size(const mc_ram_record *rec)
{
    uint64_t n = 8 + jv_counted_len(rec->block);
    switch (rec->kind) {
    case MC_RAM_MEM_SIZE:
        n = 8;
        for (size_t i = 0; i < rec->n_blocks; i++) {
            const mc_ram_block *b = &rec->blocks[i];
            n += jv_counted_len(b->idstr) + 8 + (b->has_page_size ? 8 : 0) +
                 (b->has_addr ? 8 : 0);
        }
        return n;
    case MC_RAM_ZERO: return n + 1;
    case MC_RAM_PAGE: return n + rec->len;
    case MC_RAM_XBZRLE: return n + 3 + rec->len;
    case MC_RAM_COMPRESS: return n + 4 + rec->len;
    case MC_RAM_MAPPED_BLOCK:
        return jv_counted_len(rec->blocks->idstr) + 8 +
               (rec->blocks->has_page_size ? 8 : 0) +
               (rec->blocks->has_addr ? 8 : 0) + MC_MAPPED_RAM_HDR_SIZE;
    case MC_RAM_MAPPED_BYTES:
    case MC_RAM_MAPPED_ZEROS:
        return rec->len;
    default: return 8;
    }
}

static void jv_ram_summarize(mc_json_visitor *j, const mc_ram_record *rec)
{
    if (rec->kind == MC_RAM_MEM_SIZE) {
        for (size_t i = 0; i < rec->n_blocks; i++) {
            const mc_ram_block *rb = &rec->blocks[i];
            long idx = rb->idstr ? jv_block_index(j, rb->idstr)
                                 : JV_IDX_UNKNOWN;
            jv_block *b = jv_block_at(j, idx);
            if (idx >= 0) {
                b->has_used_length = true;
                b->used_length = rb->used_length;
            }
        }
        return;
    }
    if (rec->kind == MC_RAM_MAPPED_BLOCK || rec->kind == MC_RAM_MAPPED_BYTES ||
        rec->kind == MC_RAM_MAPPED_ZEROS) {
        const mc_mapped_block *mb = rec->mapped;
        if (!mb) {
            return;
        }
        long idx = jv_block_index(j, mb->idstr);
        jv_block *b = jv_block_at(j, idx);
        b->counts[rec->kind]++;
        if (idx < 0) {
            return;
        }
        if (rec->kind == MC_RAM_MAPPED_BLOCK) {
            b->has_used_length = true;
            b->used_length = mb->used_length;
            b->mapped = true;
            b->hdr = mb->hdr;
            b->pages = mb->pages;
            b->bitmap_size = mb->bitmap_size;
        } else if (rec->kind == MC_RAM_MAPPED_BYTES) {
            b->data_bytes += rec->len;
        }
        b->bitmap_done = mb->bitmap_done;
        b->present = mb->present;
        return;
    }
    if (rec->kind != MC_RAM_ZERO && rec->kind != MC_RAM_PAGE &&
        rec->kind != MC_RAM_XBZRLE && rec->kind != MC_RAM_COMPRESS) {
        return;
    }
    if (rec->block) {
        j->cur = jv_block_index(j, rec->block);
    }
    jv_block *b = jv_block_at(j, j->cur == JV_IDX_NONE ? JV_IDX_UNKNOWN
                                                        : j->cur);
    b->counts[rec->kind]++;
    if (rec->kind != MC_RAM_ZERO) {
        b->data_bytes += rec->len;
    }
}

/* The members of a RAM block entry of MEM_SIZE. */
static void jv_ram_block(mc_json_visitor *j, const mc_ram_block *b)
{
    mc_jemit_kstr(&j->em, "idstr", b->idstr ? b->idstr : "");
    mc_jemit_ku64(&j->em, "used_length", b->used_length);
    if (b->has_page_size) {
        mc_jemit_ku64(&j->em, "page_size", b->page_size);
    }
    if (b->has_addr) {
        mc_jemit_ku64(&j->em, "addr", b->addr);
    }
}

static void jv_ram_list(mc_json_visitor *j, const mc_ram_record *rec)
{
    mc_jemit_open(&j->em, NULL, false);
    mc_jemit_kstr(&j->em, "kind", mc_ram_kind_name(rec->kind));
    switch (rec->kind) {
    case MC_RAM_MEM_SIZE:
        mc_jemit_ku64(&j->em, "total", rec->offset);
        mc_jemit_open(&j->em, "blocks", true);
        for (size_t i = 0; i < rec->n_blocks; i++) {
            mc_jemit_open(&j->em, NULL, false);
            jv_ram_block(j, &rec->blocks[i]);
            mc_jemit_close(&j->em);
        }
        mc_jemit_close(&j->em);
        break;
    case MC_RAM_ZERO:
    case MC_RAM_PAGE:
    case MC_RAM_XBZRLE:
    case MC_RAM_COMPRESS:
        mc_jemit_ku64(&j->em, "offset", rec->offset);
        if (rec->block) {
            mc_jemit_kstr(&j->em, "block", rec->block);
        }
        if (rec->kind == MC_RAM_ZERO) {
            mc_jemit_ku64(&j->em, "fill", rec->fill);
            break;
        }
        if (rec->kind == MC_RAM_XBZRLE) {
            mc_jemit_ku64(&j->em, "encoding", rec->encoding);
        }
        mc_jemit_ku64(&j->em, "length", rec->len);
        break;
    case MC_RAM_MAPPED_BLOCK: {
        jv_ram_block(j, rec->blocks);
        if (rec->mapped_hdr) {
            mc_jemit_open(&j->em, "header", false);
            mc_jemit_ku64(&j->em, "version", rec->mapped_hdr->version);
            mc_jemit_ku64(&j->em, "page_size", rec->mapped_hdr->page_size);
            mc_jemit_ku64(&j->em, "bitmap_offset",
                          rec->mapped_hdr->bitmap_offset);
            mc_jemit_ku64(&j->em, "pages_offset",
                          rec->mapped_hdr->pages_offset);
            mc_jemit_close(&j->em);
        }
        break;
    }
    case MC_RAM_MAPPED_BYTES:
    case MC_RAM_MAPPED_ZEROS:
        mc_jemit_ku64(&j->em, "file_offset", rec->offset);
        mc_jemit_ku64(&j->em, "length", rec->len);
        break;
    default: /* EOS, MULTIFD_FLUSH: the offset is normally zero */
        if (rec->offset) {
            mc_jemit_ku64(&j->em, "offset", rec->offset);
        }
        break;
    }
    mc_jemit_close(&j->em);
}

static bool jv_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    jv_frame *f = jv_top(j);
    if ((unsigned)rec->kind >= MC_RAM__COUNT) {
        return jv_fail(j, "ram", "invalid ram record kind", errp);
    }
    f->counts[rec->kind]++;
    f->bytes += jv_ram_wire_size(rec);
    j->totals[rec->kind]++;
    jv_ram_summarize(j, rec);
    if (j->opts.ram_records) {
        jv_ram_list(j, rec);
    }
    return jv_done(j, errp);
}

/* ---- items ---- */

static bool jv_command(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                       uint16_t len, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    mc_jemit_open(&j->em, NULL, false);
    mc_jemit_kstr(&j->em, "item", "command");
    mc_jemit_ku64(&j->em, "cmd", cmd);
    mc_jemit_kstr(&j->em, "name", mc_command_name(cmd));
    mc_jemit_ku64(&j->em, "length", len);
    mc_jemit_khex(&j->em, "hex", data, len);
    mc_jemit_close(&j->em);
    return jv_done(j, errp);
}

static bool jv_start_packaged(mc_visitor *v, uint32_t len, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    mc_jemit_open(&j->em, NULL, false);
    mc_jemit_kstr(&j->em, "item", "packaged");
    mc_jemit_ku64(&j->em, "length", len);
    mc_jemit_open(&j->em, "items", true);
    jv_push(j, JF_PACKAGED);
    return jv_done(j, errp);
}

static bool jv_end_packaged(mc_visitor *v, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    mc_jemit_close(&j->em); /* items */
    mc_jemit_close(&j->em);
    j->nfr--;
    return jv_done(j, errp);
}

static bool jv_eof(mc_visitor *v, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    mc_jemit_open(&j->em, NULL, false);
    mc_jemit_kstr(&j->em, "item", "eof");
    mc_jemit_close(&j->em);
    return jv_done(j, errp);
}

static bool jv_vmdesc(mc_visitor *v, const uint8_t *json, size_t len,
                      mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    mc_jemit_open(&j->em, NULL, false);
    mc_jemit_kstr(&j->em, "item", "vmdesc");
    mc_jemit_ku64(&j->em, "length", len);
    mc_jemit_close(&j->em);
    return jv_done(j, errp);
}

static bool jv_complete(mc_visitor *v, mc_error **errp)
{
    mc_json_visitor *j = jv_of(v);
    return jv_done(j, errp) && mc_sink_flush(j->em.out, errp);
}

static void jv_free(mc_visitor *v)
{
    mc_json_visitor *j = jv_of(v);
    for (size_t i = 0; i < j->n_blocks; i++) {
        free(j->blocks[i].name);
    }
    free(j->blocks);
    free(j->table);
    free(j->fr);
    mc_jemit_release(&j->em);
    free(j);
}

static const mc_visitor_ops jv_ops = {
    .start_stream = jv_start_stream,
    .end_stream = jv_end_stream,
    .start_section = jv_start_section,
    .end_section = jv_end_section,
    .visit_int = jv_visit_int,
    .visit_bytes = jv_visit_bytes,
    .visit_packed = jv_visit_packed,
    .start_struct = jv_start_struct,
    .end_struct = jv_end_struct,
    .start_array = jv_start_array,
    .end_array = jv_end_array,
    .start_subsection = jv_start_subsection,
    .end_subsection = jv_end_subsection,
    .ram_record = jv_ram_record,
    .command = jv_command,
    .start_packaged = jv_start_packaged,
    .end_packaged = jv_end_packaged,
    .eof = jv_eof,
    .vmdesc = jv_vmdesc,
    .complete = jv_complete,
    .free = jv_free,
};

mc_visitor *mc_json_visitor_new(mc_sink *out, const mc_json_opts *opts)
{
    mc_json_visitor *j = mc_calloc(1, sizeof(*j));
    j->base.ops = &jv_ops;
    j->em.out = out;
    if (opts) {
        j->opts = *opts;
    }
    j->cur = JV_IDX_NONE;
    return &j->base;
}
