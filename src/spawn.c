/*
 * The spawner process (see spawn.h) and the master's side of its control
 * socket.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "io.h"
#include "log.h"
#include "sandbox.h"
#include "spawn.h"
#include "title.h"
#include "worker.h"

/* Descriptors of the spawner: its control socket and the syslog socket. */
#define SPAWNER_CTL_FD	3
#define SPAWNER_LOG_FD	4
#define SPAWNER_LOW_FD	5
/* A worker's: client 3, broker 4, syslog 5 (the filter allows no
 * dup2/close_range: fcntl and close do it). */
#define WORKER_CLIENT_FD	3
#define WORKER_BROKER_FD	4
#define WORKER_LOG_FD		5
#define WORKER_TMP_FD		8
/* Descriptors passed with one request: client, broker. */
#define SPAWN_NFDS	2

static int	spawner_sigpipe[2] = { -1, -1 };

/*
 * Under the filter, the end is _exit, not exit: no atexit handlers (in
 * sanitizer builds LeakSanitizer's would need a thread and /proc).
 */
static void __attribute__((noreturn))
spawner_die(const char *what, int err)
{
	if (err)
		log_warn("spawner: %s", what);
	else
		log_warnx("spawner: %s", what);
	_exit(1);
}

static void
spawner_sigchld(int sig)
{
	int	 saved = errno;

	(void)sig;
	(void)write(spawner_sigpipe[1], "", 1);
	errno = saved;
}

int
spawn_request(int ctl, const struct spawn_req *rq, int cfd, int bfd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(SPAWN_NFDS * sizeof(int))];
	} cbuf;
	int		 fds[SPAWN_NFDS] = { cfd, bfd }, rc;

	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)(uintptr_t)rq;
	iov.iov_len = sizeof(*rq);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	while (sendmsg(ctl, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		if ((rc = io_failed()) != IO_RETRY)
			return rc;
	return 0;
}

int
spawn_reply(int ctl, struct spawn_rep *rp)
{
	ssize_t	 n;
	int	 rc;

	while ((n = recv(ctl, rp, sizeof(*rp), MSG_DONTWAIT)) == -1)
		if ((rc = io_failed()) != IO_RETRY)
			return rc;
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof(*rp)) {
		errno = EPROTO;
		return IO_ERROR;
	}
	return 1;
}

/* The spawner's blocking send; the master always reads its end. */
static void
spawner_send(int ctl, const struct spawn_rep *rp)
{
	while (send(ctl, rp, sizeof(*rp), MSG_NOSIGNAL) == -1) {
		if (errno == EPIPE || errno == ECONNRESET)
			_exit(0);	/* the master is shutting down */
		if (errno != EINTR)
			spawner_die("send to master", 1);
	}
}

/* Read one request: 1 with *cfd and *bfd set; 0 at EOF; -1 if malformed. */
static int
spawner_recv(int ctl, struct spawn_req *rq, int *cfd, int *bfd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(SPAWN_NFDS * sizeof(int))];
	} cbuf;
	int		 fds[SPAWN_NFDS];
	ssize_t		 n;

	*cfd = *bfd = -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = rq;
	iov.iov_len = sizeof(*rq);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	while ((n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC)) == -1)
		if (errno != EINTR)
			spawner_die("recvmsg", 1);
	if (n == 0)
		return 0;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(fds)))
		return -1;
	memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	*cfd = fds[0];
	*bfd = fds[1];
	if ((size_t)n != sizeof(*rq) || (mh.msg_flags & MSG_CTRUNC) ||
	    rq->peerlen > sizeof(rq->peer))
		return -1;
	return 1;
}

static void
spawner_reap(int ctl)
{
	struct spawn_rep rp;
	pid_t		 pid;
	int		 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		memset(&rp, 0, sizeof(rp));
		rp.type = SPAWN_ENDED;
		rp.pid = pid;
		rp.status = st;
		spawner_send(ctl, &rp);
	}
}

/* Move fd to exactly want (free) through a temporary: -1 on error. */
static int
move_fd(int fd, int want)
{
	int	 t;

	if (fd == want)
		return 0;
	if ((t = fcntl(fd, F_DUPFD, want)) != want) {
		if (t != -1)
			close(t);
		return -1;
	}
	return close(fd);
}

