#!/usr/bin/env bash
# Benchmark of extract and normalize: time as a ratio to `cat` of the same
# stream, and peak RSS, on the streams of bench.sh (made by real QEMU).
#
#   tests/bench/bench-memory.sh [BUILD_DIR] [WORK_DIR]
#
# Environment as for bench.sh: RAM_MIB (1024), BLOB_MIB (600), ROUNDS (5),
# DOUBLE=1 also measures a stream twice as large (memory must stay flat).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/bench}
work=${2:-${TMPDIR:-/tmp}/migconv-bench}
rounds=${ROUNDS:-5}
mkdir -p "$work"
if [ ! -x "$build/migconv" ]; then
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" >/dev/null
fi
M=$build/migconv
ram=${RAM_MIB:-1024}; blob=${BLOB_MIB:-600}
sizes=$ram
[ "${DOUBLE:-0}" = 1 ] && sizes="$ram $((ram * 2))"
for r in $sizes; do
    [ -e "$work/ram-$r.mig" ] || python3 "$top/tests/bench/make-bench-streams.py" \
        "$work" --ram-mib "$r" --blob-mib $((blob * r / ram)) >/dev/null
done

declare -A best rss
run() {  # run KEY CMD... : keep the fastest run and the peak RSS of one
    local key=$1; shift
    local t0 t1 s r
    rm -rf "$work/x.d"
    if [ -z "${rss[$key]:-}" ]; then
        /usr/bin/time -f '%M' -o "$work/rss" "$@"
        read -r r <"$work/rss"
        rss[$key]=$r
        rm -rf "$work/x.d"
    fi
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc)
    if [ -z "${best[$key]:-}" ] || [ "$(echo "$s < ${best[$key]}" | bc)" = 1 ]; then
        best[$key]=$s
    fi
}

echo "migconv $("$M" --version | cut -d' ' -f2), $(nproc) cores, best of $rounds, $(date -u +%F)"
for r in $sizes; do
    in=$work/ram-$r.mig
    best=(); rss=()
    for ((i = 0; i < rounds; i++)); do
        run cat sh -c "cat '$in' > '$work/out.cat'"
        run extract "$M" extract -q "$in" "$work/x.d"
        run block sh -c "'$M' extract -q --block pc.ram '$in' - > '$work/out.img'"
        run normalize "$M" normalize -qf "$in" "$work/out.mig"
        run squash "$M" normalize -qf --squash "$in" "$work/out.sq"
    done
    cmp "$in" "$work/out.mig"   # no XBZRLE/compress: normalize copies
    printf '\n%s (%d MiB)\n' "$(basename "$in")" $(($(stat -c %s "$in") >> 20))
    printf '  %-36s %8s %8s %10s\n' operation seconds 'vs cat' 'peak RSS'
    line() { printf '  %-36s %8.3f %7.2fx %7d KiB\n' "$1" "${best[$2]}" \
        "$(echo "${best[$2]} / ${best[cat]}" | bc -l)" "${rss[$2]}"; }
    line "cat IN > OUT" cat
    line "extract IN DIR" extract
    line "extract --block pc.ram IN - > OUT" block
    line "normalize IN OUT" normalize
    line "normalize --squash IN OUT" squash
    printf '  pc.ram image: %d MiB apparent, %d MiB allocated\n' \
        $(($(stat -c %s "$work/out.img") >> 20)) $(($(du -k "$work/out.img" | cut -f1) >> 10))
done
rm -rf "$work/x.d" "$work/out.cat" "$work/out.img" "$work/out.mig" "$work/out.sq"
