#!/bin/sh
# test_locks.sh: the account locks against a private Dovecot (issue 11,
# "Concurrency and duplicates").  Several rounds each of
#   - four `undo --all` at once on the same config;
#   - three sweeps at once of the same IMAP user under three configs with
#     their own stores, and under three account names of one config and
#     one store;
# after each round every Message-ID must be in exactly one mailbox, once
# (dv_list), and the spam where the last run left it.  Then: undo while
# the work lock is held moves nothing, waits for it (--wait 2: exits 4),
# and undoes once it is free; undo while `watch` watches the account
# works; a lock directory open to
# others, and a lock file that is a symlink, are refused.
# Environment: IMAPSIFT (the binary), TOP; LOCKS_ROUNDS (default 5),
# LOCKS_N (messages per round, default 30).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
fx=$TOP/tests/fixtures/sweep
. "$TOP/tests/integration/dovecot.sh"
tmp=$(mktemp -d)
lockpid='' wpid=''
trap '[ -n "$lockpid" ] && kill "$lockpid" 2>/dev/null
    [ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null
    dovecot_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# The lock directory is $XDG_STATE_HOME/imapsift/locks: this test's own.
XDG_STATE_HOME=$tmp/xdg
export XDG_STATE_HOME
rounds=${LOCKS_ROUNDS:-5}
pass=0 fail=0 N=${LOCKS_N:-30}

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "not ok $1: $2"; }

if ! dovecot_start; then
	no start "dovecot_start failed"
	echo "$pass passed, $fail failed"
	exit 1
fi
dv_append alice Sent "$fx/sent.eml"

# spam TAG: N new spam messages in alice's INBOX, Message-ID <TAG-k@spam.example>.
spam() {
	_k=1
	while [ $_k -le $N ]; do
		sed "s/^Message-ID: .*/Message-ID: <$1-$_k@spam.example>/" \
		    "$fx/spam-url.eml" > "$tmp/m.eml"
		dv_append alice INBOX "$tmp/m.eml" || return 1
		_k=$((_k + 1))
	done
}

# once NAME TAG WHERE: every <TAG-k@spam.example> is in mailbox WHERE
# exactly once and in no other mailbox of alice.
once() {
	for m in INBOX Junk; do
		dv_list alice "$m"
	done > "$tmp/all"
	_bad=$(grep -c "^<$2-" "$tmp/all")
	_in=$(dv_list alice "$3" | grep -c "^<$2-")
	_dups=$(grep "^<$2-" "$tmp/all" | sort | uniq -d | wc -l)
	if [ "$_bad" -eq $N ] && [ "$_in" -eq $N ] && [ "$_dups" -eq 0 ]; then
		ok "$1"
	else
		no "$1" "$_bad copies in all, $_in in $3, $_dups Message-IDs \
doubled (want $N, $N, 0)"
	fi
}

# conf FILE NAME STORE [NAME...]: an account NAME for alice (and each
# further NAME: the same IMAP user under another name, in the same store).
conf() {
	_f=$1 _n=$2
	dv_imapsift_conf "$1" "$2" "$3" "$fx/rules"
	shift 3
	[ $# -gt 0 ] || return 0
	sed -n '/^accounts = ( {$/,/^} );$/p' "$_f" | sed '1d;$d' > "$tmp/body"
	{
		sed '/^accounts = ( {$/,$d' "$_f"
		echo 'accounts = ( {'
		cat "$tmp/body"
		for _o in "$@"; do
			echo '}, {'
			sed "s/name = \"$_n\"/name = \"$_o\"/" "$tmp/body"
		done
		echo '} );'
	} > "$_f.new"
	chmod 600 "$_f.new"
	mv "$_f.new" "$_f"
}

conf "$tmp/c1" alice "$tmp/s1"
conf "$tmp/c2" mine "$tmp/s2"
conf "$tmp/c4" also "$tmp/s4"
conf "$tmp/c3" x "$tmp/s3" y z
if ! "$IMAPSIFT" check -c "$tmp/c3" > "$tmp/out" 2>&1; then
	no config "c3: $(cat "$tmp/out")"
fi

# at TAG CMD...: runs the commands (separated by ",") at once, output in
# $tmp/TAG.N; every exit status 0, else not ok TAG.
at() {
	_t=$1; shift
	_pids='' _i=0 _a=''
	for _w in "$@" ,; do
		if [ "$_w" != , ]; then
			_a="$_a $_w"
			continue
		fi
		_i=$((_i + 1))
		# shellcheck disable=SC2086
		timeout 120 "$IMAPSIFT" $_a > "$tmp/$_t.$_i" 2>&1 &
		_pids="$_pids $!"
		_a=''
	done
	_bad=''
	for _p in $_pids; do
		wait "$_p" || _bad="$_bad $_p:$?"
	done
	if [ -z "$_bad" ]; then
		ok "$_t: all exit 0"
	else
		no "$_t: all exit 0" "exit$_bad: $(tail -q -n 1 "$tmp/$_t".* |
		    tr '\n' '|')"
	fi
}

