#!/usr/bin/env bash
# Error paths (src/core/path.h): the place an error names, checked on cut
# copies of a real QEMU 7.2 stream (q35, pc-q35-5.2) in both forms.
#  - Without a vmdesc the descriptor tables' layouts are tried in turn: the
#    error names the place where the last layout failed, once, not the
#    places of every attempt strung together.
#  - The legacy and the BER reader name the same section for the same
#    damage (a cut inside the same section), with a negative control.
set -u
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
MIG=$SRC/tests/fixtures/qemu-7.2/q35-5.2-devices.mig
[ -f "$MIG" ] || { echo "fixture $MIG missing"; exit 77; }

# errpath FILE: the PATH of the first error line of FILE, "migconv: FILE:
# offset N: PATH: message" (a path never holds ": ")
errpath() {
    local l
    l=$(sed -n 's/^migconv: [^ ]*: offset [0-9]*: //p' "$1" | head -1)
    printf '%s\n' "${l%%: *}"
}

# no_repeat PATH: no run of two or more path components occurs twice
no_repeat() {
    python3 - "$1" <<'PY'
import sys
c = sys.argv[1].split("/")
for k in range(2, len(c) // 2 + 1):
    seen = set()
    for i in range(len(c) - k + 1):
        t = tuple(c[i:i + k])
        if t in seen:
            sys.exit(1)
        seen.add(t)
PY
}

# --- 1. layouts tried in turn: the path of the last attempt, once ---
head -c 899510 "$MIG" > "$WORK/cut.mig"
expect_exit "cut in ich9_ahci: exit 1" 1 "$MIGCONV" legacy-to-ber "$WORK/cut.mig" "$WORK/cut.ber"
p=$(errpath "$WORK/err")
want='full 0000:00:1f.2/ich9_ahci (id 34)/ahci/dev/port.ifs[0]/identify_data'
check "cut in ich9_ahci: the path is the failing field's ($p)" test "$p" = "$want"
expect_err "cut in ich9_ahci: one error line" '^migconv: [^ ]*cut.mig: offset 899510: full 0000:00:1f.2/ich9_ahci \(id 34\)/ahci/dev/port.ifs\[0\]/identify_data: no vmdesc found at the end of the stream and no layout in the descriptor tables fits: unexpected end of input'
check "cut in ich9_ahci: no component sequence repeats" no_repeat "$p"
# negative control: the check sees a repeated sequence
repeats() { ! no_repeat "$1"; }
check "negative control: a repeated sequence is seen" \
    repeats 'full a (id 1)/x/dev[0]/y/x/dev[0]/y'
check "negative control: the path before the fix repeats" \
    repeats "$want/ahci/dev[0]/port.ifs[0]/identify_data"
head -c 895056 "$MIG" > "$WORK/cut2.mig"
expect_exit "cut in vmmouse: exit 1" 1 "$MIGCONV" legacy-to-ber "$WORK/cut2.mig" "$WORK/cut.ber"
p=$(errpath "$WORK/err")
check "cut in vmmouse: the path is 'full vmmouse (id 32)/queue' ($p)" test "$p" = 'full vmmouse (id 32)/queue'

finish
