#!/usr/bin/env bash
# compat and retarget across QEMU versions, checked by real QEMU of both
# versions (5.2, 10.0, 11.1 from their Debian chroots, tests/qemu/roots.sh;
# 7.2 the host's): a stream the target rejects is loaded after retarget,
# compat names exactly the blockers the loads show, and what cannot be
# rewritten without loss is refused unless --allow-loss names it.
set -u
. "$(dirname "$0")/../cli/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
F=$FIXTURES/..
# NO_QEMU=1 (the sanitizer build): migconv's side only, no QEMU loads.
if [ -z "${NO_QEMU:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "QEMU 5.2, 10.0 and 11.1 run in chroots, which needs root: skipped"; exit 77; }
    command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
    for v in 5.2 10.0 11.1; do
        "$here/roots.sh" mount "$v" >/dev/null || { bad "QEMU $v chroot"; finish; exit; }
    done
fi

# qemu NAME accepts|rejects FIXTURE FILE V [PATTERN]: QEMU V loads FILE with
# FIXTURE's command line, or rejects it with a reason matching PATTERN
qemu() {
    local name=$1 how=$2 n=$3 f=$4 v=$5 pat=${6:-.}
    [ -n "${NO_QEMU:-}" ] && return 0
    local want=
    [ "$how" = rejects ] && want=--expect-reject
    if python3 "$here/accept.py" --qemu-version "$v" $want "$n" "$f" >"$WORK/acc" 2>&1 &&
        grep -q -- "$pat" "$WORK/acc"; then
        ok "$name ($(tail -1 "$WORK/acc" | cut -c1-90))"
    else
        bad "$name" "$(tail -2 "$WORK/acc")"
    fi
}

# compat_is FILE V RULES...: compat's 'blocks:' lines name exactly RULES
# (in order; none: exit 0)
compat_is() {
    local f=$1 v=$2
    shift 2
    local rc=0
    "$MIGCONV" compat --to "$v" ${COMPAT_ARGS:-} "$f" >"$WORK/compat" 2>"$WORK/err" || rc=$?
    local got want
    got=$(grep ': blocks: ' "$WORK/compat" | sed 's/.*\[\(.*\)\]$/\1/' | tr '\n' ' ')
    want="$*"
    [ -n "$want" ] && want="$want "
    local want_rc=1
    [ -z "$want" ] && want_rc=0
    if [ "$got" = "$want" ] && [ "$rc" -eq "$want_rc" ]; then
        return 0
    fi
    printf '     compat exit %d, blocks: [%s], expected [%s]\n' "$rc" "$got" "$want"
    return 1
}

# The 4x4 matrix of the q35 device set (the same VM saved by each version):
# for every cross-version pair, compat --to T, alone and with T's own
# stream of the VM (--to-stream), names exactly the blockers QEMU T's load
# shows, and nothing for the pairs T loads
vs="5.2 7.2 10.0 11.1"
for s in $vs; do
    for t in $vs; do
        [ "$s" = "$t" ] && continue
        in=$F/qemu-$s/q35-5.2-devices.mig
        case "$s>$t" in
        10.0\>5.2 | 10.0\>7.2 | 11.1\>5.2 | 11.1\>7.2)
            want="slirp-instance slirp-instance" pat="Unknown savevm section or instance 'slirp' 1" ;;
        10.0\>11.1)
            want="vring-num vring-num vring-num vring-num" pat="VQ 0 vring.num 1024 exceeds allocated max 256" ;;
        *) want= pat= ;;
        esac
        # shellcheck disable=SC2086
        check "matrix $s -> $t: compat names [${want:-nothing}]" compat_is "$in" "$t" $want
        # shellcheck disable=SC2086
        COMPAT_ARGS="--to-stream $F/qemu-$t/q35-5.2-devices.mig" \
            check "matrix $s -> $t: compat with $t's stream names [${want:-nothing}]" compat_is "$in" "$t" $want
        if [ -n "$want" ]; then
            qemu "matrix $s -> $t: QEMU $t rejects it" rejects q35-5.2-devices "$in" "$t" "$pat"
        else
            qemu "matrix $s -> $t: QEMU $t loads it" accepts q35-5.2-devices "$in" "$t"
        fi
    done
done
# without a version, the target's stream alone still finds the slirp
# instances it lacks; the ring sizes it shows are notes (whether QEMU
# refuses a larger one depends on its version)
"$MIGCONV" compat --to-stream "$F/qemu-7.2/q35-5.2-devices.mig" "$F/qemu-11.1/q35-5.2-devices.mig" >"$WORK/compat" 2>&1
check "--to-stream alone: 11.1 -> 7.2 blocks on the two slirp instances" \
    test "$(grep -c ': blocks: .*\[slirp-instance\]$' "$WORK/compat")" -eq 2
