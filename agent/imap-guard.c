/*
 * imap-guard.c: a mailstream_low driver between libetpan's IMAP parser
 * and the real low stream (socket or TLS) that defuses three faults of
 * libetpan 1.9.4 (libetpan-notes.md sections 1, 5 and 8):
 *
 *  - end of file inside a literal on a plaintext socket makes the parser
 *    spin forever (the socket driver returns 0 for ever): the guard turns
 *    end of file into an error, so the command fails with STREAM;
 *  - a literal {N} the server announces is allocated whole before it is
 *    read ({4294967295} is a 4 GB malloc): the guard follows the lines
 *    and literals it passes up and refuses a literal over its limit
 *    before the parser sees the end of the announcing line;
 *  - "[PERMANENTFLAGS (\)]" (a list libetpan cannot parse) frees a NULL
 *    list (fixed upstream in 266d59f): imapsift never uses the code, so
 *    "[" [SP/TAB]* "PERMANENTFLAGS" (any case) outside literal data
 *    becomes "[XERMANENTFLAGS", an unknown code libetpan keeps as atom
 *    and text.  A match cut by a read is held back until it is decided.
 *
 * Which "{N}" libetpan reads as a literal follows its parser: in data
 * lines (FETCH, LIST, STATUS...) any "{N}" or "{-N}" outside a quoted
 * string (also mid-line, its Lotus Domino workaround); in status lines
 * ("tag|* OK/NO/BAD/BYE/PREAUTH", "+") only inside "[BADCHARSET (...";
 * elsewhere there the text runs to the end of the line.  Literal data
 * passes through unscanned, so a message body never trips the guard.
 *
 * Everything else (write, close, fd, cancel, certificate chain, idle)
 * goes to the inner driver; the outer timeout (mailstream_low_set_timeout
 * on the stream's low) is copied to the inner one before each call.  The
 * guard never keeps bytes it has decided on: a read returns at most what
 * libetpan asked for and reads no more from the inner stream than fits,
 * so an empty mailstream read buffer still means nothing is waiting but
 * what the fd (or GnuTLS) holds, as the IDLE code expects.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "agent/imap-private.h"

#define GUARD_CHUNK	8192
#define GUARD_HOLD	16		/* > strlen("PERMANENTFLAGS") - 1 */
#define GUARD_MIN_LIMIT	(1024 * 1024)
#define GUARD_HEADROOM	(64 * 1024)
#define GUARD_NUM_MAX	1000000000000000000ULL

/* Where the scanner is in the current line. */
enum guard_line {
	L_START,	/* first byte */
	L_TAG,		/* in the tag or "*" */
	L_KWSP,		/* spaces after it */
	L_KW,		/* the word after the tag */
	L_DATA,		/* a data line: literals anywhere */
	L_TEXTSP,	/* status line, before an optional "[" */
	L_CODESP,	/* after "[" */
	L_CODE,		/* the code's name */
	L_BCS,		/* after "BADCHARSET" */
	L_BCSL,		/* in BADCHARSET's list: literals */
	L_TEXT		/* free text to the end of the line */
};

/* Where the scanner is in a literal announcement "{N}". */
enum guard_brace {
	B_NONE,
	B_OPEN,		/* after "{" (spaces, "-") */
	B_NUM,		/* digits */
	B_NUMSP,	/* spaces after the digits */
	B_PLUS,		/* "{N+" */
	B_AFTER,	/* after "}" */
	B_CR		/* after "}" and CR */
};

struct guard {
	mailstream_low	*inner;
	size_t		 limit;
	int		 dead;
	char		 why[160];

	uint64_t	 lit;		/* literal bytes still to pass */
	enum guard_line	 line;
	enum guard_brace br;
	uint64_t	 num;
	int		 neg;
	int		 quote, esc;
	unsigned char	 prev;
	char		 word[12];
	size_t		 wlen;
	int		 pf;		/* 1: after "[", k > 1: k - 1 letters */
	size_t		 pfpos;		/* of the "P" in buf */

	size_t		 off, ready, held;
	unsigned char	 buf[GUARD_CHUNK + GUARD_HOLD];
};

static const char pf_word[] = "PERMANENTFLAGS";

static mailstream_low_driver guard_driver;

