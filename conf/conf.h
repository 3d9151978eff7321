/*
 * conf: one user's imapsift configuration, read from a libconfig file into
 * plain structs.
 *
 * The module checks every key it reads: unknown keys, wrong types, values
 * out of range, missing required keys, and the rules that tie keys together
 * (one of password and password_command, xoauth2 only with a command,
 * plaintext only to a loopback host, account names unique).  A file that
 * holds a password must not be readable or writable by group or others.
 * It never logs, prints or exits; every problem found in one pass comes
 * back as text.  It does not run password_command, resolve default paths
 * or look at the server: those are the agent's business.
 *
 * Ownership, once for the whole header: `const char *` arguments are
 * borrowed and never kept.  Everything reachable from a struct conf
 * (strings, lists, accounts) belongs to it and stays valid until
 * conf_free.  Optional strings are NULL when unset.
 *
 * Lines: every setting keeps the line it was read from in lines[key]
 * (0 when the key was not in the file and the default applies), so the
 * agent can report "path:line: message" about a value at run time.
 */
#ifndef IMAPSIFT_CONF_H
#define IMAPSIFT_CONF_H

#include <stddef.h>

/* Every key the file may hold; the index into lines[]. */
enum conf_key {
	/* global */
	CONF_STORE,
	CONF_RULES,
	CONF_COUNTRY,
	CONF_ACCOUNTS,
	CONF_MAX_RULE_FILE_BYTES,
	/* per account (unknown_bounce also global) */
	CONF_UNKNOWN_BOUNCE,
	CONF_NAME,
	CONF_HOST,
	CONF_PORT,
	CONF_TLS,
	CONF_CA_FILE,
	CONF_USER,
	CONF_PASSWORD,
	CONF_PASSWORD_COMMAND,
	CONF_AUTH,
	CONF_ADDRESSES,
	CONF_WATCH,
	CONF_SENT,
	CONF_JUNK,
	CONF_BACKSCATTER,
	CONF_FIRST_RUN_DAYS,
	CONF_MAX_FETCH_BYTES,
	CONF_DRY_RUN,
	CONF_TIMEOUT,
	CONF_IDLE_REFRESH,
	CONF_POLL_INTERVAL,
	CONF_HARVEST_INTERVAL,
	CONF_IDLE_POLL,
	/* per account, auth = "oauth2" (conf-oauth2.c) */
	CONF_OAUTH2_PROVIDER,
	CONF_OAUTH2_FLOW,
	CONF_OAUTH2_MECHANISM,
	CONF_OAUTH2_CLIENT_ID,
	CONF_OAUTH2_CLIENT_SECRET,
	CONF_OAUTH2_SCOPES,
	CONF_OAUTH2_AUTHORIZATION_ENDPOINT,
	CONF_OAUTH2_TOKEN_ENDPOINT,
	CONF_OAUTH2_DEVICE_ENDPOINT,
	CONF_OAUTH2_CA_FILE,
	CONF_TOKEN_COMMAND,
	/* in the global limits group */
	CONF_LIMITS,
	CONF_MAX_PARSE_BYTES,
	CONF_MAX_MIME_DEPTH,
	CONF_MAX_MIME_PARTS,
	CONF_MAX_URLS,
	CONF_MAX_PHONES,
	CONF_MAX_TEXT_BYTES,
	CONF_MAX_HTML_DEPTH,
	CONF_REGEX_MATCH_LIMIT,
	CONF_REGEX_DEPTH_LIMIT,
	/* learning: learn_expiry global, the others per account */
	CONF_LEARN_EXPIRY,
	CONF_LEARN,
	CONF_LEARN_INTERVAL,
	CONF_HAM,
	CONF_FEEDS,		/* the feeds list (conf-feeds.c) */
	CONF_HAM_GRACE,
	/* URI DNS blocklists, global (conf-dnsbl.c) */
	CONF_DNSBL,		/* the zones list */
	CONF_MAX_DNSBL_QUERIES,
	CONF_DNSBL_TIMEOUT,
	CONF_DNSBL_COOLDOWN,
	CONF_DNS_SERVER,
	CONF_NKEYS
};

