/* Unit tests of settings: defaults, keys, file, command line (src/config.c). */
#include "config.h"
#include "conf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wslimits.h"

static struct wsconfig	 cfg;
static char		 err[CONFIG_ERRLEN];

static void
fresh(void)
{
	memset(&cfg, 0, sizeof(cfg));
	config_defaults(&cfg);
	memset(err, 0, sizeof(err));
}

static int
set(const char *key, const char *val)
{
	err[0] = '\0';
	return config_set(&cfg, key, val, err, sizeof(err));
}

/* config_set fails and the error starts with "key:". */
static void
set_fails(const char *key, const char *val)
{
	char	 want[64];

	ck_assert_msg(set(key, val) == -1, "%s = '%s' accepted", key, val);
	snprintf(want, sizeof(want), "%s:", key);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "error for %s = '%s' does not name the key: %s", key, val, err);
}

/* ---- defaults ---- */

START_TEST(test_defaults)
{
	fresh();
	ck_assert_int_eq(cfg.foreground, 0);
	ck_assert_int_eq(cfg.debug, 0);
	ck_assert_str_eq(cfg.user, WSCHATD_USER);
	ck_assert_str_eq(cfg.webroot, WEBROOT);
	ck_assert_str_eq(cfg.chroot, STATEDIR);
	ck_assert_str_eq(cfg.config_path, DEFAULT_CONFIG);
	ck_assert_int_eq(cfg.config_given, 0);
	ck_assert_int_eq(cfg.nlisten, 0);
	ck_assert_uint_eq(cfg.max_clients, DEF_MAX_CLIENTS);
	ck_assert_uint_eq(cfg.max_message, DEF_MAX_MESSAGE);
	ck_assert_uint_eq(cfg.max_text, DEF_MAX_TEXT);
	ck_assert_uint_eq(cfg.history, DEF_HISTORY);
	ck_assert_uint_eq(cfg.rate_limit, DEF_RATE_LIMIT);
	ck_assert_uint_eq(cfg.rate_burst, DEF_RATE_BURST);
	ck_assert_uint_eq(cfg.max_queue, DEF_MAX_QUEUE);
	ck_assert_uint_eq(cfg.max_clients_per_ip, DEF_MAX_CLIENTS_PER_IP);
	ck_assert_uint_eq(cfg.request_timeout, DEF_REQUEST_TIMEOUT);
	ck_assert_uint_eq(cfg.ping_interval, DEF_PING_INTERVAL);
	ck_assert_uint_eq(cfg.idle_timeout, DEF_IDLE_TIMEOUT);
	ck_assert_uint_eq(cfg.max_fragments, DEF_MAX_FRAGMENTS);
	ck_assert_int_eq(cfg.ntrusted, 0);
	ck_assert_int_eq(cfg.nallow, 0);
	ck_assert_ptr_null(cfg.cli);
	ck_assert_int_eq(cfg.ncli, 0);

	/* a given config path survives config_defaults */
	cfg.max_clients = 5;
	strcpy(cfg.config_path, "/x/y.conf");
	cfg.config_given = 1;
	config_defaults(&cfg);
	ck_assert_str_eq(cfg.config_path, "/x/y.conf");
	ck_assert_int_eq(cfg.config_given, 1);
	ck_assert_uint_eq(cfg.max_clients, DEF_MAX_CLIENTS);
}
END_TEST

/* ---- config_set ---- */

struct range {
	const char	*key;
	unsigned	 lo, hi;
	size_t		 off;
};

#define R(k, lo, hi, f)	{ k, lo, hi, offsetof(struct wsconfig, f) }

static const struct range ranges[] = {
	R("max-clients", 1, MAX_MAX_CLIENTS, max_clients),
	R("max-message", MIN_MAX_MESSAGE, MAX_MAX_MESSAGE, max_message),
	R("max-text", 1, MAX_MAX_TEXT, max_text),
	R("history", 0, MAX_HISTORY, history),
	R("rate-limit", 0, MAX_RATE, rate_limit),
	R("rate-burst", 1, MAX_RATE, rate_burst),
	R("max-queue", MIN_MAX_QUEUE, MAX_MAX_QUEUE, max_queue),
	R("max-clients-per-ip", 0, MAX_MAX_CLIENTS, max_clients_per_ip),
	R("request-timeout", 1, MAX_REQUEST_TIMEOUT, request_timeout),
	R("ping-interval", 0, MAX_PING_INTERVAL, ping_interval),
	R("idle-timeout", 0, MAX_IDLE_TIMEOUT, idle_timeout),
	R("max-fragments", 0, MAX_MAX_FRAGMENTS, max_fragments),
};

