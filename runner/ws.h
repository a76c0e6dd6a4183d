/*
 * ws: the runner's WebSocket client (RFC 6455), for ws:// and wss://.
 *
 * libcurl opens the connection (CURLOPT_CONNECT_ONLY on the http(s):// form of
 * the URL, so TCP, TLS and proxies are libcurl's), we send the HTTP/1.1 Upgrade
 * request and read the answer ourselves, and wslay does the framing: it
 * reassembles messages, masks what we send and answers pings and the
 * server's close.  Frames a well-behaved client never sends (unmasked, split
 * by hand, invalid UTF-8) are built here, for the checks that a server
 * refuses them.
 *
 * The prefix is wsc_ (client): mockd's server side, linked into the same
 * test programs, owns ws_.  A struct wsc_conn belongs to one thread; there
 * is no global state.  Everything read from the server is capped, and every
 * wait is bounded by a timeout.
 */
#ifndef CC_RUNNER_WS_H
#define CC_RUNNER_WS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "runner/http.h"
#include "runner/response.h"

#define WSC_MAX_MESSAGE      (1u << 20)    /* bytes of one received message; past it we close with 1009 */
#define WSC_MAX_FRAMES       10000u        /* frames received on one connection */
#define WSC_MAX_HANDSHAKE    (16u << 10)   /* bytes of the head of the server's handshake answer */
#define WSC_MAX_REFUSED_BODY (64u << 10)   /* bytes of the body kept from a refused handshake */
#define WSC_MAX_REQUEST      (1u << 20)    /* bytes of our upgrade request */
#define WSC_MAX_SEND         (16u << 20)   /* bytes of one message or frame we send */

enum wsc_opcode {
	WSC_CONTINUATION = 0x0,
	WSC_TEXT = 0x1,
	WSC_BINARY = 0x2,
	WSC_CLOSE = 0x8,
	WSC_PING = 0x9,
	WSC_PONG = 0xa,
};

enum wsc_result {
	WSC_OK = 0,
	WSC_TIMEOUT,     /* nothing within the time given */
	WSC_CLOSED,      /* the connection is over: no more messages will come */
	WSC_REFUSED,     /* wsc_connect: the server answered with a status other than 101 */
	WSC_INVALID,     /* wsc_connect: a 101 answer that breaks the handshake rules (wrong accept...) */
	WSC_ERROR,       /* transport or protocol failure; the message says which */
};

/* One received message (control frames are messages too). */
struct wsc_message {
	enum wsc_opcode opcode;  /* TEXT, BINARY, CLOSE, PING or PONG */
	char *data;              /* the payload, NUL-terminated; for a close, the reason only */
	size_t len;
	int close_code;          /* for a close: the code, 1005 when the frame had none */
	double at_ms;            /* when it was read, ms (with fractions) since the connection opened */
	struct wsc_message *next;
};

struct wsc_connect_options {
	const char *url;                        /* ws:// or wss://, already percent-encoded */
	const struct http_header_kv *headers;   /* extra headers; one named like ours replaces ours */
	size_t nheaders;
	int connect_timeout_ms;                 /* TCP and TLS */
	const char *ca_file;                    /* PEM certificates to trust for wss://, or NULL */
	int response_timeout_ms;                /* from sending the request to the end of the answer */
};

struct wsc_conn;

/*
 * Open a connection and do the opening handshake.  hs (response_init'ed by the
 * caller) gets the answer's status and headers, and for a refused handshake its
 * body (at most WSC_MAX_REFUSED_BODY bytes).  WSC_OK sets *out; WSC_REFUSED,
 * WSC_INVALID and WSC_ERROR leave it NULL, the last two with the reason in err.
 * The exchange, credentials redacted, is appended to transcript when not NULL.
 */
enum wsc_result wsc_connect(const struct wsc_connect_options *o, struct wsc_conn **out, struct response *hs,
			    struct buf *err, struct buf *transcript);
/* Close the TCP connection without a closing handshake and free c (NULL is fine). */
void wsc_free(struct wsc_conn *c);
/*
 * The next received message, waiting at most timeout_ms.  The caller frees it
 * with wsc_message_free.  A close frame is delivered as a message; after it (or
 * after the server drops the connection) the result is WSC_CLOSED.
 */
enum wsc_result wsc_recv(struct wsc_conn *c, int timeout_ms, struct wsc_message **out);
/* Send one whole message (TEXT, BINARY, PING, PONG) through wslay. */
enum wsc_result wsc_send(struct wsc_conn *c, enum wsc_opcode op, const void *p, size_t n, int timeout_ms);
/*
 * Send one frame built by hand: fin bit, opcode, payload, masked or not.  For
 * the frames a server must refuse; queued messages go out first.
 */
enum wsc_result wsc_send_frame(struct wsc_conn *c, bool fin, enum wsc_opcode op, const void *p, size_t n,
			       bool masked, int timeout_ms);
/* Send a close frame with code (0: none) and reason; the server's close still has to be read. */
enum wsc_result wsc_send_close(struct wsc_conn *c, int code, const char *reason, int timeout_ms);
/* Milliseconds (CLOCK_MONOTONIC, with fractions) since c opened: the clock of wsc_message.at_ms. */
double wsc_elapsed_ms(const struct wsc_conn *c);
/* The last failure of c, "" when none. */
const char *wsc_error(const struct wsc_conn *c);
/* True once the server's close frame has been received. */
bool wsc_close_received(const struct wsc_conn *c);
void wsc_message_free(struct wsc_message *m);
/* "text", "binary", "close", "ping", "pong", "continuation", or "opcode ?" for a reserved one. */
const char *wsc_opcode_name(enum wsc_opcode op);

/* ---- the pure parts, exposed for the unit tests ---- */

/* The Sec-WebSocket-Accept value for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)), 28 characters. */
void wsc_accept_for(const char *key, char out[29]);
/* A new Sec-WebSocket-Key: 16 random bytes in base64 (24 characters); 0, or -1 without randomness. */
int wsc_make_key(char out[25]);
/* Append one frame; mask NULL sends it unmasked.  BUF_OK, or the buffer's error. */
enum buf_result wsc_frame_encode(struct buf *out, bool fin, enum wsc_opcode op, const void *p, size_t n,
				 const unsigned char *mask);
/*
 * Parse the head of an HTTP answer (status line and headers, up to the blank
 * line) into r->status and r->headers; the status line, escaped, into
 * status_line.  0, or -1 when it is not an HTTP/1.x answer.
 */
int wsc_parse_head(const char *p, size_t n, struct response *r, char *status_line, size_t size);
/* The ws:// or wss:// form of an http:// or https:// base URL, into out; -1 for another scheme. */
int wsc_url_from_http(const char *base, struct buf *out);

#endif
