#include "mockd/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/utf8.h"
#include "mockd/breaks.h"
#include "mockd/cors.h"
#include "mockd/mockd.h"
#include "mockd/tls.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct ws_conn {
	struct evhttp_connection *evcon;  /* owns the bufferevent and the socket */
	struct bufferevent *bev;
	wslay_event_context_ptr ctx;
	const struct ws_ops *ops;
	void *data;
	char peer[64];
	char target[256];                  /* the upgrade's path and query, for the access log (cut to fit) */
	struct event *close_timer;         /* gives up on a peer that never answers our close */
	struct event *later;               /* a teardown asked for outside the bufferevent's callbacks */
	bool in_recv;                      /* inside wslay_event_recv: sending waits until it returns */
	bool close_pending;                /* ws_close was called; the close frame follows the queued messages */
	bool draining;                     /* our close is out: read and drop until the peer leaves */
	uint16_t close_code;
	char close_reason[124];
	bool closed_cb_done;
	bool dead;                         /* torn down; only the deferred free is left */
	bool overflowed;                   /* more than WS_MAX_OUTPUT behind: closing, reading stopped */
	bool failed;                       /* a frame wslay could not read: our 1002 is out, nothing else */
	void (*on_drain)(void *arg);       /* called once when everything queued has left (ws_on_drain) */
	void *drain_arg;
	struct ws_conn *prev, *next;
};

static struct ws_conn *conns;
static size_t nconns;
static ws_observer_fn observer;

/* ---- the handshake --------------------------------------------------------------------- */

/* True when the comma-separated header value holds token (case-insensitive). */
static bool has_token(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = value; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
			trimmed--;
		if (trimmed == n && strncasecmp(p, token, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* A Sec-WebSocket-Key must be the base64 of exactly 16 bytes (RFC 6455 4.2.1). */
static bool key_ok(const char *key)
{
	size_t n = strlen(key);
	if (n != 24 || key[22] != '=' || key[23] != '=')
		return false;
	unsigned char out[24];
	return EVP_DecodeBlock(out, (const unsigned char *)key, 24) == 18;
}

static void accept_value(const char *key, char *out)
{
	char joined[128];
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	int n = snprintf(joined, sizeof(joined), "%s%s", key, WS_GUID);
	EVP_Digest(joined, (size_t)n, digest, &dlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)out, digest, (int)dlen);
}

static void bad_handshake(struct mreq *r, const char *why)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"bad WebSocket handshake: %s\"}", why);
	reply_raw(r, 400, "application/json; charset=utf-8", body, (size_t)n);
}

/* ---- teardown ------------------------------------------------------------------------------ */

static void free_evcon_cb(evutil_socket_t fd, short what, void *arg)
{
	evhttp_connection_free(arg);
}

/* Tell the API, unlink, and free; the evhttp connection (and the socket) is freed from the loop. */
static void ws_teardown(struct ws_conn *c, bool defer)
{
	if (c->dead)
		return;
	c->dead = true;
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (!c->closed_cb_done && c->ops->on_close) {
		c->closed_cb_done = true;
		c->ops->on_close(c);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nconns--;
	if (c->close_timer)
		event_free(c->close_timer);
	if (c->later)
		event_free(c->later);
	wslay_event_context_free(c->ctx);
	/* Freeing the evhttp connection from inside its bufferevent's callbacks makes libevent warn. */
	struct timeval now = { 0, 0 };
	if (!defer || event_base_once(mockd_base, -1, EV_TIMEOUT, free_evcon_cb, c->evcon, &now) < 0)
		evhttp_connection_free(c->evcon);
	free(c);
}

/* ---- wslay callbacks ----------------------------------------------------------------------- */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
	struct ws_conn *c = arg;
	size_t got = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
	if (got == 0 || got == (size_t)-1) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return (ssize_t)got;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct ws_conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) > WS_MAX_OUTPUT) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (evbuffer_add(out, data, len) < 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

/* A close frame whose payload is one byte cannot hold a code: RFC 6455 5.5.1 makes it a protocol error. */
static void frame_start_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_start_arg *arg,
			   void *user)
{
	if (arg->opcode == WSLAY_CONTINUATION_FRAME && break_on(BRK_WS_FRAGMENTS)) {
		wslay_event_queue_close(ctx, WSLAY_CODE_PROTOCOL_ERROR, NULL, 0);
		wslay_event_shutdown_read(ctx);
	}
	if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->payload_length == 1) {
		wslay_event_queue_close(ctx, WSLAY_CODE_PROTOCOL_ERROR, NULL, 0);
		wslay_event_shutdown_read(ctx);
	}
}

