/*
 * mockd against hostile clients (issue 12): each attack runs for a few seconds
 * against a mockd of this test's own, which must keep its memory (VmRSS in
 * /proc/PID/status) under a budget, close what it should, and answer a normal
 * client while the attack goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"

#define WIDGET_KEY "x-api-key: widget-dev-key-0123456789abcdef"

static struct mockd_proc mockd;

static void stop(void)
{
	if (mockd.pid > 0)
		cr_expect(eq(int, mockd_stop(&mockd), 0), "mockd exited with an error");
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A blocking TCP connection to mockd; -1 when it cannot be made. */
static int connect_mockd(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)mockd.port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

/* True when the peer has closed fd (EOF, reset) within ms milliseconds; the data before is dropped. */
static bool closed_within(int fd, int ms)
{
	double end = now_ms() + ms;
	char buf[4096];
	for (double left; (left = end - now_ms()) > 0;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, (int)left + 1) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
	return false;
}

/* A normal client: POST a widget chat; its status, and how long it took in *ms. */
static long normal_request(double *ms)
{
	char u[128];
	snprintf(u, sizeof(u), "%s/v1/chat/stream", mockd.base);
	const char *h[] = { WIDGET_KEY, "Content-Type: application/json", NULL };
	const char *body = "{\"sessionId\":\"calm\",\"message\":\"hello\"}";
	struct http_result r;
	double t0 = now_ms();
	http_call("POST", u, h, body, strlen(body), &r);
	*ms = now_ms() - t0;
	long status = r.curl_code == 0 ? r.status : -1;
	http_result_release(&r);
	return status;
}

static void expect_served(const char *when)
{
	double ms = 0;
	long status = normal_request(&ms);
	cr_expect(eq(long, status, 200), "%s: a normal client got %ld", when, status);
	cr_expect(lt(dbl, ms, 1000.0), "%s: a normal client waited %.0f ms", when, ms);
}

/* ---- strict text ---------------------------------------------------------------------------- */

/* A raw NUL inside a string is refused like the escape \u0000, in the API's own format. */
Test(hostile_mockd, raw_nul_in_a_widget_session_id_is_400, .fini = stop)
{
	const char *args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, args);
	char u[128];
	snprintf(u, sizeof(u), "%s/v1/chat/stream", mockd.base);
	const char *h[] = { WIDGET_KEY, "Content-Type: application/json", NULL };
	static const char body[] = "{\"sessionId\":\"a\0b\",\"message\":\"hi\"}";
	struct http_result r;
	http_call("POST", u, h, body, sizeof(body) - 1, &r);
	cr_expect(eq(long, r.status, 400));
	cr_expect(strstr(buf_str(&r.body), "Invalid request payload") != NULL, "%s", buf_str(&r.body));
	http_result_release(&r);
	/* A raw control character between tokens (RFC 8259 allows only space, tab, LF, CR). */
	static const char body2[] = "{\"sessionId\":\"a\",\x01\"message\":\"hi\"}";
	http_call("POST", u, h, body2, sizeof(body2) - 1, &r);
	cr_expect(eq(long, r.status, 400));
	http_result_release(&r);
}

/* ---- conflicting Content-Length ------------------------------------------------------------- */

/* One request written raw; the status of the answer (0 when none) and whether the connection then closed. */
static int raw_status(const char *request, bool *closed)
{
	int fd = connect_mockd();
	cr_assert(fd >= 0);
	send_all(fd, request, strlen(request));
	char buf[2048] = "";
	size_t got = 0;
	while (got < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n")) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 3000) <= 0)
			break;
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	int status = 0;
	sscanf(buf, "HTTP/1.1 %d", &status);
	*closed = closed_within(fd, 2000);
	close(fd);
	return status;
}

Test(hostile_mockd, conflicting_content_lengths_are_400_and_close, .fini = stop)
{
	const char *args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, args);
	bool closed = false;
	int status = raw_status("POST /v1/chat/stream HTTP/1.1\r\nHost: x\r\n" WIDGET_KEY "\r\n"
				"Content-Type: application/json\r\nContent-Length: 37\r\nContent-Length: 5\r\n\r\n"
				"{\"sessionId\":\"s\",\"message\":\"twice\"}  ", &closed);
	cr_expect(eq(int, status, 400));
	cr_expect(closed, "the connection stays open after conflicting lengths");
	/* The same length twice is one length (RFC 9112 6.3 allows taking it). */
	status = raw_status("POST /v1/chat/stream HTTP/1.1\r\nHost: x\r\n" WIDGET_KEY "\r\nConnection: close\r\n"
			    "Content-Type: application/json\r\nContent-Length: 37\r\nContent-Length: 37\r\n\r\n"
			    "{\"sessionId\":\"s\",\"message\":\"twice\"}  ", &closed);
	cr_expect(eq(int, status, 200));
}

