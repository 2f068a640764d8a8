#!/usr/bin/env bash
# Error paths (src/core/path.h): the place an error names, checked on cut
# copies of a real QEMU 7.2 stream (q35, pc-q35-5.2) in both forms.
#  - Without a vmdesc the descriptor tables' layouts are tried in turn: the
#    error names the place where the last layout failed, once, not the
#    places of every attempt strung together.
#  - The legacy and the BER reader name the same section for the same
#    damage: a cut inside the same section of each form (section_cuts.py
#    finds them), for every section of the stream; as a negative control,
#    the BER cut of the section before names another one.
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

# --- 2. the same section named the same way in both forms ---
# section PATH: its first component, the section ("full IDSTR (id N)")
section() {
    local p=$1 head
    case $p in
        *" (id "*) head=${p%%" (id "*}; p=${p#*" (id "}; printf '%s (id %s\n' "$head" "${p%%/*}" ;;
        *) printf '%s\n' "${p%%/*}" ;;
    esac
}
expect_exit "BER form of the fixture" 0 "$MIGCONV" legacy-to-ber "$MIG" "$WORK/full.ber"
python3 "$(dirname "$0")/section_cuts.py" "$MIG" "$WORK/full.ber" > "$WORK/cuts"
n=$(wc -l < "$WORK/cuts")
check "cut points in $n sections (30 or more)" test "$n" -ge 30
same=0 differ=0 kinds=""
prev_ber=""
while read -r lo bo name; do
    head -c "$lo" "$MIG" > "$WORK/c.mig"
    head -c "$bo" "$WORK/full.ber" > "$WORK/c.ber"
    "$MIGCONV" legacy-to-ber -q "$WORK/c.mig" "$WORK/o.ber" 2> "$WORK/err" >/dev/null
    pl=$(errpath "$WORK/err")
    "$MIGCONV" ber-to-legacy -q "$WORK/c.ber" "$WORK/o.mig" 2> "$WORK/err" >/dev/null
    pb=$(errpath "$WORK/err")
    sl=$(section "$pl") sb=$(section "$pb")
    if [ "$sl" = "$name" ] && [ "$sb" = "$name" ]; then
        same=$((same + 1))
        kinds="$kinds ${name%% *}"
    else
        bad "cut in $name (legacy $lo, BER $bo)" "legacy: $pl" "BER: $pb"
    fi
    # negative control: the BER cut of the section before names another
    if [ -n "$prev_ber" ]; then
        head -c "$prev_ber" "$WORK/full.ber" > "$WORK/c.ber"
        "$MIGCONV" ber-to-legacy -q "$WORK/c.ber" "$WORK/o.mig" 2> "$WORK/err" >/dev/null
        sp=$(section "$(errpath "$WORK/err")")
        if [ -n "$sp" ] && [ "$sp" != "$sl" ]; then
            differ=$((differ + 1))
        else
            bad "negative control: the section before $name has its name" "$sp"
        fi
    fi
    prev_ber=$bo
done < "$WORK/cuts"
check "all $n cuts: both readers name the section ($same)" test "$same" -eq "$n"
check "negative control: $differ of $((n - 1)) cuts of the section before name another" \
    test "$differ" -eq $((n - 1))
check "the cuts include start, part, end and full sections" \
    bash -c 'for k in start part end full; do case " $1 " in *" $k "*) ;; *) exit 1;; esac; done' _ "$kinds"
# the field part differs (each form is cut where its own bytes are), the
# section part must not: one cut in RAM, checked in full
head -c 272 "$MIG" > "$WORK/c.mig"
expect_exit "legacy cut in the first RAM page: exit 1" 1 "$MIGCONV" legacy-to-ber "$WORK/c.mig" "$WORK/o.ber"
check "legacy cut in the first RAM page: part ram (id 3)/records[0]" \
    test "$(errpath "$WORK/err")" = "part ram (id 3)/records[0]"
bo=$(awk '$3 == "part" && $4 == "ram" { print $2 }' "$WORK/cuts")
head -c "$bo" "$WORK/full.ber" > "$WORK/c.ber"
expect_exit "BER cut in RAM: exit 1" 1 "$MIGCONV" ber-to-legacy "$WORK/c.ber" "$WORK/o.mig"
expect_err "BER cut in RAM: part ram (id 3)/records[N]" "^migconv: [^ ]*: offset [0-9]+: part ram \(id 3\)/records\[[0-9]+\]: unexpected end of input"
# before the header of an item is read, BER names it by its number
head -c 87 "$WORK/full.ber" > "$WORK/c.ber"
expect_exit "BER cut in a section header: exit 1" 1 "$MIGCONV" ber-to-legacy "$WORK/c.ber" "$WORK/o.mig"
expect_err "BER cut in a section header: items[1]" "^migconv: [^ ]*: offset [0-9]+: items\[1\]: unexpected end of input"

# --- 3. the vmdesc's own places: vmdesc/IDSTR/FIELD ---
# the second field of device "timer" loses its "type" (same length: the
# vmdesc's length prefix still holds)
python3 - "$SRC/examples/pc-bare.mig" "$WORK/vd.mig" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
j = b.find(b'{"page_size"')
k = b.find(b'"type"', b.find(b'"name": "unused", "type"', j))
assert j > 0 and k > j
b[k:k + 6] = b'"tyqe"'
open(sys.argv[2], "wb").write(b)
PY
expect_exit "vmdesc field without a type: exit 1" 1 "$MIGCONV" legacy-to-ber "$WORK/vd.mig" "$WORK/o.ber"
expect_err "vmdesc field without a type: vmdesc/timer/unused" "^migconv: [^ ]*vd.mig: offset [0-9]+: vmdesc/timer/unused: invalid vmdesc: field without a type$"

finish
