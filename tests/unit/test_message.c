/*
 * test_message.c: the message view (message.c, boundary.c): header
 * fields, RFC 2047, From and Message-ID, MIME walking, transfer
 * encodings, charsets, nested messages, limits and hostile input.
 *
 * Small messages are built inline; larger ones are the fixtures in
 * tests/fixtures/msg.  Paths are relative to the source tree: run from
 * its top, or set TOP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rules/rules.h"
#include "tests/unit/test.h"

#define FX	"tests/fixtures/msg/"

static char *
slurp(const char *path, size_t *len_r)
{
	FILE *fp;
	char *buf;
	long n;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		T_FAILF("cannot open %s", path);
		return NULL;
	}
	buf = NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL)
			*len_r = fread(buf, 1, (size_t)n, fp);
	}
	fclose(fp);
	return buf;
}

static struct rules_msg *
parse_lim(const char *raw, size_t len, const struct rules_limits *lim)
{
	struct rules_msg *m = NULL;
	char err[64] = "";

	if (rules_msg_parse(raw, len, lim, &m, err, sizeof(err)) == -1)
		T_FAILF("rules_msg_parse: %s", err);
	return m;
}

static struct rules_msg *
parse_str(const char *raw)
{
	return parse_lim(raw, strlen(raw), NULL);
}

static struct rules_msg *
parse_file(const char *name, const struct rules_limits *lim)
{
	struct rules_msg *m;
	size_t len = 0;
	char *raw;

	raw = slurp(name, &len);
	if (raw == NULL)
		return NULL;
	m = parse_lim(raw, len, lim);
	free(raw);
	return m;
}

/* The part described as where, or NULL. */
static const struct rules_part *
part(const struct rules_msg *m, const char *where)
{
	size_t i;

	for (i = 0; m != NULL && i < m->nparts; i++)
		if (strcmp(m->parts[i].where, where) == 0)
			return &m->parts[i];
	return NULL;
}

static int
has_note(const struct rules_msg *m, const char *what)
{
	return m != NULL && m->note != NULL && strstr(m->note, what) != NULL;
}

static void
test_limits_default(void)
{
	struct rules_limits lim;

	rules_limits_default(&lim);
	T_INTEQ(lim.max_parse_bytes, RULES_DEF_PARSE_BYTES);
	T_INTEQ(lim.max_depth, RULES_DEF_DEPTH);
	T_INTEQ(lim.max_parts, RULES_DEF_PARTS);
	T_INTEQ(lim.max_urls, RULES_DEF_URLS);
	T_INTEQ(lim.max_phones, RULES_DEF_PHONES);
	T_INTEQ(lim.max_text_bytes, RULES_DEF_TEXT_BYTES);
	T_INTEQ(lim.max_html_depth, RULES_DEF_HTML_DEPTH);
}

/* The same message with bare LF and with CRLF line ends. */
static void
test_headers_lf_crlf(void)
{
	static const char *const files[] = {
		FX "plain-lf.eml", FX "plain-crlf.eml"
	};
	static const char body[] = "Hello,\nthis is plain text.\n";
	struct rules_msg *m;
	size_t i;

	for (i = 0; i < 2; i++) {
		m = parse_file(files[i], NULL);
		if (m == NULL)
			continue;
		T_INTEQ(m->flags, 0);
		T_INTEQ(m->nhdrs, 6);
		T_STREQ(m->hdrs[0].name, "From");
		T_STREQ(m->hdrs[3].name, "Message-ID");
		T_STREQ(m->subject, "Caf\xc3\xa9 news for you");
		T_STREQ(m->from, "sender@example.com");
		T_STREQ(m->message_id, "abc.123@mail.example.com");
		T_STREQ(rules_msg_header(m, "x-empty"), "");
		T_STREQ(rules_msg_header(m, "X-FOLDED"), "one\ttwo");
		T_STREQ(rules_msg_header(m, "to"), "you@example.org");
		T_STREQ(rules_msg_header(m, "Cc"), NULL);
		T_INTEQ(m->nparts, 2);
		T_INTEQ(m->parts[0].kind, RULES_PART_SUBJECT);
		T_STREQ(m->parts[0].where, "subject");
		T_STREQ(m->parts[0].text, m->subject);
		T_INTEQ(m->parts[1].kind, RULES_PART_PLAIN);
		T_STREQ(m->parts[1].where, "1 text/plain");
		T_STREQ(m->parts[1].text, body);	/* CRLF read as LF */
		T_INTEQ(m->parts[1].len, strlen(body));
		T_INTEQ(m->parts[1].charset_ok, 1);
		rules_msg_free(&m);
		T_ASSERT(m == NULL);
	}
}