/* ---- the HTTP version ------------------------------------------------------------------------ */

/* evhttp answered in any version asked ("HTTP/0.1 404"): found by fuzz/fuzz_mockd_http. */
Test(hostile_mockd, other_http_versions_are_answered_as_http_1_1, .fini = stop)
{
	const char *args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, args);
	bool closed = false;
	int status = raw_status("GET /v1/nope HTTP/0.1\r\nHost: x\r\n\r\n", &closed);
	cr_expect(eq(int, status, 505), "HTTP/0.1 is not answered \"HTTP/1.1 505\"");
	cr_expect(closed, "the connection stays open after HTTP/0.1");
	status = raw_status("GET /v1/nope HTTP/2.0\r\nHost: x\r\n\r\n", &closed);
	cr_expect(status == 400 || status == 505, "HTTP/2.0 is not refused in HTTP/1.1 (evhttp itself says 400)");
	/* A later HTTP/1 minor version is served as 1.1. */
	status = raw_status("GET /v1/nope HTTP/1.7\r\nHost: x\r\nConnection: close\r\n\r\n", &closed);
	cr_expect(eq(int, status, 404), "HTTP/1.7 is not answered \"HTTP/1.1 404\"");
}

/* ---- a WebSocket client that never reads ---------------------------------------------------- */

/* Open a WebSocket to path on fd and read the 101; false when it is not one. */
static bool ws_open(int fd, const char *path)
{
	char req[512];
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path);
	if (!send_all(fd, req, strlen(req)))
		return false;
	char buf[1024] = "";
	size_t got = 0;
	while (got < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n")) {
		ssize_t n = recv(fd, buf + got, 1, 0); /* a byte at a time: nothing after the head is taken */
		if (n <= 0)
			return false;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return strncmp(buf, "HTTP/1.1 101", 12) == 0;
}

/*
 * A frame wslay cannot read (here a fragmented close frame), sent right behind
 * the handshake: the client gets its 101, then a close 1002, then mockd's FIN.
 * Before, mockd tore the connection down at once, and the 101 waiting in its
 * output was lost with it (found by fuzz/fuzz_mockd_ws).
 */
