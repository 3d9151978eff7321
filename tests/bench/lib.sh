# lib.sh: what the bench scripts share (sourced by bench.sh, sweep.sh and
# idle.sh).
#
# child CMD...: runs CMD in the background and waits for it, so that a
# signal reaches the script at once (its trap then calls kid_stop); the
# status is CMD's.  kid_stop: stops the child running, if any.
kid=
child() {
	"$@" &
	kid=$!
	wait "$kid"
	krc=$?
	kid=
	return $krc
}

kid_stop() {
	[ -n "$kid" ] || return 0
	kill -TERM "$kid" 2>/dev/null
	wait "$kid" 2>/dev/null
	kid=
}
