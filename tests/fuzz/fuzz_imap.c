/*
 * fuzz_imap.c: server replies through libetpan's response parser and
 * imapsift's own handling of them (imap-fetch.c, imap-mbox.c), without a
 * socket.
 *
 * A mailstream over memory (a mailstream_low driver reading the input and
 * discarding what the client writes) replaces the connection.  The
 * session is opened with a canned PREAUTH greeting and SELECT reply, so
 * the command under test carries tag "2"; the first input byte picks it:
 *   0 imap_uid_fetch (UID FETCH 1:* bodies: msg_from_att, range filter)
 *   1 imap_fetch_headers (the Sent harvest)
 *   2 imap_uid_search_since
 *   3 imap_list (LIST attributes, modified UTF-7 names)
 *   4 imap_select (UIDVALIDITY, UIDNEXT, EXISTS)
 *   5 imap_status (STATUS UIDVALIDITY UIDNEXT of Sent)
 *   6 NOOP (any untagged data: EXISTS, EXPUNGE, FLAGS, CAPABILITY...)
 * and the rest is the server's reply.
 *
 * imap.c (connect, TLS, login) needs a socket and is not linked; the
 * session's state and the error mapping the commands use (imap_ready,
 * imap_fail, imap_fail_optional, imap-sess.c) are the agent's own,
 * over a struct imap (imap-sess.h) made here around the memory stream.
 *
 * The memory stream goes through imap-guard.c as the socket does in the
 * agent, so the three libetpan 1.9.4 faults it defuses are covered too
 * (libetpan-notes.md): a literal {N} over the guard's limit (1 MiB
 * here) is refused before libetpan allocates it; end of file becomes an
 * error (on a plain socket libetpan spins on it inside a literal; the
 * memory driver also reports EOF once and an error after); and
 * "[PERMANENTFLAGS (" followed by anything but a flag or ")", which
 * makes 1.9.4 free a NULL list (fixed upstream in 266d59f; reproducer
 * tests/fixtures/fuzz/imap-permanentflags-null.reply), is renamed.
 * libetpan's parser also leaks parts of a reply it fails to parse (the agent
 * drops such a session), so each input runs first with leak detection
 * off, and again with it on only when the command succeeded: leaks on
 * the paths imapsift relies on are still found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>
#include <sanitizer/lsan_interface.h>

#include "agent/imap-private.h"
#include "agent/imap-sess.h"
#include "tests/fuzz/fuzz.h"

struct mem {
	const uint8_t *p;
	size_t	 len, off;
	int	 eofs;
};

/* ------------------------------------------------------------------ */
/* The memory stream.                                                   */

static ssize_t
mem_read(mailstream_low *low, void *buf, size_t count)
{
	struct mem *m = low->data;
	size_t	 n = m->len - m->off;

	if (n == 0)
		return m->eofs++ == 0 ? 0 : -1;
	if (n > count)
		n = count;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static ssize_t
mem_write(mailstream_low *low, const void *buf, size_t count)
{
	(void)low;
	(void)buf;
	return (ssize_t)count;
}

static int
mem_close(mailstream_low *low)
{
	(void)low;
	return 0;
}

static int
mem_fd(mailstream_low *low)
{
	(void)low;
	return -1;
}

static void
mem_free(mailstream_low *low)
{
	free(low->data);
	free(low);
}

static void
mem_cancel(mailstream_low *low)
{
	(void)low;
}

static mailstream_low_driver mem_driver = {
	mem_read, mem_write, mem_close, mem_fd, mem_free, mem_cancel,
	NULL, NULL, NULL, NULL, NULL
};

/* ------------------------------------------------------------------ */
/* The commands.                                                        */

static int
got_msg(void *arg, const struct imap_msg *m)
{
	size_t	*sum = arg, i;

	/* Every byte of data, and its NUL, must be readable. */
	for (i = 0; i <= m->len; i++)
		*sum += (unsigned char)m->data[i];
	return 0;
}

/* Runs command cmd; returns 1 when it succeeded. */
static int
run(struct imap *s, int cmd)
{
	struct imap_mailbox *mb = NULL;
	uint32_t *uids = NULL, v, n2, e;
	size_t	 n = 0, sum = 0;
	int	 r;

	switch (cmd) {
	case 0:
		r = imap_uid_fetch(s, 1, 0, 65536, got_msg, &sum);
		break;
	case 1:
		r = imap_fetch_headers(s, 1, got_msg, &sum);
		break;
	case 2:
		r = imap_uid_search_since(s, 86400, &uids, &n);
		free(uids);
		break;
	case 3:
		if ((r = imap_list(s, &mb, &n)) == OUT_OK)
			imap_list_free(mb, n);
		break;
	case 4:
		r = imap_select(s, "INBOX", 0, &v, &n2, &e);
		break;
	case 5:
		r = imap_status(s, "Sent", &v, &n2);
		break;
	default:
		r = mailimap_noop(s->mi) == MAILIMAP_NO_ERROR ? OUT_OK :
		    OUT_PERM;
		break;
	}
	return r == OUT_OK;
}

static char sess_name[] = "fuzz";

/* One session on the reply data; returns 1 when the command succeeded. */
static int
session(const uint8_t *data, size_t size)
{
	static const char canned[] = "* PREAUTH ready\r\n"
	    "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
	    "1 OK [READ-WRITE] SELECT done\r\n";
	struct imap s;
	struct mem *m;
	mailstream_low *low;
	mailstream *st;
	uint8_t	*buf;
	int	 ok;

	if ((buf = malloc(sizeof(canned) - 1 + size - 1 + 1)) == NULL ||
	    (m = calloc(1, sizeof(*m))) == NULL)
		abort();
	memcpy(buf, canned, sizeof(canned) - 1);
	memcpy(buf + sizeof(canned) - 1, data + 1, size - 1);
	m->p = buf;
	m->len = sizeof(canned) - 1 + size - 1;
	if ((low = mailstream_low_new(m, &mem_driver)) == NULL ||
	    (low = imap_guard_wrap(low)) == NULL ||
	    (st = mailstream_new(low, 8192)) == NULL)
		abort();

	memset(&s, 0, sizeof(s));
	s.host = s.account = sess_name;
	if ((s.mi = mailimap_new(0, NULL)) == NULL)
		abort();
	if (mailimap_connect(s.mi, st) == MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    mailimap_select(s.mi, "INBOX") == MAILIMAP_NO_ERROR)
		ok = run(&s, data[0] % 7);
	else
		abort();	/* the canned part must always work */

	/* As imap_drop: no LOGOUT on the way out. */
	if (s.mi->imap_stream != NULL) {
		mailstream_close(s.mi->imap_stream);
		s.mi->imap_stream = NULL;
	}
	mailimap_free(s.mi);
	free(s.sel);
	free(buf);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	 ok;

	if (size < 1)
		return -1;
	__lsan_disable();
	ok = session(data, size);
	__lsan_enable();
	if (ok)
		(void)session(data, size);
	return 0;
}
