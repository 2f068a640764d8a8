/* migconv: convert QEMU migration streams between the legacy format and BER. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"Usage: migconv COMMAND [OPTIONS] ARGS...\n"
"Convert QEMU live-migration streams between QEMU's legacy wire format\n"
"(\"QEVM\", file version 3) and a self-describing ASN.1 BER format.\n"
"\n"
"Commands:\n"
"  legacy-to-ber IN OUT   convert a legacy stream to BER\n"
"  ber-to-legacy IN OUT   convert a BER stream back to the exact legacy bytes\n"
"  dump IN                print a stream (legacy or BER) as JSON on stdout\n"
"  verify IN...           check that each stream survives a round trip\n"
"                         (legacy->BER->legacy or BER->legacy->BER) unchanged\n"
"  tables IN...           make descriptor tables from streams with a vmdesc\n"
"  extract IN DIR         write each RAM block as a raw memory image, with\n"
"                         the device state as JSON\n"
"  normalize IN OUT       the same VM state with XBZRLE and compressed pages\n"
"                         as plain pages (--squash: each page once)\n"
"  schema IN...           per-device schema (ASN.1 or JSON Schema) of the\n"
"                         device sections\n"
"  snapshots IMAGE        list a qcow2 image's internal snapshots\n"
"  batch -o DIR IN...     convert many files (and directories) in parallel\n"
"  help                   show this help\n"
"\n"
"IN and OUT may be '-' for stdin and stdout.  'migconv COMMAND --help'\n"
"describes a command's options.\n"
"\n"
"  --version              print the version\n"
"\n"
"Exit status: 0 success, 1 invalid input or round-trip mismatch,\n"
"2 usage error, 3 I/O error, 4 internal error.  See migconv(1).\n");
}

int main(int argc, char **argv)
{
    char argv0[32];
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("migconv %s\n", MC_VERSION);
        return 0;
    }
    /* getopt's own messages then read "migconv COMMAND: ..." */
    snprintf(argv0, sizeof(argv0), "migconv %.20s", cmd);
    if (strcmp(cmd, "legacy-to-ber") == 0) {
        argv[1] = argv0;
        return mc_cmd_convert(argc - 1, argv + 1, MC_FORMAT_LEGACY);
    }
    if (strcmp(cmd, "ber-to-legacy") == 0) {
        argv[1] = argv0;
        return mc_cmd_convert(argc - 1, argv + 1, MC_FORMAT_BER);
    }
    if (strcmp(cmd, "dump") == 0) {
        argv[1] = argv0;
        return mc_cmd_dump(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "verify") == 0) {
        argv[1] = argv0;
        return mc_cmd_verify(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "extract") == 0) {
        argv[1] = argv0;
        return mc_cmd_extract(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "normalize") == 0) {
        argv[1] = argv0;
        return mc_cmd_normalize(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "tables") == 0) {
        argv[1] = argv0;
        return mc_cmd_tables(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "schema") == 0) {
        argv[1] = argv0;
        return mc_cmd_schema(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "snapshots") == 0) {
        argv[1] = argv0;
        return mc_cmd_snapshots(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "batch") == 0) {
        argv[1] = argv0;
        return mc_cmd_batch(argc - 1, argv + 1);
    }
    return mc_cli_usage_error(NULL, "unknown command '%s'", cmd);
}
