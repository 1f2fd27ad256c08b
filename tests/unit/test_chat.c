/* Unit tests of the chat protocol logic (src/chat.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "chat.h"
#include "wslimits.h"

#define MAXT	4096

static struct chat_msg msg;

static int
cparse(const char *s)
{
	return chat_parse(s, strlen(s), MAXT, &msg);
}

static int
cparse_max(const char *s, size_t max)
{
	return chat_parse(s, strlen(s), max, &msg);
}

static void
expect_ok(const char *json, int type, const char *str, size_t len)
{
	int	 rc = cparse(json);

	ck_assert_msg(rc == CHAT_OK, "%s: %d", json, rc);
	ck_assert_int_eq(msg.type, type);
	ck_assert_uint_eq(msg.len, len);
	ck_assert_mem_eq(msg.str, str, len);
	ck_assert_int_eq(msg.str[len], '\0');
	chat_msg_free(&msg);
	ck_assert_ptr_null(msg.str);
}

static void
expect_err(const char *json, int err)
{
	int	 rc = cparse(json);

	ck_assert_msg(rc == err, "%s: got %d, want %d", json, rc, err);
	ck_assert_int_eq(msg.type, 0);
	ck_assert_ptr_null(msg.str);
	chat_msg_free(&msg);
}

/* A join with the name as raw UTF-8 inside the JSON string. */
static int
join_name(const char *name)
{
	char	 buf[1024];

	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"name\":\"%s\"}", name);
	return cparse(buf);
}

/* ---- parse ---- */

START_TEST(test_parse_join)
{
	expect_ok("{\"type\":\"join\",\"name\":\"alice\"}", CHAT_JOIN,
	    "alice", 5);
	expect_ok("{\"name\":\"bob\",\"type\":\"join\"}", CHAT_JOIN, "bob", 3);
	expect_ok(" {\"type\" : \"join\", \"name\" : \"  alice  \"}\r\n",
	    CHAT_JOIN, "alice", 5);
	expect_ok("{\"type\":\"join\",\"name\":\"\\t\\n a b \\r\"}", CHAT_JOIN,
	    "a b", 3);
	/* escapes are decoded */
	expect_ok("{\"type\":\"join\",\"name\":\"\\u00e9\\u4e2d\"}", CHAT_JOIN,
	    "\xc3\xa9\xe4\xb8\xad", 5);
}
END_TEST

START_TEST(test_parse_join_unicode_trim)
{
	/* U+3000 ideographic space, U+00A0 no-break space */
	expect_ok("{\"type\":\"join\",\"name\":\"\xe3\x80\x80" "bob\xc2\xa0\"}",
	    CHAT_JOIN, "bob", 3);
	expect_ok("{\"type\":\"join\",\"name\":\"\\u3000\\u00a0bob\\u2003\"}",
	    CHAT_JOIN, "bob", 3);
	/* U+2028, U+202F, U+205F, U+1680, U+2000, U+200A */
	expect_ok("{\"type\":\"join\",\"name\":\"\\u2028\\u202f\\u205fx y"
	    "\\u1680\\u2000\\u200a\"}", CHAT_JOIN, "x y", 3);
	/* inner spaces are kept */
	expect_ok("{\"type\":\"join\",\"name\":\" a\\u3000b \"}", CHAT_JOIN,
	    "a\xe3\x80\x80" "b", 5);
	/* U+200B (zero width space) is not White_Space: kept */
	expect_ok("{\"type\":\"join\",\"name\":\"\\u200bz\"}", CHAT_JOIN,
	    "\xe2\x80\x8bz", 4);
}
END_TEST

