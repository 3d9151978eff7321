/*
 * message.c: raw message bytes to the view the rules look at.
 *
 * The view (rules.h) holds what a reader would see: the top-level header
 * fields, decoded, and one text part per Subject and per text body, all
 * in UTF-8.  Header fields are read here, line by line, so that mail
 * libetpan cannot parse still has its headers; the body goes through
 * libetpan's MIME parser, and each text part is decoded (base64, quoted-
 * printable) and converted to UTF-8.
 *
 * Every cost is bounded by struct rules_limits.  libetpan's parse time
 * grows with size times multipart nesting, so the input is cut at
 * max_parse_bytes and also at the line where "--" delimiter lines nest
 * far deeper than max_depth.  The walk stops at max_depth and max_parts,
 * and visible text and links are capped.  A bound that bites sets
 * RULES_MSG_TRUNCATED and says so in the note.
 *
 * Charsets: text with no charset, us-ascii or utf-8 is checked as UTF-8.
 * Undeclared or us-ascii text that is not UTF-8 is read as windows-1252,
 * as browsers do, and bad sequences in declared utf-8 become U+FFFD.
 * windows-1252 and Latin-1 are converted here; other charsets go through
 * iconv, with descriptors kept open per thread (charset.c; libetpan's
 * RFC 2047 decoder uses them too).  An unknown charset keeps the bytes
 * as they were, with charset_ok = 0.  Zero-width characters and soft
 * hyphens are removed from all text, and CRLF becomes LF.
 *
 * Quoted-printable is decoded here (see qp_decode), base64 by libetpan.
 */
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "rules/charset.h"
#include "rules/rules-private.h"

#define MSG_MAX_HDRS	1024	/* header fields kept */
#define MSG_NOTE_MAX	256	/* bytes of notes kept */
#define MSG_SEC_MAX	96	/* longest section path, as in "2.3.1" */
#define MSG_DELIM_SLACK	8	/* delimiter nesting past max_depth */
#define MSG_DELIM_MAX	64	/* delimiter stack, at most */
#define MSG_MIME_FIELDS	256	/* fields kept per report part */
#define MSG_REPORT_ALL	(256u * 1024u)	/* report bodies kept, in all */
#define MSG_KEEP_MAX	16	/* MIME fields remembered from the header */
#define MSG_HDRS	32	/* header fields room is first made for */
#define MSG_HDR_BYTES	4096	/* and bytes of their names and values */

struct buf {
	char	*p;
	size_t	 len, cap;
};

struct ctx {
	struct rules_limits lim;
	struct rules_msg *m;
	size_t	 hdrcap, partcap, linkcap, mimecap;
	size_t	 repleft;	/* report body bytes still allowed */
	unsigned nest;		/* message/rfc822 levels walked into */
	size_t	 textleft;	/* visible text bytes still allowed */
	size_t	 linkpart;	/* part index of the links found */
	size_t	 nrank[RULES_LINK_TEXT];	/* links kept of each rank */
	unsigned nodes;		/* MIME nodes walked */
	int	 oom;
	struct buf a, b, h, d;	/* scratch: iconv, text, headers, QP */
	/* The top-level header's names and values, each NUL-ended, one
	 * after another (m->hdrs points into it once it is complete), and
	 * where each field starts in it. */
	struct buf hs;
	size_t	*hoff, hoffcap;
	/* read_headers' walk of the top-level header, kept for
	 * mime_header: the fields libetpan gets, whether any other was
	 * seen, where the walk stopped, and whether it started at byte 0
	 * and saw every field (else mime_header walks again). */
	size_t	 keep[MSG_KEEP_MAX][2];
	size_t	 nkeep, hdr_end;
	int	 hdr_dropped, hdr_walked;
	char	 sec[MSG_SEC_MAX];	/* section of the node walked */
	char	 note[MSG_NOTE_MAX];
	size_t	 notelen;
};

int rules_reference_paths;	/* rules.h: the differential tests' switch */

static int walk(struct ctx *, struct mailmime *, unsigned);
static int decode(struct ctx *, const struct mailmime_data *, const char **,
    size_t *, char **);

void
rules_limits_default(struct rules_limits *lim)
{
	lim->max_parse_bytes = RULES_DEF_PARSE_BYTES;
	lim->max_depth = RULES_DEF_DEPTH;
	lim->max_parts = RULES_DEF_PARTS;
	lim->max_urls = RULES_DEF_URLS;
	lim->max_phones = RULES_DEF_PHONES;
	lim->max_text_bytes = RULES_DEF_TEXT_BYTES;
	lim->max_html_depth = RULES_DEF_HTML_DEPTH;
	lim->regex_match_limit = RULES_DEF_REGEX_MATCH;
	lim->regex_depth_limit = RULES_DEF_REGEX_DEPTH;
}

void
rules_limits_fill(struct rules_limits *lim)
{
	struct rules_limits d;

	rules_limits_default(&d);
	if (lim->max_parse_bytes == 0)
		lim->max_parse_bytes = d.max_parse_bytes;
	if (lim->max_depth == 0)
		lim->max_depth = d.max_depth;
	if (lim->max_parts == 0)
		lim->max_parts = d.max_parts;
	if (lim->max_urls == 0)
		lim->max_urls = d.max_urls;
	if (lim->max_phones == 0)
		lim->max_phones = d.max_phones;
	if (lim->max_text_bytes == 0)
		lim->max_text_bytes = d.max_text_bytes;
	if (lim->max_html_depth == 0)
		lim->max_html_depth = d.max_html_depth;
	if (lim->regex_match_limit == 0)
		lim->regex_match_limit = d.regex_match_limit;
	if (lim->regex_depth_limit == 0)
		lim->regex_depth_limit = d.regex_depth_limit;
}

/* ------------------------------------------------------------------ */
/* Buffers, arrays and notes.                                          */

/* Room for need + 1 bytes in b. */
static int
buf_grow(struct ctx *c, struct buf *b, size_t need)
{
	if (c->oom)
		return -1;
	if (rules_grow_from((void **)&b->p, &b->cap, need + 1, 1, 256) == -1) {
		c->oom = 1;
		return -1;
	}
	return 0;
}

/* Returns arr with room for element n (a new pointer when it moved), or
 * NULL when out of memory, arr then being unchanged.  The first
 * allocation has room for first elements (at least 8). */
static void *
arr_grow_from(struct ctx *c, void *arr, size_t n, size_t *cap, size_t size,
    size_t first)
{
	void *p = arr;

	if (rules_grow_from(&p, cap, n + 1, size, first < 8 ? 8 : first) ==
	    -1) {
		c->oom = 1;
		return NULL;
	}
	return p;
}

static void *
arr_grow(struct ctx *c, void *arr, size_t n, size_t *cap, size_t size)
{
	return arr_grow_from(c, arr, n, cap, size, 8);
}

static char *
mem_dup(struct ctx *c, const char *s, size_t n)
{
	char *p;

	p = malloc(n + 1);
	if (p == NULL) {
		c->oom = 1;
		return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void note(struct ctx *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets flag and adds one reason to the note (once, while room lasts). */
static void
note(struct ctx *c, unsigned flag, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	size_t n;

	c->m->flags |= flag;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (strstr(c->note, line) != NULL ||
	    c->notelen + n + 3 > sizeof(c->note))
		return;
	if (c->notelen > 0) {
		memcpy(c->note + c->notelen, "; ", 2);
		c->notelen += 2;
	}
	memcpy(c->note + c->notelen, line, n + 1);
	c->notelen += n;
}

/* ------------------------------------------------------------------ */
/* UTF-8 and charsets.                                                  */

/* Are the 8 bytes at s plain ASCII text: no byte over 0x7f (what
 * rules_ascii8 checks), no NUL, and no CR when no_cr is set? */
static int
text_ascii8(const unsigned char *s, int no_cr)
{
	uint64_t w, x;

	memcpy(&w, s, sizeof(w));
	x = w ^ (RULES_ONES * '\r');
	return ((w | ((w - RULES_ONES) & ~w) |
	    (no_cr ? (x - RULES_ONES) & ~x : 0)) & RULES_HIGHS) == 0;
}

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t i, k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	k = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < k)
		return 0;
	for (i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;	/* overlong, surrogate or past U+10FFFF */
	return k;
}

static int
utf8_valid(const char *in, size_t n)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = 1;
		if (i + 8 <= n && text_ascii8(s + i, 0))
			k = 8;
		else if (s[i] >= 0x80) {
			k = utf8_len(s + i, n - i);
			if (k == 0)
				return 0;
		}
	}
	return 1;
}

