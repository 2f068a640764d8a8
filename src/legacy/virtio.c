/*
 * The "virtio" field codec: QEMU's virtio_save() (hw/virtio/virtio.c),
 * which every virtio device section holds as its one field
 * (VMSTATE_VIRTIO_DEVICE) and which QEMU's vmdesc describes only as
 * {"type": "virtio", "size": N}.  The field becomes a struct:
 *
 *   virtio                       struct, type "virtio"
 *     transport                  struct: the bus's save_config
 *       virtio-pci (type "virtio-pci"; virtio_pci_save_config):
 *         pci_dev                struct, type "PCIDevice" (256-byte config
 *                                space) or "PCIEDevice" (4096):
 *           version_id           int32
 *           config               bytes, type "pci config"
 *           irq_state            4 x int32, type "pci irq state"
 *         msix_table             bytes, 16 per vector   } only with an
 *         msix_pba               bytes, 1 per 8 vectors } MSI-X capability
 *         config_vector          uint16                 } in config
 *       virtio-mmio (type "virtio-mmio"; virtio_mmio_save_config):
 *         host_features_sel, guest_features_sel, guest_page_shift  uint32
 *       virtio-ccw (type "virtio-ccw"; virtio_ccw_save_config, the same
 *       in QEMU 5.2 to 11.1): vmstate_virtio_ccw_dev's fields
 *         parent_obj             struct s390_ccw_dev: sch, struct
 *                                s390_subch_dev (ids, curr_status, sense
 *                                data, channel_prog, last_cmd, the sense
 *                                id with MAX_CIWS (62) ciw, ...) and its
 *                                subsection s390_subch_dev/orb
 *         indicators, indicators2, summary_indicator  {len int32,
 *                                addr uint64}
 *         config_vector          uint16
 *         routes                 adapter {ind_offset uint64} and its
 *                                subsection s390_adapter_info/summary_offset
 *         thinint_isc uint8, revision int32
 *     status                     uint8
 *     isr                        uint8
 *     queue_sel                  uint16
 *     guest_features_lo          uint32  (low half of the guest features)
 *     config_len                 uint32
 *     config                     bytes[config_len], type "virtio config"
 *     num_queues                 uint32  (queues with vring.num != 0)
 *     vq                         array[num_queues] of struct "virtqueue":
 *       vring.num                uint32  (ring size)
 *       vring.align              uint32  (virtio-mmio only)
 *       vring.desc               uint64  (0: the guest never set it up)
 *       last_avail_idx           uint16
 *       vector                   uint16  (virtio-pci with MSI-X, and
 *                                         virtio-ccw)
 *     device                     bytes: the device's own state (vdc->save
 *                                and vdc->vmsd), type "virtio device"
 *     subsections of vmstate_virtio, each at most once, as QEMU names them:
 *       virtio/device_endian      device_endian uint8
 *       virtio/128bit_features    guest_features_ex uint64 (features 64-127)
 *       virtio/64bit_features     guest_features uint64
 *       virtio/virtqueues         vq array of {vring.avail, vring.used
 *                                 uint64}
 *       virtio/ringsize           vq array of {vring.num_default uint32}
 *       virtio/broken             broken bool
 *       virtio/extra_state        extra_state struct, type "virtio_pci" or
 *                                 "virtio_mmio", holding the subsection
 *         virtio_pci/modern_state   dfselect, gfselect uint32,
 *                                   guest_features 2 x uint32, vqs
 *                                   array of {num uint16, unused 1
 *                                   byte, enabled bool, desc, avail, used
 *                                   2 x uint32}; and its subsection
 *           virtio_pci/modern_state/features128  guest_features 2 x uint32
 *         virtio_mmio/state         guest_features 2 x uint32, vqs
 *                                   array of {num uint16, enabled
 *                                   bool, desc, avail, used 2 x uint32}
 *       virtio/started            started bool
 *       virtio/packed_virtqueues  vq array of {last_avail_idx uint16,
 *                                 last_avail_wrap_counter bool, used_idx
 *                                 uint16, used_wrap_counter bool, inuse
 *                                 uint32}
 *       virtio/disabled           disabled bool
 *
 * The tables of VIRTIO_QUEUE_MAX (1024, the same in QEMU 2.4 to 11.x)
 * entries in the subsections (vq, vqs) are split at num_queues: an array
 * of num_queues structs, one per queue the device has, then the entries
 * of the queues it does not have as one run of bytes named vq_rest or
 * vqs_rest (type "unused queues"; zeros in practice), so that the BER
 * stays no larger than the legacy stream.
 *
 * So the ring size of queue N is virtio/vq[N]/vring.num, and a queue the
 * guest never set up has vring.desc 0 there (and, for virtio 1 devices,
 * vring.avail 0 in virtio/virtqueues and enabled false in the transport's
 * vqs[N]; that num is 0 unless the guest wrote a queue size).
 *
 * Nothing in the bytes says where the device's own state ends: it ends at
 * the first header of a vmstate_virtio subsection (QEMU_VM_SUBSECTION and
 * one of the names above), or at the end of the field when there is none,
 * and from there the subsections must parse exactly to the end.  (So a
 * device state that itself held such a header would be carried whole.)  The transport is the first of virtio-pci
 * (256- or 4096-byte config space), virtio-mmio and virtio-ccw whose
 * layout accounts for every byte.  When none does (a layout of a QEMU this
 * file does not know, damaged bytes), the field is reported as one run of
 * bytes, exactly as without the codec, with a warning.
 */
