#!/bin/sh
# run.sh BUILD: runs every unit test binary in BUILD/tests, every CLI
# test script in tests/cli and every tests/integration/test_*.sh, and
# closes with "N passed, N failed".
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0 bad=
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

tally() {	# name logfile rc
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	if [ -z "$last" ]; then
		failed=$((failed + 1)); bad="$bad $1(no result, rc $3)"
		return
	fi
	p=${last%% passed*}; f=${last#*passed, }; f=${f%% failed*}
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -gt 0 ] || [ "$3" -ne 0 ]; then
		bad="$bad $1"
		[ "$f" -eq 0 ] && failed=$((failed + 1))
	fi
}

for t in "$top/$build"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	echo "== $n"
	"$t" > "$tmp/$n.log" 2>&1; rc=$?
	grep -v '^ok ' "$tmp/$n.log"
	tally "$n" "$tmp/$n.log" $rc
done
# End-to-end tests of the binary, and integration tests against a private
# Dovecot (tests/integration/dovecot.sh is their library, not a test).
for t in "$top"/tests/cli/*.sh "$top"/tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	echo "== $n"
	IMAPSIFT="$top/$build/imapsift" TOP="$top" sh "$t" > "$tmp/$n.log" 2>&1
	rc=$?
	grep -v '^ok ' "$tmp/$n.log"
	tally "$n" "$tmp/$n.log" $rc
done
[ -n "$bad" ] && echo "failing:$bad"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
