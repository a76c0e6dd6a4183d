/*
 * ws: WebSocket client over a libcurl CONNECT_ONLY connection, framing by wslay.
 *
 * I/O is non-blocking throughout: curl_easy_recv/curl_easy_send answer
 * CURLE_AGAIN, which the wslay callbacks turn into WSLAY_ERR_WOULDBLOCK, and
 * we poll the socket (CURLINFO_ACTIVESOCKET) with what is left of the
 * deadline.  Before polling we always try to read first, so bytes TLS has
 * already decrypted are never left waiting for a socket event.
 *
 * Received messages queue on the connection; while the queue holds one, the
 * receive callback reads no more, so a flooding server fills the socket, not
 * our memory.
 */
#include "runner/ws.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#include "common/json.h"
#include "common/redact.h"
#include "common/timeutil.h"
#include "common/utf8.h"

#define WSC_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define STATUS_LINE_MAX 128
#define MAX_HEADERS 256

struct wsc_conn {
	CURL *easy;
	curl_socket_t sock;
	wslay_event_context_ptr ctx;
	struct buf pre;                  /* bytes read past the handshake's head: the first frames */
	size_t pre_off;
	struct wsc_message *first, *last;   /* received, not yet taken */
	size_t nframes;
	double t0;                       /* CLOCK_MONOTONIC ms (with fractions) when the connection opened */
	bool eof;                        /* the server closed TCP */
	bool failed;                     /* a cap or a transport error; error says which */
	bool we_closed;                  /* we queued a close frame */
	bool close_delivered;            /* the server's close message was queued for the caller */
	char error[256];
};

