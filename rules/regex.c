/*
 * regex.c: regex rules ("TARGET /PATTERN/FLAGS" lines of *.regex files).
 *
 * The only user of PCRE2 in imapsift.  Patterns are compiled once at load,
 * JIT-compiled when the platform allows it (otherwise PCRE2 falls back to
 * its interpreter by itself), and always run under a match context whose
 * match and depth limits (struct rules_limits, so the caller's config
 * sets them) and heap limit stop catastrophic backtracking: a rule that
 * hits a limit simply does not match.  Text targets are compiled for UTF-8
 * with PCRE2_MATCH_INVALID_UTF, because a part with an unknown charset
 * keeps its raw bytes; raw is matched byte-wise unless the rule asks for
 * 'u'.  The compiled set is read-only while matching, so one set may serve
 * several threads: each call makes its own match data.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules-private.h"

#define RX_HEAP_KIB	16384u	/* interpreter backtracking memory */

enum rx_target {
	RX_HEADER,
	RX_BODY,
	RX_RAW
};

struct rx_rule {
	enum rx_target target;
	char	*hname;		/* header name, for RX_HEADER */
	char	*entry;		/* "header:subject /re/i" as normalised */
	pcre2_code *code;
	unsigned file, line;
};

struct rules_regexes {
	struct rx_rule *v;
	size_t	 n, cap;
};

struct rules_regexes *
rules_regexes_new(void)
{
	struct rules_regexes *rx;

	rx = calloc(1, sizeof(*rx));
	return rx;
}

void
rules_regexes_free(struct rules_regexes **rx)
{
	size_t	 i;

	if (rx == NULL || *rx == NULL)
		return;
	for (i = 0; i < (*rx)->n; i++) {
		free((*rx)->v[i].hname);
		free((*rx)->v[i].entry);
		pcre2_code_free((*rx)->v[i].code);
	}
	free((*rx)->v);
	free(*rx);
	*rx = NULL;
}

size_t
rules_regexes_count(const struct rules_regexes *rx)
{
	return rx != NULL ? rx->n : 0;
}

/* Header field names: printable ASCII without ':' (RFC 5322 ftext). */
static int
valid_hname(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return 0;
	return 1;
}

/* Reads the target word of spec into r; returns its length, or 0 with a
 * message in err. */
static size_t
parse_target(struct rx_rule *r, const char *spec, size_t len, char *err,
    size_t errlen)
{
	size_t	 n = 0;

	while (n < len && spec[n] != ' ' && spec[n] != '\t')
		n++;
	if (n == 4 && strncasecmp(spec, "body", 4) == 0)
		r->target = RX_BODY;
	else if (n == 3 && strncasecmp(spec, "raw", 3) == 0)
		r->target = RX_RAW;
	else if (n > 7 && strncasecmp(spec, "header:", 7) == 0 &&
	    valid_hname(spec + 7, n - 7)) {
		r->target = RX_HEADER;
		r->hname = strndup(spec + 7, n - 7);
		if (r->hname == NULL) {
			snprintf(err, errlen, "out of memory");
			return 0;
		}
	} else {
		snprintf(err, errlen, "unknown regex target \"%.*s\" (want "
		    "header:NAME, body or raw)", (int)(n < 60 ? n : 60), spec);
		return 0;
	}
	return n;
}

/* Turns the flag letters into PCRE2 options; -1 on an unknown letter. */
static int
parse_flags(const char *f, size_t n, enum rx_target t, uint32_t *opts,
    char *err, size_t errlen)
{
	size_t	 i;
	int	 u = 0;

	*opts = 0;
	for (i = 0; i < n; i++) {
		switch (f[i]) {
		case 'i':
			*opts |= PCRE2_CASELESS;
			break;
		case 'm':
			*opts |= PCRE2_MULTILINE;
			break;
		case 's':
			*opts |= PCRE2_DOTALL;
			break;
		case 'x':
			*opts |= PCRE2_EXTENDED;
			break;
		case 'u':
			u = 1;
			break;
		default:
			snprintf(err, errlen, "unknown regex flag '%c' (want "
			    "i, m, s, x or u)", isprint((unsigned char)f[i]) ?
			    f[i] : '?');
			return -1;
		}
	}
	if (t != RX_RAW || u)
		*opts |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	if (u)
		*opts |= PCRE2_UCP;
	return 0;
}