START_TEST(test_parse_message)
{
	expect_ok("{\"type\":\"message\",\"text\":\"hi all\"}", CHAT_MESSAGE,
	    "hi all", 6);
	/* text is not trimmed */
	expect_ok("{\"type\":\"message\",\"text\":\"  x \"}", CHAT_MESSAGE,
	    "  x ", 4);
	expect_ok("{\"type\":\"message\",\"text\":\"a\\\"b\\\\c\\nd\"}",
	    CHAT_MESSAGE, "a\"b\\c\nd", 7);
	/* an escaped surrogate pair */
	expect_ok("{\"type\":\"message\",\"text\":\"\\ud83d\\ude00\"}",
	    CHAT_MESSAGE, "\xf0\x9f\x98\x80", 4);
	/* a NUL inside the text is part of it */
	expect_ok("{\"type\":\"message\",\"text\":\"a\\u0000b\"}", CHAT_MESSAGE,
	    "a\0b", 3);
}
END_TEST

START_TEST(test_parse_bad_json)
{
	expect_err("hello", CHAT_E_BAD_JSON);
	expect_err("", CHAT_E_BAD_JSON);
	expect_err("   ", CHAT_E_BAD_JSON);
	expect_err("[1,2]", CHAT_E_BAD_JSON);
	expect_err("[{\"type\":\"join\",\"name\":\"a\"}]", CHAT_E_BAD_JSON);
	expect_err("\"join\"", CHAT_E_BAD_JSON);
	expect_err("42", CHAT_E_BAD_JSON);
	expect_err("42 ", CHAT_E_BAD_JSON);
	expect_err("null", CHAT_E_BAD_JSON);
	expect_err("true", CHAT_E_BAD_JSON);
	expect_err("{", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"join\",\"name\":\"a\"", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"join\",\"name\":\"a\"} x", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"join\",\"name\":\"a\"}{}", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"join\",\"name\":\"a\"},", CHAT_E_BAD_JSON);
	/* not strict JSON */
	expect_err("{'type':'join','name':'a'}", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"join\",\"name\":\"a\",}", CHAT_E_BAD_JSON);
	expect_err("{type:\"join\",\"name\":\"a\"}", CHAT_E_BAD_JSON);
}
END_TEST

START_TEST(test_parse_bad_json_nul)
{
	static const char t[] = "{\"type\":\"join\",\"name\":\"a\"}\0";

	/* a NUL after the object is garbage, not an end */
	ck_assert_int_eq(chat_parse(t, sizeof(t) - 1, MAXT, &msg),
	    CHAT_E_BAD_JSON);
	/* the length given counts, not the NUL */
	ck_assert_int_eq(chat_parse(t, sizeof(t) - 2, MAXT, &msg), CHAT_OK);
	chat_msg_free(&msg);
	ck_assert_int_eq(chat_parse(t, 10, MAXT, &msg), CHAT_E_BAD_JSON);
}
END_TEST

/* A message with extra = d levels of nesting in total (object counts). */
static char *
nested(int d)
{
	char	*s = malloc(64 + 2 * (size_t)d);
	size_t	 o;
	int	 i;

	ck_assert_ptr_nonnull(s);
	o = (size_t)sprintf(s, "{\"type\":\"message\",\"text\":\"x\",\"a\":");
	for (i = 1; i < d; i++)
		s[o++] = '[';
	s[o++] = '1';
	for (i = 1; i < d; i++)
		s[o++] = ']';
	strcpy(s + o, "}");
	return s;
}

START_TEST(test_parse_depth_over)
{
	char	*s;

	s = nested(CHAT_JSON_DEPTH + 1);
	expect_err(s, CHAT_E_BAD_JSON);
	free(s);
	s = nested(100);
	expect_err(s, CHAT_E_BAD_JSON);
	free(s);
}
END_TEST

/* CHAT_JSON_DEPTH levels are accepted ("deeper is bad_json"). */
START_TEST(test_parse_depth_at_limit)
{
	char	*s;

	s = nested(2);
	expect_ok(s, CHAT_MESSAGE, "x", 1);
	free(s);
	s = nested(CHAT_JSON_DEPTH);
	expect_ok(s, CHAT_MESSAGE, "x", 1);
	free(s);
}
END_TEST

