/*
 * imap.h: IMAP sessions (imap*.c), the only users of libetpan's IMAP
 * half.  imap.c connects, authenticates and maps libetpan's codes;
 * imap-mbox.c is LIST, NAMESPACE, CREATE, SELECT, STATUS; imap-fetch.c is
 * UID SEARCH and UID FETCH; imap-move.c is moves and flags; imap-idle.c
 * is IDLE and NOOP; imap-utf7.c is the mailbox name codec.  imap-tls.c
 * (certificate checks), imap-guard.c (the stream guard) and imap-oauth.c
 * (OAUTHBEARER) serve the other imap*.c files: they and libetpan's
 * types are in imap-private.h.
 *
 * One struct imap per connection, used by one thread at a time.  The
 * caller must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) before imap_open
 * and should block other signals in the thread that uses the session: a
 * signal during a blocking read fails the command (OUT_TEMP).  Each
 * network read or write waits at most opts.timeout seconds (DNS is not
 * bounded); TCP keepalive is on.
 *
 * Mailbox names are UTF-8 in this API and modified UTF-7 on the wire.
 * const char * arguments are borrowed, never kept.  Nothing is logged
 * but names and reasons (log_debug); never credentials or bodies.
 *
 * Every function returning int returns an outcome (outcome.h):
 *   OUT_OK	done.
 *   OUT_TEMP	network error, timeout, connection closed, server BYE or
 *		out of memory (libetpan STREAM, FATAL, MEMORY, SSL, connect
 *		failures).  The session is dead: imap_alive() is 0 and every
 *		later command returns OUT_TEMP at once; imap_drop() it and
 *		try again later with a new session.
 *   OUT_PERM	retrying will not help.  Either the server refused this
 *		command with NO (the session stays usable and alive), or
 *		the session is dead and must not be retried as is: TLS
 *		verification failed, STARTTLS not offered, PREAUTH in
 *		STARTTLS mode, plaintext to a non-loopback host, a tagged
 *		BAD or a reply libetpan could not parse (PROTOCOL, PARSE;
 *		the stream is desynced).  Check imap_alive().
 *   OUT_AUTH	imap_open only: the server refused the credentials.
 * imap_error() describes the last failure in one line (the server's own
 * text when there is one).
 */
#ifndef IMAPSIFT_AGENT_IMAP_H
#define IMAPSIFT_AGENT_IMAP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/outcome.h"

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
 * not copied).  On OUT_OK *s_r is a session in the authenticated state;
 * on failure *s_r is NULL and err (errlen > 0) holds one line: for
 * OUT_AUTH the server's text.  OUT_PERM besides the cases above: the
 * chosen mechanism is not offered (no AUTH=PLAIN, no AUTH=XOAUTH2,
 * LOGINDISABLED).  OUT_TEMP: DNS, connect, handshake or greeting failed
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
 * and every later command on s fail (OUT_TEMP, the session dead).  The
 * caller must make sure s is neither closed nor freed meanwhile. */
void	imap_cancel(struct imap *s);
/* 1 while the connection is usable, 0 once a command killed it. */
int	imap_alive(const struct imap *s);
/* 1 when the greeting named a server known to report new mail in IDLE
 * only every 60 s as Debian ships it (Cyrus without idled, Courier
 * without FAM): the watch checks with NOOP more often (idle_poll). */
int	imap_pushes_late(const struct imap *s);
/* Why the last command on s failed, one line ("" when it succeeded;
 * after an OUT_OK imap_move, a logged cleanup failure).  Valid until
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

/* LIST "" "*".  On OUT_OK *mb_r is an array of *n_r mailboxes (caller
 * frees with imap_list_free); names the server sent in invalid modified
 * UTF-7 are skipped (log_debug).  On failure *mb_r is NULL, *n_r 0. */
int	imap_list(struct imap *s, struct imap_mailbox **mb_r, size_t *n_r);
void	imap_list_free(struct imap_mailbox *mb, size_t n);
/* NAMESPACE (RFC 2342; ask only when imap_has "NAMESPACE"): the first
 * personal namespace's prefix (UTF-8, malloc'd: "" when the server has
 * none) and hierarchy delimiter ('\0' if none).  On failure *prefix_r
 * is NULL. */
int	imap_namespace(struct imap *s, char **prefix_r, char *delim_r);
/* CREATE name.  A mailbox that already exists is OUT_OK. */
int	imap_create(struct imap *s, const char *name);
/* SELECT name, or EXAMINE when readonly.  Any out pointer may be NULL;
 * a value the server did not send is 0.  On NO (no such mailbox: OUT_PERM)
 * nothing is selected any more. */
int	imap_select(struct imap *s, const char *name, int readonly,
	    uint32_t *uidvalidity_r, uint32_t *uidnext_r, uint32_t *exists_r);
/* The mailbox the last SELECT/EXAMINE selected (NULL: none, or the
 * session is dead); *readonly_r (may be NULL) is 1 for EXAMINE. */
const char *imap_selected(const struct imap *s, int *readonly_r);
/* STATUS name (UIDVALIDITY UIDNEXT), for a mailbox that is not the
 * selected one (RFC 3501 6.3.10); a value the server left out is 0. */
int	imap_status(struct imap *s, const char *name,
	    uint32_t *uidvalidity_r, uint32_t *uidnext_r);

/* 1 when an untagged EXISTS came for the selected mailbox since it was
 * selected (or since the last call): mail arrived while other commands
 * ran, and the server will not announce it again in IDLE.  Clears it. */
int	imap_news(struct imap *s);

/* UID SEARCH SINCE <date of since, UTC>: the selected mailbox's UIDs with
 * an internal date on or after that day, ascending.  On OUT_OK *uids_r
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
 * (UID FLAGS BODY.PEEK[]<0.max_bytes>), so \Seen never
 * changes.  m and its data are valid only during the call.  When the
 * reply then fails, cb has already seen the messages before the failure.
 * Unsolicited FETCH lines (no UID) and UIDs outside the range are
 * skipped.  cb must not use s; when it returns non-zero the remaining
 * messages are skipped and imap_uid_fetch still returns OUT_OK.  No
 * message in the range is OUT_OK.
 */
int	imap_uid_fetch(struct imap *s, uint32_t uid_from, uint32_t uid_to,
	    size_t max_bytes, int (*cb)(void *, const struct imap_msg *),
	    void *arg);
/* Same for the Sent scan: UID FETCH from:* (UID BODY.PEEK[HEADER.FIELDS
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
 * in dest, from COPYUID (only with UIDPLUS; else 0).  Returns OUT_OK when
 * every command succeeded, else the failure (state_r still holds what is
 * known: after a COPY answered OK, IMAP_MV_COPIED).  dest not valid
 * UTF-8: OUT_PERM.
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

#endif
