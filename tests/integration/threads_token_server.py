#!/usr/bin/python3
"""A threads server (spec/001_b8b80fb57dddedbc.txt, docs/spec-notes.md "threads") with ONE divergence.

    /usr/bin/python3 tests/integration/threads_token_server.py PORTFILE [LIFETIME_S]

The divergence: a valid `message` is answered with `token` frames,
    {"type":"token","status":"processing","content":"..."}
one per piece of the reply, as the public implementation (aibtcdev-backend) streams it, instead of the
document's `message_received` acknowledgment and assistant `message` frames.

Everything else is as the document and our decisions say (docs/spec-notes.md, mockd/apis/threads_ws.c):
WebSocket on /chat/ws; ?key= checked before ?token=, anything else 401 before the upgrade; threads
belong to the credential's profile (a thread_id in any case names one thread); `history` sends each stored message as a `message` frame (id,
thread_id, role, content, created_at ISO 8601 UTC with Z), oldest first, nothing for an empty thread;
both the user message and the whole reply are stored; errors are {"type":"error","message":...}:
"Thread ID is required", "Invalid thread ID format", "Invalid agent ID format", "Message content is
required", "Unknown message type: X" (None when missing), "Invalid JSON"; the connection stays open
after every error; frames are handled in order; fragmented messages are one message, invalid UTF-8 is
closed with 1007, a binary message with 1003. Any other path is 404.

Listens on 127.0.0.1 port 0, writes "127.0.0.1:PORT\\n" to PORTFILE, stops by itself after LIFETIME_S
(default 300) seconds or when its parent has gone. The credentials are the development ones.
"""
import datetime
import json
import re
import sys
import uuid

import tiny_httpd

JSON = [("Content-Type", "application/json")]
KEYS = {"00000000-0000-4000-8000-000000000001": "profile_dev"}
TOKENS = {"th-dev-token": "profile_dev", "th-dev-token-2": "profile_other"}
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
REPLY = ["Threads", " keep", " the", " conversation", "."]


def now_iso():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def error_body(message):
    return json.dumps({"type": "error", "message": message}).encode()


class Threads:
    def __init__(self):
        self.store = {}   # "profile:thread" -> [message dicts]

    def http(self, req):
        return 404, JSON, error_body("Not found")

    def profile(self, req):
        key, token = req.query.get("key"), req.query.get("token")
        if key is not None:
            return KEYS.get(key)
        if token is not None:
            return TOKENS.get(token)
        return None

    def websocket(self, req):
        if req.path != "/chat/ws":
            return 404, JSON, error_body("Not found")
        if self.profile(req) is None:
            given = "key" in req.query or "token" in req.query
            return 401, JSON, error_body("Invalid authentication" if given
                                         else "Missing authentication: give ?key= or ?token=")
        return None

    async def ws_session(self, ws, req):
        profile = self.profile(req)
        while True:
            msg = await ws.recv()
            if msg is None:
                return
            if isinstance(msg, bytes):
                await ws.close(1003, "binary messages are not supported")
                return
            for frame in self.handle(profile, msg):
                await ws.send(json.dumps(frame))

    @staticmethod
    def thread_error(msg):
        t = msg.get("thread_id")
        if t is None or t == "":
            return "Thread ID is required"
        if not isinstance(t, str) or not UUID_RE.match(t):
            return "Invalid thread ID format"
        return None

    def handle(self, profile, text):
        try:
            msg = json.loads(text)
        except ValueError:
            return [{"type": "error", "message": "Invalid JSON"}]
        t = msg.get("type") if isinstance(msg, dict) else None
        if not isinstance(t, str):
            t = None
        if t == "history":
            err = self.thread_error(msg)
            if err:
                return [{"type": "error", "message": err}]
            thread = msg["thread_id"]
            return [dict(m) for m in self.store.get(profile + ":" + thread.lower(), [])]
        if t == "message":
            err = self.thread_error(msg)
            if err:
                return [{"type": "error", "message": err}]
            agent = msg.get("agent_id")
            if agent is not None and (not isinstance(agent, str) or not UUID_RE.match(agent)):
                return [{"type": "error", "message": "Invalid agent ID format"}]
            content = msg.get("content")
            if not isinstance(content, str) or not content:
                return [{"type": "error", "message": "Message content is required"}]
            thread = msg["thread_id"]
            stored = self.store.setdefault(profile + ":" + thread.lower(), [])
            stored.append({"type": "message", "id": str(uuid.uuid4()), "thread_id": thread, "role": "user",
                           "content": content, "created_at": now_iso()})
            # THE DIVERGENCE: token frames, no message_received, no assistant message frames.
            frames = [{"type": "token", "status": "processing", "content": tok} for tok in REPLY]
            stored.append({"type": "message", "id": str(uuid.uuid4()), "thread_id": thread, "role": "assistant",
                           "content": "".join(REPLY), "created_at": now_iso()})
            return frames
        return [{"type": "error", "message": "Unknown message type: %s" % (t[:100] if t is not None else "None")}]


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: threads_token_server.py PORTFILE [LIFETIME_S]\n")
        sys.exit(2)
    tiny_httpd.serve(Threads(), sys.argv[1], float(sys.argv[2]) if len(sys.argv) == 3 else 300)