#include <stdio.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "legacy/field_codec.h"

#define VIRTIO_QUEUE_MAX 1024
#define PCI_CONFIG_SPACE_SIZE 0x100
#define PCIE_CONFIG_SPACE_SIZE 0x1000
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11
#define PCI_MSIX_FLAGS 2
#define PCI_MSIX_FLAGS_QSIZE 0x07ff
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_NUM_PINS 4
#define PCI_VENDOR_ID_REDHAT_QUMRANET 0x1af4

/* ---- the layouts of the subsections (QEMU's VMStateDescriptions) ---- */

typedef enum lkind {
    L_U8,
    L_U16,
    L_U32,
    L_U64,
    L_BOOL,
    L_UNUSED,  /* n bytes, type "unused_buffer" */
    L_U32S,    /* n x uint32 */
    L_U8S,     /* n x uint8 */
    L_I32,
    L_STRUCTS, /* array[n] of struct sub */
    L_QUEUES,  /* array[VIRTIO_QUEUE_MAX] of struct sub */
    L_STRUCT,  /* struct of type sub->name: sub's fields and subsections */
} lkind;

typedef struct lvmsd lvmsd;

typedef struct lfield {
    const char *name;
    lkind kind;
    uint32_t n;
    const lvmsd *sub;
} lfield;

struct lvmsd {
    const char *name;
    uint32_t version;
    const lfield *fields;       /* ends with a NULL name */
    const lvmsd *const *subs;   /* ends with NULL; may be NULL */
};

#define END {NULL, L_U8, 0, NULL}

static const lfield f_virtqueue[] = {
    {"vring.avail", L_U64, 0, NULL}, {"vring.used", L_U64, 0, NULL}, END};
static const lvmsd vq_state = {"virtqueue_state", 1, f_virtqueue, NULL};

static const lfield f_packed[] = {
    {"last_avail_idx", L_U16, 0, NULL},
    {"last_avail_wrap_counter", L_BOOL, 0, NULL},
    {"used_idx", L_U16, 0, NULL},
    {"used_wrap_counter", L_BOOL, 0, NULL},
    {"inuse", L_U32, 0, NULL},
    END};
static const lvmsd packed_state = {"packed_virtqueue_state", 1, f_packed, NULL};

static const lfield f_ringsize[] = {{"vring.num_default", L_U32, 0, NULL}, END};
static const lvmsd ringsize_state = {"ringsize_state", 1, f_ringsize, NULL};

static const lfield f_pci_queue[] = {
    {"num", L_U16, 0, NULL},    {"unused", L_UNUSED, 1, NULL},
    {"enabled", L_BOOL, 0, NULL}, {"desc", L_U32S, 2, NULL},
    {"avail", L_U32S, 2, NULL}, {"used", L_U32S, 2, NULL},
    END};
static const lvmsd pci_queue = {"virtio_pci/modern_queue_state", 1,
                                f_pci_queue, NULL};

static const lfield f_features128[] = {{"guest_features", L_U32S, 2, NULL}, END};
static const lvmsd pci_features128 = {"virtio_pci/modern_state/features128", 1,
                                      f_features128, NULL};
static const lvmsd *const pci_modern_subs[] = {&pci_features128, NULL};

static const lfield f_pci_modern[] = {
    {"dfselect", L_U32, 0, NULL}, {"gfselect", L_U32, 0, NULL},
    {"guest_features", L_U32S, 2, NULL}, {"vqs", L_QUEUES, 0, &pci_queue},
    END};
static const lvmsd pci_modern = {"virtio_pci/modern_state", 1, f_pci_modern,
                                 pci_modern_subs};
static const lvmsd *const pci_subs[] = {&pci_modern, NULL};
static const lfield f_none[] = {END};
static const lvmsd virtio_pci = {"virtio_pci", 1, f_none, pci_subs};

static const lfield f_mmio_queue[] = {
    {"num", L_U16, 0, NULL},    {"enabled", L_BOOL, 0, NULL},
    {"desc", L_U32S, 2, NULL},  {"avail", L_U32S, 2, NULL},
    {"used", L_U32S, 2, NULL},  END};
static const lvmsd mmio_queue = {"virtio_mmio/queue_state", 1, f_mmio_queue,
                                 NULL};
static const lfield f_mmio_state[] = {
    {"guest_features", L_U32S, 2, NULL}, {"vqs", L_QUEUES, 0, &mmio_queue},
    END};
