/* Unit tests of the worker <-> master datagrams (src/ipc.c). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "io.h"
#include "ipc.h"
#include "wslimits.h"

/* A datagram: header (type, flags, len) then the payload. */
static size_t
dgram(uint8_t *out, uint16_t type, uint16_t flags, uint32_t len,
    const void *p, size_t plen)
{
	struct ipc_hdr	 h;

	h.type = type;
	h.flags = flags;
	h.len = len;
	memcpy(out, &h, sizeof(h));
	if (plen > 0)
		memcpy(out + sizeof(h), p, plen);
	return sizeof(h) + plen;
}

START_TEST(test_header_size)
{
	ck_assert_uint_eq(sizeof(struct ipc_hdr), 8);
}
END_TEST

START_TEST(test_parse_ok)
{
	static const uint16_t types[] = { IPC_JOIN, IPC_MESSAGE, IPC_FRAMES,
	    IPC_JOINED };
	uint8_t		 b[64];
	struct ipc_msg	 m;
	size_t		 n, i;

	for (i = 0; i < 4; i++) {
		n = dgram(b, types[i], 0, 5, "hello", 5);
		memset(&m, 0xaa, sizeof(m));
		ck_assert_int_eq(ipc_parse(b, n, &m), 0);
		ck_assert_uint_eq(m.type, types[i]);
		ck_assert_uint_eq(m.flags, 0);
		ck_assert_uint_eq(m.len, 5);
		ck_assert_ptr_eq(m.data, b + 8);
		/* empty payload */
		n = dgram(b, types[i], 0, 0, NULL, 0);
		ck_assert_int_eq(ipc_parse(b, n, &m), 0);
		ck_assert_uint_eq(m.len, 0);
		ck_assert_uint_eq(m.type, types[i]);
	}
	n = dgram(b, IPC_FRAMES, IPC_F_MORE, 3, "abc", 3);
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	ck_assert_uint_eq(m.type, IPC_FRAMES);
	ck_assert_uint_eq(m.flags, IPC_F_MORE);
	ck_assert_uint_eq(m.len, 3);
	ck_assert_mem_eq(m.data, "abc", 3);
}
END_TEST

START_TEST(test_parse_short)
{
	uint8_t		 b[64];
	struct ipc_msg	 m;
	size_t		 n;

	n = dgram(b, IPC_JOIN, 0, 0, NULL, 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(ipc_parse(b, 7, &m), -1);
	ck_assert_int_eq(ipc_parse(b, 1, &m), -1);
	ck_assert_int_eq(ipc_parse(b, 0, &m), -1);
	ck_assert_int_eq(ipc_parse(b, 8, &m), 0);
}
END_TEST

START_TEST(test_parse_len_mismatch)
{
	uint8_t		 b[64];
	struct ipc_msg	 m;
	size_t		 n;

	n = dgram(b, IPC_MESSAGE, 0, 6, "hello", 5);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_MESSAGE, 0, 4, "hello", 5);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_MESSAGE, 0, UINT32_MAX, "hello", 5);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_MESSAGE, 0, 1, NULL, 0);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
}
END_TEST

START_TEST(test_parse_bad_type)
{
	static const uint16_t bad[] = { 0, 10, 11, 0x100, 0xffff };
	uint8_t		 b[64];
	struct ipc_msg	 m;
	size_t		 n, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = dgram(b, bad[i], 0, 1, "x", 1);
		ck_assert_msg(ipc_parse(b, n, &m) == -1, "type %u", bad[i]);
	}
}
END_TEST

/* Direct output: IPC_OUT may be cut in pieces and may carry the close
 * flag; IPC_CLOSED is empty and flagless. */
START_TEST(test_parse_direct)
{
	uint8_t		 b[64];
	struct ipc_msg	 m;
	size_t		 n;

	n = dgram(b, IPC_OUT, 0, 4, "\x88\x02\x03\xe8", 4);
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	ck_assert_uint_eq(m.type, IPC_OUT);
	ck_assert_uint_eq(m.len, 4);
	n = dgram(b, IPC_OUT, IPC_F_CLOSE, 2, "\x88\x00", 2);
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	ck_assert_uint_eq(m.flags, IPC_F_CLOSE);
	n = dgram(b, IPC_OUT, IPC_F_MORE, 3, "abc", 3);
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	ck_assert_uint_eq(m.flags, IPC_F_MORE);
	n = dgram(b, IPC_OUT, 0x0004, 3, "abc", 3);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	/* only IPC_OUT knows the close flag */
	n = dgram(b, IPC_MESSAGE, IPC_F_CLOSE, 3, "abc", 3);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_FRAMES, IPC_F_CLOSE, 3, "abc", 3);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_CLOSED, 0, 0, NULL, 0);
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	ck_assert_uint_eq(m.type, IPC_CLOSED);
	n = dgram(b, IPC_CLOSED, 0, 1, "x", 1);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_CLOSED, IPC_F_CLOSE, 0, NULL, 0);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
}
END_TEST

