#!/usr/bin/env bash
# Containers under a stream: compressed files (gzip, bzip2, xz, zstd, from
# files and pipes), bytes after the vmdesc (a Proxmox-style state volume),
# and damaged layers.  libvirt images made by real libvirt are in
# tests/libvirt; qcow2 snapshots by real QEMU in tests/qemu/test_qcow2.sh.
set -u
. "$(dirname "$0")/lib.sh"
M=$MIGCONV
for n in pc-bare q35-devices; do
    f=$FIXTURES/$n.mig
    for z in gzip bzip2 xz zstd lzop; do
        $z -c < "$f" > "$WORK/$n.$z"
        expect_exit "$n.$z: legacy-to-ber" 0 "$M" legacy-to-ber -q "$WORK/$n.$z" "$WORK/$n.$z.ber"
        expect_exit "$n.$z: ber-to-legacy" 0 "$M" ber-to-legacy -q "$WORK/$n.$z.ber" "$WORK/$n.$z.back"
        check "$n.$z: back is $z, same stream" cmp -s <($z -dc < "$WORK/$n.$z.back") "$f"
        # The BER of the compressed file holds the plain stream's BER after
        # its Container record.
        "$M" legacy-to-ber -q -f "$f" "$WORK/$n.plain.ber"
        check "$n.$z: BER = Container + the plain stream's BER" \
            cmp -s <(tail -c "$(stat -c %s "$WORK/$n.plain.ber")" "$WORK/$n.$z.ber") "$WORK/$n.plain.ber"
        check "$n.$z: dump names the compression" \
            bash -c "'$M' dump '$WORK/$n.$z.ber' | jq -e '.container.compression == \"$z\"' >/dev/null"
        check "$n.$z: from a pipe" bash -c "cat '$WORK/$n.$z' | '$M' legacy-to-ber -q - - | cmp -s - '$WORK/$n.$z.ber'"
        expect_exit "$n.$z: verify" 0 "$M" verify -q "$WORK/$n.$z"
    done
done
# bzip2 -9 (its default) comes back identical; gzip (GNU gzip's own
# deflate, not zlib's), xz and zstd give the same stream, other bytes.
check "bzip2: identical file" cmp -s "$WORK/pc-bare.bzip2" "$WORK/pc-bare.bzip2.back"
# Concatenated gzip members read as one stream.
f=$FIXTURES/pc-bare.mig
head -c 100000 "$f" | gzip -c > "$WORK/cat.gz"
tail -c +100001 "$f" | gzip -c >> "$WORK/cat.gz"
expect_exit "two gzip members: one stream" 0 "$M" legacy-to-ber -q "$WORK/cat.gz" "$WORK/cat.ber"

