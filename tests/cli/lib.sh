# Helpers for the shell tests: check NAME EXPECTED_EXIT CMD...; a summary
# line "N passed, N failed" at the end.
pass=0
fail=0
MIGCONV=${MIGCONV:?set MIGCONV to the migconv binary}
FIXTURES=${FIXTURES:?set FIXTURES to the fixture directory}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/migconv-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$1"; [ $# -gt 1 ] && printf '     %s\n' "${@:2}"; }

# expect_exit NAME CODE CMD... : run CMD, stderr to $WORK/err, check the code
expect_exit() {
    local name=$1 want=$2; shift 2
    local got=0
    "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    if [ "$got" -eq "$want" ]; then
        ok "$name"
    else
        bad "$name" "exit $got, expected $want" "$(head -c 600 "$WORK/err")"
    fi
}

# expect_err NAME PATTERN: the last stderr matches an extended regex
expect_err() {
    if grep -Eq -- "$2" "$WORK/err"; then ok "$1"; else bad "$1" "stderr: $(head -c 600 "$WORK/err")"; fi
}

check() {
    local name=$1; shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

finish() {
    printf '%d passed, %d failed\n' "$pass" "$fail"
    [ "$fail" -eq 0 ]
}