enum conf_tls {
	CONF_TLS_IMPLICIT,	/* TLS from the first byte (port 993) */
	CONF_TLS_STARTTLS,	/* STARTTLS before any credential (port 143) */
	CONF_TLS_NONE		/* plaintext; only to a loopback host */
};

enum conf_auth {
	CONF_AUTH_LOGIN,
	CONF_AUTH_PLAIN,	/* AUTHENTICATE PLAIN */
	CONF_AUTH_XOAUTH2,	/* token from password_command */
	CONF_AUTH_OAUTH2	/* imapsift login; the oauth2_* keys */
};

/* auth = "oauth2": the authorization server and how to sign in.  The
 * provider presets fill in what the file leaves out: endpoints, scopes,
 * flow and mechanism (the agent's oauth2.c holds their values). */
enum conf_oauth2_provider {
	CONF_OAUTH2_GENERIC,	/* every endpoint from the file */
	CONF_OAUTH2_GOOGLE,
	CONF_OAUTH2_MICROSOFT
};
enum conf_oauth2_flow {
	CONF_OAUTH2_FLOW_DEFAULT,	/* the provider's (generic: code if
					 * an authorization endpoint) */
	CONF_OAUTH2_FLOW_CODE,		/* RFC 6749 + PKCE, loopback */
	CONF_OAUTH2_FLOW_DEVICE		/* RFC 8628 */
};
enum conf_oauth2_mech {
	CONF_OAUTH2_MECH_XOAUTH2,
	CONF_OAUTH2_MECH_OAUTHBEARER	/* RFC 7628 */
};


enum conf_bounce {
	CONF_BOUNCE_KEEP,	/* a bounce of unknown origin stays put */
	CONF_BOUNCE_BACKSCATTER	/* ... or counts as backscatter */
};

/* A list of strings as written, in order. */
struct conf_list {
	char	**v;
	size_t	 n;
};

/* Defaults and limits (inclusive) of the numeric keys. */
#define CONF_DEF_COUNTRY		1
#define CONF_DEF_MAX_RULE_FILE_BYTES	67108864 /* 4096..1073741824 */
#define CONF_DEF_PORT_IMPLICIT		993
#define CONF_DEF_PORT_PLAIN		143
#define CONF_DEF_FIRST_RUN_DAYS		30	/* 0..36500 */
#define CONF_DEF_MAX_FETCH_BYTES	262144	/* 4096..67108864 */
#define CONF_DEF_TIMEOUT		60	/* 1..3600 s */
#define CONF_DEF_IDLE_REFRESH		600	/* 60..1740 s */
#define CONF_DEF_POLL_INTERVAL		300	/* 10..86400 s */
#define CONF_DEF_HARVEST_INTERVAL	3600	/* 60..604800 s */
#define CONF_DEF_BACKSCATTER		"Backscatter"
/* The limits group; the defaults are rules/rules.h's RULES_DEF_* (the
 * agent checks at compile time that they agree). */
#define CONF_DEF_MAX_PARSE_BYTES	524288	/* 16384..67108864 */
#define CONF_DEF_MAX_MIME_DEPTH		16	/* 1..48 */
#define CONF_DEF_MAX_MIME_PARTS		256	/* 1..10000 */
#define CONF_DEF_MAX_URLS		512	/* 1..4096 */
#define CONF_DEF_MAX_PHONES		128	/* 1..4096 */
#define CONF_DEF_MAX_TEXT_BYTES		1048576	/* 4096..67108864 */
#define CONF_DEF_MAX_HTML_DEPTH		256	/* 1..4096 */
#define CONF_DEF_REGEX_MATCH_LIMIT	100000	/* 1000..10000000 */
#define CONF_DEF_REGEX_DEPTH_LIMIT	1000	/* 10..100000 */
#define CONF_DEF_WATCH			"INBOX"
#define CONF_DEF_LEARN_EXPIRY		90	/* 0..36500 days; 0: never */
#define CONF_DEF_LEARN_INTERVAL		300	/* 10..86400 s */
#define CONF_DEF_HAM_GRACE		7	/* 0..36500 days; 0: off */
#define CONF_NAME_MAX			64
#define CONF_MAX_FILE_BYTES		16777216u	/* a bigger file is refused */

