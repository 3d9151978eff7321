/*
 * sweep-move.c: the moving half of a sweep: the destination folders, and
 * the moves, logged as pending batch by batch, held across batches and
 * made together (one UID STORE and one UID MOVE per destination), then
 * completed in the transaction that advances the mailbox state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/imap.h"
#include "agent/log.h"
#include "agent/sweep-private.h"
#include "conf/conf.h"
#include "store/store.h"

void
sweep_move_add(struct sweep *sw, uint32_t uid, int dest, const char *msgid,
    const char *reasons)
{
	struct move *m;

	if (sw->nmv == sw->capmv) {
		sw->capmv = sw->capmv ? sw->capmv * 2 : 64;
		sw->mv = xrealloc(sw->mv, sw->capmv * sizeof(*sw->mv));
	}
	m = &sw->mv[sw->nmv++];
	memset(m, 0, sizeof(*m));
	m->uid = uid;
	m->dest = dest;
	m->msgid = msgid != NULL ? xstrdup(msgid) : NULL;
	m->reasons = xstrdup(reasons != NULL ? reasons : "");
}

/* Drops the moves from mv[from] on. */
static void
drop_moves(struct sweep *sw, size_t from)
{
	size_t i;

	for (i = from; i < sw->nmv; i++) {
		free(sw->mv[i].msgid);
		free(sw->mv[i].reasons);
	}
	sw->nmv = from;
	if (sw->nlog > from)
		sw->nlog = from;
}

void
sweep_moves_clear(struct sweep *sw)
{
	drop_moves(sw, 0);
}

/* Logs the moves not logged yet (the batch's) as pending, in one
 * transaction. */
static int
log_pending(struct sweep *sw)
{
	struct store_action a;
	char err[512];
	size_t i;

	if (store_begin(sw->st, err, sizeof(err)) == -1)
		goto fail;
	for (i = sw->nlog; i < sw->nmv; i++) {
		memset(&a, 0, sizeof(a));
		a.account = sw->a->name;
		a.mailbox = sw->mbox;
		a.uidvalidity = sw->uv;
		a.uid = sw->mv[i].uid;
		a.msgid = sw->mv[i].msgid;
		a.dest = sw->dest[sw->mv[i].dest];
		a.verdict = sw->mv[i].dest == DEST_JUNK ? "junk" :
		    "backscatter";
		a.reasons = sw->mv[i].reasons;
		if (store_action_begin(sw->st, &a, &sw->mv[i].id, err,
		    sizeof(err)) == -1)
			goto fail;
	}
	if (store_commit(sw->st, err, sizeof(err)) == 0) {
		if (sw->first_id == 0 && sw->nlog < sw->nmv)
			sw->first_id = sw->mv[sw->nlog].id;
		sw->nlog = sw->nmv;
		return 0;
	}
fail:
	store_rollback(sw->st, NULL, 0);
	log_warnx("%s", err);
	return -1;
}

/* Moves the held messages for one destination; the OUT_* result. */
static int
move_dest(struct sweep *sw, int dest)
{
	uint32_t *uids, *nu;
	int *state;
	size_t i, n = 0;
	int r;

	uids = xcalloc(sw->nmv, sizeof(*uids));
	nu = xcalloc(sw->nmv, sizeof(*nu));
	state = xcalloc(sw->nmv, sizeof(*state));
	for (i = 0; i < sw->nmv; i++)
		if (sw->mv[i].dest == dest)
			uids[n++] = sw->mv[i].uid;
	r = OUT_OK;
	if (n > 0) {
		if (imap_store_flags(sw->s, uids, n,
		    "+FLAGS.SILENT ($Junk)") != OUT_OK)
			log_debug("%s: $Junk: %s", sw->a->name,
			    imap_error(sw->s));
		r = imap_move(sw->s, uids, n, sw->dest[dest], nu, state);
	}
	for (i = 0, n = 0; i < sw->nmv; i++)
		if (sw->mv[i].dest == dest) {
			sw->mv[i].new_uid = nu[n];
			sw->mv[i].state = state[n++];
		}
	free(uids);
	free(nu);
	free(state);
	return r;
}

static void
say_move(struct sweep *sw, const struct move *m, const char *how)
{
	log_note("%s/%s: %s uid %u to %s: %s", sw->a->name, sw->mbox, how,
	    m->uid, sw->dest[m->dest], m->reasons);
}

/*
 * Completes the log rows and advances the state to hi, in one
 * transaction.  A row is done when the message reached its folder, even
 * with the original still there (the next run removes that: see
 * sweep.c, prior_move); the mailbox is advanced only when every message
 * is where it belongs, so the next run sees any that are not.  When the
 * session died during a destination's commands (unknown set), whether
 * its "not moved" messages moved is not known: their rows stay pending
 * for the next pass to settle (sweep.c, settle_pending).
 */
static int
finish_batch(struct sweep *sw, const char *const *why, const int *unknown,
    uint32_t hi)
{
	char err[512];
	struct move *m;
	size_t i;
	int adv = 1, r = 0;

	if (store_begin(sw->st, err, sizeof(err)) == -1)
		goto fail;
	for (i = 0; i < sw->nmv; i++) {
		m = &sw->mv[i];
		switch (m->state) {
		case IMAP_MV_COPIED:
		case IMAP_MV_DONE:
			if (m->state == IMAP_MV_COPIED)
				adv = 0;	/* the original is still here */
			r = store_action_done(sw->st, m->id, m->new_uid, err,
			    sizeof(err));
			sw->moved[m->dest]++;
			say_move(sw, m, "moved");
			break;
		case IMAP_MV_GONE:
			r = store_action_failed(sw->st, m->id, "no longer in "
			    "the mailbox", err, sizeof(err));
			break;
		default:
			adv = 0;
			sw->errors++;
			if (unknown[m->dest])	/* settle_pending() decides */
				break;
			r = store_action_failed(sw->st, m->id,
			    why[m->dest][0] != '\0' ? why[m->dest] :
			    "not moved", err, sizeof(err));
			break;
		}
		if (r == -1)
			goto fail;
	}
	if (adv && store_mailbox_set(sw->st, sw->a->name, sw->mbox, sw->uv,
	    hi, err, sizeof(err)) == -1)
		goto fail;
	if (store_commit(sw->st, err, sizeof(err)) == 0)
		return 0;
fail:
	store_rollback(sw->st, NULL, 0);
	log_warnx("%s/%s: moves made but not recorded (the next run "
	    "settles them): %s", sw->a->name, sw->mbox, err);
	return -1;
}

