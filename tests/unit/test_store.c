/*
 * test_store.c: store/ against real database files in a temporary
 * directory: Message-ID keys, sent IDs and coverage, correspondents,
 * mailbox state, the action log and its iterator, learned evidence,
 * batches, and the file itself (mode, reopen, corrupt, foreign, newer,
 * read-only, locked).  The file header is patched by hand (user_version at
 * byte 60, application_id at byte 68) to make the odd files.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "tests/unit/test.h"

static char dir[] = "/tmp/imapsift-test-store-XXXXXX";
static char err[512];

static const char *
pathof(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, "%s/%s", dir, name);
	return buf;
}

#define PATH(buf, name)	pathof(buf, sizeof(buf), name)

static struct store *
xopen(const char *p, int flags)
{
	struct store *st = NULL;

	if (store_open(&st, p, flags, 0, err, sizeof(err)) == -1)
		T_FAILF("open %s: %s", p, err);
	return st;
}

/* Opens p expecting failure, with want inside the error line. */
static void
open_fails(const char *p, int flags, const char *want)
{
	struct store *st = NULL;

	err[0] = '\0';
	T_INTEQ(store_open(&st, p, flags, 0, err, sizeof(err)), -1);
	T_ASSERT(st == NULL);
	if (strstr(err, want) == NULL || strncmp(err, "store: ", 7) != 0)
		T_FAILF("error \"%s\" lacks \"%s\"", err, want);
	store_close(&st);
}

static void
put_bytes(const char *p, const void *buf, size_t len)
{
	FILE *f = fopen(p, "wb");

	if (f == NULL || fwrite(buf, 1, len, f) != len) {
		perror(p);
		exit(2);
	}
	fclose(f);
}

/* Overwrites the big-endian 32-bit header field at off. */
static void
patch32(const char *p, long off, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };
	FILE *f = fopen(p, "r+b");

	if (f == NULL || fseek(f, off, SEEK_SET) != 0 ||
	    fwrite(b, 1, 4, f) != 4) {
		perror(p);
		exit(2);
	}
	fclose(f);
}

static uint32_t
read32(const char *p, long off)
{
	unsigned char b[4] = { 0, 0, 0, 0 };
	FILE *f = fopen(p, "rb");

	if (f != NULL && fseek(f, off, SEEK_SET) == 0)
		(void)!fread(b, 1, 4, f);
	if (f != NULL)
		fclose(f);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* A store at name with one sent ID, closed again (WAL checkpointed). */
static void
make_store(const char *p)
{
	char wal[300];
	struct store *st = xopen(p, 0);

	if (st == NULL)
		return;
	T_INTEQ(store_sent_add(st, "<x@y.example>", 1, "t", err,
	    sizeof(err)), 0);
	store_close(&st);
	T_ASSERT(st == NULL);
	snprintf(wal, sizeof(wal), "%s-wal", p);
	T_ASSERT(access(wal, F_OK) == -1);
}

/* ------------------------------------------------------------------ */

struct key_row {
	const char *in;
	const char *want;	/* NULL: -1 */
};

static const struct key_row key_rows[] = {
	{ "<A@B.Example>", "A@b.example" },
	{ "<a@b.example>", "a@b.example" },
	{ "<A@b.example>", "A@b.example" },
	{ "a@b.example", "a@b.example" },
	{ "<a@b.example", "a@b.example" },
	{ "a@b.example>", "a@b.example" },
	{ "  <a@B.example>\r\n", "a@b.example" },
	{ "< a@B.EXAMPLE >", "a@b.example" },
	{ "<part1.\r\n part2@Host.Example>", "part1.part2@host.example" },
	{ "<x@y@Z.Example>", "x@y@z.example" },
	{ "<NoAtSign.X>", "NoAtSign.X" },
	{ "<\xc3\x89t\xc3\xa9@EX.example>", "\xc3\x89t\xc3\xa9@ex.example" },
	{ "", NULL },
	{ "   \t", NULL },
	{ "<>", NULL },
	{ "< >", NULL },
	{ "<a@b.example> <c@d.example>", NULL },
	{ "<a\x01@b.example>", NULL },
	{ "<a\x7f@b.example>", NULL },
	{ NULL, NULL },
};

static void
test_msgid_key(void)
{
	char out[STORE_MSGID_MAX], small[8];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(key_rows) / sizeof(key_rows[0]); i++) {
		rc = store_msgid_key(key_rows[i].in, out, sizeof(out));
		T_INTEQ(rc, key_rows[i].want != NULL ? 0 : -1);
		T_STREQ(out, key_rows[i].want != NULL ? key_rows[i].want : "");
	}
	T_INTEQ(store_msgid_key("<1234567@b>", small, sizeof(small)), -1);
	T_STREQ(small, "");
	T_INTEQ(store_msgid_key("<123456@b>", small, sizeof(small)), -1);
	T_INTEQ(store_msgid_key("<12345@b>", small, sizeof(small)), 0);
	T_STREQ(small, "12345@b");
	T_INTEQ(store_msgid_key("a@b", NULL, 10), -1);
}

