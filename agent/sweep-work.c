/*
 * sweep-work.c: the classifier beside the IMAP reader.  While the main
 * thread reads a FETCH reply, a second thread classifies the messages
 * already read, so the server's and the classifier's time overlap.  The
 * thread has its own store handle for the Sent lookups (the main thread
 * keeps writing the action log on its own); everything else it uses (the
 * rule set, the user's addresses) is read-only while it runs.  There is
 * one such thread per CPU (up to WORK_THREADS); verdicts are handed back
 * in the order the messages were pushed.  Messages are handed to the
 * threads WORK_HAND at a time (or when work_next is to wait): a hand-off
 * per message cost a wake-up and two futex calls each, as many as the
 * rest of the reader's system calls.  Without a thread (work_start with
 * threaded unset, or pthread_create failing) a pushed message is
 * classified at once, in the caller.
 *
 * The main thread classifies itself (confirm_cands) only after
 * work_next(sw, 1) returned NULL, when the threads are idle.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/dnsbl.h"
#include "agent/log.h"
#include "agent/sweep-private.h"
#include "store/store.h"

/* Bytes of messages read but not yet classified, at most: the reader
 * waits (and the server with it) beyond this. */
#define WORK_MAX_BYTES	(8u * 1024 * 1024)

/* Classifier threads at most (one per online CPU, up to this). */
#define WORK_THREADS	4

/* Messages (or bytes) read before they are handed over together. */
#define WORK_HAND	16
#define WORK_HAND_BYTES	(256u * 1024)

/* Jobs a thread takes at once, at most (its share of the queue): one
 * lock and one wake-up of the reader per group, not per message. */
#define WORK_TAKE	8

struct job {
	struct job *next;
	uint64_t seq;
	uint32_t uid;
	char	*raw;
	size_t	 len;
};

struct work;

struct wthread {		/* one classifier thread's own view */
	pthread_t	 th;
	struct work	*w;
	struct rules_user user;
	struct sentdb	 db;	/* with its own store handle */
};

struct work {
	struct wthread	 t[WORK_THREADS];
	int		 nth;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv_job;	/* a job queued, or quit */
	pthread_cond_t	 cv_res;	/* a verdict ready, or room */
	int		 threaded, quit;
	struct job	*jh, **jt;	/* queued jobs */
	size_t		 nq;		/* ... how many */
	struct job	*sh, **st;	/* read, not handed over yet */
	size_t		 sn, sbytes;	/* ... their count and bytes */
	struct verdict	*rh;		/* finished verdicts, by seq */
	uint64_t	 seq_in, seq_out;	/* next pushed, next taken */
	size_t		 pending;	/* pushed, not yet taken back */
	size_t		 qbytes;	/* bytes in queued jobs */
	/* Inline: the caller's view. */
	const struct rules_set *rs;
	struct rules_limits lim;
	struct rules_user user;
	int		 hosts;		/* keep URL hosts (DNS blocklists) */
};

void
work_verdict_free(struct verdict *v)
{
	size_t i;

	if (v == NULL)
		return;
	free(v->msgid);
	free(v->reasons);
	free(v->raw);
	for (i = 0; i < v->nfp; i++)
		free(v->fp[i]);
	free(v->fp);
	for (i = 0; i < v->nhosts; i++)
		free(v->hosts[i]);
	free(v->hosts);
	dnsbl_msg_free(&v->dm);
	free(v);
}

void
work_verdict_hosts(const struct rules_verdict *rv, char ***hosts_r, size_t *n_r)
{
	size_t i, j;

	for (i = 0; i < rv->nfound; i++) {
		if (rv->found[i].kind != RULES_DOMAIN)
			continue;
		for (j = 0; j < *n_r; j++)
			if (strcmp((*hosts_r)[j], rv->found[i].value) == 0)
				break;
		if (j < *n_r)
			continue;
		*hosts_r = xrealloc(*hosts_r, (*n_r + 1) * sizeof(**hosts_r));
		(*hosts_r)[(*n_r)++] = xstrdup(rv->found[i].value);
	}
}

