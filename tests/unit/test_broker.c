/* Unit tests of the room: joins, messages, leaves, history (src/broker.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "broker.h"
#include "buf.h"
#include "chat.h"

/* ---- a recording harness ---- */

#define MAXDEL	512

struct delivery {
	char		 kind;		/* 'j' joined, 'u' unicast, 'b' broadcast */
	uint32_t	 cid;
	size_t		 len;
	uint8_t		*data;		/* frame bytes, or the name for 'j' */
};

static struct {
	int		 n;
	struct delivery	 d[MAXDEL];
} R;

static void
rec(char kind, uint32_t cid, const void *p, size_t len)
{
	struct delivery	*d;

	ck_assert_int_lt(R.n, MAXDEL);
	d = &R.d[R.n++];
	d->kind = kind;
	d->cid = cid;
	d->len = len;
	d->data = malloc(len + 1);
	ck_assert_ptr_nonnull(d->data);
	if (len > 0)
		memcpy(d->data, p, len);
	d->data[len] = '\0';
}

static void
clear(void)
{
	int	 i;

	for (i = 0; i < R.n; i++)
		free(R.d[i].data);
	R.n = 0;
}

static void
cb_unicast(void *ctx, uint32_t cid, struct rbuf *r)
{
	ck_assert_ptr_eq(ctx, &R);
	ck_assert_ptr_nonnull(r);
	rec('u', cid, r->data, r->len);
}

static void
cb_broadcast(void *ctx, struct rbuf *r)
{
	ck_assert_ptr_eq(ctx, &R);
	ck_assert_ptr_nonnull(r);
	rec('b', 0, r->data, r->len);
}

static void
cb_joined(void *ctx, uint32_t cid, const char *name, size_t len)
{
	ck_assert_ptr_eq(ctx, &R);
	rec('j', cid, name, len);
}

static const struct broker_ops ops = {
	cb_unicast, cb_broadcast, cb_joined
};

/* Check the frame of delivery i (a final, unmasked text frame) and parse
 * its JSON. */
static struct json_object *
json_at(int i)
{
	const uint8_t		*d;
	size_t			 len, hl, pl, k;
	struct json_tokener	*tok;
	struct json_object	*o;

	ck_assert_int_lt(i, R.n);
	ck_assert_msg(R.d[i].kind != 'j', "delivery %d is not a frame", i);
	d = R.d[i].data;
	len = R.d[i].len;
	ck_assert_uint_ge(len, 2);
	ck_assert_uint_eq(d[0], 0x81);
	ck_assert_uint_eq(d[1] & 0x80, 0);
	pl = d[1] & 0x7f;
	hl = 2;
	if (pl == 126) {
		ck_assert_uint_ge(len, 4);
		pl = (size_t)d[2] << 8 | d[3];
		hl = 4;
		ck_assert_uint_ge(pl, 126);
	} else if (pl == 127) {
		ck_assert_uint_ge(len, 10);
		pl = 0;
		for (k = 0; k < 8; k++)
			pl = pl << 8 | d[2 + k];
		hl = 10;
		ck_assert_uint_gt(pl, 0xffff);
	}
	ck_assert_uint_eq(hl + pl, len);
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)d + hl, (int)pl);
	ck_assert_msg(o != NULL &&
	    json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == pl, "bad JSON: %.*s",
	    (int)pl, (const char *)d + hl);
	json_tokener_free(tok);
	ck_assert(json_object_is_type(o, json_type_object));
	return o;
}

static struct json_object *
jfield(struct json_object *o, const char *k)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no field %s", k);
	return v;
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object	*v = jfield(o, k);

	ck_assert_msg(json_object_is_type(v, json_type_string), "%s", k);
	return json_object_get_string(v);
}

static int64_t
jint(struct json_object *o, const char *k)
{
	struct json_object	*v = jfield(o, k);

	ck_assert_msg(json_object_is_type(v, json_type_int), "%s", k);
	return json_object_get_int64(v);
}

