/*
 * rulesdir.c: where the rule lists are, and loading them.
 */
#ifndef IMAPSIFT_AGENT_RULESDIR_H
#define IMAPSIFT_AGENT_RULESDIR_H

#include <stddef.h>

struct rules_set;
struct strlist;

/* The rule lists to load when none are named with -r. */
void	rulesdir_default_paths(struct strlist *out);
/* A shipped data file: PREFIX/share/imapsift/installed, or, for a binary
 * run from its build tree, the source tree's source path.  Returns 0 with
 * the path in out, or -1 when neither exists. */
int	rulesdir_shipped_path(const char *installed, const char *source,
	    char *out, size_t outsz);
/* Loads paths with every error reported; NULL after printing them. */
struct rules_set *rulesdir_load(const struct strlist *paths, unsigned cc,
	    size_t max_file);	/* bytes per list file; 0: the default */

#endif
