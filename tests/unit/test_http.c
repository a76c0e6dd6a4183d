/* Unit tests for runner/http.c against a scripted one-connection server on a free port. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "runner/http.h"
#include "runner/match.h"
#include "tests/unit/unit.h"

/* What the server sends: pieces of bytes, each after a pause. */
struct piece {
	const char *data;
	size_t len;        /* 0: strlen(data) */
	long pause_ms;
};

struct server {
	int fd;
	int port;
	const struct piece *pieces;
	size_t npieces;
	size_t repeat_big;   /* > 0: after the pieces, send this many bytes of 'x' */
	char request[8192];
	pthread_t thread;
};

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	size_t got = 0;
	while (got < sizeof(s->request) - 1 && !strstr(s->request, "\r\n\r\n")) {
		ssize_t n = recv(c, s->request + got, sizeof(s->request) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		s->request[got] = '\0';
	}
	for (size_t i = 0; i < s->npieces; i++) {
		pause_ms(s->pieces[i].pause_ms);
		size_t len = s->pieces[i].len ? s->pieces[i].len : strlen(s->pieces[i].data);
		if (send(c, s->pieces[i].data, len, MSG_NOSIGNAL) < 0)
			break;
	}
	static char block[65536];
	memset(block, 'x', sizeof(block));
	for (size_t sent = 0; sent < s->repeat_big;) {
		ssize_t n = send(c, block, sizeof(block), MSG_NOSIGNAL);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	close(c);
	return NULL;
}

static void server_start(struct server *s, const struct piece *pieces, size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	s->pieces = pieces;
	s->npieces = n;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(s->fd >= 0);
	cr_assert(eq(int, bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0));
	cr_assert(eq(int, listen(s->fd, 4), 0));
	getsockname(s->fd, (struct sockaddr *)&a, &len);
	s->port = ntohs(a.sin_port);
	cr_assert(eq(int, pthread_create(&s->thread, NULL, server_main, s), 0));
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static struct server srv;
static struct http_client *client;
static struct response resp;
static struct buf transcript;
static char url[128];
static struct http_request req;

static void setup(void)
{
	memset(&srv, 0, sizeof(srv));
	client = http_client_new();
	cr_assert(client != NULL);
	response_init(&resp);
	buf_init(&transcript, 1 << 20);
	memset(&req, 0, sizeof(req));
	req.timeouts = (struct timeouts){ .connect = 2, .first_byte = 5, .idle = 5, .total = 10 };
}

static void teardown(void)
{
	response_release(&resp);
	buf_release(&transcript);
	http_client_free(client);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 20);

static int run(const struct piece *pieces, size_t n, const char *path)
{
	server_start(&srv, pieces, n);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.port, path);
	req.url = url;
	int rc = http_exchange(client, &req, &resp, &transcript);
	server_stop(&srv);
	return rc;
}

#define HEAD_NDJSON "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n"

Test(http, ndjson_split_at_every_byte)
{
	static const char body[] = "{\"type\":\"start\"}\n{\"type\":\"token\",\"token\":\"h\xc3\xa9\"}\r\n\n"
				   "{\"type\":\"done\"}";   /* the last line has no newline */
	struct piece p[1 + sizeof(body) - 1];
	p[0] = (struct piece){ HEAD_NDJSON, 0, 0 };
	for (size_t i = 0; i < sizeof(body) - 1; i++)
		p[i + 1] = (struct piece){ body + i, 1, i % 10 == 0 ? 1 : 0 };
	req.stream = STREAM_NDJSON;
	cr_assert(eq(int, run(p, sizeof(p) / sizeof(p[0]), "/s"), 0), "%s", resp.transport_error);
	cr_expect(eq(long, resp.status, 200));
	cr_assert(eq(sz, resp.nevents, 3));
	cr_expect(eq(str, resp.events[0].type, STR("start")));
	cr_expect(eq(str, resp.events[1].type, STR("token")));
	cr_expect(eq(str, resp.events[2].type, STR("done")));
	cr_expect(resp.events[0].at_ms <= resp.events[2].at_ms);
	cr_expect(resp.stream_error == NULL);
	cr_expect(resp.json == NULL);
	cr_expect(eq(str, STR(response_header(&resp, "content-type")), STR("application/x-ndjson")));
}

Test(http, ndjson_bad_line_is_reported_and_reading_goes_on)
{
	static const struct piece p[] = {
		{ HEAD_NDJSON "{\"type\":\"start\"}\nnope \x01\xff\n{\"type\":\"done\"}\n", 0, 0 },
	};
	req.stream = STREAM_NDJSON;
	cr_assert(eq(int, run(p, 1, "/s"), 0));
	cr_expect(eq(sz, resp.nevents, 2));
	cr_assert(resp.stream_error != NULL);
	cr_expect(eq(str, resp.stream_error, STR("line 2 is not valid UTF-8: nope \\x01\\xff")));
}

#define HEAD_SSE "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"

Test(http, sse_split_at_every_byte)
{
	/* Types: the JSON "type" member, else the SSE event field unless "message", else "?". */
	static const char body[] = ": hello\r\n"
				   "event: start\r\ndata: {\"type\":\"start\"}\r\n\r\n"
				   "event: token\r\nid: 7\r\ndata: {\"token\":\r\ndata: \"h\xc3\xa9\"}\r\n\r\n"
				   "data: {\"n\":1}\r\rretry: 10\r"
				   "event: other\ndata: {\"type\":\"done\"}\n\n";
	struct piece p[1 + sizeof(body) - 1];
	p[0] = (struct piece){ HEAD_SSE, 0, 0 };
	for (size_t i = 0; i < sizeof(body) - 1; i++)
		p[i + 1] = (struct piece){ body + i, 1, i % 10 == 0 ? 1 : 0 };
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, sizeof(p) / sizeof(p[0]), "/sse"), 0), "%s", resp.transport_error);
	cr_expect(resp.stream_error == NULL, "%s", resp.stream_error);
	cr_assert(eq(sz, resp.nevents, 4));
	cr_expect(eq(str, resp.events[0].type, STR("start")));
	cr_expect(eq(str, resp.events[1].type, STR("token")));
	cr_expect(eq(str, resp.events[2].type, STR("?")));
	cr_expect(eq(str, resp.events[3].type, STR("done")));
	cr_expect(eq(str, resp.events[1].raw, STR("{\"token\":\n\"h\xc3\xa9\"}")));
	cr_expect(eq(str, STR(json_get_string(resp.events[1].json, "token")), STR("h\xc3\xa9")));
	cr_expect(resp.events[0].at_ms <= resp.events[3].at_ms);
	cr_expect(eq(int, resp.format, STREAM_SSE));
	cr_expect(resp.json == NULL);
}

