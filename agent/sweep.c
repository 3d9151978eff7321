/*
 * sweep.c: `imapsift sweep`, once over every account: scan Sent, then
 * per watched mailbox fetch the UIDs above the last one swept in batches,
 * classify each message and move junk and backscatter out (the moves and
 * folders are in sweep-move.c).  Every move is logged as pending after
 * its batch, made with those of other batches at the end of the pass (or
 * every SWEEP_FLUSH), and completed after, in the same transaction that
 * advances the mailbox's last UID.
 */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/cmd.h"
#include "agent/dnsbl.h"
#include "agent/feeds.h"
#include "agent/imap.h"
#include "agent/limits.h"
#include "agent/log.h"
#include "agent/sent.h"
#include "agent/sweep-private.h"
#include "conf/conf.h"
#include "store/store.h"

static void
progress(struct sweep *sw, int done)
{
	double t = util_mono_now(), dt = t - sw->t0;

	if (!sw->tty)
		return;
	if (done) {
		if (sw->tprog != 0)
			fputs("\r\033[K", stderr);
		return;
	}
	if (t - sw->tprog < 0.5 || dt < 1)
		return;
	sw->tprog = t;
	fprintf(stderr, "\r%s/%s: %zu messages, %.0f/s, %zu hits\033[K",
	    sw->a->name, sw->mbox, sw->seen, sw->seen / dt,
	    sw->moved[0] + sw->moved[1] + sw->nmv);
}

/* Holds raw (malloc'd, NUL-terminated; taken) for confirm_cands. */
static void
add_cand(struct sweep *sw, uint32_t uid, char *raw, size_t len)
{
	struct cand *c;

	if (sw->ncd == sw->capcd) {
		sw->capcd = sw->capcd ? sw->capcd * 2 : 8;
		sw->cd = xrealloc(sw->cd, sw->capcd * sizeof(*sw->cd));
	}
	c = &sw->cd[sw->ncd++];
	c->uid = uid;
	c->len = len;
	c->raw = raw;
}

static void
drop_cands(struct sweep *sw)
{
	size_t i;

	for (i = 0; i < sw->ncd; i++)
		free(sw->cd[i].raw);
	sw->ncd = 0;
}

/* Without a complete Sent scan a bounce cannot be judged for good:
 * the mailbox is not advanced to it, so the next run judges it again. */
static void
hold(struct sweep *sw, uint32_t uid)
{
	if (sw->hold == 0 || uid < sw->hold)
		sw->hold = uid;
	sw->held++;
}

/*
 * Earlier action id moved a message with this one's Message-ID.  Was it
 * the user's rescue (0: the message came back, leave it), a move of this
 * very message that a crash interrupted (1: still pending, same mailbox,
 * UIDVALIDITY and UID; marked failed, and the message judged again), or
 * a move this pass made of another copy (2: judge this one too), or a
 * move whose copy was made but whose original, this message, stayed
 * (3: the same UID; the connection broke before it was removed)?
 */
static int
prior_move(struct sweep *sw, int64_t id, uint32_t uid)
{
	struct store_action_filter f;
	struct store_action_iter *it;
	struct store_action a;
	char err[512];
	int how = 0;

	memset(&f, 0, sizeof(f));
	f.id = id;
	it = store_action_iter_init(sw->st, &f, err, sizeof(err));
	if (it == NULL) {
		log_warnx("%s", err);
		return 0;
	}
	if (store_action_iter_next(it, &a)) {
		if (strcmp(a.mailbox, sw->mbox) == 0 &&
		    a.uidvalidity == sw->uv && a.uid == uid &&
		    (a.state == STORE_ACTION_PENDING ||
		    a.state == STORE_ACTION_DONE))
			how = a.state == STORE_ACTION_PENDING ? 1 : 3;
		else if (sw->first_id != 0 && a.id >= sw->first_id)
			how = 2;
	}
	if (store_action_iter_deinit(&it, err, sizeof(err)) == -1)
		log_warnx("%s", err);
	if (how == 1 && !sw->dry_run && store_action_failed(sw->st, id,
	    "interrupted before the move", err, sizeof(err)) == -1)
		log_warnx("%s", err);
	return how;
}

/* A message we moved before is back: the user rescued it.  Its matched
 * indicators become false-positive evidence (once: on a rescan they were
 * counted already). */
