/*
 * oauth2-login.c: `imapsift login ACCOUNT`, the one interactive step of
 * auth = "oauth2": it gets the account's first refresh token and stores
 * it (oauth2.c).  Two flows:
 *
 *   code    RFC 6749 4.1 with PKCE (RFC 7636, S256) and a loopback
 *           redirect (RFC 8252 7.3): a socket on 127.0.0.1, a port the
 *           kernel picks; the URL to open is printed; the browser's
 *           redirect to http://127.0.0.1:PORT/ brings the code, taken
 *           only with the state we sent (anything else is answered 400
 *           and the wait goes on).
 *   device  RFC 8628: the user code and the address to enter it at are
 *           printed; the token endpoint is polled at the server's
 *           interval (slow_down adds 5 s) until approved, refused or
 *           expired.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "agent/account.h"
#include "agent/cmd.h"
#include "agent/log.h"
#include "agent/oauth2-private.h"
#include "agent/outcome.h"
#include "agent/util.h"
#include "conf/conf.h"

#define LOGIN_TIMEOUT	300	/* s to wait for the browser or approval */
#define REQ_MAX		8192	/* bytes of a redirect request read */

struct login {
	const struct conf_account *a;
	const char *dir;
	struct oauth2_ep ep;
	int	 timeout;
};

static char *
random_b64(size_t n)
{
	unsigned char b[64];

	if (n > sizeof(b) || gnutls_rnd(GNUTLS_RND_KEY, b, n) != 0)
		fatalx("no random bytes");
	return oauth2_base64(b, n, 1);
}

/* Decodes %XX and '+' in place. */
static void
pct_decode(char *s)
{
	char	*o = s;
	unsigned v;

	for (; *s != '\0'; s++) {
		if (*s == '%' && s[1] != '\0' && s[2] != '\0' &&
		    sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else
			*o++ = *s == '+' ? ' ' : *s;
	}
	*o = '\0';
}

/* The value of parameter k in query q (modified), or NULL. */
static char *
query_get(char *q, const char *k)
{
	size_t	 n = strlen(k);
	char	*p;

	for (p = q; p != NULL && *p != '\0'; p = strchr(p, '&'),
	    p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, k, n) == 0 && p[n] == '=')
			return p + n + 1;
	return NULL;
}

/* A copy of query parameter k (decoded), or NULL. */
static char *
param(const char *query, const char *k)
{
	char	*q = xstrdup(query), *v, *out = NULL;

	if ((v = query_get(q, k)) != NULL) {
		v[strcspn(v, "&")] = '\0';
		pct_decode(v);
		out = xstrdup(v);
	}
	explicit_bzero(q, strlen(q));
	free(q);
	return out;
}

