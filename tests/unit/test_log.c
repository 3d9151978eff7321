/*
 * test_log.c: log.c keeps errno, hands each thread its own error text,
 * and ends the process from a worker thread without exit().
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cmd.h"
#include "agent/log.h"
#include "tests/unit/test.h"

/* With stderr closed the line's write fails (EBADF); errno must still
 * be what the caller had. */
static void
test_errno_kept(void)
{
	int fd, i;

	fflush(stderr);
	fd = dup(2);
	T_ASSERT(fd != -1);
	close(2);
	for (i = 0; i < 4; i++) {
		errno = EACCES;
		switch (i) {
		case 0:
			log_warn("warn");
			break;
		case 1:
			log_warnx("warnx");
			break;
		case 2:
			log_info("info");
			break;
		default:
			log_note("note");
			break;
		}
		T_INTEQ(errno, EACCES);
	}
	dup2(fd, 2);
	close(fd);
}

static void *
text_of(void *arg)
{
	return (void *)(uintptr_t)log_strerror(*(int *)arg);
}

/* The texts are strerror's, and two threads' are two buffers. */
static void
test_strerror(void)
{
	static int e1 = ENOENT, e2 = EACCES;
	pthread_t t;
	void *p;
	const char *mine;

	T_STREQ(log_strerror(ENOENT), strerror(ENOENT));
	T_STREQ(log_strerror(123456), strerror(123456));
	mine = log_strerror(e1);
	T_ASSERT(pthread_create(&t, NULL, text_of, &e2) == 0);
	T_ASSERT(pthread_join(t, &p) == 0);
	T_STREQ(mine, strerror(ENOENT));
	T_ASSERT(p != (void *)(uintptr_t)mine);
}

static int marker[2];

static void
at_exit(void)
{
	(void)write(marker[1], "x", 1);
}

static void *
worker(void *arg)
{
	(void)arg;
	fatalx("worker gives up");
	return NULL;
}

/* fatalx in a thread other than main: status EXIT_FAIL, and no atexit
 * handler ran (exit() would run them under the other threads).  In the
 * main thread it stays exit(): the handler runs. */
static void
test_fatal_thread(void)
{
	pthread_t t;
	pid_t pid;
	char c;
	int st, from_thread;

	for (from_thread = 1; from_thread >= 0; from_thread--) {
		T_ASSERT(pipe(marker) == 0);
		fflush(stdout);
		if ((pid = fork()) == 0) {
			close(marker[0]);
			close(2);
			atexit(at_exit);
			if (from_thread) {
				if (pthread_create(&t, NULL, worker, NULL) != 0)
					_exit(99);
				for (;;)
					pause();
			}
			fatalx("main gives up");
		}
		close(marker[1]);
		T_ASSERT(waitpid(pid, &st, 0) == pid);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == EXIT_FAIL);
		T_INTEQ(read(marker[0], &c, 1), from_thread ? 0 : 1);
		close(marker[0]);
	}
}

int
main(void)
{
	T_RUN(test_errno_kept);
	T_RUN(test_strerror);
	T_RUN(test_fatal_thread);
	return t_done();
}
