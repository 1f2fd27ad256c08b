/* Unit tests of RFC 6455 framing and the opening handshake (src/ws.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sha1.h"
#include "ws.h"

/* ---- helpers ---- */

#define ACCEPT_ZERO "ICX+Yqv66kxgM0FcWaLWlFLwTAI="

static const uint8_t mask_key[4] = { 0x37, 0xfa, 0x21, 0x3d };

/*
 * A client frame: fin, rsv bits (0..7), opcode, payload; masked unless
 * masked == 0.  Returns its length.
 */
static size_t
frame(uint8_t *out, int fin, int rsv, int op, const void *payload,
    size_t len, int masked)
{
	const uint8_t	*pl = payload;
	size_t		 p = 0, i;
	uint8_t		 m = masked ? 0x80 : 0;

	out[p++] = (uint8_t)((fin ? 0x80 : 0) | (rsv << 4) | op);
	if (len < 126)
		out[p++] = (uint8_t)(m | len);
	else if (len <= 0xffff) {
		out[p++] = m | 126;
		out[p++] = (uint8_t)(len >> 8);
		out[p++] = (uint8_t)len;
	} else {
		out[p++] = m | 127;
		for (i = 0; i < 8; i++)
			out[p++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	}
	if (masked) {
		memcpy(out + p, mask_key, 4);
		p += 4;
	}
	for (i = 0; i < len; i++)
		out[p + i] = pl[i] ^ (masked ? mask_key[i & 3] : 0);
	return p + len;
}

/* A masked final frame with a string payload. */
static size_t
sframe(uint8_t *out, int fin, int op, const char *s)
{
	return frame(out, fin, 0, op, s, strlen(s), 1);
}

/* A close frame with a code and a reason. */
static size_t
close_frame(uint8_t *out, unsigned code, const char *reason, size_t rlen)
{
	uint8_t	 pl[WS_MAX_CONTROL + 8];

	pl[0] = (uint8_t)(code >> 8);
	pl[1] = (uint8_t)code;
	memcpy(pl + 2, reason, rlen);
	return frame(out, 1, 0, WS_OP_CLOSE, pl, rlen + 2, 1);
}

#define MAXEV	512
struct evrec {
	int		 type;
	uint16_t	 code;
	size_t		 at;		/* input bytes consumed when reported */
	size_t		 len;
	uint8_t		 data[WS_MAX_CONTROL];
};
struct evlog {
	int		 n;
	int		 ndata;
	struct evrec	 ev[MAXEV];
	size_t		 msglen;
	uint8_t		 msg[1 << 17];	/* DATA payloads, concatenated */
};
static struct evlog L;

/*
 * Feed buf[0, n) to d in pieces of chunk bytes (0: all at once), calling
 * ws_decode until it wants more.  Events other than DATA are logged;
 * DATA is appended to L.msg (and counted).  Stops at the first ERROR.
 */
static void
run(struct ws_decoder *d, uint8_t *buf, size_t n, size_t chunk)
{
	struct ws_event	 ev;
	size_t		 off, c, pos, used;
	int		 guard;

	memset(&L, 0, sizeof(L));
	if (chunk == 0)
		chunk = n;
	for (off = 0; off < n; off += c) {
		c = n - off < chunk ? n - off : chunk;
		pos = 0;
		for (guard = 0;; guard++) {
			ck_assert_int_lt(guard, 100000);
			used = ws_decode(d, buf + off + pos, c - pos, &ev);
			ck_assert_uint_le(used, c - pos);
			pos += used;
			if (ev.type == WS_EV_NEED) {
				ck_assert_uint_eq(pos, c);
				break;
			}
			if (ev.type == WS_EV_DATA) {
				ck_assert_uint_le(L.msglen + ev.len, sizeof(L.msg));
				ck_assert_uint_gt(ev.len, 0);
				memcpy(L.msg + L.msglen, ev.data, ev.len);
				L.msglen += ev.len;
				L.ndata++;
				continue;
			}
			ck_assert_int_lt(L.n, MAXEV);
			L.ev[L.n].type = ev.type;
			L.ev[L.n].code = ev.code;
			L.ev[L.n].at = off + pos;
			L.ev[L.n].len = ev.len;
			if (ev.type == WS_EV_PING || ev.type == WS_EV_PONG ||
			    ev.type == WS_EV_CLOSE) {
				ck_assert_uint_le(ev.len, WS_MAX_CONTROL);
				if (ev.len > 0)
					memcpy(L.ev[L.n].data, ev.data, ev.len);
			}
			if (ev.type == WS_EV_ERROR)
				ck_assert_ptr_nonnull(ev.why);
			L.n++;
			if (ev.type == WS_EV_ERROR)
				return;
		}
	}
}

/* Decode a fresh stream; expect exactly one event: ERROR with code. */
static void
expect_error(uint8_t *buf, size_t n, uint64_t max, uint16_t code)
{
	struct ws_decoder d;

	ws_decoder_init(&d, max);
	run(&d, buf, n, 0);
	ck_assert_int_ge(L.n, 1);
	ck_assert_int_eq(L.ev[L.n - 1].type, WS_EV_ERROR);
	ck_assert_uint_eq(L.ev[L.n - 1].code, code);
}

static void
expect_only_error(uint8_t *buf, size_t n, uint64_t max, uint16_t code)
{
	expect_error(buf, n, max, code);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ndata, 0);
}

