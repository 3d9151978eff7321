/*
 * agent: the imapsift program itself, the only module that prints, logs,
 * exits or talks to the outside world.  It uses rules/ (and, as they come,
 * store/ and conf/); nothing uses it.
 *
 * Conventions: x*alloc() never return NULL (they die on out of memory).
 * Logging follows OpenSMTPD's shape: log_warn() appends strerror(errno),
 * log_warnx() does not; fatal()/fatalx() log and exit 1.  Messages go to
 * stderr prefixed "imapsift: " (syslog comes with the daemon).
 */
#ifndef IMAPSIFT_AGENT_H
#define IMAPSIFT_AGENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rules/rules.h"

/* Exit codes shared by every command (sysexits-compatible where it
 * matters to cron and systemd). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* some input could not be read */
#define EXIT_CONFIG	2	/* bad usage, config or rule lists */
#define EXIT_AUTH	3
#define EXIT_LOCKED	4	/* undo: the account stayed locked */
#define EXIT_TEMP	75	/* EX_TEMPFAIL: try again later */

/* log.c */
void	log_init(int verbose);
/* From now on (on set) lines go to syslog, facility mail, not stderr. */
void	log_syslog(int on);
const char *log_strerror(int e);	/* strerror, for any thread */
/* A result line (a move): no program name in front on stderr, notice
 * priority in syslog. */
void	log_note(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* util.c */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);

/* A reusable read buffer: p[len] is always a NUL once read. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

/* Opens path for reading if it is a regular file, without blocking on a
 * FIFO.  Returns the descriptor, or -1 with errno set (EISDIR for a
 * directory, EINVAL for a FIFO, device or socket) and *why_r the reason
 * to print ("not a regular file", or strerror's text). */
int	open_regular(const char *path, const char **why_r);
/* Reads a whole regular file ("-" is stdin, whatever it is) into b,
 * reusing its memory.  Files over max bytes are read up to max and
 * *truncated_r set.  Returns -1 with errno and *why_r as open_regular. */
int	read_file(const char *path, size_t max, struct buf *b,
	    int *truncated_r, const char **why_r);

/* mkdir -p with mode for the directories it makes.  Returns -1 with
 * errno. */
int	mkdir_p(const char *path, int mode);

/* A growable list of strings (caller frees with strlist_free). */
struct strlist {
	char	**v;
	size_t	 n, cap;
};
void	strlist_add(struct strlist *l, const char *s);
void	strlist_free(struct strlist *l);
/* Sorts l's strings by strcmp. */
void	strlist_sort(struct strlist *l);
/* qsort and bsearch comparators: uint32_t (UIDs), char * (strcmp). */
int	cmp_u32(const void *a, const void *b);
int	cmp_str(const void *a, const void *b);
/* Seconds on the monotonic clock. */
double	mono_now(void);

/* Appends the regular files below path (path itself when it is a file),
 * sorted by name, skipping dotfiles, not following links below path, at
 * most 32 directories down (a deeper one is skipped with a warning).
 * Returns -1 with errno on a path that cannot be read. */
int	walk_files(const char *path, struct strlist *out);

/* privsep.c.  no_core_dumps: RLIMIT_CORE 0 (inherited by commands) and
 * not dumpable, for every process that holds credentials.  spawn_sh runs
 * /bin/sh -c cmd with its stdout on a pipe (*out_r, close-on-exec), no
 * other descriptor above 2, no signal blocked; its pid, or -1 with
 * errno.  config_file_ok checks the open config fd (name for messages):
 * as root, a file not owned by root is refused; with mine set (watch
 * --config-fd) also one not owned by the effective user or writable by
 * group or others.  0, or -1 after one line. */
void	no_core_dumps(void);
pid_t	spawn_sh(const char *cmd, int *out_r);
int	config_file_ok(int fd, const char *name, int mine);

/* rulesdir.c: the rule lists to load when none are named with -r, and
 * loading them with every error reported.  Returns NULL after printing
 * the errors. */
void	rules_default_paths(struct strlist *out);
/* A shipped data file: PREFIX/share/imapsift/installed, or, for a binary
 * run from its build tree, the source tree's source path.  Returns 0 with
 * the path in out, or -1 when neither exists. */
int	shipped_path(const char *installed, const char *source, char *out,
	    size_t outsz);
struct rules_set *load_rules(const struct strlist *paths, unsigned cc,
	    size_t max_file);	/* bytes per list file; 0: the default */

/* sentdb.c: "did I send this Message-ID?" from the store and/or a file of
 * IDs (the complete record), for rules_user.sent and .correspondent. */
struct store;
struct sentdb {
	struct store *st;
	struct strlist ids;	/* sorted Message-ID keys */
	int	 have_ids;	/* an ID file was loaded: absence is proof */
	time_t	 oldest, newest;	/* the store's coverage */
	int	 complete;
};
int	sentdb_open_store(struct sentdb *db, const char *path);
int	sentdb_load_ids(struct sentdb *db, const char *path);
int	sentdb_sent(void *ctx, const char *id, int64_t date);
int	sentdb_correspondent(void *ctx, const char *addr);
void	sentdb_close(struct sentdb *db);

/* Command entry points: argc/argv start at the command name. */
int	cmd_classify(int argc, char **argv);
int	cmd_explain(int argc, char **argv);
int	cmd_check(int argc, char **argv);
int	cmd_harvest(int argc, char **argv);
int	cmd_learn(int argc, char **argv);
int	cmd_learned(int argc, char **argv);
int	cmd_import_sent(int argc, char **argv);

