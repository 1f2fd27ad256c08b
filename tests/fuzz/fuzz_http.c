/*
 * HTTP request heads: http_parse fed one-shot, in random-sized prefixes
 * and byte by byte must give the same answer; a parsed head must satisfy
 * the grammar it was accepted under, point inside the buffer, survive a
 * re-encoding (print the request again, parse it, compare), and the
 * helpers (http_get, http_count, http_has_token, http_path_decode,
 * ws_upgrade_check) must agree with straightforward references.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "http.h"
#include "ws.h"
#include "fuzz.h"

static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

static int
inside(const char *buf, size_t len, const char *p, size_t n)
{
	return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

static int
same_name(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && strncasecmp(a, b, al) == 0;
}

/* Reference for http_has_token. */
static int
ref_has_token(const struct http_hdr *h, const char *tok, size_t tl)
{
	size_t	 i = 0, s, e;

	if (h == NULL)
		return 0;
	while (i <= h->vlen) {
		s = i;
		while (i < h->vlen && h->val[i] != ',')
			i++;
		e = i;
		while (s < e && (h->val[s] == ' ' || h->val[s] == '\t'))
			s++;
		while (e > s && (h->val[e - 1] == ' ' || h->val[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(h->val + s, tok, tl) == 0)
			return 1;
		i++;
	}
	return 0;
}

static int
hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reference for http_path_decode with unbounded output. */
static int
ref_path_decode(const char *t, size_t tl, char *out, size_t *olen)
{
	size_t	 i, o = 0;
	int	 c;

	*olen = 0;
	if (tl == 0 || t[0] != '/')
		return 400;
	for (i = 0; i < tl; i++) {
		if (t[i] == '?' || t[i] == '#')
			break;
		if (t[i] != '%') {
			out[o++] = t[i];
			continue;
		}
		*olen = o;	/* how far it got, for the 400 */
		if (tl - i < 3 || hexv(t[i + 1]) < 0 || hexv(t[i + 2]) < 0)
			return 400;
		c = hexv(t[i + 1]) * 16 + hexv(t[i + 2]);
		if (c == 0)
			return 400;
		out[o++] = (char)c;
		i += 2;
	}
	*olen = o;
	return 0;
}

static void
check_path(const char *t, size_t tl, int from_parser)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 8, 64, 4096 };
	char	*ref, *out;
	size_t	 rlen = 0, i, sz;
	int	 rrc, rc;

	if ((ref = malloc(tl + 1)) == NULL)
		return;
	rrc = ref_path_decode(t, tl, ref, &rlen);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]) + 2; i++) {
		if (i == sizeof(sizes) / sizeof(sizes[0]))
			sz = rlen + 1;
		else if (i == sizeof(sizes) / sizeof(sizes[0]) + 1)
			sz = rlen;
		else
			sz = sizes[i];
		/* Exactly sz bytes, so that ASan catches any overflow. */
		out = sz ? malloc(sz) : NULL;
		if (sz && out == NULL)
			break;
		rc = http_path_decode(t, tl, out, sz);
		/* 414 as soon as a byte does not fit, 400 at a bad escape. */
		if (rrc != 0)
			FUZZ_CHECK(rc == (rlen > 0 && rlen >= sz ? 414 : 400));
		else if (rlen >= sz)
			FUZZ_CHECK(rc == 414);
		else {
			FUZZ_CHECK(rc == 0);
			FUZZ_CHECK(memcmp(out, ref, rlen) == 0 &&
			    out[rlen] == '\0');
			if (from_parser)
				FUZZ_CHECK(strlen(out) == rlen);
			(void)http_mime(out);
		}
		free(out);
	}
	free(ref);
}