static void
test_rfc2047(void)
{
	static const struct {
		const char *raw, *want;
	} t[] = {
		{"=?UTF-8?Q?caf=C3=A9?=", "caf\xc3\xa9"},
		{"=?iso-8859-1?q?caf=E9_au_lait?=", "caf\xc3\xa9 au lait"},
		{"=?UTF-8?B?ZnJlZSBtb25leQ==?=", "free money"},
		{"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},
		{"=?utf-8?q?a?=\r\n =?utf-8?b?Yg==?=", "ab"},
		{"Re: =?utf-8?q?x?= tail", "Re: x tail"},
		{"=?koi8-r?B?8NLJ18XU?=", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2"
		    "\xd0\xb5\xd1\x82"},
		{"=?x-no-such-charset?q?abc?=", "abc"},
		/* libetpan reads a word missing its "?=" */
		{"=?utf-8?q?unterminated", "unterminated"},
		{"=?utf-8?B?ZnLigItlZQ==?=", "free"},
		{"=?utf-8?q?100=25?= sure", "100% sure"},
		{"caf\xe9 cr\xe8me", "caf\xc3\xa9 cr\xc3\xa8me"},
		{"na\xc3\xafve", "na\xc3\xafve"},
		{"fr\xe2\x80\x8b" "ee", "free"},
		{"", ""}
	};
	struct rules_msg *m;
	char raw[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(raw, sizeof(raw), "Subject: %s\r\n\r\nbody\r\n",
		    t[i].raw);
		m = parse_str(raw);
		if (m == NULL || m->subject == NULL ||
		    strcmp(m->subject, t[i].want) != 0)
			T_FAILF("row %zu: \"%s\" -> \"%s\", want \"%s\"", i,
			    t[i].raw, m == NULL || m->subject == NULL ?
			    "(null)" : m->subject, t[i].want);
		rules_msg_free(&m);
	}
}

static void
test_from(void)
{
	static const struct {
		const char *raw, *want;
	} t[] = {
		{"Name <A@B.Example>", "a@b.example"},
		{"a@b.example", "a@b.example"},
		{"\"Weird, Name\" <x@y.z>", "x@y.z"},
		{"=?utf-8?q?J=C3=B6rg?= <J@X.de>", "j@x.de"},
		{"a@b.example, c@d.example", "a@b.example"},
		{"<<<x@y.z", "x@y.z"},
		{"junk x@Y.z (comment)", "x@y.z"},
		{"Bank <support@bank.example> <evil@phish.example>",
		    "support@bank.example"},
		{"<<<@@@>>>", NULL},
		{"MAILER-DAEMON", NULL},
		{"undisclosed-recipients:;", NULL},
		{"", NULL}
	};
	struct rules_msg *m;
	char raw[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(raw, sizeof(raw), "From: %s\n\nbody\n", t[i].raw);
		m = parse_str(raw);
		if (m == NULL)
			continue;
		if (t[i].want == NULL ? m->from != NULL : m->from == NULL ||
		    strcmp(m->from, t[i].want) != 0)
			T_FAILF("row %zu: \"%s\" -> \"%s\", want \"%s\"", i,
			    t[i].raw, m->from != NULL ? m->from : "(null)",
			    t[i].want != NULL ? t[i].want : "(null)");
		rules_msg_free(&m);
	}
}

static void
test_message_id(void)
{
	static const struct {
		const char *raw, *want;
	} t[] = {
		{"<abc@x>", "abc@x"},
		{" <abc@x> (comment)", "abc@x"},
		{"abc@x", "abc@x"},
		{"<abc@x", "abc@x"},
		{"\r\n <folded@x>", "folded@x"},
		{"<>", NULL},
		{"", NULL}
	};
	struct rules_msg *m;
	char raw[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(raw, sizeof(raw), "Message-Id: %s\r\n\r\nb\r\n",
		    t[i].raw);
		m = parse_str(raw);
		if (m == NULL)
			continue;
		if (t[i].want == NULL)
			T_ASSERT(m->message_id == NULL);
		else
			T_STREQ(m->message_id, t[i].want);
		rules_msg_free(&m);
	}
}

static void
test_missing_headers(void)
{
	struct rules_msg *m;

	m = parse_file(FX "noheaders.eml", NULL);
	if (m != NULL) {
		T_INTEQ(m->nhdrs, 0);
		T_ASSERT(m->subject == NULL && m->from == NULL &&
		    m->message_id == NULL);
		T_INTEQ(m->nparts, 1);
		T_STREQ(m->parts[0].where, "1 text/plain");
		T_STREQ(m->parts[0].text, "just a body line\nand another\n");
	}
	rules_msg_free(&m);
	m = parse_file(FX "junk-headers.eml", NULL);
	if (m != NULL) {
		T_INTEQ(m->nhdrs, 1);
		T_STREQ(m->hdrs[0].value, "<<<@@@>>>");
		T_ASSERT(m->from == NULL && m->subject == NULL);
	}
	rules_msg_free(&m);
	/* An mbox "From " line is not a header; empty input is a view. */
	m = parse_str("From someone Mon Jan  1 00:00:00 2024\n"
	    "Subject: s\n\nb\n");
	if (m != NULL)
		T_STREQ(m->subject, "s");
	rules_msg_free(&m);
	m = parse_lim("", 0, NULL);
	T_ASSERT(m != NULL && m->nhdrs == 0);
	rules_msg_free(&m);
	m = parse_lim(NULL, 0, NULL);
	T_ASSERT(m != NULL);
	rules_msg_free(&m);
}

/* One-part messages: transfer encodings and content types. */
static void
test_bodies(void)
{
	static const struct {
		const char *hdrs, *body, *where, *want;
	} t[] = {
		{"Content-Transfer-Encoding: quoted-printable\n",
		    "a=\nb=3Dc caf=C3=A9=\r\n!\n", "1 text/plain",
		    "ab=c caf\xc3\xa9!\n"},
		{"Content-Transfer-Encoding: Quoted-Printable\n",
		    "bad =ZZ and =4\n", "1 text/plain", "bad =ZZ and =4\n"},
		{"Content-Transfer-Encoding: base64\n",
		    "aGVs\nbG8=\n", "1 text/plain", "hello"},
		{"Content-Transfer-Encoding: x-made-up\n",
		    "as is\n", "1 text/plain", "as is\n"},
		{"Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: 8bit\n",
		    "r\xc3\xa9sum\xc3\xa9\n", "1 text/plain",
		    "r\xc3\xa9sum\xc3\xa9\n"},
		{"", "caf\xe9\n", "1 text/plain", "caf\xc3\xa9\n"},
		{"Content-Type: text/plain; charset=us-ascii\n",
		    "\x93q\x94\n", "1 text/plain",
		    "\xe2\x80\x9cq\xe2\x80\x9d\n"},
		{"Content-Type: text/x-custom\n", "odd text\n",
		    "1 text/x-custom", "odd text\n"},
		{"Content-Type: TEXT/HTML\n", "<b>bold</b> move\n",
		    "1 text/html", "bold move"},
		{"Content-Type: multipart/mixed\n", "no boundary\n",
		    "1 multipart/mixed", "no boundary\n"},
		{"Content-Type: text/rfc822-headers\n", "Subject: x\n", NULL,
		    NULL},
		{"Content-Type: application/octet-stream\n", "binary\n", NULL,
		    NULL},
		{"Content-Type: image/png\nContent-Transfer-Encoding: base64\n",
		    "iVBORw0KGgo=\n", NULL, NULL}
	};
	const struct rules_part *p;
	struct rules_msg *m;
	char raw[512];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(raw, sizeof(raw), "Subject: s\n%s\n%s", t[i].hdrs,
		    t[i].body);
		m = parse_str(raw);
		if (m == NULL)
			continue;
		if (t[i].where == NULL) {
			if (m->nparts != 1)
				T_FAILF("row %zu: %zu parts, want 1", i,
				    m->nparts);
		} else {
			p = part(m, t[i].where);
			if (p == NULL || strcmp(p->text, t[i].want) != 0)
				T_FAILF("row %zu: part \"%s\" = \"%s\", want "
				    "\"%s\"", i, t[i].where, p == NULL ?
				    "(none)" : p->text, t[i].want);
		}
		rules_msg_free(&m);
	}
}

