/*
 * listfile.c: reads one rule list file into a rule set.
 *
 * The list file format and its parser: lines, directives, each kind's
 * entries, and every error as "file:line: message".  The set itself, the
 * walk over the paths given to rules_load and the look-ups are in ruleset.c.
 *
 * List files, as rules_load reads them:
 *
 *   A path may be a directory or a file.  A directory is read for files
 *   named *.domains, *.phones, *.phrases, *.regex and *.allow, in byte
 *   order of their names, not descending into subdirectories and skipping
 *   names that start with a dot; other names there are ignored.  A file
 *   given by name is read by its suffix; any other suffix is an error.
 *
 *   Files are UTF-8 text, one entry per line of at most 4096 bytes; CRLF
 *   line ends and a leading byte order mark are accepted.  Blank lines are ignored and a line whose
 *   first non-blank character is '#' is a comment.  In .domains, .phones
 *   and .allow files a '#' after a blank also starts a comment; in
 *   .phrases and .regex files it does not, since '#' may be part of the
 *   entry.  Directive lines may end in a comment in every kind of file.
 *
 *   A directive is a line starting with '@' and a lowercase word, then a
 *   blank or the line end (so "@example.com" in an .allow file is an
 *   entry, not a directive):
 *     @weight N     the weight of every entry of this file (default 1); N
 *                   is a decimal number of 0 or more, like 2 or 0.5; at
 *                   most once per file and before its first entry.
 *     @threshold N  the score at which a message is junk (default 1); N
 *                   is above 0; any file may set it, but every file that
 *                   does must give the same value.
 *
 *   .domains  one host name per line; it matches that host and every
 *             name below it.  "*.name" and ".name" mean the same.  Names
 *             may be in any case and IDN (compared as punycode).  IP
 *             addresses match only themselves.  Lines of a hosts file,
 *             "0.0.0.0 name [name...]" (also 127.0.0.1, :: and ::1), add
 *             each name except localhost-style ones (localhost, local,
 *             broadcasthost, ip6-*, ...).  A public suffix or a single
 *             label ("com", "co.uk", "intranet") is refused as too broad.
 *   .phones   one phone number per line, written any usual way ("+1 (800)
 *             555-0123", "0049 30 1234567"); numbers without a country
 *             code get the configured default one.
 *   .phrases  one phrase per line, compared after case, punctuation and
 *             white space are folded; at least 4 words each.  Hits name
 *             the phrase as written, blanks squeezed.
 *   .regex    "TARGET /PATTERN/FLAGS": TARGET is header:NAME (every header
 *             of that name), body (each visible text part) or raw (the
 *             whole message as received); PATTERN is PCRE2 syntax and runs
 *             until the last '/' of the line; FLAGS are any of i
 *             (caseless), m (multiline), s (dot matches newline), x
 *             (extended) and u (Unicode classes; for raw, also read the
 *             message as UTF-8 rather than bytes).  Each rule reports its
 *             first match; a rule over the match limits does not match.
 *   .allow    senders never junked by indicators: "user@example.com" (that
 *             address, in any case) or "example.com" / "@example.com"
 *             (that domain and the names below it).
 *
 *   An entry listed twice keeps its first place.  Every error is reported,
 *   as "file:line: message", and the load fails if there was any.
 *
 * The look-up structures themselves are in phrase.c (hash sets and the
 * phrase index) and regex.c.  A file is read whole into one reused buffer
 * and parsed in place, so big lists cost no allocation per line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "rules/rules-private.h"

#define QUOTE		"\"%.80s\""
#define LINE_MAX_BYTES	4096	/* longest line of a list file */

/* The file being read. */
struct lfile {
	const char *path;
	unsigned idx;
	enum rules_kind kind;
	unsigned line;
	unsigned weight_line;
	int	 seen_entry;
};

/* ------------------------------------------------------------------ */
/* Small text helpers.                                                  */

static int
is_ws(int c)
{
	return c == ' ' || c == '\t';
}

