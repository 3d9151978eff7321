#!/bin/sh
# test_learn.sh: learning from the Junk folder against a private Dovecot
# (tests/integration/dovecot.sh), with no rule lists at all, so that only
# what was learned can move mail:
#  (a) spam in Junk from two senders; a message sharing their URL domain
#      from a third sender arrives in INBOX: sweep moves it, and explain
#      names the learned entry and the Junk messages it came from;
#  (b) watch: the user moves a message from INBOX to Junk with IMAP MOVE
#      from a second client; within one learn_interval (10 s here) it is
#      learned (one message moved by hand is enough), and a similar
#      message arriving next is moved;
#  (c) a message moved back out of Junk (the user's rescue) unlearns its
#      indicators: a similar message then stays in INBOX;
#  (d) ham evidence wins: a URL and a number in Sent, also in two senders'
#      spam in Junk, are never active; a message carrying them stays.
#  (e) mail kept in INBOX past ham_grace (7 days; its INTERNALDATE set 20
#      days back by APPEND) is ham evidence: its URL, then in two senders'
#      spam in Junk, is never active; the same in mail of today, or in old
#      mail flagged $Junk, is learned;
#  (f) a correspondent's mail (alice wrote to them: Sent) in INBOX is ham
#      evidence: its URL, then in two senders' spam, is never active;
#  (b') watch with learn_interval 300: a user's move to Junk is learned
#      within 90 s (a STATUS of Junk every minute; polled, not timed).
# Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/integration/dovecot.sh"
. "$TOP/tests/proc.sh"
tmp=$(mktemp -d)
wpid=
trap '[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null; dovecot_stop
    rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0
db=$tmp/state/imapsift.db
mkdir -p "$tmp/norules" "$tmp/msg"

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# msg NAME FROM BODY: a message file $tmp/msg/NAME.eml, Message-ID
# <NAME@test.example>, dated now.
msg() {
	{
		printf 'From: <%s>\nTo: alice@example.org\n' "$2"
		printf 'Subject: %s\nDate: %s\n' "$1" "$(date -R)"
		printf 'Message-ID: <%s@test.example>\nMIME-Version: 1.0\n' "$1"
		printf 'Content-Type: text/plain; charset=us-ascii\n\n%s\n' "$3"
	} > "$tmp/msg/$1.eml"
	echo "$tmp/msg/$1.eml"
}

# append_dated BOX FILE DAYS [FLAGS]: APPENDs FILE to BOX with an
# INTERNALDATE DAYS days back (doveadm save cannot set one).
append_dated() {
	"$_dv_py" - "$IMAPS_PORT" "$CA_FILE" "$@" <<'PY'
import imaplib, ssl, sys, time
port, ca, box, path, days = sys.argv[1:6]
flags = sys.argv[6] if len(sys.argv) > 6 else None
ctx = ssl.create_default_context(cafile=ca)
m = imaplib.IMAP4_SSL("localhost", int(port), ssl_context=ctx)
m.login("alice", "secret")
data = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
t = time.time() - int(days) * 86400
typ, _ = m.append(box, flags, imaplib.Time2Internaldate(t), data)
m.logout()
sys.exit(0 if typ == "OK" else 1)
PY
}

# has BOX NAME: is <NAME@test.example> in BOX?
has() { dv_list alice "$1" | grep -qxF "<$2@test.example>"; }

sweep() {
	timeout 60 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/out" 2>&1
	rc=$?
}

# state KIND VALUE: the state imapsift learned gives the entry, or "".
state() {
	"$IMAPSIFT" learned --store "$db" --kind "$1" 2>/dev/null |
	    awk -F'\t' -v v="$2" '$3 == v { print $1 }'
}

# active_with DOMAIN: the active entries of DOMAIN or a host under it.
active_with() {
	"$IMAPSIFT" learned --store "$db" --active 2>/dev/null |
	    awk -F'\t' -v d=".$1" '"." $3 == d ||
	        substr($3, length($3) - length(d) + 1) == d'
}

if ! dovecot_start; then
	no start "dovecot_start failed"
	echo "$pass passed, $fail failed"
	exit 1
fi
dv_imapsift_conf "$tmp/config" alice "$tmp/state" "$tmp/norules" \
    'learn_interval = 10;'

# --- (a) spam in Junk teaches sweep ------------------------------------
dv_append alice Junk "$(msg a-junk1 win@first.example \
    'Claim your prize at http://claim.prizes-learned.example/now today.')"
dv_append alice Junk "$(msg a-junk2 luck@second.example \
    'Your reward waits: https://www.prizes-learned.example/go')"
dv_append alice INBOX "$(msg a-new offers@third.example \
    'A new reward at http://fresh.prizes-learned.example/x for you.')"
