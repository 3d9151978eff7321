#!/bin/sh
# learned.sh BIN CORPORA: what a big learning store costs the classifier.
#
#   sh tests/bench/learned.sh build/imapsift ../shared/corpora
#
# Makes a store (the schema by imapsift learn itself), then fills it
# through SQLite with 100,000 active learned entries (60,000 domains,
# 20,000 phone numbers, 20,000 six-word phrases, each from two senders)
# and 1,000,000 ham-evidence values; classifies every message of
# spamassassin-public-corpus, nazario-phishing and phishing-pot with the
# shipped starter lists in one process, with a store without learned
# entries and with the big one (3 runs each, interleaved, pinned to CPU
# 0, median of the wall times), and prints the ratio (target: within
# 1.2x) with and without the one-off load of the active set.  Then learns the corpora's
# spam and ham with imapsift learn into an empty store and prints its
# size per 10,000 spam messages.
set -u
die() { echo "learned.sh: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: learned.sh BIN CORPORA"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$(pwd)/$1 ;; esac
CORP=$(cd "$2" 2>/dev/null && pwd) || die "no corpora folder: $2"
W=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-learned.XXXXXX") || die "mktemp"
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
PIN=
command -v taskset >/dev/null 2>&1 && PIN="taskset -c 0"

for c in spamassassin-public-corpus nazario-phishing phishing-pot; do
	find "$CORP/$c" -mindepth 2 -type f
done | LC_ALL=C sort > "$W/files"
n=$(wc -l < "$W/files")
[ "$n" -gt 0 ] || die "no messages"

# The schema, by imapsift; then the rows, in one transaction.
printf 'From: a@b.example\nSubject: x\n\nx\n' > "$W/one.eml"
"$BIN" learn --store "$W/big.db" --ham "$W/one.eml" > /dev/null ||
    die "learn failed"
t0=$(date +%s.%N)
python3 - "$W/big.db" <<'PY' || die "filling the store failed"
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
r = random.Random(12)
words = ["%s%s" % (a, b) for a in ("bar", "cor", "dim", "fel", "gus",
         "hal", "jin", "kor", "lum", "mer") for b in ("ava", "ent", "ion",
         "ory", "ulus", "ette", "ward", "ling", "ster", "ness")]
def phrase():
    return " ".join(r.choice(words) for _ in range(6))
rows = []
for i in range(60000):
    rows.append(("url", "learned%06d.example" % i))
for i in range(20000):
    rows.append(("phone", "1%010d" % (2000000000 + i * 7919)))
seen = set()
while len(seen) < 20000:
    seen.add(phrase())
rows += [("phrase", p) for p in sorted(seen)]
db.execute("BEGIN")
db.execute("INSERT INTO learned_msg (msgid, sender, source, time) VALUES"
           " ('gen-1@bench', 'a@one.example', 'bench', 1700000000),"
           " ('gen-2@bench', 'b@two.example', 'bench', 1700000000)")
db.executemany("INSERT INTO learned (kind, value, spam, senders, manual,"
               " first_seen, last_seen) VALUES (?, ?, 2, 2, 0, 1700000000,"
               " 1700000000)", rows)
db.execute("INSERT INTO learned_src (entry, msg) SELECT id, 1 FROM learned")
db.execute("INSERT INTO learned_src (entry, msg) SELECT id, 2 FROM learned")
ham = (("host", "ham%07d.example" % i) for i in range(1000000))
db.executemany("INSERT INTO fp_evidence (kind, value, count, first_seen,"
               " last_seen) VALUES (?, ?, 1, 1700000000, 1700000000)", ham)
db.execute("COMMIT")
PY
t1=$(date +%s.%N)
echo "store: 100,000 learned entries, 1,000,000 ham evidence values," \
    "$(du -m "$W/big.db" | cut -f1) MB, filled in" \
    "$(calc "$t1 - $t0") s"

# One directory of links to every file: one classify process, one load.
mkdir "$W/all"
i=0
while read -r f; do
	i=$((i + 1))
	ln -s "$f" "$W/all/$(printf '%05d' $i)"
done < "$W/files"
# The same store without learned entries: --store costs the correspondent
# look-ups whatever it holds; what is measured is the learned set.
"$BIN" learn --store "$W/empty.db" --ham "$W/one.eml" > /dev/null ||
    die "learn failed"

# run DB [FILE]: wall seconds of one classify with --store DB.
run() {
	t0=$(date +%s.%N)
	$PIN "$BIN" classify -r "$ROOT/rules/lists" --store "$1" --expire 0 \
	    "${2:-$W/all}" > "$W/out" 2>> "$W/err"
	t1=$(date +%s.%N)
	calc "$t1 - $t0"
	echo
}
median() { sort -n | sed -n 2p; }
# Interleaved, so that a load on the machine hits both alike.
: > "$W/base"
: > "$W/with"
: > "$W/load0"
: > "$W/load1"
for i in 1 2 3; do
	run "$W/empty.db" >> "$W/base"
	run "$W/big.db" >> "$W/with"
	run "$W/empty.db" "$W/one.eml" >> "$W/load0"
	run "$W/big.db" "$W/one.eml" >> "$W/load1"
done
base=$(median < "$W/base")
with=$(median < "$W/with")
load=$(calc "$(median < "$W/load1") - $(median < "$W/load0")")
echo "classify $n messages in one process: $base s with an empty store," \
    "$with s with the big one: $(calc "$with / $base")x;" \
    "less the load of the active set ($load s, once per pass when it" \
    "changed): $(calc "($with - $load) / $base")x (target <= 1.2x)"

# Growth: the corpora learned by imapsift learn.
spam=$(grep -c -v '/easy_ham/\|/hard_ham/' "$W/files")
grep -v '/easy_ham/\|/hard_ham/' "$W/files" > "$W/spam"
grep '/easy_ham/\|/hard_ham/' "$W/files" > "$W/ham"
# shellcheck disable=SC2046
"$BIN" learn --store "$W/grow.db" --spam $(cat "$W/spam") > "$W/l1" ||
    die "learn failed: $(cat "$W/l1")"
s1=$(stat -c %s "$W/grow.db")
# shellcheck disable=SC2046
"$BIN" learn --store "$W/grow.db" --ham $(cat "$W/ham") > "$W/l2" ||
    die "learn failed: $(cat "$W/l2")"
s2=$(stat -c %s "$W/grow.db")
echo "growth: $spam spam messages learned: $(calc "$s1 / 1000000") MB," \
    "$(calc "$s1 * 10000 / $spam / 1000000") MB per 10,000; then" \
    "$(wc -l < "$W/ham") ham messages as evidence:" \
    "+$(calc "($s2 - $s1) / 1000000") MB"
