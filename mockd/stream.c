#include "mockd/stream.h"

#include <stdlib.h>
#include <string.h>
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

/* Free everything the stream holds; the request itself belongs to evhttp. */
static void stream_free(struct stream *s)
{
	if (s->cleanup)
		s->cleanup(s);
	if (s->timer)
		event_free(s->timer);
	plan_release(&s->plan);
	stream_unlink(s);
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

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	s->step(s);
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
	s->next = streams;
	if (streams)
		streams->prev = s;
	streams = s;
	nstreams++;

	reply_header(r, "Content-Type", content_type);
	r->status = 200;
	r->streaming = true;
	evhttp_send_reply_start(r->req, 200, "OK");
	evhttp_connection_set_closecb(s->conn, conn_close_cb, s);
	return s;
}

void stream_write(struct stream *s, const char *p, size_t n)
{
	if (!s->req)
		return;
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return;
	evbuffer_add(b, p, n);
	evhttp_send_reply_chunk(s->req, b);
	evbuffer_free(b);
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
	int64_t scaled = plan_delay(&s->plan, ms);
	struct timeval tv = { (time_t)(scaled / 1000), (suseconds_t)(scaled % 1000) * 1000 };
	evtimer_add(s->timer, &tv);
}

void stream_end(struct stream *s)
{
	if (s->conn)
		evhttp_connection_set_closecb(s->conn, NULL, NULL);
	if (s->req)
		evhttp_send_reply_end(s->req);
	stream_free(s);
}

void stream_abort(struct stream *s, bool reset)
{
	struct evhttp_connection *conn = s->conn;
	if (conn) {
		evhttp_connection_set_closecb(conn, NULL, NULL);
		if (reset) {
			/* SO_LINGER with a zero timeout makes close() send RST instead of FIN. */
			struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
			evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
			struct linger lg = { 1, 0 };
			if (fd >= 0)
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
	const struct reply_plan *p = &s->plan;
	if (p->fault == FAULT_NONE || s->sent != p->fault_after)
		return FAULT_GO_ON;
	switch (p->fault) {
	case FAULT_ERROR_AFTER:
		return FAULT_SEND_ERROR;
	case FAULT_DISCONNECT_AFTER:
	case FAULT_RESET_AFTER:
		stream_abort(s, p->fault == FAULT_RESET_AFTER);
		return FAULT_HANDLED;
	case FAULT_STALL_AFTER:
		if (s->stalled)
			return FAULT_GO_ON;
		s->stalled = true;
		stream_schedule(s, p->fault_ms);
		return FAULT_HANDLED;
	case FAULT_MALFORMED_AFTER:
		if (s->stalled)
			return FAULT_GO_ON;
		s->stalled = true; /* once */
		return FAULT_SEND_MALFORMED;
	default:
		return FAULT_GO_ON;
	}
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