/* Makes the held moves, completes their rows and advances the mailbox
 * to sw->hi (with none held: only advances it). */
static int
make_moves(struct sweep *sw)
{
	char why[NDEST][512];
	const char *w[NDEST];
	int r[NDEST], unknown[NDEST], d;

	for (d = 0; d < NDEST; d++) {
		why[d][0] = '\0';
		w[d] = why[d];
		r[d] = move_dest(sw, d);
		unknown[d] = r[d] != OUT_OK && !imap_alive(sw->s);
		if (r[d] != OUT_OK) {
			snprintf(why[d], sizeof(why[d]), "%s",
			    imap_error(sw->s));
			log_warnx("%s/%s: move to %s: %s", sw->a->name,
			    sw->mbox, sw->dest[d], why[d]);
		}
	}
	d = finish_batch(sw, w, unknown, sw->hi);
	sweep_moves_clear(sw);
	if (r[0] != OUT_OK || r[1] != OUT_OK)
		return r[r[0] != OUT_OK ? 0 : 1];
	return d == -1 ? OUT_PERM : OUT_OK;
}

int
sweep_moves_do(struct sweep *sw, uint32_t hi)
{
	size_t i;

	if (sw->hold != 0 && hi >= sw->hold)
		hi = sw->hold - 1;
	if (sw->dry_run) {
		for (i = 0; i < sw->nmv; i++) {
			sw->moved[sw->mv[i].dest]++;
			say_move(sw, &sw->mv[i], "would move");
		}
		sweep_moves_clear(sw);
		return OUT_OK;
	}
	if (sw->nmv > sw->nlog && log_pending(sw) == -1)
		return sweep_moves_abort(sw, OUT_PERM, 1);
	sw->hi = hi;
	if (sw->nmv == 0 || sw->nmv >= SWEEP_FLUSH)
		return make_moves(sw);
	return OUT_OK;
}

int
sweep_moves_flush(struct sweep *sw)
{
	if (sw->dry_run || sw->nmv == 0)
		return OUT_OK;
	return make_moves(sw);
}

int
sweep_moves_abort(struct sweep *sw, int r, int selected)
{
	static const char *const why[NDEST] = { "a later batch failed",
	    "a later batch failed" };
	static const int known[NDEST] = { 0, 0 };
	size_t i;

	drop_moves(sw, sw->nlog);
	if (sw->dry_run || sw->nmv == 0)
		return r;
	if (selected && imap_alive(sw->s))
		(void)make_moves(sw);
	else {
		for (i = 0; i < sw->nmv; i++)
			sw->mv[i].state = IMAP_MV_NOT;
		(void)finish_batch(sw, why, known, sw->hi);
		sweep_moves_clear(sw);
	}
	return r;
}

/*
 * LIST (and NAMESPACE when offered): the Junk, Sent and Backscatter
 * mailboxes (folders.c), said once per account unless they change;
 * creates the missing destinations.
 */
int
sweep_find_folders(struct sweep *sw)
{
	struct imap_mailbox *mb;
	char why[1024], *prefix = NULL, delim = '\0';
	size_t n, i, d;
	int r, have[NDEST] = { 0, 0 };

	if (imap_has(sw->s, "NAMESPACE") &&
	    imap_namespace(sw->s, &prefix, &delim) != OUT_OK) {
		if (!imap_alive(sw->s)) {
			log_warnx("%s: %s", sw->a->name, imap_error(sw->s));
			return OUT_TEMP;
		}
		log_debug("%s: NAMESPACE: %s", sw->a->name,
		    imap_error(sw->s));
	}
	r = imap_list(sw->s, &mb, &n);
	if (r != OUT_OK) {
		log_warnx("%s: LIST: %s", sw->a->name, imap_error(sw->s));
		free(prefix);
		return r;
	}
	folders_choose(sw->a, mb, n, prefix, delim, sw->dest, &sw->sent, why,
	    sizeof(why));
	free(prefix);
	if (sw->folders_said == NULL || strcmp(sw->folders_said, why) != 0) {
		log_info("%s: %s", sw->a->name, why);
		free(sw->folders_said);
		sw->folders_said = xstrdup(why);
	}
	for (i = 0; i < n; i++)
		for (d = 0; d < NDEST; d++)
			if (strcmp(mb[i].name, sw->dest[d]) == 0 &&
			    !(mb[i].flags & (IMAP_MBOX_NOSELECT |
			    IMAP_MBOX_NONEXISTENT)))
				have[d] = 1;
	imap_list_free(mb, n);
	for (d = 0; d < NDEST && !sw->dry_run; d++) {
		if (have[d])
			continue;
		log_info("%s: creating %s", sw->a->name, sw->dest[d]);
		r = imap_create(sw->s, sw->dest[d]);
		if (r != OUT_OK) {
			log_warnx("%s: CREATE %s: %s", sw->a->name,
			    sw->dest[d], imap_error(sw->s));
			return r;
		}
	}
	return OUT_OK;
}
