/*
 * test_conf.c: reading and checking config files (conf/).
 *
 * Good configs in tests/fixtures/conf/good are loaded and every field is
 * compared; each broken config in tests/fixtures/conf/bad has a
 * NAME.expected file with the exact "file:line: message" lines the load
 * must report.  File modes are set here on copies in a temp dir, since git
 * keeps no modes.  Paths are relative to the source tree: run from its
 * top, or set TOP.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "tests/unit/test.h"

#define GOOD	"tests/fixtures/conf/good/"
#define BAD	"tests/fixtures/conf/bad/"

static char tmpdir[] = "/tmp/test_conf.XXXXXX";

static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 n;
	size_t	 got;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	got = fread(buf, 1, (size_t)n, fp);
	buf[got] = '\0';
	fclose(fp);
	return buf;
}

/* Writes len bytes of text to tmpdir/name with mode; returns the path
 * (static). */
static const char *
put_n(const char *name, const char *text, size_t len, mode_t mode)
{
	static char path[256];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		T_FAILF("cannot write %s", path);
		return path;
	}
	fwrite(text, 1, len, fp);
	fclose(fp);
	if (chmod(path, mode) == -1)
		T_FAILF("cannot chmod %s", path);
	return path;
}

static const char *
put(const char *name, const char *text, mode_t mode)
{
	return put_n(name, text, strlen(text), mode);
}

/* Loads path, which must load cleanly. */
static struct conf *
load_ok(const char *path)
{
	struct conf *c = NULL;
	char	*errs = NULL;

	if (conf_load(&c, path, &errs) != 0 || c == NULL)
		T_FAILF("%s: did not load:\n%s", path, errs ? errs : "");
	T_ASSERT(errs == NULL);
	free(errs);
	return c;
}

/* Loads path, which must fail with exactly the errors want. */
static void
load_bad(const char *path, const char *want)
{
	struct conf *c = NULL;
	char	*errs = NULL;

	if (conf_load(&c, path, &errs) != -1)
		T_FAILF("%s: loaded, want errors", path);
	T_ASSERT(c == NULL);
	if (errs == NULL || want == NULL || strcmp(errs, want) != 0)
		T_FAILF("%s: got\n%swant\n%s", path, errs ? errs : "(none)\n",
		    want ? want : "(no .expected)\n");
	free(errs);
	conf_free(&c);
}

static int
list_is(const struct conf_list *l, const char *const *want, size_t n)
{
	size_t	 i;

	if (l->n != n || (n > 0 && l->v == NULL))
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(l->v[i], want[i]) != 0)
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */

static void
test_defaults(void)
{
	static const char *const inbox[] = { "INBOX" };
	static const char *const bob[] = { "bob@example.com" };
	struct conf *c = load_ok(GOOD "minimal.conf");
	const struct conf_account *a;
	size_t	 k;

	if (c == NULL)
		return;
	T_STREQ(c->path, GOOD "minimal.conf");
	T_ASSERT(c->store == NULL);
	T_INTEQ(c->rules.n, 0);
	T_INTEQ(c->country, 1);
	T_INTEQ(c->unknown_bounce, CONF_BOUNCE_KEEP);
	T_INTEQ(c->naccounts, 1);
	a = &c->accounts[0];
	T_STREQ(a->name, "work");
	T_STREQ(a->host, "imap.example.com");
	T_INTEQ(a->port, 993);
	T_INTEQ(a->tls, CONF_TLS_IMPLICIT);
	T_ASSERT(a->ca_file == NULL);
	T_STREQ(a->user, "bob@example.com");
	T_ASSERT(a->password == NULL);
	T_STREQ(a->password_command, "pass show work");
	T_INTEQ(a->auth, CONF_AUTH_LOGIN);
	T_ASSERT(list_is(&a->addresses, bob, 1));
	T_ASSERT(list_is(&a->watch, inbox, 1));
	T_INTEQ(a->sent.n, 0);
	T_ASSERT(a->junk == NULL);
	T_STREQ(a->backscatter, "Backscatter");
	T_INTEQ(a->first_run_days, 30);
	T_INTEQ(a->max_fetch_bytes, 262144);
	T_INTEQ(a->dry_run, 0);
	T_INTEQ(a->unknown_bounce, CONF_BOUNCE_KEEP);
	T_INTEQ(a->timeout, 60);
	T_INTEQ(a->idle_refresh, 600);
	T_INTEQ(a->poll_interval, 300);
	T_INTEQ(a->harvest_interval, 3600);
	T_INTEQ(a->line, 3);
	T_INTEQ(a->lines[CONF_NAME], 4);
	T_INTEQ(a->lines[CONF_PASSWORD_COMMAND], 7);
	for (k = CONF_AUTH; k < CONF_NKEYS; k++)
		T_INTEQ(a->lines[k], 0);
	T_INTEQ(c->lines[CONF_ACCOUNTS], 2);
	T_INTEQ(c->lines[CONF_STORE], 0);
	T_ASSERT(conf_account(c, "work") == a);
	T_ASSERT(conf_account(c, "Work") == NULL);
	conf_free(&c);
	T_ASSERT(c == NULL);
	conf_free(&c);
	conf_free(NULL);
}

