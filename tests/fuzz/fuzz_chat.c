/*
 * Chat messages.  chat_parse on the input must give a result that holds
 * up: a name that is valid, trimmed and stable under chat_name_check, a
 * text within max_text; the answer for every max_text follows from the
 * text's length.  Round trips: the parsed string formatted as a server
 * event (chat_fmt_event) and parsed back by json-c, and as a client
 * message (chat_json_string) and parsed back by chat_parse, must come
 * back byte for byte.  The same for the input itself when it is valid
 * UTF-8: as a JSON string, as a text and as a name.
 */
#include "config.h"

#include <string.h>

#include <json.h>

#include "chat.h"
#include "utf8.h"
#include "wslimits.h"
#include "fuzz.h"

static int
is_space(uint32_t cp)
{
	switch (cp) {
	case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return 1;
	}
	return cp >= 0x2000 && cp <= 0x200a;
}

/* A name as PROTOCOL.md has it, checked with the reference decoder. */
static void
check_name(const char *s, size_t n)
{
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 i = 0, count = 0, off = 1, len = 0;
	uint32_t	 cp = 0, first = 0;
	int		 l;

	FUZZ_CHECK(n >= 1 && n <= CHAT_NAME_MAX_BYTES);
	while (i < n) {
		l = fz_ref_decode(p + i, n - i, &cp);
		FUZZ_CHECK(l > 0);
		if (i == 0)
			first = cp;
		FUZZ_CHECK(cp > 0x1f && (cp < 0x7f || cp > 0x9f));
		i += (size_t)l;
		count++;
	}
	FUZZ_CHECK(count >= 1 && count <= CHAT_NAME_MAX);
	FUZZ_CHECK(!is_space(first) && !is_space(cp));
	/* Idempotent: a checked name is its own trimmed form. */
	FUZZ_CHECK(chat_name_check(s, n, &off, &len) == CHAT_OK);
	FUZZ_CHECK(off == 0 && len == n);
}

/* Parse JSON text with json-c, strictly. */
static struct json_object *
jparse(const char *s, size_t n)
{
	struct json_tokener *tok;
	struct json_object *o;

	FUZZ_CHECK((tok = json_tokener_new()) != NULL);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)n);
	FUZZ_CHECK(o != NULL);
	FUZZ_CHECK(json_tokener_get_error(tok) == json_tokener_success);
	FUZZ_CHECK(json_tokener_get_parse_end(tok) == n);
	json_tokener_free(tok);
	return o;
}

static void
jstring_is(struct json_object *o, const char *key, const char *s, size_t n)
{
	struct json_object *v;

	FUZZ_CHECK(json_object_object_get_ex(o, key, &v));
	FUZZ_CHECK(json_object_is_type(v, json_type_string));
	FUZZ_CHECK((size_t)json_object_get_string_len(v) == n);
	FUZZ_CHECK(memcmp(json_object_get_string(v), s, n) == 0);
}

static void
jint_is(struct json_object *o, const char *key, int64_t i)
{
	struct json_object *v;

	FUZZ_CHECK(json_object_object_get_ex(o, key, &v));
	FUZZ_CHECK(json_object_is_type(v, json_type_int));
	FUZZ_CHECK(json_object_get_int64(v) == i);
}

static void
juint_is(struct json_object *o, const char *key, uint64_t u)
{
	struct json_object *v;

	FUZZ_CHECK(json_object_object_get_ex(o, key, &v));
	FUZZ_CHECK(json_object_is_type(v, json_type_int));
	FUZZ_CHECK(json_object_get_uint64(v) == u);
}

/* Server event with this name (and text): json-c must read it back. */
static void
event_roundtrip(const char *name, size_t nlen, const char *text, size_t tlen,
    uint64_t id, int64_t ts)
{
	struct bbuf	 b;
	struct json_object *o;

	bbuf_init(&b);
	FUZZ_CHECK(chat_fmt_event(&b, text ? "message" : "join", id, ts,
	    name, nlen, text, tlen) == 0);
	o = jparse((const char *)fz_head(&b), bbuf_size(&b));
	FUZZ_CHECK(json_object_is_type(o, json_type_object));
	FUZZ_CHECK(json_object_object_length(o) == (text ? 5 : 4));
	jstring_is(o, "type", text ? "message" : "join", text ? 7 : 4);
	juint_is(o, "id", id);
	jint_is(o, "ts", ts);
	jstring_is(o, text ? "from" : "name", name, nlen);
	if (text)
		jstring_is(o, "text", text, tlen);
	json_object_put(o);
	bbuf_free(&b);
}

