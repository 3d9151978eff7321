#!/bin/sh
# idle.sh BIN: `imapsift watch` (the IDLE daemon) against imapfilter's
# enter_idle() loop, with a bare IDLE client as the floor; then 200
# accounts watched by one daemon.
#
#   sh tests/bench/idle.sh build/imapsift
#
# A private Dovecot on loopback (tests/integration/dovecot.sh, rawlog off,
# verbose_proctitle on so `ps` shows which sessions are in IDLE).
#
# (a) Latency.  One indicator list, one domain (cheap-pills-bench.com);
# every test message is a small spam linking to it.  Each tool in turn
# (never both at once: they would race for the same message), driven by
# idle.py, which in one select() loop:
#   - runs the tool with its output on a pipe and timestamps each
#     "moved uid N" line as it arrives;
#   - keeps a bare IDLE client (python ssl: LOGIN, SELECT INBOX, IDLE)
#     open beside it, and timestamps each "* N EXISTS": the floor, the
#     soonest any IDLE client can know (Dovecot 2.3 holds IDLE
#     notifications back about 0.5 s);
#   - APPENDs over a third connection IDLE_WARMUP (2) untimed messages
#     (the tool is then surely in IDLE), then IDLE_MESSAGES (50) timed
#     ones, one at a time: the next only IDLE_GAP (0.5) s after the
#     previous was moved, so each is handled alone.
# Latency = APPEND sent -> the tool's move line; floor = APPEND sent ->
# the floor's EXISTS; overhead = latency - floor, per message.
#   imapfilter: imapfilter -t CA -c LUA, the Lua loop: contain_body(domain)
#               on INBOX, move_messages(Junk), print "moved uid N" per
#               message (stdout line-buffered), enter_idle(), again.
#   imapsift:   imapsift watch -f -c CONFIG (the same rules dir only;
#               HOME and XDG dirs under the temporary directory).
# Afterwards the Message-IDs in Junk are checked (doveadm): every message
# of each tool must be there.  Target: imapsift's median overhead < 20 ms.
#
# (b) Scale.  IDLE_ACCOUNTS (200) users added to the Dovecot (dv_add_users,
# started with --max-clients), one config file with an account each.
# First `imapsift watch -f` on one account: its RSS once in IDLE.  Then on
# all of them: wait until every account's session is in IDLE (Dovecot's
# process titles; the daemon's connection lines are counted too), APPEND
# one spam to each (doveadm save), wait for every move line, check each
# Junk holds it (doveadm mailbox status -A), and report the daemon's peak
# RSS (VmHWM, summed over it and any children) per account.  Target
# < 1 MB per account.  Beyond 128 sessions Dovecot runs out of inotify
# instances (fs.inotify.max_user_instances, left alone) and polls the
# rest: mailbox_idle_check_interval is set to 1 s for this part.
#
# Until `imapsift watch` exists the floor and imapfilter are still
# measured and the script says "imapsift watch: not built yet".
# Needs (Debian): dovecot-imapd, openssl, imapfilter, python3.
# IDLE_MESSAGES (50), IDLE_WARMUP (2), IDLE_GAP (0.5 s), IDLE_ACCOUNTS (200);
# IDLE_KEEP=DIR keeps the tools' output there.
set -u

