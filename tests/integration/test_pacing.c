/*
 * Pacing: a scripted reply's tokens arrive on their schedule, on every streaming
 * path, and the held-stream breaks deliver them in one burst at the end.
 *
 * A plain-socket client (HTTP/1.1 and a minimal WebSocket) times every token
 * against its deadline: the moment the request or message was written +
 * first_token + k x interval.  The bounds are generous (25 ms late, on a loaded
 * 2-core CI machine) because this checks the schedule, not performance:
 * the old "interval from now" pacing could not drift past them in 10 tokens,
 * but a reply that ignored its timing, or sent everything at once, cannot pass.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"

#define NTOKENS     10
#define FIRST_MS    30
#define INTERVAL_MS 30
#define LATE_MS     25.0   /* generous: a loaded CI machine, not a benchmark */
#define BURST_MS    10.0   /* a held reply's tokens arrive within this of each other */
#define SLOW_FIRST_MS 3000  /* a first token this late leaves time to see what comes before it */

static struct mockd_proc mockd;

/* The rule every test sends "pace test" to; scaled says whether --time-scale applies. */
static void add_rule(bool scaled, int first_ms)
{
	char rule[512], u[128];
	snprintf(rule, sizeof(rule),
		 "{\"id\":\"pace\",\"match\":{\"message\":\"pace test\"},"
		 "\"reply\":{\"tokens\":[\"a0\",\" a1\",\" a2\",\" a3\",\" a4\",\" a5\",\" a6\",\" a7\",\" a8\",\" a9\"]},"
		 "\"timing\":{\"first_token_ms\":%d,\"interval_ms\":%d,\"scaled\":%s}}",
		 first_ms, INTERVAL_MS, scaled ? "true" : "false");
	snprintf(u, sizeof(u), "%s/__admin/scripts", mockd.base);
	struct http_result r;
	http_call("POST", u, NULL, rule, strlen(rule), &r);
	cr_assert(eq(long, r.status, 201), "the rule was refused: %s", r.body.data ? r.body.data : "");
	http_result_release(&r);
}

static void start_with(const char *scale, bool scaled, bool held, int first_ms)
{
	const char *args[16] = { "--time-scale", scale };
	int n = 2;
	if (held) {
		static const char *const breaks[] = { "widget-held-stream", "deepwiki-held-stream",
						      "botchat-held-stream", "deepwiki-ws-held-reply",
						      "threads-held-reply" };
		for (size_t i = 0; i < sizeof(breaks) / sizeof(*breaks); i++) {
			args[n++] = "--break";
			args[n++] = breaks[i];
		}
	}
	args[n] = NULL;
	mockd_start(&mockd, args);
	add_rule(scaled, first_ms);
}

static void stop(void)
{
	if (mockd.pid > 0)
		cr_expect(eq(int, mockd_stop(&mockd), 0), "mockd stops cleanly (under ASan: no leak, no error)");
}

/* ---- a client that times tokens ------------------------------------------------------------ */

struct arrivals {
	double sent_ms;           /* when the request or message was written */
	double at_ms[NTOKENS];    /* when each token arrived */
	int n;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)mockd.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s", strerror(errno));
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	cr_assert(write(fd, p, n) == (ssize_t)n, "short write");
}

/* Read at most size bytes within 5 s; the number read (0 at the end of the connection). */
static size_t read_some(int fd, unsigned char *p, size_t size)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	cr_assert(poll(&pfd, 1, 5000) == 1, "nothing arrived within 5 s");
	ssize_t n = read(fd, p, size);
	cr_assert(n >= 0, "read: %s", strerror(errno));
	return (size_t)n;
}

/* POST body to path on a connection of its own; the socket, and when the request was written in *sent_ms. */
static int http_post(const char *path, const char *header, const char *body, double *sent_ms)
{
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%sContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 path, header, *header ? "\r\n" : "", strlen(body), body);
	int fd = dial();
	*sent_ms = now_ms();
	send_all(fd, req, (size_t)n);
	return fd;
}

/* The lines of a response, each with the time the read that completed it returned. */
struct lines {
	unsigned char in[4096];
	size_t got, at;
	char line[512];   /* the last line, without its newline (cut to fit) */
	size_t len;
	double read_ms;
};

/* Read the next line into l->line; false at the end of the connection. */
static bool next_line(int fd, struct lines *l)
{
	for (;;) {
		while (l->at < l->got) {
			unsigned char c = l->in[l->at++];
			if (c == '\n') {
				l->line[l->len] = '\0';
				l->len = 0;
				return true;
			}
			if (l->len < sizeof(l->line) - 1)
				l->line[l->len++] = (char)c;
		}
		l->got = read_some(fd, l->in, sizeof(l->in));
		l->at = 0;
		l->read_ms = now_ms();
		if (!l->got)
			return false;
	}
}

