#!/usr/bin/python3
"""Total order: every client sees every event in the same id order, with no
gaps, and each sender's messages in its sending order."""

import asyncio
import unittest

import harness
from harness import ChatTestCase

N_CLIENTS = 20
N_SENDERS = 5
N_EACH = 40
TOTAL = N_SENDERS * N_EACH
COLLECT_TIMEOUT = 120.0


async def collect(client, n_messages, events=None):
    """Events received until n_messages message events have arrived."""
    events = [] if events is None else events
    count = 0
    while count < n_messages:
        ev = await client.recv(timeout=COLLECT_TIMEOUT)
        events.append(ev)
        if ev.get("type") == "message":
            count += 1
    return events


async def send_all(client, tag, hold_last=0, gate=None):
    """Send N_EACH messages; the last hold_last ones only once gate is set."""
    for i in range(N_EACH):
        if gate is not None and i == N_EACH - hold_last:
            await gate.wait()
        await client.send_message("%s-%d" % (tag, i))
        if i % 4 == 3:
            await asyncio.sleep(0)     # let the other senders interleave


class TestTotalOrder(ChatTestCase):
    daemon_args = ["--rate-limit", "0", "--history", "250"]

    async def join_all(self, n):
        clients = []
        for i in range(n):
            c = await self.client()
            await c.join("user%02d" % i)
            clients.append(c)
        # drain the join events of later users so only messages remain
        for i, c in enumerate(clients):
            for j in range(i + 1, n):
                ev = await c.expect("join")
                self.assertEqual(ev["name"], "user%02d" % j)
        return clients

    def check_stream(self, events, sender_names):
        """events: everything a client received while joined throughout."""
        ids = [e["id"] for e in events]
        for a, b in zip(ids, ids[1:]):
            self.assertGreater(b, a, "ids not strictly increasing")
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))),
                         "gap in the event ids")
        msgs = [e for e in events if e["type"] == "message"]
        self.assertEqual(len(msgs), TOTAL)
        for k, name in enumerate(sender_names):
            texts = [m["text"] for m in msgs if m["from"] == name]
            self.assertEqual(texts, ["s%d-%d" % (k, i) for i in range(N_EACH)],
                             "messages of %s out of order or missing" % name)

    async def test_all_clients_same_order(self):
        clients = await self.join_all(N_CLIENTS)
        senders = clients[:N_SENDERS]
        sender_names = ["user%02d" % i for i in range(N_SENDERS)]
        readers = [asyncio.create_task(collect(c, TOTAL)) for c in clients]
        await asyncio.gather(*(send_all(s, "s%d" % k)
                               for k, s in enumerate(senders)))
        streams = await asyncio.gather(*readers)
        reference = None
        for i, events in enumerate(streams):
            with self.subTest(client=i):
                types = {e.get("type") for e in events}
                self.assertEqual(types, {"message"}, "unexpected events")
                for e in events:
                    self.assertEqual(set(e), {"type", "id", "ts", "from",
                                              "text"}, e)
                self.check_stream(events, sender_names)
                if reference is None:
                    reference = events
                else:
                    self.assertEqual(events, reference,
                                     "clients saw different streams")
        await asyncio.gather(*(c.expect_silence(0.3) for c in clients))

    async def test_late_joiner_sees_consistent_boundary(self):
        clients = await self.join_all(6)
        senders = clients[:N_SENDERS]
        watcher = clients[N_SENDERS]
        sender_names = ["user%02d" % i for i in range(N_SENDERS)]
        seen = []
        watch_task = asyncio.create_task(collect(watcher, TOTAL, seen))
        welcomed = asyncio.Event()
        # the first sender holds back its last 5 messages until the late
        # client is in, so that some messages surely follow the join; the
        # others keep sending while the join is in flight
        send_task = asyncio.ensure_future(asyncio.gather(
            *(send_all(s, "s%d" % k, hold_last=5 if k == 0 else 0,
                       gate=welcomed) for k, s in enumerate(senders))))
        # join in the middle of the stream
        ok = await harness.async_wait_until(
            lambda: len(seen) >= 20, harness.RECV_TIMEOUT, interval=0.001)
        self.assertTrue(ok)
        late = await self.client()
        welcome, own_join = await late.join("late")
        welcomed.set()
        await send_task
        full = await watch_task
        if not any(e.get("type") == "join" for e in full):
            full.append(await watcher.expect("join"))
        self.check_stream(full, sender_names)
        msgs = [e for e in full if e["type"] == "message"]
        joins = [e for e in full if e["type"] == "join"]
        self.assertEqual(joins, [own_join])
        before = [m for m in msgs if m["id"] < own_join["id"]]
        after = [m for m in msgs if m["id"] > own_join["id"]]
        self.assertGreaterEqual(len(before), 20)
        self.assertGreaterEqual(len(after), 5)
        self.assertEqual(welcome["history"], before,
                         "history is not exactly the messages before the join")
        live = []
        while len(live) < len(after):
            live.append(await late.expect("message"))
        self.assertEqual(live, after)
        await late.expect_silence(0.2)


if __name__ == "__main__":
    harness.run_main()