static void
test_full(void)
{
	static const char *const rules[] = { "/etc/imapsift/rules",
	    "rules/lists" };
	static const char *const addrs[] = { "carol@example.org",
	    "c@example.net" };
	static const char *const watch[] = { "INBOX", "Lists/Ünïcode" };
	static const char *const sent[] = { "Sent", "Sent Messages" };
	static const char *const inbox[] = { "INBOX" };
	struct conf *c = load_ok(GOOD "full.conf");
	const struct conf_account *a, *b;

	if (c == NULL)
		return;
	T_STREQ(c->store, "/var/tmp/imapsift-state");
	T_ASSERT(list_is(&c->rules, rules, 2));
	T_INTEQ(c->country, 44);
	T_INTEQ(c->unknown_bounce, CONF_BOUNCE_BACKSCATTER);
	T_INTEQ(c->lines[CONF_COUNTRY], 4);
	T_INTEQ(c->naccounts, 2);
	a = conf_account(c, "home");
	b = conf_account(c, "second");
	T_ASSERT(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		conf_free(&c);
		return;
	}
	T_STREQ(a->host, "mail.example.org");
	T_INTEQ(a->port, 10143);
	T_INTEQ(a->lines[CONF_PORT], 11);
	T_INTEQ(a->tls, CONF_TLS_STARTTLS);
	T_STREQ(a->ca_file, "/etc/ssl/my-ca.pem");
	T_STREQ(a->user, "carol");
	T_STREQ(a->password_command, "oauth-helper --account home");
	T_INTEQ(a->auth, CONF_AUTH_XOAUTH2);
	T_ASSERT(list_is(&a->addresses, addrs, 2));
	T_ASSERT(list_is(&a->watch, watch, 2));
	T_ASSERT(list_is(&a->sent, sent, 2));
	T_STREQ(a->junk, "Spam");
	T_STREQ(a->backscatter, "Bounces/Junk");
	T_INTEQ(a->first_run_days, 0);
	T_INTEQ(a->max_fetch_bytes, 4096);
	T_INTEQ(a->dry_run, 1);
	T_INTEQ(a->unknown_bounce, CONF_BOUNCE_KEEP);
	T_INTEQ(a->timeout, 3600);
	T_INTEQ(a->idle_refresh, 1740);
	T_INTEQ(a->poll_interval, 10);
	T_INTEQ(a->harvest_interval, 604800);
	T_INTEQ(a->lines[CONF_HARVEST_INTERVAL], 29);
	/* tls none: port 143; a bare string is a one-element list; the
	 * global unknown_bounce is inherited; "" junk is the default. */
	T_INTEQ(b->port, 143);
	T_INTEQ(b->tls, CONF_TLS_NONE);
	T_INTEQ(b->auth, CONF_AUTH_PLAIN);
	T_ASSERT(list_is(&b->watch, inbox, 1));
	T_INTEQ(b->addresses.n, 0);
	T_INTEQ(b->unknown_bounce, CONF_BOUNCE_BACKSCATTER);
	T_ASSERT(b->junk == NULL);
	T_INTEQ(b->lines[CONF_JUNK], 39);
	conf_free(&c);
}

static void
test_loopback_and_empty(void)
{
	struct conf *c = load_ok(GOOD "loopback.conf");

	if (c != NULL)
		T_INTEQ(c->naccounts, 7);
	conf_free(&c);
	c = load_ok(GOOD "empty.conf");
	if (c != NULL) {
		T_INTEQ(c->naccounts, 0);
		T_INTEQ(c->country, 1);
		T_ASSERT(c->accounts == NULL);
		T_ASSERT(conf_account(c, "x") == NULL);
	}
	conf_free(&c);
}