static void set_err(struct wsc_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the first failure of c. */
static void set_err(struct wsc_conn *c, const char *fmt, ...)
{
	if (c->failed)
		return;
	c->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

/* CLOCK_MONOTONIC in ms with fractions: the times of frames, for the timing checks. */
static double mono_ms_frac(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

double wsc_elapsed_ms(const struct wsc_conn *c)
{
	return mono_ms_frac() - c->t0;
}

static int remaining(int64_t deadline)
{
	int64_t left = deadline - mono_ms();
	return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Wait for the socket; 1 ready, 0 timeout, -1 error. */
static int wait_sock(curl_socket_t s, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = s, .events = events };
		int r = poll(&p, 1, remaining(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		return r > 0;
	}
}

const char *wsc_opcode_name(enum wsc_opcode op)
{
	switch (op) {
	case WSC_CONTINUATION:
		return "continuation";
	case WSC_TEXT:
		return "text";
	case WSC_BINARY:
		return "binary";
	case WSC_CLOSE:
		return "close";
	case WSC_PING:
		return "ping";
	case WSC_PONG:
		return "pong";
	}
	return "opcode ?";
}

/* ---- pure parts ------------------------------------------------------------------------------ */

void wsc_accept_for(const char *key, char out[29])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	if (!x || EVP_DigestInit_ex(x, EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(x, key, strlen(key)) != 1 ||
	    EVP_DigestUpdate(x, WSC_GUID, strlen(WSC_GUID)) != 1 || EVP_DigestFinal_ex(x, md, &mdlen) != 1 ||
	    mdlen != 20) {
		/* Out of memory: an accept value no server can match, so the handshake fails visibly. */
		snprintf(out, 29, "%s", "(cannot compute SHA-1)");
		EVP_MD_CTX_free(x);
		return;
	}
	EVP_MD_CTX_free(x);
	EVP_EncodeBlock((unsigned char *)out, md, 20);
	out[28] = '\0';
}

int wsc_make_key(char out[25])
{
	unsigned char r[16];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, r, sizeof(r));
	out[24] = '\0';
	return 0;
}

enum buf_result wsc_frame_encode(struct buf *out, bool fin, enum wsc_opcode op, const void *p, size_t n,
				 const unsigned char *mask)
{
	unsigned char h[14];
	size_t hl = 0;
	h[hl++] = (unsigned char)((fin ? 0x80 : 0) | ((unsigned)op & 0x0f));
	unsigned char mbit = mask ? 0x80 : 0;
	if (n < 126) {
		h[hl++] = (unsigned char)(mbit | n);
	} else if (n <= 0xffff) {
		h[hl++] = (unsigned char)(mbit | 126);
		h[hl++] = (unsigned char)(n >> 8);
		h[hl++] = (unsigned char)n;
	} else {
		h[hl++] = (unsigned char)(mbit | 127);
		for (int i = 7; i >= 0; i--)
			h[hl++] = (unsigned char)((uint64_t)n >> (8 * i));
	}
	if (mask) {
		memcpy(h + hl, mask, 4);
		hl += 4;
	}
	if (out->len + hl + n > out->max || hl + n < n)
		return BUF_TOO_BIG;
	size_t start = out->len;
	enum buf_result r = buf_add(out, h, hl);
	if (r != BUF_OK)
		return r;
	r = buf_add(out, p, n);
	if (r != BUF_OK) {
		buf_truncate(out, start);
		return r;
	}
	if (mask) {
		unsigned char *q = (unsigned char *)out->data + start + hl;
		for (size_t i = 0; i < n; i++)
			q[i] ^= mask[i & 3];
	}
	return BUF_OK;
}

static char *trimmed_dup(const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	return strndup(p, n);
}

int wsc_parse_head(const char *p, size_t n, struct response *r, char *status_line, size_t size)
{
	const char *end = p + n;
	const char *eol = memchr(p, '\n', n);
	if (!eol || n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || !isdigit((unsigned char)p[9]) ||
	    !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11]) ||
	    (n > 12 && p[12] != ' ' && p[12] != '\r' && p[12] != '\n'))
		return -1;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (status_line) {
		struct buf sl;
		buf_init(&sl, size ? size - 1 : 0);
		size_t len = (size_t)(eol - p);
		while (len && p[len - 1] == '\r')
			len--;
		http_append_escaped(&sl, p, len < 100 ? len : 100, 0);
		snprintf(status_line, size, "%s", buf_str(&sl));
		buf_release(&sl);
	}
	for (const char *line = eol + 1; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
		const char *next = nl ? nl + 1 : end;
		if (len && line[len - 1] == '\r')
			len--;
		if (len == 0)
			break;   /* the blank line: the end of the head */
		const char *colon = memchr(line, ':', len);
		if (colon && colon != line && r->nheaders < MAX_HEADERS) {
			struct header *h = realloc(r->headers, (r->nheaders + 1) * sizeof(*h));
			if (!h)
				return -1;
			r->headers = h;
			h = &r->headers[r->nheaders];
			h->name = trimmed_dup(line, (size_t)(colon - line));
			h->value = trimmed_dup(colon + 1, len - (size_t)(colon + 1 - line));
			if (!h->name || !h->value) {
				free(h->name);
				free(h->value);
				return -1;
			}
			r->nheaders++;
		}
		line = next;
	}
	return 0;
}

int wsc_url_from_http(const char *base, struct buf *out)
{
	if (strncasecmp(base, "http://", 7) == 0) {
		buf_adds(out, "ws://");
		buf_adds(out, base + 7);
	} else if (strncasecmp(base, "https://", 8) == 0) {
		buf_adds(out, "wss://");
		buf_adds(out, base + 8);
	} else {
		return -1;
	}
	return 0;
}

/* True when the comma-separated header value holds token (case-insensitive). */
static bool has_token(const char *value, const char *token)
{
	size_t tl = strlen(token);
	for (const char *p = value; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p += n;
	}
	return false;
}

/* ---- wslay callbacks ------------------------------------------------------------------------- */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *data, size_t len, int flags, void *arg)
{
	struct wsc_conn *c = arg;
	if (c->failed || c->eof) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	/* Back pressure: one batch of messages at a time. */
	if (c->first) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (c->pre_off < c->pre.len) {
		size_t n = c->pre.len - c->pre_off;
		if (n > len)
			n = len;
		memcpy(data, c->pre.data + c->pre_off, n);
		c->pre_off += n;
		return (ssize_t)n;
	}
	size_t n = 0;
	CURLcode rc = curl_easy_recv(c->easy, data, len, &n);
	if (rc == CURLE_AGAIN) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (rc != CURLE_OK) {
		set_err(c, "receive failed: %s", curl_easy_strerror(rc));
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	if (n == 0) {
		c->eof = true;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct wsc_conn *c = arg;
	size_t n = 0;
	CURLcode rc = curl_easy_send(c->easy, data, len, &n);
	if (rc == CURLE_AGAIN || (rc == CURLE_OK && n == 0)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (rc != CURLE_OK) {
		set_err(c, "send failed: %s", curl_easy_strerror(rc));
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg)
{
	if (RAND_bytes(buf, (int)len) != 1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

static void frame_start_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_start_arg *a,
			   void *arg)
{
	struct wsc_conn *c = arg;
	if (++c->nframes > WSC_MAX_FRAMES)
		set_err(c, "the server sent more than %u frames on one connection", WSC_MAX_FRAMES);
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *arg)
{
	struct wsc_conn *c = arg;
	const uint8_t *p = a->msg;
	size_t n = a->msg_length;
	int code = 0;
	if (a->opcode == WSLAY_CONNECTION_CLOSE) {
		/* wslay hands over the whole payload: a 2-byte code, then the reason. */
		code = a->status_code ? a->status_code : 1005;
		if (n >= 2) {
			p += 2;
			n -= 2;
		} else {
			n = 0;
		}
	}
	struct wsc_message *m = calloc(1, sizeof(*m));
	char *data = malloc(n + 1);
	if (!m || !data) {
		free(m);
		free(data);
		set_err(c, "out of memory receiving a message");
		return;
	}
	if (n)
		memcpy(data, p, n);
	data[n] = '\0';
	m->opcode = (enum wsc_opcode)a->opcode;
	m->data = data;
	m->len = n;
	m->close_code = code;
	m->at_ms = mono_ms_frac() - c->t0;
	if (c->last)
		c->last->next = m;
	else
		c->first = m;
	c->last = m;
	if (a->opcode == WSLAY_CONNECTION_CLOSE)
		c->close_delivered = true;
}

/* ---- sending --------------------------------------------------------------------------------- */

/* Describe why wslay stopped reading without a close from the server (it sent its own). */
static void wslay_failure(struct wsc_conn *c)
{
	if (c->failed || c->close_delivered || c->we_closed)
		return;
	uint16_t code = wslay_event_get_status_code_sent(c->ctx);
	if (code == 1009)
		set_err(c, "the server sent a message over %u bytes (we closed with 1009)", WSC_MAX_MESSAGE);
	else if (code == 1002)
		set_err(c, "the server broke the framing rules (we closed with 1002)");
	else
		set_err(c, "wslay closed the connection with %u", code);
}

/* Send what wslay has queued, within the deadline. */
static enum wsc_result flush(struct wsc_conn *c, int64_t deadline)
{
	while (wslay_event_want_write(c->ctx)) {
		if (wslay_event_send(c->ctx) != 0) {
			set_err(c, "send failed");
			return WSC_ERROR;
		}
		if (!wslay_event_want_write(c->ctx))
			break;
		int r = wait_sock(c->sock, POLLOUT, deadline);
		if (r == 0)
			return WSC_TIMEOUT;
		if (r < 0) {
			set_err(c, "poll: %s", strerror(errno));
			return WSC_ERROR;
		}
	}
	return c->failed ? WSC_ERROR : WSC_OK;
}

/* Write raw bytes on the connection, within the deadline. */
static enum wsc_result send_raw(CURL *easy, curl_socket_t sock, const char *p, size_t n, int64_t deadline,
				struct buf *err)
{
	size_t off = 0;
	while (off < n) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(easy, p + off, n - off, &sent);
		if (rc == CURLE_OK && sent) {
			off += sent;
			continue;
		}
		if (rc != CURLE_OK && rc != CURLE_AGAIN) {
			buf_printf(err, "send failed: %s", curl_easy_strerror(rc));
			return WSC_ERROR;
		}
		int r = wait_sock(sock, POLLOUT, deadline);
		if (r == 0)
			return WSC_TIMEOUT;
		if (r < 0) {
			buf_printf(err, "poll: %s", strerror(errno));
			return WSC_ERROR;
		}
	}
	return WSC_OK;
}

enum wsc_result wsc_send(struct wsc_conn *c, enum wsc_opcode op, const void *p, size_t n, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	if (c->failed)
		return WSC_ERROR;
	if (n > WSC_MAX_SEND) {
		snprintf(c->error, sizeof(c->error), "a message over %u bytes", WSC_MAX_SEND);
		return WSC_ERROR;
	}
	struct wslay_event_msg msg = { .opcode = (uint8_t)op, .msg = p, .msg_length = n };
	int r = wslay_event_queue_msg(c->ctx, &msg);
	if (r == WSLAY_ERR_NO_MORE_MSG) {
		snprintf(c->error, sizeof(c->error), "the connection is closing: no more messages can be sent");
		return WSC_CLOSED;
	}
	if (r != 0) {
		snprintf(c->error, sizeof(c->error), "cannot queue the message (wslay error %d)", r);
		return WSC_ERROR;
	}
	return flush(c, deadline);
}

enum wsc_result wsc_send_frame(struct wsc_conn *c, bool fin, enum wsc_opcode op, const void *p, size_t n,
			       bool masked, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	if (c->failed)
		return WSC_ERROR;
	if (!wslay_event_get_write_enabled(c->ctx)) {
		snprintf(c->error, sizeof(c->error), "the connection is closing: no more frames can be sent");
		return WSC_CLOSED;
	}
	/* Whatever wslay has begun must go first, or our frame would cut into it. */
	enum wsc_result fr = flush(c, deadline);
	if (fr != WSC_OK)
		return fr;
	unsigned char mask[4];
	if (masked && RAND_bytes(mask, sizeof(mask)) != 1) {
		set_err(c, "no random bytes for the mask");
		return WSC_ERROR;
	}
	struct buf frame, err;
	buf_init(&frame, WSC_MAX_SEND + 14);
	buf_init(&err, 256);
	enum wsc_result rc = WSC_ERROR;
	if (wsc_frame_encode(&frame, fin, op, p, n, masked ? mask : NULL) != BUF_OK) {
		snprintf(c->error, sizeof(c->error), "cannot build a frame of %zu bytes", n);
		goto out;
	}
	rc = send_raw(c->easy, c->sock, frame.data, frame.len, deadline, &err);
	if (rc == WSC_ERROR)
		set_err(c, "%s", buf_str(&err));
out:
	buf_release(&err);
	buf_release(&frame);
	return rc;
}

enum wsc_result wsc_send_close(struct wsc_conn *c, int code, const char *reason, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	if (c->failed)
		return WSC_ERROR;
	size_t rl = reason ? strlen(reason) : 0;
	int r = wslay_event_queue_close(c->ctx, (uint16_t)code, (const uint8_t *)reason, rl);
	if (r == WSLAY_ERR_NO_MORE_MSG)
		return WSC_CLOSED;   /* a close was already sent (an answer to the server's) */
	if (r != 0) {
		snprintf(c->error, sizeof(c->error), "cannot queue the close (wslay error %d)", r);
		return WSC_ERROR;
	}
	c->we_closed = true;
	return flush(c, deadline);
}

/* ---- receiving ------------------------------------------------------------------------------- */

enum wsc_result wsc_recv(struct wsc_conn *c, int timeout_ms, struct wsc_message **out)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	*out = NULL;
	for (;;) {
		if (c->first) {
			struct wsc_message *m = c->first;
			c->first = m->next;
			if (!c->first)
				c->last = NULL;
			m->next = NULL;
			*out = m;
			return WSC_OK;
		}
		if (c->failed)
			return WSC_ERROR;
		if (c->eof || c->close_delivered) {
			/* Answer the server's close (wslay queued it); the result is the same either way. */
			if (!c->eof)
				flush(c, mono_ms() + 1000);
			return WSC_CLOSED;
		}
		if (!wslay_event_want_read(c->ctx)) {
			wslay_failure(c);
			flush(c, mono_ms() + 1000);
			return c->failed ? WSC_ERROR : WSC_CLOSED;
		}
		int r = wslay_event_recv(c->ctx);
		/* Pongs for the server's pings, our close answer: out as soon as possible. */
		if (wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0)
			set_err(c, "send failed");
		if (r != 0 && !c->eof && !c->failed)
			set_err(c, "the server broke the protocol (wslay error %d)", r);
		if (c->first || c->failed || c->eof)
			continue;
		if (!wslay_event_want_read(c->ctx))
			continue;
		if (remaining(deadline) == 0)
			return WSC_TIMEOUT;
		short ev = POLLIN | (wslay_event_want_write(c->ctx) ? POLLOUT : 0);
		int w = wait_sock(c->sock, ev, deadline);
		if (w == 0)
			return WSC_TIMEOUT;
		if (w < 0) {
			set_err(c, "poll: %s", strerror(errno));
			return WSC_ERROR;
		}
	}
}

const char *wsc_error(const struct wsc_conn *c)
{
	return c->error;
}

bool wsc_close_received(const struct wsc_conn *c)
{
	return c->close_delivered;
}

void wsc_message_free(struct wsc_message *m)
{
	while (m) {
		struct wsc_message *next = m->next;
		free(m->data);
		free(m);
		m = next;
	}
}

void wsc_free(struct wsc_conn *c)
{
	if (!c)
		return;
	if (c->ctx)
		wslay_event_context_free(c->ctx);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	wsc_message_free(c->first);
	buf_release(&c->pre);
	free(c);
}

/* ---- the opening handshake ------------------------------------------------------------------- */

static bool user_has(const struct wsc_connect_options *o, const char *name)
{
	for (size_t i = 0; i < o->nheaders; i++)
		if (strcasecmp(o->headers[i].name, name) == 0)
			return true;
	return false;
}

static const char *user_value(const struct wsc_connect_options *o, const char *name)
{
	for (size_t i = 0; i < o->nheaders; i++)
		if (strcasecmp(o->headers[i].name, name) == 0)
			return o->headers[i].value;
	return NULL;
}

/*
 * Decode a chunked body in raw into body; 1 when the last chunk was seen, 0
 * when more is needed, -1 when it is not chunked encoding.
 */
static int dechunk(const char *raw, size_t n, struct buf *body)
{
	size_t off = 0;
	buf_reset(body);
	for (;;) {
		const char *eol = memchr(raw + off, '\n', n - off);
		if (!eol)
			return 0;
		char *endp;
		unsigned long size = strtoul(raw + off, &endp, 16);
		if (endp == raw + off)
			return -1;
		off = (size_t)(eol - raw) + 1;
		if (size == 0)
			return 1;
		if (size > n - off)
			return 0;
		if (buf_add(body, raw + off, size) != BUF_OK)
			return 1;   /* past the cap: what we have is what is shown */
		off += size;
		if (off < n && raw[off] == '\r')
			off++;
		if (off < n && raw[off] == '\n')
			off++;
	}
}

/* Read the body of a refused handshake into hs->body: Content-Length, chunked, or to the end. */
static void read_refused_body(CURL *easy, curl_socket_t sock, const char *already, size_t n,
			      struct response *hs, int64_t deadline)
{
	const char *cl = response_header(hs, "content-length");
	const char *te = response_header(hs, "transfer-encoding");
	bool chunked = te && has_token(te, "chunked");
	long want = cl && !chunked ? strtol(cl, NULL, 10) : -1;
	struct buf raw;
	buf_init(&raw, WSC_MAX_REFUSED_BODY + 4096);
	buf_add(&raw, already, n < raw.max ? n : raw.max);
	char tmp[4096];
	for (;;) {
		if (want >= 0 && raw.len >= (size_t)want)
			break;
		if (chunked && dechunk(raw.data ? raw.data : "", raw.len, &hs->body) != 0)
			break;
		if (raw.len >= raw.max)
			break;
		size_t got = 0;
		CURLcode rc = curl_easy_recv(easy, tmp, sizeof(tmp), &got);
		if (rc == CURLE_AGAIN) {
			if (wait_sock(sock, POLLIN, deadline) <= 0)
				break;
			continue;
		}
		if (rc != CURLE_OK || got == 0)
			break;
		size_t room = raw.max - raw.len;
		buf_add(&raw, tmp, got < room ? got : room);
	}
	if (chunked) {
		dechunk(raw.data ? raw.data : "", raw.len, &hs->body);
	} else {
		size_t keep = want >= 0 && (size_t)want < raw.len ? (size_t)want : raw.len;
		buf_add(&hs->body, raw.data ? raw.data : "", keep < hs->body.max ? keep : hs->body.max);
		hs->truncated = want > (long)hs->body.max || (want < 0 && raw.len >= raw.max);
	}
	if (hs->body.len && !hs->truncated)
		hs->json = json_parse_exact(hs->body.data, hs->body.len);
	buf_release(&raw);
}

/* Build the request line and headers; 0, or -1 when the URL cannot be parsed (err says why). */
static int build_request(const struct wsc_connect_options *o, const char *http_url, const char *key,
			 struct buf *req, struct buf *err)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	int rc = -1;
	if (!u || curl_url_set(u, CURLUPART_URL, http_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		buf_printf(err, "cannot parse the URL %s", http_url);
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);     /* only when the URL names one */
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	buf_printf(req, "GET %s%s%s HTTP/1.1\r\n", path, query ? "?" : "", query ? query : "");
	if (!user_has(o, "host"))
		buf_printf(req, "Host: %s%s%s\r\n", host, port ? ":" : "", port ? port : "");
	if (!user_has(o, "upgrade"))
		buf_adds(req, "Upgrade: websocket\r\n");
	if (!user_has(o, "connection"))
		buf_adds(req, "Connection: Upgrade\r\n");
	if (!user_has(o, "sec-websocket-key"))
		buf_printf(req, "Sec-WebSocket-Key: %s\r\n", key);
	if (!user_has(o, "sec-websocket-version"))
		buf_adds(req, "Sec-WebSocket-Version: 13\r\n");
	for (size_t i = 0; i < o->nheaders; i++)
		buf_printf(req, "%s: %s\r\n", o->headers[i].name, o->headers[i].value);
	if (buf_adds(req, "\r\n") != BUF_OK || req->len >= req->max) {
		buf_printf(err, "the upgrade request is longer than %u bytes", WSC_MAX_REQUEST);
		goto out;
	}
	rc = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

/* Show the request in the transcript: the URL and the headers, credentials redacted. */
static void transcript_request(struct buf *t, const char *url, const char *req)
{
	buf_adds(t, "> GET ");
	redact_url(t, url);
	buf_addc(t, '\n');
	const char *p = strstr(req, "\r\n");
	for (p = p ? p + 2 : ""; *p && strncmp(p, "\r\n", 2) != 0;) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		if (colon) {
			char *name = strndup(p, (size_t)(colon - p));
			char *value = trimmed_dup(colon + 1, len - (size_t)(colon + 1 - p));
			if (name && value)
				http_transcript_header(t, '>', name, value);
			free(name);
			free(value);
		}
		p += len + (eol ? 2 : 0);
	}
}

enum wsc_result wsc_connect(const struct wsc_connect_options *o, struct wsc_conn **out, struct response *hs,
			    struct buf *err, struct buf *transcript)
{
	struct wsc_conn *c = NULL;
	struct buf http_url, req, head;
	char key[25], accept[29], errbuf[CURL_ERROR_SIZE] = "", status_line[STATUS_LINE_MAX] = "";
	enum wsc_result rc = WSC_ERROR;
	int64_t t0 = mono_ms();

	*out = NULL;
	buf_init(&http_url, 64u << 10);
	buf_init(&req, WSC_MAX_REQUEST);
	buf_init(&head, WSC_MAX_HANDSHAKE);
	if (strncasecmp(o->url, "ws://", 5) == 0) {
		buf_printf(&http_url, "http://%s", o->url + 5);
	} else if (strncasecmp(o->url, "wss://", 6) == 0) {
		buf_printf(&http_url, "https://%s", o->url + 6);
	} else {
		buf_printf(err, "not a ws:// or wss:// URL: %.200s", o->url);
		goto out;
	}
	if (http_url.len >= http_url.max) {
		buf_adds(err, "the URL is too long");
		goto out;
	}
	if (wsc_make_key(key) != 0) {
		buf_adds(err, "no random bytes for Sec-WebSocket-Key");
		goto out;
	}
	const char *ukey = user_value(o, "sec-websocket-key");
	wsc_accept_for(ukey ? ukey : key, accept);
	if (build_request(o, buf_str(&http_url), key, &req, err) != 0)
		goto out;
	if (transcript)
		transcript_request(transcript, o->url, buf_str(&req));

	c = calloc(1, sizeof(*c));
	if (!c) {
		buf_adds(err, "out of memory");
		goto out;
	}
	buf_init(&c->pre, WSC_MAX_HANDSHAKE);
	c->sock = CURL_SOCKET_BAD;
	c->easy = curl_easy_init();
	if (!c->easy) {
		buf_adds(err, "cannot start libcurl");
		goto out;
	}
	curl_easy_setopt(c->easy, CURLOPT_URL, buf_str(&http_url));
	curl_easy_setopt(c->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, errbuf);
	/* ALPN must not offer h2: the upgrade is an HTTP/1.1 request. */
	curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
	if (o->ca_file)
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, o->ca_file);
	CURLcode cc = curl_easy_perform(c->easy);
	/* The handle outlives this frame: libcurl must not write into errbuf after it returns. */
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, NULL);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		buf_printf(err, "connect timeout: no connection within %g s", o->connect_timeout_ms / 1000.0);
		goto out;
	}
	if (cc != CURLE_OK) {
		buf_printf(err, "cannot connect: %s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c->easy, CURLINFO_ACTIVESOCKET, &c->sock) != CURLE_OK || c->sock == CURL_SOCKET_BAD) {
		buf_adds(err, "libcurl gave no socket");
		goto out;
	}
	int64_t deadline = mono_ms() + o->response_timeout_ms;
	enum wsc_result sr = send_raw(c->easy, c->sock, req.data, req.len, deadline, err);
	if (sr == WSC_TIMEOUT)
		buf_printf(err, "timeout sending the upgrade request (%g s)", o->response_timeout_ms / 1000.0);
	if (sr != WSC_OK)
		goto out;

	/* The head: up to the blank line.  Bytes after it are already frames. */
	char tmp[4096];
	const char *end = NULL;
	while (!end) {
		size_t got = 0;
		size_t want = head.max - head.len < sizeof(tmp) ? head.max - head.len : sizeof(tmp);
		if (want == 0) {
			buf_printf(err, "the handshake answer's head is longer than %u bytes", WSC_MAX_HANDSHAKE);
			goto out;
		}
		CURLcode rr = curl_easy_recv(c->easy, tmp, want, &got);
		if (rr == CURLE_AGAIN) {
			int w = wait_sock(c->sock, POLLIN, deadline);
			if (w == 0) {
				buf_printf(err, "no handshake answer within %g s (%zu bytes received)",
					   o->response_timeout_ms / 1000.0, head.len);
				goto out;
			}
			if (w < 0) {
				buf_printf(err, "poll: %s", strerror(errno));
				goto out;
			}
			continue;
		}
		if (rr != CURLE_OK) {
			buf_printf(err, "receive failed during the handshake: %s", curl_easy_strerror(rr));
			goto out;
		}
		if (got == 0) {
			buf_printf(err, "the server closed the connection during the handshake (%zu bytes received)",
				   head.len);
			goto out;
		}
		size_t before = head.len;
		buf_add(&head, tmp, got);
		/* Search from a little before the new bytes: the blank line may straddle two reads. */
		size_t from = before > 3 ? before - 3 : 0;
		const char *hit = memmem(head.data + from, head.len - from, "\r\n\r\n", 4);
		size_t sep = 4;
		if (!hit) {
			hit = memmem(head.data + from, head.len - from, "\n\n", 2);
			sep = 2;
		}
		if (hit)
			end = hit + sep;
	}
	size_t head_len = (size_t)(end - head.data);
	if (wsc_parse_head(head.data, head_len, hs, status_line, sizeof(status_line)) != 0) {
		struct buf shown;
		buf_init(&shown, 1024);
		http_append_escaped(&shown, head.data, head_len < 200 ? head_len : 200, 0);
		buf_printf(err, "the handshake answer is not HTTP: %s", buf_str(&shown));
		buf_release(&shown);
		rc = WSC_INVALID;
		goto out;
	}
	hs->connect_ms = 0;
	hs->total_ms = (double)(mono_ms() - t0);
	if (transcript) {
		buf_printf(transcript, "< %s (%.0f ms)\n", status_line, hs->total_ms);
		for (size_t i = 0; i < hs->nheaders; i++)
			http_transcript_header(transcript, '<', hs->headers[i].name, hs->headers[i].value);
	}
	if (hs->status != 101) {
		buf_release(&hs->body);
		buf_init(&hs->body, WSC_MAX_REFUSED_BODY);
		read_refused_body(c->easy, c->sock, end, head.len - head_len, hs, deadline);
		if (transcript && hs->body.len) {
			buf_adds(transcript, "<\n");
			size_t shown = utf8_truncate(hs->body.data, hs->body.len, 4096);
			http_append_escaped(transcript, hs->body.data, shown, 1);
			if (hs->body.data[shown - 1] != '\n')
				buf_addc(transcript, '\n');
			if (shown < hs->body.len)
				buf_printf(transcript, "...(%zu of %zu bytes shown)\n", shown, hs->body.len);
		}
		rc = WSC_REFUSED;
		goto out;
	}
	const char *up = response_header(hs, "upgrade"), *conn = response_header(hs, "connection");
	const char *acc = response_header(hs, "sec-websocket-accept");
	rc = WSC_INVALID;
	if (!up || !has_token(up, "websocket")) {
		buf_printf(err, "101 without \"Upgrade: websocket\" (got %.100s)", up ? up : "no Upgrade header");
		goto out;
	}
	if (!conn || !has_token(conn, "upgrade")) {
		buf_printf(err, "101 without \"Connection: Upgrade\" (got %.100s)", conn ? conn : "no Connection header");
		goto out;
	}
	if (!acc || strcmp(acc, accept) != 0) {
		buf_printf(err, "Sec-WebSocket-Accept is %.100s, expected %s", acc ? acc : "missing", accept);
		goto out;
	}
	rc = WSC_ERROR;
	buf_add(&c->pre, end, head.len - head_len);
	struct wslay_event_callbacks cbs = {
		.recv_callback = recv_cb,
		.send_callback = send_cb,
		.genmask_callback = genmask_cb,
		.on_frame_recv_start_callback = frame_start_cb,
		.on_msg_recv_callback = msg_cb,
	};
	if (wslay_event_context_client_init(&c->ctx, &cbs, c) != 0) {
		buf_adds(err, "out of memory starting wslay");
		goto out;
	}
	wslay_event_config_set_max_recv_msg_length(c->ctx, WSC_MAX_MESSAGE);
	c->t0 = mono_ms_frac();
	*out = c;
	c = NULL;
	rc = WSC_OK;
out:
	if (transcript && rc != WSC_OK && rc != WSC_REFUSED && err->len)
		buf_printf(transcript, "! %s\n", buf_str(err));
	wsc_free(c);
	buf_release(&head);
	buf_release(&req);
	buf_release(&http_url);
	return rc;
}