rc=0
"$MIGCONV" compat --to-stream "$F/qemu-11.1/q35-5.2-devices.mig" "$F/qemu-10.0/q35-5.2-devices.mig" >"$WORK/compat" 2>&1 || rc=$?
check "--to-stream alone: 10.0 -> 11.1 notes the four devices' ring sizes, exit 0" \
    test "$(grep -c ': note: .*the ring the target allocates (queue 0: 1024 > [0-9]*); .*\[vring-num\]$' "$WORK/compat")" -eq 4 -a "$rc" -eq 0
check "--to-stream: 5.2's 'audio' section, which later versions do not save, is a note" \
    eval '"$MIGCONV" compat --to 11.1 --to-stream "$F/qemu-11.1/q35-5.2-devices.mig" "$F/qemu-5.2/q35-5.2-devices.mig" | grep -q "note: section .audio. (id 0): not in the target stream"'
# --to-tables: the target's tables (migconv tables of its stream); a vmsd
# they know only at an older version blocks (negative control: a newer one)
expect_exit "--to-tables: tables of the 11.1 stream" 0 "$MIGCONV" tables -o "$WORK/t11.json" "$F/qemu-11.1/q35-5.2-devices.mig"
check "--to-tables: 11.1's own stream meets its tables" \
    eval '"$MIGCONV" compat --to-tables "$WORK/t11.json" "$F/qemu-11.1/q35-5.2-devices.mig" >/dev/null'
jq '.vmsds["e1000"] = {"1": .vmsds["e1000"]["2"]}' "$WORK/t11.json" >"$WORK/t-old.json"
jq '.vmsds["e1000"] = {"3": .vmsds["e1000"]["2"]}' "$WORK/t11.json" >"$WORK/t-new.json"
COMPAT_ARGS="--to-tables $WORK/t-old.json" check "--to-tables: e1000 known only at version 1 blocks version 2" \
    compat_is "$F/qemu-11.1/q35-5.2-devices.mig" 11.1 section-version
check "--to-tables: the line names the section and both versions" \
    grep -q "section '0000:00:02.0/e1000' (id [0-9]*): version 2 is newer than QEMU 11.1's 1" "$WORK/compat"
COMPAT_ARGS="--to-tables $WORK/t-new.json" check "--to-tables: e1000 known at version 3 does not block" \
    compat_is "$F/qemu-11.1/q35-5.2-devices.mig" 11.1
expect_exit "compat without --to, --to-tables or --to-stream is a usage error" 2 \
    "$MIGCONV" compat "$F/qemu-11.1/q35-5.2-devices.mig"
expect_exit "compat --to-stream of a file that is no stream fails" 1 \
    "$MIGCONV" compat --to-stream "$WORK/t11.json" "$F/qemu-11.1/q35-5.2-devices.mig"
expect_err "compat --to-stream of a file that is no stream names it" "t11.json"

