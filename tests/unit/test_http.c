/* Unit tests of the HTTP/1.x request parser and responses (src/http.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"

static struct http_request req;

/* Parse text in one call with a fresh parser. */
static int
parse(const char *text, size_t len)
{
	struct http_parser	 p;

	http_parser_init(&p);
	return http_parse(&p, text, len, &req);
}

static int
parses(const char *text)
{
	return parse(text, strlen(text));
}

/*
 * Feed growing prefixes of text to one parser: every proper prefix must
 * give HTTP_MORE; returns the result for the whole text.
 */
static int
parse_bytewise(const char *text, size_t len)
{
	struct http_parser	 p;
	size_t			 i;
	int			 rc;

	http_parser_init(&p);
	for (i = 1; i < len; i++) {
		rc = http_parse(&p, text, i, &req);
		ck_assert_msg(rc == HTTP_MORE, "prefix %zu: %d", i, rc);
	}
	return http_parse(&p, text, len, &req);
}

/* A request head of exactly size bytes, padded in an X-Pad header. */
static char *
head_of_size(size_t size)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
	static const char post[] = "\r\n\r\n";
	size_t	 pad = size - (sizeof(pre) - 1) - (sizeof(post) - 1);
	char	*s = malloc(size + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, pre, sizeof(pre) - 1);
	memset(s + sizeof(pre) - 1, 'p', pad);
	memcpy(s + sizeof(pre) - 1 + pad, post, sizeof(post));
	ck_assert_uint_eq(strlen(s), size);
	return s;
}

START_TEST(test_complete)
{
	const char	*t = "GET /index.html?x=1 HTTP/1.1\r\n"
	    "Host: example.com\r\n"
	    "User-Agent: test\r\n"
	    "Accept:  */*  \r\n"
	    "\r\n";
	const struct http_hdr *h;

	ck_assert_int_eq(parses(t), (int)strlen(t));
	ck_assert_uint_eq(req.head_len, strlen(t));
	ck_assert_uint_eq(req.mlen, 3);
	ck_assert_mem_eq(req.method, "GET", 3);
	ck_assert_uint_eq(req.tlen, 15);
	ck_assert_mem_eq(req.target, "/index.html?x=1", 15);
	ck_assert_int_eq(req.minor, 1);
	ck_assert_int_eq(req.nhdr, 3);
	ck_assert_uint_eq(req.hdr[0].nlen, 4);
	ck_assert_mem_eq(req.hdr[0].name, "Host", 4);
	ck_assert_uint_eq(req.hdr[0].vlen, 11);
	ck_assert_mem_eq(req.hdr[0].val, "example.com", 11);
	/* surrounding white space is not part of a value */
	h = http_get(&req, "Accept");
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->vlen, 3);
	ck_assert_mem_eq(h->val, "*/*", 3);
	ck_assert_int_eq(http_method_is(&req, "GET"), 1);
	ck_assert_int_eq(http_method_is(&req, "GE"), 0);
	ck_assert_int_eq(http_method_is(&req, "get"), 0);
}
END_TEST

START_TEST(test_pipelined)
{
	const char	*t = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";

	ck_assert_int_eq(parses(t), 28);
	ck_assert_mem_eq(req.target, "/a", 2);
}
END_TEST

START_TEST(test_incomplete)
{
	ck_assert_int_eq(parses("G"), HTTP_MORE);
	ck_assert_int_eq(parses("GET / HTTP/1.1"), HTTP_MORE);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\n"), HTTP_MORE);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\n"), HTTP_MORE);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\n\r"), HTTP_MORE);
	ck_assert_int_eq(parse("", 0), HTTP_MORE);
}
END_TEST

START_TEST(test_bytewise)
{
	const char	*t = "GET /chat HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\n\r\n";
	const char	*lf = "GET /x HTTP/1.0\nA: b\n\n";
	const char	*mixed = "GET /x HTTP/1.1\r\nHost: h\n\r\n";

	ck_assert_int_eq(parse_bytewise(t, strlen(t)), (int)strlen(t));
	ck_assert_int_eq(req.nhdr, 2);
	ck_assert_mem_eq(req.target, "/chat", 5);
	ck_assert_int_eq(parse_bytewise(lf, strlen(lf)), (int)strlen(lf));
	ck_assert_int_eq(req.minor, 0);
	ck_assert_int_eq(parse_bytewise(mixed, strlen(mixed)),
	    (int)strlen(mixed));
}
END_TEST

