/* Unit tests of src/access.c: addresses, prefixes, X-Forwarded-For, Origin. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "access.h"

static struct access_addr
addr(const char *s)
{
	struct access_addr	 a;

	ck_assert_msg(access_addr_parse(s, strlen(s), &a) == 0,
	    "'%s' not parsed", s);
	return a;
}

static void
text_is(const char *in, const char *want)
{
	struct access_addr	 a = addr(in);
	char			 t[ACCESS_ADDR_TEXT];

	access_addr_text(&a, t, sizeof(t));
	ck_assert_str_eq(t, want);
}

static void
bad_addr(const char *s)
{
	struct access_addr	 a;

	ck_assert_msg(access_addr_parse(s, strlen(s), &a) == -1,
	    "'%s' accepted", s);
}

START_TEST(test_addr_parse)
{
	text_is("192.0.2.1", "192.0.2.1");
	text_is("192.0.2.1:8080", "192.0.2.1");
	text_is("2001:db8::1", "2001:db8::1");
	text_is("2001:DB8:0:0::1", "2001:db8::1");
	text_is("[2001:db8::1]", "2001:db8::1");
	text_is("[2001:db8::1]:443", "2001:db8::1");
	text_is("::1", "::1");
	/* IPv4-mapped IPv6 is the IPv4 address */
	text_is("::ffff:192.0.2.7", "192.0.2.7");
	text_is("[::ffff:c000:207]", "192.0.2.7");
	ck_assert_int_eq(access_addr_is_v4(&(struct access_addr){{0}}), 0);
	{
		struct access_addr a = addr("::ffff:10.0.0.1"), b = addr("10.0.0.1");
		ck_assert(access_addr_eq(&a, &b));
		ck_assert(access_addr_is_v4(&a));
	}
}
END_TEST

START_TEST(test_addr_bad)
{
	bad_addr("");
	bad_addr("unknown");
	bad_addr("192.0.2");
	bad_addr("192.0.2.256");
	bad_addr("192.0.2.1:");
	bad_addr("192.0.2.1:80x");
	bad_addr("192.0.2.1:123456");
	bad_addr(" 192.0.2.1");
	bad_addr("[2001:db8::1");
	bad_addr("[2001:db8::1]x");
	bad_addr("[2001:db8::1]:");
	bad_addr("[192.0.2.1]");
	bad_addr("2001:db8::1::2");
	bad_addr("fe80::1%eth0");
	bad_addr("_hidden");
	bad_addr("0x7f.1");
	/* a NUL inside the length */
	{
		struct access_addr a;
		ck_assert_int_eq(access_addr_parse("10.0.0.1\0", 9, &a), -1);
	}
	/* too long to be an address */
	{
		char long_[200];
		memset(long_, '1', sizeof(long_) - 1);
		long_[sizeof(long_) - 1] = '\0';
		bad_addr(long_);
	}
}
END_TEST

START_TEST(test_addr_sockaddr)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	struct sockaddr		 su;
	struct access_addr	 a;
	char			 t[ACCESS_ADDR_TEXT] = "";

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.9", &s4.sin_addr);
	ck_assert_int_eq(access_addr_from_sockaddr((struct sockaddr *)&s4, &a), 0);
	access_addr_text(&a, t, sizeof(t));
	ck_assert_str_eq(t, "127.0.0.9");
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2:3:4:5:6", &s6.sin6_addr);
	ck_assert_int_eq(access_addr_from_sockaddr((struct sockaddr *)&s6, &a), 0);
	access_addr_text(&a, t, sizeof(t));
	ck_assert_str_eq(t, "2001:db8:1:2:3:4:5:6");
	memset(&su, 0, sizeof(su));
	su.sa_family = AF_UNIX;
	ck_assert_int_eq(access_addr_from_sockaddr(&su, &a), -1);
}
END_TEST

START_TEST(test_addr_key)
{
	struct access_addr	 a, b, ka, kb;
	char			 t[ACCESS_ADDR_TEXT];

	/* IPv4: the whole address */
	a = addr("192.0.2.1");
	b = addr("192.0.2.2");
	access_addr_key(&a, &ka);
	access_addr_key(&b, &kb);
	ck_assert(!access_addr_eq(&ka, &kb));
	access_addr_text(&ka, t, sizeof(t));
	ck_assert_str_eq(t, "192.0.2.1");
	/* IPv6: the /64 */
	a = addr("2001:db8:1:2:aaaa::1");
	b = addr("2001:db8:1:2:bbbb::2");
	access_addr_key(&a, &ka);
	access_addr_key(&b, &kb);
	ck_assert(access_addr_eq(&ka, &kb));
	access_addr_text(&ka, t, sizeof(t));
	ck_assert_str_eq(t, "2001:db8:1:2::");
	b = addr("2001:db8:1:3::1");
	access_addr_key(&b, &kb);
	ck_assert(!access_addr_eq(&ka, &kb));
}
END_TEST

