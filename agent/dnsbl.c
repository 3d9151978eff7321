/*
 * dnsbl.c: URI DNS blocklists with c-ares (see dnsbl.h).
 *
 * Answers live in a hash of entries keyed by (zone, domain).  An entry is
 * pending while its query is out; then listed, not listed (NXDOMAIN, no A
 * record, or a code that does not count), an error answer, or failed (a
 * timeout, SERVFAIL, a refused query, a malformed packet; the packet is
 * read by dnsbl-answer.c).  Listed and not-listed answers are
 * kept until their TTL (not-listed ones by the SOA's negative TTL) and
 * written to the store; failures are not asked again for a minute, in
 * memory only; error answers are never kept, and rest their zone.
 * Entries stay while a message refers to them: expired ones are only
 * dropped by dnsbl_flush when no message is waiting.
 */
#include <ares.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/dnsbl.h"
#include "agent/harvest.h"
#include "agent/log.h"
#include "agent/util.h"
#include "conf/conf.h"
#include "rules/rules.h"
#include "store/store.h"

#define TTL_MIN		30	/* s an answer is kept at least */
#define TTL_MAX		86400	/* ... at most */
#define TTL_NEG_DEF	300	/* not listed, without an SOA to say */
#define RETRY_FAILED	60	/* s before a failed query is asked again */
#define NBUCKETS	4096	/* to start with; doubled at one entry a bucket */
#define MAX_ADDRS	8
/* Queries out at once, at most: a burst of thousands (a batch's worth)
 * overflows the UDP receive buffers of the resolver and of this
 * process (a few hundred datagrams each by default), and what is dropped
 * would only time out.  The rest wait their turn in a queue. */
#define MAX_INFLIGHT	100
/* Timeouts in a row after which a zone that does not answer is left out
 * for DEAD_REST seconds (this process only): a dead resolver then costs
 * one query timeout, not one per wave of MAX_INFLIGHT. */
#define DEAD_AFTER	20
#define DEAD_REST	300
/* The name each zone is asked about with the first query of a process
 * (and hourly after): under .invalid (RFC 2606), which no list can hold.
 * A zone that lists it lists every name (a list shut down answers so to
 * make its users stop, a wildcard left behind): it rests like one that
 * answers an error code, and what it said of the messages waiting on
 * the probe never counts. */
#define PROBE_NAME	"imapsift-probe.invalid"
#define PROBE_EVERY	3600

enum { E_PENDING, E_LISTED = DNSBL_LISTED, E_CLEAN = DNSBL_CLEAN,
    E_ERROR = DNSBL_ERROR, E_FAILED };

struct ent {
	struct ent *next;	/* hash chain */
	uint32_t h;		/* hash of domain and zone */
	struct ent *qnext;	/* waiting to be sent */
	struct dnsbl *d;
	char	*domain;
	int	 zone;
	int	 state;		/* E_* */
	int	 stored;	/* came from the store */
	int	 dirty;		/* to be written to the store */
	int	 probe;		/* PROBE_NAME: never kept, never a hit */
	uint32_t addr;		/* the answer (0: none) */
	time_t	 expires;	/* good until; failed: asked again after */
	char	 why[200];	/* what the answer meant */
};

struct zone {
	const struct conf_dnsbl *c;
	time_t	 since, until;	/* resting from, until */
	char	 reason[300];
	int	 dirty;
	unsigned timeouts;	/* in a row */
	time_t	 dead_until;	/* left out after DEAD_AFTER timeouts */
	time_t	 probe_next;	/* when PROBE_NAME is asked again */
};

struct dnsbl {
	const struct conf *c;
	struct store *st;
	ares_channel ch;
	struct zone *z;
	size_t	 nz;
	struct ent **tab;	/* nbuckets chains, a power of 2 */
	size_t	 nbuckets, nents;
	struct rules_strset *own;	/* flag 1: the user's, 0: correspondents' */
	struct strlist big;	/* the shipped skip list: never asked */
	int	 loaded;	/* zone rests and answers read from a store */
	unsigned long queries, answers;
	size_t	 npending, nactive;	/* entries pending; messages */
	size_t	 inflight;	/* queries out */
	int	 launching;
	struct ent *qh, **qt;	/* pending entries not sent yet */
};

struct dnsbl_q {
	char	*name;		/* the domain (or the host, when skipped) */
	int	 zone;		/* -1: every zone (skipped) */
	struct ent *e;		/* NULL: not asked */
	char	*skip;		/* why not asked */
	int	 cached;	/* answered before this message asked */
	int	 probe;		/* the zone's probe, waited for */
};

