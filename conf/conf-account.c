/*
 * conf-account.c: the accounts list: each account's group read through
 * conf-keys.c, its defaults filled in and the checks between its keys.
 */
#include <arpa/inet.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

/* ------------------------------------------------------------------ */
/* Accounts.                                                            */

int
conf_host_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char	 b[INET6_ADDRSTRLEN + 2];
	size_t	 n = strlen(host);

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && n < sizeof(b) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(b, host + 1, n - 2);
		b[n - 2] = '\0';
		host = b;
	}
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&a6) ||
	    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

static int
name_ok(const char *s)
{
	if (s[0] == '.' || strlen(s) > CONF_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("._@+-", *s) != NULL))
			return 0;
	return 1;
}

static int
host_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ' ' || strchr("/\\@?#", *s) != NULL)
			return 0;
	return 1;
}

static int
address_ok(const char *s)
{
	const char *at = strrchr(s, '@');

	return at != NULL && at != s && at[1] != '\0' &&
	    strchr(s, ' ') == NULL;
}

/* Sets l to the one string s. */
static void
list_one(struct conf_loader *L, struct conf_list *l, const char *s)
{
	l->v = calloc(2, sizeof(*l->v));
	if (l->v == NULL) {
		L->oom = L->failed = 1;
		return;
	}
	l->v[0] = conf_strdup(L, s);
	l->n = l->v[0] != NULL;
}

/* Fills in what the file left out. */
static void
account_defaults(struct conf_loader *L, struct conf_account *a)
{
	if (a->lines[CONF_PORT] == 0)
		a->port = a->tls == CONF_TLS_IMPLICIT ?
		    CONF_DEF_PORT_IMPLICIT : CONF_DEF_PORT_PLAIN;
	if (a->lines[CONF_WATCH] == 0)
		list_one(L, &a->watch, CONF_DEF_WATCH);
	if (a->lines[CONF_ADDRESSES] == 0 && a->user != NULL &&
	    strchr(a->user, '@') != NULL)
		list_one(L, &a->addresses, a->user);
	if (a->lines[CONF_BACKSCATTER] == 0)
		a->backscatter = conf_strdup(L, CONF_DEF_BACKSCATTER);
}

/* The watched mailboxes must not be where mail is moved to. */
static void
check_watch(struct conf_loader *L, const struct conf_account *a)
{
	const char *junk = a->junk != NULL ? a->junk : "Junk";
	size_t	 i;

	for (i = 0; i < a->watch.n; i++) {
		if (strcmp(a->watch.v[i], junk) == 0)
			conf_lerr(L, a->lines[CONF_WATCH], "watch: \"%s\" is "
			    "the junk mailbox", junk);
		if (a->backscatter != NULL &&
		    strcmp(a->watch.v[i], a->backscatter) == 0)
			conf_lerr(L, a->lines[CONF_WATCH], "watch: \"%s\" is "
			    "the backscatter mailbox", a->backscatter);
	}
	if (a->backscatter != NULL && strcmp(junk, a->backscatter) == 0)
		conf_lerr(L, a->lines[CONF_BACKSCATTER] > a->lines[CONF_JUNK] ?
		    a->lines[CONF_BACKSCATTER] : a->lines[CONF_JUNK],
		    "junk and backscatter are both \"%s\"", junk);
}

