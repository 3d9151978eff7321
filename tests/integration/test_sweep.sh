#!/bin/sh
# test_sweep.sh: `imapsift sweep`, `log` and `undo` against a private
# Dovecot (tests/integration/dovecot.sh): first run, incremental runs,
# the Sent harvest deciding backscatter against real bounces, dry run,
# rescued mail, undo, a UIDVALIDITY change, the lock, servers without
# MOVE and UIDPLUS, refused TLS and a bad password.  Each case checks the
# folders' exact contents.  Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
fx=$TOP/tests/fixtures/sweep
. "$TOP/tests/integration/dovecot.sh"
tmp=$(mktemp -d)
lockpid=
trap '[ -n "$lockpid" ] && kill "$lockpid" 2>/dev/null; dovecot_stop
    rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# The account locks go to $XDG_STATE_HOME/imapsift/locks: this test's own.
XDG_STATE_HOME=$tmp/xdg
export XDG_STATE_HOME
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# conf FILE [LINE...]: an account for alice on this server.
conf() {
	f=$1; shift
	dv_imapsift_conf "$f" alice "$tmp/state" "$fx/rules" "$@"
}

# sweep [ARGS]: runs a sweep with $tmp/config; rc in $rc, output in out.
sweep() {
	timeout 30 "$IMAPSIFT" sweep -c "$tmp/config" "$@" > "$tmp/out" 2>&1
	rc=$?
}

# variant FILE OLD NEW: a copy of a fixture with OLD replaced by NEW.
variant() { sed "s/$2/$3/g" "$fx/$1" > "$tmp/$3.eml"; echo "$tmp/$3.eml"; }

expect_rc() {	# name want
	[ "$rc" -eq "$2" ] && return 0
	no "$1" "exit $rc, want $2: $(tail -n 3 "$tmp/out")"
	return 1
}

SPAM1=sweep-spam-url@spam.example SPAM2=sweep-spam-phone@cheap-loans.test
HAM=sweep-ham-1@friends.test
LEGIT=dsn-sweep-sent-1@mx.example.net BS=dsn-sweep-forged-9@mx.example.net

# --- default server ------------------------------------------------------
if ! dovecot_start; then
	no start "dovecot_start failed"
	echo "$pass passed, $fail failed"
	exit 1
fi
# learn = false: the counts of EXAMINE, STATUS and FETCH below are of
# the sweep and the Sent harvest; learning (test_learn.sh) adds its own.
conf "$tmp/config" 'learn = false;'
dv_append alice Sent "$fx/sent.eml"
for f in spam-url spam-phone ham bounce-legit bounce-forged; do
	dv_append alice INBOX "$fx/$f.eml"
done

sweep
expect_rc first_run 0 && box first_run INBOX $HAM $LEGIT
box first_run_junk Junk $SPAM1 $SPAM2
box first_run_backscatter Backscatter $BS
dv_mailboxes alice | grep -qx Backscatter && ok missing_folder_created ||
    no missing_folder_created "$(dv_mailboxes alice | tr '\n' ' ')"
grep -q '^alice: INBOX 5 new, 2 junk, 1 backscatter moved, 1 kept bounce' \
    "$tmp/out" && ok summary_line || no summary_line "$(cat "$tmp/out")"
grep -q "moved uid 1 to Junk: url:spam.example" "$tmp/out" &&
    ok move_line || no move_line "$(cat "$tmp/out")"
dv_flags alice Junk | grep -v -q '\$Junk' && no junk_flag \
    "$(dv_flags alice Junk)" || ok junk_flag

# Incremental: nothing new fetched, then only the new message.  Sent,
# harvested before and unchanged, is asked with STATUS, not EXAMINEd.
n1=$(dv_rawlog alice | grep -c 'BODY.PEEK\[\]')
e1=$(dv_rawlog alice | grep -c 'EXAMINE')
s1=$(dv_rawlog alice | grep -c 'STATUS Sent (UIDVALIDITY UIDNEXT)')
sweep
n2=$(dv_rawlog alice | grep -c 'BODY.PEEK\[\]')
e2=$(dv_rawlog alice | grep -c 'EXAMINE')
s2=$(dv_rawlog alice | grep -c 'STATUS Sent (UIDVALIDITY UIDNEXT)')
expect_rc incremental_nothing 0 && [ "$n1" = "$n2" ] &&
    grep -q 'INBOX 0 new' "$tmp/out" && ok incremental_nothing ||
    no incremental_nothing "fetches $n1 -> $n2: $(cat "$tmp/out")"
