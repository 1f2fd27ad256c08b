/* Unit tests of the system call filter (src/sandbox.c), each in a child. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox.h"

/* uid and gid of "nobody": root ignores RLIMIT_NPROC. */
#define NOBODY		65534
/* How long the child of stop_and_continue_survive waits in poll(). */
#define STOP_POLL_MS	400
/* What a child exits with when the call it makes is allowed through. */
#define EXIT_ALLOWED	42

/* Run fn in a child under the filter; return its waitpid status. */
static int
filtered(void (*fn)(void))
{
	pid_t	 pid;
	int	 st;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (sandbox_enter_always() == -1)
			_exit(2);
		fn();
		_exit(EXIT_ALLOWED);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void
assert_killed(int st)
{
	ck_assert_msg(WIFSIGNALED(st), "not killed: exit status %d",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ck_assert_int_eq(WTERMSIG(st), SIGSYS);
}

static int	 pipefd[2];

static void
call_allowed(void)
{
	char	 c = 'x';

	if (getpid() <= 0 || write(pipefd[1], &c, 1) != 1)
		_exit(3);
}

START_TEST(allowed_calls_work)
{
	char	 c = 0;
	int	 st;

	ck_assert_int_eq(pipe(pipefd), 0);
	st = filtered(call_allowed);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), EXIT_ALLOWED);
	ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	close(pipefd[0]);
	close(pipefd[1]);
}
END_TEST

#if !defined(__SANITIZE_ADDRESS__)
static void
call_open(void)
{
	(void)open("/etc/passwd", O_RDONLY);
}

static void
call_openat(void)
{
	(void)syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
}
#endif

static void
call_socket(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
call_socketpair(void)
{
	int	 sv[2];

	(void)socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static void
call_execve(void)
{
	char	*argv[] = { "true", NULL }, *envp[] = { NULL };

	(void)execve("/bin/true", argv, envp);
}

/* Workers run as the master's user: its limits are out of their reach. */
static void
call_prlimit_other(void)
{
	struct rlimit	 rl;

	(void)prlimit(getppid(), RLIMIT_NOFILE, NULL, &rl);
}

static void
call_prlimit_self(void)
{
	struct rlimit	 rl;

	if (prlimit(0, RLIMIT_NOFILE, NULL, &rl) == -1)
		_exit(3);
}

static void
call_kill(void)
{
	(void)kill(getppid(), 0);
}

START_TEST(forbidden_calls_kill)
{
#if !defined(__SANITIZE_ADDRESS__)
	/* Sanitizer builds let openat through for their reports. */
	assert_killed(filtered(call_open));
	assert_killed(filtered(call_openat));
#endif
	assert_killed(filtered(call_socket));
	assert_killed(filtered(call_socketpair));
	assert_killed(filtered(call_execve));
	assert_killed(filtered(call_kill));
	assert_killed(filtered(call_prlimit_other));
}
END_TEST

START_TEST(prlimit_self_allowed)
{
	int	 st = filtered(call_prlimit_self);

	ck_assert_msg(WIFEXITED(st), "killed by signal %d", WTERMSIG(st));
	ck_assert_int_eq(WEXITSTATUS(st), EXIT_ALLOWED);
}
END_TEST

#if defined(__x86_64__)
/* getpid through the i386 entry point: another architecture. */
static void
call_i386(void)
{
	long	 ret;

	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	(void)ret;
}

/* getpid as an x32 system call. */
static void
call_x32(void)
{
	(void)syscall(0x40000000L | SYS_getpid);
}

/* Does this kernel run i386 system calls at all (ia32 emulation)? */
static int
have_i386(void)
{
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == 0) {
		signal(SIGSEGV, SIG_DFL);	/* no sanitizer report */
		call_i386();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

START_TEST(other_abi_kills)
{
	if (have_i386())
		assert_killed(filtered(call_i386));
	assert_killed(filtered(call_x32));
}
END_TEST
#endif

/* A poll() interrupted by a stop is resumed with restart_syscall. */
START_TEST(stop_and_continue_survive)
{
	pid_t	 pid;
	int	 st;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (sandbox_enter_always() == -1)
			_exit(2);
		(void)poll(NULL, 0, STOP_POLL_MS);
		_exit(EXIT_ALLOWED);
	}
	usleep(STOP_POLL_MS * 1000 / 4);
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	ck_assert_int_eq(waitpid(pid, &st, WUNTRACED), pid);
	ck_assert(WIFSTOPPED(st));
	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "killed by signal %d", WTERMSIG(st));
	ck_assert_int_eq(WEXITSTATUS(st), EXIT_ALLOWED);
}
END_TEST

START_TEST(no_fork_after_noproc)
{
	gid_t	 g = NOBODY;
	pid_t	 pid, child;
	int	 st;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (geteuid() == 0 && (setgroups(1, &g) == -1 ||
		    setresgid(NOBODY, NOBODY, NOBODY) == -1 ||
		    setresuid(NOBODY, NOBODY, NOBODY) == -1))
			_exit(2);
		if (sandbox_enter_always() == -1 || sandbox_noproc() == -1)
			_exit(3);
		if ((child = fork()) == 0)
			_exit(0);
		_exit(child == -1 && errno == EAGAIN ? EXIT_ALLOWED : 4);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), EXIT_ALLOWED);
}
END_TEST

START_TEST(valgrind_detection)
{
	const char	*old = getenv("LD_PRELOAD");
	char		*save = old ? strdup(old) : NULL;

	ck_assert_int_eq(setenv("LD_PRELOAD",
	    "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so", 1), 0);
	ck_assert_int_eq(sandbox_under_valgrind(), 1);
	ck_assert_int_eq(setenv("LD_PRELOAD", "/usr/lib/libfoo.so", 1), 0);
	ck_assert_int_eq(sandbox_under_valgrind(), 0);
	if (save != NULL)
		setenv("LD_PRELOAD", save, 1);
	else
		unsetenv("LD_PRELOAD");
	free(save);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite	*s = suite_create("sandbox");
	TCase	*tc = tcase_create("filter");

	tcase_add_test(tc, allowed_calls_work);
	tcase_add_test(tc, forbidden_calls_kill);
	tcase_add_test(tc, prlimit_self_allowed);
#if defined(__x86_64__)
	tcase_add_test(tc, other_abi_kills);
#endif
	tcase_add_test(tc, stop_and_continue_survive);
	tcase_add_test(tc, no_fork_after_noproc);
	tcase_add_test(tc, valgrind_detection);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(sandbox_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
