/*
 * classify.c: the verdict.
 *
 * rules_classify() is the module's one pure entry point: raw bytes in, a
 * verdict with every indicator found and the reasons out.  It parses the
 * message (message.c), runs each extractor over every piece of visible
 * text and every HTML link (extract.c), looks each indicator up in the
 * rule set (ruleset.c), and adds the weights of the distinct listed
 * entries that matched.  Junk needs score >= threshold and a sender who
 * is not on an allow list.  Each distinct entry counts once, however
 * often the message repeats it, so a spam cannot outweigh the allow list
 * or inflate the score by repetition, and a ham quoting one listed URL ten
 * times is no worse than quoting it once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules-private.h"

struct cls {
	const struct rules_set *rs;
	const struct rules_set *learned;	/* user->learned, or NULL */
	const struct rules_limits *lim;
	const struct rules_user *user;
	struct rules_verdict *v;
	size_t	 cap;		/* allocated v->found */
	const char *where;	/* part being scanned */
	unsigned nurls, nphones;
	int	 urls_full, phones_full;	/* a new one came past the cap */
	int	 oom;
};

static const char *class_names[] = {
	"clean", "junk", "bounce", "backscatter", "bounce-unknown"
};
static const char *kind_names[] = {
	"url", "phone", "phrase", "regex", "allow"
};

const char *
rules_class_name(enum rules_class cls)
{
	if ((unsigned)cls >= sizeof(class_names) / sizeof(class_names[0]))
		return "?";
	return class_names[cls];
}

const char *
rules_kind_name(enum rules_kind kind)
{
	if ((unsigned)kind >= RULES_NKINDS)
		return "?";
	return kind_names[kind];
}

