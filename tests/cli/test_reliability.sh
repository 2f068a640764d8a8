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

# ---- the temp + rename fallback, on a filesystem without O_TMPFILE ----
# The fault shim (tests/cli/fault_shim.c, LD_PRELOAD) makes open(O_TMPFILE)
# fail with EOPNOTSUPP and logs fsync calls; the product is unchanged.
shim=${MC_SHIM:?set MC_SHIM to the fault shim library}
asan_opts=${ASAN_OPTIONS:-}
# with_shim VAR=VALUE... -- CMD...: CMD with the shim and its settings
with_shim() {
    local vars=()
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    env LD_PRELOAD="$shim" ASAN_OPTIONS="${asan_opts:+$asan_opts:}verify_asan_link_order=0" \
        MC_SHIM_LOG="$WORK/shim.log" "${vars[@]}" "$@"
}
fb() { with_shim MC_SHIM_NO_TMPFILE=1 -- "$@"; }
# fsyncs KIND: how many fsync calls on a KIND (file, dir) the shim logged
fsyncs() { grep -c "^fsync [0-9]* $1\$" "$WORK/shim.log"; }
mkdir -p "$WORK/fb"
rm -f "$WORK/shim.log"
expect_exit "fallback: exit 0" 0 fb "$MIGCONV" legacy-to-ber "$bare" "$WORK/fb/out.ber"
check "fallback: O_TMPFILE was refused, so the fallback ran" grep -qx "no-tmpfile $WORK/fb" "$WORK/shim.log"
check "fallback: same output" cmp -s "$WORK/ref.ber" "$WORK/fb/out.ber"
check "fallback: no temporary left" [ "$(ls -A "$WORK/fb")" = out.ber ]
check "fallback: no fsync without --sync" [ "$(fsyncs file)" = 0 ]
check "fallback: output mode follows the umask" [ "$(stat -c %a "$WORK/fb/out.ber")" = 644 ]
rm -f "$WORK/shim.log"
expect_exit "fallback --sync: exit 0" 0 fb "$MIGCONV" legacy-to-ber --sync "$bare" "$WORK/fb/sync.ber"
check "fallback --sync: same output" cmp -s "$WORK/ref.ber" "$WORK/fb/sync.ber"
check "fallback --sync: the file is synced" [ "$(fsyncs file)" -ge 1 ]
check "fallback --sync: its directory is synced" [ "$(fsyncs dir)" -ge 1 ]
echo old >"$WORK/fb/old.ber"
expect_exit "fallback -f --sync over a file: exit 0" 0 fb "$MIGCONV" legacy-to-ber -f --sync "$bare" "$WORK/fb/old.ber"
check "fallback -f --sync over a file: replaced" cmp -s "$WORK/ref.ber" "$WORK/fb/old.ber"
check "fallback: only the outputs in the directory" \
    [ "$(ls -A "$WORK/fb")" = "$(printf 'old.ber\nout.ber\nsync.ber')" ]
