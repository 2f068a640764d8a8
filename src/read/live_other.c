/* Live-section codecs of other targets: spapr/htab, s390 storage attributes. */
#include "read/live.h"

const mc_live_codec *const mc_live_codecs_other[] = {
    NULL,
};