static int
rescued(struct sweep *sw, const struct verdict *v)
{
	char err[512], key[1024], *tab;
	int64_t id;
	size_t i;
	int r;

	if (v->msgid == NULL || sw->log_empty)
		return 0;
	r = store_action_find_msgid(sw->st, sw->a->name, v->msgid, &id, err,
	    sizeof(err));
	if (r == -1 && store_msgid_key(v->msgid, key, sizeof(key)) == 0) {
		/* Cannot tell whether it came back: leave it for now. */
		log_warnx("%s/%s: uid %u left for the next run: %s",
		    sw->a->name, sw->mbox, v->uid, err);
		sw->errors++;
		hold(sw, v->uid);
		return 1;
	}
	if (r != 1)
		return 0;
	switch (prior_move(sw, id, v->uid)) {
	case 0:
		break;
	case 3:
		if (sw->nrm == sw->caprm) {
			sw->caprm = sw->caprm ? sw->caprm * 2 : 16;
			sw->rm = xrealloc(sw->rm, sw->caprm * sizeof(*sw->rm));
		}
		sw->rm[sw->nrm++] = v->uid;
		return 1;
	default:
		return 0;
	}
	log_debug("%s/%s: uid %u was moved before: left alone", sw->a->name,
	    sw->mbox, v->uid);
	if (sw->rescan || sw->dry_run)
		return 1;
	sweep_unlearn(sw, v->raw, v->len);
	for (i = 0; i < v->nfp; i++) {
		if ((tab = strchr(v->fp[i], '\t')) == NULL)
			continue;
		*tab = '\0';
		if (store_fp_add(sw->st, v->fp[i], tab + 1, 0, err,
		    sizeof(err)) == -1)
			log_warnx("%s", err);
		*tab = '\t';
	}
	return 1;
}

/* Acts on one message's verdict (and frees it); with confirm unset, a
 * backscatter verdict is held back until Sent has been scanned again. */
static void
decide(struct sweep *sw, struct verdict *v, int confirm)
{
	int dest = -1;

	switch (v->cls) {
	case RULES_JUNK:
		dest = DEST_JUNK;
		break;
	case RULES_BACKSCATTER:
		if (sw->sent_failed) {	/* judged again next time */
			hold(sw, v->uid);
			break;
		}
		if (!confirm && !sw->sent_rescanned) {
			add_cand(sw, v->uid, v->raw, v->len);
			v->raw = NULL;
			break;
		}
		dest = DEST_BS;
		break;
	case RULES_BOUNCE:
	case RULES_BOUNCE_UNKNOWN:
		if (sw->sent_failed)
			hold(sw, v->uid);
		else
			sw->kept++;
		break;
	default:
		break;
	}
	/* Learned from Junk, and now back: the user rescued it. */
	if (v->cls != RULES_BACKSCATTER && sweep_was_learned(sw, v->msgid)) {
		if (!sw->rescan)
			sweep_unlearn(sw, v->raw, v->len);
		if (dest == DEST_JUNK)
			dest = -1;
	}
	if (dest != -1 && !rescued(sw, v))
		sweep_move_add(sw, v->uid, dest, v->msgid, v->reasons);
	else if (dest == -1 && v->msgid != NULL && sw->a->learn)
		strlist_add(&sw->seen_ids, v->msgid);
	/* Mail from someone the user writes to, left here: ham evidence. */
	if (dest == -1 && v->corr && v->cls == RULES_CLEAN && !sw->rescan)
		sweep_learn_corr(sw, v->raw, v->len);
	work_verdict_free(v);
}

/* The DNS blocklists' answers for v: their weight joins the score, and
 * clean mail at the threshold is junk. */
static void
dnsbl_apply(struct sweep *sw, struct verdict *v)
{
	char *why, *r;
	double w;

	if (v->dm == NULL)
		return;
	w = dnsbl_score(sw->dnsbl, v->dm, &why);
	dnsbl_msg_free(&v->dm);
	if (why == NULL)
		return;
	r = xmalloc(strlen(v->reasons) + strlen(why) + 3);
	sprintf(r, "%s%s%s", v->reasons, v->reasons[0] != '\0' ? "; " : "",
	    why);
	free(v->reasons);
	free(why);
	v->reasons = r;
	v->score += w;
	if (v->cls == RULES_CLEAN && v->score > 0 &&
	    v->score >= rules_threshold(sw->rs))
		v->cls = RULES_JUNK;
}