/* Strict UTF-8, without NUL bytes. */
static int
utf8_ok(const unsigned char *s, size_t len)
{
	size_t	 i = 0, n, k;
	uint32_t c;

	while (i < len) {
		c = s[i];
		if (c >= 0x01 && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return 0;
		if (len - i <= n)
			return 0;
		c &= 0x3f >> n;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (n == 3 && (c < 0x10000 || c > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Cuts s at a '#' that follows a blank. */
static void
cut_comment(char *s)
{
	size_t	 i;

	for (i = 1; s[i] != '\0'; i++)
		if (s[i] == '#' && is_ws(s[i - 1])) {
			s[i] = '\0';
			return;
		}
}

static void
trim_end(char *s)
{
	size_t	 n = strlen(s);

	while (n > 0 && is_ws(s[n - 1]))
		s[--n] = '\0';
}

/* Splits off the first blank-separated word of *sp and returns it. */
static char *
next_word(char **sp)
{
	char	*s = *sp, *w;

	while (is_ws(*s))
		s++;
	w = s;
	while (*s != '\0' && !is_ws(*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	while (is_ws(*s))
		s++;
	*sp = s;
	return w;
}

/* ------------------------------------------------------------------ */
/* Errors.                                                              */

static void vlerr(struct rules_loader *, const char *, unsigned, const char *,
    va_list) __attribute__((format(printf, 4, 0)));
static void ferr(struct rules_loader *, const struct lfile *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends "path:line: message\n" (or "path: message\n" for line 0). */
static void
vlerr(struct rules_loader *L, const char *path, unsigned line, const char *fmt,
    va_list ap)
{
	char	 msg[512];
	int	 n;

	L->failed = 1;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = line != 0 ? snprintf(NULL, 0, "%s:%u: %s\n", path, line, msg) :
	    snprintf(NULL, 0, "%s: %s\n", path, msg);
	if (n < 0 || rules_grow((void **)&L->errs, &L->ecap, L->elen + n + 1,
	    1) == -1)
		return;
	if (line != 0)
		snprintf(L->errs + L->elen, n + 1, "%s:%u: %s\n", path, line,
		    msg);
	else
		snprintf(L->errs + L->elen, n + 1, "%s: %s\n", path, msg);
	L->elen += n;
}

void
rules_lerr(struct rules_loader *L, const char *path, unsigned line,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlerr(L, path, line, fmt, ap);
	va_end(ap);
}

static void
ferr(struct rules_loader *L, const struct lfile *f, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlerr(L, f->path, f->line, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Directives.                                                          */

/* A decimal number: digits, optionally a point and more digits. */
static int
parse_num(const char *s, double *v)
{
	size_t	 i = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i > 12)
		return -1;
	if (s[i] == '.') {
		i++;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (s[i] != '\0')
		return -1;
	*v = strtod(s, NULL);
	return 0;
}

static void
dir_weight(struct rules_loader *L, struct lfile *f, const char *val)
{
	double	 v;

	if (f->weight_line != 0)
		rules_lerr(L, f->path, f->line, "@weight given twice (first at "
		    "line %u)", f->weight_line);
	else if (f->seen_entry)
		ferr(L, f, "@weight must come before the first entry");
	else if (parse_num(val, &v) == -1)
		ferr(L, f, "@weight wants a number of 0 or more, not " QUOTE,
		    val);
	else {
		L->rs->files[f->idx].weight = v;
		f->weight_line = f->line;
	}
}

static void
dir_threshold(struct rules_loader *L, struct lfile *f, const char *val)
{
	double	 v;

	if (parse_num(val, &v) == -1 || v <= 0)
		ferr(L, f, "@threshold wants a number above 0, not " QUOTE,
		    val);
	else if (L->thr_set && v != L->thr)
		rules_lerr(L, f->path, f->line, "@threshold %g conflicts with "
		    "@threshold %g at %s:%u", v, L->thr,
		    L->rs->files[L->thr_file].path, L->thr_line);
	else if (!L->thr_set) {
		L->thr_set = 1;
		L->thr = v;
		L->thr_file = f->idx;
		L->thr_line = f->line;
		L->rs->threshold = v;
	}
}

/* Handles s if it is a directive line ("@word" then a blank or the end);
 * returns 0 when it is an entry instead. */
static int
directive(struct rules_loader *L, struct lfile *f, char *s)
{
	char	*name, *val;
	size_t	 n = 1;

	if (s[0] == '@' && (s[1] == '\0' || is_ws(s[1]) || s[1] == '#')) {
		ferr(L, f, "empty directive: a name must follow '@' "
		    "(@weight or @threshold)");
		return 1;
	}
	if (s[0] == '@' && (strncasecmp(s + 1, "weight", 6) == 0 ||
	    strncasecmp(s + 1, "threshold", 9) == 0) &&
	    (strncmp(s + 1, "weight", 6) != 0 &&
	    strncmp(s + 1, "threshold", 9) != 0)) {
		n = strcspn(s, " \t");
		ferr(L, f, "unknown directive %.*s (directives are lowercase)",
		    (int)(n < 40 ? n : 40), s);
		return 1;
	}
	while (s[n] >= 'a' && s[n] <= 'z')
		n++;
	if (s[0] != '@' || n == 1 || (s[n] != '\0' && !is_ws(s[n])))
		return 0;
	cut_comment(s);
	trim_end(s);
	val = s;
	name = next_word(&val);
	if (strcmp(name, "@weight") != 0 && strcmp(name, "@threshold") != 0)
		ferr(L, f, "unknown directive %s", name);
	else if (*val == '\0')
		ferr(L, f, "%s needs a value", name);
	else if (strcmp(name, "@weight") == 0)
		dir_weight(L, f, val);
	else
		dir_threshold(L, f, val);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Entries.                                                             */

static void
oom(struct rules_loader *L, const struct lfile *f)
{
	ferr(L, f, "out of memory");
}

/* Adds a host, or a domain for the allow list, after the checks. */
static void
add_host(struct rules_loader *L, const struct lfile *f, struct rules_strset *ss,
    const char *tok)
{
	char	 host[RULES_HOST_MAX], reg[RULES_HOST_MAX];
	const char *s = tok;
	int	 wild = 0, ip;

	if (strncmp(s, "*.", 2) == 0 || s[0] == '.') {
		s += s[0] == '.' ? 1 : 2;
		wild = 1;
	}
	if (rules_norm_host(s, host, sizeof(host)) == -1) {
		ferr(L, f, "not a host name: " QUOTE, tok);
		return;
	}
	ip = rules_is_ip(host);
	if (ip && wild)
		ferr(L, f, "a wildcard cannot apply to an IP address: " QUOTE,
		    tok);
	else if (!ip && rules_registrable_domain(host, reg, sizeof(reg)) ==
	    -1)
		ferr(L, f, QUOTE " is too broad: a public suffix or a single "
		    "label", tok);
	else if (rules_strset_add(ss, host, f->idx, f->line, ip) == -1)
		oom(L, f);
}

/* Names in hosts files that stand for this machine, never spam. */
static int
local_name(const char *s)
{
	static const char *const names[] = {
		"localhost", "localhost.localdomain", "localhost4",
		"localhost4.localdomain4", "localhost6",
		"localhost6.localdomain6", "local", "broadcasthost",
		"0.0.0.0", "127.0.0.1", "::1",
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0)
			return 1;
	return strncasecmp(s, "ip6-", 4) == 0;
}

static void
entry_domains(struct rules_loader *L, const struct lfile *f, char *s)
{
	char	 host[RULES_HOST_MAX];
	char	*w = next_word(&s);

	if (*s == '\0') {
		add_host(L, f, L->rs->dom, w);
		return;
	}
	if (strcmp(w, "0.0.0.0") != 0 && strcmp(w, "127.0.0.1") != 0 &&
	    strcmp(w, "::") != 0 && strcmp(w, "::1") != 0) {
		if (rules_norm_host(w, host, sizeof(host)) == 0 &&
		    rules_is_ip(host))
			ferr(L, f, "a hosts line must start with 0.0.0.0, "
			    "127.0.0.1, :: or ::1, not " QUOTE, w);
		else
			ferr(L, f, "unexpected " QUOTE " after the entry", s);
		return;
	}
	while (*s != '\0') {
		w = next_word(&s);
		if (!local_name(w))
			add_host(L, f, L->rs->dom, w);
	}
}

static void
entry_phones(struct rules_loader *L, const struct lfile *f, const char *s)
{
	char	 d[RULES_PHONE_MAX + 1];

	if (rules_phone_normalise(s, strlen(s), L->rs->default_cc, d,
	    sizeof(d)) == -1)
		ferr(L, f, "not a phone number: " QUOTE, s);
	else if (rules_strset_add(L->rs->phone, d, f->idx, f->line, 0) == -1)
		oom(L, f);
}

/* Collapses each run of blanks in s to one space (s is trimmed). */
static void
squeeze(char *s)
{
	char	*d = s;

	for (; *s != '\0'; s++)
		if (!is_ws(*s))
			*d++ = *s;
		else if (!is_ws(s[1]))
			*d++ = ' ';
	*d = '\0';
}

static void
entry_phrases(struct rules_loader *L, const struct lfile *f, char *s)
{
	size_t	 len = strlen(s), n, i, words;

	if (rules_grow((void **)&L->tmp, &L->tmpcap, len + 1, 1) == -1) {
		oom(L, f);
		return;
	}
	n = rules_fold(s, len, L->tmp);
	for (i = 0, words = n > 0; i < n; i++)
		words += L->tmp[i] == ' ';
	squeeze(s);
	if (words < 4)
		rules_lerr(L, f->path, f->line, "phrase has %zu words; at "
		    "least 4 are required", words);
	else if (rules_phrases_add(L->rs->phr, L->tmp, n, s, f->idx,
	    f->line) == -1)
		oom(L, f);
}

static void
entry_regex(struct rules_loader *L, const struct lfile *f, const char *s)
{
	char	 err[400];

	if (rules_regexes_add(L->rs->rx, s, strlen(s), f->idx, f->line, err,
	    sizeof(err)) == -1)
		ferr(L, f, "%s", err);
}

static void
entry_allow(struct rules_loader *L, const struct lfile *f, char *s)
{
	char	 host[RULES_HOST_MAX], addr[RULES_ADDR_MAX];
	char	*w = next_word(&s), *at = strchr(w, '@'), *p;

	if (*s != '\0')
		ferr(L, f, "unexpected " QUOTE " after the entry", s);
	else if (at == w && strchr(w + 1, '@') == NULL)
		add_host(L, f, L->rs->allow_dom, w + 1);
	else if (at == NULL)
		add_host(L, f, L->rs->allow_dom, w);
	else if (strchr(at + 1, '@') != NULL || rules_norm_host(at + 1, host,
	    sizeof(host)) == -1 || (size_t)snprintf(addr, sizeof(addr),
	    "%.*s@%s", (int)(at - w), w, host) >= sizeof(addr))
		ferr(L, f, "not an address or domain: " QUOTE, w);
	else {
		for (p = addr; *p != '@'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (rules_strset_add(L->rs->allow_addr, addr, f->idx, f->line,
		    0) == -1)
			oom(L, f);
	}
}

/* One line of a list file, without its line end; s[len] is writable. */
static void
parse_line(struct rules_loader *L, struct lfile *f, char *s, size_t len)
{
	size_t	 i;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len > LINE_MAX_BYTES) {
		ferr(L, f, "line longer than %u bytes", LINE_MAX_BYTES);
		return;
	}
	if (!utf8_ok((const unsigned char *)s, len)) {
		ferr(L, f, "%s", memchr(s, '\0', len) != NULL ?
		    "NUL byte in line" : "invalid UTF-8");
		return;
	}
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f) {
			ferr(L, f, "control character 0x%02x in line",
			    (unsigned char)s[i]);
			return;
		}
	s[len] = '\0';
	while (is_ws(*s))
		s++;
	if (*s == '\0' || *s == '#' || directive(L, f, s))
		return;
	f->seen_entry = 1;
	if (f->kind == RULES_DOMAIN || f->kind == RULES_PHONE ||
	    f->kind == RULES_ALLOW)
		cut_comment(s);
	trim_end(s);
	switch (f->kind) {
	case RULES_DOMAIN:
		entry_domains(L, f, s);
		break;
	case RULES_PHONE:
		entry_phones(L, f, s);
		break;
	case RULES_PHRASE:
		entry_phrases(L, f, s);
		break;
	case RULES_REGEX:
		entry_regex(L, f, s);
		break;
	default:
		entry_allow(L, f, s);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Reading a file.                                                      */

/* Reads path whole into L->buf, NUL-ended; returns its length, or -1
 * with *why_r set to the reason ("not a regular file", "too big") or,
 * when *why_r is NULL, with errno set.  Only a
 * regular file is read: it is opened without blocking (a FIFO would
 * wait for a writer) and checked with fstat on the descriptor read.  A
 * file over L->max_file bytes is refused, not cut: half a list would
 * silently change verdicts. */
static ssize_t
read_all(struct rules_loader *L, const char *path, const char **why_r)
{
	struct stat st;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, saved;

	*why_r = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		*why_r = "not a regular file";
		return -1;
	}
	for (;;) {
		if (len >= L->max_file) {
			/* at the cap: one more byte means too big */
			char c;

			n = read(fd, &c, 1);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 1) {
				close(fd);
				*why_r = "too big";
				return -1;
			}
			break;
		}
		if (rules_grow((void **)&L->buf, &L->bufcap, len + 65536,
		    1) == -1) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		n = read(fd, L->buf + len, L->bufcap - len - 1 <
		    L->max_file - len ? L->bufcap - len - 1 :
		    L->max_file - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	saved = errno;
	close(fd);
	errno = saved;
	if (n == -1)
		return -1;
	if (L->buf == NULL && rules_grow((void **)&L->buf, &L->bufcap, 1,
	    1) == -1) {
		errno = ENOMEM;
		return -1;
	}
	L->buf[len] = '\0';
	return (ssize_t)len;
}

void
rules_listfile_load(struct rules_loader *L, const char *path,
    enum rules_kind kind)
{
	struct lfile f;
	struct rules_file *rf;
	const char *why;
	char	*p, *end, *nl;
	ssize_t	 len;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	if (rules_grow((void **)&L->rs->files, &L->rs->fcap, L->rs->nfiles + 1,
	    sizeof(*rf)) == -1) {
		rules_lerr(L, path, 0, "out of memory");
		return;
	}
	rf = &L->rs->files[L->rs->nfiles];
	rf->path = strdup(path);
	rf->weight = 1;
	rf->learned = 0;
	if (rf->path == NULL) {
		rules_lerr(L, path, 0, "out of memory");
		return;
	}
	f.idx = (unsigned)L->rs->nfiles++;
	f.path = rf->path;
	len = read_all(L, path, &why);
	if (len == -1 && why != NULL && strcmp(why, "too big") == 0) {
		rules_lerr(L, path, 0, "larger than %zu bytes "
		    "(max_rule_file_bytes)", L->max_file);
		return;
	}
	if (len == -1) {
		rules_lerr(L, path, 0, "%s", why != NULL ? why :
		    strerror(errno));
		return;
	}
	p = L->buf;
	end = L->buf + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		f.line++;
		parse_line(L, &f, p, (size_t)(nl - p));
		p = nl + 1;
	}
}