/* One account per OAuth2 provider, with its flow and mechanism keys. */
static void
test_oauth2_accounts(void)
{
	struct conf *c = load_ok(GOOD "oauth2.conf");

	if (c != NULL && c->naccounts == 3) {
		T_INTEQ(c->accounts[0].auth, CONF_AUTH_OAUTH2);
		T_INTEQ(c->accounts[0].oauth2.provider, CONF_OAUTH2_GOOGLE);
		T_INTEQ(c->accounts[1].oauth2.provider, CONF_OAUTH2_MICROSOFT);
		T_INTEQ(c->accounts[1].oauth2.mechanism,
		    CONF_OAUTH2_MECH_OAUTHBEARER);
		T_INTEQ(c->accounts[2].oauth2.provider, CONF_OAUTH2_GENERIC);
		T_INTEQ(c->accounts[2].oauth2.flow, CONF_OAUTH2_FLOW_DEVICE);
	} else
		T_FAILF("oauth2.conf: want 3 accounts");
	conf_free(&c);
}

/* conf/imapsift.conf.example is itself a valid config. */
static void
test_example(void)
{
	struct conf *c = load_ok("conf/imapsift.conf.example");

	if (c == NULL)
		return;
	T_INTEQ(c->naccounts, 1);
	if (c->naccounts == 1) {
		T_ASSERT(c->accounts[0].password_command != NULL);
		T_ASSERT(c->accounts[0].password == NULL);
	}
	conf_free(&c);
}

static void
test_bad_files(void)
{
	static const char *const names[] = {
		"syntax", "dup-key", "unknown-key", "types", "global-types",
		"ranges-low", "ranges-high", "enums", "dup-name",
		"both-passwords", "no-password", "xoauth2", "tls-none",
		"missing", "accounts-group", "accounts-element", "strings",
		"mailboxes", "limits-range", "limits-types", "limits-group",
		"limits-account", "limits-twice", "limits-dup-key",
		"password-command", "unterminated", "dup-accounts",
		"utf8-mailboxes", "binary", "bom", "control-chars",
		"top-level", "password-readable",
	};
	char	 path[256], exp[256], *want;
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), BAD "%s.conf", names[i]);
		snprintf(exp, sizeof(exp), BAD "%s.expected", names[i]);
		/* Only a mode test may fail for its mode: the one whose
		 * password a group may read is loaded 0640. */
		(void)chmod(path, strcmp(names[i], "password-readable") == 0 ?
		    0640 : 0600);
		want = slurp(exp);
		load_bad(path, want);
		free(want);
		(void)chmod(path, 0600);
	}
}

/* The limits group: defaults when absent, each key read and its line
 * kept. */
static void
test_limits(void)
{
	struct conf *c = load_ok(GOOD "minimal.conf");

	if (c != NULL) {
		T_INTEQ(c->limits.max_parse_bytes, CONF_DEF_MAX_PARSE_BYTES);
		T_INTEQ(c->limits.max_mime_depth, CONF_DEF_MAX_MIME_DEPTH);
		T_INTEQ(c->limits.max_mime_parts, CONF_DEF_MAX_MIME_PARTS);
		T_INTEQ(c->limits.max_urls, CONF_DEF_MAX_URLS);
		T_INTEQ(c->limits.max_phones, CONF_DEF_MAX_PHONES);
		T_INTEQ(c->limits.max_text_bytes, CONF_DEF_MAX_TEXT_BYTES);
		T_INTEQ(c->limits.max_html_depth, CONF_DEF_MAX_HTML_DEPTH);
		T_INTEQ(c->limits.regex_match_limit,
		    CONF_DEF_REGEX_MATCH_LIMIT);
		T_INTEQ(c->limits.regex_depth_limit,
		    CONF_DEF_REGEX_DEPTH_LIMIT);
		T_INTEQ(c->lines[CONF_LIMITS], 0);
	}
	conf_free(&c);
	c = load_ok(GOOD "limits.conf");
	if (c == NULL)
		return;
	T_INTEQ(c->limits.max_parse_bytes, 16384);
	T_INTEQ(c->limits.max_mime_depth, 48);
	T_INTEQ(c->limits.max_mime_parts, 10000);
	T_INTEQ(c->limits.max_urls, 1);
	T_INTEQ(c->limits.max_phones, 4096);
	T_INTEQ(c->limits.max_text_bytes, 67108864);
	T_INTEQ(c->limits.max_html_depth, CONF_DEF_MAX_HTML_DEPTH);
	T_INTEQ(c->limits.regex_match_limit, 1000);
	T_INTEQ(c->limits.regex_depth_limit, 100000);
	T_INTEQ(c->lines[CONF_LIMITS], 2);
	T_INTEQ(c->lines[CONF_MAX_URLS], 6);
	T_INTEQ(c->lines[CONF_MAX_HTML_DEPTH], 0);
	T_STREQ(conf_key_name(CONF_REGEX_DEPTH_LIMIT), "regex_depth_limit");
	T_STREQ(conf_key_name(CONF_LIMITS), "limits");
	conf_free(&c);
}

