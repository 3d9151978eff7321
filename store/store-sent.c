/*
 * store-sent.c: the Message-IDs of sent mail, the period they cover, and
 * the people the user writes to.
 *
 * Coverage is kept per source (an mbox, a Sent folder) as the oldest and
 * newest date seen plus the date a harvest started from, and summed up as
 * the hull over all sources: it answers "could this ID be here?", which
 * is what turns "not in the store" into proof.
 */
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store-private.h"

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Runs slot's sql with ?1 = text and ?2 = number. */
static int
exec_tn(struct store *st, enum store_sql slot, const char *sql,
    const char *text, int64_t n, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	s = store_sql_stmt(st, slot, sql, err, errlen);
	if (s == NULL)
		return -1;
	rc = bind_text(s, 1, text);
	rc |= sqlite3_bind_int64(s, 2, n);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	return store_sql_exec(st, s, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Sent Message-IDs.                                                   */

static int
sent_add_steps(struct store *st, const char *key, int64_t date,
    const char *source, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int added, rc;

	if (exec_tn(st, STORE_SQL_SOURCE_ENSURE,
	    "INSERT INTO source (name, since) VALUES (?1, ?2)"
	    " ON CONFLICT (name) DO NOTHING", source, 0, err, errlen) == -1)
		return -1;
	s = store_sql_stmt(st, STORE_SQL_SENT_INSERT,
	    "INSERT INTO sent (key, date, source) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (key) DO NOTHING", err, errlen);
	if (s == NULL)
		return -1;
	rc = bind_text(s, 1, key);
	rc |= sqlite3_bind_int64(s, 2, date);
	rc |= bind_text(s, 3, source);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	if (store_sql_exec(st, s, err, errlen) == -1)
		return -1;
	added = sqlite3_changes(sqlite3_db_handle(s)) > 0;
	if (!added && date != 0 && exec_tn(st, STORE_SQL_SENT_FIXDATE,
	    "UPDATE sent SET date = ?2 WHERE key = ?1 AND date = 0",
	    key, date, err, errlen) == -1)
		return -1;
	s = store_sql_stmt(st, STORE_SQL_SOURCE_SEEN,
	    "UPDATE source SET count = count + ?2,"
	    " oldest = CASE WHEN ?3 = 0 THEN oldest"
	    "  WHEN oldest = 0 OR ?3 < oldest THEN ?3 ELSE oldest END,"
	    " newest = max(newest, ?3) WHERE name = ?1", err, errlen);
	if (s == NULL)
		return -1;
	rc = bind_text(s, 1, source);
	rc |= sqlite3_bind_int(s, 2, added);
	rc |= sqlite3_bind_int64(s, 3, date);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	return store_sql_exec(st, s, err, errlen);
}

int
store_sent_add(struct store *st, const char *msgid, time_t date,
    const char *source, char *err, size_t errlen)
{
	char key[STORE_MSGID_MAX];
	int own, ok;

	if (store_msgid_key(msgid, key, sizeof(key)) == -1)
		return store_sql_failx(st, err, errlen, "invalid Message-ID");
	if (source == NULL || *source == '\0')
		return store_sql_failx(st, err, errlen, "empty sent source");
	if (store_sql_op_begin(st, &own, err, errlen) == -1)
		return -1;
	ok = sent_add_steps(st, key, date > 0 ? (int64_t)date : 0, source,
	    err, errlen) == 0;
	return store_sql_op_end(st, own, ok, err, errlen);
}

int
store_sent_has(struct store *st, const char *msgid, char *err,
    size_t errlen)
{
	char key[STORE_MSGID_MAX];
	sqlite3_stmt *s;
	int rc;

	if (store_msgid_key(msgid, key, sizeof(key)) == -1)
		return store_sql_failx(st, err, errlen, "invalid Message-ID");
	s = store_sql_stmt(st, STORE_SQL_SENT_HAS,
	    "SELECT 1 FROM sent WHERE key = ?1", err, errlen);
	if (s == NULL)
		return -1;
	if (bind_text(s, 1, key) != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc == 1)
		store_sql_reset(s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Coverage.                                                           */

int
store_coverage(struct store *st, time_t *oldest_r, time_t *newest_r,
    int *complete_r, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	s = store_sql_stmt(st, STORE_SQL_COVERAGE,
	    "SELECT"
	    " (SELECT min(o) FROM (SELECT CASE"
	    "   WHEN since > 0 AND (oldest = 0 OR since < oldest) THEN since"
	    "   ELSE oldest END AS o FROM source) WHERE o > 0),"
	    " (SELECT max(newest) FROM source),"
	    " (SELECT value FROM meta WHERE key = 'complete')", err, errlen);
	if (s == NULL)
		return -1;
	rc = store_sql_step(st, s, err, errlen);
	if (rc == -1)
		return -1;
	if (oldest_r != NULL)
		*oldest_r = rc == 1 ? (time_t)sqlite3_column_int64(s, 0) : 0;
	if (newest_r != NULL)
		*newest_r = rc == 1 ? (time_t)sqlite3_column_int64(s, 1) : 0;
	if (complete_r != NULL)
		*complete_r = rc == 1 && sqlite3_column_int(s, 2) != 0;
	if (rc == 1)
		store_sql_reset(s);
	return 0;
}

int
store_set_complete(struct store *st, int complete, char *err, size_t errlen)
{
	return exec_tn(st, STORE_SQL_META_SET,
	    "INSERT INTO meta (key, value) VALUES (?1, ?2)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	    "complete", complete != 0, err, errlen);
}

int
store_source_since(struct store *st, const char *source, time_t since,
    char *err, size_t errlen)
{
	if (source == NULL || *source == '\0')
		return store_sql_failx(st, err, errlen, "empty sent source");
	return exec_tn(st, STORE_SQL_SOURCE_SINCE,
	    "INSERT INTO source (name, since) VALUES (?1, ?2)"
	    " ON CONFLICT (name) DO UPDATE SET since = excluded.since",
	    source, since > 0 ? (int64_t)since : 0, err, errlen);
}

int
store_source_get(struct store *st, const char *source,
    struct store_source *src_r, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	memset(src_r, 0, sizeof(*src_r));
	if (source == NULL)
		return store_sql_failx(st, err, errlen, "empty sent source");
	s = store_sql_stmt(st, STORE_SQL_SOURCE_GET,
	    "SELECT since, oldest, newest, count FROM source WHERE name = ?1",
	    err, errlen);
	if (s == NULL)
		return -1;
	if (bind_text(s, 1, source) != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc != 1)
		return rc;
	src_r->since = (time_t)sqlite3_column_int64(s, 0);
	src_r->oldest = (time_t)sqlite3_column_int64(s, 1);
	src_r->newest = (time_t)sqlite3_column_int64(s, 2);
	src_r->count = sqlite3_column_int64(s, 3);
	store_sql_reset(s);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Correspondents.                                                     */

static int
addr_key(struct store *st, const char *addr, char *key, size_t keysz,
    char *err, size_t errlen)
{
	char *p;

	if (store_msgid_key(addr, key, keysz) == -1)
		return store_sql_failx(st, err, errlen, "invalid address");
	for (p = key; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

int
store_correspondent_add(struct store *st, const char *addr, time_t date,
    char *err, size_t errlen)
{
	char key[STORE_MSGID_MAX];

	if (addr_key(st, addr, key, sizeof(key), err, errlen) == -1)
		return -1;
	return exec_tn(st, STORE_SQL_CORR_ADD,
	    "INSERT INTO correspondent (addr, last_seen) VALUES (?1, ?2)"
	    " ON CONFLICT (addr) DO UPDATE"
	    " SET last_seen = max(last_seen, excluded.last_seen)",
	    key, date > 0 ? (int64_t)date : 0, err, errlen);
}

int
store_correspondent_has(struct store *st, const char *addr,
    time_t *last_seen_r, char *err, size_t errlen)
{
	char key[STORE_MSGID_MAX];
	sqlite3_stmt *s;
	int rc;

	if (last_seen_r != NULL)
		*last_seen_r = 0;
	if (addr_key(st, addr, key, sizeof(key), err, errlen) == -1)
		return -1;
	s = store_sql_stmt(st, STORE_SQL_CORR_HAS,
	    "SELECT last_seen FROM correspondent WHERE addr = ?1", err,
	    errlen);
	if (s == NULL)
		return -1;
	if (bind_text(s, 1, key) != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc != 1)
		return rc;
	if (last_seen_r != NULL)
		*last_seen_r = (time_t)sqlite3_column_int64(s, 0);
	store_sql_reset(s);
	return 1;
}

int
store_correspondent_each(struct store *st,
    void (*fn)(void *ctx, const char *addr), void *ctx, char *err,
    size_t errlen)
{
	sqlite3_stmt *s;
	int n = 0, rc;

	s = store_sql_stmt(st, STORE_SQL_CORR_EACH,
	    "SELECT addr FROM correspondent", err, errlen);
	if (s == NULL)
		return -1;
	while ((rc = store_sql_step(st, s, err, errlen)) == 1) {
		fn(ctx, (const char *)sqlite3_column_text(s, 0));
		n++;
	}
	return rc == -1 ? -1 : n;
}
