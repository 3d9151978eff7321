/*
 * test_html.c: rules_html_text (html.c), the HTML to visible text
 * renderer of the message view.
 *
 * Tables of markup with the text a reader sees and the links found; then
 * every prefix of a tricky document in a buffer of exactly that size (so
 * a sanitizer build catches any read past the end), and pathological
 * inputs that a quadratic renderer would not finish in time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules-private.h"
#include "tests/unit/test.h"

#define MAXLINKS	8

struct links {
	char	 url[MAXLINKS][128];
	int	 rank[MAXLINKS];
	size_t	 n;
};

static void
collect(void *ctx, const char *url, size_t len, int rank)
{
	struct links *l = ctx;

	if (l->n < MAXLINKS && len < sizeof(l->url[0])) {
		memcpy(l->url[l->n], url, len);
		l->url[l->n][len] = '\0';
		l->rank[l->n] = rank;
	}
	l->n++;
}

/* Renders in (a NUL-ended string) with default depth. */
static char *
render(const char *in, struct links *l)
{
	size_t len = 12345;
	char *out;

	memset(l, 0, sizeof(*l));
	out = rules_html_text(in, strlen(in), 0, collect, l, &len);
	if (out != NULL && strlen(out) != len)
		T_FAILF("length %zu for \"%s\"", len, out);
	return out;
}

static void
test_text(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"free <b>mon</b>ey", "free money"},
		{"free <span class=x>mon</span><font color=red>ey</font>",
		    "free money"},
		{"mon<!-- x -->ey", "money"},
		{"a<!---->b<!-->c<!--->d", "abcd"},
		{"a<!-- never closed", "a"},
		{"<p>one</p><p>two</p>", "one\ntwo"},
		{"a<br>b<br/>c<BR >d", "a\nb\nc\nd"},
		{"a</br>b", "a\nb"},
		{"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>"
		    "</table>", "a b\nc"},
		{"<ul><li>x<li>y</ul>z", "x\ny\nz"},
		{"<h1>T</h1><div>x</div>y<hr>z", "T\nx\ny\nz"},
		{"<p>a</p>\n\n  <p>b</p>", "a\nb"},
		{"x<script>alert('<p>')</script>y", "xy"},
		{"x<SCRIPT>a</script >y<script>never closed", "xy"},
		{"x<style type=text/css>p{}</style>y", "xy"},
		{"x<iframe>i</iframe>y", "xy"},
		{"<head><title>T</title></head><body>B</body>", "B"},
		{"<html><head><meta charset=utf-8>junk<div>shown</div>",
		    "shown"},
		{"<head><style>s</style>x<body>y", "y"},
		{"<template><p>t</p></template>v", "v"},
		{"<noscript>ns</noscript>", "ns"},
		{"&amp;&lt;&gt;&quot;&apos;", "&<>\"'"},
		{"&copy &reg; &eacute;t&eacute; &euro;", "\xc2\xa9 \xc2\xae "
		    "\xc3\xa9t\xc3\xa9 \xe2\x82\xac"},
		{"&#65;&#x42;&#X43;&#0068", "ABCD"},
		{"&#0;&#xD800;&#x110000;&#99999999999;",
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"&#150;&#128;", "\xe2\x80\x93\xe2\x82\xac"},
		{"&nbsp;a&nbsp;&nbsp;b", "a b"},
		{"fr&zwnj;ee mo&shy;ney &#8203;x&ZeroWidthSpace;y&zwj;",
		    "free money xy"},
		{"fr\xe2\x80\x8b" "ee mo\xc2\xad" "ney a\xc2\xa0" "b "
		    "\xef\xbb\xbfx\xe2\x81\xa0y", "free money a b xy"},
		{"&unknown; &amp &#; &#x; &", "&unknown; & &#; &#x; &"},
		{"&notit; AT&T", "\xc2\xacit; AT&T"},
		{"x < y <<<< a<", "x < y <<<< a<"},
		{"a </", "a </"},
		{"a <b", "a"},
		{"a<a href=\"x", "a"},
		{"  a \n\t b  ", "a b"},
		{"a<b>\n</b>b", "a b"},
		{"<![CDATA[x]]>y<?xml version='1.0'?>z<!DOCTYPE html>", "yz"},
		{"</p>x</>y", "xy"},
		{"<p title='a>b'>t</p>", "t"},
		{"caf\xc3\xa9 \xf0\x9f\x98\x80",
		    "caf\xc3\xa9 \xf0\x9f\x98\x80"},
		{"", ""}
	};
	struct links l;
	size_t i;
	char *out;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		out = render(t[i].in, &l);
		if (out == NULL || strcmp(out, t[i].want) != 0)
			T_FAILF("row %zu: \"%s\" -> \"%s\", want \"%s\"", i,
			    t[i].in, out != NULL ? out : "(null)", t[i].want);
		free(out);
	}
}

