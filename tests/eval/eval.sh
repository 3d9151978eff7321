#!/bin/sh
# eval.sh BIN CORPORA: measures the indicator classifier on real mail.
#
# For each corpus in CORPORA/labels.tsv, its spam+phish files and its ham
# files are taken in file (path) order and split in halves.  imapsift
# harvest builds lists from the first halves of all corpora together; the
# second halves are classified with those lists plus the shipped starter
# lists.  Printed per corpus: recall on spam/phish, false positives on ham.
# Then every file of the corpora is classified once more, timed, to find
# the slowest message; and, when an ASan/UBSan build exists (make check
# builds one in build-san/), every file goes through it too.  Between
# the two: the chronological replay of learning (replay.py), beside the
# half/half harvest figures.
set -u
bin=${1:?usage: eval.sh BIN CORPORA}
corpora=$(cd "${2:?usage: eval.sh BIN CORPORA}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
labels=$corpora/labels.tsv
[ -f "$labels" ] || { echo "eval: no $labels" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# path label corpus, sorted by corpus then path.
awk -F'\t' 'NR > 1 && ($2 == "spam" || $2 == "phish" || $2 == "ham")' \
    "$labels" | sort -t "$(printf '\t')" -k3,3 -k1,1 > "$tmp/all"

# Split per corpus and class (spam+phish are one class) into halves.
awk -F'\t' -v d="$tmp" '
{ cls = ($2 == "ham") ? "ham" : "spam"; k = $3 "\t" cls
  n[k]++; f[k, n[k]] = $1; lab[k, n[k]] = $2 }
END {
	for (k in n) {
		split(k, a, "\t"); h = int(n[k] / 2)
		for (i = 1; i <= n[k]; i++) {
			part = (i <= h) ? "train" : "test"
			print f[k, i] "\t" lab[k, i] "\t" a[1] > (d "/" part)
		}
	}
}' "$tmp/all"
sort -o "$tmp/train" "$tmp/train"
sort -o "$tmp/test" "$tmp/test"

mkdir -p "$tmp/rules"
# No path in the corpora has white space (checked here), so the lists go
# on one command line (well under ARG_MAX).
if grep -q ' ' "$tmp/train"; then
	echo "eval: a corpus path has a space" >&2; exit 2
fi
spam=$(awk -F'\t' -v c="$corpora/" '$2 != "ham" { print c $1 }' "$tmp/train")
ham=$(awk -F'\t' -v c="$corpora/" '$2 == "ham" { print c $1 }' "$tmp/train")

echo "== harvest on the first halves"
# shellcheck disable=SC2086
"$bin" harvest -o "$tmp/rules" --spam $spam --ham $ham || exit 1
cp "$top"/rules/lists/* "$tmp/rules/"

echo "== classify the second halves"
cut -f1 "$tmp/test" | sed "s|^|$corpora/|" > "$tmp/testfiles"
tr '\n' '\0' < "$tmp/testfiles" |
    xargs -0 "$bin" classify -r "$tmp/rules" > "$tmp/verdicts" || true
# verdict lines: corpora/path TAB verdict TAB reasons
awk -F'\t' -v c="$corpora/" '
FILENAME == ARGV[1] { lab[$1] = $2; cor[$1] = $3; next }
{
	p = substr($1, length(c) + 1)
	if (!(p in lab)) next
	cls = (lab[p] == "ham") ? "ham" : "spam"; k = cor[p] "\t" cls
	n[k]++; if ($2 == "junk") j[k]++
	if ($2 == "junk" && cls == "ham") fp[++nfp] = p "\t" $3
	tot[cls]++; if ($2 == "junk") tj[cls]++
}
END {
	printf "%-28s %-5s %6s %6s %9s\n", "corpus", "class", "files", \
	    "junk", "rate"
	for (k in n) {
		split(k, a, "\t")
		printf "%-28s %-5s %6d %6d %8.2f%%  (%s)\n", a[1], a[2], \
		    n[k], j[k], 100 * j[k] / n[k], \
		    a[2] == "ham" ? "false positives" : "recall" | "sort"
	}
	close("sort")
	printf "%-28s %-5s %6d %6d %8.2f%%  (recall)\n", "all", "spam", \
	    tot["spam"], tj["spam"], 100 * tj["spam"] / tot["spam"]
	printf "%-28s %-5s %6d %6d %8.2f%%  (false positives; target <= " \
	    "0.1%%)\n", "all", "ham", tot["ham"], tj["ham"], \
	    100 * tj["ham"] / tot["ham"]
	for (i = 1; i <= nfp; i++) print "  false positive: " fp[i]
}' "$tmp/test" "$tmp/verdicts"

echo "== chronological replay: learning day by day (tests/eval/replay.py)"
# Every spam, phish and ham file by Date, one day at a time: classified
# with what was learned so far (no rule lists), then learned by label.
python3 "$top/tests/eval/replay.py" "$bin" "$corpora"

echo "== every corpus file, timed (target: none over 50 ms)"
awk -F'\t' 'NR > 1 { print $1 }' "$labels" | sed "s|^|$corpora/|" |
    tr '\n' '\0' | xargs -0 "$bin" classify -r "$tmp/rules" --stats \
    > /dev/null 2> "$tmp/stats" || true
# xargs may run several batches: add them up, keep the slowest.
awk '/^classified:/ { n += $2; b += $4; s += $7 }
/^slowest:/ { ms = $(NF - 1); if (ms + 0 > max + 0) { max = ms; f = $2 } }
END { printf "files: %d, %.1f MB in %.2f s: %.0f messages/s; slowest %s ms " \
    "(%s)\n", n, b / 1e6, s, n / s, max, f }' "$tmp/stats"
grep -v -E '^(rules|classified|slowest):' "$tmp/stats" | head -5

san=$top/build-san/imapsift
if [ -x "$san" ]; then
	echo "== every corpus file through the ASan/UBSan build"
	awk -F'\t' 'NR > 1 { print $1 }' "$labels" |
	    sed "s|^|$corpora/|" | tr '\n' '\0' |
	    ASAN_OPTIONS=detect_leaks=1 xargs -0 "$san" classify \
	    -r "$tmp/rules" > "$tmp/san.out" 2> "$tmp/san.err"
	rc=$?
	echo "files: $(wc -l < "$tmp/san.out"), exit $rc, sanitizer" \
	    "reports: $(grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error' \
	    "$tmp/san.err")"
	grep -E 'ERROR|runtime error' "$tmp/san.err" | head -5
fi

echo
echo "== backscatter"
sh "$top/tests/eval/backscatter.sh" "$bin" "$corpora"
