#!/usr/bin/python3
"""RFC 6455 framing with a hand-written client: close codes for protocol
violations, ping/pong, fragmentation, the close handshake."""

import json
import os
import struct
import time
import unittest

import harness
from harness import (DaemonMixin, RawWS, OP_CONT, OP_TEXT, OP_BINARY,
                     OP_CLOSE, OP_PING, OP_PONG, close_payload)


class WSTestCase(DaemonMixin, unittest.TestCase):

    def ws(self, join=None):
        w = RawWS(self.daemon.port)
        self.addCleanup(w.close)
        w.handshake()
        if join:
            w.join(join)
        return w

    def assert_closed_with(self, w, codes):
        if isinstance(codes, int):
            codes = (codes,)
        code = w.recv_close()
        self.assertIn(code, codes, "server closed with %r, wanted %r"
                      % (code, codes))
        try:    # answer the close; the server may already be gone
            w.send_frame(OP_CLOSE, close_payload(1000))
        except OSError:
            pass
        w.expect_eof()
        return code


class TestHandshake(WSTestCase):

    def test_accept_and_no_extensions(self):
        w = RawWS(self.daemon.port)
        self.addCleanup(w.close)
        resp = w.handshake(extra=[("Sec-WebSocket-Extensions",
                                   "permessage-deflate; "
                                   "client_max_window_bits")])
        self.assertEqual(resp.status, 101)
        self.assertEqual(resp.header("upgrade", "").lower(), "websocket")
        self.assertIn("upgrade", resp.header("connection", "").lower())
        # we cannot inflate: the server must not agree to any extension
        self.assertIsNone(resp.header("sec-websocket-extensions"))
        w.join("alice")
        w.send_json({"type": "message", "text": "plain"})
        self.assertEqual(w.expect_type("message")["text"], "plain")


class TestCloseCodes(WSTestCase):

    def test_binary_message_1003(self):
        w = self.ws(join="alice")
        w.send_frame(OP_BINARY, b'{"type":"message","text":"x"}')
        self.assert_closed_with(w, 1003)

    def test_binary_before_join_1003(self):
        w = self.ws()
        w.send_frame(OP_BINARY, b"\x00\x01\x02")
        self.assert_closed_with(w, 1003)

    def test_invalid_utf8_1007(self):
        bad = [b"\xff", b"\xc3\x28", b"\xc0\x80",            # overlong NUL
               b"\xe0\x80\xaf", b"\xed\xa0\x80",               # surrogate
               b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",   # > U+10FFFF
               b'{"type":"message","text":"\xe2\x82"}',       # truncated
               b"\x80"]
        for payload in bad:
            with self.subTest(payload=payload):
                w = self.ws(join="u%d" % bad.index(payload))
                w.send_frame(OP_TEXT, payload)
                self.assert_closed_with(w, 1007)

    def test_invalid_utf8_at_end_of_fragments_1007(self):
        w = self.ws(join="alice")
        w.send_frame(OP_TEXT, b'{"type":"message","text":"\xe2', fin=False)
        w.send_frame(OP_CONT, b"\x82", fin=True)   # code point cut short
        self.assert_closed_with(w, 1007)

    def test_invalid_utf8_fails_fast_in_first_fragment(self):
        w = self.ws(join="alice")
        w.send_frame(OP_TEXT, b'{"type":"message","text":"\xff', fin=False)
        # no final fragment is sent: the validator must not wait for it
        self.assert_closed_with(w, 1007)

    def test_unmasked_frame_1002(self):
        w = self.ws(join="alice")
        w.send_frame(OP_TEXT, '{"type":"message","text":"x"}', mask=False)
        self.assert_closed_with(w, 1002)

    def test_unmasked_frame_before_join_1002(self):
        w = self.ws()
        w.send_frame(OP_PING, b"x", mask=False)
        self.assert_closed_with(w, 1002)

    def test_rsv_bits_1002(self):
        for rsv in (1, 2, 4):
            with self.subTest(rsv=rsv):
                w = self.ws()
                w.send_frame(OP_TEXT, '{"type":"join","name":"x"}', rsv=rsv)
                self.assert_closed_with(w, 1002)

    def test_reserved_opcodes_1002(self):
        for op in (0x3, 0x7, 0xB, 0xF):
            with self.subTest(opcode=op):
                w = self.ws()
                w.send_frame(op, b"abc")
                self.assert_closed_with(w, 1002)

    def test_control_frame_too_long_1002(self):
        w = self.ws()
        w.send_frame(OP_PING, b"p" * 126)
        self.assert_closed_with(w, 1002)

    def test_fragmented_control_frame_1002(self):
        w = self.ws()
        w.send_frame(OP_PING, b"part", fin=False)
        self.assert_closed_with(w, 1002)

    def test_continuation_without_start_1002(self):
        w = self.ws(join="alice")
        w.send_frame(OP_CONT, b'{"type":"message","text":"x"}')
        self.assert_closed_with(w, 1002)

    def test_new_message_inside_fragmented_one_1002(self):
        w = self.ws(join="alice")
        w.send_frame(OP_TEXT, b'{"type":"message",', fin=False)
        w.send_frame(OP_TEXT, b'{"type":"message","text":"x"}')
        self.assert_closed_with(w, 1002)