START_TEST(test_parse_unknown_type)
{
	expect_err("{}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"name\":\"a\"}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":1,\"name\":\"a\"}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":null}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":[\"join\"]}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":\"foo\"}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":\"\"}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":\"JOIN\",\"name\":\"a\"}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":\"joins\",\"name\":\"a\"}", CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":\"join\\u0000\",\"name\":\"a\"}",
	    CHAT_E_UNKNOWN_TYPE);
	expect_err("{\"type\":\"welcome\"}", CHAT_E_UNKNOWN_TYPE);
}
END_TEST

START_TEST(test_parse_name_invalid)
{
	char	 name[256];
	int	 i;

	expect_err("{\"type\":\"join\"}", CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":5}", CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":null}", CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":[\"a\"]}", CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"\"}", CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"   \"}", CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"\\u3000\\u00a0\\t\"}",
	    CHAT_E_NAME_INVALID);
	/* control characters */
	expect_err("{\"type\":\"join\",\"name\":\"a\\u0001\"}",
	    CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"a\\u001fb\"}",
	    CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"a\\u007f\"}",
	    CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"a\\u0085b\"}",
	    CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"a\\u009fb\"}",
	    CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"a\\tb\"}", CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"\\u0000\"}",
	    CHAT_E_NAME_INVALID);
	expect_err("{\"type\":\"join\",\"name\":\"a\\u0000\"}",
	    CHAT_E_NAME_INVALID);
	/* U+00A0 is a space, not a control: a\u00a0b is fine */
	expect_ok("{\"type\":\"join\",\"name\":\"a\\u00a0b\"}", CHAT_JOIN,
	    "a\xc2\xa0" "b", 4);

	/* 33 code points (ASCII, then 2-byte) */
	memset(name, 'n', 33);
	name[33] = '\0';
	ck_assert_int_eq(join_name(name), CHAT_E_NAME_INVALID);
	for (i = 0; i < 33; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[66] = '\0';
	ck_assert_int_eq(join_name(name), CHAT_E_NAME_INVALID);
}
END_TEST

START_TEST(test_parse_name_32)
{
	char	 name[256], json[512];
	int	 i;

	/* 32 ASCII */
	memset(name, 'n', 32);
	name[32] = '\0';
	ck_assert_int_eq(join_name(name), CHAT_OK);
	ck_assert_uint_eq(msg.len, 32);
	chat_msg_free(&msg);
	/* 32 four-byte emoji: 128 bytes */
	for (i = 0; i < 32; i++)
		memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
	name[128] = '\0';
	ck_assert_int_eq(join_name(name), CHAT_OK);
	ck_assert_uint_eq(msg.len, 128);
	ck_assert_mem_eq(msg.str, name, 128);
	chat_msg_free(&msg);
	/* 32 emoji as escaped surrogate pairs, with spaces around */
	strcpy(json, "{\"type\":\"join\",\"name\":\"  ");
	for (i = 0; i < 32; i++)
		strcat(json, "\\ud83d\\ude00");
	strcat(json, "\\u3000\"}");
	ck_assert_int_eq(cparse(json), CHAT_OK);
	ck_assert_uint_eq(msg.len, 128);
	ck_assert_mem_eq(msg.str, name, 128);
	chat_msg_free(&msg);
	/* 33 emoji */
	memcpy(name + 128, "\xf0\x9f\x98\x80", 5);
	ck_assert_int_eq(join_name(name), CHAT_E_NAME_INVALID);
}
END_TEST

START_TEST(test_parse_message_bad)
{
	expect_err("{\"type\":\"message\"}", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"message\",\"text\":5}", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"message\",\"text\":null}", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"message\",\"text\":{}}", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"message\",\"text\":\"\"}", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"message\",\"name\":\"hi\"}", CHAT_E_BAD_JSON);
}
END_TEST

START_TEST(test_parse_text_limit)
{
	/* max 10 bytes: five 2-byte characters */
	ck_assert_int_eq(cparse_max("{\"type\":\"message\",\"text\":"
	    "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", 10), CHAT_OK);
	ck_assert_uint_eq(msg.len, 10);
	chat_msg_free(&msg);
	ck_assert_int_eq(cparse_max("{\"type\":\"message\",\"text\":"
	    "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" "a\"}", 10),
	    CHAT_E_TOO_LONG);
	ck_assert_ptr_null(msg.str);
	/* a 3-byte character that crosses the limit */
	ck_assert_int_eq(cparse_max("{\"type\":\"message\",\"text\":"
	    "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" "a\xe2\x82\xac\"}", 10),
	    CHAT_E_TOO_LONG);
	/* escapes: the limit is on the decoded bytes */
	ck_assert_int_eq(cparse_max("{\"type\":\"message\",\"text\":"
	    "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", 10), CHAT_OK);
	ck_assert_uint_eq(msg.len, 10);
	chat_msg_free(&msg);
	ck_assert_int_eq(cparse_max("{\"type\":\"message\",\"text\":"
	    "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\n\"}", 10), CHAT_E_TOO_LONG);
	/* the default limit */
	{
		char	*s = malloc(DEF_MAX_TEXT + 64);
		size_t	 o;

		ck_assert_ptr_nonnull(s);
		o = (size_t)sprintf(s, "{\"type\":\"message\",\"text\":\"");
		memset(s + o, 't', DEF_MAX_TEXT);
		strcpy(s + o + DEF_MAX_TEXT, "\"}");
		ck_assert_int_eq(cparse_max(s, DEF_MAX_TEXT), CHAT_OK);
		ck_assert_uint_eq(msg.len, DEF_MAX_TEXT);
		chat_msg_free(&msg);
		ck_assert_int_eq(cparse_max(s, DEF_MAX_TEXT - 1),
		    CHAT_E_TOO_LONG);
		free(s);
	}
}
END_TEST

/* A lone surrogate escape is not a character: bad_json, not U+FFFD. */
START_TEST(test_parse_lone_surrogate)
{
	expect_err("{\"type\":\"message\",\"text\":\"\\ud800\"}", CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"message\",\"text\":\"a\\udc00b\"}",
	    CHAT_E_BAD_JSON);
	expect_err("{\"type\":\"message\",\"text\":\"\\ude00\\ud83d\"}",
	    CHAT_E_BAD_JSON);
}
END_TEST

START_TEST(test_parse_unknown_fields)
{
	expect_ok("{\"type\":\"message\",\"text\":\"x\",\"extra\":{\"a\":[1,2]},"
	    "\"n\":null,\"id\":7}", CHAT_MESSAGE, "x", 1);
	expect_ok("{\"v\":1,\"type\":\"join\",\"name\":\"z\",\"text\":5}",
	    CHAT_JOIN, "z", 1);
}
END_TEST

/* ---- names, texts ---- */

START_TEST(test_name_check)
{
	size_t	 off = 99, len = 99;

	ck_assert_int_eq(chat_name_check("  ab ", 5, &off, &len), CHAT_OK);
	ck_assert_uint_eq(off, 2);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(chat_name_check("\xe3\x80\x80" "a", 4, &off, &len),
	    CHAT_OK);
	ck_assert_uint_eq(off, 3);
	ck_assert_uint_eq(len, 1);
	/* invalid UTF-8 */
	ck_assert_int_eq(chat_name_check("a\xff", 2, &off, &len),
	    CHAT_E_NAME_INVALID);
	ck_assert_int_eq(chat_name_check("a\xc3", 2, &off, &len),
	    CHAT_E_NAME_INVALID);
	ck_assert_int_eq(chat_name_check("", 0, &off, &len),
	    CHAT_E_NAME_INVALID);
	/* U+0085 alone is trimmed as white space: empty */
	ck_assert_int_eq(chat_name_check("\xc2\x85", 2, &off, &len),
	    CHAT_E_NAME_INVALID);
}
END_TEST

START_TEST(test_text_check)
{
	ck_assert_int_eq(chat_text_check("abc", 3, 3), CHAT_OK);
	ck_assert_int_eq(chat_text_check("abcd", 4, 3), CHAT_E_TOO_LONG);
	ck_assert_int_eq(chat_text_check("", 0, 3), CHAT_E_BAD_JSON);
	ck_assert_int_eq(chat_text_check("a\xff", 2, 3), CHAT_E_BAD_JSON);
	ck_assert_int_eq(chat_text_check("\xed\xa0\x80", 3, 3), CHAT_E_BAD_JSON);
}
END_TEST

START_TEST(test_name_equal)
{
	ck_assert_int_eq(chat_name_equal("Alice", 5, "alice", 5), 1);
	ck_assert_int_eq(chat_name_equal("ALICE", 5, "aLiCe", 5), 1);
	ck_assert_int_eq(chat_name_equal("alice", 5, "alice ", 6), 0);
	ck_assert_int_eq(chat_name_equal("alice", 5, "alicf", 5), 0);
	ck_assert_int_eq(chat_name_equal("a1_[", 4, "A1_{", 4), 0);
	ck_assert_int_eq(chat_name_equal("@", 1, "`", 1), 0);
	/* only ASCII is folded */
	ck_assert_int_eq(chat_name_equal("\xc3\x89", 2, "\xc3\xa9", 2), 0);
	ck_assert_int_eq(chat_name_equal("\xc3\xa9", 2, "\xc3\xa9", 2), 1);
	/* the hash folds the same way */
	ck_assert_uint_eq(chat_name_hash("Alice", 5), chat_name_hash("aLICE", 5));
	ck_assert_uint_ne(chat_name_hash("alice", 5), chat_name_hash("alicf", 5));
}
END_TEST

/* ---- writers ---- */

static struct json_object *
parse_buf(struct bbuf *b)
{
	struct json_tokener	*tok = json_tokener_new();
	struct json_object	*o;

	ck_assert_ptr_nonnull(tok);
	o = json_tokener_parse_ex(tok, (const char *)bbuf_head(b),
	    (int)bbuf_size(b));
	ck_assert_msg(o != NULL &&
	    json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == bbuf_size(b),
	    "not one JSON value: %.*s", (int)bbuf_size(b),
	    (const char *)bbuf_head(b));
	json_tokener_free(tok);
	return o;
}

static void
roundtrip(const char *s, size_t n)
{
	struct bbuf		 b;
	struct json_object	*o;

	bbuf_init(&b);
	ck_assert_int_eq(chat_json_string(&b, s, n), 0);
	o = parse_buf(&b);
	ck_assert(json_object_is_type(o, json_type_string));
	ck_assert_int_eq(json_object_get_string_len(o), (int)n);
	ck_assert_mem_eq(json_object_get_string(o), s, n);
	json_object_put(o);
	bbuf_free(&b);
}

static void
json_str_is(const char *s, size_t n, const char *want)
{
	struct bbuf	 b;

	bbuf_init(&b);
	ck_assert_int_eq(chat_json_string(&b, s, n), 0);
	ck_assert_uint_eq(bbuf_size(&b), strlen(want));
	ck_assert_mem_eq(bbuf_head(&b), want, strlen(want));
	bbuf_free(&b);
}

START_TEST(test_json_string)
{
	char	 all[32];
	int	 i;

	json_str_is("", 0, "\"\"");
	json_str_is("abc", 3, "\"abc\"");
	json_str_is("a\"b", 3, "\"a\\\"b\"");
	json_str_is("a\\b", 3, "\"a\\\\b\"");
	json_str_is("a\nb\r\t", 5, "\"a\\nb\\r\\t\"");
	json_str_is("\x01", 1, "\"\\u0001\"");
	json_str_is("\x1f", 1, "\"\\u001f\"");
	json_str_is("a\0b", 3, "\"a\\u0000b\"");
	json_str_is("\xc3\xa9\xf0\x9f\x98\x80", 6,
	    "\"\xc3\xa9\xf0\x9f\x98\x80\"");
	json_str_is("/", 1, "\"/\"");

	roundtrip("", 0);
	roundtrip("plain", 5);
	roundtrip("q\"uo\"te\\", 9);
	roundtrip("line\nfeed\r\ttab\x01\x02\x7f", 17);
	roundtrip("nul\0inside", 10);
	roundtrip("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8", 12);
	for (i = 0; i < 32; i++)
		all[i] = (char)i;
	roundtrip(all, 32);
}
END_TEST

static const char *
jget_str(struct json_object *o, const char *k, size_t *len)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no %s", k);
	ck_assert_msg(json_object_is_type(v, json_type_string), "%s type", k);
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

static int64_t
jget_int(struct json_object *o, const char *k)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no %s", k);
	ck_assert_msg(json_object_is_type(v, json_type_int), "%s type", k);
	return json_object_get_int64(v);
}

