/*
 * conf.c: reads one libconfig file into struct conf and checks it.
 *
 * The file is opened once, without blocking: the same descriptor is
 * checked with fstat (is it a regular file, can others read it) and read
 * whole (at most CONF_MAX_FILE_BYTES) into memory for libconfig, so the
 * secrecy check looks at the file that was read.  conf_load_fd reads a
 * descriptor the caller opened (and checked) itself, from its start.  The settings are then
 * walked in file order (conf-keys.c says what each key may hold, and
 * conf-account.c reads and checks the accounts), so an unknown key or a
 * value of the wrong type is reported with its line and the walk goes on.
 * The secrecy check comes last.  @include is refused: a second file would
 * escape that check.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

/* ------------------------------------------------------------------ */
/* Errors.                                                              */

void
conf_lerr(struct conf_loader *L, unsigned line, const char *fmt, ...)
{
	char	 msg[512], pre[32];
	struct conf_err *e;
	va_list	 ap;
	size_t	 n;

	L->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line != 0)
		snprintf(pre, sizeof(pre), ":%u", line);
	else
		pre[0] = '\0';
	if (L->nerr == L->errcap) {
		n = L->errcap == 0 ? 16 : L->errcap * 2;
		if ((e = realloc(L->err, n * sizeof(*e))) == NULL) {
			L->oom = 1;
			return;
		}
		L->err = e;
		L->errcap = n;
	}
	e = &L->err[L->nerr];
	n = strlen(L->path) + strlen(pre) + strlen(msg) + 4;
	if ((e->text = malloc(n)) == NULL) {
		L->oom = 1;
		return;
	}
	snprintf(e->text, n, "%s%s: %s\n", L->path, pre, msg);
	e->line = line;
	e->seq = L->nerr++;
}

static int
cmp_err(const void *a, const void *b)
{
	const struct conf_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The errors in line order (file-wide ones first), as one string; frees
 * them.  NULL when out of memory. */
static char *
join_errors(struct conf_loader *L)
{
	char	*s = NULL;
	size_t	 i, n = 1, off = 0;

	qsort(L->err, L->nerr, sizeof(*L->err), cmp_err);
	for (i = 0; i < L->nerr; i++)
		n += strlen(L->err[i].text);
	if (!L->oom && (s = malloc(n)) != NULL) {
		s[0] = '\0';
		for (i = 0; i < L->nerr; i++) {
			memcpy(s + off, L->err[i].text,
			    strlen(L->err[i].text) + 1);
			off += strlen(L->err[i].text);
		}
	}
	for (i = 0; i < L->nerr; i++)
		free(L->err[i].text);
	free(L->err);
	L->err = NULL;
	L->nerr = L->errcap = 0;
	return s;
}

char *
conf_strdup(struct conf_loader *L, const char *s)
{
	char	*p = strdup(s);

	if (p == NULL) {
		L->oom = 1;
		L->failed = 1;
	}
	return p;
}

unsigned
conf_line(const config_setting_t *s)
{
	return config_setting_source_line(s);
}

void *
conf_groups_alloc(struct conf_loader *L, config_setting_t *s,
    const char *key, const char *shape, size_t size)
{
	void	*arr;
	size_t	 n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		conf_lerr(L, conf_line(s), "%s: expected a list of groups, %s",
		    key, shape);
		return NULL;
	}
	if ((n = (size_t)config_setting_length(s)) == 0)
		return NULL;
	if ((arr = calloc(n, size)) == NULL)
		L->oom = L->failed = 1;
	return arr;
}

void
conf_groups_each(struct conf_loader *L, struct conf *c, config_setting_t *s,
    const char *key,
    void (*each)(struct conf_loader *, struct conf *, config_setting_t *))
{
	config_setting_t *g;
	size_t	 i, n = (size_t)config_setting_length(s);

	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_source_file(g) != NULL) {
			if (!L->include_said)
				conf_lerr(L, 0, "@include is not supported");
			L->include_said = 1;
		} else if (config_setting_type(g) == CONFIG_TYPE_GROUP)
			each(L, c, g);
		else
			conf_lerr(L, conf_line(g), "%s: element %zu is not a "
			    "group { ... }", key, i + 1);
	}
}


