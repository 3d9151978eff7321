/*
 * test_classify.c: the verdict, through rules_classify() on messages
 * written here, against rule lists written to a temporary directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules/rules.h"
#include "tests/unit/test.h"

static char dir[] = "/tmp/imapsift-test-classify-XXXXXX";

static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static struct rules_set *
load(void)
{
	struct rules_opts o = { 1, 0 };
	struct rules_set *rs = NULL;
	const char *paths[1] = { dir };
	char *errs = NULL;

	if (rules_load(&rs, paths, 1, &o, &errs) == -1) {
		printf("load failed: %s\n", errs ? errs : "?");
		exit(2);
	}
	free(errs);
	return rs;
}

static struct rules_set *rs;

struct row {
	const char *name;
	const char *msg;
	enum rules_class want;
	const char *reason;	/* substring of v.reasons, or NULL */
	double	 score;
};

static const struct row rows[] = {
	{ "url in text", "Subject: a\n\nsee http://www.evil.example/x\n",
	    RULES_JUNK, "url:evil.example via http://www.evil.example/x", 1 },
	{ "subdomain only", "Subject: a\n\nsee http://notevil.example/\n",
	    RULES_CLEAN, NULL, 0 },
	{ "url in html href",
	    "Content-Type: text/html\n\n<a href=\"HTTPS://A.B.Evil.Example/\">"
	    "x</a>\n", RULES_JUNK, "url:evil.example", 1 },
	{ "same url twice counts once",
	    "Subject: a\n\nhttp://evil.example/1 http://evil.example/2\n",
	    RULES_JUNK, "url:evil.example", 1 },
	{ "two hosts under one entry count once",
	    "Subject: a\n\nhttp://a.evil.example/ http://b.evil.example/\n",
	    RULES_JUNK, "url:evil.example via http://a.evil.example/", 1 },
	{ "url wrapped by outlook safe links", "Content-Type: text/html\n\n"
	    "<a href=\"https://nam02.safelinks.protection.outlook.com/?url="
	    "https%3A%2F%2Fwww.evil.example%2Foffer&amp;data=05%7C01\">x</a>\n",
	    RULES_JUNK, "url:evil.example via https://www.evil.example/offer",
	    1 },
	{ "url behind a redirector in text", "Subject: a\n\nsee "
	    "https://www.google.com/url?q=https://evil.example/&sa=D\n",
	    RULES_JUNK, "url:evil.example via https://evil.example/", 1 },
	{ "redirector to a wrapper to the url", "Subject: a\n\n"
	    "http://r.example/?u=https%3A%2F%2Furldefense.proofpoint.com%2Fv2"
	    "%2Furl%3Fu%3Dhttps-3A__evil.example_x%26d%3DDw\n",
	    RULES_JUNK, "url:evil.example via https://evil.example/x", 1 },
	{ "phone", "Subject: a\n\nCall +1 (800) 555-0123 now\n", RULES_JUNK,
	    "phone:18005550123", 2 },
	{ "tel link", "Content-Type: text/html\n\n<a href=\"tel:18005550123\">"
	    "call</a>\n", RULES_JUNK, "phone:18005550123", 2 },
	{ "phrase in subject",
	    "Subject: =?utf-8?Q?Cheap_Meds_Without_A_Prescription?=\n\nhi\n",
	    RULES_JUNK, "phrase:\"cheap meds without a prescription\"", 1 },
	{ "phrase across parts is no phrase",
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\ncheap meds\n"
	    "--b\n\nwithout a prescription\n--b--\n", RULES_CLEAN, NULL, 0 },
	{ "regex on header", "X-Mailer: BulkBlaster 3\n\nhello\n",
	    RULES_JUNK, "regex:", 1 },
	{ "allowed sender",
	    "From: Friend <pal@Mail.Friend.Example>\n\nhttp://evil.example/\n",
	    RULES_CLEAN, "allow:friend.example", 1 },
	{ "two indicators add", "Subject: a\n\nhttp://evil.example/ and "
	    "+1 800 555 0123\n", RULES_JUNK, "phone:18005550123", 3 },
	{ "unprovable bounce still meets indicators",
	    "From: Mail Delivery System <MAILER-DAEMON@mx.example>\n"
	    "Subject: Undelivered Mail Returned to Sender\n\nYour message "
	    "could not be delivered.\nRe-send it at http://evil.example/re\n",
	    RULES_JUNK, "url:evil.example via http://evil.example/re; "
	    "bounce-unknown:ndr no original id", 1 },
	{ "plain ham", "From: a@b.example\nSubject: lunch\n\nAt 12:30 on "
	    "2026-11-02, $12.50 each, order #8005550123.\n", RULES_CLEAN, NULL,
	    0 },
};

static void
test_rows(void)
{
	struct rules_verdict v;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		if (rules_classify(r->msg, strlen(r->msg), rs, NULL,
		    NULL, &v) == -1) {
			T_FAILF("%s: rules_classify failed", r->name);
			continue;
		}
		if (v.cls != r->want)
			T_FAILF("%s: verdict %s, want %s (%s)", r->name,
			    rules_class_name(v.cls), rules_class_name(r->want),
			    v.reasons);
		if (r->reason != NULL && (v.reasons == NULL ||
		    strstr(v.reasons, r->reason) == NULL))
			T_FAILF("%s: reasons \"%s\" lack \"%s\"", r->name,
			    v.reasons ? v.reasons : "", r->reason);
		if (v.score != r->score)
			T_FAILF("%s: score %g, want %g", r->name, v.score,
			    r->score);
		rules_verdict_free(&v);
	}
}

