#!/bin/sh
# test_oauth2.sh: auth = "oauth2" end to end against a real authorization
# server (oidc-provider from npm, tests/oauth/op.sh, HTTPS on loopback
# with the test CA) and a private Dovecot whose oauth2 passdb validates
# every token by introspection there (dovecot.sh --oauth2).  imapsift
# login by the device flow (the test approves the code through the
# server's /device and interaction pages with curl) and by the code flow
# with PKCE (the test plays the browser, delivering the redirect to
# imapsift's loopback listener); sweeps with XOAUTH2 and OAUTHBEARER; an
# access token past its lifetime refreshed; a refused access token
# refreshed once; a revoked grant giving exit 3 and the one-line
# instruction with one token request, and a watcher that stops asking
# until a new login or SIGHUP; a token_command store; wrong clients;
# config errors.  Token requests are counted in the server's log.
# Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
fx=$TOP/tests/fixtures/sweep
. "$TOP/tests/integration/dovecot.sh"
. "$TOP/tests/oauth/op.sh"
tmp=$(mktemp -d)
wpid= lpid=
trap '[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
    [ -n "$lpid" ] && kill "$lpid" 2>/dev/null
    op_stop; dovecot_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

TTL=20		# access token lifetime: short, to see it expire
OP_PORT=$(op_port)
if ! dovecot_start --oauth2 "$(op_introspection_url)" || ! op_start $TTL
then
	no start "dovecot or oidc-provider did not start"
	echo "$pass passed, $fail failed"
	exit 1
fi
mkdir -p "$tmp/state"

# conf FILE NAME [LINE...]: one oauth2 account NAME (IMAP user alice)
# on the generic provider, the device flow and client imapsift unless a
# LINE says otherwise.
conf() {
	f=$1 n=$2
	shift 2
	case "$*" in
	*oauth2_client_id*) ;;
	*) set -- "$@" 'oauth2_client_id = "imapsift";' ;;
	esac
	case "$*" in
	*oauth2_flow*) ;;
	*) set -- "$@" 'oauth2_flow = "device";' ;;
	esac
	case "$*" in
	*oauth2_ca_file*) ;;
	*) set -- "$@" "oauth2_ca_file = \"$CA_FILE\";" ;;
	esac
	{
		printf 'store = "%s";\nrules = [ "%s" ];\n' "$tmp/state" \
		    "$fx/rules"
		printf 'accounts = ( {\n  name = "%s";\n' "$n"
		printf '  host = "localhost";\n  port = %s;\n' "$IMAPS_PORT"
		printf '  ca_file = "%s";\n  user = "alice";\n' "$CA_FILE"
		printf '  auth = "oauth2";\n  oauth2_provider = "generic";\n'
		printf '  oauth2_scopes = [ "openid", "offline_access" ];\n'
		printf '  oauth2_authorization_endpoint = "%s/auth";\n' \
		    "$OP_ISSUER"
		printf '  oauth2_token_endpoint = "%s/token";\n' "$OP_ISSUER"
		printf '  oauth2_device_endpoint = "%s/device/auth";\n' \
		    "$OP_ISSUER"
		for l in "$@"; do
			printf '  %s\n' "$l"
		done
		printf '} );\n'
	} > "$f"
	chmod 600 "$f"
}