dv_append alice INBOX "$(msg a-ham friend@friends.example \
    'See you tomorrow at the station.')"
sweep
[ "$rc" -eq 0 ] && ok a_sweep || no a_sweep "exit $rc: $(cat "$tmp/out")"
has Junk a-new && ! has INBOX a-new && ok a_moved_by_learned ||
    no a_moved_by_learned "$(cat "$tmp/out")"
has INBOX a-ham && ok a_ham_stays || no a_ham_stays "$(cat "$tmp/out")"
grep -q 'moved uid .* to Junk: url:prizes-learned.example via http://fresh' \
    "$tmp/out" && ok a_reason || no a_reason "$(cat "$tmp/out")"
"$IMAPSIFT" explain -c "$tmp/config" --store "$db" "$tmp/msg/a-new.eml" \
    > "$tmp/explain" 2>&1
if grep -q 'learned: prizes-learned.example' "$tmp/explain" &&
    grep -q 'learned from: imap:alice/Junk/1 <a-junk1@test.example> from win@first.example' "$tmp/explain" &&
    grep -q 'learned from: imap:alice/Junk/2 <a-junk2@test.example> from luck@second.example' "$tmp/explain"; then
	ok a_explain_names_sources
else
	no a_explain_names_sources "$(cat "$tmp/explain")"
fi
[ "$(state url prizes-learned.example)" = active ] && ok a_learned_active ||
    no a_learned_active "$("$IMAPSIFT" learned --store "$db" 2>&1)"

# --- (c) a rescue unlearns ---------------------------------------------
# The user moves the message sweep junked back to INBOX.
dv_move alice Junk INBOX "<a-new@test.example>"
sweep
has INBOX a-new && ok c_rescued_stays || no c_rescued_stays "$(cat "$tmp/out")"
[ "$(state url prizes-learned.example)" = ham ] && ok c_unlearned ||
    no c_unlearned "state '$(state url prizes-learned.example)'"
dv_append alice INBOX "$(msg c-similar promo@fourth.example \
    'Even more at http://deal.prizes-learned.example/y')"
sweep
has INBOX c-similar && ok c_similar_stays ||
    no c_similar_stays "$(cat "$tmp/out")"

# --- (d) ham evidence wins ----------------------------------------------
dv_append alice Sent "$(msg d-sent alice@example.org \
    'Book at https://shared-venue.example/tickets or call +1 (202) 555-0187.')"
dv_append alice Junk "$(msg d-junk1 x@fifth.example \
    'Tickets https://shared-venue.example/cheap call +1 (202) 555-0187')"
dv_append alice Junk "$(msg d-junk2 y@sixth.example \
    'Cheap seats https://shared-venue.example/x +1 (202) 555-0187')"
dv_append alice INBOX "$(msg d-new z@seventh.example \
    'Seats left at https://shared-venue.example/last, +1 (202) 555-0187')"
sweep
has INBOX d-new && ok d_ham_wins || no d_ham_wins "$(cat "$tmp/out")"
s1=$(state url shared-venue.example) s2=$(state phone 12025550187)
[ "$s1" != active ] && [ "$s2" != active ] && ok d_never_active ||
    no d_never_active "url '$s1', phone '$s2'"

# --- (e) mail kept in INBOX past the grace is ham evidence ---------------
append_dated INBOX "$(msg e-kept club@kept.example \
    'Minutes of the meeting: http://old-kept.example/minutes')" 20 &&
    ok e_appended_dated || no e_appended_dated "APPEND failed"
append_dated INBOX "$(msg e-flagged club@kept.example \
    'Read it at http://flag-kept.example/offer')" 20 '($Junk)'
dv_append alice INBOX "$(msg e-young club@kept.example \
    'Pictures: http://young-kept.example/pics')"
sweep
has INBOX e-kept && has INBOX e-young && ok e_kept_stay ||
    no e_kept_stay "$(cat "$tmp/out")"
for u in old-kept flag-kept young-kept; do
	dv_append alice Junk "$(msg e-junk1-$u p@spam1.example \
	    "Cheap pills http://www.$u.example/buy now")"
	dv_append alice Junk "$(msg e-junk2-$u q@spam2.example \
	    "Cheap pills http://shop.$u.example/buy today")"
done
sweep
a1=$(active_with old-kept.example)
[ -z "$a1" ] && ok e_kept_never_active || no e_kept_never_active "$a1"
[ "$(state url young-kept.example)" = active ] && ok e_young_learned ||
    no e_young_learned "state '$(state url young-kept.example)'"
[ "$(state url flag-kept.example)" = active ] && ok e_flagged_learned ||
    no e_flagged_learned "state '$(state url flag-kept.example)'"
dv_append alice INBOX "$(msg e-new r@spam3.example \
    'The minutes again http://new.old-kept.example/m')"
