#!/usr/bin/env bash
# Fixtures of another QEMU version (tests/fixtures/qemu-V, made by
#   tests/qemu/make-fixtures.py --qemu-version V):
#   test_versions.sh V
# every fixture round-trips byte-identically (legacy -> BER -> legacy) and
# the converted stream is accepted by QEMU V itself (run from its Debian
# chroot, tests/qemu/roots.sh); the streams without a vmdesc parse with
# tables made from V's own streams that carry one; a damaged stream is
# rejected by QEMU V (negative control).
set -u
. "$(dirname "$0")/../cli/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
v=${1:?QEMU version}
dir=$FIXTURES/../qemu-$v
[ "$(id -u)" -eq 0 ] || { echo "QEMU $v runs in a chroot, which needs root: skipped"; exit 77; }
"$here/roots.sh" mount "$v" >/dev/null || { bad "QEMU $v chroot (tests/qemu/roots.sh mount $v)"; finish; exit; }

# no-vmdesc streams of the other targets: their vmdesc stream, vmdesc cut off
strip_vmdesc() {
    python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
# QEMU_VM_VMDESCRIPTION (0x06), be32 length, the JSON up to the end
for o in range(len(d) - 6, 0, -1):
    if d[o] == 6 and d[o + 5:o + 6] == b"{" and \
            int.from_bytes(d[o + 1:o + 5], "big") == len(d) - o - 5:
        open(sys.argv[2], "wb").write(d[:o])
        sys.exit(0)
sys.exit("no vmdesc at the end of " + sys.argv[1])
PY
}

# tables per target (vmsd names such as "cpu" mean other layouts on other
# targets): x86 from the pc/q35/microvm streams, each other target from its own
x86=()
for f in "$dir"/*.mig; do
    n=$(basename "$f" .mig)
    case $n in
    *-suppress) ;;
    pc-* | q35-* | x86-*) x86+=("$f") ;;
    *) "$MIGCONV" tables -q -f -o "$WORK/tables-${n%%-*}.json" "$f" || bad "$v $n: tables" ;;
    esac
done
"$MIGCONV" tables -q -f -o "$WORK/tables-x86.json" "${x86[@]}" || bad "$v: x86 tables"

streams=()
for f in "$dir"/*.mig; do
    n=$(basename "$f" .mig)
    streams+=("$n:$f")
    case $n in
    aarch64-* | ppc64-* | s390x-* | riscv64-* | x86-*)
        strip_vmdesc "$f" "$WORK/$n-novmdesc.mig" && streams+=("$n:$WORK/$n-novmdesc.mig") ;;
    esac
done

for s in "${streams[@]}"; do
    n=${s%%:*} f=${s#*:} t=$(basename "$f" .mig)
    case $n in pc-* | q35-* | x86-*) tt=x86 ;; *) tt=${n%%-*} ;; esac
    "$MIGCONV" legacy-to-ber --no-progress --tables "$WORK/tables-$tt.json" "$f" "$WORK/$t.ber" 2>"$WORK/err" &&
        "$MIGCONV" ber-to-legacy -q "$WORK/$t.ber" "$WORK/rt-$t.mig" 2>>"$WORK/err" ||
        { bad "$v $t: conversion" "$(head -c 400 "$WORK/err")"; continue; }
    check "$v $t: round trip identical" cmp -s "$f" "$WORK/rt-$t.mig"
    # (s390x: QEMU's vmdesc mis-describes s390_css, so neither it nor
    # tables learnt from it fit: the footer-bounded bytes are the truth)
    if grep unparsed "$WORK/err" | grep -vq "s390_css"; then bad "$v $t: no section carried unparsed" "$(head -c 400 "$WORK/err")"; fi
    rc=0
    python3 "$here/accept.py" --qemu-version "$v" "$n" "$WORK/rt-$t.mig" >"$WORK/acc" 2>&1 || rc=$?
    case $rc in
    0) ok "$v $t: QEMU $v accepts the converted stream" ;;
    77) printf 'skip %s: %s\n' "$t" "$(tail -1 "$WORK/acc")" ;;
    *) bad "$v $t: QEMU $v accepts the converted stream" "$(tail -3 "$WORK/acc")" ;;
    esac
done

# the stream really was loaded by QEMU V: a damaged footer is rejected
n=pc-5.2-bare
python3 - "$dir/$n.mig" "$WORK/bad.mig" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.index(b"\x7e", 200)
d[i + 4] ^= 0xff
open(sys.argv[2], "wb").write(d)
PY
if python3 "$here/accept.py" --qemu-version "$v" --expect-reject "$n" "$WORK/bad.mig" >"$WORK/acc" 2>&1; then
    ok "$v negative control: QEMU $v rejects a damaged stream"
else
    bad "$v negative control: QEMU $v rejects a damaged stream" "$(tail -3 "$WORK/acc")"
fi
finish