/*
 * Takes the verdicts the classifier has ready (wait: all of them).  With
 * DNS blocklists, clean mail's lookups start as its verdict comes, and
 * verdicts are decided in order once their answers are in: the queries
 * of a whole batch run while the rest of it is fetched; at the batch's
 * end (wait) the last ones get at most about one query timeout.
 */
static void
collect(struct sweep *sw, int wait)
{
	struct verdict *v;

	while ((v = work_next(sw, wait)) != NULL) {
		if (sw->dnsbl == NULL) {
			decide(sw, v, 0);
			continue;
		}
		if (v->nhosts > 0 && v->cls == RULES_CLEAN)
			v->dm = dnsbl_start(sw->dnsbl, sw->rs, v->hosts,
			    v->nhosts);
		*sw->dqt = v;
		sw->dqt = &v->next;
	}
	if (sw->dnsbl == NULL)
		return;
	dnsbl_poll(sw->dnsbl, 0);
	if (wait)
		dnsbl_wait(sw->dnsbl, NULL);
	while ((v = sw->dq) != NULL && (v->dm == NULL || dnsbl_done(v->dm))) {
		if ((sw->dq = v->next) == NULL)
			sw->dqt = &sw->dq;
		v->next = NULL;
		dnsbl_apply(sw, v);
		decide(sw, v, 0);
	}
	if (wait)
		dnsbl_flush(sw->dnsbl);
}

static int
on_msg(void *arg, const struct imap_msg *m)
{
	struct sweep *sw = arg;

	if (m->uid <= sw->last)
		return 0;
	if (sw->want != NULL && bsearch(&m->uid, sw->want, sw->nwant,
	    sizeof(*sw->want), util_cmp_u32) == NULL)
		return 0;
	if (m->uid > sw->maxseen)
		sw->maxseen = m->uid;
	sw->seen++;
	progress(sw, 0);
	if (m->flags & IMAP_FL_NOTJUNK) {
		sweep_unlearn(sw, m->data, m->len);
		return 0;
	}
	if (work_push(sw, m->uid, m->data, m->len))
		collect(sw, 0);
	else
		dnsbl_poll(sw->dnsbl, 0);	/* answers read as they come */
	return 0;
}