/* Close codes a peer may send (RFC 6455 7.4): 1000-1003, 1007-1011, 3000-4999. */
static bool close_code_ok(uint16_t code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
	       (code >= 3000 && code <= 4999);
}

static void handle_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	struct ws_conn *c = user;
	const char *msg = (const char *)arg->msg;
	switch (arg->opcode) {
	case WSLAY_TEXT_FRAME:
		/* wslay 1.1 closes with 1007 itself before this; the check stays for builds that do not. */
		if (!utf8_valid(msg, arg->msg_length)) {
			ws_close(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "text message is not valid UTF-8");
			return;
		}
		if (!ws_closing(c))
			c->ops->on_text(c, msg, arg->msg_length);
		return;
	case WSLAY_BINARY_FRAME:
		if (break_on(BRK_WS_BINARY) && utf8_valid(msg, arg->msg_length)) {
			c->ops->on_text(c, msg, arg->msg_length);
			return;
		}
		ws_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not supported");
		return;
	case WSLAY_CONNECTION_CLOSE:
		/* Answer a bad close frame with 1002/1007 now: right after this wslay echoes the peer's code. */
		if (wslay_event_get_close_sent(ctx))
			return;
		if (arg->msg_length >= 2 && !close_code_ok(arg->status_code))
			wslay_event_queue_close(ctx, WSLAY_CODE_PROTOCOL_ERROR, NULL, 0);
		else if (arg->msg_length > 2 && !utf8_valid(msg + 2, arg->msg_length - 2))
			wslay_event_queue_close(ctx, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, NULL, 0);
		return;
	default:
		return; /* ping is answered by wslay, pong needs nothing */
	}
}

/* Handle a message, then show a data message (not a control frame) to the observer. */
static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	int64_t t0 = observer ? mono_us() : 0;
	handle_msg(ctx, arg, user);
	if (observer && (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME))
		observer(user, arg->opcode == WSLAY_TEXT_FRAME ? "text" : "binary", arg->msg_length, mono_us() - t0);
}

/* ---- the loop side ------------------------------------------------------------------------ */

static void close_timer_cb(evutil_socket_t fd, short what, void *arg);
static void ws_end(struct ws_conn *c, bool in_callback);

/*
 * What a connection holds for its peer: the bufferevent's output, the bytes in
 * wslay's queue, and what each queued message costs besides its bytes (a pong
 * to an empty ping has none, yet 2,000,000 of them took 410 MB). O(1).
 */
static size_t ws_backlog(const struct ws_conn *c)
{
	return ws_pending(c) + wslay_event_get_queued_msg_count(c->ctx) * WS_MSG_COST;
}

/*
 * A client more than WS_MAX_OUTPUT behind (it does not read, or far slower than
 * it is sent to): stop reading it, so that its pings queue no more pongs, and
 * let nothing more be queued for it; a close frame 1008 goes behind what is
 * buffered already, and the connection is dropped WS_CLOSE_WAIT_MS later
 * whether it got out or not. Nothing is freed here: an API may be in the middle
 * of a broadcast over this connection.
 */
static bool ws_check_backlog(struct ws_conn *c)
{
	if (c->dead || c->overflowed || ws_backlog(c) <= WS_MAX_OUTPUT)
		return false;
	c->overflowed = true;
	c->close_pending = false;
	log_warn("WebSocket client %s is more than %u MiB behind: closing it (1008)", c->peer,
		 WS_MAX_OUTPUT >> 20);
	bufferevent_disable(c->bev, EV_READ);
	wslay_event_shutdown_read(c->ctx);
	if (!wslay_event_get_close_sent(c->ctx))
		wslay_event_queue_close(c->ctx, WSLAY_CODE_POLICY_VIOLATION, (const uint8_t *)"too far behind", 14);
	if (!c->close_timer) {
		c->close_timer = evtimer_new(mockd_base, close_timer_cb, c);
		struct timeval tv = { WS_CLOSE_WAIT_MS / 1000, (WS_CLOSE_WAIT_MS % 1000) * 1000 };
		if (c->close_timer)
			evtimer_add(c->close_timer, &tv);
	}
	if (!c->close_timer)
		ws_end(c, false);
	return true;
}