Test(hostile_mockd, an_unreadable_frame_gets_the_101_then_close_1002, .fini = stop)
{
	const char *args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, args);
	for (int api = 0; api < 2; api++) {
		int fd = connect_mockd();
		cr_assert(fd >= 0);
		char req[600];
		int n = snprintf(req, sizeof(req),
				 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
				 api ? "/chat/ws?token=th-dev-token" : "/ws/chat?token=dw-dev-key");
		static const char bad[] = "\x08\x81\0\0\0\0\"";  /* a close frame without FIN, masked, 1 byte */
		memcpy(req + n, bad, sizeof(bad) - 1);
		cr_assert(send_all(fd, req, (size_t)n + sizeof(bad) - 1));
		unsigned char in[8192];
		size_t got = 0;
		double end = now_ms() + 5000;
		for (double left; got < sizeof(in) && (left = end - now_ms()) > 0;) {
			struct pollfd p = { fd, POLLIN, 0 };
			if (poll(&p, 1, (int)left + 1) <= 0)
				continue;
			ssize_t r = recv(fd, in + got, sizeof(in) - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(fd);
		cr_assert(got > 12 && memcmp(in, "HTTP/1.1 101", 12) == 0, "no 101 (%zu bytes)", got);
		cr_expect(got >= 4 && memcmp(in + got - 4, "\x88\x02\x03\xea", 4) == 0,
			  "the last frame is not a close 1002 (%zu bytes)", got);
	}
	expect_served("after the unreadable frames");
}

/*
 * Up to 250,000 pings of 125 bytes (each answered by a pong of 127) from a client that
 * never reads: mockd queues the pongs until the client is 16 MiB behind, then
 * closes it. Before the cap, 2,000,000 empty pings took its RSS from 20 MB to 430 MB.
 */
Test(hostile_mockd, websocket_client_that_never_reads_is_closed, .fini = stop, .timeout = 60)
{
	const char *args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, args);
	long rss0 = proc_rss_kb(mockd.pid), peak = rss0;
	int fd = connect_mockd();
	cr_assert(fd >= 0);
	int small = 4096; /* no autotuned receive buffer to hide the backlog in */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	cr_assert(ws_open(fd, "/ws/chat?token=dw-dev-key"), "no WebSocket handshake");

	/* A masked ping with 125 bytes of payload, sent 64 at a time. */
	unsigned char frame[2 + 4 + 125], batch[64 * sizeof(frame)];
	frame[0] = 0x89;
	frame[1] = 0x80 | 125;
	memcpy(frame + 2, "\x11\x22\x33\x44", 4);
	for (int i = 0; i < 125; i++)
		frame[6 + i] = (unsigned char)('p' ^ frame[2 + i % 4]);
	for (size_t i = 0; i < 64; i++)
		memcpy(batch + i * sizeof(frame), frame, sizeof(frame));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	int sent = 0;
	bool refused = false, served_midway = false;
	double end = now_ms() + 20000;
	size_t off = 0;
	while (sent < 250000 && now_ms() < end) {
		ssize_t w = send(fd, batch + off, sizeof(batch) - off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { fd, POLLOUT, 0 };
			poll(&p, 1, 50);
			long kb = proc_rss_kb(mockd.pid);
			peak = kb > peak ? kb : peak;
			continue;
		}
		if (w <= 0) {
			refused = true; /* mockd dropped us */
			break;
		}
		off += (size_t)w;
		if (off == sizeof(batch)) {
			off = 0;
			sent += 64;
			if (sent % 8192 == 0) {
				long kb = proc_rss_kb(mockd.pid);
				peak = kb > peak ? kb : peak;
			}
			if (sent == 50048) {
				expect_served("during the ping flood");
				served_midway = true;
			}
		}
	}
	/* Once mockd stops reading, the pings that are left stay in the kernel: mockd closes within its 3 s. */
	bool closed = refused || closed_within(fd, 8000);
	long kb = proc_rss_kb(mockd.pid);
	peak = kb > peak ? kb : peak;
	close(fd);
	cr_log_info("websocket flood: %d pings, RSS %ld KiB before, peak %ld KiB", sent, rss0, peak);
	cr_expect(closed, "mockd kept a client more than 16 MiB behind (%d pings sent)", sent);
	cr_expect(lt(long, peak - rss0, rss_allowance_kb(80 * 1024)), "mockd grew by %ld KiB", peak - rss0);
	cr_expect(served_midway || sent < 50048, "the flood ended before the midway request");
	expect_served("after the ping flood");
}

/* ---- slowloris ------------------------------------------------------------------------------ */

/* Let this test process open n sockets (the soft limit up to the hard one). */
static void allow_files(rlim_t n)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < n)
		rl.rlim_cur = n < rl.rlim_max ? n : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* n connections to mockd (fewer when the system refuses), non-blocking; their count. */
static int open_many(int *fds, int n)
{
	int got = 0;
	for (; got < n; got++) {
		if ((fds[got] = connect_mockd()) < 0)
			break;
		fcntl(fds[got], F_SETFL, fcntl(fds[got], F_GETFL) | O_NONBLOCK);
	}
	return got;
}

