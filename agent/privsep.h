/*
 * privsep.c: core dumps off, commands run through /bin/sh, config file
 * ownership.
 */
#ifndef IMAPSIFT_AGENT_PRIVSEP_H
#define IMAPSIFT_AGENT_PRIVSEP_H

#include <sys/types.h>

/* privsep_no_core_dumps: RLIMIT_CORE 0 (inherited by commands) and not
 * dumpable, for every process that holds credentials.  privsep_spawn_sh
 * runs /bin/sh -c cmd with its stdout on a pipe (*out_r, close-on-exec),
 * no other descriptor above 2, no signal blocked; its pid, or -1 with
 * errno.  privsep_config_file_ok checks the open config fd (name for
 * messages): as root, a file not owned by root is refused; with mine set
 * (watch --config-fd) also one not owned by the effective user or
 * writable by group or others.  0, or -1 after one line. */
void	privsep_no_core_dumps(void);
pid_t	privsep_spawn_sh(const char *cmd, int *out_r);
int	privsep_config_file_ok(int fd, const char *name, int mine);

#endif