struct conf_oauth2 {
	enum conf_oauth2_provider provider;
	enum conf_oauth2_flow flow;
	enum conf_oauth2_mech mechanism;
	char	*client_id;
	char	*client_secret;		/* or NULL (public client) */
	struct conf_list scopes;	/* empty: the provider's */
	char	*authorization_endpoint;	/* NULL: the provider's */
	char	*token_endpoint;
	char	*device_endpoint;
	char	*ca_file;		/* for the endpoints; NULL: system */
	char	*token_command;		/* or NULL: the token file */
};

struct conf_account {
	char	*name;		/* [A-Za-z0-9._@+-], not starting with '.' */
	char	*host;
	unsigned port;		/* 993 for implicit TLS, else 143 */
	enum conf_tls tls;	/* default implicit */
	char	*ca_file;	/* or NULL: the system trust store */
	char	*user;
	char	*password;	/* exactly one of password and */
	char	*password_command;	/* password_command is set; the
				 * command is for /bin/sh, not yet run */
	enum conf_auth auth;	/* default login */
	struct conf_oauth2 oauth2;	/* auth = "oauth2" only */
	struct conf_list addresses;	/* default { user } if it has '@' */
	struct conf_list watch;	/* mailboxes, UTF-8; default { "INBOX" } */
	struct conf_list sent;	/* empty: every \Sent mailbox */
	char	*junk;		/* NULL: the \Junk mailbox, else "Junk" */
	char	*backscatter;	/* default "Backscatter" */
	unsigned first_run_days;
	unsigned max_fetch_bytes;
	int	 dry_run;	/* 0 or 1 */
	enum conf_bounce unknown_bounce;	/* the global one if unset */
	unsigned timeout;	/* seconds per IMAP command */
	unsigned idle_refresh;	/* seconds before IDLE is re-issued */
	unsigned poll_interval;	/* seconds between polls without IDLE */
	unsigned harvest_interval;	/* seconds between Sent harvests */
	int	 learn;		/* learn from Junk and kept mail; default 1 */
	unsigned learn_interval;	/* seconds between Junk harvests */
	struct conf_list ham;	/* folders whose mail is ham evidence */
	unsigned idle_poll;	/* seconds between checks in IDLE; 0: none.
				 * Unset (lines[CONF_IDLE_POLL] 0): the agent
				 * picks (servers known to push late) */
	unsigned ham_grace;	/* days kept in a watched mailbox: ham; 0 off */
	unsigned line;		/* where the account's group opens */
	unsigned lines[CONF_NKEYS];
};

/*
 * What one message may cost (the global `limits = { ... }` group): every
 * member is filled, with its default when the file does not set it.  The
 * agent copies them into a struct rules_limits.
 */
struct conf_limits {
	unsigned max_parse_bytes;	/* bytes of a message parsed */
	unsigned max_mime_depth;	/* MIME and message/rfc822 nesting */
	unsigned max_mime_parts;	/* MIME parts walked */
	unsigned max_urls;		/* URLs looked up per message */
	unsigned max_phones;		/* numbers looked up per message */
	unsigned max_text_bytes;	/* decoded visible text per message */
	unsigned max_html_depth;	/* HTML element nesting tracked */
	unsigned regex_match_limit;	/* PCRE2 match limit per rule */
	unsigned regex_depth_limit;	/* PCRE2 depth limit per rule */
};

