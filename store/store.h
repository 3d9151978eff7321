/*
 * store: one user's imapsift database (a single SQLite file).
 *
 * It holds what imapsift must remember between runs: the Message-IDs of
 * the mail the user sent and which period of sent mail they cover (the
 * proof behind a "backscatter" verdict), the people the user writes to,
 * per-mailbox sweep state (UIDVALIDITY and the highest UID processed), the
 * action log of every move (so each can be explained and undone), and the
 * false-positive evidence learned from messages the user rescued.  It
 * never touches IMAP or the rules, and never prints, logs or exits.
 *
 * The file is created mode 0600, and an existing file that its group or
 * others may access is chmod'ed to 0600 (or refused).  It runs in WAL mode:
 * readers never wait; a writer that waits longer than the busy timeout
 * fails with "database is locked".  Several processes may share the file.
 *
 * Threads: a handle is used by one thread at a time, never shared; open
 * one handle per thread (SQLite runs in multi-thread mode, not serialised).
 *
 * Ownership, once for the whole header: `const char *` arguments are
 * borrowed and never kept.  Strings handed out in a struct stay valid
 * until the next call on the same iterator, as each function says.
 * store_close() and store_action_iter_deinit() take a pointer to the
 * caller's pointer and set it to NULL.
 *
 * Errors: functions return 0 (or a count / a 1-0 answer) on success and -1
 * on failure, writing one line without a newline into err[errlen] (when
 * err is not NULL), always "store: <path>: <what>", e.g.
 * "store: /home/u/.imapsift.db: database is locked".  SQLite's own words
 * are kept ("database or disk is full", "file is not a database").
 *
 * Times are unix seconds; 0 means unknown.  Every Message-ID passes
 * through store_msgid_key() before it is stored or looked up.
 *
 * Sections: opening and batches (store.c); Message-ID keys
 * (store-msgid.c); sent mail, coverage and correspondents (store-sent.c);
 * mailbox state and the action log (store-log.c); false-positive (ham)
 * evidence and learned indicators (store-learn.c).  The module's
 * internals (statement cache, SQL helpers) are in store-private.h.
 */
#ifndef IMAPSIFT_STORE_H
#define IMAPSIFT_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ------------------------------------------------------------------ */
/* Opening and batches (store.c).                                      */

/* Read only: the file must exist; writes fail ("attempt to write a
 * readonly database"), store_begin() fails at once. */
#define STORE_RDONLY	0x01

#define STORE_BUSY_MS	5000	/* default wait for another writer */

/*
 * Opens (creating it unless STORE_RDONLY) the store at path and sets
 * *st_r.  A new or older store is brought to the current schema in one
 * transaction; a read-only open of an older store fails, asking for one
 * read-write open first.  busy_ms is how long a write waits for another
 * writer before failing with "database is locked"; 0 means STORE_BUSY_MS.
 * Fails with a clear line, leaving *st_r NULL, when the file is not a
 * database, belongs to another program, has a newer schema than this
 * build knows, or cannot be made mode 0600.
 */
int	store_open(struct store **st_r, const char *path, int flags,
	    int busy_ms, char *err, size_t errlen);

/* Closes *st (NULL is fine) and sets it to NULL; an open batch is rolled
 * back, an iterator left open is invalid from here on.  The WAL is
 * checkpointed and truncated first (store_checkpoint). */
void	store_close(struct store **st);

/* Copies the WAL into the database and truncates it, if no other
 * connection is busy and no batch is open on st; never waits, never
 * fails (it only frees disk space).  Also done at close and after a
 * write that met a full disk (at once, or at the batch's rollback). */
void	store_checkpoint(struct store *st);

/*
 * A batch: store_begin() takes the write lock at once (waiting up to the
 * busy timeout), so the writes up to store_commit() land together or not
 * at all.  Without a batch each call is its own transaction.  A begin
 * inside a batch fails ("a transaction is already open"); a commit outside
 * one fails.  A failed commit rolls the batch back.  store_rollback() is
 * harmless when no batch is open (SQLite ends one itself on some errors),
 * so error paths may always call it.
 */
int	store_begin(struct store *st, char *err, size_t errlen);
int	store_commit(struct store *st, char *err, size_t errlen);
int	store_rollback(struct store *st, char *err, size_t errlen);

