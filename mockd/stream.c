#include "mockd/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/buf.h"
#include "mockd/tls.h"

/* The HTTP transport's side of a reply (r->conn). */
struct stream {
	struct reply *reply;
	struct evhttp_request *req;
	struct evhttp_connection *conn;     /* NULL once the client has left or the reply was cut */
	struct bufferevent *bev;            /* conn's, and its output and socket, looked up once: */
	struct evbuffer *output;            /* valid while conn is not NULL */
	evutil_socket_t fd;
	bool direct;                        /* a plain socket: bytes may go straight to it (not TLS) */
	bool head_waits;                    /* direct: the head is in the output, for the first chunk to take */
	struct evbuffer_cb_entry *watching; /* the drain callback of a paused reply, or NULL */
	bool chunked;                       /* the body is chunked (HTTP/1.1): mockd frames chunks itself */
	bool whole;                         /* a whole answer at the end (stream_start_whole), not a stream */
	struct mreq request;                /* whole: what the API answers with (req, owner, peer; no body) */
	size_t bytes;                       /* the events' bytes written, for the observer */
	const char *how;                    /* how it ended (struct stream_end), once known */
	void *tag;                          /* the observer's, from its start */
	struct stream *prev, *next;
};

static struct stream *streams;
static size_t nstreams;
static void *(*observe_start)(const struct mreq *r);
static void (*observe_end)(void *tag, const struct stream_end *e);

/*
 * The events written in a turn, for flush to send as one chunk in one write:
 * one buffer for every stream, since a turn writes for one reply only and
 * flushes before the next runs (a write for another stream flushes the
 * owner's first, to be sure). The events follow SCRATCH_ROOM bytes kept for
 * the chunk's head, written when the chunk's size is known. A stream holds no
 * output memory of its own between turns.
 */
#define SCRATCH_MAX  (1u << 20)
#define SCRATCH_ROOM 24
static struct buf scratch = { .max = SCRATCH_MAX };
static struct stream *scratch_owner;

static struct evbuffer *conn_output(const struct stream *s)
{
	return s->conn ? s->output : NULL;
}

/* Take s's connection from req, and look up once what every write uses. */
static void attach(struct stream *s, struct evhttp_request *req)
{
	s->req = req;
	s->conn = evhttp_request_get_connection(req);
	s->bev = evhttp_connection_get_bufferevent(s->conn);
	s->output = s->bev ? bufferevent_get_output(s->bev) : NULL;
	s->fd = s->bev ? bufferevent_getfd(s->bev) : -1;
	s->direct = s->fd >= 0 && !tls_bufferevent(s->bev);
}

/* ---- the sink ------------------------------------------------------------------------------- */

/*
 * Hand bytes to the connection: straight to the socket when nothing waits
 * before them in its output (through evhttp they would wait in the
 * bufferevent for the next loop turn, which costs that turn and two
 * epoll_ctl calls, write interest on then off); what the socket does not take
 * (or all of it, on an error) goes to the output as evhttp would have put it
 * there, copied behind what is there (not a new 1 KiB chain a stream), so the
 * byte order is kept and evhttp meets any failure on its next write.  A TLS
 * connection's bytes must be encrypted first: they always go to the output,
 * and so do the last ones of a reply (queue), to leave with the end evhttp
 * writes after them in one write.  The first bytes of a stream take its head
 * along (head_waits): head and first events in one write, not two.
 */
static void send_bytes(struct stream *s, const char *p, size_t n, bool queue)
{
	struct evbuffer *output = conn_output(s);
	if (!output || !n)
		return;
	if (!queue && s->head_waits) {  /* the head and the first chunk: one write */
		s->head_waits = false;
		evbuffer_add(output, p, n);
		http_write_now(s->bev, false);
		return;
	}
	if (!queue && s->direct && evbuffer_get_length(output) == 0) {
		ssize_t sent = send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent > 0) {
			p += sent;
			n -= (size_t)sent;
		}
	}
	if (n) {
		evbuffer_add(output, p, n);
		bufferevent_enable(s->bev, EV_WRITE);
	}
}

static int chunk_head(char *out, size_t n);

