/*
 * oauth2.c: auth = "oauth2" between `imapsift login` and a login: the
 * provider presets, the token store and the access token for a session.
 *
 * The store keeps the refresh token, and with it the last access token
 * and its expiry, in DIR/NAME.oauth2 (mode 0600, replaced by rename), or
 * hands the refresh token to token_command (IMAPSIFT_TOKEN_OP=get prints
 * it, =store reads it on stdin); access tokens for a token_command store
 * stay in memory.  An access token is used until shortly before it
 * expires (a quarter of its lifetime, at most a minute), then refreshed;
 * a refresh the server answers with invalid_grant (revoked, expired,
 * password changed) marks the account as needing `imapsift login`, which
 * the watcher waits for instead of retrying.  Tokens are never logged.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/oauth2-private.h"
#include "agent/util.h"
#include "conf/conf.h"

static const struct preset {
	const char *auth, *token, *device, *scopes, *extra;
	enum conf_oauth2_flow flow;
} presets[] = {
	[CONF_OAUTH2_GENERIC] = { NULL, NULL, NULL, NULL, NULL,
	    CONF_OAUTH2_FLOW_DEFAULT },
	/* Google allows the mail scope only with the code flow (its
	 * device flow refuses https://mail.google.com/). */
	[CONF_OAUTH2_GOOGLE] = {
	    "https://accounts.google.com/o/oauth2/v2/auth",
	    "https://oauth2.googleapis.com/token",
	    "https://oauth2.googleapis.com/device/code",
	    "https://mail.google.com/",
	    "access_type=offline&prompt=consent",
	    CONF_OAUTH2_FLOW_CODE },
	/* The "common" tenant: personal and work accounts alike. */
	[CONF_OAUTH2_MICROSOFT] = {
	    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
	    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	    "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	    "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
	    NULL,
	    CONF_OAUTH2_FLOW_DEVICE },
};

void
oauth2_endpoints(const struct conf_account *a, struct oauth2_ep *e)
{
	const struct conf_oauth2 *o = &a->oauth2;
	const struct preset *p = &presets[o->provider];
	size_t	 i, n = 1;

	e->auth = o->authorization_endpoint != NULL ?
	    o->authorization_endpoint : p->auth;
	e->token = o->token_endpoint != NULL ? o->token_endpoint : p->token;
	e->device = o->device_endpoint != NULL ? o->device_endpoint :
	    p->device;
	e->extra = p->extra;
	e->flow = o->flow != CONF_OAUTH2_FLOW_DEFAULT ? o->flow : p->flow;
	if (e->flow == CONF_OAUTH2_FLOW_DEFAULT)
		e->flow = e->auth != NULL ? CONF_OAUTH2_FLOW_CODE :
		    CONF_OAUTH2_FLOW_DEVICE;
	if (o->scopes.n == 0) {
		e->scopes = xstrdup(p->scopes != NULL ? p->scopes : "");
		return;
	}
	for (i = 0; i < o->scopes.n; i++)
		n += strlen(o->scopes.v[i]) + 1;
	e->scopes = xcalloc(1, n);
	for (i = 0; i < o->scopes.n; i++) {
		if (i > 0)
			strcat(e->scopes, " ");
		strcat(e->scopes, o->scopes.v[i]);
	}
}

void
oauth2_ep_free(struct oauth2_ep *e)
{
	free(e->scopes);
	e->scopes = NULL;
}

/* ------------------------------------------------------------------ */
/* The store.                                                           */

struct tokens {
	char	*refresh;
	char	*access;
	long long expires;	/* time_t; 0: unknown */
	long long lifetime;	/* seconds the server gave */
};

