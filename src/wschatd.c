/*
 * wschatd: group chat over WebSocket.
 *
 * Start-up order: settings, logging, the web client, the listeners (all
 * while still root, if started as root), then the privilege drop, then
 * the master's poll() loop.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "log.h"
#include "master.h"
#include "privsep.h"
#include "title.h"
#include "webroot.h"

int
main(int argc, char *argv[], char *envp[])
{
	static struct wsconfig	 cfg;
	struct privsep_user	 pu;
	struct webroot		*wr;
	char			 err[CONFIG_ERRLEN];
	int			 lfd[MAX_LISTEN], nl, rc;

	switch (config_args(&cfg, argc, argv, err, sizeof(err))) {
	case CONFIG_EXIT:
		return 0;
	case CONFIG_ERROR:
		fprintf(stderr, "wschatd: %s\n", err);
		fprintf(stderr, "Try 'wschatd --help'.\n");
		return 1;
	}
	if (config_load(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "wschatd: %s\n", err);
		return 1;
	}
	title_init(argc, argv, envp);
	/* Initialise OpenSSL once, here: workers then share it and never
	 * read its configuration file themselves. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		fatalx("OpenSSL initialisation failed");
	log_init(cfg.foreground, cfg.debug);

	if ((wr = webroot_load(cfg.webroot, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	log_info("web client: %zu files, %zu bytes from %s", wr->n, wr->bytes,
	    cfg.webroot);
	nl = master_listen(&cfg, lfd);

	if (geteuid() == 0) {
		if (privsep_lookup(cfg.user, &pu) == -1)
			fatalx("user %s does not exist (create it, or choose "
			    "another with --user)", cfg.user);
		privsep_drop(&pu);
	} else
		log_info("not started as root: running as uid %d, "
		    "no privilege drop", (int)getuid());

	if (!cfg.foreground && daemon(0, 0) == -1)
		fatal("daemon");

	rc = master_run(&cfg, wr, lfd, nl);
	webroot_free(wr);
	config_free(&cfg);
	return rc;
}
