/*
 * feeds.c: subscribed rule list feeds (config `feeds`), fetched with
 * libcurl into ordinary list files that the rule loader reads.
 *
 * Each feed NAME of kind K has its last good copy in STORE/feeds/NAME.EXT
 * (EXT: domains, or phones, or phrases; hosts files and URL lists are
 * reduced to one host per line as they are written) and its state in
 * STORE/feeds/.state/NAME.state (the hidden directory is skipped by the
 * rule loader and by watch's change detection).  A download is reduced,
 * written to .state/NAME.EXT and loaded there with rules_load exactly as
 * the classifier will load it; only a copy that loads (a few bad lines
 * are dropped, more make the download broken) is renamed over the old
 * one, so a truncated, oversized, slow or garbage download keeps the last
 * good list, and the reason is logged once (when it changes) and kept
 * in the state for `imapsift feeds`.  Files are written 0600 and renamed
 * into place.  Requests are conditional (If-None-Match with the ETag,
 * If-Modified-Since with Last-Modified) once a copy exists.
 *
 * A feed with a signature URL (and pubkey, signature_kind) has that
 * detached minisign or signify signature fetched the same way after each
 * new download (never after a 304), and the download replaces the copy
 * only when it verifies (feedsig.c); the state names the key the copy
 * was verified with, so that a copy not verified with the configured key
 * is fetched again unconditionally rather than kept through a 304.
 */
#include <sys/stat.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnutls/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/cmd.h"
#include "agent/dnsbl.h"
#include "agent/feeds.h"
#include "agent/feedsig.h"
#include "agent/harvest.h"
#include "agent/log.h"
#include "agent/outcome.h"
#include "agent/util.h"
#include "conf/conf.h"
#include "rules/rules.h"

struct feed_state {
	long long fetched;	/* last attempt, time_t; 0: never */
	long long ok;		/* last answer that kept or made a copy */
	long long changed;	/* last new copy */
	long long entries;	/* in the copy */
	long long shared;	/* URLs on shared hosts left out of it */
	long long modified;	/* Last-Modified of the copy, time_t */
	char	 etag[256];
	char	 error[512];	/* the last attempt's problem, or "" */
	char	 url[1024];	/* the copy's URL: validators are its own */
	char	 verified[96];	/* "KIND PUBKEY" the copy verified with */
	char	 trusted[256];	/* and its minisign trusted comment */
};

#define FEEDSIG_MAX	16384	/* bytes of a signature file */

/* ------------------------------------------------------------------ */
/* Paths and the state file.                                            */

static const char *
feed_ext(enum conf_feed_kind k)
{
	return k == CONF_FEED_PHONES ? "phones" : k == CONF_FEED_PHRASES ?
	    "phrases" : "domains";
}

/* STORE/feeds into dir (made 0700, and its .state); -1 after a warning. */
int
feeds_dir(const struct conf *c, char *dir, size_t dirsz)
{
	char	 st[4200];

	if (account_store_dir(c, dir, dirsz) == -1)
		return -1;
	if (strlen(dir) + 16 >= dirsz)
		return -1;
	strcat(dir, "/feeds");
	snprintf(st, sizeof(st), "%s/.state", dir);
	if (util_mkdir_p(st, 0700) == -1) {
		log_warn("%s", st);
		return -1;
	}
	return 0;
}

