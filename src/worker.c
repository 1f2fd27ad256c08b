/*
 * The worker: bytes from the client go through the HTTP parser, then the
 * frame decoder and the chat parser, and reach the master as typed
 * messages; finished frames from the master are copied to the client.
 * The transport (tr_*) is a plain socket or TLS; the rest is the same.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "access.h"
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "chat.h"
#include "http.h"
#include "io.h"
#include "ipc.h"
#include "log.h"
#include "title.h"
#include "tls.h"
#include "worker.h"
#include "ws.h"

#define W_HTTP		0	/* reading requests */
#define W_WS		1	/* WebSocket open */
#define W_CLOSING	2	/* our close frame sent; awaiting the peer's */
#define W_DONE		3	/* flush what is queued, then close */
#define W_LINGER	4	/* output shut; draining input until EOF */

/* Bytes read from the client at once. */
#define WORKER_READ	16384
/* Milliseconds to drain a closed connection's input. */
#define LINGER_MS	2000
/* The answer to plain HTTP on a TLS port. */
#define PLAIN_ON_TLS	"This port speaks TLS: use https:// or wss://.\n"
/* The largest frame payload the worker makes itself: control frames
 * (125) and error messages (chat_fmt_error: under 256 bytes). */
#define LOCAL_FRAME_MAX	512
/* Milliseconds a client has to answer our close at shutdown. */
#define SHUTDOWN_CLOSE_MS 1000
/* Milliseconds without traffic after which a worker gives its empty
 * buffers and free heap back (an idle chat client is the common case). */
#define WORKER_TRIM_MS	1000
/* At the trim, stack pages this far below the trimming frame are given
 * back (the handshake and the web pages run deeper than the idle loop);
 * the first page below the frame is kept. */
#define TRIM_STACK_SPAN	(64 * 1024)
#define TRIM_STACK_KEEP	4096

#define CSP_HEADER \
	"Content-Security-Policy: default-src 'self'; connect-src 'self' ws: wss:; " \
	"img-src 'self' data:; object-src 'none'; base-uri 'none'; " \
	"frame-ancestors 'none'\r\n" \
	"Referrer-Policy: no-referrer\r\n"

struct worker {
	const struct wsconfig	*cfg;
	const struct webroot	*wr;
	int			 cfd, bfd;
	const char		*peer;
	SSL			*ssl;		/* NULL: plain TCP */
	int			 rd_wants_out;	/* TLS read waits for POLLOUT */
	int			 wr_wants_in;	/* TLS write waits for POLLIN */
	int			 state;
	int64_t			 deadline;	/* monotonic ms, 0 for none */
	int			 broker_eof;

	struct bbuf		 in;		/* from the client */
	struct bbuf		 out;		/* to the client */
	struct bbuf		 local;		/* our frames, waiting for a frame boundary in out */
	int			 partial;	/* out ends inside a broker frame */
	struct bbuf		 ipcq;		/* datagrams the master could not take yet */
	struct bbuf		 msg;		/* the text message being received */

	struct http_parser	 hp;
	struct ws_decoder	 dec;
	struct chat_rate	 rate;
	int			 refused;	/* rate_limited in a row */
	int64_t			 held;		/* monotonic ms: the client is not
						 * read before (rate limit), 0 */
	int			 joined;

	int			 direct_ok;	/* the master holds the client socket */
	int			 direct;	/* and writes to it: our frames go
						 * to it as IPC_OUT (until IPC_CLOSED
						 * or the broker socket's end) */

	int			 tls;		/* the listener speaks https */
	int			 via_proxy;	/* the peer is a trusted proxy */
	struct access_addr	 peer_addr;	/* the TCP peer */
	const char		*tcp_peer;	/* its text, from the master */
	char			 peerbuf[2 * ACCESS_ADDR_TEXT + 80];
	int			 served;	/* requests answered */
	int64_t			 last_rx;	/* mono ms: last byte from the client */
	int64_t			 next_ping;	/* mono ms */
	int64_t			 trim_at;	/* mono ms: worker_trim, 0 */
};

static uint8_t	ipcbuf[sizeof(struct ipc_hdr) + IPC_CHUNK];

static void __attribute__((noreturn))
worker_exit(struct worker *w, int code)
{
	close(w->cfd);
	if (w->bfd != -1)
		close(w->bfd);
	_exit(code);
}

/* ---- transport: plain TCP or TLS ---- */

