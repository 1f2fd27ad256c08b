#!/usr/bin/python3
"""Reverse proxies and cross-site checks: X-Forwarded-For believed only from
--trusted-proxy peers (logs, process title, per-address limit), and
--allow-origin (own origin by default, 403 for others, none allowed)."""

import socket
import unittest

import harness
from harness import DaemonMixin, proc_title, wait_until

SOON = 10.0


def connect_from(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((src, 0))
        s.settimeout(harness.RECV_TIMEOUT)
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


class AccessTestCase(DaemonMixin, unittest.TestCase):

    def upgrade(self, src="127.0.0.1", extra=(), keep=True):
        """Status of a WebSocket upgrade from src; a 101 stays open until
        the end of the test unless keep is false."""
        s = connect_from(self.daemon.port, src)
        req, _ = harness.upgrade_request(self.daemon.port, extra=extra)
        s.sendall(req)
        head, _ = harness.read_http_head(s)
        version, status, reason, _ = harness.parse_http_head(head)
        want = {101: "Switching Protocols", 400: "Bad Request",
                403: "Forbidden", 429: "Too Many Requests"}
        if status in want:
            self.assertEqual(reason, want[status])
        if keep and status == 101:
            self.addCleanup(s.close)
        else:
            s.close()
        return status

    def get(self, path="/healthz", src="127.0.0.1", extra=()):
        s = connect_from(self.daemon.port, src)
        with s:
            lines = ["GET %s HTTP/1.1" % path,
                     "Host: 127.0.0.1:%d" % self.daemon.port,
                     "Connection: close"]
            lines += ["%s: %s" % h for h in extra]
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            return harness.read_http_response(s).status


def xff(addr):
    return (("X-Forwarded-For", addr),)


class TestTrustedProxy(AccessTestCase):
    daemon_args = ["--trusted-proxy", "127.0.0.1/32",
                   "--trusted-proxy", "10.0.0.0/8",
                   "--max-clients-per-ip", "2", "--debug"]

    def test_limit_counts_forwarded_address(self):
        # two clients behind the proxy: fine; a third from the same
        # client address: 429 from the worker
        self.assertEqual(self.upgrade(extra=xff("203.0.113.5")), 101)
        self.assertEqual(self.upgrade(extra=xff("203.0.113.5")), 101)
        self.assertEqual(self.upgrade(extra=xff("203.0.113.5")), 429)
        # more clients behind the same proxy are not the proxy's own
        self.assertEqual(self.upgrade(extra=xff("203.0.113.6")), 101)
        self.assertEqual(self.upgrade(extra=xff("198.51.100.1, 203.0.113.7")),
                         101)
        # the rightmost untrusted address counts: 203.0.113.5 is full
        self.assertEqual(self.upgrade(
            extra=xff("198.51.100.1, 203.0.113.5, 10.1.2.3")), 429)
        err = self.daemon.stderr()
        self.assertIn("client 203.0.113.5 via 127.0.0.1:", err)
        self.assertIn("max-clients-per-ip (2) reached", err)
        # a forwarded client that leaves frees its place
        s = connect_from(self.daemon.port, "127.0.0.1")
        req, _ = harness.upgrade_request(
            self.daemon.port, extra=xff("192.0.2.9"))
        s.sendall(req)
        harness.read_http_head(s)
        self.assertEqual(self.upgrade(extra=xff("192.0.2.9")), 101)
        self.assertEqual(self.upgrade(extra=xff("192.0.2.9")), 429)
        s.close()
        self.assertTrue(wait_until(
            lambda: self.upgrade(extra=xff("192.0.2.9"), keep=False) == 101,
            SOON, interval=0.2))

    def test_process_title_names_client(self):
        s = connect_from(self.daemon.port, "127.0.0.1")
        self.addCleanup(s.close)
        req, _ = harness.upgrade_request(
            self.daemon.port, extra=xff("2001:db8::77"))
        s.sendall(req)
        head, _ = harness.read_http_head(s)
        self.assertEqual(harness.parse_http_head(head)[1], 101)

        def titled():
            return [proc_title(p) for p in self.daemon.children(False)
                    if "2001:db8::77" in (proc_title(p) or "")]
        titles = wait_until(titled, SOON)
        self.assertTrue(titles, [proc_title(p)
                                 for p in self.daemon.children(False)])
        self.assertIn("client 2001:db8::77 via 127.0.0.1:", titles[0])

    def test_malformed_from_trusted_400(self):
        for bad in ("unknown", "", "1.2.3.4,", "1.2.3.4 5.6.7.8",
                    "300.1.1.1", "1.2.3.4, _hidden"):
            with self.subTest(xff=bad):
                self.assertEqual(self.upgrade(extra=xff(bad)), 400)
                self.assertEqual(self.get(extra=xff(bad)), 400)
        # several fields are one list
        self.assertEqual(self.upgrade(extra=xff("192.0.2.1") +
                                      xff("192.0.2.2")), 101)
        self.assertEqual(self.upgrade(extra=xff("192.0.2.1") + xff("junk")),
                         400)

    def test_forwarded_proto(self):
        # a proxy that ends TLS: the browser's origin is https
        own = "https://127.0.0.1:%d" % self.daemon.port
        self.assertEqual(self.upgrade(extra=(("Origin", own),
                                             ("X-Forwarded-Proto", "https"))),
                         101)
        self.assertEqual(self.upgrade(extra=(("Origin", own),)), 403)
        self.assertEqual(self.upgrade("127.0.0.2", (
            ("Origin", own), ("X-Forwarded-Proto", "https"))), 403)

    def test_untrusted_peer_ignored(self):
        # from 127.0.0.2 the header is the client's word: ignored, and
        # the connection counts under 127.0.0.2
        self.assertEqual(self.upgrade("127.0.0.2", xff("junk")), 101)
        self.assertEqual(self.upgrade("127.0.0.2", xff("203.0.113.50")), 101)
        self.assertEqual(self.upgrade("127.0.0.2", xff("203.0.113.51")), 429)
        self.assertEqual(self.get(src="127.0.0.3", extra=xff("junk")), 200)
        self.assertNotIn("203.0.113.50", self.daemon.stderr())


class TestOriginDefault(AccessTestCase):

    def own(self):
        return "http://127.0.0.1:%d" % self.daemon.port

    def test_own_foreign_none(self):
        self.assertEqual(self.upgrade(extra=(("Origin", self.own()),)), 101)
        # normalized: case of scheme and host
        self.assertEqual(self.upgrade(
            extra=(("Origin", "HTTP://127.0.0.1:%d" % self.daemon.port),)),
            101)
        for bad in ("http://evil.example", "https://127.0.0.1:%d"
                    % self.daemon.port, "http://127.0.0.1:%d"
                    % (self.daemon.port + 1), "null", "garbage"):
            with self.subTest(origin=bad):
                self.assertEqual(self.upgrade(extra=(("Origin", bad),)), 403)
        # two Origin fields: refused
        self.assertEqual(self.upgrade(extra=(("Origin", self.own()),
                                             ("Origin", self.own()))), 403)
        # no Origin: not a browser, allowed
        self.assertEqual(self.upgrade(), 101)
        # static files are not affected
        self.assertEqual(self.get("/", extra=(("Origin",
                                               "http://evil.example"),)), 200)
        self.assertIn("refused upgrade from origin http://evil.example",
                      self.daemon.stderr())


class TestOriginList(AccessTestCase):
    daemon_args = ["--allow-origin", "http://App.Example:3000",
                   "--allow-origin", "https://b.example"]

    def test_list(self):
        for ok in ("http://app.example:3000", "https://b.example",
                   "https://B.EXAMPLE:443",
                   "http://127.0.0.1:%d" % self.daemon.port):
            with self.subTest(origin=ok):
                self.assertEqual(self.upgrade(extra=(("Origin", ok),)), 101)
        for bad in ("http://app.example:3001", "http://b.example",
                    "http://evil.example"):
            with self.subTest(origin=bad):
                self.assertEqual(self.upgrade(extra=(("Origin", bad),)), 403)


class TestOriginAny(AccessTestCase):
    daemon_args = ["--allow-origin", "*"]

    def test_any(self):
        for o in ("http://evil.example", "null"):
            with self.subTest(origin=o):
                self.assertEqual(self.upgrade(extra=(("Origin", o),)), 101)


class TestOptionValues(unittest.TestCase):

    def test_bad_values_refused(self):
        for args in (["--trusted-proxy", "10.0.0.0/33"],
                     ["--trusted-proxy", "example.org"],
                     ["--allow-origin", "example.org"],
                     ["--allow-origin", "http://a.example/path"],
                     ["--max-clients-per-ip", "-1"],
                     ["--request-timeout", "0"],
                     ["--max-fragments", "x"],
                     ["--ping-interval", "10", "--idle-timeout", "10"]):
            with self.subTest(args=args):
                d = harness.Daemon(args)
                with self.assertRaises(AssertionError):
                    d.start()
                d.kill()


if __name__ == "__main__":
    harness.run_main()
