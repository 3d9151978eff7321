/*
 * rulesdir.c: which rule lists a command loads when none are named, and
 * loading them with every error printed.
 *
 * Without -r, imapsift reads the user's own lists in
 * $XDG_CONFIG_HOME/imapsift/rules (default ~/.config/imapsift/rules) and
 * the shipped starter lists in PREFIX/share/imapsift/rules; run from a
 * build tree that is not installed, the starter lists come from the
 * source tree's rules/lists instead.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/rulesdir.h"
#include "agent/util.h"
#include "rules/rules.h"

#ifndef IMAPSIFT_SHAREDIR
#define IMAPSIFT_SHAREDIR "/usr/local/share/imapsift"
#endif

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The source tree's file or directory rel (e.g. "rules/lists"), when
 * this binary sits in the tree's build directory. */
static int
source_file(const char *rel, char *out, size_t outsz)
{
	char exe[PATH_MAX], *slash;
	struct stat st;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	n = snprintf(out, outsz, "%s/../%s", exe, rel);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	return stat(out, &st);
}

int
rulesdir_shipped_path(const char *installed, const char *source, char *out,
    size_t outsz)
{
	struct stat st;
	int n;

	n = snprintf(out, outsz, "%s/%s", IMAPSIFT_SHAREDIR, installed);
	if (n > 0 && (size_t)n < outsz && stat(out, &st) == 0)
		return 0;
	return source_file(source, out, outsz);
}

void
rulesdir_default_paths(struct strlist *out)
{
	char p[PATH_MAX];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n = -1;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(p, sizeof(p), "%s/imapsift/rules", xdg);
	else if (home != NULL)
		n = snprintf(p, sizeof(p), "%s/.config/imapsift/rules", home);
	if (n > 0 && (size_t)n < sizeof(p) && is_dir(p))
		strlist_add(out, p);
	if (rulesdir_shipped_path("rules", "rules/lists", p, sizeof(p)) == 0)
		strlist_add(out, p);
}

struct rules_set *
rulesdir_load(const struct strlist *paths, unsigned cc, size_t max_file)
{
	struct rules_opts opts;
	struct rules_set *rs = NULL;
	char *errs = NULL;

	memset(&opts, 0, sizeof(opts));
	opts.default_cc = cc;
	opts.max_file_bytes = max_file;
	if (paths->n == 0) {
		log_warnx("no rule lists found: name a directory with -r");
		return NULL;
	}
	if (rules_load(&rs, (const char *const *)paths->v, paths->n, &opts,
	    &errs) == -1) {
		if (errs != NULL)
			fputs(errs, stderr);
		else
			log_warnx("cannot load rule lists");
		free(errs);
		rules_free(&rs);
		return NULL;
	}
	free(errs);
	return rs;
}