[ "$e1" = "$e2" ] && [ "$s2" -eq $((s1 + 1)) ] && ok sent_status_only ||
    no sent_status_only "EXAMINE $e1 -> $e2, STATUS Sent $s1 -> $s2"
dv_append alice INBOX "$fx/spam-late.eml"
sweep
expect_rc incremental_new 0 && grep -q 'INBOX 1 new, 1 junk' "$tmp/out" &&
    box incremental_new Junk $SPAM1 $SPAM2 sweep-spam-late@spam.example ||
    no incremental_new "$(cat "$tmp/out")"

# Sent harvested incrementally: a bounce of new sent mail stays, a bounce
# of an unknown ID dated inside the covered span moves.
dv_append alice Sent "$(variant sent.eml sweep-sent-1 sweep-sent-2)"
dv_append alice INBOX "$(variant bounce-legit.eml sweep-sent-1 sweep-sent-2)"
dv_append alice INBOX "$(variant bounce-forged.eml sweep-forged-9 \
    sweep-forged-8)"
sweep
expect_rc sent_harvest 0 &&
    box sent_harvest_legit INBOX $HAM $LEGIT dsn-sweep-sent-2@mx.example.net
box sent_harvest_backscatter Backscatter $BS dsn-sweep-forged-8@mx.example.net

# Dry run: says what it would move, moves nothing, keeps the state.
dv_append alice INBOX "$(variant spam-url.eml sweep-spam-url sweep-spam-dry)"
sweep --dry-run
expect_rc dry_run 0 && grep -q 'would move uid' "$tmp/out" &&
    box dry_run INBOX $HAM $LEGIT dsn-sweep-sent-2@mx.example.net \
    sweep-spam-dry@spam.example || no dry_run "$(cat "$tmp/out")"
sweep
box after_dry_run Junk $SPAM1 $SPAM2 sweep-spam-late@spam.example \
    sweep-spam-dry@spam.example

# Rescued: the user moves a message back; the next sweep leaves it.
dv_move alice Junk INBOX "<$SPAM1>"
sweep
expect_rc rescued 0 && box rescued INBOX $HAM $LEGIT \
    dsn-sweep-sent-2@mx.example.net $SPAM1

# log lists every move, newest first.
timeout 10 "$IMAPSIFT" log -c "$tmp/config" > "$tmp/log" 2>&1
[ "$(wc -l < "$tmp/log")" -eq 6 ] && head -n 1 "$tmp/log" |
    grep -q 'alice	INBOX	.*	Junk	junk	url:spam.example.*	done$' &&
    ok log || no log "$(cat "$tmp/log")"

# Undo moves everything back and drops $Junk.
timeout 30 "$IMAPSIFT" undo -c "$tmp/config" --all > "$tmp/out" 2>&1
rc=$?
ALL="$HAM $LEGIT dsn-sweep-sent-2@mx.example.net $SPAM1 $SPAM2 $BS
    sweep-spam-late@spam.example sweep-spam-dry@spam.example
    dsn-sweep-forged-8@mx.example.net"
expect_rc undo 0 && box undo INBOX $ALL
box undo_junk Junk
box undo_backscatter Backscatter
# (SPAM1 the user rescued by hand: its $Junk is the user's business)
dv_flags alice INBOX | grep -v "<$SPAM1>" | grep -q '\$Junk' &&
    no undo_flags \
    "$(dv_flags alice INBOX)" || ok undo_flags

# UIDVALIDITY change: nothing moved twice (all in the log), new spam moved.
# One old row is stamped a day ahead, as a clock stepped back leaves it: a
# move is this sweep's by its id, never by its time.
/usr/bin/python3 - "$tmp/state/imapsift.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE action_log SET time = time + 86400"
    " WHERE msgid = 'sweep-spam-dry@spam.example'")