# Downgrades of the q35 device set: slirp instances 1 and 2
for pair in 11.1:7.2 10.0:5.2; do
    s=${pair%:*} t=${pair#*:}
    in=$F/qemu-$s/q35-5.2-devices.mig
    check "$s -> $t: compat names the two slirp instances" \
        compat_is "$in" "$t" slirp-instance slirp-instance
    qemu "$s -> $t: QEMU $t rejects the stream as it is" rejects q35-5.2-devices "$in" "$t" slirp
    expect_exit "$s -> $t: retarget" 0 "$MIGCONV" retarget -f --to "$t" "$in" "$WORK/rt.mig"
    check "$s -> $t: retarget reports each rewrite on stderr" \
        test "$(grep -c '\[slirp-instance\]' "$WORK/err")" -eq 3
    check "$s -> $t: compat finds nothing left" compat_is "$WORK/rt.mig" "$t"
    qemu "$s -> $t: QEMU $t loads the retargeted stream" accepts q35-5.2-devices "$WORK/rt.mig" "$t"
done

# 10.0 -> 11.1 (an upgrade): 10.0 writes vring.num 1024 for every queue,
# 11.1 refuses more than it allocates; retarget sets the unused queues'
# vring.num to the ring size table's sizes
in=$F/qemu-10.0/q35-5.2-devices.mig
check "10.0 -> 11.1: compat names the vring.num of four virtio devices" \
    compat_is "$in" 11.1 vring-num vring-num vring-num vring-num
check "10.0 -> 11.1: compat names virtio-net's queue 0 first (what QEMU 11.1 names)" \
    grep -q "^[^ ]*: blocks: section '0000:00:01.0/virtio-net' (id [0-9]*): 3 virtio queues never set up .*(queue 0: 1024 > 256)" "$WORK/compat"
check "10.0 -> 10.0 and -> 7.2: no vring.num finding (they load it)" \
    eval '! "$MIGCONV" compat --to 10.0 "$in" | grep -q vring-num && ! "$MIGCONV" compat --to 7.2 "$in" | grep -q vring-num'
qemu "10.0 -> 11.1: QEMU 11.1 rejects the stream as it is" rejects q35-5.2-devices "$in" 11.1 'vring.num 1024 exceeds'
expect_exit "10.0 -> 11.1: retarget" 0 "$MIGCONV" retarget -f --to 11.1 "$in" "$WORK/rt.mig"
check "10.0 -> 11.1: one rewrite line per virtio device" \
    test "$(grep -c 'vring.num of [0-9]* virtio queues never set up -> .*\[vring-num\]' "$WORK/err")" -eq 4
check "10.0 -> 11.1: compat finds nothing left" compat_is "$WORK/rt.mig" 11.1
# every queue now holds the size 5.2, 7.2 and 11.1 write; nothing else moved
"$MIGCONV" dump "$WORK/rt.mig" >"$WORK/rt.json" 2>/dev/null
"$MIGCONV" dump "$F/qemu-11.1/q35-5.2-devices.mig" >"$WORK/t11.json" 2>/dev/null
"$MIGCONV" dump "$in" >"$WORK/s10.json" 2>/dev/null
nums='[.items[] | select(.fields?) | .fields[] | select(.name == "virtio") | [.fields[] | select(.name == "vq") | .array[] | .fields[] | select(.name == "vring.num") | .value]]'
check "10.0 -> 11.1: the ring sizes are those QEMU 11.1 writes for the same VM" \
    test "$(jq -c "$nums" "$WORK/rt.json")" = "$(jq -c "$nums" "$WORK/t11.json")"
check "10.0 -> 11.1: negative control: the 10.0 stream's sizes differ" \
    test "$(jq -c "$nums" "$WORK/s10.json")" != "$(jq -c "$nums" "$WORK/t11.json")"
novq='walk(if type == "object" and .name? == "vring.num" then del(.value) else . end)'
check "10.0 -> 11.1: everything but vring.num is as the input has it" \
    test "$(jq -c "$novq" "$WORK/rt.json" | md5sum)" = "$(jq -c "$novq" "$WORK/s10.json" | md5sum)"
qemu "10.0 -> 11.1: QEMU 11.1 loads the retargeted stream" accepts q35-5.2-devices "$WORK/rt.mig" 11.1
# BER input: the same findings and the same output
"$MIGCONV" legacy-to-ber -q -f "$in" "$WORK/in.ber"
check "10.0 -> 11.1 from BER: compat names the same four" compat_is "$WORK/in.ber" 11.1 vring-num vring-num vring-num vring-num
expect_exit "10.0 -> 11.1 from BER: retarget" 0 "$MIGCONV" retarget -f --to 11.1 "$WORK/in.ber" "$WORK/rt-ber.mig"
check "10.0 -> 11.1 from BER: the output is the legacy input's, byte for byte" cmp -s "$WORK/rt-ber.mig" "$WORK/rt.mig"
in=$F/qemu-10.0/q35-5.2-devices-suppress.mig
expect_exit "10.0 -> 11.1 without a vmdesc: retarget (built-in tables)" 0 "$MIGCONV" retarget -f --to 11.1 "$in" "$WORK/rt.mig"
check "10.0 -> 11.1 without a vmdesc: compat finds nothing left" compat_is "$WORK/rt.mig" 11.1
qemu "10.0 -> 11.1 without a vmdesc: QEMU 11.1 loads it" accepts q35-5.2-devices-suppress "$WORK/rt.mig" 11.1

# The same on s390x (virtio-ccw, s390-ccw-virtio-5.2): 10.0's balloon and
# rng queues of 1024 are refused by 11.1, set to 128 and 8 they load
in=$F/qemu-10.0/s390x-ccw-virtio.mig
check "s390x 10.0 -> 11.1: compat names the balloon's and the rng's ring sizes" \
    compat_is "$in" 11.1 vring-num vring-num
qemu "s390x 10.0 -> 11.1: QEMU 11.1 rejects the stream as it is" rejects s390x-ccw-virtio "$in" 11.1 'vring.num 1024 exceeds allocated max 128'
expect_exit "s390x 10.0 -> 11.1: retarget" 0 "$MIGCONV" retarget -f --to 11.1 "$in" "$WORK/rt.mig"
expect_err "s390x 10.0 -> 11.1: the rng's queue becomes 8" "virtio-rng' \(id [0-9]+\): vring.num of 1 virtio queues never set up -> .*1024 -> 8\) \[vring-num\]"
check "s390x 10.0 -> 11.1: compat finds nothing left" compat_is "$WORK/rt.mig" 11.1
qemu "s390x 10.0 -> 11.1: QEMU 11.1 loads the retargeted stream" accepts s390x-ccw-virtio "$WORK/rt.mig" 11.1
qemu "s390x 11.1 -> 5.2: QEMU 5.2 loads 11.1's stream as it is" accepts s390x-ccw-virtio "$F/qemu-11.1/s390x-ccw-virtio.mig" 5.2

# The ring size table agrees with every queue of what 5.2, 7.2 and 11.1
# write (compat would note a smaller size, block a larger one)
for v in 5.2 7.2 11.1; do
    for n in q35-5.2-devices q35-5.2-devices-suppress s390x-ccw-virtio; do
        "$MIGCONV" compat --to 11.1 "$F/qemu-$v/$n.mig" >"$WORK/compat" 2>&1
        check "$v $n: every ring size is the table's (no vring-num line)" \
            eval '! grep -q vring-num "$WORK/compat"'
    done
done
# a 7.2 stream after SeaBIOS ran: virtio-blk's queue 0 is set up (vring.desc
# != 0); its size 256 fits, but made 1024 it is refused, not rewritten
in=$F/streams/q35-virtio-ran.mig
check "q35-virtio-ran: the queue in use fits QEMU 11.1" compat_is "$in" 11.1
num_at=$(python3 - "$in" "$WORK/used.mig" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
desc = (0x3fdd000).to_bytes(8, 'big')  # virtio-blk vq[0].vring.desc
old = (256).to_bytes(4, 'big') + desc
assert d.count(old) == 1
open(sys.argv[2], 'wb').write(d.replace(old, (1024).to_bytes(4, 'big') + desc))
print(d.find(old))  # the byte offset of vring.num
PY
)
check "a used queue of 1024: compat blocks it" compat_is "$WORK/used.mig" 11.1 vring-num
check "a used queue of 1024: compat says it is in use" grep -q "virtio queue 0 is in use with vring.num 1024" "$WORK/compat"
expect_exit "a used queue of 1024: retarget refuses" 1 "$MIGCONV" retarget --to 11.1 "$WORK/used.mig" "$WORK/used-rt.mig"
expect_err "a used queue of 1024: the refusal names the field" "virtio-blk/virtio/vq\[0\]/vring.num: virtio queue in use .*refused"
expect_err "a used queue of 1024: the refusal gives vring.num's byte offset ($num_at)" "^migconv: $WORK/used.mig: offset $num_at: 0000:00:01.0/virtio-blk/virtio/vq\[0\]/vring.num: "
check "a used queue of 1024: one line" test "$(wc -l <"$WORK/err")" = 1
check "negative control: the offset is where the edited vring.num 1024 is" \
    test "$(od -An -tx1 -j "$num_at" -N4 "$WORK/used.mig" | tr -d ' ')" = 00000400
# from BER: the offset of the virtio field's TLV, which holds the queue table
"$MIGCONV" legacy-to-ber -q "$WORK/used.mig" "$WORK/used.ber"
expect_exit "a used queue of 1024 (BER): retarget refuses" 1 "$MIGCONV" retarget --to 11.1 "$WORK/used.ber" "$WORK/used-rt.mig"
expect_err "a used queue of 1024 (BER): file, offset and field path" "^migconv: $WORK/used.ber: offset [0-9]+: 0000:00:01.0/virtio-blk/virtio/vq\[0\]/vring.num: virtio queue in use"
check "a used queue of 1024 (BER): no output left" test ! -e "$WORK/used-rt.mig"
check "a used queue of 1024: no output left" test ! -e "$WORK/used-rt.mig"

# An upgrade that needs nothing: compat says so and QEMU 11.1 loads it
in=$F/qemu-7.2/q35-5.2-devices.mig
check "7.2 -> 11.1: compat finds no blocker" compat_is "$in" 11.1
qemu "7.2 -> 11.1: QEMU 11.1 loads it as it is" accepts q35-5.2-devices "$in" 11.1

# A 7.2 compress stream: QEMU 11.1 has no compress; PAGE records after retarget
in=$F/qemu-7.2/pc-5.2-compress.mig
check "compress -> 11.1: compat names the COMPRESS_PAGE records" compat_is "$in" 11.1 compress-page
qemu "compress -> 11.1: QEMU 11.1 rejects it as it is" rejects pc-5.2-loader "$in" 11.1 0x120
expect_exit "compress -> 11.1: retarget" 0 "$MIGCONV" retarget -f --to 11.1 "$in" "$WORK/rt.mig"
expect_err "compress -> 11.1: the rewrite is reported" 'COMPRESS_PAGE records -> PAGE \[compress-page\]'
check "compress -> 11.1: compat finds nothing left" compat_is "$WORK/rt.mig" 11.1
qemu "compress -> 11.1: QEMU 11.1 loads the retargeted stream" accepts pc-5.2-loader "$WORK/rt.mig" 11.1
qemu "compress -> 7.2: and QEMU 7.2 without the capability" accepts pc-5.2-loader "$WORK/rt.mig" 7.2

# A 7.2 xbzrle stream: XBZRLE records become PAGE records (a note for
# compat: every version decodes XBZRLE without the capability)
in=$F/streams/pc-xbzrle.mig
check "xbzrle -> 7.2: compat finds no blocker" compat_is "$in" 7.2
check "xbzrle -> 7.2: compat notes the XBZRLE records" grep -q 'note: .*XBZRLE records.*\[xbzrle-page\]' "$WORK/compat"
expect_exit "xbzrle -> 7.2: retarget" 0 "$MIGCONV" retarget -f --to 7.2 "$in" "$WORK/rt.mig"
expect_err "xbzrle -> 7.2: the rewrite is reported" 'section .ram.: [0-9]+ XBZRLE records -> PAGE \[xbzrle-page\]'
records() { "$MIGCONV" dump "$1" | jq -c '.ram_summary.records | [.xbzrle // 0, .page // 0]'; }
check "xbzrle -> 7.2: negative control: the input has XBZRLE records" \
    eval 'test "$(records "$in" | jq ".[0] > 0")" = true'
check "xbzrle -> 7.2: the output has none, one PAGE for each" \
    eval 'test "$(records "$WORK/rt.mig")" = "$(records "$in" | jq -c "[0, .[0] + .[1]]")"'
expect_exit "xbzrle: normalize of the same input" 0 "$MIGCONV" normalize -f "$in" "$WORK/nz.mig"
check "xbzrle -> 7.2: the pages are normalize's, byte for byte" cmp -s "$WORK/rt.mig" "$WORK/nz.mig"
qemu "xbzrle -> 7.2: QEMU 7.2 loads the retargeted stream" accepts pc-xbzrle "$WORK/rt.mig" 7.2

# A 7.2 block-migration stream: refused, then converted with --allow-loss block
in=$F/qemu-7.2/pc-5.2-block.mig
check "block -> 11.1: compat names the block section" compat_is "$in" 11.1 block
check "block -> 7.2: compat finds no blocker" compat_is "$in" 7.2
qemu "block -> 11.1: QEMU 11.1 rejects it as it is, naming block" rejects pc-5.2-block "$in" 11.1 block
expect_exit "block -> 11.1: retarget refuses" 1 "$MIGCONV" retarget --to 11.1 "$in" "$WORK/blk.mig"
expect_err "block -> 11.1: the refusal names block" "start block \(id 1\).*--allow-loss block"
expect_err "block -> 11.1: the refusal gives the section's byte offset" "^migconv: $in: offset 26: start block \(id 1\): block-migration data \(disk contents\) that QEMU 11.1 cannot load: refused: --allow-loss block leaves it out \(rule block\)\$"
check "block -> 11.1: no output left" test ! -e "$WORK/blk.mig"
expect_exit "block -> 11.1: retarget --allow-loss block" 0 \
    "$MIGCONV" retarget --to 11.1 --allow-loss block "$in" "$WORK/blk.mig"
expect_err "block -> 11.1: the loss is reported" "section 'block' \(id [0-9]+\) left out"
qemu "block -> 11.1: QEMU 11.1 loads it without the block sections" accepts pc-5.2-block "$WORK/blk.mig" 11.1

# Subsections and field layouts against QEMU's own -dump-vmstate (rules
# subsection, field-layout): QEMU 11.1's pc-5.2-bare, which 7.2 loads, and
# the same edited to carry a subsection no version knows (fw_cfg/acpi_mr
# renamed fw_cfg/acpi_mX) or a field fw_cfg does not have (a uint8 after
# its fields, in the stream and the vmdesc)
in=$F/qemu-11.1/pc-5.2-bare.mig
check "11.1 pc-5.2-bare -> 7.2: no blocker (negative control)" compat_is "$in" 7.2
check "11.1 pc-5.2-bare -> 7.2: one note on the vmsds the dump does not describe" \
    bash -c "grep -c 'note: .*does not describe [0-9]* vmsds.*\\[field-layout\\]\$' '$WORK/compat' | grep -qx 1"
qemu "11.1 pc-5.2-bare -> 7.2: QEMU 7.2 loads it" accepts pc-5.2-bare "$in" 7.2
python3 "$here/edit-stream.py" "$in" "$WORK/sub.mig" rename-subsection fw_cfg/acpi_mr fw_cfg/acpi_mX >/dev/null
python3 "$here/edit-stream.py" "$in" "$WORK/fld.mig" add-field fw_cfg extra >/dev/null
for t in 7.2 11.1; do
    check "unknown subsection -> $t: compat blocks it" compat_is "$WORK/sub.mig" $t subsection
    check "unknown subsection -> $t: compat names it" grep -q "blocks: section 'fw_cfg' (id [0-9]*): subsection 'fw_cfg/acpi_mX', which QEMU $t does not know \[subsection\]" "$WORK/compat"
    qemu "unknown subsection -> $t: QEMU $t rejects it" rejects pc-5.2-bare "$WORK/sub.mig" $t fw_cfg
    check "extra field -> $t: compat blocks it" compat_is "$WORK/fld.mig" $t field-layout
    check "extra field -> $t: compat names it" grep -q "blocks: section 'fw_cfg' (instance 0): the stream has field 'fw_cfg/extra', which QEMU $t's vmsd 'fw_cfg' (version 2) does not have \[field-layout\]" "$WORK/compat"
    qemu "extra field -> $t: QEMU $t rejects it" rejects pc-5.2-bare "$WORK/fld.mig" $t 'footer for fw_cfg'
done
# the edits themselves are sound: migconv reads both streams field by field
expect_exit "the edited streams verify" 0 "$MIGCONV" verify -q "$WORK/sub.mig" "$WORK/fld.mig"
# retarget refuses both (exit 1, no output), naming the subsection at its
# byte offset (QEMU_VM_SUBSECTION, then the name's length and bytes) and
# the field's section at the section's; --allow-loss subsection leaves the
# subsection out, and the target loads what is left
sub_at=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.index(b"\x05\x0efw_cfg/acpi_mX"))' "$WORK/sub.mig")
for t in 7.2 11.1; do
    rm -f "$WORK/rt.mig"
    expect_exit "unknown subsection -> $t: retarget refuses" 1 "$MIGCONV" retarget --to $t "$WORK/sub.mig" "$WORK/rt.mig"
    expect_err "unknown subsection -> $t: the refusal gives file, offset and path" \
        "^migconv: $WORK/sub.mig: offset $sub_at: full fw_cfg \(id [0-9]+\)/fw_cfg/acpi_mX: subsection 'fw_cfg/acpi_mX', which QEMU $t does not know: refused: --allow-loss subsection leaves it out \(rule subsection\)\$"
    check "unknown subsection -> $t: no output left" test ! -e "$WORK/rt.mig"
    expect_exit "unknown subsection -> $t: retarget --allow-loss subsection" 0 \
        "$MIGCONV" retarget --to $t --allow-loss subsection "$WORK/sub.mig" "$WORK/rt.mig"
    expect_err "unknown subsection -> $t: the loss is reported" "subsection 'fw_cfg/acpi_mX' left out: its state is lost"
    expect_err "unknown subsection -> $t: and its vmdesc entry" "vmdesc: 1 subsections left out"
    check "unknown subsection -> $t: the output no longer has it" bash -c "! grep -q acpi_mX '$WORK/rt.mig'"
    expect_exit "unknown subsection -> $t: the output verifies" 0 "$MIGCONV" verify "$WORK/rt.mig"
    check "unknown subsection -> $t: every section of the output parses by its vmdesc" bash -c "! grep -q warning '$WORK/err'"
    check "unknown subsection -> $t: compat finds nothing left" compat_is "$WORK/rt.mig" $t
    qemu "unknown subsection -> $t: QEMU $t loads it without the subsection" accepts pc-5.2-bare "$WORK/rt.mig" $t
    rm -f "$WORK/rt.mig"
    expect_exit "extra field -> $t: retarget refuses" 1 "$MIGCONV" retarget --to $t "$WORK/fld.mig" "$WORK/rt.mig"
    expect_err "extra field -> $t: the refusal names the field at its section's offset" \
        "^migconv: $WORK/fld.mig: offset [0-9]+: full fw_cfg \(id [0-9]+\): the stream has field 'fw_cfg/extra', which QEMU $t's vmsd 'fw_cfg' \(version 2\) does not have: refused: --allow-loss field leaves it out \(rule field-layout\)\$"
    check "extra field -> $t: no output left" test ! -e "$WORK/rt.mig"
    fat=$(sed -n 's/.*offset \([0-9]*\): full fw_cfg.*/\1/p' "$WORK/err")
    check "extra field -> $t: negative control: that offset starts the fw_cfg section" \
        test "$(dd if="$WORK/fld.mig" bs=1 skip="$fat" count=1 status=none | od -An -tx1 | tr -d ' ')$(dd if="$WORK/fld.mig" bs=1 skip=$((fat + 6)) count=6 status=none)" = 04fw_cfg
    expect_exit "extra field -> $t: retarget --allow-loss field" 0 \
        "$MIGCONV" retarget --to $t --allow-loss field "$WORK/fld.mig" "$WORK/rt.mig"
    expect_err "extra field -> $t: the loss is reported" "field 'extra', which QEMU $t's vmsd 'fw_cfg' does not have, left out: its state is lost"
    expect_err "extra field -> $t: and its vmdesc entry" "vmdesc: 1 field entries left out"
    check "extra field -> $t: the sections and vmdesc are the unedited stream's again" \
        python3 "$here/edit-stream.py" --same "$WORK/rt.mig" "$in"
    check "extra field -> $t: negative control: the edited stream's are not" \
        bash -c "! python3 '$here/edit-stream.py' --same '$WORK/fld.mig' '$in'"
    check "extra field -> $t: compat finds nothing left" compat_is "$WORK/rt.mig" $t
    qemu "extra field -> $t: QEMU $t loads it without the field" accepts pc-5.2-bare "$WORK/rt.mig" $t