static void
limits_default(struct conf_limits *l)
{
	l->max_parse_bytes = CONF_DEF_MAX_PARSE_BYTES;
	l->max_mime_depth = CONF_DEF_MAX_MIME_DEPTH;
	l->max_mime_parts = CONF_DEF_MAX_MIME_PARTS;
	l->max_urls = CONF_DEF_MAX_URLS;
	l->max_phones = CONF_DEF_MAX_PHONES;
	l->max_text_bytes = CONF_DEF_MAX_TEXT_BYTES;
	l->max_html_depth = CONF_DEF_MAX_HTML_DEPTH;
	l->regex_match_limit = CONF_DEF_REGEX_MATCH_LIMIT;
	l->regex_depth_limit = CONF_DEF_REGEX_DEPTH_LIMIT;
}

static void
load_root(struct conf_loader *L, struct conf *c, config_setting_t *root)
{
	config_setting_t *m;
	size_t	 i;

	c->country = CONF_DEF_COUNTRY;
	c->max_rule_file_bytes = CONF_DEF_MAX_RULE_FILE_BYTES;
	c->learn_expiry = CONF_DEF_LEARN_EXPIRY;
	c->max_dnsbl_queries = CONF_DEF_MAX_DNSBL_QUERIES;
	c->dnsbl_timeout = CONF_DEF_DNSBL_TIMEOUT;
	c->dnsbl_cooldown = CONF_DEF_DNSBL_COOLDOWN;
	limits_default(&c->limits);
	for (i = 0; i < (size_t)config_setting_length(root); i++) {
		m = config_setting_get_elem(root, (unsigned)i);
		switch (conf_member(L, m, CONF_LEVEL_GLOBAL, c, c->lines)) {
		case CONF_ACCOUNTS:
			conf_accounts(L, c, m);
			break;
		case CONF_LIMITS:
			conf_limits(L, c, m);
			break;
		case CONF_FEEDS:
			conf_feeds(L, c, m);
			break;
		case CONF_DNSBL:
			conf_dnsbl(L, c, m);
			break;
		default:
			break;
		}
	}
	conf_dnsbl_check(L, c);
	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].lines[CONF_UNKNOWN_BOUNCE] == 0)
			c->accounts[i].unknown_bounce = c->unknown_bounce;
}


/* ------------------------------------------------------------------ */
/* The file.                                                            */

/*
 * libconfig says only "syntax error" at the line where it gave up, which
 * for a string left open is lines below the mistake.  Looks again at the
 * lines up to that one: the first byte that is neither text nor white
 * space, or the first line that leaves a string open, is reported
 * instead, with libconfig's line.  Returns 1 when it reported one.
 */
static int
syntax_hint(struct conf_loader *L, const char *buf, size_t len,
    unsigned errline)
{
	unsigned line = 1;
	int	 ch, prev = 0, instr = 0, comment = 0;
	size_t	 i;

	for (i = 0; i < len && line <= errline; i++) {
		ch = (unsigned char)buf[i];
		if (ch == '\n') {
			if (instr) {
				conf_lerr(L, line, "string not closed on "
				    "this line (libconfig: syntax error at "
				    "line %u)", errline);
				return 1;
			}
			line++;
			comment = 0;
		} else if (ch < 0x20 && ch != '\t' && ch != '\r') {
			conf_lerr(L, line, "binary data: byte 0x%02x "
			    "(libconfig: syntax error at line %u)", ch,
			    errline);
			return 1;
		} else if (comment) {
			;
		} else if (instr && ch == '\\') {
			if (++i == len)
				break;
			if (buf[i] == '\n')
				line++;
		} else if (ch == '"')
			instr = !instr;
		else if (!instr && (ch == '#' || (ch == '/' && prev == '/')))
			comment = 1;
		prev = ch;
	}
	return 0;
}

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/*
 * What libconfig would take silently or do harm with, found before it
 * parses, in one linear pass: a NUL byte (libconfig keeps the bytes
 * after it in the buffer but every string ends at it, so password
 * "a<NUL>b" would log in as "a"), the escape \x00 in a string (the same
 * cut), and @include (libconfig would open the named file before the
 * walk could refuse it; a FIFO there would hang the load).  Reports the
 * first one found as "path:line: ..." and returns 1, else 0.
 */
