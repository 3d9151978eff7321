/*
 * imap.c: an IMAP session over libetpan: connect (implicit TLS, STARTTLS
 * or loopback plaintext), certificate check (imap-tls.c) before any
 * credential, capabilities, authentication, logout.  The session's state
 * and the mapping of libetpan's MAILIMAP_* codes to outcomes (OUT_OK,
 * OUT_TEMP, OUT_PERM) are in imap-sess.c.  libetpan-notes.md explains the
 * traps avoided here.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "agent/imap-private.h"
#include "agent/imap-sess.h"
#include "agent/log.h"
#include "agent/util.h"
#include "conf/conf.h"

#define IMAP_DEFAULT_TIMEOUT	60
#define IMAP_LOGOUT_TIMEOUT	5

static int
is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/* Is the address one of the loopback interface's (127.0.0.0/8, ::1,
 * ::ffff:127.0.0.0/104)? */
static int
addr_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6;
	const unsigned char *a;

	if (sa->sa_family == AF_INET) {
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return a[0] == 127;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	a = s6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && a[12] == 127);
}

/* Runs before the TLS handshake: SNI for host names (RFC 6066 forbids
 * it for IP literals). */
static void
sni_cb(struct mailstream_ssl_context *ctx, void *arg)
{
	struct imap *s = arg;

	if (!is_ip_literal(s->host))
		mailstream_ssl_set_server_name(ctx, s->host);
}

static void
set_keepalive(struct imap *s)
{
	int fd, on = 1, idle = 60, intvl = 20, cnt = 4;

	if ((fd = mailimap_idle_get_fd(s->mi)) < 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1)
		log_debug("%s: SO_KEEPALIVE failed", s->account);
#ifdef TCP_KEEPIDLE
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
#else
	(void)idle, (void)intvl, (void)cnt;
#endif
}

/* Fetches CAPABILITY again (after STARTTLS or login). */
static int
refresh_caps(struct imap *s)
{
	struct mailimap_capability_data *cd = NULL;
	int r;

	r = mailimap_capability(s->mi, &cd);
	if (cd != NULL)
		mailimap_capability_data_free(cd);
	return imap_fail(s, r, "CAPABILITY");
}

/* A TCP connection to s->host:port within tmo seconds, the first
 * address that answers; -1 with s->err set.  With loopback_only (tls =
 * "none") an address outside loopback is never connected to, whatever
 * the name: plaintext credentials must not leave the machine. */
