#!/usr/bin/python3
"""A server that writes down the headers it receives, for tests/integration/test_header.c.

Standard library only, run with /usr/bin/python3:

    /usr/bin/python3 tests/integration/header_server.py PORTFILE LOGFILE

Listens on 127.0.0.1, port 0; writes "127.0.0.1:PORT\\n" to PORTFILE once listening.  Every request,
HTTP or WebSocket upgrade, appends one JSON line to LOGFILE:

    {"method": "POST", "path": "/api/chat", "ws": false, "headers": {"x-case": "plain", ...}}

with the header names lowercased (a name sent twice keeps its last value).  HTTP answers:

    /api/chat    200 {"success": true, "data": {"response": "...", "usage": {...}}} (botchat's shape,
                 so chatconform record writes a rule for it)
    /echo        200 {"headers": {...}}: the request's headers echoed (what a transcript must redact)
    other        200 {"ok": true}

A request with "Upgrade: websocket" is answered 101 (RFC 6455); then a text frame "headers" is
answered with the upgrade request's headers as a JSON object, a ping with a pong, and a close with
the same close.  Every connection is closed after one request.  It stops by itself after 120 s, or as
soon as its parent process has gone, so a crashed test never leaves it behind.
"""
import asyncio
import base64
import hashlib
import json
import os
import struct
import sys

LIFETIME = 120
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024


def log(path, entry):
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")


async def read_frame(reader):
    """One client frame: (opcode, payload); the client's frames are masked."""
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    if n > MAX_BODY:
        raise ValueError("frame too large")
    mask = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = bytearray(await reader.readexactly(n))
    for i in range(n):
        data[i] ^= mask[i % 4]
    return b0 & 0x0F, bytes(data)


def frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


async def websocket(reader, writer, headers):
    accept = base64.b64encode(hashlib.sha1((headers.get("sec-websocket-key", "") + GUID).encode()).digest())
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    await writer.drain()
    while True:
        opcode, data = await read_frame(reader)
        if opcode == 0x8:
            writer.write(frame(0x8, data[:2]))
            await writer.drain()
            return
        if opcode == 0x9:
            writer.write(frame(0xA, data))
        elif opcode == 0x1 and data == b"headers":
            writer.write(frame(0x1, json.dumps(headers).encode()))
        elif opcode in (0x1, 0x2):
            writer.write(frame(opcode, data))
        await writer.drain()


def answer(path, headers):
    if path.startswith("/api/chat"):
        return {"success": True, "data": {"response": "hello from the header server",
                                          "usage": {"promptTokens": 3, "completionTokens": 5}}}
    if path.startswith("/echo"):
        return {"headers": headers}
    return {"ok": True}


async def handle(reader, writer, log_path):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip(" \t")
        ws = headers.get("upgrade", "").lower() == "websocket"
        path = target.split("?", 1)[0]
        log(log_path, {"method": method, "path": path, "ws": ws, "headers": headers})
        if ws:
            await websocket(reader, writer, headers)
            return
        n = int(headers.get("content-length", "0") or 0)
        if 0 < n <= MAX_BODY:
            await reader.readexactly(n)
        body = json.dumps(answer(path, headers)).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main(port_file, log_path):
    parent = os.getppid()
    server = await asyncio.start_server(lambda r, w: handle(r, w, log_path), "127.0.0.1", 0, limit=MAX_HEAD)
    port = server.sockets[0].getsockname()[1]
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("127.0.0.1:%d\n" % port)
    os.rename(tmp, port_file)
    for _ in range(LIFETIME * 10):
        if os.getppid() != parent:
            break
        await asyncio.sleep(0.1)
    server.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write("usage: header_server.py PORTFILE LOGFILE\n")
        sys.exit(2)
    asyncio.run(main(sys.argv[1], sys.argv[2]))
