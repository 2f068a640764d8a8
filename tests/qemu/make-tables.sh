#!/bin/sh
# Regenerate the built-in descriptor tables, one file per QEMU version and
# target (src/desc/tables-qemu-VERSION-TARGET.json), from the committed
# fixtures of that version that carry a vmdesc:
#   tests/qemu/make-tables.sh MIGCONV_BINARY
# QEMU 7.2's come from tests/fixtures/streams (plus its pc-q35-5.2 and
# pc-i440fx-5.2 streams in tests/fixtures/qemu-7.2, appended so that the
# layouts learnt from the first list keep their order), the others from
# tests/fixtures/qemu-VERSION.  Each target gets tables of its own: vmsd
# names such as "cpu" stand for other layouts on other targets.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
mc=${1:?migconv binary}
out=$top/src/desc
tables() { # VERSION TARGET STREAM...
    v=$1 t=$2
    shift 2
    "$mc" tables -q -f -o "$out/tables-qemu-$v-$t.json" "$@"
}
s=$top/tests/fixtures/streams
q=$top/tests/fixtures/qemu-7.2
tables 7.2 x86 \
    "$s/pc-bare.mig" "$s/q35-bare.mig" "$s/q35-devices.mig" "$s/pc-ran.mig" \
    "$s/pc-kvm.mig" "$s/pc-1.4.mig" "$s/pc-2.3.mig" "$s/pc-loader.mig" \
    "$s/pc-xbzrle.mig" "$s/pc-compress.mig" "$s/pc-postcopy.mig" \
    "$s/q35-ignore-shared.mig" "$s/x86-microvm.mig" \
    "$q/q35-5.2-devices.mig" "$q/pc-5.2-bare.mig"
tables 7.2 aarch64 "$s/aarch64-virt.mig"
tables 7.2 ppc64 "$s/ppc64-pseries.mig"
tables 7.2 s390x "$s/s390x-ccw.mig" "$q/s390x-ccw-virtio.mig"
tables 7.2 riscv64 "$s/riscv64-virt.mig"
for v in 5.2 10.0 11.1; do
    d=$top/tests/fixtures/qemu-$v
    tables "$v" x86 "$d/q35-5.2-devices.mig" "$d/pc-5.2-bare.mig" "$d/x86-microvm.mig"
    tables "$v" aarch64 "$d/aarch64-virt.mig"
    tables "$v" ppc64 "$d/ppc64-pseries.mig"
    tables "$v" s390x "$d/s390x-ccw.mig" "$d/s390x-ccw-virtio.mig"
    tables "$v" riscv64 "$d/riscv64-virt.mig"
done
# QEMU 5.2's and 7.2's vmdesc describe s390_css's css (an array of 256
# pointers, VMSTATE_ARRAY_OF_POINTER_TO_STRUCT) as 256 empty structs of one
# byte, which no stream fits; 10.0's describes what all of them write (a
# null marker for each css image that does not exist, the image of the
# virtual css 0xfe): 5.2's and 7.2's tables get that layout as a variant
python3 - "$out" <<'PY'
import json, sys
def load(p):
    with open(p) as f:
        return json.load(f)
def dump(d, p):
    with open(p, "w") as f:
        json.dump(d, f, indent=1, separators=(",", ":"), sort_keys=True)
        f.write("\n")
out = sys.argv[1]
good = load(out + "/tables-qemu-10.0-s390x.json")["vmsds"]["s390_css"]["1"]["variants"][0]
for v in ("5.2", "7.2"):
    p = "%s/tables-qemu-%s-s390x.json" % (out, v)
    d = load(p)
    variants = d["vmsds"]["s390_css"]["1"]["variants"]
    if good not in variants:
        variants.append(good)
    dump(d, p)
PY
