/* The table of live-section codecs (see live.h). */
#include "read/live.h"

#include <string.h>

/* Each codec file defines its mc_live_codec objects; list them here. */
extern const mc_live_codec *const mc_live_codecs_x86[];
extern const mc_live_codec *const mc_live_codecs_other[];

const mc_live_codec *mc_live_codec_find(const char *idstr)
{
    const mc_live_codec *const *lists[] = {mc_live_codecs_x86,
                                           mc_live_codecs_other};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        for (const mc_live_codec *const *c = lists[l]; *c; c++) {
            if (strcmp((*c)->idstr, idstr) == 0) {
                return *c;
            }
        }
    }
    return NULL;
}