/* Delivery i is an event broadcast: type, fields; returns its id. */
static int64_t
check_event(int i, const char *type, int64_t ts, const char *name,
    const char *text)
{
	struct json_object	*o;
	int64_t			 id;

	ck_assert_int_eq(R.d[i].kind, 'b');
	o = json_at(i);
	ck_assert_str_eq(jstr(o, "type"), type);
	ck_assert_int_eq(jint(o, "ts"), ts);
	id = jint(o, "id");
	if (text != NULL) {
		ck_assert_int_eq(json_object_object_length(o), 5);
		ck_assert_str_eq(jstr(o, "from"), name);
		ck_assert_str_eq(jstr(o, "text"), text);
	} else {
		ck_assert_int_eq(json_object_object_length(o), 4);
		ck_assert_str_eq(jstr(o, "name"), name);
	}
	json_object_put(o);
	return id;
}

/* Delivery i is an error unicast to cid with code. */
static void
check_error(int i, uint32_t cid, const char *code)
{
	struct json_object	*o;

	ck_assert_int_eq(R.d[i].kind, 'u');
	ck_assert_uint_eq(R.d[i].cid, cid);
	o = json_at(i);
	ck_assert_str_eq(jstr(o, "type"), "error");
	ck_assert_str_eq(jstr(o, "code"), code);
	ck_assert_int_gt((int)strlen(jstr(o, "message")), 0);
	json_object_put(o);
}

/*
 * Delivery i is the welcome for cid: name, users (n names), and the
 * texts of its history (nh messages).
 */
static void
check_welcome(int i, uint32_t cid, const char *name, const char **users,
    size_t nu, const char **hist, size_t nh)
{
	struct json_object	*o, *a, *e;
	size_t			 k;
	int64_t			 last = 0;

	ck_assert_int_eq(R.d[i].kind, 'u');
	ck_assert_uint_eq(R.d[i].cid, cid);
	o = json_at(i);
	ck_assert_int_eq(json_object_object_length(o), 4);
	ck_assert_str_eq(jstr(o, "type"), "welcome");
	ck_assert_str_eq(jstr(o, "name"), name);
	a = jfield(o, "users");
	ck_assert(json_object_is_type(a, json_type_array));
	ck_assert_uint_eq(json_object_array_length(a), nu);
	for (k = 0; k < nu; k++) {
		e = json_object_array_get_idx(a, k);
		ck_assert(json_object_is_type(e, json_type_string));
		ck_assert_str_eq(json_object_get_string(e), users[k]);
	}
	a = jfield(o, "history");
	ck_assert(json_object_is_type(a, json_type_array));
	ck_assert_uint_eq(json_object_array_length(a), nh);
	for (k = 0; k < nh; k++) {
		e = json_object_array_get_idx(a, k);
		ck_assert(json_object_is_type(e, json_type_object));
		ck_assert_str_eq(jstr(e, "type"), "message");
		ck_assert_str_eq(jstr(e, "text"), hist[k]);
		ck_assert_int_eq(json_object_object_length(e), 5);
		ck_assert_int_gt(jint(e, "id"), last);
		last = jint(e, "id");
	}
	json_object_put(o);
}

static struct broker *
mkbroker(unsigned history, size_t max_text)
{
	struct broker	*b;

	clear();
	b = broker_new(&ops, &R, history, max_text);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(R.n, 0);
	return b;
}

static int
join(struct broker *b, uint32_t cid, const char *name)
{
	clear();
	return broker_join(b, cid, name, strlen(name), 1000 + cid);
}

static int
say(struct broker *b, uint32_t cid, const char *text)
{
	clear();
	return broker_message(b, cid, text, strlen(text), 2000);
}

/* ---- tests ---- */

