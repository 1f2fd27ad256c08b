/*
 * The room.  Users live in a table indexed by client number, a hash of
 * folded names for uniqueness, and a list in join order for the welcome.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "chat.h"
#include "ws.h"

#define NAME_BUCKETS	4096		/* power of two */

struct user {
	uint32_t	 cid;
	char		*name;
	size_t		 nlen;
	char		*jname;		/* name as a JSON string, for welcomes */
	size_t		 jlen;
	struct user	*prev, *next;	/* join order */
	struct user	*hnext;		/* name bucket */
};

struct broker {
	const struct broker_ops	*ops;
	void			*ctx;
	uint64_t		 last_id;
	size_t			 max_text;

	struct user		**by_cid;
	size_t			 ncid;
	struct user		*buckets[NAME_BUCKETS];
	struct user		*first, *last;
	size_t			 nusers;

	struct rbuf		**hist;		/* ring of message frames */
	unsigned		 hist_max, hist_len, hist_head;

	struct rbuf		*errors[CHAT_E_MAX + 1];
	struct bbuf		 scratch;
};

struct rbuf *
broker_frame(const void *json, size_t len)
{
	uint8_t		 h[WS_MAX_HEADER];
	size_t		 hl = ws_header(h, WS_OP_TEXT, len);
	struct rbuf	*r;

	if ((r = rbuf_alloc(hl + len)) == NULL)
		return NULL;
	memcpy(r->data, h, hl);
	memcpy(r->data + hl, json, len);
	return r;
}

/* The JSON inside a frame made by broker_frame. */
static const uint8_t *
frame_json(const struct rbuf *r, size_t *len)
{
	size_t	 hl = (r->data[1] & 0x7f) == 126 ? 4 :
	    (r->data[1] & 0x7f) == 127 ? 10 : 2;

	*len = r->len - hl;
	return r->data + hl;
}

static void
hist_clear(struct broker *b)
{
	unsigned	 i;

	for (i = 0; i < b->hist_len; i++)
		rbuf_unref(b->hist[(b->hist_head + i) % b->hist_max]);
	free(b->hist);
	b->hist = NULL;
	b->hist_len = b->hist_head = 0;
}

void
broker_configure(struct broker *b, unsigned history, size_t max_text)
{
	struct rbuf	**nh = NULL;
	unsigned	  i, keep, skip;

	b->max_text = max_text;
	if (history == b->hist_max)
		return;
	/* Keep the newest messages that fit the new size. */
	if (history > 0 && (nh = calloc(history, sizeof(*nh))) == NULL)
		return;
	keep = b->hist_len < history ? b->hist_len : history;
	skip = b->hist_len - keep;
	for (i = 0; i < keep; i++)
		nh[i] = rbuf_ref(b->hist[(b->hist_head + skip + i) % b->hist_max]);
	hist_clear(b);
	b->hist = nh;
	b->hist_max = history;
	b->hist_len = keep;
	b->hist_head = 0;
}

struct broker *
broker_new(const struct broker_ops *ops, void *ctx, unsigned history,
    size_t max_text)
{
	struct broker	*b;
	int		 e;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->ops = ops;
	b->ctx = ctx;
	bbuf_init(&b->scratch);
	for (e = 1; e <= CHAT_E_MAX; e++) {
		bbuf_reset(&b->scratch);
		if (chat_fmt_error(&b->scratch, e) == -1 ||
		    (b->errors[e] = broker_frame(bbuf_head(&b->scratch),
		    bbuf_size(&b->scratch))) == NULL) {
			broker_free(b);
			return NULL;
		}
	}
	broker_configure(b, history, max_text);
	return b;
}

static void
user_free(struct user *u)
{
	free(u->name);
	free(u->jname);
	free(u);
}

void
broker_free(struct broker *b)
{
	struct user	*u, *n;
	int		 e;

	if (b == NULL)
		return;
	for (u = b->first; u != NULL; u = n) {
		n = u->next;
		user_free(u);
	}
	hist_clear(b);
	for (e = 1; e <= CHAT_E_MAX; e++)
		rbuf_unref(b->errors[e]);
	free(b->by_cid);
	bbuf_free(&b->scratch);
	free(b);
}

