/*
 * test_ruleset.c: rule list loading and matching (ruleset.c, phrase.c,
 * regex.c) on the fixtures in tests/fixtures/rules.
 *
 * good/ is a small complete set; every look-up below is checked against
 * it.  bad/ holds one file per family of mistakes, each with a
 * NAME.expected file of the exact "file:line: message" lines; bad.expected
 * is what one load of the whole directory plus two wrong paths reports.
 * Paths are relative to the source tree: run from its top, or set TOP.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules/rules-private.h"
#include "tests/unit/test.h"

#define FX	"tests/fixtures/rules/"
#define GOOD	FX "good"
#define BAD	FX "bad/"
#define DIPLOMAS "diplomas from prestigious non-accredited universities"

static struct rules_set *good;

static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf != NULL)
		buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int
load(struct rules_set **rs, const char *const *paths, size_t n, char **errs)
{
	struct rules_opts opts = { 1, 0 };

	return rules_load(rs, paths, n, &opts, errs);
}

static void
test_load_good(void)
{
	static const struct {
		enum rules_kind kind;
		size_t	 n;
	} want[] = {
		{ RULES_DOMAIN, 11 },
		{ RULES_PHONE, 6 },
		{ RULES_PHRASE, 6 },
		{ RULES_REGEX, 5 },
		{ RULES_ALLOW, 3 },
	};
	const char *paths[] = { GOOD };
	char	*errs = NULL;
	size_t	 i;

	T_INTEQ(load(&good, paths, 1, &errs), 0);
	T_STREQ(errs, NULL);
	free(errs);
	T_ASSERT(good != NULL);
	if (good == NULL)
		return;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		T_INTEQ(rules_count(good, want[i].kind), want[i].n);
	T_ASSERT(rules_threshold(good) == 2.5);
	T_INTEQ(rules_default_cc(good), 1);
}

static void
test_empty_and_defaults(void)
{
	struct rules_set *rs = NULL;
	char	*errs = NULL;

	T_INTEQ(rules_load(&rs, NULL, 0, NULL, &errs), 0);
	T_STREQ(errs, NULL);
	T_INTEQ(rules_count(rs, RULES_DOMAIN), 0);
	T_ASSERT(rules_threshold(rs) == 1);
	T_INTEQ(rules_default_cc(rs), 1);
	rules_free(&rs);
	T_ASSERT(rs == NULL);
	rules_free(&rs);
}

static void
test_domains(void)
{
	static const struct {
		const char *host;
		const char *entry;	/* NULL: no match */
		unsigned line;
	} rows[] = {
		{ "evil.example", "evil.example", 4 },
		{ "a.b.evil.example", "evil.example", 4 },
		{ "sub.evil.example", "sub.evil.example", 3 },
		{ "x.sub.evil.example", "sub.evil.example", 3 },
		{ "notevil.example", NULL, 0 },
		{ "example", NULL, 0 },
		{ "evil.example.com", NULL, 0 },
		{ "wild.example", "wild.example", 5 },
		{ "a.wild.example", "wild.example", 5 },
		{ "x.dot.example", "dot.example", 6 },
		{ "loud.example", "loud.example", 7 },
		{ "www.loud.example", "loud.example", 7 },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example", 8 },
		{ "shop.xn--bcher-kva.example", "xn--bcher-kva.example", 8 },
		{ "192.0.2.7", "192.0.2.7", 9 },
		{ "192.0.2.77", NULL, 0 },
		{ "1.192.0.2.7", NULL, 0 },
		{ "2001:db8::7", "2001:db8::7", 10 },
		{ "ads.example", "ads.example", 12 },
		{ "cdn.tracker.example", "tracker.example", 12 },
		{ "localhost", NULL, 0 },
		{ "broadcasthost", NULL, 0 },
		{ "0.0.0.0", NULL, 0 },
		{ "other.example", "other.example", 4 },
		{ "", NULL, 0 },
	};
	struct rules_hit hit;
	size_t	 i;
	int	 m;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&hit, 0, sizeof(hit));
		m = rules_match_domain(good, rows[i].host, &hit);
		if (m != (rows[i].entry != NULL)) {
			T_FAILF("row %zu: %s matched %d", i, rows[i].host, m);
			continue;
		}
		if (!m)
			continue;
		T_STREQ(hit.entry, rows[i].entry);
		T_INTEQ(hit.line, rows[i].line);
		T_INTEQ(hit.kind, RULES_DOMAIN);
	}
}

