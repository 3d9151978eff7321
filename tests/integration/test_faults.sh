#!/bin/sh
# test_faults.sh: `imapsift sweep` against a lying or broken IMAP server,
# the scripted peer tests/faults/peer.py (issue 6: "A lying or broken
# server" and the TLS bullets).  Each fault scenario starts a fresh peer
# holding INBOX (ham, two spams, a real bounce, a forged bounce), Sent
# and Junk, runs a sweep with the fault armed (it fires once), and checks
#   - the exit status (0 ok, 1 refused/unusable reply, 3 login refused,
#     75 temporary) and that it was not killed by a signal or by the
#     `timeout` safety net;
#   - a log line on stderr naming the problem;
#   - that no message was lost or is present twice (the peer's final
#     state, Message-IDs per mailbox);
# then a second, clean sweep must recover: exactly ham and the real
# bounce in INBOX, both spams in Junk, the forged bounce in Backscatter.
# The TLS cases check that the password never reaches the peer.
# Environment: IMAPSIFT (the binary), TOP.  Needs python3 and openssl.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/faults/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-faults.XXXXXX")
peerpid=
# FAULTS_KEEP=1 keeps the directory (peer logs, states, outputs: out1 of
# the faulty sweep, out of the last); FAULTS_ONLY=REGEX runs only the
# fault scenarios whose name matches (and the TLS cases).
trap '[ -n "$peerpid" ] && kill "$peerpid" 2>/dev/null
    [ -n "${FAULTS_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1: $2"; }

ALL_IDS="$HAM $LEGIT $SPAM1 $SPAM2 $BS $SENT"

# --- certificates -----------------------------------------------------------
c=$tmp/tls
mkdir -p "$c"
ca() {	# NAME CN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 3 -subj "/CN=$2" \
	    -addext 'basicConstraints=critical,CA:TRUE' \
	    -addext 'keyUsage=critical,keyCertSign,cRLSign' \
	    -keyout "$c/$1.key" -out "$c/$1.crt" >/dev/null 2>&1
}
leaf() {	# NAME CA CN SAN DAYS
	printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
	    'keyUsage=critical,digitalSignature,keyEncipherment' \
	    'extendedKeyUsage=serverAuth' "subjectAltName=$4" > "$c/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -subj "/CN=$3" -keyout "$c/$1.key" -out "$c/$1.csr" \
	    >/dev/null 2>&1 &&
	openssl x509 -req -in "$c/$1.csr" -CA "$c/$2.crt" -CAkey "$c/$2.key" \
	    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
	    -days "$5" -extfile "$c/$1.ext" -out "$c/$1.crt" >/dev/null 2>&1
}
# -days -1: notAfter is yesterday (no faketime needed).
if ! { ca ca "fault test CA" && ca otherca "unrelated CA" &&
    leaf good ca localhost 'DNS:localhost,IP:127.0.0.1' 3 &&
    leaf expired ca localhost 'DNS:localhost,IP:127.0.0.1' -1 &&
    leaf wronghost ca wrong.example 'DNS:wrong.example' 3 &&
    leaf untrusted otherca localhost 'DNS:localhost,IP:127.0.0.1' 3 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -days 3 -subj /CN=localhost \
    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
    -keyout "$c/selfsigned.key" -out "$c/selfsigned.crt" >/dev/null 2>&1; }
then
	no certificates "openssl could not make the test certificates"
	echo "$pass passed, $fail failed"
	exit 1
fi

# --- the peer -----------------------------------------------------------------
LOADS=
for f in ham spam-url spam-phone bounce-legit bounce-forged; do
	LOADS="$LOADS --load INBOX:$fx/$f.eml"
done

# peer_start NAME FAULTS [PEER OPTIONS]: a fresh peer (implicit TLS with
# the good certificate unless the options say otherwise) in $d, its port
# in $PORT.  The fault rules are a JSON list ("" for none).
peer_start() {
	name=$1 faults=${2:-}
	shift 2
	d=$tmp/$name
	mkdir -p "$d"
	printf '[%s]\n' "$faults" > "$d/faults.json"
	case " $* " in
	*" --plain "*|*" --starttls "*|*" --tls "*) ;;
	*) set -- --tls "$c/good.crt" "$c/good.key" "$@" ;;
	esac
	set -- $(printf '%s\n' "$@" | grep -vx -- --plain)
	# shellcheck disable=SC2086
	peer_launch 40 $LOADS "$@"
}

