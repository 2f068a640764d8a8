/*
 * QEMU's -dump-vmstate JSON (the input of scripts/vmstate-static-checker.py)
 * as a learnt schema, for schema --diff.  It gives per vmsd the fields'
 * names and element sizes (and, since QEMU 8.1, array lengths "num") and
 * the subsections, but no wire types: fields become MC_SN_SIZED nodes, and
 * fields with a "Description" nested structs.
 *
 *   {"vmschkmachine": {"Name": MACHINE},
 *    "DEVICE-TYPE": {"Name", "version_id", "minimum_version_id",
 *                    "Description": VMSD}, ...}
 *   VMSD = {"name", "version_id", "minimum_version_id",
 *           "Fields": [{"field", "version_id", "field_exists", ["num"],
 *                       "size", ["Description": VMSD]}],
 *           "Subsections": [VMSD, ...]}
 */
#include <jansson.h>
#include <string.h>

#include "core/util.h"
#include "visit/schema.h"

#define MAX_DEPTH 64

static bool vmsd_body(mc_schema *s, json_t *vmsd, mc_snode *body, int depth,
                      mc_error **errp);

/* Add a subsection's (or device's) vmsd as a type of its own. */
static bool add_vmsd(mc_schema *s, json_t *vmsd, bool is_sub, int depth,
                     mc_error **errp)
{
    const char *name = json_string_value(json_object_get(vmsd, "name"));
    json_t *ver = json_object_get(vmsd, "version_id");
    if (!name || !json_is_integer(ver)) {
        mc_error_data(errp, MC_NO_OFFSET, name,
                      "-dump-vmstate: a description without name or "
                      "version_id");
        return false;
    }
    mc_snode *body = mc_snode_new(MC_SN_STRUCT, NULL, NULL);
    if (!vmsd_body(s, vmsd, body, depth, errp)) {
        mc_snode_free(body);
        return false;
    }
    mc_schema_add(s, name, false, is_sub, MC_ST_FULL,
                  (uint32_t)json_integer_value(ver), NULL, body);
    return true;
}

static bool vmsd_body(mc_schema *s, json_t *vmsd, mc_snode *body, int depth,
                      mc_error **errp)
{
    if (depth > MAX_DEPTH) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "-dump-vmstate: descriptions nested too deep");
        return false;
    }
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(vmsd, "Fields"), i, f) {
        const char *name = json_string_value(json_object_get(f, "field"));
        json_t *desc = json_object_get(f, "Description");
        mc_snode *n;
        if (desc) {
            n = mc_snode_new(MC_SN_STRUCT, name, NULL);
            /* elements: "num" when given, else unknown */
            n->lo = 1;
            n->hi = (uint64_t)json_integer_value(json_object_get(f, "num"));
            if (!vmsd_body(s, desc, n, depth + 1, errp)) {
                mc_snode_free(n);
                return false;
            }
        } else {
            n = mc_snode_new(MC_SN_SIZED, name, NULL);
            n->lo = (uint64_t)json_integer_value(json_object_get(f, "size"));
            n->hi = (uint64_t)json_integer_value(json_object_get(f, "num"));
        }
        if (json_is_true(json_object_get(f, "field_exists"))) {
            n->type = mc_strdup("field_exists");
        }
        mc_snode_add_kid(body, n);
    }
    json_t *sub;
    json_array_foreach(json_object_get(vmsd, "Subsections"), i, sub) {
        const char *name = json_string_value(json_object_get(sub, "name"));
        json_t *ver = json_object_get(sub, "version_id");
        if (!name || !json_is_integer(ver)) {
            mc_error_data(errp, MC_NO_OFFSET, NULL,
                          "-dump-vmstate: a subsection without name or "
                          "version_id");
            return false;
        }
        mc_snode_add_sub(body, name, (uint32_t)json_integer_value(ver));
        if (!add_vmsd(s, sub, true, depth + 1, errp)) {
            return false;
        }
    }
    return true;
}

bool mc_schema_from_dump_vmstate(mc_schema *s, const uint8_t *json,
                                 size_t len, mc_error **errp)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)json, len, 0, &jerr);
    if (!doc) {
        mc_error_data(errp, (uint64_t)jerr.position, NULL,
                      "-dump-vmstate: %s", jerr.text);
        return false;
    }
    const char *key;
    json_t *dev;
    bool ok = true;
    json_object_foreach(doc, key, dev) {
        json_t *vmsd = json_object_get(dev, "Description");
        if (strcmp(key, "vmschkmachine") == 0 || !vmsd) {
            continue;
        }
        if (!add_vmsd(s, vmsd, false, 0, errp)) {
            ok = false;
            break;
        }
    }
    json_decref(doc);
    return ok;
}
