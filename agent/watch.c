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
 * exit 0 within 5 s), HUP reloads the configs and rules (kept when the
 * new ones are broken), USR1 logs one status line per account.  Rule
 * files changing on disk reload them too.  Started as root with
 * --config-dir, the daemon runs one child per config file as that
 * file's owner instead (watch-super.c).
 */
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "conf/conf.h"
#include "store/store.h"

/* Seconds a stop may take before the process exits regardless. */
#define STOP_GRACE	4
/* A session that lasted this long resets the reconnect backoff. */
#define STABLE_SECS	60
#define BACKOFF_MAX	300		/* cap for connection failures */
#define AUTH_BACKOFF	300		/* first wait after a refused login */
#define AUTH_BACKOFF_MAX 3600
#define LOCK_RETRY	60
#define KEEP_STORE_MAX	100	/* accounts whose stores stay open */

struct acct {
	struct watch	*w;
	const struct conf *c;
	const struct conf_account *a;
	struct rules_set *rs;
	char		 dir[4096];
	pthread_t	 th;
	int		 started;
	struct store	*st;		/* between passes only if keep_store */
	int		 keep_store;
	int		 wake;		/* readable once stop is set (shared) */
	/* Under w->mu. */
	int		 stop;
	char		 state[64];
	time_t		 since;
	size_t		 moved, seen, reconnects;
	char		 err[512];
};

struct gen {			/* one loaded generation of configs */
	struct conf	**c;
	struct rules_set **rs;
	char		**dir;
	size_t		 n;
	struct acct	*acct;
	size_t		 nacct;
	int		 stopfd[2];	/* written once: every thread wakes */
};

