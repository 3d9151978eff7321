/*
 * sweep.h: one account's sweep, as `imapsift sweep` (cmd_sweep in cmd.h)
 * and watch.c drive it.  The state is opaque: its members are for the
 * sweep*.c files (sweep-private.h).
 */
#ifndef IMAPSIFT_AGENT_SWEEP_H
#define IMAPSIFT_AGENT_SWEEP_H

#include <stddef.h>

#include "agent/outcome.h"

struct conf;
struct conf_account;
struct imap;
struct rules_set;
struct rules_verdict;
struct store;
struct sweep;

/*
 * sweep_new: the sweep of account a (store st and rules rs stay the
 * caller's; dir is the store directory; threaded: classify beside the
 * reader); sweep_destroy frees it and sets *sw to NULL (NULL is fine).
 * sweep_new_session hands it a new session s (the folders are looked up
 * again); sweep_end_session forgets the session (the caller closed it).
 * sweep_pass runs over the session: LIST once per session, Sent when
 * scan_sent is set (and before any backscatter verdict), then the new
 * mail of every watched mailbox (the first one last: it stays selected).
 * Returns an outcome (outcome.h).  sweep_news is 1 when mail was seen
 * arriving during the last pass (see imap_news).
 */
struct sweep *sweep_new(const struct conf *c, const struct conf_account *a,
	    struct store *st, struct rules_set *rs, const char *dir,
	    int threaded);
void	sweep_destroy(struct sweep **sw);
void	sweep_new_session(struct sweep *sw, struct imap *s);
void	sweep_end_session(struct sweep *sw);
/* Between passes only: from now on sw judges with c, a (the same
 * account, as reloaded) and rs; the folders are looked up again. */
void	sweep_rebind(struct sweep *sw, const struct conf *c,
	    const struct conf_account *a, struct rules_set *rs);
/* The store handle to use from now on (watch opens one per pass). */
void	sweep_set_store(struct sweep *sw, struct store *st);
int	sweep_pass(struct sweep *sw, int scan_sent);

/* The session in use (NULL: none). */
struct imap *sweep_session(const struct sweep *sw);
int	sweep_news(const struct sweep *sw);
/* Messages seen, and moved (to Junk and Backscatter), since sweep_new. */
size_t	sweep_seen(const struct sweep *sw);
size_t	sweep_moved(const struct sweep *sw);
/* When learning looks at Junk next (monotonic seconds, util_mono_now). */
double	sweep_learn_at(const struct sweep *sw);

/* The hosts of v's URL findings, distinct, in order, appended to
 * *hosts_r (*n_r): what the DNS blocklists are asked about (sweep-work.c;
 * offline.c's classify and explain too). */
void	work_verdict_hosts(const struct rules_verdict *v, char ***hosts_r,
	    size_t *n_r);

#endif