static void
reply(int fd, const char *status, const char *text)
{
	char	 b[1024];
	int	 n;

	n = snprintf(b, sizeof(b), "HTTP/1.1 %s\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nConnection: close\r\nCache-Control: no-store\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, strlen(text), text);
	if (n > 0)
		(void)!write(fd, b, (size_t)n);
}

/* Reads one request's head from fd (at most REQ_MAX bytes, 10 s). */
static int
read_request(int fd, char *b, size_t cap)
{
	struct pollfd p = { fd, POLLIN, 0 };
	size_t	 len = 0;
	ssize_t	 n;

	while (len + 1 < cap) {
		if (poll(&p, 1, 10000) != 1)
			return -1;
		n = read(fd, b + len, cap - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		b[len] = '\0';
		if (strstr(b, "\r\n\r\n") != NULL || strstr(b, "\n\n") != NULL)
			return 0;
	}
	return -1;
}

/* Waits on listener lfd for the redirect with state; *code_r. */
static int
wait_code(struct login *L, int lfd, const char *state, char **code_r)
{
	char	 req[REQ_MAX], *path, *sp, *got, *err;
	struct pollfd p = { lfd, POLLIN, 0 };
	time_t	 end = time(NULL) + L->timeout;
	int	 fd, n, rc = -1;

	*code_r = NULL;
	for (;;) {
		n = (int)(end - time(NULL));
		if (n <= 0 || poll(&p, 1, n * 1000) != 1) {
			log_warnx("%s: no redirect from the browser within %d "
			    "s", L->a->name, L->timeout);
			return EXIT_TEMP;
		}
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		if (read_request(fd, req, sizeof(req)) == -1 ||
		    strncmp(req, "GET ", 4) != 0) {
			reply(fd, "400 Bad Request", "imapsift: not a GET\n");
			close(fd);
			continue;
		}
		path = req + 4;
		if ((sp = strchr(path, ' ')) != NULL)
			*sp = '\0';
		if (path[0] != '/' || (path[1] != '?' && path[1] != '\0')) {
			reply(fd, "404 Not Found", "imapsift: not here\n");
			close(fd);
			continue;
		}
		got = param(path + 1 + (path[1] == '?'), "state");
		if (got == NULL || strcmp(got, state) != 0) {
			free(got);
			log_warnx("%s: a redirect without the state imapsift "
			    "sent: ignored", L->a->name);
			reply(fd, "400 Bad Request", "imapsift: the state "
			    "does not match this sign-in; ignored\n");
			close(fd);
			continue;
		}
		free(got);
		err = param(path + 2, "error");
		*code_r = param(path + 2, "code");
		if (err != NULL || *code_r == NULL) {
			char	*d = param(path + 2, "error_description");

			log_warnx("%s: the authorization server refused the "
			    "sign-in: %s%s%s", L->a->name, err != NULL ? err :
			    "no code", d != NULL ? ": " : "", d != NULL ? d :
			    "");
			reply(fd, "200 OK", "imapsift: sign-in refused; see "
			    "the terminal.\n");
			free(d);
			free(*code_r);
			*code_r = NULL;
			rc = EXIT_AUTH;
		} else {
			reply(fd, "200 OK", "imapsift: signed in. You may "
			    "close this window.\n");
			rc = EXIT_OK;
		}
		free(err);
		explicit_bzero(req, sizeof(req));
		close(fd);
		return rc;
	}
}

/* The exit status for a failed OAUTH2_* r. */
static int
login_exit(int r)
{
	if (r == OAUTH2_TEMP)
		return EXIT_TEMP;
	return r == OAUTH2_TLS ? EXIT_FAIL : EXIT_AUTH;
}

/* Posts form to the token endpoint and stores the tokens. */
static int
token_request(struct login *L, const char *form)
{
	struct oauth2_json *j = NULL;
	char	 err[512] = "";
	long	 status;
	int	 r;

	r = oauth2_post(L->a, L->ep.token, form, &j, &status, err,
	    sizeof(err));
	if (r == OAUTH2_OK && status / 100 == 2 &&
	    oauth2_json_str(j, "access_token") != NULL)
		r = oauth2_take_tokens(L->a, L->dir, j, NULL, err, sizeof(err));
	else if (r == OAUTH2_OK)
		r = oauth2_token_error(j, status, err, sizeof(err));
	oauth2_json_free(&j);
	if (r != OAUTH2_OK) {
		log_warnx("%s: %s: %s", L->a->name, L->ep.token, err);
		return login_exit(r);
	}
	return EXIT_OK;
}

static void
form_client(const struct conf_account *a, struct buf *f)
{
	oauth2_form_add(f, "client_id", a->oauth2.client_id);
	if (a->oauth2.client_secret != NULL)
		oauth2_form_add(f, "client_secret", a->oauth2.client_secret);
}

static int
flow_code(struct login *L)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	unsigned char dig[32];
	struct buf q = { 0 }, form = { 0 };
	char	 redirect[64], *verifier, *challenge, *state, *code = NULL;
	int	 lfd, rc;

	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 8) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1)
		fatal("127.0.0.1: listen");
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%u/",
	    (unsigned)ntohs(sin.sin_port));
	verifier = random_b64(32);	/* 43 characters */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, verifier, strlen(verifier),
	    dig) != 0)
		fatalx("SHA-256 failed");
	challenge = oauth2_base64(dig, sizeof(dig), 1);
	state = random_b64(16);
	oauth2_form_add(&q, "response_type", "code");
	oauth2_form_add(&q, "client_id", L->a->oauth2.client_id);
	oauth2_form_add(&q, "redirect_uri", redirect);
	if (L->ep.scopes[0] != '\0')
		oauth2_form_add(&q, "scope", L->ep.scopes);
	oauth2_form_add(&q, "state", state);
	oauth2_form_add(&q, "code_challenge", challenge);
	oauth2_form_add(&q, "code_challenge_method", "S256");
	if (strchr(L->a->user, '@') != NULL)
		oauth2_form_add(&q, "login_hint", L->a->user);
	printf("To sign in to %s, open this address in a web browser on "
	    "this machine:\n\n  %s%c%s%s%s\n\n"
	    "Waiting for the browser at %s (up to %d s)...\n", L->a->name,
	    L->ep.auth, strchr(L->ep.auth, '?') != NULL ? '&' : '?', q.p,
	    L->ep.extra != NULL ? "&" : "", L->ep.extra != NULL ?
	    L->ep.extra : "", redirect, L->timeout);
	fflush(stdout);
	oauth2_form_free(&q);
	rc = wait_code(L, lfd, state, &code);
	close(lfd);
	if (rc == EXIT_OK) {
		oauth2_form_add(&form, "grant_type", "authorization_code");
		oauth2_form_add(&form, "code", code);
		oauth2_form_add(&form, "redirect_uri", redirect);
		oauth2_form_add(&form, "code_verifier", verifier);
		form_client(L->a, &form);
		rc = token_request(L, form.p);
		oauth2_form_free(&form);
		explicit_bzero(code, strlen(code));
	}
	free(code);
	explicit_bzero(verifier, strlen(verifier));
	free(verifier);
	free(challenge);
	free(state);
	return rc;
}

