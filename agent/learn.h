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
#ifndef IMAPSIFT_AGENT_LEARN_H
#define IMAPSIFT_AGENT_LEARN_H

#include <stddef.h>
#include <time.h>

#include "agent/util.h"

struct rules_set;
struct store;

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

#endif
