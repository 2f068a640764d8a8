/* The rule table of compat and retarget (compat.h). */
#include "desc/compat.h"

#include <string.h>

#include "desc/builtin.h"

static const mc_compat_rule rules[] = {
    {
        .id = "slirp-instance",
        .from = "QEMU 10.0 and later (one slirp section per -netdev user, "
                "instances 0, 1, 2 ...)",
        .to = "QEMU before 10.0 (measured: 5.2 and 7.2)",
        .to_min = 0, .to_max = 999,
        .action = MC_COMPAT_REWRITE,
        .change = "the instance id of every slirp section (and its vmdesc "
                  "entry) becomes 0; with --to-stream, for any two "
                  "versions, the k-th slirp section takes the instance id "
                  "of the target stream's k-th",
        .why = "QEMU 5.2 and 7.2 number every slirp section 0 and refuse "
               "others ('Unknown savevm section or instance'); the sections "
               "keep their order and bytes, which is how those versions "
               "match them to the -netdev user backends, and every version "
               "saves them in the order the backends were made, so the "
               "target's own numbering puts each into its own backend",
    },
    {
        .id = "compress-page",
        .from = "streams saved with the compress capability (QEMU 9.0 and "
                "older)",
        .to = "every version (QEMU 9.1 and later cannot read them at all)",
        .to_min = 0, .to_max = 9999,
        .action = MC_COMPAT_REWRITE,
        .change = "every COMPRESS_PAGE record becomes a PAGE record holding "
                  "the page inflated from its zlib data",
        .why = "the same page contents reach guest RAM; every version reads "
               "PAGE records without any capability, while QEMU 9.1 removed "
               "compress ('Unknown combination of migration flags: 0x120') "
               "and older ones need the capability on the destination",
    },
    {
        .id = "mapped-ram",
        .from = "files saved with the mapped-ram capability (QEMU 9.0 and "
                "later, migrate to a file: URI): each RAM block's "
                "MappedRamHeader, a bitmap and the pages at fixed file "
                "offsets instead of page records",
        .to = "QEMU before 9.0, which has no mapped-ram; later versions "
              "load such a file only with the capability set and a file: "
              "URI (migrate-incoming file:PATH)",
        .to_min = 0, .to_max = 899,
        .action = MC_COMPAT_REWRITE,
        .change = "the pages the bitmaps mark become page records in block "
                  "order, after a MEM_SIZE record that lists "
                  "every block without a MappedRamHeader, and 'mapped-ram' "
                  "leaves the configuration's capability list (as "
                  "normalize writes it)",
        .why = "the same page contents reach guest RAM; a page the bitmap "
               "does not mark is zero, which a QEMU without mapped-ram "
               "assumes for a page no record names; the configuration's "
               "capability list must match the destination's "
               "(configuration_validate_capabilities), and a destination "
               "without the capability reads the sequential records from "
               "any URI",
    },
    {
        .id = "vring-num",
        .from = "QEMU 10.0 (it writes vring.num 1024, the most a ring can "
                "have, for every queue, also the ones the guest never set "
                "up)",
        .to = "QEMU 11.1 (11.0 not measured), which refuses a vring.num "
              "above the size it allocates ('VQ 0 vring.num 1024 exceeds "
              "allocated max 256')",
        .to_min = 1101, .to_max = 9999,
        .action = MC_COMPAT_REWRITE,
        .change = "virtio/vq[N]/vring.num of a queue whose vring.desc is 0 "
                  "(never set up) becomes the size QEMU allocates for it "
                  "(with --to-stream, the target stream's size of that "
                  "queue when it did not set it up either, else the ring "
                  "size table of migconv(1)); a queue the guest set up "
                  "with a larger ring is refused",
        .why = "a queue without a ring address holds no state but its size, "
               "and QEMU gives a queue that size when the device resets; a "
               "guest that sets the queue up later reads the size from the "
               "device (legacy) or has its own in the transport's state "
               "(virtio 1), so no state is lost; a ring in use cannot be "
               "shrunk",
    },
    {
        .id = "xbzrle-page",
        .from = "streams saved with the xbzrle capability",
        .to = "every version",
        .to_min = 0, .to_max = 9999,
        .action = MC_COMPAT_REWRITE,
        .change = "every XBZRLE record becomes a PAGE record holding the "
                  "page decoded against its previous content",
        .why = "the same page contents reach guest RAM; the destination "
               "then needs no XBZRLE decoder and the stream no previous "
               "content (retarget keeps the pages in unnamed temporary "
               "files, as normalize does, not in memory)",
    },
    {
        .id = "block",
        .from = "block-migration streams (migrate with blk, QEMU 9.0 and "
                "older)",
        .to = "QEMU 9.1 and later",
        .to_min = 901, .to_max = 9999,
        .action = MC_COMPAT_LOSS,
        .loss = "block",
        .change = "with --allow-loss block, the 'block' sections are left "
                  "out",
        .why = "they carry the disk contents; QEMU 9.1 removed block "
               "migration ('Unknown section or instance 'block' 0'), so "
               "leaving them out loses that data: copy the disk image "
               "another way",
    },
    {
        .id = "machine-type",
        .from = "every stream with a configuration section",
        .to = "versions that do not have the stream's machine type",
        .to_min = 0, .to_max = 9999,
        .action = MC_COMPAT_REFUSE,
        .change = "nothing: the machine type name is kept as it is",
        .why = "a machine type stands for a device and memory layout; QEMU "
               "refuses a machine type it does not have, and renaming it "
               "would only move the failure into the devices",
    },
    {
        .id = "section-instance",
        .from = "every stream (--to-stream: checked against a stream the "
                "target QEMU saved of the same VM)",
        .to = "a target whose own stream has the section only with other "
              "instance ids",
        .to_min = 0, .to_max = 9999,
        .action = MC_COMPAT_REFUSE,
        .change = "nothing (for 'slirp', rule slirp-instance renumbers); a "
                  "section absent from the target's stream is a note, since "
                  "QEMU loads some it never saves ('audio' from 7.2 on)",
        .why = "QEMU looks a section up by idstr and instance id and refuses "
               "one it does not have ('Unknown savevm section or instance')",
    },
    {
        .id = "section-version",
        .from = "every stream",
        .to = "versions whose built-in tables know the section's vmsd only "
              "at older versions",
        .to_min = 0, .to_max = 9999,
        .action = MC_COMPAT_REFUSE,
        .change = "nothing",
        .why = "QEMU refuses a section whose version_id is newer than its "
               "own vmsd's (with compat --to-tables, the tables given; with "
               "--to-stream, the version the target's own stream has)",
    },
    {
        .id = "subsection",
        .from = "every stream (its subsections as it carries them)",
        .to = "versions whose own -dump-vmstate (built in for 5.2, 7.2, "
              "10.0 and 11.1, x86) describes the section's vmsd but not the "
              "subsection, or only at an older version",
        .to_min = 0, .to_max = 9999,
        .action = MC_COMPAT_LOSS,
        .loss = "subsection",
        .change = "with --allow-loss subsection, the subsection is left "
                  "out of its section and of the vmdesc; vmsds QEMU "
                  "registers without a device type (cpu, apic, timer, "
                  "slirp ...) are not in the dump, and their sections get "
                  "one note, not a check",
        .why = "QEMU's vmstate_subsection_load looks a subsection up by "
               "name in its vmsd's list and fails the load on one it does "
               "not have, and vmstate_load_state on one newer than its own; "
               "leaving it out loses the state it carries (a subsection is "
               "only sent when its device needs it, so the target loads "
               "the section without it)",
    },
    {
        .id = "field-layout",
        .from = "every stream with a vmdesc (the layout QEMU wrote each "
                "device with)",
        .to = "versions whose own -dump-vmstate vmsd of the device, at the "
              "section's version, would read the fields otherwise",
        .to_min = 0, .to_max = 9999,
        .action = MC_COMPAT_LOSS,
        .loss = "field",
        .change = "reported: what a renamed field of the same layout "
                  "does not explain (names are not on the wire): a scalar "
                  "of both of another size, a field of the stream the "
                  "target does not have while it has every field it reads, "
                  "a field it reads (no field_exists test) that the stream "
                  "lacks while every field of the stream is its own; nested "
                  "structs alike, at the target's own version; with "
                  "--allow-loss field, a section's top-level fields the "
                  "target's vmsd does not have are left out (and their "
                  "vmdesc entries) when the target has no field the stream "
                  "lacks, nested structs included; the rest stays refused",
        .why = "vmstate_load_state reads the fields its vmsd lists whose "
               "version_id is at most the section's, in order and by size: "
               "a field more, less or of another size puts every later byte "
               "in the wrong place, and the load fails or loads wrong state; "
               "leaving out a field the target does not have gives it the "
               "layout it reads and loses that field's state",
    },
};

