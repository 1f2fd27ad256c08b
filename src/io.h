#ifndef WSCHATD_IO_H
#define WSCHATD_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/* Results of io_read and io_flush besides byte counts. */
#define IO_AGAIN	(-2)
#define IO_ERROR	(-1)
#define IO_RETRY	(-3)

int	 io_nonblock(int);
/*
 * Classify the errno of a failed read/write/send/recv: IO_RETRY for EINTR
 * (call again), IO_AGAIN for a full or empty nonblocking socket, else
 * IO_ERROR.  Every I/O loop in wschatd goes through this.
 */
int	 io_failed(void);
/* Read what is there (at most max) into b: >0 bytes, 0 EOF, IO_AGAIN, IO_ERROR. */
ssize_t	 io_read(int, struct bbuf *, size_t max);
/* Write as much of b as the socket takes: 0 all written, IO_AGAIN, IO_ERROR. */
int	 io_flush(int, struct bbuf *);
int64_t	 io_now_ms(void);	/* wall clock, ms since the epoch */
int64_t	 io_mono_ms(void);	/* monotonic clock, ms */
struct sockaddr;
/* "1.2.3.4:5" or "[::1]:5" */
void	 io_addr_text(const struct sockaddr *, char *, size_t);

#endif
