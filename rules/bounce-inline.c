/*
 * bounce-inline.c: headers of the original quoted in a bounce's text.
 *
 * A third of bounces carry no MIME copy of the original: qmail writes
 * "--- Below this line is a copy of the message." and the message after
 * it, Exim "------ This is a copy of the message, including all the
 * headers. ------", Exchange and Domino paste the header block, indented,
 * into text or HTML, others quote it with '>'.  So the text is read as
 * lines: a line "Name: value" after any run of blanks and '>' opens or
 * continues a block of fields, a deeper-indented line continues the
 * field before it (folding), and a blank or other line ends the block.
 * A block with a Message-ID gives a candidate and the original's From,
 * To, Subject and Date; a block that looks like a message header without
 * one still gives those, unless it is from a mail system (the header of
 * a bounce someone forwarded).  Inline DSN fields (Final-Recipient, Action)
 * are read the same way.  The failed recipient is the first address the
 * text names before the quoted header, other than the notice's own
 * sender and recipients and mail-system mailboxes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "rules/rules-private.h"

#define NAME_MAX_LEN	40	/* longest field name read */
#define VALUE_MAX	1024	/* longest unfolded value kept */
#define ADDR_MAX	320

enum { F_MSGID, F_FROM, F_TO, F_SUBJECT, F_DATE, F_RCPT, F_ACTION, F_N };

static const char *const fnames[F_N] = {
	"message-id", "from", "to", "subject", "date", "final-recipient",
	"action"
};

/* Names a message header has, to tell a quoted header from DSN fields
 * or a form filled in by a person. */
static const char *const known[] = {
	"received", "return-path", "message-id", "from", "to", "cc", "date",
	"subject", "mime-version", "content-type", "reply-to", "x-mailer",
	"user-agent", "in-reply-to", "references", "delivered-to",
	"dkim-signature", "sender", "content-transfer-encoding", NULL
};

struct field {
	size_t	 b, e;		/* value span in the text, 0 = none */
};

struct block {
	struct field f[F_N];
	int	 last;		/* field a continuation extends, or -1 */
	size_t	 base;		/* prefix length of the block's fields */
	size_t	 start;		/* offset of its first line */
	unsigned nknown;	/* message-header names seen */
	int	 open;
};

struct scan {
	struct rules_bounce *b;
	const struct rules_msg *msg;
	const char *t;
	size_t	 len;
	size_t	 quoted;	/* where the first quoted header starts */
	unsigned act;		/* 1: Action delayed seen, 2: another */
	int	 oom;
};

/* Length of a field name followed by ':' at s, or 0. */
static size_t
field_name(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n && i <= NAME_MAX_LEN; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			break;
	}
	if (i == 0 || i > NAME_MAX_LEN)
		return 0;
	for (k = i; k < n && (s[k] == ' ' || s[k] == '\t'); k++)
		continue;
	return k < n && s[k] == ':' && k - i <= 1 ? i : 0;
}

/* The unfolded value of field f, cut at VALUE_MAX, in out. */
static void
unfold(const struct scan *s, const struct field *f, char *out)
{
	size_t i, o = 0;
	int sp = 0, bol = 0;

	for (i = f->b; i < f->e && o + 1 < VALUE_MAX; i++) {
		char c = s->t[i];

		if (c == '\n')
			bol = 1;
		else if (c != ' ' && c != '\t' && c != '\r' && c != '>')
			bol = 0;
		if (c == '\r' || c == '\n' || c == '\t' || c == ' ' ||
		    (c == '>' && bol)) {
			sp = o > 0;
			continue;
		}
		if (sp)
			out[o++] = ' ';
		sp = 0;
		if (o + 1 < VALUE_MAX)
			out[o++] = c;
	}
	out[o] = '\0';
}

/* An RFC 2047 subject decoded in place, when libetpan can read it. */
static void
decode_2047(char *v)
{
	char *dec = NULL;
	size_t idx = 0;

	if (strstr(v, "=?") == NULL)
		return;
	if (mailmime_encoded_phrase_parse("utf-8", v, strlen(v), &idx,
	    "utf-8", &dec) == MAILIMF_NO_ERROR && dec != NULL &&
	    strlen(dec) < VALUE_MAX)
		strcpy(v, dec);
	free(dec);
}

/* Is the block the header of a bounce (forwarded, or bounced in turn):
 * from MAILER-DAEMON, or from postmaster with a bounce subject? */
static int
bounce_header(const struct scan *s, const struct block *k)
{
	char from[VALUE_MAX], subj[VALUE_MAX];

	if (k->f[F_FROM].e == 0)
		return 0;
	unfold(s, &k->f[F_FROM], from);
	subj[0] = '\0';
	if (k->f[F_SUBJECT].e > 0)
		unfold(s, &k->f[F_SUBJECT], subj);
	return rules_bounce_mailer(from) || (rules_bounce_daemon(from, NULL) &&
	    rules_bounce_subject(subj, RULES_BW_BOUNCE) != NULL);
}

