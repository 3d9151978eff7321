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
# Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/integration/dovecot.sh"
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
kill -TERM "$wpid"
i=0
while kill -0 "$wpid" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
wpid=

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
