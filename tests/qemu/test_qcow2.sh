#!/usr/bin/env bash
# qcow2 internal snapshots from real QEMU (see qcow2_snapshots.py).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v qemu-system-x86_64 >/dev/null && command -v qemu-img >/dev/null ||
    { echo "qemu-system-x86_64/qemu-img not installed: skipped"; exit 77; }
work=$(mktemp -d /tmp/mcq.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$here/qcow2_snapshots.py" "${MIGCONV:?}" "$work"
