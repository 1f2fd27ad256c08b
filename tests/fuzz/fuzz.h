/*
 * Helpers shared by the libFuzzer targets in tests/fuzz.  Each target
 * defines LLVMFuzzerTestOneInput; it is linked either with libFuzzer
 * (configure --enable-fuzzing) or with replay.c, a plain main() that runs
 * files through it (make check).
 */
#ifndef WSCHATD_FUZZ_H
#define WSCHATD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* An invariant: report it and abort, which libFuzzer records as a crash. */
#define FUZZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/*
 * The fuzzers' own buffers go through this, so that they never depend on
 * what bbuf_head() does with a buffer that never held anything (it used
 * to compute NULL + 0: see regressions/README).
 */
static inline const uint8_t *
fz_head(const struct bbuf *b)
{
	static const uint8_t empty[1];

	return b->data != NULL ? bbuf_head(b) : empty;
}

/* Consume structured values from the front of the input; zeros when dry. */
struct fz {
	const uint8_t	*p;
	size_t		 n;
};

static inline uint8_t
fz_u8(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t
fz_u16(struct fz *f)
{
	uint16_t v = fz_u8(f);

	return (uint16_t)(v << 8 | fz_u8(f));
}

static inline uint32_t
fz_u32(struct fz *f)
{
	uint32_t v = fz_u16(f);

	return v << 16 | fz_u16(f);
}

static inline uint64_t
fz_u64(struct fz *f)
{
	uint64_t v = fz_u32(f);

	return v << 32 | fz_u32(f);
}

/* Take up to n bytes; returns how many were available. */
static inline size_t
fz_bytes(struct fz *f, size_t n, const uint8_t **p)
{
	if (n > f->n)
		n = f->n;
	*p = f->p;
	f->p += n;
	f->n -= n;
	return n;
}

/*
 * A small PRNG for choices that should not eat input bytes (split points
 * of a stream), seeded from a hash of the input so runs reproduce.
 */
static inline uint64_t
fz_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a 64 */
	size_t	 i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static inline uint64_t
fz_rand(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A chunk length in [1, max], biased towards small ones. */
static inline size_t
fz_chunk(uint64_t *s, size_t max)
{
	uint64_t r = fz_rand(s);
	size_t	 c;

	if (max <= 1)
		return 1;
	switch (r & 3) {
	case 0:
		c = 1;
		break;
	case 1:
		c = 1 + (size_t)((r >> 8) % 8);
		break;
	case 2:
		c = 1 + (size_t)((r >> 8) % 64);
		break;
	default:
		c = 1 + (size_t)((r >> 8) % max);
		break;
	}
	return c > max ? max : c;
}

/* Straightforward UTF-8 encoder (cp must be a scalar value). */
static inline size_t
fz_utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Reference UTF-8 decoder, written from RFC 3629 without looking at
 * src/utf8.c: decode one scalar value at p[0, n).  Returns its length, 0
 * if the bytes there are not well-formed, or -1 if they are a proper
 * prefix of a well-formed sequence cut by the end of the input.
 */
static inline int
fz_ref_decode(const uint8_t *p, size_t n, uint32_t *cpp)
{
	uint32_t cp, min;
	size_t	 len, i;

	if (p[0] < 0x80) {
		*cpp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	for (i = 1; i < len; i++) {
		if (i >= n) {
			/*
			 * Cut short: still a prefix of a valid sequence if
			 * some continuation bytes could complete it.  Try
			 * the smallest and largest completions.
			 */
			uint8_t	 t[4];
			uint32_t c;
			size_t	 j;
			int	 lo, hi;

			for (j = 0; j < i; j++)
				t[j] = p[j];
			for (j = i; j < len; j++)
				t[j] = 0x80;
			lo = fz_ref_decode(t, len, &c);
			for (j = i; j < len; j++)
				t[j] = 0xbf;
			hi = fz_ref_decode(t, len, &c);
			/*
			 * The limits (overlongs, surrogates, U+10FFFF) are
			 * ranges, so one of the two extremes is valid if
			 * any completion is.
			 */
			if (lo > 0 || hi > 0)
				return -1;
			return 0;
		}
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpp = cp;
	return (int)len;
}

/* Whole-buffer reference check. */
static inline int
fz_ref_valid(const uint8_t *p, size_t n)
{
	size_t	 i = 0;
	uint32_t cp;
	int	 l;

	while (i < n) {
		if ((l = fz_ref_decode(p + i, n - i, &cp)) <= 0)
			return 0;
		i += (size_t)l;
	}
	return 1;
}

#endif
