#!/bin/sh
# test_quirks.sh: `imapsift sweep` against servers that are not wrong but
# odd (issue 16, "Server flavours"), played by the scripted peer
# tests/faults/peer.py (plaintext on 127.0.0.1, tls = "none"):
#   - lower-case special-use attributes (\junk, \sent: Cyrus lists them so)
#     on mailboxes whose names no client uses, so only the attribute can
#     find them;
#   - NAMESPACE and ID advertised but answered BAD (and, again, NO), and
#     ENABLE answered likewise: none of it may fail the sweep;
#   - no [UIDNEXT] in SELECT/EXAMINE and no UIDNEXT in STATUS: the sweep
#     is still incremental (a second sweep moves nothing, a third moves
#     only the mail that came in between, nothing is lost);
#   - no SPECIAL-USE at all: Junk found by name ("Spam"), Sent by name
#     ("Sent Items"), no second "Junk" created.
# Each scenario checks the peer's final state (exact mailbox of every
# Message-ID, each once) and that the second sweep sent no MOVE, COPY,
# STORE or EXPUNGE.  Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/faults/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-quirks.XXXXXX")
trap '[ -n "$peerpid" ] && kill "$peerpid" 2>/dev/null
    [ -n "${QUIRKS_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1: $2"; }

LATE='<sweep-spam-late@spam.example>'

# start NAME SENTBOX [PEER OPTIONS]: a fresh peer in $d holding INBOX
# (ham, two spams, a real bounce, a forged one) and SENTBOX (the sent
# message) plus the options' mailboxes, armed with the fault rules in
# $FAULTS (the body of a JSON list; none by default); its port in $PORT.
# peer_run, not peer_launch: that one adds Junk and Sent with upper-case
# attributes.
start() {
	name=$1 sentbox=$2
	shift 2
	d=$tmp/$name
	mkdir -p "$d/in"
	printf '[%s]\n' "${FAULTS:-}" > "$d/faults.json"
	for f in ham spam-url spam-phone bounce-legit bounce-forged; do
		set -- "$@" --load "INBOX:$fx/$f.eml"
	done
	peer_run 60 --inject-dir "$d/in" --load "$sentbox:$fx/sent.eml" "$@" ||
	    { no "$name" "peer did not start: $(cat "$d/peer.out")"; return 1; }
	umask 077
	{
		printf 'store = "%s";\nrules = [ "%s" ];\n' "$d/store" \
		    "$fx/rules"
		printf 'accounts = ( {\n  name = "alice";\n'
		printf '  host = "localhost";\n  port = %s;\n' "$PORT"
		printf '  tls = "none";\n  user = "alice";\n  password = "secret";\n'
		printf '  addresses = [ "alice@example.org" ];\n  timeout = 5;\n'
		printf '} );\n'
	} > "$d/config"
	umask 022
}

# sweep: one sweep, output appended to $d/out, status in $rc.
sweep() {
	timeout 30 "$IMAPSIFT" sweep -c "$d/config" >> "$d/out" 2>&1
	rc=$?
}

content() { cut -f 1,2 "$d/state" | tr '\t' ' ' | sort; }

# layout NAME JUNK SENTBOX [EXTRA LINE...]: the state is exactly that of
# a good sweep with Junk called JUNK (and the extra lines).
layout() {
	nm=$1 junk=$2 sb=$3
	shift 3
	want=$(for l in "INBOX $HAM" "INBOX $LEGIT" "$junk $SPAM1" \
	    "$junk $SPAM2" "Backscatter $BS" "$sb $SENT" "$@"; do
		echo "$l"
	done | sort)
	if [ "$want" = "$(content)" ]; then
		ok "$nm"
	else
		no "$nm" "have $(content | tr '\n' '|'); stderr: $(tail -n 5 "$d/out" | tr '\n' '|')"
	fi
}

# quiet NAME FROMLINE: the peer's log after line FROMLINE has no command
# that changes mail.
quiet() {
	moves=$(tail -n "+$(($2 + 1))" "$d/peer.log" |
	    grep -E ' < [^ ]+ (UID )?(MOVE|COPY|STORE|EXPUNGE|APPEND)' )
	if [ -z "$moves" ]; then
		ok "$1"
	else
		no "$1" "it sent: $(echo "$moves" | tr '\n' '|')"
	fi
}

# twice NAME JUNK SENTBOX: sweep, the layout, a second sweep that
# changes nothing.
twice() {
	sweep
	if [ "$rc" -ne 0 ]; then
		no "$1: first sweep" "exit $rc: $(tail -n 5 "$d/out" | tr '\n' '|')"
	else
		ok "$1: first sweep"
	fi
	layout "$1: every message where it belongs, once" "$2" "$3"
	before=$(wc -l < "$d/peer.log")
	sweep
	if [ "$rc" -ne 0 ]; then
		no "$1: second sweep" "exit $rc: $(tail -n 5 "$d/out" | tr '\n' '|')"
	else
		ok "$1: second sweep"
	fi
	quiet "$1: second sweep moves nothing" "$before"
	layout "$1: nothing lost after the second sweep" "$2" "$3"
}

