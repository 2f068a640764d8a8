#!/usr/bin/env bash
# Run migconv under valgrind over every fixture: legacy-to-ber, then
# ber-to-legacy of the result, which must give back the fixture exactly.
#
#   tests/fuzz/valgrind-fixtures.sh MIGCONV FIXTURES-DIR
#
# valgrind runs with --error-exitcode=9 --leak-check=full, so a memory
# error or a leak in either direction fails the fixture.  A fixture that
# migconv rejects as invalid input (exit status 1: e.g. pc-2.0, which has
# no vmdesc) is reported and skipped, as long as valgrind saw nothing wrong.
# Exit status: 0 if no fixture had a valgrind error or a round-trip
# mismatch, 1 otherwise, 2 on bad usage.
set -uo pipefail

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
    echo "usage: $0 MIGCONV FIXTURES-DIR" >&2
    exit 2
fi
migconv=$1
fixtures=$2
command -v valgrind >/dev/null || { echo "$0: valgrind not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vg=(valgrind --error-exitcode=9 --leak-check=full --quiet)

failed=0 ok=0 rejected=0
for f in "$fixtures"/*.mig; do
    name=$(basename "$f" .mig)
    log=$tmp/$name.log
    "${vg[@]}" --log-file="$log.1" "$migconv" legacy-to-ber -q -f \
        "$f" "$tmp/$name.ber"
    rc=$?
    if [ $rc -eq 9 ]; then
        echo "FAIL $name: valgrind errors in legacy-to-ber"
        cat "$log.1"
        failed=$((failed + 1))
        continue
    fi
    if [ $rc -ne 0 ]; then
        echo "skip $name: legacy-to-ber rejects it (exit $rc), valgrind clean"
        rejected=$((rejected + 1))
        continue
    fi
    "${vg[@]}" --log-file="$log.2" "$migconv" ber-to-legacy -q -f \
        "$tmp/$name.ber" "$tmp/$name.mig"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $name: ber-to-legacy exit $rc"
        cat "$log.2"
        failed=$((failed + 1))
        continue
    fi
    if ! cmp -s "$f" "$tmp/$name.mig"; then
        echo "FAIL $name: ber-to-legacy does not give back the fixture"
        failed=$((failed + 1))
        continue
    fi
    echo "ok   $name ($(stat -c %s "$f") bytes, ber $(stat -c %s "$tmp/$name.ber") bytes)"
    ok=$((ok + 1))
    rm -f "$tmp/$name.ber" "$tmp/$name.mig"
done
echo "$ok passed, $failed failed, $rejected rejected as invalid input"
[ $failed -eq 0 ]
