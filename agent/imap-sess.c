/*
 * imap-sess.c: an IMAP session's state (the selected mailbox, the last
 * error) and the mapping of libetpan's MAILIMAP_* codes to outcomes
 * (OUT_OK, OUT_TEMP, OUT_PERM: imap_fail, imap_fail_optional).  It needs no
 * socket of its own, so tests/fuzz/fuzz_imap.c links it with a session
 * over memory.  imap.c opens and closes sessions.
 */
#include <sys/socket.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "agent/imap-private.h"
#include "agent/imap-sess.h"
#include "agent/log.h"
#include "agent/util.h"

struct mailimap *
imap_mi(struct imap *s)
{
	return s->mi;
}

const char *
imap_host(const struct imap *s)
{
	return s->host;
}

int
imap_pushes_late(const struct imap *s)
{
	return s != NULL && s->late_push;
}

int
imap_alive(const struct imap *s)
{
	return s != NULL && !s->dead && s->mi != NULL &&
	    s->mi->imap_stream != NULL;
}

const char *
imap_selected(const struct imap *s, int *readonly_r)
{
	if (readonly_r != NULL)
		*readonly_r = s->sel_ro;
	return imap_alive(s) ? s->sel : NULL;
}

void
imap_set_selected(struct imap *s, const char *name, int readonly)
{
	free(s->sel);
	s->sel = name != NULL ? xstrdup(name) : NULL;
	s->sel_ro = readonly;
}

const char *
imap_error(const struct imap *s)
{
	return s->err;
}

int
imap_has(struct imap *s, const char *cap)
{
	return mailimap_has_extension(s->mi, cap) ? 1 : 0;
}

int
imap_ready(struct imap *s)
{
	char why[sizeof(s->err) - 32];

	if (imap_alive(s)) {
		s->err[0] = '\0';
		return OUT_OK;
	}
	/* Keep the cause: later calls must not blame themselves. */
	if (s->err[0] == '\0')
		snprintf(s->err, sizeof(s->err), "session is closed");
	else if (strncmp(s->err, "session closed earlier", 22) != 0) {
		memcpy(why, s->err, sizeof(why) - 1);
		why[sizeof(why) - 1] = '\0';
		snprintf(s->err, sizeof(s->err),
		    "session closed earlier (%s)", why);
	}
	return s->dead_rc != 0 ? s->dead_rc : OUT_TEMP;
}

/* Copies server text into dst, replacing control bytes. */
static void
safe_copy(char *dst, size_t dstlen, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < dstlen; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ?
		    '?' : src[i];
	if (dstlen > 0)
		dst[i] = '\0';
}

static const char *
code_text(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE:
		return "unparsable server reply";
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return "cannot connect";
	case MAILIMAP_ERROR_MEMORY:
		return "out of memory";
	case MAILIMAP_ERROR_FATAL:
		return "server closed the session (BYE)";
	case MAILIMAP_ERROR_PROTOCOL:
		return "protocol error (BAD)";
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		return "server refused the connection";
	case MAILIMAP_ERROR_SSL:
		return "TLS handshake failed";
	case MAILIMAP_ERROR_BAD_STATE:
		return "command in a wrong state";
	case MAILIMAP_ERROR_INVAL:
		return "invalid argument";
	default:
		return "refused";
	}
}

/* 1 when the peer has closed the connection.  libetpan reports EOF in
 * the middle of a plaintext reply as PARSE, not STREAM. */