static unsigned
field(size_t off)
{
	unsigned	 v;

	memcpy(&v, (char *)&cfg + off, sizeof(v));
	return v;
}

START_TEST(test_set_ranges)
{
	const struct range *r = &ranges[_i];
	char		 v[32];

	fresh();
	snprintf(v, sizeof(v), "%u", r->lo);
	ck_assert_msg(set(r->key, v) == 0, "%s = %s: %s", r->key, v, err);
	ck_assert_uint_eq(field(r->off), r->lo);
	snprintf(v, sizeof(v), "%u", r->hi);
	ck_assert_msg(set(r->key, v) == 0, "%s = %s: %s", r->key, v, err);
	ck_assert_uint_eq(field(r->off), r->hi);
	snprintf(v, sizeof(v), "%u", r->hi + 1);
	set_fails(r->key, v);
	ck_assert_uint_eq(field(r->off), r->hi);	/* unchanged */
	if (r->lo > 0) {
		snprintf(v, sizeof(v), "%u", r->lo - 1);
		set_fails(r->key, v);
	}
	set_fails(r->key, "");
	set_fails(r->key, "abc");
	set_fails(r->key, "-1");
	set_fails(r->key, "+5");
	set_fails(r->key, " 5");
	set_fails(r->key, "5 ");
	set_fails(r->key, "5x");
	set_fails(r->key, "1e3");
	set_fails(r->key, "99999999999999999999999");
	set_fails(r->key, "4294967296");
	ck_assert_uint_eq(field(r->off), r->hi);
}
END_TEST

START_TEST(test_set_bools)
{
	static const char *yes[] = { "yes", "YES", "true", "True", "1" };
	static const char *no[] = { "no", "No", "false", "FALSE", "0" };
	size_t	 i;

	fresh();
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(set("foreground", yes[i]), 0);
		ck_assert_int_eq(cfg.foreground, 1);
		ck_assert_int_eq(set("foreground", no[i]), 0);
		ck_assert_int_eq(cfg.foreground, 0);
		ck_assert_int_eq(set("debug", yes[i]), 0);
		ck_assert_int_eq(cfg.debug, 1);
		ck_assert_int_eq(set("debug", no[i]), 0);
		ck_assert_int_eq(cfg.debug, 0);
	}
	set_fails("foreground", "maybe");
	set_fails("foreground", "");
	set_fails("foreground", "2");
	set_fails("foreground", "yess");
	set_fails("debug", "y es");
	set_fails("debug", "01");
}
END_TEST

START_TEST(test_set_strings)
{
	char	 name[80];

	fresh();
	ck_assert_int_eq(set("user", "nobody"), 0);
	ck_assert_str_eq(cfg.user, "nobody");
	set_fails("user", "");
	memset(name, 'u', 63);
	name[63] = '\0';
	ck_assert_int_eq(set("user", name), 0);
	ck_assert_str_eq(cfg.user, name);
	name[63] = 'u';
	name[64] = '\0';
	set_fails("user", name);

	ck_assert_int_eq(set("webroot", "/srv/www"), 0);
	ck_assert_str_eq(cfg.webroot, "/srv/www");
	set_fails("webroot", "");

	ck_assert_int_eq(set("chroot", "/var/empty"), 0);
	ck_assert_str_eq(cfg.chroot, "/var/empty");
	ck_assert_int_eq(set("chroot", ""), 0);		/* no chroot */
	ck_assert_str_eq(cfg.chroot, "");
	set_fails("chroot", "var/empty");
}
END_TEST

START_TEST(test_set_unknown)
{
	fresh();
	ck_assert_int_eq(set("max_clients", "5"), -1);
	ck_assert_ptr_nonnull(strstr(err, "max_clients"));
	ck_assert_int_eq(set("", "5"), -1);
	ck_assert_int_eq(set("Max-Clients", "5"), -1);
	ck_assert_uint_eq(cfg.max_clients, DEF_MAX_CLIENTS);
}
END_TEST

