#include "config.h"

#include "utf8.h"

void
utf8_init(struct utf8_state *s)
{
	s->need = 0;
	s->lo = 0x80;
	s->hi = 0xbf;
	s->bad = 0;
}

/*
 * Lead byte: how many continuation bytes follow, and the range of the
 * first one (narrowed to exclude overlongs, surrogates and > U+10FFFF).
 */
static int
utf8_lead(struct utf8_state *s, uint8_t c)
{
	s->lo = 0x80;
	s->hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		s->need = 1;
	else if (c == 0xe0) {
		s->need = 2;
		s->lo = 0xa0;
	} else if (c == 0xed) {
		s->need = 2;
		s->hi = 0x9f;
	} else if (c >= 0xe1 && c <= 0xef)
		s->need = 2;
	else if (c == 0xf0) {
		s->need = 3;
		s->lo = 0x90;
	} else if (c >= 0xf1 && c <= 0xf3)
		s->need = 3;
	else if (c == 0xf4) {
		s->need = 3;
		s->hi = 0x8f;
	} else
		return UTF8_BAD;
	return UTF8_OK;
}

int
utf8_feed(struct utf8_state *s, const uint8_t *p, size_t n)
{
	size_t	 i;
	uint8_t	 c;

	if (s->bad)
		return UTF8_BAD;
	for (i = 0; i < n; i++) {
		c = p[i];
		if (s->need == 0) {
			if (c < 0x80)
				continue;
			if (utf8_lead(s, c) == UTF8_BAD)
				goto bad;
			continue;
		}
		if (c < s->lo || c > s->hi)
			goto bad;
		s->need--;
		s->lo = 0x80;
		s->hi = 0xbf;
	}
	return UTF8_OK;
 bad:
	s->bad = 1;
	return UTF8_BAD;
}

int
utf8_complete(const struct utf8_state *s)
{
	return !s->bad && s->need == 0;
}

int
utf8_valid(const uint8_t *p, size_t n)
{
	struct utf8_state s;

	utf8_init(&s);
	return utf8_feed(&s, p, n) == UTF8_OK && utf8_complete(&s);
}

size_t
utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xe0 && n >= 2) {
		*cp = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		return 2;
	}
	if (p[0] < 0xf0 && n >= 3) {
		*cp = ((uint32_t)(p[0] & 0x0f) << 12) |
		    ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		return 3;
	}
	if (n >= 4) {
		*cp = ((uint32_t)(p[0] & 0x07) << 18) |
		    ((uint32_t)(p[1] & 0x3f) << 12) |
		    ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
		return 4;
	}
	*cp = 0xfffd;
	return 1;
}
