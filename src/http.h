#ifndef WSCHATD_HTTP_H
#define WSCHATD_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "wslimits.h"

struct http_hdr {
	const char	*name;
	size_t		 nlen;
	const char	*val;
	size_t		 vlen;
};

struct http_request {
	const char	*method;
	size_t		 mlen;
	const char	*target;
	size_t		 tlen;
	int		 minor;		/* HTTP/1.<minor> */
	struct http_hdr	 hdr[HTTP_MAX_HEADERS];
	int		 nhdr;
	size_t		 head_len;	/* bytes up to and including the blank line */
};

/* Incremental state: how far the buffer has been searched. */
struct http_parser {
	size_t		 scanned;
	int		 line_ok;	/* request line already checked */
};

#define HTTP_MORE	0

void	http_parser_init(struct http_parser *);
/*
 * Look at buf[0, len): the bytes of a request received so far.  Returns
 * HTTP_MORE while the head is incomplete, the head's length when it is
 * complete (req filled in, pointing into buf), or the negated HTTP status
 * (400, 431, 505) to answer with when the input can never be a valid head.
 */
int	http_parse(struct http_parser *, const char *, size_t,
	    struct http_request *);

const struct http_hdr *http_get(const struct http_request *, const char *);
int	http_count(const struct http_request *, const char *);
/* Does the comma-separated header value contain token (case-insensitive)? */
int	http_has_token(const struct http_hdr *, const char *);
int	http_method_is(const struct http_request *, const char *);

/*
 * Decode the path of an origin-form target into out: percent escapes
 * decoded, query dropped.  Returns 0, or 400 for a malformed or NUL escape
 * or a target that is not a path, 414 if it does not fit.
 */
int	http_path_decode(const char *, size_t, char *, size_t);

const char *http_reason(int);
const char *http_mime(const char *);

/* Append a response head. */
int	http_response_head(struct bbuf *, int status, const char *ctype,
	    size_t clen, int keepalive, const char *extra);
/* Append a complete short response with a text body naming the status. */
int	http_response_simple(struct bbuf *, int status, int head_only,
	    int keepalive, const char *extra);

#endif
