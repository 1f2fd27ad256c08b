/*
 * The room: a sequence of joins, messages, leaves, errors and
 * reconfigurations taken from the input, run against the broker and
 * against a small model of it.  Every frame the broker hands out must be a
 * well-formed server frame holding the JSON the model expects; event ids
 * go up by one, strictly; welcomes list the users in join order and the
 * history the model kept.
 */
#include "config.h"

#include <string.h>

#include <json.h>

#include "broker.h"
#include "chat.h"
#include "ws.h"
#include "fuzz.h"

#define NCID	16
#define MAXREC	8

struct rec {
	int	 kind;		/* 'u'nicast, 'b'roadcast, 'j'oined */
	uint32_t cid;
	uint8_t	*data;
	size_t	 len;
};

struct muser {
	int	 in;
	char	 name[CHAT_NAME_MAX_BYTES];
	size_t	 nlen;
	unsigned order;		/* join order */
};

struct mmsg {
	uint64_t id;
	int64_t	 ts;
	char	 from[CHAT_NAME_MAX_BYTES];
	size_t	 flen;
	uint8_t	*text;
	size_t	 tlen;
};

struct model {
	struct rec	 rec[MAXREC];
	int		 nrec;
	struct muser	 u[NCID];
	unsigned	 order;
	struct mmsg	 hist[16];	/* oldest first */
	unsigned	 nhist, hist_max;
	size_t		 max_text;
	uint64_t	 last_id;
};

static void
record(struct model *m, int kind, uint32_t cid, const void *p, size_t n)
{
	struct rec *r;

	FUZZ_CHECK(m->nrec < MAXREC);
	r = &m->rec[m->nrec++];
	r->kind = kind;
	r->cid = cid;
	FUZZ_CHECK((r->data = malloc(n ? n : 1)) != NULL);
	if (n)
		memcpy(r->data, p, n);
	r->len = n;
}

static void
cb_unicast(void *ctx, uint32_t cid, struct rbuf *r)
{
	FUZZ_CHECK(r->refs >= 1);
	record(ctx, 'u', cid, r->data, r->len);
}

static void
cb_broadcast(void *ctx, struct rbuf *r)
{
	FUZZ_CHECK(r->refs >= 1);
	record(ctx, 'b', 0, r->data, r->len);
}

static void
cb_joined(void *ctx, uint32_t cid, const char *name, size_t n)
{
	record(ctx, 'j', cid, name, n);
}

static const struct broker_ops ops = { cb_unicast, cb_broadcast, cb_joined };

static void
clear_recs(struct model *m)
{
	int	 i;

	for (i = 0; i < m->nrec; i++)
		free(m->rec[i].data);
	m->nrec = 0;
}

/* A server frame: FIN, text, unmasked, minimal length; parse its JSON. */
static struct json_object *
frame_json(const struct rec *r)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t	 hl, len;

	FUZZ_CHECK(r->len >= 2 && r->data[0] == 0x81);
	len = r->data[1];
	FUZZ_CHECK((len & 0x80) == 0);
	if (len == 126) {
		FUZZ_CHECK(r->len >= 4);
		len = (size_t)r->data[2] << 8 | r->data[3];
		FUZZ_CHECK(len >= 126);
		hl = 4;
	} else {
		FUZZ_CHECK(len < 126);	/* 127: over 64 KiB, not here */
		hl = 2;
	}
	FUZZ_CHECK(r->len == hl + len);
	FUZZ_CHECK((tok = json_tokener_new()) != NULL);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)r->data + hl, (int)len);
	FUZZ_CHECK(o != NULL && json_object_is_type(o, json_type_object));
	FUZZ_CHECK(json_tokener_get_parse_end(tok) == len);
	json_tokener_free(tok);
	return o;
}

static struct json_object *
field(struct json_object *o, const char *k, enum json_type t)
{
	struct json_object *v;

	FUZZ_CHECK(json_object_object_get_ex(o, k, &v));
	FUZZ_CHECK(json_object_is_type(v, t));
	return v;
}

static void
str_is(struct json_object *o, const char *k, const void *s, size_t n)
{
	struct json_object *v = field(o, k, json_type_string);

	FUZZ_CHECK((size_t)json_object_get_string_len(v) == n);
	FUZZ_CHECK(n == 0 || memcmp(json_object_get_string(v), s, n) == 0);
}

