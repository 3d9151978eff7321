/*
 * actlog.c: the action log on the command line.  `imapsift log` lists the
 * moves newest first; `imapsift undo` moves done ones back where they
 * came from, finding each in its destination by the UID it got there
 * (checked against its Message-ID) or else by its Message-ID.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/actlog.h"
#include "agent/cmd.h"
#include "agent/imap.h"
#include "agent/log.h"
#include "agent/util.h"
#include "conf/conf.h"
#include "rules/rules.h"
#include "store/store.h"

/* Seconds undo waits by default for a sweep or watch pass to end. */
#define UNDO_WAIT	60

int
actlog_parse_duration(const char *s, time_t *secs_r)
{
	static const char units[] = "smhdw";
	static const long long mul[] = { 1, 60, 3600, 86400, 7 * 86400 };
	const char *u;
	char *end;
	long long v;

	v = strtoll(s, &end, 10);
	if (end == s || v < 0 || v > 100LL * 366 * 86400)
		return -1;
	if (*end == '\0') {
		*secs_r = (time_t)v;
		return 0;
	}
	u = strchr(units, *end);
	if (u == NULL || end[1] != '\0' || v * mul[u - units] >
	    100LL * 366 * 86400)
		return -1;
	*secs_r = (time_t)(v * mul[u - units]);
	return 0;
}

static const char *
state_name(enum store_action_state st)
{
	static const char *const names[] = {
		"any", "pending", "done", "failed", "undone"
	};

	if ((size_t)st >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[st];
}

/* A copy of one action, kept past the iterator. */
struct act {
	int64_t	 id;
	char	*account, *mailbox, *msgid, *dest;
	uint32_t uid, new_uid, found;
};

struct acts {
	struct act *v;
	size_t	 n, cap;
};

struct actlog_opts {
	const char *cpath;
	struct store_action_filter f;
	int	 dry_run, any;
	int	 wait;		/* undo: seconds to wait for the lock */
};

/* Prints the usage on f: returns 1 for stdout (--help), else -1. */
static int
actlog_usage(FILE *f, int undo)
{
	fprintf(f, undo ? "usage: imapsift undo [-c FILE] --since "
	    "DURATION | --id N | --all [--dry-run] [--wait SECS]\n" :
	    "usage: imapsift log [-c FILE] [--since DURATION] [--id N]\n");
	return f == stdout ? 1 : -1;
}

/* Parses argv: 0, -1 on bad usage (printed), 1 after -h/--help. */

static int
actlog_parse(int argc, char **argv, struct actlog_opts *o, int undo)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'A' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "wait", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	time_t d;
	char *end;
	int ch;

	memset(o, 0, sizeof(*o));
	o->wait = UNDO_WAIT;
	optind = 1;
	for (;;) {
		ch = getopt_long(argc, argv, "c:nvh", longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'c':
			o->cpath = optarg;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case 'v':
			log_init(1);
			break;
		case 'A':
			o->any = 1;
			break;
		case 's':
			if (actlog_parse_duration(optarg, &d) == -1) {
				log_warnx("--since: \"%s\" is not a duration "
				    "(30m, 2h, 3d, 1w)", optarg);
				return -1;
			}
			o->f.since = time(NULL) - d;
			o->any = 1;
			break;
		case 'i':
			errno = 0;
			o->f.id = strtoll(optarg, &end, 10);
			if (end == optarg || *end != '\0' || errno == ERANGE ||
			    o->f.id <= 0) {
				log_warnx("--id: \"%s\" is not an id", optarg);
				return -1;
			}
			o->any = 1;
			break;
		case 'w':
			if (!undo || actlog_parse_duration(optarg, &d) == -1 ||
			    d > 86400) {
				log_warnx("--wait: \"%s\" is not a duration up "
				    "to 1d", optarg);
				return -1;
			}
			o->wait = (int)d;
			break;
		case 'h':
			return actlog_usage(stdout, undo);
		default:
			return actlog_usage(stderr, undo);
		}
	}
	if (optind != argc || (undo && !o->any) || (!undo && o->dry_run))
		return actlog_usage(stderr, undo);
	return 0;
}

