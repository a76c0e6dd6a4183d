/*
 * mockd's lifecycle (mockd/lifecycle.h) and access log, end to end: SIGTERM
 * with streams and WebSockets open, POST /__admin/reset, and the lines the
 * access log writes. The WebSockets are Debian's python3-websockets
 * (tests/integration/ws_shutdown_clients.py), the streams raw sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/timeutil.h"
#include "harness.h"

#define NSTREAMS 50
#define NWS      20
#define PYTHON   "/usr/bin/python3"

/* Every message with "slow" in it is answered over seconds, even at --time-scale 0. */
static const char slow_rule[] =
	"{\"id\":\"slow\",\"match\":{\"message\":{\"contains\":\"slow\"}},"
	"\"reply\":{\"text\":\"one two three four five six seven eight nine ten\"},"
	"\"timing\":{\"first_token_ms\":10,\"interval_ms\":1000,\"scaled\":false}}";

static struct mockd_proc mockd;

/* a equals b (a may be NULL). */
static bool same(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* The number member name of o, or def. */
static double json_get_number(const cJSON *o, const char *name, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static void start_with_slow_rule(void)
{
	workdir_make("cc-lifecycle");
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", workdir_path("scripts"));
	cr_assert(eq(int, mkdir(dir, 0755), 0));
	FILE *f = fopen(workdir_path("scripts/slow.json"), "w");
	cr_assert(f != NULL);
	fputs(slow_rule, f);
	fclose(f);
	const char *args[] = { "--time-scale", "0", "--scripts", dir, NULL };
	mockd_start(&mockd, args);
}

static void finish(void)
{
	if (mockd.pid > 0)
		mockd_stop(&mockd);
	workdir_remove();
}

/* ---- streams on raw sockets -------------------------------------------------------------- */

struct raw_stream {
	int fd;
	const char *api;
	struct buf in;
};

static const char *const stream_requests[] = {
	"POST /v1/chat/stream HTTP/1.1\r\nHost: x\r\nx-api-key: widget-dev-key-0123456789abcdef\r\n"
	"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	"POST /chat/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dw-dev-key\r\n"
	"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	"POST /api/chat/stream HTTP/1.1\r\nHost: x\r\n"
	"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
};
static const char *const stream_apis[] = { "widget", "deepwiki", "botchat" };
static const char *const stream_bodies[] = {
	"{\"sessionId\":\"s%d\",\"message\":\"slow please\"}",
	"{\"message\":\"slow please\"}",
	"{\"message\":\"slow please\",\"userId\":\"u%d\"}",
};

static void stream_open(struct raw_stream *s, int i)
{
	int k = i % 3;
	s->api = stream_apis[k];
	buf_init(&s->in, 1u << 20);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(s->fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)mockd.port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(eq(int, connect(s->fd, (struct sockaddr *)&a, sizeof(a)), 0), "connect: %s", strerror(errno));
	char body[256], req[1024];
	snprintf(body, sizeof(body), stream_bodies[k], i);
	int n = snprintf(req, sizeof(req), stream_requests[k], strlen(body), body);
	cr_assert(eq(long, (long)write(s->fd, req, (size_t)n), (long)n));
}

/* Read what has come, waiting up to ms for some; false at EOF. */
static bool stream_read(struct raw_stream *s, int ms)
{
	struct pollfd p = { s->fd, POLLIN, 0 };
	if (poll(&p, 1, ms) <= 0)
		return true;
	char chunk[8192];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));
	if (n <= 0)
		return false;
	buf_add(&s->in, chunk, (size_t)n);
	return true;
}

