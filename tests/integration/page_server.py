#!/usr/bin/python3
"""Serves one page to a headless browser and holds its load event until the page says it is done.

    /usr/bin/python3 tests/integration/page_server.py PAGE PORTFILE

GET /page.html is PAGE. GET /hold answers only once GET /release has come (or after 25 s): an <img
src="/hold"> in the page keeps its load event, and so chromium's --dump-dom, waiting for the page's
own work (fetches, WebSockets) to end, without virtual time. Listens on 127.0.0.1 port 0, writes
"127.0.0.1:PORT\\n" to PORTFILE (atomically), stops by itself after 60 s or when its parent has gone.
"""
import asyncio
import os
import sys

PAGE, PORTFILE = sys.argv[1], sys.argv[2]
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


async def main():
    released = asyncio.Event()
    parent = os.getppid()

    async def handle(reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            path = head.split(b" ", 2)[1].split(b"?")[0]
            if path == b"/page.html":
                with open(PAGE, "rb") as f:
                    status, ctype, body = b"200 OK", b"text/html; charset=utf-8", f.read()
            elif path == b"/hold":
                try:
                    await asyncio.wait_for(released.wait(), 25)
                except asyncio.TimeoutError:
                    pass
                released.clear()  # the next load is held again
                status, ctype, body = b"200 OK", b"image/gif", GIF
            elif path == b"/release":
                released.set()
                status, ctype, body = b"200 OK", b"text/plain", b"released"
            else:
                status, ctype, body = b"404 Not Found", b"text/plain", b"not found"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: " +
                         str(len(body)).encode() + b"\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(PORTFILE + ".tmp", "w") as f:
        f.write("127.0.0.1:%d\n" % port)
    os.rename(PORTFILE + ".tmp", PORTFILE)
    for _ in range(600):
        if os.getppid() != parent:
            break
        await asyncio.sleep(0.1)


asyncio.run(main())
