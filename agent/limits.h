/*
 * limits.c: the config's limits as the rules module takes them.
 */
#ifndef IMAPSIFT_AGENT_LIMITS_H
#define IMAPSIFT_AGENT_LIMITS_H

struct conf;
struct rules_limits;

/* The limits of c's limits group (c NULL: the defaults). */
void	limits_from_config(const struct conf *c, struct rules_limits *lim);

#endif
