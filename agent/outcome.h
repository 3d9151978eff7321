/*
 * outcome.h: how an operation below the commands ended, the one result
 * type of agent/ for what can fail in more than one way (IMAP sessions,
 * sweeps, accounts, config loading, locks).  The commands alone turn
 * outcomes into exit codes (cmd_exit in cmd.h, or their own choice).
 *
 *   OUT_OK	done.
 *   OUT_TEMP	try again later: the network, the server, a lock held by
 *		another process.
 *   OUT_PERM	retrying as is will not help: refused, bad config, a
 *		local error (already logged or described).
 *   OUT_AUTH	the server or the token store refused the credentials.
 *
 * Plain helpers that either work or fail once (logged, or with errno)
 * keep returning 0 or -1; oauth2*.c keeps its OAUTH2_* codes, which say
 * which message to print, and account.c turns them into outcomes.
 */
#ifndef IMAPSIFT_AGENT_OUTCOME_H
#define IMAPSIFT_AGENT_OUTCOME_H

enum outcome {
	OUT_OK = 0,
	OUT_TEMP = 1,
	OUT_PERM = 2,
	OUT_AUTH = 3
};

#endif