/* Send every open connection the next byte of a request head that never ends; how many took it. */
static int dribble(int *fds, int n, int round)
{
	static const char head[] = "GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa";
	int open = 0;
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		char c = head[(size_t)round % (sizeof(head) - 1)];
		if (send(fds[i], &c, 1, MSG_NOSIGNAL) == 1 && !closed_within(fds[i], 0)) {
			open++;
		} else {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	return open;
}

/*
 * 1,000 connections sending a header byte every 500 ms: evhttp's timeout is
 * reset by each byte, so before the deadline they stayed open past the 60 s
 * idle timeout. With --header-timeout 2 they are closed within 2.25 s of accept,
 * while a normal client is served throughout.
 */
Test(hostile_mockd, slowloris_heads_are_closed_at_the_deadline, .fini = stop, .timeout = 60)
{
	enum { N = 1000 };
	const char *args[] = { "--time-scale", "0", "--header-timeout", "2", NULL };
	allow_files(N + 64);
	mockd_start(&mockd, args);
	long rss0 = proc_rss_kb(mockd.pid), peak = rss0;
	static int fds[N];
	int n = open_many(fds, N);
	cr_assert(gt(int, n, 200), "only %d connections could be opened", n);
	double t0 = now_ms();
	int open = n, round = 0;
	while (open > 0 && now_ms() - t0 < 6000) {
		open = dribble(fds, n, round++);
		long kb = proc_rss_kb(mockd.pid);
		peak = kb > peak ? kb : peak;
		expect_served("during the slowloris attack");
		usleep(500 * 1000);
	}
	double took = now_ms() - t0;
	cr_log_info("slowloris: %d connections closed after %.0f ms, RSS %ld KiB before, peak %ld KiB", n, took,
		    rss0, peak);
	cr_expect(eq(int, open, 0), "%d of %d slow heads still open after %.0f ms", open, n, took);
	cr_expect(lt(long, peak - rss0, rss_allowance_kb(64 * 1024)), "mockd grew by %ld KiB", peak - rss0);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- the descriptor limit ------------------------------------------------------------------- */

/*
 * mockd with 256 descriptors, 500 connections that never finish a head: before,
 * accept() failed with EMFILE in a loop (92-100% CPU, 11-13 MB/s of the same
 * warning) and nobody else was served. Now it pauses accepting, sheds the
 * slowest heads, and serves a normal client within 1 s; its stderr stays short.
 */
Test(hostile_mockd, accept_at_the_descriptor_limit_does_not_spin, .fini = stop, .timeout = 60)
{
	enum { N = 500 };
	const char *args[] = { "--time-scale", "0", "--header-timeout", "30", NULL };
	allow_files(N + 64);
	workdir_make("hostile-emfile");
	/* mockd inherits a limit of 256 and our stderr, sent to a file to be counted. */
	struct rlimit mine, low;
	getrlimit(RLIMIT_NOFILE, &mine);
	low = mine;
	low.rlim_cur = 256;
	int saved_err = dup(2), log_fd = open(workdir_path("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(saved_err >= 0 && log_fd >= 0);
	dup2(log_fd, 2);
	setrlimit(RLIMIT_NOFILE, &low);
	mockd_start(&mockd, args);
	setrlimit(RLIMIT_NOFILE, &mine);
	dup2(saved_err, 2);
	close(saved_err);
	close(log_fd);

	long rss0 = proc_rss_kb(mockd.pid), peak = rss0;
	static int fds[N];
	int n = open_many(fds, N); /* the kernel completes them all: mockd's backlog is 4096 */
	cr_assert(eq(int, n, N));
	for (int round = 0; round < 6; round++) {
		dribble(fds, n, round);
		long kb = proc_rss_kb(mockd.pid);
		peak = kb > peak ? kb : peak;
		expect_served("at the descriptor limit");
		usleep(300 * 1000);
	}
	mockd_stop(&mockd);
	char *log = slurp_file(workdir_path("stderr"), 1 << 20);
	int lines = 0;
	for (const char *p = log; (p = strchr(p, '\n')); p++)
		lines++;
	cr_log_info("descriptor limit: RSS %ld KiB before, peak %ld KiB; stderr %d lines:\n%s", rss0, peak, lines,
		    log);
	cr_expect(lt(int, lines, 100), "mockd wrote %d lines to stderr", lines);
	cr_expect(strstr(log, "cannot accept") != NULL, "the limit was never reached:\n%s", log);
	cr_expect(lt(long, peak - rss0, rss_allowance_kb(64 * 1024)), "mockd grew by %ld KiB", peak - rss0);
	free(log);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	workdir_remove();
}
