#!/usr/bin/python3
"""Direct output: for plain TCP clients the master writes the room's frames
to the client socket itself, and the worker hands it its own frames (pong,
errors, close).  These tests check that the two never interleave inside a
frame, that the close frame is the last thing written before the FIN, that
the master lets go of every client socket, and that the worker-written path
takes over when the master runs short of descriptors
(doc/HACKING.md, "Direct output")."""

import json
import struct
import unittest

import harness
from harness import (Daemon, DaemonMixin, RawWS, OP_CLOSE, OP_PING,
                     OP_PONG, OP_TEXT, close_payload, fd_count, proc_fds,
                     wait_until)

WAIT = 10.0
N = 300


class TestDirectOutput(DaemonMixin, unittest.TestCase):
    daemon_args = ["--rate-limit", "0"]

    def raw(self, name):
        c = RawWS(self.daemon.port)
        self.addCleanup(c.close)
        c.handshake()
        c.join(name)
        return c

    def test_pongs_and_room_frames_stay_whole(self):
        a = self.raw("alice")
        b = self.raw("bob")
        a.expect_type("join")           # bob's
        # Both at once: alice's pongs come from her worker, bob's
        # messages from the room; both reach alice over one socket.
        pings = b"".join(harness.encode_frame(OP_PING, b"p%d" % i)
                         for i in range(N))
        texts = b"".join(harness.encode_frame(
            OP_TEXT, b'{"type":"message","text":"m%d"}' % i)
            for i in range(N))
        a.send(pings)
        b.send(texts)
        pongs, msgs = [], []
        while len(pongs) < N or len(msgs) < N:
            fin, rsv, op, payload = a.recv_frame(WAIT)
            self.assertTrue(fin)
            self.assertEqual(rsv, 0)
            if op == OP_PONG:
                pongs.append(payload)
            else:
                self.assertEqual(op, OP_TEXT, payload[:80])
                ev = json.loads(payload)
                self.assertEqual(ev["type"], "message", ev)
                self.assertEqual(ev["from"], "bob")
                msgs.append(ev["text"])
        self.assertEqual(pongs, [b"p%d" % i for i in range(N)])
        self.assertEqual(msgs, ["m%d" % i for i in range(N)])

    def test_close_frame_is_last_before_fin(self):
        a = self.raw("alice")
        b = self.raw("bob")
        a.expect_type("join")
        b.send(b"".join(harness.encode_frame(
            OP_TEXT, b'{"type":"message","text":"x%d"}' % i)
            for i in range(50)))
        # bob's first message is in flight to alice when she closes
        self.assertEqual(a.expect_type("message")["text"], "x0")
        a.send_frame(OP_CLOSE, close_payload(1000))
        frames = []
        while True:
            try:
                frames.append(a.recv_frame(WAIT))
            except EOFError:
                break
        self.assertTrue(frames, "no close frame")
        ops = [f[2] for f in frames]
        self.assertEqual(ops[-1], OP_CLOSE, ops)
        self.assertEqual(ops.count(OP_CLOSE), 1, ops)
        self.assertEqual(struct.unpack("!H", frames[-1][3][:2])[0], 1000)
        self.assertTrue(all(op == OP_TEXT for op in ops[:-1]), ops)
        # and she has left the room
        ev = b.recv_json(WAIT)
        while ev["type"] == "message":
            ev = b.recv_json(WAIT)
        self.assertEqual((ev["type"], ev["name"]), ("leave", "alice"))

    def test_master_lets_go_of_client_sockets(self):
        keep = self.raw("keeper")
        base = fd_count(self.daemon.pid)
        for i in range(30):
            c = RawWS(self.daemon.port)
            c.handshake()
            c.join("c%d" % i)
            if i % 3 == 0:
                c.send_frame(OP_CLOSE, close_payload(1000))
                self.assertEqual(c.recv_close(WAIT), 1000)
                c.expect_eof(WAIT)
            c.close()               # or just gone, without a close
        self.assertTrue(wait_until(
            lambda: fd_count(self.daemon.pid) == base, WAIT),
            (base, fd_count(self.daemon.pid)))
        # the room still works for the one that stayed
        keep.send_json({"type": "message", "text": "still here"})
        self.assertEqual(keep.expect_message(timeout=WAIT)["text"],
                         "still here")


class TestDescriptorBudget(unittest.TestCase):
    """With RLIMIT_NOFILE at 100 the master holds at most (100 - 64) / 2 =
    18 client sockets; the clients past that get the worker-written path,
    and every client still gets every event."""

    LIMIT = 100
    HELD = (LIMIT - 64) // 2
    CLIENTS = HELD + 6

    def test_worker_path_past_the_budget(self):
        d = Daemon(["--rate-limit", "0"])
        d.argv = ["prlimit", "--nofile=%d:%d" % (self.LIMIT, self.LIMIT)] + \
            d.argv
        d.start()
        self.addCleanup(d.stop)
        clients = []
        for i in range(self.CLIENTS):
            c = RawWS(d.port)
            self.addCleanup(c.close)
            c.handshake()
            c.join("u%d" % i)
            clients.append(c)
        master = set(proc_fds(d.pid).values())
        held = 0
        for c in clients:
            w = d.worker_for(c.sock.getsockname()[1])
            self.assertIsNotNone(w)
            if proc_fds(w)[3] in master:
                held += 1
        self.assertEqual(held, self.HELD)
        # everyone hears the first and the last to join
        for sender in (clients[0], clients[-1]):
            sender.send_json({"type": "message", "text": "hi all"})
            for c in clients:
                self.assertEqual(c.expect_message(timeout=WAIT)["text"],
                                 "hi all")


if __name__ == "__main__":
    harness.run_main()
