/*
 * fold.c: folding text for phrase matching (rules_fold).
 *
 * Phrase lists and message text meet only after both went through
 * rules_fold, so its case and separator tables live apart from the URL
 * and host code in extract.c.  Its choices are documented below.
 *
 * Pure and thread-safe; runs in linear time and reads only the bytes it
 * is given.
 */
#include <stdint.h>
#include <string.h>

#include "rules/rules-private.h"

/*
 * rules_fold's choices.  Phrase lists are folded by this same function,
 * so what matters is that text and lists agree:
 * - ASCII letters are lowercased and digits kept; every other ASCII byte
 *   (controls, space, punctuation, symbols) is a separator.  That includes
 *   the apostrophe: "don't" and "don’t" both become "don t".
 * - Simple case folding for Latin-1, Latin Extended-A, Greek and
 *   Cyrillic; accents are kept.  ß and ẞ become "ss" (so "Straße" meets
 *   "STRASSE"), İ becomes i, ſ becomes s, µ becomes μ, final ς becomes σ.
 * - Separators too: all Unicode spaces, Latin-1 punctuation and symbols
 *   (U+00A1-U+00BF but for ª º µ ¹ ² ³ and the fractions; × and ÷), the
 *   General Punctuation block, Greek ; and ·, CJK spaces and brackets.
 * - Invisible characters vanish without a trace, so "fr\u200Bee" is
 *   "free": soft hyphen, CGJ, Mongolian vowel separator, zero-width
 *   space/joiners, LRM/RLM, bidi embeddings and isolates, word joiner,
 *   invisible operators and the BOM.
 * - Bytes that are not valid UTF-8 are copied as they are, like letters,
 *   so text in an unknown charset still folds its ASCII.
 * Each output character is no longer than its input, and a separator run
 * gives at most one space, so the output never outgrows the input.
 */

#define FOLD_DROP	0u		/* removed */
#define FOLD_SEP	0x20u		/* a separator */
#define FOLD_SS		0x110000u	/* "ss" */

/* ASCII: lowercase letter, digit, or 0 for a separator. */
static const unsigned char fold_ascii[128] = {
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	'0', '1', '2', '3', '4', '5', '6', '7',
	'8', '9', 0, 0, 0, 0, 0, 0,
	0, 'a', 'b', 'c', 'd', 'e', 'f', 'g',
	'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
	'x', 'y', 'z', 0, 0, 0, 0, 0,
	0, 'a', 'b', 'c', 'd', 'e', 'f', 'g',
	'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
	'x', 'y', 'z', 0, 0, 0, 0, 0,
};

/*
 * Non-ASCII folding, sorted and disjoint; code points in no range are
 * kept.  FK_DELTA adds arg, FK_PAIR adds 1 to those of lo's parity (the
 * capitals of alternating capital/small pairs), FK_TO maps to arg.
 */
enum fold_kind {
	FK_SEP,
	FK_DROP,
	FK_DELTA,
	FK_PAIR,
	FK_TO
};

static const struct fold_range {
	uint32_t lo, hi;
	enum fold_kind kind;
	int32_t	 arg;
} fold_ranges[] = {
	/* Latin-1: C1, NBSP, punctuation and symbols, soft hyphen */
	{ 0x80, 0xa9, FK_SEP, 0 }, { 0xab, 0xac, FK_SEP, 0 },
	{ 0xad, 0xad, FK_DROP, 0 }, { 0xae, 0xb1, FK_SEP, 0 },
	{ 0xb4, 0xb4, FK_SEP, 0 }, { 0xb5, 0xb5, FK_TO, 0x3bc },
	{ 0xb6, 0xb8, FK_SEP, 0 }, { 0xbb, 0xbb, FK_SEP, 0 },
	{ 0xbf, 0xbf, FK_SEP, 0 }, { 0xc0, 0xd6, FK_DELTA, 32 },
	{ 0xd7, 0xd7, FK_SEP, 0 }, { 0xd8, 0xde, FK_DELTA, 32 },
	{ 0xdf, 0xdf, FK_TO, FOLD_SS }, { 0xf7, 0xf7, FK_SEP, 0 },
	/* Latin Extended-A */
	{ 0x100, 0x12f, FK_PAIR, 0 }, { 0x130, 0x130, FK_TO, 'i' },
	{ 0x132, 0x137, FK_PAIR, 0 }, { 0x139, 0x148, FK_PAIR, 0 },
	{ 0x14a, 0x177, FK_PAIR, 0 }, { 0x178, 0x178, FK_TO, 0xff },
	{ 0x179, 0x17e, FK_PAIR, 0 }, { 0x17f, 0x17f, FK_TO, 's' },
	{ 0x34f, 0x34f, FK_DROP, 0 },
	/* Greek */
	{ 0x370, 0x373, FK_PAIR, 0 }, { 0x376, 0x376, FK_DELTA, 1 },
	{ 0x37e, 0x37e, FK_SEP, 0 }, { 0x37f, 0x37f, FK_TO, 0x3f3 },
	{ 0x386, 0x386, FK_TO, 0x3ac }, { 0x387, 0x387, FK_SEP, 0 },
	{ 0x388, 0x38a, FK_DELTA, 37 }, { 0x38c, 0x38c, FK_TO, 0x3cc },
	{ 0x38e, 0x38f, FK_DELTA, 63 }, { 0x391, 0x3a1, FK_DELTA, 32 },
	{ 0x3a3, 0x3ab, FK_DELTA, 32 }, { 0x3c2, 0x3c2, FK_TO, 0x3c3 },
	{ 0x3cf, 0x3cf, FK_TO, 0x3d7 }, { 0x3d8, 0x3ef, FK_PAIR, 0 },
	{ 0x3f4, 0x3f4, FK_TO, 0x3b8 }, { 0x3f7, 0x3f7, FK_DELTA, 1 },
	{ 0x3f9, 0x3f9, FK_TO, 0x3f2 }, { 0x3fa, 0x3fa, FK_DELTA, 1 },
	{ 0x3fd, 0x3ff, FK_DELTA, -130 },
	/* Cyrillic and Cyrillic Supplement */
	{ 0x400, 0x40f, FK_DELTA, 80 }, { 0x410, 0x42f, FK_DELTA, 32 },
	{ 0x460, 0x481, FK_PAIR, 0 }, { 0x48a, 0x4bf, FK_PAIR, 0 },
	{ 0x4c0, 0x4c0, FK_TO, 0x4cf }, { 0x4c1, 0x4ce, FK_PAIR, 0 },
	{ 0x4d0, 0x52f, FK_PAIR, 0 },
	/* spaces, invisibles, General Punctuation, letterlike, CJK */
	{ 0x1680, 0x1680, FK_SEP, 0 }, { 0x180e, 0x180e, FK_DROP, 0 },
	{ 0x1e9e, 0x1e9e, FK_TO, FOLD_SS }, { 0x2000, 0x200a, FK_SEP, 0 },
	{ 0x200b, 0x200f, FK_DROP, 0 }, { 0x2010, 0x2029, FK_SEP, 0 },
	{ 0x202a, 0x202e, FK_DROP, 0 }, { 0x202f, 0x205f, FK_SEP, 0 },
	{ 0x2060, 0x206f, FK_DROP, 0 }, { 0x212a, 0x212a, FK_TO, 'k' },
	{ 0x212b, 0x212b, FK_TO, 0xe5 }, { 0x3000, 0x3003, FK_SEP, 0 },
	{ 0x3008, 0x3011, FK_SEP, 0 }, { 0xfeff, 0xfeff, FK_DROP, 0 },
};

