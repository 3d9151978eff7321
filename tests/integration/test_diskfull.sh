#!/bin/sh
# test_diskfull.sh: the store's disk fills up between a sweep's moves and
# their recording (the scripted peer, tests/faults/peer.py, holds the
# first UID MOVE back while the test fills a small tmpfs holding the
# store).  The sweep says the moves were made but not recorded; once
# there is room, the next sweep settles them as moved, without claiming
# that a connection was cut (it did, before: "found out after the
# connection was cut"), and leaves nothing pending.  Root only (mount).
# Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
. "$TOP/tests/faults/lib.sh"
tmp=$(mktemp -d)
mnt=$tmp/mnt
sweeppid=
trap '[ -n "$sweeppid" ] && kill "$sweeppid" 2>/dev/null; peer_stop
    umount "$mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

if [ "$(id -u)" != 0 ]; then
	echo "ok disk_full # skip: needs root (a tmpfs of its own)"
	echo "1 passed, 0 failed"
	exit 0
fi
mkdir "$mnt"
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$mnt"; then
	no mount "cannot mount a tmpfs on $mnt"
	echo "$pass passed, $fail failed"
	exit 1
fi

d=$tmp/peer
mkdir "$d"
printf '[{"cmd": "UID MOVE", "action": "delay", "seconds": 5}]\n' \
    > "$d/faults.json"
loads=
for f in ham spam-url spam-phone bounce-legit bounce-forged; do
	loads="$loads --load INBOX:$fx/$f.eml"
done
# shellcheck disable=SC2086
if ! peer_launch 120 $loads; then
	no peer "the peer did not start: $(cat "$d/peer.out")"
	echo "$pass passed, $fail failed"
	exit 1
fi
(
	umask 077
	{
		printf 'store = "%s/store";\nrules = [ "%s" ];\n' "$mnt" \
		    "$fx/rules"
		printf 'accounts = ( { name = "alice"; host = "localhost";\n'
		printf '  port = %s; tls = "none"; user = "alice";\n' "$PORT"
		printf '  password = "secret"; timeout = 30;\n'
		printf '  addresses = [ "alice@example.org" ]; } );\n'
	} > "$tmp/config"
)

timeout 60 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/out1" 2>&1 &
sweeppid=$!
# Bounded wait for the first MOVE to reach the peer, then fill the disk.
i=0
while ! grep -q 'fault delay on UID MOVE' "$d/peer.log" 2>/dev/null &&
    [ $i -lt 300 ]; do
	sleep 0.05
	i=$((i + 1))
done
dd if=/dev/zero of="$mnt/fill" bs=4096 > /dev/null 2>&1
wait "$sweeppid"
rc=$?
sweeppid=
if [ $rc -ne 0 ] && grep -q 'moves made but not recorded' "$tmp/out1"
then
	ok disk_full_reported
else
	no disk_full_reported "exit $rc: $(tr '\n' '|' < "$tmp/out1")"
fi

rm -f "$mnt/fill"
timeout 60 "$IMAPSIFT" sweep -c "$tmp/config" > "$tmp/out2" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q 'was moved (left unconfirmed by an earlier run)' \
    "$tmp/out2" && ! grep -q 'connection was cut' "$tmp/out2"; then
	ok disk_full_settled
else
	no disk_full_settled "exit $rc: $(tr '\n' '|' < "$tmp/out2")"
fi
if "$IMAPSIFT" log -c "$tmp/config" > "$tmp/log" 2>&1 &&
    ! grep -q 'pending$' "$tmp/log" && grep -q . "$tmp/log"; then
	ok disk_full_nothing_pending
else
	no disk_full_nothing_pending "$(tr '\n' '|' < "$tmp/log")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