START_TEST(test_fmt_event)
{
	struct bbuf		 b;
	struct json_object	*o;
	size_t			 n;
	const char		*s;

	bbuf_init(&b);
	ck_assert_int_eq(chat_fmt_event(&b, "message", 42, 1764245601000LL,
	    "al\"ice", 6, "hi\nall \xf0\x9f\x98\x80", 11), 0);
	o = parse_buf(&b);
	ck_assert(json_object_is_type(o, json_type_object));
	ck_assert_int_eq(json_object_object_length(o), 5);
	ck_assert_str_eq(jget_str(o, "type", NULL), "message");
	ck_assert_int_eq(jget_int(o, "id"), 42);
	ck_assert_int_eq(jget_int(o, "ts"), 1764245601000LL);
	s = jget_str(o, "from", &n);
	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(s, "al\"ice", 6);
	s = jget_str(o, "text", &n);
	ck_assert_uint_eq(n, 11);
	ck_assert_mem_eq(s, "hi\nall \xf0\x9f\x98\x80", 11);
	json_object_put(o);

	bbuf_reset(&b);
	ck_assert_int_eq(chat_fmt_event(&b, "join", UINT64_C(9007199254740993),
	    0, "bob", 3, NULL, 0), 0);
	o = parse_buf(&b);
	ck_assert_int_eq(json_object_object_length(o), 4);
	ck_assert_str_eq(jget_str(o, "type", NULL), "join");
	ck_assert_int_eq(jget_int(o, "id"), 9007199254740993LL);
	ck_assert_int_eq(jget_int(o, "ts"), 0);
	ck_assert_str_eq(jget_str(o, "name", NULL), "bob");
	json_object_put(o);
	bbuf_free(&b);
}
END_TEST

