/*
 * WebSocket frame decoder.  The first input byte picks a mode:
 *
 *   even: the rest (after a max-message choice) is a client byte stream,
 *         decoded whole, in random chunks and byte by byte; every call
 *         must keep the decoder's contract, and the three runs must report
 *         the same messages, control frames and error;
 *   odd:  the rest describes messages, control frames and fragmentation;
 *         the fuzzer encodes them as masked client frames itself, decodes
 *         the stream in random chunks and compares with what it encoded.
 *         Then ws_header, ws_close_payload and ws_key_valid round trips.
 */
#include "config.h"

#include <string.h>

#include "ws.h"
#include "fuzz.h"

/* An event log: one record per message, control frame or error. */
struct evlog {
	struct bbuf	 b;
};

static void
log_add(struct evlog *l, int type, uint16_t code, const char *why,
    const uint8_t *p, size_t n)
{
	uint8_t	 h[1 + 2 + sizeof(why) + 8];
	uint64_t len = n;

	h[0] = (uint8_t)type;
	h[1] = (uint8_t)(code >> 8);
	h[2] = (uint8_t)code;
	memcpy(h + 3, &why, sizeof(why));
	memcpy(h + 3 + sizeof(why), &len, 8);
	FUZZ_CHECK(bbuf_append(&l->b, h, sizeof(h)) == 0);
	if (n > 0)
		FUZZ_CHECK(bbuf_append(&l->b, p, n) == 0);
}

static int
same_log(const struct evlog *a, const struct evlog *b)
{
	return bbuf_size(&a->b) == bbuf_size(&b->b) &&
	    (bbuf_size(&a->b) == 0 ||
	    memcmp(bbuf_head(&a->b), bbuf_head(&b->b), bbuf_size(&a->b)) == 0);
}

#define SPLIT_WHOLE	0
#define SPLIT_RANDOM	1
#define SPLIT_BYTES	2

/*
 * Decode in[0, n) fed in pieces, checking every call; log what it
 * reports.  keep_why: log the error's reason (raw mode: it must not depend
 * on the split) or only its code (round trip: several reasons are right).
 * Returns 1 if it stopped at an error.
 */
