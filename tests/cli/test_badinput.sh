#!/bin/sh
# test_badinput.sh: input that used to hang imapsift, eat memory without
# bound or be taken silently: FIFOs and /dev/zero where a file is read
# (rule lists, the config, --sent-ids, classify and import-sent paths),
# the rule list size cap (max_rule_file_bytes), a NUL in a config
# string, a config over its size cap, a config ending in a comment with
# no newline, directories past the walk's depth, sweep without accounts
# and an --id past the range of a number.
# Each run is bounded: timeout (a hang shows as exit 124) and a 1 GB
# address space limit (runaway reading shows as an allocation failure).
# Environment: IMAPSIFT (the binary), TOP (the source tree).
set -u
bin=${IMAPSIFT:?}
top=${TOP:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# run ARGS...: the binary under the bounds; out, err and rc are set.
# Under ASan (make check) the address space limit would stop the
# sanitizer's own reservations: only the time bound applies there.
run() {
	if nm "$bin" 2>/dev/null | grep -q __asan_init; then
		timeout 30 "$bin" "$@" > "$tmp/out" 2> "$tmp/err"
	else
		(ulimit -v 1048576; timeout 30 "$bin" "$@") > "$tmp/out" \
		    2> "$tmp/err"
	fi
	rc=$?
	out=$(head -c 2000 "$tmp/out")
	err=$(head -c 2000 "$tmp/err")
}

# expect NAME RC STDERR-TEXT: the last run exited RC and its stderr
# holds the fixed string (any stderr when it is empty).
expect() {
	if [ "$rc" -ne "$2" ]; then
		no "$1" "exit $rc, want $2 ($err)"
	elif [ -n "$3" ] && ! grep -qF -- "$3" "$tmp/err"; then
		no "$1" "stderr '$err', want '$3'"
	else
		ok "$1"
	fi
}

printf 'From: a@b.example\nSubject: hi\n\nhello\n' > "$tmp/m.eml"
mkfifo "$tmp/fifo.domains" "$tmp/fifo.conf" "$tmp/fifo.eml" "$tmp/fifo.ids"
ln -s /dev/zero "$tmp/zero.domains"
mkdir "$tmp/rules"
ln -s /dev/zero "$tmp/rules/zero.domains"

# Rule lists.
run classify -r "$tmp/fifo.domains" "$tmp/m.eml"
expect rules_fifo 2 "fifo.domains: not a regular file"
run classify -r "$tmp/zero.domains" "$tmp/m.eml"
expect rules_dev_zero 2 "zero.domains: not a regular file"
run classify -r "$tmp/rules" "$tmp/m.eml"
expect rules_dir_dev_zero 2 "rules/zero.domains: not a regular file"
i=0
while [ $i -lt 400 ]; do
	echo "d$i.spam.example"
	i=$((i + 1))
done > "$tmp/big.domains"
printf 'max_rule_file_bytes = 4096;\nrules = [ "%s" ];\n' \
    "$tmp/big.domains" > "$tmp/cap.conf"
run classify -c "$tmp/cap.conf" "$tmp/m.eml"
expect rules_cap 2 "big.domains: larger than 4096 bytes (max_rule_file_bytes)"
run check -c "$tmp/cap.conf"
expect rules_cap_check 2 "big.domains: larger than 4096 bytes"
printf 'max_rule_file_bytes = 65536;\nrules = [ "%s" ];\n' \
    "$tmp/big.domains" > "$tmp/cap2.conf"
run classify -c "$tmp/cap2.conf" "$tmp/m.eml"
expect rules_under_cap 0 ""

# The config.
run check -c "$tmp/fifo.conf"
expect config_fifo 2 "fifo.conf: not a regular file"
run sweep -c "$tmp/fifo.conf"
expect config_fifo_sweep 2 "fifo.conf: not a regular file"
printf 'accounts = ( { name = "a"; host = "localhost"; tls = "none";\n  user = "u"; password = "a\000b"; } );\n' \
    > "$tmp/nul.conf"
chmod 600 "$tmp/nul.conf"
run check -c "$tmp/nul.conf"
expect config_nul 2 "nul.conf:2: a NUL byte in a string"
printf 'accounts = ( { name = "a"; host = "localhost"; tls = "none";\n  user = "u"; password = "a\\x00b"; } );\n' \
    > "$tmp/x00.conf"
chmod 600 "$tmp/x00.conf"
run check -c "$tmp/x00.conf"
expect config_x00 2 'x00.conf:2: \x00 in a string'
printf 'country = 44;\n# the last line' > "$tmp/comment.conf"
run check -c "$tmp/comment.conf"
expect config_last_comment 0 ""
# 17 MB on one line: over the 16 MiB cap, refused before it is parsed.
python3 -c 'import sys; sys.stdout.write("store = \"" + "a" * (17 << 20) + "\";\n")' \
    > "$tmp/huge.conf"
run check -c "$tmp/huge.conf"
expect config_huge 2 "huge.conf: larger than 16777216 bytes"

# Files to read.
run classify "$tmp/fifo.eml"
if [ "$rc" -eq 1 ] && grep -qF "fifo.eml: not a regular file" "$tmp/err" &&
    printf '%s\n' "$out" | grep -q "fifo.eml.*error"; then
	ok classify_fifo
else
	no classify_fifo "exit $rc: $out / $err"
fi
run classify - < "$tmp/m.eml"
expect classify_stdin 0 ""
run classify --sent-ids /dev/zero "$tmp/m.eml"
expect sent_ids_dev_zero 2 "/dev/zero: not a regular file"
run classify --sent-ids "$tmp/fifo.ids" "$tmp/m.eml"
expect sent_ids_fifo 2 "fifo.ids: not a regular file"
run import-sent --store "$tmp/s.db" "$tmp/fifo.eml"
expect import_fifo 1 "fifo.eml: not a regular file"

# Past the walk's depth: a warning names the directory skipped.
d=$tmp/deep
i=0
while [ $i -lt 34 ]; do
	d=$d/d$i
	i=$((i + 1))
done
mkdir -p "$d"
cp "$tmp/m.eml" "$d/"
cp "$tmp/m.eml" "$tmp/deep/"
run classify "$tmp/deep"
expect classify_deep 0 "d32: more than 32 directories deep: skipped"
run import-sent --store "$tmp/s.db" "$tmp/deep"
expect import_deep 0 "d32: more than 32 directories deep: skipped"

# sweep with no account is a config error, as for watch.
printf 'country = 1;\n' > "$tmp/empty.conf"
run sweep -c "$tmp/empty.conf"
expect sweep_no_accounts 2 "empty.conf: no account to sweep"

# An --id past the range of a 64-bit number is not clamped to its top.
printf 'store = "%s";\n' "$tmp/st" > "$tmp/store.conf"
run undo -c "$tmp/store.conf" --id 99999999999999999999
expect undo_id_overflow 2 '--id: "99999999999999999999" is not an id'
run log -c "$tmp/store.conf" --id 99999999999999999999
expect log_id_overflow 2 '--id: "99999999999999999999" is not an id'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