START_TEST(test_lf_only)
{
	const char	*t = "GET / HTTP/1.1\nHost: a\nX: y\n\n";
	const struct http_hdr *h;

	ck_assert_int_eq(parses(t), (int)strlen(t));
	ck_assert_int_eq(req.nhdr, 2);
	h = http_get(&req, "host");
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->vlen, 1);
	ck_assert_mem_eq(h->val, "a", 1);
	ck_assert_mem_eq(req.target, "/", 1);
	ck_assert_uint_eq(req.tlen, 1);
}
END_TEST

START_TEST(test_garbage_at_once)
{
	ck_assert_int_eq(parse("\x16\x03\x01", 3), -400);
	ck_assert_int_eq(parse("\x16", 1), -400);
	ck_assert_int_eq(parse("\x00", 1), -400);
	ck_assert_int_eq(parse("\r\n", 2), -400);
	ck_assert_int_eq(parse("GE\x80", 3), -400);
}
END_TEST

/* A request line cannot start with white space: no need to wait. */
START_TEST(test_garbage_leading_space)
{
	ck_assert_int_eq(parse(" ", 1), -400);
	ck_assert_int_eq(parse(" GET", 4), -400);
}
END_TEST

START_TEST(test_bad_request_line)
{
	ck_assert_int_eq(parses("GET /\r\nHost: x\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET / FTP/1.1\r\nHost: x\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET / HTTP/1.10\r\nHost: x\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET / HTTP/1\r\nHost: x\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET / http/1.1\r\nHost: x\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n"),
	    -400);
	/* the request line alone is enough to fail */
	ck_assert_int_eq(parses("GET / FTP/1.1\r\n"), -400);
	/* a method of more than 16 characters */
	ck_assert_int_eq(parses("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\nHost: x\r\n\r\n"),
	    -400);
}
END_TEST

START_TEST(test_http_version)
{
	ck_assert_int_eq(parses("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), -505);
	ck_assert_int_eq(parses("GET / HTTP/2.0\r\n"), -505);
	ck_assert_int_eq(parses("GET / HTTP/0.9\r\n\r\n"), -505);
	ck_assert_int_eq(parses("GET / HTTP/1.0\r\n\r\n"), 18);
	ck_assert_int_eq(req.minor, 0);
}
END_TEST

START_TEST(test_host)
{
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nX: y\r\n\r\n"), -400);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"),
	    -400);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n"), 27);
}
END_TEST

START_TEST(test_bad_headers)
{
	/* no colon */
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n"),
	    -400);
	/* empty name */
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n"),
	    -400);
	/* white space before the colon */
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), -400);
	/* obs-fold */
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"),
	    -400);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\tc\r\n\r\n"),
	    -400);
	/* control characters in a value (tab is fine) */
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\nA: b\x01" "c\r\n\r\n"),
	    -400);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\nA: b\x7f\r\n\r\n"),
	    -400);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n"),
	    -400);
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\nA: b\tc\r\n\r\n"),
	    35);
	ck_assert_uint_eq(http_get(&req, "A")->vlen, 3);
	/* a NUL in the value */
	{
		static const char t[] = "GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n";
		ck_assert_int_eq(parse(t, sizeof(t) - 1), -400);
	}
	/* obs-text (bytes >= 0x80) in a value is allowed */
	ck_assert_int_eq(parses("GET / HTTP/1.1\r\nHost: x\r\nA: \xc3\xa9\r\n\r\n"),
	    34);
}
END_TEST

START_TEST(test_max_head)
{
	char	*s;

	s = head_of_size(HTTP_MAX_HEAD);
	ck_assert_int_eq(parse(s, HTTP_MAX_HEAD), HTTP_MAX_HEAD);
	ck_assert_int_eq(parse_bytewise(s, HTTP_MAX_HEAD), HTTP_MAX_HEAD);
	free(s);

	s = head_of_size(HTTP_MAX_HEAD + 1);
	ck_assert_int_eq(parse(s, HTTP_MAX_HEAD + 1), -431);
	/* fed incrementally: 431 once the limit is reached without an end */
	{
		struct http_parser p;
		http_parser_init(&p);
		ck_assert_int_eq(http_parse(&p, s, HTTP_MAX_HEAD - 1, &req),
		    HTTP_MORE);
		ck_assert_int_eq(http_parse(&p, s, HTTP_MAX_HEAD, &req), -431);
	}
	free(s);

	/* a request line that never ends */
	s = malloc(HTTP_MAX_HEAD + 10);
	ck_assert_ptr_nonnull(s);
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', HTTP_MAX_HEAD + 5);
	ck_assert_int_eq(parse(s, HTTP_MAX_HEAD - 1), HTTP_MORE);
	ck_assert_int_eq(parse(s, HTTP_MAX_HEAD), -431);
	free(s);
}
END_TEST

