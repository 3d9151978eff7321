/*
 * feedsig.c: the signatures of rule list feeds (minisign, signify),
 * checked with libsodium.
 */
#ifndef IMAPSIFT_AGENT_FEEDSIG_H
#define IMAPSIFT_AGENT_FEEDSIG_H

#include <stddef.h>

struct conf_feed;

/* feedsig_verify checks f's detached signature file sig (siglen bytes as
 * downloaded) over the list m (mlen bytes) with f's pubkey and sig_kind;
 * returns 0 with minisign's trusted comment in tc ("" for signify), or
 * -1 with the reason in err.  feedsig_keyid: the key number of a pubkey
 * line as minisign prints it, or "?". */
int	feedsig_verify(const struct conf_feed *f, const char *sig,
	    size_t siglen, const void *m, size_t mlen, char *tc, size_t tclen,
	    char *err, size_t errlen);
void	feedsig_keyid(const char *pubkey, char *out, size_t outlen);
/* The time a minisign trusted comment tc (as feedsig_verify gives it)
 * says the file was signed: the digits after "timestamp:" (minisign
 * writes "timestamp:N\tfile:NAME"); -1 when it says none. */
long long feedsig_timestamp(const char *tc);

#endif
