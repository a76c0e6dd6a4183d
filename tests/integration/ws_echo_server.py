#!/usr/bin/python3
"""An independent WebSocket server for the runner's client tests (tests/integration/test_ws_interop.c).

Built on Debian's python3-websockets (10.4), run with /usr/bin/python3:

    /usr/bin/python3 tests/integration/ws_echo_server.py PORTFILE

Listens on 127.0.0.1, port 0; writes "127.0.0.1:PORT\\n" to PORTFILE once listening.  It echoes every
text and binary message, except these text commands:

    close:CODE:REASON     close the connection with CODE and REASON
    fragments:A,B,C       send one text message in three frames "A", "B", "C"
    big:N                 send a text message of N bytes ("x" repeated)
    ping:PAYLOAD          ping the client; send "pong:PAYLOAD" once its pong arrived
    headers               send the request's headers as a JSON object (names lowercased)

It refuses a handshake on /refuse with 403 and a small body.  It stops by itself after 120 s, or
as soon as its parent process has gone, so a crashed test never leaves it behind.
"""
import asyncio
import http
import json
import os
import sys

import websockets

LIFETIME = 120


async def handler(ws, path=None):
    try:
        async for msg in ws:
            if isinstance(msg, bytes):
                await ws.send(msg)
                continue
            if msg.startswith("close:"):
                _, code, reason = msg.split(":", 2)
                await ws.close(int(code), reason)
                return
            if msg.startswith("fragments:"):
                await ws.send(iter(msg[len("fragments:"):].split(",")))
                continue
            if msg.startswith("big:"):
                await ws.send("x" * int(msg[4:]))
                continue
            if msg.startswith("ping:"):
                payload = msg[5:]
                waiter = await ws.ping(payload)
                await asyncio.wait_for(waiter, 5)
                await ws.send("pong:" + payload)
                continue
            if msg == "headers":
                await ws.send(json.dumps({k.lower(): v for k, v in ws.request_headers.raw_items()}))
                continue
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def refuse(path, headers):
    if path.startswith("/refuse"):
        return http.HTTPStatus.FORBIDDEN, [("Content-Type", "application/json")], b'{"error":"refused"}'
    return None


async def main(port_file):
    parent = os.getppid()
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=16 * 1024 * 1024,
                                process_request=refuse, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("127.0.0.1:%d\n" % port)
        os.rename(tmp, port_file)
        for _ in range(LIFETIME * 10):
            if os.getppid() != parent:
                break
            await asyncio.sleep(0.1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: ws_echo_server.py PORTFILE\n")
        sys.exit(2)
    asyncio.run(main(sys.argv[1]))
