#ifndef WSCHATD_SPAWN_H
#define WSCHATD_SPAWN_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conf.h"
#include "webroot.h"

/*
 * The spawner: one long-lived process, forked by the master after the
 * privilege drop, that sets no_new_privs and the system call filter once
 * and then forks a worker for each client the master hands it.  Every
 * worker inherits that one filter: no BPF program is built per client.
 *
 * master -> spawner: struct spawn_req with two descriptors (SCM_RIGHTS):
 * the client socket and the worker's end of its broker socketpair.
 * spawner -> master: struct spawn_rep, SPAWN_STARTED for each request
 * (pid -1 if fork failed) and SPAWN_ENDED for each worker it reaps.
 */
struct spawn_req {
	uint32_t		 slot;		/* the master's client slot */
	int			 tls;		/* listener kind: 0 plain, 1 TLS */
	int			 direct;	/* the master keeps the client
						 * socket and writes to it */
	socklen_t		 peerlen;
	struct sockaddr_storage	 peer;
};

#define SPAWN_STARTED	1
#define SPAWN_ENDED	2

struct spawn_rep {
	int		 type;
	uint32_t	 slot;		/* SPAWN_STARTED */
	pid_t		 pid;
	int		 status;	/* SPAWN_ENDED: as from waitpid */
};

/* Fork the spawner; *ctl gets the master's end (nonblocking). -1 on error. */
pid_t	spawner_start(const struct wsconfig *, const struct webroot *, int *ctl);
/* 0 sent; IO_AGAIN when the spawner's queue is full; IO_ERROR. */
int	spawn_request(int ctl, const struct spawn_req *, int cfd, int bfd);
/* 1 one reply read; 0 the spawner is gone; IO_AGAIN; IO_ERROR. */
int	spawn_reply(int ctl, struct spawn_rep *);

#endif
