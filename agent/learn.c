/*
 * learn.c: the lists keep themselves.  Indicators of spam (the user's
 * Junk folder, or files given to imapsift learn) become learned entries in
 * the store; indicators of mail the user keeps become ham evidence, which
 * keeps an entry from ever being active.  The extraction is harvest.c's
 * (harvest_scan: URL hosts and phone numbers) plus mined phrases
 * (rules_mine_phrases); what counts as enough evidence is the store's
 * (store_learned_each: two senders or one manual sighting, no ham
 * evidence, not idle).
 *
 * URL hosts are learned by their registrable domain, which then matches
 * all its subdomains, except where that would hit wanted mail: a domain
 * on the shipped skip list (shared hosting, free sites, big senders) or
 * one with ham evidence (wanted mail links to another of its hosts) is
 * learned by the full host name, matching that host only.
 *
 * Also here: imapsift learn and imapsift learned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/cmd.h"
#include "agent/harvest.h"
#include "agent/import.h"
#include "agent/learn.h"
#include "agent/log.h"
#include "agent/util.h"
#include "rules/rules.h"
#include "store/store.h"

#define SPAM_PHRASES	32	/* mined phrases learned per spam message */
#define HAM_PHRASES	1024	/* ... recorded as ham evidence per message */
#define BATCH		200	/* messages per store transaction */

int
learner_init(struct learner *L, struct store *st, unsigned cc)
{
	memset(L, 0, sizeof(*L));
	L->st = st;
	L->cc = cc != 0 ? cc : 1;
	return harvest_skip_shipped(&L->skip);
}

void
learner_free(struct learner *L)
{
	strlist_free(&L->skip);
}

/* Parses raw; NULL (logged) when out of memory. */
static struct rules_msg *
parse(const char *raw, size_t len)
{
	struct rules_limits lim;
	struct rules_msg *msg;
	char err[256];

	rules_limits_default(&lim);
	if (rules_msg_parse(raw, len, &lim, &msg, err, sizeof(err)) == -1) {
		log_warnx("learn: %s", err);
		return NULL;
	}
	return msg;
}

static int
is_report(const struct rules_msg *msg)
{
	struct rules_bounce b;
	int r;

	memset(&b, 0, sizeof(b));
	if (rules_bounce_analyse(msg, &b) == -1)
		return 1;
	r = b.kind != RULES_REPORT_NONE;
	rules_bounce_free(&b);
	return r;
}

/* The message's Date, never later than now (a spam dated ahead would
 * never expire), else fallback. */
static time_t
msg_date(const struct rules_msg *msg, time_t fallback)
{
	const char *d = rules_msg_header(msg, "Date");
	time_t now = time(NULL);
	int64_t t;

	if (d != NULL && rules_parse_date(d, &t) == 0 && t > 0)
		return (time_t)t < now ? (time_t)t : now;
	return fallback;
}

/* Mined phrases of one message, collected. */
static void
on_phrase(void *ctx, const char *phrase)
{
	strlist_add(ctx, phrase);
}

struct ind {
	struct strlist hosts, phones, phrases;
};

static void
ind_free(struct ind *in)
{
	strlist_free(&in->hosts);
	strlist_free(&in->phones);
	strlist_free(&in->phrases);
}

static void
ind_scan(const struct learner *L, const struct rules_msg *msg,
    unsigned nphrases, struct ind *in)
{
	memset(in, 0, sizeof(*in));
	harvest_scan(msg, L->cc, &in->hosts, &in->phones);
	rules_mine_phrases(msg, nphrases, on_phrase, &in->phrases);
}

/* 1 when ham evidence exists for (kind, value), 0 when not, -1. */
static int
ham_has(struct learner *L, const char *kind, const char *value)
{
	char err[512];
	int r;

	r = store_fp_has(L->st, kind, value, err, sizeof(err));
	if (r == -1)
		log_warnx("%s", err);
	return r;
}