# conf [LINE...]: $d/config, one account on the peer; timeout $TIMEOUT
# (default 2 s).
conf() {
	umask 077
	{
		printf 'store = "%s";\nrules = [ "%s" ];\n' "$d/store" \
		    "$fx/rules"
		printf 'accounts = ( {\n  name = "alice";\n'
		printf '  host = "localhost";\n  port = %s;\n' "$PORT"
		printf '  ca_file = "%s";\n' "$c/ca.crt"
		printf '  user = "alice";\n  password = "secret";\n'
		printf '  addresses = [ "alice@example.org" ];\n'
		printf '  timeout = %s;\n' "${TIMEOUT:-2}"
		# The faults are cued by command counts of the sweep; the
		# Junk harvest (test_learn.sh) would add its own commands.
		printf '  learn = false;\n'
		for l in "$@"; do
			printf '  %s\n' "$l"
		done
		printf '} );\n'
	} > "$d/config"
	umask 022
}

# sweep [LIMIT]: one sweep, output in $d/out, status in $rc.  The timeout
# is only a safety net against hangs (status 124).
sweep() {
	timeout "${1:-20}" "$IMAPSIFT" sweep -c "$d/config" > "$d/out" 2>&1
	rc=$?
}

# rc_is WANT...: $rc is one of WANT; else the reason in $why.
rc_is() {
	for w in "$@"; do
		[ "$rc" -eq "$w" ] && return 0
	done
	if [ "$rc" -eq 124 ]; then
		why="hung: killed by the timeout safety net"
	elif [ "$rc" -gt 128 ]; then
		why="killed by signal $((rc - 128))"
	else
		why="exit $rc, want $*"
	fi
	why="$why; stderr: $(tail -n 4 "$d/out" | tr '\n' '|')"
	return 1
}

# content: "MAILBOX MESSAGE-ID" lines of the peer's state, sorted.
content() { cut -f 1,2 "$d/state" | tr '\t' ' ' | sort; }

# once NAME [GONE...]: every Message-ID of the set (less GONE) exactly
# once, in any mailbox.
once() {
	nm=$1; shift
	want=$(for i in $ALL_IDS; do
		case " $* " in *" $i "*) continue ;; esac
		echo "$i"
	done | sort)
	got=$(cut -f 2 "$d/state" | sort)
	if [ "$want" = "$got" ]; then
		ok "$nm: nothing lost or doubled"
	else
		no "$nm: nothing lost or doubled" "$(content | tr '\n' '|')"
	fi
}

# kept NAME [GONE...]: every Message-ID of the set (less GONE) at least
# once: after a cut between a COPY and the removal of its originals, both
# exist until the next run (checked by the recovery sweep).
COPY_LEFT=
kept() {
	nm=$1; shift
	want=$(for i in $ALL_IDS; do
		case " $* " in *" $i "*) continue ;; esac
		echo "$i"
	done | sort)
	got=$(cut -f 2 "$d/state" | sort -u)
	if [ "$want" = "$got" ]; then
		ok "$nm: nothing lost"
	else
		no "$nm: nothing lost" "$(content | tr '\n' '|')"
	fi
}

# final NAME [GONE...]: the sorted state after a good sweep.
final() {
	nm=$1; shift
	want=$(for l in "INBOX $HAM" "INBOX $LEGIT" "Junk $SPAM1" "Junk $SPAM2" \
	    "Backscatter $BS" "Sent $SENT"; do
		case " $* " in *" ${l#* } "*) continue ;; esac
		echo "$l"
	done | sort)
	if [ "$want" = "$(content)" ]; then
		ok "$nm"
	else
		no "$nm" "have $(content | tr '\n' '|')"
	fi
}

