/*
 * RFC 6455 framing: an incremental decoder for client frames, the encoder
 * for server frames, and the opening handshake checks.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "sha1.h"
#include "ws.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#define ST_HEAD		0
#define ST_PAYLOAD	1
#define ST_FRAME_END	2
#define ST_FAILED	3

void
ws_decoder_init(struct ws_decoder *d, uint64_t max_message)
{
	memset(d, 0, sizeof(*d));
	d->max_message = max_message;
	d->max_fragments = UINT32_MAX;
	d->state = ST_HEAD;
	utf8_init(&d->utf8);
}

static size_t
fail(struct ws_decoder *d, struct ws_event *ev, uint16_t code,
    const char *why, size_t used)
{
	d->state = ST_FAILED;
	ev->type = WS_EV_ERROR;
	ev->code = code;
	ev->why = why;
	return used;
}

int
ws_close_code_valid(unsigned code)
{
	if (code >= 1000 && code <= 1003)
		return 1;
	if (code >= 1007 && code <= 1014)
		return 1;
	return code >= 3000 && code <= 4999;
}

/* The header is complete: check it and set up the frame. */
static int
frame_begin(struct ws_decoder *d, struct ws_event *ev)
{
	uint8_t	*h = d->hdr;
	size_t	 i, p = 2;
	uint64_t len = h[1] & 0x7f;

	d->fin = (h[0] & 0x80) != 0;
	d->opcode = h[0] & 0x0f;
	if (len == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
		p = 4;
	} else if (len == 127) {
		len = 0;
		for (i = 0; i < 8; i++)
			len = len << 8 | h[2 + i];
		p = 10;
		if (len >> 63) {
			fail(d, ev, WS_CLOSE_PROTOCOL, "64-bit length with top bit", 0);
			return -1;
		}
	}
	memcpy(d->mask, h + p, 4);
	d->flen = len;
	d->fdone = 0;

	if (d->opcode & 0x8) {
		if (d->opcode > WS_OP_PONG) {
			fail(d, ev, WS_CLOSE_PROTOCOL, "reserved control opcode", 0);
			return -1;
		}
		if (!d->fin) {
			fail(d, ev, WS_CLOSE_PROTOCOL, "fragmented control frame", 0);
			return -1;
		}
		if (len > WS_MAX_CONTROL) {
			fail(d, ev, WS_CLOSE_PROTOCOL, "control frame over 125 bytes", 0);
			return -1;
		}
		d->ctl_len = 0;
		return 0;
	}
	switch (d->opcode) {
	case WS_OP_CONT:
		if (d->msg_op == 0) {
			fail(d, ev, WS_CLOSE_PROTOCOL, "continuation without a message", 0);
			return -1;
		}
		if (d->msg_cont >= d->max_fragments) {
			fail(d, ev, WS_CLOSE_TOO_BIG, "message over max-fragments", 0);
			return -1;
		}
		d->msg_cont++;
		break;
	case WS_OP_TEXT:
		if (d->msg_op != 0) {
			fail(d, ev, WS_CLOSE_PROTOCOL, "new message inside a fragmented one", 0);
			return -1;
		}
		d->msg_op = WS_OP_TEXT;
		d->msg_len = 0;
		d->msg_cont = 0;
		utf8_init(&d->utf8);
		break;
	case WS_OP_BINARY:
		if (d->msg_op != 0) {
			fail(d, ev, WS_CLOSE_PROTOCOL, "new message inside a fragmented one", 0);
			return -1;
		}
		fail(d, ev, WS_CLOSE_UNSUPPORTED, "binary message", 0);
		return -1;
	default:
		fail(d, ev, WS_CLOSE_PROTOCOL, "reserved data opcode", 0);
		return -1;
	}
	if (len > d->max_message - d->msg_len) {
		fail(d, ev, WS_CLOSE_TOO_BIG, "message over max-message", 0);
		return -1;
	}
	d->msg_len += len;
	return 0;
}

/* A frame's payload is all in: report what it completes. */
static size_t
frame_end(struct ws_decoder *d, struct ws_event *ev)
{
	unsigned	 code;

	d->state = ST_HEAD;
	d->hlen = 0;
	ev->data = d->ctl;
	ev->len = d->ctl_len;
	switch (d->opcode) {
	case WS_OP_PING:
		ev->type = WS_EV_PING;
		return 0;
	case WS_OP_PONG:
		ev->type = WS_EV_PONG;
		return 0;
	case WS_OP_CLOSE:
		if (d->ctl_len == 1)
			return fail(d, ev, WS_CLOSE_PROTOCOL, "1-byte close payload", 0);
		if (d->ctl_len == 0) {
			ev->type = WS_EV_CLOSE;
			ev->code = WS_CLOSE_NO_STATUS;
			return 0;
		}
		code = (unsigned)d->ctl[0] << 8 | d->ctl[1];
		if (!ws_close_code_valid(code))
			return fail(d, ev, WS_CLOSE_PROTOCOL, "invalid close code", 0);
		if (!utf8_valid(d->ctl + 2, d->ctl_len - 2))
			return fail(d, ev, WS_CLOSE_BAD_DATA, "close reason not UTF-8", 0);
		ev->type = WS_EV_CLOSE;
		ev->code = (uint16_t)code;
		ev->data = d->ctl + 2;
		ev->len = d->ctl_len - 2;
		return 0;
	}
	/* Data frame. */
	if (!d->fin) {
		ev->type = WS_EV_NEED;
		return 0;
	}
	d->msg_op = 0;
	if (!utf8_complete(&d->utf8))
		return fail(d, ev, WS_CLOSE_BAD_DATA, "text ends inside a character", 0);
	ev->type = WS_EV_END;
	ev->len = 0;
	return 0;
}

