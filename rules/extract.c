/*
 * extract.c: URL hosts and registrable domains.
 *
 * Spam hides its hosts in every form a browser still accepts, so host
 * parsing follows what browsers do (the WHATWG URL standard) rather than
 * RFC 3986: backslashes count as slashes, tabs and newlines inside a URL
 * are ignored, the userinfo ends at the last '@', percent-escapes in the
 * host are decoded, and an IPv4 address may be written in decimal, octal
 * or hex with one to four parts ("0x7f.1", "3232235521").  Everything is
 * reduced to one canonical spelling (lowercase, punycode, dotted quad) so
 * that a list entry matches however the spammer wrote it.
 *
 * Text folding (rules_fold) lives in fold.c and phone numbers in phone.c.
 *
 * All functions are pure and thread-safe, run in linear time and read
 * only the bytes they are given.
 */
#include <arpa/inet.h>

#include <idn2.h>
#include <libpsl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"

#define HOST_RAW_MAX	1024	/* host bytes before decoding and IDNA */
#define DNS_NAME_MAX	253
#define DNS_LABEL_MAX	63

/* ------------------------------------------------------------------ */
/* Hosts                                                               */

/* Decodes %XX escapes of in into buf (NUL-ended); -1 on a bad escape, an
 * escaped NUL or overflow. */