/* The chunked body decoded into out; false when it does not end with the last chunk (0 CRLF CRLF). */
static bool dechunk(const char *p, struct buf *out)
{
	const char *body = strstr(p, "\r\n\r\n");
	if (!body)
		return false;
	p = body + 4;
	for (;;) {
		char *end;
		unsigned long n = strtoul(p, &end, 16);
		if (end == p || strncmp(end, "\r\n", 2) != 0)
			return false;
		p = end + 2;
		if (n == 0)
			return strcmp(p, "\r\n") == 0;
		if (strlen(p) < n + 2 || strncmp(p + n, "\r\n", 2) != 0)
			return false;
		buf_add(out, p, n);
		p += n + 2;
	}
}

/* The last event of a body: its last non-empty line, without "data: ". */
static const char *last_event(struct buf *body, char *out, size_t size)
{
	char *text = (char *)buf_str(body);
	size_t n = strlen(text);
	while (n && text[n - 1] == '\n')
		text[--n] = '\0';
	char *line = strrchr(text, '\n');
	line = line ? line + 1 : text;
	if (strncmp(line, "data: ", 6) == 0)
		line += 6;
	snprintf(out, size, "%s", line);
	return out;
}

/* ---- the SIGTERM test ------------------------------------------------------------------ */

Test(lifecycle, sigterm_ends_every_stream_with_its_error_event_and_closes_every_websocket_with_1001,
     .init = start_with_slow_rule, .fini = finish, .timeout = 60)
{
	if (access(PYTHON, X_OK) != 0)
		cr_skip_test("no " PYTHON " (scripts/deps.sh installs python3-websockets)");
	char cmd[512];
	snprintf(cmd, sizeof(cmd), PYTHON " tests/integration/ws_shutdown_clients.py 127.0.0.1:%d %d 2>&1",
		 mockd.port, NWS);
	FILE *py = popen(cmd, "r");
	cr_assert(py != NULL);
	char line[512];
	cr_assert(fgets(line, sizeof(line), py) != NULL, "the WebSocket clients said nothing");
	cr_assert(same(line, "ready\n"), "the WebSocket clients did not start: %s", line);

	static struct raw_stream streams[NSTREAMS];
	for (int i = 0; i < NSTREAMS; i++)
		stream_open(&streams[i], i);
	/* Every stream is under way: its first token has come (the rule sends one at 10 ms). */
	for (int i = 0; i < NSTREAMS; i++) {
		int64_t until = mono_ms() + 5000;
		while (!strstr(buf_str(&streams[i].in), "one") && mono_ms() < until)
			cr_assert(stream_read(&streams[i], 100), "stream %d ended before its first token", i);
		cr_assert(strstr(buf_str(&streams[i].in), "one") != NULL, "stream %d: no first token", i);
	}

	int64_t t0 = mono_ms();
	int status = mockd_stop(&mockd);
	int64_t took = mono_ms() - t0;
	cr_expect(eq(int, status, 0), "mockd exited with %d", status);
	cr_expect(lt(i64, took, 1000), "mockd took %lld ms to stop", (long long)took);

	for (int i = 0; i < NSTREAMS; i++) {
		struct raw_stream *s = &streams[i];
		while (stream_read(s, 2000))
			;
		close(s->fd);
		struct buf body;
		buf_init(&body, 1u << 20);
		cr_expect(dechunk(buf_str(&s->in), &body), "%s stream %d does not end with the last chunk:\n%s", s->api,
			  i, buf_str(&s->in));
		char ev[1024];
		last_event(&body, ev, sizeof(ev));
		cJSON *e = cJSON_Parse(ev);
		const char *type = json_get_string(e, "type");
		cr_expect(type && strcmp(type, "error") == 0, "%s stream %d: the last event is %s", s->api, i, ev);
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(e, "error");
		if (strcmp(s->api, "widget") == 0) {
			cr_expect(cJSON_IsString(err), "widget: %s", ev);
		} else {
			/* botchat's document lists its codes; deepwiki's lists none for this. */
			const char *want = strcmp(s->api, "botchat") == 0 ? "CHANNEL_UNAVAILABLE" : "SERVICE_UNAVAILABLE";
			cr_expect(same(json_get_string(err, "code"), want), "%s: %s", s->api, ev);
			cr_expect(json_get_string(err, "message") != NULL, "%s: %s", s->api, ev);
		}
		cJSON_Delete(e);
		buf_release(&body);
		buf_release(&s->in);
	}

	int closed = 0;
	while (fgets(line, sizeof(line), py)) {
		cr_expect(same(line, "close 1001\n"), "a WebSocket client saw: %s", line);
		closed++;
	}
	cr_expect(eq(int, pclose(py), 0));
	cr_expect(eq(int, closed, NWS));
}