/* A password in a file others may read is refused; a command is not. */
static void
test_secrecy(void)
{
	static const struct {
		const char *fixture;
		mode_t	 mode;
		int	 ok;
	} t[] = {
		{ GOOD "password.conf", 0600, 1 },
		{ GOOD "password.conf", 0400, 1 },
		{ GOOD "password.conf", 0644, 0 },
		{ GOOD "password.conf", 0640, 0 },
		{ GOOD "password.conf", 0620, 0 },
		{ GOOD "password.conf", 0602, 0 },
		{ GOOD "minimal.conf", 0644, 1 },
		{ GOOD "minimal.conf", 0666, 1 },
	};
	struct conf *c;
	char	 want[512], *text, *errs;
	const char *path;
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if ((text = slurp(t[i].fixture)) == NULL) {
			T_FAILF("cannot read %s", t[i].fixture);
			continue;
		}
		path = put("secrecy.conf", text, t[i].mode);
		free(text);
		if (t[i].ok) {
			c = load_ok(path);
			T_ASSERT(c != NULL);
			conf_free(&c);
			continue;
		}
		snprintf(want, sizeof(want), "%s: holds a password but is "
		    "readable by others (chmod 600)\n", path);
		load_bad(path, want);
	}
	/* errs_r may be NULL. */
	c = NULL;
	errs = NULL;
	T_INTEQ(conf_load(&c, GOOD "minimal.conf", NULL), 0);
	conf_free(&c);
	T_INTEQ(conf_load(&c, BAD "types.conf", NULL), -1);
	T_ASSERT(c == NULL && errs == NULL);
}

/* Missing, unreadable and non-regular files; @include. */
static void
test_files(void)
{
	char	 want[512];
	const char *path;

	load_bad(BAD "no-such.conf", BAD "no-such.conf: No such file or "
	    "directory\n");
	snprintf(want, sizeof(want), "%s: not a regular file\n", tmpdir);
	load_bad(tmpdir, want);
	if (geteuid() != 0) {	/* root reads any file */
		path = put("unreadable.conf", "country = 1;\n", 0200);
		snprintf(want, sizeof(want), "%s: Permission denied\n", path);
		load_bad(path, want);
	}
	put("inc.conf", "store = \"x\";\n", 0600);
	snprintf(want, sizeof(want), "country = 1;\n@include \"%s/inc.conf\"\n",
	    tmpdir);
	path = put("includer.conf", want, 0600);
	snprintf(want, sizeof(want), "%s:2: @include is not supported\n",
	    path);
	load_bad(path, want);
}

/* The lists of groups (accounts, feeds, dnsbl): not a list, an element
 * that is not a group (the groups after it still read), empty. */
