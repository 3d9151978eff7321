/*
 * sent.c: the incremental Sent scan (what sweep needs to judge bounces).
 */
#ifndef IMAPSIFT_AGENT_SENT_H
#define IMAPSIFT_AGENT_SENT_H

#include <stddef.h>

#include "agent/outcome.h"

struct imap;
struct store;

/* Scans the n Sent mailboxes of account into st (incremental,
 * per-mailbox state under "sent:NAME").  The session's selection is lost.
 * Returns an outcome: OUT_OK, or the failure (store errors: OUT_PERM). */
int	sent_scan(struct imap *s, struct store *st, const char *account,
	    char *const *mboxes, size_t n);

#endif