/*
 * Our close frame is out but the peer has not closed (it may still be sending
 * the message that made us close, e.g. an oversized one). Closing the socket
 * with its bytes unread would make the kernel send a reset, and the peer would
 * never read our close frame; so send FIN, drop whatever still arrives, and let
 * the peer's EOF or the close timer end it.
 */
static void ws_drain(struct ws_conn *c)
{
	if (c->draining)
		return;
	c->draining = true;
	if (tls_bufferevent(c->bev))
		tls_flush_now(c->bev, true);  /* close_notify before the FIN */
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	if (!c->close_timer) {
		c->close_timer = evtimer_new(mockd_base, close_timer_cb, c);
		struct timeval tv = { WS_CLOSE_WAIT_MS / 1000, (WS_CLOSE_WAIT_MS % 1000) * 1000 };
		if (c->close_timer)
			evtimer_add(c->close_timer, &tv);
	}
	evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
}

/*
 * Send what wslay has queued; tear down when both directions are done. wslay
 * sends control frames before data frames, so our close frame is queued only
 * once the messages before it have left: an error event then its close code
 * arrive in that order.
 */
static void later_cb(evutil_socket_t fd, short what, void *arg)
{
	ws_teardown(arg, true);
}

/*
 * Tear down now from the bufferevent's own callbacks; from an API's call
 * (ws_send_text, ws_close) on the next turn instead, so that the API never
 * finds its connection's state freed under it in the middle of a broadcast.
 */
static void ws_end(struct ws_conn *c, bool in_callback)
{
	if (in_callback) {
		ws_teardown(c, true);
		return;
	}
	if (c->later)
		return;
	c->later = evtimer_new(mockd_base, later_cb, c);
	struct timeval now = { 0, 0 };
	if (!c->later || evtimer_add(c->later, &now) < 0)
		ws_teardown(c, true); /* out of memory: now is the only choice left */
}

static void ws_pump(struct ws_conn *c, bool in_callback)
{
	if (c->dead || c->in_recv)
		return;
	if (wslay_event_send(c->ctx) < 0) {
		ws_end(c, in_callback);
		return;
	}
	if (c->close_pending && wslay_event_get_queued_msg_count(c->ctx) == 0) {
		c->close_pending = false;
		wslay_event_queue_close(c->ctx, c->close_code, (const uint8_t *)c->close_reason,
					strlen(c->close_reason));
		if (wslay_event_send(c->ctx) < 0) {
			ws_end(c, in_callback);
			return;
		}
	}
	bool reading = wslay_event_want_read(c->ctx), writing = wslay_event_want_write(c->ctx);
	if (reading || writing || evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;
	if (wslay_event_get_close_received(c->ctx)) {
		ws_end(c, in_callback);
		return;
	}
	ws_drain(c);
}

/*
 * A frame wslay cannot read (a fragmented or oversized control frame, a bad
 * length): it has stopped reading and queued a close without a code. RFC 6455
 * 7.1.7: fail the connection, with a close frame that says why. The 1002 goes
 * behind what is already in the output (a 101 the client has not had yet, the
 * frames before), and wslay sends nothing more; ws_pump then half-closes once
 * it is out, and the client's EOF or the close timer ends it. What the client
 * sends meanwhile is read and dropped (read_cb), not kept.
 */
static void fail_connection(struct ws_conn *c)
{
	static const unsigned char close_1002[] = { 0x88, 0x02, 0x03, 0xea };
	wslay_event_shutdown_read(c->ctx);
	if (!wslay_event_get_close_sent(c->ctx) && !c->failed)
		evbuffer_add(bufferevent_get_output(c->bev), close_1002, sizeof(close_1002));
	wslay_event_shutdown_write(c->ctx);
	c->failed = true;
	c->close_pending = false;
	ws_pump(c, true);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct ws_conn *c = arg;
	if (c->draining || c->failed) {
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	c->in_recv = true;
	int rc = wslay_event_recv(c->ctx);
	c->in_recv = false;
	if (rc < 0) {
		fail_connection(c);
		return;
	}
	ws_check_backlog(c); /* the pongs to a flood of pings; before ws_pump, which may tear c down */
	ws_pump(c, true);
}

/*
 * The output has been written. A reply waiting for this client to catch up is
 * told first (it only queues itself: nothing is sent from here), then what
 * wslay holds goes out; ws_pump may tear c down, so nothing of c after it.
 */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct ws_conn *c = arg;
	if (c->on_drain && !c->dead && ws_pending(c) == 0) {
		void (*fn)(void *) = c->on_drain;
		c->on_drain = NULL;
		fn(c->drain_arg);
	}
	ws_pump(c, true);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ws_conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		ws_close(c, WSLAY_CODE_GOING_AWAY, "idle");
		if (!c->dead)
			bufferevent_enable(bev, EV_READ);
		return;
	}
	/* EOF or an error: the peer is gone (whatever is left in the input cannot be answered). */
	ws_teardown(c, true);
}

