#!/usr/bin/python3
"""Process model: one worker per client, titles, crashes on either side,
signals, descriptor leaks, zombies, --max-clients."""

import asyncio
import os
import signal
import time
import unittest

import harness
from harness import (ChatTestCase, ChatClient, Daemon, http_get, proc_alive,
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

    async def assert_no_zombies(self, timeout=WAIT):
        ok = await async_wait_until(lambda: not self.daemon.zombies(),
                                    timeout)
        self.assertTrue(ok, "zombie children: %r" % self.daemon.zombies())


class TestWorkers(ProcessTestCase):

    async def test_master_title(self):
        title = proc_title(self.daemon.pid)
        self.assertTrue(title.startswith("wschatd: master"), title)

    async def test_one_worker_per_client(self):
        await self.wait_children(0)
        clients = [await self.client() for _ in range(5)]
        await self.wait_children(5)
        workers = self.daemon.children()
        ports = {c.local_port for c in clients}
        titled = {c.local_port: self.daemon.worker_for(c.local_port)
                  for c in clients}
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
        pid = self.daemon.worker_for(port)
        self.assertIsNotNone(pid, [proc_title(p)
                                   for p in self.daemon.children()])
        self.assertEqual(proc_title(pid), tag)
        await c.join("alice")
        ok = await async_wait_until(
            lambda: proc_title(pid) == tag + " alice", WAIT)
        self.assertTrue(ok, proc_title(pid))

    async def test_sigkill_worker(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        c = await self.joined("carol")
        await a.expect("join")
        await a.expect("join")
        await b.expect("join")
        victim = self.daemon.worker_for(b.local_port)
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
        await a.say("still alive")
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
        base = fd_count(self.daemon.pid)
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


if __name__ == "__main__":
    harness.run_main()