# --- 1. concurrent undo --all -----------------------------------------------
# (four at once: the race is between a FETCH and a MOVE, a few ms wide)
r=1
while [ $r -le "$rounds" ]; do
	spam "undo$r"
	timeout 60 "$IMAPSIFT" sweep -c "$tmp/c1" > "$tmp/out" 2>&1 ||
	    no "undo_round$r: sweep" "$(tail -n 2 "$tmp/out")"
	once "undo_round$r: swept to Junk" "undo$r" Junk
	u="undo -c $tmp/c1 --all"
	at "undo_round$r" $u , $u , $u , $u
	once "undo_round$r: each message back in INBOX once" "undo$r" INBOX
	r=$((r + 1))
done

# --- 2. the same IMAP user swept at once by three configs / three names ------
# three configs with their own stores, then three names in one store
r=1
while [ $r -le "$rounds" ]; do
	spam "configs$r"
	at "configs$r" sweep -c "$tmp/c1" , sweep -c "$tmp/c2" , \
	    sweep -c "$tmp/c4"
	once "configs$r: each spam in Junk once" "configs$r" Junk
	spam "names$r"
	at "names$r" sweep -c "$tmp/c3" --account x , \
	    sweep -c "$tmp/c3" --account y , sweep -c "$tmp/c3" --account z
	once "names$r: each spam in Junk once" "names$r" Junk
	r=$((r + 1))
done
# the lock file is named after the server mailbox, in the shared directory
ld=$XDG_STATE_HOME/imapsift/locks
if ls "$ld" | grep -q "^alice@localhost:$IMAPS_PORT-[0-9a-f]\{16\}\.lock$"
then
	ok lock_file_name
else
	no lock_file_name "$(ls "$ld" | tr '\n' ' ')"
fi
if [ "$(stat -c %a "$ld")" = 700 ]; then
	ok lock_dir_private
else
	no lock_dir_private "mode $(stat -c %a "$ld")"
fi

# --- 3. undo while the work lock is held: waits, then exit 4 --------------
spam held
timeout 60 "$IMAPSIFT" sweep -c "$tmp/c1" > "$tmp/out" 2>&1
wl=$(ls "$ld"/alice@localhost:"$IMAPS_PORT"-*.work 2>/dev/null | head -n 1)
if [ -z "$wl" ]; then
	no undo_locked "no work lock file in $ld: $(ls "$ld" | tr '\n' ' ')"
	wl=$tmp/none.work	# go on: what undo does then is checked below
