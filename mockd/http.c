#include "mockd/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mockd/clock.h"
#include "mockd/cors.h"
#include "mockd/guard.h"
#include "mockd/tls.h"
#include "mockd/mockd.h"

#define MAX_ROUTES 64
#define MAX_MOUNTS 16

struct route {
	const char *method;      /* "GET", "POST", ... */
	const char *pattern;     /* "/api/conversations/:id/clear": ":name" matches one segment */
	const struct http_owner *owner;
	route_fn handler;
};

struct mount {
	const char *prefix;
	const struct http_owner *owner;
};

static struct route routes[MAX_ROUTES];
static size_t nroutes;
static struct mount mounts[MAX_MOUNTS];
static size_t nmounts;
static http_observer_fn observer;
static void *observer_arg;

void http_mount(const char *prefix, const struct http_owner *owner)
{
	if (nmounts == MAX_MOUNTS) {
		log_error("too many mounted prefixes (more than %d)", MAX_MOUNTS);
		abort(); /* a programming error, found at start-up */
	}
	mounts[nmounts++] = (struct mount){ prefix, owner };
}

void http_route(const char *method, const char *pattern, const struct http_owner *owner, route_fn handler)
{
	if (nroutes == MAX_ROUTES) {
		log_error("too many routes (more than %d)", MAX_ROUTES);
		abort(); /* a programming error, found at start-up */
	}
	routes[nroutes++] = (struct route){ method, pattern, owner, handler };
}

void http_observe(http_observer_fn fn, void *arg)
{
	observer = fn;
	observer_arg = arg;
}

void http_routes_clear(void)
{
	nroutes = nmounts = 0;
	observer = NULL;
	observer_arg = NULL;
}

/* A prefix ending in "/" owns everything below it; any other owns that exact path. */
static size_t owns(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);
	if (n && prefix[n - 1] == '/')
		return strncmp(path, prefix, n) == 0 ? n : 0;
	return strcmp(path, prefix) == 0 ? n : 0;
}

/* The owner of the longest mounted prefix of path, or NULL. O(mounts). */
static const struct http_owner *owner_for_path(const char *path)
{
	const struct http_owner *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < nmounts; i++) {
		size_t n = owns(mounts[i].prefix, path);
		if (n > best_len) {
			best = mounts[i].owner;
			best_len = n;
		}
	}
	return best;
}

/* Match path against pattern segment by segment; ":name" segments are captured into params. */
static bool route_match(const char *pattern, const char *path, char **params)
{
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p == ':') {
			size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
			if (slen == 0 || np == ROUTE_MAX_PARAMS)
				goto fail;
			if (params)
				params[np] = strndup(s, slen);
			np++;
			p += plen;
			s += slen;
			continue;
		}
		if (*p != *s)
			goto fail;
		p++;
		s++;
	}
	if (*p == '\0' && *s == '\0')
		return true;
fail:
	if (params)
		for (int i = 0; i < np; i++) {
			free(params[i]);
			params[i] = NULL;
		}
	return false;
}