/* harvest.c, shared with learn.c: the distinct URL hosts (as
 * rules_url_host gives them) and phone numbers (digits) of msg, appended
 * to hosts and phones and each list sorted and made unique; and the
 * domain a host is listed by (its registrable domain, or the host when
 * it is an IP literal), -1 when it has none. */
void	harvest_scan(const struct rules_msg *msg, unsigned cc,
	    struct strlist *hosts, struct strlist *phones);
int	harvest_domain(const char *host, char *out, size_t outsz);
/* Adds the domains of a skip list file (one per line, '#' comments),
 * lowercased, unsorted; -1 (logged) when it cannot be read. */
int	harvest_read_skip(const char *path, struct strlist *skip);

/*
 * learn.c: learning indicators from spam and ham, shared by imapsift
 * learn (files) and sweep/watch (the Junk folder, rescued and kept mail).
 * A spam message adds evidence for its URL domains (by host when the
 * domain is on the shipped skip list of shared-hosting and big sites, or
 * when ham evidence exists for another host of it), phone numbers and
 * mined phrases (rules_mine_phrases); a ham message adds ham evidence for
 * all of them, which keeps them from ever being active.  Bounces and
 * reports are never learned from: what they quote is not their own.
 */
struct learner {
	struct store *st;
	struct strlist skip;	/* sorted */
	unsigned cc;
	unsigned long spam, ham, known, skipped;	/* messages */
};
int	learner_init(struct learner *L, struct store *st, unsigned cc);
void	learner_free(struct learner *L);
/* Learns raw as spam: 1 learned, 0 already learned (same Message-ID) or
 * not learnable (a bounce), -1 on a store error (logged).  source names
 * it ("file:PATH", "imap:ACCOUNT/FOLDER/UID"); manual: the user moved it
 * to Junk; when: its date when the Date header has none (0: now). */
int	learn_spam(struct learner *L, const char *raw, size_t len,
	    const char *source, int manual, time_t when);
/* Records raw's indicators as ham evidence; 0, or -1 (logged). */
int	learn_ham(struct learner *L, const char *raw, size_t len, time_t when);
/* The store's active learned set as a rule set (NULL when it has no
 * active entry), label naming it in hits; entries idle since before
 * cutoff (0: none expire) are left out.  -1 on a store error (logged). */
int	learn_active_set(struct store *st, const char *label, unsigned cc,
	    time_t cutoff, struct rules_set **rs_r, size_t *n_r);
/* explain: prints the sources of a learned hit of kind and value. */
void	learn_explain_sources(struct store *st, const char *kind,
	    const char *value);

/* import.c: $XDG_STATE_HOME/imapsift/imapsift.db, its directory made on
 * the way (dies when it cannot be). */
const char *default_store_path(void);

/*
 * IMAP sessions (imap*.c): the only users of libetpan's IMAP half.
 * imap.c connects, authenticates and maps libetpan's codes; imap-tls.c
 * verifies the server certificate; imap-mbox.c is LIST, CREATE, SELECT;
 * imap-fetch.c is UID SEARCH and UID FETCH; imap-move.c is moves and
 * flags; imap-utf7.c is the mailbox name codec.
 *
 * One struct imap per connection, used by one thread at a time.  The
 * caller must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) before imap_open
 * and should block other signals in the thread that uses the session: a
 * signal during a blocking read fails the command (IMAP_TEMP).  Each
 * network read or write waits at most opts.timeout seconds (DNS is not
 * bounded); TCP keepalive is on.
 *
 * Mailbox names are UTF-8 in this API and modified UTF-7 on the wire.
 * const char * arguments are borrowed, never kept.  Nothing is logged
 * but names and reasons (log_debug); never credentials or bodies.
 *
 * Every function returning int returns one of:
 *   IMAP_OK	done.
 *   IMAP_TEMP	network error, timeout, connection closed, server BYE or
 *		out of memory (libetpan STREAM, FATAL, MEMORY, SSL, connect
 *		failures).  The session is dead: imap_alive() is 0 and every
 *		later command returns IMAP_TEMP at once; imap_drop() it and
 *		try again later with a new session.
 *   IMAP_PERM	retrying will not help.  Either the server refused this
 *		command with NO (the session stays usable and alive), or
 *		the session is dead and must not be retried as is: TLS
 *		verification failed, STARTTLS not offered, PREAUTH in
 *		STARTTLS mode, plaintext to a non-loopback host, a tagged
 *		BAD or a reply libetpan could not parse (PROTOCOL, PARSE;
 *		the stream is desynced).  Check imap_alive().
 *   IMAP_AUTH	imap_open only: the server refused the credentials.
 * imap_error() describes the last failure in one line (the server's own
 * text when there is one).
 */
#define IMAP_OK		0
#define IMAP_TEMP	1
#define IMAP_PERM	2
#define IMAP_AUTH	3

#define IMAP_TLS_IMPLICIT	0	/* TLS from the first byte (993) */
#define IMAP_TLS_STARTTLS	1	/* plaintext, then STARTTLS (143) */
#define IMAP_TLS_NONE		2	/* loopback hosts only */

#define IMAP_AUTH_LOGIN		0	/* LOGIN user secret */
#define IMAP_AUTH_PLAIN		1	/* AUTHENTICATE PLAIN, no authzid;
					   needs libsasl2-modules */
#define IMAP_AUTH_XOAUTH2	2	/* secret is the OAuth2 access token */
#define IMAP_AUTH_OAUTHBEARER	3	/* the same, RFC 7628 */

struct imap_opts {
	const char	*host;		/* name or IP literal */
	uint16_t	 port;		/* must not be 0 */
	int		 tls;		/* IMAP_TLS_* */
	const char	*ca_file;	/* PEM CA bundle; NULL: system store */
	int		 timeout;	/* seconds per read/write; <= 0: 60 */
	const char	*user;
	const char	*secret;	/* password or token */
	int		 auth;		/* IMAP_AUTH_* */
	const char	*account;	/* for log lines only */
};