static void
test_base64_garbage(void)
{
	struct rules_msg *m;

	m = parse_file(FX "base64-garbage.eml", NULL);
	T_ASSERT(part(m, "1 text/plain") != NULL);
	if (part(m, "1 text/plain") != NULL)
		T_STREQ(part(m, "1 text/plain")->text, "hello base64 world");
	rules_msg_free(&m);
}

static void
test_alternative(void)
{
	struct rules_msg *m;
	size_t i;

	m = parse_file(FX "alternative.eml", NULL);
	if (m == NULL)
		return;
	T_INTEQ(m->flags, 0);
	T_INTEQ(m->nparts, 3);
	T_ASSERT(part(m, "1 text/plain") != NULL &&
	    part(m, "2 text/html") != NULL);
	if (m->nparts != 3 || part(m, "2 text/html") == NULL)
		goto out;
	T_STREQ(part(m, "1 text/plain")->text, "Free money is waiting for "
	    "you: soft linebreak, caf\xc3\xa9 and free money.");
	T_INTEQ(part(m, "2 text/html")->kind, RULES_PART_HTML);
	T_STREQ(part(m, "2 text/html")->text,
	    "Click here & get \xe2\x82\xac" "100 now!\nmoney");
	T_INTEQ(m->nlinks, 3);
	for (i = 0; i < m->nlinks; i++)
		T_INTEQ(m->links[i].part, 2);
	if (m->nlinks == 3) {
		T_STREQ(m->links[0].url, "https://evil.example/win?a=1&b=2");
		T_STREQ(m->links[1].url, "http://img.example/x.png");
		T_STREQ(m->links[2].url, "https://form.example/post");
	}
out:
	rules_msg_free(&m);
}

