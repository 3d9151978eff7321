/*
 * conf-keys.c: the keys a config file may hold, and reading one value.
 *
 * One table per level (global, account) gives each key its type, range
 * and field; reading a value checks its type and range and stores it, or
 * reports the problem at the value's line and leaves the default.
 */
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

/* ------------------------------------------------------------------ */
/* The keys.                                                            */

enum kind { K_STR, K_LIST, K_UINT, K_BOOL, K_TLS, K_AUTH, K_BOUNCE,
	K_ACCOUNTS, K_LIMITS, K_OPROVIDER, K_OFLOW, K_OMECH };

#define F_RAW		0x01	/* any bytes but NUL (secrets, commands) */
#define F_EMPTYDEF	0x02	/* "" means the default (NULL) */
#define F_NONEMPTY	0x04	/* a list that must name something */
#define F_LINE		0x08	/* one line: no CR or LF (sent to the server) */
#define F_NONBLANK	0x10	/* not only blanks (a command to run) */

struct keydef {
	const char *name;
	enum conf_key key;
	enum kind kind;
	size_t	 off;		/* of the field in its struct */
	long long min, max;
	unsigned flags;
};

#define G(f)	offsetof(struct conf, f)
#define A(f)	offsetof(struct conf_account, f)
#define LM(f)	offsetof(struct conf_limits, f)

static const struct keydef global_keys[] = {
	{ "store", CONF_STORE, K_STR, G(store), 0, 0, F_EMPTYDEF },
	{ "rules", CONF_RULES, K_LIST, G(rules), 0, 0, 0 },
	{ "country", CONF_COUNTRY, K_UINT, G(country), 1, 999, 0 },
	{ "max_rule_file_bytes", CONF_MAX_RULE_FILE_BYTES, K_UINT,
	    G(max_rule_file_bytes), 4096, 1073741824, 0 },
	{ "unknown_bounce", CONF_UNKNOWN_BOUNCE, K_BOUNCE,
	    G(unknown_bounce), 0, 0, 0 },
	{ "accounts", CONF_ACCOUNTS, K_ACCOUNTS, 0, 0, 0, 0 },
	{ "limits", CONF_LIMITS, K_LIMITS, 0, 0, 0, 0 },
	{ "learn_expiry", CONF_LEARN_EXPIRY, K_UINT, G(learn_expiry), 0,
	    36500, 0 },
	{ "feeds", CONF_FEEDS, K_ACCOUNTS, 0, 0, 0, 0 },	/* a list */
	{ "dnsbl", CONF_DNSBL, K_ACCOUNTS, 0, 0, 0, 0 },	/* a list */
	{ "max_dnsbl_queries", CONF_MAX_DNSBL_QUERIES, K_UINT,
	    G(max_dnsbl_queries), 0, 1000, 0 },
	{ "dnsbl_timeout", CONF_DNSBL_TIMEOUT, K_UINT, G(dnsbl_timeout),
	    50, 60000, 0 },
	{ "dnsbl_cooldown", CONF_DNSBL_COOLDOWN, K_UINT, G(dnsbl_cooldown),
	    60, 604800, 0 },
	{ "dns_server", CONF_DNS_SERVER, K_STR, G(dns_server), 0, 0,
	    F_EMPTYDEF },
	{ NULL, CONF_NKEYS, K_STR, 0, 0, 0, 0 }
};

/* The ranges keep each bound useful: below them mail is cut too early to
 * judge, above them one message may cost seconds. */
static const struct keydef limits_keys[] = {
	{ "max_parse_bytes", CONF_MAX_PARSE_BYTES, K_UINT,
	    LM(max_parse_bytes), 16384, 67108864, 0 },
	{ "max_mime_depth", CONF_MAX_MIME_DEPTH, K_UINT, LM(max_mime_depth),
	    1, 48, 0 },
	{ "max_mime_parts", CONF_MAX_MIME_PARTS, K_UINT, LM(max_mime_parts),
	    1, 10000, 0 },
	{ "max_urls", CONF_MAX_URLS, K_UINT, LM(max_urls), 1, 4096, 0 },
	{ "max_phones", CONF_MAX_PHONES, K_UINT, LM(max_phones), 1, 4096, 0 },
	{ "max_text_bytes", CONF_MAX_TEXT_BYTES, K_UINT, LM(max_text_bytes),
	    4096, 67108864, 0 },
	{ "max_html_depth", CONF_MAX_HTML_DEPTH, K_UINT, LM(max_html_depth),
	    1, 4096, 0 },
	{ "regex_match_limit", CONF_REGEX_MATCH_LIMIT, K_UINT,
	    LM(regex_match_limit), 1000, 10000000, 0 },
	{ "regex_depth_limit", CONF_REGEX_DEPTH_LIMIT, K_UINT,
	    LM(regex_depth_limit), 10, 100000, 0 },
	{ NULL, CONF_NKEYS, K_STR, 0, 0, 0, 0 }
};

