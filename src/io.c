/* EINTR, EAGAIN and short writes are handled here, once. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "io.h"

int
io_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
io_failed(void)
{
	if (errno == EINTR)
		return IO_RETRY;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return IO_AGAIN;
	return IO_ERROR;
}

ssize_t
io_read(int fd, struct bbuf *b, size_t max)
{
	uint8_t	*w;
	ssize_t	 n;
	int	 rc;

	if ((w = bbuf_reserve(b, max)) == NULL)
		return IO_ERROR;
	while ((n = read(fd, w, max)) == -1)
		if ((rc = io_failed()) != IO_RETRY)
			return rc;
	bbuf_commit(b, (size_t)n);
	return n;
}

int
io_flush(int fd, struct bbuf *b)
{
	ssize_t	 n;
	int	 rc;

	while (bbuf_size(b) > 0) {
		n = send(fd, bbuf_head(b), bbuf_size(b), MSG_NOSIGNAL);
		if (n == -1) {
			if ((rc = io_failed()) != IO_RETRY)
				return rc;
			continue;
		}
		bbuf_consume(b, (size_t)n);
	}
	return 0;
}

int64_t
io_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
io_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
io_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	host[0] = '\0';
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%d", host, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%d", host, ntohs(s6->sin6_port));
	} else
		snprintf(buf, len, "unknown");
}
