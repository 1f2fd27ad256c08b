/*
 * wsbench: load generator for wschatd and for plain WebSocket broadcast
 * servers.  One process, one thread, epoll, nonblocking sockets; it holds
 * as many connections as its descriptor limit allows (10,000 and more).
 *
 * Modes of the protocol (--proto):
 *   chat       the wschatd protocol (doc PROTOCOL.md): each client joins
 *              with a unique name, senders send {"type":"message","text":
 *              "<sender> <seq> <send_ns> <padding>"}, receivers parse the
 *              "message" events; event ids are checked too.
 *   broadcast  a server that echoes every text message to every client:
 *              the text alone is sent, no JSON, no join.
 *
 * Runs (--run):
 *   load       N clients join; S of them send, paced (--rate per sender) or
 *              closed-loop (--window W messages of each sender in flight,
 *              a message is in flight until its sender receives it back);
 *              every receiver checks order and records the latency from
 *              send to receive of every delivery.
 *   idle       N clients join and stay idle; with --pid, the memory of the
 *              server's process tree is measured.
 *   setup      L loops in parallel, each connect, handshake, join, close,
 *              again and again: connections set up per second.
 *
 * Results go to stdout as key=value lines, one per line, for scripts.
 *
 * Times are CLOCK_MONOTONIC nanoseconds stamped when a message is sent and
 * read when it is received, on the same machine.  Latencies go into a log
 * histogram with 64 sub-buckets per power of two (1.6% resolution); the
 * maximum is exact.
 *
 * Build: cc -O2 -Wall -Wextra -o wsbench wsbench.c -lm
 */

#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- limits ---- */
#define RBUF_INIT	(256 * 1024)	/* shared read buffer */
#define MAX_FRAME	(16 * 1024 * 1024)	/* largest server message */
#define MAX_HTTP_HEAD	16384		/* handshake response head */
#define MAX_EVENTS	512
#define MAX_TEXT	60000
#define RAMP_TIMEOUT_S	180.0		/* to connect and join everyone */
#define SETTLE_TIMEOUT_S 60.0		/* for the join storm to drain */
#define SETUP_CYCLE_TIMEOUT_NS (10 * NS)	/* one setup cycle */
#define CONNECT_TRIES	3

#define NS		1000000000LL

/* ---- histogram ---- */
#define HSUB		64
#define HBUCKETS	(58 * HSUB)

struct hist {
	uint64_t	 b[HBUCKETS];
	uint64_t	 n, max;
	long double	 sum;
};

static unsigned
hidx(uint64_t v)
{
	unsigned	 msb, shift;

	if (v < 2 * HSUB)
		return (unsigned)v;
	msb = 63 - (unsigned)__builtin_clzll(v);
	shift = msb - 6;
	return shift * HSUB + (unsigned)(v >> shift);
}

static uint64_t
hval(unsigned i)
{
	unsigned	 shift;
	uint64_t	 m;

	if (i < 2 * HSUB)
		return i;
	shift = i / HSUB - 1;
	m = i % HSUB + HSUB;
	return (m << shift) + ((1ULL << shift) >> 1);	/* midpoint */
}

