#!/bin/sh
# test_learn.sh: imapsift learn, learned and classify/explain --store on
# the fixtures in tests/fixtures/learn: what two senders' spam teaches,
# what one sender's does not (unless moved by hand), ham evidence winning,
# a domain with wanted and unwanted hosts learned by host, phrases, a
# later rescue unlearning, expiry, forget, and the explain output.
# Environment: IMAPSIFT (the binary), TOP (the source tree).
set -u
bin=${IMAPSIFT:?}
fx=${TOP:?}/tests/fixtures/learn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
tab=$(printf '\t')
mkdir "$tmp/norules"
db=$tmp/learn.db

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# verdict NAME FILE WANT [REASON-SUBSTRING]: with the store's learned set
# and no rule lists, so that only learning can junk.
verdict() {
	out=$("$bin" classify -r "$tmp/norules" --store "$db" --expire 0 \
	    "$2" 2>"$tmp/err")
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

# state NAME KIND VALUE WANT: the state imapsift learned lists.
state() {
	s=$("$bin" learned --store "$db" --kind "$2" 2>"$tmp/err" |
	    awk -F'\t' -v v="$3" '$3 == v { print $1 }')
	[ "$s" = "$4" ] && ok "$1" || no "$1" "state '$s', want '$4' ($(cat "$tmp/err"))"
}

"$bin" learn --store "$db" --ham "$fx/ham1.eml" --spam "$fx/spam1.eml" \
    "$fx/spam2.eml" "$fx/lone1.eml" "$fx/lone2.eml" > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^learn: 4 spam learned .* 1 ham' "$tmp/out" &&
    ok learn_runs || no learn_runs "exit $rc: $(cat "$tmp/out")"

# Two senders' spam shares a domain: learned by registrable domain, a
# third host of it is junk.
state url_two_senders_active url badpills.example active
verdict url_learned "$fx/target-url.eml" junk \
    'url:badpills.example via https://shop.badpills.example/new'
# The same text from two senders: phrases, caught with a fresh URL.
verdict phrase_learned "$fx/target-phrase.eml" junk \
    'phrase:"our certified pharmacy ships discreet packages"'
# sharedsite.example has a host in ham: the spam host is learned alone.
state host_by_host host news.sharedsite.example active
state host_domain_not_learned url sharedsite.example ""
verdict host_learned "$fx/target-host.eml" junk \
    'url:news.sharedsite.example via'
verdict ham_host_stays "$fx/ham-target.eml" clean
# A number in ham is never learned; one in a single spam waits.
state phone_in_ham_never phone 18005550143 ""
state phone_one_spam_pending phone 18005550142 pending
# One sender twice is not enough.
state lone_sender_pending url lonely-offer.example pending
verdict lone_sender_stays "$fx/lone-target.eml" clean
# Learned again (same Message-ID): not counted twice.
"$bin" learn --store "$db" --spam "$fx/lone1.eml" > "$tmp/out" 2>&1
grep -q '0 spam learned (1 already known' "$tmp/out" && ok same_msgid_once ||
    no same_msgid_once "$(cat "$tmp/out")"
state lone_still_pending url lonely-offer.example pending
# By hand, one message is enough.
"$bin" learn --store "$db" --by-hand --spam "$fx/lone-target.eml" \
    > "$tmp/out" 2>&1
state by_hand_active url lonely-offer.example active
verdict by_hand_junk "$fx/lone1.eml" junk 'url:lonely-offer.example'

# explain names the entry and the messages it came from.
"$bin" explain -r "$tmp/norules" --store "$db" --expire 0 \
    "$fx/target-url.eml" > "$tmp/explain" 2>&1
if grep -q "learned: badpills.example (store $db)" "$tmp/explain" &&
    grep -q "learned from: file:$fx/spam1.eml <s1@spam-one.example> from alice@spam-one.example, 2026-03-02" "$tmp/explain" &&
    grep -q "learned from: file:$fx/spam2.eml <s2@spam-two.example>" "$tmp/explain"; then
	ok explain_sources
else
	no explain_sources "$(cat "$tmp/explain")"
fi

# Expiry: the fixtures are dated March 2026; an idle time of one day
# (counted from today) leaves them all out.
out=$("$bin" classify -r "$tmp/norules" --store "$db" --expire 1 \
    "$fx/target-url.eml" | cut -f2)
[ "$out" = clean ] && ok expired_not_used || no expired_not_used "got '$out'"
n=$("$bin" learned --store "$db" --expire 1 | grep -c '^expired')
[ "$n" -ge 3 ] && ok expired_listed || no expired_listed "$n expired"

# A rescue (the message learned as ham) deactivates its indicators.
"$bin" learn --store "$db" --ham "$fx/target-url.eml" > "$tmp/out" 2>&1
state rescue_deactivates url badpills.example ham
verdict rescued_stays "$fx/target-url.eml" clean

# forget removes an entry.
"$bin" learned --store "$db" --forget news.sharedsite.example \
    > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q 'forgot 1 entry' "$tmp/out" && ok forget ||
    no forget "exit $rc: $(cat "$tmp/out")"
verdict forgotten_stays "$fx/target-host.eml" clean
"$bin" learned --store "$db" --forget no-such.example > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q 'no-such.example: not learned' "$tmp/out" &&
    ok forget_unknown || no forget_unknown "$(cat "$tmp/out")"

# Bad usage.
"$bin" learn --store "$db" > /dev/null 2>&1
[ $? -eq 2 ] && ok learn_needs_files || no learn_needs_files "exit $?"
"$bin" learned --store "$db" --kind bogus > "$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q 'url, host, phone or phrase' "$tmp/out" &&
    ok learned_bad_kind || no learned_bad_kind "$(cat "$tmp/out")"
"$bin" learn --store "$db" --spam "$tmp/missing.eml" > "$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q 'missing.eml' "$tmp/out" && ok learn_missing_file ||
    no learn_missing_file "$(cat "$tmp/out")"

# Without --store nothing learned applies.
out=$("$bin" classify -r "$tmp/norules" "$fx/target-url.eml" | cut -f2)
[ "$out" = clean ] && ok no_store_no_learning || no no_store_no_learning "$out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