struct watch {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* a thread ended */
	size_t		 running;
	struct gen	 g;
	char		**paths;	/* the config files of this generation */
	size_t		 npaths;
	struct strlist	 base;		/* the -c files */
	const char	*cdir;		/* --config-dir, read again on HUP */
	int		 cfd;		/* --config-fd, or -1 */
	struct strlist	 cur;		/* base + the files of cdir */
	int		 dry_run;
	uint64_t	 rules_stamp;
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

/* Sleeps up to secs, or until told to stop: 1 when stopping. */
static int
nap(struct acct *ac, double secs)
{
	struct pollfd p;
	double end = mono_now() + secs, left;

	while (!stopping(ac) && (left = end - mono_now()) > 0) {
		p.fd = ac->wake;
		p.events = POLLIN;
		p.revents = 0;
		(void)poll(&p, 1, (int)(left * 1000) + 1);
	}
	return stopping(ac);
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

/* The wait in ms until the next IDLE refresh or Sent harvest is due. */
static int
idle_ms(const struct conf_account *a, double idle_at, double harvest_at)
{
	double t = idle_at + a->idle_refresh, now = mono_now();

	if (harvest_at < t)
		t = harvest_at;
	return t <= now ? 0 : (int)((t - now) * 1000) + 1;
}

/* One pass.  With many accounts the store is open only for its length,
 * so an idle account holds no file of it: libetpan cannot wait on a
 * descriptor past 1023, and a store takes three. */
static int
pass(struct acct *ac, struct sweep *sw, int harvest_now)
{
	int r;

	if (ac->st == NULL && store_open_dir(ac->dir, &ac->st) != EXIT_OK)
		return IMAP_TEMP;
	sweep_set_store(sw, ac->st);
	r = sweep_pass(sw, harvest_now);
	sweep_set_store(sw, NULL);
	if (!ac->keep_store)
		store_close(&ac->st);
	return r;
}

/*
 * One session: a pass, then IDLE (or polls) until something fails or
 * stop is asked.  Returns IMAP_OK when stopped, else the failure.
 */
static int
session(struct acct *ac, struct sweep *sw)
{
	const struct conf_account *a = ac->a;
	double harvest_at = 0, idle_at;
	size_t moved;
	int idle, had, harvest_now, w, r;

	idle = imap_has(sw->s, "IDLE");
	log_info("%s: connected to %s:%u, %s", a->name, a->host, a->port,
	    idle ? "waiting in IDLE" : "IDLE not offered: polling");
	for (;;) {
		moved = sw->moved[0] + sw->moved[1];
		if ((harvest_now = mono_now() >= harvest_at))
			harvest_at = mono_now() + a->harvest_interval;
		r = pass(ac, sw, harvest_now);
		pthread_mutex_lock(&ac->w->mu);
		ac->moved += sw->moved[0] + sw->moved[1] - moved;
		ac->seen = sw->seen;
		pthread_mutex_unlock(&ac->w->mu);
		if (r == IMAP_TEMP || !imap_alive(sw->s))
			return r != IMAP_OK ? r : IMAP_TEMP;
		if (stopping(ac))
			return IMAP_OK;
		/* Mail that came in during the pass was announced then,
		 * and will not be again in IDLE. */
		if (imap_news(sw->s) | sw->news)
			continue;
		set_state(ac, idle ? "idle" : "polling", "");
		if (!idle) {
			if (nap(ac, a->poll_interval))
				return IMAP_OK;
			if ((r = imap_noop(sw->s)) != IMAP_OK)
				return r;
			continue;
		}
		idle_at = mono_now();
		if ((r = imap_idle_start(sw->s, &had)) != IMAP_OK) {
			if (!imap_alive(sw->s))
				return r;
			log_warnx("%s: IDLE refused (%s): polling",
			    a->name, imap_error(sw->s));
			idle = 0;
			continue;
		}
		w = had ? 1 : imap_idle_wait(sw->s, ac->wake,
		    idle_ms(a, idle_at, harvest_at));
		if ((r = imap_idle_done(sw->s)) != IMAP_OK)
			return r;
		if (w == -1)
			return IMAP_TEMP;
		if (w == 2 && stopping(ac))
			return IMAP_OK;
	}
}

static void *
acct_main(void *arg)
{
	struct acct *ac = arg;
	const struct conf_account *a = ac->a;
	struct sweep sw;
	struct imap *s;
	char why[1024], last[1024] = "";
	unsigned fails = 0, authfails = 0;
	double t0;
	int lockfd = -1, rc, r;

	set_state(ac, "starting", NULL);
	while (!stopping(ac)) {
		rc = account_lock(ac->dir, a->name, &lockfd);
		if (rc == 0)
			break;
		if (rc == 1 && last[0] == '\0') {
			log_info("%s: another imapsift is working on this "
			    "account: waiting", a->name);
			snprintf(last, sizeof(last), "locked");
		}
		set_state(ac, "waiting for the lock", NULL);
		nap(ac, LOCK_RETRY);
	}
	last[0] = '\0';
	if (lockfd != -1)
		sweep_setup(&sw, ac->c, a, NULL, ac->rs, ac->dir, 0);
	while (lockfd != -1 && !stopping(ac)) {
		set_state(ac, "connecting", NULL);
		rc = account_open(a, &s, why, sizeof(why));
		if (rc != EXIT_OK) {
			if (strcmp(why, last) != 0)	/* once per change */
				log_warnx("%s", why);
			snprintf(last, sizeof(last), "%s", why);
			set_state(ac, rc == EXIT_AUTH ? "login refused" :
			    "cannot connect", why);
			if (rc == EXIT_AUTH)
				nap(ac, backoff(++authfails, AUTH_BACKOFF,
				    AUTH_BACKOFF_MAX));
			else
				nap(ac, backoff(++fails, 1, BACKOFF_MAX));
			continue;
		}
		if (last[0] != '\0')
			log_info("%s: connection back", a->name);
		last[0] = '\0';
		authfails = 0;
		t0 = mono_now();
		sweep_new_session(&sw, s);
		r = session(ac, &sw);
		snprintf(why, sizeof(why), "%s: connection lost: %s", a->name,
		    imap_error(s)[0] != '\0' ? imap_error(s) :
		    r == IMAP_TEMP ? "temporary failure" : "server error");
		if (imap_alive(s) && stopping(ac))
			imap_close(&s);
		else
			imap_drop(&s);
		sw.s = NULL;
		if (stopping(ac))
			break;
		pthread_mutex_lock(&ac->w->mu);
		ac->reconnects++;
		pthread_mutex_unlock(&ac->w->mu);
		if (mono_now() - t0 >= STABLE_SECS)
			fails = 0;
		set_state(ac, "reconnecting", why);
		log_warnx("%s", why);
		snprintf(last, sizeof(last), "%s", why);
		nap(ac, backoff(++fails, 1, BACKOFF_MAX));
	}
	if (lockfd != -1) {
		sweep_free(&sw);
		close(lockfd);
	}
	if (ac->st != NULL)
		store_close(&ac->st);
	set_state(ac, "stopped", NULL);
	pthread_mutex_lock(&ac->w->mu);
	ac->w->running--;
	pthread_cond_broadcast(&ac->w->cv);
	pthread_mutex_unlock(&ac->w->mu);
	return NULL;
}

/* A fingerprint of c's rule files and directories: the sum of their
 * modification times (nanoseconds) and sizes, so that a change, an
 * added or a removed file all change it. */
static uint64_t
rules_stamp(const struct conf *c)
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
all_rules_stamp(const struct gen *g)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < g->n; i++)
		t += rules_stamp(g->c[i]);
	return t;
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
	free(g->acct);
	memset(g, 0, sizeof(*g));
}

