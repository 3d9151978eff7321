# proc.sh: waiting for the processes a test starts, and stopping them.
# Sourced by the tests and helpers that use it: . "$TOP/tests/proc.sh"
#
# wait_file FILE SECONDS: up to SECONDS (a bound, not a timing assertion)
# for FILE to be non-empty, as a server writes its port there once it
# listens.  Returns 0 when it is.
wait_file() {
	_wf=0
	while [ ! -s "$1" ] && [ $_wf -lt $(($2 * 20)) ]; do
		sleep 0.05
		_wf=$((_wf + 1))
	done
	[ -s "$1" ]
}
#
# term_wait PID: SIGTERM, then up to 5 s for PID (a child of the shell)
# to end.  Returns its exit status, or 124 when it still ran (it is then
# killed with SIGKILL).
term_wait() {
	kill -TERM "$1" 2>/dev/null
	_tw=0
	while kill -0 "$1" 2>/dev/null && [ $_tw -lt 50 ]; do
		sleep 0.1
		_tw=$((_tw + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}
