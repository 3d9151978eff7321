/*
 * ruleset.c: the rule set, built from list files, and its look-ups.
 *
 * rules_load makes an empty set, walks the paths it is given (a directory
 * is read for list files in name order, a file is taken by its suffix) and
 * hands each list file to listfile.c, which documents the file format and
 * parses the lines into the set.  The look-ups turn what phrase.c and
 * regex.c find into rules_hit values naming the list file and line.
 *
 * Entries and the text looked up must be normalised alike, so the host
 * helpers both sides use are here.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"

/* ------------------------------------------------------------------ */
/* Hosts, as list entries and look-ups both need them.                  */

int
rules_is_ip(const char *host)
{
	unsigned char a[4];

	return strchr(host, ':') != NULL || inet_pton(AF_INET, host, a) == 1;
}

/* Normalises a host or IP address into out; IPv6 may come bare. */
int
rules_norm_host(const char *s, char *out, size_t outsz)
{
	char	 b[RULES_HOST_MAX + 3];

	if (s[0] != '[' && strchr(s, ':') != NULL &&
	    (size_t)snprintf(b, sizeof(b), "[%s]", s) < sizeof(b))
		s = b;
	return rules_host_normalise(s, strlen(s), out, outsz);
}

/* ------------------------------------------------------------------ */
/* Files and directories.                                               */

static const struct {
	const char *suffix;
	enum rules_kind kind;
} suffixes[] = {
	{ ".domains", RULES_DOMAIN },
	{ ".phones", RULES_PHONE },
	{ ".phrases", RULES_PHRASE },
	{ ".regex", RULES_REGEX },
	{ ".allow", RULES_ALLOW },
};

/* The kind of list a file name's suffix says, or -1. */
static int
kind_of(const char *name)
{
	size_t	 n = strlen(name), k, i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		k = strlen(suffixes[i].suffix);
		if (n > k && strcmp(name + n - k, suffixes[i].suffix) == 0)
			return (int)suffixes[i].kind;
	}
	return -1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The list file names in dir, sorted; *n_r of them.  NULL with *n_r 0
 * when there are none or on an error, which is reported. */
static char **
list_dir(struct rules_loader *L, const char *dir, size_t *n_r)
{
	struct dirent *de;
	char	**names = NULL;
	size_t	 n = 0, cap = 0;
	DIR	*d;

	*n_r = 0;
	d = opendir(dir);
	if (d == NULL) {
		rules_lerr(L, dir, 0, "%s", strerror(errno));
		return NULL;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rules_lerr(L, dir, 0, "%s", strerror(errno));
			break;
		}
		if (de->d_name[0] == '.' || kind_of(de->d_name) == -1)
			continue;
		if (rules_grow((void **)&names, &cap, n + 1,
		    sizeof(*names)) == -1)
			break;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			break;
		n++;
	}
	if (de != NULL)
		rules_lerr(L, dir, 0, "out of memory");
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*n_r = n;
	return names;
}

/* Loads the list files of one directory, in name order; subdirectories
 * (even one named like a list) are skipped. */
