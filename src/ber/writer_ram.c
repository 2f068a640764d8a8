/*
 * BER writer, RAM sections (see writer.c for the framing): records are
 * buffered while the section stays within MC_BER_RAM_DEFINITE_MAX bytes
 * (definite form), else streamed (indefinite form).  Consecutive zero
 * pages and full pages that continue each other are merged into ZeroRun /
 * PageRun records (a page run holds at most MC_BER_RUN_MAX_BYTES of data)
 * and encoded by hand when the run ends.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/ber.h"
#include "core/der.h"
#include "core/mapped_ram.h"
#include "core/util.h"
#include "ber/writer_impl.h"

static bool ram_switch_indef(ber_writer *w, mc_error **errp)
{
    static const uint8_t sec[2] = {MC_BER_RAMSECTION, 0x80};
    static const uint8_t recs[2] = {MC_BER_SEQ, 0x80};
    w->ram_indef = true;
    bool ok = mc_bw_out_write(w, sec, 2, errp) &&
              mc_bw_out_write(w, w->ram_hdr.p, w->ram_hdr.len, errp) &&
              mc_bw_out_write(w, recs, 2, errp) &&
              mc_bw_out_write(w, w->ram_buf.p, w->ram_buf.len, errp);
    w->ram_buf.len = 0;
    return ok;
}

/* Emit one complete record: head followed by data (data may be empty). */
static bool ram_emit(ber_writer *w, const uint8_t *head, size_t hn,
                     const uint8_t *data, size_t dn, mc_error **errp)
{
    if (!w->ram_indef) {
        if (w->ram_buf.len + hn + dn <= MC_BER_RAM_DEFINITE_MAX) {
            mc_der_put(&w->ram_buf, head, hn);
            mc_der_put(&w->ram_buf, data, dn);
            return true;
        }
        if (!ram_switch_indef(w, errp)) {
            return false;
        }
    }
    return mc_bw_out_write(w, head, hn, errp) &&
           (dn == 0 || mc_bw_out_write(w, data, dn, errp));
}

/* INTEGER offset and optional [0] block name, the start of every page
 * record's content; returns the encoded length. */
static size_t page_prefix_len(uint64_t offset, const char *block, size_t *bn)
{
    uint8_t tmp[11];
    *bn = block ? strlen(block) : 0;
    size_t n = mc_der_uint_tlv(tmp, MC_BER_INTEGER, offset);
    if (block) {
        uint8_t l[9];
        n += 1 + mc_der_len(l, *bn) + *bn;
    }
    return n;
}

static void put_page_prefix(mc_der_buf *d, uint64_t offset, const char *block)
{
    mc_der_put_uint(d, MC_BER_INTEGER, offset);
    if (block) {
        mc_der_put_str(d, MC_BER_CTX | 0, block);
    }
}

/*
 * Encode a record made of: offset, [block], extra small TLVs (already
 * encoded in extra/en), and, if with_data, an OCTET STRING of dn bytes
 * whose bytes follow separately.  The head (everything but the data
 * bytes) is left in w->scratch.
 */
static void encode_page_head(ber_writer *w, uint8_t tag, uint64_t offset,
                             const char *block, const uint8_t *extra,
                             size_t en, bool with_data, size_t dn)
{
    size_t bn;
    uint64_t content = page_prefix_len(offset, block, &bn) + en;
    uint8_t l[9];
    if (with_data) {
        content += 1 + mc_der_len(l, dn) + dn;
    }
    mc_der_buf *d = &w->scratch;
    d->len = 0;
    mc_der_put_tl(d, tag, content);
    put_page_prefix(d, offset, block);
    mc_der_put(d, extra, en);
    if (with_data) {
        mc_der_put_tl(d, MC_BER_OCTETS, dn);
    }
}

static bool flush_run(ber_writer *w, mc_error **errp)
{
    if (w->run == RUN_NONE) {
        return true;
    }
    const char *block = w->run_has_block ? w->run_block : NULL;
    run_kind kind = w->run;
    w->run = RUN_NONE;
    if (kind == RUN_ZERO) {
        uint8_t extra[22];
        size_t en = 0;
        if (w->run_count != 1) {
            en += mc_der_uint_tlv(extra + en, MC_BER_CTX | 1, w->run_count);
        }
        if (w->run_fill != 0) {
            en += mc_der_uint_tlv(extra + en, MC_BER_CTX | 2, w->run_fill);
        }
        encode_page_head(w, MC_BER_RAM_ZERO, w->run_offset, block, extra, en,
                         false, 0);
        return ram_emit(w, w->scratch.p, w->scratch.len, NULL, 0, errp);
    }
    size_t dn = (size_t)w->run_count * w->page_size;
    encode_page_head(w, MC_BER_RAM_PAGES, w->run_offset, block, NULL, 0, true, dn);
    return ram_emit(w, w->scratch.p, w->scratch.len, w->run_data, dn, errp);
}

