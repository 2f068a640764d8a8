/* migconv: convert QEMU migration streams between the legacy format and BER. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int cmd_legacy_to_ber(int argc, char **argv)
{
    return mc_cmd_convert(argc, argv, MC_FORMAT_LEGACY);
}

static int cmd_ber_to_legacy(int argc, char **argv)
{
    return mc_cmd_convert(argc, argv, MC_FORMAT_BER);
}

static int cmd_compat(int argc, char **argv)
{
    return mc_cmd_retarget(argc, argv, true);
}

static int cmd_retarget(int argc, char **argv)
{
    return mc_cmd_retarget(argc, argv, false);
}

/*
 * The commands: one row each.  A command is a cmd_*.c file with its
 * option parsing (and the pipeline calls it needs) plus its row here; the
 * row also makes its lines of the help.  synopsis: "NAME ARGS" as the help
 * shows it; help: what it does, lines after the first indented by the
 * printer.
 */
typedef struct mc_command {
    const char *name;
    const char *synopsis;
    const char *help;
    int (*run)(int argc, char **argv);
} mc_command;

static const mc_command commands[] = {
    {"legacy-to-ber", "legacy-to-ber IN OUT", "convert a legacy stream to BER",
     cmd_legacy_to_ber},
    {"ber-to-legacy", "ber-to-legacy IN OUT",
     "convert a BER stream back to the exact legacy bytes", cmd_ber_to_legacy},
    {"dump", "dump IN", "print a stream (legacy or BER) as JSON on stdout",
     mc_cmd_dump},
    {"verify", "verify IN...",
     "check that each stream survives a round trip\n"
     "(legacy->BER->legacy or BER->legacy->BER) unchanged",
     mc_cmd_verify},
    {"tables", "tables IN...",
     "make descriptor tables from streams with a vmdesc", mc_cmd_tables},
    {"compat", "compat --to V IN",
     "say what would stop QEMU V from loading IN", cmd_compat},
    {"retarget", "retarget --to V IN OUT",
     "rewrite IN so that QEMU V loads it", cmd_retarget},
    {"extract", "extract IN DIR",
     "write each RAM block as a raw memory image, with\nthe device state as JSON",
     mc_cmd_extract},
    {"normalize", "normalize IN OUT",
     "the same VM state with XBZRLE and compressed pages\nas plain pages "
     "(--squash: each page once)",
     mc_cmd_normalize},
    {"schema", "schema IN...",
     "per-device schema (ASN.1 or JSON Schema) of the\ndevice sections",
     mc_cmd_schema},
    {"snapshots", "snapshots IMAGE",
     "list a qcow2 image's internal snapshots", mc_cmd_snapshots},
    {"batch", "batch -o DIR IN...",
     "convert many files (and directories) in parallel", mc_cmd_batch},
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: migconv COMMAND [OPTIONS] ARGS...\n"
"Convert QEMU live-migration streams between QEMU's legacy wire format\n"
"(\"QEVM\", file version 3) and a self-describing ASN.1 BER format.\n"
"\n"
"Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const char *h = commands[i].help;
        const char *nl = strchr(h, '\n');
        fprintf(f, "  %-22s %.*s\n", commands[i].synopsis,
                nl ? (int)(nl - h) : (int)strlen(h), h);
        while (nl) {
            h = nl + 1;
            nl = strchr(h, '\n');
            fprintf(f, "  %-22s %.*s\n", "", nl ? (int)(nl - h) : (int)strlen(h),
                    h);
        }
    }
    fprintf(f,
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
    mc_cli_startup();
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
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            /* getopt's own messages then read "migconv COMMAND: ..." */
            snprintf(argv0, sizeof(argv0), "migconv %.20s", cmd);
            argv[1] = argv0;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    return mc_cli_usage_error(NULL, "unknown command '%s'", cmd);
}
