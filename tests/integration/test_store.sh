#!/bin/sh
# test_store.sh: `imapsift sweep` against a private Dovecot
# (tests/integration/dovecot.sh) when its store fails: a full disk, a
# read-only file system, a write lock held by another process, a corrupt
# file, a file that is not SQLite; and an older schema that must migrate.
# Each failure must give one clear line naming the store and the cause,
# exit 1 (EXIT_FAIL), and move nothing: a move is made only after its
# pending row is in the store.  Each case then repairs the store and
# checks that a normal sweep moves the spam.  Folder contents are checked
# exactly.  Full disk and read-only mounts need root (CI runs as root):
# otherwise the full-disk case is skipped (a "#" line, not counted) and
# read-only is made with chmod.  Environment: IMAPSIFT (the binary), TOP.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IMAPSIFT=${IMAPSIFT:-$TOP/build/imapsift}
fx=$TOP/tests/fixtures/sweep
. "$TOP/tests/integration/dovecot.sh"
tmp=$(mktemp -d)
holdpid= mnt= ro=
cleanup() {
	[ -n "$holdpid" ] && kill "$holdpid" 2>/dev/null &&
	    wait "$holdpid" 2>/dev/null
	[ -n "$ro" ] && chmod 700 "$ro" 2>/dev/null
	[ -n "$mnt" ] && { umount "$mnt/state/imapsift.db" 2>/dev/null
	    umount "$mnt/state" 2>/dev/null; umount "$mnt" 2>/dev/null; }
	dovecot_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
skip() { echo "# skip $1: $2"; }

py=$_dv_py	# Debian's python3 (dovecot.sh)

# sweep [-c CONFIG]: rc in $rc, stdout in out, stderr in err, seconds in dt.
sweep() {
	c=$tmp/config
	[ "${1:-}" = -c ] && c=$2
	t0=$(date +%s)
	timeout 30 "$IMAPSIFT" sweep -c "$c" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	dt=$(($(date +%s) - t0))
}

# spam NAME: a new spam (a copy of spam-url.eml with its own Message-ID)
# in INBOX; its ID goes into $new, and into $inbox until it is moved.
spam() {
	new=sweep-spam-$1@spam.example
	sed "s/sweep-spam-url/sweep-spam-$1/g" "$fx/spam-url.eml" > "$tmp/$1.eml"
	dv_append alice INBOX "$tmp/$1.eml"
	inbox="$inbox $new"
}

# refused NAME CAUSE: the sweep just run failed on the store: exit 1, a
# line "imapsift: store: DB: CAUSE" on stderr, nothing moved.
refused() {
	if [ "$rc" -eq 1 ] && grep -qF "imapsift: store: $db: $2" "$tmp/err"
	then
		ok "$1"
	else
		no "$1" "exit $rc, want 1 and \"store: $db: $2\": $(cat \
		    "$tmp/err")"
	fi
	box "$1_inbox" INBOX $inbox
	box "$1_junk" Junk $junk
}

# repaired NAME: a normal sweep now moves the new spam, and logs it.
repaired() {
	sweep
	if [ "$rc" -eq 0 ]; then ok "$1"; else
		no "$1" "exit $rc: $(cat "$tmp/err")"; fi
	inbox=$(printf '%s\n' $inbox | grep -vxF "$new" | tr '\n' ' ')
	junk="$junk $new"
	box "$1_inbox" INBOX $inbox
	box "$1_junk" Junk $junk
	logged "$1_logged" "$new" done
}

# logged NAME ID STATE: the action log has ID (Message-ID key) in STATE.
# (Read-write: a read-only connection would leave the -wal and -shm files
# behind, which changes what the next open needs.)
logged() {
	s=$("$py" - "$db" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(" ".join(r[0] for r in db.execute(
    "SELECT state FROM action_log WHERE msgid = ? ORDER BY id", (sys.argv[2],))))
PY
	)
	if [ "$s" = "$3" ]; then ok "$1"; else no "$1" "$2: \"$s\""; fi
}

# hold SQL: a python3 process opens the store, runs SQL (in autocommit
# mode, so BEGIN EXCLUSIVE stays open) and sleeps until killed; returns
# once it is in place.
hold() {
	rm -f "$tmp/held"
	"$py" - "$db" "$tmp/held" "$1" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute(sys.argv[3]).fetchall()
open(sys.argv[2], "w").close()
time.sleep(120)
PY
	holdpid=$!
	i=0
	while [ ! -e "$tmp/held" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
unhold() {
	[ -n "$holdpid" ] && kill "$holdpid" 2>/dev/null
	wait "$holdpid" 2>/dev/null
	holdpid=
}

# user_version DB
user_version() {
	"$py" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$1"
}

if ! dovecot_start; then
	no start "dovecot_start failed"
	echo "$pass passed, $fail failed"
	exit 1
fi

# The store lives on its own small tmpfs as root.
store=$tmp/state
if [ "$(id -u)" = 0 ] && mkdir "$tmp/mnt" &&
    mount -t tmpfs -o size=1m,mode=0700 imapsift-test "$tmp/mnt"; then
	mnt=$tmp/mnt
	store=$mnt/state
fi
db=$store/imapsift.db
dv_imapsift_conf "$tmp/config" alice "$store" "$fx/rules"
dv_append alice Sent "$fx/sent.eml"
dv_append alice INBOX "$fx/ham.eml"
inbox=sweep-ham-1@friends.test junk=
spam first
repaired first_sweep		# makes the store, records the state

# --- 1. a full disk ----------------------------------------------------
if [ -n "$mnt" ]; then
	# Nobody has the store open: the -shm file cannot be made.
	spam full
	dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
	sweep
	refused full_disk 'disk I/O error (No space left on device)'
	# Held open by another process (as watch does), so the -wal and -shm
	# files are there: the open works and the pending rows cannot be
	# written (SQLITE_FULL).
	rm -f "$mnt/filler"
	hold 'SELECT count(*) FROM action_log'
	dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
	sweep
	refused full_disk_open 'database or disk is full'
	unhold
	rm -f "$mnt/filler"
	repaired full_disk_freed
else
	skip full_disk "needs root (mount -t tmpfs); CI runs as root"
fi

# --- 2. a read-only store ----------------------------------------------
spam ro
if [ -n "$mnt" ]; then
	# Root ignores mode bits: the file system itself is read-only.
	mount -o remount,ro "$mnt"
	sweep
	refused read_only "Read-only file system"
	mount -o remount,rw "$mnt"
	# Only the directory read-only (the file bound writable over it):
	# the -wal and -shm files cannot be made.
	mount --bind "$store" "$store" && mount --bind "$db" "$db" &&
	    mount -o remount,bind,ro "$store"
	sweep
	refused read_only_dir \
	    "unable to open database file (cannot create files in $store: \
Read-only file system)"
	umount "$db"; umount "$store"
else
	ro=$store
	chmod 500 "$store"; chmod 400 "$db"
	sweep
	refused read_only "Permission denied"
	chmod 700 "$store"; chmod 600 "$db"
	ro=
fi
repaired read_only_writable

# --- 3. locked by another process ---------------------------------------
# Longer than the busy timeout (STORE_BUSY_MS, 5 s): the holder stays
# until killed.
spam locked
hold 'BEGIN EXCLUSIVE'
sweep
refused locked 'database is locked'
[ "$dt" -ge 4 ] && ok locked_waited ||
    no locked_waited "gave up after $dt s, before the busy timeout"
unhold
repaired unlocked

# --- 4. a corrupt store -------------------------------------------------
cp "$db" "$tmp/good.db"
[ ! -e "$db-wal" ] && ok closed_cleanly || no closed_cleanly "$db-wal left"
# rootpage NAME: the first page of a table in the good copy.
rootpage() {
	"$py" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (sys.argv[2],)).fetchone()[0])' "$tmp/good.db" "$1"
}
# smash PAGE SOURCE: page PAGE (from 1) overwritten from SOURCE.
smash() {
	dd if="$2" of="$db" bs=4096 count=1 seek=$(($1 - 1)) conv=notrunc \
	    2>/dev/null
}
restore() { cp "$tmp/good.db" "$db"; }
spam corrupt
printf 'imapsift was here, not SQLite' |
    dd of="$db" conv=notrunc 2>/dev/null	# the header
sweep
refused corrupt_header 'file is not a database'
restore
smash "$(rootpage action_log)" /dev/urandom
sweep
refused corrupt_action_log 'database disk image is malformed'
restore
smash "$(rootpage mailbox)" /dev/zero
sweep
refused corrupt_mailbox 'database disk image is malformed'
restore
echo 'not a database at all' > "$db"
sweep
refused not_sqlite 'file is not a database'
restore
repaired corrupt_restored
# Corrupt only where the Sent coverage is read (meta): the sweep goes on
# without it (bounces are then kept) and may move, since its log rows are
# written; every move made must be logged.
spam meta
smash "$(rootpage meta)" /dev/urandom
sweep
grep -qF "store: $db: database disk image is malformed" "$tmp/err" &&
    ok corrupt_meta_error || no corrupt_meta_error "$(cat "$tmp/err")"
if dv_list alice Junk | grep -qxF "<$new>"; then
	logged corrupt_meta_logged "$new" done
else
	logged corrupt_meta_logged "$new" ""
fi
# The Sent coverage cannot be read: an error (exit 1), bounces wait.
[ "$rc" -eq 1 ] && ok corrupt_meta_exit ||
    no corrupt_meta_exit "exit $rc, want 1: $(tail -n 1 "$tmp/err")"
restore
dv_list alice Junk | grep -qxF "<$new>" &&
    { inbox=$(printf '%s\n' $inbox | grep -vxF "$new" | tr '\n' ' ')
      junk="$junk $new"; }

# --- 5. older schemas migrate -----------------------------------------
cur=$(user_version "$db")
[ "$cur" -ge 1 ] 2>/dev/null && ok schema_version ||
    no schema_version "user_version \"$cur\""
old=$tmp/old
mkdir -m 700 "$old"
dv_imapsift_conf "$tmp/oldconfig" alice "$old" "$fx/rules"
# Version 1 as first shipped (69fb2ce, store.c migrate_v1), written by
# hand with rows in it.  (Version 1 is the current one as of this test:
# once a version 2 exists, this is the upgrade from 1.)
"$py" - "$old/imapsift.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE source (name TEXT PRIMARY KEY,
 since INTEGER NOT NULL DEFAULT 0, oldest INTEGER NOT NULL DEFAULT 0,
 newest INTEGER NOT NULL DEFAULT 0, count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE sent (key TEXT PRIMARY KEY, date INTEGER NOT NULL DEFAULT 0,
 source TEXT NOT NULL REFERENCES source(name)) WITHOUT ROWID;
CREATE INDEX sent_source ON sent(source);
CREATE TABLE correspondent (addr TEXT PRIMARY KEY,
 last_seen INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE mailbox (account TEXT NOT NULL, name TEXT NOT NULL,
 uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL,
 updated INTEGER NOT NULL DEFAULT 0,
 PRIMARY KEY (account, name)) WITHOUT ROWID;
CREATE TABLE action_log (id INTEGER PRIMARY KEY AUTOINCREMENT,
 time INTEGER NOT NULL, account TEXT NOT NULL, mailbox TEXT NOT NULL,
 uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
 msgid TEXT, dest TEXT NOT NULL, verdict TEXT NOT NULL,
 reasons TEXT NOT NULL DEFAULT '',
 state TEXT NOT NULL CHECK (state IN
  ('pending', 'done', 'failed', 'undone')),
 new_uid INTEGER, error TEXT, undone_time INTEGER);
CREATE INDEX action_log_msgid ON action_log(account, msgid);
CREATE INDEX action_log_time ON action_log(time);
CREATE TABLE fp_evidence (kind TEXT NOT NULL, value TEXT NOT NULL,
 count INTEGER NOT NULL, first_seen INTEGER NOT NULL,
 last_seen INTEGER NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID;
INSERT INTO source VALUES ('imap:old/Sent', 0, 1500000000, 1500000000, 1);
INSERT INTO sent VALUES ('old-sent-1@example.org', 1500000000,
 'imap:old/Sent');
INSERT INTO action_log (time, account, mailbox, uidvalidity, uid, msgid,
 dest, verdict, reasons, state, new_uid) VALUES
 (1500000000, 'old', 'INBOX', 7, 1, 'old-spam-1@spam.example', 'Junk',
  'junk', 'url:old.example', 'done', 1),
 (1500000100, 'old', 'INBOX', 7, 2, 'old-spam-2@spam.example', 'Junk',
  'junk', 'phone:12025550100', 'undone', 2);
PRAGMA application_id = 1769170548;
PRAGMA user_version = 1;
""")
db.commit()
PY
chmod 600 "$old/imapsift.db"
spam migrate
sweep -c "$tmp/oldconfig"
[ "$rc" -eq 0 ] && ok migrate_v1 || no migrate_v1 "exit $rc: $(cat "$tmp/err")"
inbox=$(printf '%s\n' $inbox | grep -vxF "$new" | tr '\n' ' ')
junk="$junk $new"
box migrate_v1_inbox INBOX $inbox
box migrate_v1_junk Junk $junk
timeout 10 "$IMAPSIFT" log -c "$tmp/oldconfig" > "$tmp/log" 2>&1
grep -q '	old	INBOX	1	Junk	junk	url:old.example	done$' "$tmp/log" &&
    grep -q '	old	INBOX	2	Junk	junk	phone:12025550100	undone$' \
    "$tmp/log" && grep -q '	alice	INBOX	.*	Junk	junk	.*	done$' "$tmp/log" &&
    ok migrate_v1_log || no migrate_v1_log "$(cat "$tmp/log")"
v=$(user_version "$old/imapsift.db")
[ "$v" = "$cur" ] && ok migrate_v1_version ||
    no migrate_v1_version "user_version $v, want $cur"

# Version 0: a SQLite file without our schema (an empty file, or one with
# no tables left), e.g. made by hand before the first run.
for kind in empty notables; do
	rm -rf "$old"; mkdir -m 700 "$old"
	if [ $kind = empty ]; then
		: > "$old/imapsift.db"
	else
		"$py" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("CREATE TABLE t (x); DROP TABLE t;")' "$old/imapsift.db"
	fi
	chmod 600 "$old/imapsift.db"
	spam "v0$kind"
	sweep -c "$tmp/oldconfig"
	[ "$rc" -eq 0 ] && ok "migrate_v0_$kind" ||
	    no "migrate_v0_$kind" "exit $rc: $(cat "$tmp/err")"
	inbox=$(printf '%s\n' $inbox | grep -vxF "$new" | tr '\n' ' ')
	junk="$junk $new"
	box "migrate_v0_${kind}_junk" Junk $junk
	v=$(user_version "$old/imapsift.db")
	[ "$v" = "$cur" ] && ok "migrate_v0_${kind}_version" ||
	    no "migrate_v0_${kind}_version" "user_version $v, want $cur"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
