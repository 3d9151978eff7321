/*
 * test_imap_utf7.c: the modified UTF-7 mailbox name codec
 * (agent/imap-utf7.c, RFC 3501 section 5.1.3): a table of pairs that
 * must convert both ways, then inputs each direction must refuse.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/imap.h"
#include "tests/unit/test.h"

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))

struct pair {
	const char *utf8;
	const char *wire;
};

static const struct pair pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "&", "&-" },
	{ "&&", "&-&-" },
	{ "Tom & Jerry", "Tom &- Jerry" },
	{ "a&b-c", "a&-b-c" },
	{ "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },
	{ "Gel\xc3\xb6schte Elemente", "Gel&APY-schte Elemente" },
	/* RFC 3501's example: ~peter/mail/<taipei>/<japanese> */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "\xe2\x98\xba!", "&Jjo-!" },
	{ "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe7\xac\xa6",
	  "&Ti1lh1tXeyY-" },
	{ "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	  "\xd0\xbc\xd0\xb8\xd1\x80", "&BB8EQAQ4BDIENQRC- &BDwEOARA-" },
	{ "\xc3\xa9&\xc3\xbc", "&AOk-&-&APw-" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },		/* U+1F600, surrogates */
	{ "\xef\xbf\xbf", "&,,8-" },			/* U+FFFF: "/" is "," */
	{ "a\tb", "a&AAk-b" },				/* controls are shifted */
	{ "Junk/Spam", "Junk/Spam" },
};

/* Wire forms the decoder must refuse. */
static const char *const bad_wire[] = {
	"&",			/* unterminated */
	"&Jjo",			/* no closing "-" */
	"&AGE-",		/* "a" in base64: must be literal */
	"&A-",			/* 6 bits: no whole character */
	"&2D3e-",		/* high surrogate alone */
	"&3gA-",		/* low surrogate alone */
	"&Jjp-",		/* non-zero padding bits */
	"&Jj!-",		/* not base64 */
	"&Jjo/-",		/* "/" is "," in modified base64 */
	"&Jjo=-",		/* no padding */
	"a\001b",		/* raw control */
	"caf\xc3\xa9",		/* raw 8-bit */
	"&AOkA6Q-x&-&2D3eAA",	/* last sequence unterminated */
};

/* UTF-8 the encoder must refuse. */
static const char *const bad_utf8[] = {
	"\xc3",			/* truncated */
	"a\xc3(",		/* bad continuation */
	"\xc0\xaf",		/* overlong "/" */
	"\xe0\x80\xaf",		/* overlong */
	"\xed\xa0\x80",		/* surrogate U+D800 */
	"\xf4\x90\x80\x80",	/* beyond U+10FFFF */
	"\xff",
	"\x80",			/* stray continuation */
};

static void
test_encode(void)
{
	size_t i;
	char *w;

	for (i = 0; i < NROWS(pairs); i++) {
		w = imap_utf7_encode(pairs[i].utf8);
		T_STREQ(w, pairs[i].wire);
		free(w);
	}
}

static void
test_decode(void)
{
	size_t i;
	char *u;

	for (i = 0; i < NROWS(pairs); i++) {
		u = imap_utf7_decode(pairs[i].wire);
		T_STREQ(u, pairs[i].utf8);
		free(u);
	}
}

static void
test_bad_wire(void)
{
	size_t i;
	char *u;

	for (i = 0; i < NROWS(bad_wire); i++) {
		errno = 0;
		u = imap_utf7_decode(bad_wire[i]);
		if (u != NULL)
			T_FAILF("decoded bad row %zu to \"%s\"", i, u);
		else
			T_INTEQ(errno, EILSEQ);
		free(u);
	}
}

static void
test_bad_utf8(void)
{
	size_t i;
	char *w;

	for (i = 0; i < NROWS(bad_utf8); i++) {
		errno = 0;
		w = imap_utf7_encode(bad_utf8[i]);
		if (w != NULL)
			T_FAILF("encoded bad row %zu to \"%s\"", i, w);
		else
			T_INTEQ(errno, EILSEQ);
		free(w);
	}
}

/* Every BMP character and a few astral ones survive a round trip. */
static void
test_roundtrip(void)
{
	char in[8], *w, *u;
	unsigned c, bad = 0;

	for (c = 1; c < 0x110000; c += c < 0x10000 ? 1 : 0x1001) {
		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		if (c < 0x80) {
			in[0] = (char)c, in[1] = '\0';
		} else if (c < 0x800) {
			in[0] = (char)(0xc0 | c >> 6);
			in[1] = (char)(0x80 | (c & 0x3f)), in[2] = '\0';
		} else if (c < 0x10000) {
			in[0] = (char)(0xe0 | c >> 12);
			in[1] = (char)(0x80 | ((c >> 6) & 0x3f));
			in[2] = (char)(0x80 | (c & 0x3f)), in[3] = '\0';
		} else {
			in[0] = (char)(0xf0 | c >> 18);
			in[1] = (char)(0x80 | ((c >> 12) & 0x3f));
			in[2] = (char)(0x80 | ((c >> 6) & 0x3f));
			in[3] = (char)(0x80 | (c & 0x3f)), in[4] = '\0';
		}
		w = imap_utf7_encode(in);
		u = w != NULL ? imap_utf7_decode(w) : NULL;
		if (u == NULL || strcmp(u, in) != 0)
			bad++;
		free(w);
		free(u);
	}
	T_INTEQ(bad, 0);
}

int
main(void)
{
	T_RUN(test_encode);
	T_RUN(test_decode);
	T_RUN(test_bad_wire);
	T_RUN(test_bad_utf8);
	T_RUN(test_roundtrip);
	return t_done();
}