/* The config (optional unless named) and the store. */
static int
actlog_open(const struct actlog_opts *o, struct conf **c_r,
    struct store **st_r)
{
	char dir[4096];

	if (config_load(o->cpath, 1, c_r) != OUT_OK)
		return EXIT_CONFIG;
	if (account_store_dir(*c_r, dir, sizeof(dir)) == -1)
		return EXIT_CONFIG;
	return cmd_exit(account_store_open(dir, st_r));
}

int
cmd_log(int argc, char **argv)
{
	struct actlog_opts o;
	struct store_action_iter *it;
	struct store_action a;
	struct conf *c = NULL;
	struct store *st = NULL;
	char err[512], tbuf[32];
	struct tm tm;
	int rc;

	if ((rc = actlog_parse(argc, argv, &o, 0)) != 0)
		return rc == 1 ? EXIT_OK : EXIT_CONFIG;
	rc = actlog_open(&o, &c, &st);
	if (rc != EXIT_OK)
		goto done;
	it = store_action_iter_init(st, &o.f, err, sizeof(err));
	if (it == NULL)
		goto fail;
	while (store_action_iter_next(it, &a)) {
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S",
		    localtime_r(&a.time, &tm));
		printf("%lld\t%s\t%s\t%s\t%u\t%s\t%s\t%s\t%s\n",
		    (long long)a.id, tbuf, a.account, a.mailbox, a.uid,
		    a.dest, a.verdict, a.reasons != NULL ? a.reasons : "",
		    state_name(a.state));
	}
	if (store_action_iter_deinit(&it, err, sizeof(err)) == 0)
		goto done;
fail:
	log_warnx("%s", err);
	rc = EXIT_FAIL;
done:
	store_close(&st);
	conf_free(&c);
	return rc;
}

static int
collect(struct store *st, const struct store_action_filter *f,
    struct acts *l)
{
	struct store_action_iter *it;
	struct store_action a;
	struct act *x;
	char err[512];

	it = store_action_iter_init(st, f, err, sizeof(err));
	if (it == NULL)
		goto fail;
	while (store_action_iter_next(it, &a)) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 32;
			l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		}
		x = &l->v[l->n++];
		memset(x, 0, sizeof(*x));
		x->id = a.id;
		x->account = xstrdup(a.account);
		x->mailbox = xstrdup(a.mailbox);
		x->dest = xstrdup(a.dest);
		x->msgid = a.msgid != NULL ? xstrdup(a.msgid) : NULL;
		x->uid = a.uid;
		x->new_uid = a.new_uid;
	}
	if (store_action_iter_deinit(&it, err, sizeof(err)) == 0)
		return 0;
fail:
	log_warnx("%s", err);
	return -1;
}

/* Matches fetched Message-IDs against the actions moved to one dest. */
struct finder {
	struct act **v;
	size_t	 n;
};

static int
find_one(void *arg, const struct imap_msg *m)
{
	struct finder *fd = arg;
	struct rules_msg *msg;
	const char *id;
	char key[STORE_MSGID_MAX], err[256];
	size_t i;

	if (rules_msg_parse(m->data, m->len, NULL, &msg, err,
	    sizeof(err)) == -1)
		return 1;
	id = rules_msg_header(msg, "Message-ID");
	if (id == NULL || store_msgid_key(id, key, sizeof(key)) == -1)
		key[0] = '\0';
	for (i = 0; i < fd->n; i++) {
		if (fd->v[i]->msgid == NULL) {
			/* no ID to check: the recorded UID alone */
			if (m->uid == fd->v[i]->new_uid)
				fd->v[i]->found = m->uid;
			continue;
		}
		if (strcmp(fd->v[i]->msgid, key) != 0)
			continue;
		/* the recorded UID first, else any copy */
		if (fd->v[i]->found == 0 || m->uid == fd->v[i]->new_uid)
			fd->v[i]->found = m->uid;
	}
	rules_msg_free(&msg);
	return 0;
}

