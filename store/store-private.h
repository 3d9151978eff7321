/*
 * store-private.h: the internals shared by the .c files of store/ (the
 * per-handle statement cache and SQL helpers); callers use store.h.
 */
#ifndef IMAPSIFT_STORE_PRIVATE_H
#define IMAPSIFT_STORE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct sqlite3_stmt;

/* The slots of the per-handle statement cache, one per SQL text. */
enum store_sql {
	STORE_SQL_BEGIN, STORE_SQL_COMMIT, STORE_SQL_ROLLBACK,
	STORE_SQL_SAVEPOINT, STORE_SQL_RELEASE, STORE_SQL_ROLLBACK_TO,
	STORE_SQL_BEGIN_READ, STORE_SQL_META_SET,
	STORE_SQL_SOURCE_ENSURE, STORE_SQL_SOURCE_SEEN, STORE_SQL_SOURCE_SINCE,
	STORE_SQL_SOURCE_GET, STORE_SQL_COVERAGE,
	STORE_SQL_SENT_INSERT, STORE_SQL_SENT_FIXDATE, STORE_SQL_SENT_HAS,
	STORE_SQL_CORR_ADD, STORE_SQL_CORR_HAS,
	STORE_SQL_MAILBOX_GET, STORE_SQL_MAILBOX_SET,
	STORE_SQL_ACTION_INSERT, STORE_SQL_ACTION_DONE, STORE_SQL_ACTION_FAILED,
	STORE_SQL_ACTION_UNDONE, STORE_SQL_ACTION_STATE,
	STORE_SQL_ACTION_FIND, STORE_SQL_ACTION_ANY, STORE_SQL_ACTION_NEWEST,
	STORE_SQL_ACTION_OLDEST,
	STORE_SQL_FP_ADD, STORE_SQL_FP_GET, STORE_SQL_FP_KIND,
	STORE_SQL_LEARN_MSG, STORE_SQL_LEARN_UPSERT, STORE_SQL_LEARN_SENDER,
	STORE_SQL_LEARN_NSRC, STORE_SQL_LEARN_LINK, STORE_SQL_LEARN_SENDERS,
	STORE_SQL_LEARN_GEN_BUMP, STORE_SQL_LEARN_GEN, STORE_SQL_LEARN_EACH,
	STORE_SQL_LEARN_SOURCES, STORE_SQL_LEARN_FORGET,
	STORE_SQL_LEARN_FORGET_ANY, STORE_SQL_LEARN_STATS,
	STORE_SQL_SEEN_ADD, STORE_SQL_SEEN_HAS, STORE_SQL_LEARN_HAS_MSG,
	STORE_SQL_DNSBL_PUT, STORE_SQL_DNSBL_EACH, STORE_SQL_DNSBL_PRUNE,
	STORE_SQL_DNSBL_ZONE_SET, STORE_SQL_DNSBL_ZONE_GET,
	STORE_SQL_CORR_EACH,
	STORE_SQL_COUNT
};

/* Returns the statement of slot, preparing sql on first use (later calls
 * may pass the same text; it is not read again), or NULL with err set. */
struct sqlite3_stmt *store_sql_stmt(struct store *st, enum store_sql slot,
	    const char *sql, char *err, size_t errlen);

/* Steps s once: 1 on a row (the caller reads it, then store_sql_reset()),
 * 0 when done and -1 with err set on error (both after resetting s). */
int	store_sql_step(struct store *st, struct sqlite3_stmt *s, char *err,
	    size_t errlen);

/* Steps s to its end, expecting no row; 0, or -1 with err set. */
int	store_sql_exec(struct store *st, struct sqlite3_stmt *s, char *err,
	    size_t errlen);

/* Resets s and clears its bindings. */
void	store_sql_reset(struct sqlite3_stmt *s);

/* After a failed sqlite3_bind_*(): writes SQLite's message, resets s and
 * returns -1. */
int	store_sql_bind_failed(struct store *st, struct sqlite3_stmt *s,
	    char *err, size_t errlen);

/* Rows changed by the last statement on st's connection. */
int64_t	store_sql_changes(struct store *st);

/* Writes "store: <path>: <SQLite's message>" and returns -1. */
int	store_sql_fail(struct store *st, char *err, size_t errlen);

/* Writes "store: <path>: <formatted text>" and returns -1. */
int	store_sql_failx(struct store *st, char *err, size_t errlen,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* For a function that runs several statements: opens a transaction, or a
 * savepoint inside the caller's batch; *own_r records which. */
int	store_sql_op_begin(struct store *st, int *own_r, char *err,
	    size_t errlen);

/* Ends what store_sql_op_begin() opened: commits or releases when ok, else
 * rolls back (leaving err untouched).  Returns 0 only when ok and the
 * commit succeeded. */
int	store_sql_op_end(struct store *st, int own, int ok, char *err,
	    size_t errlen);

#endif
