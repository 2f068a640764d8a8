#!/usr/bin/env bash
# Failure modes of the command line: each case fails cleanly (documented
# exit code, one message line, nothing left behind, bounded memory).
set -u
. "$(dirname "$0")/lib.sh"

bare=$FIXTURES/pc-bare.mig

# one_line NAME: stderr is exactly one line
one_line() {
    local n
    n=$(wc -l <"$WORK/err")
    if [ "$n" -eq 1 ]; then ok "$1"; else bad "$1" "$n lines on stderr" "$(head -c 600 "$WORK/err")"; fi
}

# empty_dir NAME DIR: nothing at all in DIR (hidden files included)
empty_dir() {
    local left
    left=$(ls -A "$2")
    if [ -z "$left" ]; then ok "$1"; else bad "$1" "left in $2: $left"; fi
}

# ---- --buffer-limit: no sign, no wrap, no absurd values (exit 2) ----
for v in -1 -5 18446744073709551615 18446744073709551616 2T 1025G ' 5' +5 0 1MB; do
    expect_exit "buffer-limit '$v' refused" 2 \
        timeout 20 "$MIGCONV" legacy-to-ber --buffer-limit "$v" "$bare" -
    check "buffer-limit '$v' message" grep -Fq "invalid size '$v' for --buffer-limit" "$WORK/err"
done
expect_exit "buffer-limit 1T accepted" 0 "$MIGCONV" legacy-to-ber --buffer-limit 1T "$bare" -
expect_exit "buffer-limit 100K still limits" 1 "$MIGCONV" legacy-to-ber --buffer-limit 100K "$bare" -
expect_err "buffer-limit 100K message" "exceeds the buffering limit of 102400 bytes"

# ---- stdin, stdout or stderr closed: no file takes their place ----
"$MIGCONV" legacy-to-ber "$FIXTURES/s390x-ccw.mig" "$WORK/s390x-open.ber" 2>"$WORK/err0"
rm -f "$WORK/s390x-closed.ber"
rc=0
"$MIGCONV" legacy-to-ber - "$WORK/s390x-closed.ber" <"$FIXTURES/s390x-ccw.mig" 2>&- || rc=$?
check "stderr closed: exit 0" [ "$rc" -eq 0 ]
check "stderr closed: output as with stderr open" cmp -s "$WORK/s390x-open.ber" "$WORK/s390x-closed.ber"
expect_exit "stderr closed: output verifies" 0 "$MIGCONV" verify "$WORK/s390x-closed.ber"
rc=0
"$MIGCONV" verify - <"$WORK/s390x-open.ber" 2>&- >"$WORK/out" || rc=$?
check "stderr closed: verify - passes" [ "$rc" -eq 0 ]
rc=0
"$MIGCONV" verify "$FIXTURES/s390x-ccw.mig" <&- >"$WORK/out" 2>"$WORK/err" || rc=$?
check "stdin closed: verify passes" [ "$rc" -eq 0 ]
rm -f "$WORK/x.ber"
rc=0
"$MIGCONV" legacy-to-ber - "$WORK/x.ber" <&- 2>"$WORK/err" || rc=$?
check "stdin closed: reading - is empty input (exit 1)" [ "$rc" -eq 1 ]
expect_err "stdin closed: message" "^migconv: \(stdin\): .*too short"
check "stdin closed: no output" [ ! -e "$WORK/x.ber" ]

# ---- SIGXFSZ: a write error like any other ----
mkdir -p "$WORK/fsz"
expect_exit "file size limit: exit 3" 3 bash -c 'ulimit -f 100; exec "$0" legacy-to-ber "$1" "$2"' \
    "$MIGCONV" "$bare" "$WORK/fsz/out.ber"
expect_err "file size limit: message names the output" "^migconv: $WORK/fsz/out.ber: write error: File too large$"
one_line "file size limit: one line"
empty_dir "file size limit: nothing left" "$WORK/fsz"
expect_exit "file size limit on stdout: exit 3" 3 bash -c 'ulimit -f 20; exec "$0" dump "$1" >"$2"' \
    "$MIGCONV" "$bare" "$WORK/fsz/dump.json"