struct dnsbl_msg {
	struct dnsbl *d;
	struct dnsbl_q *q;
	size_t	 nq, cap;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status;

static void
lib_init(void)
{
	lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* ------------------------------------------------------------------ */
/* Answers.                                                             */

static void
addr_str(uint32_t a, char *out, size_t outsz)
{
	snprintf(out, outsz, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255);
}

static time_t
clamp_ttl(uint32_t ttl)
{
	return ttl < TTL_MIN ? TTL_MIN : ttl > TTL_MAX ? TTL_MAX :
	    (time_t)ttl;
}

static void
hhmm(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	strftime(out, outsz, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
}

/* Zone zi answered a (an error, why) for domain: it rests, said once. */
static void
zone_rest(struct dnsbl *d, int zi, uint32_t a, const char *why,
    const char *domain)
{
	struct zone *z = &d->z[zi];
	time_t now = time(NULL);
	char ip[20], until[32];

	if (z->until > now)
		return;
	addr_str(a, ip, sizeof(ip));
	z->since = now;
	z->until = now + (time_t)d->c->dnsbl_cooldown;
	snprintf(z->reason, sizeof(z->reason), "answered %s for %s: %s", ip,
	    domain, why);
	z->dirty = 1;
	hhmm(z->until, until, sizeof(until));
	log_warnx("dnsbl: %s %s; not asked until %s, and no answer from it "
	    "counts", z->c->zone, z->reason, until);
}

static void
fail(struct ent *e, const char *why)
{
	e->state = E_FAILED;
	e->expires = time(NULL) + RETRY_FAILED;
	snprintf(e->why, sizeof(e->why), "%s", why);
}

/* Fails the entries still waiting to be sent (of zone zi; -1: all). */
static void
drop_queued(struct dnsbl *d, int zi, const char *why)
{
	struct ent **pp = &d->qh, *e;

	while ((e = *pp) != NULL) {
		if (zi != -1 && e->zone != zi) {
			pp = &e->qnext;
			continue;
		}
		*pp = e->qnext;
		e->qnext = NULL;
		d->npending--;
		fail(e, why);
	}
	d->qt = pp;
}

static void	launch(struct dnsbl *);

/* One more timeout in a row for zone zi: after DEAD_AFTER the zone is
 * left out for DEAD_REST seconds, said once. */
static void
zone_timeout(struct dnsbl *d, int zi)
{
	struct zone *z = &d->z[zi];
	time_t now = time(NULL);

	if (++z->timeouts < DEAD_AFTER || z->dead_until > now)
		return;
	z->dead_until = now + DEAD_REST;
	log_warnx("dnsbl: %s: %u queries in a row timed out: not asked for "
	    "%d s", z->c->zone, z->timeouts, DEAD_REST);
	drop_queued(d, zi, "the zone does not answer: not asked");
}

/* An answer to keep: written to the store, but for a probe's, which
 * only stays in memory until the zone is probed again. */
static void
keep(struct ent *e, time_t now)
{
	e->dirty = !e->probe;
	if (e->probe)
		e->expires = now + PROBE_EVERY;
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct ent *e = arg;
	struct dnsbl *d = e->d;
	uint32_t addrs[MAX_ADDRS], ttl, neg;
	const char *why = NULL, *w;
	time_t now = time(NULL);
	int na = 0, i, s, best = -1;

	(void)timeouts;
	d->npending--;
	d->inflight--;
	d->answers++;
	if (status == ARES_EDESTRUCTION) {
		e->state = E_FAILED;
		snprintf(e->why, sizeof(e->why), "not answered before exit");
		return;
	}
	if (status == ARES_ETIMEOUT)
		zone_timeout(d, e->zone);
	else if (status != ARES_ECANCELLED)	/* it answered */
		d->z[e->zone].timeouts = 0;
	launch(d);
	if (status != ARES_SUCCESS && status != ARES_ENOTFOUND &&
	    status != ARES_ENODATA) {
		fail(e, status == ARES_ETIMEOUT ? "timeout" :
		    status == ARES_ECANCELLED ?
		    "cancelled: no answer within the wait" :
		    ares_strerror(status));
		return;
	}
	/* A packet that does not parse is no answer: whatever records it
	 * held before the break never count, and nothing is kept. */
	if (dnsbl_answer_parse(abuf, alen, addrs, MAX_ADDRS, &na, &ttl,
	    &neg) == -1) {
		fail(e, "a malformed answer, not read");
		return;
	}
	if (status != ARES_SUCCESS || na == 0) {
		e->state = E_CLEAN;
		e->addr = 0;
		e->expires = now + (neg > 0 ? clamp_ttl(neg) : TTL_NEG_DEF);
		snprintf(e->why, sizeof(e->why), "%s",
		    status == ARES_ENOTFOUND ? "NXDOMAIN" : "no A record");
		keep(e, now);
		return;
	}
	e->state = E_CLEAN;
	for (i = 0; i < na; i++) {
		s = dnsbl_answer_judge(d->z[e->zone].c, addrs[i], &w);
		if (s == E_ERROR) {
			e->state = E_ERROR;
			e->addr = addrs[i];
			why = w;
			break;
		}
		if (s == E_LISTED && best == -1)
			best = i;
		if (i == 0)
			why = w;
	}
	if (e->state == E_ERROR) {
		e->expires = now;	/* never kept */
		snprintf(e->why, sizeof(e->why), "%s", why);
		zone_rest(d, e->zone, e->addr, why, e->domain);
		return;
	}
	e->state = best != -1 ? E_LISTED : E_CLEAN;
	e->addr = addrs[best != -1 ? best : 0];
	e->expires = now + clamp_ttl(ttl);
	snprintf(e->why, sizeof(e->why), "%s", best != -1 ? "listed" : why);
	keep(e, now);
	if (e->probe && e->state == E_LISTED) {
		e->state = E_ERROR;
		snprintf(e->why, sizeof(e->why), "the zone lists every name, "
		    "even %s (a list shut down, or a wildcard)", PROBE_NAME);
		zone_rest(d, e->zone, e->addr, e->why, e->domain);
	}
}

/* ------------------------------------------------------------------ */
/* The cache.                                                           */

static uint32_t
hash(const char *domain, int zone)
{
	uint32_t h = 2166136261u ^ (uint32_t)zone;

	for (; *domain != '\0'; domain++)
		h = (h ^ (unsigned char)*domain) * 16777619u;
	return h;
}

/* Twice the buckets, each chain split by the next bit of its hashes. */
static void
grow(struct dnsbl *d)
{
	struct ent **tab, *e;
	size_t	 n = d->nbuckets * 2, i;

	tab = xcalloc(n, sizeof(*tab));
	for (i = 0; i < d->nbuckets; i++)
		while ((e = d->tab[i]) != NULL) {
			d->tab[i] = e->next;
			e->next = tab[e->h & (n - 1)];
			tab[e->h & (n - 1)] = e;
		}
	free(d->tab);
	d->tab = tab;
	d->nbuckets = n;
}

static struct ent *
ent_get(struct dnsbl *d, const char *domain, int zone, int make)
{
	struct ent **pp, *e;
	uint32_t h = hash(domain, zone);

	pp = &d->tab[h & (d->nbuckets - 1)];
	for (e = *pp; e != NULL; e = e->next)
		if (e->h == h && e->zone == zone &&
		    strcmp(e->domain, domain) == 0)
			return e;
	if (!make)
		return NULL;
	if (d->nents >= d->nbuckets && d->nbuckets < ((size_t)1 << 30)) {
		grow(d);
		pp = &d->tab[h & (d->nbuckets - 1)];
	}
	e = xcalloc(1, sizeof(*e));
	e->d = d;
	e->h = h;
	e->domain = xstrdup(domain);
	e->zone = zone;
	e->state = E_FAILED;
	e->next = *pp;
	*pp = e;
	d->nents++;
	return e;
}

static int
zone_index(const struct dnsbl *d, const char *zone)
{
	size_t	 i;

	for (i = 0; i < d->nz; i++)
		if (strcmp(d->z[i].c->zone, zone) == 0)
			return (int)i;
	return -1;
}

static void
load_row(void *ctx, const struct store_dnsbl_row *row)
{
	struct dnsbl *d = ctx;
	struct ent *e;
	const char *why;
	int zi = zone_index(d, row->zone);

	if (zi == -1)
		return;
	e = ent_get(d, row->domain, zi, 1);
	e->addr = row->addr;
	e->expires = row->expires;
	e->stored = 1;
	if (row->addr == 0) {
		e->state = E_CLEAN;
		snprintf(e->why, sizeof(e->why), "NXDOMAIN or no A record");
		return;
	}
	/* Judged again: the codes may have changed since. */
	e->state = dnsbl_answer_judge(d->z[zi].c, row->addr, &why);
	if (e->state == E_ERROR)
		e->expires = 0;
	snprintf(e->why, sizeof(e->why), "%s", why != NULL ? why : "listed");
}

static void
add_corr(void *ctx, const char *addr)
{
	struct dnsbl *d = ctx;
	char	 dom[RULES_HOST_MAX], host[RULES_HOST_MAX];
	const char *at = strrchr(addr, '@');

	if (at == NULL || rules_host_normalise(at + 1, strlen(at + 1), host,
	    sizeof(host)) == -1 || rules_registrable_domain(host, dom,
	    sizeof(dom)) == -1)
		return;
	if (rules_strset_add(d->own, dom, 0, 0, 0) == -1)
		fatalx("out of memory");
}

void
dnsbl_add_own(struct dnsbl *d, const char *addr)
{
	char	 dom[RULES_HOST_MAX], host[RULES_HOST_MAX];
	const char *at = strrchr(addr, '@');
	struct rules_origin o;

	if (d == NULL || at == NULL || rules_host_normalise(at + 1,
	    strlen(at + 1), host, sizeof(host)) == -1 ||
	    rules_registrable_domain(host, dom, sizeof(dom)) == -1)
		return;
	if (rules_strset_get(d->own, dom, strlen(dom), &o))
		return;
	if (rules_strset_add(d->own, dom, 0, 0, 1) == -1)
		fatalx("out of memory");
}

/* The zones' rests and the answers still good, from st: once. */
static void
load(struct dnsbl *d, struct store *st)
{
	char	 err[512];
	size_t	 i;

	d->loaded = 1;
	for (i = 0; i < d->nz; i++)
		if (store_dnsbl_zone_get(st, d->z[i].c->zone, &d->z[i].since,
		    &d->z[i].until, d->z[i].reason, sizeof(d->z[i].reason),
		    err, sizeof(err)) == -1)
			log_warnx("dnsbl: %s", err);
		else if (d->z[i].until > time(NULL))
			log_debug("dnsbl: %s rests: %s", d->z[i].c->zone,
			    d->z[i].reason);
	if (store_dnsbl_each(st, time(NULL), load_row, d, err,
	    sizeof(err)) == -1)
		log_warnx("dnsbl: %s", err);
}

void
dnsbl_set_store(struct dnsbl *d, struct store *st)
{
	if (d == NULL || d->st == st)
		return;
	dnsbl_flush(d);		/* into the store it had */
	d->st = st;
	if (st == NULL)
		return;
	if (!d->loaded)
		load(d, st);
	dnsbl_correspondents(d);
}

void
dnsbl_correspondents(struct dnsbl *d)
{
	char	 err[512];

	if (d != NULL && d->st != NULL && store_correspondent_each(d->st,
	    add_corr, d, err, sizeof(err)) == -1)
		log_warnx("dnsbl: %s", err);
}

/* ------------------------------------------------------------------ */
/* The resolver.                                                        */

struct dnsbl *
dnsbl_new(const struct conf *c, struct store *st)
{
	struct ares_options opt;
	struct dnsbl *d;
	size_t	 i;
	int	 r;

	if (c == NULL || c->ndnsbl == 0)
		return NULL;
	pthread_once(&lib_once, lib_init);	/* watch: a thread each */
	if (lib_status != ARES_SUCCESS) {
		log_warnx("dnsbl: c-ares: %s: no DNS blocklist is asked",
		    ares_strerror(lib_status));
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->c = c;
	d->qt = &d->qh;
	d->nbuckets = NBUCKETS;
	d->tab = xcalloc(d->nbuckets, sizeof(*d->tab));
	memset(&opt, 0, sizeof(opt));
	opt.timeout = (int)c->dnsbl_timeout;
	opt.tries = 1;
	opt.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES |
	    ARES_FLAG_STAYOPEN | ARES_FLAG_NOCHECKRESP;
	r = ares_init_options(&d->ch, &opt, ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_FLAGS);
	if (r == ARES_SUCCESS && c->dns_server != NULL)
		r = ares_set_servers_ports_csv(d->ch, c->dns_server);
	if (r != ARES_SUCCESS) {
		log_warnx("dnsbl: c-ares: %s: no DNS blocklist is asked",
		    ares_strerror(r));
		if (d->ch != NULL)
			ares_destroy(d->ch);
		free(d->tab);
		free(d);
		return NULL;
	}
	if ((d->own = rules_strset_new()) == NULL)
		fatalx("out of memory");
	(void)harvest_skip_shipped(&d->big);	/* logged */
	d->nz = c->ndnsbl;
	d->z = xcalloc(d->nz, sizeof(*d->z));
	for (i = 0; i < d->nz; i++)
		d->z[i].c = &c->dnsbl[i];
	dnsbl_set_store(d, st);
	return d;
}

void
dnsbl_free(struct dnsbl **dp)
{
	struct dnsbl *d = *dp;
	struct ent *e;
	size_t	 i;

	if (d == NULL)
		return;
	drop_queued(d, -1, "not sent before exit");
	ares_destroy(d->ch);	/* pending callbacks run: ARES_EDESTRUCTION */
	dnsbl_flush(d);
	for (i = 0; i < d->nbuckets; i++)
		while ((e = d->tab[i]) != NULL) {
			d->tab[i] = e->next;
			free(e->domain);
			free(e);
		}
	free(d->tab);
	rules_strset_free(&d->own);
	strlist_free(&d->big);
	free(d->z);
	free(d);
	*dp = NULL;
}

/* Sends queued queries while fewer than MAX_INFLIGHT are out. */
static void
launch(struct dnsbl *d)
{
	const struct conf_dnsbl *z;
	struct ent *e;
	char	 name[600];

	if (d->launching)	/* a callback from ares_query itself */
		return;
	d->launching = 1;
	while (d->inflight < MAX_INFLIGHT && (e = d->qh) != NULL) {
		if ((d->qh = e->qnext) == NULL)
			d->qt = &d->qh;
		e->qnext = NULL;
		z = d->z[e->zone].c;
		snprintf(name, sizeof(name), "%s.%s%s%s", e->domain,
		    z->dqs_key != NULL ? z->dqs_key : "", z->dqs_key != NULL ?
		    "." : "", z->zone);
		d->inflight++;
		d->queries++;
		ares_query(d->ch, name, 1 /* IN */, 1 /* A */, on_answer, e);
	}
	d->launching = 0;
}

static void
send_query(struct dnsbl *d, struct ent *e)
{
	const struct conf_dnsbl *z = d->z[e->zone].c;

	e->stored = 0;
	e->dirty = 0;
	if (strlen(e->domain) + strlen(z->zone) + (z->dqs_key != NULL ?
	    strlen(z->dqs_key) + 1 : 0) + 1 > 253) {
		fail(e, "query name too long");
		return;
	}
	e->state = E_PENDING;
	d->npending++;
	*d->qt = e;
	d->qt = &e->qnext;
	launch(d);
}

void
dnsbl_poll(struct dnsbl *d, int ms)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	struct timeval max, tv, *tvp;
	unsigned bits;
	int	 i, n = 0, r, rd, wr, wait;

	if (d == NULL || d->npending == 0)
		return;
	/* ARES_GETSOCK_WRITABLE shifts an int by 31 for the last socket:
	 * the same bits, unsigned. */
	bits = (unsigned)ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
	for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		rd = (bits & (1u << i)) != 0;
		wr = (bits & (1u << (i + ARES_GETSOCK_MAXNUM))) != 0;
		if (!rd && !wr)
			continue;
		pfd[n].fd = socks[i];
		pfd[n].events = (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0));
		pfd[n++].revents = 0;
	}
	max.tv_sec = ms / 1000;
	max.tv_usec = (ms % 1000) * 1000;
	tvp = ares_timeout(d->ch, &max, &tv);
	wait = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
	r = poll(pfd, (nfds_t)n, wait);
	for (i = 0; r > 0 && i < n; i++)
		if (pfd[i].revents != 0)
			ares_process_fd(d->ch, pfd[i].revents & (POLLIN |
			    POLLERR | POLLHUP) ? pfd[i].fd : ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ? pfd[i].fd :
			    ARES_SOCKET_BAD);
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

void
dnsbl_wait(struct dnsbl *d, const struct dnsbl_msg *m)
{
	double	 grace, end, left;
	unsigned long seen;

	if (d == NULL)
		return;
	grace = d->c->dnsbl_timeout / 1000.0 + 0.5;
	end = util_mono_now() + grace;
	seen = d->answers;
	while (m != NULL ? !dnsbl_done(m) : d->npending > 0) {
		if (d->answers != seen) {	/* progress: a queue drains */
			seen = d->answers;
			end = util_mono_now() + grace;
		}
		left = end - util_mono_now();
		if (left <= 0) {
			drop_queued(d, -1, "cancelled: no answer within the "
			    "wait");
			ares_cancel(d->ch);
			break;
		}
		dnsbl_poll(d, left > 0.1 ? 100 : (int)(left * 1000) + 1);
	}
}

unsigned long
dnsbl_queries(const struct dnsbl *d)
{
	return d != NULL ? d->queries : 0;
}

void
dnsbl_flush(struct dnsbl *d)
{
	struct store_dnsbl_row *rows = NULL;
	struct ent *e, **pp;
	size_t	 n = 0, cap = 0, i;
	time_t	 now = time(NULL);
	char	 err[512];

	if (d == NULL)
		return;
	for (i = 0; d->st != NULL && i < d->nbuckets; i++)
		for (e = d->tab[i]; e != NULL; e = e->next) {
			if (!e->dirty)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				rows = xrealloc(rows, cap * sizeof(*rows));
			}
			rows[n].zone = d->z[e->zone].c->zone;
			rows[n].domain = e->domain;
			rows[n].addr = e->addr;
			rows[n++].expires = e->expires;
		}
	if (n > 0 && store_dnsbl_put(d->st, rows, n, now, err,
	    sizeof(err)) == -1)
		log_warnx("dnsbl: answers not kept: %s", err);
	else
		for (i = 0; i < d->nbuckets; i++)
			for (e = d->tab[i]; e != NULL; e = e->next)
				e->dirty = 0;
	free(rows);
	for (i = 0; d->st != NULL && i < d->nz; i++)
		if (d->z[i].dirty) {
			if (store_dnsbl_zone_set(d->st, d->z[i].c->zone,
			    d->z[i].since, d->z[i].until, d->z[i].reason, err,
			    sizeof(err)) == -1)
				log_warnx("dnsbl: %s", err);
			else
				d->z[i].dirty = 0;
		}
	if (d->nactive > 0)
		return;
	for (i = 0; i < d->nbuckets; i++)
		for (pp = &d->tab[i]; (e = *pp) != NULL; ) {
			if (e->state != E_PENDING && !e->dirty &&
			    e->expires < now) {
				*pp = e->next;
				free(e->domain);
				free(e);
				d->nents--;
			} else
				pp = &e->next;
		}
}

/* ------------------------------------------------------------------ */
/* One message.                                                         */

static struct dnsbl_q *
add_q(struct dnsbl_msg *m, const char *name, int zone, const char *skip)
{
	struct dnsbl_q *q;

	if (m->nq == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->q = xrealloc(m->q, m->cap * sizeof(*m->q));
	}
	q = &m->q[m->nq++];
	memset(q, 0, sizeof(*q));
	q->name = xstrdup(name);
	q->zone = zone;
	q->skip = skip != NULL ? xstrdup(skip) : NULL;
	return q;
}

static int
has_name(const struct dnsbl_msg *m, const char *name)
{
	size_t	 i;

	for (i = 0; i < m->nq; i++)
		if (strcmp(m->q[i].name, name) == 0)
			return 1;
	return 0;
}

/* Asks (or finds the answer of) zone zi about dom for m. */
static void
ask(struct dnsbl *d, struct dnsbl_msg *m, const char *dom, int zi,
    time_t now)
{
	struct dnsbl_q *q = add_q(m, dom, zi, NULL);
	struct ent *e = ent_get(d, dom, zi, 1);

	q->e = e;
	if (e->state == E_PENDING)
		return;
	if ((e->state == E_LISTED || e->state == E_CLEAN ||
	    e->state == E_FAILED) && e->expires > now) {
		q->cached = 1;
		return;
	}
	send_query(d, e);
}

/* Zone zi is to be asked for m: its probe goes out first when due, and
 * m waits for the probe's answer while it is out. */
static void
probe(struct dnsbl *d, struct dnsbl_msg *m, int zi, time_t now)
{
	struct zone *z = &d->z[zi];
	struct dnsbl_q *q;
	struct ent *e;
	size_t	 i;

	e = ent_get(d, PROBE_NAME, zi, 1);
	e->probe = 1;
	if (e->state != E_PENDING && now >= z->probe_next) {
		z->probe_next = now + PROBE_EVERY;
		send_query(d, e);
	}
	if (e->state != E_PENDING)
		return;
	for (i = 0; i < m->nq; i++)
		if (m->q[i].probe && m->q[i].zone == zi)
			return;
	q = add_q(m, PROBE_NAME, zi, NULL);
	q->e = e;
	q->probe = 1;
}

struct dnsbl_msg *
dnsbl_start(struct dnsbl *d, const struct rules_set *rs, char *const *hosts,
    size_t n)
{
	struct dnsbl_msg *m;
	struct rules_origin o;
	struct rules_hit hit;
	char	 dom[RULES_HOST_MAX], buf[600], until[32];
	const char *skip;
	time_t	 now = time(NULL);
	unsigned asked = 0;
	size_t	 i, zi;

	m = xcalloc(1, sizeof(*m));
	m->d = d;
	d->nactive++;
	for (i = 0; i < n; i++) {
		skip = NULL;
		if (rules_is_ip(hosts[i]))
			skip = "an IP literal";
		else if (rules_registrable_domain(hosts[i], dom,
		    sizeof(dom)) == -1)
			skip = "no registrable domain";
		if (skip != NULL) {
			if (!has_name(m, hosts[i]))
				add_q(m, hosts[i], -1, skip);
			continue;
		}
		if (has_name(m, dom))
			continue;
		if (rules_match_allow_host(rs, hosts[i], &hit)) {
			snprintf(buf, sizeof(buf), "allow-listed (%s:%u)",
			    hit.file, hit.line);
			add_q(m, dom, -1, buf);
			continue;
		}
		if (rules_strset_get(d->own, dom, strlen(dom), &o)) {
			add_q(m, dom, -1, o.flag ? "your own domain" :
			    "a correspondent's domain");
			continue;
		}
		/* Its registrable domain only: a bucket or a page of its
		 * own under a shared name (x.s3.amazonaws.com) is asked. */
		if (harvest_skipped(&d->big, dom)) {
			add_q(m, dom, -1, "a big site (harvest-skip.list), "
			    "not a spammer's");
			continue;
		}
		for (zi = 0; zi < d->nz; zi++) {
			if (d->z[zi].dead_until > now) {
				hhmm(d->z[zi].dead_until, until, sizeof(until));
				snprintf(buf, sizeof(buf), "the zone did not "
				    "answer (%u timeouts in a row): not asked "
				    "until %s", DEAD_AFTER, until);
				add_q(m, dom, (int)zi, buf);
			} else if (d->z[zi].until > now) {
				hhmm(d->z[zi].until, until, sizeof(until));
				snprintf(buf, sizeof(buf), "the zone rests "
				    "until %s (%s)", until, d->z[zi].reason);
				add_q(m, dom, (int)zi, buf);
			} else if (asked >= d->c->max_dnsbl_queries) {
				snprintf(buf, sizeof(buf), "past "
				    "max_dnsbl_queries (%u)",
				    d->c->max_dnsbl_queries);
				add_q(m, dom, (int)zi, buf);
			} else {
				asked++;
				probe(d, m, (int)zi, now);
				ask(d, m, dom, (int)zi, now);
			}
		}
	}
	return m;
}

int
dnsbl_done(const struct dnsbl_msg *m)
{
	size_t	 i;

	for (i = 0; i < m->nq; i++)
		if (m->q[i].e != NULL && m->q[i].e->state == E_PENDING)
			return 0;
	return 1;
}

double
dnsbl_score(struct dnsbl *d, const struct dnsbl_msg *m, char **why_r)
{
	struct buf b = { NULL, 0, 0 };
	char	 ip[20], item[800];
	time_t	 now = time(NULL);
	double	 w = 0;
	size_t	 i, j, zi;
	int	 seen;

	*why_r = NULL;
	for (zi = 0; zi < d->nz; zi++) {
		if (d->z[zi].until > now)	/* resting: nothing counts */
			continue;
		for (i = 0, seen = 0; i < m->nq; i++) {
			if (m->q[i].e == NULL || m->q[i].zone != (int)zi ||
			    m->q[i].e->state != E_LISTED)
				continue;
			if (!seen)
				w += d->z[zi].c->weight;
			seen = 1;
			addr_str(m->q[i].e->addr, ip, sizeof(ip));
			j = (size_t)snprintf(item, sizeof(item),
			    "%sdnsbl:%s@%s=%s", b.len ? "; " : "",
			    m->q[i].name, d->z[zi].c->zone, ip);
			if (b.len + j + 1 > b.cap) {
				b.cap = (b.len + j + 1) * 2;
				b.p = xrealloc(b.p, b.cap);
			}
			memcpy(b.p + b.len, item, j + 1);
			b.len += j;
		}
	}
	*why_r = b.p;
	return w;
}

void
dnsbl_explain(struct dnsbl *d, const struct dnsbl_msg *m, FILE *f)
{
	const struct dnsbl_q *q;
	const struct ent *e;
	char	 ip[20], until[32];
	time_t	 now = time(NULL);
	size_t	 i;

	fprintf(f, "dnsbl: %lu quer%s sent (max_dnsbl_queries %u, timeout "
	    "%u ms)\n", d->queries, d->queries == 1 ? "y" : "ies",
	    d->c->max_dnsbl_queries, d->c->dnsbl_timeout);
	if (m->nq == 0)
		fprintf(f, "  (no URL domain to ask about)\n");
	for (i = 0; i < m->nq; i++) {
		q = &m->q[i];
		if (q->zone == -1) {
			fprintf(f, "  %s: not asked: %s\n", q->name, q->skip);
			continue;
		}
		fprintf(f, "  %s @ %s%s: ", q->name, d->z[q->zone].c->zone,
		    q->probe ? " (the zone's probe)" : "");
		if ((e = q->e) == NULL) {
			fprintf(f, "not asked: %s\n", q->skip);
			continue;
		}
		addr_str(e->addr, ip, sizeof(ip));
		hhmm(e->expires, until, sizeof(until));
		switch (e->state) {
		case E_PENDING:
			fprintf(f, "no answer yet\n");
			break;
		case E_LISTED:
			fprintf(f, "%s: listed (weight %g)%s", ip,
			    d->z[q->zone].c->weight,
			    d->z[q->zone].until > now ? "; the zone rests "
			    "since: does not count" : "");
			break;
		case E_CLEAN:
			if (e->addr != 0)
				fprintf(f, "%s: not listed (%s)", ip, e->why);
			else
				fprintf(f, "not listed (%s)", e->why);
			break;
		case E_ERROR:
			fprintf(f, "%s: an error answer, not a hit: %s; the "
			    "zone rests until ", ip, e->why);
			hhmm(d->z[q->zone].until, until, sizeof(until));
			fprintf(f, "%s\n", until);
			continue;
		default:
			fprintf(f, "no answer (%s): counts as not listed\n",
			    e->why);
			continue;
		}
		if (q->cached)
			fprintf(f, " [cached%s, until %s]", e->stored ?
			    " in the store" : "", until);
		fputc('\n', f);
	}
}

void
dnsbl_msg_free(struct dnsbl_msg **mp)
{
	struct dnsbl_msg *m = *mp;
	size_t	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nq; i++) {
		free(m->q[i].name);
		free(m->q[i].skip);
	}
	free(m->q);
	m->d->nactive--;
	free(m);
	*mp = NULL;
}

