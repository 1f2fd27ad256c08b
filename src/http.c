/*
 * HTTP/1.x request heads: an incremental, bounded parser and responses.
 * Pure logic: bytes in, results out.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

void
http_parser_init(struct http_parser *p)
{
	p->scanned = 0;
	p->line_ok = 0;
}

/* RFC 9110 token characters. */
static int
is_tchar(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return 1;
	if (c >= 'A' && c <= 'Z')
		return 1;
	if (c >= '0' && c <= '9')
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Length of the line at p (without its CRLF or LF), or -1 if unterminated. */
static long
line_len(const char *p, const char *end, size_t *eol)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (nl == NULL)
		return -1;
	*eol = 1;
	if (nl > p && nl[-1] == '\r') {
		*eol = 2;
		return (long)(nl - p - 1);
	}
	return (long)(nl - p);
}

/* Check "METHOD SP target SP HTTP/1.x"; fill req. */
static int
parse_request_line(const char *p, size_t len, struct http_request *req)
{
	const char	*end = p + len, *s;

	s = p;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (p == s || p == end || *p != ' ' || p - s > 16)
		return -400;
	req->method = s;
	req->mlen = (size_t)(p - s);
	s = ++p;
	while (p < end && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
		p++;
	if (p == s || p == end || *p != ' ')
		return -400;
	req->target = s;
	req->tlen = (size_t)(p - s);
	p++;
	if (end - p != 8 || strncmp(p, "HTTP/", 5) != 0 ||
	    p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' || p[7] > '9')
		return -400;
	if (p[5] != '1')
		return -505;
	req->minor = p[7] - '0';
	return 0;
}

static int
parse_header(const char *p, size_t len, struct http_request *req)
{
	const char	*end = p + len, *s, *v, *ve;
	struct http_hdr	*h;

	if (p < end && (*p == ' ' || *p == '\t'))
		return -400;		/* obsolete line folding */
	s = p;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (p == s || p == end || *p != ':')
		return -400;
	if (req->nhdr == HTTP_MAX_HEADERS)
		return -431;
	h = &req->hdr[req->nhdr++];
	h->name = s;
	h->nlen = (size_t)(p - s);
	v = p + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	ve = end;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (p = v; p < ve; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -400;
	}
	h->val = v;
	h->vlen = (size_t)(ve - v);
	return 0;
}

int
http_parse(struct http_parser *ps, const char *buf, size_t len,
    struct http_request *req)
{
	const char	*p, *end, *blank = NULL;
	size_t		 i, eol = 0, head;
	long		 ll;
	int		 rc;

	/* Reject garbage as soon as the request line is there. */
	if (!ps->line_ok) {
		if (len > 0 && buf[0] == ' ')
			return -400;
		for (i = 0; i < len && i < 16 && buf[i] != ' '; i++)
			if (!is_tchar((unsigned char)buf[i]))
				return -400;
		end = buf + (len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD);
		if ((ll = line_len(buf, end, &eol)) < 0)
			return len >= HTTP_MAX_HEAD ? -431 : HTTP_MORE;
		memset(req, 0, sizeof(*req));
		if ((rc = parse_request_line(buf, (size_t)ll, req)) != 0)
			return rc;
		ps->line_ok = 1;
	}

	/* Find the blank line that ends the head, resuming the search. */
	i = ps->scanned > 3 ? ps->scanned - 3 : 0;
	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n') {
			blank = buf + i + 2;
			break;
		}
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
			blank = buf + i + 3;
			break;
		}
	}
	if (blank == NULL) {
		ps->scanned = len;
		return len >= HTTP_MAX_HEAD ? -431 : HTTP_MORE;
	}
	head = (size_t)(blank - buf);
	if (head > HTTP_MAX_HEAD)
		return -431;

	memset(req, 0, sizeof(*req));
	p = buf;
	end = blank;
	ll = line_len(p, end, &eol);
	if ((rc = parse_request_line(p, (size_t)ll, req)) != 0)
		return rc;
	p += ll + eol;
	for (;;) {
		ll = line_len(p, end, &eol);
		if (ll <= 0)
			break;		/* the blank line */
		if ((rc = parse_header(p, (size_t)ll, req)) != 0)
			return rc;
		p += ll + eol;
	}
	if (req->minor >= 1 && http_count(req, "Host") != 1)
		return -400;
	req->head_len = head;
	return (int)head;
}

