#!/usr/bin/env bash
# The virtio field of real QEMU 7.2 streams comes out as named fields
# (src/legacy/virtio.c), checked with `migconv dump` and jq against what the
# VMs of tests/qemu/fixtures.py have: q35-devices (-smp 2) with
# virtio-net-pci, virtio-serial-pci, virtio-balloon-pci and virtio-scsi-pci,
# x86-microvm with virtio-rng-device on virtio-mmio, q35-virtio-ran and
# q35-virtio-ran-suppress after SeaBIOS drove virtio-blk.  A damaged virtio field
# falls back to exact bytes with a warning and still round-trips.
set -u
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "jq not installed"; exit 77; }

# jq_ok NAME FILE FILTER: the filter yields true
# (an empty or missing file fails: jq -e would pass it)
jq_ok() {
    if [ -s "$2" ] && jq -e "$3" "$2" >/dev/null 2>"$WORK/jq.err"; then
        ok "$1"
    else
        bad "$1" "$(head -c 300 "$WORK/jq.err")"
    fi
}

# virtio DEVICE: the decoded virtio struct of the section named DEVICE
virtio() { printf '[.items[] | select(.idstr? == "%s") | .fields[] | select(.name == "virtio")][0]' "$1"; }
# FIELD NAME of a struct
fld() { printf '(.fields[] | select(.name == "%s"))' "$1"; }
sub() { printf '(.subsections[] | select(.name == "%s"))' "$1"; }
nums() { printf '[%s | .array[] | %s.value]' "$(fld vq)" "$(fld vring.num)"; }

for n in q35-devices q35-devices-suppress; do
    f=$FIXTURES/$n.mig
    [ -f "$f" ] || { bad "$n: fixture missing"; continue; }
    expect_exit "$n: dump" 0 "$MIGCONV" dump "$f"
    mv "$WORK/out" "$WORK/$n.json"
    check "$n: no warnings" test ! -s "$WORK/err"
    J=$WORK/$n.json
    # every virtio field is a struct now, none is left as bytes
    jq_ok "$n: four virtio fields, all decoded" "$J" \
        '[.. | objects | select(.type == "virtio")] | length == 4 and all(has("fields"))'
    net=$(virtio 0000:00:01.0/virtio-net)
    ser=$(virtio 0000:00:06.0/virtio-console)
    bal=$(virtio 0000:00:07.0/virtio-balloon)
    scsi=$(virtio 0000:00:08.0/virtio-scsi)
    # virtio-net: one queue pair (rx, tx: 256) and the control queue (64)
    jq_ok "$n: virtio-net has 3 queues of 256, 256, 64" "$J" \
        "$net | ($(fld num_queues).value == 3) and ($(nums) == [256, 256, 64])"
    # virtio-serial: 31 ports + control: 64 queues, control rx/tx are 32
    jq_ok "$n: virtio-serial has 64 queues, the control pair of 32" "$J" \
        "$ser | ($(fld num_queues).value == 64) and ($(nums) | length == 64 and .[2] == 32 and .[3] == 32 and (del(.[2,3]) | all(. == 128)))"
    # virtio-balloon: inflate, deflate, stats, 128 each; no MSI-X
    jq_ok "$n: virtio-balloon has 3 queues of 128, no MSI-X" "$J" \
        "$bal | ($(nums) == [128, 128, 128]) and ([$(fld transport).fields[].name] == [\"pci_dev\"])"
    # virtio-scsi: control, event and one request queue per vCPU (-smp 2)
    jq_ok "$n: virtio-scsi has 4 queues of 256 (2 request queues)" "$J" \
        "$scsi | $(nums) == [256, 256, 256, 256]"
    # MSI-X: 2 * pairs + 2 vectors for virtio-net, 2 for virtio-serial,
    # request queues + 3 for virtio-scsi; 16 bytes each in the table
    jq_ok "$n: MSI-X tables of 4, 2 and 5 vectors" "$J" \
        "[($net), ($ser), ($scsi) | $(fld transport) | $(fld msix_table).length] == [64, 32, 80]"
    # the PCI config space starts with the virtio vendor id 0x1af4
    jq_ok "$n: PCI config of 256 bytes from vendor 0x1af4" "$J" \
        "[($net), ($ser), ($bal), ($scsi) | $(fld transport) | $(fld pci_dev) | $(fld config) | (.length == 256 and (.hex | startswith(\"f41a\")))] | all"
    # the guest (paused firmware) never set the devices up: status 0,
    # no ring addresses, nothing consumed
    jq_ok "$n: status 0, every queue without ring address or progress" "$J" \
        "[($net), ($ser), ($bal), ($scsi) | ($(fld status).value == 0) and ([$(fld vq) | .array[] | ($(fld vring.desc).value == 0 and $(fld last_avail_idx).value == 0)] | all)] | all"
    # features: VIRTIO_F_VERSION_1 is not negotiated (guest_features 0),
    # the subsections of a modern virtio-pci device are there
    jq_ok "$n: subsections 64bit_features, virtqueues, extra_state" "$J" \
        "[($net), ($ser), ($bal), ($scsi) | [.subsections[].name]] | all(. == [\"virtio/64bit_features\", \"virtio/virtqueues\", \"virtio/extra_state\"])"
    # the queue tables of VIRTIO_QUEUE_MAX entries: one struct per queue
    # the device has, the other entries as bytes
    jq_ok "$n: virtqueues and modern_state vqs cover 1024 queues" "$J" \
        "$net | ($(sub virtio/virtqueues) | ($(fld vq).count == 3) and ($(fld vq_rest).length == 1021 * 16)) and ($(sub virtio/extra_state) | $(fld extra_state) | $(sub virtio_pci/modern_state) | ($(fld vqs).count == 3) and ($(fld vqs_rest).length == 1021 * 28))"
    # the device's own state: virtio-net-device's vmsd, virtio-serial's
    # save, virtio-balloon's 8 bytes (num_pages, actual), none for scsi
    jq_ok "$n: device state 545, 16, 8, 0 bytes" "$J" \
        "[($net), ($ser), ($bal), ($scsi) | $(fld device).length] == [545, 16, 8, 0]"
