#!/bin/sh
# run.sh BUILD: runs every unit test binary in BUILD/tests, every CLI
# test script in tests/cli and every tests/integration/test_*.sh, and
# closes with "N passed, N failed".
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0 bad=
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Under make check, sanitizer reports go to files (a test that keeps only
# a command's last line would show just "ABORTING"); each script's reports
# are printed after it.  Children run as throwaway users write here too.
san=
if [ -n "${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-}" ]; then
	san=$tmp/san
	mkdir "$san" && chmod 1733 "$san"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$san/asan"
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$san/ubsan"
	export ASAN_OPTIONS UBSAN_OPTIONS
fi
# reports NAME: prints and removes the sanitizer reports NAME left.
reports() {
	[ -n "$san" ] || return 0
	for _r in "$san"/*; do
		[ -f "$_r" ] || continue
		echo "sanitizer report of $1 ($(basename "$_r")):"
		head -n 80 "$_r"
		rm -f "$_r"
	done
}

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
	reports "$n"
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
	reports "$n"
	tally "$n" "$tmp/$n.log" $rc
done
[ -n "$bad" ] && echo "failing:$bad"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