/* Takes what a finished block says. */
static void
block_end(struct scan *s, struct block *k)
{
	char v[VALUE_MAX];
	int i, hdr;

	if (!k->open)
		return;
	k->open = 0;
	hdr = k->f[F_MSGID].e > 0 || (k->f[F_FROM].e > 0 && k->nknown >= 3);
	if (hdr && s->quoted == (size_t)-1)
		s->quoted = k->start;
	if (hdr && bounce_header(s, k))
		return;
	for (i = 0; i < F_N && !s->oom; i++) {
		if (k->f[i].e == 0 || (i >= F_FROM && i <= F_DATE && !hdr))
			continue;
		unfold(s, &k->f[i], v);
		if (i == F_MSGID)
			s->oom = rules_bounce_addids(s->b, s->msg, v,
			    "inline headers", 0) == -1;
		else if (i == F_RCPT)
			s->oom = rules_bounce_setrcpt(s->b, v) == -1;
		else if (i == F_ACTION)
			s->act |= strncasecmp(v, "delayed", 7) == 0 ? 1 : 2;
		else {
			if (i == F_SUBJECT)
				decode_2047(v);
			s->oom = rules_bounce_setorig(s->b, fnames[i], v) ==
			    -1;
		}
	}
}

/* The line at off, a field "Name: value" from p, nlen the name's
 * length, end the line's end: opens the block or adds to it. */
static void
block_field(struct scan *s, struct block *k, size_t off, size_t p,
    size_t nlen, size_t end)
{
	const char *name = s->t + p;
	size_t i;

	if (!k->open) {
		memset(k, 0, sizeof(*k));
		k->open = 1;
		k->base = p - off;
		k->start = off;
	}
	k->last = -1;
	for (i = 0; known[i] != NULL; i++)
		if (strlen(known[i]) == nlen &&
		    strncasecmp(name, known[i], nlen) == 0)
			k->nknown++;
	for (i = 0; i < F_N; i++)
		if ((strlen(fnames[i]) == nlen &&
		    strncasecmp(name, fnames[i], nlen) == 0) ||
		    (i == F_MSGID && nlen > 10 &&
		    strncasecmp(name + nlen - 10, "message-id", 10) == 0))
			break;
	if (i == F_N || k->f[i].e != 0)
		return;
	for (p += nlen; s->t[p] != ':'; p++)	/* "Name :" */
		continue;
	k->f[i].b = p + 1;
	k->f[i].e = end;
	k->last = (int)i;
}

/* Reads the blocks of fields in the text. */
static void
scan_blocks(struct scan *s)
{
	struct block k;
	const char *nl;
	size_t off, end, p, nlen, n;

	n = s->len < RULES_BOUNCE_SCAN ? s->len : RULES_BOUNCE_SCAN;
	memset(&k, 0, sizeof(k));
	for (off = 0; off < n && !s->oom; off = end + 1) {
		nl = memchr(s->t + off, '\n', n - off);
		end = nl == NULL ? n : (size_t)(nl - s->t);
		for (p = off; p < end && (s->t[p] == ' ' || s->t[p] == '\t' ||
		    s->t[p] == '>'); p++)
			continue;
		if (p == end || (p + 1 == end && s->t[p] == '\r')) {
			block_end(s, &k);
			continue;
		}
		if (k.open && p - off > k.base) {	/* folded */
			if (k.last >= 0)
				k.f[k.last].e = end;
			continue;
		}
		nlen = field_name(s->t + p, end - p);
		if (nlen == 0) {
			block_end(s, &k);
			continue;
		}
		if (k.open && p - off != k.base)
			block_end(s, &k);
		block_field(s, &k, off, p, nlen, end);
	}
	block_end(s, &k);
}

static int
addr_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static void
has_addr(void *ctx, const char *addr)
{
	const char **a = ctx;

	if (strcmp(a[0], addr) == 0)
		a[1] = addr;
}

/* Is addr the notice's own sender or recipient, a mail system, or a
 * Message-ID? */
static int
rcpt_skip(const struct scan *s, const char *addr)
{
	static const char *const sys[] = {
		"mailer-daemon@", "postmaster@", "abuse@", "root@", NULL
	};
	const struct rules_msg *msg = s->msg;
	const char *a[2];
	size_t i;

	for (i = 0; sys[i] != NULL; i++)
		if (strncmp(addr, sys[i], strlen(sys[i])) == 0)
			return 1;
	if (msg->from != NULL && strcmp(msg->from, addr) == 0)
		return 1;
	if (msg->message_id != NULL && strcasecmp(msg->message_id, addr) == 0)
		return 1;
	for (i = 0; i < s->b->nids; i++)
		if (strcasecmp(s->b->ids[i].id, addr) == 0)
			return 1;
	a[0] = addr;
	a[1] = NULL;
	rules_parse_addrs(rules_msg_header(msg, "to"), has_addr, a);
	rules_parse_addrs(rules_msg_header(msg, "delivered-to"), has_addr, a);
	return a[1] != NULL;
}

