/*
 * store-log.c: the sweep state of each mailbox and the action log.
 *
 * An action is written as pending before its move and changed to done,
 * failed or undone afterwards, so a crash between the two leaves a trace
 * rather than a silent move.  Each state change names the state it comes
 * from in its UPDATE, so a change from the wrong state matches no row and
 * is reported instead of overwriting history.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store-private.h"

static const char *const state_name[] = {
	[STORE_ACTION_ANY] = NULL,
	[STORE_ACTION_PENDING] = "pending",
	[STORE_ACTION_DONE] = "done",
	[STORE_ACTION_FAILED] = "failed",
	[STORE_ACTION_UNDONE] = "undone",
};

#define NSTATES	(sizeof(state_name) / sizeof(state_name[0]))

static enum store_action_state
state_parse(const unsigned char *s)
{
	size_t i;

	for (i = 1; s != NULL && i < NSTATES; i++)
		if (strcmp((const char *)s, state_name[i]) == 0)
			return (enum store_action_state)i;
	return STORE_ACTION_ANY;
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* ------------------------------------------------------------------ */
/* Mailbox state.                                                      */

int
store_mailbox_get(struct store *st, const char *account, const char *mailbox,
    uint32_t *uidvalidity_r, uint32_t *last_uid_r, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	*uidvalidity_r = *last_uid_r = 0;
	if (empty(account) || empty(mailbox))
		return store_sql_failx(st, err, errlen,
		    "empty account or mailbox name");
	s = store_sql_stmt(st, STORE_SQL_MAILBOX_GET,
	    "SELECT uidvalidity, last_uid FROM mailbox"
	    " WHERE account = ?1 AND name = ?2", err, errlen);
	if (s == NULL)
		return -1;
	rc = bind_text(s, 1, account);
	rc |= bind_text(s, 2, mailbox);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc != 1)
		return rc;
	*uidvalidity_r = (uint32_t)sqlite3_column_int64(s, 0);
	*last_uid_r = (uint32_t)sqlite3_column_int64(s, 1);
	store_sql_reset(s);
	return 1;
}