# fault NAME RC LOGPATTERN FAULT-JSON [PEER OPTIONS]: the whole scenario.
# RC may be "75|1".  GONE (variable) lists Message-IDs the fault removes.
GONE=
fault() {
	name=$1 want=$2 pat=$3 js=$4
	shift 4
	if [ -n "${FAULTS_ONLY:-}" ] && ! echo "$name" | grep -Eq "$FAULTS_ONLY"
	then
		GONE=
		return
	fi
	if ! peer_start "$name" "$js" "$@"; then
		no "$name" "peer did not start: $(cat "$d/peer.out")"
		return
	fi
	conf
	sweep
	# shellcheck disable=SC2046
	if ! rc_is $(echo "$want" | tr '|' ' '); then
		no "$name" "$why"
	elif [ -n "$pat" ] && ! grep -Eqi -- "$pat" "$d/out"; then
		no "$name" "no log line matching /$pat/: $(tr '\n' '|' < "$d/out")"
	else
		ok "$name"
	fi
	cp "$d/out" "$d/out1"
	# shellcheck disable=SC2086
	if [ -n "$COPY_LEFT" ]; then
		kept "$name" $GONE
	else
		once "$name" $GONE
	fi
	sweep
	if rc_is 0; then
		# shellcheck disable=SC2086
		final "$name: a clean sweep recovers" $GONE
	else
		no "$name: a clean sweep recovers" "$why"
	fi
	peer_stop
	GONE=
}

# --- a sane peer first: the harness itself --------------------------------
fault sane 0 '^alice: INBOX 5 new, 2 junk, 1 backscatter moved' ''

# --- dropped connections -----------------------------------------------------
BODY='"match": "BODY\\.PEEK\\[\\]"'
fault drop_before_fetch 75 'fetch: connection lost|retry' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"drop_before\"}"
fault drop_mid_fetch 75 'fetch: .*(connection|closed|lost)' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"drop_mid\"}"
fault drop_in_literal_tls 75 'fetch: .*(connection|closed|lost)' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"drop_literal\"}"
fault drop_before_move 75 'move to Junk: .*(connection|closed|lost)' \
    '{"cmd": "UID MOVE", "action": "drop_before"}'
# (the whole OK reached the client: the next command finds the loss)
fault drop_after_move 75 'move to Backscatter: .*(connection|closed|lost)' \
    '{"cmd": "UID MOVE", "action": "drop_after"}'
fault drop_mid_move 75 'move to Junk: .*(connection|closed|lost)' \
    '{"cmd": "UID MOVE", "action": "drop_mid", "at": 20}'
# The server made that MOVE before the cut: the recovery sweep finds the
# messages gone and completes their rows; none is left pending.
if [ -z "${FAULTS_ONLY:-}" ] || echo drop_mid_move | grep -Eq "$FAULTS_ONLY"
then
	d=$tmp/drop_mid_move
	if grep -q 'was moved (left unconfirmed by an earlier run)' \
	    "$d/out" && ! "$IMAPSIFT" log -c "$d/config" 2>&1 |
	    grep -q 'pending$'; then
		ok "drop_mid_move: outcome settled in the log"
	else
		no "drop_mid_move: outcome settled in the log" \
		    "$(tr '\n' '|' < "$d/out") $("$IMAPSIFT" log -c \
		    "$d/config" 2>&1 | tr '\n' '|')"
	fi
fi
fault drop_second_move 75 'move to Backscatter: .*(connection|closed|lost)' \
    '{"cmd": "UID MOVE", "match": "Backscatter", "action": "drop_before"}'
fault drop_sent_harvest 75 'Sent: .*(connection|closed|lost)' \
    '{"cmd": "UID FETCH", "match": "HEADER.FIELDS", "action": "drop_mid"}'
fault drop_after_login 75 'connection|closed|lost' \
    '{"cmd": "LOGIN", "action": "drop_after"}'
# COPY fallback (no MOVE, UIDPLUS): the copy is made, then the session
# dies before the originals are flagged \Deleted or expunged.
COPY_LEFT=1
fault nomove_drop_before_deleted 75 'connection|closed|lost' \
    '{"cmd": "UID STORE", "match": "Deleted", "action": "drop_before"}' \
    --no-move
fault nomove_drop_before_expunge 75 'connection|closed|lost' \
    '{"cmd": "UID EXPUNGE", "action": "drop_before"}' --no-move
fault nomove_drop_after_copy 75 'connection|closed|lost' \
    '{"cmd": "UID COPY", "action": "drop_after"}' --no-move
COPY_LEFT=

