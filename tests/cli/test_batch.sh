#!/usr/bin/env bash
# migconv batch: mixed inputs and directions, a failing input among good
# ones, the JSON-lines report, --skip-existing, --verify, --shard (every
# input in exactly one shard), SIGINT mid-batch, and the GNU parallel
# recipe from the README.
set -u
. "$(dirname "$0")/lib.sh"
M=$MIGCONV
mkdir -p "$WORK/t" && cd "$WORK/t"
mkdir -p in/a/b
for n in pc-bare q35-bare x86-microvm pc-2.3 pc-1.4; do cp "$FIXTURES/$n.mig" in/; done
cp "$FIXTURES/q35-devices.mig" in/a/
gzip -c < "$FIXTURES/pc-bare.mig" > in/a/b/z.mig.gz
"$M" legacy-to-ber -q "$FIXTURES/pc-ran.mig" in/a/ran.ber
echo "not a stream" > in/a/b/bad.mig

expect_exit "mixed batch with one bad input: exit 1" 1 "$M" batch -q -o out -j 2 --report rep.jsonl in
check "report: one line per input (9)" test "$(wc -l < rep.jsonl)" = 9
check "report: the bad input failed, with its error" \
    bash -c "jq -se 'map(select(.input == \"in/a/b/bad.mig\")) | length == 1 and .[0].status == \"failed\" and (.[0].error | test(\"not a QEMU migration stream\"))' rep.jsonl >/dev/null"
check "report: 8 ok" test "$(jq -r .status rep.jsonl | grep -c '^ok$')" = 8
check "report: bytes and seconds" bash -c "jq -e 'select(.status == \"ok\") | .bytes_in > 0 and .bytes_out > 0 and .seconds >= 0' rep.jsonl | grep -qv false"
check "legacy input -> .ber added" test -f out/in/a/q35-devices.mig.ber
check "BER input -> .ber removed" cmp -s out/in/a/ran "$FIXTURES/pc-ran.mig"
check "gzip input -> BER keeps the container" bash -c "'$M' dump out/in/a/b/z.mig.gz.ber | jq -e '.container.compression == \"gzip\"' >/dev/null"
check "no output for the bad input" test ! -e out/in/a/b/bad.mig.ber
for n in pc-bare q35-bare x86-microvm pc-2.3 pc-1.4; do
    "$M" legacy-to-ber -q "$FIXTURES/$n.mig" "one-$n.ber"
    check "$n: batch output = legacy-to-ber output" cmp -s "out/in/$n.mig.ber" "one-$n.ber"
done
check "no temporary files left" test -z "$(find out -name '.*')"

# Back again, verified, with --to legacy.
expect_exit "back again with --verify" 0 "$M" batch -q -o back --verify out
expect_exit "--to legacy on BER files" 0 "$M" batch -q -o back2 --to legacy out/in/a/q35-devices.mig.ber
check "--to legacy: .ber removed" cmp -s back2/out/in/a/q35-devices.mig "$FIXTURES/q35-devices.mig"
check "round trip through two batches" cmp -s back/out/in/pc-bare.mig "$FIXTURES/pc-bare.mig"
check "gzip round trip: same stream" cmp -s <(gzip -dc < back/out/in/a/b/z.mig.gz) "$FIXTURES/pc-bare.mig"
expect_exit "--to ber on BER input fails" 1 "$M" batch -q -o wrong --to ber out/in/a/q35-devices.mig.ber
expect_err "--to ber on BER input: message" "this is ber, not legacy input"

# FIFOs without --to: each input is opened once and its direction found
# from its first bytes (a second open of a FIFO would wait for another
# writer: the timeout turns that into a failure).
mkdir -p fifo
mkfifo fifo/a.mig fifo/b.ber fifo/c.mig
cat "$FIXTURES/q35-devices.mig" > fifo/a.mig &
f1=$!
cat out/in/pc-bare.mig.ber > fifo/b.ber &
f2=$!
gzip -c < "$FIXTURES/pc-bare.mig" > fifo/c.mig &
f3=$!
expect_exit "FIFOs without --to" 0 timeout 60 "$M" batch -q -o fout -j 2 fifo/a.mig fifo/b.ber fifo/c.mig
wait $f1 $f2 $f3 2>/dev/null
check "FIFO, legacy -> BER" cmp -s fout/fifo/a.mig.ber out/in/a/q35-devices.mig.ber
check "FIFO, BER -> legacy" cmp -s fout/fifo/b "$FIXTURES/pc-bare.mig"
check "FIFO, gzip'd legacy -> BER with the container" cmp -s fout/fifo/c.mig.ber out/in/a/b/z.mig.gz.ber
# --verify reads the input twice: a FIFO is refused, without opening it.
expect_exit "--verify of a FIFO: exit 1" 1 timeout 60 "$M" batch -q -o fout2 --verify fifo/a.mig
expect_err "--verify of a FIFO: message" "--verify reads the input twice: it needs a regular file"
check "--verify of a FIFO: no output" test ! -e fout2/fifo/a.mig.ber

