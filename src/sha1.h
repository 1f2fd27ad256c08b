#ifndef WSCHATD_SHA1_H
#define WSCHATD_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN	20

/*
 * SHA-1 (FIPS 180-4), for the WebSocket handshake's Sec-WebSocket-Accept
 * only (RFC 6455 4.2.2; no security rests on it).  Our own, so that a
 * worker's handshake does not go through OpenSSL's provider lookup, which
 * takes locks, counts references and caches methods: it wrote to some
 * sixteen heap pages shared with the spawner in every worker.
 */
void	 sha1(const void *, size_t, uint8_t [SHA1_LEN]);

#endif
