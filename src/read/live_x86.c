/* Live-section codecs: block migration and dirty bitmaps. */
#include "read/live.h"

const mc_live_codec *const mc_live_codecs_x86[] = {
    NULL,
};
