/*
 * bounce-extract.c: what a bounce, complaint, auto-reply or receipt says
 * of the original message, from its MIME report parts and header fields.
 *
 * The sent store is asked about each candidate Message-ID in turn, so
 * the list is kept best first, without repeats, without the notice's own
 * Message-ID (some MTAs copy it into the report, and upstream corpora
 * reuse IDs), and short: RULES_BOUNCE_MAXIDS.  The original's sender,
 * recipient, subject and date are taken from the first quoted header
 * that has them; the failed recipient from the report's fields.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules-private.h"

#define ID_MAX		250	/* longest Message-ID taken */
#define ADDR_MAX	320	/* longest addr-spec taken */
#define TOKENS_MAX	32	/* <ids> read from one field */

/* Is s[0..n) shaped like a Message-ID: no blanks or brackets, and an
 * '@', or (mailers that leave it out) a dot in ten characters or more? */
static int
id_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || n > ID_MAX || s[0] == '@' || s[n - 1] == '@')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '<' || s[i] == '>' ||
		    (unsigned char)s[i] == 0x7f)
			return 0;
	return memchr(s, '@', n) != NULL ||
	    (n >= 10 && memchr(s, '.', n) != NULL);
}

static int
same_id(const char *a, const char *s, size_t n)
{
	return a != NULL && strlen(a) == n && strncasecmp(a, s, n) == 0;
}

int
rules_bounce_addid(struct rules_bounce *b, const struct rules_msg *msg,
    const char *s, size_t n, const char *where)
{
	struct rules_origid *o;
	size_t i;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '<')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '>' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (!id_ok(s, n) || same_id(msg->message_id, s, n) ||
	    b->nids >= RULES_BOUNCE_MAXIDS)
		return 0;
	for (i = 0; i < b->nids; i++)
		if (same_id(b->ids[i].id, s, n))
			return 0;
	if (b->ids == NULL) {
		b->ids = calloc(RULES_BOUNCE_MAXIDS, sizeof(*b->ids));
		if (b->ids == NULL)
			return -1;
	}
	o = &b->ids[b->nids];
	o->id = malloc(n + 1);
	if (o->id == NULL)
		return -1;
	memcpy(o->id, s, n);
	o->id[n] = '\0';
	o->where = where;
	b->nids++;
	return 0;
}

int
rules_bounce_addids(struct rules_bounce *b, const struct rules_msg *msg,
    const char *v, const char *where, int last_first)
{
	const char *tok[TOKENS_MAX], *lt, *gt;
	size_t len[TOKENS_MAX], n = 0, i, k;

	if (v == NULL)
		return 0;
	for (lt = strchr(v, '<'); lt != NULL && n < TOKENS_MAX;
	    lt = strchr(gt, '<')) {
		gt = strchr(lt, '>');
		if (gt == NULL)
			break;
		tok[n] = lt + 1;
		len[n++] = (size_t)(gt - lt - 1);
	}
	if (n == 0) {	/* a bare id, as some mailers write them */
		v += strspn(v, " \t");
		tok[0] = v;
		len[0] = strcspn(v, " \t,;");
		if (memchr(v, '@', len[0]) == NULL)
			return 0;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		k = last_first ? n - 1 - i : i;
		if (rules_bounce_addid(b, msg, tok[k], len[k], where) == -1)
			return -1;
	}
	return 0;
}

int
rules_bounce_hdrids(struct rules_bounce *b, const struct rules_msg *msg,
    const char *name, const char *where, int last_first)
{
	return rules_bounce_addids(b, msg, rules_msg_header(msg, name), where,
	    last_first);
}

static void
first_addr(void *ctx, const char *addr)
{
	char *out = ctx;

	if (out[0] == '\0' && strlen(addr) < ADDR_MAX)
		strcpy(out, addr);
}

/* Sets *dst to the first addr-spec in v, unless set; -1 when OOM. */
static int
set_addr(char **dst, const char *v)
{
	char a[ADDR_MAX] = "";

	if (*dst != NULL || v == NULL)
		return 0;
	rules_parse_addrs(v, first_addr, a);
	if (a[0] == '\0')
		return 0;
	*dst = strdup(a);
	return *dst == NULL ? -1 : 0;
}