static void
state_read(const char *dir, const char *name, struct feed_state *fs)
{
	char	 p[4400], line[1024], *v;
	FILE	*fp;
	size_t	 n;

	memset(fs, 0, sizeof(*fs));
	snprintf(p, sizeof(p), "%s/.state/%s.state", dir, name);
	if ((fp = fopen(p, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strcspn(line, "\n");
		line[n] = '\0';
		if ((v = strchr(line, ' ')) == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "fetched") == 0)
			fs->fetched = atoll(v);
		else if (strcmp(line, "ok") == 0)
			fs->ok = atoll(v);
		else if (strcmp(line, "changed") == 0)
			fs->changed = atoll(v);
		else if (strcmp(line, "entries") == 0)
			fs->entries = atoll(v);
		else if (strcmp(line, "shared") == 0)
			fs->shared = atoll(v);
		else if (strcmp(line, "modified") == 0)
			fs->modified = atoll(v);
		else if (strcmp(line, "etag") == 0)
			snprintf(fs->etag, sizeof(fs->etag), "%s", v);
		else if (strcmp(line, "error") == 0)
			snprintf(fs->error, sizeof(fs->error), "%s", v);
		else if (strcmp(line, "url") == 0)
			snprintf(fs->url, sizeof(fs->url), "%s", v);
		else if (strcmp(line, "verified") == 0)
			snprintf(fs->verified, sizeof(fs->verified), "%s", v);
		else if (strcmp(line, "trusted") == 0)
			snprintf(fs->trusted, sizeof(fs->trusted), "%s", v);
	}
	fclose(fp);
}

/* Writes data to path through path.tmp (0600) and a rename. */
static int
write_atomic(const char *path, const char *data, size_t len)
{
	char	 tmp[4500];
	ssize_t	 w;
	size_t	 off = 0;
	int	 fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	while (off < len) {
		w = write(fd, data + off, len - off);
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
state_write(const char *dir, const char *name, const struct feed_state *fs)
{
	char	 p[4400], b[3584];
	int	 n;

	snprintf(p, sizeof(p), "%s/.state/%s.state", dir, name);
	n = snprintf(b, sizeof(b), "fetched %lld\nok %lld\nchanged %lld\n"
	    "entries %lld\nshared %lld\nmodified %lld\netag %s\nerror %s\n"
	    "url %s\nverified %s\ntrusted %s\n",
	    fs->fetched, fs->ok, fs->changed, fs->entries, fs->shared,
	    fs->modified,
	    fs->etag, fs->error, fs->url, fs->verified, fs->trusted);
	if (n > 0 && (size_t)n < sizeof(b) &&
	    write_atomic(p, b, (size_t)n) == -1)
		log_warn("%s", p);
}

/* ------------------------------------------------------------------ */
/* The download.                                                        */

struct dl {
	struct buf body;
	size_t	 max;
	int	 over;
	char	 etag[256];
};

static size_t
on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct dl *d = arg;
	size_t	 n = sz * nm;

	if (d->body.len + n > d->max) {
		d->over = 1;
		return 0;	/* aborts the transfer */
	}
	if (d->body.len + n + 1 > d->body.cap) {
		d->body.cap = (d->body.len + n + 1) * 2;
		d->body.p = xrealloc(d->body.p, d->body.cap);
	}
	memcpy(d->body.p + d->body.len, p, n);
	d->body.len += n;
	d->body.p[d->body.len] = '\0';
	return n;
}

static size_t
on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct dl *d = arg;
	size_t	 n = sz * nm, k;

	if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		p += 5;
		k = n - 5;
		while (k > 0 && (*p == ' ' || *p == '\t'))
			p++, k--;
		while (k > 0 && (p[k - 1] == '\r' || p[k - 1] == '\n' ||
		    p[k - 1] == ' '))
			k--;
		if (k < sizeof(d->etag) && memchr(p, '\n', k) == NULL) {
			memcpy(d->etag, p, k);
			d->etag[k] = '\0';
		}
	}
	return n;
}

/* Is a signal that watch blocks and waits for (TERM, INT, HUP) pending?
 * Then a transfer stops at once: watch must answer within seconds. */
static int
signal_pending(void)
{
	sigset_t set;

	return sigpending(&set) == 0 && (sigismember(&set, SIGTERM) == 1 ||
	    sigismember(&set, SIGINT) == 1 || sigismember(&set, SIGHUP) == 1);
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	(void)arg, (void)dt, (void)dn, (void)ut, (void)un;
	return signal_pending();
}

