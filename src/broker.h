#ifndef WSCHATD_BROKER_H
#define WSCHATD_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * The room: who is in it, the event ids that order it, and the recent
 * history.  Clients are numbered by the caller (cid).  Every event is
 * formatted once, as a finished WebSocket text frame, and handed out as
 * one shared buffer.  Pure logic: the caller supplies time and delivery.
 */
struct broker_ops {
	/* Deliver frame to one client. */
	void	(*unicast)(void *, uint32_t cid, struct rbuf *);
	/* Deliver frame to every joined client. */
	void	(*broadcast)(void *, struct rbuf *);
	/* cid joined as name: from now on it receives broadcasts. */
	void	(*joined)(void *, uint32_t cid, const char *, size_t);
};

struct broker;

struct broker	*broker_new(const struct broker_ops *, void *ctx,
		    unsigned history, size_t max_text);
void		 broker_free(struct broker *);
void		 broker_configure(struct broker *, unsigned history,
		    size_t max_text);
/* Each returns CHAT_OK, or the error code it already sent to cid. */
int		 broker_join(struct broker *, uint32_t cid, const char *,
		    size_t, int64_t now_ms);
int		 broker_message(struct broker *, uint32_t cid, const char *,
		    size_t, int64_t now_ms);
/* cid is gone; its leave goes to everyone left.  No-op if not joined. */
void		 broker_leave(struct broker *, uint32_t cid, int64_t now_ms);
/* Send a protocol error to cid. */
void		 broker_error(struct broker *, uint32_t cid, int err);

size_t		 broker_users(const struct broker *);
int		 broker_is_joined(const struct broker *, uint32_t cid);
uint64_t	 broker_last_id(const struct broker *);
/* Wrap a JSON text in a WebSocket text frame. */
struct rbuf	*broker_frame(const void *, size_t);

#endif