static int
peer_closed(struct imap *s)
{
	struct pollfd p;
	char c;
	int fd;

	if (s->mi->imap_stream == NULL ||
	    (fd = mailimap_idle_get_fd(s->mi)) < 0)
		return 1;
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
		return 1;
	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* The text of a "* BYE" line still in libetpan's read buffer, if any. */
static int
bye_text(struct imap *s, char *out, size_t outlen)
{
	const char *b, *e, *p;
	size_t n;

	if (s->mi->imap_stream_buffer == NULL ||
	    (b = s->mi->imap_stream_buffer->str) == NULL)
		return 0;
	for (p = b; (p = strstr(p, "* ")) != NULL; p += 2) {
		if ((p == b || p[-1] == '\n') &&
		    strncasecmp(p + 2, "BYE", 3) == 0 &&
		    (p[5] == ' ' || p[5] == '\r' || p[5] == '\n'))
			break;
	}
	if (p == NULL)
		return 0;
	p += 5;
	p += strspn(p, " ");
	e = p + strcspn(p, "\r\n");
	n = (size_t)(e - p) < outlen - 1 ? (size_t)(e - p) : outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	safe_copy(out, outlen, out);
	return 1;
}

/* RFC 3501 7.1: an [ALERT] must be shown to the user (once per text). */
static void
show_alert(struct imap *s)
{
	struct mailimap_response_info *ri = s->mi->imap_response_info;
	char a[sizeof(s->alert)];

	if (ri == NULL || ri->rsp_alert == NULL || *ri->rsp_alert == '\0')
		return;
	safe_copy(a, sizeof(a), ri->rsp_alert);
	if (strcmp(a, s->alert) == 0)
		return;
	snprintf(s->alert, sizeof(s->alert), "%s", a);
	log_warnx("%s: server alert: %s", s->account, a);
}

int
imap_fail(struct imap *s, int r, const char *what)
{
	const char *txt = NULL;
	const char *guard = NULL;
	int ret;
	char srv[400];

	show_alert(s);
	switch (r) {
	case MAILIMAP_NO_ERROR:
		return OUT_OK;
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_MEMORY:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
	case MAILIMAP_ERROR_SSL:
		s->dead = 1;
		ret = OUT_TEMP;
		break;
	case MAILIMAP_ERROR_PARSE:
		if (peer_closed(s))
			r = MAILIMAP_ERROR_STREAM;
		s->dead = 1;
		ret = r == MAILIMAP_ERROR_STREAM ? OUT_TEMP : OUT_PERM;
		break;
	case MAILIMAP_ERROR_BAD_STATE:
		s->dead = 1;
		ret = OUT_PERM;
		break;
	case MAILIMAP_ERROR_INVAL:	/* refused before sending */
		ret = OUT_PERM;
		break;
	case MAILIMAP_ERROR_PROTOCOL:
		s->dead = 1;
		ret = OUT_PERM;
		txt = s->mi->imap_response;
		break;
	default:			/* a per-command NO */
		ret = OUT_PERM;
		txt = s->mi->imap_response;
		break;
	}
	if (r == MAILIMAP_ERROR_STREAM)	/* why imap-guard.c cut it */
		guard = imap_guard_error(s->mi);
	if (s->dead && !s->dead_rc)
		s->dead_rc = ret;
	if (s->dead && txt == NULL && bye_text(s, srv, sizeof(srv)))
		snprintf(s->err, sizeof(s->err), "%s: server closed the "
		    "session: BYE %s", what, srv);
	else if (txt != NULL && *txt != '\0') {
		safe_copy(srv, sizeof(srv), txt);
		snprintf(s->err, sizeof(s->err), "%s: %s", what, srv);
	} else
		snprintf(s->err, sizeof(s->err), "%s: %s", what,
		    guard != NULL ? guard : code_text(r));
	log_debug("%s: imap %s failed (%d): %s", s->account, what, r,
	    s->err);
	return ret;
}

/*
 * As imap_fail, for a command the session can do without (NAMESPACE):
 * a server that advertises it yet answers BAD (as to a command it does
 * not know) must not cost the sweep.  libetpan reports a tagged BAD as
 * PROTOCOL, like a reply with a wrong tag that leaves the stream out of
 * step; a NOOP tells the two apart: answered in step, the session is
 * fine and only the command was refused (OUT_PERM, s stays alive).
 */
int
imap_fail_optional(struct imap *s, int r, const char *what)
{
	char txt[200];
	int r2;

	if (r != MAILIMAP_ERROR_PROTOCOL || s->mi->imap_stream == NULL)
		return imap_fail(s, r, what);
	safe_copy(txt, sizeof(txt), s->mi->imap_response != NULL ?
	    s->mi->imap_response : "");
	if ((r2 = mailimap_noop(s->mi)) != MAILIMAP_NO_ERROR)
		return imap_fail(s, r2, what);
	snprintf(s->err, sizeof(s->err), "%s: BAD %s", what,
	    *txt != '\0' ? txt : code_text(r));
	log_debug("%s: imap %s refused (BAD), session still in step: %s",
	    s->account, what, s->err);
	return OUT_PERM;
}
