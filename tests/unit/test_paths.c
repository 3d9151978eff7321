/*
 * test_paths.c: each fast path of the parser gives what the slow path
 * beside it gives (paths.h): the From address without libetpan's parse
 * (addr_plain), libetpan's copy of the top-level header built from the
 * first walk (mime_header_walked) rather than a second one, and the
 * bounce reader's one-walk field look-up (hdr_find), and the ASCII copy
 * of charset.c's conversions (iconv beside it).  Inputs: From
 * values and headers made from tokens chosen to reach every branch of
 * those paths (a fixed seed, so a failure repeats), and every fixture
 * message of the tree.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules/rules-private.h"
#include "tests/unit/paths.h"
#include "tests/unit/test.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int shown;

/* Checks one message; shows the first few that differ in full. */
static void
same(const char *raw, size_t len, const char *what)
{
	char *fast, *slow;
	int r;

	r = paths_diff(raw, len, NULL, &fast, &slow);
	T_ASSERT(r == 0);
	if (r == 1 && shown++ < 3)
		printf("  %s differs:\n--- input\n%.*s\n--- fast\n%s"
		    "--- slow\n%s", what, (int)len, raw, fast, slow);
	free(fast);
	free(slow);
}

/* Appends s to buf (size cap), cut at its end. */
static void
cat(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, cap - n, "%s", s);
}

/* From values: every shape addr_plain takes or refuses. */
static void
test_from(void)
{
	static const char *const tok[] = {
		"a", "b@c", "x@y.example", "@", "<", ">", "<p@q.example>",
		"\"", "\"a@b\"", " ", "  ", "\t", "(", ")", "(c)", ",", ";",
		":", "\\", ".", "Name", "[", "]", "\n ", "=?utf-8?q?x?=",
		"<>", "a@", "@b", "junk", "é", "\"Q, R\"", "z@w (note)"
	};
	char v[256], raw[512];
	int i, k, n;

	for (i = 0; i < 30000; i++) {
		v[0] = '\0';
		n = 1 + (int)rnd(7);
		for (k = 0; k < n; k++)
			cat(v, sizeof(v), tok[rnd(sizeof(tok) /
			    sizeof(tok[0]))]);
		snprintf(raw, sizeof(raw), "From: %s\nSubject: s\n\nbody\n",
		    v);
		same(raw, strlen(raw), "From");
	}
}

/* Headers of every mix of MIME and other fields, with and without an
 * mbox line, CRLF, folds and bodies of several parts. */