# --- a server that stops answering (timeout = 1 s in the config) -------------
TIMEOUT=1
fault stall_greeting 75 'timed out|connection|greeting' \
    '{"cmd": "GREETING", "action": "stall"}'
fault stall_fetch 75 'fetch: .*(timed out|connection)' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"stall\"}"
fault stall_in_literal 75 'fetch: .*(timed out|connection)' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"stall_mid\"}"
fault stall_move 75 'move to Junk: .*(timed out|connection)' \
    '{"cmd": "UID MOVE", "action": "stall"}'
TIMEOUT=

# --- BYE -------------------------------------------------------------------------
fault bye_greeting 75 'refused the connection|BYE' \
    '{"cmd": "GREETING", "action": "bye", "text": "too many connections"}'
fault bye_fetch 75 'BYE|closed the session' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"bye\", \"text\": \"shutting down\"}"
fault bye_move 75 'BYE|closed the session' \
    '{"cmd": "UID MOVE", "action": "bye", "text": "shutting down"}'

# --- garbage, truncated replies, a literal of 4 GB -------------------------------
fault garbage_greeting 75 'connect' \
    '{"cmd": "GREETING", "action": "garbage_only"}'
fault garbage_fetch 1 'fetch: .*unparsable' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"garbage\"}"
fault garbage_select 1 'SELECT INBOX: .*unparsable' \
    '{"cmd": "SELECT", "action": "garbage", "lines": ["* 3 EXISTS garbage (", "* OK [UIDVALIDITY x] no"]}'
fault garbage_move 1 'move to Junk: .*unparsable' \
    '{"cmd": "UID MOVE", "action": "garbage"}'
fault truncated_fetch 1 'fetch: .*unparsable' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"truncate\"}"
fault truncated_list 1 'LIST: .*unparsable' \
    '{"cmd": "LIST", "action": "truncate"}'
# The literal is refused before libetpan allocates it (imap-guard.c).
REFUSED='fetch: .*server announced a literal of 4294967295 bytes, over the limit of [0-9]+'
fault huge_literal 75 "$REFUSED" \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"huge_literal\"}"
fault huge_literal_stall 75 "$REFUSED" \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"huge_literal\", \"then\": \"stall\"}"

# --- [PERMANENTFLAGS (\)]: libetpan 1.9.4 frees a NULL list (upstream
# 266d59f); the guard renames the code, SELECT goes on -----------------------
# fired NAME: the peer's fault fired (else the case proves nothing).
fired() {
	[ -f "$tmp/$1/peer.log" ] || return 0	# skipped by FAULTS_ONLY
	if grep -q "fault $2" "$tmp/$1/peer.log"; then
		ok "$1: the fault fired"
	else
		no "$1: the fault fired" "no 'fault $2' in the peer log"
	fi
}
fault permanentflags_null 0 '^alice: INBOX 5 new' \
    '{"cmd": "SELECT", "action": "untagged", "lines": ["* OK [PERMANENTFLAGS (\\)] x"]}'
fired permanentflags_null 'untagged on SELECT'
# Cut anywhere by the reads, in lower case, spaces after the "[".
fault permanentflags_trickle 0 '^alice: INBOX 5 new' \
    '{"cmd": "SELECT", "action": "untagged", "trickle": true, "lines": ["* OK [PERMANENTFLAGS (\\)] x", "* OK [ \tpermanentflags (\\)] y", "* OK [PERMANENTFLAGS (\\"]}'
fired permanentflags_trickle 'untagged on SELECT'
# In the greeting itself: libetpan reads it in mailimap_connect, which
# imap.c feeds through the guard as well.
fault permanentflags_greeting 0 '^alice: INBOX 5 new' \
    '{"cmd": "GREETING", "action": "untagged", "lines": ["* OK [PERMANENTFLAGS (\\)] hello"]}'
fired permanentflags_greeting 'untagged on GREETING'

# --- [ALERT] ---------------------------------------------------------------------
# RFC 3501 7.1: the client MUST present an ALERT text to the user.
fault alert_untagged 0 'over quota' \
    '{"cmd": "LOGIN", "action": "alert", "text": "Mailbox over quota: delete some mail"}'
fault alert_login_no 3 'refused: .*account suspended' \
    '{"cmd": "LOGIN", "action": "alert_no", "text": "Account suspended by the admin"}'