START_TEST(test_listen)
{
	fresh();
	ck_assert_int_eq(set("listen", "127.0.0.1:8080"), 0);
	ck_assert_int_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen[0].host, "127.0.0.1");
	ck_assert_str_eq(cfg.listen[0].port, "8080");

	ck_assert_int_eq(set("listen", "[::1]:0"), 0);
	ck_assert_int_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[1].host, "::1");
	ck_assert_str_eq(cfg.listen[1].port, "0");

	ck_assert_int_eq(set("listen", "*:80"), 0);
	ck_assert_str_eq(cfg.listen[2].host, "0.0.0.0");
	ck_assert_str_eq(cfg.listen[2].port, "80");

	ck_assert_int_eq(set("listen", "[::]:65535"), 0);
	ck_assert_str_eq(cfg.listen[3].host, "::");
	ck_assert_str_eq(cfg.listen[3].port, "65535");

	ck_assert_int_eq(set("listen", "[fe80::1:2]:443"), 0);
	ck_assert_str_eq(cfg.listen[4].host, "fe80::1:2");
	ck_assert_str_eq(cfg.listen[4].port, "443");
	ck_assert_int_eq(cfg.nlisten, 5);
}
END_TEST

START_TEST(test_listen_bad)
{
	static const char *bad[] = {
		"127.0.0.1",		/* missing port */
		"127.0.0.1:",		/* empty port */
		":80",			/* missing address */
		"localhost:80",		/* not numeric */
		"256.0.0.1:80",
		"1.2.3:80",
		"::1:80",		/* IPv6 needs brackets */
		"[::1]80",
		"[::1]",
		"[::1:80",
		"[127.0.0.1]:80",	/* IPv4 in brackets */
		"[]:80",
		"*:",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		"127.0.0.1:http",
		"127.0.0.1:80 ",
		"",
	};
	size_t	 i;

	fresh();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_fails("listen", bad[i]);
		ck_assert_int_eq(cfg.nlisten, 0);
	}
}
END_TEST

START_TEST(test_listen_max)
{
	int	 i;

	fresh();
	for (i = 0; i < MAX_LISTEN; i++)
		ck_assert_int_eq(set("listen", "127.0.0.1:1"), 0);
	ck_assert_int_eq(cfg.nlisten, MAX_LISTEN);
	set_fails("listen", "127.0.0.1:1");
	ck_assert_int_eq(cfg.nlisten, MAX_LISTEN);
}
END_TEST

/* ---- config_parse_text ---- */

static int
ptext(const char *text)
{
	err[0] = '\0';
	return config_parse_text(&cfg, "test.conf", text, strlen(text), err,
	    sizeof(err));
}

START_TEST(test_parse_text)
{
	fresh();
	ck_assert_msg(ptext(
	    "# a comment\n"
	    "\n"
	    "   \t\n"
	    "max-clients=10\n"
	    "  history   =   7  \n"
	    "\trate-limit\t=\t3\t\n"
	    "  # indented comment\n"
	    "user = \"  spaced user  \"\n"
	    "webroot = /srv/a#b\n"
	    "max-text = 100 # trailing comment\n"
	    "listen = 127.0.0.1:1\n"
	    "listen = [::1]:2\n"
	    "debug = yes") == 0, "%s", err);
	ck_assert_uint_eq(cfg.max_clients, 10);
	ck_assert_uint_eq(cfg.history, 7);
	ck_assert_uint_eq(cfg.rate_limit, 3);
	ck_assert_str_eq(cfg.user, "  spaced user  ");
	ck_assert_str_eq(cfg.webroot, "/srv/a#b");
	ck_assert_uint_eq(cfg.max_text, 100);
	ck_assert_int_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[1].host, "::1");
	ck_assert_int_eq(cfg.debug, 1);
	/* untouched keys keep their values */
	ck_assert_uint_eq(cfg.max_queue, DEF_MAX_QUEUE);
}
END_TEST

START_TEST(test_parse_text_crlf_quotes)
{
	fresh();
	ck_assert_msg(ptext("history = 3\r\nuser = \"a # b\"\r\n"
	    "webroot = \"/x\"\r\n") == 0, "%s", err);
	ck_assert_uint_eq(cfg.history, 3);
	ck_assert_str_eq(cfg.user, "a # b");
	ck_assert_str_eq(cfg.webroot, "/x");
	/* a lone quote is kept as is */
	ck_assert_int_eq(ptext("user = \"\n"), 0);
	ck_assert_str_eq(cfg.user, "\"");
	ck_assert_int_eq(ptext(""), 0);
}
END_TEST

