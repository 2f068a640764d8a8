#!/usr/bin/env bash
# migconv benchmark: throughput as a ratio to `cat` of the same bytes, peak
# memory, and BER size, on streams made by real QEMU.
#
#   tests/bench/bench.sh [BUILD_DIR] [WORK_DIR]
#
# Environment: RAM_MIB (default 1024), BLOB_MIB (600), ROUNDS (5),
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

[ -e "$work/ram-$ram.mig" ] || python3 "$top/tests/bench/make-bench-streams.py" \
    "$work" --ram-mib "$ram" --blob-mib "$blob" >/dev/null
if [ "${DOUBLE:-0}" = 1 ] && [ ! -e "$work/ram-$((ram * 2)).mig" ]; then
    python3 "$top/tests/bench/make-bench-streams.py" "$work" \
        --ram-mib $((ram * 2)) --blob-mib $((blob * 2)) >/dev/null
fi

# best wall-clock seconds of a command over the rounds (interleaved by caller)
declare -A best rss
run() {  # run KEY CMD... : time one run, keep the minimum and the max RSS
    local key=$1; shift
    local t0 t1 s r
    if [ -z "${rss[$key]:-}" ]; then   # peak RSS, measured once
        /usr/bin/time -f '%M' -o "$work/rss" "$@"
        read -r r <"$work/rss"
        rss[$key]=$r
    fi
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc)
    if [ -z "${best[$key]:-}" ] || [ "$(echo "$s < ${best[$key]}" | bc)" = 1 ]; then
        best[$key]=$s
    fi
}

measure() {  # measure NAME STREAM
    local name=$1 in=$2
    best=(); rss=()
    "$M" legacy-to-ber -qf "$in" "$work/$name.ber"
    for ((i = 0; i < rounds; i++)); do
        run cat sh -c "cat '$in' > '$work/out.cat'"
        run l2b "$M" legacy-to-ber -qf "$in" "$work/out.ber"
        run catb sh -c "cat '$work/$name.ber' > '$work/out.cat'"
        run b2l "$M" ber-to-legacy -qf "$work/$name.ber" "$work/out.mig"
        run pipecat sh -c "cat '$in' | cat | cat > '$work/out.cat'"
        run pipe sh -c "cat '$in' | '$M' legacy-to-ber -q - - | '$M' ber-to-legacy -q - - > '$work/out.mig'"
    done
    cmp "$in" "$work/out.mig"
    local lsz bsz
    lsz=$(stat -c %s "$in"); bsz=$(stat -c %s "$work/$name.ber")
    printf '\n%s: %s (%d MiB)\n' "$name" "$(basename "$in")" $((lsz >> 20))
    printf '  %-36s %8s %8s %10s\n' operation seconds 'vs cat' 'peak RSS'
    line() { printf '  %-36s %8.3f %7.2fx %7d KiB\n' "$1" "${best[$2]}" \
        "$(echo "${best[$2]} / ${best[$3]}" | bc -l)" "${rss[$2]}"; }
    line "cat IN > OUT" cat cat
    line "legacy-to-ber IN OUT" l2b cat
    line "cat BER > OUT" catb catb
    line "ber-to-legacy BER OUT (vs cat BER)" b2l catb
    line "cat | cat | cat > OUT" pipecat pipecat
    line "cat | l2b - - | b2l - - > OUT" pipe pipecat
    printf '  BER / legacy size: %d / %d = %.4f\n' "$bsz" "$lsz" \
        "$(echo "$bsz / $lsz" | bc -l)"
}

echo "migconv $("$M" --version | cut -d' ' -f2), $(nproc) cores, best of $rounds, $(date -u +%F)"
measure ram "$work/ram-$ram.mig"
measure tiny "$work/tiny.mig"
if [ "${DOUBLE:-0}" = 1 ]; then
    measure ram2x "$work/ram-$((ram * 2)).mig"
fi
rm -f "$work/out.cat" "$work/out.ber" "$work/out.mig"
