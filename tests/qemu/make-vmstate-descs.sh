#!/usr/bin/env bash
# Make the built-in vmstate descriptions of compat (src/desc/vmstate-qemu-
# VERSION-x86.json) from QEMU's own -dump-vmstate (the input of QEMU's
# scripts/vmstate-static-checker.py) of each version: the host's QEMU 7.2
# and QEMU 5.2, 10.0 and 11.1 from their Debian chroots (tests/qemu/roots.sh,
# needs root).  The dump lists every device type the binary has, whatever
# the machine; it is made with -machine pc and with q35 and both are merged
# (they are the same but for the machine's name).
# Usage: tests/qemu/make-vmstate-descs.sh [VERSION ...]   (default: all four)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../src/desc
work=$(mktemp -d /tmp/migconv-vmstate.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ $# -gt 0 ] || set -- 5.2 7.2 10.0 11.1
for v in "$@"; do
    if [ "$v" = 7.2 ]; then
        q=(qemu-system-x86_64)
    else
        "$here/roots.sh" mount "$v" >/dev/null
        q=(chroot "$("$here/roots.sh" path "$v")" /usr/bin/qemu-system-x86_64)
    fi
    for m in pc q35; do
        "${q[@]}" -machine $m -nodefaults -display none -dump-vmstate "$work/$v-$m.json"
    done
    python3 "$here/compact-vmstate.py" "$v" "$out/vmstate-qemu-$v-x86.json" \
        "$work/$v-pc.json" "$work/$v-q35.json"
    echo "$out/vmstate-qemu-$v-x86.json: $("${q[@]}" --version | head -1)"
done