/* A quoted value may be followed by a comment, like any other value. */
START_TEST(test_parse_text_quoted_then_comment)
{
	fresh();
	ck_assert_msg(ptext("user = \"bob\" # the user\n") == 0, "%s", err);
	ck_assert_str_eq(cfg.user, "bob");
}
END_TEST

START_TEST(test_parse_text_errors)
{
	fresh();
	ck_assert_int_eq(ptext("# one\n\nbogus = 1\n"), -1);
	ck_assert_msg(strstr(err, "test.conf:3") != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "bogus"));

	ck_assert_int_eq(ptext("history = 1\njust words\n"), -1);
	ck_assert_msg(strncmp(err, "test.conf:2:", 12) == 0, "%s", err);

	ck_assert_int_eq(ptext("history = 1\n\n\n\nmax-clients = 0\n"), -1);
	ck_assert_msg(strncmp(err, "test.conf:5:", 12) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "max-clients"));

	ck_assert_int_eq(ptext("listen = nowhere\n"), -1);
	ck_assert_msg(strncmp(err, "test.conf:1:", 12) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "listen"));

	ck_assert_int_eq(ptext("user =\n"), -1);
	ck_assert_msg(strncmp(err, "test.conf:1:", 12) == 0, "%s", err);

	/* the last line without a newline counts too */
	ck_assert_int_eq(ptext("a = 1"), -1);
	ck_assert_msg(strncmp(err, "test.conf:1:", 12) == 0, "%s", err);

	/* a NUL byte */
	{
		static const char t[] = "history = 1\nhis\0tory = 2\n";
		err[0] = '\0';
		ck_assert_int_eq(config_parse_text(&cfg, "test.conf", t,
		    sizeof(t) - 1, err, sizeof(err)), -1);
		ck_assert_msg(strncmp(err, "test.conf:2:", 12) == 0, "%s", err);
	}
}
END_TEST

/* ---- config_args ---- */

#define ARGS(...)	\
	(char *[]){ "wschatd", __VA_ARGS__, NULL }
#define NARGS(...)	\
	((int)(sizeof((char *[]){ "wschatd", __VA_ARGS__ }) / sizeof(char *)))
#define ARGV(...)	config_args(&cfg, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), \
	err, sizeof(err))

static const char *
cli(const char *key, int nth)
{
	int	 i;

	for (i = 0; i < cfg.ncli; i++)
		if (strcmp(cfg.cli[i].key, key) == 0 && nth-- == 0)
			return cfg.cli[i].value;
	return NULL;
}

START_TEST(test_args_help_version)
{
	fresh();
	ck_assert_int_eq(ARGV("--help"), CONFIG_EXIT);
	config_free(&cfg);
	fresh();
	ck_assert_int_eq(ARGV("-h"), CONFIG_EXIT);
	config_free(&cfg);
	fresh();
	ck_assert_int_eq(ARGV("--version"), CONFIG_EXIT);
	config_free(&cfg);
	fresh();
	ck_assert_int_eq(ARGV("-V"), CONFIG_EXIT);
	config_free(&cfg);
}
END_TEST

START_TEST(test_args_run)
{
	fresh();
	ck_assert_msg(ARGV("-f", "-d", "-l", "127.0.0.1:1", "--listen",
	    "[::1]:2", "--listen=*:3", "-u", "nobody", "--max-clients", "5",
	    "--history=0", "--rate-limit", "0", "--rate-burst", "2",
	    "--max-queue", "65536", "--max-message", "256", "--max-text", "9",
	    "-w", "/srv") == CONFIG_RUN, "%s", err);
	ck_assert_int_eq(cfg.ncli, 14);
	ck_assert_str_eq(cli("foreground", 0), "yes");
	ck_assert_str_eq(cli("debug", 0), "yes");
	ck_assert_str_eq(cli("listen", 0), "127.0.0.1:1");
	ck_assert_str_eq(cli("listen", 1), "[::1]:2");
	ck_assert_str_eq(cli("listen", 2), "*:3");
	ck_assert_str_eq(cli("user", 0), "nobody");
	ck_assert_str_eq(cli("max-clients", 0), "5");
	ck_assert_str_eq(cli("history", 0), "0");
	ck_assert_str_eq(cli("rate-limit", 0), "0");
	ck_assert_str_eq(cli("rate-burst", 0), "2");
	ck_assert_str_eq(cli("max-queue", 0), "65536");
	ck_assert_str_eq(cli("max-message", 0), "256");
	ck_assert_str_eq(cli("max-text", 0), "9");
	ck_assert_str_eq(cli("webroot", 0), "/srv");
	config_free(&cfg);
	ck_assert_ptr_null(cfg.cli);
	ck_assert_int_eq(cfg.ncli, 0);
}
END_TEST

