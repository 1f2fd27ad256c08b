/* Dropping root: once, completely, and checked. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

int
privsep_lookup(const char *name, struct privsep_user *u)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		return -1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	strlcpy(u->name, name, sizeof(u->name));
	return 0;
}

void
privsep_drop(const struct privsep_user *u)
{
	uid_t	 r, e, s;
	gid_t	 rg, eg, sg;

	if (u->uid == 0)
		fatalx("refusing to run as user %s: it is root", u->name);
	if (setgroups(1, &u->gid) == -1)
		fatal("setgroups");
	if (setresgid(u->gid, u->gid, u->gid) == -1)
		fatal("setresgid");
	if (setresuid(u->uid, u->uid, u->uid) == -1)
		fatal("setresuid");
	/* Verify: every id is the user's, and root is out of reach. */
	if (getresuid(&r, &e, &s) == -1 || r != u->uid || e != u->uid ||
	    s != u->uid)
		fatalx("privilege drop left a uid behind");
	if (getresgid(&rg, &eg, &sg) == -1 || rg != u->gid || eg != u->gid ||
	    sg != u->gid)
		fatalx("privilege drop left a gid behind");
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("privilege drop failed: root can be regained");
	log_info("running as %s (uid %d, gid %d)", u->name, (int)u->uid,
	    (int)u->gid);
}