# until_file FILE PATTERN [SECONDS]: polls until FILE has PATTERN.
until_file() {
	i=0
	while [ $i -lt $((${3:-20} * 10)) ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# tokens: requests to the token endpoint so far; refreshes: refresh grants.
tokens() { grep -c '^REQ POST /token$' "$OP_LOG"; }
refreshes() { grep -c '^GRANT [a-z]* refresh_token' "$OP_LOG"; }
# tokfile NAME KEY: a value from NAME's token file.
tokfile() { sed -n "s/^$2 //p" "$tmp/state/$1.oauth2"; }

# login_device CONF NAME: imapsift login by the device flow, approved
# as alice; rc in $rc, output in $tmp/login.out.
login_device() {
	"$IMAPSIFT" login --timeout 60 -c "$1" "$2" > "$tmp/login.out" 2>&1 &
	lpid=$!
	if until_file "$tmp/login.out" 'enter the code' 20; then
		code=$(sed -n 's/.*enter the code //p' "$tmp/login.out")
		op_device "$code" alice || echo "op_device failed" >> "$tmp/err"
	fi
	wait "$lpid"
	rc=$?
	lpid=
}

sweep() {	# CONF [ARGS]
	c=$1
	shift
	timeout 60 "$IMAPSIFT" sweep -c "$c" "$@" > "$tmp/out" 2>&1
	rc=$?
}

# --- device flow: login, then a sweep with XOAUTH2 -------------------------
conf "$tmp/dev.conf" alice
login_device "$tmp/dev.conf" alice
if [ $rc -eq 0 ] && [ -f "$tmp/state/alice.oauth2" ] &&
    grep -q '^GRANT ok urn:ietf:params:oauth:grant-type:device_code' \
    "$OP_LOG"; then
	ok device_login
else
	no device_login "exit $rc: $(cat "$tmp/login.out")"
fi
mode=$(stat -c %a "$tmp/state/alice.oauth2" 2>/dev/null)
[ "$mode" = 600 ] && ok token_file_0600 || no token_file_0600 "mode $mode"
rt=$(tokfile alice refresh_token) at=$(tokfile alice access_token)
if [ -n "$rt" ] && [ -n "$at" ] &&
    ! grep -qF -e "$rt" -e "$at" "$tmp/login.out"; then
	ok login_prints_no_token
else
	no login_prints_no_token "$(cat "$tmp/login.out")"
fi

dv_append alice INBOX "$fx/spam-url.eml"
dv_append alice INBOX "$fx/ham.eml"
t0=$(tokens)
sweep "$tmp/dev.conf"
if [ $rc -eq 0 ] && [ "$(dv_count alice Junk)" = 1 ] &&
    [ "$(dv_count alice INBOX)" = 1 ]; then
	ok sweep_xoauth2
else
	no sweep_xoauth2 "exit $rc: $(tail -n 3 "$tmp/out")"
fi
grep -q 'Login: user=<alice>, method=XOAUTH2' "$DOVECOT_LOG" &&
    ok dovecot_saw_xoauth2 || no dovecot_saw_xoauth2 "$(tail -n 3 "$DOVECOT_LOG")"
# The token from the login is still fresh: no token request.
[ $rc -eq 0 ] && [ "$(tokens)" = "$t0" ] && ok fresh_token_reused ||
    no fresh_token_reused "$(($(tokens) - t0)) token requests"
grep -q 'REQ POST /token/introspection' "$OP_LOG" &&
    ok dovecot_introspected || no dovecot_introspected "no introspection"
if grep -qF -e "$rt" -e "$at" "$tmp/out" "$DOVECOT_DIR/log/op.out"; then
	no sweep_prints_no_token "a token in the output"
else
	ok sweep_prints_no_token
fi

# --- expiry: past a quarter before the end of its life, refreshed --------
exp=$(tokfile alice expires_at)
while [ "$(date +%s)" -lt $((exp - TTL / 4)) ]; do sleep 0.5; done
r0=$(refreshes)
sweep "$tmp/dev.conf"
at2=$(tokfile alice access_token)
if [ $rc -eq 0 ] && [ "$(refreshes)" = $((r0 + 1)) ] &&
    grep -q '^GRANT ok refresh_token' "$OP_LOG" && [ "$at2" != "$at" ]; then
	ok expiry_refresh
else
	no expiry_refresh "exit $rc, $(($(refreshes) - r0)) refreshes: $(tail -n 3 "$tmp/out")"
fi

# --- an access token the server no longer takes: one refresh, then in ----
code=$(op_revoke "$at2" access_token)
r0=$(refreshes)
sweep "$tmp/dev.conf"
if [ "$code" = 200 ] && [ $rc -eq 0 ] && [ "$(refreshes)" = $((r0 + 1)) ] &&
    grep -q 'refused the access token: refreshing it once' "$tmp/out"; then
	ok auth_failure_refresh_once
else
	no auth_failure_refresh_once "revoke $code, exit $rc, $(($(refreshes) - r0)) refreshes: $(cat "$tmp/out")"
fi

# --- revoked grant: exit 3, one line, one token request ------------------
code=$(op_revoke "$(tokfile alice refresh_token)" refresh_token)
t0=$(tokens)
sweep "$tmp/dev.conf"
if [ "$code" = 200 ] && [ $rc -eq 3 ] &&
    [ "$(grep -c 'run imapsift login alice' "$tmp/out")" = 1 ] &&
    grep -q 'invalid_grant' "$tmp/out"; then
	ok revoked_exit_3
else
	no revoked_exit_3 "revoke $code, exit $rc: $(cat "$tmp/out")"
fi
[ "$(tokens)" = $((t0 + 1)) ] && ok revoked_one_request ||
    no revoked_one_request "$(($(tokens) - t0)) token requests"
sweep "$tmp/dev.conf"
[ $rc -eq 3 ] && [ "$(tokens)" = $((t0 + 2)) ] && ok revoked_again_one ||
    no revoked_again_one "exit $rc, $(($(tokens) - t0)) token requests"

# --- watch: a revoked grant stops the retries until a new login ----------
login_device "$tmp/dev.conf" alice
[ $rc -eq 0 ] && ok relogin || no relogin "exit $rc: $(cat "$tmp/login.out")"
nlog=$(grep -c 'method=XOAUTH2' "$DOVECOT_LOG")
"$IMAPSIFT" watch -f -c "$tmp/dev.conf" > "$tmp/watch.log" 2>&1 &
wpid=$!
# Connected (Dovecot logged one more XOAUTH2 login), then revoked.
i=0
while [ "$(grep -c 'method=XOAUTH2' "$DOVECOT_LOG")" -le "$nlog" ] &&
    [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
code=$(op_revoke "$(tokfile alice refresh_token)" refresh_token)
t0=$(tokens)
doveadm -c "$DOVECOT_CONF" kick alice >/dev/null 2>&1
if until_file "$tmp/watch.log" 'run imapsift login alice' 30; then
	ok watch_says_login
else
	no watch_says_login "$(tail -n 5 "$tmp/watch.log")"
fi
t1=$(tokens)
sleep 8		# long enough for a few retries of a retrying watcher
t2=$(tokens)
if [ "$code" = 200 ] && [ "$t1" = "$t2" ] && [ $((t2 - t0)) -le 1 ]; then
	ok watch_no_retry_storm
else
	no watch_no_retry_storm "revoke $code; token requests: $((t1 - t0)) then $((t2 - t0))"
fi
n=$(grep -c 'run imapsift login alice' "$tmp/watch.log")
[ "$n" = 1 ] && ok watch_says_it_once || no watch_says_it_once "$n lines"
# SIGHUP: the account tries once more (one token request), then waits.
kill -HUP "$wpid"
until_file "$tmp/watch.log" 'reloaded' 20
i=0
while [ "$(tokens)" -le "$t2" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 4
t3=$(tokens)
[ "$t3" = $((t2 + 1)) ] && ok watch_hup_tries_once ||
    no watch_hup_tries_once "$((t3 - t2)) token requests after SIGHUP"
# A new login: the watcher goes on by itself.
login_device "$tmp/dev.conf" alice
if [ $rc -eq 0 ] && until_file "$tmp/watch.log" 'connection back' 20; then
	ok watch_resumes_after_login
else
	no watch_resumes_after_login "exit $rc: $(tail -n 5 "$tmp/watch.log")"
fi
dv_append alice INBOX "$fx/spam-phone.eml"
i=0
while [ "$(dv_count alice Junk)" != 2 ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(dv_count alice Junk)" = 2 ] && ok watch_sorts_with_token ||
    no watch_sorts_with_token "Junk has $(dv_count alice Junk)"
kill -TERM "$wpid"
wait "$wpid"
rc=$?
wpid=
[ $rc -eq 0 ] && ok watch_exit || no watch_exit "exit $rc"

# --- code flow with PKCE, OAUTHBEARER, a confidential client ---------------
conf "$tmp/code.conf" code 'oauth2_flow = "code";' \
    'oauth2_mechanism = "oauthbearer";' \
    'oauth2_client_id = "imapsift-secret";' \
    'oauth2_client_secret = "imapsift-client-secret";'
"$IMAPSIFT" login --timeout 60 -c "$tmp/code.conf" code > "$tmp/login.out" 2>&1 &
lpid=$!
until_file "$tmp/login.out" 'Waiting for the browser' 20
url=$(grep -o "$OP_ISSUER/auth?[^ ]*" "$tmp/login.out")
cb=$(sed -n 's/^Waiting for the browser at \([^ ]*\) .*/\1/p' "$tmp/login.out")
case $url in
*code_challenge_method=S256*code_challenge=*|*code_challenge=*code_challenge_method=S256*)
	ok code_url_has_pkce ;;
*)	no code_url_has_pkce "$url" ;;
esac
# A redirect with another state is turned away; the login waits on.
st=$(curl -s -o /dev/null -w '%{http_code}' "${cb}?code=forged&state=forged")
[ "$st" = 400 ] && kill -0 "$lpid" 2>/dev/null && ok code_wrong_state_refused ||
    no code_wrong_state_refused "HTTP $st"
rm -f "$DOVECOT_DIR/op.jar"
op_browse "$url" alice
wait "$lpid"
rc=$?
lpid=
if [ $rc -eq 0 ] && grep -q '^GRANT ok authorization_code' "$OP_LOG" &&
    grep -q 'signed in' "$DOVECOT_DIR/op.page"; then
	ok code_login
else
	no code_login "exit $rc: $(cat "$tmp/login.out")"
fi
dv_append alice INBOX "$fx/spam-late.eml"
sweep "$tmp/code.conf"
if [ $rc -eq 0 ] && grep -q 'Login: user=<alice>, method=OAUTHBEARER' \
    "$DOVECOT_LOG"; then
	ok sweep_oauthbearer
else
	no sweep_oauthbearer "exit $rc: $(tail -n 3 "$tmp/out")"
fi

# --- the user refuses consent ------------------------------------------
"$IMAPSIFT" login --timeout 60 -c "$tmp/code.conf" code > "$tmp/login.out" 2>&1 &
lpid=$!
until_file "$tmp/login.out" 'Waiting for the browser' 20
url=$(grep -o "$OP_ISSUER/auth?[^ ]*" "$tmp/login.out")
rm -f "$DOVECOT_DIR/op.jar"
op_browse "$url" alice abort
wait "$lpid"
rc=$?
lpid=
[ $rc -eq 3 ] && grep -q 'refused the sign-in: access_denied' "$tmp/login.out" &&
    ok code_consent_refused || no code_consent_refused "exit $rc: $(cat "$tmp/login.out")"

# --- token_command: the refresh token in the user's own store ------------
cat > "$tmp/store.sh" <<'EOS'
#!/bin/sh
# A password-manager stand-in: one file per account.
f=$(dirname "$0")/secret.$IMAPSIFT_ACCOUNT
case $IMAPSIFT_TOKEN_OP in
get) [ -f "$f" ] && cat "$f" ;;
store) umask 077; cat > "$f" ;;
*) exit 1 ;;
esac
EOS
conf "$tmp/cmd.conf" cmd "token_command = \"sh $tmp/store.sh\";"
login_device "$tmp/cmd.conf" cmd
if [ $rc -eq 0 ] && [ -s "$tmp/secret.cmd" ] &&
    [ ! -e "$tmp/state/cmd.oauth2" ]; then
	ok token_command_login