/* Send the owner's events as one chunk (raw for an HTTP/1.0 client); queue: see send_bytes. */
static void send_scratch(bool queue)
{
	struct stream *s = scratch_owner;
	scratch_owner = NULL;
	if (s && scratch.len > SCRATCH_ROOM) {
		size_t n = scratch.len - SCRATCH_ROOM;
		char head[SCRATCH_ROOM];
		int hn = s->chunked ? chunk_head(head, n) : 0;
		if (!s->chunked) {
			send_bytes(s, scratch.data + SCRATCH_ROOM, n, queue);
		} else if (buf_add(&scratch, "\r\n", 2) == BUF_OK) {
			/* The chunk's CRLF fits under the maximum (http_write), but adding it may move the data. */
			char *start = scratch.data + SCRATCH_ROOM - hn;
			memcpy(start, head, (size_t)hn);
			send_bytes(s, start, (size_t)hn + n + 2, queue);
		} else {
			send_bytes(s, head, (size_t)hn, queue);
			send_bytes(s, scratch.data + SCRATCH_ROOM, n, queue);
			send_bytes(s, "\r\n", 2, queue);
		}
	}
	buf_reset(&scratch);
}

/* The head of a chunk of n bytes, "%zx\r\n" as evhttp writes it, without printf (it runs for every event). */
static int chunk_head(char *out, size_t n)
{
	char digits[2 * sizeof(size_t)];
	int k = 0;
	do
		digits[k++] = "0123456789abcdef"[n & 15];
	while ((n >>= 4) != 0);
	for (int i = 0; i < k; i++)
		out[i] = digits[k - 1 - i];
	out[k] = '\r';
	out[k + 1] = '\n';
	return k + 2;
}

/* Add an event to the turn's chunk (framed by send_scratch at flush). */
static void http_write(struct reply *r, const char *p, size_t n)
{
	struct stream *s = r->conn;
	s->bytes += n;
	if (scratch_owner != s)
		send_scratch(false);
	if (scratch.len + n + 2 > scratch.max)  /* 2: the chunk's closing CRLF */
		send_scratch(false);
	if (SCRATCH_ROOM + n + 2 > scratch.max) {  /* one event larger than the scratch: a chunk of its own */
		char head[SCRATCH_ROOM];
		int hn = s->chunked ? chunk_head(head, n) : 0;
		send_bytes(s, head, (size_t)hn, false);
		send_bytes(s, p, n, false);
		send_bytes(s, "\r\n", s->chunked ? 2 : 0, false);
		return;
	}
	static const char room[SCRATCH_ROOM];
	if (!scratch.len)
		buf_add(&scratch, room, SCRATCH_ROOM);  /* the chunk's head goes at the end of these */
	scratch_owner = s;
	buf_add(&scratch, p, n);
}

static void http_flush(struct reply *r)
{
	struct stream *s = r->conn;
	if (scratch_owner == s)
		send_scratch(false);
	if (s->head_waits && s->conn) {  /* nothing to send with it: the head alone, now */
		s->head_waits = false;
		http_write_now(s->bev, false);
	}
}

static size_t http_pending(struct reply *r)
{
	struct evbuffer *output = conn_output(r->conn);
	return output ? evbuffer_get_length(output) : 0;
}

static void unwatch(struct stream *s)
{
	struct evbuffer *output = conn_output(s);
	if (s->watching && output)
		evbuffer_remove_cb_entry(output, s->watching);
	s->watching = NULL;
}

static void drained_cb(struct evbuffer *output, const struct evbuffer_cb_info *info, void *arg)
{
	struct stream *s = arg;
	if (info->n_deleted == 0 || evbuffer_get_length(output) >= REPLY_LOW_WATER)
		return;
	unwatch(s);
	reply_drained(s->reply);
}

static void http_watch(struct reply *r)
{
	struct stream *s = r->conn;
	struct evbuffer *output = conn_output(s);
	if (!s->watching && output)
		s->watching = evbuffer_add_cb(output, drained_cb, s);
	if (!s->watching)
		reply_drained(r);  /* nothing to wait on: go on */
}

static void http_finish(struct reply *r)
{
	struct stream *s = r->conn;
	if (!s->how)
		s->how = "complete";
	if (scratch_owner == s)
		send_scratch(true);  /* with evhttp's last chunk, in one write (and the head, if it waits) */
	s->head_waits = false;
	unwatch(s);
	struct evhttp_connection *conn = s->conn;
	if (conn)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	s->conn = NULL;
	if (s->req)
		evhttp_send_reply_end(s->req);
	/* Unchunked (HTTP/1.0), evhttp may have finished, and freed the connection, already. */
	if (s->req && conn && s->direct && s->chunked)
		http_write_now(s->bev, true);
	s->req = NULL;
}