START_TEST(test_parse_count)
{
	uint8_t		 b[64], a[IPC_ADDR_LEN];
	struct ipc_msg	 m;
	size_t		 n;

	memset(a, 7, sizeof(a));
	n = dgram(b, IPC_COUNT_AS, 0, IPC_ADDR_LEN, a, sizeof(a));
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	ck_assert_uint_eq(m.type, IPC_COUNT_AS);
	ck_assert_uint_eq(m.len, IPC_ADDR_LEN);
	/* an address is exactly 16 bytes */
	n = dgram(b, IPC_COUNT_AS, 0, 15, a, 15);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_COUNT_AS, 0, 0, NULL, 0);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_COUNT_AS, IPC_F_MORE, IPC_ADDR_LEN, a, sizeof(a));
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	/* the answers are empty */
	n = dgram(b, IPC_COUNT_OK, 0, 0, NULL, 0);
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	ck_assert_uint_eq(m.type, IPC_COUNT_OK);
	n = dgram(b, IPC_COUNT_FULL, 0, 0, NULL, 0);
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	n = dgram(b, IPC_COUNT_FULL, 0, 1, "x", 1);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_COUNT_OK, IPC_F_MORE, 0, NULL, 0);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
}
END_TEST

START_TEST(test_parse_bad_flags)
{
	uint8_t		 b[64];
	struct ipc_msg	 m;
	size_t		 n;

	n = dgram(b, IPC_JOIN, IPC_F_MORE, 1, "x", 1);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_MESSAGE, 0x8000, 1, "x", 1);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_JOINED, 2, 1, "x", 1);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_FRAMES, 2, 1, "x", 1);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	n = dgram(b, IPC_FRAMES, IPC_F_MORE | 0x100, 1, "x", 1);
	ck_assert_int_eq(ipc_parse(b, n, &m), -1);
	/* A long chat text travels in pieces. */
	n = dgram(b, IPC_MESSAGE, IPC_F_MORE, 1, "x", 1);
	ck_assert_int_eq(ipc_parse(b, n, &m), 0);
	ck_assert_uint_eq(m.flags, IPC_F_MORE);
}
END_TEST

static void
pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

