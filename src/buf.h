#ifndef WSCHATD_BUF_H
#define WSCHATD_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer: data[off, len) is the content.  Consumed bytes
 * are dropped lazily at the front; the buffer shrinks back when it empties.
 */
struct bbuf {
	uint8_t	*data;
	size_t	 off;
	size_t	 len;
	size_t	 cap;
};

void	 bbuf_init(struct bbuf *);
void	 bbuf_free(struct bbuf *);
int	 bbuf_append(struct bbuf *, const void *, size_t);
/* Make room for n more bytes; returns the write pointer or NULL. */
uint8_t	*bbuf_reserve(struct bbuf *, size_t);
void	 bbuf_commit(struct bbuf *, size_t);
void	 bbuf_consume(struct bbuf *, size_t);
void	 bbuf_reset(struct bbuf *);
static inline size_t bbuf_size(const struct bbuf *b) { return b->len - b->off; }
/* Never NULL: an empty buffer that was never allocated has a valid head
 * too (NULL + 0 is undefined behaviour). */
static inline uint8_t *
bbuf_head(const struct bbuf *b)
{
	static uint8_t	 empty[1];

	return b->data != NULL ? b->data + b->off : empty;
}

/*
 * A reference-counted byte string: one formatted event frame shared by
 * every client queue that holds it.  Immutable once shared; while it has
 * one holder, rbuf_append may add to it up to its capacity.
 */
struct rbuf {
	unsigned	 refs;
	size_t		 len;
	size_t		 cap;		/* bytes allocated for data */
	uint8_t		 data[];
};

struct rbuf	*rbuf_new(const void *, size_t);
struct rbuf	*rbuf_alloc(size_t);
struct rbuf	*rbuf_ref(struct rbuf *);
/* Append n bytes if r has one holder and room: 0, else -1 (unchanged). */
int		 rbuf_append(struct rbuf *, const void *, size_t);
void		 rbuf_unref(struct rbuf *);

#endif
