#!/usr/bin/env bash
# mapped-ram files (QEMU >= 9.0 `migrate file:` with mapped-ram=on) made by
# QEMU 11.1 in the sid root, with and without multifd (2 channels): round
# trips byte for byte (from a file and from a pipe), dump shows the
# MappedRamHeaders and the bitmaps, extract equals the memory QEMU 11.1
# loads from the file (pmemsave), normalize gives a sequential stream QEMU
# 7.2 loads into the same memory, compat --to 7.2 blocks it (rule
# mapped-ram) and retarget --to 7.2 gives a file QEMU 7.2 loads into the
# same memory, and damaged headers and bitmaps get one
# clear error each with no output left.
# The sid root is made and mounted by tests/qemu/roots.sh (skipped when not
# root).  The guest is pc-i440fx-7.2, a machine type both 11.1 and 7.2 know.
set -u
. "$(dirname "$0")/../cli/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "chroot needs root: skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
# make the QEMU 11.1 root if needed and mount /tmp and /proc in it
"$here/../qemu/roots.sh" mount 11.1 >/dev/null || { echo "FAIL: QEMU 11.1 chroot (tests/qemu/roots.sh mount 11.1)"; exit 1; }
root=$("$here/../qemu/roots.sh" path 11.1)
probe=$(mktemp /tmp/mc-probe.XXXXXX)
if ! chroot "$root" /bin/test -e "$probe" 2>/dev/null; then
    rm -f "$probe"; echo "FAIL: the sid root's /tmp is not bound to /tmp after roots.sh mount"; exit 1
fi
rm -f "$probe"
printf '#!/bin/sh\nexec chroot %s /usr/bin/qemu-system-x86_64 "$@"\n' "$root" >"$WORK/qemu-11.1"
chmod +x "$WORK/qemu-11.1"
M=$MIGCONV
MACHINE=pc-i440fx-7.2

# same_ram A B: equal outside [0xA0000, 0x100000) and of equal size
same_ram() {
    [ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ] &&
        cmp -s -n $((0xA0000)) "$1" "$2" &&
        cmp -s -i $((0x100000)) "$1" "$2"
}
export -f same_ram

# the MappedRamHeaders and bitmap bit counts, read by Python from the file:
# "idstr bitmap_offset pages_offset present" per block
headers() { python3 "$here/mapped-ram-headers.py" "$1"; }

for mf in 0 2; do
    f=$WORK/mr-$mf.bin
    python3 "$here/make-mapped-ram.py" --machine $MACHINE --multifd $mf "$WORK/qemu-11.1" "$f" >"$WORK/mk" 2>&1 ||
        { bad "QEMU 11.1 writes a mapped-ram file (multifd $mf)" "$(tail -3 "$WORK/mk")"; continue; }
    check "mapped-ram file (multifd $mf) has holes" test "$(du -k "$f" | cut -f1)" -lt $(( $(stat -c %s "$f") / 1024 / 4 ))

    # round trips
    expect_exit "verify mapped-ram (multifd $mf)" 0 "$M" verify -q "$f"
    expect_exit "verify mapped-ram (multifd $mf) from a pipe" 0 bash -c "cat '$f' | '$M' verify -q -"
    expect_exit "legacy-to-ber (multifd $mf)" 0 "$M" legacy-to-ber -q "$f" "$WORK/mr-$mf.ber"
    expect_exit "ber-to-legacy (multifd $mf)" 0 "$M" ber-to-legacy -q "$WORK/mr-$mf.ber" "$WORK/mr-$mf.back"
    check "mapped-ram (multifd $mf) comes back byte for byte" cmp -s "$f" "$WORK/mr-$mf.back"
    check "mapped-ram (multifd $mf): holes come back as holes" test "$(du -k "$WORK/mr-$mf.back" | cut -f1)" -lt $(( $(stat -c %s "$f") / 1024 / 4 ))
    check "mapped-ram (multifd $mf): the BER is small (zeros as counts)" test "$(stat -c %s "$WORK/mr-$mf.ber")" -lt $(( $(stat -c %s "$f") / 8 ))
    expect_exit "legacy-to-ber from a pipe (multifd $mf)" 0 bash -c "cat '$f' | '$M' legacy-to-ber -q - '$WORK/mr-$mf.pipe.ber'"
    check "legacy-to-ber from a pipe gives the same BER (multifd $mf)" cmp -s "$WORK/mr-$mf.ber" "$WORK/mr-$mf.pipe.ber"

    # dump: headers and bitmap summary agree with Python's reading
    headers "$f" >"$WORK/hdr.py"
    "$M" dump "$f" | python3 -c "
