/*
 * A seccomp filter written as classic BPF: check the architecture, then
 * compare the system call number against an allow-list; everything else
 * kills the whole process.
 *
 * Not allowed, among others: open, openat, openat2, creat, execve,
 * execveat, socket, socketpair, connect, bind, listen, accept, accept4,
 * ptrace, kill, tgkill; prlimit64 on any process but itself (workers
 * share the master's uid).  clone is allowed for the spawner, which forks
 * the workers; a worker sets RLIMIT_NPROC to 0 at once (sandbox_noproc),
 * so that its own fork fails with EAGAIN.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "sandbox.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WSCHATD_ASAN	1
#endif
#endif

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#else
#error "no seccomp filter for this architecture"
#endif

/* x32 system calls on x86_64 have this bit set: refuse them. */
#define X32_SYSCALL_BIT	0x40000000U

static const unsigned int allowed[] = {
	/* I/O on the sockets a worker holds. */
	__NR_read, __NR_write, __NR_readv, __NR_writev,
	__NR_recvfrom, __NR_sendto, __NR_recvmsg, __NR_sendmsg,
	__NR_close, __NR_shutdown, __NR_fcntl,
	/* TCP_NODELAY on the client socket. */
	__NR_setsockopt,
#ifdef __NR_poll
	__NR_poll,
#endif
	__NR_ppoll,
	/* Memory. */
	__NR_brk, __NR_mmap, __NR_munmap, __NR_mremap, __NR_madvise,
	__NR_mprotect,
	/* Signals: handlers, masks, returning from a handler; the kernel
	 * resumes a poll() interrupted by a stop with restart_syscall. */
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
	__NR_restart_syscall,
	/* Time (also served by the vDSO), randomness (WebSocket keys, TLS). */
	__NR_clock_gettime, __NR_gettimeofday, __NR_getrandom,
	__NR_getpid,
	/* glibc's pthread_once (OpenSSL initialises lazily) wakes waiters. */
	__NR_futex,
	/* The spawner: fork a worker, reap it; the worker: no more forks. */
	__NR_clone,
#ifdef __NR_clone3
	__NR_clone3,
#endif
	__NR_wait4, __NR_set_robust_list,
	__NR_exit, __NR_exit_group,
	/* prlimit64 (RLIMIT_NPROC) is allowed apart, on this process only. */
#if defined(__SANITIZE_ADDRESS__) || defined(WSCHATD_ASAN)
	/*
	 * Sanitizer builds only (--enable-sanitizers, for tests, never
	 * packaged): an AddressSanitizer report from a worker reads
	 * /proc/self/maps and looks at files to name the modules of its stack
	 * trace; without these it would be cut short after its first line.
	 * (LeakSanitizer never runs under the filter: the spawner and the
	 * workers end with _exit.)
	 */
	__NR_openat, __NR_readlinkat, __NR_newfstatat, __NR_fstat,
	__NR_lseek, __NR_getdents64, __NR_sigaltstack, __NR_prctl,
	__NR_sched_yield, __NR_gettid,
#ifdef __NR_readlink
	__NR_readlink,
#endif
#ifdef __NR_stat
	__NR_stat,
#endif
#endif
};

#define NALLOWED	(sizeof(allowed) / sizeof(allowed[0]))
/* Load arch, check, kill; load nr, x32 check, kill. */
#define PROG_HEAD	6
/* prlimit64: its pid argument must be 0, this process. */
#define PROG_PRLIMIT	6
/* The head, prlimit64, the list, kill, allow. */
#define PROG_MAX	(PROG_HEAD + PROG_PRLIMIT + NALLOWED + 2)

/* The two halves of the first argument (little-endian). */
#define ARG0_LO		offsetof(struct seccomp_data, args[0])
#define ARG0_HI		(offsetof(struct seccomp_data, args[0]) + 4)

int
sandbox_allowed_count(void)
{
	return (int)NALLOWED;
}

int
sandbox_under_valgrind(void)
{
	const char	*p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "/vgpreload_") != NULL;
}

static size_t
build(struct sock_filter *f)
{
	size_t	 i, n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SANDBOX_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    X32_SYSCALL_BIT, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	/* prlimit64(0, ...) jumps to the allow at the end, past the list
	 * and the kill; with another pid it is killed; else on to the list
	 * with the number still loaded. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    __NR_prlimit64, 0, PROG_PRLIMIT - 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    ARG0_LO);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    0, 0, 2);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    ARG0_HI);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    0, (unsigned char)(NALLOWED + 2), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	/* Entry i jumps over the NALLOWED - 1 - i that follow and the kill. */
	for (i = 0; i < NALLOWED; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, allowed[i], (unsigned char)(NALLOWED - i), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	return n;
}

int
sandbox_enter_always(void)
{
	struct sock_filter	 f[PROG_MAX];
	struct sock_fprog	 prog;

	_Static_assert(NALLOWED + 2 < 256, "allow-list too long for BPF jumps");
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	    "ARG0_LO and ARG0_HI assume little-endian");
	prog.len = (unsigned short)build(f);
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int
sandbox_enter(void)
{
	if (sandbox_under_valgrind())
		return SANDBOX_SKIPPED;
	if (sandbox_enter_always() == -1)
		return -1;
	return SANDBOX_ON;
}

int
sandbox_noproc(void)
{
	struct rlimit	 rl = { 0, 0 };

	return setrlimit(RLIMIT_NPROC, &rl);
}
