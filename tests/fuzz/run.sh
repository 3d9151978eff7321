#!/bin/sh
# run.sh BUILD SECONDS TARGET...: runs each BUILD/fuzz/fuzz_TARGET for
# SECONDS on BUILD/fuzz/corpus/TARGET (made from tests/fuzz/seeds/TARGET
# and kept between runs), crash inputs in BUILD/fuzz/artifacts/TARGET/,
# the log in BUILD/fuzz/logs/TARGET.log.  One line per target with its
# executions and coverage, then "fuzz: N targets clean, N failed"; exits
# 1 when any target crashed, hung, leaked or did not run.
build=$1 secs=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
dir="$top/$build/fuzz"
ok=0 bad=0 failing=

maxlen() {
	case $1 in
	classify|bounce|paths|imap)	echo 16384 ;;
	*)			echo 4096 ;;
	esac
}

for t in "$@"; do
	bin="$dir/fuzz_$t" corpus="$dir/corpus/$t" art="$dir/artifacts/$t"
	log="$dir/logs/$t.log"
	mkdir -p "$corpus" "$art" "$dir/logs"
	[ -d "$top/tests/fuzz/seeds/$t" ] &&
	    cp -n "$top/tests/fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null
	LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp" \
	    UBSAN_OPTIONS=print_stacktrace=1 "$bin" -max_total_time="$secs" \
	    -max_len="$(maxlen "$t")" -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$art/" "$corpus" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 |
	    sed -n 's/.*\(cov: [0-9]* ft: [0-9]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		ok=$((ok + 1))
		echo "fuzz_$t: ${execs:-?} runs, ${cov:-no coverage line}: ok"
	else
		bad=$((bad + 1)) failing="$failing $t"
		echo "fuzz_$t: FAILED (rc $rc) after ${execs:-?} runs;" \
		    "log $log, inputs in $art/"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" |
		    head -n 3
	fi
done
[ -n "$failing" ] && echo "fuzz failing:$failing"
echo "fuzz: $ok targets clean, $bad failed"
[ "$bad" -eq 0 ]
