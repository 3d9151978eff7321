/*
 * store.c: opening the database, its schema and migrations, the statement
 * cache and batches.
 *
 * The schema is versioned with PRAGMA user_version and marked as ours with
 * PRAGMA application_id.  migrations[v] brings version v to v + 1; an open
 * runs every step an older file needs inside one transaction, so shipping
 * version N + 1 is adding one function to that table.  A file marked by
 * another program, or with tables but no mark, is refused rather than
 * written to.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store-private.h"

#define STORE_APP_ID	0x69736674	/* "isft" */

struct store {
	sqlite3		*db;
	char		*path;
	int		 flags;
	int		 busy_ms;
	int		 full;	/* a write met a full disk: checkpoint */
	int		 busy;	/* the last failure was SQLITE_BUSY */
	sqlite3_stmt	*stmt[STORE_SQL_COUNT];
};

static void	verrf(char *, size_t, const char *, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));
static int	errf(char *, size_t, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------------ */
/* Errors.                                                             */

static void
verrf(char *err, size_t errlen, const char *path, const char *fmt,
    va_list ap)
{
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "store: %s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

static int
errf(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrf(err, errlen, path, fmt, ap);
	va_end(ap);
	return -1;
}

int
store_sql_failx(struct store *st, char *err, size_t errlen, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrf(err, errlen, st->path, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * SQLite words a failed system call only as "disk I/O error" or "unable
 * to open database file" (e.g. the -shm file cannot grow on a full disk,
 * or the -wal file cannot be made in a read-only directory): the cause,
 * the system's error, is added: "disk I/O error (No space left on
 * device)".  Other codes (SQLITE_FULL, SQLITE_READONLY, ...) say it all.
 * A read-write open that cannot open a file has opened the database
 * already (prepare_file()), so the -wal or -shm file failed; SQLite's
 * errno is then of its last, read-only attempt ("No such file or
 * directory"), or it falls back to a read-only -shm and says "attempt to
 * write a readonly database": the directory the two files are made in is
 * named instead when it cannot be written.
 */
static int
fail_db(struct store *st, const char *msg, char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	int code = sqlite3_extended_errcode(st->db) & 0xff, en;

	en = sqlite3_system_errno(st->db);
	if ((code == SQLITE_CANTOPEN || code == SQLITE_READONLY) &&
	    !(st->flags & STORE_RDONLY)) {
		snprintf(dir, sizeof(dir), "%s", st->path);
		slash = strrchr(dir, '/');
		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else
			slash[slash == dir] = '\0';
		if (access(dir, W_OK | X_OK) == -1)
			return store_sql_failx(st, err, errlen,
			    "%s (cannot create files in %s: %s)", msg, dir,
			    strerror(errno));
	}
	if (code == SQLITE_FULL || (code == SQLITE_IOERR && en == ENOSPC))
		st->full = 1;
	if ((code == SQLITE_IOERR || code == SQLITE_CANTOPEN) && en != 0)
		store_sql_failx(st, err, errlen, "%s (%s)", msg, strerror(en));
	else
		store_sql_failx(st, err, errlen, "%s", msg);
	if (st->full && sqlite3_get_autocommit(st->db))
		store_checkpoint(st);	/* in a batch: at its rollback */
	return -1;
}

/*
 * The WAL grows while readers keep old snapshots, and SQLite's own
 * checkpoint at each commit is PASSIVE: it never truncates the file, and
 * the one at close is skipped or fails when the disk is full, so the WAL
 * kept its size run after run.  TRUNCATE copies it into the database and
 * empties it; without waiting (a busy reader or writer makes it a no-op
 * until the next time).  Errors are ignored: it only frees space.
 */
void
store_checkpoint(struct store *st)
{
	if (st == NULL || st->db == NULL || (st->flags & STORE_RDONLY) ||
	    !sqlite3_get_autocommit(st->db))
		return;
	sqlite3_busy_timeout(st->db, 0);
	(void)sqlite3_wal_checkpoint_v2(st->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(st->db, st->busy_ms);
	st->full = 0;
}

int64_t
store_sql_changes(struct store *st)
{
	return (int64_t)sqlite3_changes(st->db);
}

int
store_sql_fail(struct store *st, char *err, size_t errlen)
{
	int code = sqlite3_extended_errcode(st->db) & 0xff;

	st->busy = code == SQLITE_BUSY || code == SQLITE_PROTOCOL;
	return fail_db(st, sqlite3_errmsg(st->db), err, errlen);
}

/* ------------------------------------------------------------------ */
/* The file: created 0600, never left readable by group or others.     */

static int
secure_fd(int fd, const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (fstat(fd, &sb) == -1)
		return errf(err, errlen, path, "%s", strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return errf(err, errlen, path, "not a regular file");
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) == 0)
		return 0;
	if (fchmod(fd, S_IRUSR | S_IWUSR) == -1)
		return errf(err, errlen, path,
		    "mode %03o lets others read it and chmod 0600 failed: %s",
		    (unsigned)(sb.st_mode & 0777), strerror(errno));
	return 0;
}

/* Opens path (O_NONBLOCK: a FIFO must not hang us) and secures it; a
 * missing file is 1 when may_miss, else an error. */
static int
secure_path(const char *path, int oflags, int may_miss, char *err,
    size_t errlen)
{
	int fd, rc;

	fd = open(path, oflags | O_CLOEXEC | O_NONBLOCK, S_IRUSR | S_IWUSR);
	if (fd == -1) {
		if (may_miss && errno == ENOENT)
			return 1;
		return errf(err, errlen, path, "%s", strerror(errno));
	}
	rc = secure_fd(fd, path, err, errlen);
	close(fd);
	return rc;
}

static int
prepare_file(const char *path, int rdonly, char *err, size_t errlen)
{
	static const char *const side[] = { "-wal", "-shm" };
	char name[PATH_MAX];
	size_t i;
	int n;

	if (secure_path(path, rdonly ? O_RDONLY : O_RDWR | O_CREAT, 0, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		n = snprintf(name, sizeof(name), "%s%s", path, side[i]);
		if (n < 0 || (size_t)n >= sizeof(name))
			return errf(err, errlen, path, "path too long");
		if (secure_path(name, O_RDONLY, 1, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* One-off statements at open time (pragmas, schema scripts).          */

/* Runs sql once; when it gives a row and n_r or text is not NULL, column 0
 * goes there. */
/*
 * sqlite3_step, tried again (up to STEP_TRIES times) while it answers
 * SQLITE_PROTOCOL outside a transaction: in WAL mode that is a read
 * transaction that could not start after SQLite's own ~10 s of retries,
 * because other processes kept checkpointing and restarting the WAL (seen
 * with three sweeps of one store under ASan).  SQLite's documentation
 * says to try again; outside a transaction the failed step did nothing.
 */
#define STEP_TRIES	5

static int
step(struct store *st, sqlite3_stmt *s)
{
	int rc, n = 0;

	for (;;) {
		rc = sqlite3_step(s);
		if ((rc & 0xff) != SQLITE_PROTOCOL || ++n >= STEP_TRIES ||
		    !sqlite3_get_autocommit(st->db))
			return rc;
		sqlite3_reset(s);
	}
}

static int
once(struct store *st, const char *sql, int64_t *n_r, char *text,
    size_t textsz, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_fail(st, err, errlen);
	rc = step(st, s);
	if (rc == SQLITE_ROW && n_r != NULL)
		*n_r = sqlite3_column_int64(s, 0);
	if (rc == SQLITE_ROW && text != NULL) {
		t = sqlite3_column_text(s, 0);
		snprintf(text, textsz, "%s", t != NULL ? (const char *)t : "");
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sql_fail(st, err, errlen);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static int
script(struct store *st, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		fail_db(st, msg != NULL ? msg : sqlite3_errstr(rc), err,
		    errlen);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Schema versions.                                                    */

static int
migrate_v1(struct store *st, char *err, size_t errlen)
{
	static const char sql[] =
	    "CREATE TABLE meta ("
	    " key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	    "CREATE TABLE source ("
	    " name TEXT PRIMARY KEY,"
	    " since INTEGER NOT NULL DEFAULT 0,"
	    " oldest INTEGER NOT NULL DEFAULT 0,"
	    " newest INTEGER NOT NULL DEFAULT 0,"
	    " count INTEGER NOT NULL DEFAULT 0);"
	    "CREATE TABLE sent ("
	    " key TEXT PRIMARY KEY,"
	    " date INTEGER NOT NULL DEFAULT 0,"
	    " source TEXT NOT NULL REFERENCES source(name)) WITHOUT ROWID;"
	    "CREATE INDEX sent_source ON sent(source);"
	    "CREATE TABLE correspondent ("
	    " addr TEXT PRIMARY KEY,"
	    " last_seen INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	    "CREATE TABLE mailbox ("
	    " account TEXT NOT NULL, name TEXT NOT NULL,"
	    " uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL,"
	    " updated INTEGER NOT NULL DEFAULT 0,"
	    " PRIMARY KEY (account, name)) WITHOUT ROWID;"
	    "CREATE TABLE action_log ("
	    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " time INTEGER NOT NULL,"
	    " account TEXT NOT NULL, mailbox TEXT NOT NULL,"
	    " uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,"
	    " msgid TEXT, dest TEXT NOT NULL, verdict TEXT NOT NULL,"
	    " reasons TEXT NOT NULL DEFAULT '',"
	    " state TEXT NOT NULL CHECK (state IN"
	    "  ('pending', 'done', 'failed', 'undone')),"
	    " new_uid INTEGER, error TEXT, undone_time INTEGER);"
	    "CREATE INDEX action_log_msgid ON action_log(account, msgid);"
	    "CREATE INDEX action_log_time ON action_log(time);"
	    "CREATE TABLE fp_evidence ("
	    " kind TEXT NOT NULL, value TEXT NOT NULL,"
	    " count INTEGER NOT NULL,"
	    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	    " PRIMARY KEY (kind, value)) WITHOUT ROWID;";

	return script(st, sql, err, errlen);
}

/*
 * Version 2: learned indicators.  learned holds one row per (kind, value)
 * seen in spam, with its evidence; learned_msg one row per spam message
 * learned from (deduplicated by Message-ID), learned_src links an entry
 * to at most STORE_LEARN_SRCMAX of its messages (for distinct senders and
 * explain).  fp_evidence, from version 1, is the ham evidence; seen_msg
 * the Message-IDs of mail sweep left in a watched mailbox (so a copy that
 * turns up in Junk was moved there by the user).  meta
 * "learn_gen" counts changes to either, so a reader reloads its active
 * set only when it moved.
 */
static int
migrate_v2(struct store *st, char *err, size_t errlen)
{
	static const char sql[] =
	    "CREATE TABLE learned ("
	    " id INTEGER PRIMARY KEY,"
	    " kind TEXT NOT NULL, value TEXT NOT NULL,"
	    " spam INTEGER NOT NULL DEFAULT 0,"
	    " senders INTEGER NOT NULL DEFAULT 0,"
	    " manual INTEGER NOT NULL DEFAULT 0,"
	    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	    " UNIQUE (kind, value));"
	    "CREATE INDEX learned_active ON learned(senders, manual);"
	    "CREATE TABLE learned_msg ("
	    " id INTEGER PRIMARY KEY,"
	    " msgid TEXT UNIQUE, sender TEXT, source TEXT NOT NULL,"
	    " time INTEGER NOT NULL, manual INTEGER NOT NULL DEFAULT 0);"
	    "CREATE TABLE learned_src ("
	    " entry INTEGER NOT NULL REFERENCES learned(id) ON DELETE CASCADE,"
	    " msg INTEGER NOT NULL REFERENCES learned_msg(id),"
	    " PRIMARY KEY (entry, msg)) WITHOUT ROWID;"
	    "CREATE TABLE seen_msg ("
	    " account TEXT NOT NULL, key TEXT NOT NULL,"
	    " time INTEGER NOT NULL,"
	    " PRIMARY KEY (account, key)) WITHOUT ROWID;"
	    "INSERT OR IGNORE INTO meta (key, value) VALUES ('learn_gen', 0);"
	    "CREATE TRIGGER learn_gen_fp AFTER INSERT ON fp_evidence BEGIN"
	    " UPDATE meta SET value = value + 1 WHERE key = 'learn_gen'; END;"
	    "CREATE TRIGGER learn_gen_del AFTER DELETE ON learned BEGIN"
	    " UPDATE meta SET value = value + 1 WHERE key = 'learn_gen'; END;";

	return script(st, sql, err, errlen);
}

/*
 * Version 3: URI DNS blocklists.  dnsbl_cache keeps each answer until
 * its TTL runs out (addr 0: not listed, NXDOMAIN or no A record), so a
 * later run asks the zone again only then; dnsbl_zone the zones resting
 * after an error answer, until when and why.
 */
static int
migrate_v3(struct store *st, char *err, size_t errlen)
{
	static const char sql[] =
	    "CREATE TABLE dnsbl_cache ("
	    " zone TEXT NOT NULL, domain TEXT NOT NULL,"
	    " addr INTEGER NOT NULL, expires INTEGER NOT NULL,"
	    " PRIMARY KEY (zone, domain)) WITHOUT ROWID;"
	    "CREATE TABLE dnsbl_zone ("
	    " zone TEXT PRIMARY KEY,"
	    " since INTEGER NOT NULL, until INTEGER NOT NULL,"
	    " reason TEXT NOT NULL) WITHOUT ROWID;";

	return script(st, sql, err, errlen);
}

/* migrations[v] upgrades version v to v + 1. */
static int (*const migrations[])(struct store *, char *, size_t) = {
	migrate_v1,
	migrate_v2,
	migrate_v3,
};

#define SCHEMA_VERSION	((int64_t)(sizeof(migrations) / sizeof(migrations[0])))

/* Reads the version of the file and refuses what is not ours or too new. */
static int
schema_version(struct store *st, int64_t *ver_r, char *err, size_t errlen)
{
	int64_t app = 0, ver = 0, nobj = 0;

	if (once(st, "PRAGMA application_id", &app, NULL, 0, err,
	    errlen) == -1 ||
	    once(st, "PRAGMA user_version", &ver, NULL, 0, err, errlen) == -1 ||
	    once(st, "SELECT count(*) FROM sqlite_master", &nobj, NULL, 0,
	    err, errlen) == -1)
		return -1;
	if (app != 0 && app != STORE_APP_ID)
		return store_sql_failx(st, err, errlen,
		    "not an imapsift store (application_id %#llx)",
		    (unsigned long long)app);
	if (app == 0 && nobj > 0)
		return store_sql_failx(st, err, errlen,
		    "not an imapsift store (tables but no imapsift mark)");
	if (ver < 0 || ver > SCHEMA_VERSION)
		return store_sql_failx(st, err, errlen,
		    "schema version %lld is newer than this imapsift knows "
		    "(%lld); use a newer imapsift", (long long)ver,
		    (long long)SCHEMA_VERSION);
	*ver_r = ver;
	return 0;
}

/* Upgrades to SCHEMA_VERSION inside a write transaction, reading the
 * version again under the lock: another process may have done it. */
static int
migrate(struct store *st, char *err, size_t errlen)
{
	char sql[64];
	int64_t v;

	if (once(st, "BEGIN IMMEDIATE", NULL, NULL, 0, err, errlen) == -1)
		return -1;
	if (schema_version(st, &v, err, errlen) == -1)
		goto fail;
	for (; v < SCHEMA_VERSION; v++)
		if (migrations[v](st, err, errlen) == -1)
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
	    (long long)SCHEMA_VERSION);
	if (once(st, sql, NULL, NULL, 0, err, errlen) == -1)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", STORE_APP_ID);
	if (once(st, sql, NULL, NULL, 0, err, errlen) == -1 ||
	    once(st, "COMMIT", NULL, NULL, 0, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	if (!sqlite3_get_autocommit(st->db))
		once(st, "ROLLBACK", NULL, NULL, 0, NULL, 0);
	return -1;
}

static int
check_schema(struct store *st, char *err, size_t errlen)
{
	int64_t v;
	int r;

	/* One read transaction: the mark, the version and the tables read
	 * from one snapshot.  Read one by one, a second process committing
	 * a new store's first migration in between made a new store look
	 * like "tables but no imapsift mark". */
	if (once(st, "BEGIN", NULL, NULL, 0, err, errlen) == -1)
		return -1;
	r = schema_version(st, &v, err, errlen);
	if (once(st, "COMMIT", NULL, NULL, 0, r == -1 ? NULL : err,
	    r == -1 ? 0 : errlen) == -1)
		r = -1;
	if (r == -1)
		return -1;
	if (v == SCHEMA_VERSION)
		return 0;
	if (st->flags & STORE_RDONLY)
		return store_sql_failx(st, err, errlen,
		    "schema version %lld is older than %lld: open it once "
		    "read-write to upgrade", (long long)v,
		    (long long)SCHEMA_VERSION);
	return migrate(st, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Opening and closing.                                                */

static int
configure(struct store *st, int busy_ms, char *err, size_t errlen)
{
	char mode[16];

	sqlite3_extended_result_codes(st->db, 1);
	st->busy_ms = busy_ms > 0 ? busy_ms : STORE_BUSY_MS;
	sqlite3_busy_timeout(st->db, st->busy_ms);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    (int *)NULL);
	if (once(st, "PRAGMA foreign_keys = ON", NULL, NULL, 0, err,
	    errlen) == -1 ||
	    once(st, "PRAGMA synchronous = NORMAL", NULL, NULL, 0, err,
	    errlen) == -1)
		return -1;
	if (st->flags & STORE_RDONLY)
		return 0;
	if (once(st, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode),
	    err, errlen) == -1)
		return -1;
	if (strcmp(mode, "wal") != 0)
		return store_sql_failx(st, err, errlen,
		    "cannot use WAL journal mode (got \"%s\")", mode);
	return 0;
}

/*
 * configure() and check_schema(), tried again while they meet SQLITE_BUSY
 * (or SQLITE_PROTOCOL) for up to the busy timeout.  Processes opening one new store at once
 * (three sweeps of a new config) race to switch it to WAL and to create
 * its tables, and SQLite answers some of those steps "database is locked"
 * at once rather than calling the busy handler.
 */
static int
open_schema(struct store *st, int busy_ms, char *err, size_t errlen)
{
	struct timespec t0, now, nap = { 0, 0 };
	long waited;
	int tries = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		st->busy = 0;
		if (configure(st, busy_ms, err, errlen) == 0 &&
		    check_schema(st, err, errlen) == 0)
			return 0;
		if (!st->busy)
			return -1;
		if (!sqlite3_get_autocommit(st->db))
			once(st, "ROLLBACK", NULL, NULL, 0, NULL, 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - t0.tv_sec) * 1000 +
		    (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (waited >= st->busy_ms)
			return -1;
		/* 1, 2, 4 ... 64 ms, so the openers fall out of step */
		nap.tv_nsec = (1L << (tries < 6 ? tries : 6)) * 1000000L;
		tries++;
		nanosleep(&nap, NULL);
	}
}

int
store_open(struct store **st_r, const char *path, int flags, int busy_ms,
    char *err, size_t errlen)
{
	struct store *st;
	int oflags, rdonly = (flags & STORE_RDONLY) != 0;

	*st_r = NULL;
	if (path == NULL || *path == '\0') {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "store: no database path");
		return -1;
	}
	if (prepare_file(path, rdonly, err, errlen) == -1)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st != NULL)
		st->path = strdup(path);
	if (st == NULL || st->path == NULL) {
		free(st);
		return errf(err, errlen, path, "out of memory");
	}
	st->flags = flags;
	oflags = (rdonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
	    SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		if (st->db == NULL)
			errf(err, errlen, path, "out of memory");
		else
			store_sql_fail(st, err, errlen);
		store_close(&st);
		return -1;
	}
	if (open_schema(st, busy_ms, err, errlen) == -1) {
		store_close(&st);
		return -1;
	}
	*st_r = st;
	return 0;
}

void
store_close(struct store **stp)
{
	struct store *st = *stp;
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < STORE_SQL_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	store_checkpoint(st);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
	*stp = NULL;
}

/* ------------------------------------------------------------------ */
/* The statement cache.                                                */

struct sqlite3_stmt *
store_sql_stmt(struct store *st, enum store_sql slot, const char *sql,
    char *err, size_t errlen)
{
	if ((unsigned)slot >= STORE_SQL_COUNT) {
		store_sql_failx(st, err, errlen, "bad statement slot %u",
		    (unsigned)slot);
		return NULL;
	}
	if (st->stmt[slot] != NULL)
		return st->stmt[slot];
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st->stmt[slot], NULL) != SQLITE_OK) {
		store_sql_fail(st, err, errlen);
		sqlite3_finalize(st->stmt[slot]);
		st->stmt[slot] = NULL;
		return NULL;
	}
	return st->stmt[slot];
}

void
store_sql_reset(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int
store_sql_bind_failed(struct store *st, sqlite3_stmt *s, char *err,
    size_t errlen)
{
	store_sql_fail(st, err, errlen);
	store_sql_reset(s);
	return -1;
}

int
store_sql_step(struct store *st, sqlite3_stmt *s, char *err, size_t errlen)
{
	int rc;

	rc = step(st, s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		store_sql_fail(st, err, errlen);
	store_sql_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_sql_exec(struct store *st, sqlite3_stmt *s, char *err, size_t errlen)
{
	int rc;

	rc = store_sql_step(st, s, err, errlen);
	if (rc == 1)
		store_sql_reset(s);
	return rc == -1 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Batches, and the atomic steps of one call.                          */

static int
tx(struct store *st, enum store_sql slot, char *err, size_t errlen)
{
	static const char *const sql[] = {
		[STORE_SQL_BEGIN] = "BEGIN IMMEDIATE",
		[STORE_SQL_COMMIT] = "COMMIT",
		[STORE_SQL_ROLLBACK] = "ROLLBACK",
		[STORE_SQL_SAVEPOINT] = "SAVEPOINT store_op",
		[STORE_SQL_RELEASE] = "RELEASE store_op",
		[STORE_SQL_ROLLBACK_TO] = "ROLLBACK TO store_op",
		[STORE_SQL_BEGIN_READ] = "BEGIN DEFERRED",
	};
	sqlite3_stmt *s;

	s = store_sql_stmt(st, slot, sql[slot], err, errlen);
	if (s == NULL)
		return -1;
	return store_sql_exec(st, s, err, errlen);
}

int
store_begin(struct store *st, char *err, size_t errlen)
{
	if (st->flags & STORE_RDONLY)
		return store_sql_failx(st, err, errlen,
		    "cannot write: opened read-only");
	if (!sqlite3_get_autocommit(st->db))
		return store_sql_failx(st, err, errlen,
		    "a transaction is already open");
	return tx(st, STORE_SQL_BEGIN, err, errlen);
}

int
store_commit(struct store *st, char *err, size_t errlen)
{
	if (sqlite3_get_autocommit(st->db))
		return store_sql_failx(st, err, errlen,
		    "no transaction is open");
	if (tx(st, STORE_SQL_COMMIT, err, errlen) == 0)
		return 0;
	if (!sqlite3_get_autocommit(st->db))
		tx(st, STORE_SQL_ROLLBACK, NULL, 0);
	if (st->full)
		store_checkpoint(st);
	return -1;
}

int
store_rollback(struct store *st, char *err, size_t errlen)
{
	int r;

	if (sqlite3_get_autocommit(st->db))
		r = 0;
	else
		r = tx(st, STORE_SQL_ROLLBACK, err, errlen);
	if (st->full)
		store_checkpoint(st);
	return r;
}

int
store_read_begin(struct store *st, char *err, size_t errlen)
{
	if (!sqlite3_get_autocommit(st->db))
		return store_sql_failx(st, err, errlen,
		    "a transaction is already open");
	return tx(st, STORE_SQL_BEGIN_READ, err, errlen);
}

int
store_read_end(struct store *st, char *err, size_t errlen)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;
	return tx(st, STORE_SQL_COMMIT, err, errlen);
}

int
store_sql_op_begin(struct store *st, int *own_r, char *err, size_t errlen)
{
	*own_r = sqlite3_get_autocommit(st->db) != 0;
	return tx(st, *own_r ? STORE_SQL_BEGIN : STORE_SQL_SAVEPOINT, err,
	    errlen);
}

int
store_sql_op_end(struct store *st, int own, int ok, char *err, size_t errlen)
{
	if (ok && own)
		return store_commit(st, err, errlen);
	if (ok)
		return tx(st, STORE_SQL_RELEASE, err, errlen);
	/* SQLite may already have ended the transaction on this error. */
	if (sqlite3_get_autocommit(st->db))
		return -1;
	if (own)
		tx(st, STORE_SQL_ROLLBACK, NULL, 0);
	else if (tx(st, STORE_SQL_ROLLBACK_TO, NULL, 0) == 0)
		tx(st, STORE_SQL_RELEASE, NULL, 0);
	return -1;
}
