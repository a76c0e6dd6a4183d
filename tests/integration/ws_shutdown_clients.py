#!/usr/bin/python3
"""WebSocket clients (Debian's python3-websockets) that wait for mockd to shut down.

    /usr/bin/python3 tests/integration/ws_shutdown_clients.py HOST:PORT N

Opens N WebSockets, half threads (/chat/ws), half deepwiki (/ws/chat), and on
each starts a reply to "slow ..." (the test's scripted rule makes it last
seconds). Prints "ready" once every reply has begun, then, as mockd shuts
down, one line per connection: "close CODE" (or "error WHY"). Every wait is
bounded; 127.0.0.1 only.
"""
import asyncio
import json
import sys

import websockets

BASE = "ws://" + sys.argv[1]
N = int(sys.argv[2])
THREAD = "7d1c2f3a-0b4e-4c5d-8e6f-0011223344{:02d}"


async def open_one(i):
    if i % 2 == 0:
        ws = await websockets.connect(BASE + "/chat/ws?token=th-dev-token", close_timeout=2)
        await ws.send(json.dumps({"type": "message", "thread_id": THREAD.format(i), "content": "slow please"}))
        await asyncio.wait_for(ws.recv(), 5)  # message_received
    else:
        ws = await websockets.connect(BASE + "/ws/chat?token=dw-dev-key", close_timeout=2)
        await asyncio.wait_for(ws.recv(), 5)  # connection_info
        await ws.send(json.dumps({"type": "message", "content": "slow please"}))
    await asyncio.wait_for(ws.recv(), 5)      # the first token: the reply is under way
    return ws


async def until_closed(ws):
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    except websockets.ConnectionClosed as e:
        return "close %d" % (e.rcvd.code if e.rcvd else 1006)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        return "error " + repr(e)


async def main():
    conns = await asyncio.gather(*(open_one(i) for i in range(N)))
    print("ready", flush=True)
    for line in await asyncio.gather(*(until_closed(ws) for ws in conns)):
        print(line, flush=True)


asyncio.run(main())