/*
 * Subscribed rule list feeds (the global `feeds = ( { ... } )` list,
 * conf-feeds.c).  The agent fetches each into a list file of its kind.
 */
enum conf_feed_kind {
	CONF_FEED_DOMAINS,	/* a .domains file */
	CONF_FEED_HOSTS,	/* a hosts file: "0.0.0.0 name..." lines */
	CONF_FEED_URLS,		/* one URL per line: reduced to its host */
	CONF_FEED_PHONES,
	CONF_FEED_PHRASES
};
#define CONF_DEF_FEED_INTERVAL	300		/* 60..604800 s */
#define CONF_DEF_FEED_MAX_BYTES	67108864	/* 1024..1073741824 */
#define CONF_DEF_FEED_TIMEOUT	60		/* 1..3600 s */
enum conf_sig_kind {
	CONF_SIG_NONE,		/* no signature key */
	CONF_SIG_MINISIGN,	/* a .minisig file: "ED" or legacy "Ed" */
	CONF_SIG_SIGNIFY	/* a signify(1) .sig file: "Ed" */
};

struct conf_feed {
	char	*name;		/* default: from the URL; [A-Za-z0-9._-] */
	char	*url;		/* https://... or file:///... */
	enum conf_feed_kind kind;
	unsigned interval;	/* seconds between fetches */
	double	 weight;	/* the list's @weight; default 1 */
	char	*sha256;	/* or NULL: 64 lowercase hex digits */
	char	*ca_file;	/* or NULL: the system trust store */
	char	*signature;	/* or NULL: the detached signature's URL */
	char	*pubkey;	/* with signature: the key's base64 line */
	enum conf_sig_kind sig_kind;	/* with signature: not NONE */
	unsigned max_bytes;	/* larger downloads are refused */
	unsigned timeout;	/* seconds for the whole transfer */
	unsigned line;		/* where its group opens */
};

/* The kind's name as written ("domains", "hosts-file", ...). */
const char *conf_feed_kind_name(enum conf_feed_kind kind);
/* "minisign", "signify" (or "none"). */
const char *conf_sig_kind_name(enum conf_sig_kind kind);

/*
 * URI DNS blocklists (the global `dnsbl = ( { ... } )` list,
 * conf-dnsbl.c): zones the agent asks about the registrable domains of
 * a message's URLs.  Each zone's codes and mask are filled with its
 * kind's defaults when the file gives neither.
 */
enum conf_dnsbl_kind {
	CONF_DNSBL_GENERIC,	/* any 127.0.0.2..127.255.255.251 counts */
	CONF_DNSBL_DBL,		/* Spamhaus DBL: 127.0.1.2..127.0.1.199 */
	CONF_DNSBL_SURBL,	/* multi.surbl.org: bitmask 127.0.0.X */
	CONF_DNSBL_URIBL	/* multi.uribl.com: bitmask 127.0.0.X */
};
#define CONF_DEF_MAX_DNSBL_QUERIES	20	/* 0..1000 per message */
#define CONF_DEF_DNSBL_TIMEOUT		2000	/* 50..60000 ms per query */
#define CONF_DEF_DNSBL_COOLDOWN		3600	/* 60..604800 s */
#define CONF_DEF_SURBL_MASK		0xd8	/* PH 8, MW 16, ABUSE 64, CR 128 */
/* URIBL black 2 only: not grey 4 (bulk senders with legitimate mail
 * too) nor red 8 (new domains seen in mail, not yet judged), which
 * SpamAssassin scores 0.001 and rspamd below its add-header threshold. */
#define CONF_DEF_URIBL_MASK		0x02

/* An inclusive range of IPv4 answers, host byte order. */
struct conf_dnsbl_range {
	unsigned long lo, hi;
};