/* Loads every config and its rules; -1 (everything printed) when one is
 * broken or there is no account at all. */
static int
gen_load(struct watch *w, struct gen *g)
{
	struct store *st;
	char dir[4096];
	size_t i, j, k;

	memset(g, 0, sizeof(*g));
	g->c = xcalloc(w->npaths, sizeof(*g->c));
	g->rs = xcalloc(w->npaths, sizeof(*g->rs));
	g->dir = xcalloc(w->npaths, sizeof(*g->dir));
	for (i = 0; i < w->npaths; i++) {
		g->n = i + 1;
		if ((w->cfd != -1 ? config_load_fd(w->cfd, w->paths[i],
		    &g->c[i]) : config_load(w->paths[i], 0, &g->c[i])) !=
		    EXIT_OK)
			goto fail;
		if (store_dir(g->c[i], dir, sizeof(dir)) == -1)
			goto fail;
		g->dir[i] = xstrdup(dir);
		/* Created (or migrated) here, once, before any thread. */
		if (store_open_dir(dir, &st) != EXIT_OK)
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
	g->acct = xcalloc(g->nacct, sizeof(*g->acct));
	for (i = 0, k = 0; i < g->n; i++)
		for (j = 0; j < g->c[i]->naccounts; j++, k++) {
			g->acct[k].w = w;
			g->acct[k].c = g->c[i];
			g->acct[k].a = &g->c[i]->accounts[j];
			g->acct[k].rs = g->rs[i];
			snprintf(g->acct[k].dir, sizeof(g->acct[k].dir), "%s",
			    g->dir[i]);
		}
	return 0;
fail:
	gen_free(g);
	return -1;
}

static void
gen_start(struct watch *w, struct gen *g)
{
	struct acct *ac;
	size_t i;
	int r;

	if (pipe(g->stopfd) == -1)
		fatal("pipe");
	set_nonblock_cloexec(g->stopfd[0]);
	set_nonblock_cloexec(g->stopfd[1]);
	for (i = 0; i < g->nacct; i++) {
		ac = &g->acct[i];
		ac->wake = g->stopfd[0];
		/* Five descriptors each (socket, lock, store) fit below
		 * FD_SETSIZE with room to spare up to this many. */
		ac->keep_store = g->nacct <= KEEP_STORE_MAX;
		pthread_mutex_lock(&w->mu);
		w->running++;
		pthread_mutex_unlock(&w->mu);
		/* Signals stay blocked: the main thread's mask is inherited. */
		if ((r = pthread_create(&ac->th, NULL, acct_main, ac)) != 0) {
			errno = r;
			fatal("%s: pthread_create", ac->a->name);
		}
		ac->started = 1;
	}
}

/* Asks every thread of g to stop and waits for them, at most until
 * deadline (monotonic seconds): 0 when all ended. */
static int
gen_stop(struct watch *w, struct gen *g, double deadline)
{
	struct timespec ts;
	double t;
	size_t i;
	int late = 0;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < g->nacct; i++)
		g->acct[i].stop = 1;
	pthread_mutex_unlock(&w->mu);
	if (g->nacct > 0)
		(void)!write(g->stopfd[1], "x", 1);
	pthread_mutex_lock(&w->mu);
	while (w->running > 0 && !late) {
		clock_gettime(CLOCK_REALTIME, &ts);
		t = deadline - mono_now();
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
	for (i = 0; i < g->nacct; i++)
		if (g->acct[i].started)
			pthread_join(g->acct[i].th, NULL);
	if (g->nacct > 0) {
		close(g->stopfd[0]);
		close(g->stopfd[1]);
	}
	return 0;
}

static void
status(struct watch *w)
{
	struct acct *ac;
	size_t i;
	time_t now = time(NULL);

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->g.nacct; i++) {
		ac = &w->g.acct[i];
		log_info("%s: %s for %lds, %zu seen, %zu moved, %zu "
		    "reconnect%s%s%s", ac->a->name, ac->state,
		    (long)(now - ac->since), ac->seen, ac->moved,
		    ac->reconnects, ac->reconnects == 1 ? "" : "s",
		    ac->err[0] != '\0' ? "; last error: " : "", ac->err);
	}
	pthread_mutex_unlock(&w->mu);
}