/* ---- encoder, keys ---- */

/* ---- SHA-1 (our own, for the accept key) ---- */

static void
sha1_hex(const void *p, size_t len, char hex[2 * SHA1_LEN + 1])
{
	uint8_t	 md[SHA1_LEN];
	size_t	 i;

	sha1(p, len, md);
	for (i = 0; i < SHA1_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* FIPS 180 examples, and lengths around the one/two-block padding edge
 * (digests from python3 hashlib). */
START_TEST(test_sha1_vectors)
{
	static const struct {
		size_t		 alen;		/* that many 'a', or */
		const char	*text;		/* this text */
		const char	*hex;
	} v[] = {
		{ 0, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ 0, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ 0, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
		{ 55, NULL, "c1c8bbdc22796e28c0e15163d20899b65621d65a" },
		{ 56, NULL, "c2db330f6083854c99d4b5bfb6e8f29f201be699" },
		{ 64, NULL, "0098ba824b5c16427bd7a1122a5a442a25ec644d" },
		{ 119, NULL, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56" },
		{ 1000, NULL, "291e9a6c66994949b57ba5e650361e98fc36b1ba" },
	};
	char	 a[1000], hex[2 * SHA1_LEN + 1];
	size_t	 i;

	memset(a, 'a', sizeof(a));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i].text != NULL)
			sha1_hex(v[i].text, strlen(v[i].text), hex);
		else
			sha1_hex(a, v[i].alen, hex);
		ck_assert_str_eq(hex, v[i].hex);
	}
}
END_TEST

START_TEST(test_accept_key_rfc)
{
	char	 out[WS_ACCEPT_LEN + 1];
	const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
	char	 big[65];

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(ws_accept_key(key, strlen(key), out), 0);
	/* RFC 6455 1.3 */
	ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* another key (computed with python hashlib) */
	key = "AAAAAAAAAAAAAAAAAAAAAA==";
	ck_assert_int_eq(ws_accept_key(key, strlen(key), out), 0);
	ck_assert_str_eq(out, ACCEPT_ZERO);
	/* over 64 bytes is refused */
	memset(big, 'A', sizeof(big));
	ck_assert_int_eq(ws_accept_key(big, sizeof(big), out), -1);
}
END_TEST

START_TEST(test_key_valid)
{
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==", 24), 1);
	ck_assert_int_eq(ws_key_valid("AAAAAAAAAAAAAAAAAAAAAA==", 24), 1);
	ck_assert_int_eq(ws_key_valid("+/+/+/+/+/+/+/+/+/+/+w==", 24), 1);
	/* wrong length */
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=", 23), 0);
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ===", 25), 0);
	ck_assert_int_eq(ws_key_valid("", 0), 0);
	/* 20 bytes of base64 (28 chars) */
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub25jZSEhISE=", 28), 0);
	/* bad characters */
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub2*jZQ==", 24), 0);
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub2-jZQ==", 24), 0);
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub2 jZQ==", 24), 0);
	/* missing / misplaced padding */
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub25jZQAA", 24), 0);
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=A", 24), 0);
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub25j=Q==", 24), 0);
	/* last digit carries bits beyond 16 bytes */
	ck_assert_int_eq(ws_key_valid("dGhlIHNhbXBsZSBub25jZR==", 24), 0);
}
END_TEST

START_TEST(test_header_lengths)
{
	uint8_t	 h[WS_MAX_HEADER];

	memset(h, 0xee, sizeof(h));
	ck_assert_uint_eq(ws_header(h, WS_OP_TEXT, 0), 2);
	ck_assert_uint_eq(h[0], 0x81);
	ck_assert_uint_eq(h[1], 0x00);

	ck_assert_uint_eq(ws_header(h, WS_OP_TEXT, 125), 2);
	ck_assert_uint_eq(h[0], 0x81);
	ck_assert_uint_eq(h[1], 125);

	ck_assert_uint_eq(ws_header(h, WS_OP_TEXT, 126), 4);
	ck_assert_uint_eq(h[0], 0x81);
	ck_assert_uint_eq(h[1], 126);
	ck_assert_uint_eq(h[2], 0x00);
	ck_assert_uint_eq(h[3], 126);

	ck_assert_uint_eq(ws_header(h, WS_OP_TEXT, 65535), 4);
	ck_assert_uint_eq(h[1], 126);
	ck_assert_uint_eq(h[2], 0xff);
	ck_assert_uint_eq(h[3], 0xff);

	{
		static const uint8_t want[10] = { 0x81, 127, 0, 0, 0, 0, 0,
		    0x01, 0x00, 0x00 };
		ck_assert_uint_eq(ws_header(h, WS_OP_TEXT, 65536), 10);
		ck_assert_mem_eq(h, want, 10);
	}
	{
		static const uint8_t want[10] = { 0x82, 127, 0x01, 0x23, 0x45,
		    0x67, 0x89, 0xab, 0xcd, 0xef };
		ck_assert_uint_eq(ws_header(h, WS_OP_BINARY,
		    0x0123456789abcdefULL), 10);
		ck_assert_mem_eq(h, want, 10);
	}
	ck_assert_uint_eq(ws_header(h, WS_OP_CLOSE, 2), 2);
	ck_assert_uint_eq(h[0], 0x88);
	ck_assert_uint_eq(h[1], 2);
	ck_assert_uint_eq(ws_header(h, WS_OP_PONG, 5), 2);
	ck_assert_uint_eq(h[0], 0x8a);
}
END_TEST

START_TEST(test_close_payload)
{
	uint8_t	 out[WS_MAX_CONTROL];
	char	 reason[300];

	ck_assert_uint_eq(ws_close_payload(out, 1000, "bye"), 5);
	ck_assert_mem_eq(out, "\x03\xe8" "bye", 5);
	ck_assert_uint_eq(ws_close_payload(out, 1001, NULL), 2);
	ck_assert_mem_eq(out, "\x03\xe9", 2);
	ck_assert_uint_eq(ws_close_payload(out, 4999, ""), 2);
	ck_assert_mem_eq(out, "\x13\x87", 2);

	/* cut to 123 bytes of reason */
	memset(reason, 'a', 200);
	reason[200] = '\0';
	ck_assert_uint_eq(ws_close_payload(out, 1009, reason), WS_MAX_CONTROL);
	ck_assert_mem_eq(out, "\x03\xf1", 2);
	ck_assert_mem_eq(out + 2, reason, 123);

	/* exactly 123 bytes fit */
	reason[123] = '\0';
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason), WS_MAX_CONTROL);

	/* never cut a character: 122 'a' + U+00E9 (2 bytes) = 124 bytes */
	memset(reason, 'a', 122);
	memcpy(reason + 122, "\xc3\xa9", 3);
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason), 2 + 122);
	/* 121 'a' + U+00E9 = 123 bytes: fits whole */
	memset(reason, 'a', 121);
	memcpy(reason + 121, "\xc3\xa9", 3);
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason), 2 + 123);
	ck_assert_mem_eq(out + 2 + 121, "\xc3\xa9", 2);
}
END_TEST

