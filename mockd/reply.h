/*
 * reply: one scripted answer, paced, whatever carries it.
 *
 * Every paced answer mockd gives (widget's NDJSON stream, deepwiki's and
 * botchat's SSE streams, deepwiki's and threads' WebSocket answers, and the
 * JSON answers of botchat's /api/chat and deepwiki's research, which leave
 * whole when their plan ends) is a reply.  The engine owns what is the same for all of them: the plan (the
 * tokens, shared with the rule, never copied), the schedule (pace.h), the
 * fault, what happens when the client leaves, and when bytes leave.  An API
 * says only how each part of its answer is written (struct reply_ops); a
 * transport says only how bytes are carried (struct reply_sink).
 *
 *     start events   written by the API right after reply_start
 *     token 0 .. n-1 ops->token, each when it is due
 *     end            ops->end, then the transport finishes the reply
 *
 * and a fault after N tokens replaces the rest with one of
 *
 *     error      ops->error, then the transport finishes the reply
 *     cut/reset  the transport drops the connection (reset: with a TCP RST)
 *     stall      fault_ms of silence (once), then the rest
 *     malformed  ops->malformed (once), then the rest
 *
 * A client that leaves drops its reply (reply_gone), or, where the document
 * makes a reply a job, the reply runs on without it (reply_detach).
 *
 * One turn of a reply runs every step that is due and then flushes: the
 * events due together leave in one write.  After REPLY_STEPS_PER_TURN steps
 * the reply yields so that one long reply cannot starve the others.  The
 * replies wait for their deadlines in one heap under one libevent timer.
 *
 * Backpressure: when the transport reports more than REPLY_HIGH_WATER bytes
 * waiting for the client, the reply stops producing; the transport calls
 * reply_drained when the client has read below the low water mark, and the
 * reply goes on where its schedule is (the events that fell due meanwhile
 * leave together).
 */
#ifndef CC_MOCKD_REPLY_H
#define CC_MOCKD_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "mockd/pace.h"
#include "mockd/script.h"

#define REPLY_STEPS_PER_TURN 64
#define REPLY_HIGH_WATER     (256u * 1024)  /* bytes waiting for the client: stop producing */
#define REPLY_LOW_WATER      (64u * 1024)   /* ... and go on below this */

struct reply;
struct evbuffer;
struct jsonw_form;

/* How an API writes the parts of its answer (each writes with reply_write / reply_write_str). */
struct reply_ops {
	/* Token i of the plan (r->plan.tokens[i]), and whatever goes with it; NULL: tokens only take their time. */
	void (*token)(struct reply *r, size_t i);
	/* The closing events; also what the API stores. The reply ends after it. */
	void (*end)(struct reply *r);
	/* The error_after fault's events. The reply ends after it. */
	void (*error)(struct reply *r);
	/* One frame that breaks the format; the reply goes on. */
	void (*malformed)(struct reply *r);
	/* The reply is over, however it ended: free r->data. May be NULL. */
	void (*release)(struct reply *r);
	/* The error code its error event carries on shutdown (reply_abort): one its document lists; NULL
	 * for REPLY_SHUTDOWN_CODE, where the document lists none. */
	const char *shutdown_code;
};

/* How a transport carries a reply's bytes; r->conn is its own. */
struct reply_sink {
	/* One event's bytes. */
	void (*write)(struct reply *r, const char *p, size_t n);
	/* Send what the writes since the last flush produced. May be NULL. */
	void (*flush)(struct reply *r);
	/* Bytes written and not yet taken by the client. May be NULL (no backpressure). */
	size_t (*pending)(struct reply *r);
	/* The reply is complete: send what the writes since the last flush produced, and end it as the
	 * protocol ends an answer (in one write, where it can). */
	void (*finish)(struct reply *r);
	/* A cut or reset fault: drop the connection without ending the answer. */
	void (*cut)(struct reply *r, bool reset);
	/* Call reply_drained once pending() is below REPLY_LOW_WATER. May be NULL (no backpressure). */
	void (*watch)(struct reply *r);
	/* The reply outlives reply_run (it waits for a deadline or its client): let go of what only
	 * its start needed. May be NULL. */
	void (*settle)(struct reply *r);
	/* The reply is over, however it ended: forget it (and free r->conn). May be NULL. */
	void (*release)(struct reply *r);
};