static int
decode_stream(const uint8_t *in, size_t n, uint64_t max, int split,
    uint64_t *rng, int keep_why, struct evlog *log)
{
	struct ws_decoder d;
	struct ws_event	 ev;
	struct bbuf	 msg;
	uint8_t		*buf;
	const uint8_t	*mp;
	size_t		 off = 0, end = 0, used, calls = 0;
	int		 failed = 0;

	/* ws_decode unmasks in place: work on a copy. */
	if ((buf = malloc(n ? n : 1)) == NULL)
		return 0;
	if (n > 0)
		memcpy(buf, in, n);
	bbuf_init(&msg);
	ws_decoder_init(&d, max);
	for (;;) {
		FUZZ_CHECK(++calls <= 3 * n + 10);
		used = ws_decode(&d, buf + off, end - off, &ev);
		FUZZ_CHECK(used <= end - off);
		switch (ev.type) {
		case WS_EV_NEED:
			FUZZ_CHECK(used == end - off);
			off += used;
			if (off == n)
				goto done;
			if (split == SPLIT_WHOLE)
				end = n;
			else if (split == SPLIT_BYTES)
				end = off + 1;
			else
				end = off + fz_chunk(rng, n - off);
			continue;
		case WS_EV_DATA:
			FUZZ_CHECK(ev.len >= 1 && ev.len <= used);
			FUZZ_CHECK(ev.data == buf + off + used - ev.len);
			FUZZ_CHECK(bbuf_size(&msg) + ev.len <= max);
			FUZZ_CHECK(bbuf_append(&msg, ev.data, ev.len) == 0);
			break;
		case WS_EV_END:
			/*
			 * Take the message as the worker does (worker.c,
			 * on_text): bbuf_head() of a buffer that may be empty
			 * and never allocated, as for an empty first message
			 * (regressions/ws/empty-text-message-null-head.bin).
			 */
			mp = bbuf_head(&msg);
			FUZZ_CHECK(fz_ref_valid(mp, bbuf_size(&msg)));
			FUZZ_CHECK(bbuf_size(&msg) <= max);
			log_add(log, WS_EV_END, 0, NULL, mp, bbuf_size(&msg));
			bbuf_reset(&msg);
			break;
		case WS_EV_PING:
		case WS_EV_PONG:
			FUZZ_CHECK(ev.len <= WS_MAX_CONTROL);
			FUZZ_CHECK(ev.len == 0 || ev.data != NULL);
			log_add(log, ev.type, 0, NULL, ev.data, ev.len);
			break;
		case WS_EV_CLOSE:
			if (ev.code == WS_CLOSE_NO_STATUS)
				FUZZ_CHECK(ev.len == 0);
			else
				FUZZ_CHECK(ws_close_code_valid(ev.code));
			FUZZ_CHECK(ev.len <= WS_MAX_CONTROL - 2);
			FUZZ_CHECK(ev.len == 0 || fz_ref_valid(ev.data, ev.len));
			log_add(log, ev.type, ev.code, NULL, ev.data, ev.len);
			break;
		case WS_EV_ERROR:
			FUZZ_CHECK(ev.code == WS_CLOSE_PROTOCOL ||
			    ev.code == WS_CLOSE_UNSUPPORTED ||
			    ev.code == WS_CLOSE_BAD_DATA ||
			    ev.code == WS_CLOSE_TOO_BIG);
			FUZZ_CHECK(ev.why != NULL);
			log_add(log, ev.type, ev.code, keep_why ? ev.why : NULL,
			    NULL, 0);
			/* Sticky, and eats nothing more. */
			off += used;
			FUZZ_CHECK(ws_decode(&d, buf + off, n - off, &ev) == 0);
			FUZZ_CHECK(ev.type == WS_EV_ERROR);
			failed = 1;
			goto done;
		default:
			FUZZ_CHECK(!"unknown event type");
		}
		/* At most one event per call: the rest waits for the next. */
		off += used;
	}
 done:
	bbuf_free(&msg);
	free(buf);
	return failed;
}

static void
raw_mode(struct fz *f, uint8_t mode)
{
	struct evlog	 a, b, c;
	uint64_t	 max, rng;
	int		 fa, fb, fc;

	switch ((mode >> 1) & 3) {
	case 0:
		max = fz_u8(f);
		break;
	case 1:
		max = fz_u16(f);
		break;
	case 2:
		max = DEF_MAX_MESSAGE;
		break;
	default:
		max = UINT64_MAX;
		break;
	}
	rng = fz_hash(f->p, f->n);
	bbuf_init(&a.b);
	bbuf_init(&b.b);
	bbuf_init(&c.b);
	fa = decode_stream(f->p, f->n, max, SPLIT_WHOLE, &rng, 1, &a);
	fb = decode_stream(f->p, f->n, max, SPLIT_RANDOM, &rng, 1, &b);
	FUZZ_CHECK(fa == fb && same_log(&a, &b));
	if (f->n <= 4096) {
		fc = decode_stream(f->p, f->n, max, SPLIT_BYTES, &rng, 1, &c);
		FUZZ_CHECK(fa == fc && same_log(&a, &c));
	}
	bbuf_free(&a.b);
	bbuf_free(&b.b);
	bbuf_free(&c.b);
}

/* Our own client-frame encoder: masked, minimal length encoding. */
static void
put_frame(struct bbuf *out, int fin, int op, const uint8_t *p, size_t n,
    uint32_t key)
{
	uint8_t	 h[14], *w;
	size_t	 hl, i;

	h[0] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (n < 126) {
		h[1] = (uint8_t)(0x80 | n);
		hl = 2;
	} else if (n <= 0xffff) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	for (i = 0; i < 4; i++)
		h[hl + i] = (uint8_t)(key >> (24 - 8 * i));
	FUZZ_CHECK(bbuf_append(out, h, hl + 4) == 0);
	if (n == 0)
		return;
	FUZZ_CHECK((w = bbuf_reserve(out, n)) != NULL);
	for (i = 0; i < n; i++)
		w[i] = p[i] ^ h[hl + (i & 3)];
	bbuf_commit(out, n);
}