/* Read into w->in: >0 bytes, 0 EOF, IO_AGAIN, IO_ERROR. */
static ssize_t
tr_read(struct worker *w)
{
	uint8_t	*p;
	int	 n;

	if (w->ssl == NULL)
		return io_read(w->cfd, &w->in, WORKER_READ);
	w->rd_wants_out = 0;
	if ((p = bbuf_reserve(&w->in, WORKER_READ)) == NULL)
		return IO_ERROR;
	ERR_clear_error();
	if ((n = SSL_read(w->ssl, p, WORKER_READ)) > 0) {
		bbuf_commit(&w->in, (size_t)n);
		return n;
	}
	switch (SSL_get_error(w->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return IO_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		w->rd_wants_out = 1;
		return IO_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		log_debug("client %s: TLS read: %s", w->peer, tls_error());
		return IO_ERROR;
	}
}

/* Decrypted input already held by TLS, which poll() cannot see. */
static int
tr_pending(struct worker *w)
{
	return w->ssl != NULL && SSL_pending(w->ssl) > 0;
}

/* Send w->out: 0 all sent, IO_AGAIN, IO_ERROR. */
static int
tr_flush(struct worker *w)
{
	size_t	 len;
	int	 n;

	if (w->ssl == NULL)
		return io_flush(w->cfd, &w->out);
	w->wr_wants_in = 0;
	while ((len = bbuf_size(&w->out)) > 0) {
		ERR_clear_error();
		n = SSL_write(w->ssl, bbuf_head(&w->out),
		    len > INT_MAX ? INT_MAX : (int)len);
		if (n > 0) {
			bbuf_consume(&w->out, (size_t)n);
			continue;
		}
		switch (SSL_get_error(w->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			return IO_AGAIN;
		case SSL_ERROR_WANT_READ:
			w->wr_wants_in = 1;
			return IO_AGAIN;
		default:
			log_debug("client %s: TLS write: %s", w->peer,
			    tls_error());
			return IO_ERROR;
		}
	}
	return 0;
}

/* All is sent: end our direction (TLS: close_notify first). */
static void
tr_shutdown(struct worker *w)
{
	if (w->ssl != NULL) {
		/* Best effort: a fresh record fits the socket buffer. */
		ERR_clear_error();
		(void)SSL_shutdown(w->ssl);
	}
	shutdown(w->cfd, SHUT_WR);
}

/* A plain HTTP request on the TLS port: answer it in plain HTTP, then
 * drain the rest of the request so that closing does not reset. */
static void
tr_refuse_plain(struct worker *w)
{
	static const char resp[] =
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Server: wschatd\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %d\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "%s";
	struct pollfd	 p;
	int64_t		 end = io_mono_ms() + LINGER_MS, now;
	char		 buf[HTTP_MAX_HEAD];
	int		 n;

	n = snprintf(buf, sizeof(buf), resp, (int)strlen(PLAIN_ON_TLS),
	    PLAIN_ON_TLS);
	(void)send(w->cfd, buf, (size_t)n, MSG_NOSIGNAL);
	shutdown(w->cfd, SHUT_WR);
	p.fd = w->cfd;
	p.events = POLLIN;
	while ((now = io_mono_ms()) < end &&
	    poll(&p, 1, (int)(end - now)) > 0) {
		n = (int)read(w->cfd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && io_failed() == IO_ERROR))
			break;
	}
}

static void __attribute__((noreturn))
tr_handshake_failed(struct worker *w, int rc, int err)
{
	unsigned long	 e = ERR_peek_last_error();

	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST) {
		log_info("client %s: TLS handshake failed: plain HTTP request",
		    w->peer);
		ERR_clear_error();
		tr_refuse_plain(w);
	} else if (err == SSL_ERROR_SYSCALL && e == 0)
		log_info("client %s: TLS handshake failed: %s", w->peer,
		    rc == 0 ? "connection closed" : strerror(errno));
	else
		log_info("client %s: TLS handshake failed: %s", w->peer,
		    tls_error());
	worker_exit(w, 0);
}

/*
 * The TLS handshake, nonblocking, before the first request and within
 * its time limit.  Returns once done; exits on failure or timeout, or
 * when the master goes (it sends nothing before a join).
 */
static void
tr_handshake(struct worker *w)
{
	struct pollfd	 pfd[2];
	int64_t		 now;
	int		 rc, err;

	if ((w->ssl = SSL_new(tls_ctx())) == NULL ||
	    SSL_set_fd(w->ssl, w->cfd) != 1) {
		log_warnx("client %s: TLS: %s", w->peer, tls_error());
		worker_exit(w, 1);
	}
	pfd[1].fd = w->bfd;
	pfd[1].events = POLLIN;
	for (;;) {
		ERR_clear_error();
		if ((rc = SSL_accept(w->ssl)) == 1)
			break;
		err = SSL_get_error(w->ssl, rc);
		if (err == SSL_ERROR_WANT_READ)
			pfd[0].events = POLLIN;
		else if (err == SSL_ERROR_WANT_WRITE)
			pfd[0].events = POLLOUT;
		else
			tr_handshake_failed(w, rc, err);
		pfd[0].fd = w->cfd;
		pfd[0].revents = pfd[1].revents = 0;
		now = io_mono_ms();
		if (now >= w->deadline) {
			log_info("client %s: TLS handshake timed out", w->peer);
			worker_exit(w, 0);
		}
		if (poll(pfd, 2, (int)(w->deadline - now)) == -1 &&
		    errno != EINTR) {
			log_warn("client %s: poll", w->peer);
			worker_exit(w, 1);
		}
		if (pfd[1].revents != 0)
			worker_exit(w, 0);
	}
	log_debug("client %s: %s with %s", w->peer, SSL_get_version(w->ssl),
	    SSL_get_cipher_name(w->ssl));
}