/* Moves the found messages of fd back to their mailbox and marks them. */
static int
move_back(struct imap *s, struct store *st, struct finder *fd,
    const char *mbox, int dry_run)
{
	uint32_t *uids = xcalloc(fd->n, sizeof(*uids));
	int *state = xcalloc(fd->n, sizeof(*state));
	char err[512];
	size_t i, n = 0, k = 0;
	int r = OUT_OK, ok;

	for (i = 0; i < fd->n; i++)
		if (fd->v[i]->found != 0 && strcmp(fd->v[i]->mailbox,
		    mbox) == 0)
			uids[n++] = fd->v[i]->found;
	if (n > 0 && !dry_run) {
		imap_store_flags(s, uids, n, "-FLAGS.SILENT ($Junk)");
		r = imap_move(s, uids, n, mbox, NULL, state);
	}
	for (i = 0; i < fd->n; i++) {
		if (fd->v[i]->found == 0 || strcmp(fd->v[i]->mailbox, mbox))
			continue;
		/* A copy made but not yet removed here counts as moved back:
		 * the message is in mbox, which is what undo promises. */
		ok = dry_run || state[k] == IMAP_MV_DONE ||
		    state[k] == IMAP_MV_COPIED;
		k++;
		if (!ok) {
			log_warnx("%s: undo %lld: %s", fd->v[i]->account,
			    (long long)fd->v[i]->id, r != OUT_OK ?
			    imap_error(s) : "not moved back");
			continue;
		}
		fprintf(stderr, "%s/%s: %s uid %u back to %s\n",
		    fd->v[i]->account, fd->v[i]->dest, dry_run ?
		    "would move" : "moved", fd->v[i]->found, mbox);
		if (!dry_run && store_action_undone(st, fd->v[i]->id, err,
		    sizeof(err)) == -1)
			log_warnx("%s", err);
	}
	free(uids);
	free(state);
	return r;
}

/* Undoes the actions of one account that went to dest. */
static int
undo_dest(struct imap *s, struct store *st, struct acts *l,
    const char *account, const char *dest, int dry_run)
{
	struct finder fd = { 0 };
	uint32_t from = UINT32_MAX;
	size_t i, j;
	int r;

	fd.v = xcalloc(l->n, sizeof(*fd.v));
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].account, account) == 0 &&
		    strcmp(l->v[i].dest, dest) == 0) {
			fd.v[fd.n++] = &l->v[i];
			from = 1;	/* by Message-ID: the whole mailbox */
		}
	r = OUT_OK;
	if (fd.n > 0) {
		r = imap_select(s, dest, 0, NULL, NULL, NULL);
		if (r == OUT_OK)
			r = imap_fetch_headers(s, from, find_one, &fd);
		if (r != OUT_OK)
			log_warnx("%s: %s: %s", account, dest,
			    imap_error(s));
	}
	for (i = 0; i < fd.n && r == OUT_OK; i++) {
		if (fd.v[i]->found == 0)
			log_warnx("%s: undo %lld: not found in %s", account,
			    (long long)fd.v[i]->id, dest);
		for (j = 0; j < i; j++)
			if (strcmp(fd.v[j]->mailbox, fd.v[i]->mailbox) == 0)
				break;
		if (j == i)
			r = move_back(s, st, &fd, fd.v[i]->mailbox, dry_run);
	}
	free(fd.v);
	return r;
}