/* Duplicates keep the first place; hits carry the file and its weight. */
static void
test_hit_origin(void)
{
	struct rules_hit hit;
	char	 d[RULES_PHONE_MAX + 1];

	T_ASSERT(rules_match_domain(good, "evil.example", &hit));
	T_STREQ(hit.file, GOOD "/10-spam.domains");
	T_ASSERT(hit.weight == 2);
	T_ASSERT(rules_match_domain(good, "other.example", &hit));
	T_STREQ(hit.file, GOOD "/20-more.domains");
	T_ASSERT(hit.weight == 1);
	T_INTEQ(rules_phone_normalise("(800) 555-0123", 14, 1, d, sizeof(d)),
	    0);
	T_ASSERT(rules_match_phone(good, d, &hit));
	T_INTEQ(hit.line, 3);
	T_ASSERT(hit.weight == 0.5);
	T_INTEQ(hit.kind, RULES_PHONE);
}

static void
test_phones(void)
{
	static const struct {
		const char *written;
		int	 match;
	} rows[] = {
		{ "+1 800 555 0123", 1 },
		{ "1 (800) 555-0123", 1 },
		{ "800-555-0199", 1 },
		{ "+1.800.555.0199", 1 },
		{ "(212) 555-0142", 1 },
		{ "303 555 0101", 1 },
		{ "+44 20 7946 0958", 1 },
		{ "00442079460959", 1 },
		{ "+1 800 555 0124", 0 },
		{ "+44 20 7946 0957", 0 },
	};
	struct rules_hit hit;
	char	 d[RULES_PHONE_MAX + 1];
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rules_phone_normalise(rows[i].written,
		    strlen(rows[i].written), 1, d, sizeof(d)) == -1) {
			T_FAILF("row %zu: %s does not normalise", i,
			    rows[i].written);
			continue;
		}
		if (rules_match_phone(good, d, &hit) != rows[i].match)
			T_FAILF("row %zu: %s (%s) should %smatch", i,
			    rows[i].written, d, rows[i].match ? "" : "not ");
	}
}

struct found {
	char	 buf[1024];
};

static void
on_phrase(void *ctx, const struct rules_hit *hit)
{
	struct found *f = ctx;
	size_t	 n = strlen(f->buf);

	snprintf(f->buf + n, sizeof(f->buf) - n, "%s%s", n ? "|" : "",
	    hit->entry);
	if (hit->kind != RULES_PHRASE || hit->line == 0)
		strcat(f->buf, "(bad hit)");
}

static void
test_phrases(void)
{
	static const struct {
		const char *text;
		const char *want;	/* entries in report order */
	} rows[] = {
		{ "Get DIPLOMAS from Prestigious\n non-accredited  universities!",
		  DIPLOMAS },
		{ "diplomas from prestigious non accredited universities",
		  DIPLOMAS },
		{ "diplomas from prestigious non-accredited universitiesx",
		  "" },
		{ "universities: diplomas from prestigious non-accredited "
		  "universities, diplomas...",
		  DIPLOMAS },
		{ "xdiplomas from prestigious non accredited universities", "" },
		{ "Click here to claim your prize now and forever.",
		  "Click HERE to claim your prize!!!|"
		  "claim your prize now and forever" },
		{ "You have been SELECTED for a cash reward of $1,000,000!",
		  "you have been selected for a cash reward|"
		  "you have been selected for a cash reward of $1,000,000" },
		{ "you have been selected for a cash reward today",
		  "you have been selected for a cash reward" },
		{ "you have been selected for a cash",
		  "" },
		{ "the #1 weight loss secret; the #1 weight loss secret, again "
		  "THE 1 WEIGHT LOSS SECRET",
		  "The #1 Weight-Loss Secret" },
		{ "", "" },
		{ "prize", "" },
	};
	struct found f;
	char	 fold[512];
	size_t	 i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&f, 0, sizeof(f));
		n = rules_fold(rows[i].text, strlen(rows[i].text), fold);
		rules_match_phrases(good, fold, n, on_phrase, &f);
		if (strcmp(f.buf, rows[i].want) != 0)
			T_FAILF("row %zu: got \"%s\", want \"%s\"", i, f.buf,
			    rows[i].want);
	}
}