START_TEST(test_close_code_valid)
{
	static const unsigned good[] = { 1000, 1001, 1002, 1003, 1007, 1008,
	    1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 };
	static const unsigned bad[] = { 0, 1, 999, 1004, 1005, 1006, 1015,
	    1016, 2000, 2999, 5000, 65535 };
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(ws_close_code_valid(good[i]), "%u", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!ws_close_code_valid(bad[i]), "%u", bad[i]);
}
END_TEST

/* ---- decoder: data ---- */

START_TEST(test_decode_single_text)
{
	struct ws_decoder d;
	uint8_t		 buf[64];
	size_t		 n = sframe(buf, 1, WS_OP_TEXT, "Hello");

	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.ndata, 1);
	ck_assert_uint_eq(L.msglen, 5);
	ck_assert_mem_eq(L.msg, "Hello", 5);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	ck_assert_uint_eq(L.ev[0].at, n);
}
END_TEST

/* The RFC 6455 5.7 example: a masked "Hello". */
START_TEST(test_decode_rfc_example)
{
	struct ws_decoder d;
	uint8_t		 buf[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f,
	    0x9f, 0x4d, 0x51, 0x58 };

	ws_decoder_init(&d, 1000);
	run(&d, buf, sizeof(buf), 0);
	ck_assert_uint_eq(L.msglen, 5);
	ck_assert_mem_eq(L.msg, "Hello", 5);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
}
END_TEST

START_TEST(test_decode_bytewise)
{
	struct ws_decoder d;
	uint8_t		 buf[128];
	size_t		 n;

	n = sframe(buf, 1, WS_OP_TEXT, "Hello, w\xc3\xb6rld \xf0\x9f\x98\x80");
	n += sframe(buf + n, 1, WS_OP_TEXT, "second");
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 1);
	ck_assert_uint_eq(L.msglen, 18 + 6);
	ck_assert_mem_eq(L.msg, "Hello, w\xc3\xb6rld \xf0\x9f\x98\x80" "second",
	    24);
	ck_assert_int_eq(L.n, 2);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	ck_assert_uint_eq(L.ev[0].at, 6 + 18);
	ck_assert_int_eq(L.ev[1].type, WS_EV_END);
	ck_assert_uint_eq(L.ev[1].at, n);
}
END_TEST

START_TEST(test_decode_empty_text)
{
	struct ws_decoder d;
	uint8_t		 buf[16];
	size_t		 n = sframe(buf, 1, WS_OP_TEXT, "");

	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.ndata, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
}
END_TEST

static void
check_long(size_t len, size_t hdrlen, size_t chunk)
{
	struct ws_decoder d;
	uint8_t		*pl, *buf;
	size_t		 n, i;

	pl = malloc(len);
	buf = malloc(len + 14);
	ck_assert_ptr_nonnull(pl);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < len; i++)
		pl[i] = (uint8_t)('a' + i % 26);
	n = frame(buf, 1, 0, WS_OP_TEXT, pl, len, 1);
	ck_assert_uint_eq(n, len + hdrlen);
	ws_decoder_init(&d, 1 << 20);
	run(&d, buf, n, chunk);
	ck_assert_uint_eq(L.msglen, len);
	ck_assert_mem_eq(L.msg, pl, len);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	free(pl);
	free(buf);
}

START_TEST(test_decode_16bit_length)
{
	check_long(126, 8, 0);
	check_long(300, 8, 7);
	check_long(65535, 8, 0);
}
END_TEST

