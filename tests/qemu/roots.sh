#!/usr/bin/env bash
# Debian chroots holding other QEMU versions, made once and cached:
#
#   tests/qemu/roots.sh versions            the versions known here
#   tests/qemu/roots.sh suite VERSION       the Debian suite of VERSION
#   tests/qemu/roots.sh path VERSION        where its chroot lives (no side effects)
#   tests/qemu/roots.sh make VERSION|all    debootstrap it unless present; print its path
#   tests/qemu/roots.sh mount VERSION       make it if needed, mount /tmp and /proc in it
#   tests/qemu/roots.sh bin VERSION DIR     mount it, then write wrappers into DIR
#                                           (qemu-system-*, qemu-img) that run its QEMU
#   tests/qemu/roots.sh umount VERSION      undo mount (breaks whoever still uses it)
#
# VERSION is a QEMU version (5.2, 7.2, 10.0, 11.1) or a suite name.  7.2 is
# the host's own QEMU (Debian 12): no chroot, its wrappers run /usr/bin.
# Chroots live in ${MC_CACHE_DIR:-$HOME/.cache/migconv}/roots/SUITE, made with
#   debootstrap --variant=minbase --include=PACKAGES SUITE DIR.tmp && mv DIR.tmp DIR
# so a directory without .tmp is complete.  Making and mounting run under a
# lock per suite, and mounting is idempotent: several tests may call this at
# once.  Mounts are left in place (other tests may be running QEMU in the
# chroot); `umount` is for cleaning up by hand.  With /tmp bind-mounted,
# absolute /tmp paths are the same inside and outside the chroot.
set -euo pipefail

roots=${MC_CACHE_DIR:-$HOME/.cache/migconv}/roots
PACKAGES=qemu-system-x86,qemu-utils,python3,qemu-system-arm,qemu-system-ppc,qemu-system-misc
WAIT_OTHER=${MC_ROOTS_WAIT:-900}   # seconds to wait for a chroot someone else is making

die() { echo "roots.sh: $*" >&2; exit 1; }

suite_of() {
    case $1 in
    5.2 | bullseye) echo bullseye ;;
    7.2 | bookworm) echo bookworm ;;
    10.0 | trixie) echo trixie ;;
    11.1 | sid) echo sid ;;
    *) die "unknown QEMU version '$1' (known: 5.2 7.2 10.0 11.1)" ;;
    esac
}

packages_of() {
    # in sid the riscv64 and s390x system emulators are packages of their own
    if [ "$1" = sid ]; then
        echo "$PACKAGES,qemu-system-riscv,qemu-system-s390x"
    else
        echo "$PACKAGES"
    fi
}

is_host() { [ "$1" = bookworm ]; }

# Run "$@" holding the lock of suite $1 (flock on a file beside the chroots).
locked() {
    local suite=$1
    shift
    mkdir -p "$roots"
    (
        flock -w "$WAIT_OTHER" 9 || die "timeout waiting for the lock of $suite"
        "$@"
    ) 9>"$roots/.lock-$suite"
}

# A chroot directory being made by someone not using our lock (a bare
# debootstrap into DIR.tmp): wait for it to be renamed into place.
wait_foreign() {
    local dir=$1 waited=0
    while [ -e "$dir.tmp" ] && [ ! -d "$dir" ] && [ "$waited" -lt "$WAIT_OTHER" ]; do
        if ! pgrep -f "debootstrap.*$dir.tmp" >/dev/null 2>&1; then
            return 0            # nobody is making it: stale
        fi
        [ "$waited" -eq 0 ] && echo "roots.sh: waiting for $dir.tmp to be completed" >&2
        sleep 5
        waited=$((waited + 5))
    done
}

do_make() {
    local suite=$1 dir=$roots/$1
    [ -d "$dir" ] && return 0
    wait_foreign "$dir"
    [ -d "$dir" ] && return 0
    command -v debootstrap >/dev/null || die "debootstrap is not installed (see .ci/deps)"
    [ "$(id -u)" -eq 0 ] || die "making a chroot needs root"
    if [ -e "$dir.tmp" ]; then
        # a stale half-made chroot: never remove through a mount point
        if findmnt -rn -o TARGET | grep -q "^$dir.tmp/"; then
            die "$dir.tmp is half made and has mounts in it: unmount and remove it"
        fi
        rm -rf --one-file-system "$dir.tmp"
    fi
    echo "roots.sh: making $dir (QEMU of Debian $suite; about a minute)" >&2
    debootstrap --variant=minbase --include="$(packages_of "$suite")" \
        "$suite" "$dir.tmp" >"$roots/.debootstrap-$suite.log" 2>&1 ||
        die "debootstrap $suite failed: see $roots/.debootstrap-$suite.log"
    mv "$dir.tmp" "$dir"
}

mounted() { findmnt -rn -M "$1" >/dev/null 2>&1; }

do_mount() {
    local dir=$roots/$1
    [ "$(id -u)" -eq 0 ] || die "mounting in a chroot needs root"
    mounted "$dir/tmp" || mount --bind /tmp "$dir/tmp"
    mounted "$dir/proc" || mount -t proc proc "$dir/proc"
}

do_umount() {
    local dir=$roots/$1
    if mounted "$dir/proc"; then umount "$dir/proc"; fi
    if mounted "$dir/tmp"; then umount "$dir/tmp"; fi
}

write_wrappers() {
    local suite=$1 out=$2 dir=$roots/$1 b
    mkdir -p "$out"
    local base=/usr/bin
    is_host "$suite" || base=$dir/usr/bin
    for b in "$base"/qemu-system-* "$base"/qemu-img; do
        [ -x "$b" ] || continue
        b=${b##*/}
        if is_host "$suite"; then
            printf '#!/bin/sh\nexec /usr/bin/%s "$@"\n' "$b" >"$out/$b.tmp"
        else
            printf '#!/bin/sh\nexec chroot %s /usr/bin/%s "$@"\n' "$dir" "$b" >"$out/$b.tmp"
        fi
        chmod +x "$out/$b.tmp"
        mv "$out/$b.tmp" "$out/$b"
    done
}

cmd=${1:-}
case $cmd in
versions) echo "5.2 7.2 10.0 11.1" ;;
suite) suite_of "${2:?version}" ;;
path)
    s=$(suite_of "${2:?version}")
    if is_host "$s"; then echo /; else echo "$roots/$s"; fi
    ;;
make)
    if [ "${2:?version}" = all ]; then
        for v in 5.2 10.0 11.1; do "$0" make "$v"; done
        exit 0
    fi
    s=$(suite_of "$2")
    if is_host "$s"; then echo /; exit 0; fi
    locked "$s" do_make "$s"
    echo "$roots/$s"
    ;;
mount)
    s=$(suite_of "${2:?version}")
    if is_host "$s"; then echo /; exit 0; fi
    locked "$s" do_make "$s"
    locked "$s" do_mount "$s"
    echo "$roots/$s"
    ;;
umount)
    s=$(suite_of "${2:?version}")
    is_host "$s" || locked "$s" do_umount "$s"
    ;;
bin)
    s=$(suite_of "${2:?version}")
    out=${3:?wrapper directory}
    if ! is_host "$s"; then
        locked "$s" do_make "$s"
        locked "$s" do_mount "$s"
    fi
    write_wrappers "$s" "$out"
    echo "$out"
    ;;
*)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