START_TEST(test_args_errors)
{
	fresh();
	ck_assert_int_eq(ARGV("--bogus"), CONFIG_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "--bogus"));
	config_free(&cfg);

	fresh();
	ck_assert_int_eq(ARGV("-x"), CONFIG_ERROR);
	config_free(&cfg);

	fresh();
	ck_assert_int_eq(ARGV("-f", "extra"), CONFIG_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "extra"));
	config_free(&cfg);

	fresh();
	ck_assert_int_eq(ARGV("--listen"), CONFIG_ERROR);
	config_free(&cfg);

	fresh();
	ck_assert_int_eq(ARGV("-l"), CONFIG_ERROR);
	config_free(&cfg);

	/* a bad value names the option */
	fresh();
	ck_assert_int_eq(ARGV("--max-clients", "0"), CONFIG_ERROR);
	ck_assert_msg(strncmp(err, "--max-clients", 13) == 0, "%s", err);
	config_free(&cfg);

	fresh();
	ck_assert_int_eq(ARGV("--history", "10001"), CONFIG_ERROR);
	ck_assert_msg(strncmp(err, "--history", 9) == 0, "%s", err);
	config_free(&cfg);

	fresh();
	ck_assert_int_eq(ARGV("-f", "-l", "127.0.0.1:99999"), CONFIG_ERROR);
	ck_assert_msg(strncmp(err, "--listen", 8) == 0, "%s", err);
	config_free(&cfg);

	fresh();
	ck_assert_int_eq(ARGV("-u", ""), CONFIG_ERROR);
	ck_assert_msg(strncmp(err, "--user", 6) == 0, "%s", err);
	config_free(&cfg);
}
END_TEST

/* Each call starts over, even after one that stopped inside "-Vf". */
START_TEST(test_args_reset)
{
	fresh();
	ck_assert_int_eq(ARGV("-Vf"), CONFIG_EXIT);
	config_free(&cfg);
	fresh();
	ck_assert_int_eq(ARGV("--history", "3"), CONFIG_RUN);
	ck_assert_int_eq(cfg.ncli, 1);
	ck_assert_str_eq(cli("history", 0), "3");
	config_free(&cfg);
}
END_TEST

START_TEST(test_args_repeat)
{
	fresh();
	ck_assert_int_eq(ARGV("--history", "3"), CONFIG_RUN);
	config_free(&cfg);
	fresh();
	ck_assert_int_eq(ARGV("-d", "--history", "4"), CONFIG_RUN);
	ck_assert_int_eq(cfg.ncli, 2);
	ck_assert_str_eq(cli("history", 0), "4");
	config_free(&cfg);
}
END_TEST

/* ---- config_load ---- */

static char tmpl[64];

static void
write_conf(const char *text)
{
	int	 fd;
	size_t	 n = strlen(text);

	strcpy(tmpl, "/tmp/wschatd-test-XXXXXX");
	fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
}

START_TEST(test_load_file_and_overrides)
{
	write_conf("max-clients = 10\n"
	    "history = 5\n"
	    "listen = 127.0.0.1:1\n"
	    "listen = 127.0.0.1:2\n");
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "--history", "7", "-l", "[::1]:9",
	    "-f"), CONFIG_RUN);
	ck_assert_int_eq(cfg.config_given, 1);
	ck_assert_str_eq(cfg.config_path, tmpl);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.max_clients, 10);		/* file */
	ck_assert_uint_eq(cfg.history, 7);		/* command line */
	ck_assert_int_eq(cfg.foreground, 1);
	ck_assert_uint_eq(cfg.max_text, DEF_MAX_TEXT);	/* default */
	/* the command line's listen replaces the file's */
	ck_assert_int_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen[0].host, "::1");
	ck_assert_str_eq(cfg.listen[0].port, "9");

	/* a reload gives the same */
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.max_clients, 10);
	ck_assert_uint_eq(cfg.history, 7);
	ck_assert_int_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.config_path, tmpl);
	config_free(&cfg);
	unlink(tmpl);
}
END_TEST