static void
hadd(struct hist *h, uint64_t v)
{
	h->b[hidx(v)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

static uint64_t
hpct(const struct hist *h, double q)
{
	uint64_t	 rank, acc = 0;
	unsigned	 i;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->n + 0.999999);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HBUCKETS; i++) {
		acc += h->b[i];
		if (acc >= rank) {
			uint64_t v = hval(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

/* ---- options ---- */
enum proto { P_CHAT, P_BCAST };
enum run { R_LOAD, R_IDLE, R_SETUP };

static struct {
	const char	*host;
	int		 port;
	const char	*path;
	enum proto	 proto;
	enum run	 run;
	int		 clients;
	int		 senders;
	double		 rate;		/* per sender, messages/s; 0: closed-loop */
	int		 window;
	double		 duration;
	int		 text_size;
	pid_t		 pid;
	int		 loops;
	int		 ramp;		/* connections being set up at once */
	double		 idle_wait;
	double		 drain;
	int		 verbose;
} opt = {
	.host = "127.0.0.1", .port = 8080, .path = "/ws", .proto = P_CHAT,
	.run = R_LOAD, .clients = 100, .senders = 10, .rate = 10, .window = 16,
	.duration = 10, .text_size = 100, .pid = 0, .loops = 8, .ramp = 64,
	.idle_wait = 2, .drain = 10, .verbose = 0,
};

/* ---- connections ---- */
enum cstate {
	CS_FREE, CS_CONNECTING, CS_HANDSHAKE, CS_JOINING, CS_OPEN,
	CS_CLOSING, CS_DEAD
};

struct conn {
	int		 fd;
	int		 idx;		/* client number, or loop number */
	uint8_t		 state;
	uint8_t		 pollout;
	uint8_t		 fragop;	/* opcode of a fragmented message */
	uint8_t		 tries;
	int		 sender;	/* sender number, or -1 */
	unsigned char	*in;		/* bytes not yet parsed */
	uint32_t	 inlen, incap;
	unsigned char	*out;		/* bytes the socket did not take */
	uint32_t	 outlen, outoff, outcap;
	unsigned char	*frag;		/* a fragmented message being built */
	uint32_t	 fraglen, fragcap;
	uint64_t	 last_id;	/* chat: last event id seen */
	uint64_t	 join_id;	/* chat: id of our own join */
	uint64_t	 id_hash;	/* chat: rolling hash of message ids */
	uint64_t	 id_count;
	uint32_t	 seq;		/* sender: next sequence number */
	uint32_t	 inflight;	/* sender: closed-loop window */
	int64_t		 next_send;	/* sender: paced mode */
	uint32_t	 iter;		/* setup: cycle number of this loop */
	int64_t		 t0;		/* setup: cycle start */
};

static struct conn	*conns;
static int		 nconns;
static int		 epfd;
static unsigned char	*rbuf;
static size_t		 rcap = RBUF_INIT;

static int		*retry;		/* ramp: clients to connect again */
static int		 nretry;
static uint32_t		*expect;	/* [receiver * senders + sender] */
static uint64_t		*sent;		/* per sender */

static enum phase { PH_RAMP, PH_SETTLE, PH_RUN, PH_DRAIN, PH_DONE } phase;
static int64_t		 t_run0, t_run1;

static struct {
	struct hist	 lat;		/* delivery latency, ns */
	struct hist	 cyc;		/* setup cycle time, ns */
	uint64_t	 delivered;	/* every delivery */
	uint64_t	 in_order;	/* deliveries with the expected seq or later */
	uint64_t	 window;	/* deliveries inside the run window */
	uint64_t	 order_viol;	/* seq went backwards (late or duplicate) */
	uint64_t	 gaps;		/* seq skipped forward */
	uint64_t	 id_viol;	/* chat: ids not strictly increasing */
	uint64_t	 bad_msg;	/* unparsable payloads */
	uint64_t	 server_err;	/* chat: error events */
	uint64_t	 dropped;	/* connections the server closed on us */
	uint64_t	 conn_fail;	/* connect or handshake failures */
	uint64_t	 joined;
	uint64_t	 cycles;	/* setup cycles completed */
	uint64_t	 cycle_err;
	uint64_t	 slips;		/* paced sends more than 1 s late */
	uint64_t	 bytes_in;
	uint64_t	 frames_in;
	uint64_t	 max_join_id;
	int		 ramp_next, ramp_busy, ramp_done;
} st;

static void	 conn_start(struct conn *);
static void	 conn_close(struct conn *, int);
static void	 send_message(struct conn *, int64_t);

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "wsbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void
note(const char *fmt, ...)
{
	va_list	 ap;

	if (!opt.verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "wsbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static inline int64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		die("out of memory");
	return p;
}

/* ---- the server's process tree: memory (Pss) and CPU time ---- */
struct tree {
	uint64_t	 pss_kib;
	uint64_t	 cpu_ticks;
	int		 procs;
};

static int
read_file(const char *path, char *buf, size_t len)
{
	int	 fd, n, off = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)off < len - 1) {
		n = (int)read(fd, buf + off, len - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	return off;
}

/*
 * ppid, utime + stime of one process from /proc/PID/stat, and cutime +
 * cstime (the children it has reaped) in *cticks.
 */
static int
proc_stat(pid_t pid, pid_t *ppid, uint64_t *ticks, uint64_t *cticks)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, stm;
	long		 cut, cst;
	int		 pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt
	 *  cmajflt utime stime cutime cstime" */
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
	    "%ld %ld", &pp, &ut, &stm, &cut, &cst) != 5)
		return -1;
	*ppid = pp;
	*ticks = (uint64_t)ut + stm;
	*cticks = (uint64_t)(cut + cst);
	return 0;
}

static uint64_t
proc_pss(pid_t pid)
{
	char	 path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	if ((p = strstr(buf, "\nPss:")) == NULL)
		return 0;
	return strtoull(p + 5, NULL, 10);
}

/*
 * Sum over the tree rooted at root: every process whose chain of parents
 * leads to root.  Membership is marked in an array indexed by pid and
 * found by passes to a fixed point (as many passes as the tree is deep).
 */
static void
tree_measure(pid_t root, int want_pss, struct tree *t)
{
	DIR		*d;
	struct dirent	*de;
	struct ent { pid_t pid, ppid; uint64_t ticks, cticks; } *e = NULL;
	size_t		 n = 0, cap = 0, i, nset = 0, k;
	pid_t		*set;
	int		 changed;
	char		*in;
	long		 pidmax = 4194304;
	char		 buf[32];

	memset(t, 0, sizeof(*t));
	if (root <= 0 || (d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid_t		 pid, pp;
		uint64_t	 tk, ctk;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (proc_stat(pid, &pp, &tk, &ctk) == -1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			e = xrealloc(e, cap * sizeof(*e));
		}
		e[n].pid = pid;
		e[n].ppid = pp;
		e[n].ticks = tk;
		e[n].cticks = ctk;
		n++;
	}
	closedir(d);
	/* Mark membership by pid; iterate to a fixed point (depth passes). */
	if (read_file("/proc/sys/kernel/pid_max", buf, sizeof(buf)) > 0)
		pidmax = atol(buf) + 1;
	in = calloc((size_t)pidmax, 1);
	if (in == NULL)
		die("out of memory");
	set = xrealloc(NULL, (n + 1) * sizeof(*set));
	if (root < pidmax)
		in[root] = 1;
	do {
		changed = 0;
		for (i = 0; i < n; i++)
			if (!in[e[i].pid] && e[i].ppid > 0 &&
			    e[i].ppid < pidmax && in[e[i].ppid]) {
				in[e[i].pid] = 1;
				changed = 1;
			}
	} while (changed);
	for (i = 0; i < n; i++)
		if (in[e[i].pid]) {
			set[nset++] = e[i].pid;
			/* Processes that have exited count through the member
			 * that reaped them: the root, or a process between
			 * (wschatd's spawner reaps the workers). */
			t->cpu_ticks += e[i].ticks + e[i].cticks;
		}
	if (want_pss)
		for (k = 0; k < nset; k++)
			t->pss_kib += proc_pss(set[k]);
	t->procs = (int)nset;
	free(in);
	free(set);
	free(e);
}

/* ---- output to the socket ---- */
static void
set_events(struct conn *c, int pollout)
{
	struct epoll_event	 ev;

	if (c->pollout == pollout)
		return;
	ev.events = EPOLLIN | (pollout ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	c->pollout = (uint8_t)pollout;
}

/* Send what the socket takes now; keep the rest, in order, for EPOLLOUT. */
static int
conn_write(struct conn *c, const void *data, size_t len)
{
	ssize_t		 n = 0;

	if (c->outlen == 0) {
		do
			n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n == -1 && errno == EINTR);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			n = 0;
		}
		if ((size_t)n == len)
			return 0;
	}
	if (c->outlen + (len - n) > c->outcap) {
		size_t ncap = c->outcap ? c->outcap : 1024;

		while (ncap < c->outlen + (len - n))
			ncap *= 2;
		c->out = xrealloc(c->out, ncap);
		c->outcap = (uint32_t)ncap;
	}
	memcpy(c->out + c->outlen, (const char *)data + n, len - n);
	c->outlen += (uint32_t)(len - n);
	set_events(c, 1);
	return 0;
}

static int
conn_flush(struct conn *c)
{
	ssize_t	 n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->outoff += (uint32_t)n;
	}
	c->outoff = c->outlen = 0;
	if (c->outcap > 65536) {
		free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
	set_events(c, 0);
	return 0;
}

/*
 * A client frame: FIN, opcode, masked payload.  The mask key is fixed: the
 * mask exists to stop cache poisoning through proxies by hostile scripts,
 * which a benchmark on loopback is not; the servers still unmask every byte
 * exactly as they would with a random key.
 */
static const unsigned char MASK[4] = { 0x5a, 0xc3, 0x96, 0x2e };

static size_t
frame_build(unsigned char *f, int op, const void *payload, size_t len)
{
	const unsigned char	*p = payload;
	size_t			 h = 0, i;

	f[h++] = (unsigned char)(0x80 | op);
	if (len < 126)
		f[h++] = (unsigned char)(0x80 | len);
	else if (len < 65536) {
		f[h++] = 0x80 | 126;
		f[h++] = (unsigned char)(len >> 8);
		f[h++] = (unsigned char)len;
	} else {
		f[h++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			f[h++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	memcpy(f + h, MASK, 4);
	h += 4;
	for (i = 0; i < len; i++)
		f[h + i] = p[i] ^ MASK[i & 3];
	return h + len;
}

static int
send_frame(struct conn *c, int op, const void *payload, size_t len)
{
	unsigned char	 stackbuf[512], *f = stackbuf;
	size_t		 n;
	int		 r;

	if (len + 14 > sizeof(stackbuf))
		f = xrealloc(NULL, len + 14);
	n = frame_build(f, op, payload, len);
	r = conn_write(c, f, n);
	if (f != stackbuf)
		free(f);
	return r;
}

/* ---- connecting ---- */
static struct sockaddr_in	 server;
static char			 request[512];
static size_t			 request_len;
/* Sec-WebSocket-Accept for the fixed key below (RFC 6455, section 1.3). */
#define WS_KEY		"dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void
conn_start(struct conn *c)
{
	struct epoll_event	 ev;
	int			 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->state = CS_CONNECTING;
	c->inlen = c->outlen = c->outoff = c->fraglen = 0;
	c->last_id = c->join_id = 0;
	c->pollout = 1;
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) == -1 &&
	    errno != EINPROGRESS) {
		note("connect: %s", strerror(errno));
		conn_close(c, 1);
	}
}

static void
name_of(const struct conn *c, char *buf, size_t len)
{
	if (opt.run == R_SETUP)
		snprintf(buf, len, "s%d_%u", c->idx, c->iter);
	else
		snprintf(buf, len, "c%d", c->idx);
}

static void ramp_conn_ready(struct conn *);
static void setup_probe(struct conn *);
static void setup_close(struct conn *);

/* The handshake is done: join (chat) or be ready (broadcast). */
static void
conn_opened(struct conn *c, int64_t now)
{
	char	 name[48], msg[96];
	int	 n;

	if (opt.proto == P_CHAT) {
		name_of(c, name, sizeof(name));
		n = snprintf(msg, sizeof(msg),
		    "{\"type\":\"join\",\"name\":\"%s\"}", name);
		c->state = CS_JOINING;
		if (send_frame(c, 1, msg, (size_t)n) == -1)
			conn_close(c, 1);
		return;
	}
	c->state = CS_OPEN;
	(void)now;
	if (opt.run == R_SETUP)
		setup_probe(c);
	else
		ramp_conn_ready(c);
}

/* ---- the run's bookkeeping ---- */
static void
ramp_conn_ready(struct conn *c)
{
	(void)c;
	st.joined++;
	st.ramp_busy--;
	st.ramp_done++;
}

static void
setup_cycle_end(struct conn *c, int64_t now, int ok)
{
	if (ok) {
		st.cycles++;
		hadd(&st.cyc, (uint64_t)(now - c->t0));
	} else
		st.cycle_err++;
	c->iter++;
	/* The main loop starts the next cycle: not from here, where the
	 * caller may still hold the old connection's bytes. */
}

/*
 * Setup run, broadcast server, handshake done: a broadcast server has no
 * join, so one message round trip through it stands for one.
 */
static void
setup_probe(struct conn *c)
{
	char	 msg[64];
	int	 n;

	n = snprintf(msg, sizeof(msg), "S %d %u", c->idx, c->iter);
	c->state = CS_JOINING;
	if (send_frame(c, 1, msg, (size_t)n) == -1)
		conn_close(c, 1);
}

/* Setup run, joined: close (status 1000), wait for the server's close. */
static void
setup_close(struct conn *c)
{
	c->state = CS_CLOSING;
	if (send_frame(c, 8, "\x03\xe8", 2) == -1)
		conn_close(c, 1);
}

static void
conn_close(struct conn *c, int failed)
{
	int64_t	 now;
	int	 was = c->state;

	if (c->fd != -1) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->state = CS_DEAD;
	c->inlen = c->outlen = c->outoff = c->fraglen = 0;
	free(c->in);
	free(c->out);
	free(c->frag);
	c->in = c->out = c->frag = NULL;
	c->incap = c->outcap = c->fragcap = 0;
	c->pollout = 0;

	if (opt.run == R_SETUP) {
		now = now_ns();
		setup_cycle_end(c, now, !failed && was == CS_CLOSING);
		return;
	}
	if (was == CS_CONNECTING || was == CS_HANDSHAKE ||
	    was == CS_JOINING) {
		/* Still in the ramp: try again a few times. */
		st.conn_fail++;
		if (phase == PH_RAMP && ++c->tries < CONNECT_TRIES) {
			/* Try again, from the main loop. */
			c->state = CS_FREE;
			retry[nretry++] = c->idx;
			return;
		}
		st.ramp_busy--;
		st.ramp_done++;
		return;
	}
	if (was == CS_OPEN)
		st.dropped++;
}

/* ---- what the server says ---- */
static uint64_t
parse_u64(const char **pp, const char *end, int *ok)
{
	const char	*p = *pp;
	uint64_t	 v = 0;

	if (p >= end || *p < '0' || *p > '9') {
		*ok = 0;
		return 0;
	}
	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	*pp = p;
	return v;
}

static void
sender_refill(struct conn *c, int64_t now)
{
	while (phase == PH_RUN && c->inflight < (uint32_t)opt.window &&
	    c->state == CS_OPEN)
		send_message(c, now);
}

/* One delivery of "<sender> <seq> <send_ns> ..." to receiver r. */
static void
delivery(struct conn *r, const char *p, const char *end, int64_t now)
{
	uint64_t	 s, seq, t;
	uint32_t	*e;
	int		 ok = 1;

	s = parse_u64(&p, end, &ok);
	if (ok && p < end && *p == ' ')
		p++;
	seq = parse_u64(&p, end, &ok);
	if (ok && p < end && *p == ' ')
		p++;
	t = parse_u64(&p, end, &ok);
	if (!ok || s >= (uint64_t)opt.senders) {
		st.bad_msg++;
		return;
	}
	st.delivered++;
	if (now >= t_run0 && now <= t_run1)
		st.window++;
	hadd(&st.lat, now > (int64_t)t ? (uint64_t)(now - (int64_t)t) : 0);
	e = &expect[(size_t)r->idx * opt.senders + s];
	if (seq >= *e) {
		if (seq > *e)
			st.gaps += seq - *e;
		*e = (uint32_t)seq + 1;
		st.in_order++;
	} else
		st.order_viol++;
	if (r->sender == (int)s && opt.rate == 0) {
		if (r->inflight > 0)
			r->inflight--;
		sender_refill(r, now);
	}
}

#define HAS_PREFIX(p, n, lit) \
	((n) >= sizeof(lit) - 1 && memcmp((p), (lit), sizeof(lit) - 1) == 0)

static void
chat_id(struct conn *c, uint64_t id)
{
	if (id <= c->last_id)
		st.id_viol++;
	c->last_id = id;
}

/* A chat event: the layout is the one wschatd writes (PROTOCOL.md). */
static void
chat_text(struct conn *c, const char *p, size_t n, int64_t now)
{
	const char	*end = p + n, *q;
	uint64_t	 id;
	int		 ok = 1;
	char		 name[48];
	size_t		 nl;

	if (HAS_PREFIX(p, n, "{\"type\":\"message\",\"id\":")) {
		q = p + 23;
		id = parse_u64(&q, end, &ok);
		if (!ok) {
			st.bad_msg++;
			return;
		}
		chat_id(c, id);
		if (phase >= PH_RUN) {
			c->id_hash = (c->id_hash ^ id) * 0x100000001b3ULL;
			c->id_count++;
		}
		q = memmem(q, (size_t)(end - q), "\"text\":\"", 8);
		if (q == NULL) {
			st.bad_msg++;
			return;
		}
		q += 8;
		if (opt.run == R_LOAD)
			delivery(c, q, end, now);
		return;
	}
	if (HAS_PREFIX(p, n, "{\"type\":\"join\",\"id\":")) {
		q = p + 20;
		id = parse_u64(&q, end, &ok);
		if (!ok) {
			st.bad_msg++;
			return;
		}
		chat_id(c, id);
		if (c->state != CS_JOINING)
			return;
		q = memmem(q, (size_t)(end - q), "\"name\":\"", 8);
		name_of(c, name, sizeof(name));
		nl = strlen(name);
		if (q == NULL || (size_t)(end - q) < 8 + nl + 1 ||
		    memcmp(q + 8, name, nl) != 0 || q[8 + nl] != '"')
			return;
		/* Our own join: we are in the room. */
		c->join_id = id;
		if (id > st.max_join_id)
			st.max_join_id = id;
		c->state = CS_OPEN;
		if (opt.run == R_SETUP)
			setup_close(c);
		else
			ramp_conn_ready(c);
		return;
	}
	if (HAS_PREFIX(p, n, "{\"type\":\"leave\",\"id\":")) {
		q = p + 21;
		id = parse_u64(&q, end, &ok);
		if (ok)
			chat_id(c, id);
		return;
	}
	if (HAS_PREFIX(p, n, "{\"type\":\"welcome\""))
		return;
	if (HAS_PREFIX(p, n, "{\"type\":\"error\"")) {
		if (st.server_err++ < 5)
			fprintf(stderr, "wsbench: client %d: %.*s\n", c->idx,
			    (int)(n > 200 ? 200 : n), p);
		return;
	}
	st.bad_msg++;
}

static void
bcast_text(struct conn *c, const char *p, size_t n, int64_t now)
{
	const char	*end = p + n, *q;
	uint64_t	 loop, iter;
	int		 ok = 1;

	if (opt.run == R_SETUP) {
		if (n < 2 || p[0] != 'S' || p[1] != ' ')
			return;
		q = p + 2;
		loop = parse_u64(&q, end, &ok);
		if (ok && q < end && *q == ' ')
			q++;
		iter = parse_u64(&q, end, &ok);
		if (ok && loop == (uint64_t)c->idx && iter == c->iter &&
		    c->state == CS_JOINING)
			setup_close(c);
		return;
	}
	if (opt.run == R_LOAD)
		delivery(c, p, end, now);
}

static void
on_message(struct conn *c, int op, const unsigned char *p, size_t n,
    int64_t now)
{
	st.frames_in++;
	switch (op) {
	case 1:
		if (opt.proto == P_CHAT)
			chat_text(c, (const char *)p, n, now);
		else
			bcast_text(c, (const char *)p, n, now);
		break;
	case 2:
		st.bad_msg++;
		break;
	case 8:		/* close */
		if (c->state == CS_CLOSING)
			conn_close(c, 0);
		else {
			if (opt.verbose)
				note("client %d: closed by server (%u)", c->idx,
				    n >= 2 ? (unsigned)(p[0] << 8 | p[1]) : 0);
			conn_close(c, 1);
		}
		break;
	case 9:		/* ping */
		if (send_frame(c, 10, p, n) == -1)
			conn_close(c, 1);
		break;
	default:	/* pong, or reserved */
		break;
	}
}

/* Parse the frames in buf; return the bytes consumed, -1 if c is gone. */
static ssize_t
parse_frames(struct conn *c, const unsigned char *buf, size_t len,
    int64_t now)
{
	size_t		 off = 0, h;
	uint64_t	 plen;
	int		 fin, op;

	while (c->state != CS_DEAD && len - off >= 2) {
		const unsigned char *f = buf + off;

		fin = f[0] & 0x80;
		op = f[0] & 0x0f;
		plen = f[1] & 0x7f;
		h = 2;
		if (f[1] & 0x80) {		/* servers never mask */
			st.bad_msg++;
			conn_close(c, 1);
			return -1;
		}
		if (plen == 126) {
			if (len - off < 4)
				break;
			plen = (uint64_t)f[2] << 8 | f[3];
			h = 4;
		} else if (plen == 127) {
			unsigned i;

			if (len - off < 10)
				break;
			for (plen = 0, i = 0; i < 8; i++)
				plen = plen << 8 | f[2 + i];
			h = 10;
		}
		if (plen > MAX_FRAME) {
			st.bad_msg++;
			conn_close(c, 1);
			return -1;
		}
		if (len - off < h + plen)
			break;
		off += h + plen;
		if (op >= 8) {				/* control */
			on_message(c, op, f + h, plen, now);
			continue;
		}
		if (op != 0 && fin && c->fraglen == 0 && c->fragop == 0) {
			on_message(c, op, f + h, plen, now);
			continue;
		}
		/* Fragmented: gather the pieces. */
		if (op != 0)
			c->fragop = (uint8_t)op;
		if (c->fraglen + plen > MAX_FRAME) {
			st.bad_msg++;
			conn_close(c, 1);
			return -1;
		}
		if (c->fraglen + plen > c->fragcap) {
			c->fragcap = (uint32_t)(c->fraglen + plen);
			c->frag = xrealloc(c->frag, c->fragcap);
		}
		memcpy(c->frag + c->fraglen, f + h, plen);
		c->fraglen += (uint32_t)plen;
		if (fin) {
			int	 fop = c->fragop;
			size_t	 fl = c->fraglen;

			c->fragop = 0;
			c->fraglen = 0;
			on_message(c, fop, c->frag, fl, now);
		}
	}
	if (c->state == CS_DEAD)
		return -1;
	return (ssize_t)off;
}

/* The handshake response: status 101 and the right accept key. */
static ssize_t
parse_head(struct conn *c, const unsigned char *buf, size_t len,
    int64_t now)
{
	const char	*e;

	e = memmem(buf, len, "\r\n\r\n", 4);
	if (e == NULL)
		return len > MAX_HTTP_HEAD ? -1 : 0;
	if (len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0 ||
	    memmem(buf, (size_t)(e - (const char *)buf), WS_ACCEPT,
	    sizeof(WS_ACCEPT) - 1) == NULL) {
		if (st.conn_fail < 3)
			fprintf(stderr, "wsbench: handshake refused: %.*s\n",
			    (int)(len > 80 ? 80 : len), buf);
		return -1;
	}
	conn_opened(c, now);
	return e + 4 - (const char *)buf;
}

static void
on_readable(struct conn *c, int64_t now)
{
	ssize_t		 n, used;
	size_t		 have, off = 0;

	if (c->inlen + 65536 > rcap) {
		while (c->inlen + 65536 > rcap)
			rcap *= 2;
		rbuf = xrealloc(rbuf, rcap);
	}
	if (c->inlen)
		memcpy(rbuf, c->in, c->inlen);
	do
		n = read(c->fd, rbuf + c->inlen, rcap - c->inlen);
	while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		/* EOF: normal at the end of a setup cycle. */
		conn_close(c, c->state != CS_CLOSING);
		return;
	}
	st.bytes_in += (uint64_t)n;
	have = c->inlen + (size_t)n;
	if (c->state == CS_HANDSHAKE) {
		used = parse_head(c, rbuf, have, now);
		if (used < 0) {
			conn_close(c, 1);
			return;
		}
		if (used == 0)
			goto keep;
		off = (size_t)used;
	}
	if (c->state == CS_DEAD)
		return;
	if (c->state != CS_HANDSHAKE) {
		used = parse_frames(c, rbuf + off, have - off, now);
		if (used < 0)
			return;
		off += (size_t)used;
	}
keep:
	c->inlen = (uint32_t)(have - off);
	if (c->inlen > c->incap) {
		c->incap = c->inlen < 256 ? 256 : c->inlen;
		c->in = xrealloc(c->in, c->incap);
	}
	if (c->inlen)
		memmove(c->in, rbuf + off, c->inlen);
}

static void
on_writable(struct conn *c)
{
	int	 err = 0;
	socklen_t sl = sizeof(err);

	if (c->state == CS_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 ||
		    err != 0) {
			note("connect: %s", strerror(err));
			conn_close(c, 1);
			return;
		}
		c->state = CS_HANDSHAKE;
		set_events(c, 0);
		if (conn_write(c, request, request_len) == -1)
			conn_close(c, 1);
		return;
	}
	if (conn_flush(c) == -1)
		conn_close(c, 1);
}

/* ---- sending ---- */
static char	*textbuf;

static void
send_message(struct conn *c, int64_t now)
{
	char		 head[64];
	char		*t = textbuf;
	int		 hn, n;
	int64_t		 ts = now_ns();

	(void)now;
	hn = snprintf(head, sizeof(head), "%d %u %" PRId64 " ", c->sender,
	    c->seq, ts);
	if (opt.proto == P_CHAT) {
		static const char pre[] = "{\"type\":\"message\",\"text\":\"";
		int	 n0 = (int)sizeof(pre) - 1;

		memcpy(t, pre, (size_t)n0);
		memcpy(t + n0, head, (size_t)hn);
		n = n0 + hn;
		if (hn < opt.text_size) {
			memset(t + n, 'x', (size_t)(opt.text_size - hn));
			n = n0 + opt.text_size;
		}
		memcpy(t + n, "\"}", 2);
		n += 2;
	} else {
		memcpy(t, head, (size_t)hn);
		n = hn;
		if (n < opt.text_size) {
			memset(t + n, 'x', (size_t)(opt.text_size - n));
			n = opt.text_size;
		}
	}
	sent[c->sender]++;
	c->seq++;
	c->inflight++;
	if (send_frame(c, 1, t, (size_t)n) == -1)
		conn_close(c, 1);
}

/* ---- the run ---- */
static volatile sig_atomic_t	 interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: wsbench [options]\n"
"  --host ADDR        server address (127.0.0.1)\n"
"  --port N           server port (8080)\n"
"  --path PATH        request path (/ws)\n"
"  --proto chat|broadcast   wschatd protocol or plain broadcast (chat)\n"
"  --run load|idle|setup    what to measure (load)\n"
"  --clients N        clients that join (100)\n"
"  --senders S        of which send (10)\n"
"  --rate R           messages/s per sender; 0 = closed-loop (10)\n"
"  --window W         closed-loop: messages per sender in flight (16)\n"
"  --duration SEC     sending time, or setup time (10)\n"
"  --text-size BYTES  text of each message (100)\n"
"  --pid PID          server pid: measure Pss and CPU of its tree\n"
"  --loops L          setup: loops in parallel (8)\n"
"  --ramp N           connections being set up at once (64)\n"
"  --idle-wait SEC    idle: wait before measuring memory (2)\n"
"  --drain SEC        load: longest wait for late deliveries (10)\n"
"  -v, --verbose      progress on stderr\n");
	exit(2);
}