static char *
head_with_headers(int n)
{
	char	*s = malloc(64 + (size_t)n * 16);
	size_t	 o;
	int	 i;

	ck_assert_ptr_nonnull(s);
	o = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (i = 1; i < n; i++)
		o += (size_t)sprintf(s + o, "X-H%d: %d\r\n", i, i);
	strcpy(s + o, "\r\n");
	return s;
}

START_TEST(test_max_headers)
{
	char	*s;

	s = head_with_headers(HTTP_MAX_HEADERS);
	ck_assert_int_eq(parses(s), (int)strlen(s));
	ck_assert_int_eq(req.nhdr, HTTP_MAX_HEADERS);
	ck_assert_int_eq(http_count(&req, "x-h63"), 1);
	free(s);

	s = head_with_headers(HTTP_MAX_HEADERS + 1);
	ck_assert_int_eq(parses(s), -431);
	free(s);
}
END_TEST

START_TEST(test_get_count)
{
	const char	*t = "GET / HTTP/1.1\r\nHost: x\r\n"
	    "Cookie: a=1\r\ncookie: b=2\r\nCOOKIE: c=3\r\nEmpty:\r\n\r\n";
	const struct http_hdr *h;

	ck_assert_int_eq(parses(t), (int)strlen(t));
	ck_assert_int_eq(http_count(&req, "Cookie"), 3);
	ck_assert_int_eq(http_count(&req, "cOOKIE"), 3);
	ck_assert_int_eq(http_count(&req, "Cookies"), 0);
	ck_assert_int_eq(http_count(&req, "Cooki"), 0);
	ck_assert_int_eq(http_count(&req, "HOST"), 1);
	h = http_get(&req, "COOKIE");
	ck_assert_ptr_nonnull(h);
	ck_assert_mem_eq(h->val, "a=1", 3);		/* the first one */
	ck_assert_ptr_null(http_get(&req, "Missing"));
	h = http_get(&req, "empty");
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->vlen, 0);
}
END_TEST

static int
has_token(const char *val, const char *tok)
{
	struct http_hdr	 h;

	h.name = "X";
	h.nlen = 1;
	h.val = val;
	h.vlen = strlen(val);
	return http_has_token(&h, tok);
}

START_TEST(test_has_token)
{
	ck_assert_int_eq(has_token("Upgrade", "upgrade"), 1);
	ck_assert_int_eq(has_token("keep-alive, Upgrade", "Upgrade"), 1);
	ck_assert_int_eq(has_token("keep-alive,Upgrade", "upgrade"), 1);
	ck_assert_int_eq(has_token("Upgrade , keep-alive", "upgrade"), 1);
	ck_assert_int_eq(has_token(" \tupgrade\t ", "upgrade"), 1);
	ck_assert_int_eq(has_token("a,,b", "b"), 1);
	ck_assert_int_eq(has_token("keep-alive", "upgrade"), 0);
	ck_assert_int_eq(has_token("Upgrades", "upgrade"), 0);
	ck_assert_int_eq(has_token("upgrad", "upgrade"), 0);
	ck_assert_int_eq(has_token("up grade", "upgrade"), 0);
	ck_assert_int_eq(has_token("", "upgrade"), 0);
	ck_assert_int_eq(has_token("upgrade-x, x-upgrade", "upgrade"), 0);
	ck_assert_int_eq(http_has_token(NULL, "upgrade"), 0);
}
END_TEST

static int
pdec(const char *t, char *out, size_t outsz)
{
	return http_path_decode(t, strlen(t), out, outsz);
}

