#!/bin/sh
# dnsbl.sh BIN: what URI DNS blocklist lookups cost, against a private
# Unbound on loopback (tests/dnsbl/dns.sh) serving one DBL-style zone.
#
#   sh tests/bench/dnsbl.sh build/imapsift
#
# Messages (generated here, no corpus): DNSBL_MESSAGES (default 2000),
# each with 20 URLs of 20 distinct domains never seen in another message
# (so every lookup is a query: no cache hit), one message in ten with a
# listed domain among them.  The domains end in .net: rspamd takes no URL
# whose suffix it does not know (.example, .test).  No name leaves
# loopback: Unbound answers the zone and refuses the rest.
#
#   classify  `imapsift classify --stats -c CONFIG` over the files, with a
#             config naming the zone (max_dnsbl_queries 20: 20 queries per
#             message, a fresh store each run) and without it; the added
#             latency per message is the difference of the two times over
#             the message count (classify asks one message at a time: its
#             20 queries go out together and it waits for them).
#   peer      rspamd (tests/bench/peers.sh, when installed; DNSBL_PEER=0
#             skips it) over the same files, one stream, with its rbl
#             module asking the zone (PEERS_DNSBL: one rule, rspamd's
#             DBL settings) and with rbl off; it must find the listed
#             messages.  One run each (a start costs ~25 s); its added
#             time per message beside imapsift classify's.
#   sweep     `imapsift sweep --all` of the same messages in a private
#             Dovecot INBOX (tests/integration/dovecot.sh; the Maildir
#             reset from a pristine copy before each run), with and
#             without the zone; target: with it within 1.3x, because
#             the lookups of a batch run while it is fetched.  Twice:
#             the messages as written (about 1 KB) and padded with
#             16 KiB of text (DNSBL_PADS="0 16384"), since with tiny
#             mail on loopback the fetch costs less than the queries.
#             Each sweep's CPU time too (/usr/bin/time), Unbound's
#             (/proc/PID/stat) and the whole machine's (/proc/stat): on a
#             machine of few CPUs the queries' cost (the client's and the
#             resolver's work, and the loopback network's under both) is
#             shared with the fetch, and no overlap takes the wall time
#             under the machine's busy time over its CPU count.
#             Then the same sweeps over a link (tests/bench/link.py, a
#             relay in front of the same Dovecot: DNSBL_LINK="20 100",
#             20 ms round trip and 100 Mbit/s each way; "0" skips it),
#             as a hosted mailbox is reached, with Unbound still on
#             loopback: there the fetch takes time the lookups can use.
# 3 runs of each, taking turns; median seconds.  Both runs must judge
# alike but for the listed mail: the zone run moves exactly the messages
# with a listed domain (checked), the plain run none.
set -u