static void
test_header_walk(void)
{
	static const char *const fld[] = {
		"Content-Type: multipart/mixed; boundary=b\n",
		"Content-Type: multipart/alternative;\n boundary=\"q\"\n",
		"Content-Type: text/plain; charset=iso-8859-1\n",
		"content-type: text/html\n",
		"Content-Type: message/rfc822\n",
		"Content-Transfer-Encoding: base64\n",
		"Content-Transfer-Encoding: quoted-printable\n",
		"MIME-Version: 1.0\n", "mime-version: 1.0 (x)\n",
		"Content-Disposition: inline\n", "Content-: x\n",
		"Subject: s\n", "Subject: =?utf-8?b?w6k=?=\n",
		("Subject: =?iso-8859-1?q?plain_ascii?= =?windows-1252?q?=E9?="
		    "\n"),
		"Subject: =?us-ascii?b?aGk=?= =?UTF-8?Q?x?=\n",
		"Content-Type: text/plain; charset=windows-1252\n",
		"From: a@b.example\n", "To: c@d.example\n",
		"X-Foo: bar\n  folded\n", "Received: from x\n\tby y\n",
		"Message-ID: <m@x>\n", "Return-Path: <>\n",
		"Auto-Submitted: auto-replied\n", "X-Failed-Recipients: r@x\n",
		"no colon here\n", " leading blank\n", "Content-Type:\n",
		/* what the bounce reader looks up, twice over with
		 * values that change its verdict */
		"Auto-Submitted: no\n", "Return-Path: <r@x.example>\n",
		"From: MAILER-DAEMON@mx.example\n", "Precedence: bulk\n",
		"Precedence: junk\n", "List-Id: <l.example>\n",
		"X-Autoreply: yes\n", "X-Autorespond: x\n",
		"In-Reply-To: <m@x>\n", "References: <r@x> <m@x>\n",
		"Subject: Undelivered Mail Returned to Sender\n",
		"Subject: Out of office\n", "X-Mailer: qmail\n",
		"X-Vacation: on\n", "List-Post: <mailto:l@x>\n",
		"Mailing-List: contact l@x\n", "x-failed-recipients: s@x\n"
	};
	static const char *const body[] = {
		"plain =E9 text\n",
		"--b\nContent-Type: text/plain\n\none\n--b\n"
		    "Content-Type: text/html\n\n<a href=\"http://h.example/\">"
		    "x</a>\n--b--\n",
		"--q\n\nalt\n--q--\n",
		"From: in@n.example\nSubject: inner\n\ninner body\n",
		"aGVsbG8gd29ybGQ=\n", "", "caf\xe9 ascii\n",
		"I'm away until Monday.\n",
		"This is the mail system at host mx.example.\n\n"
		    "<s@x.example>: host said: 550 no such user\n",
		"--b\nContent-Type: message/delivery-status\n\n"
		    "Final-Recipient: rfc822; s@x\nAction: failed\n\n--b\n"
		    "Content-Type: text/rfc822-headers\n\nMessage-ID: <o@x>\n"
		    "From: me@x\n--b--\n"
	};
	char raw[8192], crlf[16384];
	size_t i, j, n, o;
	int t, k;

	for (t = 0; t < 6000; t++) {
		raw[0] = '\0';
		if (rnd(8) == 0)
			cat(raw, sizeof(raw), "From x@y Mon Dec  7 00:00:00 "
			    "2026\n");
		n = rnd(rnd(10) == 0 ? 40 : 12);
		for (k = 0; k < (int)n; k++)
			cat(raw, sizeof(raw), fld[rnd(sizeof(fld) /
			    sizeof(fld[0]))]);
		cat(raw, sizeof(raw), rnd(6) == 0 ? "" : "\n");
		cat(raw, sizeof(raw), body[rnd(sizeof(body) /
		    sizeof(body[0]))]);
		n = strlen(raw);
		if (rnd(3) == 0) {
			for (i = j = 0; i < n; i++) {
				if (raw[i] == '\n')
					crlf[j++] = '\r';
				crlf[j++] = raw[i];
			}
			same(crlf, j, "header");
		} else
			same(raw, n, "header");
	}
	/* Past the 1,024 fields read_headers keeps: its walk stops. */
	o = 0;
	for (k = 0; k < 1030; k++)
		o += (size_t)snprintf(crlf + o, sizeof(crlf) - o, "%s",
		    k % 7 == 3 ? "MIME-Version: 1.0\n" : "X: y\n");
	o += (size_t)snprintf(crlf + o, sizeof(crlf) - o,
	    "Content-Type: text/html\n\n<b>x</b>\n");
	same(crlf, o, "1030 fields");
}

/* Every file under dir (recursively) as a message. */
static void
fixtures(const char *dir, int *count)
{
	char path[1024], *buf;
	struct dirent *d;
	struct stat st;
	FILE *f;
	DIR *dp;
	size_t n;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (stat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			fixtures(path, count);
			continue;
		}
		if (!S_ISREG(st.st_mode) || st.st_size > 4 * 1024 * 1024 ||
		    (f = fopen(path, "rb")) == NULL)
			continue;
		if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
			abort();
		n = fread(buf, 1, (size_t)st.st_size, f);
		fclose(f);
		same(buf, n, path);
		free(buf);
		(*count)++;
	}
	closedir(dp);
}

static void
test_fixtures(void)
{
	int n = 0;

	fixtures("tests/fixtures", &n);
	fixtures("tests/fuzz/seeds/classify", &n);
	fixtures("tests/fuzz/seeds/bounce", &n);
	T_ASSERT(n > 100);
}

/* The switch itself: on, the slow paths run (the fast ones would give
 * the same, so only what the switch leaves behind is checked). */
static void
test_switch(void)
{
	char *fast, *slow;

	T_INTEQ(rules_reference_paths, 0);
	T_INTEQ(paths_diff("From: a@b\n\nx\n", 12, NULL, &fast, &slow), 0);
	T_INTEQ(rules_reference_paths, 0);
}

int
main(void)
{
	const char *top = getenv("TOP");

	if (top != NULL && *top != '\0' && chdir(top) == -1) {
		perror(top);
		return 1;
	}
	T_RUN(test_switch);
	T_RUN(test_from);
	T_RUN(test_header_walk);
	T_RUN(test_fixtures);
	return t_done();
}