int
rules_bounce_setorig(struct rules_bounce *b, const char *name, const char *v)
{
	int64_t t;

	if (strcasecmp(name, "from") == 0)
		return set_addr(&b->orig_from, v);
	if (strcasecmp(name, "to") == 0)
		return set_addr(&b->orig_to, v);
	if (strcasecmp(name, "date") == 0 && b->orig_date == 0 &&
	    rules_parse_date(v, &t) == 0)
		b->orig_date = t;
	if (strcasecmp(name, "subject") == 0 && b->orig_subject == NULL) {
		b->orig_subject = strdup(v);
		if (b->orig_subject == NULL)
			return -1;
	}
	return 0;
}

int
rules_bounce_setrcpt(struct rules_bounce *b, const char *v)
{
	const char *semi;

	if (v == NULL || b->final_rcpt != NULL)
		return 0;
	semi = strchr(v, ';');		/* "rfc822; addr" */
	if (semi != NULL && strchr(semi, '@') != NULL)
		v = semi + 1;
	return set_addr(&b->final_rcpt, v);
}

size_t
rules_bounce_ntext(const struct rules_msg *msg)
{
	return msg->nmime > 0 ? msg->nmime : msg->nparts;
}

const struct rules_part *
rules_bounce_text(const struct rules_msg *msg, size_t i)
{
	size_t k;

	k = msg->nmime > 0 ? msg->mime[i].text : i;
	if ((msg->nmime > 0 && msg->mime[i].nest != 0) || k == RULES_NOTEXT ||
	    msg->parts[k].kind == RULES_PART_SUBJECT)
		return NULL;
	return &msg->parts[k];
}

/* The entry of types naming x's type (a static string), or NULL. */
static const char *
is_type(const struct rules_mime *x, const char *const *types)
{
	size_t i;

	for (i = 0; types[i] != NULL; i++)
		if (strcmp(x->type, types[i]) == 0)
			return types[i];
	return NULL;
}

static const char *const msgs[] = {
	"message/rfc822", "message/global", NULL
};
static const char *const hdrs[] = {
	"text/rfc822-headers", "message/global-headers",
	"message/rfc822-headers", NULL
};

/* The ids and original fields in the fields of part x; 1 (and nothing
 * taken) when it is a bounce (from MAILER-DAEMON, or from postmaster
 * with a bounce subject): forwarded, wrapped or bounced in turn. */
static int
quoted_part(struct rules_bounce *b, const struct rules_msg *msg,
    const struct rules_mime *x, const char *where)
{
	const char *from = NULL, *subj = NULL;
	size_t i;

	for (i = 0; i < x->nhdrs; i++)
		if (strcasecmp(x->hdrs[i].name, "from") == 0 && from == NULL)
			from = x->hdrs[i].value;
		else if (strcasecmp(x->hdrs[i].name, "subject") == 0 &&
		    subj == NULL)
			subj = x->hdrs[i].value;
	if (rules_bounce_mailer(from) || (rules_bounce_daemon(from, NULL) &&
	    rules_bounce_subject(subj, RULES_BW_BOUNCE) != NULL))
		return 1;
	for (i = 0; i < x->nhdrs; i++) {
		if (strcasecmp(x->hdrs[i].name, "message-id") == 0 &&
		    rules_bounce_addids(b, msg, x->hdrs[i].value, where,
		    0) == -1)
			return -1;
		if (rules_bounce_setorig(b, x->hdrs[i].name,
		    x->hdrs[i].value) == -1)
			return -1;
		/* Hotmail names the complaining recipient here. */
		if (strcasecmp(x->hdrs[i].name, "x-hmxmroriginalrecipient") ==
		    0 && rules_bounce_setrcpt(b, x->hdrs[i].value) == -1)
			return -1;
	}
	return 0;
}

/*
 * Part i; when it is itself a bounce (some gateways wrap the DSN they
 * got in their own notice), the copies of the original inside it, two
 * levels down at most.  The walk lists a part's subtree right after it.
 */
