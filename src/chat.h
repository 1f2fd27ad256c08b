#ifndef WSCHATD_CHAT_H
#define WSCHATD_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Client message types. */
#define CHAT_JOIN		1
#define CHAT_MESSAGE		2

/* Results: CHAT_OK or one of the protocol's error codes. */
#define CHAT_OK			0
#define CHAT_E_BAD_JSON		1
#define CHAT_E_UNKNOWN_TYPE	2
#define CHAT_E_NOT_JOINED	3
#define CHAT_E_ALREADY_JOINED	4
#define CHAT_E_NAME_INVALID	5
#define CHAT_E_NAME_TAKEN	6
#define CHAT_E_TOO_LONG		7
#define CHAT_E_RATE_LIMITED	8
#define CHAT_E_MAX		8

/* Nesting accepted in a client's JSON; deeper is bad_json. */
#define CHAT_JSON_DEPTH		8

struct chat_msg {
	int	 type;
	char	*str;		/* the trimmed name, or the text (malloc'd) */
	size_t	 len;
};

/*
 * Parse one client payload (valid UTF-8).  Returns CHAT_OK and fills msg
 * (free with chat_msg_free), or the error code to answer with.
 */
int	 chat_parse(const char *, size_t, size_t max_text, struct chat_msg *);
void	 chat_msg_free(struct chat_msg *);

/*
 * Trim white space around a UTF-8 name and check it: 1 to 32 code points,
 * no control characters.  Returns CHAT_OK with *off and *len locating the
 * trimmed name in the input, or CHAT_E_NAME_INVALID.
 */
int	 chat_name_check(const char *, size_t, size_t *off, size_t *len);
/* Check a text: valid UTF-8, 1 to max bytes. */
int	 chat_text_check(const char *, size_t, size_t max);
/* Names compare case-insensitively, ASCII letters folded. */
int	 chat_name_equal(const char *, size_t, const char *, size_t);
uint32_t chat_name_hash(const char *, size_t);

const char *chat_err_code(int);
const char *chat_err_text(int);

/* JSON writers (append to b; -1 on allocation failure). */
int	 chat_json_string(struct bbuf *, const char *, size_t);
int	 chat_fmt_event(struct bbuf *, const char *type, uint64_t id,
	    int64_t ts, const char *name, size_t nlen,
	    const char *text, size_t tlen);
int	 chat_fmt_error(struct bbuf *, int err);

/* Per-client token bucket (rate per second, burst tokens). */
struct chat_rate {
	double	 tokens;
	int64_t	 last_ms;
};
void	 chat_rate_init(struct chat_rate *, unsigned burst, int64_t now_ms);
/* 1 if a message may pass now (and takes a token), 0 if over the rate. */
int	 chat_rate_take(struct chat_rate *, unsigned rate, unsigned burst,
	    int64_t now_ms);

#endif