static void
load_dir(struct rules_loader *L, const char *dir)
{
	struct stat st;
	const char *sep = dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ?
	    "" : "/";
	char	**names, *path;
	size_t	 n, i, len;

	names = list_dir(L, dir, &n);
	for (i = 0; i < n; i++) {
		len = strlen(dir) + strlen(names[i]) + 2;
		path = malloc(len);
		if (path == NULL)
			rules_lerr(L, dir, 0, "out of memory");
		else if (snprintf(path, len, "%s%s%s", dir, sep, names[i]) < 0 ||
		    stat(path, &st) == -1)
			rules_lerr(L, path, 0, "%s", strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			rules_listfile_load(L, path,
			    (enum rules_kind)kind_of(names[i]));
		free(path);
		free(names[i]);
	}
	free(names);
}

static void
load_path(struct rules_loader *L, const char *path)
{
	struct stat st;
	const char *base;
	int	 kind;

	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	kind = kind_of(base);
	if (stat(path, &st) == -1)
		rules_lerr(L, path, 0, "%s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		load_dir(L, path);
	else if (kind == -1)
		rules_lerr(L, path, 0, "not a rule list (the name must end in "
		    ".domains, .phones, .phrases, .regex or .allow)");
	else
		rules_listfile_load(L, path, (enum rules_kind)kind);
}

/* ------------------------------------------------------------------ */
/* The set.                                                             */

static struct rules_set *
set_new(const struct rules_opts *opts)
{
	struct rules_set *rs;

	rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		return NULL;
	rs->threshold = 1;
	rs->default_cc = opts != NULL && opts->default_cc != 0 ?
	    opts->default_cc : 1;
	rs->dom = rules_strset_new();
	rs->phone = rules_strset_new();
	rs->allow_addr = rules_strset_new();
	rs->allow_dom = rules_strset_new();
	rs->phr = rules_phrases_new();
	rs->rx = rules_regexes_new();
	if (rs->dom == NULL || rs->phone == NULL || rs->allow_addr == NULL ||
	    rs->allow_dom == NULL || rs->phr == NULL || rs->rx == NULL)
		rules_free(&rs);
	return rs;
}

int
rules_load(struct rules_set **rs_r, const char *const *paths, size_t npaths,
    const struct rules_opts *opts, char **errs_r)
{
	struct rules_loader L;
	size_t	 i;

	memset(&L, 0, sizeof(L));
	*rs_r = NULL;
	if (errs_r != NULL)
		*errs_r = NULL;
	L.rs = set_new(opts);
	L.max_file = opts != NULL && opts->max_file_bytes != 0 ?
	    opts->max_file_bytes : RULES_DEF_FILE_BYTES;
	if (L.rs == NULL) {
		if (errs_r != NULL)
			*errs_r = strdup("out of memory\n");
		return -1;
	}
	for (i = 0; i < npaths; i++)
		load_path(&L, paths[i]);
	free(L.buf);
	free(L.tmp);
	if (L.failed) {
		rules_free(&L.rs);
		if (errs_r != NULL)
			*errs_r = L.errs;
		else
			free(L.errs);
		return -1;
	}
	*rs_r = L.rs;
	return 0;
}

void
rules_free(struct rules_set **rs)
{
	size_t	 i;

	if (rs == NULL || *rs == NULL)
		return;
	rules_strset_free(&(*rs)->dom);
	rules_strset_free(&(*rs)->phone);
	rules_strset_free(&(*rs)->allow_addr);
	rules_strset_free(&(*rs)->allow_dom);
	rules_phrases_free(&(*rs)->phr);
	rules_regexes_free(&(*rs)->rx);
	for (i = 0; i < (*rs)->nfiles; i++)
		free((*rs)->files[i].path);
	free((*rs)->files);
	free(*rs);
	*rs = NULL;
}

int
rules_learned_new(struct rules_set **rs_r, const char *label,
    unsigned default_cc)
{
	struct rules_opts opts;
	struct rules_set *rs;

	memset(&opts, 0, sizeof(opts));
	opts.default_cc = default_cc;
	*rs_r = NULL;
	if ((rs = set_new(&opts)) == NULL)
		return -1;
	rs->files = calloc(1, sizeof(*rs->files));
	if (rs->files != NULL)
		rs->files[0].path = strdup(label);
	if (rs->files == NULL || rs->files[0].path == NULL) {
		rules_free(&rs);
		return -1;
	}
	rs->files[0].weight = 1;
	rs->files[0].learned = 1;
	rs->nfiles = rs->fcap = 1;
	*rs_r = rs;
	return 0;
}

int
rules_hit_learned(const struct rules_hit *hit)
{
	return hit->learned;
}

int
rules_learned_add(struct rules_set *rs, enum rules_kind kind,
    const char *value, int exact)
{
	char host[RULES_HOST_MAX];
	unsigned line;
	size_t len = strlen(value);

	line = (unsigned)(rules_count(rs, RULES_DOMAIN) +
	    rules_count(rs, RULES_PHONE) + rules_count(rs, RULES_PHRASE) + 1);
	switch (kind) {
	case RULES_DOMAIN:
		if (rules_norm_host(value, host, sizeof(host)) == -1)
			return 0;
		return rules_strset_add(rs->dom, host, 0, line,
		    exact || rules_is_ip(host));
	case RULES_PHONE:
		if (len < 7 || strspn(value, "0123456789") != len)
			return 0;
		return rules_strset_add(rs->phone, value, 0, line, 0);
	case RULES_PHRASE:
		if (strchr(value, ' ') == NULL)
			return 0;
		return rules_phrases_add(rs->phr, value, len, value, 0, line) ==
		    1 ? 1 : 0;
	default:
		return 0;
	}
}

size_t
rules_count(const struct rules_set *rs, enum rules_kind kind)
{
	if (rs == NULL)
		return 0;
	switch (kind) {
	case RULES_DOMAIN:
		return rules_strset_count(rs->dom);
	case RULES_PHONE:
		return rules_strset_count(rs->phone);
	case RULES_PHRASE:
		return rules_phrases_count(rs->phr);
	case RULES_REGEX:
		return rules_regexes_count(rs->rx);
	case RULES_ALLOW:
		return rules_strset_count(rs->allow_addr) +
		    rules_strset_count(rs->allow_dom);
	default:
		return 0;
	}
}

double
rules_threshold(const struct rules_set *rs)
{
	return rs != NULL ? rs->threshold : 1;
}

unsigned
rules_default_cc(const struct rules_set *rs)
{
	return rs != NULL ? rs->default_cc : 1;
}

/* ------------------------------------------------------------------ */
/* Matching.                                                            */

static void
fill_hit(const struct rules_set *rs, enum rules_kind kind,
    const struct rules_origin *o, struct rules_hit *hit)
{
	hit->kind = kind;
	hit->entry = o->entry;
	hit->file = rs->files[o->file].path;
	hit->line = o->line;
	hit->weight = rs->files[o->file].weight;
	hit->learned = rs->files[o->file].learned;
}

/* The host and its parents; an IP address is looked up only whole, and
 * a listed IP address matches only itself (its flag says so). */
static int
match_parents(const struct rules_set *rs, const struct rules_strset *ss,
    enum rules_kind kind, const char *host, struct rules_hit *hit)
{
	struct rules_origin o;
	int	 m;

	if (rules_is_ip(host))
		m = rules_strset_get(ss, host, strlen(host), &o);
	else
		m = rules_strset_get_host(ss, host, &o);
	if (m)
		fill_hit(rs, kind, &o, hit);
	return m;
}

int
rules_match_domain(const struct rules_set *rs, const char *host,
    struct rules_hit *hit)
{
	if (rs == NULL || host == NULL || *host == '\0')
		return 0;
	return match_parents(rs, rs->dom, RULES_DOMAIN, host, hit);
}

int
rules_match_phone(const struct rules_set *rs, const char *digits,
    struct rules_hit *hit)
{
	struct rules_origin o;

	if (rs == NULL || digits == NULL ||
	    !rules_strset_get(rs->phone, digits, strlen(digits), &o))
		return 0;
	fill_hit(rs, RULES_PHONE, &o, hit);
	return 1;
}

int
rules_match_allow(const struct rules_set *rs, const char *addr,
    struct rules_hit *hit)
{
	struct rules_origin o;
	char	 host[RULES_HOST_MAX], a[RULES_ADDR_MAX];
	const char *at;

	if (rs == NULL || addr == NULL)
		return 0;
	at = strrchr(addr, '@');
	if (at == NULL || at == addr ||
	    rules_norm_host(at + 1, host, sizeof(host)) == -1)
		return 0;
	if ((size_t)snprintf(a, sizeof(a), "%.*s@%s", (int)(at - addr), addr,
	    host) < sizeof(a) && rules_strset_get(rs->allow_addr, a,
	    strlen(a), &o)) {
		fill_hit(rs, RULES_ALLOW, &o, hit);
		return 1;
	}
	return match_parents(rs, rs->allow_dom, RULES_ALLOW, host, hit);
}

int
rules_match_allow_host(const struct rules_set *rs, const char *host,
    struct rules_hit *hit)
{
	if (rs == NULL || host == NULL || *host == '\0')
		return 0;
	return match_parents(rs, rs->allow_dom, RULES_ALLOW, host, hit);
}

struct relay {
	const struct rules_set *rs;
	void	(*phrase)(void *, const struct rules_hit *);
	void	(*regex)(void *, const struct rules_hit *, const char *,
		    size_t);
	void	*ctx;
};

static void
relay_phrase(void *ctx, const struct rules_origin *o)
{
	struct relay *r = ctx;
	struct rules_hit hit;

	fill_hit(r->rs, RULES_PHRASE, o, &hit);
	r->phrase(r->ctx, &hit);
}

static void
relay_regex(void *ctx, const struct rules_origin *o, const char *m,
    size_t mlen)
{
	struct relay *r = ctx;
	struct rules_hit hit;

	fill_hit(r->rs, RULES_REGEX, o, &hit);
	r->regex(r->ctx, &hit, m, mlen);
}

void
rules_match_phrases(const struct rules_set *rs, const char *folded,
    size_t len, void (*fn)(void *ctx, const struct rules_hit *hit),
    void *ctx)
{
	struct relay r = { rs, fn, NULL, ctx };

	if (rs != NULL)
		rules_phrases_find(rs->phr, folded, len, relay_phrase, &r);
}

void
rules_match_regex(const struct rules_set *rs, const struct rules_msg *msg,
    const char *raw, size_t rawlen, const struct rules_limits *lim,
    void (*fn)(void *ctx, const struct rules_hit *hit, const char *match,
    size_t mlen), void *ctx)
{
	struct relay r = { rs, NULL, fn, ctx };

	if (rs != NULL)
		rules_regexes_run(rs->rx, msg, raw, rawlen, lim, relay_regex,
		    &r);
}
