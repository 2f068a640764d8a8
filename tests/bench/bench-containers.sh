#!/usr/bin/env bash
# Benchmark of containers and batch (figures for the README, no pass/fail):
#  - reading a gzip'd and a zstd'd stream against the decompressor alone
#    (gzip -dc / zstd -dc to a file), and legacy-to-ber of the plain stream
#    against cat;
#  - batch -j 1 against -j 2 in files per second, on 200 small streams and
#    on 4 large ones, with the peak RSS of one worker.
#
#   tests/bench/bench-containers.sh [BUILD_DIR] [WORK_DIR]
#
# Environment: RAM_MIB (default 1024), BLOB_MIB (600), ROUNDS (3); the
# large stream is made by tests/bench/make-bench-streams.py (real QEMU) as
# for bench.sh, and shared with it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/bench}
work=${2:-${TMPDIR:-/tmp}/migconv-bench}
rounds=${ROUNDS:-3}
mkdir -p "$work"
if [ ! -x "$build/migconv" ]; then
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" >/dev/null
fi
M=$build/migconv
ram=${RAM_MIB:-1024}; blob=${BLOB_MIB:-600}
big=$work/ram-$ram.mig
[ -e "$big" ] || python3 "$top/tests/bench/make-bench-streams.py" \
    "$work" --ram-mib "$ram" --blob-mib "$blob" >/dev/null
[ -e "$big.gz" ] || gzip -c < "$big" > "$big.gz"
[ -e "$big.zst" ] || zstd -q -c < "$big" > "$big.zst"

best() {  # best KEY CMD...: minimum wall time over the rounds into T[KEY]
    local key=$1; shift
    local t0 t1 s
    for ((i = 0; i < rounds; i++)); do
        t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N)
        s=$(echo "$t1 - $t0" | bc)
        if [ -z "${T[$key]:-}" ] || [ "$(echo "$s < ${T[$key]}" | bc)" = 1 ]; then
            T[$key]=$s
        fi
    done
}
declare -A T
ratio() { echo "${T[$1]} / ${T[$2]}" | bc -l; }

echo "migconv $("$M" --version | cut -d' ' -f2), $(nproc) cores, best of $rounds, $(date -u +%F)"
printf '\ncompressed input: %s (%d MiB)\n' "$(basename "$big")" $(( $(stat -c %s "$big") >> 20 ))
best cat sh -c "cat '$big' > '$work/o.cat'"
best l2b "$M" legacy-to-ber -qf "$big" "$work/o.ber"
best zcat sh -c "gzip -dc < '$big.gz' > '$work/o.cat'"
best l2bgz "$M" legacy-to-ber -qf "$big.gz" "$work/o.ber"
best zstdcat sh -c "zstd -q -dc < '$big.zst' > '$work/o.cat'"
best l2bzst "$M" legacy-to-ber -qf "$big.zst" "$work/o.ber"
best l2bzstpipe sh -c "cat '$big.zst' | '$M' legacy-to-ber -q - - > '$work/o.ber'"
printf '  %-44s %8.3f s\n' "cat IN > OUT" "${T[cat]}"
printf '  %-44s %8.3f s  %.2fx cat\n' "legacy-to-ber IN OUT" "${T[l2b]}" "$(ratio l2b cat)"
printf '  %-44s %8.3f s\n' "gzip -dc < IN.gz > OUT" "${T[zcat]}"
printf '  %-44s %8.3f s  %.2fx gzip -dc\n' "legacy-to-ber IN.gz OUT" "${T[l2bgz]}" "$(ratio l2bgz zcat)"
printf '  %-44s %8.3f s\n' "zstd -dc < IN.zst > OUT" "${T[zstdcat]}"
printf '  %-44s %8.3f s  %.2fx zstd -dc\n' "legacy-to-ber IN.zst OUT" "${T[l2bzst]}" "$(ratio l2bzst zstdcat)"
printf '  %-44s %8.3f s  %.2fx zstd -dc\n' "cat IN.zst | legacy-to-ber - - > OUT" "${T[l2bzstpipe]}" "$(ratio l2bzstpipe zstdcat)"
/usr/bin/time -f '%M' -o "$work/rss" "$M" legacy-to-ber -qf "$big.gz" "$work/o.ber"
printf '  peak RSS of legacy-to-ber IN.gz: %d KiB\n' "$(cat "$work/rss")"

# batch: 200 small streams, 4 large ones (hard links: no extra space).
small=$top/tests/fixtures/streams/pc-bare.mig
rm -rf "$work/bs" "$work/bl"
mkdir -p "$work/bs" "$work/bl"
for i in $(seq 1 200); do ln "$small" "$work/bs/s$i.mig" 2>/dev/null || cp "$small" "$work/bs/s$i.mig"; done
for i in 1 2 3 4; do ln "$big" "$work/bl/b$i.mig" 2>/dev/null || cp "$big" "$work/bl/b$i.mig"; done
for set in bs bl; do
    for j in 1 2; do
        rm -rf "$work/out"
        best "$set$j" sh -c "rm -rf '$work/out'; '$M' batch -q -o '$work/out' -j $j '$work/$set'"
    done
    n=$(find "$work/$set" -type f | wc -l)
    printf '\nbatch of %d %s streams\n' "$n" "$( [ $set = bs ] && echo small || echo large)"
    for j in 1 2; do
        printf '  %-44s %8.3f s  %7.1f files/s\n' "batch -j $j" "${T[$set$j]}" "$(echo "$n / ${T[$set$j]}" | bc -l)"
    done
    printf '  speed-up -j 2 / -j 1: %.2fx\n' "$(ratio "${set}1" "${set}2")"
done
/usr/bin/time -f '%M' -o "$work/rss" "$M" batch -q -f -o "$work/out" -j 1 "$work/bl/b1.mig"
printf '  peak RSS of batch -j 1 on one large input (largest process): %d KiB\n' "$(cat "$work/rss")"
rm -rf "$work/out" "$work/o.cat" "$work/o.ber" "$work/bs" "$work/bl"
