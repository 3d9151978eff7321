#!/bin/sh
# test_loopback.sh: tls = "none" against a private Dovecot's plain port
# (tests/integration/dovecot.sh).  `check` and `sweep` agree on what is a
# loopback host: localhost, localhost., 127.0.0.0/8, ::ffff:127.0.0.1,
# ::1 and [::1] pass both (Dovecot listens on 127.0.0.1 only, so the ::1
# forms and 127.0.0.2 may only fail to connect); a name is also checked
# by the addresses it resolves to: with localhost pointing at this
# machine's non-loopback address (a private /etc/hosts in a mount
# namespace, as root), sweep refuses before it connects, so no password
# goes out in plaintext.  Last, a failed TLS handshake is reported in
# imapsift's own line.  Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/integration/dovecot.sh"
tmp=$(mktemp -d)
trap 'dovecot_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

if ! dovecot_start; then
	no start "dovecot_start failed"
	echo "$pass passed, $fail failed"
	exit 1
fi
mkdir "$tmp/rules"
echo spam.example > "$tmp/rules/x.domains"

# conf FILE HOST: alice over plaintext on the plain port.
conf() (
	umask 077
	{
		printf 'store = "%s/state";\nrules = [ "%s/rules" ];\n' \
		    "$tmp" "$tmp"
		printf 'accounts = ( { name = "alice"; host = "%s";\n' "$2"
		printf '  tls = "none"; port = %s; user = "alice";\n' \
		    "$IMAP_PORT"
		printf '  password = "secret"; } );\n'
	} > "$1"
)

# host NAME HOST CONNECTS: check passes; sweep logs in when CONNECTS is
# 1, else fails only to connect, never as "not loopback".
host() {
	conf "$tmp/c" "$2"
	if ! "$IMAPSIFT" check -c "$tmp/c" > "$tmp/out" 2>&1; then
		no "check_$1" "$(cat "$tmp/out")"
		return
	fi
	ok "check_$1"
	timeout 60 "$IMAPSIFT" sweep -c "$tmp/c" > "$tmp/out" 2>&1
	rc=$?
	if [ "$3" = 1 ] && [ $rc -eq 0 ]; then
		ok "sweep_$1"
	elif [ "$3" = 0 ] && [ $rc -ne 0 ] &&
	    grep -q "cannot connect" "$tmp/out" &&
	    ! grep -q "loopback" "$tmp/out"; then
		ok "sweep_$1"
	else
		no "sweep_$1" "exit $rc: $(tail -n 3 "$tmp/out")"
	fi
}

host localhost localhost 1
host localhost_dot localhost. 1
host upper_dot LOCALHOST. 1
host v4 127.0.0.1 1
host v4_mapped ::ffff:127.0.0.1 1
host v4_mapped_brackets '[::ffff:127.0.0.1]' 1
host v4_other 127.0.0.2 0
host v6 ::1 0
host v6_brackets '[::1]' 0

# Not loopback by name: both refuse, before any connection.
conf "$tmp/c" "$(hostname).example"
"$IMAPSIFT" check -c "$tmp/c" > "$tmp/out" 2>&1 && no check_name \
    "accepted" || {
	grep -q 'only allowed to a loopback host' "$tmp/out" &&
	    ok check_name || no check_name "$(cat "$tmp/out")"
}

# localhost resolving to a non-loopback address of this machine.
addr=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^127\.' |
    grep -v '^::1$' | grep -v '^$' | head -n 1)
if [ "$(id -u)" != 0 ] || [ -z "$addr" ]; then
	echo "ok resolved_not_loopback # skip: needs root and a" \
	    "non-loopback address"
	pass=$((pass + 1))
else
	printf '%s localhost\n' "$addr" > "$tmp/hosts"
	conf "$tmp/c" localhost
	timeout 60 unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
	    exec "$2" sweep -c "$3"' sh "$tmp/hosts" "$IMAPSIFT" "$tmp/c" \
	    > "$tmp/out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q "localhost is $addr, not a loopback" \
	    "$tmp/out" && ! grep -q "cannot connect" "$tmp/out"; then
		ok resolved_not_loopback
	else
		no resolved_not_loopback "exit $rc: $(tail -n 3 "$tmp/out")"
	fi
fi

# A failed handshake (implicit TLS to the plain port): GnuTLS's text is
# in the account's error line, and no stderr line lacks the prefix
# (libetpan printed "GnuTLS error: ..." through gnutls_perror).
(
	umask 077
	{
		printf 'store = "%s/state";\nrules = [ "%s/rules" ];\n' \
		    "$tmp" "$tmp"
		printf 'accounts = ( { name = "alice"; host = "localhost";\n'
		printf '  port = %s; user = "alice"; password = "secret";\n' \
		    "$IMAP_PORT"
		printf '  ca_file = "%s"; timeout = 10; } );\n' "$CA_FILE"
	} > "$tmp/tls.conf"
)
timeout 60 "$IMAPSIFT" sweep -c "$tmp/tls.conf" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -ne 0 ] && ! grep -qv '^imapsift: ' "$tmp/err" &&
    grep -q 'TLS handshake failed: .' "$tmp/err"; then
	ok tls_error_prefixed
else
	no tls_error_prefixed "exit $rc: $(cat "$tmp/err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
