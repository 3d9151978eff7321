/*
 * account.c: what sweep, watch, log and undo share: the config file, the
 * store and locks of an account, the rule set of a config, and the
 * session built from an account's settings.  The int results are
 * outcomes (outcome.h) where said.
 */
#ifndef IMAPSIFT_AGENT_ACCOUNT_H
#define IMAPSIFT_AGENT_ACCOUNT_H

#include <stddef.h>

#include "agent/outcome.h"

struct conf;
struct conf_account;
struct imap;
struct rules_set;
struct store;
struct strlist;

/* $XDG_CONFIG_HOME/imapsift/config (or ~/.config/...), or NULL. */
const char *config_default_path(void);
/* Loads path (NULL: the default), printing every error.  Returns OUT_OK
 * or OUT_PERM.  With optional set, a missing default file is OUT_OK with
 * *conf_r NULL. */
int	config_load(const char *path, int optional, struct conf **conf_r);
/* The same for an open descriptor (watch --config-fd): name is for the
 * messages; the file must be the effective user's (privsep_config_file_ok). */
int	config_load_fd(int fd, const char *name, struct conf **conf_r);
/* `imapsift check -c FILE`: the config and its rule lists; OUT_OK, or
 * OUT_PERM after printing the errors. */
int	config_check(const char *path);
/* The store directory (config store, else $XDG_STATE_HOME/imapsift),
 * made 0700; -1 after a warning. */
int	account_store_dir(const struct conf *c, char *out, size_t outsz);
/* Opens DIR/imapsift.db read-write; OUT_OK or OUT_PERM (warned). */
int	account_store_open(const char *dir, struct store **st_r);
/* The account locks, keyed by the server mailbox (lower-case host,
 * port, user) in the user's one lock directory ($XDG_STATE_HOME/imapsift/
 * locks, else ~/.local/state/imapsift/locks; account.c).  LOCK_OWNER is
 * held by sweep for its run and by watch for as long as it watches;
 * LOCK_WORK by whoever moves mail: sweep, each watch pass, undo.
 * account_lock takes one (flock, no wait): OUT_OK with *fd_r held,
 * OUT_TEMP when another process (or thread) holds it, OUT_PERM after a
 * warning.
 * account_lock_name: the lock's file name without its suffix
 * ("user@host:port-HASH"). */
#define LOCK_OWNER	0
#define LOCK_WORK	1
int	account_lock(const struct conf_account *a, int kind, int *fd_r);
void	account_lock_name(const struct conf_account *a, char *out,
	    size_t outsz);
/* The rule set for c (its rules, else rulesdir_default_paths); NULL after
 * printing the errors. */
struct rules_set *config_rules(const struct conf *c);
/* The rule files and directories of c (its rules, else the defaults). */
void	config_rule_paths(const struct conf *c, struct strlist *out);
/* Runs password_command if any (auth = "oauth2": takes the access token
 * from the token store in dir, the store directory) and imap_open()s the
 * account.  Returns OUT_OK with *s_r, or OUT_AUTH, OUT_TEMP, OUT_PERM
 * after one line. */
int	account_connect(const struct conf_account *a, const char *dir,
	    struct imap **s_r);
/* The same, silent: the failure's one line goes to why instead. */
int	account_open(const struct conf_account *a, const char *dir,
	    struct imap **s_r, char *why, size_t whylen);

#endif