START_TEST(test_join_sequence)
{
	struct broker	*b = mkbroker(10, 100);
	const char	*u1[] = { "alice" };
	const char	*u2[] = { "alice", "bob" };
	int64_t		 id1, id2;

	ck_assert_int_eq(join(b, 1, "alice"), CHAT_OK);
	ck_assert_int_eq(R.n, 3);
	/* joined, then the welcome, then the join event */
	ck_assert_int_eq(R.d[0].kind, 'j');
	ck_assert_uint_eq(R.d[0].cid, 1);
	ck_assert_uint_eq(R.d[0].len, 5);
	ck_assert_str_eq((char *)R.d[0].data, "alice");
	check_welcome(1, 1, "alice", u1, 1, NULL, 0);
	id1 = check_event(2, "join", 1001, "alice", NULL);
	ck_assert_int_ge(id1, 1);
	ck_assert_uint_eq(broker_last_id(b), (uint64_t)id1);
	ck_assert_int_eq(broker_is_joined(b, 1), 1);
	ck_assert_int_eq(broker_is_joined(b, 2), 0);
	ck_assert_uint_eq(broker_users(b), 1);

	ck_assert_int_eq(join(b, 2, "  bob\xe3\x80\x80"), CHAT_OK);
	ck_assert_int_eq(R.n, 3);
	ck_assert_int_eq(R.d[0].kind, 'j');
	ck_assert_uint_eq(R.d[0].cid, 2);
	ck_assert_str_eq((char *)R.d[0].data, "bob");
	check_welcome(1, 2, "bob", u2, 2, NULL, 0);
	id2 = check_event(2, "join", 1002, "bob", NULL);
	ck_assert_int_gt(id2, id1);
	ck_assert_uint_eq(broker_users(b), 2);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_ids_increase)
{
	struct broker	*b = mkbroker(10, 100);
	int64_t		 id[6];

	ck_assert_int_eq(join(b, 1, "alice"), CHAT_OK);
	id[0] = check_event(2, "join", 1001, "alice", NULL);
	ck_assert_int_eq(join(b, 2, "bob"), CHAT_OK);
	id[1] = check_event(2, "join", 1002, "bob", NULL);
	ck_assert_int_eq(say(b, 1, "hello"), CHAT_OK);
	ck_assert_int_eq(R.n, 1);
	id[2] = check_event(0, "message", 2000, "alice", "hello");
	ck_assert_int_eq(say(b, 2, "hi \"alice\"\n"), CHAT_OK);
	ck_assert_int_eq(R.n, 1);
	id[3] = check_event(0, "message", 2000, "bob", "hi \"alice\"\n");
	clear();
	broker_leave(b, 1, 3000);
	ck_assert_int_eq(R.n, 1);
	id[4] = check_event(0, "leave", 3000, "alice", NULL);
	ck_assert_int_eq(say(b, 2, "bye"), CHAT_OK);
	id[5] = check_event(0, "message", 2000, "bob", "bye");
	for (int i = 1; i < 6; i++)
		ck_assert_int_gt(id[i], id[i - 1]);
	ck_assert_uint_eq(broker_last_id(b), (uint64_t)id[5]);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_errors)
{
	struct broker	*b = mkbroker(10, 5);
	uint64_t	 last;

	ck_assert_int_eq(join(b, 1, "Alice"), CHAT_OK);
	last = broker_last_id(b);

	/* name taken, case-insensitively */
	ck_assert_int_eq(join(b, 2, "aLICE"), CHAT_E_NAME_TAKEN);
	ck_assert_int_eq(R.n, 1);
	check_error(0, 2, "name_taken");
	ck_assert_int_eq(join(b, 2, " alice "), CHAT_E_NAME_TAKEN);
	ck_assert_int_eq(R.n, 1);
	check_error(0, 2, "name_taken");
	ck_assert_int_eq(broker_is_joined(b, 2), 0);

	/* already joined */
	ck_assert_int_eq(join(b, 1, "carol"), CHAT_E_ALREADY_JOINED);
	ck_assert_int_eq(R.n, 1);
	check_error(0, 1, "already_joined");

	/* not joined */
	ck_assert_int_eq(say(b, 2, "hi"), CHAT_E_NOT_JOINED);
	ck_assert_int_eq(R.n, 1);
	check_error(0, 2, "not_joined");
	ck_assert_int_eq(say(b, 100000, "hi"), CHAT_E_NOT_JOINED);
	check_error(0, 100000, "not_joined");

	/* invalid names */
	ck_assert_int_eq(join(b, 2, "   "), CHAT_E_NAME_INVALID);
	ck_assert_int_eq(R.n, 1);
	check_error(0, 2, "name_invalid");
	ck_assert_int_eq(join(b, 2, ""), CHAT_E_NAME_INVALID);
	check_error(0, 2, "name_invalid");
	ck_assert_int_eq(join(b, 2, "a\x01"), CHAT_E_NAME_INVALID);
	check_error(0, 2, "name_invalid");
	ck_assert_int_eq(join(b, 2, "a\xff"), CHAT_E_NAME_INVALID);
	check_error(0, 2, "name_invalid");
	ck_assert_int_eq(join(b, 2, "123456789012345678901234567890123"),
	    CHAT_E_NAME_INVALID);
	check_error(0, 2, "name_invalid");

	/* too long: max_text is 5 */
	ck_assert_int_eq(say(b, 1, "123456"), CHAT_E_TOO_LONG);
	ck_assert_int_eq(R.n, 1);
	check_error(0, 1, "too_long");
	/* empty or invalid text */
	ck_assert_int_eq(say(b, 1, ""), CHAT_E_BAD_JSON);
	check_error(0, 1, "bad_json");
	ck_assert_int_eq(say(b, 1, "a\xc0\x80"), CHAT_E_BAD_JSON);
	check_error(0, 1, "bad_json");

	/* errors use no ids and change nothing */
	ck_assert_uint_eq(broker_last_id(b), last);
	ck_assert_uint_eq(broker_users(b), 1);

	/* exactly max_text passes */
	ck_assert_int_eq(say(b, 1, "12345"), CHAT_OK);
	ck_assert_int_eq(R.n, 1);
	check_event(0, "message", 2000, "Alice", "12345");

	/* broker_error */
	clear();
	broker_error(b, 7, CHAT_E_RATE_LIMITED);
	ck_assert_int_eq(R.n, 1);
	check_error(0, 7, "rate_limited");
	clear();
	broker_error(b, 7, 0);
	broker_error(b, 7, CHAT_E_MAX + 1);
	ck_assert_int_eq(R.n, 0);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_too_long_multibyte)
{
	struct broker	*b = mkbroker(10, 6);

	ck_assert_int_eq(join(b, 1, "x"), CHAT_OK);
	/* 3 x U+00E9 = 6 bytes */
	ck_assert_int_eq(say(b, 1, "\xc3\xa9\xc3\xa9\xc3\xa9"), CHAT_OK);
	ck_assert_int_eq(say(b, 1, "\xc3\xa9\xc3\xa9\xc3\xa9!"), CHAT_E_TOO_LONG);
	check_error(0, 1, "too_long");
	/* broker_configure changes max_text */
	broker_configure(b, 10, 7);
	ck_assert_int_eq(say(b, 1, "\xc3\xa9\xc3\xa9\xc3\xa9!"), CHAT_OK);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_leave)
{
	struct broker	*b = mkbroker(10, 100);
	const char	*u[] = { "bob", "Alice" };

	ck_assert_int_eq(join(b, 1, "alice"), CHAT_OK);
	ck_assert_int_eq(join(b, 2, "bob"), CHAT_OK);
	clear();
	broker_leave(b, 1, 5000);
	ck_assert_int_eq(R.n, 1);
	check_event(0, "leave", 5000, "alice", NULL);
	ck_assert_int_eq(broker_is_joined(b, 1), 0);
	ck_assert_uint_eq(broker_users(b), 1);

	/* the name is free again, for anyone */
	ck_assert_int_eq(join(b, 3, "Alice"), CHAT_OK);
	check_welcome(1, 3, "Alice", u, 2, NULL, 0);
	/* and cid 1 may join again */
	ck_assert_int_eq(join(b, 1, "carol"), CHAT_OK);
	ck_assert_uint_eq(broker_users(b), 3);

	/* leave of a cid that never joined, or twice: nothing */
	clear();
	broker_leave(b, 9, 6000);
	broker_leave(b, 100000, 6000);
	ck_assert_int_eq(R.n, 0);
	broker_leave(b, 2, 6000);
	ck_assert_int_eq(R.n, 1);
	broker_leave(b, 2, 6001);
	ck_assert_int_eq(R.n, 1);
	ck_assert_uint_eq(broker_users(b), 2);
	ck_assert_int_eq(say(b, 2, "x"), CHAT_E_NOT_JOINED);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_join_order_after_leave)
{
	struct broker	*b = mkbroker(0, 100);
	const char	*u[] = { "a", "c", "d", "e" };
	const char	*u2[] = { "c", "d", "e", "f" };

	ck_assert_int_eq(join(b, 1, "a"), CHAT_OK);
	ck_assert_int_eq(join(b, 2, "b"), CHAT_OK);
	ck_assert_int_eq(join(b, 3, "c"), CHAT_OK);
	ck_assert_int_eq(join(b, 4, "d"), CHAT_OK);
	broker_leave(b, 2, 0);
	ck_assert_int_eq(join(b, 5, "e"), CHAT_OK);
	check_welcome(1, 5, "e", u, 4, NULL, 0);
	broker_leave(b, 1, 0);
	ck_assert_int_eq(join(b, 6, "f"), CHAT_OK);
	check_welcome(1, 6, "f", u2, 4, NULL, 0);
	/* the last one leaves, then a new one */
	broker_leave(b, 6, 0);
	ck_assert_int_eq(join(b, 7, "g"), CHAT_OK);
	{
		const char *u3[] = { "c", "d", "e", "g" };
		check_welcome(1, 7, "g", u3, 4, NULL, 0);
	}
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_history)
{
	struct broker	*b = mkbroker(3, 100);
	const char	*u[] = { "alice", "bob" };
	const char	*h[] = { "m3", "m4", "m5" };
	char		 t[8];
	int		 i;

	ck_assert_int_eq(join(b, 1, "alice"), CHAT_OK);
	for (i = 1; i <= 5; i++) {
		snprintf(t, sizeof(t), "m%d", i);
		ck_assert_int_eq(say(b, 1, t), CHAT_OK);
	}
	/* leaves and joins are not history */
	ck_assert_int_eq(join(b, 3, "carol"), CHAT_OK);
	broker_leave(b, 3, 0);
	ck_assert_int_eq(join(b, 2, "bob"), CHAT_OK);
	check_welcome(1, 2, "bob", u, 2, h, 3);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_history_partial)
{
	struct broker	*b = mkbroker(3, 100);
	const char	*u[] = { "alice", "bob" };
	const char	*h[] = { "one", "two" };

	ck_assert_int_eq(join(b, 1, "alice"), CHAT_OK);
	ck_assert_int_eq(say(b, 1, "one"), CHAT_OK);
	ck_assert_int_eq(say(b, 1, "two"), CHAT_OK);
	ck_assert_int_eq(join(b, 2, "bob"), CHAT_OK);
	check_welcome(1, 2, "bob", u, 2, h, 2);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_history_configure)
{
	struct broker	*b = mkbroker(5, 100);
	char		 t[8];
	int		 i;

	ck_assert_int_eq(join(b, 1, "alice"), CHAT_OK);
	for (i = 1; i <= 7; i++) {	/* the ring wraps: m3..m7 kept */
		snprintf(t, sizeof(t), "m%d", i);
		ck_assert_int_eq(say(b, 1, t), CHAT_OK);
	}
	/* shrink: the newest stay */
	broker_configure(b, 2, 100);
	ck_assert_int_eq(join(b, 2, "u2"), CHAT_OK);
	{
		const char *u[] = { "alice", "u2" };
		const char *h[] = { "m6", "m7" };
		check_welcome(1, 2, "u2", u, 2, h, 2);
	}
	/* grow: what is there stays, new ones are added */
	broker_configure(b, 4, 100);
	ck_assert_int_eq(say(b, 1, "m8"), CHAT_OK);
	ck_assert_int_eq(join(b, 3, "u3"), CHAT_OK);
	{
		const char *u[] = { "alice", "u2", "u3" };
		const char *h[] = { "m6", "m7", "m8" };
		check_welcome(1, 3, "u3", u, 3, h, 3);
	}
	ck_assert_int_eq(say(b, 1, "m9"), CHAT_OK);
	ck_assert_int_eq(say(b, 1, "m10"), CHAT_OK);
	ck_assert_int_eq(join(b, 4, "u4"), CHAT_OK);
	{
		const char *u[] = { "alice", "u2", "u3", "u4" };
		const char *h[] = { "m7", "m8", "m9", "m10" };
		check_welcome(1, 4, "u4", u, 4, h, 4);
	}
	/* zero: none */
	broker_configure(b, 0, 100);
	ck_assert_int_eq(say(b, 1, "m11"), CHAT_OK);
	ck_assert_int_eq(join(b, 5, "u5"), CHAT_OK);
	{
		const char *u[] = { "alice", "u2", "u3", "u4", "u5" };
		check_welcome(1, 5, "u5", u, 5, NULL, 0);
	}
	/* and back */
	broker_configure(b, 1, 100);
	ck_assert_int_eq(say(b, 1, "m12"), CHAT_OK);
	ck_assert_int_eq(say(b, 1, "m13"), CHAT_OK);
	ck_assert_int_eq(join(b, 6, "u6"), CHAT_OK);
	{
		const char *u[] = { "alice", "u2", "u3", "u4", "u5", "u6" };
		const char *h[] = { "m13" };
		check_welcome(1, 6, "u6", u, 6, h, 1);
	}
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_history_zero)
{
	struct broker	*b = mkbroker(0, 100);
	const char	*u[] = { "alice", "bob" };

	ck_assert_int_eq(join(b, 1, "alice"), CHAT_OK);
	ck_assert_int_eq(say(b, 1, "one"), CHAT_OK);
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(join(b, 2, "bob"), CHAT_OK);
	check_welcome(1, 2, "bob", u, 2, NULL, 0);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_high_cids)
{
	struct broker	*b = mkbroker(2, 100);
	const char	*u[] = { "zero", "high", "higher" };

	ck_assert_int_eq(join(b, 0, "zero"), CHAT_OK);
	ck_assert_int_eq(join(b, 5000, "high"), CHAT_OK);
	ck_assert_uint_eq(R.d[0].cid, 5000);
	ck_assert_uint_eq(R.d[1].cid, 5000);
	ck_assert_int_eq(join(b, 70000, "higher"), CHAT_OK);
	check_welcome(1, 70000, "higher", u, 3, NULL, 0);
	ck_assert_int_eq(broker_is_joined(b, 5000), 1);
	ck_assert_int_eq(broker_is_joined(b, 4999), 0);
	ck_assert_int_eq(say(b, 5000, "from high"), CHAT_OK);
	check_event(0, "message", 2000, "high", "from high");
	ck_assert_int_eq(say(b, 0, "from zero"), CHAT_OK);
	check_event(0, "message", 2000, "zero", "from zero");
	ck_assert_uint_eq(broker_users(b), 3);
	clear();
	broker_leave(b, 5000, 1);
	ck_assert_int_eq(R.n, 1);
	check_event(0, "leave", 1, "high", NULL);
	ck_assert_uint_eq(broker_users(b), 2);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_users_count)
{
	struct broker	*b = mkbroker(0, 100);
	char		 name[16];
	uint32_t	 i;

	ck_assert_uint_eq(broker_users(b), 0);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "user%u", i);
		ck_assert_int_eq(join(b, i * 3, name), CHAT_OK);
		ck_assert_uint_eq(broker_users(b), i + 1);
	}
	/* a taken name does not count */
	ck_assert_int_eq(join(b, 1, "USER7"), CHAT_E_NAME_TAKEN);
	ck_assert_uint_eq(broker_users(b), 200);
	for (i = 0; i < 200; i += 2)
		broker_leave(b, i * 3, 0);
	ck_assert_uint_eq(broker_users(b), 100);
	broker_free(b);
	clear();
}
END_TEST

