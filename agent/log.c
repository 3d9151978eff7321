/*
 * log.c: diagnostics in OpenSMTPD's shape.  Lines go to stderr with the
 * program name in front, or to syslog (facility mail) once log_syslog()
 * was called (the daemon without -f).  Each line is written whole, so
 * threads never interleave inside one.  Nothing here ever prints a
 * message body or a credential: callers pass only names, counts and
 * reasons.
 *
 * Every function here leaves errno as it found it, so a caller may log
 * and then test errno.  The system's error text comes from log_strerror()
 * (strerror_r into a buffer of the calling thread), never strerror(),
 * whose buffer is shared between threads.
 *
 * fatal() and fatalx() in the main thread exit(): atexit handlers run
 * and stdio is flushed.  In any other thread (a sweep worker, a watched
 * account) exit() would run those handlers and tear down the process's
 * state while the other threads still use it, so they write the line and
 * end the process with _exit(): nothing runs after the line, and what
 * stdout still buffered is lost.  Their callers are out-of-memory and
 * "cannot happen" paths; the exit status is the same (EXIT_FAIL).
 */
#include <sys/syscall.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "agent/cmd.h"
#include "agent/log.h"

static int log_verbose;
static int log_to_syslog;

const char *
log_strerror(int e)
{
	static _Thread_local char buf[128];

	buf[0] = '\0';		/* glibc names an unknown e, as strerror */
	if (strerror_r(e, buf, sizeof(buf)) != 0 && buf[0] == '\0')
		snprintf(buf, sizeof(buf), "error %d", e);
	return buf;
}

/* Ends the process from fatal()/fatalx() (see the top). */
static void __attribute__((noreturn))
die(void)
{
	if (syscall(SYS_gettid) == getpid())
		exit(EXIT_FAIL);
	_exit(EXIT_FAIL);
}

void
log_init(int verbose)
{
	log_verbose = verbose;
}

void
log_syslog(int on)
{
	if (on && !log_to_syslog)
		openlog("imapsift", LOG_PID | LOG_NDELAY, LOG_MAIL);
	else if (!on && log_to_syslog)
		closelog();
	log_to_syslog = on;
}

static void vlog(int, const char *, const char *, va_list, const char *)
    __attribute__((format(printf, 3, 0)));

static void
vlog(int prio, const char *prefix, const char *fmt, va_list ap,
    const char *suffix)
{
	char line[2048], out[2048 + 32];
	size_t n;
	int saved = errno;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (suffix != NULL)
		snprintf(line + n, sizeof(line) - n, ": %s", suffix);
	if (log_to_syslog) {
		syslog(prio, "%s", line);
		errno = saved;
		return;
	}
	/* One write per line (stderr is unbuffered): lines from several
	 * threads never mix, and a sweep's thousands cost one call each. */
	n = (size_t)snprintf(out, sizeof(out), "%s%s\n", prefix, line);
	if (n >= sizeof(out))
		n = sizeof(out) - 1;
	(void)fwrite(out, 1, n, stderr);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *e = log_strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_WARNING, "imapsift: ", fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "imapsift: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, "imapsift: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_NOTICE, "", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, "imapsift: ", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = log_strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_ERR, "imapsift: ", fmt, ap, e);
	va_end(ap);
	die();
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, "imapsift: ", fmt, ap, NULL);
	va_end(ap);
	die();
}
