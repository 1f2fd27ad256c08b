#ifndef WSCHATD_SANDBOX_H
#define WSCHATD_SANDBOX_H

/*
 * The system call filter of the spawner and the workers: one classic BPF
 * program, installed once in the spawner and inherited by every worker it
 * forks.  Anything not on its allow-list kills the process (SIGSYS).
 */

/* sandbox_enter: the filter is in place / skipped (under valgrind). */
#define SANDBOX_ON	0
#define SANDBOX_SKIPPED	1

/* no_new_privs, then the filter; -1 with errno set on failure. */
int	sandbox_enter(void);
/* Install the filter even under valgrind (for the unit tests). */
int	sandbox_enter_always(void);
/* RLIMIT_NPROC to 0: this process can no longer fork. */
int	sandbox_noproc(void);
/* Is this process running under valgrind, which cannot run filtered? */
int	sandbox_under_valgrind(void);
/* System calls on the allow-list (for documentation and tests). */
int	sandbox_allowed_count(void);

#endif