START_TEST(test_fmt_error)
{
	static const char *codes[] = { NULL, "bad_json", "unknown_type",
	    "not_joined", "already_joined", "name_invalid", "name_taken",
	    "too_long", "rate_limited" };
	struct bbuf		 b;
	struct json_object	*o;
	size_t			 n;
	int			 e;

	bbuf_init(&b);
	for (e = 1; e <= CHAT_E_MAX; e++) {
		bbuf_reset(&b);
		ck_assert_int_eq(chat_fmt_error(&b, e), 0);
		o = parse_buf(&b);
		ck_assert_int_eq(json_object_object_length(o), 3);
		ck_assert_str_eq(jget_str(o, "type", NULL), "error");
		ck_assert_str_eq(jget_str(o, "code", NULL), codes[e]);
		ck_assert_str_eq(jget_str(o, "message", &n), chat_err_text(e));
		ck_assert_uint_gt(n, 0);
		ck_assert_str_eq(chat_err_code(e), codes[e]);
		json_object_put(o);
	}
	ck_assert_str_eq(chat_err_code(0), "internal");
	ck_assert_str_eq(chat_err_code(CHAT_E_MAX + 1), "internal");
	bbuf_free(&b);
}
END_TEST

/* ---- rate ---- */

START_TEST(test_rate_burst_refill)
{
	struct chat_rate r;
	int		 i;

	/* 10 per second, burst 3 */
	chat_rate_init(&r, 3, 1000);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(chat_rate_take(&r, 10, 3, 1000), 1);
	ck_assert_int_eq(chat_rate_take(&r, 10, 3, 1000), 0);
	ck_assert_int_eq(chat_rate_take(&r, 10, 3, 1099), 0);
	/* one token per 100 ms */
	ck_assert_int_eq(chat_rate_take(&r, 10, 3, 1100), 1);
	ck_assert_int_eq(chat_rate_take(&r, 10, 3, 1100), 0);
	ck_assert_int_eq(chat_rate_take(&r, 10, 3, 1150), 0);
	ck_assert_int_eq(chat_rate_take(&r, 10, 3, 1200), 1);
	/* a long pause refills to the burst, not beyond */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(chat_rate_take(&r, 10, 3, 60000), 1);
	ck_assert_int_eq(chat_rate_take(&r, 10, 3, 60000), 0);
	/* time going backwards gives nothing */
	ck_assert_int_eq(chat_rate_take(&r, 10, 3, 1000), 0);
}
END_TEST