# Damaged layers: one error line, exit 1, no output.
damaged() { # NAME FILE PATTERN
    rm -f "$WORK/d.ber"
    expect_exit "$1: exit 1" 1 "$M" legacy-to-ber -q "$2" "$WORK/d.ber"
    expect_err "$1: message" "$3"
    check "$1: one line" test "$(wc -l < "$WORK/err")" = 1
    check "$1: no output" test ! -e "$WORK/d.ber"
}
# libvirt save images built here around a fixture stream, in every format
# (real libvirt images, which need root and libvirt, are in tests/libvirt):
# the header and XML come back exactly, the stream in the same format.
mklv() { # FORMAT-CODE COMPRESSOR|- OUT [big]
    python3 - "$1" "$2" "$3" "${4:-little}" "${MKLV_STREAM:-$FIXTURES/pc-bare.mig}" <<'PY'
import struct, subprocess, sys
code, comp, out, order, stream = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
data = open(stream, 'rb').read()
if comp != '-':
    data = subprocess.run(comp.split(), input=data, stdout=subprocess.PIPE, check=True).stdout
xml = b"<domain type='qemu'>\n  <name>synthetic</name>\n</domain>\n\0"
cookie = b"<cookie>\n  <cpu mode='custom'/>\n</cookie>\n\0"
body = xml + cookie + b'\0' * 300
e = '>' if order == 'big' else '<'
hdr = b'LibvirtQemudSave' + struct.pack(e + '5I', 2, len(body), 1, code, len(xml)) + struct.pack(e + '14I', *([0] * 14))
open(out, 'wb').write(hdr + body + data)
PY
}
for spec in "0:-:raw:cat" "1:gzip -c:gzip:gzip -dc" "2:bzip2 -c:bzip2:bzip2 -dc" \
            "3:xz -c -3:xz:xz -dc" "4:lzop -c:lzop:lzop -dc" "5:zstd -c:zstd:zstd -dc"; do
    IFS=: read -r code comp name dec <<<"$spec"
    for order in little big; do
        img=$WORK/lv-$name-$order.save
        mklv "$code" "$comp" "$img" "$order"
        "$M" legacy-to-ber -q "$img" "$img.ber" && "$M" ber-to-legacy -q "$img.ber" "$img.back" ||
            bad "libvirt $name ($order-endian): conversion"
        n=$((92 + $(python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); print(struct.unpack(('>' if sys.argv[2]=='big' else '<')+'I', d[20:24])[0])" "$img" "$order")))
        check "libvirt $name ($order-endian): same header and XML" cmp -s <(head -c $n "$img") <(head -c $n "$img.back")
        check "libvirt $name ($order-endian): same stream" cmp -s <(tail -c +$((n + 1)) "$img.back" | $dec) "$FIXTURES/pc-bare.mig"
        [ "$name" != raw ] || check "libvirt raw ($order-endian): byte-identical" cmp -s "$img" "$img.back"
        check "libvirt $name ($order-endian): dump shows the XML and cookie" bash -c \
            "'$M' dump '$img.ber' | jq -e '.container.libvirt.xml | test(\"synthetic\")' >/dev/null &&
             '$M' dump '$img' | jq -e '.container.libvirt.cookie | test(\"<cookie>\")' >/dev/null"
    done
done
check "bzip2 libvirt image: byte-identical" cmp -s "$WORK/lv-bzip2-little.save" "$WORK/lv-bzip2-little.save.back"
lv=$WORK/lv-raw-little.save
head -c 60 "$lv" > "$WORK/lvcut.save"
damaged "libvirt: cut header" "$WORK/lvcut.save" "header cut short"
head -c 200 "$lv" > "$WORK/lvshort.save"
damaged "libvirt: data_len past the end" "$WORK/lvshort.save" "XML data length [0-9]+ runs past the end of the file"
{ printf 'LibvirtQemudPart'; tail -c +17 "$lv"; } > "$WORK/lvpart.save"
damaged "libvirt: LibvirtQemudPart" "$WORK/lvpart.save" "save image is incomplete"
mklv 6 - "$WORK/lvsparse.save"
damaged "libvirt: sparse format" "$WORK/lvsparse.save" "sparse \(mapped-ram\) save image format is not supported yet"
head -c 5000 "$lv" > "$WORK/lvstream.save"
damaged "libvirt: stream cut" "$WORK/lvstream.save" "stream in a libvirt image: offset [0-9]+: "
cat "$lv" | "$M" legacy-to-ber -q - "$WORK/lvpipe.ber"
check "libvirt image from a pipe" cmp -s "$WORK/lvpipe.ber" "$lv.ber"

# retarget writes OUT in IN's container: a libvirt image of QEMU 11.1's
# q35 stream, retargeted to 7.2 (slirp instances renumbered), keeps its
# header and XML and its compression, around the stream retarget writes
# for the bare stream (which QEMU 7.2 loads, tests/qemu/test_retarget.sh);
# --bare writes that stream alone
s11=$FIXTURES/../qemu-11.1/q35-5.2-devices.mig
"$M" retarget -q --to 7.2 "$s11" "$WORK/rt-bare.mig"
check "negative control: retarget changes the 11.1 stream" bash -c "! cmp -s '$s11' '$WORK/rt-bare.mig'"
for spec in "0:-:raw:cat" "1:gzip -c:gzip:gzip -dc" "3:xz -c -3:xz:xz -dc" "5:zstd -c:zstd:zstd -dc"; do
    IFS=: read -r code comp name dec <<<"$spec"
    img=$WORK/rt-$name.save
    MKLV_STREAM=$s11 mklv "$code" "$comp" "$img"
    n=$((92 + $(od -An -tu4 -j20 -N4 "$img")))
    rm -f "$img.rt" "$img.bare"
    expect_exit "retarget of a libvirt image ($name)" 0 "$M" retarget -q --to 7.2 "$img" "$img.rt"
    check "retarget of a libvirt image ($name): same header and XML" cmp -s <(head -c $n "$img") <(head -c $n "$img.rt")
    check "retarget of a libvirt image ($name): the retargeted stream, compressed the same way" \
        cmp -s <(tail -c +$((n + 1)) "$img.rt" | $dec) "$WORK/rt-bare.mig"
    check "retarget of a libvirt image ($name): the output reads as a libvirt image" bash -c \
        "'$M' dump '$img.rt' | jq -e '.container.libvirt.xml | test(\"synthetic\")' >/dev/null"
    expect_exit "retarget --bare of a libvirt image ($name)" 0 "$M" retarget -q --bare --to 7.2 "$img" "$img.bare"
    check "retarget --bare of a libvirt image ($name): the stream alone" cmp -s "$img.bare" "$WORK/rt-bare.mig"
done
rm -f "$WORK/rt.gz"
gzip -c "$s11" > "$WORK/s11.gz"
expect_exit "retarget of a gzip stream" 0 "$M" retarget -q --to 7.2 "$WORK/s11.gz" "$WORK/rt.gz"
check "retarget of a gzip stream: gzip of the retargeted stream" cmp -s <(gzip -dc "$WORK/rt.gz") "$WORK/rt-bare.mig"

# Bytes after the vmdesc: kept as a Trailer, zero runs compact.
{ cat "$f"; head -c 1000 /dev/zero; printf 'old data'; head -c 70000 /dev/urandom; head -c 8000000 /dev/zero; } > "$WORK/vol"
expect_exit "state volume: legacy-to-ber" 0 "$M" legacy-to-ber -q "$WORK/vol" "$WORK/vol.ber"
expect_exit "state volume: ber-to-legacy" 0 "$M" ber-to-legacy -q "$WORK/vol.ber" "$WORK/vol.back"
check "state volume: identical" cmp -s "$WORK/vol" "$WORK/vol.back"
"$M" legacy-to-ber -q "$f" "$WORK/bare.ber"
size=$(( $(stat -c %s "$WORK/vol.ber") - $(stat -c %s "$WORK/bare.ber") ))
check "state volume: 8 MB of zeros cost a few bytes ($size bytes of Trailer for 70 KB of data)" test "$size" -lt 72000
expect_exit "--drop-trailer" 0 "$M" legacy-to-ber -q --drop-trailer "$WORK/vol" "$WORK/vol-d.ber"
check "--drop-trailer: the plain stream's BER" cmp -s "$WORK/vol-d.ber" "$WORK/bare.ber"
"$M" ber-to-legacy -q --drop-trailer "$WORK/vol.ber" "$WORK/vol-d.mig"
check "ber-to-legacy --drop-trailer: the plain stream" cmp -s "$WORK/vol-d.mig" "$f"
# The commands that read the state leave the bytes after it alone: the
# same output for the state volume (legacy and BER) as for the stream
# (before, each failed with "trailing bytes after the vmdesc")
for v in "$WORK/vol" "$WORK/vol.ber"; do
    n=$(basename "$v")
    rm -rf "$WORK/st"; mkdir -p "$WORK/st/a" "$WORK/st/b"
    expect_exit "$n: normalize" 0 "$M" normalize -q "$v" "$WORK/st/n.mig"
    "$M" normalize -q "$f" "$WORK/st/n0.mig"
    check "$n: normalize gives the stream's output" cmp -s "$WORK/st/n.mig" "$WORK/st/n0.mig"
    expect_exit "$n: retarget" 0 "$M" retarget -q --to 7.2 "$v" "$WORK/st/r.mig"
    "$M" retarget -q --to 7.2 "$f" "$WORK/st/r0.mig"
    check "$n: retarget gives the stream's output" cmp -s "$WORK/st/r.mig" "$WORK/st/r0.mig"
    expect_exit "$n: compat" 0 "$M" compat --to 7.2 "$v"
    expect_exit "$n: extract" 0 "$M" extract -q "$v" "$WORK/st/a/x"
    "$M" extract -q "$f" "$WORK/st/b/x"
    check "$n: extract gives the stream's files" diff -r "$WORK/st/a" "$WORK/st/b"
    expect_exit "$n: schema" 0 "$M" schema -o "$WORK/st/s.asn" "$v"
    "$M" schema -o "$WORK/st/s0.asn" "$f"
    check "$n: schema gives the stream's (but for the input's name)" \
        cmp -s <(grep -v '^-- Generated from: ' "$WORK/st/s.asn") <(grep -v '^-- Generated from: ' "$WORK/st/s0.asn")
done
expect_exit "vol: tables" 0 "$M" tables -o "$WORK/st/t.json" "$WORK/vol"
"$M" tables -o "$WORK/st/t0.json" "$f"
check "vol: tables gives the stream's" cmp -s "$WORK/st/t.json" "$WORK/st/t0.json"
# Device sections need the vmdesc: found with bytes after it too.
{ cat "$FIXTURES/q35-devices.mig"; head -c 1024 /dev/zero; } > "$WORK/qvol"
"$M" legacy-to-ber -q "$WORK/qvol" "$WORK/qvol.ber" && "$M" ber-to-legacy -q "$WORK/qvol.ber" "$WORK/qvol.back"
check "q35-devices + 1024 zero bytes: identical" cmp -s "$WORK/qvol" "$WORK/qvol.back"
# A block-storage state volume: 256 MiB of old bytes after the vmdesc (a
# sparse file: zeros and a little data) stream through with bounded
# memory, also past a --buffer-limit far below their size, and the round
# trip is byte-identical; verify round-trips them too.
cp "$f" "$WORK/bigvol"
printf 'old bytes' >> "$WORK/bigvol"
truncate -s +128M "$WORK/bigvol"
head -c 100000 /dev/urandom >> "$WORK/bigvol"
truncate -s +128M "$WORK/bigvol"
printf 'end' >> "$WORK/bigvol"
rss() { # LABEL MAX-KB CMD...: the command succeeds with a peak RSS below MAX-KB
    local label=$1 max=$2
    shift 2
    rm -f "$WORK/rss"
    if /usr/bin/time -f %M -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/err"; then
        check "$label: peak RSS $(cat "$WORK/rss") KB < $max KB" test "$(cat "$WORK/rss")" -lt "$max"
    else
        bad "$label: $(cat "$WORK/err")"
    fi
}
rss "256 MiB trailer: legacy-to-ber" 40000 "$M" legacy-to-ber -q --buffer-limit 4M "$WORK/bigvol" "$WORK/bigvol.ber"
rss "256 MiB trailer: ber-to-legacy" 40000 "$M" ber-to-legacy -q "$WORK/bigvol.ber" "$WORK/bigvol.back"
check "256 MiB trailer: identical" cmp -s "$WORK/bigvol" "$WORK/bigvol.back"
size=$(( $(stat -c %s "$WORK/bigvol.ber") - $(stat -c %s "$WORK/bare.ber") ))
check "256 MiB trailer: the zero runs cost a few bytes ($size bytes of Trailer for 100 KB of data)" test "$size" -lt 102000
rss "256 MiB trailer: verify" 40000 "$M" verify -q "$WORK/bigvol"
rss "256 MiB trailer: verify of the BER" 40000 "$M" verify -q "$WORK/bigvol.ber"
rss "256 MiB trailer: from a pipe" 40000 bash -c "cat '$WORK/bigvol' | '$M' legacy-to-ber -q - - | cmp -s - '$WORK/bigvol.ber'"
# Negative control: the bytes that are buffered do count against the
# limit (here a stream whose vmdesc is cut off, so that everything after
# its first device is buffered looking for it).
head -c $(( $(stat -c %s "$f") - 100 )) "$f" > "$WORK/novd"
truncate -s +8M "$WORK/novd"
expect_exit "no vmdesc and 8 MiB after: the buffer limit applies" 1 "$M" legacy-to-ber -q --buffer-limit 1M "$WORK/novd" "$WORK/novd.ber"
expect_err "no vmdesc and 8 MiB after: message" "exceeds the buffering limit of 1048576 bytes"
rm -f "$WORK/bigvol" "$WORK/bigvol.back" "$WORK/bigvol.ber" "$WORK/novd"
# verify of a state volume and of its BER: the trailer goes through the
# round trip.
expect_exit "verify of a state volume" 0 "$M" verify -q "$WORK/vol"
expect_exit "verify of a state volume's BER" 0 "$M" verify -q "$WORK/vol.ber"
# A gzip'd state volume.
gzip -c < "$WORK/vol" > "$WORK/vol.gz"
"$M" legacy-to-ber -q "$WORK/vol.gz" "$WORK/volgz.ber" && "$M" ber-to-legacy -q "$WORK/volgz.ber" "$WORK/volgz.back"
check "gzip'd state volume: same bytes" cmp -s <(gzip -dc < "$WORK/volgz.back") "$WORK/vol"

head -c 50000 "$WORK/pc-bare.gzip" > "$WORK/cut.gz"
damaged "truncated gzip" "$WORK/cut.gz" "gzip data cut short"
head -c 50000 "$WORK/pc-bare.xz" > "$WORK/cut.xz"
damaged "truncated xz" "$WORK/cut.xz" "xz data cut short"
head -c 50000 "$WORK/pc-bare.zstd" > "$WORK/cut.zst"
damaged "truncated zstd" "$WORK/cut.zst" "zstd data cut short"
head -c 50000 "$WORK/pc-bare.lzop" > "$WORK/cut.lzo"
damaged "truncated lzop" "$WORK/cut.lzo" "lzop: data cut short"
head -c 50000 "$WORK/pc-bare.bzip2" > "$WORK/cut.bz2"
damaged "truncated bzip2" "$WORK/cut.bz2" "bzip2 data cut short"
python3 -c "
import sys; d = bytearray(open(sys.argv[1], 'rb').read()); d[5000] ^= 0xff; open(sys.argv[2], 'wb').write(d)" "$WORK/pc-bare.gzip" "$WORK/flip.gz"
damaged "corrupt gzip" "$WORK/flip.gz" "gzip: "
{ cat "$WORK/pc-bare.gzip"; printf 'garbage'; } > "$WORK/junk.gz"
damaged "bytes after the gzip data" "$WORK/junk.gz" "trailing bytes after the gzip data"
# Cut inside the compressed stream: the offset names the layer.
head -c 5000 "$f" | gzip -c > "$WORK/short.gz"
damaged "stream cut inside gzip" "$WORK/short.gz" "short.gz: gzip data: offset [0-9]+: .*unexpected end of input"
# A damaged Trailer in BER.
python3 - "$WORK/vol.ber" "$WORK/badtrail.ber" "$(stat -c %s "$WORK/bare.ber")" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = int(sys.argv[3])
assert d[i:i + 2] == b'\x68\x80'
d[i + 2] = 0x85
open(sys.argv[2], 'wb').write(d)
PY
rm -f "$WORK/bt.mig"
expect_exit "damaged Trailer: exit 1" 1 "$M" ber-to-legacy -q "$WORK/badtrail.ber" "$WORK/bt.mig"
expect_err "damaged Trailer: message" "invalid Trailer chunk"
check "damaged Trailer: no output" test ! -e "$WORK/bt.mig"
# Without --snapshot, a qcow2 image is a usage error.
qemu-img create -q -f qcow2 "$WORK/e.qcow2" 1M 2>/dev/null && {
    expect_exit "qcow2 without --snapshot" 2 "$M" legacy-to-ber "$WORK/e.qcow2" "$WORK/e.ber"
    expect_err "qcow2 without --snapshot: message" "--snapshot"
    expect_exit "snapshots of an image without any" 0 "$M" snapshots "$WORK/e.qcow2"
    # Damaged qcow2 images (a disk-only snapshot made by qemu-img, then
    # its header and snapshot table damaged): one line, exit 1, no output.
    # Snapshots with vmstate, made by real QEMU, are in tests/qemu.
    cp "$WORK/e.qcow2" "$WORK/s.qcow2"
    qemu-img snapshot -c s1 "$WORK/s.qcow2"
    qdamage() { # OUT PYTHON-EXPR-ON-d-AND-off
        python3 - "$WORK/s.qcow2" "$1" "$2" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
off = struct.unpack('>Q', d[64:72])[0]
exec(sys.argv[3])
open(sys.argv[2], 'wb').write(d)
PY
    }
    qd() { # NAME FILE PATTERN
        rm -f "$WORK/d.ber"
        expect_exit "$1: exit 1" 1 "$M" legacy-to-ber -q --snapshot s1 "$2" "$WORK/d.ber"
        expect_err "$1: message" "$3"
        check "$1: one line" test "$(wc -l < "$WORK/err")" = 1
        check "$1: no output" test ! -e "$WORK/d.ber"
    }
    qd "qcow2: a disk-only snapshot" "$WORK/s.qcow2" "s.qcow2: offset [0-9]+: qcow2 snapshot table: snapshot '1' \\(s1\\) has no vmstate"
    head -c 50 "$WORK/s.qcow2" > "$WORK/qcut.qcow2"
    qd "qcow2: cut header" "$WORK/qcut.qcow2" "offset 50: qcow2 header: .*the image ends inside the qcow2 header"
    qdamage "$WORK/qoff.qcow2" "d[64:72] = struct.pack('>Q', len(d) + 4096)"
    qd "qcow2: snapshot table offset" "$WORK/qoff.qcow2" "offset 64: qcow2 header/snapshots_offset: "
    qdamage "$WORK/qend.qcow2" "d[64:72] = struct.pack('>Q', (len(d) + 65535) // 65536 * 65536)"
    qd "qcow2: snapshot table past the end" "$WORK/qend.qcow2" "qcow2 snapshot table"
    qdamage "$WORK/qextra.qcow2" "d[off + 36:off + 40] = struct.pack('>I', 5000)"
    qd "qcow2: snapshot extra data size" "$WORK/qextra.qcow2" "qcow2 snapshot table/extra_data_size: snapshot 0: extra data of 5000 bytes"
    qdamage "$WORK/qnb.qcow2" "d[60:64] = struct.pack('>I', 1 << 20)"
    qd "qcow2: snapshot count" "$WORK/qnb.qcow2" "qcow2 header/nb_snapshots"
    # The vmstate of a snapshot whose table says it has one, but which
    # reads as zeros: not a stream, said once.
    qdamage "$WORK/qzero.qcow2" "d[off + 32:off + 36] = struct.pack('>I', 100000); d[off + 40:off + 48] = struct.pack('>Q', 100000)"
    qd "qcow2: vmstate of zeros" "$WORK/qzero.qcow2" "vmstate of snapshot 1 \\(s1\\): offset 0: not a QEMU migration stream or BER"
}
# --help says what the man page says.
check "legacy-to-ber --help: --snapshot and --drop-trailer" bash -c "'$M' legacy-to-ber --help | grep -q -- --snapshot && '$M' legacy-to-ber --help | grep -q -- --drop-trailer"
check "batch --help: --shard, --skip-existing, --report" bash -c "'$M' batch --help | grep -q -- --shard && '$M' batch --help | grep -q -- --skip-existing && '$M' batch --help | grep -q -- --report"
finish