static void
test_charsets(void)
{
	static const struct {
		const char *where, *want;
		int ok;
	} t[] = {
		{"1 text/plain", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln", 1},
		{"2 text/plain", "\xe2\x80\x9csmart quotes\xe2\x80\x9d \xe2\x80"
		    "\x93 dash \xe2\x82\xac 5", 1},
		{"3 text/plain", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1"
		    "\x82, \xd0\xbc\xd0\xb8\xd1\x80", 1},
		{"4 text/plain", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81"
		    "\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88", 1},
		{"5 text/plain", "free money xy", 1},
		{"6 text/plain", "keep \xe9 bytes", 0},
		{"7 text/plain", "na\xc3\xafve caf\xc3\xa9", 1},
		{"8 text/plain", "ok \xef\xbf\xbd\xef\xbf\xbd end", 1}
	};
	const struct rules_part *p;
	struct rules_msg *m;
	size_t i, n;

	m = parse_file(FX "charsets.eml", NULL);
	if (m == NULL)
		return;
	T_INTEQ(m->flags, RULES_MSG_BADCHARSET);
	T_ASSERT(has_note(m, "unknown charset x-no-such-charset in part 6"));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p = part(m, t[i].where);
		if (p == NULL) {
			T_FAILF("no part \"%s\"", t[i].where);
			continue;
		}
		n = strlen(t[i].want);
		/* The fixture puts a line break after each body. */
		if (p->len < n || memcmp(p->text, t[i].want, n) != 0 ||
		    p->charset_ok != t[i].ok)
			T_FAILF("part \"%s\" = \"%s\" (ok %d), want \"%s\" (ok "
			    "%d)", t[i].where, p->text, p->charset_ok,
			    t[i].want, t[i].ok);
	}
	rules_msg_free(&m);
}