START_TEST(test_rate_unlimited)
{
	struct chat_rate r;
	int		 i;

	chat_rate_init(&r, 1, 0);
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(chat_rate_take(&r, 0, 1, 0), 1);
}
END_TEST

START_TEST(test_rate_one_per_second)
{
	struct chat_rate r;

	chat_rate_init(&r, 1, 5000);
	ck_assert_int_eq(chat_rate_take(&r, 1, 1, 5000), 1);
	ck_assert_int_eq(chat_rate_take(&r, 1, 1, 5999), 0);
	ck_assert_int_eq(chat_rate_take(&r, 1, 1, 6000), 1);
	ck_assert_int_eq(chat_rate_take(&r, 1, 1, 6000), 0);
}
END_TEST

static Suite *
chat_suite(void)
{
	Suite	*s = suite_create("chat");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_join);
	tcase_add_test(tc, test_parse_join_unicode_trim);
	tcase_add_test(tc, test_parse_message);
	tcase_add_test(tc, test_parse_bad_json);
	tcase_add_test(tc, test_parse_bad_json_nul);
	tcase_add_test(tc, test_parse_depth_over);
	tcase_add_test(tc, test_parse_depth_at_limit);
	tcase_add_test(tc, test_parse_unknown_type);
	tcase_add_test(tc, test_parse_name_invalid);
	tcase_add_test(tc, test_parse_name_32);
	tcase_add_test(tc, test_parse_message_bad);
	tcase_add_test(tc, test_parse_text_limit);
	tcase_add_test(tc, test_parse_lone_surrogate);
	tcase_add_test(tc, test_parse_unknown_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_name_check);
	tcase_add_test(tc, test_text_check);
	tcase_add_test(tc, test_name_equal);
	suite_add_tcase(s, tc);

	tc = tcase_create("writers");
	tcase_add_test(tc, test_json_string);
	tcase_add_test(tc, test_fmt_event);
	tcase_add_test(tc, test_fmt_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("rate");
	tcase_add_test(tc, test_rate_burst_refill);
	tcase_add_test(tc, test_rate_unlimited);
	tcase_add_test(tc, test_rate_one_per_second);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(chat_suite());
	int	 failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