static int
is_sp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static unsigned char
upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Case-insensitive comparison of the collected word with w. */
static int
word_is(const struct guard *g, const char *w)
{
	size_t i;

	if (g->wlen != strlen(w))
		return 0;
	for (i = 0; i < g->wlen; i++)
		if (upper((unsigned char)g->word[i]) != (unsigned char)w[i])
			return 0;
	return 1;
}

static void
word_add(struct guard *g, unsigned char c)
{
	if (g->wlen < sizeof(g->word) - 1)
		g->word[g->wlen] = (char)c;
	g->wlen++;		/* longer than word[]: matches nothing */
}

/* Can a "{" at this point start a literal for libetpan? */
static int
literal_here(const struct guard *g)
{
	if (g->quote)
		return 0;
	if (g->line == L_DATA)
		return 1;
	/* BADCHARSET's astrings: after "(" or a space only. */
	return g->line == L_BCSL &&
	    (g->prev == '(' || is_sp(g->prev));
}

/* At the end of "{N": "}" announces a literal, anything else ends it. */
static int
brace_close(struct guard *g, unsigned char c)
{
	uint64_t n;

	if (c != '}') {
		g->br = B_NONE;
		if (c == '{' && literal_here(g)) {
			g->br = B_OPEN;
			g->num = 0;
			g->neg = 0;
		}
		return 0;
	}
	n = g->neg ? 0 : g->num;
	if (n > g->limit) {
		snprintf(g->why, sizeof(g->why), "server announced a literal "
		    "of %llu bytes, over the limit of %zu",
		    (unsigned long long)n, g->limit);
		return -1;
	}
	g->num = n;
	g->br = B_AFTER;
	return 0;
}

/*
 * One byte outside literal data through the "{N}" recogniser.  Returns
 * -1 to refuse, 1 when a literal starts at this byte (g->lit counts it),
 * 2 when the byte ends the announcement (the line goes on after the
 * literal), else 0.
 */
static int
brace_step(struct guard *g, unsigned char c)
{
	switch (g->br) {
	case B_NONE:
		break;
	case B_OPEN:
		if (is_sp(c))
			return 0;
		if (c == '-') {
			g->neg = 1;
			return 0;
		}
		if (c >= '0' && c <= '9') {
			g->num = c - '0';
			g->br = B_NUM;
			return 0;
		}
		g->br = B_NONE;
		break;
	case B_NUM:
		if (c >= '0' && c <= '9') {
			g->num = g->num >= GUARD_NUM_MAX ? GUARD_NUM_MAX :
			    g->num * 10 + (c - '0');
			return 0;
		}
		if (c == '+') {
			g->br = B_PLUS;
			return 0;
		}
		if (is_sp(c)) {
			g->br = B_NUMSP;
			return 0;
		}
		return brace_close(g, c);
	case B_NUMSP:
		if (is_sp(c))
			return 0;
		return brace_close(g, c);
	case B_PLUS:
		return brace_close(g, c);
	case B_AFTER:
		if (is_sp(c))
			return 0;
		if (c == '\r') {
			g->br = B_CR;
			return 0;
		}
		g->br = B_NONE;
		g->lit = g->num;
		if (c == '\n')
			return 2;
		return g->lit > 0 ? 1 : 0;	/* the Lotus form */
	case B_CR:
		g->br = B_NONE;
		if (c == '\n') {
			g->lit = g->num;
			return 2;
		}
		/* The literal started at the CR. */
		g->lit = g->num > 0 ? g->num - 1 : 0;
		return g->lit > 0 ? 1 : 0;
	}
	if (c == '{' && literal_here(g)) {
		g->br = B_OPEN;
		g->num = 0;
		g->neg = 0;
	}
	return 0;
}

/* Quoted strings of data lines and of BADCHARSET's list. */
static void
quote_step(struct guard *g, unsigned char c)
{
	if (g->esc)
		g->esc = 0;
	else if (g->quote && c == '\\')
		g->esc = 1;
	else if (c == '"')
		g->quote = !g->quote;
}