static void
nomem(struct worker *w)
{
	log_warnx("client %s: out of memory", w->peer);
	worker_exit(w, 1);
}

static void	ipc_queue(struct worker *, uint16_t, uint16_t, const void *,
		    size_t);

static void
out_append(struct worker *w, const void *p, size_t n)
{
	if (bbuf_append(&w->out, p, n) == -1)
		nomem(w);
}

/*
 * Our own frames go out only between the master's frames: after the
 * master's in direct output, else after the broker frame being copied.
 */
static void
local_frame(struct worker *w, int op, const void *p, size_t n)
{
	uint8_t		 f[WS_MAX_HEADER + LOCAL_FRAME_MAX];
	size_t		 hl;
	struct bbuf	*b = w->partial ? &w->local : &w->out;

	if (n > LOCAL_FRAME_MAX)
		fatalx("local frame of %zu bytes", n);
	hl = ws_header(f, op, n);
	if (n > 0)
		memcpy(f + hl, p, n);
	if (w->direct)
		/* One datagram: the master queues whole frames only. */
		ipc_queue(w, IPC_OUT, op == WS_OP_CLOSE ? IPC_F_CLOSE : 0, f,
		    hl + n);
	else if (bbuf_append(b, f, hl + n) == -1)
		nomem(w);
}

static void
local_error(struct worker *w, int err)
{
	struct bbuf	 j;

	bbuf_init(&j);
	if (chat_fmt_error(&j, err) == -1)
		nomem(w);
	local_frame(w, WS_OP_TEXT, bbuf_head(&j), bbuf_size(&j));
	bbuf_free(&j);
}

/* Start the closing handshake with code. */
static void
ws_close(struct worker *w, uint16_t code, const char *why, int64_t wait_ms)
{
	uint8_t	 p[WS_MAX_CONTROL];
	size_t	 n = ws_close_payload(p, code, why);

	log_debug("client %s: closing with %u (%s)", w->peer, code, why);
	local_frame(w, WS_OP_CLOSE, p, n);
	w->state = W_CLOSING;
	w->deadline = io_mono_ms() + wait_ms;
}

/* The WebSocket's next deadline: a ping when quiet, the idle timeout. */
static void
ws_arm(struct worker *w)
{
	const struct wsconfig	*c = w->cfg;

	w->deadline = 0;
	if (c->idle_timeout > 0)
		w->deadline = w->last_rx + (int64_t)c->idle_timeout * 1000;
	if (c->ping_interval > 0 && (w->deadline == 0 ||
	    w->next_ping < w->deadline))
		w->deadline = w->next_ping;
}

/* Something arrived from the client: it is alive. */
static void
ws_heard(struct worker *w, int64_t now)
{
	w->last_rx = now;
	w->next_ping = now + (int64_t)w->cfg->ping_interval * 1000;
	ws_arm(w);
}

static void
ws_timer(struct worker *w)
{
	const struct wsconfig	*c = w->cfg;
	int64_t			 now = io_mono_ms();

	/* Input waits unread while the master is slow to take ours. */
	if (bbuf_size(&w->ipcq) > 0) {
		ws_heard(w, now);
		return;
	}
	if (c->idle_timeout > 0 &&
	    now >= w->last_rx + (int64_t)c->idle_timeout * 1000) {
		log_info("client %s: nothing received for %u s: closing",
		    w->peer, c->idle_timeout);
		ws_close(w, WS_CLOSE_GOING_AWAY, "idle timeout",
		    WS_CLOSE_TIMEOUT * 1000);
		return;
	}
	if (c->ping_interval > 0 && now >= w->next_ping) {
		local_frame(w, WS_OP_PING, NULL, 0);
		w->next_ping = now + (int64_t)c->ping_interval * 1000;
	}
	ws_arm(w);
}

static void
ipc_flushq(struct worker *w)
{
	struct ipc_hdr	 h;
	ssize_t		 n;
	int		 rc;

	while (bbuf_size(&w->ipcq) >= sizeof(h)) {
		/* (data directly: the size check above rules out an empty,
		 * unallocated buffer, which gcc cannot see through bbuf_head) */
		memcpy(&h, w->ipcq.data + w->ipcq.off, sizeof(h));
		n = send(w->bfd, bbuf_head(&w->ipcq), sizeof(h) + h.len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if ((rc = io_failed()) == IO_RETRY)
				continue;
			if (rc == IO_ERROR)
				w->broker_eof = 1;
			return;
		}
		bbuf_consume(&w->ipcq, sizeof(h) + h.len);
	}
}

/* Queue a message for the master, in IPC_CHUNK pieces (flags on the
 * last), and send what the socket takes now. */
