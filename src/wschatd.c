/*
 * wschatd: group chat over WebSocket.
 *
 * Start-up order: settings, the TLS certificate and key, logging, the
 * pid file, the web client, the listeners (all while still root, if
 * started as root), then the chroot and the privilege drop, then the
 * master's poll() loop, which starts the spawner of the workers
 * (spawn.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libutil.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "privsep.h"
#include "title.h"
#include "tls.h"
#include "webroot.h"

/*
 * The master holds one descriptor per client and the default soft limit
 * is often 1024: take what the hard limit allows.
 */
static void
raise_fd_limit(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit RLIMIT_NOFILE");
	else
		log_debug("descriptor limit raised to %llu",
		    (unsigned long long)rl.rlim_cur);
}

/* Started as root with a chroot: the directory must be there. */
static void
check_chroot(const struct wsconfig *cfg)
{
	struct stat	 st;

	if (geteuid() != 0 || cfg->chroot[0] == '\0')
		return;
	if (stat(cfg->chroot, &st) == -1)
		fatal("chroot directory %s (create it, or choose another "
		    "with --chroot)", cfg->chroot);
	if (!S_ISDIR(st.st_mode))
		fatalx("chroot directory %s: not a directory", cfg->chroot);
}

/*
 * Root: chroot, then the drop, then proof that root is gone.  The config
 * file and the web client stay reachable for SIGHUP through descriptors
 * of their directories, taken here.
 */
static void
confine(const struct wsconfig *cfg)
{
	struct privsep_user	 pu;
	char			 err[CONFIG_ERRLEN];

	if (geteuid() != 0) {
		log_info("not started as root: running as uid %d, no chroot "
		    "and no privilege drop", (int)getuid());
		return;
	}
	if (privsep_lookup(cfg->user, &pu) == -1)
		fatalx("user %s does not exist (create it, or choose "
		    "another with --user)", cfg->user);
	if (cfg->chroot[0] != '\0') {
		if (config_pin_dir(cfg, err, sizeof(err)) == -1)
			fatalx("%s", err);
		if (webroot_pin_dir(cfg->webroot, err, sizeof(err)) == -1)
			fatalx("%s", err);
		if (chroot(cfg->chroot) == -1 || chdir("/") == -1)
			fatal("chroot %s", cfg->chroot);
		log_info("chroot %s", cfg->chroot);
	}
	privsep_drop(&pu);
}

/* -n: check everything that start-up would read, and say so. */
static int
check_config(const struct wsconfig *cfg)
{
	struct privsep_user	 pu;
	struct webroot		*wr;
	SSL_CTX			*ctx;
	char			 err[CONFIG_ERRLEN];

	if ((wr = webroot_load(cfg->webroot, err, sizeof(err))) == NULL) {
		fprintf(stderr, "wschatd: %s\n", err);
		return 1;
	}
	webroot_free(wr);
	if (cfg->tls_cert[0] != '\0') {
		if ((ctx = tls_ctx_new(cfg->tls_cert, cfg->tls_key, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "wschatd: %s\n", err);
			return 1;
		}
		SSL_CTX_free(ctx);
	}
	if (geteuid() == 0 && cfg->chroot[0] != '\0' &&
	    access(cfg->chroot, X_OK) == -1) {
		fprintf(stderr, "wschatd: chroot directory %s: %s\n",
		    cfg->chroot, strerror(errno));
		return 1;
	}
	if (privsep_lookup(cfg->user, &pu) == -1) {
		fprintf(stderr, "wschatd: user %s does not exist\n", cfg->user);
		return 1;
	}
	printf("wschatd: configuration %s%s is good\n", cfg->config_path,
	    access(cfg->config_path, F_OK) == 0 ? "" : " (absent: defaults)");
	return 0;
}

int
main(int argc, char *argv[], char *envp[])
{
	static struct wsconfig	 cfg;
	struct webroot		*wr;
	struct pidfh		*pfh = NULL;
	struct listener		 lst[MAX_LISTEN];
	SSL_CTX			*ctx;
	pid_t			 other;
	char			 err[CONFIG_ERRLEN];
	int			 lfd[MAX_LISTEN], ltls[MAX_LISTEN], nl, i, rc;

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
	if (cfg.check_only)
		return check_config(&cfg);

	title_init(argc, argv, envp);
	/* Initialise OpenSSL once, here: workers then share it and never
	 * read its configuration file themselves. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		fatalx("OpenSSL initialisation failed");
	/* The key may be readable by root only, and outside any chroot:
	 * load it first. */
	if (cfg.tls_cert[0] != '\0') {
		if ((ctx = tls_ctx_new(cfg.tls_cert, cfg.tls_key, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "wschatd: %s\n", err);
			return 1;
		}
		tls_set(ctx);
	}
	log_init(cfg.foreground, cfg.debug);
	check_chroot(&cfg);

	if (cfg.pidfile[0] != '\0' &&
	    (pfh = pidfile_open(cfg.pidfile, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fatalx("already running as pid %d (pid file %s)",
			    (int)other, cfg.pidfile);
		fatal("pid file %s", cfg.pidfile);
	}

	if ((wr = webroot_load(cfg.webroot, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	log_info("web client: %zu files, %zu bytes from %s", wr->n, wr->bytes,
	    cfg.webroot);

	raise_fd_limit();
	notify_open();
	if ((nl = notify_listen_fds(lfd, ltls, MAX_LISTEN)) == -1)
		fatalx("socket activation failed");
	if (nl > 0) {
		log_info("socket activation: %d listener%s", nl,
		    nl > 1 ? "s" : "");
		for (i = 0; i < nl; i++) {
			lst[i].fd = lfd[i];
			lst[i].tls = ltls[i];
			if (lst[i].tls && tls_ctx() == NULL)
				fatalx("socket activation: a socket named "
				    "\"tls\" needs tls-cert and tls-key");
			master_log_listener(&lst[i]);
		}
	} else
		nl = master_listen(&cfg, lst);

	/* Before the chroot: daemon() opens /dev/null. */
	if (!cfg.foreground && daemon(0, 0) == -1)
		fatal("daemon");
	confine(&cfg);
	if (pfh != NULL && pidfile_write(pfh) == -1)
		fatal("pid file %s", cfg.pidfile);

	/* The master owns wr from here on (SIGHUP replaces it). */
	rc = master_run(&cfg, wr, lst, nl);
	/* After the drop this may fail; a stale file is not locked and is
	 * taken over by the next start. */
	if (pfh != NULL)
		pidfile_remove(pfh);
	config_free(&cfg);
	return rc;
}