static const lvmsd mmio_state = {"virtio_mmio/state", 1, f_mmio_state, NULL};
static const lvmsd *const mmio_subs[] = {&mmio_state, NULL};
static const lvmsd virtio_mmio = {"virtio_mmio", 1, f_none, mmio_subs};

/* virtio-ccw's save_config (hw/s390x/virtio-ccw.c vmstate_virtio_ccw_dev,
 * hw/s390x/ccw-device.c, hw/s390x/css.c, hw/s390x/s390_flic.c) */
#define MAX_CIWS 62
#define VIRTIO_CCW_CU_TYPE 0x3832

static const lfield f_pmcw[] = {
    {"intparm", L_U32, 0, NULL}, {"flags", L_U16, 0, NULL},
    {"devno", L_U16, 0, NULL},   {"lpm", L_U8, 0, NULL},
    {"pnom", L_U8, 0, NULL},     {"lpum", L_U8, 0, NULL},
    {"pim", L_U8, 0, NULL},      {"mbi", L_U16, 0, NULL},
    {"pom", L_U8, 0, NULL},      {"pam", L_U8, 0, NULL},
    {"chpid", L_U8S, 8, NULL},   {"chars", L_U32, 0, NULL},
    END};
static const lvmsd s390_pmcw = {"s390_pmcw", 1, f_pmcw, NULL};
static const lfield f_scsw[] = {
    {"flags", L_U16, 0, NULL}, {"ctrl", L_U16, 0, NULL},
    {"cpa", L_U32, 0, NULL},   {"dstat", L_U8, 0, NULL},
    {"cstat", L_U8, 0, NULL},  {"count", L_U16, 0, NULL},
    END};
static const lvmsd s390_scsw = {"s390_scsw", 1, f_scsw, NULL};
static const lfield f_schib[] = {
    {"pmcw", L_STRUCT, 0, &s390_pmcw}, {"scsw", L_STRUCT, 0, &s390_scsw},
    {"mba", L_U64, 0, NULL},           {"mda", L_U8S, 4, NULL},
    END};
static const lvmsd s390_schib = {"s390_schib", 1, f_schib, NULL};
static const lfield f_ccw1[] = {
    {"cmd_code", L_U8, 0, NULL}, {"flags", L_U8, 0, NULL},
    {"count", L_U16, 0, NULL},   {"cda", L_U32, 0, NULL},
    END};
static const lvmsd s390_ccw1 = {"s390_ccw1", 1, f_ccw1, NULL};
static const lfield f_ciw[] = {
    {"type", L_U8, 0, NULL}, {"command", L_U8, 0, NULL},
    {"count", L_U16, 0, NULL}, END};
static const lvmsd s390_ciw = {"s390_ciw", 1, f_ciw, NULL};
static const lfield f_sense_id[] = {
    {"reserved", L_U8, 0, NULL}, {"cu_type", L_U16, 0, NULL},
    {"cu_model", L_U8, 0, NULL}, {"dev_type", L_U16, 0, NULL},
    {"dev_model", L_U8, 0, NULL}, {"unused", L_U8, 0, NULL},
    {"ciw", L_STRUCTS, MAX_CIWS, &s390_ciw},
    END};
static const lvmsd s390_sense_id = {"s390_sense_id", 1, f_sense_id, NULL};
static const lfield f_orb[] = {
    {"intparm", L_U32, 0, NULL}, {"ctrl0", L_U16, 0, NULL},
    {"lpm", L_U8, 0, NULL},      {"ctrl1", L_U8, 0, NULL},
    {"cpa", L_U32, 0, NULL},     END};
static const lvmsd s390_orb = {"s390_orb", 1, f_orb, NULL};
static const lfield f_subch_orb[] = {{"orb", L_STRUCT, 0, &s390_orb}, END};
static const lvmsd s390_subch_orb = {"s390_subch_dev/orb", 1, f_subch_orb,
                                     NULL};
static const lvmsd *const subch_subs[] = {&s390_subch_orb, NULL};
static const lfield f_subch[] = {
    {"cssid", L_U8, 0, NULL},          {"ssid", L_U8, 0, NULL},
    {"migrated_schid", L_U16, 0, NULL}, {"devno", L_U16, 0, NULL},
    {"thinint_active", L_BOOL, 0, NULL},
    {"curr_status", L_STRUCT, 0, &s390_schib},
    {"sense_data", L_U8S, 32, NULL},   {"channel_prog", L_U64, 0, NULL},
    {"last_cmd", L_STRUCT, 0, &s390_ccw1},
    {"last_cmd_valid", L_BOOL, 0, NULL},
    {"id", L_STRUCT, 0, &s390_sense_id},
    {"ccw_fmt_1", L_BOOL, 0, NULL},    {"ccw_no_data_cnt", L_U8, 0, NULL},
    END};
