/*
 * Settings: defaults, the config file (key = value), the command line.
 * Every option but -c, -h and -V is also a config key of the same name.
 */
#include "config.h"
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

/* Maximum size of a config file. */
#define CONFIG_MAX_FILE	(1024 * 1024)

static void seterr(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
config_defaults(struct wsconfig *c)
{
	struct config_override	*cli = c->cli;
	int			 ncli = c->ncli;
	char			 path[PATH_MAX];
	int			 given = c->config_given;
	int			 check = c->check_only;

	memcpy(path, c->config_path, sizeof(path));
	memset(c, 0, sizeof(*c));
	c->cli = cli;
	c->ncli = ncli;
	c->config_given = given;
	c->check_only = check;
	if (given)
		memcpy(c->config_path, path, sizeof(path));
	else
		strlcpy(c->config_path, DEFAULT_CONFIG, sizeof(c->config_path));
	strlcpy(c->user, WSCHATD_USER, sizeof(c->user));
	strlcpy(c->webroot, WEBROOT, sizeof(c->webroot));
	strlcpy(c->chroot, STATEDIR, sizeof(c->chroot));
	c->max_clients = DEF_MAX_CLIENTS;
	c->max_message = DEF_MAX_MESSAGE;
	c->max_text = DEF_MAX_TEXT;
	c->history = DEF_HISTORY;
	c->rate_limit = DEF_RATE_LIMIT;
	c->rate_burst = DEF_RATE_BURST;
	c->max_queue = DEF_MAX_QUEUE;
	c->max_clients_per_ip = DEF_MAX_CLIENTS_PER_IP;
	c->request_timeout = DEF_REQUEST_TIMEOUT;
	c->ping_interval = DEF_PING_INTERVAL;
	c->idle_timeout = DEF_IDLE_TIMEOUT;
	c->max_fragments = DEF_MAX_FRAGMENTS;
}

static int
parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out,
    char *err, size_t errlen, const char *key)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	if (*s < '0' || *s > '9') {
		seterr(err, errlen, "%s: '%s' is not a number", key, s);
		return -1;
	}
	v = strtoul(s, &end, 10);
	if (*end != '\0' || errno == ERANGE) {
		seterr(err, errlen, "%s: '%s' is not a number", key, s);
		return -1;
	}
	if (v < lo || v > hi) {
		seterr(err, errlen, "%s: %s is out of range %u to %u",
		    key, s, lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
parse_bool(const char *s, int *out, char *err, size_t errlen, const char *key)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcmp(s, "0"))
		*out = 0;
	else {
		seterr(err, errlen, "%s: '%s' is not yes or no", key, s);
		return -1;
	}
	return 0;
}

/* ADDR:PORT, [ADDR6]:PORT, or *:PORT (all IPv4 addresses). */
static int
parse_listen(const char *s, struct listen_spec *l, const char *key,
    char *err, size_t errlen)
{
	const char	*colon, *host, *hend;
	unsigned char	 tmp[16];
	unsigned	 port;
	size_t		 hl;
	char		 perr[CONFIG_ERRLEN];

	if (s[0] == '[') {
		host = s + 1;
		if ((hend = strchr(host, ']')) == NULL || hend[1] != ':')
			goto bad;
		colon = hend + 1;
	} else {
		host = s;
		if ((colon = strrchr(s, ':')) == NULL)
			goto bad;
		hend = colon;
	}
	hl = (size_t)(hend - host);
	if (hl == 0 || hl >= sizeof(l->host))
		goto bad;
	memcpy(l->host, host, hl);
	l->host[hl] = '\0';
	if (strcmp(l->host, "*") == 0)
		strlcpy(l->host, "0.0.0.0", sizeof(l->host));
	if (inet_pton(s[0] == '[' ? AF_INET6 : AF_INET, l->host, tmp) != 1)
		goto bad;
	if (parse_uint(colon + 1, 0, 65535, &port, perr, sizeof(perr),
	    key) == -1) {
		seterr(err, errlen, "%s", perr);
		return -1;
	}
	snprintf(l->port, sizeof(l->port), "%u", port);
	return 0;
 bad:
	seterr(err, errlen, "%s: '%s' is not ADDRESS:PORT or [ADDRESS]:PORT",
	    key, s);
	return -1;
}