static const uint16_t close_codes[] = {
	1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
	1014, 3000, 3999, 4000, 4999
};

static void
roundtrip_mode(struct fz *f)
{
	struct bbuf	 out;
	struct evlog	 want, got;
	const uint8_t	*p;
	uint8_t		 ctl[WS_MAX_CONTROL];
	uint64_t	 rng;
	size_t		 n, k, items, nfrag, cut, prev, i;
	uint8_t		 kind;
	int		 stopped = 0, failed, valid;

	bbuf_init(&out);
	bbuf_init(&want.b);
	bbuf_init(&got.b);
	items = fz_u8(f) % 8 + 1;
	for (k = 0; k < items && !stopped; k++) {
		kind = fz_u8(f);
		switch (kind % 4) {
		case 0:
		case 1:
			/* A text message in 1 to 4 fragments, pings between. */
			n = fz_bytes(f, fz_u16(f) % 2048, &p);
			valid = fz_ref_valid(p, n);
			nfrag = fz_u8(f) % 4 + 1;
			for (prev = 0, i = 0; i < nfrag; i++) {
				cut = i + 1 == nfrag ? n :
				    prev + (n - prev ? fz_u16(f) % (n - prev + 1) : 0);
				put_frame(&out, i + 1 == nfrag,
				    i ? WS_OP_CONT : WS_OP_TEXT, p + prev,
				    cut - prev, fz_u32(f));
				prev = cut;
				/* (Only in valid text: a ping after the
				 * bad byte would never be reached.) */
				if (i + 1 < nfrag && (kind & 4) && valid) {
					put_frame(&out, 1, WS_OP_PING,
					    (const uint8_t *)"x", 1, fz_u32(f));
					log_add(&want, WS_EV_PING, 0, NULL,
					    (const uint8_t *)"x", 1);
				}
			}
			if (valid)
				log_add(&want, WS_EV_END, 0, NULL, p, n);
			else {
				/* Refused at the first bad byte or at the end. */
				log_add(&want, WS_EV_ERROR, WS_CLOSE_BAD_DATA,
				    NULL, NULL, 0);
				stopped = 1;
			}
			break;
		case 2:
		case 3:
			n = fz_bytes(f, fz_u8(f) % (WS_MAX_CONTROL + 1), &p);
			put_frame(&out, 1, kind % 4 == 2 ? WS_OP_PING :
			    WS_OP_PONG, p, n, fz_u32(f));
			log_add(&want, kind % 4 == 2 ? WS_EV_PING : WS_EV_PONG,
			    0, NULL, p, n);
			break;
		}
	}
	if (!stopped && (fz_u8(f) & 1)) {
		/* End with a close made by ws_close_payload. */
		uint16_t code = close_codes[fz_u8(f) % (sizeof(close_codes) /
		    sizeof(close_codes[0]))];
		char	 reason[200];

		n = fz_bytes(f, fz_u8(f) % sizeof(reason), &p);
		memcpy(reason, p, n);
		reason[n] = '\0';
		n = ws_close_payload(ctl, code, reason);
		FUZZ_CHECK(n >= 2 && n <= WS_MAX_CONTROL);
		FUZZ_CHECK(ctl[0] == code >> 8 && ctl[1] == (code & 0xff));
		FUZZ_CHECK(memcmp(ctl + 2, reason, n - 2) == 0);
		FUZZ_CHECK(fz_ref_valid(ctl + 2, n - 2));
		i = strlen(reason);
		if (fz_ref_valid((const uint8_t *)reason, i)) {
			/* All of it, or cut at the last boundary that fits. */
			if (i <= WS_MAX_CONTROL - 2)
				FUZZ_CHECK(n - 2 == i);
			else
				for (k = n - 1; k <= WS_MAX_CONTROL - 2; k++)
					FUZZ_CHECK((reason[k] & 0xc0) == 0x80);
		}
		put_frame(&out, 1, WS_OP_CLOSE, ctl, n, fz_u32(f));
		log_add(&want, WS_EV_CLOSE, code, NULL, ctl + 2, n - 2);
	}

	rng = fz_hash(fz_head(&out), bbuf_size(&out));
	failed = decode_stream(fz_head(&out), bbuf_size(&out), UINT64_MAX,
	    SPLIT_RANDOM, &rng, 0, &got);
	FUZZ_CHECK(failed == stopped);
	FUZZ_CHECK(same_log(&want, &got));
	bbuf_free(&out);
	bbuf_free(&want.b);
	bbuf_free(&got.b);
}

