/*
 * sweep-private.h: the state of one account's sweep, shared by sweep.c
 * (fetching and judging), sweep-move.c (folders, moves and their log
 * rows), sweep-work.c (the classifier thread) and sweep-learn.c
 * (learning) only; watch.c and the commands use sweep.h.
 */
#ifndef IMAPSIFT_AGENT_SWEEP_PRIVATE_H
#define IMAPSIFT_AGENT_SWEEP_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/folders.h"
#include "agent/learn.h"
#include "agent/sentdb.h"
#include "agent/sweep.h"
#include "agent/util.h"
#include "rules/rules.h"

#define SWEEP_BATCH	1000	/* UIDs fetched per batch */
/* Moves held (logged pending) across batches before they are made: one
 * UID STORE and one UID MOVE per destination and flush, the UID set of
 * at most this many UIDs staying well under servers' line limits. */
#define SWEEP_FLUSH	2000

struct move {
	uint32_t uid, new_uid;
	int	 dest;
	int	 state;		/* IMAP_MV_* once made */
	char	*msgid, *reasons;
	int64_t	 id;
};

struct work;
struct dnsbl;
struct dnsbl_msg;

/* What deciding one message needs, from its classification. */
struct verdict {
	struct verdict *next;
	uint64_t seq;		/* push order (sweep-work.c) */
	uint32_t uid;
	int	 cls;		/* enum rules_class */
	char	*msgid, *reasons;
	char	*raw;		/* the message: only for RULES_BACKSCATTER */
	size_t	 len;
	char	**fp;		/* "kind<TAB>value" of the matched indicators */
	size_t	 nfp;
	int	 corr;		/* From a correspondent (rules_user) */
	double	 score;		/* the rules' score */
	char	**hosts;	/* URL hosts to ask the DNS blocklists about */
	size_t	 nhosts;	/* (clean mail, sender not allowed) */
	struct dnsbl_msg *dm;	/* those lookups, while they run */
};

struct cand {			/* a backscatter verdict to confirm */
	uint32_t uid;
	char	*raw;
	size_t	 len;
};

struct sweep {
	const struct conf *conf;
	const struct conf_account *a;
	struct imap *s;
	struct store *st;
	struct rules_set *rs;
	struct rules_limits lim;
	struct rules_user user;
	struct sentdb db;
	struct work *work;	/* the classifier (sweep-work.c) */
	struct dnsbl *dnsbl;	/* URI DNS blocklists, or NULL (dnsbl.c) */
	struct verdict *dq, **dqt;	/* verdicts waiting for their DNS */
	struct strlist addrs, sent;
	char	*dest[NDEST];
	int	 dry_run, all, sent_rescanned, rescan, tty;
	int	 sent_failed;	/* bounces are held, not judged */
	int	 news;		/* more mail came in during the pass */
	uint32_t hold;		/* lowest UID held (0: none): not passed */
	size_t	 held;
	uint32_t *rm;		/* originals of earlier copies, to remove */
	size_t	 nrm, caprm;
	const char *mbox;
	uint32_t uv, last, uidnext, maxseen;
	uint32_t hi;		/* the state once the held moves are made */
	const uint32_t *want;
	size_t	 nwant;
	struct move *mv;	/* held moves, mv[0..nlog) logged pending */
	size_t	 nmv, nlog, capmv;
	struct cand *cd;
	size_t	 ncd, capcd;
	size_t	 seen, moved[NDEST], kept, errors;
	double	 t0, tprog;
	int64_t	 first_id;	/* first action this pass logged, or 0:
				   ids from it on are this pass's */
	int	 log_empty;	/* no action of the account before this pass */
	/* learning (sweep-learn.c) */
	struct learner learner;
	int	 learner_ok, learned_loaded;
	double	 learn_at;	/* next look at Junk, monotonic */
	double	 learn_full_at;	/* next full round (Sent, ham, Junk) */
	int	 learn_kept_due;	/* a full round: count kept mail */
	struct rules_set *learned;	/* the active set in use, or NULL */
	int64_t	 learned_gen;
	time_t	 learned_day;
	struct strlist seen_ids;	/* Message-IDs left in this mailbox */
	char	*folders_said;	/* the folder choice last logged (folders.c) */
};

