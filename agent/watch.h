/*
 * watch.c, watch-super.c: `imapsift watch` (cmd_watch in cmd.h); as root
 * with --config-dir, watch_supervise runs one child per config file as
 * its owner.
 */
#ifndef IMAPSIFT_AGENT_WATCH_H
#define IMAPSIFT_AGENT_WATCH_H

#include "agent/outcome.h"

struct strlist;

/* Runs until stopped: OUT_OK, or OUT_PERM when it cannot start. */
int	watch_supervise(const char *dir, int foreground, int syslog_fg,
	    int verbose);
/* The regular files of dir (not hidden, not ending in ~), sorted; -1
 * after a warning. */
int	watch_dir_files(const char *dir, struct strlist *out);

#endif
