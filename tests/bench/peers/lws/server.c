/*
 * Benchmark peer for wschatd: a broadcast server on libwebsockets.
 *
 * Every text message a client sends goes, unchanged, to every connected
 * client, the sender included.  No JSON, no names.  The usual lws shape:
 * a message is stored once (with LWS_PRE bytes of headroom) and reference
 * counted; each connection keeps a FIFO of pointers to the messages it has
 * still to send, asks for a WRITEABLE callback, and sends one message per
 * callback as the lws documentation asks.  A client whose FIFO holds more
 * than MAX_QUEUE bytes is closed, as wschatd does with --max-queue.
 *
 *   server PORT [HOST]
 *
 * Prints "listening on HOST:PORT" once it accepts connections; exits on
 * SIGTERM or SIGINT.
 *
 * Build: cc -O2 -o server server.c $(pkg-config --cflags --libs libwebsockets)
 */

#include <libwebsockets.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUE	(1024 * 1024)	/* bytes waiting for one client */
#define MAX_MESSAGE	(64 * 1024)	/* largest message taken in */

struct msg {
	unsigned	 refs;
	size_t		 len;
	int		 binary;
	unsigned char	 buf[];		/* LWS_PRE headroom, then payload */
};

struct conn {
	struct conn	*prev, *next;	/* every open connection */
	struct lws	*wsi;
	struct msg	**q;		/* FIFO ring of messages to send */
	unsigned	 qhead, qlen, qcap;
	size_t		 qbytes;
	unsigned char	*rx;		/* a fragmented message being built */
	size_t		 rxlen, rxcap;
	int		 rxbinary;
	int		 dead;		/* over MAX_QUEUE: close when writeable */
};

static struct conn		*conns;
static volatile sig_atomic_t	 stopping;
static struct lws_context	*ctx;

static void
msg_unref(struct msg *m)
{
	if (--m->refs == 0)
		free(m);
}

static void
conn_drop_queue(struct conn *c)
{
	while (c->qlen > 0) {
		msg_unref(c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
	}
	free(c->q);
	c->q = NULL;
	c->qcap = c->qhead = 0;
	c->qbytes = 0;
}

static int
conn_push(struct conn *c, struct msg *m)
{
	if (c->qlen == c->qcap) {
		unsigned	 ncap = c->qcap ? c->qcap * 2 : 16, i;
		struct msg	**nq = malloc(ncap * sizeof(*nq));

		if (nq == NULL)
			return -1;
		for (i = 0; i < c->qlen; i++)
			nq[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qlen) % c->qcap] = m;
	c->qlen++;
	c->qbytes += m->len;
	m->refs++;
	return 0;
}

static void
broadcast(const unsigned char *data, size_t len, int binary)
{
	struct msg	*m;
	struct conn	*c;

	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (m == NULL)
		return;
	m->refs = 1;		/* ours, until the loop is done */
	m->len = len;
	m->binary = binary;
	memcpy(m->buf + LWS_PRE, data, len);
	for (c = conns; c != NULL; c = c->next) {
		if (c->dead)
			continue;
		if (c->qbytes + len > MAX_QUEUE || conn_push(c, m) == -1) {
			c->dead = 1;
			conn_drop_queue(c);
		}
		lws_callback_on_writable(c->wsi);
	}
	msg_unref(m);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct conn	*c = user;
	struct msg	*m;
	int		 first, final;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof(*c));
		c->wsi = wsi;
		c->next = conns;
		if (conns != NULL)
			conns->prev = c;
		conns = c;
		break;

	case LWS_CALLBACK_CLOSED:
		if (c->prev != NULL)
			c->prev->next = c->next;
		else if (conns == c)
			conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
		conn_drop_queue(c);
		free(c->rx);
		c->rx = NULL;
		break;

	case LWS_CALLBACK_RECEIVE:
		first = lws_is_first_fragment(wsi);
		final = lws_is_final_fragment(wsi);
		if (first && final && c->rxlen == 0) {
			/* The common case: the whole message at once. */
			broadcast(in, len, lws_frame_is_binary(wsi));
			break;
		}
		if (first) {
			c->rxlen = 0;
			c->rxbinary = lws_frame_is_binary(wsi);
		}
		if (c->rxlen + len > MAX_MESSAGE)
			return -1;
		if (c->rxlen + len > c->rxcap) {
			size_t		 ncap = c->rxcap ? c->rxcap : 4096;
			unsigned char	*n;

			while (ncap < c->rxlen + len)
				ncap *= 2;
			if ((n = realloc(c->rx, ncap)) == NULL)
				return -1;
			c->rx = n;
			c->rxcap = ncap;
		}
		memcpy(c->rx + c->rxlen, in, len);
		c->rxlen += len;
		if (final) {
			broadcast(c->rx, c->rxlen, c->rxbinary);
			c->rxlen = 0;
		}
		break;

	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c->dead)
			return -1;
		if (c->qlen == 0)
			break;
		m = c->q[c->qhead];
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		c->qbytes -= m->len;
		if (lws_write(wsi, m->buf + LWS_PRE, m->len,
		    m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) <
		    (int)m->len) {
			msg_unref(m);
			return -1;
		}
		msg_unref(m);
		if (c->qlen > 0)
			lws_callback_on_writable(wsi);
		break;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	/* The first protocol also takes connections that name none. */
	{ "broadcast", callback, sizeof(struct conn), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (ctx != NULL)
		lws_cancel_service(ctx);
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	const char	*host = argc > 2 ? argv[2] : "127.0.0.1";
	int		 port = argc > 1 ? atoi(argv[1]) : 8083;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);

	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = host;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    LWS_SERVER_OPTION_DISABLE_IPV6;
	if ((ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "lws server: lws_create_context failed\n");
		return 1;
	}
	printf("listening on %s:%d\n", host, port);
	fflush(stdout);
	while (!stopping)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_context_destroy(ctx);
	return 0;
}
