/*
 * imap-private.h: what the imap*.c files share, and the one place of
 * agent/ besides them that names libetpan's IMAP types.  Callers use
 * imap.h.
 */
#ifndef IMAPSIFT_AGENT_IMAP_PRIVATE_H
#define IMAPSIFT_AGENT_IMAP_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/imap.h"

struct mailimap;
struct mailimap_search_key;
struct mailimap_set;
struct _mailstream_low;

/* imap_select's record of the selected mailbox (see imap_selected). */
void	imap_set_selected(struct imap *s, const char *name, int readonly);

/* UID SEARCH key (taken, freed): the UIDs of at least from, ascending;
 * what names the command in the error.  On OUT_OK *uids_r is malloc'd
 * (caller frees; NULL when *n_r is 0).  imap.h's imap_uid_search_*
 * use it. */
int	imap_uid_search(struct imap *s, struct mailimap_search_key *key,
	    uint32_t from, const char *what, uint32_t **uids_r, size_t *n_r);

struct mailimap *imap_mi(struct imap *s);
const char *imap_host(const struct imap *s);
/* OUT_OK when s is alive, else OUT_TEMP. */
int	imap_ready(struct imap *s);
/* Maps a libetpan code r from command what to OUT_*, records the error
 * text (with the server's) and marks s dead when the stream is gone. */
int	imap_fail(struct imap *s, int r, const char *what);
/* The same for an optional command: a BAD answered in step (checked
 * with a NOOP) leaves s alive and gives OUT_PERM. */
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
int	imap_guard_install(struct mailimap *mi);
struct _mailstream_low *imap_guard_wrap(struct _mailstream_low *inner);
void	imap_guard_set_limit(struct mailimap *mi, size_t max_fetch_bytes);
const char *imap_guard_error(struct mailimap *mi);

#endif