size_t
ws_decode(struct ws_decoder *d, uint8_t *in, size_t n, struct ws_event *ev)
{
	size_t	 used = 0, need, m, i;
	uint8_t	*p;

	memset(ev, 0, sizeof(*ev));
	for (;;) {
		switch (d->state) {
		case ST_FAILED:
			ev->type = WS_EV_ERROR;
			ev->code = WS_CLOSE_PROTOCOL;
			ev->why = "decoder failed";
			return used;
		case ST_FRAME_END:
			frame_end(d, ev);
			if (ev->type != WS_EV_NEED)
				return used;
			continue;
		case ST_HEAD:
			if (used == n)
				return used;
			d->hdr[d->hlen++] = in[used++];
			if (d->hlen == 1) {
				if (d->hdr[0] & 0x70)
					return fail(d, ev, WS_CLOSE_PROTOCOL,
					    "reserved bits set", used);
				continue;
			}
			if (d->hlen == 2 && !(d->hdr[1] & 0x80))
				return fail(d, ev, WS_CLOSE_PROTOCOL,
				    "unmasked client frame", used);
			need = 2 + 4;
			if ((d->hdr[1] & 0x7f) == 126)
				need += 2;
			else if ((d->hdr[1] & 0x7f) == 127)
				need += 8;
			if (d->hlen < need)
				continue;
			if (frame_begin(d, ev) == -1)
				return used;
			d->state = d->flen == 0 ? ST_FRAME_END : ST_PAYLOAD;
			continue;
		case ST_PAYLOAD:
			if (used == n)
				return used;
			m = n - used;
			if (m > d->flen - d->fdone)
				m = (size_t)(d->flen - d->fdone);
			p = in + used;
			for (i = 0; i < m; i++)
				p[i] ^= d->mask[(d->fdone + i) & 3];
			d->fdone += m;
			used += m;
			if (d->fdone == d->flen)
				d->state = ST_FRAME_END;
			if (d->opcode & 0x8) {
				memcpy(d->ctl + d->ctl_len, p, m);
				d->ctl_len += m;
				continue;
			}
			if (utf8_feed(&d->utf8, p, m) != UTF8_OK)
				return fail(d, ev, WS_CLOSE_BAD_DATA,
				    "invalid UTF-8 in text", used);
			ev->type = WS_EV_DATA;
			ev->data = p;
			ev->len = m;
			return used;
		}
	}
}

size_t
ws_header(uint8_t out[WS_MAX_HEADER], int opcode, uint64_t len)
{
	size_t	 i;

	out[0] = 0x80 | (opcode & 0x0f);
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

size_t
ws_close_payload(uint8_t out[WS_MAX_CONTROL], uint16_t code, const char *reason)
{
	size_t	 rl = reason ? strlen(reason) : 0;

	if (rl > WS_MAX_CONTROL - 2)
		rl = WS_MAX_CONTROL - 2;
	/* Never cut a character in half. */
	while (rl > 0 && !utf8_valid((const uint8_t *)reason, rl))
		rl--;
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	if (rl > 0)
		memcpy(out + 2, reason, rl);
	return 2 + rl;
}

static int
is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
ws_key_valid(const char *key, size_t len)
{
	size_t	 i;

	/* 16 bytes are 22 base64 digits and two pad characters. */
	if (len != 24 || key[22] != '=' || key[23] != '=')
		return 0;
	for (i = 0; i < 22; i++)
		if (!is_b64(key[i]))
			return 0;
	/* The last digit carries 2 bits of data; the rest must be zero. */
	return strchr("AQgw", key[21]) != NULL;
}

int
ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
	uint8_t		 md[SHA1_LEN];
	char		 buf[64 + sizeof(WS_GUID)];

	if (len > 64)
		return -1;
	memcpy(buf, key, len);
	memcpy(buf + len, WS_GUID, sizeof(WS_GUID) - 1);
	sha1(buf, len + sizeof(WS_GUID) - 1, md);
	if (EVP_EncodeBlock((unsigned char *)out, md, SHA1_LEN)
	    != WS_ACCEPT_LEN)
		return -1;
	out[WS_ACCEPT_LEN] = '\0';
	return 0;
}

int
ws_upgrade_check(const struct http_request *req, const struct http_hdr **key)
{
	const struct http_hdr	*v;

	if (!http_method_is(req, "GET"))
		return 405;
	if (req->minor < 1)
		return 400;
	if (!http_has_token(http_get(req, "Upgrade"), "websocket") ||
	    !http_has_token(http_get(req, "Connection"), "Upgrade"))
		return 400;
	/* Missing is malformed (400); present but not 13 is 426. */
	if (http_count(req, "Sec-WebSocket-Version") != 1)
		return http_get(req, "Sec-WebSocket-Version") ? 426 : 400;
	v = http_get(req, "Sec-WebSocket-Version");
	if (v->vlen != 2 || memcmp(v->val, "13", 2) != 0)
		return 426;
	*key = http_get(req, "Sec-WebSocket-Key");
	if (http_count(req, "Sec-WebSocket-Key") != 1 ||
	    !ws_key_valid((*key)->val, (*key)->vlen))
		return 400;
	return 0;
}
