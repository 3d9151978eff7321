#!/bin/sh
# test_offline.sh: the offline commands (classify, explain, check, harvest)
# end to end through the real binary, on the fixtures in tests/fixtures/cli.
# Environment: IMAPSIFT (the binary), TOP (the source tree).
set -u
bin=${IMAPSIFT:?}
fx=${TOP:?}/tests/fixtures/cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
tab=$(printf '\t')

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# verdict NAME FILE WANT [REASON-SUBSTRING]
verdict() {
	out=$("$bin" classify -r "$fx/rules" "$2" 2>"$tmp/err")
	rc=$?
	v=$(printf '%s\n' "$out" | cut -f2)
	r=$(printf '%s\n' "$out" | cut -f3-)
	if [ $rc -ne 0 ]; then
		no "$1" "exit $rc: $(cat "$tmp/err")"
	elif [ "$v" != "$3" ]; then
		no "$1" "verdict '$v', want '$3' ($r)"
	elif [ -n "${4:-}" ] && ! printf '%s' "$r" | grep -qF -- "$4"; then
		no "$1" "reasons '$r' lack '$4'"
	else
		ok "$1"
	fi
}

verdict url_in_html_link "$fx/url-html.eml" junk \
    'url:evil.example via https://x.EVIL.example./claim?id=1'
verdict phone_in_text "$fx/phone-plain.eml" junk 'phone:18005550199'
verdict phrase_split_by_markup_qp "$fx/phrase-split.eml" junk \
    'phrase:"diplomas from prestigious non-accredited universities"'
verdict base64_body_and_2047_subject "$fx/base64-url.eml" junk \
    'url:tracker.example via http://sale.tracker.example/x'
verdict regex_on_decoded_subject "$fx/base64-url.eml" junk \
    "regex:$fx/rules/test.regex:1"
verdict ham_dates_prices_orders_ips "$fx/ham.eml" clean
verdict allow_list_wins "$fx/allowed.eml" clean 'allow:allowed.example'
verdict boundary_crash_survives "$fx/boundary-crash.eml" junk 'url:evil'

sed 's/$/\r/' "$fx/phrase-split.eml" > "$tmp/crlf.eml"
verdict crlf_same_as_lf "$tmp/crlf.eml" junk 'phrase:"diplomas'

# Standard input, and the file name column.
out=$("$bin" classify -r "$fx/rules" - < "$fx/phone-plain.eml")
case $out in
"-${tab}junk${tab}"*) ok stdin ;;
*) no stdin "got '$out'" ;;
esac

# Several files, one line each, in order.
n=$("$bin" classify -r "$fx/rules" "$fx/ham.eml" "$fx/url-html.eml" \
    "$fx/phone-plain.eml" | cut -f2 | tr '\n' ' ')
[ "$n" = "clean junk junk " ] && ok one_line_per_file ||
    no one_line_per_file "got '$n'"

# An unreadable file: an error line in its place, exit 1, others judged.
out=$("$bin" classify -r "$fx/rules" "$tmp/missing.eml" "$fx/ham.eml" \
    2>"$tmp/err")
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | head -1 | grep -q "${tab}error${tab}" &&
    printf '%s\n' "$out" | tail -1 | grep -q "${tab}clean${tab}" &&
    grep -q 'missing.eml' "$tmp/err"; then
	ok unreadable_file
else
	no unreadable_file "rc $rc, out '$out', err '$(cat "$tmp/err")'"
fi

# A threshold of 2 needs two distinct indicators.
mkdir "$tmp/t2" && cp "$fx"/rules/* "$tmp/t2/" &&
    printf '@threshold 2\n' > "$tmp/t2/threshold.phrases"
a=$("$bin" classify -r "$tmp/t2" "$fx/url-html.eml" | cut -f2)
b=$("$bin" classify -r "$tmp/t2" "$fx/base64-url.eml" | cut -f2)
[ "$a $b" = "clean junk" ] && ok threshold || no threshold "got '$a $b'"

# explain names the list and line that matched and the part.
out=$("$bin" explain -r "$fx/rules" "$fx/url-html.eml")
if printf '%s\n' "$out" | grep -q "listed: evil.example ($fx/rules/test.domains:2" &&
    printf '%s\n' "$out" | grep -q 'in 1 text/html' &&
    printf '%s\n' "$out" | grep -q '^verdict: junk'; then
	ok explain
else
	no explain "$out"
fi
out=$("$bin" explain -r "$fx/rules" "$fx/ham.eml")
if printf '%s\n' "$out" | grep -q 'notevil.example.*(not listed)' &&
    printf '%s\n' "$out" | grep -q '^verdict: clean'; then
	ok explain_unlisted
else
	no explain_unlisted "$out"
fi

# check: good lists pass, bad ones report every error and exit 2.
"$bin" check -r "$fx/rules" > "$tmp/out" 2>&1 && grep -q 'rules OK' "$tmp/out" &&
    ok check_good || no check_good "$(cat "$tmp/out")"
"$bin" check -r "$fx/badrules" > "$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "bad.domains:2: .*too broad" "$tmp/out" &&
    grep -q "bad.domains:3: .*@weight" "$tmp/out" &&
    grep -q "bad.phrases:1: .*at least 4" "$tmp/out" &&
    ! grep -q "bad.domains:1: " "$tmp/out"; then
	ok check_bad_all_errors
else
	no check_bad_all_errors "rc $rc: $(cat "$tmp/out")"
fi
"$bin" check -r "$TOP/rules/lists" > "$tmp/out" 2>&1 &&
    ok check_starter_lists || no check_starter_lists "$(cat "$tmp/out")"
f=$(mktemp "$tmp/XXXXXX.eml")
printf 'Subject: x\n\nGet diplomas from prestigious non-accredited universities\n' > "$f"
out=$("$bin" classify -r "$TOP/rules/lists" "$f" | cut -f2)
[ "$out" = junk ] && ok starter_phrase || no starter_phrase "got '$out'"

# harvest: spam-only indicators, registrable domains, never in ham.
"$bin" harvest --spam "$fx/spam" --ham "$fx/ham" -o "$tmp/h" > "$tmp/out" 2>&1
rc=$?
d=$(grep -v '^#' "$tmp/h/harvested.domains" 2>/dev/null | cut -f1 | sort | tr '\n' ' ')
p=$(grep -v '^#' "$tmp/h/harvested.phones" 2>/dev/null | cut -f1 | tr '\n' ' ')
if [ $rc -eq 0 ] && [ "$d" = "203.0.113.9 spamvendor.example " ] &&
    [ "$p" = "+18005550142 " ] &&
    grep -q "^spamvendor.example${tab}# 2" "$tmp/h/harvested.domains"; then
	ok harvest
else
	no harvest "rc $rc, domains '$d', phones '$p': $(cat "$tmp/out")"
fi
# What harvest wrote loads and catches the spam it came from.
out=$("$bin" classify -r "$tmp/h" "$fx/spam/s2.eml" | cut -f2)
[ "$out" = junk ] && ok harvest_roundtrip || no harvest_roundtrip "got '$out'"

"$bin" frobnicate > /dev/null 2>&1
[ $? -eq 2 ] && ok unknown_command || no unknown_command "exit not 2"
"$bin" classify -r "$fx/rules" > /dev/null 2>&1
[ $? -eq 2 ] && ok classify_needs_files || no classify_needs_files "exit not 2"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
