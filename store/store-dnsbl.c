/*
 * store-dnsbl.c: URI DNS blocklist answers kept until their TTL runs
 * out, and the zones resting after an error answer, so that the next
 * sweep (a new process from cron) neither asks again nor forgets that a
 * zone said "you are blocked".
 */
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store-private.h"

int
store_dnsbl_put(struct store *st, const struct store_dnsbl_row *rows,
    size_t n, time_t now, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	size_t i;
	int own, ok = 1, rc;

	if (store_sql_op_begin(st, &own, err, errlen) == -1)
		return -1;
	for (i = 0; ok && i < n; i++) {
		s = store_sql_stmt(st, STORE_SQL_DNSBL_PUT,
		    "INSERT OR REPLACE INTO dnsbl_cache (zone, domain, addr,"
		    " expires) VALUES (?1, ?2, ?3, ?4)", err, errlen);
		if (s == NULL) {
			ok = 0;
			break;
		}
		rc = sqlite3_bind_text(s, 1, rows[i].zone, -1, SQLITE_STATIC);
		rc |= sqlite3_bind_text(s, 2, rows[i].domain, -1,
		    SQLITE_STATIC);
		rc |= sqlite3_bind_int64(s, 3, (int64_t)rows[i].addr);
		rc |= sqlite3_bind_int64(s, 4, (int64_t)rows[i].expires);
		if (rc != SQLITE_OK) {
			store_sql_bind_failed(st, s, err, errlen);
			ok = 0;
		} else
			ok = store_sql_exec(st, s, err, errlen) == 0;
	}
	if (ok) {
		s = store_sql_stmt(st, STORE_SQL_DNSBL_PRUNE,
		    "DELETE FROM dnsbl_cache WHERE expires < ?1", err, errlen);
		if (s == NULL)
			ok = 0;
		else if (sqlite3_bind_int64(s, 1, (int64_t)now) != SQLITE_OK) {
			store_sql_bind_failed(st, s, err, errlen);
			ok = 0;
		} else
			ok = store_sql_exec(st, s, err, errlen) == 0;
	}
	return store_sql_op_end(st, own, ok, err, errlen);
}

int
store_dnsbl_each(struct store *st, time_t now,
    void (*fn)(void *ctx, const struct store_dnsbl_row *row), void *ctx,
    char *err, size_t errlen)
{
	struct store_dnsbl_row row;
	sqlite3_stmt *s;
	int n = 0, rc;

	s = store_sql_stmt(st, STORE_SQL_DNSBL_EACH,
	    "SELECT zone, domain, addr, expires FROM dnsbl_cache"
	    " WHERE expires >= ?1", err, errlen);
	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, (int64_t)now) != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	while ((rc = store_sql_step(st, s, err, errlen)) == 1) {
		row.zone = (const char *)sqlite3_column_text(s, 0);
		row.domain = (const char *)sqlite3_column_text(s, 1);
		row.addr = (uint32_t)sqlite3_column_int64(s, 2);
		row.expires = (time_t)sqlite3_column_int64(s, 3);
		if (row.zone != NULL && row.domain != NULL) {
			fn(ctx, &row);
			n++;
		}
	}
	return rc == -1 ? -1 : n;
}

int
store_dnsbl_zone_set(struct store *st, const char *zone, time_t since,
    time_t until, const char *reason, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	s = store_sql_stmt(st, STORE_SQL_DNSBL_ZONE_SET,
	    "INSERT OR REPLACE INTO dnsbl_zone (zone, since, until, reason)"
	    " VALUES (?1, ?2, ?3, ?4)", err, errlen);
	if (s == NULL)
		return -1;
	rc = sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(s, 2, (int64_t)since);
	rc |= sqlite3_bind_int64(s, 3, (int64_t)until);
	rc |= sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	return store_sql_exec(st, s, err, errlen);
}

int
store_dnsbl_zone_get(struct store *st, const char *zone, time_t *since_r,
    time_t *until_r, char *reason, size_t reasonsz, char *err,
    size_t errlen)
{
	const unsigned char *r;
	sqlite3_stmt *s;
	int rc;

	*since_r = *until_r = 0;
	if (reasonsz > 0)
		reason[0] = '\0';
	s = store_sql_stmt(st, STORE_SQL_DNSBL_ZONE_GET,
	    "SELECT since, until, reason FROM dnsbl_zone WHERE zone = ?1",
	    err, errlen);
	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC) != SQLITE_OK)
		return store_sql_bind_failed(st, s, err, errlen);
	if ((rc = store_sql_step(st, s, err, errlen)) != 1)
		return rc;
	*since_r = (time_t)sqlite3_column_int64(s, 0);
	*until_r = (time_t)sqlite3_column_int64(s, 1);
	r = sqlite3_column_text(s, 2);
	if (reasonsz > 0 && r != NULL) {
		strncpy(reason, (const char *)r, reasonsz - 1);
		reason[reasonsz - 1] = '\0';
	}
	store_sql_reset(s);
	return 1;
}