/* The first address in t[0..n) that rcpt_skip lets through. */
static int
scan_rcpt(struct scan *s, size_t n)
{
	char a[ADDR_MAX];
	const char *t = s->t, *at;
	size_t b, e, i;

	for (at = memchr(t, '@', n); at != NULL;
	    at = memchr(at + 1, '@', n - (size_t)(at + 1 - t))) {
		for (b = (size_t)(at - t); b > 0 && addr_char(t[b - 1]); b--)
			continue;
		for (e = (size_t)(at - t) + 1; e < n && (addr_char(t[e]) &&
		    t[e] != '@' && t[e] != '\''); e++)
			continue;
		while (e > b && (t[e - 1] == '.' || t[e - 1] == '-'))
			e--;
		if (b == (size_t)(at - t) || e - b >= ADDR_MAX ||
		    memchr(at + 1, '.', (size_t)(t + e - at - 1)) == NULL)
			continue;
		for (i = 0; i < e - b; i++)
			a[i] = (char)(t[b + i] >= 'A' && t[b + i] <= 'Z' ?
			    t[b + i] | 0x20 : t[b + i]);
		a[i] = '\0';
		if (!rcpt_skip(s, a))
			return rules_bounce_setrcpt(s->b, a);
	}
	return 0;
}

/*
 * Amazon SES notifications (JSON) name the original in "commonHeaders"
 * ("messageId") and in their copy of its header fields ("name":
 * "Message-ID", "value": ...).  SNS wraps them in a JSON string, so the
 * quotes may be escaped, and either may be spaced or pretty-printed: a
 * name is taken between quotes, and its value is the next <bracketed>
 * string within a few bytes, or a bare string right after the colon
 * (SES's own messageId, which rules_bounce_addid turns down).
 */
static int
json_value(struct scan *s, const char *v, const char *e)
{
	const char *lt, *gt, *q;
	size_t w = (size_t)(e - v) < 48 ? (size_t)(e - v) : 48;

	lt = memchr(v, '<', w);
	if (lt != NULL && (gt = memchr(lt, '>', (size_t)(e - lt))) != NULL)
		return rules_bounce_addid(s->b, s->msg, lt + 1,
		    (size_t)(gt - lt - 1), "SES notification");
	while (v < e && strchr("\\\" \t:", *v) != NULL)
		v++;
	for (q = v; q < e && *q != '"' && *q != '\\' && *q != ',' &&
	    *q != '}'; q++)
		continue;
	return q > v ? rules_bounce_addid(s->b, s->msg, v, (size_t)(q - v),
	    "SES notification") : 0;
}

static int
scan_json(struct scan *s)
{
	static const char *const keys[] = { "messageId", "Message-ID", NULL };
	const char *p, *e;
	size_t i, n, k;

	n = s->len < RULES_BOUNCE_SCAN ? s->len : RULES_BOUNCE_SCAN;
	if (rules_bounce_find(s->t, n, "notificationType") == NULL)
		return 0;
	e = s->t + n;
	for (i = 0; keys[i] != NULL; i++) {
		k = strlen(keys[i]);
		for (p = rules_bounce_find(s->t, n, keys[i]); p != NULL;
		    p = rules_bounce_find(p + k, (size_t)(e - p - k),
		    keys[i])) {
			if (p == s->t || p[-1] != '"' || p + k >= e ||
			    (p[k] != '"' && p[k] != '\\'))
				continue;
			if (json_value(s, p + k, e) == -1)
				return -1;
		}
	}
	return 0;
}

int
rules_bounce_inline(struct rules_bounce *b, const struct rules_msg *msg,
    int want_rcpt, int *delayed_r)
{
	struct scan s;
	const struct rules_part *p;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.b = b;
	s.msg = msg;
	for (i = 0; i < rules_bounce_ntext(msg) && !s.oom; i++) {
		p = rules_bounce_text(msg, i);
		if (p == NULL)
			continue;
		s.t = p->text;
		s.len = p->len;
		s.quoted = (size_t)-1;
		scan_blocks(&s);
		if (!s.oom)
			s.oom = scan_json(&s) == -1;
		if (!s.oom && want_rcpt && b->final_rcpt == NULL)
			s.oom = scan_rcpt(&s, s.quoted < s.len ? s.quoted :
			    s.len < RULES_BOUNCE_SCAN ? s.len :
			    RULES_BOUNCE_SCAN) == -1;
	}
	if (delayed_r != NULL && s.act != 0)
		*delayed_r = s.act == 1;
	return s.oom ? -1 : 0;
}


int
rules_bounce_inline_part(struct rules_bounce *b,
    const struct rules_msg *msg, const struct rules_part *p)
{
	struct scan s;

	memset(&s, 0, sizeof(s));
	s.b = b;
	s.msg = msg;
	s.t = p->text;
	s.len = p->len;
	s.quoted = (size_t)-1;
	scan_blocks(&s);
	return s.oom ? -1 : 0;
}