/* Everything a successfully parsed head must satisfy. */
static void
check_head(const char *buf, size_t len, int rc, const struct http_request *r)
{
	const struct http_hdr *h, *k;
	const char *p;
	char	 name[64], tok[64];
	size_t	 i, s, e;
	int	 j, m, hosts = 0, st;

	FUZZ_CHECK(rc > 0 && (size_t)rc <= len && rc <= HTTP_MAX_HEAD);
	FUZZ_CHECK(r->head_len == (size_t)rc);
	FUZZ_CHECK(buf[rc - 1] == '\n');
	/* It ends at the first blank line. */
	for (i = 0; i < (size_t)rc; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < (size_t)rc && buf[i + 1] == '\n')
			FUZZ_CHECK(i + 2 == (size_t)rc);
		if (i + 2 < (size_t)rc && buf[i + 1] == '\r' &&
		    buf[i + 2] == '\n')
			FUZZ_CHECK(i + 3 == (size_t)rc);
	}
	FUZZ_CHECK(r->method == buf);
	FUZZ_CHECK(r->mlen >= 1 && r->mlen <= 16 && inside(buf, (size_t)rc,
	    r->method, r->mlen));
	for (i = 0; i < r->mlen; i++)
		FUZZ_CHECK(tchar((unsigned char)r->method[i]));
	FUZZ_CHECK(r->target == r->method + r->mlen + 1);
	FUZZ_CHECK(r->tlen >= 1 && inside(buf, (size_t)rc, r->target, r->tlen));
	for (i = 0; i < r->tlen; i++)
		FUZZ_CHECK((unsigned char)r->target[i] > 0x20 &&
		    (unsigned char)r->target[i] < 0x7f);
	FUZZ_CHECK(r->minor >= 0 && r->minor <= 9);
	p = r->target + r->tlen;
	FUZZ_CHECK(memcmp(p, " HTTP/1.", 8) == 0 && p[8] == '0' + r->minor);
	FUZZ_CHECK(r->nhdr >= 0 && r->nhdr <= HTTP_MAX_HEADERS);
	for (j = 0; j < r->nhdr; j++) {
		h = &r->hdr[j];
		FUZZ_CHECK(h->nlen >= 1 && inside(buf, (size_t)rc, h->name,
		    h->nlen));
		FUZZ_CHECK(inside(buf, (size_t)rc, h->val, h->vlen));
		FUZZ_CHECK(h->name > (j ? r->hdr[j - 1].val : p));
		for (i = 0; i < h->nlen; i++)
			FUZZ_CHECK(tchar((unsigned char)h->name[i]));
		FUZZ_CHECK(h->name[h->nlen] == ':');
		for (i = 0; i < h->vlen; i++) {
			unsigned char c = (unsigned char)h->val[i];
			FUZZ_CHECK((c >= 0x20 || c == '\t') && c != 0x7f);
		}
		if (h->vlen > 0) {
			FUZZ_CHECK(h->val[0] != ' ' && h->val[0] != '\t');
			FUZZ_CHECK(h->val[h->vlen - 1] != ' ' &&
			    h->val[h->vlen - 1] != '\t');
		}
		if (same_name(h->name, h->nlen, "Host", 4))
			hosts++;

		/* Lookups agree with a linear search. */
		if (h->nlen < sizeof(name)) {
			memcpy(name, h->name, h->nlen);
			name[h->nlen] = '\0';
			k = http_get(r, name);
			FUZZ_CHECK(k != NULL && k <= h);
			for (m = 0; &r->hdr[m] != k; m++)
				FUZZ_CHECK(!same_name(r->hdr[m].name,
				    r->hdr[m].nlen, name, h->nlen));
			FUZZ_CHECK(same_name(k->name, k->nlen, name, h->nlen));
			for (st = 0, m = 0; m < r->nhdr; m++)
				st += same_name(r->hdr[m].name, r->hdr[m].nlen,
				    name, h->nlen);
			FUZZ_CHECK(http_count(r, name) == st);
		}

		/* Every element of the list is found as a token. */
		for (s = 0; s <= h->vlen; s = e + 1) {
			for (e = s; e < h->vlen && h->val[e] != ','; e++)
				;
			for (i = s; i < e && (h->val[i] == ' ' ||
			    h->val[i] == '\t'); i++)
				;
			for (m = (int)(e - i); m > 0 && (h->val[i + m - 1] ==
			    ' ' || h->val[i + m - 1] == '\t'); m--)
				;
			/* (An empty token is not a question anyone asks.) */
			if (m > 0 && (size_t)m < sizeof(tok)) {
				memcpy(tok, h->val + i, (size_t)m);
				tok[m] = '\0';
				FUZZ_CHECK(http_has_token(h, tok) == 1);
				FUZZ_CHECK(ref_has_token(h, tok, (size_t)m));
			}
		}
		FUZZ_CHECK(http_has_token(h, "websocket") ==
		    ref_has_token(h, "websocket", 9));
		FUZZ_CHECK(http_has_token(h, "upgrade") ==
		    ref_has_token(h, "upgrade", 7));
	}
	if (r->minor >= 1)
		FUZZ_CHECK(hosts == 1);
	FUZZ_CHECK(http_has_token(NULL, "x") == 0);
	FUZZ_CHECK(http_method_is(r, "GET") ==
	    (r->mlen == 3 && memcmp(r->method, "GET", 3) == 0));

	check_path(r->target, r->tlen, 1);

	k = NULL;
	st = ws_upgrade_check(r, &k);
	FUZZ_CHECK(st == 0 || st == 400 || st == 405 || st == 426);
	if (st != 405)
		FUZZ_CHECK(http_method_is(r, "GET"));
	if (st == 0) {
		char	 acc[WS_ACCEPT_LEN + 1];

		FUZZ_CHECK(k != NULL && ws_key_valid(k->val, k->vlen));
		FUZZ_CHECK(http_has_token(http_get(r, "Upgrade"), "websocket"));
		FUZZ_CHECK(ws_accept_key(k->val, k->vlen, acc) == 0);
		FUZZ_CHECK(strlen(acc) == WS_ACCEPT_LEN);
	}
}

