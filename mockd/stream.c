#include "mockd/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/buf.h"
#include "common/ndjson.h"
#include "common/sse.h"
#include "mockd/mockd.h"

static struct stream *streams;
static size_t nstreams;

static void stream_unlink(struct stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	nstreams--;
}

/* Free everything the stream holds; the request itself belongs to evhttp. Inside a step, the memory waits for it. */
static void stream_free(struct stream *s)
{
	if (s->cleanup)
		s->cleanup(s);
	s->cleanup = NULL;
	if (s->timer)
		event_free(s->timer);
	s->timer = NULL;
	if (s->held)
		evbuffer_free(s->held);
	s->held = NULL;
	if (s->out)
		evbuffer_free(s->out);
	s->out = NULL;
	plan_release(&s->plan);
	stream_unlink(s);
	if (s->in_step)
		s->freed = true;
	else
		free(s);
}

/*
 * The connection is going down (the client left, or a timeout). evhttp frees the
 * connection after this returns; a request whose reply we had not finished has
 * already been detached from it, and is ours to free: evhttp_send_reply_end on a
 * request without a connection does exactly that.
 */
static void conn_close_cb(struct evhttp_connection *conn, void *arg)
{
	struct stream *s = arg;
	struct evhttp_request *req = s->req;
	s->req = NULL;
	s->conn = NULL;
	stream_free(s);
	if (req && !evhttp_request_get_connection(req))
		evhttp_send_reply_end(req);
}

/*
 * Steps already due (delays scaled to 0, or a loop that fell behind the
 * schedule) run in one go: their events leave in one write instead of one
 * loop turn and one syscall each. A stream yields to the loop after
 * STEPS_PER_TURN so that one long reply cannot starve the others.
 */
#define STEPS_PER_TURN 64

/*
 * Send the chunks a step wrote, in one write, straight to the socket when
 * nothing waits before them in the connection's output. Through evhttp each
 * chunk would wait in the bufferevent for the next loop turn, which costs that
 * turn, two epoll_ctl calls (write interest on, then off) and the time until
 * then: about a fifth of mockd's CPU under 1,000 paced streams. What the
 * socket does not take (or all of it, on an error) goes to the output as evhttp
 * would have put it there, so the byte order is kept and evhttp meets any
 * failure on its next write.
 */
static void stream_flush(struct stream *s)
{
	if (!s->out || !evbuffer_get_length(s->out))
		return;
	struct bufferevent *bev = s->conn ? evhttp_connection_get_bufferevent(s->conn) : NULL;
	if (!bev) {
		evbuffer_drain(s->out, evbuffer_get_length(s->out));
		return;
	}
	struct evbuffer *output = bufferevent_get_output(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd >= 0 && evbuffer_get_length(output) == 0)
		evbuffer_write(s->out, fd);  /* drains what the socket took */
	if (evbuffer_get_length(s->out)) {
		evbuffer_add_buffer(output, s->out);
		bufferevent_enable(bev, EV_WRITE);
	}
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	/* A timer may fire a little before its deadline (clock rounding): wait the rest. */
	if (pace_wait_us(&s->pace) > 0) {
		pace_arm(&s->pace, s->timer);
		return;
	}
	for (int left = STEPS_PER_TURN;; left--) {
		s->run_again = false;
		s->in_step = true;
		s->step(s);
		s->in_step = false;
		if (s->freed) {
			free(s);  /* stream_end or stream_abort sent what the steps wrote */
			return;
		}
		if (!s->run_again)
			break;
		if (left == 1) {
			struct timeval now = { 0, 0 };
			evtimer_add(s->timer, &now);
			break;
		}
	}
	stream_flush(s);
}

struct stream *stream_start(struct mreq *r, const char *content_type, struct reply_plan *plan,
			    stream_step_fn step, void *data, void (*cleanup)(struct stream *s))
{
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->timer = evtimer_new(mockd_base, timer_cb, s);
	if (!s->timer) {
		free(s);
		return NULL;
	}
	s->req = r->req;
	s->conn = evhttp_request_get_connection(r->req);
	s->step = step;
	s->data = data;
	s->cleanup = cleanup;
	s->plan = *plan;
	memset(plan, 0, sizeof(*plan));
	pace_start(&s->pace, &s->plan);
	s->next = streams;
	if (streams)
		streams->prev = s;
	streams = s;
	nstreams++;

	reply_header(r, "Content-Type", content_type);
	r->status = 200;
	r->streaming = true;
	evhttp_send_reply_start(r->req, 200, "OK");
	const char *te = evhttp_find_header(evhttp_request_get_output_headers(r->req), "Transfer-Encoding");
	s->chunked = te && strcasecmp(te, "chunked") == 0;
	evhttp_connection_set_closecb(s->conn, conn_close_cb, s);
	return s;
}