# --- lower-case special-use ---------------------------------------------------
if start lower Outgoing --mailbox 'Quarantine:\junk' \
    --mailbox 'Outgoing:\sent'; then
	twice "lower-case \\junk \\sent" Quarantine Outgoing
	if grep -q ' < [^ ]* CREATE .*Junk' "$d/peer.log"; then
		no "lower-case: no second Junk" "$(grep ' CREATE ' "$d/peer.log")"
	else
		ok "lower-case: no second Junk"
	fi
	peer_stop
fi

# --- BAD / NO to commands the server does not know ----------------------------
for reply in BAD NO; do
	if start "unknown-$reply" Sent --mailbox 'Junk:\Junk' \
	    --mailbox 'Sent:\Sent' --caps-add NAMESPACE --caps-add ID \
	    --unknown NAMESPACE --unknown ID --unknown ENABLE \
	    --unknown-reply "$reply"; then
		twice "$reply to NAMESPACE/ID/ENABLE" Junk Sent
		peer_stop
	fi
done

# A BAD that is not answered in step (the NOOP that checks it is never
# answered: the connection drops): the session is given up, the sweep
# says so, exits 75 and moves nothing; the next one (the fault fired
# once) sweeps normally.
if FAULTS='{"cmd": "NOOP", "action": "drop_before"}' start unknown-dead \
    Sent --mailbox 'Junk:\Junk' --mailbox 'Sent:\Sent' \
    --caps-add NAMESPACE --unknown NAMESPACE; then
	sweep
	if [ "$rc" -eq 75 ] && grep -q 'NAMESPACE' "$d/out"; then
		ok "BAD out of step: sweep gives up, names NAMESPACE"
	else
		no "BAD out of step: sweep gives up, names NAMESPACE" \
		    "exit $rc: $(tr '\n' '|' < "$d/out")"
	fi
	want=$(for i in "$HAM" "$LEGIT" "$SPAM1" "$SPAM2" "$BS"; do
		echo "INBOX $i"; done; echo "Sent $SENT")
	if [ "$(echo "$want" | sort)" = "$(content)" ]; then
		ok "BAD out of step: nothing moved"
	else
		no "BAD out of step: nothing moved" "have $(content | tr '\n' '|')"
	fi
	: > "$d/out"
	sweep
	[ "$rc" -eq 0 ] && ok "BAD out of step: next sweep runs" ||
	    no "BAD out of step: next sweep runs" "exit $rc: $(tr '\n' '|' < "$d/out")"
	layout "BAD out of step: next sweep sorts" Junk Sent
	peer_stop
fi

# --- no UIDNEXT in SELECT or STATUS -------------------------------------------
if start nouidnext Sent --mailbox 'Junk:\Junk' --mailbox 'Sent:\Sent' \
    --no-uidnext; then
	twice "no UIDNEXT" Junk Sent
	# New mail after the second sweep: only it is classified and moved.
	cp "$fx/spam-late.eml" "$d/in/.late" && mv "$d/in/.late" "$d/in/late.eml"
	_i=0
	while ! grep -q 'injected' "$d/peer.log" && [ $_i -lt 100 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	before=$(wc -l < "$d/peer.log")
	sweep
	moved=$(tail -n "+$((before + 1))" "$d/peer.log" |
	    grep -cE ' < [^ ]+ UID (MOVE|COPY) ')
	if [ "$rc" -eq 0 ] && [ "$moved" -eq 1 ]; then
		ok "no UIDNEXT: third sweep moves only the new spam"
	else
		no "no UIDNEXT: third sweep moves only the new spam" \
		    "exit $rc, $moved MOVE/COPY: $(tail -n 5 "$d/out" | tr '\n' '|')"
	fi
	layout "no UIDNEXT: new spam in Junk, nothing lost" Junk Sent \
	    "Junk $LATE"
	peer_stop
fi

# --- no SPECIAL-USE at all ----------------------------------------------------
if start nospecialuse 'Sent Items' --caps-drop SPECIAL-USE \
    --mailbox Spam --mailbox 'Sent Items'; then
	twice "no SPECIAL-USE" Spam 'Sent Items'
	if grep -q ' < [^ ]* CREATE .*Junk' "$d/peer.log"; then
		no "no SPECIAL-USE: no second Junk" "$(grep ' CREATE ' "$d/peer.log")"
	else
		ok "no SPECIAL-USE: no second Junk"
	fi
	peer_stop
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
