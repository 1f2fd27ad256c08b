#ifndef WSCHATD_CONF_H
#define WSCHATD_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "access.h"
#include "wslimits.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/usr/local/etc"
#endif
#ifndef WEBROOT
#define WEBROOT		"/usr/local/share/wschatd/www"
#endif
#ifndef STATEDIR
#define STATEDIR	"/usr/local/var/lib/wschatd"
#endif
#ifndef WSCHATD_USER
#define WSCHATD_USER	"_wschatd"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/wschatd/wschatd.conf"

#define CONFIG_ERRLEN	512

struct listen_spec {
	char	host[64];	/* numeric IPv4 or IPv6 address */
	char	port[8];
	int	tls;		/* tls-listen: speaks TLS */
};

/* One command-line setting, re-applied over the file on every reload. */
struct config_override {
	const char	*key;
	const char	*value;	/* malloc'd */
};

struct wsconfig {
	int			 foreground;
	int			 debug;
	char			 user[64];
	char			 webroot[PATH_MAX];
	char			 chroot[PATH_MAX];	/* "" for none */
	char			 config_path[PATH_MAX];
	int			 config_given;	/* -c: the file must exist */
	int			 check_only;	/* -n: check the settings and exit */
	char			 pidfile[PATH_MAX];	/* "" for none */
	struct listen_spec	 listen[MAX_LISTEN];	/* listen, then tls-listen */
	int			 nlisten;
	char			 tls_cert[PATH_MAX];	/* "" for none */
	char			 tls_key[PATH_MAX];
	unsigned		 max_clients;
	unsigned		 max_message;
	unsigned		 max_text;
	unsigned		 history;
	unsigned		 rate_limit;
	unsigned		 rate_burst;
	unsigned		 max_queue;
	unsigned		 max_clients_per_ip;
	unsigned		 request_timeout;
	unsigned		 ping_interval;
	unsigned		 idle_timeout;
	unsigned		 max_fragments;
	struct access_cidr	 trusted[MAX_TRUSTED_PROXIES];
	int			 ntrusted;
	char			 allow_origin[MAX_ALLOW_ORIGINS][ACCESS_ORIGIN_MAX];
	int			 nallow;	/* normalized origins or "*" */

	struct config_override	*cli;
	int			 ncli;
};

/* Outcome of config_args. */
#define CONFIG_RUN	0	/* go on */
#define CONFIG_EXIT	1	/* help or version printed: exit 0 */
#define CONFIG_ERROR	(-1)	/* err says why: exit 1 */

void	config_defaults(struct wsconfig *);
/* Parse argv (kept: overrides point into it). */
int	config_args(struct wsconfig *, int, char **, char *, size_t);
/* Defaults, then the config file, then the command line. */
int	config_load(struct wsconfig *, char *, size_t);
/* Set one key from text; err gets the reason. */
int	config_set(struct wsconfig *, const char *, const char *, char *, size_t);
/* Parse config text (name is used in messages). */
int	config_parse_text(struct wsconfig *, const char *name, const char *,
	    size_t, char *, size_t);
void	config_free(struct wsconfig *);
void	config_usage(FILE *);
/*
 * Keep a descriptor of the config file's directory, so that config_load
 * still finds the file after a chroot (SIGHUP).  -1 with err on failure.
 */
int	config_pin_dir(const struct wsconfig *, char *, size_t);

#endif