struct verdict *
work_verdict(uint32_t uid, char *raw, size_t len, const struct rules_set *rs,
    const struct rules_limits *lim, const struct rules_user *user, int hosts)
{
	struct rules_verdict rv;
	struct verdict *v;
	const char *msgid, *kind;
	size_t i, n;

	if (rules_classify(raw, len, rs, lim, user, &rv) == -1)
		fatalx("out of memory");
	v = xcalloc(1, sizeof(*v));
	v->uid = uid;
	v->cls = rv.cls;
	msgid = rv.msg != NULL ? rules_msg_header(rv.msg, "Message-ID") :
	    NULL;
	v->msgid = msgid != NULL ? xstrdup(msgid) : NULL;
	v->reasons = xstrdup(rv.reasons != NULL ? rv.reasons : "");
	/* Only clean mail can be kept as a correspondent's: one lookup. */
	v->corr = rv.cls == RULES_CLEAN && rv.msg != NULL &&
	    rv.msg->from != NULL && user != NULL &&
	    user->correspondent != NULL &&
	    user->correspondent(user->ctx, rv.msg->from) == 1;
	v->score = rv.score;
	for (i = 0, n = 0; i < rv.nfound; i++) {
		n += rv.found[i].matched != 0;
		if (rv.found[i].kind == RULES_ALLOW && rv.found[i].matched)
			hosts = 0;	/* an allowed sender: never junked */
	}
	if (hosts && rv.cls == RULES_CLEAN && !v->corr)
		work_verdict_hosts(&rv, &v->hosts, &v->nhosts);
	if (n > 0)
		v->fp = xcalloc(n, sizeof(*v->fp));
	for (i = 0; i < rv.nfound; i++) {
		if (!rv.found[i].matched)
			continue;
		kind = rules_kind_name(rv.found[i].kind);
		v->fp[v->nfp] = xmalloc(strlen(kind) + 1 +
		    strlen(rv.found[i].value) + 1);
		sprintf(v->fp[v->nfp++], "%s\t%s", kind, rv.found[i].value);
	}
	rules_verdict_free(&rv);
	/* Kept: backscatter is judged again after a Sent scan; the rest is
	 * freed by whoever frees the verdict (the reader, which allocated
	 * it: a classifier thread freeing it would contend for the
	 * reader's malloc arena). */
	v->raw = raw;
	v->len = len;
	return v;
}

/* Files v in the finished list, in push order; the caller holds mu (or
 * is alone).  Threads finish out of order, but rarely by much. */
static void
put_verdict(struct work *w, struct verdict *v)
{
	struct verdict **pp = &w->rh;

	while (*pp != NULL && (*pp)->seq < v->seq)
		pp = &(*pp)->next;
	v->next = *pp;
	*pp = v;
}