Test(http, sse_event_message_is_untyped)
{
	static const struct piece p[] = {
		{ HEAD_SSE "event: message\ndata: {\"a\":1}\n\ndata: [1]\n\n", 0, 0 },
	};
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, 1, "/sse"), 0));
	cr_assert(eq(sz, resp.nevents, 2));
	cr_expect(eq(str, resp.events[0].type, STR("?")));
	cr_expect(eq(str, resp.events[1].type, STR("?")));
}

Test(http, sse_data_not_json_is_reported_and_reading_goes_on)
{
	static const struct piece p[] = {
		{ HEAD_SSE "data: {\"type\":\"start\"}\n\ndata: [DONE] \x01\xff\ndata: x\n\n", 0, 0 },
		{ "data: {\"type\":\"done\"}\n\ndata: also bad\n\n", 0, 0 },
	};
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, 2, "/sse"), 0));
	cr_expect(eq(sz, resp.nevents, 2));
	cr_assert(resp.stream_error != NULL);
	cr_expect(eq(str, resp.stream_error, STR("event 2 data is not valid UTF-8: [DONE] \\x01\\xff\\x0ax")));
}

Test(http, sse_long_bad_data_is_cut_in_the_message)
{
	static char body[1024];
	static struct piece p[2];
	memset(body, 0, sizeof(body));
	strcpy(body, "data: ");
	memset(body + 6, 'y', 500);
	strcat(body, "\n\n");
	p[0] = (struct piece){ HEAD_SSE, 0, 0 };
	p[1] = (struct piece){ body, 0, 0 };
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, 2, "/sse"), 0));
	cr_assert(resp.stream_error != NULL);
	cr_expect(eq(sz, strlen(resp.stream_error), strlen("event 1 data is not JSON: ") + 200 + 3));
	assert_contains(resp.stream_error, "yyy...");
}