static void
test_group_lists(void)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "accounts = 5;\n",
		  "2: accounts: expected a list of groups, ( { ... }, ... )\n" },
		{ "feeds = \"x\";\n",
		  "2: feeds: expected a list of groups, ( { ... }, ... )\n" },
		{ "dnsbl = { zone = \"x\"; };\n",
		  "2: dnsbl: expected a list of groups, ( { zone = \"...\"; "
		  "kind = \"...\"; }, ... )\n" },
		{ "feeds = ( \"x\", { name = \"a\"; url = \"http://x.example/\"; } );\n",
		  "2: feeds: element 1 is not a group { ... }\n"
		  "2: feed: url: must start with https:// or file:///\n" },
		{ "dnsbl = ( 3,\n { zone = \"dbl.test\"; kind = \"dbl\"; },\n"
		  " { zone = \"dbl.test\"; kind = \"dbl\"; } );\n",
		  "2: dnsbl: element 1 is not a group { ... }\n"
		  "4: dnsbl: zone \"dbl.test\": duplicate (first at line 3)\n" },
	};
	struct conf *c;
	char	 text[512], want[1024], *w;
	const char *path, *p, *nl;
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "country = 1;\n%s", t[i].text);
		path = put("groups.conf", text, 0600);
		/* each line of want prefixed with the path */
		w = want;
		for (p = t[i].want; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			w += snprintf(w, sizeof(want) - (size_t)(w - want),
			    "%s:%.*s\n", path, (int)(nl - p), p);
		}
		load_bad(path, want);
	}
	path = put("groups.conf", "country = 1;\naccounts = ();\n"
	    "feeds = ();\ndnsbl = ();\n", 0600);
	c = load_ok(path);
	T_ASSERT(c->naccounts == 0 && c->accounts == NULL);
	T_ASSERT(c->nfeeds == 0 && c->feeds == NULL);
	T_ASSERT(c->ndnsbl == 0 && c->dnsbl == NULL);
	conf_free(&c);
}

/*
 * Input that used to hang, eat memory or be cut silently: a FIFO (the
 * open waited for a writer; alarm ends the test if it still does), a
 * NUL byte or \x00 in a string (libconfig ended the value there), a
 * file over CONF_MAX_FILE_BYTES, a last line that is a comment with no
 * newline (libconfig said "syntax error"), a long line (parsed through a
 * FILE, libconfig's scanner rescanned it at every 8 KB read: quadratic).
 */
static void
test_bad_input(void)
{
	static const char nul[] = "accounts = ( { name = \"a\"; "
	    "host = \"localhost\"; tls = \"none\"; user = \"u\";\n"
	    "  password = \"a\0b\"; } );\n";
	struct conf *c;
	char	 path[256], want[512], *big;
	const char *p;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/fifo.conf", tmpdir);
	if (mkfifo(path, 0600) == -1)
		T_FAILF("mkfifo %s", path);
	alarm(20);
	snprintf(want, sizeof(want), "%s: not a regular file\n", path);
	load_bad(path, want);
	alarm(0);

	p = put_n("nul.conf", nul, sizeof(nul) - 1, 0600);
	snprintf(want, sizeof(want), "%s:2: a NUL byte in a string (the "
	    "value would be cut there)\n", p);
	load_bad(p, want);
	p = put("x00-comment.conf", "# a\n\n# b \"\\x00\" c\ncountry = 1;"
	    " /* \"\\x00\n */\n", 0600);	/* comments may say it */
	c = load_ok(p);
	conf_free(&c);
	p = put_n("nul-code.conf", "country = 1;\n\0\n", 15, 0600);
	snprintf(want, sizeof(want), "%s:2: a NUL byte (the value would be "
	    "cut there)\n", p);
	load_bad(p, want);
	p = put("x00.conf", "store = \"/tmp/a\";\nrules = [ \"x\",\n"
	    "  \"a\\X00b\" ];\n", 0600);
	snprintf(want, sizeof(want), "%s:3: \\x00 in a string (the value "
	    "would be cut there)\n", p);
	load_bad(p, want);
	p = put("x41.conf", "store = \"a\\\\x00\\x41\";\n", 0600);
	if ((c = load_ok(p)) != NULL)	/* a backslash, "x00", then \x41 */
		T_STREQ(c->store, "a\\x00A");
	conf_free(&c);

	p = put("comment-end.conf", "country = 44;\n# the end", 0600);
	if ((c = load_ok(p)) != NULL)
		T_INTEQ(c->country, 44);
	conf_free(&c);
	p = put("comment-end2.conf", "country = 44; // the end", 0600);
	if ((c = load_ok(p)) != NULL)
		T_INTEQ(c->country, 44);
	conf_free(&c);

	/* 8 MB in one string: loads (in 0.3 s; 23 s through a FILE). */
	n = 8u << 20;
	if ((big = malloc(n + 32)) == NULL)
		return;
	memcpy(big, "store = \"", 9);
	memset(big + 9, 'a', n);
	memcpy(big + 9 + n, "\";\n", 4);
	p = put_n("long.conf", big, n + 12, 0600);
	if ((c = load_ok(p)) != NULL)
		T_INTEQ(strlen(c->store), n);
	conf_free(&c);
	/* At the cap it loads; one byte over, it is refused before
	 * libconfig sees it. */
	free(big);
	n = CONF_MAX_FILE_BYTES + 1;
	if ((big = malloc(n)) == NULL)
		return;
	memset(big, '\n', n);
	p = put_n("cap.conf", big, n - 1, 0600);
	c = load_ok(p);
	conf_free(&c);
	p = put_n("huge.conf", big, n, 0600);
	free(big);
	snprintf(want, sizeof(want), "%s: larger than %u bytes: not a config "
	    "file\n", p, CONF_MAX_FILE_BYTES);
	load_bad(p, want);
}

