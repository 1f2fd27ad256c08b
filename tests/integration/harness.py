"""Shared helpers for the wschatd integration tests.

Run any test file directly with Debian's interpreter, which ships
python3-websockets:

    /usr/bin/python3 tests/integration/test_protocol.py

Environment:
    WSCHATD          path of the daemon binary (default <repo>/src/wschatd)
    WSCHATD_WEBROOT  webroot passed with --webroot (default <repo>/data/www)
    WSCHATD_VERBOSE  if set, dump the daemon's stderr at every teardown

Only the standard library and websockets 10.4 are used.  Everything runs on
the loopback interface with an ephemeral port; every process started here is
stopped by pid at teardown.
"""

import asyncio
import atexit
import base64
import ctypes
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

try:
    import websockets
    import websockets.exceptions
except ImportError:  # pragma: no cover - explained to the user
    sys.stderr.write("these tests need python3-websockets: run them with "
                     "/usr/bin/python3\n")
    raise

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

BINARY = os.environ.get("WSCHATD", os.path.join(REPO, "src", "wschatd"))
WEBROOT = os.environ.get("WSCHATD_WEBROOT", os.path.join(REPO, "data", "www"))
VERBOSE = bool(os.environ.get("WSCHATD_VERBOSE"))
# WSCHATD_VALGRIND=1: run every daemon under valgrind's memcheck.
VALGRIND = bool(os.environ.get("WSCHATD_VALGRIND"))

# Generous: the daemon may run under AddressSanitizer on a small machine.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
RECV_TIMEOUT = 10.0

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:",
                     "LeakSanitizer")

LISTEN_RE = re.compile(r"listening on (?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d+)")

# All event types the server may send (PROTOCOL.md).
EVENT_TYPES = ("welcome", "join", "message", "leave", "error")


_chroot_dir = None