/* Fetches url (f's list or signature) into d, at most d->max bytes.
 * Returns 200 (new body), 304 (unchanged) or -1 with err, or -2 when a
 * pending signal stopped it; *modified_r gets Last-Modified (or -1). */
static int
download(const struct conf_feed *f, const char *url,
    const struct feed_state *fs, int have_copy, struct dl *d,
    long long *modified_r, char *err, size_t errlen)
{
	char	 ebuf[CURL_ERROR_SIZE] = "", hdr[300];
	struct curl_slist *hl = NULL;
	curl_off_t ft = -1;
	long	 code = 0, unmet = 0;
	CURLcode r;
	CURL	*cu;

	if ((cu = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "https,file");
	curl_easy_setopt(cu, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(cu, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, 2L);
	if (f->ca_file != NULL)
		curl_easy_setopt(cu, CURLOPT_CAINFO, f->ca_file);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT, (long)f->timeout);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, (long)f->timeout);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)d->max);
	/* Compressed if the server will (every encoding this libcurl
	 * decodes); on_body caps the decoded list at max_bytes. */
	curl_easy_setopt(cu, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(cu, CURLOPT_USERAGENT, "imapsift");
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, d);
	curl_easy_setopt(cu, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(cu, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(cu, CURLOPT_XFERINFOFUNCTION, on_progress);
	/* If-Modified-Since only without an ETag: a server ignores it beside
	 * If-None-Match, and libcurl would take a 200 whose Last-Modified
	 * is not newer (a change within the same second) for unchanged. */
	if (have_copy && fs->etag[0] != '\0') {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s", fs->etag);
		hl = curl_slist_append(hl, hdr);
		curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hl);
	} else if (have_copy && fs->modified > 0) {
		curl_easy_setopt(cu, CURLOPT_TIMECONDITION,
		    (long)CURL_TIMECOND_IFMODSINCE);
		curl_easy_setopt(cu, CURLOPT_TIMEVALUE_LARGE,
		    (curl_off_t)fs->modified);
	}
	r = curl_easy_perform(cu);
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(cu, CURLINFO_FILETIME_T, &ft);
	curl_easy_getinfo(cu, CURLINFO_CONDITION_UNMET, &unmet);
	curl_easy_cleanup(cu);
	curl_slist_free_all(hl);
	*modified_r = ft;
	if (d->over || r == CURLE_FILESIZE_EXCEEDED) {
		if (url == f->url)
			snprintf(err, errlen, "larger than max_bytes (%u)",
			    f->max_bytes);
		else
			snprintf(err, errlen, "larger than %zu bytes", d->max);
		return -1;
	}
	if (r == CURLE_ABORTED_BY_CALLBACK)
		return -2;
	if (r == CURLE_OPERATION_TIMEDOUT) {	/* curl's text has ms in it */
		snprintf(err, errlen, "timed out after %u s", f->timeout);
		return -1;
	}
	if (r != CURLE_OK) {
		snprintf(err, errlen, "%s", ebuf[0] != '\0' ? ebuf :
		    curl_easy_strerror(r));
		return -1;
	}
	if (unmet && have_copy)	/* If-Modified-Since said unchanged */
		return 304;
	if (strncasecmp(url, "file:", 5) == 0)
		return 200;
	if (code == 304)
		return have_copy ? 304 : (snprintf(err, errlen, "304 without "
		    "a copy"), -1);
	if (code != 200) {
		snprintf(err, errlen, "HTTP status %ld", code);
		return -1;
	}
	return 200;
}

/* ------------------------------------------------------------------ */
/* Reduction and the check.                                             */

static void
put_host(struct buf *o, const char *h)
{
	size_t	 n = strlen(h);

	if (o->len + n + 2 > o->cap) {
		o->cap = (o->len + n + 2) * 2;
		o->p = xrealloc(o->p, o->cap);
	}
	memcpy(o->p + o->len, h, n);
	o->len += n;
	o->p[o->len++] = '\n';
	o->p[o->len] = '\0';
}

