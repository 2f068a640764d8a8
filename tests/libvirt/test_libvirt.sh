#!/usr/bin/env bash
# Real libvirt save images: virsh save in every format libvirt 9.0 offers
# (save_image_format in qemu.conf), save --paused and managedsave, each
# converted to BER and back and brought back to running by virsh restore /
# virsh start.  Damaged images give one error line and no output.
# Needs root, libvirt-daemon-system and libvirt-clients (.ci/deps);
# starts virtlogd/libvirtd only when none runs and stops what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
M=${MIGCONV:?}
if ! lv_can_run; then
    echo "SKIP: needs root and libvirt (libvirt-daemon-system, libvirt-clients)"
    exit 77
fi
# One libvirt test at a time on this machine (it restarts libvirtd).
exec 9>/tmp/migconv-libvirt-test.lock
flock 9
if pgrep --ns $$ -x libvirtd >/dev/null; then
    echo "SKIP: a libvirtd not started by this test is running (its qemu.conf cannot be changed)"
    exit 77
fi
T=$(mktemp -d /tmp/migconv-libvirt.XXXXXX)
chmod 755 "$T"
trap 'lv_cleanup; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

lv_domain_xml > "$T/dom.xml"

# Header + XML of a libvirt image: 92 bytes + data_len (u32 LE at 20).
head_len() { echo $((92 + $(od -An -tu4 -j20 -N4 "$1"))); }

check_pair() { # ORIG BACK FORMAT
    local o=$1 b=$2 fmt=$3 n
    n=$(head_len "$o")
    cmp <(head -c "$n" "$o") <(head -c "$n" "$b") || fail "$fmt: header and XML differ"
    case $fmt in
    raw) cmp "$o" "$b" || fail "raw: not byte-identical" ;;
    *)  local d=$fmt
        cmp <(tail -c +$((n + 1)) "$o" | $d -dc) <(tail -c +$((n + 1)) "$b" | $d -dc) ||
            fail "$fmt: decompressed streams differ" ;;
    esac
}

roundtrip() { # IMG FMT -> $IMG.back
    local img=$1 fmt=$2
    "$M" legacy-to-ber -q "$img" "$img.ber" || fail "$fmt: legacy-to-ber"
    "$M" ber-to-legacy -q "$img.ber" "$img.back" || fail "$fmt: ber-to-legacy"
    "$M" verify -q "$img" >/dev/null || fail "$fmt: verify"
    "$M" dump "$img.ber" | jq -e '.container.libvirt.xml | test("<name>mc-tiny</name>")' >/dev/null ||
        fail "$fmt: dump lacks the domain XML"
    check_pair "$img" "$img.back" "$fmt"
    chmod 644 "$img.back"
}

for fmt in raw gzip bzip2 xz lzop; do
    lv_set_format "$fmt"
    virsh -q define "$T/dom.xml" >/dev/null
    virsh -q start mc-tiny >/dev/null
    lv_wait_state running
    virsh -q save mc-tiny "$T/$fmt.save" >/dev/null
    code=$(od -An -tu4 -j28 -N4 "$T/$fmt.save" | tr -d ' ')
    want=$(case $fmt in raw) echo 0;; gzip) echo 1;; bzip2) echo 2;; xz) echo 3;; lzop) echo 4;; esac)
    [ "$code" = "$want" ] || fail "$fmt: the image has format $code"
    roundtrip "$T/$fmt.save" "$fmt"
    virsh -q restore "$T/$fmt.save.back" >/dev/null || fail "$fmt: virsh restore of the converted image"
    lv_wait_state running
    echo "$fmt: $(stat -c %s "$T/$fmt.save") bytes, BER $(stat -c %s "$T/$fmt.save.ber"), restored: running"
    if [ "$fmt" = raw ] || [ "$fmt" = gzip ]; then
        # retarget keeps the libvirt image: to the same version nothing
        # changes, and the image restores
        virsh -q save mc-tiny "$T/$fmt.save2" >/dev/null
        "$M" retarget -q --to 7.2 "$T/$fmt.save2" "$T/$fmt.rt.save" || fail "$fmt: retarget"
        check_pair "$T/$fmt.save2" "$T/$fmt.rt.save" "$fmt"
        chmod 644 "$T/$fmt.rt.save"
        virsh -q restore "$T/$fmt.rt.save" >/dev/null || fail "$fmt: virsh restore of the retargeted image"
        lv_wait_state running
        echo "$fmt: retarget --to 7.2 kept the image (same header, XML and stream), restored: running"
    fi
    if [ "$fmt" = raw ]; then
        virsh -q save mc-tiny "$T/paused.save" --paused >/dev/null
        [ "$(od -An -tu4 -j24 -N4 "$T/paused.save" | tr -d ' ')" = 0 ] || fail "--paused: was_running is not 0"
        roundtrip "$T/paused.save" raw
        virsh -q restore "$T/paused.save.back" --running >/dev/null || fail "paused: restore"
        lv_wait_state running
        echo "save --paused: round trip identical, restored with --running: running"
    fi
    if [ "$fmt" = gzip ]; then
        virsh -q managedsave mc-tiny >/dev/null
        ms=/var/lib/libvirt/qemu/save/mc-tiny.save
        cp "$ms" "$T/managed.save"
        roundtrip "$T/managed.save" gzip
        cp "$T/managed.save.back" "$ms"
        virsh -q start mc-tiny >/dev/null || fail "managedsave: virsh start"
        lv_wait_state running
        echo "managedsave (gzip): converted file in place, virsh start: running"
    fi
    virsh -q destroy mc-tiny >/dev/null
    virsh -q undefine mc-tiny >/dev/null
done

# Damaged images: one error line, exit 1, no output.
img=$T/raw.save
bad() { # NAME FILE PATTERN
    rm -f "$T/bad.ber"
    set +e
    "$M" legacy-to-ber -q "$2" "$T/bad.ber" 2>"$T/err"
    rc=$?
    set -e
    [ $rc = 1 ] || fail "$1: exit $rc"
    [ "$(wc -l < "$T/err")" = 1 ] || fail "$1: $(cat "$T/err")"
    grep -q "$3" "$T/err" || fail "$1: message $(cat "$T/err")"
    [ ! -e "$T/bad.ber" ] || fail "$1: output left"
    echo "$1: $(cat "$T/err")"
}
head -c 50 "$img" > "$T/cut.save"
bad "cut header" "$T/cut.save" "header cut short"
head -c 2000 "$img" > "$T/short.save"
bad "data_len past the end" "$T/short.save" "runs past the end"
{ printf 'LibvirtQemudPart'; tail -c +17 "$img"; } > "$T/part.save"
bad "LibvirtQemudPart" "$T/part.save" "save image is incomplete"
n=$(head_len "$T/gzip.save")
head -c $(( $(stat -c %s "$T/gzip.save") - 100 )) "$T/gzip.save" > "$T/trunc.save"
bad "truncated gzip layer" "$T/trunc.save" "gzip data cut short"
head -c $(( n + 4000 )) "$T/raw.save" > "$T/cutstream.save"
bad "cut stream" "$T/cutstream.save" "stream in a libvirt image"
echo "libvirt: all passed"