static int
flow_device(struct login *L)
{
	struct oauth2_json *j = NULL;
	struct buf form = { 0 };
	const char *uri, *ucode, *full, *e;
	char	 err[512] = "", *dcode;
	long long interval, expires;
	time_t	 end;
	long	 status;
	int	 r, rc;

	oauth2_form_add(&form, "client_id", L->a->oauth2.client_id);
	if (L->ep.scopes[0] != '\0')
		oauth2_form_add(&form, "scope", L->ep.scopes);
	r = oauth2_post(L->a, L->ep.device, form.p, &j, &status, err,
	    sizeof(err));
	oauth2_form_free(&form);
	if (r == OAUTH2_OK && (status / 100 != 2 ||
	    oauth2_json_str(j, "device_code") == NULL))
		r = oauth2_token_error(j, status, err, sizeof(err));
	if (r != OAUTH2_OK) {
		oauth2_json_free(&j);
		log_warnx("%s: %s: %s", L->a->name, L->ep.device, err);
		return login_exit(r);
	}
	uri = oauth2_json_str(j, "verification_uri");
	if (uri == NULL)		/* Google's older name */
		uri = oauth2_json_str(j, "verification_url");
	ucode = oauth2_json_str(j, "user_code");
	full = oauth2_json_str(j, "verification_uri_complete");
	if (uri == NULL || ucode == NULL) {
		oauth2_json_free(&j);
		log_warnx("%s: %s: no verification_uri or user_code",
		    L->a->name, L->ep.device);
		return EXIT_AUTH;
	}
	interval = oauth2_json_int(j, "interval", 5);
	expires = oauth2_json_int(j, "expires_in", LOGIN_TIMEOUT);
	if (interval < 1 || interval > 60)
		interval = 5;
	if (expires < 1 || expires > L->timeout)
		expires = L->timeout;
	printf("To sign in to %s, open %s\nand enter the code %s\n", L->a->name,
	    uri, ucode);
	if (full != NULL)
		printf("(or open %s)\n", full);
	printf("Waiting for the approval (up to %lld s)...\n", expires);
	fflush(stdout);
	dcode = xstrdup(oauth2_json_str(j, "device_code"));
	oauth2_json_free(&j);
	end = time(NULL) + (time_t)expires;
	for (rc = -1; rc == -1; ) {
		if (time(NULL) + interval > end) {
			log_warnx("%s: the code was not approved in time",
			    L->a->name);
			rc = EXIT_TEMP;
			break;
		}
		sleep((unsigned)interval);
		oauth2_form_add(&form, "grant_type",
		    "urn:ietf:params:oauth:grant-type:device_code");
		oauth2_form_add(&form, "device_code", dcode);
		form_client(L->a, &form);
		r = oauth2_post(L->a, L->ep.token, form.p, &j, &status, err,
		    sizeof(err));
		if (r == OAUTH2_TEMP) {		/* a blip: ask again */
			log_info("%s: %s", L->a->name, err);
		} else if (r == OAUTH2_OK && status / 100 == 2 &&
		    oauth2_json_str(j, "access_token") != NULL) {
			r = oauth2_take_tokens(L->a, L->dir, j, NULL, err,
			    sizeof(err));
			if (r != OAUTH2_OK)
				log_warnx("%s: %s", L->a->name, err);
			rc = r == OAUTH2_OK ? EXIT_OK : EXIT_FAIL;
		} else if ((e = oauth2_json_str(j, "error")) != NULL &&
		    strcmp(e, "authorization_pending") == 0) {
			;
		} else if (e != NULL && strcmp(e, "slow_down") == 0) {
			interval += 5;
		} else {
			r = r == OAUTH2_OK ?
			    oauth2_token_error(j, status, err, sizeof(err)) : r;
			log_warnx("%s: %s: %s", L->a->name, L->ep.token, err);
			rc = login_exit(r);
		}
		oauth2_json_free(&j);
		oauth2_form_free(&form);
	}
	explicit_bzero(dcode, strlen(dcode));
	free(dcode);
	return rc;
}