db.commit()
PY
dv_set_uidvalidity alice INBOX 4242
dv_append alice INBOX "$(variant spam-phone.eml sweep-spam-phone \
    sweep-spam-uv)"
sweep
expect_rc uidvalidity 0 && box uidvalidity Junk sweep-spam-uv@cheap-loans.test
box uidvalidity_inbox INBOX $ALL

# A crash between the log row and the move: the pending row is closed as
# failed and the message judged and moved again (once).
f=$(variant spam-url.eml sweep-spam-url sweep-spam-crash)
dv_append alice INBOX "$f"
uid=$(dv_uids alice INBOX | awk -F '\t' '$2 == "<sweep-spam-crash@spam.example>" {
    print $1 }')
uv=$(dv_status alice INBOX uidvalidity)
/usr/bin/python3 - "$tmp/state/imapsift.db" "$uv" "$uid" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO action_log (time, account, mailbox, uidvalidity,"
    " uid, msgid, dest, verdict, state) VALUES (?, 'alice', 'INBOX', ?, ?,"
    " 'sweep-spam-crash@spam.example', 'Junk', 'junk', 'pending')",
    (int(time.time()), int(sys.argv[2]), int(sys.argv[3])))
db.commit()
PY
sweep
"$IMAPSIFT" log -c "$tmp/config" > "$tmp/log" 2>&1
expect_rc crash_pending 0 && box crash_pending Junk \
    sweep-spam-uv@cheap-loans.test sweep-spam-crash@spam.example
st=$(awk -F '\t' -v u="$uid" '$5 == u && $6 == "Junk" { print $9 }' \
    "$tmp/log" | tr '\n' ' ')
[ "$st" = "done failed " ] &&
    ok crash_log || no crash_log "$(head -n 3 "$tmp/log")"

# A second sweep while the lock is held skips quietly.  The lock is
# named after the server mailbox, in $XDG_STATE_HOME/imapsift/locks.
# (-o: the lock is flock's own, so killing it frees the lock)
flock -o "$(ls "$XDG_STATE_HOME"/imapsift/locks/alice@localhost:"$IMAPS_PORT"-*.lock)" sleep 5 &
lockpid=$!
sleep 0.3
t0=$(date +%s)
sweep
t1=$(date +%s)
expect_rc lock_held 0 && grep -q 'skipped' "$tmp/out" &&
    [ $((t1 - t0)) -lt 3 ] && ok lock_held || no lock_held "$(cat "$tmp/out")"
kill "$lockpid" 2>/dev/null; wait "$lockpid" 2>/dev/null; lockpid=

# STARTTLS on the plain port works the same (nothing new to move).
sed "s/port = $IMAPS_PORT;/port = $IMAP_PORT; tls = \"starttls\";/" \
    "$tmp/config" > "$tmp/starttls"
chmod 600 "$tmp/starttls"
timeout 30 "$IMAPSIFT" sweep -c "$tmp/starttls" > "$tmp/out" 2>&1
rc=$?
expect_rc starttls 0 && grep -q '^alice: INBOX 0 new' "$tmp/out" &&
    ok starttls || no starttls "$(cat "$tmp/out")"

# Bad password: a clear error, exit 3.
conf "$tmp/bad" 'password_command = "echo wrong";'
sed -i '/password = "secret"/d' "$tmp/bad"
timeout 30 "$IMAPSIFT" sweep -c "$tmp/bad" > "$tmp/out" 2>&1
rc=$?
expect_rc bad_password 3 && grep -q 'refused' "$tmp/out" &&
    ok bad_password || no bad_password "$(cat "$tmp/out")"

# password_command that fails: an auth-class error, exit 3, no login.
conf "$tmp/cmdfail" 'password_command = "echo oops >&2; exit 7";'
sed -i '/password = "secret"/d' "$tmp/cmdfail"
timeout 30 "$IMAPSIFT" sweep -c "$tmp/cmdfail" > "$tmp/out" 2>&1
rc=$?
expect_rc password_command 3 && grep -q 'password_command failed' \
    "$tmp/out" && ok password_command || no password_command "$(cat "$tmp/out")"