static int
pct_decode(const char *in, size_t len, char *buf, size_t bufsz, size_t *n_r)
{
	size_t i, n = 0;
	int hi, lo;
	unsigned char c;

	/* Most hosts have no escape: one copy, refused as the loop below
	 * would refuse it. */
	if (memchr(in, '%', len) == NULL) {
		if (len + 1 > bufsz || memchr(in, '\0', len) != NULL)
			return -1;
		memcpy(buf, in, len);
		buf[len] = '\0';
		*n_r = len;
		return 0;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			hi = rules_hexval((unsigned char)in[i + 1]);
			lo = rules_hexval((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || n + 1 >= bufsz)
			return -1;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	*n_r = n;
	return 0;
}

/* An IPv6 literal (no brackets): validated, written lowercased. */
static int
host_ipv6(const char *in, size_t len, char *out, size_t outsz)
{
	unsigned char addr[16];
	char buf[64];
	size_t i;

	if (len == 0 || len >= sizeof(buf) || len >= outsz)
		return -1;
	for (i = 0; i < len; i++)
		buf[i] = (char)rules_lower((unsigned char)in[i]);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return -1;
	memcpy(out, buf, len + 1);
	return 0;
}

/* One part of a browser IPv4 address: "0x.." hex, "0.." octal, else
 * decimal.  -1 on a bad digit or a value over 2^32. */
static int
ipv4_part(const char *s, size_t n, uint64_t *v_r)
{
	unsigned base = 10;
	uint64_t v = 0;
	int d;

	if (n == 0)
		return -1;
	if (n >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
		base = 16;
		s += 2;
		n -= 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	for (; n > 0; s++, n--) {
		d = rules_hexval((unsigned char)*s);
		if (d < 0 || (unsigned)d >= base)
			return -1;
		v = v * base + (unsigned)d;
		if (v > 0xffffffffu)
			return -1;
	}
	*v_r = v;
	return 0;
}

/* Does the last label look numeric, so that the host must be IPv4? */
static int
ends_in_number(const char *h, size_t n)
{
	size_t i = n;

	while (i > 0 && h[i - 1] != '.')
		i--;
	if (i == n)
		return 0;
	if (n - i >= 2 && h[i] == '0' && h[i + 1] == 'x') {
		for (i += 2; i < n; i++)
			if (rules_hexval((unsigned char)h[i]) < 0)
				return 0;
		return 1;
	}
	for (; i < n; i++)
		if (!rules_is_digit((unsigned char)h[i]))
			return 0;
	return 1;
}

/* Parses 1-4 parts as browsers do; the last part fills the rest. */
static int
host_ipv4(const char *h, size_t n, char *out, size_t outsz)
{
	uint64_t part[4], addr = 0;
	size_t np = 0, i, s = 0;
	char buf[16], *p = buf;
	int k, sh;

	for (i = 0; i <= n; i++) {
		if (i < n && h[i] != '.')
			continue;
		if (np == 4 || ipv4_part(h + s, i - s, &part[np]) == -1)
			return -1;
		np++;
		s = i + 1;
	}
	for (i = 0; i + 1 < np; i++) {
		if (part[i] > 255)
			return -1;
		addr |= part[i] << (24 - 8 * i);
	}
	if (part[np - 1] >= (uint64_t)1 << (8 * (5 - np)))
		return -1;
	addr |= part[np - 1];
	for (sh = 24; sh >= 0; sh -= 8) {
		k = (int)(addr >> sh & 0xff);
		if (k >= 100)
			*p++ = (char)('0' + k / 100);
		if (k >= 10)
			*p++ = (char)('0' + k / 10 % 10);
		*p++ = (char)('0' + k % 10);
		if (sh > 0)
			*p++ = '.';
	}
	*p = '\0';
	if ((size_t)(p - buf) >= outsz)
		return -1;
	memcpy(out, buf, (size_t)(p - buf) + 1);
	return 0;
}

/* Letters, digits, '-' (not first or last) and '_' in labels of 1-63
 * bytes, 253 in all. */
static int
host_domain(const char *h, size_t n, char *out, size_t outsz)
{
	size_t i, lab = 0;
	unsigned char c;

	if (n == 0 || n > DNS_NAME_MAX || n >= outsz)
		return -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)h[i];
		if (c == '.') {
			if (lab == 0 || h[i - 1] == '-')
				return -1;
			lab = 0;
			continue;
		}
		if (!rules_is_alnum(c) && c != '-' && c != '_')
			return -1;
		if ((c == '-' && lab == 0) || ++lab > DNS_LABEL_MAX)
			return -1;
	}
	if (h[n - 1] == '-')
		return -1;
	memcpy(out, h, n);
	out[n] = '\0';
	return 0;
}

/* Lowercases ASCII and drops trailing dots; returns the new length.
 * *high_r says whether a byte is not ASCII. */
static size_t
host_tidy(char *h, size_t n, int *high_r)
{
	size_t i;
	unsigned char high = 0;

	for (i = 0; i < n; i++) {
		high |= (unsigned char)h[i];
		h[i] = (char)rules_lower((unsigned char)h[i]);
	}
	*high_r = high >= 0x80;
	while (n > 0 && h[n - 1] == '.')
		n--;
	h[n] = '\0';
	return n;
}

/* IDNA (UTS #46, non-transitional, as current browsers) to punycode. */
static int
host_idna(char *buf, size_t bufsz, size_t *n_r)
{
	uint8_t *res = NULL;
	size_t n;

	if (idn2_lookup_u8((const uint8_t *)buf, &res,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
		return -1;
	n = strlen((const char *)res);
	if (n >= bufsz) {
		idn2_free(res);
		return -1;
	}
	memcpy(buf, res, n + 1);
	idn2_free(res);
	*n_r = n;
	return 0;
}

int
rules_host_normalise(const char *in, size_t len, char *out, size_t outsz)
{
	char buf[HOST_RAW_MAX];
	size_t n;
	int high;

	if (in == NULL || out == NULL || outsz == 0 || len == 0 ||
	    len >= HOST_RAW_MAX)
		return -1;
	if (in[0] == '[') {
		if (len < 3 || in[len - 1] != ']')
			return -1;
		return host_ipv6(in + 1, len - 2, out, outsz);
	}
	if (pct_decode(in, len, buf, sizeof(buf), &n) == -1)
		return -1;
	if (memchr(buf, ':', n) != NULL)
		return host_ipv6(buf, n, out, outsz);
	n = host_tidy(buf, n, &high);
	if (high) {
		if (host_idna(buf, sizeof(buf), &n) == -1)
			return -1;
		n = host_tidy(buf, n, &high);
	}
	if (n == 0)
		return -1;
	if (ends_in_number(buf, n))
		return host_ipv4(buf, n, out, outsz);
	return host_domain(buf, n, out, outsz);
}

/* ------------------------------------------------------------------ */
/* URL hosts                                                           */

/* Browsers drop every tab, CR and LF inside a URL before parsing it. */
static int
is_tn(unsigned char c)
{
	return c == '\t' || c == '\n' || c == '\r';
}

/* The byte at *p after skipping tabs and newlines, or -1 at the end. */
static int
peek(const char **p, const char *end)
{
	while (*p < end && is_tn((unsigned char)**p))
		(*p)++;
	return *p < end ? (unsigned char)**p : -1;
}

/* Matches word (lowercase ASCII) at *p, case-insensitively and ignoring
 * tabs and newlines; on success moves *p past it. */
static int
match_ci(const char **p, const char *end, const char *word)
{
	const char *q = *p;
	int c;

	for (; *word != '\0'; word++, q++) {
		c = peek(&q, end);
		if (c == -1 || rules_lower((unsigned char)c) != *word)
			return 0;
	}
	*p = q;
	return 1;
}

/* Reads a scheme and its ':' at *p; returns 1 if it is a special scheme
 * (one whose URLs always have a host), 0 for another, -1 for none. */
static int
url_scheme(const char **p, const char *end)
{
	static const char *const special[] = { "http", "https", "ftp",
	    "ws", "wss" };
	const char *q = *p;
	char sch[8];
	size_t n = 0, i;
	int c;

	for (;; q++, n++) {
		c = peek(&q, end);
		if (c == -1 || !(rules_is_alnum((unsigned char)c) || c == '+' ||
		    c == '-' || c == '.'))
			break;
		if (n == 0 && !rules_is_alpha((unsigned char)c))
			return -1;
		if (n < sizeof(sch) - 1)
			sch[n] = (char)rules_lower((unsigned char)c);
	}
	if (n == 0 || c != ':')
		return -1;
	*p = q + 1;
	if (n >= sizeof(sch))
		return 0;
	sch[n] = '\0';
	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcmp(sch, special[i]) == 0)
			return 1;
	return 0;
}

/*
 * Moves *p to the start of the authority: after "scheme:" and the
 * slashes (any number of '/' or '\' for special schemes, as browsers
 * allow, exactly "//" otherwise), after a scheme-relative "//", or at a
 * bare "www.".  Returns 1 for special, 0 for other schemes, -1 when the
 * URL has no host.
 */
static int
url_authority(const char **p, const char *end)
{
	const char *q = *p;
	int special, c;

	if (match_ci(&q, end, "www."))
		return 1;
	special = url_scheme(p, end);
	if (special == -1) {
		special = 1;
		if (!match_ci(p, end, "//"))
			return -1;
	} else if (special == 0) {
		return match_ci(p, end, "//") ? 0 : -1;
	}
	for (;;) {
		c = peek(p, end);
		if (c != '/' && c != '\\')
			break;
		(*p)++;
	}
	return 1;
}

/* Checks the ":port" after a host: digits only, at most 65535. */
static int
port_ok(const char *p, const char *e)
{
	unsigned long v = 0;
	int c;

	p++;
	for (;;) {
		c = peek(&p, e);
		if (c == -1)
			return 1;
		if (!rules_is_digit((unsigned char)c))
			return 0;
		v = v * 10 + (unsigned)(c - '0');
		if (v > 65535)
			return 0;
		p++;
	}
}

/* Finds the authority at *p, moving *p past the scheme; *e_r is where
 * it ends.  Browsers repair a doubled "http://http://host/", so when the
 * authority is only a special scheme name and its ':', the next one is
 * taken.  Returns -1 when the URL has no host. */
static int
url_find_authority(const char **p, const char *end, const char **e_r)
{
	const char *e, *q;
	int special;

	for (;;) {
		special = url_authority(p, end);
		if (special == -1)
			return -1;
		for (e = *p; e < end; e++)
			if (*e == '/' || *e == '?' || *e == '#' ||
			    (special && *e == '\\'))
				break;
		/* Only an authority ending in ':' can be a scheme alone. */
		for (q = e; q > *p && is_tn((unsigned char)q[-1]); q--)
			continue;
		if (e == end || q == *p || q[-1] != ':')
			break;
		q = *p;
		if (url_scheme(&q, e) != 1 || peek(&q, e) != -1)
			break;
	}
	*e_r = e;
	return 0;
}

int
rules_url_host(const char *url, size_t len, char *out, size_t outsz)
{
	const char *p, *e, *end, *h, *he, *q;
	char buf[HOST_RAW_MAX];
	size_t n = 0;

	if (url == NULL)
		return -1;
	p = url;
	end = url + len;
	while (p < end && (unsigned char)*p <= 0x20)
		p++;
	while (end > p && (unsigned char)end[-1] <= 0x20)
		end--;
	if (url_find_authority(&p, end, &e) == -1)
		return -1;
	/* The userinfo, if any, ends at the last '@'. */
	h = p;
	for (q = p; q < e; q++)
		if (*q == '@')
			h = q + 1;
	q = h;
	if (peek(&q, e) == '[') {
		he = memchr(q, ']', (size_t)(e - q));
		if (he == NULL)
			return -1;
		he++;
	} else {
		he = memchr(h, ':', (size_t)(e - h));
		if (he == NULL)
			he = e;
	}
	q = he;
	if (peek(&q, e) != -1 && (*q != ':' || !port_ok(q, e)))
		return -1;
	for (q = h; q < he; q++) {
		if (is_tn((unsigned char)*q))
			continue;
		if (n + 1 >= sizeof(buf))
			return -1;
		buf[n++] = *q;
	}
	return rules_host_normalise(buf, n, out, outsz);
}

/* ------------------------------------------------------------------ */
/* URLs inside URLs                                                    */

/* Where a URL carried inside another starts, and how it is written. */
enum { IN_PLAIN, IN_PCT, IN_PP };

/* Does an inner URL's opening start at p (case-insensitively)?  Returns
 * its encoding, or -1. */
static int
inner_open(const char *p, const char *end)
{
	static const struct {
		const char *s;
		int	 enc;
	} opens[] = {
		{ "http://", IN_PLAIN }, { "https://", IN_PLAIN },
		{ "http%3a%2f%2f", IN_PCT }, { "https%3a%2f%2f", IN_PCT },
		{ "http%253a%252f%252f", IN_PCT },
		{ "https%253a%252f%252f", IN_PCT },
		{ "http-3a__", IN_PP }, { "https-3a__", IN_PP },
	};
	const char *q;
	size_t i;

	for (i = 0; i < sizeof(opens) / sizeof(opens[0]); i++) {
		q = p;
		if ((size_t)(end - p) > strlen(opens[i].s) &&
		    match_ci(&q, end, opens[i].s))
			return opens[i].enc;
	}
	return -1;
}

/* Decodes %XX (pct) or Proofpoint's -XX and '_' for '/' (pp) from in into
 * out; bad escapes are copied as they are.  Returns the length. */
static size_t
inner_decode(const char *in, size_t len, int enc, char *out, size_t outsz)
{
	size_t i, o = 0;
	int hi, lo;
	char esc = enc == IN_PP ? '-' : '%';

	for (i = 0; i < len && o + 1 < outsz; i++) {
		if (in[i] == esc && i + 2 < len &&
		    (hi = rules_hexval((unsigned char)in[i + 1])) >= 0 &&
		    (lo = rules_hexval((unsigned char)in[i + 2])) >= 0 &&
		    (hi || lo)) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (enc == IN_PP && in[i] == '_')
			out[o++] = '/';
		else
			out[o++] = in[i];
	}
	out[o] = '\0';
	return o;
}

size_t
rules_url_inner(const char *url, size_t len, char *out, size_t outsz)
{
	const char *p, *e, *end, *q;
	char tmp[RULES_URL_INNER_MAX];
	size_t n;
	int enc = -1;

	if (url == NULL || outsz == 0 || len == 0)
		return 0;
	p = url;
	end = url + len;
	if (url_find_authority(&p, end, &e) == -1)
		return 0;
	/* The first opening after the authority: in the path, the query or
	 * the fragment (a redirector's target, a link wrapper's original). */
	for (q = e; q < end; q++)
		if ((*q | 0x20) == 'h' && (enc = inner_open(q, end)) != -1)
			break;
	if (q >= end)
		return 0;
	/* A parameter's value ends at '&': the inner URL's own parameters
	 * are escaped in it, and only its host matters. */
	for (e = q; e < end && *e != '&'; e++)
		continue;
	if (enc != IN_PLAIN) {
		n = inner_decode(q, (size_t)(e - q), enc, tmp, sizeof(tmp));
		if (enc == IN_PCT && memchr(tmp, '%', n) != NULL) /* %25 */
			return inner_decode(tmp, n, IN_PCT, out, outsz);
		q = tmp;
		e = tmp + n;
	}
	n = (size_t)(e - q) < outsz - 1 ? (size_t)(e - q) : outsz - 1;
	memcpy(out, q, n);
	out[n] = '\0';
	return n;
}

/* ------------------------------------------------------------------ */
/* URLs in text                                                        */

/*
 * Does a URL written in running text stop at p?  At controls, spaces,
 * '"', '<', '>' and '`', and at the UTF-8 no-break and typographic
 * spaces, zero-width spaces, curly and angle quotes and the BOM.
 */
static int
url_stop(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];

	if (c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' ||
	    c == '`')
		return 1;
	if (c < 0x80 || end - p < 2)
		return 0;
	if (c == 0xc2)
		return p[1] == 0xa0 || p[1] == 0xab || p[1] == 0xbb;
	if (end - p < 3)
		return 0;
	if (c == 0xe2 && p[1] == 0x80)
		return p[2] <= 0x8b || (p[2] >= 0x98 && p[2] <= 0x9f) ||
		    p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf ||
		    p[2] == 0xb9 || p[2] == 0xba;
	if (c == 0xe3)
		return p[1] == 0x80 && p[2] == 0x80;
	return c == 0xef && p[1] == 0xbb && p[2] == 0xbf;
}

/* Opening less closing brackets between s and e. */
static long
balance(const char *s, const char *e, char open, char close)
{
	long n = 0;

	for (; s < e; s++)
		n += *s == open ? 1 : *s == close ? -1 : 0;
	return n;
}

/* Drops trailing punctuation that belongs to the sentence, keeping a
 * closing ')' or ']' that balances one inside the URL.  The brackets are
 * counted only at the first closing one: most URLs end in neither. */
static const char *
url_trim(const char *s, const char *e)
{
	const char *e0 = e;
	long paren = 0, brack = 0;
	int counted = 0;

	while (e > s) {
		if ((e[-1] == ')' || e[-1] == ']') && !counted) {
			paren = balance(s, e0, '(', ')');
			brack = balance(s, e0, '[', ']');
			counted = 1;
		}
		if (e[-1] == ')') {
			if (paren >= 0)
				break;
			paren++;
		} else if (e[-1] == ']') {
			if (brack >= 0)
				break;
			brack++;
		} else if (memchr(".,;:!?'\">", e[-1], 9) == NULL) {
			break;
		}
		e--;
	}
	return e;
}

/* Length of the URL opening at p ("http://", "https://", "ftp://" or a
 * bare "www." at a word start), or 0. */
static size_t
url_open(const char *text, const char *p, const char *end)
{
	static const char *const opens[] = { "http://", "https://",
	    "ftp://" };
	static const size_t lens[] = { 7, 8, 6 };
	unsigned char prev = p > text ? (unsigned char)p[-1] : ' ';
	unsigned char c = rules_lower((unsigned char)p[0]);
	size_t i, n, k;

	if (c != 'h' && c != 'f' && c != 'w')	/* most words */
		return 0;
	for (i = 0; i < sizeof(opens) / sizeof(opens[0]); i++) {
		n = lens[i];
		if ((size_t)(end - p) <= n)
			continue;
		for (k = 0; k < n; k++)
			if (rules_lower((unsigned char)p[k]) != opens[i][k])
				break;
		if (k == n)
			return n;
	}
	if (end - p > 4 && (p[0] | 0x20) == 'w' && (p[1] | 0x20) == 'w' &&
	    (p[2] | 0x20) == 'w' && p[3] == '.' &&
	    (rules_is_alnum((unsigned char)p[4]) || (unsigned char)p[4] >= 0x80) &&
	    prev != '.' && prev != '-' && prev != '_' && prev != '@')
		return 4;
	return 0;
}

/* Does a word start at p? */
static int
word_start(const char *text, const char *p)
{
	return p == text || !rules_is_alnum((unsigned char)p[-1]);
}

/* The first byte ch at or after p, or end. */
static const char *
find_byte(const char *p, const char *end, char ch)
{
	const char *q = memchr(p, ch, (size_t)(end - p));

	return q != NULL ? q : end;
}

/* The next ':' or '.' at or after p, or end; *colon and *dot hold the
 * next of each from earlier calls, so that each is searched for once. */
static const char *
next_sep(const char *p, const char *end, const char **colon,
    const char **dot)
{
	if (*colon < p)
		*colon = find_byte(p, end, ':');
	if (*dot < p)
		*dot = find_byte(p, end, '.');
	return *colon < *dot ? *colon : *dot;
}

/*
 * Only URLs with a plausible host are reported: a scanner hit that no
 * browser could open tells nothing.
 *
 * An opening is a word start followed by "www." or by "ftp:", "http:" or
 * "https:", so the scan goes from one '.' or ':' to the next, rarer bytes
 * than letters, and tries the word starts 3 to 5 bytes before it.  A URL
 * cannot start inside another's opening (those are letters, so no word
 * starts there), so URLs are found in the order of their separators.
 */
void
rules_find_url_hosts(const char *text, size_t len,
    void (*fn)(void *ctx, const char *url, size_t len, const char *host),
    void *ctx)
{
	const char *p, *s, *c, *e, *end, *colon, *dot;
	char host[RULES_HOST_MAX];
	ptrdiff_t back;
	size_t n = 0;

	if (text == NULL || fn == NULL)
		return;
	p = text;
	end = text + len;
	colon = find_byte(p, end, ':');
	dot = find_byte(p, end, '.');
	while (p < end) {
		c = next_sep(p, end, &colon, &dot);
		if (c == end)
			break;
		back = *c == '.' ? 3 : 5;	/* "www." or "https:" */
		s = c - p >= back ? c - back : p;
		for (; c - s >= 3; s++)
			if (word_start(text, s) &&
			    (n = url_open(text, s, end)) > 0)
				break;
		if (c - s < 3) {
			p = c + 1;
			continue;
		}
		e = s + n;
		while (e < end && !url_stop((const unsigned char *)e,
		    (const unsigned char *)end))
			e++;
		e = url_trim(s + n, e);
		if (e > s + n && rules_url_host(s, (size_t)(e - s), host,
		    sizeof(host)) == 0)
			fn(ctx, s, (size_t)(e - s), host);
		p = e > s + n ? e : s + n;
	}
}

/* ------------------------------------------------------------------ */
/* Registrable domains                                                 */

/*
 * psl_builtin() is the list compiled into libpsl: static, read-only data,
 * so it needs no initialisation or locking.
 */
int
rules_registrable_domain(const char *host, char *out, size_t outsz)
{
	const psl_ctx_t *psl;
	const char *r;
	char h[RULES_HOST_MAX];
	size_t n;

	if (host == NULL || out == NULL ||
	    rules_host_normalise(host, strlen(host), h, sizeof(h)) == -1)
		return -1;
	n = strlen(h);
	if (strchr(h, ':') != NULL || ends_in_number(h, n) ||
	    strchr(h, '.') == NULL)
		return -1;
	psl = psl_builtin();
	if (psl == NULL)
		return -1;
	r = psl_registrable_domain(psl, h);
	if (r == NULL || strlen(r) >= outsz)
		return -1;
	memcpy(out, r, strlen(r) + 1);
	return 0;
}
