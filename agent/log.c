/*
 * log.c: diagnostics in OpenSMTPD's shape.  Everything goes to stderr with
 * the program name in front; the daemon will add syslog.  Nothing here
 * ever prints a message body or a credential: callers pass only names,
 * counts and reasons.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static int log_verbose;

void
log_init(int verbose)
{
	log_verbose = verbose;
}

static void vlog(const char *, va_list, const char *)
    __attribute__((format(printf, 1, 0)));

static void
vlog(const char *fmt, va_list ap, const char *suffix)
{
	fputs("imapsift: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (suffix != NULL)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(fmt, ap, e);
	va_end(ap);
	exit(EXIT_FAIL);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	exit(EXIT_FAIL);
}
