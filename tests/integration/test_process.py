#!/usr/bin/python3
"""Process model: one worker per client, titles, crashes on either side,
signals, descriptor leaks, zombies, --max-clients."""

import asyncio
import os
import pwd
import signal
import socket
import time
import unittest

import harness
from harness import (ChatTestCase, ChatClient, http_get, proc_alive,
                     proc_title, fd_count, async_wait_until)

harness.become_subreaper()

WAIT = 10.0      # generous upper bound for "soon"


class ProcessTestCase(ChatTestCase):

    async def wait_children(self, n, timeout=WAIT):
        ok = await async_wait_until(
            lambda: len(self.daemon.children(include_zombies=False)) == n,
            timeout)
        self.assertTrue(ok, "expected %d workers, have %r" %
                        (n, self.daemon.children()))

    async def worker_of(self, client):
        """Pid of the worker serving client (titles are set just after
        fork, so wait for it)."""
        port = client.local_port
        await async_wait_until(lambda: self.daemon.worker_for(port), WAIT)
        return self.daemon.worker_for(port)

    async def settled_fd_count(self, quiet=1.0, timeout=WAIT):
        """The master's descriptor count once it has stopped changing for
        a while (a worker can be gone before the master has closed its
        broker socket)."""
        last, since = fd_count(self.daemon.pid), time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            now = fd_count(self.daemon.pid)
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return last

    async def assert_no_zombies(self, timeout=WAIT):
        ok = await async_wait_until(lambda: not self.daemon.zombies(),
                                    timeout)
        self.assertTrue(ok, "zombie children: %r" % self.daemon.zombies())