/*
 * A read snapshot: lookups between store_read_begin() and store_read_end()
 * share one read transaction, so they see the store as it was at the
 * first of them and pay for one lock instead of one each.  Writes by
 * other handles meanwhile are not seen until the end.  Begin fails inside
 * a batch or snapshot; end is harmless outside one.  For a reader that
 * does many lookups in a row (the classifier threads).
 */
int	store_read_begin(struct store *st, char *err, size_t errlen);
int	store_read_end(struct store *st, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Message-ID keys (store-msgid.c).                                    */

#define STORE_MSGID_MAX	1000	/* out buffer size; longer keys are refused */

/*
 * Writes the comparison key of the Message-ID in (a header value, with or
 * without its angle brackets) into out[outsz]: whitespace anywhere is
 * dropped (so folded or padded values match), one leading '<' and one
 * trailing '>' are removed, and the part after the last '@' is lowercased
 * (ASCII only); the local part is kept as it is, so "<A@b.example>" and
 * "<a@b.example>" differ.  Returns 0, or -1 when nothing is left, when a
 * control character or an inner '<' or '>' remains (two IDs in one value),
 * or when the key does not fit in outsz; out is then an empty string
 * (when outsz > 0).
 */
int	store_msgid_key(const char *in, char *out, size_t outsz);

/* ------------------------------------------------------------------ */
/* Sent mail, coverage and correspondents (store-sent.c).              */

/*
 * Records that msgid was sent on date (0: unknown) and where it was found,
 * source being a label such as "mbox:/path" or "imap:acct/Sent".  A
 * repeated ID keeps its first source and gains a date it lacked.  The
 * source's coverage (oldest and newest date, count) is updated in the same
 * transaction.  Fails on an invalid msgid (see store_msgid_key()) or an
 * empty source.
 */
int	store_sent_add(struct store *st, const char *msgid, time_t date,
	    const char *source, char *err, size_t errlen);

/* Returns 1 if msgid was recorded as sent, 0 if not, -1 on error or on an
 * invalid msgid (which proves nothing either way). */
int	store_sent_has(struct store *st, const char *msgid, char *err,
	    size_t errlen);

/*
 * Which sent mail the store covers, so that an absent ID can be told from
 * an unknown one: *oldest_r and *newest_r are the oldest and newest sent
 * dates over all sources (a source's oldest being its "since" date when
 * that is older, see store_source_since()), 0 when nothing dated is
 * recorded; *complete_r is 1 if the store is to be taken as the complete
 * record whatever the dates (store_set_complete()).  Any out-pointer may
 * be NULL.  The span is the hull of the sources, gaps included.
 */
int	store_coverage(struct store *st, time_t *oldest_r, time_t *newest_r,
	    int *complete_r, char *err, size_t errlen);

/* Sets (1) or clears (0) the "complete record" marker, e.g. after loading
 * IDs from a one-ID-per-line file. */
int	store_set_complete(struct store *st, int complete, char *err,
	    size_t errlen);

/* Records that source was harvested from date since onwards (a Sent folder
 * searched SINCE a day), so its coverage starts there even if its oldest
 * message is younger.  0 clears it. */
int	store_source_since(struct store *st, const char *source, time_t since,
	    char *err, size_t errlen);

/* The coverage of one source. */
struct store_source {
	time_t	 since;		/* harvested from (store_source_since), or 0 */
	time_t	 oldest;	/* oldest dated ID of this source, or 0 */
	time_t	 newest;	/* newest dated ID of this source, or 0 */
	int64_t	 count;		/* IDs first recorded from this source */
};

/* Fills *src_r for source; returns 1, 0 if the source is unknown (then
 * *src_r is zeroed), -1 on error. */
int	store_source_get(struct store *st, const char *source,
	    struct store_source *src_r, char *err, size_t errlen);

/*
 * Records that the user wrote to addr (a bare address from To or Cc, with
 * or without angle brackets) on date.  Addresses are keyed like
 * Message-IDs (store_msgid_key()) and then lowercased whole.  The
 * last-seen date only moves forward.  Fails on an address without a key.
 */
int	store_correspondent_add(struct store *st, const char *addr,
	    time_t date, char *err, size_t errlen);

/* Returns 1 if the user wrote to addr, 0 if not, -1 on error (or an
 * invalid address).  *last_seen_r (may be NULL) gets the date, or 0. */
int	store_correspondent_has(struct store *st, const char *addr,
	    time_t *last_seen_r, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Mailbox state and the action log (store-log.c).                     */

/* Gets the sweep state of account's mailbox: returns 1 and sets
 * *uidvalidity_r and *last_uid_r, or returns 0 (both set to 0) if the
 * mailbox was never swept, or -1 on error. */
int	store_mailbox_get(struct store *st, const char *account,
	    const char *mailbox, uint32_t *uidvalidity_r, uint32_t *last_uid_r,
	    char *err, size_t errlen);

/* Sets the sweep state of account's mailbox.  Call it inside the batch
 * (store_begin()) that logs the moves it accounts for, so that the state
 * and the log never disagree after a crash. */
int	store_mailbox_set(struct store *st, const char *account,
	    const char *mailbox, uint32_t uidvalidity, uint32_t last_uid,
	    char *err, size_t errlen);

enum store_action_state {
	STORE_ACTION_ANY,	/* in a filter only: any state */
	STORE_ACTION_PENDING,	/* logged, move not confirmed */
	STORE_ACTION_DONE,	/* moved */
	STORE_ACTION_FAILED,	/* the move failed; the message did not move */
	STORE_ACTION_UNDONE	/* moved, then moved back */
};

/* One move.  Strings are NUL-terminated; which fields are read or filled
 * is said at each function. */
struct store_action {
	int64_t	 id;
	time_t	 time;		/* when it was logged */
	const char *account;
	const char *mailbox;	/* where the message was */
	uint32_t uidvalidity;	/* of mailbox */
	uint32_t uid;		/* in mailbox */
	const char *msgid;	/* key form, or NULL (none or invalid) */
	const char *dest;	/* where it went */
	const char *verdict;	/* "junk", "backscatter", ... */
	const char *reasons;	/* as explain shows them */
	enum store_action_state state;
	uint32_t new_uid;	/* in dest (COPYUID), or 0 if unknown */
	const char *error;	/* why it failed, or NULL */
	time_t	 undone_time;	/* when it was undone, or 0 */
};

/*
 * Logs a move before it is made, as pending, and sets *id_r.  Reads
 * account, mailbox, uidvalidity, uid, msgid, dest, verdict, reasons and
 * time (0: now) from *a; the rest is ignored.  A msgid that has no valid
 * key is logged as NULL.  account, mailbox, dest and verdict must be
 * non-empty; reasons may be NULL.
 */
int	store_action_begin(struct store *st, const struct store_action *a,
	    int64_t *id_r, char *err, size_t errlen);

/* Pending to done; new_uid is the UID in dest, 0 if unknown.  Each state
 * change fails, naming the current state, when the action is missing or
 * not in the state it changes from. */
int	store_action_done(struct store *st, int64_t id, uint32_t new_uid,
	    char *err, size_t errlen);

/* Pending to failed; why (may be NULL) is kept for the log. */
int	store_action_failed(struct store *st, int64_t id, const char *why,
	    char *err, size_t errlen);

/* Done to undone, stamped now. */
int	store_action_undone(struct store *st, int64_t id, char *err,
	    size_t errlen);

/*
 * Whether a message with msgid was ever moved by us out of account: returns
 * 1 and sets *id_r (may be NULL) to the newest such action, 0 if none, -1
 * on error or an invalid msgid.  Failed actions do not count; pending ones
 * do (the move may have happened), so a caller compares the action's
 * mailbox, UIDVALIDITY and UID with the message before calling it rescued.
 */
int	store_action_find_msgid(struct store *st, const char *account,
	    const char *msgid, int64_t *id_r, char *err, size_t errlen);
/* 1 when account has any action logged, 0 when none, -1 on error. */
int	store_action_any(struct store *st, const char *account, char *err,
	    size_t errlen);

/* Which actions an iterator returns; a zeroed filter means all, newest
 * first. */
struct store_action_filter {
	time_t	 since;		/* logged at or after since; 0: any */
	int64_t	 id;		/* only this action; 0: any */
	enum store_action_state state;
	const char *account;	/* only this account; NULL: any */
	int	 oldest_first;	/* 0: newest first */
};

struct store_action_iter;

/*
 * Starts iterating over the actions that match f (NULL: all, newest
 * first), in Dovecot's init/next/deinit shape.  Returns NULL with err set
 * on failure, e.g. when another iterator of the same order is open on st:
 * one at a time.  f is copied.  Writes on st while it is open are allowed
 * (it may or may not see them).  An open iterator holds a read snapshot,
 * which keeps the WAL from being checkpointed: finish it promptly.
 */
struct store_action_iter *store_action_iter_init(struct store *st,
	    const struct store_action_filter *f, char *err, size_t errlen);

/* Fills *a_r with the next action and returns 1, or returns 0 at the end
 * or on an error (which deinit reports).  The strings in *a_r stay valid
 * until the next call on it. */
int	store_action_iter_next(struct store_action_iter *it,
	    struct store_action *a_r);

/* Ends the iteration (NULL is fine) and sets *it to NULL; returns 0, or -1
 * with err set if it stopped on an error rather than at the end. */
int	store_action_iter_deinit(struct store_action_iter **it, char *err,
	    size_t errlen);

/* ------------------------------------------------------------------ */
/* False-positive evidence (store-learn.c).                            */

/*
 * An indicator (kind such as "url", "phone", "phrase", "regex"; value in
 * the form the rules use) found on a message the user rescued: add counts
 * one more sighting at when (0: now); has returns 1/0/-1; count sets *n_r
 * to the sightings of (kind, value), or with value NULL to the number of
 * distinct values of kind, 0 when none.
 */
int	store_fp_add(struct store *st, const char *kind, const char *value,
	    time_t when, char *err, size_t errlen);
int	store_fp_has(struct store *st, const char *kind, const char *value,
	    char *err, size_t errlen);
int	store_fp_count(struct store *st, const char *kind, const char *value,
	    int64_t *n_r, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Learned indicators (store-learn.c).                                 */

/*
 * The indicators learned from spam (the user's Junk folder, or files
 * given to imapsift learn), with their evidence.  fp_evidence above is
 * the ham evidence: an indicator seen in mail the user keeps or rescued.
 * An entry is active when it has enough evidence (senders >= 2 distinct
 * senders, or manual: a message the user moved to Junk by hand), no ham
 * evidence for (kind, value), and was seen at or after the idle cutoff.
 * Kinds are "url" (a registrable domain or an IP literal: matches its
 * subdomains too), "host" (one host name, exactly), "phone" (digits) and
 * "phrase" (folded words, single spaces).
 */
#define STORE_LEARN_SRCMAX	8	/* source messages kept per entry */

/* One spam message learned from.  id is set by store_learn_msg. */
struct store_learn_msg {
	const char *msgid;	/* Message-ID (any form), or NULL */
	const char *sender;	/* From addr-spec, lowercased, or NULL */
	const char *source;	/* "file:PATH", "imap:ACCOUNT/FOLDER/UID" */
	time_t	 when;		/* its date; 0: now */
	int	 manual;	/* the user moved it to Junk by hand */
	int64_t	 id;
};

/* Mail sweep judged and left in a watched mailbox of account: seen_add
 * records msgid (invalid ones are ignored: 0), seen_has answers 1/0/-1. */
int	store_seen_add(struct store *st, const char *account,
	    const char *msgid, time_t when, char *err, size_t errlen);
int	store_seen_has(struct store *st, const char *account,
	    const char *msgid, char *err, size_t errlen);
/* 1 when a spam message with msgid was learned from, 0 if not, -1. */
int	store_learn_has_msg(struct store *st, const char *msgid, char *err,
	    size_t errlen);

/* Records m and sets m->id; returns 1, or 0 when a message with the same
 * Message-ID was learned before (nothing is recorded: do not learn it
 * again), or -1.  source must be non-empty. */
int	store_learn_msg(struct store *st, struct store_learn_msg *m,
	    char *err, size_t errlen);

/* Counts one more spam sighting of (kind, value) on message m (recorded
 * by store_learn_msg): spam + 1, last_seen moves forward, manual is or'ed,
 * senders + 1 when m's sender is not among the entry's kept sources. */
int	store_learn_add(struct store *st, const struct store_learn_msg *m,
	    const char *kind, const char *value, char *err, size_t errlen);

/* One learned entry, as listed; strings valid during the callback. */
struct store_learned {
	int64_t	 id;
	const char *kind;
	const char *value;
	int64_t	 spam;		/* spam messages that carried it */
	int64_t	 senders;	/* distinct senders among them (capped) */
	int	 manual;
	time_t	 first_seen, last_seen;
	int	 ham;		/* 1: ham evidence exists (never active) */
	int	 active;
};

struct store_learned_filter {
	const char *kind;	/* NULL: any */
	const char *value;	/* NULL: any */
	int	 active_only;
	time_t	 idle_cutoff;	/* last_seen before it: expired; 0: never */
};

/* Calls fn for each entry matching f (NULL: all), kind then value order;
 * fn returning non-zero stops; fn NULL only counts.  Returns the number of calls, or -1. */
long	store_learned_each(struct store *st,
	    const struct store_learned_filter *f,
	    int (*fn)(void *ctx, const struct store_learned *e), void *ctx,
	    char *err, size_t errlen);

/* A source message of a learned entry. */
struct store_learned_src {
	const char *msgid;	/* key form, or NULL */
	const char *sender;	/* or NULL */
	const char *source;
	time_t	 time;
	int	 manual;
};

/* Calls fn for each kept source message of (kind, value), oldest first.
 * Returns the number of calls, or -1. */
long	store_learned_sources(struct store *st, const char *kind,
	    const char *value,
	    void (*fn)(void *ctx, const struct store_learned_src *s),
	    void *ctx, char *err, size_t errlen);

/* Removes the entries with value (of kind, or any kind when kind is
 * NULL); returns the number removed, or -1. */
long	store_learned_forget(struct store *st, const char *kind,
	    const char *value, char *err, size_t errlen);

/* A number that changes whenever the active set may have changed (an
 * entry gained evidence, ham evidence was added, an entry was removed). */
int	store_learn_generation(struct store *st, int64_t *gen_r, char *err,
	    size_t errlen);

/* Totals: learned entries, source messages, ham evidence values (any
 * may be NULL). */
int	store_learn_stats(struct store *st, int64_t *entries_r,
	    int64_t *msgs_r, int64_t *ham_r, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* URI DNS blocklist answers and zone state (store-dnsbl.c).           */

/* One cached answer: addr is the IPv4 answer in host byte order, 0 for
 * "not listed"; expires the time it stops being good. */
struct store_dnsbl_row {
	const char *zone;
	const char *domain;
	uint32_t addr;
	time_t	 expires;
};

/* Stores the n rows (replacing older answers for the same zone and
 * domain) and drops the rows that expired before now, in one
 * transaction (a savepoint inside the caller's batch). */
int	store_dnsbl_put(struct store *st, const struct store_dnsbl_row *rows,
	    size_t n, time_t now, char *err, size_t errlen);
/* Calls fn with every row still good at now; strings valid during the
 * call only.  Returns the count, or -1. */
int	store_dnsbl_each(struct store *st, time_t now,
	    void (*fn)(void *ctx, const struct store_dnsbl_row *row),
	    void *ctx, char *err, size_t errlen);
/* Zone state: zone rests from since until until because of reason. */
int	store_dnsbl_zone_set(struct store *st, const char *zone,
	    time_t since, time_t until, const char *reason, char *err,
	    size_t errlen);
/* 1 with the zone's last rest (until may be past), 0 when it never
 * rested, -1 on error; reason is cut to reasonsz. */
int	store_dnsbl_zone_get(struct store *st, const char *zone,
	    time_t *since_r, time_t *until_r, char *reason, size_t reasonsz,
	    char *err, size_t errlen);
/* Calls fn with the address of every correspondent (as keyed by
 * store_correspondent_add).  Returns the count, or -1.  (store-sent.c) */
int	store_correspondent_each(struct store *st,
	    void (*fn)(void *ctx, const char *addr), void *ctx, char *err,
	    size_t errlen);

#endif