die() { echo "idle.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: idle.sh BIN"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$(pwd)/$1 ;; esac
NMSG=${IDLE_MESSAGES:-50}
NWARM=${IDLE_WARMUP:-2}
GAP=${IDLE_GAP:-0.5}
NACC=${IDLE_ACCOUNTS:-200}
DOMAIN=cheap-pills-bench.com
for t in dovecot doveadm openssl imapfilter; do
	command -v $t >/dev/null 2>&1 ||
	    die "missing tool: $t (apt-get install dovecot-imapd imapfilter)"
done
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
IPY=$HERE/idle.py

. "$ROOT/tests/integration/dovecot.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-idle.XXXXXX") || die "mktemp failed"
. "$HERE/lib.sh"
dpid=
# stopd: TERM the daemon of part (b), KILL it after 5 s; sets stop_rc and
# stop_secs.
stopd() {
	[ -n "$dpid" ] || return 0
	_t=$("$PY" -c 'import time; print(time.monotonic())')
	kill -TERM "$dpid" 2>/dev/null
	_i=0
	while [ $_i -lt 50 ] && [ "$(ps -o stat= -p "$dpid" |
	    cut -c1)" != Z ] && kill -0 "$dpid" 2>/dev/null; do
		sleep 0.1; _i=$((_i + 1))
	done
	stop_secs=$("$PY" -c "import time; print('%.1f' % (time.monotonic() - $_t))")
	if [ $_i -ge 50 ]; then
		kill -KILL "$dpid" 2>/dev/null
		stop_secs="> 5 (killed)"
	fi
	wait "$dpid" 2>/dev/null
	stop_rc=$?
	dpid=
}
cleanup() {
	kid_stop
	stopd
	dovecot_stop
	[ -n "${IDLE_KEEP:-}" ] && mkdir -p "$IDLE_KEEP" &&
	    cp "$W"/*.res* "$W"/*.log "$IDLE_KEEP"/ 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
t0=$(date +%s)
fail=

echo "idle bench: APPEND -> Junk latency over $NMSG messages on a" \
    "loopback Dovecot; $NACC accounts in one daemon"
# A binary without the command says 'unknown command "watch"'.
if [ -x "$BIN" ] && ! "$BIN" watch --help 2>&1 |
    grep -q 'unknown command'; then
	have_watch=1
	# One binary for the whole run, even if the tree is rebuilt meanwhile.
	cp "$BIN" "$W/imapsift" || die "cannot copy $BIN"
	BIN=$W/imapsift
else
	have_watch=
	echo "imapsift watch: not built yet (measuring the floor and" \
	    "imapfilter only)"
fi

# ------------------------------------------------------------ server
dovecot_start --max-clients $((NACC + 50)) || die "dovecot did not start"
# No raw protocol log (disk writes on every command); process titles
# that show the command in progress (IDLE).
sed -i '/^rawlog_dir/d' "$DOVECOT_CONF"
echo "verbose_proctitle = yes" >> "$DOVECOT_CONF"
dovecot_restart || die "dovecot did not restart"
dv_create alice Junk || die "doveadm mailbox create failed"

mkdir -p "$W/rules" "$W/ifhome/.imapfilter"
printf '# idle bench: the one indicator\n%s\n' "$DOMAIN" \
    > "$W/rules/bench.domains"
cat > "$W/imapfilter.lua" <<EOF
-- idle bench: move every INBOX message linking to $DOMAIN to Junk,
-- print a line per message moved, wait in IDLE, again.
io.stdout:setvbuf('line')
options.timeout = 60
options.certificates = false
options.info = false
account = IMAP {
	server = 'localhost',
	port = $IMAPS_PORT,
	username = 'alice',
	password = 'secret',
	ssl = 'auto',
}
while true do
	local hits = account.INBOX:contain_body('$DOMAIN')
	if #hits > 0 then
		hits:move_messages(account['Junk'])
		for _, m in ipairs(hits) do
			local _, uid = table.unpack(m)
			print('INBOX: moved uid ' .. uid .. ' to Junk')
		end
	end
	account.INBOX:enter_idle()
end
EOF

# ------------------------------------------------------------ (a) latency
# lat TAG CMD...: one timed run of idle.py with CMD (none: the floor
# alone); its results in $W/TAG.res.  Bounded: warm-ups 60 s each,
# messages 15 s each.
lat() {
	_tag=$1; shift
	_lim=$((NWARM * 62 + NMSG * 17 + 60))
	child timeout -k 5 $_lim "$PY" "$IPY" latency "$IMAPS_PORT" "$CA_FILE" \
	    alice secret "$DOMAIN" "$NMSG" "$NWARM" "$GAP" "$_tag" \
	    "$W/$_tag.res" "$@" 2> "$W/$_tag.log"
	_rc=$?
	if [ $_rc -ne 0 ]; then
		echo "idle.sh: $_tag run failed (exit $_rc):" >&2
		tail -n 5 "$W/$_tag.log" "$W/$_tag.res.tool" 2>/dev/null |
		    sed 's/^/  /' >&2
		fail="$fail $_tag"
	fi
	# Every timed message of TAG must be in Junk.
	_n=$(dv_list alice Junk | grep -c "^<idle-bench-$_tag-[0-9]*@")
	echo "$_tag: $_n of $NMSG timed messages in Junk"
	[ -z "$*" ] || [ "$_n" -eq "$NMSG" ] || fail="$fail $_tag-junk"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "imapfilter (enter_idle loop)..."
lat imapfilter env HOME="$W/ifhome" imapfilter -t "$CA_FILE" \
    -c "$W/imapfilter.lua"
if [ -n "$have_watch" ]; then
	echo "imapsift watch..."
	mkdir -m 700 "$W/store" "$W/ishome"
	dv_imapsift_conf "$W/imapsift.conf" bench "$W/store" "$W/rules"
	lat imapsift env HOME="$W/ishome" XDG_CONFIG_HOME="$W/ishome" \
	    XDG_STATE_HOME="$W/ishome" "$BIN" watch -f -c "$W/imapsift.conf"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
left=$(dv_count alice INBOX)
[ "$left" = 0 ] || { echo "idle.sh: $left messages left in INBOX" >&2
	fail="$fail inbox"; }

echo
reps=
for t in imapfilter imapsift; do
	[ -s "$W/$t.res" ] && reps="$reps $t=$W/$t.res"
done
if [ -n "$reps" ]; then
	"$PY" "$IPY" report $reps 2> "$W/summary.txt"
	cat <<EOF

Milliseconds, over $NMSG messages each ($NWARM warm-ups not counted).
  lat = APPEND sent -> the tool's "moved uid N" line (read live from a
  pipe); floor = APPEND sent -> "* N EXISTS" at a bare IDLE client open
  at the same time; over = lat - floor of the same message; APPEND rtt =
  APPEND sent -> its tagged OK.  p95: nearest rank.
EOF
	for t in imapfilter imapsift; do
		[ -f "$W/$t.res.stop" ] || continue
		read -r src secs < "$W/$t.res.stop"
		echo "$t after SIGTERM: exit $src in $secs s"
	done
	if [ -n "$have_watch" ]; then
		ov=$(awk '$3 == "imapsift" { print $4 }' "$W/summary.txt")
		case $ov in
		''|nan) echo "imapsift watch: no overhead figure" ;;
		*) awk -v o="$ov" 'BEGIN { printf "imapsift median overhead " \
		    "above the floor: %.1f ms (target < 20 ms: %s)\n",
		    o * 1000, (o < 0.020) ? "met" : "NOT MET" }' ;;
		esac
		read -r src secs < "$W/imapsift.res.stop" 2>/dev/null &&
		    [ "$src" != 0 ] && fail="$fail imapsift-exit"
	fi
	ov=$(awk '$3 == "imapfilter" { print $4 }' "$W/summary.txt")
	[ -n "$ov" ] && [ "$ov" != nan ] && awk -v o="$ov" 'BEGIN {
	    printf "imapfilter median overhead above the floor: %.1f ms\n",
	    o * 1000 }'
fi

# ------------------------------------------------------------ (b) scale
echo
if [ -z "$have_watch" ]; then
	echo "imapsift watch: not built yet ($NACC-account test skipped)"
else
	echo "$NACC accounts in one imapsift watch..."
	# Beyond 128 sessions Dovecot polls instead of inotify: poll often.
	echo "mailbox_idle_check_interval = 1 secs" >> "$DOVECOT_CONF"
	dovecot_restart || die "dovecot did not restart"
	dv_add_users "$NACC" || die "dv_add_users failed"
	"$PY" "$IPY" spam scale 0 "$DOMAIN" > "$W/spam.eml"
	# conf FILE N: one account per user1..userN.
	conf() (
		umask 077
		{
			printf 'store = "%s";\nrules = [ "%s" ];\naccounts = (\n' \
			    "$W/store$2" "$W/rules"
			i=1
			while [ $i -le "$2" ]; do
				[ $i -gt 1 ] && printf ',\n'
				printf '  { name = "user%d"; host = "localhost";' $i
				printf ' port = %s; ca_file = "%s";\n' \
				    "$IMAPS_PORT" "$CA_FILE"
				printf '    user = "user%d"; password = "secret";' $i
				printf ' addresses = [ "user%d@example.org" ]; }' $i
				i=$((i + 1))
			done
			printf '\n);\n'
		} > "$1"
	)
	# idling N: how many of user1..userN have a session in IDLE.
	idling() {
		ps -eo args= | awk -v p="dovecot-$DOVECOT_NAME/imap [user" \
		    -v n="$1" 'index($0, p) == 1 && / IDLE\]$/ {
			split(substr($0, length(p) + 1), a, " ")
			if (a[1] + 0 >= 1 && a[1] + 0 <= n) s[a[1]] = 1 }
		    END { print length(s) }'
	}
	# watchd N: starts the daemon on accounts 1..N; waits (120 s at
	# most) until all are in IDLE.
	watchd() {
		mkdir -p -m 700 "$W/store$1" "$W/h$1"
		conf "$W/scale$1.conf" "$1"
		HOME="$W/h$1" XDG_CONFIG_HOME="$W/h$1" XDG_STATE_HOME="$W/h$1" \
		    "$BIN" watch -f -c "$W/scale$1.conf" > "$W/scale$1.log" 2>&1 &
		dpid=$!
		_i=0
		while [ "$(idling "$1")" -lt "$1" ]; do
			kill -0 "$dpid" 2>/dev/null || {
				echo "idle.sh: the daemon exited:" >&2
				tail -n 5 "$W/scale$1.log" | sed 's/^/  /' >&2
				return 1; }
			_i=$((_i + 1))
			[ $_i -lt 1200 ] || {
				echo "idle.sh: only $(idling "$1") of $1" \
				    "accounts in IDLE after 120 s" >&2
				return 1; }
			sleep 0.1
		done
		echo "  all $1 in IDLE after $((_i / 10)) s; connection lines" \
		    "logged for $("$PY" "$IPY" ready "$W/scale$1.log") accounts"
	}
	ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
	if watchd 1; then
		sleep 1
		read -r hwm1 rss1 np1 <<EOF
$("$PY" "$IPY" mem "$dpid")
EOF
		stopd
		echo "  1 account: RSS $rss1 kB, peak $hwm1 kB ($np1 process)"
	else
		stopd
		fail="$fail scale1"
	fi
	if watchd "$NACC"; then
		sleep 1
		read -r hwmi rssi npi <<EOF
$("$PY" "$IPY" mem "$dpid")
EOF
		ts=$(date +%s)
		i=1
		while [ $i -le "$NACC" ]; do
			doveadm -c "$DOVECOT_CONF" save -u user$i -m INBOX \
			    < "$W/spam.eml" || die "doveadm save failed"
			i=$((i + 1))
		done
		echo "  one spam APPENDed to each account in $(($(date +%s) - ts)) s"
		_i=0
		while [ "$("$PY" "$IPY" count-moves "$W/scale$NACC.log")" \
		    -lt "$NACC" ] && [ $_i -lt 1200 ]; do
			sleep 0.1; _i=$((_i + 1))
		done
		nmv=$("$PY" "$IPY" count-moves "$W/scale$NACC.log")
		echo "  $nmv move lines $((_i / 10)) s after the last APPEND"
		read -r hwm rss np <<EOF
$("$PY" "$IPY" mem "$dpid")
EOF
		threads=$(awk '/^Threads:/ { print $2 }' /proc/$dpid/status)
		stopd
		njunk=$(doveadm -c "$DOVECOT_CONF" -f tab mailbox status -A \
		    messages Junk 2>/dev/null | awk -F'\t' '$1 ~ /^user[0-9]+$/ &&
		    $3 == 1 { n++ } END { print n + 0 }')
		echo "  $njunk of $NACC accounts have the spam in Junk"
		echo "  daemon: RSS in IDLE before the mail $rssi kB; after it" \
		    "$rss kB; peak $hwm kB ($np process(es), $threads threads)"
		echo "  exit after SIGTERM: $stop_rc in $stop_secs s"
		awk -v h="$hwm" -v n="$NACC" -v h1="${hwm1:-0}" 'BEGIN {
		    printf "  peak RSS per account: %.0f kB (target < 1 MB: %s)",
		    h / n, (h / n < 1000) ? "met" : "NOT MET"
		    if (h1 > 0)
			printf "; beyond the 1-account daemon: %.0f kB each",
			    (h - h1) / (n - 1)
		    print "" }'
		[ "$njunk" -eq "$NACC" ] && [ "$nmv" -eq "$NACC" ] ||
		    fail="$fail scale-moves"
		[ "$stop_rc" = 0 ] || fail="$fail scale-exit"
	else
		stopd
		fail="$fail scale"
	fi
fi

echo "idle bench: $(($(date +%s) - t0)) s in all"
[ -z "$fail" ] || die "failed:$fail"
exit 0
