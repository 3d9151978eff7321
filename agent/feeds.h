/*
 * feeds.c: subscribed rule list feeds (config `feeds`).
 */
#ifndef IMAPSIFT_AGENT_FEEDS_H
#define IMAPSIFT_AGENT_FEEDS_H

#include <stddef.h>

struct conf;

/* feeds_dir: the directory of their copies, STORE/feeds (made 0700); -1
 * after a warning.  feeds_refresh fetches every feed whose last fetch is
 * older than its interval (all with force) and returns how many copies
 * changed; failures are logged once and kept for `imapsift feeds`. */
int	feeds_dir(const struct conf *c, char *dir, size_t dirsz);
int	feeds_refresh(const struct conf *c, int force);

#endif
