/*
 * sentdb.c: "did I send this Message-ID?" from the store and/or a file of
 * IDs (the complete record), for rules_user.sent and .correspondent.
 */
#ifndef IMAPSIFT_AGENT_SENTDB_H
#define IMAPSIFT_AGENT_SENTDB_H

#include <stdint.h>
#include <time.h>

#include "agent/util.h"

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

#endif