class TestWorkers(ProcessTestCase):

    async def test_master_title(self):
        # set during start-up, possibly just after "listening on" is logged
        ok = await async_wait_until(
            lambda: proc_title(self.daemon.pid).startswith("wschatd: master"),
            WAIT)
        self.assertTrue(ok, proc_title(self.daemon.pid))

    async def test_one_worker_per_client(self):
        await self.wait_children(0)
        clients = [await self.client() for _ in range(5)]
        await self.wait_children(5)
        workers = self.daemon.children()
        ports = {c.local_port for c in clients}
        titled = {c.local_port: await self.worker_of(c) for c in clients}
        self.assertEqual(set(titled.values()), set(workers), titled)
        self.assertEqual(set(titled), ports)
        for c in clients:
            await c.close()
        await self.wait_children(0)
        await self.assert_no_zombies()

    async def test_plain_http_uses_a_worker_too(self):
        # an open but idle HTTP connection has its own worker
        s = harness.connect_raw(self.daemon.port)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            await self.wait_children(1)
            s.sendall(b"Host: x\r\nConnection: close\r\n\r\n")
            r = harness.read_http_response(s)
            self.assertEqual(r.status, 200)
        finally:
            s.close()
        await self.wait_children(0)

    async def test_worker_title(self):
        c = await self.client()
        port = c.local_port
        tag = "wschatd: client 127.0.0.1:%d" % port
        await self.wait_children(1)
        pid = await self.worker_of(c)
        self.assertIsNotNone(pid, [proc_title(p)
                                   for p in self.daemon.children()])
        self.assertEqual(proc_title(pid), tag)
        await c.join("alice")
        ok = await async_wait_until(
            lambda: proc_title(pid) == tag + " alice", WAIT)
        self.assertTrue(ok, proc_title(pid))

    async def test_worker_holds_only_its_two_sockets(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        wa, wb = await self.worker_of(a), await self.worker_of(b)
        fa, fb, fm = (harness.proc_fds(wa), harness.proc_fds(wb),
                      harness.proc_fds(self.daemon.pid))
        # stdio, then the client (3) and the broker socket (4): nothing else
        self.assertEqual(sorted(fa), [0, 1, 2, 3, 4], fa)
        self.assertTrue(fa[3].startswith("socket:"), fa)
        self.assertTrue(fa[4].startswith("socket:"), fa)
        # the broker socket is the worker's own end, not the master's; the
        # client socket is shared with the master only, which writes the
        # room's frames to it (direct output, plain TCP: doc/HACKING.md)
        self.assertNotIn(fa[4], set(fm.values()), (fa, fm))
        self.assertIn(fa[3], set(fm.values()), (fa, fm))
        # and none of it is the other worker's
        self.assertFalse({fa[3], fa[4]} & {fb[3], fb[4]}, (fa, fb))

    async def test_sigkill_worker(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        c = await self.joined("carol")
        await a.expect("join")
        await a.expect("join")
        await b.expect("join")
        victim = await self.worker_of(b)
        self.assertIsNotNone(victim)
        os.kill(victim, signal.SIGKILL)
        for other in (a, c):
            ev = await other.expect("leave")
            self.assertEqual(ev["name"], "bob")
        code, _ = await b.wait_closed()
        self.assertEqual(code, 1006)          # no close frame: it was killed
        self.assertTrue(self.daemon.alive(), "master died with its worker")
        await self.wait_children(2)
        await self.assert_no_zombies()
        ok = await async_wait_until(lambda: not proc_alive(victim), WAIT)
        self.assertTrue(ok)
        # the room still works and the name is free again
        d = await self.client()
        w, _ = await d.join("bob")
        self.assertCountEqual(w["users"], ["alice", "bob", "carol"])
        for other in (a, c):
            self.assertEqual((await other.expect("join"))["name"], "bob")
        await a.say("still alive")
        self.assertEqual((await c.expect("message"))["text"], "still alive")
        self.assertEqual(http_get(self.daemon.port, "/healthz").status, 200)

    async def test_sigterm(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        idle = await self.client()           # upgraded but never joined
        await a.expect("join")
        await self.wait_children(3)
        workers = self.daemon.children()
        os.kill(self.daemon.pid, signal.SIGTERM)
        for c in (a, b, idle):
            code, _ = await c.wait_closed()
            self.assertEqual(code, 1001)
        status = await asyncio.get_running_loop().run_in_executor(
            None, self.daemon.wait, 5.0)
        self.assertEqual(status, 0, "master did not exit cleanly on SIGTERM")
        ok = await async_wait_until(
            lambda: not [p for p in workers if proc_alive(p)], WAIT)
        harness.reap(workers)
        self.assertTrue(ok, "workers survived SIGTERM")

    async def test_sigkill_master(self):
        clients = [await self.joined("u%d" % i) for i in range(3)]
        await self.wait_children(3)
        workers = self.daemon.children()
        self.daemon.proc.kill()
        self.daemon.proc.wait()
        ok = await async_wait_until(
            lambda: not [p for p in workers if proc_alive(p)], WAIT)
        harness.reap(workers)
        self.assertTrue(ok, "workers outlived the master: %r" %
                        [p for p in workers if proc_alive(p)])
        for c in clients:
            await c.wait_closed()

    async def test_descriptors_and_zombies_after_many_clients(self):
        # warm up once: lazily opened descriptors count as baseline
        c = await self.client()
        await c.join("warmup")
        await c.close()
        await self.wait_children(0)
        base = await self.settled_fd_count()
        for i in range(200):
            c = await ChatClient.connect(self.daemon)
            if i % 4 == 3:
                c.abort()                      # no join, no close handshake
                continue
            await c.join("cycle%d" % i)
            if i % 4 == 1:
                await c.say("hi")
            if i % 2:
                c.abort()
            else:
                await c.close()
        await self.wait_children(0, timeout=30)
        await self.assert_no_zombies()
        ok = await async_wait_until(
            lambda: fd_count(self.daemon.pid) == base, WAIT)
        self.assertTrue(ok, "master fds %d, baseline %d: %r" % (
            fd_count(self.daemon.pid), base,
            os.listdir("/proc/%d/fd" % self.daemon.pid)))
        # the room is empty again
        c = await self.client()
        w, _ = await c.join("last")
        self.assertEqual(w["users"], ["last"])


class TestMaxClients(ProcessTestCase):
    daemon_args = ["--max-clients", "3"]

    async def test_fourth_connection_503(self):
        clients = [await self.client() for _ in range(3)]
        await self.wait_children(3)
        loop = asyncio.get_running_loop()
        r = await loop.run_in_executor(None, http_get, self.daemon.port,
                                       "/healthz")
        self.assertEqual(r.status, 503, r)
        req, _ = harness.upgrade_request(self.daemon.port)
        r = await loop.run_in_executor(None, harness.http_request,
                                       self.daemon.port, req, True)
        self.assertEqual(r.status, 503, r)
        # the existing clients are unaffected
        await clients[0].join("alice")
        await clients[0].say("hello")
        # a slot frees up when one leaves
        await clients[2].close()
        await self.wait_children(2)
        r = await loop.run_in_executor(None, http_get, self.daemon.port,
                                       "/healthz")
        self.assertEqual(r.status, 200, r)


class TestPrivileges(ProcessTestCase):

    def ids(self, pid):
        out = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Uid", "Gid", "Groups"):
                    out[k] = [int(x) for x in v.split()]
        return out

    async def test_no_root_after_start(self):
        if os.geteuid() != 0:
            self.skipTest("not running as root")
        user = harness.privilege_args()[1]
        pw = pwd.getpwnam(user)
        c = await self.joined("alice")
        await self.wait_children(1)
        for pid in [self.daemon.pid] + self.daemon.children():
            with self.subTest(pid=pid, title=proc_title(pid)):
                ids = self.ids(pid)
                self.assertEqual(ids["Uid"], [pw.pw_uid] * 4, ids)
                self.assertEqual(ids["Gid"], [pw.pw_gid] * 4, ids)
                self.assertNotIn(0, ids["Groups"], ids)


class TestSlowClient(ProcessTestCase):
    daemon_args = ["--rate-limit", "0", "--max-text", "60000"]

    async def test_slow_reader_is_dropped_not_waited_for(self):
        # A client that never reads must not hold up the room: once its
        # queue (max-queue, 1 MiB by default) is full it is dropped, and the
        # clients that do read get every message.  The sender waits for the
        # echo of each message, so the readers can keep up; the volume
        # (300 x 60 kB) is well over what the kernel and the daemon buffer
        # for the silent client.
        slow = harness.RawWS(self.daemon.port)
        self.addCleanup(slow.close)
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.handshake()
        slow.join("slow")
        sender = await self.joined("sender")
        reader = await self.joined("reader")
        await sender.expect("join")
        n, size = 300, 60000
        got, left = [], []

        async def read_all():
            while len(got) < n or not left:
                ev = await reader.recv(timeout=60)
                if ev["type"] == "message":
                    got.append(ev["text"])
                elif ev["type"] == "leave":
                    left.append(ev["name"])

        task = asyncio.create_task(read_all())
        for i in range(n):
            text = "%05d" % i + "x" * (size - 5)
            await sender.send_message(text)
            while True:
                ev = await sender.recv(timeout=60)
                if ev["type"] == "message":
                    self.assertEqual(ev["text"][:5], "%05d" % i)
                    break
                self.assertEqual(ev, {"type": "leave", "id": ev["id"],
                                      "ts": ev["ts"], "name": "slow"})
            # lockstep with the reader too: only the silent client may
            # fall behind, however slowly this process runs
            ok = await async_wait_until(lambda: len(got) > i or task.done(),
                                        60)
            self.assertTrue(ok)
        await asyncio.wait_for(task, 60)
        self.assertEqual(left, ["slow"])
        self.assertEqual([t[:5] for t in got], ["%05d" % i for i in range(n)])
        self.assertTrue(all(len(t) == size for t in got))
        self.assertTrue(self.daemon.alive())
        await self.wait_children(2)


if __name__ == "__main__":
    harness.run_main()