static const lvmsd s390_subch_dev = {"s390_subch_dev", 1, f_subch,
                                     subch_subs};
static const lfield f_ccw_dev[] = {{"sch", L_STRUCT, 0, &s390_subch_dev}, END};
static const lvmsd s390_ccw_dev = {"s390_ccw_dev", 1, f_ccw_dev, NULL};
static const lfield f_ind_addr[] = {
    {"len", L_I32, 0, NULL}, {"addr", L_U64, 0, NULL}, END};
static const lvmsd s390_ind_addr = {"s390_ind_addr_tmp", 1, f_ind_addr, NULL};
static const lfield f_summary[] = {{"summary_offset", L_U32, 0, NULL}, END};
static const lvmsd s390_summary = {"s390_adapter_info/summary_offset", 1,
                                   f_summary, NULL};
static const lvmsd *const adapter_subs[] = {&s390_summary, NULL};
static const lfield f_adapter[] = {{"ind_offset", L_U64, 0, NULL}, END};
static const lvmsd s390_adapter_info = {"s390_adapter_info", 1, f_adapter,
                                        adapter_subs};
static const lfield f_routes[] = {
    {"adapter", L_STRUCT, 0, &s390_adapter_info}, END};
static const lvmsd s390_adapter_routes = {"s390_adapter_routes", 1, f_routes,
                                          NULL};
static const lfield f_virtio_ccw[] = {
    {"parent_obj", L_STRUCT, 0, &s390_ccw_dev},
    {"indicators", L_STRUCT, 0, &s390_ind_addr},
    {"indicators2", L_STRUCT, 0, &s390_ind_addr},
    {"summary_indicator", L_STRUCT, 0, &s390_ind_addr},
    {"config_vector", L_U16, 0, NULL},
    {"routes", L_STRUCT, 0, &s390_adapter_routes},
    {"thinint_isc", L_U8, 0, NULL},
    {"revision", L_I32, 0, NULL},
    END};
static const lvmsd virtio_ccw = {"s390_virtio_ccw_dev", 1, f_virtio_ccw,
                                 NULL};

