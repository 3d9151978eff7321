/*
 * watch.c: `imapsift watch`, the daemon.  One thread per account, each
 * with its own IMAP session and store handle, sits in IDLE on the first
 * watched mailbox (or polls a server without IDLE) and runs the sweep
 * code over the new mail whenever the server says something.  Any
 * failure drops the session; the thread reconnects with exponential
 * backoff and jitter and catches up on what arrived meanwhile.
 *
 * Signals are blocked in every thread and taken in one place, the main
 * thread's sigtimedwait() loop: TERM/INT stop (in-flight moves finish,
 * exit 0 within 5 s), HUP reloads the configs and rules, USR1 logs one
 * status line per account.  Rule files changing on disk reload them too.
 * Started as root with --config-dir, the daemon runs one child per config
 * file as that file's owner instead (watch-super.c).
 *
 * Reloading never waits for a thread.  The configs and rule sets loaded
 * together are a generation (struct gen), reference-counted: the daemon
 * holds the current one and every thread the one it works with.  A new
 * generation that does not load is dropped and the running one kept.
 * One that loads becomes current; a thread whose account settings did
 * not change keeps running and takes the new generation (its rules) at
 * the start of its next pass, between passes; a thread whose account
 * changed or went away is asked to stop (its moves in progress finish)
 * and, when it has not ended RELOAD_GRACE seconds later (a stalled
 * FETCH, a long first pass), its connection is cancelled (imap_cancel);
 * the new thread for a changed account waits for the account lock the
 * old one holds.  Ended threads are joined by the main loop.
 */
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/cmd.h"
#include "agent/feeds.h"
#include "agent/imap.h"
#include "agent/log.h"
#include "agent/oauth2.h"
#include "agent/sweep.h"
#include "agent/util.h"
#include "agent/watch.h"
#include "conf/conf.h"
#include "rules/rules.h"
#include "store/store.h"

/* Seconds a stop may take before the process exits regardless. */
#define STOP_GRACE	4
/* Seconds a thread stopped by a reload may take before its connection
 * is cancelled. */
#define RELOAD_GRACE	5
/* A session that lasted this long resets the reconnect backoff. */
#define STABLE_SECS	60
#define BACKOFF_MAX	300		/* cap for connection failures */
#define AUTH_BACKOFF	300		/* first wait after a refused login */
#define AUTH_BACKOFF_MAX 3600
#define LOGIN_POLL	2		/* s between looks at the token file */
#define LOCK_RETRY	60
#define LOCK_RETRY_FAST	30	/* tries a second apart first (a reload) */
#define KEEP_STORE_MAX	100	/* accounts whose stores stay open */
#define IDLE_POLL_LATE	5	/* s between NOOPs in IDLE on late pushers */

struct gen {			/* one loaded generation of configs */
	int		 refs;		/* under watch.mu */
	struct conf	**c;
	struct rules_set **rs;
	char		**dir;
	size_t		 n;
	size_t		 nacct;
};

struct acct {
	struct acct	*next;		/* in watch.list */
	struct watch	*w;
	/* The generation the thread works with, and its account there:
	 * changed by the thread only (adopt), read by others under mu. */
	struct gen	*g;
	const struct conf *c;
	const struct conf_account *a;
	struct rules_set *rs;
	char		 dir[4096];
	pthread_t	 th;
	int		 started;
	struct store	*st;		/* between passes only if keep_store */
	int		 keep_store;
	/* Under w->mu. */
	int		 stop, done, cancelled;
	int		 idling;	/* waiting in IDLE */
	double		 stop_at;	/* when stop was asked (mono) */
	struct imap	*live;		/* the session, for imap_cancel */
	struct gen	*ng;		/* the generation to take, or NULL */
	const struct conf *nc;
	const struct conf_account *na;
	struct rules_set *nrs;
	char		 state[64];
	time_t		 since;
	size_t		 moved, seen, reconnects;
	char		 err[512];
};

struct watch {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* a thread ended */
	pthread_cond_t	 napcv;		/* a stop was asked (monotonic) */
	int		 stopfd[2];	/* written once, on TERM: IDLE ends */
	size_t		 running;
	struct gen	*g;		/* the current generation */
	struct acct	*list;		/* every thread not joined yet */
	char		**paths;	/* the config files of this generation */
	size_t		 npaths;
	struct strlist	 base;		/* the -c files */
	const char	*cdir;		/* --config-dir, read again on HUP */
	int		 cfd;		/* --config-fd, or -1 */
	struct strlist	 cur;		/* base + the files of cdir */
	uint64_t	 stamp_rules;
};

static void
set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		fatal("fcntl");
}

static void
set_state(struct acct *ac, const char *state, const char *err)
{
	pthread_mutex_lock(&ac->w->mu);
	snprintf(ac->state, sizeof(ac->state), "%s", state);
	ac->since = time(NULL);
	if (err != NULL)
		snprintf(ac->err, sizeof(ac->err), "%s", err);
	pthread_mutex_unlock(&ac->w->mu);
}

