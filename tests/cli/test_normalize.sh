#!/usr/bin/env bash
# migconv normalize: XBZRLE/COMPRESS_PAGE to PAGE with the same RAM
# content (checked through extract), streams without them unchanged,
# --squash (each page once), bad input (one error, no output left).
set -u
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
M=$MIGCONV
mk() { python3 "$here/mkram.py" "$WORK/$1.mig" "$1"; }
records() { "$M" dump "$1" | python3 -c "import json, sys; r = json.load(sys.stdin)['ram_summary']['records']; print(' '.join('%s=%s' % kv for kv in sorted(r.items())))"; }

mk good
expect_exit "normalize: good stream" 0 "$M" normalize -q "$WORK/good.mig" "$WORK/good.n"
check "normalize: records (XBZRLE and COMPRESS_PAGE became PAGE)" test "$(records "$WORK/good.n")" = "eos=2 mem_size=1 page=3 zero=1"
check "normalize: the input had them (negative control)" test "$(records "$WORK/good.mig")" = "compress=1 eos=2 mem_size=1 page=1 xbzrle=1 zero=1"
"$M" extract -q "$WORK/good.mig" "$WORK/x0"
"$M" extract -q "$WORK/good.n" "$WORK/x1"
check "normalize: same pc.ram" cmp -s "$WORK/x0/pc.ram.ram" "$WORK/x1/pc.ram.ram"
check "normalize: same vga.vram" cmp -s "$WORK/x0/vga.vram.ram" "$WORK/x1/vga.vram.ram"
expect_exit "normalize --squash" 0 "$M" normalize -q --squash "$WORK/good.mig" "$WORK/good.s"
check "normalize --squash: each page once (2 in pc.ram, 1 in vga.vram)" test "$(records "$WORK/good.s")" = "eos=2 mem_size=1 page=2 zero=1"
"$M" extract -q "$WORK/good.s" "$WORK/x2"
check "normalize --squash: same pc.ram" cmp -s "$WORK/x0/pc.ram.ram" "$WORK/x2/pc.ram.ram"
check "normalize --squash: same vga.vram" cmp -s "$WORK/x0/vga.vram.ram" "$WORK/x2/vga.vram.ram"
"$M" legacy-to-ber -q "$WORK/good.mig" "$WORK/good.ber"
expect_exit "normalize: BER input" 0 "$M" normalize -q "$WORK/good.ber" "$WORK/good.bn"
check "normalize: BER input gives the same legacy stream" cmp -s "$WORK/good.n" "$WORK/good.bn"
cat "$WORK/good.mig" | "$M" normalize -q - - >"$WORK/good.p"
check "normalize: pipes" cmp -s "$WORK/good.n" "$WORK/good.p"

for n in pc-loader pc-ran q35-devices; do
    f=$FIXTURES/$n.mig
    [ -e "$f" ] || continue
    "$M" normalize -q "$f" "$WORK/$n.n"
    check "normalize: $n (no XBZRLE/compress) comes out byte for byte" cmp -s "$f" "$WORK/$n.n"
done
for n in pc-xbzrle pc-compress; do
    f=$FIXTURES/$n.mig
    [ -e "$f" ] || continue
    "$M" extract -q "$f" "$WORK/$n.x0"
    for opt in "" --squash; do
        rm -rf "$WORK/$n.x1" "$WORK/$n.n"
        "$M" normalize -q $opt "$f" "$WORK/$n.n" && "$M" extract -q "$WORK/$n.n" "$WORK/$n.x1"
        check "normalize $opt: $n has the same RAM" cmp -s "$WORK/$n.x0/pc.ram.ram" "$WORK/$n.x1/pc.ram.ram"
        check "normalize $opt: $n device state unchanged" \
            cmp -s <(python3 -c "import json,sys; d=json.load(open('$WORK/$n.x0/state.json')); print(json.dumps([i for i in d['items'] if i.get('kind') != 'ram']))") \
                   <(python3 -c "import json,sys; d=json.load(open('$WORK/$n.x1/state.json')); print(json.dumps([i for i in d['items'] if i.get('kind') != 'ram']))")
    done
done
f=$FIXTURES/pc-postcopy-switched.mig
if [ -e "$f" ]; then
    expect_exit "normalize: switched postcopy" 0 "$M" normalize -q "$f" "$WORK/psw.n"
    check "normalize: switched postcopy unchanged" cmp -s "$f" "$WORK/psw.n"
    expect_exit "normalize --squash: switched postcopy refused" 1 "$M" normalize -q --squash "$f" "$WORK/psw.s"
    expect_err "normalize --squash: says why" "postcopy packages are not supported"
    check "normalize --squash: no output left" bash -c "! ls '$WORK'/psw.s* 2>/dev/null"
fi

for c in xbzrle-unsent inflate-short inflate-long; do
    mk "$c"
    expect_exit "normalize bad: $c" 1 "$M" normalize -q "$WORK/$c.mig" "$WORK/o-$c"
    expect_err "normalize bad: $c: offset and block" "^migconv: $WORK/$c.mig: offset [0-9]+: ram/pc.ram: "
    check "normalize bad: $c: no output left" bash -c "! ls '$WORK'/o-$c* 2>/dev/null"
done
finish
