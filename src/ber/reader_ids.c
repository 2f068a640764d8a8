/*
 * The BER reader: section ids, a hash from a section id to the idstr of
 * its START/FULL (PART/END sections carry only the id).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/ber.h"
#include "core/path.h"
#include "core/stream.h"
#include "core/util.h"
#include "core/visitor.h"
#include "desc/desc.h"
#include "ber/reader_impl.h"
#include "format/readers.h"

/* ---- section ids ---- */

static size_t id_hash(uint32_t id, size_t cap)
{
    return (size_t)((id * UINT32_C(2654435761)) & (cap - 1));
}

static id_slot *id_find(reader *r, uint32_t id)
{
    if (!r->ids_cap) {
        return NULL;
    }
    for (size_t i = id_hash(id, r->ids_cap);; i = (i + 1) & (r->ids_cap - 1)) {
        id_slot *s = &r->ids[i];
        if (!s->idstr || s->id == id) {
            return s;
        }
    }
}

void mc_br_id_put(reader *r, uint32_t id, const char *idstr)
{
    if ((r->ids_used + 1) * 2 > r->ids_cap) {
        id_slot *old = r->ids;
        size_t old_cap = r->ids_cap;
        r->ids_cap = old_cap ? old_cap * 2 : 16;
        r->ids = mc_calloc(r->ids_cap, sizeof(*r->ids));
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i].idstr) {
                *id_find(r, old[i].id) = old[i];
            }
        }
        free(old);
    }
    id_slot *s = id_find(r, id);
    if (s->idstr) {
        free(s->idstr);
    } else {
        r->ids_used++;
    }
    s->id = id;
    s->idstr = mc_strdup(idstr);
}

const char *mc_br_id_lookup(reader *r, uint32_t id)
{
    id_slot *s = id_find(r, id);
    return s && s->idstr ? s->idstr : NULL;
}
