# server.sh: the feed tests' HTTPS server (server.py) on loopback, with
# the Dovecot harness's test certificate (so dovecot_start first).
# Sourced; needs TOP.
#
#	. "$TOP/tests/feeds/server.sh"
#	feed_server_start WWW DIR || ...	# serves WWW; its files in DIR
#	... https://localhost:$FEED_PORT/ok/NAME, log DIR/http.log ...
#	feed_server_stop
#
# feed_server_start waits up to 10 s for the server's port (DIR/port)
# and fails without one (DIR/server.err says why); the pid is in
# FEED_PID.  The log is appended to, across restarts.

FEED_PID=
. "$TOP/tests/proc.sh"
FEED_PORT=

feed_server_start() {
	rm -f "$2/port"
	python3 "$TOP/tests/feeds/server.py" "$DOVECOT_DIR/tls/server.crt" \
	    "$DOVECOT_DIR/tls/server.key" "$1" "$2/port" "$2/http.log" \
	    2>"$2/server.err" &
	FEED_PID=$!
	wait_file "$2/port" 10
	FEED_PORT=$(cat "$2/port" 2>/dev/null)
	[ -n "$FEED_PORT" ]
}

feed_server_stop() {
	[ -n "$FEED_PID" ] && kill "$FEED_PID" 2>/dev/null &&
	    wait "$FEED_PID" 2>/dev/null
	FEED_PID=
}
