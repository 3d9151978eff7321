#!/bin/sh
# test_flavours.sh: the server shapes people have, each built with the
# Dovecot harness (tests/integration/dovecot.sh) on loopback:
#   inbox     Courier/Cyrus-like: personal namespace "INBOX." with '.',
#             no SPECIAL-USE (INBOX.Junk, INBOX.Sent by name)
#   derived   the same with NAMESPACE hidden and Junk as INBOX.Spam: the
#             prefix derived from LIST
#   gmail     [Gmail]/Spam \Junk, [Gmail]/Sent Mail \Sent, [Gmail]/All
#             Mail \All holding a copy of every message (Gmail's label)
#   exchange  "Junk Email", "Sent Items", no SPECIAL-USE, IDLE, MOVE or
#             UIDPLUS
#   french    a French Outlook: "Courrier indésirable", "Éléments
#             envoyés" (modified UTF-7 on the wire), no SPECIAL-USE, IDLE
#             or MOVE
#   cyrus     Debian's Cyrus IMAP 3.6 itself (tests/integration/cyrus.sh:
#             unpacked from its .debs, not installed): INBOX. namespace,
#             INBOX.Junk and INBOX.Sent without special-use, IDLE that
#             reports new mail only every 60 s
#   courier   Debian's Courier-IMAP 5 itself (tests/integration/courier.sh:
#             unpacked from its .debs, run in a private mount namespace):
#             INBOX. namespace, INBOX.Junk and INBOX.Sent by name, no MOVE
#             (UID COPY, STORE, UID EXPUNGE), IDLE that reports new mail
#             only every 60 s (no FAM)
# Per flavour a generated manifest (each message and the folder it must
# end in) is checked after a sweep, after a second sweep (which moves
# nothing), after a watch daemon caught new mail, and after undo (all
# back in INBOX); the folders chosen are logged, no second Junk is
# created, and the raw protocol log shows no bare EXPUNGE (nor, on
# Gmail, any command naming All Mail).  Environment: IMAPSIFT, TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
fx=$TOP/tests/fixtures/sweep
. "$TOP/tests/integration/dovecot.sh"
. "$TOP/tests/integration/cyrus.sh"
. "$TOP/tests/integration/courier.sh"
. "$TOP/tests/proc.sh"
tmp=$(mktemp -d)
wpid=
trap '[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null; dovecot_stop
    cyrus_stop; courier_stop
    rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# The server under test: srv=dv (Dovecot), cy (Cyrus) or co (Courier);
# s_* call its
# helpers.
srv=dv
s_append() { ${srv}_append "$@"; }
s_live() { ${srv}_live "$@"; }
s_count() { ${srv}_count "$@"; }
s_mailboxes() { ${srv}_mailboxes "$@"; }
# s_rawlog USER: "TAG COMMAND" lines the clients sent.
s_rawlog() {
	if [ $srv = dv ]; then
		dv_rawlog "$1" | tr -d '\r' | sed 's/^[0-9.]* //'
	else
		${srv}_rawlog "$1"
	fi
}
s_start() {
	if [ "${1:-}" = cyrus ]; then
		srv=cy
		cyrus_start
	elif [ "${1:-}" = courier ]; then
		srv=co
		courier_start
	else
		srv=dv
		dovecot_start "$@"
	fi
}
s_stop() {
	case $srv in dv) dovecot_stop ;; cy) cyrus_stop ;; co) courier_stop ;;
	esac
}
# s_conf LINE...: the imapsift config for alice on this server.
s_conf() {
	if [ $srv = dv ]; then
		dv_imapsift_conf "$tmp/config" alice "$tmp/state" "$fx/rules" \
		    "$@"
		return
	fi
	(umask 077
	printf 'store = "%s";\nrules = [ "%s" ];\naccounts = ( {\n' \
	    "$tmp/state" "$fx/rules"
	printf '  name = "alice"; host = "127.0.0.1"; port = %s;\n' \
	    "$IMAP_PORT"
	printf '  tls = "none"; user = "alice"; password = "secret";\n'
	printf '  addresses = [ "alice@example.org" ];\n'
	printf '  %s\n' "$@"
	printf '} );\n') > "$tmp/config"
	chmod 600 "$tmp/config"
}
# 1 when the server offers UIDPLUS.
s_uidplus() {
	if [ $srv = dv ]; then grep -q UIDPLUS "$DOVECOT_CONF"; else true; fi
}