START_TEST(test_trusted_proxy)
{
	struct access_addr	 a;
	int			 i;
	char			 v[32];

	fresh();
	ck_assert_int_eq(set("trusted-proxy", "10.0.0.0/8"), 0);
	ck_assert_int_eq(set("trusted-proxy", "2001:db8::/32"), 0);
	ck_assert_int_eq(set("trusted-proxy", "192.0.2.1"), 0);
	ck_assert_int_eq(cfg.ntrusted, 3);
	ck_assert_int_eq(access_addr_parse("10.9.9.9", 8, &a), 0);
	ck_assert(access_cidr_list_match(cfg.trusted, 3, &a));
	ck_assert_int_eq(access_addr_parse("192.0.2.2", 9, &a), 0);
	ck_assert(!access_cidr_list_match(cfg.trusted, 3, &a));
	set_fails("trusted-proxy", "10.0.0.0/33");
	set_fails("trusted-proxy", "proxy.example");
	set_fails("trusted-proxy", "[::1]");
	ck_assert_int_eq(cfg.ntrusted, 3);
	/* empty clears */
	ck_assert_int_eq(set("trusted-proxy", ""), 0);
	ck_assert_int_eq(cfg.ntrusted, 0);
	for (i = 0; i < MAX_TRUSTED_PROXIES; i++) {
		snprintf(v, sizeof(v), "10.0.%d.0/24", i);
		ck_assert_int_eq(set("trusted-proxy", v), 0);
	}
	set_fails("trusted-proxy", "10.1.0.0/16");
	ck_assert_int_eq(cfg.ntrusted, MAX_TRUSTED_PROXIES);
}
END_TEST

START_TEST(test_allow_origin)
{
	int	 i;

	fresh();
	ck_assert_int_eq(set("allow-origin", "HTTPS://Chat.Example.org:443"), 0);
	ck_assert_int_eq(set("allow-origin", "*"), 0);
	ck_assert_int_eq(set("allow-origin", "http://[::1]:8080"), 0);
	ck_assert_int_eq(cfg.nallow, 3);
	ck_assert_str_eq(cfg.allow_origin[0], "https://chat.example.org");
	ck_assert_str_eq(cfg.allow_origin[1], "*");
	ck_assert_str_eq(cfg.allow_origin[2], "http://[::1]:8080");
	set_fails("allow-origin", "chat.example.org");
	set_fails("allow-origin", "http://chat.example.org/");
	set_fails("allow-origin", "ws://chat.example.org");
	set_fails("allow-origin", "null");
	ck_assert_int_eq(cfg.nallow, 3);
	ck_assert_int_eq(set("allow-origin", ""), 0);
	ck_assert_int_eq(cfg.nallow, 0);
	for (i = 0; i < MAX_ALLOW_ORIGINS; i++)
		ck_assert_int_eq(set("allow-origin", "http://a.example"), 0);
	set_fails("allow-origin", "http://b.example");
}
END_TEST

START_TEST(test_load_lists_replaced)
{
	write_conf("trusted-proxy = 10.0.0.0/8\n"
	    "trusted-proxy = 10.1.0.0/16\n"
	    "allow-origin = http://a.example\n");
	/* the file's lists, unless the command line gives its own */
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl), CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.ntrusted, 2);
	ck_assert_int_eq(cfg.nallow, 1);
	config_free(&cfg);
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "--trusted-proxy", "::1",
	    "--trusted-proxy", "127.0.0.1", "--allow-origin", ""),
	    CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.ntrusted, 2);
	ck_assert_uint_eq(cfg.trusted[0].plen, 128);
	ck_assert_uint_eq(cfg.trusted[1].plen, 128);	/* 96 + 32 */
	ck_assert_int_eq(cfg.nallow, 0);
	/* a reload gives the same */
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.ntrusted, 2);
	ck_assert_int_eq(cfg.nallow, 0);
	config_free(&cfg);
	unlink(tmpl);
}
END_TEST