/* ---- reset -------------------------------------------------------------------------- */

static void call(const char *method, const char *path, const char *const *headers, const char *body,
		 struct http_result *r)
{
	char u[256];
	snprintf(u, sizeof(u), "%s%s", mockd.base, path);
	http_call(method, u, headers, body, body ? strlen(body) : 0, r);
}

static cJSON *call_json(const char *method, const char *path, const char *body, long want)
{
	struct http_result r;
	call(method, path, NULL, body, &r);
	cr_assert(eq(long, r.status, want), "%s %s: %ld %s", method, path, r.status, buf_str(&r.body));
	cJSON *j = cJSON_Parse(buf_str(&r.body));
	http_result_release(&r);
	cr_assert(j != NULL);
	return j;
}

Test(lifecycle, admin_reset_walks_every_module, .init = start_with_slow_rule, .fini = finish, .timeout = 30)
{
	static const char rule[] = "{\"id\":\"runtime\",\"api\":\"botchat\",\"reply\":{\"text\":\"added\"}}";
	cJSON_Delete(call_json("POST", "/__admin/scripts", rule, 201));
	cJSON_Delete(call_json("POST", "/api/chat", "{\"message\":\"hello\"}", 200));
	cJSON_Delete(call_json("POST", "/__admin/clock/advance", "{\"seconds\":3600}", 200));

	cJSON *h = call_json("GET", "/__admin/health", NULL, 200);
	cr_assert(eq(int, (int)json_get_number(h, "conversations", -1), 1));
	cJSON_Delete(h);

	cJSON *r = call_json("POST", "/__admin/reset", "", 200);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "reset")));
	cJSON_Delete(r);

	h = call_json("GET", "/__admin/health", NULL, 200);
	cr_expect(eq(int, (int)json_get_number(h, "conversations", -1), 0), "the store was not reset");
	cr_expect(lt(dbl, json_get_number(h, "offset_ms", -1), 1000.0), "the clock was not reset");
	cJSON_Delete(h);
	cJSON *j = call_json("GET", "/__admin/journal", NULL, 200);
	cr_expect(eq(int, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "entries")), 0),
		  "the journal was not reset");
	cJSON_Delete(j);
	cJSON *s = call_json("GET", "/__admin/scripts", NULL, 200);
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(s, "rules");
	cr_expect(eq(int, cJSON_GetArraySize(rules), 1), "the run-time rule is still there");
	cr_expect(same(json_get_string(cJSON_GetArrayItem(rules, 0), "id"), "slow"),
		  "the --scripts rule was not loaded again");
	cJSON_Delete(s);
	/* mockd still answers, and stops cleanly after a reset. */
	cJSON_Delete(call_json("POST", "/api/chat", "{\"message\":\"hello\"}", 200));
	cr_expect(eq(int, mockd_stop(&mockd), 0));
}

/* ---- the access log ------------------------------------------------------------------ */