void stream_hold(struct stream *s)
{
	if (!s->held)
		s->held = evbuffer_new();
}

/* Send what stream_hold kept, in one chunk: one write, after the last token's time. */
static void stream_release_held(struct stream *s)
{
	if (s->held && s->req && evbuffer_get_length(s->held))
		evhttp_send_reply_chunk(s->req, s->held);
	if (s->held)
		evbuffer_free(s->held);
	s->held = NULL;
}

void stream_write(struct stream *s, const char *p, size_t n)
{
	if (!s->req)
		return;
	if (s->held) {
		evbuffer_add(s->held, p, n);
		return;
	}
	/* Inside a step, framed as evhttp frames a chunk, for stream_flush to send. */
	if (s->in_step && s->chunked && (s->out || (s->out = evbuffer_new()))) {
		evbuffer_add_printf(s->out, "%zx\r\n", n);
		evbuffer_add(s->out, p, n);
		evbuffer_add(s->out, "\r\n", 2);
		return;
	}
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return;
	evbuffer_add(b, p, n);
	evhttp_send_reply_chunk(s->req, b);
	evbuffer_free(b);
}

void stream_write_str(struct stream *s, const char *text)
{
	stream_write(s, text, strlen(text));
}

cJSON *stream_event(const char *type)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", type);
	return e;
}

/* Every event is one chunk: it leaves the server when it is produced. */
void stream_send_sse(struct stream *s, cJSON *event)
{
	char *text = cJSON_PrintUnformatted(event);
	cJSON_Delete(event);
	struct buf b;
	buf_init(&b, 1u << 24);
	if (text && sse_encode(&b, NULL, text, strlen(text)) == BUF_OK)
		stream_write(s, b.data, b.len);
	buf_release(&b);
	cJSON_free(text);
}

void stream_send_ndjson(struct stream *s, cJSON *event)
{
	struct buf line;
	buf_init(&line, 1u << 24);
	if (ndjson_encode(&line, event) == BUF_OK)
		stream_write(s, line.data, line.len);
	buf_release(&line);
	cJSON_Delete(event);
}

int64_t stream_next_delay(const struct stream *s)
{
	return s->sent == 0 ? s->plan.first_token_ms : s->plan.interval_ms;
}

void stream_schedule(struct stream *s, int64_t ms)
{
	pace_next(&s->pace, ms);
	if (s->in_step && pace_wait_us(&s->pace) <= 0) {
		s->run_again = true;
		return;
	}
	pace_arm(&s->pace, s->timer);
}

void stream_end(struct stream *s)
{
	stream_flush(s);
	stream_release_held(s);
	if (s->conn)
		evhttp_connection_set_closecb(s->conn, NULL, NULL);
	if (s->req)
		evhttp_send_reply_end(s->req);
	stream_free(s);
}

/*
 * Send what out holds without waiting; whatever does not fit is lost with the
 * connection. A socket bufferevent keeps the front of its output frozen (only
 * it may drain it), so it is thawed first: the connection is going away anyway.
 */
static void flush_now(struct evbuffer *out, evutil_socket_t fd)
{
	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out) && evbuffer_write(out, fd) > 0)
		;
}

void stream_abort(struct stream *s, bool reset)
{
	stream_flush(s);
	stream_release_held(s);
	struct evhttp_connection *conn = s->conn;
	if (conn) {
		evhttp_connection_set_closecb(conn, NULL, NULL);
		struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
		evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
		/* The events written in this same turn are still in the output: hand them to the kernel first. */
		if (fd >= 0)
			flush_now(bufferevent_get_output(bev), fd);
		if (reset && fd >= 0) {
			/* SO_LINGER with a zero timeout makes close() send RST instead of FIN. */
			struct linger lg = { 1, 0 };
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
	}
	s->req = NULL;
	s->conn = NULL;
	stream_free(s);
	if (conn)
		evhttp_connection_free(conn);
}

enum fault_action stream_fault(struct stream *s)
{
	switch (plan_fault_at(&s->plan, s->sent, &s->stalled)) {
	case FAULT_STEP_ERROR:
		return FAULT_SEND_ERROR;
	case FAULT_STEP_CUT:
	case FAULT_STEP_RESET:
		stream_abort(s, s->plan.fault == FAULT_RESET_AFTER);
		return FAULT_HANDLED;
	case FAULT_STEP_STALL:
		stream_schedule(s, s->plan.fault_ms);
		return FAULT_HANDLED;
	case FAULT_STEP_MALFORMED:
		return FAULT_SEND_MALFORMED;
	case FAULT_STEP_NONE:
		break;
	}
	return FAULT_GO_ON;
}

void stream_end_all(void)
{
	while (streams)
		stream_end(streams);
}

size_t stream_count(void)
{
	return nstreams;
}