def sanitizer_build():
    """Is the daemon built with --enable-sanitizers?"""
    try:
        with open(BINARY, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def chroot_dir():
    """An empty directory for --chroot, one per test process, removed at
    exit (the default, the state directory, may not exist here).

    A sanitizer build gets "/": LeakSanitizer checks the master at exit
    and needs /proc for that, which an empty root directory lacks.  The
    chroot call and the reload through kept directory descriptors are
    exercised all the same."""
    global _chroot_dir
    if _chroot_dir is None and (sanitizer_build() or VALGRIND):
        # Valgrind, too, writes its logs by path after the chroot.
        _chroot_dir = "/"
    if _chroot_dir is None:
        _chroot_dir = tempfile.mkdtemp(prefix="wschatd-chroot-")
        os.chmod(_chroot_dir, 0o755)
        atexit.register(shutil.rmtree, _chroot_dir, True)
    return _chroot_dir


def daemon_user():
    """The user the daemon runs as when the tests run as root."""
    try:
        pwd.getpwnam("_wschatd")
        return "_wschatd"
    except KeyError:
        return "nobody"


def privilege_args():
    """--user and --chroot options needed when the tests run as root."""
    if os.geteuid() != 0:
        return []
    return ["--user", daemon_user(), "--chroot", chroot_dir()]


def now_ms():
    return time.time() * 1000.0


# --------------------------------------------------------------------------
# /proc helpers

def proc_stat(pid):
    """(state, ppid) of pid, or None if it does not exist."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may contain spaces and parentheses: split at the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1])


def children_of(ppid, include_zombies=True):
    """Pids whose parent is ppid (scans /proc/*/stat)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st is None or st[1] != ppid:
            continue
        if not include_zombies and st[0] == "Z":
            continue
        pids.append(int(name))
    return sorted(pids)


def is_spawner(pid):
    return proc_title(pid) == "wschatd: spawner"


def spawners_of(master):
    """The master's spawner processes (normally one)."""
    return [p for p in children_of(master, include_zombies=False)
            if is_spawner(p)]


def workers_of(master, include_zombies=True):
    """Worker pids of a master: the children of its spawners, and those
    the master adopted from a spawner that exited."""
    pids = []
    for pid in children_of(master, include_zombies):
        if is_spawner(pid):
            pids += children_of(pid, include_zombies)
        elif proc_stat(pid) is not None:
            pids.append(pid)
    return sorted(pids)


def zombies_of(ppid):
    out = []
    for pid in children_of(ppid):
        st = proc_stat(pid)
        if st is not None and st[0] == "Z":
            out.append(pid)
    for sp in spawners_of(ppid):
        out += zombies_of(sp)
    return out


def proc_alive(pid):
    """True if pid exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def proc_title(pid):
    """The process title: /proc/PID/cmdline up to its first NUL (the rest
    of the old argv area is padding), without trailing spaces."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            raw = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").rstrip()


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def proc_fds(pid):
    """{fd: what it points to} for each open descriptor of pid."""
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except FileNotFoundError:
            pass
    return out


def wait_until(predicate, timeout, interval=0.05):
    """Poll predicate() until it is truthy or timeout passes; return last."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


async def async_wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(interval)


_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Make this process adopt orphans (workers of a killed master), so that
    they can be reaped here instead of lingering as zombies of init."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap(pids):
    """Reap any of pids that became our children (as subreaper)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


# --------------------------------------------------------------------------
# The daemon

class Daemon:
    """One wschatd process on 127.0.0.1 with a kernel-chosen port.

    Daemon(["--history", "3"]).start() runs
        $WSCHATD --foreground --listen 127.0.0.1:0 --webroot $WEBROOT
                 --config /dev/null [--user U] --history 3
    With argv=[...] the given arguments are used instead of the defaults
    (the binary is still prepended, and --user is added when root).
    """

    def __init__(self, extra=(), argv=None, webroot=None, user=True):
        self.webroot = webroot or WEBROOT
        if argv is None:
            argv = ["--foreground", "--listen", "127.0.0.1:0",
                    "--webroot", self.webroot, "--config", "/dev/null"]
            argv += list(extra)
        self.argv = [BINARY] + list(argv)
        if user:
            priv = privilege_args()
            if "--chroot" in self.argv and "--chroot" in priv:
                # The test chose its own.
                i = priv.index("--chroot")
                del priv[i:i + 2]
            self.argv += priv
        self.vgdir = None
        if VALGRIND:
            # memcheck follows every fork: one log per process, written
            # by workers after the privilege drop, hence a sticky dir.
            self.vgdir = tempfile.mkdtemp(prefix="wschatd-vg-")
            os.chmod(self.vgdir, 0o1777)
            self.argv = ["valgrind", "-q", "--tool=memcheck", "--vgdb=no",
                         "--error-exitcode=99", "--leak-check=full",
                         "--show-leak-kinds=definite",
                         "--errors-for-leak-kinds=definite",
                         "--log-file=%s/vg.%%p.log" % self.vgdir,
                         "--"] + self.argv
        self.proc = None
        self.host = None
        self.port = None
        self._lines = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._thread = None
        self.stopped = False

    # -- life cycle

    def start(self):
        if not os.path.exists(BINARY):
            raise unittest.SkipTest("daemon binary %s not built" % BINARY)
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, close_fds=True)
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._listening.is_set():
            if self.proc.poll() is not None:
                self._thread.join(2)
                raise AssertionError(
                    "wschatd exited with %s before listening:\n%s\nargv: %s"
                    % (self.proc.returncode, self.stderr(), self.argv))
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(
                    "wschatd did not log 'listening on' within %ss:\n%s"
                    % (START_TIMEOUT, self.stderr()))
            self._listening.wait(0.05)
        return self

    def _drain(self):
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace")
            with self._lock:
                self._lines.append(line)
            if self.port is None:
                m = LISTEN_RE.search(line)
                if m:
                    self.host = m.group(1) or m.group(2)
                    self.port = int(m.group(3))
                    self._listening.set()
        self.proc.stderr.close()

    @property
    def pid(self):
        return self.proc.pid

    def stderr(self):
        with self._lock:
            return "".join(self._lines)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def wait(self, timeout):
        """Wait for exit; return the exit status or None on timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """SIGTERM, wait, SIGKILL; then check for sanitizer reports.

        Raises AssertionError if the daemon reported a sanitizer error (this
        fails the test that owns the daemon)."""
        if self.proc is None or self.stopped:
            return
        self.stopped = True
        status = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                status = "no exit within %ss of SIGTERM" % STOP_TIMEOUT
        if self._thread is not None:
            # Workers may still hold the pipe for a moment.
            self._thread.join(STOP_TIMEOUT)
        self.check_sanitizers()
        self.check_valgrind()
        # A daemon still running at the end must shut down cleanly.
        if status is not None and status != 0:
            raise AssertionError("wschatd exit status after SIGTERM: %s\n%s"
                                 % (status, self.stderr()))

    def check_valgrind(self):
        """With -q, memcheck writes a process's log only to report errors."""
        if self.vgdir is None:
            return
        reports = []
        for name in sorted(os.listdir(self.vgdir)):
            with open(os.path.join(self.vgdir, name)) as f:
                text = f.read()
            if text.strip():
                reports.append("%s:\n%s" % (name, text))
        shutil.rmtree(self.vgdir, True)
        if reports:
            raise AssertionError("valgrind reports:\n" + "\n".join(reports))

    def check_sanitizers(self):
        text = self.stderr()
        if VERBOSE:
            sys.stderr.write("---- wschatd stderr (%s) ----\n%s----\n"
                             % (" ".join(self.argv[1:]), text))
        for marker in SANITIZER_MARKERS:
            if marker in text:
                raise AssertionError(
                    "wschatd stderr contains %r:\n%s" % (marker, text))

    # -- addresses

    def ws_uri(self, path="/ws"):
        return "ws://127.0.0.1:%d%s" % (self.port, path)

    # -- processes

    def children(self, include_zombies=True):
        """The workers (children of the spawner, or adopted)."""
        return workers_of(self.pid, include_zombies)

    def spawners(self):
        return spawners_of(self.pid)

    def zombies(self):
        return zombies_of(self.pid)

    def worker_for(self, local_port):
        """Pid of the worker serving the client bound to local_port."""
        tag = "wschatd: client 127.0.0.1:%d" % local_port
        for pid in self.children(include_zombies=False):
            title = proc_title(pid) or ""
            if title == tag or title.startswith(tag + " "):
                return pid
        return None


class DaemonMixin:
    """Start one daemon per test with the options in daemon_args.

    Subclasses set daemon_args (a list) and may override make_daemon()."""

    daemon_args = []

    def make_daemon(self):
        return Daemon(self.daemon_args)

    def start_daemon(self, *args, **kw):
        d = Daemon(*args, **kw)
        d.start()
        self.addCleanup(d.stop)
        return d

    def setUp(self):
        super().setUp()
        self.daemon = self.make_daemon()
        self.daemon.start()
        self.addCleanup(self.daemon.stop)


# --------------------------------------------------------------------------
# WebSocket chat client (websockets 10.4)

class ClosedError(AssertionError):
    pass


class ChatClient:
    """A chat client on top of websockets.connect()."""

    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def connect(cls, daemon, path="/ws", **kw):
        kw.setdefault("open_timeout", RECV_TIMEOUT)
        kw.setdefault("close_timeout", RECV_TIMEOUT)
        kw.setdefault("ping_interval", None)
        kw.setdefault("max_size", None)
        kw.setdefault("max_queue", None)   # never stall reading: clean closes
        ws = await websockets.connect(daemon.ws_uri(path), **kw)
        return cls(ws)

    @property
    def local_port(self):
        return self.ws.transport.get_extra_info("sockname")[1]

    async def send(self, obj):
        if isinstance(obj, (str, bytes)):
            await self.ws.send(obj)
        else:
            await self.ws.send(json.dumps(obj))

    async def send_message(self, text):
        await self.send({"type": "message", "text": text})

    async def recv(self, timeout=RECV_TIMEOUT):
        """Next server message, parsed; fails on timeout or close."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError("no message from server within %ss" % timeout)
        except websockets.exceptions.ConnectionClosed as e:
            raise ClosedError("connection closed while waiting for a "
                              "message: code=%s reason=%r" % (e.code, e.reason))
        if not isinstance(raw, str):
            raise AssertionError("server sent a binary message: %r" % raw[:80])
        try:
            obj = json.loads(raw)
        except ValueError:
            raise AssertionError("server sent invalid JSON: %r" % raw[:200])
        if not isinstance(obj, dict):
            raise AssertionError("server sent a non-object: %r" % raw[:200])
        return obj

    async def expect(self, type_, timeout=RECV_TIMEOUT):
        msg = await self.recv(timeout)
        if msg.get("type") != type_:
            raise AssertionError("expected %r event, got %r" % (type_, msg))
        return msg

    async def expect_error(self, code, timeout=RECV_TIMEOUT):
        msg = await self.expect("error", timeout)
        if msg.get("code") != code:
            raise AssertionError("expected error %r, got %r" % (code, msg))
        if not isinstance(msg.get("message"), str) or not msg["message"]:
            raise AssertionError("error without a human-readable message: %r"
                                 % msg)
        return msg

    async def expect_silence(self, seconds=0.5):
        """Assert that nothing arrives for a while."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            return
        except websockets.exceptions.ConnectionClosed as e:
            raise ClosedError("connection closed unexpectedly: code=%s "
                              "reason=%r" % (e.code, e.reason))
        raise AssertionError("unexpected message from server: %r" % raw)

    async def join(self, name, expect_name=None):
        """Join; return (welcome, own join event)."""
        await self.send({"type": "join", "name": name})
        welcome = await self.expect("welcome")
        joined = await self.expect("join")
        want = name if expect_name is None else expect_name
        if welcome.get("name") != want or joined.get("name") != want:
            raise AssertionError("joined as %r, got welcome %r, join %r"
                                 % (want, welcome, joined))
        return welcome, joined

    async def say(self, text):
        """Send a message and return its echo."""
        await self.send_message(text)
        msg = await self.expect("message")
        if msg.get("text") != text:
            raise AssertionError("echo %r does not match %r" % (msg, text))
        return msg

    async def wait_closed(self, timeout=RECV_TIMEOUT):
        """Wait until the server closes; return (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError("connection not closed within %ss" % timeout)
        except websockets.exceptions.ConnectionClosed as e:
            return e.code, e.reason

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), RECV_TIMEOUT)
        except Exception:
            pass

    def abort(self):
        """Drop the TCP connection without a close handshake."""
        self.ws.transport.abort()


class ChatTestCase(DaemonMixin, unittest.IsolatedAsyncioTestCase):
    """Per-test daemon plus tracked chat clients, closed before the daemon."""

    async def asyncSetUp(self):
        self.clients = []

    async def asyncTearDown(self):
        await asyncio.gather(*(c.close() for c in self.clients),
                             return_exceptions=True)

    async def client(self, **kw):
        c = await ChatClient.connect(self.daemon, **kw)
        self.clients.append(c)
        return c

    async def joined(self, name, **kw):
        c = await self.client(**kw)
        await c.join(name)
        return c


def check_event(testcase, ev, type_, **fields):
    """Assert the shape of a broadcast event."""
    testcase.assertEqual(ev.get("type"), type_, ev)
    testcase.assertIsInstance(ev.get("id"), int, ev)
    testcase.assertNotIsInstance(ev.get("id"), bool, ev)
    testcase.assertIsInstance(ev.get("ts"), int, ev)
    testcase.assertNotIsInstance(ev.get("ts"), bool, ev)
    # ms since the epoch: within a minute of our clock (s would be 1000x off)
    testcase.assertLess(abs(ev["ts"] - now_ms()), 60000, ev)
    for k, v in fields.items():
        testcase.assertEqual(ev.get(k), v, ev)


# --------------------------------------------------------------------------
# Raw sockets: HTTP and hand-made WebSocket frames

class HTTPResponse:
    def __init__(self, status, reason, version, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers          # list of (name-lowercase, value)
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def __repr__(self):
        return "<HTTP %s %s %r body=%r>" % (self.status, self.reason,
                                            self.headers, self.body[:200])


def connect_raw(port, timeout=RECV_TIMEOUT):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def _recv_some(sock, n=65536):
    try:
        return sock.recv(n)
    except ConnectionResetError:
        return b""


def read_http_head(sock, buf=b"", timeout=RECV_TIMEOUT):
    """Read until the end of the header block; return (head, rest)."""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = _recv_some(sock)
        except socket.timeout:
            raise AssertionError("no complete HTTP response head within %ss; "
                                 "got %r" % (timeout, buf[:500]))
        if not chunk:
            raise AssertionError("connection closed before the HTTP response "
                                 "head was complete; got %r" % buf[:500])
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def parse_http_head(head):
    lines = head.decode("iso-8859-1").split("\r\n")
    m = re.match(r"(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
    if not m:
        raise AssertionError("bad HTTP status line %r" % lines[0])
    headers = []
    for line in lines[1:]:
        if ":" not in line:
            raise AssertionError("bad HTTP header line %r" % line)
        k, v = line.split(":", 1)
        headers.append((k.strip().lower(), v.strip()))
    return m.group(1), int(m.group(2)), m.group(3) or "", headers


def read_until_eof(sock, timeout, buf=b""):
    """Read until EOF or timeout; return the bytes read."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return buf
        sock.settimeout(left)
        try:
            chunk = _recv_some(sock)
        except socket.timeout:
            return buf
        if not chunk:
            return buf
        buf += chunk


def read_http_response(sock, head_only=False, timeout=RECV_TIMEOUT):
    head, rest = read_http_head(sock, timeout=timeout)
    version, status, reason, headers = parse_http_head(head)
    resp = HTTPResponse(status, reason, version, headers, b"", head)
    if head_only:
        resp.body = rest
        return resp
    clen = resp.header("content-length")
    if clen is not None:
        n = int(clen)
        deadline = time.monotonic() + timeout
        while len(rest) < n and time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = _recv_some(sock)
            except socket.timeout:
                break
            if not chunk:
                break
            rest += chunk
        resp.body = rest
    else:
        resp.body = read_until_eof(sock, timeout, rest)
    return resp


def http_request(port, raw, head_only=False, timeout=RECV_TIMEOUT):
    """Send raw request bytes on a new connection; return HTTPResponse."""
    if isinstance(raw, str):
        raw = raw.encode("iso-8859-1")
    with connect_raw(port, timeout) as s:
        s.sendall(raw)
        return read_http_response(s, head_only=head_only, timeout=timeout)


def http_get(port, path, method="GET", headers=(), version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, path, version), "Host: 127.0.0.1:%d" % port,
             "Connection: close"]
    lines += ["%s: %s" % h for h in headers]
    raw = "\r\n".join(lines) + "\r\n\r\n"
    return http_request(port, raw, head_only=(method == "HEAD"))


WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_accept(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()
                            ).decode()


def upgrade_request(port, path="/ws", key=None, version="13",
                    method="GET", http="HTTP/1.1", upgrade="websocket",
                    connection="Upgrade", extra=()):
    if key is None:
        key = base64.b64encode(os.urandom(16)).decode()
    lines = ["%s %s %s" % (method, path, http), "Host: 127.0.0.1:%d" % port]
    if upgrade is not None:
        lines.append("Upgrade: %s" % upgrade)
    if connection is not None:
        lines.append("Connection: %s" % connection)
    if key is not False:
        lines.append("Sec-WebSocket-Key: %s" % key)
    if version is not None:
        lines.append("Sec-WebSocket-Version: %s" % version)
    lines += ["%s: %s" % h for h in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1"), key


OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


def encode_frame(opcode, payload=b"", fin=True, mask=True, rsv=0,
                 length=None, mask_key=None):
    """Encode one WebSocket frame.  length overrides the encoded payload
    length (to lie about it); rsv is the 3-bit RSV field."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        key = os.urandom(4) if mask_key is None else mask_key
        masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return head + key + masked
    return head + payload


def close_payload(code, reason=b""):
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return struct.pack("!H", code) + reason


class RawWS:
    """A hand-made WebSocket client over a plain socket."""

    def __init__(self, port, timeout=RECV_TIMEOUT):
        self.port = port
        self.timeout = timeout
        self.sock = connect_raw(port, timeout)
        self.buf = b""

    def handshake(self, **kw):
        req, key = upgrade_request(self.port, **kw)
        self.sock.sendall(req)
        head, rest = read_http_head(self.sock, timeout=self.timeout)
        version, status, reason, headers = parse_http_head(head)
        resp = HTTPResponse(status, reason, version, headers, b"", head)
        if status != 101:
            raise AssertionError("upgrade failed: %r" % resp)
        if resp.header("sec-websocket-accept") != ws_accept(key):
            raise AssertionError("bad Sec-WebSocket-Accept in %r" % resp)
        self.buf = rest
        return resp

    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", **kw):
        self.sock.sendall(encode_frame(opcode, payload, **kw))

    def send_text(self, text, **kw):
        self.send_frame(OP_TEXT, text, **kw)

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            self.sock.settimeout(left)
            chunk = _recv_some(self.sock)
            if not chunk:
                raise EOFError("connection closed by server")
            self.buf += chunk

    def _take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=None):
        """(fin, rsv, opcode, payload) of the next frame from the server.
        Raises EOFError on EOF, AssertionError on timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            self._fill(2, deadline)
            b0, b1 = self.buf[0], self.buf[1]
            if b1 & 0x80:
                raise AssertionError("server sent a masked frame")
            n = b1 & 0x7F
            hl = 2
            if n == 126:
                self._fill(4, deadline)
                n = struct.unpack("!H", self.buf[2:4])[0]
                hl = 4
            elif n == 127:
                self._fill(10, deadline)
                n = struct.unpack("!Q", self.buf[2:10])[0]
                hl = 10
            self._fill(hl + n, deadline)
        except socket.timeout:
            raise AssertionError("no frame from server within the timeout; "
                                 "buffered %r" % self.buf[:100])
        self._take(hl)
        payload = self._take(n)
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload

    def recv_json(self, timeout=None):
        """Next text message as JSON, answering nothing, skipping pongs."""
        while True:
            fin, rsv, op, payload = self.recv_frame(timeout)
            if op == OP_PONG:
                continue
            if op != OP_TEXT or not fin:
                raise AssertionError("expected a whole text frame, got op=%d "
                                     "fin=%s %r" % (op, fin, payload[:100]))
            return json.loads(payload.decode("utf-8"))

    def expect_type(self, type_, timeout=None):
        msg = self.recv_json(timeout)
        if msg.get("type") != type_:
            raise AssertionError("expected %r, got %r" % (type_, msg))
        return msg

    def expect_message(self, text=None, timeout=None):
        """The next `message` event (with that text, if given), skipping
        every other event; AssertionError if none comes in time."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no message %r within the timeout"
                                     % (text,))
            msg = self.recv_json(left)
            if msg.get("type") == "message" and (text is None or
                                                 msg.get("text") == text):
                return msg

    def join(self, name):
        self.send_json({"type": "join", "name": name})
        welcome = self.expect_type("welcome")
        self.expect_type("join")
        return welcome

    def recv_close(self, timeout=None):
        """Read frames until a close frame; return its status code (or None
        for an empty payload).  Data frames before it are skipped."""
        while True:
            try:
                fin, rsv, op, payload = self.recv_frame(timeout)
            except EOFError:
                raise AssertionError("TCP closed without a close frame")
            if op == OP_CLOSE:
                if len(payload) >= 2:
                    return struct.unpack("!H", payload[:2])[0]
                return None

    def expect_eof(self, timeout=None):
        """Assert the server closes TCP (after the close frame)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("server did not close the TCP connection")
            self.sock.settimeout(left)
            try:
                chunk = _recv_some(self.sock)
            except socket.timeout:
                continue
            if not chunk:
                return
            # ignore trailing bytes (there should be none after close)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def run_main():
    """unittest.main() that exits non-zero on failure."""
    unittest.main(verbosity=2)