int
store_mailbox_set(struct store *st, const char *account, const char *mailbox,
    uint32_t uidvalidity, uint32_t last_uid, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (empty(account) || empty(mailbox))
		return store_sql_failx(st, err, errlen,
		    "empty account or mailbox name");
	s = store_sql_stmt(st, STORE_SQL_MAILBOX_SET,
	    "INSERT INTO mailbox (account, name, uidvalidity, last_uid,"
	    " updated) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (account, name) DO UPDATE SET"
	    " uidvalidity = excluded.uidvalidity,"
	    " last_uid = excluded.last_uid, updated = excluded.updated",
	    err, errlen);
	if (s == NULL)
		return -1;
	rc = bind_text(s, 1, account);
	rc |= bind_text(s, 2, mailbox);
	rc |= sqlite3_bind_int64(s, 3, uidvalidity);
	rc |= sqlite3_bind_int64(s, 4, last_uid);
	rc |= sqlite3_bind_int64(s, 5, (int64_t)time(NULL));
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	return store_sql_exec(st, s, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Logging an action and changing its state.                           */

int
store_action_begin(struct store *st, const struct store_action *a,
    int64_t *id_r, char *err, size_t errlen)
{
	char key[STORE_MSGID_MAX];
	sqlite3_stmt *s;
	int rc, has_key;

	if (empty(a->account) || empty(a->mailbox) || empty(a->dest) ||
	    empty(a->verdict))
		return store_sql_failx(st, err, errlen,
		    "action without account, mailbox, destination or verdict");
	has_key = store_msgid_key(a->msgid, key, sizeof(key)) == 0;
	s = store_sql_stmt(st, STORE_SQL_ACTION_INSERT,
	    "INSERT INTO action_log (time, account, mailbox, uidvalidity,"
	    " uid, msgid, dest, verdict, reasons, state) VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending')", err, errlen);
	if (s == NULL)
		return -1;
	rc = sqlite3_bind_int64(s, 1,
	    a->time > 0 ? (int64_t)a->time : (int64_t)time(NULL));
	rc |= bind_text(s, 2, a->account);
	rc |= bind_text(s, 3, a->mailbox);
	rc |= sqlite3_bind_int64(s, 4, a->uidvalidity);
	rc |= sqlite3_bind_int64(s, 5, a->uid);
	rc |= bind_text(s, 6, has_key ? key : NULL);
	rc |= bind_text(s, 7, a->dest);
	rc |= bind_text(s, 8, a->verdict);
	rc |= bind_text(s, 9, a->reasons != NULL ? a->reasons : "");
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	if (store_sql_exec(st, s, err, errlen) == -1)
		return -1;
	*id_r = sqlite3_last_insert_rowid(sqlite3_db_handle(s));
	return 0;
}

/* After a state change matched no row: says why. */
static int
explain_state(struct store *st, int64_t id, const char *from, char *err,
    size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	s = store_sql_stmt(st, STORE_SQL_ACTION_STATE,
	    "SELECT state FROM action_log WHERE id = ?1", err, errlen);
	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc == -1)
		return -1;
	if (rc == 0)
		return store_sql_failx(st, err, errlen, "no action %lld",
		    (long long)id);
	store_sql_failx(st, err, errlen, "action %lld is %s, not %s",
	    (long long)id, (const char *)sqlite3_column_text(s, 0), from);
	store_sql_reset(s);
	return -1;
}

/* Runs slot's UPDATE (?1 = id, ?2 = value, text when text is not NULL,
 * else n; NULL for a zero n when null_zero) and checks it matched. */
static int
change_state(struct store *st, enum store_sql slot, const char *sql,
    int64_t id, const char *text, int64_t n, int null_zero,
    const char *from, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	s = store_sql_stmt(st, slot, sql, err, errlen);
	if (s == NULL)
		return -1;
	rc = sqlite3_bind_int64(s, 1, id);
	if (text != NULL)
		rc |= bind_text(s, 2, text);
	else if (n != 0 || !null_zero)
		rc |= sqlite3_bind_int64(s, 2, n);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	if (store_sql_exec(st, s, err, errlen) == -1)
		return -1;
	if (sqlite3_changes(sqlite3_db_handle(s)) == 0)
		return explain_state(st, id, from, err, errlen);
	return 0;
}

int
store_action_done(struct store *st, int64_t id, uint32_t new_uid, char *err,
    size_t errlen)
{
	return change_state(st, STORE_SQL_ACTION_DONE,
	    "UPDATE action_log SET state = 'done', new_uid = ?2"
	    " WHERE id = ?1 AND state = 'pending'", id, NULL, new_uid, 1,
	    "pending", err, errlen);
}

int
store_action_failed(struct store *st, int64_t id, const char *why, char *err,
    size_t errlen)
{
	return change_state(st, STORE_SQL_ACTION_FAILED,
	    "UPDATE action_log SET state = 'failed', error = ?2"
	    " WHERE id = ?1 AND state = 'pending'", id, why, 0, 1,
	    "pending", err, errlen);
}

int
store_action_undone(struct store *st, int64_t id, char *err, size_t errlen)
{
	return change_state(st, STORE_SQL_ACTION_UNDONE,
	    "UPDATE action_log SET state = 'undone', undone_time = ?2"
	    " WHERE id = ?1 AND state = 'done'", id, NULL,
	    (int64_t)time(NULL), 0, "done", err, errlen);
}

int
store_action_find_msgid(struct store *st, const char *account,
    const char *msgid, int64_t *id_r, char *err, size_t errlen)
{
	char key[STORE_MSGID_MAX];
	sqlite3_stmt *s;
	int rc;

	if (id_r != NULL)
		*id_r = 0;
	if (empty(account))
		return store_sql_failx(st, err, errlen, "empty account name");
	if (store_msgid_key(msgid, key, sizeof(key)) == -1)
		return store_sql_failx(st, err, errlen, "invalid Message-ID");
	s = store_sql_stmt(st, STORE_SQL_ACTION_FIND,
	    "SELECT id FROM action_log WHERE account = ?1 AND msgid = ?2"
	    " AND state <> 'failed' ORDER BY id DESC LIMIT 1", err, errlen);
	if (s == NULL)
		return -1;
	rc = bind_text(s, 1, account);
	rc |= bind_text(s, 2, key);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc != 1)
		return rc;
	if (id_r != NULL)
		*id_r = sqlite3_column_int64(s, 0);
	store_sql_reset(s);
	return 1;
}