/*
 * Copies UTF-8 from in to out (room for 3 * n + 1 bytes) without NULs,
 * zero-width characters (U+200B-U+200D, U+2060, U+FEFF), soft hyphens
 * and the CR of CRLF; no-break spaces become spaces and each invalid
 * byte U+FFFD.  Returns the length written; or, when strict, (size_t)-1
 * at the first invalid byte (text that may not be UTF-8 is checked
 * while it is copied, not in a pass of its own).
 */
static size_t
utf8_clean(const char *in, size_t n, char *out, int strict)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i, k, o;

	for (i = o = 0; i < n; i += k) {
		k = 8;
		if (i + 8 <= n && text_ascii8(s + i, 1)) {
			memcpy(out + o, s + i, 8);
			o += 8;
			continue;
		}
		k = 1;
		if (s[i] < 0x80) {
			if (s[i] != '\0' && (s[i] != '\r' || i + 1 == n ||
			    s[i + 1] != '\n'))
				out[o++] = (char)s[i];
			continue;
		}
		k = utf8_len(s + i, n - i);
		if (k == 0 && strict)
			return (size_t)-1;
		if (k == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else if (k == 2 && s[i] == 0xc2 && s[i + 1] == 0xa0) {
			out[o++] = ' ';
		} else if ((k == 2 && s[i] == 0xc2 && s[i + 1] == 0xad) ||
		    (k == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 &&
		    s[i + 2] >= 0x8b && s[i + 2] <= 0x8d) ||
		    (k == 3 && s[i] == 0xe2 && s[i + 1] == 0x81 &&
		    s[i + 2] == 0xa0) ||
		    (k == 3 && s[i] == 0xef && s[i + 1] == 0xbb &&
		    s[i + 2] == 0xbf)) {
			continue;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
		}
	}
	return o;
}

enum { CS_ASCII, CS_UTF8, CS_OTHER, CS_BAD };

/* Sorts a charset label; for CS_OTHER, name gets what to ask iconv. */
static int
charset_kind(const char *cs, char name[32])
{
	static const char *const alias[][2] = {
		{"gb2312", "GBK"}, {"iso-8859-1", "WINDOWS-1252"},
		{"iso-8859-8-i", "ISO-8859-8"}, {"ks_c_5601-1987", "CP949"},
		{"latin1", "WINDOWS-1252"}, {"x-sjis", "SHIFT_JIS"},
		{"iso-2022-jp", "ISO-2022-JP-2"}, {"x-gbk", "GBK"},
		{"unicode-1-1-utf-7", "UTF-7"}, {"cp1252", "WINDOWS-1252"},
		{"windows-1252", "WINDOWS-1252"}
	};
	size_t i, n;

	if (cs == NULL)
		return CS_ASCII;
	while (*cs == ' ' || *cs == '"' || *cs == '\'')
		cs++;
	for (n = 0; cs[n] != '\0' && cs[n] != '"' && cs[n] != '\'' &&
	    cs[n] != ' '; n++)
		if (n >= 31 || (unsigned char)cs[n] < ' ' ||
		    (unsigned char)cs[n] >= 0x7f)
			return CS_BAD;
	for (i = 0; i < n; i++)
		name[i] = (char)(cs[i] >= 'A' && cs[i] <= 'Z' ? cs[i] | 0x20 :
		    cs[i]);
	name[n] = '\0';
	if (n == 0 || strcmp(name, "us-ascii") == 0 ||
	    strcmp(name, "ascii") == 0 || strcmp(name, "ansi_x3.4-1968") == 0)
		return CS_ASCII;
	if (strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0)
		return CS_UTF8;
	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(name, alias[i][0]) == 0)
			strcpy(name, alias[i][1]);
	return CS_OTHER;
}

/* Converts in to UTF-8 into c->a; each byte iconv rejects is U+FFFD. */
static int
conv_run(struct ctx *c, iconv_t cd, const char *in, size_t n)
{
	char *ip = (char *)(uintptr_t)in;	/* iconv wants char ** */
	char *op;
	size_t il = n, ol, used;

	iconv(cd, NULL, NULL, NULL, NULL);
	if (buf_grow(c, &c->a, n * 2 + 16) == -1)
		return -1;
	op = c->a.p;
	ol = c->a.cap - 1;
	while (il > 0) {
		if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
			break;
		used = (size_t)(op - c->a.p);
		if (errno == E2BIG || ol < 3) {
			if (buf_grow(c, &c->a, c->a.cap * 2) == -1)
				return -1;
			op = c->a.p + used;
			ol = c->a.cap - 1 - used;
			continue;
		}
		memcpy(op, "\xef\xbf\xbd", 3);
		op += 3;
		ol -= 3;
		ip++;
		il--;
	}
	c->a.len = (size_t)(op - c->a.p);
	return 0;
}

/* windows-1252 bytes 0x80-0x9f (0: undefined, read as U+FFFD). */
static const uint16_t cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178
};

/*
 * windows-1252 (and so Latin-1) to clean UTF-8 (as utf8_clean leaves it)
 * in out, room for 3 * n bytes, without iconv: it is the commonest
 * legacy charset here, and glibc loads and unloads its gconv module on
 * every iconv_open/iconv_close pair.  Of what utf8_clean drops or
 * changes, only NULs, CRs before LFs, no-break spaces (0xa0) and soft
 * hyphens (0xad) can come from windows-1252.  Returns the length.
 */
static size_t
cp1252_clean(const char *in, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	unsigned u;
	size_t i, o;

	for (i = o = 0; i < n; i++) {
		if (i + 8 <= n && text_ascii8(s + i, 1)) {
			memcpy(out + o, s + i, 8);
			o += 8;
			i += 7;
			continue;
		}
		u = s[i];
		if (u < 0x80) {
			if (u != '\0' && (u != '\r' || i + 1 == n ||
			    s[i + 1] != '\n'))
				out[o++] = (char)u;
			continue;
		}
		if (u < 0xa0)
			u = cp1252[u - 0x80] != 0 ? cp1252[u - 0x80] : 0xfffd;
		else if (u == 0xa0) {
			out[o++] = ' ';
			continue;
		} else if (u == 0xad)
			continue;
		if (u < 0x800) {
			out[o++] = (char)(0xc0 | u >> 6);
			out[o++] = (char)(0x80 | (u & 0x3f));
		} else {
			out[o++] = (char)(0xe0 | u >> 12);
			out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (u & 0x3f));
		}
	}
	return o;
}

/*
 * Puts text in charset cs into c->b as clean UTF-8 (see above).  *ok is
 * 0 when the charset is unknown: c->b then holds the bytes unchanged.
 */
