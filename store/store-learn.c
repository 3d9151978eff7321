/*
 * store-learn.c: false-positive evidence, the indicators found on messages
 * the user rescued from Junk or Backscatter, counted per (kind, value) so
 * the rules can weigh an indicator that keeps hitting wanted mail.
 */
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store.h"

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
