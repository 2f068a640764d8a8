#!/usr/bin/env bash
# Command-line behaviour: exit codes, messages, atomic output, stdio.
set -u
. "$(dirname "$0")/lib.sh"
M=$MIGCONV
F=$FIXTURES/pc-bare.mig

expect_exit "help" 0 "$M" --help
grep -q legacy-to-ber "$WORK/out" && ok "help lists commands" || bad "help lists commands"
expect_exit "version" 0 "$M" --version
expect_exit "no command" 2 "$M"
expect_exit "unknown command" 2 "$M" frobnicate
expect_err "unknown command message" "unknown command 'frobnicate'"
expect_exit "convert needs two args" 2 "$M" legacy-to-ber "$F"
expect_exit "unknown option" 2 "$M" legacy-to-ber --bogus "$F" "$WORK/x"
for c in legacy-to-ber ber-to-legacy dump verify; do
    expect_exit "$c --help" 0 "$M" "$c" --help
done

# Conversion, both ways, byte-identical.
expect_exit "legacy-to-ber" 0 "$M" legacy-to-ber "$F" "$WORK/a.ber"
expect_exit "ber-to-legacy" 0 "$M" ber-to-legacy "$WORK/a.ber" "$WORK/a.mig"
check "round trip identical" cmp -s "$F" "$WORK/a.mig"
check "no temporary files left" test -z "$(find "$WORK" -name '.*.??????')"

# Existing output needs -f.
expect_exit "existing output refused" 2 "$M" legacy-to-ber "$F" "$WORK/a.ber"
expect_err "existing output message" "already exists"
expect_exit "existing output with -f" 0 "$M" legacy-to-ber -f "$F" "$WORK/a.ber"
expect_exit "output same as input" 2 "$M" legacy-to-ber -f "$F" "$F"

# Wrong direction / not a stream.
expect_exit "BER into legacy-to-ber" 1 "$M" legacy-to-ber "$WORK/a.ber" "$WORK/b"
expect_err "wrong format names the fix" "use ber-to-legacy"
check "no output after wrong format" test ! -e "$WORK/b"
printf 'hello world, not a stream' >"$WORK/junk"
expect_exit "junk input" 1 "$M" legacy-to-ber "$WORK/junk" "$WORK/b"
expect_exit "missing input" 3 "$M" legacy-to-ber "$WORK/missing" "$WORK/b"
expect_err "missing input message" "missing: cannot open: No such file"
expect_exit "unwritable output dir" 3 "$M" legacy-to-ber "$F" "$WORK/nodir/x.ber"

# Damaged input: one-line message with offset, exit 1, no output left.
size=$(stat -c %s "$F")
head -c $((size / 2)) "$F" >"$WORK/half.mig"
expect_exit "truncated legacy" 1 "$M" legacy-to-ber "$WORK/half.mig" "$WORK/half.ber"
expect_err "truncated message has file and offset" "half.mig: offset [0-9]+: .*unexpected end of input"
check "one-line message" test "$(wc -l <"$WORK/err")" -eq 1
check "no partial output" test ! -e "$WORK/half.ber"
check "no temporary output" test -z "$(find "$WORK" -name '.half.ber.*')"
bsize=$(stat -c %s "$WORK/a.ber")
head -c $((bsize / 2)) "$WORK/a.ber" >"$WORK/half.ber.in"
expect_exit "truncated BER" 1 "$M" ber-to-legacy "$WORK/half.ber.in" "$WORK/half.out"
expect_err "truncated BER message has offset" "offset [0-9]+"
check "no partial legacy output" test ! -e "$WORK/half.out"

# The device state kept while looking for the vmdesc has a cap.
expect_exit "buffer limit" 1 "$M" legacy-to-ber --buffer-limit 16K "$F" "$WORK/cap.ber"
expect_err "buffer limit message" "exceeds the buffering limit of 16384 bytes"
check "no output past the buffer limit" test ! -e "$WORK/cap.ber"
expect_exit "bad buffer limit" 2 "$M" legacy-to-ber --buffer-limit 12X "$F" "$WORK/cap.ber"

# stdin/stdout and pipes.
"$M" legacy-to-ber - - <"$F" | "$M" ber-to-legacy - - >"$WORK/pipe.mig" 2>"$WORK/err"
check "pipe round trip" cmp -s "$F" "$WORK/pipe.mig"
cat "$F" | "$M" legacy-to-ber - "$WORK/p.ber" 2>"$WORK/err"
check "pipe input equals file input" cmp -s "$WORK/p.ber" "$WORK/a.ber"

# Refuse binary output to a terminal (needs a pty: python3's pty module).
if command -v python3 >/dev/null; then
    python3 - "$M" "$F" >"$WORK/tty.out" 2>&1 <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "legacy-to-ber", sys.argv[2], "-"])
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
_, st = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(st))
sys.stdout.write(out.decode(errors="replace"))
PY
    if head -1 "$WORK/tty.out" | grep -qx 2 && grep -q "refusing to write binary data to a terminal" "$WORK/tty.out"; then
        ok "refuses binary to a terminal"
    else
        bad "refuses binary to a terminal" "$(cat "$WORK/tty.out")"
    fi
fi

# SIGTERM during a conversion removes the temporary file.
mkfifo "$WORK/fifo"
( "$M" legacy-to-ber "$WORK/fifo" "$WORK/sig.ber" 2>/dev/null; echo $? >"$WORK/sig.rc" ) &
exec 7>"$WORK/fifo"
head -c 100000 "$F" >&7
sleep 0.5
pkill -TERM -f "legacy-to-ber $WORK/fifo" || true
exec 7>&-
wait
check "SIGTERM leaves no output" test ! -e "$WORK/sig.ber"
check "SIGTERM leaves no temporary file" test -z "$(find "$WORK" -name '.sig.ber.*')"

# verify
expect_exit "verify legacy" 0 "$M" verify "$F"
grep -q "OK (legacy" "$WORK/out" && ok "verify reports OK" || bad "verify reports OK"
expect_exit "verify BER" 0 "$M" verify "$WORK/a.ber"
expect_exit "verify stdin" 0 sh -c "cat '$F' | '$M' verify -"
expect_exit "verify damaged" 1 "$M" verify "$WORK/half.mig"
expect_exit "verify mixed exits non-zero" 1 "$M" verify "$F" "$WORK/half.mig"

# dump
expect_exit "dump legacy" 0 "$M" dump "$F"
check "dump is JSON" jq -e . "$WORK/out" >/dev/null
check "dump names the machine" jq -e '[.items[] | select(.type=="configuration") | .fields[] | select(.name=="name")] | length == 1' "$WORK/out" >/dev/null
expect_exit "dump BER" 0 "$M" dump "$WORK/a.ber"
check "dump BER is JSON" jq -e '.items | length > 10' "$WORK/out" >/dev/null
expect_exit "dump junk" 1 "$M" dump "$WORK/junk"

finish