static void
check_event(struct model *m, const struct rec *r, const char *type,
    int64_t ts, const char *name, size_t nlen, const uint8_t *text,
    size_t tlen)
{
	struct json_object *o;

	FUZZ_CHECK(r->kind == 'b');
	o = frame_json(r);
	str_is(o, "type", type, strlen(type));
	/* The room's total order: each event one above the last. */
	FUZZ_CHECK(json_object_get_uint64(field(o, "id", json_type_int)) ==
	    ++m->last_id);
	FUZZ_CHECK(json_object_get_int64(field(o, "ts", json_type_int)) == ts);
	str_is(o, text ? "from" : "name", name, nlen);
	if (text)
		str_is(o, "text", text, tlen);
	FUZZ_CHECK(json_object_object_length(o) == (text ? 5 : 4));
	json_object_put(o);
}

static void
check_error(const struct rec *r, uint32_t cid, int err)
{
	struct json_object *o;

	FUZZ_CHECK(r->kind == 'u' && r->cid == cid);
	o = frame_json(r);
	str_is(o, "type", "error", 5);
	str_is(o, "code", chat_err_code(err), strlen(chat_err_code(err)));
	field(o, "message", json_type_string);
	json_object_put(o);
}

static void
check_welcome(const struct model *m, const struct rec *r, uint32_t cid)
{
	struct json_object *o, *a, *h;
	const struct muser *order[NCID];
	size_t	 n = 0, i, j;

	FUZZ_CHECK(r->kind == 'u' && r->cid == cid);
	o = frame_json(r);
	str_is(o, "type", "welcome", 7);
	str_is(o, "name", m->u[cid].name, m->u[cid].nlen);
	/* Users in join order, this one last. */
	for (i = 0; i < NCID; i++)
		if (m->u[i].in) {
			for (j = n; j > 0 && order[j - 1]->order > m->u[i].order; j--)
				order[j] = order[j - 1];
			order[j] = &m->u[i];
			n++;
		}
	a = field(o, "users", json_type_array);
	FUZZ_CHECK(json_object_array_length(a) == n);
	FUZZ_CHECK(n > 0 && order[n - 1] == &m->u[cid]);
	for (i = 0; i < n; i++) {
		h = json_object_array_get_idx(a, i);
		FUZZ_CHECK(json_object_is_type(h, json_type_string));
		FUZZ_CHECK((size_t)json_object_get_string_len(h) ==
		    order[i]->nlen && memcmp(json_object_get_string(h),
		    order[i]->name, order[i]->nlen) == 0);
	}
	a = field(o, "history", json_type_array);
	FUZZ_CHECK(json_object_array_length(a) == m->nhist);
	for (i = 0; i < m->nhist; i++) {
		h = json_object_array_get_idx(a, i);
		FUZZ_CHECK(json_object_is_type(h, json_type_object));
		str_is(h, "type", "message", 7);
		FUZZ_CHECK(json_object_get_uint64(field(h, "id",
		    json_type_int)) == m->hist[i].id);
		FUZZ_CHECK(json_object_get_int64(field(h, "ts",
		    json_type_int)) == m->hist[i].ts);
		str_is(h, "from", m->hist[i].from, m->hist[i].flen);
		str_is(h, "text", m->hist[i].text, m->hist[i].tlen);
	}
	FUZZ_CHECK(json_object_object_length(o) == 4);
	json_object_put(o);
}

static int
fold_equal(const char *a, size_t al, const char *b, size_t bl)
{
	size_t	 i;
	int	 x, y;

	if (al != bl)
		return 0;
	for (i = 0; i < al; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return 0;
	}
	return 1;
}

static void
hist_drop_oldest(struct model *m)
{
	free(m->hist[0].text);
	memmove(m->hist, m->hist + 1, (m->nhist - 1) * sizeof(m->hist[0]));
	m->nhist--;
}

static void
do_join(struct broker *b, struct model *m, uint32_t cid, const char *name,
    size_t len, int64_t ts)
{
	size_t	 off = 0, nl = 0, i;
	int	 want, rc;

	if (m->u[cid].in)
		want = CHAT_E_ALREADY_JOINED;
	else if (chat_name_check(name, len, &off, &nl) != CHAT_OK)
		want = CHAT_E_NAME_INVALID;
	else {
		want = CHAT_OK;
		for (i = 0; i < NCID; i++)
			if (m->u[i].in && fold_equal(m->u[i].name,
			    m->u[i].nlen, name + off, nl))
				want = CHAT_E_NAME_TAKEN;
	}
	rc = broker_join(b, cid, name, len, ts);
	FUZZ_CHECK(rc == want);
	if (rc != CHAT_OK) {
		FUZZ_CHECK(m->nrec == 1);
		check_error(&m->rec[0], cid, rc);
		return;
	}
	FUZZ_CHECK(nl <= sizeof(m->u[cid].name));
	m->u[cid].in = 1;
	memcpy(m->u[cid].name, name + off, nl);
	m->u[cid].nlen = nl;
	m->u[cid].order = m->order++;
	/* joined, then the welcome, then the join event to everyone. */
	FUZZ_CHECK(m->nrec == 3);
	FUZZ_CHECK(m->rec[0].kind == 'j' && m->rec[0].cid == cid &&
	    m->rec[0].len == nl && memcmp(m->rec[0].data, name + off, nl) == 0);
	check_welcome(m, &m->rec[1], cid);
	check_event(m, &m->rec[2], "join", ts, name + off, nl, NULL, 0);
}