START_TEST(test_escaping_and_long_frames)
{
	struct broker	*b = mkbroker(1, 100000);
	const char	*u[] = { "a\"b\\c", "d" };
	const char	*h[1];
	char		*t;

	ck_assert_int_eq(join(b, 1, "a\"b\\c"), CHAT_OK);
	check_event(2, "join", 1001, "a\"b\\c", NULL);
	/* a 2-byte length frame and a 8-byte length frame */
	t = malloc(70001);
	ck_assert_ptr_nonnull(t);
	memset(t, 'x', 200);
	t[200] = '\0';
	ck_assert_int_eq(say(b, 1, t), CHAT_OK);
	ck_assert_uint_eq(R.d[0].data[1], 126);
	check_event(0, "message", 2000, "a\"b\\c", t);
	memset(t, 'y', 70000);
	t[70000] = '\0';
	ck_assert_int_eq(say(b, 1, t), CHAT_OK);
	ck_assert_uint_eq(R.d[0].data[1], 127);
	check_event(0, "message", 2000, "a\"b\\c", t);
	/* the welcome carries it too */
	h[0] = t;
	ck_assert_int_eq(join(b, 2, "d"), CHAT_OK);
	check_welcome(1, 2, "d", u, 2, h, 1);
	free(t);
	broker_free(b);
	clear();
}
END_TEST