# The same counts without the fallback (O_TMPFILE + linkat).
rm -f "$WORK/shim.log"
expect_exit "O_TMPFILE --sync: exit 0" 0 with_shim -- "$MIGCONV" legacy-to-ber --sync "$bare" "$WORK/fb/anon.ber"
check "O_TMPFILE --sync: O_TMPFILE was used" [ "$(grep -c no-tmpfile "$WORK/shim.log")" = 0 ]
check "O_TMPFILE --sync: the file is synced" [ "$(fsyncs file)" -ge 1 ]
check "O_TMPFILE --sync: its directory is synced" [ "$(fsyncs dir)" -ge 1 ]
rm -f "$WORK/shim.log"
expect_exit "O_TMPFILE: exit 0" 0 with_shim -- "$MIGCONV" legacy-to-ber -f "$bare" "$WORK/fb/anon.ber"
check "O_TMPFILE: no fsync without --sync" [ ! -e "$WORK/shim.log" ] || [ "$(fsyncs file)" = 0 ]
rm -f "$WORK"/fb/*
# Errors: bad input, a write error, neither leaves a file.
head -c 300000 "$bare" >"$WORK/head.mig"
expect_exit "fallback, truncated input: exit 1" 1 fb "$MIGCONV" legacy-to-ber "$WORK/head.mig" "$WORK/fb/out.ber"
one_line "fallback, truncated input: one line"
empty_dir "fallback, truncated input: nothing left" "$WORK/fb"
expect_exit "fallback, file size limit: exit 3" 3 fb bash -c 'ulimit -f 100; exec "$0" legacy-to-ber "$1" "$2"' \
    "$MIGCONV" "$bare" "$WORK/fb/out.ber"
expect_err "fallback, file size limit: message names the output" "^migconv: $WORK/fb/out.ber: write error: File too large$"
empty_dir "fallback, file size limit: nothing left" "$WORK/fb"
# SIGINT while the output is written: the hidden temporary exists while
# it runs (the fallback's visible difference), and is removed.
mkfifo "$WORK/fifo"
( cat "$WORK/head.mig"; sleep 30 ) >"$WORK/fifo" &
feeder=$!
# (exec: the signal goes to migconv itself, not to a shell around it)
env LD_PRELOAD="$shim" ASAN_OPTIONS="${asan_opts:+$asan_opts:}verify_asan_link_order=0" MC_SHIM_NO_TMPFILE=1 \
    "$MIGCONV" legacy-to-ber "$WORK/fifo" "$WORK/fb/out.ber" 2>"$WORK/err" &
conv=$!
named=no
for _ in $(seq 100); do
    if ls -A "$WORK/fb" | grep -q '^\.out\.ber\.'; then named=yes; break; fi
    sleep 0.1
done
check "fallback, running: a hidden temporary beside the output" [ $named = yes ]
sleep 0.3
kill -INT $conv
rc=0
wait $conv || rc=$?
check "fallback, SIGINT: ended by the signal (130)" [ "$rc" -eq 130 ]
empty_dir "fallback, SIGINT: nothing left" "$WORK/fb"
kill $feeder 2>/dev/null
wait $feeder 2>/dev/null
rm -f "$WORK/fifo" "$WORK/head.mig"

# ---- the vmdesc: size, elements and depth bounded (--vmdesc-limit) ----
hostile=$(dirname "$0")/hostile.py
# max_rss NAME KB CMD...: CMD's peak RSS stays below KB (exit code kept in $rss_rc)
max_rss() {
    local name=$1 kb=$2; shift 2
    rss_rc=0
    /usr/bin/time -f %M -o "$WORK/rss" "$@" >"$WORK/out" 2>"$WORK/err" || rss_rc=$?
    local got
    got=$(tail -1 "$WORK/rss")
    sed -i '/^Command exited with non-zero status/d' "$WORK/err"
    if [ "${MC_SANITIZED:-0}" = 1 ]; then
        ok "$name (not measured: sanitized build)"
    elif [ "$got" -lt "$kb" ]; then ok "$name ($got KB)"; else bad "$name" "peak RSS $got KB, bound $kb KB"; fi
}
"$MIGCONV" legacy-to-ber "$bare" "$WORK/bare.ber"
# The reproducer: a 270 KB BER file whose deflated vmdesc inflates to
# 20 MiB of [{},{},...], within every other limit.
python3 "$hostile" ber-vmdesc "$WORK/bare.ber" "$WORK/amp.ber" empty-objects 20971520
max_rss "BER vmdesc of 20 MiB: bounded memory" 100000 "$MIGCONV" ber-to-legacy "$WORK/amp.ber" -
check "BER vmdesc of 20 MiB: exit 1" [ "$rss_rc" -eq 1 ]
expect_err "BER vmdesc of 20 MiB: names the limit and the option" \
    "^migconv: $WORK/amp.ber: offset [0-9]+: vmdesc: vmdesc of 20971518 bytes exceeds the limit of 16777216 bytes \(raise it with --vmdesc-limit\)$"
one_line "BER vmdesc of 20 MiB: one line"
# Raised, the BER reader passes it on and the legacy reader refuses its
# elements before building a tree of them (5 units per "{},").
"$MIGCONV" ber-to-legacy --vmdesc-limit 64M "$WORK/amp.ber" "$WORK/amp.mig"
max_rss "legacy vmdesc of 20 MiB, limit 64M: bounded memory" 200000 \
    "$MIGCONV" legacy-to-ber --vmdesc-limit 64M "$WORK/amp.mig" "$WORK/amp2.ber"
check "legacy vmdesc of 20 MiB, limit 64M: exit 1" [ "$rss_rc" -eq 1 ]
expect_err "legacy vmdesc of 20 MiB, limit 64M: message" \
    "^migconv: $WORK/amp.mig: offset [0-9]+: vmdesc: vmdesc JSON holds more elements at byte [0-9]+ than its limit of 67108864 bytes allows \(22369621 units; raise it with --vmdesc-limit\)$"
one_line "legacy vmdesc of 20 MiB: one line"
check "legacy vmdesc of 20 MiB: no output" [ ! -e "$WORK/amp2.ber" ]
max_rss "legacy vmdesc of 20 MiB: bounded memory" 100000 "$MIGCONV" legacy-to-ber "$WORK/amp.mig" -
check "legacy vmdesc of 20 MiB: exit 1" [ "$rss_rc" -eq 1 ]
expect_err "legacy vmdesc of 20 MiB: message" "vmdesc of 20971518 bytes exceeds the limit of 16777216 bytes \(raise it with --vmdesc-limit\)$"
# Within the size limit: 5 MiB of {} is over the element limit.
python3 "$hostile" legacy-vmdesc "$bare" "$WORK/objs.mig" empty-objects 5242880
max_rss "5 MiB of {}: bounded memory" 60000 "$MIGCONV" dump "$WORK/objs.mig"
check "5 MiB of {}: exit 1" [ "$rss_rc" -eq 1 ]
expect_err "5 MiB of {}: message" "vmdesc JSON holds more elements at byte [0-9]+ than its limit of 16777216 bytes allows \(5592405 units; raise it with --vmdesc-limit\)$"
python3 "$hostile" legacy-vmdesc "$bare" "$WORK/deep.mig" deep 100000
expect_exit "deep vmdesc: exit 1" 1 "$MIGCONV" legacy-to-ber "$WORK/deep.mig" -
expect_err "deep vmdesc: message" "vmdesc: vmdesc JSON nests deeper than 64 levels at byte 64$"
# The worst within the default limits: just under the element limit.
python3 "$hostile" legacy-vmdesc "$bare" "$WORK/near.mig" empty-objects 3300000
max_rss "vmdesc just under the element limit: under the documented 300 MB" 300000 \
    "$MIGCONV" legacy-to-ber "$WORK/near.mig" -
expect_err "vmdesc just under the element limit: parsed, then refused" "invalid vmdesc: device without name"
# Negative control: a real vmdesc just under the size limit passes the
# element limit (it fails only because its devices have new names).
python3 "$hostile" legacy-vmdesc "$bare" "$WORK/real.mig" devices 16000000
max_rss "real-looking vmdesc of 16 MB: under the documented 300 MB" 300000 \
    "$MIGCONV" legacy-to-ber "$WORK/real.mig" -
check "real-looking vmdesc of 16 MB: within the limits" [ "$rss_rc" -eq 1 ]
expect_err "real-looking vmdesc of 16 MB: read, devices do not match" "is not in the vmdesc$"
rm -f "$WORK"/*.mig "$WORK"/amp*
# Out of memory inside the JSON parser: exit 4, said so (not with ASan,
# which cannot run under ulimit -v).
if [ "${MC_SANITIZED:-0}" != 1 ]; then
    python3 "$hostile" legacy-vmdesc "$bare" "$WORK/oom.mig" devices 8000000
    expect_exit "vmdesc parser out of memory: exit 4" 4 bash -c 'ulimit -v 70000; exec "$0" legacy-to-ber "$1" -' "$MIGCONV" "$WORK/oom.mig"
    expect_err "vmdesc parser out of memory: message" "^migconv: $WORK/oom.mig: offset [0-9]+: vmdesc: out of memory parsing the vmdesc JSON \(8[0-9]{6} bytes\)$"
    one_line "vmdesc parser out of memory: one line"
    rm -f "$WORK/oom.mig"
fi
# Out of memory anywhere else (an allocation of migconv's own): exit 4 and
# one line, no abort and no core, no output left in either output mode.
# Not with ASan, which has its own allocator.  The vmdesc is large enough
# that the input buffer must grow to 16 MiB before the JSON parser starts
# (the buffering stops at the end of the vmdesc).
if [ "${MC_SANITIZED:-0}" != 1 ]; then
    python3 "$hostile" legacy-vmdesc "$bare" "$WORK/oom.mig" devices 12000000
    mkdir -p "$WORK/oom"
    expect_exit "out of memory (ulimit -v): exit 4" 4 bash -c 'ulimit -c 0 -v 20000; exec "$0" legacy-to-ber "$1" "$2"' \
        "$MIGCONV" "$WORK/oom.mig" "$WORK/oom/out.ber"
    expect_err "out of memory (ulimit -v): message" "^migconv: out of memory \([0-9]+ bytes\)$"
    one_line "out of memory (ulimit -v): one line"
    empty_dir "out of memory (ulimit -v): nothing left" "$WORK/oom"
    for mode in O_TMPFILE fallback; do
        vars=(MC_SHIM_MALLOC_LIMIT=4000000)
        [ $mode = fallback ] && vars+=(MC_SHIM_NO_TMPFILE=1)
        expect_exit "out of memory ($mode): exit 4" 4 with_shim LD_PRELOAD="$shim:$MC_SHIM_MALLOC" "${vars[@]}" -- \
            bash -c 'ulimit -c 0; exec "$0" legacy-to-ber "$1" "$2"' "$MIGCONV" "$WORK/oom.mig" "$WORK/oom/out.ber"
        expect_err "out of memory ($mode): message" "^migconv: out of memory \([0-9]+ bytes\)$"
        one_line "out of memory ($mode): one line"
        empty_dir "out of memory ($mode): nothing left" "$WORK/oom"
    done
    # Negative control: the same run without the allocation limit gets
    # past that allocation (and fails only on the devices' names).
    expect_exit "no allocation limit: exit 1" 1 with_shim LD_PRELOAD="$shim:$MC_SHIM_MALLOC" -- "$MIGCONV" legacy-to-ber "$WORK/oom.mig" "$WORK/oom/out.ber"
    expect_err "no allocation limit: not out of memory" "is not in the vmdesc$"
    rm -f "$WORK/oom.mig"
fi
for v in -1 0 2T; do
    expect_exit "vmdesc-limit '$v' refused" 2 "$MIGCONV" legacy-to-ber --vmdesc-limit "$v" "$bare" -
    check "vmdesc-limit '$v' message" grep -Fq "invalid size '$v' for --vmdesc-limit" "$WORK/err"
done

# ---- --tables: size and elements bounded (--tables-limit), errors name it ----
max_rss "--tables /dev/zero: bounded memory" 60000 "$MIGCONV" dump --tables /dev/zero "$bare"
check "--tables /dev/zero: exit 1" [ "$rss_rc" -eq 1 ]
expect_err "--tables /dev/zero: message" "^migconv: /dev/zero: tables file exceeds the limit of 16777216 bytes \(raise it with --tables-limit\)$"
one_line "--tables /dev/zero: one line"
truncate -s 100M "$WORK/big.json"
max_rss "--tables of 100 MB: refused before reading" 10000 "$MIGCONV" dump --tables "$WORK/big.json" "$bare"
check "--tables of 100 MB: exit 1" [ "$rss_rc" -eq 1 ]
expect_err "--tables of 100 MB: message" "^migconv: $WORK/big.json: tables file of 104857600 bytes exceeds the limit of 16777216 bytes \(raise it with --tables-limit\)$"
python3 "$hostile" json zeros 15000000 "$WORK/zeros.json"
max_rss "--tables [0,...] of 15 MB: bounded memory" 60000 "$MIGCONV" legacy-to-ber --tables "$WORK/zeros.json" "$bare" -
check "--tables [0,...] of 15 MB: exit 1" [ "$rss_rc" -eq 1 ]
expect_err "--tables [0,...]: message" "^migconv: $WORK/zeros.json: tables JSON holds more elements at byte [0-9]+ than its limit of 16777216 bytes allows \(5592405 units; raise it with --tables-limit\)$"
rm -f "$WORK/big.json" "$WORK/zeros.json"
"$MIGCONV" tables -q -o "$WORK/t.json" "$bare"
expect_exit "--tables within the limit: read" 0 "$MIGCONV" legacy-to-ber --tables "$WORK/t.json" "$bare" -
expect_exit "--tables over a lowered limit: exit 1" 1 "$MIGCONV" legacy-to-ber --tables-limit 1K --tables "$WORK/t.json" "$bare" -
expect_err "--tables over a lowered limit: message" "^migconv: $WORK/t.json: tables file of [0-9]+ bytes exceeds the limit of 1024 bytes"
mkdir -p "$WORK/tdir"
expect_exit "--tables DIR: exit 3" 3 "$MIGCONV" legacy-to-ber --tables "$WORK/tdir" "$bare" -
expect_err "--tables DIR: names it, with a reason" "^migconv: $WORK/tdir: is a directory$"
one_line "--tables DIR: one line"
echo '{"format": "migconv-tables", "version": 1, "vmsds": ' >"$WORK/bad.json"
expect_exit "--tables invalid: exit 1" 1 "$MIGCONV" legacy-to-ber --tables "$WORK/bad.json" "$bare" -
expect_err "--tables invalid: names only the tables file" "^migconv: $WORK/bad.json: invalid tables JSON at byte [0-9]+: "
expect_exit "--tables missing: exit 3" 3 "$MIGCONV" verify --tables "$WORK/none.json" "$bare"
expect_err "--tables missing: names only the tables file" "^migconv: $WORK/none.json: cannot open: No such file or directory$"
expect_exit "tables --tables invalid: exit 1" 1 "$MIGCONV" tables --tables "$WORK/bad.json" "$bare"
expect_err "tables --tables invalid: names only the tables file" "^migconv: $WORK/bad.json: invalid tables JSON"

finish