static void
test_nested(void)
{
	static const struct {
		enum rules_part_kind kind;
		const char *where, *text;
	} t[] = {
		{RULES_PART_SUBJECT, "subject", "Fwd: stuff"},
		{RULES_PART_PLAIN, "1 text/plain", "See below."},
		{RULES_PART_SUBJECT, "2 message/rfc822 subject",
		    "Inner subject"},
		{RULES_PART_PLAIN, "2.1 text/plain", "inner plain"},
		{RULES_PART_HTML, "2.2 text/html", "inner html"},
		{RULES_PART_SUBJECT, "3 message/rfc822 subject",
		    "Base64 inner"},
		{RULES_PART_HTML, "3.1 text/html", "base64 inner"},
		{RULES_PART_PLAIN, "5 text/plain", "attached notes"}
	};
	struct rules_limits lim;
	struct rules_msg *m;
	size_t i, n;

	m = parse_file(FX "nested.eml", NULL);
	if (m == NULL)
		return;
	T_INTEQ(m->flags, 0);
	T_INTEQ(m->nparts, sizeof(t) / sizeof(t[0]));
	for (i = 0; i < m->nparts && i < sizeof(t) / sizeof(t[0]); i++) {
		n = strlen(t[i].text);
		T_INTEQ(m->parts[i].kind, t[i].kind);
		T_STREQ(m->parts[i].where, t[i].where);
		if (m->parts[i].len < n ||
		    memcmp(m->parts[i].text, t[i].text, n) != 0)
			T_FAILF("part %zu = \"%s\", want \"%s\"", i,
			    m->parts[i].text, t[i].text);
	}
	T_INTEQ(m->nlinks, 1);
	if (m->nlinks == 1) {
		T_STREQ(m->links[0].url, "http://inner.example/");
		T_INTEQ(m->links[0].part, 6);
	}
	rules_msg_free(&m);
	/* With max_depth 2 neither nested message is walked into. */
	rules_limits_default(&lim);
	lim.max_depth = 2;
	m = parse_file(FX "nested.eml", &lim);
	T_ASSERT(m != NULL && (m->flags & RULES_MSG_TRUNCATED));
	T_ASSERT(part(m, "2.1 text/plain") == NULL &&
	    part(m, "3.1 text/html") == NULL &&
	    part(m, "1 text/plain") != NULL);
	rules_msg_free(&m);
}

/* libetpan 1.9.4 crashes on these without boundary.c. */
static void
test_boundary_crash(void)
{
	static const char *const ct[] = {
		"multipart/mixed; boundary=\"\\\"\"",
		"multipart/mixed; boundary=\"\"",
		"multipart/mixed; boundary=\"",
		"multipart/alternative; boundary=\"\\\"\\\"\"",
		"multipart/mixed; boundary=\" \\\"\""
	};
	struct rules_msg *m;
	char raw[256];
	size_t i;

	/* What main() runs first: libetpan calls boundary.c's function. */
	T_INTEQ(rules_boundary_selftest(), 0);
	m = parse_file(FX "boundary-quote.eml", NULL);
	T_ASSERT(m != NULL && part(m, "1 text/plain") != NULL);
	if (part(m, "1 text/plain") != NULL)
		T_STREQ(part(m, "1 text/plain")->text, "still here");
	rules_msg_free(&m);
	for (i = 0; i < sizeof(ct) / sizeof(ct[0]); i++) {
		snprintf(raw, sizeof(raw), "Subject: b\nContent-Type: %s\n\n"
		    "--\"\n\nx\n--\"--\n", ct[i]);
		m = parse_str(raw);
		T_ASSERT(m != NULL && m->nparts >= 1);
		rules_msg_free(&m);
	}
}

static void
test_deep_nesting(void)
{
	struct rules_limits lim;
	const struct rules_part *p;
	struct rules_msg *m;
	char where[128];
	size_t i;

	m = parse_file(FX "deep.eml", NULL);
	T_ASSERT(m != NULL && (m->flags & RULES_MSG_TRUNCATED));
	T_ASSERT(has_note(m, "nesting"));
	/* Cut at 16 + 8 delimiter levels: the bottom part is not reached. */
	for (i = 0; m != NULL && i < m->nparts; i++)
		T_ASSERT(strstr(m->parts[i].text, "bottom") == NULL);
	rules_msg_free(&m);
	/* Allowed deep enough, the bottom part is reached: "1.1....1". */
	rules_limits_default(&lim);
	lim.max_depth = 48;
	m = parse_file(FX "deep.eml", &lim);
	strcpy(where, "1");
	for (i = 1; i < 40; i++)
		strcat(where, ".1");
	strcat(where, " text/plain");
	p = part(m, where);
	T_ASSERT(p != NULL && strncmp(p->text, "bottom text", 11) == 0);
	T_ASSERT(m != NULL && m->flags == 0);
	rules_msg_free(&m);
}

/* Thousands of nested multiparts: cut before libetpan's quadratic
 * parse, so this takes milliseconds, not seconds. */