done

# x86 microvm: virtio-mmio, legacy mode (no extra_state), one queue of 8
# with the variable ring alignment of 4096
J=$WORK/microvm.json
"$MIGCONV" dump "$FIXTURES/x86-microvm.mig" >"$J" 2>"$WORK/err"
check "x86-microvm: no warnings" test ! -s "$WORK/err"
rng=$(virtio virtio-mmio@00000000feb02e00/virtio-rng)
jq_ok "x86-microvm: virtio-mmio transport, one queue of 8 aligned 4096" "$J" \
    "$rng | ($(fld transport).type == \"virtio-mmio\") and ($(fld vq).array[0] | ($(fld vring.num).value == 8) and ($(fld vring.align).value == 4096)) and ([.subsections[].name] == [\"virtio/64bit_features\"])"

# q35-virtio-ran: SeaBIOS drove virtio-blk to read the boot sector: the
# device is DRIVER_OK (status 15), its request queue has a ring and
# consumed requests, and the three places that hold the ring agree: the
# queue table (vring.desc), virtio/virtqueues (vring.avail, vring.used) and
# the transport's virtio_pci/modern_state (desc, avail, used as lo/hi)
J=$WORK/ran.json
"$MIGCONV" dump "$FIXTURES/q35-virtio-ran.mig" >"$J" 2>"$WORK/err"
check "q35-virtio-ran: no warnings" test ! -s "$WORK/err"
blk=$(virtio 0000:00:01.0/virtio-blk)
modern="$(sub virtio/extra_state) | $(fld extra_state) | $(sub virtio_pci/modern_state) | $(fld vqs).array[0]"
jq_ok "q35-virtio-ran: virtio-blk DRIVER_OK, started, queue 0 in use" "$J" \
    "$blk | ($(fld status).value == 15) and ($(sub virtio/started) | $(fld started).value == true) and ($(fld vq).array[0] | ($(fld vring.num).value == 256) and ($(fld vring.desc).value > 0) and ($(fld last_avail_idx).value > 0))"
jq_ok "q35-virtio-ran: queue 0's ring the same in all three places" "$J" \
    "$blk | ($(fld vq).array[0] | $(fld vring.desc).value) as \$d | ($(sub virtio/virtqueues) | $(fld vq).array[0]) as \$q | ($modern) as \$m | (\$m | $(fld desc).packed) == [\$d % 4294967296, (\$d / 4294967296 | floor)] and (\$m | $(fld avail).packed[0]) == (\$q | $(fld vring.avail).value) and (\$m | $(fld used).packed[0]) == (\$q | $(fld vring.used).value) and (\$m | $(fld enabled).value == true)"