sweep
has INBOX e-new && ok e_kept_url_stays || no e_kept_url_stays "$(cat "$tmp/out")"

# --- (f) a correspondent's mail is ham evidence -------------------------
{
	printf 'From: <alice@example.org>\nTo: <pal@corr.example>\n'
	printf 'Subject: dinner\nDate: %s\n' "$(date -R)"
	printf 'Message-ID: <f-sent@test.example>\nMIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=us-ascii\n\nDinner on Friday?\n'
} > "$tmp/msg/f-sent.eml"
dv_append alice Sent "$tmp/msg/f-sent.eml"
sweep
dv_append alice INBOX "$(msg f-pal pal@corr.example \
    'Yes! The table is booked: http://pal-club.example/booking')"
sweep
has INBOX f-pal && ok f_pal_stays || no f_pal_stays "$(cat "$tmp/out")"
dv_append alice Junk "$(msg f-junk1 s@spam4.example \
    'Win big http://win.pal-club.example/now')"
dv_append alice Junk "$(msg f-junk2 t@spam5.example \
    'Win more http://more.pal-club.example/now')"
sweep
a1=$(active_with pal-club.example)
[ -z "$a1" ] && ok f_corr_never_active || no f_corr_never_active "$a1"

# --- (b) watch learns the user's move ------------------------------------
dv_append alice INBOX "$(msg b-first sales@eighth.example \
    'Limited stock at http://gadget-hand.example/buy while it lasts.')"
"$IMAPSIFT" watch -f -c "$tmp/config" > "$tmp/log" 2>&1 &
wpid=$!
# until COMMAND...: polls COMMAND every 0.5 s, for 40 s at most.
until_ok() {
	i=0
	while [ $i -lt 80 ]; do
		"$@" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
until_ok grep -q 'alice: connected' "$tmp/log" || no b_started "$(cat "$tmp/log")"
# The first pass judged b-first (clean, left in INBOX): the status line
# (SIGUSR1) counts it.
b_seen() {
	kill -USR1 "$wpid" 2>/dev/null
	sleep 0.2
	grep -Eq 'alice: idle for [0-9]+s, [1-9][0-9]* seen' "$tmp/log"
}
until_ok b_seen || no b_first_pass "$(cat "$tmp/log")"
uid=$(dv_uids alice INBOX | awk -F'\t' '$2 == "<b-first@test.example>" { print $1 }')
imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost alice secret \
    'SELECT INBOX' "UID MOVE $uid Junk" > "$tmp/talk" 2>&1 &&
    ok b_user_moved || no b_user_moved "$(cat "$tmp/talk")"
b_active() { [ "$(state url gadget-hand.example)" = active ]; }
until_ok b_active && ok b_learned_by_hand ||
    no b_learned_by_hand "$("$IMAPSIFT" learned --store "$db" 2>&1 | grep gadget) $(tail -5 "$tmp/log")"
dv_append alice INBOX "$(msg b-next promo@ninth.example \
    'Back in stock: http://gadget-hand.example/new')"
b_moved() { has Junk b-next; }
until_ok b_moved && ok b_similar_moved ||
    no b_similar_moved "$(tail -5 "$tmp/log")"
term_wait "$wpid"
wpid=

# --- (b') watch, learn_interval 300: a move is learned within 90 s ------
stop_watch() {
	term_wait "$wpid"
	wpid=
}
dv_imapsift_conf "$tmp/config300" alice "$tmp/state" "$tmp/norules" \
    'learn_interval = 300;'
dv_append alice INBOX "$(msg b2-first sales@tenth.example \
    'Fresh stock at http://gizmo-peek.example/buy while it lasts.')"
"$IMAPSIFT" watch -f -c "$tmp/config300" > "$tmp/log" 2>&1 &
wpid=$!
until_ok grep -q 'alice: connected' "$tmp/log" ||
    no b2_started "$(cat "$tmp/log")"
until_ok b_seen || no b2_first_pass "$(cat "$tmp/log")"
uid=$(dv_uids alice INBOX | awk -F'\t' '$2 == "<b2-first@test.example>" { print $1 }')
imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost alice secret \
    'SELECT INBOX' "UID MOVE $uid Junk" > "$tmp/talk" 2>&1 &&
    ok b2_user_moved || no b2_user_moved "$(cat "$tmp/talk")"
b2_active() { [ "$(state url gizmo-peek.example)" = active ]; }
# until90 COMMAND...: polls COMMAND every 0.5 s, for 90 s at most.
until90() {
	i=0
	while [ $i -lt 180 ]; do
		"$@" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
until90 b2_active && ok b2_learned_within_90s ||
    no b2_learned_within_90s "$(tail -5 "$tmp/log")"
stop_watch

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
