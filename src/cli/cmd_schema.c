/* schema: per-device migration schemas (ASN.1, JSON Schema), where the
 * bodies they describe are in a BER stream, and per-device differences */
#define _GNU_SOURCE /* memmem */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "desc/builtin.h"
#include "core/util.h"
#include "desc/tables.h"
#include "visit/schema.h"

/* Largest JSON input (tables, -dump-vmstate) read into memory. */
#define MAX_JSON_INPUT (256u << 20)

static void usage(FILE *f)
{
    fprintf(f,
"Usage: migconv schema [OPTIONS] IN...\n"
"       migconv schema [OPTIONS] --builtin [--qemu-version V]\n"
"       migconv schema --bodies IN.ber\n"
"       migconv schema --diff A B\n"

"Write the per-device schema of the device sections of each IN: a stream\n"
"(legacy with vmdesc or tables, or BER) or a descriptor tables file.\n"
"One type per (vmsd name, version), fields in wire order.  See SCHEMA in\n"
"migconv(1).  --diff compares A and B per device: each a stream, a tables\n"
"file, a JSON Schema written by schema, QEMU's -dump-vmstate JSON, or\n"
"builtin:VERSION.\n"
"\n"
"Options:\n"
"      --format F       asn1 (default): an ASN.1 module validating the\n"
"                       BER bodies; json-schema: a JSON Schema (2020-12)\n"
"                       of migconv dump's output\n"
"      --no-names       the variant for streams written with --no-names\n"
"  -o, --output FILE    write to FILE (default: stdout)\n"
"      --builtin        every device of the built-in descriptor tables\n"
"      --qemu-version V the built-in x86 tables of QEMU V (5.2, 7.2, 10.0,\n"
"                       11.1; default %s)\n"
"      --bodies         list where each device section body and subsection\n"
"                       body of a BER stream is: OFFSET LENGTH TYPE lines\n"
"      --diff           list per device what differs between A and B;\n"
"                       exit 0 when nothing does, 1 otherwise\n"

"  -f, -q, --tables FILE, --buffer-limit N: as for legacy-to-ber\n"
"  -h, --help           show this help\n",
            "7.2");
}

enum { OPT_FORMAT = 0x300, OPT_BUILTIN, OPT_QEMU_VERSION, OPT_BODIES,
       OPT_DIFF };

typedef struct schema_opts {
    mc_cli_common c;
    bool json;
    bool names;
    bool builtin;
    const char *qemu_version;
    bool bodies;
    bool diff;
    const char *outpath;
} schema_opts;

static int report(const char *path, mc_error *err)
{
    return mc_cli_report(strcmp(path, "-") ? path : "(stdin)", err);
}

static bool learn_builtin(mc_schema *s, const schema_opts *o, mc_error **errp)
{
    /* x86's: the built-in tables of other targets describe other machines */
    const mc_tables *t = NULL;
    if (!o->qemu_version) {
        t = mc_tables_builtin(errp);
    } else if (!mc_builtin_tables_for(o->qemu_version, "x86", &t, errp)) {
        return false;
    }
    return t && mc_schema_from_tables(s, t, errp);
}

/* An ASN.1 module (ours or another): "DEFINITIONS" and "::=" in its
 * first 4 KiB. */
static bool looks_like_asn1(const uint8_t *p, size_t n)
{
    size_t k = n < 4096 ? n : 4096;
    return memmem(p, k, "DEFINITIONS", 11) && memmem(p, k, "::=", 3);
}

/* A JSON input: descriptor tables, a JSON Schema of ours (for --diff) or
 * QEMU's -dump-vmstate output. */
