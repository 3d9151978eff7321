/*
 * harvest.c: builds rule lists from mail the user has sorted.
 *
 * imapsift harvest --spam DIR... --ham DIR... -o DIR reads every message
 * below the spam and ham paths, takes the URL hosts (reduced to their
 * registrable domain with libpsl, never a public suffix; IP literals kept
 * as they are) and the phone numbers of each, and writes to DIR the ones
 * that occur in spam and never in ham: harvested.domains and
 * harvested.phones (numbers written in E.164 form, +digits), each entry
 * with the number of spam messages that carried it.  Ham wins every tie:
 * one ham message is enough to keep an indicator out, since a listed
 * indicator junks every message carrying it.  Well-known infrastructure
 * domains (the skip list) are never proposed.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cmd.h"
#include "agent/harvest.h"
#include "agent/log.h"
#include "agent/rulesdir.h"
#include "agent/util.h"
#include "rules/rules.h"

/* Indicators of one message, before sort and uniq. */
struct collect {
	struct strlist dom, tel;
};

int
harvest_domain(const char *host, char *out, size_t outsz)
{
	if (rules_registrable_domain(host, out, outsz) == 0)
		return 0;
	if (strspn(host, "0123456789.") == strlen(host) ||
	    strchr(host, ':') != NULL) {
		snprintf(out, outsz, "%s", host);	/* an IP literal */
		return 0;
	}
	return -1;
}

/* A URL with its host (rules_url_host's). */
static void
h_host(void *ctx, const char *url, size_t len, const char *host,
    const char *where)
{
	struct collect *c = ctx;

	(void)url;
	(void)len;
	(void)where;
	strlist_add(&c->dom, host);
}

static void
h_url(void *ctx, const char *url, size_t len, const char *where)
{
	char host[RULES_HOST_MAX];

	if (rules_url_host(url, len, host, sizeof(host)) == 0)
		h_host(ctx, url, len, host, where);
}

static void
h_phone(void *ctx, const char *digits, const char *orig, size_t olen,
    const char *where)
{
	struct collect *c = ctx;

	(void)orig;
	(void)olen;
	(void)where;
	strlist_add(&c->tel, digits);
}

/* Sorts l and removes repeats in place. */
static void
uniq(struct strlist *l)
{
	size_t i, j = 0;

	if (l->n == 0)
		return;
	strlist_sort(l);
	for (i = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[j]) == 0)
			free(l->v[i]);
		else
			l->v[++j] = l->v[i];
	}
	l->n = j + 1;
}

void
harvest_scan(const struct rules_msg *msg, unsigned cc, struct strlist *hosts,
    struct strlist *phones)
{
	static const struct rules_scan_cb cb = { h_url, h_phone, h_host };
	struct collect c;

	c.dom = *hosts;
	c.tel = *phones;
	rules_scan(msg, cc, &cb, &c);
	uniq(&c.dom);
	uniq(&c.tel);
	*hosts = c.dom;
	*phones = c.tel;
}

static void
move_all(struct strlist *to, struct strlist *from)
{
	size_t i;

	for (i = 0; i < from->n; i++) {
		strlist_add(to, from->v[i]);
		free(from->v[i]);
	}
	from->n = 0;
}

/* Replaces the hosts of l (sorted, unique) by their distinct domains. */
static void
to_domains(struct strlist *l)
{
	char reg[RULES_HOST_MAX];
	size_t i, j = 0;

	for (i = 0; i < l->n; i++) {
		if (harvest_domain(l->v[i], reg, sizeof(reg)) == 0) {
			free(l->v[i]);
			l->v[j++] = xstrdup(reg);
		} else
			free(l->v[i]);
	}
	l->n = j;
	uniq(l);
}

/* Adds the distinct indicators of each file in files to out (one entry
 * per message, so counting runs counts messages). */