static int
tcp_connect(struct imap *s, uint16_t port, time_t tmo, int loopback_only)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd p;
	char serv[8], host[256], other[INET6_ADDRSTRLEN] = "";
	const char *h = s->host;
	size_t n = strlen(h);
	socklen_t len;
	int fd = -1, e = 0, fl, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof(serv), "%u", port);
	if (n > 2 && n < sizeof(host) && h[0] == '[' && h[n - 1] == ']') {
		memcpy(host, h + 1, n - 2);	/* [::1] */
		host[n - 2] = '\0';
		h = host;
	} else if (strcasecmp(h, "localhost.") == 0)
		h = "localhost";	/* the same name; /etc/hosts lacks it */
	if ((r = getaddrinfo(h, serv, &hints, &res)) != 0) {
		s->dead = 1;
		snprintf(s->err, sizeof(s->err), "cannot connect: %s",
		    gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (loopback_only && !addr_loopback(ai->ai_addr)) {
			if (other[0] == '\0' && getnameinfo(ai->ai_addr,
			    ai->ai_addrlen, other, sizeof(other), NULL, 0,
			    NI_NUMERICHOST) != 0)
				snprintf(other, sizeof(other), "?");
			continue;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		if (fd >= FD_SETSIZE) {		/* libetpan select()s on it */
			close(fd);
			fd = -1;
			e = EMFILE;
			break;
		}
		fl = fcntl(fd, F_GETFL);
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			e = errno;
			close(fd);
			fd = -1;
			continue;
		}
		p.fd = fd;
		p.events = POLLOUT;
		p.revents = 0;
		len = sizeof(e);
		e = 0;
		if ((r = poll(&p, 1, (int)tmo * 1000)) <= 0)
			e = r == 0 ? ETIMEDOUT : errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			e = errno;
		if (e == 0) {
			(void)fcntl(fd, F_SETFL, fl);
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1 && e == 0 && other[0] != '\0') {
		s->dead = 1;
		snprintf(s->err, sizeof(s->err), "tls = none: %s is %s, not "
		    "a loopback address: refusing plaintext", s->host, other);
		return -2;
	}
	if (fd == -1) {
		s->dead = 1;
		snprintf(s->err, sizeof(s->err), "cannot connect: %s",
		    log_strerror(e != 0 ? e : ECONNREFUSED));
	}
	return fd;
}

/* Connects and, for STARTTLS, upgrades; *preauth_r is set on PREAUTH. */
static int
imap_connect(struct imap *s, const struct imap_opts *o, int *preauth_r)
{
	struct _mailstream_low *low, *guard;
	mailstream *stream;
	char why[170];
	int fd, r;
	time_t tmo = s->mi->imap_timeout;

	/* Our own connect, so that the guard (imap-guard.c) already stands
	 * between libetpan's parser and the server for the greeting. */
	fd = tcp_connect(s, o->port, tmo, o->tls == IMAP_TLS_NONE);
	if (fd == -2)
		return OUT_PERM;	/* plaintext to a non-loopback address */
	if (fd == -1)
		return OUT_TEMP;	/* every connect failure may pass */
	imap_tls_why(why, sizeof(why));	/* forget any from before */
	low = o->tls == IMAP_TLS_IMPLICIT ?
	    mailstream_low_ssl_open_with_callback_timeout(fd, tmo, sni_cb, s) :
	    mailstream_low_socket_open(fd);
	if (low == NULL) {
		close(fd);
		s->dead = 1;
		imap_tls_why(why, sizeof(why));
		snprintf(s->err, sizeof(s->err), "%s%s", o->tls ==
		    IMAP_TLS_IMPLICIT ? "TLS handshake failed" :
		    "cannot set up the connection", why);
		return OUT_TEMP;
	}
	mailstream_low_set_timeout(low, tmo);
	if ((guard = imap_guard_wrap(low)) == NULL ||
	    (stream = mailstream_new(guard, 8192)) == NULL)
		fatalx("out of memory");
	r = mailimap_connect(s->mi, stream);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		(void)imap_fail(s, r, "connect");
		return OUT_TEMP;
	}
	*preauth_r = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	/* Stock Cyrus (without idled) and Courier (without FAM) look for
	 * new mail only every 60 s while in IDLE; both name themselves in
	 * the greeting's text, which libetpan keeps in imap_response. */
	if (s->mi->imap_response != NULL) {
		s->late_push = strstr(s->mi->imap_response, "Cyrus") != NULL ||
		    strstr(s->mi->imap_response, "Courier") != NULL;
		log_debug("%s: greeting: %s", s->account,
		    s->mi->imap_response);
	}
	set_keepalive(s);
	if (o->tls != IMAP_TLS_STARTTLS)
		return OUT_OK;
	if (*preauth_r) {
		s->dead = 1;
		snprintf(s->err, sizeof(s->err), "server sent PREAUTH: "
		    "STARTTLS impossible, refusing plaintext");
		return OUT_PERM;
	}
	if (!mailimap_has_extension(s->mi, "STARTTLS") &&
	    (r = refresh_caps(s)) != OUT_OK)
		return r;
	if (!mailimap_has_extension(s->mi, "STARTTLS")) {
		s->dead = 1;
		snprintf(s->err, sizeof(s->err),
		    "server does not offer STARTTLS");
		return OUT_PERM;
	}
	imap_tls_why(why, sizeof(why));	/* forget any from before */
	r = mailimap_socket_starttls_with_callback(s->mi, sni_cb, s);
	if (r != MAILIMAP_NO_ERROR) {
		r = imap_fail(s, r, "STARTTLS");
		imap_tls_why(why, sizeof(why));
		if (why[0] != '\0' && strlen(s->err) + strlen(why) <
		    sizeof(s->err))
			strcat(s->err, why);
		s->dead = 1;		/* never go on in plaintext */
		return r;
	}
	if (imap_guard_install(s->mi) != 0)	/* the TLS stream is new */
		fatalx("out of memory");
	return OUT_OK;
}

static int
imap_auth(struct imap *s, const struct imap_opts *o)
{
	const char *u = o->user != NULL ? o->user : "";
	const char *p = o->secret != NULL ? o->secret : "";
	int r;

	switch (o->auth) {
	case IMAP_AUTH_LOGIN:
		if (mailimap_has_extension(s->mi, "LOGINDISABLED")) {
			snprintf(s->err, sizeof(s->err),
			    "server disables LOGIN; try auth = plain");
			return OUT_PERM;
		}
		r = mailimap_login(s->mi, u, p);
		break;
	case IMAP_AUTH_PLAIN:
		if (!mailimap_has_authentication(s->mi, "PLAIN")) {
			snprintf(s->err, sizeof(s->err),
			    "server does not offer AUTH=PLAIN");
			return OUT_PERM;
		}
		r = mailimap_authenticate(s->mi, "PLAIN", s->host, NULL, NULL,
		    "", u, p, NULL);
		break;
	case IMAP_AUTH_XOAUTH2:
		if (!mailimap_has_xoauth2(s->mi)) {
			snprintf(s->err, sizeof(s->err),
			    "server does not offer AUTH=XOAUTH2");
			return OUT_PERM;
		}
		r = mailimap_oauth2_authenticate(s->mi, u, p);
		break;
	case IMAP_AUTH_OAUTHBEARER:
		if (!mailimap_has_authentication(s->mi, "OAUTHBEARER")) {
			snprintf(s->err, sizeof(s->err),
			    "server does not offer AUTH=OAUTHBEARER");
			return OUT_PERM;
		}
		r = imap_oauthbearer(s, u, p, o->port);
		break;
	default:
		snprintf(s->err, sizeof(s->err), "unknown auth method");
		return OUT_PERM;
	}
	if (r == MAILIMAP_ERROR_LOGIN) {
		if (s->mi->imap_response != NULL &&
		    s->mi->imap_response[0] != '\0')
			(void)imap_fail(s, r, "login");
		else
			snprintf(s->err, sizeof(s->err), "login: refused "
			    "(no server text; for PLAIN is libsasl2-modules "
			    "installed?)");
		return OUT_AUTH;
	}
	return imap_fail(s, r, "login");
}

