/*
 * store-learn.c: false-positive evidence, the indicators found on messages
 * the user rescued from Junk or Backscatter or keeps (the ham evidence),
 * counted per (kind, value) so the rules can weigh an indicator that keeps
 * hitting wanted mail; and the learned indicators, with the spam messages
 * they were learned from.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store-private.h"

static int
check_indicator(struct store *st, const char *kind, const char *value,
    int value_may_be_null, char *err, size_t errlen)
{
	if (kind == NULL || *kind == '\0')
		return store_sql_failx(st, err, errlen,
		    "empty indicator kind");
	if (value == NULL && value_may_be_null)
		return 0;
	if (value == NULL || *value == '\0')
		return store_sql_failx(st, err, errlen,
		    "empty indicator value");
	return 0;
}

int
store_fp_add(struct store *st, const char *kind, const char *value,
    time_t when, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (check_indicator(st, kind, value, 0, err, errlen) == -1)
		return -1;
	s = store_sql_stmt(st, STORE_SQL_FP_ADD,
	    "INSERT INTO fp_evidence (kind, value, count, first_seen,"
	    " last_seen) VALUES (?1, ?2, 1, ?3, ?3)"
	    " ON CONFLICT (kind, value) DO UPDATE SET count = count + 1,"
	    " last_seen = max(last_seen, excluded.last_seen)", err, errlen);
	if (s == NULL)
		return -1;
	rc = sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(s, 3,
	    when > 0 ? (int64_t)when : (int64_t)time(NULL));
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	return store_sql_exec(st, s, err, errlen);
}

int
store_fp_count(struct store *st, const char *kind, const char *value,
    int64_t *n_r, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	*n_r = 0;
	if (check_indicator(st, kind, value, 1, err, errlen) == -1)
		return -1;
	if (value != NULL)
		s = store_sql_stmt(st, STORE_SQL_FP_GET,
		    "SELECT count FROM fp_evidence"
		    " WHERE kind = ?1 AND value = ?2", err, errlen);
	else
		s = store_sql_stmt(st, STORE_SQL_FP_KIND,
		    "SELECT count(*) FROM fp_evidence WHERE kind = ?1", err,
		    errlen);
	if (s == NULL)
		return -1;
	rc = sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	if (value != NULL)
		rc |= sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc != 1)
		return rc;
	*n_r = sqlite3_column_int64(s, 0);
	store_sql_reset(s);
	return 0;
}

int
store_fp_has(struct store *st, const char *kind, const char *value,
    char *err, size_t errlen)
{
	int64_t n;

	if (value == NULL)
		return check_indicator(st, kind, value, 0, err, errlen);
	if (store_fp_count(st, kind, value, &n, err, errlen) == -1)
		return -1;
	return n > 0;
}

/* ------------------------------------------------------------------ */
/* Learned indicators.                                                 */

static int64_t
when_or_now(time_t when)
{
	return when > 0 ? (int64_t)when : (int64_t)time(NULL);
}

static int
bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL || *v == '\0')
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

int
store_learn_msg(struct store *st, struct store_learn_msg *m, char *err,
    size_t errlen)
{
	char key[STORE_MSGID_MAX];
	sqlite3_stmt *s;
	int rc;

	m->id = 0;
	if (m->source == NULL || *m->source == '\0')
		return store_sql_failx(st, err, errlen,
		    "learned message without a source");
	if (m->msgid == NULL ||
	    store_msgid_key(m->msgid, key, sizeof(key)) == -1)
		key[0] = '\0';
	s = store_sql_stmt(st, STORE_SQL_LEARN_MSG,
	    "INSERT INTO learned_msg (msgid, sender, source, time, manual)"
	    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (msgid) DO NOTHING"
	    " RETURNING id", err, errlen);
	if (s == NULL)
		return -1;
	rc = bind_text_or_null(s, 1, key);
	rc |= bind_text_or_null(s, 2, m->sender);
	rc |= sqlite3_bind_text(s, 3, m->source, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(s, 4, when_or_now(m->when));
	rc |= sqlite3_bind_int(s, 5, m->manual != 0);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc != 1)
		return rc;
	m->id = sqlite3_column_int64(s, 0);
	/* RETURNING: the row is written when the statement completes. */
	while (sqlite3_step(s) == SQLITE_ROW)
		;
	store_sql_reset(s);
	return 1;
}