struct reply {
	const struct reply_ops *ops;
	void *data;                  /* the API's */
	const struct reply_sink *sink;
	void *conn;                  /* the transport's */
	bool gone;                   /* the client has left: nothing more is written */
	struct reply_plan plan;      /* what to answer; the reply owns it */
	size_t sent;                 /* tokens written so far */
	/* The engine's own. */
	struct pace pace;
	size_t heap_at;              /* its place in the deadline heap + 1, or 0 */
	struct evbuffer *held;       /* events kept back until the end (the held-reply breaks), or NULL */
	bool fault_served;           /* the stall or malformed fault has happened */
	bool in_turn;                /* a timer turn is running this reply */
	bool again;                  /* its next step is due already */
	bool over;                   /* it ended during the turn: free it when the turn returns */
	bool paused;                 /* waiting for the client to read (backpressure) */
	int64_t paused_us;           /* when it last paused (monotonic, pace_now_us) */
	/* What backpressure did to the schedule, for the transport's record of the reply (the access log). */
	unsigned pauses;             /* times it waited for its client to read */
	int64_t slipped_us;          /* how far its schedule moved for that */
	struct reply *prev, *next;
};

/*
 * Start a reply: the plan moves into it, its first token is due after the
 * plan's first-token latency.  The API then writes its start events and calls
 * reply_run. NULL when memory is short (nothing has been written; the plan is
 * left to the caller).
 */
struct reply *reply_start(const struct reply_ops *ops, void *data, const struct reply_sink *sink, void *conn,
			  struct reply_plan *plan);
/*
 * The start events are written: send them, with whatever is due already (at
 * --time-scale 0, the whole reply: one write), and wait for the rest (the sink
 * settles it first). r may be gone when this returns.
 */
void reply_run(struct reply *r);
/* Keep every event from now on and send them all at the end (the held-reply breaks). */
void reply_hold(struct reply *r);
/* Write one event (n bytes); it leaves with the others of its turn (or at reply_run). */
void reply_write(struct reply *r, const char *p, size_t n);
void reply_write_str(struct reply *r, const char *text);
/* Write a JSON value as one event (a WebSocket message). */
void reply_write_json(struct reply *r, const cJSON *v);
/*
 * The same between before and after ("data: " and "\n\n" for SSE, "" and
 * "\n" for NDJSON): cJSON's unformatted print has no line end to split.
 */
void reply_write_json_framed(struct reply *r, const char *before, const cJSON *v, const char *after);
/*
 * Write {"type":type,key:value} (form's type and key) as one event between
 * before and after ("data: " and "\n\n" for SSE, "" and "\n" for NDJSON, ""
 * and "" for a WebSocket message): the token events, without a cJSON tree
 * (common/jsonw.h: the same bytes cJSON prints).
 */
void reply_write_event(struct reply *r, const char *before, struct jsonw_form *form, const char *value,
		       const char *after);
/* Write an object of npairs string members (kv: key, value, ...) as one event, framed as above. */
void reply_write_object(struct reply *r, const char *before, const char *const *kv, size_t npairs,
			const char *after);
/* End the reply now, as its plan's end would (ops->end, then finish): a stop requested by the client. */
void reply_end_now(struct reply *r);
/* The client has left: the reply is dropped (the transport has already let go of its connection). */
void reply_gone(struct reply *r);
/*
 * The client has left, but the reply is a job (threads): it runs to its end on
 * its schedule, written to no one, and its end op still stores it. The
 * transport forgets it now (sink release); nothing of the sink is called again.
 */
void reply_detach(struct reply *r);
/* The transport's pending bytes fell below REPLY_LOW_WATER: a paused reply goes on. */
void reply_drained(struct reply *r);
/* End the reply at once as its transport ends a reply, without the closing events. */
void reply_close(struct reply *r);
/*
 * The code and message of the error event that ends a reply cut short by
 * shutdown (an API without codes shows only its own error text; one whose
 * document lists its codes names one of them in its ops' shutdown_code).
 */
#define REPLY_SHUTDOWN_CODE    "SERVICE_UNAVAILABLE"
#define REPLY_SHUTDOWN_MESSAGE "mockd is shutting down: this answer is incomplete"
/*
 * End the reply now with its API's error event (ops->error, as the
 * error_after fault writes it, but with code, or the API's shutdown_code, and
 * message in place of the plan's), then as its transport ends a reply: shutdown. The plan's scripted
 * texts are replaced only in this reply, which ends here.
 */
void reply_abort(struct reply *r, const char *code, const char *message);
/* Free every reply left (the jobs still running for no one at exit) and the engine's timer. */
void reply_release_all(void);
/* Open replies. */
size_t reply_count(void);
/* The bytes written by replies in progress that their clients have not taken yet. O(replies). */
size_t reply_pending_total(void);

#endif
