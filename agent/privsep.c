/*
 * privsep.c: what keeps credentials in and other people's files out.
 * Core dumps are turned off in every process that reads a config (it may
 * hold a password, and password_command's output is a secret); commands
 * are run with no descriptor of ours but the three standard ones; and a
 * config file must belong to whoever runs it: as root, only root's own
 * files are loaded (alice's password_command would otherwise run as
 * root), and a watcher the root supervisor started loads only the
 * descriptor it was handed, owned by the user it runs as.
 */
#define _GNU_SOURCE	/* posix_spawn_file_actions_addclosefrom_np */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/privsep.h"
#include "agent/util.h"

void
privsep_no_core_dumps(void)
{
	static const struct rlimit zero = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		log_warn("setrlimit RLIMIT_CORE");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl PR_SET_DUMPABLE");
}

pid_t
privsep_spawn_sh(const char *cmd, int *out_r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	char a0[] = "sh", a1[] = "-c", *args[4];
	pid_t pid;
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	args[0] = a0;
	args[1] = a1;
	args[2] = xstrdup(cmd);
	args[3] = NULL;
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	/* stdout to the pipe; every descriptor above 2 closed (the lock,
	 * the store, other accounts' sockets, whatever we inherited); no
	 * signal blocked or ignored that the shell should see. */
	if ((r = posix_spawn_file_actions_adddup2(&fa, p[1], 1)) != 0 ||
	    (r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0 ||
	    (r = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (r = posix_spawnattr_setsigdefault(&at, &def)) != 0 ||
	    (r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (r = posix_spawn(&pid, "/bin/sh", &fa, &at, args, environ)) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	explicit_bzero(args[2], strlen(args[2]));
	free(args[2]);
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		errno = r;
		return -1;
	}
	*out_r = p[0];
	return pid;
}

/* "alice" for uid, or "uid 1234". */
static const char *
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
	return buf;
}

int
privsep_config_file_ok(int fd, const char *name, int mine)
{
	struct stat sb;
	char who[64];
	uid_t me = geteuid();

	if (fstat(fd, &sb) == -1) {
		log_warn("%s", name);
		return -1;
	}
	if (me == 0 && sb.st_uid != 0) {
		log_warnx("%s: owned by %s, not root: not loaded as root "
		    "(its password_command would run as root); run imapsift "
		    "as %s (runuser -u %s -- imapsift ...) or use watch "
		    "--config-dir", name,
		    user_name(sb.st_uid, who, sizeof(who)), who, who);
		return -1;
	}
	if (!mine)
		return 0;
	if (sb.st_uid != me) {
		log_warnx("%s: owned by %s, not by the user this watcher runs "
		    "as (uid %lu): not run", name,
		    user_name(sb.st_uid, who, sizeof(who)), (unsigned long)me);
		return -1;
	}
	if (sb.st_mode & 022) {
		log_warnx("%s: writable by group or others: not run", name);
		return -1;
	}
	return 0;
}
