/*
 * dnsbl: URI DNS blocklists (config `dnsbl`), asked with c-ares about the
 * registrable domains of a message's URLs.
 *
 * One struct dnsbl per process (or per watched account) holds the c-ares
 * channel, the answers by TTL (in memory, loaded from and written back to
 * the store) and each zone's state.  A message's lookups are started with
 * dnsbl_start, which never blocks: queries go out at once and are read by
 * dnsbl_poll, which the sweep calls between FETCH replies, so lookups for
 * a whole batch overlap the fetching.  dnsbl_done says when a message's
 * lookups are all answered, failed or skipped; dnsbl_score sums the
 * weights of the zones that listed one of its domains.
 *
 * What is never asked: IP literals, hosts without a registrable domain,
 * domains on an allow list, the user's and correspondents' domains, the
 * registrable domains of the shipped skip list of big sites
 * (harvest-skip.list: google.com, not x.s3.amazonaws.com), and
 * anything past max_dnsbl_queries (domain and zone pairs) per message.
 * An answer that is an error code (127.255.255.252/254/255, 127.0.1.255,
 * 127.0.0.1, anything outside 127/8), or any answer from a zone that
 * lists PROBE_NAME (asked first: dnsbl.c), never counts: the zone rests for
 * dnsbl_cooldown seconds (kept in the store for the next process), the
 * reason is logged once, and `imapsift feeds` shows it.  A query that
 * fails or times out (dnsbl_timeout ms; one try), or whose answer does
 * not parse, counts as not listed and is not kept.
 *
 * Everything here runs in one thread: the caller's (the sweep's reader).
 * Ownership: const char * arguments are borrowed; a struct dnsbl_msg is
 * the caller's until dnsbl_msg_free.
 */
#ifndef IMAPSIFT_AGENT_DNSBL_H
#define IMAPSIFT_AGENT_DNSBL_H

#include <stdint.h>
#include <stdio.h>

struct conf;
struct store;
struct rules_set;
struct dnsbl;
struct dnsbl_msg;

/*
 * A resolver for c's zones, its cache and zone state loaded from st (may
 * be NULL: memory only).  NULL when c has no zone, or after a warning
 * when c-ares cannot be set up (the sweep then goes on without).
 */
struct dnsbl *dnsbl_new(const struct conf *c, struct store *st);
void	dnsbl_free(struct dnsbl **d);
/* The store to write answers to from now on (watch opens one per pass);
 * the correspondents' domains are read from it again. */
void	dnsbl_set_store(struct dnsbl *d, struct store *st);
/* Reads the correspondents' domains from the store again (after a Sent
 * scan). */
void	dnsbl_correspondents(struct dnsbl *d);
/* A domain never to ask about: the user's own (from an address). */
void	dnsbl_add_own(struct dnsbl *d, const char *addr);

/*
 * Starts the lookups for a message's URL hosts (n of them, in the order
 * found; repeats are fine); rs for the allow lists.  Never blocks.
 */
struct dnsbl_msg *dnsbl_start(struct dnsbl *d, const struct rules_set *rs,
	    char *const *hosts, size_t n);
/* 1 when none of m's lookups is still waiting for an answer. */
int	dnsbl_done(const struct dnsbl_msg *m);
/* The weight of the zones that listed one of m's domains (each zone
 * counts once), and "dnsbl:DOMAIN@ZONE=ANSWER; ..." in *why_r (malloc'd,
 * caller frees; NULL when nothing was listed). */
double	dnsbl_score(struct dnsbl *d, const struct dnsbl_msg *m,
	    char **why_r);
/* Every lookup of m, its answer and what it meant, for explain. */
void	dnsbl_explain(struct dnsbl *d, const struct dnsbl_msg *m, FILE *f);
void	dnsbl_msg_free(struct dnsbl_msg **m);

/* Reads answers that arrived and runs the timeouts, waiting at most ms
 * milliseconds (0: not at all) for something to happen. */
void	dnsbl_poll(struct dnsbl *d, int ms);
/* Waits until m (NULL: every lookup started) is done, at most a little
 * more than one query timeout; what is still waiting then is cancelled
 * (counted as a timeout). */
void	dnsbl_wait(struct dnsbl *d, const struct dnsbl_msg *m);
/* Writes the new answers and zone states to the store; drops answers
 * that expired from memory when no message is waiting. */
void	dnsbl_flush(struct dnsbl *d);
/* Queries sent so far (for the sweep's summary and the tests). */
unsigned long dnsbl_queries(const struct dnsbl *d);

/* `imapsift feeds`: each zone's state, from c and its store.  Returns 1
 * when a zone is resting (an error to report), else 0. */
int	dnsbl_show(const struct conf *c, FILE *f);

/*
 * The answer packet (dnsbl-answer.c; no state, read by fuzz_dnsbl too).
 * dnsbl_answer_parse reads p[0..len): the A records of the answer section
 * (at most max, into addrs; *na of them) and their smallest TTL, and the
 * negative TTL of an SOA in the authority section (RFC 2308: the smaller
 * of its TTL and MINIMUM; 0 when none).  -1 when the packet breaks off
 * or a name is malformed: then none of it counts.  dnsbl_answer_judge
 * says what address a means for zone z: DNSBL_ERROR (*why says which
 * error), DNSBL_LISTED, or DNSBL_CLEAN (*why: a code that does not count,
 * or NULL).
 */
enum { DNSBL_LISTED = 1, DNSBL_CLEAN, DNSBL_ERROR };
struct conf_dnsbl;
int	dnsbl_answer_parse(const unsigned char *p, int len, uint32_t *addrs,
	    int max, int *na, uint32_t *ttl_r, uint32_t *neg_r);
int	dnsbl_answer_judge(const struct conf_dnsbl *z, uint32_t a,
	    const char **why);

#endif
