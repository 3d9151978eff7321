#!/bin/sh
# peers.sh: scans a fixed list of messages with a peer filter, one stream,
# and writes what it did to a result file.
#
#   sh tests/bench/peers.sh spamd|rspamd LIST RESULT
#
# LIST holds one message path per line.  RESULT gets key=value lines:
#   tool files checked flagged bytes secs daemon_cpu client_cpu cpu
#   worker_rss_kb rss_kb rss_proc rss_total_kb netns
#   (and dns_msgs for rspamd: scans that still sent a DNS query)
# PEERS_PIN=1 (environment) pins the daemon to CPU 0 and the client to CPU
# 1 once the daemon answers; by default nothing is pinned (the scheduler
# may give the peer whichever core is free: in its favour).
# PEERS_KEEP_LOGS=DIR (environment) keeps the daemon's log and the raw scan
# output there.
# PEERS_DNSBL="ZONE ADDR:PORT" (environment, rspamd only): rspamd's rbl
# module asks the DBL-style ZONE about the messages' URL domains (one
# rule, rspamd's own DBL settings: urls, no IP literals, answer 127.0.1.2
# counts) through the resolver at ADDR:PORT, in the host's network (the
# caller's resolver is there); every other rbl rule stays off.
# "checked" counts messages the peer really returned a result for (spamd a
# score, rspamd an action and a score); the run fails when any is missing.
#
# Each daemon runs from a private temporary directory, with a configuration
# written here (nothing in /etc is changed), listens on 127.0.0.1 only on a
# random free port, and is stopped by pid when this script exits.  When
# `unshare --net` works (root), the whole run is re-executed inside a new
# network namespace where only loopback is up, so nothing can leave.
# Daemon startup (rule compilation, Hyperscan cache) and a 3-message
# warm-up are not timed; then the list is scanned sequentially (one
# stream).  CPU time used by the daemon and the client during the scan is
# reported beside the wall time.
set -u

die() { echo "peers.sh: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: peers.sh spamd|rspamd LIST RESULT"
tool=$1 list=$2 result=$3
case $tool in spamd|rspamd) ;; *) die "unknown peer: $tool" ;; esac
[ -r "$list" ] || die "cannot read $list"

IP=/usr/sbin/ip
[ -x $IP ] || IP=$(command -v ip 2>/dev/null || echo ip)

# Into a private network namespace, once (not with a resolver outside).
[ -n "${PEERS_DNSBL:-}" ] && [ -z "${IMAPSIFT_PEERS_NS:-}" ] &&
    IMAPSIFT_PEERS_NS=host
if [ -z "${IMAPSIFT_PEERS_NS:-}" ]; then
	if command -v unshare >/dev/null 2>&1 &&
	    unshare --net "$IP" link set lo up 2>/dev/null; then
		IMAPSIFT_PEERS_NS=netns
		export IMAPSIFT_PEERS_NS IP
		exec unshare --net sh -c '"$IP" link set lo up && exec sh "$0" "$@"' \
		    "$0" "$@"
	fi
	IMAPSIFT_PEERS_NS=host
	echo "peers.sh: unshare --net unavailable; using host loopback" >&2
fi

ncpu=$(nproc 2>/dev/null || echo 1)

T=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-$tool.XXXXXX") || die "mktemp failed"
chmod 755 "$T"
dpid="" spid="" cpid=""

# All descendants of pid $1 (not $1 itself).
descendants() {
	ps -e -o pid= -o ppid= 2>/dev/null | awk -v root="$1" '
	    { kid[$2] = kid[$2] " " $1 }
	    END { n = split(kid[root], q, " "); i = 1
		while (i <= n) { p = q[i++]; print p
		    m = split(kid[p], more, " ")
		    for (j = 1; j <= m; j++) q[++n] = more[j] } }'
}

