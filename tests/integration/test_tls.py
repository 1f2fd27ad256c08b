#!/usr/bin/python3
"""TLS: https:// and wss:// on a tls-listen port beside a plain one.

A throwaway self-signed certificate for 127.0.0.1 and localhost is made at
test time with the openssl command; every client here trusts only it."""

import asyncio
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import websockets

import harness
from harness import (BINARY, RECV_TIMEOUT, WEBROOT, ChatClient, Daemon,
                     wait_until)

WAIT = 10.0
OPENSSL = shutil.which("openssl")
TLS_LISTEN_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) with TLS")
# The worker's time limit for the handshake and the first request
# (HTTP_REQUEST_TIMEOUT), plus slack for a loaded machine.
REQUEST_LIMIT = 10.0
SLACK = 10.0


def make_cert(directory, name, cn="localhost"):
    """A self-signed EC certificate and its key: (cert path, key path)."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        timeout=30)
    return cert, key


class TLSBase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if OPENSSL is None:
            raise unittest.SkipTest("the openssl command is not installed")
        cls.tmp = tempfile.mkdtemp(prefix="wschatd-tls-")
        cls.cert, cls.key = make_cert(cls.tmp, "server")
        cls.other_cert, cls.other_key = make_cert(cls.tmp, "other", "other")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def client_ctx(self, minv=None, maxv=None):
        ctx = ssl.create_default_context(cafile=self.cert)
        if minv is not None:
            ctx.minimum_version = minv
        if maxv is not None:
            ctx.maximum_version = maxv
        return ctx

    def tls_args(self):
        return ["--tls-listen", "127.0.0.1:0", "--tls-cert", self.cert,
                "--tls-key", self.key]

    def start(self, extra=()):
        """A daemon with a plain and a TLS listener: (daemon, TLS port)."""
        d = Daemon(self.tls_args() + list(extra))
        d.start()
        self.addCleanup(d.stop)
        ok = wait_until(lambda: TLS_LISTEN_RE.search(d.stderr()), WAIT)
        self.assertTrue(ok, "no TLS listener logged:\n" + d.stderr())
        # Signals are handled from here on.
        self.assertTrue(wait_until(lambda: " started" in d.stderr(), WAIT))
        return d, int(ok.group(1))

    def https_get(self, port, path="/", host="127.0.0.1", ctx=None):
        conn = http.client.HTTPSConnection(
            host, port, timeout=RECV_TIMEOUT,
            context=ctx or self.client_ctx())
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read(), \
                conn.sock.version()
        finally:
            conn.close()

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 60))

    async def wss(self, port, ctx=None, rcvbuf=None):
        kw = {}
        if rcvbuf is not None:
            # A small window: the server's writes then stop part-way.
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.connect(("127.0.0.1", port))
            sock.setblocking(False)
            kw["sock"] = sock
            kw["server_hostname"] = "localhost"
        ws = await websockets.connect(
            "wss://localhost:%d/ws" % port, ssl=ctx or self.client_ctx(),
            open_timeout=RECV_TIMEOUT, close_timeout=RECV_TIMEOUT,
            ping_interval=None, max_size=None, max_queue=None, **kw)
        return ChatClient(ws)

    async def chat_works(self, daemon, port):
        """A wss:// client and a ws:// client talk to each other."""
        a = await self.wss(port)
        b = await ChatClient.connect(daemon)
        try:
            await a.join("secure")
            await b.join("plain")
            self.assertEqual((await a.expect("join"))["name"], "plain")
            await a.say("over TLS")
            got = await b.expect("message")
            self.assertEqual((got["from"], got["text"]),
                             ("secure", "over TLS"))
            await b.say("in the clear")
            got = await a.expect("message")
            self.assertEqual((got["from"], got["text"]),
                             ("plain", "in the clear"))
        finally:
            await a.close()
            await b.close()

    def handshake_failures(self, daemon):
        return re.findall(r"TLS handshake failed: (.*)", daemon.stderr())