/* The lines of a file that contain needle. */
static int count_lines(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* One widget request and one threads WebSocket message, then stop; the log's text. */
static char *traffic(const char *log_format, bool quiet)
{
	const char *args[] = { "--time-scale", "0", "--log", log_format, quiet ? "--quiet" : NULL, NULL };
	mockd_start_logged(&mockd, args, workdir_path("mockd.err"));
	const char *headers[] = { "x-api-key: widget-dev-key-0123456789abcdef", "Content-Type: application/json", NULL };
	struct http_result r;
	call("POST", "/v1/chat/stream", headers, "{\"sessionId\":\"s1\",\"message\":\"hi\"}", &r);
	cr_assert(eq(long, r.status, 200));
	http_result_release(&r);
	if (access(PYTHON, X_OK) == 0) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd),
			 PYTHON " -c 'import asyncio, json, websockets\n"
			 "async def m():\n"
			 "    async with websockets.connect(\"ws://127.0.0.1:%d/chat/ws?token=th-dev-token\") as ws:\n"
			 "        await ws.send(json.dumps({\"type\": \"history\", \"thread_id\": "
			 "\"7d1c2f3a-0b4e-4c5d-8e6f-001122334455\"}))\n"
			 "        await asyncio.sleep(0.1)\n"
			 "asyncio.run(m())'",
			 mockd.port);
		cr_assert(eq(int, system(cmd), 0));
	}
	cr_assert(eq(int, mockd_stop(&mockd), 0));
	return slurp_file(workdir_path("mockd.err"), 1u << 20);
}

static void workdir_only(void)
{
	workdir_make("cc-accesslog");
}

Test(accesslog, a_request_and_a_websocket_message_give_a_line_each_keys_redacted, .init = workdir_only,
     .fini = finish, .timeout = 30)
{
	char *log = traffic("text", false);
	cr_expect(eq(int, count_lines(log, "access: 127.0.0.1 POST /v1/chat/stream 200 "), 1), "%s", log);
	cr_expect(strstr(log, "key=widg…(redacted)") != NULL, "%s", log);
	cr_expect(strstr(log, "end=complete") != NULL, "%s", log);
	cr_expect(strstr(log, "widget-dev-key-0123456789abcdef") == NULL, "the key leaked: %s", log);
	if (access(PYTHON, X_OK) == 0) {
		cr_expect(eq(int, count_lines(log, "access: 127.0.0.1 WS /chat/ws?token=th-d…(redacted) text "), 1), "%s",
			  log);
		cr_expect(strstr(log, "th-dev-token") == NULL, "the token leaked: %s", log);
	}
	free(log);
}

Test(accesslog, json_lines_parse, .init = workdir_only, .fini = finish, .timeout = 30)
{
	char *log = traffic("json", false);
	int access_lines = 0, ws_lines = 0;
	for (char *save = NULL, *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);
		cr_assert(o != NULL, "not JSON: %s", line);
		const char *type = json_get_string(o, "type");
		if (type && strcmp(type, "access") == 0) {
			access_lines++;
			const char *method = json_get_string(o, "method");
			if (method && strcmp(method, "POST") == 0) {
				cr_expect(same(json_get_string(o, "path"), "/v1/chat/stream"));
				cr_expect(eq(int, (int)json_get_number(o, "status", 0), 200));
				cr_expect(gt(dbl, json_get_number(o, "bytes", 0), 0.0));
				cr_expect(same(json_get_string(o, "key"), "widg…(redacted)"));
				cr_expect(same(json_get_string(o, "end"), "complete"));
			}
			if (method && strcmp(method, "WS") == 0) {
				ws_lines++;
				cr_expect(same(json_get_string(o, "message"), "text"));
			}
		}
		cJSON_Delete(o);
	}
	bool py = access(PYTHON, X_OK) == 0;
	cr_expect(eq(int, access_lines, py ? 3 : 1), "a POST, and an upgrade and a message with python");
	cr_expect(eq(int, ws_lines, py ? 1 : 0));
	free(log);
}

Test(accesslog, quiet_writes_none, .init = workdir_only, .fini = finish, .timeout = 30)
{
	char *log = traffic("text", true);
	cr_expect(strstr(log, "access:") == NULL, "%s", log);
	cr_expect(strstr(log, "listening on") != NULL, "mockd's own messages stay: %s", log);
	free(log);
}