import json, sys
for b in json.load(sys.stdin)['ram_summary']['blocks']:
    m = b['mapped_ram']
    print(b['name'], m['bitmap_offset'], m['pages_offset'], m['pages_present'])" >"$WORK/hdr.mc"
    check "dump shows the MappedRamHeaders and bitmap counts (multifd $mf)" cmp -s "$WORK/hdr.py" "$WORK/hdr.mc"
    check "dump: pc.ram has pages present (multifd $mf)" grep -Eq '^pc.ram [0-9]+ [0-9]+ [1-9]' "$WORK/hdr.py"
    "$M" dump "$WORK/mr-$mf.ber" | python3 -c "
import json, sys
for b in json.load(sys.stdin)['ram_summary']['blocks']:
    m = b['mapped_ram']
    print(b['name'], m['bitmap_offset'], m['pages_offset'], m['pages_present'])" >"$WORK/hdr.ber"
    check "dump of the BER shows the same headers (multifd $mf)" cmp -s "$WORK/hdr.py" "$WORK/hdr.ber"

    # extract equals what QEMU 11.1 loads from the file
    rc=0
    python3 "$here/load-mapped-ram.py" --machine $MACHINE --mapped-ram --multifd $mf "$WORK/qemu-11.1" "$f" "$WORK/q11-$mf.mem" >"$WORK/ld" 2>&1 || rc=$?
    check "QEMU 11.1 loads the mapped-ram file (multifd $mf)" test $rc = 0
    expect_exit "extract mapped-ram (multifd $mf)" 0 "$M" extract -q "$f" "$WORK/x-$mf"
    [ $rc = 0 ] && check "extract's pc.ram equals QEMU 11.1's memory (multifd $mf)" same_ram "$WORK/x-$mf/pc.ram.ram" "$WORK/q11-$mf.mem"
    expect_exit "extract mapped-ram from a pipe (multifd $mf)" 0 bash -c "cat '$f' | '$M' extract -q - '$WORK/xp-$mf'"
    check "extract from a pipe: same pc.ram (multifd $mf)" cmp -s "$WORK/x-$mf/pc.ram.ram" "$WORK/xp-$mf/pc.ram.ram"
    expect_exit "extract the BER (multifd $mf)" 0 "$M" extract -q "$WORK/mr-$mf.ber" "$WORK/xb-$mf"
    check "extract of the BER: same pc.ram (multifd $mf)" cmp -s "$WORK/x-$mf/pc.ram.ram" "$WORK/xb-$mf/pc.ram.ram"

    # normalize: a sequential stream QEMU 7.2 loads into the same memory
    expect_exit "normalize mapped-ram (multifd $mf)" 0 "$M" normalize -q "$f" "$WORK/n-$mf.mig"
    "$M" dump --ram-records "$WORK/n-$mf.mig" >"$WORK/n.json"
    check "normalize: no mapped-ram records, MEM_SIZE with every block (multifd $mf)" python3 -c "
import json
d = json.load(open('$WORK/n.json'))
r = d['ram_summary']['records']
assert not any(k.startswith('mapped') for k in r), r
assert r['mem_size'] == 1 and r['page'] > 0, r
names = [l.split()[0] for l in open('$WORK/hdr.py')]
def walk(o):
    if isinstance(o, dict):
        if o.get('kind') == 'mem_size':
            yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
