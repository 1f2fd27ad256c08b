/*
 * The master: one poll() loop over the listeners, the signal pipe and one
 * broker socket per worker.  It holds the room (broker.c), never speaks
 * WebSocket, and never blocks: what a worker cannot take at once waits
 * in that worker's bounded queue, and a worker whose queue overflows is
 * dropped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "access.h"
#include "broker.h"
#include "buf.h"
#include "chat.h"
#include "io.h"
#include "ipc.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "spawn.h"
#include "title.h"
#include "tls.h"
#include "worker.h"
#include "wslimits.h"

/* Listen backlog. */
#define LISTEN_BACKLOG	511
/* Seconds to stop accepting when out of descriptors. */
#define ACCEPT_PAUSE_MS	1000
/* Buckets of the table of connections per address (a power of 2). */
#define PERIP_BUCKETS	4096

struct qent {
	struct rbuf	*r;
	size_t		 off;
	struct qent	*next;
};

struct client {
	pid_t		 pid;		/* 0: free slot or not started yet */
	int		 pending;	/* asked the spawner, no pid yet */
	int		 spawner;	/* index in M.sp of its spawner */
	int		 fd;		/* broker socket, -1 once closed */
	int		 cfd;		/* direct output: the client socket,
					 * else -1 */
	int		 direct;	/* the worker has handed its output
					 * over: the queue goes to cfd */
	int		 closing;	/* the worker's close frame is queued */
	int		 mid;		/* cfd's stream ends inside a frame */
	int		 joined;
	size_t		 batch_off;	/* where its part of this round's batch starts */
	struct qent	*qhead, *qtail;
	size_t		 qbytes;
	struct bbuf	 part;		/* a message arriving in pieces */
	char		 peer[64];
	struct access_addr ipkey;	/* counted under this address */
	int		 ipcounted;
	int		 via_proxy;	/* the peer is a trusted proxy */
};

/* Connections per client address (IPv4, or IPv6 /64). */
struct perip {
	struct access_addr key;
	unsigned	 n;
	struct perip	*next;
};

/* A spawner process and the master's end of its control socket. */
struct spawner {
	pid_t		 pid;		/* 0: free entry */
	int		 fd;		/* -1 once its end is read */
	int		 queued;	/* requests not answered yet */
	int64_t		 started;	/* mono ms */
};

static struct {
	struct wsconfig	*cfg;
	struct webroot	*wr;
	struct listener	*lst;
	int		 nl;
	int		 sigpipe[2];

	struct client	*cl;
	size_t		 ncl;		/* slots allocated */
	size_t		 nlive;		/* worker processes alive */
	size_t		 hint;		/* where to look for a free slot */

	struct broker	*broker;
	struct bbuf	 batch;		/* frames broadcast in this round */

	struct pollfd	*pfd;
	uint32_t	*pfd_cid;
	size_t		 npfd;		/* allocated */
	size_t		 npfd_used;

	struct spawner	 sp[SPAWNERS_MAX];
	int		 spcur;		/* the one taking requests, or -1 */
	int		 spfails;	/* failed starts in a row */
	int64_t		 spretry;	/* mono ms of the next start, 0: none */
	size_t		 npfd_sp;	/* spawner entries in the poll set */

	int		 quit;
	int64_t		 accept_resume;	/* mono ms; 0 when accepting */
	size_t		 ncfd;		/* client sockets held (direct) */
	size_t		 cfd_max;	/* at most, from RLIMIT_NOFILE */

	struct perip	*perip[PERIP_BUCKETS];
	uint32_t	 perip_seed;
} M;

/* In M.pfd_cid: the entry is the client socket, not the broker's. */
#define PFD_CLIENT	0x80000000u

/* One datagram from a worker; longer messages come in pieces. */
static uint8_t	ipcbuf[sizeof(struct ipc_hdr) + IPC_CHUNK];

static void	client_drop(uint32_t, const char *);
static void	client_uncount(size_t);

static void
sig_handler(int sig)
{
	int		 saved = errno;
	unsigned char	 c = (unsigned char)sig;

	(void)write(M.sigpipe[1], &c, 1);
	errno = saved;
}

int
master_listen(const struct wsconfig *cfg, struct listener *lst)
{
	struct addrinfo	 hints, *ai;
	int		 i, fd, on = 1, rc;

	for (i = 0; i < cfg->nlisten; i++) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
		hints.ai_socktype = SOCK_STREAM;
		if ((rc = getaddrinfo(cfg->listen[i].host, cfg->listen[i].port,
		    &hints, &ai)) != 0)
			fatalx("listen %s:%s: %s", cfg->listen[i].host,
			    cfg->listen[i].port, gai_strerror(rc));
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			fatal("socket");
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1)
			fatal("SO_REUSEADDR");
		if (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
		    IPV6_V6ONLY, &on, sizeof(on)) == -1)
			fatal("IPV6_V6ONLY");
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
			fatal("bind %s:%s", cfg->listen[i].host,
			    cfg->listen[i].port);
		freeaddrinfo(ai);
		if (listen(fd, LISTEN_BACKLOG) == -1)
			fatal("listen");
		lst[i].fd = fd;
		lst[i].tls = cfg->listen[i].tls;
		master_log_listener(&lst[i]);
	}
	return cfg->nlisten;
}

void
master_log_listener(const struct listener *l)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 text[128];

	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) == -1)
		fatal("getsockname");
	io_addr_text((struct sockaddr *)&ss, text, sizeof(text));
	log_info("listening on %s%s", text, l->tls ? " with TLS" : "");
}

/* ---- delivery to workers ---- */

