#!/bin/sh
# test_watch_faults.sh: `imapsift watch` against a broken IMAP server, the
# scripted peer tests/faults/peer.py (issue 5, "Fault tests with a
# scripted IMAP peer").  Each scenario starts a fresh peer (plaintext on
# 127.0.0.1, tls = "none") holding INBOX, Junk and Sent, arms one fault
# (it fires once unless said otherwise), runs the daemon, delivers mail
# while it watches (the peer's --inject-dir: the message lands in INBOX
# and "* N EXISTS" goes to the idling session) and checks
#   - the log lines naming the fault and the reconnection;
#   - the peer's final state: every Message-ID exactly once, spam in Junk
#     (nothing lost, nothing doubled);
#   - SIGTERM: exit 0 within 5 s.
# Scenarios: a server that stops answering (the IDLE itself, the DONE
# that ends it, a FETCH; timeout = 1 s), SIGTERM while the server stalls
# (timeout = 30 s: still exit 0 within 5 s), BYE during IDLE and instead
# of "+ idling", the connection closed mid-IDLE, untagged data before
# "+ idling" and in the same read as it, the connection dropped in the
# middle of / right after a MOVE (and around a COPY, without MOVE), IDLE
# not advertised and IDLE refused (polling: poll_interval = 10, the
# minimum the config allows, so those two take about 10 s each), a dead
# account beside a live one.  Every wait is a bounded polling loop: the cases assert what
# happened, not how fast.
# Environment: IMAPSIFT (the binary), TOP; WFAULTS_ONLY=REGEX runs only
# the scenarios whose name matches; WFAULTS_KEEP=1 keeps the directory.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/faults/lib.sh"
. "$TOP/tests/proc.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-wfaults.XXXXXX")
peerpid='' wpid=''
trap '[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null
    [ -n "$peerpid" ] && kill "$peerpid" 2>/dev/null
    [ -n "${WFAULTS_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1: $2"; }


# --- the peer and the daemon ---------------------------------------------------
# peer_start NAME FAULTS [PEER OPTIONS]: a fresh peer in $d, its port in
# $PORT.  INBOX holds the files of $LOADS (default: the ham), Sent the
# sent message; FAULTS is the body of the JSON list ("" for none).
peer_start() {
	name=$1 faults=$2
	shift 2
	d=$tmp/$name
	mkdir -p "$d/in"
	printf '[%s]\n' "$faults" > "$d/faults.json"
	for f in ${LOADS:-ham}; do
		set -- "$@" --load "INBOX:$fx/$f.eml"
	done
	peer_launch 60 --inject-dir "$d/in" "$@"
}

# account NAME PORT [LINE...]: one account block.
account() {
	printf '{\n  name = "%s";\n  host = "localhost";\n  port = %s;\n' \
	    "$1" "$2"
	printf '  tls = "none";\n  user = "alice";\n  password = "secret";\n'
	printf '  addresses = [ "alice@example.org" ];\n'
	printf '  timeout = %s;\n  harvest_interval = 3600;\n' "${TIMEOUT:-2}"
	# Cued by command counts: no Junk harvest (test_learn.sh).
	printf '  learn = false;\n'
	shift 2
	for l in "$@"; do
		printf '  %s\n' "$l"
	done
	printf '}'
}

# conf [LINE...]: $d/config, the account alice on the peer ($DEAD: a
# port nobody listens on, for an account "dead" before it).
conf() {
	umask 077
	{
		printf 'store = "%s";\nrules = [ "%s" ];\n' "$d/store" \
		    "$fx/rules"
		printf 'accounts = ( '
		if [ -n "${DEAD:-}" ]; then
			account dead "$DEAD"
			printf ', '
		fi
		account alice "$PORT" "$@"
		printf ' );\n'
	} > "$d/config"
	umask 022
}

start_watch() {
	"$IMAPSIFT" watch -f -c "$d/config" > "$d/log" 2>&1 &
	wpid=$!
}