static void
secret_free(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void
tokens_free(struct tokens *t)
{
	secret_free(&t->refresh);
	secret_free(&t->access);
	t->expires = t->lifetime = 0;
}

void
oauth2_token_path(const struct conf_account *a, const char *dir, char *out,
    size_t outsz)
{
	snprintf(out, outsz, "%s/%s.oauth2", dir, a->name);
}

/* Accounts whose store is token_command keep their access token here;
 * every account keeps here whether it needs imapsift login. */
struct mem {
	struct mem *next;
	char	*key;		/* dir "/" name */
	char	*access;
	long long expires, lifetime;
	int	 login;		/* the last refresh got invalid_grant */
	unsigned long long stamp;	/* the store's stamp then */
};
static struct mem *mems;
static pthread_mutex_t mem_mu = PTHREAD_MUTEX_INITIALIZER;

/* The entry of a in dir; under mem_mu. */
static struct mem *
mem_of(const struct conf_account *a, const char *dir)
{
	char	 key[4200];
	struct mem *m;

	snprintf(key, sizeof(key), "%s/%s", dir, a->name);
	for (m = mems; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	m = xcalloc(1, sizeof(*m));
	m->key = xstrdup(key);
	m->next = mems;
	mems = m;
	return m;
}

unsigned long long
oauth2_store_stamp(const struct conf_account *a, const char *dir)
{
	char	 path[4200];
	struct stat sb;

	if (a->oauth2.token_command != NULL)
		return 0;
	oauth2_token_path(a, dir, path, sizeof(path));
	if (stat(path, &sb) == -1)
		return 0;
	return (unsigned long long)sb.st_ino * 1000003u ^
	    (unsigned long long)sb.st_mtim.tv_sec * 1000000000u ^
	    (unsigned long long)sb.st_mtim.tv_nsec ^
	    (unsigned long long)sb.st_size << 40;
}

int
oauth2_login_needed(const struct conf_account *a, const char *dir)
{
	struct mem *m;
	int	 r;

	if (a->auth != CONF_AUTH_OAUTH2)
		return 0;
	pthread_mutex_lock(&mem_mu);
	m = mem_of(a, dir);
	r = m->login && m->stamp == oauth2_store_stamp(a, dir);
	pthread_mutex_unlock(&mem_mu);
	return r;
}

static void
set_login(const struct conf_account *a, const char *dir, int on)
{
	struct mem *m;

	pthread_mutex_lock(&mem_mu);
	m = mem_of(a, dir);
	m->login = on;
	m->stamp = oauth2_store_stamp(a, dir);
	pthread_mutex_unlock(&mem_mu);
}

/* Runs token_command for op ("get": *out_r the first line it printed;
 * "store": in written to it).  0, or -1 with err set. */
static int
token_cmd(const struct conf_account *a, const char *op, const char *in,
    char **out_r, char *err, size_t errlen)
{
	char	 line[16384], *cmd;
	size_t	 n;
	FILE	*f;
	int	 st, got = 0;

	n = strlen(a->oauth2.token_command) + 128;
	cmd = xmalloc(n);
	snprintf(cmd, n, "IMAPSIFT_TOKEN_OP=%s IMAPSIFT_ACCOUNT='%s'; "
	    "export IMAPSIFT_TOKEN_OP IMAPSIFT_ACCOUNT; %s", op, a->name,
	    a->oauth2.token_command);
	fflush(NULL);
	f = popen(cmd, in != NULL ? "w" : "r");
	explicit_bzero(cmd, n);
	free(cmd);
	if (f == NULL) {
		snprintf(err, errlen, "token_command: %s", log_strerror(errno));
		return -1;
	}
	if (in != NULL)
		fprintf(f, "%s\n", in);
	else {
		got = fgets(line, sizeof(line), f) != NULL;
		while (got && fgetc(f) != EOF)
			;
	}
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		explicit_bzero(line, sizeof(line));
		snprintf(err, errlen, "token_command (%s) failed%s", op,
		    st != -1 && WIFEXITED(st) ? " (non-zero exit)" : "");
		return -1;
	}
	if (in == NULL) {
		line[got ? strcspn(line, "\r\n") : 0] = '\0';
		*out_r = line[0] != '\0' ? xstrdup(line) : NULL;
		explicit_bzero(line, sizeof(line));
	}
	return 0;
}

/* Reads the store into *t (all NULL when there is no token yet).
 * 0, or -1 with err set. */
static int
tokens_load(const struct conf_account *a, const char *dir, struct tokens *t,
    char *err, size_t errlen)
{
	char	 path[4200], line[16384], *v;
	struct mem *m;
	FILE	*f;

	memset(t, 0, sizeof(*t));
	if (a->oauth2.token_command != NULL) {
		if (token_cmd(a, "get", NULL, &t->refresh, err, errlen) == -1)
			return -1;
		pthread_mutex_lock(&mem_mu);
		m = mem_of(a, dir);
		if (m->access != NULL) {
			t->access = xstrdup(m->access);
			t->expires = m->expires;
			t->lifetime = m->lifetime;
		}
		pthread_mutex_unlock(&mem_mu);
		return 0;
	}
	oauth2_token_path(a, dir, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, log_strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((v = strchr(line, ' ')) == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "refresh_token") == 0 && t->refresh == NULL)
			t->refresh = xstrdup(v);
		else if (strcmp(line, "access_token") == 0 &&
		    t->access == NULL)
			t->access = xstrdup(v);
		else if (strcmp(line, "expires_at") == 0)
			t->expires = strtoll(v, NULL, 10);
		else if (strcmp(line, "lifetime") == 0)
			t->lifetime = strtoll(v, NULL, 10);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return 0;
}

/* Writes *t to the store; refresh_changed: token_command is given the
 * refresh token (it is not asked to store an unchanged one).  0, or -1
 * with err set. */
static int
tokens_save(const struct conf_account *a, const char *dir,
    const struct tokens *t, int refresh_changed, char *err, size_t errlen)
{
	char	 path[4200], tmp[4300];
	struct mem *m;
	FILE	*f;
	int	 fd, bad;

	if (a->oauth2.token_command != NULL) {
		pthread_mutex_lock(&mem_mu);
		m = mem_of(a, dir);
		secret_free(&m->access);
		m->access = t->access != NULL ? xstrdup(t->access) : NULL;
		m->expires = t->expires;
		m->lifetime = t->lifetime;
		pthread_mutex_unlock(&mem_mu);
		if (!refresh_changed || t->refresh == NULL)
			return 0;
		return token_cmd(a, "store", t->refresh, NULL, err, errlen);
	}
	oauth2_token_path(a, dir, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, log_strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	fprintf(f, "# imapsift OAuth2 tokens of account %s: keep private\n",
	    a->name);
	if (t->refresh != NULL)
		fprintf(f, "refresh_token %s\n", t->refresh);
	if (t->access != NULL)
		fprintf(f, "access_token %s\nexpires_at %lld\nlifetime %lld\n",
		    t->access, t->expires, t->lifetime);
	bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, log_strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

/* A token the server sent: printable ASCII, no blank (it goes into the
 * store's lines and the SASL message). */
static int
token_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 8192)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

/* The client's credentials as form fields: "&client_id=...". */
static void
form_client(const struct conf_account *a, struct buf *f)
{
	oauth2_form_add(f, "client_id", a->oauth2.client_id);
	if (a->oauth2.client_secret != NULL)
		oauth2_form_add(f, "client_secret", a->oauth2.client_secret);
}

void
oauth2_form_add(struct buf *f, const char *k, const char *v)
{
	char	*e = oauth2_escape(v);
	size_t	 n = strlen(k) + strlen(e) + 3;

	if (f->len + n + 1 > f->cap) {
		f->cap = (f->len + n + 1) * 2;
		f->p = xrealloc(f->p, f->cap);
	}
	f->len += (size_t)snprintf(f->p + f->len, f->cap - f->len, "%s%s=%s",
	    f->len > 0 ? "&" : "", k, e);
	explicit_bzero(e, strlen(e));
	free(e);
}

void
oauth2_form_free(struct buf *f)
{
	if (f->p != NULL)
		explicit_bzero(f->p, f->len);
	free(f->p);
	f->p = NULL;
	f->len = f->cap = 0;
}

int
oauth2_token_error(const struct oauth2_json *j, long status, char *err,
    size_t errlen)
{
	const char *e = oauth2_json_str(j, "error");
	const char *d = oauth2_json_str(j, "error_description");
	char	 desc[200];
	size_t	 i;

	/* The server's text, cut and cleaned: it goes to a log line. */
	snprintf(desc, sizeof(desc), "%s", d != NULL ? d : "");
	for (i = 0; desc[i] != '\0'; i++)
		if ((unsigned char)desc[i] < ' ' || desc[i] == 0x7f)
			desc[i] = ' ';
	if (e == NULL) {
		snprintf(err, errlen, "HTTP %ld without an error code", status);
		return status >= 500 || status == 429 ? OAUTH2_TEMP :
		    OAUTH2_FAIL;
	}
	if (strcmp(e, "invalid_client") == 0 ||
	    strcmp(e, "unauthorized_client") == 0) {
		snprintf(err, errlen, "the authorization server refused the "
		    "client (%s%s%s): check oauth2_client_id and "
		    "oauth2_client_secret", e, desc[0] ? ": " : "", desc);
		return OAUTH2_FAIL;
	}
	snprintf(err, errlen, "%s%s%s", e, desc[0] ? ": " : "", desc);
	if (strcmp(e, "invalid_grant") == 0)
		return OAUTH2_LOGIN;
	if (strcmp(e, "temporarily_unavailable") == 0 || status >= 500)
		return OAUTH2_TEMP;
	return OAUTH2_FAIL;
}

int
oauth2_take_tokens(const struct conf_account *a, const char *dir,
    const struct oauth2_json *j, const char *old_refresh, char *err,
    size_t errlen)
{
	const char *at = oauth2_json_str(j, "access_token");
	const char *rt = oauth2_json_str(j, "refresh_token");
	struct tokens t = { 0 };
	long long in = oauth2_json_int(j, "expires_in", 3600);
	int	 r;

	if (!token_ok(at)) {
		snprintf(err, errlen, "the token reply has no usable "
		    "access_token");
		return OAUTH2_FAIL;
	}
	if (rt == NULL)
		rt = old_refresh;
	if (!token_ok(rt)) {
		snprintf(err, errlen, "the token reply has no refresh_token "
		    "(do the scopes ask for offline access?)");
		return OAUTH2_FAIL;
	}
	if (in < 1 || in > 365LL * 86400)
		in = 3600;
	t.refresh = xstrdup(rt);
	t.access = xstrdup(at);
	t.lifetime = in;
	t.expires = (long long)time(NULL) + in;
	r = tokens_save(a, dir, &t, old_refresh == NULL ||
	    strcmp(old_refresh, rt) != 0, err, errlen);
	tokens_free(&t);
	return r == 0 ? OAUTH2_OK : OAUTH2_FAIL;
}

int
oauth2_access_token(const struct conf_account *a, const char *dir,
    int force, char **token_r, int *fresh_r, char *err, size_t errlen)
{
	struct oauth2_json *j = NULL;
	struct oauth2_ep ep;
	struct buf form = { 0 };
	struct tokens t;
	long long margin, now = (long long)time(NULL);
	long	 status;
	int	 r;

	*token_r = NULL;
	*fresh_r = 0;
	err[0] = '\0';
	if (tokens_load(a, dir, &t, err, errlen) == -1)
		return OAUTH2_TEMP;
	margin = t.lifetime / 4 < 60 ? t.lifetime / 4 : 60;
	if (!force && t.access != NULL && now < t.expires - margin) {
		*token_r = t.access;
		t.access = NULL;
		tokens_free(&t);
		return OAUTH2_OK;
	}
	if (t.refresh == NULL) {
		snprintf(err, errlen, "no refresh token yet");
		tokens_free(&t);
		set_login(a, dir, 1);
		return OAUTH2_LOGIN;
	}
	oauth2_endpoints(a, &ep);
	oauth2_form_add(&form, "grant_type", "refresh_token");
	oauth2_form_add(&form, "refresh_token", t.refresh);
	form_client(a, &form);
	log_debug("%s: refreshing the access token at %s", a->name,
	    ep.token);
	r = oauth2_post(a, ep.token, form.p, &j, &status, err, errlen);
	oauth2_form_free(&form);
	if (r == OAUTH2_OK && oauth2_json_str(j, "access_token") != NULL &&
	    status / 100 == 2)
		r = oauth2_take_tokens(a, dir, j, t.refresh, err, errlen);
	else if (r == OAUTH2_OK)
		r = oauth2_token_error(j, status, err, errlen);
	oauth2_json_free(&j);
	oauth2_ep_free(&ep);
	tokens_free(&t);
	if (r == OAUTH2_LOGIN) {
		char	 e2[512];

		snprintf(e2, sizeof(e2), "the authorization server refused "
		    "the refresh token (%s)", err);
		snprintf(err, errlen, "%s", e2);
		set_login(a, dir, 1);
	}
	if (r != OAUTH2_OK)
		return r;
	set_login(a, dir, 0);
	if (tokens_load(a, dir, &t, err, errlen) == -1 || t.access == NULL) {
		tokens_free(&t);
		if (err[0] == '\0')
			snprintf(err, errlen, "the new token was not stored");
		return OAUTH2_FAIL;
	}
	*token_r = t.access;
	t.access = NULL;
	tokens_free(&t);
	*fresh_r = 1;
	return OAUTH2_OK;
}