START_TEST(test_load_idle_after_ping)
{
	write_conf("ping-interval = 30\n");
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "--idle-timeout", "30"), CONFIG_RUN);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "idle-timeout"));
	config_free(&cfg);
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "--idle-timeout", "31"), CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	config_free(&cfg);
	/* either one off: no constraint */
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "--idle-timeout", "5",
	    "--ping-interval", "0"), CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	config_free(&cfg);
	unlink(tmpl);
}
END_TEST

START_TEST(test_load_listen_twice)
{
	write_conf("listen = 127.0.0.1:1\n");
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "-l", "127.0.0.2:5", "-l",
	    "[::]:6"), CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[0].host, "127.0.0.2");
	ck_assert_str_eq(cfg.listen[0].port, "5");
	ck_assert_str_eq(cfg.listen[1].host, "::");
	ck_assert_str_eq(cfg.listen[1].port, "6");
	config_free(&cfg);
	unlink(tmpl);
}
END_TEST

START_TEST(test_load_file_listeners)
{
	write_conf("listen = 127.0.0.1:1\nlisten = [::1]:2\n");
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "--history", "1"), CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[0].port, "1");
	ck_assert_str_eq(cfg.listen[1].host, "::1");
	config_free(&cfg);
	unlink(tmpl);
}
END_TEST

START_TEST(test_load_default_listener)
{
	write_conf("# nothing\n");
	fresh();
	strcpy(cfg.config_path, tmpl);
	cfg.config_given = 1;
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen[0].host, "0.0.0.0");
	ck_assert_str_eq(cfg.listen[0].port, "8080");
	ck_assert_uint_eq(cfg.max_clients, DEF_MAX_CLIENTS);
	config_free(&cfg);
	unlink(tmpl);
}
END_TEST

/* A pinned directory is read through its descriptor, not its path: what
 * a chrooted master does on SIGHUP. */
START_TEST(test_load_pinned_dir)
{
	char	 dir[64], moved[80], path[128];
	FILE	*f;

	strcpy(dir, "/tmp/wschatd-pin-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wschatd.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("history = 9\n", f);
	ck_assert_int_eq(fclose(f), 0);
	fresh();
	strcpy(cfg.config_path, path);
	cfg.config_given = 1;
	ck_assert_msg(config_pin_dir(&cfg, err, sizeof(err)) == 0, "%s", err);
	snprintf(moved, sizeof(moved), "%s-moved", dir);
	ck_assert_int_eq(rename(dir, moved), 0);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.history, 9);
	config_free(&cfg);
	snprintf(path, sizeof(path), "%s/wschatd.conf", moved);
	unlink(path);
	rmdir(moved);
}
END_TEST

START_TEST(test_load_errors)
{
	char	 want[128];

	/* a missing file given explicitly */
	fresh();
	strcpy(cfg.config_path, "/nonexistent/wschatd-test.conf");
	cfg.config_given = 1;
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/wschatd-test.conf"));
	config_free(&cfg);

	/* a directory */
	fresh();
	strcpy(cfg.config_path, "/tmp");
	cfg.config_given = 1;
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	config_free(&cfg);

	/* a bad line: the message names file and line */
	write_conf("history = 1\nhistory = x\n");
	fresh();
	strcpy(cfg.config_path, tmpl);
	cfg.config_given = 1;
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2:", tmpl);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	config_free(&cfg);
	unlink(tmpl);
}
END_TEST

/* ---- TLS ---- */

START_TEST(test_tls_keys)
{
	fresh();
	ck_assert_int_eq(set("listen", "127.0.0.1:1"), 0);
	ck_assert_int_eq(set("tls-listen", "[::1]:443"), 0);
	ck_assert_int_eq(cfg.nlisten, 2);
	ck_assert_int_eq(cfg.listen[0].tls, 0);
	ck_assert_int_eq(cfg.listen[1].tls, 1);
	ck_assert_str_eq(cfg.listen[1].host, "::1");
	ck_assert_str_eq(cfg.listen[1].port, "443");
	/* empty adds nothing */
	ck_assert_int_eq(set("tls-listen", ""), 0);
	ck_assert_int_eq(cfg.nlisten, 2);
	set_fails("tls-listen", "localhost:443");
	set_fails("tls-listen", "127.0.0.1:65536");
	ck_assert_int_eq(cfg.nlisten, 2);
	ck_assert_int_eq(set("tls-cert", "/etc/c.pem"), 0);
	ck_assert_int_eq(set("tls-key", "/etc/k.pem"), 0);
	ck_assert_str_eq(cfg.tls_cert, "/etc/c.pem");
	ck_assert_str_eq(cfg.tls_key, "/etc/k.pem");
}
END_TEST

