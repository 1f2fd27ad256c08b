#ifndef WSCHATD_UTF8_H
#define WSCHATD_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Incremental UTF-8 validator.  Feed any split of a byte stream; the first
 * byte that cannot start or continue a well-formed sequence (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF) fails at once.
 */
struct utf8_state {
	uint8_t	need;		/* continuation bytes still expected */
	uint8_t	lo, hi;		/* range allowed for the next one */
	uint8_t	bad;		/* sticky failure */
};

#define UTF8_OK		0	/* valid so far */
#define UTF8_BAD	(-1)

void	utf8_init(struct utf8_state *);
int	utf8_feed(struct utf8_state *, const uint8_t *, size_t);
/* True when the stream so far ends on a character boundary. */
int	utf8_complete(const struct utf8_state *);
/* Whole-buffer check. */
int	utf8_valid(const uint8_t *, size_t);
/* Decode one code point of valid UTF-8 at p; returns its length. */
size_t	utf8_decode(const uint8_t *, size_t, uint32_t *);

#endif
