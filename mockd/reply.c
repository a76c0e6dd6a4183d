#include "mockd/reply.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "mockd/mockd.h"

static struct reply *replies;
static size_t nreplies;

static void unqueue(struct reply *r);

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
	unqueue(r);
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
}

void reply_write_str(struct reply *r, const char *text)
{
	reply_write(r, text, strlen(text));
}

/* The text of one event, reused by every reply (an event is written before the next is made). */
static struct buf event = { .max = 16u << 20 };

void reply_write_event(struct reply *r, const char *before, struct jsonw_form *form, const char *value,
		       const char *after)
{
	buf_reset(&event);
	if (buf_adds(&event, before) == BUF_OK && jsonw_form_event(&event, form, value) == BUF_OK &&
	    buf_adds(&event, after) == BUF_OK)
		reply_write(r, event.data, event.len);
}

/* cJSON prints into this, grown as needed, instead of a new allocation an event. */
static char *print_buf;
static int print_cap;

void reply_write_json_framed(struct reply *r, const char *before, const cJSON *v, const char *after)
{
	while (!print_buf || !cJSON_PrintPreallocated((cJSON *)v, print_buf, print_cap, 0)) {
		int cap = print_cap ? 2 * print_cap : 4096;
		char *grown = cap <= (int)event.max ? realloc(print_buf, (size_t)cap) : NULL;
		if (!grown)
			return;
		print_buf = grown;
		print_cap = cap;
	}
	buf_reset(&event);
	if (buf_adds(&event, before) == BUF_OK && buf_adds(&event, print_buf) == BUF_OK &&
	    buf_adds(&event, after) == BUF_OK)
		reply_write(r, event.data, event.len);
}

void reply_write_json(struct reply *r, const cJSON *v)
{
	reply_write_json_framed(r, "", v, "");
}

void reply_write_object(struct reply *r, const char *before, const char *const *kv, size_t npairs,
			const char *after)
{
	buf_reset(&event);
	if (buf_adds(&event, before) == BUF_OK && jsonw_object(&event, kv, npairs) == BUF_OK &&
	    buf_adds(&event, after) == BUF_OK)
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
	if (!r->gone && cut) {
		flush(r);
		r->sink->cut(r, reset);
	} else if (!r->gone) {
		r->sink->finish(r);  /* it sends what is not flushed yet with its own end */
	}
	reply_over(r);
}

void reply_close(struct reply *r)
{
	end(r, false, false);
}

void reply_abort(struct reply *r, const char *code, const char *message)
{
	r->plan.fault_code = r->ops->shutdown_code ? r->ops->shutdown_code : code;
	r->plan.fault_message = message;
	r->ops->error(r);
	reply_close(r);
}

void reply_end_now(struct reply *r)
{
	r->ops->end(r);
	reply_close(r);
}

/* The sink of a reply whose client has left: r->gone keeps every other member from being called. */
static const struct reply_sink detached;

