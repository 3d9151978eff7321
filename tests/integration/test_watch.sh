#!/bin/sh
# test_watch.sh: `imapsift watch` against a private Dovecot: mail APPENDed
# while watching is moved; Dovecot stopped and started again mid-IDLE
# (the daemon reconnects and moves what arrived while it was down);
# SIGHUP with a broken rule file keeps the old rules and logs why; SIGHUP
# with a good one takes effect for the next message; SIGUSR1 logs a
# status line; a rule file changed on disk is reloaded without a signal,
# and a FIFO or /dev/zero there fails that reload at once;
# SIGTERM exits 0 (the harness waits at most 5 s); a dead
# account (a port nobody listens on) beside a live one does not hold the
# live one back; a message the user takes back out of Junk stays in
# INBOX.  Each case checks the folders' exact contents.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
fx=$TOP/tests/fixtures/sweep
. "$TOP/tests/integration/dovecot.sh"
. "$TOP/tests/proc.sh"
tmp=$(mktemp -d)
wpid=
trap '[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null; dovecot_stop
    rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

SPAM1=sweep-spam-url@spam.example SPAM2=sweep-spam-phone@cheap-loans.test
HAM=sweep-ham-1@friends.test

# variant FILE OLD NEW: a copy of a fixture with OLD replaced by NEW.
variant() { sed "s/$2/$3/g" "$fx/$1" > "$tmp/$3.eml"; echo "$tmp/$3.eml"; }