struct imap;

/*
 * Connects, verifies TLS (chain against ca_file or the system store, host
 * name or IP address, server-auth key purpose; SNI sent for names) before
 * any credential is sent, re-reads the capabilities after STARTTLS and
 * after login, and authenticates.  Nothing in opts is kept (the secret is
 * not copied).  On IMAP_OK *s_r is a session in the authenticated state;
 * on failure *s_r is NULL and err (errlen > 0) holds one line: for
 * IMAP_AUTH the server's text.  IMAP_PERM besides the cases above: the
 * chosen mechanism is not offered (no AUTH=PLAIN, no AUTH=XOAUTH2,
 * LOGINDISABLED).  IMAP_TEMP: DNS, connect, handshake or greeting failed
 * or timed out.
 */
int	imap_open(struct imap **s_r, const struct imap_opts *opts, char *err,
	    size_t errlen);
/* Sends LOGOUT waiting at most 5 seconds (nothing when the session is
 * dead), closes and frees; *s becomes NULL.  NULL *s is fine. */
void	imap_close(struct imap **s);
/* Closes the connection without LOGOUT and frees; *s becomes NULL. */
void	imap_drop(struct imap **s);
/* Cuts s's connection from another thread: the network wait in progress
 * and every later command on s fail (IMAP_TEMP, the session dead).  The
 * caller must make sure s is neither closed nor freed meanwhile. */
void	imap_cancel(struct imap *s);
/* 1 while the connection is usable, 0 once a command killed it. */
int	imap_alive(const struct imap *s);
/* 1 when the greeting named a server known to report new mail in IDLE
 * only every 60 s as Debian ships it (Cyrus without idled, Courier
 * without FAM): the watch checks with NOOP more often (idle_poll). */
int	imap_pushes_late(const struct imap *s);
/* Why the last command on s failed, one line ("" when it succeeded;
 * after an IMAP_OK imap_move, a logged cleanup failure).  Valid until
 * the next call on s. */
const char *imap_error(const struct imap *s);
/* 1 when the server advertised cap ("MOVE", "UIDPLUS", "SPECIAL-USE",
 * "IDLE", case-insensitive) in the last capability list, else 0. */
int	imap_has(struct imap *s, const char *cap);

/* Mailbox attributes from LIST (RFC 3501, 3348, 6154). */
#define IMAP_MBOX_NOSELECT	0x0001
#define IMAP_MBOX_NOINFERIORS	0x0002
#define IMAP_MBOX_NONEXISTENT	0x0004
#define IMAP_MBOX_HASCHILDREN	0x0008
#define IMAP_MBOX_JUNK		0x0010
#define IMAP_MBOX_SENT		0x0020
#define IMAP_MBOX_TRASH		0x0040
#define IMAP_MBOX_DRAFTS	0x0080
#define IMAP_MBOX_ARCHIVE	0x0100
#define IMAP_MBOX_ALL		0x0200
#define IMAP_MBOX_FLAGGED	0x0400

struct imap_mailbox {
	char		*name;		/* UTF-8 */
	char		 delim;		/* hierarchy delimiter; '\0' if none */
	unsigned	 flags;		/* IMAP_MBOX_* */
};

/* LIST "" "*".  On IMAP_OK *mb_r is an array of *n_r mailboxes (caller
 * frees with imap_list_free); names the server sent in invalid modified
 * UTF-7 are skipped (log_debug).  On failure *mb_r is NULL, *n_r 0. */
int	imap_list(struct imap *s, struct imap_mailbox **mb_r, size_t *n_r);
void	imap_list_free(struct imap_mailbox *mb, size_t n);
/* NAMESPACE (RFC 2342; ask only when imap_has "NAMESPACE"): the first
 * personal namespace's prefix (UTF-8, malloc'd: "" when the server has
 * none) and hierarchy delimiter ('\0' if none).  On failure *prefix_r
 * is NULL. */
int	imap_namespace(struct imap *s, char **prefix_r, char *delim_r);
/* CREATE name.  A mailbox that already exists is IMAP_OK. */
int	imap_create(struct imap *s, const char *name);
/* SELECT name, or EXAMINE when readonly.  Any out pointer may be NULL;
 * a value the server did not send is 0.  On NO (no such mailbox: IMAP_PERM)
 * nothing is selected any more. */
int	imap_select(struct imap *s, const char *name, int readonly,
	    uint32_t *uidvalidity_r, uint32_t *uidnext_r, uint32_t *exists_r);
/* The mailbox the last SELECT/EXAMINE selected (NULL: none, or the
 * session is dead); *readonly_r (may be NULL) is 1 for EXAMINE.
 * imap_set_selected is imap_select's record of it. */
const char *imap_selected(const struct imap *s, int *readonly_r);
void	imap_set_selected(struct imap *s, const char *name, int readonly);
/* STATUS name (UIDVALIDITY UIDNEXT), for a mailbox that is not the
 * selected one (RFC 3501 6.3.10); a value the server left out is 0. */
int	imap_status(struct imap *s, const char *name,
	    uint32_t *uidvalidity_r, uint32_t *uidnext_r);

/* 1 when an untagged EXISTS came for the selected mailbox since it was
 * selected (or since the last call): mail arrived while other commands
 * ran, and the server will not announce it again in IDLE.  Clears it. */
int	imap_news(struct imap *s);

/* UID SEARCH key (taken, freed): the UIDs of at least from, ascending;
 * what names the command in the error.  On IMAP_OK *uids_r is malloc'd
 * (caller frees; NULL when *n_r is 0).  The searches below use it. */