static char *
dupn(const char *s, size_t n)
{
	char *p;

	p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Is value already recorded for this kind?  Keeps the finding list (and
 * explain output) to one row per distinct indicator. */
static int
seen(const struct cls *c, enum rules_kind kind, const char *value)
{
	size_t i;

	for (i = 0; i < c->v->nfound; i++)
		if (c->v->found[i].kind == kind &&
		    strcmp(c->v->found[i].value, value) == 0)
			return 1;
	return 0;
}

static void
add(struct cls *c, enum rules_kind kind, const char *value, size_t vlen,
    const char *via, size_t vialen, const struct rules_hit *hit)
{
	struct rules_finding *f;

	if (c->oom)
		return;
	/* Most messages have a few findings: 8 (640 bytes) stay within
	 * malloc's per-thread cache, 16 did not. */
	if (rules_grow_from((void **)&c->v->found, &c->cap, c->v->nfound + 1,
	    sizeof(*f), 8) == -1) {
		c->oom = 1;
		return;
	}
	f = &c->v->found[c->v->nfound];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->where = c->where;
	f->value = dupn(value, vlen);
	if (via != NULL)
		f->via = dupn(via, vialen);
	if (f->value == NULL || (via != NULL && f->via == NULL)) {
		free(f->value);
		free(f->via);
		c->oom = 1;
		return;
	}
	if (hit != NULL) {
		f->matched = 1;
		f->hit = *hit;
	}
	c->v->nfound++;
}

/* A URL and its host (rules_url_host). */
static void
on_host(void *ctx, const char *url, size_t len, const char *host,
    const char *where)
{
	struct cls *c = ctx;
	struct rules_hit hit;

	if (c->urls_full || seen(c, RULES_DOMAIN, host))
		return;
	if (c->nurls >= c->lim->max_urls) {
		c->urls_full = 1;
		return;
	}
	c->nurls++;
	c->where = where;
	if (rules_match_domain(c->rs, host, &hit) ||
	    rules_match_domain(c->learned, host, &hit))
		add(c, RULES_DOMAIN, host, strlen(host), url, len, &hit);
	else
		add(c, RULES_DOMAIN, host, strlen(host), url, len, NULL);
}

static void
on_url(void *ctx, const char *url, size_t len, const char *where)
{
	struct cls *c = ctx;
	char host[RULES_HOST_MAX];

	if (c->urls_full || rules_url_host(url, len, host, sizeof(host)) == -1)
		return;
	on_host(c, url, len, host, where);
}

static void
on_phone(void *ctx, const char *digits, const char *orig, size_t olen,
    const char *where)
{
	struct cls *c = ctx;
	struct rules_hit hit;

	if (c->phones_full || seen(c, RULES_PHONE, digits))
		return;
	if (c->nphones >= c->lim->max_phones) {
		c->phones_full = 1;
		return;
	}
	c->nphones++;
	c->where = where;
	if (rules_match_phone(c->rs, digits, &hit) ||
	    rules_match_phone(c->learned, digits, &hit))
		add(c, RULES_PHONE, digits, strlen(digits), orig, olen, &hit);
	else
		add(c, RULES_PHONE, digits, strlen(digits), orig, olen, NULL);
}

static void
on_phrase(void *ctx, const struct rules_hit *hit)
{
	struct cls *c = ctx;

	if (seen(c, RULES_PHRASE, hit->entry))
		return;
	add(c, RULES_PHRASE, hit->entry, strlen(hit->entry), NULL, 0, hit);
}

static void
on_regex(void *ctx, const struct rules_hit *hit, const char *m, size_t mlen)
{
	struct cls *c = ctx;
	size_t i;

	/* One row per rule: a rule is the indicator, the match its via. */
	for (i = 0; i < c->v->nfound; i++)
		if (c->v->found[i].kind == RULES_REGEX &&
		    c->v->found[i].hit.file == hit->file &&
		    c->v->found[i].hit.line == hit->line)
			return;
	c->where = NULL;
	add(c, RULES_REGEX, hit->entry, strlen(hit->entry), m,
	    mlen > 80 ? 80 : mlen, hit);
}

/* rules_scan's per-part state: the caller's callbacks and the part. */
struct scan {
	const struct rules_scan_cb *cb;
	void	*ctx;
	const char *where;
};

/* URLs carried inside a URL (a redirector's target, a link wrapper's
 * original), each handed over after the one that carries it: a wrapper
 * may wrap a redirector, so a few levels are followed. */
#define INNER_DEPTH	4

static void
scan_inner(struct scan *s, const char *url, size_t len)
{
	char	 in[INNER_DEPTH][RULES_URL_INNER_MAX];
	size_t	 n;
	int	 d;

	for (d = 0; d < INNER_DEPTH; d++) {
		n = rules_url_inner(url, len, in[d], sizeof(in[d]));
		if (n == 0)
			return;
		s->cb->url(s->ctx, in[d], n, s->where);
		url = in[d];
		len = n;
	}
}

static void
scan_url(void *ctx, const char *url, size_t len)
{
	struct scan *s = ctx;

	s->cb->url(s->ctx, url, len, s->where);
	scan_inner(s, url, len);
}

static void
scan_url_host(void *ctx, const char *url, size_t len, const char *host)
{
	struct scan *s = ctx;

	if (s->cb->host != NULL)
		s->cb->host(s->ctx, url, len, host, s->where);
	else
		s->cb->url(s->ctx, url, len, s->where);
	scan_inner(s, url, len);
}

static void
scan_phone(void *ctx, const char *digits, const char *orig, size_t olen)
{
	struct scan *s = ctx;

	s->cb->phone(s->ctx, digits, orig, olen, s->where);
}

void
rules_scan(const struct rules_msg *msg, unsigned default_cc,
    const struct rules_scan_cb *cb, void *ctx)
{
	const struct rules_part *p;
	const char *url;
	struct scan s;
	size_t i, len;
	int rank;

	s.cb = cb;
	s.ctx = ctx;
	/* Links from HTML attributes, a rank at a time (a message padded
	 * with other URLs keeps its links first in line for the limits): a
	 * tel:/fax:/callto: link is a number, anything else with a host is
	 * a URL. */
	for (rank = RULES_LINK_ANCHOR; rank < RULES_LINK_TEXT; rank++)
		for (i = 0; i < msg->nlinks; i++) {
			if ((int)msg->links[i].rank != rank)
				continue;
			url = msg->links[i].url;
			len = strlen(url);
			s.where = msg->parts[msg->links[i].part].where;
			if (strncasecmp(url, "tel:", 4) == 0 ||
			    strncasecmp(url, "fax:", 4) == 0 ||
			    strncasecmp(url, "callto:", 7) == 0)
				rules_find_phones(url, len, default_cc,
				    scan_phone, &s);
			else if (strncasecmp(url, "mailto:", 7) != 0 &&
			    strncasecmp(url, "cid:", 4) != 0 && url[0] != '#')
				scan_url(&s, url, len);
		}
	for (i = 0; i < msg->nparts; i++) {
		p = &msg->parts[i];
		if (p->kind == RULES_PART_SUBJECT)
			continue;
		s.where = p->where;
		rules_find_url_hosts(p->text, p->len, scan_url_host, &s);
		rules_find_phones(p->text, p->len, default_cc, scan_phone, &s);
	}
}

/* Phrases are matched per part so that none spans two parts. */
static int
scan_phrases(struct cls *c, const struct rules_msg *m)
{
	const struct rules_part *p;
	char *fold = NULL, *q;
	size_t foldsz = 0, n, i;

	/* With no phrases listed, rules_match_phrases reports nothing:
	 * folding the text for it would be wasted. */
	if (rules_count(c->rs, RULES_PHRASE) == 0 &&
	    rules_count(c->learned, RULES_PHRASE) == 0)
		return 0;
	for (i = 0; i < m->nparts; i++) {
		p = &m->parts[i];
		if (foldsz < p->len + 1) {
			q = realloc(fold, p->len + 1);
			if (q == NULL) {
				free(fold);
				return -1;
			}
			fold = q;
			foldsz = p->len + 1;
		}
		c->where = p->where;
		n = rules_fold(p->text, p->len, fold);
		rules_match_phrases(c->rs, fold, n, on_phrase, c);
		if (c->learned != NULL)
			rules_match_phrases(c->learned, fold, n, on_phrase, c);
	}
	free(fold);
	return 0;
}

static int
append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (rules_grow((void **)buf, cap, *len + n + 1, 1) == -1)
		return -1;
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

/* Is found[i] a match of a listed entry that an earlier finding already
 * matched (two hosts under one listed domain)?  Such a repeat neither
 * scores nor shows in the reasons again. */
static int
repeat_hit(const struct rules_verdict *v, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (v->found[j].matched &&
		    v->found[j].kind == v->found[i].kind &&
		    v->found[j].hit.entry == v->found[i].hit.entry)
			return 1;
	return 0;
}

/* Builds "kind:value via x; ..." from the matched findings and notes. */
static int
reasons(struct rules_verdict *v, const char *allowed)
{
	char *buf = NULL, tmp[512];
	size_t len = 0, cap = 0, i;
	const struct rules_finding *f;
	int rc = 0;

	rc |= append(&buf, &len, &cap, "");
	for (i = 0; i < v->nfound; i++) {
		f = &v->found[i];
		if (!f->matched || f->kind == RULES_ALLOW || repeat_hit(v, i))
			continue;
		if (f->kind == RULES_PHRASE)
			snprintf(tmp, sizeof(tmp), "%sphrase:\"%s\"",
			    len ? "; " : "", f->value);
		else if (f->kind == RULES_REGEX)
			snprintf(tmp, sizeof(tmp), "%sregex:%s:%u",
			    len ? "; " : "", f->hit.file, f->hit.line);
		else if (f->kind == RULES_DOMAIN)
			snprintf(tmp, sizeof(tmp), "%surl:%s via %s",
			    len ? "; " : "", f->hit.entry, f->via);
		else
			snprintf(tmp, sizeof(tmp), "%sphone:%s",
			    len ? "; " : "", f->value);
		rc |= append(&buf, &len, &cap, tmp);
	}
	if (allowed != NULL) {
		snprintf(tmp, sizeof(tmp), "%sallow:%s", len ? "; " : "",
		    allowed);
		rc |= append(&buf, &len, &cap, tmp);
	}
	if (rc != 0) {
		free(buf);
		return -1;
	}
	v->reasons = buf;
	return 0;
}

/* Adds "; extra" to the verdict's reasons.  Returns 0, or -1 (the
 * verdict freed) when out of memory. */
static int
append_reason(struct rules_verdict *v, const char *extra)
{
	size_t len = strlen(v->reasons), cap = len + 1;

	if (append(&v->reasons, &len, &cap, len ? "; " : "") == -1 ||
	    append(&v->reasons, &len, &cap, extra) == -1) {
		rules_verdict_free(v);
		return -1;
	}
	return 0;
}

static int
judge(struct cls *c, const char *raw, size_t len)
{
	static const struct rules_scan_cb cb = { on_url, on_phone, on_host };
	struct rules_verdict *v = c->v;
	const struct rules_msg *m = v->msg;
	struct rules_hit hit;
	const char *allowed = NULL;
	size_t i;

	rules_scan(m, rules_default_cc(c->rs), &cb, c);
	if (scan_phrases(c, m) == -1)
		return -1;
	rules_match_regex(c->rs, m, raw,
	    len < c->lim->max_parse_bytes ? len : c->lim->max_parse_bytes,
	    c->lim, on_regex, c);
	if (m->from != NULL && rules_match_allow(c->rs, m->from, &hit)) {
		c->where = "from";
		add(c, RULES_ALLOW, m->from, strlen(m->from), NULL, 0, &hit);
		allowed = hit.entry;
	} else if (m->from != NULL && c->user != NULL &&
	    c->user->correspondent != NULL &&
	    c->user->correspondent(c->user->ctx, m->from) == 1)
		allowed = "correspondent";
	if (c->oom)
		return -1;
	for (i = 0; i < v->nfound; i++)
		if (v->found[i].matched && v->found[i].kind != RULES_ALLOW &&
		    !repeat_hit(v, i))
			v->score += v->found[i].hit.weight;
	if (allowed == NULL && v->score > 0 &&
	    v->score >= rules_threshold(c->rs))
		v->cls = RULES_JUNK;
	return reasons(v, allowed);
}

/*
 * Ends the reasons in "truncated" when a limit bit: the message was cut
 * (message.c) or URLs or numbers past the caps were left out (c, or NULL
 * before the scan).  Every verdict says so, whichever way it was reached.
 * Returns 0, or -1 (the verdict freed) when out of memory.
 */
static int
mark_truncated(struct rules_verdict *v, const struct cls *c)
{
	if ((v->msg->flags & RULES_MSG_TRUNCATED) == 0 &&
	    (c == NULL || (!c->urls_full && !c->phones_full)))
		return 0;
	if (v->reasons == NULL && (v->reasons = strdup("")) == NULL) {
		rules_verdict_free(v);
		return -1;
	}
	return append_reason(v, "truncated");
}

int
rules_classify(const char *raw, size_t len, const struct rules_set *rs,
    const struct rules_limits *lim, const struct rules_user *user,
    struct rules_verdict *v)
{
	struct rules_limits flim;
	struct cls c;
	char err[256], buf[300], *bounce_reason = NULL;
	int r;

	memset(v, 0, sizeof(*v));
	if (lim == NULL)
		rules_limits_default(&flim);
	else {
		flim = *lim;
		rules_limits_fill(&flim);
	}
	lim = &flim;
	if (rules_msg_parse(raw, len, lim, &v->msg, err, sizeof(err)) == -1)
		return -1;
	if (v->msg->flags & RULES_MSG_UNPARSED) {
		snprintf(buf, sizeof(buf), "unparsed:%s",
		    v->msg->note ? v->msg->note : "unknown");
		v->reasons = strdup(buf);
		if (v->reasons == NULL)
			goto oom;
		return mark_truncated(v, NULL);
	}
	if (rules_bounce_analyse(v->msg, &v->bounce) == -1)
		goto oom;
	/* A bounce or report is judged on what it says of the original: the
	 * text it quotes is someone else's.  Only one that proves nothing
	 * either way is looked at for indicators too, so that phishing
	 * dressed up as a bounce does not stay in the inbox. */
	if (v->bounce.kind != RULES_REPORT_NONE) {
		if (rules_judge_bounce(v, user) == -1)
			goto oom;
		if (v->cls != RULES_BOUNCE_UNKNOWN)
			return mark_truncated(v, NULL);
		bounce_reason = v->reasons;
		v->reasons = NULL;
	}
	r = rules_judge_forged(v, user);
	if (r == -1)
		goto oom;
	if (r == 1)
		return mark_truncated(v, NULL);
	memset(&c, 0, sizeof(c));
	c.rs = rs;
	c.lim = lim;
	c.v = v;
	c.user = user;
	c.learned = user != NULL ? user->learned : NULL;
	if (judge(&c, raw, len) == -1)
		goto oom;
	if (bounce_reason != NULL) {
		if (v->cls == RULES_JUNK) {
			r = append_reason(v, bounce_reason);
			free(bounce_reason);
			if (r == -1)
				return -1;
		} else {
			free(v->reasons);
			v->reasons = bounce_reason;
		}
	}
	return mark_truncated(v, &c);
oom:
	free(bounce_reason);
	rules_verdict_free(v);
	return -1;
}

void
rules_verdict_free(struct rules_verdict *v)
{
	size_t i;

	for (i = 0; i < v->nfound; i++) {
		free(v->found[i].value);
		free(v->found[i].via);
	}
	free(v->found);
	free(v->reasons);
	free(v->lookups);
	rules_bounce_free(&v->bounce);
	rules_msg_free(&v->msg);
	memset(v, 0, sizeof(*v));
}
