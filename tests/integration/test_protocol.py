#!/usr/bin/python3
"""Chat protocol: join/welcome, message fan-out, leave, history, every error
code of PROTOCOL.md, names and text limits."""

import asyncio
import json
import time
import unittest

import harness
from harness import ChatTestCase, check_event


class TestJoinAndMessages(ChatTestCase):

    async def test_join_welcome_then_own_join(self):
        c = await self.client()
        t0 = harness.now_ms()
        await c.send({"type": "join", "name": "alice"})
        welcome = await c.recv()
        self.assertEqual(welcome.get("type"), "welcome", welcome)
        self.assertEqual(welcome["name"], "alice")
        self.assertEqual(welcome["users"], ["alice"])
        self.assertEqual(welcome["history"], [])
        ev = await c.recv()
        check_event(self, ev, "join", name="alice")
        self.assertGreaterEqual(ev["ts"], t0 - 2000)
        self.assertLessEqual(ev["ts"], harness.now_ms() + 2000)
        await c.expect_silence(0.3)

    async def test_message_echo_and_fanout(self):
        a = await self.joined("alice")
        b = await self.client()
        wb, jb = await b.join("bob")
        self.assertCountEqual(wb["users"], ["alice", "bob"])
        ja = await a.expect("join")
        self.assertEqual(ja, jb)            # same event, same id/ts

        await a.send_message("hello bob")
        ea = await a.expect("message")
        eb = await b.expect("message")
        check_event(self, ea, "message", **{"from": "alice",
                                            "text": "hello bob"})
        self.assertEqual(ea, eb)
        self.assertGreater(ea["id"], jb["id"])

        await b.send_message("hi alice")
        eb2 = await b.expect("message")
        ea2 = await a.expect("message")
        check_event(self, ea2, "message", **{"from": "bob",
                                             "text": "hi alice"})
        self.assertEqual(ea2, eb2)
        self.assertGreater(ea2["id"], ea["id"])

    async def test_users_lists_everyone(self):
        names = ["u1", "u2", "u3", "u4"]
        clients = []
        for i, n in enumerate(names):
            c = await self.client()
            w, _ = await c.join(n)
            self.assertCountEqual(w["users"], names[:i + 1])
            self.assertIn(n, w["users"])
            for earlier in clients:   # everyone sees the new join
                check_event(self, await earlier.expect("join"), "join",
                            name=n)
            clients.append(c)

    async def test_leave_seen_by_others(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        jb = await a.expect("join")
        await b.close()
        lv = await a.expect("leave")
        check_event(self, lv, "leave", name="bob")
        self.assertGreater(lv["id"], jb["id"])
        # bob is gone from the user list, and the name is free again
        c = await self.client()
        w, _ = await c.join("bob")
        self.assertCountEqual(w["users"], ["alice", "bob"])
        check_event(self, await a.expect("join"), "join", name="bob")

    async def test_leave_on_abrupt_disconnect(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        await a.expect("join")
        b.abort()                       # TCP gone, no close handshake
        check_event(self, await a.expect("leave"), "leave", name="bob")

    async def test_unjoined_client_leaving_is_silent(self):
        a = await self.joined("alice")
        x = await self.client()
        await x.close()
        await asyncio.sleep(0.3)
        c = await self.joined("carol")
        # the next event alice sees is carol's join, no leave for x
        check_event(self, await a.expect("join"), "join", name="carol")

    async def test_ids_strictly_increasing(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        ids = [(await a.expect("join"))["id"]]
        for i in range(10):
            await (a if i % 2 else b).send_message("m%d" % i)
            ev = await a.expect("message")
            await b.expect("message")
            ids.append(ev["id"])
        await b.close()
        ids.append((await a.expect("leave"))["id"])
        self.assertEqual(ids, sorted(set(ids)), ids)

    async def test_unknown_fields_ignored(self):
        a = await self.client()
        await a.send({"type": "join", "name": "alice", "colour": "red",
                      "extra": {"x": [1, 2]}})
        w = await a.expect("welcome")
        self.assertEqual(w["name"], "alice")
        await a.expect("join")
        await a.send({"type": "message", "text": "hi", "to": "nobody",
                      "id": 12345, "ts": 1})
        m = await a.expect("message")
        self.assertEqual(m["text"], "hi")
        self.assertEqual(m["from"], "alice")
        self.assertNotEqual(m["id"], 12345)

    async def test_text_is_transported_verbatim(self):
        a = await self.joined("alice")
        for text in ['quote " backslash \\ slash /', "tab\tnewline\n",
                     "caf\u00e9 \u20ac \U0001F600",
                     "<script>alert(1)</script>", "  spaces kept  "]:
            m = await a.say(text)
            self.assertEqual(m["text"], text)
        # the same with \\u escapes on the wire, including a surrogate pair
        await a.send(json.dumps({"type": "message",
                                 "text": "\u00e9\U0001F600"},
                                ensure_ascii=True))
        m = await a.expect("message")
        self.assertEqual(m["text"], "\u00e9\U0001F600")


    async def test_text_with_nul_character(self):
        # U+0000 is valid UTF-8 and valid in a JSON string: no truncation
        a = await self.joined("alice")
        m = await a.say("before\u0000after")
        self.assertEqual(m["text"], "before\u0000after")


class TestHistory(ChatTestCase):
    daemon_args = ["--history", "3"]

    async def test_history_keeps_last_n(self):
        a = await self.joined("alice")
        sent = []
        for i in range(5):
            sent.append(await a.say("msg %d" % i))
        b = await self.client()
        w, _ = await b.join("bob")
        self.assertEqual(len(w["history"]), 3, w)
        self.assertEqual(w["history"], sent[2:])
        for ev in w["history"]:
            check_event(self, ev, "message", **{"from": "alice"})
        self.assertEqual([e["text"] for e in w["history"]],
                         ["msg 2", "msg 3", "msg 4"])

    async def test_history_only_messages(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        await a.expect("join")
        await a.say("one")
        await b.expect("message")
        await b.close()
        await a.expect("leave")
        c = await self.client()
        w, _ = await c.join("carol")
        self.assertEqual([e["type"] for e in w["history"]], ["message"])
        self.assertEqual(w["history"][0]["text"], "one")


class TestHistoryDefault(ChatTestCase):
    daemon_args = ["--rate-limit", "0"]

    async def test_default_history_is_50(self):
        a = await self.joined("alice")
        for i in range(55):
            await a.send_message("n%d" % i)
        for i in range(55):
            self.assertEqual((await a.expect("message"))["text"], "n%d" % i)
        b = await self.client()
        w, _ = await b.join("bob")
        self.assertEqual([e["text"] for e in w["history"]],
                         ["n%d" % i for i in range(5, 55)])
        ids = [e["id"] for e in w["history"]]
        self.assertEqual(ids, sorted(set(ids)))


class TestErrors(ChatTestCase):

    async def assert_still_works(self, c, joined=True, name="ok"):
        if joined:
            await c.say("still here")
        else:
            await c.join(name)

    async def test_bad_json(self):
        c = await self.client()
        for payload in ["not json", "{", '{"type":"join",}', "[1,2,3]",
                        '["join"]', '"a string"', "42", "null", "true", ""]:
            with self.subTest(payload=payload):
                await c.send(payload)
                await c.expect_error("bad_json")
        await self.assert_still_works(c, joined=False, name="alice")
        for payload in ["not json", '[{"type":"message","text":"x"}]',
                        '"str"']:
            await c.send(payload)
            await c.expect_error("bad_json")
        await self.assert_still_works(c)

    async def test_unknown_type(self):
        c = await self.client()
        for obj in [{}, {"name": "alice"}, {"type": "foo"},
                    {"type": "JOIN", "name": "x"}, {"type": "welcome"}]:
            with self.subTest(obj=obj):
                await c.send(obj)
                await c.expect_error("unknown_type")
        await self.assert_still_works(c, joined=False, name="alice")
        await c.send({"type": "foo", "text": "x"})
        await c.expect_error("unknown_type")
        await c.send({"text": "x"})
        await c.expect_error("unknown_type")
        await self.assert_still_works(c)

    async def test_not_joined(self):
        c = await self.client()
        obs = await self.joined("observer")
        await c.send_message("hello?")
        await c.expect_error("not_joined")
        await obs.expect_silence(0.3)
        await self.assert_still_works(c, joined=False, name="alice")

    async def test_already_joined(self):
        c = await self.joined("alice")
        await c.send({"type": "join", "name": "alice"})
        await c.expect_error("already_joined")
        await c.send({"type": "join", "name": "other"})
        await c.expect_error("already_joined")
        await self.assert_still_works(c)
        d = await self.client()
        w, _ = await d.join("bob")
        self.assertCountEqual(w["users"], ["alice", "bob"])

    async def test_name_invalid(self):
        c = await self.client()
        bad = ["", " ", "   \t  ", "\n", "a" * 33, "\u00e9" * 33,
               "\U0001F600" * 33, "a\x01b", "tab\tinside", "a\u0000b",
               "\u007f", "x\u0085y", "new\nline", "x\u009f"]
        for name in bad:
            with self.subTest(name=name):
                await c.send({"type": "join", "name": name})
                await c.expect_error("name_invalid")
        await self.assert_still_works(c, joined=False, name="alice")

    async def test_name_limits(self):
        # exactly 32 code points, including 4-byte ones
        for name in ["a" * 32, "\U0001F600" * 32, "\u00e9" * 32,
                     "  " + "b" * 32 + "  "]:
            with self.subTest(name=name):
                c = await self.client()
                await c.join(name, expect_name=name.strip())
                await c.close()
        # the emoji name again, escaped as surrogate pairs on the wire
        c = await self.client()
        await c.send(json.dumps({"type": "join", "name": "\U0001F431" * 32},
                                ensure_ascii=True))
        w = await c.expect("welcome")
        self.assertEqual(w["name"], "\U0001F431" * 32)

    async def test_name_trimmed(self):
        c = await self.client()
        w, j = await c.join("  bob  ", expect_name="bob")
        self.assertIn("bob", w["users"])
        self.assertNotIn("  bob  ", w["users"])
        m = await c.say("x")
        self.assertEqual(m["from"], "bob")

    async def test_name_taken(self):
        a = await self.joined("Alice")
        c = await self.client()
        for name in ["Alice", "alice", "ALICE", "aLiCe", " alice "]:
            with self.subTest(name=name):
                await c.send({"type": "join", "name": name})
                await c.expect_error("name_taken")
        await a.expect_silence(0.3)     # failed joins are not broadcast
        w, _ = await c.join("alice2")
        self.assertCountEqual(w["users"], ["Alice", "alice2"])

    async def test_name_case_folding_is_ascii_only(self):
        await self.joined("\u00c9mile")         # Emile with E acute
        c = await self.client()
        w, _ = await c.join("\u00e9mile")       # lower-case e acute
        self.assertCountEqual(w["users"], ["\u00c9mile", "\u00e9mile"])

    async def test_too_long(self):
        a = await self.joined("alice")
        obs = await self.joined("obs")
        await a.expect("join")
        limit = 4096
        cases_ok = ["a" * limit, "\u00e9" * (limit // 2),
                    "\u20ac" * (limit // 3) + "a",
                    "\U0001F600" * (limit // 4)]
        cases_bad = ["a" * (limit + 1), "\u00e9" * (limit // 2) + "a",
                     "\u20ac" * (limit // 3) + "ab",
                     "\U0001F600" * (limit // 4) + "a",
                     "a" * (limit * 2)]
        for text in cases_ok:
            self.assertEqual(len(text.encode()), limit)
        for text in cases_bad:
            self.assertGreater(len(text.encode()), limit)
        for ascii_only in (False, True):
            for text in cases_bad:
                with self.subTest(len=len(text.encode()), ascii=ascii_only):
                    await a.send(json.dumps({"type": "message", "text": text},
                                            ensure_ascii=ascii_only))
                    await a.expect_error("too_long")
            for text in cases_ok:
                with self.subTest(len=len(text.encode()), ascii=ascii_only):
                    await a.send(json.dumps({"type": "message", "text": text},
                                            ensure_ascii=ascii_only))
                    m = await a.expect("message")
                    self.assertEqual(m["text"], text)
                    self.assertEqual((await obs.expect("message"))["text"],
                                     text)
        await obs.expect_silence(0.3)
        await self.assert_still_works(a)

    async def test_empty_or_missing_text_refused(self):
        # text is 1 to max-text bytes; the error code for an empty or
        # missing text is not pinned down by PROTOCOL.md, but it is an
        # error, nothing is broadcast, and the connection stays usable
        a = await self.joined("alice")
        obs = await self.joined("obs")
        await a.expect("join")
        known = {"bad_json", "unknown_type", "not_joined", "already_joined",
                 "name_invalid", "name_taken", "too_long", "rate_limited"}
        for obj in ({"type": "message", "text": ""},
                    {"type": "message"},
                    {"type": "message", "text": 5},
                    {"type": "message", "text": ["x"]}):
            with self.subTest(obj=obj):
                await a.send(obj)
                err = await a.expect("error")
                self.assertIn(err["code"], known)
        await obs.expect_silence(0.3)
        await self.assert_still_works(a)

    async def test_errors_do_not_affect_others(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        await a.expect("join")
        await b.send("garbage")
        await b.expect_error("bad_json")
        await a.expect_silence(0.3)
        await a.say("fine")
        self.assertEqual((await b.expect("message"))["text"], "fine")


class TestMaxText(ChatTestCase):
    daemon_args = ["--max-text", "10"]

    async def test_configured_limit(self):
        a = await self.joined("alice")
        await a.say("0123456789")
        await a.say("\u00e9" * 5)
        await a.send_message("0123456789x")
        await a.expect_error("too_long")
        await a.send_message("\u20ac" * 3 + "ab")    # 11 bytes, 5 chars
        await a.expect_error("too_long")
        await a.say("ok")


class TestLongText(ChatTestCase):
    # Texts larger than a worker-to-master datagram travel in pieces.
    # (the client escapes non-ASCII: 6 bytes of JSON per "é")
    daemon_args = ["--max-text", "600000", "--max-message", "2000000"]

    async def test_long_text_round_trip(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        await a.expect("join")
        for n in (300000, 600000):
            text = ("é" * (n // 2))
            self.assertEqual(len(text.encode()), n)
            await a.send_message(text)
            self.assertEqual((await a.expect("message"))["text"], text)
            self.assertEqual((await b.expect("message"))["text"], text)
        await a.send_message("z" * 600001)
        await a.expect_error("too_long")


class TestRateLimit(ChatTestCase):
    daemon_args = ["--rate-limit", "5", "--rate-burst", "5"]

    async def test_rate_limited(self):
        a = await self.joined("alice")
        obs = await self.joined("obs")
        await a.expect("join")
        # whether a join takes a token is not specified: let the bucket
        # fill up again (5 tokens at 5/s) before the burst
        await asyncio.sleep(1.5)
        n = 30
        for i in range(n):
            await a.send_message("r%d" % i)
        echoed, limited = [], 0
        while len(echoed) + limited < n:
            m = await a.recv()
            if m["type"] == "error":
                self.assertEqual(m["code"], "rate_limited", m)
                limited += 1
            else:
                self.assertEqual(m["type"], "message", m)
                echoed.append(m["text"])
        self.assertGreater(limited, 0, "no message was rate limited")
        self.assertGreaterEqual(len(echoed), 5, "the burst was not honoured")
        # echoes keep the sending order, and only those were broadcast
        self.assertEqual(echoed, sorted(echoed, key=lambda t: int(t[1:])))
        seen = []
        for _ in echoed:
            seen.append((await obs.expect("message"))["text"])
        self.assertEqual(seen, echoed)
        await obs.expect_silence(0.5)
        # the connection stays open; after a pause messages flow again
        await asyncio.sleep(1.5)
        await a.say("after pause")
        self.assertEqual((await obs.expect("message"))["text"], "after pause")

    async def test_rate_is_per_client(self):
        a = await self.joined("alice")
        b = await self.joined("bob")
        await a.expect("join")
        for i in range(20):
            await a.send_message("a%d" % i)
        got = 0
        while got < 20:
            m = await a.recv()
            got += 1
        # bob has his own bucket
        await b.send_message("from bob")
        while True:
            m = await b.recv()
            if m["type"] == "message" and m["from"] == "bob":
                break
            self.assertNotEqual(m["type"], "error", m)


class TestNoRateLimit(ChatTestCase):
    daemon_args = ["--rate-limit", "0"]

    async def test_rate_limit_off(self):
        a = await self.joined("alice")
        for i in range(100):
            await a.send_message("f%d" % i)
        for i in range(100):
            m = await a.recv()
            self.assertEqual(m.get("type"), "message", m)
            self.assertEqual(m["text"], "f%d" % i)


if __name__ == "__main__":
    harness.run_main()