jq_ok "q35-virtio-ran: the queue SeaBIOS did not use has no ring" "$J" \
    "$blk | $(fld vq).array[1] | $(fld vring.desc).value == 0"

# q35-virtio-ran-suppress has no vmdesc: the tables give virtio-net's
# field the size it has in q35-devices, but after SeaBIOS ran it also has
# virtio/disabled; its size comes from its bytes and all four decode
J=$WORK/ransup.json
"$MIGCONV" dump "$FIXTURES/q35-virtio-ran-suppress.mig" >"$J" 2>"$WORK/err"
check "q35-virtio-ran-suppress: no warnings" test ! -s "$WORK/err"
jq_ok "q35-virtio-ran-suppress: four virtio fields, all decoded" "$J" \
    '[.. | objects | select(.type == "virtio")] | length == 4 and all(has("fields"))'
jq_ok "q35-virtio-ran-suppress: virtio-net has virtio/disabled (q35-devices has not)" "$J" \
    "$(virtio 0000:00:02.0/virtio-net) | [.subsections[].name] | index(\"virtio/disabled\") != null"
jq_ok "control: q35-devices' virtio-net has no virtio/disabled" "$WORK/q35-devices.json" \
    "$(virtio 0000:00:01.0/virtio-net) | [.subsections[].name] | index(\"virtio/disabled\") == null"

# BER carries the named fields (not a buffer), and back to the same bytes
f=$FIXTURES/q35-devices.mig
"$MIGCONV" legacy-to-ber -q "$f" "$WORK/q.ber"
"$MIGCONV" dump "$WORK/q.ber" >"$WORK/qber.json"
check "q35-devices: the BER's dump equals the legacy stream's" cmp -s "$WORK/qber.json" "$WORK/q35-devices.json"
"$MIGCONV" ber-to-legacy -q "$WORK/q.ber" "$WORK/q.mig"
check "q35-devices: legacy->BER->legacy identical" cmp -s "$WORK/q.mig" "$f"

# Negative control: damage the virtio field of virtio-balloon (its
# virtio/virtqueues subsection gets version 2).  The field is carried as
# its exact 45541 bytes with a warning naming it; the other three still
# decode; the stream converts and round-trips.
python3 - "$f" "$WORK/damaged.mig" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
name = b'0000:00:07.0/virtio-balloon'
sec = b.index(bytes([len(name)]) + name)
hdr = b'\x05\x11virtio/virtqueues\x00\x00\x00\x01'
at = b.index(hdr, sec) + len(hdr) - 1
b[at] = 2
open(sys.argv[2], 'wb').write(b)
PY
expect_exit "damaged: dump still succeeds" 0 "$MIGCONV" dump "$WORK/damaged.mig"
mv "$WORK/out" "$WORK/damaged.json"
expect_err "damaged: warning names the field and keeps its bytes" \
    'warning: offset [0-9]+: full 0000:00:07.0/virtio-balloon \(id [0-9]+\)/virtio: the virtio field does not fit .*version.*carrying its 45541 bytes unparsed'
check "damaged: exactly one warning" test "$(grep -c warning "$WORK/err")" -eq 1
jq_ok "damaged: virtio-balloon's field is bytes, the others decoded" "$WORK/damaged.json" \
    "($(virtio 0000:00:07.0/virtio-balloon) | .length == 45541 and (has(\"fields\") | not)) and ([.. | objects | select(.type == \"virtio\") | has(\"fields\")] | sort == [false, true, true, true])"
"$MIGCONV" legacy-to-ber -q "$WORK/damaged.mig" "$WORK/damaged.ber"
"$MIGCONV" ber-to-legacy -q "$WORK/damaged.ber" - | cmp -s - "$WORK/damaged.mig"
check "damaged: legacy->BER->legacy identical" test "${PIPESTATUS[1]:-0}" -eq 0
# the control shows the check can fail: the undamaged stream has no
# bytes-only virtio field
jq_ok "control: undamaged virtio-balloon decoded" "$WORK/q35-devices.json" \
    "$(virtio 0000:00:07.0/virtio-balloon) | has(\"fields\")"