static int
parse_once(const char *buf, size_t len, struct http_request *r)
{
	struct http_parser ps;

	http_parser_init(&ps);
	return http_parse(&ps, buf, len, r);
}

/* Feed growing prefixes, as a server does when bytes trickle in. */
static int
parse_incremental(const char *buf, size_t len, uint64_t *rng, int bytewise,
    size_t *at, struct http_request *r)
{
	struct http_parser ps;
	size_t	 have = 0;
	int	 rc = HTTP_MORE;

	http_parser_init(&ps);
	while (have < len) {
		have += bytewise ? 1 : fz_chunk(rng, len - have);
		rc = http_parse(&ps, buf, have, r);
		if (rc != HTTP_MORE)
			break;
	}
	*at = have;
	return rc;
}

static void
same_request(const struct http_request *a, const struct http_request *b)
{
	int	 j;

	FUZZ_CHECK(a->method == b->method && a->mlen == b->mlen);
	FUZZ_CHECK(a->target == b->target && a->tlen == b->tlen);
	FUZZ_CHECK(a->minor == b->minor && a->nhdr == b->nhdr);
	FUZZ_CHECK(a->head_len == b->head_len);
	for (j = 0; j < a->nhdr; j++) {
		FUZZ_CHECK(a->hdr[j].name == b->hdr[j].name);
		FUZZ_CHECK(a->hdr[j].nlen == b->hdr[j].nlen);
		FUZZ_CHECK(a->hdr[j].val == b->hdr[j].val);
		FUZZ_CHECK(a->hdr[j].vlen == b->hdr[j].vlen);
	}
}