static void
queue_free(struct client *c)
{
	struct qent	*q, *n;

	for (q = c->qhead; q != NULL; q = n) {
		n = q->next;
		rbuf_unref(q->r);
		free(q);
	}
	c->qhead = c->qtail = NULL;
	c->qbytes = 0;
}

/* n more bytes of the head entry are sent: unlink it once it is done. */
static void
queue_consume(struct client *c, size_t n)
{
	struct qent	*q = c->qhead;

	q->off += n;
	c->qbytes -= n;
	if (q->off < q->r->len)
		return;
	c->qhead = q->next;
	if (c->qhead == NULL)
		c->qtail = NULL;
	rbuf_unref(q->r);
	free(q);
}

/* Whether len more bytes fit the client's queue; if not it is dropped.
 * The limit is on backlog: one item alone (a big welcome) passes. */
static int
queue_fits(uint32_t cid, size_t len)
{
	struct client	*c = &M.cl[cid];

	if (c->qbytes > 0 && c->qbytes + len > M.cfg->max_queue) {
		log_info("client %s: dropped: output queue over %u bytes",
		    c->peer, M.cfg->max_queue);
		client_drop(cid, NULL);
		return 0;
	}
	return 1;
}

static void	direct_done(uint32_t);

/* The master lets go of a client socket (direct output).  If the stream
 * ends inside a frame, nobody may write to it any more: shut it down, so
 * that the worker sees the end too. */
static void
direct_release(struct client *c)
{
	if (c->cfd == -1)
		return;
	if (c->mid)
		shutdown(c->cfd, SHUT_RDWR);
	close(c->cfd);
	c->cfd = -1;
	M.ncfd--;
}

/*
 * Write to a client socket what it takes now: the count (0 when full),
 * or -1 when the connection is gone or reset (the queue is dropped and
 * the socket let go: the worker sees the end too, and ends).
 */
static ssize_t
direct_send(uint32_t cid, const void *p, size_t len)
{
	struct client	*c = &M.cl[cid];
	ssize_t		 n;
	int		 rc;

	while ((n = send(c->cfd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL)) == -1)
		if ((rc = io_failed()) != IO_RETRY) {
			if (rc == IO_AGAIN)
				return 0;
			log_debug("client %s: write: %s", c->peer,
			    strerror(errno));
			queue_free(c);
			c->mid = 1;
			direct_release(c);
			return -1;
		}
	return n;
}

/*
 * Direct output with nothing waiting: write at once what the socket
 * takes, without queueing.  Returns the bytes left to queue (p + len -
 * return value is where they start), or 0 when nothing is left or the
 * connection is gone.
 */
static size_t
direct_now(uint32_t cid, const uint8_t *p, size_t len)
{
	struct client	*c = &M.cl[cid];
	ssize_t		 n;

	if (c->qhead != NULL || c->cfd == -1 || len == 0)
		return len;
	if ((n = direct_send(cid, p, len)) == -1)
		return 0;
	if (n > 0)
		c->mid = (size_t)n < len;
	return len - (size_t)n;
}

/* Direct output: write what the client socket takes now. */
static void
direct_flush(uint32_t cid)
{
	struct client	*c = &M.cl[cid];
	struct qent	*q;
	ssize_t		 n;

	while ((q = c->qhead) != NULL && c->cfd != -1) {
		if ((n = direct_send(cid, q->r->data + q->off,
		    q->r->len - q->off)) <= 0)
			break;
		c->mid = q->off + (size_t)n < q->r->len;
		queue_consume(c, (size_t)n);
	}
	if (c->qhead == NULL && c->closing)
		direct_done(cid);
}

/* Send what the worker takes now; the rest waits for POLLOUT. */
static void
client_flush(uint32_t cid)
{
	struct client	*c = &M.cl[cid];
	struct qent	*q;
	size_t		 n;
	int		 rc;

	if (c->direct) {
		direct_flush(cid);
		return;
	}
	while ((q = c->qhead) != NULL) {
		n = q->r->len - q->off;
		if (n > IPC_CHUNK)
			n = IPC_CHUNK;
		rc = ipc_send(c->fd, IPC_FRAMES, q->off + n < q->r->len ?
		    IPC_F_MORE : 0, q->r->data + q->off, n);
		if (rc == IO_AGAIN)
			return;
		if (rc == IO_ERROR) {
			/* A worker that has just exited is no news. */
			client_drop(cid, errno == EPIPE || errno == ECONNRESET ?
			    NULL : "broker socket error");
			return;
		}
		queue_consume(c, n);
	}
}

/* Append r from off to the client's queue (its room is checked). */
static int
queue_push(uint32_t cid, struct rbuf *r, size_t off)
{
	struct client	*c = &M.cl[cid];
	struct qent	*q;

	if ((q = malloc(sizeof(*q))) == NULL) {
		client_drop(cid, "out of memory");
		return -1;
	}
	q->r = rbuf_ref(r);
	q->off = off;
	q->next = NULL;
	if (c->qtail)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
	c->qbytes += r->len - off;
	return 0;
}

/* Queue r from off for the client, and send what can go now. */
static void
enqueue(uint32_t cid, struct rbuf *r, size_t off)
{
	struct client	*c = &M.cl[cid];
	size_t		 left;

	if (c->fd == -1 || (c->direct && (c->cfd == -1 || c->closing)))
		return;
	if (c->direct) {
		/* The common case, an empty queue: no queue entry at all. */
		left = direct_now(cid, r->data + off, r->len - off);
		if (left == 0)
			return;
		off = r->len - left;
	}
	if (!queue_fits(cid, r->len - off) || queue_push(cid, r, off) == -1)
		return;
	/* (Direct output has tried already: the rest waits for POLLOUT.) */
	if (c->qhead == c->qtail && !c->direct)
		client_flush(cid);
}