static int
stopping(struct acct *ac)
{
	int s;

	pthread_mutex_lock(&ac->w->mu);
	s = ac->stop;
	pthread_mutex_unlock(&ac->w->mu);
	return s;
}

/* Sleeps up to secs, or until told to stop: 1 when stopping.  No
 * descriptor of its own per thread: 200 accounts must fit below
 * FD_SETSIZE (libetpan select()s). */
static int
nap(struct acct *ac, double secs)
{
	struct timespec ts;
	int s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)secs;
	ts.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ac->w->mu);
	while (!ac->stop && pthread_cond_timedwait(&ac->w->napcv,
	    &ac->w->mu, &ts) != ETIMEDOUT)
		;
	s = ac->stop;
	pthread_mutex_unlock(&ac->w->mu);
	return s;
}

/* base doubled per failure (failures >= 1), capped, with +-20% jitter. */
static double
backoff(unsigned failures, double base, double cap)
{
	double d = base;
	unsigned i;

	for (i = 1; i < failures && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return d * (0.8 + 0.4 * ((double)random() / RAND_MAX));
}

/* The wait in ms until the next IDLE refresh, check (every poll seconds
 * from tick_at; poll 0: none) or a Sent scan is due. */
static int
idle_ms(const struct conf_account *a, double idle_at, double sent_at,
    unsigned poll, double tick_at)
{
	double t = idle_at + a->idle_refresh, now = util_mono_now();

	if (poll > 0 && tick_at + poll < t)
		t = tick_at + poll;
	if (sent_at < t)
		t = sent_at;
	return t <= now ? 0 : (int)((t - now) * 1000) + 1;
}

static void
gen_free(struct gen *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		rules_free(&g->rs[i]);
		conf_free(&g->c[i]);
		free(g->dir[i]);
	}
	free(g->c);
	free(g->rs);
	free(g->dir);
	free(g);
}

