/*
 * The runner against a target that misbehaves on purpose: a small server in this
 * process's child that resets, stalls, floods, and sends bytes that are not HTTP,
 * not UTF-8 or not JSON (tests/data/suites/hostile/hostile.json asks for each).
 * Every case must end in a failure or an error that says why, within its step
 * timeouts; the run must end by itself and the runner must not crash.
 */
#include <arpa/inet.h>
#include <errno.h>
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

#include "harness.h"

static pid_t server_pid;
static int server_port;

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* One chunk of a chunked body. */
static void chunk(int fd, const char *s)
{
	char head[32];
	snprintf(head, sizeof(head), "%zx\r\n", strlen(s));
	send_str(fd, head);
	send_str(fd, s);
	send_str(fd, "\r\n");
}

static void reset_now(int fd)
{
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static const char ndjson_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n";

/* Answer one connection according to the path of its request. */
static void serve(int fd)
{
	char req[4096];
	size_t got = 0;
	while (got < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
		ssize_t n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
	}
	char path[256] = "";
	sscanf(req, "%*s %255s", path);
	if (!strcmp(path, "/garbage")) {
		send_str(fd, "\x16\x03\x01 this is not HTTP at all\r\n\r\n");
	} else if (!strcmp(path, "/reset")) {
		reset_now(fd);
		return;
	} else if (!strcmp(path, "/reset-mid")) {
		send_str(fd, ndjson_head);
		chunk(fd, "{\"type\":\"start\",\"conversationId\":\"c\"}\n");
		usleep(100 * 1000);
		reset_now(fd);
		return;
	} else if (!strcmp(path, "/stall-head")) {
		sleep(30);
	} else if (!strcmp(path, "/stall-mid")) {
		send_str(fd, ndjson_head);
		chunk(fd, "{\"type\":\"start\",\"conversationId\":\"c\"}\n");
		sleep(30);
	} else if (!strcmp(path, "/flood")) {
		send_str(fd, ndjson_head);
		chunk(fd, "{\"type\":\"start\",\"conversationId\":\"c\"}\n");
		char line[1100];
		memset(line, 'x', sizeof(line));
		memcpy(line, "{\"type\":\"token\",\"token\":\"", 25);
		memcpy(line + sizeof(line) - 4, "\"}\n", 4);
		/* Until the client gives up: at most a gigabyte, so a broken client cannot keep this going. */
		for (long sent = 0; sent < (1L << 30); sent += (long)sizeof(line)) {
			char head[32];
			int h = snprintf(head, sizeof(head), "%zx\r\n", sizeof(line) - 1);
			if (send(fd, head, (size_t)h, MSG_NOSIGNAL) <= 0 ||
			    send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL) <= 0 || send(fd, "\r\n", 2, MSG_NOSIGNAL) <= 0)
				break;
		}
	} else if (!strcmp(path, "/flood-line")) {
		send_str(fd, ndjson_head);
		char block[65536];
		memset(block, 'a', sizeof(block));
		for (int i = 0; i < 16384; i++) {
			char head[32];
			int h = snprintf(head, sizeof(head), "%zx\r\n", sizeof(block));
			if (send(fd, head, (size_t)h, MSG_NOSIGNAL) <= 0 || send(fd, block, sizeof(block), MSG_NOSIGNAL) <= 0 ||
			    send(fd, "\r\n", 2, MSG_NOSIGNAL) <= 0)
				break;
		}
	} else if (!strcmp(path, "/bad-utf8") || !strcmp(path, "/non-json") || !strcmp(path, "/good")) {
		send_str(fd, ndjson_head);
		chunk(fd, "{\"type\":\"start\",\"conversationId\":\"c\"}\n");
		if (!strcmp(path, "/bad-utf8"))
			chunk(fd, "{\"type\":\"token\",\"token\":\"\xff\xfe\"}\n");
		else if (!strcmp(path, "/non-json"))
			chunk(fd, "token: hello\n");
		else
			chunk(fd, "{\"type\":\"token\",\"token\":\"hi\"}\n");
		chunk(fd, "{\"type\":\"done\",\"message\":\"hi\",\"conversationId\":\"c\"}\n");
		send_str(fd, "0\r\n\r\n");
	} else if (!strcmp(path, "/body-not-utf8")) {
		send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
			     "{\"ok\":\"\xc3\x28\"}");
	} else if (!strcmp(path, "/huge-header")) {
		send_str(fd, "HTTP/1.1 200 OK\r\nX-Huge: ");
		char block[4096];
		memset(block, 'h', sizeof(block));
		for (int i = 0; i < 256; i++)
			send_all(fd, block, sizeof(block));
		send_str(fd, "\r\nContent-Length: 0\r\n\r\n");
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void start_server(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert(eq(int, bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, listen(lfd, 64), 0));
	socklen_t len = sizeof(sa);
	getsockname(lfd, (struct sockaddr *)&sa, &len);
	server_port = ntohs(sa.sin_port);
	server_pid = fork();
	cr_assert(server_pid >= 0);
	if (server_pid == 0) {
		setpgid(0, 0);            /* one group: the test stops the server and every child at once */
		signal(SIGCHLD, SIG_IGN); /* reap the per-connection children */
		alarm(120);               /* never outlive the test */
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				continue;
			if (fork() == 0) {
				close(lfd);
				alarm(60);
				serve(fd);
				_exit(0);
			}
			close(fd);
		}
	}
	close(lfd);
}