# mkmsg PHASE I KIND: a new message made from a fixture, its file name
# on stdout; its Message-ID and where it must end (inbox, junk, bs) go
# into the manifest.
mkmsg() {
	case $3 in
	url) f=spam-url old=sweep-spam-url@spam.example r=junk
	    id=$1-$2-url@spam.example ;;
	phone) f=spam-phone old=sweep-spam-phone@cheap-loans.test r=junk
	    id=$1-$2-phone@cheap-loans.test ;;
	ham) f=ham old=sweep-ham-1@friends.test r=inbox
	    id=$1-$2-ham@friends.test ;;
	legit) f=bounce-legit old=dsn-sweep-sent-1@mx.example.net r=inbox
	    id=$1-$2-legit@mx.example.net ;;
	forged) f=bounce-forged old=dsn-sweep-forged-9@mx.example.net r=bs
	    id=$1-$2-forged@mx.example.net ;;
	esac
	sed "s/<$old>/<$id>/" "$fx/$f.eml" > "$tmp/m/$id.eml"
	printf '%s\t%s\n' "$id" "$r" >> "$tmp/manifest"
	echo "$tmp/m/$id.eml"
}

KINDS="url ham phone forged ham legit url phone ham"

# deliver PHASE: one message of each of KINDS into INBOX (on Gmail also
# into All Mail, as Gmail shows a message under every label it has).
deliver() {
	i=0
	for k in $KINDS; do
		i=$((i + 1))
		f=$(mkmsg "$1" $i $k)
		s_append alice INBOX "$f"
		[ -n "$ALL" ] && s_append alice "$ALL" "$f"
	done
}

# want ROLE [undone]: the manifest's Message-IDs for ROLE, as dv_live
# prints them (after undo everything belongs in INBOX).
want() {
	if [ "${2:-}" = undone ]; then
		[ "$1" = inbox ] && cut -f1 "$tmp/manifest"
	else
		awk -F'\t' -v r="$1" '$2 == r { print $1 }' "$tmp/manifest"
	fi | sed 's/.*/<&>/' | sort
}

mbox_of() {
	case $1 in inbox) echo INBOX ;; junk) echo "$JUNK" ;; bs) echo "$BS" ;;
	esac
}

# expect NAME [undone]: INBOX, Junk and Backscatter hold exactly what the
# manifest says (messages left flagged \Deleted by a server without
# UIDPLUS do not count: the user's client hides them).
expect() {
	for role in inbox junk bs; do
		m=$(mbox_of $role)
		want $role "${2:-}" > "$tmp/want"
		s_live alice "$m" > "$tmp/got"
		if ! cmp -s "$tmp/want" "$tmp/got"; then
			no "$1" "$m: want $(wc -l < "$tmp/want"), has $(wc -l < \
			    "$tmp/got"): $(diff "$tmp/want" "$tmp/got" |
			    grep '^[<>]' | tr '\n' ' ')"
			return 1
		fi
	done
	ok "$1"
}

# settled ROLE: the count the manifest gives ROLE is there.
settled() {
	[ "$(s_live alice "$(mbox_of "$1")" | wc -l)" -eq \
	    "$(want "$1" | wc -l)" ]
}

sweep() {
	timeout 60 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/out" 2>&1
	rc=$?
}

until_log() {
	i=0
	while [ $i -lt $((${2:-20} * 10)) ]; do
		grep -Eq -- "$1" "$tmp/log" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

stop_watch() {
	term_wait "$wpid"
	rc=$?
	wpid=
	case $rc in
	0) ok "$1" ;;
	124) no "$1" "still running 5 s after SIGTERM" ;;
	*) no "$1" "exit $rc" ;;
	esac
}