/* Scans Sent and takes the store's coverage as reaching up to now. */
static int
sent_rescan(struct sweep *sw)
{
	char err[512];
	int complete, r;
	time_t oldest, newest;

	r = sent_scan(sw->s, sw->st, sw->a->name, sw->sent.v, sw->sent.n);
	if (r != OUT_OK && !sw->sent_failed) {
		sw->sent_failed = 1;
		sw->errors++;
		log_warnx("%s: Sent not harvested: bounces are left for the "
		    "next run", sw->a->name);
	}
	if (store_coverage(sw->st, &oldest, &newest, &complete, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		if (!sw->sent_failed) {	/* bounces wait, as above */
			sw->sent_failed = 1;
			sw->errors++;
		}
		return OUT_PERM;
	}
	dnsbl_correspondents(sw->dnsbl);	/* new ones never asked about */
	sw->db.st = sw->st;
	sw->db.oldest = oldest;
	sw->db.newest = newest;
	sw->db.complete = complete;
	if (r == OUT_OK && oldest != 0 && sw->sent.n > 0)
		sw->db.newest = time(NULL);
	work_sync(sw);
	return r;
}

/* Backscatter held back: scan Sent again, re-select, judge again. */
static int
confirm_cands(struct sweep *sw)
{
	uint32_t uv, uidnext = 0;
	const char *sel;
	size_t i;
	int r, news, ro;

	if (sw->ncd == 0)
		return OUT_OK;
	sw->sent_rescanned = 1;
	r = sent_rescan(sw);
	if (r == OUT_TEMP)
		return r;
	news = imap_news(sw->s);	/* the SELECT below clears it */
	sel = imap_selected(sw->s, &ro);
	if (sel != NULL && !ro && strcmp(sel, sw->mbox) == 0) {
		/* Still selected: Sent needed no EXAMINE (sent.c). */
		if (news)
			sw->news = 1;
		r = OUT_OK;
		uv = sw->uv;
	} else {
		r = imap_select(sw->s, sw->mbox, 0, &uv, &uidnext, NULL);
		if (news || (r == OUT_OK && uidnext > sw->uidnext))
			sw->news = 1;
	}
	if (r != OUT_OK || uv != sw->uv) {
		log_warnx("%s/%s: cannot select again: %s", sw->a->name,
		    sw->mbox, r != OUT_OK ? imap_error(sw->s) :
		    "UIDVALIDITY changed");
		return r != OUT_OK ? r : OUT_TEMP;
	}
	for (i = 0; i < sw->ncd; i++) {	/* the classifier is idle */
		decide(sw, work_verdict(sw->cd[i].uid, sw->cd[i].raw,
		    sw->cd[i].len, sw->rs, &sw->lim, &sw->user, 0), 1);
		sw->cd[i].raw = NULL;
	}
	sw->ncd = 0;
	return OUT_OK;
}

/* Removes the originals of moves whose copies were made before. */
static int
remove_leftovers(struct sweep *sw)
{
	size_t i;
	int r;

	if (sw->nrm == 0)
		return OUT_OK;
	if (sw->dry_run) {
		sw->nrm = 0;
		return OUT_OK;
	}
	r = imap_remove(sw->s, sw->rm, sw->nrm);
	for (i = 0; i < sw->nrm; i++) {
		if (r == OUT_OK)
			log_note("%s/%s: removed uid %u: its copy was moved "
			    "before", sw->a->name, sw->mbox, sw->rm[i]);
		else
			hold(sw, sw->rm[i]);
	}
	if (r != OUT_OK)
		log_warnx("%s/%s: removing %zu moved original%s: %s",
		    sw->a->name, sw->mbox, sw->nrm, sw->nrm == 1 ? "" : "s",
		    imap_error(sw->s));
	sw->nrm = 0;
	return r == OUT_TEMP || !imap_alive(sw->s) ? r : OUT_OK;
}

/* Fetches and judges from..to (to 0: no upper bound), holds the moves. */
static int
batch(struct sweep *sw, uint32_t from, uint32_t to)
{
	uint32_t hi;
	int r;

	sw->maxseen = 0;
	r = imap_uid_fetch(sw->s, from, to, sw->a->max_fetch_bytes, on_msg,
	    sw);
	collect(sw, 1);
	if (r != OUT_OK) {
		log_warnx("%s/%s: fetch: %s", sw->a->name, sw->mbox,
		    imap_error(sw->s));
		return sweep_moves_abort(sw, r, 1);
	}
	r = confirm_cands(sw);		/* may leave another mailbox selected */
	if (r != OUT_OK)
		return sweep_moves_abort(sw, r, 0);
	if ((r = remove_leftovers(sw)) != OUT_OK)
		return sweep_moves_abort(sw, r, 1);
	hi = to;
	if (to == 0 || (sw->uidnext != 0 && hi >= sw->uidnext))
		hi = sw->uidnext != 0 ? sw->uidnext - 1 : sw->maxseen;
	if (hi < sw->last)
		hi = sw->last;
	return sweep_moves_do(sw, hi);
}

/*
 * The UIDs a search finds, in batches of SWEEP_BATCH: on a first run
 * those of the last first_run_days (first set), else those above the
 * last one swept, when that range is far wider than the mailbox's
 * message count (UIDs can be sparse, and fetching empty ranges one by
 * one could take millions of commands).
 */
static int
searched(struct sweep *sw, int first)
{
	uint32_t *uids = NULL;
	size_t n = 0, i, j;
	time_t since;
	int r;

	since = time(NULL) - (time_t)sw->a->first_run_days * 86400;
	r = first ? imap_uid_search_since(sw->s, since, &uids, &n) :
	    imap_uid_search_from(sw->s, sw->last + 1, &uids, &n);
	if (r != OUT_OK) {
		log_warnx("%s/%s: search: %s", sw->a->name, sw->mbox,
		    imap_error(sw->s));
		return r;
	}
	sw->want = uids;		/* ascending already */
	sw->nwant = n;
	for (i = 0; i < n && r == OUT_OK; i = j + 1) {
		j = i + SWEEP_BATCH - 1 < n ? i + SWEEP_BATCH - 1 : n - 1;
		r = batch(sw, uids[i], uids[j]);
	}
	sw->want = NULL;
	free(uids);
	if (r == OUT_OK)
		r = sweep_moves_do(sw, sw->uidnext > 0 ? sw->uidnext - 1 :
		    sw->maxseen);
	return r;
}

/*
 * Moves whose outcome a cut connection, a crash or a failed store write
 * (a full disk) left unknown are still pending: a message no longer in this mailbox was moved (its row
 * is completed); one still here is judged again when fetched (see
 * prior_move).  Failures only cost a log line: the next pass retries.
 */
static void
settle_pending(struct sweep *sw)
{
	struct store_action_filter f;
	struct store_action_iter *it;
	struct store_action a;
	uint32_t *uids = NULL;
	int64_t *ids = NULL;
	char err[512], *present;
	size_t i, n = 0, cap = 0;

	memset(&f, 0, sizeof(f));
	f.state = STORE_ACTION_PENDING;
	f.account = sw->a->name;
	if ((it = store_action_iter_init(sw->st, &f, err, sizeof(err))) ==
	    NULL) {
		log_warnx("%s", err);
		return;
	}
	while (store_action_iter_next(it, &a))
		if (strcmp(a.mailbox, sw->mbox) == 0 &&
		    a.uidvalidity == sw->uv) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				uids = xrealloc(uids, cap * sizeof(*uids));
				ids = xrealloc(ids, cap * sizeof(*ids));
			}
			uids[n] = a.uid;
			ids[n++] = a.id;
		}
	if (store_action_iter_deinit(&it, err, sizeof(err)) == -1)
		log_warnx("%s", err);
	if (n == 0)
		return;
	present = xmalloc(n);
	if (imap_uid_present(sw->s, uids, n, present) != OUT_OK)
		log_warnx("%s/%s: pending moves: %s", sw->a->name, sw->mbox,
		    imap_error(sw->s));
	else
		for (i = 0; i < n; i++) {
			if (present[i])
				continue;
			if (store_action_done(sw->st, ids[i], 0, err,
			    sizeof(err)) == -1)
				log_warnx("%s", err);
			else
				log_note("%s/%s: uid %u was moved (left "
				    "unconfirmed by an earlier run)",
				    sw->a->name, sw->mbox, uids[i]);
		}
	free(present);
	free(uids);
	free(ids);
}

