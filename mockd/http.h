/*
 * http: mockd's HTTP core: request context, routing and replies on top of evhttp.
 *
 * The core knows no API.  Whoever serves paths (mockd/apis/ registers every API
 * and the admin API) registers an owner: a name and an error writer.  It mounts
 * the prefixes it owns and adds its routes; the core only routes and writes.
 *
 * Every request goes through http_dispatch: it reads the body (bounded), finds
 * the route by method and path, and calls the handler with a struct mreq.
 * A path no route has is 404, a known path with another method 405, a body
 * over MOCKD_MAX_BODY 413 and an unusable request line 400, each written by
 * the owner of the path (a plain {"error": ...} when no one owns it).  Each
 * finished request is then shown to the observer, if one is set (mockd's
 * journal, set by main).
 */
#ifndef CC_MOCKD_HTTP_H
#define CC_MOCKD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct mreq;

typedef void (*route_fn)(struct mreq *r);

#define ROUTE_MAX_PARAMS 4

/* Who serves a set of paths: the core calls its error writer and carries it to the observer. */
struct http_owner {
	const char *name;        /* "widget": shown by observers (the journal) */
	/* Answer an error in the owner's envelope; code may be NULL (then derived from status). */
	void (*error)(struct mreq *r, int status, const char *code, const char *message);
};

/* Called once for each request after it is answered (or its stream has started). */
typedef void (*http_observer_fn)(const struct mreq *r, void *arg);

struct mreq {
	struct evhttp_request *req;
	const char *method;
	char *path;              /* decoded path, without the query */
	struct evkeyvalq query;  /* decoded query parameters */
	const char *query_raw;   /* the query as sent (owned by req), or NULL */
	char *body;              /* NUL-terminated (may contain NULs), NULL when empty */
	size_t body_len;
	bool body_too_big;       /* longer than MOCKD_MAX_BODY: the core answers 413 */
	char peer[64];           /* the client's address */
	int64_t at_ms;           /* mockd's clock (mockd/clock.h) when the request came in */
	int64_t started_us;      /* mono_us() then (common/timeutil.h), for a duration */
	const struct http_owner *owner;  /* who owns the path (its route's owner, else its prefix's), or NULL */
	char *params[ROUTE_MAX_PARAMS];
	int status;              /* the status answered (for the observer); 0 until then */
	size_t body_sent;        /* the length of a whole answer's body (for the observer) */
	bool streaming;          /* the reply is a stream that outlives the handler */
};

/*
 * Own every path under prefix ("/v1/"), or the one path prefix names when it
 * does not end in "/" ("/chat"); the longest mounted prefix owns a path.  Both
 * strings and owner must outlive the core (static, in practice).
 */
void http_mount(const char *prefix, const struct http_owner *owner);
/*
 * Route method and pattern to handler; routes are tried in the order they were
 * added.  pattern ("/api/conversations/:id") matches ":name" to one segment.
 */
void http_route(const char *method, const char *pattern, const struct http_owner *owner, route_fn handler);
/* Show each finished request to fn (one observer; NULL for none). */
void http_observe(http_observer_fn fn, void *arg);
/* Forget every route, mount and the observer. */
void http_routes_clear(void);
/*
 * mockd's HTTP server on base: the methods it serves, its body and header
 * limits (mockd.h), idle_timeout_s, every request to http_dispatch; no
 * listener yet. NULL when out of memory.
 */
struct evhttp *http_server_new(struct event_base *base, int idle_timeout_s);
/* The evhttp general callback: every request comes here. */
void http_dispatch(struct evhttp_request *req, void *arg);
/*
 * Reset the TCP connection on fd now (a reset fault): the peer gets a RST, not
 * a FIN first, however the connection is freed after.
 */
void http_reset_now(int fd);

/* A request header (case-insensitive), or NULL. */
const char *mreq_header(const struct mreq *r, const char *name);
/* A query parameter, or NULL. */
const char *mreq_query(const struct mreq *r, const char *name);
/* A whole number query parameter in [min, max]: def when absent, false when present and not one. */
bool mreq_query_long(const struct mreq *r, const char *name, long min, long max, long def, long *out);
/* The body parsed as JSON (it must be valid UTF-8 and nothing but one JSON value); NULL otherwise. */
cJSON *mreq_json(const struct mreq *r);
/* True when the client is on a loopback address. */
bool mreq_is_loopback(const struct mreq *r);

/* Add a response header. */
void reply_header(struct mreq *r, const char *name, const char *value);
/* The same with a whole number as its value (rate-limit headers, Retry-After). */
void reply_header_int(struct mreq *r, const char *name, int64_t value);
/* Answer with a JSON body (takes ownership of body). */
void reply_json(struct mreq *r, int status, cJSON *body);
/* Answer with a body as given. */
void reply_raw(struct mreq *r, int status, const char *content_type, const char *body, size_t len);
/* Answer with the contents of body, which it drains (the caller still frees it). */
void reply_buffer(struct mreq *r, int status, const char *content_type, struct evbuffer *body);

/*
 * Start a 200 stream on req: its head goes to the connection (written by mockd, as evhttp would);
 * true when its body is chunked (HTTP/1.1), false when it ends with the connection (HTTP/1.0).
 */
bool http_start_stream(struct evhttp_request *req);
/*
 * Write what bev's output holds now, on a plain socket, instead of on the loop's next turn; once it
 * is all gone, write interest is off and, when the reply is done, evhttp's write callback (which
 * finishes the request: keep-alive or close) runs deferred, as the bufferevent would have run it.
 */
struct bufferevent;
void http_write_now(struct bufferevent *bev, bool done);

#endif