/* POST body to path and time every line holding mark, until NTOKENS of them came. */
static void http_tokens(const char *path, const char *header, const char *body, const char *mark,
			struct arrivals *a)
{
	int fd = http_post(path, header, body, &a->sent_ms);
	static struct lines l;
	memset(&l, 0, sizeof(l));
	a->n = 0;
	while (a->n < NTOKENS) {
		cr_assert(next_line(fd, &l), "the stream ended after %d tokens", a->n);
		if (strstr(l.line, mark))
			a->at_ms[a->n++] = l.read_ms;
	}
	close(fd);
}

/* Open a WebSocket on path (with its query) and check the 101. */
static int ws_open(const char *path)
{
	char req[512];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			 path);
	int fd = dial();
	send_all(fd, req, (size_t)n);
	char head[2048];
	size_t len = 0;
	/* Byte by byte up to the blank line: what follows is frames, which the caller reads. */
	while (len < sizeof(head) - 1 && !(len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)) {
		cr_assert(read_some(fd, (unsigned char *)head + len, 1) == 1, "the handshake was cut");
		len++;
	}
	head[len] = '\0';
	cr_assert(strncmp(head, "HTTP/1.1 101", 12) == 0, "no upgrade: %s", head);
	return fd;
}

/* Send one masked text frame (under 126 bytes, as ours are). */
static void ws_send(int fd, const char *text)
{
	unsigned char f[256];
	size_t n = strlen(text);
	cr_assert(n < 126);
	static const unsigned char mask[4] = { 1, 2, 3, 4 };
	f[0] = 0x81;
	f[1] = (unsigned char)(0x80 | n);
	memcpy(f + 2, mask, 4);
	for (size_t i = 0; i < n; i++)
		f[6 + i] = (unsigned char)text[i] ^ mask[i % 4];
	send_all(fd, f, 6 + n);
}

/* Send message on the WebSocket and time every text frame holding mark, until NTOKENS of them came. */
static void ws_tokens(int fd, const char *message, const char *mark, struct arrivals *a)
{
	static unsigned char in[1 << 16];
	size_t len = 0;
	a->n = 0;
	a->sent_ms = now_ms();
	ws_send(fd, message);
	while (a->n < NTOKENS) {
		cr_assert(len < sizeof(in), "a frame over 64 KiB");
		size_t got = read_some(fd, in + len, sizeof(in) - len);
		double at = now_ms();
		cr_assert(got > 0, "the connection ended after %d tokens", a->n);
		len += got;
		/* Every complete frame in the buffer (server frames are not masked). */
		for (;;) {
			if (len < 2)
				break;
			size_t hdr = 2, plen = in[1] & 0x7f;
			if (plen == 126) {
				if (len < 4)
					break;
				plen = (size_t)in[2] << 8 | in[3];
				hdr = 4;
			}
			cr_assert(plen != 127, "a frame of 64 KiB or more");
			if (len < hdr + plen)
				break;
			char text[4096];
			size_t t = plen < sizeof(text) - 1 ? plen : sizeof(text) - 1;
			memcpy(text, in + hdr, t);
			text[t] = '\0';
			if ((in[0] & 0x0f) == 1 && strstr(text, mark) && a->n < NTOKENS)
				a->at_ms[a->n++] = at;
			memmove(in, in + hdr + plen, len - hdr - plen);
			len -= hdr + plen;
		}
	}
}

/* POST body to path; the ms from the request to the line holding mark (the client then leaves). */
static double http_first(const char *path, const char *header, const char *body, const char *mark)
{
	double sent;
	int fd = http_post(path, header, body, &sent);
	static struct lines l;
	memset(&l, 0, sizeof(l));
	while (next_line(fd, &l)) {
		if (strstr(l.line, mark)) {
			close(fd);
			return l.read_ms - sent;
		}
	}
	cr_assert(false, "%s: the stream ended before a line holding %s", path, mark);
	return 0;
}

/* ---- the five paths ------------------------------------------------------------------------- */

enum path { WIDGET, DEEPWIKI, BOTCHAT, DEEPWIKI_WS, THREADS, NPATHS };
static const char *const path_names[] = { "widget /v1/chat/stream", "deepwiki /chat/stream",
					   "botchat /api/chat/stream", "deepwiki /ws/chat", "threads /chat/ws" };