START_TEST(test_decode_64bit_length)
{
	check_long(65536, 14, 0);
	check_long(70001, 14, 4096);
}
END_TEST

START_TEST(test_decode_fragmented_with_ping)
{
	struct ws_decoder d;
	uint8_t		 buf[128];
	size_t		 n, chunk;

	for (chunk = 0; chunk <= 1; chunk++) {
		n = sframe(buf, 0, WS_OP_TEXT, "Hel");
		n += sframe(buf + n, 1, WS_OP_PING, "are you there");
		n += sframe(buf + n, 0, WS_OP_CONT, "lo ");
		n += sframe(buf + n, 1, WS_OP_CONT, "world");
		n += sframe(buf + n, 1, WS_OP_PONG, "");
		ws_decoder_init(&d, 1000);
		run(&d, buf, n, chunk);
		ck_assert_uint_eq(L.msglen, 11);
		ck_assert_mem_eq(L.msg, "Hello world", 11);
		ck_assert_int_eq(L.n, 3);
		ck_assert_int_eq(L.ev[0].type, WS_EV_PING);
		ck_assert_uint_eq(L.ev[0].len, 13);
		ck_assert_mem_eq(L.ev[0].data, "are you there", 13);
		ck_assert_uint_eq(L.ev[0].at, 9 + 19);
		ck_assert_int_eq(L.ev[1].type, WS_EV_END);
		ck_assert_int_eq(L.ev[2].type, WS_EV_PONG);
		ck_assert_uint_eq(L.ev[2].len, 0);
	}
}
END_TEST

START_TEST(test_decode_ping_125)
{
	struct ws_decoder d;
	uint8_t		 pl[125], buf[160];
	size_t		 n, i;

	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)i;
	n = frame(buf, 1, 0, WS_OP_PING, pl, 125, 1);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_PING);
	ck_assert_uint_eq(L.ev[0].len, 125);
	ck_assert_mem_eq(L.ev[0].data, pl, 125);

	/* byte by byte too */
	n = frame(buf, 1, 0, WS_OP_PING, pl, 125, 1);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 1);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_PING);
	ck_assert_uint_eq(L.ev[0].len, 125);
	ck_assert_mem_eq(L.ev[0].data, pl, 125);
}
END_TEST

/* ---- decoder: protocol errors ---- */

START_TEST(test_decode_unmasked)
{
	uint8_t	 buf[32];
	size_t	 n = frame(buf, 1, 0, WS_OP_TEXT, "hi", 2, 0);

	expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	/* detected at the second byte */
	ck_assert_uint_eq(L.ev[0].at, 2);
}
END_TEST

START_TEST(test_decode_rsv_bits)
{
	uint8_t	 buf[32];
	size_t	 n;
	int	 rsv;

	for (rsv = 1; rsv <= 7; rsv++) {
		n = frame(buf, 1, rsv, WS_OP_TEXT, "hi", 2, 1);
		expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
		ck_assert_uint_eq(L.ev[0].at, 1);
	}
}
END_TEST

START_TEST(test_decode_reserved_opcodes)
{
	uint8_t	 buf[32];
	size_t	 n;
	int	 op;

	for (op = 3; op <= 7; op++) {
		n = frame(buf, 1, 0, op, "hi", 2, 1);
		expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	}
	for (op = 0xb; op <= 0xf; op++) {
		n = frame(buf, 1, 0, op, "hi", 2, 1);
		expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	}
}
END_TEST

START_TEST(test_decode_cont_without_start)
{
	uint8_t	 buf[32];
	size_t	 n = sframe(buf, 1, WS_OP_CONT, "hi");

	expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	/* also right after a complete message */
	n = sframe(buf, 1, WS_OP_TEXT, "a");
	n += sframe(buf + n, 0, WS_OP_CONT, "b");
	expect_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	ck_assert_int_eq(L.n, 2);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
}
END_TEST

START_TEST(test_decode_text_inside_fragmented)
{
	uint8_t	 buf[32];
	size_t	 n;

	n = sframe(buf, 0, WS_OP_TEXT, "a");
	n += sframe(buf + n, 1, WS_OP_TEXT, "b");
	expect_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	ck_assert_int_eq(L.n, 1);
	ck_assert_uint_eq(L.msglen, 1);
}
END_TEST

