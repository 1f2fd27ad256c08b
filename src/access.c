/*
 * Addresses, prefixes, X-Forwarded-For and Origin: the pure logic behind
 * per-address limits, trusted proxies and the cross-site check.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "access.h"

/* Longest address text we try to parse, brackets and port included. */
#define ADDR_INPUT_MAX	64

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
access_addr_is_v4(const struct access_addr *a)
{
	return memcmp(a->a, v4mapped, sizeof(v4mapped)) == 0;
}

static int
all_digits(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static unsigned
port_value(const char *s, size_t n)
{
	unsigned	 v = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

static int
parse_v4(const char *s, size_t n, struct access_addr *out)
{
	char	 buf[INET_ADDRSTRLEN];

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memcpy(out->a, v4mapped, sizeof(v4mapped));
	return inet_pton(AF_INET, buf, out->a + 12) == 1 ? 0 : -1;
}

static int
parse_v6(const char *s, size_t n, struct access_addr *out)
{
	char	 buf[INET6_ADDRSTRLEN];

	if (n >= sizeof(buf) || memchr(s, '%', n) != NULL)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, out->a) == 1 ? 0 : -1;
}

int
access_addr_parse(const char *s, size_t n, struct access_addr *out)
{
	const char	*e, *c;

	if (n == 0 || n > ADDR_INPUT_MAX || memchr(s, '\0', n) != NULL)
		return -1;
	if (s[0] == '[') {
		if ((e = memchr(s, ']', n)) == NULL)
			return -1;
		if ((size_t)(e - s) + 1 != n && (e[1] != ':' ||
		    !all_digits(e + 2, n - (size_t)(e - s) - 2)))
			return -1;
		return parse_v6(s + 1, (size_t)(e - s) - 1, out);
	}
	if ((c = memchr(s, ':', n)) == NULL)
		return parse_v4(s, n, out);
	/* One colon: a.b.c.d:port; more: a bare IPv6 address. */
	if (memchr(c + 1, ':', n - (size_t)(c - s) - 1) == NULL) {
		if (!all_digits(c + 1, n - (size_t)(c - s) - 1))
			return -1;
		return parse_v4(s, (size_t)(c - s), out);
	}
	return parse_v6(s, n, out);
}

int
access_addr_from_sockaddr(const struct sockaddr *sa, struct access_addr *out)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		memcpy(out->a, v4mapped, sizeof(v4mapped));
		memcpy(out->a + 12, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		memcpy(out->a, &s6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

void
access_addr_text(const struct access_addr *a, char *out, size_t len)
{
	char	 buf[INET6_ADDRSTRLEN];

	if (access_addr_is_v4(a)) {
		if (inet_ntop(AF_INET, a->a + 12, buf, sizeof(buf)) == NULL)
			buf[0] = '\0';
	} else if (inet_ntop(AF_INET6, a->a, buf, sizeof(buf)) == NULL)
		buf[0] = '\0';
	snprintf(out, len, "%s", buf);
}

static void
mask_bits(uint8_t *a, unsigned plen)
{
	unsigned	 i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		if (plen <= 8 * i)
			a[i] = 0;
		else
			a[i] &= (uint8_t)(0xff << (8 * (i + 1) - plen));
	}
}

void
access_addr_key(const struct access_addr *a, struct access_addr *key)
{
	*key = *a;
	if (!access_addr_is_v4(a))
		mask_bits(key->a, ACCESS_V6_KEY_PREFIX);
}

int
access_addr_eq(const struct access_addr *a, const struct access_addr *b)
{
	return memcmp(a->a, b->a, sizeof(a->a)) == 0;
}

int
access_cidr_parse(const char *s, struct access_cidr *out)
{
	const char	*slash = strchr(s, '/');
	size_t		 alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned	 plen, max;

	if (alen == 0 || alen > INET6_ADDRSTRLEN)
		return -1;
	/* No brackets or ports here: a bare address. */
	if (memchr(s, ':', alen) != NULL) {
		if (parse_v6(s, alen, &out->addr) == -1)
			return -1;
		max = 128;
	} else {
		if (parse_v4(s, alen, &out->addr) == -1)
			return -1;
		max = 32;
	}
	plen = max;
	if (slash != NULL) {
		if (!all_digits(slash + 1, strlen(slash + 1)) ||
		    strlen(slash + 1) > 3 || (slash[1] == '0' && slash[2] != '\0'))
			return -1;
		plen = port_value(slash + 1, strlen(slash + 1));
		if (plen > max)
			return -1;
	}
	/* An IPv4 prefix covers the mapped form of its addresses. */
	out->plen = max == 32 ? 96 + plen : plen;
	mask_bits(out->addr.a, out->plen);
	return 0;
}

int
access_cidr_match(const struct access_cidr *c, const struct access_addr *a)
{
	struct access_addr	 m = *a;

	mask_bits(m.a, c->plen);
	return access_addr_eq(&m, &c->addr);
}

int
access_cidr_list_match(const struct access_cidr *list, size_t n,
    const struct access_addr *a)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (access_cidr_match(&list[i], a))
			return 1;
	return 0;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int
access_xff_pick(const char *xff, size_t len, const struct access_cidr *trusted,
    size_t ntrusted, struct access_addr *out)
{
	struct access_addr	 a;
	size_t			 s, e, pos = len;
	int			 found = 0;

	/* Every element must be an address: check them all, right to left. */
	for (;;) {
		for (s = pos; s > 0 && xff[s - 1] != ','; s--)
			;
		e = pos;
		while (s < e && is_ows(xff[s]))
			s++;
		while (e > s && is_ows(xff[e - 1]))
			e--;
		if (access_addr_parse(xff + s, e - s, &a) == -1)
			return -1;
		if (!found) {
			*out = a;
			found = !access_cidr_list_match(trusted, ntrusted, &a);
		}
		while (s > 0 && xff[s - 1] != ',')
			s--;
		if (s == 0)
			return 0;
		pos = s - 1;
	}
}

/* ---- origins ---- */

static int
host_char(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int
access_origin_norm(const char *s, size_t n, char *out, size_t outlen)
{
	const char	*p, *end = s + n, *h, *hend, *port = NULL;
	char		 scheme[8], host[ACCESS_ORIGIN_MAX];
	size_t		 i, sl, hl, pl = 0;
	int		 tls, r;

	if ((p = memchr(s, ':', n)) == NULL || (sl = (size_t)(p - s)) == 0 ||
	    sl >= sizeof(scheme) || end - p < 3 || p[1] != '/' || p[2] != '/')
		return -1;
	for (i = 0; i < sl; i++)
		scheme[i] = (char)tolower((unsigned char)s[i]);
	scheme[sl] = '\0';
	if (strcmp(scheme, "http") == 0)
		tls = 0;
	else if (strcmp(scheme, "https") == 0)
		tls = 1;
	else
		return -1;
	h = p + 3;
	if (h < end && *h == '[') {
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL)
			return -1;
		for (p = h + 1; p < hend; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return -1;
		hend++;
	} else {
		for (hend = h; hend < end && host_char((unsigned char)*hend);
		    hend++)
			;
	}
	if (hend == h || (h[0] == '[' && hend - h < 3))
		return -1;
	if (hend < end) {
		if (*hend != ':')
			return -1;
		port = hend + 1;
		pl = (size_t)(end - port);
		if (!all_digits(port, pl) || port_value(port, pl) > 65535 ||
		    port_value(port, pl) == 0)
			return -1;
		/* Leading zeros would make equal ports look different. */
		while (pl > 1 && *port == '0') {
			port++;
			pl--;
		}
		if ((tls && pl == 3 && memcmp(port, "443", 3) == 0) ||
		    (!tls && pl == 2 && memcmp(port, "80", 2) == 0))
			port = NULL;
	}
	hl = (size_t)(hend - h);
	if (hl >= sizeof(host))
		return -1;
	for (i = 0; i < hl; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[hl] = '\0';
	if (port != NULL)
		r = snprintf(out, outlen, "%s://%s:%.*s", scheme, host, (int)pl,
		    port);
	else
		r = snprintf(out, outlen, "%s://%s", scheme, host);
	return r < 0 || (size_t)r >= outlen ? -1 : 0;
}

int
access_origin_self(int tls, const char *host, size_t hlen, char *out,
    size_t outlen)
{
	char	 buf[ACCESS_ORIGIN_MAX];
	int	 r;

	r = snprintf(buf, sizeof(buf), "%s://%.*s", tls ? "https" : "http",
	    (int)hlen, host);
	if (r < 0 || (size_t)r >= sizeof(buf))
		return -1;
	return access_origin_norm(buf, (size_t)r, out, outlen);
}

int
access_proto_tls(const char *s, size_t n)
{
	size_t	 b = n, e = n;

	while (b > 0 && s[b - 1] != ',')
		b--;
	while (b < e && is_ows(s[b]))
		b++;
	while (e > b && is_ows(s[e - 1]))
		e--;
	if (e - b == 5 && strncasecmp(s + b, "https", 5) == 0)
		return 1;
	if (e - b == 4 && strncasecmp(s + b, "http", 4) == 0)
		return 0;
	return -1;
}

int
access_origin_allowed(const char *origin, size_t len, const char *self,
    const char (*allow)[ACCESS_ORIGIN_MAX], size_t nallow)
{
	char	 o[ACCESS_ORIGIN_MAX];
	size_t	 i;

	for (i = 0; i < nallow; i++)
		if (strcmp(allow[i], "*") == 0)
			return 1;
	if (access_origin_norm(origin, len, o, sizeof(o)) == -1)
		return 0;
	if (self != NULL && strcmp(o, self) == 0)
		return 1;
	for (i = 0; i < nallow; i++)
		if (strcmp(o, allow[i]) == 0)
			return 1;
	return 0;
}