static void
on_regex(void *ctx, const struct rules_hit *hit, const char *m, size_t mlen)
{
	struct found *f = ctx;
	size_t	 n = strlen(f->buf);

	snprintf(f->buf + n, sizeof(f->buf) - n, "%s%u=%.*s", n ? "|" : "",
	    hit->line, (int)mlen, m);
}

static void
test_regex(void)
{
	/* Writable copies: the view's fields are not const. */
	static char n1[] = "Subject", v1[] = "a MIRACLE  pill for you",
	    n2[] = "X-Other", v2[] = "miracle pill", n3[] = "subject",
	    v3[] = "second subject", t1[] = "wire transfer in subject",
	    t2[] = "hello", t3[] = "send a Wire\nTransfer today, price: #1 / "
	    "unit", w[] = "where";
	struct rules_header hdrs[] = { { n1, v1 }, { n2, v2 }, { n3, v3 } };
	struct rules_part parts[] = {
		{ RULES_PART_SUBJECT, t1, sizeof(t1) - 1, w, 1 },
		{ RULES_PART_PLAIN, t2, sizeof(t2) - 1, w, 1 },
		{ RULES_PART_HTML, t3, sizeof(t3) - 1, w, 1 },
	};
	struct rules_msg msg;
	const char *raw = "From: x@y.example\r\nX-Mailer: SpamBot 2\r\n\r\nhi\r\n";
	struct found f;

	memset(&msg, 0, sizeof(msg));
	msg.hdrs = hdrs;
	msg.nhdrs = 3;
	msg.parts = parts;
	msg.nparts = 3;
	memset(&f, 0, sizeof(f));
	rules_match_regex(good, &msg, raw, strlen(raw), NULL, on_regex, &f);
	T_STREQ(f.buf, "2=MIRACLE  pill|3=Wire\nTransfer|4=X-Mailer: SpamBot|"
	    "7=price: #1 / unit");

	/* No message view: only raw rules can run. */
	memset(&f, 0, sizeof(f));
	rules_match_regex(good, NULL, raw, strlen(raw), NULL, on_regex, &f);
	T_STREQ(f.buf, "4=X-Mailer: SpamBot");
}

/* /(a+)+$/ on "aaa...ab" backtracks exponentially; the match limit must
 * stop it.  Nothing is timed: the test only has to come back. */
static void
test_regex_backtracking(void)
{
	static char text[4097], w[] = "where";
	struct rules_part part = { RULES_PART_PLAIN, text, 0, w, 1 };
	struct rules_msg msg;
	struct found f;

	memset(text, 'a', sizeof(text) - 2);
	text[sizeof(text) - 2] = 'b';
	text[sizeof(text) - 1] = '\0';
	part.len = sizeof(text) - 1;
	memset(&msg, 0, sizeof(msg));
	msg.parts = &part;
	msg.nparts = 1;
	memset(&f, 0, sizeof(f));
	rules_match_regex(good, &msg, text, part.len, NULL, on_regex, &f);
	T_STREQ(f.buf, "");
}

/* The regex limits come from struct rules_limits: a match the defaults
 * find is given up under a match or depth limit too small for it. */