/* Only the client, broker and syslog sockets stay, at fixed numbers. */
static int
worker_fds(int *cfd, int *bfd)
{
	int	 hc, hb, hl = -1;

	if ((hc = fcntl(*cfd, F_DUPFD, WORKER_TMP_FD)) == -1 ||
	    (hb = fcntl(*bfd, F_DUPFD, WORKER_TMP_FD)) == -1 ||
	    (log_fd() != -1 && (hl = fcntl(log_fd(), F_DUPFD,
	    WORKER_TMP_FD)) == -1))
		return -1;
	close(*cfd);
	close(*bfd);
	if (log_fd() != -1)
		close(log_fd());
	close(SPAWNER_CTL_FD);
	close(spawner_sigpipe[0]);
	close(spawner_sigpipe[1]);
	if (move_fd(hc, WORKER_CLIENT_FD) == -1 ||
	    move_fd(hb, WORKER_BROKER_FD) == -1 ||
	    (hl != -1 && move_fd(hl, WORKER_LOG_FD) == -1))
		return -1;
	log_setfd(hl != -1 ? WORKER_LOG_FD : -1);
	*cfd = WORKER_CLIENT_FD;
	*bfd = WORKER_BROKER_FD;
	return 0;
}

static void __attribute__((noreturn))
spawner_child(const struct wsconfig *cfg, const struct webroot *wr,
    const struct spawn_req *rq, int cfd, int bfd)
{
	char	 peer[64];

	/* First of all: this process can never fork again. */
	if (sandbox_noproc() == -1 || worker_fds(&cfd, &bfd) == -1)
		_exit(1);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	io_addr_text((const struct sockaddr *)&rq->peer, peer, sizeof(peer));
	worker_main(cfg, wr, cfd, bfd, peer,
	    (const struct sockaddr *)&rq->peer, rq->tls, rq->direct);
}

static void
spawner_fork(const struct wsconfig *cfg, const struct webroot *wr, int ctl)
{
	struct spawn_req rq;
	struct spawn_rep rp;
	int		 cfd, bfd, rc;

	if ((rc = spawner_recv(ctl, &rq, &cfd, &bfd)) == 0)
		_exit(0);	/* the master is gone or has a new spawner */
	if (rc == -1)	/* only the master writes here: a bug */
		spawner_die("malformed request", 0);
	memset(&rp, 0, sizeof(rp));
	rp.type = SPAWN_STARTED;
	rp.slot = rq.slot;
	switch ((rp.pid = fork())) {
	case -1:
		log_warn("spawner: fork");
		break;
	case 0:
		spawner_child(cfg, wr, &rq, cfd, bfd);
	}
	close(cfd);
	close(bfd);
	spawner_send(ctl, &rp);
}

static void __attribute__((noreturn))
spawner_main(const struct wsconfig *cfg, const struct webroot *wr)
{
	struct pollfd	 pfd[2];
	char		 drain[64];
	int		 rc;

	title_set("spawner");
	if (pipe2(spawner_sigpipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("spawner: pipe");
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (signal(SIGCHLD, spawner_sigchld) == SIG_ERR)
		fatal("spawner: signal");
	switch (sandbox_enter()) {
	case -1:
		fatal("spawner: system call filter");
	case SANDBOX_SKIPPED:
		log_info("running under valgrind: workers have no system "
		    "call filter");
		break;
	}
	for (;;) {
		pfd[0].fd = SPAWNER_CTL_FD;
		pfd[0].events = POLLIN;
		pfd[1].fd = spawner_sigpipe[0];
		pfd[1].events = POLLIN;
		if ((rc = poll(pfd, 2, -1)) == -1) {
			if (errno == EINTR)
				continue;
			spawner_die("poll", 1);
		}
		if (pfd[1].revents & POLLIN) {
			while (read(spawner_sigpipe[0], drain, sizeof(drain)) > 0)
				;
			spawner_reap(SPAWNER_CTL_FD);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			spawner_fork(cfg, wr, SPAWNER_CTL_FD);
	}
}

pid_t
spawner_start(const struct wsconfig *cfg, const struct webroot *wr, int *ctl)
{
	pid_t	 pid;
	int	 sv[2], c, l = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	switch ((pid = fork())) {
	case -1:
		close(sv[0]);
		close(sv[1]);
		return -1;
	case 0:
		/* Keep the control socket as 3 and syslog's as 4; close all
		 * else (listeners, broker sockets, the pid file). */
		if ((c = fcntl(sv[1], F_DUPFD_CLOEXEC, SPAWNER_LOW_FD)) == -1 ||
		    (log_fd() != -1 && (l = fcntl(log_fd(), F_DUPFD_CLOEXEC,
		    SPAWNER_LOW_FD)) == -1) ||
		    dup2(c, SPAWNER_CTL_FD) == -1 ||
		    (l != -1 && dup2(l, SPAWNER_LOG_FD) == -1))
			_exit(1);
		closefrom(l != -1 ? SPAWNER_LOW_FD : SPAWNER_LOG_FD);
		log_setfd(l != -1 ? SPAWNER_LOG_FD : -1);
		spawner_main(cfg, wr);
	}
	close(sv[1]);
	if (io_nonblock(sv[0]) == -1) {
		close(sv[0]);
		return -1;	/* the spawner exits at EOF */
	}
	*ctl = sv[0];
	return pid;
}