# --skip-existing resumes; without it existing outputs fail.
rm out/in/pc-bare.mig.ber
expect_exit "--skip-existing" 1 "$M" batch -q -o out --skip-existing --report rep2.jsonl in
check "--skip-existing: 7 skipped, the missing one done" \
    test "$(jq -r .status rep2.jsonl | sort | uniq -c | tr -s ' ' | tr '\n' ,)" = " 1 failed, 1 ok, 7 skipped,"
check "--skip-existing: the missing output is back" cmp -s out/in/pc-bare.mig.ber one-pc-bare.ber
expect_exit "existing outputs without -f fail" 1 "$M" batch -q -o out in/pc-bare.mig
expect_err "existing outputs: message" "already exists"

# --shard: every input in exactly one shard, the union is the whole batch.
for k in 0 1 2; do
    "$M" batch -q -o "sh$k" --shard "$k/3" --report "sh$k.jsonl" in >/dev/null 2>&1
done
check "shards: 9 inputs in all" test "$(cat sh0.jsonl sh1.jsonl sh2.jsonl | wc -l)" = 9
check "shards: no input twice" test "$(cat sh0.jsonl sh1.jsonl sh2.jsonl | jq -r .input | sort | uniq -d | wc -l)" = 0
check "shards: same inputs as the whole batch" \
    cmp -s <(cat sh0.jsonl sh1.jsonl sh2.jsonl | jq -r .input | sort) <(jq -r .input rep.jsonl | sort)
check "shards: stable (same split again)" bash -c "'$M' batch -q -o sh0b --shard 0/3 --report sh0b.jsonl in >/dev/null 2>&1; cmp -s <(jq -r .input sh0.jsonl | sort) <(jq -r .input sh0b.jsonl | sort)"
expect_exit "--shard 3/3 is a usage error" 2 "$M" batch -o x --shard 3/3 in

# The GNU parallel recipe (README): shards as parallel jobs.
if command -v parallel >/dev/null; then
    parallel --will-cite -j 3 "$M" batch -q -o par --shard {}/3 --report par-{}.jsonl in ::: 0 1 2 >/dev/null 2>&1
    check "GNU parallel: every input once" test "$(cat par-*.jsonl | jq -r .input | sort | uniq | wc -l)" = 9
    check "GNU parallel: same outputs as one batch" diff -r par out -x '*.ber' -q
    check "GNU parallel: same BER files" bash -c "cd out && for f in \$(find . -name '*.ber' | grep -v pc-bare); do cmp -s \$f ../par/\$f || exit 1; done"
else
    bad "GNU parallel is not installed (.ci/deps installs it)"
fi

# Progress: one line for the whole batch (forced with --progress), then
# the summary; nothing on stderr with -q.
"$M" batch --progress -o prog in/pc-bare.mig in/q35-bare.mig 2>prog.err
check "progress line: files done/total, bytes, rate, ETA" grep -Eq 'batch: [0-9]+/2 files, .*B, .*B/s, ETA' prog.err
check "summary line" grep -q 'batch: 2 files: 2 converted, 0 skipped, 0 failed;' prog.err
"$M" batch -q -o prog2 in/pc-bare.mig 2>prog2.err
check "-q: nothing on stderr" test ! -s prog2.err

# SIGINT mid-batch: workers stop, no partial output, exit 130.  The first
# input is a FIFO fed half a stream and then held open, so one worker is
# always mid-conversion (its output is open) when SIGINT comes, whatever
# the speed of the machine.  The output being written has no name (O_TMPFILE)
# or a hidden temporary one: either way a worker holds a file under intr/.
mkdir -p big
for i in $(seq 1 12); do ln -sf "$FIXTURES/q35-devices.mig" "big/s$i.mig"; done
mkfifo big/0.fifo
{ head -c 300000 "$FIXTURES/q35-devices.mig"; sleep 60; } > big/0.fifo &
feeder=$!
"$M" batch -q -o intr -j 2 --to ber --report intr.jsonl big/0.fifo big/s*.mig &
pid=$!
writing() { # a worker of the batch has an output open under intr/
    local c
    for c in $(pgrep -P $pid); do
        ls -l /proc/$c/fd 2>/dev/null | grep -q -- "$PWD/intr/" && return 0
    done
    return 1
}
for _ in $(seq 200); do
    writing && break
    sleep 0.05
done
check "SIGINT: a worker is writing the held input's output before" writing
kill -INT $pid
rc=0; wait $pid || rc=$?
kill $feeder 2>/dev/null; pkill -P $feeder sleep 2>/dev/null; wait $feeder 2>/dev/null
check "SIGINT: exit 130" test "$rc" = 130
check "SIGINT: no temporary files" test -z "$(find intr -name '.*' 2>/dev/null)"
check "SIGINT: no output for the interrupted input" test ! -e intr/big/0.fifo.ber
check "SIGINT: every output present is complete" bash -c "for f in \$(find intr -name '*.ber'); do '$M' ber-to-legacy -q \$f - | cmp -s - '$FIXTURES/q35-devices.mig' || exit 1; done"
check "SIGINT: the report says interrupted" grep -q '"status": "interrupted"' intr.jsonl
finish