void reply_detach(struct reply *r)
{
	if (r->gone)
		return;
	if (r->sink->release)
		r->sink->release(r);
	r->sink = &detached;
	r->conn = NULL;
	r->gone = true;
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

size_t reply_pending_total(void)
{
	size_t n = 0;
	for (struct reply *r = replies; r; r = r->next)
		if (!r->gone && r->conn && r->sink->pending)
			n += r->sink->pending(r);
	return n;
}

/* ---- the schedule --------------------------------------------------------------------------- */

/*
 * Every reply waiting for its next deadline is in one binary heap ordered by
 * that deadline, and one libevent timer is armed for the earliest (as redis's
 * ae and h2o keep their own timers): a token costs a heap update here, not a
 * libevent event of its own added, activated and deleted. A slot keeps its
 * deadline beside the reply, so ordering the heap reads the heap alone, not
 * the replies (10,000 of them are 10,000 cache misses apart). A reply that is
 * running, or paused for its client, is not in the heap.
 */
struct slot {
	int64_t due_us;
	struct reply *r;
};

static struct slot *heap;
static size_t nheap, heap_cap;
static struct event *tick;
static bool tick_armed;
static int64_t tick_due_us;
static bool ticking;      /* in tick_cb: it arms the timer once, when its turns are done */
static int64_t turn_now;  /* the time read when the running turns began */

/* Replies run in one timer callback before the loop gets a turn for I/O. */
#define TURNS_PER_TICK 1024

static void heap_put(size_t i, struct slot s)
{
	heap[i] = s;
	s.r->heap_at = i + 1;
}

static void sift_up(size_t i)
{
	struct slot s = heap[i];
	while (i > 0 && s.due_us < heap[(i - 1) / 2].due_us) {
		heap_put(i, heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_put(i, s);
}

static void sift_down(size_t i)
{
	struct slot s = heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= nheap)
			break;
		if (c + 1 < nheap && heap[c + 1].due_us < heap[c].due_us)
			c++;
		if (heap[c].due_us >= s.due_us)
			break;
		heap_put(i, heap[c]);
		i = c;
	}
	heap_put(i, s);
}

static void unqueue(struct reply *r)
{
	if (!r->heap_at)
		return;
	size_t i = r->heap_at - 1;
	r->heap_at = 0;
	struct slot last = heap[--nheap];
	if (i == nheap)
		return;
	heap_put(i, last);
	sift_up(i);
	sift_down(last.r->heap_at - 1);
}

/* Arm the timer for the earliest deadline, unless it is armed for that or earlier already. */
static void arm_tick(int64_t now)
{
	if (!nheap)
		return;
	int64_t due = heap[0].due_us;
	if (tick_armed && tick_due_us <= due)
		return;
	int64_t wait = due - now;
	if (wait < 0)
		wait = 0;
	/* libevent counts from the time cached when this loop turn began: refresh it, or the timer fires early. */
	event_base_update_cache_time(mockd_base);
	struct timeval tv = { (time_t)(wait / 1000000), (suseconds_t)(wait % 1000000) };
	tick_armed = evtimer_add(tick, &tv) == 0;
	tick_due_us = due;
}

/* Wait for r's next deadline (the heap has room: reply_start made it). */
static void queue(struct reply *r)
{
	struct slot s = { r->pace.due_us, r };
	if (r->heap_at) {
		heap[r->heap_at - 1] = s;
		sift_up(r->heap_at - 1);
		sift_down(r->heap_at - 1);
	} else {
		heap_put(nheap++, s);
		sift_up(nheap - 1);
	}
	if (!ticking)
		arm_tick(pace_now_us());
}

/* The next step comes ms of scripted time after this one; in a turn, at once if due when the turn began. */
static void schedule(struct reply *r, int64_t ms)
{
	pace_next(&r->pace, ms);
	if (r->in_turn && r->pace.due_us <= turn_now)
		r->again = true;
	else
		queue(r);
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
		if (r->ops->token)
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

/* Run the steps of r that are due, then send what they wrote in one write; true when r is over (and freed). */
static bool turn(struct reply *r)
{
	if (backed_up(r)) {
		r->paused = true;
		r->paused_us = pace_now_us();
		r->pauses++;
		r->sink->watch(r);
		flush(r);
		return false;
	}
	r->in_turn = true;
	for (int left = REPLY_STEPS_PER_TURN;; left--) {
		r->again = false;
		step(r);
		if (r->over || !r->again)
			break;
		if (left == 1 || backed_up(r)) {
			queue(r);  /* due already: after the others, and after the loop has seen to I/O */
			break;
		}
	}
	r->in_turn = false;
	if (r->over) {
		free(r);  /* finish or cut flushed what the steps wrote */
		return true;
	}
	flush(r);
	return false;
}

/* The replies due run in deadline order; the timer is armed once, for what is left. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	tick_armed = false;
	ticking = true;
	turn_now = pace_now_us();
	for (int turns = 0; nheap && heap[0].due_us <= turn_now && turns < TURNS_PER_TICK; turns++) {
		struct reply *r = heap[0].r;
		unqueue(r);
		turn(r);
	}
	ticking = false;
	arm_tick(pace_now_us());
}

void reply_run(struct reply *r)
{
	turn_now = pace_now_us();
	if (r->pace.due_us > turn_now) {
		queue(r);
		flush(r);  /* what the API wrote before the first step (a head, a start event) leaves now */
	} else if (turn(r))
		return;
	if (r->sink->settle)
		r->sink->settle(r);
}

void reply_drained(struct reply *r)
{
	if (!r->paused)
		return;
	r->paused = false;
	/* The time waited past the next deadline moves the rest of the schedule: the stream slips, alone. */
	int64_t since = r->pace.due_us > r->paused_us ? r->pace.due_us : r->paused_us;
	int64_t late = pace_now_us() - since;
	if (late > 0) {
		pace_slip(&r->pace, late);
		r->slipped_us += late;
	}
	queue(r);
}

struct reply *reply_start(const struct reply_ops *ops, void *data, const struct reply_sink *sink, void *conn,
			  struct reply_plan *plan)
{
	if (!tick && !(tick = evtimer_new(mockd_base, tick_cb, NULL)))
		return NULL;
	if (nreplies + 1 > heap_cap) {
		size_t cap = heap_cap ? 2 * heap_cap : 64;
		struct slot *grown = realloc(heap, cap * sizeof(*heap));
		if (!grown)
			return NULL;
		heap = grown;
		heap_cap = cap;
	}
	struct reply *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
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
	return r;
}

void reply_release_all(void)
{
	while (replies)
		reply_gone(replies);
	if (tick)
		event_free(tick);
	tick = NULL;
	tick_armed = false;
	free(heap);
	heap = NULL;
	nheap = heap_cap = 0;
}