static void
do_message(struct broker *b, struct model *m, uint32_t cid,
    const uint8_t *text, size_t len, int64_t ts)
{
	struct mmsg *h;
	int	 want, rc;

	if (!m->u[cid].in)
		want = CHAT_E_NOT_JOINED;
	else if (len == 0 || !fz_ref_valid(text, len))
		want = CHAT_E_BAD_JSON;
	else if (len > m->max_text)
		want = CHAT_E_TOO_LONG;
	else
		want = CHAT_OK;
	/* (chat_text_check tests the length before the encoding.) */
	if (want == CHAT_E_BAD_JSON && len > m->max_text)
		want = CHAT_E_TOO_LONG;
	rc = broker_message(b, cid, (const char *)text, len, ts);
	FUZZ_CHECK(rc == want);
	FUZZ_CHECK(m->nrec == 1);
	if (rc != CHAT_OK) {
		check_error(&m->rec[0], cid, rc);
		return;
	}
	check_event(m, &m->rec[0], "message", ts, m->u[cid].name,
	    m->u[cid].nlen, text, len);
	if (m->hist_max == 0)
		return;
	if (m->nhist == m->hist_max)
		hist_drop_oldest(m);
	h = &m->hist[m->nhist++];
	h->id = m->last_id;
	h->ts = ts;
	memcpy(h->from, m->u[cid].name, m->u[cid].nlen);
	h->flen = m->u[cid].nlen;
	FUZZ_CHECK((h->text = malloc(len)) != NULL);
	memcpy(h->text, text, len);
	h->tlen = len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	 f = { data, size };
	struct model	 m;
	struct broker	*b;
	const uint8_t	*p;
	size_t		 n, i;
	uint32_t	 cid;
	int64_t		 ts;
	int		 e, steps = 0;

	memset(&m, 0, sizeof(m));
	m.hist_max = fz_u8(&f) % 6;
	m.max_text = fz_u8(&f) % 64 + 1;
	FUZZ_CHECK((b = broker_new(&ops, &m, m.hist_max, m.max_text)) != NULL);
	while (f.n > 0 && steps++ < 200) {
		uint8_t op = fz_u8(&f);

		cid = (op >> 3) % NCID;
		ts = (int64_t)fz_u16(&f) * 1000;
		switch (op & 7) {
		case 0:
		case 1:
		case 2:
			n = fz_bytes(&f, fz_u8(&f) % 48, &p);
			do_join(b, &m, cid, (const char *)p, n, ts);
			break;
		case 3:
		case 4:
			n = fz_bytes(&f, fz_u8(&f) % 80, &p);
			do_message(b, &m, cid, p, n, ts);
			break;
		case 5:
			broker_leave(b, cid, ts);
			if (m.u[cid].in) {
				FUZZ_CHECK(m.nrec == 1);
				m.u[cid].in = 0;
				check_event(&m, &m.rec[0], "leave", ts,
				    m.u[cid].name, m.u[cid].nlen, NULL, 0);
			} else
				FUZZ_CHECK(m.nrec == 0);
			break;
		case 6:
			e = fz_u8(&f) % (CHAT_E_MAX + 3);
			broker_error(b, cid, e);
			if (e >= 1 && e <= CHAT_E_MAX) {
				FUZZ_CHECK(m.nrec == 1);
				check_error(&m.rec[0], cid, e);
			} else
				FUZZ_CHECK(m.nrec == 0);
			break;
		case 7:
			m.hist_max = fz_u8(&f) % 6;
			m.max_text = fz_u8(&f) % 64 + 1;
			broker_configure(b, m.hist_max, m.max_text);
			while (m.nhist > m.hist_max)
				hist_drop_oldest(&m);
			FUZZ_CHECK(m.nrec == 0);
			break;
		}
		clear_recs(&m);
		for (n = 0, i = 0; i < NCID; i++) {
			FUZZ_CHECK(broker_is_joined(b, (uint32_t)i) == m.u[i].in);
			n += (size_t)m.u[i].in;
		}
		FUZZ_CHECK(broker_users(b) == n);
		FUZZ_CHECK(broker_last_id(b) == m.last_id);
	}
	broker_free(b);
	while (m.nhist > 0)
		hist_drop_oldest(&m);
	return 0;
}