static int
has_scheme(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i + 3 <= len; i++)
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			return 1;
	return 0;
}

/* Cloud storage hosts that serve everyone's buckets by path. */
static int
path_shared(const char *host)
{
	static const char *const hosts[] = {
		"storage.googleapis.com", "firebasestorage.googleapis.com",
		"storage.cloud.google.com", "s3.amazonaws.com",
	};
	size_t	 i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strcmp(host, hosts[i]) == 0)
			return 1;
	return 0;
}

/*
 * The hosts a URL feed's entries are not reduced to: those whose
 * registrable domain is on the shipped skip list (harvest-skip.list:
 * docs.google.com, a Dropbox share, a GitHub raw file, a form service),
 * and the cloud storage hosts that serve everyone's buckets by path.
 * There everyone's pages share one host name: the URL's path is the
 * phishing page, the host is everybody's, and listing it would junk
 * every message that links to it.  A name of its own under a shared
 * suffix (a bucket.s3.amazonaws.com) is kept.  (The storage hosts are
 * not on the skip list: learning may still list one from the user's own
 * Junk, where the user's ham is the evidence against it.)
 *
 * One line (no comment, trimmed, len > 0) of a domains, hosts or urls
 * feed into hosts in o; returns the hosts it gave, or -1 for a URL on a
 * shared host (skip), left out.
 */
static int
reduce_line(enum conf_feed_kind k, const char *s, size_t len, struct buf *o,
    const struct strlist *skip)
{
	char	 h[RULES_HOST_MAX + 8], u[2048], reg[RULES_HOST_MAX];
	const char *w;
	size_t	 wl;
	int	 n = 0, first = 1;

	if (k == CONF_FEED_URLS) {
		if (!has_scheme(s, len) && len + 8 < sizeof(u)) {
			snprintf(u, sizeof(u), "http://%.*s", (int)len, s);
			s = u;
			len = strlen(u);
		}
		if (rules_url_host(s, len, h, sizeof(h)) == -1)
			return 0;
		if ((rules_registrable_domain(h, reg, sizeof(reg)) == 0 &&
		    harvest_skipped(skip, reg)) || path_shared(h))
			return -1;
		put_host(o, h);
		return 1;
	}
	while (len > 0) {
		w = s;
		for (wl = 0; wl < len && s[wl] != ' ' && s[wl] != '\t'; wl++)
			;	/* bounded: s is not NUL-ended at the line */
		s += wl;
		len -= wl;
		while (len > 0 && (*s == ' ' || *s == '\t'))
			s++, len--;
		if (wl == 0)
			continue;
		/* hosts-file: the address first, then names. */
		if (k == CONF_FEED_HOSTS && first) {
			first = 0;
			continue;
		}
		if (k == CONF_FEED_DOMAINS && wl > 2 && w[0] == '*' &&
		    w[1] == '.')
			w += 2, wl -= 2;
		else if (k == CONF_FEED_DOMAINS && wl > 1 && w[0] == '.')
			w++, wl--;
		if (rules_host_normalise(w, wl, h, sizeof(h)) == 0 &&
		    strchr(h, '.') != NULL && strcmp(h, "localhost.localdomain")
		    != 0 && strcmp(h, "0.0.0.0") != 0) {
			put_host(o, h);
			n++;
		}
		if (k == CONF_FEED_DOMAINS)
			break;
	}
	return n;
}

/* The list file text of a download: "@weight W", then entries.  Returns
 * the number of lines that gave nothing (garbage) in *bad_r, and of URLs
 * left out as on a shared host in *shared_r. */
