/*
 * response: what a step received, in the form the matchers read.
 *
 * The HTTP client fills it; a stream (NDJSON or SSE) is decoded into events
 * as it arrives, when the response says it is one: a 2xx status and a content
 * type of that format (response_is_stream_type).  Any other answer to a stream
 * request (a 404 with a JSON error, a 200 of text/plain) is kept as a plain
 * body, parsed as JSON when it is, and not_stream says why it was not decoded.  Everything kept is capped, so a target that floods
 * cannot exhaust memory: past the cap, the response is marked truncated.
 */
#ifndef CC_RUNNER_RESPONSE_H
#define CC_RUNNER_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

struct header {
	char *name;              /* as received; compare case-insensitively */
	char *value;             /* leading and trailing whitespace removed */
};

struct event {
	char *type;              /* the event's "type" string member; for SSE without one, the SSE event
				    field unless it is "message"; else "?" */
	cJSON *json;             /* the parsed event; never NULL for a stored event */
	char *raw;               /* the bytes of the NDJSON line / the SSE event's data, NUL-terminated */
	size_t raw_len;
	double at_ms;            /* when it arrived, ms since the request began to go out (a ws collect:
				    since the last send before it; runner/timing.h) */
};

enum stream_format { STREAM_NONE, STREAM_NDJSON, STREAM_SSE };

struct response {
	long status;             /* 0 when no status line arrived */
	struct header *headers;
	size_t nheaders;
	struct buf body;         /* the body as received (capped); for streams, the raw stream */
	bool truncated;          /* the body passed its cap */
	cJSON *json;             /* the body parsed as JSON, or NULL when it is not JSON (or a decoded stream) */
	enum stream_format format;   /* what the body was decoded as; STREAM_NONE when not decoded */
	struct event *events;    /* decoded stream events, in order */
	size_t nevents;
	char *stream_error;      /* the first decoding problem ("line 3 is not JSON: ..."), or NULL */
	char *not_stream;        /* a stream was asked for but the response is not one: "not a stream:
				    status 404, content-type application/json, body {...}"; else NULL */
	char *transport_error;   /* connect failure, timeout, reset..., or NULL */
	bool left;               /* we left the stream part way (leave_after): nevents events were read, then
				    the connection was closed; the stream's end was never seen */
	/* Milliseconds on CLOCK_MONOTONIC, with fractions. */
	double connect_ms;       /* TCP (and TLS) connect, 0 for a reused connection */
	double sent_ms;          /* the request began to go out, since the exchange started */
	double first_byte_ms;    /* the first response byte, since sent_ms; -1 when none came */
	double headers_ms;       /* the final response's headers complete, since sent_ms; -1 when they were not */
	double total_ms;         /* the whole exchange, connect included, since it started */
};

void response_init(struct response *r);
void response_release(struct response *r);
/* The first header named name (case-insensitive), or NULL. */
const char *response_header(const struct response *r, const char *name);
/*
 * True when content_type (a Content-Type value, or NULL) names a stream of
 * format: text/event-stream for SSE; application/x-ndjson, application/ndjson or
 * a JSON Lines type (application/jsonl, application/x-jsonl) for NDJSON.  Case
 * and parameters (charset=...) do not matter.
 */
bool response_is_stream_type(enum stream_format format, const char *content_type);
/* Append an event (takes ownership of json; copies raw). Returns -1 past max_events. */
int response_add_event(struct response *r, cJSON *json, const char *raw, size_t raw_len, double at_ms,
		       size_t max_events);

#endif
