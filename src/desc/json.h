/* Descriptions from JSON objects (vmdesc and descriptor tables share the
 * vmdesc's field layout). */
#ifndef MC_DESC_JSON_H
#define MC_DESC_JSON_H

#include <jansson.h>

#include "desc/desc.h"

/* Limits on JSON parsed from the input (desc/json_limit.c). */
#define MC_JSON_MAX_DEPTH 64
#define MC_JSON_BYTES_PER_UNIT 3

typedef struct mc_json_limit {
    size_t max_bytes;    /* the text; units at most max_bytes / 3 */
    const char *what;    /* "vmdesc", "tables": for messages */
    const char *option;  /* the option that raises max_bytes */
} mc_json_limit;

/* The tree of text, or NULL with a data error (too large, too deep, too
 * many elements, invalid) or an internal one (out of memory). */
json_t *mc_json_parse(const uint8_t *text, size_t len,
                      const mc_json_limit *lim, mc_error **errp);

/* A vmsd object {"vmsd_name","version","fields",["subsections"]}. */
bool mc_desc_vmsd_from_json(json_t *o, const char *what, mc_desc_vmsd *m,
                            mc_error **errp);

#endif
