/*
 * procfloor: what a process costs on this machine, to read the
 * benchmark's figures against.  A server with a process per client pays
 * at least one fork, exit and reap per connection (S3), and, if a worker
 * is woken for each delivery, one wake-up among N processes per
 * delivery (S1).  Both depend on the machine far more than on the code:
 * a virtual machine that switches address spaces slowly makes them
 * several times dearer.  Run it pinned to the server's CPU.
 *
 *   procfloor [--forks N] [--wakeups N]
 *
 * Prints key=value lines:
 *   fork_exit_us       fork, the child _exits at once, waitpid (mean)
 *   wakeup_us_K        one wake-up in a ring of K processes: the parent
 *                      writes one byte to each over a SOCK_SEQPACKET
 *                      pair, each answers with one byte (mean per answer)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

static double
now_us(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double
fork_exit(int n)
{
	double	 t0 = now_us();
	pid_t	 pid;
	int	 i;

	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			perror("fork");
			exit(1);
		}
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) == -1) {
			perror("waitpid");
			exit(1);
		}
	}
	return (now_us() - t0) / n;
}

static double
ring(int k, int wakeups)
{
	int	(*sv)[2], i, j, r, rounds = wakeups / k;
	char	 c = 'x';
	double	 t0, t;
	pid_t	*pids;

	if (rounds < 1)
		rounds = 1;
	if ((sv = calloc((size_t)k, sizeof(*sv))) == NULL ||
	    (pids = calloc((size_t)k, sizeof(*pids))) == NULL) {
		perror("calloc");
		exit(1);
	}
	for (i = 0; i < k; i++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv[i]) == -1) {
			perror("socketpair");
			exit(1);
		}
	for (i = 0; i < k; i++) {
		if ((pids[i] = fork()) == -1) {
			perror("fork");
			exit(1);
		}
		if (pids[i] == 0) {
			for (j = 0; j < k; j++) {
				close(sv[j][0]);
				if (j != i)
					close(sv[j][1]);
			}
			while (read(sv[i][1], &c, 1) == 1)
				if (write(sv[i][1], &c, 1) != 1)
					break;
			_exit(0);
		}
		close(sv[i][1]);
	}
	t0 = now_us();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < k; i++)
			if (write(sv[i][0], &c, 1) != 1) {
				perror("write");
				exit(1);
			}
		for (i = 0; i < k; i++)
			if (read(sv[i][0], &c, 1) != 1) {
				perror("read");
				exit(1);
			}
	}
	t = (now_us() - t0) / ((double)rounds * k);
	for (i = 0; i < k; i++)
		close(sv[i][0]);
	for (i = 0; i < k; i++)
		while (waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
			;
	free(sv);
	free(pids);
	return t;
}

int
main(int argc, char **argv)
{
	int	 forks = 2000, wakeups = 20000, i;
	int	 ks[] = { 10, 1000 };

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--forks") == 0 && i + 1 < argc)
			forks = atoi(argv[++i]);
		else if (strcmp(argv[i], "--wakeups") == 0 && i + 1 < argc)
			wakeups = atoi(argv[++i]);
		else {
			fprintf(stderr,
			    "usage: procfloor [--forks N] [--wakeups N]\n");
			return 2;
		}
	}
	if (forks < 1 || wakeups < 1) {
		fprintf(stderr, "procfloor: counts must be positive\n");
		return 2;
	}
	printf("fork_exit_us=%.1f\n", fork_exit(forks));
	for (i = 0; i < (int)(sizeof(ks) / sizeof(ks[0])); i++)
		printf("wakeup_us_%d=%.1f\n", ks[i], ring(ks[i], wakeups));
	return 0;
}
