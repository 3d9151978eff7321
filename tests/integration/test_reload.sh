#!/bin/sh
# test_reload.sh: `imapsift watch` reloads without stopping (issue 11,
# "Concurrency and duplicates").  Two scripted peers (tests/faults/
# peer.py, plaintext on 127.0.0.1): "slow" answers the first FETCH of a
# message body never (the account's timeout is 300 s, so only a cancel
# ends it), "live" is sane.  One daemon watches an account on each.
#   - SIGHUP while slow's FETCH stalls, configs unchanged: the daemon
#     keeps running (no 30 s stop-everything), both accounts are kept
#     (no new login), live keeps moving mail;
#   - a new rule file: taken without a signal and without a new login,
#     the next mail is judged by it;
#   - a broken config on SIGHUP: the old one kept, mail still moved;
#   - slow's account changed (idle_refresh), SIGHUP: its stalled thread
#     is cancelled and restarted (a new login), live is not, and the
#     spam the stall held ends in Junk;
#   - live's account changed while it idles: its connection is cancelled
#     at once and it logs in again, and moves the next mail;
# nothing lost or doubled.
# Every wait is a bounded polling loop.  Environment: IMAPSIFT, TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/faults/lib.sh"
. "$TOP/tests/proc.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-reload.XXXXXX")
p1='' p2='' wpid=''
trap '[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null
    [ -n "$p1" ] && kill "$p1" 2>/dev/null
    [ -n "$p2" ] && kill "$p2" 2>/dev/null
    rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
XDG_STATE_HOME=$tmp/xdg
export XDG_STATE_HOME
n=0 pass=0 fail=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1: $2"; }
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
log=$tmp/log
logtail() { tail -n 8 "$log" | tr '\n' '|'; }
in_log() { grep -Eq -- "$1" "$log"; }
count() { grep -Ec -- "$1" "$log"; }
alive() { kill -0 "$wpid" 2>/dev/null; }
expect() {
	_n=$1; shift
	if within "$@"; then ok "$_n"; else no "$_n" "$(logtail)"; fi
}

# start_peer NAME FAULTS LOADS: a peer in $tmp/NAME; pid in $peerpid.
start_peer() {
	d=$tmp/$1
	mkdir -p "$d/in"
	printf '[%s]\n' "$2" > "$d/faults.json"
	set -- --inject-dir "$d/in" $(for f in $3; do
		printf ' --load INBOX:%s' "$fx/$f.eml"; done)
	peer_launch 600 "$@"
}
# inject PEER ID [FIXTURE]: new mail for the account on PEER.
inject() {
	sed "s/^Message-ID: .*/Message-ID: <$2>/" "$fx/${3:-spam-url}.eml" \
	    > "$tmp/$1/.$2.tmp"
	mv "$tmp/$1/.$2.tmp" "$tmp/$1/in/$2.eml"
}
# junk PEER ID: the message is in PEER's Junk.
junk() { grep -q "^Junk	<$2>" "$tmp/$1/state"; }
content() { cut -f 1,2 "$tmp/$1/state" | tr '\t' ' ' | sort | tr '\n' '|'; }

start_peer slow '{"cmd": "UID FETCH", "match": "BODY\\.PEEK\\[\\]", "action": "stall"}' \
    "ham spam-url" || { echo "not ok 1 - peer slow"; exit 1; }
p1=$peerpid PS=$PORT
start_peer live '' ham || { echo "not ok 1 - peer live"; exit 1; }
p2=$peerpid PL=$PORT
mkdir -p "$tmp/rules"
cp -R "$fx/rules/." "$tmp/rules/"

# conf [IDLE_REFRESH of slow [of live]]
conf() {
	umask 077
	{
		printf 'store = "%s";\nrules = [ "%s" ];\naccounts = ( ' \
		    "$tmp/store" "$tmp/rules"
		for a in "slow $PS 300 ${1:-600}" "live $PL 30 ${2:-600}"; do
			set -- $a
			printf '{ name = "%s"; host = "localhost"; port = %s;\n' \
			    "$1" "$2"
			printf '  tls = "none"; user = "alice"; password = "secret";\n'
			printf '  addresses = [ "alice@example.org" ];\n'
			printf '  timeout = %s; idle_refresh = %s;\n' "$3" "$4"
			printf '  harvest_interval = 3600; }'
			[ "$1" = slow ] && printf ',\n'
		done
		printf ' );\n'
	} > "$tmp/config.new"
	mv "$tmp/config.new" "$tmp/config"
	umask 022
}
conf
"$IMAPSIFT" watch -f -c "$tmp/config" > "$log" 2>&1 &
wpid=$!

stalled() { grep -q 'C1 stalling\|fault stall' "$tmp/slow/peer.log"; }
idling() { grep -Eq '^[0-9.]+ C[0-9]+ idling$' "$tmp/live/peer.log"; }
expect "slow: the FETCH stalls" 15 stalled
expect "live: idling" 15 idling

# --- 1. SIGHUP during the stall, nothing changed --------------------------
kill -HUP "$wpid"
expect "hup_during_stall: reloaded" 10 in_log 'reloaded: 2 accounts: 2 kept'
inject live reload-live-1@spam.example
expect "hup_during_stall: live still moves mail" 20 junk live \
    reload-live-1@spam.example