static void http_cut(struct reply *r, bool reset)
{
	struct stream *s = r->conn;
	struct evhttp_connection *conn = s->conn;
	if (!s->how)
		s->how = "cut";
	unwatch(s);
	s->req = NULL;
	s->conn = NULL;
	if (!conn)
		return;
	evhttp_connection_set_closecb(conn, NULL, NULL);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	/*
	 * The events written in this same turn are in the output: hand them to the
	 * kernel first (over TLS encrypted, and a plain cut ends the TLS stream
	 * cleanly, as a FIN ends a plain one; a reset sends no close_notify).
	 */
	if (fd >= 0 && tls_bufferevent(bev))
		tls_flush_now(bev, !reset);
	else if (fd >= 0)
		http_write_now(bev, false);  /* what does not fit is lost with the connection */
	if (reset && fd >= 0)
		http_reset_now(fd);
	evhttp_connection_free(conn);
}

static void http_release(struct reply *r)
{
	struct stream *s = r->conn;
	if (observe_end && s->tag) {
		struct stream_end e = { s->bytes, r->plan.rule_id, s->how ? s->how : "complete", r->pauses,
					r->slipped_us };
		observe_end(s->tag, &e);
	}
	unwatch(s);
	if (s->conn)
		evhttp_connection_set_closecb(s->conn, NULL, NULL);
	if (scratch_owner == s) {
		scratch_owner = NULL;
		buf_reset(&scratch);
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	nstreams--;
	free(s);
}

/* Remove every header but Connection (and Proxy-Connection, which evhttp reads in its place for a proxy). */
static void keep_connection_header(struct evkeyvalq *headers)
{
	for (struct evkeyval *h = TAILQ_FIRST(headers), *next; h; h = next) {
		next = TAILQ_NEXT(h, next);
		if (strcasecmp(h->key, "Connection") != 0 && strcasecmp(h->key, "Proxy-Connection") != 0)
			evhttp_remove_header(headers, h->key);
	}
}

/*
 * A stream that outlives its handler may stay open for minutes: let go of what
 * the request no longer needs (one that ends at once is not worth the work).
 * The handler has its copy of the body (the evbuffer's chain is 1 KiB however
 * short the body), the handler has read the request's headers and the reply's
 * are on their way; evhttp reads only Connection among them again, when the
 * reply ends (keep-alive or close).
 */
static void forget_request(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	evbuffer_drain(in, evbuffer_get_length(in));
	keep_connection_header(evhttp_request_get_input_headers(req));
	keep_connection_header(evhttp_request_get_output_headers(req));
}

static void http_settle(struct reply *r)
{
	struct stream *s = r->conn;
	if (s->req)
		forget_request(s->req);
}

static const struct reply_sink http_sink = {
	.write = http_write,
	.flush = http_flush,
	.pending = http_pending,
	.watch = http_watch,
	.finish = http_finish,
	.cut = http_cut,
	.settle = http_settle,
	.release = http_release,
};

/* ---- whole answers ------------------------------------------------------------------------ */

/* Nothing leaves before the end: a whole answer's tokens only take their time. */
static void whole_write(struct reply *r, const char *p, size_t n)
{
}

/* The API's end or error op has answered through stream_request (or it has not: a 500, not a hang). */
static void whole_finish(struct reply *r)
{
	struct stream *s = r->conn;
	if (s->conn)
		evhttp_connection_set_closecb(s->conn, NULL, NULL);
	if (s->req && !s->request.status)
		reply_raw(&s->request, 500, "application/json; charset=utf-8", "{\"error\":\"no answer\"}", 21);
	s->req = NULL;
	s->conn = NULL;
}

static const struct reply_sink whole_sink = {
	.write = whole_write,
	.finish = whole_finish,
	.cut = http_cut,
	.release = http_release,
};

/*
 * The connection is going down (the client left, or a timeout). evhttp frees
 * the connection after this returns; a request whose reply we had not
 * finished has already been detached from it, and is ours to free:
 * evhttp_send_reply_end on a request without a connection does exactly that.
 */
static void conn_close_cb(struct evhttp_connection *conn, void *arg)
{
	struct stream *s = arg;
	struct evhttp_request *req = s->req;
	if (!s->how)
		s->how = "left";
	unwatch(s);
	s->req = NULL;
	s->conn = NULL;
	reply_gone(s->reply);
	if (req && !evhttp_request_get_connection(req))
		evhttp_send_reply_end(req);
}


struct reply *stream_start(struct mreq *r, const char *content_type, const struct reply_ops *ops, void *data,
			   struct reply_plan *plan)
{
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->reply = reply_start(ops, data, &http_sink, s, plan);
	if (!s->reply) {
		free(s);
		return NULL;
	}
	attach(s, r->req);
	s->next = streams;
	if (streams)
		streams->prev = s;
	streams = s;
	nstreams++;

	reply_header(r, "Content-Type", content_type);
	r->status = 200;
	r->streaming = true;
	s->tag = observe_start ? observe_start(r) : NULL;
	s->chunked = http_start_stream(r->req);
	/* The head leaves with the reply's first flush (reply_run's): with its first events, in one write. */
	s->head_waits = s->direct;
	evhttp_connection_set_closecb(s->conn, conn_close_cb, s);
	return s->reply;
}

struct reply *stream_start_whole(struct mreq *r, const struct reply_ops *ops, void *data, struct reply_plan *plan,
				 int status)
{
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->reply = reply_start(ops, data, &whole_sink, s, plan);
	if (!s->reply) {
		free(s);
		return NULL;
	}
	s->whole = true;
	attach(s, r->req);
	/* What answering needs; the path, query, body and parameters go with the handler. */
	s->request.req = r->req;
	s->request.method = r->method;
	s->request.owner = r->owner;
	s->request.at_ms = r->at_ms;
	s->request.started_us = r->started_us;
	snprintf(s->request.peer, sizeof(s->request.peer), "%s", r->peer);
	TAILQ_INIT(&s->request.query);
	s->next = streams;
	if (streams)
		streams->prev = s;
	streams = s;
	nstreams++;
	r->status = status;
	r->streaming = true;
	evhttp_connection_set_closecb(s->conn, conn_close_cb, s);
	s->tag = observe_start ? observe_start(r) : NULL;
	return s->reply;
}

struct mreq *stream_request(struct reply *r)
{
	struct stream *s = r->conn;
	return s->whole && s->req && !s->request.status ? &s->request : NULL;
}

struct json_answer {
	const struct json_answer_ops *ops;
	void *data;
	char *text;      /* the body, printed */
	bool malformed;  /* a malformed fault came: the body leaves cut in half */
};

static void answer_end(struct reply *r)
{
	struct json_answer *a = r->data;
	struct mreq *q = stream_request(r);
	if (a->ops->done)
		a->ops->done(a->data, &r->plan);
	size_t len = a->malformed ? strlen(a->text) / 2 : strlen(a->text);
	if (q)
		reply_raw(q, 200, "application/json; charset=utf-8", a->text, len);
	((struct stream *)r->conn)->bytes += q ? len : 0;
}

static void answer_fail(struct reply *r)
{
	struct json_answer *a = r->data;
	struct mreq *q = stream_request(r);
	if (q)
		a->ops->fail(q, &r->plan);
}

static void answer_malformed(struct reply *r)
{
	struct json_answer *a = r->data;
	a->malformed = true;
}

static void answer_release(struct reply *r)
{
	struct json_answer *a = r->data;
	if (a->ops->release)
		a->ops->release(a->data);
	cJSON_free(a->text);
	free(a);
}

static const struct reply_ops answer_ops = {
	.end = answer_end,
	.error = answer_fail,
	.malformed = answer_malformed,
	.release = answer_release,
};

int stream_answer_json(struct mreq *r, struct reply_plan *plan, cJSON *body, const struct json_answer_ops *ops,
		       void *data)
{
	struct json_answer *a = calloc(1, sizeof(*a));
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (!a || !text) {
		free(a);
		cJSON_free(text);
		return -1;
	}
	a->ops = ops;
	a->data = data;
	a->text = text;
	bool fails = plan->fault == FAULT_ERROR_AFTER && plan->fault_after <= plan->ntokens;
	bool cut = (plan->fault == FAULT_DISCONNECT_AFTER || plan->fault == FAULT_RESET_AFTER) &&
		   plan->fault_after <= plan->ntokens;
	struct reply *rp = stream_start_whole(r, &answer_ops, a, plan, fails ? ops->fail_status : cut ? 0 : 200);
	if (!rp) {
		cJSON_free(text);
		free(a);
		return -1;
	}
	reply_run(rp);
	return 0;
}

void stream_observe(void *(*start)(const struct mreq *r), void (*end)(void *tag, const struct stream_end *e))
{
	observe_start = start;
	observe_end = end;
}

/* ---- events --------------------------------------------------------------------------------- */

cJSON *stream_event(const char *type)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", type);
	return e;
}

void stream_send_sse(struct reply *r, cJSON *event)
{
	reply_write_json_framed(r, "data: ", event, "\n\n");
	cJSON_Delete(event);
}

void stream_send_ndjson(struct reply *r, cJSON *event)
{
	reply_write_json_framed(r, "", event, "\n");
	cJSON_Delete(event);
}

void stream_end_all(void)
{
	while (streams)
		reply_close(streams->reply);
}

void stream_abort_all(const char *code, const char *message)
{
	while (streams) {
		streams->how = "shutdown";
		reply_abort(streams->reply, code, message);
	}
}

size_t stream_count(void)
{
	return nstreams;
}
