#ifndef WSCHATD_NOTIFY_H
#define WSCHATD_NOTIFY_H

/*
 * The service manager's side channels: readiness notification
 * ($NOTIFY_SOCKET, "READY=1") and socket activation ($LISTEN_FDS).
 * Both are plain protocols over the environment; no library needed.
 */

/* Connect to $NOTIFY_SOCKET if set (call before dropping privileges). */
void	notify_open(void);
/* Send one state line ("READY=1"); a no-op without $NOTIFY_SOCKET. */
void	notify_send(const char *);
/*
 * Listeners passed by the service manager: fills fds (at most max) and
 * returns their count, 0 when none were passed, -1 on a bad hand-over.
 * tls[i] is 1 for a socket named "tls" in $LISTEN_FDNAMES, else 0.
 */
int	notify_listen_fds(int *fds, int *tls, int max);

#endif