expect_err "file size limit on stdout: message" "^migconv: \(stdout\): write error: File too large$"
rm -f "$WORK/fsz/dump.json"

# ---- errors blame the file they are about ----
expect_exit "dump to /dev/full: exit 3" 3 bash -c 'exec "$0" dump "$1" >/dev/full' "$MIGCONV" "$bare"
expect_err "dump to /dev/full: names stdout" "^migconv: \(stdout\): write error: No space left on device$"
one_line "dump to /dev/full: one line"
expect_exit "convert to /dev/full: exit 3" 3 "$MIGCONV" legacy-to-ber -f "$bare" /dev/full
expect_err "convert to /dev/full: names it" "^migconv: /dev/full: write error: No space left on device$"
expect_exit "verify, TMPDIR too small: exit 3" 3 bash -c 'ulimit -f 100; exec "$0" verify "$1"' "$MIGCONV" "$bare"
expect_err "verify, TMPDIR too small: names the temporary directory" \
    "^migconv: temporary file in ${TMPDIR:-/tmp}: write error: File too large$"
expect_exit "verify, TMPDIR missing: exit 3" 3 env TMPDIR="$WORK/no-such-dir" "$MIGCONV" verify "$bare"
expect_err "verify, TMPDIR missing: names it" "^migconv: $WORK/no-such-dir: cannot create a temporary file: No such file or directory$"

# ---- outputs have no name until complete (O_TMPFILE) ----
# A conversion reading from a FIFO that stalls: while it runs and after
# SIGKILL, no directory entry exists beside the output.
mkdir -p "$WORK/kill"
mkfifo "$WORK/fifo"
head -c 300000 "$bare" >"$WORK/head.mig"
( cat "$WORK/head.mig"; sleep 30 ) >"$WORK/fifo" &
feeder=$!
"$MIGCONV" legacy-to-ber "$WORK/fifo" "$WORK/kill/out.ber" 2>"$WORK/err" &
conv=$!
# Wait until it has its output open (an fd into the directory).
opened=no
for _ in $(seq 100); do
    if ls -l /proc/$conv/fd 2>/dev/null | grep -q "$WORK/kill/"; then opened=yes; break; fi
    sleep 0.1
done
check "running: output open" [ $opened = yes ]
sleep 0.3
empty_dir "running: no name in the directory" "$WORK/kill"
{ kill -KILL $conv; wait $conv; } 2>/dev/null
empty_dir "SIGKILL: nothing left" "$WORK/kill"
kill $feeder 2>/dev/null
wait $feeder 2>/dev/null
rm -f "$WORK/fifo"

# Normal runs, plain and --sync, -f over an existing file: the same bytes,
# no temporary left.
"$MIGCONV" legacy-to-ber "$bare" "$WORK/ref.ber"
mkdir -p "$WORK/sync"
expect_exit "--sync: exit 0" 0 "$MIGCONV" legacy-to-ber --sync "$bare" "$WORK/sync/out.ber"
check "--sync: same output" cmp -s "$WORK/ref.ber" "$WORK/sync/out.ber"
echo old >"$WORK/sync/old.ber"
expect_exit "-f --sync over a file: exit 0" 0 "$MIGCONV" legacy-to-ber -f --sync "$bare" "$WORK/sync/old.ber"
check "-f --sync over a file: replaced" cmp -s "$WORK/ref.ber" "$WORK/sync/old.ber"
check "no temporary left" [ "$(ls -A "$WORK/sync")" = "$(printf 'old.ber\nout.ber')" ]
umask 027
"$MIGCONV" legacy-to-ber "$bare" "$WORK/sync/mode.ber"
umask 022
check "output mode follows the umask" [ "$(stat -c %a "$WORK/sync/mode.ber")" = 640 ]
expect_exit "tables --sync: exit 0" 0 "$MIGCONV" tables --sync -q -o "$WORK/sync/t.json" "$bare"
expect_exit "dump --sync refused" 2 "$MIGCONV" dump --sync "$bare"

finish