/* Everything broadcast in this round goes to each worker in one piece. */
static void
batch_flush(void)
{
	struct rbuf	*r;
	size_t		 i, len = bbuf_size(&M.batch);

	if (len == 0)
		return;
	if ((r = rbuf_new(bbuf_head(&M.batch), len)) == NULL)
		fatal("batch");
	bbuf_reset(&M.batch);
	for (i = 0; i < M.ncl; i++) {
		struct client *c = &M.cl[i];
		if (c->fd == -1 || !c->joined)
			continue;
		if (c->batch_off < len)
			enqueue((uint32_t)i, r, c->batch_off);
		c->batch_off = 0;
	}
	rbuf_unref(r);
}

static void
op_unicast(void *ctx, uint32_t cid, struct rbuf *r)
{
	(void)ctx;
	enqueue(cid, r, 0);
}

static void
op_broadcast(void *ctx, struct rbuf *r)
{
	(void)ctx;
	if (bbuf_append(&M.batch, r->data, r->len) == -1)
		fatal("batch");
}

static void
op_joined(void *ctx, uint32_t cid, const char *name, size_t len)
{
	struct client	*c = &M.cl[cid];

	(void)ctx;
	c->joined = 1;
	c->batch_off = bbuf_size(&M.batch);
	/* Only for the worker's process title; losing it is harmless. */
	(void)ipc_send(c->fd, IPC_JOINED, 0, name, len);
	log_debug("client %s joined as %.*s", c->peer, (int)len, name);
}

static const struct broker_ops broker_ops = {
	op_unicast, op_broadcast, op_joined
};

/* ---- connections per address ---- */

