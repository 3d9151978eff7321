#!/bin/sh
# sweep.sh BIN CORPORA: `imapsift sweep` against imapfilter on one IMAP
# mailbox, with a raw fetch of the same mailbox as the floor.
#
#   sh tests/bench/sweep.sh build/imapsift ../shared/corpora
#
# A private Dovecot on loopback (tests/integration/dovecot.sh, rawlog off)
# gets an INBOX of 10,000 messages built from the corpora: spam
# (spamassassin spam, nazario-phishing, phishing-pot), backscatter (the
# bounce corpora and sisimai) and ham (spamassassin easy_ham,
# ham-usrp-users-list), files over 12 KiB left out, each pool cycled to
# its share (copies get a fresh Message-ID) and shuffled with a fixed
# seed.  Sent holds the originals of a few bounces, so those bounces are
# legitimate and must stay.  The files are written straight into the
# Maildir, indexed once by doveadm, and that Maildir is kept as a
# pristine copy: before each timed run the user's Maildir is replaced by
# it, so every tool starts from the same indexed mailbox.
#
# One indicator list serves both filters: the link hosts that occur in
# the most spam messages and in no ham or bounce (SWEEP_DOMAINS of them,
# default 20).  imapsift reads it as a rules dir (nothing else);
# imapfilter's Lua config does one contain_body() per host (server-side
# UID SEARCH BODY, Dovecot reads every message once per host), moves the
# union to Junk, then moves the messages that look like bounces (sender
# MAILER-DAEMON/postmaster, a report Content-Type or a bounce Subject),
# less those quoting a Sent Message-ID, to Backscatter.
#
# Timed, each under /usr/bin/time -v (wall time, peak RSS, client CPU),
# with the machine's busy time from /proc/stat around it (what is not the
# client's is the server's: Dovecot's imap and imap-login processes):
#   raw        python3 ssl client: LOGIN, SELECT INBOX,
#              UID FETCH 1:* BODY.PEEK[], read everything, LOGOUT
#              (it must count every message)
#   moves      the same, then the moves imapsift's first run made, made
#              the way it makes them (UID STORE +FLAGS.SILENT ($Junk),
#              then UID MOVE, per folder): the floor with the moves
#   imapfilter imapfilter -t CA -c LUA
#   imapsift   imapsift sweep --all -c CONFIG (a fresh store each run;
#              HOME and XDG dirs under the temporary directory)
# raw, imapsift and moves take turns, 3 runs each, median seconds (peak
# RSS: the largest of the three); imapfilter runs once, after the first
# round.
# After each run the moves it made are counted (doveadm: Junk,
# Backscatter, INBOX).  imapsift's config: the rules dir above,
# unknown_bounce = "backscatter", addresses alice@example.org, Sent found
# by \Sent; imapfilter's Lua config and imapsift's are written to the
# temporary directory.
# Targets: imapsift >= 2x imapfilter's msgs/s, and within 1.5x of the raw
# fetch (raw seconds / imapsift seconds >= 0.67).
#
# Needs (Debian): dovecot-imapd, openssl, imapfilter, time, python3.
# SWEEP_MESSAGES (10000) and SWEEP_DOMAINS (20) change the sizes;
# SWEEP_PIN=1 puts Dovecot on CPU 0 and the clients on CPU 1 (taskset);
# SWEEP_LEARN=false runs imapsift with learning off.
set -u

