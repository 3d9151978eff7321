#!/bin/sh
# test_harness.sh: proves tests/integration/dovecot.sh, the private
# Dovecot that the sweep tests run against: TLS verified against its CA
# and refused with the wrong CA or host name, LOGIN, the capability
# options, special-use folders, the doveadm helpers, restart and a clean
# stop.  Environment: TOP (the source tree; default: from $0).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
fx=$TOP/tests/fixtures/imap
. "$TOP/tests/integration/dovecot.sh"
tmp=$(mktemp -d)
trap 'dovecot_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# tls PORT CAFILE NAME [-starttls imap]: openssl's verdict on the chain
# and the host name, 0 when verified.
tls() {
	p=$1 ca=$2 name=$3; shift 3
	timeout 10 openssl s_client -connect "127.0.0.1:$p" -servername "$name" \
	    -verify_hostname "$name" -CAfile "$ca" -verify_return_error \
	    "$@" < /dev/null > "$tmp/tls.out" 2>&1
}

# caps NAME WANT...: the CAPABILITY after LOGIN over implicit TLS holds
# each +WORD; no capability list in the session (greeting, LOGIN
# response code, CAPABILITY) names a -WORD.
caps() {
	n=$1; shift
	imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost alice secret \
	    CAPABILITY > "$tmp/caps" 2>&1 || {
		no "$n" "session failed: $(tail -n 3 "$tmp/caps")"; return; }
	c=$(grep '^\* CAPABILITY ' "$tmp/caps")
	for w; do
		case " $c " in
		*" ${w#?} "*) [ "${w%"${w#?}"}" = - ] && {
			no "$n" "$w: $c"; return; } ;;
		*) [ "${w%"${w#?}"}" = + ] && { no "$n" "$w: $c"; return; } ;;
		esac
	done
	for w; do
		[ "${w%"${w#?}"}" = - ] || continue
		tr ' []' '\n\n\n' < "$tmp/caps" | grep -qx -- "${w#?}" && {
			no "$n" "$w in the session: $(head -n 2 "$tmp/caps")"
			return; }
	done
	ok "$n"
}

started() {
	if [ -n "$IMAP_PORT" ] && kill -0 "$DOVECOT_PID" 2>/dev/null &&
	    [ -f "$DOVECOT_CONF" ]; then
		ok "$1"
	else
		no "$1" "not running"
	fi
}

ours() { ps -eo args= | grep -c "^dovecot-$1/"; }

# --- default server --------------------------------------------------------
if ! dovecot_start; then
	no start "dovecot_start failed"
	echo "$pass passed, $fail failed"
	exit 1
fi
started start
[ "$IMAP_PORT" != "$IMAPS_PORT" ] && [ "$IMAP_PORT" -gt 1024 ] &&
    [ "$IMAPS_PORT" -gt 1024 ] && ok free_ports ||
    no free_ports "$IMAP_PORT $IMAPS_PORT"
grep -q '^listen = 127.0.0.1$' "$DOVECOT_CONF" && ok loopback_only ||
    no loopback_only "no listen = 127.0.0.1"

tls "$IMAPS_PORT" "$CA_FILE" localhost && ok tls_verified_localhost ||
    no tls_verified_localhost "$(tail -n 5 "$tmp/tls.out")"
timeout 10 openssl s_client -connect "127.0.0.1:$IMAPS_PORT" \
    -verify_ip 127.0.0.1 -CAfile "$CA_FILE" -verify_return_error \
    < /dev/null > "$tmp/tls.out" 2>&1 && ok tls_verified_ip ||
    no tls_verified_ip "$(tail -n 5 "$tmp/tls.out")"
tls "$IMAP_PORT" "$CA_FILE" localhost -starttls imap &&
    ok starttls_verified || no starttls_verified "$(tail -n 5 "$tmp/tls.out")"
# refused NAME: the last tls call failed on verification, not otherwise.
refused() {
	if [ $? -eq 0 ]; then
		no "$1" "verified"
	elif grep -qi 'verify error' "$tmp/tls.out"; then
		ok "$1"
	else
		no "$1" "$(tail -n 5 "$tmp/tls.out")"
	fi
}
tls "$IMAPS_PORT" "$WRONG_CA_FILE" localhost; refused wrong_ca_refused
tls "$IMAPS_PORT" "$CA_FILE" imap.example.org; refused other_name_refused

out=$(imap_talk tls "$IMAPS_PORT" "$WRONG_CA_FILE" localhost alice secret)
rc=$?
[ $rc -eq 2 ] && ok client_wrong_ca_before_login ||
    no client_wrong_ca_before_login "rc $rc: $out"
# No login has been tried yet: the server saw TLS fail, then nothing.
if grep -q 'Login: \|auth failed\|Aborted login' "$DOVECOT_LOG"; then
	no no_login_sent "$(grep 'Login\|auth' "$DOVECOT_LOG")"
elif grep -q 'no auth attempts' "$DOVECOT_LOG"; then
	ok no_login_sent
else
	no no_login_sent "no TLS disconnect logged: $(cat "$DOVECOT_LOG")"
fi

caps default_caps +MOVE +UIDPLUS +SPECIAL-USE +IDLE +IMAP4rev1
out=$(imap_talk starttls "$IMAP_PORT" "$CA_FILE" localhost alice secret \
    CAPABILITY)
rc=$?
[ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^\* CAPABILITY .*MOVE' &&
    ok starttls_login || no starttls_login "rc $rc: $out"

out=$(imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost alice wrong)
rc=$?
[ $rc -eq 3 ] && printf '%s\n' "$out" | grep -q 'NO \[AUTHENTICATIONFAILED\]' &&
    ok bad_password || no bad_password "rc $rc: $out"
out=$(imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost bob hunter2)
[ $? -eq 0 ] && ok second_user || no second_user "$out"

out=$(imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost alice secret \
    'LIST "" "*"')
printf '%s\n' "$out" | grep -q '^\* LIST (.*\\Junk.*) "/" Junk$' &&
    printf '%s\n' "$out" | grep -q '^\* LIST (.*\\Sent.*) "/" Sent$' &&
    ok special_use_list || no special_use_list "$out"
[ "$(dv_mailboxes alice | tr '\n' ' ')" = "INBOX Junk Sent " ] &&
    ok mailboxes || no mailboxes "$(dv_mailboxes alice)"

# doveadm helpers.
dv_append alice INBOX "$fx/ham.eml" && dv_append alice INBOX "$fx/spam.eml" &&
    ok append || no append "dv_append failed"
[ "$(dv_count alice INBOX)" = 2 ] && ok count || no count "$(dv_count alice INBOX)"
want='<harness-ham-1@example.org> <harness-spam-1@spam.example> '
[ "$(dv_list alice INBOX | tr '\n' ' ')" = "$want" ] && ok list ||
    no list "$(dv_list alice INBOX)"
[ "$(dv_list alice INBOX Subject | head -n 1)" = "Lunch on Thursday" ] &&
    ok list_subject || no list_subject "$(dv_list alice INBOX Subject)"
out=$(imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost alice secret \
    'EXAMINE INBOX' 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])')
printf '%s\n' "$out" | grep -q '^Message-ID: <harness-spam-1@spam.example>' &&
    ok seen_over_imap || no seen_over_imap "$out"
dv_append alice Archive/2026 "$fx/ham.eml" '\Seen $NotJunk' &&
    [ "$(dv_flags alice Archive/2026)" = "<harness-ham-1@example.org>	\\Seen \$NotJunk" ] &&
    ok append_new_mailbox_flags || no append_new_mailbox_flags \
    "$(dv_flags alice Archive/2026)"
[ "$(dv_uids alice INBOX | cut -f1 | tr '\n' ' ')" = "1 2 " ] && ok uids ||
    no uids "$(dv_uids alice INBOX)"
[ "$(dv_count bob INBOX)" = 0 ] && ok users_apart || no users_apart "bob sees mail"
uv=$(dv_status alice INBOX uidvalidity)
case $uv in
[1-9]*) ok uidvalidity ;;
*) no uidvalidity "'$uv'" ;;
esac

dv_set_uidvalidity alice Archive/2026 4242 &&
    [ "$(dv_status alice Archive/2026 uidvalidity)" = 4242 ] &&
    ok set_uidvalidity || no set_uidvalidity \
    "$(dv_status alice Archive/2026 uidvalidity)"
dv_move alice INBOX Junk '<harness-spam-1@spam.example>' &&
    [ "$(dv_list alice Junk)" = '<harness-spam-1@spam.example>' ] &&
    [ "$(dv_count alice INBOX)" = 1 ] && ok move_one ||
    no move_one "junk: $(dv_list alice Junk)"
dv_flag alice Junk add '$NotJunk' '<harness-spam-1@spam.example>' &&
    dv_flag alice Archive/2026 remove '\Seen' &&
    [ "$(dv_flags alice Junk | cut -f2)" = '$NotJunk' ] &&
    [ "$(dv_flags alice Archive/2026 | cut -f2)" = '$NotJunk' ] &&
    ok flag || no flag "$(dv_flags alice Junk; dv_flags alice Archive/2026)"
dv_move alice Junk INBOX && [ "$(dv_count alice INBOX)" = 2 ] &&
    [ "$(dv_count alice Junk)" = 0 ] && ok move_all ||
    no move_all "INBOX $(dv_count alice INBOX)"
dv_delete alice Archive/2026 &&
    [ "$(dv_mailboxes alice | tr '\n' ' ')" = "INBOX Junk Sent " ] &&
    ok delete || no delete "$(dv_mailboxes alice)"

# The raw protocol log shows what clients sent.
dv_rawlog alice | grep -q 'UID FETCH 1:\*' && ok rawlog ||
    no rawlog "$(ls -l "$DOVECOT_DIR/rawlog/alice")"

# Restart: same ports, same mail, new master.
old=$DOVECOT_PID p1=$IMAP_PORT p2=$IMAPS_PORT
if dovecot_restart && [ "$DOVECOT_PID" != "$old" ] &&
    [ "$IMAP_PORT $IMAPS_PORT" = "$p1 $p2" ] &&
    [ "$(dv_count alice INBOX)" = 2 ] &&
    [ "$(dv_status alice INBOX uidvalidity)" = "$uv" ] &&
    tls "$IMAPS_PORT" "$CA_FILE" localhost; then
	ok restart
else
	no restart "pid $old->$DOVECOT_PID, ports $p1 $p2 -> $IMAP_PORT $IMAPS_PORT"
fi

# A clean stop, twice.
name=$DOVECOT_NAME dir=$DOVECOT_DIR
dovecot_stop; dovecot_stop
n=$(ours "$name")
[ "$n" = 0 ] && [ ! -e "$dir" ] && ok stop || no stop "$n processes, dir $dir"

# --- capability options ----------------------------------------------------
if dovecot_start --no-move; then
	caps no_move -MOVE +UIDPLUS +SPECIAL-USE
	# Dovecot only hides it: MOVE still works when asked.
	dv_append alice INBOX "$fx/spam.eml"
	imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost alice secret \
	    'SELECT INBOX' 'UID MOVE 1 Junk' > "$tmp/out" 2>&1
	[ "$(dv_count alice Junk)" = 1 ] && ok hidden_move_still_works ||
	    no hidden_move_still_works "$(cat "$tmp/out")"
	dv_rawlog alice | grep -q 'UID MOVE 1 Junk' && ok rawlog_shows_move ||
	    no rawlog_shows_move "$(dv_rawlog alice)"
else
	no no_move "start failed"
fi
dovecot_stop

if dovecot_start --no-move --no-uidplus; then
	caps no_move_no_uidplus -MOVE -UIDPLUS +SPECIAL-USE +IMAP4rev1
else
	no no_move_no_uidplus "start failed"
fi
dovecot_stop

if dovecot_start --no-special-use --no-junk; then
	caps no_special_use -SPECIAL-USE +MOVE +UIDPLUS
	out=$(imap_talk tls "$IMAPS_PORT" "$CA_FILE" localhost alice secret \
	    'LIST "" "*"')
	printf '%s\n' "$out" | grep -q '\\Sent\|\\Junk\|Junk$' &&
	    no no_junk_plain_sent "$out" || {
		printf '%s\n' "$out" | grep -q ' Sent$' && ok no_junk_plain_sent ||
		    no no_junk_plain_sent "$out"; }
else
	no no_special_use "start failed"
fi
dovecot_stop

if dovecot_start --starttls-only --cert wronghost; then
	[ -z "$IMAPS_PORT" ] && ok starttls_only_no_imaps ||
	    no starttls_only_no_imaps "IMAPS_PORT=$IMAPS_PORT"
	tls "$IMAP_PORT" "$CA_FILE" localhost -starttls imap
	refused wronghost_refused
	tls "$IMAP_PORT" "$CA_FILE" wrong.example -starttls imap &&
	    ok wronghost_same_ca || no wronghost_same_ca "$(tail -n 5 "$tmp/tls.out")"
	out=$(imap_talk starttls "$IMAP_PORT" "$CA_FILE" localhost alice secret)
	rc=$?
	[ $rc -eq 2 ] && ok client_wronghost_before_login ||
	    no client_wronghost_before_login "rc $rc: $out"
else
	no starttls_only "start failed"
fi
name=$DOVECOT_NAME dir=$DOVECOT_DIR
dovecot_stop
[ "$(ours "$name")" = 0 ] && [ ! -e "$dir" ] && ok final_stop ||
    no final_stop "left over"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