static bool learn_json(mc_schema *s, mc_input *in, mc_error **errp)
{
    if (!mc_src_slurp(in->src, MAX_JSON_INPUT, errp)) {
        return false;
    }
    const uint8_t *p = mc_src_window(in->src);
    size_t n = mc_src_buffered(in->src);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)p, n, 0, &jerr);
    if (!doc && looks_like_asn1(p, n)) {
        mc_error_data(errp, 0, NULL, "an ASN.1 module, which schema --diff "
                      "cannot read back (its identifiers and ranges lose "
                      "the vmsd and field names and the wire types): "
                      "compare the JSON Schema of the same input "
                      "(--format json-schema) instead");
        return false;
    }
    if (!doc || !json_is_object(doc)) {
        mc_error_data(errp, doc ? 0 : (uint64_t)jerr.position, NULL,
                      "not a migration stream, descriptor tables or "
                      "-dump-vmstate JSON%s%s", doc ? "" : ": ",
                      doc ? "" : jerr.text);
        json_decref(doc);
        return false;
    }
    const char *format = json_string_value(json_object_get(doc, "format"));
    bool tables = format && strcmp(format, "migconv-tables") == 0;
    bool vmstate = json_object_get(doc, "vmschkmachine") != NULL;
    bool jschema = json_object_get(doc, "$schema") != NULL &&
                   json_object_get(doc, "$defs") != NULL;
    json_decref(doc);
    if (tables) {
        mc_tables *t = mc_tables_new();
        bool ok = mc_tables_load(t, p, n, errp) &&
                  mc_schema_from_tables(s, t, errp);
        mc_tables_free(t);
        return ok;
    }
    if (vmstate) {
        return mc_schema_from_dump_vmstate(s, p, n, errp);
    }
    if (jschema) {
        return mc_schema_from_json_schema(s, p, n, errp);
    }
    mc_error_data(errp, 0, NULL, "JSON that is neither descriptor tables, "
                  "a schema nor -dump-vmstate output");
    return false;
}

/* Learn one input into s; on failure report it and set *code. */
static bool learn(mc_schema *s, const char *path, const schema_opts *o,
                  int *code)
{
    mc_error *err = NULL;
    mc_input in;
    if (!mc_input_open(&in, path, &o->c, &err)) {
        *code = report(path, err);
        return false;
    }
    bool ok;
    if (in.format == MC_FORMAT_UNKNOWN) {
        ok = learn_json(s, &in, &err);
    } else {
        mc_visitor *v = mc_schema_visitor_new(s);
        ok = mc_cli_read(&in, in.format, v, &o->c, false, &err);
        mc_visitor_free(v);
    }
    if (!ok) {
        *code = mc_cli_report(in.name, err);
    }
    mc_input_close(&in);
    return ok;
}

static int write_out(const schema_opts *o, const mc_text *t)
{
    mc_error *err = NULL;
    mc_output out;
    if (!mc_output_open(&out, o->outpath, false, &o->c, NULL, &err)) {
        return mc_cli_report(strcmp(o->outpath, "-") ? o->outpath : "(stdout)",
                             err);
    }
    if (!mc_sink_write(&out.sink, t->p ? t->p : "", t->len, &err) ||
        !mc_output_commit(&out, &err)) {
        mc_output_abort(&out);
        return mc_cli_report(out.name, err);
    }
    return 0;
}

static bool builtin_known(const char *version)
{
    return mc_builtin_version_known(version);
}

/* A --diff operand: an input file, or builtin:VERSION. */
static bool learn_operand(mc_schema *s, const char *arg, const schema_opts *o,
                          int *code)
{
    if (strncmp(arg, "builtin:", 8) == 0) {
        if (!builtin_known(arg + 8)) {
            *code = mc_cli_usage_error("schema", "no built-in tables for "
                                       "QEMU %s (known: 5.2, 7.2, 10.0, 11.1)", arg + 8);
            return false;
        }
        schema_opts bo = *o;
        bo.qemu_version = arg + 8;
        mc_error *err = NULL;
        if (!learn_builtin(s, &bo, &err)) {
            *code = mc_cli_report("built-in tables", err);
            return false;
        }
        return true;
    }
    return learn(s, arg, o, code);
}

static int cmd_diff(const char *a, const char *b, const schema_opts *o)
{
    int code = 0;
    mc_schema *sa = mc_schema_new(), *sb = mc_schema_new();
    if (!learn_operand(sa, a, o, &code) || !learn_operand(sb, b, o, &code)) {
        mc_schema_free(sa);
        mc_schema_free(sb);
        return code;
    }
    mc_text t = {0};
    size_t n = mc_schema_diff(sa, sb, &t);
    mc_schema_free(sa);
    mc_schema_free(sb);
    code = write_out(o, &t);
    mc_text_free(&t);
    return code ? code : n ? 1 : 0;
}

static int cmd_bodies(const char *path, const schema_opts *o)
{
    int code = 0;
    mc_schema *s = mc_schema_new();
    mc_error *err = NULL;
    mc_input in;
    if (strcmp(path, "-") == 0) {
        mc_schema_free(s);
        return mc_cli_usage_error("schema", "--bodies reads its input twice: "
                                  "give a file, not '-'");
    }
    if (!learn(s, path, o, &code)) {
        mc_schema_free(s);
        return code;
    }
    if (!mc_input_open(&in, path, &o->c, &err)) {
        mc_schema_free(s);
        return report(path, err);
    }
    if (in.format != MC_FORMAT_BER) {
        mc_input_close(&in);
        mc_schema_free(s);
        mc_error_data(&err, 0, NULL, "--bodies needs a BER stream");
        return report(path, err);
    }
    mc_text t = {0};
    bool ok = mc_schema_bodies(s, in.src, &t, &err);
    mc_input_close(&in);
    mc_schema_free(s);
    code = ok ? write_out(o, &t) : report(path, err);
    mc_text_free(&t);
    return code;
}