class TestPingAndFragments(WSTestCase):

    def test_ping_pong_same_payload(self):
        w = self.ws()
        for payload in (b"", b"hello", bytes(range(125)), os.urandom(64)):
            with self.subTest(len=len(payload)):
                w.send_frame(OP_PING, payload)
                fin, rsv, op, data = w.recv_frame()
                self.assertEqual((fin, rsv, op), (True, 0, OP_PONG))
                self.assertEqual(data, payload)
        w.join("alice")
        w.send_frame(OP_PING, b"after join")
        fin, rsv, op, data = w.recv_frame()
        self.assertEqual((op, data), (OP_PONG, b"after join"))

    def test_unsolicited_pong_ignored(self):
        w = self.ws(join="alice")
        w.send_frame(OP_PONG, b"whatever")
        w.send_json({"type": "message", "text": "still fine"})
        self.assertEqual(w.expect_type("message")["text"], "still fine")

    def test_fragmented_message_with_ping_inside(self):
        w = self.ws(join="alice")
        other = self.ws(join="bob")
        w.expect_type("join")
        text = "fragmented \u00e9\u20ac\U0001F600 message"
        raw = json.dumps({"type": "message", "text": text},
                         ensure_ascii=False).encode()
        # split inside the multibyte characters on purpose
        cut1 = raw.index("\u20ac".encode()) + 1
        cut2 = raw.index("\U0001F600".encode()) + 2
        w.send_frame(OP_TEXT, raw[:cut1], fin=False)
        w.send_frame(OP_PING, b"mid")
        w.send_frame(OP_CONT, raw[cut1:cut2], fin=False)
        w.send_frame(OP_CONT, raw[cut2:], fin=True)
        frames = []
        while True:
            fin, rsv, op, data = w.recv_frame()
            frames.append((op, data))
            if op == OP_TEXT:
                break
        self.assertIn((OP_PONG, b"mid"), frames)
        msg = json.loads(frames[-1][1].decode())
        self.assertEqual(msg["type"], "message")
        self.assertEqual(msg["text"], text)
        self.assertEqual(msg["from"], "alice")
        self.assertEqual(other.expect_type("message")["text"], text)

    def test_quiet_pauses_inside_a_message(self):
        # An idle worker frees its empty buffers after a second: what it
        # holds (a started message, half a frame, half a request) must
        # survive pauses longer than that.
        raw = RawWS(self.daemon.port)
        self.addCleanup(raw.close)
        req, key = harness.upgrade_request(self.daemon.port)
        raw.send(req[:20])
        time.sleep(1.5)
        raw.send(req[20:])
        head, raw.buf = harness.read_http_head(raw.sock)
        self.assertIn(b" 101 ", head.split(b"\r\n")[0])
        raw.join("alice")
        other = self.ws(join="bob")
        raw.expect_type("join")
        text = "after a pause " + "y" * 200
        msg = json.dumps({"type": "message", "text": text}).encode()
        raw.send_frame(OP_TEXT, msg[:30], fin=False)
        time.sleep(1.5)
        frame = harness.encode_frame(OP_CONT, msg[30:], fin=True)
        raw.send(frame[:5])
        time.sleep(1.5)
        raw.send(frame[5:])
        self.assertEqual(raw.expect_type("message")["text"], text)
        self.assertEqual(other.expect_type("message")["text"], text)
        # and after a quiet second, delivery still works both ways
        time.sleep(1.5)
        other.send_json({"type": "message", "text": "back"})
        self.assertEqual(raw.expect_type("message")["text"], "back")

    def test_many_small_fragments(self):
        w = self.ws(join="alice")
        raw = json.dumps({"type": "message", "text": "x" * 300}).encode()
        w.send_frame(OP_TEXT, raw[:1], fin=False)
        for i in range(1, len(raw) - 1):
            w.send_frame(OP_CONT, raw[i:i + 1], fin=False)
        w.send_frame(OP_CONT, raw[-1:], fin=True)
        self.assertEqual(w.expect_type("message")["text"], "x" * 300)

    def test_empty_fragments(self):
        w = self.ws(join="alice")
        w.send_frame(OP_TEXT, b"", fin=False)
        w.send_frame(OP_CONT, b'{"type":"message","text":"e"}', fin=False)
        w.send_frame(OP_CONT, b"", fin=True)
        self.assertEqual(w.expect_type("message")["text"], "e")

    def test_frame_split_across_tcp_writes(self):
        w = self.ws(join="alice")
        frame = harness.encode_frame(
            OP_TEXT, '{"type":"message","text":"slow"}')
        for i in range(len(frame)):
            w.send(frame[i:i + 1])
            time.sleep(0.002)
        self.assertEqual(w.expect_type("message")["text"], "slow")

    def test_two_frames_in_one_write(self):
        w = self.ws(join="alice")
        w.send(harness.encode_frame(OP_TEXT,
                                    '{"type":"message","text":"one"}') +
               harness.encode_frame(OP_TEXT,
                                    '{"type":"message","text":"two"}'))
        self.assertEqual(w.expect_type("message")["text"], "one")
        self.assertEqual(w.expect_type("message")["text"], "two")

    def test_16bit_length_frame(self):
        w = self.ws(join="alice")
        text = "L" * 1000
        w.send_json({"type": "message", "text": text})
        fin, rsv, op, data = w.recv_frame()
        self.assertEqual(op, OP_TEXT)
        self.assertEqual(json.loads(data)["text"], text)