/*
 * A client message made with chat_json_string: chat_parse must give the
 * same string back (texts), or the trimmed name.  Returns chat_parse's
 * result; *m is freed.
 */
#define J_JOIN	"{\"type\":\"join\",\"name\":"
#define J_MSG	"{\"type\":\"message\",\"text\":"

static int
client_roundtrip(int type, const char *s, size_t n, size_t max_text,
    struct chat_msg *m)
{
	struct bbuf	 b;
	int		 rc;

	bbuf_init(&b);
	if (type == CHAT_JOIN)
		FUZZ_CHECK(bbuf_append(&b, J_JOIN, sizeof(J_JOIN) - 1) == 0);
	else
		FUZZ_CHECK(bbuf_append(&b, J_MSG, sizeof(J_MSG) - 1) == 0);
	FUZZ_CHECK(chat_json_string(&b, s, n) == 0);
	FUZZ_CHECK(bbuf_append(&b, "}", 1) == 0);
	rc = chat_parse((const char *)fz_head(&b), bbuf_size(&b), max_text, m);
	bbuf_free(&b);
	return rc;
}

static void
check_text_limits(const char *s, size_t n)
{
	struct chat_msg	 m;
	size_t		 maxes[4], i;
	int		 rc;

	maxes[0] = n;
	maxes[1] = n - 1;
	maxes[2] = DEF_MAX_TEXT;
	maxes[3] = n / 2;
	for (i = 0; i < 4; i++) {
		rc = client_roundtrip(CHAT_MESSAGE, s, n, maxes[i], &m);
		if (n > maxes[i]) {
			FUZZ_CHECK(rc == CHAT_E_TOO_LONG);
			FUZZ_CHECK(m.str == NULL && m.type == 0);
		} else {
			FUZZ_CHECK(rc == CHAT_OK && m.type == CHAT_MESSAGE);
			FUZZ_CHECK(m.len == n && memcmp(m.str, s, n) == 0);
			FUZZ_CHECK(m.str[n] == '\0');
		}
		chat_msg_free(&m);
	}
}

/* Arbitrary valid UTF-8 as a JSON string, a text and a name. */
static void
check_string(const char *s, size_t n)
{
	struct bbuf	 b;
	struct json_object *o;
	struct chat_msg	 m;
	size_t		 off, len;
	int		 rc;

	bbuf_init(&b);
	FUZZ_CHECK(chat_json_string(&b, s, n) == 0);
	o = jparse((const char *)fz_head(&b), bbuf_size(&b));
	FUZZ_CHECK(json_object_is_type(o, json_type_string));
	FUZZ_CHECK((size_t)json_object_get_string_len(o) == n);
	FUZZ_CHECK(memcmp(json_object_get_string(o), s, n) == 0);
	json_object_put(o);
	bbuf_free(&b);

	if (n > 0)
		check_text_limits(s, n);
	else {
		rc = client_roundtrip(CHAT_MESSAGE, s, n, DEF_MAX_TEXT, &m);
		FUZZ_CHECK(rc == CHAT_E_BAD_JSON);
		chat_msg_free(&m);
	}

	rc = chat_name_check(s, n, &off, &len);
	FUZZ_CHECK(rc == CHAT_OK || rc == CHAT_E_NAME_INVALID);
	if (rc == CHAT_OK) {
		FUZZ_CHECK(off <= n && len <= n - off);
		check_name(s + off, len);
	}
	rc = client_roundtrip(CHAT_JOIN, s, n, DEF_MAX_TEXT, &m);
	if (rc == CHAT_OK) {
		FUZZ_CHECK(m.type == CHAT_JOIN);
		FUZZ_CHECK(chat_name_check(s, n, &off, &len) == CHAT_OK);
		FUZZ_CHECK(m.len == len && memcmp(m.str, s + off, len) == 0);
	} else
		FUZZ_CHECK(rc == CHAT_E_NAME_INVALID &&
		    chat_name_check(s, n, &off, &len) != CHAT_OK);
	chat_msg_free(&m);
}