static void
reduce(const struct conf_feed *f, const char *p, size_t len, struct buf *o,
    size_t *lines_r, size_t *bad_r, size_t *shared_r)
{
	struct strlist skip = { NULL, 0, 0 };
	const char *e, *end = p + len;
	size_t	 n;
	char	 w[64];
	int	 r;

	snprintf(w, sizeof(w), "@weight %g", f->weight);
	o->len = 0;
	put_host(o, "# imapsift feed copy: replaced on each refresh");
	put_host(o, w);
	*lines_r = *bad_r = *shared_r = 0;
	if (f->kind == CONF_FEED_URLS)
		(void)harvest_skip_shipped(&skip);	/* logged */
	for (; p < end; p = e + 1) {
		e = memchr(p, '\n', (size_t)(end - p));
		if (e == NULL)
			e = end;
		n = (size_t)(e - p);
		if (memchr(p, '#', n) != NULL)
			n = (size_t)((const char *)memchr(p, '#', n) - p);
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
		    p[n - 1] == '\r'))
			n--;
		if (n == 0 || p[0] == '@')
			continue;	/* feeds do not set directives */
		(*lines_r)++;
		if (f->kind == CONF_FEED_PHONES || f->kind == CONF_FEED_PHRASES) {
			char	 *l = xmalloc(n + 1);

			memcpy(l, p, n);
			l[n] = '\0';
			if (memchr(l, '\0', n) != NULL)
				(*bad_r)++;
			else
				put_host(o, l);
			free(l);
		} else if (memchr(p, '\0', n) != NULL ||
		    (r = reduce_line(f->kind, p, n, o, &skip)) == 0)
			(*bad_r)++;
		else if (r == -1)
			(*shared_r)++;
		if (e == end)
			break;
	}
	strlist_free(&skip);
}

/* Line numbers named in rules_load's errors about path. */
static size_t
bad_lines(const char *errs, const char *path, unsigned *v, size_t max)
{
	size_t	 n = 0, pl = strlen(path);
	const char *p;

	for (p = errs; p != NULL && *p != '\0' && n < max; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, path, pl) == 0 && p[pl] == ':' &&
		    atoi(p + pl + 1) > 0)
			v[n++] = (unsigned)atoi(p + pl + 1);
	return n;
}

/* Drops the numbered lines (sorted ascending, 1-based) from o. */
static void
drop_lines(struct buf *o, const unsigned *v, size_t nv)
{
	size_t	 r = 0, w = 0, i = 0;
	unsigned line = 1;
	char	*e;

	while (r < o->len) {
		e = memchr(o->p + r, '\n', o->len - r);
		size_t n = e != NULL ? (size_t)(e - (o->p + r)) + 1 :
		    o->len - r;

		while (i < nv && v[i] < line)
			i++;
		if (i >= nv || v[i] != line) {
			memmove(o->p + w, o->p + r, n);
			w += n;
		}
		r += n;
		line++;
	}
	o->len = w;
	o->p[w] = '\0';
}

/* Writes o to tmp and loads it as the classifier would.  Returns the
 * entries, or -1 with err. */
static long long
check_copy(const struct conf_feed *f, const char *tmp, struct buf *o,
    size_t lines, char *err, size_t errlen)
{
	struct rules_opts opts = { 1, 0 };
	struct rules_set *rs = NULL;
	const char *paths[1] = { tmp };
	char	*errs = NULL;
	unsigned bad[1024];
	size_t	 nb, allow, try;
	long long n = -1;

	allow = 10 + lines / 100;	/* a few bad lines are dropped */
	for (try = 0; try < 2; try++) {
		if (write_atomic(tmp, o->p, o->len) == -1) {
			snprintf(err, errlen, "%.300s: %s", tmp,
			    log_strerror(errno));
			return -1;
		}
		errs = NULL;
		if (rules_load(&rs, paths, 1, &opts, &errs) == 0)
			break;
		rules_free(&rs);
		nb = bad_lines(errs, tmp, bad, sizeof(bad) / sizeof(bad[0]));
		if (try == 1 || nb == 0 || nb > allow ||
		    nb == sizeof(bad) / sizeof(bad[0])) {
			snprintf(err, errlen, "does not load as a %s list: %.*s",
			    feed_ext(f->kind), errs != NULL ?
			    (int)strcspn(errs, "\n") : 0, errs != NULL ? errs :
			    "");
			free(errs);
			unlink(tmp);
			return -1;
		}
		free(errs);
		qsort(bad, nb, sizeof(bad[0]), util_cmp_u32);
		drop_lines(o, bad, nb);
	}
	free(errs);
	if (rs != NULL) {
		n = (long long)(rules_count(rs, RULES_DOMAIN) +
		    rules_count(rs, RULES_PHONE) +
		    rules_count(rs, RULES_PHRASE));
		rules_free(&rs);
	}
	if (n <= 0) {
		snprintf(err, errlen, "no entries");
		unlink(tmp);
		return -1;
	}
	return n;
}