static void stop_server(void)
{
	if (server_pid > 0) {
		kill(-server_pid, SIGKILL);
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
		server_pid = 0;
	}
}

/* Run the runner with args, its output into out; returns its exit status. */
static int run_runner(const char *args, char *out, size_t size)
{
	char exe[512], cmd[2048];
	bin_path("chatconform", exe, sizeof(exe));
	snprintf(cmd, sizeof(cmd), "NO_COLOR=1 %s %s 2>&1", exe, args);
	FILE *p = popen(cmd, "r");
	cr_assert(p != NULL);
	size_t n = 0, r;
	while (n < size - 1 && (r = fread(out + n, 1, size - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The line that reports a case, and what follows it up to the next case line. */
static void case_report(const char *out, const char *id, char *dst, size_t size)
{
	char key[128];
	snprintf(key, sizeof(key), " %s  ", id);
	const char *p = strstr(out, key);
	dst[0] = '\0';
	if (!p)
		return;
	while (p > out && p[-1] != '\n')
		p--;
	const char *end = p + 1;
	while ((end = strchr(end, '\n')) && (end[1] == ' ' || end[1] == '\t'))
		end++;
	size_t n = end ? (size_t)(end - p) : strlen(p);
	snprintf(dst, size, "%.*s", (int)(n < size - 1 ? n : size - 1), p);
}

TestSuite(hostile, .init = start_server, .fini = stop_server, .timeout = 120);

Test(hostile, every_misbehaviour_gets_a_verdict_with_its_reason)
{
	static char out[1 << 16];
	char args[512];
	snprintf(args, sizeof(args), "run tests/data/suites/hostile --target http://127.0.0.1:%d -j 4 "
		 "--junit /tmp/cc-hostile-%d.xml", server_port, getpid());
	int code = run_runner(args, out, sizeof(out));
	char junit[64];
	snprintf(junit, sizeof(junit), "/tmp/cc-hostile-%d.xml", getpid());
	unlink(junit);
	cr_assert(eq(int, code, 1), "failures are exit 1:\n%s", out);

	static const struct {
		const char *id, *verdict, *reason;
	} want[] = {
		{ "hostile.garbage", "ERROR", "" },
		{ "hostile.reset", "ERROR", "" },
		{ "hostile.reset_mid", "", "" },
		{ "hostile.stall_head", "ERROR", "first byte" },
		{ "hostile.stall_mid", "ERROR", "idle" },
		{ "hostile.flood", "", "stopped reading" },
		{ "hostile.flood_line", "", "longer than" },
		{ "hostile.bad_utf8", "FAIL", "not valid UTF-8" },
		{ "hostile.non_json", "FAIL", "not JSON" },
		{ "hostile.body_not_utf8", "FAIL", "not JSON" },
		{ "hostile.huge_header", "ERROR", "header" },
		{ "hostile.well_behaved", "PASS", "" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		char rep[4096];
		case_report(out, want[i].id, rep, sizeof(rep));
		cr_expect(rep[0] != '\0', "%s has no line in:\n%s", want[i].id, out);
		if (*want[i].verdict)
			cr_expect(strncmp(rep, want[i].verdict, strlen(want[i].verdict)) == 0, "%s: expected %s:\n%s",
				  want[i].id, want[i].verdict, rep);
		else
			cr_expect(strncmp(rep, "FAIL", 4) == 0 || strncmp(rep, "ERROR", 5) == 0,
				  "%s: expected a failure or an error:\n%s", want[i].id, rep);
		if (*want[i].reason)
			cr_expect(strstr(rep, want[i].reason) != NULL, "%s: the reason should say \"%s\":\n%s",
				  want[i].id, want[i].reason, rep);
	}
}

Test(hostile, a_target_that_refuses_connections_is_exit_3)
{
	/* A port that was just free: nothing listens there. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	close(fd);
	static char out[1 << 14];
	char args[512];
	snprintf(args, sizeof(args), "run tests/data/suites/hostile --target http://127.0.0.1:%d --junit /tmp/cc-refused-%d.xml",
		 ntohs(sa.sin_port), getpid());
	int code = run_runner(args, out, sizeof(out));
	char junit[64];
	snprintf(junit, sizeof(junit), "/tmp/cc-refused-%d.xml", getpid());
	unlink(junit);
	cr_assert(eq(int, code, 3), "an unreachable target is exit 3:\n%s", out);
	cr_assert(strstr(out, "127.0.0.1") != NULL, "the message names the target:\n%s", out);
}