static void
test_hostile_nesting(void)
{
	struct rules_msg *m;
	size_t len = 0, i, cap = 400000;
	clock_t start;
	char *raw;
	int n;

	raw = malloc(cap);
	T_ASSERT(raw != NULL);
	if (raw == NULL)
		return;
	n = snprintf(raw, cap, "Subject: deep\n");
	len = (size_t)n;
	for (i = 0; len + 200 < cap / 2; i++) {
		n = snprintf(raw + len, cap - len, "Content-Type: multipart/"
		    "mixed; boundary=b%zu\n\n--b%zu\n", i, i);
		len += (size_t)n;
	}
	n = snprintf(raw + len, cap - len, "\nbottom\n");
	len += (size_t)n;
	while (i-- > 0 && len + 32 < cap) {
		n = snprintf(raw + len, cap - len, "--b%zu--\n", i);
		len += (size_t)n;
	}
	start = clock();
	m = parse_lim(raw, len, NULL);
	T_ASSERT((double)(clock() - start) / CLOCKS_PER_SEC < 2.0);
	T_ASSERT(m != NULL && (m->flags & RULES_MSG_TRUNCATED));
	T_ASSERT(has_note(m, "parse cut at byte"));
	rules_msg_free(&m);
	free(raw);
}

static void
test_over_cap(void)
{
	static const char cut[] = "Subject: 12345678\n\n"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\n";
	static const struct {
		size_t limit, len;
	} t[] = {
		{8, (size_t)-1}, {9, 0}, {10, 2}, {11, 2}, {13, 4}
	};
	struct rules_limits lim;
	const struct rules_part *p;
	struct rules_msg *m;
	char raw[4096];
	size_t len, i;

	len = (size_t)snprintf(raw, sizeof(raw), "Subject: big\n\n");
	while (len + 20 < sizeof(raw))
		len += (size_t)snprintf(raw + len, sizeof(raw) - len,
		    "line of text %03zu\n", len % 1000);
	rules_limits_default(&lim);
	lim.max_parse_bytes = 1000;
	m = parse_lim(raw, len, &lim);
	T_ASSERT(m != NULL && (m->flags & RULES_MSG_TRUNCATED));
	T_ASSERT(has_note(m, "parsed the first 1000 of"));
	p = part(m, "1 text/plain");
	T_ASSERT(p != NULL && p->len > 900 && p->len < 1000);
	rules_msg_free(&m);
	/* Visible text is capped too, at a character boundary; the subject
	 * takes 8 bytes and the body is "\xc3\xa9" three times. */
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		lim.max_text_bytes = t[i].limit;
		m = parse_lim(cut, strlen(cut), &lim);
		p = part(m, "1 text/plain");
		T_ASSERT(m != NULL && m->flags == RULES_MSG_TRUNCATED);
		if (t[i].len == (size_t)-1)
			T_ASSERT(p == NULL);
		else if (p == NULL || p->len != t[i].len ||
		    strlen(p->text) != t[i].len)
			T_FAILF("limit %zu: part length %zu, want %zu",
			    t[i].limit, p == NULL ? 0 : p->len, t[i].len);
		rules_msg_free(&m);
	}
}

static void
test_part_and_link_limits(void)
{
	struct rules_limits lim;
	struct rules_msg *m;
	char raw[2048];
	size_t len, i;

	len = (size_t)snprintf(raw, sizeof(raw), "Subject: many\nContent-Type:"
	    " multipart/mixed; boundary=B\n\n");
	for (i = 0; i < 10; i++)
		len += (size_t)snprintf(raw + len, sizeof(raw) - len, "--B\n"
		    "Content-Type: text/html\n\n<a href=\"http://l%zu.example/"
		    "\">p%zu</a>\n", i, i);
	len += (size_t)snprintf(raw + len, sizeof(raw) - len, "--B--\n");
	rules_limits_default(&lim);
	m = parse_lim(raw, len, &lim);
	T_ASSERT(m != NULL && m->flags == 0 && m->nparts == 11 &&
	    m->nlinks == 10);
	rules_msg_free(&m);
	lim.max_parts = 4;	/* the multipart and three children */
	lim.max_urls = 2;
	m = parse_lim(raw, len, &lim);
	T_ASSERT(m != NULL && (m->flags & RULES_MSG_TRUNCATED));
	T_INTEQ(m == NULL ? 0 : m->nparts, 4);
	T_INTEQ(m == NULL ? 0 : m->nlinks, 2);
	T_ASSERT(has_note(m, "more than 4 MIME parts") &&
	    has_note(m, "more than 2 links"));
	if (m != NULL && m->nlinks == 2) {
		T_STREQ(m->links[1].url, "http://l1.example/");
		T_INTEQ(m->links[1].part, 2);
	}
	rules_msg_free(&m);
}

