#!/bin/sh
# scale.sh BIN CORPORA: how imapsift copes with a very large rule set.
#
#   sh tests/bench/scale.sh build/imapsift ../shared/corpora
#
# Generates (gen_rules.py) 1,000,000 domains, 100,000 phone numbers and
# 10,000 phrases into a temporary rules folder, and a 100-entry set
# (60 domains, 25 phones, 15 phrases) beside it.  Measures, pinned to CPU 0:
#   - `imapsift check -r BIG`: wall time and peak RSS (/usr/bin/time -v);
#   - `imapsift classify --stats -r BIG` and `-r SMALL` on the same 2,000
#     spamassassin-public-corpus messages (evenly spread over the sorted
#     list): rule load time, per-message classify time, peak RSS.
# check runs 3 times; classify 5 times per set, big and small alternating so
# that other load on the machine hits both alike; medians are kept (RSS:
# the largest).
# Targets: load < 3 s, RSS < 400 MB, per-message time big / small <= 1.3.
set -u

die() { echo "scale.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: scale.sh BIN CORPORA"
HERE=$(cd "$(dirname "$0")" && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$(pwd)/$1 ;; esac
CORP=$(cd "$2" 2>/dev/null && pwd) || die "no corpora folder: $2"
[ -x "$BIN" ] || die "no imapsift binary at $BIN"
[ -x /usr/bin/time ] || die "missing /usr/bin/time"
SA=$CORP/spamassassin-public-corpus
[ -d "$SA" ] || die "missing $SA"
NMSG=2000
REPS=3		# check runs
CREPS=5		# classify runs per set, big and small alternating
PIN="taskset -c 0"
command -v taskset >/dev/null 2>&1 || PIN=

W=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-scale.XXXXXX") || die "mktemp failed"
cleanup() { rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "rule scale: generating 1,000,000 domains, 100,000 phones, 10,000" \
    "phrases..."
python3 "$HERE/gen_rules.py" --domains 1000000 --phones 100000 \
    --phrases 10000 --seed 7 "$W/big" || die "gen_rules.py failed (big)"
python3 "$HERE/gen_rules.py" --domains 60 --phones 25 --phrases 15 \
    --seed 7 "$W/small" || die "gen_rules.py failed (small)"
big_mb=$(du -sk "$W/big" | awk '{printf "%.1f", $1 / 1024}')

find "$SA" -mindepth 2 -type f | LC_ALL=C sort > "$W/all.list"
t=$(wc -l < "$W/all.list")
[ "$t" -ge "$NMSG" ] || NMSG=$t
awk -v n="$NMSG" -v t="$t" 'int(NR * n / t) != int((NR - 1) * n / t)' \
    "$W/all.list" > "$W/msgs.list"
n=$(wc -l < "$W/msgs.list")
tr '\n' '\0' < "$W/msgs.list" | xargs -0 cat > /dev/null

# timed NAME CMD...: runs CMD pinned under /usr/bin/time -v; appends
# "wall rss_kb rc" to $W/NAME.t and keeps stdout/stderr in $W/NAME.{out,err}.
timed() {
	name=$1; shift
	$PIN /usr/bin/time -v -o "$W/$name.tv" "$@" > "$W/$name.out" \
	    2> "$W/$name.err"
	rc=$?
	awk -F': ' -v rc="$rc" '
	    /Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + a[i] }
	    /Maximum resident set size/ { r = $2 }
	    END { print s, r, rc }' "$W/$name.tv" >> "$W/$name.t"
	return $rc
}

# stats NAME: "entries load_s msgs classify_s" from classify --stats.
stats() {
	e=$(sed -n 's/^rules: *\([0-9]*\) entr.* in *\([0-9.]*\) *s.*/\1 \2/p' \
	    "$W/$1.err")
	c=$(sed -n 's/^classified: *\([0-9]*\) messages*.* in *\([0-9.]*\) *s.*/\1 \2/p' \
	    "$W/$1.err")
	if [ -z "$e" ] || [ -z "$c" ]; then
		cat "$W/$1.err" >&2
		die "no --stats lines from classify ($1)"
	fi
	echo "$e $c"
}

echo "rule scale: imapsift check -r BIG ($big_mb MiB of lists), $REPS runs..."
i=1
while [ $i -le $REPS ]; do
	timed check "$BIN" check -r "$W/big" || {
		tail -n 20 "$W/check.out" "$W/check.err" >&2
		die "imapsift check failed on the big set"
	}
	i=$((i + 1))
done

echo "rule scale: classify --stats -r BIG / -r SMALL on the same $n" \
    "messages, $CREPS runs each, interleaved..."
: > "$W/big.s"; : > "$W/small.s"
i=1
while [ $i -le $CREPS ]; do
	for set in big small; do
		# shellcheck disable=SC2046
		timed "$set" "$BIN" classify --stats -r "$W/$set" \
		    $(cat "$W/msgs.list")
		rc=$?
		if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
			tail -n 20 "$W/$set.err" >&2
			die "imapsift classify failed ($rc) with the $set set"
		fi
		got=$(awk -F'\t' 'NF >= 2 && $2 != ""' "$W/$set.out" | wc -l)
		[ "$got" -eq "$n" ] ||
		    die "$got verdicts for $n messages ($set set)"
		echo "$(stats "$set") $(awk -F'\t' '$2 == "junk"' \
		    "$W/$set.out" | wc -l)" >> "$W/$set.s"
	done
	i=$((i + 1))
done

python3 - "$W" "$n" <<'EOF'
import sys
w, n = sys.argv[1], int(sys.argv[2])
def rows(p):
    return [[float(x) for x in l.split()] for l in open(p) if l.strip()]
def med(v):
    v = sorted(v); return v[(len(v) - 1) // 2]
chk = rows(w + "/check.t")            # wall rss rc
big_t, small_t = rows(w + "/big.t"), rows(w + "/small.t")
big, small = rows(w + "/big.s"), rows(w + "/small.s")
# big.s: entries load msgs classify_s junk
chk_wall = med([r[0] for r in chk]); chk_rss = max(r[1] for r in chk) / 1024
b_load = med([r[1] for r in big]); s_load = med([r[1] for r in small])
b_cls = med([r[3] for r in big]); s_cls = med([r[3] for r in small])
b_rss = max(r[1] for r in big_t) / 1024; s_rss = max(r[1] for r in small_t) / 1024
b_pm = b_cls / n * 1e6; s_pm = s_cls / n * 1e6
ratio = b_pm / s_pm if s_pm > 0 else float("inf")
rss = max(chk_rss, b_rss)
load = max(chk_wall, b_load)
def ok(c): return "met" if c else "NOT MET"
print()
print("rule scale (imapsift pinned to CPU 0, median of runs, RSS = max):")
print("  %-34s %12s %12s" % ("", "big set", "100 entries"))
print("  %-34s %12d %12d" % ("entries loaded (--stats)", big[0][0], small[0][0]))
print("  %-34s %12.3f %12s" % ("check -r: wall s (incl. exit)", chk_wall, ""))
print("  %-34s %12.0f %12s" % ("check -r: peak RSS MiB", chk_rss, ""))
print("  %-34s %12.3f %12.3f" % ("classify: rule load s (--stats)", b_load, s_load))
print("  %-34s %12.3f %12.3f" % ("classify: %d msgs, s" % n, b_cls, s_cls))
print("  %-34s %12.1f %12.1f" % ("classify: us per message", b_pm, s_pm))
print("  %-34s %12.0f %12.0f" % ("classify: peak RSS MiB", b_rss, s_rss))
print("  %-34s %12d %12d" % ("classify: junk verdicts", big[0][4], small[0][4]))
print("  targets: load < 3 s: %.3f s %s; RSS < 400 MB: %.0f MiB %s;"
      % (load, ok(load < 3), rss, ok(rss * 1.048576 < 400)))
print("           per-message big/small <= 1.3x: %.2fx %s"
      % (ratio, ok(ratio <= 1.3)))
EOF
