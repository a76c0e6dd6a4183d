#!/usr/bin/python3
"""An independent WebSocket client (Debian's python3-websockets) against mockd.

    /usr/bin/python3 tests/integration/ws_client_check.py HOST:PORT

Each check prints "ok NAME" or "FAIL NAME: why"; the exit status is 1 when one failed.
Only 127.0.0.1; every wait is bounded.
"""
import asyncio
import json
import sys
import urllib.request

import websockets
from websockets.legacy.protocol import OP_TEXT, OP_BINARY

BASE = "ws://" + sys.argv[1]
THREAD = "7d1c2f3a-0b4e-4c5d-8e6f-001122334455"
failed = []


async def recv_json(ws, timeout=3):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def close_code(ws, timeout=3):
    """Read until the server closes; return its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as e:
        return e.code


def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + why))
    if not cond:
        failed.append(name)


async def threads_round_trip():
    async with websockets.connect(BASE + "/chat/ws?token=th-dev-token") as ws:
        await ws.send(json.dumps({"type": "message", "thread_id": THREAD, "content": "interop"}))
        ack = await recv_json(ws)
        check("threads ack", ack.get("type") == "message_received" and "job_id" in ack, str(ack))
        await ws.send(json.dumps({"type": "nope"}))  # answered after the whole reply
        parts = []
        while True:
            m = await recv_json(ws)
            if m["type"] == "error":
                break
            parts.append(m)
        check("threads reply frames share one id", len({p["id"] for p in parts}) == 1, str(parts[:2]))
        pong = await ws.ping(b"hello")
        await asyncio.wait_for(pong, 3)
        check("ping answered", True)
    async with websockets.connect(BASE + "/chat/ws?key=00000000-0000-4000-8000-000000000001") as ws:
        await ws.send(json.dumps({"type": "history", "thread_id": THREAD}))
        user = await recv_json(ws)
        bot = await recv_json(ws)
        check("history has both sides after a reconnect", user["role"] == "user" and bot["role"] == "assistant",
              str((user, bot)))


async def threads_refused():
    try:
        async with websockets.connect(BASE + "/chat/ws?token=wrong"):
            check("bad credentials refused", False, "the handshake succeeded")
    except websockets.InvalidStatusCode as e:
        check("bad credentials refused with 401", e.status_code == 401, str(e.status_code))


async def fragmented():
    async with websockets.connect(BASE + "/chat/ws?token=th-dev-token") as ws:
        # An iterable makes websockets send one message in several frames.
        await ws.send(['{"type":"hist', 'ory","thread_id":', '"not-a-uuid"}'])
        m = await recv_json(ws)
        check("fragmented message reassembled", m == {"type": "error", "message": "Invalid thread ID format"}, str(m))


async def protocol_closes():
    async with websockets.connect(BASE + "/chat/ws?token=th-dev-token") as ws:
        await ws.write_frame(True, OP_TEXT, b'{"type":"\xff\xfe"}')
        code = await close_code(ws)
        check("invalid UTF-8 closed with 1007", code == 1007, str(code))
    async with websockets.connect(BASE + "/chat/ws?token=th-dev-token", max_size=None) as ws:
        await ws.send("x" * (1024 * 1024 + 1))
        code = await close_code(ws)
        check("oversized message closed with 1009", code == 1009, str(code))
    async with websockets.connect(BASE + "/chat/ws?token=th-dev-token") as ws:
        await ws.write_frame(True, OP_BINARY, b"\x00\x01")
        code = await close_code(ws)
        check("binary message closed with 1003", code == 1003, str(code))


async def deepwiki_rooms():
    a = await websockets.connect(BASE + "/ws/chat?token=dw-dev-key&room_id=interop&user_id=alice")
    b = await websockets.connect(BASE + "/ws/chat?token=dw-dev-key-2&room_id=interop&user_id=bob")
    info = await recv_json(a)
    await recv_json(b)
    check("connection_info", info.get("type") == "connection_info" and info.get("room_id") == "interop", str(info))
    await a.send(json.dumps({"type": "message", "content": "hello room"}))
    relay = await recv_json(b)
    check("user_message relayed", relay == {"type": "user_message", "user": "alice", "content": "hello room"},
          str(relay))
    got_end = False
    for _ in range(200):
        m = await recv_json(b)
        if m["type"] == "end":
            got_end = m.get("finish_reason") == "stop"
            break
    check("room member gets the reply and its end", got_end)
    await a.close()
    await b.close()
    async with websockets.connect(BASE + "/ws/chat?token=bogus") as ws:
        code = await close_code(ws)
        check("deepwiki bad token closed with 4000", code == 4000, str(code))


async def reset_fault():
    """A reset_after fault on a WebSocket reply is a TCP reset, with no FIN before it."""
    rule = {"id": "ws-reset", "api": "deepwiki", "match": {"message": "reset me"}, "once": True,
            "reply": {"text": "one two three four"}, "fault": {"type": "reset_after", "tokens": 2}}
    req = urllib.request.Request("http://" + sys.argv[1] + "/__admin/scripts", json.dumps(rule).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=3) as r:
        check("reset rule added", r.status == 201, str(r.status))
    cause = None
    async with websockets.connect(BASE + "/ws/chat?token=dw-dev-key") as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "reset me"}))
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 3)
        except websockets.ConnectionClosed as e:
            cause = e.__cause__
    check("reset_after resets the connection", isinstance(cause, ConnectionResetError), repr(cause))


async def main():
    for step in (threads_round_trip, threads_refused, fragmented, protocol_closes, deepwiki_rooms, reset_fault):
        try:
            await asyncio.wait_for(step(), 20)
        except Exception as e:  # a check that blew up is a failed check, with its reason
            check(step.__name__, False, repr(e))
    return 1 if failed else 0


sys.exit(asyncio.run(main()))
