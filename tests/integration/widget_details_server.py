#!/usr/bin/python3
"""A widget server (spec/003_b326a3eb5b6fef58.txt, docs/spec-notes.md "widget") with ONE divergence.

    /usr/bin/python3 tests/integration/widget_details_server.py PORTFILE [LIFETIME_S]

The divergence: every 400 body carries one extra member, `details` (what was wrong, as a validation
library would put it):
    {"error":"Invalid request payload","details":{"formErrors":[],"fieldErrors":{"sessionId":["..."]}}}
instead of the document's {"error":"Invalid request payload"}.

Everything else follows mockd/apis/widget.c: POST /v1/chat/stream and its alias POST /chat; checks in
the order rate limit (30 a 60 s window per first X-Forwarded-For entry, else the peer; every request
counts; 429 {"error":"Too many requests"} with Retry-After), then the key (x-api-key, or x-widget-api-key
only when x-api-key is absent; 401 {"error":"Unauthorized"}), then the body (sessionId matching
^[A-Za-z0-9._:-]{1,128}$, message a string of 1 to 4000 characters; else 400). A good request is a
200 NDJSON stream (application/x-ndjson; charset=utf-8, Cache-Control: no-store, no-transform,
X-Accel-Buffering: no): start{conversationId}, token{token}..., done{message, conversationId}; one
conversationId (32 lowercase letters and digits) per sessionId. Other methods on the two paths are 405
with Allow: POST, other paths 404, bodies over 2 MiB 413, headers over 16 KiB 431, every error JSON.

Listens on 127.0.0.1 port 0, writes "127.0.0.1:PORT\\n" to PORTFILE, stops by itself after LIFETIME_S
(default 300) seconds or when its parent has gone. The key is the development key.
"""
import json
import random
import re
import string
import sys
import time

import tiny_httpd

KEYS = {"widget-dev-key-0123456789abcdef"}
SESSION_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PATHS = ("/v1/chat/stream", "/chat")
LIMIT, WINDOW = 30, 60.0
MAX_BODY, MAX_HEAD = 2 << 20, 16 << 10
REPLY = ["We", " are", " a", " customer", " support", " platform", "."]
TEXTS = {400: "Invalid request payload", 401: "Unauthorized", 404: "Not found", 405: "Method not allowed",
         413: "Payload too large", 429: "Too many requests", 431: "Request header fields too large",
         500: "Internal server error"}


def error(status, extra=None, headers=()):
    body = {"error": TEXTS[status]}
    if extra:
        body.update(extra)
    return status, [("Content-Type", "application/json")] + list(headers), json.dumps(body).encode()


def reject_constant(name):
    raise ValueError(name)


class Widget:
    def __init__(self):
        self.windows = {}        # client -> (window start, count)
        self.conversations = {}  # sessionId -> conversationId

    def websocket(self, req):
        return error(404)

    def client(self, req):
        xff = req.headers.get("x-forwarded-for")
        if xff is not None:
            first = xff.split(",")[0].strip()
            if first:
                return first
        return "peer"

    def rate_ok(self, req):
        now = time.monotonic()
        key = self.client(req)
        start, count = self.windows.get(key, (now, 0))
        if now - start >= WINDOW:
            start, count = now, 0
        count += 1
        self.windows[key] = (start, count)
        if count > LIMIT:
            return False, max(1, int(WINDOW - (now - start) + 0.999))
        return True, 0

    @staticmethod
    def key_ok(req):
        if "x-api-key" in req.headers:
            return req.headers["x-api-key"] in KEYS
        return req.headers.get("x-widget-api-key") in KEYS

    @staticmethod
    def body_problem(raw):
        """None when the body is {sessionId, message} within the rules, else the `details` of the 400."""
        try:
            text = raw.decode("utf-8")
            if "\\u0000" in text:
                raise ValueError("NUL")
            body = json.loads(text, parse_constant=reject_constant)
        except ValueError as e:
            return {"formErrors": ["Malformed JSON: %s" % e], "fieldErrors": {}}
        if not isinstance(body, dict):
            return {"formErrors": ["Expected object"], "fieldErrors": {}}
        fields = {}
        s = body.get("sessionId")
        if not isinstance(s, str) or not SESSION_RE.fullmatch(s):
            fields["sessionId"] = ["Expected a string matching ^[A-Za-z0-9._:-]{1,128}$"]
        m = body.get("message")
        if not isinstance(m, str) or not 1 <= len(m) <= 4000:
            fields["message"] = ["Expected a string of 1 to 4000 characters"]
        return {"formErrors": [], "fieldErrors": fields} if fields else None

    def http(self, req):
        if req.head_size > MAX_HEAD:
            return error(431)
        if req.path not in PATHS:
            return error(404)
        if req.method != "POST":
            return error(405, headers=[("Allow", "POST")])
        if len(req.body) > MAX_BODY:
            return error(413)
        ok, retry = self.rate_ok(req)
        if not ok:
            return error(429, headers=[("Retry-After", str(retry))])
        if not self.key_ok(req):
            return error(401)
        problem = self.body_problem(req.body)
        if problem is not None:
            # THE DIVERGENCE: one member more than the document's 400 body.
            return error(400, {"details": problem})
        session = json.loads(req.body)["sessionId"]
        conv = self.conversations.get(session)
        if conv is None:
            conv = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(32))
            self.conversations[session] = conv
        lines = [{"type": "start", "conversationId": conv}]
        lines += [{"type": "token", "token": t} for t in REPLY]
        lines.append({"type": "done", "message": "".join(REPLY), "conversationId": conv})
        body = [(json.dumps(x, ensure_ascii=False) + "\n").encode() for x in lines]   # one line at a time
        return 200, [("Content-Type", "application/x-ndjson; charset=utf-8"),
                     ("Cache-Control", "no-store, no-transform"), ("X-Accel-Buffering", "no")], body


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: widget_details_server.py PORTFILE [LIFETIME_S]\n")
        sys.exit(2)
    tiny_httpd.serve(Widget(), sys.argv[1], float(sys.argv[2]) if len(sys.argv) == 3 else 300)