/* The master's queues: a buffer with one holder grows up to its
 * capacity; a shared one (a frame every client holds) never changes. */
START_TEST(test_rbuf_append)
{
	struct rbuf	*r = rbuf_alloc(8);

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->cap, 8);
	r->len = 0;
	ck_assert_int_eq(rbuf_append(r, "abc", 3), 0);
	ck_assert_int_eq(rbuf_append(r, "defgh", 5), 0);
	ck_assert_uint_eq(r->len, 8);
	ck_assert_mem_eq(r->data, "abcdefgh", 8);
	/* full */
	ck_assert_int_eq(rbuf_append(r, "i", 1), -1);
	ck_assert_uint_eq(r->len, 8);
	r->len = 3;
	rbuf_ref(r);
	/* shared: refused, unchanged */
	ck_assert_int_eq(rbuf_append(r, "x", 1), -1);
	ck_assert_uint_eq(r->len, 3);
	rbuf_unref(r);
	ck_assert_int_eq(rbuf_append(r, "x", 1), 0);
	ck_assert_mem_eq(r->data, "abcx", 4);
	rbuf_unref(r);
	/* rbuf_new: exactly its bytes, no room */
	r = rbuf_new("hello", 5);
	ck_assert_uint_eq(r->cap, 5);
	ck_assert_int_eq(rbuf_append(r, "!", 1), -1);
	ck_assert_int_eq(rbuf_append(r, "", 0), 0);
	rbuf_unref(r);
}
END_TEST

static Suite *
broker_suite(void)
{
	Suite	*s = suite_create("broker");
	TCase	*tc = tcase_create("room");

	tcase_add_test(tc, test_join_sequence);
	tcase_add_test(tc, test_rbuf_append);
	tcase_add_test(tc, test_ids_increase);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_too_long_multibyte);
	tcase_add_test(tc, test_leave);
	tcase_add_test(tc, test_join_order_after_leave);
	tcase_add_test(tc, test_history);
	tcase_add_test(tc, test_history_partial);
	tcase_add_test(tc, test_history_configure);
	tcase_add_test(tc, test_history_zero);
	tcase_add_test(tc, test_high_cids);
	tcase_add_test(tc, test_users_count);
	tcase_add_test(tc, test_escaping_and_long_frames);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(broker_suite());
	int	 failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