/* Print the request again in canonical form; it must parse the same. */
static void
check_reencode(const struct http_request *r)
{
	struct bbuf	 b;
	struct http_request r2;
	char		 line[16];
	int		 rc, j;

	bbuf_init(&b);
	snprintf(line, sizeof(line), " HTTP/1.%d\r\n", r->minor);
	if (bbuf_append(&b, r->method, r->mlen) == -1 ||
	    bbuf_append(&b, " ", 1) == -1 ||
	    bbuf_append(&b, r->target, r->tlen) == -1 ||
	    bbuf_append(&b, line, strlen(line)) == -1)
		goto out;
	for (j = 0; j < r->nhdr; j++)
		if (bbuf_append(&b, r->hdr[j].name, r->hdr[j].nlen) == -1 ||
		    bbuf_append(&b, ": ", 2) == -1 ||
		    bbuf_append(&b, r->hdr[j].val, r->hdr[j].vlen) == -1 ||
		    bbuf_append(&b, "\r\n", 2) == -1)
			goto out;
	if (bbuf_append(&b, "\r\n", 2) == -1)
		goto out;
	/* The canonical head may be longer (CRLF, ": "): only if it fits. */
	rc = parse_once((const char *)bbuf_head(&b), bbuf_size(&b), &r2);
	if (bbuf_size(&b) > HTTP_MAX_HEAD) {
		FUZZ_CHECK(rc == -431);
		goto out;
	}
	FUZZ_CHECK(rc > 0 && (size_t)rc == bbuf_size(&b));
	FUZZ_CHECK(r2.mlen == r->mlen &&
	    memcmp(r2.method, r->method, r->mlen) == 0);
	FUZZ_CHECK(r2.tlen == r->tlen &&
	    memcmp(r2.target, r->target, r->tlen) == 0);
	FUZZ_CHECK(r2.minor == r->minor && r2.nhdr == r->nhdr);
	for (j = 0; j < r->nhdr; j++) {
		FUZZ_CHECK(r2.hdr[j].nlen == r->hdr[j].nlen &&
		    memcmp(r2.hdr[j].name, r->hdr[j].name, r->hdr[j].nlen) == 0);
		FUZZ_CHECK(r2.hdr[j].vlen == r->hdr[j].vlen &&
		    memcmp(r2.hdr[j].val, r->hdr[j].val, r->hdr[j].vlen) == 0);
	}
 out:
	bbuf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data;
	struct http_request r1, r2, r3;
	uint64_t	 rng = fz_hash(data, size);
	size_t		 at;
	int		 rc, rc2, rc3;

	rc = parse_once(buf, size, &r1);
	FUZZ_CHECK(rc == HTTP_MORE || rc == -400 || rc == -431 ||
	    rc == -505 || rc > 0);
	if (rc == HTTP_MORE)
		FUZZ_CHECK(size < HTTP_MAX_HEAD);
	if (rc > 0) {
		check_head(buf, size, rc, &r1);
		/* Only the head matters: the same head alone parses alike. */
		rc2 = parse_once(buf, (size_t)rc, &r2);
		FUZZ_CHECK(rc2 == rc);
		same_request(&r1, &r2);
		check_reencode(&r1);
	}

	/* Random prefixes: same verdict, at the earliest prefix. */
	rc2 = parse_incremental(buf, size, &rng, 0, &at, &r2);
	FUZZ_CHECK(rc2 == rc);
	rc3 = parse_once(buf, at, &r3);
	FUZZ_CHECK(rc3 == rc2);
	if (rc > 0) {
		same_request(&r1, &r2);
		same_request(&r1, &r3);
	}
	if (size <= 512) {
		rc2 = parse_incremental(buf, size, &rng, 1, &at, &r2);
		FUZZ_CHECK(rc2 == rc);
		if (rc > 0) {
			same_request(&r1, &r2);
			FUZZ_CHECK(at == (size_t)rc);
		}
	}

	/* The path decoder on raw bytes: bounded, whatever the input. */
	check_path(buf, size < 8192 ? size : 8192, 0);
	return 0;
}
