/*
 * test_backscatter.c: every row of the backscatter decision
 * (rules/backscatter.c), on bounce records filled in by hand so that the
 * decision is tested apart from recognition, with a sent store played by
 * a table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"
#include "tests/unit/test.h"

/* The test's sent store: "sent@..." IDs were sent; the store covers
 * dates from COVER_FROM on, unless complete. */
#define COVER_FROM	1700000000
static int64_t last_date;
static int complete;

static int
sent(void *ctx, const char *id, int64_t date)
{
	(void)ctx;
	last_date = date;
	if (strncmp(id, "sent", 4) == 0)
		return 1;
	if (complete)
		return 0;
	return date >= COVER_FROM ? 0 : -1;
}

static const char *addrs[] = { "me@home.example", "me@work.example" };

struct row {
	const char *name;
	const char *hdrs;	/* the bounce's own header */
	const char *ids[3];	/* candidate original IDs */
	const char *orig_from;
	int64_t	 orig_date;
	int	 user;		/* 0: no user at all */
	int	 unknown_bs;
	enum rules_class want;
	const char *reason;
};

#define BHDR "From: MAILER-DAEMON@mx.example\nTo: me@home.example\n" \
    "Date: Mon, 02 Nov 2026 10:00:00 +0000\n\n"

static const struct row rows[] = {
	{ "sent id", BHDR, { "sent1@home.example" }, NULL, 1790000000, 1, 0,
	    RULES_BOUNCE, "bounce:dsn original <sent1@home.example> sent" },
	{ "absent id, covered", BHDR, { "spam1@forged.example" }, NULL,
	    1790000000, 1, 0, RULES_BACKSCATTER,
	    "backscatter:dsn original <spam1@forged.example> not sent" },
	{ "absent id, older than the store", BHDR, { "x@forged.example" },
	    NULL, 1600000000, 1, 0, RULES_BOUNCE_UNKNOWN,
	    "bounce-unknown:dsn original <x@forged.example> not in the sent "
	    "store" },
	{ "not covered, unknown_bounce=backscatter", BHDR,
	    { "x@forged.example" }, NULL, 1600000000, 1, 1, RULES_BACKSCATTER,
	    "not in the sent store" },
	{ "second candidate sent wins over everything",
	    "From: MAILER-DAEMON@mx.example\nTo: other@home.example\n\n",
	    { "spam2@forged.example", "sent2@home.example" },
	    "victim@elsewhere.example", 1790000000, 1, 1, RULES_BOUNCE,
	    "original <sent2@home.example> sent" },
	{ "catch-all address",
	    "From: MAILER-DAEMON@mx.example\nTo: random123@home.example\n\n",
	    { "x@forged.example" }, NULL, 1600000000, 1, 0, RULES_BACKSCATTER,
	    "to random123@home.example, not one of the user's addresses" },
	{ "delivered-to decides over To",
	    "From: MAILER-DAEMON@mx.example\nDelivered-To: me@home.example\n"
	    "To: random@home.example\n\n", { "x@forged.example" }, NULL,
	    1600000000, 1, 0, RULES_BOUNCE_UNKNOWN, NULL },
	{ "plus detail is the user's",
	    "From: MAILER-DAEMON@mx.example\nTo: me+lists@home.example\n\n",
	    { "x@forged.example" }, NULL, 1600000000, 1, 0,
	    RULES_BOUNCE_UNKNOWN, NULL },
	{ "no id, foreign original sender", BHDR, { NULL },
	    "victim@elsewhere.example", 0, 1, 0, RULES_BACKSCATTER,
	    "no original id; original from victim@elsewhere.example is not "
	    "the user's" },
	{ "no id, the user's own sender", BHDR, { NULL }, "me@work.example",
	    0, 1, 0, RULES_BOUNCE_UNKNOWN, "no original id" },
	{ "no id, no sender", BHDR, { NULL }, NULL, 0, 1, 0,
	    RULES_BOUNCE_UNKNOWN, "no original id" },
	{ "no user context", BHDR, { "spam@forged.example" }, NULL,
	    1790000000, 0, 0, RULES_BOUNCE_UNKNOWN, NULL },
};

static void
fill(struct rules_verdict *v, const struct row *r)
{
	size_t n = 0;

	memset(v, 0, sizeof(*v));
	if (rules_msg_parse(r->hdrs, strlen(r->hdrs), NULL, &v->msg, NULL,
	    0) == -1)
		abort();
	v->bounce.kind = RULES_REPORT_DSN;
	v->bounce.ids = calloc(3, sizeof(*v->bounce.ids));
	while (n < 3 && r->ids[n] != NULL) {
		v->bounce.ids[n].id = strdup(r->ids[n]);
		v->bounce.ids[n].where = "test";
		n++;
	}
	v->bounce.nids = n;
	v->bounce.orig_from = r->orig_from ? strdup(r->orig_from) : NULL;
	v->bounce.orig_date = r->orig_date;
}