size_t mc_compat_rules(const mc_compat_rule **out)
{
    *out = rules;
    return sizeof(rules) / sizeof(rules[0]);
}

const mc_compat_rule *mc_compat_rule_get(const char *id)
{
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (strcmp(rules[i].id, id) == 0) {
            return &rules[i];
        }
    }
    return NULL;
}

bool mc_compat_rule_applies(const mc_compat_rule *r, unsigned to)
{
    return to >= r->to_min && to <= r->to_max;
}

/* The oldest versioned machine type each version keeps, per family
 * (`-machine help` of Debian's QEMU 5.2, 7.2, 10.0 and 11.1). */
static const struct {
    unsigned version;
    const char *family;
    unsigned oldest;
} oldest[] = {
    {502, "pc-i440fx-", 104}, {502, "pc-q35-", 204}, {502, "virt-", 206},
    {502, "pseries-", 201}, {502, "s390-ccw-virtio-", 204},
    {702, "pc-i440fx-", 104}, {702, "pc-q35-", 204}, {702, "virt-", 206},
    {702, "pseries-", 201}, {702, "s390-ccw-virtio-", 204},
    {1000, "pc-i440fx-", 204}, {1000, "pc-q35-", 204}, {1000, "virt-", 206},
    {1000, "pseries-", 300}, {1000, "s390-ccw-virtio-", 209},
    {1101, "pc-i440fx-", 502}, {1101, "pc-q35-", 502}, {1101, "virt-", 502},
    {1101, "pseries-", 502}, {1101, "s390-ccw-virtio-", 502},
};