static void collect(enum path p, struct arrivals *a)
{
	int fd;
	switch (p) {
	case WIDGET:
		http_tokens("/v1/chat/stream", "x-api-key: widget-dev-key-0123456789abcdef",
			    "{\"sessionId\":\"pace\",\"message\":\"pace test\"}", "\"type\":\"token\"", a);
		break;
	case DEEPWIKI:
		http_tokens("/chat/stream", "Authorization: Bearer dw-dev-key", "{\"message\":\"pace test\"}",
			    "\"type\":\"content\"", a);
		break;
	case BOTCHAT:
		http_tokens("/api/chat/stream", "", "{\"message\":\"pace test\",\"userId\":\"pace\"}",
			    "\"type\":\"content\"", a);
		break;
	case DEEPWIKI_WS:
		fd = ws_open("/ws/chat?token=dw-dev-key");
		ws_tokens(fd, "{\"type\":\"message\",\"content\":\"pace test\"}", "\"type\":\"content\"", a);
		close(fd);
		break;
	case THREADS:
		fd = ws_open("/chat/ws?key=00000000-0000-4000-8000-000000000001");
		ws_tokens(fd, "{\"type\":\"message\",\"thread_id\":\"00000000-0000-4000-8000-0000000000aa\","
			      "\"content\":\"pace test\"}", "\"role\":\"assistant\"", a);
		close(fd);
		break;
	default:
		cr_assert(false, "no such path");
	}
}

/* Every token on its deadline: not before it (beyond clock noise), at most LATE_MS after. */
static void expect_on_schedule(enum path p)
{
	struct arrivals a;
	collect(p, &a);
	for (int k = 0; k < NTOKENS; k++) {
		double late = a.at_ms[k] - (a.sent_ms + FIRST_MS + k * INTERVAL_MS);
		cr_expect(late >= -1.0 && late <= LATE_MS, "%s: token %d arrived %.1f ms %s its deadline",
			  path_names[p], k, late < 0 ? -late : late, late < 0 ? "before" : "after");
	}
}

/* All tokens together, and not before the last one's time. */
static void expect_burst(enum path p)
{
	struct arrivals a;
	collect(p, &a);
	double last_due = a.sent_ms + FIRST_MS + (NTOKENS - 1) * INTERVAL_MS;
	cr_expect(a.at_ms[NTOKENS - 1] - a.at_ms[0] <= BURST_MS,
		  "%s: held tokens arrived over %.1f ms, not in one burst", path_names[p],
		  a.at_ms[NTOKENS - 1] - a.at_ms[0]);
	cr_expect(a.at_ms[0] >= last_due - 1.0, "%s: the held reply came %.1f ms before the last token's time",
		  path_names[p], last_due - a.at_ms[0]);
}

/* ---- the tests ------------------------------------------------------------------------------ */

static void start_real_time(void) { start_with("1", true, false, FIRST_MS); }
static void start_unscaled(void) { start_with("0", false, false, FIRST_MS); }
static void start_held(void) { start_with("0", false, true, FIRST_MS); }
static void start_slow_first(void) { start_with("0", false, false, SLOW_FIRST_MS); }

Test(pacing, widget_tokens_meet_their_deadlines_at_time_scale_1, .init = start_real_time, .fini = stop,
     .timeout = 30)
{
	expect_on_schedule(WIDGET);
	/* A second stream on the same mockd: the schedule starts from its own request. */
	expect_on_schedule(WIDGET);
}

Test(pacing, unscaled_rules_pace_every_path_in_real_time_at_scale_0, .init = start_unscaled, .fini = stop,
     .timeout = 30)
{
	for (enum path p = 0; p < NPATHS; p++)
		expect_on_schedule(p);
}

Test(pacing, held_stream_breaks_deliver_every_path_in_one_burst, .init = start_held, .fini = stop,
     .timeout = 30)
{
	for (enum path p = 0; p < NPATHS; p++)
		expect_burst(p);
}

/*
 * The head and the start event are the answer to the request: they leave when it is answered, not
 * with the first token. Half the first token's delay is a bound no loaded machine comes near; a
 * stream that holds them back for the token (as mockd did) arrives after the whole delay.
 */
Test(pacing, head_and_start_event_leave_before_the_first_token, .init = start_slow_first, .fini = stop,
     .timeout = 60)
{
	static const struct {
		const char *path, *header, *body;
	} paths[] = {
		{ "/v1/chat/stream", "x-api-key: widget-dev-key-0123456789abcdef",
		  "{\"sessionId\":\"pace\",\"message\":\"pace test\"}" },
		{ "/chat/stream", "Authorization: Bearer dw-dev-key", "{\"message\":\"pace test\"}" },
		{ "/api/chat/stream", "", "{\"message\":\"pace test\",\"userId\":\"pace\"}" },
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		double head = http_first(paths[i].path, paths[i].header, paths[i].body, "HTTP/1.1 200");
		double start = http_first(paths[i].path, paths[i].header, paths[i].body, "\"type\":\"start\"");
		cr_expect(head < SLOW_FIRST_MS / 2, "%s: the head came %.0f ms after the request", paths[i].path, head);
		cr_expect(start < SLOW_FIRST_MS / 2, "%s: the start event came %.0f ms after the request (the first "
			  "token is due after %d ms)", paths[i].path, start, SLOW_FIRST_MS);
	}
}