/* Records the Message-IDs left in the mailbox (a copy in Junk later is
 * the user's move), in one transaction. */
static void
save_seen(struct sweep *sw)
{
	char err[512];
	size_t i;
	int ok;

	if (sw->seen_ids.n == 0 || sw->dry_run) {
		strlist_free(&sw->seen_ids);
		return;
	}
	ok = store_begin(sw->st, err, sizeof(err)) == 0;
	for (i = 0; ok && i < sw->seen_ids.n; i++)
		ok = store_seen_add(sw->st, sw->a->name, sw->seen_ids.v[i], 0,
		    err, sizeof(err)) == 0;
	if (ok)
		ok = store_commit(sw->st, err, sizeof(err)) == 0;
	if (!ok) {
		log_warnx("%s", err);
		store_rollback(sw->st, NULL, 0);
	}
	strlist_free(&sw->seen_ids);
}

static int
sweep_mailbox(struct sweep *sw, const char *name)
{
	uint64_t from;
	uint32_t uv, last, exists;
	char err[512];
	int known, r;

	sw->mbox = name;
	sw->hold = 0;
	sw->nrm = 0;
	sweep_moves_clear(sw);	/* what a failed batch of the last one left */
	drop_cands(sw);
	r = imap_select(sw->s, name, 0, &sw->uv, &sw->uidnext, &exists);
	if (r != OUT_OK) {
		log_warnx("%s: SELECT %s: %s", sw->a->name, name,
		    imap_error(sw->s));
		return r;
	}
	known = store_mailbox_get(sw->st, sw->a->name, name, &uv, &last, err,
	    sizeof(err));
	if (known == -1) {
		log_warnx("%s", err);
		return OUT_PERM;
	}
	if (!sw->dry_run)	/* rows of this UIDVALIDITY only */
		settle_pending(sw);
	sw->rescan = known == 1 && uv != sw->uv;
	if (sw->rescan) {
		log_info("%s/%s: UIDVALIDITY changed: rescanning", sw->a->name,
		    name);
		last = 0;
	}
	sw->last = last;
	if (known == 0 && !sw->all)
		r = searched(sw, 1);
	else if (sw->uidnext == 0)
		r = batch(sw, last + 1, 0);
	else if ((uint64_t)sw->uidnext > (uint64_t)last + 1 + SWEEP_BATCH &&
	    (uint64_t)sw->uidnext - 1 - last > 2 * (uint64_t)exists +
	    SWEEP_BATCH)
		r = searched(sw, 0);	/* far more UIDs than messages */
	else {
		/* Ranges of SWEEP_BATCH UIDs; the last may reach past
		 * UIDNEXT (what comes meanwhile too). */
		r = OUT_OK;
		for (from = (uint64_t)last + 1; r == OUT_OK &&
		    from < sw->uidnext; from += SWEEP_BATCH)
			r = batch(sw, (uint32_t)from, from + SWEEP_BATCH - 1 <
			    UINT32_MAX ? (uint32_t)(from + SWEEP_BATCH - 1) :
			    UINT32_MAX);
		if (r == OUT_OK && (known == 0 || sw->rescan))
			r = sweep_moves_do(sw, sw->uidnext - 1);
	}
	if (r == OUT_OK)
		r = sweep_moves_flush(sw);
	save_seen(sw);
	return r;
}

