/*
 * imap-oauth.c: AUTHENTICATE OAUTHBEARER (RFC 7628), which libetpan
 * 1.9.4 does not have (its mailimap_oauth2_authenticate is XOAUTH2, and
 * Cyrus SASL has no OAUTHBEARER in Debian).  The GS2 message goes as a
 * SASL-IR initial response; a failure comes as a continuation carrying
 * the server's JSON error, answered with the dummy %x01 the RFC asks
 * for, then the tagged NO.  The message holds the token: it goes to the
 * stream only, never to a log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "agent/imap-private.h"
#include "agent/oauth2.h"
#include "agent/util.h"

/* Writes s (with a space before it when sp; nothing for NULL) and CRLF,
 * then flushes: 0 or -1. */
static int
send_line(struct mailimap *mi, const char *s, int sp)
{
	size_t	 n = s != NULL ? strlen(s) : 0;

	if (s != NULL && ((sp && mailstream_write(mi->imap_stream, " ", 1) !=
	    1) || mailstream_write(mi->imap_stream, s, n) != (ssize_t)n))
		return -1;
	if (mailstream_write(mi->imap_stream, "\r\n", 2) != 2 ||
	    mailstream_flush(mi->imap_stream) == -1)
		return -1;
	return 0;
}

int
imap_oauthbearer(struct imap *s, const char *user, const char *token,
    unsigned port)
{
	struct mailimap *mi = imap_mi(s);
	struct mailimap_response *resp = NULL;
	char	*gs2, *b64, *line;
	size_t	 n;
	int	 r, ok, ir;

	if (strchr(user, ',') != NULL || strchr(user, '=') != NULL)
		return MAILIMAP_ERROR_LOGIN;	/* would need escaping */
	n = strlen(user) + strlen(imap_host(s)) + strlen(token) + 64;
	gs2 = xmalloc(n);
	n = (size_t)snprintf(gs2, n, "n,a=%s,\001host=%s\001port=%u\001"
	    "auth=Bearer %s\001\001", user, imap_host(s), port, token);
	b64 = oauth2_base64(gs2, n, 0);
	explicit_bzero(gs2, n);
	free(gs2);
	ir = mailimap_has_extension(mi, "SASL-IR");
	r = mailimap_send_current_tag(mi);
	if (r == MAILIMAP_NO_ERROR &&
	    (mailstream_write(mi->imap_stream, "AUTHENTICATE OAUTHBEARER",
	    24) != 24 || (ir && send_line(mi, b64, 1) == -1) ||
	    (!ir && send_line(mi, NULL, 0) == -1)))
		r = MAILIMAP_ERROR_STREAM;
	for (; r == MAILIMAP_NO_ERROR; ) {
		if ((line = mailimap_read_line(mi)) == NULL)
			r = MAILIMAP_ERROR_STREAM;
		else if (line[0] == '+') {
			/* The empty challenge without SASL-IR, then the
			 * server's error, answered with %x01. */
			if (send_line(mi, ir ? "AQ==" : b64, 0) == -1)
				r = MAILIMAP_ERROR_STREAM;
			ir = 1;
		} else if (strncasecmp(line, "* BYE", 5) == 0)
			r = MAILIMAP_ERROR_FATAL;
		else if (line[0] != '*')	/* not e.g. * CAPABILITY */
			break;
	}
	explicit_bzero(b64, strlen(b64));
	free(b64);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	r = mailimap_parse_response(mi, &resp);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	ok = resp->rsp_resp_done != NULL &&
	    resp->rsp_resp_done->rsp_type == MAILIMAP_RESP_DONE_TYPE_TAGGED &&
	    resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->
	    rsp_type == MAILIMAP_RESP_COND_STATE_OK;
	mailimap_response_free(resp);
	if (!ok)
		return MAILIMAP_ERROR_LOGIN;
	mi->imap_state = MAILIMAP_STATE_AUTHENTICATED;
	return MAILIMAP_NO_ERROR;
}
