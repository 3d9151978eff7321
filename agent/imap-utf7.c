/*
 * imap-utf7.c: the modified UTF-7 codec for IMAP mailbox names (RFC 3501
 * section 5.1.3).  Printable ASCII stands for itself except "&", written
 * "&-"; everything else is UTF-16 in a modified base64 ("," for "/", no
 * padding) between "&" and "-".  Both directions are strict: the decoder
 * refuses what a conforming encoder could not have written, so a name
 * round-trips byte for byte.
 *
 * This file uses only libc (plain malloc, no xmalloc) so that the unit
 * test can link it alone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/imap.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

struct obuf {
	char	*p;
	size_t	 len, cap;
};

static int
oput(struct obuf *o, char c)
{
	char *np;

	if (o->len + 1 >= o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		if ((np = realloc(o->p, o->cap)) == NULL)
			return -1;
		o->p = np;
	}
	o->p[o->len++] = c;
	o->p[o->len] = '\0';
	return 0;
}

static char *
ofail(struct obuf *o, int e)
{
	free(o->p);
	errno = e;
	return NULL;
}

/* Decodes one UTF-8 sequence at *sp into *cp; returns -1 when invalid
 * (overlong, surrogate, beyond U+10FFFF, truncated). */
static int
utf8_next(const unsigned char **sp, uint32_t *cp)
{
	const unsigned char *s = *sp;
	uint32_t c, min;
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		*sp = s + 1;
		return 0;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 1, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 2, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 3, c = s[0] & 0x07, min = 0x10000;
	} else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*sp = s + n + 1;
	return 0;
}

/* Writes the 16-bit units of one shift sequence's character into the
 * base64 bit accumulator. */
static int
b64_unit(struct obuf *o, uint32_t u, uint32_t *acc, int *bits)
{
	*acc = *acc << 16 | u;
	*bits += 16;
	while (*bits >= 6) {
		*bits -= 6;
		if (oput(o, b64[(*acc >> *bits) & 0x3f]) == -1)
			return -1;
	}
	*acc &= (1u << *bits) - 1;
	return 0;
}

char *
imap_utf7_encode(const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	struct obuf o = { NULL, 0, 0 };
	uint32_t c, acc = 0;
	int bits = 0, shifted = 0, r = 0;

	if (oput(&o, '\0') == -1)
		return ofail(&o, ENOMEM);
	o.len = 0;
	while (*s != '\0') {
		if (utf8_next(&s, &c) == -1)
			return ofail(&o, EILSEQ);
		if (c >= 0x20 && c <= 0x7e) {
			if (shifted) {
				if (bits > 0)
					r |= oput(&o, b64[(acc << (6 - bits)) &
					    0x3f]);
				r |= oput(&o, '-');
				shifted = 0, acc = 0, bits = 0;
			}
			r |= oput(&o, (char)c);
			if (c == '&')
				r |= oput(&o, '-');
		} else {
			if (!shifted) {
				r |= oput(&o, '&');
				shifted = 1;
			}
			if (c >= 0x10000) {
				c -= 0x10000;
				r |= b64_unit(&o, 0xd800 | (c >> 10), &acc,
				    &bits);
				r |= b64_unit(&o, 0xdc00 | (c & 0x3ff), &acc,
				    &bits);
			} else
				r |= b64_unit(&o, c, &acc, &bits);
		}
		if (r != 0)
			return ofail(&o, ENOMEM);
	}
	if (shifted) {
		if (bits > 0)
			r |= oput(&o, b64[(acc << (6 - bits)) & 0x3f]);
		r |= oput(&o, '-');
	}
	if (r != 0)
		return ofail(&o, ENOMEM);
	return o.p;
}

static int
utf8_put(struct obuf *o, uint32_t c)
{
	int r = 0;

	if (c < 0x80)
		return oput(o, (char)c);
	if (c < 0x800) {
		r |= oput(o, (char)(0xc0 | c >> 6));
	} else if (c < 0x10000) {
		r |= oput(o, (char)(0xe0 | c >> 12));
		r |= oput(o, (char)(0x80 | ((c >> 6) & 0x3f)));
	} else {
		r |= oput(o, (char)(0xf0 | c >> 18));
		r |= oput(o, (char)(0x80 | ((c >> 12) & 0x3f)));
		r |= oput(o, (char)(0x80 | ((c >> 6) & 0x3f)));
	}
	r |= oput(o, (char)(0x80 | (c & 0x3f)));
	return r;
}

/* Decodes one shift sequence: s points after "&", at least one base64
 * character up to the "-".  Returns the position after "-", or NULL. */
static const char *
utf7_shift(const char *s, struct obuf *o)
{
	const char *q;
	uint32_t acc = 0, u, hi = 0;
	int bits = 0, units = 0;

	for (; *s != '-'; s++) {
		if (*s == '\0' || (q = strchr(b64, *s)) == NULL)
			return NULL;
		acc = (acc << 6 | (uint32_t)(q - b64)) & 0xffffff;
		if ((bits += 6) < 16)
			continue;
		bits -= 16;
		u = (acc >> bits) & 0xffff;
		units++;
		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return NULL;
			u = 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00);
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			hi = u;
			continue;
		} else if ((u >= 0xdc00 && u <= 0xdfff) ||
		    (u >= 0x20 && u <= 0x7e))
			return NULL;	/* lone low half; ASCII in base64 */
		if (utf8_put(o, u) == -1)
			return NULL;
	}
	/* Leftover bits must be fewer than 6 and zero; no dangling high
	 * surrogate; no empty "&...-" sequence. */
	if (hi != 0 || units == 0 || bits >= 6 ||
	    (acc & ((1u << bits) - 1)) != 0)
		return NULL;
	return s + 1;
}

char *
imap_utf7_decode(const char *mutf7)
{
	const char *s = mutf7;
	struct obuf o = { NULL, 0, 0 };

	if (oput(&o, '\0') == -1)
		return ofail(&o, ENOMEM);
	o.len = 0;
	while (*s != '\0') {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return ofail(&o, EILSEQ);
		if (*s != '&') {
			if (oput(&o, *s++) == -1)
				return ofail(&o, ENOMEM);
		} else if (s[1] == '-') {
			if (oput(&o, '&') == -1)
				return ofail(&o, ENOMEM);
			s += 2;
		} else {
			errno = 0;
			if ((s = utf7_shift(s + 1, &o)) == NULL)
				return ofail(&o, errno == ENOMEM ? ENOMEM :
				    EILSEQ);
		}
	}
	return o.p;
}