static int
gen_bump(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;

	s = store_sql_stmt(st, STORE_SQL_LEARN_GEN_BUMP,
	    "UPDATE meta SET value = value + 1 WHERE key = 'learn_gen'", err,
	    errlen);
	if (s == NULL)
		return -1;
	return store_sql_exec(st, s, err, errlen);
}

/* The steps of store_learn_add inside its transaction. */
static int
learn_add(struct store *st, const struct store_learn_msg *m,
    const char *kind, const char *value, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int64_t id, senders, nsrc;
	int rc, manual, newsender;

	s = store_sql_stmt(st, STORE_SQL_LEARN_UPSERT,
	    "INSERT INTO learned (kind, value, spam, senders, manual,"
	    " first_seen, last_seen) VALUES (?1, ?2, 1, 0, ?3, ?4, ?4)"
	    " ON CONFLICT (kind, value) DO UPDATE SET spam = spam + 1,"
	    " manual = max(manual, excluded.manual),"
	    " first_seen = min(first_seen, excluded.first_seen),"
	    " last_seen = max(last_seen, excluded.last_seen)"
	    " RETURNING id, senders", err, errlen);
	if (s == NULL)
		return -1;
	rc = sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(s, 3, m->manual != 0);
	rc |= sqlite3_bind_int64(s, 4, when_or_now(m->when));
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	if ((rc = store_sql_step(st, s, err, errlen)) != 1)
		return rc == 0 ? store_sql_failx(st, err, errlen,
		    "learned entry not written") : -1;
	id = sqlite3_column_int64(s, 0);
	senders = sqlite3_column_int64(s, 1);
	while (sqlite3_step(s) == SQLITE_ROW)
		;
	store_sql_reset(s);

	/* Is m's sender new to this entry's kept sources? */
	newsender = senders == 0;
	if (!newsender && m->sender != NULL && *m->sender != '\0') {
		s = store_sql_stmt(st, STORE_SQL_LEARN_SENDER,
		    "SELECT 1 FROM learned_src s JOIN learned_msg m"
		    " ON m.id = s.msg WHERE s.entry = ?1 AND m.sender = ?2"
		    " LIMIT 1", err, errlen);
		if (s == NULL)
			return -1;
		rc = sqlite3_bind_int64(s, 1, id);
		rc |= sqlite3_bind_text(s, 2, m->sender, -1, SQLITE_STATIC);
		if (rc != SQLITE_OK)
			return store_sql_bind_failed(st, s, err, errlen);
		if ((rc = store_sql_step(st, s, err, errlen)) == -1)
			return -1;
		if (rc == 1)
			store_sql_reset(s);
		newsender = rc == 0;
	}
	s = store_sql_stmt(st, STORE_SQL_LEARN_NSRC,
	    "SELECT count(*) FROM learned_src WHERE entry = ?1", err, errlen);
	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	if ((rc = store_sql_step(st, s, err, errlen)) != 1)
		return -1;
	nsrc = sqlite3_column_int64(s, 0);
	store_sql_reset(s);
	if (nsrc < STORE_LEARN_SRCMAX) {
		s = store_sql_stmt(st, STORE_SQL_LEARN_LINK,
		    "INSERT OR IGNORE INTO learned_src (entry, msg)"
		    " VALUES (?1, ?2)", err, errlen);
		if (s == NULL)
			return -1;
		rc = sqlite3_bind_int64(s, 1, id);
		rc |= sqlite3_bind_int64(s, 2, m->id);
		if (rc != SQLITE_OK)
			return store_sql_bind_failed(st, s, err, errlen);
		if (store_sql_exec(st, s, err, errlen) == -1)
			return -1;
	}
	if (newsender) {
		s = store_sql_stmt(st, STORE_SQL_LEARN_SENDERS,
		    "UPDATE learned SET senders = senders + 1 WHERE id = ?1",
		    err, errlen);
		if (s == NULL)
			return -1;
		if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK)
			return store_sql_bind_failed(st, s, err, errlen);
		if (store_sql_exec(st, s, err, errlen) == -1)
			return -1;
	}
	manual = m->manual != 0;
	/* The active set can change only when an entry reaches its
	 * evidence: a second sender, or a manual sighting. */
	if ((newsender && senders + 1 == 2) || manual)
		return gen_bump(st, err, errlen);
	return 0;
}