# flavour NAME JUNK SENT BS ALL MAILBOXES -- DOVECOT_OPTIONS: one server
# ("-- cyrus", "-- courier": the Cyrus or Courier one)
# shape, its Junk, Sent, Backscatter and All Mail ("" if none) as the
# sweep must find or make them, and every mailbox it must end with
# (space-separated, "|" for a space in a name).
flavour() {
	fl=$1 JUNK=$2 SENT=$3 BS=$4 ALL=$5 MBOXES=$6
	shift 7
	: > "$tmp/manifest"
	rm -rf "$tmp/m" "$tmp/state" "$tmp/log"
	mkdir -p "$tmp/m"
	if ! s_start "$@"; then
		no "$fl/start" "s_start $*"
		return
	fi
	s_conf 'poll_interval = 10;' 'harvest_interval = 3600;'
	s_append alice "$SENT" "$fx/sent.eml"
	deliver sweep

	sweep
	[ $rc -eq 0 ] || no "$fl/sweep_rc" "exit $rc: $(tail -n 3 "$tmp/out")"
	expect "$fl/sweep"
	grep -qF "alice: Junk \"$JUNK\" (" "$tmp/out" &&
	    grep -qF "Sent \"$SENT\" (" "$tmp/out" &&
	    grep -qF "Backscatter \"$BS\" (" "$tmp/out" &&
	    ok "$fl/folders_logged" || no "$fl/folders_logged" "$(cat "$tmp/out")"
	(set -f; printf '%s\n' $MBOXES) | tr '|' ' ' | sort > "$tmp/want"
	s_mailboxes alice > "$tmp/got"
	cmp -s "$tmp/want" "$tmp/got" && ok "$fl/no_second_junk" ||
	    no "$fl/no_second_junk" "mailboxes: $(tr '\n' ',' < "$tmp/got")"

	sweep
	[ $rc -eq 0 ] && grep -q ' 0 junk, 0 backscatter moved' "$tmp/out" &&
	    ok "$fl/second_sweep_moves_nothing" ||
	    no "$fl/second_sweep_moves_nothing" "$(cat "$tmp/out")"
	expect "$fl/second_sweep"

	: >> "$tmp/log"		# there before the daemon opens it
	"$IMAPSIFT" watch -f -c "$tmp/config" >> "$tmp/log" 2>&1 &
	wpid=$!
	until_log 'alice: connected' || no "$fl/watch_connected" \
	    "$(cat "$tmp/log")"
	deliver watch
	i=0
	while ! { settled junk && settled bs; } && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	expect "$fl/watch"
	# Debian's Cyrus and Courier report new mail in IDLE only every
	# 60 s: the watch knows them by the greeting and checks with NOOP.
	if [ $srv != dv ]; then
		i=0
		while ! s_rawlog alice | grep -q ' NOOP$' && [ $i -lt 200 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		grep -q 'alice: checking with NOOP every 5 s in IDLE (this' \
		    "$tmp/log" && s_rawlog alice | grep -q ' NOOP$' &&
		    ok "$fl/idle_checks" || no "$fl/idle_checks" "$(cat "$tmp/log")"
	fi
	stop_watch "$fl/watch_stops"
	[ "$(grep -c 'alice: Junk "' "$tmp/log")" -eq 1 ] &&
	    ok "$fl/folders_logged_once" ||
	    no "$fl/folders_logged_once" "$(grep 'alice: Junk' "$tmp/log")"

	timeout 60 "$IMAPSIFT" undo -c "$tmp/config" --all > "$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 0 ] || no "$fl/undo_rc" "exit $rc: $(tail -n 3 "$tmp/out")"
	expect "$fl/undo" undone

	s_rawlog alice > "$tmp/raw"
	! grep -Eiq '^[^ ]+ EXPUNGE' "$tmp/raw" && ok "$fl/no_bare_expunge" ||
	    no "$fl/no_bare_expunge" "$(grep -Ei 'EXPUNGE' "$tmp/raw")"
	if ! s_uidplus; then
		! grep -qi 'EXPUNGE' "$tmp/raw" && ok "$fl/no_expunge" ||
		    no "$fl/no_expunge" "$(grep -i 'EXPUNGE' "$tmp/raw")"
	fi
	# The one mailbox made is Backscatter.
	grep -Ei '^[^ ]+ CREATE ' "$tmp/raw" > "$tmp/creates"
	[ "$(wc -l < "$tmp/creates")" -eq 1 ] &&
	    ok "$fl/creates_backscatter_only" ||
	    no "$fl/creates_backscatter_only" "$(cat "$tmp/creates")"
	if [ -n "$ALL" ]; then
		! grep -qF 'All Mail' "$tmp/raw" && [ "$(s_count alice \
		    "$ALL")" -eq "$(wc -l < "$tmp/manifest")" ] &&
		    ok "$fl/all_mail_untouched" ||
		    no "$fl/all_mail_untouched" "$(grep 'All Mail' "$tmp/raw")"
	fi
	s_stop
}

flavour inbox INBOX.Junk INBOX.Sent INBOX.Backscatter '' \
    'INBOX INBOX.Junk INBOX.Sent INBOX.Backscatter' -- \
    --prefix INBOX. --separator . --no-special-use
flavour derived INBOX.Spam INBOX.Sent INBOX.Backscatter '' \
    'INBOX INBOX.Spam INBOX.Sent INBOX.Backscatter' -- \
    --prefix INBOX. --separator . --no-special-use --no-namespace \
    --junk Spam
flavour gmail '[Gmail]/Spam' '[Gmail]/Sent Mail' Backscatter \
    '[Gmail]/All Mail' \
    'INBOX [Gmail] [Gmail]/Spam [Gmail]/Sent|Mail [Gmail]/All|Mail Backscatter' -- \
    --junk '[Gmail]/Spam' --sent '[Gmail]/Sent Mail' \
    --mailbox '[Gmail]/All Mail' '\All'
flavour exchange 'Junk Email' 'Sent Items' Backscatter '' \
    'INBOX Junk|Email Sent|Items Deleted|Items Backscatter' -- \
    --junk 'Junk Email' --sent 'Sent Items' \
    --mailbox 'Deleted Items' '' --no-special-use --no-idle --no-move \
    --no-uidplus
flavour french 'Courrier indésirable' 'Éléments envoyés' Backscatter '' \
    'INBOX Courrier|indésirable Éléments|envoyés Backscatter' -- \
    --junk 'Courrier indésirable' --sent 'Éléments envoyés' \
    --no-special-use --no-idle --no-move
flavour cyrus INBOX.Junk INBOX.Sent INBOX.Backscatter '' \
    'INBOX INBOX.Junk INBOX.Sent INBOX.Backscatter' -- cyrus
if [ "$(id -u)" = 0 ]; then
	flavour courier INBOX.Junk INBOX.Sent INBOX.Backscatter '' \
	    'INBOX INBOX.Junk INBOX.Sent INBOX.Backscatter' -- courier
else
	echo "ok courier # skip: needs root (unshare -m)"
fi

# --- IDLE checks (idle_poll) ----------------------------------------------
# Stock Cyrus and Courier look for new mail only every 60 s while a
# client is in IDLE; the watch ends IDLE and sends NOOP every few seconds
# there (known by the greeting), and on any server with idle_poll set.
# Between two checks with nothing new there is no pass (no SELECT).
srv=dv
rm -rf "$tmp/state" "$tmp/log" "$tmp/m"
mkdir -p "$tmp/m"
: > "$tmp/manifest"
JUNK=Junk BS=Backscatter
if dovecot_start --greeting 'imap.example Cyrus IMAP 3.6.1 server ready'
then
	dv_imapsift_conf "$tmp/config" alice "$tmp/state" "$fx/rules"
	: >> "$tmp/log"		# there before the daemon opens it
	"$IMAPSIFT" watch -f -c "$tmp/config" >> "$tmp/log" 2>&1 &
	wpid=$!
	until_log 'alice: checking with NOOP every 5 s in IDLE \(this server' &&
	    ok idle_poll_late_pusher || no idle_poll_late_pusher "$(cat "$tmp/log")"
	stop_watch idle_poll_late_pusher_stops
	dovecot_stop
else
	no idle_poll_start "dovecot_start --greeting"
fi
if dovecot_start; then
	dv_imapsift_conf "$tmp/config" alice "$tmp/state" "$fx/rules" \
	    'idle_poll = 1;'
	: >> "$tmp/log"		# there before the daemon opens it
	"$IMAPSIFT" watch -f -c "$tmp/config" >> "$tmp/log" 2>&1 &
	wpid=$!
	until_log 'alice: checking with NOOP every 1 s in IDLE \(idle_poll\)' &&
	    ok idle_poll_configured || no idle_poll_configured "$(cat "$tmp/log")"
	# Two checks in a row, IDLE again after each, nothing else between.
	i=0
	while [ "$(dv_rawlog alice | grep -c ' NOOP')" -lt 3 ] &&
	    [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	dv_rawlog alice | tr -d '\r' | sed 's/^[0-9.]* //' > "$tmp/raw"
	awk '/ NOOP$/ { n++ } n >= 1 && n < 3 { print }' "$tmp/raw" |
	    sed 's/^[^ ]* //' > "$tmp/between"
	printf '%s\n' NOOP IDLE DONE NOOP IDLE DONE > "$tmp/want"
	cmp -s "$tmp/want" "$tmp/between" && ok idle_poll_noop_only ||
	    no idle_poll_noop_only "$(cat "$tmp/between")"
	f=$(mkmsg poll 1 url)
	dv_append alice INBOX "$f"
	i=0
	while ! settled junk && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	expect idle_poll_moves
	stop_watch idle_poll_stops
	dovecot_stop
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