die() { echo "dnsbl.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: dnsbl.sh BIN"
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$(pwd)/$1 ;; esac
[ -x "$BIN" ] || die "no imapsift binary at $BIN"
NMSG=${DNSBL_MESSAGES:-2000}
W=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-dnsbl.XXXXXX") || die "mktemp failed"
. "$TOP/tests/integration/dovecot.sh"
. "$TOP/tests/dnsbl/dns.sh"
. "$TOP/tests/proc.sh"
LINK_PID=
trap '[ -n "$LINK_PID" ] && kill "$LINK_PID" 2>/dev/null
    dns_stop; dovecot_stop; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP

# ------------------------------------------------------------ messages
mkdir -p "$W/msg" "$W/rules"
printf 'not-used.example\n' > "$W/rules/base.domains"
python3 - "$W" "$NMSG" <<'EOF' || die "generator failed"
import os, sys
w, n = sys.argv[1], int(sys.argv[2])
zones = ['  local-zone: "dbl.test." static',
         '  local-data: "dbl.test. 3600 IN SOA ns.dbl.test. h.dbl.test. '
         '1 3600 600 86400 300"']
listed = 0
for i in range(n):
    doms = ["m%d-d%d.net" % (i, j) for j in range(20)]
    if i % 10 == 0:
        zones.append('  local-data: "%s.dbl.test. 3600 IN A 127.0.1.2"'
                     % doms[19])
        listed += 1
    body = "".join("see https://www.%s/p%d\n" % (d, j)
                   for j, d in enumerate(doms))
    m = ("From: Sender %d <s%d@sender.example>\nTo: alice@example.org\n"
         "Subject: message %d\nMessage-ID: <b%d@sender.example>\n"
         "Date: Mon, 07 Dec 2026 10:00:00 +0000\n\nHello,\n%s" %
         (i, i, i, i, body))
    with open(os.path.join(w, "msg", "%05d.eml" % i), "w") as f:
        f.write(m)
with open(os.path.join(w, "zones"), "w") as f:
    f.write("\n".join(zones) + "\n")
with open(os.path.join(w, "listed"), "w") as f:
    f.write("%d\n" % listed)
EOF
nlisted=$(cat "$W/listed")
# No query log: a log line per query costs Unbound more than the answer.
DNS_LOG_QUERIES=no dns_start "$W/dns" "$W/zones" || die "unbound did not start"

# conf FILE STORE DNSBL(0|1) BASE: BASE's lines, the store, the zone.
conf() {
	f=$1 st=$2 z=$3 b=$4
	rm -rf "$st"
	mkdir -m 700 -p "$st"
	(umask 077; {
		cat "$b"
		printf 'store = "%s";\n' "$st"
		if [ "$z" = 1 ]; then
			printf 'dns_server = "127.0.0.1:%s";\n' "$DNS_PORT"
			printf 'max_dnsbl_queries = 20;\n'
			printf 'dnsbl = ( { zone = "dbl.test"; kind = "dbl"; } );\n'
		fi
	} > "$f")
}
median() { sort -n | sed -n 2p; }
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
# busy: ticks the whole machine has spent busy since boot; ticks PID:
# what one process has spent.
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
[ -x /usr/bin/time ] || die "missing /usr/bin/time (apt-get install time)"

# ------------------------------------------------------------ classify
printf 'rules = [ "%s/rules" ];\n' "$W" > "$W/base.conf"
: > "$W/c0" ; : > "$W/c1"
for r in 1 2 3; do
	for z in 0 1; do
		conf "$W/config$z" "$W/st$z" $z "$W/base.conf"
		"$BIN" classify --stats -c "$W/config$z" "$W/msg" \
		    > "$W/cls$z.out" 2> "$W/cls$z.err" ||
		    die "classify failed: $(tail -n 3 "$W/cls$z.err")"
		sed -n 's/^classified: .* in \([0-9.]*\) s$/\1/p' \
		    "$W/cls$z.err" >> "$W/c$z"
	done
done
junk1=$(grep -c '	junk	dnsbl:' "$W/cls1.out")
junk0=$(grep -c '	junk	' "$W/cls0.out")
q=$(sed -n 's/^dnsbl: \([0-9]*\) queries$/\1/p' "$W/cls1.err")
[ "$junk1" = "$nlisted" ] && [ "$junk0" = 0 ] ||
    die "classify judged $junk1 (with) and $junk0 (without) junk, not $nlisted and 0"
c0=$(median < "$W/c0") c1=$(median < "$W/c1")
echo "dnsbl classify: $NMSG messages, 20 queries each ($q sent in the last run)"
awk -v a="$c0" -v b="$c1" -v n="$NMSG" 'BEGIN {
	printf "  without dnsbl %.3f s, with %.3f s: %.2f ms added per message (%.1f us per query)\n",
	    a, b, (b - a) * 1000 / n, (b - a) * 1e6 / n / 20 }'

