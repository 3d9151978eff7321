#!/bin/sh
# imap.sh BIN: the IMAP demo (make demo).  Starts a throwaway Dovecot on
# loopback (tests/integration/dovecot.sh: its own CA, free ports, user
# alice), fills Sent and INBOX with the demo mailbox of
# tests/fixtures/demo (spam with a listed link host or number, backscatter,
# a real bounce of a message that is in Sent, ham), writes a config (0600)
# that uses the demo rules dir, runs `imapsift sweep`, prints each
# folder's Subject lines and `imapsift log`, then stops the server.
# Exits 1 if the folders do not end up as expected.
#
# Needs (Debian): dovecot-imapd, openssl, python3.
set -u
bin=${1:?usage: imap.sh BIN}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
top=$(cd "$(dirname "$0")/../.." && pwd)
fx=$top/tests/fixtures/demo

die() { echo "imap.sh: $*" >&2; exit 1; }
[ -x "$bin" ] || die "no imapsift binary at $bin (run make all)"
# A binary without the command says 'unknown command "sweep"'.
if "$bin" sweep --help 2>&1 | grep -q 'unknown command'; then
	die "$bin has no 'sweep' command yet: the IMAP demo needs it"
fi

. "$top/tests/integration/dovecot.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-demo.XXXXXX") || die "mktemp failed"
trap 'dovecot_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

echo "== starting a throwaway Dovecot on 127.0.0.1 (user alice)"
dovecot_start || die "dovecot did not start"
echo "   imaps port $IMAPS_PORT, test CA $CA_FILE"
for f in "$fx"/sent/*.eml; do
	dv_append alice Sent "$f" '\Seen' || die "cannot fill Sent"
done
for f in "$fx"/inbox/*.eml; do
	dv_append alice INBOX "$f" || die "cannot fill INBOX"
done

# The demo mail has fixed dates: first_run_days covers them all.
dv_imapsift_conf "$tmp/config" demo "$tmp/store" "$fx/rules" \
    'first_run_days = 36500;'
export HOME="$tmp" XDG_CONFIG_HOME="$tmp" XDG_STATE_HOME="$tmp"

# count MAILBOX: its messages, 0 when it does not exist.
count() {
	if dv_mailboxes alice | grep -qxF "$1"; then
		dv_count alice "$1"
	else
		echo 0
	fi
}
show() {
	for m in INBOX Junk Backscatter Sent; do
		dv_mailboxes alice | grep -qxF "$m" || continue
		echo "-- $m ($(dv_count alice "$m"))"
		dv_list alice "$m" Subject | sed 's/^/   /'
	done
}
echo
echo "== the mailbox before the sweep"
show
echo
echo "== the rules (tests/fixtures/demo/rules)"
grep -hv '^#' "$fx"/rules/* | sed 's/^/   /'
echo
echo "== imapsift sweep -c $tmp/config"
timeout 120 "$bin" sweep -c "$tmp/config" 2>&1
rc=$?
[ $rc -eq 0 ] || die "imapsift sweep exited $rc"
echo
echo "== the mailbox after the sweep"
show
echo
echo "== imapsift log"
timeout 60 "$bin" log -c "$tmp/config" 2>&1 || die "imapsift log failed"
echo
got="$(count INBOX) $(count Junk) $(count Backscatter)"
if [ "$got" = "3 3 1" ]; then
	echo "demo: INBOX keeps the ham and the real bounce; 3 spam in Junk," \
	    "1 backscatter in Backscatter"
else
	die "INBOX/Junk/Backscatter hold $got messages, expected 3 3 1"
fi
