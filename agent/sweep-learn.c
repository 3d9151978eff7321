/*
 * sweep-learn.c: the lists keep themselves.  Once per learn_interval a
 * pass (sweep, or each of watch's) reads the new mail of the Junk folder
 * (the provider's spam and what the user moved there) and learns it as
 * spam, and the new mail of the Sent folders and of the folders named in
 * `ham` and records it as ham evidence (learn.c).  A message in Junk whose
 * Message-ID sweep saw earlier in a watched mailbox and did not move was
 * moved there by the user: one such message is evidence enough.  Then the
 * store's active learned set is loaded into an in-memory rule set when it
 * changed (store_learn_generation) or a day passed (expiry), and the
 * classifier uses it from the next message on: no reload.
 *
 * Per folder the highest UID learned is kept as mailbox state under the
 * name "\tlearn\tFOLDER" or "\tham\tFOLDER" (no real mailbox name has a
 * tab), so each message is read once; a first look reads the last
 * first_run_days only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/imap.h"
#include "agent/log.h"
#include "agent/sweep-private.h"
#include "conf/conf.h"
#include "store/store.h"

#define LEARN_PEEK	60	/* seconds between STATUS Junk in watch */

struct lctx {
	struct sweep *sw;
	const char *folder;
	int	 spam;
	int	 failed;
	size_t	 n;
	const uint32_t *want;	/* the UIDs to read, ascending */
	size_t	 nwant;
};

static int	learn_one(struct lctx *, const struct imap_msg *);

/* Each message in a transaction of its own, begun once it is all in
 * (the fetch streams its batch): a server that stalls holds no lock of a
 * store other accounts share. */