int
store_learn_add(struct store *st, const struct store_learn_msg *m,
    const char *kind, const char *value, char *err, size_t errlen)
{
	int own, ok;

	if (check_indicator(st, kind, value, 0, err, errlen) == -1)
		return -1;
	if (m->id <= 0)
		return store_sql_failx(st, err, errlen,
		    "learned indicator of an unrecorded message");
	if (store_sql_op_begin(st, &own, err, errlen) == -1)
		return -1;
	ok = learn_add(st, m, kind, value, err, errlen) == 0;
	return store_sql_op_end(st, own, ok, err, errlen);
}

long
store_learned_each(struct store *st, const struct store_learned_filter *f,
    int (*fn)(void *ctx, const struct store_learned *e), void *ctx,
    char *err, size_t errlen)
{
	static const struct store_learned_filter all;
	struct store_learned e;
	sqlite3_stmt *s;
	long n = 0;
	int rc;

	if (f == NULL)
		f = &all;
	s = store_sql_stmt(st, STORE_SQL_LEARN_EACH,
	    "SELECT id, kind, value, spam, senders, manual, first_seen,"
	    " last_seen, ham FROM (SELECT l.*, EXISTS (SELECT 1 FROM"
	    " fp_evidence f WHERE f.kind = l.kind AND f.value = l.value)"
	    " AS ham FROM learned l"
	    " WHERE (?1 IS NULL OR l.kind = ?1)"
	    " AND (?2 IS NULL OR l.value = ?2)"
	    " AND (?3 = 0 OR ((l.senders >= 2 OR l.manual)"
	    "  AND l.last_seen >= ?4)))"
	    " WHERE ?3 = 0 OR ham = 0 ORDER BY kind, value", err, errlen);
	if (s == NULL)
		return -1;
	rc = bind_text_or_null(s, 1, f->kind);
	rc |= bind_text_or_null(s, 2, f->value);
	rc |= sqlite3_bind_int(s, 3, f->active_only != 0);
	rc |= sqlite3_bind_int64(s, 4, (int64_t)f->idle_cutoff);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	while ((rc = store_sql_step(st, s, err, errlen)) == 1) {
		memset(&e, 0, sizeof(e));
		e.id = sqlite3_column_int64(s, 0);
		e.kind = (const char *)sqlite3_column_text(s, 1);
		e.value = (const char *)sqlite3_column_text(s, 2);
		e.spam = sqlite3_column_int64(s, 3);
		e.senders = sqlite3_column_int64(s, 4);
		e.manual = sqlite3_column_int(s, 5);
		e.first_seen = (time_t)sqlite3_column_int64(s, 6);
		e.last_seen = (time_t)sqlite3_column_int64(s, 7);
		e.ham = sqlite3_column_int(s, 8);
		e.active = !e.ham && (e.senders >= 2 || e.manual) &&
		    e.last_seen >= f->idle_cutoff;
		n++;
		if (fn != NULL && fn(ctx, &e) != 0) {
			store_sql_reset(s);
			return n;
		}
	}
	return rc == -1 ? -1 : n;
}

long
store_learned_sources(struct store *st, const char *kind, const char *value,
    void (*fn)(void *ctx, const struct store_learned_src *src), void *ctx,
    char *err, size_t errlen)
{
	struct store_learned_src src;
	sqlite3_stmt *s;
	long n = 0;
	int rc;

	if (check_indicator(st, kind, value, 0, err, errlen) == -1)
		return -1;
	s = store_sql_stmt(st, STORE_SQL_LEARN_SOURCES,
	    "SELECT m.msgid, m.sender, m.source, m.time, m.manual"
	    " FROM learned l JOIN learned_src s ON s.entry = l.id"
	    " JOIN learned_msg m ON m.id = s.msg"
	    " WHERE l.kind = ?1 AND l.value = ?2 ORDER BY m.time, m.id",
	    err, errlen);
	if (s == NULL)
		return -1;
	rc = sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	while ((rc = store_sql_step(st, s, err, errlen)) == 1) {
		src.msgid = (const char *)sqlite3_column_text(s, 0);
		src.sender = (const char *)sqlite3_column_text(s, 1);
		src.source = (const char *)sqlite3_column_text(s, 2);
		src.time = (time_t)sqlite3_column_int64(s, 3);
		src.manual = sqlite3_column_int(s, 4);
		fn(ctx, &src);
		n++;
	}
	return rc == -1 ? -1 : n;
}

