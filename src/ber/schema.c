/*
 * Schema check of one BER record with libtasn1 (mc_ber_schema_check).
 *
 * The record is decoded against the compiled schema (asn1/migconv.asn,
 * generated into mc_asn1_tab by asn1Parser) with the Part 2 ("...L")
 * types.  Their recursion is cut by ANY, so after the record decodes, every
 * ANY hole is read back as the complete TLV it holds and decoded again with
 * the type named in the schema's comment:
 *
 *   BodyL.fields         -> ElementL    BodyL.subsections -> SubsectionL
 *   ValueL.struct        -> (a BodyL)   ValueL.array      -> ElementL
 *   PackagedL.items      -> ItemL
 *
 * libtasn1 checks tags, structure and CHOICE alternatives; it does not
 * check DER minimality or value ranges (the BER reader does those).
 */
#include <libtasn1.h>
#include <limits.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "format/readers.h"

/* Generated from asn1/migconv.asn at build time. */
extern const asn1_static_node mc_asn1_tab[];

/* ANY holes decoded inside one another (struct in struct, package in
 * package ...); the BER reader itself stops at 64 levels of nesting. */
#define MAX_SCHEMA_DEPTH 80

/* The schema tree is built once per process, the first time a check
 * needs it, and only read from then on (thread-safe). */
static struct {
    pthread_once_t once;
    int rc;
    char desc[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
} schema = {.once = PTHREAD_ONCE_INIT};
static asn1_node schema_defs;

static void build_defs(void)
{
    schema.rc = asn1_array2tree(mc_asn1_tab, &schema_defs, schema.desc);
    if (schema.rc != ASN1_SUCCESS) {
        schema_defs = NULL;
    }
}

static bool load_defs(mc_error **errp)
{
    pthread_once(&schema.once, build_defs);
    if (schema.rc != ASN1_SUCCESS) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "cannot load the compiled ASN.1 schema: %s%s%s",
                     asn1_strerror(schema.rc), schema.desc[0] ? ": " : "",
                     schema.desc);
        return false;
    }
    return true;
}

/* Free the schema tree at exit so that leak checkers see no residue. */
__attribute__((destructor)) static void free_defs(void)
{
    if (schema_defs) {
        asn1_delete_structure(&schema_defs);
    }
}

static bool check_der(const char *type, const uint8_t *der, size_t len,
                      unsigned depth, const char *where, mc_error **errp);

static void join(char *out, size_t n, const char *prefix, const char *suffix)
{
    snprintf(out, n, "%s%s%s", prefix, prefix[0] ? "." : "", suffix);
}

static bool fail(mc_error **errp, const char *where, const char *type,
                 const char *what, int rc)
{
    mc_error_data(errp, MC_NO_OFFSET, NULL,
                  "%s%sdoes not match %s: %s (%s)", where,
                  where[0] ? ": " : "", type, what, asn1_strerror(rc));
    return false;
}

