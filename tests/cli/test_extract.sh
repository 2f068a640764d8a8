#!/usr/bin/env bash
# migconv extract: images of hand-made streams with known page content,
# output layout, --block and stdout, and bad input (one error, no output).
set -u
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
M=$MIGCONV
mk() { python3 "$here/mkram.py" "$WORK/$1.mig" "$1"; }

# expected pc.ram and vga.vram of the "good" case, built independently
python3 - "$WORK" <<'PY'
import sys, os
w = sys.argv[1]
PS = 4096
def page(seed): return bytes((i * seed + 7) & 0xff for i in range(PS))
ram = bytearray(64 << 10)
ram[0x1000:0x2000] = page(3)
ram[0x2000:0x3000] = b'\x5a' * PS
ram[0x1000 + 16:0x1000 + 21] = b'hello'
open(os.path.join(w, 'want-pc.ram'), 'wb').write(ram)
vga = bytearray(8 << 10)
vga[0x1000:0x2000] = page(5)
open(os.path.join(w, 'want-vga.vram'), 'wb').write(vga)
PY
mk good
expect_exit "extract: good stream" 0 "$M" extract -q "$WORK/good.mig" "$WORK/x"
check "extract: pc.ram image (PAGE, ZERO fill, XBZRLE over PAGE)" cmp -s "$WORK/x/pc.ram.ram" "$WORK/want-pc.ram"
check "extract: vga.vram image (COMPRESS_PAGE)" cmp -s "$WORK/x/vga.vram.ram" "$WORK/want-vga.vram"
# negative control: the expected images differ from an all-zero file
head -c $((64 << 10)) /dev/zero >"$WORK/zero64k"
check "extract: negative control (expected image is not all zero)" \
    bash -c "! cmp -s '$WORK/zero64k' '$WORK/want-pc.ram'"
"$M" dump "$WORK/good.mig" >"$WORK/dump.json"
check "extract: state.json is the dump output" cmp -s "$WORK/x/state.json" "$WORK/dump.json"
check "extract: blocks.json lists both blocks" python3 -c "
import json, sys
b = json.load(open('$WORK/x/blocks.json'))
assert [(e['idstr'], e['file'], e['used_length'], e['pages_sent']) for e in b] == \
    [('pc.ram', 'pc.ram.ram', 65536, 2), ('vga.vram', 'vga.vram.ram', 8192, 1)], b
"
check "extract: no vmdesc.json without a vmdesc" test ! -e "$WORK/x/vmdesc.json"
expect_exit "extract: refuses an existing DIR" 2 "$M" extract -q "$WORK/good.mig" "$WORK/x"
expect_exit "extract --block vga.vram DIR" 0 "$M" extract -q --block vga.vram "$WORK/good.mig" "$WORK/y"
check "extract --block: only that block" bash -c "ls '$WORK/y' | sort | tr '\n' ' ' | grep -qx 'blocks.json state.json vga.vram.ram '"
"$M" extract -q --block pc.ram "$WORK/good.mig" - >"$WORK/pc.file"
check "extract --block NAME - (regular file)" cmp -s "$WORK/pc.file" "$WORK/want-pc.ram"
check "extract --block NAME - (regular file): holes stay holes" test "$(du -k "$WORK/pc.file" | cut -f1)" -lt 64
"$M" extract -q --block pc.ram "$WORK/good.mig" - 1<>"$WORK/pc.rw"
check "extract --block NAME - (read-write stdout, written in place)" cmp -s "$WORK/pc.rw" "$WORK/want-pc.ram"
"$M" extract -q --block pc.ram "$WORK/good.mig" - | cat >"$WORK/pc.pipe"
check "extract --block NAME - (pipe)" cmp -s "$WORK/pc.pipe" "$WORK/want-pc.ram"
cat "$WORK/good.mig" | "$M" extract -q --block pc.ram - - >"$WORK/pc.stdin"
check "extract - - (stdin to stdout)" cmp -s "$WORK/pc.stdin" "$WORK/want-pc.ram"
expect_exit "extract - without --block" 2 "$M" extract -q "$WORK/good.mig" -
expect_exit "extract --block with an unknown block" 1 "$M" extract -q --block nosuch "$WORK/good.mig" "$WORK/nodir"
expect_err "extract --block unknown: names the blocks" "no RAM block nosuch \(it has: pc.ram, vga.vram\)"
check "extract --block unknown: no DIR left" bash -c "! ls -d '$WORK'/nodir* 2>/dev/null"