static int
on_learn(void *arg, const struct imap_msg *m)
{
	struct lctx *lc = arg;
	char err[512];

	if (bsearch(&m->uid, lc->want, lc->nwant, sizeof(*lc->want),
	    util_cmp_u32) == NULL)
		return 0;
	if (store_begin(lc->sw->st, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		lc->failed = 1;
		return 1;
	}
	if (learn_one(lc, m) != 0 || store_commit(lc->sw->st, err,
	    sizeof(err)) == -1) {
		if (!lc->failed)
			log_warnx("%s", err);
		store_rollback(lc->sw->st, NULL, 0);
		lc->failed = 1;
		return 1;
	}
	return 0;
}

static int
learn_one(struct lctx *lc, const struct imap_msg *m)
{
	struct sweep *sw = lc->sw;
	struct rules_msg *msg = NULL;
	struct rules_limits lim;
	char src[1024], err[512];
	const char *id = NULL;
	int manual = 0, r;

	if (!lc->spam) {
		if (learn_ham(&sw->learner, m->data, m->len, 0) == -1)
			lc->failed = 1;
		lc->n++;
		return lc->failed;
	}
	/* Was it moved here by hand: seen in a watched mailbox, left there
	 * by us? */
	rules_limits_default(&lim);
	lim.max_parse_bytes = 64 * 1024;	/* the header is enough */
	if (rules_msg_parse(m->data, m->len, &lim, &msg, err,
	    sizeof(err)) == 0)
		id = msg->message_id;
	if (id != NULL && store_seen_has(sw->st, sw->a->name, id, err,
	    sizeof(err)) == 1 && store_action_find_msgid(sw->st, sw->a->name,
	    id, NULL, err, sizeof(err)) == 0)
		manual = 1;
	rules_msg_free(&msg);
	snprintf(src, sizeof(src), "imap:%s/%s/%u", sw->a->name, lc->folder,
	    m->uid);
	r = learn_spam(&sw->learner, m->data, m->len, src, manual, 0);
	if (r == -1)
		lc->failed = 1;
	else if (r == 1) {
		log_debug("%s: learned %s%s", sw->a->name, src,
		    manual ? " (moved to Junk by hand)" : "");
		lc->n++;
	}
	return lc->failed;
}

/* Reads uids[0..n) of the selected folder (only those: a range fetch
 * may hold others) as spam or ham, and then sets the state key to (uv,
 * last).  After a failure the state stays, and the messages already
 * learned are read again next time (spam counts once per Message-ID).
 * OUT_*. */
static int
learn_uids(struct sweep *sw, const char *folder, const char *key, int spam,
    const uint32_t *uids, size_t n, uint32_t uv, uint32_t last)
{
	struct lctx lc;
	char err[512];
	size_t i, j;
	int r = OUT_OK;

	memset(&lc, 0, sizeof(lc));
	lc.sw = sw;
	lc.folder = folder;
	lc.spam = spam;
	lc.want = uids;
	lc.nwant = n;
	for (i = 0; i < n && r == OUT_OK && !lc.failed; i = j + 1) {
		j = i + SWEEP_BATCH - 1 < n ? i + SWEEP_BATCH - 1 : n - 1;
		r = imap_uid_fetch(sw->s, uids[i], uids[j],
		    sw->a->max_fetch_bytes, on_learn, &lc);
	}
	if (r != OUT_OK || lc.failed) {
		if (r != OUT_OK)
			log_warnx("%s/%s: fetch: %s", sw->a->name, folder,
			    imap_error(sw->s));
		return r != OUT_OK ? r : OUT_PERM;
	}
	if (store_mailbox_set(sw->st, sw->a->name, key, uv, last, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return OUT_PERM;
	}
	if (lc.n > 0)
		log_info("%s/%s: learned %zu %smessage%s as %s", sw->a->name,
		    folder, lc.n, key[1] == 'k' ? "kept " : "",
		    lc.n == 1 ? "" : "s", spam ? "spam" : "ham");
	return OUT_OK;
}

/* Learns the new mail of folder; OUT_* (a missing folder is OUT_OK). */
static int
learn_folder(struct sweep *sw, const char *folder, int spam)
{
	char key[1024], err[512];
	uint32_t uv = 0, uidnext = 0, suv, last, *uids = NULL;
	size_t n = 0;
	int known, r;

	snprintf(key, sizeof(key), "\t%s\t%s", spam ? "learn" : "ham",
	    folder);
	known = store_mailbox_get(sw->st, sw->a->name, key, &suv, &last, err,
	    sizeof(err));
	if (known == -1) {
		log_warnx("%s", err);
		return OUT_PERM;
	}
	r = imap_status(sw->s, folder, &uv, &uidnext);
	if (r != OUT_OK)
		return imap_alive(sw->s) ? OUT_OK : r;	/* no such folder */
	if (known == 1 && uv == suv && uidnext != 0 && uidnext <= last + 1)
		return OUT_OK;				/* nothing new */
	r = imap_select(sw->s, folder, 1, &uv, &uidnext, NULL);
	if (r != OUT_OK)
		return imap_alive(sw->s) ? OUT_OK : r;
	if (known == 1 && uv != suv)
		last = 0;	/* rescan: Message-IDs keep spam from counting
				   twice */
	if (known == 0)
		r = imap_uid_search_since(sw->s, time(NULL) -
		    (time_t)sw->a->first_run_days * 86400, &uids, &n);
	else
		r = imap_uid_search_from(sw->s, last + 1, &uids, &n);
	if (r != OUT_OK) {
		log_warnx("%s/%s: search: %s", sw->a->name, folder,
		    imap_error(sw->s));
		return r;
	}
	if (uidnext == 0)
		uidnext = n > 0 ? uids[n - 1] + 1 : last + 1;
	r = learn_uids(sw, folder, key, spam, uids, n, uv, uidnext - 1);
	free(uids);
	return r;
}

/*
 * Mail the user kept in a watched mailbox past ham_grace days (and did
 * not flag $Junk) is ham evidence.  Run after sweep judged the mailbox,
 * on its selection, once per full round: what sweep moved is gone and
 * only what it judged counts (up to its state, below what it holds).  The
 * state "\tkept\tMBOX" holds the highest UID counted, so each message is
 * read once, when it crosses the grace (UID SEARCH UID last+1:* BEFORE
 * <now - grace> NOT KEYWORD $Junk); a younger message below a counted one
 * (an arrival out of order) is not counted.  A first look starts at the
 * first message of the last first_run_days.
 */
int
sweep_learn_kept(struct sweep *sw, const char *mbox)
{
	char key[1024], err[512];
	uint32_t suv, last, muv, mlast, *uids = NULL;
	size_t n = 0;
	time_t now = time(NULL);
	int known, r;

	if (!sw->learn_kept_due || sw->a->ham_grace == 0 || sw->dry_run ||
	    !sw->learner_ok)
		return OUT_OK;
	if (store_mailbox_get(sw->st, sw->a->name, mbox, &muv, &mlast, err,
	    sizeof(err)) != 1 || muv != sw->uv)
		return OUT_OK;			/* not judged yet */
	if (sw->hold != 0 && sw->hold - 1 < mlast)
		mlast = sw->hold - 1;
	snprintf(key, sizeof(key), "\tkept\t%s", mbox);
	known = store_mailbox_get(sw->st, sw->a->name, key, &suv, &last, err,
	    sizeof(err));
	if (known == -1) {
		log_warnx("%s", err);
		return OUT_PERM;
	}
	if (known == 0 || suv != sw->uv) {
		r = imap_uid_search_since(sw->s, now -
		    (time_t)sw->a->first_run_days * 86400, &uids, &n);
		if (r != OUT_OK) {
			log_warnx("%s/%s: search: %s", sw->a->name, mbox,
			    imap_error(sw->s));
			return r;
		}
		last = n > 0 ? uids[0] - 1 : mlast;
		free(uids);
	}
	if (last >= mlast)
		return OUT_OK;
	r = imap_uid_search_kept(sw->s, last + 1, 0, now -
	    (time_t)sw->a->ham_grace * 86400, &uids, &n);
	if (r != OUT_OK) {
		log_warnx("%s/%s: search: %s", sw->a->name, mbox,
		    imap_error(sw->s));
		return r;
	}
	while (n > 0 && uids[n - 1] > mlast)
		n--;
	r = learn_uids(sw, mbox, key, 0, uids, n, sw->uv,
	    n > 0 ? uids[n - 1] : last);
	free(uids);
	return r;
}

/* Loads the active learned set when it changed, and hands it to the
 * classifier (idle between passes). */
static void
reload_learned(struct sweep *sw)
{
	struct rules_set *rs = NULL;
	char err[512];
	int64_t gen;
	time_t day = time(NULL) / 86400, cutoff = 0;
	size_t n;

	if (store_learn_generation(sw->st, &gen, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return;
	}
	if (sw->learned_loaded && gen == sw->learned_gen &&
	    day == sw->learned_day)
		return;
	if (sw->conf->learn_expiry > 0)
		cutoff = time(NULL) - (time_t)sw->conf->learn_expiry * 86400;
	if (learn_active_set(sw->st, "learned", rules_default_cc(sw->rs),
	    cutoff, &rs, &n) == -1)
		return;
	work_set_learned(sw, rs);
	rules_free(&sw->learned);
	sw->learned = rs;
	sw->learned_gen = gen;
	sw->learned_day = day;
	sw->learned_loaded = 1;
	log_debug("%s: %zu learned entries active", sw->a->name, n);
}

/* The next look at Junk: LEARN_PEEK seconds on, or the next full
 * round (Sent, ham, Junk) when that comes first. */
static double
next_peek(const struct sweep *sw, double now)
{
	return now + LEARN_PEEK < sw->learn_full_at ? now + LEARN_PEEK :
	    sw->learn_full_at;
}

int
sweep_learn(struct sweep *sw)
{
	double now = util_mono_now();
	size_t i;
	int r = OUT_OK;

	if (!sw->a->learn)
		return OUT_OK;
	if (!sw->learner_ok) {
		if (learner_init(&sw->learner, sw->st,
		    rules_default_cc(sw->rs)) == -1)
			return OUT_PERM;
		sw->learner_ok = 1;
	}
	sw->learner.st = sw->st;	/* watch opens one per pass */
	if (now >= sw->learn_at && !sw->dry_run && now < sw->learn_full_at) {
		/* Between full rounds: one STATUS of Junk, and its new
		 * mail only when UIDNEXT moved (a user's move). */
		sw->learn_at = next_peek(sw, now);
		r = learn_folder(sw, sw->dest[DEST_JUNK], 1);
		if (r == OUT_TEMP || !imap_alive(sw->s))
			return OUT_TEMP;
	} else if (now >= sw->learn_at && !sw->dry_run) {
		sw->learn_full_at = now + sw->a->learn_interval;
		sw->learn_at = next_peek(sw, now);
		sw->learn_kept_due = 1;	/* sweep_learn_kept, per mailbox */
		/* Ham first: its evidence decides how spam hosts are
		 * learned, and keeps what wanted mail carries out. */
		for (i = 0; r != OUT_TEMP && i < sw->sent.n; i++)
			r = learn_folder(sw, sw->sent.v[i], 0);
		for (i = 0; r != OUT_TEMP && i < sw->a->ham.n; i++)
			r = learn_folder(sw, sw->a->ham.v[i], 0);
		if (r != OUT_TEMP)
			r = learn_folder(sw, sw->dest[DEST_JUNK], 1);
		if (r == OUT_TEMP || !imap_alive(sw->s))
			return OUT_TEMP;
	}
	reload_learned(sw);
	return r;
}

/* A message the user took back: out of Junk (learned from there), or
 * marked $NotJunk.  Its indicators become ham evidence, which
 * deactivates them at once; the set is reloaded on the next pass. */
void
sweep_unlearn(struct sweep *sw, const char *raw, size_t len)
{
	if (!sw->a->learn || !sw->learner_ok || sw->dry_run)
		return;
	sw->learner.st = sw->st;
	if (learn_ham(&sw->learner, raw, len, 0) == 0)
		log_info("%s/%s: a rescued message: its indicators are "
		    "unlearned", sw->a->name, sw->mbox);
}

void
sweep_learn_corr(struct sweep *sw, const char *raw, size_t len)
{
	if (!sw->a->learn || !sw->learner_ok || sw->dry_run || raw == NULL)
		return;
	sw->learner.st = sw->st;
	if (learn_ham(&sw->learner, raw, len, 0) == 0)
		log_debug("%s/%s: a correspondent's message: ham evidence",
		    sw->a->name, sw->mbox);
}

/* Was msgid learned from Junk (so a copy in a watched mailbox is the
 * user's rescue)? */
int
sweep_was_learned(struct sweep *sw, const char *msgid)
{
	char err[512];
	int r;

	if (!sw->a->learn || msgid == NULL)
		return 0;
	r = store_learn_has_msg(sw->st, msgid, err, sizeof(err));
	if (r == -1)
		log_warnx("%s", err);
	return r == 1;
}
