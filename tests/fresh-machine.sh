#!/usr/bin/env bash
# Prove the README quick start on a fresh minimal Debian 12 system.
#
#   tests/fresh-machine.sh [-q]
#
# Makes (once) a pristine `debootstrap --variant=minbase bookworm` tree,
# cached in ${MC_CACHE_DIR:-$HOME/.cache/migconv}/fresh/bookworm, and for
# every run a fresh copy of it.  Into the copy go proc, sys, /dev, /dev/pts,
# a new /dev/shm, the host's resolv.conf and a clone of this checkout's
# committed HEAD (uncommitted changes are not in it), at /root/migconv.
# The two quick-start commands are taken from README.md (the code blocks
# after the <!-- quick-start-1 --> and <!-- quick-start-2 --> marks) and
# run there as root in a clean environment: command 1 twice in a row, then
# command 2.  The script reports each command's exit status, the failing
# and skipped tests, and files the commands left that git does not ignore,
# and exits 1 when any of that is not clean (2 on trouble of its own).
#
# Downloaded packages are kept in .../fresh/apt-archives, bind-mounted at
# the chroot's /var/cache/apt/archives, so they are downloaded once; they
# are still installed by apt on every run.  The QEMU version chroots in
# .../roots (tests/qemu/roots.sh), when present, are bind-mounted at the
# same place inside (/root/.cache/migconv/roots) so the suite there uses
# them.  Everything runs in a private mount namespace; the mounts and the
# copied tree are removed on every exit, also on SIGINT, SIGTERM and SIGHUP.
# Logs are kept in build/fresh/ of the checkout.
# (A shell starts background jobs with SIGINT ignored when it has no job
# control, and a script cannot undo that: stop such a run with SIGTERM.)
#
# Needs root (run by another user it runs itself through sudo), debootstrap,
# git and unshare.  MC_DEBIAN_MIRROR chooses the mirror
# (http://deb.debian.org/debian).  -q leaves the commands' output out of
# the terminal (it is in the logs either way).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MC_CACHE_DIR:-$HOME/.cache/migconv}
quiet=0
case ${1:-} in
-q) quiet=1 ;;
'') ;;
*) echo "usage: tests/fresh-machine.sh [-q]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "fresh-machine: needs root" >&2; exit 2; }
    exec sudo env MC_CACHE_DIR="$cache" ${MC_DEBIAN_MIRROR:+MC_DEBIAN_MIRROR="$MC_DEBIAN_MIRROR"} "$0" "$@"
fi
# A private mount namespace: nothing mounted here is seen outside, and it
# all goes away with the last process in it even if cleanup cannot run.
if [ -z "${MC_FRESH_NS:-}" ]; then
    MC_FRESH_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi
unset MC_FRESH_NS
for t in debootstrap git chroot; do
    command -v $t >/dev/null || { echo "fresh-machine: $t is not installed" >&2; exit 2; }
done

say() { printf 'fresh-machine: %s\n' "$*"; }
die() { printf 'fresh-machine: %s\n' "$*" >&2; exit 2; }

fresh=$cache/fresh
pristine=$fresh/bookworm
archives=$fresh/apt-archives
roots=$cache/roots
logs=$top/build/fresh
mkdir -p "$fresh" "$archives" "$logs"

# One run at a time: they share the pristine tree and the package cache.
exec 9>"$fresh/lock"
if ! flock -n 9; then
    say "waiting for another run to finish"
    flock 9
fi

# The quick-start commands, from README.md: the fenced block after each mark.
readme_block() {
    awk -v mark="<!-- quick-start-$1" '
        index($0, mark) && !seen { seen = 1; next }
        seen == 1 && /^[ \t]*```/ { seen = 2; match($0, /^[ \t]*/); ind = RLENGTH; next }
        seen == 2 && /^[ \t]*```/ { exit }
        seen == 2 { print substr($0, ind + 1) }
    ' "$top/README.md"
}
cmd1=$(readme_block 1)
cmd2=$(readme_block 2)
[ -n "$cmd1" ] || die "README.md has no quick-start-1 block"
[ -n "$cmd2" ] || die "README.md has no quick-start-2 block"

head=$(git -C "$top" rev-parse HEAD)
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
    say "note: the checkout has uncommitted changes; the check uses the committed HEAD $head"
fi

