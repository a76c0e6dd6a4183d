/*
 * mockd end to end: a real daemon on a loopback port, driven with libcurl and raw sockets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <curl/curl.h>

#include "common/json.h"
#include "harness.h"
#include "../unit/unit.h"


#define KEY_HEADER "x-api-key: widget-dev-key-0123456789abcdef"

static struct mockd_proc mockd;

static void start_fast(void)
{
	const char *args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, args);
}

static void start_real_time(void)
{
	const char *args[] = { "--time-scale", "1", NULL };
	mockd_start(&mockd, args);
}

/* mockd must stop cleanly: exit 0 (under the sanitizers, that also means no leak was found). */
static void stop(void)
{
	if (mockd.pid > 0)
		cr_expect(eq(int, mockd_stop(&mockd), 0), "mockd exited with an error");
}

static void url(char *out, size_t size, const char *path)
{
	snprintf(out, size, "%s%s", mockd.base, path);
}

/* POST a JSON text to a path of the running mockd. */
static void post(const char *path, const char *const *headers, const char *body, struct http_result *r)
{
	char u[256];
	url(u, sizeof(u), path);
	http_call("POST", u, headers, body, strlen(body), r);
}

static void add_rule(const char *rule)
{
	struct http_result r;
	post("/__admin/scripts", NULL, rule, &r);
	cr_assert(eq(long, r.status, 201), "adding a rule: %s", buf_str(&r.body));
	http_result_release(&r);
}

/* Count the lines of an NDJSON body that parse as objects; -1 when one does not. */
static int ndjson_lines(const char *body)
{
	int n = 0;
	for (const char *p = body; *p;) {
		const char *nl = strchr(p, '\n');
		cr_assert(nl != NULL, "every line ends with a newline");
		cJSON *o = json_parse_exact(p, (size_t)(nl - p));
		if (!cJSON_IsObject(o)) {
			cJSON_Delete(o);
			return -1;
		}
		cJSON_Delete(o);
		n++;
		p = nl + 1;
	}
	return n;
}

TestSuite(mockd, .init = start_fast, .fini = stop, .timeout = 60);

Test(mockd, widget_stream_is_ndjson)
{
	add_rule("{\"match\":{\"message\":\"hi\"},\"reply\":{\"tokens\":[\"a\",\" b\",\" c\"]}}");
	const char *h[] = { KEY_HEADER, "Content-Type: application/json", NULL };
	struct http_result r;
	post("/v1/chat/stream", h, "{\"sessionId\":\"s1\",\"message\":\"hi\"}", &r);
	cr_assert(eq(int, r.curl_code, CURLE_OK));
	cr_assert(eq(long, r.status, 200));
	char ct[128];
	cr_assert(http_header(&r, "Content-Type", ct, sizeof(ct)));
	cr_assert(eq(str, STR(ct), STR("application/x-ndjson; charset=utf-8")));
	cr_assert(eq(int, ndjson_lines(buf_str(&r.body)), 5), "start, three tokens, done: %s", buf_str(&r.body));
	cr_assert(not(eq(ptr, strstr(buf_str(&r.body), "\"message\":\"a b c\""), NULL)));
	http_result_release(&r);
}

/*
 * A turn's events leave as one chunk from a buffer that grows to the largest
 * turn yet; the chunk's closing CRLF may be what makes it grow. Replies one
 * byte longer each time (two: the text is in a token and in done) meet every
 * growth of a fresh mockd at that point; each must be a well-framed chunk.
 */
