/*
 * account.c: from the config file to a session: loading and checking the
 * config, the store directory and the per-account lock, the secret
 * (password, the first line of password_command or an OAuth2 access
 * token) and imap_open().
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/feeds.h"
#include "agent/imap.h"
#include "agent/import.h"
#include "agent/log.h"
#include "agent/oauth2.h"
#include "agent/privsep.h"
#include "agent/rulesdir.h"
#include "agent/util.h"
#include "conf/conf.h"
#include "rules/rules.h"
#include "store/store.h"

const char *
config_default_path(void)
{
	static char path[4096];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/')
		snprintf(path, sizeof(path), "%s/imapsift/config", xdg);
	else if (home != NULL && home[0] == '/')
		snprintf(path, sizeof(path), "%s/.config/imapsift/config",
		    home);
	else
		return NULL;
	return path;
}

/* Loads the open config fd, printing every error. */
static int
load_fd(int fd, const char *name, int mine, struct conf **conf_r)
{
	char *errs = NULL;

	/* It may hold a password; password_command's output will. */
	privsep_no_core_dumps();
	if (privsep_config_file_ok(fd, name, mine) == -1)
		return OUT_PERM;
	if (conf_load_fd(conf_r, fd, name, &errs) == -1) {
		if (errs != NULL)
			fputs(errs, stderr);
		free(errs);
		return OUT_PERM;
	}
	return OUT_OK;
}

int
config_load(const char *path, int optional, struct conf **conf_r)
{
	int fd, rc;

	*conf_r = NULL;
	if (path == NULL) {
		path = config_default_path();
		if (path == NULL) {
			log_warnx("neither XDG_CONFIG_HOME nor HOME is set: "
			    "use -c FILE");
			return OUT_PERM;
		}
		if (optional && access(path, F_OK) == -1)
			return OUT_OK;
	}
	/* Opened once: the owner checked is that of the file read. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		fprintf(stderr, "%s: %s\n", path, log_strerror(errno));
		return OUT_PERM;
	}
	rc = load_fd(fd, path, 0, conf_r);
	close(fd);
	return rc;
}

int
config_load_fd(int fd, const char *name, struct conf **conf_r)
{
	*conf_r = NULL;
	return load_fd(fd, name, 1, conf_r);
}

void
config_rule_paths(const struct conf *c, struct strlist *out)
{
	char p[4096];
	size_t i;

	for (i = 0; i < c->rules.n; i++)
		strlist_add(out, c->rules.v[i]);
	if (c->rules.n == 0)
		rulesdir_default_paths(out);
	/* Feed copies are ordinary list files (feeds.c). */
	if (c->nfeeds > 0 && feeds_dir(c, p, sizeof(p)) == 0)
		strlist_add(out, p);
}

struct rules_set *
config_rules(const struct conf *c)
{
	struct strlist paths = { 0 };
	struct rules_set *rs;

	config_rule_paths(c, &paths);
	rs = rulesdir_load(&paths, c->country, c->max_rule_file_bytes);
	strlist_free(&paths);
	return rs;
}

int
config_check(const char *path)
{
	struct conf *c;
	struct rules_set *rs;
	int rc;

	rc = config_load(path, 0, &c);
	if (rc != OUT_OK)
		return rc;
	rs = config_rules(c);
	if (rs == NULL) {
		conf_free(&c);
		return OUT_PERM;
	}
	printf("config OK: %s: %zu account%s\n", c->path, c->naccounts,
	    c->naccounts == 1 ? "" : "s");
	rules_free(&rs);
	conf_free(&c);
	return OUT_OK;
}

int
account_store_dir(const struct conf *c, char *out, size_t outsz)
{
	const char *def;
	char *slash;

	if (c != NULL && c->store != NULL && c->store[0] != '\0') {
		snprintf(out, outsz, "%s", c->store);
		if (util_mkdir_p(out, 0700) == -1) {
			log_warn("%s", out);
			return -1;
		}
		return 0;
	}
	def = import_store_path();	/* makes the directory */
	snprintf(out, outsz, "%s", def);
	slash = strrchr(out, '/');
	if (slash != NULL)
		*slash = '\0';
	return 0;
}