static void
summary(struct sweep *sw)
{
	size_t i;

	fprintf(stderr, "%s: ", sw->a->name);
	for (i = 0; i < sw->a->watch.n; i++)
		fprintf(stderr, "%s%s", i ? "," : "", sw->a->watch.v[i]);
	fprintf(stderr, " %zu new, %zu junk, %zu backscatter %s, %zu kept "
	    "bounce%s, ", sw->seen, sw->moved[0], sw->moved[1],
	    sw->dry_run ? "would move" : "moved", sw->kept,
	    sw->kept == 1 ? "" : "s");
	if (sw->held > 0)
		fprintf(stderr, "%zu left for the next run, ", sw->held);
	fprintf(stderr, "%zu error%s in %.1f s\n", sw->errors,
	    sw->errors == 1 ? "" : "s", util_mono_now() - sw->t0);
	if (sw->dnsbl != NULL)
		fprintf(stderr, "%s: dnsbl: %lu quer%s sent\n", sw->a->name,
		    dnsbl_queries(sw->dnsbl), dnsbl_queries(sw->dnsbl) == 1 ?
		    "y" : "ies");
}

int
sweep_pass(struct sweep *sw, int scan_sent)
{
	char err[512];
	size_t i, errors = sw->errors;
	int r;

	sw->sent_rescanned = 0;
	sw->sent_failed = 0;
	sw->news = 0;
	sw->first_id = 0;	/* a watch daemon's earlier passes moved
				   before: a copy back in INBOX is a rescue */
	/* Nothing logged before this pass: no message can have come back,
	 * and each lookup would cost a query (thousands on a first run). */
	sw->log_empty = store_action_any(sw->st, sw->a->name, err,
	    sizeof(err)) == 0;
	if (sw->dest[DEST_JUNK] == NULL &&
	    (r = sweep_find_folders(sw)) != OUT_OK)
		return r;
	if (scan_sent) {
		r = sent_rescan(sw);
		if (r == OUT_TEMP || !imap_alive(sw->s))
			return r;
	}
	r = sweep_learn(sw);
	if (r == OUT_TEMP || !imap_alive(sw->s))
		return OUT_TEMP;
	if (r != OUT_OK)
		sw->errors++;
	/* The first watched mailbox last: it stays selected for IDLE. */
	for (i = sw->a->watch.n; i-- > 0; ) {
		r = sweep_mailbox(sw, sw->a->watch.v[i]);
		if (r == OUT_OK)
			r = sweep_learn_kept(sw, sw->a->watch.v[i]);
		progress(sw, 1);
		if (r == OUT_TEMP || !imap_alive(sw->s))
			return r;
		if (r != OUT_OK)
			sw->errors++;
	}
	sw->learn_kept_due = 0;
	return sw->errors > errors ? OUT_PERM : OUT_OK;
}

void
sweep_set_store(struct sweep *sw, struct store *st)
{
	sw->st = st;
	sw->db.st = st;
	dnsbl_set_store(sw->dnsbl, st);
}