START_TEST(test_path_decode)
{
	char	 out[64];

	ck_assert_int_eq(pdec("/a%20b?q=1", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/a b");
	ck_assert_int_eq(pdec("/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/");
	ck_assert_int_eq(pdec("/%2e%2e/etc", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/../etc");
	ck_assert_int_eq(pdec("/%4a%4A", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/JJ");
	ck_assert_int_eq(pdec("/x%41", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/xA");
	ck_assert_int_eq(pdec("/a#frag", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/a");
	ck_assert_int_eq(pdec("/a?%zz", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/a");
	/* the target's length counts, not a NUL */
	ck_assert_int_eq(http_path_decode("/abc", 2, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/a");
}
END_TEST

START_TEST(test_path_decode_bad)
{
	char	 out[64];

	ck_assert_int_eq(pdec("/a%00b", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("/%zz", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("/%g1", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("/%1g", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("/a%", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("/a%4", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("/a%4?x", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("a/b", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("*", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("http://h/x", out, sizeof(out)), 400);
	ck_assert_int_eq(pdec("", out, sizeof(out)), 400);
	/* "/%4" cut by the length given: the escape is incomplete */
	ck_assert_int_eq(http_path_decode("/%41", 3, out, sizeof(out)), 400);
}
END_TEST

START_TEST(test_path_decode_long)
{
	char	 out[8];

	/* 7 characters and the NUL fit in 8 */
	ck_assert_int_eq(pdec("/abcdef", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/abcdef");
	ck_assert_int_eq(pdec("/abcdefg", out, sizeof(out)), 414);
	/* decoded length counts, not encoded */
	ck_assert_int_eq(pdec("/%61%62%63%64%65%66", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/abcdef");
	ck_assert_int_eq(pdec("/%61%62%63%64%65%66%67", out, sizeof(out)), 414);
	/* the query does not count */
	ck_assert_int_eq(pdec("/abcdef?xxxxxxxxxx", out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_mime)
{
	ck_assert_str_eq(http_mime("/index.html"), "text/html; charset=utf-8");
	ck_assert_str_eq(http_mime("/INDEX.HTML"), "text/html; charset=utf-8");
	ck_assert_str_eq(http_mime("/app.js"), "text/javascript; charset=utf-8");
	ck_assert_str_eq(http_mime("/style.css"), "text/css; charset=utf-8");
	ck_assert_str_eq(http_mime("/logo.svg"), "image/svg+xml");
	ck_assert_str_eq(http_mime("/x.png"), "image/png");
	ck_assert_str_eq(http_mime("/file.unknown"), "application/octet-stream");
	ck_assert_str_eq(http_mime("/noext"), "application/octet-stream");
	ck_assert_str_eq(http_mime("/dir.html/file"), "application/octet-stream");
	ck_assert_str_eq(http_mime("/file."), "application/octet-stream");
	ck_assert_str_eq(http_mime("/a.tar.js"), "text/javascript; charset=utf-8");
}
END_TEST

static char *
bstr(struct bbuf *b)
{
	char	*s = malloc(bbuf_size(b) + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, bbuf_head(b), bbuf_size(b));
	s[bbuf_size(b)] = '\0';
	return s;
}

START_TEST(test_response_simple)
{
	struct bbuf	 b;
	char		*s, *body;

	bbuf_init(&b);
	ck_assert_int_eq(http_response_simple(&b, 404, 0, 0, NULL), 0);
	s = bstr(&b);
	ck_assert_str_eq(s,
	    "HTTP/1.1 404 Not Found\r\n"
	    "Server: wschatd\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 14\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "404 Not Found\n");
	free(s);

	/* HEAD: the same head, no body; keep-alive; an extra header */
	bbuf_reset(&b);
	ck_assert_int_eq(http_response_simple(&b, 426, 1, 1,
	    "Sec-WebSocket-Version: 13\r\n"), 0);
	s = bstr(&b);
	ck_assert_str_eq(s,
	    "HTTP/1.1 426 Upgrade Required\r\n"
	    "Server: wschatd\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 21\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: keep-alive\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n");
	free(s);

	/* the Content-Length is the body's length */
	bbuf_reset(&b);
	ck_assert_int_eq(http_response_simple(&b, 431, 0, 0, NULL), 0);
	s = bstr(&b);
	body = strstr(s, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	ck_assert_str_eq(body, "431 Request Header Fields Too Large\n");
	ck_assert_ptr_nonnull(strstr(s, "Content-Length: 36\r\n"));
	ck_assert_uint_eq(strlen(body), 36);
	free(s);
	bbuf_free(&b);
}
END_TEST

START_TEST(test_reason)
{
	ck_assert_str_eq(http_reason(200), "OK");
	ck_assert_str_eq(http_reason(400), "Bad Request");
	ck_assert_str_eq(http_reason(405), "Method Not Allowed");
	ck_assert_str_eq(http_reason(505), "HTTP Version Not Supported");
	ck_assert_str_eq(http_reason(403), "Forbidden");
	ck_assert_str_eq(http_reason(408), "Request Timeout");
	ck_assert_str_eq(http_reason(429), "Too Many Requests");
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_complete);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_incomplete);
	tcase_add_test(tc, test_bytewise);
	tcase_add_test(tc, test_lf_only);
	tcase_add_test(tc, test_garbage_at_once);
	tcase_add_test(tc, test_garbage_leading_space);
	tcase_add_test(tc, test_bad_request_line);
	tcase_add_test(tc, test_http_version);
	tcase_add_test(tc, test_host);
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_max_head);
	tcase_add_test(tc, test_max_headers);
	tcase_add_test(tc, test_get_count);
	tcase_add_test(tc, test_has_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("path");
	tcase_add_test(tc, test_path_decode);
	tcase_add_test(tc, test_path_decode_bad);
	tcase_add_test(tc, test_path_decode_long);
	tcase_add_test(tc, test_mime);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_response_simple);
	tcase_add_test(tc, test_reason);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(http_suite());
	int	 failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