/* Odd but legal or common shapes that must still give a view. */
static void
test_robust(void)
{
	static const char *const raw[] = {
		"Subject: x\nContent-Type: multipart/mixed; boundary=Z\n\n"
		    "--Z\nContent-Type: text/plain\n\ncut mid-part",
		"Subject: x\nContent-Type: message/rfc822\n\n",
		"Subject: x\nContent-Type: message/rfc822\n"
		    "Content-Transfer-Encoding: base64\n\n!!!!\n",
		"Subject: x\nContent-Type: message/global\n\n"
		    "Subject: g\n\nhi\n",
		"Subject: x\nContent-Type: text/plain; charset=\"\"\n\nhi\n",
		"Subject: x\nContent-Type: text/plain; charset=\"very-long-"
		    "charset-name-that-is-not-real-at-all\"\n\nhi\n",
		"Content-Type: ;;;\n\nhi\n",
		":\n\n",
		"\n\n\n",
		"Subject:\n \n \n\nb",
		"Subject: =?utf-8?b?\n\n",
		"Subject: =?=?=?=?\n\n"
	};
	struct rules_msg *m;
	size_t i;

	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		m = parse_str(raw[i]);
		T_ASSERT(m != NULL);
		rules_msg_free(&m);
	}
	m = parse_str(raw[0]);
	T_ASSERT(part(m, "1 text/plain") != NULL);
	rules_msg_free(&m);
	m = parse_str(raw[3]);
	T_ASSERT(part(m, "1 message/global subject") != NULL &&
	    part(m, "1.1 text/plain") != NULL);
	rules_msg_free(&m);
	rules_msg_free(&m);	/* freeing NULL is fine */
	rules_msg_free(NULL);
}

/* Every prefix of some fixtures, each in a buffer of exactly its size,
 * so that a sanitizer build catches any read past the end. */
static void
test_prefixes(void)
{
	static const char *const files[] = {
		FX "alternative.eml", FX "nested.eml", FX "charsets.eml",
		FX "plain-crlf.eml", FX "html-refresh.eml"
	};
	static const char lead[] = "\0Subject: x\n\nbody\n";
	static const char nuls[] = "Subject: a\0b\n\nbo\0dy\n";
	struct rules_msg *m;
	size_t f, k, len;
	char *raw, *buf;

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		raw = slurp(files[f], &len);
		for (k = 0; raw != NULL && k <= len; k++) {
			buf = malloc(k > 0 ? k : 1);
			T_ASSERT(buf != NULL);
			if (buf == NULL)
				break;
			memcpy(buf, raw, k);
			m = parse_lim(buf, k, NULL);
			T_ASSERT(m != NULL);
			rules_msg_free(&m);
			free(buf);
		}
		free(raw);
	}
	/* A NUL first byte is data, not the end. */
	m = parse_lim(lead, sizeof(lead) - 1, NULL);
	T_ASSERT(m != NULL && m->nhdrs == 0);
	rules_msg_free(&m);
	m = parse_lim(nuls, sizeof(nuls) - 1, NULL);
	T_ASSERT(m != NULL && m->subject != NULL &&
	    strcmp(m->subject, "ab") == 0);
	T_ASSERT(part(m, "1 text/plain") != NULL &&
	    strcmp(part(m, "1 text/plain")->text, "body\n") == 0);
	rules_msg_free(&m);
}

int
main(void)
{
	const char *top = getenv("TOP");

	if (top != NULL && *top != '\0' && chdir(top) == -1) {
		perror(top);
		return 1;
	}
	T_RUN(test_limits_default);
	T_RUN(test_headers_lf_crlf);
	T_RUN(test_rfc2047);
	T_RUN(test_from);
	T_RUN(test_message_id);
	T_RUN(test_missing_headers);
	T_RUN(test_bodies);
	T_RUN(test_base64_garbage);
	T_RUN(test_alternative);
	T_RUN(test_charsets);
	T_RUN(test_nested);
	T_RUN(test_boundary_crash);
	T_RUN(test_deep_nesting);
	T_RUN(test_hostile_nesting);
	T_RUN(test_over_cap);
	T_RUN(test_part_and_link_limits);
	T_RUN(test_robust);
	T_RUN(test_prefixes);
	return t_done();
}
