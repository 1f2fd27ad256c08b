#ifndef WSCHATD_WORKER_H
#define WSCHATD_WORKER_H

#include <sys/socket.h>

#include "conf.h"
#include "webroot.h"

/*
 * One client's whole life, in its own process: HTTP requests, then the
 * WebSocket connection.  Holds only the client socket and its broker
 * socket; exits when either side goes.  peer_sa is the client's TCP peer.  With tls, the client speaks TLS
 * with the server's context (tls_ctx()), inherited from the master.
 */
void	worker_main(const struct wsconfig *, const struct webroot *,
	    int client, int broker, const char *peer,
	    const struct sockaddr *peer_sa, int tls)
	    __attribute__((noreturn));

#endif