/* Decode every ANY element of the SEQUENCE OF at name as type. */
static bool check_any_list(asn1_node el, const char *name, const char *type,
                           unsigned depth, const char *where, mc_error **errp)
{
    int count = 0;
    int rc = asn1_number_of_elements(el, name, &count);
    if (rc == ASN1_ELEMENT_NOT_FOUND) {
        return true;        /* an absent OPTIONAL list */
    }
    if (rc != ASN1_SUCCESS) {
        return fail(errp, where, type, "cannot count the elements", rc);
    }
    for (int i = 1; i <= count; i++) {
        char elem[256], sub[512];
        snprintf(elem, sizeof(elem), "%s.?%d", name, i);
        snprintf(sub, sizeof(sub), "%s%s%s", where, where[0] ? "/" : "",
                 elem);
        int need = 0;
        rc = asn1_read_value(el, elem, NULL, &need);
        if (rc != ASN1_MEM_ERROR || need <= 0) {
            return fail(errp, sub, type, "cannot read the element", rc);
        }
        uint8_t *buf = mc_malloc((size_t)need);
        int got = need;
        rc = asn1_read_value(el, elem, buf, &got);
        bool ok = rc == ASN1_SUCCESS
                      ? check_der(type, buf, (size_t)got, depth + 1, sub, errp)
                      : fail(errp, sub, type, "cannot read the element", rc);
        free(buf);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool check_body(asn1_node el, const char *prefix, unsigned depth,
                       const char *where, mc_error **errp)
{
    char name[256];
    join(name, sizeof(name), prefix, "fields");
    if (!check_any_list(el, name, "MigConv.ElementL", depth, where, errp)) {
        return false;
    }
    join(name, sizeof(name), prefix, "subsections");
    return check_any_list(el, name, "MigConv.SubsectionL", depth, where, errp);
}

/* The chosen alternative of the CHOICE at name. */
static bool read_choice(asn1_node el, const char *name, char *alt, size_t n,
                        const char *type, const char *where, mc_error **errp)
{
    int len = (int)n;
    int rc = asn1_read_value(el, name, alt, &len);
    if (rc != ASN1_SUCCESS || len <= 0 || (size_t)len > n) {
        return fail(errp, where, type, "cannot read the CHOICE", rc);
    }
    alt[n - 1] = 0;
    return true;
}

static bool check_value(asn1_node el, const char *prefix, unsigned depth,
                        const char *where, mc_error **errp)
{
    char alt[64], name[256];
    if (!read_choice(el, prefix, alt, sizeof(alt), "MigConv.ValueL", where,
                     errp)) {
        return false;
    }
    if (strcmp(alt, "struct") == 0) {
        join(name, sizeof(name), prefix, "struct");
        return check_body(el, name, depth, where, errp);
    }
    if (strcmp(alt, "array") == 0) {
        join(name, sizeof(name), prefix, "array");
        return check_any_list(el, name, "MigConv.ElementL", depth, where, errp);
    }
    return true;
}

static bool check_item(asn1_node el, const char *prefix, unsigned depth,
                       const char *where, mc_error **errp)
{
    char alt[64], name[256];
    if (!read_choice(el, prefix, alt, sizeof(alt), "MigConv.ItemL", where,
                     errp)) {
        return false;
    }
    if (strcmp(alt, "section") == 0) {
        join(name, sizeof(name), prefix, "section.body");
        return check_body(el, name, depth, where, errp);
    }
    if (strcmp(alt, "packaged") == 0) {
        join(name, sizeof(name), prefix, "packaged.items");
        return check_any_list(el, name, "MigConv.ItemL", depth, where, errp);
    }
    return true;
}

static bool check_holes(asn1_node el, const char *type, unsigned depth,
                        const char *where, mc_error **errp)
{
    const char *t = strncmp(type, "MigConv.", 8) == 0 ? type + 8 : type;
    if (strcmp(t, "ItemL") == 0) {
        return check_item(el, "", depth, where, errp);
    }
    if (strcmp(t, "SectionL") == 0) {
        return check_body(el, "body", depth, where, errp);
    }
    if (strcmp(t, "BodyL") == 0) {
        return check_body(el, "", depth, where, errp);
    }
    if (strcmp(t, "SubsectionL") == 0) {
        return check_body(el, "body", depth, where, errp);
    }
    if (strcmp(t, "FieldL") == 0) {
        return check_value(el, "value", depth, where, errp);
    }
    if (strcmp(t, "ElementL") == 0) {
        char alt[64];
        if (!read_choice(el, "", alt, sizeof(alt), type, where, errp)) {
            return false;
        }
        return strcmp(alt, "field") == 0
                   ? check_value(el, "field.value", depth, where, errp)
                   : check_value(el, "value", depth, where, errp);
    }
    if (strcmp(t, "ValueL") == 0) {
        return check_value(el, "", depth, where, errp);
    }
    if (strcmp(t, "PackagedL") == 0) {
        return check_any_list(el, "items", "MigConv.ItemL", depth, where,
                              errp);
    }
    if (strcmp(t, "StreamL") == 0) {
        int count = 0;
        int rc = asn1_number_of_elements(el, "items", &count);
        if (rc != ASN1_SUCCESS) {
            return fail(errp, where, type, "cannot count the items", rc);
        }
        for (int i = 1; i <= count; i++) {
            char name[64];
            snprintf(name, sizeof(name), "items.?%d", i);
            if (!check_item(el, name, depth, where, errp)) {
                return false;
            }
        }
        return true;
    }
    /* Types without ANY (StreamHeader, SectionHeader, RamSection,
     * RamRecord, Command, ...) are complete after decoding. */
    return true;
}

static bool check_der(const char *type, const uint8_t *der, size_t len,
                      unsigned depth, const char *where, mc_error **errp)
{
    if (depth > MAX_SCHEMA_DEPTH) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s%svalues nested more than %u levels deep", where,
                      where[0] ? ": " : "", MAX_SCHEMA_DEPTH);
        return false;
    }
    if (len > INT_MAX) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s%srecord of %zu bytes is too large to check", where,
                      where[0] ? ": " : "", len);
        return false;
    }
    asn1_node el = NULL;
    int rc = asn1_create_element(schema_defs, type, &el);
    if (rc != ASN1_SUCCESS) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "no schema type '%s' (%s)", type, asn1_strerror(rc));
        return false;
    }
    char desc[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
    int used = (int)len;
    rc = asn1_der_decoding2(&el, der, &used, 0, desc);
    bool ok;
    if (rc != ASN1_SUCCESS) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s%sdoes not match %s: %s%s%s", where,
                      where[0] ? ": " : "", type, asn1_strerror(rc),
                      desc[0] ? ": " : "", desc);
        ok = false;
    } else if ((size_t)used != len) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "%s%s%s record ends after %d of %zu bytes", where,
                      where[0] ? ": " : "", type, used, len);
        ok = false;
    } else {
        ok = check_holes(el, type, depth, where, errp);
    }
    asn1_delete_structure(&el);
    return ok;
}

bool mc_ber_schema_check(const char *type, const uint8_t *der, size_t len,
                         mc_error **errp)
{
    return load_defs(errp) && check_der(type, der, len, 0, "", errp);
}
