/*
 * The chat protocol (doc/protocol.md): parse client messages with json-c,
 * check names and texts, format server events.  Pure logic.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "chat.h"
#include "wslimits.h"
#include "utf8.h"

static const struct {
	const char	*code;
	const char	*text;
} errors[CHAT_E_MAX + 1] = {
	[CHAT_E_BAD_JSON] = { "bad_json",
	    "a message must be one JSON object with the fields of its type" },
	[CHAT_E_UNKNOWN_TYPE] = { "unknown_type",
	    "the type field is missing or not a known message type" },
	[CHAT_E_NOT_JOINED] = { "not_joined",
	    "join with a name before sending messages" },
	[CHAT_E_ALREADY_JOINED] = { "already_joined",
	    "this connection has already joined" },
	[CHAT_E_NAME_INVALID] = { "name_invalid",
	    "a name is 1 to 32 characters without control characters" },
	[CHAT_E_NAME_TAKEN] = { "name_taken",
	    "that name is in use" },
	[CHAT_E_TOO_LONG] = { "too_long",
	    "the text is longer than the server allows" },
	[CHAT_E_RATE_LIMITED] = { "rate_limited",
	    "too many messages; this one was dropped" },
};

const char *
chat_err_code(int err)
{
	if (err < 1 || err > CHAT_E_MAX)
		return "internal";
	return errors[err].code;
}

const char *
chat_err_text(int err)
{
	if (err < 1 || err > CHAT_E_MAX)
		return "internal error";
	return errors[err].text;
}

void
chat_msg_free(struct chat_msg *m)
{
	free(m->str);
	m->str = NULL;
	m->len = 0;
}

/* Unicode White_Space at p (valid UTF-8); returns its length or 0. */
static size_t
space_at(const uint8_t *p, size_t n)
{
	uint32_t	 cp;
	size_t		 l = utf8_decode(p, n, &cp);

	switch (cp) {
	case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return l;
	}
	if (cp >= 0x2000 && cp <= 0x200a)
		return l;
	return 0;
}

/* Length of the last code point of p[0, n) (valid UTF-8). */
static size_t
last_cp(const uint8_t *p, size_t n)
{
	size_t	 l = 1;

	while (l < n && l < 4 && (p[n - l] & 0xc0) == 0x80)
		l++;
	return l;
}

int
chat_name_check(const char *name, size_t n, size_t *offp, size_t *lenp)
{
	const uint8_t	*p = (const uint8_t *)name;
	size_t		 s = 0, e = n, l, i, count = 0;
	uint32_t	 cp;

	if (!utf8_valid(p, n))
		return CHAT_E_NAME_INVALID;
	while (s < e && (l = space_at(p + s, e - s)) > 0)
		s += l;
	while (e > s) {
		l = last_cp(p + s, e - s);
		if (space_at(p + e - l, l) == 0)
			break;
		e -= l;
	}
	if (s == e)
		return CHAT_E_NAME_INVALID;
	for (i = s; i < e; i += l) {
		l = utf8_decode(p + i, e - i, &cp);
		if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f))
			return CHAT_E_NAME_INVALID;
		if (++count > CHAT_NAME_MAX)
			return CHAT_E_NAME_INVALID;
	}
	*offp = s;
	*lenp = e - s;
	return CHAT_OK;
}

int
chat_text_check(const char *text, size_t n, size_t max)
{
	if (n == 0)
		return CHAT_E_BAD_JSON;
	if (n > max)
		return CHAT_E_TOO_LONG;
	if (!utf8_valid((const uint8_t *)text, n))
		return CHAT_E_BAD_JSON;
	return CHAT_OK;
}

static unsigned char
fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int
chat_name_equal(const char *a, size_t al, const char *b, size_t bl)
{
	size_t	 i;

	if (al != bl)
		return 0;
	for (i = 0; i < al; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return 0;
	return 1;
}

uint32_t
chat_name_hash(const char *s, size_t n)
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */
	size_t		 i;

	for (i = 0; i < n; i++) {
		h ^= fold((unsigned char)s[i]);
		h *= 16777619u;
	}
	return h;
}

static int
get_string(struct json_object *o, const char *key, const char **s, size_t *n)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	return 0;
}

static int
hex4(const char *p, size_t n, unsigned *v)
{
	size_t	 i;
	int	 c;

	if (n < 4)
		return -1;
	*v = 0;
	for (i = 0; i < 4; i++) {
		c = (unsigned char)p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return -1;
		*v = *v << 4 | (unsigned)c;
	}
	return 0;
}

/*
 * Does the (syntactically valid) JSON text escape half of a surrogate
 * pair without the other half?  json-c would quietly turn it into
 * U+FFFD; the protocol refuses text that has no UTF-8 form instead.
 */