Test(http, sse_comments_and_blank_lines_are_not_events)
{
	static const struct piece p[] = {
		{ HEAD_SSE ": keep-alive\n\n\n:\n", 0, 0 },
		{ ": another\r\ndata: {\"type\":\"a\"}\r\n: inside\r\n\r\n: bye\n", 0, 5 },
	};
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, 2, "/sse"), 0));
	cr_expect(resp.stream_error == NULL, "%s", resp.stream_error);
	cr_assert(eq(sz, resp.nevents, 1));
	cr_expect(eq(str, resp.events[0].type, STR("a")));
}

Test(http, sse_event_without_final_blank_line_is_dropped)
{
	static const struct piece p[] = {
		{ HEAD_SSE "data: {\"type\":\"start\"}\n\ndata: {\"type\":\"done\"}\n", 0, 0 },
	};
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, 1, "/sse"), 0));
	cr_assert(eq(sz, resp.nevents, 1));
	cr_expect(eq(str, resp.events[0].type, STR("start")));
	cr_assert(resp.stream_error != NULL);
	cr_expect(eq(str, resp.stream_error,
		     STR("the stream ended inside event 2 (no blank line after it); the event was dropped")));
}

Test(http, sse_line_past_the_cap_stops_reading)
{
	static const struct piece p[] = { { HEAD_SSE "data: {\"type\":\"a\"}\n\ndata: ", 0, 0 } };
	req.stream = STREAM_SSE;
	srv.repeat_big = 2u << 20;
	cr_expect(eq(int, run(p, 1, "/sse"), 0), "%s", resp.transport_error);
	cr_expect(eq(sz, resp.nevents, 1));
	cr_assert(resp.stream_error != NULL);
	cr_expect(eq(str, resp.stream_error,
		     STR("event 2: a line or the data is longer than 1048576 bytes; stopped reading")));
}

/* ---- a stream is decoded only when the response is one (2xx and the format's content type) ---- */

/* expect_check of expectation text on resp; returns the failures, the diff lines in out. */
static int check_expect(const char *expect, struct buf *out)
{
	cJSON *e = cJSON_Parse(expect);
	cr_assert(e != NULL, "bad test expectation %s", expect);
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, expect_validate(e, "expect", &err), 0), "%s", buf_str(&err));
	buf_release(&err);
	int n = expect_check(e, &resp, NULL, out);
	cJSON_Delete(e);
	return n;
}

Test(http, sse_request_answered_by_a_404_json_error_is_not_a_stream)
{
	static const struct piece p[] = {
		{ "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n"
		  "{\"error\":\"Not Found\"}\n", 0, 0 },
	};
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, 1, "/nowhere"), 0), "%s", resp.transport_error);
	cr_expect(eq(long, resp.status, 404));
	cr_expect(eq(int, resp.format, STREAM_NONE));
	cr_expect(eq(sz, resp.nevents, 0));
	cr_expect(resp.stream_error == NULL, "%s", resp.stream_error);
	cr_assert(resp.not_stream != NULL);
	cr_expect(eq(str, resp.not_stream,
		     STR("not a stream: status 404, content-type application/json, body {\"error\":\"Not Found\"}")));
	cr_assert(resp.json != NULL, "the body is parsed as JSON for body matchers");
	cr_expect(eq(str, STR(json_get_string(resp.json, "error")), STR("Not Found")));

	struct buf d;
	buf_init(&d, 1 << 16);
	cr_expect(eq(int, check_expect("{\"stream\":{\"format\":\"sse\",\"sequence\":\"start token* done\","
				       "\"count\":{\"token\":{\"range\":[1,null]}}}}", &d), 1));
	cr_expect(eq(str, STR(buf_str(&d)),
		     STR("stream: not a stream: status 404, content-type application/json, body {\"error\":\"Not Found\"}\n")));
	/* The status matcher still says its own line; body matchers read the JSON error. */
	buf_reset(&d);
	cr_expect(eq(int, check_expect("{\"status\":200,\"body\":{\"/error\":\"Not Found\"},"
				       "\"stream\":{\"format\":\"sse\",\"sequence\":\"start done\"}}", &d), 2));
	cr_expect(eq(str, STR(buf_str(&d)),
		     STR("status: expected 200, got 404\n"
			 "stream: not a stream: status 404, content-type application/json, body {\"error\":\"Not Found\"}\n")));
	buf_release(&d);
}