# until_log PATTERN [SECONDS]: waits (polling) until the daemon's log has
# a line matching PATTERN; 1 if it never comes (a bound, not a timing
# assertion: the cases assert what happened, not how fast).
until_log() {
	i=0
	while [ $i -lt $((${2:-20} * 10)) ]; do
		grep -Eq -- "$1" "$tmp/log" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# count PATTERN: lines of the log matching it.
count() { grep -Ec -- "$1" "$tmp/log"; }

start_watch() {
	"$IMAPSIFT" watch -f -c "$tmp/config" >> "$tmp/log" 2>&1 &
	wpid=$!
}

# stop_watch NAME: SIGTERM; the daemon must be gone within 5 s, status 0.
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

dovecot_start || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$tmp/rules"
cp "$fx/rules/"* "$tmp/rules/"
dv_imapsift_conf "$tmp/config" alice "$tmp/state" "$tmp/rules" \
    'harvest_interval = 3600;'

# --- mail that arrives while watching is moved ----------------------------
dv_append alice INBOX "$fx/ham.eml"
start_watch
until_log 'alice: connected.*IDLE' || no idle_started "$(cat "$tmp/log")"
dv_append alice INBOX "$fx/spam-url.eml"
dv_append alice INBOX "$fx/spam-phone.eml"
until_log "moved uid .* to Junk.*phone" && until_log "moved uid .* to Junk.*url"
box appended_spam_moved Junk "$SPAM1" "$SPAM2"
box ham_stays INBOX "$HAM"
[ "$(count 'moved uid')" -eq 2 ] && ok each_moved_once ||
    no each_moved_once "$(grep 'moved uid' "$tmp/log")"

# --- SIGUSR1: one status line per account ------------------------------------
kill -USR1 "$wpid"
until_log 'alice: idle for [0-9]+s, [0-9]+ seen, 2 moved' 10 &&
    ok status_line || no status_line "$(tail -n 3 "$tmp/log")"

# --- Dovecot stopped and started again mid-IDLE ------------------------------
# (the harness's own stop and launch: same ports, same mail store)
_dv_kill
until_log 'alice: connection lost' || no lost_logged "$(tail -n 3 "$tmp/log")"
# Delivered straight into the Maildir while the server is down.
md=$DOVECOT_DIR/home/alice/Maildir
cp "$(variant spam-url.eml "$SPAM1" down-1@spam.example)" \
    "$md/new/$(date +%s).down1.localhost"
chown --reference="$md" "$md/new/"*.down1.localhost
_dv_launch || no restart "dovecot did not start again"
until_log 'alice: connection back' 400 && ok reconnected ||
    no reconnected "$(tail -n 5 "$tmp/log")"
i=0
while [ "$(dv_count alice Junk)" -lt 3 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
box caught_up_after_restart Junk "$SPAM1" "$SPAM2" down-1@spam.example

# --- SIGHUP with a broken rule file keeps the old rules ---------------------
printf 'not a domain at all !!\n' > "$tmp/rules/broken.domains"
kill -HUP "$wpid"
until_log 'reload failed: keeping' && ok broken_reload_kept ||
    no broken_reload_kept "$(tail -n 5 "$tmp/log")"
grep -q 'broken.domains:1:' "$tmp/log" && ok broken_reload_says_where ||
    no broken_reload_says_where "$(tail -n 5 "$tmp/log")"
dv_append alice INBOX "$(variant spam-url.eml "$SPAM1" after-bad@spam.example)"
i=0
while [ "$(dv_count alice Junk)" -lt 4 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
box old_rules_still_work Junk "$SPAM1" "$SPAM2" down-1@spam.example \
    after-bad@spam.example

# --- SIGHUP with a good rule file: the next message meets it --------------
rm -f "$tmp/rules/broken.domains"
printf 'friends.test\n' > "$tmp/rules/new.domains"
kill -HUP "$wpid"
until_log 'reloaded: 1 account' && ok good_reload ||
    no good_reload "$(tail -n 5 "$tmp/log")"
until_log 'alice: connected.*IDLE' 10
n0=$(count 'alice: connected')
i=0
while [ "$(count 'alice: connected')" -lt 2 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
dv_append alice INBOX "$(variant ham.eml "$HAM" ham-2@friends.test)"
i=0
while [ "$(dv_count alice Junk)" -lt 5 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
box new_rule_applies Junk "$SPAM1" "$SPAM2" down-1@spam.example \
    after-bad@spam.example ham-2@friends.test
box earlier_ham_untouched INBOX "$HAM"
: "$n0"

# --- a rule file changed on disk, no signal: reloaded, and applied --------
printf 'example.net\n' > "$tmp/rules/disk.domains"
until_log 'reloading \(rule files changed\)' && ok disk_change_reloads ||
    no disk_change_reloads "$(tail -n 5 "$tmp/log")"
until_log 'reloaded: 1 account' 10
i=0
while [ "$(count 'alice: connected')" -lt 3 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
sed "s/$HAM/disk-1@friends.test/" "$fx/ham.eml" |
    sed 's/friends\.test/example.net/g' > "$tmp/disk-1.eml"
dv_append alice INBOX "$tmp/disk-1.eml"
i=0
while [ "$(dv_count alice Junk)" -lt 6 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
box disk_rule_applies Junk "$SPAM1" "$SPAM2" down-1@spam.example \
    after-bad@spam.example ham-2@friends.test disk-1@example.net
rm -f "$tmp/rules/disk.domains"

# --- a FIFO or /dev/zero among the rule files: the reload fails at once -----
# (it used to hang on the FIFO, or read /dev/zero until memory ran out)
mkfifo "$tmp/rules/fifo.domains"
until_log 'fifo.domains: not a regular file' && ok fifo_rule_refused ||
    no fifo_rule_refused "$(tail -n 5 "$tmp/log")"
rm -f "$tmp/rules/fifo.domains"
ln -s /dev/zero "$tmp/rules/zero.domains"
until_log 'zero.domains: not a regular file' && ok dev_zero_rule_refused ||
    no dev_zero_rule_refused "$(tail -n 5 "$tmp/log")"
rm -f "$tmp/rules/zero.domains"
n0=$(count 'alice: [a-z ]+ for [0-9]+s, ')
kill -USR1 "$wpid"
i=0
while [ "$(count 'alice: [a-z ]+ for [0-9]+s, ')" -le "$n0" ] &&
    [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
[ "$(count 'alice: [a-z ]+ for [0-9]+s, ')" -gt "$n0" ] &&
    ok alive_after_bad_rules ||
    no alive_after_bad_rules "$(tail -n 5 "$tmp/log")"

# --- SIGTERM: exit 0 within 5 s ----------------------------------------------
stop_watch sigterm_exits_0

# --- one dead account does not delay the other ------------------------------
rm -f "$tmp/rules/new.domains"
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
	cat "$tmp/config" | sed '$d'
	printf '}, {\n  name = "dead";\n  host = "localhost";\n'
	printf '  port = %s;\n  ca_file = "%s";\n' "$dead" "$CA_FILE"
	printf '  user = "bob";\n  password = "hunter2";\n  timeout = 2;\n'
	printf '} );\n'
} > "$tmp/config2"
mv "$tmp/config2" "$tmp/config"
chmod 600 "$tmp/config"
: > "$tmp/log"
start_watch
until_log 'dead: .*(refused|connect)' && ok dead_account_logged ||
    no dead_account_logged "$(cat "$tmp/log")"
until_log 'alice: connected.*IDLE'
dv_append alice INBOX "$(variant spam-phone.eml "$SPAM2" live-1@cheap-loans.test)"
i=0
while [ "$(dv_count alice Junk)" -lt 7 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
box live_account_moves Junk "$SPAM1" "$SPAM2" down-1@spam.example \
    after-bad@spam.example ham-2@friends.test disk-1@example.net \
    live-1@cheap-loans.test
[ "$(count 'dead: ')" -le 2 ] && ok dead_logged_once_per_change ||
    no dead_logged_once_per_change "$(grep 'dead: ' "$tmp/log")"

# --- a message the user takes back out of Junk is left in INBOX ------------
# (in a later pass of the daemon that moved it: that move is not this
# pass's own move of another copy)
n0=$(count 'moved uid')
dv_move alice Junk INBOX "<live-1@cheap-loans.test>"
dv_append alice INBOX "$(variant spam-phone.eml "$SPAM2" live-2@cheap-loans.test)"
i=0
while [ "$(count 'moved uid')" -le "$n0" ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
box rescued_stays INBOX "$HAM" live-1@cheap-loans.test
box rescued_stays_junk Junk "$SPAM1" "$SPAM2" down-1@spam.example \
    after-bad@spam.example ham-2@friends.test disk-1@example.net \
    live-2@cheap-loans.test
stop_watch sigterm_with_dead_account

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