done
# --allow-loss field leaves out only fields no rename explains: for every
# fixture of 5.2 and 11.1 (5.2's ps2kbd has a struct 'common' that 7.2 and
# later call 'parent_obj', so its sections are held back and passed on),
# the output is the same with and without it
for s in 5.2 11.1; do
    for t in 7.2 11.1; do
        [ "$s" = "$t" ] && continue
        for f in "$F/qemu-$s"/*.mig; do
            rm -f "$WORK/a.mig" "$WORK/b.mig"
            r1=0 r2=0
            "$MIGCONV" retarget -q --to $t "$f" "$WORK/a.mig" 2>/dev/null || r1=$?
            "$MIGCONV" retarget -q --to $t --allow-loss field "$f" "$WORK/b.mig" 2>/dev/null || r2=$?
            check "$s $(basename "$f") -> $t: --allow-loss field changes nothing" \
                bash -c "[ $r1 = $r2 ] && { [ $r1 != 0 ] || cmp -s '$WORK/a.mig' '$WORK/b.mig'; }"
        done
    done
done
# every fixture of every version against its own version: no subsection or
# field-layout blocker (the check agrees with the QEMU that wrote them)
for v in $vs; do
    for f in "$F/qemu-$v"/*.mig; do
        "$MIGCONV" compat --to "$v" "$f" >"$WORK/compat" 2>/dev/null
        check "$v $(basename "$f") -> $v: no subsection or field-layout blocker" \
            bash -c "! grep -Eq 'blocks: .*\\[(subsection|field-layout)\\]\$' '$WORK/compat'"
    done
done

# A machine type the target lacks: refused, naming the name's byte offset
# (13: after the header, the section type and the name's length)
in=$F/qemu-11.1/aarch64-virt.mig
expect_exit "virt-11.1 -> 7.2: retarget refuses the machine type" 1 "$MIGCONV" retarget --to 7.2 "$in" "$WORK/virt.mig"
expect_err "virt-11.1 -> 7.2: file, offset and path of the refusal" "^migconv: $in: offset 13: configuration: QEMU 7.2 has no machine type 'virt-11.1'; .*\(rule machine-type\)"
check "virt-11.1 -> 7.2: no output left" test ! -e "$WORK/virt.mig"
check "negative control: offset 13 holds the machine type" test "$(dd if="$in" bs=1 skip=13 count=9 status=none)" = virt-11.1
# retarget with the target's own stream (--to-stream) and no version: the
# slirp sections take its instance ids in order, unused queues its ring
# sizes, and the target loads the result (rejected before, in the matrix)
for pair in 10.0:11.1 11.1:7.2 10.0:5.2 7.2:10.0 5.2:11.1; do
    s=${pair%:*} t=${pair#*:}
    in=$F/qemu-$s/q35-5.2-devices.mig
    ts=$F/qemu-$t/q35-5.2-devices.mig
    expect_exit "$s -> $t --to-stream: retarget" 0 "$MIGCONV" retarget -f --to-stream "$ts" "$in" "$WORK/rt.mig"
    case "$s>$t" in
    10.0\>11.1) want='vring-num:4' ;;
    11.1\>7.2) want='slirp-instance:3' ;;
    10.0\>5.2) want='slirp-instance:3 vring-num:4' ;;
    *) want='slirp-instance:3' ;;
    esac
    got=
    for rule in slirp-instance vring-num; do
        n=$(grep -c "\[$rule\]\$" "$WORK/err")
        [ "$n" -gt 0 ] && got="$got $rule:$n"
    done
    check "$s -> $t --to-stream: the rewrites are [$want]" test "${got# }" = "$want"
    check "$s -> $t --to-stream: compat --to $t finds nothing left" compat_is "$WORK/rt.mig" "$t"
    # the slirp instance ids of the output are the target stream's, in order
    slirp_ids() { "$MIGCONV" dump "$1" | jq -c '[.items[] | select(.idstr? == "slirp") | .instance_id]'; }
    check "$s -> $t --to-stream: slirp instance ids are the target's ($(slirp_ids "$ts"))" \
        test "$(slirp_ids "$WORK/rt.mig")" = "$(slirp_ids "$ts")"
    qemu "$s -> $t --to-stream: QEMU $t loads the retargeted stream" accepts q35-5.2-devices "$WORK/rt.mig" "$t"
done
# the same from BER gives the same bytes
"$MIGCONV" legacy-to-ber -f "$F/qemu-10.0/q35-5.2-devices.mig" "$WORK/in.ber" 2>/dev/null
"$MIGCONV" retarget -f -q --to-stream "$F/qemu-11.1/q35-5.2-devices.mig" "$F/qemu-10.0/q35-5.2-devices.mig" "$WORK/rt.mig"
expect_exit "10.0 -> 11.1 --to-stream from BER: retarget" 0 "$MIGCONV" retarget -f -q --to-stream "$F/qemu-11.1/q35-5.2-devices.mig" "$WORK/in.ber" "$WORK/rt-ber.mig"
check "10.0 -> 11.1 --to-stream from BER: the same output as from legacy" cmp -s "$WORK/rt.mig" "$WORK/rt-ber.mig"
# a target stream whose fw_cfg is older, or another instance: refused,
# naming the section at its offset (negative control: the unedited target
# stream gives exit 0)
in=$F/qemu-11.1/pc-5.2-bare.mig
ts=$F/qemu-7.2/pc-5.2-bare.mig
expect_exit "--to-stream: negative control: 7.2's own stream accepts 11.1's pc-5.2-bare" 0 "$MIGCONV" retarget -f --to-stream "$ts" "$in" "$WORK/rt.mig"
python3 "$here/edit-stream.py" "$ts" "$WORK/ts-v.mig" set-version fw_cfg 1 >/dev/null
python3 "$here/edit-stream.py" "$ts" "$WORK/ts-i.mig" set-instance fw_cfg 1 >/dev/null
fw_at=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.index(b"\x06fw_cfg\0\0\0\0") - 5)' "$in")
rm -f "$WORK/rt.mig"
expect_exit "--to-stream, fw_cfg older in the target: retarget refuses" 1 "$MIGCONV" retarget --to-stream "$WORK/ts-v.mig" "$in" "$WORK/rt.mig"
expect_err "--to-stream, fw_cfg older in the target: file, offset, path, rule" \
    "^migconv: $in: offset $fw_at: full fw_cfg \(id [0-9]+\): version 2 is newer than the target stream's 1: refused \(rule section-version\)\$"
check "--to-stream, fw_cfg older in the target: no output left" test ! -e "$WORK/rt.mig"
COMPAT_ARGS="--to-stream $WORK/ts-v.mig" check "--to-stream, fw_cfg older in the target: compat names it" \
    compat_is "$in" 7.2 section-version
expect_exit "--to-stream, fw_cfg another instance in the target: retarget refuses" 1 "$MIGCONV" retarget --to-stream "$WORK/ts-i.mig" "$in" "$WORK/rt.mig"
expect_err "--to-stream, fw_cfg another instance in the target: file, offset, path, rule" \
    "^migconv: $in: offset $fw_at: full fw_cfg \(id [0-9]+\): instance 0: the target stream has this section only with other instance ids: refused \(rule section-instance\)\$"
check "--to-stream, fw_cfg another instance in the target: no output left" test ! -e "$WORK/rt.mig"
# --to-tables alone: the tables of 11.1's streams take 10.0's stream
"$MIGCONV" tables -o "$WORK/t11-only.json" "$F/qemu-11.1/q35-5.2-devices.mig" 2>/dev/null
expect_exit "--to-tables alone: retarget" 0 "$MIGCONV" retarget -f --to-tables "$WORK/t11-only.json" "$F/qemu-10.0/q35-5.2-devices.mig" "$WORK/rt.mig"
in=$F/qemu-7.2/pc-5.2-block.mig
# Usage
expect_exit "retarget without --to, --to-tables or --to-stream is a usage error" 2 "$MIGCONV" retarget "$in" "$WORK/x.mig"
expect_exit "an unknown version is a usage error" 2 "$MIGCONV" compat --to 9.0 "$in"
expect_exit "an unknown loss is a usage error" 2 "$MIGCONV" retarget --to 11.1 --allow-loss ram "$in" "$WORK/x.mig"
expect_exit "compat --rules lists the rule table" 0 "$MIGCONV" compat --rules
check "the rule table names every rule" \
    test "$(grep -cE '^(slirp-instance|compress-page|mapped-ram|vring-num|xbzrle-page|block|machine-type|section-instance|section-version|subsection|field-layout) ' "$WORK/out")" -eq 11
finish
