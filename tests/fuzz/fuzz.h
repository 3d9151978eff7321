/*
 * fuzz.h: what the libFuzzer targets in tests/fuzz share.
 *
 * Each target is one LLVMFuzzerTestOneInput; libFuzzer supplies main.
 * The loaders read files, so fuzz_file() keeps one private temporary
 * file per process (in a directory made under $TMPDIR, removed at exit)
 * and rewrites it with each input.  FUZZ_TOP, the source tree, is set by
 * tests/fuzz/fuzz.mk so a target can find the project's fixtures.
 */
#ifndef IMAPSIFT_FUZZ_H
#define IMAPSIFT_FUZZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_PATHMAX	600

/* The temporary directory (which 0) or file (which 1), "" until made. */
static inline char *
fuzz_name(int which)
{
	static char dir[FUZZ_PATHMAX], path[FUZZ_PATHMAX];

	return which ? path : dir;
}

static inline void
fuzz_cleanup(void)
{
	if (fuzz_name(1)[0] != '\0')
		unlink(fuzz_name(1));
	if (fuzz_name(0)[0] != '\0')
		rmdir(fuzz_name(0));
}

/*
 * Writes data to the process's temporary file, named "fuzz" + suffix
 * (rules_load takes a plain file by its suffix), mode 0600 (conf_load
 * refuses a password in a file others can read).  Returns its path;
 * exits when the file cannot be written, which is no finding.
 */
static inline const char *
fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
	char	*dir = fuzz_name(0), *path = fuzz_name(1);
	const char *tmp;
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd;

	if (path[0] == '\0') {
		if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
			tmp = "/tmp";
		snprintf(dir, FUZZ_PATHMAX, "%.400s/imapsift-fuzz.XXXXXX", tmp);
		if (mkdtemp(dir) == NULL) {
			perror(dir);
			exit(2);
		}
		snprintf(path, FUZZ_PATHMAX, "%.480s/fuzz%.40s", dir, suffix);
		atexit(fuzz_cleanup);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		perror(path);
		exit(2);
	}
	while (off < size) {
		n = write(fd, data + off, size - off);
		if (n <= 0) {
			perror(path);
			exit(2);
		}
		off += (size_t)n;
	}
	close(fd);
	return path;
}

/* A NUL-ended copy of data (caller frees). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
