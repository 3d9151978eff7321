/*
 * test_learned.c: the rules side of learning: a learned set built in
 * memory and used by rules_classify through rules_user.learned (domains
 * with subdomains, exact hosts, phones, phrases; hits marked learned),
 * and phrase mining (rules_mine_phrases): the same passage gives the same
 * windows whatever surrounds it, footers, URLs and digit runs give none,
 * and the count is capped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "tests/unit/test.h"

static struct rules_set *
empty_lists(void)
{
	struct rules_set *rs = NULL;
	char *errs = NULL;

	if (rules_load(&rs, NULL, 0, NULL, &errs) == -1)
		T_FAILF("rules_load: %s", errs ? errs : "?");
	free(errs);
	return rs;
}

/* The verdict of msg with lists rs and learned set ls; reasons into r. */
static int
judge(const struct rules_set *rs, const struct rules_set *ls,
    const char *msg, char *r, size_t rlen)
{
	struct rules_user u;
	struct rules_verdict v;
	int cls;

	memset(&u, 0, sizeof(u));
	u.learned = ls;
	if (rules_classify(msg, strlen(msg), rs, NULL, &u, &v) == -1) {
		T_FAILF("classify: out of memory");
		return -1;
	}
	cls = (int)v.cls;
	snprintf(r, rlen, "%s", v.reasons ? v.reasons : "");
	if (v.nfound > 0 && v.found[0].matched &&
	    !rules_hit_learned(&v.found[0].hit))
		T_FAILF("a learned hit not marked learned");
	rules_verdict_free(&v);
	return cls;
}

static void
test_learned_set(void)
{
	struct rules_set *rs = empty_lists(), *ls = NULL;
	char r[512];

	if (rs == NULL)
		return;
	T_INTEQ(rules_learned_new(&ls, "/tmp/x.db", 1), 0);
	if (ls == NULL)
		return;
	T_INTEQ(rules_learned_add(ls, RULES_DOMAIN, "badpills.example", 0), 1);
	T_INTEQ(rules_learned_add(ls, RULES_DOMAIN, "news.shared.example", 1),
	    1);
	T_INTEQ(rules_learned_add(ls, RULES_PHONE, "18005550142", 0), 1);
	T_INTEQ(rules_learned_add(ls, RULES_PHRASE,
	    "our certified pharmacy ships discreet packages", 0), 1);
	T_INTEQ(rules_learned_add(ls, RULES_PHRASE, "oneword", 0), 0);
	T_INTEQ(rules_learned_add(ls, RULES_PHONE, "12ab", 0), 0);
	T_INTEQ(rules_learned_add(ls, RULES_DOMAIN, "badpills.example", 0), 0);
	T_INTEQ(rules_count(ls, RULES_DOMAIN), 2);

	T_INTEQ(judge(rs, ls, "From: a@x.example\n\nsee "
	    "http://shop.BADPILLS.example/a\n", r, sizeof(r)), RULES_JUNK);
	T_STREQ(r, "url:badpills.example via http://shop.BADPILLS.example/a");
	/* An exact host: the host itself, never its siblings. */
	T_INTEQ(judge(rs, ls, "From: a@x.example\n\nhttp://news.shared."
	    "example/x\n", r, sizeof(r)), RULES_JUNK);
	T_INTEQ(judge(rs, ls, "From: a@x.example\n\nhttp://www.shared."
	    "example/x\n", r, sizeof(r)), RULES_CLEAN);
	T_INTEQ(judge(rs, ls, "From: a@x.example\n\ncall +1 800 555 0142 "
	    "now\n", r, sizeof(r)), RULES_JUNK);
	T_STREQ(r, "phone:18005550142");
	T_INTEQ(judge(rs, ls, "From: a@x.example\nContent-Type: text/html\n\n"
	    "<p>Our <b>certified</b> pharmacy ships, discreet packages!</p>\n",
	    r, sizeof(r)), RULES_JUNK);
	T_STREQ(r, "phrase:\"our certified pharmacy ships discreet packages\"");
	/* Without the learned set, nothing. */
	T_INTEQ(judge(rs, NULL, "From: a@x.example\n\nsee "
	    "http://shop.badpills.example/a\n", r, sizeof(r)), RULES_CLEAN);
	rules_free(&ls);
	rules_free(&rs);
}