static struct user *
user_of(const struct broker *b, uint32_t cid)
{
	return cid < b->ncid ? b->by_cid[cid] : NULL;
}

int
broker_is_joined(const struct broker *b, uint32_t cid)
{
	return user_of(b, cid) != NULL;
}

size_t
broker_users(const struct broker *b)
{
	return b->nusers;
}

uint64_t
broker_last_id(const struct broker *b)
{
	return b->last_id;
}

void
broker_error(struct broker *b, uint32_t cid, int err)
{
	if (err >= 1 && err <= CHAT_E_MAX)
		b->ops->unicast(b->ctx, cid, b->errors[err]);
}

static int
fail(struct broker *b, uint32_t cid, int err)
{
	broker_error(b, cid, err);
	return err;
}

static struct user *
find_name(const struct broker *b, const char *name, size_t len)
{
	struct user	*u;

	u = b->buckets[chat_name_hash(name, len) & (NAME_BUCKETS - 1)];
	for (; u != NULL; u = u->hnext)
		if (chat_name_equal(u->name, u->nlen, name, len))
			return u;
	return NULL;
}

/* Format an event into a frame; the scratch buffer holds the JSON. */
static struct rbuf *
event(struct broker *b, const char *type, int64_t now, const char *name,
    size_t nlen, const char *text, size_t tlen)
{
	bbuf_reset(&b->scratch);
	if (chat_fmt_event(&b->scratch, type, b->last_id + 1, now, name, nlen,
	    text, tlen) == -1)
		return NULL;
	b->last_id++;
	return broker_frame(bbuf_head(&b->scratch), bbuf_size(&b->scratch));
}

static struct rbuf *
welcome(struct broker *b, const struct user *me)
{
	struct bbuf	*s = &b->scratch;
	struct user	*u;
	const uint8_t	*j;
	size_t		 jl;
	unsigned	 i;

	bbuf_reset(s);
	if (bbuf_append(s, "{\"type\":\"welcome\",\"name\":", 25) == -1 ||
	    bbuf_append(s, me->jname, me->jlen) == -1 ||
	    bbuf_append(s, ",\"users\":[", 10) == -1)
		return NULL;
	for (u = b->first; u != NULL; u = u->next)
		if ((u != b->first && bbuf_append(s, ",", 1) == -1) ||
		    bbuf_append(s, u->jname, u->jlen) == -1)
			return NULL;
	if (bbuf_append(s, "],\"history\":[", 13) == -1)
		return NULL;
	for (i = 0; i < b->hist_len; i++) {
		j = frame_json(b->hist[(b->hist_head + i) % b->hist_max], &jl);
		if ((i > 0 && bbuf_append(s, ",", 1) == -1) ||
		    bbuf_append(s, j, jl) == -1)
			return NULL;
	}
	if (bbuf_append(s, "]}", 2) == -1)
		return NULL;
	return broker_frame(bbuf_head(s), bbuf_size(s));
}

static int
grow_cids(struct broker *b, uint32_t cid)
{
	struct user	**n;
	size_t		  ncid = b->ncid ? b->ncid : 64;

	while (ncid <= cid)
		ncid *= 2;
	if ((n = realloc(b->by_cid, ncid * sizeof(*n))) == NULL)
		return -1;
	memset(n + b->ncid, 0, (ncid - b->ncid) * sizeof(*n));
	b->by_cid = n;
	b->ncid = ncid;
	return 0;
}