static void
parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "path", required_argument, NULL, 'P' },
		{ "proto", required_argument, NULL, 'm' },
		{ "run", required_argument, NULL, 'r' },
		{ "clients", required_argument, NULL, 'n' },
		{ "senders", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'R' },
		{ "window", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "text-size", required_argument, NULL, 't' },
		{ "pid", required_argument, NULL, 'i' },
		{ "loops", required_argument, NULL, 'l' },
		{ "ramp", required_argument, NULL, 'a' },
		{ "idle-wait", required_argument, NULL, 'I' },
		{ "drain", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	while ((ch = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'P': opt.path = optarg; break;
		case 'm':
			if (strcmp(optarg, "chat") == 0)
				opt.proto = P_CHAT;
			else if (strcmp(optarg, "broadcast") == 0)
				opt.proto = P_BCAST;
			else
				usage();
			break;
		case 'r':
			if (strcmp(optarg, "load") == 0)
				opt.run = R_LOAD;
			else if (strcmp(optarg, "idle") == 0)
				opt.run = R_IDLE;
			else if (strcmp(optarg, "setup") == 0)
				opt.run = R_SETUP;
			else
				usage();
			break;
		case 'n': opt.clients = atoi(optarg); break;
		case 's': opt.senders = atoi(optarg); break;
		case 'R': opt.rate = atof(optarg); break;
		case 'w': opt.window = atoi(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 't': opt.text_size = atoi(optarg); break;
		case 'i': opt.pid = (pid_t)atoi(optarg); break;
		case 'l': opt.loops = atoi(optarg); break;
		case 'a': opt.ramp = atoi(optarg); break;
		case 'I': opt.idle_wait = atof(optarg); break;
		case 'D': opt.drain = atof(optarg); break;
		case 'v': opt.verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (opt.run == R_IDLE)
		opt.senders = 0;
	if (opt.clients < 1 || opt.senders < 0 || opt.senders > opt.clients ||
	    opt.window < 1 || opt.duration <= 0 || opt.loops < 1 ||
	    opt.ramp < 1 || opt.text_size < 0 || opt.text_size > MAX_TEXT ||
	    opt.rate < 0 || opt.port <= 0 || opt.port > 65535)
		usage();
}

static void
raise_nofile(int need)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)need > rl.rlim_cur)
		die("%d descriptors needed, limit is %lu", need,
		    (unsigned long)rl.rlim_cur);
}