START_TEST(test_roundtrip)
{
	int		 sv[2];
	uint8_t		 buf[8 + IPC_CHUNK];
	uint8_t		*big;
	struct ipc_msg	 m;
	size_t		 i;

	pair(sv);
	ck_assert_int_eq(ipc_send(sv[0], IPC_JOIN, 0, "alice", 5), 0);
	ck_assert_int_eq(ipc_send(sv[0], IPC_MESSAGE, 0, "", 0), 0);
	ck_assert_int_eq(ipc_send(sv[0], IPC_FRAMES, IPC_F_MORE, "\x81\x02hi",
	    4), 0);

	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), 1);
	ck_assert_uint_eq(m.type, IPC_JOIN);
	ck_assert_uint_eq(m.flags, 0);
	ck_assert_uint_eq(m.len, 5);
	ck_assert_mem_eq(m.data, "alice", 5);
	ck_assert_ptr_eq(m.data, buf + 8);

	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), 1);
	ck_assert_uint_eq(m.type, IPC_MESSAGE);
	ck_assert_uint_eq(m.len, 0);

	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), 1);
	ck_assert_uint_eq(m.type, IPC_FRAMES);
	ck_assert_uint_eq(m.flags, IPC_F_MORE);
	ck_assert_uint_eq(m.len, 4);
	ck_assert_mem_eq(m.data, "\x81\x02hi", 4);

	/* a full chunk, both ways */
	big = malloc(IPC_CHUNK);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < IPC_CHUNK; i++)
		big[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(ipc_send(sv[1], IPC_FRAMES, 0, big, IPC_CHUNK), 0);
	ck_assert_int_eq(ipc_recv(sv[0], buf, sizeof(buf), &m), 1);
	ck_assert_uint_eq(m.type, IPC_FRAMES);
	ck_assert_uint_eq(m.len, IPC_CHUNK);
	ck_assert_mem_eq(m.data, big, IPC_CHUNK);
	free(big);

	/* nothing left */
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), IO_AGAIN);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_recv_truncated)
{
	int		 sv[2];
	uint8_t		 buf[256], pl[100];
	struct ipc_msg	 m;

	memset(pl, 'z', sizeof(pl));
	pair(sv);
	/* exactly fits */
	ck_assert_int_eq(ipc_send(sv[0], IPC_MESSAGE, 0, pl, 100), 0);
	ck_assert_int_eq(ipc_recv(sv[1], buf, 8 + 100, &m), 1);
	ck_assert_uint_eq(m.len, 100);
	/* one byte short */
	ck_assert_int_eq(ipc_send(sv[0], IPC_MESSAGE, 0, pl, 100), 0);
	ck_assert_int_eq(ipc_recv(sv[1], buf, 8 + 99, &m), IO_ERROR);
	/* much too small */
	ck_assert_int_eq(ipc_send(sv[0], IPC_MESSAGE, 0, pl, 100), 0);
	ck_assert_int_eq(ipc_recv(sv[1], buf, 50, &m), IO_ERROR);
	/* the truncated datagrams are gone; the next one is whole */
	ck_assert_int_eq(ipc_send(sv[0], IPC_JOIN, 0, "bob", 3), 0);
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), 1);
	ck_assert_uint_eq(m.type, IPC_JOIN);
	ck_assert_mem_eq(m.data, "bob", 3);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_recv_malformed)
{
	int		 sv[2];
	uint8_t		 buf[64], d[64];
	struct ipc_msg	 m;
	size_t		 n;

	pair(sv);
	/* a short datagram */
	ck_assert_int_eq(send(sv[0], "abc", 3, 0), 3);
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), IO_ERROR);
	/* a length that lies */
	n = dgram(d, IPC_JOIN, 0, 10, "abc", 3);
	ck_assert_int_eq(send(sv[0], d, n, 0), (ssize_t)n);
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), IO_ERROR);
	/* an unknown type */
	n = dgram(d, 42, 0, 3, "abc", 3);
	ck_assert_int_eq(send(sv[0], d, n, 0), (ssize_t)n);
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), IO_ERROR);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_recv_eof_again)
{
	int		 sv[2];
	uint8_t		 buf[64];
	struct ipc_msg	 m;

	pair(sv);
	/* empty, and the socket is blocking: still no wait */
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), IO_AGAIN);
	ck_assert_int_eq(ipc_send(sv[0], IPC_JOINED, 0, "x", 1), 0);
	close(sv[0]);
	/* what was sent before the close still arrives, then EOF */
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), 1);
	ck_assert_uint_eq(m.type, IPC_JOINED);
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), 0);
	ck_assert_int_eq(ipc_recv(sv[1], buf, sizeof(buf), &m), 0);
	close(sv[1]);
}
END_TEST

START_TEST(test_send_full_and_closed)
{
	int		 sv[2], rc = 0, i;
	static uint8_t	 pl[IPC_CHUNK];

	pair(sv);
	for (i = 0; i < 100000; i++)
		if ((rc = ipc_send(sv[0], IPC_FRAMES, 0, pl, sizeof(pl))) != 0)
			break;
	ck_assert_int_eq(rc, IO_AGAIN);
	close(sv[1]);
	/* no SIGPIPE: an error */
	ck_assert_int_eq(ipc_send(sv[0], IPC_JOIN, 0, "x", 1), IO_ERROR);
	close(sv[0]);
	/* a bad descriptor */
	ck_assert_int_eq(ipc_send(-1, IPC_JOIN, 0, "x", 1), IO_ERROR);
}
END_TEST

static Suite *
ipc_suite(void)
{
	Suite	*s = suite_create("ipc");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_header_size);
	tcase_add_test(tc, test_parse_ok);
	tcase_add_test(tc, test_parse_short);
	tcase_add_test(tc, test_parse_len_mismatch);
	tcase_add_test(tc, test_parse_bad_type);
	tcase_add_test(tc, test_parse_bad_flags);
	tcase_add_test(tc, test_parse_count);
	tcase_add_test(tc, test_parse_direct);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_recv_truncated);
	tcase_add_test(tc, test_recv_malformed);
	tcase_add_test(tc, test_recv_eof_again);
	tcase_add_test(tc, test_send_full_and_closed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(ipc_suite());
	int	 failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
