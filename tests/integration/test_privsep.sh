#!/bin/sh
# test_privsep.sh: privilege separation, as root with throwaway users
# (imapsift-t-PID-a and -b, homes under a temp dir, removed on exit even
# after a failure).  Root and another user's config: sweep, watch -c and
# check refuse it (exit 2, one line saying why) and its password_command
# never runs; root's own config runs.  password_command (from sweep, and
# from a watcher the root supervisor started) sees no descriptor but 0-2,
# so a root-only file the caller or the supervisor holds open is not
# readable to it, and its parent has core dumps off (RLIMIT_CORE 0, not
# dumpable).  watch --config-dir: a child runs as the file's owner on the
# descriptor the supervisor opened and logs in to a real Dovecot; a
# directory not root's or writable by group is refused (exit 2); a
# symbolic link entry to another user's file is not run; a watcher
# refuses a config descriptor it does not own; the owner and mode are
# checked again when a child restarts and on HUP (a file made writable
# by group is not restarted; one handed to root is stopped; an entry
# replaced by another user's file runs as that user, not the old one).
#
# Most cases need no server: password_command records what it sees and
# fails, before any connection.  Needs root (useradd, setpriv): skipped,
# saying so, otherwise.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

if [ "$(id -u)" != 0 ]; then
	echo "skip: test_privsep.sh needs root (it creates users and runs" \
	    "the root supervisor); CI runs it as root"
	echo "0 passed, 0 failed"
	exit 0
fi
. "$TOP/tests/integration/dovecot.sh"

