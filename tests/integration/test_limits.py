#!/usr/bin/python3
"""Limits against abuse, each at and past the limit: max-clients,
max-clients-per-ip, request-timeout (and slowloris), ping-interval and
idle-timeout, rate-limit, max-message, max-fragments, max-queue."""

import asyncio
import json
import socket
import struct
import time
import unittest

import harness
from harness import (ChatTestCase, RawWS, OP_CLOSE, OP_CONT, OP_PING,
                     OP_TEXT, async_wait_until, read_until_eof, wait_until)

# Seconds to wait for something the daemon must do "soon".
SOON = 10.0


def connect_from(port, src, timeout=harness.RECV_TIMEOUT, rcvbuf=None):
    """A TCP connection to the daemon from source address src (127.0.0.N)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((src, 0))
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


def raw_ws_from(port, src="127.0.0.1", rcvbuf=None, **kw):
    """A RawWS over a connection from src; the handshake is done."""
    ws = RawWS.__new__(RawWS)
    ws.port = port
    ws.timeout = harness.RECV_TIMEOUT
    ws.sock = connect_from(port, src, rcvbuf=rcvbuf)
    ws.buf = b""
    ws.handshake(**kw)
    return ws


def get_status(port, src="127.0.0.1", path="/healthz"):
    """Status of a plain GET from src."""
    with connect_from(port, src) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Connection: close\r\n\r\n" % (path, port)).encode())
        return harness.read_http_response(s).status


def upgrade_status(port, src="127.0.0.1", extra=()):
    """(status, socket) of a WebSocket upgrade from src; the caller closes."""
    s = connect_from(port, src)
    req, _ = harness.upgrade_request(port, extra=extra)
    s.sendall(req)
    head, _ = harness.read_http_head(s)
    return harness.parse_http_head(head)[1], s


def workers(daemon):
    return len(daemon.children(include_zombies=False))


class LogMixin:

    def assertLogged(self, daemon, text, timeout=5):
        """The daemon's log shows text (it comes through a pipe that a
        thread reads: give it a moment)."""
        if not harness.wait_until(lambda: text in daemon.stderr(), timeout):
            self.fail("%r not in the log:\n%s" % (text, daemon.stderr()))


class LimitTestCase(LogMixin, ChatTestCase):

    def raw(self, src="127.0.0.1", **kw):
        ws = raw_ws_from(self.daemon.port, src, **kw)
        self.addCleanup(ws.close)
        return ws


class TestMaxClients(LimitTestCase):
    daemon_args = ["--max-clients", "3", "--max-clients-per-ip", "0"]

    def test_at_and_past(self):
        conns = [self.raw() for _ in range(3)]
        self.assertTrue(wait_until(lambda: workers(self.daemon) == 3, SOON))
        self.assertEqual(get_status(self.daemon.port), 503)
        # the three still chat
        conns[0].join("a")
        conns[0].send_json({"type": "message", "text": "hi"})
        self.assertEqual(conns[0].expect_type("message")["text"], "hi")
        # one gone: room for one more
        conns[1].close()
        self.assertTrue(wait_until(lambda: workers(self.daemon) == 2, SOON))
        self.assertEqual(get_status(self.daemon.port), 200)


class TestPerAddress(LimitTestCase):
    daemon_args = ["--max-clients-per-ip", "2"]

    def test_at_and_past(self):
        a = [self.raw("127.0.0.1") for _ in range(2)]
        # a third from the same address: 429 from the master
        st, s = upgrade_status(self.daemon.port, "127.0.0.1")
        s.close()
        self.assertEqual(st, 429)
        self.assertEqual(get_status(self.daemon.port, "127.0.0.1"), 429)
        # another address is counted apart
        b = [self.raw("127.0.0.2") for _ in range(2)]
        self.assertEqual(get_status(self.daemon.port, "127.0.0.3"), 200)
        b[0].join("b")
        # the refused ones did not take the others down
        a[0].join("a")
        # one closes: its address may connect again
        a[1].close()
        self.assertTrue(wait_until(
            lambda: get_status(self.daemon.port, "127.0.0.1") == 200, SOON,
            interval=0.2))
        self.assertLogged(self.daemon, "max-clients-per-ip (2) reached")

    def test_zero_is_no_limit(self):
        d = self.start_daemon(["--max-clients-per-ip", "0"])
        conns = []
        for _ in range(5):
            ws = raw_ws_from(d.port, "127.0.0.1")
            self.addCleanup(ws.close)
            conns.append(ws)
        self.assertEqual(get_status(d.port, "127.0.0.1"), 200)


class TestPerAddressIPv6(LogMixin, unittest.TestCase):

    def test_v6_counted(self):
        try:
            probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback")
        d = harness.Daemon(argv=["--foreground", "--listen", "[::1]:0",
                                 "--webroot", harness.WEBROOT,
                                 "--config", "/dev/null",
                                 "--max-clients-per-ip", "1"])
        d.start()
        self.addCleanup(d.stop)

        def conn():
            s = socket.create_connection(("::1", d.port), timeout=SOON)
            self.addCleanup(s.close)
            return s

        def status(s):
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: [::1]\r\n\r\n")
            return harness.read_http_response(s).status
        first = conn()
        self.assertEqual(status(first), 200)    # kept alive: still counted
        self.assertEqual(status(conn()), 429)
        self.assertLogged(d, "client [::1]:")
        first.close()
        self.assertTrue(wait_until(lambda: status(conn()) == 200, SOON,
                                   interval=0.2))


class TestRequestTimeout(LimitTestCase):
    daemon_args = ["--request-timeout", "2"]

    def test_partial_request_408(self):
        with connect_from(self.daemon.port, "127.0.0.1") as s:
            t0 = time.monotonic()
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            data = read_until_eof(s, 15)
            self.assertLess(time.monotonic() - t0, 15, "not closed")
        self.assertTrue(data.startswith(b"HTTP/1.1 408 "), data[:100])
        self.assertLogged(self.daemon, "request not complete within 2 s")

    def test_silent_connection_closed(self):
        with connect_from(self.daemon.port, "127.0.0.1") as s:
            t0 = time.monotonic()
            data = read_until_eof(s, 15)
            self.assertLess(time.monotonic() - t0, 15, "not closed")
            self.assertGreater(time.monotonic() - t0, 1.0)
        self.assertEqual(data, b"")
        self.assertLogged(self.daemon, "no request within 2 s")

    def test_client_on_time_unaffected(self):
        with connect_from(self.daemon.port, "127.0.0.1") as s:
            time.sleep(1.0)
            s.sendall(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       "Connection: close\r\n\r\n" % self.daemon.port).encode())
            self.assertEqual(harness.read_http_response(s).status, 200)
        # an open WebSocket is not a request: it outlives the timeout
        ws = self.raw()
        ws.join("patient")
        time.sleep(3)
        ws.send_json({"type": "message", "text": "still here"})
        self.assertEqual(ws.expect_type("message")["text"], "still here")


class TestSlowloris(LimitTestCase):
    # Every connection gets a worker; the per-address limit (default 32)
    # applies, so the connections come from 20 addresses.
    daemon_args = ["--request-timeout", "6", "--max-clients", "400"]
    N = 200

    async def test_slow_headers_do_not_stop_chat(self):
        port = self.daemon.port
        slow = []
        self.addCleanup(lambda: [s.close() for s in slow])
        for i in range(self.N):
            s = connect_from(port, "127.0.1.%d" % (1 + i % 20))
            s.sendall(b"GET / HTTP/1.1\r\n")
            slow.append(s)
        a = await self.joined("alice", local_addr=("127.0.2.1", 0))
        b = await self.joined("bob", local_addr=("127.0.2.2", 0))
        await a.expect("join")
        for i in range(20):
            for s in slow:
                try:
                    s.send(b"X-Drip: %d\r\n" % i)
                except OSError:
                    pass
            text = "msg %d" % i
            await a.send_message(text)
            self.assertEqual((await b.expect("message"))["text"], text)
            self.assertEqual((await a.expect("message"))["text"], text)
        # and none of them is kept past the request timeout
        loop = asyncio.get_running_loop()

        def drained():
            out = []
            for s in slow:
                out.append(read_until_eof(s, 20))
            return out
        got = await loop.run_in_executor(None, drained)
        for data in got:
            self.assertTrue(data == b"" or data.startswith(b"HTTP/1.1 408"),
                            data[:80])
        self.assertTrue(all(data.startswith(b"HTTP/1.1 408")
                            for data in got[:10]))
        # the chat still works
        await a.send_message("after")
        self.assertEqual((await b.expect("message"))["text"], "after")


class TestPingIdle(LimitTestCase):
    daemon_args = ["--ping-interval", "1", "--idle-timeout", "2"]

    async def test_dead_peer_dropped_live_peer_stays(self):
        # websockets answers pings: this one stays
        watcher = await self.joined("watcher")
        loop = asyncio.get_running_loop()
        dead = self.raw()
        await loop.run_in_executor(None, dead.join, "dead")
        await watcher.expect("join")

        def pings_then_close():
            pings, t0 = 0, time.monotonic()
            while True:
                fin, rsv, op, payload = dead.recv_frame(timeout=SOON)
                if op == OP_PING:
                    pings += 1
                elif op == OP_CLOSE:
                    code = struct.unpack("!H", payload[:2])[0]
                    return pings, code, payload[2:], time.monotonic() - t0
        pings, code, reason, took = await loop.run_in_executor(
            None, pings_then_close)
        self.assertGreaterEqual(pings, 1)
        self.assertEqual(code, 1001)
        self.assertEqual(reason, b"idle timeout")
        ev = await watcher.expect("leave")
        self.assertEqual(ev["name"], "dead")
        # the watcher, silent but answering pings, outlives several timeouts
        await asyncio.sleep(4.5)
        await watcher.say("still here")
        self.assertLogged(self.daemon, "nothing received for 2 s")

    async def test_raw_client_answering_pings_stays(self):
        loop = asyncio.get_running_loop()
        ws = self.raw()
        await loop.run_in_executor(None, ws.join, "ponger")

        def answer_for(seconds):
            n, end = 0, time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    fin, rsv, op, payload = ws.recv_frame(timeout=0.5)
                except AssertionError:
                    continue
                self.assertNotEqual(op, OP_CLOSE)
                if op == OP_PING:
                    ws.send_frame(0xA, payload)
                    n += 1
            return n
        n = await loop.run_in_executor(None, answer_for, 5)
        self.assertGreaterEqual(n, 2)
        ws.send_json({"type": "message", "text": "alive"})

        def echo():
            # A ping may still come first: answer it and read on.
            for _ in range(10):
                fin, rsv, op, payload = ws.recv_frame(timeout=5)
                if op == OP_PING:
                    ws.send_frame(0xA, payload)
                    continue
                self.assertEqual(op, 0x1)
                event = json.loads(payload)
                if event.get("type") == "message":
                    return event
            self.fail("no echo of the message")
        self.assertEqual(
            (await loop.run_in_executor(None, echo))["text"], "alive")


class TestRateLimit(LimitTestCase):
    daemon_args = ["--rate-limit", "1", "--rate-burst", "3"]

    async def test_burst_then_rate_limited(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        await a.expect("join")
        # the join took a token: let the bucket fill up again (it holds 3)
        await asyncio.sleep(1.5)
        for i in range(5):
            await a.send_message("m%d" % i)
        got = [await a.recv() for _ in range(5)]
        msgs = [e["text"] for e in got if e["type"] == "message"]
        errs = [e["code"] for e in got if e["type"] == "error"]
        self.assertEqual(msgs, ["m0", "m1", "m2"])
        self.assertEqual(errs, ["rate_limited", "rate_limited"])
        # nothing of the excess reaches the others
        for i in range(3):
            self.assertEqual((await b.expect("message"))["text"], "m%d" % i)
        await b.expect_silence(0.5)
        # the bucket refills
        await asyncio.sleep(1.2)
        await a.say("later")


class TestMaxMessage(LimitTestCase):
    daemon_args = ["--max-message", "1000"]

    @staticmethod
    def message_of(size):
        skel = json.dumps({"type": "message", "text": ""})
        return json.dumps({"type": "message",
                           "text": "x" * (size - len(skel))})

    def test_at_and_past(self):
        ws = self.raw()
        ws.join("a")
        m = self.message_of(1000)
        self.assertEqual(len(m), 1000)
        ws.send_text(m)
        self.assertEqual(len(ws.expect_type("message")["text"]),
                         1000 - len(self.message_of(0)))
        # the same size in fragments
        ws.send_frame(OP_TEXT, m[:400], fin=False)
        ws.send_frame(OP_CONT, m[400:], fin=True)
        ws.expect_type("message")
        ws.send_text(self.message_of(1001))
        self.assertEqual(ws.recv_close(), 1009)
        ws.expect_eof()


class TestMaxFragments(LimitTestCase):
    daemon_args = ["--max-fragments", "3"]

    def send_in(self, ws, text, pieces):
        step = len(text) // pieces
        parts = [text[i * step:(i + 1) * step] for i in range(pieces - 1)]
        parts.append(text[(pieces - 1) * step:])
        for i, p in enumerate(parts):
            ws.send_frame(OP_TEXT if i == 0 else OP_CONT, p,
                          fin=(i == len(parts) - 1))

    def test_at_and_past(self):
        ws = self.raw()
        ws.join("a")
        m = json.dumps({"type": "message", "text": "fragmented"})
        # a text frame and 3 continuation frames
        self.send_in(ws, m, 4)
        self.assertEqual(ws.expect_type("message")["text"], "fragmented")
        # a fourth continuation frame: 1009
        self.send_in(ws, m, 5)
        self.assertEqual(ws.recv_close(), 1009)
        ws.expect_eof()


class TestSlowReader(LimitTestCase):
    daemon_args = ["--rate-limit", "0", "--max-text", "60000",
                   "--max-queue", "65536"]

    async def test_dropped_when_queue_full(self):
        loop = asyncio.get_running_loop()
        slow = self.raw(rcvbuf=4096)
        await loop.run_in_executor(None, slow.join, "slow")
        sender = await self.joined("sender")
        reader = await self.joined("reader")
        await sender.expect("join")
        n, size = 150, 40000
        got, left = [], []

        async def read_all():
            while len(got) < n or not left:
                ev = await reader.recv(timeout=30)
                if ev["type"] == "message":
                    got.append(ev["text"])
                elif ev["type"] == "leave":
                    left.append(ev["name"])

        task = asyncio.create_task(read_all())
        for i in range(n):
            await sender.send_message("%05d" % i + "y" * (size - 5))
            while (await sender.recv(timeout=30))["type"] != "message":
                pass
            self.assertTrue(await async_wait_until(
                lambda: len(got) > i or task.done(), 30))
        await asyncio.wait_for(task, 30)
        self.assertEqual(left, ["slow"])
        self.assertEqual([t[:5] for t in got], ["%05d" % i for i in range(n)])
        self.assertLogged(self.daemon, "output queue over 65536 bytes")


if __name__ == "__main__":
    harness.run_main()