struct got {
	char	 s[8192];
	unsigned n;
};

static void
on_phrase(void *ctx, const char *p)
{
	struct got *g = ctx;
	size_t len = strlen(g->s);

	snprintf(g->s + len, sizeof(g->s) - len, "%s|", p);
	g->n++;
}

static void
mine(const char *raw, unsigned max, struct got *g)
{
	struct rules_msg *msg = NULL;
	char err[256];

	memset(g, 0, sizeof(*g));
	if (rules_msg_parse(raw, strlen(raw), NULL, &msg, err,
	    sizeof(err)) == -1) {
		T_FAILF("parse: %s", err);
		return;
	}
	rules_mine_phrases(msg, max, on_phrase, g);
	rules_msg_free(&msg);
}

#define PASSAGE "Genuine brand medication at factory prices, trusted by " \
	"thousands of satisfied customers across Europe and America. Order " \
	"today and receive complimentary express delivery together with a " \
	"bonus gift card from our certified pharmacy warehouse"

static void
test_mine(void)
{
	struct got a, b, c;
	char *pa, *p;
	size_t k = 0;

	mine("Subject: x\n\nHello Bob,\n" PASSAGE "\n", 100, &a);
	mine("Subject: y\n\nDear customer, great news.\n" PASSAGE
	    "\nRegards\n", 100, &b);
	T_ASSERT(a.n >= 2);
	/* Every window of the passage a kept, b kept too. */
	pa = a.s;
	while ((p = strchr(pa, '|')) != NULL) {
		*p = '\0';
		if (strstr(pa, "hello") == NULL && strstr(b.s, pa) == NULL)
			T_FAILF("window \"%s\" not kept in b", pa);
		pa = p + 1;
		k++;
	}
	T_ASSERT(k == a.n);
	/* Footer lines, URLs, digits and stop-word runs give nothing. */
	mine("Subject: z\n\nTo unsubscribe from this mailing list please "
	    "visit our preferences center today\nhttp://www.example.com/a/b/c"
	    "/d/e/f/g\nOrder 12345 shipped 2026 item 778899 box 44 lane 9\n"
	    "it is what it is and that is all there is to it\n", 100, &c);
	T_INTEQ(c.n, 0);
	T_STREQ(c.s, "");
	/* The cap. */
	mine("Subject: x\n\n" PASSAGE "\n", 1, &c);
	T_INTEQ(c.n, 1);
}

/* A list file's hit is not a learned one (explain tells them apart). */
static void
test_list_hit_not_learned(void)
{
	static const char *const paths[] = { "tests/fixtures/cli/rules" };
	static const char msg[] = "From: a@x.example\n\nhttp://evil.example/\n";
	struct rules_set *rs = NULL, *ls = NULL;
	struct rules_user u;
	struct rules_verdict v;
	char *errs = NULL;

	if (rules_load(&rs, paths, 1, NULL, &errs) == -1) {
		T_FAILF("rules_load: %s", errs ? errs : "?");
		free(errs);
		return;
	}
	T_INTEQ(rules_learned_new(&ls, "db", 1), 0);
	T_INTEQ(rules_learned_add(ls, RULES_DOMAIN, "evil.example", 0), 1);
	memset(&u, 0, sizeof(u));
	u.learned = ls;
	if (rules_classify(msg, sizeof(msg) - 1, rs, NULL, &u, &v) == 0) {
		T_INTEQ(v.cls, RULES_JUNK);
		T_INTEQ(v.nfound, 1);
		/* The lists are looked up first. */
		T_INTEQ(v.nfound > 0 && rules_hit_learned(&v.found[0].hit), 0);
		rules_verdict_free(&v);
	}
	rules_free(&ls);
	rules_free(&rs);
}

int
main(void)
{
	T_RUN(test_learned_set);
	T_RUN(test_list_hit_not_learned);
	T_RUN(test_mine);
	return t_done();
}