const char *mreq_header(const struct mreq *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

const char *mreq_query(const struct mreq *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

bool mreq_query_long(const struct mreq *r, const char *name, long min, long max, long def, long *out)
{
	const char *s = mreq_query(r, name);
	*out = def;
	if (!s)
		return true;
	/* Digits only (a minus sign at most): strtol alone would take "+5" and " 5". */
	if (strspn(s + (*s == '-'), "0123456789") != strlen(s + (*s == '-')) || !s[*s == '-'])
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

cJSON *mreq_json(const struct mreq *r)
{
	return mockd_parse_json(r->body, r->body_len);
}

bool mreq_is_loopback(const struct mreq *r)
{
	struct in6_addr a6;
	struct in_addr a4;
	if (inet_pton(AF_INET, r->peer, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, r->peer, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* ---- the reply's headers -------------------------------------------------------------------- */

/*
 * The headers a handler sets are kept here until its head is written: evhttp's
 * list costs an allocation and two copies a header, freed with the request,
 * for headers printed once (six of them were 7% of a whole deepwiki stream).
 * One request's at a time, the one http_dispatch is answering. evhttp's list
 * takes the headers evhttp acts on (Connection), those it would check (a CR or
 * LF: it refuses them), those set for any other request, and, in the order
 * they were set, all the kept ones whenever evhttp is to write the head (HEAD,
 * 204, 304, no connection) or the handler returns without a head written.
 */
#define KEPT_MAX 32
static struct {
	struct evhttp_request *req;      /* whose headers are kept, or NULL */
	size_t n;
	struct {
		size_t key, value;       /* where they start in text, each NUL-terminated */
	} at[KEPT_MAX];
	struct buf text;
} kept = { .text = { .max = MOCKD_MAX_HEADERS } };

static const char *kept_key(size_t i)
{
	return kept.text.data + kept.at[i].key;
}

static const char *kept_value(size_t i)
{
	return kept.text.data + kept.at[i].value;
}

static void keep_for(struct evhttp_request *req)
{
	kept.req = req;
	kept.n = 0;
	buf_reset(&kept.text);
}

/* Hand req's kept headers to evhttp's list, and keep no more for it. */
static void kept_to_evhttp(struct evhttp_request *req)
{
	if (kept.req != req)
		return;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	for (size_t i = 0; i < kept.n; i++)
		evhttp_add_header(out, kept_key(i), kept_value(i));
	keep_for(NULL);
}

static const char *http_date(void);

/*
 * evhttp is to write req's head: its list takes the kept headers, and a Date
 * for HTTP/1.0, which evhttp dates only in 1.1 (mockd dates every answer).
 */
static void head_by_evhttp(struct evhttp_request *req)
{
	kept_to_evhttp(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	if (req->minor == 0 && !evhttp_find_header(out, "Date"))
		evhttp_add_header(out, "Date", http_date());
}

static bool is_connection_header(const char *key)
{
	return strcasecmp(key, "Connection") == 0 || strcasecmp(key, "Proxy-Connection") == 0;
}

void reply_header(struct mreq *r, const char *name, const char *value)
{
	if (r->req == kept.req && kept.n < KEPT_MAX && !strpbrk(name, "\r\n") && !strpbrk(value, "\r\n") &&
	    !is_connection_header(name)) {
		size_t key = kept.text.len, nk = strlen(name) + 1;
		if (buf_add(&kept.text, name, nk) == BUF_OK && buf_add(&kept.text, value, strlen(value) + 1) == BUF_OK) {
			kept.at[kept.n].key = key;
			kept.at[kept.n++].value = key + nk;
			return;
		}
		buf_truncate(&kept.text, key);
	}
	kept_to_evhttp(r->req);  /* the ones set before it go first */
	evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

void reply_header_int(struct mreq *r, const char *name, int64_t value)
{
	char text[INT_TEXT_SIZE];
	reply_header(r, name, int_text(text, value));
}

/* ---- the response head ---------------------------------------------------------------------- */

/* The reason phrases of RFC 9110 (429 and 431: RFC 6585); a code neither names gets its class's. */
static const char *reason_phrase(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	static const char *const classes[] = { "Informational", "Success", "Redirection", "Client Error",
					       "Server Error" };
	return code >= 100 && code < 600 ? classes[code / 100 - 1] : "Unknown Status";
}

/* A response to req with this code has a body (evhttp's evhttp_response_needs_body). */
static bool needs_body(const struct evhttp_request *req, int code)
{
	return code != 204 && code != 304 && (code < 100 || code >= 200) && req->type != EVHTTP_REQ_CONNECT &&
	       req->type != EVHTTP_REQ_HEAD;
}

/* evhttp's test that headers ask to close (Proxy-Connection for a request to a proxy). */
static bool asks_close(const struct evhttp_request *req, struct evkeyvalq *headers)
{
	if (req->flags & EVHTTP_PROXY_REQUEST) {
		const char *v = evhttp_find_header(headers, "Proxy-Connection");
		return !v || evutil_ascii_strcasecmp(v, "keep-alive") != 0;
	}
	const char *v = evhttp_find_header(headers, "Connection");
	return v && evutil_ascii_strcasecmp(v, "close") == 0;
}

static void add_line(struct buf *b, const char *key, const char *value)
{
	buf_adds(b, key);
	buf_add(b, ": ", 2);
	buf_adds(b, value);
	buf_add(b, "\r\n", 2);
}

/* Which of the headers evhttp looks at (or adds when missing) the reply already has. */
enum { HAS_LENGTH = 1, HAS_ENCODING = 2, HAS_TYPE = 4, HAS_DATE = 8 };

static int header_bit(const char *k)
{
	switch (*k | 0x20) {  /* the first letter, in lower case, spares most comparisons */
	case 'c':
		return strcasecmp(k, "Content-Length") == 0 ? HAS_LENGTH : strcasecmp(k, "Content-Type") == 0 ? HAS_TYPE : 0;
	case 't':
		return strcasecmp(k, "Transfer-Encoding") == 0 ? HAS_ENCODING : 0;
	case 'd':
		return strcasecmp(k, "Date") == 0 ? HAS_DATE : 0;
	}
	return 0;
}

/* The HAS_ bits of req's headers, in evhttp's list and kept. */
static int headers_present(struct evhttp_request *req)
{
	int has = 0;
	const struct evkeyval *h;
	TAILQ_FOREACH(h, evhttp_request_get_output_headers(req), next)
		has |= header_bit(h->key);
	for (size_t i = 0; kept.req == req && i < kept.n; i++)
		has |= header_bit(kept_key(i));
	return has;
}

/*
 * Send req's head, and the body of a whole reply (stream false), as evhttp's
 * evhttp_send_reply and evhttp_send_reply_start do: the headers the handler
 * set, then the ones evhttp adds (Date, Content-Length or Transfer-Encoding,
 * Connection, a default Content-Type), and the same state left on the request
 * and the connection. evhttp writes each header with printf, after adding the
 * ones it makes to the request's list (an allocation and two copies each);
 * here they are written into one buffer for every reply, and only a
 * Connection: close that evhttp must act on (an HTTP/1.0 stream's) joins the
 * list. The bytes go to evhttp as one raw chunk (evhttp_send_reply_chunk with
 * chunking off writes them as they are and puts the connection in writing
 * mode); a stream's chunking is then on, so that evhttp_send_reply_end ends
 * it. False (nothing sent) when the response has no body (HEAD, 204, 304) or
 * the request no connection: evhttp answers those.
 */
static bool send_head(struct evhttp_request *req, int code, const char *body, size_t len, bool stream)
{
	static struct buf head = { .max = 16u << 20 };
	static struct evbuffer *raw;
	if (!evhttp_request_get_connection(req) || !needs_body(req, code) || (!raw && !(raw = evbuffer_new())))
		return false;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *connection = evhttp_find_header(in, "Connection");
	bool keepalive = connection && evutil_ascii_strncasecmp(connection, "keep-alive", 10) == 0;
	bool closing = asks_close(req, in);  /* evhttp drops the reply's own Connection headers for its close */
	bool proxied = (req->flags & EVHTTP_PROXY_REQUEST) != 0;
	int has = headers_present(req);
	bool chunked = stream && req->minor >= 1 && !(has & HAS_LENGTH);
	bool stream_closes = stream && !chunked && keepalive;  /* an HTTP/1.0 stream ends with its connection */
	if (stream_closes)
		evhttp_add_header(out, "Connection", "close");  /* evhttp closes when the reply says so */

	char status[INT_TEXT_SIZE];
	buf_reset(&head);
	buf_adds(&head, req->minor >= 1 ? "HTTP/1.1 " : "HTTP/1.0 ");
	buf_adds(&head, int_text(status, code));
	buf_addc(&head, ' ');
	buf_adds(&head, reason_phrase(code));
	buf_add(&head, "\r\n", 2);
	if (!(has & HAS_DATE))  /* every version: RFC 9110 6.6.1 (evhttp dates HTTP/1.1 only) */
		add_line(&head, "Date", http_date());
	const struct evkeyval *h;
	TAILQ_FOREACH(h, out, next)
		if (!(closing && is_connection_header(h->key)))
			add_line(&head, h->key, h->value);
	for (size_t i = 0; kept.req == req && i < kept.n; i++)
		add_line(&head, kept_key(i), kept_value(i));
	if (chunked)
		add_line(&head, "Transfer-Encoding", "chunked");
	if (req->minor == 0 && keepalive && !stream_closes)
		add_line(&head, "Connection", "keep-alive");
	if ((req->minor >= 1 || keepalive) && !stream && !(has & (HAS_ENCODING | HAS_LENGTH))) {
		char text[INT_TEXT_SIZE];
		add_line(&head, "Content-Length", int_text(text, (int64_t)len));
	}
	if (!(has & HAS_TYPE))
		add_line(&head, "Content-Type", "text/html; charset=ISO-8859-1");
	if (closing && !proxied)
		add_line(&head, "Connection", "close");
	if (buf_add(&head, "\r\n", 2) != BUF_OK || buf_add(&head, body, len) != BUF_OK ||
	    evbuffer_add(raw, head.data, head.len) != 0) {
		evbuffer_drain(raw, evbuffer_get_length(raw));
		return false;  /* evhttp writes it, and adds its headers itself */
	}
	if (kept.req == req)
		keep_for(NULL);
	req->kind = EVHTTP_RESPONSE;
	req->response_code = code;
	req->chunked = 0;
	evhttp_send_reply_chunk(req, raw);
	req->chunked = chunked;
	return true;
}

void http_write_now(struct bufferevent *bev, bool done)
{
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd < 0 || tls_bufferevent(bev))
		return;
	struct evbuffer *out = bufferevent_get_output(bev);
	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out) && evbuffer_write(out, fd) > 0)
		;
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out))
		return;
	bufferevent_disable(bev, EV_WRITE);
	if (done)
		bufferevent_trigger(bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
}

bool http_start_stream(struct evhttp_request *req)
{
	if (!send_head(req, 200, "", 0, true)) {
		head_by_evhttp(req);
		evhttp_send_reply_start(req, 200, reason_phrase(200));
		const char *te = evhttp_find_header(evhttp_request_get_output_headers(req), "Transfer-Encoding");
		return te && strcasecmp(te, "chunked") == 0;
	}
	return req->chunked;
}

/*
 * A whole reply: sent now when the socket takes it, evhttp told it is done (keep-alive or close).
 * body NULL: buffer could not be made one piece, and evhttp sends it as it is.
 */
static void send_whole(struct mreq *r, int status, const char *content_type, const char *body, size_t len,
		       struct evbuffer *buffer)
{
	if (content_type)
		reply_header(r, "Content-Type", content_type);
	r->status = status;
	struct evhttp_request *req = r->req;
	bool bodied = needs_body(req, status);
	r->body_sent = bodied ? (buffer ? evbuffer_get_length(buffer) : len) : 0;  /* body NULL: buffer's all */
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	if (!body || !send_head(req, status, body, len, false)) {
		head_by_evhttp(req);
		/* evhttp 2.1 sends whatever body it is given, after a HEAD's head too: none where none belongs. */
		if (buffer && !bodied)
			evbuffer_drain(buffer, evbuffer_get_length(buffer));
		struct evbuffer *copy = buffer ? NULL : evbuffer_new();
		if (copy && len && bodied)
			evbuffer_add(copy, body, len);
		evhttp_send_reply(req, status, reason_phrase(status), buffer ? buffer : copy);
		if (copy)
			evbuffer_free(copy);
		return;
	}
	if (buffer)
		evbuffer_drain(buffer, len);  /* as evhttp_send_reply takes it */
	struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
	evhttp_send_reply_end(req);
	http_write_now(bev, true);
}

void reply_buffer(struct mreq *r, int status, const char *content_type, struct evbuffer *body)
{
	size_t len = body ? evbuffer_get_length(body) : 0;
	const char *p = len ? (const char *)evbuffer_pullup(body, -1) : "";
	send_whole(r, status, content_type, p, p ? len : 0, body);  /* p NULL: no memory to make it one piece */
}

void reply_raw(struct mreq *r, int status, const char *content_type, const char *body, size_t len)
{
	send_whole(r, status, content_type, body ? body : "", body ? len : 0, NULL);
}

void reply_json(struct mreq *r, int status, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	if (!text) {
		reply_raw(r, 500, "application/json; charset=utf-8", "{\"error\":\"out of memory\"}", 25);
		return;
	}
	reply_raw(r, status, "application/json; charset=utf-8", text, strlen(text));
	cJSON_free(text);
}

/* The generic error for paths no API owns. */
static void plain_error(struct mreq *r, int status, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", message);
	reply_json(r, status, o);
}

static void answer_error(struct mreq *r, int status, const char *message)
{
	if (r->owner && r->owner->error)
		r->owner->error(r, status, NULL, message);
	else
		plain_error(r, status, message);
}

/*
 * Split a query string into decoded name/value pairs. Unlike evhttp_parse_query_str
 * it takes a parameter without "=" (a flag: its value is ""), as URLs allow.
 */
static int parse_query(const char *q, struct evkeyvalq *out)
{
	char *copy = strdup(q);
	if (!copy)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (char *part = strtok_r(copy, "&", &save); part && rc == 0; part = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(part, '=');
		if (eq)
			*eq = '\0';
		char *name = evhttp_uridecode(part, 1, NULL);
		char *value = evhttp_uridecode(eq ? eq + 1 : "", 1, NULL);
		if (!name || !value || evhttp_add_header(out, name, value) < 0)
			rc = -1;
		free(name);
		free(value);
	}
	free(copy);
	return rc;
}

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "UNKNOWN";
}

/* Read the peer address, the path, the query and the body into r; -1 when the URI is unusable. */
static int mreq_init(struct mreq *r, struct evhttp_request *req)
{
	memset(r, 0, sizeof(*r));
	r->req = req;
	r->at_ms = clock_now_ms();
	r->started_us = mono_us();
	r->method = method_name(evhttp_request_get_command(req));
	TAILQ_INIT(&r->query);
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;
	if (conn)
		evhttp_connection_get_peer(conn, &addr, &port);
	str_copy(r->peer, sizeof(r->peer), addr);

	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path)
		return -1;
	size_t decoded = 0;
	r->path = evhttp_uridecode(path, 0, &decoded);
	if (!r->path || strlen(r->path) != decoded)
		return -1; /* a %00 in the path */
	const char *q = evhttp_uri_get_query(uri);
	r->query_raw = q;
	if (q && parse_query(q, &r->query) < 0)
		return -1;

	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len > MOCKD_MAX_BODY) {
		r->body_too_big = true;
		r->body_len = len;
	} else if (len) {
		r->body = malloc(len + 1);
		if (!r->body)
			return -1;
		evbuffer_copyout(in, r->body, len);
		r->body[len] = '\0';
		r->body_len = len;
	}
	return 0;
}

/*
 * True when the request carries Content-Length more than once with different
 * values. evhttp reads the body by the first and ignores the rest, so the
 * framing is ambiguous (RFC 9112 6.3: an unrecoverable error, 400 and close).
 */
static bool conflicting_lengths(struct evhttp_request *req)
{
	const char *first = NULL;
	struct evkeyval *h;
	TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next) {
		if (strcasecmp(h->key, "Content-Length") != 0)
			continue;
		if (first && strcmp(first, h->value) != 0)
			return true;
		first = h->value;
	}
	return false;
}

