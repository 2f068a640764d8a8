#!/usr/bin/env bash
# mapped-ram files without QEMU: a hand-made file (tests/cli/mkmapped.py)
# with a present page, a present zero page and a stale page whose bitmap
# bit is clear, through every command; damaged headers.  (Real QEMU 11.1
# files: tests/qemu/test_mapped_ram.sh.)
set -u
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
M=$MIGCONV
f=$WORK/hm.mig
python3 "$here/mkmapped.py" "$f"

# round trips, from a file and a pipe
expect_exit "verify" 0 "$M" verify -q "$f"
expect_exit "verify from a pipe" 0 bash -c "cat '$f' | '$M' verify -q -"
expect_exit "legacy-to-ber" 0 "$M" legacy-to-ber -q "$f" "$WORK/hm.ber"
expect_exit "ber-to-legacy --validate" 0 "$M" ber-to-legacy -q --validate "$WORK/hm.ber" "$WORK/hm.back"
check "round trip byte for byte (stale page included)" cmp -s "$f" "$WORK/hm.back"
check "round trip: zeros come back as holes" test "$(du -k "$WORK/hm.back" | cut -f1)" -lt "$(du -k "$f" | cut -f1)"
"$M" ber-to-legacy -q "$WORK/hm.ber" - | cat >"$WORK/hm.pipe"
check "ber-to-legacy to a pipe: zeros, same bytes" cmp -s "$f" "$WORK/hm.pipe"
check "the BER is smaller than the file" test "$(stat -c %s "$WORK/hm.ber")" -lt "$(stat -c %s "$f")"

# inside a compressed container (offsets count in the decompressed file)
gzip -c "$f" >"$WORK/hm.mig.gz"
expect_exit "verify a gzip-compressed mapped-ram file" 0 "$M" verify -q "$WORK/hm.mig.gz"
expect_exit "legacy-to-ber of it" 0 "$M" legacy-to-ber -q "$WORK/hm.mig.gz" "$WORK/hmz.ber"
expect_exit "ber-to-legacy back to gzip" 0 "$M" ber-to-legacy -q "$WORK/hmz.ber" "$WORK/hmz.mig.gz"
check "gzip round trip: the same stream inside" bash -c "zcat '$WORK/hmz.mig.gz' | cmp -s - '$f'"

# dump: headers and bitmap counts
"$M" dump --ram-records "$f" >"$WORK/d.json"
check "dump: headers and pages_present" python3 -c "
import json
d = json.load(open('$WORK/d.json'))
b = {x['name']: x['mapped_ram'] for x in d['ram_summary']['blocks']}
assert b['pc.ram'] == {'version': 1, 'page_size': 4096, 'bitmap_offset': 141,
                       'bitmap_size': 8, 'pages_offset': 65536, 'pages': 16,
                       'pages_present': 2}, b
assert b['vga.vram']['pages_present'] == 1, b
kinds = d['ram_summary']['records']
assert kinds['mapped_block'] == 2 and kinds['mem_size'] == 1, kinds"

# extract: the pages the bitmap marks, not the stale one
expect_exit "extract" 0 "$M" extract -q "$f" "$WORK/x"
check "extract: pc.ram (stale page left out)" cmp -s "$WORK/x/pc.ram.ram" "$f.want-pc.ram"
check "extract: vga.vram" cmp -s "$WORK/x/vga.vram.ram" "$f.want-vga.vram"
check "negative control: the file holds the stale page's data" python3 -c "
d = open('$f', 'rb').read()
assert any(d[65536 + 3 * 4096:65536 + 4 * 4096])"
expect_exit "extract the BER" 0 "$M" extract -q "$WORK/hm.ber" "$WORK/xb"
check "extract the BER: same pc.ram" cmp -s "$WORK/xb/pc.ram.ram" "$f.want-pc.ram"

# normalize: sequential, no capability; and back with --mapped-ram
expect_exit "normalize" 0 "$M" normalize -q "$f" "$WORK/n.mig"
check "normalize: no mapped-ram left" bash -c "! grep -q mapped-ram '$WORK/n.mig'"
"$M" dump --ram-records "$WORK/n.mig" >"$WORK/n.json"
check "normalize: one MEM_SIZE with both blocks, PAGE and ZERO records" python3 -c "
import json
d = json.load(open('$WORK/n.json'))
r = d['ram_summary']['records']
assert r == {'mem_size': 1, 'page': 2, 'zero': 1, 'eos': 2}, r"
expect_exit "extract the normalized stream" 0 "$M" extract -q "$WORK/n.mig" "$WORK/xn"
check "normalize: same pc.ram" cmp -s "$WORK/xn/pc.ram.ram" "$f.want-pc.ram"
expect_exit "normalize --mapped-ram" 0 "$M" normalize -q --mapped-ram "$WORK/n.mig" "$WORK/m.mig"
expect_exit "normalize --mapped-ram: the file verifies" 0 "$M" verify -q "$WORK/m.mig"
expect_exit "extract normalize --mapped-ram's file" 0 "$M" extract -q "$WORK/m.mig" "$WORK/xm"
check "normalize --mapped-ram: same pc.ram" cmp -s "$WORK/xm/pc.ram.ram" "$f.want-pc.ram"
check "normalize --mapped-ram: same vga.vram" cmp -s "$WORK/xm/vga.vram.ram" "$f.want-vga.vram"
"$M" dump "$WORK/m.mig" >"$WORK/m.json"
check "normalize --mapped-ram: the zero page left out of the bitmap" python3 -c "
import json
b = {x['name']: x['mapped_ram'] for x in json.load(open('$WORK/m.json'))['ram_summary']['blocks']}
assert b['pc.ram']['pages_present'] == 1 and b['pc.ram']['pages_offset'] % (1 << 20) == 0, b"
expect_exit "normalize --mapped-ram to stdout is refused" 2 bash -c "'$M' normalize -q --mapped-ram '$WORK/n.mig' - >'$WORK/so'"
expect_err "normalize --mapped-ram to stdout: says why" "needs a named regular file as OUT"

# damaged headers: one line, exit 1, no output
for c in bad-bit past-end; do
    python3 "$here/mkmapped.py" "$WORK/$c.mig" $c
done
for cmd in verify extract normalize legacy-to-ber; do
    for c in bad-bit past-end; do
        args=("$WORK/$c.mig")
        case $cmd in extract|normalize|legacy-to-ber) args+=("$WORK/o-$cmd-$c") ;; esac
        expect_exit "$c: $cmd refuses it" 1 "$M" $cmd -q "${args[@]}"
        case $c in
        bad-bit) expect_err "$c: $cmd says why" "offset [0-9]+: start ram \(id 1\)/records\[0\]: mapped-ram bitmap of block 'pc.ram' marks page 16, past the block's 16 pages" ;;
        past-end) expect_err "$c: $cmd says why" "offset [0-9]+: start ram \(id 1\)/records\[0\]: mapped-ram header of block 'vga.vram': the pages at 0x[0-9a-f]+ \(8192 bytes\) point past the end of the file" ;;
        esac
        check "$c: $cmd: one line" test "$(wc -l <"$WORK/err")" = 1
        check "$c: $cmd: no output left" bash -c "! ls -d '$WORK'/o-$cmd-$c* 2>/dev/null"
    done
done
expect_exit "past-end from a pipe: truncated input" 1 bash -c "cat '$WORK/past-end.mig' | '$M' verify -q -"
finish
