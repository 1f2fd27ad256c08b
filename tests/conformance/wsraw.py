"""A raw RFC 6455 client for the conformance suite: standard library only.

Nothing here is clever on purpose: the client must be able to send any
byte sequence, legal or not.  It builds frames with any FIN/RSV/opcode,
masked or not, with any length encoding (minimal, non-minimal, or a length
that lies about the payload), sends them in arbitrary pieces, and reads the
server's frames strictly (a server frame that breaks RFC 6455 5.1/5.2 is a
failure of the case that reads it).

Usage sketch:

    c = Client(port)
    c.handshake()                       # 101 or Failure
    c.join()                            # welcome + own join
    c.send(frame(OP_TEXT, chat_json("hi")))
    c.expect_echo("hi")
    c.expect_close(1002)                # close frame, then TCP EOF
"""

import base64
import hashlib
import json
import os
import socket
import struct
import threading
import time

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Generous: the daemon may run under AddressSanitizer on a busy machine.
TIMEOUT = 10.0


class Failure(AssertionError):
    """A case's expectation was not met."""


# ---------------------------------------------------------------------------
# Frames

def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None,
          length=None, enc=None):
    """Bytes of one client frame.

    opcode   any 4-bit value (reserved ones included)
    rsv      3-bit RSV field (RSV1 = 4, RSV2 = 2, RSV3 = 1)
    mask     False sends the payload unmasked (a protocol violation)
    length   the length to announce (default len(payload)): may lie
    enc      length encoding: None for the minimal one, or 7, 16, 64 to
             force the 7-bit, 16-bit (126) or 64-bit (127) form
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    if enc is None:
        enc = 7 if n < 126 else 16 if n < 65536 else 64
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask else 0
    if enc == 7:
        if n > 125:
            raise ValueError("7-bit length cannot hold %d" % n)
        head = struct.pack("!BB", b0, mbit | n)
    elif enc == 16:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4) if mask_key is None else mask_key
    return head + key + apply_mask(payload, key)


def apply_mask(data, key):
    if not data:
        return b""
    k = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(
        len(data), "big")


def close_payload(code, reason=b""):
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return struct.pack("!H", code) + reason


def chat_json(text):
    """The frame payload of a chat message carrying text (a str), with the
    text as raw UTF-8 (not \\u escapes) so that frames carry real UTF-8."""
    return ('{"type":"message","text":%s}'
            % json.dumps(text, ensure_ascii=False)).encode("utf-8")


def chat_json_raw(raw):
    """A chat message whose text is the raw bytes given (maybe invalid)."""
    return b'{"type":"message","text":"' + raw + b'"}'


CHAT_OVERHEAD = len(chat_json(""))


def fragments(payload, sizes):
    """Cut payload into pieces of the given sizes (the last piece takes the
    rest); sizes may be an int for equal pieces."""
    if isinstance(sizes, int):
        sizes = [sizes] * (len(payload) // max(sizes, 1) + 1)
    out, i = [], 0
    for s in sizes:
        if i >= len(payload):
            break
        out.append(payload[i:i + s])
        i += s
    if i < len(payload):
        out.append(payload[i:])
    return out or [b""]


def fragmented(payload, sizes, opcode=OP_TEXT):
    """A message as a list of frames: first opcode, then continuations."""
    parts = fragments(payload, sizes)
    frames = []
    for i, p in enumerate(parts):
        frames.append(frame(opcode if i == 0 else OP_CONT, p,
                            fin=(i == len(parts) - 1)))
    return frames


# ---------------------------------------------------------------------------
# HTTP

def ws_accept(key):
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def upgrade_request(port, key=None, headers=None, method="GET", path="/ws",
                    version="HTTP/1.1", drop=(), extra=()):
    """Bytes of an upgrade request.  headers replaces the defaults when
    given (a list of (name, value)); drop removes default headers by
    (lower-case) name; extra appends more."""
    if key is None:
        key = new_key()
    if headers is None:
        headers = [("Host", "127.0.0.1:%d" % port),
                   ("Upgrade", "websocket"),
                   ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Key", key),
                   ("Sec-WebSocket-Version", "13")]
        headers = [h for h in headers if h[0].lower() not in drop]
    headers = list(headers) + list(extra)
    lines = ["%s %s %s" % (method, path, version)]
    lines += ["%s: %s" % h for h in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), key


class Response:
    def __init__(self, head):
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or \
                not parts[1].isdigit():
            raise Failure("bad HTTP status line %r" % lines[0])
        self.version = parts[0]
        self.status = int(parts[1])
        self.headers = []
        for line in lines[1:]:
            if ":" not in line:
                raise Failure("bad HTTP header line %r" % line)
            k, v = line.split(":", 1)
            self.headers.append((k.strip().lower(), v.strip()))
        self.head = head

    def header(self, name, default=None):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return default

    def tokens(self, name):
        v = self.header(name, "")
        return [t.strip().lower() for t in v.split(",") if t.strip()]

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.head[:300])


# ---------------------------------------------------------------------------
# The client

_names = [0]
_names_lock = threading.Lock()


def unique_name(prefix="c"):
    with _names_lock:
        _names[0] += 1
        return "%s%d" % (prefix, _names[0])


class Client:
    """One TCP connection to the daemon, spoken to byte by byte."""

    def __init__(self, port, timeout=TIMEOUT):
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        # Each send() leaves as its own segment: pieces stay pieces.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.name = None
        self.response = None
        self.frames_seen = []       # (fin, rsv, opcode, len) of server frames

    # -- low level

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data, chunks=None, delay=0.0, tolerate_reset=False):
        """Send bytes (or a list of byte strings, one send each), optionally
        cut into chunks of the given size(s) with a pause between them."""
        if isinstance(data, (list, tuple)):
            pieces = list(data)
        else:
            pieces = [data]
        if chunks is not None:
            cut = []
            for p in pieces:
                cut += fragments(p, chunks)
            pieces = cut
        self.sock.settimeout(self.timeout)
        try:
            for i, p in enumerate(pieces):
                if i and delay:
                    time.sleep(delay)
                self.sock.sendall(p)
        except (BrokenPipeError, ConnectionResetError):
            if not tolerate_reset:
                raise Failure("connection reset by the server while sending")
        except socket.timeout:
            raise Failure("could not send within %ss (the server stopped "
                          "reading)" % self.timeout)

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        self.sock.settimeout(left)
        try:
            return self.sock.recv(65536)
        except ConnectionResetError:
            return None

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            chunk = self._recv(deadline)
            if chunk is None:
                raise EOFError("reset")
            if not chunk:
                raise EOFError("eof")
            self.buf += chunk

    # -- HTTP

    def read_response(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            try:
                chunk = self._recv(deadline)
            except socket.timeout:
                raise Failure("no complete HTTP response within %ss; got %r"
                              % (timeout or self.timeout, self.buf[:300]))
            if not chunk:
                raise Failure("connection closed before a complete HTTP "
                              "response; got %r" % self.buf[:300])
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.response = Response(head)
        return self.response

    def handshake(self, request=None, key=None, chunks=None, delay=0.0,
                  after=b"", **kw):
        """Send an upgrade request (built from kw unless given) followed by
        `after` in the same send, expect 101 and check it (RFC 4.2.2)."""
        if request is None:
            request, key = upgrade_request(self.port, key=key, **kw)
        self.send(request + after, chunks=chunks, delay=delay)
        r = self.read_response()
        if r.status != 101:
            raise Failure("expected 101, got %d: %r" % (r.status, r.head))
        check_101(r, key)
        return r

    # -- frames from the server

    def recv_frame(self, timeout=None):
        """(fin, rsv, opcode, payload) of the next server frame; ('eof',)
        style None when the server closed TCP.  Checks RFC 5.1/5.2/5.5."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            self._fill(2, deadline)
            b0, b1 = self.buf[0], self.buf[1]
            n, hl = b1 & 0x7F, 2
            if n == 126:
                self._fill(4, deadline)
                n, hl = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                self._fill(10, deadline)
                n, hl = struct.unpack("!Q", self.buf[2:10])[0], 10
            if b1 & 0x80:
                raise Failure("server sent a masked frame (RFC 5.1)")
            self._fill(hl + n, deadline)
        except socket.timeout:
            raise Failure("no frame from the server within %ss (buffered %r)"
                          % (timeout or self.timeout, self.buf[:60]))
        except EOFError:
            if self.buf:
                raise Failure("server closed TCP inside a frame: %r"
                              % self.buf[:60])
            return None
        payload = self.buf[hl:hl + n]
        self.buf = self.buf[hl + n:]
        fin, rsv, op = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF
        self.frames_seen.append((fin, rsv, op, n))
        if rsv:
            raise Failure("server frame with RSV bits %d (RFC 5.2)" % rsv)
        if op not in (OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING,
                      OP_PONG):
            raise Failure("server frame with reserved opcode %d" % op)
        if op >= 8 and (not fin or n > 125):
            raise Failure("bad server control frame fin=%s len=%d (RFC 5.5)"
                          % (fin, n))
        return fin, rsv, op, payload

    def recv_event(self, timeout=None):
        """Next event from the server: ('text', str), ('pong', bytes),
        ('ping', bytes), ('close', code or None, reason) or ('eof',).
        Fragmented server messages are reassembled."""
        parts, msg_op = [], None
        while True:
            f = self.recv_frame(timeout)
            if f is None:
                if msg_op is not None:
                    raise Failure("server closed TCP inside a message")
                return ("eof",)
            fin, rsv, op, payload = f
            if op == OP_PONG:
                return ("pong", payload)
            if op == OP_PING:
                return ("ping", payload)
            if op == OP_CLOSE:
                if len(payload) == 1:
                    raise Failure("server close frame with 1-byte payload")
                if not payload:
                    return ("close", None, "")
                try:
                    reason = payload[2:].decode("utf-8")
                except UnicodeDecodeError:
                    raise Failure("server close reason is not UTF-8: %r"
                                  % payload)
                return ("close", struct.unpack("!H", payload[:2])[0], reason)
            if op == OP_CONT:
                if msg_op is None:
                    raise Failure("server sent a continuation without a "
                                  "message")
            else:
                if msg_op is not None:
                    raise Failure("server started a message inside another")
                msg_op = op
            parts.append(payload)
            if not fin:
                continue
            data = b"".join(parts)
            if msg_op != OP_TEXT:
                raise Failure("server sent a non-text message (opcode %d)"
                              % msg_op)
            try:
                return ("text", data.decode("utf-8"))
            except UnicodeDecodeError:
                raise Failure("server text message is not UTF-8: %r"
                              % data[:100])

    def recv_json(self, timeout=None):
        """Next event, with text messages parsed as JSON objects:
        ('json', dict) instead of ('text', str)."""
        ev = self.recv_event(timeout)
        if ev[0] != "text":
            return ev
        try:
            obj = json.loads(ev[1])
        except ValueError:
            raise Failure("server sent invalid JSON: %r" % ev[1][:200])
        if not isinstance(obj, dict):
            raise Failure("server sent a JSON non-object: %r" % ev[1][:200])
        return ("json", obj)

    # -- chat level

    def own(self, obj):
        """Whether a chat event concerns this client (not room noise from
        the other cases running on the same daemon)."""
        t = obj.get("type")
        if t == "error" or t == "welcome":
            return True
        if t == "message":
            return obj.get("from") == self.name
        return False        # join / leave of anyone: room noise

    def next_own(self, timeout=None):
        """Next event for this client: ('json', obj) of own events only,
        or a control event."""
        while True:
            ev = self.recv_json(timeout)
            if ev[0] == "json" and not self.own(ev[1]):
                continue
            return ev

    def join(self, name=None):
        """Send a join as one masked text frame; expect the welcome and
        our own join event."""
        self.name = name or unique_name()
        self.send(frame(OP_TEXT, json.dumps({"type": "join",
                                             "name": self.name})))
        self.expect_welcome()
        return self

    def expect_welcome(self):
        ev = self.next_own()
        if ev[0] != "json" or ev[1].get("type") != "welcome" or \
                ev[1].get("name") != self.name:
            raise Failure("expected the welcome for %r, got %r"
                          % (self.name, ev))
        while True:
            ev = self.recv_json()
            if ev[0] == "json" and ev[1].get("type") == "join" and \
                    ev[1].get("name") == self.name:
                return
            if ev[0] == "json" and not self.own(ev[1]):
                continue
            raise Failure("expected our own join event, got %r" % (ev,))

    def expect_echo(self, text, timeout=None):
        """Expect our message event with exactly this text."""
        ev = self.next_own(timeout)
        if ev[0] != "json" or ev[1].get("type") != "message":
            raise Failure("expected the echo of %s, got %s"
                          % (short(text), short(ev)))
        got = ev[1].get("text")
        if not isinstance(got, str) or \
                got.encode("utf-8", "surrogatepass") != text.encode("utf-8"):
            raise Failure("echo differs: sent %s, got %s"
                          % (short(text), short(got)))
        return ev[1]

    def expect_error(self, code, timeout=None):
        ev = self.next_own(timeout)
        if ev[0] != "json" or ev[1].get("type") != "error" or \
                ev[1].get("code") != code:
            raise Failure("expected error %r, got %s" % (code, short(ev)))
        return ev[1]

    def expect_pong(self, payload, timeout=None):
        ev = self.next_own(timeout)
        if ev != ("pong", payload):
            raise Failure("expected pong %s, got %s"
                          % (short(payload), short(ev)))

    def barrier(self, token=None):
        """Ping and wait for the pong, failing on anything else of ours
        in between: proves the server read everything sent before and
        answered nothing to it."""
        token = token or os.urandom(8)
        self.send(frame(OP_PING, token))
        self.expect_pong(token)

    def expect_close(self, code, reply=True, allow_echo=False, timeout=None):
        """Expect a close frame with this status (None: empty payload), then
        that the server closes TCP (RFC 7.1.1).  Room noise before the close
        is skipped; our own events fail the case unless allow_echo."""
        while True:
            ev = self.next_own(timeout)
            if ev[0] == "close":
                break
            if ev[0] == "eof":
                raise Failure("TCP closed without a close frame (wanted %s)"
                              % code)
            if allow_echo and ev[0] == "json" and \
                    ev[1].get("type") in ("message", "error"):
                continue
            raise Failure("expected close %s, got %s" % (code, short(ev)))
        if ev[1] != code:
            raise Failure("expected close %s, got close %s %r"
                          % (code, ev[1], ev[2]))
        if reply:
            # RFC 5.5.1: answer the server's close.  It may be gone.
            self.send(frame(OP_CLOSE, b"" if code is None else
                            close_payload(code)), tolerate_reset=True)
        self.expect_eof()
        return ev

    def expect_eof(self, timeout=None):
        """The server closes TCP; nothing but an orderly end (no frames)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                f = self.recv_frame(max(0.01, deadline - time.monotonic()))
            except Failure as e:
                if "within" in str(e):
                    raise Failure("server did not close TCP within %ss"
                                  % (timeout or self.timeout))
                raise
            if f is None:
                return
            raise Failure("server sent a frame after its close: op=%d %r"
                          % (f[2], f[3][:60]))


def check_101(r, key):
    """RFC 4.2.2 item 5: what a 101 must carry; and wschatd's contract: no
    extension and no subprotocol is ever selected."""
    if r.version != "HTTP/1.1":
        raise Failure("101 with version %s" % r.version)
    if "websocket" not in r.tokens("upgrade"):
        raise Failure("101 without Upgrade: websocket: %r" % r.head)
    if "upgrade" not in r.tokens("connection"):
        raise Failure("101 without Connection: Upgrade: %r" % r.head)
    if key is not None and r.header("sec-websocket-accept") != ws_accept(key):
        raise Failure("wrong Sec-WebSocket-Accept %r for key %r"
                      % (r.header("sec-websocket-accept"), key))
    if r.header("sec-websocket-extensions") is not None:
        raise Failure("server selected an extension: %r"
                      % r.header("sec-websocket-extensions"))
    if r.header("sec-websocket-protocol") is not None:
        raise Failure("server selected a subprotocol: %r"
                      % r.header("sec-websocket-protocol"))


def short(x, n=80):
    s = repr(x)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def http_exchange(port, request, timeout=TIMEOUT):
    """Send raw request bytes on a new connection; return the Response and
    whether the server then closed the connection."""
    with Client(port, timeout) as c:
        c.send(request)
        return c.read_response()