START_TEST(test_decode_fragmented_control)
{
	uint8_t	 buf[32];
	size_t	 n;

	n = sframe(buf, 0, WS_OP_PING, "x");
	expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	n = sframe(buf, 0, WS_OP_CLOSE, "");
	expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	n = sframe(buf, 0, WS_OP_PONG, "");
	expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(test_decode_control_126)
{
	uint8_t	 pl[126], buf[160];
	size_t	 n;

	memset(pl, 'p', sizeof(pl));
	n = frame(buf, 1, 0, WS_OP_PING, pl, 126, 1);
	expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	/* reported once the header is in, before the payload */
	ck_assert_uint_eq(L.ev[0].at, 8);
	n = frame(buf, 1, 0, WS_OP_CLOSE, pl, 126, 1);
	expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(test_decode_64bit_top_bit)
{
	uint8_t	 buf[] = { 0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5,
	    0x37, 0xfa, 0x21, 0x3d, 'a', 'b', 'c', 'd', 'e' };

	expect_only_error(buf, sizeof(buf), 1000, WS_CLOSE_PROTOCOL);
	/* even with a huge max-message */
	expect_only_error(buf, sizeof(buf), UINT64_MAX, WS_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(test_decode_binary)
{
	uint8_t	 buf[32];
	size_t	 n = frame(buf, 1, 0, WS_OP_BINARY, "\x00\x01", 2, 1);

	expect_only_error(buf, n, 1000, WS_CLOSE_UNSUPPORTED);
	/* a fragmented binary message, too */
	n = frame(buf, 0, 0, WS_OP_BINARY, "\x00\x01", 2, 1);
	expect_only_error(buf, n, 1000, WS_CLOSE_UNSUPPORTED);
}
END_TEST

START_TEST(test_decode_after_error)
{
	struct ws_decoder d;
	struct ws_event	 ev;
	uint8_t		 buf[32];
	size_t		 n = frame(buf, 1, 0, WS_OP_TEXT, "hi", 2, 0);

	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.ev[0].type, WS_EV_ERROR);
	/* the decoder stays failed */
	n = sframe(buf, 1, WS_OP_TEXT, "ok");
	ws_decode(&d, buf, n, &ev);
	ck_assert_int_eq(ev.type, WS_EV_ERROR);
}
END_TEST

/* ---- decoder: UTF-8 ---- */

START_TEST(test_decode_bad_utf8)
{
	uint8_t		 buf[64];
	size_t		 n;
	struct ws_decoder d;

	/* whole: 1007 */
	n = sframe(buf, 1, WS_OP_TEXT, "abc\xc0\x80" "def");
	expect_only_error(buf, n, 1000, WS_CLOSE_BAD_DATA);

	/* byte by byte: the error comes with the bad byte (index 6+4) */
	n = sframe(buf, 1, WS_OP_TEXT, "abc\xed\xa0\x80" "def");
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 1);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_ERROR);
	ck_assert_uint_eq(L.ev[0].code, WS_CLOSE_BAD_DATA);
	ck_assert_uint_eq(L.ev[0].at, 6 + 5);
	ck_assert_uint_eq(L.msglen, 4);	/* "abc\xed" passed */
}
END_TEST

START_TEST(test_decode_bad_utf8_across_fragments)
{
	struct ws_decoder d;
	uint8_t		 buf[64];
	size_t		 n, f1;

	/* F0 9F | 41: the character is cut by an ASCII byte in fragment 2 */
	f1 = sframe(buf, 0, WS_OP_TEXT, "a\xf0\x9f");
	n = f1 + sframe(buf + f1, 1, WS_OP_CONT, "Abc");
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_uint_eq(L.msglen, 3);		/* fragment 1 passed */
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_ERROR);
	ck_assert_uint_eq(L.ev[0].code, WS_CLOSE_BAD_DATA);

	/* byte by byte: fails at the first payload byte of fragment 2 */
	f1 = sframe(buf, 0, WS_OP_TEXT, "a\xf0\x9f");
	n = f1 + sframe(buf + f1, 1, WS_OP_CONT, "Abc");
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 1);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_ERROR);
	ck_assert_uint_eq(L.ev[0].code, WS_CLOSE_BAD_DATA);
	ck_assert_uint_eq(L.ev[0].at, f1 + 6 + 1);

	/* and a valid character split across fragments passes */
	f1 = sframe(buf, 0, WS_OP_TEXT, "a\xf0\x9f");
	n = f1 + sframe(buf + f1, 1, WS_OP_CONT, "\x98\x80z");
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	ck_assert_mem_eq(L.msg, "a\xf0\x9f\x98\x80z", 6);
}
END_TEST

START_TEST(test_decode_text_ends_inside_char)
{
	uint8_t		 buf[64];
	size_t		 n;

	n = sframe(buf, 1, WS_OP_TEXT, "abc\xe2\x82");
	expect_error(buf, n, 1000, WS_CLOSE_BAD_DATA);
	ck_assert_int_eq(L.n, 1);
	ck_assert_uint_eq(L.msglen, 5);
	/* fragmented: the last fragment ends mid-character */
	n = sframe(buf, 0, WS_OP_TEXT, "abc");
	n += sframe(buf + n, 1, WS_OP_CONT, "\xc3");
	expect_error(buf, n, 1000, WS_CLOSE_BAD_DATA);
	ck_assert_int_eq(L.n, 1);
}
END_TEST

/* ---- decoder: max-message ---- */

static size_t
text_of(uint8_t *buf, int fin, int op, size_t len)
{
	uint8_t	*pl = malloc(len + 1);
	size_t	 n;

	ck_assert_ptr_nonnull(pl);
	memset(pl, 'm', len);
	n = frame(buf, fin, 0, op, pl, len, 1);
	free(pl);
	return n;
}

