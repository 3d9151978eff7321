# dns.sh: a private Unbound on loopback answering DNS blocklist zones the
# test writes, for tests/integration/test_dnsbl.sh and tests/bench/dnsbl.sh.
# Source it from a POSIX sh script:
#
#	. "$TOP/tests/dnsbl/dns.sh"
#	dns_start DIR ZONEFILE || exit 1	# ZONEFILE: Unbound server: lines
#	... DNS_PORT, DNS_LOG ...
#	dns_stop
#
# ZONEFILE holds Unbound `local-zone:` and `local-data:` lines (a static
# zone answers NXDOMAIN, with its SOA, for names it does not list; a
# redirect zone answers its apex's record for every name under it).
# Every other name is refused: nothing leaves loopback.  Queries are
# logged (log-queries), one "info: 127.0.0.1 NAME. A IN" line each:
# dns_queries PATTERN counts the logged queries whose name matches the
# grep -E PATTERN.  DNS_LOG_QUERIES=no (the benchmark) turns that log
# off: a line written per query made Unbound the bottleneck.  dns_restart starts it again on the same port (after a
# dns_stop, to show what the cache answers without it).
#
# dns_peer_start DIR MODE: a scripted UDP peer (tests/dnsbl/peer.py) on
# another port, in front of the Unbound: MODE "hang" never answers a
# name starting "hang", "garbage" answers a name starting "bad" with a
# malformed packet (logged to DIR/peer.err); both relay the rest after
# 0.2 s.  DNS_PEER_PORT.  dns_peer_stop stops it (dns_stop does too).

. "$TOP/tests/proc.sh"

_dns_free_port() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
t = socket.socket()
try:
    t.bind(("127.0.0.1", s.getsockname()[1]))
except OSError:
    pass
print(s.getsockname()[1])'
}

_dns_conf() {
	{
		printf 'server:\n  interface: 127.0.0.1\n  port: %s\n' "$DNS_PORT"
		printf '  do-ip6: no\n  username: ""\n  chroot: ""\n'
		printf '  directory: "%s"\n  pidfile: "%s/unbound.pid"\n' \
		    "$DNS_DIR" "$DNS_DIR"
		printf '  logfile: "%s"\n  use-syslog: no\n' "$DNS_LOG"
		printf '  verbosity: 1\n  log-queries: %s\n  num-threads: 1\n' \
		    "${DNS_LOG_QUERIES:-yes}"
		printf '  access-control: 127.0.0.0/8 allow\n'
		printf '  module-config: "iterator"\n'
		printf '  local-zone: "." refuse\n'
		cat "$DNS_ZONES"
		printf 'remote-control:\n  control-enable: no\n'
	} > "$DNS_DIR/unbound.conf"
}

_dns_launch() {
	unbound -d -c "$DNS_DIR/unbound.conf" 2>>"$DNS_DIR/unbound.err" &
	DNS_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		grep -q 'start of service' "$DNS_LOG" 2>/dev/null && return 0
		kill -0 "$DNS_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	echo "dns.sh: unbound did not start: $(cat "$DNS_DIR/unbound.err" \
	    "$DNS_LOG" 2>/dev/null)" >&2
	return 1
}

dns_start() {
	DNS_DIR=$1 DNS_ZONES=$2
	DNS_LOG=$DNS_DIR/unbound.log
	mkdir -p "$DNS_DIR"
	DNS_PORT=$(_dns_free_port)
	unbound-checkconf /dev/null >/dev/null 2>&1 ||
	    { echo "dns.sh: unbound is not installed" >&2; return 1; }
	_dns_conf
	unbound-checkconf "$DNS_DIR/unbound.conf" >/dev/null || return 1
	_dns_launch
}

dns_restart() { _dns_launch; }

dns_stop() {
	if [ -n "${DNS_PID:-}" ]; then
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
	fi
	DNS_PID=
	dns_peer_stop
}

dns_peer_stop() {
	if [ -n "${DNS_PEER_PID:-}" ]; then
		kill "$DNS_PEER_PID" 2>/dev/null
		wait "$DNS_PEER_PID" 2>/dev/null
	fi
	DNS_PEER_PID=
}

dns_queries() {
	grep -E "info: 127\.0\.0\.1 ($1)\. A IN" "$DNS_LOG" | wc -l |
	    tr -d ' '
}

dns_peer_start() {
	rm -f "$1/peer.port"
	python3 "$TOP/tests/dnsbl/peer.py" "$DNS_PORT" "$1/peer.port" "$2" \
	    2>"$1/peer.err" &
	DNS_PEER_PID=$!
	wait_file "$1/peer.port" 10
	DNS_PEER_PORT=$(cat "$1/peer.port" 2>/dev/null)
	[ -n "$DNS_PEER_PORT" ]
}