/* Renders in for its links alone: 0 (a failure said) when it failed. */
static int
links_of(const char *in, struct links *l)
{
	char *out = render(in, l);
	int ok = out != NULL;

	T_ASSERT(ok);
	free(out);
	return ok;
}

static void
test_links(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *first, *second;
	} t[] = {
		{"<a href=\"http://a.example/\">a</a>", 1, "http://a.example/",
		    NULL},
		{"<a HREF='http://b.example/?x=1&amp;y=2'>", 1,
		    "http://b.example/?x=1&y=2", NULL},
		{"<a href=http://c.example/p?q=1&copy=2&amp;r>", 1,
		    "http://c.example/p?q=1&copy=2&r", NULL},
		{"<img src = \" http://d.example/i.png \">", 1,
		    "http://d.example/i.png", NULL},
		{"<form action=\"/post\"><td background=bg.gif>", 2, "/post",
		    "bg.gif"},
		{"<a href=\"ht&#x74;p://e.example\">", 1, "http://e.example",
		    NULL},
		{"<a href=\"http://f.exa\nmple/\">", 1, "http://f.example/",
		    NULL},
		{"<img srcset=\"a.png 1x, b.png 2x\">", 2, "a.png", "b.png"},
		{"<meta http-equiv=\"refresh\" content=\"5;url="
		    "http://g.example/\">", 1, "http://g.example/", NULL},
		{"<META HTTP-EQUIV=Refresh CONTENT=\"0; URL='http://h.example'"
		    "\">", 1, "http://h.example", NULL},
		{"<meta content=\"0;url=http://no.example\">", 0, NULL, NULL},
		{"<script src=\"http://s.example/s.js\"></script>", 1,
		    "http://s.example/s.js", NULL},
		{"<script>x='<a href=http://in.example>'</script>", 0, NULL,
		    NULL},
		{"<!-- <a href=\"http://hidden.example/\"> -->", 0, NULL, NULL},
		{"<a data-href=\"nope\" title=\"http://t.example\">", 0, NULL,
		    NULL},
		{"<a href=\"\"><a href=\"  \">", 0, NULL, NULL},
		{"<a href=x>", 1, "x", NULL},
		{"<a href=x", 0, NULL, NULL},
		{"<a href=\"x\" title=\"never closed", 1, "x", NULL},
		{"<a href=\"x", 0, NULL, NULL}
	};
	struct links l;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!links_of(t[i].in, &l))
			continue;
		if (l.n != t[i].n) {
			T_FAILF("row %zu: %zu links, want %zu", i, l.n, t[i].n);
			continue;
		}
		if (t[i].first != NULL && strcmp(l.url[0], t[i].first) != 0)
			T_FAILF("row %zu: link \"%s\", want \"%s\"", i,
			    l.url[0], t[i].first);
		if (t[i].second != NULL && strcmp(l.url[1], t[i].second) != 0)
			T_FAILF("row %zu: link \"%s\", want \"%s\"", i,
			    l.url[1], t[i].second);
	}
}

/* What kind of link each attribute is: its tag and its name. */
static void
test_link_ranks(void)
{
	static const struct {
		const char *in;
		int	 rank;
	} t[] = {
		{"<a href=\"http://a.example/\">a</a>", RULES_LINK_ANCHOR},
		{"<AREA HREF=http://a.example/>", RULES_LINK_ANCHOR},
		{"<meta http-equiv=refresh content=\"0;url=http://r.example\">",
		    RULES_LINK_ANCHOR},
		{"<form action=\"http://f.example/\">", RULES_LINK_FORM},
		{"<button formaction=\"http://f.example/\">", RULES_LINK_FORM},
		{"<img src=\"http://i.example/x.png\">", RULES_LINK_IMAGE},
		{"<img srcset=\"http://i.example/x.png 2x\">", RULES_LINK_IMAGE},
		{"<td background=\"http://i.example/b.gif\">", RULES_LINK_IMAGE},
		{"<video poster=\"http://i.example/p.png\">", RULES_LINK_IMAGE},
		{"<link href=\"http://o.example/s.css\">", RULES_LINK_OTHER},
		{"<script src=\"http://o.example/s.js\"></script>",
		    RULES_LINK_OTHER},
		{"<a src=\"http://o.example/\">", RULES_LINK_OTHER},
		{"<img href=\"http://o.example/\">", RULES_LINK_OTHER},
		{"<form cite=\"http://o.example/\">", RULES_LINK_OTHER},
	};
	struct links l;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!links_of(t[i].in, &l))
			continue;
		if (l.n != 1)
			T_FAILF("row %zu: %zu links, want 1", i, l.n);
		else if (l.rank[0] != t[i].rank)
			T_FAILF("row %zu: rank %d, want %d", i, l.rank[0],
			    t[i].rank);
	}
}

