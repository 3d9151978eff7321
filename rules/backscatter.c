/*
 * backscatter.c: judging bounces, complaints and auto-replies against the
 * user's own sent mail, and spotting forged self-mail.
 *
 * The policy (design.md) in the order it is applied:
 *   1. Any candidate original Message-ID that the user sent: "bounce".  It
 *      is the user's own mail coming back, so nothing else the message
 *      contains can make it backscatter.
 *   2. Addressed to a local address that is not one of the user's (a
 *      catch-all): "backscatter".
 *   3. The best candidate ID absent from a store that covers its date:
 *      "backscatter"; not covered: "bounce-unknown".
 *   4. No ID quoted: a quoted original From that is not the user's:
 *      "backscatter"; else "bounce-unknown".
 * bounce-unknown becomes backscatter only when the user asked for that
 * (unknown_bounce = backscatter).  Every verdict's reason names the ID
 * and what the store said, so the log explains each move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules-private.h"

/* A bounce seldom comes later than this after the message it reports:
 * when the original's Date is not quoted, the bounce's own Date less
 * this is the date the store must cover. */
#define ORIG_GRACE	(7 * 86400)

/* Compares addresses with a "+tag" detail removed from the local part:
 * user+lists@example.org is user@example.org. */
static int
same_addr(const char *a, const char *b)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');
	size_t la, lb;

	if (at_a == NULL || at_b == NULL)
		return strcasecmp(a, b) == 0;
	la = strcspn(a, "+@");
	lb = strcspn(b, "+@");
	if (la > (size_t)(at_a - a))
		la = (size_t)(at_a - a);
	if (lb > (size_t)(at_b - b))
		lb = (size_t)(at_b - b);
	return la == lb && strncasecmp(a, b, la) == 0 &&
	    strcasecmp(at_a, at_b) == 0;
}

int
rules_user_addr(const struct rules_user *u, const char *addr)
{
	size_t i;

	if (u == NULL || addr == NULL)
		return 0;
	for (i = 0; i < u->naddrs; i++)
		if (same_addr(u->addrs[i], addr))
			return 1;
	return 0;
}

/* Is addr in one of the user's domains without being one of the user's
 * addresses (mail to a catch-all)? */
static int
catch_all(const struct rules_user *u, const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL, *d;
	size_t i;

	if (u == NULL || at == NULL || rules_user_addr(u, addr))
		return 0;
	for (i = 0; i < u->naddrs; i++) {
		d = strrchr(u->addrs[i], '@');
		if (d != NULL && strcasecmp(d, at) == 0)
			return 1;
	}
	return 0;
}

struct addr_first {
	char	 addr[320];
};

static void
first_addr(void *ctx, const char *addr)
{
	struct addr_first *f = ctx;

	if (f->addr[0] == '\0' && strlen(addr) < sizeof(f->addr))
		strcpy(f->addr, addr);
}

/* The address a message was delivered to: Delivered-To or X-Original-To
 * (set by the delivering server), else the first To address. */
static void
delivered_to(const struct rules_msg *m, struct addr_first *f)
{
	static const char *names[] = { "Delivered-To", "X-Original-To",
	    "To" };
	size_t i;

	f->addr[0] = '\0';
	for (i = 0; i < 3 && f->addr[0] == '\0'; i++)
		rules_parse_addrs(rules_msg_header(m, names[i]), first_addr,
		    f);
}

static int64_t
lookup_date(const struct rules_verdict *v)
{
	int64_t t;

	if (v->bounce.orig_date != 0)
		return v->bounce.orig_date;
	if (rules_parse_date(rules_msg_header(v->msg, "Date"), &t) == 0 &&
	    t > ORIG_GRACE)
		return t - ORIG_GRACE;
	return 0;
}

/* Sets the verdict and its reason, "<class>:<kind> <tail>". */
static int
say(struct rules_verdict *v, enum rules_class cls, const char *tail)
{
	char buf[1400];

	snprintf(buf, sizeof(buf), "%s:%s%s %s", rules_class_name(cls),
	    rules_report_name(v->bounce.kind), v->bounce.delayed ?
	    " (delay)" : "", tail);
	v->cls = cls;
	free(v->reasons);
	v->reasons = strdup(buf);
	return v->reasons == NULL ? -1 : 0;
}

int
rules_judge_bounce(struct rules_verdict *v, const struct rules_user *u)
{
	const struct rules_bounce *b = &v->bounce;
	enum rules_class unknown;
	struct addr_first to;
	int64_t date = lookup_date(v);
	char t[1200];
	size_t i;
	int r;

	unknown = u != NULL && u->unknown_backscatter ? RULES_BACKSCATTER :
	    RULES_BOUNCE_UNKNOWN;
	if (b->nids > 0) {
		v->lookups = calloc(b->nids, sizeof(*v->lookups));
		if (v->lookups == NULL)
			return -1;
	}
	for (i = 0; i < b->nids; i++) {
		r = u != NULL && u->sent != NULL ?
		    u->sent(u->ctx, b->ids[i].id, date) : -1;
		v->lookups[i] = r == 1 ? RULES_LOOKUP_SENT : r == 0 ?
		    RULES_LOOKUP_ABSENT : RULES_LOOKUP_UNKNOWN;
		if (r == 1) {
			snprintf(t, sizeof(t), "original <%s> sent",
			    b->ids[i].id);
			return say(v, RULES_BOUNCE, t);
		}
	}
	delivered_to(v->msg, &to);
	if (catch_all(u, to.addr)) {
		snprintf(t, sizeof(t), "to %s, not one of the user's "
		    "addresses", to.addr);
		return say(v, RULES_BACKSCATTER, t);
	}
	if (b->nids > 0) {
		snprintf(t, sizeof(t), v->lookups[0] == RULES_LOOKUP_ABSENT ?
		    "original <%s> not sent" : "original <%s> not in the sent "
		    "store, which does not cover its date", b->ids[0].id);
		return say(v, v->lookups[0] == RULES_LOOKUP_ABSENT ?
		    RULES_BACKSCATTER : unknown, t);
	}
	if (b->orig_from != NULL && u != NULL && u->naddrs > 0 &&
	    !rules_user_addr(u, b->orig_from)) {
		snprintf(t, sizeof(t), "no original id; original from %s is "
		    "not the user's", b->orig_from);
		return say(v, RULES_BACKSCATTER, t);
	}
	return say(v, unknown, "no original id");
}

/*
 * Mail From one of the user's addresses To one of them, whose Message-ID
 * the user never sent (and the store covers its date), is a spammer
 * forging the user: junk.  Returns 1 when it is (reason set), 0 when not,
 * -1 when out of memory.
 */
int
rules_judge_forged(struct rules_verdict *v, const struct rules_user *u)
{
	const struct rules_msg *m = v->msg;
	struct addr_first to;
	int64_t date = 0;
	char buf[1200];

	if (u == NULL || u->sent == NULL || m->message_id == NULL ||
	    !rules_user_addr(u, m->from))
		return 0;
	to.addr[0] = '\0';
	rules_parse_addrs(rules_msg_header(m, "To"), first_addr, &to);
	if (!rules_user_addr(u, to.addr))
		return 0;
	(void)rules_parse_date(rules_msg_header(m, "Date"), &date);
	if (u->sent(u->ctx, m->message_id, date) != 0)
		return 0;
	snprintf(buf, sizeof(buf), "forged:from and to %s, Message-ID <%s> "
	    "never sent", m->from, m->message_id);
	v->cls = RULES_JUNK;
	free(v->reasons);
	v->reasons = strdup(buf);
	return v->reasons == NULL ? -1 : 1;
}
