#!/usr/bin/env bash
# Real QEMU accepts streams that went legacy -> BER -> legacy, and rejects a
# damaged one (the negative control that shows this test can fail).
set -u
. "$(dirname "$0")/../cli/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
fixtures=${ACCEPT_FIXTURES:-"pc-bare q35-devices pc-ran pc-xbzrle pc-compress q35-ignore-shared pc-postcopy pc-1.4 pc-2.0 pc-suppress q35-devices-suppress pc-block pc-dirty-bitmap pc-postcopy-switched aarch64-virt ppc64-pseries s390x-ccw riscv64-virt x86-microvm q35-virtio-ran q35-virtio-ran-suppress"}
for n in $fixtures; do
    f=$FIXTURES/$n.mig
    [ -e "$f" ] || { bad "$n: fixture missing"; continue; }
    "$MIGCONV" legacy-to-ber -q "$f" "$WORK/$n.ber" &&
        "$MIGCONV" ber-to-legacy -q "$WORK/$n.ber" "$WORK/$n.mig" || { bad "$n: conversion"; continue; }
    check "$n: round trip identical" cmp -s "$f" "$WORK/$n.mig"
    rc=0
    python3 "$here/accept.py" "$n" "$WORK/$n.mig" >"$WORK/acc" 2>&1 || rc=$?
    case $rc in
    0) ok "$n: QEMU accepts the converted stream" ;;
    77) printf 'skip %s: %s\n' "$n" "$(tail -1 "$WORK/acc")" ;;
    *) bad "$n: QEMU accepts the converted stream" "$(tail -3 "$WORK/acc")" ;;
    esac
done
# Negative control: damage the converted stream's machine/footer structure.
n=pc-bare
python3 - "$WORK/$n.mig" "$WORK/bad.mig" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
# Corrupt the first section footer's id (0x7e + be32): QEMU checks it.
i = d.index(b"\x7e", 200)
d[i + 4] ^= 0xff
open(sys.argv[2], "wb").write(d)
PY
if python3 "$here/accept.py" --expect-reject "$n" "$WORK/bad.mig" >"$WORK/acc" 2>&1; then
    ok "negative control: QEMU rejects a damaged stream"
else
    bad "negative control: QEMU rejects a damaged stream" "$(tail -3 "$WORK/acc")"
fi
# A control on the virtio field: the decoded layout is QEMU's, and QEMU
# refuses the same damage (virtio-balloon's virtio/virtqueues subsection
# made version 2) that tests/cli/test_virtio.sh shows carried as bytes.
n=q35-devices
if [ -e "$WORK/$n.mig" ]; then
    python3 - "$WORK/$n.mig" "$WORK/bad-virtio.mig" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
name = b'0000:00:07.0/virtio-balloon'
sec = b.index(bytes([len(name)]) + name)
hdr = b'\x05\x11virtio/virtqueues\x00\x00\x00\x01'
at = b.index(hdr, sec) + len(hdr) - 1
b[at] = 2
open(sys.argv[2], 'wb').write(b)
PY
    if python3 "$here/accept.py" --expect-reject "$n" "$WORK/bad-virtio.mig" >"$WORK/acc" 2>&1 &&
        grep -q 'virtio/virtqueues' "$WORK/acc"; then
        ok "negative control: QEMU rejects a damaged virtio field"
    else
        bad "negative control: QEMU rejects a damaged virtio field" "$(tail -3 "$WORK/acc")"
    fi
fi
finish
