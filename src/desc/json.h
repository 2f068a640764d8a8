/* Descriptions from JSON objects (vmdesc and descriptor tables share the
 * vmdesc's field layout). */
#ifndef MC_DESC_JSON_H
#define MC_DESC_JSON_H

#include <jansson.h>

#include "desc/desc.h"

/* A vmsd object {"vmsd_name","version","fields",["subsections"]}. */
bool mc_desc_vmsd_from_json(json_t *o, const char *what, mc_desc_vmsd *m,
                            mc_error **errp);

#endif