static void
check_name_fold(const char *s, size_t n)
{
	char	*t;
	size_t	 i;

	if ((t = malloc(n ? n : 1)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		t[i] = s[i];
		if (t[i] >= 'a' && t[i] <= 'z')
			t[i] = (char)(t[i] - 'a' + 'A');
		else if (t[i] >= 'A' && t[i] <= 'Z')
			t[i] = (char)(t[i] - 'A' + 'a');
	}
	FUZZ_CHECK(chat_name_equal(s, n, t, n));
	FUZZ_CHECK(chat_name_hash(s, n) == chat_name_hash(t, n));
	if (n > 0)
		FUZZ_CHECK(!chat_name_equal(s, n, t, n - 1));
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data;
	struct chat_msg	 m, m2;
	uint64_t	 h = fz_hash(data, size);
	size_t		 max_text;
	int		 rc, rc2;

	/* max_text from the input (its hash: the input stays plain JSON). */
	switch (h & 3) {
	case 0:
		max_text = DEF_MAX_TEXT;
		break;
	case 1:
		max_text = (size_t)(h >> 8) % 64;
		break;
	case 2:
		max_text = (size_t)(h >> 8) % (size + 1);
		break;
	default:
		max_text = SIZE_MAX;
		break;
	}
	rc = chat_parse(buf, size, max_text, &m);
	FUZZ_CHECK(rc >= CHAT_OK && rc <= CHAT_E_MAX);
	FUZZ_CHECK(rc == CHAT_OK || rc == CHAT_E_BAD_JSON ||
	    rc == CHAT_E_UNKNOWN_TYPE || rc == CHAT_E_NAME_INVALID ||
	    rc == CHAT_E_TOO_LONG);
	FUZZ_CHECK(chat_err_code(rc) != NULL && chat_err_text(rc) != NULL);
	if (rc != CHAT_OK)
		FUZZ_CHECK(m.str == NULL && m.type == 0);

	/*
	 * Without a limit: too_long only ever means "over max_text".  (For
	 * input that breaks chat_parse's precondition, valid UTF-8, a long
	 * text that is not UTF-8 is too_long first and bad_json unlimited.)
	 */
	rc2 = chat_parse(buf, size, SIZE_MAX, &m2);
	if (rc == CHAT_E_TOO_LONG && !fz_ref_valid(data, size) &&
	    rc2 == CHAT_E_BAD_JSON)
		;
	else if (rc == CHAT_E_TOO_LONG)
		FUZZ_CHECK(rc2 == CHAT_OK && m2.type == CHAT_MESSAGE &&
		    m2.len > max_text);
	else {
		FUZZ_CHECK(rc2 == rc);
		if (rc == CHAT_OK)
			FUZZ_CHECK(m2.type == m.type && m2.len == m.len &&
			    memcmp(m2.str, m.str, m.len) == 0);
	}
	if (rc2 == CHAT_OK && m2.type == CHAT_MESSAGE)
		check_text_limits(m2.str, m2.len);
	chat_msg_free(&m2);

	if (rc == CHAT_OK) {
		FUZZ_CHECK(m.str != NULL && m.str[m.len] == '\0');
		if (m.type == CHAT_JOIN) {
			check_name(m.str, m.len);
			event_roundtrip(m.str, m.len, NULL, 0, h >> 12,
			    (int64_t)(h >> 20));
		} else {
			FUZZ_CHECK(m.type == CHAT_MESSAGE);
			FUZZ_CHECK(m.len >= 1 && m.len <= max_text);
			FUZZ_CHECK(fz_ref_valid((uint8_t *)m.str, m.len));
			event_roundtrip("someone", 7, m.str, m.len, h & 0xffffff,
			    -(int64_t)(h >> 40));
		}
		/* The parsed string, re-encoded by us, parses back alike. */
		rc2 = client_roundtrip(m.type, m.str, m.len, max_text, &m2);
		FUZZ_CHECK(rc2 == CHAT_OK && m2.type == m.type &&
		    m2.len == m.len && memcmp(m2.str, m.str, m.len) == 0);
		chat_msg_free(&m2);
	}
	chat_msg_free(&m);
	FUZZ_CHECK(m.str == NULL);

	if (fz_ref_valid(data, size)) {
		check_string(buf, size);
		if (size > 0)
			event_roundtrip(buf, size, buf, size, UINT64_MAX,
			    INT64_MIN);
	}
	check_name_fold(buf, size);
	return 0;
}
