/*
 * imap-sess.h: struct imap, shared by imap.c (connect, TLS, login,
 * close) and imap-sess.c (the session's state and the mapping of
 * libetpan's MAILIMAP_* codes), and by tests/fuzz/fuzz_imap.c, which
 * builds a session over memory and links imap-sess.c's imap_fail as the
 * agent runs it.  Nothing else reaches inside a session.
 */
#ifndef IMAPSIFT_AGENT_IMAP_SESS_H
#define IMAPSIFT_AGENT_IMAP_SESS_H

#include <libetpan/libetpan.h>

struct imap {
	mailimap	*mi;
	char		*host;
	char		*account;
	int		 dead;
	int		 dead_rc;	/* OUT_* of what ended the session */
	char		 err[512];
	char		 alert[400];	/* the last [ALERT] shown */
	char		*sel;		/* the mailbox selected, or NULL */
	int		 sel_ro;	/* ... by EXAMINE */
	int		 late_push;	/* the greeting names Cyrus or Courier */
};

#endif