# ------------------------------------------------------------ peer
if [ "${DNSBL_PEER:-1}" != 0 ] && command -v rspamd >/dev/null &&
    command -v rspamc >/dev/null; then
	find "$W/msg" -name '*.eml' | sort > "$W/list"
	mkdir -p "$W/rsp0" "$W/rsp1"
	PEERS_KEEP_LOGS=$W/rsp0 sh "$HERE/peers.sh" rspamd "$W/list" \
	    "$W/peer0" > "$W/peer0.log" 2>&1 ||
	    die "rspamd without the zone: $(tail -n 5 "$W/peer0.log")"
	PEERS_KEEP_LOGS=$W/rsp1 PEERS_DNSBL="dbl.test 127.0.0.1:$DNS_PORT" \
	    sh "$HERE/peers.sh" rspamd "$W/list" "$W/peer1" \
	    > "$W/peer1.log" 2>&1 ||
	    die "rspamd with the zone: $(tail -n 5 "$W/peer1.log")"
	hits=$(grep -c '^Symbol: BENCH_DBL_SPAM' "$W/rsp1/rspamd-scan.out")
	[ "$hits" = "$nlisted" ] ||
	    die "rspamd found $hits listed messages, not $nlisted"
	p0=$(sed -n 's/^secs=//p' "$W/peer0") p1=$(sed -n 's/^secs=//p' "$W/peer1")
	d0=$(sed -n 's/^daemon_cpu=//p' "$W/peer0")
	d1=$(sed -n 's/^daemon_cpu=//p' "$W/peer1")
	echo "dnsbl peer: rspamd $(rspamd --version 2>/dev/null | sed -n 's/.*version //p' | head -n 1), the same files, one stream, found all $hits listed"
	awk -v a="$p0" -v b="$p1" -v c="$d0" -v d="$d1" -v n="$NMSG" \
	    -v ia="$c0" -v ib="$c1" 'BEGIN {
		pr = (b - a) * 1000 / n; ir = (ib - ia) * 1000 / n
		printf "  rspamd without rbl %.2f s, with %.2f s: %.2f ms added per message (daemon CPU %.2f and %.2f s)\n",
		    a, b, pr, c, d
		printf "  imapsift classify added %.2f ms per message: %.1fx less than rspamd; whole scan %.1fx faster with the zone\n",
		    ir, (ir > 0 ? pr / ir : 0), (ib > 0 ? b / ib : 0) }'
fi

# ------------------------------------------------------------ sweep
dovecot_start || die "dovecot_start failed"
MD=$DOVECOT_DIR/home/alice/Maildir
dv_create alice Backscatter || die "doveadm mailbox create failed"
for m in Junk Sent; do
	(umask 077 && mkdir -p "$MD/.$m/cur" "$MD/.$m/new" "$MD/.$m/tmp")
done
[ -d "$MD/cur" ] || die "unexpected Maildir layout under $MD"
reset() {
	_w=0
	while [ $_w -lt 30 ] && ps -eo args= |
	    grep -q "^dovecot-$DOVECOT_NAME/imap\( \|$\)"; do
		sleep 0.1; _w=$((_w + 1))
	done
	rm -rf "$MD" && cp -a "$W/pristine" "$MD" || die "cannot restore"
}
dv_imapsift_conf "$W/base.conf" alice "$W/unused" "$W/rules"
sed -i '/^store = /d' "$W/base.conf"
# The link: the same Dovecot through tests/bench/link.py, as a hosted
# mailbox is reached (DNSBL_LINK="RTT_MS MBIT", default "20 100"; "0"
# skips it).  Unbound stays on loopback, as a local resolver is.
LINK_PORT= LINK_PID=
set -- ${DNSBL_LINK:-20 100}
if [ "$1" != 0 ]; then
	LINK_RTT=$1 LINK_MBIT=${2:-100}
	python3 "$HERE/link.py" --port-file "$W/link.port" \
	    --to "127.0.0.1:$IMAPS_PORT" --rtt "$LINK_RTT" \
	    --mbit "$LINK_MBIT" --lifetime 1200 2> "$W/link.err" &
	LINK_PID=$!
	wait_file "$W/link.port" 5
	LINK_PORT=$(cat "$W/link.port" 2>/dev/null)
	[ -n "$LINK_PORT" ] || die "link.py did not start: $(cat "$W/link.err")"
	sed "s/^  port = .*/  port = $LINK_PORT;/" "$W/base.conf" > "$W/link.conf"
