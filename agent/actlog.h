/*
 * actlog.c: `imapsift log` and `undo` over the store's action log.
 */
#ifndef IMAPSIFT_AGENT_ACTLOG_H
#define IMAPSIFT_AGENT_ACTLOG_H

#include <time.h>

/* "30m", "2h", "3d", "1w" or seconds; -1 when unreadable. */
int	actlog_parse_duration(const char *s, time_t *secs_r);

#endif
