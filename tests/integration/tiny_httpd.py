"""A small HTTP/1.1 + WebSocket server for the honest tests (tests/integration/test_honest.c).

Used by stub_server.py, threads_token_server.py and widget_details_server.py, with /usr/bin/python3,
its standard library and Debian's python3-websockets (10.4, its sans-I/O ServerConnection does the
WebSocket framing: masking 1002, oversized messages 1009, pings, the closing handshake).

HTTP: keep-alive, request bodies by Content-Length or chunked, every answer with Content-Length.
An application object provides:

    app.http(req) -> (status, headers list, body bytes, or a list of bytes sent PACE_S apart)
    app.websocket(req) -> None to accept (then app.ws_session(ws) runs), or (status, headers, body)
                          to refuse the upgrade (the connection is then closed)
    app.ws_session(ws)   coroutine: await ws.recv() -> str | bytes | None (closed); await ws.send(str)

req has .method, .path (without the query), .target, .query (dict of first values), .headers (dict,
lowercased names, first value), .raw_headers (list), .body (bytes), .head_size.

serve(app, port_file, lifetime) listens on 127.0.0.1 port 0, writes "127.0.0.1:PORT\\n" to port_file
(atomically) and stops after lifetime seconds, or as soon as its parent process has gone.
"""
import asyncio
import os
import urllib.parse

from websockets.frames import OP_BINARY, OP_CLOSE, OP_CONT, OP_TEXT
from websockets.server import ServerConnection
from websockets.connection import State

