/*
 * The worker: bytes from the client go through the HTTP parser, then the
 * frame decoder and the chat parser, and reach the master as typed
 * messages; finished frames from the master are copied to the client.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "buf.h"
#include "chat.h"
#include "http.h"
#include "io.h"
#include "ipc.h"
#include "log.h"
#include "title.h"
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
/* Milliseconds a client has to answer our close at shutdown. */
#define SHUTDOWN_CLOSE_MS 1000

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
	int64_t			 held;		/* monotonic ms: the client is not
						 * read before (rate limit), 0 */
	int			 joined;
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

static void
nomem(struct worker *w)
{
	log_warnx("client %s: out of memory", w->peer);
	worker_exit(w, 1);
}

static void
out_append(struct worker *w, const void *p, size_t n)
{
	if (bbuf_append(&w->out, p, n) == -1)
		nomem(w);
}

/* Our own frames go out only between the master's frames. */
static void
local_frame(struct worker *w, int op, const void *p, size_t n)
{
	uint8_t		 h[WS_MAX_HEADER];
	size_t		 hl = ws_header(h, op, n);
	struct bbuf	*b = w->partial ? &w->local : &w->out;

	if (bbuf_append(b, h, hl) == -1 || bbuf_append(b, p, n) == -1)
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

/* Queue a message for the master, in IPC_CHUNK pieces, and send what
 * the socket takes now. */
static void
ipc_queue(struct worker *w, uint16_t type, const void *p, size_t n)
{
	const uint8_t	*b = p;
	struct ipc_hdr	 h;
	size_t		 c;
	int		 rc;

	/* The usual case: nothing waiting, one datagram, sent at once. */
	if (bbuf_size(&w->ipcq) == 0 && n <= IPC_CHUNK) {
		if ((rc = ipc_send(w->bfd, type, 0, p, n)) == 0)
			return;
		if (rc == IO_ERROR) {
			w->broker_eof = 1;
			return;
		}
	}
	do {
		c = n > IPC_CHUNK ? IPC_CHUNK : n;
		h.type = type;
		h.flags = c < n ? IPC_F_MORE : 0;
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
		/* Read no more until the bucket has a token again: a flooder
		 * is then held back by TCP, not served at full speed. */
		w->held = io_mono_ms() + 1000 / w->cfg->rate_limit + 1;
		return;
	}
	rc = chat_parse((const char *)bbuf_head(&w->msg), bbuf_size(&w->msg),
	    w->cfg->max_text, &m);
	if (rc != CHAT_OK) {
		log_debug("client %s: %s", w->peer, chat_err_code(rc));
		local_error(w, rc);
		return;
	}
	ipc_queue(w, m.type == CHAT_JOIN ? IPC_JOIN : IPC_MESSAGE, m.str, m.len);
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
	    bbuf_size(&w->ipcq) == 0) {
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

static void
upgrade(struct worker *w, const struct http_request *req)
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
	w->deadline = 0;
	ws_decoder_init(&w->dec, w->cfg->max_message);
	chat_rate_init(&w->rate, w->cfg->rate_burst, io_mono_ms());
	log_debug("client %s: WebSocket open", w->peer);
}

static void
serve(struct worker *w, const struct http_request *req)
{
	const struct wfile	*f;
	const struct http_hdr	*cl;
	char			 path[HTTP_MAX_HEAD + 16], extra[HTTP_MAX_HEAD + 64];
	int			 rc, head, keepalive, body;
	size_t			 pl;

	if ((rc = http_path_decode(req->target, req->tlen, path,
	    sizeof(path) - 16)) != 0) {
		http_reply(w, rc, 0, 0, NULL);
		return;
	}
	if (strcmp(path, "/ws") == 0) {
		upgrade(w, req);
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
			w->deadline = io_mono_ms() + HTTP_REQUEST_TIMEOUT * 1000;
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
			log_info("client %s: request timed out", w->peer);
			http_reply(w, 408, 0, 0, NULL);
			w->deadline = io_mono_ms() + LINGER_MS;
		} else
			worker_exit(w, 0);	/* idle keep-alive */
		break;
	case W_CLOSING:
	case W_LINGER:
	case W_DONE:
		worker_exit(w, 0);
	}
}