static void
test_decisions(void)
{
	struct rules_user u;
	struct rules_verdict v;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		memset(&u, 0, sizeof(u));
		u.addrs = addrs;
		u.naddrs = 2;
		u.sent = sent;
		u.unknown_backscatter = r->unknown_bs;
		fill(&v, r);
		if (rules_judge_bounce(&v, r->user ? &u : NULL) == -1) {
			T_FAILF("%s: failed", r->name);
			continue;
		}
		if (v.cls != r->want)
			T_FAILF("%s: %s, want %s (%s)", r->name,
			    rules_class_name(v.cls), rules_class_name(r->want),
			    v.reasons);
		if (r->reason != NULL && strstr(v.reasons, r->reason) == NULL)
			T_FAILF("%s: reason \"%s\" lacks \"%s\"", r->name,
			    v.reasons, r->reason);
		rules_verdict_free(&v);
	}
}

/* The date the store must cover: the original's own, else the bounce's
 * Date less a week; lookups are recorded per candidate. */
static void
test_lookup_dates(void)
{
	struct rules_user u = { addrs, 2, sent, NULL, NULL, 0, NULL };
	struct rules_verdict v;
	struct row r = { "d", BHDR, { "a@x.example", "b@x.example" }, NULL,
	    1234567890, 1, 0, RULES_CLEAN, NULL };

	fill(&v, &r);
	T_INTEQ(rules_judge_bounce(&v, &u), 0);
	T_INTEQ(last_date, 1234567890);
	T_ASSERT(v.lookups != NULL);
	T_INTEQ(v.lookups[0], RULES_LOOKUP_UNKNOWN);
	T_INTEQ(v.lookups[1], RULES_LOOKUP_UNKNOWN);
	rules_verdict_free(&v);

	r.orig_date = 0;
	fill(&v, &r);
	T_INTEQ(rules_judge_bounce(&v, &u), 0);
	T_INTEQ(last_date, 1793613600 - 7 * 86400);
	T_INTEQ(v.cls, RULES_BACKSCATTER);
	rules_verdict_free(&v);

	complete = 1;
	r.orig_date = 1;
	fill(&v, &r);
	T_INTEQ(rules_judge_bounce(&v, &u), 0);
	T_INTEQ(v.cls, RULES_BACKSCATTER);
	T_INTEQ(v.lookups[0], RULES_LOOKUP_ABSENT);
	rules_verdict_free(&v);
	complete = 0;
}

static void
test_forged(void)
{
	static const struct {
		const char *msg;
		int	 want;
	} rows2[] = {
		{ "From: me@home.example\nTo: me@home.example\nMessage-ID: "
		    "<fake@home.example>\nDate: Mon, 02 Nov 2026 10:00:00 "
		    "+0000\n\nhi\n", 1 },
		{ "From: Me <ME@home.example>\nTo: me@work.example\n"
		    "Message-ID: <fake2@home.example>\nDate: Mon, 02 Nov 2026 "
		    "10:00:00 +0000\n\nhi\n", 1 },
		{ "From: me@home.example\nTo: me@home.example\nMessage-ID: "
		    "<sent9@home.example>\nDate: Mon, 02 Nov 2026 10:00:00 "
		    "+0000\n\nhi\n", 0 },
		{ "From: me@home.example\nTo: me@home.example\nMessage-ID: "
		    "<old@home.example>\nDate: Mon, 02 Nov 2020 10:00:00 "
		    "+0000\n\nhi\n", 0 },
		{ "From: me@home.example\nTo: friend@else.example\n"
		    "Message-ID: <fake3@home.example>\n\nhi\n", 0 },
		{ "From: friend@else.example\nTo: me@home.example\n"
		    "Message-ID: <fake4@else.example>\n\nhi\n", 0 },
	};
	struct rules_user u = { addrs, 2, sent, NULL, NULL, 0, NULL };
	struct rules_verdict v;
	size_t i;
	int r;

	for (i = 0; i < sizeof(rows2) / sizeof(rows2[0]); i++) {
		memset(&v, 0, sizeof(v));
		if (rules_msg_parse(rows2[i].msg, strlen(rows2[i].msg), NULL,
		    &v.msg, NULL, 0) == -1)
			abort();
		r = rules_judge_forged(&v, &u);
		if (r != rows2[i].want)
			T_FAILF("row %zu: %d, want %d", i, r, rows2[i].want);
		if (r == 1 && (v.cls != RULES_JUNK ||
		    strstr(v.reasons, "forged:") == NULL))
			T_FAILF("row %zu: verdict %s (%s)", i,
			    rules_class_name(v.cls), v.reasons);
		rules_verdict_free(&v);
	}
}

int
main(void)
{
	T_RUN(test_decisions);
	T_RUN(test_lookup_dates);
	T_RUN(test_forged);
	return t_done();
}