# stop_watch NAME: SIGTERM; the daemon must be gone within 5 s, status 0.
stop_watch() {
	[ -n "$wpid" ] || return 0
	term_wait "$wpid"
	rc=$?
	wpid=
	case $rc in
	0) ok "$1: SIGTERM exits 0" ;;
	124) no "$1: SIGTERM" "still running 5 s after SIGTERM; log: $(tail \
	    -n 4 "$d/log" | tr '\n' '|')" ;;
	*) no "$1: SIGTERM exits 0" "exit $rc; log: $(logtail)" ;;
	esac
}

# within SECS CMD...: runs CMD every 0.1 s until it succeeds (0) or SECS
# have passed (1).  A bound, never a timing assertion.
within() {
	_s=$1; shift
	_i=0
	while [ $_i -lt $((_s * 10)) ]; do
		"$@" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	"$@"
}
# expect NAME SECS CMD...: ok NAME once CMD succeeds within SECS, else
# not ok with the end of the daemon's log.
expect() {
	_en=$1; shift
	if within "$@"; then
		ok "$_en"
	else
		no "$_en" "$(logtail)"
	fi
}
# in_log PATTERN / in_peer PATTERN: the daemon's / the peer's log has it.
in_log() { grep -Eq -- "$1" "$d/log" 2>/dev/null; }
in_peer() { grep -Eq -- "$1" "$d/peer.log"; }
# atleast N FILE PATTERN: FILE has N lines matching PATTERN or more.
atleast() { [ "$(grep -Ec -- "$3" "$2")" -ge "$1" ]; }
alive() { kill -0 "$wpid" 2>/dev/null; }
logtail() { tail -n 6 "$d/log" | tr '\n' '|'; }

# mk ID [FIXTURE]: $d/ID.eml, FIXTURE (default spam-url) as Message-ID <ID>.
mk() {
	sed "s/^Message-ID: .*/Message-ID: <$1>/" "$fx/${2:-spam-url}.eml" \
	    > "$d/$1.eml"
}
# inject ID [FIXTURE]: new mail in INBOX while the daemon watches.
inject() {
	mk "$@"
	cp "$d/$1.eml" "$d/in/.$1.tmp"
	mv "$d/in/.$1.tmp" "$d/in/$1.eml"
}

