/*
 * The runner's WebSocket client (runner/ws.c) against an independent server
 * (tests/integration/ws_echo_server.py on Debian's python3-websockets), and
 * the ws step end to end: bin/chatconform on a small suite against mockd.
 *
 * Everything listens on 127.0.0.1, port 0; the Python server also stops by
 * itself (120 s, or when this process has gone).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <curl/curl.h>

#include "common/json.h"
#include "common/timeutil.h"
#include "harness.h"
#include "runner/response.h"
#include "runner/ws.h"
#include "../unit/unit.h"

#define PYTHON "/usr/bin/python3"
#define SERVER "tests/integration/ws_echo_server.py"

static pid_t server_pid;
static int server_port;
static char port_file[96];

static void start_server(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(port_file, sizeof(port_file), "/tmp/cc-wsecho-%d-%ld.port", getpid(), (long)time(NULL));
	unlink(port_file);
	server_pid = fork();
	cr_assert(server_pid >= 0, "fork: %s", strerror(errno));
	if (server_pid == 0) {
		execl(PYTHON, PYTHON, SERVER, port_file, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", PYTHON, strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(port_file, "r");
		char line[64] = "";
		if (f) {
			bool done = fgets(line, sizeof(line), f) && strchr(line, '\n');
			fclose(f);
			char *colon = strrchr(line, ':');
			if (done && colon) {
				server_port = atoi(colon + 1);
				return;
			}
		}
		int st;
		if (waitpid(server_pid, &st, WNOHANG) == server_pid)
			cr_fatal("the Python WebSocket server exited before listening (status %d)", st);
		usleep(20 * 1000);
	}
	kill(server_pid, SIGKILL);
	cr_fatal("the Python WebSocket server did not write its port file within 10 s");
}

static void stop_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		int st;
		for (int i = 0; i < 250 && waitpid(server_pid, &st, WNOHANG) != server_pid; i++)
			usleep(20 * 1000);
		kill(server_pid, SIGKILL);
		waitpid(server_pid, &st, WNOHANG);
		server_pid = 0;
	}
	unlink(port_file);
	curl_global_cleanup();
}

/* Run bin/chatconform with args; returns its exit status, its output in out. */
static int run_chatconform(const char *const *args, struct buf *out)
{
	char exe[512], mockd[512], outfile[96];
	bin_path("chatconform", exe, sizeof(exe));
	bin_path("mockd", mockd, sizeof(mockd));
	snprintf(outfile, sizeof(outfile), "/tmp/cc-wse2e-%d-%ld.out", getpid(), (long)time(NULL));
	const char *argv[32] = { exe, "run", "--mockd", mockd };
	int argc = 4;
	for (; *args && argc < 30; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		alarm(60);   /* it must stop by itself */
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	FILE *f = fopen(outfile, "r");
	char chunk[4096];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	if (f)
		fclose(f);
	unlink(outfile);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TestSuite(ws_client, .init = start_server, .fini = stop_server, .timeout = 60);

/* Connect to path on the Python server; asserts the handshake worked. */
static struct wsc_conn *open_ws(const char *path, const struct http_header_kv *h, size_t nh)
{
	char url[256];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d%s", server_port, path);
	struct wsc_connect_options o = { .url = url, .headers = h, .nheaders = nh, .connect_timeout_ms = 5000,
					 .response_timeout_ms = 5000 };
	struct wsc_conn *c = NULL;
	struct response hs;
	struct buf err, xt;
	response_init(&hs);
	buf_init(&err, 4096);
	buf_init(&xt, 1 << 16);
	enum wsc_result r = wsc_connect(&o, &c, &hs, &err, &xt);
	cr_assert(eq(int, r, WSC_OK), "connect: %s\n%s", buf_str(&err), buf_str(&xt));
	cr_assert(eq(long, hs.status, 101));
	cr_assert(c != NULL);
	response_release(&hs);
	buf_release(&err);
	buf_release(&xt);
	return c;
}

/* The next message that is not a ping; asserts one arrives within 5 s. */
static struct wsc_message *next(struct wsc_conn *c)
{
	for (;;) {
		struct wsc_message *m = NULL;
		enum wsc_result r = wsc_recv(c, 5000, &m);
		cr_assert(eq(int, r, WSC_OK), "recv: %d %s", r, wsc_error(c));
		if (m->opcode != WSC_PING)
			return m;
		wsc_message_free(m);
	}
}

static void expect_text(struct wsc_conn *c, const char *want)
{
	struct wsc_message *m = next(c);
	cr_assert(eq(int, m->opcode, WSC_TEXT), "got %s", wsc_opcode_name(m->opcode));
	cr_assert(eq(str, m->data, STR(want)));
	wsc_message_free(m);
}

static void expect_close(struct wsc_conn *c, int code, const char *reason)
{
	struct wsc_message *m = next(c);
	cr_assert(eq(int, m->opcode, WSC_CLOSE), "got %s %s", wsc_opcode_name(m->opcode), m->data);
	cr_assert(eq(int, m->close_code, code));
	if (reason)
		cr_assert(eq(str, m->data, STR(reason)));
	wsc_message_free(m);
	struct wsc_message *after = NULL;
	cr_assert(eq(int, wsc_recv(c, 2000, &after), WSC_CLOSED));
	cr_assert(wsc_close_received(c));
}

static void send_text(struct wsc_conn *c, const char *s)
{
	cr_assert(eq(int, wsc_send(c, WSC_TEXT, s, strlen(s), 5000), WSC_OK), "send: %s", wsc_error(c));
}

Test(ws_client, handshake_and_echo)
{
	struct wsc_conn *c = open_ws("/echo", NULL, 0);
	send_text(c, "hello");
	expect_text(c, "hello");
	send_text(c, "{\"type\":\"message\",\"content\":\"h\xc3\xa9\"}");
	expect_text(c, "{\"type\":\"message\",\"content\":\"h\xc3\xa9\"}");
	send_text(c, "");
	expect_text(c, "");
	wsc_free(c);
}

Test(ws_client, binary_echo)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	static const char bin[] = { 0, 1, 2, (char)0xff, (char)0xfe };
	cr_assert(eq(int, wsc_send(c, WSC_BINARY, bin, sizeof(bin), 5000), WSC_OK));
	struct wsc_message *m = next(c);
	cr_assert(eq(int, m->opcode, WSC_BINARY));
	cr_assert(eq(sz, m->len, sizeof(bin)));
	cr_assert(eq(int, memcmp(m->data, bin, sizeof(bin)), 0));
	wsc_message_free(m);
	wsc_free(c);
}

Test(ws_client, extra_headers_reach_the_server)
{
	struct http_header_kv h[] = { { "Origin", "http://example.test" }, { "X-Test", "42" } };
	struct wsc_conn *c = open_ws("/h", h, 2);
	send_text(c, "headers");
	struct wsc_message *m = next(c);
	cJSON *j = json_parse_exact(m->data, m->len);
	cr_assert(j != NULL, "%s", m->data);
	cr_assert(eq(str, STR(json_get_string(j, "x-test")), STR("42")));
	cr_assert(eq(str, STR(json_get_string(j, "origin")), STR("http://example.test")));
	cr_assert(eq(str, STR(json_get_string(j, "sec-websocket-version")), STR("13")));
	cJSON_Delete(j);
	wsc_message_free(m);
	wsc_free(c);
}

Test(ws_client, fragmented_message_from_the_server_is_reassembled)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	send_text(c, "fragments:one,two,three");
	expect_text(c, "onetwothree");
	wsc_free(c);
}

