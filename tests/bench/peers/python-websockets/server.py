#!/usr/bin/python3
"""Benchmark peer for wschatd: a broadcast server on Debian's python3-websockets.

Every text message a client sends goes, unchanged, to every connected client
(the sender too) through websockets.broadcast(), the library's own fan-out.
No JSON, no names.

    /usr/bin/python3 server.py PORT [HOST]

Prints "listening on HOST:PORT" once it accepts connections; exits on
SIGTERM or SIGINT.  Keepalive pings are off (the other servers send none)
and so is compression (the load generator does not offer it anyway).
"""

import asyncio
import signal
import sys

import websockets

CLIENTS = set()


async def handler(ws, path=None):
    CLIENTS.add(ws)
    try:
        async for msg in ws:
            websockets.broadcast(CLIENTS, msg)
    except websockets.ConnectionClosed:
        pass
    finally:
        CLIENTS.discard(ws)


async def main(port, host):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(handler, host, port, ping_interval=None,
                                compression=None, backlog=1024) as server:
        addr = server.sockets[0].getsockname()
        print("listening on %s:%d" % (addr[0], addr[1]), flush=True)
        await stop


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8082
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    asyncio.run(main(port, host))