ms = list(walk(d))
assert [b['idstr'] for b in ms[0]['blocks']] == names, ms"
    check "normalize: the capability is gone from the configuration (multifd $mf)" bash -c "! grep -q mapped-ram '$WORK/n-$mf.mig'"
    rc=0
    python3 "$here/load-mapped-ram.py" --machine $MACHINE qemu-system-x86_64 "$WORK/n-$mf.mig" "$WORK/q72-$mf.mem" >"$WORK/ld" 2>&1 || rc=$?
    check "QEMU 7.2 loads the normalized file (multifd $mf)" test $rc = 0 || cat "$WORK/ld"
    [ $rc = 0 ] && [ -e "$WORK/q11-$mf.mem" ] && check "normalized: QEMU 7.2 has the same memory as 11.1 (multifd $mf)" same_ram "$WORK/q72-$mf.mem" "$WORK/q11-$mf.mem"

    # compat and retarget (rule mapped-ram): QEMU 7.2 has no mapped-ram
    expect_exit "compat --to 7.2: the mapped-ram file blocks (multifd $mf)" 1 bash -c "'$M' compat --to 7.2 '$f' >'$WORK/cp' 2>&1"
    check "compat --to 7.2 names rule mapped-ram as the one blocker (multifd $mf)" bash -c "grep -c '^.*: blocks: ' '$WORK/cp' | grep -qx 1 && grep -q 'blocks: .*mapped-ram.*\[mapped-ram\]$' '$WORK/cp'"
    expect_exit "compat --to 11.1: nothing blocks, a note (multifd $mf)" 0 bash -c "'$M' compat --to 11.1 '$f' >'$WORK/cp11' 2>&1"
    check "compat --to 11.1: the note names the capability and the file: URI (multifd $mf)" grep -q 'note: .*mapped-ram capability and a file: URI.*\[mapped-ram\]$' "$WORK/cp11"
    expect_exit "retarget --to 7.2 of the mapped-ram file (multifd $mf)" 0 "$M" retarget --to 7.2 "$f" "$WORK/rt-$mf.mig"
    check "retarget prints the mapped-ram rewrite (multifd $mf)" grep -q "mapped-ram blocks (first 'pc.ram') -> page records.*\[mapped-ram\]$" "$WORK/err"
    expect_exit "compat --to 7.2 of the retargeted file: clean (multifd $mf)" 0 bash -c "'$M' compat --to 7.2 '$WORK/rt-$mf.mig' >'$WORK/cp2' 2>&1"
    check "compat --to 7.2 of the retargeted file: no blocker, no mapped-ram line (multifd $mf)" bash -c "! grep -Eq 'blocks: |mapped-ram' '$WORK/cp2'"
    rc=0
    python3 "$here/load-mapped-ram.py" --machine $MACHINE qemu-system-x86_64 "$WORK/rt-$mf.mig" "$WORK/rt72-$mf.mem" >"$WORK/ld" 2>&1 || rc=$?
    check "QEMU 7.2 loads the retargeted file (multifd $mf)" test $rc = 0 || cat "$WORK/ld"
    [ $rc = 0 ] && [ -e "$WORK/q11-$mf.mem" ] && check "retargeted: QEMU 7.2 has the same memory as 11.1 (multifd $mf)" same_ram "$WORK/rt72-$mf.mem" "$WORK/q11-$mf.mem"
done

# normalize --mapped-ram: a sequential stream as a mapped-ram file
if [ -e "$WORK/n-0.mig" ]; then
    expect_exit "normalize --mapped-ram of the normalized file" 0 "$M" normalize -q --mapped-ram "$WORK/n-0.mig" "$WORK/n-0.mr"
    check "normalize --mapped-ram gives QEMU 11.1's own file back byte for byte" cmp -s "$WORK/n-0.mr" "$WORK/mr-0.bin"