static void close_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	ws_teardown(arg, false);
}

struct ws_conn *ws_accept(struct mreq *r, const struct ws_ops *ops, void *data)
{
	const char *upgrade = mreq_header(r, "Upgrade"), *connection = mreq_header(r, "Connection");
	const char *key = mreq_header(r, "Sec-WebSocket-Key"), *version = mreq_header(r, "Sec-WebSocket-Version");
	/* A browser names the page's origin; one CORS refuses is refused here too (a non-browser sends none). */
	if (cors_check(r->req) == CORS_REFUSED) {
		static const char refused[] = "{\"error\":\"origin not allowed\"}";
		reply_raw(r, 403, "application/json; charset=utf-8", refused, sizeof(refused) - 1);
		return NULL;
	}
	if (strcmp(r->method, "GET") != 0)
		return bad_handshake(r, "the method must be GET"), NULL;
	if (!upgrade || !has_token(upgrade, "websocket"))
		return bad_handshake(r, "Upgrade: websocket is missing"), NULL;
	if (!connection || !has_token(connection, "upgrade"))
		return bad_handshake(r, "Connection: Upgrade is missing"), NULL;
	if (!key || !key_ok(key))
		return bad_handshake(r, "Sec-WebSocket-Key must be the base64 of 16 bytes"), NULL;
	if (!version || strcmp(version, "13") != 0) {
		reply_header(r, "Sec-WebSocket-Version", "13");
		return bad_handshake(r, "Sec-WebSocket-Version must be 13"), NULL;
	}

	struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct ws_conn *c = calloc(1, sizeof(*c));
	static const struct wslay_event_callbacks callbacks = {
		recv_cb, send_cb, NULL, frame_start_cb, NULL, NULL, msg_cb,
	};
	if (!bev || !c || wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0) {
		free(c);
		reply_raw(r, 500, "application/json; charset=utf-8", "{\"error\":\"out of memory\"}", 25);
		return NULL;
	}
	wslay_event_config_set_max_recv_msg_length(c->ctx, break_on(BRK_WS_SIZE) ? 16 * WS_MAX_MESSAGE : WS_MAX_MESSAGE);
	c->evcon = evcon;
	c->bev = bev;
	c->ops = ops;
	c->data = data;
	snprintf(c->peer, sizeof(c->peer), "%s", r->peer);
	snprintf(c->target, sizeof(c->target), "%s%s%s", r->path, r->query_raw ? "?" : "", r->query_raw ? r->query_raw : "");
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	nconns++;