# --- UIDVALIDITY changes mid-sweep (at the re-SELECT after the Sent
# re-harvest that confirms backscatter, and at the first SELECT) ----------
# (Sent renumbered at the re-harvest's STATUS: it is EXAMINEd again, so
# INBOX has to be selected again; an unchanged Sent needs neither.)
fault uidvalidity_reselect 75 'UIDVALIDITY changed' \
    '{"cmd": "STATUS", "nth": 1, "action": "uidvalidity", "mailbox": "Sent", "value": 555}, {"cmd": "SELECT", "nth": 2, "action": "uidvalidity", "value": 777}'
fault uidvalidity_before_move 0 '' \
    '{"cmd": "UID MOVE", "action": "uidvalidity", "value": 778}'
# ... and, at the next sweep's SELECT (the first sweep selects INBOX
# twice), the messages renumbered from near the top of the UID space:
# the rescan must fetch the UIDs there are (UID SEARCH), not walk four
# billion empty UIDs a batch at a time.
fault uidvalidity_sparse_uids 0 '' \
    '{"cmd": "SELECT", "match": "INBOX", "nth": 3, "action": "uidvalidity", "value": 779, "first_uid": 4000000000}'

# --- lying replies -------------------------------------------------------------------
# MOVE answered OK but nothing moved: the spams must not be given up on.
fault move_ok_nothing_moved 1 'not moved|still|EXPUNGE' \
    '{"cmd": "UID MOVE", "match": "Junk", "action": "move_noop"}'
# MOVE answered OK (with COPYUID) that copied but left the originals.
fault move_ok_originals_left 0 'not moved|still|EXPUNGE' \
    '{"cmd": "UID MOVE", "match": "Junk", "action": "move_leave"}'
# Another client expunges the message being fetched.
GONE=$SPAM1
fault expunge_before_fetch 0 '' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"expunge\", \"msgid\": \"sweep-spam-url@spam.example\"}"
GONE=$SPAM1
fault expunge_after_fetch 0 '' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"expunge\", \"when\": \"after\", \"msgid\": \"sweep-spam-url@spam.example\"}"
# UID FETCH returns UIDs never asked for (a spam body under UID 4000).
fault fetch_unasked_uids 0 '' \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"extra_uids\", \"uids\": [4000, 4001], \"file\": \"$fx/spam-late.eml\"}"
if [ -f "$tmp/fetch_unasked_uids/peer.log" ] &&
    grep -q 'UID MOVE.*400[01]\|UID STORE.*400[01]' \
    "$tmp/fetch_unasked_uids/peer.log"; then
	no "fetch_unasked_uids: never acted on" \
	    "$(grep 'UID MOVE\|UID STORE' "$tmp/fetch_unasked_uids/peer.log")"
else
	ok "fetch_unasked_uids: never acted on"
fi

# --- more UIDs than one batch, none missing: fetched by UID ranges ---------------
# (a UID SEARCH is for UIDs far sparser than the messages: see
# uidvalidity_sparse_uids)
many=
i=0
while [ $i -lt 2500 ]; do
	many="$many --load INBOX:$fx/ham.eml"
	i=$((i + 1))
done
# shellcheck disable=SC2086
if peer_start dense_batches '' $many; then
	conf
	timeout 60 "$IMAPSIFT" sweep --all -c "$d/config" > "$d/out" 2>&1
	rc=$?
	nf=$(grep -c 'UID FETCH [0-9]*:[0-9]* (UID FLAGS BODY.PEEK' \
	    "$d/peer.log")
	if ! rc_is 0; then
		no dense_batches "$why"
	elif ! grep -q 'INBOX 2505 new, 2 junk, 1 backscatter' "$d/out"; then
		no dense_batches "$(tr '\n' '|' < "$d/out")"
	elif [ "$nf" -ne 3 ] || grep -q 'UID SEARCH' "$d/peer.log"; then
		no dense_batches "$nf body fetches: $(grep 'UID FETCH\|UID SEARCH' \
		    "$d/peer.log" | tr '\n' '|')"
	else
		ok dense_batches
	fi
	peer_stop
fi

