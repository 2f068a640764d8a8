/* The registry of field codecs (legacy/field_codec.h). */
#include <string.h>

#include "legacy/field_codec.h"

static const mc_field_codec *const codecs[] = {
    &mc_virtio_codec,
};

const mc_field_codec *mc_field_codec_find(const char *type)
{
    if (!type) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
        if (strcmp(codecs[i]->type, type) == 0) {
            return codecs[i];
        }
    }
    return NULL;
}
