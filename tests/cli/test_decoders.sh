#!/usr/bin/env bash
# Every fixture's BER is read without error by decoders that share no code
# with migconv: dumpasn1 (streaming, strict about lengths; -o because page
# data that looks like text is not a character string) and openssl.
# Also, for every fixture: pipes in both directions give the same bytes as
# files, conversion is deterministic, the round trip with and without names
# is exact, and the BER is no larger than the legacy stream.
set -u
. "$(dirname "$0")/lib.sh"
quietly() { "$@" >/dev/null; }
have_dumpasn1=1; command -v dumpasn1 >/dev/null || have_dumpasn1=0
have_openssl=1; command -v openssl >/dev/null || have_openssl=0
for f in "$FIXTURES"/*.mig; do
    n=$(basename "$f" .mig)
    if ! "$MIGCONV" legacy-to-ber -q "$f" "$WORK/$n.ber" 2>"$WORK/err"; then
        if grep -q "no vmdesc" "$WORK/err"; then
            printf 'skip %s (needs descriptor tables)\n' "$n"
            continue
        fi
        bad "$n: legacy-to-ber" "$(cat "$WORK/err")"
        continue
    fi
    "$MIGCONV" legacy-to-ber -q --no-names "$f" "$WORK/$n.nn.ber" 2>/dev/null
    if [ $have_dumpasn1 = 1 ]; then
        if dumpasn1 -s -e -z -o "$WORK/$n.ber" >"$WORK/dump.txt" 2>&1; then
            ok "$n: dumpasn1"
        else
            bad "$n: dumpasn1" "$(grep -i error "$WORK/dump.txt" | head -3)"
        fi
    fi
    if [ $have_openssl = 1 ]; then
        if openssl asn1parse -inform DER -in "$WORK/$n.ber" -noout 2>"$WORK/err"; then
            ok "$n: openssl asn1parse"
        else
            bad "$n: openssl asn1parse" "$(head -3 "$WORK/err")"
        fi
    fi
    # the same conversion through pipes, both ways, and a second run:
    # identical bytes (streaming and deterministic output)
    cat "$f" | "$MIGCONV" legacy-to-ber -q - - >"$WORK/p.ber" 2>"$WORK/err"
    check "$n: pipe output equals file output, deterministic" cmp -s "$WORK/p.ber" "$WORK/$n.ber"
    # --validate: every record is also decoded with libtasn1 against the
    # schema compiled from asn1/migconv.asn
    cat "$WORK/p.ber" | "$MIGCONV" ber-to-legacy -q --validate - - 2>"$WORK/err" | cmp -s - "$f"
    check "$n: pipe round trip legacy->BER->legacy identical, schema-valid" test "${PIPESTATUS[2]:-0}" -eq 0
    check "$n: BER->legacy->BER identical" quietly "$MIGCONV" verify -q "$WORK/$n.ber"
    "$MIGCONV" ber-to-legacy -q "$WORK/$n.nn.ber" - 2>/dev/null | cmp -s - "$f"
    check "$n: round trip without names identical" test "${PIPESTATUS[1]:-0}" -eq 0
    lsz=$(stat -c %s "$f"); bsz=$(stat -c %s "$WORK/$n.ber"); nsz=$(stat -c %s "$WORK/$n.nn.ber")
    printf '     %s: legacy %d, BER %d (%d%%), BER without names %d (%d%%)\n' \
        "$n" "$lsz" "$bsz" $((bsz * 100 / lsz)) "$nsz" $((nsz * 100 / lsz))
    check "$n: BER not larger than legacy" test "$bsz" -le "$lsz"
done
[ $have_dumpasn1 = 1 ] || printf 'note: dumpasn1 not installed\n'
finish
