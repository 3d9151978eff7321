/*
 * watch-super.c: `imapsift watch --config-dir DIR` started as root.  One
 * child per config file, running as the file's owner: initgroups,
 * setresgid and setresuid happen before the child execs itself as
 * `imapsift watch --config-fd 3`, so nothing of the user's (store, rules,
 * password_command) is ever touched as root.  A child that dies is
 * restarted with backoff; HUP re-reads the directory (new files start,
 * removed ones stop) and is passed on, as USR1 is; TERM and INT stop
 * every child.
 *
 * The file is opened here, once per start, without following a symbolic
 * link, and checked on that descriptor (a regular file, not root's, not
 * writable by group or others); the child runs as the owner fstat saw
 * and gets the descriptor itself, never the name, so swapping the entry
 * between the check and the read changes nothing (the child checks the
 * owner again).  The directory must be root's and not writable by group
 * or others.  Both are checked at every (re)start and on every HUP: a
 * file that fails is stopped, one replaced by another file (or owner) is
 * restarted on it.  The child gets no other descriptor of ours.
 */
#define _GNU_SOURCE	/* setresuid, setresgid */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/outcome.h"
#include "agent/log.h"
#include "agent/privsep.h"
#include "agent/util.h"
#include "agent/watch.h"

#define CHILD_STABLE	60	/* seconds alive that reset the backoff */
#define CHILD_BACKOFF_MAX 300

struct child {
	char	*path;
	pid_t	 pid;		/* 0: not running */
	unsigned fails;
	time_t	 started, next;	/* when it (re)starts */
	int	 seen;		/* in the directory and acceptable */
	int	 restart;	/* stopped to run on a new file */
	uid_t	 uid;		/* the file it runs, as fstat saw it */
	dev_t	 dev;
	ino_t	 ino;
};

static struct child *kids;
static size_t nkids;
static int dirfd_ = -1;		/* the directory, as last checked */

static struct child *
find_kid(const char *path)
{
	size_t i;

	for (i = 0; i < nkids; i++)
		if (strcmp(kids[i].path, path) == 0)
			return &kids[i];
	return NULL;
}

static int verbose;

/* In the child: become uid, the owner of the open config fd, and exec the
 * watcher on that descriptor (as 3, the only one above 2 left open). */
static void
child_exec(const char *path, int fd, uid_t uid, int fg)
{
	struct passwd *pw;
	sigset_t none;
	char a0[] = "imapsift", a1[] = "watch", a2[] = "--config-fd",
	    a3[] = "3", fgopt[] = "-f", slopt[] = "--syslog", vopt[] = "-v",
	    *args[7];
	int n = 0;

	if ((pw = getpwuid(uid)) == NULL)
		fatalx("%s: owner %u has no passwd entry", path,
		    (unsigned)uid);
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
	/* The config as descriptor 3, open across exec; nothing else of
	 * ours (other users' files, anything root inherited) above 2. */
	if (fd != 3 ? dup2(fd, 3) == -1 : fcntl(fd, F_SETFD, 0) == -1)
		fatal("%s: dup2", path);
	closefrom(4);
	args[n++] = a0;
	args[n++] = a1;
	args[n++] = a2;
	args[n++] = a3;
	args[n++] = fg ? fgopt : slopt;
	if (verbose)
		args[n++] = vopt;
	args[n] = NULL;
	execv("/proc/self/exe", args);
	fatal("exec /proc/self/exe");
}

/* DIR itself: root's, not writable by group or others, not a symbolic
 * link.  Keeps it open in dirfd_ for the files' openat.  0 or -1 after a
 * warning. */
static int
check_dir(const char *dir)
{
	struct stat sb;
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("%s", dir);
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		log_warn("%s", dir);
		close(fd);
		return -1;
	}
	if (sb.st_uid != 0 || (sb.st_mode & 022)) {
		log_warnx("%s: %s: no config in it is run (chown root, chmod "
		    "go-w)", dir, sb.st_uid != 0 ? "not owned by root" :
		    "writable by group or others");
		close(fd);
		return -1;
	}
	if (dirfd_ != -1)
		close(dirfd_);
	dirfd_ = fd;
	return 0;
}

