#!/usr/bin/env bash
# mapped-ram files (QEMU >= 9.0 `migrate file:` with mapped-ram=on, with
# and without multifd) made by QEMU 11.1 in the sid root: not supported
# yet, so every command stops with one clear error and leaves no output.
# The sid root is made and mounted by tests/qemu/roots.sh (skipped when not
# root).
set -u
. "$(dirname "$0")/../cli/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "chroot needs root: skipped"; exit 77; }
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
for mf in 0 2; do
    f=$WORK/mr-$mf.bin
    python3 "$here/make-mapped-ram.py" --multifd $mf "$WORK/qemu-11.1" "$f" >"$WORK/mk" 2>&1 ||
        { bad "QEMU 11.1 writes a mapped-ram file (multifd $mf)" "$(tail -3 "$WORK/mk")"; continue; }
    check "mapped-ram file (multifd $mf) has holes" test "$(du -k "$f" | cut -f1)" -lt $(( $(stat -c %s "$f") / 1024 / 4 ))
    for cmd in "dump" "extract" "normalize" "legacy-to-ber" "verify"; do
        args=("$f")
        case $cmd in extract|normalize|legacy-to-ber) args+=("$WORK/out-$cmd") ;; esac
        expect_exit "$cmd: mapped-ram (multifd $mf) refused" 1 "$M" $cmd -q "${args[@]}"
        expect_err "$cmd: mapped-ram (multifd $mf): says why" "offset [0-9]+: start ram \(id 1\): mapped-ram files \(the configuration lists the mapped-ram capability\) are not supported"
        check "$cmd: mapped-ram (multifd $mf): no output left" bash -c "! ls -d '$WORK'/out-$cmd* 2>/dev/null"
    done
done
finish
