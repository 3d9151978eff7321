/*
 * test.h: a tiny table-friendly unit test harness.
 *
 * Each test is a void function run with T_RUN(fn); a failed check prints
 * "file:line: what" and marks the test failed, and the test goes on so a
 * table reports every bad row at once.  t_done() prints the closing line
 * "N passed, N failed" that tests/run.sh adds up, and returns the exit code.
 */
#ifndef IMAPSIFT_TEST_H
#define IMAPSIFT_TEST_H

#include <stdio.h>
#include <string.h>

static int t_passed, t_failed, t_cur_failed;

#define T_FAILF(...) do {						\
	printf("  %s:%d: ", __FILE__, __LINE__);			\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	t_cur_failed = 1;						\
} while (0)

#define T_ASSERT(c) do {						\
	if (!(c))							\
		T_FAILF("assertion failed: %s", #c);			\
} while (0)

#define T_INTEQ(a, b) do {						\
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);		\
	if (t_a_ != t_b_)						\
		T_FAILF("%s == %lld, want %lld", #a, t_a_, t_b_);	\
} while (0)

#define T_STREQ(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ == NULL || t_b_ == NULL ? t_a_ != t_b_ :		\
	    strcmp(t_a_, t_b_) != 0)					\
		T_FAILF("%s == \"%s\", want \"%s\"", #a,		\
		    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");	\
} while (0)

#define T_RUN(fn) t_run(#fn, fn)

static void
t_run(const char *name, void (*fn)(void))
{
	t_cur_failed = 0;
	fn();
	if (t_cur_failed) {
		t_failed++;
		printf("FAIL %s\n", name);
	} else {
		t_passed++;
		printf("ok %s\n", name);
	}
	fflush(stdout);
}

static int
t_done(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed != 0;
}

#endif