/* ws_header encodes any length so that the decoder reads it back. */
static void
header_roundtrip(struct fz *f)
{
	static const int ops[] = { WS_OP_TEXT, WS_OP_BINARY, WS_OP_CLOSE,
	    WS_OP_PING, WS_OP_PONG, WS_OP_CONT };
	struct ws_decoder d;
	struct ws_event	 ev;
	uint8_t		 h[WS_MAX_HEADER + 4];
	uint64_t	 len, v;
	size_t		 hl, i, used;
	int		 op;

	op = ops[fz_u8(f) % 6];
	len = (fz_u64(f) >> (fz_u8(f) % 64)) & (UINT64_MAX >> 1);
	hl = ws_header(h, op, len);
	FUZZ_CHECK(h[0] == (0x80 | op));
	FUZZ_CHECK((h[1] & 0x80) == 0);
	if (len < 126)
		FUZZ_CHECK(hl == 2 && h[1] == len);
	else if (len <= 0xffff)
		FUZZ_CHECK(hl == 4 && h[1] == 126 &&
		    ((uint64_t)h[2] << 8 | h[3]) == len);
	else {
		FUZZ_CHECK(hl == 10 && h[1] == 127);
		for (v = 0, i = 0; i < 8; i++)
			v = v << 8 | h[2 + i];
		FUZZ_CHECK(v == len);
	}
	if (op != WS_OP_TEXT)
		return;
	/* Mask it as a client would; the decoder must see that length. */
	h[1] |= 0x80;
	memset(h + hl, 0x5a, 4);
	ws_decoder_init(&d, UINT64_MAX);
	used = ws_decode(&d, h, hl + 4, &ev);
	FUZZ_CHECK(used == hl + 4);
	FUZZ_CHECK(ev.type == (len == 0 ? WS_EV_END : WS_EV_NEED));
	if (len > 0)
		FUZZ_CHECK(d.flen == len);
}

static int
b64c(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static void
key_check(struct fz *f)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t	*p;
	size_t		 n, i;
	int		 want;
	char		 acc[WS_ACCEPT_LEN + 1];

	n = fz_bytes(f, fz_u8(f) % 32, &p);
	/* 16 bytes: 22 digits, the last with 4 zero bits, then "==". */
	want = n == 24 && p[22] == '=' && p[23] == '=';
	for (i = 0; want && i < 22; i++)
		want = b64c(p[i]);
	if (want)
		want = (strchr(digits, p[21]) - digits) % 16 == 0;
	FUZZ_CHECK(ws_key_valid((const char *)p, n) == want);
	if (want) {
		FUZZ_CHECK(ws_accept_key((const char *)p, n, acc) == 0);
		FUZZ_CHECK(strlen(acc) == WS_ACCEPT_LEN);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	 f = { data, size };
	uint8_t		 mode = fz_u8(&f);
	unsigned	 c;

	if ((mode & 1) == 0) {
		raw_mode(&f, mode);
		return 0;
	}
	roundtrip_mode(&f);
	header_roundtrip(&f);
	key_check(&f);
	for (c = 0; c < 5100; c += 1 + fz_u8(&f))
		FUZZ_CHECK(ws_close_code_valid(c) == ((c >= 1000 &&
		    c <= 1003) || (c >= 1007 && c <= 1014) ||
		    (c >= 3000 && c <= 4999)));
	return 0;
}
