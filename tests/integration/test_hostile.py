#!/usr/bin/python3
"""Bad input thrown at a running wschatd with its default settings.

Every case sends its hostile input on raw sockets, checks the answer the
daemon must give (an HTTP status, a WebSocket close code or a protocol
error of PROTOCOL.md), and then, in tearDown, checks that the daemon is
unharmed:

* a fresh client joins and a message it sends reaches a second client;
* the master is the process started at setUpClass (same pid, same start
  time, not a zombie);
* the master's VmRSS stays under its value at start + MASTER_RSS_SLACK;
* once the case's sockets are closed, no worker is left over and no
  worker stays a zombie.

The daemon runs with the defaults: only what the harness needs is passed
(--listen, --webroot, --config /dev/null, --user when root).  The webroot
is a copy of data/www with traps added: a symbolic link to a file outside
it, one to a directory outside it, and a dot file.

Hostile sockets come from spread loopback source addresses (127.77.x.y),
one per connection, so that a per-address connection limit never answers
for the case under test.
"""

import itertools
import json
import os
import shutil
import socket
import struct
import tempfile
import time
import unittest

import harness
from harness import (Daemon, RawWS, OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE,
                     OP_PING, OP_PONG, close_payload, encode_frame,
                     read_http_response, upgrade_request)

# The master keeps a small record per client and queues at most max-queue
# bytes for each; once a case's clients are gone, what it still holds is
# allocator slack.  A leak of any of the inputs below (a 16 MiB message,
# 300 connections' records, megabytes of floods) would pass this bound.
MASTER_RSS_SLACK = 8 * 1024 * 1024

# A worker serves one client; flooding its own client must not make it
# grow without bound either (its output to the client is bounded, see
# WORKER_OUT_HIGH): generous bound over a fresh worker.
WORKER_RSS_MAX = 24 * 1024 * 1024

# Longest a flood without reading goes on (it stops earlier once the
# daemon stops reading the flooder).
FLOOD_SECONDS = 3.0

# Seconds the daemon gets to notice closed sockets and reap workers.
SETTLE_TIMEOUT = 15.0

# Defaults of the daemon (src/wslimits.h), which answer many cases.
MAX_MESSAGE = 65536
MAX_TEXT = 4096
RATE_BURST = 40
HTTP_MAX_HEAD = 8192
HTTP_MAX_HEADERS = 64

# Spread source addresses: 127.77.0.1 .. 127.77.250.250.
_ADDRS = ("127.77.%d.%d" % (a, b)
          for a, b in itertools.product(range(251), range(1, 251)))

SECRET = "s3cr3t-%s" % os.urandom(8).hex()


def next_addr():
    return next(_ADDRS)


def hsock(port, timeout=harness.RECV_TIMEOUT):
    """A TCP connection to the daemon from a fresh loopback address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((next_addr(), 0))
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


def abort(sock):
    """Close with an RST (SO_LINGER 0)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def send_tolerant(sock, data):
    """Send all of data, or as much as the server reads before it closes."""
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False
    except socket.timeout:
        return False


class HostileWS(RawWS):
    """RawWS from a spread source address."""

    def __init__(self, port, timeout=harness.RECV_TIMEOUT):
        self.port = port
        self.timeout = timeout
        self.sock = hsock(port, timeout)
        self.buf = b""


def vmrss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for %d" % pid)