class TestTLS(TLSBase):

    def test_wss_and_ws_side_by_side(self):
        d, port = self.start()
        self.run_async(self.chat_works(d, port))

    def test_https_serves_the_page(self):
        d, port = self.start()
        status, headers, body, _ = self.https_get(port, "/")
        with open(os.path.join(WEBROOT, "index.html"), "rb") as f:
            self.assertEqual(body, f.read())
        self.assertEqual(status, 200)
        status, _, body, _ = self.https_get(port, "/healthz",
                                            host="localhost")
        self.assertEqual((status, body), (200, b"ok\n"))

    def test_keepalive_requests_over_one_connection(self):
        d, port = self.start()
        conn = http.client.HTTPSConnection("127.0.0.1", port,
                                           timeout=RECV_TIMEOUT,
                                           context=self.client_ctx())
        try:
            for _ in range(3):
                conn.request("GET", "/healthz")
                r = conn.getresponse()
                self.assertEqual((r.status, r.read()), (200, b"ok\n"))
        finally:
            conn.close()

    def test_tls12_and_tls13_work(self):
        d, port = self.start()
        for v, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                        (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
            status, _, body, got = self.https_get(
                port, "/healthz", ctx=self.client_ctx(v, v))
            self.assertEqual((status, body, got), (200, b"ok\n", name))

    def test_tls12_offers_only_ecdhe_aead(self):
        d, port = self.start()
        ctx = self.client_ctx(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
        # A client that offers only suites without forward secrecy or
        # without AEAD finds nothing in common.
        ctx.set_ciphers("AES128-GCM-SHA256:AES256-SHA:ECDHE-RSA-AES128-SHA:"
                        "ECDHE-ECDSA-AES128-SHA256")
        with self.assertRaises(ssl.SSLError):
            self.https_get(port, "/healthz", ctx=ctx)
        ctx = self.client_ctx(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
        r = self.https_get(port, "/healthz", ctx=ctx)
        self.assertEqual(r[0], 200)

    def test_old_tls_refused(self):
        d, port = self.start()
        for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(self.cert)
            # Let this client offer the old versions at all.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = v
            ctx.maximum_version = v
            with self.assertRaises(ssl.SSLError):
                self.https_get(port, "/healthz", ctx=ctx)
        # The server saw both and refused them for their version.
        self.assertTrue(wait_until(
            lambda: len([f for f in self.handshake_failures(d)
                         if "protocol" in f]) >= 2, WAIT), d.stderr())
        self.assertEqual(self.https_get(port, "/healthz")[0], 200)

    def test_plain_http_on_tls_port(self):
        d, port = self.start()
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=RECV_TIMEOUT) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data)
        self.assertIn(b"TLS", data)
        self.assertTrue(d.alive())
        self.run_async(self.chat_works(d, port))

    def test_garbage_instead_of_client_hello(self):
        d, port = self.start()

        async def scenario():
            a = await self.wss(port)
            await a.join("bystander")
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"\x00\xff garbage, not a ClientHello \r\n" * 8)
            await w.drain()
            # The server closes (perhaps after a TLS alert, perhaps
            # with a reset, as the garbage is left unread).
            try:
                rest = await asyncio.wait_for(r.read(), RECV_TIMEOUT)
                self.assertFalse(rest.startswith(b"HTTP/"), rest)
            except ConnectionResetError:
                pass
            w.close()
            await a.say("still here")
            await a.close()
        self.run_async(scenario())
        self.assertTrue(wait_until(lambda: self.handshake_failures(d), WAIT))
        self.assertTrue(d.alive())

    def test_stalled_handshake_blocks_nobody(self):
        d, port = self.start()
        # The first bytes of a real ClientHello, then silence.
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.client_ctx().wrap_bio(incoming, outgoing,
                                         server_hostname="localhost")
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        hello = outgoing.read()
        self.assertGreater(len(hello), 20)
        stalled = socket.create_connection(("127.0.0.1", port),
                                           timeout=RECV_TIMEOUT)
        self.addCleanup(stalled.close)
        stalled.sendall(hello[:20])
        # Others are served meanwhile, over TLS and in the clear.
        t0 = time.monotonic()
        self.run_async(self.chat_works(d, port))
        self.assertEqual(self.https_get(port, "/healthz")[0], 200)
        # The stalled client is closed by the request time limit.
        stalled.settimeout(REQUEST_LIMIT + SLACK - (time.monotonic() - t0))
        self.assertEqual(stalled.recv(4096), b"")
        self.assertTrue(wait_until(
            lambda: "TLS handshake timed out" in d.stderr(), WAIT))

    def test_large_messages_both_ways(self):
        # Records of every size, and writes that fill the socket: a
        # reader that does not read for a while, then reads it all.
        d, port = self.start(["--max-text", "60000", "--rate-limit", "0",
                              "--max-message", "100000",
                              "--max-queue", "67108864"])

        async def scenario():
            a = await self.wss(port)
            b = await self.wss(port, rcvbuf=4096)
            try:
                await a.join("writer")
                await b.join("reader")
                await a.expect("join")
                texts = ["%05d" % i + chr(0x41 + i % 26) * (1000 * (i % 60))
                         for i in range(1, 200)]
                b.ws.transport.pause_reading()
                for t in texts:
                    await a.send_message(t)
                for t in texts:
                    got = await a.expect("message")
                    self.assertEqual(got["text"], t)
                b.ws.transport.resume_reading()
                for t in texts:
                    got = await b.expect("message")
                    self.assertEqual(got["text"], t)
            finally:
                await a.close()
                await b.close()
        self.run_async(scenario())

    def test_close_codes_over_tls(self):
        d, port = self.start()

        async def scenario():
            a = await self.wss(port)
            await a.join("binary")
            await a.send(b"\x00\x01")
            code, _ = await a.wait_closed()
            self.assertEqual(code, 1003)
        self.run_async(scenario())

    def test_abrupt_tls_disconnect_leaves(self):
        d, port = self.start()

        async def scenario():
            a = await self.wss(port)
            b = await ChatClient.connect(d)
            try:
                await a.join("gone")
                await b.join("stays")
                a.abort()
                got = await b.expect("leave")
                self.assertEqual(got["name"], "gone")
                await b.say("alone")
            finally:
                await b.close()
        self.run_async(scenario())

    def test_reload_keeps_tls(self):
        d, port = self.start()
        os.kill(d.pid, signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: "configuration reloaded" in d.stderr(), WAIT),
            d.stderr())
        self.run_async(self.chat_works(d, port))