static void mreq_release(struct mreq *r)
{
	free(r->path);
	free(r->body);
	evhttp_clear_headers(&r->query);
	for (int i = 0; i < ROUTE_MAX_PARAMS; i++)
		free(r->params[i]);
}

/*
 * The Date header's value, made once a second: evhttp makes one for every
 * response that has none, with gmtime and printf each time (3% of a whole
 * stream's work).
 */
static const char *http_date(void)
{
	static char text[40];
	static time_t made = -1;
	time_t now = time(NULL);
	if (now != made) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		made = now;
	}
	return text;
}

void http_reset_now(int fd)
{
	/*
	 * evhttp_connection_free shuts the socket down for writing before the
	 * bufferevent closes it, so SO_LINGER alone (close sends RST) came after a
	 * FIN, and the client read a clean end first. On Linux a connect to
	 * AF_UNSPEC disconnects an established TCP socket with a RST; the shutdown
	 * that follows finds it unconnected and sends nothing.
	 */
	struct linger lg = { 1, 0 };
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	connect(fd, &unspec, sizeof(unspec));
}

struct evhttp *http_server_new(struct event_base *base, int idle_timeout_s)
{
	struct evhttp *http = evhttp_new(base);
	if (!http)
		return NULL;
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
					 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
					 EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(http, MOCKD_HARD_MAX_BODY);
	evhttp_set_max_headers_size(http, MOCKD_MAX_HEADERS);
	evhttp_set_timeout(http, idle_timeout_s);
	evhttp_set_gencb(http, http_dispatch, NULL);
	return http;
}

