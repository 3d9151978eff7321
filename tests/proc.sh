# proc.sh: stopping the processes a test starts.  Sourced by the tests
# that use it: . "$TOP/tests/proc.sh"
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
