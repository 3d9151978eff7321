/*
 * import.c: imapsift import-sent, for users who keep their sent mail in
 * local files.  Reads mboxes, Maildirs and single message files and
 * records each message's Message-ID and date, and its To/Cc addresses as
 * correspondents, in the store: the proof a backscatter verdict needs.
 *
 * Only the header block of each message is parsed, so a large mbox costs
 * little more than reading it; files are mapped, not copied.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cmd.h"
#include "agent/import.h"
#include "agent/log.h"
#include "agent/util.h"
#include "rules/rules.h"
#include "store/store.h"

struct import {
	struct store *st;
	const char *source;
	time_t	 date;
	size_t	 msgs, ids, noid, bad;
};

static void
add_corr(void *ctx, const char *addr)
{
	struct import *im = ctx;
	char err[256];

	if (store_correspondent_add(im->st, addr, im->date, err,
	    sizeof(err)) == -1)
		log_debug("%s", err);
}

/* One message: only its header block is parsed. */
static int
import_one(struct import *im, const char *p, size_t len)
{
	struct rules_msg *msg;
	const char *id, *end;
	char err[256];
	int64_t t;
	size_t hl;

	for (hl = 0; hl + 1 < len; hl++)
		if (p[hl] == '\n' && (p[hl + 1] == '\n' ||
		    (p[hl + 1] == '\r' && hl + 2 < len && p[hl + 2] == '\n')))
			break;
	end = p + (hl + 1 < len ? hl + 1 : len);
	if (rules_msg_parse(p, (size_t)(end - p), NULL, &msg, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	im->msgs++;
	id = rules_msg_header(msg, "Message-ID");
	im->date = 0;
	if (rules_parse_date(rules_msg_header(msg, "Date"), &t) == 0)
		im->date = (time_t)t;
	if (id == NULL) {
		im->noid++;
	} else if (store_sent_add(im->st, id, im->date, im->source, err,
	    sizeof(err)) == -1) {
		im->bad++;
		log_debug("%s", err);
	} else {
		im->ids++;
		rules_parse_addrs(rules_msg_header(msg, "To"), add_corr, im);
		rules_parse_addrs(rules_msg_header(msg, "Cc"), add_corr, im);
	}
	rules_msg_free(&msg);
	return 0;
}

/* Splits an mbox at "From " lines that start the file or follow an
 * empty line (mboxrd and mboxo alike: quoted ">From " lines are body). */
static void
import_mbox(struct import *im, const char *p, size_t len)
{
	const char *end = p + len, *line = p, *nl, *next, *msg = NULL;
	int prev_blank = 1;

	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		next = nl != NULL ? nl + 1 : end;
		if (prev_blank && end - line >= 5 &&
		    memcmp(line, "From ", 5) == 0) {
			if (msg != NULL)
				import_one(im, msg, (size_t)(line - msg));
			msg = next;
		}
		prev_blank = next - line == 1 ||
		    (next - line == 2 && line[0] == '\r');
		line = next;
	}
	if (msg != NULL && msg < end)
		import_one(im, msg, (size_t)(end - msg));
}

static int
import_file(struct import *im, const char *path)
{
	struct stat st;
	const char *why;
	void *map;
	int fd;

	fd = util_open_regular(path, &why);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (fd == -1)
			log_warnx("%s: %s", path, why);
		else
			log_warn("%s", path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		log_warn("%s", path);
		return -1;
	}
	if (st.st_size > 5 && memcmp(map, "From ", 5) == 0)
		import_mbox(im, map, (size_t)st.st_size);
	else
		import_one(im, map, (size_t)st.st_size);
	munmap(map, (size_t)st.st_size);
	return 0;
}

/* Maildir's tmp/ holds half-delivered files: never read them.  A file
 * found below a named directory whose own directory is named tmp counts
 * as one (a file named on the command line is always read). */
static int
in_maildir_tmp(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash - path >= 4 &&
	    strncmp(slash - 4, "/tmp", 4) == 0;
}

static int
import_path(struct store *st, const char *path)
{
	struct strlist files = { NULL, 0, 0 };
	struct import im;
	char err[256], src[4200];
	size_t i;
	int rc = 0;

	if (util_walk_files(path, &files) == -1) {
		log_warn("%s", path);
		return -1;
	}
	memset(&im, 0, sizeof(im));
	im.st = st;
	snprintf(src, sizeof(src), "file:%s", path);
	im.source = src;
	if (store_begin(st, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		strlist_free(&files);
		return -1;
	}
	for (i = 0; i < files.n; i++)
		if ((strcmp(files.v[i], path) == 0 ||
		    !in_maildir_tmp(files.v[i])) &&
		    import_file(&im, files.v[i]) == -1)
			rc = -1;
	if (store_commit(st, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		rc = -1;
	} else
		printf("import-sent: %s: %zu messages, %zu Message-IDs "
		    "recorded, %zu without one%s\n", path, im.msgs, im.ids,
		    im.noid, im.bad ? ", some invalid (see -v)" : "");
	strlist_free(&files);
	return rc;
}

/* The store's default place: $XDG_STATE_HOME/imapsift/imapsift.db, the
 * directory made 0700 on the way. */
const char *
import_store_path(void)
{
	static char path[4096];
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[4000];

	if (xdg != NULL && xdg[0] == '/')
		snprintf(dir, sizeof(dir), "%s/imapsift", xdg);
	else if (home != NULL && home[0] == '/')
		snprintf(dir, sizeof(dir), "%s/.local/state/imapsift", home);
	else
		fatalx("neither XDG_STATE_HOME nor HOME is set: use --store");
	if (util_mkdir_p(dir, 0700) == -1)
		fatal("%s", dir);
	snprintf(path, sizeof(path), "%s/imapsift.db", dir);
	return path;
}

/* The usage on f; EXIT_OK for stdout (--help), else EXIT_CONFIG. */
static int
import_usage(FILE *f)
{
	fprintf(f, "usage: imapsift import-sent [--store FILE] PATH...\n");
	return f == stdout ? EXIT_OK : EXIT_CONFIG;
}

int
cmd_import_sent(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store *st = NULL;
	const char *path = NULL;
	char err[512], a[32], b[32];
	struct tm tm;
	time_t oldest, newest;
	int ch, i, rc = EXIT_OK, complete;

	optind = 1;
	for (;;) {
		ch = getopt_long(argc, argv, "s:vh", longopts, NULL);
		if (ch == -1)
			break;
		if (ch == 's')
			path = optarg;
		else if (ch == 'v')
			log_init(1);
		else
			return import_usage(ch == 'h' ? stdout : stderr);
	}
	if (optind >= argc)
		return import_usage(stderr);
	if (path == NULL)
		path = import_store_path();
	if (store_open(&st, path, 0, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return EXIT_FAIL;
	}
	for (i = optind; i < argc; i++)
		if (import_path(st, argv[i]) == -1)
			rc = EXIT_FAIL;
	if (store_coverage(st, &oldest, &newest, &complete, err,
	    sizeof(err)) == 0 && oldest != 0) {
		strftime(a, sizeof(a), "%Y-%m-%d", gmtime_r(&oldest, &tm));
		strftime(b, sizeof(b), "%Y-%m-%d", gmtime_r(&newest, &tm));
		printf("import-sent: %s covers sent mail from %s to %s\n",
		    path, a, b);
	}
	store_close(&st);
	return rc;
}