static int
prescan(struct conf_loader *L, const char *buf, size_t len)
{
	enum { CODE, STR, LINE, BLOCK } st = CODE;
	unsigned line = 1;
	size_t	 i;
	char	 c;

	for (i = 0; i < len; i++) {
		c = buf[i];
		if (c == '\0') {
			conf_lerr(L, line, "a NUL byte%s (the value would be "
			    "cut there)", st == STR ? " in a string" : "");
			return 1;
		}
		if (c == '\n') {
			line++;
			if (st == LINE)
				st = CODE;
			continue;
		}
		switch (st) {
		case CODE:
			if (c == '"')
				st = STR;
			else if (c == '#')
				st = LINE;
			else if (c == '/' && i + 1 < len && buf[i + 1] == '/')
				st = LINE;
			else if (c == '/' && i + 1 < len &&
			    buf[i + 1] == '*') {
				st = BLOCK;
				i++;
			} else if (c == '@' && len - i >= 8 &&
			    memcmp(buf + i, "@include", 8) == 0) {
				conf_lerr(L, line, "@include is not supported");
				return 1;
			}
			break;
		case STR:
			if (c == '"')
				st = CODE;
			else if (c == '\\' && i + 1 < len) {
				if ((buf[i + 1] == 'x' || buf[i + 1] == 'X') &&
				    len - i >= 4 && is_hex(buf[i + 2]) &&
				    is_hex(buf[i + 3]) && buf[i + 2] == '0' &&
				    buf[i + 3] == '0') {
					conf_lerr(L, line, "\\x00 in a string "
					    "(the value would be cut there)");
					return 1;
				}
				if (buf[i + 1] != '\n')
					i++;
			}
			break;
		case LINE:
			break;
		case BLOCK:
			if (c == '*' && i + 1 < len && buf[i + 1] == '/') {
				st = CODE;
				i++;
			}
			break;
		}
	}
	return 0;
}

/*
 * Reads the open descriptor fd (a regular file, checked by the caller)
 * whole into a NUL-ended buffer with a newline at its end (libconfig
 * 1.5 calls a last-line comment without one a "syntax error").  Parsing
 * from memory also keeps libconfig's scanner linear: reading through a
 * FILE it rescans a long token from its start at every 8 KB refill, so
 * a 4 MB line cost 5.7 s and 27 MB over a minute.  Returns the length,
 * or -1 after reporting the problem.
 */
static ssize_t
slurp(struct conf_loader *L, int fd, char **buf_r)
{
	size_t	 cap = 65536, len = 0;
	char	*b, *nb;
	ssize_t	 n;

	*buf_r = NULL;
	if ((b = malloc(cap)) == NULL) {
		conf_lerr(L, 0, "out of memory");
		return -1;
	}
	for (;;) {
		if (len + 2 >= cap) {
			if (cap > CONF_MAX_FILE_BYTES) {
				free(b);
				conf_lerr(L, 0, "larger than %u bytes: not a "
				    "config file", CONF_MAX_FILE_BYTES);
				return -1;
			}
			if ((nb = realloc(b, cap * 2)) == NULL) {
				free(b);
				conf_lerr(L, 0, "out of memory");
				return -1;
			}
			b = nb;
			cap *= 2;
		}
		n = read(fd, b + len, cap - len - 2);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(b);
			conf_lerr(L, 0, "%s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_MAX_FILE_BYTES) {
		free(b);
		conf_lerr(L, 0, "larger than %u bytes: not a config file",
		    CONF_MAX_FILE_BYTES);
		return -1;
	}
	if (len > 0 && b[len - 1] != '\n')
		b[len++] = '\n';
	b[len] = '\0';
	*buf_r = b;
	return (ssize_t)len;
}

/* Reads the open file fd (already checked by fstat) into c. */
static void
read_file(struct conf_loader *L, struct conf *c, int fd,
    const struct stat *st)
{
	config_t cfg;
	ssize_t	 len;
	size_t	 i;
	char	*buf;

	if ((len = slurp(L, fd, &buf)) == -1)
		return;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		conf_lerr(L, 1, "starts with a byte order mark (save it as "
		    "UTF-8 without one)");
		free(buf);
		return;
	}
	if (prescan(L, buf, (size_t)len)) {
		free(buf);
		return;
	}
	config_init(&cfg);
	if (config_read_string(&cfg, buf) == CONFIG_FALSE) {
		if (config_error_file(&cfg) != NULL)
			L->path = config_error_file(&cfg);
		if (config_error_file(&cfg) != NULL ||
		    strcmp(config_error_text(&cfg), "syntax error") != 0 ||
		    !syntax_hint(L, buf, (size_t)len,
		    (unsigned)config_error_line(&cfg)))
			conf_lerr(L, (unsigned)config_error_line(&cfg), "%s",
			    config_error_text(&cfg));
		L->path = c->path;
		config_destroy(&cfg);
		free(buf);
		return;
	}
	free(buf);
	load_root(L, c, config_root_setting(&cfg));
	config_destroy(&cfg);
	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].lines[CONF_PASSWORD] != 0 &&
		    (st->st_mode & 077) != 0) {
			conf_lerr(L, 0, "holds a password but is readable by "
			    "others (chmod 600)");
			break;
		}
}