/* Drops a reference to g (NULL is fine), freeing it with the last. */
static void
gen_unref(struct watch *w, struct gen *g)
{
	int left;

	if (g == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	left = --g->refs;
	pthread_mutex_unlock(&w->mu);
	if (left == 0)
		gen_free(g);
}

/* 1 when a reload handed this thread a new generation (SIGHUP): adopt
 * takes it at the top of the next round. */
static int
reload_pending(struct acct *ac)
{
	int r;

	pthread_mutex_lock(&ac->w->mu);
	r = ac->ng != NULL;
	pthread_mutex_unlock(&ac->w->mu);
	return r;
}

/* Between passes: the generation the main thread handed over, if any. */
static void
adopt(struct acct *ac, struct sweep *sw)
{
	struct gen *old;

	pthread_mutex_lock(&ac->w->mu);
	if ((old = ac->ng) == NULL) {
		pthread_mutex_unlock(&ac->w->mu);
		return;
	}
	old = ac->g;
	ac->g = ac->ng;
	ac->c = ac->nc;
	ac->a = ac->na;
	ac->rs = ac->nrs;
	ac->ng = NULL;
	pthread_mutex_unlock(&ac->w->mu);
	sweep_rebind(sw, ac->c, ac->a, ac->rs);
	gen_unref(ac->w, old);
	log_info("%s: reloaded rules in effect", ac->a->name);
}

/* Seconds between NOOP checks in IDLE (0: none): the account's idle_poll,
 * else IDLE_POLL_LATE for servers that report new mail in IDLE late. */
static unsigned
idle_poll(const struct conf_account *a, const struct imap *s)
{
	if (a->lines[CONF_IDLE_POLL] != 0)
		return a->idle_poll;
	return imap_pushes_late(s) ? IDLE_POLL_LATE : 0;
}

/* One pass.  With many accounts the store is open only for its length,
 * so an idle account holds no file of it: libetpan cannot wait on a
 * descriptor past 1023, and a store takes three. */
static int
pass(struct acct *ac, struct sweep *sw, int scan_sent)
{
	int r, fd, waited = 0;

	/* An undo (the only other holder while this thread holds the
	 * account) moves mail: wait for it. */
	while ((r = account_lock(ac->a, LOCK_WORK, &fd)) != OUT_OK) {
		if (r == OUT_PERM)
			return OUT_TEMP;
		if (!waited++) {
			log_info("%s: an undo is at work: waiting", ac->a->name);
			set_state(ac, "waiting for an undo", NULL);
		}
		if (nap(ac, 0.5))
			return OUT_OK;
	}
	if (ac->st == NULL && account_store_open(ac->dir, &ac->st) != OUT_OK) {
		close(fd);
		return OUT_TEMP;
	}
	sweep_set_store(sw, ac->st);
	r = sweep_pass(sw, scan_sent);
	sweep_set_store(sw, NULL);
	if (!ac->keep_store)
		store_close(&ac->st);
	else
		store_checkpoint(ac->st);	/* keep the WAL small */
	close(fd);
	return r;
}

/*
 * One session: a pass, then IDLE (or polls) until something fails or
 * stop is asked.  Returns OUT_OK when stopped, else the failure.
 */
static int
session(struct acct *ac, struct sweep *sw)
{
	double sent_at = 0, idle_at, tick_at, due;
	size_t moved;
	unsigned poll;
	int idle, had, scan_sent, w, r;
	struct imap *s = sweep_session(sw);

	idle = imap_has(s, "IDLE");
	poll = idle_poll(ac->a, s);
	log_info("%s: connected to %s:%u, %s", ac->a->name, ac->a->host,
	    ac->a->port, idle ? "waiting in IDLE" : "IDLE not offered: "
	    "polling");
	if (idle && poll > 0)
		log_info("%s: checking with NOOP every %u s in IDLE (%s)",
		    ac->a->name, poll, ac->a->lines[CONF_IDLE_POLL] != 0 ?
		    "idle_poll" : "this server reports new mail in IDLE only "
		    "every 60 s");
	for (;;) {
		adopt(ac, sw);
		moved = sweep_moved(sw);
		if ((scan_sent = util_mono_now() >= sent_at))
			sent_at = util_mono_now() + ac->a->harvest_interval;
		r = pass(ac, sw, scan_sent);
		pthread_mutex_lock(&ac->w->mu);
		ac->moved += sweep_moved(sw) - moved;
		ac->seen = sweep_seen(sw);
		pthread_mutex_unlock(&ac->w->mu);
		if (r == OUT_TEMP || !imap_alive(s))
			return r != OUT_OK ? r : OUT_TEMP;
		if (stopping(ac))
			return OUT_OK;
		/* Mail that came in during the pass was announced then,
		 * and will not be again in IDLE. */
		if (imap_news(s) | sweep_news(sw))
			continue;
		set_state(ac, idle ? "idle" : "polling", "");
		if (!idle) {
			if (nap(ac, ac->a->poll_interval))
				return OUT_OK;
			if ((r = imap_noop(s)) != OUT_OK)
				return r;
			continue;
		}
		idle_at = util_mono_now();
again:
		tick_at = util_mono_now();
		/* A reload stopping this thread cancels the connection
		 * while it idles (acct_stop): nothing is in flight. */
		pthread_mutex_lock(&ac->w->mu);
		if (ac->stop) {
			pthread_mutex_unlock(&ac->w->mu);
			return OUT_OK;
		}
		ac->idling = 1;
		pthread_mutex_unlock(&ac->w->mu);
		r = imap_idle_start(s, &had);
		if (r != OUT_OK) {
			pthread_mutex_lock(&ac->w->mu);
			ac->idling = 0;
			pthread_mutex_unlock(&ac->w->mu);
			if (!imap_alive(s))
				return r;
			log_warnx("%s: IDLE refused (%s): polling",
			    ac->a->name, imap_error(s));
			idle = 0;
			continue;
		}
		/* Woken for the next Junk harvest too (sweep-learn.c). */
		due = ac->a->learn && sweep_learn_at(sw) < sent_at ?
		    sweep_learn_at(sw) : sent_at;
		w = had ? 1 : imap_idle_wait(s, ac->w->stopfd[0],
		    idle_ms(ac->a, idle_at, due, poll, tick_at));
		pthread_mutex_lock(&ac->w->mu);
		ac->idling = 0;
		had = ac->stop && ac->stop_at != HUGE_VAL;
		pthread_mutex_unlock(&ac->w->mu);
		if (had)		/* cancelled by a reload */
			return OUT_OK;
		if ((r = imap_idle_done(s)) != OUT_OK)
			return r;
		if (w == -1)
			return OUT_TEMP;
		if (w == 2 && stopping(ac))
			return OUT_OK;
		/* A check is due, not the refresh or a harvest, and the
		 * server announced nothing: NOOP makes it look, and unless
		 * that brings news, back into IDLE without a pass. */
		if (w == 0 && poll > 0 && !imap_news(s) &&
		    util_mono_now() < idle_at + ac->a->idle_refresh &&
		    util_mono_now() < due) {
			if ((r = imap_noop(s)) != OUT_OK)
				return r;
			if (!imap_news(s))
				goto again;
		}
	}
}

/* Publishes s for imap_cancel (NULL: withdraws it); cancels it at once
 * when that was asked before it was there. */
static void
set_live(struct acct *ac, struct imap *s)
{
	pthread_mutex_lock(&ac->w->mu);
	ac->live = s;
	if (s != NULL && ac->cancelled)
		imap_cancel(s);
	pthread_mutex_unlock(&ac->w->mu);
}

static void *
acct_main(void *arg)
{
	struct acct *ac = arg;
	struct sweep *sw = NULL;
	struct imap *s;
	char why[1024], last[1024] = "";
	unsigned fails = 0, authfails = 0, tries = 0;
	double t0;
	int lockfd = -1, rc, r;

	set_state(ac, "starting", NULL);
	while (!stopping(ac)) {
		rc = account_lock(ac->a, LOCK_OWNER, &lockfd);
		if (rc == OUT_OK)
			break;
		if (rc == OUT_TEMP && last[0] == '\0') {
			log_info("%s: another imapsift is working on this "
			    "account: waiting", ac->a->name);
			snprintf(last, sizeof(last), "locked");
		}
		set_state(ac, "waiting for the lock", NULL);
		/* After a reload the old thread may still hold it a moment. */
		nap(ac, ++tries <= LOCK_RETRY_FAST ? 1 : LOCK_RETRY);
	}
	last[0] = '\0';
	if (lockfd != -1)
		sw = sweep_new(ac->c, ac->a, NULL, ac->rs, ac->dir, 0);
	while (lockfd != -1 && !stopping(ac)) {
		adopt(ac, sw);
		set_state(ac, "connecting", NULL);
		rc = account_open(ac->a, ac->dir, &s, why, sizeof(why));
		if (rc != OUT_OK) {
			if (strcmp(why, last) != 0)	/* once per change */
				log_warnx("%s", why);
			snprintf(last, sizeof(last), "%s", why);
			/* A revoked OAuth2 grant: no retries until a new
			 * token is stored (imapsift login) or SIGHUP. */
			if (rc == OUT_AUTH &&
			    oauth2_login_needed(ac->a, ac->dir)) {
				set_state(ac, "needs imapsift login", why);
				while (!stopping(ac) && !reload_pending(ac) &&
				    oauth2_login_needed(ac->a, ac->dir))
					nap(ac, LOGIN_POLL);
				continue;
			}
			set_state(ac, rc == OUT_AUTH ? "login refused" :
			    "cannot connect", why);
			if (rc == OUT_AUTH)
				nap(ac, backoff(++authfails, AUTH_BACKOFF,
				    AUTH_BACKOFF_MAX));
			else
				nap(ac, backoff(++fails, 1, BACKOFF_MAX));
			continue;
		}
		set_live(ac, s);
		if (last[0] != '\0')
			log_info("%s: connection back", ac->a->name);
		last[0] = '\0';
		authfails = 0;
		t0 = util_mono_now();
		sweep_new_session(sw, s);
		r = session(ac, sw);
		snprintf(why, sizeof(why), "%s: connection lost: %s",
		    ac->a->name, imap_error(s)[0] != '\0' ? imap_error(s) :
		    r == OUT_TEMP ? "temporary failure" : "server error");
		set_live(ac, NULL);
		if (imap_alive(s) && stopping(ac))
			imap_close(&s);
		else
			imap_drop(&s);
		sweep_end_session(sw);
		if (stopping(ac))
			break;
		pthread_mutex_lock(&ac->w->mu);
		ac->reconnects++;
		pthread_mutex_unlock(&ac->w->mu);
		if (util_mono_now() - t0 >= STABLE_SECS)
			fails = 0;
		set_state(ac, "reconnecting", why);
		log_warnx("%s", why);
		snprintf(last, sizeof(last), "%s", why);
		nap(ac, backoff(++fails, 1, BACKOFF_MAX));
	}
	if (lockfd != -1) {
		sweep_destroy(&sw);
		close(lockfd);
	}
	if (ac->st != NULL)
		store_close(&ac->st);
	pthread_mutex_lock(&ac->w->mu);
	if (ac->cancelled)
		log_info("%s: stopped (its connection was cancelled)",
		    ac->a->name);
	snprintf(ac->state, sizeof(ac->state), "stopped");
	ac->done = 1;
	ac->w->running--;
	pthread_cond_broadcast(&ac->w->cv);
	pthread_mutex_unlock(&ac->w->mu);
	return NULL;
}

/* A fingerprint of c's rule files and directories: the sum of their
 * modification times (nanoseconds) and sizes, so that a change, an
 * added or a removed file all change it. */
static uint64_t
stamp_rules(const struct conf *c)
{
	struct strlist paths = { 0 };
	struct stat sb;
	struct dirent *de;
	char p[4200];
	uint64_t t = 0;
	size_t i;
	DIR *d;

	config_rule_paths(c, &paths);
	for (i = 0; i < paths.n; i++) {
		if (stat(paths.v[i], &sb) == -1)
			continue;
		t += (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
		    (uint64_t)sb.st_mtim.tv_nsec + (uint64_t)sb.st_size;
		if (!S_ISDIR(sb.st_mode) || (d = opendir(paths.v[i])) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			snprintf(p, sizeof(p), "%s/%s", paths.v[i], de->d_name);
			if (de->d_name[0] != '.' && stat(p, &sb) == 0)
				t += (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
				    (uint64_t)sb.st_mtim.tv_nsec +
				    (uint64_t)sb.st_size;
		}
		closedir(d);
	}
	strlist_free(&paths);
	return t;
}

static uint64_t
stamp_all_rules(const struct gen *g)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < g->n; i++)
		t += stamp_rules(g->c[i]);
	return t;
}

/* Loads every config and its rules: a generation with one reference,
 * or NULL (everything printed) when one is broken or there is no
 * account at all. */
static struct gen *
gen_load(struct watch *w)
{
	struct store *st;
	struct gen *g;
	char dir[4096];
	size_t i;

	g = xcalloc(1, sizeof(*g));
	g->refs = 1;
	g->c = xcalloc(w->npaths, sizeof(*g->c));
	g->rs = xcalloc(w->npaths, sizeof(*g->rs));
	g->dir = xcalloc(w->npaths, sizeof(*g->dir));
	for (i = 0; i < w->npaths; i++) {
		g->n = i + 1;
		if ((w->cfd != -1 ? config_load_fd(w->cfd, w->paths[i],
		    &g->c[i]) : config_load(w->paths[i], 0, &g->c[i])) !=
		    OUT_OK)
			goto fail;
		if (account_store_dir(g->c[i], dir, sizeof(dir)) == -1)
			goto fail;
		g->dir[i] = xstrdup(dir);
		/* Created (or migrated) here, once, before any thread. */
		if (account_store_open(dir, &st) != OUT_OK)
			goto fail;
		store_close(&st);
		if ((g->rs[i] = config_rules(g->c[i])) == NULL)
			goto fail;
		g->nacct += g->c[i]->naccounts;
	}
	if (g->nacct == 0) {
		log_warnx("no account to watch in %s%s", w->npaths ?
		    w->paths[0] : "the config", w->npaths > 1 ? " and the "
		    "other files" : "");
		goto fail;
	}
	return g;
fail:
	gen_free(g);
	return NULL;
}

/* A thread for account j of config i of g (which it holds a reference
 * to), started. */
static void
acct_start(struct watch *w, struct gen *g, size_t i, size_t j)
{
	struct acct *ac;
	int r;

	ac = xcalloc(1, sizeof(*ac));
	ac->w = w;
	ac->g = g;
	ac->c = g->c[i];
	ac->a = &g->c[i]->accounts[j];
	ac->rs = g->rs[i];
	snprintf(ac->dir, sizeof(ac->dir), "%s", g->dir[i]);
	/* Seven descriptors each (socket, libetpan's cancel pipe, locks,
	 * store) fit below FD_SETSIZE with room to spare up to this many. */
	ac->keep_store = g->nacct <= KEEP_STORE_MAX;
	pthread_mutex_lock(&w->mu);
	g->refs++;
	w->running++;
	ac->next = w->list;
	w->list = ac;
	pthread_mutex_unlock(&w->mu);
	/* Signals stay blocked: the main thread's mask is inherited. */
	if ((r = pthread_create(&ac->th, NULL, acct_main, ac)) != 0) {
		errno = r;
		fatal("%s: pthread_create", ac->a->name);
	}
	ac->started = 1;
}

/* Asks ac to stop (the caller holds w->mu); for a reload, a thread
 * waiting in IDLE has its connection cancelled at once (nothing is in
 * flight), a busy one RELOAD_GRACE seconds later (reap). */
static void
acct_stop(struct acct *ac, int reload)
{
	if (ac->stop)
		return;
	ac->stop = 1;
	ac->stop_at = reload ? util_mono_now() : HUGE_VAL;
	pthread_cond_broadcast(&ac->w->napcv);
	if (reload && ac->idling && ac->live != NULL)
		imap_cancel(ac->live);
}

/* Joins the threads that ended; cancels the connections of those asked
 * to stop by a reload more than RELOAD_GRACE seconds ago. */
static void
reap(struct watch *w)
{
	struct acct **pp, *ac;
	double now = util_mono_now();

	pthread_mutex_lock(&w->mu);
	for (pp = &w->list; (ac = *pp) != NULL; ) {
		if (!ac->done) {
			if (ac->stop && !ac->cancelled &&
			    now - ac->stop_at >= RELOAD_GRACE) {
				log_info("%s: still busy %d s after the reload: "
				    "cancelling its connection", ac->a->name,
				    RELOAD_GRACE);
				ac->cancelled = 1;
				if (ac->live != NULL)
					imap_cancel(ac->live);
			}
			pp = &ac->next;
			continue;
		}
		*pp = ac->next;
		pthread_mutex_unlock(&w->mu);
		pthread_join(ac->th, NULL);
		gen_unref(w, ac->ng);
		gen_unref(w, ac->g);
		free(ac);
		pthread_mutex_lock(&w->mu);
		pp = &w->list;
	}
	pthread_mutex_unlock(&w->mu);
}

/* Asks every thread to stop and waits for them, at most until deadline
 * (monotonic seconds): 0 when all ended (and are joined). */
static int
stop_all(struct watch *w, double deadline)
{
	struct timespec ts;
	struct acct *ac;
	double t;
	int late = 0;

	pthread_mutex_lock(&w->mu);
	/* Never cancelled: moves finish, IDLE ends with DONE, LOGOUT. */
	for (ac = w->list; ac != NULL; ac = ac->next)
		acct_stop(ac, 0);
	(void)!write(w->stopfd[1], "x", 1);
	while (w->running > 0 && !late) {
		clock_gettime(CLOCK_REALTIME, &ts);
		t = deadline - util_mono_now();
		if (t <= 0) {
			late = 1;
			break;
		}
		ts.tv_sec += (time_t)t;
		ts.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	pthread_mutex_unlock(&w->mu);
	if (late)
		return -1;
	reap(w);
	return 0;
}

static void
status(struct watch *w)
{
	struct acct *ac;
	time_t now = time(NULL);

	pthread_mutex_lock(&w->mu);
	for (ac = w->list; ac != NULL; ac = ac->next)
		log_info("%s: %s for %lds, %zu seen, %zu moved, %zu "
		    "reconnect%s%s%s", ac->a->name, ac->state,
		    (long)(now - ac->since), ac->seen, ac->moved,
		    ac->reconnects, ac->reconnects == 1 ? "" : "s",
		    ac->err[0] != '\0' ? "; last error: " : "", ac->err);
	pthread_mutex_unlock(&w->mu);
}

/* w->cur: the -c files, then those of --config-dir as they are now. */
static int
config_files(struct watch *w)
{
	struct strlist l = { 0 };
	size_t i;

	for (i = 0; i < w->base.n; i++)
		strlist_add(&l, w->base.v[i]);
	if (w->cdir != NULL && watch_dir_files(w->cdir, &l) == -1) {
		strlist_free(&l);
		return -1;
	}
	strlist_free(&w->cur);
	w->cur = l;
	w->paths = w->cur.v;
	w->npaths = w->cur.n;
	return 0;
}

static int
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
list_same(const struct conf_list *a, const struct conf_list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* Whether an account's settings are the same in both configs (its
 * store directory too): then its thread keeps running. */
static int
acct_same(const struct conf_account *a, const char *adir,
    const struct conf_account *b, const char *bdir)
{
	return strcmp(adir, bdir) == 0 && str_same(a->name, b->name) &&
	    str_same(a->host, b->host) && a->port == b->port &&
	    a->tls == b->tls && str_same(a->ca_file, b->ca_file) &&
	    str_same(a->user, b->user) && str_same(a->password, b->password) &&
	    str_same(a->password_command, b->password_command) &&
	    a->auth == b->auth && list_same(&a->addresses, &b->addresses) &&
	    list_same(&a->watch, &b->watch) && list_same(&a->sent, &b->sent) &&
	    str_same(a->junk, b->junk) &&
	    str_same(a->backscatter, b->backscatter) &&
	    a->first_run_days == b->first_run_days &&
	    a->max_fetch_bytes == b->max_fetch_bytes &&
	    a->dry_run == b->dry_run &&
	    a->unknown_bounce == b->unknown_bounce &&
	    a->timeout == b->timeout && a->idle_refresh == b->idle_refresh &&
	    a->poll_interval == b->poll_interval &&
	    a->harvest_interval == b->harvest_interval &&
	    a->idle_poll == b->idle_poll &&
	    (a->lines[CONF_IDLE_POLL] != 0) ==
	    (b->lines[CONF_IDLE_POLL] != 0) &&
	    a->learn == b->learn && a->learn_interval == b->learn_interval &&
	    list_same(&a->ham, &b->ham) && a->ham_grace == b->ham_grace &&
	    a->oauth2.provider == b->oauth2.provider &&
	    a->oauth2.mechanism == b->oauth2.mechanism &&
	    str_same(a->oauth2.client_id, b->oauth2.client_id) &&
	    str_same(a->oauth2.client_secret, b->oauth2.client_secret) &&
	    str_same(a->oauth2.token_endpoint, b->oauth2.token_endpoint) &&
	    str_same(a->oauth2.ca_file, b->oauth2.ca_file) &&
	    str_same(a->oauth2.token_command, b->oauth2.token_command);
}

/* HUP or changed rule files: a new generation, kept only when all of it
 * loads; then each thread keeps running on it, or is replaced. */
static void
reload(struct watch *w, const char *why)
{
	struct gen *g, *old, *drop;
	struct acct *ac, *list;
	const struct conf_account *na, *ca;
	size_t i, j, kept = 0, restarted = 0, started = 0, stopped = 0;
	char *match;
	size_t nold = 0, k;
	int start;

	log_info("reloading (%s)", why);
	if (config_files(w) == -1 || (g = gen_load(w)) == NULL) {
		log_warnx("reload failed: keeping the running configuration "
		    "and rules");
		w->stamp_rules = stamp_all_rules(w->g);
		return;
	}
	/* The threads running now (the main thread alone adds to the
	 * list, so it stays as it is below but for its done flags). */
	pthread_mutex_lock(&w->mu);
	list = w->list;
	for (ac = list; ac != NULL; ac = ac->next)
		nold++;
	pthread_mutex_unlock(&w->mu);
	match = xcalloc(nold + 1, 1);
	for (i = 0; i < g->n; i++)
		for (j = 0; j < g->c[i]->naccounts; j++) {
			na = &g->c[i]->accounts[j];
			pthread_mutex_lock(&w->mu);
			for (ac = list, k = 0; ac != NULL; ac = ac->next, k++) {
				ca = ac->ng != NULL ? ac->na : ac->a;
				if (!ac->stop && !match[k] &&
				    strcmp(ac->c->path, g->c[i]->path) == 0 &&
				    strcmp(ca->name, na->name) == 0)
					break;
			}
			drop = NULL;
			start = ac == NULL;
			if (ac != NULL) {
				match[k] = 1;
				if (acct_same(ca, ac->dir, na, g->dir[i])) {
					drop = ac->ng;
					ac->ng = g;
					g->refs++;
					ac->nc = g->c[i];
					ac->na = na;
					ac->nrs = g->rs[i];
					kept++;
				} else {
					acct_stop(ac, 1);
					restarted++;
					start = 1;
				}
			}
			pthread_mutex_unlock(&w->mu);
			gen_unref(w, drop);
			if (ac == NULL)
				started++;
			if (start)
				acct_start(w, g, i, j);
		}
	pthread_mutex_lock(&w->mu);
	for (ac = list, k = 0; ac != NULL; ac = ac->next, k++)
		if (!match[k] && !ac->stop) {
			acct_stop(ac, 1);
			stopped++;
		}
	pthread_mutex_unlock(&w->mu);
	free(match);
	old = w->g;
	w->g = g;
	gen_unref(w, old);
	w->stamp_rules = stamp_all_rules(w->g);
	log_info("reloaded: %zu account%s: %zu kept running (the new rules "
	    "from their next pass), %zu restarted, %zu started, %zu stopped",
	    g->nacct, g->nacct == 1 ? "" : "s", kept, restarted, started,
	    stopped);
}

/* The main thread: signals, the rule files' timestamps, ended threads. */
static int
serve(struct watch *w)
{
	struct timespec ts = { 1, 0 };
	sigset_t set;
	uint64_t t;
	double check_at = util_mono_now() + 2;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &ts);
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			log_info("stopping (%s)", sig == SIGTERM ? "SIGTERM" :
			    "SIGINT");
			if (stop_all(w, util_mono_now() + STOP_GRACE) == -1) {
				log_warnx("stopping: some accounts were still "
				    "busy; their unfinished moves stay "
				    "pending and are settled on the next "
				    "start");
				/* Threads still run on these generations:
				 * leave without tearing anything down. */
				fflush(NULL);
				_exit(EXIT_OK);
			}
			gen_unref(w, w->g);
			w->g = NULL;
			return EXIT_OK;
		case SIGHUP:
			reload(w, "SIGHUP");
			break;
		case SIGUSR1:
			status(w);
			break;
		default:
			break;
		}
		reap(w);
		if (util_mono_now() >= check_at) {
			check_at = util_mono_now() + 2;
			for (t = 0; t < w->g->n; t++)	/* due feeds */
				feeds_refresh(w->g->c[t], 0);
			t = stamp_all_rules(w->g);
			if (t != w->stamp_rules)
				reload(w, "rule files changed");
		}
	}
}

