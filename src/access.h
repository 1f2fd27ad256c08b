#ifndef WSCHATD_ACCESS_H
#define WSCHATD_ACCESS_H

/*
 * Who a client is and where it may come from: addresses and prefixes
 * (trusted proxies, per-address limits), X-Forwarded-For, Origin.
 * Pure logic: no sockets, no globals.
 */
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* An address, IPv4 kept in the IPv4-mapped IPv6 form ::ffff:a.b.c.d. */
struct access_addr {
	uint8_t		 a[16];
};

/* ADDR/PREFIX; an IPv4 prefix is kept as 96 + its length. */
struct access_cidr {
	struct access_addr addr;	/* bits past the prefix are zero */
	unsigned	 plen;		/* 0 to 128 */
};

/* Text of an address: "255.255.255.255" or a full IPv6 address. */
#define ACCESS_ADDR_TEXT	46
/* Longest normalized origin (scheme, host and port). */
#define ACCESS_ORIGIN_MAX	256
/* Prefix by which IPv6 clients are counted for per-address limits. */
#define ACCESS_V6_KEY_PREFIX	64

int	access_addr_is_v4(const struct access_addr *);
/*
 * Parse a numeric IPv4 or IPv6 address, as in X-Forwarded-For: an IPv6
 * address may be in brackets, and either may carry a port (a.b.c.d:port,
 * [v6]:port).  Returns 0, or -1 if s[0, len) is anything else.
 */
int	access_addr_parse(const char *, size_t, struct access_addr *);
/* From an AF_INET or AF_INET6 socket address; -1 for another family. */
int	access_addr_from_sockaddr(const struct sockaddr *, struct access_addr *);
/* Canonical text (IPv4-mapped addresses as IPv4) into out[ACCESS_ADDR_TEXT]. */
void	access_addr_text(const struct access_addr *, char *, size_t);
/* The key a client is counted under: the IPv4 address, or the /64 of
 * an IPv6 address. */
void	access_addr_key(const struct access_addr *, struct access_addr *);
int	access_addr_eq(const struct access_addr *, const struct access_addr *);

/* ADDR/PREFIX or a bare ADDR (one host).  Returns 0 or -1. */
int	access_cidr_parse(const char *, struct access_cidr *);
int	access_cidr_match(const struct access_cidr *, const struct access_addr *);
int	access_cidr_list_match(const struct access_cidr *, size_t,
	    const struct access_addr *);

/*
 * The client behind a chain of proxies: the rightmost address of the
 * X-Forwarded-For value xff[0, len) that is not in the trusted list (or
 * the leftmost one if all are).  Returns 0, or -1 if the value is empty
 * or any element is not an address.
 */
int	access_xff_pick(const char *, size_t, const struct access_cidr *,
	    size_t, struct access_addr *);

/*
 * Normalize an origin ("scheme://host[:port]") into out: scheme and host
 * lower-case, the scheme's default port (80, 443) dropped.  Only http and
 * https are origins here.  Returns 0, or -1 if malformed or too long.
 */
int	access_origin_norm(const char *, size_t, char *, size_t);
/*
 * The origin of this server as the request names it: scheme and the Host
 * header, normalized.  Returns 0 or -1.
 */
int	access_origin_self(int tls, const char *host, size_t, char *, size_t);
/*
 * X-Forwarded-Proto: 1 for https, 0 for http (the last element of a
 * list, as the nearest proxy saw it), -1 for anything else.
 */
int	access_proto_tls(const char *, size_t);
/*
 * May a page from origin[0, len) open a WebSocket here?  Yes if it is the
 * server's own origin (self, normalized; may be NULL), or in the allowed
 * list (normalized origins, or "*" for any).
 */
int	access_origin_allowed(const char *, size_t, const char *self,
	    const char (*allow)[ACCESS_ORIGIN_MAX], size_t nallow);

#endif