static int
sha256_ok(const struct conf_feed *f, const struct buf *b, char *err,
    size_t errlen)
{
	unsigned char md[32];
	char	 hex[65];
	size_t	 i;

	if (f->sha256 == NULL)
		return 0;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, b->p != NULL ? b->p : "",
	    b->len, md) != 0) {
		snprintf(err, errlen, "cannot hash the download");
		return -1;
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (strcmp(hex, f->sha256) != 0) {
		snprintf(err, errlen, "sha256 %s does not match", hex);
		return -1;
	}
	return 0;
}

/* Fetches f's signature (unconditionally: it is small and goes with
 * this download) and checks it over b.  Returns 0 with the trusted
 * comment in tc, -1 with err, or -2 when a pending signal stopped it. */
static int
sig_ok(const struct conf_feed *f, const struct buf *b, char *tc,
    size_t tclen, char *err, size_t errlen)
{
	struct feed_state none;
	struct dl sd;
	long long mod;
	char	 e[400] = "";
	int	 r;

	memset(&none, 0, sizeof(none));
	memset(&sd, 0, sizeof(sd));
	sd.max = FEEDSIG_MAX;
	r = download(f, f->signature, &none, 0, &sd, &mod, e, sizeof(e));
	if (r == 200)
		r = feedsig_verify(f, sd.body.p != NULL ? sd.body.p : "",
		    sd.body.len, b->p != NULL ? b->p : "", b->len, tc, tclen,
		    err, errlen);
	else if (r == -1)
		snprintf(err, errlen, "signature: %s", e);
	free(sd.body.p);
	return r;
}

/* A list signed before the copy in use (by the timestamps of minisign's
 * trusted comments, with the same key) is an old one served again: an
 * older copy would take back entries the newer one added.  0 when the
 * download may replace the copy; -1 with err. */
static int
not_older(const struct feed_state *fs, const char *key, const char *tc,
    char *err, size_t errlen)
{
	long long t = feedsig_timestamp(tc), t0;
	struct tm tm;
	time_t	 tt;
	char	 a[32], b[32];

	if (t < 0 || strcmp(fs->verified, key) != 0 ||
	    (t0 = feedsig_timestamp(fs->trusted)) < 0 || t >= t0)
		return 0;
	tt = (time_t)t;
	strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&tt, &tm));
	tt = (time_t)t0;
	strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&tt, &tm));
	snprintf(err, errlen, "signature: signed at %s, before the copy in "
	    "use (signed at %s): an old list served again, refused", a, b);
	return -1;
}

/* ------------------------------------------------------------------ */
/* One feed.                                                            */