int
conf_load_fd(struct conf **conf_r, int fd, const char *name, char **errs_r)
{
	struct conf_loader L;
	struct conf *c;
	struct stat st;
	char	*errs;

	memset(&L, 0, sizeof(L));
	L.path = name;
	*conf_r = NULL;
	if (errs_r != NULL)
		*errs_r = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(name)) == NULL) {
		free(c);
		if (errs_r != NULL)
			*errs_r = strdup("out of memory\n");
		return -1;
	}
	L.path = c->path;
	/* From the start: fd stays the caller's and can be read again (a
	 * reload reads the same descriptor). */
	if (fstat(fd, &st) == -1)
		conf_lerr(&L, 0, "%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		conf_lerr(&L, 0, "not a regular file");
	else if (lseek(fd, 0, SEEK_SET) == -1)
		conf_lerr(&L, 0, "%s", strerror(errno));
	else
		read_file(&L, c, fd, &st);
	if (!L.failed) {
		*conf_r = c;
		return 0;
	}
	conf_free(&c);
	errs = join_errors(&L);
	if (errs == NULL && (errs = malloc(strlen(name) + 16)) != NULL)
		sprintf(errs, "%s: out of memory\n", name);
	if (errs_r != NULL)
		*errs_r = errs;
	else
		free(errs);
	return -1;
}

int
conf_load(struct conf **conf_r, const char *path, char **errs_r)
{
	size_t	 n;
	int	 fd, r, e;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it is
	 * then refused as not a regular file). */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		e = errno;
		*conf_r = NULL;
		if (errs_r != NULL) {
			n = strlen(path) + strlen(strerror(e)) + 4;
			if ((*errs_r = malloc(n)) != NULL)
				snprintf(*errs_r, n, "%s: %s\n", path,
				    strerror(e));
		}
		return -1;
	}
	r = conf_load_fd(conf_r, fd, path, errs_r);
	close(fd);
	return r;
}

static void
secret_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

void
conf_free(struct conf **conf)
{
	struct conf_account *a;
	size_t	 i;

	if (conf == NULL || *conf == NULL)
		return;
	for (i = 0; i < (*conf)->naccounts; i++) {
		a = &(*conf)->accounts[i];
		free(a->name);
		free(a->host);
		free(a->ca_file);
		free(a->user);
		secret_free(a->password);
		secret_free(a->password_command);
		conf_oauth2_free(&a->oauth2);
		conf_list_free(&a->addresses);
		conf_list_free(&a->watch);
		conf_list_free(&a->sent);
		conf_list_free(&a->ham);
		free(a->junk);
		free(a->backscatter);
	}
	free((*conf)->accounts);
	conf_feeds_free(*conf);
	conf_dnsbl_free(*conf);
	conf_list_free(&(*conf)->rules);
	free((*conf)->store);
	free((*conf)->path);
	free(*conf);
	*conf = NULL;
}

const struct conf_account *
conf_account(const struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->naccounts; i++)
		if (conf->accounts[i].name != NULL &&
		    strcmp(conf->accounts[i].name, name) == 0)
			return &conf->accounts[i];
	return NULL;
}