/* HUP or changed rule files: the new generation replaces the running one
 * only when all of it loads. */
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

static void
reload(struct watch *w, const char *why)
{
	struct gen g;

	log_info("reloading (%s)", why);
	if (config_files(w) == -1 || gen_load(w, &g) == -1) {
		log_warnx("reload failed: keeping the running configuration "
		    "and rules");
		w->rules_stamp = all_rules_stamp(&w->g);
		return;
	}
	if (gen_stop(w, &w->g, mono_now() + 30) == -1)
		fatalx("reload: the account threads did not stop");
	gen_free(&w->g);
	w->g = g;
	w->rules_stamp = all_rules_stamp(&w->g);
	gen_start(w, &w->g);
	log_info("reloaded: %zu account%s", g.nacct, g.nacct == 1 ? "" :
	    "s");
}

/* The main thread: signals, and the rule files' timestamps. */
static int
serve(struct watch *w)
{
	struct timespec ts = { 2, 0 };
	sigset_t set;
	uint64_t t;
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
			if (gen_stop(w, &w->g, mono_now() + STOP_GRACE) == -1) {
				log_warnx("stopping: some accounts were still "
				    "busy; their unfinished moves stay "
				    "pending and are settled on the next "
				    "start");
				/* Threads still run on this generation:
				 * leave without tearing anything down. */
				fflush(NULL);
				_exit(EXIT_OK);
			}
			gen_free(&w->g);
			return EXIT_OK;
		case SIGHUP:
			reload(w, "SIGHUP");
			break;
		case SIGUSR1:
			status(w);
			break;
		default:
			for (t = 0; t < w->g.n; t++)	/* due feeds */
				feeds_refresh(w->g.c[t], 0);
			t = all_rules_stamp(&w->g);
			if (t != w->rules_stamp)
				reload(w, "rule files changed");
			break;
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
	char abs[PATH_MAX], absdir[PATH_MAX], *end;
	size_t i;
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
		return watch_supervise(absdir, fg, sl, verbose);
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
	w.base = paths;
	w.cdir = cdir != NULL ? absdir : NULL;
	w.cfd = (int)cfd;
	if (config_files(&w) == -1) {
		strlist_free(&w.base);
		return EXIT_CONFIG;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	if (gen_load(&w, &w.g) == -1) {
		strlist_free(&w.base);
		strlist_free(&w.cur);
		return EXIT_CONFIG;
	}
	if (!fg && !sl && daemon(0, 0) == -1)
		fatal("daemon");
	if (!fg)
		log_syslog(1);
	log_info("watching %zu account%s", w.g.nacct, w.g.nacct == 1 ? "" :
	    "s");
	w.rules_stamp = all_rules_stamp(&w.g);
	gen_start(&w, &w.g);
	rc = serve(&w);
	strlist_free(&w.base);
	strlist_free(&w.cur);
	return rc;
}