# content: "MAILBOX MESSAGE-ID" lines of the peer's state, sorted.
content() { cut -f 1,2 "$d/state" | tr '\t' ' ' | sort; }
# is LINE...: the peer's state is exactly these lines.
is() { [ "$(printf '%s\n' "$@" | sort)" = "$(content)" ]; }
# exact NAME LINE...: asserts it (after waiting, bounded, for it).
exact() {
	_nm=$1; shift
	within 15 is "$@"
	if is "$@"; then
		ok "$_nm"
	else
		no "$_nm" "state: $(content | tr '\n' '|'); log: $(logtail)"
	fi
}
# fired FAULT: the peer log says the fault fired.
fired() {
	if in_peer "fault $1"; then
		ok "$name: the fault fired"
	else
		no "$name: the fault fired" "no 'fault $1' in the peer log"
	fi
}
# skip NAME: 0 when WFAULTS_ONLY leaves NAME out.
skip() {
	[ -n "${WFAULTS_ONLY:-}" ] && ! echo "$1" | grep -Eq "$WFAULTS_ONLY"
}
# begin NAME FAULTS [PEER OPTIONS] [-- CONFIG LINES]: peer, config, daemon.
begin() {
	_nm=$1 _js=$2
	shift 2
	_po=''
	while [ $# -gt 0 ] && [ "$1" != -- ]; do _po="$_po $1"; shift; done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086
	if ! peer_start "$_nm" "$_js" $_po; then
		no "$_nm" "the peer did not start: $(cat "$d/peer.out")"
		return 1
	fi
	conf "$@"
	start_watch
}
# connected N: the daemon's log has N "alice: connected" lines or more.
connected() { atleast "$1" "$d/log" 'alice: connected'; }
# idling N: the peer has seen N IDLEs take effect or more.
idling() { atleast "$1" "$d/peer.log" '^[0-9.]+ C[0-9]+ idling$'; }

# --- 1a. the server never answers the DONE that ends an IDLE, or the IDLE --------
for spec in "stall_idle_done:idle_stall:idling 1" \
    "stall_idle_start:stall:in_peer 'fault stall on IDLE'"; do
	name=${spec%%:*} r=${spec#*:}
	act=${r%%:*} until=${r#*:}
	skip "$name" && continue
	TIMEOUT=1
	if begin "$name" "{\"cmd\": \"IDLE\", \"action\": \"$act\"}"; then
		eval "within 10 $until" ||
		    no "$name: idle" "never idled: $(logtail)"
		inject "watch-$name@spam.example"
		if within 10 in_log 'alice: connection lost: .*(timed out|time)'
		then
			ok "$name: timeout logged"
		else
			no "$name: timeout logged" "$(logtail)"
		fi
		expect "$name: reconnected" 15 connected 2
		fired "$act"
		exact "$name: spam in Junk, nothing lost or doubled" \
		    "INBOX $HAM" "Junk <watch-$name@spam.example>" \
		    "Sent $SENT"
		stop_watch "$name"
	fi
	peer_stop
	TIMEOUT=''
done

# --- 1b. the server never answers a FETCH (the catch-up pass) -----------------
name=stall_fetch
if ! skip $name; then
	TIMEOUT=1 LOADS="ham spam-url"
	if begin $name '{"cmd": "UID FETCH", "match": "BODY\\.PEEK\\[\\]", "action": "stall"}'
	then
		if within 10 in_log 'alice: connection lost: .*(timed out|time)'
		then
			ok "$name: timeout logged"
		else
			no "$name: timeout logged" "$(logtail)"
		fi
		expect "$name: reconnected" 15 connected 2
		fired stall
		within 10 idling 1
		inject watch-stall-2@spam.example spam-phone
		exact "$name: spam in Junk, nothing lost or doubled" \
		    "INBOX $HAM" "Junk <sweep-spam-url@spam.example>" \
		    "Junk <watch-stall-2@spam.example>" "Sent $SENT"
		stop_watch "$name"
	fi
	peer_stop
	TIMEOUT='' LOADS=''
fi

# --- 1c. SIGTERM while the server is not answering (timeout = 30 s) ----------
# The DONE that leaves IDLE on SIGTERM is never answered / a FETCH of the
# catch-up pass is never answered: still exit 0 within 5 s, nothing lost.
for spec in \
    "term_while_done_stalls:ham:{\"cmd\": \"IDLE\", \"times\": 0, \"action\": \"idle_stall\"}" \
    "term_while_fetch_stalls:ham spam-url:{\"cmd\": \"UID FETCH\", \"match\": \"BODY\\\\.PEEK\\\\[\\\\]\", \"times\": 0, \"action\": \"stall\"}"
do
	name=${spec%%:*} r=${spec#*:}
	skip "$name" && continue
	LOADS=${r%%:*} js=${r#*:}
	TIMEOUT=30
	if begin "$name" "$js"; then
		expect "$name: the server stalls" 10 \
		    in_peer 'C1 (idling|stalling)'
		stop_watch "$name"
		if [ "$LOADS" = ham ]; then
			exact "$name: nothing lost" "INBOX $HAM" "Sent $SENT"
		else
			exact "$name: nothing lost" "INBOX $HAM" \
			    "INBOX <sweep-spam-url@spam.example>" "Sent $SENT"
		fi
	fi
	peer_stop
	TIMEOUT='' LOADS=''
done

# --- 2. BYE during IDLE ---------------------------------------------------------------
name=bye_during_idle
if ! skip $name; then
	if begin $name '{"cmd": "IDLE", "action": "idle_bye", "delay": 0.3, "text": "server shutting down for maintenance"}'
	then
		if within 10 in_log 'alice: connection lost'; then
			ok "$name: connection lost logged"
		else
			no "$name: connection lost logged" "$(logtail)"
		fi
		# mail that arrives while the daemon is away
		inject watch-bye-down@spam.example
		if in_log 'alice: connection lost: .*BYE.*maintenance'; then
			ok "$name: the BYE text is logged"
		else
			no "$name: the BYE text is logged" \
			    "$(grep 'connection lost' "$d/log" | head -n 1)"
		fi
		expect "$name: reconnected" 15 connected 2
		fired idle_bye
		# ...and mail that arrives once it is back in IDLE
		within 10 idling 2
		inject watch-bye-after@spam.example spam-phone
		exact "$name: mail before and after the BYE in Junk" \
		    "INBOX $HAM" "Junk <watch-bye-down@spam.example>" \
		    "Junk <watch-bye-after@spam.example>" "Sent $SENT"
		stop_watch "$name"
	fi
	peer_stop
fi

# --- 2b. BYE instead of "+ idling"; the connection closed mid-IDLE ----------
for spec in \
    "bye_instead_of_idling:1:{\"cmd\": \"IDLE\", \"action\": \"bye\", \"text\": \"too busy to idle today\"}" \
    "drop_during_idle:2:{\"cmd\": \"IDLE\", \"action\": \"idle_drop\", \"delay\": 0.3}"
do
	name=${spec%%:*} r=${spec#*:}
	idles=${r%%:*} js=${r#*:}
	skip "$name" && continue
	if begin "$name" "$js"; then
		expect "$name: connection lost logged" 10 \
		    in_log 'alice: connection lost'
		if [ "$name" = bye_instead_of_idling ]; then
			if in_log 'alice: connection lost: .*BYE.*too busy'; then
				ok "$name: the BYE text is logged"
			else
				no "$name: the BYE text is logged" \
				    "$(grep 'connection lost' "$d/log" | head -n 1)"
			fi
		fi
		expect "$name: reconnected" 15 connected 2
		act=${js#*action\": \"}
		fired "${act%%\"*}"
		within 10 idling "$idles"
		inject "watch-$name@spam.example"
		exact "$name: mail after the reconnect in Junk" \
		    "INBOX $HAM" "Junk <watch-$name@spam.example>" "Sent $SENT"
		stop_watch "$name"
	fi
	peer_stop
done

# --- 3. untagged data before "+ idling", and in the same read as it ---------------
# The new message arrives just as the IDLE starts: "* 2 EXISTS" comes
# before the continuation (libetpan 1.9.4's mailimap_idle stalls there),
# or in the same TCP segment right after it (where poll() cannot see it:
# it is already in libetpan's buffer).  Nothing else will ever wake the
# daemon (idle_refresh is at least 60 s): it must act on what it got,
# without a reconnect.
for spec in "exists_before_idling:idle_untagged" \
    "exists_with_idling:idle_after"; do
	name=${spec%%:*} act=${spec#*:}
	skip "$name" && continue
	d=$tmp/$name
	mkdir -p "$d"
	mk "watch-$act@spam.example"
	if begin "$name" "{\"cmd\": \"IDLE\", \"action\": \"$act\", \"add\": \"$d/watch-$act@spam.example.eml\"}"
	then
		expect "$name: the fault fired" 10 in_peer "fault $act"
		if within 20 in_peer "UID MOVE .*Junk" && alive; then
			ok "$name: moved while the daemon runs"
		else
			no "$name: moved while the daemon runs" "stalled? \
alive=$(alive && echo yes || echo no) log: $(logtail)"
		fi
		exact "$name: spam in Junk, nothing lost or doubled" \
		    "INBOX $HAM" "Junk <watch-$act@spam.example>" "Sent $SENT"
		if in_log 'connection lost' || ! connected 1 || connected 2
		then
			no "$name: no reconnect needed" "$(logtail)"
		else
			ok "$name: no reconnect needed"
		fi
		stop_watch "$name"
	fi
	peer_stop
done

# --- 4. the connection dropped in the middle of / right after a MOVE -------------
# drop_mid: the peer has done the MOVE and sends 20 bytes of its reply;
# drop_after: the whole reply, then EOF.  Without MOVE: the COPY is made,
# the connection dies before the originals are deleted.  After recovery
# every Message-ID must be there exactly once, the spam in Junk.
for spec in \
    "drop_mid_move:watch:{\"cmd\": \"UID MOVE\", \"action\": \"drop_mid\", \"at\": 20}" \
    "drop_after_move:watch:{\"cmd\": \"UID MOVE\", \"action\": \"drop_after\"}" \
    "drop_mid_move_catchup:start:{\"cmd\": \"UID MOVE\", \"action\": \"drop_mid\", \"at\": 20}" \
    "nomove_drop_after_copy:watch:{\"cmd\": \"UID COPY\", \"action\": \"drop_after\"}:--no-move" \
    "nomove_drop_before_expunge:watch:{\"cmd\": \"UID EXPUNGE\", \"action\": \"drop_before\"}:--no-move"
do
	name=${spec%%:*} r=${spec#*:}
	when=${r%%:*} r=${r#*:}
	js=${r%%\}*}\} opts=${r#*\}}
	opts=${opts#:}
	skip "$name" && continue
	if [ "$when" = start ]; then
		LOADS="ham spam-url spam-phone"
		S1='<sweep-spam-url@spam.example>'
		S2='<sweep-spam-phone@cheap-loans.test>'
	else
		LOADS=
		S1="<watch-$name-1@spam.example>"
		S2="<watch-$name-2@cheap-loans.test>"
	fi
	# shellcheck disable=SC2086
	if begin "$name" "$js" $opts; then
		if [ "$when" = watch ]; then
			within 10 idling 1 ||
			    no "$name: idle" "never idled: $(logtail)"
			inject "watch-$name-1@spam.example"
			inject "watch-$name-2@cheap-loans.test" spam-phone
		fi
		expect "$name: connection lost logged" 10 \
		    in_log 'alice: connection lost'
		expect "$name: reconnected" 15 connected 2
		act=${js#*action\": \"}
		fired "${act%%\"*}"
		# settled: back in IDLE after the recovery pass
		within 15 idling 2
		exact "$name: after recovery each message once, spam in Junk" \
		    "INBOX $HAM" "Junk $S1" "Junk $S2" "Sent $SENT"
		stop_watch "$name"
	fi
	peer_stop
	LOADS=
done

# --- 5. IDLE not advertised / refused: polling --------------------------------------
# poll_interval = 10 is the minimum the config allows (conf/conf-keys.c):
# each case waits up to one interval for the poll.
# poll_case NAME LOG-PATTERN FAULTS [PEER OPTIONS]
poll_case() {
	name=$1 pat=$2 js=$3
	shift 3
	skip "$name" && return
	if begin "$name" "$js" "$@" -- 'poll_interval = 10;'; then
		if within 10 in_log "alice: .*$pat"; then
			ok "$name: logged"
		else
			no "$name: logged" "$(logtail)"
		fi
		# in the polling state (after the first pass): SIGUSR1 says so
		_i=0
		while [ $_i -lt 20 ]; do
			kill -USR1 "$wpid" 2>/dev/null
			within 1 in_log 'alice: polling for' && break
			_i=$((_i + 1))
		done
		noops=$(grep -c ' NOOP$' "$d/peer.log")
		inject "watch-$name@spam.example"
		if within 25 in_peer "UID MOVE .*Junk"; then
			ok "$name: moved on the next poll"
		else
			no "$name: moved on the next poll" "$(logtail)"
		fi
		if atleast $((noops + 1)) "$d/peer.log" ' NOOP$'; then
			ok "$name: found by a NOOP poll"
		else
			no "$name: found by a NOOP poll" \
			    "no NOOP before the move"
		fi
		exact "$name: spam in Junk, nothing lost or doubled" \
		    "INBOX $HAM" "Junk <watch-$name@spam.example>" \
		    "Sent $SENT"
		stop_watch "$name"
	fi
	peer_stop
}
poll_case no_idle_polling 'IDLE not offered: polling' '' --no-idle
poll_case idle_refused_polling 'IDLE refused.*polling' \
    '{"cmd": "IDLE", "times": 0, "action": "no", "text": "not today"}'

# --- 6. a dead account beside a live one -----------------------------------------
name=dead_beside_live
if ! skip $name; then
	DEAD=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	LOADS="ham spam-url"
	if begin $name ''; then
		expect "$name: dead account logged" 10 \
		    in_log 'dead: .*(refused|connect)'
		within 10 idling 1
		inject watch-live@spam.example spam-phone
		exact "$name: the live account moves" \
		    "INBOX $HAM" "Junk <sweep-spam-url@spam.example>" \
		    "Junk <watch-live@spam.example>" "Sent $SENT"
		stop_watch "$name"
	fi
	peer_stop
	DEAD='' LOADS=''
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
