/*
 * stream: the HTTP side of a reply (reply.h), a chunked response that
 * outlives its handler.
 *
 * stream_start sends the status and headers and starts the reply; from then on
 * the engine paces it and the API writes its events (NDJSON lines or SSE
 * events, helpers below).  The events of one turn leave as chunks in one
 * write, straight to the socket when nothing waits before them.  A client
 * that leaves drops the reply; the shutdown path ends every open stream.
 */
#ifndef CC_MOCKD_STREAM_H
#define CC_MOCKD_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mockd/http.h"
#include "mockd/reply.h"

/*
 * Send the status and headers of r (added with reply_header) and start a
 * reply carried by its response; the plan moves into the reply.  NULL when
 * memory is short (r is then answered 500 by the caller, the plan is still
 * the caller's).
 */
struct reply *stream_start(struct mreq *r, const char *content_type, const struct reply_ops *ops, void *data,
			   struct reply_plan *plan);
/*
 * A JSON answer planned as a reply (botchat's /api/chat, deepwiki's research):
 * nothing is sent until the plan ends, after its tokens' time; then the API's
 * end op answers (or its error op, for error_after) through stream_request.
 * A cut or reset fault drops the connection unanswered; a stall delays the
 * answer.  status is the one the plan will answer with, for the observers.
 */
struct reply *stream_start_whole(struct mreq *r, const struct reply_ops *ops, void *data, struct reply_plan *plan,
				 int status);
/* The request a whole answer answers with reply_json and the like; NULL once answered. */
struct mreq *stream_request(struct reply *r);

/* What an API gives stream_answer_json. */
struct json_answer_ops {
	int fail_status;  /* the status fail answers with */
	/* The error_after answer, in the API's error format. */
	void (*fail)(struct mreq *r, const struct reply_plan *plan);
	/* What is stored when the answer is sent (the assistant message), or NULL. */
	void (*done)(void *data, const struct reply_plan *plan);
	/* Free data, or NULL. */
	void (*release)(void *data);
};

/*
 * Answer r with body (200, taken) as a whole answer planned by plan: after the
 * plan's time, or as its fault says (malformed: the body cut in half).  -1
 * when memory is short (body is freed, the plan is still the caller's, r is
 * not answered).
 */
int stream_answer_json(struct mreq *r, struct reply_plan *plan, cJSON *body, const struct json_answer_ops *ops,
		       void *data);
/* How a stream ended, for its observer. */
struct stream_end {
	size_t bytes;             /* the body's bytes written (the events, without chunk framing) */
	const char *rule;         /* the id of the rule that answered; "" for the default generator */
	const char *how;          /* "complete", "cut" (a fault), "left" (the client), "shutdown" */
	unsigned pauses;          /* times the reply waited for the client to read (backpressure) */
	int64_t slipped_us;       /* how far that moved its schedule */
};
/*
 * Watch every stream (the access log; one observer, NULL for none): start is
 * called in stream_start with the request, and what it returns is given to
 * end once, when the stream is over, however it ended (possibly before
 * stream_start returns, when the whole reply is due at once).
 */
void stream_observe(void *(*start)(const struct mreq *r), void (*end)(void *tag, const struct stream_end *e));
/* A new event object {"type": type}. */
cJSON *stream_event(const char *type);
/* Write an event as one SSE "data:" line and its blank line; takes the event. */
void stream_send_sse(struct reply *r, cJSON *event);
/* Write an event as one NDJSON line; takes the event. */
void stream_send_ndjson(struct reply *r, cJSON *event);
/* End every open stream as a complete response, without closing events (exit). */
void stream_end_all(void);
/* End every open stream with its API's error event (reply_abort), then as a complete response (shutdown). */
void stream_abort_all(const char *code, const char *message);
/* Number of open streams. */
size_t stream_count(void);

#endif