static void *
work_main(void *arg)
{
	struct wthread *t = arg;
	struct work *w = t->w;
	struct verdict *v, *done;
	struct job *j, *mine;
	char err[512];
	size_t n, k, bytes;
	int snap = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->jh == NULL && !w->quit) {
			if (snap) {	/* idle: let later lookups see news */
				pthread_mutex_unlock(&w->mu);
				if (store_read_end(t->db.st, err,
				    sizeof(err)) == -1)
					log_debug("classifier thread: %s", err);
				snap = 0;
				pthread_mutex_lock(&w->mu);
				continue;
			}
			pthread_cond_wait(&w->cv_job, &w->mu);
		}
		if (w->jh == NULL)
			break;
		/* This thread's share of what is queued, in order. */
		n = (w->nq + (size_t)w->nth - 1) / (size_t)w->nth;
		if (n > WORK_TAKE)
			n = WORK_TAKE;
		mine = w->jh;
		for (j = mine, k = 1; k < n && j->next != NULL; k++)
			j = j->next;
		w->nq -= k;
		if ((w->jh = j->next) == NULL)
			w->jt = &w->jh;
		j->next = NULL;
		pthread_mutex_unlock(&w->mu);
		/* One read transaction while the queue lasts: a lookup each
		 * otherwise takes and drops SQLite's locks. */
		if (!snap && store_read_begin(t->db.st, err, sizeof(err)) == 0)
			snap = 1;
		done = NULL;
		bytes = 0;
		while ((j = mine) != NULL) {
			mine = j->next;
			v = work_verdict(j->uid, j->raw, j->len, w->rs,
			    &w->lim, &t->user, w->hosts);
			v->seq = j->seq;
			v->next = done;
			done = v;
			bytes += j->len;
			free(j);
		}
		pthread_mutex_lock(&w->mu);
		w->qbytes -= bytes;
		while ((v = done) != NULL) {
			done = v->next;
			put_verdict(w, v);
		}
		pthread_cond_broadcast(&w->cv_res);
	}
	pthread_mutex_unlock(&w->mu);
	if (snap)
		(void)store_read_end(t->db.st, NULL, 0);
	return NULL;
}

int
work_start(struct sweep *sw, const char *dir, int threaded)
{
	struct wthread *t;
	struct work *w;
	sigset_t all, old;
	char path[4096], err[512];
	long ncpu;
	int r = 0, want;

	w = xcalloc(1, sizeof(*w));
	w->jt = &w->jh;
	w->st = &w->sh;
	w->rs = sw->rs;
	w->lim = sw->lim;
	w->user = sw->user;
	w->hosts = sw->dnsbl != NULL;
	sw->work = w;
	if (!threaded)
		return 0;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	want = ncpu < 1 ? 1 : ncpu > WORK_THREADS ? WORK_THREADS : (int)ncpu;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv_job, NULL);
	pthread_cond_init(&w->cv_res, NULL);
	/* Each thread has its own connection: SQLite statements are not
	 * shared between threads. */
	snprintf(path, sizeof(path), "%s/imapsift.db", dir);
	sigfillset(&all);		/* signals stay with the main thread */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (w->nth < want) {
		t = &w->t[w->nth];
		t->w = w;
		t->user = sw->user;
		t->user.ctx = &t->db;
		if (store_open(&t->db.st, path, 0, 0, err, sizeof(err)) == -1) {
			log_debug("classifier thread: %s", err);
			break;
		}
		if ((r = pthread_create(&t->th, NULL, work_main, t)) != 0) {
			log_debug("classifier thread: %s", log_strerror(r));
			store_close(&t->db.st);
			break;
		}
		w->nth++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->nth == 0) {
		log_debug("classifying inline");
		pthread_cond_destroy(&w->cv_res);
		pthread_cond_destroy(&w->cv_job);
		pthread_mutex_destroy(&w->mu);
		return 0;
	}
	w->threaded = 1;
	return 0;
}

void
work_set_learned(struct sweep *sw, const struct rules_set *rs)
{
	struct work *w = sw->work;
	int i;

	sw->user.learned = rs;
	w->user.learned = rs;
	if (!w->threaded)
		return;
	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->nth; i++)
		w->t[i].user.learned = rs;
	pthread_mutex_unlock(&w->mu);
}

void
work_sync(struct sweep *sw)
{
	struct work *w = sw->work;
	struct store *st;
	int i;

	if (!w->threaded) {
		w->user.ctx = &sw->db;
		return;
	}
	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->nth; i++) {
		st = w->t[i].db.st;
		w->t[i].db = sw->db;
		w->t[i].db.st = st;
	}
	pthread_mutex_unlock(&w->mu);
}

void
work_rebind(struct sweep *sw)
{
	struct work *w = sw->work;
	int i;

	if (w->threaded)
		pthread_mutex_lock(&w->mu);
	w->rs = sw->rs;
	w->lim = sw->lim;
	w->user = sw->user;
	w->hosts = sw->dnsbl != NULL;
	for (i = 0; i < w->nth; i++) {
		w->t[i].user = sw->user;
		w->t[i].user.ctx = &w->t[i].db;
	}
	if (w->threaded)
		pthread_mutex_unlock(&w->mu);
}