def start_time(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read().decode("ascii", "replace")
    return int(data[data.rindex(")") + 2:].split()[19])


_names = itertools.count(1)


def fresh_name(prefix="n"):
    return "%s%d" % (prefix, next(_names))


class HostileCase(unittest.TestCase):
    """One daemon per class, with the defaults; health checks after every
    test."""

    daemon = None

    @classmethod
    def setUpClass(cls):
        harness.become_subreaper()
        cls.tmp = tempfile.mkdtemp(prefix="wschatd-hostile-")
        outside = os.path.join(cls.tmp, "outside")
        os.mkdir(outside)
        with open(os.path.join(outside, "secret.txt"), "w") as f:
            f.write(SECRET + "\n")
        root = os.path.join(cls.tmp, "www")
        shutil.copytree(harness.WEBROOT, root, symlinks=False)
        os.symlink(os.path.join(outside, "secret.txt"),
                   os.path.join(root, "link-out.txt"))
        os.symlink(outside, os.path.join(root, "dir-out"))
        os.symlink("../outside/secret.txt", os.path.join(root, "rel-out.txt"))
        with open(os.path.join(root, ".secret"), "w") as f:
            f.write(SECRET + "\n")
        # the daemon drops privileges after loading: the tree is readable
        os.chmod(cls.tmp, 0o755)
        cls.daemon = Daemon(webroot=root)
        try:
            cls.daemon.start()
        except BaseException:
            shutil.rmtree(cls.tmp, True)
            raise
        cls.port = cls.daemon.port
        cls.master = cls.daemon.pid
        cls.master_start = start_time(cls.master)
        cls.check_chat(cls)
        cls.rss0 = vmrss(cls.master)

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.daemon is not None:
                cls.daemon.stop()
        finally:
            shutil.rmtree(cls.tmp, True)

    def setUp(self):
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            abort(s)
        self.socks = []
        self.check_health()

    # -- health

    def check_chat(self):
        """A fresh client joins; its message reaches a second one."""
        a = RawWS(self.port)
        b = RawWS(self.port)
        try:
            a.handshake()
            b.handshake()
            na, nb = fresh_name("ok"), fresh_name("ok")
            a.join(na)
            b.join(nb)
            text = "health %s" % os.urandom(4).hex()
            a.send_json({"type": "message", "text": text})
            msg = b.expect_message(text)
            if msg.get("from") != na:
                raise AssertionError("wrong sender in %r" % msg)
        finally:
            for w in (a, b):
                try:
                    w.send_frame(OP_CLOSE, close_payload(1000))
                except OSError:
                    pass
                w.close()

    def check_health(self):
        d = self.daemon
        self.assertTrue(d.alive(), "master died:\n" + d.stderr()[-3000:])
        self.assertTrue(harness.proc_alive(self.master), "master is a zombie")
        self.assertEqual(start_time(self.master), self.master_start,
                         "the master is not the process started")
        self.check_chat()
        # Every socket of the case is closed: workers must go away.
        left = harness.wait_until(
            lambda: not d.children(include_zombies=True), SETTLE_TIMEOUT, 0.1)
        self.assertTrue(left, "workers left over: %s (zombies: %s)"
                        % (d.children(include_zombies=True), d.zombies()))
        if harness.VALGRIND:
            return      # memcheck's own memory would dominate VmRSS
        rss = vmrss(self.master)
        self.assertLess(rss, self.rss0 + MASTER_RSS_SLACK,
                        "master VmRSS grew from %d to %d KiB"
                        % (self.rss0 // 1024, rss // 1024))

    # -- tools for cases

    def raw(self):
        s = hsock(self.port)
        self.socks.append(s)
        return s

    def ws(self, join=False):
        w = HostileWS(self.port)
        self.socks.append(w.sock)
        w.handshake()
        if join:
            w.join(fresh_name("h") if join is True else join)
        return w

    def http(self, data, timeout=harness.RECV_TIMEOUT):
        """Send raw bytes (as far as the server reads them); return the
        response."""
        s = self.raw()
        send_tolerant(s, data)
        return read_http_response(s, timeout=timeout)

    def assert_status(self, data, statuses):
        if isinstance(statuses, int):
            statuses = (statuses,)
        resp = self.http(data)
        self.assertIn(resp.status, statuses, "%r -> %r" % (data[:80], resp))
        return resp

    def assert_closed_with(self, w, code):
        got = w.recv_close()
        self.assertEqual(got, code, "closed with %r, wanted %r" % (got, code))
        try:
            w.send_frame(OP_CLOSE, close_payload(1000))
        except OSError:
            pass
        w.expect_eof()

    def assert_error(self, w, code):
        msg = w.expect_type("error")
        self.assertEqual(msg.get("code"), code, msg)
        self.assertIsInstance(msg.get("message"), str)
        return msg

    def assert_still_chats(self, w):
        """w (joined) still sends and receives on the same connection."""
        text = "still here %s" % os.urandom(3).hex()
        w.send_json({"type": "message", "text": text})
        return w.expect_message(text)


def req(target="/", method="GET", version="HTTP/1.1", headers=None):
    hs = ["Host: x"] if headers is None else headers
    return ("%s %s %s\r\n" % (method, target, version)).encode("latin-1") + \
        b"".join(h.encode("latin-1") + b"\r\n" for h in hs) + \
        b"Connection: close\r\n\r\n"


# --------------------------------------------------------------------------

class TestGarbageHTTP(HostileCase):
    """Garbage instead of HTTP: 400 (or 505 for a foreign version)."""

    def test_tls_client_hello(self):
        self.assert_status(bytes.fromhex("16030100c4010000c00303") +
                           os.urandom(180), 400)

    def test_random_bytes(self):
        data = bytes((b | 0x80) for b in os.urandom(4096))
        self.assert_status(data, 400)

    def test_nul_bytes(self):
        self.assert_status(b"\0" * 1024, 400)
        self.assert_status(b"GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n", 400)

    def test_blank_lines(self):
        self.assert_status(b"\r\n" * 100, 400)

    def test_ssh_banner(self):
        self.assert_status(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 400)

    def test_http2_preface(self):
        self.assert_status(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (400, 505))

    def test_endless_token(self):
        # no space, no line end: over the head limit
        self.assert_status(b"A" * (4 * HTTP_MAX_HEAD), (400, 431))

    def test_bad_header_lines(self):
        for bad in (b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
                    b"GET / HTTP/1.1\r\n\r\n",
                    b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
                    b"GET / FTP/1.0\r\nHost: x\r\n\r\n"):
            self.assert_status(bad, 400)

    def test_silent_then_reset(self):
        # connections that say nothing, then vanish
        for _ in range(20):
            self.raw()
        for s in self.socks:
            abort(s)
        self.socks = []


class TestHeaderFloods(HostileCase):
    """Too many or too large header fields: 431."""

    def test_too_many_headers(self):
        hs = ["Host: x"] + ["X-H%d: v" % i for i in range(HTTP_MAX_HEADERS)]
        self.assert_status(req(headers=hs), 431)

    def test_thousands_of_headers(self):
        hs = ["Host: x"] + ["X-H%d: v" % i for i in range(5000)]
        self.assert_status(req(headers=hs), 431)

    def test_one_huge_header(self):
        self.assert_status(req(headers=["Host: x", "X: " + "v" * 100000]),
                           431)

    def test_head_just_over_limit(self):
        hs = ["Host: x", "X: " + "v" * HTTP_MAX_HEAD]
        self.assert_status(req(headers=hs), 431)

    def test_upgrade_with_header_flood(self):
        data, _ = upgrade_request(self.port, extra=[
            ("X-F%d" % i, "y" * 100) for i in range(200)])
        self.assert_status(data, 431)

    def test_endless_headers_dribbled(self):
        # a head that never ends, in many small writes
        s = self.raw()
        send_tolerant(s, b"GET / HTTP/1.1\r\nHost: x\r\n")
        for i in range(400):
            if not send_tolerant(s, b"X-%d: %s\r\n" % (i, b"z" * 30)):
                break
        resp = read_http_response(s)
        self.assertEqual(resp.status, 431)


class TestHugeRequestLine(HostileCase):
    """Request lines past the head limit: 431 (414 for a decoded target
    too long); a bad method: 400."""

    def test_request_line_over_head(self):
        self.assert_status(req("/" + "a" * (2 * HTTP_MAX_HEAD)), (414, 431))

    def test_megabyte_request_line(self):
        self.assert_status(req("/" + "a" * (1 << 20)), (414, 431))

    def test_long_target_within_head(self):
        resp = self.assert_status(req("/" + "a" * (HTTP_MAX_HEAD - 100)),
                                  (404, 414))
        self.assertNotIn(b"aaaaaaaa", resp.body)

    def test_encoded_target_within_head(self):
        self.assert_status(req("/" + "%41" * 2600), (404, 414))

    def test_long_method(self):
        self.assert_status(req(method="G" * 5000), 400)

    def test_long_version(self):
        self.assert_status(req(version="HTTP/1.1" + "1" * 5000), 400)


class TestTraversal(HostileCase):
    """Nothing outside the webroot (or a dot file) is ever served."""

    def assert_no_leak(self, target, statuses=(404,)):
        resp = self.assert_status(req(target), statuses)
        self.assertNotIn(SECRET.encode(), resp.body, target)
        self.assertNotIn(b"root:", resp.body, target)

    def test_plain_dots(self):
        for t in ("/../outside/secret.txt", "/../../../../etc/passwd",
                  "/./../outside/secret.txt", "/....//outside/secret.txt",
                  "/dir-out/../../outside/secret.txt", "/..",
                  "/index.html/../../outside/secret.txt"):
            self.assert_no_leak(t)

    def test_encoded_dots(self):
        for t in ("/%2e%2e/outside/secret.txt", "/%2E%2E/%2E%2E/etc/passwd",
                  "/.%2e/outside/secret.txt", "/%2e./outside/secret.txt",
                  "/%252e%252e/outside/secret.txt",
                  "/%c0%ae%c0%ae/outside/secret.txt"):
            self.assert_no_leak(t)

    def test_encoded_slashes(self):
        for t in ("/..%2foutside%2fsecret.txt",
                  "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                  "/..%5coutside%5csecret.txt", "/..\\outside\\secret.txt",
                  "/%2f%2fetc%2fpasswd", "//etc/passwd",
                  "/..%252foutside%252fsecret.txt"):
            self.assert_no_leak(t)

    def test_nul(self):
        for t in ("/%00", "/index.html%00.txt", "/..%00/etc/passwd",
                  "/link-out.txt%00"):
            self.assert_no_leak(t, (400, 404))

    def test_symlinks_out_of_webroot(self):
        for t in ("/link-out.txt", "/rel-out.txt", "/dir-out/secret.txt",
                  "/dir-out/", "/dir-out", "/link-out.txt/"):
            self.assert_no_leak(t, (404,))

    def test_dot_file(self):
        for t in ("/.secret", "/%2esecret", "/./.secret"):
            self.assert_no_leak(t)

    def test_bad_escapes_and_forms(self):
        for t in ("/%", "/%zz", "/%2", "http://x/../outside/secret.txt",
                  "*", "../outside/secret.txt"):
            self.assert_no_leak(t, (400,))

    def test_webroot_still_served(self):
        # the traps did not break the real files
        resp = self.assert_status(req("/index.html"), 200)
        self.assertIn(b"<html", resp.body.lower())


class TestFrameLengths(HostileCase):
    """Frames that claim absurd lengths."""

    def head(self, opcode, n, fin=True):
        b0 = (0x80 if fin else 0) | opcode
        return struct.pack("!BBQ", b0, 0x80 | 127, n) + b"\x01\x02\x03\x04"

    def test_2_pow_63(self):
        w = self.ws(join=True)
        w.send(self.head(OP_TEXT, 1 << 63) + b"x" * 100)
        self.assert_closed_with(w, 1002)

    def test_2_pow_64_minus_1(self):
        w = self.ws()
        w.send(self.head(OP_TEXT, (1 << 64) - 1))
        self.assert_closed_with(w, 1002)

    def test_2_pow_63_minus_1(self):
        w = self.ws(join=True)
        w.send(self.head(OP_TEXT, (1 << 63) - 1) + b"x" * 100)
        self.assert_closed_with(w, 1009)

    def test_4_gib(self):
        w = self.ws()
        w.send(self.head(OP_TEXT, 1 << 32))
        self.assert_closed_with(w, 1009)

    def test_continuation_2_pow_63(self):
        w = self.ws(join=True)
        w.send_frame(OP_TEXT, b'{"type":', fin=False)
        w.send(self.head(OP_CONT, 1 << 63))
        self.assert_closed_with(w, 1002)

    def test_continuation_pushing_over(self):
        w = self.ws(join=True)
        w.send_frame(OP_TEXT, b'{"type":', fin=False)
        w.send(self.head(OP_CONT, MAX_MESSAGE))
        self.assert_closed_with(w, 1009)

    def test_ping_claiming_2_pow_63(self):
        w = self.ws()
        w.send(self.head(OP_PING, 1 << 63))
        self.assert_closed_with(w, 1002)

    def test_non_minimal_length(self):
        # 64-bit length for 5 bytes: allowed by the decoder or a 1002,
        # never a hang or a crash
        w = self.ws()
        w.send(self.head(OP_PING, 5) + b"\x00" * 5)
        fin, rsv, op, payload = w.recv_frame()
        self.assertIn(op, (OP_PONG, OP_CLOSE))


class TestUnmasked(HostileCase):
    """Client frames must be masked (RFC 6455 5.1): 1002."""

    def test_unmasked_text(self):
        w = self.ws(join=True)
        w.send_frame(OP_TEXT, json.dumps({"type": "message", "text": "x"}),
                     mask=False)
        self.assert_closed_with(w, 1002)

    def test_unmasked_before_join(self):
        w = self.ws()
        w.send_frame(OP_TEXT, json.dumps({"type": "join", "name": "u"}),
                     mask=False)
        self.assert_closed_with(w, 1002)

    def test_unmasked_ping_and_close(self):
        for op, payload in ((OP_PING, b"p"), (OP_CLOSE, close_payload(1000)),
                            (OP_CONT, b"x"), (OP_BINARY, b"\x00")):
            w = self.ws()
            w.send_frame(op, payload, mask=False)
            self.assert_closed_with(w, 1002)

    def test_unmasked_large(self):
        w = self.ws()
        w.send_frame(OP_TEXT, b"a" * 60000, mask=False)
        self.assert_closed_with(w, 1002)

    def test_masked_then_unmasked_fragment(self):
        w = self.ws(join=True)
        w.send_frame(OP_TEXT, b'{"type":"mess', fin=False)
        w.send_frame(OP_CONT, b'age","text":"x"}', mask=False)
        self.assert_closed_with(w, 1002)


class TestFragmentStorm(HostileCase):
    """Many fragments: the message is accepted while under max-message;
    over it, 1009; broken sequences, 1002."""

    def test_one_byte_fragments(self):
        # Up to max-fragments (1024 by default) continuation frames: fine.
        w = self.ws(join=True)
        text = "frag-" + "y" * 980
        data = json.dumps({"type": "message", "text": text}).encode()
        self.assertLessEqual(len(data) - 1, 1024)
        frames = [encode_frame(OP_TEXT, data[:1], fin=False)]
        frames += [encode_frame(OP_CONT, data[i:i + 1], fin=False)
                   for i in range(1, len(data) - 1)]
        frames.append(encode_frame(OP_CONT, data[-1:]))
        w.send(b"".join(frames))
        msg = w.expect_type("message")
        self.assertEqual(msg["text"], text)

    def test_one_byte_fragments_past_the_limit(self):
        w = self.ws(join=True)
        data = json.dumps({"type": "message", "text": "z" * 2000}).encode()
        frames = [encode_frame(OP_TEXT, data[:1], fin=False)]
        frames += [encode_frame(OP_CONT, data[i:i + 1], fin=False)
                   for i in range(1, len(data) - 1)]
        frames.append(encode_frame(OP_CONT, data[-1:]))
        w.send(b"".join(frames))
        self.assert_closed_with(w, 1009)

    def test_empty_fragments(self):
        # A storm of empty continuation frames ends at the limit (small
        # enough to be sent whole before the server closes).
        w = self.ws(join=True)
        data = json.dumps({"type": "message", "text": "empties"}).encode()
        storm = encode_frame(OP_CONT, b"", fin=False) * 2000
        w.send(encode_frame(OP_TEXT, data[:5], fin=False) + storm +
               encode_frame(OP_CONT, data[5:]))
        self.assert_closed_with(w, 1009)

    def test_pings_between_fragments(self):
        w = self.ws(join=True)
        data = json.dumps({"type": "message", "text": "pinged"}).encode()
        pings = encode_frame(OP_PING, b"p" * 125) * 500
        w.send(encode_frame(OP_TEXT, data[:5], fin=False) + pings +
               encode_frame(OP_CONT, data[5:]))
        pongs = 0
        while True:
            fin, rsv, op, payload = w.recv_frame()
            if op == OP_PONG:
                pongs += 1
                continue
            self.assertEqual(op, OP_TEXT)
            self.assertEqual(json.loads(payload)["text"], "pinged")
            break
        self.assertEqual(pongs, 500)

    def test_fragments_over_max_message(self):
        w = self.ws(join=True)
        chunk = encode_frame(OP_CONT, b"z" * 1000, fin=False)
        send_tolerant(w.sock, encode_frame(OP_TEXT, b'{"a":"', fin=False) +
                      chunk * (MAX_MESSAGE // 1000 + 10))
        self.assert_closed_with(w, 1009)

    def test_tiny_fragments_over_max_message(self):
        w = self.ws(join=True)
        chunk = encode_frame(OP_CONT, b"zz", fin=False)
        send_tolerant(w.sock, encode_frame(OP_TEXT, b"", fin=False) +
                      chunk * (MAX_MESSAGE // 2 + 100))
        self.assert_closed_with(w, 1009)

    def test_continuation_without_start(self):
        w = self.ws(join=True)
        w.send(encode_frame(OP_CONT, b"x", fin=False) * 1000)
        self.assert_closed_with(w, 1002)

    def test_new_message_inside_fragmented(self):
        w = self.ws(join=True)
        w.send(encode_frame(OP_TEXT, b"{", fin=False) +
               encode_frame(OP_TEXT, b"{", fin=False))
        self.assert_closed_with(w, 1002)

    def test_fragmented_ping(self):
        w = self.ws()
        w.send(encode_frame(OP_PING, b"a", fin=False) +
               encode_frame(OP_CONT, b"b"))
        self.assert_closed_with(w, 1002)


class TestHugeMessage(HostileCase):
    """A 16 MiB message against the 64 KiB default max-message: 1009."""

    SIZE = 16 * 1024 * 1024

    def test_16mb_one_frame(self):
        w = self.ws(join=True)
        payload = json.dumps({"type": "message",
                              "text": "x" * (self.SIZE - 40)}).encode()
        send_tolerant(w.sock, encode_frame(OP_TEXT, payload,
                                           mask_key=b"\0\0\0\0"))
        self.assert_closed_with(w, 1009)

    def test_16mb_in_fragments(self):
        w = self.ws(join=True)
        piece = b"x" * (1 << 20)
        frame = encode_frame(OP_CONT, piece, fin=False, mask_key=b"\0\0\0\0")
        send_tolerant(w.sock, encode_frame(OP_TEXT, b'{"type":"message",'
                                           b'"text":"', fin=False))
        for _ in range(16):
            if not send_tolerant(w.sock, frame):
                break
        self.assert_closed_with(w, 1009)

    def test_16mb_before_handshake(self):
        s = self.raw()
        send_tolerant(s, b"GET /ws HTTP/1.1\r\nHost: x\r\nX: " +
                      b"y" * self.SIZE)
        resp = read_http_response(s)
        self.assertEqual(resp.status, 431)

    def test_just_under_max_message(self):
        # the largest message the defaults take: bad as chat (too_long),
        # the connection stays
        w = self.ws(join=True)
        text = "t" * (MAX_MESSAGE - 64)
        w.send_json({"type": "message", "text": text})
        self.assert_error(w, "too_long")
        self.assert_still_chats(w)


class TestNestedJSON(HostileCase):
    """Deeply nested JSON: bad_json, and the connection stays open."""

    def nested(self, depth, open_="[", close="]"):
        return open_ * depth + close * depth

    def test_nested_arrays_in_message(self):
        w = self.ws(join=True)
        for depth in (9, 100, 30000):
            w.send_text('{"type":"message","text":"x","junk":%s}'
                        % self.nested(depth))
            self.assert_error(w, "bad_json")
        self.assert_still_chats(w)

    def test_nested_objects(self):
        w = self.ws(join=True)
        depth = 9000
        w.send_text('{"a":' * depth + '1' + '}' * depth)
        self.assert_error(w, "bad_json")
        self.assert_still_chats(w)

    def test_nested_before_join(self):
        w = self.ws()
        w.send_text(self.nested(32000))
        self.assert_error(w, "bad_json")
        w.join(fresh_name())

    def test_unclosed_nesting(self):
        w = self.ws(join=True)
        w.send_text("[" * 60000)
        self.assert_error(w, "bad_json")
        w.send_text('{"type":"message","text":' + "[" * 20000)
        self.assert_error(w, "bad_json")
        self.assert_still_chats(w)

    def test_nested_name(self):
        w = self.ws()
        w.send_text('{"type":"join","name":%s}' % self.nested(20000))
        self.assert_error(w, "bad_json")
        w.join(fresh_name())


class TestHostileNames(HostileCase):
    """Names with control characters, NUL, 4 KiB, or only white space:
    name_invalid (bad_json if not even JSON); the client may then join."""

    def refused(self, names, code="name_invalid"):
        w = self.ws()
        for name in names:
            w.send_json({"type": "join", "name": name})
            self.assert_error(w, code)
        w.join(fresh_name())
        return w

    def test_c0_controls(self):
        self.refused(["a%cb" % c for c in range(0x00, 0x20)])

    def test_del_and_c1_controls(self):
        self.refused(["a%cb" % c for c in range(0x7f, 0xa0)])

    def test_escape_sequences(self):
        self.refused(["\x1b[31mred", "bell\x07", "x\r\nSet-Cookie: a",
                      "\x1b]0;title\x07", "back\x08\x08"])

    def test_nul(self):
        self.refused(["\0", "al\0ice", "\0" * 32, "ok\0"])

    def test_raw_nul_in_json(self):
        # a raw control character in a JSON string is not JSON
        w = self.ws()
        w.send_text(b'{"type":"join","name":"a\x00b"}')
        self.assert_error(w, "bad_json")
        w.join(fresh_name())

    def test_4_kib(self):
        self.refused(["a" * 4096, "\u00e9" * 2048, "\U0001f600" * 1024,
                      "a" * 33])

    def test_white_space_only(self):
        self.refused(["", " ", " " * 40, "\t", "\t \t", "\u3000",
                      "\u3000" * 3, " \u3000 "])

    def test_not_a_string(self):
        w = self.ws()
        for name in (None, 5, [], {}, ["a"], True):
            w.send_json({"type": "join", "name": name})
            msg = w.expect_type("error")
            self.assertIn(msg["code"], ("name_invalid", "bad_json"), msg)
        w.join(fresh_name())

    def test_lone_surrogate(self):
        # \ud800 cannot become UTF-8: refused, or replaced; never sent on
        # as invalid UTF-8 (which would close every reader with 1007)
        w = self.ws()
        w.send_text('{"type":"join","name":"x\\ud800y"}')
        msg = w.recv_json()
        if msg["type"] == "welcome":
            w.expect_type("join")
            msg["name"].encode("utf-8")     # no lone surrogate came back
        else:
            self.assertEqual(msg["type"], "error")

    def test_lone_surrogate_text(self):
        w = self.ws(join=True)
        other = self.ws(join=True)
        w.send_text('{"type":"message","text":"a\\udc00b"}')
        msg = w.recv_json()
        while msg["type"] == "join":
            msg = w.recv_json()
        self.assertIn(msg["type"], ("message", "error"))
        self.assert_still_chats(other)


class TestFloods(HostileCase):
    """Message floods: the flooder gets rate_limited errors; the others
    see at most what the rate limit lets through."""

    def test_message_flood(self):
        flood = self.ws(join=True)
        watcher = self.ws(join=True)
        n = 2000
        t0 = time.monotonic()
        frames = b"".join(encode_frame(OP_TEXT, json.dumps(
            {"type": "message", "text": "flood %d" % i})) for i in range(n))
        flood.send(frames)
        errors = echoes = 0
        deadline = time.monotonic() + harness.RECV_TIMEOUT
        while errors + echoes < n and time.monotonic() < deadline:
            msg = flood.recv_json()
            if msg["type"] == "error":
                self.assertEqual(msg["code"], "rate_limited")
                errors += 1
            elif msg["type"] == "message":
                echoes += 1
        elapsed = time.monotonic() - t0
        self.assertEqual(errors + echoes, n)
        self.assertGreater(errors, 0)
        # the rate limit (20/s, burst 40) bounds what went through
        self.assertLessEqual(echoes, RATE_BURST + int(20 * elapsed) + 2)
        got = 0
        while True:
            try:
                msg = watcher.recv_json(0.5)
            except AssertionError:
                break
            if msg["type"] == "message":
                got += 1
        self.assertEqual(got, echoes)
        time.sleep(2.1)   # the bucket refills
        self.assert_still_chats(flood)

    def flood_unread(self, frame):
        """Send copies of frame without reading anything back, until the
        socket stays full or FLOOD_SECONDS pass; then check the flooder's
        worker: it must have stopped reading rather than grown."""
        flood = self.ws(join=True)
        flood.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        flood.sock.settimeout(0.2)
        batch = frame * max(1, 65536 // len(frame))
        stalls = sent = 0
        deadline = time.monotonic() + FLOOD_SECONDS
        while stalls < 5 and time.monotonic() < deadline:
            try:
                sent += flood.sock.send(batch)
                stalls = 0
            except socket.timeout:
                stalls += 1
            except (BrokenPipeError, ConnectionResetError):
                break
        self.assertGreater(sent, 0)
        time.sleep(0.3)
        self.check_workers_bounded()

    def test_error_flood_without_reading(self):
        # every message is answered (bad_json, then rate_limited) to the
        # flooder alone, which never reads
        self.flood_unread(encode_frame(OP_TEXT, b"nope" * 20))

    def test_ping_flood_without_reading(self):
        self.flood_unread(encode_frame(OP_PING, b"p" * 125))

    def check_workers_bounded(self):
        for pid in self.daemon.children(include_zombies=False):
            try:
                rss = vmrss(pid)
            except (FileNotFoundError, ProcessLookupError, AssertionError):
                continue
            self.assertLess(rss, WORKER_RSS_MAX,
                            "worker %d VmRSS %d KiB" % (pid, rss // 1024))

    def test_flooder_is_held_back(self):
        # Past its burst, each message gets rate_limited; after
        # RATE_HOLD_AFTER refusals in a row the client is not read until a
        # token is back, so a flooder is slowed by TCP instead of being
        # answered at full speed: of 300 excess messages sent at once,
        # only a few are answered at first.
        w = self.ws(join=True)
        time.sleep(0.1)
        w.send(b"".join(encode_frame(OP_TEXT, json.dumps(
            {"type": "message", "text": "b%d" % i}))
            for i in range(RATE_BURST + 300)))
        kinds = []
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            try:
                msg = w.recv_json(timeout=max(0.01, end - time.monotonic()))
            except (AssertionError, OSError):
                break
            if msg["type"] in ("message", "error"):
                kinds.append(msg.get("code", msg["type"]))
        self.assertGreaterEqual(kinds.count("rate_limited"), 1, kinds)
        # Without the hold, all 300 would be refused at once; with it, 16
        # per token (one per 50 ms by default): about 100 in 0.3 s.
        self.assertLess(kinds.count("rate_limited"), 200, len(kinds))

    def test_join_flood(self):
        w = self.ws(join=True)
        w.send(encode_frame(OP_TEXT, json.dumps(
            {"type": "join", "name": "again"})) * 30)
        for _ in range(30):
            self.assert_error(w, "already_joined")

    def test_bad_json_flood(self):
        w = self.ws(join=True)
        w.send(encode_frame(OP_TEXT, b"{" * 60000) * 30)
        for _ in range(30):
            self.assert_error(w, "bad_json")
        time.sleep(1.6)
        self.assert_still_chats(w)

    def test_many_flooders(self):
        flooders = [self.ws(join=True) for _ in range(10)]
        frames = b"".join(encode_frame(OP_TEXT, json.dumps(
            {"type": "message", "text": "f%d" % i})) for i in range(300))
        for f in flooders:
            f.send(frames)
        for f in flooders:      # each is limited on its own
            while True:
                msg = f.recv_json()
                if msg.get("code") == "rate_limited":
                    break


class TestMassReset(HostileCase):
    """Hundreds of connections reset at once, in every state."""

    def open_many(self):
        # The slow WebSocket handshakes first: the others must still be
        # open (within request-timeout, 10 s) when they are all reset.
        ws = []
        for i in range(100):     # WebSocket, half joined
            w = self.ws(join=(i % 2 == 0))
            ws.append(w)
        for w in ws[:20]:        # some mid-message
            w.send(encode_frame(OP_TEXT, b'{"type":"message","te',
                                fin=False))
        for i in range(100):     # TCP only
            self.raw()
        for i in range(100):     # inside an HTTP request head
            s = self.raw()
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: webs")
        return ws

    def wait_workers(self, n):
        got = harness.wait_until(
            lambda: len(self.daemon.children(False)) >= n, SETTLE_TIMEOUT,
            0.1)
        self.assertTrue(got, "only %d workers" % len(self.daemon.children()))

    def test_reset_300(self):
        self.open_many()
        self.wait_workers(300)
        for s in self.socks:
            abort(s)
        self.socks = []
        harness.wait_until(lambda: not self.daemon.children(),
                           SETTLE_TIMEOUT, 0.1)
        # Workers that die with messages unread are ordinary ends.
        self.assertNotIn("bad message from worker", self.daemon.stderr())

    def test_reset_300_twice(self):
        for _ in range(2):
            self.open_many()
            self.wait_workers(300)
            for s in self.socks:
                abort(s)
            self.socks = []
            harness.wait_until(lambda: not self.daemon.children(),
                               SETTLE_TIMEOUT, 0.1)

    def test_reset_while_chatting(self):
        ws = self.open_many()
        watcher = self.ws(join=True)
        self.wait_workers(301)
        for w in ws[::2]:        # the joined ones talk, then all vanish
            w.send_json({"type": "message", "text": "bye"})
        for s in self.socks:
            if s is not watcher.sock:
                abort(s)
        self.socks = [watcher.sock]
        self.assert_still_chats(watcher)


if __name__ == "__main__":
    harness.run_main()