static int
imap_open1(struct imap *s, const struct imap_opts *o)
{
	int r, preauth = 0;

	if (o->tls == IMAP_TLS_NONE && !conf_host_loopback(o->host)) {
		snprintf(s->err, sizeof(s->err), "tls = none is only allowed "
		    "to a loopback host, not %s", o->host);
		return OUT_PERM;
	}
	if (o->port == 0) {
		snprintf(s->err, sizeof(s->err), "port 0");
		return OUT_PERM;
	}
	if ((s->mi = mailimap_new(0, NULL)) == NULL)
		fatalx("out of memory");
	mailimap_set_timeout(s->mi, o->timeout > 0 ? o->timeout :
	    IMAP_DEFAULT_TIMEOUT);
	if ((r = imap_connect(s, o, &preauth)) != OUT_OK)
		return r;
	if (o->tls != IMAP_TLS_NONE &&
	    imap_tls_verify(s, o->ca_file, s->err, sizeof(s->err)) != 0) {
		s->dead = 1;
		return OUT_PERM;
	}
	if ((r = refresh_caps(s)) != OUT_OK)
		return r;
	if (preauth)
		return OUT_OK;
	if ((r = imap_auth(s, o)) != OUT_OK)
		return r;
	return refresh_caps(s);
}

int
imap_open(struct imap **s_r, const struct imap_opts *opts, char *err,
    size_t errlen)
{
	struct imap *s;
	int r;

	*s_r = NULL;
	s = xcalloc(1, sizeof(*s));
	s->host = xstrdup(opts->host != NULL ? opts->host : "");
	s->account = xstrdup(opts->account != NULL ? opts->account :
	    s->host);
	r = imap_open1(s, opts);
	if (r != OUT_OK) {
		if (errlen > 0)
			snprintf(err, errlen, "%s", s->err);
		imap_drop(&s);
		return r;
	}
	s->err[0] = '\0';
	log_debug("%s: imap session to %s open", s->account, s->host);
	*s_r = s;
	return OUT_OK;
}

void
imap_drop(struct imap **sp)
{
	struct imap *s = *sp;

	if (s == NULL)
		return;
	if (s->mi != NULL) {
		/* mailimap_free would send LOGOUT and wait out the timeout
		 * on a dead peer: close the stream first. */
		if (s->mi->imap_stream != NULL) {
			mailstream_close(s->mi->imap_stream);
			s->mi->imap_stream = NULL;
		}
		mailimap_free(s->mi);
	}
	free(s->host);
	free(s->account);
	free(s->sel);
	free(s);
	*sp = NULL;
}

void
imap_cancel(struct imap *s)
{
	/* Sticky: libetpan's low stream (socket or TLS) wakes from its
	 * select() on its cancel pipe, and every later read or write fails
	 * at once (MAILIMAP_ERROR_STREAM)... */
	int fd;

	if (s == NULL || s->mi == NULL || s->mi->imap_stream == NULL)
		return;
	mailstream_low_cancel(mailstream_get_low(s->mi->imap_stream));
	/* ... and a poll() on the socket (IDLE) sees it end. */
	if ((fd = mailimap_idle_get_fd(s->mi)) >= 0)
		(void)shutdown(fd, SHUT_RDWR);
}

void
imap_close(struct imap **sp)
{
	struct imap *s = *sp;

	if (s == NULL)
		return;
	if (imap_alive(s)) {
		mailstream_low_set_timeout(mailstream_get_low(
		    s->mi->imap_stream), IMAP_LOGOUT_TIMEOUT);
		(void)mailimap_logout(s->mi);
	}
	imap_drop(sp);
}

/* A UID set from n UIDs in any order, ranges merged.  Dies on OOM. */
struct mailimap_set *
imap_uidset(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set;
	uint32_t *v;
	size_t i, j;

	v = xcalloc(n, sizeof(*v));
	memcpy(v, uids, n * sizeof(*v));
	qsort(v, n, sizeof(*v), util_cmp_u32);
	if ((set = mailimap_set_new_empty()) == NULL)
		fatalx("out of memory");
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] <= v[j - 1] + 1; j++)
			;
		if (mailimap_set_add_interval(set, v[i], v[j - 1]) !=
		    MAILIMAP_NO_ERROR)
			fatalx("out of memory");
	}
	free(v);
	return set;
}