root=
pids=()
# Processes whose root directory is the chroot (commands and what they left).
chroot_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case $r in "$root" | "$root"/*) echo "${p#/proc/}" ;; esac
    done
    return 0
}
# Mount points at or below $1, deepest first.
mounts_below() {
    awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
cleanup() {
    local rc=$? m p left
    trap '' INT TERM HUP
    [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
    if [ -n "$root" ] && [ -d "$root" ]; then
        for sig in TERM KILL; do
            left=$(chroot_pids)
            [ -n "$left" ] || break
            # shellcheck disable=SC2086
            kill -$sig $left 2>/dev/null || true
            sleep 2
        done
        for m in $(mounts_below "$root"); do
            umount "$m" 2>/dev/null || umount -l "$m" || true
        done
        if [ -n "$(mounts_below "$root")" ]; then
            say "error: still mounted below $root; not removing it" >&2
            rc=2
        else
            rm -rf --one-file-system "$root"
        fi
    fi
    exit $rc
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM HUP

# Trees left by a run that could not clean up (killed with SIGKILL): their
# mounts went away with their namespace, and no run holds the lock.
for d in "$fresh"/run.*; do
    [ -d "$d" ] || continue
    [ -z "$(mounts_below "$d")" ] || continue
    say "removing the tree of an earlier run, $d"
    rm -rf --one-file-system "$d"
done

if [ ! -d "$pristine" ]; then
    say "making the pristine minbase bookworm tree (once)"
    rm -rf --one-file-system "$pristine.tmp"
    debootstrap --variant=minbase --cache-dir="$archives" bookworm \
        "$pristine.tmp" "${MC_DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
        >"$logs/debootstrap.log" 2>&1 ||
        die "debootstrap failed, see $logs/debootstrap.log"
    mv "$pristine.tmp" "$pristine"
fi

root=$(realpath "$(mktemp -d "$fresh/run.XXXXXX")")
chmod 755 "$root"
say "copying the pristine tree to $root"
cp -a --reflink=auto "$pristine/." "$root/"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# The chroot's / is a mount point, as on a machine (libvirt's QEMU driver
# changes the propagation of / for each domain).
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
mount --bind "$archives" "$root/var/cache/apt/archives"
if [ -d "$roots" ]; then
    mkdir -p "$root/root/.cache/migconv/roots"
    mount --bind "$roots" "$root/root/.cache/migconv/roots"
    say "QEMU version chroots from $roots at /root/.cache/migconv/roots"
fi

say "cloning $top at $head (committed HEAD) to /root/migconv"
git clone -q --no-hardlinks "$top" "$root/root/migconv"
git -C "$root/root/migconv" checkout -q "$head" 2>/dev/null ||
    git -C "$root/root/migconv" -c advice.detachedHead=false checkout -q --detach "$head"
[ "$(git -C "$root/root/migconv" rev-parse HEAD)" = "$head" ] || die "clone is not at $head"

# Run a command as root in the chroot, in a clean login-like environment,
# from the top of the clone, in a PID namespace of its own (it sees only its
# own processes, as on a machine of its own, and what it leaves running
# ends with it).  It runs as a job of its own (job control on)
# so that it keeps the default SIGINT handling and the traps above still
# run at once when a signal comes.
run_cmd() {
    local name=$1 cmd=$2 log=$logs/$1.log t0 rc
    say "$name: $cmd"
    t0=$(date +%s)
    set -m
    unshare --pid --fork --mount-proc="$root/proc" \
        chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root \
        SHELL=/bin/bash TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        ${http_proxy:+http_proxy="$http_proxy"} ${https_proxy:+https_proxy="$https_proxy"} \
        /bin/bash -c 'cd /root/migconv && eval "$1"' quick-start "$cmd" \
        </dev/null >"$log" 2>&1 9>&- &
    pids=($!)
    set +m
    if [ $quiet = 0 ]; then
        tail -n +1 -f --pid="${pids[0]}" "$log" &
        pids+=($!)
    fi
    rc=0
    wait "${pids[0]}" || rc=$?
    [ ${#pids[@]} -lt 2 ] || wait "${pids[1]}" || true
    pids=()
    printf '%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" >>"$summary"
    say "$name: exit $rc ($(( $(date +%s) - t0 )) s, log $log)"
}

summary=$logs/summary
: >"$summary"
run_cmd command-1-run-1 "$cmd1"
run_cmd command-1-run-2 "$cmd1"
run_cmd command-2 "$cmd2"

# What the suite's ctest said, and what each test printed.
bad=0
echo
say "results for $head"
while IFS=$'\t' read -r name rc secs; do
    printf '  %-16s exit %-3s %5s s\n' "$name" "$rc" "$secs"
    [ "$rc" = 0 ] || bad=1
done <"$summary"
log2=$logs/command-2.log
lasttest=$root/root/migconv/build/test/Testing/Temporary/LastTest.log
grep -E '^[0-9]+% tests passed' "$log2" | sed 's/^/  /' || true
failed=$(sed -n '/The following tests FAILED:/,$p' "$log2" | grep -E '^[[:space:]]+[0-9]+ - ' || true)
if [ -n "$failed" ]; then
    bad=1
    say "failing tests:"
    echo "$failed"
fi
skipped=$(grep -E '\*\*\*Skipped|\(Not Run\)|\(Disabled\)' "$log2" || true)
if [ -n "$skipped" ]; then
    bad=1
    say "tests skipped or not run:"
    echo "$skipped"
fi
# Checks inside a test that skipped themselves (a missing QEMU binary, no
# usable /dev/kvm, a fixture without tables, ...).
if [ -f "$lasttest" ]; then
    cp "$lasttest" "$logs/LastTest.log"
    inner=$(grep -E -i '^[[:space:]]*skip[[:space:]:]|skipped$' "$lasttest" | sort | uniq -c || true)
    if [ -n "$inner" ]; then
        say "checks that skipped themselves inside passing tests (see $logs/LastTest.log):"
        echo "$inner"
        if grep -E -i -q 'not installed|no such file|not found|missing' <<<"$inner"; then
            say "some were skipped for something missing"
            bad=1
        fi
    fi
elif [ -z "$failed" ]; then
    say "no ctest log at build/test/Testing/Temporary/LastTest.log"
    bad=1
fi
left=$(git -C "$root/root/migconv" status --porcelain --untracked-files=all)
if [ -n "$left" ]; then
    bad=1
    say "the commands left files that git does not ignore, or changed tracked files:"
    echo "$left"
fi
if [ $bad = 0 ]; then
    say "PASS: README quick start works on a fresh minimal Debian 12"
else
    say "FAIL"
fi
exit $bad
