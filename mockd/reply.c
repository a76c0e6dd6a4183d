#include "mockd/reply.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "mockd/mockd.h"

static struct reply *replies;
static size_t nreplies;

/* ---- life ----------------------------------------------------------------------------------- */

/* Free the reply; inside a timer turn, the memory waits for the turn to return. */
static void reply_over(struct reply *r)
{
	if (r->ops->release)
		r->ops->release(r);
	if (r->sink->release)
		r->sink->release(r);
	r->conn = NULL;
	r->gone = true;
	if (r->timer)
		event_free(r->timer);
	r->timer = NULL;
	if (r->held)
		evbuffer_free(r->held);
	r->held = NULL;
	plan_release(&r->plan);
	if (r->prev)
		r->prev->next = r->next;
	else
		replies = r->next;
	if (r->next)
		r->next->prev = r->prev;
	nreplies--;
	if (r->in_turn)
		r->over = true;
	else
		free(r);
}

/* ---- writing -------------------------------------------------------------------------------- */

/* A held event is kept as its length and its bytes, to be written as the same events at the end. */
void reply_write(struct reply *r, const char *p, size_t n)
{
	if (r->gone)
		return;
	if (r->held) {
		uint32_t len = (uint32_t)n;
		evbuffer_add(r->held, &len, sizeof(len));
		evbuffer_add(r->held, p, n);
		return;
	}
	r->sink->write(r, p, n);
	if (!r->in_turn && r->sink->flush)
		r->sink->flush(r);
}

void reply_write_str(struct reply *r, const char *text)
{
	reply_write(r, text, strlen(text));
}

void reply_write_json(struct reply *r, const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	if (text)
		reply_write(r, text, strlen(text));
	cJSON_free(text);
}

/* The text of one event, reused by every reply (an event is written before the next is made). */
static struct buf event = { .max = 16u << 20 };

void reply_write_event(struct reply *r, const char *before, const char *type, const char *key, const char *value,
		       const char *after)
{
	buf_reset(&event);
	if (buf_adds(&event, before) == BUF_OK && jsonw_event(&event, type, key, value) == BUF_OK &&
	    buf_adds(&event, after) == BUF_OK)
		reply_write(r, event.data, event.len);
}

void reply_write_object(struct reply *r, const char *const *kv, size_t npairs)
{
	buf_reset(&event);
	if (jsonw_object(&event, kv, npairs) == BUF_OK)
		reply_write(r, event.data, event.len);
}

void reply_hold(struct reply *r)
{
	if (!r->held)
		r->held = evbuffer_new();
}

/* Write what reply_hold kept, all in the same turn: it leaves in one write. */
static void release_held(struct reply *r)
{
	struct evbuffer *held = r->held;
	r->held = NULL;
	if (!held)
		return;
	uint32_t len;
	while (!r->gone && evbuffer_remove(held, &len, sizeof(len)) == sizeof(len)) {
		char *p = (char *)evbuffer_pullup(held, len);
		if (!p && len)
			break;
		r->sink->write(r, p, len);
		evbuffer_drain(held, len);
	}
	evbuffer_free(held);
}

static void flush(struct reply *r)
{
	if (!r->gone && r->sink->flush)
		r->sink->flush(r);
}

/* ---- ending --------------------------------------------------------------------------------- */

/* Send what is held and written, end the reply as the transport ends one (or cut it), and free it. */
static void end(struct reply *r, bool cut, bool reset)
{
	release_held(r);
	flush(r);
	if (!r->gone && cut)
		r->sink->cut(r, reset);
	else if (!r->gone)
		r->sink->finish(r);
	reply_over(r);
}

void reply_close(struct reply *r)
{
	end(r, false, false);
}

void reply_end_now(struct reply *r)
{
	r->ops->end(r);
	reply_close(r);
}

void reply_gone(struct reply *r)
{
	r->gone = true;
	reply_over(r);
}

size_t reply_count(void)
{
	return nreplies;
}

/* ---- the schedule --------------------------------------------------------------------------- */

/* The next step comes ms of scripted time after this one; inside a turn, at once when it is due. */
static void schedule(struct reply *r, int64_t ms)
{
	pace_next(&r->pace, ms);
	if (r->in_turn && pace_wait_us(&r->pace) <= 0)
		r->again = true;
	else
		pace_arm(&r->pace, r->timer);
}

/* One step of the plan: the fault due now, else the next token, else the end. */
static void step(struct reply *r)
{
	const struct reply_plan *p = &r->plan;
	switch (plan_fault_at(p, r->sent, &r->fault_served)) {
	case FAULT_STEP_ERROR:
		r->ops->error(r);
		reply_close(r);
		return;
	case FAULT_STEP_CUT:
	case FAULT_STEP_RESET:
		end(r, true, p->fault == FAULT_RESET_AFTER);
		return;
	case FAULT_STEP_STALL:
		schedule(r, p->fault_ms);
		return;
	case FAULT_STEP_MALFORMED:
		r->ops->malformed(r);
		break;
	case FAULT_STEP_NONE:
		break;
	}
	if (r->sent < p->ntokens) {
		r->ops->token(r, r->sent);
		r->sent++;
		schedule(r, p->interval_ms);
		return;
	}
	r->ops->end(r);
	reply_close(r);
}

static bool backed_up(struct reply *r)
{
	return !r->gone && r->sink->pending && r->sink->pending(r) > REPLY_HIGH_WATER;
}

static void turn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reply *r = arg;
	/* A timer may fire a little before its deadline (clock rounding): wait the rest. */
	if (pace_wait_us(&r->pace) > 0) {
		pace_arm(&r->pace, r->timer);
		return;
	}
	if (backed_up(r)) {
		r->paused = true;
		r->sink->watch(r);
		return;
	}
	r->in_turn = true;
	for (int left = REPLY_STEPS_PER_TURN;; left--) {
		r->again = false;
		step(r);
		if (r->over || !r->again)
			break;
		if (left == 1 || backed_up(r)) {
			pace_arm(&r->pace, r->timer);  /* due already: the next turn */
			break;
		}
	}
	r->in_turn = false;
	if (r->over) {
		free(r);  /* finish or cut flushed what the steps wrote */
		return;
	}
	flush(r);
}

void reply_drained(struct reply *r)
{
	if (!r->paused)
		return;
	r->paused = false;
	pace_arm(&r->pace, r->timer);
}

struct reply *reply_start(const struct reply_ops *ops, void *data, const struct reply_sink *sink, void *conn,
			  struct reply_plan *plan)
{
	struct reply *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->timer = evtimer_new(mockd_base, turn_cb, r);
	if (!r->timer) {
		free(r);
		return NULL;
	}
	r->ops = ops;
	r->data = data;
	r->sink = sink;
	r->conn = conn;
	r->plan = *plan;
	memset(plan, 0, sizeof(*plan));
	r->next = replies;
	if (replies)
		replies->prev = r;
	replies = r;
	nreplies++;
	pace_start(&r->pace, &r->plan);
	pace_next(&r->pace, r->plan.first_token_ms);
	pace_arm(&r->pace, r->timer);
	return r;
}