static void
test_regex_limits(void)
{
	static char text[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", w[] = "where";
	struct rules_part part = { RULES_PART_PLAIN, text, 0, w, 1 };
	struct rules_limits lim;
	struct rules_msg msg;
	struct found f;

	part.len = strlen(text);
	memset(&msg, 0, sizeof(msg));
	msg.parts = &part;
	msg.nparts = 1;
	memset(&f, 0, sizeof(f));
	rules_limits_default(&lim);
	T_INTEQ(lim.regex_match_limit, RULES_DEF_REGEX_MATCH);
	T_INTEQ(lim.regex_depth_limit, RULES_DEF_REGEX_DEPTH);
	rules_match_regex(good, &msg, text, part.len, &lim, on_regex, &f);
	T_ASSERT(strncmp(f.buf, "5=aaaa", 6) == 0);
	memset(&f, 0, sizeof(f));
	lim.regex_match_limit = 1;
	rules_match_regex(good, &msg, text, part.len, &lim, on_regex, &f);
	T_STREQ(f.buf, "");
	/* Zero members mean the defaults. */
	memset(&lim, 0, sizeof(lim));
	rules_limits_fill(&lim);
	T_INTEQ(lim.max_parse_bytes, RULES_DEF_PARSE_BYTES);
	T_INTEQ(lim.max_html_depth, RULES_DEF_HTML_DEPTH);
	T_INTEQ(lim.regex_match_limit, RULES_DEF_REGEX_MATCH);
	memset(&f, 0, sizeof(f));
	lim.regex_match_limit = 0;
	rules_match_regex(good, &msg, text, part.len, &lim, on_regex, &f);
	T_ASSERT(strncmp(f.buf, "5=aaaa", 6) == 0);
}

static void
test_allow(void)
{
	static const struct {
		const char *addr;
		const char *entry;
	} rows[] = {
		{ "alice@friends.example", "alice@friends.example" },
		{ "bob@friends.example", NULL },
		{ "anyone@family.example", "family.example" },
		{ "cousin@mail.family.example", "family.example" },
		{ "x@partner.example", "partner.example" },
		{ "x@notpartner.example", NULL },
		{ "partner.example", NULL },
		{ "@partner.example", NULL },
	};
	struct rules_hit hit;
	size_t	 i;
	int	 m;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&hit, 0, sizeof(hit));
		m = rules_match_allow(good, rows[i].addr, &hit);
		if (m != (rows[i].entry != NULL))
			T_FAILF("row %zu: %s matched %d", i, rows[i].addr, m);
		else if (m) {
			T_STREQ(hit.entry, rows[i].entry);
			T_INTEQ(hit.kind, RULES_ALLOW);
		}
	}
}

/* Loads paths; the errors must be exactly the expected file. */
static void
check_errors(const char *const *paths, size_t n, const char *expected)
{
	static int sentinel;
	struct rules_set *rs = (struct rules_set *)(void *)&sentinel;
	char	*errs = NULL, *want;

	want = slurp(expected);
	if (want == NULL) {
		T_FAILF("cannot read %s", expected);
		return;
	}
	T_INTEQ(load(&rs, paths, n, &errs), -1);
	T_ASSERT(rs == NULL);
	if (errs == NULL || strcmp(errs, want) != 0)
		T_FAILF("%s: got\n%s", expected, errs != NULL ? errs :
		    "(null)");
	free(errs);
	free(want);
}

static void
test_bad_files(void)
{
	static const char *const names[] = {
		"10-directives.domains", "20-weight.phrases",
		"30-hosts.domains", "40-phones.phones", "50-regex.regex",
		"60-allow.allow", "70-nul.phones", "80-long.domains",
		"81-binary.phones", "82-empty-directive.domains",
		"83-regex-more.regex", "84-crlf-bom.phrases",
		"85-numbers.allow", "86-dup-threshold.domains",
		"87-hosts.domains",
	};
	char	 path[256], exp[300];
	const char *p = path;
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), BAD "%s", names[i]);
		snprintf(exp, sizeof(exp), "%s.expected", path);
		check_errors(&p, 1, exp);
	}
}