else
	no token_command_login "exit $rc: $(cat "$tmp/login.out")"
fi
r0=$(refreshes)
sweep "$tmp/cmd.conf"
# A new process: the access token was only in memory, so one refresh.
[ $rc -eq 0 ] && [ "$(refreshes)" = $((r0 + 1)) ] && ok token_command_sweep ||
    no token_command_sweep "exit $rc, $(($(refreshes) - r0)) refreshes: $(tail -n 3 "$tmp/out")"

# --- wrong clients -------------------------------------------------------
conf "$tmp/wrong.conf" wrong 'oauth2_client_id = "no-such-client";'
"$IMAPSIFT" login --timeout 60 -c "$tmp/wrong.conf" wrong > "$tmp/login.out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q 'refused the client (invalid_client' \
    "$tmp/login.out" && grep -q 'check oauth2_client_id' "$tmp/login.out"
then
	ok wrong_client_id
else
	no wrong_client_id "exit $rc: $(cat "$tmp/login.out")"
fi
conf "$tmp/wrong2.conf" wrong2 'oauth2_client_id = "imapsift-secret";' \
    'oauth2_client_secret = "not-the-secret";'
"$IMAPSIFT" login --timeout 60 -c "$tmp/wrong2.conf" wrong2 > "$tmp/login.out" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q 'invalid_client' "$tmp/login.out" &&
    ok wrong_client_secret || no wrong_client_secret "exit $rc: $(cat "$tmp/login.out")"
