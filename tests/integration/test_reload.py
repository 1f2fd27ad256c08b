#!/usr/bin/python3
"""SIGHUP: the config file is read again; a bad one is refused and the
running configuration kept."""

import os
import shutil
import signal
import tempfile
import unittest

import harness
from harness import ChatTestCase, Daemon, async_wait_until

WAIT = 10.0


class TestReload(ChatTestCase):

    def make_daemon(self):
        # Readable by the daemon user too: the reload happens after the
        # privilege drop.
        d = tempfile.mkdtemp(prefix="wschatd-reload-")
        os.chmod(d, 0o755)
        self.addCleanup(shutil.rmtree, d, True)
        self.config_path = os.path.join(d, "wschatd.conf")
        self.write("history = 3\n")
        return Daemon(argv=["--foreground", "--listen", "127.0.0.1:0",
                            "--webroot", harness.WEBROOT,
                            "--config", self.config_path])

    def write(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)
        os.chmod(self.config_path, 0o644)

    async def hup_and_wait(self, marker):
        before = self.daemon.stderr().count(marker)
        os.kill(self.daemon.pid, signal.SIGHUP)
        ok = await async_wait_until(
            lambda: self.daemon.stderr().count(marker) > before, WAIT)
        self.assertTrue(ok, self.daemon.stderr())

    async def history_len(self, name):
        c = await self.client()
        welcome, _ = await c.join(name)
        await c.close()
        return len(welcome["history"])

    async def test_reload_applies_and_bad_file_is_refused(self):
        a = await self.joined("alice")
        for i in range(4):
            await a.say("m%d" % i)
        self.assertEqual(await self.history_len("b1"), 3)

        self.write("history = 1\n")
        await self.hup_and_wait("configuration reloaded")
        self.assertEqual(await self.history_len("b2"), 1)
        # the room survived the reload
        await a.send_message("still here")
        while True:
            ev = await a.recv()
            if ev["type"] == "message":
                break
            self.assertIn(ev["type"], ("join", "leave"), ev)
        self.assertEqual(ev["text"], "still here")

        self.write("history = 2\nno-such-key = 1\n")
        await self.hup_and_wait("keeping the running configuration")
        self.assertIn(self.config_path + ":2", self.daemon.stderr())
        self.assertTrue(self.daemon.alive())
        self.assertEqual(await self.history_len("b3"), 1)


if __name__ == "__main__":
    harness.run_main()
