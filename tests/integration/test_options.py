#!/usr/bin/python3
"""Command line and configuration file."""

import os
import shutil
import socket
import subprocess
import tempfile
import unittest

import harness
from harness import ChatTestCase, Daemon, http_get

OPTIONS = ["--foreground", "--listen", "--webroot", "--config", "--user",
           "--chroot",
           "--history", "--max-clients", "--max-message", "--max-text",
           "--rate-limit", "--rate-burst", "--debug", "--help", "--version"]


def run(args, timeout=10):
    """Run the binary to completion; (status, stdout+stderr)."""
    if not os.path.exists(harness.BINARY):
        raise unittest.SkipTest("daemon binary not built")
    p = subprocess.Popen([harness.BINARY] + args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("%s did not exit: %r" % (args, err[-2000:]))
    text = (out + err).decode("utf-8", "replace")
    for marker in harness.SANITIZER_MARKERS:
        if marker in text:
            raise AssertionError("%s: sanitizer report:\n%s" % (args, text))
    return p.returncode, text, out.decode("utf-8", "replace")


# the arguments that keep a wrongly accepted invocation harmless
SAFE = ["--foreground", "--listen", "127.0.0.1:0"]


class TestCommandLine(unittest.TestCase):

    def test_help(self):
        status, text, out = run(["--help"])
        self.assertEqual(status, 0, text)
        for opt in OPTIONS:
            self.assertIn(opt, text, "--help does not mention %s" % opt)

    def test_version(self):
        status, text, out = run(["--version"])
        self.assertEqual(status, 0, text)
        self.assertIn("wschatd", text)
        self.assertRegex(text, r"\d+\.\d+")

    def test_unknown_option(self):
        status, text, _ = run(SAFE + ["--no-such-option"]
                              + harness.privilege_args())
        self.assertEqual(status, 1, text)
        self.assertTrue(text.strip(), "no message for an unknown option")

    def test_bad_numbers(self):
        for args in (["--history", "abc"], ["--max-clients", "-3"],
                     ["--rate-limit", "1x"], ["--max-text", ""],
                     ["--max-message", "99999999999999999999999"]):
            with self.subTest(args=args):
                status, text, _ = run(SAFE + ["--config", "/dev/null"] + args
                                      + harness.privilege_args())
                self.assertEqual(status, 1, text)

    def test_missing_config(self):
        status, text, _ = run(SAFE + ["--config", "/nonexistent/wschatd.conf"]
                              + harness.privilege_args())
        self.assertEqual(status, 1, text)
        self.assertIn("/nonexistent/wschatd.conf", text)


class ConfigMixin:

    def write_config(self, text):
        d = tempfile.mkdtemp(prefix="wschatd-conf-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "conf")
        with open(path, "w") as f:
            f.write(text)
        return path


class TestBadConfig(ConfigMixin, unittest.TestCase):

    def test_bad_key_names_file_and_line(self):
        path = self.write_config("# a comment\nhistory = 3\nbogus = 1\n")
        status, text, _ = run(SAFE + ["--config", path]
                              + harness.privilege_args())
        self.assertEqual(status, 1, text)
        self.assertIn(path + ":3", text)

    def test_bad_value_names_file_and_line(self):
        path = self.write_config("\n\n# x\n\nhistory = lots\n")
        status, text, _ = run(SAFE + ["--config", path]
                              + harness.privilege_args())
        self.assertEqual(status, 1, text)
        self.assertIn(path + ":5", text)

    def test_line_without_equals(self):
        path = self.write_config("history = 3\njust some words\n")
        status, text, _ = run(SAFE + ["--config", path]
                              + harness.privilege_args())
        self.assertEqual(status, 1, text)
        self.assertIn(path + ":2", text)


class TestConfigFile(ConfigMixin, ChatTestCase):

    def make_daemon(self):
        path = self.write_config(
            "# wschatd test configuration\n"
            "\n"
            "listen = 127.0.0.1:0\n"
            "   # indented comment\n"
            "history = 3\n"
            "max-clients = 2\n"
            "webroot = %s\n" % harness.WEBROOT)
        self.config_path = path
        return Daemon(argv=["--foreground", "--config", path]
                      + self.extra_args)

    extra_args = []

    async def test_config_applies(self):
        a = await self.joined("alice")
        for i in range(5):
            await a.say("h%d" % i)
        b = await self.client()
        w, _ = await b.join("bob")
        self.assertEqual([m["text"] for m in w["history"]],
                         ["h2", "h3", "h4"])
        # max-clients = 2: a third connection is refused
        r = http_get(self.daemon.port, "/healthz")
        self.assertEqual(r.status, 503, r)


class TestCommandLineOverridesConfig(TestConfigFile):
    extra_args = ["--history", "1", "--max-clients", "5"]

    async def test_config_applies(self):
        a = await self.joined("alice")
        for i in range(5):
            await a.say("h%d" % i)
        b = await self.client()
        w, _ = await b.join("bob")
        self.assertEqual([m["text"] for m in w["history"]], ["h4"])
        r = http_get(self.daemon.port, "/healthz")
        self.assertEqual(r.status, 200, r)



def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class TestListen(unittest.TestCase):

    @unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback")
    def test_ipv6_listener(self):
        d = Daemon(argv=["--foreground", "--listen", "[::1]:0",
                         "--webroot", harness.WEBROOT, "--config",
                         "/dev/null"])
        d.start()
        self.addCleanup(d.stop)
        self.assertEqual(d.host, "::1")
        with socket.create_connection(("::1", d.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: [::1]\r\n"
                      b"Connection: close\r\n\r\n")
            r = harness.read_http_response(s)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"ok\n")

    def test_bad_listen_address(self):
        for addr in ("nonsense", "127.0.0.1:99999", "127.0.0.1:", "[::1"):
            with self.subTest(addr=addr):
                status, text, _ = run(["--foreground", "--listen", addr,
                                       "--config", "/dev/null"]
                                      + harness.privilege_args())
                self.assertEqual(status, 1, text)

if __name__ == "__main__":
    harness.run_main()