struct conf_dnsbl {
	char	*zone;		/* e.g. "dbl.spamhaus.org", lowercase */
	enum conf_dnsbl_kind kind;
	char	*dqs_key;	/* or NULL: DOMAIN.KEY.ZONE when set */
	struct conf_dnsbl_range *codes;	/* answers that count */
	size_t	 ncodes;
	unsigned mask;		/* last-octet bits that count; 0: none */
	double	 weight;	/* added to the score on a hit; default 1 */
	unsigned line;		/* where its group opens */
};

/* The kind's name as written ("dbl", "surbl", "uribl", "generic"). */
const char *conf_dnsbl_kind_name(enum conf_dnsbl_kind kind);

struct conf {
	char	*path;		/* the file read, as given */
	char	*store;		/* NULL (or "" in the file): agent default */
	struct conf_list rules;	/* rule list dirs or files; may be empty */
	unsigned country;	/* calling code for national numbers, 1..999 */
	unsigned max_rule_file_bytes;	/* per rule list file */
	enum conf_bounce unknown_bounce;	/* default keep */
	unsigned learn_expiry;	/* days a learned entry stays idle; 0 never */
	struct conf_limits limits;	/* lines in lines[CONF_MAX_...] */
	struct conf_account *accounts;	/* in file order; may be none */
	size_t	 naccounts;
	struct conf_feed *feeds;	/* in file order; may be none */
	size_t	 nfeeds;
	struct conf_dnsbl *dnsbl;	/* in file order; may be none */
	size_t	 ndnsbl;
	unsigned max_dnsbl_queries;	/* DNS queries per message at most */
	unsigned dnsbl_timeout;	/* ms per query */
	unsigned dnsbl_cooldown;	/* s a zone rests after an error answer */
	char	*dns_server;	/* "host:port" or "[v6]:port", or NULL:
				 * the system's resolvers */
	unsigned lines[CONF_NKEYS];
};

/*
 * Reads and checks the file at path.  On success returns 0 and sets
 * *conf_r (free with conf_free).  On failure returns -1, sets *conf_r to
 * NULL and, when errs_r is not NULL, sets *errs_r to every problem found,
 * one "path:line: message\n" line each ("path: message\n" for a problem
 * with the whole file), malloc'd, caller frees; *errs_r is NULL on success.
 * Lines come in line order, problems with the whole file first.  A
 * libconfig syntax error stops the reading and is the only line.
 */
int	conf_load(struct conf **conf_r, const char *path, char **errs_r);
/*
 * The same for a file the caller has open (fd, read from its start
 * through a duplicate; fd stays the caller's, open, and may be read
 * again); name stands for the path in struct conf and in every error.
 */
int	conf_load_fd(struct conf **conf_r, int fd, const char *name,
	    char **errs_r);

/* Frees *conf and everything in it, and sets *conf to NULL. */
void	conf_free(struct conf **conf);

/* The account with this name, or NULL. */
const struct conf_account *conf_account(const struct conf *conf,
	    const char *name);

/*
 * Is host, as written in a config, a loopback host by its spelling:
 * localhost or localhost. (any case), an IPv4 address in 127.0.0.0/8,
 * ::1 or ::ffff:127.x.y.z, IPv6 ones also in brackets?  The one test for
 * tls = "none", shared by conf_load (check) and the agent's connect,
 * which also refuses every resolved address outside loopback.
 */
int	conf_host_loopback(const char *host);

/* The key's name as written in the file, e.g. "max_fetch_bytes". */
const char *conf_key_name(enum conf_key key);

/* ------------------------------------------------------------------ */
/* For the files of this module only (conf.c, conf-keys.c,             */
/* conf-account.c); the agent has no use for them.                     */

struct config_setting_t;	/* libconfig's, kept out of this header */

/* One error line, kept until all are sorted by line. */
struct conf_err {
	unsigned line;
	size_t	 seq;		/* order of report, for a stable sort */
	char	*text;		/* "path:line: message\n" */
};