# s390x: virtio-ccw, whose transport state is the subchannel's
# (s390_virtio_ccw_dev), in the streams of every version
for v in 5.2 7.2 10.0 11.1; do
    f=$FIXTURES/../qemu-$v/s390x-ccw-virtio.mig
    [ -f "$f" ] || { bad "$v s390x-ccw-virtio: fixture missing"; continue; }
    J=$WORK/ccw-$v.json
    "$MIGCONV" dump "$f" >"$J" 2>"$WORK/err"
    check "$v s390x-ccw-virtio: no virtio field warning" eval '! grep -q "virtio field" "$WORK/err"'
    bal=$(virtio /fe.0.0000/virtio-balloon)
    rng=$(virtio /fe.0.0001/virtio-rng)
    jq_ok "$v s390x-ccw-virtio: both fields decoded, transport virtio-ccw" "$J" \
        "[($bal), ($rng) | $(fld transport).type] == [\"virtio-ccw\", \"virtio-ccw\"]"
    # (QEMU 10.0 writes vring.num 1024 for every queue, as on x86)
    want='[[128, 128, 128], [8]]'
    [ "$v" = 10.0 ] && want='[[1024, 1024, 1024], [1024]]'
    jq_ok "$v s390x-ccw-virtio: balloon has 3 queues, rng 1, sizes $want, each with its vector" "$J" \
        "[($bal), ($rng) | [$(fld vq) | .array[] | [.fields[].name] == [\"vring.num\", \"vring.desc\", \"last_avail_idx\", \"vector\"]] | all] == [true, true] and [($bal), ($rng) | $(nums)] == $want"
    sch="$(fld transport) | $(fld parent_obj) | $(fld sch)"
    jq_ok "$v s390x-ccw-virtio: subchannel cssid 0xfe, devnos 0 and 1, control unit 0x3832" "$J" \
        "[($bal), ($rng) | $sch | [$(fld cssid).value, $(fld devno).value, ($(fld id) | $(fld cu_type).value)]] == [[254, 0, 14386], [254, 1, 14386]]"
    "$MIGCONV" legacy-to-ber -q -f "$f" "$WORK/ccw.ber" && "$MIGCONV" ber-to-legacy -q -f "$WORK/ccw.ber" "$WORK/ccw.mig"
    check "$v s390x-ccw-virtio: legacy->BER->legacy identical" cmp -s "$WORK/ccw.mig" "$f"
done
# Negative control: the balloon's sense id no longer names the virtio-ccw
# control unit: its field is carried as bytes with a warning, the rng's
# still decodes, the stream still round-trips
f=$FIXTURES/../qemu-11.1/s390x-ccw-virtio.mig
python3 - "$f" "$WORK/ccw-bad.mig" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
name = b'/fe.0.0000/virtio-balloon'
at = b.index(bytes([len(name)]) + name) + 1 + len(name) + 8
sense_id = at + 7 + 52 + 32 + 8 + 8 + 1
assert b[sense_id:sense_id + 3] == b'\xff\x38\x32'
b[sense_id + 1] = 0x39
open(sys.argv[2], 'wb').write(b)
PY
"$MIGCONV" dump "$WORK/ccw-bad.mig" >"$WORK/ccw-bad.json" 2>"$WORK/err"
expect_err "damaged sense id: the balloon's field is carried with a warning" \
    "virtio-balloon.*does not fit the virtio-pci, virtio-mmio or virtio-ccw layout.*unparsed"
jq_ok "damaged sense id: balloon as bytes, rng decoded" "$WORK/ccw-bad.json" \
    "[($(virtio /fe.0.0000/virtio-balloon) | has(\"fields\")), ($(virtio /fe.0.0001/virtio-rng) | has(\"fields\"))] == [false, true]"
"$MIGCONV" legacy-to-ber -q -f "$WORK/ccw-bad.mig" "$WORK/ccw.ber" && "$MIGCONV" ber-to-legacy -q -f "$WORK/ccw.ber" "$WORK/ccw.mig"
check "damaged sense id: legacy->BER->legacy identical" cmp -s "$WORK/ccw.mig" "$WORK/ccw-bad.mig"
finish