/* Every prefix of a document in an exactly sized heap buffer. */
static void
test_truncated(void)
{
	static const char doc[] = "<html><head><title>t</title><meta "
	    "http-equiv=refresh content='0;url=http://r.example/'></head>"
	    "<body><p a=\"x>y\" b='z' c=u>&amp;&#x41;&#66;&nbsp&copy;&zwnj"
	    "</p><!-- c --><script>s</script><a href=\"http://l.example/?a=1"
	    "&amp;b=2\">l</a><img srcset=\"a 1x, b 2x\">\xe2\x80\x8b\xc2"
	    "\xad\xef\xbb\xbf<template>t</template><![CDATA[x]]></body>";
	struct links l;
	size_t k, n = sizeof(doc) - 1, len;
	char *buf, *out;

	for (k = 0; k <= n; k++) {
		buf = malloc(k > 0 ? k : 1);
		T_ASSERT(buf != NULL);
		if (buf == NULL)
			return;
		memcpy(buf, doc, k);
		memset(&l, 0, sizeof(l));
		out = rules_html_text(buf, k, 0, collect, &l, &len);
		T_ASSERT(out != NULL && strlen(out) == len);
		free(out);
		free(buf);
	}
}

static char *
repeat(const char *unit, size_t times, size_t *len_r)
{
	size_t ul = strlen(unit), i;
	char *s;

	s = malloc(ul * times + 1);
	if (s == NULL)
		return NULL;
	for (i = 0; i < times; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * times] = '\0';
	*len_r = ul * times;
	return s;
}

/* Inputs that make a careless renderer quadratic; a generous budget. */
static void
test_pathological(void)
{
	static const struct {
		const char *unit;
		size_t times;
		size_t want_len;	/* (size_t)-1: do not check */
	} t[] = {
		{"<", 100000, 100000},
		{"<div><span><b>", 50000, 0},
		{"<!--", 50000, 0},
		{"&", 100000, 100000},
		{"&#x", 100000, 300000},
		{"<a href=\"", 30000, 0},
		{"<script>", 50000, 0},
		{"<template>", 50000, 0},
		{"</", 100000, (size_t)-1},
		{"<p>", 100000, 0},
		{"a ", 100000, 199999}
	};
	struct links l;
	clock_t start = clock();
	size_t i, n, len;
	char *in, *out;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		in = repeat(t[i].unit, t[i].times, &n);
		T_ASSERT(in != NULL);
		if (in == NULL)
			return;
		memset(&l, 0, sizeof(l));
		out = rules_html_text(in, n, 4, collect, &l, &len);
		T_ASSERT(out != NULL);
		if (out != NULL && t[i].want_len != (size_t)-1 &&
		    len != t[i].want_len)
			T_FAILF("\"%s\" x %zu: %zu bytes, want %zu", t[i].unit,
			    t[i].times, len, t[i].want_len);
		free(out);
		free(in);
	}
	T_ASSERT((double)(clock() - start) / CLOCKS_PER_SEC < 5.0);
}

static void
test_null_and_depth(void)
{
	static const char nest[] = "<template><template>a</template>b"
	    "</template>c";
	size_t len = 99;
	char *out;

	out = rules_html_text(NULL, 0, 0, NULL, NULL, &len);
	T_ASSERT(out != NULL && *out == '\0' && len == 0);
	free(out);
	/* Templates past max_depth are not counted: their ends reveal. */
	out = rules_html_text(nest, strlen(nest), 1, NULL, NULL, &len);
	T_STREQ(out, "bc");
	free(out);
}

int
main(void)
{
	T_RUN(test_text);
	T_RUN(test_links);
	T_RUN(test_link_ranks);
	T_RUN(test_truncated);
	T_RUN(test_pathological);
	T_RUN(test_null_and_depth);
	return t_done();
}
