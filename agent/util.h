/*
 * util.c: memory, files, string lists, comparators and the clock.
 * x*alloc() never return NULL (they die on out of memory).
 */
#ifndef IMAPSIFT_AGENT_UTIL_H
#define IMAPSIFT_AGENT_UTIL_H

#include <stddef.h>
#include <stdint.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);

/* A reusable read buffer: p[len] is always a NUL once read. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

/* Opens path for reading if it is a regular file, without blocking on a
 * FIFO.  Returns the descriptor, or -1 with errno set (EISDIR for a
 * directory, EINVAL for a FIFO, device or socket) and *why_r the reason
 * to print ("not a regular file", or strerror's text). */
int	util_open_regular(const char *path, const char **why_r);
/* Reads a whole regular file ("-" is stdin, whatever it is) into b,
 * reusing its memory.  Files over max bytes are read up to max and
 * *truncated_r set.  Returns -1 with errno and *why_r as
 * util_open_regular. */
int	util_read_file(const char *path, size_t max, struct buf *b,
	    int *truncated_r, const char **why_r);

/* mkdir -p with mode for the directories it makes.  Returns -1 with
 * errno. */
int	util_mkdir_p(const char *path, int mode);

/* A growable list of strings (caller frees with strlist_free). */
struct strlist {
	char	**v;
	size_t	 n, cap;
};
void	strlist_add(struct strlist *l, const char *s);
void	strlist_free(struct strlist *l);
/* Sorts l's strings by strcmp. */
void	strlist_sort(struct strlist *l);
/* qsort and bsearch comparators: uint32_t (UIDs), char * (strcmp). */
int	util_cmp_u32(const void *a, const void *b);
int	util_cmp_str(const void *a, const void *b);
/* Seconds on the monotonic clock. */
double	util_mono_now(void);

/* Appends the regular files below path (path itself when it is a file),
 * sorted by name, skipping dotfiles, not following links below path, at
 * most 32 directories down (a deeper one is skipped with a warning).
 * Returns -1 with errno on a path that cannot be read. */
int	util_walk_files(const char *path, struct strlist *out);

#endif