#define SUB1(var, name, fname, kind, n, sub)                                  \
    static const lfield f_##var[] = {{fname, kind, n, sub}, END};            \
    static const lvmsd var = {name, 1, f_##var, NULL}

SUB1(s_device_endian, "virtio/device_endian", "device_endian", L_U8, 0, NULL);
SUB1(s_128bit, "virtio/128bit_features", "guest_features_ex", L_U64, 0, NULL);
SUB1(s_64bit, "virtio/64bit_features", "guest_features", L_U64, 0, NULL);
SUB1(s_virtqueues, "virtio/virtqueues", "vq", L_QUEUES, 0, &vq_state);
SUB1(s_ringsize, "virtio/ringsize", "vq", L_QUEUES, 0, &ringsize_state);
SUB1(s_broken, "virtio/broken", "broken", L_BOOL, 0, NULL);
SUB1(s_extra_pci, "virtio/extra_state", "extra_state", L_STRUCT, 0, &virtio_pci);
SUB1(s_extra_mmio, "virtio/extra_state", "extra_state", L_STRUCT, 0,
     &virtio_mmio);
SUB1(s_started, "virtio/started", "started", L_BOOL, 0, NULL);
SUB1(s_packed, "virtio/packed_virtqueues", "vq", L_QUEUES, 0, &packed_state);
SUB1(s_disabled, "virtio/disabled", "disabled", L_BOOL, 0, NULL);

#define VIRTIO_SUBS(extra)                                                    \
    {&s_device_endian, &s_128bit, &s_64bit, &s_virtqueues, &s_ringsize,       \
     &s_broken, &(extra), &s_started, &s_packed, &s_disabled, NULL}
static const lvmsd *const virtio_subs_pci[] = VIRTIO_SUBS(s_extra_pci);
static const lvmsd *const virtio_subs_mmio[] = VIRTIO_SUBS(s_extra_mmio);
/* virtio-ccw has no extra state */
static const lvmsd *const virtio_subs_ccw[] = {
    &s_device_endian, &s_128bit, &s_64bit, &s_virtqueues, &s_ringsize,
    &s_broken, &s_started, &s_packed, &s_disabled, NULL};
static const lvmsd virtio_top_pci = {"virtio", 1, f_none, virtio_subs_pci};
static const lvmsd virtio_top_ccw = {"virtio", 1, f_none, virtio_subs_ccw};
static const lvmsd virtio_top_mmio = {"virtio", 1, f_none, virtio_subs_mmio};

/* ---- a cursor over the field's bytes, reporting to a visitor ---- */

typedef enum transport { TR_PCI, TR_MMIO, TR_CCW } transport;

/* What the check pass found out; the emit pass follows it. */
typedef struct plan {
    transport tr;
    size_t config_space;  /* PCI: 256 or 4096 */
    uint32_t msix;        /* PCI: MSI-X vectors, 0 when absent */
    size_t device_len;    /* the device's own state */
} plan;

typedef struct cur {
    const uint8_t *p;
    size_t len, pos;
    mc_visitor *v;        /* NULL: check only */
    mc_error **errp;      /* the visitor's errors */
    uint32_t nq;          /* num_queues of the queue table */
    bool open_end;        /* measuring: the field ends where the
                             subsections end, not at len */
    const char *why;      /* check pass: why the bytes do not fit */
    size_t why_at;
} cur;

static bool misfit(cur *c, const char *why)
{
    if (!c->why) {
        c->why = why;
        c->why_at = c->pos;
    }
    return false;
}

static bool need(cur *c, size_t n)
{
    return n <= c->len - c->pos || misfit(c, "the field ends early");
}

static bool c_int(cur *c, const char *name, const char *type, mc_wire_type wt)
{
    unsigned w = mc_wire_type_width(wt);
    if (!need(c, w)) {
        return false;
    }
    uint64_t raw = mc_get_be(c->p + c->pos, w);
    c->pos += w;
    if (!c->v) {
        return true;
    }
    if (wt == MC_WT_BOOL && raw > 1) {
        wt = MC_WT_U8; /* keep the exact byte; the type still says bool */
    }
    mc_field f = {name, type};
    return mc_visit_int(c->v, &f, wt, raw, c->errp);
}

static bool c_bytes(cur *c, const char *name, const char *type, size_t n)
{
    if (!need(c, n)) {
        return false;
    }
    const uint8_t *q = c->p + c->pos;
    c->pos += n;
    mc_field f = {name, type};
    return !c->v || mc_visit_bytes(c->v, &f, q, n, c->errp);
}

static bool c_packed(cur *c, const char *name, const char *type,
                     mc_wire_type wt, uint32_t count)
{
    size_t n = (size_t)count * mc_wire_type_width(wt);
    if (!need(c, n)) {
        return false;
    }
    const uint8_t *q = c->p + c->pos;
    c->pos += n;
    mc_field f = {name, type};
    return !c->v || mc_visit_packed(c->v, &f, wt, count, q, c->errp);
}

static bool c_start_struct(cur *c, const char *name, const char *type)
{
    mc_field f = {name, type};
    return !c->v || mc_visit_start_struct(c->v, &f, c->errp);
}

static bool c_end_struct(cur *c)
{
    return !c->v || mc_visit_end_struct(c->v, c->errp);
}

static bool c_start_array(cur *c, const char *name, const char *type,
                          uint32_t count)
{
    mc_field f = {name, type};
    return !c->v || mc_visit_start_array(c->v, &f, count, c->errp);
}

static bool c_end_array(cur *c)
{
    return !c->v || mc_visit_end_array(c->v, c->errp);
}

/* ---- subsections ---- */

static bool c_vmsd(cur *c, const lvmsd *m);

/* Bytes of one queue entry (fixed-size fields only). */
static size_t lvmsd_size(const lvmsd *m)
{
    static const size_t width[] = {
        [L_U8] = 1, [L_U16] = 2, [L_U32] = 4, [L_U64] = 8, [L_BOOL] = 1,
    };
    size_t n = 0;
    for (const lfield *lf = m->fields; lf->name; lf++) {
        n += lf->kind == L_UNUSED ? lf->n
             : lf->kind == L_U32S ? 4u * lf->n
                                  : width[lf->kind];
    }
    return n;
}

static bool c_lfield(cur *c, const lfield *lf)
{
    switch (lf->kind) {
    case L_U8:
        return c_int(c, lf->name, "uint8", MC_WT_U8);
    case L_U16:
        return c_int(c, lf->name, "uint16", MC_WT_U16);
    case L_U32:
        return c_int(c, lf->name, "uint32", MC_WT_U32);
    case L_U64:
        return c_int(c, lf->name, "uint64", MC_WT_U64);
    case L_BOOL:
        return c_int(c, lf->name, "bool", MC_WT_BOOL);
    case L_UNUSED:
        return c_bytes(c, lf->name, "unused_buffer", lf->n);
    case L_U32S:
        return c_packed(c, lf->name, "uint32", MC_WT_U32, lf->n);
    case L_U8S:
        return c_packed(c, lf->name, "uint8", MC_WT_U8, lf->n);
    case L_I32:
        return c_int(c, lf->name, "int32", MC_WT_I32);
    case L_STRUCTS:
        if (!c_start_array(c, lf->name, lf->sub->name, lf->n)) {
            return false;
        }
        for (uint32_t i = 0; i < lf->n; i++) {
            if (!c_start_struct(c, NULL, lf->sub->name) ||
                !c_vmsd(c, lf->sub) || !c_end_struct(c)) {
                return false;
            }
        }
        return c_end_array(c);
    case L_QUEUES: {
        /* The queues in use as structs, the rest of the VIRTIO_QUEUE_MAX
         * entries (state of queues the device does not have, zeros in
         * practice) as one run of bytes. */
        if (!c_start_array(c, lf->name, "struct", c->nq)) {
            return false;
        }
        for (uint32_t i = 0; i < c->nq; i++) {
            if (!c_start_struct(c, NULL, "struct") || !c_vmsd(c, lf->sub) ||
                !c_end_struct(c)) {
                return false;
            }
        }
        char rest[64];
        snprintf(rest, sizeof(rest), "%s_rest", lf->name);
        return c_end_array(c) &&
               c_bytes(c, rest, "unused queues",
                       (size_t)(VIRTIO_QUEUE_MAX - c->nq) * lvmsd_size(lf->sub));
    }
    case L_STRUCT:
        return c_start_struct(c, lf->name, lf->sub->name) &&
               c_vmsd(c, lf->sub) && c_end_struct(c);
    }
    return false;
}

/*
 * The subsections of m that follow at the cursor, as QEMU's
 * vmstate_subsection_load finds them: QEMU_VM_SUBSECTION, a counted name,
 * a be32 version.  Stops at the first bytes that are not a subsection of
 * m (the caller decides whether that is the end).
 */
static bool c_subsections(cur *c, const lvmsd *m)
{
    uint32_t seen = 0;
    while (m->subs && c->len - c->pos >= 2 && c->p[c->pos] == MC_VM_SUBSECTION) {
        size_t nl = c->p[c->pos + 1];
        if (c->len - c->pos < 2 + nl + 4) {
            return true;
        }
        const char *name = (const char *)c->p + c->pos + 2;
        size_t k;
        for (k = 0; m->subs[k]; k++) {
            if (strlen(m->subs[k]->name) == nl &&
                memcmp(m->subs[k]->name, name, nl) == 0) {
                break;
            }
        }
        const lvmsd *sub = m->subs[k];
        if (!sub) {
            return true;
        }
        if (seen & (1u << k)) {
            return misfit(c, "a subsection comes twice");
        }
        seen |= 1u << k;
        uint32_t version = (uint32_t)mc_get_be(c->p + c->pos + 2 + nl, 4);
        if (version != sub->version) {
            return misfit(c, "a subsection has a version this layout does "
                             "not know");
        }
        c->pos += 2 + nl + 4;
        if ((c->v && !mc_visit_start_subsection(c->v, sub->name, version,
                                                c->errp)) ||
            !c_vmsd(c, sub) ||
            (c->v && !mc_visit_end_subsection(c->v, c->errp))) {
            return false;
        }
    }
    return true;
}

static bool c_vmsd(cur *c, const lvmsd *m)
{
    for (const lfield *lf = m->fields; lf->name; lf++) {
        if (!c_lfield(c, lf)) {
            return false;
        }
    }
    return c_subsections(c, m);
}

/* Do the n bytes at name (of which avail are there) name a subsection
 * of vmstate_virtio? */
static bool top_subsection_named(const uint8_t *name, size_t n, size_t avail)
{
    if (n > avail) {
        return false;
    }
    for (const lvmsd *const *m = virtio_subs_pci; *m; m++) {
        if (strlen((*m)->name) == n && memcmp((*m)->name, name, n) == 0) {
            return true;
        }
    }
    return false;
}

/* The vmstate_virtio subsections from the cursor to the end of the field. */
static bool c_virtio_subsections(cur *c, transport tr)
{
    if (!c_vmsd(c, tr == TR_PCI    ? &virtio_top_pci
                   : tr == TR_CCW ? &virtio_top_ccw
                                  : &virtio_top_mmio)) {
        return false;
    }
    if (c->open_end) {
        /* what follows is the next field or the section's end, unless it
         * is a vmstate_virtio subsection this layout does not know */
        static const char prefix[] = "virtio/";
        return !(c->len - c->pos >= 2 + sizeof(prefix) - 1 &&
                 c->p[c->pos] == MC_VM_SUBSECTION &&
                 memcmp(c->p + c->pos + 2, prefix, sizeof(prefix) - 1) == 0) ||
               misfit(c, "a subsection this layout does not know");
    }
    return c->pos == c->len ||
           misfit(c, c->p[c->pos] == MC_VM_SUBSECTION
                         ? "a subsection this layout does not know"
                         : "bytes after the subsections");
}

/* ---- transports ---- */

/* Offset of capability id in a config space's capability list, or 0. */
static unsigned find_cap(const uint8_t *cfg, uint8_t id)
{
    if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    unsigned p = cfg[PCI_CAPABILITY_LIST] & ~3u;
    for (int hops = 0; p >= 0x40 && hops < 48; hops++) {
        if (cfg[p] == id) {
            return p;
        }
        p = cfg[p + 1] & ~3u;
    }
    return 0;
}

/* MSI-X vectors announced by a config space (msix_present: 0 without). */
static uint32_t msix_vectors(const uint8_t *cfg)
{
    unsigned p = find_cap(cfg, PCI_CAP_ID_MSIX);
    if (!p) {
        return 0;
    }
    uint16_t flags = (uint16_t)(cfg[p + PCI_MSIX_FLAGS] |
                                cfg[p + PCI_MSIX_FLAGS + 1] << 8);
    return (flags & PCI_MSIX_FLAGS_QSIZE) + 1u;
}

static bool c_transport(cur *c, plan *pl)
{
    if (pl->tr == TR_CCW) {
        /* the subchannel's sense id names the virtio-ccw control unit:
         * a field of another transport does not pass for one */
        enum { SENSE_ID_AT = 7 + 52 + 32 + 8 + 8 + 1 };
        if (!c->v && (!need(c, SENSE_ID_AT + 3) ||
                      c->p[c->pos + SENSE_ID_AT] != 0xff ||
                      mc_get_be(c->p + c->pos + SENSE_ID_AT + 1, 2) !=
                          VIRTIO_CCW_CU_TYPE)) {
            return misfit(c, "no virtio-ccw subchannel (sense id)");
        }
        return c_start_struct(c, "transport", "virtio-ccw") &&
               c_vmsd(c, &virtio_ccw) && c_end_struct(c);
    }
    if (pl->tr == TR_MMIO) {
        return c_start_struct(c, "transport", "virtio-mmio") &&
               c_int(c, "host_features_sel", "uint32", MC_WT_U32) &&
               c_int(c, "guest_features_sel", "uint32", MC_WT_U32) &&
               c_int(c, "guest_page_shift", "uint32", MC_WT_U32) &&
               c_end_struct(c);
    }
    /* PCIDevice's version_id is 2 and every virtio-pci device has
     * PCI_VENDOR_ID_REDHAT_QUMRANET: a field of another transport does
     * not pass for one. */
    if (!c->v) {
        if (!need(c, 4 + pl->config_space)) {
            return false;
        }
        const uint8_t *cfg = c->p + c->pos + 4;
        if (mc_get_be(c->p + c->pos, 4) != 2 ||
            cfg[0] != (PCI_VENDOR_ID_REDHAT_QUMRANET & 0xff) ||
            cfg[1] != PCI_VENDOR_ID_REDHAT_QUMRANET >> 8) {
            return misfit(c, "no virtio-pci PCIDevice state");
        }
        /* pci_device_save writes 4096 bytes exactly for PCI Express
         * devices, and those have the PCI Express capability. */
        if ((find_cap(cfg, PCI_CAP_ID_EXP) != 0) !=
            (pl->config_space == PCIE_CONFIG_SPACE_SIZE)) {
            return misfit(c, "the config space size does not match its "
                             "PCI Express capability");
        }
        pl->msix = msix_vectors(cfg);
    }
    if (!c_start_struct(c, "transport", "virtio-pci") ||
        !c_start_struct(c, "pci_dev",
                        pl->config_space == PCI_CONFIG_SPACE_SIZE
                            ? "PCIDevice"
                            : "PCIEDevice") ||
        !c_int(c, "version_id", "int32", MC_WT_I32)) {
        return false;
    }
    if (!c_bytes(c, "config", "pci config", pl->config_space) ||
        !c_packed(c, "irq_state", "pci irq state", MC_WT_I32, PCI_NUM_PINS) ||
        !c_end_struct(c)) {
        return false;
    }
    if (pl->msix &&
        (!c_bytes(c, "msix_table", "msix table",
                  (size_t)pl->msix * PCI_MSIX_ENTRY_SIZE) ||
         !c_bytes(c, "msix_pba", "msix pba", (pl->msix + 7) / 8) ||
         !c_int(c, "config_vector", "uint16", MC_WT_U16))) {
        return false;
    }
    return c_end_struct(c);
}

/* The whole field.  Check pass (c->v NULL): fills in pl->msix and
 * pl->device_len.  Emit pass: follows pl. */
static bool c_virtio(cur *c, plan *pl)
{
    if (!c_transport(c, pl) ||
        !c_int(c, "status", "uint8", MC_WT_U8) ||
        !c_int(c, "isr", "uint8", MC_WT_U8) ||
        !c_int(c, "queue_sel", "uint16", MC_WT_U16) ||
        !c_int(c, "guest_features_lo", "uint32", MC_WT_U32)) {
        return false;
    }
    if (!need(c, 4)) {
        return false;
    }
    uint32_t config_len = (uint32_t)mc_get_be(c->p + c->pos, 4);
    if (!c_int(c, "config_len", "uint32", MC_WT_U32) ||
        !c_bytes(c, "config", "virtio config", config_len) ||
        !need(c, 4)) {
        return false;
    }
    uint32_t nq = (uint32_t)mc_get_be(c->p + c->pos, 4);
    if (nq > VIRTIO_QUEUE_MAX) {
        return misfit(c, "more queues than VIRTIO_QUEUE_MAX");
    }
    c->nq = nq;
    if (!c_int(c, "num_queues", "uint32", MC_WT_U32) ||
        !c_start_array(c, "vq", "virtqueue", nq)) {
        return false;
    }
    for (uint32_t i = 0; i < nq; i++) {
        if (!c_start_struct(c, NULL, "virtqueue") ||
            !c_int(c, "vring.num", "uint32", MC_WT_U32) ||
            (pl->tr == TR_MMIO &&
             !c_int(c, "vring.align", "uint32", MC_WT_U32)) ||
            !c_int(c, "vring.desc", "uint64", MC_WT_U64) ||
            !c_int(c, "last_avail_idx", "uint16", MC_WT_U16) ||
            (((pl->tr == TR_PCI && pl->msix) || pl->tr == TR_CCW) &&
             !c_int(c, "vector", "uint16", MC_WT_U16)) ||
            !c_end_struct(c)) {
            return false;
        }
    }
    if (!c_end_array(c)) {
        return false;
    }
    if (!c->v) {
        /* The device's state ends at the first vmstate_virtio subsection
         * header (a known name, counted as QEMU counts it), or at the end
         * of the field when there is none; from there the subsections
         * must parse exactly to the end. */
        size_t start = c->pos, p;
        for (p = start; p < c->len; p++) {
            if (c->p[p] == MC_VM_SUBSECTION && c->len - p >= 2 &&
                top_subsection_named(c->p + p + 2, c->p[p + 1],
                                     c->len - p - 2)) {
                break;
            }
        }
        if (p == c->len && c->open_end) {
            /* the input goes on past the field: its end is unknown */
            return misfit(c, "no subsections to end the device state");
        }
        c->pos = p;
        pl->device_len = p - start;
        return c_virtio_subsections(c, pl->tr);
    }
    return c_bytes(c, "device", "virtio device", pl->device_len) &&
           c_virtio_subsections(c, pl->tr);
}

static bool virtio_visit(const mc_field_env *env, mc_visitor *v,
                         const mc_field *f, const uint8_t *data, size_t len,
                         mc_error **errp)
{
    static const plan tries[] = {
        {TR_PCI, PCI_CONFIG_SPACE_SIZE, 0, 0},
        {TR_PCI, PCIE_CONFIG_SPACE_SIZE, 0, 0},
        {TR_MMIO, 0, 0, 0},
        {TR_CCW, 0, 0, 0},
    };
    plan pl;
    const char *why = NULL;
    size_t why_at = 0;
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        pl = tries[i];
        cur c = {.p = data, .len = len};
        if (c_virtio(&c, &pl)) {
            cur e = {.p = data, .len = len, .v = v, .errp = errp};
            return mc_visit_start_struct(v, f, errp) && c_virtio(&e, &pl) &&
                   mc_visit_end_struct(v, errp);
        }
        if (!why || c.why_at > why_at) {
            why = c.why;
            why_at = c.why_at;
        }
    }
    if (env->warn) {
        mc_error *w = NULL;
        mc_error_data(&w, env->offset + why_at, env->path,
                      "the virtio field does not fit the virtio-pci, "
                      "virtio-mmio or virtio-ccw layout of virtio_save (%s "
                      "at byte %zu of the field); carrying its %zu bytes "
                      "unparsed",
                      why, why_at, len);
        env->warn(env->warn_opaque, w);
        mc_error_free(w);
    }
    return mc_visit_bytes(v, f, data, len, errp);
}

