/*
 * watch-super.c: `imapsift watch --config-dir DIR` started as root.  One
 * child per config file, running as the file's owner: initgroups,
 * setresgid and setresuid happen before the child execs itself as
 * `imapsift watch -c FILE`, so nothing of the user's (store, rules,
 * password_command) is ever touched as root.  A child that dies is
 * restarted with backoff; HUP re-reads the directory (new files start,
 * removed ones stop) and is passed on, as USR1 is; TERM and INT stop
 * every child.
 * Files owned by root, or writable by group or others, are refused.
 */
#define _GNU_SOURCE	/* setresuid, setresgid */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define CHILD_STABLE	60	/* seconds alive that reset the backoff */
#define CHILD_BACKOFF_MAX 300

struct child {
	char	*path;
	pid_t	 pid;		/* 0: not running */
	unsigned fails;
	time_t	 started, next;	/* when it (re)starts */
	int	 seen;		/* still in the directory */
};

static struct child *kids;
static size_t nkids;

static struct child *
find_kid(const char *path)
{
	size_t i;

	for (i = 0; i < nkids; i++)
		if (strcmp(kids[i].path, path) == 0)
			return &kids[i];
	return NULL;
}

/* In the child: become the owner of path and exec the watcher on it. */
static int verbose;

static void
child_exec(const char *path, int fg)
{
	struct passwd *pw;
	struct stat sb;
	sigset_t none;
	char a0[] = "imapsift", a1[] = "watch", a2[] = "-c", fgopt[] = "-f",
	    slopt[] = "--syslog", vopt[] = "-v", *args[7], *p;
	int n = 0;

	if (stat(path, &sb) == -1)
		fatal("%s", path);
	if ((pw = getpwuid(sb.st_uid)) == NULL)
		fatalx("%s: owner %u has no passwd entry", path,
		    (unsigned)sb.st_uid);
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("%s: cannot become %s", path, pw->pw_name);
	if (setuid(0) != -1)
		fatalx("%s: privileges not dropped", path);
	/* The user's own environment, nothing of root's. */
	clearenv();
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	if (chdir(pw->pw_dir) == -1 && chdir("/") == -1)
		fatal("chdir");
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	p = xstrdup(path);
	args[n++] = a0;
	args[n++] = a1;
	args[n++] = a2;
	args[n++] = p;
	args[n++] = fg ? fgopt : slopt;
	if (verbose)
		args[n++] = vopt;
	args[n] = NULL;
	execv("/proc/self/exe", args);
	fatal("exec /proc/self/exe");
}

static int
acceptable(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == -1) {
		log_warn("%s", path);
		return 0;
	}
	if (sb.st_uid == 0) {
		log_warnx("%s: owned by root: not run (a config runs as its "
		    "owner)", path);
		return 0;
	}
	if (sb.st_mode & 022) {
		log_warnx("%s: writable by group or others: not run", path);
		return 0;
	}
	return 1;
}

static void
start_kid(struct child *k, int fg)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		k->next = time(NULL) + 5;
		return;
	}
	if (pid == 0)
		child_exec(k->path, fg);
	k->pid = pid;
	k->started = time(NULL);
	log_info("%s: started (pid %ld)", k->path, (long)pid);
}

/* Reads dir: new acceptable files get a child slot. */
static void
scan(const char *dir)
{
	struct strlist files = { 0 };
	struct child *k;
	size_t i;

	for (i = 0; i < nkids; i++)
		kids[i].seen = 0;
	if (watch_dir_files(dir, &files) == 0)
		for (i = 0; i < files.n; i++) {
			if ((k = find_kid(files.v[i])) != NULL) {
				k->seen = 1;
				continue;
			}
			if (!acceptable(files.v[i]))
				continue;
			kids = xrealloc(kids, (nkids + 1) * sizeof(*kids));
			k = &kids[nkids++];
			memset(k, 0, sizeof(*k));
			k->path = xstrdup(files.v[i]);
			k->seen = 1;
		}
	strlist_free(&files);
}

static void
reap(int stopping)
{
	struct child *k;
	size_t i;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (i = 0; i < nkids; i++) {
			k = &kids[i];
			if (k->pid != pid)
				continue;
			k->pid = 0;
			if (stopping || !k->seen)
				break;
			k->fails = time(NULL) - k->started >= CHILD_STABLE ?
			    1 : k->fails + 1;
			k->next = time(NULL) + (k->fails >= 9 ?
			    CHILD_BACKOFF_MAX : (1 << (k->fails - 1)));
			if (k->next - time(NULL) > CHILD_BACKOFF_MAX)
				k->next = time(NULL) + CHILD_BACKOFF_MAX;
			if (WIFEXITED(st))
				log_warnx("%s: exited with status %d: restart "
				    "in %lds", k->path, WEXITSTATUS(st),
				    (long)(k->next - time(NULL)));
			else
				log_warnx("%s: killed by signal %d: restart "
				    "in %lds", k->path, WTERMSIG(st),
				    (long)(k->next - time(NULL)));
			break;
		}
}

static void
signal_kids(int sig)
{
	size_t i;

	for (i = 0; i < nkids; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, sig);
}

static size_t
running(void)
{
	size_t i, n = 0;

	for (i = 0; i < nkids; i++)
		n += kids[i].pid > 0;
	return n;
}

int
watch_supervise(const char *dir, int fg, int sl, int v)
{
	struct timespec ts = { 1, 0 };
	sigset_t set;
	time_t end;
	size_t i;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	verbose = v;
	scan(dir);
	if (nkids == 0) {
		log_warnx("%s: no config file to run", dir);
		return EXIT_CONFIG;
	}
	if (!fg && !sl && daemon(0, 0) == -1)
		fatal("daemon");
	if (!fg)
		log_syslog(1);
	for (;;) {
		for (i = 0; i < nkids; i++)
			if (kids[i].seen && kids[i].pid == 0 &&
			    time(NULL) >= kids[i].next)
				start_kid(&kids[i], fg);
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGCHLD || sig == -1)
			reap(0);
		if (sig == SIGHUP) {
			log_info("%s: rescanning on SIGHUP", dir);
			scan(dir);
			for (i = 0; i < nkids; i++)
				if (kids[i].pid > 0)
					kill(kids[i].pid, kids[i].seen ?
					    SIGHUP : SIGTERM);
		}
		if (sig == SIGUSR1)
			signal_kids(SIGUSR1);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_info("stopping %zu watcher%s", running(), running() == 1 ? "" :
	    "s");
	signal_kids(SIGTERM);
	end = time(NULL) + 5;
	while (running() > 0 && time(NULL) < end) {
		(void)sigtimedwait(&set, NULL, &ts);
		reap(1);
	}
	if (running() > 0) {
		signal_kids(SIGKILL);
		while (running() > 0 && waitpid(-1, NULL, 0) > 0)
			reap(1);
	}
	return EXIT_OK;
}