Test(http, ndjson_request_answered_by_200_of_another_type_is_not_a_stream)
{
	static const struct piece p[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
		  "{\"type\":\"start\"}\n\x01{\"type\":\"done\"}\n", 0, 0 },
	};
	req.stream = STREAM_NDJSON;
	cr_assert(eq(int, run(p, 1, "/s"), 0));
	cr_expect(eq(sz, resp.nevents, 0));
	cr_expect(resp.json == NULL);
	cr_assert(resp.not_stream != NULL);
	cr_expect(eq(str, resp.not_stream,
		     STR("not a stream: status 200, content-type text/plain; charset=utf-8, body "
			 "{\"type\":\"start\"}\\x0a\\x01{\"type\":\"done\"}")));
}

Test(http, not_a_stream_shows_200_bytes_and_says_when_there_is_no_type_or_body)
{
	static char head_and_body[1024];
	snprintf(head_and_body, sizeof(head_and_body), "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
	size_t h = strlen(head_and_body);
	memset(head_and_body + h, 'z', 300);
	static struct piece p[1];
	p[0] = (struct piece){ head_and_body, 0, 0 };
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, 1, "/s"), 0));
	cr_assert(resp.not_stream != NULL);
	const char *want = "not a stream: status 502, content-type (none), body ";
	cr_expect(eq(sz, strlen(resp.not_stream), strlen(want) + 200 + 3), "%s", resp.not_stream);
	cr_expect(strncmp(resp.not_stream, want, strlen(want)) == 0, "%s", resp.not_stream);
	assert_contains(resp.not_stream, "zzz...");

	response_release(&resp);
	static const struct piece empty[] = {
		{ "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n", 0, 0 },
	};
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(empty, 1, "/s"), 0));
	cr_assert(resp.not_stream != NULL);
	cr_expect(eq(str, resp.not_stream,
		     STR("not a stream: status 401, content-type application/json, body (empty)")));
}

Test(http, stream_types_ignore_case_and_parameters)
{
	static const struct piece p[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Type:  Text/Event-Stream ; charset=UTF-8\r\nConnection: close\r\n\r\n"
		  "data: {\"type\":\"start\"}\n\ndata: {\"type\":\"done\"}\n\n", 0, 0 },
	};
	req.stream = STREAM_SSE;
	cr_assert(eq(int, run(p, 1, "/s"), 0));
	cr_expect(resp.not_stream == NULL, "%s", resp.not_stream);
	cr_expect(eq(int, resp.format, STREAM_SSE));
	cr_expect(eq(sz, resp.nevents, 2));
	struct buf d;
	buf_init(&d, 1 << 16);
	cr_expect(eq(int, check_expect("{\"stream\":{\"format\":\"sse\",\"sequence\":\"start done\"}}", &d), 0), "%s",
		  buf_str(&d));
	buf_release(&d);

	cr_expect(response_is_stream_type(STREAM_NDJSON, "application/x-ndjson; charset=utf-8"));
	cr_expect(response_is_stream_type(STREAM_NDJSON, "application/ndjson"));
	cr_expect(response_is_stream_type(STREAM_NDJSON, "APPLICATION/JSONL"));
	cr_expect(response_is_stream_type(STREAM_NDJSON, "application/x-jsonl;charset=utf-8"));
	cr_expect(not(response_is_stream_type(STREAM_NDJSON, "application/json")));
	cr_expect(not(response_is_stream_type(STREAM_NDJSON, "application/json-seq")));
	cr_expect(not(response_is_stream_type(STREAM_NDJSON, "text/event-stream")));
	cr_expect(not(response_is_stream_type(STREAM_NDJSON, "application/x-ndjsonx")));
	cr_expect(not(response_is_stream_type(STREAM_SSE, "application/x-ndjson")));
	cr_expect(not(response_is_stream_type(STREAM_SSE, NULL)));
	cr_expect(not(response_is_stream_type(STREAM_SSE, "")));
	cr_expect(not(response_is_stream_type(STREAM_NONE, "text/event-stream")));
}

