/*
 * cmd.h: the commands main.c dispatches to (argc/argv start at the
 * command name) and the exit codes every command shares.
 *
 * agent/ is the imapsift program itself, the only module that prints,
 * logs, exits or talks to the outside world.  It uses rules/, store/ and
 * conf/; nothing uses it.  One header per module, named after its files
 * (imap.h for imap*.c, sweep.h for sweep*.c ...); a module's -private.h
 * is for its own files only.
 *
 * Conventions: const char * arguments are borrowed, never kept.  A *_free
 * function frees what the caller's struct holds (strlist_free,
 * learner_free, oauth2_ep_free, imap_list_free); the ones that take a
 * pointer to the caller's pointer and set it to NULL are imap_close,
 * imap_drop, oauth2_json_free and sweep_destroy.
 */
#ifndef IMAPSIFT_AGENT_CMD_H
#define IMAPSIFT_AGENT_CMD_H

/* Exit codes shared by every command (sysexits-compatible where it
 * matters to cron and systemd). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* some input could not be read */
#define EXIT_CONFIG	2	/* bad usage, config or rule lists */
#define EXIT_AUTH	3
#define EXIT_LOCKED	4	/* undo: the account stayed locked */
#define EXIT_TEMP	75	/* EX_TEMPFAIL: try again later */

/* The exit code of an outcome (outcome.h): OUT_OK EXIT_OK, OUT_TEMP
 * EXIT_TEMP, OUT_AUTH EXIT_AUTH, OUT_PERM EXIT_FAIL.  A command that
 * means another code for OUT_PERM (EXIT_CONFIG) says so itself.
 * (main.c) */
int	cmd_exit(int outcome);

int	cmd_classify(int argc, char **argv);	/* offline.c */
int	cmd_explain(int argc, char **argv);	/* offline.c */
int	cmd_check(int argc, char **argv);	/* offline.c */
int	cmd_harvest(int argc, char **argv);	/* harvest.c */
int	cmd_learn(int argc, char **argv);	/* learn.c */
int	cmd_learned(int argc, char **argv);	/* learn.c */
int	cmd_import_sent(int argc, char **argv);	/* import.c */
int	cmd_login(int argc, char **argv);	/* oauth2-login.c */
int	cmd_sweep(int argc, char **argv);	/* sweep.c */
int	cmd_watch(int argc, char **argv);	/* watch.c */
int	cmd_log(int argc, char **argv);		/* actlog.c */
int	cmd_undo(int argc, char **argv);	/* actlog.c */
int	cmd_feeds(int argc, char **argv);	/* feeds.c */

#endif
