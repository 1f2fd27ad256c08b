#!/usr/bin/env python3
"""Write the handwritten seed corpora of tests/fuzz (corpus/<target>/).

The seeds are checked in; this script documents how the binary ones are
made and rewrites them all:  python3 tests/fuzz/gen-seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8')
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# ---- http: request heads, raw --------------------------------------------
UPGRADE = ('GET /ws HTTP/1.1\r\nHost: localhost:8080\r\nUpgrade: websocket\r\n'
           'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
           'Sec-WebSocket-Version: 13\r\n\r\n')
put('http', 'get-root', 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n')
put('http', 'upgrade', UPGRADE)
put('http', 'upgrade-browser',
    'GET /ws?room=1 HTTP/1.1\r\nHost: chat.example\r\nUser-Agent: Mozilla/5.0\r\n'
    'Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n'
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n'
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n'
    'Origin: http://chat.example\r\nCookie: a=b; c=d\r\n\r\n')
put('http', 'upgrade-version-8', UPGRADE.replace('Version: 13', 'Version: 8'))
put('http', 'upgrade-bad-key', UPGRADE.replace('dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZR=='))
put('http', 'upgrade-post', UPGRADE.replace('GET', 'POST'))
put('http', 'http10-lf', 'GET /index.html HTTP/1.0\n\n')
put('http', 'healthz-keepalive', 'HEAD /healthz HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n')
put('http', 'percent-path', 'GET /a%20b/%2e%2E/c%41?x=%00#frag HTTP/1.1\r\nHost: h\r\n\r\n')
put('http', 'percent-nul', 'GET /%00 HTTP/1.1\r\nHost: h\r\n\r\n')
put('http', 'percent-cut', 'GET /abc%4 HTTP/1.1\r\nHost: h\r\n\r\n')
put('http', 'no-host', 'GET / HTTP/1.1\r\n\r\n')
put('http', 'two-hosts', 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n')
put('http', 'http2', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n')
put('http', 'folding', 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n')
put('http', 'ctl-in-value', 'GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n')
put('http', 'ws-around-value', 'GET / HTTP/1.1\r\nHost: \t a \t\r\nX-Empty:\r\n\r\n')
put('http', 'absolute-form', 'GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n')
put('http', 'asterisk', 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n')
put('http', 'long-method', 'ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\nHost: h\r\n\r\n')
put('http', 'incomplete', 'GET / HTTP/1.1\r\nHost: h\r\n')
put('http', 'pipelined', 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n')
put('http', 'cr-lf-mix', 'GET / HTTP/1.1\nHost: h\r\nX: y\n\r\n')
put('http', 'many-headers',
    'GET / HTTP/1.1\r\nHost: h\r\n' + ''.join('X-%d: %d\r\n' % (i, i) for i in range(66)) + '\r\n')
put('http', 'big-head', 'GET / HTTP/1.1\r\nHost: h\r\nX: ' + 'a' * 8200 + '\r\n\r\n')
put('http', 'garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')

# ---- ws: byte 0 picks the mode (fuzz_ws.c) --------------------------------


def frame(op, payload=b'', fin=True, key=b'\x37\xfa\x21\x3d', mask=True, rsv=0):
    if isinstance(payload, str):
        payload = payload.encode('utf-8')
    h = bytes([(0x80 if fin else 0) | rsv | op])
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        h += bytes([m | n])
    elif n <= 0xffff:
        h += bytes([m | 126]) + struct.pack('>H', n)
    else:
        h += bytes([m | 127]) + struct.pack('>Q', n)
    if not mask:
        return h + payload
    return h + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def raw(name, stream, maxclass=2, maxbytes=b''):
    # even mode byte: bits 1-2 choose max-message (0: u8, 1: u16, 2: 64 KiB,
    # 3: unlimited), then its bytes, then the client stream
    put('ws', name, bytes([maxclass << 1]) + maxbytes + stream)


raw('hello', frame(1, 'Hello'))
raw('fragmented', frame(1, 'Hel', fin=False) + frame(9, 'ping') + frame(0, 'lo'))
raw('utf8-split', frame(1, b'caf\xc3', fin=False) + frame(0, b'\xa9 \xf0\x9f', fin=False) + frame(0, b'\x98\x80'))
raw('bad-utf8', frame(1, b'ab\xed\xa0\x80'))
raw('utf8-cut-at-end', frame(1, b'ab\xe2\x82'))
raw('empty-message', frame(1, ''))
raw('ping-pong', frame(9, 'abc') + frame(10, ''))
raw('close', frame(8, struct.pack('>H', 1000) + 'bye'.encode()))
raw('close-empty', frame(8))
raw('close-1byte', frame(8, b'\x03'))
raw('close-bad-code', frame(8, struct.pack('>H', 1005)))
raw('close-bad-reason', frame(8, struct.pack('>H', 4000) + b'\xff'))
raw('binary', frame(2, b'\x00\x01'))
raw('unmasked', frame(1, 'x', mask=False))
raw('rsv', frame(1, 'x', rsv=0x40))
raw('reserved-op', frame(3, 'x') + frame(11))
raw('control-fragmented', frame(9, 'x', fin=False))
raw('control-too-long', frame(9, 'x' * 126))
raw('cont-without-start', frame(0, 'x'))
raw('text-inside-text', frame(1, 'a', fin=False) + frame(1, 'b'))
raw('len16', frame(1, 'z' * 300))
raw('len64', frame(1, 'y' * 70000)[:40], maxclass=3)
raw('top-bit-len', b'\x81\xff\x80' + b'\x00' * 7 + b'\x01\x02\x03\x04')
raw('too-big-u8', frame(1, 'a' * 20, fin=False) + frame(0, 'b' * 20), 0, b'\x20')
raw('too-big-u16', frame(1, 'a' * 300), 1, b'\x01\x00')
raw('max-zero', frame(1, ''), 0, b'\x00')


def rt(name, body):
    # odd mode byte: a description of frames (fuzz_ws.c roundtrip_mode)
    put('ws', name, b'\x01' + body)


# items; each: kind, u16 length, bytes, u8 fragments, (u16 cut, u32 key)...
rt('rt-text', b'\x01' + b'\x00' + struct.pack('>H', 5) + b'hello' + b'\x00' + b'\x11\x22\x33\x44'
   + b'\x01\x00\x03' + b'abc' + b'\x00' * 8 + b'\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' + b'\x05' * 8)
rt('rt-fragments-pings', b'\x03' + b'\x04' + struct.pack('>H', 12) + 'h\u00e9llo w\u00f6rld'.encode()
   + b'\x03' + b'\x00\x03' + b'\xaa\xbb\xcc\xdd' + b'\x01\x02\x03\x04' + b'\x00\x04' + b'\x99\x88\x77\x66'
   + b'\x05\x06\x07\x08' + b'\x10\x20\x30\x40'
   + b'\x02\x03abc\x00\x00\x00\x00' + b'\x03\x00\x01\x02\x03\x04'
   + b'\x01\x00\x05' + b'\x03\x00\x10' + 'bye \u00e9'.encode() + b'\xde\xad\xbe\xef')
rt('rt-bad-utf8', b'\x01' + b'\x00' + struct.pack('>H', 4) + b'a\xc3(b' + b'\x01' + b'\x00\x01' + b'\x00' * 8)
rt('rt-long', b'\x01' + b'\x00' + struct.pack('>H', 400) + b'L' * 400 + b'\x00' + b'\x01\x02\x03\x04')

# ---- utf8 ------------------------------------------------------------------
put('utf8', 'ascii.txt', 'hello, world')
put('utf8', 'mixed.txt', 'caf\u00e9 \u20ac \U0001F600 \u65e5\u672c')
put('utf8', 'boundaries.txt', b'\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf')
put('utf8', 'around-surrogates.txt', b'\xed\x9f\xbf\xee\x80\x80')
put('utf8', 'surrogate.bin', b'\xed\xa0\x80')
put('utf8', 'overlong.bin', b'\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf')
put('utf8', 'above-max.bin', b'\xf4\x90\x80\x80')
put('utf8', 'truncated.bin', b'ab\xe2\x82')
put('utf8', 'lone-continuation.bin', b'\x80\xbf')
put('utf8', 'bad-leads.bin', b'\xf5\xf8\xfe\xff')
put('utf8', 'cut-two.bin', b'\xc3\xa9\xc3')
put('utf8', 'empty.txt', b'')
put('utf8', 'controls.txt', b'a\x00b\x7f')
put('utf8', 'bom.txt', b'\xef\xbb\xbfbom')

# ---- chat: client payloads ---------------------------------------------------
put('chat', 'join.json', '{"type":"join","name":"alice"}')
put('chat', 'message.json', '{"type":"message","text":"hi all"}')
put('chat', 'join-trim-escapes.json', '{"type":"join","name":"  \\u00e9l\\u00e8ve \\t"}')
put('chat', 'message-escapes.json',
    '{"type":"message","text":"caf\u00e9 \U0001F600 \\ud83d\\ude00 \\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u0000"}')
put('chat', 'lone-high.json', '{"type":"message","text":"\\ud800"}')
put('chat', 'lone-low.json', '{"type":"message","text":"\\udc00x"}')
put('chat', 'escaped-backslash-u.json', '{"type":"message","text":"\\\\ud800"}')
put('chat', 'unknown-fields.json', '{"text":"x","type":"message","extra":[1,2,{"a":null}],"n":-1.5e3}')
put('chat', 'unknown-type.json', '{"type":"leave"}')
put('chat', 'join-unicode-space.json', '{"type":"join","name":"\u3000\u2003bob\u00a0"}')
put('chat', 'join-33.json', '{"type":"join","name":"abcdefghijklmnopqrstuvwxyz0123456"}')
put('chat', 'join-control.json', '{"type":"join","name":"a\\u0007b"}')
put('chat', 'empty-text.json', '{"type":"message","text":""}')
put('chat', 'array.json', '[{"type":"message","text":"x"}]')
put('chat', 'trailing-space.json', '{"type":"message","text":"x"} \r\n')
put('chat', 'trailing-garbage.json', '{"type":"message","text":"x"}{}')
put('chat', 'deep.json', '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}},"type":"message","text":"deep"}')
put('chat', 'single-quotes.json', "{'type':'join'}")
put('chat', 'name-number.json', '{"type":"join","name":42}')
put('chat', 'duplicate-keys.json', '{"type":"message","text":"a","type":"join","name":"dup"}')

# ---- broker: op sequences (fuzz_broker.c) ------------------------------------
# header: history, max_text-1; then ops: op byte (low 3 bits: 0-2 join,
# 3-4 message, 5 leave, 6 error, 7 configure; cid = (op >> 3) % 16), u16 ts,
# then for join/message a length byte and the bytes.


def op(kind, cid, ts=1, data=b''):
    if isinstance(data, str):
        data = data.encode('utf-8')
    b = bytes([(cid << 3) | kind]) + struct.pack('>H', ts)
    if kind <= 4:
        b += bytes([len(data)]) + data
    return b


put('broker', 'join-talk-leave', b'\x03\x3f' + op(0, 1, 1, 'alice') + op(0, 2, 2, 'bob')
    + op(3, 1, 3, 'hi bob') + op(3, 2, 4, 'hi alice') + op(5, 1, 5) + op(0, 3, 6, 'carol'))
put('broker', 'name-taken', b'\x02\x10' + op(0, 1, 1, 'Alice') + op(0, 2, 2, ' aLICE ')
    + op(0, 1, 3, 'again') + op(0, 4, 4, '\u00e9l\u00e8ve'))
put('broker', 'not-joined-too-long', b'\x01\x04' + op(3, 5, 1, 'x') + op(0, 5, 2, 'x')
    + op(3, 5, 3, 'too long text') + op(3, 5, 4, '') + op(3, 5, 5, b'\xff'))
put('broker', 'history-resize', b'\x05\x3f' + op(0, 1, 1, 'a') + b''.join(op(3, 1, i, 'm%d' % i) for i in range(2, 9))
    + op(7, 0) + b'\x02\x20' + op(0, 2, 10, 'b') + op(7, 0) + b'\x04\x20' + op(3, 1, 11, 'n')
    + op(0, 3, 12, 'c') + op(7, 0) + b'\x00\x20' + op(0, 4, 13, 'd'))
put('broker', 'errors', b'\x00\x00' + op(6, 1) + b'\x01' + op(6, 2) + b'\x08' + op(6, 3) + b'\x00'
    + op(6, 3) + b'\x09' + op(5, 7))
put('broker', 'bad-names', b'\x00\x00' + op(0, 1, 1, '   ') + op(0, 2, 2, 'a\tb')
    + op(0, 3, 3, 'x' * 33) + op(0, 4, 4, b'\xc3') + op(0, 5, 5, '\u00a0\u3000'))
