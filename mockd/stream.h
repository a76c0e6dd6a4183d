/*
 * stream: a chunked HTTP response that outlives its handler, paced by timers.
 *
 * An API starts a stream, writes events (each leaves the server as it is
 * written: one chunk per event), schedules its next step, and ends it.  The
 * stream notices a client that went away and frees itself, and the shutdown
 * path ends every open stream.  Faults that cut a connection (disconnect,
 * reset) go through stream_abort.
 */
#ifndef CC_MOCKD_STREAM_H
#define CC_MOCKD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "mockd/http.h"
#include "mockd/pace.h"
#include "mockd/script.h"

struct stream;

/* Called when the stream's timer fires; the API writes and schedules, or ends. */
typedef void (*stream_step_fn)(struct stream *s);

struct stream {
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct event *timer;
	stream_step_fn step;
	void (*cleanup)(struct stream *s);  /* frees data; called once, however the stream ends */
	void *data;                         /* the API's state */
	struct reply_plan plan;             /* what to answer; the stream owns it */
	struct pace pace;                   /* when the next step is due, counted from the start */
	struct evbuffer *held;              /* events kept back until the end (held-stream breaks), or NULL */
	struct evbuffer *out;               /* chunks written during a step, sent when it returns; or NULL */
	bool chunked;                       /* the body is chunked (HTTP/1.1): mockd may frame chunks itself */
	size_t sent;                        /* tokens sent so far */
	bool stalled;                       /* a stall or malformed fault has been served */
	bool in_step;                       /* the step function is running */
	bool run_again;                     /* it scheduled its next step with no delay */
	bool freed;                         /* it ended the stream: free when it returns */
	struct stream *prev, *next;
};

/*
 * Send the status and headers of r (added with reply_header) and start a
 * stream; the plan moves into the stream.  NULL when memory is short (r is
 * then answered 500 by the caller).
 */
struct stream *stream_start(struct mreq *r, const char *content_type, struct reply_plan *plan,
			    stream_step_fn step, void *data, void (*cleanup)(struct stream *s));
/*
 * Keep every event written from now on and send them all as one chunk when the
 * stream ends (the held-stream breaks). Call it before the first event.
 */
void stream_hold(struct stream *s);
/* Send bytes as one chunk: now, or at the end of the step (under stream_hold: at the end of the stream). */
void stream_write(struct stream *s, const char *p, size_t n);
/* Send a C string now as one chunk. */
void stream_write_str(struct stream *s, const char *text);
/*
 * Run step when the next event is due: ms of scripted time after the previous
 * one on the stream's schedule (pace.h), not ms from now.  Already due inside
 * a step: the step runs again at once, so its events share one write.
 */
void stream_schedule(struct stream *s, int64_t ms);
/* The delay before the next token by the plan: first-token latency, then the interval. */
int64_t stream_next_delay(const struct stream *s);
/* A new event object {"type": type}. */
cJSON *stream_event(const char *type);
/* Send an event as one SSE "data:" line and its blank line; takes the event. */
void stream_send_sse(struct stream *s, cJSON *event);
/* Send an event as one NDJSON line; takes the event. */
void stream_send_ndjson(struct stream *s, cJSON *event);

/* What a step must do about the plan's fault at this point of the stream. */
enum fault_action {
	FAULT_GO_ON,             /* no fault now: send the next token or the end */
	FAULT_HANDLED,           /* the stream was cut or rescheduled (a stall): the step returns at once */
	FAULT_SEND_ERROR,        /* send the API's error event, then end the stream */
	FAULT_SEND_MALFORMED,    /* send one frame that breaks the format, then go on */
};

/* Apply the generic part of the plan's fault (disconnect, reset, stall) and say what is left to do. */
enum fault_action stream_fault(struct stream *s);
/* Finish the response properly and free the stream. */
void stream_end(struct stream *s);
/* Cut the connection without finishing the response (reset: with a TCP RST) and free the stream. */
void stream_abort(struct stream *s, bool reset);
/* End every open stream (shutdown). */
void stream_end_all(void);
/* Number of open streams. */
size_t stream_count(void);

#endif
