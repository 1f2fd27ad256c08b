#!/usr/bin/python3
"""Service-manager integration: -n (config check), --pidfile, readiness
notification over $NOTIFY_SOCKET, socket activation through $LISTEN_FDS."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness
from harness import BINARY, WEBROOT, Daemon, http_get, wait_until

WAIT = 10.0


def run(args, env=None):
    p = subprocess.run([BINARY] + args, capture_output=True, text=True,
                       timeout=30, env=env)
    return p.returncode, p.stdout + p.stderr


class TestCheckConfig(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wschatd-n-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def conf(self, text):
        path = os.path.join(self.dir, "c.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_good_config(self):
        path = self.conf("history = 5\nwebroot = %s\n" % WEBROOT)
        status, out = run(["-n", "--config", path] + harness.privilege_args())
        self.assertEqual(status, 0, out)
        self.assertIn("good", out)

    def test_bad_key(self):
        path = self.conf("history = 5\nhistroy = 4\n")
        status, out = run(["-n", "--config", path])
        self.assertEqual(status, 1, out)
        self.assertIn(path + ":2", out)
        self.assertIn("histroy", out)

    def test_out_of_range(self):
        path = self.conf("max-clients = 0\n")
        status, out = run(["--check-config", "--config", path])
        self.assertEqual(status, 1, out)
        self.assertIn(path + ":1", out)
        self.assertIn("max-clients", out)

    def test_missing_webroot(self):
        status, out = run(["-n", "--config", "/dev/null", "--webroot",
                           os.path.join(self.dir, "nowhere")])
        self.assertEqual(status, 1, out)
        self.assertIn("nowhere", out)

    def test_check_does_not_start(self):
        # with -n nothing listens: the port stays free
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        status, out = run(["-n", "--config", "/dev/null", "--webroot", WEBROOT,
                           "--listen", "127.0.0.1:%d" % port]
                          + harness.privilege_args())
        self.assertEqual(status, 0, out)
        s = socket.socket()
        s.bind(("127.0.0.1", port))
        s.close()


class TestPidfile(unittest.TestCase):

    def test_pidfile_written_and_second_instance_refused(self):
        d = tempfile.mkdtemp(prefix="wschatd-pid-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "wschatd.pid")
        a = Daemon(["--pidfile", path]).start()
        self.addCleanup(a.stop)
        # written after the listeners are logged, before READY=1

        def pid_in_file():
            with open(path) as f:
                return f.read().strip()
        self.assertTrue(wait_until(lambda: pid_in_file() != "", WAIT))
        self.assertEqual(int(pid_in_file()), a.pid)
        status, out = run(["--foreground", "--listen", "127.0.0.1:0",
                           "--config", "/dev/null", "--webroot", WEBROOT,
                           "--pidfile", path] + harness.privilege_args())
        self.assertEqual(status, 1, out)
        self.assertIn("already running as pid %d" % a.pid, out)
        self.assertTrue(a.alive())


class TestNotify(unittest.TestCase):

    def test_ready_reloading_stopping(self):
        d = tempfile.mkdtemp(prefix="wschatd-notify-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(WAIT)
        self.addCleanup(sock.close)
        os.environ["NOTIFY_SOCKET"] = path
        try:
            daemon = Daemon().start()
        finally:
            del os.environ["NOTIFY_SOCKET"]
        self.addCleanup(daemon.stop)
        self.assertEqual(sock.recv(256), b"READY=1")
        # the service is up when it says so
        self.assertEqual(http_get(daemon.port, "/healthz").status, 200)
        os.kill(daemon.pid, signal.SIGHUP)
        self.assertEqual(sock.recv(256), b"RELOADING=1")
        self.assertEqual(sock.recv(256), b"READY=1")
        os.kill(daemon.pid, signal.SIGTERM)
        self.assertEqual(sock.recv(256), b"STOPPING=1")
        self.assertEqual(daemon.wait(WAIT), 0)


class TestSocketActivation(unittest.TestCase):

    def test_listener_from_listen_fds(self):
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        port = lsock.getsockname()[1]
        self.addCleanup(lsock.close)
        fd = lsock.fileno()

        def as_fd3():
            os.dup2(fd, 3)
        # LISTEN_PID must name the daemon itself: set it in a shell that
        # then execs the daemon (same pid).
        argv = ["/bin/sh", "-c",
                'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', BINARY,
                "--foreground", "--config", "/dev/null", "--webroot", WEBROOT,
                # ignored under socket activation:
                "--listen", "127.0.0.1:1"] + harness.privilege_args()
        p = subprocess.Popen(argv, preexec_fn=as_fd3, pass_fds=(fd,),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        lines = []

        def cleanup():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(WAIT)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.addCleanup(cleanup)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "listening on" in line:
                break
        text = "".join(lines)
        self.assertIn("socket activation", text)
        self.assertIn("listening on 127.0.0.1:%d" % port, text)
        self.assertNotIn("127.0.0.1:1\n", text)
        r = http_get(port, "/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"ok\n")


if __name__ == "__main__":
    harness.run_main()
