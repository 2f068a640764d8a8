#!/usr/bin/env bash
# The man page matches the code: mandoc -Tlint finds nothing, every command
# of `migconv --help` has its entry, and every long option a command's
# --help lists is in the man page.  Negative control: an option the code
# does not have is not found, so the search can fail.
set -u
. "$(dirname "$0")/lib.sh"
man=$(cd "$(dirname "$0")/../.." && pwd)/man/migconv.1
command -v mandoc >/dev/null || { echo "mandoc not installed: skipped"; exit 77; }

# lint: no message at all (style included); mandoc.db notes and manuals
# not installed (Xr) are about the host, not the page
mandoc -Tlint "$man" >"$WORK/lint" 2>&1
grep -Ev 'mandoc\.db|referenced manual not found' "$WORK/lint" >"$WORK/lint2"
check "mandoc -Tlint: clean" test ! -s "$WORK/lint2"
[ -s "$WORK/lint2" ] && head -5 "$WORK/lint2"

# the page as text, options as mdoc writes them (Fl -to -> --to)
mandoc -Tascii "$man" | sed "s/.\x08//g" >"$WORK/page"
in_man() { grep -q -- "$1" "$WORK/page"; }

cmds=$("$MIGCONV" --help | sed -n '/^Commands:/,/^$/p' | awk '/^  [a-z]/ {print $1}')
check "the main --help lists commands" test -n "$cmds"
for c in $cmds; do
    [ "$c" = help ] && continue
    check "command $c has an entry in the man page" grep -Eq "^ {5}$c( |$)" "$WORK/page"
    "$MIGCONV" "$c" --help >"$WORK/h" 2>&1
    for o in $(grep -Eo -- '--[a-z][a-z0-9-]+' "$WORK/h" | sort -u); do
        check "$c: $o of --help is in the man page" in_man "$o"
    done
done
if in_man --no-such-option; then
    bad "negative control: an option migconv lacks is not found"
else
    ok "negative control: an option migconv lacks is not found"
fi
finish