/* explain needs every indicator, listed or not, with its place. */
static void
test_findings(void)
{
	static const char msg[] = "Subject: x\nContent-Type: text/html\n\n"
	    "<p>http://fine.example/ <a href=\"http://evil.example/\">e</a>"
	    "</p>\n";
	struct rules_verdict v;
	size_t i, listed = 0, unlisted = 0;

	T_INTEQ(rules_classify(msg, sizeof(msg) - 1, rs, NULL, NULL,
	    &v), 0);
	for (i = 0; i < v.nfound; i++) {
		if (v.found[i].kind != RULES_DOMAIN)
			continue;
		if (v.found[i].matched) {
			listed++;
			T_STREQ(v.found[i].hit.entry, "evil.example");
			T_ASSERT(v.found[i].hit.line == 2);
			T_ASSERT(v.found[i].where != NULL &&
			    strstr(v.found[i].where, "text/html") != NULL);
		} else {
			unlisted++;
			T_STREQ(v.found[i].value, "fine.example");
		}
	}
	T_INTEQ(listed, 1);
	T_INTEQ(unlisted, 1);
	rules_verdict_free(&v);
}

/* URLs padding the text (or other attributes) do not push a message's
 * links past max_urls: links are looked at first, anchors before images,
 * images before the rest, then the text. */
static void
test_links_first(void)
{
	struct rules_limits lim;
	struct rules_verdict v;
	char msg[4096];
	size_t n, i;

	n = (size_t)snprintf(msg, sizeof(msg), "Subject: x\n"
	    "Content-Type: text/html\n\n<p>");
	for (i = 0; i < 12; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
		    "http://pad%zu.example/ <link href=\"http://css%zu.example/\">",
		    i, i);
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "<img src=\"http://"
	    "img.example/i.png\"><a href=\"http://www.evil.example/\">go</a>"
	    "</p>\n");
	T_ASSERT(n < sizeof(msg));
	rules_limits_default(&lim);
	lim.max_urls = 4;
	T_INTEQ(rules_classify(msg, n, rs, &lim, NULL, &v), 0);
	T_INTEQ(v.cls, RULES_JUNK);
	T_ASSERT(v.nfound >= 3);
	if (v.nfound >= 3) {
		T_STREQ(v.found[0].value, "www.evil.example");
		T_STREQ(v.found[1].value, "img.example");
		T_STREQ(v.found[2].value, "css0.example");
	}
	rules_verdict_free(&v);
}

static void
test_unparsed_and_truncated(void)
{
	static const char crash[] = "Content-Type: multipart/mixed; "
	    "boundary=\"\\\"\"\n\n--\"\nhttp://evil.example/\n--\"--\n";
	struct rules_limits lim;
	struct rules_verdict v;
	char *big;
	size_t n = 200000, i;

	T_INTEQ(rules_classify(crash, sizeof(crash) - 1, rs, NULL,
	    NULL, &v), 0);
	T_ASSERT(v.reasons != NULL);
	rules_verdict_free(&v);

	/* Past the parse cap: judged on what was read, said in reasons. */
	rules_limits_default(&lim);
	lim.max_parse_bytes = 4096;
	big = malloc(n + 1);
	T_ASSERT(big != NULL);
	memcpy(big, "Subject: x\n\nhttp://evil.example/ ", 34);
	for (i = 34; i < n; i++)
		big[i] = i % 60 == 0 ? '\n' : 'a';
	big[n] = '\0';
	T_INTEQ(rules_classify(big, n, rs, &lim, NULL, &v), 0);
	T_INTEQ(v.cls, RULES_JUNK);
	T_ASSERT(v.reasons != NULL && strstr(v.reasons, "truncated") != NULL);
	rules_verdict_free(&v);
	free(big);

	/* Nothing at all, and garbage, are clean and do not crash. */
	T_INTEQ(rules_classify("", 0, rs, NULL, NULL, &v), 0);
	T_INTEQ(v.cls, RULES_CLEAN);
	rules_verdict_free(&v);
	T_INTEQ(rules_classify("\0\0\xff\n\n\r", 6, rs, NULL, NULL, &v),
	    0);
	T_INTEQ(v.cls, RULES_CLEAN);
	rules_verdict_free(&v);
}

int
main(void)
{
	char path[256];
	int rc;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	put("t.domains", "# test\nevil.example\n");
	put("t.phones", "@weight 2\n(800) 555-0123\n");
	put("t.phrases", "cheap meds without a prescription\n");
	put("t.regex", "header:X-Mailer /bulkblaster/i\n");
	put("t.allow", "friend.example\n");
	rs = load();
	T_RUN(test_rows);
	T_RUN(test_findings);
	T_RUN(test_links_first);
	T_RUN(test_unparsed_and_truncated);
	rules_free(&rs);
	rc = t_done();
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 2;
	return rc;
}
