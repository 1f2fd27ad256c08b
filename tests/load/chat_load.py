#!/usr/bin/python3
"""Load and soak run for wschatd (not part of `make check`: it measures).

Starts the daemon on an ephemeral loopback port, then
  1. joins N clients, has S of them send M messages each, and checks that
     every client got every message, all in one identical order;
  2. reports the memory of the whole process tree (sum of Pss) with the
     N clients connected;
  3. runs C connect/join/leave cycles and checks the master's descriptors
     and that no zombie is left.

    tests/load/chat_load.py [--clients 1000] [--senders 10] [--messages 20]
                            [--cycles 1000] [--wschatd build/plain/src/wschatd]
"""
import argparse
import asyncio
import atexit
import json
import os
import pwd
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import websockets

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start(binary, extra):
    cmd = [binary, "--foreground", "--listen", "127.0.0.1:0", "--config",
           "/dev/null", "--webroot", os.path.join(TOP, "data", "www")] + extra
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("_wschatd")
            cmd += ["--user", "_wschatd"]
        except KeyError:
            cmd += ["--user", "nobody"]
        # The default chroot, the state directory, may not exist here.
        root = tempfile.mkdtemp(prefix="wschatd-chroot-")
        os.chmod(root, 0o755)
        atexit.register(os.rmdir, root)
        cmd += ["--chroot", root]
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    port = None
    deadline = time.time() + 10
    while time.time() < deadline:
        line = p.stderr.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        p.kill()
        sys.exit("daemon did not start")
    threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
    return p, port


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append((int(d), fields[0]))
    return out


def is_spawner(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().startswith(b"wschatd: spawner")
    except OSError:
        return False


def workers(pid):
    """(pid, state) of the workers: the spawner's children, and those the
    master adopted from a spawner that exited."""
    out = []
    for c, st in children(pid):
        if is_spawner(c):
            out += children(c)
        else:
            out.append((c, st))
    return out


def pss_kib(pid):
    total = 0
    for p in [pid] + [c for c, _ in children(pid)] + [c for c, _ in workers(pid)
                                                      if c not in dict(children(pid))]:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


async def room(port, n, senders, msgs):
    uri = f"ws://127.0.0.1:{port}/ws"
    clients = []
    t0 = time.time()
    sem = asyncio.Semaphore(50)

    async def connect(i):
        async with sem:
            ws = await websockets.connect(uri, max_size=None, ping_interval=None,
                                          open_timeout=60)
            await ws.send(json.dumps({"type": "join", "name": f"user{i}"}))
            while True:
                ev = json.loads(await ws.recv())
                if ev["type"] == "join" and ev["name"] == f"user{i}":
                    return ws
    clients = await asyncio.gather(*[connect(i) for i in range(n)])
    print(f"joined {n} clients in {time.time() - t0:.1f} s")

    total = senders * msgs
    seen = [[] for _ in range(n)]

    async def reader(i, ws):
        while len(seen[i]) < total:
            ev = json.loads(await ws.recv())
            if ev["type"] == "message":
                seen[i].append((ev["id"], ev["from"], ev["text"]))

    async def sender(i, ws):
        for k in range(msgs):
            await ws.send(json.dumps({"type": "message", "text": f"{i}:{k}"}))
            await asyncio.sleep(0.05)

    t0 = time.time()
    readers = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(clients)]
    await asyncio.gather(*[sender(i, clients[i]) for i in range(senders)])
    await asyncio.wait_for(asyncio.gather(*readers), 120)
    dt = time.time() - t0
    ref = seen[0]
    errors = 0
    ids = [e[0] for e in ref]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        errors += 1
        print("order: ids not strictly increasing")
    for i in range(1, n):
        if seen[i] != ref:
            errors += 1
    for s in range(senders):
        mine = [e[2] for e in ref if e[1] == f"user{s}"]
        if mine != [f"{s}:{k}" for k in range(msgs)]:
            errors += 1
            print(f"sender {s}: messages lost or reordered")
    print(f"{total} messages x {n} clients = {total * n} deliveries in {dt:.1f} s; "
          f"{errors} clients with a different or incomplete sequence")
    return clients, errors


async def close_all(clients):
    await asyncio.gather(*[c.close() for c in clients])


async def cycles(port, count):
    uri = f"ws://127.0.0.1:{port}/ws"
    for i in range(count):
        async with websockets.connect(uri, ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "join", "name": f"cycle{i}"}))
            while json.loads(await ws.recv())["type"] != "join":
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--senders", type=int, default=10)
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--wschatd", default=os.path.join(TOP, "build", "plain", "src", "wschatd"))
    a = ap.parse_args()

    p, port = start(a.wschatd, ["--rate-limit", "0",
                                "--max-clients", str(a.clients + 100),
                                "--max-clients-per-ip", "0"])
    failed = 0
    try:
        # The master has all its descriptors once its spawner runs.
        deadline = time.time() + 10
        while (not any(is_spawner(c) for c, _ in children(p.pid))
               and time.time() < deadline):
            time.sleep(0.05)
        base_fds = nfds(p.pid)
        loop = asyncio.new_event_loop()
        clients, errors = loop.run_until_complete(
            room(port, a.clients, a.senders, a.messages))
        failed += errors
        time.sleep(1)
        kids = workers(p.pid)
        pss = pss_kib(p.pid)
        print(f"{len(kids)} workers; memory (sum of Pss over the process tree): "
              f"{pss} KiB total, {pss / a.clients:.1f} KiB per connection")
        loop.run_until_complete(close_all(clients))
        deadline = time.time() + 30
        while workers(p.pid) and time.time() < deadline:
            time.sleep(0.2)
        t0 = time.time()
        loop.run_until_complete(cycles(port, a.cycles))
        deadline = time.time() + 30
        while workers(p.pid) and time.time() < deadline:
            time.sleep(0.2)
        left = workers(p.pid)
        zombies = [c for c, s in left if s == "Z"]
        fds = nfds(p.pid)
        print(f"{a.cycles} connect/join/leave cycles in {time.time() - t0:.1f} s: "
              f"master fds {base_fds} before, {fds} after; "
              f"{len(left)} children left, {len(zombies)} zombies")
        if fds != base_fds or left:
            failed += 1
        if p.poll() is not None:
            print("the daemon died")
            failed += 1
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)
    print("PASS" if failed == 0 else "FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