# A sweep before any login: the instruction, nothing asked of the server.
t0=$(tokens)
sweep "$tmp/wrong.conf"
[ $rc -eq 3 ] && grep -q 'no refresh token yet: run imapsift login wrong' \
    "$tmp/out" && [ "$(tokens)" = "$t0" ] && ok sweep_before_login ||
    no sweep_before_login "exit $rc: $(cat "$tmp/out")"
# A CA that did not sign the server's certificate: refused, not retried.
conf "$tmp/ca.conf" alice "oauth2_ca_file = \"$WRONG_CA_FILE\";"
"$IMAPSIFT" login --timeout 60 -c "$tmp/ca.conf" alice > "$tmp/login.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -qi 'certificate\|SSL\|TLS' "$tmp/login.out" &&
    ok wrong_ca_refused || no wrong_ca_refused "exit $rc: $(cat "$tmp/login.out")"

# --- config errors ---------------------------------------------------------
printf 'accounts = ( {\n  name = "x";\n  host = "h.example";\n  user = "u";\n  auth = "oauth2";\n  oauth2_token_endpoint = "http://auth.example/token";\n} );\n' \
    > "$tmp/bad.conf"
"$IMAPSIFT" check -c "$tmp/bad.conf" > "$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'bad.conf:5: .*needs oauth2_client_id' "$tmp/out" &&
    grep -q 'bad.conf:6: oauth2_token_endpoint: .* is not an https:// URL' \
    "$tmp/out"; then
	ok config_errors
else
	no config_errors "exit $rc: $(cat "$tmp/out")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
