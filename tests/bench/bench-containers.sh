#!/usr/bin/env bash
# Benchmark of containers and batch (figures for the README, no pass/fail):
#  - reading a gzip'd and a zstd'd stream against the decompressor alone
#    (gzip -dc / zstd -dc to a file), and legacy-to-ber of the plain stream
#    against cat;
#  - batch -j 1 against -j 2 in files per second, on 200 small streams and
#    on 4 large ones, with the peak RSS of one worker.
# Every figure is given as wall time and as CPU time (user + sys, children
# included), with the load average: on a shared machine the wall-time
# ratios are noise, and the CPU-time ones are what can be compared.
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

# measure KEY CMD...: over the rounds, the least wall time into W[KEY] and
# the least CPU time (user + sys, children included) into C[KEY].  On a
# shared, loaded machine wall times are noisy; CPU time is what the
# decompression targets are judged by.
measure() {
    local key=$1; shift
    local w u s c
    for ((i = 0; i < rounds; i++)); do
        /usr/bin/time -f '%e %U %S' -o "$work/time" "$@"
        read -r w u s < "$work/time"
        c=$(echo "$u + $s" | bc)
        if [ -z "${W[$key]:-}" ] || [ "$(echo "$w < ${W[$key]}" | bc)" = 1 ]; then
            W[$key]=$w
        fi
        if [ -z "${C[$key]:-}" ] || [ "$(echo "$c < ${C[$key]}" | bc)" = 1 ]; then
            C[$key]=$c
        fi
    done
}
declare -A W C
wratio() { echo "${W[$1]} / ${W[$2]}" | bc -l; }
cratio() { echo "${C[$1]} / ${C[$2]}" | bc -l; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "migconv $("$M" --version | cut -d' ' -f2), $(nproc) cores, best of $rounds, $(date -u '+%F %H:%M UTC'), load average $(load)"
printf '\ncompressed input: %s (%d MiB)\n' "$(basename "$big")" $(( $(stat -c %s "$big") >> 20 ))
measure cat sh -c "cat '$big' > '$work/o.cat'"
measure l2b "$M" legacy-to-ber -qf "$big" "$work/o.ber"
measure zcat sh -c "gzip -dc < '$big.gz' > '$work/o.cat'"
measure l2bgz "$M" legacy-to-ber -qf "$big.gz" "$work/o.ber"
measure zstdcat sh -c "zstd -q -dc < '$big.zst' > '$work/o.cat'"
measure l2bzst "$M" legacy-to-ber -qf "$big.zst" "$work/o.ber"
measure l2bzstpipe sh -c "cat '$big.zst' | '$M' legacy-to-ber -q - - > '$work/o.ber'"
printf '  %-38s %8s %8s  %s\n' "" "wall s" "CPU s" "CPU ratio (target)"
row() { # LABEL KEY [BASE TARGET]
    if [ -n "${3:-}" ]; then
        printf '  %-38s %8.3f %8.3f  %.2fx %s\n' "$1" "${W[$2]}" "${C[$2]}" "$(cratio "$2" "$3")" "$4"
    else
        printf '  %-38s %8.3f %8.3f\n' "$1" "${W[$2]}" "${C[$2]}"
    fi
}
row "cat IN > OUT" cat
row "legacy-to-ber IN OUT" l2b cat "of cat"
row "gzip -dc < IN.gz > OUT" zcat
row "legacy-to-ber IN.gz OUT" l2bgz zcat "of gzip -dc (<= 1.10)"
row "zstd -dc < IN.zst > OUT" zstdcat
row "legacy-to-ber IN.zst OUT" l2bzst zstdcat "of zstd -dc (<= 1.10)"
row "cat IN.zst | legacy-to-ber - - > OUT" l2bzstpipe zstdcat "of zstd -dc (<= 1.10)"
printf '  CPU beyond the plain conversion: gzip %.3f s (gzip -dc alone %.3f s), zstd %.3f s (zstd -dc alone %.3f s)\n' \
    "$(echo "${C[l2bgz]} - ${C[l2b]}" | bc)" "${C[zcat]}" "$(echo "${C[l2bzst]} - ${C[l2b]}" | bc)" "${C[zstdcat]}"
/usr/bin/time -f '%M' -o "$work/rss" "$M" legacy-to-ber -qf "$big.gz" "$work/o.ber"
printf '  peak RSS of legacy-to-ber IN.gz: %d KiB\n' "$(cat "$work/rss")"

# batch: 200 small streams, 4 large ones (hard links: no extra space).
small=$top/tests/fixtures/streams/pc-bare.mig
rm -rf "$work/bs" "$work/bl"
mkdir -p "$work/bs" "$work/bl"
for i in $(seq 1 200); do ln "$small" "$work/bs/s$i.mig" 2>/dev/null || cp "$small" "$work/bs/s$i.mig"; done
for i in 1 2 3 4; do ln "$big" "$work/bl/b$i.mig" 2>/dev/null || cp "$big" "$work/bl/b$i.mig"; done
for set in bs bl; do
    l0=$(load)
    for j in 1 2; do
        rm -rf "$work/out"
        measure "$set$j" sh -c "rm -rf '$work/out'; '$M' batch -q -o '$work/out' -j $j '$work/$set'"
    done
    n=$(find "$work/$set" -type f | wc -l)
    printf '\nbatch of %d %s streams (load average %s before, %s after)\n' "$n" \
        "$( [ $set = bs ] && echo small || echo large)" "$l0" "$(load)"
    for j in 1 2; do
        printf '  %-38s %8.3f s wall  %7.1f files/s  %8.3f s CPU\n' "batch -j $j" "${W[$set$j]}" \
            "$(echo "$n / ${W[$set$j]}" | bc -l)" "${C[$set$j]}"
    done
    # The wall-time ratio means something only on an idle machine; the
    # CPU-time ratio says whether two workers at once cost extra work.
    printf '  speed-up -j 2 / -j 1: %.2fx by wall time (target 1.7x); CPU -j 2 / CPU -j 1: %.2f\n' \
        "$(wratio "${set}1" "${set}2")" "$(cratio "${set}2" "${set}1")"
done
/usr/bin/time -f '%M' -o "$work/rss" "$M" batch -q -f -o "$work/out" -j 1 "$work/bl/b1.mig"
printf '  peak RSS of batch -j 1 on one large input (largest process): %d KiB\n' "$(cat "$work/rss")"
rm -rf "$work/out" "$work/o.cat" "$work/o.ber" "$work/bs" "$work/bl" "$work/time"
