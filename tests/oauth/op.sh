# op.sh: a private OpenID Connect / OAuth 2.0 authorization server
# (oidc-provider, tests/oauth/server.mjs) on loopback HTTPS, for
# tests/integration/test_oauth2.sh.  Source it after dovecot.sh and
# dovecot_start (it serves Dovecot's test certificate, signed by
# $CA_FILE, so imapsift and Dovecot both verify it):
#
#	. "$TOP/tests/oauth/op.sh"
#	OP_PORT=$(op_port)
#	dovecot_start --oauth2 "$(op_introspection_url)"
#	op_start [ACCESS_TOKEN_TTL] || exit 1
#
# op_install: npm ci of tests/oauth/package-lock.json into a private
# directory ($OP_NODE, default $TOP/build/oauth-node; kept while the lock
# file is unchanged); only the npm registry is needed.
# op_start TTL: starts the server (access tokens live TTL s, default
# 3600), waits until it listens.  Exported: OP_PORT, OP_ISSUER, OP_LOG
# (one line per request, "REQ POST /token", and per token grant "GRANT
# ok|error GRANT_TYPE [ERROR]"), OP_PID.  op_stop: stops it by pid.
# op_device CODE LOGIN: plays the user approving device code CODE as
# LOGIN at /device (login, then consent).  op_browse URL LOGIN [abort]:
# plays the browser from authorization URL URL: signs in as LOGIN,
# consents (or refuses with abort) and follows the redirect to the
# client.  op_revoke TOKEN [HINT]: RFC 7009 revocation as client
# imapsift.  Needs: node (20), npm, curl.

# op_port: a free port on 127.0.0.1.
op_port() {
	"${_dv_py:-python3}" -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

op_introspection_url() {
	echo "https://dovecot:dovecot-secret@127.0.0.1:$OP_PORT/token/introspection"
}

op_install() (
	src=$TOP/tests/oauth
	dst=${OP_NODE:-$TOP/build/oauth-node}
	command -v node >/dev/null && command -v npm >/dev/null ||
	    { echo "op.sh: node and npm are needed" >&2; return 1; }
	if [ -d "$dst/node_modules/oidc-provider" ] &&
	    cmp -s "$src/package-lock.json" "$dst/package-lock.json"; then
		return 0
	fi
	rm -rf "$dst" && mkdir -p "$dst" &&
	    cp "$src/package.json" "$src/package-lock.json" "$dst/" &&
	    (cd "$dst" && npm ci --no-audit --no-fund --ignore-scripts \
	    --loglevel=error) >&2
)

op_start() {
	OP_NODE=${OP_NODE:-$TOP/build/oauth-node}
	op_install || return 1
	OP_ISSUER=https://127.0.0.1:$OP_PORT
	OP_LOG=$DOVECOT_DIR/log/op.log
	export OP_PORT OP_ISSUER OP_LOG OP_NODE
	: > "$OP_LOG"
	cp "$TOP/tests/oauth/server.mjs" "$OP_NODE/"
	OP_CERT=$DOVECOT_DIR/tls/server.crt OP_KEY=$DOVECOT_DIR/tls/server.key \
	OP_AT_TTL=${1:-3600} NODE_ENV=test \
	    node "$OP_NODE/server.mjs" > "$DOVECOT_DIR/log/op.out" 2>&1 &
	OP_PID=$!
	export OP_PID
	_op_i=0
	until grep -q '^LISTENING' "$OP_LOG"; do
		_op_i=$((_op_i + 1))
		if [ $_op_i -ge 300 ] || ! kill -0 "$OP_PID" 2>/dev/null; then
			echo "op.sh: oidc-provider did not start:" >&2
			tail -n 20 "$DOVECOT_DIR/log/op.out" >&2
			return 1
		fi
		sleep 0.1
	done
}

op_stop() {
	[ -n "${OP_PID:-}" ] || return 0
	kill "$OP_PID" 2>/dev/null
	wait "$OP_PID" 2>/dev/null
	OP_PID=
}

# _op_curl ARGS: curl with the CA, the cookie jar, no progress.
_op_curl() {
	curl -s --max-time 20 --cacert "$CA_FILE" -b "$DOVECOT_DIR/op.jar" \
	    -c "$DOVECOT_DIR/op.jar" "$@"
}

op_browse() (
	url=$1 login=$2 act=${3:-confirm} i=0
	while [ $i -lt 20 ]; do
		i=$((i + 1))
		case $url in
		"$OP_ISSUER"/interaction/*)
			p=$(_op_curl "$url" | sed -n 's/.*"prompt":"\([a-z]*\)".*/\1/p')
			case $p in
			login) next=$(_op_curl -o /dev/null -w '%{redirect_url}' \
			    --data-urlencode "login=$login" "$url/login") ;;
			consent) next=$(_op_curl -o /dev/null -w '%{redirect_url}' \
			    -d '' "$url/$act") ;;
			*) echo "op_browse: prompt '$p' at $url" >&2; return 1 ;;
			esac ;;
		"$OP_ISSUER"/*)
			next=$(_op_curl -o "$DOVECOT_DIR/op.page" \
			    -w '%{redirect_url}' "$url") ;;
		*)	# the client's redirect URI: deliver the code
			curl -s --max-time 20 -o "$DOVECOT_DIR/op.page" "$url"
			return ;;
		esac
		[ -z "$next" ] && return 0
		url=$next
	done
	return 1
)

op_device() (
	code=$1 login=$2
	rm -f "$DOVECOT_DIR/op.jar"
	x=$(_op_curl "$OP_ISSUER/device" |
	    sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p')
	x=$(_op_curl -d "xsrf=$x" --data-urlencode "user_code=$code" \
	    "$OP_ISSUER/device" |
	    sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p')
	next=$(_op_curl -o /dev/null -w '%{redirect_url}' -d "xsrf=$x" \
	    --data-urlencode "user_code=$code" -d confirm=yes \
	    "$OP_ISSUER/device")
	[ -n "$next" ] || { echo "op_device: code not taken" >&2; return 1; }
	op_browse "$next" "$login" && grep -q 'device approved' \
	    "$DOVECOT_DIR/op.page"
)

op_revoke() {
	curl -s --max-time 20 --cacert "$CA_FILE" -d client_id=imapsift \
	    --data-urlencode "token=$1" ${2:+-d token_type_hint=$2} \
	    "$OP_ISSUER/token/revocation" -o /dev/null -w '%{http_code}'
}