static int
undo_account(const struct conf_account *a, const char *dir,
    struct store *st, struct acts *l, int dry_run)
{
	struct imap *s;
	size_t i, j;
	int rc, r = OUT_OK;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].account, a->name) == 0)
			break;
	if (i == l->n)
		return EXIT_OK;
	rc = account_connect(a, dir, &s);
	if (rc != OUT_OK)
		return cmd_exit(rc);
	for (i = 0; i < l->n && r != OUT_TEMP; i++) {
		if (strcmp(l->v[i].account, a->name) != 0)
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(l->v[j].account, a->name) == 0 &&
			    strcmp(l->v[j].dest, l->v[i].dest) == 0)
				break;
		if (j == i)
			r = undo_dest(s, st, l, a->name, l->v[i].dest,
			    dry_run);
	}
	if (imap_alive(s))
		imap_close(&s);
	else
		imap_drop(&s);
	return r == OUT_OK ? EXIT_OK : r == OUT_TEMP ? EXIT_TEMP :
	    EXIT_FAIL;
}

/* Takes a's work lock, waiting up to wait seconds for a sweep, a watch
 * pass or another undo to end: 0 with *fd_r, else EXIT_LOCKED or
 * EXIT_FAIL (warned). */
static int
undo_lock(const struct conf_account *a, int wait, int *fd_r)
{
	char name[128];
	double end = util_mono_now() + wait;
	int r, said = 0;

	while ((r = account_lock(a, LOCK_WORK, fd_r)) == OUT_TEMP &&
	    util_mono_now() < end) {
		if (!said++)
			log_info("%s: another imapsift is moving mail of "
			    "%s@%s:%u: waiting up to %d s", a->name, a->user,
			    a->host, a->port, wait);
		usleep(200 * 1000);
	}
	if (r == OUT_TEMP) {
		account_lock_name(a, name, sizeof(name));
		log_warnx("%s: nothing undone: %s@%s:%u stayed locked for %d "
		    "s (lock %s.work), by a long sweep or watch pass or "
		    "another undo; try again", a->name, a->user, a->host,
		    a->port, wait, name);
		return EXIT_LOCKED;
	}
	return r == OUT_OK ? 0 : EXIT_FAIL;
}

static void
acts_free(struct acts *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].account);
		free(l->v[i].mailbox);
		free(l->v[i].msgid);
		free(l->v[i].dest);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
cmd_undo(int argc, char **argv)
{
	struct actlog_opts o;
	struct acts l = { 0 };
	struct conf *c = NULL;
	struct store *st = NULL;
	char dir[4096];
	size_t i;
	int rc, r, fd;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = actlog_parse(argc, argv, &o, 1)) != 0)
		return rc == 1 ? EXIT_OK : EXIT_CONFIG;
	rc = actlog_open(&o, &c, &st);
	if (rc != EXIT_OK)
		goto done;
	if (c == NULL) {
		log_warnx("undo needs the config file (-c FILE)");
		rc = EXIT_CONFIG;
		goto done;
	}
	o.f.state = STORE_ACTION_DONE;
	if (account_store_dir(c, dir, sizeof(dir)) == -1) {
		rc = EXIT_CONFIG;
		goto done;
	}
	for (i = 0; i < c->naccounts; i++) {
		/* The moves to undo are read (again) once the lock is held:
		 * another undo may just have undone them.  An account with
		 * nothing to undo is not waited for. */
		fd = -1;
		o.f.account = c->accounts[i].name;
		if (collect(st, &o.f, &l) == -1) {
			rc = EXIT_FAIL;
			break;
		}
		r = l.n > 0;
		acts_free(&l);
		if (r == 0)
			continue;
		if (!o.dry_run && (r = undo_lock(&c->accounts[i], o.wait,
		    &fd)) != 0) {
			if (rc == EXIT_OK)
				rc = r;
			continue;
		}
		if (collect(st, &o.f, &l) == -1)
			r = EXIT_FAIL;
		else
			r = undo_account(&c->accounts[i], dir, st, &l,
			    o.dry_run);
		acts_free(&l);
		if (fd != -1)
			close(fd);
		if (rc == EXIT_OK)
			rc = r;
	}
done:
	store_close(&st);
	conf_free(&c);
	return rc;
}