static int
to_utf8(struct ctx *c, const char *cs, const char *in, size_t n, int *ok)
{
	char name[32];
	iconv_t cd;
	int kind;

	*ok = 1;
	kind = charset_kind(cs, name);
	if (kind == CS_ASCII || kind == CS_UTF8) {
		/* Undeclared or us-ascii text that is not UTF-8 is read as
		 * windows-1252, below. */
		if (buf_grow(c, &c->b, n * 3) == -1)
			return -1;
		c->b.len = utf8_clean(in, n, c->b.p, kind == CS_ASCII);
		if (c->b.len != (size_t)-1)
			return 0;
		kind = CS_OTHER;
		strcpy(name, "WINDOWS-1252");
	}
	if (kind == CS_OTHER && strcmp(name, "WINDOWS-1252") == 0) {
		if (buf_grow(c, &c->b, n * 3) == -1)
			return -1;
		c->b.len = cp1252_clean(in, n, c->b.p);
		return 0;
	}
	if (kind == CS_OTHER) {
		cd = rules_conv_get(name);
		if (cd == (iconv_t)-1 && errno == ENOMEM) {
			c->oom = 1;
			return -1;
		}
		if (cd != (iconv_t)-1) {
			if (conv_run(c, cd, in, n) == -1)
				return -1;
			in = c->a.p;
			n = c->a.len;
		} else
			kind = CS_BAD;
	}
	if (kind == CS_BAD) {
		*ok = 0;
		if (buf_grow(c, &c->b, n) == -1)
			return -1;
		memcpy(c->b.p, in, n);
		c->b.len = n;
		return 0;
	}
	if (buf_grow(c, &c->b, n * 3) == -1)
		return -1;
	c->b.len = utf8_clean(in, n, c->b.p, 0);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Header fields.                                                       */

/*
 * Finds the header field at raw[*pos]: its name, and its value with any
 * folded lines (line breaks included).  Returns 0, leaving *pos, at the
 * blank line, at a line that is not a field, or at the end.
 */
static int
hdr_next(const char *raw, size_t len, size_t *pos, const char **name,
    size_t *nlen, const char **val, size_t *vlen)
{
	const char *nl;
	size_t p, q, e;

	p = *pos;
	for (q = p; q < len && (unsigned char)raw[q] > ' ' &&
	    (unsigned char)raw[q] < 0x7f && raw[q] != ':'; q++)
		continue;
	*nlen = q - p;
	while (q < len && (raw[q] == ' ' || raw[q] == '\t'))
		q++;
	if (*nlen == 0 || q >= len || raw[q] != ':')
		return 0;
	*name = raw + p;
	*val = raw + q + 1;
	for (e = q + 1;;) {
		nl = memchr(raw + e, '\n', len - e);
		e = nl == NULL ? len : (size_t)(nl - raw) + 1;
		if (e >= len || (raw[e] != ' ' && raw[e] != '\t'))
			break;
	}
	*vlen = (size_t)(raw + e - *val);
	*pos = e;
	return 1;
}

/* Unfolds v into c->h (NUL-ended): every CR and LF dropped, outer
 * blanks trimmed; -1 on OOM.  Copied a run at a time (memchr finds the
 * breaks): header fields are most of what a message's parse reads. */
static int
unfold(struct ctx *c, const char *v, size_t n)
{
	const char *p = v, *e = v + n, *nl, *cr;
	size_t o = 0, k;

	if (buf_grow(c, &c->h, n) == -1)
		return -1;
	while (p < e) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		while (p < nl) {
			if (o == 0) {	/* leading blanks (and CRs) */
				while (p < nl && (*p == ' ' || *p == '\t' ||
				    *p == '\r'))
					p++;
				if (p == nl)
					break;
			}
			cr = memchr(p, '\r', (size_t)(nl - p));
			k = (size_t)((cr != NULL ? cr : nl) - p);
			memcpy(c->h.p + o, p, k);
			o += k;
			p += k + (cr != NULL);
		}
		p = nl < e ? nl + 1 : e;
	}
	while (o > 0 && (c->h.p[o - 1] == ' ' || c->h.p[o - 1] == '\t'))
		o--;
	c->h.p[o] = '\0';
	c->h.len = o;
	return 0;
}

/* Is s[0..n) ASCII without NULs or encoded words: what to_utf8 would
 * copy unchanged (unfold has dropped the CRs)? */
static int
plain(const char *s, size_t n)
{
	const char *q;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8)
		if (!text_ascii8((const unsigned char *)s + i, 0))
			return 0;
	for (; i < n; i++)
		if (s[i] == '\0' || (unsigned char)s[i] >= 0x80)
			return 0;
	for (q = memchr(s, '=', n); q != NULL && q + 1 < s + n;
	    q = memchr(q + 1, '=', (size_t)(s + n - q - 1)))
		if (q[1] == '?')
			return 0;
	return 1;
}

/* A malloc'd copy of pre[0..plen) and a NUL when pre is not NULL, then
 * of s[0..n) and a NUL. */
static char *
mem_dup2(struct ctx *c, const char *pre, size_t plen, const char *s,
    size_t n)
{
	size_t k = pre != NULL ? plen + 1 : 0;
	char *p;

	p = malloc(k + n + 1);
	if (p == NULL) {
		c->oom = 1;
		return NULL;
	}
	if (pre != NULL) {
		memcpy(p, pre, plen);
		p[plen] = '\0';
	}
	memcpy(p + k, s, n);
	p[k + n] = '\0';
	return p;
}

/*
 * The unfolded, RFC 2047 decoded, clean UTF-8 value of v: *out is set
 * to it (in c->h or c->b, so until their next use; no NULs), *olen to its
 * length.  -1 on OOM.
 */
static int
hdr_value(struct ctx *c, const char *v, size_t n, const char **out,
    size_t *olen)
{
	const char *in;
	char *dec = NULL;
	size_t idx = 0;
	int r, ok;

	if (unfold(c, v, n) == -1)
		return -1;
	in = c->h.p;
	n = c->h.len;
	if (plain(in, n)) {		/* most fields: nothing to decode */
		*out = in;
		*olen = n;
		return 0;
	}
	if (strstr(in, "=?") != NULL) {
		r = mailmime_encoded_phrase_parse(utf8_valid(in, n) ? "utf-8" :
		    "windows-1252", in, n, &idx, "utf-8", &dec);
		if (r == MAILIMF_ERROR_MEMORY) {
			c->oom = 1;
			return -1;
		}
		if (r == MAILIMF_NO_ERROR && idx == n) {
			in = dec;
			n = strlen(dec);
		}
	}
	r = to_utf8(c, in == c->h.p ? NULL : "utf-8", in, n, &ok);
	free(dec);
	*out = c->b.p;
	*olen = c->b.len;
	return r;
}

/*
 * hdr_value of v (malloc'd), after pre[0..plen) and a NUL when pre is
 * not NULL: a field's name and value share one allocation (freed through
 * the name).
 */
static char *
hdr_decode(struct ctx *c, const char *pre, size_t plen, const char *v,
    size_t n)
{
	const char *s;
	size_t k;

	if (hdr_value(c, v, n, &s, &k) == -1)
		return NULL;
	return mem_dup2(c, pre, plen, s, k);
}

/* Is s[0..n) shaped like an addr-spec: local@domain, no blanks or
 * address punctuation, both sides non-empty? */
static int
addr_ok(const char *s, size_t n)
{
	const char *at;
	size_t i;

	at = memchr(s, '@', n);
	if (at == NULL || at == s || at == s + n - 1)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || strchr("<>,;:\"()[]\\",
		    s[i]) != NULL)
			return 0;
	return 1;
}

/*
 * The From forms whose reading is known without asking libetpan: s[0..n)
 * (unfolded: no CR, LF or outer blanks) without NULs, and
 * - no '<', and an addr-spec X up to the end or to blanks and a '('
 *   ("x@y", "x@y (Name)"); or
 * - a single '<', an addr-spec X before the first '>' after it, and
 *   either no '@' outside X, or a start that is a '"' ('"a@b" <x@y>'), or
 *   none of ",:;()>" before the '<' ("Name <x@y>", "a@b <x@y>").
 * Returns X (*alen its length), or NULL for the rest.  addr_of takes X
 * from the fallbacks in any case, and libetpan 1.9.4's reading
 * (mailimf_mailbox_parse) cannot give it another address:
 * - a name-addr reading needs a '<'; in the second form it ends at the
 *   only one, and reads the addr-spec from there to the next ",;:()>"
 *   or end, blanks dropped: X.
 * - failing that, an addr-spec read so from byte 0, after any comment:
 *   bare, that is X.  Else that span holds the '<' (not an address to
 *   addr_of) when nothing before the '<' ends it, starts with the '"',
 *   or else lies before the '<' or after X (a comment holding the '<'
 *   closes past X), where there is no '@'.
 * That reading costs as much as the rest of a header's fields.
 */