# the old code gave up after 30 s and exited: wait past that
i=0
while [ $i -lt 35 ] && alive; do sleep 1; i=$((i + 1)); done
if alive; then ok "hup_during_stall: the daemon keeps running"
else no "hup_during_stall: the daemon keeps running" "$(logtail)"; fi
[ "$(count 'live: connected')" -eq 1 ] && [ "$(count 'slow: connected')" -eq 1 ] &&
    ok "hup_during_stall: no account restarted" ||
    no "hup_during_stall: no account restarted" "$(logtail)"

# --- 2. a new rule file: no signal, no restart, the next mail meets it ---------
sed 's/spam\.example/fresh-spam.test/g' "$fx/spam-url.eml" |
    sed 's/^Message-ID: .*/Message-ID: <reload-rule@x.test>/' > "$tmp/fresh.eml"
printf 'fresh-spam.test\n' > "$tmp/rules/new.domains.tmp"
mv "$tmp/rules/new.domains.tmp" "$tmp/rules/new.domains"
expect "rule_file: reloaded" 10 in_log 'rule files changed'
within 10 in_log 'live: reloaded rules in effect|reloaded: 2 accounts' >/dev/null
cp "$tmp/fresh.eml" "$tmp/live/in/.f.tmp"
mv "$tmp/live/in/.f.tmp" "$tmp/live/in/reload-rule.eml"
expect "rule_file: the new rule moves the next mail" 20 junk live \
    reload-rule@x.test
[ "$(count 'live: connected')" -eq 1 ] &&
    ok "rule_file: live not restarted" ||
    no "rule_file: live not restarted" "$(logtail)"

# --- 3. a broken config on SIGHUP: the old one is kept ---------------------
cp "$tmp/config" "$tmp/config.good"
printf 'accounts = ( { name = "x" \n' > "$tmp/config"
kill -HUP "$wpid"
expect "broken_config: kept" 10 in_log 'reload failed: keeping'
inject live reload-live-2@spam.example spam-phone
expect "broken_config: live still moves mail" 20 junk live \
    reload-live-2@spam.example
mv "$tmp/config.good" "$tmp/config"

# --- 4. slow's settings changed: it alone is cancelled and restarted ----------
conf 900
kill -HUP "$wpid"
expect "changed: reloaded" 10 in_log 'reloaded: 2 accounts: 1 kept.*1 restarted'
expect "changed: the stalled connection is cancelled" 20 \
    in_log 'slow: still busy .*cancelling'
expect "changed: slow logs in again" 20 in_log 'slow: connected.*' 
within 20 sh -c "[ \$(grep -c 'slow: connected' '$log') -ge 2 ]"
[ "$(count 'slow: connected')" -ge 2 ] && ok "changed: slow restarted" ||
    no "changed: slow restarted" "$(logtail)"
[ "$(count 'live: connected')" -eq 1 ] && ok "changed: live not restarted" ||
    no "changed: live not restarted" "$(logtail)"
expect "changed: the held spam moved after the restart" 20 junk slow \
    sweep-spam-url@spam.example
alive && ok "changed: the daemon runs" || no "changed: the daemon runs" "$(logtail)"

# --- 5. live's settings changed while it idles: cancelled at once ------------
conf 900 1200
kill -HUP "$wpid"
expect "idle_changed: reloaded" 10 in_log 'reloaded: 2 accounts: 1 kept.*1 restarted'
within 20 sh -c "[ \$(grep -c 'live: connected' '$log') -ge 2 ]"
[ "$(count 'live: connected')" -ge 2 ] && ok "idle_changed: live restarted" ||
    no "idle_changed: live restarted" "$(logtail)"
in_log 'live: still busy' && no "idle_changed: no grace needed" "$(logtail)" ||
    ok "idle_changed: no grace needed"
within 10 sh -c "[ \$(grep -Ec '^[0-9.]+ C[0-9]+ idling\$' '$tmp/live/peer.log') -ge 2 ]"
inject live reload-live-3@spam.example
expect "idle_changed: live moves mail after its restart" 20 junk live \
    reload-live-3@spam.example

term_wait "$wpid"
rc=$?
wpid=
case $rc in
0) ok "SIGTERM: exit 0" ;;
124) no "SIGTERM: exit" "still running" ;;
*) no "SIGTERM: exit 0" "exit $rc" ;;
esac
kill "$p1" "$p2" 2>/dev/null; wait "$p1" "$p2" 2>/dev/null; p1='' p2=''
s=$(content slow) l=$(content live)
[ "$s" = "INBOX $HAM|Junk <sweep-spam-url@spam.example>|Sent <sweep-sent-1@example.org>|" ] &&
    ok "slow: nothing lost or doubled" || no "slow: nothing lost or doubled" "$s"
[ "$l" = "INBOX $HAM|Junk <reload-live-1@spam.example>|Junk <reload-live-2@spam.example>|Junk <reload-live-3@spam.example>|Junk <reload-rule@x.test>|Sent <sweep-sent-1@example.org>|" ] &&
    ok "live: nothing lost or doubled" || no "live: nothing lost or doubled" "$l"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