START_TEST(test_decode_max_message)
{
	static uint8_t	 buf[4096];
	struct ws_decoder d;
	size_t		 n;

	/* exactly max: OK */
	n = text_of(buf, 1, WS_OP_TEXT, 1000);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	ck_assert_uint_eq(L.msglen, 1000);

	/* max + 1: 1009, before any data */
	n = text_of(buf, 1, WS_OP_TEXT, 1001);
	expect_only_error(buf, n, 1000, WS_CLOSE_TOO_BIG);

	/* fragmented to exactly max: OK */
	n = text_of(buf, 0, WS_OP_TEXT, 600);
	n += text_of(buf + n, 0, WS_OP_CONT, 0);
	n += text_of(buf + n, 1, WS_OP_CONT, 400);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	ck_assert_uint_eq(L.msglen, 1000);

	/* the excess in a later fragment */
	n = text_of(buf, 0, WS_OP_TEXT, 600);
	n += text_of(buf + n, 1, WS_OP_CONT, 401);
	expect_error(buf, n, 1000, WS_CLOSE_TOO_BIG);
	ck_assert_int_eq(L.n, 1);
	ck_assert_uint_eq(L.msglen, 600);

	/* the limit is per message: two messages of max each are fine */
	n = text_of(buf, 1, WS_OP_TEXT, 1000);
	n += text_of(buf + n, 1, WS_OP_TEXT, 1000);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 2);
	ck_assert_int_eq(L.ev[1].type, WS_EV_END);

	/* control frames do not count */
	n = text_of(buf, 0, WS_OP_TEXT, 1000);
	n += text_of(buf + n, 1, WS_OP_PING, 100);
	n += text_of(buf + n, 1, WS_OP_CONT, 0);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 2);
	ck_assert_int_eq(L.ev[0].type, WS_EV_PING);
	ck_assert_int_eq(L.ev[1].type, WS_EV_END);
}
END_TEST

/* ---- decoder: close ---- */

START_TEST(test_decode_max_fragments)
{
	static uint8_t	 buf[4096];
	struct ws_decoder d;
	size_t		 n;
	int		 i;

	/* a text frame and exactly 3 continuations, with 3 allowed: OK */
	n = text_of(buf, 0, WS_OP_TEXT, 10);
	for (i = 0; i < 2; i++)
		n += text_of(buf + n, 0, WS_OP_CONT, 10);
	n += text_of(buf + n, 1, WS_OP_CONT, 10);
	ws_decoder_init(&d, 1000);
	d.max_fragments = 3;
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	ck_assert_uint_eq(L.msglen, 40);

	/* the count starts again with each message */
	n = text_of(buf, 0, WS_OP_TEXT, 1);
	n += text_of(buf + n, 0, WS_OP_CONT, 1);
	n += text_of(buf + n, 1, WS_OP_CONT, 1);
	n += text_of(buf + n, 0, WS_OP_TEXT, 1);
	n += text_of(buf + n, 0, WS_OP_CONT, 1);
	n += text_of(buf + n, 1, WS_OP_CONT, 1);
	ws_decoder_init(&d, 1000);
	d.max_fragments = 2;
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 2);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	ck_assert_int_eq(L.ev[1].type, WS_EV_END);

	/* a fourth continuation: 1009, reported after its header */
	n = text_of(buf, 0, WS_OP_TEXT, 10);
	for (i = 0; i < 3; i++)
		n += text_of(buf + n, 0, WS_OP_CONT, 10);
	n += text_of(buf + n, 1, WS_OP_CONT, 0);
	ws_decoder_init(&d, 1000);
	d.max_fragments = 3;
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_ERROR);
	ck_assert_uint_eq(L.ev[0].code, WS_CLOSE_TOO_BIG);
	ck_assert_uint_eq(L.msglen, 40);
	ck_assert_uint_eq(L.ev[0].at, n);
	/* byte by byte (the decoder unmasked buf: build it again) */
	n = text_of(buf, 0, WS_OP_TEXT, 10);
	for (i = 0; i < 3; i++)
		n += text_of(buf + n, 0, WS_OP_CONT, 10);
	n += text_of(buf + n, 1, WS_OP_CONT, 0);
	ws_decoder_init(&d, 1000);
	d.max_fragments = 3;
	run(&d, buf, n, 1);
	ck_assert_int_eq(L.ev[L.n - 1].type, WS_EV_ERROR);
	ck_assert_uint_eq(L.ev[L.n - 1].code, WS_CLOSE_TOO_BIG);

	/* 0: no fragmented message at all; whole ones still pass */
	n = text_of(buf, 1, WS_OP_TEXT, 5);
	n += text_of(buf + n, 0, WS_OP_TEXT, 5);
	n += text_of(buf + n, 1, WS_OP_CONT, 5);
	ws_decoder_init(&d, 1000);
	d.max_fragments = 0;
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 2);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
	ck_assert_int_eq(L.ev[1].type, WS_EV_ERROR);
	ck_assert_uint_eq(L.ev[1].code, WS_CLOSE_TOO_BIG);

	/* by default there is no limit */
	n = text_of(buf, 0, WS_OP_TEXT, 0);
	for (i = 0; i < 300; i++)
		n += text_of(buf + n, 0, WS_OP_CONT, 0);
	n += text_of(buf + n, 1, WS_OP_CONT, 1);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_END);
}
END_TEST

START_TEST(test_decode_close_empty)
{
	struct ws_decoder d;
	uint8_t		 buf[16];
	size_t		 n = sframe(buf, 1, WS_OP_CLOSE, "");

	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_CLOSE);
	ck_assert_uint_eq(L.ev[0].code, WS_CLOSE_NO_STATUS);
	ck_assert_uint_eq(L.ev[0].len, 0);
}
END_TEST

