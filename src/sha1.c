/* SHA-1 as FIPS 180-4 describes it: one call, whole message in memory. */
#include "config.h"

#include <string.h>

#include "sha1.h"

#define SHA1_BLOCK	64
/* The message length is the last 8 bytes of the last block. */
#define SHA1_LENBYTES	8

static inline uint32_t
rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t	 w[80], a, b, c, d, e, f, k, t;
	int		 i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void
sha1(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
	uint32_t	 h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
			    0x10325476, 0xc3d2e1f0 };
	const uint8_t	*p = data;
	uint8_t		 last[2 * SHA1_BLOCK];
	uint64_t	 bits = (uint64_t)len * 8;
	size_t		 rest, n, i;

	for (; len >= SHA1_BLOCK; len -= SHA1_BLOCK, p += SHA1_BLOCK)
		sha1_block(h, p);
	/* The tail, 0x80, zeros, and the length: one block or two. */
	rest = len;
	n = rest + 1 + SHA1_LENBYTES <= SHA1_BLOCK ? SHA1_BLOCK :
	    2 * SHA1_BLOCK;
	memset(last, 0, sizeof(last));
	if (rest > 0)
		memcpy(last, p, rest);
	last[rest] = 0x80;
	for (i = 0; i < SHA1_LENBYTES; i++)
		last[n - 1 - i] = (uint8_t)(bits >> (8 * i));
	for (i = 0; i < n; i += SHA1_BLOCK)
		sha1_block(h, last + i);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}
