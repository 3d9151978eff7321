#!/bin/sh
# test_help.sh: every command answers -h/--help with its usage on standard
# output and exit 0, and an unknown option with the usage on standard
# error and exit 2; imapsift --help and imapsift help list the commands.
# Environment: IMAPSIFT (the binary), TOP (the source tree).
set -u
bin=${IMAPSIFT:?}
: "${TOP:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# The commands are those imapsift help lists ("  NAME  what it does"),
# so a new command is tested without editing this file; the list must
# name at least the first ones.
cmds=$("$bin" help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
case " $(echo $cmds) " in
*" classify "*" sweep "*" undo "*) ok command_list ;;
*) no command_list "imapsift help lists '$(echo $cmds)'" ;;
esac

for c in $cmds; do
	for h in --help -h; do
		"$bin" "$c" $h > "$tmp/out" 2> "$tmp/err" < /dev/null
		rc=$?
		if [ $rc -ne 0 ]; then
			no "${c}_$h" "exit $rc: $(cat "$tmp/err")"
		elif ! grep -q "^usage: imapsift $c" "$tmp/out"; then
			no "${c}_$h" "no usage on stdout: '$(cat "$tmp/out")'"
		elif [ -s "$tmp/err" ]; then
			no "${c}_$h" "stderr not empty: '$(cat "$tmp/err")'"
		else
			ok "${c}_$h"
		fi
	done

	"$bin" "$c" --no-such-option > "$tmp/out" 2> "$tmp/err" < /dev/null
	rc=$?
	if [ $rc -ne 2 ]; then
		no "${c}_bad_option" "exit $rc, want 2"
	elif ! grep -q "usage: imapsift $c" "$tmp/err"; then
		no "${c}_bad_option" "no usage on stderr: '$(cat "$tmp/err")'"
	elif [ -s "$tmp/out" ]; then
		no "${c}_bad_option" "stdout not empty: '$(cat "$tmp/out")'"
	else
		ok "${c}_bad_option"
	fi

	# imapsift help COMMAND is COMMAND --help.
	"$bin" help "$c" > "$tmp/out" 2> "$tmp/err" < /dev/null
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^usage: imapsift $c" "$tmp/out" &&
	    ! [ -s "$tmp/err" ]; then
		ok "help_$c"
	else
		no "help_$c" "exit $rc, out '$(cat "$tmp/out")', err '$(cat "$tmp/err")'"
	fi
done

# The command list names every command.
for h in --help -h help; do
	"$bin" $h > "$tmp/out" 2> "$tmp/err"
	rc=$?
	missing=
	for c in $cmds; do
		grep -q "^  $c " "$tmp/out" || missing="$missing $c"
	done
	if [ $rc -eq 0 ] && [ -z "$missing" ] && ! [ -s "$tmp/err" ] &&
	    grep -q '^usage: imapsift COMMAND' "$tmp/out"; then
		ok "list_$h"
	else
		no "list_$h" "exit $rc, missing:$missing, err '$(cat "$tmp/err")'"
	fi
done

# No command: the list on stderr, exit 2.
"$bin" > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q '^usage: imapsift COMMAND' "$tmp/err" &&
    ! [ -s "$tmp/out" ] && ok no_command || no no_command "exit $rc"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
