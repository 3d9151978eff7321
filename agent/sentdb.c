/*
 * sentdb.c: the answer to "did I send this Message-ID?" that the rules
 * ask through rules_user.sent, from the store, from a file of IDs, or
 * both.
 *
 * Absence proves something only where the record is complete: an ID file
 * (--sent-ids) is taken as the complete record of what the user sent;
 * the store covers the span from its oldest to its newest sent date (or
 * everything, once marked complete).  Outside that span the answer is
 * "unknown", and the bounce stays where it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/sentdb.h"
#include "agent/util.h"
#include "store/store.h"

int
sentdb_open_store(struct sentdb *db, const char *path)
{
	char err[512];
	time_t oldest, newest;
	int complete;

	if (store_open(&db->st, path, STORE_RDONLY, 0, err,
	    sizeof(err)) == -1 ||
	    store_coverage(db->st, &oldest, &newest, &complete, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		store_close(&db->st);
		return -1;
	}
	db->oldest = oldest;
	db->newest = newest;
	db->complete = complete;
	return 0;
}

int
sentdb_load_ids(struct sentdb *db, const char *path)
{
	char line[2048], key[STORE_MSGID_MAX];
	unsigned long n = 0;
	const char *why;
	FILE *f;
	int fd;

	/* A regular file only: /dev/zero or a FIFO would never end. */
	if ((fd = util_open_regular(path, &why)) == -1) {
		log_warnx("%s: %s", path, why);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (store_msgid_key(line, key, sizeof(key)) == -1) {
			log_warnx("%s:%lu: not a Message-ID", path, n);
			continue;
		}
		strlist_add(&db->ids, key);
	}
	fclose(f);
	strlist_sort(&db->ids);
	db->have_ids = 1;
	return 0;
}

int
sentdb_sent(void *ctx, const char *id, int64_t date)
{
	struct sentdb *db = ctx;
	char key[STORE_MSGID_MAX], err[512], *k = key;
	int r;

	if (store_msgid_key(id, key, sizeof(key)) == -1)
		return -1;
	if (db->ids.n > 0 && bsearch(&k, db->ids.v, db->ids.n,
	    sizeof(*db->ids.v), util_cmp_str) != NULL)
		return 1;
	if (db->st != NULL) {
		r = store_sent_has(db->st, id, err, sizeof(err));
		if (r == -1)
			log_warnx("%s", err);
		if (r != 0)
			return r;
	}
	if (db->have_ids || (db->st != NULL && db->complete))
		return 0;
	if (db->st == NULL || db->oldest == 0 || date == 0)
		return -1;
	return date >= db->oldest && date <= db->newest ? 0 : -1;
}

int
sentdb_correspondent(void *ctx, const char *addr)
{
	struct sentdb *db = ctx;
	char err[512];
	int r;

	if (db->st == NULL)
		return 0;
	r = store_correspondent_has(db->st, addr, NULL, err, sizeof(err));
	if (r == -1)
		log_debug("%s", err);
	return r == 1;
}

void
sentdb_close(struct sentdb *db)
{
	store_close(&db->st);
	strlist_free(&db->ids);
	memset(db, 0, sizeof(*db));
}