fi
# sweeps PAD: the INBOX of the messages, each padded with PAD bytes of
# plain text (0: as written, about 1 KB; mail is often ten times that),
# swept 3 times with and 3 without the zone, taking turns.
sweeps() {
	PAD=$1
	rm -rf "$MD/cur"/* "$MD/new"/*
	rm -f "$MD"/dovecot* "$MD"/.Junk/cur/* 2>/dev/null
	python3 - "$W/msg" "$MD/cur" "$1" <<'PY' || die "cannot fill the Maildir"
import os, sys
src, dst, pad = sys.argv[1], sys.argv[2], int(sys.argv[3])
line = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
        "eiusmod tempor incididunt ut labore.\n")
filler = (line * (pad // len(line) + 1))[:pad]
for i, n in enumerate(sorted(os.listdir(src))):
    d = open(os.path.join(src, n)).read() + filler
    b = d.encode()
    with open(os.path.join(dst, "%d.M%dP1.bench,S=%d:2,S"
                           % (1000000000 + i, i, len(b))), "wb") as f:
        f.write(b)
PY
	[ "$(id -u)" = 0 ] && chown -R "$(id -u nobody):$(id -g nobody)" "$MD"
	doveadm -c "$DOVECOT_CONF" force-resync -u alice '*' ||
	    die "doveadm force-resync failed"
	doveadm -c "$DOVECOT_CONF" index -u alice INBOX 2>/dev/null
	[ "$(dv_count alice INBOX)" = "$NMSG" ] ||
	    die "INBOX holds $(dv_count alice INBOX)"
	rm -rf "$W/pristine"
	cp -a "$MD" "$W/pristine" || die "cannot copy the Maildir"
	runs "$W/base.conf" "in a loopback Dovecot INBOX"
	if [ -n "$LINK_PORT" ]; then
		runs "$W/link.conf" \
		    "in a Dovecot INBOX over a link of $LINK_RTT ms, $LINK_MBIT Mbit/s"
	fi
}
# runs BASE WHERE: the 3 sweeps with and 3 without, taking turns, of the
# INBOX in $W/pristine, through BASE's account.
runs() {
	base=$1
	: > "$W/s0" ; : > "$W/s1"
	for r in 1 2 3; do
		for z in 0 1; do
			reset
			conf "$W/sconfig$z" "$W/sst$z" $z "$base"
			b0=$(busy) u0=$(ticks "$DNS_PID") l0=$(ticks "$LINK_PID")
			t0=$(date +%s.%N)
			/usr/bin/time -o "$W/time$z" -f "%U %S" \
			    "$BIN" sweep --all -c "$W/sconfig$z" > /dev/null \
			    2> "$W/sw$z.err" ||
			    die "sweep failed: $(tail -n 3 "$W/sw$z.err")"
			t1=$(date +%s.%N)
			b1=$(busy) u1=$(ticks "$DNS_PID") l1=$(ticks "$LINK_PID")
			# seconds client_cpu unbound_cpu machine_busy relay_cpu
			echo "$t1 $t0 $(cat "$W/time$z") $u0 $u1 $b0 $b1 $l0 $l1" |
			    awk -v hz="$HZ" '{ printf "%.3f %.2f %.2f %.2f %.2f\n",
				$1 - $2, $3 + $4, ($6 - $5) / hz, ($8 - $7) / hz,
				($10 - $9) / hz }' \
			    >> "$W/s$z"
			j=$(dv_count alice Junk)
			want=$nlisted
			[ "$z" = 0 ] && want=0
			[ "$j" = "$want" ] ||
			    die "sweep (dnsbl $z) moved $j, not $want"
		done
	done
	s0=$(median < "$W/s0") s1=$(median < "$W/s1")
	q=$(sed -n 's/^alice: dnsbl: \([0-9]*\) queries sent$/\1/p' \
	    "$W/sw1.err")
	echo "dnsbl sweep: $NMSG messages (+$PAD bytes each) $2, $q queries"
	echo "$s0 $s1" | awk -v n="$NCPU" -v m="$NMSG" -v link="${base#$W/}" '{
		a = $1; b = $6
		printf "  without dnsbl %.2f s, with %.2f s: %.2fx (target <= 1.3x) %s\n",
		    a, b, b / a, b / a <= 1.3 ? "ok" : "OVER"
		printf "  CPU s (the median runs): imapsift %.2f and %.2f, Unbound %.2f, the machine busy %.2f and %.2f\n",
		    $2, $7, $8, $4, $9
		if (link == "link.conf")
			printf "  the link relay (link.py) used %.2f and %.2f s of it\n", $5, $10
		f = $9 / n
		printf "  with dnsbl the machine was busy %.2f s: no overlap takes %d CPUs under %.2f s (%.2fx), the floor of this run\n",
		    $9, n, f, f / a
		printf "  the lookups cost %.2f ms of CPU a message (imapsift added %.2f, Unbound %.2f); the sweep without them took %.2f ms a message: only a slower fetch hides them\n",
		    ($7 - $2 + $8) * 1000 / m, ($7 - $2) * 1000 / m, $8 * 1000 / m, a * 1000 / m }'
}
for pad in ${DNSBL_PADS:-0 16384}; do
	sweeps "$pad"
done