/* sweep-work.c: classifies pushed messages in a second thread (threaded
 * set) or at once.  work_start copies sw's rules, limits and user (set
 * them first) and opens its own handle on the store in dir; work_sync
 * hands it sw->db's coverage after a Sent scan (only with nothing pending).
 * work_push copies the message and returns 1 when it handed messages
 * over (verdicts may be ready), 0 when it holds it for the next hand-off;
 * it waits while 8 MiB are queued.  work_next returns the next verdict in
 * push order (caller frees with work_verdict_free), or NULL: none ready, or
 * (wait set: everything pushed is handed over first) none pending. */
int	work_start(struct sweep *sw, const char *dir, int threaded);
void	work_sync(struct sweep *sw);
/* With nothing pending: takes sw's rules, limits and user again. */
void	work_rebind(struct sweep *sw);
int	work_push(struct sweep *sw, uint32_t uid, const char *raw,
	    size_t len);
struct verdict *work_next(struct sweep *sw, int wait);
void	work_stop(struct sweep *sw);
/* Classifies raw (malloc'd, NUL-terminated; taken) for uid; with hosts
 * set, keeps the URL hosts of clean mail for the DNS blocklists. */
struct verdict *work_verdict(uint32_t uid, char *raw, size_t len,
	    const struct rules_set *rs, const struct rules_limits *lim,
	    const struct rules_user *user, int hosts);
void	work_verdict_free(struct verdict *v);

/* sweep-learn.c: sweep_learn learns from Junk (spam), Sent and the ham
 * folders in a full round once per learn_interval (between rounds: Junk's
 * new mail) and reloads the active learned set when it changed;
 * sweep_unlearn records a rescued message as ham evidence;
 * sweep_was_learned: was msgid learned from Junk?  work_set_learned
 * (sweep-work.c) hands the classifier a new learned set (nothing may be
 * pending). */
int	sweep_learn(struct sweep *sw);
void	sweep_unlearn(struct sweep *sw, const char *raw, size_t len);
int	sweep_was_learned(struct sweep *sw, const char *msgid);
/* After sweep judged mbox (still selected), in a pass with a full round:
 * its mail kept past ham_grace days becomes ham evidence. */
int	sweep_learn_kept(struct sweep *sw, const char *mbox);
/* A message from a correspondent that sweep leaves in a watched mailbox:
 * its indicators are ham evidence. */
void	sweep_learn_corr(struct sweep *sw, const char *raw, size_t len);
void	work_set_learned(struct sweep *sw, const struct rules_set *rs);

/* sweep-move.c */
void	sweep_move_add(struct sweep *sw, uint32_t uid, int dest,
	    const char *msgid, const char *reasons);
void	sweep_moves_clear(struct sweep *sw);
/* Logs the batch's moves as pending and holds them, the mailbox to be
 * advanced to hi once they are made; makes every held move when
 * SWEEP_FLUSH are held or none is (dry run: only says what would move).
 * Returns OUT_*. */
int	sweep_moves_do(struct sweep *sw, uint32_t hi);
/* Makes the held moves, completes their rows, advances the mailbox to
 * the hi of the last sweep_moves_do().  Returns OUT_*. */
int	sweep_moves_flush(struct sweep *sw);
/* A batch failed with r: drops its moves (not logged yet); makes those
 * held from the batches before it if the mailbox is still selected and
 * the session usable, else logs them failed.  Returns r. */
int	sweep_moves_abort(struct sweep *sw, int r, int selected);
/* LIST: the Junk and Sent mailboxes; creates missing destinations. */
int	sweep_find_folders(struct sweep *sw);

#endif
