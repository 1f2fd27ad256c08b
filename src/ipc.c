#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "io.h"
#include "ipc.h"

int
ipc_parse(const void *buf, size_t n, struct ipc_msg *m)
{
	struct ipc_hdr	 h;

	if (n < sizeof(h))
		return -1;
	memcpy(&h, buf, sizeof(h));
	if (h.len != n - sizeof(h))
		return -1;
	switch (h.type) {
	case IPC_JOIN:
	case IPC_JOINED:
		if (h.flags != 0)
			return -1;
		break;
	case IPC_COUNT_AS:
		if (h.flags != 0 || h.len != IPC_ADDR_LEN)
			return -1;
		break;
	case IPC_COUNT_OK:
	case IPC_COUNT_FULL:
	case IPC_CLOSED:
		if (h.flags != 0 || h.len != 0)
			return -1;
		break;
	case IPC_MESSAGE:
	case IPC_FRAMES:
		if (h.flags & ~IPC_F_MORE)
			return -1;
		break;
	case IPC_OUT:
		if (h.flags & ~(IPC_F_MORE | IPC_F_CLOSE))
			return -1;
		break;
	default:
		return -1;
	}
	m->type = h.type;
	m->flags = h.flags;
	m->data = (const char *)buf + sizeof(h);
	m->len = h.len;
	return 0;
}

int
ipc_send(int fd, uint16_t type, uint16_t flags, const void *p, size_t len)
{
	struct ipc_hdr	 h;
	struct iovec	 iov[2];
	struct msghdr	 msg;
	int		 rc;

	if (len > UINT32_MAX)
		return IO_ERROR;
	h.type = type;
	h.flags = flags;
	h.len = (uint32_t)len;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)p;
	iov[1].iov_len = len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = len > 0 ? 2 : 1;
	while (sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		if ((rc = io_failed()) != IO_RETRY)
			return rc;
	return 0;
}

int
ipc_recv(int fd, void *buf, size_t bufsz, struct ipc_msg *m)
{
	ssize_t	 n;
	int	 rc;

	while ((n = recv(fd, buf, bufsz, MSG_DONTWAIT | MSG_TRUNC)) == -1)
		if ((rc = io_failed()) != IO_RETRY)
			return rc;
	if (n == 0)
		return 0;
	if ((size_t)n > bufsz || ipc_parse(buf, (size_t)n, m) == -1) {
		errno = EBADMSG;
		return IO_ERROR;
	}
	return 1;
}
