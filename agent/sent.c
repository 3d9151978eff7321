/*
 * sent.c: the incremental Sent scan.  Each Sent mailbox is EXAMINEd
 * (after a STATUS showed new UIDs, once it was scanned before) and
 * only the header fields of UIDs above the last scanned one are
 * fetched; Message-IDs, dates and correspondents go into the store in one
 * batch with the new state (account, "sent:NAME"), so a failure leaves
 * nothing half recorded.  The header lines are held in memory until the
 * fetch is over: the store's write lock is never held across network
 * waits (the accounts of a watch daemon share the store).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/imap.h"
#include "agent/log.h"
#include "agent/sent.h"
#include "agent/util.h"
#include "rules/rules.h"
#include "store/store.h"

struct hdr {
	uint32_t uid;
	char	*data;
	size_t	 len;
};

struct scan {
	struct store *st;
	const char *source;
	uint32_t last, max;
	time_t	 date;
	size_t	 ids;
	struct hdr *v;		/* fetched, not yet stored */
	size_t	 n, cap;
};

static void
add_corr(void *ctx, const char *addr)
{
	struct scan *h = ctx;
	char err[256];

	if (store_correspondent_add(h->st, addr, h->date, err,
	    sizeof(err)) == -1)
		log_debug("%s", err);
}

static int
fetched_one(void *arg, const struct imap_msg *m)
{
	struct scan *h = arg;
	struct hdr *x;

	if (m->uid <= h->last)
		return 0;	/* "N:*" answers the last UID when N is past it */
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	x = &h->v[h->n++];
	x->uid = m->uid;
	x->len = m->len;
	x->data = xmalloc(m->len + 1);
	memcpy(x->data, m->data, m->len);
	x->data[m->len] = '\0';
	return 0;
}

static void
drop_hdrs(struct scan *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->v[i].data);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

/* Stores one message's header fields; -1 when they cannot be read. */
static int
scan_one(struct scan *h, const struct hdr *m)
{
	struct rules_msg *msg;
	const char *id;
	char err[256];
	int64_t t;

	if (m->uid > h->max)
		h->max = m->uid;
	if (rules_msg_parse(m->data, m->len, NULL, &msg, err,
	    sizeof(err)) == -1)
		return -1;
	h->date = 0;
	if (rules_parse_date(rules_msg_header(msg, "Date"), &t) == 0)
		h->date = (time_t)t;
	id = rules_msg_header(msg, "Message-ID");
	if (id != NULL && store_sent_add(h->st, id, h->date, h->source, err,
	    sizeof(err)) == 0) {
		h->ids++;
		rules_parse_addrs(rules_msg_header(msg, "To"), add_corr, h);
		rules_parse_addrs(rules_msg_header(msg, "Cc"), add_corr, h);
	} else if (id != NULL)
		log_debug("%s", err);
	rules_msg_free(&msg);
	return 0;
}

static int
scan_mbox(struct imap *s, struct store *st, const char *account,
    const char *name)
{
	struct scan h;
	char key[1100], source[1200], err[512];
	const char *sel;
	uint32_t uv, last, suv, unext, exists;
	size_t i;
	int r;

	snprintf(key, sizeof(key), "sent:%s", name);
	snprintf(source, sizeof(source), "imap:%s/%s", account, name);
	if (store_mailbox_get(st, account, key, &uv, &last, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return OUT_PERM;
	}
	/* Known and not selected: STATUS tells whether anything came
	 * (a watched mailbox would be re-selected after an EXAMINE). */
	sel = imap_selected(s, NULL);
	if (uv != 0 && (sel == NULL || strcmp(sel, name) != 0)) {
		r = imap_status(s, name, &suv, &unext);
		if (r == OUT_TEMP || !imap_alive(s)) {
			log_warnx("%s: STATUS %s: %s", account, name,
			    imap_error(s));
			return r;
		}
		if (r == OUT_OK && suv == uv && unext != 0 &&
		    last + 1 >= unext)
			return OUT_OK;
	}
	r = imap_select(s, name, 1, &suv, &unext, &exists);
	if (r != OUT_OK) {
		log_warnx("%s: EXAMINE %s: %s", account, name, imap_error(s));
		return r;
	}
	if (suv != uv)
		last = 0;
	if (exists == 0 || (unext != 0 && last + 1 >= unext))
		return OUT_OK;
	memset(&h, 0, sizeof(h));
	h.st = st;
	h.source = source;
	h.last = h.max = last;
	r = imap_fetch_headers(s, last + 1, fetched_one, &h);
	if (r != OUT_OK) {
		drop_hdrs(&h);
		log_warnx("%s: %s: %s", account, name, imap_error(s));
		return r;
	}
	if (store_begin(st, err, sizeof(err)) == -1) {
		drop_hdrs(&h);
		log_warnx("%s", err);
		return OUT_PERM;
	}
	for (i = 0; i < h.n && scan_one(&h, &h.v[i]) == 0; i++)
		;
	drop_hdrs(&h);
	if (store_mailbox_set(st, account, key, suv, h.max, err,
	    sizeof(err)) == -1 || store_commit(st, err, sizeof(err)) == -1) {
		store_rollback(st, NULL, 0);
		log_warnx("%s", err);
		return OUT_PERM;
	}
	log_debug("%s: %s: %zu sent IDs harvested up to uid %u", account,
	    name, h.ids, h.max);
	return OUT_OK;
}

int
sent_scan(struct imap *s, struct store *st, const char *account,
    char *const *mboxes, size_t n)
{
	size_t i;
	int r, rc = OUT_OK;

	for (i = 0; i < n; i++) {
		r = scan_mbox(s, st, account, mboxes[i]);
		if (r == OUT_TEMP || (r != OUT_OK && !imap_alive(s)))
			return r;
		if (rc == OUT_OK)
			rc = r;	/* a mailbox missed: coverage not "up to now" */
	}
	return rc;
}