/* One byte outside literal data through the line classifier. */
static void
line_step(struct guard *g, unsigned char c)
{
	if (c == '\n') {
		g->line = L_START;
		g->quote = g->esc = 0;
		g->br = B_NONE;
		return;
	}
	switch (g->line) {
	case L_START:
		g->line = c == '+' ? L_TEXTSP : L_TAG;
		break;
	case L_TAG:
		if (is_sp(c))
			g->line = L_KWSP;
		break;
	case L_KWSP:
		if (is_sp(c))
			break;
		if (!is_alpha(c)) {
			g->line = L_DATA;
			quote_step(g, c);
			break;
		}
		g->wlen = 0;
		word_add(g, c);
		g->line = L_KW;
		break;
	case L_KW:
		if (is_alpha(c)) {
			word_add(g, c);
			break;
		}
		if (is_sp(c) && (word_is(g, "OK") || word_is(g, "NO") ||
		    word_is(g, "BAD") || word_is(g, "BYE") ||
		    word_is(g, "PREAUTH"))) {
			g->line = L_TEXTSP;
			break;
		}
		g->line = L_DATA;
		quote_step(g, c);
		break;
	case L_DATA:
		quote_step(g, c);
		break;
	case L_TEXTSP:
		if (is_sp(c))
			break;
		g->line = c == '[' ? L_CODESP : L_TEXT;
		g->wlen = 0;
		break;
	case L_CODESP:
	case L_CODE:
		if (is_sp(c) && g->line == L_CODESP)
			break;
		if (is_alpha(c) || c == '-' || (c >= '0' && c <= '9')) {
			word_add(g, c);
			g->line = L_CODE;
			break;
		}
		g->line = is_sp(c) && word_is(g, "BADCHARSET") ? L_BCS :
		    L_TEXT;
		break;
	case L_BCS:
		if (is_sp(c))
			break;
		g->line = c == '(' ? L_BCSL : L_TEXT;
		break;
	case L_BCSL:
		if (!g->quote && c == ')')
			g->line = L_TEXT;
		else
			quote_step(g, c);
		break;
	case L_TEXT:
		break;
	}
}

/* "[" [SP/TAB]* "PERMANENTFLAGS" (any case): the P becomes an X. */
static void
permflags_step(struct guard *g, unsigned char c, size_t i)
{
	size_t k;

	if (g->pf > 1) {
		k = (size_t)g->pf - 1;		/* letters matched */
		if (upper(c) == (unsigned char)pf_word[k]) {
			if (k + 1 == sizeof(pf_word) - 1) {
				g->buf[g->pfpos] = 'X';
				g->pf = 0;
			} else
				g->pf++;
			return;
		}
		g->pf = 0;
	}
	if (g->pf == 1) {
		if (is_sp(c))
			return;
		if (upper(c) == 'P') {
			g->pf = 2;
			g->pfpos = i;
			return;
		}
		g->pf = 0;
	}
	if (c == '[')
		g->pf = 1;
}

/* Scans buf[from..*to); -1 when the reply must be refused, *to then
 * being the refused "}" (what is before it may still go up). */
static int
scan(struct guard *g, size_t from, size_t *to_r)
{
	size_t i = from, k, to = *to_r;
	unsigned char c;
	int r;

	while (i < to) {
		if (g->lit > 0) {
			k = to - i;
			if ((uint64_t)k > g->lit)
				k = (size_t)g->lit;
			g->lit -= k;
			i += k;
			g->prev = 0;
			continue;
		}
		c = g->buf[i];
		if ((r = brace_step(g, c)) < 0) {
			*to_r = i;
			return -1;
		}
		if (r == 1) {
			g->pf = 0;
			continue;	/* this byte is literal data */
		}
		permflags_step(g, c, i);
		if (r == 0)
			line_step(g, c);
		g->prev = c;
		i++;
	}
	return 0;
}

static struct guard *
guard_of(mailstream_low *low)
{
	struct guard *g = low->data;

	g->inner->timeout = low->timeout;
	return g;
}

static ssize_t
guard_read(mailstream_low *low, void *out, size_t count)
{
	struct guard *g = guard_of(low);
	size_t want, end, n;
	ssize_t r;

	while (g->ready == 0) {
		if (g->dead)
			return -1;
		memmove(g->buf, g->buf + g->off, g->held);
		if (g->pf > 1)
			g->pfpos -= g->off;
		g->off = 0;
		want = GUARD_CHUNK;
		if (count > g->held && count - g->held < want)
			want = count - g->held;
		r = g->inner->driver->mailstream_read(g->inner,
		    g->buf + g->held, want);
		if (r <= 0) {
			/* 0 is end of file: libetpan 1.9.4 would spin on
			 * it in a plaintext literal. */
			if (r == 0)
				snprintf(g->why, sizeof(g->why),
				    "the server closed the connection");
			g->dead = 1;
			return -1;
		}
		end = g->held + (size_t)r;
		if (scan(g, g->held, &end) < 0)
			g->dead = 1;	/* after what came before the "}" */
		if (g->pf > 1 && g->dead) {
			g->ready = g->pfpos;	/* undecided: never passed */
			g->held = 0;
		} else if (g->pf > 1) {
			g->ready = g->pfpos;
			g->held = end - g->pfpos;
		} else {
			g->ready = end;
			g->held = 0;
		}
	}
	n = count < g->ready ? count : g->ready;
	memcpy(out, g->buf + g->off, n);
	g->off += n;
	g->ready -= n;
	return (ssize_t)n;
}