/* ------------------------------------------------------------------ */
/* imapsift feeds.                                                      */

int
dnsbl_show(const struct conf *c, FILE *f)
{
	struct store *st = NULL;
	char	 dir[4096], path[4200], err[512], reason[300], t1[32], t2[32];
	time_t	 since, until, now = time(NULL);
	size_t	 i;
	int	 r, resting = 0;

	if (c->ndnsbl == 0 || account_store_dir(c, dir, sizeof(dir)) == -1)
		return 0;
	snprintf(path, sizeof(path), "%s/imapsift.db", dir);
	if (access(path, F_OK) == 0 && store_open(&st, path, STORE_RDONLY, 0,
	    err, sizeof(err)) == -1)
		fprintf(f, "dnsbl: zone state unknown: %s\n", err);
	for (i = 0; i < c->ndnsbl; i++) {
		fprintf(f, "dnsbl %s: %s, weight %g%s\n", c->dnsbl[i].zone,
		    conf_dnsbl_kind_name(c->dnsbl[i].kind), c->dnsbl[i].weight,
		    c->dnsbl[i].dqs_key != NULL ? ", DQS key" : "");
		r = st != NULL ? store_dnsbl_zone_get(st, c->dnsbl[i].zone,
		    &since, &until, reason, sizeof(reason), err,
		    sizeof(err)) : 0;
		if (r == -1)
			fprintf(f, "  state: unknown: %s\n", err);
		else if (r == 1 && until > now) {
			hhmm(since, t1, sizeof(t1));
			hhmm(until, t2, sizeof(t2));
			fprintf(f, "  state: resting since %s until %s\n"
			    "  last error: %s\n", t1, t2, reason);
			resting = 1;
		} else if (r == 1) {
			hhmm(since, t1, sizeof(t1));
			fprintf(f, "  state: asked\n  last error: %s: %s "
			    "(rested until %s)\n", t1, reason,
			    (hhmm(until, t2, sizeof(t2)), t2));
		} else
			fprintf(f, "  state: asked\n  last error: none\n");
	}
	store_close(&st);
	return resting;
}