int
account_store_open(const char *dir, struct store **st_r)
{
	char path[4200], err[512];

	snprintf(path, sizeof(path), "%s/imapsift.db", dir);
	if (store_open(st_r, path, 0, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return OUT_PERM;
	}
	return OUT_OK;
}

/*
 * The account locks.  They are keyed by the server mailbox (host, lower
 * case and without a trailing dot; port; user), not by the store or the
 * account's name, so that two configs, two stores or two names for the
 * same IMAP user exclude each other.  They live in one directory per
 * Unix user that every way of running imapsift shares: the default
 * state directory ($XDG_STATE_HOME/imapsift, else
 * ~/.local/state/imapsift, the store's default home; the systemd units
 * can write there, cron has no XDG_RUNTIME_DIR and the system unit a
 * private /tmp), in locks/, made 0700.  The directory must be the
 * user's own and private, each lock file a regular file of the user's
 * (O_NOFOLLOW): nobody else can plant, swap or hold one.
 */
static int
lock_dir(char *out, size_t outsz)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	if (xdg != NULL && xdg[0] == '/')
		snprintf(out, outsz, "%s/imapsift/locks", xdg);
	else if (home != NULL && home[0] == '/')
		snprintf(out, outsz, "%s/.local/state/imapsift/locks", home);
	else if ((pw = getpwuid(geteuid())) != NULL && pw->pw_dir[0] == '/')
		snprintf(out, outsz, "%s/.local/state/imapsift/locks",
		    pw->pw_dir);
	else {
		log_warnx("neither XDG_STATE_HOME nor HOME is set: no place "
		    "for the account locks");
		return -1;
	}
	return 0;
}

void
account_lock_name(const struct conf_account *a, char *out, size_t outsz)
{
	char key[1024], pre[96];
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a, 64 bits */
	size_t i, n, hl;
	unsigned char c;

	hl = strlen(a->host);
	while (hl > 1 && a->host[hl - 1] == '.')
		hl--;
	n = (size_t)snprintf(key, sizeof(key), "%.*s\n%u\n%s", (int)hl,
	    a->host, a->port, a->user);
	if (n >= sizeof(key))
		n = sizeof(key) - 1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)key[i];
		if (i < hl && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		key[i] = (char)c;
		h = (h ^ c) * 1099511628211ULL;
	}
	/* A readable prefix: user@host:port, odd bytes as '_'. */
	snprintf(pre, sizeof(pre), "%s@%.*s:%u", a->user, (int)hl, key,
	    a->port);
	for (i = 0; pre[i] != '\0'; i++) {
		c = (unsigned char)pre[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("._@:+-", c) != NULL))
			pre[i] = '_';
	}
	if (pre[0] == '.')
		pre[0] = '_';
	snprintf(out, outsz, "%.64s-%016llx", pre, (unsigned long long)h);
}

int
account_lock(const struct conf_account *a, int kind, int *fd_r)
{
	char dir[4096], name[128], path[4300];
	struct stat sb;
	int dfd, fd;

	*fd_r = -1;
	if (lock_dir(dir, sizeof(dir)) == -1)
		return OUT_PERM;
	if (util_mkdir_p(dir, 0700) == -1) {
		log_warn("%s", dir);
		return OUT_PERM;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1) {
		log_warn("%s", dir);
		return OUT_PERM;
	}
	if (fstat(dfd, &sb) == -1 || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077) != 0) {
		log_warnx("%s: the lock directory must be owned by you and "
		    "private (mode 0700)", dir);
		close(dfd);
		return OUT_PERM;
	}
	account_lock_name(a, name, sizeof(name));
	strcat(name, kind == LOCK_WORK ? ".work" : ".lock");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0600);
	close(dfd);
	if (fd == -1) {
		log_warn("%s", path);
		return OUT_PERM;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid()) {
		log_warnx("%s: not a regular file of yours: refused", path);
		close(fd);
		return OUT_PERM;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		if (errno == EWOULDBLOCK)
			return OUT_TEMP;
		log_warn("%s: flock", path);
		return OUT_PERM;
	}
	*fd_r = fd;
	return OUT_OK;
}

