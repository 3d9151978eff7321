/*
 * agent: the imapsift program itself, the only module that prints, logs,
 * exits or talks to the outside world.  It uses rules/ (and, as they come,
 * store/ and conf/); nothing uses it.
 *
 * Conventions: x*alloc() never return NULL (they die on out of memory).
 * Logging follows OpenSMTPD's shape: log_warn() appends strerror(errno),
 * log_warnx() does not; fatal()/fatalx() log and exit 1.  Messages go to
 * stderr prefixed "imapsift: " (syslog comes with the daemon).
 */
#ifndef IMAPSIFT_AGENT_H
#define IMAPSIFT_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rules/rules.h"

/* Exit codes shared by every command (sysexits-compatible where it
 * matters to cron and systemd). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* some input could not be read */
#define EXIT_CONFIG	2	/* bad usage, config or rule lists */
#define EXIT_AUTH	3
#define EXIT_TEMP	75	/* EX_TEMPFAIL: try again later */

/* log.c */
void	log_init(int verbose);
void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* util.c */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);

/* A reusable read buffer: p[len] is always a NUL once read. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

/* Reads a whole file ("-" is stdin) into b, reusing its memory.  Files
 * over max bytes are read up to max and *truncated_r set.  Returns -1
 * with errno set (EISDIR for a directory). */
int	read_file(const char *path, size_t max, struct buf *b,
	    int *truncated_r);

/* mkdir -p with mode for the directories it makes.  Returns -1 with
 * errno. */
int	mkdir_p(const char *path, int mode);

/* A growable list of strings (caller frees with strlist_free). */
struct strlist {
	char	**v;
	size_t	 n, cap;
};
void	strlist_add(struct strlist *l, const char *s);
void	strlist_free(struct strlist *l);

/* Appends the regular files below path (path itself when it is a file),
 * sorted by name, skipping dotfiles.  Returns -1 with errno on a path
 * that cannot be read. */
int	walk_files(const char *path, struct strlist *out);

/* rulesdir.c: the rule lists to load when none are named with -r, and
 * loading them with every error reported.  Returns NULL after printing
 * the errors. */
void	rules_default_paths(struct strlist *out);
/* A shipped data file: PREFIX/share/imapsift/installed, or, for a binary
 * run from its build tree, the source tree's source path.  Returns 0 with
 * the path in out, or -1 when neither exists. */
int	shipped_path(const char *installed, const char *source, char *out,
	    size_t outsz);
struct rules_set *load_rules(const struct strlist *paths, unsigned cc);

/* sentdb.c: "did I send this Message-ID?" from the store and/or a file of
 * IDs (the complete record), for rules_user.sent and .correspondent. */
struct store;
struct sentdb {
	struct store *st;
	struct strlist ids;	/* sorted Message-ID keys */
	int	 have_ids;	/* an ID file was loaded: absence is proof */
	time_t	 oldest, newest;	/* the store's coverage */
	int	 complete;
};
int	sentdb_open_store(struct sentdb *db, const char *path);
int	sentdb_load_ids(struct sentdb *db, const char *path);
int	sentdb_sent(void *ctx, const char *id, int64_t date);
int	sentdb_correspondent(void *ctx, const char *addr);
void	sentdb_close(struct sentdb *db);

/* Command entry points: argc/argv start at the command name. */
int	cmd_classify(int argc, char **argv);
int	cmd_explain(int argc, char **argv);
int	cmd_check(int argc, char **argv);
int	cmd_harvest(int argc, char **argv);
int	cmd_import_sent(int argc, char **argv);

/* import.c: $XDG_STATE_HOME/imapsift/imapsift.db, its directory made on
 * the way (dies when it cannot be). */
const char *default_store_path(void);

#endif