Test(ws_client, fragmented_message_to_the_server)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	cr_assert(eq(int, wsc_send_frame(c, false, WSC_TEXT, "hel", 3, true, 5000), WSC_OK));
	/* A control frame may come between fragments. */
	cr_assert(eq(int, wsc_send(c, WSC_PING, "mid", 3, 5000), WSC_OK));
	cr_assert(eq(int, wsc_send_frame(c, false, WSC_CONTINUATION, "lo ", 3, true, 5000), WSC_OK));
	cr_assert(eq(int, wsc_send_frame(c, true, WSC_CONTINUATION, "world", 5, true, 5000), WSC_OK));
	struct wsc_message *m = next(c);
	cr_assert(eq(int, m->opcode, WSC_PONG));
	cr_assert(eq(str, m->data, STR("mid")));
	wsc_message_free(m);
	expect_text(c, "hello world");
	wsc_free(c);
}

Test(ws_client, large_messages_both_ways)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	size_t n = 900 * 1024;
	char *big = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	cr_assert(eq(int, wsc_send(c, WSC_TEXT, big, n, 10000), WSC_OK));
	struct wsc_message *m = next(c);
	cr_assert(eq(sz, m->len, n));
	cr_assert(eq(int, memcmp(m->data, big, n), 0));
	wsc_message_free(m);
	free(big);
	/* Exactly the cap is fine. */
	send_text(c, "big:1048576");
	m = next(c);
	cr_assert(eq(sz, m->len, WSC_MAX_MESSAGE));
	wsc_message_free(m);
	wsc_free(c);
}