bool mc_compat_machine_known(const char *machine, unsigned to)
{
    unsigned mv = mc_machine_version(machine);
    if (mv == 0) {
        return true;
    }
    if (mv > to) {
        return false;   /* no QEMU has the machine types of later versions */
    }
    for (size_t i = 0; i < sizeof(oldest) / sizeof(oldest[0]); i++) {
        size_t n = strlen(oldest[i].family);
        if (oldest[i].version == to &&
            strncmp(machine, oldest[i].family, n) == 0 &&
            mc_version_number(machine + n) == mv) {
            return mv >= oldest[i].oldest;
        }
    }
    return true;
}

/* The size QEMU allocates for each queue of the virtio devices the q35
 * device set has, the defaults of their queue-size properties
 * (virtio_add_queue in hw/net/virtio-net.c, hw/char/virtio-serial-bus.c,
 * hw/virtio/virtio-balloon.c, hw/scsi/virtio-scsi.c, hw/block/virtio-blk.c,
 * hw/virtio/virtio-rng.c), the same in QEMU 5.2, 7.2 and 11.1: what their
 * streams hold for every queue (the q35 device set and s390x-ccw-virtio;
 * checked by tests/qemu/test_retarget.sh).  Machine types before
 * 5.0 give virtio-scsi and virtio-blk 128 (hw_compat_4_2). */
bool mc_compat_ring_size(const char *device, const char *machine,
                         uint32_t index, uint32_t num_queues, uint32_t *size)
{
    if (strcmp(device, "virtio-net") == 0) {
        /* rx/tx pairs (rx_queue_size, tx_queue_size 256), then the
         * control queue (64) when there is one (an odd count) */
        *size = num_queues % 2 == 1 && index == num_queues - 1 ? 64 : 256;
        return true;
    }
    if (strcmp(device, "virtio-console") == 0) {
        /* virtio-serial: port 0's pair, the control pair (32), the other
         * ports' pairs (128) */
        *size = index == 2 || index == 3 ? 32 : 128;
        return true;
    }
    if (strcmp(device, "virtio-rng") == 0 && index == 0) {
        *size = 8;
        return true;
    }
    if (strcmp(device, "virtio-balloon") == 0 && index < 3) {
        *size = 128;   /* inflate, deflate, stats */
        return true;
    }
    if (strcmp(device, "virtio-scsi") == 0 ||
        strcmp(device, "virtio-blk") == 0) {
        /* virtqueue_size, queue-size */
        unsigned mv = machine ? mc_machine_version(machine) : 0;
        *size = mv != 0 && mv < 500 ? 128 : 256;
        return true;
    }
    return false;
}