/* Checks between the keys of account a, number idx (from 0). */
static void
account_check(struct conf_loader *L, const struct conf_account *a, size_t idx)
{
	char	 who[CONF_NAME_MAX + 16];
	const unsigned *ln = a->lines;
	size_t	 i;

	if (a->name != NULL)
		snprintf(who, sizeof(who), "account \"%s\"", a->name);
	else
		snprintf(who, sizeof(who), "account #%zu", idx + 1);
	if (ln[CONF_NAME] == 0)
		conf_lerr(L, a->line, "%s: missing name", who);
	else if (a->name != NULL && !name_ok(a->name))
		conf_lerr(L, ln[CONF_NAME], "name: \"%s\" may hold only "
		    "letters, digits and \"._@+-\" (at most %d, no leading "
		    "dot)", a->name, CONF_NAME_MAX);
	if (ln[CONF_HOST] == 0)
		conf_lerr(L, a->line, "%s: missing host", who);
	else if (a->host != NULL && !host_ok(a->host))
		conf_lerr(L, ln[CONF_HOST], "host: \"%s\" is not a host name "
		    "or address", a->host);
	if (ln[CONF_USER] == 0)
		conf_lerr(L, a->line, "%s: missing user", who);
	if (ln[CONF_PASSWORD] != 0 && ln[CONF_PASSWORD_COMMAND] != 0)
		conf_lerr(L, ln[CONF_PASSWORD] > ln[CONF_PASSWORD_COMMAND] ?
		    ln[CONF_PASSWORD] : ln[CONF_PASSWORD_COMMAND],
		    "%s: set password or password_command, not both", who);
	else if (ln[CONF_PASSWORD] == 0 && ln[CONF_PASSWORD_COMMAND] == 0 &&
	    a->auth != CONF_AUTH_OAUTH2)
		conf_lerr(L, a->line, "%s: missing password or "
		    "password_command", who);
	conf_oauth2_check(L, a, who);
	if (a->auth == CONF_AUTH_XOAUTH2 && ln[CONF_PASSWORD_COMMAND] == 0)
		conf_lerr(L, ln[CONF_AUTH], "auth: \"xoauth2\" needs "
		    "password_command (the token helper)");
	if (a->tls == CONF_TLS_NONE && a->host != NULL &&
	    !conf_host_loopback(a->host))
		conf_lerr(L, ln[CONF_TLS], "tls: \"none\" is only allowed to a "
		    "loopback host, not \"%s\"", a->host);
	for (i = 0; i < a->addresses.n; i++)
		if (ln[CONF_ADDRESSES] != 0 &&
		    !address_ok(a->addresses.v[i]))
			conf_lerr(L, ln[CONF_ADDRESSES], "addresses: \"%s\" "
			    "is not an address", a->addresses.v[i]);
	check_watch(L, a);
}

/* One account group g: the next of c->accounts. */
static void
load_account(struct conf_loader *L, struct conf *c, config_setting_t *g)
{
	size_t	 idx = c->naccounts++;
	struct conf_account *a = &c->accounts[idx];
	size_t	 i;
	int	 n;

	a->line = conf_line(g);
	a->first_run_days = CONF_DEF_FIRST_RUN_DAYS;
	a->max_fetch_bytes = CONF_DEF_MAX_FETCH_BYTES;
	a->timeout = CONF_DEF_TIMEOUT;
	a->idle_refresh = CONF_DEF_IDLE_REFRESH;
	a->poll_interval = CONF_DEF_POLL_INTERVAL;
	a->harvest_interval = CONF_DEF_HARVEST_INTERVAL;
	a->learn = 1;
	a->learn_interval = CONF_DEF_LEARN_INTERVAL;
	a->ham_grace = CONF_DEF_HAM_GRACE;
	n = config_setting_length(g);
	for (i = 0; i < (size_t)n; i++) {
		conf_member(L, config_setting_get_elem(g, (unsigned)i),
		    CONF_LEVEL_ACCOUNT, a,
		    a->lines);
	}
	account_defaults(L, a);
	account_check(L, a, idx);
	for (i = 0; a->name != NULL && i < idx; i++)
		if (c->accounts[i].name != NULL &&
		    strcmp(c->accounts[i].name, a->name) == 0) {
			conf_lerr(L, a->lines[CONF_NAME], "account \"%s\": "
			    "duplicate name (first at line %u)", a->name,
			    c->accounts[i].lines[CONF_NAME]);
			break;
		}
}

void
conf_accounts(struct conf_loader *L, struct conf *c, config_setting_t *s)
{
	c->accounts = conf_groups_alloc(L, s, "accounts", "( { ... }, ... )",
	    sizeof(*c->accounts));
	if (c->accounts != NULL)
		conf_groups_each(L, c, s, "accounts", load_account);
}