static void
test_file_mode(void)
{
	char p[300], q[300], wal[310];
	struct store *st;
	struct stat sb;
	mode_t old;

	old = umask(0);
	st = xopen(PATH(p, "mode.db"), 0);
	umask(old);
	T_ASSERT(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	T_INTEQ(store_sent_add(st, "<m@x>", 0, "t", err, sizeof(err)), 0);
	snprintf(wal, sizeof(wal), "%s-wal", p);
	T_ASSERT(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	store_close(&st);

	/* An existing file that others may read is tightened. */
	chmod(p, 0644);
	st = xopen(p, 0);
	T_ASSERT(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	store_close(&st);
	chmod(p, 0640);
	st = xopen(p, STORE_RDONLY);
	T_ASSERT(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	store_close(&st);

	open_fails(PATH(q, "nodir/x.db"), 0, "No such file or directory");
	open_fails(dir, 0, dir);
	T_INTEQ(store_open(&st, "", 0, 0, err, sizeof(err)), -1);
	T_STREQ(err, "store: no database path");
	store_close(&st);
}

static void
test_reopen(void)
{
	char p[300];
	struct store *st;
	int i;

	make_store(PATH(p, "reopen.db"));
	T_INTEQ(read32(p, 60), 3);			/* user_version */
	T_INTEQ(read32(p, 68), 0x69736674);		/* application_id */
	for (i = 0; i < 2; i++) {
		st = xopen(p, 0);
		if (st == NULL)
			return;
		T_INTEQ(store_sent_has(st, "<x@Y.example>", err,
		    sizeof(err)), 1);
		store_close(&st);
	}
	T_INTEQ(read32(p, 60), 3);
}

static void
test_odd_files(void)
{
	static const char junk[] = "hello, I am not a database";
	unsigned char rnd[8192];
	char p[300];
	struct store *st;
	size_t i;
	uint32_t x = 2463534242u;

	for (i = 0; i < sizeof(rnd); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		rnd[i] = (unsigned char)x;
	}
	put_bytes(PATH(p, "random.db"), rnd, sizeof(rnd));
	open_fails(p, 0, "file is not a database");
	open_fails(p, STORE_RDONLY, "file is not a database");
	put_bytes(PATH(p, "short.db"), junk, sizeof(junk));
	open_fails(p, 0, "file is not a database");

	/* A zero-length file is version 0: read-only refuses, read-write
	 * upgrades it. */
	put_bytes(PATH(p, "empty.db"), "", 0);
	open_fails(p, STORE_RDONLY, "schema version 0 is older than 3");
	st = xopen(p, 0);
	store_close(&st);
	T_INTEQ(read32(p, 60), 3);

	make_store(PATH(p, "newer.db"));
	patch32(p, 60, 4);
	open_fails(p, 0, "schema version 4 is newer than this imapsift");
	open_fails(p, STORE_RDONLY, "schema version 4 is newer");

	make_store(PATH(p, "foreign.db"));
	patch32(p, 68, 0x12345678);
	open_fails(p, 0, "not an imapsift store (application_id 0x12345678)");
	make_store(PATH(p, "unmarked.db"));
	patch32(p, 68, 0);
	open_fails(p, 0, "not an imapsift store (tables but no imapsift");
	open_fails(PATH(p, "missing.db"), STORE_RDONLY, "No such file");
	T_ASSERT(access(p, F_OK) == -1);
}

static void
test_rdonly(void)
{
	char p[300];
	struct store *st;
	time_t o, n;
	int c;

	make_store(PATH(p, "ro.db"));
	st = xopen(p, STORE_RDONLY);
	if (st == NULL)
		return;
	T_INTEQ(store_sent_has(st, "<x@y.example>", err, sizeof(err)), 1);
	T_INTEQ(store_coverage(st, &o, &n, &c, err, sizeof(err)), 0);
	T_INTEQ(n, 1);
	err[0] = '\0';
	T_INTEQ(store_sent_add(st, "<z@y>", 0, "t", err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "readonly") != NULL);
	T_INTEQ(store_set_complete(st, 1, err, sizeof(err)), -1);
	T_INTEQ(store_begin(st, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "opened read-only") != NULL);
	T_INTEQ(store_rollback(st, err, sizeof(err)), 0);
	store_close(&st);
}

static void
test_sent(void)
{
	char p[300];
	struct store *st = xopen(PATH(p, "sent.db"), 0);

	if (st == NULL)
		return;
	T_INTEQ(store_sent_add(st, "<A@B.Example>", 100, "mbox:/m", err,
	    sizeof(err)), 0);
	T_INTEQ(store_sent_has(st, " A@b.EXAMPLE ", err, sizeof(err)), 1);
	T_INTEQ(store_sent_has(st, "<a@b.example>", err, sizeof(err)), 0);
	T_INTEQ(store_sent_add(st, "<A@B.Example>", 50, "imap:a/Sent", err,
	    sizeof(err)), 0);
	T_INTEQ(store_sent_has(st, "", err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "invalid Message-ID") != NULL);
	T_INTEQ(store_sent_add(st, "<>", 1, "t", err, sizeof(err)), -1);
	T_INTEQ(store_sent_add(st, "<q@r>", 1, "", err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "empty sent source") != NULL);
	T_INTEQ(store_sent_add(st, "<q@r>", 1, NULL, err, sizeof(err)), -1);
	store_close(&st);
	store_close(&st);
}

static void
coverage_is(struct store *st, time_t want_o, time_t want_n, int want_c)
{
	time_t o = -1, n = -1;
	int c = -1;

	T_INTEQ(store_coverage(st, &o, &n, &c, err, sizeof(err)), 0);
	T_INTEQ(o, want_o);
	T_INTEQ(n, want_n);
	T_INTEQ(c, want_c);
}

static void
test_coverage(void)
{
	static const time_t dates[] = { 2000, 1000, 0, 3000 };
	struct store_source src;
	char p[300], id[32];
	struct store *st = xopen(PATH(p, "cov.db"), 0);
	size_t i;

	if (st == NULL)
		return;
	coverage_is(st, 0, 0, 0);
	T_INTEQ(store_coverage(st, NULL, NULL, NULL, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		snprintf(id, sizeof(id), "<%zu@mbox>", i);
		T_INTEQ(store_sent_add(st, id, dates[i], "mbox:/m", err,
		    sizeof(err)), 0);
	}
	coverage_is(st, 1000, 3000, 0);
	/* Repeating an ID: no new count, but its unknown date is filled. */
	T_INTEQ(store_sent_add(st, "<2@mbox>", 500, "imap:a/Sent", err,
	    sizeof(err)), 0);
	T_INTEQ(store_source_get(st, "mbox:/m", &src, err, sizeof(err)), 1);
	T_INTEQ(src.count, 4);
	T_INTEQ(src.oldest, 1000);
	T_INTEQ(src.newest, 3000);
	T_INTEQ(store_source_get(st, "imap:a/Sent", &src, err, sizeof(err)),
	    1);
	T_INTEQ(src.count, 0);
	T_INTEQ(src.oldest, 500);
	coverage_is(st, 500, 3000, 0);
	T_INTEQ(store_sent_add(st, "<new@imap>", 4000, "imap:a/Sent", err,
	    sizeof(err)), 0);
	T_INTEQ(store_source_since(st, "imap:a/Sent", 200, err, sizeof(err)),
	    0);
	T_INTEQ(store_source_since(st, "imap:b/Sent", 100, err, sizeof(err)),
	    0);
	T_INTEQ(store_source_get(st, "imap:a/Sent", &src, err, sizeof(err)),
	    1);
	T_INTEQ(src.since, 200);
	T_INTEQ(src.count, 1);
	T_INTEQ(src.newest, 4000);
	coverage_is(st, 100, 4000, 0);
	T_INTEQ(store_set_complete(st, 1, err, sizeof(err)), 0);
	coverage_is(st, 100, 4000, 1);
	T_INTEQ(store_set_complete(st, 0, err, sizeof(err)), 0);
	coverage_is(st, 100, 4000, 0);
	T_INTEQ(store_source_get(st, "nope", &src, err, sizeof(err)), 0);
	T_INTEQ(src.count, 0);
	T_INTEQ(store_source_since(st, "", 1, err, sizeof(err)), -1);
	store_close(&st);
}

static void
test_correspondents(void)
{
	char p[300];
	struct store *st = xopen(PATH(p, "corr.db"), 0);
	time_t seen = -1;

	if (st == NULL)
		return;
	T_INTEQ(store_correspondent_add(st, "Bob@Example.COM", 100, err,
	    sizeof(err)), 0);
	T_INTEQ(store_correspondent_has(st, "<bob@example.com>", &seen, err,
	    sizeof(err)), 1);
	T_INTEQ(seen, 100);
	T_INTEQ(store_correspondent_add(st, "bob@example.com", 50, err,
	    sizeof(err)), 0);
	T_INTEQ(store_correspondent_has(st, "BOB@example.com", &seen, err,
	    sizeof(err)), 1);
	T_INTEQ(seen, 100);
	T_INTEQ(store_correspondent_add(st, "bob@example.com", 200, err,
	    sizeof(err)), 0);
	T_INTEQ(store_correspondent_has(st, "bob@example.com", NULL, err,
	    sizeof(err)), 1);
	T_INTEQ(store_correspondent_has(st, "bob@example.com", &seen, err,
	    sizeof(err)), 1);
	T_INTEQ(seen, 200);
	T_INTEQ(store_correspondent_has(st, "eve@example.com", &seen, err,
	    sizeof(err)), 0);
	T_INTEQ(seen, 0);
	T_INTEQ(store_correspondent_add(st, " ", 1, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "invalid address") != NULL);
	T_INTEQ(store_correspondent_has(st, "", NULL, err, sizeof(err)), -1);
	store_close(&st);
}

static void
mailbox_is(struct store *st, int want_rc, uint32_t want_v, uint32_t want_u)
{
	uint32_t v = 1, u = 1;

	T_INTEQ(store_mailbox_get(st, "acct", "INBOX", &v, &u, err,
	    sizeof(err)), want_rc);
	T_INTEQ(v, want_v);
	T_INTEQ(u, want_u);
}

static void
test_mailbox_and_batches(void)
{
	char p[300], want[400];
	struct store *st = xopen(PATH(p, "mbox.db"), 0);

	if (st == NULL)
		return;
	mailbox_is(st, 0, 0, 0);
	T_INTEQ(store_mailbox_set(st, "acct", "INBOX", 4294967295u, 17, err,
	    sizeof(err)), 0);
	mailbox_is(st, 1, 4294967295u, 17);
	T_INTEQ(store_mailbox_set(st, "", "INBOX", 1, 1, err, sizeof(err)),
	    -1);

	T_INTEQ(store_begin(st, err, sizeof(err)), 0);
	T_INTEQ(store_begin(st, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "store: %s: a transaction is already "
	    "open", p);
	T_STREQ(err, want);
	T_INTEQ(store_mailbox_set(st, "acct", "INBOX", 5, 99, err,
	    sizeof(err)), 0);
	T_INTEQ(store_sent_add(st, "<batch@x>", 1, "t", err, sizeof(err)), 0);
	T_INTEQ(store_sent_add(st, "", 1, "t", err, sizeof(err)), -1);
	mailbox_is(st, 1, 5, 99);
	T_INTEQ(store_rollback(st, err, sizeof(err)), 0);
	mailbox_is(st, 1, 4294967295u, 17);
	T_INTEQ(store_sent_has(st, "<batch@x>", err, sizeof(err)), 0);

	T_INTEQ(store_begin(st, err, sizeof(err)), 0);
	T_INTEQ(store_mailbox_set(st, "acct", "INBOX", 5, 99, err,
	    sizeof(err)), 0);
	T_INTEQ(store_sent_add(st, "<batch@x>", 1, "t", err, sizeof(err)), 0);
	T_INTEQ(store_commit(st, err, sizeof(err)), 0);
	mailbox_is(st, 1, 5, 99);
	T_INTEQ(store_sent_has(st, "<batch@x>", err, sizeof(err)), 1);
	T_INTEQ(store_commit(st, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "no transaction is open") != NULL);
	T_INTEQ(store_rollback(st, err, sizeof(err)), 0);
	store_close(&st);
}

/* ------------------------------------------------------------------ */
/* The action log.                                                     */

static int64_t
log_action(struct store *st, const char *acct, time_t when,
    const char *msgid)
{
	struct store_action a;
	int64_t id = 0;

	memset(&a, 0, sizeof(a));
	a.time = when;
	a.account = acct;
	a.mailbox = "INBOX";
	a.uidvalidity = 7;
	a.uid = 42;
	a.msgid = msgid;
	a.dest = "Junk";
	a.verdict = "junk";
	a.reasons = "url:evil.example";
	T_INTEQ(store_action_begin(st, &a, &id, err, sizeof(err)), 0);
	return id;
}

/* Reads back action id into *a (numbers only) and its strings into s as
 * "account|mailbox|dest|verdict|msgid|error|reasons"; returns 1 if found. */
static int
get_action(struct store *st, int64_t id, struct store_action *a, char *s,
    size_t sz)
{
	struct store_action_filter f;
	struct store_action_iter *it;
	int found;

	memset(&f, 0, sizeof(f));
	f.id = id;
	it = store_action_iter_init(st, &f, err, sizeof(err));
	if (it == NULL)
		return 0;
	found = store_action_iter_next(it, a);
	if (found)
		snprintf(s, sz, "%s|%s|%s|%s|%s|%s|%s", a->account, a->mailbox,
		    a->dest, a->verdict, a->msgid ? a->msgid : "-",
		    a->error ? a->error : "-", a->reasons);
	T_INTEQ(store_action_iter_next(it, a), 0);
	T_INTEQ(store_action_iter_deinit(&it, err, sizeof(err)), 0);
	T_ASSERT(it == NULL);
	return found;
}

static void
test_action_lifecycle(void)
{
	char p[300], s[400];
	struct store *st = xopen(PATH(p, "act.db"), 0);
	struct store_action a;
	int64_t id, id2;

	if (st == NULL)
		return;
	id = log_action(st, "acct", 1000, "<M1@Host.Example>");
	T_ASSERT(id > 0);
	T_ASSERT(get_action(st, id, &a, s, sizeof(s)));
	T_INTEQ(a.state, STORE_ACTION_PENDING);
	T_INTEQ(a.time, 1000);
	T_INTEQ(a.uidvalidity, 7);
	T_INTEQ(a.uid, 42);
	T_STREQ(s, "acct|INBOX|Junk|junk|M1@host.example|-|url:evil.example");
	T_INTEQ(a.new_uid, 0);
	T_INTEQ(store_action_done(st, id, 77, err, sizeof(err)), 0);
	T_ASSERT(get_action(st, id, &a, s, sizeof(s)));
	T_INTEQ(a.state, STORE_ACTION_DONE);
	T_INTEQ(a.new_uid, 77);
	T_INTEQ(store_action_done(st, id, 78, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "is done, not pending") != NULL);
	T_INTEQ(store_action_failed(st, id, "x", err, sizeof(err)), -1);
	T_INTEQ(store_action_undone(st, id, err, sizeof(err)), 0);
	T_ASSERT(get_action(st, id, &a, s, sizeof(s)));
	T_INTEQ(a.state, STORE_ACTION_UNDONE);
	T_ASSERT(a.undone_time >= 1000);
	T_INTEQ(store_action_undone(st, id, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "is undone, not done") != NULL);

	id2 = log_action(st, "acct", 0, "not <valid> id");
	T_ASSERT(id2 > id);
	T_INTEQ(store_action_undone(st, id2, err, sizeof(err)), -1);
	T_INTEQ(store_action_failed(st, id2, "NO [TRYCREATE]", err,
	    sizeof(err)), 0);
	T_ASSERT(get_action(st, id2, &a, s, sizeof(s)));
	T_INTEQ(a.state, STORE_ACTION_FAILED);
	T_STREQ(s, "acct|INBOX|Junk|junk|-|NO [TRYCREATE]|url:evil.example");
	T_ASSERT(a.time >= time(NULL) - 60);
	T_INTEQ(store_action_done(st, 999, 0, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "no action 999") != NULL);
	memset(&a, 0, sizeof(a));
	a.account = "acct";
	T_INTEQ(store_action_begin(st, &a, &id, err, sizeof(err)), -1);
	store_close(&st);
}

struct iter_row {
	struct store_action_filter f;
	const char *want;	/* ids in order, e.g. "4 3 2 1" */
};

static void
iter_check(struct store *st, const struct iter_row *r)
{
	struct store_action_iter *it;
	struct store_action a;
	char got[128] = "";
	size_t n = 0;

	it = store_action_iter_init(st, &r->f, err, sizeof(err));
	if (it == NULL) {
		T_FAILF("iter_init: %s", err);
		return;
	}
	while (store_action_iter_next(it, &a) && n < sizeof(got) - 24)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%lld",
		    n > 0 ? " " : "", (long long)a.id);
	T_INTEQ(store_action_iter_deinit(&it, err, sizeof(err)), 0);
	if (strcmp(got, r->want) != 0)
		T_FAILF("filter for \"%s\" gave \"%s\"", r->want, got);
}

static const struct iter_row iter_rows[] = {
	{ { 0, 0, STORE_ACTION_ANY, NULL, 0 }, "5 4 3 2 1" },
	{ { 0, 0, STORE_ACTION_ANY, NULL, 1 }, "1 2 3 4 5" },
	{ { 250, 0, STORE_ACTION_ANY, NULL, 0 }, "5 4 3" },
	{ { 0, 2, STORE_ACTION_ANY, NULL, 0 }, "2" },
	{ { 0, 9, STORE_ACTION_ANY, NULL, 0 }, "" },
	{ { 0, 0, STORE_ACTION_DONE, NULL, 0 }, "4 2" },
	{ { 0, 0, STORE_ACTION_PENDING, NULL, 1 }, "1 5" },
	{ { 0, 0, STORE_ACTION_FAILED, NULL, 0 }, "3" },
	{ { 0, 0, STORE_ACTION_UNDONE, NULL, 0 }, "" },
	{ { 0, 0, STORE_ACTION_ANY, "b", 0 }, "4 3" },
	{ { 0, 0, STORE_ACTION_DONE, "b", 1 }, "4" },
	{ { 150, 0, STORE_ACTION_ANY, "a", 1 }, "2 5" },
};

static void
test_action_iter(void)
{
	static const char *const acct[] = { "a", "a", "b", "b", "a" };
	struct store_action_iter *it, *it2;
	struct store_action a;
	char p[300];
	struct store *st = xopen(PATH(p, "iter.db"), 0);
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < 5; i++)
		T_INTEQ(log_action(st, acct[i], 100 * (time_t)(i + 1),
		    "<m@x>"), (int64_t)i + 1);
	T_INTEQ(store_action_done(st, 2, 0, err, sizeof(err)), 0);
	T_INTEQ(store_action_failed(st, 3, NULL, err, sizeof(err)), 0);
	T_INTEQ(store_action_done(st, 4, 9, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(iter_rows) / sizeof(iter_rows[0]); i++)
		iter_check(st, &iter_rows[i]);

	/* One iterator per order; writes while iterating are fine. */
	it = store_action_iter_init(st, NULL, err, sizeof(err));
	T_ASSERT(it != NULL && store_action_iter_next(it, &a) == 1);
	T_ASSERT(store_action_iter_init(st, NULL, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "another action iterator is open") != NULL);
	it2 = store_action_iter_init(st, &iter_rows[1].f, err, sizeof(err));
	T_ASSERT(it2 != NULL);
	T_INTEQ(store_action_iter_deinit(&it2, err, sizeof(err)), 0);
	while (it != NULL && store_action_iter_next(it, &a))
		if (a.state == STORE_ACTION_DONE)
			T_INTEQ(store_action_undone(st, a.id, err,
			    sizeof(err)), 0);
	T_INTEQ(store_action_iter_deinit(&it, err, sizeof(err)), 0);
	T_INTEQ(store_action_iter_deinit(&it, err, sizeof(err)), 0);
	iter_check(st, &(const struct iter_row){
	    { 0, 0, STORE_ACTION_UNDONE, NULL, 0 }, "4 2" });
	iter_check(st, &(const struct iter_row){
	    { 0, 0, STORE_ACTION_UNDONE, "b", 0 }, "4" });
	T_ASSERT(store_action_iter_init(st, &(const struct
	    store_action_filter){ 0, 0, (enum store_action_state)9, NULL, 0 },
	    err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "bad action state 9") != NULL);
	store_close(&st);
}

static void
test_find_msgid(void)
{
	char p[300];
	struct store *st = xopen(PATH(p, "find.db"), 0);
	int64_t id1, id2, id3, got = -1;

	if (st == NULL)
		return;
	T_INTEQ(store_action_find_msgid(st, "a", "<r@x.example>", &got, err,
	    sizeof(err)), 0);
	T_INTEQ(got, 0);
	T_INTEQ(store_action_any(st, "a", err, sizeof(err)), 0);
	id1 = log_action(st, "a", 0, "<R@X.Example>");
	T_INTEQ(store_action_any(st, "a", err, sizeof(err)), 1);
	T_INTEQ(store_action_any(st, "b", err, sizeof(err)), 0);
	T_INTEQ(store_action_any(st, "", err, sizeof(err)), -1);
	T_INTEQ(store_action_done(st, id1, 5, err, sizeof(err)), 0);
	T_INTEQ(store_action_find_msgid(st, "a", "R@x.example", &got, err,
	    sizeof(err)), 1);
	T_INTEQ(got, id1);
	T_INTEQ(store_action_find_msgid(st, "a", "<r@x.example>", NULL, err,
	    sizeof(err)), 0);
	T_INTEQ(store_action_find_msgid(st, "b", "<R@x.example>", NULL, err,
	    sizeof(err)), 0);
	id2 = log_action(st, "a", 0, "<R@x.example>");
	T_INTEQ(store_action_find_msgid(st, "a", "<R@x.example>", &got, err,
	    sizeof(err)), 1);
	T_INTEQ(got, id2);				/* pending counts */
	T_INTEQ(store_action_failed(st, id2, "gone", err, sizeof(err)), 0);
	T_INTEQ(store_action_find_msgid(st, "a", "<R@x.example>", &got, err,
	    sizeof(err)), 1);
	T_INTEQ(got, id1);				/* failed does not */
	id3 = log_action(st, "a", 0, "<only-failed@x>");
	T_INTEQ(store_action_failed(st, id3, NULL, err, sizeof(err)), 0);
	T_INTEQ(store_action_find_msgid(st, "a", "<only-failed@x>", &got,
	    err, sizeof(err)), 0);
	T_INTEQ(store_action_find_msgid(st, "a", "<>", &got, err,
	    sizeof(err)), -1);
	T_INTEQ(store_action_find_msgid(st, "", "<a@b>", &got, err,
	    sizeof(err)), -1);
	store_close(&st);
}

static void
test_fp(void)
{
	char p[300];
	struct store *st = xopen(PATH(p, "fp.db"), 0);
	int64_t n = -1;

	if (st == NULL)
		return;
	T_INTEQ(store_fp_has(st, "url", "evil.example", err, sizeof(err)), 0);
	T_INTEQ(store_fp_add(st, "url", "evil.example", 10, err,
	    sizeof(err)), 0);
	T_INTEQ(store_fp_add(st, "url", "evil.example", 0, err, sizeof(err)),
	    0);
	T_INTEQ(store_fp_add(st, "phone", "18005551234", 0, err,
	    sizeof(err)), 0);
	T_INTEQ(store_fp_has(st, "url", "evil.example", err, sizeof(err)), 1);
	T_INTEQ(store_fp_has(st, "phone", "evil.example", err, sizeof(err)),
	    0);
	T_INTEQ(store_fp_count(st, "url", "evil.example", &n, err,
	    sizeof(err)), 0);
	T_INTEQ(n, 2);
	T_INTEQ(store_fp_count(st, "url", NULL, &n, err, sizeof(err)), 0);
	T_INTEQ(n, 1);
	T_INTEQ(store_fp_count(st, "phrase", NULL, &n, err, sizeof(err)), 0);
	T_INTEQ(n, 0);
	T_INTEQ(store_fp_count(st, "url", "other", &n, err, sizeof(err)), 0);
	T_INTEQ(n, 0);
	T_INTEQ(store_fp_add(st, "", "x", 0, err, sizeof(err)), -1);
	T_INTEQ(store_fp_add(st, "url", "", 0, err, sizeof(err)), -1);
	T_INTEQ(store_fp_has(st, "url", NULL, err, sizeof(err)), -1);
	T_INTEQ(store_fp_count(st, NULL, "x", &n, err, sizeof(err)), -1);
	store_close(&st);
}

struct lcollect {
	char	 got[2048];
	int	 n;
};

static int
l_each(void *ctx, const struct store_learned *e)
{
	struct lcollect *c = ctx;
	size_t len = strlen(c->got);

	snprintf(c->got + len, sizeof(c->got) - len, "%s%s:%s/%lld/%lld%s%s%s",
	    c->n++ ? " " : "", e->kind, e->value, (long long)e->spam,
	    (long long)e->senders, e->manual ? "/m" : "", e->ham ? "/ham" : "",
	    e->active ? "/A" : "");
	return 0;
}

static const char *
learned_list(struct store *st, int active_only, time_t cutoff)
{
	static struct lcollect c;
	struct store_learned_filter f;

	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	f.active_only = active_only;
	f.idle_cutoff = cutoff;
	if (store_learned_each(st, &f, l_each, &c, err, sizeof(err)) == -1)
		T_FAILF("learned_each: %s", err);
	return c.got;
}

static void
l_src(void *ctx, const struct store_learned_src *s)
{
	struct lcollect *c = ctx;
	size_t len = strlen(c->got);

	snprintf(c->got + len, sizeof(c->got) - len, "%s%s<%s>", c->n++ ?
	    " " : "", s->source, s->msgid ? s->msgid : "-");
}

/* Learns one message from sender carrying the given url values. */
static int
learn1(struct store *st, const char *msgid, const char *sender,
    const char *source, time_t when, int manual, const char *v1,
    const char *v2)
{
	struct store_learn_msg m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.msgid = msgid;
	m.sender = sender;
	m.source = source;
	m.when = when;
	m.manual = manual;
	rc = store_learn_msg(st, &m, err, sizeof(err));
	if (rc != 1)
		return rc;
	if (v1 != NULL && store_learn_add(st, &m, "url", v1, err,
	    sizeof(err)) == -1)
		return -1;
	if (v2 != NULL && store_learn_add(st, &m, "phrase", v2, err,
	    sizeof(err)) == -1)
		return -1;
	return 1;
}

static void
test_learned(void)
{
	char p[300];
	struct store *st = xopen(PATH(p, "learn.db"), 0);
	struct lcollect c;
	int64_t g0 = -1, g1 = -1, n1, n2, n3;

	if (st == NULL)
		return;
	T_INTEQ(store_learn_generation(st, &g0, err, sizeof(err)), 0);
	/* One sender: counted, not active. */
	T_INTEQ(learn1(st, "<1@a>", "x@a.example", "file:1", 100, 0,
	    "evil.example", "buy cheap diplomas from prestigious schools"), 1);
	/* The same Message-ID again is not learned twice. */
	T_INTEQ(learn1(st, "<1@A>", "x@a.example", "file:1b", 100, 0,
	    "evil.example", NULL), 0);
	/* The same sender again: spam 2, still one sender. */
	T_INTEQ(learn1(st, "<2@a>", "x@a.example", "file:2", 200, 0,
	    "evil.example", NULL), 1);
	T_STREQ(learned_list(st, 0, 0), "phrase:buy cheap diplomas from "
	    "prestigious schools/1/1 url:evil.example/2/1");
	T_STREQ(learned_list(st, 1, 0), "");
	T_INTEQ(store_learn_generation(st, &g1, err, sizeof(err)), 0);
	T_INTEQ(g1, g0);
	/* A second sender activates both; the generation moves. */
	T_INTEQ(learn1(st, "<3@b>", "y@b.example", "file:3", 300, 0,
	    "evil.example", "buy cheap diplomas from prestigious schools"), 1);
	T_STREQ(learned_list(st, 1, 0), "phrase:buy cheap diplomas from "
	    "prestigious schools/2/2/A url:evil.example/3/2/A");
	T_INTEQ(store_learn_generation(st, &g1, err, sizeof(err)), 0);
	T_ASSERT(g1 > g0);
	/* Expiry: last seen at 300, a cutoff of 301 leaves nothing. */
	T_STREQ(learned_list(st, 1, 301), "");
	T_STREQ(learned_list(st, 1, 300), "phrase:buy cheap diplomas from "
	    "prestigious schools/2/2/A url:evil.example/3/2/A");
	/* A manual sighting activates on its own. */
	T_INTEQ(learn1(st, NULL, NULL, "imap:acct/Junk/7", 400, 1,
	    "moved.example", NULL), 1);
	T_STREQ(learned_list(st, 1, 0), "phrase:buy cheap diplomas from "
	    "prestigious schools/2/2/A url:evil.example/3/2/A "
	    "url:moved.example/1/1/m/A");
	/* Ham evidence deactivates at once and bumps the generation. */
	g0 = g1;
	T_INTEQ(store_fp_add(st, "url", "evil.example", 0, err, sizeof(err)),
	    0);
	T_INTEQ(store_learn_generation(st, &g1, err, sizeof(err)), 0);
	T_ASSERT(g1 > g0);
	T_STREQ(learned_list(st, 1, 0), "phrase:buy cheap diplomas from "
	    "prestigious schools/2/2/A url:moved.example/1/1/m/A");
	T_STREQ(learned_list(st, 0, 0), "phrase:buy cheap diplomas from "
	    "prestigious schools/2/2/A url:evil.example/3/2/ham "
	    "url:moved.example/1/1/m/A");
	/* Sources, oldest first, Message-ID keys. */
	memset(&c, 0, sizeof(c));
	T_INTEQ(store_learned_sources(st, "url", "evil.example", l_src, &c,
	    err, sizeof(err)), 3);
	T_STREQ(c.got, "file:1<1@a> file:2<2@a> file:3<3@b>");
	T_INTEQ(store_learn_stats(st, &n1, &n2, &n3, err, sizeof(err)), 0);
	T_INTEQ(n1, 3);
	T_INTEQ(n2, 4);
	T_INTEQ(n3, 1);
	/* Forget. */
	T_INTEQ(store_learned_forget(st, NULL, "moved.example", err,
	    sizeof(err)), 1);
	T_INTEQ(store_learned_forget(st, "phone", "evil.example", err,
	    sizeof(err)), 0);
	T_STREQ(learned_list(st, 1, 0), "phrase:buy cheap diplomas from "
	    "prestigious schools/2/2/A");
	T_INTEQ(store_learn_has_msg(st, "<3@B>", err, sizeof(err)), 1);
	T_INTEQ(store_learn_has_msg(st, "<4@b>", err, sizeof(err)), 0);
	/* Mail left in a watched mailbox. */
	T_INTEQ(store_seen_has(st, "acct", "<k@x>", err, sizeof(err)), 0);
	T_INTEQ(store_seen_add(st, "acct", "<k@X>", 0, err, sizeof(err)), 0);
	T_INTEQ(store_seen_has(st, "acct", "<k@x>", err, sizeof(err)), 1);
	T_INTEQ(store_seen_has(st, "other", "<k@x>", err, sizeof(err)), 0);
	T_INTEQ(store_seen_add(st, "acct", "<>", 0, err, sizeof(err)), 0);
	/* Bad input. */
	T_INTEQ(learn1(st, "<9@a>", "x@a", "", 0, 0, NULL, NULL), -1);
	T_INTEQ(store_learned_forget(st, NULL, "", err, sizeof(err)), -1);
	store_close(&st);
}

/* A version 1 store (as shipped before learning) is upgraded in place,
 * keeping its data. */
static void
test_migrate_v1(void)
{
	char p[300];
	struct store *st = xopen(PATH(p, "v1.db"), 0);
	sqlite3 *db = NULL;

	if (st == NULL)
		return;
	T_INTEQ(store_fp_add(st, "url", "kept.example", 0, err, sizeof(err)),
	    0);
	store_close(&st);
	T_INTEQ(sqlite3_open(p, &db), SQLITE_OK);
	T_INTEQ(sqlite3_exec(db, "DROP TABLE seen_msg; "
	    "DROP TABLE dnsbl_cache; DROP TABLE dnsbl_zone; "
	    "DROP TABLE learned_src; DROP TABLE "
	    "learned_msg; DROP TABLE learned; DROP TRIGGER learn_gen_fp; "
	    "DELETE FROM meta WHERE key = 'learn_gen'; "
	    "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	T_INTEQ(read32(p, 60), 1);
	open_fails(p, STORE_RDONLY, "schema version 1 is older than 3");
	st = xopen(p, 0);
	if (st == NULL)
		return;
	T_INTEQ(store_fp_has(st, "url", "kept.example", err, sizeof(err)), 1);
	T_INTEQ(learn1(st, "<1@a>", "x@a", "file:1", 0, 1, "kept.example",
	    NULL), 1);
	T_STREQ(learned_list(st, 0, 0), "url:kept.example/1/1/m/ham");
	store_close(&st);
	T_INTEQ(read32(p, 60), 3);
}

/* DNS blocklist answers and zone rests (version 3), and the upgrade of
 * a version 2 store to it. */
static size_t nrows;
static char rows_seen[512];

static void
row_cb(void *ctx, const struct store_dnsbl_row *r)
{
	size_t n = strlen(rows_seen);

	(void)ctx;
	snprintf(rows_seen + n, sizeof(rows_seen) - n, "%s/%s/%u ", r->zone,
	    r->domain, (unsigned)r->addr);
	nrows++;
}

static void
test_dnsbl(void)
{
	char p[300], reason[64];
	struct store *st = xopen(PATH(p, "dnsbl.db"), 0);
	struct store_dnsbl_row rows[3] = {
		{ "dbl.test", "a.example", 0x7f000102, 2000 },
		{ "dbl.test", "b.example", 0, 1500 },
		{ "uribl.test", "a.example", 0, 500 },
	};
	time_t since, until;
	sqlite3 *db = NULL;

	if (st == NULL)
		return;
	T_INTEQ(store_dnsbl_put(st, rows, 3, 100, err, sizeof(err)), 0);
	rows_seen[0] = '\0';
	T_INTEQ(store_dnsbl_each(st, 1000, row_cb, NULL, err, sizeof(err)), 2);
	T_STREQ(rows_seen, "dbl.test/a.example/2130706690 dbl.test/b.example/0 ");
	/* A newer answer replaces the old one; expired rows are dropped. */
	rows[1].addr = 0x7f000104;
	rows[1].expires = 3000;
	T_INTEQ(store_dnsbl_put(st, &rows[1], 1, 1000, err, sizeof(err)), 0);
	rows_seen[0] = '\0';
	T_INTEQ(store_dnsbl_each(st, 0, row_cb, NULL, err, sizeof(err)), 2);
	T_STREQ(rows_seen, "dbl.test/a.example/2130706690 dbl.test/b.example/2130706692 ");
	T_INTEQ(store_dnsbl_zone_get(st, "dbl.test", &since, &until, reason,
	    sizeof(reason), err, sizeof(err)), 0);
	T_INTEQ(store_dnsbl_zone_set(st, "dbl.test", 10, 3610, "answered "
	    "127.255.255.254", err, sizeof(err)), 0);
	T_INTEQ(store_dnsbl_zone_get(st, "dbl.test", &since, &until, reason,
	    sizeof(reason), err, sizeof(err)), 1);
	T_INTEQ((int)since, 10);
	T_INTEQ((int)until, 3610);
	T_STREQ(reason, "answered 127.255.255.254");
	store_close(&st);
	/* Version 2 upgrades: the tables come, the rest stays. */
	T_INTEQ(sqlite3_open(p, &db), SQLITE_OK);
	T_INTEQ(sqlite3_exec(db, "DROP TABLE dnsbl_cache; DROP TABLE "
	    "dnsbl_zone; PRAGMA user_version = 2", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	open_fails(p, STORE_RDONLY, "schema version 2 is older than 3");
	st = xopen(p, 0);
	if (st == NULL)
		return;
	T_INTEQ(store_dnsbl_each(st, 0, row_cb, NULL, err, sizeof(err)), 0);
	T_INTEQ(store_dnsbl_put(st, rows, 1, 100, err, sizeof(err)), 0);
	T_INTEQ(store_dnsbl_each(st, 0, row_cb, NULL, err, sizeof(err)), 1);
	store_close(&st);
	T_INTEQ(read32(p, 60), 3);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_locked(void)
{
	char p[300], want[400];
	struct store *a, *b = NULL;
	double t0;

	a = xopen(PATH(p, "lock.db"), 0);
	if (a == NULL)
		return;
	T_INTEQ(store_open(&b, p, 0, 200, err, sizeof(err)), 0);
	if (b == NULL) {
		store_close(&a);
		return;
	}
	T_INTEQ(store_begin(a, err, sizeof(err)), 0);
	T_INTEQ(store_sent_add(a, "<held@x>", 1, "t", err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "store: %s: database is locked", p);
	t0 = now_s();
	T_INTEQ(store_sent_add(b, "<w@x>", 1, "t", err, sizeof(err)), -1);
	T_STREQ(err, want);
	T_INTEQ(store_begin(b, err, sizeof(err)), -1);
	T_STREQ(err, want);
	T_INTEQ(store_mailbox_set(b, "a", "INBOX", 1, 1, err, sizeof(err)),
	    -1);
	T_ASSERT(now_s() - t0 < 3.0);
	T_INTEQ(store_sent_has(b, "<held@x>", err, sizeof(err)), 0);
	T_INTEQ(store_commit(a, err, sizeof(err)), 0);
	T_INTEQ(store_sent_has(b, "<held@x>", err, sizeof(err)), 1);
	T_INTEQ(store_sent_add(b, "<w@x>", 1, "t", err, sizeof(err)), 0);
	store_close(&b);
	store_close(&a);
}

/* A read-write open where the -wal and -shm files cannot be made: the
 * line names the directory and why, not SQLite's errno of its read-only
 * retry.  Root writes anywhere (the integration test makes a read-only
 * mount instead): skipped. */
static void
test_unwritable_dir(void)
{
	char sub[300], p[400], want[800];
	struct store *st;

	if (geteuid() == 0)
		return;
	PATH(sub, "ro");
	snprintf(p, sizeof(p), "%s/x.db", sub);
	T_INTEQ(mkdir(sub, 0700), 0);
	st = xopen(p, 0);
	store_close(&st);
	T_INTEQ(chmod(sub, 0500), 0);
	/* (SQLite says "unable to open database file" or, with a read-only
	 * -shm fallback, "attempt to write a readonly database") */
	snprintf(want, sizeof(want), " (cannot create files in %s: "
	    "Permission denied)", sub);
	open_fails(p, 0, want);
	chmod(sub, 0700);
	unlink(p);
	rmdir(sub);
}

static void
cleanup(void)
{
	char p[600];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	for (de = readdir(d); de != NULL; de = readdir(d)) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * A write that meets a full disk: the batch fails, and its rollback
 * checkpoints and truncates the WAL, giving the space back (it kept its
 * size until the last connection closed, and on a full disk even then).
 * On a small tmpfs of its own: root only.
 */
static void
test_disk_full(void)
{
	char	 mnt[300], p[320], wal[330], id[64], pad[200];
	struct store *st;
	struct stat sb;
	int	 i, r = 0;

	if (geteuid() != 0) {
		printf("  skipped: needs root (a tmpfs of its own)\n");
		return;
	}
	snprintf(mnt, sizeof(mnt), "%s/full", dir);
	if (mkdir(mnt, 0700) == -1 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0700") == -1) {
		T_FAILF("mount tmpfs on %s: %s", mnt, strerror(errno));
		return;
	}
	snprintf(p, sizeof(p), "%s/s.db", mnt);
	snprintf(wal, sizeof(wal), "%s-wal", p);
	/* Made, closed (its WAL copied in and removed), opened again. */
	if ((st = xopen(p, 0)) == NULL)
		goto out;
	store_close(&st);
	if ((st = xopen(p, 0)) == NULL)
		goto out;
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	T_INTEQ(store_begin(st, err, sizeof(err)), 0);
	for (i = 0; i < 100000 && r == 0; i++) {
		snprintf(id, sizeof(id), "<%d.full@test>", i);
		r = store_sent_add(st, id, 1000, pad, err, sizeof(err));
	}
	T_INTEQ(r, -1);
	if (strstr(err, "full") == NULL && strstr(err, "space") == NULL)
		T_FAILF("error \"%s\" is not a full disk", err);
	T_INTEQ(store_rollback(st, err, sizeof(err)), 0);
	if (stat(wal, &sb) == 0 && sb.st_size != 0)
		T_FAILF("%s is %lld bytes after the rollback, want 0", wal,
		    (long long)sb.st_size);
	/* The space is back: a small batch fits. */
	T_INTEQ(store_sent_add(st, "<after.full@test>", 1000, "s", err,
	    sizeof(err)), 0);
	store_close(&st);
	T_ASSERT(stat(wal, &sb) == -1 || sb.st_size == 0);
out:
	if (umount2(mnt, MNT_DETACH) == -1)
		T_FAILF("umount %s: %s", mnt, strerror(errno));
	(void)rmdir(mnt);
}

/*
 * Several processes opening one new store at once (three sweeps of a new
 * config): every one opens it.  Reading the mark, the version and the
 * tables one by one, a process could see another's first migration half
 * way ("tables but no imapsift mark").  Each round releases OPENERS
 * children together through a pipe; a child exits 0 if its open worked.
 */
#define OPENERS	6
#define OPEN_ROUNDS 40

static void
test_concurrent_create(void)
{
	char p[256], name[32];
	int fds[2], round, i, st_, bad = 0;
	pid_t pid[OPENERS];
	char c;

	for (round = 0; round < OPEN_ROUNDS; round++) {
		snprintf(name, sizeof(name), "race%d.db", round);
		PATH(p, name);
		if (pipe(fds) == -1) {
			T_FAILF("pipe: %s", strerror(errno));
			return;
		}
		for (i = 0; i < OPENERS; i++) {
			pid[i] = fork();
			if (pid[i] == 0) {
				struct store *st = NULL;

				close(fds[1]);
				if (read(fds[0], &c, 1) == -1)
					_exit(3);
				if (store_open(&st, p, 0, 0, err,
				    sizeof(err)) == -1) {
					printf("  round %d: %s\n", round, err);
					fflush(stdout);
					_exit(1);
				}
				store_close(&st);
				_exit(0);
			}
		}
		close(fds[0]);
		close(fds[1]);	/* every child's read returns now */
		for (i = 0; i < OPENERS; i++) {
			if (pid[i] == -1 || waitpid(pid[i], &st_, 0) == -1 ||
			    !WIFEXITED(st_) || WEXITSTATUS(st_) != 0)
				bad++;
		}
	}
	if (bad > 0)
		T_FAILF("%d of %d opens of a new store failed", bad,
		    OPENERS * OPEN_ROUNDS);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 2;
	}
	T_RUN(test_msgid_key);
	T_RUN(test_file_mode);
	T_RUN(test_reopen);
	T_RUN(test_odd_files);
	T_RUN(test_rdonly);
	T_RUN(test_sent);
	T_RUN(test_coverage);
	T_RUN(test_correspondents);
	T_RUN(test_mailbox_and_batches);
	T_RUN(test_action_lifecycle);
	T_RUN(test_action_iter);
	T_RUN(test_find_msgid);
	T_RUN(test_fp);
	T_RUN(test_learned);
	T_RUN(test_migrate_v1);
	T_RUN(test_dnsbl);
	T_RUN(test_locked);
	T_RUN(test_concurrent_create);
	T_RUN(test_unwritable_dir);
	T_RUN(test_disk_full);
	cleanup();
	return t_done();
}