struct mailimap_search_key;
int	imap_uid_search(struct imap *s, struct mailimap_search_key *key,
	    uint32_t from, const char *what, uint32_t **uids_r, size_t *n_r);
/* UID SEARCH SINCE <date of since, UTC>: the selected mailbox's UIDs with
 * an internal date on or after that day, ascending.  On IMAP_OK *uids_r
 * is malloc'd (caller frees; NULL when *n_r is 0). */
int	imap_uid_search_since(struct imap *s, time_t since, uint32_t **uids_r,
	    size_t *n_r);
/* UID SEARCH UID from:*: the UIDs from from on, ascending, the same way
 * (the one below from that "*" may name is left out). */
int	imap_uid_search_from(struct imap *s, uint32_t from, uint32_t **uids_r,
	    size_t *n_r);
/* UID SEARCH UID from:* BEFORE <day of before> [SINCE <day of since>,
 * when not 0] NOT KEYWORD $Junk: mail kept past a grace period. */
int	imap_uid_search_kept(struct imap *s, uint32_t from, time_t since,
	    time_t before, uint32_t **uids_r, size_t *n_r);

/* Message flags from FETCH. */
#define IMAP_FL_SEEN		0x0001
#define IMAP_FL_ANSWERED	0x0002
#define IMAP_FL_FLAGGED		0x0004
#define IMAP_FL_DELETED		0x0008
#define IMAP_FL_DRAFT		0x0010
#define IMAP_FL_JUNK		0x0020	/* $Junk or Junk */
#define IMAP_FL_NOTJUNK		0x0040	/* $NotJunk, NotJunk or NonJunk */

struct imap_msg {
	uint32_t	 uid;
	unsigned	 flags;		/* IMAP_FL_*; 0 for header fetches */
	const char	*data;		/* bytes, NUL-terminated; borrowed */
	size_t		 len;		/* bytes in data (capped body) */
};

/*
 * Calls cb(arg, m) for each message of the selected mailbox whose UID is
 * in uid_from..uid_to (uid_to 0: no upper bound), in server order, as
 * the reply is read (one message in memory at a time): UID FETCH from:to
 * (UID FLAGS INTERNALDATE BODY.PEEK[]<0.max_bytes>), so \Seen never
 * changes.  m and its data are valid only during the call.  When the
 * reply then fails, cb has already seen the messages before the failure.
 * Unsolicited FETCH lines (no UID) and UIDs outside the range are
 * skipped.  cb must not use s; when it returns non-zero the remaining
 * messages are skipped and imap_uid_fetch still returns IMAP_OK.  No
 * message in the range is IMAP_OK.
 */
int	imap_uid_fetch(struct imap *s, uint32_t uid_from, uint32_t uid_to,
	    size_t max_bytes, int (*cb)(void *, const struct imap_msg *),
	    void *arg);
/* Same for the Sent harvest: UID FETCH from:* (UID BODY.PEEK[HEADER.FIELDS
 * (Message-ID To Cc Date)]); m->data is those header lines. */
int	imap_fetch_headers(struct imap *s, uint32_t uid_from,
	    int (*cb)(void *, const struct imap_msg *), void *arg);

/*
 * Moves the n UIDs (n > 0, any order) from the selected mailbox to dest:
 * UID MOVE when advertised; else UID COPY + UID STORE +FLAGS.SILENT
 * (\Deleted) + UID EXPUNGE of those UIDs when UIDPLUS is; else UID COPY +
 * UID STORE only (the originals stay, flagged \Deleted, for the user's
 * client: never a bare EXPUNGE).  On NO [TRYCREATE] dest is created and
 * the command retried once.  An OK is not taken on trust: the mailbox is
 * searched for the UIDs afterwards (except after COPY without UIDPLUS).
 * state_r (room for n) says per UID, in the order of uids: IMAP_MV_DONE
 * (in dest, original gone or flagged), IMAP_MV_COPIED (in dest, original
 * still there: remove it later with imap_remove), IMAP_MV_NOT (not
 * moved, or not known to be) or IMAP_MV_GONE (neither moved nor there
 * any more).  new_uids_r (NULL or room for n) receives the UID each got
 * in dest, from COPYUID (only with UIDPLUS; else 0).  Returns IMAP_OK when
 * every command succeeded, else the failure (state_r still holds what is
 * known: after a COPY answered OK, IMAP_MV_COPIED).  dest not valid
 * UTF-8: IMAP_PERM.
 */
#define IMAP_MV_DONE	0
#define IMAP_MV_COPIED	1
#define IMAP_MV_NOT	2
#define IMAP_MV_GONE	3
int	imap_move(struct imap *s, const uint32_t *uids, size_t n,
	    const char *dest, uint32_t *new_uids_r, int *state_r);
/* UID SEARCH UID: present[i] (room for n) is set to 1 when uids[i] is
 * still in the selected mailbox, else 0. */
int	imap_uid_present(struct imap *s, const uint32_t *uids, size_t n,
	    char *present);
/* Removes the n UIDs (copied elsewhere before) from the selected mailbox:
 * UID STORE +FLAGS.SILENT (\Deleted), then UID EXPUNGE with UIDPLUS. */
int	imap_remove(struct imap *s, const uint32_t *uids, size_t n);
/* UID STORE uids op, op being e.g. "+FLAGS.SILENT ($Junk)" (the forms
 * [+-]FLAGS[.SILENT] (flag ...)). */
int	imap_store_flags(struct imap *s, const uint32_t *uids, size_t n,
	    const char *op);