static double
cpu_self(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Every open receiver has seen the last join: the join storm is over. */
static int
settled(void)
{
	int	 i;

	if (opt.proto != P_CHAT)
		return 1;
	for (i = 0; i < nconns; i++)
		if (conns[i].state == CS_OPEN &&
		    conns[i].last_id < st.max_join_id)
			return 0;
	return 1;
}

static uint64_t
expected_total(void)
{
	uint64_t	 tot = 0;
	int		 s;

	for (s = 0; s < opt.senders; s++)
		tot += sent[s];
	return tot * (uint64_t)opt.clients;
}

static void
start_senders(int64_t now)
{
	int	 i, k = 0;

	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];

		if (c->sender < 0 || c->state != CS_OPEN)
			continue;
		if (opt.rate > 0)	/* spread the senders over one period */
			c->next_send = now + (int64_t)((double)NS / opt.rate *
			    k / opt.senders);
		k++;
	}
	for (i = 0; i < nconns && opt.rate == 0; i++)
		if (conns[i].sender >= 0)
			sender_refill(&conns[i], now);
}

/* Paced senders: send what is due; return ns to the next one due. */
static int64_t
pace(int64_t now)
{
	int64_t	 next = INT64_MAX, period = (int64_t)((double)NS / opt.rate);
	int	 i;

	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];

		if (c->sender < 0 || c->state != CS_OPEN)
			continue;
		if (now - c->next_send > NS) {
			st.slips++;
			c->next_send = now;
		}
		while (c->next_send <= now && c->state == CS_OPEN) {
			send_message(c, now);
			c->next_send += period;
		}
		if (c->next_send < next)
			next = c->next_send;
	}
	return next == INT64_MAX ? 100000000 : next - now;
}