START_TEST(test_decode_close_one_byte)
{
	uint8_t	 buf[16];
	size_t	 n = frame(buf, 1, 0, WS_OP_CLOSE, "\x03", 1, 1);

	expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(test_decode_close_with_reason)
{
	struct ws_decoder d;
	uint8_t		 buf[160];
	char		 reason[124];
	size_t		 n;

	for (int chunk = 0; chunk <= 1; chunk++) {
		n = close_frame(buf, 1000, "bye \xc3\xa9", 6);
		ws_decoder_init(&d, 1000);
		run(&d, buf, n, (size_t)chunk);
		ck_assert_int_eq(L.n, 1);
		ck_assert_int_eq(L.ev[0].type, WS_EV_CLOSE);
		ck_assert_uint_eq(L.ev[0].code, 1000);
		ck_assert_uint_eq(L.ev[0].len, 6);
		ck_assert_mem_eq(L.ev[0].data, "bye \xc3\xa9", 6);
	}
	/* code only */
	n = close_frame(buf, 1001, "", 0);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.ev[0].type, WS_EV_CLOSE);
	ck_assert_uint_eq(L.ev[0].code, 1001);
	ck_assert_uint_eq(L.ev[0].len, 0);
	/* longest reason: 123 bytes */
	memset(reason, 'r', 123);
	n = close_frame(buf, 4000, reason, 123);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_int_eq(L.ev[0].type, WS_EV_CLOSE);
	ck_assert_uint_eq(L.ev[0].code, 4000);
	ck_assert_uint_eq(L.ev[0].len, 123);
	ck_assert_mem_eq(L.ev[0].data, reason, 123);
}
END_TEST

START_TEST(test_decode_close_codes)
{
	static const unsigned bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016,
	    2999, 5000, 65535 };
	static const unsigned good[] = { 1000, 1001, 1002, 1003, 1007, 1008,
	    1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999 };
	struct ws_decoder d;
	uint8_t		 buf[32];
	size_t		 i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = close_frame(buf, bad[i], "", 0);
		expect_only_error(buf, n, 1000, WS_CLOSE_PROTOCOL);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = close_frame(buf, good[i], "x", 1);
		ws_decoder_init(&d, 1000);
		run(&d, buf, n, 0);
		ck_assert_int_eq(L.n, 1);
		ck_assert_msg(L.ev[0].type == WS_EV_CLOSE, "code %u", good[i]);
		ck_assert_uint_eq(L.ev[0].code, good[i]);
	}
}
END_TEST

START_TEST(test_decode_close_bad_reason)
{
	uint8_t	 buf[32];
	size_t	 n;

	n = close_frame(buf, 1000, "ab\xff", 3);
	expect_only_error(buf, n, 1000, WS_CLOSE_BAD_DATA);
	/* a reason ending inside a character */
	n = close_frame(buf, 1000, "ab\xe2\x82", 4);
	expect_only_error(buf, n, 1000, WS_CLOSE_BAD_DATA);
}
END_TEST

START_TEST(test_decode_close_inside_fragmented)
{
	struct ws_decoder d;
	uint8_t		 buf[64];
	size_t		 n;

	n = sframe(buf, 0, WS_OP_TEXT, "part");
	n += close_frame(buf + n, 1000, "", 0);
	ws_decoder_init(&d, 1000);
	run(&d, buf, n, 0);
	ck_assert_uint_eq(L.msglen, 4);
	ck_assert_int_eq(L.n, 1);
	ck_assert_int_eq(L.ev[0].type, WS_EV_CLOSE);
	ck_assert_uint_eq(L.ev[0].code, 1000);
}
END_TEST

/* ---- upgrade checks ---- */

struct upg {
	char			 text[2048];
	struct http_request	 req;
	const struct http_hdr	*key;
};

/* Parse text as a request head and run ws_upgrade_check on it. */
static int
upgrade(struct upg *u, const char *text)
{
	struct http_parser	 p;
	int			 rc;

	snprintf(u->text, sizeof(u->text), "%s", text);
	http_parser_init(&p);
	rc = http_parse(&p, u->text, strlen(u->text), &u->req);
	ck_assert_msg(rc == (int)strlen(u->text), "http_parse: %d", rc);
	u->key = NULL;
	return ws_upgrade_check(&u->req, &u->key);
}

#define HOST	"Host: example.com\r\n"
#define KEY	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define VER	"Sec-WebSocket-Version: 13\r\n"
#define UPG	"Upgrade: websocket\r\n"
#define CONN	"Connection: Upgrade\r\n"

START_TEST(test_upgrade_valid)
{
	struct upg	 u;

	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG CONN KEY
	    VER "\r\n"), 0);
	ck_assert_ptr_nonnull(u.key);
	ck_assert_uint_eq(u.key->vlen, 24);
	ck_assert_mem_eq(u.key->val, "dGhlIHNhbXBsZSBub25jZQ==", 24);
	ck_assert_ptr_eq(u.key->val, strstr(u.text, "dGhl"));
}
END_TEST

START_TEST(test_upgrade_version)
{
	struct upg	 u;

	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG CONN KEY
	    "Sec-WebSocket-Version: 8\r\n\r\n"), 426);
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG CONN KEY
	    "Sec-WebSocket-Version: 130\r\n\r\n"), 426);
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG CONN KEY
	    "\r\n"), 400);
}
END_TEST