/* imap-idle.c: IDLE on the selected mailbox.  imap_idle_start sends IDLE
 * and reads to the continuation; *had_data_r is set when the server said
 * something on the way (the caller should look for new mail after DONE).
 * imap_idle_wait waits up to ms milliseconds: 1 when the server sent
 * something, 2 when wake_fd (-1: none) became readable, 0 on timeout, -1
 * on error.  imap_idle_done sends DONE and reads the reply. */
int	imap_idle_start(struct imap *s, int *had_data_r);
int	imap_idle_wait(struct imap *s, int wake_fd, int ms);
int	imap_idle_done(struct imap *s);
int	imap_noop(struct imap *s);

/* imap-utf7.c: mailbox name codec.  Both return a malloc'd string
 * (caller frees) or NULL with errno EILSEQ (invalid input: bad UTF-8, or
 * not canonical modified UTF-7) or ENOMEM.  Uses plain malloc. */
char	*imap_utf7_encode(const char *utf8);
char	*imap_utf7_decode(const char *mutf7);

/* Internal to imap*.c. */
struct mailimap;
struct mailimap_set;
struct mailimap *imap_mi(struct imap *s);
const char *imap_host(const struct imap *s);
/* IMAP_OK when s is alive, else IMAP_TEMP. */
int	imap_ready(struct imap *s);
/* Maps a libetpan code r from command what to IMAP_*, records the error
 * text (with the server's) and marks s dead when the stream is gone. */
int	imap_fail(struct imap *s, int r, const char *what);
/* The same for an optional command: a BAD answered in step (checked
 * with a NOOP) leaves s alive and gives IMAP_PERM. */
int	imap_fail_optional(struct imap *s, int r, const char *what);
int	imap_tls_verify(struct imap *s, const char *ca_file, char *err,
	    size_t errlen);
/* ": REASON" of this thread's last failed TLS handshake (what libetpan
 * passed to gnutls_perror), or ""; forgets it. */
void	imap_tls_why(char *out, size_t outlen);
/* imap-oauth.c: AUTHENTICATE OAUTHBEARER; a libetpan code. */
int	imap_oauthbearer(struct imap *s, const char *user, const char *token,
	    unsigned port);
struct mailimap_set *imap_uidset(const uint32_t *uids, size_t n);
/*
 * imap-guard.c: a low stream between libetpan's parser and the socket or
 * TLS stream that defuses libetpan 1.9.4 faults: end of file becomes an
 * error (a plaintext literal cut short spins forever otherwise), a
 * literal {N} over the limit is refused before libetpan allocates it,
 * "[PERMANENTFLAGS" outside literals becomes the unknown code
 * "[XERMANENTFLAGS" (an unparsable list crashes 1.9.4).  A refusal
 * fails the command with MAILIMAP_ERROR_STREAM; drop the session.
 * imap_guard_install wraps mi's current low stream (after connect and
 * again after STARTTLS, which replaces it); 0, or -1 out of memory or no
 * stream.  imap_guard_wrap wraps inner (the guard then owns it), NULL
 * when out of memory.  The limit is max(max_fetch_bytes + 64 KiB,
 * 1 MiB), 1 MiB until set; a no-op without a guard.  imap_guard_error:
 * why the guard cut the stream (refusal or end of file), NULL when it
 * did not; valid while the stream is open.
 */
struct _mailstream_low;
int	imap_guard_install(struct mailimap *mi);
struct _mailstream_low *imap_guard_wrap(struct _mailstream_low *inner);
void	imap_guard_set_limit(struct mailimap *mi, size_t max_fetch_bytes);
const char *imap_guard_error(struct mailimap *mi);

/*
 * Sweep (sweep.c, sent.c, account.c, actlog.c): `imapsift sweep`, `log`
 * and `undo`, and what they share: the config file, the store and lock
 * of an account, and the session built from an account's settings.
 */
struct conf;
struct conf_account;

/* account.c */
/* $XDG_CONFIG_HOME/imapsift/config (or ~/.config/...), or NULL. */
const char *config_default_path(void);
/* Loads path (NULL: the default), printing every error.  Returns EXIT_OK
 * or EXIT_CONFIG.  With optional set, a missing default file is EXIT_OK
 * with *conf_r NULL. */
int	config_load(const char *path, int optional, struct conf **conf_r);
/* The same for an open descriptor (watch --config-fd): name is for the
 * messages; the file must be the effective user's (config_file_ok). */
int	config_load_fd(int fd, const char *name, struct conf **conf_r);
/* `imapsift check -c FILE`: the config and its rule lists. */
int	config_check(const char *path);
/* The store directory (config store, else $XDG_STATE_HOME/imapsift),
 * made 0700; -1 after a warning. */
int	store_dir(const struct conf *c, char *out, size_t outsz);
/* Opens DIR/imapsift.db read-write; EXIT_OK or EXIT_FAIL (warned). */
int	store_open_dir(const char *dir, struct store **st_r);
/* The account locks, keyed by the server mailbox (lower-case host,
 * port, user) in the user's one lock directory ($XDG_STATE_HOME/imapsift/
 * locks, else ~/.local/state/imapsift/locks; account.c).  LOCK_OWNER is
 * held by sweep for its run and by watch for as long as it watches;
 * LOCK_WORK by whoever moves mail: sweep, each watch pass, undo.
 * account_lock takes one (flock, no wait): 0 with *fd_r held, 1 when
 * another process (or thread) holds it, -1 after a warning.
 * account_lock_name: the lock's file name without its suffix
 * ("user@host:port-HASH"). */
#define LOCK_OWNER	0
#define LOCK_WORK	1
int	account_lock(const struct conf_account *a, int kind, int *fd_r);
void	account_lock_name(const struct conf_account *a, char *out,
	    size_t outsz);
