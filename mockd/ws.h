/*
 * ws: WebSocket (RFC 6455) on top of evhttp, framed by wslay.
 *
 * libevent 2.1 has no WebSocket, so an API's route handler calls ws_accept():
 * it checks the handshake, writes "101 Switching Protocols" itself and takes
 * over the connection's bufferevent, driving a wslay server context from it.
 * From then on the API sees whole text messages (fragments reassembled, UTF-8
 * checked: 1007 otherwise), and sends text or JSON.  Pings are answered,
 * unmasked client frames are refused (1002), binary messages too (1003), a
 * message over WS_MAX_MESSAGE is refused (1009).  However the peer leaves,
 * on_close is called once and everything is freed.
 */
#ifndef CC_MOCKD_WS_H
#define CC_MOCKD_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "mockd/http.h"
#include "mockd/reply.h"

#define WS_MAX_MESSAGE   (1u * 1024 * 1024)   /* a larger client message is closed with 1009 */
#define WS_MAX_OUTPUT    (16u * 1024 * 1024)  /* a client this far behind is closed 1008 (ws.c ws_check_backlog) */
#define WS_MSG_COST      128                  /* what a queued message costs besides its bytes, counted to the cap */
#define WS_IDLE_SECONDS  300                  /* no frame for this long: close 1001 */
#define WS_CLOSE_WAIT_MS 3000                 /* after our close frame, wait this long for the peer's */

struct ws_conn;

struct ws_ops {
	/* A complete, valid UTF-8 text message. */
	void (*on_text)(struct ws_conn *c, const char *msg, size_t len);
	/* The connection is going away: forget it and free its data. Called once. */
	void (*on_close)(struct ws_conn *c);
};

/*
 * Check the upgrade request and switch r's connection to WebSocket. On a bad
 * handshake (not GET, no Upgrade: websocket, no Connection: Upgrade, a key that
 * is not 16 bytes of base64, a version other than 13) r is answered 400 and
 * NULL returned; from an Origin that CORS refuses (cors.h), 403.
 */
struct ws_conn *ws_accept(struct mreq *r, const struct ws_ops *ops, void *data);
/* Queue a text message (sent as soon as the loop allows); -1 when the connection is closing. */
int ws_send_text(struct ws_conn *c, const char *p, size_t n);
/* Queue a C string as a text message. */
int ws_send_str(struct ws_conn *c, const char *text);
/* Queue a JSON value as a text message. */
int ws_send_json(struct ws_conn *c, const cJSON *v);
/* Bytes queued for the peer and not yet handed to the kernel. */
size_t ws_pending(const struct ws_conn *c);
/*
 * Call fn(arg) once, when everything queued has been handed to the kernel
 * (the backpressure of a reply); NULL cancels. Not called once the connection
 * is going away: on_close comes instead.
 */
void ws_on_drain(struct ws_conn *c, void (*fn)(void *arg), void *arg);
/*
 * What every WebSocket reply sink (reply.h) shares, for a reply whose r->conn
 * is the ws_conn that asked: its backlog, the wait for it to drain, and a cut.
 */
size_t ws_reply_pending(struct reply *r);
void ws_reply_watch(struct reply *r);
void ws_reply_cut(struct reply *r, bool reset);
/* The reply is over: stop waiting for its drain (call from the sink's release). */
void ws_reply_release(struct reply *r);
/* Start the close handshake with code and reason; nothing more can be sent. */
void ws_close(struct ws_conn *c, uint16_t code, const char *reason);
/* Drop the connection without a close frame (reset: with a TCP reset), on the next turn. */
void ws_abort(struct ws_conn *c, bool reset);
/* True once a close frame has been queued or the connection is gone. */
bool ws_closing(const struct ws_conn *c);
/* The API's data given to ws_accept. */
void *ws_data(const struct ws_conn *c);
/* The client's address. */
const char *ws_peer(const struct ws_conn *c);
/* The path and query of the upgrade request, as sent (credentials too: redact before showing). */
const char *ws_target(const struct ws_conn *c);
/*
 * Called after each data message a client sent has been handled (kind "text"
 * or "binary", its length, the time its handling took): the access log. One
 * observer; NULL for none.
 */
typedef void (*ws_observer_fn)(const struct ws_conn *c, const char *kind, size_t len, int64_t duration_us);
void ws_observe(ws_observer_fn fn);
/*
 * An inbox of text messages that must wait (an API handles a connection's
 * frames in order, and some must wait for the reply in flight). Bounded.
 */
struct ws_msg {
	char *text;
	size_t len;
	struct ws_msg *next;
};

struct ws_inbox {
	struct ws_msg *first, *last;
	size_t count;
	size_t max;
};

/* Append a copy of a message; -1 when the inbox is full or memory is short. */
int ws_inbox_push(struct ws_inbox *q, const char *text, size_t len);
/* Take the oldest message (the caller frees it with ws_msg_free), or NULL. */
struct ws_msg *ws_inbox_pop(struct ws_inbox *q);
void ws_msg_free(struct ws_msg *m);
/* Free every message. */
void ws_inbox_release(struct ws_inbox *q);
/* Close every connection with code (shutdown: 1001). */
void ws_close_all(uint16_t code, const char *reason);
/* Free every connection at once (after the loop has ended, before evhttp_free). */
void ws_free_all(void);
/* Number of open connections. */
size_t ws_count(void);
/* The bytes queued for every open WebSocket's client (ws_pending summed). O(connections). */
size_t ws_pending_total(void);

#endif
