/*
 * main.c: imapsift's command dispatcher.
 *
 * imapsift COMMAND [options] [args]: each command parses its own options
 * (getopt_long) and returns an exit code from cmd.h.  Every command
 * answers -h/--help with its usage on stdout (exit 0); imapsift --help or
 * imapsift help lists the commands, imapsift help COMMAND is COMMAND --help.
 */
#include <stdio.h>
#include <string.h>

#include "agent/cmd.h"
#include "agent/log.h"
#include "agent/outcome.h"
#include "rules/rules.h"

#define IMAPSIFT_VERSION "0.1"

static const struct command {
	const char *name;
	int	(*fn)(int, char **);
	const char *what;
} commands[] = {
	{ "classify", cmd_classify, "print a verdict for each message file" },
	{ "explain", cmd_explain, "show every indicator found and why" },
	{ "harvest", cmd_harvest, "build rule lists from sorted spam and ham" },
	{ "learn", cmd_learn, "learn indicators from spam and ham files" },
	{ "learned", cmd_learned, "list or forget learned indicators" },
	{ "check", cmd_check, "validate rule lists (-c FILE: a config)" },
	{ "import-sent", cmd_import_sent,
	    "record sent mail from mbox, Maildir or .eml files" },
	{ "login", cmd_login, "sign in to an OAuth2 account, keep its token" },
	{ "sweep", cmd_sweep, "classify new mail on every account, move hits" },
	{ "watch", cmd_watch, "daemon: sort new mail as it arrives (IDLE)" },
	{ "log", cmd_log, "list the moves sweep made, newest first" },
	{ "undo", cmd_undo, "move logged messages back" },
	{ "feeds", cmd_feeds, "show (--refresh: fetch) the subscribed feeds" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: imapsift COMMAND [options] [args]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\nimapsift COMMAND --help for its options; "
	    "man imapsift for all.\n");
}

int
cmd_exit(int outcome)
{
	switch (outcome) {
	case OUT_OK:
		return EXIT_OK;
	case OUT_TEMP:
		return EXIT_TEMP;
	case OUT_AUTH:
		return EXIT_AUTH;
	default:
		return EXIT_FAIL;
	}
}

int
main(int argc, char **argv)
{
	static char help[] = "--help";
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (strcmp(argv[1], "help") == 0 && argc == 3) {
		/* imapsift help COMMAND: COMMAND --help. */
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (strcmp(argv[2], commands[i].name) == 0) {
				char *av[] = { argv[2], help, NULL };

				log_init(0);
				return commands[i].fn(2, av);
			}
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("imapsift %s\n", IMAPSIFT_VERSION);
		return EXIT_OK;
	}
	log_init(0);
	/* Before any mail is parsed: boundary.c must be the one libetpan
	 * calls (it is not with a static libetpan), or a boundary="\""
	 * would crash the parse. */
	if (rules_boundary_selftest() == -1)
		fatalx("libetpan failed the boundary self-test (boundary.c "
		    "not in use: a static libetpan?); refusing to parse mail");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	log_warnx("unknown command \"%s\"", argv[1]);
	usage(stderr);
	return EXIT_CONFIG;
}