Test(ws_client, a_message_over_the_cap_fails_with_1009)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	send_text(c, "big:1048577");
	struct wsc_message *m = NULL;
	enum wsc_result r = wsc_recv(c, 5000, &m);
	cr_assert(eq(int, r, WSC_ERROR), "got %d", r);
	cr_assert(m == NULL);
	assert_contains(wsc_error(c), "1009");
	wsc_free(c);
}

Test(ws_client, close_from_the_server)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	send_text(c, "close:4002:room is full");
	expect_close(c, 4002, "room is full");
	cr_assert(eq(int, wsc_send(c, WSC_TEXT, "late", 4, 1000), WSC_CLOSED));
	wsc_free(c);
}

Test(ws_client, close_from_the_client_is_answered)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	cr_assert(eq(int, wsc_send_close(c, 4001, "done", 5000), WSC_OK));
	expect_close(c, 4001, "done");
	wsc_free(c);
}

Test(ws_client, ping_both_ways)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	cr_assert(eq(int, wsc_send(c, WSC_PING, "abc", 3, 5000), WSC_OK));
	struct wsc_message *m = next(c);
	cr_assert(eq(int, m->opcode, WSC_PONG));
	cr_assert(eq(str, m->data, STR("abc")));
	wsc_message_free(m);
	/* The server pings; wslay answers; the server says so once the pong arrived. */
	send_text(c, "ping:xyz");
	m = NULL;
	cr_assert(eq(int, wsc_recv(c, 5000, &m), WSC_OK));
	cr_assert(eq(int, m->opcode, WSC_PING));
	cr_assert(eq(str, m->data, STR("xyz")));
	wsc_message_free(m);
	expect_text(c, "pong:xyz");
	wsc_free(c);
}

Test(ws_client, the_server_refuses_an_unmasked_frame_with_1002)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	cr_assert(eq(int, wsc_send_frame(c, true, WSC_TEXT, "hi", 2, false, 5000), WSC_OK));
	expect_close(c, 1002, NULL);
	wsc_free(c);
}

Test(ws_client, the_server_refuses_invalid_utf8_with_1007)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	cr_assert(eq(int, wsc_send(c, WSC_TEXT, "\xc3\x28", 2, 5000), WSC_OK));
	expect_close(c, 1007, NULL);
	wsc_free(c);
}

Test(ws_client, a_refused_handshake_returns_status_and_body)
{
	char url[128];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/refuse?token=secret-token-value", server_port);
	struct wsc_connect_options o = { .url = url, .connect_timeout_ms = 5000, .response_timeout_ms = 5000 };
	struct wsc_conn *c = NULL;
	struct response hs;
	struct buf err, xt;
	response_init(&hs);
	buf_init(&err, 4096);
	buf_init(&xt, 1 << 16);
	cr_assert(eq(int, wsc_connect(&o, &c, &hs, &err, &xt), WSC_REFUSED), "%s", buf_str(&err));
	cr_assert(c == NULL);
	cr_assert(eq(long, hs.status, 403));
	cr_assert(eq(str, STR(json_get_string(hs.json, "error")), STR("refused")));
	assert_contains(buf_str(&xt), "< HTTP/1.1 403 Forbidden");
	assert_contains(buf_str(&xt), "token=secr…(redacted)");
	cr_assert(strstr(buf_str(&xt), "secret-token-value") == NULL, "the token leaked:\n%s", buf_str(&xt));
	response_release(&hs);
	buf_release(&err);
	buf_release(&xt);
}

Test(ws_client, waiting_is_bounded)
{
	struct wsc_conn *c = open_ws("/", NULL, 0);
	struct wsc_message *m = NULL;
	int64_t t0 = mono_ms();
	cr_assert(eq(int, wsc_recv(c, 300, &m), WSC_TIMEOUT));
	int64_t took = mono_ms() - t0;
	cr_assert(ge(i64, took, 250));
	cr_assert(lt(i64, took, 2000));
	wsc_free(c);
}

Test(ws_client, nothing_listening_is_an_error)
{
	/* The server's port + 1 after a fresh bind is almost surely free; any refusal will do. */
	struct wsc_connect_options o = { .url = "ws://127.0.0.1:1/x", .connect_timeout_ms = 2000,
					 .response_timeout_ms = 2000 };
	struct wsc_conn *c = NULL;
	struct response hs;
	struct buf err;
	response_init(&hs);
	buf_init(&err, 4096);
	cr_assert(eq(int, wsc_connect(&o, &c, &hs, &err, NULL), WSC_ERROR));
	assert_contains(buf_str(&err), "cannot connect");
	response_release(&hs);
	buf_release(&err);
}

/* ---- end to end: chatconform run on a ws suite against mockd -------------------------------- */

