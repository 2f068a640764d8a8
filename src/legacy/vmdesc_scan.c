#include "legacy/vmdesc_scan.h"

#include "core/stream.h"
#include "core/util.h"
#include "desc/desc.h"

bool mc_vmdesc_scan_enough(void *opaque, const uint8_t *p, size_t n, bool eof)
{
    mc_vmdesc_scan *sc = opaque;
    size_t i = sc->next < 1 ? 1 : sc->next;
    for (; i + 5 < n; i++) {
        if (p[i] != MC_VM_VMDESCRIPTION || p[i - 1] != MC_VM_EOF ||
            p[i + 5] != '{') {
            continue;
        }
        uint32_t len = mc_be32(p + i + 1);
        if (len > sc->limit) {
            continue;
        }
        if (len > n - i - 5) {
            if (eof) {
                continue;
            }
            break; /* look again when the rest of it is buffered */
        }
        mc_vmdesc *d = NULL;
        mc_error *err = NULL;
        if (mc_vmdesc_parse(p + i + 5, len, sc->limit, &d, &err)) {
            sc->next = i;
            sc->at = i;
            sc->end = i + 5 + len;
            sc->vmdesc = d;
            sc->found = true;
            return true;
        }
        if (err->cls != MC_ERR_DATA) {
            sc->next = i;
            sc->at = i;
            sc->err = err;
            return true;
        }
        mc_error_free(err);
    }
    sc->next = i;
    return false;
}