/* Opens path (a file of the checked directory) for a child: not a
 * symbolic link, a regular file, not root's, not writable by group or
 * others.  The descriptor (close-on-exec) with *sb, or -1 after a
 * warning. */
static int
open_config(const char *path, struct stat *sb)
{
	const char *name = strrchr(path, '/');
	int fd;

	name = name != NULL ? name + 1 : path;
	fd = openat(dirfd_, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ELOOP)
			log_warnx("%s: a symbolic link: not run (put the file "
			    "itself in the directory)", path);
		else
			log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, sb) == -1) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb->st_mode))
		log_warnx("%s: not a regular file: not run", path);
	else if (sb->st_uid == 0)
		log_warnx("%s: owned by root: not run (a config runs as its "
		    "owner)", path);
	else if (sb->st_mode & 022)
		log_warnx("%s: writable by group or others: not run", path);
	else
		return fd;
	close(fd);
	return -1;
}

/* Checks k's file again and starts a child on it; a file that fails
 * the checks is not run until a HUP finds it acceptable. */
static void
start_kid(struct child *k, int fg)
{
	struct stat sb;
	pid_t pid;
	int fd;

	if ((fd = open_config(k->path, &sb)) == -1) {
		k->seen = 0;
		return;
	}
	if ((pid = fork()) == -1) {
		log_warn("fork");
		close(fd);
		k->next = time(NULL) + 5;
		return;
	}
	if (pid == 0)
		child_exec(k->path, fd, sb.st_uid, fg);
	close(fd);
	k->pid = pid;
	k->restart = 0;
	k->uid = sb.st_uid;
	k->dev = sb.st_dev;
	k->ino = sb.st_ino;
	k->started = time(NULL);
	log_info("%s: started (pid %ld)", k->path, (long)pid);
}

/* Reads dir again and checks every file in it: new acceptable files get
 * a child slot; a running one whose file is no longer acceptable is to
 * stop (seen 0), one whose entry now names another file or owner is to
 * restart on it.  -1 when the directory itself is refused (every child
 * is then to stop). */
static int
scan(const char *dir)
{
	struct strlist files = { 0 };
	struct child *k;
	struct stat sb;
	size_t i;
	int fd;

	for (i = 0; i < nkids; i++)
		kids[i].seen = 0;
	if (check_dir(dir) == -1)
		return -1;
	if (watch_dir_files(dir, &files) == 0)
		for (i = 0; i < files.n; i++) {
			if ((fd = open_config(files.v[i], &sb)) == -1)
				continue;
			close(fd);
			if ((k = find_kid(files.v[i])) == NULL) {
				kids = xrealloc(kids, (nkids + 1) *
				    sizeof(*kids));
				k = &kids[nkids++];
				memset(k, 0, sizeof(*k));
				k->path = xstrdup(files.v[i]);
			} else if (k->pid > 0 && (k->uid != sb.st_uid ||
			    k->dev != sb.st_dev || k->ino != sb.st_ino))
				k->restart = 1;
			k->seen = 1;
		}
	strlist_free(&files);
	return 0;
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
			if (k->restart) {
				k->restart = 0;
				k->next = time(NULL);
				log_info("%s: restarting on the file now there",
				    k->path);
				break;
			}
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
	/* Nothing here holds a secret, but the limit is inherited. */
	privsep_no_core_dumps();
	if (scan(dir) == -1)
		return OUT_PERM;
	if (nkids == 0) {
		log_warnx("%s: no config file to run", dir);
		return OUT_PERM;
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
			(void)scan(dir);
			for (i = 0; i < nkids; i++)
				if (kids[i].pid > 0)
					kill(kids[i].pid, kids[i].seen &&
					    !kids[i].restart ? SIGHUP :
					    SIGTERM);
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
	return OUT_OK;
}