static const struct keydef account_keys[] = {
	{ "name", CONF_NAME, K_STR, A(name), 0, 0, 0 },
	{ "host", CONF_HOST, K_STR, A(host), 0, 0, 0 },
	{ "port", CONF_PORT, K_UINT, A(port), 1, 65535, 0 },
	{ "tls", CONF_TLS, K_TLS, A(tls), 0, 0, 0 },
	{ "ca_file", CONF_CA_FILE, K_STR, A(ca_file), 0, 0, 0 },
	{ "user", CONF_USER, K_STR, A(user), 0, 0, 0 },
	{ "password", CONF_PASSWORD, K_STR, A(password), 0, 0,
	    F_RAW | F_LINE },
	{ "password_command", CONF_PASSWORD_COMMAND, K_STR,
	    A(password_command), 0, 0, F_RAW | F_NONBLANK },
	{ "auth", CONF_AUTH, K_AUTH, A(auth), 0, 0, 0 },
	{ "addresses", CONF_ADDRESSES, K_LIST, A(addresses), 0, 0, 0 },
	{ "watch", CONF_WATCH, K_LIST, A(watch), 0, 0, F_NONEMPTY },
	{ "sent", CONF_SENT, K_LIST, A(sent), 0, 0, 0 },
	{ "junk", CONF_JUNK, K_STR, A(junk), 0, 0, F_EMPTYDEF },
	{ "backscatter", CONF_BACKSCATTER, K_STR, A(backscatter), 0, 0, 0 },
	{ "first_run_days", CONF_FIRST_RUN_DAYS, K_UINT, A(first_run_days),
	    0, 36500, 0 },
	{ "max_fetch_bytes", CONF_MAX_FETCH_BYTES, K_UINT,
	    A(max_fetch_bytes), 4096, 67108864, 0 },
	{ "dry_run", CONF_DRY_RUN, K_BOOL, A(dry_run), 0, 0, 0 },
	{ "unknown_bounce", CONF_UNKNOWN_BOUNCE, K_BOUNCE,
	    A(unknown_bounce), 0, 0, 0 },
	{ "timeout", CONF_TIMEOUT, K_UINT, A(timeout), 1, 3600, 0 },
	{ "idle_refresh", CONF_IDLE_REFRESH, K_UINT, A(idle_refresh),
	    60, 1740, 0 },
	{ "poll_interval", CONF_POLL_INTERVAL, K_UINT, A(poll_interval),
	    10, 86400, 0 },
	{ "harvest_interval", CONF_HARVEST_INTERVAL, K_UINT,
	    A(harvest_interval), 60, 604800, 0 },
	/* learning */
	{ "learn", CONF_LEARN, K_BOOL, A(learn), 0, 0, 0 },
	{ "learn_interval", CONF_LEARN_INTERVAL, K_UINT, A(learn_interval),
	    10, 86400, 0 },
	{ "ham", CONF_HAM, K_LIST, A(ham), 0, 0, 0 },
	{ "idle_poll", CONF_IDLE_POLL, K_UINT, A(idle_poll), 0, 1740, 0 },
	/* auth = "oauth2"; checked in conf-oauth2.c */
	{ "oauth2_provider", CONF_OAUTH2_PROVIDER, K_OPROVIDER,
	    A(oauth2.provider), 0, 0, 0 },
	{ "oauth2_flow", CONF_OAUTH2_FLOW, K_OFLOW, A(oauth2.flow), 0, 0, 0 },
	{ "oauth2_mechanism", CONF_OAUTH2_MECHANISM, K_OMECH,
	    A(oauth2.mechanism), 0, 0, 0 },
	{ "oauth2_client_id", CONF_OAUTH2_CLIENT_ID, K_STR,
	    A(oauth2.client_id), 0, 0, F_LINE },
	{ "oauth2_client_secret", CONF_OAUTH2_CLIENT_SECRET, K_STR,
	    A(oauth2.client_secret), 0, 0, F_RAW | F_LINE },
	{ "oauth2_scopes", CONF_OAUTH2_SCOPES, K_LIST, A(oauth2.scopes),
	    0, 0, 0 },
	{ "oauth2_authorization_endpoint", CONF_OAUTH2_AUTHORIZATION_ENDPOINT,
	    K_STR, A(oauth2.authorization_endpoint), 0, 0, 0 },
	{ "oauth2_token_endpoint", CONF_OAUTH2_TOKEN_ENDPOINT, K_STR,
	    A(oauth2.token_endpoint), 0, 0, 0 },
	{ "oauth2_device_endpoint", CONF_OAUTH2_DEVICE_ENDPOINT, K_STR,
	    A(oauth2.device_endpoint), 0, 0, 0 },
	{ "oauth2_ca_file", CONF_OAUTH2_CA_FILE, K_STR, A(oauth2.ca_file),
	    0, 0, 0 },
	{ "token_command", CONF_TOKEN_COMMAND, K_STR, A(oauth2.token_command),
	    0, 0, F_RAW | F_NONBLANK },
	{ "ham_grace", CONF_HAM_GRACE, K_UINT, A(ham_grace), 0, 36500, 0 },
	{ NULL, CONF_NKEYS, K_STR, 0, 0, 0, 0 }
};