/* The first line of password_command's output, or NULL after a line. */
static char *
run_secret(const struct conf_account *a)
{
	char line[8192], iobuf[8192], *secret;
	FILE *f;
	pid_t pid, r;
	int fd = -1, st, got;

	fflush(NULL);
	/* Not popen: the command gets no descriptor of ours but 0-2. */
	if ((pid = privsep_spawn_sh(a->password_command, &fd)) == -1 ||
	    (f = fdopen(fd, "r")) == NULL) {
		log_warn("%s: password_command", a->name);
		if (pid != -1) {
			close(fd);
			while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
				;
		}
		return NULL;
	}
	/* Our buffer, so that no copy of the secret outlives this call. */
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	got = fgets(line, sizeof(line), f) != NULL;
	while (got && fgetc(f) != EOF)
		;	/* drain, so the command does not die of SIGPIPE */
	fclose(f);
	explicit_bzero(iobuf, sizeof(iobuf));
	while ((r = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
		;
	if (r == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (r != -1 && WIFEXITED(st))
			log_warnx("%s: password_command failed (exit status "
			    "%d)", a->name, WEXITSTATUS(st));
		else
			log_warnx("%s: password_command failed", a->name);
		explicit_bzero(line, sizeof(line));
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (!got || line[0] == '\0') {
		log_warnx("%s: password_command printed nothing", a->name);
		return NULL;
	}
	secret = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	return secret;
}

static int
map_tls(enum conf_tls t)
{
	if (t == CONF_TLS_STARTTLS)
		return IMAP_TLS_STARTTLS;
	if (t == CONF_TLS_NONE)
		return IMAP_TLS_NONE;
	return IMAP_TLS_IMPLICIT;
}

static int
map_auth(enum conf_auth au)
{
	if (au == CONF_AUTH_PLAIN)
		return IMAP_AUTH_PLAIN;
	if (au == CONF_AUTH_XOAUTH2)
		return IMAP_AUTH_XOAUTH2;
	return IMAP_AUTH_LOGIN;
}

/* auth = "oauth2": an access token, and one retry with a refreshed one
 * when the server refuses a token that was not fresh. */
static int
open_oauth2(const struct conf_account *a, const char *dir,
    struct imap_opts *o, struct imap **s_r, char *err, size_t errlen)
{
	char	*tok;
	int	 r, fresh, force = 0;

	o->auth = a->oauth2.mechanism == CONF_OAUTH2_MECH_OAUTHBEARER ?
	    IMAP_AUTH_OAUTHBEARER : IMAP_AUTH_XOAUTH2;
	for (;;) {
		r = oauth2_access_token(a, dir, force, &tok, &fresh, err,
		    errlen);
		if (r != OAUTH2_OK)
			return -r;
		o->secret = tok;
		err[0] = '\0';
		r = imap_open(s_r, o, err, errlen);
		explicit_bzero(tok, strlen(tok));
		free(tok);
		o->secret = NULL;
		if (r != OUT_AUTH || fresh || force)
			return r;
		log_info("%s: the server refused the access token: "
		    "refreshing it once", a->name);
		force = 1;
	}
}

int
account_open(const struct conf_account *a, const char *dir,
    struct imap **s_r, char *why, size_t whylen)
{
	struct imap_opts o;
	char err[512], *secret;
	int r;

	*s_r = NULL;
	if (a->auth == CONF_AUTH_OAUTH2)
		secret = NULL;
	else if (a->password_command != NULL) {
		secret = run_secret(a);
		if (secret == NULL) {
			snprintf(why, whylen, "%s: password_command failed",
			    a->name);
			return OUT_AUTH;
		}
	} else
		secret = xstrdup(a->password != NULL ? a->password : "");
	memset(&o, 0, sizeof(o));
	o.host = a->host;
	o.port = (uint16_t)a->port;
	o.tls = map_tls(a->tls);
	o.ca_file = a->ca_file;
	o.timeout = (int)a->timeout;
	o.user = a->user;
	o.secret = secret;
	o.auth = map_auth(a->auth);
	o.account = a->name;
	err[0] = '\0';
	if (secret == NULL)
		r = open_oauth2(a, dir, &o, s_r, err, sizeof(err));
	else {
		r = imap_open(s_r, &o, err, sizeof(err));
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	switch (r) {
	case -OAUTH2_LOGIN:
		snprintf(why, whylen, "%s: %s: run imapsift login %s",
		    a->name, err, a->name);
		return OUT_AUTH;
	case -OAUTH2_FAIL:
		snprintf(why, whylen, "%s: OAuth2: %s", a->name, err);
		return OUT_AUTH;
	case -OAUTH2_TEMP:
		snprintf(why, whylen, "%s: OAuth2: %s", a->name, err);
		return OUT_TEMP;
	case -OAUTH2_TLS:
		snprintf(why, whylen, "%s: OAuth2: %s", a->name, err);
		return OUT_PERM;
	case OUT_OK:
		why[0] = '\0';
		return OUT_OK;
	case OUT_AUTH:
		snprintf(why, whylen, "%s: login as %s refused: %s", a->name,
		    a->user, err);
		return OUT_AUTH;
	case OUT_TEMP:
		snprintf(why, whylen, "%s: %s:%u: %s", a->name, a->host,
		    a->port, err);
		return OUT_TEMP;
	default:
		snprintf(why, whylen, "%s: %s:%u: %s", a->name, a->host,
		    a->port, err);
		return OUT_PERM;
	}
}

int
account_connect(const struct conf_account *a, const char *dir,
    struct imap **s_r)
{
	char why[1024];
	int rc;

	rc = account_open(a, dir, s_r, why, sizeof(why));
	if (rc != OUT_OK && why[0] != '\0')
		log_warnx("%s%s", why, rc == OUT_TEMP ?
		    " (will retry next run)" : "");
	return rc;
}
