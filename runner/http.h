/*
 * http: one HTTP exchange through libcurl, into a struct response.
 *
 * Each worker thread owns one struct http_client (one CURL easy handle, so
 * connections are reused within the worker and never shared).  curl_global_init
 * must have been called once, before any thread starts (main does it).
 *
 * Everything kept from the target is capped: the body (HTTP_MAX_BODY; past it
 * the transfer stops and the response is marked truncated), stream events
 * (HTTP_MAX_EVENTS), NDJSON lines, and SSE lines and event data
 * (HTTP_MAX_LINE).  Redirects are not followed: a 3xx is the response.
 *
 * A request may leave its stream part way (leave_after_events), as a client
 * that goes away does: the exchange then ends without an error, the response
 * holds what was read, and the connection is closed, never reused.
 */
#ifndef CC_RUNNER_HTTP_H
#define CC_RUNNER_HTTP_H

#include <stddef.h>

#include "common/buf.h"
#include "runner/response.h"
#include "runner/timeouts.h"

#define HTTP_MAX_BODY       (4u << 20)   /* bytes of a response body kept */
#define HTTP_MAX_EVENTS     100000u      /* stream events kept */
#define HTTP_MAX_LINE       (1u << 20)   /* bytes of one NDJSON line, SSE line or SSE event's data */
#define HTTP_MAX_HEADERS    256u         /* response headers kept */
#define HTTP_TRANSCRIPT_REQ_BODY   4096u    /* bytes of a request body shown in a transcript */
#define HTTP_TRANSCRIPT_RESP_BODY  16384u   /* bytes of a response body shown in a transcript */
#define HTTP_TRANSCRIPT_EVENTS_HEAD 20u     /* arrival lines of a stream's first events in a transcript ... */
#define HTTP_TRANSCRIPT_EVENTS_TAIL 5u      /* ... and of its last; the middle is one line */

struct http_header_kv {
	const char *name;
	const char *value;
};

struct http_request {
	const char *method;                    /* "GET" when NULL */
	const char *url;                       /* absolute, already percent-encoded */
	const struct http_header_kv *headers;
	size_t nheaders;
	const char *body;                      /* NULL: no body */
	size_t body_len;
	enum stream_format stream;             /* NDJSON or SSE: decode the body into events as it arrives */
	size_t leave_after_events;             /* with stream: once this many events arrived, stop reading and
						  close the connection (resp->left); 0 reads to the end */
	struct timeouts timeouts;              /* seconds, every field resolved (> 0) */
	const char *ca_file;                   /* PEM certificates to trust instead of the system's, or NULL */
};

struct http_client;

/* A client with its own easy handle; NULL when libcurl cannot make one. */
struct http_client *http_client_new(void);
void http_client_free(struct http_client *c);
/*
 * Send req and fill resp (which the caller has response_init'ed).  Appends the
 * exchange, credentials redacted, to transcript when it is not NULL.  Returns 0
 * when a response arrived, -1 when resp->transport_error says why not.
 */
int http_exchange(struct http_client *c, const struct http_request *req, struct response *resp,
		  struct buf *transcript);
/* Open a TCP (and TLS, trusting ca_file when given) connection to url's host within timeout_ms; 0, or -1 with err. */
int http_probe(const char *url, long timeout_ms, const char *ca_file, struct buf *err);

/* Append n bytes to out, keeping valid UTF-8 and escaping control bytes as \xNN (\n and \t kept when keep_lines). */
void http_append_escaped(struct buf *out, const char *p, size_t n, int keep_lines);
/* Append one header line to a transcript, "> name: value" (dir '>' or '<'), a credential's value redacted. */
void http_transcript_header(struct buf *t, char dir, const char *name, const char *value);

#endif
