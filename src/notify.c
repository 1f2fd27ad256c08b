#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"
#include "notify.h"

/* First descriptor passed by socket activation (sd_listen_fds(3)). */
#define LISTEN_FDS_START	3
/* Longest $LISTEN_FDNAMES read (names past it count as plain). */
#define LISTEN_NAMES_MAX	1024

static int	notify_fd = -1;

void
notify_open(void)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 pl;

	if (path == NULL || *path == '\0')
		return;
	pl = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || pl >= sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET %s: not a socket path", path);
		return;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, pl);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pl);
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify socket");
		return;
	}
	if (connect(notify_fd, (struct sockaddr *)&sun, len) == -1) {
		log_warn("connect %s", path);
		close(notify_fd);
		notify_fd = -1;
	}
	/* Children must not inherit the variable (or the socket). */
	unsetenv("NOTIFY_SOCKET");
}

void
notify_send(const char *state)
{
	if (notify_fd == -1)
		return;
	if (send(notify_fd, state, strlen(state), MSG_NOSIGNAL) == -1)
		log_warn("notify %s", state);
}

/* Mark the sockets named "tls" in LISTEN_FDNAMES (colon-separated). */
static void
listen_names(const char *names, int *tls, int count)
{
	const char	*p = names, *e;
	int		 i;

	for (i = 0; i < count; i++) {
		tls[i] = 0;
		if (p == NULL)
			continue;
		e = strchr(p, ':');
		tls[i] = (e ? (size_t)(e - p) : strlen(p)) == 3 &&
		    strncmp(p, "tls", 3) == 0;
		p = e ? e + 1 : NULL;
	}
}

int
notify_listen_fds(int *fds, int *tls, int max)
{
	const char	*pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	const char	*names = getenv("LISTEN_FDNAMES");
	char		*end, namebuf[LISTEN_NAMES_MAX];
	long		 v;
	int		 i, count, type;
	socklen_t	 tl;

	if (pid == NULL || n == NULL)
		return 0;
	errno = 0;
	v = strtol(pid, &end, 10);
	if (*end != '\0' || errno != 0 || v != (long)getpid())
		return 0;		/* meant for another process */
	v = strtol(n, &end, 10);
	/* Copied: unsetenv() may take the string away. */
	if (names != NULL)
		strlcpy(namebuf, names, sizeof(namebuf));
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (*end != '\0' || v < 1 || v > max) {
		log_warnx("LISTEN_FDS=%s: expected 1 to %d sockets", n, max);
		return -1;
	}
	count = (int)v;
	listen_names(names ? namebuf : NULL, tls, count);
	for (i = 0; i < count; i++) {
		int fd = LISTEN_FDS_START + i;
		tl = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
		    type != SOCK_STREAM) {
			log_warnx("socket activation: descriptor %d is not a "
			    "stream socket", fd);
			return -1;
		}
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
			log_warn("socket activation: descriptor %d", fd);
			return -1;
		}
		fds[i] = fd;
	}
	return count;
}