/* Milliseconds poll() may sleep: to the deadline or the end of a hold. */
static int
poll_timeout(const struct worker *w, int64_t now)
{
	int64_t	 t = -1;

	if (w->deadline)
		t = w->deadline > now ? w->deadline - now : 0;
	if (w->held && (t == -1 || w->held - now < t))
		t = w->held - now;
	return (int)t;
}

void
worker_main(const struct wsconfig *cfg, const struct webroot *wr, int cfd,
    int bfd, const char *peer)
{
	struct worker	 w;
	struct pollfd	 pfd[2];
	int64_t		 now;
	ssize_t		 n;
	int		 timeout, one = 1, broker_dead_seen = 0;

	memset(&w, 0, sizeof(w));
	w.cfg = cfg;
	w.wr = wr;
	w.cfd = cfd;
	w.bfd = bfd;
	w.peer = peer;
	w.state = W_HTTP;
	w.deadline = io_mono_ms() + HTTP_REQUEST_TIMEOUT * 1000;
	bbuf_init(&w.in);
	bbuf_init(&w.out);
	bbuf_init(&w.local);
	bbuf_init(&w.ipcq);
	bbuf_init(&w.msg);
	http_parser_init(&w.hp);
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	title_set("client %s", peer);

	for (;;) {
		if (w.broker_eof && !broker_dead_seen) {
			broker_dead_seen = 1;
			broker_gone(&w);
		}
		if (w.state >= W_CLOSING && w.bfd != -1 &&
		    bbuf_size(&w.ipcq) == 0) {
			/* The WebSocket is closing: leave the room now, not
			 * when the TCP connection is finally gone. */
			close(w.bfd);
			w.bfd = -1;
			w.broker_eof = broker_dead_seen = 1;
		}
		if (w.state == W_DONE && bbuf_size(&w.out) == 0) {
			/* All sent: shut our side, drain theirs briefly. */
			shutdown(cfd, SHUT_WR);
			w.state = W_LINGER;
			w.deadline = io_mono_ms() + LINGER_MS;
		}

		now = io_mono_ms();
		if (w.held && (now >= w.held || w.state != W_WS))
			w.held = 0;
		pfd[0].fd = cfd;
		pfd[0].events = 0;
		if ((bbuf_size(&w.ipcq) == 0 || w.state >= W_CLOSING) &&
		    (bbuf_size(&w.out) < CLIENT_OUT_HIGH ||
		    w.state == W_LINGER) && w.held == 0)
			pfd[0].events |= POLLIN;
		if (bbuf_size(&w.out) > 0 && w.state != W_LINGER)
			pfd[0].events |= POLLOUT;
		pfd[1].fd = w.broker_eof ? -1 : w.bfd;
		pfd[1].events = 0;
		if (bbuf_size(&w.out) < WORKER_OUT_HIGH)
			pfd[1].events |= POLLIN;
		if (bbuf_size(&w.ipcq) > 0)
			pfd[1].events |= POLLOUT;

		timeout = poll_timeout(&w, now);
		if (poll(pfd, 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("client %s: poll", w.peer);
			worker_exit(&w, 1);
		}
		if (w.deadline && io_mono_ms() >= w.deadline) {
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
		if (pfd[0].revents & POLLOUT) {
			if (io_flush(cfd, &w.out) == IO_ERROR)
				worker_exit(&w, 0);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = io_read(cfd, &w.in, WORKER_READ);
			if (n == 0 || n == IO_ERROR) {
				if (w.state == W_WS)
					log_debug("client %s: connection lost",
					    w.peer);
				worker_exit(&w, 0);
			}
			if (n > 0)
				process_input(&w);
		}
		/* Try to send at once what the round produced. */
		if (bbuf_size(&w.out) > 0 && w.state != W_LINGER &&
		    io_flush(cfd, &w.out) == IO_ERROR)
			worker_exit(&w, 0);
	}
}