class TestTLSReload(TLSBase):

    def test_sighup_loads_new_certificate(self):
        # Files the unprivileged user can read, so that a reload can; and
        # no chroot, which would put them out of reach.
        tmp = tempfile.mkdtemp(prefix="wschatd-tls-reload-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)
        cert, key = make_cert(tmp, "live", "first")
        os.chmod(key, 0o644)
        d = Daemon(["--tls-listen", "127.0.0.1:0", "--tls-cert", cert,
                    "--tls-key", key, "--chroot", ""])
        d.start()
        self.addCleanup(d.stop)
        port = int(wait_until(lambda: TLS_LISTEN_RE.search(d.stderr()),
                              WAIT).group(1))
        self.assertTrue(wait_until(lambda: " started" in d.stderr(), WAIT))

        def peer_cn():
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=RECV_TIMEOUT) as s:
                with ctx.wrap_socket(s) as t:
                    der = t.getpeercert(binary_form=True)
            pem = ssl.DER_cert_to_PEM_cert(der)
            out = subprocess.run([OPENSSL, "x509", "-noout", "-subject"],
                                 input=pem, capture_output=True, text=True,
                                 timeout=30).stdout
            return out.strip().rsplit("=", 1)[-1].strip()
        self.assertEqual(peer_cn(), "first")
        new_cert, new_key = make_cert(tmp, "next", "second")
        os.replace(new_cert, cert)
        os.replace(new_key, key)
        os.chmod(key, 0o644)
        os.kill(d.pid, signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: "TLS certificate %s loaded" % cert in d.stderr(), WAIT),
            d.stderr())
        self.assertEqual(peer_cn(), "second")
        # A broken key on reload keeps the loaded certificate.
        with open(key, "w") as f:
            f.write("not a key\n")
        os.kill(d.pid, signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: "keeping the loaded certificate" in d.stderr(), WAIT),
            d.stderr())
        self.assertEqual(peer_cn(), "second")