/* The rule set for c (its rules, else rules_default_paths); NULL after
 * printing the errors. */
struct rules_set *config_rules(const struct conf *c);
/* The rule files and directories of c (its rules, else the defaults). */
void	config_rule_paths(const struct conf *c, struct strlist *out);
void	config_limits(const struct conf *c, struct rules_limits *lim);
/* Runs password_command if any (auth = "oauth2": takes the access token
 * from the token store in dir, the store directory) and imap_open()s the
 * account.  Returns EXIT_OK with *s_r, or EXIT_AUTH, EXIT_TEMP, EXIT_FAIL
 * after one line. */
int	account_connect(const struct conf_account *a, const char *dir,
	    struct imap **s_r);
/* The same, silent: the failure's one line goes to why instead. */
int	account_open(const struct conf_account *a, const char *dir,
	    struct imap **s_r, char *why, size_t whylen);

/*
 * oauth2*.c: auth = "oauth2".  oauth2-http.c posts forms to the
 * authorization server (libcurl, verified TLS) and reads its JSON
 * replies (json-c); oauth2.c has the provider presets, the token store
 * (DIR/NAME.oauth2, 0600, or token_command) and the access token for a
 * login; oauth2-login.c is `imapsift login`.  Tokens are never logged.
 * Results: OAUTH2_OK; OAUTH2_TEMP network trouble or a server error, try
 * later; OAUTH2_LOGIN no refresh token, or the server refused it
 * (invalid_grant): the user must run imapsift login; OAUTH2_FAIL the
 * server refused the client or the request, or the store failed;
 * OAUTH2_TLS the server's certificate did not verify.
 */
#define OAUTH2_OK	0
#define OAUTH2_TEMP	1
#define OAUTH2_LOGIN	2
#define OAUTH2_FAIL	3
#define OAUTH2_TLS	4

struct conf_account;
struct oauth2_json;
/* An account's endpoints and scopes: the file's, else its preset's. */
struct oauth2_ep {
	const char *auth, *token, *device;	/* NULL: none */
	const char *extra;	/* more authorization URL parameters */
	int	 flow;		/* CONF_OAUTH2_FLOW_CODE or _DEVICE */
	char	*scopes;	/* space-separated, malloc'd */
};
void	oauth2_endpoints(const struct conf_account *a, struct oauth2_ep *e);
void	oauth2_ep_free(struct oauth2_ep *e);
/* An access token for a (store in dir): the stored one while it has
 * more than a quarter of its lifetime (at most a minute) left, unless
 * force; else a refreshed one, stored with the refresh token the server
 * may have rotated (*fresh_r 1).  OAUTH2_OK with *token_r (malloc'd;
 * wipe and free), else one line in err. */
int	oauth2_access_token(const struct conf_account *a, const char *dir,
	    int force, char **token_r, int *fresh_r, char *err,
	    size_t errlen);
/* 1 while the last refresh of a found no refresh token or got
 * invalid_grant and its token file has not changed since (a
 * token_command store: until the process reloads). */
int	oauth2_login_needed(const struct conf_account *a, const char *dir);
unsigned long long oauth2_store_stamp(const struct conf_account *a,
	    const char *dir);
void	oauth2_token_path(const struct conf_account *a, const char *dir,
	    char *out, size_t outsz);
/* Stores the tokens of a successful token reply j (old_refresh: kept
 * when j has none); OAUTH2_OK or OAUTH2_FAIL with err. */
int	oauth2_take_tokens(const struct conf_account *a, const char *dir,
	    const struct oauth2_json *j, const char *old_refresh, char *err,
	    size_t errlen);
/* The OAUTH2_* for an error reply (RFC 6749 5.2), one line in err. */
int	oauth2_token_error(const struct oauth2_json *j, long status,
	    char *err, size_t errlen);
/* Forms: appends "k=v" URL-encoded (f->p stays a string). */
void	oauth2_form_add(struct buf *f, const char *k, const char *v);
void	oauth2_form_free(struct buf *f);
/* POSTs form to url: OAUTH2_OK with *j_r (any HTTP status with a JSON
 * object; free with oauth2_json_free) and *status_r, else err. */
int	oauth2_post(const struct conf_account *a, const char *url,
	    const char *form, struct oauth2_json **j_r, long *status_r,
	    char *err, size_t errlen);
const char *oauth2_json_str(const struct oauth2_json *j, const char *key);
long long oauth2_json_int(const struct oauth2_json *j, const char *key,
	    long long def);
void	oauth2_json_free(struct oauth2_json **j);
char	*oauth2_escape(const char *s);	/* URL-encoded, malloc'd */
/* Base64 (url: base64url without padding), malloc'd. */
char	*oauth2_base64(const void *data, size_t n, int url);
int	cmd_login(int argc, char **argv);

/* sent.c: harvests the n Sent mailboxes of account into st (incremental,
 * per-mailbox state under "sent:NAME").  The session's selection is lost.
 * Returns IMAP_OK, or the failing IMAP_* (store errors: IMAP_PERM). */
int	sent_harvest(struct imap *s, struct store *st, const char *account,
	    char *const *mboxes, size_t n);

/* actlog.c: "30m", "2h", "3d", "1w" or seconds; -1 when unreadable. */
int	parse_duration(const char *s, time_t *secs_r);

int	cmd_sweep(int argc, char **argv);
/* watch.c, watch-super.c: `imapsift watch`; as root with --config-dir,
 * watch_supervise runs one child per config file as its owner. */
int	cmd_watch(int argc, char **argv);
int	watch_supervise(const char *dir, int foreground, int syslog_fg,
	    int verbose);