void http_dispatch(struct evhttp_request *req, void *arg)
{
	struct mreq r;
	const struct route *found = NULL;
	keep_for(req);
	/* First, so that every answer carries it: errors, streams, a preflight's. */
	enum cors_verdict cors = cors_annotate(req);
	/*
	 * evhttp takes any "HTTP/%d.%d" and answers in the version asked, so
	 * "HTTP/0.1" got "HTTP/0.1 404". HTTP/1.x above 1.1 is served as 1.1
	 * (RFC 9110 6.2); any other version is 505, answered as HTTP/1.1, and the
	 * connection closed (what follows may not be HTTP/1 at all).
	 */
	bool bad_version = req->major != 1 || req->minor < 0;
	if (bad_version) {
		req->major = 1;
		req->minor = 1;
	} else if (req->minor > 1) {
		req->minor = 1;
	}
	if (mreq_init(&r, req) < 0) {
		r.owner = r.path ? owner_for_path(r.path) : NULL;
		answer_error(&r, 400, "malformed request line");
		goto done;
	}
	r.owner = owner_for_path(r.path);
	if (bad_version) {
		reply_header(&r, "Connection", "close");
		answer_error(&r, 505, "HTTP version not supported");
		goto done;
	}
	if (conflicting_lengths(req)) {
		reply_header(&r, "Connection", "close"); /* what follows on the connection cannot be framed */
		answer_error(&r, 400, "conflicting Content-Length headers");
		goto done;
	}
	bool path_known = false;
	for (size_t i = 0; i < nroutes; i++) {
		const struct route *rt = &routes[i];
		if (!route_match(rt->pattern, r.path, NULL))
			continue;
		if (!path_known)
			r.owner = rt->owner; /* the path's owner answers a 405 in its own format */
		path_known = true;
		if (strcmp(rt->method, r.method) != 0)
			continue;
		route_match(rt->pattern, r.path, r.params);
		found = rt;
		r.owner = rt->owner;
		break;
	}
	if (!found) {
		if (path_known) {
			/* Say which methods the path has, as RFC 9110 asks of a 405 (and CORS of a preflight). */
			char allow[128] = "";
			for (size_t i = 0; i < nroutes; i++)
				if (route_match(routes[i].pattern, r.path, NULL) && !strstr(allow, routes[i].method))
					snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
						 *allow ? ", " : "", routes[i].method);
			if (cors == CORS_ALLOWED && cors_is_preflight(req)) {
				cors_preflight_headers(req, allow);
				reply_raw(&r, 204, NULL, NULL, 0);
			} else if (cors == CORS_REFUSED && cors_is_preflight(req)) {
				plain_error(&r, 403, "origin not allowed");  /* the core's refusal, in no API's format */
			} else {
				reply_header(&r, "Allow", allow);
				answer_error(&r, 405, "method not allowed");
			}
		} else {
			answer_error(&r, 404, "not found");
		}
		goto done;
	}
	if (r.body_too_big) {
		answer_error(&r, 413, "request body too large");
		goto done;
	}
	found->handler(&r);
done:
	kept_to_evhttp(req);  /* no head yet (a whole reply comes later): evhttp's list keeps them */
	guard_request_done(req, r.streaming);
	if (observer)
		observer(&r, observer_arg);
	mreq_release(&r);
}
