/*
 * UTF-8 validator: the incremental validator fed in arbitrary chunks, the
 * one-shot utf8_valid and an independent reference decoder (fuzz.h) must
 * agree, on where the input first goes wrong too; utf8_decode must agree
 * with the reference on valid input and stay in bounds on any input.
 */
#include "config.h"

#include <string.h>

#include "utf8.h"
#include "fuzz.h"

/*
 * Reference: the length of the longest prefix of p[0, n) that is a prefix
 * of some valid UTF-8 string, i.e. the index of the first byte that the
 * incremental validator must refuse (n if none).  *complete says whether
 * the whole input ends on a character boundary.
 */
static size_t
ref_good_prefix(const uint8_t *p, size_t n, int *complete)
{
	size_t	 i = 0, k;
	uint32_t cp;
	int	 l;

	*complete = 1;
	while (i < n) {
		l = fz_ref_decode(p + i, n - i, &cp);
		if (l > 0) {
			i += (size_t)l;
			continue;
		}
		if (l < 0) {
			*complete = 0;
			return n;
		}
		/* Which byte of the bad sequence is the first wrong one? */
		*complete = 0;
		for (k = 1; i + k <= n; k++)
			if (fz_ref_decode(p + i, k, &cp) == 0)
				return i + k - 1;
		return n;	/* not reached */
	}
	return n;
}

static void
check_chunked(const uint8_t *p, size_t n, uint64_t *rng, size_t good,
    int complete)
{
	struct utf8_state s;
	size_t	 off = 0, c;
	int	 rc, failed = 0;

	utf8_init(&s);
	while (off < n) {
		c = fz_chunk(rng, n - off);
		rc = utf8_feed(&s, p + off, c);
		/* Bad as soon as the chunk holds the first wrong byte. */
		if (good < off + c)
			FUZZ_CHECK(rc == UTF8_BAD);
		else
			FUZZ_CHECK(rc == UTF8_OK);
		if (rc == UTF8_BAD)
			failed = 1;
		/* Sticky. */
		if (failed)
			FUZZ_CHECK(!utf8_complete(&s));
		off += c;
		if (rc == UTF8_OK)
			FUZZ_CHECK(utf8_complete(&s) ==
			    fz_ref_valid(p, off));
	}
	FUZZ_CHECK(utf8_complete(&s) == complete);
	if (failed) {
		/* Once bad, always bad, even for good input. */
		FUZZ_CHECK(utf8_feed(&s, (const uint8_t *)"a", 1) == UTF8_BAD);
		FUZZ_CHECK(utf8_feed(&s, p, 0) == UTF8_BAD);
	}
}

static void
check_decode(const uint8_t *p, size_t n, int valid)
{
	size_t	 i = 0, l;
	uint32_t cp, rcp;
	uint8_t	 enc[4];
	int	 rl;

	while (i < n) {
		l = utf8_decode(p + i, n - i, &cp);
		FUZZ_CHECK(l >= 1 && l <= 4 && l <= n - i);
		if (valid) {
			rl = fz_ref_decode(p + i, n - i, &rcp);
			FUZZ_CHECK(rl > 0 && (size_t)rl == l && rcp == cp);
			FUZZ_CHECK(fz_utf8_encode(cp, enc) == l);
			FUZZ_CHECK(memcmp(enc, p + i, l) == 0);
		}
		i += l;
	}
	FUZZ_CHECK(utf8_decode(p, 0, &cp) == 0);
}

/* Code points from the input, encoded, must validate and decode back. */
static void
check_encode(const uint8_t *p, size_t n)
{
	uint8_t	 buf[4 * 64] = { 0 }, *q;
	uint32_t cps[64], cp;
	size_t	 ncp = 0, len = 0, i, l;

	for (i = 0; i + 3 <= n && ncp < 64; i += 3) {
		cp = ((uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2])
		    % 0x110000;
		if (cp >= 0xd800 && cp <= 0xdfff)
			cp -= 0x800;
		cps[ncp++] = cp;
		len += fz_utf8_encode(cp, buf + len);
	}
	FUZZ_CHECK(utf8_valid(buf, len));
	FUZZ_CHECK(fz_ref_valid(buf, len));
	for (q = buf, i = 0; i < ncp; i++, q += l) {
		l = utf8_decode(q, len - (size_t)(q - buf), &cp);
		FUZZ_CHECK(cp == cps[i]);
	}
	FUZZ_CHECK(q == buf + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t rng = fz_hash(data, size);
	size_t	 good, i;
	int	 complete, valid;
	struct utf8_state s;

	good = ref_good_prefix(data, size, &complete);
	valid = utf8_valid(data, size);
	FUZZ_CHECK(valid == fz_ref_valid(data, size));
	FUZZ_CHECK(valid == complete);
	FUZZ_CHECK(!valid || good == size);

	/* Byte by byte: the first refusal is exactly at the first bad byte. */
	utf8_init(&s);
	for (i = 0; i < size; i++)
		if (utf8_feed(&s, data + i, 1) == UTF8_BAD)
			break;
	FUZZ_CHECK(i == good);

	/* One chunk, and two random chunkings. */
	utf8_init(&s);
	FUZZ_CHECK((utf8_feed(&s, data, size) == UTF8_OK) == (good == size));
	FUZZ_CHECK(utf8_complete(&s) == valid);
	check_chunked(data, size, &rng, good, complete);
	check_chunked(data, size, &rng, good, complete);

	check_decode(data, size, valid);
	check_encode(data, size);
	return 0;
}