# --- NO and BAD to every command in turn -------------------------------------------
# (LOGOUT last: the work is done by then.)  NO: 1 ("a command the server
# refused"), 3 for LOGIN, 0 where it only costs a flag or the LOGOUT.
# A Sent mailbox that cannot be read is 1 too: its bounces are left for
# the next run (checked by the recovery sweep).
for spec in "capability:CAPABILITY::1" "login:LOGIN::3" "list:LIST::1" \
    "create:CREATE::1" "status_sent:STATUS::0" "examine_sent:EXAMINE::1" \
    "fetch_sent_headers:UID FETCH:HEADER.FIELDS:1" "select:SELECT::1" \
    "uid_search:UID SEARCH::1" "uid_fetch:UID FETCH:BODY\\\\.PEEK\\\\[\\\\]:1" \
    "uid_store_junk_flag:UID STORE::0" "uid_move:UID MOVE::1" \
    "logout:LOGOUT::0"; do
	tagn=${spec%%:*} r=${spec#*:}
	cmd=${r%%:*} r=${r#*:}
	mt=${r%%:*} want=${r#*:} m=
	[ -n "$mt" ] && m=", \"match\": \"$mt\""
	fault "no_$tagn" "$want" '' \
	    "{\"cmd\": \"$cmd\"$m, \"action\": \"no\", \"text\": \"fault says no\"}"
done
# BAD: the session is unusable (PROTOCOL): 1, but 0 for LOGOUT.
for spec in "CAPABILITY:1" "LOGIN:1" "LIST:1" "CREATE:1" "STATUS:1" "EXAMINE:1" \
    "SELECT:1" "UID SEARCH:1" "UID FETCH:1" "UID STORE:1" "UID MOVE:1" \
    "LOGOUT:0"; do
	cmd=${spec%%:*} want=${spec##*:}
	tagn=$(echo "$cmd" | tr 'A-Z ' 'a-z_')
	fault "bad_$tagn" "$want" '' \
	    "{\"cmd\": \"$cmd\", \"action\": \"bad\", \"text\": \"fault says bad\"}"
done

# --- EOF inside a literal on plaintext (libetpan 1.9.4 spins forever) ------------
if peer_start eof_literal_plain \
    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"drop_literal\"}" --plain; then
	conf 'tls = "none";'
	sweep 5
	if ! rc_is 75; then
		no eof_literal_plain "$why"
	elif ! grep -q 'fetch: .*the server closed the connection' "$d/out"
	then
		no eof_literal_plain "no log line: $(tr '\n' '|' < "$d/out")"
	else
		ok eof_literal_plain
	fi
	once eof_literal_plain
	peer_stop
fi

# --- TLS ------------------------------------------------------------------------------
# tls_refused NAME CERT [nocafile]: the sweep (nocafile: trusting the
# system store) exits 1 with a certificate
# error and the peer never sees LOGIN.
tls_refused() {
	nm=$1 crt=$2
	shift 2
	peer_start "$nm" '' --tls "$c/$crt.crt" "$c/$crt.key" || {
		no "$nm" "peer did not start"; return; }
	conf
	[ "${1:-}" = nocafile ] && sed -i '/ca_file/d' "$d/config"
	sweep
	if ! rc_is 1; then
		no "$nm" "$why"
	elif ! grep -qi 'certificate' "$d/out"; then
		no "$nm" "no certificate error: $(tr '\n' '|' < "$d/out")"
	elif grep -q 'LOGIN arrived\|AUTHENTICATE arrived' "$d/peer.log"; then
		no "$nm" "the password reached the server"
	else
		ok "$nm"
	fi
	peer_stop
}
tls_refused tls_expired expired
tls_refused tls_self_signed selfsigned
tls_refused tls_wrong_host wronghost
tls_refused tls_untrusted_ca untrusted
tls_refused tls_system_store good nocafile

# The good certificate by IP address: accepted (IP SAN).
peer_start tls_ip_literal '' || no tls_ip_literal "peer did not start"
conf
sed -i 's/host = "localhost"/host = "127.0.0.1"/' "$d/config"
sweep
rc_is 0 && ok tls_ip_literal || no tls_ip_literal "$why"
peer_stop

# starttls_check NAME WANT-RC PATTERN FAULTS [PEER OPTIONS]
starttls_case() {
	nm=$1 want=$2 pat=$3 js=$4
	shift 4
	peer_start "$nm" "$js" --starttls "$c/good.crt" "$c/good.key" "$@" ||
	    { no "$nm" "peer did not start"; return; }
	conf 'tls = "starttls";'
	sweep
	if ! rc_is "$want"; then
		no "$nm" "$why"
	elif ! grep -Eqi -- "$pat" "$d/out"; then
		no "$nm" "no log line /$pat/: $(tr '\n' '|' < "$d/out")"
	elif [ "$want" -ne 0 ] &&
	    grep -q 'LOGIN arrived\|AUTHENTICATE arrived' "$d/peer.log"; then
		no "$nm" "the password was sent: $(grep arrived "$d/peer.log")"
	elif [ "$want" -eq 0 ] && grep -q 'arrived (tls=0)' "$d/peer.log"; then
		no "$nm" "the password was sent in plaintext"
	else
		ok "$nm"
	fi
	peer_stop
}
starttls_case starttls_ok 0 '^alice: INBOX 5 new' ''
starttls_case starttls_not_offered 1 'does not offer STARTTLS' '' --no-starttls
starttls_case starttls_refused 1 'STARTTLS' \
    '{"cmd": "STARTTLS", "action": "no", "text": "not now"}'
starttls_case starttls_bad_cert 1 'certificate' '' \
    --starttls "$c/untrusted.crt" "$c/untrusted.key"

# auth = "plain" (AUTHENTICATE PLAIN) works against the peer.
peer_start auth_plain '' || no auth_plain "peer did not start"
conf 'auth = "plain";'
sweep
rc_is 0 && grep -q 'AUTHENTICATE arrived (tls=1)' "$d/peer.log" &&
    ok auth_plain || no auth_plain "${why:-} $(grep -c AUTH "$d/peer.log")"
peer_stop

# tls = none: only to loopback.  A config error for another host, from
# both check and sweep, before any connection.
d=$tmp/tls_none_remote
mkdir -p "$d"
PORT=143
conf 'tls = "none";'
sed -i 's/host = "localhost"/host = "192.0.2.1"/' "$d/config"
"$IMAPSIFT" check -c "$d/config" > "$d/out" 2>&1
rc=$?
rc_is 2 && grep -q 'loopback' "$d/out" && ok tls_none_remote_check ||
    no tls_none_remote_check "${why:-} $(cat "$d/out")"
sweep 10
rc_is 2 && grep -q 'loopback' "$d/out" && ok tls_none_remote_sweep ||
    no tls_none_remote_sweep "${why:-} $(cat "$d/out")"
# ...and plaintext to loopback works.
peer_start tls_none_loopback '' --plain || no tls_none_loopback "no peer"
conf 'tls = "none";'
sweep
rc_is 0 && final tls_none_loopback || no tls_none_loopback "$why"
peer_stop

# --- the progress line: on a terminal only ------------------------------
# A slow server (the body FETCH answered after 1.5 s) makes the sweep
# last past the 1 s after which the line appears; script(1) gives it a
# terminal.  Without one (every other case here) no such line is printed.
if command -v script > /dev/null 2>&1; then
	peer_start progress_tty \
	    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"delay\", \"seconds\": 1.5}" ||
	    no progress_tty "peer did not start"
	conf
	script -qec "$IMAPSIFT sweep -c $d/config" /dev/null > "$d/out" 2>&1
	if grep -q 'alice/INBOX: [0-9]* messages, [0-9]*/s, [0-9]* hits' \
	    "$d/out" && grep -q "$(printf '\033')\\[K" "$d/out"; then
		ok progress_tty
	else
		no progress_tty "$(tr '\r\033' '|~' < "$d/out")"
	fi
	peer_stop
	peer_start progress_pipe \
	    "{\"cmd\": \"UID FETCH\", $BODY, \"action\": \"delay\", \"seconds\": 1.5}" ||
	    no progress_pipe "peer did not start"
	conf
	sweep
	if rc_is 0 && ! grep -q 'messages, [0-9]*/s' "$d/out"; then
		ok progress_pipe
	else
		no progress_pipe "${why:-} $(tr '\r' '|' < "$d/out")"
	fi
	peer_stop
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