/* The DNS blocklists of sw's config, the user's own domains never asked
 * about. */
static void
dnsbl_setup(struct sweep *sw)
{
	size_t i;

	sw->dnsbl = dnsbl_new(sw->conf, sw->st);
	for (i = 0; i < sw->addrs.n; i++)
		dnsbl_add_own(sw->dnsbl, sw->addrs.v[i]);
}

void
sweep_new_session(struct sweep *sw, struct imap *s)
{
	free(sw->dest[0]);
	free(sw->dest[1]);
	sw->dest[0] = sw->dest[1] = NULL;
	strlist_free(&sw->sent);
	sw->s = s;
}

static void
user_init(struct sweep *sw)
{
	size_t i;
	char *p;

	for (i = 0; i < sw->a->addresses.n; i++) {
		strlist_add(&sw->addrs, sw->a->addresses.v[i]);
		for (p = sw->addrs.v[i]; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	limits_from_config(sw->conf, &sw->lim);
	sw->user.addrs = (const char *const *)sw->addrs.v;
	sw->user.naddrs = sw->addrs.n;
	sw->user.sent = sentdb_sent;
	sw->user.correspondent = sentdb_correspondent;
	sw->user.ctx = &sw->db;
	sw->user.unknown_backscatter =
	    sw->a->unknown_bounce == CONF_BOUNCE_BACKSCATTER;
}

static void
sweep_free(struct sweep *sw)
{
	struct verdict *v;

	work_stop(sw);
	while ((v = sw->dq) != NULL) {
		sw->dq = v->next;
		work_verdict_free(v);
	}
	dnsbl_free(&sw->dnsbl);
	free(sw->rm);
	sweep_moves_clear(sw);
	free(sw->mv);
	drop_cands(sw);
	free(sw->cd);
	strlist_free(&sw->addrs);
	strlist_free(&sw->sent);
	strlist_free(&sw->seen_ids);
	learner_free(&sw->learner);
	rules_free(&sw->learned);
	free(sw->dest[0]);
	free(sw->dest[1]);
	free(sw->folders_said);
}

static void
sweep_setup(struct sweep *sw, const struct conf *c,
    const struct conf_account *a, struct store *st, struct rules_set *rs,
    const char *dir, int threaded)
{
	memset(sw, 0, sizeof(*sw));
	sw->a = a;
	sw->conf = c;
	sw->st = st;
	sw->rs = rs;
	sw->dry_run = a->dry_run;
	sw->t0 = util_mono_now();
	sw->dqt = &sw->dq;
	user_init(sw);
	dnsbl_setup(sw);
	work_start(sw, dir, threaded);
}

void
sweep_rebind(struct sweep *sw, const struct conf *c,
    const struct conf_account *a, struct rules_set *rs)
{
	sw->conf = c;
	sw->a = a;
	sw->rs = rs;
	sw->dry_run = a->dry_run;
	strlist_free(&sw->addrs);
	user_init(sw);
	dnsbl_free(&sw->dnsbl);
	dnsbl_setup(sw);
	work_rebind(sw);
	sweep_new_session(sw, sw->s);	/* dest[], sent: from the old one */
}

struct sweep *
sweep_new(const struct conf *c, const struct conf_account *a,
    struct store *st, struct rules_set *rs, const char *dir, int threaded)
{
	struct sweep *sw;

	sw = xmalloc(sizeof(*sw));
	sweep_setup(sw, c, a, st, rs, dir, threaded);
	return sw;
}

void
sweep_destroy(struct sweep **sw)
{
	if (*sw == NULL)
		return;
	sweep_free(*sw);
	free(*sw);
	*sw = NULL;
}

void
sweep_end_session(struct sweep *sw)
{
	sw->s = NULL;
}

struct imap *
sweep_session(const struct sweep *sw)
{
	return sw->s;
}

int
sweep_news(const struct sweep *sw)
{
	return sw->news;
}

size_t
sweep_seen(const struct sweep *sw)
{
	return sw->seen;
}

size_t
sweep_moved(const struct sweep *sw)
{
	return sw->moved[DEST_JUNK] + sw->moved[DEST_BS];
}

double
sweep_learn_at(const struct sweep *sw)
{
	return sw->learn_at;
}

struct sweep_args {
	const struct conf *c;
	const char *cpath, *only;
	const char *dir;
	struct store *st;
	struct rules_set *rs;
	int	 dry_run, all;
};

static int
sweep_account(const struct conf_account *a, const struct sweep_args *sa)
{
	struct sweep sw;
	int fd, wfd = -1, rc;

	rc = account_lock(a, LOCK_OWNER, &fd);
	if (rc == OUT_OK && (rc = account_lock(a, LOCK_WORK, &wfd)) != OUT_OK)
		close(fd);	/* an undo is at work */
	if (rc != OUT_OK) {
		if (rc == OUT_TEMP)
			log_info("%s: another imapsift is working on %s@%s:%u: "
			    "skipped", a->name, a->user, a->host, a->port);
		return rc == OUT_TEMP ? EXIT_OK : EXIT_FAIL;
	}
	sweep_setup(&sw, sa->c, a, sa->st, sa->rs, sa->dir, 1);
	sw.dry_run |= sa->dry_run;
	sw.all = sa->all;
	sw.tty = isatty(2);
	rc = cmd_exit(account_connect(a, sa->dir, &sw.s));
	if (rc == EXIT_OK) {
		rc = cmd_exit(sweep_pass(&sw, 1));
		summary(&sw);
		if (imap_alive(sw.s))
			imap_close(&sw.s);
		else
			imap_drop(&sw.s);
	}
	sweep_free(&sw);
	close(wfd);
	close(fd);
	return rc;
}

static int
sweep_usage(FILE *f)
{
	fprintf(f, "usage: imapsift sweep [-c FILE] [--account NAME] "
	    "[--all] [--dry-run] [-v]\n");
	return -1;
}

/* Fills *sa from argv: 0, or -1 after printing the usage on stderr.
 * -h/--help prints it on stdout and exits 0 here (nothing is held yet). */

static int
sweep_parse(int argc, char **argv, struct sweep_args *sa)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "account", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	optind = 1;
	for (;;) {
		ch = getopt_long(argc, argv, "c:a:nvh", longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'c':
			sa->cpath = optarg;
			break;
		case 'a':
			sa->only = optarg;
			break;
		case 'A':
			sa->all = 1;
			break;
		case 'n':
			sa->dry_run = 1;
			break;
		case 'v':
			log_init(1);
			break;
		case 'h':
			sweep_usage(stdout);
			exit(EXIT_OK);
		default:
			return sweep_usage(stderr);
		}
	}
	return optind == argc ? 0 : sweep_usage(stderr);
}

/* Every account (or the one named) in turn; the first failure's code. */
static int
sweep_all(const struct conf *c, struct sweep_args *sa)
{
	size_t i;
	int rc, r;

	rc = cmd_exit(account_store_open(sa->dir, &sa->st));
	if (rc != EXIT_OK)
		return rc;
	for (i = 0; i < c->naccounts; i++) {
		if (sa->only != NULL &&
		    strcmp(sa->only, c->accounts[i].name) != 0)
			continue;
		r = sweep_account(&c->accounts[i], sa);
		if (rc == EXIT_OK)
			rc = r;
		store_checkpoint(sa->st);	/* keep the WAL small */
	}
	store_close(&sa->st);
	return rc;
}

int
cmd_sweep(int argc, char **argv)
{
	struct sweep_args sa;
	struct conf *c = NULL;
	char dir[4096];
	int rc;

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	if (sweep_parse(argc, argv, &sa) == -1)
		return EXIT_CONFIG;
	if (config_load(sa.cpath, 0, &c) != OUT_OK)
		return EXIT_CONFIG;
	rc = EXIT_CONFIG;
	if (c->naccounts == 0)	/* as watch: a config error, not a no-op */
		log_warnx("%s: no account to sweep", c->path);
	else if (sa.only != NULL && conf_account(c, sa.only) == NULL)
		log_warnx("%s: no account named \"%s\"", c->path, sa.only);
	else if (account_store_dir(c, dir, sizeof(dir)) == 0) {
		sa.c = c;
		feeds_refresh(c, 0);	/* those older than their interval */
		sa.rs = config_rules(c);
		sa.dir = dir;
		if (sa.rs != NULL)
			rc = sweep_all(c, &sa);
	}
	rules_free(&sa.rs);
	conf_free(&c);
	return rc;
}
