#ifndef WSCHATD_MASTER_H
#define WSCHATD_MASTER_H

#include "conf.h"
#include "webroot.h"

/* Bind every listener of cfg; fatal on failure.  Returns their count. */
int	master_listen(const struct wsconfig *, int *fds);
/* Log "listening on ADDR:PORT" for a listening socket. */
void	master_log_listener(int);
/* The poll() loop; returns the exit status.  Takes over the webroot. */
int	master_run(struct wsconfig *, struct webroot *, int *fds, int nfds);

#endif