Test(http, a_plain_request_gets_no_not_stream_reason)
{
	static const struct piece p[] = {
		{ "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 0, 0 },
	};
	cr_assert(eq(int, run(p, 1, "/j"), 0));
	cr_expect(resp.not_stream == NULL);
	cr_expect(resp.json != NULL);
}

Test(http, json_body_status_and_headers)
{
	static const struct piece p[] = {
		{ "HTTP/1.1 201 Created\r\nContent-Type:  application/json  \r\nContent-Length: 11\r\n\r\n"
		  "{\"a\": [1]}\n", 0, 0 },
	};
	cr_assert(eq(int, run(p, 1, "/j"), 0));
	cr_expect(eq(long, resp.status, 201));
	cr_expect(eq(str, STR(response_header(&resp, "CONTENT-TYPE")), STR("application/json")));
	cr_assert(resp.json != NULL);
	cr_expect(cJSON_IsArray(cJSON_GetObjectItem(resp.json, "a")));
	cr_expect(resp.total_ms >= 0);
}

Test(http, trailer_fields_are_shown_not_taken_as_headers)
{
	static const struct piece p[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
		  "Connection: close\r\n\r\n2\r\n{}\r\n0\r\nX-Late: after the body\r\n\r\n", 0, 0 },
	};
	cr_assert(eq(int, run(p, 1, "/t"), 0));
	cr_expect(eq(long, resp.status, 200));
	cr_expect(eq(ptr, (void *)response_header(&resp, "X-Late"), NULL), "a trailer is not a header");
	cr_expect(resp.json != NULL);
	const char *t = buf_str(&transcript);
	cr_expect(not(eq(ptr, strstr(t, "* trailer fields after the body"), NULL)), "%s", t);
	cr_expect(not(eq(ptr, strstr(t, "< X-Late: after the body\n"), NULL)), "%s", t);
}

Test(http, redirects_are_not_followed)
{
	static const struct piece p[] = {
		{ "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n", 0, 0 },
	};
	cr_assert(eq(int, run(p, 1, "/r"), 0));
	cr_expect(eq(long, resp.status, 302));
	cr_expect(eq(str, STR(response_header(&resp, "location")), STR("/elsewhere")));
}

Test(http, first_byte_timeout)
{
	static const struct piece p[] = { { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 1500 } };
	req.timeouts.first_byte = 0.3;
	cr_expect(eq(int, run(p, 1, "/slow"), -1));
	cr_assert(resp.transport_error != NULL);
	cr_expect(eq(str, resp.transport_error, STR("no first byte within 0.3 s")));
}

Test(http, idle_timeout_names_the_events_seen)
{
	static const struct piece p[] = {
		{ HEAD_NDJSON "{\"type\":\"start\"}\n", 0, 0 },
		{ "{\"type\":\"done\"}\n", 0, 1500 },
	};
	req.stream = STREAM_NDJSON;
	req.timeouts.idle = 0.3;
	cr_expect(eq(int, run(p, 2, "/stall"), -1));
	cr_assert(resp.transport_error != NULL);
	cr_expect(eq(str, resp.transport_error, STR("idle for 0.3 s after 1 events")));
	cr_expect(eq(sz, resp.nevents, 1));
}

Test(http, total_timeout)
{
	static const struct piece p[] = {
		{ HEAD_NDJSON "{\"type\":\"start\"}\n", 0, 0 },
		{ "{\"type\":\"token\"}\n", 0, 400 },
		{ "{\"type\":\"token\"}\n", 0, 400 },
		{ "{\"type\":\"done\"}\n", 0, 400 },
	};
	req.stream = STREAM_NDJSON;
	req.timeouts.total = 0.7;
	cr_expect(eq(int, run(p, 4, "/long"), -1));
	cr_assert(resp.transport_error != NULL);
	assert_contains(resp.transport_error, "total timeout");
}

Test(http, body_is_capped_and_the_transfer_stopped)
{
	static const struct piece p[] = { { "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
					    "Connection: close\r\n\r\n", 0, 0 } };
	srv.repeat_big = 6u << 20;
	cr_expect(eq(int, run(p, 1, "/big"), 0), "%s", resp.transport_error);
	cr_expect(resp.truncated);
	cr_expect(eq(sz, resp.body.len, HTTP_MAX_BODY));
	cr_expect(resp.transport_error == NULL);
	assert_contains(buf_str(&transcript), "bytes shown)");
}

