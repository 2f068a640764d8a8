#!/usr/bin/env bash
# Guest memory against real QEMU: QEMU loads a fixture into a paused
# guest and saves its memory with pmemsave; migconv extract's image of
# pc.ram must be the same bytes (outside 640 KiB - 1 MiB, which pmemsave
# reads through VGA and ROM).  Two independent decoders of PAGE, XBZRLE
# and COMPRESS_PAGE records.
set -u
. "$(dirname "$0")/../cli/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }

# same_ram A B: equal outside [0xA0000, 0x100000) and of equal size
same_ram() {
    [ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ] &&
        cmp -s -n $((0xA0000)) "$1" "$2" &&
        cmp -s -i $((0x100000)) "$1" "$2"
}
export -f same_ram

for n in ${MEMORY_FIXTURES:-pc-loader pc-xbzrle pc-compress pc-ran}; do
    f=$FIXTURES/$n.mig
    [ -e "$f" ] || { bad "$n: fixture missing"; continue; }
    rc=0
    python3 "$here/pmemsave.py" "$n" "$f" "$WORK/$n.qemu" >"$WORK/pm" 2>&1 || rc=$?
    case $rc in
    0) ;;
    77) printf 'skip %s: %s\n' "$n" "$(tail -1 "$WORK/pm")"; continue ;;
    *) bad "$n: QEMU loads the fixture and saves its memory" "$(tail -3 "$WORK/pm")"; continue ;;
    esac
    "$MIGCONV" extract -q "$f" "$WORK/$n.x" || { bad "$n: extract"; continue; }
    check "$n: extract's pc.ram equals QEMU's memory" same_ram "$WORK/$n.x/pc.ram.ram" "$WORK/$n.qemu"
    echo "$n" >>"$WORK/compared"
done

# normalize: QEMU loads the normalized streams WITHOUT the xbzrle/compress
# capabilities into the same memory as the originals with them.
for n in ${NORMALIZE_FIXTURES:-pc-xbzrle pc-compress}; do
    [ -e "$WORK/$n.qemu" ] || continue
    for mode in plain squash; do
        opt=; [ $mode = squash ] && opt=--squash
        "$MIGCONV" normalize -q $opt "$FIXTURES/$n.mig" "$WORK/$n.$mode.mig" || { bad "$n: normalize $opt"; continue; }
        kinds=$("$MIGCONV" dump "$WORK/$n.$mode.mig" | python3 -c "import json, sys; r = json.load(sys.stdin)['ram_summary']['records']; print(r.get('xbzrle', 0) + r.get('compress', 0))")
        check "$n: normalize $opt leaves no XBZRLE/COMPRESS_PAGE record" test "$kinds" = 0
        rc=0
        python3 "$here/pmemsave.py" --no-dest-caps "$n" "$WORK/$n.$mode.mig" "$WORK/$n.$mode.qemu" >"$WORK/pm" 2>&1 || rc=$?
        check "$n: QEMU loads normalize $opt output without capabilities" test $rc = 0
        [ $rc = 0 ] && check "$n: normalize $opt: same guest memory as the original" same_ram "$WORK/$n.$mode.qemu" "$WORK/$n.qemu"
    done
done
# negative control: without the capability QEMU 7.2 rejects the original
# compressed stream, so loading without it is a real test
if [ -e "$WORK/pc-compress.qemu" ]; then
    rc=0
    python3 "$here/pmemsave.py" --no-dest-caps pc-compress "$FIXTURES/pc-compress.mig" "$WORK/neg.qemu" >"$WORK/pm" 2>&1 || rc=$?
    check "negative control: QEMU rejects pc-compress without the capability" test $rc = 1
fi

# Negative controls: the comparison sees a one-byte change where the
# records under test put data, and the compared memory is not all zero.
# last_kinds FIXTURE OFFSET: kinds of pc.ram's records for that page, in
# stream order (from dump --ram-records)
last_kinds() {
    "$MIGCONV" dump --ram-records "$FIXTURES/$1.mig" | python3 -c "
import json, sys
def walk(o):
    if isinstance(o, dict):
        if o.get('kind') in ('zero', 'page', 'xbzrle', 'compress'):
            yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
cur, kinds = None, []
for r in walk(json.load(sys.stdin)):
    cur = r.get('block', cur)
    if cur == 'pc.ram' and r['offset'] == $2:
        kinds.append(r['kind'])
print(' '.join(kinds))"
}

neg() {
    local n=$1 at=$2 kind=$3
    [ -e "$WORK/$n.qemu" ] || return 0
    local kinds
    kinds=$(last_kinds "$n" "$at")
    check "$n: the page at $at was last sent as $kind ($(echo "$kinds" | wc -w) records)" \
        test "${kinds##* }" = "$kind"
    cp "$WORK/$n.x/pc.ram.ram" "$WORK/neg"
    python3 -c "
import sys
f = open('$WORK/neg', 'r+b'); f.seek($at); b = f.read(1); f.seek($at)
f.write(bytes([b[0] ^ 1]))"
    check "negative control: $n with byte $at flipped differs" bash -c "! same_ram '$WORK/neg' '$WORK/$n.qemu'"
    check "$n: memory at $at is not all zero" python3 -c "
d = open('$WORK/$n.qemu', 'rb').read()[$at & ~4095:($at & ~4095) + 4096]
assert any(d), 'zero page'"
}
neg pc-loader $((0x100000)) page      # loader blob
neg pc-xbzrle $((0x10000)) xbzrle     # a page the guest keeps rewriting
neg pc-compress $((0x140000)) compress # text part of the loader blob
finish
