/*
 * util.c: allocation that dies on out of memory, whole-file reads, and
 * directory walks, for the commands that read message files.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/util.h"

void *
xmalloc(size_t n)
{
	void *p;

	p = malloc(n ? n : 1);
	if (p == NULL)
		fatal("malloc");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		fatal("calloc");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q;

	q = realloc(p, n ? n : 1);
	if (q == NULL)
		fatal("realloc");
	return q;
}

char *
xstrdup(const char *s)
{
	char *p;

	p = strdup(s);
	if (p == NULL)
		fatal("strdup");
	return p;
}

int
util_open_regular(const char *path, const char **why_r)
{
	struct stat st;
	int fd, saved;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		*why_r = log_strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1)
		saved = errno;
	else if (S_ISDIR(st.st_mode))
		saved = EISDIR;
	else if (!S_ISREG(st.st_mode))
		saved = EINVAL;
	else
		saved = 0;
	if (saved != 0) {
		close(fd);
		errno = saved;
		*why_r = saved == EINVAL ? "not a regular file" :
		    log_strerror(saved);
		return -1;
	}
	/* Reads of a regular file never block; clear the flag anyway so
	 * the descriptor behaves as an ordinary one. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int
util_read_file(const char *path, size_t max, struct buf *b, int *truncated_r,
    const char **why_r)
{
	ssize_t n;
	int fd, saved;

	*truncated_r = 0;
	*why_r = NULL;
	b->len = 0;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = util_open_regular(path, why_r)) == -1)
		return -1;
	for (;;) {
		if (b->len == b->cap) {
			if (b->cap >= max) {
				*truncated_r = 1;
				break;
			}
			b->cap = b->cap < 65536 ? 65536 : b->cap * 2;
			if (b->cap > max)
				b->cap = max;
			b->p = xrealloc(b->p, b->cap + 1);
		}
		n = read(fd, b->p + b->len, b->cap - b->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			if (fd != STDIN_FILENO)
				close(fd);
			errno = saved;
			*why_r = log_strerror(errno);
			return -1;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	b->p[b->len] = '\0';
	return 0;
}

void
strlist_add(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(s);
}

void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
util_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
strlist_sort(struct strlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), util_cmp_str);
}

int
util_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

#define WALK_MAX_DEPTH	32	/* directories below the one named */

static int
walk(const char *path, struct strlist *out, int depth)
{
	struct strlist names = { NULL, 0, 0 };
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *sub;
	size_t i, n;

	if (strcmp(path, "-") == 0) {
		strlist_add(out, path);
		return 0;
	}
	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		if (S_ISREG(st.st_mode) || depth == 0)
			strlist_add(out, path);
		return 0;
	}
	/* Below the top, a linked directory could loop: follow none, and
	 * bound the depth of real ones. */
	if (depth > 0 && (lstat(path, &st) == -1 || S_ISLNK(st.st_mode)))
		return 0;
	if (depth > WALK_MAX_DEPTH) {
		log_warnx("%s: more than %d directories deep: skipped", path,
		    WALK_MAX_DEPTH);
		return 0;
	}
	d = opendir(path);
	if (d == NULL)
		return -1;
	for (;;) {
		de = readdir(d);
		if (de == NULL)
			break;
		if (de->d_name[0] != '.')
			strlist_add(&names, de->d_name);
	}
	closedir(d);
	strlist_sort(&names);
	for (i = 0; i < names.n; i++) {
		n = strlen(path) + strlen(names.v[i]) + 2;
		sub = xmalloc(n);
		snprintf(sub, n, "%s/%s", path, names.v[i]);
		/* One unreadable entry (a dangling link, a file gone
		 * since readdir) is skipped with a warning, not fatal. */
		if (walk(sub, out, depth + 1) == -1)
			log_warn("%s: skipped", sub);
		free(sub);
	}
	strlist_free(&names);
	return 0;
}

int
util_walk_files(const char *path, struct strlist *out)
{
	return walk(path, out, 0);
}

int
util_mkdir_p(const char *path, int mode)
{
	char buf[4096], *p;
	struct stat st;

	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, (mode_t)mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, (mode_t)mode) == -1 && errno != EEXIST)
		return -1;
	if (stat(buf, &st) == -1 || !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

double
util_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
