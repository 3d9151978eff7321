/*
 * log.c: logging in OpenSMTPD's shape: log_warn() appends strerror(errno),
 * log_warnx() does not; fatal()/fatalx() log and exit 1.  Messages go to
 * stderr prefixed "imapsift: ", or to syslog once log_syslog(1) is set.
 */
#ifndef IMAPSIFT_AGENT_LOG_H
#define IMAPSIFT_AGENT_LOG_H

void	log_init(int verbose);
/* From now on (on set) lines go to syslog, facility mail, not stderr. */
void	log_syslog(int on);
const char *log_strerror(int e);	/* strerror, for any thread */
/* A result line (a move): no program name in front on stderr, notice
 * priority in syslog. */
void	log_note(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
