#!/bin/sh
# test_backscatter.sh: import-sent, then bounces judged against the store
# and against an ID file, end to end through the real binary.
# Environment: IMAPSIFT (the binary), TOP (the source tree).
set -u
bin=${IMAPSIFT:?}
fx=${TOP:?}/tests/fixtures/cli
bx=$fx/bounce
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
db=$tmp/state/imapsift.db

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# import-sent into a new store: IDs, mode 0600.
mkdir -p "$tmp/state"
out=$("$bin" import-sent --store "$db" "$bx/sent.mbox" 2>&1)
rc=$?
mode=$(stat -c %a "$db" 2>/dev/null)
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q '3 messages, 2 Message-IDs recorded, 1 without one' &&
    printf '%s' "$out" | grep -q 'covers sent mail from 2026-10-01 to 2026-11-01' &&
    [ "$mode" = 600 ]; then
	ok import_sent
else
	no import_sent "rc $rc mode $mode: $out"
fi

# A Maildir (cur/ and new/ read, tmp/ never) and a single .eml file.
md=$tmp/Sent
mkdir -p "$md/cur" "$md/new" "$md/tmp"
printf 'From: me@home.example\nTo: a@else.example\nMessage-ID: <md1@home.example>\nDate: Fri, 02 Oct 2026 09:00:00 +0000\n\nx\n' > "$md/cur/1.host:2,S"
printf 'From: me@home.example\nTo: b@else.example\nMessage-ID: <md2@home.example>\nDate: Sat, 03 Oct 2026 09:00:00 +0000\n\ny\n' > "$md/new/2.host"
printf 'From: me@home.example\nMessage-ID: <half@home.example>\n' > "$md/tmp/3.host"
printf 'From: me@home.example\r\nTo: c@else.example\r\nMessage-ID: <eml1@home.example>\r\nDate: Sun, 04 Oct 2026 09:00:00 +0000\r\n\r\nz\r\n' > "$tmp/one.eml"
out=$("$bin" import-sent --store "$tmp/md.db" "$md" "$tmp/one.eml" 2>&1)
rc=$?
printf 'md1@home.example\nmd2@home.example\neml1@home.example\nhalf@home.example\n' |
while read -r id; do
	printf 'From: MAILER-DAEMON@mx.example\nTo: me@home.example\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; x@else.example\nAction: failed\nStatus: 5.1.1\n\n--B\nContent-Type: text/rfc822-headers\n\nFrom: me@home.example\nMessage-ID: <%s>\nDate: Sat, 03 Oct 2026 09:00:00 +0000\n\n--B--\n' "$id" > "$tmp/b-$id.eml"
done
v=$("$bin" classify --store "$tmp/md.db" "$tmp/b-md1@home.example.eml" \
    "$tmp/b-md2@home.example.eml" "$tmp/b-eml1@home.example.eml" \
    "$tmp/b-half@home.example.eml" | cut -f2 | tr '\n' ' ')
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "Sent: 2 messages, 2 Message-IDs" &&
    printf '%s' "$out" | grep -q "one.eml: 1 messages, 1 Message-IDs" &&
    [ "$v" = "bounce bounce bounce backscatter " ]; then
	ok import_maildir_and_eml
else
	no import_maildir_and_eml "rc $rc, verdicts '$v': $out"
fi

# verdict NAME FILE WANT REASON-SUBSTRING [OPTIONS...]
verdict() {
	name=$1 file=$2 want=$3 reason=$4
	shift 4
	out=$("$bin" classify -r "$fx/rules" --address me@home.example "$@" \
	    "$file" 2>"$tmp/err")
	rc=$?
	v=$(printf '%s\n' "$out" | cut -f2)
	r=$(printf '%s\n' "$out" | cut -f3-)
	if [ $rc -ne 0 ]; then
		no "$name" "exit $rc: $(cat "$tmp/err")"
	elif [ "$v" != "$want" ]; then
		no "$name" "verdict '$v', want '$want' ($r)"
	elif ! printf '%s' "$r" | grep -qF -- "$reason"; then
		no "$name" "reasons '$r' lack '$reason'"
	else
		ok "$name"
	fi
}

verdict legit_bounce_stays "$bx/legit-bounce.eml" bounce \
    'bounce:dsn original <s1@home.example> sent' --store "$db"
verdict backscatter_proven "$bx/backscatter.eml" backscatter \
    'backscatter:dsn original <forged123@home.example> not sent' \
    --store "$db"
verdict older_than_store_is_unknown "$bx/old-bounce.eml" bounce-unknown \
    'not in the sent store, which does not cover its date' --store "$db"
verdict unknown_bounce_policy "$bx/old-bounce.eml" backscatter \
    'original <ancient@home.example>' --store "$db" \
    --unknown-bounce backscatter
verdict catch_all "$bx/catchall.eml" backscatter \
    "to x7q2@home.example, not one of the user's addresses" --store "$db"
verdict domain_case_insensitive "$bx/case-bounce.eml" bounce \
    'original <S2@home.EXAMPLE> sent' --store "$db"
verdict autoreply_to_sent_mail "$bx/autoreply.eml" bounce \
    'bounce:autoreply original <S2@home.example> sent' --store "$db"
verdict forged_self_mail "$bx/forged-self.eml" junk \
    'forged:from and to me@home.example' --store "$db"
verdict correspondent_not_junked "$bx/correspondent.eml" clean \
    'allow:correspondent' --store "$db"
verdict no_store_is_unknown "$bx/backscatter.eml" bounce-unknown \
    'original <forged123@home.example>'
verdict no_store_indicators_apply "$bx/correspondent.eml" junk \
    'url:evil.example'

# --sent-ids: the complete record, whatever the dates.
printf '# sent\n<s1@HOME.example>\n  ancient@home.example \n' > "$tmp/ids"
verdict sent_ids_legit "$bx/old-bounce.eml" bounce \
    'original <ancient@home.example> sent' --sent-ids "$tmp/ids"
printf 's1@home.example\n' > "$tmp/ids2"
verdict sent_ids_absent_is_proof_any_date "$bx/old-bounce.eml" backscatter \
    'original <ancient@home.example> not sent' --sent-ids "$tmp/ids2"
verdict sent_ids_absent_old "$bx/backscatter.eml" backscatter \
    'not sent' --sent-ids "$tmp/ids"

# explain: every candidate, where it was found, what the store said.
out=$("$bin" explain -r "$fx/rules" --store "$db" "$bx/legit-bounce.eml")
if printf '%s\n' "$out" | grep -q '^bounce: dsn' &&
    printf '%s\n' "$out" | grep -q '<s1@home.example> from .*: sent' &&
    printf '%s\n' "$out" | grep -q '^verdict: bounce'; then
	ok explain_bounce
else
	no explain_bounce "$out"
fi

# A missing store is a clear error, not an empty one.
"$bin" classify --store "$tmp/none.db" "$bx/legit-bounce.eml" \
    > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q 'none.db' "$tmp/err" && ok missing_store ||
    no missing_store "rc $rc: $(cat "$tmp/err")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