/* max_rule_file_bytes: the default, a value, its range. */
static void
test_rule_file_cap(void)
{
	struct conf *c;
	const char *p;

	c = load_ok(GOOD "minimal.conf");
	if (c != NULL)
		T_INTEQ(c->max_rule_file_bytes, CONF_DEF_MAX_RULE_FILE_BYTES);
	conf_free(&c);
	p = put("cap.conf", "country = 1;\nmax_rule_file_bytes = 4096;\n",
	    0600);
	if ((c = load_ok(p)) != NULL) {
		T_INTEQ(c->max_rule_file_bytes, 4096);
		T_INTEQ(c->lines[CONF_MAX_RULE_FILE_BYTES], 2);
	}
	conf_free(&c);
	T_STREQ(conf_key_name(CONF_MAX_RULE_FILE_BYTES),
	    "max_rule_file_bytes");
	p = put("cap-low.conf", "max_rule_file_bytes = 4095;\n", 0600);
	c = NULL;
	T_INTEQ(conf_load(&c, p, NULL), -1);
	T_ASSERT(c == NULL);
}

/* Every cut of a full config loads or fails cleanly (for the sanitizers:
 * error paths with half-read accounts must neither leak nor crash). */
static void
test_prefixes(void)
{
	struct conf *c;
	char	*text, *errs;
	const char *path;
	size_t	 i, n;
	int	 r;

	if ((text = slurp(GOOD "full.conf")) == NULL) {
		T_FAILF("cannot read " GOOD "full.conf");
		return;
	}
	n = strlen(text);
	for (i = 0; i <= n; i++) {
		path = put_n("cut.conf", text, i, 0600);
		errs = NULL;
		r = conf_load(&c, path, &errs);
		if (r == 0)
			T_ASSERT(c != NULL && errs == NULL);
		else
			T_ASSERT(r == -1 && c == NULL && errs != NULL);
		conf_free(&c);
		free(errs);
	}
	free(text);
}

/* conf_load_fd: the open file, from its start, again and again, even
 * once its name points elsewhere; fd stays open; a pipe is refused. */
static void
test_fd(void)
{
	struct conf *c = NULL;
	char	*errs = NULL, path[256], want[512];
	int	 fd, p[2];

	snprintf(path, sizeof(path), "%s/byfd.conf", tmpdir);
	put("byfd.conf", "country = 44;\n", 0600);
	if ((fd = open(path, O_RDONLY)) == -1) {
		T_FAILF("cannot open %s", path);
		return;
	}
	T_INTEQ(conf_load_fd(&c, fd, "named.conf", &errs), 0);
	T_ASSERT(c != NULL && errs == NULL);
	if (c != NULL) {
		T_INTEQ(c->country, 44);
		T_STREQ(c->path, "named.conf");
	}
	conf_free(&c);
	/* The name now holds a broken file: the descriptor still reads the
	 * file it was opened on, from the start (the offset is at its end). */
	put("byfd.new", "country = ;\n", 0600);
	snprintf(want, sizeof(want), "%s/byfd.new", tmpdir);
	T_INTEQ(rename(want, path), 0);
	T_INTEQ(conf_load_fd(&c, fd, "named.conf", &errs), 0);
	T_ASSERT(c != NULL && c->country == 44);
	conf_free(&c);
	T_INTEQ(conf_load(&c, path, &errs), -1);
	free(errs);
	errs = NULL;
	T_ASSERT(fcntl(fd, F_GETFD) != -1);
	close(fd);
	if (pipe(p) == -1) {
		T_FAILF("pipe");
		return;
	}
	T_INTEQ(conf_load_fd(&c, p[0], "a pipe", &errs), -1);
	T_STREQ(errs, "a pipe: not a regular file\n");
	free(errs);
	close(p[0]);
	close(p[1]);
}