static int
compile(struct rx_rule *r, const char *pat, size_t plen, uint32_t opts,
    char *err, size_t errlen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int	 code;

	if (plen == 0) {
		snprintf(err, errlen, "empty regex would match every message");
		return -1;
	}
	r->code = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &code, &off,
	    NULL);
	if (r->code == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		snprintf(err, errlen, "regex error at offset %zu: %s",
		    (size_t)off, (const char *)msg);
		return -1;
	}
	/* Without JIT support this fails and pcre2_match interprets. */
	(void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	return 0;
}

/* Fills r from spec; on failure frees what it made and writes err. */
static int
parse_rule(struct rx_rule *r, const char *spec, size_t len, char *err,
    size_t errlen)
{
	const char *pat, *end;
	size_t	 n, plen, flen;
	uint32_t opts;

	n = parse_target(r, spec, len, err, errlen);
	if (n == 0)
		return -1;
	while (n < len && (spec[n] == ' ' || spec[n] == '\t'))
		n++;
	pat = end = NULL;
	if (n < len && spec[n] == '/') {
		pat = spec + n + 1;
		end = spec + len;
		while (end > pat && end[-1] != '/')
			end--;
	}
	if (pat == NULL || end == pat) {
		snprintf(err, errlen, "regex must be written /PATTERN/FLAGS "
		    "after the target");
		goto fail;
	}
	plen = (size_t)(end - 1 - pat);
	flen = (size_t)(spec + len - end);
	if (parse_flags(end, flen, r->target, &opts, err, errlen) == -1 ||
	    compile(r, pat, plen, opts, err, errlen) == -1)
		goto fail;
	n = (r->hname != NULL ? strlen(r->hname) + 7 : 4) + plen + flen + 4;
	r->entry = malloc(n);
	if (r->entry == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	snprintf(r->entry, n, "%s%s /%.*s/%.*s",
	    r->target == RX_HEADER ? "header:" : "",
	    r->target == RX_HEADER ? r->hname : r->target == RX_BODY ?
	    "body" : "raw", (int)plen, pat, (int)flen, end);
	return 0;
fail:
	free(r->hname);
	pcre2_code_free(r->code);
	return -1;
}

static int
push(struct rules_regexes *rx, const struct rx_rule *r)
{
	if (rules_grow_from((void **)&rx->v, &rx->cap, rx->n + 1,
	    sizeof(*rx->v), 8) == -1)
		return -1;
	rx->v[rx->n++] = *r;
	return 0;
}

int
rules_regexes_add(struct rules_regexes *rx, const char *spec, size_t len,
    unsigned file, unsigned line, char *err, size_t errlen)
{
	struct rx_rule r;
	size_t	 i;
	char	*p;

	memset(&r, 0, sizeof(r));
	if (len > INT32_MAX) {
		snprintf(err, errlen, "regex line too long");
		return -1;
	}
	if (parse_rule(&r, spec, len, err, errlen) == -1)
		return -1;
	for (p = r.hname; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	for (p = r.entry; *p != ' '; p++)
		*p = (char)tolower((unsigned char)*p);
	r.file = file;
	r.line = line;
	for (i = 0; i < rx->n; i++)
		if (strcmp(rx->v[i].entry, r.entry) == 0)
			break;
	if (i == rx->n && push(rx, &r) == 0)
		return 1;
	free(r.hname);
	free(r.entry);
	pcre2_code_free(r.code);
	if (i == rx->n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Runs one compiled rule on one subject; returns 1 and the match span.
 * A JIT stack overflow is retried by the interpreter, which keeps its
 * backtracking on the heap under the context's limits. */
static int
run_one(pcre2_match_context *mctx, const struct rx_rule *r,
    pcre2_match_data *md, const char *s, size_t len, size_t *off_r,
    size_t *len_r)
{
	PCRE2_SIZE *ov;
	int	 rc;

	rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, 0, 0, md, mctx);
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_JIT,
		    md, mctx);
	if (rc < 0)
		return 0;
	ov = pcre2_get_ovector_pointer(md);
	*off_r = ov[0] <= len ? ov[0] : len;
	*len_r = ov[1] > *off_r && ov[1] <= len ? ov[1] - *off_r : 0;
	return 1;
}

/* The first match of r in its target, or 0. */
static int
match_rule(pcre2_match_context *mctx, const struct rx_rule *r,
    pcre2_match_data *md, const struct rules_msg *msg, const char *raw,
    size_t rawlen, const char **m_r, size_t *mlen_r)
{
	const char *s;
	size_t	 i, n, len, off;

	n = r->target == RX_RAW ? 1 : msg == NULL ? 0 :
	    r->target == RX_HEADER ? msg->nhdrs : msg->nparts;
	for (i = 0; i < n; i++) {
		if (r->target == RX_RAW) {
			s = raw;
			len = rawlen;
		} else if (r->target == RX_HEADER) {
			if (msg->hdrs[i].name == NULL ||
			    msg->hdrs[i].value == NULL ||
			    strcasecmp(msg->hdrs[i].name, r->hname) != 0)
				continue;
			s = msg->hdrs[i].value;
			len = strlen(s);
		} else {
			if (msg->parts[i].kind == RULES_PART_SUBJECT)
				continue;
			s = msg->parts[i].text;
			len = msg->parts[i].len;
		}
		if (s != NULL && run_one(mctx, r, md, s, len, &off, mlen_r)) {
			*m_r = s + off;
			return 1;
		}
	}
	return 0;
}

/* A match context with lim's limits (the defaults where lim is NULL or
 * a member is 0), or NULL when out of memory. */
static pcre2_match_context *
limits_context(const struct rules_limits *lim)
{
	pcre2_match_context *mctx;
	uint32_t match, depth;

	match = lim != NULL && lim->regex_match_limit != 0 ?
	    lim->regex_match_limit : RULES_DEF_REGEX_MATCH;
	depth = lim != NULL && lim->regex_depth_limit != 0 ?
	    lim->regex_depth_limit : RULES_DEF_REGEX_DEPTH;
	mctx = pcre2_match_context_create(NULL);
	if (mctx == NULL)
		return NULL;
	pcre2_set_match_limit(mctx, match);
	pcre2_set_depth_limit(mctx, depth);
	pcre2_set_heap_limit(mctx, RX_HEAP_KIB);
	return mctx;
}

void
rules_regexes_run(const struct rules_regexes *rx, const struct rules_msg *msg,
    const char *raw, size_t rawlen, const struct rules_limits *lim,
    void (*fn)(void *ctx, const struct rules_origin *o, const char *match,
    size_t mlen), void *ctx)
{
	struct rules_origin o;
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	const char *m;
	size_t	 i, mlen;

	if (rx == NULL || rx->n == 0)
		return;
	if ((mctx = limits_context(lim)) == NULL)
		return;
	md = pcre2_match_data_create(1, NULL);
	if (md == NULL) {
		pcre2_match_context_free(mctx);
		return;
	}
	for (i = 0; i < rx->n; i++) {
		if (!match_rule(mctx, &rx->v[i], md, msg, raw, rawlen, &m,
		    &mlen))
			continue;
		o.entry = rx->v[i].entry;
		o.file = rx->v[i].file;
		o.line = rx->v[i].line;
		o.flag = 0;
		fn(ctx, &o, m, mlen);
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mctx);
}
