#!/usr/bin/python3
"""The null and yes servers of the honest tests (tests/integration/test_honest.c).

    /usr/bin/python3 tests/integration/stub_server.py null|yes PORTFILE [LIFETIME_S]

null: every HTTP request is answered 404 with the body {} (application/json), and every WebSocket
      upgrade is refused with the same 404.
yes:  every HTTP request is answered 200 with the body {} (application/json); every WebSocket upgrade
      is accepted, and then nothing is ever sent: frames are read and dropped, pings answered, and the
      connection closed when the client closes it.

No case that checks a documented behaviour can pass against either (a server that says nothing), so
the cases that do are listed, each with its reason, in tests/data/honest/{null,yes}-pass.txt.

HTTP/1.1 keep-alive, Content-Length on every answer. Listens on 127.0.0.1 port 0 and writes
"127.0.0.1:PORT\\n" to PORTFILE; stops by itself after LIFETIME_S (default 300) seconds, or as soon as
its parent has gone.
"""
import sys

import tiny_httpd

JSON = [("Content-Type", "application/json")]


class Null:
    def http(self, req):
        return 404, JSON, b"{}"

    def websocket(self, req):
        return 404, JSON, b"{}"


class Yes:
    def http(self, req):
        return 200, JSON, b"{}"

    def websocket(self, req):
        return None

    async def ws_session(self, ws, req):
        ws.validate_utf8 = False   # it reads nothing, so it judges nothing: not even UTF-8
        await ws.drain_until_closed()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("null", "yes"):
        sys.stderr.write("usage: stub_server.py null|yes PORTFILE [LIFETIME_S]\n")
        sys.exit(2)
    app = Null() if sys.argv[1] == "null" else Yes()
    tiny_httpd.serve(app, sys.argv[2], float(sys.argv[3]) if len(sys.argv) == 4 else 300)