static int
login_usage(FILE *f)
{
	fprintf(f, "usage: imapsift login [-c FILE] [--flow code|device] "
	    "[--timeout SECS] ACCOUNT\n");
	return f == stdout ? EXIT_OK : EXIT_CONFIG;
}

int
cmd_login(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "flow", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cpath = NULL, *flow = NULL;
	struct login L;
	struct conf *c = NULL;
	char	 dir[4096], path[4200];
	int	 ch, rc;

	signal(SIGPIPE, SIG_IGN);
	memset(&L, 0, sizeof(L));
	L.timeout = LOGIN_TIMEOUT;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		case 'f':
			flow = optarg;
			if (strcmp(flow, "code") != 0 &&
			    strcmp(flow, "device") != 0)
				return login_usage(stderr);
			break;
		case 't':
			L.timeout = atoi(optarg);
			if (L.timeout < 1 || L.timeout > 3600)
				return login_usage(stderr);
			break;
		case 'v':
			log_init(1);
			break;
		case 'h':
			return login_usage(stdout);
		default:
			return login_usage(stderr);
		}
	}
	if (optind != argc - 1)
		return login_usage(stderr);
	if (config_load(cpath, 0, &c) != OUT_OK)
		return EXIT_CONFIG;
	rc = EXIT_CONFIG;
	L.a = conf_account(c, argv[optind]);
	if (L.a == NULL)
		log_warnx("%s: no account named \"%s\"", c->path,
		    argv[optind]);
	else if (L.a->auth != CONF_AUTH_OAUTH2)
		log_warnx("%s:%u: account \"%s\" does not use auth = "
		    "\"oauth2\"", c->path, L.a->line, L.a->name);
	else if (account_store_dir(c, dir, sizeof(dir)) == 0) {
		L.dir = dir;
		oauth2_endpoints(L.a, &L.ep);
		if (flow != NULL)
			L.ep.flow = strcmp(flow, "code") == 0 ?
			    CONF_OAUTH2_FLOW_CODE : CONF_OAUTH2_FLOW_DEVICE;
		if (L.ep.flow == CONF_OAUTH2_FLOW_CODE && L.ep.auth == NULL)
			log_warnx("%s: the code flow needs "
			    "oauth2_authorization_endpoint", L.a->name);
		else if (L.ep.flow == CONF_OAUTH2_FLOW_DEVICE &&
		    L.ep.device == NULL)
			log_warnx("%s: the device flow needs "
			    "oauth2_device_endpoint", L.a->name);
		else
			rc = L.ep.flow == CONF_OAUTH2_FLOW_CODE ?
			    flow_code(&L) : flow_device(&L);
		oauth2_ep_free(&L.ep);
		if (rc == EXIT_OK) {
			oauth2_token_path(L.a, dir, path, sizeof(path));
			printf("%s: signed in; the refresh token is %s\n",
			    L.a->name, L.a->oauth2.token_command != NULL ?
			    "with token_command" : path);
		}
	}
	conf_free(&c);
	return rc;
}