/* State of one conf_load call. */
struct conf_loader {
	const char *path;	/* for "path:line: " */
	struct conf_err *err;	/* the lines so far */
	size_t	 nerr, errcap;
	int	 failed;
	int	 oom;		/* errs becomes "path: out of memory" */
	int	 include_said;	/* "@include is not supported" given */
};

/* Adds "path:line: message\n" ("path: message\n" for line 0) to the
 * loader's errors and marks the load failed.  (conf.c) */
void	conf_lerr(struct conf_loader *L, unsigned line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* strdup that marks the load out of memory on failure.  (conf.c) */
char	*conf_strdup(struct conf_loader *L, const char *s);
/* The line of setting s in the file.  (conf.c) */
unsigned conf_line(const struct config_setting_t *s);
/*
 * A list of groups, the value s of key (accounts, feeds, dnsbl).
 * conf_groups_alloc: room (zeroed) for as many elements of size bytes as
 * s holds; NULL for an empty list, after an error when s is not a list
 * (shape: what it should look like) or memory ran out.
 * conf_groups_each: each(L, c, g) for each group g of s in order, which
 * fills the next element and counts it; an element that is not a group,
 * or comes from an included file, is an error.  (conf.c)
 */
void	*conf_groups_alloc(struct conf_loader *L, struct config_setting_t *s,
	    const char *key, const char *shape, size_t size);
void	conf_groups_each(struct conf_loader *L, struct conf *c,
	    struct config_setting_t *s, const char *key,
	    void (*each)(struct conf_loader *, struct conf *,
	    struct config_setting_t *));

/* The groups whose members conf_member reads. */
#define CONF_LEVEL_GLOBAL	0	/* the root: base is a struct conf */
#define CONF_LEVEL_ACCOUNT	1	/* base is a struct conf_account */
#define CONF_LEVEL_LIMITS	2	/* base is a struct conf_limits */

/*
 * Reads setting m, a member of the group named by level (above), into
 * the struct at base and its line into lines[key].  Returns the key, or
 * -1 after reporting an unknown key or a setting from an included file.
 * For CONF_ACCOUNTS and CONF_LIMITS only the line is stored: the caller
 * reads the list or group.  (conf-keys.c)
 */
int	conf_member(struct conf_loader *L, struct config_setting_t *m,
	    int level, void *base, unsigned *lines);
/* Reads the limits group s into c->limits, over the defaults already
 * there.  (conf-keys.c) */
void	conf_limits(struct conf_loader *L, struct conf *c,
	    struct config_setting_t *s);
/* Frees a list's strings and array and empties it.  (conf-keys.c) */
void	conf_list_free(struct conf_list *l);
/* The checks of the oauth2_* keys of account a, and the freeing of its
 * oauth2 member.  (conf-oauth2.c) */
void	conf_oauth2_check(struct conf_loader *L,
	    const struct conf_account *a, const char *who);
void	conf_oauth2_free(struct conf_oauth2 *o);
/* The oauth2_provider, oauth2_flow and oauth2_mechanism value names, in
 * enum order, NULL-terminated.  (conf-oauth2.c) */
extern const char *const conf_oauth2_providers[];
extern const char *const conf_oauth2_flows[];
extern const char *const conf_oauth2_mechs[];
/* Reads the feeds list s into c->feeds; frees them.  (conf-feeds.c) */
void	conf_feeds(struct conf_loader *L, struct conf *c,
	    struct config_setting_t *s);
void	conf_feeds_free(struct conf *c);
/* Reads the dnsbl list s into c->dnsbl; checks dns_server; frees them.
 * (conf-dnsbl.c) */
void	conf_dnsbl(struct conf_loader *L, struct conf *c,
	    struct config_setting_t *s);
void	conf_dnsbl_check(struct conf_loader *L, struct conf *c);
void	conf_dnsbl_free(struct conf *c);
/* Reads the accounts list s into c->accounts.  (conf-account.c) */
void	conf_accounts(struct conf_loader *L, struct conf *c,
	    struct config_setting_t *s);

#endif