die() { echo "sweep.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: sweep.sh BIN CORPORA"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$(pwd)/$1 ;; esac
CORP=$(cd "$2" 2>/dev/null && pwd) || die "no corpora folder: $2"
NMSG=${SWEEP_MESSAGES:-10000}
NDOM=${SWEEP_DOMAINS:-20}
for t in dovecot doveadm openssl imapfilter; do
	command -v $t >/dev/null 2>&1 ||
	    die "missing tool: $t (apt-get install dovecot-imapd imapfilter)"
done
[ -x /usr/bin/time ] || die "missing /usr/bin/time (apt-get install time)"
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
for c in spamassassin-public-corpus nazario-phishing phishing-pot \
    ham-usrp-users-list sisimai-set-of-emails; do
	[ -d "$CORP/$c" ] || die "missing corpus $CORP/$c"
done
[ -f "$CORP/labels.tsv" ] || die "missing $CORP/labels.tsv"

. "$ROOT/tests/integration/dovecot.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-sweep.XXXXXX") || die "mktemp failed"
. "$HERE/lib.sh"
cleanup() {
	kid_stop
	dovecot_stop
	# SWEEP_KEEP=DIR keeps every client's output there.
	[ -n "${SWEEP_KEEP:-}" ] && mkdir -p "$SWEEP_KEEP" &&
	    cp "$W"/*.out "$W"/*.err "$SWEEP_KEEP"/ 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
t0=$(date +%s)

echo "sweep bench: $NMSG messages in a loopback Dovecot INBOX," \
    "$NDOM indicator hosts${SWEEP_PIN:+; Dovecot on CPU 0, the clients on CPU 1}"
# A binary without the command says 'unknown command "sweep"'.
if [ -x "$BIN" ] && ! "$BIN" sweep --help 2>&1 |
    grep -q 'unknown command'; then
	have_sweep=1
	# One binary for the whole run, even if the tree is rebuilt meanwhile.
	cp "$BIN" "$W/imapsift" || die "cannot copy $BIN"
	BIN=$W/imapsift
else
	have_sweep=
fi

# ------------------------------------------------------------ server
dovecot_start || die "dovecot did not start"
# No raw protocol log: it would write every fetched byte to disk again.
sed -i '/^rawlog_dir/d' "$DOVECOT_CONF"
dovecot_restart || die "dovecot did not restart"
# SWEEP_PIN=1: Dovecot's processes on CPU 0 and every client on CPU 1, as
# when the server is another machine (a hosted IMAP server's CPU is not
# the user's); by default everything shares every CPU.
PIN=
if [ -n "${SWEEP_PIN:-}" ]; then
	command -v taskset >/dev/null 2>&1 || die "SWEEP_PIN needs taskset"
	[ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] || die "SWEEP_PIN needs 2 CPUs"
	for p in $(_dv_pids); do
		taskset -a -p -c 0 "$p" >/dev/null || die "taskset failed"
	done
	PIN="taskset -c 1"
fi
dv_create alice Backscatter || die "doveadm mailbox create failed"
MD=$DOVECOT_DIR/home/alice/Maildir
# Junk and Sent are auto = subscribe: listed, made on first use.  Made
# here as Dovecot makes a folder: mode 0700 like the Maildir.  (Dovecot
# copies a message into a folder whose mode differs from its source's
# instead of hard-linking it: a move into a 0755 Junk cost ten times one
# into a 0700 Backscatter.)
for m in Junk Sent; do
	(umask 077 && mkdir -p "$MD/.$m/cur" "$MD/.$m/new" "$MD/.$m/tmp")
done
[ -d "$MD/cur" ] && [ -d "$MD/.Backscatter/cur" ] ||
    die "unexpected Maildir layout under $MD: $(ls -a "$MD" | tr '\n' ' ')"

# ------------------------------------------------------------ mailbox
"$PY" - "$CORP" "$W" "$NMSG" "$NDOM" "$MD" <<'EOF' || die "generator failed"
import os, random, re, sys, collections
corp, w, nmsg, ndom, md = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
MAXSZ = 12 * 1024
pools = {"spam": [], "bounce": [], "ham": []}
with open(os.path.join(corp, "labels.tsv")) as f:
    next(f)
    for line in sorted(f):
        path, label, c = line.rstrip("\n").split("\t")[:3]
        if "/dos/" in path:
            continue        # CRLF copies of other sisimai files
        if label in ("spam", "phish"):
            k = "spam"
        elif label == "bounce":
            k = "bounce"
        elif label == "ham" and (c == "ham-usrp-users-list" or
                                 "/easy_ham/" in path):
            k = "ham"
        else:
            continue
        p = os.path.join(corp, path)
        try:
            if os.path.getsize(p) > MAXSZ:
                continue
            data = open(p, "rb").read()
        except OSError:
            continue
        pools[k].append(data)
share = {"spam": 0.30, "bounce": 0.10}
share["ham"] = 1 - share["spam"] - share["bounce"]

# Indicator hosts: in the most spam messages, in no ham or bounce.
url = re.compile(rb"https?://([a-z0-9][a-z0-9.-]*\.[a-z]{2,})", re.I)
ipish = re.compile(rb"^[0-9.]+$")
def hosts(d):
    out = set()
    for m in url.finditer(d):
        h = m.group(1).lower().rstrip(b".")
        if h.startswith(b"www."):
            h = h[4:]
        if h.count(b".") >= 1 and not ipish.match(h) and len(h) >= 6:
            out.add(h)
    return out
bad = set()
for d in pools["ham"] + pools["bounce"]:
    bad |= hosts(d)
cnt = collections.Counter()
for d in pools["spam"]:
    for h in hosts(d):
        if h not in bad:
            cnt[h] += 1
# A host that is a suffix of another chosen one would only duplicate it.
doms = []
for h, n in cnt.most_common():
    if any(h.endswith(b"." + x) or x.endswith(b"." + h) for x in doms):
        continue
    doms.append(h)
    if len(doms) == ndom:
        break
os.makedirs(os.path.join(w, "rules"))
with open(os.path.join(w, "rules", "bench.domains"), "wb") as f:
    f.write(b"# sweep bench: link hosts of the spam part\n")
    f.write(b"".join(h + b"\n" for h in doms))

# Legit bounces: every 25th bounce that quotes an original Message-ID
# gets that original into Sent.
qid = re.compile(rb"^[ >]*Message-Id:[ \t]*(<[^>\s]+>)", re.I | re.M)
def body(d):
    i = d.find(b"\n\n")
    j = d.find(b"\r\n\r\n")
    cands = [x for x in (i, j) if x >= 0]
    return d[min(cands):] if cands else b""
sent = []
legit = set()
for i, d in enumerate(pools["bounce"]):
    m = qid.search(body(d))
    if m and m.group(1) not in sent and (i % 25) == 0 and \
            not re.search(rb"['\\\\]", m.group(1)):
        sent.append(m.group(1))
        legit.add(i)
with open(os.path.join(w, "sentids.txt"), "wb") as f:
    f.write(b"".join(x + b"\n" for x in sent))

# The INBOX: each pool cycled to its share; copies after the first get
# a new Message-ID (a repeated ID could look like mail the user rescued).
mid = re.compile(rb"^(Message-Id:[ \t]*<)", re.I | re.M)
def recopy(d, k):
    if k == 0:
        return d
    i = d.find(b"\n\n")
    if i < 0:
        i = len(d)
    h, rest = d[:i], d[i:]
    h2, n = mid.subn(lambda m: m.group(1) + b"c%d." % k, h, count=1)
    return h2 + rest
msgs = []
for k in ("spam", "bounce", "ham"):
    want = int(round(nmsg * share[k])) if k != "ham" else \
        nmsg - len(msgs)
    p = pools[k]
    for i in range(want):
        msgs.append((k, k == "bounce" and i % len(p) in legit,
                     recopy(p[i % len(p)], i // len(p))))
random.Random(1).shuffle(msgs)
tot = 0
kinds = collections.Counter()
cur = os.path.join(md, "cur")
for n, (k, lg, d) in enumerate(msgs):
    kinds[k + ("-legit" if lg else "")] += 1
    tot += len(d)
    with open(os.path.join(cur, "%d.M%dP1.bench,S=%d:2," %
                           (1000000000 + n, n, len(d))), "wb") as f:
        f.write(d)
for n, x in enumerate(sent):
    d = (b"From: Alice <alice@example.org>\nTo: someone@example.net\n"
         b"Subject: sent %d\nDate: Mon, 1 Jan 2001 00:00:00 +0000\n"
         b"Message-ID: %s\n\nhello\n" % (n, x))
    with open(os.path.join(md, ".Sent", "cur", "%d.M%dP2.bench,S=%d:2,S"
                           % (1000000000 + n, n, len(d))), "wb") as f:
        f.write(d)
with open(os.path.join(w, "mailbox.txt"), "w") as f:
    f.write("%d %d %s\n" % (len(msgs), tot, " ".join(
        "%s=%d" % kv for kv in sorted(kinds.items()))))
EOF
read -r n_in bytes_in kinds < "$W/mailbox.txt"
[ "$n_in" -eq "$NMSG" ] || die "generator wrote $n_in messages, not $NMSG"
if [ "$(id -u)" = 0 ]; then
	chown -R "$(id -u nobody):$(id -g nobody)" "$MD"
fi
doveadm -c "$DOVECOT_CONF" force-resync -u alice '*' ||
    die "doveadm force-resync failed"
doveadm -c "$DOVECOT_CONF" index -u alice INBOX 2>/dev/null
got=$(dv_count alice INBOX)
[ "$got" = "$NMSG" ] || die "INBOX holds $got messages, not $NMSG"
nsent=$(dv_count alice Sent)
cp -a "$MD" "$W/pristine" || die "cannot copy the Maildir"
ndoms=$(grep -vc '^#' "$W/rules/bench.domains")
printf 'mailbox: %d messages, %.1f MB (%s), Sent %d; %d hosts\n' \
    "$n_in" "$(echo "$bytes_in" | awk '{print $1 / 1e6}')" "$kinds" \
    "$nsent" "$ndoms"

# reset: the pristine Maildir back in place, once the last session's
# imap process has gone (at most 3 s).
reset() {
	_w=0
	while [ $_w -lt 30 ] && ps -eo args= |
	    grep -q "^dovecot-$DOVECOT_NAME/imap\( \|$\)"; do
		sleep 0.1; _w=$((_w + 1))
	done
	rm -rf "$MD" && cp -a "$W/pristine" "$MD" ||
	    die "cannot restore the Maildir"
}

# ------------------------------------------------------------ configs
cat > "$W/raw.py" <<'EOF'
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 30),
                    server_hostname="localhost")
f = s.makefile("rb", buffering=1 << 16)
def cmd(tag, text):
    s.sendall(b"%s %s\r\n" % (tag, text))
    nfetch = nbytes = 0
    while True:
        line = f.readline()
        if not line:
            sys.exit("EOF")
        if line.startswith(b"* ") and b" FETCH " in line[:40]:
            nfetch += 1
        while line.endswith(b"}\r\n"):
            n = int(line[line.rindex(b"{") + 1:-3])
            lit = f.read(n)
            if len(lit) != n:
                sys.exit("short literal")
            nbytes += n
            line = f.readline()
        if line.startswith(tag + b" "):
            if not line.startswith(tag + b" OK"):
                sys.exit(line.decode("utf-8", "replace"))
            return nfetch, nbytes
f.readline()
cmd(b"a1", b'LOGIN "alice" "secret"')
cmd(b"a2", b"SELECT INBOX")
n, b = cmd(b"a3", b"UID FETCH 1:* BODY.PEEK[]")
# With a moves file ("DEST UID UID ..." lines): imapsift's moves, made
# the way it makes them (UID STORE $Junk, then UID MOVE, per folder).
moved = 0
if len(sys.argv) > 3:
    for k, line in enumerate(open(sys.argv[3])):
        dest, *uids = line.split()
        if not uids:
            continue
        st = ",".join(uids).encode()
        cmd(b"s%d" % k, b"UID STORE " + st + b" +FLAGS.SILENT ($Junk)")
        cmd(b"m%d" % k, b"UID MOVE " + st + b" " + dest.encode())
        moved += len(uids)
cmd(b"a4", b"LOGOUT")
print("fetched %d %d moved %d" % (n, b, moved))
EOF

mkdir -p "$W/ifhome/.imapfilter"
{
	cat <<EOF
-- sweep bench: the same indicator hosts as imapsift's rules dir.
options.timeout = 120
options.certificates = false
options.info = false
account = IMAP {
	server = 'localhost',
	port = $IMAPS_PORT,
	username = 'alice',
	password = 'secret',
	ssl = 'auto',
}
inbox = account.INBOX
junk = Set {}
EOF
	grep -v '^#' "$W/rules/bench.domains" |
	    sed "s/.*/junk = junk + inbox:contain_body('&')/"
	cat <<'EOF'
junk:move_messages(account['Junk'])
bounces = inbox:contain_from('MAILER-DAEMON') +
	inbox:contain_from('postmaster') +
	inbox:contain_field('Content-Type', 'multipart/report') +
	inbox:contain_subject('Undeliver') +
	inbox:contain_subject('Delivery Status Notification') +
	inbox:contain_subject('failure notice') +
	inbox:contain_subject('Returned mail') +
	inbox:contain_subject('Delivery failure')
legit = Set {}
EOF
	sed "s/.*/legit = legit + bounces:contain_body('&')/" "$W/sentids.txt"
	echo "backscatter = bounces - legit"
	echo "backscatter:move_messages(account['Backscatter'])"
} > "$W/imapfilter.lua"

