/*
 * A mapped-ram block's header and region from a legacy stream (see
 * read/mapped_ram_read.h).
 */
#include <string.h>

#include "core/util.h"
#include "read/mapped_ram_read.h"

#define CHUNK (1u << 20)

static bool all_zero(const uint8_t *p, size_t n)
{
    static const uint8_t zeros[4096];
    while (n > 0) {
        size_t c = n < sizeof(zeros) ? n : sizeof(zeros);
        if (memcmp(p, zeros, c) != 0) {
            return false;
        }
        p += c;
        n -= c;
    }
    return true;
}

typedef struct region_out {
    mc_visitor *v;
    mc_mapped_block *b;
    const char *path;
    uint64_t zero_at;      /* a pending run of zeros */
    uint64_t zero_len;
} region_out;

static bool emit(region_out *o, mc_ram_kind kind, uint64_t off,
                 const uint8_t *data, uint64_t len, mc_error **errp)
{
    if (!mc_mapped_block_feed(o->b, off, data, len, off, o->path, errp)) {
        return false;
    }
    mc_ram_record rec = {
        .kind = kind, .offset = off, .data = data, .len = (size_t)len,
        .mapped = o->b,
    };
    return mc_visit_ram_record(o->v, &rec, errp);
}

static bool flush_zeros(region_out *o, mc_error **errp)
{
    if (o->zero_len == 0) {
        return true;
    }
    uint64_t at = o->zero_at, n = o->zero_len;
    o->zero_len = 0;
    return emit(o, MC_RAM_MAPPED_ZEROS, at, NULL, n, errp);
}

bool mc_mapped_ram_read_block(mc_src *src, mc_visitor *v,
                              const mc_ram_block *b, uint32_t page_size,
                              mc_mapped_block *state, const char *path,
                              mc_error **errp)
{
    uint64_t at = mc_src_offset(src);
    const uint8_t *p;
    if (!mc_src_take(src, MC_MAPPED_RAM_HDR_SIZE, &p, errp)) {
        return false;
    }
    mc_mapped_ram_header h;
    mc_mapped_ram_header_decode(p, &h);
    if (!mc_mapped_block_begin(state, b->idstr, b->used_length, &h, at,
                               page_size, mc_src_file_size(src), path,
                               errp)) {
        return false;
    }
    mc_ram_record rec = {
        .kind = MC_RAM_MAPPED_BLOCK, .blocks = b, .n_blocks = 1,
        .mapped_hdr = &h, .mapped = state,
    };
    if (!mc_visit_ram_record(v, &rec, errp)) {
        return false;
    }
    region_out o = {.v = v, .b = state, .path = path};
    while (mc_src_offset(src) < state->end) {
        uint64_t off = mc_src_offset(src);
        /* up to the next CHUNK boundary of the file */
        uint64_t n = CHUNK - off % CHUNK;
        if (n > state->end - off) {
            n = state->end - off;
        }
        if (!mc_src_take(src, (size_t)n, &p, errp)) {
            return false;
        }
        /* page-aligned pieces: zero ones join the pending run, the others
         * go out together */
        uint64_t data_at = 0, data_len = 0;
        for (uint64_t q = off; q < off + n;) {
            uint64_t e = q - q % page_size + page_size;
            if (e > off + n) {
                e = off + n;
            }
            const uint8_t *piece = p + (q - off);
            if (all_zero(piece, (size_t)(e - q))) {
                if (data_len && !emit(&o, MC_RAM_MAPPED_BYTES, data_at,
                                      p + (data_at - off), data_len, errp)) {
                    return false;
                }
                data_len = 0;
                if (o.zero_len == 0) {
                    o.zero_at = q;
                }
                o.zero_len += e - q;
            } else {
                if (!flush_zeros(&o, errp)) {
                    return false;
                }
                if (data_len == 0) {
                    data_at = q;
                }
                data_len += e - q;
            }
            q = e;
        }
        if (data_len && !emit(&o, MC_RAM_MAPPED_BYTES, data_at,
                              p + (data_at - off), data_len, errp)) {
            return false;
        }
    }
    if (!flush_zeros(&o, errp)) {
        return false;
    }
    mc_mapped_block_clear(state);
    return true;
}