fi
if :; then
	flock -o "$wl" sleep 90 &
	lockpid=$!
	sleep 0.3
	timeout 60 "$IMAPSIFT" undo -c "$tmp/c1" --all --wait 2 > "$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 4 ] && grep -q 'nothing undone: .*stayed locked' "$tmp/out"
	then
		ok undo_locked_exit4
	else
		no undo_locked_exit4 "exit $rc: $(cat "$tmp/out")"
	fi
	once "undo_locked: nothing moved" held Junk
	# an account with nothing to undo is not waited for
	conf "$tmp/c5" fresh "$tmp/s5"
	timeout 60 "$IMAPSIFT" undo -c "$tmp/c5" --all --wait 20 > "$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && ! grep -q 'waiting up to' "$tmp/out" &&
	    ok undo_nothing_no_wait || no undo_nothing_no_wait "exit $rc: \
$(cat "$tmp/out")"
	# without --wait it waits (up to 60 s) and moves nothing meanwhile
	timeout 120 "$IMAPSIFT" undo -c "$tmp/c1" --all > "$tmp/out" 2>&1 &
	upid=$!
	i=0
	while ! grep -q 'waiting up to' "$tmp/out" && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	once "undo_waits: nothing moved while the lock is held" held Junk
	# a sweep skips while the work lock is held (an undo at work)
	timeout 60 "$IMAPSIFT" sweep -c "$tmp/c2" > "$tmp/out2" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'skipped' "$tmp/out2"; then
		ok sweep_skips_during_undo
	else
		no sweep_skips_during_undo "exit $rc: $(cat "$tmp/out2")"
	fi
	kill "$lockpid" 2>/dev/null; wait "$lockpid" 2>/dev/null; lockpid=
	wait $upid
	rc=$?
	[ $rc -eq 0 ] && ok "undo_waits: exit 0 once the lock is free" ||
	    no "undo_waits: exit 0 once the lock is free" "exit $rc: \
$(tail -n 3 "$tmp/out")"
	once "undo_waits: then back in INBOX once" held INBOX
fi

# --- 4. undo while watch watches the account ---------------------------------
: > "$tmp/wlog"
"$IMAPSIFT" watch -f -c "$tmp/c1" > "$tmp/wlog" 2>&1 &
wpid=$!
i=0
while ! grep -q 'alice: connected' "$tmp/wlog" && [ $i -lt 150 ]; do
	sleep 0.1; i=$((i + 1))
done
# the watcher holds the owner lock: a sweep skips
timeout 60 "$IMAPSIFT" sweep -c "$tmp/c2" > "$tmp/out" 2>&1
grep -q skipped "$tmp/out" && ok sweep_skips_watch ||
    no sweep_skips_watch "$(cat "$tmp/out")"
# new spam: the watcher moves it
spam watched
i=0
while [ "$(dv_list alice Junk | grep -c '^<watched-')" -lt $N ] &&
    [ $i -lt 200 ]; do
	sleep 0.1; i=$((i + 1))
done
once "watched: moved by watch" watched Junk
timeout 120 "$IMAPSIFT" undo -c "$tmp/c1" --all > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok undo_beside_watch ||
    no undo_beside_watch "exit $rc: $(tail -n 3 "$tmp/out")"
# the watcher sees them come back and leaves them (rescued)
i=0
while ! grep -q 'moved before: left alone\|rescued' "$tmp/wlog" &&
    [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
once "undo_beside_watch: back in INBOX, once" watched INBOX
kill -TERM "$wpid"; wait "$wpid"; wpid=

# --- 5. a lock directory others may use, a planted symlink: refused --------------
chmod 755 "$ld"
timeout 60 "$IMAPSIFT" sweep -c "$tmp/c1" > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'lock directory must be owned by you' "$tmp/out" &&
    ok lock_dir_open_refused || no lock_dir_open_refused "exit $rc: $(cat "$tmp/out")"
chmod 700 "$ld"
ll=$(ls "$ld"/alice@localhost:"$IMAPS_PORT"-*.lock | head -n 1)
rm -f "$ll"
ln -s "$tmp/elsewhere" "$ll"
timeout 60 "$IMAPSIFT" sweep -c "$tmp/c1" > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && [ ! -e "$tmp/elsewhere" ] && ok lock_symlink_refused ||
    no lock_symlink_refused "exit $rc: $(cat "$tmp/out")"
rm -f "$ll"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