fi
if python3 "$here/make-mapped-ram.py" --plain --machine $MACHINE "$WORK/qemu-11.1" "$WORK/plain.mig" >"$WORK/mk" 2>&1; then
    kinds=$("$M" dump "$WORK/plain.mig" | python3 -c "import json, sys; print(' '.join(sorted(json.load(sys.stdin)['ram_summary']['records'])))")
    check "QEMU 11.1's plain file: ZERO and PAGE records, no mapped-ram" test "$kinds" = "eos mem_size page zero"
    expect_exit "normalize --mapped-ram of QEMU 11.1's plain stream" 0 "$M" normalize -q --mapped-ram "$WORK/plain.mig" "$WORK/plain.mr"
    check "normalize --mapped-ram: the output has holes" test "$(du -k "$WORK/plain.mr" | cut -f1)" -lt $(( $(stat -c %s "$WORK/plain.mr") / 1024 / 4 ))
    expect_exit "normalize --mapped-ram: the output verifies" 0 "$M" verify -q "$WORK/plain.mr"
    rc=0
    python3 "$here/load-mapped-ram.py" --machine $MACHINE "$WORK/qemu-11.1" "$WORK/plain.mig" "$WORK/plain.mem" >"$WORK/ld" 2>&1 || rc=$?
    check "QEMU 11.1 loads its plain stream" test $rc = 0
    rc=0
    python3 "$here/load-mapped-ram.py" --machine $MACHINE --mapped-ram "$WORK/qemu-11.1" "$WORK/plain.mr" "$WORK/plain.mr.mem" >"$WORK/ld" 2>&1 || rc=$?
    check "QEMU 11.1 loads the mapped-ram file normalize made (migrate-incoming file:)" test $rc = 0 || cat "$WORK/ld"
    [ $rc = 0 ] && [ -e "$WORK/plain.mem" ] && check "normalize --mapped-ram: QEMU 11.1 has the same memory" cmp -s "$WORK/plain.mem" "$WORK/plain.mr.mem"
    rc=0
    python3 "$here/load-mapped-ram.py" --machine $MACHINE "$WORK/qemu-11.1" "$WORK/plain.mr" "$WORK/neg.mem" >"$WORK/ld" 2>&1 || rc=$?
    check "negative control: QEMU 11.1 without the capability rejects that file" test $rc = 1
else
    bad "QEMU 11.1 writes a plain file" "$(tail -3 "$WORK/mk")"
fi
# from a fixture with XBZRLE pages (QEMU 7.2): the same guest RAM
if [ -e "$FIXTURES/pc-xbzrle.mig" ]; then
    expect_exit "normalize --mapped-ram of pc-xbzrle" 0 "$M" normalize -q --mapped-ram "$FIXTURES/pc-xbzrle.mig" "$WORK/xb.mr"
    "$M" extract -q "$FIXTURES/pc-xbzrle.mig" "$WORK/xb.x" && "$M" extract -q "$WORK/xb.mr" "$WORK/xb.mr.x"
    check "normalize --mapped-ram of pc-xbzrle: same pc.ram" cmp -s "$WORK/xb.x/pc.ram.ram" "$WORK/xb.mr.x/pc.ram.ram"
    check "normalize --mapped-ram: the capability is listed" grep -q mapped-ram "$WORK/xb.mr"
fi
expect_exit "normalize --mapped-ram to a pipe is refused" 2 bash -c "set -o pipefail; '$M' normalize -q --mapped-ram '$FIXTURES/pc-loader.mig' - | cat >/dev/null"
expect_err "normalize --mapped-ram to a pipe: says why" "needs a named regular file as OUT"
expect_exit "normalize --mapped-ram --squash is refused" 2 "$M" normalize -q --mapped-ram --squash "$FIXTURES/pc-loader.mig" "$WORK/o-sq"