START_TEST(test_upgrade_key)
{
	struct upg	 u;

	/* missing */
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG CONN VER
	    "\r\n"), 400);
	/* invalid */
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG CONN VER
	    "Sec-WebSocket-Key: short==\r\n\r\n"), 400);
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG CONN VER
	    "Sec-WebSocket-Key: \r\n\r\n"), 400);
	/* twice */
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG CONN VER
	    KEY KEY "\r\n"), 400);
}
END_TEST

START_TEST(test_upgrade_headers)
{
	struct upg	 u;

	/* no Upgrade header */
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST CONN KEY VER
	    "\r\n"), 400);
	/* Upgrade to something else */
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST
	    "Upgrade: h2c\r\n" CONN KEY VER "\r\n"), 400);
	/* no Connection header */
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG KEY VER
	    "\r\n"), 400);
	/* Connection without the Upgrade token */
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG
	    "Connection: keep-alive\r\n" KEY VER "\r\n"), 400);
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG
	    "Connection: Upgraded\r\n" KEY VER "\r\n"), 400);
	/* token lists */
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST UPG
	    "Connection: keep-alive, Upgrade\r\n" KEY VER "\r\n"), 0);
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n" HOST
	    "Upgrade: foo/1, WebSocket\r\n"
	    "Connection: upgrade,keep-alive\r\n" KEY VER "\r\n"), 0);
}
END_TEST

START_TEST(test_upgrade_case_insensitive_names)
{
	struct upg	 u;

	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.1\r\n"
	    "host: example.com\r\n"
	    "UPGRADE: websocket\r\n"
	    "connection: upgrade\r\n"
	    "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "SEC-WEBSOCKET-VERSION: 13\r\n\r\n"), 0);
	ck_assert_ptr_nonnull(u.key);
	ck_assert_mem_eq(u.key->val, "dGhlIHNhbXBsZSBub25jZQ==", 24);
}
END_TEST

START_TEST(test_upgrade_method_version)
{
	struct upg	 u;

	ck_assert_int_eq(upgrade(&u, "POST /ws HTTP/1.1\r\n" HOST UPG CONN KEY
	    VER "\r\n"), 405);
	ck_assert_int_eq(upgrade(&u, "HEAD /ws HTTP/1.1\r\n" HOST UPG CONN KEY
	    VER "\r\n"), 405);
	/* methods are case-sensitive */
	ck_assert_int_eq(upgrade(&u, "get /ws HTTP/1.1\r\n" HOST UPG CONN KEY
	    VER "\r\n"), 405);
	ck_assert_int_eq(upgrade(&u, "GET /ws HTTP/1.0\r\n" HOST UPG CONN KEY
	    VER "\r\n"), 400);
}
END_TEST

static Suite *
ws_suite(void)
{
	Suite	*s = suite_create("ws");
	TCase	*tc;

	tc = tcase_create("encode");
	tcase_add_test(tc, test_sha1_vectors);
	tcase_add_test(tc, test_accept_key_rfc);
	tcase_add_test(tc, test_key_valid);
	tcase_add_test(tc, test_header_lengths);
	tcase_add_test(tc, test_close_payload);
	tcase_add_test(tc, test_close_code_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_test(tc, test_decode_single_text);
	tcase_add_test(tc, test_decode_rfc_example);
	tcase_add_test(tc, test_decode_bytewise);
	tcase_add_test(tc, test_decode_empty_text);
	tcase_add_test(tc, test_decode_16bit_length);
	tcase_add_test(tc, test_decode_64bit_length);
	tcase_add_test(tc, test_decode_fragmented_with_ping);
	tcase_add_test(tc, test_decode_ping_125);
	tcase_add_test(tc, test_decode_unmasked);
	tcase_add_test(tc, test_decode_rsv_bits);
	tcase_add_test(tc, test_decode_reserved_opcodes);
	tcase_add_test(tc, test_decode_cont_without_start);
	tcase_add_test(tc, test_decode_text_inside_fragmented);
	tcase_add_test(tc, test_decode_fragmented_control);
	tcase_add_test(tc, test_decode_control_126);
	tcase_add_test(tc, test_decode_64bit_top_bit);
	tcase_add_test(tc, test_decode_binary);
	tcase_add_test(tc, test_decode_after_error);
	tcase_add_test(tc, test_decode_bad_utf8);
	tcase_add_test(tc, test_decode_bad_utf8_across_fragments);
	tcase_add_test(tc, test_decode_text_ends_inside_char);
	tcase_add_test(tc, test_decode_max_message);
	tcase_add_test(tc, test_decode_max_fragments);
	tcase_add_test(tc, test_decode_close_empty);
	tcase_add_test(tc, test_decode_close_one_byte);
	tcase_add_test(tc, test_decode_close_with_reason);
	tcase_add_test(tc, test_decode_close_codes);
	tcase_add_test(tc, test_decode_close_bad_reason);
	tcase_add_test(tc, test_decode_close_inside_fragmented);
	suite_add_tcase(s, tc);

	tc = tcase_create("upgrade");
	tcase_add_test(tc, test_upgrade_valid);
	tcase_add_test(tc, test_upgrade_version);
	tcase_add_test(tc, test_upgrade_key);
	tcase_add_test(tc, test_upgrade_headers);
	tcase_add_test(tc, test_upgrade_case_insensitive_names);
	tcase_add_test(tc, test_upgrade_method_version);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(ws_suite());
	int	 failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