static ssize_t
guard_write(mailstream_low *low, const void *buf, size_t count)
{
	struct guard *g = guard_of(low);

	return g->inner->driver->mailstream_write(g->inner, buf, count);
}

static int
guard_close(mailstream_low *low)
{
	return mailstream_low_close(guard_of(low)->inner);
}

static int
guard_get_fd(mailstream_low *low)
{
	return mailstream_low_get_fd(guard_of(low)->inner);
}

static void
guard_free(mailstream_low *low)
{
	struct guard *g = low->data;

	mailstream_low_free(g->inner);
	free(g);
	free(low);
}

static void
guard_cancel(mailstream_low *low)
{
	mailstream_low_cancel(guard_of(low)->inner);
}

static struct mailstream_cancel *
guard_get_cancel(mailstream_low *low)
{
	return mailstream_low_get_cancel(guard_of(low)->inner);
}

static carray *
guard_get_certificate_chain(mailstream_low *low)
{
	return mailstream_low_get_certificate_chain(guard_of(low)->inner);
}

static int
guard_setup_idle(mailstream_low *low)
{
	return mailstream_low_setup_idle(guard_of(low)->inner);
}

static int
guard_unsetup_idle(mailstream_low *low)
{
	return mailstream_low_unsetup_idle(guard_of(low)->inner);
}

static int
guard_interrupt_idle(mailstream_low *low)
{
	return mailstream_low_interrupt_idle(guard_of(low)->inner);
}

static mailstream_low_driver guard_driver = {
	guard_read, guard_write, guard_close, guard_get_fd, guard_free,
	guard_cancel, guard_get_cancel, guard_get_certificate_chain,
	guard_setup_idle, guard_unsetup_idle, guard_interrupt_idle
};

struct _mailstream_low *
imap_guard_wrap(struct _mailstream_low *inner)
{
	mailstream_low *low;
	struct guard *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->inner = inner;
	g->limit = GUARD_MIN_LIMIT;
	if ((low = mailstream_low_new(g, &guard_driver)) == NULL) {
		free(g);
		return NULL;
	}
	mailstream_low_set_timeout(low, mailstream_low_get_timeout(inner));
	return low;
}

/* The guard of mi's stream, or NULL. */
static struct guard *
find(struct mailimap *mi)
{
	mailstream_low *low;

	if (mi == NULL || mi->imap_stream == NULL ||
	    (low = mailstream_get_low(mi->imap_stream)) == NULL ||
	    low->driver != &guard_driver)
		return NULL;
	return low->data;
}

int
imap_guard_install(struct mailimap *mi)
{
	mailstream_low *low;

	if (mi == NULL || mi->imap_stream == NULL)
		return -1;
	if (find(mi) != NULL)
		return 0;
	if ((low = imap_guard_wrap(mailstream_get_low(mi->imap_stream))) ==
	    NULL)
		return -1;
	mailstream_set_low(mi->imap_stream, low);
	return 0;
}

void
imap_guard_set_limit(struct mailimap *mi, size_t max_fetch_bytes)
{
	struct guard *g;

	if ((g = find(mi)) == NULL)
		return;
	g->limit = max_fetch_bytes > SIZE_MAX - GUARD_HEADROOM ? SIZE_MAX :
	    max_fetch_bytes + GUARD_HEADROOM;
	if (g->limit < GUARD_MIN_LIMIT)
		g->limit = GUARD_MIN_LIMIT;
}

const char *
imap_guard_error(struct mailimap *mi)
{
	struct guard *g;

	if ((g = find(mi)) == NULL || g->why[0] == '\0')
		return NULL;
	return g->why;
}