static void
ipc_queue(struct worker *w, uint16_t type, uint16_t flags, const void *p,
    size_t n)
{
	const uint8_t	*b = p;
	struct ipc_hdr	 h;
	size_t		 c;
	int		 rc;

	if (w->bfd == -1 || w->broker_eof)
		return;
	/* The usual case: nothing waiting, one datagram, sent at once. */
	if (bbuf_size(&w->ipcq) == 0 && n <= IPC_CHUNK) {
		if ((rc = ipc_send(w->bfd, type, flags, p, n)) == 0)
			return;
		if (rc == IO_ERROR) {
			w->broker_eof = 1;
			return;
		}
	}
	do {
		c = n > IPC_CHUNK ? IPC_CHUNK : n;
		h.type = type;
		h.flags = c < n ? IPC_F_MORE : flags;
		h.len = (uint32_t)c;
		if (bbuf_append(&w->ipcq, &h, sizeof(h)) == -1 ||
		    bbuf_append(&w->ipcq, b, c) == -1)
			nomem(w);
		b += c;
		n -= c;
	} while (n > 0);
	ipc_flushq(w);
}

/* A complete text message from the client. */
static void
on_text(struct worker *w)
{
	struct chat_msg	 m;
	int		 rc;

	if (!chat_rate_take(&w->rate, w->cfg->rate_limit, w->cfg->rate_burst,
	    io_mono_ms())) {
		local_error(w, CHAT_E_RATE_LIMITED);
		/* A flooder (RATE_HOLD_AFTER refusals in a row): read no more
		 * until the bucket has a token again, so that it is held back
		 * by TCP instead of being answered at full speed. */
		if (++w->refused >= RATE_HOLD_AFTER) {
			w->refused = 0;
			w->held = io_mono_ms() + 1000 / w->cfg->rate_limit + 1;
		}
		return;
	}
	w->refused = 0;
	rc = chat_parse((const char *)bbuf_head(&w->msg), bbuf_size(&w->msg),
	    w->cfg->max_text, &m);
	if (rc != CHAT_OK) {
		log_debug("client %s: %s", w->peer, chat_err_code(rc));
		local_error(w, rc);
		return;
	}
	ipc_queue(w, m.type == CHAT_JOIN ? IPC_JOIN : IPC_MESSAGE, 0, m.str,
	    m.len);
	chat_msg_free(&m);
}

static void
process_ws(struct worker *w)
{
	struct ws_event	 ev;
	size_t		 used;
	uint8_t		 p[WS_MAX_CONTROL];

	/* Until the decoder has nothing more to say: a frame's end is
	 * reported after its last bytes, by a call with no new input. */
	while ((w->state == W_WS || w->state == W_CLOSING) &&
	    bbuf_size(&w->ipcq) == 0 && w->held == 0) {
		used = ws_decode(&w->dec, bbuf_head(&w->in), bbuf_size(&w->in),
		    &ev);
		if (ev.type == WS_EV_NEED) {
			bbuf_consume(&w->in, used);
			break;
		}
		if (w->state == W_CLOSING) {
			/* Only the peer's close (or its failure) matters now. */
			if (ev.type == WS_EV_CLOSE || ev.type == WS_EV_ERROR)
				w->state = W_DONE;
			bbuf_consume(&w->in, used);
			continue;
		}
		switch (ev.type) {
		case WS_EV_DATA:
			if (bbuf_append(&w->msg, ev.data, ev.len) == -1)
				nomem(w);
			break;
		case WS_EV_END:
			on_text(w);
			bbuf_reset(&w->msg);
			break;
		case WS_EV_PING:
			local_frame(w, WS_OP_PONG, ev.data, ev.len);
			break;
		case WS_EV_CLOSE:
			/* Echo the status, then close the TCP connection. */
			if (ev.code == WS_CLOSE_NO_STATUS)
				local_frame(w, WS_OP_CLOSE, NULL, 0);
			else {
				p[0] = (uint8_t)(ev.code >> 8);
				p[1] = (uint8_t)ev.code;
				local_frame(w, WS_OP_CLOSE, p, 2);
			}
			log_debug("client %s: closed with %u", w->peer, ev.code);
			w->state = W_DONE;
			/* Until the echo is written (and, with direct output,
			 * the master has let go), not for ever. */
			w->deadline = io_mono_ms() + WS_CLOSE_TIMEOUT * 1000;
			break;
		case WS_EV_ERROR:
			log_info("client %s: protocol error: %s", w->peer, ev.why);
			ws_close(w, ev.code, ev.why, WS_CLOSE_TIMEOUT * 1000);
			break;
		}
		bbuf_consume(&w->in, used);
	}
}

static void
http_reply(struct worker *w, int status, int head_only, int keepalive,
    const char *extra)
{
	if (http_response_simple(&w->out, status, head_only, keepalive,
	    extra) == -1)
		nomem(w);
	if (!keepalive)
		w->state = W_DONE;
}

