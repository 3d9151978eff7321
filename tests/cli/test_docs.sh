#!/bin/sh
# test_docs.sh: the manual and the config example keep up with the code.
#   - every command imapsift help lists has its synopsis line (.B imapsift
#     NAME) and its entry under COMMANDS in man/imapsift.1;
#   - every config key the parser knows (the key tables of conf-keys.c and
#     the strcmp(k, "NAME") settings of feeds and dnsbl entries) is named
#     in conf/imapsift.conf.example and in the manual;
#   - the manual renders for a UTF-8 terminal, as man shows it, without
#     a single groff warning (a raw non-ASCII byte, which troff cannot
#     take without preconv, an unknown macro or escape).
# Environment: IMAPSIFT (the binary), TOP (the source tree).
set -u
bin=${IMAPSIFT:?}
top=${TOP:?}
man=$top/man/imapsift.1
ex=$top/conf/imapsift.conf.example
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# The manual as words: escapes that stand for plain characters undone.
sed -e 's/\\-/-/g' -e 's/\\_/_/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' \
    "$man" > "$tmp/man"
# The COMMANDS section alone.
sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$tmp/man" > "$tmp/commands"

cmds=$("$bin" help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$cmds" ] || no commands "imapsift help listed nothing"
for c in $cmds; do
	miss=
	grep -q "^\.B imapsift $c\$" "$tmp/man" || miss=" synopsis"
	# An entry: ".TP" then ".B NAME" (or ".B NAME" and its options).
	awk -v c="$c" 'p && ($0 == ".B " c || index($0, ".B " c " ") == 1) {
		f = 1 } { p = ($0 == ".TP") } END { exit !f }' \
	    "$tmp/commands" || miss="$miss COMMANDS entry"
	if [ -z "$miss" ]; then
		ok "man_command_$c"
	else
		no "man_command_$c" "man/imapsift.1 lacks its$miss"
	fi
done

# Keys: the tables' names, then the entry settings.
{
	sed -n 's/^[[:space:]]*{ "\([a-z0-9_]*\)", CONF_.*/\1/p' \
	    "$top/conf/conf-keys.c"
	sed -n 's/.*strcmp(k, "\([a-z0-9_]*\)").*/\1/p' \
	    "$top/conf/conf-feeds.c" "$top/conf/conf-dnsbl.c"
} | sort -u > "$tmp/keys"
n=$(wc -l < "$tmp/keys")
if [ "$n" -ge 40 ]; then
	ok "keys_found"
else
	no "keys_found" "only $n keys read from conf/*.c: has the table changed shape?"
fi
while read -r k; do
	miss=
	grep -qw -- "$k" "$ex" || miss=" conf/imapsift.conf.example"
	grep -qw -- "$k" "$tmp/man" || miss="$miss man/imapsift.1"
	if [ -z "$miss" ]; then
		ok "key_$k"
	else
		no "key_$k" "not named in$miss"
	fi
done < "$tmp/keys"

# The manual renders cleanly.
if ! command -v groff > /dev/null; then
	no groff_clean "groff is not installed (make deps-test installs groff-base)"
else
	LC_ALL=C groff -man -Tutf8 -ww "$man" 2> "$tmp/groff" > /dev/null
	if [ -s "$tmp/groff" ]; then
		no groff_clean "$(head -n 5 "$tmp/groff")"
	else
		ok groff_clean
	fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