static int
lone_surrogate(const char *p, size_t n)
{
	size_t		 i;
	unsigned	 v, w;

	for (i = 0; i + 1 < n; i++) {
		if (p[i] != '\\')
			continue;
		if (p[++i] != 'u' || hex4(p + i + 1, n - i - 1, &v) == -1)
			continue;
		i += 4;
		if (v >= 0xdc00 && v <= 0xdfff)
			return 1;
		if (v < 0xd800 || v > 0xdbff)
			continue;
		if (i + 2 >= n || p[i + 1] != '\\' || p[i + 2] != 'u' ||
		    hex4(p + i + 3, n - i - 3, &w) == -1 ||
		    w < 0xdc00 || w > 0xdfff)
			return 1;
		i += 6;
	}
	return 0;
}

int
chat_parse(const char *buf, size_t len, size_t max_text, struct chat_msg *m)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	const char		*type, *s;
	size_t			 tl, n, off, i;
	int			 rc;

	memset(m, 0, sizeof(*m));
	if (len > INT32_MAX)
		return CHAT_E_BAD_JSON;
	/* json-c counts its depth limit exclusive of the last level. */
	if ((tok = json_tokener_new_ex(CHAT_JSON_DEPTH + 1)) == NULL)
		return CHAT_E_BAD_JSON;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		/* Only white space may follow the object. */
		for (i = json_tokener_get_parse_end(tok); i < len; i++)
			if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
			    buf[i] != '\n')
				break;
		if (i < len) {
			json_object_put(o);
			o = NULL;
		}
	} else if (o != NULL) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o != NULL && lone_surrogate(buf, len)) {
		json_object_put(o);
		o = NULL;
	}
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return CHAT_E_BAD_JSON;
	}

	rc = CHAT_E_UNKNOWN_TYPE;
	if (get_string(o, "type", &type, &tl) == -1)
		goto done;
	if (tl == 4 && memcmp(type, "join", 4) == 0) {
		m->type = CHAT_JOIN;
		rc = CHAT_E_NAME_INVALID;
		if (get_string(o, "name", &s, &n) == -1 ||
		    chat_name_check(s, n, &off, &n) != CHAT_OK)
			goto done;
		s += off;
	} else if (tl == 7 && memcmp(type, "message", 7) == 0) {
		m->type = CHAT_MESSAGE;
		rc = CHAT_E_BAD_JSON;
		if (get_string(o, "text", &s, &n) == -1)
			goto done;
		if ((rc = chat_text_check(s, n, max_text)) != CHAT_OK)
			goto done;
	} else
		goto done;
	rc = CHAT_E_BAD_JSON;
	if ((m->str = malloc(n + 1)) == NULL)
		goto done;
	memcpy(m->str, s, n);
	m->str[n] = '\0';
	m->len = n;
	rc = CHAT_OK;
 done:
	json_object_put(o);
	if (rc != CHAT_OK)
		m->type = 0;
	return rc;
}

int
chat_json_string(struct bbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 i, run = 0;
	unsigned char	 c;
	char		 esc[6];

	if (bbuf_append(b, "\"", 1) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (bbuf_append(b, s + run, i - run) == -1)
			return -1;
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': case '\\':
			esc[1] = (char)c;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			if (bbuf_append(b, esc, 6) == -1)
				return -1;
			continue;
		}
		if (bbuf_append(b, esc, 2) == -1)
			return -1;
	}
	if (bbuf_append(b, s + run, n - run) == -1)
		return -1;
	return bbuf_append(b, "\"", 1);
}

int
chat_fmt_event(struct bbuf *b, const char *type, uint64_t id, int64_t ts,
    const char *name, size_t nlen, const char *text, size_t tlen)
{
	char	 head[128];
	int	 n;

	n = snprintf(head, sizeof(head),
	    "{\"type\":\"%s\",\"id\":%" PRIu64 ",\"ts\":%" PRId64 ",\"%s\":",
	    type, id, ts, text != NULL ? "from" : "name");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (bbuf_append(b, head, (size_t)n) == -1 ||
	    chat_json_string(b, name, nlen) == -1)
		return -1;
	if (text != NULL && (bbuf_append(b, ",\"text\":", 8) == -1 ||
	    chat_json_string(b, text, tlen) == -1))
		return -1;
	return bbuf_append(b, "}", 1);
}

int
chat_fmt_error(struct bbuf *b, int err)
{
	char	 s[256];
	int	 n;

	n = snprintf(s, sizeof(s),
	    "{\"type\":\"error\",\"code\":\"%s\",\"message\":\"%s\"}",
	    chat_err_code(err), chat_err_text(err));
	if (n < 0 || (size_t)n >= sizeof(s))
		return -1;
	return bbuf_append(b, s, (size_t)n);
}

void
chat_rate_init(struct chat_rate *r, unsigned burst, int64_t now_ms)
{
	r->tokens = burst;
	r->last_ms = now_ms;
}

int
chat_rate_take(struct chat_rate *r, unsigned rate, unsigned burst,
    int64_t now_ms)
{
	if (rate == 0)
		return 1;
	if (now_ms > r->last_ms) {
		r->tokens += (double)(now_ms - r->last_ms) * rate / 1000.0;
		if (r->tokens > burst)
			r->tokens = burst;
		r->last_ms = now_ms;
	}
	if (r->tokens < 1.0)
		return 0;
	r->tokens -= 1.0;
	return 1;
}