# conf STORE: the imapsift config for one run (0600).
# SWEEP_LEARN=false: the same sweep with learning off (what learning
# costs the sweep).
conf() {
	dv_imapsift_conf "$W/imapsift.conf" bench "$1" "$W/rules" \
	    'unknown_bounce = "backscatter";' \
	    ${SWEEP_LEARN:+"learn = $SWEEP_LEARN;"}
}

# ------------------------------------------------------------ runs
# busy: CPU time the whole machine has spent busy since boot, in ticks.
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
busy() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# timed NAME CMD...: runs CMD under /usr/bin/time -v (killed after
# $limit seconds), then writes
# $W/NAME.res: secs rss_kb junk backscatter inbox rc cpu_secs.
timed() {
	name=$1; shift
	reset
	busy0=$(busy)
	# shellcheck disable=SC2086
	child /usr/bin/time -v -o "$W/$name.time" timeout "$limit" $PIN "$@" \
	    > "$W/$name.out" 2> "$W/$name.err"
	rc=$?
	busy1=$(busy)
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/{n = split($2, a, ":")
	    s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' \
	    "$W/$name.time")
	rss=$(awk -F': ' '/Maximum resident set size/{print $2}' \
	    "$W/$name.time")
	cpu=$(awk -F': ' '/(User|System) time \(seconds\)/{c += $2}
	    END {print c + 0}' "$W/$name.time")
	# Everything else the machine did meanwhile: Dovecot's imap and
	# imap-login (TLS) processes, and what little else runs here.
	other=$(echo "$busy0 $busy1 ${cpu:-0} $HZ" |
	    awk '{ o = ($2 - $1) / $4 - $3; print o < 0 ? 0 : o }')
	echo "${secs:-0} ${rss:-0} $(dv_count alice Junk)" \
	    "$(dv_count alice Backscatter) $(dv_count alice INBOX) $rc" \
	    "${cpu:-0} $other" > "$W/$name.res"
	if [ $rc -ne 0 ]; then
		echo "sweep.sh: $name exited $rc:" >&2
		tail -n 10 "$W/$name.out" "$W/$name.err" | sed 's/^/  /' >&2
	fi
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# median3 NAME: $W/NAME.res from NAME1..3: the run of median seconds,
# with the largest peak RSS of the three.
median3() {
	rss=$(cat "$W/${1}1.res" "$W/${1}2.res" "$W/${1}3.res" |
	    awk '$2 > m { m = $2 } END { print m + 0 }')
	sort -k1,1g "$W/${1}1.res" "$W/${1}2.res" "$W/${1}3.res" |
	    awk -v r="$rss" 'NR == 2 { $2 = r; print }' > "$W/$1.res"
}
# Raw fetch and imapsift alternate, 3 runs each (median); imapfilter runs
# once, after the first pair.
for i in 1 2 3; do
	echo "run $i of 3..."
	limit=60
	timed raw$i "$PY" "$W/raw.py" "$IMAPS_PORT" "$CA_FILE"
	grep -q "^fetched $NMSG " "$W/raw$i.out" || {
		echo "sweep.sh: raw fetch did not get $NMSG messages:" \
		    "$(cat "$W/raw$i.out")" >&2
		echo "0 0 0 0 0 1 0" > "$W/raw$i.res"
	}
	limit=240
	if [ -n "$have_sweep" ]; then
		rm -rf "$W/store" "$W/ishome"
		mkdir -m 700 "$W/store" "$W/ishome"
		conf "$W/store"
		timed imapsift$i env HOME="$W/ishome" \
		    XDG_CONFIG_HOME="$W/ishome" XDG_STATE_HOME="$W/ishome" \
		    "$BIN" sweep --all -c "$W/imapsift.conf"
		# The floor with moves: the raw fetch, then the moves of
		# imapsift's first run made the same way.
		[ $i -eq 1 ] && for dest in Junk Backscatter; do
			printf '%s' "$dest"
			sed -n "s/^bench\/INBOX: moved uid \([0-9]*\) to $dest: .*/ \1/p" \
			    "$W/imapsift1.err" | tr -d '\n'
			echo
		done > "$W/moves.txt"
		timed moves$i "$PY" "$W/raw.py" "$IMAPS_PORT" "$CA_FILE" \
		    "$W/moves.txt"
	fi
	if [ $i -eq 1 ]; then
		echo "imapfilter..."
		timed imapfilter env HOME="$W/ifhome" imapfilter \
		    -t "$CA_FILE" -c "$W/imapfilter.lua"
	fi
done
median3 raw
[ -n "$have_sweep" ] && median3 imapsift && median3 moves
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------ table
"$PY" - "$W" "$NMSG" "$bytes_in" "$have_sweep" <<'EOF'
import os, sys
w, n, nb, have = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def res(name):
    p = os.path.join(w, name + ".res")
    if not os.path.exists(p):
        return None
    v = open(p).read().split()
    return dict(secs=float(v[0]), rss=int(v[1]), junk=int(v[2]),
                bs=int(v[3]), inbox=int(v[4]), rc=int(v[5]),
                cpu=float(v[6]), other=float(v[7]) if len(v) > 7 else 0)
raw, imf, isf = res("raw"), res("imapfilter"), res("imapsift")
mvf = res("moves")
ncpu = os.cpu_count() or 1
hdr = ("tool", "seconds", "msgs/s", "MB/s", "CPU s", "server CPU s",
       "RSS MiB", "Junk", "Backscatter", "INBOX left", "exit")
rows = []
for label, d in (("raw UID FETCH 1:* BODY.PEEK[] (python3)", raw),
                 ("raw fetch + imapsift's moves (python3)", mvf),
                 ("imapfilter (UID SEARCH BODY per host)", imf),
                 ("imapsift sweep --all", isf)):
    if d is None:
        rows.append((label, "not built yet") + ("",) * 9)
        continue
    s = d["secs"] or 1e-9
    rows.append((label, "%.2f" % d["secs"], "%.0f" % (n / s),
                 "%.1f" % (nb / 1e6 / s), "%.2f" % d["cpu"],
                 "%.2f" % d["other"], "%.1f" % (d["rss"] / 1024),
                 str(d["junk"]), str(d["bs"]), str(d["inbox"]), str(d["rc"])))
wd = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
print()
print("  ".join(str(h).ljust(wd[i]) for i, h in enumerate(hdr)).rstrip())
print("  ".join("-" * x for x in wd))
for x in rows:
    print("  ".join(str(v).ljust(wd[i]) if i == 0 else str(v).rjust(wd[i])
                    for i, v in enumerate(x)).rstrip())
print("""
%d messages, %.1f MB. seconds = wall time of the whole client process
  (connect, TLS, login included); raw, raw + moves and imapsift: median
  of 3 runs.  raw + moves: the raw fetch, then the UID STORE $Junk and
  UID MOVE per folder of the messages imapsift's first run moved.
CPU s = user + system of the client process only.  server CPU s = all
  other CPU time the machine spent meanwhile (/proc/stat): Dovecot's imap
  process and its imap-login TLS proxy, for the most part.  %s
RSS = peak of the client process (/usr/bin/time -v), largest of the runs.
Junk/Backscatter/INBOX = message counts afterwards (doveadm); the raw
  fetch moves nothing.""" % (n, nb / 1e6,
    "Pinned (SWEEP_PIN):\n  no run can take less than the larger of the two."
    if os.environ.get("SWEEP_PIN") else "On %d CPUs no\n  run can take "
    "less than (CPU s + server CPU s) / %d." % (ncpu, ncpu)))
nd = sum(1 for l in open(os.path.join(w, "rules", "bench.domains"))
         if not l.startswith("#"))
ns = sum(1 for l in open(os.path.join(w, "sentids.txt")))
print("imapfilter: %d UID SEARCH BODY passes over the whole INBOX (one per "
      "host), 8 header searches,\n  %d BODY searches within the bounces "
      "(one per Sent Message-ID); its time grows with the host count."
      % (nd, ns))
if isf is None:
    print("imapsift sweep: not built yet")
    sys.exit(0)
ep = os.path.join(w, "imapsift3.err")
summ = [l.rstrip("\n") for l in open(ep, errors="replace")
        if " in " in l and "moved" in l] if os.path.exists(ep) else []
if summ:
    print("imapsift's summary (last run): " + summ[-1])
if isf["rc"] != 0:
    print("imapsift sweep FAILED (exit %d): ratios not computed" % isf["rc"])
    sys.exit(0)
if imf:
    r = imf["secs"] / isf["secs"]
    print("imapsift vs imapfilter: %.2fx msgs/s (target >= 2x: %s)"
          % (r, "met" if r >= 2 else "NOT MET"))
if raw:
    r = raw["secs"] / isf["secs"]
    print("imapsift vs raw fetch: %.2fx its speed, i.e. %.2fx its time "
          "(target within 1.5x: %s)" % (r, 1 / r,
                                         "met" if r >= 1 / 1.5 else "NOT MET"))
if mvf:
    print("imapsift vs raw fetch + the same moves: %.2fx its time"
          % (isf["secs"] / (mvf["secs"] or 1e-9)))
pinned = os.environ.get("SWEEP_PIN")
for label, d in (("raw fetch", raw), ("raw + moves", mvf),
                 ("imapsift", isf)):
    if d and pinned:
        print("  %-12s CPU %.2f s client (CPU 1), %.2f s server (CPU 0): "
              "at least %.2f s of wall time" % (label, d["cpu"],
              d["other"], max(d["cpu"], d["other"])))
    elif d:
        print("  %-12s CPU %.2f s client + %.2f s server = %.2f s: at "
              "least %.2f s of wall time on %d CPUs" % (label, d["cpu"],
              d["other"], d["cpu"] + d["other"],
              (d["cpu"] + d["other"]) / ncpu, ncpu))
EOF
echo "sweep bench: $(($(date +%s) - t0)) s in all"
fail=
for r in raw1 raw2 raw3 moves1 moves2 moves3 imapfilter imapsift1 imapsift2 \
    imapsift3; do
	[ -f "$W/$r.res" ] || continue
	[ "$(cut -d' ' -f6 "$W/$r.res")" = 0 ] || fail="$fail $r"
done
[ -z "$fail" ] || die "failed:$fail"
exit 0
