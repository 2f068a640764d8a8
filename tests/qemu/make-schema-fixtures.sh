#!/usr/bin/env bash
# Make the fixtures of `migconv schema --diff` (tests/fixtures/schema/):
#   dump-vmstate-7.2-pc.json.gz   QEMU 7.2's -dump-vmstate JSON (the input of
#                                 QEMU's scripts/vmstate-static-checker.py),
#                                 from the host's qemu-system-x86_64
#   dump-vmstate-11.1-pc.json.gz  the same from QEMU 11.1 (sid chroot)
#   tables-qemu-11.1-x86.json     descriptor tables (`migconv tables`) of a
#                                 paused pc and q35 guest of QEMU 11.1
# Usage: tests/qemu/make-schema-fixtures.sh MIGCONV
# The QEMU 11.1 parts need the sid chroot at
# ${MC_CACHE_DIR:-$HOME/.cache/migconv}/roots/sid with /tmp bind-mounted and
# /proc mounted (see tests/qemu/roots.sh), and root for chroot; without it
# they are skipped with a message.
set -euo pipefail
migconv=${1:?usage: make-schema-fixtures.sh MIGCONV}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/tests/fixtures/schema
mkdir -p "$out"
work=$(mktemp -d /tmp/migconv-schema.XXXXXX)
trap 'rm -rf "$work"' EXIT

qemu-system-x86_64 -machine pc -nodefaults -display none \
    -dump-vmstate "$work/vm72.json"
gzip -9n -c "$work/vm72.json" > "$out/dump-vmstate-7.2-pc.json.gz"
echo "$out/dump-vmstate-7.2-pc.json.gz: $(qemu-system-x86_64 --version | head -1)"

root=${MC_CACHE_DIR:-$HOME/.cache/migconv}/roots/sid
if [ ! -x "$root/usr/bin/qemu-system-x86_64" ] || ! mountpoint -q "$root/tmp"; then
    echo "no sid chroot with /tmp mounted at $root: QEMU 11.1 parts skipped" >&2
    exit 0
fi
q="chroot $root /usr/bin/qemu-system-x86_64"
$q -machine pc -nodefaults -display none -dump-vmstate "$work/vm111.json"
gzip -9n -c "$work/vm111.json" > "$out/dump-vmstate-11.1-pc.json.gz"
echo "$out/dump-vmstate-11.1-pc.json.gz: $($q --version | head -1)"
# A paused guest of each machine type, saved through the monitor.
for m in pc q35; do
    { sleep 1; echo "migrate \"exec:cat > $work/$m.mig\""; sleep 4; echo quit; } |
        timeout 120 $q -nodefaults -display none -S -accel tcg -machine "$m" \
            -m 32 -smp 1 -monitor stdio >/dev/null
    [ -s "$work/$m.mig" ] || { echo "no stream from QEMU 11.1 $m" >&2; exit 1; }
done
"$migconv" tables -q -f -o "$work/tables.json" "$work/pc.mig" "$work/q35.mig"
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), sort_keys=True, separators=(",", ":"))' \
    "$work/tables.json" "$out/tables-qemu-11.1-x86.json"
echo "$out/tables-qemu-11.1-x86.json: from QEMU 11.1 pc and q35"