static void start_run(ber_writer *w, run_kind kind, const mc_ram_record *rec)
{
    w->run = kind;
    w->run_offset = rec->offset;
    w->run_count = 1;
    w->run_fill = rec->fill;
    w->run_has_block = rec->block != NULL;
    if (rec->block) {
        strcpy(w->run_block, rec->block);   /* checked: at most 255 bytes */
    }
    w->run_next_ok = rec->offset <= UINT64_MAX - w->page_size;
    w->run_next = rec->offset + w->page_size;
    if (kind == RUN_PAGE) {
        if (!w->run_data) {
            w->run_data = mc_malloc((size_t)w->run_max_pages * w->page_size);
        }
        memcpy(w->run_data, rec->data, w->page_size);
    }
}

/* Does rec continue the pending run? */
static bool run_extends(ber_writer *w, run_kind kind, const mc_ram_record *rec)
{
    if (w->run != kind || rec->block || !w->run_next_ok ||
        rec->offset != w->run_next) {
        return false;
    }
    if (kind == RUN_ZERO) {
        return rec->fill == w->run_fill && w->run_count < UINT64_MAX;
    }
    return w->run_count < w->run_max_pages;
}

/* RamBlock: name, used length, optional page size and address */
static bool put_ram_block(mc_der_buf *d, const mc_ram_block *b,
                          mc_error **errp)
{
    if (!mc_bw_check_counted(b->idstr, "RAM block name", errp) ||
        !mc_der_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    mc_der_put_str(d, MC_BER_UTF8, b->idstr);
    mc_der_put_uint(d, MC_BER_INTEGER, b->used_length);
    if (b->has_page_size) {
        mc_der_put_uint(d, MC_BER_CTX | 0, b->page_size);
    }
    if (b->has_addr) {
        mc_der_put_uint(d, MC_BER_CTX | 1, b->addr);
    }
    mc_der_close(d);
    return true;
}

static bool encode_mem_size(ber_writer *w, const mc_ram_record *rec,
                            mc_error **errp)
{
    mc_der_buf *d = &w->scratch;
    d->len = 0;
    d->n_open = 0;
    if (!mc_der_open(d, MC_BER_RAM_MEMSIZE, errp)) {
        return false;
    }
    mc_der_put_uint(d, MC_BER_INTEGER, rec->offset);
    if (!mc_der_open(d, MC_BER_SEQ, errp)) {
        return false;
    }
    for (size_t i = 0; i < rec->n_blocks; i++) {
        if (!put_ram_block(d, &rec->blocks[i], errp)) {
            return false;
        }
    }
    mc_der_close(d);
    mc_der_close(d);
    return true;
}

/* MappedBlock: the block entry and its MappedRamHeader. */
static bool encode_mapped_block(ber_writer *w, const mc_ram_record *rec,
                                mc_error **errp)
{
    if (rec->n_blocks != 1 || !rec->blocks || !rec->mapped_hdr) {
        return mc_bw_misuse(errp, "mapped_block record without its block "
                            "and header");
    }
    const mc_ram_block *b = rec->blocks;
    const mc_mapped_ram_header *h = rec->mapped_hdr;
    mc_der_buf *d = &w->scratch;
    d->len = 0;
    d->n_open = 0;
    if (!mc_der_open(d, MC_BER_RAM_MAPPED_BLOCK, errp) ||
        !put_ram_block(d, b, errp)) {
        return false;
    }
    mc_der_put_uint(d, MC_BER_INTEGER, h->version);
    mc_der_put_uint(d, MC_BER_INTEGER, h->page_size);
    mc_der_put_uint(d, MC_BER_INTEGER, h->bitmap_offset);
    mc_der_put_uint(d, MC_BER_INTEGER, h->pages_offset);
    mc_der_close(d);
    return ram_emit(w, d->p, d->len, NULL, 0, errp);
}

bool mc_bw_ram_record(mc_visitor *v, const mc_ram_record *rec,
                          mc_error **errp)
{
    ber_writer *w = mc_bw_of(v);
    if (rec->block && !mc_bw_check_counted(rec->block, "RAM block name", errp)) {
        return false;
    }
    switch (rec->kind) {
    case MC_RAM_ZERO:
        if (run_extends(w, RUN_ZERO, rec)) {
            w->run_count++;
            w->run_next_ok = w->run_next <= UINT64_MAX - w->page_size;
            w->run_next += w->page_size;
            return true;
        }
        if (!flush_run(w, errp)) {
            return false;
        }
        start_run(w, RUN_ZERO, rec);
        return true;
    case MC_RAM_PAGE:
        if (rec->len != w->page_size) {
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "page record of %zu bytes in a stream with "
                          "%u-byte pages", rec->len, w->page_size);
            return false;
        }
        if (run_extends(w, RUN_PAGE, rec)) {
            memcpy(w->run_data + (size_t)w->run_count * w->page_size,
                   rec->data, w->page_size);
            w->run_count++;
            w->run_next_ok = w->run_next <= UINT64_MAX - w->page_size;
            w->run_next += w->page_size;
            return true;
        }
        if (!flush_run(w, errp)) {
            return false;
        }
        start_run(w, RUN_PAGE, rec);
        return true;
    default:
        break;
    }
    if (!flush_run(w, errp)) {
        return false;
    }
    switch (rec->kind) {
    case MC_RAM_MEM_SIZE:
        if (rec->block) {
            return mc_bw_misuse(errp, "mem_size record with a block name");
        }
        if (!encode_mem_size(w, rec, errp)) {
            return false;
        }
        return ram_emit(w, w->scratch.p, w->scratch.len, NULL, 0, errp);
    case MC_RAM_XBZRLE: {
        uint8_t extra[11];
        size_t en = 0;
        if (rec->encoding != 1) {
            en = mc_der_uint_tlv(extra, MC_BER_CTX | 1, rec->encoding);
        }
        encode_page_head(w, MC_BER_RAM_XBZRLE, rec->offset, rec->block, extra, en,
                         true, rec->len);
        return ram_emit(w, w->scratch.p, w->scratch.len, rec->data, rec->len,
                        errp);
    }
    case MC_RAM_COMPRESS:
        encode_page_head(w, MC_BER_RAM_COMPRESSED, rec->offset, rec->block, NULL, 0,
                         true, rec->len);
        return ram_emit(w, w->scratch.p, w->scratch.len, rec->data, rec->len,
                        errp);
    case MC_RAM_MAPPED_BLOCK:
        return encode_mapped_block(w, rec, errp);
    case MC_RAM_MAPPED_BYTES:
        encode_page_head(w, MC_BER_RAM_MAPPED_BYTES, rec->offset, NULL, NULL,
                         0, true, rec->len);
        return ram_emit(w, w->scratch.p, w->scratch.len, rec->data, rec->len,
                        errp);
    case MC_RAM_MAPPED_ZEROS: {
        uint8_t extra[11];
        size_t en = mc_der_uint_tlv(extra, MC_BER_INTEGER, rec->len);
        encode_page_head(w, MC_BER_RAM_MAPPED_ZEROS, rec->offset, NULL, extra,
                         en, false, 0);
        return ram_emit(w, w->scratch.p, w->scratch.len, NULL, 0, errp);
    }
    case MC_RAM_EOS:
    case MC_RAM_MULTIFD_FLUSH: {
        if (rec->offset != 0 || rec->block) {
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "%s record with an offset or block name cannot be "
                          "encoded", mc_ram_kind_name(rec->kind));
            return false;
        }
        uint8_t tlv[2] = {rec->kind == MC_RAM_EOS ? MC_BER_RAM_EOS : MC_BER_RAM_FLUSH, 0};
        return ram_emit(w, tlv, 2, NULL, 0, errp);
    }
    default:
        return mc_bw_misuse(errp, "unknown RAM record kind");
    }
}

