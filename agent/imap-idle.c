/*
 * imap-idle.c: IDLE (RFC 2177) and NOOP.  IDLE is started by hand, not
 * with libetpan 1.9.4's mailimap_idle(): that one stalls until the
 * timeout when an untagged line (say "* 4 EXISTS") comes before the
 * "+ idling" continuation (libetpan-notes.md section 7).  DONE is left
 * to mailimap_idle_done(), which reads the untagged data and the tagged
 * reply.  Lines that arrived with the continuation are already in
 * libetpan's read buffer, where poll() cannot see them: imap_idle_wait
 * looks there first.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "agent/imap-private.h"

int
imap_idle_start(struct imap *s, int *had_data_r)
{
	struct mailimap *mi;
	struct mailimap_response *resp;
	char *line;
	int r;

	*had_data_r = 0;
	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	mi = imap_mi(s);
	if (mi->imap_selection_info == NULL)	/* libetpan would crash */
		return imap_fail(s, MAILIMAP_ERROR_BAD_STATE,
		    "IDLE (nothing selected)");
	mi->imap_selection_info->sel_has_exists = 0;
	mi->imap_selection_info->sel_has_recent = 0;
	if ((r = mailimap_send_current_tag(mi)) != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "IDLE");
	if (mailstream_write(mi->imap_stream, "IDLE\r\n", 6) != 6 ||
	    mailstream_flush(mi->imap_stream) == -1)
		return imap_fail(s, MAILIMAP_ERROR_STREAM, "IDLE");
	for (;;) {
		if ((line = mailimap_read_line(mi)) == NULL)
			return imap_fail(s, MAILIMAP_ERROR_STREAM, "IDLE");
		if (line[0] == '+')
			break;
		if (strncasecmp(line, "* BYE", 5) == 0)	/* while it is here */
			return imap_fail(s, MAILIMAP_ERROR_FATAL, "IDLE");
		if (line[0] == '*') {	/* news before the continuation */
			*had_data_r = 1;
			continue;
		}
		/* The tagged reply: IDLE refused (NO or BAD). */
		r = mailimap_parse_response(mi, &resp);
		if (r == MAILIMAP_NO_ERROR) {
			mailimap_response_free(resp);
			r = MAILIMAP_ERROR_EXTENSION;
		}
		return imap_fail(s, r, "IDLE");
	}
	if (mi->imap_stream->read_buffer_len > 0)
		*had_data_r = 1;
	return OUT_OK;
}

int
imap_idle_wait(struct imap *s, int wake_fd, int ms)
{
	struct mailimap *mi = imap_mi(s);
	struct pollfd p[2];
	int n;

	if (!imap_alive(s))
		return -1;
	if (mi->imap_stream->read_buffer_len > 0)
		return 1;
	p[0].fd = mailimap_idle_get_fd(mi);
	p[0].events = POLLIN;
	p[1].fd = wake_fd;
	p[1].events = POLLIN;
	p[0].revents = p[1].revents = 0;
	do
		n = poll(p, wake_fd >= 0 ? 2 : 1, ms);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n == 0)
		return 0;
	if (p[1].revents != 0)
		return 2;
	return 1;
}

int
imap_idle_done(struct imap *s)
{
	int r;

	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	return imap_fail(s, mailimap_idle_done(imap_mi(s)), "IDLE DONE");
}

int
imap_noop(struct imap *s)
{
	int r;

	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	return imap_fail(s, mailimap_noop(imap_mi(s)), "NOOP");
}
