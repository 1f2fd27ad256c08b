#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Smallest allocation; buffers start empty and grow on demand. */
#define BBUF_MIN	512

void
bbuf_init(struct bbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
bbuf_free(struct bbuf *b)
{
	free(b->data);
	bbuf_init(b);
}

void
bbuf_reset(struct bbuf *b)
{
	b->off = b->len = 0;
	/* Give large buffers back once they are empty. */
	if (b->cap > 64 * 1024)
		bbuf_free(b);
}

uint8_t *
bbuf_reserve(struct bbuf *b, size_t n)
{
	size_t	 need, ncap;
	uint8_t	*p;

	if (b->cap - b->len >= n)
		return b->data + b->len;
	/* Compact first: consumed bytes at the front are free space. */
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return b->data + b->len;
	}
	if (n > SIZE_MAX / 2 - b->len)
		return NULL;
	need = b->len + n;
	ncap = b->cap ? b->cap : BBUF_MIN;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		return NULL;
	b->data = p;
	b->cap = ncap;
	return b->data + b->len;
}

void
bbuf_commit(struct bbuf *b, size_t n)
{
	b->len += n;
}

int
bbuf_append(struct bbuf *b, const void *p, size_t n)
{
	uint8_t	*w;

	if (n == 0)
		return 0;
	if ((w = bbuf_reserve(b, n)) == NULL)
		return -1;
	memcpy(w, p, n);
	b->len += n;
	return 0;
}

void
bbuf_consume(struct bbuf *b, size_t n)
{
	if (n >= b->len - b->off)
		bbuf_reset(b);
	else
		b->off += n;
}

struct rbuf *
rbuf_alloc(size_t len)
{
	struct rbuf	*r;

	if (len > SIZE_MAX - sizeof(*r))
		return NULL;
	if ((r = malloc(sizeof(*r) + len)) == NULL)
		return NULL;
	r->refs = 1;
	r->len = r->cap = len;
	return r;
}

struct rbuf *
rbuf_new(const void *p, size_t len)
{
	struct rbuf	*r;

	if ((r = rbuf_alloc(len)) != NULL && len > 0)
		memcpy(r->data, p, len);
	return r;
}

int
rbuf_append(struct rbuf *r, const void *p, size_t n)
{
	if (r->refs != 1 || r->cap - r->len < n)
		return -1;
	if (n > 0)
		memcpy(r->data + r->len, p, n);
	r->len += n;
	return 0;
}

struct rbuf *
rbuf_ref(struct rbuf *r)
{
	r->refs++;
	return r;
}

void
rbuf_unref(struct rbuf *r)
{
	if (r != NULL && --r->refs == 0)
		free(r);
}