static void
test_key_names(void)
{
	T_STREQ(conf_key_name(CONF_STORE), "store");
	T_STREQ(conf_key_name(CONF_ACCOUNTS), "accounts");
	T_STREQ(conf_key_name(CONF_UNKNOWN_BOUNCE), "unknown_bounce");
	T_STREQ(conf_key_name(CONF_PASSWORD_COMMAND), "password_command");
	T_STREQ(conf_key_name(CONF_HARVEST_INTERVAL), "harvest_interval");
	T_STREQ(conf_key_name(CONF_NKEYS), "?");
}

/* The feeds list: defaults, every key, the name from the URL, and each
 * problem at its line. */
static void
test_feeds(void)
{
	struct conf *c;
	char	 want[2048];
	const char *path;

	path = put("feeds.conf", "feeds = (\n"
	    "  { url = \"https://lists.example/spam-hosts.txt\"; },\n"
	    "  { name = \"ph\"; url = \"file:///srv/p\"; kind = \"phones\";\n"
	    "    interval = 3600; weight = 2.5; max_bytes = 4096;\n"
	    "    timeout = 5; ca_file = \"/etc/ca.pem\";\n"
	    "    sha256 = \"" "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef" "\"; }\n);\n", 0600);
	c = load_ok(path);
	T_INTEQ(c->nfeeds, 2);
	T_STREQ(c->feeds[0].name, "spam-hosts");
	T_INTEQ(c->feeds[0].kind, CONF_FEED_DOMAINS);
	T_INTEQ(c->feeds[0].interval, CONF_DEF_FEED_INTERVAL);
	T_INTEQ(c->feeds[0].max_bytes, CONF_DEF_FEED_MAX_BYTES);
	T_INTEQ(c->feeds[0].timeout, CONF_DEF_FEED_TIMEOUT);
	T_ASSERT(c->feeds[0].weight == 1);
	T_ASSERT(c->feeds[0].sha256 == NULL && c->feeds[0].ca_file == NULL);
	T_INTEQ(c->feeds[0].line, 2);
	T_STREQ(c->feeds[1].name, "ph");
	T_INTEQ(c->feeds[1].kind, CONF_FEED_PHONES);
	T_INTEQ(c->feeds[1].interval, 3600);
	T_ASSERT(c->feeds[1].weight == 2.5);
	T_INTEQ(c->feeds[1].max_bytes, 4096);
	T_INTEQ(c->feeds[1].timeout, 5);
	T_STREQ(c->feeds[1].ca_file, "/etc/ca.pem");
	T_INTEQ(c->lines[CONF_FEEDS], 1);
	T_STREQ(conf_key_name(CONF_FEEDS), "feeds");
	T_STREQ(conf_feed_kind_name(CONF_FEED_HOSTS), "hosts-file");
	conf_free(&c);

	path = put("feeds-bad.conf", "feeds = (\n"
	    "  { url = \"http://x.example/b\"; interval = 5; },\n"
	    "  { name = \"a\"; url = \"https://x.example/a\"; kind = 3; },\n"
	    "  { name = \"a\"; url = \"https://y.example/\"; sha256 = \"ab\";"
	    " colour = 1; },\n"
	    "  { kind = \"urls\"; weight = \"x\"; }\n);\n", 0600);
	snprintf(want, sizeof(want),
	    "%s:2: feed: interval: 5 is out of range (60..604800)\n"
	    "%s:2: feed: url: must start with https:// or file:///\n"
	    "%s:3: feed: kind: expected \"domains\", \"hosts-file\", "
	    "\"urls\", \"phones\" or \"phrases\"\n"
	    "%s:4: unknown setting \"colour\" in feed\n"
	    "%s:4: feed: sha256: expected 64 lowercase hex digits\n"
	    "%s:4: feed \"a\": duplicate name (first at line 3)\n"
	    "%s:5: feed: weight: expected a number from 0 to 1000\n"
	    "%s:5: feed: url is required\n",
	    path, path, path, path, path, path, path, path);
	load_bad(path, want);
}

