# lib.sh: starting and stopping the scripted IMAP peer (peer.py), for the
# fault tests (tests/integration/test_faults.sh, test_watch_faults.sh).
# Sourced; sets PEER, PY (Debian's python3 first) and fx (the sweep
# fixtures).  Needs TOP.

. "$TOP/tests/proc.sh"
PEER=$TOP/tests/faults/peer.py
fx=$TOP/tests/fixtures/sweep
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
peerpid=

# The Message-IDs of the sweep fixtures.
HAM='<sweep-ham-1@friends.test>' LEGIT='<dsn-sweep-sent-1@mx.example.net>'
SPAM1='<sweep-spam-url@spam.example>' SPAM2='<sweep-spam-phone@cheap-loans.test>'
BS='<dsn-sweep-forged-9@mx.example.net>' SENT='<sweep-sent-1@example.org>'

# peer_run LIFETIME [PEER OPTIONS]: a peer for the test in $d, with the
# fault rules of $d/faults.json, its state in $d/state, its log in
# $d/peer.log and its output in $d/peer.out, holding the options'
# mailboxes.  Its pid in $peerpid, its port in $PORT; fails when no
# port came within 5 s.  peer_launch: the same, and Junk (\Junk) and
# Sent (\Sent, holding the sent fixture) exist before the options.
peer_launch() {
	_life=$1
	shift
	peer_run "$_life" --mailbox 'Junk:\Junk' --mailbox 'Sent:\Sent' \
	    --load "Sent:$fx/sent.eml" "$@"
}

peer_run() {
	_life=$1
	shift
	"$PY" "$PEER" --port-file "$d/port" --state "$d/state" \
	    --log "$d/peer.log" --lifetime "$_life" \
	    --faults "$d/faults.json" "$@" > "$d/peer.out" 2>&1 &
	peerpid=$!
	wait_file "$d/port" 5
	PORT=$(cat "$d/port" 2>/dev/null)
	[ -n "$PORT" ]
}

# peer_stop: stops the peer peer_launch started (it writes its state).
peer_stop() {
	[ -n "$peerpid" ] || return 0
	kill -TERM "$peerpid" 2>/dev/null
	wait "$peerpid" 2>/dev/null
	peerpid=
}
