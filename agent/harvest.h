/*
 * harvest.c: `imapsift harvest`, building rule lists from sorted spam and
 * ham; what it shares with learn.c.
 */
#ifndef IMAPSIFT_AGENT_HARVEST_H
#define IMAPSIFT_AGENT_HARVEST_H

#include <stddef.h>

struct rules_msg;
struct strlist;

/* The distinct URL hosts (as rules_url_host gives them) and phone
 * numbers (digits) of msg, appended to hosts and phones and each list
 * sorted and made unique; and the domain a host is listed by (its
 * registrable domain, or the host when it is an IP literal), -1 when it
 * has none. */
void	harvest_scan(const struct rules_msg *msg, unsigned cc,
	    struct strlist *hosts, struct strlist *phones);
int	harvest_domain(const char *host, char *out, size_t outsz);
/* Adds the domains of a skip list file (one per line, '#' comments),
 * lowercased, unsorted; -1 (logged) when it cannot be read. */
int	harvest_read_skip(const char *path, struct strlist *skip);
/* The shipped skip list (harvest-skip.list: big and shared sites), sorted
 * into skip; -1 (logged) when it is installed but cannot be read, 0
 * otherwise (left empty when it is not installed).  harvest_skipped: 1
 * when dom (a registrable domain) is on skip (sorted). */
int	harvest_skip_shipped(struct strlist *skip);
int	harvest_skipped(const struct strlist *skip, const char *dom);

#endif