int
broker_join(struct broker *b, uint32_t cid, const char *name, size_t len,
    int64_t now)
{
	struct user	*u;
	struct rbuf	*w, *ev;
	size_t		 off, nl;
	uint32_t	 h;

	if (user_of(b, cid) != NULL)
		return fail(b, cid, CHAT_E_ALREADY_JOINED);
	/* Workers check names too; the broker does not trust them. */
	if (chat_name_check(name, len, &off, &nl) != CHAT_OK)
		return fail(b, cid, CHAT_E_NAME_INVALID);
	name += off;
	if (find_name(b, name, nl) != NULL)
		return fail(b, cid, CHAT_E_NAME_TAKEN);
	if (cid >= b->ncid && grow_cids(b, cid) == -1)
		return fail(b, cid, CHAT_E_BAD_JSON);

	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->name = malloc(nl + 1)) == NULL)
		goto nomem;
	memcpy(u->name, name, nl);
	u->name[nl] = '\0';
	u->nlen = nl;
	u->cid = cid;
	bbuf_reset(&b->scratch);
	if (chat_json_string(&b->scratch, name, nl) == -1 ||
	    (u->jname = malloc(bbuf_size(&b->scratch))) == NULL)
		goto nomem;
	u->jlen = bbuf_size(&b->scratch);
	memcpy(u->jname, bbuf_head(&b->scratch), u->jlen);

	b->by_cid[cid] = u;
	h = chat_name_hash(u->name, nl) & (NAME_BUCKETS - 1);
	u->hnext = b->buckets[h];
	b->buckets[h] = u;
	u->prev = b->last;
	if (b->last)
		b->last->next = u;
	else
		b->first = u;
	b->last = u;
	b->nusers++;

	/* Welcome first, then the join that everyone, this user too, sees. */
	b->ops->joined(b->ctx, cid, u->name, u->nlen);
	if ((w = welcome(b, u)) != NULL) {
		b->ops->unicast(b->ctx, cid, w);
		rbuf_unref(w);
	}
	if ((ev = event(b, "join", now, u->name, u->nlen, NULL, 0)) != NULL) {
		b->ops->broadcast(b->ctx, ev);
		rbuf_unref(ev);
	}
	return CHAT_OK;
 nomem:
	if (u != NULL)
		user_free(u);
	return fail(b, cid, CHAT_E_BAD_JSON);
}

int
broker_message(struct broker *b, uint32_t cid, const char *text, size_t len,
    int64_t now)
{
	struct user	*u;
	struct rbuf	*ev;
	int		 rc;

	if ((u = user_of(b, cid)) == NULL)
		return fail(b, cid, CHAT_E_NOT_JOINED);
	if ((rc = chat_text_check(text, len, b->max_text)) != CHAT_OK)
		return fail(b, cid, rc);
	if ((ev = event(b, "message", now, u->name, u->nlen, text, len)) == NULL)
		return fail(b, cid, CHAT_E_BAD_JSON);
	b->ops->broadcast(b->ctx, ev);
	if (b->hist_max > 0) {
		if (b->hist_len == b->hist_max) {
			rbuf_unref(b->hist[b->hist_head]);
			b->hist[b->hist_head] = ev;
			b->hist_head = (b->hist_head + 1) % b->hist_max;
		} else {
			b->hist[(b->hist_head + b->hist_len) % b->hist_max] = ev;
			b->hist_len++;
		}
	} else
		rbuf_unref(ev);
	return CHAT_OK;
}

void
broker_leave(struct broker *b, uint32_t cid, int64_t now)
{
	struct user	*u, **pp;
	struct rbuf	*ev;

	if ((u = user_of(b, cid)) == NULL)
		return;
	b->by_cid[cid] = NULL;
	pp = &b->buckets[chat_name_hash(u->name, u->nlen) & (NAME_BUCKETS - 1)];
	while (*pp != u)
		pp = &(*pp)->hnext;
	*pp = u->hnext;
	if (u->prev)
		u->prev->next = u->next;
	else
		b->first = u->next;
	if (u->next)
		u->next->prev = u->prev;
	else
		b->last = u->prev;
	b->nusers--;
	if ((ev = event(b, "leave", now, u->name, u->nlen, NULL, 0)) != NULL) {
		b->ops->broadcast(b->ctx, ev);
		rbuf_unref(ev);
	}
	user_free(u);
}