Test(http, request_is_sent_and_transcript_redacted)
{
	static const struct piece p[] = { { "HTTP/1.1 204 No Content\r\n\r\n", 0, 0 } };
	const struct http_header_kv h[] = {
		{ "x-api-key", "widget-dev-key-0123456789abcdef" },
		{ "X-Empty", "" },
		{ "Content-Type", "application/json" },
	};
	req.method = "PUT";
	req.headers = h;
	req.nheaders = 3;
	req.body = "{\"m\":1}";
	req.body_len = 7;
	cr_assert(eq(int, run(p, 1, "/put?token=abcdefghijkl"), 0));
	cr_expect(eq(long, resp.status, 204));
	assert_contains(srv.request, "PUT /put?token=abcdefghijkl HTTP/1.1\r\n");
	assert_contains(srv.request, "x-api-key: widget-dev-key-0123456789abcdef\r\n");
	assert_contains(srv.request, "X-Empty:\r\n");
	cr_expect(strstr(srv.request, "Expect:") == NULL);
	const char *t = buf_str(&transcript);
	assert_contains(t, "> PUT http://127.0.0.1:");
	assert_contains(t, "/put?token=abcd…(redacted)\n");
	assert_contains(t, "> x-api-key: widg…(redacted)\n");
	assert_contains(t, "{\"m\":1}\n");
	assert_contains(t, "< HTTP/1.1 204 No Content");
	cr_expect(strstr(t, "0123456789abcdef") == NULL);
}

Test(http, raw_body_gets_no_invented_content_type)
{
	static const struct piece p[] = { { "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 0, 0 } };
	req.method = "POST";
	req.body = "{\"x\":";
	req.body_len = 5;
	cr_assert(eq(int, run(p, 1, "/raw"), 0));
	cr_expect(strstr(srv.request, "Content-Type") == NULL, "%s", srv.request);
}

Test(http, refused_connection_is_a_transport_error)
{
	/* Bind a port, then close it: nothing listens there. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
	req.url = url;
	cr_expect(eq(int, http_exchange(client, &req, &resp, &transcript), -1));
	cr_assert(resp.transport_error != NULL);
	assert_contains(buf_str(&transcript), "! ");
	struct buf err;
	buf_init(&err, 4096);
	cr_expect(eq(int, http_probe(url, 1000, NULL, &err), -1));
	cr_expect(err.len > 0);
	buf_release(&err);
}

Test(http, leave_after_stops_at_n_events_and_is_no_error)
{
	/* Three lines in one chunk: the third is never decoded; the rest would come after the total timeout. */
	static const struct piece p[] = {
		{ HEAD_NDJSON "{\"type\":\"start\"}\n{\"type\":\"token\"}\n{\"type\":\"token\"}\n", 0, 0 },
		{ "{\"type\":\"done\"}\n", 0, 2000 },
	};
	req.stream = STREAM_NDJSON;
	req.leave_after_events = 2;
	req.timeouts.total = 1;   /* reading to the end would be a total timeout: returning 0 shows we left */
	cr_assert(eq(int, run(p, 2, "/leave"), 0), "%s", resp.transport_error ? resp.transport_error : "");
	cr_expect(resp.left);
	cr_expect(resp.transport_error == NULL);
	cr_expect(resp.stream_error == NULL);
	cr_expect(eq(long, resp.status, 200));
	cr_assert(eq(sz, resp.nevents, 2));
	cr_expect(eq(str, resp.events[1].type, STR("token")));
	assert_contains(buf_str(&transcript), "< event 2 token (+");
	assert_contains(buf_str(&transcript),
			"* left after 2 events: the runner closed the connection (leave_after)\n");
}

Test(http, leave_after_inside_an_sse_event_is_not_a_cut_stream)
{
	/* The stream stops inside event 2: leaving there is ours, not "ended inside event 2". */
	static const struct piece p[] = {
		{ HEAD_SSE "data: {\"type\":\"start\"}\n\ndata: {\"type\":\"con", 0, 0 },
		{ "tent\"}\n\n", 0, 2000 },
	};
	req.stream = STREAM_SSE;
	req.leave_after_events = 1;
	req.timeouts.total = 1;
	cr_assert(eq(int, run(p, 2, "/leave"), 0), "%s", resp.transport_error ? resp.transport_error : "");
	cr_expect(resp.left);
	cr_expect(resp.stream_error == NULL);
	cr_expect(eq(sz, resp.nevents, 1));
	assert_contains(buf_str(&transcript), "* left after 1 event: the runner closed the connection");
}

Test(http, leave_after_past_the_stream_reads_it_all)
{
	static const struct piece p[] = {
		{ HEAD_NDJSON "{\"type\":\"start\"}\n{\"type\":\"done\"}\n", 0, 0 },
	};
	req.stream = STREAM_NDJSON;
	req.leave_after_events = 5;
	cr_assert(eq(int, run(p, 1, "/short"), 0));
	cr_expect(not(resp.left));
	cr_expect(eq(sz, resp.nevents, 2));
	cr_expect(strstr(buf_str(&transcript), "left after") == NULL);
}