int
store_action_any(struct store *st, const char *account, char *err,
    size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (empty(account))
		return store_sql_failx(st, err, errlen, "empty account name");
	s = store_sql_stmt(st, STORE_SQL_ACTION_ANY,
	    "SELECT 1 FROM action_log WHERE account = ?1 LIMIT 1", err,
	    errlen);
	if (s == NULL)
		return -1;
	if (bind_text(s, 1, account) != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	rc = store_sql_step(st, s, err, errlen);
	if (rc == 1)
		store_sql_reset(s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Iterating over the log.                                             */

/*
 * The iterator steps the shared statement of its order once in init, so
 * that sqlite3_stmt_busy() is true exactly while an iterator owns it; a
 * second init of the same order sees that and is refused.
 */
struct store_action_iter {
	struct store	*st;
	sqlite3_stmt	*s;
	int		 rc;		/* last step: 1 row, 0 end, -1 error */
	int		 fresh;		/* the row of init not handed out yet */
	char		 err[256];
};

#define ACTION_SELECT							\
	"SELECT id, time, account, mailbox, uidvalidity, uid, msgid,"	\
	" dest, verdict, reasons, state, new_uid, error, undone_time"	\
	" FROM action_log WHERE (?1 = 0 OR time >= ?1)"			\
	" AND (?2 = 0 OR id = ?2) AND (?3 IS NULL OR state = ?3)"	\
	" AND (?4 IS NULL OR account = ?4)"

static sqlite3_stmt *
iter_stmt(struct store *st, const struct store_action_filter *f, char *err,
    size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (f->oldest_first)
		s = store_sql_stmt(st, STORE_SQL_ACTION_OLDEST,
		    ACTION_SELECT " ORDER BY id ASC", err, errlen);
	else
		s = store_sql_stmt(st, STORE_SQL_ACTION_NEWEST,
		    ACTION_SELECT " ORDER BY id DESC", err, errlen);
	if (s == NULL)
		return NULL;
	if (sqlite3_stmt_busy(s)) {
		store_sql_failx(st, err, errlen,
		    "another action iterator is open");
		return NULL;
	}
	if ((unsigned)f->state >= NSTATES) {
		store_sql_failx(st, err, errlen, "bad action state %u",
		    (unsigned)f->state);
		return NULL;
	}
	rc = sqlite3_bind_int64(s, 1, f->since > 0 ? (int64_t)f->since : 0);
	rc |= sqlite3_bind_int64(s, 2, f->id);
	if (f->state != STORE_ACTION_ANY)
		rc |= sqlite3_bind_text(s, 3, state_name[f->state], -1,
		    SQLITE_STATIC);
	if (f->account != NULL)
		rc |= sqlite3_bind_text(s, 4, f->account, -1,
		    SQLITE_TRANSIENT);
	if (rc != SQLITE_OK) {
		store_sql_bind_failed(st, s, err, errlen);
		return NULL;
	}
	return s;
}

struct store_action_iter *
store_action_iter_init(struct store *st, const struct store_action_filter *f,
    char *err, size_t errlen)
{
	static const struct store_action_filter all;
	struct store_action_iter *it;

	it = calloc(1, sizeof(*it));
	if (it == NULL) {
		store_sql_failx(st, err, errlen, "out of memory");
		return NULL;
	}
	it->st = st;
	it->s = iter_stmt(st, f != NULL ? f : &all, err, errlen);
	if (it->s == NULL) {
		free(it);
		return NULL;
	}
	it->rc = store_sql_step(st, it->s, it->err, sizeof(it->err));
	if (it->rc == -1) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", it->err);
		free(it);
		return NULL;
	}
	it->fresh = it->rc == 1;
	return it;
}

static void
action_fill(sqlite3_stmt *s, struct store_action *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	a->time = (time_t)sqlite3_column_int64(s, 1);
	a->account = (const char *)sqlite3_column_text(s, 2);
	a->mailbox = (const char *)sqlite3_column_text(s, 3);
	a->uidvalidity = (uint32_t)sqlite3_column_int64(s, 4);
	a->uid = (uint32_t)sqlite3_column_int64(s, 5);
	a->msgid = (const char *)sqlite3_column_text(s, 6);
	a->dest = (const char *)sqlite3_column_text(s, 7);
	a->verdict = (const char *)sqlite3_column_text(s, 8);
	a->reasons = (const char *)sqlite3_column_text(s, 9);
	a->state = state_parse(sqlite3_column_text(s, 10));
	a->new_uid = (uint32_t)sqlite3_column_int64(s, 11);
	a->error = (const char *)sqlite3_column_text(s, 12);
	a->undone_time = (time_t)sqlite3_column_int64(s, 13);
}

int
store_action_iter_next(struct store_action_iter *it, struct store_action *a_r)
{
	if (it->fresh)
		it->fresh = 0;
	else if (it->rc == 1)
		it->rc = store_sql_step(it->st, it->s, it->err,
		    sizeof(it->err));
	if (it->rc != 1)
		return 0;
	action_fill(it->s, a_r);
	return 1;
}

int
store_action_iter_deinit(struct store_action_iter **itp, char *err,
    size_t errlen)
{
	struct store_action_iter *it = *itp;
	int rc;

	if (it == NULL)
		return 0;
	if (it->rc == 1)
		store_sql_reset(it->s);
	rc = it->rc == -1 ? -1 : 0;
	if (rc == -1 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", it->err);
	free(it);
	*itp = NULL;
	return rc;
}
