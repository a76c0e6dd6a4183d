/*
 * http: mockd's request context, routing and replies on top of evhttp.
 *
 * Every request goes through http_dispatch: it reads the body (bounded), finds
 * the route by method and path, and calls the handler with a struct mreq.
 * A path no route has is 404, a known path with another method 405, both in
 * the error format of the API that owns the path.  Each finished request is
 * then shown to the observer, if one is set (mockd's journal, set by main).
 */
#ifndef CC_MOCKD_HTTP_H
#define CC_MOCKD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct api;
struct mreq;
struct reply_plan;

typedef void (*route_fn)(struct mreq *r);

/* Called once for each request after it is answered (or its stream has started). */
typedef void (*http_observer_fn)(const struct mreq *r, void *arg);

#define ROUTE_MAX_PARAMS 4

struct route {
	const char *method;      /* "GET", "POST", ... */
	const char *pattern;     /* "/api/conversations/:id/clear": ":name" matches one segment */
	const struct api *api;
	route_fn handler;
};

struct mreq {
	struct evhttp_request *req;
	const char *method;
	char *path;              /* decoded path, without the query */
	struct evkeyvalq query;  /* decoded query parameters */
	const char *query_raw;   /* the query as sent (owned by req), or NULL */
	char *body;              /* NUL-terminated (may contain NULs), NULL when empty */
	size_t body_len;
	bool body_too_big;       /* longer than MOCKD_MAX_BODY: the handler answers 413 */
	char peer[64];           /* the client's address */
	int64_t at_ms;           /* mockd's clock (mockd/clock.h) when the request came in */
	int64_t started_us;      /* mono_us() then (common/timeutil.h), for a duration */
	const struct route *route;
	const struct api *api;   /* the API that owns the path, or NULL */
	char *params[ROUTE_MAX_PARAMS];
	int status;              /* the status answered (for the observer); 0 until then */
	bool streaming;          /* the reply is a stream that outlives the handler */
};

/* Register a route; routes are tried in the order they were added. */
void http_route(const char *method, const char *pattern, const struct api *api, route_fn handler);
/* Show each finished request to fn (one observer; NULL for none). */
void http_observe(http_observer_fn fn, void *arg);
/* Forget every route and the observer. */
void http_routes_clear(void);
/* The evhttp general callback: every request comes here. */
void http_dispatch(struct evhttp_request *req, void *arg);

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
/* Answer with a JSON body (takes ownership of body). */
void reply_json(struct mreq *r, int status, cJSON *body);
/*
 * Answer a scripted http_error fault: the rule's body as given, else the
 * owning API's error envelope with the rule's code and message (or these).
 */
void reply_fault(struct mreq *r, const struct reply_plan *plan, const char *code, const char *message);
/* Answer with a body as given. */
void reply_raw(struct mreq *r, int status, const char *content_type, const char *body, size_t len);
/* Answer with the contents of body, which it drains (the caller still frees it). */
void reply_buffer(struct mreq *r, int status, const char *content_type, struct evbuffer *body);

#endif
