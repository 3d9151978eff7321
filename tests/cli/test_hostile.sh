#!/bin/sh
# test_hostile.sh: hostile messages (tests/hostile/gen.py) through the real
# binary: each is classified, exits 0 with one verdict line, and says
# "truncated" where a limit was hit; a message over a limit is judged on
# what was read; the config's limits group reaches classify -c.  No
# timing here (tests/bench/hostile.sh measures it).
# Environment: IMAPSIFT (the binary), TOP (the source tree), HOSTILE_SIZE
# (bytes per generated message, default 2 MB: past max_parse_bytes).
set -u
bin=${IMAPSIFT:?}
top=${TOP:?}
size=${HOSTILE_SIZE:-2097152}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
tab=$(printf '\t')

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# judge NAME FILE WANT-VERDICT|- WANT-TRUNCATED(1/0) [CLASSIFY-ARGS...]
judge() {
	name=$1 file=$2 want=$3 trunc=$4
	shift 4
	out=$("$bin" classify "$@" "$file" 2>"$tmp/err")
	rc=$?
	n=$(printf '%s\n' "$out" | wc -l)
	v=$(printf '%s\n' "$out" | cut -f2)
	r=$(printf '%s\n' "$out" | cut -f3-)
	case $r in
	*truncated*) t=1 ;;
	*) t=0 ;;
	esac
	if [ $rc -ne 0 ]; then
		no "$name" "exit $rc: $(head -c 300 "$tmp/err")"
	elif [ "$n" -ne 1 ] || [ "${out%%"$tab"*}" != "$file" ]; then
		no "$name" "output '$(printf '%s' "$out" | head -c 300)'"
	elif [ "$want" != - ] && [ "$v" != "$want" ]; then
		no "$name" "verdict '$v', want '$want' ($r)"
	elif [ "$t" != "$trunc" ]; then
		no "$name" "truncated $t, want $trunc ($r)"
	else
		ok "$name"
	fi
}

# Every kind, past max_parse_bytes: judged, and truncated.
if ! python3 "$top/tests/hostile/gen.py" -s "$size" "$tmp/big"; then
	no generate "gen.py failed"
fi
for f in "$tmp"/big/*.eml; do
	k=$(basename "$f" .eml)
	judge "big_$k" "$f" - 1 -r "$top/rules/lists"
done

# Under max_parse_bytes, the other limits must bite by themselves.
python3 "$top/tests/hostile/gen.py" -s 400000 -k many-parts \
    -k many-empty-parts -k deep-mime -k deep-prefix-boundary \
    -k nested-rfc822 -k urls-distinct -k html-links -k html-tel-links \
    -k phones -k many-headers "$tmp/small"
for f in "$tmp"/small/*.eml; do
	k=$(basename "$f" .eml)
	judge "limit_$k" "$f" - 1 -r "$top/rules/lists"
done

# Judged on what was read: a listed URL before the cut still counts, one
# after it does not.
rules=$top/tests/fixtures/cli/rules
{
	printf 'From: s@spam.example\nSubject: cut\n\nhttp://x.evil.example/a\n'
	python3 -c 'print("filler " * 150000)'
} > "$tmp/before.eml"
{
	printf 'From: s@spam.example\nSubject: cut\n\n'
	python3 -c 'print("filler " * 150000)'
	printf 'http://x.evil.example/a\n'
} > "$tmp/after.eml"
judge listed_before_cut "$tmp/before.eml" junk 1 -r "$rules"
judge listed_after_cut "$tmp/after.eml" clean 1 -r "$rules"
out=$("$bin" classify -r "$rules" "$tmp/before.eml")
case $out in
*url:evil.example*truncated) ok reasons_then_truncated ;;
*) no reasons_then_truncated "got '$out'" ;;
esac

# A small message hits no limit; with the config's limits it does.
printf 'From: a@b.example\nSubject: two\n\nhttp://a.one.example/ http://b.two.example/\n' \
    > "$tmp/two.eml"
judge no_limit "$tmp/two.eml" clean 0 -r "$rules"
printf 'limits = { max_urls = 1; };\n' > "$tmp/one-url.conf"
judge config_max_urls "$tmp/two.eml" clean 1 -r "$rules" -c "$tmp/one-url.conf"
printf 'limits = { max_parse_bytes = 16384; };\n' > "$tmp/small.conf"
judge config_parse_bytes "$tmp/before.eml" junk 1 -c "$tmp/small.conf" \
    -r "$rules"
printf 'limits = { max_urls = 0; };\n' > "$tmp/bad.conf"
"$bin" classify -c "$tmp/bad.conf" "$tmp/two.eml" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "bad.conf:1: max_urls: 0 is out of range" \
    "$tmp/err" && [ ! -s "$tmp/out" ]; then
	ok config_bad_limit
else
	no config_bad_limit "exit $rc: $(cat "$tmp/err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
