#!/usr/bin/python3
"""wss against a mockd started with --tls-cert (Debian's python3-websockets).

    /usr/bin/python3 tests/integration/wss_client_check.py CERT HOST:PORT

Trusts only CERT. Each check prints "ok NAME" or "FAIL NAME: why"; the exit status is 1 when one
failed. Only 127.0.0.1; every wait is bounded.
"""
import asyncio
import json
import ssl
import sys

import websockets

CERT, HOST = sys.argv[1], sys.argv[2]
BASE = "wss://" + HOST
THREAD = "7d1c2f3a-0b4e-4c5d-8e6f-00112233aaaa"
CTX = ssl.create_default_context(cafile=CERT)
failed = []


def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + why))
    if not cond:
        failed.append(name)


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def deepwiki_reply():
    async with websockets.connect(BASE + "/ws/chat?token=dw-dev-key", ssl=CTX, open_timeout=5) as ws:
        info = await recv_json(ws)
        check("deepwiki connection_info", info.get("type") == "connection_info", repr(info))
        await ws.send(json.dumps({"type": "message", "content": "hello over wss"}))
        text = ""
        while True:
            m = await recv_json(ws)
            if m.get("type") == "content":
                text += m.get("content", "")
            if m.get("type") == "end":
                break
        check("deepwiki reply to its end", text != "" and m.get("finish_reason") == "stop", repr(m))


async def threads_reply():
    async with websockets.connect(BASE + "/chat/ws?key=00000000-0000-4000-8000-000000000001", ssl=CTX,
                                  open_timeout=5) as ws:
        await ws.send(json.dumps({"type": "message", "thread_id": THREAD, "content": "hello over wss"}))
        got = await recv_json(ws)
        check("threads message_received", got.get("type") == "message_received", repr(got))
        reply = await recv_json(ws)
        check("threads reply", reply.get("type") == "message" and reply.get("role") == "assistant", repr(reply))


async def fragments():
    """A message sent in three fragments is one message: threads answers the whole history request."""
    async with websockets.connect(BASE + "/chat/ws?key=00000000-0000-4000-8000-000000000001", ssl=CTX,
                                  open_timeout=5) as ws:
        whole = json.dumps({"type": "history", "thread_id": THREAD})
        await ws.send(iter([whole[:5], whole[5:20], whole[20:]]))
        await ws.send(json.dumps({"type": "sync"}))
        kinds = []
        while True:
            m = await recv_json(ws)
            kinds.append(m.get("type"))
            if m.get("type") == "error":
                break
        check("a fragmented message is one message", kinds[:-1] and all(k == "message" for k in kinds[:-1])
              and kinds[-1] == "error", repr(kinds))


async def close_code():
    async with websockets.connect(BASE + "/ws/chat?token=not-a-key", ssl=CTX, open_timeout=5) as ws:
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as e:
            check("a bad token is closed with 4000", e.code == 4000, "code %s" % e.code)


async def refused_origin():
    try:
        async with websockets.connect(BASE + "/ws/chat?token=dw-dev-key", ssl=CTX, open_timeout=5,
                                      origin="http://elsewhere.example"):
            check("a foreign origin is refused", False, "the handshake was accepted")
    except websockets.InvalidStatusCode as e:
        check("a foreign origin is refused", e.status_code == 403, "status %s" % e.status_code)


async def main():
    for step in (deepwiki_reply, threads_reply, fragments, close_code, refused_origin):
        try:
            await asyncio.wait_for(step(), 15)
        except Exception as e:  # a check that cannot run is a failed check
            check(step.__name__, False, repr(e))


asyncio.run(main())
sys.exit(1 if failed else 0)
