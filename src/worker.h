#ifndef WSCHATD_WORKER_H
#define WSCHATD_WORKER_H

#include <sys/socket.h>

#include "conf.h"
#include "webroot.h"

/*
 * One client's whole life, in its own process: HTTP requests, then the
 * WebSocket connection.  Holds only the client socket and its broker
 * socket; exits when either side goes.  peer_sa is the client's TCP
 * peer.  With tls, the client speaks TLS with the server's context
 * (tls_ctx()), inherited from the master.  With direct, the master also
 * holds the client socket: once the WebSocket is open, the master writes
 * to the client and the worker sends it its own frames (IPC_OUT).
 */
void	worker_main(const struct wsconfig *, const struct webroot *,
	    int client, int broker, const char *peer,
	    const struct sockaddr *peer_sa, int tls, int direct)
	    __attribute__((noreturn));

#endif