Test(mockd, chunks_stay_framed_as_the_turn_buffer_grows)
{
	const char *h[] = { KEY_HEADER, "Content-Type: application/json", NULL };
	char rule[1024], body[128], text[700];
	for (int k = 1; k < (int)sizeof(text); k++) {
		memset(text, 'x', (size_t)k);
		text[k] = '\0';
		snprintf(rule, sizeof(rule), "{\"match\":{\"message\":\"g%d\"},\"reply\":{\"text\":\"%s\"}}", k, text);
		add_rule(rule);
		snprintf(body, sizeof(body), "{\"sessionId\":\"s1\",\"message\":\"g%d\"}", k);
		struct http_result r;
		if (k % 20 == 0) {  /* the key's rate window */
			post("/__admin/clock/advance", NULL, "{\"seconds\":60}", &r);
			http_result_release(&r);
		}
		post("/v1/chat/stream", h, body, &r);
		cr_assert(eq(int, r.curl_code, CURLE_OK), "a reply of %d bytes of text: curl error %d", k, r.curl_code);
		const char *got = buf_str(&r.body);
		cr_assert(strlen(got) > 0 && got[strlen(got) - 1] == 10, "a reply of %d bytes of text ends its last line: %s", k, got);
		cr_assert(eq(int, ndjson_lines(got), 3), "start, one token, done: %s", got);
		http_result_release(&r);
	}
}

Test(mockd, errors_in_the_widget_format)
{
	const char *h[] = { KEY_HEADER, NULL };
	struct http_result r;
	post("/v1/chat/stream", h, "{\"sessionId\":", &r);
	cr_assert(eq(long, r.status, 400));
	cr_assert(eq(str, STR(buf_str(&r.body)), STR("{\"error\":\"Invalid request payload\"}")));
	http_result_release(&r);
	post("/chat", NULL, "{}", &r);
	cr_assert(eq(long, r.status, 401));
	cr_assert(eq(str, STR(buf_str(&r.body)), STR("{\"error\":\"Unauthorized\"}")));
	http_result_release(&r);
	char u[256];
	url(u, sizeof(u), "/v1/chat/stream");
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_assert(eq(long, r.status, 405));
	char allow[64];
	cr_assert(http_header(&r, "Allow", allow, sizeof(allow)));
	cr_assert(eq(str, STR(allow), STR("POST")));
	http_result_release(&r);
	url(u, sizeof(u), "/nowhere");
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_assert(eq(long, r.status, 404));
	http_result_release(&r);
}

Test(mockd, body_over_the_limit_is_413_and_mockd_lives_on)
{
	size_t n = 2u * 1024 * 1024 + 1;
	char *big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	const char *h[] = { KEY_HEADER, NULL };
	struct http_result r;
	char u[256];
	url(u, sizeof(u), "/v1/chat/stream");
	http_call("POST", u, h, big, n, &r);
	cr_assert(eq(long, r.status, 413));
	cr_assert(eq(str, STR(buf_str(&r.body)), STR("{\"error\":\"Payload too large\"}")));
	http_result_release(&r);
	free(big);
	url(u, sizeof(u), "/__admin/health");
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_assert(eq(long, r.status, 200));
	http_result_release(&r);
}