/* The regular files of dir (not hidden, not ending in ~), sorted; -1
 * after a warning. */
int	watch_dir_files(const char *dir, struct strlist *out);
int	cmd_log(int argc, char **argv);
int	cmd_undo(int argc, char **argv);

/* feeds.c: subscribed rule list feeds (config `feeds`).  feeds_dir: the
 * directory of their copies, STORE/feeds (made 0700); -1 after a warning.
 * feeds_refresh fetches every feed whose last fetch is older than its
 * interval (all with force) and returns how many copies changed;
 * failures are logged once and kept for `imapsift feeds`. */
int	feeds_dir(const struct conf *c, char *dir, size_t dirsz);
int	feeds_refresh(const struct conf *c, int force);
int	cmd_feeds(int argc, char **argv);
struct conf_feed;
/* feedsig.c: feedsig_verify checks f's detached signature file sig
 * (siglen bytes as downloaded) over the list m (mlen bytes) with f's
 * pubkey and sig_kind; returns 0 with minisign's trusted comment in tc
 * ("" for signify), or -1 with the reason in err.  feedsig_keyid: the
 * key number of a pubkey line as minisign prints it, or "?". */
int	feedsig_verify(const struct conf_feed *f, const char *sig,
	    size_t siglen, const void *m, size_t mlen, char *tc, size_t tclen,
	    char *err, size_t errlen);
void	feedsig_keyid(const char *pubkey, char *out, size_t outlen);

/*
 * Sweep internals, shared by sweep.c (fetching and judging) and
 * sweep-move.c (folders, moves and their log rows) only: the state of
 * one account's sweep.
 */
#define SWEEP_BATCH	1000	/* UIDs fetched per batch */
/* Moves held (logged pending) across batches before they are made: one
 * UID STORE and one UID MOVE per destination and flush, the UID set of
 * at most this many UIDs staying well under servers' line limits. */
#define SWEEP_FLUSH	2000

enum { DEST_JUNK, DEST_BS, NDEST };	/* struct sweep.dest[] */

struct move {
	uint32_t uid, new_uid;
	int	 dest;
	int	 state;		/* IMAP_MV_* once made */
	char	*msgid, *reasons;
	int64_t	 id;
};

struct work;
struct dnsbl;
struct dnsbl_msg;

/* What deciding one message needs, from its classification. */
struct verdict {
	struct verdict *next;
	uint64_t seq;		/* push order (sweep-work.c) */
	uint32_t uid;
	int	 cls;		/* enum rules_class */
	char	*msgid, *reasons;
	char	*raw;		/* the message: only for RULES_BACKSCATTER */
	size_t	 len;
	char	**fp;		/* "kind<TAB>value" of the matched indicators */
	size_t	 nfp;
	int	 corr;		/* From a correspondent (rules_user) */
	double	 score;		/* the rules' score */
	char	**hosts;	/* URL hosts to ask the DNS blocklists about */
	size_t	 nhosts;	/* (clean mail, sender not allowed) */
	struct dnsbl_msg *dm;	/* those lookups, while they run */
};

struct cand {			/* a backscatter verdict to confirm */
	uint32_t uid;
	char	*raw;
	size_t	 len;
};

struct sweep {
	const struct conf *conf;
	const struct conf_account *a;
	struct imap *s;
	struct store *st;
	struct rules_set *rs;
	struct rules_limits lim;
	struct rules_user user;
	struct sentdb db;
	struct work *work;	/* the classifier (sweep-work.c) */
	struct dnsbl *dnsbl;	/* URI DNS blocklists, or NULL (dnsbl.c) */
	struct verdict *dq, **dqt;	/* verdicts waiting for their DNS */
	struct strlist addrs, sent;
	char	*dest[NDEST];
	int	 dry_run, all, reharvested, rescan, tty;
	int	 harvest_failed;	/* bounces are held, not judged */
	int	 news;		/* more mail came in during the pass */
	uint32_t hold;		/* lowest UID held (0: none): not passed */
	size_t	 held;
	uint32_t *rm;		/* originals of earlier copies, to remove */
	size_t	 nrm, caprm;
	const char *mbox;
	uint32_t uv, last, uidnext, maxseen;
	uint32_t hi;		/* the state once the held moves are made */
	const uint32_t *want;
	size_t	 nwant;
	struct move *mv;	/* held moves, mv[0..nlog) logged pending */
	size_t	 nmv, nlog, capmv;
	struct cand *cd;
	size_t	 ncd, capcd;
	size_t	 seen, moved[NDEST], kept, errors;
	double	 t0, tprog;
	int64_t	 first_id;	/* first action this pass logged, or 0:
				   ids from it on are this pass's */
	int	 log_empty;	/* no action of the account before this pass */
	/* learning (sweep-learn.c) */
	struct learner learner;
	int	 learner_ok, learned_loaded;
	double	 learn_at;	/* next look at Junk, monotonic */
	double	 learn_full_at;	/* next full harvest (Sent, ham, Junk) */
	int	 learn_kept_due;	/* a full harvest: count kept mail */
	struct rules_set *learned;	/* the active set in use, or NULL */
	int64_t	 learned_gen;
	time_t	 learned_day;
	struct strlist seen_ids;	/* Message-IDs left in this mailbox */
	char	*folders_said;	/* the folder choice last logged (folders.c) */
};

/* sweep.c, for watch.c too.  sweep_setup fills *sw for account a (store
 * st and rules rs stay the caller's; threaded: classify beside the
 * reader).  sweep_new_session hands it a new session s (the folders are
 * looked up again).  sweep_pass runs over the session: LIST once per
 * session, Sent when harvest_now is set (and before any backscatter
 * verdict), then the new mail of every watched mailbox (the first one
 * last: it stays selected).  Returns IMAP_*.  sw->news is set when mail
 * was seen arriving during the pass (see imap_news). */