/* Refreshes f; returns 1 when a new copy replaced the old, else 0. */
static int
feed_refresh(const char *dir, const struct conf_feed *f)
{
	struct feed_state fs;
	struct dl d;
	struct buf o = { NULL, 0, 0 };
	struct stat sb;
	char	 copy[4400], tmp[4400], err[512] = "", olderr[512];
	char	 key[96] = "", tc[256] = "";
	long long mod = -1, n;
	size_t	 lines, bad, shared;
	int	 r, have, changed = 0;

	state_read(dir, f->name, &fs);
	snprintf(olderr, sizeof(olderr), "%s", fs.error);
	snprintf(copy, sizeof(copy), "%s/%s.%s", dir, f->name,
	    feed_ext(f->kind));
	snprintf(tmp, sizeof(tmp), "%s/.state/%s.%s", dir, f->name,
	    feed_ext(f->kind));
	have = stat(copy, &sb) == 0;
	/* ETag and Last-Modified belong to the URL they came from: after
	 * the URL changes, the first request is unconditional. */
	if (strcmp(fs.url, f->url) != 0)
		fs.etag[0] = '\0', fs.modified = 0;
	/* Nor may a 304 keep a copy the configured key did not verify. */
	if (f->signature != NULL)
		snprintf(key, sizeof(key), "%s %s",
		    conf_sig_kind_name(f->sig_kind), f->pubkey);
	if (strcmp(fs.verified, key) != 0)
		fs.etag[0] = '\0', fs.modified = 0;
	memset(&d, 0, sizeof(d));
	d.max = f->max_bytes;
	fs.fetched = (long long)time(NULL);
	r = download(f, f->url, &fs, have, &d, &mod, err, sizeof(err));
	if (r == 200 && f->signature != NULL && (r = sig_ok(f, &d.body, tc,
	    sizeof(tc), err, sizeof(err))) == 0)
		r = not_older(&fs, key, tc, err, sizeof(err)) == 0 ? 200 : -1;
	if (r == -2) {		/* stopped for a signal: tried again later */
		free(d.body.p);
		return 0;
	}
	if (r == 304) {
		fs.ok = fs.fetched;
		err[0] = '\0';
	} else if (r == 200 && sha256_ok(f, &d.body, err, sizeof(err)) == 0) {
		reduce(f, d.body.p != NULL ? d.body.p : "", d.body.len, &o,
		    &lines, &bad, &shared);
		if (lines > 0 && bad > 10 + lines / 100)
			snprintf(err, sizeof(err), "%zu of %zu lines are not "
			    "%s entries", bad, lines,
			    conf_feed_kind_name(f->kind));
		else if ((n = check_copy(f, tmp, &o, lines, err,
		    sizeof(err))) >= 0) {
			if (rename(tmp, copy) == -1) {
				snprintf(err, sizeof(err), "%.300s: %s", copy,
				    log_strerror(errno));
				unlink(tmp);
			} else {
				changed = 1;
				fs.ok = fs.changed = fs.fetched;
				fs.entries = n;
				fs.shared = (long long)shared;
				fs.modified = mod > 0 ? mod : 0;
				snprintf(fs.etag, sizeof(fs.etag), "%s",
				    d.etag);
				snprintf(fs.url, sizeof(fs.url), "%s", f->url);
				snprintf(fs.verified, sizeof(fs.verified), "%s",
				    key);
				snprintf(fs.trusted, sizeof(fs.trusted), "%s",
				    tc);
				if (shared > 0)
					log_info("feed %s: %lld entries, %zu "
					    "URLs on shared hosts left out",
					    f->name, n, shared);
				else
					log_info("feed %s: %lld entries",
					    f->name, n);
			}
		}
	}
	snprintf(fs.error, sizeof(fs.error), "%s", err);
	if (err[0] != '\0' && strcmp(err, olderr) != 0)
		log_warnx("feed %s: %s%s", f->name, err, have ?
		    ": keeping the last good copy" : "");
	state_write(dir, f->name, &fs);
	free(d.body.p);
	free(o.p);
	return changed;
}

