#!/usr/bin/python3
"""A TLS peer for the runner's tests: https and wss on one port (Debian's python3-websockets).

    /usr/bin/python3 tests/integration/tls_server.py CERT KEY PORTFILE

GET /stream answers a small NDJSON body; any other path upgrades to WebSocket and echoes text.
Listens on 127.0.0.1 only and stops by itself after 60 s.
"""
import asyncio
import http
import ssl
import sys

import websockets

CERT, KEY, PORTFILE = sys.argv[1:4]
BODY = (b'{"type":"start","conversationId":"c"}\n'
        b'{"type":"token","token":"over"}\n'
        b'{"type":"token","token":" tls"}\n'
        b'{"type":"done","message":"over tls","conversationId":"c"}\n')


async def process_request(path, headers):
    if path.startswith("/stream"):
        return http.HTTPStatus.OK, [("Content-Type", "application/x-ndjson")], BODY
    return None


async def echo(ws, path):
    async for message in ws:
        await ws.send(message)


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    async with websockets.serve(echo, "127.0.0.1", 0, ssl=ctx, process_request=process_request) as server:
        port = server.sockets[0].getsockname()[1]
        with open(PORTFILE + ".tmp", "w") as f:
            f.write("127.0.0.1:%d\n" % port)
        import os
        os.rename(PORTFILE + ".tmp", PORTFILE)
        await asyncio.sleep(60)


asyncio.run(main())