static int
add(struct learner *L, const struct store_learn_msg *m, const char *kind,
    const char *value)
{
	char err[512];
	int r;

	/* An indicator of wanted mail is never learned: the entry would
	 * never be active, and would only cost room. */
	if ((r = ham_has(L, kind, value)) != 0)
		return r == 1 ? 0 : -1;
	if (store_learn_add(L->st, m, kind, value, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/*
 * Under a skip-list domain only a host of one more label than the domain
 * names a site of its own (shop-x.weebly.com); mail.yahoo.com,
 * ci3.googleusercontent.com and fr.mail.yahoo.com are the big site's own
 * machinery, which wanted mail carries as much as spam.
 */
static int
own_site(const char *host, const char *dom)
{
	static const char *const service[] = { "www", "mail", "docs",
	    "drive", "sites", "fonts", "images", "image", "static", "media",
	    "news", "login", "accounts", "account", "support", "help",
	    "groups", "maps", "translate", "upload", "photos", "video",
	    "api", "cdn", "apps", "play", "store", "shop", "click", "links",
	    "email", "track", "tracking", NULL };
	size_t hl = strlen(host), dl = strlen(dom), i;

	if (hl <= dl + 5 || host[hl - dl - 1] != '.' ||
	    memchr(host, '.', hl - dl - 1) != NULL)
		return 0;
	for (i = 0; service[i] != NULL; i++)
		if (strlen(service[i]) == hl - dl - 1 &&
		    memcmp(host, service[i], hl - dl - 1) == 0)
			return 0;
	return 1;
}

/* The entry a spam host is learned as: ("url", domain) or ("host",
 * host); 0 when it is not learned at all. */
static int
host_entry(struct learner *L, const char *host, const char **kind_r,
    char *dom, size_t domsz)
{
	int r;

	if (harvest_domain(host, dom, domsz) == -1)
		return 0;
	if (harvest_skipped(&L->skip, dom)) {
		if (!own_site(host, dom))
			return 0;
		*kind_r = "host";
		return 1;
	}
	if ((r = ham_has(L, "url", dom)) == -1)
		return -1;
	if (r == 0) {
		*kind_r = "url";
		return 1;
	}
	*kind_r = "host";
	return 1;
}

/* Is dom the domain of a URL in one of msg's List-* header fields?  A
 * spam that came through a mailing list carries the list's own links,
 * which every wanted message of the list carries too. */
static int
list_domain(const struct rules_msg *msg, const char *dom)
{
	char h[RULES_HOST_MAX], d[RULES_HOST_MAX];
	const char *v, *p, *e;
	size_t i;

	for (i = 0; i < msg->nhdrs; i++) {
		if (strncasecmp(msg->hdrs[i].name, "List-", 5) != 0)
			continue;
		v = msg->hdrs[i].value;
		for (p = strchr(v, '<'); p != NULL; p = strchr(e, '<')) {
			e = strchr(++p, '>');
			if (e == NULL)
				break;
			if (rules_url_host(p, (size_t)(e - p), h,
			    sizeof(h)) == 0 && harvest_domain(h, d,
			    sizeof(d)) == 0 && strcmp(d, dom) == 0)
				return 1;
		}
	}
	return 0;
}

int
learn_spam(struct learner *L, const char *raw, size_t len,
    const char *source, int manual, time_t when)
{
	struct store_learn_msg m;
	struct rules_msg *msg;
	struct ind in;
	char err[512], dom[RULES_HOST_MAX];
	const char *kind, *val;
	size_t i;
	int r, rc = -1;

	if ((msg = parse(raw, len)) == NULL)
		return -1;
	if (is_report(msg)) {
		L->skipped++;
		rules_msg_free(&msg);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.msgid = msg->message_id;
	m.sender = msg->from;
	m.source = source;
	m.when = msg_date(msg, when);
	m.manual = manual;
	r = store_learn_msg(L->st, &m, err, sizeof(err));
	if (r != 1) {
		if (r == -1)
			log_warnx("%s", err);
		else
			L->known++;
		rules_msg_free(&msg);
		return r;
	}
	ind_scan(L, msg, SPAM_PHRASES, &in);
	for (i = 0; i < in.hosts.n; i++) {
		r = host_entry(L, in.hosts.v[i], &kind, dom, sizeof(dom));
		if (r == -1)
			goto done;
		if (r == 1 && list_domain(msg, dom))
			continue;
		val = strcmp(kind, "url") == 0 ? dom : in.hosts.v[i];
		if (r == 1 && add(L, &m, kind, val) == -1)
			goto done;
	}
	for (i = 0; i < in.phones.n; i++)
		if (add(L, &m, "phone", in.phones.v[i]) == -1)
			goto done;
	for (i = 0; i < in.phrases.n; i++)
		if (add(L, &m, "phrase", in.phrases.v[i]) == -1)
			goto done;
	L->spam++;
	rc = 1;
done:
	ind_free(&in);
	rules_msg_free(&msg);
	return rc;
}

static int
ham_add(struct learner *L, const char *kind, const char *value, time_t when)
{
	char err[512];

	if (store_fp_add(L->st, kind, value, when, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

int
learn_ham(struct learner *L, const char *raw, size_t len, time_t when)
{
	struct rules_msg *msg;
	struct ind in;
	char dom[RULES_HOST_MAX];
	size_t i;
	int rc = -1;

	if ((msg = parse(raw, len)) == NULL)
		return -1;
	when = msg_date(msg, when);
	ind_scan(L, msg, HAM_PHRASES, &in);
	for (i = 0; i < in.hosts.n; i++) {
		if (ham_add(L, "host", in.hosts.v[i], when) == -1)
			goto done;
		if (harvest_domain(in.hosts.v[i], dom, sizeof(dom)) == 0 &&
		    ham_add(L, "url", dom, when) == -1)
			goto done;
	}
	for (i = 0; i < in.phones.n; i++)
		if (ham_add(L, "phone", in.phones.v[i], when) == -1)
			goto done;
	for (i = 0; i < in.phrases.n; i++)
		if (ham_add(L, "phrase", in.phrases.v[i], when) == -1)
			goto done;
	L->ham++;
	rc = 0;
done:
	ind_free(&in);
	rules_msg_free(&msg);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The active set, for the classifier.                                 */

struct load {
	struct rules_set *rs;
	size_t	 n;
	int	 oom;
};

static int
kind_of(const char *kind, int *exact_r)
{
	*exact_r = strcmp(kind, "host") == 0;
	if (strcmp(kind, "url") == 0 || *exact_r)
		return RULES_DOMAIN;
	if (strcmp(kind, "phone") == 0)
		return RULES_PHONE;
	if (strcmp(kind, "phrase") == 0)
		return RULES_PHRASE;
	return -1;
}

static int
on_active(void *ctx, const struct store_learned *e)
{
	struct load *ld = ctx;
	int k, exact, r;

	if ((k = kind_of(e->kind, &exact)) == -1)
		return 0;
	r = rules_learned_add(ld->rs, (enum rules_kind)k, e->value, exact);
	if (r == -1) {
		ld->oom = 1;
		return 1;
	}
	ld->n += (size_t)r;
	return 0;
}

int
learn_active_set(struct store *st, const char *label, unsigned cc,
    time_t cutoff, struct rules_set **rs_r, size_t *n_r)
{
	struct store_learned_filter f;
	struct load ld;
	char err[512];

	*rs_r = NULL;
	if (n_r != NULL)
		*n_r = 0;
	memset(&ld, 0, sizeof(ld));
	if (rules_learned_new(&ld.rs, label, cc) == -1)
		fatalx("out of memory");
	memset(&f, 0, sizeof(f));
	f.active_only = 1;
	f.idle_cutoff = cutoff;
	if (store_learned_each(st, &f, on_active, &ld, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		rules_free(&ld.rs);
		return -1;
	}
	if (ld.oom)
		fatalx("out of memory");
	if (ld.n == 0)
		rules_free(&ld.rs);
	*rs_r = ld.rs;
	if (n_r != NULL)
		*n_r = ld.n;
	return 0;
}

static void
print_src(void *ctx, const struct store_learned_src *s)
{
	char day[32];
	struct tm tm;
	time_t t = s->time;

	(void)ctx;
	strftime(day, sizeof(day), "%Y-%m-%d", gmtime_r(&t, &tm));
	printf("         learned from: %s <%s> from %s, %s%s\n", s->source,
	    s->msgid != NULL ? s->msgid : "no Message-ID",
	    s->sender != NULL ? s->sender : "unknown sender", day,
	    s->manual ? ", moved to Junk by hand" : "");
}

void
learn_explain_sources(struct store *st, const char *kind, const char *value)
{
	char err[512];

	if (store_learned_sources(st, kind, value, print_src, NULL, err,
	    sizeof(err)) == -1)
		log_warnx("%s", err);
}

/* ------------------------------------------------------------------ */
/* imapsift learn.                                                     */

static void
usage_learn(FILE *f)
{
	fprintf(f, "usage: imapsift learn [--store DB] [--country CC] "
	    "[--by-hand] --spam PATH... --ham PATH...\n");
}

/* Reads each file of paths and hands it to spam or ham learning, in
 * batches.  Returns 0, or -1 on a store error. */
static int
learn_files(struct learner *L, const struct strlist *files, int spam,
    int manual, int *unreadable)
{
	struct buf b = { NULL, 0, 0 };
	char src[4200], err[512];
	const char *why;
	size_t i, inbatch = 0;
	int trunc, r = 0;

	for (i = 0; i < files->n && r != -1; i++) {
		if (util_read_file(files->v[i], RULES_DEF_PARSE_BYTES + 1, &b,
		    &trunc, &why) == -1) {
			log_warnx("%s: %s: skipped", files->v[i], why);
			*unreadable = 1;
			continue;
		}
		if (inbatch == 0 && store_begin(L->st, err,
		    sizeof(err)) == -1) {
			log_warnx("%s", err);
			r = -1;
			break;
		}
		snprintf(src, sizeof(src), "file:%s", files->v[i]);
		if (spam)
			r = learn_spam(L, b.p, b.len, src, manual, 0);
		else
			r = learn_ham(L, b.p, b.len, 0);
		if (r != -1 && ++inbatch == BATCH) {
			inbatch = 0;
			if (store_commit(L->st, err, sizeof(err)) == -1) {
				log_warnx("%s", err);
				r = -1;
			}
		}
	}
	if (inbatch > 0 && r != -1 && store_commit(L->st, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		r = -1;
	}
	if (r == -1)
		store_rollback(L->st, NULL, 0);
	free(b.p);
	return r == -1 ? -1 : 0;
}

static long
count_active(struct store *st)
{
	struct store_learned_filter f;
	char err[512];
	long n;

	memset(&f, 0, sizeof(f));
	f.active_only = 1;
	n = store_learned_each(st, &f, NULL, NULL, err, sizeof(err));
	return n;
}

int
cmd_learn(int argc, char **argv)
{
	struct strlist spam = { NULL, 0, 0 }, ham = { NULL, 0, 0 };
	struct strlist *cur = NULL;
	struct learner L;
	struct store *st = NULL;
	const char *db = NULL, *a;
	char err[512];
	unsigned cc = 1;
	int i, manual = 0, unreadable = 0, rc = EXIT_CONFIG;
	int64_t entries = 0, msgs = 0, hamv = 0;

	memset(&L, 0, sizeof(L));
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage_learn(stdout);
			rc = EXIT_OK;
			goto done;
		}
		if (strcmp(a, "--spam") == 0 || strcmp(a, "--ham") == 0) {
			cur = a[2] == 's' ? &spam : &ham;
			continue;
		}
		if (strcmp(a, "--by-hand") == 0) {
			manual = 1;
			continue;
		}
		if (strcmp(a, "--store") == 0 || strcmp(a, "--country") == 0) {
			if (i + 1 >= argc)
				break;
			if (a[2] == 's')
				db = argv[++i];
			else if (atoi(argv[++i]) >= 1 && atoi(argv[i]) <= 999)
				cc = (unsigned)atoi(argv[i]);
			else {
				log_warnx("--country: \"%s\" is not a "
				    "calling code (1-999)", argv[i]);
				goto done;
			}
			continue;
		}
		if (a[0] == '-' || cur == NULL)
			break;
		if (util_walk_files(a, cur) == -1) {
			log_warn("%s", a);
			goto done;
		}
	}
	if (i < argc || (spam.n == 0 && ham.n == 0)) {
		usage_learn(stderr);
		goto done;
	}
	if (db == NULL)
		db = import_store_path();
	if (store_open(&st, db, 0, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto done;
	}
	rc = EXIT_FAIL;
	if (learner_init(&L, st, cc) == -1)
		goto done;
	/* Ham first: its evidence decides how this spam's hosts are
	 * learned, and keeps what wanted mail carries out. */
	if (learn_files(&L, &ham, 0, 0, &unreadable) == -1 ||
	    learn_files(&L, &spam, 1, manual, &unreadable) == -1)
		goto done;
	if (store_learn_stats(st, &entries, &msgs, &hamv, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto done;
	}
	printf("learn: %lu spam learned (%lu already known, %lu reports "
	    "skipped), %lu ham; store: %lld entries (%ld active), %lld spam "
	    "messages, %lld ham evidence values\n", L.spam, L.known,
	    L.skipped, L.ham, (long long)entries, count_active(st),
	    (long long)msgs, (long long)hamv);
	rc = unreadable ? EXIT_FAIL : EXIT_OK;
done:
	learner_free(&L);
	store_close(&st);
	strlist_free(&spam);
	strlist_free(&ham);
	return rc;
}

/* ------------------------------------------------------------------ */
/* imapsift learned.                                                   */

static void
usage_learned(FILE *f)
{
	fprintf(f, "usage: imapsift learned [--store DB] [--kind K] "
	    "[--active] [--expire DAYS] [--forget VALUE]\n");
}

static int
print_entry(void *ctx, const struct store_learned *e)
{
	char d1[32], d2[32];
	struct tm tm;
	time_t cutoff = *(const time_t *)ctx;
	const char *state;

	strftime(d1, sizeof(d1), "%Y-%m-%d", gmtime_r(&e->first_seen, &tm));
	strftime(d2, sizeof(d2), "%Y-%m-%d", gmtime_r(&e->last_seen, &tm));
	if (e->ham)
		state = "ham";
	else if (e->senders < 2 && !e->manual)
		state = "pending";
	else if (e->last_seen < cutoff)
		state = "expired";
	else
		state = "active";
	printf("%s\t%s\t%s\tspam %lld\tsenders %lld%s\t%s\t%s\n", state,
	    e->kind, e->value, (long long)e->spam, (long long)e->senders,
	    e->manual ? "\tby hand" : "", d1, d2);
	return 0;
}

int
cmd_learned(int argc, char **argv)
{
	struct store_learned_filter f;
	struct store *st = NULL;
	const char *db = NULL, *forget = NULL, *a;
	char err[512], *end;
	time_t cutoff = 0;
	long n, days = 0;
	int i, rc = EXIT_CONFIG;

	memset(&f, 0, sizeof(f));
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage_learned(stdout);
			return EXIT_OK;
		}
		if (strcmp(a, "--active") == 0) {
			f.active_only = 1;
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (strcmp(a, "--store") == 0)
			db = argv[++i];
		else if (strcmp(a, "--kind") == 0) {
			f.kind = argv[++i];
			if (strcmp(f.kind, "url") != 0 &&
			    strcmp(f.kind, "host") != 0 &&
			    strcmp(f.kind, "phone") != 0 &&
			    strcmp(f.kind, "phrase") != 0) {
				log_warnx("--kind: \"%s\": url, host, phone "
				    "or phrase", f.kind);
				return EXIT_CONFIG;
			}
		} else if (strcmp(a, "--forget") == 0)
			forget = argv[++i];
		else if (strcmp(a, "--expire") == 0) {
			errno = 0;
			days = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || days < 0 ||
			    days > 36500) {
				log_warnx("--expire: \"%s\" is not a number "
				    "of days", argv[i]);
				return EXIT_CONFIG;
			}
		} else
			break;
	}
	if (i < argc) {
		usage_learned(stderr);
		return EXIT_CONFIG;
	}
	if (days > 0)
		cutoff = time(NULL) - (time_t)days * 86400;
	f.idle_cutoff = cutoff;
	if (db == NULL)
		db = import_store_path();
	if (store_open(&st, db, forget != NULL ? 0 : STORE_RDONLY, 0, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return EXIT_CONFIG;
	}
	rc = EXIT_FAIL;
	if (forget != NULL) {
		n = store_learned_forget(st, f.kind, forget, err, sizeof(err));
		if (n == -1)
			log_warnx("%s", err);
		else if (n == 0)
			log_warnx("%s: not learned", forget);
		else {
			printf("learned: forgot %ld entr%s for %s\n", n,
			    n == 1 ? "y" : "ies", forget);
			rc = EXIT_OK;
		}
	} else if (store_learned_each(st, &f, print_entry, &cutoff, err,
	    sizeof(err)) == -1)
		log_warnx("%s", err);
	else
		rc = EXIT_OK;
	store_close(&st);
	return rc;
}