/*
 * Only regular files are read, each up to max_file_bytes: a FIFO used to
 * block the load (alarm ends the test if it still does) and /dev/zero to
 * grow the buffer without end.
 */
static void
test_not_regular(void)
{
	char	 dir[] = "/tmp/test_ruleset.XXXXXX", path[300], want[700];
	char	*errs = NULL;
	const char *paths[1];
	struct rules_opts opts = { 1, 4096 };
	struct rules_set *rs = NULL;
	FILE	*fp;
	int	 i;

	if (mkdtemp(dir) == NULL) {
		T_FAILF("mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/fifo.domains", dir);
	T_INTEQ(mkfifo(path, 0600), 0);
	paths[0] = path;
	alarm(20);
	T_INTEQ(rules_load(&rs, paths, 1, NULL, &errs), -1);
	alarm(0);
	snprintf(want, sizeof(want), "%s: not a regular file\n", path);
	T_STREQ(errs, want);
	free(errs);
	errs = NULL;
	/* The same in a directory, beside a good file. */
	snprintf(path, sizeof(path), "%s/a.domains", dir);
	if ((fp = fopen(path, "w")) == NULL) {
		T_FAILF("cannot write %s", path);
		return;
	}
	for (i = 0; i < 400; i++)	/* 400 * 16 bytes: over 4096 */
		fprintf(fp, "d%09d.test\n", i);
	fclose(fp);
	paths[0] = dir;
	T_INTEQ(rules_load(&rs, paths, 1, &opts, &errs), -1);
	snprintf(want, sizeof(want), "%s/a.domains: larger than 4096 bytes "
	    "(max_rule_file_bytes)\n%s/fifo.domains: not a regular file\n",
	    dir, dir);
	T_STREQ(errs, want);
	free(errs);
	errs = NULL;
	opts.max_file_bytes = 6400;	/* exactly its size */
	snprintf(path, sizeof(path), "%s/fifo.domains", dir);
	(void)unlink(path);
	T_INTEQ(rules_load(&rs, paths, 1, &opts, &errs), 0);
	T_STREQ(errs, NULL);
	if (rs != NULL)
		T_INTEQ(rules_count(rs, RULES_DOMAIN), 400);
	rules_free(&rs);
	snprintf(path, sizeof(path), "%s/zero.domains", dir);
	T_INTEQ(symlink("/dev/zero", path), 0);
	paths[0] = path;
	alarm(20);
	T_INTEQ(rules_load(&rs, paths, 1, NULL, &errs), -1);
	alarm(0);
	snprintf(want, sizeof(want), "%s: not a regular file\n", path);
	T_STREQ(errs, want);
	free(errs);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/a.domains", dir);
	(void)unlink(path);
	(void)rmdir(dir);
}

/* One load of everything: every error at once, in order. */
static void
test_bad_one_pass(void)
{
	const char *paths[] = { FX "bad", BAD "notes.txt",
	    FX "missing.domains" };
	char	*want, *p;
	int	 lines = 0;

	check_errors(paths, 3, FX "bad.expected");
	want = slurp(FX "bad.expected");
	for (p = want; p != NULL && *p != '\0'; p++)
		lines += *p == '\n';
	T_ASSERT(lines >= 12);
	free(want);
}

int
main(void)
{
	const char *top = getenv("TOP");

	if (top != NULL && *top != '\0' && chdir(top) == -1) {
		perror(top);
		return 1;
	}
	T_RUN(test_load_good);
	if (good == NULL)
		return t_done();
	T_RUN(test_empty_and_defaults);
	T_RUN(test_domains);
	T_RUN(test_hit_origin);
	T_RUN(test_phones);
	T_RUN(test_phrases);
	T_RUN(test_regex);
	T_RUN(test_regex_backtracking);
	T_RUN(test_regex_limits);
	T_RUN(test_allow);
	T_RUN(test_bad_files);
	T_RUN(test_bad_one_pass);
	T_RUN(test_not_regular);
	rules_free(&good);
	return t_done();
}