long
store_learned_forget(struct store *st, const char *kind, const char *value,
    char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (value == NULL || *value == '\0')
		return store_sql_failx(st, err, errlen,
		    "empty indicator value");
	if (kind != NULL)
		s = store_sql_stmt(st, STORE_SQL_LEARN_FORGET,
		    "DELETE FROM learned WHERE kind = ?1 AND value = ?2",
		    err, errlen);
	else
		s = store_sql_stmt(st, STORE_SQL_LEARN_FORGET_ANY,
		    "DELETE FROM learned WHERE value = ?2", err, errlen);
	if (s == NULL)
		return -1;
	rc = kind != NULL ? sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC) :
	    SQLITE_OK;
	rc |= sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	if (store_sql_exec(st, s, err, errlen) == -1)
		return -1;
	return (long)store_sql_changes(st);
}

int
store_learn_generation(struct store *st, int64_t *gen_r, char *err,
    size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	*gen_r = 0;
	s = store_sql_stmt(st, STORE_SQL_LEARN_GEN,
	    "SELECT value FROM meta WHERE key = 'learn_gen'", err, errlen);
	if (s == NULL)
		return -1;
	if ((rc = store_sql_step(st, s, err, errlen)) != 1)
		return rc;
	*gen_r = sqlite3_column_int64(s, 0);
	store_sql_reset(s);
	return 0;
}

int
store_learn_stats(struct store *st, int64_t *entries_r, int64_t *msgs_r,
    int64_t *ham_r, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	s = store_sql_stmt(st, STORE_SQL_LEARN_STATS,
	    "SELECT (SELECT count(*) FROM learned),"
	    " (SELECT count(*) FROM learned_msg),"
	    " (SELECT count(*) FROM fp_evidence)", err, errlen);
	if (s == NULL)
		return -1;
	if ((rc = store_sql_step(st, s, err, errlen)) != 1)
		return rc == 0 ? store_sql_failx(st, err, errlen, "no totals") :
		    -1;
	if (entries_r != NULL)
		*entries_r = sqlite3_column_int64(s, 0);
	if (msgs_r != NULL)
		*msgs_r = sqlite3_column_int64(s, 1);
	if (ham_r != NULL)
		*ham_r = sqlite3_column_int64(s, 2);
	store_sql_reset(s);
	return 0;
}

int
store_seen_add(struct store *st, const char *account, const char *msgid,
    time_t when, char *err, size_t errlen)
{
	char key[STORE_MSGID_MAX];
	sqlite3_stmt *s;
	int rc;

	if (msgid == NULL || store_msgid_key(msgid, key, sizeof(key)) == -1)
		return 0;
	s = store_sql_stmt(st, STORE_SQL_SEEN_ADD,
	    "INSERT OR REPLACE INTO seen_msg (account, key, time)"
	    " VALUES (?1, ?2, ?3)", err, errlen);
	if (s == NULL)
		return -1;
	rc = sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(s, 3, when_or_now(when));
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	return store_sql_exec(st, s, err, errlen);
}

/* One row or none for (key, a2). */
static int
key_lookup(struct store *st, enum store_sql slot, const char *sql,
    const char *a2, const char *msgid, char *err, size_t errlen)
{
	char key[STORE_MSGID_MAX];
	sqlite3_stmt *s;
	int rc;

	if (msgid == NULL || store_msgid_key(msgid, key, sizeof(key)) == -1)
		return 0;
	if ((s = store_sql_stmt(st, slot, sql, err, errlen)) == NULL)
		return -1;
	rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (a2 != NULL)
		rc |= sqlite3_bind_text(s, 2, a2, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc == 1)
		store_sql_reset(s);
	return rc;
}

int
store_seen_has(struct store *st, const char *account, const char *msgid,
    char *err, size_t errlen)
{
	return key_lookup(st, STORE_SQL_SEEN_HAS, "SELECT 1 FROM seen_msg"
	    " WHERE key = ?1 AND account = ?2", account, msgid, err, errlen);
}

int
store_learn_has_msg(struct store *st, const char *msgid, char *err,
    size_t errlen)
{
	return key_lookup(st, STORE_SQL_LEARN_HAS_MSG, "SELECT 1 FROM"
	    " learned_msg WHERE msgid = ?1", NULL, msgid, err, errlen);
}
