/* snapshots: list a qcow2 image's internal snapshots and their vmstate. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "container/qcow2.h"

static void usage(FILE *f)
{
    fprintf(f,
"Usage: migconv snapshots [--json] IMAGE\n"
"List the internal snapshots of a qcow2 image: ID, name, vmstate size\n"
"(0: a disk-only snapshot), date and guest clock.  Convert one with\n"
"'migconv legacy-to-ber --snapshot NAME|ID IMAGE OUT'.\n"
"\n"
"Options:\n"
"      --json           one JSON object per snapshot, one per line\n"
"  -h, --help           show this help\n");
}

static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if (*p < 0x20 || *p >= 0x7f) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

int mc_cmd_snapshots(int argc, char **argv)
{
    bool json = false;
    enum { OPT_JSON = 0x200 };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        } else if (opt == OPT_JSON) {
            json = true;
        } else {
            return mc_cli_usage_error("snapshots", "invalid option");
        }
    }
    if (argc - optind != 1) {
        return mc_cli_usage_error("snapshots", "expected one qcow2 image");
    }
    const char *path = argv[optind];
    mc_error *err = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mc_error_set_errno(&err, errno, "cannot open");
        return mc_cli_report(path, err);
    }
    mc_qcow2 q;
    if (!mc_qcow2_open(fd, &q, &err)) {
        close(fd);
        return mc_cli_report(path, err);
    }
    if (!json) {
        printf("%-6s %-24s %14s  %-19s  %s\n", "ID", "NAME", "VMSTATE",
               "DATE (UTC)", "VM CLOCK");
    }
    for (uint32_t i = 0; i < q.nb_snapshots; i++) {
        const mc_qcow2_snapshot *s = &q.snapshots[i];
        time_t t = (time_t)s->date_sec;
        struct tm tm;
        char date[32] = "";
        if (gmtime_r(&t, &tm)) {
            strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        }
        unsigned long long ns = (unsigned long long)s->vm_clock_nsec;
        if (json) {
            printf("{\"id\": ");
            json_str(s->id);
            printf(", \"name\": ");
            json_str(s->name);
            printf(", \"vm_state_size\": %llu, \"disk_size\": %llu, "
                   "\"date_sec\": %u, \"date_nsec\": %u, "
                   "\"vm_clock_nsec\": %llu}\n",
                   (unsigned long long)s->vm_state_size,
                   (unsigned long long)s->disk_size, s->date_sec,
                   s->date_nsec, ns);
        } else {
            printf("%-6s %-24s %14llu  %-19s  %02llu:%02llu:%02llu.%03llu\n",
                   s->id, s->name, (unsigned long long)s->vm_state_size,
                   date, ns / 3600000000000ull, ns / 60000000000ull % 60,
                   ns / 1000000000ull % 60, ns / 1000000ull % 1000);
        }
    }
    mc_qcow2_close(&q);
    close(fd);
    return 0;
}