	char accept[64];
	accept_value(key, accept);
	evbuffer_add_printf(bufferevent_get_output(bev),
			    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
	r->status = 101;
	r->streaming = true;
	/* From here the bufferevent is ours: evhttp's callbacks and timeouts are replaced. */
	struct timeval idle = { WS_IDLE_SECONDS, 0 };
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
	bufferevent_set_timeouts(bev, &idle, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	/* Frames the client sent right behind its handshake are already in the input. */
	if (evbuffer_get_length(bufferevent_get_input(bev)))
		bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	return c;
}

size_t ws_pending(const struct ws_conn *c)
{
	if (c->dead)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(c->bev)) + wslay_event_get_queued_msg_length(c->ctx);
}

void ws_on_drain(struct ws_conn *c, void (*fn)(void *arg), void *arg)
{
	c->on_drain = fn;
	c->drain_arg = arg;
}

size_t ws_reply_pending(struct reply *r)
{
	return ws_pending(r->conn);
}

static void reply_drained_cb(void *arg)
{
	reply_drained(arg);
}

void ws_reply_watch(struct reply *r)
{
	ws_on_drain(r->conn, reply_drained_cb, r);
}

void ws_reply_cut(struct reply *r, bool reset)
{
	ws_abort(r->conn, reset);
}

void ws_reply_release(struct reply *r)
{
	struct ws_conn *c = r->conn;
	if (c->on_drain == reply_drained_cb && c->drain_arg == r)
		ws_on_drain(c, NULL, NULL);
}

int ws_send_text(struct ws_conn *c, const char *p, size_t n)
{
	if (ws_closing(c))
		return -1;
	struct wslay_event_msg msg = { WSLAY_TEXT_FRAME, (const uint8_t *)p, n };
	if (wslay_event_queue_msg(c->ctx, &msg) != 0)
		return -1;
	ws_pump(c, false);
	return ws_check_backlog(c) ? -1 : 0;
}

int ws_send_str(struct ws_conn *c, const char *text)
{
	return ws_send_text(c, text, strlen(text));
}

int ws_send_json(struct ws_conn *c, const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	if (!text)
		return -1;
	int rc = ws_send_text(c, text, strlen(text));
	cJSON_free(text);
	return rc;
}

void ws_close(struct ws_conn *c, uint16_t code, const char *reason)
{
	if (c->dead || c->close_pending || c->overflowed || wslay_event_get_close_sent(c->ctx))
		return;
	c->close_pending = true;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%.123s", reason ? reason : "");
	if (!c->close_timer) {
		c->close_timer = evtimer_new(mockd_base, close_timer_cb, c);
		struct timeval tv = { WS_CLOSE_WAIT_MS / 1000, (WS_CLOSE_WAIT_MS % 1000) * 1000 };
		if (c->close_timer)
			evtimer_add(c->close_timer, &tv);
	}
	ws_pump(c, false);
}

void ws_abort(struct ws_conn *c, bool reset)
{
	if (c->dead)
		return;
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	if (reset && fd >= 0)
		http_reset_now(fd);
	c->close_pending = false;
	wslay_event_shutdown_read(c->ctx);
	wslay_event_shutdown_write(c->ctx);
	ws_end(c, false);
}

bool ws_closing(const struct ws_conn *c)
{
	return c->dead || c->later || c->close_pending || c->overflowed || c->failed ||
	       wslay_event_get_close_sent(c->ctx);
}

void *ws_data(const struct ws_conn *c)
{
	return c->data;
}

const char *ws_peer(const struct ws_conn *c)
{
	return c->peer;
}

const char *ws_target(const struct ws_conn *c)
{
	return c->target;
}

void ws_observe(ws_observer_fn fn)
{
	observer = fn;
}

void ws_close_all(uint16_t code, const char *reason)
{
	for (struct ws_conn *c = conns, *next; c; c = next) {
		next = c->next;
		ws_close(c, code, reason);
	}
}

void ws_free_all(void)
{
	while (conns)
		ws_teardown(conns, false);
}

size_t ws_count(void)
{
	return nconns;
}

size_t ws_pending_total(void)
{
	size_t n = 0;
	for (const struct ws_conn *c = conns; c; c = c->next)
		n += ws_pending(c);
	return n;
}

int ws_inbox_push(struct ws_inbox *q, const char *text, size_t len)
{
	if (q->count >= q->max)
		return -1;
	struct ws_msg *m = calloc(1, sizeof(*m));
	if (!m || !(m->text = malloc(len + 1))) {
		free(m);
		return -1;
	}
	if (len)
		memcpy(m->text, text, len);  /* an empty message may come as NULL (wslay's), and memcpy's may not be */
	m->text[len] = '\0';
	m->len = len;
	if (q->last)
		q->last->next = m;
	else
		q->first = m;
	q->last = m;
	q->count++;
	return 0;
}

struct ws_msg *ws_inbox_pop(struct ws_inbox *q)
{
	struct ws_msg *m = q->first;
	if (!m)
		return NULL;
	q->first = m->next;
	if (!q->first)
		q->last = NULL;
	q->count--;
	return m;
}

void ws_msg_free(struct ws_msg *m)
{
	if (m)
		free(m->text);
	free(m);
}

void ws_inbox_release(struct ws_inbox *q)
{
	struct ws_msg *m;
	while ((m = ws_inbox_pop(q)))
		ws_msg_free(m);
}
