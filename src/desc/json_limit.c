/*
 * Parsing JSON from the input (the vmdesc, --tables files) with a bound on
 * memory.  jansson builds the whole tree, and a tree costs far more than
 * its text: an empty object "{}" is 3 bytes of text but about 230 bytes of
 * tree, so a vmdesc of 60 MiB of "{}," needed 4.8 GB.  Before jansson sees
 * the text, one pass counts what the tree will hold in units that follow
 * what jansson allocates: an object 4, an array 2, a string or key 1 more
 * than any other value, each value 1 (counted at its "," or ":").  Measured
 * with jansson 2.14, every kind of element costs 40-50 bytes of tree per
 * unit, and a vmdesc as QEMU writes it has one unit per 3.5-4 bytes of
 * text.  Text larger than its limit, nesting deeper than MC_JSON_MAX_DEPTH
 * or holding more than limit / MC_JSON_BYTES_PER_UNIT units is refused, so
 * a tree never costs more than about 17 bytes per byte of the limit, and
 * any vmdesc QEMU writes within the size limit is within the unit limit.
 */
#include "desc/json.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Where the text breaks a limit, or SIZE_MAX; *why says which. */
static size_t scan(const uint8_t *p, size_t len, size_t max_units,
                   const char **why)
{
    size_t units = 1;
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            units++;
            break;
        case '{':
        case '[':
            if (++depth > MC_JSON_MAX_DEPTH) {
                *why = "depth";
                return i;
            }
            units += c == '{' ? 4 : 2;
            break;
        case '}':
        case ']':
            if (depth > 0) {
                depth--;
            }
            continue;
        case ',':
        case ':':
            units++;
            break;
        default:
            continue;
        }
        if (units > max_units) {
            *why = "units";
            return i;
        }
    }
    return SIZE_MAX;
}

json_t *mc_json_parse(const uint8_t *text, size_t len,
                      const mc_json_limit *lim, mc_error **errp)
{
    if (len > lim->max_bytes) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s of %zu bytes exceeds the limit of %zu bytes "
                      "(raise it with %s)", lim->what, len, lim->max_bytes,
                      lim->option);
        return NULL;
    }
    const char *why = NULL;
    size_t max_units = lim->max_bytes / MC_JSON_BYTES_PER_UNIT;
    size_t at = scan(text, len, max_units ? max_units : 1, &why);
    if (at != SIZE_MAX && strcmp(why, "depth") == 0) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s JSON nests deeper than %d levels at byte %zu",
                      lim->what, MC_JSON_MAX_DEPTH, at);
        return NULL;
    }
    if (at != SIZE_MAX) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s JSON holds more elements at byte %zu than its "
                      "limit of %zu bytes allows (%zu units; raise it with %s)",
                      lim->what, at, lim->max_bytes, max_units, lim->option);
        return NULL;
    }
    json_error_t jerr;
    memset(&jerr, 0, sizeof(jerr));
    json_t *root = json_loadb((const char *)text, len, 0, &jerr);
    if (!root) {
        /* jansson reports most allocation failures with no error at all
         * (empty text, the code byte left as it was): out of memory too.
         * Every syntax error has a text. */
        if (json_error_code(&jerr) == json_error_out_of_memory ||
            !jerr.text[0]) {
            mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                         "out of memory parsing the %s JSON (%zu bytes)",
                         lim->what, len);
        } else {
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "invalid %s JSON at byte %d: %s", lim->what,
                          jerr.position, jerr.text);
        }
        return NULL;
    }
    return root;
}
