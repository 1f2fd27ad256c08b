#ifndef WSCHATD_PRIVSEP_H
#define WSCHATD_PRIVSEP_H

#include <sys/types.h>

struct privsep_user {
	uid_t	uid;
	gid_t	gid;
	char	name[64];
};

/* Look the user up while /etc/passwd is still there. -1 if unknown. */
int	privsep_lookup(const char *, struct privsep_user *);
/* setgroups, setresgid, setresuid; then prove root cannot come back. */
void	privsep_drop(const struct privsep_user *);

#endif