# check -c: a good config passes; a bad one gives file:line and exit 2.
"$IMAPSIFT" check -c "$tmp/config" > "$tmp/out" 2>&1 &&
    grep -q 'config OK' "$tmp/out" && ok check_config ||
    no check_config "$(cat "$tmp/out")"
sed 's/first_run_days = 30;//; s/user = "alice";/user = "alice"; colour = 1;/' \
    "$tmp/config" > "$tmp/badconf"
chmod 600 "$tmp/badconf"
"$IMAPSIFT" check -c "$tmp/badconf" > "$tmp/out" 2>&1
rc=$?
expect_rc check_bad_config 2 && grep -q "badconf:[0-9]*:.*colour" "$tmp/out" &&
    ok check_bad_config || no check_bad_config "$(cat "$tmp/out")"

# Wrong CA: refused before LOGIN (no session reaches the rawlog).
s1=$(ls "$DOVECOT_DIR/rawlog/alice" | wc -l)
sed "s|$CA_FILE|$WRONG_CA_FILE|" "$tmp/config" > "$tmp/wrongca"
chmod 600 "$tmp/wrongca"
timeout 30 "$IMAPSIFT" sweep -c "$tmp/wrongca" > "$tmp/out" 2>&1
rc=$?
s2=$(ls "$DOVECOT_DIR/rawlog/alice" | wc -l)
[ "$rc" -ne 0 ] && [ "$s1" = "$s2" ] && grep -qi 'certificate\|verif' \
    "$tmp/out" && ok wrong_ca || no wrong_ca "rc $rc: $(cat "$tmp/out")"

# --- without MOVE: UID COPY + UID STORE + UID EXPUNGE ---------------------
nomove() {	# name options...
	n=$1; shift
	dovecot_stop
	rm -rf "$tmp/state"
	if ! dovecot_start "$@"; then
		no "$n" "dovecot_start $* failed"
		return 1
	fi
	conf "$tmp/config"
	dv_append alice INBOX "$fx/spam-url.eml"
	dv_append alice INBOX "$fx/ham.eml"
	sweep
	expect_rc "$n" 0 && box "$n" Junk $SPAM1
}
if nomove no_move --no-move; then
	box no_move_inbox INBOX $HAM
	dv_rawlog alice > "$tmp/raw"
	grep -q 'UID COPY' "$tmp/raw" && grep -q 'UID STORE .*Deleted' \
	    "$tmp/raw" && grep -q 'UID EXPUNGE' "$tmp/raw" &&
	    ! grep -q 'UID MOVE' "$tmp/raw" && ok no_move_commands ||
	    no no_move_commands "$(cat "$tmp/raw")"
fi
if nomove no_move_uidplus --no-move --no-uidplus; then
	box no_uidplus_inbox INBOX $HAM $SPAM1
	dv_rawlog alice > "$tmp/raw"
	grep -q 'UID COPY' "$tmp/raw" && ! grep -q 'EXPUNGE' "$tmp/raw" &&
	    ! grep -q 'UID MOVE' "$tmp/raw" &&
	    dv_flags alice INBOX | grep "<$SPAM1>" | grep -q 'Deleted' &&
	    ok no_uidplus_commands ||
	    no no_uidplus_commands "$(cat "$tmp/raw"; dv_flags alice INBOX)"
fi

# --- a certificate for another host name -----------------------------------
dovecot_stop
if dovecot_start --cert wronghost; then
	conf "$tmp/config"
	sweep
	s=$(ls "$DOVECOT_DIR/rawlog/alice" | wc -l)
	[ "$rc" -ne 0 ] && [ "$s" -eq 0 ] && grep -qi 'certificate\|verif\|host' \
	    "$tmp/out" && ok wrong_host || no wrong_host "rc $rc: $(cat "$tmp/out")"
else
	no wrong_host "dovecot_start --cert wronghost failed"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