f=$WORK/mr-0.bin
if [ -e "$f" ] && [ -e "$WORK/q11-0.mem" ]; then
    # negative controls: the comparison sees one changed byte of the loader
    # blob, the memory compared is not all zero, QEMU 7.2 refuses the
    # mapped-ram file itself
    cp "$WORK/x-0/pc.ram.ram" "$WORK/neg"
    printf '\x55' | dd of="$WORK/neg" bs=1 seek=$((0x100010)) conv=notrunc status=none
    check "negative control: a changed byte is seen" bash -c "! same_ram '$WORK/neg' '$WORK/q11-0.mem'"
    check "negative control: the loader blob at 1 MiB is in memory" python3 -c "
d = open('$WORK/q11-0.mem', 'rb').read()[0x100000:0x101000]
assert any(d)"
    rc=0
    python3 "$here/load-mapped-ram.py" --machine $MACHINE qemu-system-x86_64 "$f" "$WORK/neg.mem" >"$WORK/ld" 2>&1 || rc=$?
    check "negative control: QEMU 7.2 rejects the mapped-ram file itself" test $rc = 1

    # damaged headers and bitmaps: one error each, no output left
    # damage NAME BLOCK FIELD VALUE: set a header field (version, page_size,
    # bitmap_offset, pages_offset) or "bit" (set bit VALUE of the bitmap)
    damage() { python3 "$here/mapped-ram-headers.py" "$f" "$WORK/d-$1.bin" "$2" "$3" "$4"; }
    size=$(stat -c %s "$f")
    bad_case() {
        local name=$1 pattern=$2
        for cmd in verify extract normalize legacy-to-ber dump; do
            local args=("$WORK/d-$name.bin")
            case $cmd in extract|normalize|legacy-to-ber) args+=("$WORK/o-$cmd-$name") ;; esac
            expect_exit "bad mapped-ram ($name): $cmd refuses it" 1 "$M" $cmd -q "${args[@]}"
            expect_err "bad mapped-ram ($name): $cmd says why" "$pattern"
            check "bad mapped-ram ($name): $cmd: one line" test "$(wc -l <"$WORK/err")" = 1
            check "bad mapped-ram ($name): $cmd: no output left" bash -c "! ls -d '$WORK'/o-$cmd-$name* 2>/dev/null"
        done
    }
    damage past-end pc.rom pages_offset $(( (size / 4096 + 1) * 4096 ))
    bad_case past-end "offset [0-9]+: .*mapped-ram header of block 'pc.rom': the pages at 0x[0-9a-f]+ \(131072 bytes\) point past the end of the file \($size bytes\)"
    damage overlap pc.ram pages_offset 0x400
    bad_case overlap "offset 113: .*mapped-ram header of block 'pc.ram': the bitmap at 0x8d \(1024 bytes for 8192 pages\) overlaps the pages at pages_offset 0x400"
    damage overlap-header pc.ram bitmap_offset 0x80
    bad_case overlap-header "offset 113: .*mapped-ram header of block 'pc.ram': bitmap_offset 0x80 overlaps the header"
    damage bitmap-past-block /rom@etc/acpi/rsdp bit 1
    bad_case bitmap-past-block "offset [0-9]+: .*mapped-ram bitmap of block '/rom@etc/acpi/rsdp' marks page 1, past the block's 1 pages"
    damage version pc.ram version 2
    bad_case version "offset 113: .*mapped-ram header of block 'pc.ram': version 2 \(only 1 is known\)"
    damage page-size pc.ram page_size 512
    bad_case page-size "offset 113: .*mapped-ram header of block 'pc.ram': page size 512 is not the stream's 4096"
    # negative control: the same script without damage gives a good file
    damage none pc.ram version 1
    expect_exit "negative control: the undamaged copy verifies" 0 "$M" verify -q "$WORK/d-none.bin"
    # a truncated file: the pages of the last block are missing
    last=$(headers "$f" | tail -1 | cut -d' ' -f3)
    head -c $((last + 2048)) "$f" >"$WORK/d-trunc.bin"
    bad_case trunc "mapped-ram header of block '/rom@etc/acpi/rsdp': the pages at 0x[0-9a-f]+ \(4096 bytes\) point past the end of the file \($((last + 2048)) bytes\)"
fi
finish