/* Send raw bytes on a fresh connection and read whatever comes back (up to 4 KiB). */
/* A connection to mockd whose reads give up after timeout_s seconds. */
static int raw_connect(int timeout_s)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)mockd.port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	struct timeval tv = { timeout_s, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void raw_exchange(const char *bytes, size_t n, char *reply, size_t size)
{
	int fd = raw_connect(5);
	size_t off = 0;
	while (off < n) {
		ssize_t w = send(fd, bytes + off, n - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	ssize_t got = recv(fd, reply, size - 1, 0);
	reply[got > 0 ? got : 0] = '\0';
	close(fd);
}

/* Send bytes, then read until mockd closes the connection (true) or 2 s pass with nothing more (false). */
static bool raw_until_close(const char *bytes, char *reply, size_t size)
{
	int fd = raw_connect(2);
	cr_assert(eq(sz, (size_t)send(fd, bytes, strlen(bytes), MSG_NOSIGNAL), strlen(bytes)));
	size_t off = 0;
	ssize_t got = 0;
	while (off + 1 < size && (got = recv(fd, reply + off, size - 1 - off, 0)) > 0)
		off += (size_t)got;
	reply[off] = '\0';
	close(fd);
	return got == 0;
}

/*
 * mockd writes its response heads itself (not with evhttp's printf a header):
 * the headers evhttp added are there (Content-Length, Connection, Date), the
 * connection is kept or closed as the client asked, pipelined requests are
 * answered in order, and an HTTP/1.0 stream ends with its connection.
 */
Test(mockd, response_heads_keep_http_1_framing)
{
	static char reply[64 * 1024];
	cr_assert(raw_until_close("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", reply, sizeof(reply)),
		  "Connection: close closes: %s", reply);
	cr_expect(eq(int, strncmp(reply, "HTTP/1.1 404 Not Found\r\n", 24), 0), "%s", reply);
	assert_contains(reply, "\r\nContent-Length: 21\r\n");
	assert_contains(reply, "\r\nConnection: close\r\n");
	assert_contains(reply, "\r\nDate: ");
	assert_contains(reply, "\r\n\r\n{\"error\":\"not found\"}");

	/* Two pipelined, the second asking to close: both answered, in order, then the close. */
	cr_assert(raw_until_close("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
				  "POST /v1/chat/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
				  reply, sizeof(reply)), "%s", reply);
	const char *second = strstr(reply + 1, "HTTP/1.1 401 Unauthorized\r\n");
	cr_expect(strncmp(reply, "HTTP/1.1 404 Not Found\r\n", 24) == 0 && second, "%s", reply);

	/* HTTP/1.0 with keep-alive: kept, with a length, until the client goes. */
	cr_expect_not(raw_until_close("GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", reply, sizeof(reply)),
		      "a keep-alive connection stays open: %s", reply);
	cr_expect(eq(int, strncmp(reply, "HTTP/1.0 404 Not Found\r\n", 24), 0), "%s", reply);
	assert_contains(reply, "\r\nConnection: keep-alive\r\n");
	assert_contains(reply, "\r\nContent-Length: 21\r\n");
	assert_contains(reply, "\r\nDate: ");  /* every version (RFC 9110 6.6.1); evhttp dates 1.1 only */

	/* A stream to HTTP/1.0 cannot be chunked: it ends with its connection, keep-alive or not. */
	cr_assert(raw_until_close("POST /v1/chat/stream HTTP/1.0\r\nConnection: keep-alive\r\n" KEY_HEADER "\r\n"
				  "Content-Length: 33\r\n\r\n{\"sessionId\":\"s1\",\"message\":\"hi\"}",
				  reply, sizeof(reply)), "an HTTP/1.0 stream closes: %s", reply);
	cr_expect(eq(int, strncmp(reply, "HTTP/1.0 200 OK\r\n", 17), 0), "%s", reply);
	assert_contains(reply, "\r\nConnection: close\r\n");
	assert_contains(reply, "\r\nDate: ");
	cr_expect(strstr(reply, "Content-Length") == NULL && strstr(reply, "Transfer-Encoding") == NULL, "%s", reply);
	assert_contains(reply, "\"type\":\"done\"");

	/* HTTP/1.1: a chunked stream, then the next request on the same connection. */
	cr_assert(raw_until_close("POST /v1/chat/stream HTTP/1.1\r\nHost: x\r\n" KEY_HEADER "\r\n"
				  "Content-Length: 33\r\n\r\n{\"sessionId\":\"s1\",\"message\":\"hi\"}"
				  "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
				  reply, sizeof(reply)), "%s", reply);
	assert_contains(reply, "\r\nTransfer-Encoding: chunked\r\n");
	const char *end = strstr(reply, "\r\n0\r\n\r\n");
	cr_expect(end && strncmp(end + 7, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "the 404 follows the last chunk: %s", reply);
}

static bool starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* How many times needle is in text. */
static int occurrences(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * The headers a handler sets reach the head once each, whoever writes it:
 * mockd (a stream, a whole reply), evhttp (a HEAD request's 405), and with a
 * Connection: close that evhttp acts on (a 505, then the close).
 */
Test(mockd, handler_headers_reach_every_head_once)
{
	static char reply[64 * 1024];
	cr_assert(raw_until_close("POST /chat/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dw-dev-key\r\n"
				  "Content-Type: application/json\r\nConnection: close\r\nContent-Length: 16\r\n\r\n"
				  "{\"message\":\"hi\"}", reply, sizeof(reply)), "%s", reply);
	cr_expect(starts_with(reply, "HTTP/1.1 200 OK\r\n"), "%s", reply);
	static const char *const stream_headers[] = { "\r\nX-RateLimit-Limit: ", "\r\nX-RateLimit-Remaining: ",
						      "\r\nX-RateLimit-Reset: ", "\r\nCache-Control: no-cache\r\n",
						      "\r\nContent-Type: text/event-stream\r\n",
						      "\r\nTransfer-Encoding: chunked\r\n", "\r\nConnection: close\r\n",
						      "\r\nDate: " };
	for (size_t i = 0; i < sizeof(stream_headers) / sizeof(*stream_headers); i++)
		cr_expect(eq(int, occurrences(reply, stream_headers[i]), 1), "%s once: %s", stream_headers[i], reply);

	cr_assert(raw_until_close("POST /chat/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
				  "Connection: close\r\nContent-Length: 2\r\n\r\n{}", reply, sizeof(reply)), "%s", reply);
	cr_expect(starts_with(reply, "HTTP/1.1 401 Unauthorized\r\n"), "%s", reply);
	cr_expect(eq(int, occurrences(reply, "\r\nWWW-Authenticate: Bearer"), 1), "%s", reply);
	cr_expect(eq(int, occurrences(reply, "\r\nContent-Type: application/json"), 1), "%s", reply);
	cr_expect(eq(int, occurrences(reply, "\r\nContent-Length: "), 1), "%s", reply);

	/*
	 * HEAD: evhttp writes the head, with the handler's Allow, and no body (evhttp 2.1 sent the one it
	 * was given): on a kept connection the next answer follows the head at once.
	 */
	cr_assert(raw_until_close("HEAD /chat/stream HTTP/1.1\r\nHost: x\r\n\r\n"
				  "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", reply, sizeof(reply)),
		  "%s", reply);
	cr_expect(starts_with(reply, "HTTP/1.1 405 Method Not Allowed\r\n"), "%s", reply);
	cr_expect(eq(int, occurrences(reply, "\r\nAllow: POST\r\n"), 1), "%s", reply);
	cr_expect(eq(int, occurrences(reply, "\r\nDate: "), 2), "the 405 and the 404 are dated: %s", reply);
	const char *blank = strstr(reply, "\r\n\r\n");
	cr_expect(blank && starts_with(blank + 4, "HTTP/1.1 404 Not Found\r\n"), "the HEAD's head is all: %s", reply);

	/* HTTP/1.0: evhttp writes a HEAD's head, and mockd dates it (evhttp dates 1.1 only). */
	cr_assert(raw_until_close("HEAD /chat/stream HTTP/1.0\r\n\r\n", reply, sizeof(reply)), "%s", reply);
	cr_expect(starts_with(reply, "HTTP/1.0 405 Method Not Allowed\r\n"), "%s", reply);
	cr_expect(eq(int, occurrences(reply, "\r\nDate: "), 1), "%s", reply);

	/* An HTTP version mockd does not serve: 505, Connection: close, and the connection closed. */
	cr_assert(raw_until_close("GET /nope HTTP/0.1\r\nHost: x\r\n\r\n", reply, sizeof(reply)),
		  "the 505 closes the connection: %s", reply);
	cr_expect(starts_with(reply, "HTTP/1.1 505 "), "%s", reply);
	cr_expect(eq(int, occurrences(reply, "\r\nConnection: close\r\n"), 1), "%s", reply);
}

Test(mockd, hostile_bytes_do_not_hurt_it)
{
	char reply[4096];
	static const char tls_hello[] = "\x16\x03\x01\x02\x00garbage\r\n\r\n";
	static const char control_bytes[] = "GET / HTTP/1.1\r\nX: \x01\x02\xff\r\n\r\n";
	raw_exchange(tls_hello, sizeof(tls_hello) - 1, reply, sizeof(reply));
	raw_exchange(control_bytes, sizeof(control_bytes) - 1, reply, sizeof(reply));
	/* A header block past the 16 KiB limit is refused, not buffered without end. */
	size_t n = 64 * 1024;
	char *huge = malloc(n + 64);
	int k = snprintf(huge, 64, "GET / HTTP/1.1\r\nX-Big: ");
	memset(huge + k, 'a', n);
	memcpy(huge + k + n, "\r\n\r\n", 5);
	raw_exchange(huge, (size_t)k + n + 4, reply, sizeof(reply));
	free(huge);
	cr_assert(not(eq(ptr, strstr(reply, "HTTP/1.1 4"), NULL)), "an oversized header gets a 4xx: %s", reply);
	struct http_result r;
	char u[256];
	url(u, sizeof(u), "/__admin/health");
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_assert(eq(long, r.status, 200), "mockd still answers");
	http_result_release(&r);
}

Test(mockd, disconnect_fault_cuts_the_stream)
{
	add_rule("{\"match\":{\"message\":\"cut\"},\"fault\":{\"type\":\"disconnect_after\",\"tokens\":1}}");
	const char *h[] = { KEY_HEADER, NULL };
	struct http_result r;
	post("/v1/chat/stream", h, "{\"sessionId\":\"s\",\"message\":\"cut\"}", &r);
	cr_assert(not(eq(int, r.curl_code, CURLE_OK)), "the chunked body never ends properly");
	cr_assert(not(eq(ptr, strstr(buf_str(&r.body), "\"type\":\"token\""), NULL)));
	cr_assert(eq(ptr, strstr(buf_str(&r.body), "\"type\":\"done\""), NULL));
	http_result_release(&r);
}

Test(mockd, admin_reset_and_journal)
{
	const char *h[] = { KEY_HEADER, NULL };
	struct http_result r;
	post("/v1/chat/stream", h, "{\"sessionId\":\"j\",\"message\":\"journal me\"}", &r);
	http_result_release(&r);
	char u[256];
	url(u, sizeof(u), "/__admin/journal");
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_assert(not(eq(ptr, strstr(buf_str(&r.body), "journal me"), NULL)));
	http_result_release(&r);
	post("/__admin/reset", NULL, "", &r);
	cr_assert(eq(long, r.status, 200));
	http_result_release(&r);
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_assert(strncmp(buf_str(&r.body), "{\"entries\":[],", 13) == 0, "%s", buf_str(&r.body));
	http_result_release(&r);
}

Test(mockd, clock_advance_reopens_the_widget_window)
{
	const char *h[] = { "X-Forwarded-For: 192.0.2.7", NULL };
	struct http_result r;
	for (int i = 0; i < 30; i++) {
		post("/v1/chat/stream", h, "{}", &r);
		cr_assert(eq(long, r.status, 401));
		http_result_release(&r);
	}
	post("/v1/chat/stream", h, "{}", &r);
	cr_assert(eq(long, r.status, 429));
	char retry[16];
	cr_assert(http_header(&r, "Retry-After", retry, sizeof(retry)));
	http_result_release(&r);
	post("/__admin/clock/advance", NULL, "{\"seconds\":60}", &r);
	cr_assert(eq(long, r.status, 200));
	http_result_release(&r);
	post("/v1/chat/stream", h, "{}", &r);
	cr_assert(eq(long, r.status, 401), "a new window: the key is checked again");
	http_result_release(&r);
}

TestSuite(mockd_token, .fini = stop, .timeout = 60);

Test(mockd_token, admin_token_is_required_when_set)
{
	const char *args[] = { "--admin-token", "s3cret", NULL };
	mockd_start(&mockd, args);
	char u[256];
	url(u, sizeof(u), "/__admin/health");
	struct http_result r;
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_assert(eq(long, r.status, 401));
	http_result_release(&r);
	const char *h[] = { "Authorization: Bearer s3cret", NULL };
	http_call("GET", u, h, NULL, 0, &r);
	cr_assert(eq(long, r.status, 200));
	http_result_release(&r);
}

/* ---- real time: pacing, client aborts and shutdown --------------------------------------- */

TestSuite(mockd_paced, .init = start_real_time, .fini = stop, .timeout = 60);

Test(mockd_paced, events_leave_when_produced)
{
	add_rule("{\"match\":{\"message\":\"slow\"},\"reply\":{\"tokens\":[\"a\",\" b\",\" c\",\" d\",\" e\"]},"
		 "\"timing\":{\"first_token_ms\":200,\"interval_ms\":200}}");
	const char *h[] = { KEY_HEADER, NULL };
	struct http_result r;
	post("/v1/chat/stream", h, "{\"sessionId\":\"p\",\"message\":\"slow\"}", &r);
	cr_assert(eq(int, r.curl_code, CURLE_OK));
	cr_assert(ge(sz, r.nchunks, 3), "the body arrived in pieces, not at once");
	/* Five tokens 200 ms apart: the first piece must arrive long before the last is produced. */
	double spread = r.chunk_ms[r.nchunks - 1] - r.chunk_ms[0];
	cr_assert(gt(dbl, spread, 500.0), "first piece at %.0f ms, last at %.0f ms", r.chunk_ms[0],
		  r.chunk_ms[r.nchunks - 1]);
	http_result_release(&r);
}

Test(mockd_paced, sse_events_leave_when_produced)
{
	add_rule("{\"api\":\"deepwiki\",\"match\":{\"message\":\"slow sse\"},"
		 "\"reply\":{\"tokens\":[\"a\",\" b\",\" c\",\" d\",\" e\"]},"
		 "\"timing\":{\"first_token_ms\":200,\"interval_ms\":200}}");
	const char *h[] = { "Authorization: Bearer dw-dev-key", "Content-Type: application/json", NULL };
	struct http_result r;
	post("/chat/stream", h, "{\"message\":\"slow sse\"}", &r);
	cr_assert(eq(int, r.curl_code, CURLE_OK));
	cr_assert(eq(long, r.status, 200));
	const char *body = buf_str(&r.body);
	cr_assert(not(eq(ptr, strstr(body, "data: {\"type\":\"start\""), NULL)), "%s", body);
	cr_assert(not(eq(ptr, strstr(body, "\"type\":\"end\""), NULL)), "%s", body);
	/* start goes out at once; end is produced a second later: they must not arrive together. */
	cr_assert(ge(sz, r.nchunks, 3), "the stream arrived in pieces");
	double spread = r.chunk_ms[r.nchunks - 1] - r.chunk_ms[0];
	cr_assert(gt(dbl, spread, 500.0), "first event at %.0f ms, last at %.0f ms", r.chunk_ms[0],
		  r.chunk_ms[r.nchunks - 1]);
	http_result_release(&r);
}

struct abort_ctx {
	int chunks;
};

static size_t abort_after_first(char *p, size_t size, size_t n, void *arg)
{
	struct abort_ctx *ctx = arg;
	return ++ctx->chunks >= 2 ? 0 : size * n; /* returning less than given aborts the transfer */
}

Test(mockd_paced, a_client_that_leaves_mid_stream_is_cleaned_up)
{
	add_rule("{\"match\":{\"message\":\"leave\"},\"reply\":{\"text\":\"one two three four five six\"},"
		 "\"timing\":{\"first_token_ms\":50,\"interval_ms\":50}}");
	char u[256];
	url(u, sizeof(u), "/v1/chat/stream");
	CURL *c = curl_easy_init();
	struct curl_slist *hl = curl_slist_append(NULL, KEY_HEADER);
	struct abort_ctx ctx = { 0 };
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"sessionId\":\"x\",\"message\":\"leave\"}");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, abort_after_first);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
	cr_assert(eq(int, curl_easy_perform(c), CURLE_WRITE_ERROR));
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	/* The next write fails, mockd notices and frees the stream. */
	usleep(600 * 1000);
	struct http_result r;
	url(u, sizeof(u), "/__admin/health");
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_assert(not(eq(ptr, strstr(buf_str(&r.body), "\"open_streams\":0"), NULL)), "%s", buf_str(&r.body));
	http_result_release(&r);
}

struct term_ctx {
	pid_t pid;
	int signalled;
};

static size_t term_on_first(char *p, size_t size, size_t n, void *arg)
{
	struct term_ctx *ctx = arg;
	if (!ctx->signalled) {
		kill(ctx->pid, SIGTERM);
		ctx->signalled = 1;
	}
	return size * n;
}

Test(mockd_paced, sigterm_ends_open_streams_and_exits_zero)
{
	add_rule("{\"match\":{\"message\":\"long\"},\"reply\":{\"text\":\"a b c d e f g h i j k l m n o p\"},"
		 "\"timing\":{\"first_token_ms\":10,\"interval_ms\":1000}}");
	char u[256];
	url(u, sizeof(u), "/v1/chat/stream");
	CURL *c = curl_easy_init();
	struct curl_slist *hl = curl_slist_append(NULL, KEY_HEADER);
	struct term_ctx ctx = { mockd.pid, 0 };
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"sessionId\":\"t\",\"message\":\"long\"}");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, term_on_first);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	int code = curl_easy_perform(c);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	cr_assert(eq(int, code, CURLE_OK), "the stream was ended properly, not cut (curl %d)", code);
	int st;
	for (int i = 0; i < 250 && waitpid(mockd.pid, &st, WNOHANG) != mockd.pid; i++)
		usleep(20 * 1000);
	int exited = WIFEXITED(st), status = WEXITSTATUS(st);
	cr_assert(exited, "mockd exited by itself");
	cr_assert(eq(int, status, 0));
	mockd.pid = 0;
}

/* ---- the command line ------------------------------------------------------------------- */

static int run_mockd(const char *args, char *out, size_t size)
{
	char exe[512], cmd[1024];
	bin_path("mockd", exe, sizeof(exe));
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", exe, args);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(mockd_cli, usage_errors_say_what_was_wrong)
{
	char out[16384];
	cr_assert(eq(int, run_mockd("--break no-such-break", out, sizeof(out)), 2));
	cr_assert(not(eq(ptr, strstr(out, "no-such-break"), NULL)));
	cr_assert(eq(int, run_mockd("--listen nonsense", out, sizeof(out)), 2));
	cr_assert(eq(int, run_mockd("--time-scale fast", out, sizeof(out)), 2));
	cr_assert(eq(int, run_mockd("--api nosuchapi", out, sizeof(out)), 2));
	cr_assert(eq(int, run_mockd("--keys /nonexistent.json --listen 127.0.0.1:0", out, sizeof(out)), 2));
	cr_assert(not(eq(ptr, strstr(out, "/nonexistent.json"), NULL)));
	cr_assert(eq(int, run_mockd("--help", out, sizeof(out)), 0));
	cr_assert(not(eq(ptr, strstr(out, "--time-scale"), NULL)));
}

Test(mockd_cli, list_breaks_prints_the_catalog)
{
	char out[16384];
	cr_assert(eq(int, run_mockd("--list-breaks", out, sizeof(out)), 0));
	int widget = 0;
	for (const char *p = out; (p = strstr(p, " widget ")); p++)
		widget++;
	cr_assert(ge(int, widget, 10), "at least ten widget breaks:\n%s", out);
}

Test(mockd_cli, the_demo_scripts_load)
{
	const char *args[] = { "--scripts", "fixtures/scripts", "--time-scale", "0", NULL };
	struct mockd_proc m;
	mockd_start(&m, args);
	char u[256];
	snprintf(u, sizeof(u), "%s/__admin/scripts", m.base);
	struct http_result r;
	http_call("GET", u, NULL, NULL, 0, &r);
	cr_expect(eq(long, r.status, 200));
	cr_expect(strstr(buf_str(&r.body), "\"demo-fail-mid-stream\"") != NULL, "%s", buf_str(&r.body));
	http_result_release(&r);
	cr_expect(eq(int, mockd_stop(&m), 0));
}