static struct perip **
perip_find(const struct access_addr *key)
{
	struct perip	**pp;
	uint32_t	  h = M.perip_seed ^ 2166136261u;
	size_t		  i;

	/* FNV-1a, seeded: remote peers choose the keys. */
	for (i = 0; i < sizeof(key->a); i++)
		h = (h ^ key->a[i]) * 16777619u;
	h ^= h >> 15;
	for (pp = &M.perip[h & (PERIP_BUCKETS - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (access_addr_eq(&(*pp)->key, key))
			break;
	return pp;
}

/* Count one more connection from key: 1, 0 at the limit, -1 no memory. */
static int
perip_take(const struct access_addr *key)
{
	struct perip	**pp = perip_find(key), *e = *pp;
	unsigned	  max = M.cfg->max_clients_per_ip;

	if (e != NULL) {
		if (max > 0 && e->n >= max)
			return 0;
		e->n++;
		return 1;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->key = *key;
	e->n = 1;
	*pp = e;
	return 1;
}

static void
perip_put(const struct access_addr *key)
{
	struct perip	**pp = perip_find(key), *e = *pp;

	if (e == NULL)
		return;
	if (--e->n == 0) {
		*pp = e->next;
		free(e);
	}
}

static void
perip_free(void)
{
	struct perip	*e, *n;
	size_t		 i;

	for (i = 0; i < PERIP_BUCKETS; i++) {
		for (e = M.perip[i]; e != NULL; e = n) {
			n = e->next;
			free(e);
		}
		M.perip[i] = NULL;
	}
}

/* ---- clients ---- */

/* The worker is gone or must go: close its socket, tell the room. */
static void
client_drop(uint32_t cid, const char *why)
{
	struct client	*c = &M.cl[cid];

	if (c->fd == -1)
		return;
	if (why != NULL)
		log_info("client %s: %s", c->peer, why);
	close(c->fd);
	c->fd = -1;
	queue_free(c);
	direct_release(c);
	c->direct = c->closing = c->mid = 0;
	bbuf_free(&c->part);
	if (c->joined && !M.quit)
		broker_leave(M.broker, cid, io_now_ms());
	c->joined = 0;
}

/* A worker that breaks the IPC protocol is not trusted any further. */
static void
client_evict(uint32_t cid, const char *why)
{
	client_drop(cid, why);
	if (M.cl[cid].pid > 0)
		kill(M.cl[cid].pid, SIGKILL);
}

/* A chat text, whole or in IPC_CHUNK pieces; returns -1 if evicted. */
static int
client_message(uint32_t cid, const struct ipc_msg *m)
{
	struct client	*c = &M.cl[cid];

	if (!(m->flags & IPC_F_MORE) && bbuf_size(&c->part) == 0) {
		broker_message(M.broker, cid, m->data, m->len, io_now_ms());
		return 0;
	}
	/* Never past what a text may be (one chunk of slack for a message
	 * in flight while SIGHUP lowers max-text: the broker answers it). */
	if (bbuf_size(&c->part) + m->len > M.cfg->max_text + IPC_CHUNK ||
	    bbuf_append(&c->part, m->data, m->len) == -1) {
		client_evict(cid, "oversized message from worker");
		return -1;
	}
	if (m->flags & IPC_F_MORE)
		return 0;
	broker_message(M.broker, cid, (const char *)bbuf_head(&c->part),
	    bbuf_size(&c->part), io_now_ms());
	bbuf_free(&c->part);
	return 0;
}

/* A worker behind a trusted proxy names its real client; returns -1 if
 * evicted. */
static int
client_count_as(uint32_t cid, const struct ipc_msg *m)
{
	struct client		*c = &M.cl[cid];
	struct access_addr	 a, key;
	int			 rc;

	if (!c->via_proxy) {
		client_evict(cid, "address change asked by a direct client");
		return -1;
	}
	memcpy(a.a, m->data, sizeof(a.a));
	access_addr_key(&a, &key);
	client_uncount(cid);
	if ((rc = perip_take(&key)) == 1) {
		c->ipkey = key;
		c->ipcounted = 1;
	}
	/* The worker waits for this answer; its socket is empty now. */
	if (ipc_send(c->fd, rc == 1 ? IPC_COUNT_OK : IPC_COUNT_FULL, 0,
	    NULL, 0) != 0) {
		client_evict(cid, "cannot answer worker");
		return -1;
	}
	return 0;
}

/* Direct output is written and the worker's close frame with it: let go
 * of the client socket and say so (the worker then ends the TCP
 * connection itself). */
static void
direct_done(uint32_t cid)
{
	struct client	*c = &M.cl[cid];

	c->closing = 0;
	direct_release(c);
	/* (If this fails the worker's own deadline ends it.) */
	(void)ipc_send(c->fd, IPC_CLOSED, 0, NULL, 0);
}

/* Bytes from the worker for its client (direct output); -1 if evicted. */
static int
client_out(uint32_t cid, const struct ipc_msg *m)
{
	struct client	*c = &M.cl[cid];
	const uint8_t	*p = m->data;
	size_t		 len;
	struct rbuf	*r;
	int		 rc;

	if (!c->direct) {
		/* The first: the worker hands its output over, and nothing
		 * can be queued for it yet (it has not joined). */
		if (c->cfd == -1 || c->qhead != NULL) {
			client_evict(cid, "unexpected output from worker");
			return -1;
		}
		c->direct = 1;
	}
	if (c->closing) {
		client_evict(cid, "output after its close from worker");
		return -1;
	}
	if ((len = direct_now(cid, p, m->len)) > 0 && c->cfd != -1) {
		p += m->len - len;
		/* Small frames (pongs, errors) share one buffer: a flood of
		 * them costs what it weighs. */
		if (!queue_fits(cid, len))
			return -1;
		if (c->qtail != NULL && rbuf_append(c->qtail->r, p, len) == 0)
			c->qbytes += len;
		else {
			if ((r = rbuf_alloc(len < OUT_COALESCE ? OUT_COALESCE :
			    len)) == NULL) {
				client_drop(cid, "out of memory");
				return -1;
			}
			r->len = 0;
			(void)rbuf_append(r, p, len);
			rc = queue_push(cid, r, 0);
			rbuf_unref(r);
			if (rc == -1)
				return -1;
		}
	}
	if (m->flags & IPC_F_CLOSE) {
		/* Nothing follows a close frame: out of the room now. */
		if (c->joined)
			broker_leave(M.broker, cid, io_now_ms());
		c->joined = 0;
		c->closing = 1;
		if (c->qhead == NULL || c->cfd == -1)
			direct_done(cid);
	}
	return 0;
}

static void
client_read(uint32_t cid)
{
	struct client	*c = &M.cl[cid];
	struct ipc_msg	 m;
	int		 i, rc;

	for (i = 0; i < IPC_READS_PER_ROUND && c->fd != -1; i++) {
		rc = ipc_recv(c->fd, ipcbuf, sizeof(ipcbuf), &m);
		if (rc == IO_AGAIN)
			return;
		/* A worker that exits with messages from us unread resets
		 * the pair: an end like any other. */
		if (rc == 0 || (rc == IO_ERROR && errno == ECONNRESET)) {
			client_drop(cid, NULL);
			return;
		}
		if (rc == IO_ERROR) {
			client_evict(cid, "bad message from worker");
			return;
		}
		switch (m.type) {
		case IPC_JOIN:
			broker_join(M.broker, cid, m.data, m.len, io_now_ms());
			break;
		case IPC_MESSAGE:
			if (client_message(cid, &m) == -1)
				return;
			break;
		case IPC_COUNT_AS:
			if (client_count_as(cid, &m) == -1)
				return;
			break;
		case IPC_OUT:
			if (client_out(cid, &m) == -1)
				return;
			break;
		default:
			client_evict(cid, "unexpected message from worker");
			return;
		}
	}
}

static int
slot_alloc(void)
{
	struct client	*n;
	size_t		 i, j, ncl;

	for (j = 0; j < M.ncl; j++) {
		i = (M.hint + j) % M.ncl;
		if (M.cl[i].pid == 0 && M.cl[i].fd == -1 &&
		    !M.cl[i].pending) {
			M.hint = i + 1;
			return (int)i;
		}
	}
	ncl = M.ncl ? M.ncl * 2 : 64;
	if ((n = reallocarray(M.cl, ncl, sizeof(*n))) == NULL)
		return -1;
	memset(n + M.ncl, 0, (ncl - M.ncl) * sizeof(*n));
	for (i = M.ncl; i < ncl; i++)
		n[i].fd = n[i].cfd = -1;
	M.cl = n;
	i = M.ncl;
	M.ncl = ncl;
	M.hint = i + 1;
	return (int)i;
}

/* Answer without a worker. */
static void
refuse(int fd, const char *resp, size_t len)
{
	/* A fresh socket's buffer always takes this much. */
	(void)send(fd, resp, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	close(fd);
}

/* The server is full. */
static void
refuse_busy(int fd)
{
	static const char resp[] =
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Server: wschatd\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 24\r\n"
	    "Retry-After: 5\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "503 Service Unavailable\n";

	refuse(fd, resp, sizeof(resp) - 1);
}

/* The peer's address has max-clients-per-ip connections already. */
static void
refuse_perip(int fd)
{
	static const char resp[] =
	    "HTTP/1.1 429 Too Many Requests\r\n"
	    "Server: wschatd\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 22\r\n"
	    "Retry-After: 5\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "429 Too Many Requests\n";

	refuse(fd, resp, sizeof(resp) - 1);
}

/*
 * Count a new connection under its address: 1 counted, 0 not counted (a
 * trusted proxy, *via_proxy set: its worker names the client later), -1
 * refused.
 */
static int
admit_peer(int fd, const struct sockaddr *sa, const char *peer,
    struct access_addr *key, int *via_proxy)
{
	struct access_addr	 a;
	int			 rc;

	*via_proxy = 0;
	if (access_addr_from_sockaddr(sa, &a) == -1)
		return 0;
	if (access_cidr_list_match(M.cfg->trusted, (size_t)M.cfg->ntrusted,
	    &a)) {
		*via_proxy = 1;
		return 0;
	}
	access_addr_key(&a, key);
	if ((rc = perip_take(key)) == 1)
		return 1;
	if (rc == 0)
		log_info("client %s: max-clients-per-ip (%u) reached: refused",
		    peer, M.cfg->max_clients_per_ip);
	else
		log_warnx("client %s: out of memory", peer);
	refuse_perip(fd);
	return -1;
}

/*
 * The spawner has SPAWN_QUEUE_MAX clients waiting for their workers: leave
 * new ones in the listen backlog until it catches up (a burst of arrivals
 * waits a moment instead of being refused).
 */
static int
spawner_full(void)
{
	return M.spcur != -1 && M.sp[M.spcur].fd != -1 &&
	    M.sp[M.spcur].queued >= SPAWN_QUEUE_MAX;
}

/* Hand the client to the spawner: its slot, or -1 (the client is
   closed).  The worker's pid comes back later. */
static int
spawn(int cfd, const struct sockaddr_storage *ss, socklen_t sl,
    const char *peer, int tls)
{
	struct client	*c;
	struct spawn_req rq;
	int		 sv[2], slot, rc, direct;

	if (M.spcur == -1 || M.sp[M.spcur].fd == -1) {
		log_warnx("client %s: refused: no spawner running", peer);
		refuse_busy(cfd);
		return -1;
	}
	if ((slot = slot_alloc()) == -1) {
		log_warnx("out of memory for client %s", peer);
		close(cfd);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1) {
		log_warn("socketpair");
		close(cfd);
		return -1;
	}
	/* Direct output for plain TCP, while descriptors last. */
	direct = !tls && M.ncfd < M.cfd_max;
	memset(&rq, 0, sizeof(rq));
	rq.slot = (uint32_t)slot;
	rq.tls = tls;
	rq.direct = direct;
	rq.peerlen = sl < sizeof(rq.peer) ? sl : sizeof(rq.peer);
	memcpy(&rq.peer, ss, rq.peerlen);
	if ((rc = spawn_request(M.sp[M.spcur].fd, &rq, cfd, sv[1])) != 0) {
		if (rc == IO_AGAIN)
			log_info("client %s: refused: the spawner is busy", peer);
		else
			log_warn("client %s: refused: spawner", peer);
		close(sv[0]);
		close(sv[1]);
		refuse_busy(cfd);
		return -1;
	}
	close(sv[1]);
	M.sp[M.spcur].queued++;
	c = &M.cl[slot];
	memset(c, 0, sizeof(*c));
	c->pending = 1;
	c->spawner = M.spcur;
	c->fd = sv[0];
	c->cfd = -1;
	if (direct) {
		c->cfd = cfd;
		M.ncfd++;
	} else
		close(cfd);
	strlcpy(c->peer, peer, sizeof(c->peer));
	M.nlive++;
	return slot;
}

static void
do_accept(const struct listener *l)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct access_addr	 key;
	char			 peer[64];
	int			 i, fd, counted, slot, proxy;

	for (i = 0; i < ACCEPTS_PER_ROUND && !spawner_full(); i++) {
		sl = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: pausing");
				M.accept_resume = io_mono_ms() + ACCEPT_PAUSE_MS;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (M.nlive >= M.cfg->max_clients) {
			log_info("max-clients (%u) reached: refusing a connection",
			    M.cfg->max_clients);
			refuse_busy(fd);
			continue;
		}
		io_addr_text((struct sockaddr *)&ss, peer, sizeof(peer));
		if ((counted = admit_peer(fd, (struct sockaddr *)&ss, peer,
		    &key, &proxy)) == -1)
			continue;
		if ((slot = spawn(fd, &ss, sl, peer, l->tls)) == -1) {
			if (counted)
				perip_put(&key);
			continue;
		}
		M.cl[slot].ipkey = key;
		M.cl[slot].ipcounted = counted;
		M.cl[slot].via_proxy = proxy;
	}
}

/* The client in slot i no longer counts for its address. */
static void
client_uncount(size_t i)
{
	if (M.cl[i].ipcounted)
		perip_put(&M.cl[i].ipkey);
	M.cl[i].ipcounted = 0;
}

/* The worker in slot i has ended (st as from waitpid); free the slot. */
static void
worker_ended(size_t i, pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		log_info("client %s: worker %d killed by signal %d",
		    M.cl[i].peer, (int)pid, WTERMSIG(st));
	else if (WEXITSTATUS(st) != 0)
		log_info("client %s: worker %d exited with %d",
		    M.cl[i].peer, (int)pid, WEXITSTATUS(st));
	client_drop((uint32_t)i, NULL);
	client_uncount(i);
	M.cl[i].pid = 0;
	M.cl[i].pending = 0;
	M.nlive--;
}

static int
slot_of_pid(pid_t pid, size_t *slot)
{
	size_t	 i;

	for (i = 0; i < M.ncl; i++)
		if (M.cl[i].pid == pid) {
			*slot = i;
			return 0;
		}
	return -1;
}

static void
spawner_up(void)
{
	int64_t	 now = io_mono_ms();
	pid_t	 pid;
	int	 i, fd;

	if (M.spcur != -1 || M.quit || (M.spretry && now < M.spretry))
		return;
	for (i = 0; i < SPAWNERS_MAX; i++)
		if (M.sp[i].pid == 0 && M.sp[i].fd == -1)
			break;
	if (i == SPAWNERS_MAX || (pid = spawner_start(M.cfg, M.wr, &fd)) == -1) {
		if (i == SPAWNERS_MAX)
			log_warnx("spawner: too many retiring spawners");
		else
			log_warn("spawner: start");
		M.spretry = now + SPAWNER_RETRY_MS;
		return;
	}
	M.sp[i].pid = pid;
	M.sp[i].fd = fd;
	M.sp[i].queued = 0;
	M.sp[i].started = now;
	M.spcur = i;
	M.spretry = 0;
	log_debug("spawner %d started", (int)pid);
}

/* No new requests to spawner i: it exits once it has read the last. */
static void
spawner_retire(int i)
{
	if (M.sp[i].fd != -1 && shutdown(M.sp[i].fd, SHUT_WR) == -1)
		log_warn("spawner: shutdown");
	if (M.spcur == i)
		M.spcur = -1;
}

static void
spawner_started(int sp, const struct spawn_rep *rp)
{
	struct client	*c;

	if (M.sp[sp].queued > 0)
		M.sp[sp].queued--;
	if (rp->slot >= M.ncl || !M.cl[rp->slot].pending ||
	    M.cl[rp->slot].spawner != sp) {
		log_warnx("spawner: reply for an unknown client");
		return;
	}
	c = &M.cl[rp->slot];
	c->pending = 0;
	if (rp->pid <= 0) {
		log_warnx("client %s: no worker", c->peer);
		worker_ended(rp->slot, 0, 0);
		return;
	}
	c->pid = rp->pid;
	log_debug("client %s: worker %d", c->peer, (int)rp->pid);
}

static void
spawner_read(int sp)
{
	struct spawn_rep rp;
	size_t		 i;
	int		 n, rc;

	for (n = 0; n < SPAWN_REPLIES_PER_ROUND && M.sp[sp].fd != -1; n++) {
		if ((rc = spawn_reply(M.sp[sp].fd, &rp)) == IO_AGAIN)
			return;
		if (rc == 1 && rp.type == SPAWN_STARTED)
			spawner_started(sp, &rp);
		else if (rc == 1 && rp.type == SPAWN_ENDED) {
			if (slot_of_pid(rp.pid, &i) == 0)
				worker_ended(i, rp.pid, rp.status);
		} else {
			/* It stays the current one until reaped (see
			 * spawner_gone): no restart before that. */
			if (rc == 1 || (rc == IO_ERROR && errno != ECONNRESET)) {
				log_warnx("spawner %d: bad reply",
				    (int)M.sp[sp].pid);
				kill(M.sp[sp].pid, SIGKILL);
			}
			close(M.sp[sp].fd);
			M.sp[sp].fd = -1;
		}
	}
}

/* Spawner sp has exited: what it left undone is undone for good. */
static void
spawner_gone(int sp, int st)
{
	int64_t	 now = io_mono_ms();
	size_t	 i;

	if (!M.quit && (WIFSIGNALED(st) || WEXITSTATUS(st) != 0))
		log_warnx("spawner %d %s %d", (int)M.sp[sp].pid,
		    WIFSIGNALED(st) ? "killed by signal" : "exited with",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (M.sp[sp].fd != -1)
		spawner_read(sp);	/* its last replies */
	if (M.sp[sp].fd != -1) {
		close(M.sp[sp].fd);
		M.sp[sp].fd = -1;
	}
	/* Requests it never answered, workers it reaped but never reported
	 * (its others are now the master's children, see master_run). */
	for (i = 0; i < M.ncl; i++) {
		struct client *c = &M.cl[i];
		if (c->spawner != sp)
			continue;
		if (c->pending || (c->pid > 0 && kill(c->pid, 0) == -1 &&
		    errno == ESRCH))
			worker_ended(i, c->pid, 0);
	}
	if (M.spcur == sp) {
		M.spcur = -1;
		if (now - M.sp[sp].started < SPAWNER_MIN_LIFE_MS) {
			if (++M.spfails >= SPAWNER_MAX_FAILS)
				fatalx("spawner: failed %d times in a row",
				    M.spfails);
			M.spretry = now + SPAWNER_RETRY_MS * M.spfails;
		} else
			M.spfails = 0;
		if (!M.quit && M.spretry)
			log_warnx("spawner: starting a new one in %d ms",
			    (int)(M.spretry - now));
		else if (!M.quit)
			log_warnx("spawner: starting a new one");
	}
	M.sp[sp].pid = 0;
	spawner_up();
}

static void
reap(void)
{
	pid_t	 pid;
	size_t	 i;
	int	 st, j;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (j = 0; j < SPAWNERS_MAX; j++)
			if (M.sp[j].pid == pid)
				break;
		if (j < SPAWNERS_MAX)
			spawner_gone(j, st);
		else if (slot_of_pid(pid, &i) == 0)
			worker_ended(i, pid, st);
	}
}

/*
 * New certificate and key, if TLS is on and they can be read now (after
 * the privilege drop, the files must be readable by the user); else the
 * old ones stay.  Turning TLS on or off needs a restart.
 */
static void
reload_tls(struct wsconfig *nc)
{
	SSL_CTX	*ctx;
	char	 err[CONFIG_ERRLEN];

	if (tls_ctx() == NULL) {
		if (nc->tls_cert[0] != '\0')
			log_warnx("reload: turning TLS on needs a restart");
		return;
	}
	if (nc->tls_cert[0] == '\0') {
		log_warnx("reload: turning TLS off needs a restart; keeping "
		    "the loaded certificate");
		return;
	}
	if ((ctx = tls_ctx_new(nc->tls_cert, nc->tls_key, err,
	    sizeof(err))) == NULL) {
		log_warnx("reload: %s; keeping the loaded certificate", err);
		return;
	}
	tls_set(ctx);
	log_info("reload: TLS certificate %s loaded", nc->tls_cert);
}

static void
reload(void)
{
	struct wsconfig	 nc;
	struct webroot	*wr;
	char		 err[CONFIG_ERRLEN];

	log_reopen();
	notify_send("RELOADING=1");
	nc = *M.cfg;
	if (config_load(&nc, err, sizeof(err)) == -1) {
		log_warnx("reload: %s; keeping the running configuration", err);
		notify_send("READY=1");
		return;
	}
	if (nc.nlisten != M.cfg->nlisten ||
	    memcmp(nc.listen, M.cfg->listen, sizeof(nc.listen)) != 0)
		log_warnx("reload: listen changes need a restart");
	if (strcmp(nc.user, M.cfg->user) != 0)
		log_warnx("reload: user changes need a restart");
	reload_tls(&nc);
	if ((wr = webroot_load(nc.webroot, err, sizeof(err))) == NULL)
		log_warnx("reload: %s; keeping the loaded web client", err);
	else {
		webroot_free(M.wr);
		M.wr = wr;
	}
	memcpy(nc.listen, M.cfg->listen, sizeof(nc.listen));
	nc.nlisten = M.cfg->nlisten;
	strlcpy(nc.user, M.cfg->user, sizeof(nc.user));
	*M.cfg = nc;
	log_setdebug(nc.debug);
	broker_configure(M.broker, nc.history, nc.max_text);
	/* New workers get the new settings and web client from a new
	 * spawner; the old one's workers live on. */
	if (M.spcur != -1)
		spawner_retire(M.spcur);
	M.spfails = 0;
	M.spretry = 0;
	spawner_up();
	log_info("configuration reloaded");
	notify_send("READY=1");
}

/* Returns 1 when asked to quit. */
static int
signals(void)
{
	unsigned char	 sigs[64];
	ssize_t		 n, i;
	int		 quit = 0, hup = 0;

	while ((n = read(M.sigpipe[0], sigs, sizeof(sigs))) > 0)
		for (i = 0; i < n; i++) {
			if (sigs[i] == SIGTERM || sigs[i] == SIGINT)
				quit = 1;
			else if (sigs[i] == SIGHUP)
				hup = 1;
		}
	reap();
	if (hup && !quit)
		reload();
	return quit;
}

static void
build_pollset(void)
{
	size_t	 i, n = 0, want = 1 + (size_t)M.nl + SPAWNERS_MAX + 2 * M.ncl;
	int	 j;

	if (want > M.npfd) {
		M.pfd = reallocarray(M.pfd, want, sizeof(*M.pfd));
		M.pfd_cid = reallocarray(M.pfd_cid, want, sizeof(*M.pfd_cid));
		if (M.pfd == NULL || M.pfd_cid == NULL)
			fatal("poll set");
		M.npfd = want;
	}
	M.pfd[n].fd = M.sigpipe[0];
	M.pfd[n++].events = POLLIN;
	for (j = 0; j < M.nl; j++) {
		M.pfd[n].fd = M.accept_resume || spawner_full() ? -1 :
		    M.lst[j].fd;
		M.pfd[n++].events = POLLIN;
	}
	M.npfd_sp = 0;
	for (j = 0; j < SPAWNERS_MAX; j++) {
		if (M.sp[j].fd == -1)
			continue;
		M.pfd[n].fd = M.sp[j].fd;
		M.pfd[n].events = POLLIN;
		M.pfd_cid[n++] = (uint32_t)j;
		M.npfd_sp++;
	}
	for (i = 0; i < M.ncl; i++) {
		if (M.cl[i].fd == -1)
			continue;
		M.pfd[n].fd = M.cl[i].fd;
		M.pfd[n].events = POLLIN | (M.cl[i].qhead && !M.cl[i].direct ?
		    POLLOUT : 0);
		M.pfd_cid[n++] = (uint32_t)i;
		if (M.cl[i].direct && M.cl[i].qhead && M.cl[i].cfd != -1) {
			M.pfd[n].fd = M.cl[i].cfd;
			M.pfd[n].events = POLLOUT;
			M.pfd_cid[n++] = (uint32_t)i | PFD_CLIENT;
		}
	}
	M.npfd_used = n;
}

/* Close every worker's broker socket (they answer their clients with
 * 1001), wait for them, then kill the stragglers. */
static void
shutdown_workers(void)
{
	struct pollfd	 p;
	int64_t		 deadline = io_mono_ms() + SHUTDOWN_GRACE_MS, now;
	size_t		 i;
	int		 j;

	for (j = 0; j < M.nl; j++)
		close(M.lst[j].fd);
	for (i = 0; i < M.ncl; i++)
		client_drop((uint32_t)i, NULL);
	/* The spawners exit at EOF; their workers come to the master. */
	for (j = 0; j < SPAWNERS_MAX; j++)
		if (M.sp[j].fd != -1) {
			close(M.sp[j].fd);
			M.sp[j].fd = -1;
		}
	M.spcur = -1;
	for (i = 0; i < M.ncl; i++)
		if (M.cl[i].pending) {
			M.cl[i].pending = 0;
			M.nlive--;
		}
	while (M.nlive > 0 && (now = io_mono_ms()) < deadline) {
		p.fd = M.sigpipe[0];
		p.events = POLLIN;
		if (poll(&p, 1, (int)(deadline - now)) > 0)
			(void)signals();
		reap();
	}
	for (i = 0; i < M.ncl; i++)
		if (M.cl[i].pid > 0)
			kill(M.cl[i].pid, SIGKILL);
	for (j = 0; j < SPAWNERS_MAX; j++)
		if (M.sp[j].pid > 0)
			kill(M.sp[j].pid, SIGKILL);
	for (;;) {
		pid_t pid = waitpid(-1, NULL, 0);
		if (pid == -1 && errno != EINTR)
			break;
		for (i = 0; pid > 0 && i < M.ncl; i++)
			if (M.cl[i].pid == pid) {
				M.cl[i].pid = 0;
				M.nlive--;
			}
	}
}

/*
 * Client sockets the master may hold for direct output: each costs it a
 * descriptor besides the broker socket, and it must not run out of them
 * for accepting.  Past this, clients get the worker-written path.
 */
static size_t
direct_budget(void)
{
	struct rlimit	 rl;
	rlim_t		 n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return SIZE_MAX / 2;
	n = rl.rlim_cur;
	/* Broker sockets, listeners, spawners, syslog, stdio and slack. */
	if (n <= DIRECT_FD_RESERVE)
		return 0;
	return (size_t)(n - DIRECT_FD_RESERVE) / 2;
}

int
master_run(struct wsconfig *cfg, struct webroot *wr, struct listener *lst,
    int nl)
{
	struct sigaction sa;
	size_t		 i;
	int		 n, timeout, sig[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };

	memset(&M, 0, sizeof(M));
	M.cfg = cfg;
	M.cfd_max = direct_budget();
	M.wr = wr;
	M.lst = lst;
	M.nl = nl;
	M.perip_seed = arc4random();
	M.spcur = -1;
	for (n = 0; n < SPAWNERS_MAX; n++)
		M.sp[n].fd = -1;
	bbuf_init(&M.batch);
	if ((M.broker = broker_new(&broker_ops, NULL, cfg->history,
	    cfg->max_text)) == NULL)
		fatal("broker");
	if (pipe2(M.sigpipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sig) / sizeof(sig[0]); i++)
		if (sigaction(sig[i], &sa, NULL) == -1)
			fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);
	/* Workers of a spawner that exits become the master's to reap. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		fatal("PR_SET_CHILD_SUBREAPER");
	title_set("master");
	spawner_up();
	if (M.spcur == -1)
		fatalx("cannot start the spawner");
	log_info("wschatd %s started", PACKAGE_VERSION);
	notify_send("READY=1");

	while (!M.quit) {
		build_pollset();
		timeout = -1;
		if (M.accept_resume) {
			int64_t now = io_mono_ms();
			timeout = M.accept_resume > now ?
			    (int)(M.accept_resume - now) : 0;
		}
		if (M.spcur == -1 && M.spretry) {
			int64_t now = io_mono_ms();
			int t = M.spretry > now ? (int)(M.spretry - now) : 0;
			if (timeout == -1 || t < timeout)
				timeout = t;
		}
		n = poll(M.pfd, M.npfd_used, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (M.accept_resume && io_mono_ms() >= M.accept_resume)
			M.accept_resume = 0;
		spawner_up();
		if (M.pfd[0].revents & POLLIN)
			M.quit = signals();
		if (M.quit)
			break;
		for (i = 1; i < M.npfd_used; i++) {
			short re = M.pfd[i].revents;
			if (re == 0)
				continue;
			if (i <= (size_t)M.nl) {
				do_accept(&M.lst[i - 1]);
				continue;
			}
			if (i <= (size_t)M.nl + M.npfd_sp) {
				spawner_read((int)M.pfd_cid[i]);
				continue;
			}
			uint32_t cid = M.pfd_cid[i];
			if (cid & PFD_CLIENT) {
				cid &= ~PFD_CLIENT;
				/* (Errors and hang-ups are the worker's to see.) */
				if (M.cl[cid].cfd == M.pfd[i].fd &&
				    M.cl[cid].direct)
					direct_flush(cid);
				continue;
			}
			if (M.cl[cid].fd != M.pfd[i].fd)
				continue;	/* dropped earlier in this round */
			if (re & POLLOUT)
				client_flush(cid);
			if (M.cl[cid].fd != -1 && (re & (POLLIN | POLLHUP | POLLERR)))
				client_read(cid);
		}
		batch_flush();
	}

	log_info("shutting down");
	notify_send("STOPPING=1");
	shutdown_workers();
	broker_free(M.broker);
	webroot_free(M.wr);
	tls_set(NULL);
	bbuf_free(&M.batch);
	perip_free();
	free(M.cl);
	free(M.pfd);
	free(M.pfd_cid);
	close(M.sigpipe[0]);
	close(M.sigpipe[1]);
	log_info("exiting");
	return 0;
}
