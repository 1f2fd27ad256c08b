#ifndef WSCHATD_MASTER_H
#define WSCHATD_MASTER_H

#include "conf.h"
#include "webroot.h"

/* A listening socket; its clients speak TLS when tls is set. */
struct listener {
	int	fd;
	int	tls;
};

/* Bind every listener of cfg; fatal on failure.  Returns their count. */
int	master_listen(const struct wsconfig *, struct listener *);
/* Log "listening on ADDR:PORT" (and " with TLS") for a listener. */
void	master_log_listener(const struct listener *);
/* The poll() loop; returns the exit status.  Takes over the webroot. */
int	master_run(struct wsconfig *, struct webroot *, struct listener *,
	    int nl);

#endif
