#!/usr/bin/python3
"""Started as root: chroot, the privilege drop, the spawner and the system
call filter of the workers, seen from /proc; a forbidden system call kills
only the worker that makes it."""

import asyncio
import os
import pwd
import re
import shutil
import select
import signal
import subprocess
import unittest

import harness
from harness import ChatTestCase, Daemon, async_wait_until, proc_alive

WAIT = 10.0
SIGSYS = 31

# Under valgrind there is no filter and no process title to find the
# processes by (its run of the integration tests is a short list anyway).
no_valgrind = unittest.skipIf(harness.VALGRIND, "not under valgrind")


def status(pid):
    """/proc/PID/status as a dict of its fields (text)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def ids(field):
    return [int(x) for x in field.split()]


def nproc_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max processes"):
                return line.split()[2:4]
    return None


@unittest.skipUnless(os.geteuid() == 0, "needs root")
@no_valgrind
class TestConfinement(ChatTestCase):

    def setUp(self):
        super().setUp()
        pw = pwd.getpwnam(harness.daemon_user())
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.root = os.path.realpath(harness.chroot_dir())

    def assert_confined(self, pid, what, filtered):
        st = status(pid)
        self.assertEqual(ids(st["Uid"]), [self.uid] * 4, (what, st["Uid"]))
        self.assertEqual(ids(st["Gid"]), [self.gid] * 4, (what, st["Gid"]))
        self.assertEqual(ids(st["Groups"]), [self.gid], (what, st["Groups"]))
        self.assertEqual(os.readlink("/proc/%d/root" % pid), self.root, what)
        if filtered:
            self.assertEqual(st["NoNewPrivs"], "1", what)
            self.assertEqual(st["Seccomp"], "2", what)

    async def worker_of(self, client):
        port = client.local_port
        self.assertTrue(await async_wait_until(
            lambda: self.daemon.worker_for(port), WAIT))
        return self.daemon.worker_for(port)

    async def test_master_spawner_and_worker_are_confined(self):
        a = await self.joined("alice")
        worker = await self.worker_of(a)
        spawners = self.daemon.spawners()
        self.assertEqual(len(spawners), 1, spawners)
        self.assert_confined(self.daemon.pid, "master", filtered=False)
        self.assert_confined(spawners[0], "spawner", filtered=True)
        self.assert_confined(worker, "worker", filtered=True)
        # The worker can never fork: no processes at all for it.
        self.assertEqual(nproc_limit(worker), ["0", "0"])
        self.assertIn("chroot %s" % harness.chroot_dir(),
                      self.daemon.stderr())

    async def test_forbidden_call_kills_only_that_worker(self):
        if shutil.which("gdb") is None:
            self.skipTest("gdb is not installed")
        a = await self.joined("alice")
        b = await self.joined("bob")
        c = await self.joined("carol")
        for x in (a, b):
            await x.expect("join")
        await a.expect("join")
        victim = await self.worker_of(b)
        others = [await self.worker_of(a), await self.worker_of(c)]
        master = self.daemon.pid
        spawner = self.daemon.spawners()[0]

        # socket() inside bob's worker, called through gdb (not open():
        # sanitizer builds let openat through for their reports).
        gdb = await asyncio.to_thread(
            subprocess.run, ["gdb", "-nx", "-batch", "-p", str(victim),
             "-ex", "call (int)socket(2, 1, 0)"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        self.assertTrue(await async_wait_until(
            lambda: not proc_alive(victim), WAIT),
            gdb.stdout.decode("utf-8", "replace"))
        self.assertTrue(await async_wait_until(
            lambda: "worker %d killed by signal %d" % (victim, SIGSYS)
            in self.daemon.stderr(), WAIT), self.daemon.stderr())

        # The others see bob leave and keep chatting.
        for x in (a, c):
            ev = await x.expect("leave")
            self.assertEqual(ev["name"], "bob")
        await a.say("still here")
        ev = await c.expect("message")
        self.assertEqual(ev["text"], "still here")
        self.assertTrue(self.daemon.alive())
        self.assertEqual(self.daemon.pid, master)
        self.assertTrue(proc_alive(spawner))
        for pid in others:
            self.assertTrue(proc_alive(pid))
        # And a newcomer can join.
        d = await self.joined("dave")
        await a.expect("join")
        await d.say("hello")


@no_valgrind
class TestSpawner(ChatTestCase):
    """The spawner: replaced when it dies and on SIGHUP; its workers live
    on as the master's."""

    async def new_spawner(self, old):
        ok = await async_wait_until(
            lambda: self.daemon.spawners() not in ([], [old]), WAIT)
        self.assertTrue(ok, "spawner %d not replaced: %r\n%s"
                        % (old, self.daemon.spawners(), self.daemon.stderr()))
        self.assertTrue(await async_wait_until(
            lambda: len(self.daemon.spawners()) == 1, WAIT),
            self.daemon.spawners())
        return self.daemon.spawners()[0]

    async def assert_adopted_and_reaped(self, client, worker):
        st = harness.proc_stat(worker)
        self.assertIsNotNone(st)
        self.assertEqual(st[1], self.daemon.pid)
        await client.close()
        self.assertTrue(await async_wait_until(
            lambda: harness.proc_stat(worker) is None, WAIT),
            "worker %d not reaped: %r" % (worker, harness.proc_stat(worker)))

    async def test_killed_spawner_is_replaced(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        await a.expect("join")
        wa = self.daemon.worker_for(a.local_port)
        old = self.daemon.spawners()[0]
        os.kill(old, signal.SIGKILL)
        new = await self.new_spawner(old)
        self.assertNotEqual(new, old)
        self.assertIn("spawner %d killed by signal 9" % old,
                      self.daemon.stderr())
        # The old workers go on, and a newcomer gets a worker.
        await a.say("after")
        self.assertEqual((await b.expect("message"))["text"], "after")
        c = await self.joined("carol")
        for x in (a, b):
            self.assertEqual((await x.expect("join"))["name"], "carol")
        await c.say("hi")
        self.assertEqual(harness.proc_stat(
            self.daemon.worker_for(c.local_port))[1], new)
        await self.assert_adopted_and_reaped(a, wa)
        self.assertEqual(self.daemon.zombies(), [])

    async def test_reload_starts_a_new_spawner(self):
        a = await self.joined("alice")
        wa = self.daemon.worker_for(a.local_port)
        old = self.daemon.spawners()[0]
        os.kill(self.daemon.pid, signal.SIGHUP)
        new = await self.new_spawner(old)
        self.assertNotEqual(new, old)
        self.assertFalse(proc_alive(old))
        b = await self.joined("bob")
        self.assertEqual((await a.expect("join"))["name"], "bob")
        await b.say("new spawner")
        self.assertEqual((await a.expect("message"))["text"], "new spawner")
        await self.assert_adopted_and_reaped(a, wa)
        self.assertEqual(self.daemon.zombies(), [])
        self.assertNotIn("killed by signal", self.daemon.stderr())


@no_valgrind
class TestSpawnerBusy(harness.DaemonMixin, unittest.TestCase):
    """A stopped spawner: SPAWN_QUEUE_MAX clients wait on its control
    socket, then the master stops accepting and the rest wait in the
    listen backlog; nobody is refused, and all are served once it goes
    on."""

    daemon_args = None

    def setUp(self):
        unittest.TestCase.setUp(self)

    def test_busy_spawner_holds_clients_back(self):
        with open(os.path.join(harness.REPO, "src", "wslimits.h")) as f:
            qlen = int(re.search(r"#define SPAWN_QUEUE_MAX\s+(\d+)",
                                 f.read()).group(1))
        d = self.start_daemon(extra=["--max-clients-per-ip", "0"])
        self.assertTrue(harness.wait_until(d.spawners, WAIT))
        spawner = d.spawners()[0]
        n = qlen + 16
        request = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: close\r\n\r\n")
        os.kill(spawner, signal.SIGSTOP)
        socks = []
        try:
            for i in range(n):
                s = harness.connect_raw(d.port, WAIT)
                socks.append(s)
                s.sendall(request)
            # Nothing is answered, not even with a refusal, while the
            # spawner cannot fork.
            ready, _, _ = select.select(socks, [], [], 1.0)
            self.assertEqual(ready, [])
        finally:
            os.kill(spawner, signal.SIGCONT)
        try:
            codes = []
            for s in socks:
                codes.append(s.recv(12)[9:12])
        finally:
            for s in socks:
                s.close()
        self.assertEqual(codes, [b"200"] * n)
        # Stopped and continued, the spawner is the same process.
        self.assertEqual(d.spawners(), [spawner])


@unittest.skipUnless(os.geteuid() == 0, "needs root")
@no_valgrind
class TestStart(unittest.TestCase):

    def run_daemon(self, args, timeout=10):
        p = subprocess.run([harness.BINARY] + args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def test_missing_chroot_is_fatal(self):
        if not os.path.exists(harness.BINARY):
            self.skipTest("daemon binary not built")
        missing = os.path.join(harness.chroot_dir(), "no-such-dir")
        rc, out = self.run_daemon(
            ["--foreground", "--listen", "127.0.0.1:0", "--config",
             "/dev/null", "--webroot", harness.WEBROOT, "--user",
             harness.daemon_user(), "--chroot", missing])
        self.assertEqual(rc, 1, out)
        self.assertIn("chroot directory %s" % missing, out)

    def test_default_config_directory_absent(self):
        """No -c and no directory for the default config file (a build
        never installed): defaults, chrooted, and a reload keeps working."""
        if not os.path.exists(harness.BINARY):
            self.skipTest("daemon binary not built")
        out = subprocess.run([harness.BINARY, "--help"], capture_output=True,
                             text=True).stdout
        path = re.search(r"--config FILE\s+config file \(default (\S+)\)",
                         out).group(1)
        if os.path.exists(os.path.dirname(path)):
            self.skipTest("%s exists here" % os.path.dirname(path))
        d = Daemon(argv=["--foreground", "--listen", "127.0.0.1:0",
                         "--webroot", harness.WEBROOT])
        d.start()
        self.addCleanup(d.stop)
        self.assertTrue(harness.wait_until(
            lambda: " started" in d.stderr(), WAIT), d.stderr())
        self.assertIn("chroot " + harness.chroot_dir(), d.stderr())
        os.kill(d.pid, signal.SIGHUP)
        self.assertTrue(harness.wait_until(
            lambda: "configuration reloaded" in d.stderr(), WAIT),
            d.stderr())
        self.assertNotIn("keeping the running configuration", d.stderr())
        self.assertTrue(d.alive())
        asyncio.run(self.one_client(d))

    def test_unprivileged_start_says_so_and_filters(self):
        """Started as the daemon user: no chroot and no drop, said once;
        the workers are filtered all the same."""
        if not os.path.exists(harness.BINARY):
            self.skipTest("daemon binary not built")
        pw = pwd.getpwnam(harness.daemon_user())

        def demote():
            os.setgroups([pw.pw_gid])
            os.setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid)
            os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)

        d = Daemon(user=False)
        d.argv += ["--chroot", "/nonexistent"]
        real_popen = subprocess.Popen

        def popen(*a, **kw):
            kw["preexec_fn"] = demote
            return real_popen(*a, **kw)
        subprocess.Popen = popen
        try:
            try:
                d.start()
            except AssertionError as e:
                if "Permission denied" in str(e):
                    self.skipTest("binary or webroot not readable by %s"
                                  % pw.pw_name)
                raise
        finally:
            subprocess.Popen = real_popen
        self.addCleanup(d.stop)
        asyncio.run(self.one_client(d))
        self.assertEqual(d.stderr().count("not started as root"), 1,
                         d.stderr())
        self.assertNotIn("chroot /nonexistent", d.stderr())

    async def one_client(self, d):
        c = await harness.ChatClient.connect(d)
        try:
            await c.join("eve")
            pid = d.worker_for(c.local_port)
            self.assertIsNotNone(pid)
            self.assertEqual(status(pid)["Seccomp"], "2")
            self.assertEqual(status(d.pid)["Seccomp"], "0")
        finally:
            await c.close()


if __name__ == "__main__":
    harness.run_main()