/* Cross-site WebSocket hijacking: may this page open a WebSocket here? */
static int
origin_ok(struct worker *w, const struct http_request *req)
{
	const struct http_hdr	*o, *h;
	char			 self[ACCESS_ORIGIN_MAX];
	int			 have_self = 0, tls = w->tls, p;

	/* No Origin: not a browser, nothing to hijack. */
	if ((o = http_get(req, "Origin")) == NULL)
		return 1;
	if (http_count(req, "Origin") != 1)
		return 0;
	/* A proxy that ends TLS says which scheme the browser used. */
	if (w->via_proxy && (h = http_get(req, "X-Forwarded-Proto")) != NULL &&
	    (p = access_proto_tls(h->val, h->vlen)) != -1)
		tls = p;
	if ((h = http_get(req, "Host")) != NULL && http_count(req, "Host") == 1)
		have_self = access_origin_self(tls, h->val, h->vlen, self,
		    sizeof(self)) == 0;
	if (access_origin_allowed(o->val, o->vlen, have_self ? self : NULL,
	    (const char (*)[ACCESS_ORIGIN_MAX])w->cfg->allow_origin,
	    (size_t)w->cfg->nallow))
		return 1;
	log_info("client %s: refused upgrade from origin %.*s", w->peer,
	    (int)(o->vlen > 200 ? 200 : o->vlen), o->val);
	return 0;
}

/*
 * Behind a trusted proxy: ask the master to count the connection under
 * the client's address.  Waits for the answer (nothing else comes from
 * the master before the client joins).  1 counted, 0 at the limit, -1
 * no answer.
 */