int mc_cmd_schema(int argc, char **argv)
{
    schema_opts o = {.c = {.progress = 0}, .names = true, .outpath = "-"};
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"no-names", no_argument, NULL, MC_OPT_NO_NAMES},
        {"builtin", no_argument, NULL, OPT_BUILTIN},
        {"bodies", no_argument, NULL, OPT_BODIES},
        {"diff", no_argument, NULL, OPT_DIFF},
        {NULL, 0, NULL, 0},
    };
    int opt, code = 0;
    while ((opt = getopt_long(argc, argv, MC_CLI_COMMON_SHORT "o:", longopts,
                              NULL)) != -1) {
        if (mc_cli_common_opt(&o.c, opt, optarg, "schema", &code)) {
            if (code) {
                return code;
            }
            continue;
        }
        switch (opt) {
        case 'h':
            usage(stdout);
            return 0;
        case 'o':
            o.outpath = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "asn1") == 0) {
                o.json = false;
            } else if (strcmp(optarg, "json-schema") == 0) {
                o.json = true;
            } else {
                return mc_cli_usage_error("schema", "unknown format '%s' "
                                          "(asn1 or json-schema)", optarg);
            }
            break;
        case MC_OPT_NO_NAMES:
            o.names = false;
            break;
        case OPT_BUILTIN:
            o.builtin = true;
            break;
        case OPT_BODIES:
            o.bodies = true;
            break;
        case OPT_DIFF:
            o.diff = true;
            break;
        default:
            return mc_cli_usage_error("schema", "invalid option");
        }
    }
    int nin = argc - optind;
    o.qemu_version = o.c.qemu_version;
    if (o.qemu_version && !o.builtin) {
        return mc_cli_usage_error("schema", "--qemu-version needs --builtin");
    }
    if (o.qemu_version && !builtin_known(o.qemu_version)) {
        return mc_cli_usage_error("schema", "no built-in tables for QEMU %s "
                                  "(known: 5.2, 7.2, 10.0, 11.1)",
                                  o.qemu_version);
    }
    if (o.bodies) {
        if (nin != 1 || o.builtin || o.diff) {
            return mc_cli_usage_error("schema", "--bodies takes one BER "
                                      "stream");
        }
        return cmd_bodies(argv[optind], &o);
    }
    if (o.diff) {
        if (nin != 2 || o.builtin) {
            return mc_cli_usage_error("schema", "--diff compares two inputs");
        }
        return cmd_diff(argv[optind], argv[optind + 1], &o);
    }
    if (nin < 1 && !o.builtin) {
        return mc_cli_usage_error("schema", "expected at least one input "
                                  "or --builtin");
    }
    mc_schema *s = mc_schema_new();
    mc_error *err = NULL;
    if (o.builtin && !learn_builtin(s, &o, &err)) {
        mc_schema_free(s);
        return mc_cli_report("built-in tables", err);
    }
    for (int i = optind; i < argc; i++) {
        if (!learn(s, argv[i], &o, &code)) {
            mc_schema_free(s);
            return code;
        }
    }
    mc_text src = {0}, t = {0};
    if (o.builtin) {
        mc_text_printf(&src, "the built-in descriptor tables (QEMU %s)",
                       o.qemu_version ? o.qemu_version : "7.2");
    }
    for (int i = optind; i < argc; i++) {
        const char *base = strrchr(argv[i], '/');
        mc_text_printf(&src, "%s%s", src.len ? ", " : "",
                       base ? base + 1 : argv[i]);
    }
    mc_schema_emit_opts eo = {.names = o.names, .source = src.p};
    bool ok = true;
    if (o.json) {
        ok = mc_schema_emit_json(s, &eo, &t, &err);
    } else {
        mc_schema_emit_asn1(s, &eo, &t);
    }
    mc_schema_free(s);
    mc_text_free(&src);
    code = ok ? write_out(&o, &t) : mc_cli_report("schema", err);
    mc_text_free(&t);
    return code;
}