class TestCloseHandshake(WSTestCase):

    def test_client_close_1000_echoed(self):
        w = self.ws(join="alice")
        w.send_frame(OP_CLOSE, close_payload(1000, "bye"))
        code = w.recv_close()
        self.assertEqual(code, 1000)
        w.expect_eof()

    def test_close_without_status(self):
        w = self.ws()
        w.send_frame(OP_CLOSE, b"")
        code = w.recv_close()
        self.assertIn(code, (None, 1000))
        w.expect_eof()

    def test_valid_codes_echoed(self):
        for sent in (1001, 3000, 4999):
            with self.subTest(code=sent):
                w = self.ws()
                w.send_frame(OP_CLOSE, close_payload(sent))
                self.assertIn(w.recv_close(), (sent, 1000))
                w.expect_eof()

    def test_invalid_close_codes_1002(self):
        for sent in (0, 999, 1004, 1005, 1006, 1015, 5000, 65535):
            with self.subTest(code=sent):
                w = self.ws()
                w.send_frame(OP_CLOSE, close_payload(sent))
                self.assert_closed_with(w, 1002)

    def test_one_byte_close_payload_1002(self):
        w = self.ws()
        w.send_frame(OP_CLOSE, b"\x03")
        self.assert_closed_with(w, 1002)

    def test_close_reason_invalid_utf8(self):
        w = self.ws()
        w.send_frame(OP_CLOSE, close_payload(1000, b"\xff\xfe"))
        self.assert_closed_with(w, (1007, 1002))

    def test_leave_after_close(self):
        a = self.ws(join="alice")
        b = self.ws(join="bob")
        a.expect_type("join")
        b.send_frame(OP_CLOSE, close_payload(1000))
        self.assertEqual(b.recv_close(), 1000)
        lv = a.expect_type("leave")
        self.assertEqual(lv["name"], "bob")


class TestMaxMessage(WSTestCase):
    daemon_args = ["--max-message", "1024"]

    def msg_of_size(self, size):
        head = '{"type":"message","text":"'
        tail = '"}'
        raw = head + "m" * (size - len(head) - len(tail)) + tail
        self.assertEqual(len(raw), size)
        return raw

    def test_exactly_max_message_accepted(self):
        w = self.ws(join="alice")
        raw = self.msg_of_size(1024)
        w.send_frame(OP_TEXT, raw)
        self.assertEqual(w.expect_type("message")["text"],
                         json.loads(raw)["text"])

    def test_one_over_max_message_1009(self):
        w = self.ws(join="alice")
        w.send_frame(OP_TEXT, self.msg_of_size(1025))
        self.assert_closed_with(w, 1009)

    def test_fragments_over_max_message_1009(self):
        w = self.ws(join="alice")
        raw = self.msg_of_size(1200).encode()
        w.send_frame(OP_TEXT, raw[:600], fin=False)
        w.send_frame(OP_CONT, raw[600:], fin=True)
        self.assert_closed_with(w, 1009)

    def test_fragments_exactly_max_message_accepted(self):
        w = self.ws(join="alice")
        raw = self.msg_of_size(1024).encode()
        w.send_frame(OP_TEXT, raw[:500], fin=False)
        w.send_frame(OP_CONT, raw[500:], fin=True)
        self.assertEqual(w.expect_type("message")["text"],
                         json.loads(raw)["text"])

    def test_huge_length_header_closes_at_once(self):
        w = self.ws(join="alice")
        # only the header: a frame that claims 10 MB; the server must not
        # wait for (or buffer) the payload
        frame = harness.encode_frame(OP_TEXT, b"", length=10 * 1024 * 1024)
        w.send(frame)
        self.assert_closed_with(w, 1009)

    def test_64bit_length_with_msb_set(self):
        w = self.ws()
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, 1 << 63) + b"\0\0\0\0"
        w.send(head)
        self.assert_closed_with(w, (1002, 1009))


if __name__ == "__main__":
    harness.run_main()