# BER input gives the same images
"$M" legacy-to-ber -q "$WORK/good.mig" "$WORK/good.ber"
expect_exit "extract: BER input" 0 "$M" extract -q "$WORK/good.ber" "$WORK/b"
check "extract: BER input, same pc.ram" cmp -s "$WORK/b/pc.ram.ram" "$WORK/want-pc.ram"

# Bad input: one error line naming the file, offset and block; no DIR left
bad_case() {
    local c=$1 pat=$2
    mk "$c"
    expect_exit "extract bad: $c" 1 "$M" extract -q "$WORK/$c.mig" "$WORK/o-$c"
    expect_err "extract bad: $c: message" "^migconv: $WORK/$c.mig: offset [0-9]+: ram(/pc.ram)?: $pat"
    check "extract bad: $c: one line" test "$(wc -l <"$WORK/err")" -eq 1
    check "extract bad: $c: no output left" bash -c "! ls -d '$WORK/o-$c'* 2>/dev/null"
}
bad_case xbzrle-unsent "XBZRLE record for the page at 0x3000, which the stream never sent before"
bad_case inflate-short "compressed page inflates to 4095 bytes, not a page of 4096"
bad_case inflate-long "compressed page inflates to more than a page"
bad_case outside-block "page at 0x10000 lies outside the block's 65536 bytes"
bad_case unknown-block "page record for RAM block nosuch, which no MEM_SIZE record announced"

# Block names with '/' and a leading '.' become flat, reversible names
for f in "$FIXTURES"/pc-loader.mig; do
    [ -e "$f" ] || continue
    expect_exit "extract: pc-loader" 0 "$M" extract -q "$f" "$WORK/pl"
    check "extract: /rom@etc/acpi/tables -> %2from@etc%2facpi%2ftables.ram" test -f "$WORK/pl/%2from@etc%2facpi%2ftables.ram"
    check "extract: vmdesc.json is the stream's vmdesc" python3 -c "import json; json.load(open('$WORK/pl/vmdesc.json'))['devices']"
    check "extract: images are sparse" test "$(du -k "$WORK/pl/pc.ram.ram" | cut -f1)" -lt 8192
done

# dump --vmdesc: the vmdesc JSON exactly as the stream ends with it
# (QEMU_VM_VMDESCRIPTION, be32 length, JSON), the same as vmdesc.json
for n in pc-loader q35-devices; do
    f=$FIXTURES/$n.mig
    [ -e "$f" ] || continue
    expect_exit "dump --vmdesc $n" 0 "$M" dump --vmdesc "$f"
    check "dump --vmdesc $n: the stream's last bytes, then a newline" python3 -c "
import struct
out = open('$WORK/out', 'rb').read()
assert out.endswith(b'\n')
js = out[:-1]
s = open('$f', 'rb').read()
assert s.endswith(js) and s[-len(js) - 5] == 6 and struct.unpack('>I', s[-len(js) - 4:-len(js)])[0] == len(js)
"
    rm -rf "$WORK/vd"
    "$M" extract -q "$f" "$WORK/vd"
    check "dump --vmdesc $n: same bytes as extract's vmdesc.json" cmp -s <(head -c -1 "$WORK/out") "$WORK/vd/vmdesc.json"
done
expect_exit "dump --vmdesc: a stream without a vmdesc" 1 "$M" dump --vmdesc "$WORK/good.mig"
expect_err "dump --vmdesc: says so" "the stream has no vmdesc"
"$M" legacy-to-ber -q "$FIXTURES/pc-loader.mig" "$WORK/pl.ber"
"$M" dump --vmdesc "$FIXTURES/pc-loader.mig" >"$WORK/vd.l"
"$M" dump --vmdesc "$WORK/pl.ber" >"$WORK/vd.b"
check "dump --vmdesc: BER input gives the same vmdesc" cmp -s "$WORK/vd.l" "$WORK/vd.b"
finish
