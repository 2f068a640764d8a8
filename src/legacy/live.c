/* The table of live-section codecs (see live.h). */
#include "legacy/live.h"

#include <string.h>

/* One row per codec; each is defined in its own live_*.c. */
static const mc_live_codec *const codecs[] = {
    &mc_live_block,
    &mc_live_dirty_bitmap,
    &mc_live_htab,
    &mc_live_s390_stattr,
    &mc_live_s390_skeys,
};

const mc_live_codec *mc_live_codec_find(const char *idstr)
{
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
        if (strcmp(codecs[i]->idstr, idstr) == 0) {
            return codecs[i];
        }
    }
    return NULL;
}