static int
watch_usage(FILE *f)
{
	fprintf(f, "usage: imapsift watch [-c FILE]... [--config-dir DIR] "
	    "[--config-fd N] [-f | --syslog] [-v]\n");
	return f == stdout ? EXIT_OK : EXIT_CONFIG;
}

/* The regular files in dir (not hidden, not backups), sorted. */
int
watch_dir_files(const char *dir, struct strlist *out)
{
	struct dirent *de;
	struct stat sb;
	char p[4200];
	size_t n;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		log_warn("%s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] == '.' || de->d_name[n - 1] == '~')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
			strlist_add(out, p);
	}
	closedir(d);
	strlist_sort(out);
	return 0;
}

int
cmd_watch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "config-dir", required_argument, NULL, 'd' },
		{ "config-fd", required_argument, NULL, 'F' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "syslog", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct strlist paths = { 0 };
	struct watch w;
	const char *cdir = NULL, *def;
	struct rlimit rl;
	sigset_t all;
	pthread_condattr_t ca;
	char abs[PATH_MAX], absdir[PATH_MAX], *end;
	size_t i, j;
	ssize_t n;
	long cfd = -1;
	int ch, fg = 0, sl = 0, verbose = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:fvh", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			strlist_add(&paths, optarg);
			break;
		case 'd':
			cdir = optarg;
			break;
		case 'F':
			errno = 0;
			cfd = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    cfd < 0 || cfd > INT_MAX) {
				log_warnx("--config-fd %s: not a descriptor",
				    optarg);
				strlist_free(&paths);
				return EXIT_CONFIG;
			}
			break;
		case 'f':
			fg = 1;
			break;
		case 's':
			sl = 1;
			break;
		case 'v':
			log_init(1);
			verbose = 1;
			break;
		case 'h':
			strlist_free(&paths);
			return watch_usage(stdout);
		default:
			strlist_free(&paths);
			return watch_usage(stderr);
		}
	if (optind != argc) {
		strlist_free(&paths);
		return watch_usage(stderr);
	}
	/* The root supervisor's child: the one config it opened, checked
	 * and handed over (watch-super.c), read from the descriptor only
	 * (never again by name), on every load. */
	if (cfd != -1 && (paths.n > 0 || cdir != NULL)) {
		log_warnx("--config-fd cannot be combined with -c or "
		    "--config-dir");
		strlist_free(&paths);
		return EXIT_CONFIG;
	}
	if (cfd != -1) {
		if (fcntl((int)cfd, F_SETFD, FD_CLOEXEC) == -1) {
			log_warn("--config-fd %ld", cfd);
			return EXIT_CONFIG;
		}
		/* Its name, for messages only. */
		snprintf(abs, sizeof(abs), "/proc/self/fd/%ld", cfd);
		if ((n = readlink(abs, absdir, sizeof(absdir) - 1)) <= 0 ||
		    absdir[0] != '/')
			n = snprintf(absdir, sizeof(absdir), "config fd %ld",
			    cfd);
		absdir[n] = '\0';
		strlist_add(&paths, absdir);
	}
	if (cdir != NULL && (realpath(cdir, absdir) == NULL)) {
		log_warn("%s", cdir);
		strlist_free(&paths);
		return EXIT_CONFIG;
	}
	if (cdir != NULL && geteuid() == 0) {
		if (paths.n > 0) {
			log_warnx("as root, --config-dir runs each file as its "
			    "owner: -c cannot be added");
			strlist_free(&paths);
			return EXIT_CONFIG;
		}
		return watch_supervise(absdir, fg, sl, verbose) == OUT_OK ?
		    EXIT_OK : EXIT_CONFIG;
	}
	/* Absolute: daemon() changes to / and a reload reads them again. */
	for (i = 0; i < paths.n && cfd == -1; i++) {
		if (realpath(paths.v[i], abs) == NULL) {
			log_warn("%s", paths.v[i]);
			strlist_free(&paths);
			return EXIT_CONFIG;
		}
		free(paths.v[i]);
		paths.v[i] = xstrdup(abs);
	}
	if (paths.n == 0 && cdir == NULL) {
		if ((def = config_default_path()) == NULL) {
			log_warnx("no config file: use -c FILE");
			return EXIT_CONFIG;
		}
		strlist_add(&paths, def);
	}
	signal(SIGPIPE, SIG_IGN);
	/* libetpan waits with select(): a socket at fd 1024 or above would
	 * abort the process.  Past this limit a connection fails (EMFILE)
	 * and is retried instead. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > FD_SETSIZE) {
		rl.rlim_cur = FD_SETSIZE;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Every thread inherits this mask: signals are taken in serve(). */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.napcv, &ca);
	pthread_condattr_destroy(&ca);
	if (pipe(w.stopfd) == -1)
		fatal("pipe");
	set_nonblock_cloexec(w.stopfd[0]);
	set_nonblock_cloexec(w.stopfd[1]);
	w.base = paths;
	w.cdir = cdir != NULL ? absdir : NULL;
	w.cfd = (int)cfd;
	if (config_files(&w) == -1) {
		strlist_free(&w.base);
		return EXIT_CONFIG;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	if ((w.g = gen_load(&w)) == NULL) {
		strlist_free(&w.base);
		strlist_free(&w.cur);
		return EXIT_CONFIG;
	}
	if (!fg && !sl && daemon(0, 0) == -1)
		fatal("daemon");
	if (!fg)
		log_syslog(1);
	log_info("watching %zu account%s", w.g->nacct, w.g->nacct == 1 ?
	    "" : "s");
	w.stamp_rules = stamp_all_rules(w.g);
	for (i = 0; i < w.g->n; i++)
		for (j = 0; j < w.g->c[i]->naccounts; j++)
			acct_start(&w, w.g, i, j);
	rc = serve(&w);
	strlist_free(&w.base);
	strlist_free(&w.cur);
	return rc;
}