START_TEST(test_tls_listen_shares_max)
{
	int	 i;

	fresh();
	for (i = 0; i < MAX_LISTEN - 1; i++)
		ck_assert_int_eq(set("listen", "127.0.0.1:1"), 0);
	ck_assert_int_eq(set("tls-listen", "127.0.0.1:2"), 0);
	set_fails("tls-listen", "127.0.0.1:3");
	ck_assert_int_eq(cfg.nlisten, MAX_LISTEN);
}
END_TEST

START_TEST(test_load_tls)
{
	/* the command line replaces the file's TLS listeners only */
	write_conf("listen = 127.0.0.1:1\ntls-listen = 127.0.0.1:2\n"
	    "tls-cert = /c\ntls-key = /k\n");
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "--tls-listen", "127.0.0.1:3"),
	    CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[0].port, "1");
	ck_assert_int_eq(cfg.listen[0].tls, 0);
	ck_assert_str_eq(cfg.listen[1].port, "3");
	ck_assert_int_eq(cfg.listen[1].tls, 1);
	config_free(&cfg);

	/* only TLS: no default plain listener */
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl, "-l", "127.0.0.1:4"), CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[0].port, "2");
	ck_assert_int_eq(cfg.listen[0].tls, 1);
	ck_assert_str_eq(cfg.listen[1].port, "4");
	config_free(&cfg);
	unlink(tmpl);

	write_conf("tls-listen = 127.0.0.1:2\ntls-cert = /c\ntls-key = /k\n");
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl), CONFIG_RUN);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.nlisten, 1);
	ck_assert_int_eq(cfg.listen[0].tls, 1);
	config_free(&cfg);
	unlink(tmpl);

	/* tls-listen needs both files; either file needs the other */
	write_conf("tls-listen = 127.0.0.1:2\n");
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl), CONFIG_RUN);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "tls-listen needs tls-cert"));
	config_free(&cfg);
	write_conf("tls-cert = /c\n");
	fresh();
	ck_assert_int_eq(ARGV("-c", tmpl), CONFIG_RUN);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "tls-key is missing"));
	config_free(&cfg);
	unlink(tmpl);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("keys");
	tcase_add_test(tc, test_defaults);
	tcase_add_loop_test(tc, test_set_ranges, 0,
	    (int)(sizeof(ranges) / sizeof(ranges[0])));
	tcase_add_test(tc, test_set_bools);
	tcase_add_test(tc, test_set_strings);
	tcase_add_test(tc, test_set_unknown);
	tcase_add_test(tc, test_listen);
	tcase_add_test(tc, test_listen_bad);
	tcase_add_test(tc, test_listen_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, test_parse_text);
	tcase_add_test(tc, test_parse_text_crlf_quotes);
	tcase_add_test(tc, test_parse_text_quoted_then_comment);
	tcase_add_test(tc, test_parse_text_errors);
	tcase_add_test(tc, test_tls_keys);
	tcase_add_test(tc, test_tls_listen_shares_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("args");
	tcase_add_test(tc, test_args_help_version);
	tcase_add_test(tc, test_args_run);
	tcase_add_test(tc, test_args_errors);
	tcase_add_test(tc, test_args_reset);
	tcase_add_test(tc, test_args_repeat);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_load_file_and_overrides);
	tcase_add_test(tc, test_load_listen_twice);
	tcase_add_test(tc, test_trusted_proxy);
	tcase_add_test(tc, test_allow_origin);
	tcase_add_test(tc, test_load_lists_replaced);
	tcase_add_test(tc, test_load_idle_after_ping);
	tcase_add_test(tc, test_load_file_listeners);
	tcase_add_test(tc, test_load_default_listener);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_load_tls);
	tcase_add_test(tc, test_load_pinned_dir);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(config_suite());
	int	 failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