MAX_HEAD = 1 << 20
MAX_BODY = 16 << 20
REASONS = {101: "Switching Protocols", 200: "OK", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large",
           429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error"}


class Request:
    pass


class BadRequest(Exception):
    pass


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(lines[0])
    req = Request()
    req.method, req.target, req.version = parts
    url = urllib.parse.urlsplit(req.target)
    req.path = url.path
    req.query = {}
    for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
        req.query.setdefault(k, v)
    req.raw_headers = []
    req.headers = {}
    for line in lines[1:]:
        if not line:
            continue
        if ":" not in line:
            raise BadRequest(line)
        name, value = line.split(":", 1)
        name, value = name.strip(), value.strip()
        req.raw_headers.append((name, value))
        req.headers.setdefault(name.lower(), value)
    req.head_size = len(head)
    return req


PACE_S = 0.015   # seconds between the parts of a streamed answer (app.http returning a list of bytes)


def response_bytes(status, headers, body, close=False):
    out = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status"))]
    names = set()
    for k, v in headers:
        out.append("%s: %s" % (k, v))
        names.add(k.lower())
    out.append("Content-Length: %d" % len(body))
    if close:
        out.append("Connection: close")
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body


async def read_body(reader, req):
    te = req.headers.get("transfer-encoding", "").lower()
    if "chunked" in te:
        body = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise BadRequest("body too large")
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    n = int(req.headers.get("content-length", "0") or "0")
    if n > MAX_BODY:
        raise BadRequest("body too large")
    return await reader.readexactly(n) if n else b""


class WebSocket:
    """One accepted connection: text and binary messages in, text out; pings and closes handled."""

    def __init__(self, conn, reader, writer):
        self.conn, self.reader, self.writer = conn, reader, writer
        self.parts = []
        self.opcode = None
        self.queue = []
        self.validate_utf8 = True   # False: text frames are kept as bytes, unchecked

    async def flush(self):
        data = self.conn.data_to_send()
        for chunk in data:
            if chunk:
                self.writer.write(chunk)
            else:
                try:
                    self.writer.write_eof()
                except (OSError, RuntimeError):
                    pass
        try:
            await self.writer.drain()
        except (ConnectionError, OSError):
            pass

    def closed(self):
        return self.conn.state in (State.CLOSING, State.CLOSED)

    async def recv(self):
        """The next whole message (str or bytes), or None once the connection is closing."""
        while True:
            if self.queue:
                return self.queue.pop(0)
            if self.closed():
                return None
            try:
                data = await self.reader.read(65536)
            except (ConnectionError, OSError):
                data = b""
            if data:
                self.conn.receive_data(data)
            else:
                self.conn.receive_eof()
            for ev in self.conn.events_received():
                self._frame(ev)
            await self.flush()
            if not data:
                return None

    def _frame(self, f):
        if f.opcode in (OP_TEXT, OP_BINARY):
            self.opcode, self.parts = f.opcode, [f.data]
        elif f.opcode is OP_CONT:
            self.parts.append(f.data)
        else:
            return
        if not f.fin:
            return
        data = b"".join(self.parts)
        self.parts = []
        if self.opcode is OP_TEXT and self.validate_utf8:
            try:
                self.queue.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                self.queue = []
                self.conn.fail(1007, "invalid UTF-8")
        else:
            self.queue.append(bytes(data))

    async def send(self, text):
        if self.conn.state is State.OPEN:
            self.conn.send_text(text.encode("utf-8"))
            await self.flush()

    async def close(self, code=1000, reason=""):
        if self.conn.state is State.OPEN:
            self.conn.send_close(code, reason)
            await self.flush()

    async def drain_until_closed(self):
        """Read and discard until the peer closes (or goes)."""
        while await self.recv() is not None:
            pass


async def websocket_session(app, req, head, reader, writer):
    conn = ServerConnection(max_size=1 << 20)
    conn.receive_data(head)
    events = conn.events_received()
    response = conn.accept(events[0])
    conn.send_response(response)
    ws = WebSocket(conn, reader, writer)
    await ws.flush()
    if response.status_code != 101:
        return
    try:
        await app.ws_session(ws, req)
    finally:
        if ws.conn.state is State.OPEN:
            await ws.close(1000)
            # wait briefly for the client's close
            try:
                await asyncio.wait_for(ws.drain_until_closed(), 2)
            except asyncio.TimeoutError:
                pass


async def handle(app, reader, writer):
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                writer.write(response_bytes(431, [("Content-Type", "application/json")], b"{}", close=True))
                return
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            try:
                req = parse_head(head)
            except BadRequest:
                writer.write(response_bytes(400, [("Content-Type", "application/json")], b"{}", close=True))
                return
            if req.headers.get("upgrade", "").lower() == "websocket":
                refused = app.websocket(req)
                if refused is None:
                    await websocket_session(app, req, head, reader, writer)
                else:
                    status, headers, body = refused
                    writer.write(response_bytes(status, headers, body, close=True))
                return
            try:
                req.body = await read_body(reader, req)
            except BadRequest:
                writer.write(response_bytes(413, [("Content-Type", "application/json")], b"{}", close=True))
                return
            status, headers, body = app.http(req)
            close = req.headers.get("connection", "").lower() == "close" or req.version == "HTTP/1.0"
            if isinstance(body, list):
                # A streamed answer: the parts go out one at a time, PACE_S apart, as a server that
                # flushes each event does (the Content-Length still covers them all).
                whole = response_bytes(status, headers, b"".join(body), close=close)
                writer.write(whole[:len(whole) - sum(len(p) for p in body)])
                for part in body:
                    writer.write(part)
                    await writer.drain()
                    await asyncio.sleep(PACE_S)
            else:
                writer.write(response_bytes(status, headers, body, close=close))
            await writer.drain()
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        pass
    finally:
        try:
            await writer.drain()
            writer.close()
        except (ConnectionError, OSError, RuntimeError):
            pass


async def main(app, port_file, lifetime):
    parent = os.getppid()
    server = await asyncio.start_server(lambda r, w: handle(app, r, w), "127.0.0.1", 0, limit=MAX_HEAD,
                                        backlog=256)
    port = server.sockets[0].getsockname()[1]
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("127.0.0.1:%d\n" % port)
    os.rename(tmp, port_file)
    for _ in range(int(lifetime * 10)):
        if os.getppid() != parent:
            break
        await asyncio.sleep(0.1)
    server.close()


def serve(app, port_file, lifetime):
    try:
        asyncio.run(main(app, port_file, lifetime))
    except KeyboardInterrupt:
        pass