/* trusted-proxy: ADDR/PREFIX or ADDR; empty clears the list. */
static int
set_trusted(struct wsconfig *c, const char *val, char *err, size_t errlen)
{
	if (*val == '\0') {
		c->ntrusted = 0;
		return 0;
	}
	if (c->ntrusted == MAX_TRUSTED_PROXIES) {
		seterr(err, errlen, "trusted-proxy: more than %d entries",
		    MAX_TRUSTED_PROXIES);
		return -1;
	}
	if (access_cidr_parse(val, &c->trusted[c->ntrusted]) == -1) {
		seterr(err, errlen, "trusted-proxy: '%s' is not ADDRESS/PREFIX",
		    val);
		return -1;
	}
	c->ntrusted++;
	return 0;
}

/* allow-origin: scheme://host[:port] or *; empty clears the list. */
static int
set_origin(struct wsconfig *c, const char *val, char *err, size_t errlen)
{
	char	*o;

	if (*val == '\0') {
		c->nallow = 0;
		return 0;
	}
	if (c->nallow == MAX_ALLOW_ORIGINS) {
		seterr(err, errlen, "allow-origin: more than %d entries",
		    MAX_ALLOW_ORIGINS);
		return -1;
	}
	o = c->allow_origin[c->nallow];
	if (strcmp(val, "*") == 0)
		strlcpy(o, "*", ACCESS_ORIGIN_MAX);
	else if (access_origin_norm(val, strlen(val), o,
	    ACCESS_ORIGIN_MAX) == -1) {
		seterr(err, errlen, "allow-origin: '%s' is not * or "
		    "http[s]://HOST[:PORT]", val);
		return -1;
	}
	c->nallow++;
	return 0;
}

/* A file name; "" for none. */
static int
set_path(char *dst, size_t len, const char *val, const char *key,
    char *err, size_t errlen)
{
	if (strlcpy(dst, val, len) >= len) {
		seterr(err, errlen, "%s: path too long", key);
		return -1;
	}
	return 0;
}

/* Drop the listeners of one kind (plain or TLS). */
static void
drop_listeners(struct wsconfig *c, int tls)
{
	int	 i, n = 0;

	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls != tls)
			c->listen[n++] = c->listen[i];
	c->nlisten = n;
}

