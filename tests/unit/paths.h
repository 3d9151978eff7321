/*
 * paths.h: the differential check of the parser's fast paths, shared by
 * tests/unit/test_paths.c (generated and fixture messages) and
 * tests/fuzz/fuzz_paths.c (fuzzed ones).
 *
 * paths_diff() parses a message twice, with rules_reference_paths off
 * (the fast paths the program runs) and on (the slow path beside each:
 * libetpan's mailbox parse of From, the second header walk for
 * libetpan's copy, one header walk per field the bounce reader wants,
 * iconv for the ASCII charset.c copies),
 * writes everything both views and bounce verdicts hold into a text, and
 * compares the two texts.
 */
#ifndef IMAPSIFT_TEST_PATHS_H
#define IMAPSIFT_TEST_PATHS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"

struct paths_out {
	char	*p;
	size_t	 len, cap;
};

static void paths_put(struct paths_out *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
paths_put(struct paths_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p == NULL ? NULL : o->p + o->len,
		    o->p == NULL ? 0 : o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (o->p != NULL && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		o->cap = (o->cap + (size_t)n + 1) * 2;
		if ((o->p = realloc(o->p, o->cap)) == NULL)
			abort();
	}
}

/* tag, then n bytes of s as they are (NULs too), or "(null)". */
static void
paths_bytes(struct paths_out *o, const char *tag, const char *s, size_t n)
{
	paths_put(o, "%s %zu:", tag, s == NULL ? (size_t)0 : n);
	if (s == NULL) {
		paths_put(o, "(null)\n");
		return;
	}
	if (o->len + n + 2 > o->cap) {
		o->cap = (o->len + n + 2) * 2;
		if ((o->p = realloc(o->p, o->cap)) == NULL)
			abort();
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	paths_put(o, "\n");
}

static void
paths_str(struct paths_out *o, const char *tag, const char *s)
{
	paths_bytes(o, tag, s, s == NULL ? 0 : strlen(s));
}

static void
paths_hdrs(struct paths_out *o, const struct rules_header *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		paths_str(o, " name", h[i].name);
		paths_str(o, " value", h[i].value);
	}
}

/* The view, and the bounce verdict on it, as text (malloc'd, *n_r
 * bytes), or NULL when out of memory. */
static char *
paths_view(const char *raw, size_t len, const struct rules_limits *lim,
    int reference, size_t *n_r)
{
	struct paths_out o = { NULL, 0, 0 };
	struct rules_msg *m = NULL;
	struct rules_bounce b;
	size_t i;
	int r;

	rules_reference_paths = reference;
	r = rules_msg_parse(raw, len, lim, &m, NULL, 0);
	if (r == -1) {
		rules_reference_paths = 0;
		return NULL;
	}
	paths_put(&o, "nhdrs %zu flags %u\n", m->nhdrs, m->flags);
	paths_hdrs(&o, m->hdrs, m->nhdrs);
	paths_str(&o, "subject", m->subject);
	paths_str(&o, "from", m->from);
	paths_str(&o, "message_id", m->message_id);
	paths_str(&o, "note", m->note);
	for (i = 0; i < m->nparts; i++) {
		paths_put(&o, "part %zu kind %d charset_ok %d\n", i,
		    (int)m->parts[i].kind, m->parts[i].charset_ok);
		paths_str(&o, " where", m->parts[i].where);
		paths_bytes(&o, " text", m->parts[i].text, m->parts[i].len);
	}
	for (i = 0; i < m->nlinks; i++) {
		paths_put(&o, "link %zu part %zu\n", i, m->links[i].part);
		paths_str(&o, " url", m->links[i].url);
	}
	for (i = 0; i < m->nmime; i++) {
		paths_put(&o, "mime %zu nest %u text %zu nhdrs %zu\n", i,
		    m->mime[i].nest, m->mime[i].text, m->mime[i].nhdrs);
		paths_str(&o, " type", m->mime[i].type);
		paths_str(&o, " where", m->mime[i].where);
		paths_str(&o, " report_type", m->mime[i].report_type);
		paths_bytes(&o, " body", m->mime[i].body, m->mime[i].len);
		paths_hdrs(&o, m->mime[i].hdrs, m->mime[i].nhdrs);
	}
	memset(&b, 0, sizeof(b));
	if (rules_bounce_analyse(m, &b) == -1) {
		rules_msg_free(&m);
		rules_reference_paths = 0;
		free(o.p);
		return NULL;
	}
	rules_reference_paths = 0;
	paths_put(&o, "bounce %s delayed %d nids %zu date %lld\n",
	    rules_report_name(b.kind), b.delayed, b.nids,
	    (long long)b.orig_date);
	paths_str(&o, " why", b.why);
	for (i = 0; i < b.nids; i++) {
		paths_str(&o, " id", b.ids[i].id);
		paths_str(&o, " where", b.ids[i].where);
	}
	paths_str(&o, " orig_from", b.orig_from);
	paths_str(&o, " orig_to", b.orig_to);
	paths_str(&o, " orig_subject", b.orig_subject);
	paths_str(&o, " final_rcpt", b.final_rcpt);
	rules_bounce_free(&b);
	rules_msg_free(&m);
	*n_r = o.len;
	return o.p;
}

/*
 * 0 when the fast and the slow paths give the same view and verdict of
 * raw, 1 when they differ (*fast_r and *slow_r then hold both texts,
 * NUL-ended, for the caller to show and free), -1 when out of memory.
 */
static int
paths_diff(const char *raw, size_t len, const struct rules_limits *lim,
    char **fast_r, char **slow_r)
{
	char *fast, *slow;
	size_t nf, ns;

	*fast_r = *slow_r = NULL;
	if ((fast = paths_view(raw, len, lim, 0, &nf)) == NULL)
		return -1;
	if ((slow = paths_view(raw, len, lim, 1, &ns)) == NULL) {
		free(fast);
		return -1;
	}
	if (nf == ns && memcmp(fast, slow, nf) == 0) {
		free(fast);
		free(slow);
		return 0;
	}
	*fast_r = fast;
	*slow_r = slow;
	return 1;
}

#endif
