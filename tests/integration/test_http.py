#!/usr/bin/python3
"""HTTP phase: static files, /healthz, methods, path traversal, header
limits, and every way to get the WebSocket upgrade wrong."""

import os
import shutil
import socket
import tempfile
import time
import unittest

import harness
from harness import (DaemonMixin, Daemon, http_get, http_request,
                     upgrade_request, connect_raw, read_http_response,
                     read_until_eof)

INDEX = b"<!doctype html>\n<title>test index</title>\n<p>hello</p>\n"
APP_JS = b"console.log('app');\n"
STYLE = b"body { color: black; }\n"
SECRET = b"TOP-SECRET-CONTENT\n"


def make_webroot():
    """tmp/www with a few files, and tmp/secret.txt outside of it."""
    top = tempfile.mkdtemp(prefix="wschatd-http-")
    os.chmod(top, 0o755)
    www = os.path.join(top, "www")
    os.mkdir(www, 0o755)
    os.mkdir(os.path.join(www, "sub"), 0o755)
    files = {"index.html": INDEX, "app.js": APP_JS, "style.css": STYLE,
             "sub/page.html": b"<p>sub</p>\n", "my file.txt": b"spaced\n"}
    for name, data in files.items():
        path = os.path.join(www, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
    secret = os.path.join(top, "secret.txt")
    with open(secret, "wb") as f:
        f.write(SECRET)
    os.chmod(secret, 0o644)
    os.symlink("../secret.txt", os.path.join(www, "link-out.txt"))
    os.symlink("/etc/passwd", os.path.join(www, "passwd.txt"))
    return top, www


def media_type(resp):
    return (resp.header("content-type") or "").split(";")[0].strip().lower()


class HTTPTestCase(DaemonMixin, unittest.TestCase):

    def make_daemon(self):
        top, www = make_webroot()
        self.addCleanup(shutil.rmtree, top, True)
        return Daemon(self.daemon_args, webroot=www)

    def get(self, path, **kw):
        return http_get(self.daemon.port, path, **kw)

    def assert_no_leak(self, resp):
        self.assertNotIn(SECRET.strip(), resp.body)
        self.assertNotIn(b"root:", resp.body)


class TestStatic(HTTPTestCase):

    def test_index(self):
        for path in ("/", "/index.html"):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(media_type(r), "text/html")
                self.assertEqual(r.body, INDEX)
                if r.header("content-length") is not None:
                    self.assertEqual(int(r.header("content-length")),
                                     len(INDEX))

    def test_content_types(self):
        cases = [("/index.html", ("text/html",), INDEX),
                 ("/app.js", ("text/javascript", "application/javascript"),
                  APP_JS),
                 ("/style.css", ("text/css",), STYLE),
                 ("/sub/page.html", ("text/html",), b"<p>sub</p>\n")]
        for path, types, body in cases:
            with self.subTest(path=path):
                r = self.get(path)
                self.assertEqual(r.status, 200, r)
                self.assertIn(media_type(r), types, r)
                self.assertEqual(r.body, body)

    def test_percent_encoded_name(self):
        r = self.get("/my%20file.txt")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"spaced\n")

    def test_healthz(self):
        r = self.get("/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"ok\n")

    def test_head(self):
        for path, length in (("/", len(INDEX)), ("/healthz", 3)):
            with self.subTest(path=path):
                with connect_raw(self.daemon.port) as s:
                    s.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\n"
                               "Connection: close\r\n\r\n" % path).encode())
                    r = read_http_response(s, head_only=True)
                    extra = read_until_eof(s, 1.0, r.body)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(extra, b"", "HEAD response has a body")
                if r.header("content-length") is not None:
                    self.assertEqual(int(r.header("content-length")), length)

    def test_not_found(self):
        for path in ("/nope.html", "/sub/nope", "/index.html/x",
                     "/healthz/x"):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertEqual(r.status, 404, r)

    def test_methods_not_allowed(self):
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            with self.subTest(method=method):
                r = http_request(
                    self.daemon.port,
                    "%s / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n" % method)
                self.assertEqual(r.status, 405, r)

    def test_path_traversal(self):
        for path in ("/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                     "/..%2fetc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                     "/../secret.txt", "/%2e%2e/secret.txt",
                     "/..%2fsecret.txt", "/sub/../../secret.txt",
                     "/sub/%2e%2e/%2e%2e/secret.txt", "/.%2e/secret.txt",
                     "/link-out.txt", "/passwd.txt", "//etc/passwd"):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertEqual(r.status, 404, r)
                self.assert_no_leak(r)

    def test_malformed_encoding(self):
        for path in ("/%zz", "/index%00.html", "/%", "/%2", "/%00"):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertIn(r.status, (400, 404), r)
                self.assert_no_leak(r)

    def test_one_byte_at_a_time(self):
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        with connect_raw(self.daemon.port) as s:
            for i in range(len(req)):
                s.sendall(req[i:i + 1])
                time.sleep(0.005)
            r = read_http_response(s)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"ok\n")

    def test_header_block_limit(self):
        base = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        # well under 8 KiB in total: accepted
        ok = base + "X-Pad: %s\r\n" % ("a" * 7000) + "\r\n"
        r = http_request(self.daemon.port, ok)
        self.assertEqual(r.status, 200, r)
        # one big header over 8 KiB
        big = base + "X-Pad: %s\r\n" % ("a" * 9000) + "\r\n"
        r = http_request(self.daemon.port, big)
        self.assertEqual(r.status, 431, r)
        # many small headers adding up to over 8 KiB
        many = base + "".join("X-H%03d: %s\r\n" % (i, "b" * 90)
                              for i in range(100)) + "\r\n"
        r = http_request(self.daemon.port, many)
        self.assertEqual(r.status, 431, r)

    def test_header_count_limit(self):
        # the design caps the number of header fields (64) as well as the
        # size of the head: many tiny headers are refused with 431 too
        base = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        ok = base + "".join("X-%d: v\r\n" % i for i in range(50)) + "\r\n"
        r = http_request(self.daemon.port, ok)
        self.assertEqual(r.status, 200, r)
        many = base + "".join("X-%d: v\r\n" % i for i in range(200)) + "\r\n"
        self.assertLess(len(many), 4096)
        r = http_request(self.daemon.port, many)
        self.assertEqual(r.status, 431, r)

    def test_endless_header_is_cut(self):
        # a client that never ends its header block must not be buffered
        # forever: the server answers 431 once 8 KiB are exceeded
        with connect_raw(self.daemon.port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ")
            try:
                for _ in range(16):
                    s.sendall(b"c" * 1024)
            except OSError:
                pass
            r = read_http_response(s, head_only=True)
        self.assertEqual(r.status, 431, r)

    def test_incomplete_request_times_out(self):
        # a client that never finishes its request head is not kept forever
        # (the daemon allows some seconds; 408 before closing is optional)
        with connect_raw(self.daemon.port, timeout=40) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            start = time.monotonic()
            data = b""
            while time.monotonic() - start < 40:
                s.settimeout(40)
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                except socket.timeout:
                    break
                if not chunk:
                    break
                data += chunk
            else:
                self.fail("connection still open after 40 s")
        self.assertLess(time.monotonic() - start, 40, "not closed")
        if data:
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data[:100])

    def test_garbage_request(self):
        for raw in ("GARBAGE\r\n\r\n", "GET\r\n\r\n",
                    "GET / HTTP/1.1 extra\r\n\r\n", "GET / FOO/1.1\r\n\r\n",
                    "GET / HTTP/1.1\r\nno colon here\r\n\r\n"):
            with self.subTest(raw=raw):
                r = http_request(self.daemon.port, raw)
                self.assertEqual(r.status, 400, r)