tmp=$(mktemp -d)
chmod 755 "$tmp"
A=imapsift-t-$$-a B=imapsift-t-$$-b
users= spid=
cleanup() {
	[ -n "$spid" ] && kill -KILL "$spid" 2>/dev/null
	# The supervisors' children, by the pids they logged.
	for p in $(cat "$tmp"/*.slog 2>/dev/null |
	    sed -n 's/.*started (pid \([0-9]*\)).*/\1/p'); do
		kill -KILL "$p" 2>/dev/null
	done
	for u in $users; do
		userdel "$u" 2>/dev/null
	done
	dovecot_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# mkuser NAME: a user with an empty home $tmp/NAME, its own group.
mkuser() {
	useradd -M -U -d "$tmp/$1" -s /bin/sh "$1" || return 1
	users="$users $1"
	mkdir -p "$tmp/$1/rules" && cp "$TOP/tests/fixtures/sweep/rules/"* \
	    "$tmp/$1/rules/" && chown -R "$1:$1" "$tmp/$1" &&
	    chmod 700 "$tmp/$1"
}
if ! mkuser "$A" || ! mkuser "$B"; then
	no users "useradd failed"
	echo "$pass passed, $fail failed"
	exit 1
fi
HA=$tmp/$A HB=$tmp/$B
UA=$(id -u "$A") UB=$(id -u "$B")

# mkconf FILE OWNER PORT CMD [CA]: a config (mode 600, owned by OWNER)
# with one account whose password_command is CMD (no double quotes),
# its store and rules in OWNER's directory $tmp/OWNER.
mkconf() (
	d=$tmp/$2
	umask 077
	{
		printf 'store = "%s/state";\nrules = [ "%s/rules" ];\n' "$d" "$d"
		printf 'accounts = ( {\n  name = "acct";\n'
		printf '  host = "localhost";\n  port = %s;\n' "$3"
		[ -n "${5:-}" ] && printf '  ca_file = "%s";\n' "$5"
		printf '  user = "alice";\n  password_command = "%s";\n' "$4"
		printf '  addresses = [ "alice@example.org" ];\n} );\n'
	} > "$1"
	chown "$2:$2" "$1"
)
# as USER CMD...: CMD as USER (uid, gid, groups), descriptors kept.
as() {
	u=$1; shift
	setpriv --reuid="$u" --regid="$u" --init-groups env HOME="$tmp/$u" \
	    "$@"
}
# until_file FILE [SECONDS] / until_grep PATTERN FILE [SECONDS]: a bound
# on waiting for something to happen, not a timing assertion.
until_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt $((${2:-20} * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ -s "$1" ]
}
until_grep() {
	i=0
	while ! grep -Eq -- "$1" "$2" 2>/dev/null &&
	    [ $i -lt $((${3:-20} * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	grep -Eq -- "$1" "$2" 2>/dev/null
}
# stop_super: TERM the supervisor, wait for it (it KILLs its children
# after 5 s).
stop_super() {
	[ -n "$spid" ] || return 0
	kill -TERM "$spid" 2>/dev/null
	i=0
	while kill -0 "$spid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
}
# alive PID: running and not a zombie.
alive() {
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	''|Z*) return 1 ;;
	esac
	return 0
}
# child_pid LOG: the pid of the last child the supervisor started.
child_pid() {
	sed -n 's/.*started (pid \([0-9]*\)).*/\1/p' "$1" | tail -n 1
}

# What a password_command records, into DIR: its uid, its descriptors,
# what it could read from descriptor 9, its parent's core limit and the
# owner of its parent's /proc status (root when the parent is not
# dumpable).  Then it fails (exit 1) unless told to print a password.
spy() {	# DIR [PASSWORD]
	# The password first (the first line is all imapsift reads); then
	# stdout to a file with exec, so that the shell saves no copy of
	# it (dash keeps one as 10 around a command's redirection) and ls
	# sees the shell's own descriptors only.
	s=
	[ -n "${2:-}" ] && s="echo $2;"
	s="$s exec > $1/fds; ls /proc/\$\$/fd; id -u > $1/uid;"
	s="$s cat 2>/dev/null <&9 > $1/leak;"
	s="$s grep '^Max core' /proc/\$PPID/limits > $1/core;"
	s="$s stat -c %u /proc/\$PPID/status > $1/dumpowner;"
	if [ -n "${2:-}" ]; then s="$s exit 0"; else s="$s exit 1"; fi
	printf '%s' "$s"
}
clear_spy() { rm -f "$1/uid" "$1/fds" "$1/leak" "$1/core" "$1/dumpowner"; }
# spy_clean NAME DIR: checks what the spy saw in DIR (0-2 only, nothing
# of the secret, core dumps off in the parent).
spy_clean() {
	fds=$(tr '\n' ' ' < "$2/fds" 2>/dev/null)
	[ "$fds" = "0 1 2 " ] && ok "$1_only_fds_0_1_2" ||
	    no "$1_only_fds_0_1_2" "password_command had descriptors: $fds"
	grep -q ROOTONLY "$2/leak" 2>/dev/null &&
	    no "$1_no_leak" "read the root-only file: $(cat "$2/leak")" ||
	    ok "$1_no_leak"
	grep -Eq '^Max core file size +0 +0 ' "$2/core" 2>/dev/null &&
	    ok "$1_core_limit_0" || no "$1_core_limit_0" \
	    "parent's limit: $(cat "$2/core" 2>/dev/null)"
	[ "$(cat "$2/dumpowner" 2>/dev/null)" = 0 ] &&
	    ok "$1_not_dumpable" || no "$1_not_dumpable" \
	    "parent's /proc status owned by uid $(cat "$2/dumpowner" \
	    2>/dev/null) (dumpable)"
}

printf 'ROOTONLY secret of root\n' > "$tmp/rootonly"
chmod 600 "$tmp/rootonly"
# Core dumps allowed where we start, so that imapsift must turn them off.
ulimit -c unlimited 2>/dev/null

# --- root and another user's config -----------------------------------------
mkconf "$HA/config" "$A" 1 "$(spy "$HA")"
"$IMAPSIFT" sweep -c "$HA/config" > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "owned by $A, not root" "$tmp/out" &&
    [ "$(wc -l < "$tmp/out")" -eq 1 ] && ok root_sweep_foreign_refused ||
    no root_sweep_foreign_refused "exit $rc: $(cat "$tmp/out")"
[ -e "$HA/uid" ] && no root_sweep_foreign_cmd_not_run \
    "password_command ran as uid $(cat "$HA/uid")" ||
    ok root_sweep_foreign_cmd_not_run
clear_spy "$HA"
timeout 20 "$IMAPSIFT" watch -f -c "$HA/config" > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "owned by $A, not root" "$tmp/out" &&
    [ ! -e "$HA/uid" ] && ok root_watch_foreign_refused ||
    no root_watch_foreign_refused "exit $rc, uid file: $(cat "$HA/uid" \
    2>/dev/null): $(head -n 3 "$tmp/out")"
clear_spy "$HA"
"$IMAPSIFT" check -c "$HA/config" > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "owned by $A, not root" "$tmp/out" &&
    ok root_check_foreign_refused ||
    no root_check_foreign_refused "exit $rc: $(cat "$tmp/out")"
# (An imapsift that ran them made the store as root: undo that, so the
# cases below stand on their own.)
rm -rf "$HA/state"
# Root's own config is fine (its password_command runs, as root).
mkdir -p "$tmp/root" && cp -r "$HA/rules" "$tmp/root/" &&
    chown -R root:root "$tmp/root" && chmod 700 "$tmp/root"
mkconf "$tmp/root/config" root 1 "$(spy "$tmp/root")"
"$IMAPSIFT" sweep -c "$tmp/root/config" > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 3 ] && [ "$(cat "$tmp/root/uid" 2>/dev/null)" = 0 ] &&
    ok root_own_config_runs || no root_own_config_runs \
    "exit $rc, uid $(cat "$tmp/root/uid" 2>/dev/null): $(cat "$tmp/out")"

# --- sweep as a user: descriptors and core dumps -----------------------------
# The user holds a file open (as 9) when starting sweep: the command
# must not get it, nor anything of sweep's own (lock, store).
chmod 644 "$tmp/rootonly"	# readable: only the descriptor is at issue
clear_spy "$HA"
as "$A" "$IMAPSIFT" sweep -c "$HA/config" 9< "$tmp/rootonly" \
    > "$tmp/out" 2>&1
rc=$?
chmod 600 "$tmp/rootonly"
[ $rc -eq 3 ] && [ "$(cat "$HA/uid" 2>/dev/null)" = "$UA" ] &&
    ok user_sweep_runs_cmd || no user_sweep_runs_cmd \
    "exit $rc, uid $(cat "$HA/uid" 2>/dev/null): $(cat "$tmp/out")"
spy_clean user_sweep "$HA"

# --- a watcher refuses a config descriptor it does not own --------------------
mkconf "$HB/config" "$B" 1 "$(spy "$HB")"
as "$A" timeout 20 "$IMAPSIFT" watch -f --config-fd 3 3< "$HB/config" \
    > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "owned by $B, not by the user" "$tmp/out" &&
    [ ! -e "$HB/uid" ] && ok config_fd_foreign_refused ||
    no config_fd_foreign_refused "exit $rc: $(head -n 3 "$tmp/out")"

# --- the directory itself ---------------------------------------------------
mkdir "$tmp/cdir1"
cp -p "$HA/config" "$tmp/cdir1/a"
chown "$A" "$tmp/cdir1"
clear_spy "$HA"
timeout 20 "$IMAPSIFT" watch -f --config-dir "$tmp/cdir1" \
    > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "not owned by root" "$tmp/out" &&
    [ ! -e "$HA/uid" ] && ok dir_not_root_refused ||
    no dir_not_root_refused "exit $rc: $(head -n 3 "$tmp/out")"
chown root "$tmp/cdir1"
chmod 775 "$tmp/cdir1"
timeout 20 "$IMAPSIFT" watch -f --config-dir "$tmp/cdir1" \
    > "$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "writable by group or others" "$tmp/out" &&
    [ ! -e "$HA/uid" ] && ok dir_group_writable_refused ||
    no dir_group_writable_refused "exit $rc: $(head -n 3 "$tmp/out")"

# --- a symbolic link entry to another user's file ---------------------------
mkdir "$tmp/cdir2"
chmod 755 "$tmp/cdir2"
cp -p "$HA/config" "$tmp/cdir2/a"
ln -s "$HB/config" "$tmp/cdir2/b"
clear_spy "$HA"; clear_spy "$HB"
"$IMAPSIFT" watch -f --config-dir "$tmp/cdir2" > "$tmp/2.slog" 2>&1 &
spid=$!
until_file "$HA/dumpowner" && ok symlink_dir_other_runs ||
    no symlink_dir_other_runs "$(head -n 5 "$tmp/2.slog")"
grep -q "b: a symbolic link: not run" "$tmp/2.slog" &&
    ok symlink_entry_refused_logged ||
    no symlink_entry_refused_logged "$(head -n 5 "$tmp/2.slog")"
[ -e "$HB/uid" ] && no symlink_entry_not_run \
    "the linked config's password_command ran as uid $(cat "$HB/uid")" ||
    ok symlink_entry_not_run
stop_super

# --- the supervisor: a real login, descriptors, core dumps, re-checks -------
dovecot_start || { no dovecot "did not start"; echo "$pass passed," \
    "$fail failed"; exit 1; }
cp "$CA_FILE" "$HA/ca.crt" && chown "$A:$A" "$HA/ca.crt"
mkdir "$tmp/cdir"
chmod 755 "$tmp/cdir"
mkconf "$tmp/cdir/a" "$A" "$IMAPS_PORT" "$(spy "$HA" secret)" "$HA/ca.crt"
clear_spy "$HA"
# The supervisor holds a root-only file open (as 9, inherited).
"$IMAPSIFT" watch -f --config-dir "$tmp/cdir" 9< "$tmp/rootonly" \
    > "$tmp/s.slog" 2>&1 &
spid=$!
until_grep 'acct: connected to localhost' "$tmp/s.slog" &&
    ok configdir_child_logs_in ||
    no configdir_child_logs_in "$(tail -n 5 "$tmp/s.slog")"
[ "$(cat "$HA/uid" 2>/dev/null)" = "$UA" ] && ok configdir_runs_as_owner ||
    no configdir_runs_as_owner "uid $(cat "$HA/uid" 2>/dev/null)"
spy_clean configdir "$HA"
kid=$(child_pid "$tmp/s.slog")
tr '\0' ' ' < "/proc/$kid/cmdline" | grep -q -- '--config-fd 3' &&
    ok configdir_child_gets_descriptor ||
    no configdir_child_gets_descriptor "$(tr '\0' ' ' < \
    "/proc/$kid/cmdline")"

# Made writable by its group, then the child dies: not started again.
chmod 660 "$tmp/cdir/a"
kill -KILL "$kid"
until_grep 'cdir/a: writable by group or others: not run' "$tmp/s.slog" &&
    ok restart_rechecks_mode ||
    no restart_rechecks_mode "$(tail -n 5 "$tmp/s.slog")"
[ "$(child_pid "$tmp/s.slog")" = "$kid" ] && ok restart_refused_not_run ||
    no restart_refused_not_run "started again: $(tail -n 3 "$tmp/s.slog")"

# Fixed, HUP: runs again.  Then given to root, HUP: stopped.
chmod 600 "$tmp/cdir/a"
kill -HUP "$spid"
i=0
while [ "$(child_pid "$tmp/s.slog")" = "$kid" ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
kid=$(child_pid "$tmp/s.slog")
until_grep 'acct: connected to localhost.*' "$tmp/s.slog" &&
    alive "$kid" && ok hup_restarts_fixed_file ||
    no hup_restarts_fixed_file "$(tail -n 5 "$tmp/s.slog")"
chown root:root "$tmp/cdir/a"
kill -HUP "$spid"
i=0
while alive "$kid" && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
alive "$kid" && no hup_rechecks_owner "child $kid still runs: $(tail -n 3 \
    "$tmp/s.slog")" || ok hup_rechecks_owner
grep -q 'cdir/a: owned by root: not run' "$tmp/s.slog" &&
    ok hup_refusal_logged || no hup_refusal_logged \
    "$(tail -n 3 "$tmp/s.slog")"

# Back to its owner, HUP: runs.  Then the entry is replaced by the other
# user's file (a rename into place) and HUP: it must run as that user,
# never as the first (whose watcher would re-read the name).
chown "$A:$A" "$tmp/cdir/a"
kill -HUP "$spid"
i=0
while [ "$(child_pid "$tmp/s.slog")" = "$kid" ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
kid=$(child_pid "$tmp/s.slog")
until_grep 'started' "$tmp/s.slog" && alive "$kid" &&
    ok hup_restarts_given_back || no hup_restarts_given_back \
    "$(tail -n 3 "$tmp/s.slog")"
clear_spy "$HB"
cp -p "$HB/config" "$tmp/cdir/.new" && mv "$tmp/cdir/.new" "$tmp/cdir/a"
kill -HUP "$spid"
until_file "$HB/uid" &&
    [ "$(cat "$HB/uid")" = "$UB" ] && ok hup_replaced_runs_as_new_owner ||
    no hup_replaced_runs_as_new_owner "the new file's password_command" \
    "ran as uid $(cat "$HB/uid" 2>/dev/null) (want $UB)"

# The directory made writable by its group, HUP: every child stopped.
i=0
while [ "$(child_pid "$tmp/s.slog")" = "$kid" ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
kid=$(child_pid "$tmp/s.slog")
chmod 775 "$tmp/cdir"
kill -HUP "$spid"
i=0
while alive "$kid" && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
alive "$kid" && no hup_rechecks_dir "child $kid still runs: $(tail -n 3 \
    "$tmp/s.slog")" || ok hup_rechecks_dir
grep -q 'cdir: writable by group or others: no config in it' \
    "$tmp/s.slog" && ok hup_dir_refusal_logged ||
    no hup_dir_refusal_logged "$(tail -n 3 "$tmp/s.slog")"
stop_super

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