static void
report_lat(const char *pfx, const struct hist *h)
{
	printf("%s_p50_us=%.1f\n", pfx, hpct(h, 0.50) / 1e3);
	printf("%s_p99_us=%.1f\n", pfx, hpct(h, 0.99) / 1e3);
	printf("%s_p999_us=%.1f\n", pfx, hpct(h, 0.999) / 1e3);
	printf("%s_max_us=%.1f\n", pfx, h->max / 1e3);
	printf("%s_mean_us=%.1f\n", pfx,
	    h->n ? (double)(h->sum / h->n) / 1e3 : 0.0);
}

int
main(int argc, char **argv)
{
	struct epoll_event	 evs[MAX_EVENTS];
	struct tree		 tr_base, tr0, tr1, trm;
	int64_t			 now, t_begin, deadline = 0, t_settle = 0;
	int64_t			 last_progress = 0;
	uint64_t		 last_in_order = 0;
	double			 cpu0 = 0, cpu1 = 0, secs;
	long			 hz = sysconf(_SC_CLK_TCK);
	int			 i, n, timeout;

	parse_opts(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	nconns = opt.run == R_SETUP ? opt.loops : opt.clients;
	raise_nofile(nconns + 32);
	memset(&server, 0, sizeof(server));
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)opt.port);
	if (inet_pton(AF_INET, opt.host, &server.sin_addr) != 1)
		die("bad address %s", opt.host);
	request_len = (size_t)snprintf(request, sizeof(request),
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY "\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", opt.path, opt.host, opt.port);

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	rbuf = xrealloc(NULL, rcap);
	textbuf = xrealloc(NULL, MAX_TEXT + 256);
	conns = calloc((size_t)nconns, sizeof(*conns));
	retry = calloc((size_t)nconns, sizeof(*retry));
	if (opt.senders > 0) {
		expect = calloc((size_t)nconns * opt.senders, sizeof(*expect));
		sent = calloc((size_t)opt.senders, sizeof(*sent));
	}
	if (conns == NULL || retry == NULL || (opt.senders > 0 && (expect == NULL ||
	    sent == NULL)))
		die("out of memory");
	for (i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		conns[i].idx = i;
		conns[i].sender = -1;
		conns[i].id_hash = 0xcbf29ce484222325ULL;
	}
	/* Senders spread evenly over the clients. */
	for (i = 0; i < opt.senders && opt.run == R_LOAD; i++)
		conns[(int)((int64_t)i * opt.clients / opt.senders)].sender = i;

	tree_measure(opt.pid, opt.pid > 0, &tr_base);
	memset(&tr0, 0, sizeof(tr0));
	memset(&tr1, 0, sizeof(tr1));
	memset(&trm, 0, sizeof(trm));
	t_begin = now_ns();
	t_run0 = INT64_MAX;
	t_run1 = INT64_MAX;

	if (opt.run == R_SETUP) {
		phase = PH_RUN;
		t_run0 = t_begin;
		t_run1 = t_begin + (int64_t)(opt.duration * NS);
		cpu0 = cpu_self();
		tree_measure(opt.pid, 0, &tr0);
		/* The main loop starts the loops. */
	} else {
		phase = PH_RAMP;
		deadline = t_begin + (int64_t)(RAMP_TIMEOUT_S * NS);
	}

	while (phase != PH_DONE && !interrupted) {
		now = now_ns();
		timeout = 50;
		switch (phase) {
		case PH_RAMP:
			while (nretry > 0)
				conn_start(&conns[retry[--nretry]]);
			while (st.ramp_next < nconns &&
			    st.ramp_busy < opt.ramp) {
				st.ramp_busy++;
				conn_start(&conns[st.ramp_next++]);
			}
			if (st.ramp_done >= nconns || now > deadline) {
				note("ramp: %" PRIu64 " of %d joined in %.1f s",
				    st.joined, nconns, (now - t_begin) / 1e9);
				phase = PH_SETTLE;
				t_settle = now;
				deadline = now + (int64_t)(SETTLE_TIMEOUT_S * NS);
			}
			break;
		case PH_SETTLE:
			if (!settled() && now < deadline)
				break;
			if (opt.run == R_IDLE) {
				if (now - t_settle < (int64_t)(opt.idle_wait * NS))
					break;
				tree_measure(opt.pid, 1, &trm);
				phase = PH_DONE;
				break;
			}
			note("settled after %.1f s", (now - t_settle) / 1e9);
			phase = PH_RUN;
			t_run0 = now;
			t_run1 = now + (int64_t)(opt.duration * NS);
			cpu0 = cpu_self();
			tree_measure(opt.pid, 0, &tr0);
			start_senders(now);
			break;
		case PH_RUN:
			if (now >= t_run1) {
				cpu1 = cpu_self();
				tree_measure(opt.pid, opt.run == R_LOAD, &tr1);
				if (opt.run == R_SETUP) {
					phase = PH_DONE;
					break;
				}
				phase = PH_DRAIN;
				deadline = now + (int64_t)(opt.drain * NS);
				last_progress = now;
				last_in_order = st.in_order;
				break;
			}
			if (opt.run == R_SETUP) {
				for (i = 0; i < nconns; i++) {
					struct conn *c = &conns[i];

					if (c->fd != -1 && now - c->t0 >
					    SETUP_CYCLE_TIMEOUT_NS)
						conn_close(c, 1);
					if (c->fd == -1) {
						c->t0 = now;
						conn_start(c);
					}
				}
				timeout = 10;
			} else if (opt.rate > 0) {
				int64_t	 d = pace(now);

				timeout = (int)((d + 999999) / 1000000);
			}
			if (now + (int64_t)timeout * 1000000 > t_run1)
				timeout = (int)((t_run1 - now + 999999) /
				    1000000);
			break;
		case PH_DRAIN:
			if (st.in_order != last_in_order) {
				last_in_order = st.in_order;
				last_progress = now;
			}
			if (st.in_order >= expected_total() || now > deadline ||
			    now - last_progress > 2 * NS)
				phase = PH_DONE;
			break;
		case PH_DONE:
			break;
		}
		if (phase == PH_DONE)
			break;
		if (timeout < 0)
			timeout = 0;
		n = epoll_wait(epfd, evs, MAX_EVENTS, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct conn	*c = evs[i].data.ptr;
			uint32_t	 e = evs[i].events;

			if (c->fd == -1)
				continue;
			if (e & EPOLLOUT)
				on_writable(c);
			if (c->fd != -1 && c->state != CS_CONNECTING &&
			    (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				on_readable(c, now);
			else if (c->fd != -1 && c->state == CS_CONNECTING &&
			    (e & (EPOLLHUP | EPOLLERR)))
				on_writable(c);
		}
	}

	/* ---- results ---- */
	now = now_ns();
	printf("proto=%s\n", opt.proto == P_CHAT ? "chat" : "broadcast");
	printf("run=%s\n", opt.run == R_LOAD ? "load" :
	    opt.run == R_IDLE ? "idle" : "setup");
	printf("interrupted=%d\n", (int)interrupted);
	if (opt.run == R_SETUP) {
		secs = (t_run1 - t_run0) / 1e9;
		printf("loops=%d\n", opt.loops);
		printf("duration_s=%.2f\n", secs);
		printf("setups=%" PRIu64 "\n", st.cycles);
		printf("setups_per_s=%.1f\n", st.cycles / secs);
		printf("setup_errors=%" PRIu64 "\n", st.cycle_err);
		report_lat("cycle", &st.cyc);
	} else {
		uint64_t	 exp = expected_total();
		uint64_t	 mode_hash = 0, mode_count = 0;
		int		 open_now = 0, mismatch = 0, best = 0;

		printf("clients=%d\n", opt.clients);
		printf("joined=%" PRIu64 "\n", st.joined);
		printf("connect_failures=%" PRIu64 "\n", st.conn_fail);
		printf("ramp_s=%.2f\n", ((t_run0 != INT64_MAX ? t_run0 : now) -
		    t_begin) / 1e9);
		for (i = 0; i < nconns; i++)
			if (conns[i].state == CS_OPEN)
				open_now++;
		printf("open_at_end=%d\n", open_now);
		printf("dropped_by_server=%" PRIu64 "\n", st.dropped);
		if (opt.run == R_LOAD) {
			secs = (t_run1 - t_run0) / 1e9;
			printf("senders=%d\n", opt.senders);
			printf("rate=%g\n", opt.rate);
			printf("window=%d\n", opt.rate > 0 ? 0 : opt.window);
			printf("duration_s=%.2f\n", secs);
			printf("sent=%" PRIu64 "\n", exp / opt.clients);
			printf("expected=%" PRIu64 "\n", exp);
			printf("delivered=%" PRIu64 "\n", st.delivered);
			printf("deliveries_per_s=%.0f\n", st.window / secs);
			printf("lost=%" PRIu64 "\n",
			    exp > st.in_order ? exp - st.in_order : 0);
			printf("order_violations=%" PRIu64 "\n", st.order_viol);
			printf("pace_slips=%" PRIu64 "\n", st.slips);
			report_lat("lat", &st.lat);
		}
		if (opt.proto == P_CHAT) {
			/* Everyone who stayed must have seen the same ids. */
			for (i = 0; i < nconns && opt.run == R_LOAD; i++) {
				int	 j, k = 0;

				if (conns[i].state != CS_OPEN)
					continue;
				for (j = 0; j < nconns; j++)
					if (conns[j].state == CS_OPEN &&
					    conns[j].id_hash ==
					    conns[i].id_hash &&
					    conns[j].id_count ==
					    conns[i].id_count)
						k++;
				if (k > best) {
					best = k;
					mode_hash = conns[i].id_hash;
					mode_count = conns[i].id_count;
				}
				if (best * 2 > open_now)
					break;
			}
			for (i = 0; i < nconns && opt.run == R_LOAD; i++)
				if (conns[i].state == CS_OPEN &&
				    (conns[i].id_hash != mode_hash ||
				    conns[i].id_count != mode_count))
					mismatch++;
			printf("id_violations=%" PRIu64 "\n", st.id_viol);
			printf("id_sequence_mismatch=%d\n", mismatch);
			printf("server_errors=%" PRIu64 "\n", st.server_err);
		}
	}
	printf("bad_messages=%" PRIu64 "\n", st.bad_msg);
	if (opt.run != R_IDLE) {
		secs = (t_run1 - t_run0) / 1e9;
		printf("gen_cpu_s=%.2f\n", cpu1 - cpu0);
		if (opt.pid > 0)
			printf("server_cpu_s=%.2f\n",
			    (double)(tr1.cpu_ticks - tr0.cpu_ticks) / hz);
	}
	if (opt.pid > 0) {
		const struct tree *t = opt.run == R_IDLE ? &trm : &tr1;

		printf("server_procs=%d\n", t->procs);
		printf("pss_base_kib=%" PRIu64 "\n", tr_base.pss_kib);
		if (t->pss_kib > 0) {
			int	 nc = opt.run == R_SETUP ? opt.loops : opt.clients;

			printf("pss_kib=%" PRIu64 "\n", t->pss_kib);
			printf("pss_per_conn_kib=%.1f\n",
			    (double)t->pss_kib / nc);
			printf("pss_marginal_per_conn_kib=%.1f\n",
			    ((double)t->pss_kib - (double)tr_base.pss_kib) /
			    nc);
		}
	}
	fflush(stdout);
	return 0;
}