bool mc_bw_end_ram_section(ber_writer *w, bool footer, mc_error **errp)
{
    static const uint8_t foot[2] = {MC_BER_CTX | 0, 0};
    static const uint8_t eoc[2] = {0, 0};
    if (!flush_run(w, errp)) {
        return false;
    }
    if (w->ram_indef) {
        return mc_bw_out_write(w, eoc, 2, errp) &&
               (!footer || mc_bw_out_write(w, foot, 2, errp)) &&
               mc_bw_out_write(w, eoc, 2, errp);
    }
    uint8_t sec_tl[10], rec_tl[10];
    size_t rn = w->ram_buf.len;
    unsigned rtl = mc_der_tl(rec_tl, MC_BER_SEQ, rn);
    uint64_t content = w->ram_hdr.len + rtl + rn + (footer ? 2 : 0);
    unsigned stl = mc_der_tl(sec_tl, MC_BER_RAMSECTION, content);
    return mc_bw_out_write(w, sec_tl, stl, errp) &&
           mc_bw_out_write(w, w->ram_hdr.p, w->ram_hdr.len, errp) &&
           mc_bw_out_write(w, rec_tl, rtl, errp) &&
           mc_bw_out_write(w, w->ram_buf.p, rn, errp) &&
           (!footer || mc_bw_out_write(w, foot, 2, errp));
}