/*
 * Without a vmdesc, the descriptor tables give the field the size it had
 * in the streams they were made from; the same device has another size
 * when its guest ran (virtio/started, virtio/disabled), had other queues
 * or another QEMU version wrote it.  The guess stands when the bytes fit
 * it exactly and no further vmstate_virtio subsection follows; otherwise
 * the field ends where its subsections end.
 */
static bool virtio_measure(const uint8_t *data, size_t avail, size_t guess,
                           size_t *len)
{
    static const plan tries[] = {
        {TR_PCI, PCI_CONFIG_SPACE_SIZE, 0, 0},
        {TR_PCI, PCIE_CONFIG_SPACE_SIZE, 0, 0},
        {TR_MMIO, 0, 0, 0},
        {TR_CCW, 0, 0, 0},
    };
    for (int open_end = 0; open_end < 2; open_end++) {
        for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
            plan pl = tries[i];
            cur c = {.p = data, .len = open_end ? avail : guess,
                     .open_end = open_end};
            if ((open_end || guess <= avail) && c_virtio(&c, &pl) &&
                (open_end || !(avail - guess >= 2 &&
                               data[guess] == MC_VM_SUBSECTION &&
                               top_subsection_named(data + guess + 2,
                                                    data[guess + 1],
                                                    avail - guess - 2)))) {
                *len = c.pos;
                return true;
            }
        }
    }
    return false;
}

const mc_field_codec mc_virtio_codec = {
    .type = "virtio",
    .visit = virtio_visit,
    .measure = virtio_measure,
};
