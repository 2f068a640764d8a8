#!/usr/bin/env bash
# Output identity: every output migconv makes from the committed fixtures
# has the SHA-256 recorded in tests/cli/identity.sha256.  A change to the
# code that is meant to change no output (a refactoring, a speed-up) must
# leave every line of that manifest true.
#
# Each line is "HASH NAME KIND", for each fixture NAME.mig these kinds:
#   ber        legacy-to-ber NAME.mig NAME.ber
#   nn.ber     legacy-to-ber --no-names NAME.mig NAME.nn.ber
#   ber.mig    ber-to-legacy NAME.ber
#   nn.mig     ber-to-legacy NAME.nn.ber
#   json       dump --ram-records NAME.mig
#   ber.json   dump NAME.ber
#   verify     stdout of verify NAME.mig
#   tables     stdout of tables NAME.mig (fixtures without a vmdesc fail)
# (run in a scratch directory on a copy named NAME.mig, so that file names
# in outputs are the same everywhere).  A command that fails is recorded
# as "exit:N" instead of a hash.
#
#   tests/cli/test_identity.sh              check (ctest runs this)
#   tests/cli/test_identity.sh --update     rewrite the manifest from the
#                                           current build, all fixtures
#   tests/cli/test_identity.sh --update NAME...   rewrite only these fixtures
# MIGCONV (default build/test/migconv) and FIXTURES (default
# tests/fixtures/streams) name the binary and the fixtures.
#
# When an output changes on purpose (a new encoding of some field, say),
# run --update for the fixtures concerned, look at `git diff` of the
# manifest (only the lines you expect may change) and commit it with the
# change, saying why in the message.  A new fixture is not covered until it
# has lines here: the check names it ("not covered"); add it with
# --update NAME and commit the new lines with the fixture.  A fixture listed
# here but missing from FIXTURES fails the check: remove its lines (or
# --update without names) when you remove a fixture.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
M=${MIGCONV:-$top/build/test/migconv}
FX=${FIXTURES:-$top/tests/fixtures/streams}
MANIFEST=${MC_IDENTITY_MANIFEST:-$top/tests/cli/identity.sha256}
KINDS="ber nn.ber ber.mig nn.mig json ber.json verify tables"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/migconv-identity.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# hashes NAME: print "HASH NAME KIND" for every kind, from the current build
hashes() {
    local n=$1 f="$FX/$1.mig" w="$WORK/$1" rc
    mkdir -p "$w"
    cp "$f" "$w/$n.mig"     # the same path text in every message and output
    (
        cd "$w" || exit 1
        run() { # run KIND OUTFILE CMD...: hash OUTFILE, or exit:N
            local kind=$1 out=$2; shift 2
            rc=0; "$@" >"$w/stdout" 2>/dev/null || rc=$?
            if [ "$rc" -eq 0 ]; then
                printf '%s %s %s\n' "$(sha256sum <"$out" | cut -d' ' -f1)" "$n" "$kind"
            else
                printf 'exit:%d %s %s\n' "$rc" "$n" "$kind"
            fi
        }
        run ber      "$n.ber"     "$M" legacy-to-ber -q "$n.mig" "$n.ber"
        run nn.ber   "$n.nn.ber"  "$M" legacy-to-ber -q --no-names "$n.mig" "$n.nn.ber"
        run ber.mig  "$n.ber.mig" "$M" ber-to-legacy -q "$n.ber" "$n.ber.mig"
        run nn.mig   "$n.nn.mig"  "$M" ber-to-legacy -q "$n.nn.ber" "$n.nn.mig"
        run json     stdout       "$M" dump -q --ram-records "$n.mig"
        run ber.json stdout       "$M" dump -q "$n.ber"
        run verify   stdout       "$M" verify -q "$n.mig"
        run tables   stdout       "$M" tables -q "$n.mig"
    )
}

[ -x "$M" ] || { echo "test_identity: no migconv binary at $M (set MIGCONV)" >&2; exit 2; }

if [ "${1:-}" = --update ]; then
    shift
    if [ $# -eq 0 ]; then
        names=$(cd "$FX" && ls -- *.mig | sed 's/\.mig$//')
        : >"$WORK/keep"
    else
        names="$*"
        # keep the lines of the fixtures not named
        awk -v names=" $* " 'index(names, " " $2 " ") == 0' "$MANIFEST" >"$WORK/keep" 2>/dev/null || true
    fi
    for n in $names; do
        [ -f "$FX/$n.mig" ] || { echo "test_identity: no fixture $FX/$n.mig" >&2; exit 2; }
        hashes "$n"
    done >"$WORK/new"
    sort -k2,3 "$WORK/keep" "$WORK/new" >"$MANIFEST"
    echo "test_identity: wrote $(wc -l <"$MANIFEST") lines to $MANIFEST"
    exit 0
fi

[ -s "$MANIFEST" ] || { echo "FAIL no manifest $MANIFEST"; exit 1; }
pass=0 fail=0
listed=$(awk '{ print $2 }' "$MANIFEST" | sort -u)
for n in $listed; do
    if [ ! -f "$FX/$n.mig" ]; then
        fail=$((fail + 1))
        echo "FAIL $n: listed in the manifest but $FX/$n.mig is missing (remove its lines)"
        continue
    fi
    hashes "$n" >"$WORK/got"
    awk -v n="$n" '$2 == n' "$MANIFEST" | while read -r want _ kind; do
        got=$(awk -v k="$kind" '$3 == k { print $1 }' "$WORK/got")
        if [ "$got" = "$want" ]; then
            echo "ok   $n $kind"
        else
            echo "FAIL $n $kind: ${got:-not made}, manifest says $want"
        fi
    done >"$WORK/res"
    cat "$WORK/res"
    pass=$((pass + $(grep -c '^ok' "$WORK/res")))
    fail=$((fail + $(grep -c '^FAIL' "$WORK/res")))
done
# a manifest whose entries check nothing would pass vacuously
want_lines=$(wc -l <"$MANIFEST")
if [ "$((pass + fail))" -ne "$want_lines" ] || [ "$want_lines" -eq 0 ]; then
    fail=$((fail + 1)); echo "FAIL checked $((pass + fail)) outputs, manifest has $want_lines lines"
fi
for f in "$FX"/*.mig; do
    n=$(basename "$f" .mig)
    printf '%s\n' $listed | grep -qxF "$n" ||
        echo "note $n: not covered (add it: tests/cli/test_identity.sh --update $n)"
done
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
