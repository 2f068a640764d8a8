#!/usr/bin/env bash
# Fixtures of another QEMU version (tests/fixtures/qemu-V, made by
#   tests/qemu/make-fixtures.py --qemu-version V):
#   test_versions.sh V
# every fixture round-trips byte-identically (legacy -> BER -> legacy) and
# the converted stream is accepted by QEMU V itself (run from its Debian
# chroot, tests/qemu/roots.sh); the streams without a vmdesc parse with
# the built-in tables only, chosen by their machine type, no section
# carried unparsed; a damaged stream is rejected by QEMU V and the wrong
# version's tables leave sections unparsed (negative controls).
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

streams=()
for f in "$dir"/*.mig; do
    n=$(basename "$f" .mig)
    streams+=("$n:$f")
    case $n in
    aarch64-* | ppc64-* | s390x-* | riscv64-* | x86-*)
        strip_vmdesc "$f" "$WORK/$n-novmdesc.mig" && streams+=("$n:$WORK/$n-novmdesc.mig") ;;
    esac
done
# QEMU 7.2's streams of the other targets are in tests/fixtures/streams
# (the x86 ones carry their own no-vmdesc variants, run by qemu/accept)
if [ "$v" = 7.2 ]; then
    for n in aarch64-virt ppc64-pseries s390x-ccw riscv64-virt x86-microvm; do
        strip_vmdesc "$FIXTURES/$n.mig" "$WORK/$n-novmdesc.mig" && streams+=("$n:$WORK/$n-novmdesc.mig")
    done
fi

for s in "${streams[@]}"; do
    n=${s%%:*} f=${s#*:} t=$(basename "$f" .mig)
    "$MIGCONV" legacy-to-ber --no-progress "$f" "$WORK/$t.ber" 2>"$WORK/err" &&
        "$MIGCONV" ber-to-legacy -q "$WORK/$t.ber" "$WORK/rt-$t.mig" 2>>"$WORK/err" ||
        { bad "$v $t: conversion" "$(head -c 400 "$WORK/err")"; continue; }
    check "$v $t: round trip identical" cmp -s "$f" "$WORK/rt-$t.mig"
    # (s390x: the vmdesc of QEMU 5.2 and 7.2 mis-describes s390_css, which
    # is then carried as its footer-bounded bytes; without a vmdesc, the
    # built-in tables have its real layout, tests/qemu/make-tables.sh)
    case $t in
    *-novmdesc) unparsed=$(grep unparsed "$WORK/err") ;;
    *) unparsed=$(grep unparsed "$WORK/err" | grep -v "s390_css") ;;
    esac
    if [ -n "$unparsed" ]; then bad "$v $t: no section carried unparsed" "$(head -c 400 "$WORK/err")"; else ok "$v $t: no section carried unparsed"; fi
    rc=0
    python3 "$here/accept.py" --qemu-version "$v" "$n" "$WORK/rt-$t.mig" >"$WORK/acc" 2>&1 || rc=$?
    case $rc in
    0) ok "$v $t: QEMU $v accepts the converted stream" ;;
    77) printf 'skip %s: %s\n' "$t" "$(tail -1 "$WORK/acc")" ;;
    *) bad "$v $t: QEMU $v accepts the converted stream" "$(tail -3 "$WORK/acc")" ;;
    esac
done

# the built-in tables are chosen by version: QEMU 11.1 sends the subsection
# ich9_pm/cpuhp that 5.2's tables do not know
if [ "$v" = 11.1 ]; then
    "$MIGCONV" legacy-to-ber --no-progress --qemu-version 5.2 "$dir/q35-5.2-devices-suppress.mig" \
        "$WORK/forced.ber" 2>"$WORK/err"
    if grep -q "ICH9LPC.*ich9_pm/cpuhp.*unparsed" "$WORK/err"; then
        ok "$v negative control: with 5.2's tables forced, ICH9LPC is carried unparsed"
    else
        bad "$v negative control: with 5.2's tables forced, ICH9LPC is carried unparsed" "$(head -c 400 "$WORK/err")"
    fi
fi

# s390_css: QEMU 5.2's and 7.2's own vmdesc leave it unparsed (negative
# control), the built-in tables parse it into its fields
if [ "$v" = 5.2 ] || [ "$v" = 7.2 ]; then
    f=$dir/s390x-ccw.mig
    [ "$v" = 7.2 ] && f=$FIXTURES/s390x-ccw.mig
    "$MIGCONV" legacy-to-ber --no-progress -f "$f" "$WORK/css.ber" 2>"$WORK/err"
    check "$v s390x-ccw: with its vmdesc, s390_css is carried unparsed" grep -q "s390_css.*unparsed" "$WORK/err"
    strip_vmdesc "$f" "$WORK/css.mig"
    "$MIGCONV" dump "$WORK/css.mig" >"$WORK/css.json" 2>"$WORK/err"
    check "$v s390x-ccw without a vmdesc: s390_css has its 12 fields, ending in default_cssid 0xfe" \
        eval 'jq -e "[.items[] | select(.idstr? == \"s390_css\") | .fields] | length == 1 and (.[0] | length == 12 and .[-1].name == \"default_cssid\" and .[-1].value == 254)" "$WORK/css.json" >/dev/null'
fi

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