static const char *const tls_names[] = { "implicit", "starttls", "none",
	NULL };
static const char *const auth_names[] = { "login", "plain", "xoauth2",
	"oauth2", NULL };
static const char *const bounce_names[] = { "keep", "backscatter", NULL };

static const struct keydef *
find_key(const struct keydef *tab, const char *name)
{
	for (; tab->name != NULL; tab++)
		if (strcmp(tab->name, name) == 0)
			return tab;
	return NULL;
}

const char *
conf_key_name(enum conf_key key)
{
	const struct keydef *kd;

	for (kd = global_keys; kd->name != NULL; kd++)
		if (kd->key == key)
			return kd->name;
	for (kd = account_keys; kd->name != NULL; kd++)
		if (kd->key == key)
			return kd->name;
	for (kd = limits_keys; kd->name != NULL; kd++)
		if (kd->key == key)
			return kd->name;
	return "?";
}

/* ------------------------------------------------------------------ */
/* Values.                                                              */

/* Is s well-formed UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF)? */
static int
utf8_ok(const unsigned char *s)
{
	unsigned c, n, i, min;

	while ((c = *s++) != 0) {
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			min = 0x80;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			min = 0x800;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			min = 0x10000;
			c &= 0x07;
		} else
			return 0;
		for (i = 0; i < n; i++, s++) {
			if ((*s & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (*s & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

/* Checks one string value of key kd; returns 0 if it may be kept. */
static int
check_str(struct conf_loader *L, const struct keydef *kd, unsigned line,
    const char *s)
{
	const unsigned char *p;

	if (s[0] == '\0' && (kd->flags & F_EMPTYDEF) == 0) {
		conf_lerr(L, line, "%s: must not be empty", kd->name);
		return -1;
	}
	if ((kd->flags & F_NONBLANK) && s[0] != '\0' &&
	    s[strspn(s, " \t\r\n")] == '\0') {
		conf_lerr(L, line, "%s: holds only blanks", kd->name);
		return -1;
	}
	if ((kd->flags & F_LINE) && strpbrk(s, "\r\n") != NULL) {
		conf_lerr(L, line, "%s: holds a line break", kd->name);
		return -1;
	}
	if (kd->flags & F_RAW)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			conf_lerr(L, line, "%s: holds a control character",
			    kd->name);
			return -1;
		}
	if (!utf8_ok((const unsigned char *)s)) {
		conf_lerr(L, line, "%s: not valid UTF-8", kd->name);
		return -1;
	}
	return 0;
}

void
conf_list_free(struct conf_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A string, or a list or array of strings. */
static void
get_list(struct conf_loader *L, const struct keydef *kd, config_setting_t *s,
    struct conf_list *l)
{
	config_setting_t *e;
	int	 i, n, type = config_setting_type(s);

	if (type == CONFIG_TYPE_STRING)
		n = 1;
	else if (type == CONFIG_TYPE_LIST || type == CONFIG_TYPE_ARRAY)
		n = config_setting_length(s);
	else
		n = -1;
	for (i = 0; i < n; i++) {
		e = type == CONFIG_TYPE_STRING ? s :
		    config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			break;
	}
	if (i < n || n < 0) {
		conf_lerr(L, conf_line(s), "%s: expected a string or a list of "
		    "strings", kd->name);
		return;
	}
	if (n == 0 && (kd->flags & F_NONEMPTY)) {
		conf_lerr(L, conf_line(s), "%s: must not be an empty list",
		    kd->name);
		return;
	}
	l->v = calloc((size_t)n + 1, sizeof(*l->v));
	if (l->v == NULL) {
		L->oom = L->failed = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		e = type == CONFIG_TYPE_STRING ? s :
		    config_setting_get_elem(s, (unsigned)i);
		if (check_str(L, kd, conf_line(e),
		    config_setting_get_string(e)) == -1)
			continue;
		l->v[l->n] = conf_strdup(L, config_setting_get_string(e));
		if (l->v[l->n] != NULL)
			l->n++;
	}
}

static int
get_enum(struct conf_loader *L, const struct keydef *kd, config_setting_t *s,
    const char *const *names)
{
	const char *v = NULL;
	int	 i;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(v, names[i]) == 0)
				return i;
	}
	if (names[2] == NULL)
		conf_lerr(L, conf_line(s), "%s: expected \"%s\" or \"%s\"",
		    kd->name, names[0], names[1]);
	else if (names[3] == NULL)
		conf_lerr(L, conf_line(s),
		    "%s: expected \"%s\", \"%s\" or \"%s\"", kd->name,
		    names[0], names[1], names[2]);
	else
		conf_lerr(L, conf_line(s),
		    "%s: expected \"%s\", \"%s\", \"%s\" or \"%s\"",
		    kd->name, names[0], names[1], names[2], names[3]);
	return -1;
}

/* Stores setting s, of key kd, into the struct at base. */
static void
get_value(struct conf_loader *L, const struct keydef *kd, config_setting_t *s,
    void *base)
{
	void	*p = (char *)base + kd->off;
	int	 type = config_setting_type(s), e;
	long long v;

	switch (kd->kind) {
	case K_STR:
		if (type != CONFIG_TYPE_STRING)
			conf_lerr(L, conf_line(s), "%s: expected a string",
			    kd->name);
		else if (check_str(L, kd, conf_line(s),
		    config_setting_get_string(s)) == 0 &&
		    config_setting_get_string(s)[0] != '\0')
			*(char **)p = conf_strdup(L,
			    config_setting_get_string(s));
		break;
	case K_LIST:
		get_list(L, kd, s, p);
		break;
	case K_UINT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			conf_lerr(L, conf_line(s), "%s: expected an integer",
			    kd->name);
			break;
		}
		v = config_setting_get_int64(s);
		if (v < kd->min || v > kd->max)
			conf_lerr(L, conf_line(s), "%s: %lld is out of range "
			    "(%lld..%lld)", kd->name, v, kd->min, kd->max);
		else
			*(unsigned *)p = (unsigned)v;
		break;
	case K_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			conf_lerr(L, conf_line(s), "%s: expected true or false",
			    kd->name);
		else
			*(int *)p = config_setting_get_bool(s) != 0;
		break;
	case K_TLS:
		if ((e = get_enum(L, kd, s, tls_names)) >= 0)
			*(enum conf_tls *)p = (enum conf_tls)e;
		break;
	case K_AUTH:
		if ((e = get_enum(L, kd, s, auth_names)) >= 0)
			*(enum conf_auth *)p = (enum conf_auth)e;
		break;
	case K_BOUNCE:
		if ((e = get_enum(L, kd, s, bounce_names)) >= 0)
			*(enum conf_bounce *)p = (enum conf_bounce)e;
		break;
	case K_OPROVIDER:
		if ((e = get_enum(L, kd, s, conf_oauth2_providers)) >= 0)
			*(enum conf_oauth2_provider *)p =
			    (enum conf_oauth2_provider)e;
		break;
	case K_OFLOW:
		if ((e = get_enum(L, kd, s, conf_oauth2_flows)) >= 0)
			*(enum conf_oauth2_flow *)p =
			    (enum conf_oauth2_flow)(e + 1);
		break;
	case K_OMECH:
		if ((e = get_enum(L, kd, s, conf_oauth2_mechs)) >= 0)
			*(enum conf_oauth2_mech *)p = (enum conf_oauth2_mech)e;
		break;
	case K_ACCOUNTS:
	case K_LIMITS:
		break;
	}
}

int
conf_member(struct conf_loader *L, config_setting_t *m, int level,
    void *base, unsigned *lines)
{
	static const struct keydef *const tabs[] = { global_keys,
	    account_keys, limits_keys };
	static const char *const in[] = { "", " in account", " in limits" };
	const struct keydef *kd;

	if (config_setting_source_file(m) != NULL) {
		if (!L->include_said)
			conf_lerr(L, 0, "@include is not supported");
		L->include_said = 1;
		return -1;
	}
	kd = find_key(tabs[level], config_setting_name(m));
	if (kd == NULL) {
		conf_lerr(L, conf_line(m), "unknown setting \"%s\"%s",
		    config_setting_name(m), in[level]);
		return -1;
	}
	lines[kd->key] = conf_line(m);
	get_value(L, kd, m, base);
	return (int)kd->key;
}

void
conf_limits(struct conf_loader *L, struct conf *c, config_setting_t *s)
{
	int	 i, n;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_lerr(L, conf_line(s), "limits: expected a group { ... }");
		return;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++)
		conf_member(L, config_setting_get_elem(s, (unsigned)i),
		    CONF_LEVEL_LIMITS, &c->limits, c->lines);
}