static size_t
gather(const struct strlist *files, unsigned cc, struct collect *out)
{
	struct rules_limits lim;
	struct rules_msg *msg;
	struct collect one;
	struct buf b = { NULL, 0, 0 };
	const char *why;
	char err[256];
	size_t i, n = 0;
	int trunc;

	rules_limits_default(&lim);
	memset(&one, 0, sizeof(one));
	for (i = 0; i < files->n; i++) {
		if (util_read_file(files->v[i], lim.max_parse_bytes + 1, &b,
		    &trunc, &why) == -1) {
			log_warnx("%s: %s: skipped", files->v[i], why);
			continue;
		}
		if (rules_msg_parse(b.p, b.len, &lim, &msg, err,
		    sizeof(err)) == -1)
			fatalx("%s: %s", files->v[i], err);
		harvest_scan(msg, cc, &one.dom, &one.tel);
		rules_msg_free(&msg);
		to_domains(&one.dom);
		move_all(&out->dom, &one.dom);
		move_all(&out->tel, &one.tel);
		n++;
	}
	strlist_free(&one.dom);
	strlist_free(&one.tel);
	free(b.p);
	return n;
}

struct counted {
	const char *s;
	size_t	 n;
};

static int
cmp_counted(const void *a, const void *b)
{
	const struct counted *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->s, y->s);
}

/* Writes the entries of spam (sorted, one per message) absent from ham
 * (sorted, unique) to path, most frequent first.  Returns the count
 * written, or -1 with errno. */
static long
write_list(const char *path, const char *what, const char *prefix,
    struct strlist *spam,
    const struct strlist *ham, size_t nspam, size_t nham)
{
	struct counted *c;
	size_t i, j, k = 0;
	time_t t = time(NULL);
	char day[32];
	FILE *f;

	c = xcalloc(spam->n + 1, sizeof(*c));
	strlist_sort(spam);
	for (i = 0; i < spam->n; i = j) {
		for (j = i + 1; j < spam->n; j++)
			if (strcmp(spam->v[i], spam->v[j]) != 0)
				break;
		if (ham->n > 0 && bsearch(&spam->v[i], ham->v, ham->n,
		    sizeof(*ham->v), util_cmp_str) != NULL)
			continue;
		c[k].s = spam->v[i];
		c[k++].n = j - i;
	}
	qsort(c, k, sizeof(*c), cmp_counted);
	f = fopen(path, "w");
	if (f == NULL) {
		free(c);
		return -1;
	}
	strftime(day, sizeof(day), "%Y-%m-%d", gmtime(&t));
	fprintf(f, "# %s harvested by imapsift on %s from %zu spam and %zu "
	    "ham messages:\n# found in spam, never in ham; the count is the "
	    "number of spam messages.\n", what, day, nspam, nham);
	for (i = 0; i < k; i++)
		fprintf(f, "%s%s\t# %zu\n", prefix, c[i].s, c[i].n);
	free(c);
	if (fclose(f) == EOF)
		return -1;
	return (long)k;
}

static void
usage_harvest(FILE *f)
{
	fprintf(f, "usage: imapsift harvest --spam PATH... --ham PATH... "
	    "-o DIR [--country CC] [--skip FILE]... [--no-skip]\n");
}

/* Adds the domains of a skip list (one per line, '#' comments). */
int
harvest_read_skip(const char *path, struct strlist *skip)
{
	char line[1024], *p, *e;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		p = line + strspn(line, " \t");
		e = p + strcspn(p, " \t\r\n#");
		if (e == p)
			continue;
		*e = '\0';
		for (e = p; *e != '\0'; e++)
			*e = (char)tolower((unsigned char)*e);
		strlist_add(skip, p);
	}
	fclose(f);
	return 0;
}

int
harvest_skip_shipped(struct strlist *skip)
{
	char path[4096];

	if (rulesdir_shipped_path("harvest-skip.list",
	    "rules/harvest-skip.list", path, sizeof(path)) == 0 &&
	    harvest_read_skip(path, skip) == -1)
		return -1;
	strlist_sort(skip);
	return 0;
}

int
harvest_skipped(const struct strlist *skip, const char *dom)
{
	return skip->n > 0 && bsearch(&dom, skip->v, skip->n,
	    sizeof(*skip->v), util_cmp_str) != NULL;
}