Test(ws_e2e, a_ws_suite_passes_against_mockd, .timeout = 90)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	const char *args[] = { "tests/data/suites/ws/threads-ws.json", NULL };
	int code = run_chatconform(args, &out);
	cr_assert(eq(int, code, 0), "exit %d:\n%s", code, buf_str(&out));
	assert_contains(buf_str(&out), "PASS    threads.ws.test.reply");
	assert_contains(buf_str(&out), "1 passed, 0 failed");
	buf_release(&out);
}

Test(ws_e2e, a_wrong_expectation_fails_with_its_diff, .timeout = 90)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	const char *args[] = { "tests/data/suites/ws/wrong/threads-ws-wrong.json", "-v", NULL };
	int code = run_chatconform(args, &out);
	cr_assert(eq(int, code, 1), "exit %d:\n%s", code, buf_str(&out));
	assert_contains(buf_str(&out), "FAIL    threads.ws.test.wrong");
	assert_contains(buf_str(&out),
			"step 1: ws item 7 (expect a): frame /type: expected \"content\", got \"error\"\n");
	/* The transcript shows the frames, with the token redacted. */
	assert_contains(buf_str(&out), "< a: text {\"type\":\"error\",\"message\":\"Invalid JSON\"}");
	assert_contains(buf_str(&out), "token=th-d…(redacted)");
	cr_assert(strstr(buf_str(&out), "th-dev-token") == NULL, "the token leaked");
	buf_release(&out);
}

/* ---- ws steps against the Python server: every kind of item, and the diffs of failures ------- */

Test(ws_client, a_ws_script_of_every_item_passes_against_the_echo_server, .timeout = 90)
{
	char target[64];
	struct buf out;
	buf_init(&out, 1 << 20);
	snprintf(target, sizeof(target), "http://127.0.0.1:%d", server_port);
	const char *args[] = { "tests/data/suites/ws/echo/echo-ws.json", "--target", target, "-v", NULL };
	int code = run_chatconform(args, &out);
	cr_assert(eq(int, code, 0), "exit %d:\n%s", code, buf_str(&out));
	assert_contains(buf_str(&out), "PASS    echo.ws.script");
	buf_release(&out);
}

Test(ws_client, failing_items_say_what_differed, .timeout = 90)
{
	char target[64];
	struct buf out;
	buf_init(&out, 1 << 20);
	snprintf(target, sizeof(target), "http://127.0.0.1:%d", server_port);
	const char *args[] = { "tests/data/suites/ws/echo/echo-ws-wrong.json", "--target", target, NULL };
	int code = run_chatconform(args, &out);
	const char *o = buf_str(&out);
	cr_assert(eq(int, code, 1), "exit %d:\n%s", code, o);
	assert_contains(o, "ws item 3 (expect a): expected no frame within 1 s, got text {\"type\":\"x\"} after ");
	assert_contains(o, "ws item 3 (expect a): close code: expected 4000, got 4002\n");
	assert_contains(o, "ws item 2 (expect a): no frame within 0.3 s\n");
	assert_contains(o, "ws item 1 (connect b): handshake answered 403, expected 101\n");
	assert_contains(o, "ws item 3 (expect a): expected a text frame, got binary \\x01\\x02\n");
	assert_contains(o, "ws item 4 (collect a): the server closed the connection (close 1000 bye) before a frame "
			   "matching until (1 collected)\n");
	assert_contains(o, "ws item 4 (collect a): stream: sequence \"start content end\" does not match content end "
			   "(diverges at event 1)\n");
	assert_contains(o, "0 passed, 7 failed");
	buf_release(&out);
}

/* A refusal in any form: a refused handshake, a close, or only errors pass; a served message fails. */
Test(ws_client, may_refuse_and_or_close_accept_every_form_of_refusal, .timeout = 90)
{
	char target[64];
	struct buf out;
	buf_init(&out, 1 << 20);
	snprintf(target, sizeof(target), "http://127.0.0.1:%d", server_port);
	const char *args[] = { "tests/data/suites/ws/refusal/echo-refusal.json", "--target", target, "-v", NULL };
	int code = run_chatconform(args, &out);
	const char *o = buf_str(&out);
	cr_assert(eq(int, code, 1), "exit %d:\n%s", code, o);
	assert_contains(o, "PASS    echo.refusal.handshake");
	/* Its send and expect were skipped: on a refused connection they would have failed. */
	assert_contains(o, "PASS    echo.refusal.close");
	assert_contains(o, "PASS    echo.refusal.errors");
	assert_contains(o, "FAIL    echo.refusal.served");
	assert_contains(o, "ws item 3 (expect a): expected no frame within 1 s, got text {\"type\":\"message\"");
	assert_contains(o, "3 passed, 1 failed");
	buf_release(&out);
}
