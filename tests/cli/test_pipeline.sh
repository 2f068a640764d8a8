#!/usr/bin/env bash
# The per-input pipeline: errors are blamed on the file of their side
# (a failed write on the output, bad data on the input), for every command.
set -u
. "$(dirname "$0")/lib.sh"
M=$MIGCONV
F=$FIXTURES/pc-bare.mig

if [ -w /dev/full ]; then
    expect_exit "write error on the output" 3 "$M" legacy-to-ber -q -f "$F" /dev/full
    expect_err "the output is blamed" "^migconv: /dev/full: write error"
    "$M" legacy-to-ber -q "$F" "$WORK/a.ber"
    expect_exit "write error, ber-to-legacy" 3 "$M" ber-to-legacy -q -f "$WORK/a.ber" /dev/full
    expect_err "the output is blamed, ber-to-legacy" "^migconv: /dev/full: write error"
    expect_exit "dump to a full stdout" 3 sh -c '"$0" dump -q "$1" >/dev/full' "$M" "$F"
    expect_err "stdout is blamed" "^migconv: \(stdout\): write error"
else
    printf 'skip write errors (no writable /dev/full)\n'
fi
# negative control: bad input data names the input, not the output
head -c 100 "$F" >"$WORK/short.mig"
expect_exit "bad input" 1 "$M" legacy-to-ber -q "$WORK/short.mig" "$WORK/out.ber"
expect_err "the input is blamed" "^migconv: $WORK/short.mig: offset [0-9]+"
check "no output left" test ! -e "$WORK/out.ber"
finish