const struct http_hdr *
http_get(const struct http_request *req, const char *name)
{
	size_t	 n = strlen(name);
	int	 i;

	for (i = 0; i < req->nhdr; i++)
		if (req->hdr[i].nlen == n &&
		    strncasecmp(req->hdr[i].name, name, n) == 0)
			return &req->hdr[i];
	return NULL;
}

int
http_count(const struct http_request *req, const char *name)
{
	size_t	 n = strlen(name);
	int	 i, c = 0;

	for (i = 0; i < req->nhdr; i++)
		if (req->hdr[i].nlen == n &&
		    strncasecmp(req->hdr[i].name, name, n) == 0)
			c++;
	return c;
}

int
http_has_token(const struct http_hdr *h, const char *token)
{
	const char	*p, *end, *s, *e;
	size_t		 tl = strlen(token);

	if (h == NULL)
		return 0;
	p = h->val;
	end = h->val + h->vlen;
	while (p < end) {
		s = p;
		while (p < end && *p != ',')
			p++;
		e = p;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
			return 1;
		if (p < end)
			p++;
	}
	return 0;
}

int
http_method_is(const struct http_request *req, const char *m)
{
	size_t	 n = strlen(m);

	return req->mlen == n && memcmp(req->method, m, n) == 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
http_path_decode(const char *t, size_t tlen, char *out, size_t outsz)
{
	size_t	 i, o = 0;
	int	 hi, lo;
	char	 c;

	if (tlen == 0 || t[0] != '/')
		return 400;
	for (i = 0; i < tlen && t[i] != '?' && t[i] != '#'; i++) {
		c = t[i];
		if (c == '%') {
			if (i + 2 >= tlen)
				return 400;
			if ((hi = hexval(t[i + 1])) < 0 ||
			    (lo = hexval(t[i + 2])) < 0)
				return 400;
			c = (char)(hi << 4 | lo);
			if (c == '\0')
				return 400;
			i += 2;
		}
		if (o + 1 >= outsz)
			return 414;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

static const struct {
	const char	*ext;
	const char	*type;
} mimes[] = {
	{ "html",	"text/html; charset=utf-8" },
	{ "htm",	"text/html; charset=utf-8" },
	{ "css",	"text/css; charset=utf-8" },
	{ "js",		"text/javascript; charset=utf-8" },
	{ "mjs",	"text/javascript; charset=utf-8" },
	{ "json",	"application/json" },
	{ "txt",	"text/plain; charset=utf-8" },
	{ "svg",	"image/svg+xml" },
	{ "png",	"image/png" },
	{ "jpg",	"image/jpeg" },
	{ "jpeg",	"image/jpeg" },
	{ "gif",	"image/gif" },
	{ "webp",	"image/webp" },
	{ "ico",	"image/x-icon" },
	{ "woff2",	"font/woff2" },
	{ "woff",	"font/woff" },
	{ "webmanifest", "application/manifest+json" },
	{ "wasm",	"application/wasm" },
};

const char *
http_mime(const char *path)
{
	const char	*dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t		 i;

	if (dot != NULL && (slash == NULL || dot > slash))
		for (i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++)
			if (strcasecmp(dot + 1, mimes[i].ext) == 0)
				return mimes[i].type;
	return "application/octet-stream";
}

int
http_response_head(struct bbuf *b, int status, const char *ctype,
    size_t clen, int keepalive, const char *extra)
{
	char	 h[1024];
	int	 n;

	n = snprintf(h, sizeof(h),
	    "HTTP/1.1 %d %s\r\n"
	    "Server: wschatd\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: %s\r\n"
	    "%s"
	    "\r\n",
	    status, http_reason(status), ctype, clen,
	    keepalive ? "keep-alive" : "close", extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(h))
		return -1;
	return bbuf_append(b, h, (size_t)n);
}

int
http_response_simple(struct bbuf *b, int status, int head_only,
    int keepalive, const char *extra)
{
	char	 body[128];
	int	 n;

	n = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
	if (n < 0 || (size_t)n >= sizeof(body))
		return -1;
	if (http_response_head(b, status, "text/plain; charset=utf-8",
	    (size_t)n, keepalive, extra) == -1)
		return -1;
	return head_only ? 0 : bbuf_append(b, body, (size_t)n);
}
