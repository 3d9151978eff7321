#!/bin/sh
# bench.sh BIN CORPORA: imapsift beside SpamAssassin (spamd) and rspamd on
# the same messages, then the rule-scale benchmark (scale.sh).
#
#   sh tests/bench/bench.sh build/imapsift ../shared/corpora
#
# Input: every message of spamassassin-public-corpus, nazario-phishing and
# phishing-pot, in byte order of their paths.  The peers are slow, so each
# gets a fixed sample of that list (every Nth file: ~300 for spamd, ~1500
# for rspamd) and imapsift is run on exactly the same sample (5 runs pinned
# to CPU 0, 3 just before the peer and 2 just after, median); imapsift also
# runs over the whole list.  imapsift uses the shipped starter rules
# (rules/lists) plus a generated set (gen_rules.py: 10,000 domains, 1,000
# phones, 500 phrases).  See README.md in this directory.
set -u

die() { echo "bench.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: bench.sh BIN CORPORA"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$(pwd)/$1 ;; esac
CORP=$(cd "$2" 2>/dev/null && pwd) || die "no corpora folder: $2"
[ -x "$BIN" ] || die "no imapsift binary at $BIN (run make all)"
BIN0=$BIN
for t in taskset python3 spamd spamc rspamd rspamc ps awk; do
	command -v $t >/dev/null 2>&1 || die "missing tool: $t (make deps-bench)"
done
[ -x /usr/bin/time ] || die "missing /usr/bin/time (apt-get install time)"
CORPS="spamassassin-public-corpus nazario-phishing phishing-pot"
for c in $CORPS; do
	[ -d "$CORP/$c" ] || die "missing corpus $CORP/$c"
done

SPAMD_TARGET=300	# files in spamd's sample, at most
RSPAMD_TARGET=1500	# files in rspamd's sample, at most

W=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-bench.XXXXXX") || die "mktemp failed"
# child (lib.sh): peers.sh and scale.sh clean up after themselves on TERM.
. "$HERE/lib.sh"
cleanup() {
	kid_stop
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

t_start=$(date +%s)
echo "imapsift bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
    "$(uname -r)"
# One binary for the whole run, even if the tree is rebuilt meanwhile.
cp "$BIN0" "$W/imapsift" || die "cannot copy $BIN0"
BIN=$W/imapsift
echo "binary: $BIN0 (sha256 $(sha256sum < "$BIN" | cut -c1-12))"

# ------------------------------------------------------------ inputs
for c in $CORPS; do
	find "$CORP/$c" -mindepth 2 -type f
done | LC_ALL=C sort > "$W/full.list"
total=$(wc -l < "$W/full.list")
[ "$total" -gt 0 ] || die "no messages under $CORP"
sample() {	# target out: every Nth file, N = ceil(total / target)
	step=$(( (total + $1 - 1) / $1 ))
	awk -v s="$step" '(NR - 1) % s == 0' "$W/full.list" > "$2"
}
sample $SPAMD_TARGET "$W/sa.list"
sample $RSPAMD_TARGET "$W/rs.list"
# Page cache: everybody reads from memory.
tr '\n' '\0' < "$W/full.list" | xargs -0 cat > /dev/null

# ------------------------------------------------------------ rules
python3 "$HERE/gen_rules.py" --domains 10000 --phones 1000 --phrases 500 \
    --seed 1 "$W/gen" || die "gen_rules.py failed"
set --
if ls "$ROOT"/rules/lists/*.* >/dev/null 2>&1; then
	set -- -r "$ROOT/rules/lists"
	starter="rules/lists ($(cat "$ROOT"/rules/lists/*.* |
	    grep -cv '^[[:space:]]*\(#\|@\|$\)') entries)"
else
	starter="none shipped yet"
fi
set -- "$@" -r "$W/gen"
RULEARGS=$*
# shellcheck disable=SC2086
if ! "$BIN" check $RULEARGS > "$W/check.out" 2>&1; then
	cat "$W/check.out" >&2
	die "imapsift check rejected the bench rules"
fi
echo "rules: starter $starter + generated 10000 domains, 1000 phones," \
    "500 phrases"

# ------------------------------------------------------------ imapsift
# run_imapsift NAME LIST REPS: runs pinned to CPU 0, each adding a line
# to $W/NAME.runs; then writes $W/NAME.res from all runs so far.
run_imapsift() {
	name=$1 lst=$2 reps=$3
	n=$(wc -l < "$lst")
	nbytes=$(tr '\n' '\0' < "$lst" | xargs -0 cat | wc -c)
	i=1
	while [ $i -le "$reps" ]; do
		# shellcheck disable=SC2046,SC2086
		taskset -c 0 /usr/bin/time -v -o "$W/$name.time" \
		    "$BIN" classify $RULEARGS --stats $(cat "$lst") \
		    > "$W/$name.out" 2> "$W/$name.err"
		rc=$?
		if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
			tail -n 20 "$W/$name.err" >&2
			die "imapsift classify failed ($rc) on $name"
		fi
		got=$(awk -F'\t' 'NF >= 2 && $2 != ""' "$W/$name.out" | wc -l)
		[ "$got" -eq "$n" ] || {
			tail -n 5 "$W/$name.out" "$W/$name.err" >&2
			die "imapsift gave $got verdicts for $n files ($name)"
		}
		sec=$(sed -n 's/^classified: *\([0-9]*\) messages*, *\([0-9]*\) bytes* in *\([0-9.]*\) *s.*/\1 \2 \3/p' \
		    "$W/$name.err")
		[ "${sec%% *}" = "$n" ] || {
			cat "$W/$name.err" >&2
			die "--stats does not say 'classified: $n messages' ($name)"
		}
		load=$(sed -n 's/^rules: *\([0-9]*\) entr.* in *\([0-9.]*\) *s.*/\2/p' \
		    "$W/$name.err")
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n = split($2, a, ":")
		    s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' \
		    "$W/$name.time")
		rss=$(awk -F': ' '/Maximum resident set size/{print $2}' \
		    "$W/$name.time")
		cpu=$(awk -F': ' '/(User|System) time \(seconds\)/{c += $2}
		    END {print c + 0}' "$W/$name.time")
		junk=$(awk -F'\t' '$2 == "junk"' "$W/$name.out" | wc -l)
		echo "$sec ${load:-0} $wall $rss $junk $cpu" >> "$W/$name.runs"
		i=$((i + 1))
	done
	# median by classify seconds; RSS: the largest; CPU: its own median
	cpu=$(sort -k8,8g "$W/$name.runs" | awk '{ c[NR] = $8 }
	    END { print c[int((NR + 1) / 2)] }')
	sort -k3,3g "$W/$name.runs" | awk -v f="$n" -v nb="$nbytes" -v cpu="$cpu" '
	    { l[NR] = $0; if ($6 > rss) rss = $6 }
	    END { split(l[int((NR + 1) / 2)], m, " ")
		printf "cpu=%s\n", cpu
		printf "tool=imapsift\nfiles=%d\nchecked=%d\nbytes=%s\n", f, m[1], nb
		printf "secs=%s\nload=%s\nwall=%s\nworker_rss_kb=%d\n", m[3], m[4], m[5], rss
		printf "flagged=%d\n", m[7] }' > "$W/$name.res"
}

# The machine may be shared: imapsift's runs on each sample are split
# around the peer's run (3 just before, 2 just after), median of the 5.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "running imapsift on all $total files (taskset -c 0, 5 runs)..."
: > "$W/is_full.runs"; : > "$W/is_sa.runs"; : > "$W/is_rs.runs"
run_imapsift is_full "$W/full.list" 5

peer_fail=
# peer NAME LIST IMAPSIFT-NAME
peer() {
	echo "running $1 on $(wc -l < "$2") files (one stream), imapsift on" \
	    "the same files (5 runs around it)..."
	run_imapsift "$3" "$2" 3
	if ! child sh "$HERE/peers.sh" "$1" "$2" "$W/$1.res"; then
		echo "bench.sh: $1 FAILED: see above" >&2
		peer_fail="$peer_fail $1"
	fi
	run_imapsift "$3" "$2" 2
}
peer spamd "$W/sa.list" is_sa
peer rspamd "$W/rs.list" is_rs
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------ table
python3 - "$W" "$total" <<'EOF'
import os, sys
w, total = sys.argv[1], int(sys.argv[2])
def res(name):
    p = os.path.join(w, name + ".res")
    if not os.path.exists(p):
        return None
    d = {}
    for line in open(p):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            d[k] = v.strip("'")
    return d
def per(d, key):
    s = float(d[key])
    return int(d["files"]) / s if s > 0 else float("inf")
rows = []
def row(label, inp, d, ratio="", cratio="", target=""):
    if d is None:
        rows.append((label, inp, "FAILED") + ("",) * 9)
        return
    s = float(d["secs"])
    rows.append((label, inp, d["files"], "%.1f" % (int(d["bytes"]) / 1e6),
                 "%.3f" % s, "%.0f" % per(d, "secs"),
                 "%.2f" % (int(d["bytes"]) / 1e6 / s if s else 0),
                 "%.3f" % float(d["cpu"]),
                 "%.0f" % (int(d.get("worker_rss_kb", 0)) / 1024),
                 d.get("flagged", ""), ratio, cratio, target))
def ratio(a, b, want):
    if a is None or b is None:
        return "", "", ">=%dx: n/a" % want
    r = per(a, "secs") / per(b, "secs")
    c = per(a, "cpu") / per(b, "cpu")
    return ("%.1fx" % r, "%.1fx" % c,
            ">=%dx %s" % (want, "met" if r >= want else "NOT MET"))
full, isa, irs = res("is_full"), res("is_sa"), res("is_rs")
sa, rs = res("spamd"), res("rspamd")
row("imapsift", "all %d" % total, full)
row("imapsift", "spamd sample", isa)
row("spamd+spamc", "spamd sample", sa, *ratio(isa, sa, 100))
row("imapsift", "rspamd sample", irs)
row("rspamd+rspamc", "rspamd sample", rs, *ratio(irs, rs, 10))
hdr = ("tool", "input", "files", "MB", "seconds", "msgs/s", "MB/s",
       "CPU s", "RSS MiB", "flagged", "ratio", "CPU ratio", "target")
wd = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
print()
print("  ".join(str(h).ljust(wd[i]) for i, h in enumerate(hdr)).rstrip())
print("  ".join("-" * x for x in wd))
for x in rows:
    print("  ".join(str(v).ljust(wd[i]) if i < 2 else str(v).rjust(wd[i])
                    for i, v in enumerate(x)).rstrip())
print("""
ratio = imapsift msgs/s / peer msgs/s on the identical sample (wall time);
CPU ratio = the same per CPU second (peer: daemon + client processes).
seconds: imapsift = 'classified ... in Y s' of --stats (rules loaded), median
  of 5 runs pinned to CPU 0; peers = wall time of the one-stream client loop,
  daemon up and warm.  CPU s: imapsift = user+sys of the whole process
  (start and rule load included); peers = daemon + client during the scan.
RSS: imapsift = max RSS of the process (/usr/bin/time -v); peers = peak
  VmHWM of the scanning process (spamd child, rspamd normal worker).
flagged: imapsift junk / spamd score >= required / rspamd action other than
  'no action' (shows each did its work; not an accuracy comparison).""")
for d, p, name in ((isa, sa, "spamd"), (irs, rs, "rspamd")):
    if d and p and float(d["wall"]) > 0:
        e2e = int(d["files"]) / float(d["wall"])
        print("end to end vs %s: imapsift process wall %.3f s (rule load "
              "%.3f s) = %.0f msgs/s = %.1fx"
              % (name, float(d["wall"]), float(d["load"]), e2e,
                 e2e / per(p, "secs")))
for p, name in ((sa, "spamd"), (rs, "rspamd")):
    if p:
        print("%s: peak sum over its processes %.0f MiB, largest process "
              "%.0f MiB (%s); network namespace: %s"
              % (name, int(p.get("rss_total_kb", 0)) / 1024,
                 int(p.get("rss_kb", 0)) / 1024, p.get("rss_proc"),
                 p.get("netns")))
if rs:
    print("rspamd scans that still sent a DNS query: %s" % rs.get("dns_msgs"))
EOF

# ------------------------------------------------------------ scale
echo
child sh "$HERE/scale.sh" "$BIN" "$CORP" || scale_fail=1

# ------------------------------------------------------- regression
# Backscatter detection (bounce analysis on every message) must keep
# classification within 1.2x of its speed before it: aa66798 is the last
# commit before it.
echo
echo "classification speed against the commit before backscatter detection"
child sh "$HERE/regress.sh" "$BIN" "$CORP" aa66798 || scale_fail=1

# ------------------------------------------------------------ sweep
# imapsift sweep against imapfilter on a loopback Dovecot INBOX of 10,000
# messages, beside a raw fetch of it (sweep.sh; without the sweep command
# it still measures imapfilter and the raw fetch).
echo
child sh "$HERE/sweep.sh" "$BIN" "$CORP" || sweep_fail=1
# ... and again with Dovecot on one CPU and the clients on the other, as
# when the server is another machine.
if [ "$(nproc)" -ge 2 ]; then
	echo
	SWEEP_PIN=1 child sh "$HERE/sweep.sh" "$BIN" "$CORP" || sweep_fail=1
fi
# ------------------------------------------------------------ dnsbl
# URI DNS blocklist lookups against a loopback Unbound: classification
# with 20 queries per message, and the sweep with and without them.
echo
child sh "$HERE/dnsbl.sh" "$BIN" || dnsbl_fail=1
# ------------------------------------------------------------ feeds
# A feed of 1,000,000 hosts refreshed over HTTPS from loopback.
echo
child sh "$HERE/feeds.sh" "$BIN" || feeds_fail=1
echo
echo "bench: $(($(date +%s) - t_start)) s in all"
[ -z "$peer_fail" ] || die "peer(s) failed:$peer_fail"
[ -z "${scale_fail:-}" ] || die "scale benchmark failed"
[ -z "${sweep_fail:-}" ] || die "sweep benchmark failed"
[ -z "${dnsbl_fail:-}" ] || die "dnsbl benchmark failed"
[ -z "${feeds_fail:-}" ] || die "feeds benchmark failed"
exit 0