static int
count_as(struct worker *w, const struct access_addr *a)
{
	struct pollfd	 p;
	struct ipc_msg	 m;
	int64_t		 now;
	int		 rc;

	if (bbuf_size(&w->ipcq) > 0 || ipc_send(w->bfd, IPC_COUNT_AS, 0, a->a,
	    IPC_ADDR_LEN) != 0)
		return -1;
	for (;;) {
		if ((now = io_mono_ms()) >= w->deadline)
			return -1;
		p.fd = w->bfd;
		p.events = POLLIN;
		if (poll(&p, 1, (int)(w->deadline - now)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		rc = ipc_recv(w->bfd, ipcbuf, sizeof(ipcbuf), &m);
		if (rc == IO_AGAIN)
			continue;
		if (rc <= 0) {
			w->broker_eof = 1;
			return -1;
		}
		if (m.type == IPC_COUNT_OK)
			return 1;
		if (m.type == IPC_COUNT_FULL)
			return 0;
	}
}

/* The address of the client this request is for, as the proxy says. */
static int
forwarded_for(struct worker *w, const struct http_request *req,
    struct access_addr *client)
{
	char			 xff[HTTP_MAX_HEAD];
	size_t			 len = 0;
	int			 i;

	*client = w->peer_addr;
	if (!w->via_proxy)
		return 0;
	/* Several fields are one list, in order. */
	for (i = 0; i < req->nhdr; i++) {
		const struct http_hdr *h = &req->hdr[i];
		if (h->nlen != 15 || strncasecmp(h->name, "X-Forwarded-For",
		    15) != 0)
			continue;
		if (len + h->vlen + 1 >= sizeof(xff))
			return -1;
		if (len > 0)
			xff[len++] = ',';
		memcpy(xff + len, h->val, h->vlen);
		len += h->vlen;
	}
	if (len == 0 && http_get(req, "X-Forwarded-For") == NULL)
		return 0;
	return access_xff_pick(xff, len, w->cfg->trusted,
	    (size_t)w->cfg->ntrusted, client);
}

/* Name the client by its forwarded address in logs and the title. */
static void
set_client_name(struct worker *w, const struct access_addr *client)
{
	char	 t[ACCESS_ADDR_TEXT];

	if (!w->via_proxy)
		return;
	access_addr_text(client, t, sizeof(t));
	snprintf(w->peerbuf, sizeof(w->peerbuf), "%s via %s", t, w->tcp_peer);
	w->peer = w->peerbuf;
	title_set("client %s", w->peer);
}

static void
upgrade(struct worker *w, const struct http_request *req,
    const struct access_addr *client)
{
	const struct http_hdr	*key;
	char			 accept[WS_ACCEPT_LEN + 1], resp[256];
	int			 rc, n;

	if ((rc = ws_upgrade_check(req, &key)) != 0) {
		log_info("client %s: refused upgrade: %d", w->peer, rc);
		http_reply(w, rc, 0, 0, rc == 426 ?
		    "Sec-WebSocket-Version: 13\r\n" :
		    rc == 405 ? "Allow: GET\r\n" : NULL);
		return;
	}
	if (!origin_ok(w, req)) {
		http_reply(w, 403, 0, 0, NULL);
		return;
	}
	if (w->via_proxy && (rc = count_as(w, client)) != 1) {
		if (rc == 0)
			log_info("client %s: max-clients-per-ip (%u) reached: "
			    "refused", w->peer, w->cfg->max_clients_per_ip);
		http_reply(w, rc == 0 ? 429 : 503, 0, 0, "Retry-After: 5\r\n");
		return;
	}
	if (ws_accept_key(key->val, key->vlen, accept) == -1) {
		http_reply(w, 500, 0, 0, NULL);
		return;
	}
	/* No extension and no subprotocol is ever selected. */
	n = snprintf(resp, sizeof(resp),
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n"
	    "\r\n", accept);
	out_append(w, resp, (size_t)n);
	w->state = W_WS;
	ws_decoder_init(&w->dec, w->cfg->max_message);
	w->dec.max_fragments = w->cfg->max_fragments;
	ws_heard(w, io_mono_ms());
	chat_rate_init(&w->rate, w->cfg->rate_burst, io_mono_ms());
	log_debug("client %s: WebSocket open", w->peer);
	if (w->direct_ok && w->ssl == NULL) {
		/* From here on the master writes to the client: it gets what
		 * we have not sent yet (this answer, perhaps earlier ones),
		 * ahead of everything else. */
		ipc_queue(w, IPC_OUT, 0, bbuf_head(&w->out), bbuf_size(&w->out));
		bbuf_reset(&w->out);
		w->direct = 1;
	}
}

static void
serve(struct worker *w, const struct http_request *req)
{
	const struct wfile	*f;
	const struct http_hdr	*cl;
	struct access_addr	 client;
	char			 path[HTTP_MAX_HEAD + 16], extra[HTTP_MAX_HEAD + 64];
	int			 rc, head, keepalive, body;
	size_t			 pl;

	w->served++;
	if (forwarded_for(w, req, &client) == -1) {
		log_info("client %s: malformed X-Forwarded-For", w->peer);
		http_reply(w, 400, 0, 0, NULL);
		return;
	}
	set_client_name(w, &client);
	if ((rc = http_path_decode(req->target, req->tlen, path,
	    sizeof(path) - 16)) != 0) {
		http_reply(w, rc, 0, 0, NULL);
		return;
	}
	if (strcmp(path, "/ws") == 0) {
		upgrade(w, req, &client);
		return;
	}
	head = http_method_is(req, "HEAD");
	if (!head && !http_method_is(req, "GET")) {
		http_reply(w, 405, 0, 0, "Allow: GET, HEAD\r\n");
		return;
	}
	/* A request body is never expected; do not try to skip one. */
	cl = http_get(req, "Content-Length");
	body = http_get(req, "Transfer-Encoding") != NULL ||
	    (cl != NULL && !(cl->vlen == 1 && cl->val[0] == '0'));
	if (req->minor >= 1)
		keepalive = !http_has_token(http_get(req, "Connection"), "close");
	else
		keepalive = http_has_token(http_get(req, "Connection"),
		    "keep-alive");
	keepalive = keepalive && !body;

	if (strcmp(path, "/healthz") == 0) {
		if (http_response_head(&w->out, 200, "text/plain; charset=utf-8",
		    3, keepalive, "Cache-Control: no-store\r\n") == -1)
			nomem(w);
		if (!head)
			out_append(w, "ok\n", 3);
		if (!keepalive)
			w->state = W_DONE;
		return;
	}
	pl = strlen(path);
	if (path[pl - 1] == '/')
		strlcat(path, "index.html", sizeof(path));
	if ((f = webroot_find(w->wr, path)) == NULL) {
		if (webroot_is_dir(w->wr, path)) {
			snprintf(extra, sizeof(extra), "Location: %s/\r\n", path);
			http_reply(w, 301, head, keepalive, extra);
		} else
			http_reply(w, 404, head, keepalive, NULL);
		return;
	}
	if (http_response_head(&w->out, 200, f->mime, f->len, keepalive,
	    strncmp(f->mime, "text/html", 9) == 0 ?
	    "Cache-Control: no-cache\r\n" CSP_HEADER :
	    "Cache-Control: no-cache\r\n") == -1)
		nomem(w);
	if (!head)
		out_append(w, f->data, f->len);
	if (!keepalive)
		w->state = W_DONE;
}

static void
process_http(struct worker *w)
{
	struct http_request	 req;
	int			 rc;

	while (w->state == W_HTTP && bbuf_size(&w->in) > 0) {
		rc = http_parse(&w->hp, (const char *)bbuf_head(&w->in),
		    bbuf_size(&w->in), &req);
		if (rc == HTTP_MORE)
			return;
		if (rc < 0) {
			log_info("client %s: bad request: %d", w->peer, -rc);
			http_reply(w, -rc, 0, 0, NULL);
			return;
		}
		serve(w, &req);
		bbuf_consume(&w->in, (size_t)rc);
		http_parser_init(&w->hp);
		if (w->state == W_HTTP)
			w->deadline = io_mono_ms() +
			    (int64_t)w->cfg->request_timeout * 1000;
	}
}

static void
process_input(struct worker *w)
{
	if (w->state == W_HTTP)
		process_http(w);
	if (w->state == W_WS || w->state == W_CLOSING)
		process_ws(w);
	if (w->state == W_DONE || w->state == W_LINGER)
		bbuf_reset(&w->in);
}

static void
on_broker_msg(struct worker *w, const struct ipc_msg *m)
{
	switch (m->type) {
	case IPC_FRAMES:
		/* Nothing may follow our close frame. */
		if (w->state != W_WS)
			return;
		out_append(w, m->data, m->len);
		w->partial = (m->flags & IPC_F_MORE) != 0;
		if (!w->partial && bbuf_size(&w->local) > 0) {
			out_append(w, bbuf_head(&w->local), bbuf_size(&w->local));
			bbuf_reset(&w->local);
		}
		break;
	case IPC_COUNT_OK:
	case IPC_COUNT_FULL:
		break;		/* a late answer: count_as gave up */
	case IPC_CLOSED:
		w->direct = 0;		/* our close is written: ours again */
		break;
	case IPC_JOINED:
		w->joined = 1;
		title_set("client %s %.*s", w->peer, (int)m->len,
		    (const char *)m->data);
		break;
	default:
		log_warnx("client %s: unexpected message %u from master",
		    w->peer, m->type);
		break;
	}
}

static void
read_broker(struct worker *w)
{
	struct ipc_msg	 m;
	int		 rc;

	while (bbuf_size(&w->out) < WORKER_OUT_HIGH) {
		rc = ipc_recv(w->bfd, ipcbuf, sizeof(ipcbuf), &m);
		if (rc == IO_AGAIN)
			return;
		if (rc <= 0) {
			w->broker_eof = 1;
			return;
		}
		on_broker_msg(w, &m);
	}
}

/* The master is gone: say so to the client and leave. */
static void
broker_gone(struct worker *w)
{
	/* The master has let go of the client socket: it is ours alone (the
	 * master shuts it down if its last write was cut short). */
	w->direct = 0;
	switch (w->state) {
	case W_WS:
		ws_close(w, WS_CLOSE_GOING_AWAY, "server shutting down",
		    SHUTDOWN_CLOSE_MS);
		break;
	case W_HTTP:
		/* An idle keep-alive connection has nothing to finish. */
		if (bbuf_size(&w->in) == 0 && bbuf_size(&w->out) == 0)
			worker_exit(w, 0);
		w->state = W_DONE;
		break;
	}
	if (w->state == W_CLOSING && w->deadline > io_mono_ms() +
	    SHUTDOWN_CLOSE_MS)
		w->deadline = io_mono_ms() + SHUTDOWN_CLOSE_MS;
}

static void
on_timeout(struct worker *w)
{
	switch (w->state) {
	case W_HTTP:
		if (bbuf_size(&w->in) > 0) {
			log_info("client %s: request not complete within %u s",
			    w->peer, w->cfg->request_timeout);
			http_reply(w, 408, 0, 0, NULL);
			w->deadline = io_mono_ms() + LINGER_MS;
		} else {
			/* Idle keep-alive, or a connection that never spoke. */
			if (w->served == 0)
				log_info("client %s: no request within %u s",
				    w->peer, w->cfg->request_timeout);
			worker_exit(w, 0);
		}
		break;
	case W_WS:
		ws_timer(w);
		break;
	case W_CLOSING:
	case W_LINGER:
	case W_DONE:
		worker_exit(w, 0);
	}
}

/* Give an empty buffer's memory back. */
static void
trim_buf(struct bbuf *b)
{
	if (bbuf_size(b) == 0)
		bbuf_free(b);
}

/*
 * The pages under the deepest frame of the idle loop hold only dead
 * frames of the handshake (path buffers of serve(), the request): drop
 * them.  Only [frame - SPAN, frame - KEEP) is touched: it lies in the
 * stack's mapping or in the guard gap under it, where the kernel maps
 * nothing else; unmapped parts only make madvise() say ENOMEM.
 */
static void __attribute__((noinline))
trim_stack(void)
{
	volatile char	 here;
	uintptr_t	 top, page = (uintptr_t)sysconf(_SC_PAGESIZE);

	top = ((uintptr_t)&here & ~(page - 1)) - TRIM_STACK_KEEP;
	(void)madvise((void *)(top - TRIM_STACK_SPAN), TRIM_STACK_SPAN,
	    MADV_DONTNEED);
}

/*
 * Quiet for WORKER_TRIM_MS: free the buffers that grew during the
 * handshake, the welcome and the join storms, and return the heap's
 * free pages, so that an idle client costs a few pages, not the peak.
 */
static void
worker_trim(struct worker *w)
{
	w->trim_at = 0;
	trim_buf(&w->in);
	trim_buf(&w->out);
	trim_buf(&w->local);
	trim_buf(&w->ipcq);
	trim_buf(&w->msg);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	trim_stack();
}

/* Milliseconds poll() may sleep: to the deadline, the end of a hold or
 * the trim. */
static int
poll_timeout(const struct worker *w, int64_t now)
{
	int64_t	 t = -1;

	if (w->deadline)
		t = w->deadline > now ? w->deadline - now : 0;
	if (w->held && (t == -1 || w->held - now < t))
		t = w->held - now;
	if (w->trim_at && (t == -1 || w->trim_at - now < t))
		t = w->trim_at > now ? w->trim_at - now : 0;
	return (int)t;
}

void
worker_main(const struct wsconfig *cfg, const struct webroot *wr, int cfd,
    int bfd, const char *peer, const struct sockaddr *peer_sa, int tls,
    int direct)
{
	struct worker	 w;
	struct pollfd	 pfd[2];
	int64_t		 now;
	ssize_t		 n;
	int		 timeout, one = 1, broker_dead_seen = 0, pending;
	int		 reading, rc;

	memset(&w, 0, sizeof(w));
	w.cfg = cfg;
	w.wr = wr;
	w.cfd = cfd;
	w.bfd = bfd;
	w.peer = w.tcp_peer = peer;
	w.state = W_HTTP;
	w.deadline = io_mono_ms() + (int64_t)cfg->request_timeout * 1000;
	bbuf_init(&w.in);
	bbuf_init(&w.out);
	bbuf_init(&w.local);
	bbuf_init(&w.ipcq);
	bbuf_init(&w.msg);
	http_parser_init(&w.hp);
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	title_set("client %s", peer);
	if (access_addr_from_sockaddr(peer_sa, &w.peer_addr) == 0)
		w.via_proxy = access_cidr_list_match(cfg->trusted,
		    (size_t)cfg->ntrusted, &w.peer_addr);
	/* OpenSSL writes with write(2): a reset must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	w.tls = tls;
	w.direct_ok = direct;
	if (tls)
		tr_handshake(&w);

	for (;;) {
		if (w.broker_eof && !broker_dead_seen) {
			broker_dead_seen = 1;
			broker_gone(&w);
		}
		if (w.state >= W_CLOSING && w.bfd != -1 &&
		    bbuf_size(&w.ipcq) == 0 && !w.direct) {
			/* The WebSocket is closing: leave the room now, not
			 * when the TCP connection is finally gone. */
			close(w.bfd);
			w.bfd = -1;
			w.broker_eof = broker_dead_seen = 1;
		}
		if (w.state == W_DONE && bbuf_size(&w.out) == 0 &&
		    !w.direct) {
			/* All sent: shut our side, drain theirs briefly. */
			tr_shutdown(&w);
			w.state = W_LINGER;
			w.deadline = io_mono_ms() + LINGER_MS;
		}

		now = io_mono_ms();
		if (w.held && (now >= w.held || w.state != W_WS)) {
			w.held = 0;
			process_input(&w);	/* what waited in the buffer */
		}
		pfd[0].fd = cfd;
		pfd[0].events = 0;
		reading = (bbuf_size(&w.ipcq) == 0 || w.state >= W_CLOSING) &&
		    (bbuf_size(&w.out) < CLIENT_OUT_HIGH ||
		    w.state == W_LINGER) && w.held == 0;
		if (reading)
			pfd[0].events |= POLLIN;
		if (w.wr_wants_in)
			pfd[0].events |= POLLIN;
		if ((bbuf_size(&w.out) > 0 && w.state != W_LINGER) ||
		    w.rd_wants_out)
			pfd[0].events |= POLLOUT;
		pfd[1].fd = w.broker_eof ? -1 : w.bfd;
		pfd[1].events = 0;
		if (bbuf_size(&w.out) < WORKER_OUT_HIGH)
			pfd[1].events |= POLLIN;
		if (bbuf_size(&w.ipcq) > 0)
			pfd[1].events |= POLLOUT;

		timeout = poll_timeout(&w, now);
		pending = (pfd[0].events & POLLIN) && tr_pending(&w);
		if (pending)
			timeout = 0;
		if ((rc = poll(pfd, 2, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("client %s: poll", w.peer);
			worker_exit(&w, 1);
		}
		now = io_mono_ms();
		if (rc > 0)
			w.trim_at = now + WORKER_TRIM_MS;
		else if (w.trim_at && now >= w.trim_at)
			worker_trim(&w);
		if (w.deadline && now >= w.deadline) {
			on_timeout(&w);
			continue;
		}

		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			read_broker(&w);
			/* Hung up while we hold too much to read the rest:
			 * poll() would report POLLHUP forever. */
			if (pfd[1].revents & (POLLHUP | POLLERR))
				w.broker_eof = 1;
		}
		if (pfd[1].revents & POLLOUT) {
			ipc_flushq(&w);
			process_input(&w);
		}
		if (pending)
			pfd[0].revents |= POLLIN;
		if (w.wr_wants_in && (pfd[0].revents & (POLLIN | POLLHUP |
		    POLLERR)))
			pfd[0].revents |= POLLOUT;
		if (w.rd_wants_out && (pfd[0].revents & (POLLOUT | POLLHUP |
		    POLLERR)))
			pfd[0].revents |= POLLIN;
		if (pfd[0].revents & POLLOUT) {
			if (tr_flush(&w) == IO_ERROR)
				worker_exit(&w, 0);
		}
		/* (TLS may poll for input only to finish a write.) */
		if ((pfd[0].revents & (POLLHUP | POLLERR)) ||
		    ((pfd[0].revents & POLLIN) && (reading || w.ssl == NULL))) {
			n = tr_read(&w);
			if (n == 0 || n == IO_ERROR) {
				if (w.state == W_WS)
					log_debug("client %s: connection lost",
					    w.peer);
				worker_exit(&w, 0);
			}
			if (n > 0 && w.state == W_WS)
				ws_heard(&w, now);
			if (n > 0)
				process_input(&w);
		}
		/* Try to send at once what the round produced. */
		if (bbuf_size(&w.out) > 0 && w.state != W_LINGER &&
		    tr_flush(&w) == IO_ERROR)
			worker_exit(&w, 0);
	}
}