int
feeds_refresh(const struct conf *c, int force)
{
	static int inited;
	struct feed_state fs;
	char	 dir[4096];
	long long now = (long long)time(NULL);
	size_t	 i;
	int	 n = 0;

	if (c->nfeeds == 0 || feeds_dir(c, dir, sizeof(dir)) == -1)
		return 0;
	for (i = 0; i < c->nfeeds && !signal_pending(); i++) {
		state_read(dir, c->feeds[i].name, &fs);
		if (!force && fs.fetched > 0 && fs.fetched <= now &&
		    now - fs.fetched < (long long)c->feeds[i].interval)
			continue;
		if (!inited) {
			curl_global_init(CURL_GLOBAL_DEFAULT);
			inited = 1;
		}
		n += feed_refresh(dir, &c->feeds[i]);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* imapsift feeds                                                       */

static void
show_ago(const char *what, long long t, long long now)
{
	if (t <= 0)
		printf("  %s: never\n", what);
	else
		printf("  %s: %lld s ago\n", what, now - t);
}

/* A signed feed's key, and whether the copy was verified with it. */
static void
show_sig(const struct conf_feed *f, const struct feed_state *fs)
{
	char	 id[20], key[96];

	if (f->signature == NULL)
		return;
	feedsig_keyid(f->pubkey, id, sizeof(id));
	snprintf(key, sizeof(key), "%s %s", conf_sig_kind_name(f->sig_kind),
	    f->pubkey);
	printf("  signature: %s key %s, ", conf_sig_kind_name(f->sig_kind),
	    id);
	if (fs->changed <= 0)
		printf("no copy yet\n");
	else if (strcmp(fs->verified, key) != 0)
		printf("copy not verified with it\n");
	else if (fs->trusted[0] != '\0')
		printf("copy verified, trusted comment: %s\n", fs->trusted);
	else
		printf("copy verified\n");
}

static int
feeds_usage(FILE *f)
{
	fprintf(f, "usage: imapsift feeds [-c FILE] [--refresh]\n");
	return f == stdout ? EXIT_OK : EXIT_CONFIG;
}

/* `imapsift feeds`: each feed (fetched first with refresh set);
 * EXIT_FAIL when a last fetch failed. */
static int
show_feeds(const struct conf *c, int refresh)
{
	struct feed_state fs;
	char	 dir[4096];
	long long now;
	size_t	 i;
	int	 rc = EXIT_OK;

	if (feeds_dir(c, dir, sizeof(dir)) == -1)
		return EXIT_FAIL;
	if (refresh)
		feeds_refresh(c, 1);
	now = (long long)time(NULL);
	for (i = 0; i < c->nfeeds; i++) {
		state_read(dir, c->feeds[i].name, &fs);
		printf("%s: %s %s\n", c->feeds[i].name,
		    conf_feed_kind_name(c->feeds[i].kind), c->feeds[i].url);
		show_ago("last fetch", fs.fetched, now);
		printf("  entries: %lld\n", fs.entries);
		if (fs.shared > 0)
			printf("  left out: %lld URLs on shared hosts (their "
			    "path, not their host, is the page)\n", fs.shared);
		show_ago("copy age", fs.changed, now);
		show_sig(&c->feeds[i], &fs);
		printf("  last error: %s\n", fs.error[0] != '\0' ? fs.error :
		    "none");
		if (fs.error[0] != '\0')
			rc = EXIT_FAIL;
	}
	return rc;
}

int
cmd_feeds(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "refresh", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf *c = NULL;
	const char *cpath = NULL;
	int	 ch, refresh = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", lo, NULL)) != -1)
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		case 'R':
			refresh = 1;
			break;
		case 'h':
			return feeds_usage(stdout);
		default:
			return feeds_usage(stderr);
		}
	if (optind != argc)
		return feeds_usage(stderr);
	if (config_load(cpath, 0, &c) != OUT_OK)
		return EXIT_CONFIG;
	rc = EXIT_OK;
	if (c->nfeeds == 0 && c->ndnsbl == 0)
		printf("no feeds or DNS blocklists configured\n");
	else if (c->nfeeds > 0)
		rc = show_feeds(c, refresh);
	if (dnsbl_show(c, stdout) == 1)	/* a zone rests */
		rc = EXIT_FAIL;
	conf_free(&c);
	return rc;
}