class TestUpgrade(HTTPTestCase):

    def upgrade(self, **kw):
        req, key = upgrade_request(self.daemon.port, **kw)
        return http_request(self.daemon.port, req, head_only=True)

    def test_good_upgrade(self):
        r = self.upgrade()
        self.assertEqual(r.status, 101, r)

    def test_header_value_variants_accepted(self):
        for kw in ({"connection": "keep-alive, Upgrade"},
                   {"connection": "upgrade"},
                   {"upgrade": "WebSocket"}):
            with self.subTest(**kw):
                r = self.upgrade(**kw)
                self.assertEqual(r.status, 101, r)

    def test_wrong_version_426(self):
        for v in ("12", "8", "14", "abc"):
            with self.subTest(version=v):
                r = self.upgrade(version=v)
                self.assertEqual(r.status, 426, r)
                versions = ",".join(r.header_all("sec-websocket-version"))
                self.assertIn("13", [x.strip() for x in versions.split(",")],
                              r)

    def test_missing_version(self):
        r = self.upgrade(version=None)
        self.assertIn(r.status, (400, 426), r)

    def test_bad_key_400(self):
        for key in (False, "", "abc", "dGhlIHNhbXBsZSBub25j",   # 15 bytes
                    "!!!!!!!!!!!!!!!!!!!!!!==",
                    "dGhlIHNhbXBsZSBub25jZSBsb25nZXI="):        # 22 bytes
            with self.subTest(key=key):
                r = self.upgrade(key=key)
                self.assertEqual(r.status, 400, r)

    def test_missing_upgrade_400(self):
        for up in (None, "h2c"):
            with self.subTest(upgrade=up):
                self.assertEqual(self.upgrade(upgrade=up).status, 400)

    def test_missing_connection_400(self):
        for conn in (None, "keep-alive", "close"):
            with self.subTest(connection=conn):
                self.assertEqual(self.upgrade(connection=conn).status, 400)

    def test_post_ws(self):
        r = self.upgrade(method="POST")
        self.assertIn(r.status, (400, 405), r)

    def test_http10_400(self):
        r = self.upgrade(http="HTTP/1.0")
        self.assertEqual(r.status, 400, r)

    def test_plain_get_ws_400(self):
        r = self.get("/ws")
        self.assertEqual(r.status, 400, r)


class TestDefaultWebroot(DaemonMixin, unittest.TestCase):
    """The bundled web client from data/www (or $WSCHATD_WEBROOT)."""

    def test_bundled_index(self):
        index = os.path.join(harness.WEBROOT, "index.html")
        if not os.path.exists(index):
            self.skipTest("no %s" % index)
        with open(index, "rb") as f:
            want = f.read()
        r = http_get(self.daemon.port, "/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(media_type(r), "text/html")
        self.assertEqual(r.body, want)


if __name__ == "__main__":
    harness.run_main()