/*
 * Parsed by hand, not with getopt: "--spam a b --ham c d" must keep each
 * path with the list named before it, and GNU getopt would move the
 * plain arguments to the end.  Returns 0, -1 on bad usage (printed), or
 * 1 after printing the usage on stdout for -h/--help.
 */
static int
harvest_args(int argc, char **argv, struct strlist *spam,
    struct strlist *ham, struct strlist *skip, const char **out,
    unsigned *cc)
{
	int noskip = 0;
	struct strlist *cur = NULL;
	const char *a, *val;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage_harvest(stdout);
			return 1;
		}
		if (strcmp(a, "--spam") == 0 || strcmp(a, "--ham") == 0) {
			cur = a[2] == 's' ? spam : ham;
			continue;
		}
		if (strcmp(a, "--no-skip") == 0) {
			noskip = 1;
			continue;
		}
		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
		    strcmp(a, "--country") == 0 || strcmp(a, "--skip") == 0) {
			val = i + 1 < argc ? argv[++i] : NULL;
			if (val == NULL)
				break;
			if (strcmp(a, "--skip") == 0) {
				if (harvest_read_skip(val, skip) == -1)
					return -1;
			} else if (a[1] == 'o' || a[2] == 'o')
				*out = val;
			else if (atoi(val) >= 1 && atoi(val) <= 999)
				*cc = (unsigned)atoi(val);
			else {
				log_warnx("--country: \"%s\" is not a "
				    "calling code (1-999)", val);
				return -1;
			}
			continue;
		}
		if (a[0] == '-' || cur == NULL)
			break;
		if (util_walk_files(a, cur) == -1) {
			log_warn("%s", a);
			return -1;
		}
	}
	if (i < argc || *out == NULL || spam->n == 0) {
		usage_harvest(stderr);
		return -1;
	}
	if (!noskip && harvest_skip_shipped(skip) == -1)
		return -1;
	uniq(skip);
	return 0;
}

int
cmd_harvest(int argc, char **argv)
{
	struct strlist spam = { NULL, 0, 0 }, ham = { NULL, 0, 0 };
	struct strlist skip = { NULL, 0, 0 };
	struct collect s, h;
	const char *out = NULL;
	char path[4096];
	unsigned cc = 1;
	size_t ns, nh;
	long nd, np;
	int rc = EXIT_CONFIG;

	memset(&s, 0, sizeof(s));
	memset(&h, 0, sizeof(h));
	if ((rc = harvest_args(argc, argv, &spam, &ham, &skip, &out,
	    &cc)) != 0) {
		rc = rc == 1 ? EXIT_OK : EXIT_CONFIG;
		goto done;
	}
	rc = EXIT_CONFIG;
	if (mkdir(out, 0755) == -1 && errno != EEXIST) {
		log_warn("%s", out);
		goto done;
	}
	ns = gather(&spam, cc, &s);
	nh = gather(&ham, cc, &h);
	/* A skipped domain is treated as one seen in ham. */
	move_all(&h.dom, &skip);
	uniq(&h.dom);
	uniq(&h.tel);
	rc = EXIT_FAIL;
	snprintf(path, sizeof(path), "%s/harvested.domains", out);
	nd = write_list(path, "domains", "", &s.dom, &h.dom, ns, nh);
	if (nd == -1) {
		log_warn("%s", path);
		goto done;
	}
	snprintf(path, sizeof(path), "%s/harvested.phones", out);
	np = write_list(path, "phone numbers", "+", &s.tel, &h.tel, ns, nh);
	if (np == -1) {
		log_warn("%s", path);
		goto done;
	}
	printf("harvest: %zu spam, %zu ham messages; wrote %ld domains and "
	    "%ld phone numbers to %s\n", ns, nh, nd, np, out);
	rc = EXIT_OK;
done:
	strlist_free(&spam);
	strlist_free(&ham);
	strlist_free(&skip);
	strlist_free(&s.dom);
	strlist_free(&s.tel);
	strlist_free(&h.dom);
	strlist_free(&h.tel);
	return rc;
}