class TestStartupErrors(TLSBase):
    """Bad TLS settings stop the daemon at start-up with a clear reason."""

    def run_daemon(self, args):
        p = subprocess.run(
            [BINARY, "--foreground", "--config", "/dev/null", "--webroot",
             WEBROOT, "--listen", "127.0.0.1:0"] + args +
            harness.privilege_args(),
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=30)
        return p.returncode, p.stdout + p.stderr

    def assertRefused(self, args, *words):
        rc, out = self.run_daemon(args)
        self.assertEqual(rc, 1, out)
        for w in words:
            self.assertIn(w, out)
        self.assertNotIn("listening on", out)
        # -n says the same.
        rc, out = self.run_daemon(["-n"] + args)
        self.assertEqual(rc, 1, out)
        for w in words:
            self.assertIn(w, out)

    def test_missing_cert_file(self):
        missing = os.path.join(self.tmp, "absent.crt")
        self.assertRefused(["--tls-listen", "127.0.0.1:0", "--tls-cert",
                            missing, "--tls-key", self.key],
                           "tls-cert", missing)

    def test_missing_key_file(self):
        missing = os.path.join(self.tmp, "absent.key")
        self.assertRefused(["--tls-listen", "127.0.0.1:0", "--tls-cert",
                            self.cert, "--tls-key", missing],
                           "tls-key", missing)

    def test_garbage_cert(self):
        bad = os.path.join(self.tmp, "garbage.crt")
        with open(bad, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
                    "-----END CERTIFICATE-----\n")
        self.assertRefused(["--tls-listen", "127.0.0.1:0", "--tls-cert",
                            bad, "--tls-key", self.key], "tls-cert", bad)

    def test_key_does_not_match(self):
        self.assertRefused(["--tls-listen", "127.0.0.1:0", "--tls-cert",
                            self.cert, "--tls-key", self.other_key],
                           "does not match")

    def test_tls_listen_without_cert(self):
        self.assertRefused(["--tls-listen", "127.0.0.1:0"],
                           "tls-listen needs tls-cert and tls-key")

    def test_cert_without_key(self):
        self.assertRefused(["--tls-cert", self.cert], "tls-key is missing")

    def test_bad_tls_listen_address(self):
        self.assertRefused(["--tls-listen", "localhost:443", "--tls-cert",
                            self.cert, "--tls-key", self.key], "tls-listen")

    def test_check_config_accepts_good_tls(self):
        rc, out = self.run_daemon(["-n", "--tls-listen", "127.0.0.1:0",
                                   "--tls-cert", self.cert,
                                   "--tls-key", self.key])
        self.assertEqual(rc, 0, out)


class TestSocketActivation(TLSBase):

    def test_socket_named_tls(self):
        plain = socket.socket()
        secure = socket.socket()
        for s in (plain, secure):
            self.addCleanup(s.close)
            s.bind(("127.0.0.1", 0))
            s.listen(16)
        pport = plain.getsockname()[1]
        tport = secure.getsockname()[1]
        fds = (plain.fileno(), secure.fileno())

        def as_fd3_and_4():
            a = os.dup(fds[0])
            b = os.dup(fds[1])
            os.dup2(a, 3)
            os.dup2(b, 4)
        # LISTEN_PID must name the daemon itself: set it in a shell that
        # then execs the daemon (same pid).
        argv = ["/bin/sh", "-c",
                'LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=web:tls '
                'exec "$0" "$@"', BINARY,
                "--foreground", "--config", "/dev/null", "--webroot",
                WEBROOT, "--tls-cert", self.cert, "--tls-key", self.key
                ] + harness.privilege_args()
        p = subprocess.Popen(argv, preexec_fn=as_fd3_and_4,
                             close_fds=False,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)

        def cleanup():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(WAIT)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            p.stderr.close()
        self.addCleanup(cleanup)
        lines = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and len(lines) < 20:
            line = p.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "with TLS" in line:
                break
        text = "".join(lines)
        self.assertIn("listening on 127.0.0.1:%d\n" % pport, text)
        self.assertIn("listening on 127.0.0.1:%d with TLS" % tport, text)
        r = harness.http_get(pport, "/healthz")
        self.assertEqual((r.status, r.body), (200, b"ok\n"))
        status, _, body, _ = self.https_get(tport, "/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))

    def test_socket_named_tls_needs_cert(self):
        lsock = socket.socket()
        self.addCleanup(lsock.close)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        fd = lsock.fileno()

        def as_fd3():
            os.dup2(os.dup(fd), 3)
        argv = ["/bin/sh", "-c",
                'LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=tls '
                'exec "$0" "$@"', BINARY,
                "--foreground", "--config", "/dev/null", "--webroot",
                WEBROOT] + harness.privilege_args()
        p = subprocess.run(argv, preexec_fn=as_fd3, close_fds=False,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("needs tls-cert and tls-key", p.stderr)


if __name__ == "__main__":
    harness.run_main()