/* Hands the messages read so far to the threads (main thread only). */
static void
hand(struct work *w)
{
	struct job *j;

	if (w->sh == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->qbytes > 0 && w->qbytes + w->sbytes > WORK_MAX_BYTES)
		pthread_cond_wait(&w->cv_res, &w->mu);
	for (j = w->sh; j != NULL; j = j->next)
		j->seq = w->seq_in++;
	*w->jt = w->sh;
	w->jt = w->st;
	w->nq += w->sn;
	w->qbytes += w->sbytes;
	w->pending += w->sn;
	if (w->sn > 1)
		pthread_cond_broadcast(&w->cv_job);
	else
		pthread_cond_signal(&w->cv_job);
	pthread_mutex_unlock(&w->mu);
	w->sh = NULL;
	w->st = &w->sh;
	w->sn = w->sbytes = 0;
}

int
work_push(struct sweep *sw, uint32_t uid, const char *raw, size_t len)
{
	struct work *w = sw->work;
	struct job *j;
	char *copy;

	copy = xmalloc(len + 1);
	memcpy(copy, raw, len);
	copy[len] = '\0';
	if (!w->threaded) {
		struct verdict *v = work_verdict(uid, copy, len, w->rs,
		    &w->lim, &w->user, w->hosts);

		v->seq = w->seq_in++;
		put_verdict(w, v);
		w->pending++;
		return 1;
	}
	j = xmalloc(sizeof(*j));
	j->next = NULL;
	j->uid = uid;
	j->raw = copy;
	j->len = len;
	*w->st = j;
	w->st = &j->next;
	w->sn++;
	w->sbytes += len;
	if (w->sn < WORK_HAND && w->sbytes < WORK_HAND_BYTES)
		return 0;
	hand(w);
	return 1;
}

struct verdict *
work_next(struct sweep *sw, int wait)
{
	struct work *w = sw->work;
	struct verdict *v;

	if (w->threaded) {
		if (wait)
			hand(w);
		pthread_mutex_lock(&w->mu);
		while (wait && w->pending > 0 &&
		    (w->rh == NULL || w->rh->seq != w->seq_out))
			pthread_cond_wait(&w->cv_res, &w->mu);
	}
	if ((v = w->rh) != NULL && v->seq == w->seq_out) {
		w->rh = v->next;
		w->seq_out++;
		w->pending--;
		v->next = NULL;
	} else
		v = NULL;
	if (w->threaded)
		pthread_mutex_unlock(&w->mu);
	return v;
}

void
work_stop(struct sweep *sw)
{
	struct work *w = sw->work;
	struct verdict *v;
	struct job *j;
	int i;

	if (w == NULL)
		return;
	while ((j = w->sh) != NULL) {	/* never handed over: dropped */
		w->sh = j->next;
		free(j->raw);
		free(j);
	}
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		w->quit = 1;
		while ((j = w->jh) != NULL) {	/* not classified: dropped */
			w->jh = j->next;
			w->pending--;
			free(j->raw);
			free(j);
		}
		w->jt = &w->jh;
		w->nq = 0;
		pthread_cond_broadcast(&w->cv_job);
		pthread_mutex_unlock(&w->mu);
		for (i = 0; i < w->nth; i++) {
			pthread_join(w->t[i].th, NULL);
			store_close(&w->t[i].db.st);
		}
		pthread_cond_destroy(&w->cv_res);
		pthread_cond_destroy(&w->cv_job);
		pthread_mutex_destroy(&w->mu);
	}
	while ((v = w->rh) != NULL) {
		w->rh = v->next;
		work_verdict_free(v);
	}
	free(w);
	sw->work = NULL;
}