static struct access_cidr
cidr(const char *s)
{
	struct access_cidr	 c;

	ck_assert_msg(access_cidr_parse(s, &c) == 0, "'%s' not parsed", s);
	return c;
}

static int
in(const char *c, const char *a)
{
	struct access_cidr	 p = cidr(c);
	struct access_addr	 x = addr(a);

	return access_cidr_match(&p, &x);
}

START_TEST(test_cidr)
{
	struct access_cidr	 c;

	ck_assert(in("10.0.0.0/8", "10.1.2.3"));
	ck_assert(!in("10.0.0.0/8", "11.0.0.1"));
	ck_assert(in("10.1.2.3/8", "10.200.0.1"));	/* host bits ignored */
	ck_assert(in("192.0.2.0/25", "192.0.2.127"));
	ck_assert(!in("192.0.2.0/25", "192.0.2.128"));
	ck_assert(in("192.0.2.5", "192.0.2.5"));
	ck_assert(!in("192.0.2.5", "192.0.2.6"));
	ck_assert(in("192.0.2.5/32", "192.0.2.5"));
	ck_assert(in("0.0.0.0/0", "203.0.113.1"));
	/* an IPv4 prefix matches the IPv4-mapped form, not IPv6 */
	ck_assert(in("127.0.0.0/8", "::ffff:127.0.0.1"));
	ck_assert(!in("0.0.0.0/0", "2001:db8::1"));
	ck_assert(in("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!in("2001:db8::/32", "2001:db9::1"));
	ck_assert(in("2001:db8::/33", "2001:db8:7fff::1"));
	ck_assert(!in("2001:db8::/33", "2001:db8:8000::1"));
	ck_assert(in("::/0", "2001:db8::1"));
	ck_assert(in("::1", "::1"));
	ck_assert(!in("::1", "::2"));
	ck_assert(in("::ffff:0:0/96", "10.0.0.1"));

	ck_assert_int_eq(access_cidr_parse("", &c), -1);
	ck_assert_int_eq(access_cidr_parse("/8", &c), -1);
	ck_assert_int_eq(access_cidr_parse("10.0.0.0/", &c), -1);
	ck_assert_int_eq(access_cidr_parse("10.0.0.0/33", &c), -1);
	ck_assert_int_eq(access_cidr_parse("10.0.0.0/-1", &c), -1);
	ck_assert_int_eq(access_cidr_parse("10.0.0.0/08", &c), -1);
	ck_assert_int_eq(access_cidr_parse("10.0.0.0/8x", &c), -1);
	ck_assert_int_eq(access_cidr_parse("10.0.0.0/8/8", &c), -1);
	ck_assert_int_eq(access_cidr_parse("2001:db8::/129", &c), -1);
	ck_assert_int_eq(access_cidr_parse("[2001:db8::]/32", &c), -1);
	ck_assert_int_eq(access_cidr_parse("10.0.0.1:80", &c), -1);
	ck_assert_int_eq(access_cidr_parse("example.org/8", &c), -1);
	ck_assert_int_eq(access_cidr_parse("10.0.0.0/1000000000000", &c), -1);
}
END_TEST

/* Pick from xff with the trusted list given as text. */
static int
pick(const char *xff, const char *t1, const char *t2, char *out)
{
	struct access_cidr	 t[2] = { 0 };
	struct access_addr	 a;
	size_t			 n = 0;
	int			 rc;

	if (t1)
		t[n++] = cidr(t1);
	if (t2)
		t[n++] = cidr(t2);
	out[0] = '\0';
	rc = access_xff_pick(xff, strlen(xff), t, n, &a);
	if (rc == 0)
		access_addr_text(&a, out, ACCESS_ADDR_TEXT);
	return rc;
}

START_TEST(test_xff)
{
	char	 o[ACCESS_ADDR_TEXT];

	ck_assert_int_eq(pick("203.0.113.7", NULL, NULL, o), 0);
	ck_assert_str_eq(o, "203.0.113.7");
	/* the rightmost untrusted one: the left ones are the client's word */
	ck_assert_int_eq(pick("1.1.1.1, 203.0.113.7", NULL, NULL, o), 0);
	ck_assert_str_eq(o, "203.0.113.7");
	ck_assert_int_eq(pick("1.1.1.1, 203.0.113.7, 10.0.0.2",
	    "10.0.0.0/8", NULL, o), 0);
	ck_assert_str_eq(o, "203.0.113.7");
	ck_assert_int_eq(pick("1.1.1.1,203.0.113.7,10.0.0.2,10.0.0.3",
	    "10.0.0.0/8", NULL, o), 0);
	ck_assert_str_eq(o, "203.0.113.7");
	/* all trusted: the leftmost */
	ck_assert_int_eq(pick("10.0.0.5, 10.0.0.2", "10.0.0.0/8", NULL, o), 0);
	ck_assert_str_eq(o, "10.0.0.5");
	/* IPv6, with brackets and ports, tabs */
	ck_assert_int_eq(pick("2001:db8::5", NULL, NULL, o), 0);
	ck_assert_str_eq(o, "2001:db8::5");
	ck_assert_int_eq(pick("[2001:db8::5]:1234,\t::1", "::1", NULL, o), 0);
	ck_assert_str_eq(o, "2001:db8::5");
	ck_assert_int_eq(pick("::ffff:198.51.100.1", NULL, NULL, o), 0);
	ck_assert_str_eq(o, "198.51.100.1");
	ck_assert_int_eq(pick("198.51.100.1:5555 , 127.0.0.1",
	    "127.0.0.0/8", "::1", o), 0);
	ck_assert_str_eq(o, "198.51.100.1");

	/* malformed anywhere: refused, even left of the pick */
	ck_assert_int_eq(pick("", NULL, NULL, o), -1);
	ck_assert_int_eq(pick(" ", NULL, NULL, o), -1);
	ck_assert_int_eq(pick(",", NULL, NULL, o), -1);
	ck_assert_int_eq(pick("1.2.3.4,", NULL, NULL, o), -1);
	ck_assert_int_eq(pick(",1.2.3.4", NULL, NULL, o), -1);
	ck_assert_int_eq(pick("1.2.3.4,,5.6.7.8", NULL, NULL, o), -1);
	ck_assert_int_eq(pick("unknown", NULL, NULL, o), -1);
	ck_assert_int_eq(pick("unknown, 1.2.3.4", NULL, NULL, o), -1);
	ck_assert_int_eq(pick("1.2.3.4 5.6.7.8", NULL, NULL, o), -1);
	ck_assert_int_eq(pick("1.2.3.4;5.6.7.8", NULL, NULL, o), -1);
	ck_assert_int_eq(pick("999.1.1.1", NULL, NULL, o), -1);
}
END_TEST

static void
norm_is(const char *in, const char *want)
{
	char	 o[ACCESS_ORIGIN_MAX];

	ck_assert_msg(access_origin_norm(in, strlen(in), o, sizeof(o)) == 0,
	    "'%s' refused", in);
	ck_assert_str_eq(o, want);
}

static void
norm_bad(const char *in)
{
	char	 o[ACCESS_ORIGIN_MAX];

	ck_assert_msg(access_origin_norm(in, strlen(in), o, sizeof(o)) == -1,
	    "'%s' accepted", in);
}

START_TEST(test_origin_norm)
{
	norm_is("http://example.org", "http://example.org");
	norm_is("HTTP://Example.ORG", "http://example.org");
	norm_is("http://example.org:80", "http://example.org");
	norm_is("https://example.org:443", "https://example.org");
	norm_is("http://example.org:443", "http://example.org:443");
	norm_is("https://example.org:80", "https://example.org:80");
	norm_is("http://127.0.0.1:8080", "http://127.0.0.1:8080");
	norm_is("http://127.0.0.1:08080", "http://127.0.0.1:8080");
	norm_is("http://[::1]:8080", "http://[::1]:8080");
	norm_is("http://[2001:DB8::1]", "http://[2001:db8::1]");

	norm_bad("");
	norm_bad("null");
	norm_bad("example.org");
	norm_bad("ftp://example.org");
	norm_bad("http:/example.org");
	norm_bad("http://");
	norm_bad("http://example.org/");
	norm_bad("http://example.org/path");
	norm_bad("http://user@example.org");
	norm_bad("http://example.org:");
	norm_bad("http://example.org:0");
	norm_bad("http://example.org:65536");
	norm_bad("http://example.org:8x");
	norm_bad("http://exa mple.org");
	norm_bad("http://[::1");
	norm_bad("http://[]");
	norm_bad("http://[zz::1]");
	{
		char	 big[600], o[ACCESS_ORIGIN_MAX];
		memcpy(big, "http://", 7);
		memset(big + 7, 'a', sizeof(big) - 7);
		ck_assert_int_eq(access_origin_norm(big, sizeof(big), o,
		    sizeof(o)), -1);
	}
}
END_TEST

static int
allowed(const char *origin, const char *host, int tls, const char *a1,
    const char *a2)
{
	char	 self[ACCESS_ORIGIN_MAX];
	char	 list[2][ACCESS_ORIGIN_MAX];
	size_t	 n = 0;
	int	 have_self;

	have_self = host != NULL && access_origin_self(tls, host, strlen(host),
	    self, sizeof(self)) == 0;
	if (a1)
		strlcpy(list[n++], a1, ACCESS_ORIGIN_MAX);
	if (a2)
		strlcpy(list[n++], a2, ACCESS_ORIGIN_MAX);
	return access_origin_allowed(origin, strlen(origin),
	    have_self ? self : NULL, (const char (*)[ACCESS_ORIGIN_MAX])list, n);
}

START_TEST(test_origin_allowed)
{
	char	 self[ACCESS_ORIGIN_MAX];

	ck_assert_int_eq(access_origin_self(0, "Chat.Example.org:80", 19, self,
	    sizeof(self)), 0);
	ck_assert_str_eq(self, "http://chat.example.org");
	ck_assert_int_eq(access_origin_self(1, "chat.example.org:8443", 21,
	    self, sizeof(self)), 0);
	ck_assert_str_eq(self, "https://chat.example.org:8443");
	ck_assert_int_eq(access_origin_self(0, "", 0, self, sizeof(self)), -1);
	ck_assert_int_eq(access_origin_self(0, "a/b", 3, self, sizeof(self)), -1);

	/* same origin */
	ck_assert(allowed("http://127.0.0.1:8080", "127.0.0.1:8080", 0, NULL,
	    NULL));
	ck_assert(allowed("HTTP://LOCALHOST", "localhost:80", 0, NULL, NULL));
	ck_assert(allowed("https://chat.example.org", "chat.example.org", 1,
	    NULL, NULL));
	/* scheme, host or port differ: cross-site */
	ck_assert(!allowed("https://127.0.0.1:8080", "127.0.0.1:8080", 0,
	    NULL, NULL));
	ck_assert(!allowed("http://127.0.0.1:8081", "127.0.0.1:8080", 0,
	    NULL, NULL));
	ck_assert(!allowed("http://evil.example", "127.0.0.1:8080", 0, NULL,
	    NULL));
	ck_assert(!allowed("null", "127.0.0.1:8080", 0, NULL, NULL));
	ck_assert(!allowed("http://evil.example", NULL, 0, NULL, NULL));
	/* the list adds origins; * allows any, even a malformed one */
	ck_assert(allowed("http://app.example:3000", "127.0.0.1:8080", 0,
	    "http://other.example", "http://app.example:3000"));
	ck_assert(allowed("http://127.0.0.1:8080", "127.0.0.1:8080", 0,
	    "http://other.example", NULL));
	ck_assert(!allowed("http://app.example:3001", "127.0.0.1:8080", 0,
	    "http://app.example:3000", NULL));
	ck_assert(allowed("http://evil.example", "127.0.0.1:8080", 0,
	    "*", NULL));
	ck_assert(allowed("null", NULL, 0, "http://x.example", "*"));
}
END_TEST

START_TEST(test_proto)
{
	ck_assert_int_eq(access_proto_tls("https", 5), 1);
	ck_assert_int_eq(access_proto_tls("HTTPS", 5), 1);
	ck_assert_int_eq(access_proto_tls("http", 4), 0);
	ck_assert_int_eq(access_proto_tls(" http ", 6), 0);
	ck_assert_int_eq(access_proto_tls("http, https", 11), 1);
	ck_assert_int_eq(access_proto_tls("https,http", 10), 0);
	ck_assert_int_eq(access_proto_tls("", 0), -1);
	ck_assert_int_eq(access_proto_tls("ftp", 3), -1);
	ck_assert_int_eq(access_proto_tls("httpss", 6), -1);
	ck_assert_int_eq(access_proto_tls("https,", 6), -1);
}
END_TEST

static Suite *
access_suite(void)
{
	Suite	*s = suite_create("access");
	TCase	*tc = tcase_create("access");

	tcase_add_test(tc, test_addr_parse);
	tcase_add_test(tc, test_addr_bad);
	tcase_add_test(tc, test_addr_sockaddr);
	tcase_add_test(tc, test_addr_key);
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_xff);
	tcase_add_test(tc, test_origin_norm);
	tcase_add_test(tc, test_origin_allowed);
	tcase_add_test(tc, test_proto);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(access_suite());
	int	 failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