void	sweep_setup(struct sweep *sw, const struct conf *c,
	    const struct conf_account *a, struct store *st,
	    struct rules_set *rs, const char *dir, int threaded);
void	sweep_new_session(struct sweep *sw, struct imap *s);
/* Between passes only: from now on sw judges with c, a (the same
 * account, as reloaded) and rs; the folders are looked up again. */
void	sweep_rebind(struct sweep *sw, const struct conf *c,
	    const struct conf_account *a, struct rules_set *rs);
/* The store handle to use from now on (watch opens one per pass). */
void	sweep_set_store(struct sweep *sw, struct store *st);
int	sweep_pass(struct sweep *sw, int harvest_now);
void	sweep_free(struct sweep *sw);

/* sweep-work.c: classifies pushed messages in a second thread (threaded
 * set) or at once.  work_start copies sw's rules, limits and user (set
 * them first) and opens its own handle on the store in dir; work_sync
 * hands it sw->db's coverage after a harvest (only with nothing pending).
 * work_push copies the message and returns 1 when it handed messages
 * over (verdicts may be ready), 0 when it holds it for the next hand-off;
 * it waits while 8 MiB are queued.  work_next returns the next verdict in
 * push order (caller frees with verdict_free), or NULL: none ready, or
 * (wait set: everything pushed is handed over first) none pending. */
int	work_start(struct sweep *sw, const char *dir, int threaded);
void	work_sync(struct sweep *sw);
/* With nothing pending: takes sw's rules, limits and user again. */
void	work_rebind(struct sweep *sw);
int	work_push(struct sweep *sw, uint32_t uid, const char *raw,
	    size_t len);
struct verdict *work_next(struct sweep *sw, int wait);
void	work_stop(struct sweep *sw);
/* Classifies raw (malloc'd, NUL-terminated; taken) for uid; with hosts
 * set, keeps the URL hosts of clean mail for the DNS blocklists. */
struct verdict *verdict_make(uint32_t uid, char *raw, size_t len,
	    const struct rules_set *rs, const struct rules_limits *lim,
	    const struct rules_user *user, int hosts);
/* The hosts of v's URL findings, distinct, in order: for DNS
 * blocklists (appended to *hosts_r, *n_r). */
void	verdict_hosts(const struct rules_verdict *v, char ***hosts_r,
	    size_t *n_r);
void	verdict_free(struct verdict *v);

/* sweep-learn.c: sweep_learn harvests Junk (spam), Sent and the ham
 * folders once per learn_interval and reloads the active learned set when
 * it changed; sweep_unlearn records a rescued message as ham evidence;
 * sweep_was_learned: was msgid learned from Junk?  work_set_learned
 * (sweep-work.c) hands the classifier a new learned set (nothing may be
 * pending). */
int	sweep_learn(struct sweep *sw);
void	sweep_unlearn(struct sweep *sw, const char *raw, size_t len);
int	sweep_was_learned(struct sweep *sw, const char *msgid);
/* After sweep judged mbox (still selected), in a pass that harvested:
 * its mail kept past ham_grace days becomes ham evidence. */
int	sweep_learn_kept(struct sweep *sw, const char *mbox);
/* A message from a correspondent that sweep leaves in a watched mailbox:
 * its indicators are ham evidence. */
void	sweep_learn_corr(struct sweep *sw, const char *raw, size_t len);
void	work_set_learned(struct sweep *sw, const struct rules_set *rs);

/* sweep-move.c */
void	add_move(struct sweep *sw, uint32_t uid, int dest, const char *msgid,
	    const char *reasons);
void	clear_moves(struct sweep *sw);
/* Logs the batch's moves as pending and holds them, the mailbox to be
 * advanced to hi once they are made; makes every held move when
 * SWEEP_FLUSH are held or none is (dry run: only says what would move).
 * Returns IMAP_*. */
int	do_moves(struct sweep *sw, uint32_t hi);
/* Makes the held moves, completes their rows, advances the mailbox to
 * the hi of the last do_moves().  Returns IMAP_*. */
int	flush_moves(struct sweep *sw);
/* A batch failed with r: drops its moves (not logged yet); makes those
 * held from the batches before it if the mailbox is still selected and
 * the session usable, else logs them failed.  Returns r. */
int	abort_moves(struct sweep *sw, int r, int selected);
/* LIST: the Junk and Sent mailboxes; creates missing destinations. */
int	find_folders(struct sweep *sw);

/*
 * folders.c: which mailboxes are Junk, Sent and Backscatter.  The
 * account's configured names win; else Junk is the \Junk (or XLIST
 * \Spam) mailbox, then the first of the names clients give it ("Junk",
 * "Junk Email", "Spam", "[Gmail]/Spam", localized ones, with or without
 * the personal namespace prefix), and only when none exists prefix +
 * "Junk" (to be created); Sent every \Sent mailbox, else every one
 * named as clients name it; Backscatter an existing one, else prefix +
 * "Backscatter".  prefix and delim: the personal namespace (NAMESPACE),
 * or NULL to derive it from the list (INBOX's children).  Fills
 * dest[DEST_JUNK], dest[DEST_BS] (malloc'd), adds to *sent, and writes
 * why each was chosen, one line, into why.
 */
void	folders_choose(const struct conf_account *a,
	    const struct imap_mailbox *mb, size_t n, const char *prefix,
	    char delim, char *dest[NDEST], struct strlist *sent, char *why,
	    size_t whylen);

#endif