cleanup() {
	trap - EXIT INT TERM HUP
	kids=
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	if [ -n "$dpid" ]; then
		kids=$(descendants "$dpid")
		kill -TERM "$dpid" 2>/dev/null
		i=0
		while kill -0 "$dpid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$dpid" 2>/dev/null
		for k in $kids; do kill -KILL "$k" 2>/dev/null; done
		wait "$dpid" 2>/dev/null
	fi
	[ -n "$spid" ] && wait "$spid" 2>/dev/null
	# Children reparented to init: give them a moment to go away.
	i=0
	for k in $kids; do
		while [ $i -lt 50 ] && [ -d "/proc/$k" ] &&
		    ! grep -q '^State:.*Z' "/proc/$k/status" 2>/dev/null; do
			sleep 0.1; i=$((i + 1))
		done
	done
	if [ -n "${PEERS_KEEP_LOGS:-}" ] && [ -d "$PEERS_KEEP_LOGS" ]; then
		for lg in "$T"/*.log "$T"/log/*.log "$T"/*.out; do
			[ -f "$lg" ] && cp "$lg" "$PEERS_KEEP_LOGS/$tool-${lg##*/}"
		done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() {
	echo "peers.sh: $tool: $*" >&2
	for lg in "$T"/*.log "$T"/log/*.log; do
		[ -f "$lg" ] || continue
		echo "---- tail of $lg" >&2
		tail -n 30 "$lg" >&2
	done
	exit 1
}

now() { date +%s.%N; }

free_port() {	# $1: tcp or udp
	python3 - "$1" <<'EOF'
import socket, sys
t = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# Samples the daemon's processes every 0.5 s until it exits or the file
# $2.stop appears: per process the peak RSS (VmHWM, kB) and its command
# line; over all of them the largest sum of current RSS.  Writes
# worker_rss_kb (largest peak among processes whose command line matches
# $3: the scanning child or worker), rss_kb / rss_proc (largest of all) and
# rss_total_kb.
sampler() {
	python3 - "$1" "$2" "$3" <<'EOF'
import os, re, sys, time
root, out, pat = int(sys.argv[1]), sys.argv[2], re.compile(sys.argv[3])
peak, total = {}, 0
def tree():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open("/proc/%s/stat" % d).read()
                ppid = int(st[st.rindex(")") + 2:].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError):
                pass
    todo, seen = [root], []
    while todo:
        p = todo.pop(); seen.append(p); todo += kids.get(p, [])
    return seen
def write():
    w = max([v[0] for v in peak.values() if pat.search(v[1])] or [0])
    top = max(peak.values(), key=lambda v: v[0], default=(0, "?"))
    m = re.match(r"rspamd: (\S+) process", top[1])
    name = ("spamd child" if "spamd child" in top[1] else
            "spamd parent" if "/spamd" in top[1] else
            "rspamd " + m.group(1) if m else
            re.sub(r"[^A-Za-z0-9_.:()/ -]", "", top[1])[:30])
    with open(out + ".tmp", "w") as f:
        f.write("worker_rss_kb=%d\nrss_kb=%d\nrss_proc='%s'\nrss_total_kb=%d\n"
                % (w, top[0], name, total))
    os.replace(out + ".tmp", out)
while os.path.exists("/proc/%d" % root) and not os.path.exists(out + ".stop"):
    tot = 0
    for p in tree():
        try:
            st = open("/proc/%d/status" % p).read()
            cmd = open("/proc/%d/cmdline" % p).read().replace("\0", " ").strip()
        except OSError:
            continue
        h = re.search(r"VmHWM:\s+(\d+)", st)
        r = re.search(r"VmRSS:\s+(\d+)", st)
        if not h or not r:
            continue
        tot += int(r.group(1))
        if int(h.group(1)) >= peak.get(p, (0, ""))[0]:
            peak[p] = (int(h.group(1)), cmd)
    total = max(total, tot)
    write()
    time.sleep(0.5)
EOF
}

# CPU time (clock ticks, user + system) used so far by the daemon's
# processes.
daemon_ticks() {
	for p in "$dpid" $(descendants "$dpid"); do
		cat "/proc/$p/stat" 2>/dev/null
	done | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

pin_daemon() {
	[ "$ncpu" -ge 2 ] && [ "${PEERS_PIN:-0}" = 1 ] || return 0
	for p in "$dpid" $(descendants "$dpid"); do
		taskset -a -c -p 0 "$p" >/dev/null 2>&1
	done
}

wait_for() {	# seconds command...: polls until command succeeds
	lim=$1; shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		kill -0 "$dpid" 2>/dev/null || fail "daemon exited during startup"
		i=$((i + 1))
		[ $i -le $((lim * 2)) ] || fail "not ready after ${lim}s"
		sleep 0.5
	done
}

PORT=$(free_port tcp) || die "no free port"
files=$(grep -c . "$list")
bytes=$(tr '\n' '\0' < "$list" | xargs -0 cat | wc -c)

# ---------------------------------------------------------------- spamd
start_spamd() {
	mkdir -p "$T/etc" "$T/home"
	cp /etc/spamassassin/*.pre "$T/etc/" 2>/dev/null
	cat > "$T/etc/local.cf" <<'EOF'
# imapsift bench: SpamAssassin's stock rules, local tests only.
use_bayes 0
bayes_auto_learn 0
dns_available no
skip_rbl_checks 1
EOF
	uopt=
	if [ "$(id -u)" = 0 ]; then
		uopt="-u nobody"
		chown -R nobody "$T/home"
	fi
	# shellcheck disable=SC2086
	spamd --local --nouser-config --siteconfigpath="$T/etc" \
	    --helper-home-dir="$T/home" --listen="127.0.0.1:$PORT" \
	    --max-children=1 --min-children=1 --min-spare=1 --max-spare=1 \
	    --max-conn-per-child=1000000 --pidfile="$T/spamd.pid" \
	    --syslog=stderr $uopt > "$T/spamd.log" 2>&1 &
	dpid=$!
	wait_for 180 spamc -K -x -d 127.0.0.1 -p "$PORT"
}

scan_spamd() {	# list out
	while IFS= read -r f; do
		printf '%s\t' "$f"
		spamc -x -c -t 120 -d 127.0.0.1 -p "$PORT" < "$f"
		printf '\t%s\n' "$?"
	done < "$1" > "$2"
}

# Lines "FILE<TAB>score/threshold\n<TAB>rc": join and judge.
judge_spamd() {
	paste -d '' - - < "$1" | awk -F'\t' '
	    { n++ }
	    $2 ~ /^-?[0-9.]+\/[0-9.]+$/ && ($3 == 0 || $3 == 1) {
		ok++; split($2, s, "/"); if (s[1] + 0 >= s[2] + 0) sp++ }
	    END { printf "checked=%d\nflagged=%d\n", ok, sp }'
}

# ---------------------------------------------------------------- rspamd
start_rspamd() {
	dns=$(free_port udp) || die "no free port"
	mkdir -p "$T/local/local.d" "$T/db" "$T/run" "$T/log"
	cat > "$T/rspamd.conf" <<EOF
# imapsift bench: stock rspamd rules; only this worker, on loopback.
.include "\$CONFDIR/common.conf"
options {
    pidfile = "\$RUNDIR/rspamd.pid";
    .include "\$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "\$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
    type = "file";
    filename = "\$LOGDIR/rspamd.log";
    .include "\$CONFDIR/logging.inc"
}
worker "normal" {
    bind_socket = "127.0.0.1:$PORT";
    count = 1;
    .include "\$CONFDIR/worker-normal.inc"
}
EOF
	# The resolver points at a closed loopback port: a lookup that is
	# still tried fails at once instead of waiting for a timeout.
	ns=127.0.0.1:$dns
	[ -n "${PEERS_DNSBL:-}" ] && ns=${PEERS_DNSBL#* }
	cat > "$T/local/local.d/options.inc" <<EOF
dns {
    nameserver = ["$ns"];
    timeout = 0.5s;
    retransmits = 1;
}
EOF
	# once_received asks DNS for the PTR of the sending IP: off too.
	for m in rbl surbl spf dkim dmarc arc asn whitelist hfilter \
	    fuzzy_check once_received; do
		echo "enabled = false;" > "$T/local/local.d/$m.conf"
	done
	if [ -n "${PEERS_DNSBL:-}" ]; then
		mkdir -p "$T/local/override.d"
		rm -f "$T/local/local.d/rbl.conf"
		cat > "$T/local/override.d/rbl.conf" <<EOF
rbls {
    "BENCH_DBL" {
        ignore_defaults = true;
        rbl = "${PEERS_DNSBL%% *}";
        no_ip = true;
        checks = ['urls'];
        returncodes = { BENCH_DBL_SPAM = "127.0.1.2"; }
    }
}
EOF
	fi
	# The phishing module asks DNS (phishtank) too.
	echo "phishtank_enabled = false;" > "$T/local/local.d/phishing.conf"
	uopt=
	if [ "$(id -u)" = 0 ]; then
		if id _rspamd >/dev/null 2>&1; then
			chown -R _rspamd "$T/db" "$T/run" "$T/log"
			uopt="-u _rspamd -g $(id -gn _rspamd)"
		else
			uopt=-i
		fi
	fi
	# shellcheck disable=SC2086
	rspamd -f -c "$T/rspamd.conf" $uopt \
	    --var="CONFDIR=/etc/rspamd" --var="LOCAL_CONFDIR=$T/local" \
	    --var="DBDIR=$T/db" --var="RUNDIR=$T/run" --var="LOGDIR=$T/log" \
	    > "$T/rspamd-stdout.log" 2>&1 &
	dpid=$!
	# First start compiles the Hyperscan cache: wait until it is loaded.
	wait_for 300 grep -q 'hyperscan database.*has been loaded' \
	    "$T/log/rspamd.log"
	wait_for 60 sh -c "rspamc -h 127.0.0.1:$PORT -t 10 < '$(head -n 1 "$list")' | grep -q '^Action:'"
}

scan_rspamd() {	# list out
	tr '\n' '\0' < "$1" |
	    xargs -0 rspamc -h "127.0.0.1:$PORT" -n 1 -t 60 > "$2" 2>&1
}

judge_rspamd() {
	awk '
	    /^Results for file: / { n++; cur = n }
	    /^Action: / && cur { act[cur] = substr($0, 9) }
	    /^Score: / && cur && act[cur] != "" { ok++
		if (act[cur] != "no action") sp++; cur = 0 }
	    END { printf "checked=%d\nflagged=%d\n", ok, sp }' "$1"
}

# ---------------------------------------------------------------- run
"start_$tool"
pin_daemon
# Warm up (untimed): a few messages from the list.
head -n 3 "$list" > "$T/warm.list"
"scan_$tool" "$T/warm.list" "$T/warm.out"
pin_daemon
# Page cache: read the list once so neither side pays for the disk.
tr '\n' '\0' < "$list" | xargs -0 cat > /dev/null

# PEERS_PIN=1: from here on this shell (client loop, sampler) runs on CPU 1.
[ "$ncpu" -ge 2 ] && [ "${PEERS_PIN:-0}" = 1 ] &&
    taskset -c -p 1 $$ >/dev/null 2>&1
case $tool in
spamd)	wpat='spamd child' ;;
rspamd)	wpat='normal' ;;
esac
sampler "$dpid" "$T/rss" "$wpat" &
spid=$!

d0=$(daemon_ticks)
t0=$(now)
# In the background so that a signal is handled at once (wait returns);
# `times` gives the CPU time of the client processes it ran.
( "scan_$tool" "$list" "$T/scan.out"; times > "$T/times" ) &
cpid=$!
wait "$cpid"
t1=$(now)
cpid=
d1=$(daemon_ticks)
sleep 1	# one more RSS sample
: > "$T/rss.stop"
wait "$spid" 2>/dev/null
spid=

"judge_$tool" "$T/scan.out" > "$T/judge" || fail "cannot read results"
. "$T/judge"
[ "${checked:-0}" -gt 0 ] || {
	echo "---- tail of scan output" >&2
	tail -n 20 "$T/scan.out" >&2
	fail "no result for any message"
}
if [ "$checked" -ne "$files" ]; then
	echo "---- tail of scan output" >&2
	tail -n 20 "$T/scan.out" >&2
	fail "results for $checked of $files messages"
fi
[ -f "$T/rss" ] || echo "rss_kb=0" > "$T/rss"
if [ "$tool" = rspamd ]; then
	# Scans that still sent a DNS query (each may have waited for it).
	echo "dns_msgs=$(grep -c 'rspamd_task_write_log.*dns req: [1-9]' \
	    "$T/log/rspamd.log")" >> "$T/judge"
fi
{
	echo "tool=$tool"
	echo "files=$files"
	cat "$T/judge"
	echo "bytes=$bytes"
	echo "secs=$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')"
	# CPU seconds: the daemon's processes during the scan, and the clients
	awk -v d0="$d0" -v d1="$d1" -v hz="$(getconf CLK_TCK)" '
	    function sec(x) { sub(/s$/, "", x); split(x, a, "m")
		return a[1] * 60 + a[2] }
	    NR == 2 { c = sec($1) + sec($2) }
	    END { d = (d1 - d0) / hz
		printf "daemon_cpu=%.3f\nclient_cpu=%.3f\ncpu=%.3f\n", d, c, d + c }' \
	    "$T/times"
	cat "$T/rss"
	echo "netns=$IMAPSIFT_PEERS_NS"
} > "$result"
exit 0