int
config_set(struct wsconfig *c, const char *key, const char *val,
    char *err, size_t errlen)
{
	if (strcmp(key, "foreground") == 0)
		return parse_bool(val, &c->foreground, err, errlen, key);
	if (strcmp(key, "debug") == 0)
		return parse_bool(val, &c->debug, err, errlen, key);
	if (strcmp(key, "user") == 0) {
		if (*val == '\0' || strlcpy(c->user, val, sizeof(c->user)) >=
		    sizeof(c->user)) {
			seterr(err, errlen, "user: '%s' is not a user name", val);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "webroot") == 0) {
		if (*val == '\0' || strlcpy(c->webroot, val, sizeof(c->webroot))
		    >= sizeof(c->webroot)) {
			seterr(err, errlen, "webroot: bad path");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "chroot") == 0) {
		if (*val != '\0' && *val != '/') {
			seterr(err, errlen, "chroot: '%s' is not an absolute path",
			    val);
			return -1;
		}
		if (strlcpy(c->chroot, val, sizeof(c->chroot)) >=
		    sizeof(c->chroot)) {
			seterr(err, errlen, "chroot: path too long");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "pidfile") == 0) {
		if (*val != '\0' && *val != '/') {
			seterr(err, errlen, "pidfile: '%s' is not an absolute path",
			    val);
			return -1;
		}
		if (strlcpy(c->pidfile, val, sizeof(c->pidfile)) >=
		    sizeof(c->pidfile)) {
			seterr(err, errlen, "pidfile: path too long");
			return -1;
		}
		return 0;
	}
	/* An empty tls-listen adds nothing (on the command line, it drops
	 * the file's TLS listeners). */
	if (strcmp(key, "tls-listen") == 0 && *val == '\0')
		return 0;
	if (strcmp(key, "listen") == 0 || strcmp(key, "tls-listen") == 0) {
		if (c->nlisten == MAX_LISTEN) {
			seterr(err, errlen, "%s: more than %d listeners", key,
			    MAX_LISTEN);
			return -1;
		}
		if (parse_listen(val, &c->listen[c->nlisten], key, err,
		    errlen) == -1)
			return -1;
		c->listen[c->nlisten++].tls = key[0] == 't';
		return 0;
	}
	if (strcmp(key, "tls-cert") == 0)
		return set_path(c->tls_cert, sizeof(c->tls_cert), val, key,
		    err, errlen);
	if (strcmp(key, "tls-key") == 0)
		return set_path(c->tls_key, sizeof(c->tls_key), val, key,
		    err, errlen);
	if (strcmp(key, "max-clients") == 0)
		return parse_uint(val, 1, MAX_MAX_CLIENTS, &c->max_clients,
		    err, errlen, key);
	if (strcmp(key, "max-message") == 0)
		return parse_uint(val, MIN_MAX_MESSAGE, MAX_MAX_MESSAGE,
		    &c->max_message, err, errlen, key);
	if (strcmp(key, "max-text") == 0)
		return parse_uint(val, 1, MAX_MAX_TEXT, &c->max_text,
		    err, errlen, key);
	if (strcmp(key, "history") == 0)
		return parse_uint(val, 0, MAX_HISTORY, &c->history,
		    err, errlen, key);
	if (strcmp(key, "rate-limit") == 0)
		return parse_uint(val, 0, MAX_RATE, &c->rate_limit,
		    err, errlen, key);
	if (strcmp(key, "rate-burst") == 0)
		return parse_uint(val, 1, MAX_RATE, &c->rate_burst,
		    err, errlen, key);
	if (strcmp(key, "max-queue") == 0)
		return parse_uint(val, MIN_MAX_QUEUE, MAX_MAX_QUEUE,
		    &c->max_queue, err, errlen, key);
	if (strcmp(key, "max-clients-per-ip") == 0)
		return parse_uint(val, 0, MAX_MAX_CLIENTS, &c->max_clients_per_ip,
		    err, errlen, key);
	if (strcmp(key, "request-timeout") == 0)
		return parse_uint(val, 1, MAX_REQUEST_TIMEOUT,
		    &c->request_timeout, err, errlen, key);
	if (strcmp(key, "ping-interval") == 0)
		return parse_uint(val, 0, MAX_PING_INTERVAL, &c->ping_interval,
		    err, errlen, key);
	if (strcmp(key, "idle-timeout") == 0)
		return parse_uint(val, 0, MAX_IDLE_TIMEOUT, &c->idle_timeout,
		    err, errlen, key);
	if (strcmp(key, "max-fragments") == 0)
		return parse_uint(val, 0, MAX_MAX_FRAGMENTS, &c->max_fragments,
		    err, errlen, key);
	if (strcmp(key, "trusted-proxy") == 0)
		return set_trusted(c, val, err, errlen);
	if (strcmp(key, "allow-origin") == 0)
		return set_origin(c, val, err, errlen);
	seterr(err, errlen, "unknown key '%s'", key);
	return -1;
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
config_parse_text(struct wsconfig *c, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	char	*copy, *line, *next, *key, *val, *eq, why[CONFIG_ERRLEN];
	int	 lineno = 0, rc = 0;

	if ((copy = malloc(len + 1)) == NULL) {
		seterr(err, errlen, "%s: out of memory", name);
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strlen(line) != (size_t)((next ? next - 1 : copy + len) - line)) {
			seterr(err, errlen, "%s:%d: NUL byte in line", name, lineno);
			rc = -1;
			break;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			seterr(err, errlen, "%s:%d: expected 'key = value'",
			    name, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		/* A value may be quoted to keep surrounding spaces or '#';
		 * a comment may follow, after white space. */
		if (*val == '"' && (eq = strchr(val + 1, '"')) != NULL) {
			*eq++ = '\0';
			val++;
			eq = trim(eq);
			if (*eq != '\0' && *eq != '#') {
				seterr(err, errlen, "%s:%d: text after the quoted "
				    "value", name, lineno);
				rc = -1;
				break;
			}
		} else if ((eq = strstr(val, " #")) != NULL ||
		    (eq = strstr(val, "\t#")) != NULL) {
			*eq = '\0';
			val = trim(val);
		}
		if (config_set(c, key, val, why, sizeof(why)) == -1) {
			seterr(err, errlen, "%s:%d: %s", name, lineno, why);
			rc = -1;
			break;
		}
	}
	free(copy);
	return rc;
}

/* The config file's directory and name in it, once pinned. */
static int	 conf_dirfd = -1;
static char	 conf_pinned[PATH_MAX];
static char	 conf_base[NAME_MAX + 1];

int
config_pin_dir(const struct wsconfig *c, char *err, size_t errlen)
{
	char		 dir[PATH_MAX];
	const char	*slash;
	size_t		 dl;

	if ((slash = strrchr(c->config_path, '/')) == NULL) {
		strlcpy(dir, ".", sizeof(dir));
		slash = c->config_path - 1;
	} else {
		dl = (size_t)(slash - c->config_path);
		if (dl == 0)
			dl = 1;		/* "/file" */
		if (dl >= sizeof(dir)) {
			seterr(err, errlen, "%s: path too long", c->config_path);
			return -1;
		}
		memcpy(dir, c->config_path, dl);
		dir[dl] = '\0';
	}
	if (strlcpy(conf_base, slash + 1, sizeof(conf_base)) >=
	    sizeof(conf_base) || conf_base[0] == '\0') {
		seterr(err, errlen, "%s: not a file name", c->config_path);
		return -1;
	}
	if (conf_dirfd != -1)
		close(conf_dirfd);
	if ((conf_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		/* No directory, no default file: the defaults it is, then and
		 * at every reload (the path stays unreachable in the chroot). */
		if (errno == ENOENT && !c->config_given)
			return 0;
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	strlcpy(conf_pinned, c->config_path, sizeof(conf_pinned));
	return 0;
}

static int
config_open(const struct wsconfig *c)
{
	if (conf_dirfd != -1 && strcmp(conf_pinned, c->config_path) == 0)
		return openat(conf_dirfd, conf_base, O_RDONLY | O_CLOEXEC);
	return open(c->config_path, O_RDONLY | O_CLOEXEC);
}

static int
config_file(struct wsconfig *c, char *err, size_t errlen)
{
	struct stat	 st;
	char		*text;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, rc;

	if ((fd = config_open(c)) == -1) {
		if (errno == ENOENT && !c->config_given)
			return 0;
		seterr(err, errlen, "%s: %s", c->config_path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (!S_ISREG(st.st_mode) &&
	    !S_ISCHR(st.st_mode)) || st.st_size > CONFIG_MAX_FILE) {
		seterr(err, errlen, "%s: not a regular file of at most %d bytes",
		    c->config_path, CONFIG_MAX_FILE);
		close(fd);
		return -1;
	}
	if ((text = malloc(CONFIG_MAX_FILE + 1)) == NULL) {
		close(fd);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	while ((n = read(fd, text + got, CONFIG_MAX_FILE + 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (n == -1 || got > CONFIG_MAX_FILE) {
		seterr(err, errlen, "%s: %s", c->config_path,
		    n == -1 ? strerror(errno) : "file too large");
		free(text);
		return -1;
	}
	rc = config_parse_text(c, c->config_path, text, got, err, errlen);
	free(text);
	return rc;
}

int
config_load(struct wsconfig *c, char *err, size_t errlen)
{
	int	 i, cli_listen = 0, cli_proxy = 0, cli_origin = 0;
	int	 cli_tls_listen = 0, ntls = 0;
	char	 why[CONFIG_ERRLEN];

	config_defaults(c);
	if (config_file(c, err, errlen) == -1)
		return -1;
	for (i = 0; i < c->ncli; i++) {
		/* Listeners on the command line replace those of the file. */
		if (strcmp(c->cli[i].key, "listen") == 0 && !cli_listen++)
			drop_listeners(c, 0);
		/* So do the trusted proxies and allowed origins. */
		if (strcmp(c->cli[i].key, "trusted-proxy") == 0 && !cli_proxy++)
			c->ntrusted = 0;
		if (strcmp(c->cli[i].key, "allow-origin") == 0 && !cli_origin++)
			c->nallow = 0;
		if (strcmp(c->cli[i].key, "tls-listen") == 0 &&
		    !cli_tls_listen++)
			drop_listeners(c, 1);
		if (config_set(c, c->cli[i].key, c->cli[i].value, why,
		    sizeof(why)) == -1) {
			seterr(err, errlen, "%s", why);
			return -1;
		}
	}
	/* Neither listen nor tls-listen: the default plain listener. */
	if (c->nlisten == 0) {
		strlcpy(c->listen[0].host, "0.0.0.0", sizeof(c->listen[0].host));
		snprintf(c->listen[0].port, sizeof(c->listen[0].port), "%d",
		    DEF_PORT);
		c->nlisten = 1;
	}
	if (c->rate_burst < 1)
		c->rate_burst = 1;
	if (c->idle_timeout > 0 && c->ping_interval > 0 &&
	    c->idle_timeout <= c->ping_interval) {
		seterr(err, errlen, "idle-timeout (%u) must be longer than "
		    "ping-interval (%u)", c->idle_timeout, c->ping_interval);
		return -1;
	}
	for (i = 0; i < c->nlisten; i++)
		ntls += c->listen[i].tls;
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		seterr(err, errlen, "tls-cert and tls-key go together: %s is "
		    "missing", c->tls_cert[0] ? "tls-key" : "tls-cert");
		return -1;
	}
	if (ntls > 0 && c->tls_cert[0] == '\0') {
		seterr(err, errlen, "tls-listen needs tls-cert and tls-key");
		return -1;
	}
	return 0;
}

void
config_free(struct wsconfig *c)
{
	int	 i;

	for (i = 0; i < c->ncli; i++)
		free((char *)(uintptr_t)c->cli[i].value);
	free(c->cli);
	c->cli = NULL;
	c->ncli = 0;
}

void
config_usage(FILE *f)
{
	fprintf(f,
"usage: wschatd [-dfhnV] [-c file] [-l addr:port] [-u user] [-w dir] [options]\n"
"\n"
"Group chat over WebSocket: serves the web client and the chat protocol.\n"
"\n"
"  -f, --foreground        stay in the foreground, log to stderr\n"
"  -l, --listen ADDR:PORT  listen on ADDR:PORT, [ADDR6]:PORT or *:PORT;\n"
"                          repeatable (default 0.0.0.0:%d)\n"
"  -u, --user NAME         user to run as when started as root\n"
"                          (default %s)\n"
"  -w, --webroot DIR       directory of the web client\n"
"                          (default %s)\n"
"  -c, --config FILE       config file (default %s)\n"
"      --chroot DIR        when started as root, change the root directory\n"
"                          to DIR, empty for none (default %s)\n"
"  -d, --debug             log more detail\n"
"  -n, --check-config      check the configuration and the web client,\n"
"                          then exit: 0 if good, 1 if not\n"
"      --pidfile FILE      write the master's pid to FILE and refuse to\n"
"                          start while another wschatd holds it (default: none)\n"
"      --max-clients N     connections at once; more get 503 (default %d)\n"
"      --max-message BYTES largest WebSocket message; more closes with 1009\n"
"                          (default %d)\n"
"      --max-text BYTES    longest chat text; more is too_long (default %d)\n"
"      --history N         messages kept for newcomers (default %d)\n"
"      --rate-limit N      messages per second per client, 0 for no limit\n"
"                          (default %d)\n"
"      --rate-burst N      messages a client may send at once (default %d)\n"
"      --max-queue BYTES   output queued for a slow client before it is\n"
"                          dropped (default %d)\n"
"      --max-clients-per-ip N\n"
"                          connections from one IPv4 address or IPv6 /64;\n"
"                          more get 429; 0 for no limit (default %d)\n"
"      --request-timeout SECONDS\n"
"                          time for an HTTP request and the opening\n"
"                          handshake; slower clients get 408 (default %d)\n"
"      --ping-interval SECONDS\n"
"                          ping a quiet WebSocket client; 0 for never\n"
"                          (default %d)\n"
"      --idle-timeout SECONDS\n"
"                          close a client silent that long with 1001;\n"
"                          0 for never (default %d)\n"
"      --max-fragments N   continuation frames in one message; more\n"
"                          closes with 1009 (default %d)\n"
"      --trusted-proxy ADDR/PREFIX\n"
"                          believe X-Forwarded-For from these peers;\n"
"                          repeatable, empty clears (default: none)\n"
"      --allow-origin ORIGIN\n"
"                          pages of ORIGIN (scheme://host[:port], or *)\n"
"                          may open a WebSocket; repeatable, empty clears\n"
"                          (default: only the server's own origin)\n"
"      --tls-listen ADDR:PORT\n"
"                          serve https:// and wss:// on ADDR:PORT, like\n"
"                          --listen; repeatable (default: none)\n"
"      --tls-cert FILE     TLS certificate (PEM, chain allowed; default: none)\n"
"      --tls-key FILE      TLS private key (PEM; default: none)\n"
"  -V, --version           print the version and exit\n"
"  -h, --help              print this help and exit\n"
"\n"
"Every long option but --config, --check-config, --help and --version is\n"
"also a config file key: 'max-clients = 100'.  Started by systemd with\n"
"socket activation, wschatd takes its listeners from LISTEN_FDS instead of\n"
"--listen and --tls-listen (a socket named \"tls\" speaks TLS).  See\n"
"wschatd(8) and wschatd.conf(5).\n",
	    DEF_PORT, WSCHATD_USER, WEBROOT, DEFAULT_CONFIG, STATEDIR,
	    DEF_MAX_CLIENTS,
	    DEF_MAX_MESSAGE, DEF_MAX_TEXT, DEF_HISTORY, DEF_RATE_LIMIT,
	    DEF_RATE_BURST, DEF_MAX_QUEUE, DEF_MAX_CLIENTS_PER_IP,
	    DEF_REQUEST_TIMEOUT, DEF_PING_INTERVAL, DEF_IDLE_TIMEOUT,
	    DEF_MAX_FRAGMENTS);
}

int
config_args(struct wsconfig *c, int argc, char **argv, char *err,
    size_t errlen)
{
	static const struct option longopts[] = {
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "listen",	required_argument,	NULL, 'l' },
		{ "user",	required_argument,	NULL, 'u' },
		{ "webroot",	required_argument,	NULL, 'w' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "debug",	no_argument,		NULL, 'd' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "max-clients", required_argument,	NULL, 1 },
		{ "max-message", required_argument,	NULL, 2 },
		{ "max-text",	required_argument,	NULL, 3 },
		{ "history",	required_argument,	NULL, 4 },
		{ "rate-limit",	required_argument,	NULL, 5 },
		{ "rate-burst",	required_argument,	NULL, 6 },
		{ "max-queue",	required_argument,	NULL, 7 },
		{ "pidfile",	required_argument,	NULL, 8 },
		{ "max-clients-per-ip", required_argument, NULL, 9 },
		{ "request-timeout", required_argument,	NULL, 10 },
		{ "ping-interval", required_argument,	NULL, 11 },
		{ "idle-timeout", required_argument,	NULL, 12 },
		{ "max-fragments", required_argument,	NULL, 13 },
		{ "trusted-proxy", required_argument,	NULL, 14 },
		{ "allow-origin", required_argument,	NULL, 15 },
		{ "tls-listen",	required_argument,	NULL, 16 },
		{ "tls-cert",	required_argument,	NULL, 17 },
		{ "tls-key",	required_argument,	NULL, 18 },
		{ "check-config", no_argument,		NULL, 'n' },
		{ "chroot",	required_argument,	NULL, 19 },
		{ NULL, 0, NULL, 0 }
	};
	struct wsconfig	 probe;
	const char	*key;
	char		 why[CONFIG_ERRLEN];
	int		 ch, idx;

	if ((c->cli = calloc((size_t)argc + 1, sizeof(*c->cli))) == NULL) {
		seterr(err, errlen, "out of memory");
		return CONFIG_ERROR;
	}
	c->ncli = 0;
	opterr = 0;
	optind = 0;	/* glibc: 0 also resets its state inside grouped options */
	while ((ch = getopt_long(argc, argv, ":fl:u:w:c:dnVh", longopts,
	    &idx)) != -1) {
		key = NULL;
		switch (ch) {
		case 'f': key = "foreground"; optarg = "yes"; break;
		case 'd': key = "debug"; optarg = "yes"; break;
		case 'l': key = "listen"; break;
		case 'u': key = "user"; break;
		case 'w': key = "webroot"; break;
		case 'c':
			if (strlcpy(c->config_path, optarg,
			    sizeof(c->config_path)) >= sizeof(c->config_path)) {
				seterr(err, errlen, "--config: path too long");
				return CONFIG_ERROR;
			}
			c->config_given = 1;
			break;
		case 'n':
			c->check_only = 1;
			break;
		case 'V':
			printf("wschatd %s\n", PACKAGE_VERSION);
			return CONFIG_EXIT;
		case 'h':
			config_usage(stdout);
			return CONFIG_EXIT;
		case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8:
		case 9: case 10: case 11: case 12: case 13: case 14: case 15:
		case 16: case 17: case 18: case 19:
			key = longopts[idx].name;
			break;
		case ':':
			seterr(err, errlen, "option %s needs a value",
			    argv[optind - 1]);
			return CONFIG_ERROR;
		default:
			seterr(err, errlen, "unknown option %s",
			    argv[optind - 1]);
			return CONFIG_ERROR;
		}
		if (key == NULL)
			continue;
		/* Check the value now so that a typo fails at once. */
		memset(&probe, 0, sizeof(probe));
		if (config_set(&probe, key, optarg, why, sizeof(why)) == -1) {
			seterr(err, errlen, "--%s", why);
			return CONFIG_ERROR;
		}
		c->cli[c->ncli].key = key;
		/* argv is rewritten by setproctitle(): keep a copy. */
		if ((c->cli[c->ncli].value = strdup(optarg)) == NULL) {
			seterr(err, errlen, "out of memory");
			return CONFIG_ERROR;
		}
		c->ncli++;
	}
	if (optind < argc) {
		seterr(err, errlen, "unexpected argument '%s'", argv[optind]);
		return CONFIG_ERROR;
	}
	return CONFIG_RUN;
}