static int
quoted(struct rules_bounce *b, const struct rules_msg *msg, size_t i,
    const char *where, unsigned depth)
{
	const struct rules_mime *x = &msg->mime[i], *y;
	size_t j;
	int r;

	r = quoted_part(b, msg, x, where);
	if (r != 1 || depth >= 2)
		return r == -1 ? -1 : 0;
	for (j = i + 1; j < msg->nmime && msg->mime[j].nest > x->nest; j++) {
		y = &msg->mime[j];
		if (y->nest == x->nest + 1 && (is_type(y, msgs) != NULL ||
		    is_type(y, hdrs) != NULL) &&
		    quoted(b, msg, j, where, depth + 1) == -1)
			return -1;
	}
	/* A quoted qmail or Exim bounce has its copy inline: the innermost
	 * original is in its text (read after any MIME copy). */
	for (j = i + 1; j < msg->nmime && msg->mime[j].nest > x->nest; j++) {
		y = &msg->mime[j];
		if (y->nest == x->nest + 1 && y->text != RULES_NOTEXT &&
		    msg->parts[y->text].kind != RULES_PART_SUBJECT &&
		    rules_bounce_inline_part(b, msg, &msg->parts[y->text]) ==
		    -1)
			return -1;
	}
	return 0;
}

int
rules_bounce_nested(struct rules_bounce *b, const struct rules_msg *msg,
    const char *where)
{
	const struct rules_mime *x;
	const char *take;
	size_t i, p;

	for (p = 0; p < 3; p++)
		for (i = 0; i < msg->nmime; i++) {
			x = &msg->mime[i];
			if (p == 0)
				take = is_type(x, msgs);
			else if (p == 1)
				take = is_type(x, hdrs);
			else
				take = strncmp(x->type, "text/", 5) == 0 &&
				    x->nhdrs > 0 && is_type(x, hdrs) == NULL ?
				    "inline headers" : NULL;
			if (x->nest == 0 && take != NULL && quoted(b, msg, i,
			    where != NULL ? where : take, 0) == -1)
				return -1;
		}
	return 0;
}

/* One field of a report part. */
static int
report_field(struct rules_bounce *b, const struct rules_msg *msg,
    const struct rules_header *h, unsigned *act)
{
	static const char *const rcpt[] = {
		"final-recipient", "original-rcpt-to", "original-recipient",
		"removed-recipient", NULL
	};
	size_t i;

	if (strcasecmp(h->name, "original-message-id") == 0)
		return rules_bounce_addids(b, msg, h->value,
		    "Original-Message-ID", 0);
	if (strcasecmp(h->name, "x-original-message-id") == 0 ||
	    strcasecmp(h->name, "message-id") == 0)
		return rules_bounce_addids(b, msg, h->value,
		    "delivery-status", 0);
	if (strcasecmp(h->name, "action") == 0) {
		*act |= rules_bounce_find(h->value, strlen(h->value),
		    "delayed") != NULL ? 1 : 2;
		return 0;
	}
	for (i = 0; rcpt[i] != NULL; i++)
		if (strcasecmp(h->name, rcpt[i]) == 0)
			return rules_bounce_setrcpt(b, h->value);
	return 0;
}

int
rules_bounce_fields(struct rules_bounce *b, const struct rules_msg *msg,
    int *delayed_r)
{
	static const char *const reports[] = {
		"message/delivery-status", "message/global-delivery-status",
		"message/feedback-report", "message/disposition-notification",
		"message/global-disposition-notification", NULL
	};
	const struct rules_mime *x;
	unsigned act = 0;	/* 1: a delayed Action seen, 2: another */
	size_t i, k;

	for (i = 0; i < msg->nmime; i++) {
		x = &msg->mime[i];
		if (x->nest != 0 || is_type(x, reports) == NULL)
			continue;
		/* Final-Recipient is the better name: read it first. */
		for (k = 0; k < x->nhdrs; k++)
			if (strcasecmp(x->hdrs[k].name, "final-recipient") ==
			    0 && rules_bounce_setrcpt(b, x->hdrs[k].value) ==
			    -1)
				return -1;
		for (k = 0; k < x->nhdrs; k++)
			if (report_field(b, msg, &x->hdrs[k], &act) == -1)
				return -1;
	}
	if (delayed_r != NULL)
		*delayed_r = act == 1;
	return 0;
}