static uint32_t
fold_cp(uint32_t c)
{
	const struct fold_range *r;
	size_t lo = 0, hi = sizeof(fold_ranges) / sizeof(fold_ranges[0]);

	while (lo < hi) {
		r = &fold_ranges[lo + (hi - lo) / 2];
		if (c < r->lo) {
			hi = (size_t)(r - fold_ranges);
			continue;
		}
		if (c > r->hi) {
			lo = (size_t)(r - fold_ranges) + 1;
			continue;
		}
		switch (r->kind) {
		case FK_SEP:
			return FOLD_SEP;
		case FK_DROP:
			return FOLD_DROP;
		case FK_DELTA:
			return (uint32_t)((int32_t)c + r->arg);
		case FK_PAIR:
			return ((c - r->lo) & 1) == 0 ? c + 1 : c;
		case FK_TO:
			return (uint32_t)r->arg;
		}
	}
	return c;
}

/* Decodes one UTF-8 sequence (shortest form, no surrogates); returns its
 * length, or 0 when s does not start a valid one. */
static size_t
u8_decode(const unsigned char *s, const unsigned char *end, uint32_t *cp_r)
{
	unsigned char lo = 0x80, hi = 0xbf;
	uint32_t cp;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		hi = s[0] == 0xed ? 0x9f : 0xbf;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if ((size_t)(end - s) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*cp_r = cp;
	return n;
}

static size_t
u8_encode(uint32_t c, char *o)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * Folds the ASCII byte c into out at o; returns the new length.  The
 * space is stored whether or not it is kept, so that letters take no
 * branch; o + *gap never passes the byte being read, as the separator
 * that set *gap was not written.
 */
static size_t
fold_ascii_byte(unsigned char c, char *out, size_t o, int *gap)
{
	c = fold_ascii[c];
	if (c == 0) {
		*gap = o > 0;
		return o;
	}
	out[o] = ' ';
	o += (size_t)*gap;
	out[o++] = (char)c;
	*gap = 0;
	return o;
}

size_t
rules_fold(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)in, *end = s + len;
	size_t o = 0, n;
	uint32_t f;
	int gap = 0, raw;

	while (s < end) {
		/* The fast path: most text is ASCII, one table lookup a
		 * byte, eight bytes at a time when they are all ASCII
		 * (written out: the compiler does not unroll at -O2). */
		while (end - s >= 8 && rules_ascii8(s)) {
			o = fold_ascii_byte(s[0], out, o, &gap);
			o = fold_ascii_byte(s[1], out, o, &gap);
			o = fold_ascii_byte(s[2], out, o, &gap);
			o = fold_ascii_byte(s[3], out, o, &gap);
			o = fold_ascii_byte(s[4], out, o, &gap);
			o = fold_ascii_byte(s[5], out, o, &gap);
			o = fold_ascii_byte(s[6], out, o, &gap);
			o = fold_ascii_byte(s[7], out, o, &gap);
			s += 8;
		}
		while (s < end && *s < 0x80)
			o = fold_ascii_byte(*s++, out, o, &gap);
		if (s == end)
			break;
		raw = 0;
		n = u8_decode(s, end, &f);
		if (n == 0) {
			raw = 1;	/* not UTF-8: copied as is */
			f = *s++;
		} else {
			f = fold_cp(f);
			s += n;
			if (f == FOLD_DROP)
				continue;
		}
		if (f == FOLD_SEP) {
			gap = o > 0;
			continue;
		}
		if (gap) {
			out[o++] = ' ';
			gap = 0;
		}
		if (raw) {
			out[o++] = (char)f;
		} else if (f == FOLD_SS) {
			out[o++] = 's';
			out[o++] = 's';
		} else {
			o += u8_encode(f, out + o);
		}
	}
	out[o] = '\0';
	return o;
}