static const char *
addr_plain(const char *s, size_t n, size_t *alen)
{
	const char *lt, *gt;
	size_t k, i;

	if (n == 0 || memchr(s, '\0', n) != NULL)
		return NULL;
	if ((lt = memchr(s, '<', n)) == NULL) {
		k = strcspn(s, " \t(");
		for (i = k; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
			continue;
		*alen = k;
		return (i == n || s[i] == '(') && addr_ok(s, k) ? s : NULL;
	}
	lt++;
	if (memchr(lt, '<', (size_t)(s + n - lt)) != NULL ||
	    (gt = memchr(lt, '>', (size_t)(s + n - lt))) == NULL ||
	    !addr_ok(lt, (size_t)(gt - lt)))
		return NULL;
	*alen = (size_t)(gt - lt);
	if ((memchr(s, '@', (size_t)(lt - s)) == NULL &&
	    memchr(gt, '@', (size_t)(s + n - gt)) == NULL) || s[0] == '"')
		return lt;
	for (i = 0; s + i < lt - 1; i++)
		if (strchr(",:;()>", s[i]) != NULL)
			return NULL;
	return lt;
}

/* The From addr-spec, lowercased, or NULL: libetpan's reading when it
 * looks like one and is written so (it glues "junk x@y" into "junkx@y"),
 * else the last <...> holding one, else a bare word. */
static char *
addr_of(struct ctx *c, const char *v, size_t n)
{
	struct mailimf_mailbox_list *mbl = NULL;
	const struct mailimf_mailbox *mb;
	const char *s, *e, *a = NULL;
	size_t idx = 0, alen = 0;
	char *r;

	if (unfold(c, v, n) == -1)
		return NULL;
	s = c->h.p;
	if (!rules_reference_paths)
		a = addr_plain(s, c->h.len, &alen);
	if (a == NULL && mailimf_mailbox_list_parse(s, c->h.len, &idx,
	    &mbl) == MAILIMF_NO_ERROR && clist_begin(mbl->mb_list) != NULL) {
		mb = clist_content(clist_begin(mbl->mb_list));
		if (mb->mb_addr_spec != NULL &&
		    strstr(s, mb->mb_addr_spec) != NULL &&
		    addr_ok(mb->mb_addr_spec, strlen(mb->mb_addr_spec))) {
			a = mb->mb_addr_spec;
			alen = strlen(a);
		}
	}
	e = strrchr(s, '<');
	if (a == NULL && e != NULL && strchr(e, '>') != NULL &&
	    addr_ok(e + 1, (size_t)(strchr(e, '>') - e - 1))) {
		a = e + 1;
		alen = (size_t)(strchr(e, '>') - a);
	}
	for (e = s; a == NULL && *e != '\0'; e += alen) {
		alen = strcspn(e, " \t<>,;\"()");
		if (addr_ok(e, alen))
			a = e;
		else if (e[alen] != '\0')
			alen++;
	}
	r = a == NULL ? NULL : mem_dup(c, a, alen);
	for (idx = 0; r != NULL && r[idx] != '\0'; idx++)
		if (r[idx] >= 'A' && r[idx] <= 'Z')
			r[idx] = (char)(r[idx] | 0x20);
	if (mbl != NULL)
		mailimf_mailbox_list_free(mbl);
	return r;
}

/* The Message-ID without <>, or NULL. */
static char *
msgid_of(struct ctx *c, const char *v, size_t n)
{
	const char *s, *e, *lt, *gt;

	if (unfold(c, v, n) == -1)
		return NULL;
	s = c->h.p;
	e = s + c->h.len;
	lt = memchr(s, '<', c->h.len);
	if (lt != NULL) {
		s = lt + 1;
		gt = memchr(s, '>', (size_t)(e - s));
		if (gt != NULL)
			e = gt;
	}
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return e > s ? mem_dup(c, s, (size_t)(e - s)) : NULL;
}

/* Is the field named name[0..nlen) one libetpan's MIME parser reads
 * (Content-*, MIME-Version)? */
static int
mime_field(const char *name, size_t nlen)
{
	return (nlen > 8 && strncasecmp(name, "content-", 8) == 0) ||
	    (nlen == 12 && strncasecmp(name, "mime-version", 12) == 0);
}

/*
 * Adds a top-level field: its name and decoded value go to c->hs, where
 * read_headers points m->hdrs at them when the header is read.  One
 * allocation for all of them, not one each: the dozens of fields of
 * every message made a tenth of the process's calls to malloc and free.
 */
static int
hdr_add(struct ctx *c, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	struct rules_msg *m = c->m;
	struct rules_header *hd;
	const char *s;
	size_t k, *off;
	char *val;

	/* Room for the fields of most messages at once (see MSG_HDRS). */
	hd = arr_grow_from(c, m->hdrs, m->nhdrs, &c->hdrcap, sizeof(*hd),
	    MSG_HDRS);
	if (hd == NULL)
		return -1;
	m->hdrs = hd;
	off = arr_grow_from(c, c->hoff, m->nhdrs, &c->hoffcap, sizeof(*off),
	    MSG_HDRS);
	if (off == NULL)
		return -1;
	c->hoff = off;
	if (hdr_value(c, v, vlen, &s, &k) == -1 ||
	    buf_grow(c, &c->hs, c->hs.len + nlen + k + 2 < MSG_HDR_BYTES ?
	    MSG_HDR_BYTES - 1 : c->hs.len + nlen + k + 2) == -1)
		return -1;
	off[m->nhdrs] = c->hs.len;
	memcpy(c->hs.p + c->hs.len, name, nlen);
	c->hs.p[c->hs.len + nlen] = '\0';
	val = c->hs.p + c->hs.len + nlen + 1;
	memcpy(val, s, k);
	val[k] = '\0';
	c->hs.len += nlen + k + 2;
	hd[m->nhdrs].name = hd[m->nhdrs].value = NULL;
	m->nhdrs++;
	if (m->subject == NULL && nlen == 7 &&
	    strncasecmp(name, "subject", 7) == 0)
		m->subject = mem_dup(c, val, strlen(val));
	else if (m->from == NULL && nlen == 4 &&
	    strncasecmp(name, "from", 4) == 0)
		m->from = addr_of(c, v, vlen);
	else if (m->message_id == NULL && nlen == 10 &&
	    strncasecmp(name, "message-id", 10) == 0)
		m->message_id = msgid_of(c, v, vlen);
	return c->oom ? -1 : 0;
}

static int
read_headers(struct ctx *c, const char *raw, size_t len)
{
	struct rules_header *hd;
	const char *name, *v, *nl;
	size_t pos = 0, start, nlen, vlen, i;

	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {	/* mbox line */
		nl = memchr(raw, '\n', len);
		pos = nl == NULL ? len : (size_t)(nl - raw) + 1;
	}
	c->hdr_walked = pos == 0;
	for (start = pos; hdr_next(raw, len, &pos, &name, &nlen, &v, &vlen);
	    start = pos) {
		if (c->m->nhdrs >= MSG_MAX_HDRS) {
			note(c, RULES_MSG_TRUNCATED,
			    "more than %u header fields", MSG_MAX_HDRS);
			c->hdr_walked = 0;
			break;
		}
		if (!mime_field(name, nlen))
			c->hdr_dropped = 1;
		else if (c->nkeep == MSG_KEEP_MAX)
			c->hdr_walked = 0;
		else {
			c->keep[c->nkeep][0] = start;
			c->keep[c->nkeep++][1] = pos;
		}
		if (hdr_add(c, name, nlen, v, vlen) == -1) {
			c->m->nhdrs = 0;	/* c->hs is freed with c */
			return -1;
		}
	}
	c->hdr_end = pos;
	for (i = 0; i < c->m->nhdrs; i++) {
		hd = &c->m->hdrs[i];
		hd->name = c->hs.p + c->hoff[i];
		hd->value = hd->name + strlen(hd->name) + 1;
	}
	if (c->m->nhdrs > 0)
		c->hs.p = NULL;		/* m's now: freed through hdrs[0] */
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parts and links.                                                     */

/* Adds a part owning text, cut to what is left of max_text_bytes. */
static int
part_add(struct ctx *c, enum rules_part_kind kind, char *text, size_t len,
    const char *where, int ok)
{
	struct rules_msg *m = c->m;
	struct rules_part *p;

	if (text == NULL)
		return -1;
	if (len > c->textleft) {
		len = c->textleft;
		while (ok && len > 0 &&
		    ((unsigned char)text[len] & 0xc0) == 0x80)
			len--;
		text[len] = '\0';
		note(c, RULES_MSG_TRUNCATED, "visible text over %zu bytes",
		    c->lim.max_text_bytes);
	}
	p = arr_grow(c, m->parts, m->nparts, &c->partcap, sizeof(*p));
	if (p == NULL) {
		free(text);
		return -1;
	}
	m->parts = p;
	p += m->nparts;
	p->where = mem_dup(c, where, strlen(where));
	if (p->where == NULL) {
		free(text);
		return -1;
	}
	c->textleft -= len;
	p->kind = kind;
	p->text = text;
	p->len = len;
	p->charset_ok = ok;
	m->nparts++;
	return 0;
}

/*
 * With max_urls links kept, a link of a better rank (enum rules_link_rank)
 * takes the place of the last one kept of the worst rank, so that links
 * padding a message (a thousand images, say) cannot push out the one it
 * wants followed; the rest keep their order.  1 when there is room now.
 * Each link kept can be replaced at most once per rank above it, so a
 * message pays this at most a few times max_urls.
 */
static int
link_make_room(struct ctx *c, int rank)
{
	struct rules_msg *m = c->m;
	size_t	 i;
	int	 worst;

	for (worst = RULES_LINK_TEXT - 1; worst > rank && c->nrank[worst] == 0;
	    worst--)
		continue;
	if (worst <= rank)
		return 0;
	for (i = m->nlinks; i-- > 0;)
		if ((int)m->links[i].rank == worst)
			break;
	free(m->links[i].url);
	memmove(&m->links[i], &m->links[i + 1],
	    (m->nlinks - i - 1) * sizeof(m->links[0]));
	m->nlinks--;
	c->nrank[worst]--;
	return 1;
}

static void
link_add(void *ctx, const char *url, size_t len, int rank)
{
	struct ctx *c = ctx;
	struct rules_msg *m = c->m;
	struct rules_link *l;

	if (c->oom || rank < 0 || rank >= RULES_LINK_TEXT)
		return;
	if (m->nlinks >= c->lim.max_urls) {
		note(c, RULES_MSG_TRUNCATED, "more than %u links",
		    c->lim.max_urls);
		if (!link_make_room(c, rank))
			return;
	}
	l = arr_grow(c, m->links, m->nlinks, &c->linkcap, sizeof(*l));
	if (l == NULL)
		return;
	m->links = l;
	l += m->nlinks;
	l->url = mem_dup(c, url, len);
	l->part = c->linkpart;
	l->rank = (enum rules_link_rank)rank;
	if (l->url != NULL) {
		m->nlinks++;
		c->nrank[rank]++;
	}
}

/* Appends s, lowercased, to out[0..o) while it fits (size > 0, one byte
 * kept for the NUL); the new length. */
static size_t
put_lower(char *out, size_t size, size_t o, const char *s)
{
	for (; *s != '\0' && o + 1 < size; s++)
		out[o++] = (char)(*s >= 'A' && *s <= 'Z' ? *s | 0x20 : *s);
	return o;
}

/* "type/subtype" of ct, lowercased ("text/plain" when there is none). */
static void
mime_type(const struct mailmime_content *ct, char *out, size_t size)
{
	static const char *const discrete[] = {
		"x-error", "text", "image", "audio", "video", "application"
	};
	const struct mailmime_type *t;
	const char *tn = "text", *st = "plain";
	size_t i, o;

	t = ct == NULL ? NULL : ct->ct_type;
	if (t != NULL && t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		i = (size_t)t->tp_data.tp_discrete_type->dt_type;
		tn = i < sizeof(discrete) / sizeof(discrete[0]) ?
		    discrete[i] : t->tp_data.tp_discrete_type->dt_extension;
	} else if (t != NULL && t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
		i = (size_t)t->tp_data.tp_composite_type->ct_type;
		tn = i == MAILMIME_COMPOSITE_TYPE_MESSAGE ? "message" :
		    i == MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart" :
		    t->tp_data.tp_composite_type->ct_token;
	}
	if (ct != NULL)
		st = ct->ct_subtype;
	/* As snprintf "%s/%s" would, lowercased; a node or two a part. */
	o = put_lower(out, size, 0, tn != NULL ? tn : "x-unknown");
	o = put_lower(out, size, o, "/");
	o = put_lower(out, size, o, st != NULL ? st : "");
	out[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* MIME nodes, kept for the bounce and report analysis (bounce.c).     */

static void
hdrs_free(struct rules_header *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(h[i].name);		/* and the value after it */
	free(h);
}

static void
mime_free(struct rules_mime *x)
{
	free(x->type);
	free(x->where);
	free(x->report_type);
	free(x->body);
	hdrs_free(x->hdrs, x->nhdrs);
}

/* Is type a report part whose body and fields are kept? */
static int
report_kept(const char *type)
{
	static const char *const kept[] = {
		"message/delivery-status", "message/global-delivery-status",
		"text/rfc822-headers", "message/global-headers",
		"message/rfc822-headers", "message/feedback-report",
		"message/disposition-notification",
		"message/global-disposition-notification"
	};
	size_t i;

	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strcmp(type, kept[i]) == 0)
			return 1;
	return 0;
}

/* Records the node mm, of type, as m->mime[*idx]. */
static int
mime_add(struct ctx *c, struct mailmime *mm, const char *type, size_t *idx)
{
	char name[] = "report-type";
	struct rules_mime *x;
	const char *rt = NULL;
	size_t i, n;

	x = arr_grow(c, c->m->mime, c->m->nmime, &c->mimecap, sizeof(*x));
	if (x == NULL)
		return -1;
	c->m->mime = x;
	x += c->m->nmime;
	memset(x, 0, sizeof(*x));
	x->text = RULES_NOTEXT;
	x->nest = c->nest;
	x->type = mem_dup(c, type, strlen(type));
	x->where = mem_dup(c, c->sec, strlen(c->sec));
	if (mm->mm_content_type != NULL && strncmp(type, "multipart/", 10) == 0)
		rt = mailmime_content_param_get(mm->mm_content_type, name);
	if (rt != NULL) {
		rt += strspn(rt, "\" \t");
		n = strcspn(rt, "\" \t;");
		x->report_type = mem_dup(c, rt, n);
		for (i = 0; x->report_type != NULL && i < n; i++)
			if (x->report_type[i] >= 'A' &&
			    x->report_type[i] <= 'Z')
				x->report_type[i] |= 0x20;
	}
	if (c->oom) {
		mime_free(x);
		return -1;
	}
	*idx = c->m->nmime++;
	return 0;
}

/*
 * Reads the header fields in raw into m->mime[idx]: a message's header
 * (all == 0: up to the blank line after its first field; a few lines
 * that are not fields, such as an mbox line or a fold that lost its
 * indent, are skipped), or every block of a report part, other lines
 * skipped.
 */
static int
mime_fields(struct ctx *c, size_t idx, const char *raw, size_t len, int all)
{
	struct rules_header *h = NULL, *nh;
	const char *name, *v, *nl;
	size_t pos = 0, n = 0, cap = 0, nlen, vlen, skip = 0;

	if (len > RULES_REPORT_BYTES)
		len = RULES_REPORT_BYTES;
	while (pos < len && n < MSG_MIME_FIELDS) {
		if (!hdr_next(raw, len, &pos, &name, &nlen, &v, &vlen)) {
			nl = memchr(raw + pos, '\n', len - pos);
			if (nl == NULL || (!all && ((n > 0 &&
			    (raw[pos] == '\n' || raw[pos] == '\r')) ||
			    ++skip > 8)))
				break;
			pos = (size_t)(nl - raw) + 1;
			continue;
		}
		nh = arr_grow(c, h, n, &cap, sizeof(*h));
		if (nh == NULL)
			break;
		h = nh;
		h[n].name = hdr_decode(c, name, nlen, v, vlen);
		if (h[n].name == NULL) {
			c->oom = 1;
			break;
		}
		h[n].value = h[n].name + nlen + 1;
		n++;
	}
	c->m->mime[idx].hdrs = h;
	c->m->mime[idx].nhdrs = n;
	return c->oom ? -1 : 0;
}

/*
 * A text part of a multipart whose header holds more than Content-*
 * fields: some bounces put the original's header there, undeclared.
 * Keeps them.
 */
static int
part_fields(struct ctx *c, size_t idx, const struct mailmime *mm)
{
	const char *name, *v;
	size_t pos = 0, nlen, vlen, len = mm->mm_length;

	if (mm->mm_mime_start == NULL ||
	    mm->mm_parent_type != MAILMIME_MULTIPLE)
		return 0;
	if (len > RULES_REPORT_BYTES)
		len = RULES_REPORT_BYTES;
	while (hdr_next(mm->mm_mime_start, len, &pos, &name, &nlen, &v,
	    &vlen))
		if ((nlen < 8 || strncasecmp(name, "content-", 8) != 0) &&
		    (nlen != 12 || strncasecmp(name, "mime-version", 12) != 0))
			return mime_fields(c, idx, mm->mm_mime_start, len, 0);
	return 0;
}

/* A report part: its decoded body (within the budget) and its fields. */
static int
report_part(struct ctx *c, const struct mailmime_data *d, size_t idx)
{
	struct rules_mime *x;
	const char *body;
	char *dec;
	size_t len;

	if (decode(c, d, &body, &len, &dec) == -1)
		return -1;
	if (len > RULES_REPORT_BYTES)
		len = RULES_REPORT_BYTES;
	if (len > c->repleft)
		len = c->repleft;
	x = &c->m->mime[idx];
	x->body = mem_dup(c, body, len);
	if (dec != NULL)
		mailmime_decoded_part_free(dec);
	if (x->body == NULL)
		return -1;
	x->len = len;
	c->repleft -= len;
	return mime_fields(c, idx, x->body, len, 1);
}

/* ------------------------------------------------------------------ */
/* The MIME walk.                                                       */

/* Appends ".i" ("i" at the top) to the section path; -1 if too long. */
static int
sec_push(struct ctx *c, size_t i, size_t *old)
{
	size_t l = strlen(c->sec);
	int r;

	*old = l;
	r = snprintf(c->sec + l, sizeof(c->sec) - l, l == 0 ? "%zu" : ".%zu",
	    i);
	if (r < 0 || (size_t)r >= sizeof(c->sec) - l) {
		c->sec[l] = '\0';
		note(c, RULES_MSG_TRUNCATED, "MIME nesting deeper than %u",
		    c->lim.max_depth);
		return -1;
	}
	return 0;
}

/* Does "boundary" (any case) occur in s[0..n)?  The text between
 * delimiter lines is most of a message: eight candidate bytes are
 * tested for a 'b' or 'B' at once, and only a block holding one is
 * looked at byte by byte. */
static int
has_boundary(const char *s, size_t n)
{
	uint64_t w, x;
	size_t i, j, m;

	if (n < 8)
		return 0;
	m = n - 7;		/* positions "boundary" may start at */
	for (i = 0; i + 8 <= m; i += 8) {
		memcpy(&w, s + i, sizeof(w));
		x = (w | RULES_ONES * 0x20) ^ (RULES_ONES * 'b');
		if (((x - RULES_ONES) & ~x & RULES_HIGHS) == 0)
			continue;
		for (j = i; j < i + 8; j++)
			if ((s[j] | 0x20) == 'b' &&
			    strncasecmp(s + j, "boundary", 8) == 0)
				return 1;
	}
	for (; i < m; i++)
		if ((s[i] | 0x20) == 'b' &&
		    strncasecmp(s + i, "boundary", 8) == 0)
			return 1;
	return 0;
}

/* Is s[0..n) a "Content-Type: message/..." line?  Each opens a nested
 * message, which libetpan parses however deep they go. */
static int
is_message_type(const char *s, size_t n)
{
	size_t i = 13;

	if (n < 21 || (s[0] | 0x20) != 'c' ||
	    strncasecmp(s, "content-type:", 13) != 0)
		return 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return n - i >= 8 && strncasecmp(s + i, "message/", 8) == 0;
}

/*
 * libetpan scans each multipart's content once per enclosing multipart,
 * so parse time grows with size times nesting.  Delimiter lines ("--X")
 * show the nesting before parsing.  A stack keeps the delimiters seen: a
 * line that is one on the stack (blanks after it, or "--" for the close
 * delimiter, allowed: libetpan's delimiter is "--" boundary, transport
 * padding, CRLF) closes those above it, and any other opens a level
 * (so "--aa" nests inside "--a"), but only
 * when a "boundary" parameter came since the last such line, so text
 * full of "-- " lines does not count.  libetpan also builds a node for
 * every part however many there are (a 512 KB message of empty parts
 * holds 100k), while the walk stops at max_parts: so the delimiter lines
 * are counted too, with slack for lines taken for delimiters that are
 * not, and so are "Content-Type: message/..." lines (a chain of nested
 * messages costs as much as nested multiparts).  Returns the offset of the line where the
 * stack outgrows max_depth + MSG_DELIM_SLACK or the count passes twice
 * max_parts + MSG_DELIM_SLACK, or len.
 */
static size_t
delim_cut(struct ctx *c, const char *raw, size_t len)
{
	const char *st[MSG_DELIM_MAX], *p, *nl;
	size_t stn[MSG_DELIM_MAX], depth = 0, lim, pos, e, n, k, last = 0;
	size_t parts = 0, maxparts;
	int opens;

	lim = (size_t)c->lim.max_depth + MSG_DELIM_SLACK;
	if (lim > MSG_DELIM_MAX)
		lim = MSG_DELIM_MAX;
	maxparts = 2 * (size_t)c->lim.max_parts + MSG_DELIM_SLACK;
	for (pos = 0; pos < len; pos = e + 1) {
		nl = memchr(raw + pos, '\n', len - pos);
		e = nl == NULL ? len : (size_t)(nl - raw);
		if (is_message_type(raw + pos, e - pos) && ++parts > maxparts) {
			note(c, RULES_MSG_TRUNCATED, "more than %u MIME parts, "
			    "parse cut at byte %zu", c->lim.max_parts, pos);
			return pos;
		}
		if (e - pos < 3 || raw[pos] != '-' || raw[pos + 1] != '-')
			continue;
		p = raw + pos + 2;
		n = e - pos - 2;
		while (n > 0 && (unsigned char)p[n - 1] <= ' ')
			n--;
		for (k = 0; k < depth; k++)
			if ((stn[k] == n || (stn[k] + 2 == n &&
			    p[n - 2] == '-' && p[n - 1] == '-')) &&
			    memcmp(st[k], p, stn[k]) == 0)
				break;
		opens = k == depth && n > 0 &&
		    has_boundary(raw + last, pos - last);
		if ((k < depth || opens) && ++parts > maxparts) {
			note(c, RULES_MSG_TRUNCATED, "more than %u MIME parts, "
			    "parse cut at byte %zu", c->lim.max_parts, pos);
			return pos;
		}
		if (k < depth)
			depth = k + 1;
		else if (opens) {
			if (depth == lim) {
				note(c, RULES_MSG_TRUNCATED,
				    "multipart nesting over %zu levels, "
				    "parse cut at byte %zu", lim, pos);
				return pos;
			}
			st[depth] = p;
			stn[depth++] = n;
		}
		last = e;
	}
	return len;
}

/* A text part: charset to UTF-8, HTML rendered, links collected. */
static int
text_part(struct ctx *c, struct mailmime_content *ct, const char *type,
    const char *body, size_t len)
{
	char name[] = "charset", where[MSG_SEC_MAX + 80], shown[41], *t;
	const char *cs;
	size_t tlen, i;
	int ok, html;

	cs = ct == NULL ? NULL : mailmime_content_param_get(ct, name);
	if (to_utf8(c, cs, body, len, &ok) == -1)
		return -1;
	for (i = 0; !ok && i < sizeof(shown) - 1 && cs[i] != '\0'; i++)
		shown[i] = (unsigned char)cs[i] < ' ' ||
		    (unsigned char)cs[i] >= 0x7f ? '?' : cs[i];
	if (!ok) {
		shown[i] = '\0';
		note(c, RULES_MSG_BADCHARSET,
		    "unknown charset %s in part %s", shown, c->sec);
	}
	/* "sec type": both fit (MSG_SEC_MAX, and 64 for a type). */
	i = strlen(c->sec);
	tlen = strlen(type);
	memcpy(where, c->sec, i);
	where[i] = ' ';
	memcpy(where + i + 1, type, tlen + 1);
	html = strcmp(type, "text/html") == 0;
	if (html) {
		c->linkpart = c->m->nparts;
		t = rules_html_text(c->b.p, c->b.len, c->lim.max_html_depth,
		    link_add, c, &tlen);
		if (t == NULL)
			c->oom = 1;
	} else {
		t = mem_dup(c, c->b.p, c->b.len);
		tlen = c->b.len;
	}
	if (c->oom) {
		free(t);
		return -1;
	}
	return part_add(c, html ? RULES_PART_HTML : RULES_PART_PLAIN, t, tlen,
	    where, ok);
}

/* Adds the Subject of the message in raw as a part, if it has one. */
static int
nested_subject(struct ctx *c, const char *raw, size_t len, const char *type)
{
	char where[MSG_SEC_MAX + 80], *t;
	const char *name, *v;
	size_t pos = 0, nlen, vlen;

	while (hdr_next(raw, len, &pos, &name, &nlen, &v, &vlen)) {
		if (nlen != 7 || strncasecmp(name, "subject", 7) != 0)
			continue;
		t = hdr_decode(c, NULL, 0, v, vlen);
		if (t == NULL)
			return -1;
		snprintf(where, sizeof(where), "%s %s subject", c->sec, type);
		return part_add(c, RULES_PART_SUBJECT, t, strlen(t), where, 1);
	}
	return 0;
}

/* Walks the body of a message: a multipart's children are numbered
 * from the message's section, anything else is its part 1. */
static int
walk_body(struct ctx *c, struct mailmime *body, unsigned depth)
{
	size_t old;
	int r;

	if (body == NULL)
		return 0;
	if (body->mm_type == MAILMIME_MULTIPLE)
		return walk(c, body, depth);
	if (sec_push(c, 1, &old) == -1)
		return 0;
	r = walk(c, body, depth);
	c->sec[old] = '\0';
	return r;
}

/*
 * The message as libetpan's MIME parser needs it: the header cut down to
 * the fields it uses for the structure (Content-*, MIME-Version), then
 * the rest unchanged.  Parsing every address and date of a header costs
 * more than the rest of the MIME parse, and read_headers() has read them
 * already.  Returns a malloc'd copy with *slen set, or NULL when nothing
 * would be dropped (or on OOM: c->oom set).  The fields are those
 * hdr_next() finds, so the header ends where read_headers() says.
 */
static char *
mime_header(struct ctx *c, const char *raw, size_t len, size_t *slen)
{
	const char *name, *v;
	size_t pos = 0, start, nlen, vlen, o = 0;
	char *out = NULL;

	for (start = 0; hdr_next(raw, len, &pos, &name, &nlen, &v, &vlen);
	    start = pos) {
		if (mime_field(name, nlen)) {
			if (out != NULL) {
				memcpy(out + o, raw + start, pos - start);
				o += pos - start;
			} else
				o = pos;	/* kept in place so far */
			continue;
		}
		if (out == NULL) {
			if ((out = malloc(len + 1)) == NULL) {
				c->oom = 1;
				return NULL;
			}
			memcpy(out, raw, o);
		}
	}
	if (out == NULL)
		return NULL;
	memcpy(out + o, raw + pos, len - pos);
	o += len - pos;
	out[o] = '\0';
	*slen = o;
	return out;
}

/*
 * mime_header for the top-level header from what read_headers saw on its
 * walk of the same bytes: the same fields, since the walk started at
 * byte 0, saw them all and ended (at c->hdr_end) within len.
 */
static char *
mime_header_walked(struct ctx *c, const char *raw, size_t len, size_t *slen)
{
	size_t i, k, o = 0;
	char *out;

	if (!c->hdr_dropped)
		return NULL;
	if ((out = malloc(len + 1)) == NULL) {
		c->oom = 1;
		return NULL;
	}
	for (i = 0; i < c->nkeep; i++) {
		k = c->keep[i][1] - c->keep[i][0];
		memcpy(out + o, raw + c->keep[i][0], k);
		o += k;
	}
	memcpy(out + o, raw + c->hdr_end, len - c->hdr_end);
	o += len - c->hdr_end;
	out[o] = '\0';
	*slen = o;
	return out;
}

/*
 * Parses a whole message (cut before a runaway nesting of boundaries)
 * with libetpan.  Returns MAILIMF_NO_ERROR with *root_r set to a
 * MAILMIME_MESSAGE and *buf_r to the text it points into, or NULL for
 * raw itself (caller frees both, root first), or the error:
 * MAILIMF_ERROR_MEMORY (c->oom set), or MAILIMF_ERROR_PARSE for anything
 * else.  top: raw is the message read_headers() has read.
 */
static int
parse_root(struct ctx *c, const char *raw, size_t len, int top,
    struct mailmime **root_r, char **buf_r)
{
	struct mailmime *root = NULL;
	size_t idx = 0, slen = 0;
	char *buf;
	int r;

	*buf_r = NULL;
	len = delim_cut(c, raw, len);
	if (top && c->hdr_walked && len >= c->hdr_end &&
	    !rules_reference_paths)
		buf = mime_header_walked(c, raw, len, &slen);
	else
		buf = mime_header(c, raw, len, &slen);
	if (buf != NULL) {
		raw = buf;
		len = slen;
	} else if (c->oom)
		return MAILIMF_ERROR_MEMORY;
	r = mailmime_parse(raw, len, &idx, &root);
	if (r == MAILIMF_ERROR_MEMORY) {
		c->oom = 1;
		free(buf);
		return r;
	}
	if (r != MAILIMF_NO_ERROR || root->mm_type != MAILMIME_MESSAGE) {
		if (r == MAILIMF_NO_ERROR)
			mailmime_free(root);
		free(buf);
		return r != MAILIMF_NO_ERROR ? r : MAILIMF_ERROR_PARSE;
	}
	*root_r = root;
	*buf_r = buf;
	return MAILIMF_NO_ERROR;
}

/* An encoded message/rfc822 or a message/global: parse it again. */
static int
reparse(struct ctx *c, const char *raw, size_t len, unsigned depth,
    const char *type)
{
	struct mailmime *root = NULL;
	char *buf;
	int r;

	if (nested_subject(c, raw, len, type) == -1)
		return -1;
	if (depth >= c->lim.max_depth) {
		note(c, RULES_MSG_TRUNCATED, "MIME nesting deeper than %u",
		    c->lim.max_depth);
		return 0;
	}
	r = parse_root(c, raw, len, 0, &root, &buf);
	if (r != MAILIMF_NO_ERROR) {
		if (r == MAILIMF_ERROR_MEMORY)
			return -1;
		note(c, 0, "message in part %s unreadable", c->sec);
		return 0;
	}
	c->nest++;
	r = walk_body(c, root->mm_data.mm_message.mm_msg_mime, depth + 1);
	c->nest--;
	mailmime_free(root);
	free(buf);
	return r;
}

/*
 * Quoted-printable into c->d.  libetpan's decoder drops a bad escape
 * ("=ZZ") and the bytes around it; readers show it as written, and the
 * URLs in sloppy mail depend on that, so this one keeps it.
 */
static int
qp_decode(struct ctx *c, const char *in, size_t n)
{
	const unsigned char *s = (const unsigned char *)in;
	const unsigned char *q;
	size_t i, o, k;

	if (buf_grow(c, &c->d, n) == -1)
		return -1;
	for (i = o = 0; i < n; i++) {
		/* The bytes up to the next '=' as they are, in one copy. */
		q = memchr(s + i, '=', n - i);
		k = (q == NULL ? n : (size_t)(q - s)) - i;
		memcpy(c->d.p + o, s + i, k);
		o += k;
		i += k;
		if (i == n)
			break;
		if (i + 2 < n && rules_hexval(s[i + 1]) >= 0 &&
		    rules_hexval(s[i + 2]) >= 0) {
			c->d.p[o++] = (char)(rules_hexval(s[i + 1]) << 4 |
			    rules_hexval(s[i + 2]));
			i += 2;
			continue;
		}
		for (k = i + 1; k < n && (s[k] == ' ' || s[k] == '\t'); k++)
			continue;
		if (k < n && s[k] == '\r' && k + 1 < n && s[k + 1] == '\n')
			k++;
		if (k == n || s[k] == '\n')
			i = k;		/* soft line break */
		else
			c->d.p[o++] = '=';
	}
	c->d.len = o;
	return 0;
}

/* Decodes a single part's body; *dec is set when libetpan allocated. */
static int
decode(struct ctx *c, const struct mailmime_data *d, const char **body,
    size_t *len, char **dec)
{
	size_t idx = 0, n;
	char *out;
	int r;

	*dec = NULL;
	*body = d->dt_data.dt_text.dt_data;
	*len = d->dt_data.dt_text.dt_length;
	if (d->dt_encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		if (qp_decode(c, *body, *len) == -1)
			return -1;
		*body = c->d.p;
		*len = c->d.len;
		return 0;
	}
	if (d->dt_encoding != MAILMIME_MECHANISM_BASE64)
		return 0;	/* 7bit, 8bit, binary or unknown: as is */
	r = mailmime_part_parse(*body, *len, &idx, d->dt_encoding, &out, &n);
	if (r == MAILIMF_ERROR_MEMORY) {
		c->oom = 1;
		return -1;
	}
	if (r == MAILIMF_NO_ERROR) {
		*dec = out;
		*body = out;
		*len = n;
	}
	return 0;
}

/* A single part, of type (walk has read it). */
static int
single(struct ctx *c, struct mailmime *mm, const char *type, unsigned depth,
    size_t idx)
{
	const struct mailmime_data *d = mm->mm_data.mm_single;
	const char *body;
	char *dec, *own;
	size_t len, before;
	int r, text, nested;

	if (report_kept(type) && d != NULL && d->dt_type == MAILMIME_DATA_TEXT)
		return report_part(c, d, idx);
	/* Unknown text subtypes read as text/plain (RFC 2046); so does a
	 * multipart that lost its boundary, which readers show raw. */
	text = (strncmp(type, "text/", 5) == 0 &&
	    strcmp(type, "text/rfc822-headers") != 0) ||
	    strncmp(type, "multipart/", 10) == 0;
	nested = strcmp(type, "message/rfc822") == 0 ||
	    strcmp(type, "message/global") == 0;
	if ((!text && !nested) || d == NULL ||
	    d->dt_type != MAILMIME_DATA_TEXT)
		return 0;
	if (text && c->textleft == 0) {
		note(c, RULES_MSG_TRUNCATED, "visible text over %zu bytes",
		    c->lim.max_text_bytes);
		return 0;
	}
	if (decode(c, d, &body, &len, &dec) == -1)
		return -1;
	own = NULL;
	if (nested && body == c->d.p) {
		/* The nested tree points into it; c->d gets reused. */
		own = mem_dup(c, body, len);
		if (own == NULL)
			return -1;
		body = own;
	}
	before = c->m->nparts;
	if (text) {
		r = part_fields(c, idx, mm);
		if (r == 0)
			r = text_part(c, mm->mm_content_type, type, body,
			    len);
	}
	else {
		r = mime_fields(c, idx, body, len, 0);
		if (r == 0)
			r = reparse(c, body, len, depth, type);
	}
	if (text && r == 0 && c->m->nparts > before)
		c->m->mime[idx].text = before;
	if (dec != NULL)
		mailmime_decoded_part_free(dec);
	free(own);
	return r;
}

static int
walk(struct ctx *c, struct mailmime *mm, unsigned depth)
{
	const struct mailmime_data *d;
	clistiter *it;
	char type[64];
	size_t i, old, idx;
	int r = 0;

	if (c->oom)
		return -1;
	if (depth > c->lim.max_depth) {
		note(c, RULES_MSG_TRUNCATED, "MIME nesting deeper than %u",
		    c->lim.max_depth);
		return 0;
	}
	if (c->nodes >= c->lim.max_parts) {
		note(c, RULES_MSG_TRUNCATED, "more than %u MIME parts",
		    c->lim.max_parts);
		return 0;
	}
	c->nodes++;
	mime_type(mm->mm_content_type, type, sizeof(type));
	if (mime_add(c, mm, type, &idx) == -1)
		return -1;
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		return single(c, mm, type, depth, idx);
	case MAILMIME_MESSAGE:
		d = mm->mm_body;
		if (d != NULL && d->dt_type == MAILMIME_DATA_TEXT &&
		    (mime_fields(c, idx, d->dt_data.dt_text.dt_data,
		    d->dt_data.dt_text.dt_length, 0) == -1 ||
		    nested_subject(c, d->dt_data.dt_text.dt_data,
		    d->dt_data.dt_text.dt_length, "message/rfc822") == -1))
			return -1;
		c->nest++;
		r = walk_body(c, mm->mm_data.mm_message.mm_msg_mime,
		    depth + 1);
		c->nest--;
		return r;
	case MAILMIME_MULTIPLE:
		it = mm->mm_data.mm_multipart.mm_mp_list == NULL ? NULL :
		    clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
		for (i = 1; it != NULL && r == 0; it = clist_next(it), i++) {
			if (sec_push(c, i, &old) == -1)
				break;
			r = walk(c, clist_content(it), depth + 1);
			c->sec[old] = '\0';
		}
		return r;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Entry points.                                                        */

static void
ctx_free(struct ctx *c)
{
	free(c->a.p);
	free(c->b.p);
	free(c->h.p);
	free(c->d.p);
	free(c->hs.p);
	free(c->hoff);
}

/*
 * Bytes before the header: an mbox "From " line (archives and the
 * offline commands' files have them; libetpan would read the whole
 * message as a body) and lines of blanks some archives start with.
 */
static size_t
lead_skip(const char *raw, size_t len)
{
	const char *nl;
	size_t pos = 0, k, lines;

	for (lines = 0; lines < 4 && pos < len; lines++) {
		nl = memchr(raw + pos, '\n', len - pos);
		if (nl == NULL)
			break;
		if (lines == 0 && len - pos >= 5 &&
		    memcmp(raw + pos, "From ", 5) == 0) {
			pos = (size_t)(nl - raw) + 1;
			continue;
		}
		k = strspn(raw + pos, " \t");
		if (k == 0 || raw + pos + k + (raw[pos + k] == '\r') != nl)
			break;
		pos = (size_t)(nl - raw) + 1;
	}
	return pos;
}

static int
parse(struct ctx *c, const char *raw, size_t len)
{
	struct mailmime *root = NULL;
	size_t plen = len, skip;
	char *buf;
	int r;

	skip = lead_skip(raw, len);
	raw += skip;
	len -= skip;
	plen = len;
	if (plen > c->lim.max_parse_bytes) {
		plen = c->lim.max_parse_bytes;
		note(c, RULES_MSG_TRUNCATED,
		    "parsed the first %zu of %zu bytes", plen, len);
	}
	if (read_headers(c, raw, plen) == -1)
		return -1;
	if (c->m->subject != NULL && part_add(c, RULES_PART_SUBJECT,
	    mem_dup(c, c->m->subject, strlen(c->m->subject)),
	    strlen(c->m->subject), "subject", 1) == -1)
		return -1;
	r = parse_root(c, raw, plen, 1, &root, &buf);
	if (r != MAILIMF_NO_ERROR) {
		if (r == MAILIMF_ERROR_MEMORY)
			return -1;
		note(c, RULES_MSG_UNPARSED, "libetpan could not read the MIME "
		    "structure (error %d)", r);
		return 0;
	}
	r = walk_body(c, root->mm_data.mm_message.mm_msg_mime, 1);
	mailmime_free(root);
	free(buf);
	return r;
}

int
rules_msg_parse(const char *raw, size_t len, const struct rules_limits *lim,
    struct rules_msg **msg_r, char *err, size_t errlen)
{
	struct ctx c;
	int r;

	*msg_r = NULL;
	rules_charconv_install();
	memset(&c, 0, sizeof(c));
	if (lim != NULL) {
		c.lim = *lim;
		rules_limits_fill(&c.lim);
	} else
		rules_limits_default(&c.lim);
	c.textleft = c.lim.max_text_bytes;
	c.repleft = MSG_REPORT_ALL;
	if (raw == NULL) {
		raw = "";
		len = 0;
	}
	c.m = calloc(1, sizeof(*c.m));
	r = c.m == NULL ? -1 : parse(&c, raw, len);
	if (r == 0 && c.notelen > 0) {
		c.m->note = mem_dup(&c, c.note, c.notelen);
		if (c.m->note == NULL)
			r = -1;
	}
	ctx_free(&c);
	if (r == -1) {
		rules_msg_free(&c.m);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	*msg_r = c.m;
	return 0;
}

void
rules_msg_free(struct rules_msg **msg)
{
	struct rules_msg *m;
	size_t i;

	if (msg == NULL || *msg == NULL)
		return;
	m = *msg;
	if (m->nhdrs > 0)
		free(m->hdrs[0].name);	/* and every field after it */
	for (i = 0; i < m->nparts; i++) {
		free(m->parts[i].text);
		free(m->parts[i].where);
	}
	for (i = 0; i < m->nlinks; i++)
		free(m->links[i].url);
	for (i = 0; i < m->nmime; i++)
		mime_free(&m->mime[i]);
	free(m->mime);
	free(m->hdrs);
	free(m->parts);
	free(m->links);
	free(m->subject);
	free(m->from);
	free(m->message_id);
	free(m->note);
	free(m);
	*msg = NULL;
}

const char *
rules_msg_header(const struct rules_msg *msg, const char *name)
{
	size_t i;
	unsigned char c0;

	if (name == NULL || name[0] == '\0')
		return NULL;
	/* The first byte first: most fields differ there (callers look up
	 * a dozen names a message). */
	c0 = rules_lower((unsigned char)name[0]);
	for (i = 0; msg != NULL && i < msg->nhdrs; i++)
		if (rules_lower((unsigned char)msg->hdrs[i].name[0]) == c0 &&
		    strcasecmp(msg->hdrs[i].name, name) == 0)
			return msg->hdrs[i].value;
	return NULL;
}
