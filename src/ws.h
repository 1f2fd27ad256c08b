#ifndef WSCHATD_WS_H
#define WSCHATD_WS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "wslimits.h"
#include "utf8.h"

#define WS_OP_CONT	0x0
#define WS_OP_TEXT	0x1
#define WS_OP_BINARY	0x2
#define WS_OP_CLOSE	0x8
#define WS_OP_PING	0x9
#define WS_OP_PONG	0xa

#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOING_AWAY	1001
#define WS_CLOSE_PROTOCOL	1002
#define WS_CLOSE_UNSUPPORTED	1003
#define WS_CLOSE_NO_STATUS	1005	/* never sent: "no code received" */
#define WS_CLOSE_BAD_DATA	1007
#define WS_CLOSE_POLICY		1008
#define WS_CLOSE_TOO_BIG	1009
#define WS_CLOSE_INTERNAL	1011

#define WS_MAX_HEADER		10	/* server frames are never masked */
#define WS_ACCEPT_LEN		28	/* base64 of a SHA-1 */

/* Decoder events. */
#define WS_EV_NEED	0	/* all input consumed, nothing to report */
#define WS_EV_DATA	1	/* a chunk of a text message (unmasked, valid so far) */
#define WS_EV_END	2	/* the text message is complete and valid */
#define WS_EV_PING	3
#define WS_EV_PONG	4
#define WS_EV_CLOSE	5	/* code (1005 if none) and reason */
#define WS_EV_ERROR	6	/* code to close with, why for the log */

struct ws_event {
	int		 type;
	const uint8_t	*data;
	size_t		 len;
	uint16_t	 code;
	const char	*why;
};

struct ws_decoder {
	uint64_t	 max_message;	/* bytes in one message (1009 past it) */
	uint32_t	 max_fragments;	/* continuation frames in one message
					 * (1009 past it); none unless set
					 * after ws_decoder_init */

	int		 state;
	uint8_t		 hdr[14];
	size_t		 hlen;
	int		 fin, opcode;
	uint8_t		 mask[4];
	uint64_t	 flen, fdone;

	int		 msg_op;	/* opcode of the open message, or 0 */
	uint64_t	 msg_len;
	uint32_t	 msg_cont;	/* its continuation frames so far */
	struct utf8_state utf8;

	uint8_t		 ctl[WS_MAX_CONTROL];
	size_t		 ctl_len;
};

void	ws_decoder_init(struct ws_decoder *, uint64_t max_message);
/*
 * Decode client frames from in[0, n), unmasking in place.  Reports at most
 * one event and returns the number of bytes consumed; call again with the
 * rest until it reports WS_EV_NEED.  After WS_EV_ERROR the connection must
 * be closed with ev->code.
 */
size_t	ws_decode(struct ws_decoder *, uint8_t *, size_t, struct ws_event *);

/* Header of an unmasked, final frame; returns its length. */
size_t	ws_header(uint8_t out[WS_MAX_HEADER], int opcode, uint64_t len);
/* Close frame payload: code and reason (cut to fit). Returns its length. */
size_t	ws_close_payload(uint8_t out[WS_MAX_CONTROL], uint16_t, const char *);
/* Whether a peer may send this close status (RFC 6455 7.4). */
int	ws_close_code_valid(unsigned);

/* Sec-WebSocket-Key: base64 of exactly 16 bytes. */
int	ws_key_valid(const char *, size_t);
int	ws_accept_key(const char *, size_t, char out[WS_ACCEPT_LEN + 1]);
/*
 * RFC 6455 4.2.1 checks of an upgrade request.  Returns 0 and points
 * key at the Sec-WebSocket-Key, or the HTTP status to refuse with:
 * 426 (wrong version), 400 (anything else malformed), 405 (not GET).
 */
int	ws_upgrade_check(const struct http_request *, const struct http_hdr **);

#endif