/* A feed's signature keys: parsed together, refused apart or misshapen. */
static void
test_feed_sigs(void)
{
	static const char key[] =
	    "RWShe9mjgED8reiwgODuFR9fm54khxL9werFkPKyLegENIotw+jm13nY";
	struct conf *c;
	char	 want[2048], text[2048];
	const char *path;

	snprintf(text, sizeof(text), "feeds = (\n"
	    "  { name = \"m\"; url = \"https://x.example/m\";\n"
	    "    signature = \"https://x.example/m.minisig\";\n"
	    "    pubkey = \"%s\"; signature_kind = \"minisign\"; },\n"
	    "  { name = \"s\"; url = \"https://x.example/s\";\n"
	    "    signature = \"file:///srv/s.sig\"; pubkey = \"%s\";\n"
	    "    signature_kind = \"signify\"; },\n"
	    "  { name = \"n\"; url = \"https://x.example/n\"; }\n);\n", key,
	    key);
	path = put("feedsig.conf", text, 0600);
	c = load_ok(path);
	T_INTEQ(c->nfeeds, 3);
	T_STREQ(c->feeds[0].signature, "https://x.example/m.minisig");
	T_STREQ(c->feeds[0].pubkey, key);
	T_INTEQ(c->feeds[0].sig_kind, CONF_SIG_MINISIGN);
	T_STREQ(c->feeds[1].signature, "file:///srv/s.sig");
	T_INTEQ(c->feeds[1].sig_kind, CONF_SIG_SIGNIFY);
	T_ASSERT(c->feeds[2].signature == NULL && c->feeds[2].pubkey == NULL);
	T_INTEQ(c->feeds[2].sig_kind, CONF_SIG_NONE);
	T_STREQ(conf_sig_kind_name(CONF_SIG_SIGNIFY), "signify");
	conf_free(&c);

	snprintf(text, sizeof(text), "feeds = (\n"
	    "  { name = \"a\"; url = \"https://x.example/a\";"
	    " signature = \"https://x.example/a.sig\"; },\n"
	    "  { name = \"b\"; url = \"https://x.example/b\";"
	    " signature = \"http://x.example/b.sig\";\n"
	    "    pubkey = \"%s\"; signature_kind = \"signify\"; },\n"
	    "  { name = \"c\"; url = \"https://x.example/c\";"
	    " signature = \"https://x.example/c.sig\";\n"
	    "    pubkey = \"RWSshort\"; signature_kind = \"minisign\"; },\n"
	    "  { name = \"d\"; url = \"https://x.example/d\";"
	    " signature = \"https://x.example/d.sig\";\n"
	    "    pubkey = \"%s\"; signature_kind = \"gpg\"; },\n"
	    "  { name = \"e\"; url = \"https://x.example/e\";"
	    " pubkey = \"%s\"; }\n);\n", key, key, key);
	path = put("feedsig-bad.conf", text, 0600);
	snprintf(want, sizeof(want),
	    "%s:2: feed: signature, pubkey and signature_kind go together\n"
	    "%s:3: feed: signature: must start with https:// or file:///\n"
	    "%s:5: feed: pubkey: expected the public key's base64 line "
	    "(56 characters, starting RW)\n"
	    "%s:7: feed: signature, pubkey and signature_kind go together\n"
	    "%s:8: feed: signature_kind: expected \"minisign\" or "
	    "\"signify\"\n"
	    "%s:9: feed: signature, pubkey and signature_kind go together\n",
	    path, path, path, path, path, path);
	load_bad(path, want);
}

int
main(void)
{
	const char *top = getenv("TOP");
	char	 cmd[300];

	if (top != NULL && chdir(top) == -1) {
		perror(top);
		return 1;
	}
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_defaults);
	T_RUN(test_full);
	T_RUN(test_loopback_and_empty);
	T_RUN(test_example);
	T_RUN(test_bad_files);
	T_RUN(test_limits);
	T_RUN(test_secrecy);
	T_RUN(test_files);
	T_RUN(test_group_lists);
	T_RUN(test_bad_input);
	T_RUN(test_rule_file_cap);
	T_RUN(test_prefixes);
	T_RUN(test_fd);
	T_RUN(test_key_names);
	T_RUN(test_feeds);
	T_RUN(test_feed_sigs);
	T_RUN(test_oauth2_accounts);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpdir);
	return t_done();
}
