/*
 * mockd's memory budgets under attack (docs/mockd.md, Limits): a keyless
 * client that fills the conversation store with large botchat messages, one
 * that fills the journal with large bodies to paths that 404, and one that
 * stops reading a large scripted stream. Each test sets a budget on the
 * command line and asserts that mockd's resident memory (VmRSS) stays under
 * that budget plus the baseline it started with plus a named slack, and that a
 * normal client is served during and after the attack.
 *
 * Raw sockets, one request a connection: the attacker is a plain client, and
 * nothing of libcurl's buffering stands between the test and mockd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/timeutil.h"
#include "harness.h"

#define MIB (1024L * 1024)
#define WIDGET_KEY "widget-dev-key-0123456789abcdef"

/*
 * What mockd may hold beyond a budget: a request in flight (a 1.9 MB body is
 * in libevent's buffer, copied once and parsed once), malloc's free lists and
 * fragmentation, the journal's touched pages. Measured: 400 x 1.9 MB with
 * --max-store-bytes 32M ended at 46 MB from a 4 MB start (14 MB over).
 */
#define SLACK (24 * MIB)

static struct mockd_proc mockd;

static void stop(void)
{
	if (mockd.pid > 0)
		mockd_stop(&mockd);
	mockd.pid = 0;
	workdir_remove();
}

TestSuite(budget, .fini = stop, .timeout = 120);

/* mockd's resident memory in bytes. */
static long rss_bytes(void)
{
	long kb = proc_rss_kb(mockd.pid);
	cr_assert(gt(long, kb, 0), "no VmRSS for mockd (pid %d)", (int)mockd.pid);
	return kb * 1024;
}

static int connect_mockd(int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(ge(int, fd, 0));
	/* Before connect: the window the client offers is fixed by then. */
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)mockd.port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a, sizeof(a)), 0), "connect: %s", strerror(errno));
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		cr_assert(gt(long, (long)k, 0), "send: %s", strerror(errno));
		p += k;
		n -= (size_t)k;
	}
}

/* Send a request with Connection: close; extra is more header lines ("Name: value\r\n"), or "". */
static void send_request(int fd, const char *method, const char *path, const char *extra, const char *body,
			 size_t len)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			 method, path, extra, len);
	send_all(fd, head, (size_t)n);
	if (len)
		send_all(fd, body, len);
}

/* Read until the peer closes (10 s at most) into out. */
static void read_to_end(int fd, struct buf *out)
{
	char chunk[65536];
	int64_t deadline = mono_ms() + 10000;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(deadline - mono_ms());
		cr_assert(gt(int, left, 0), "mockd did not finish the answer in 10 s");
		if (poll(&p, 1, left) <= 0)
			continue;
		ssize_t k = recv(fd, chunk, sizeof(chunk), 0);
		if (k <= 0)
			return;
		cr_assert(eq(int, buf_add(out, chunk, (size_t)k), BUF_OK));
	}
}

/* One request on its own connection; the status, and the body in body (may be NULL). */
static int call(const char *method, const char *path, const char *extra, const char *req, size_t len,
		struct buf *body)
{
	int fd = connect_mockd(0);
	send_request(fd, method, path, extra, req, len);
	struct buf in;
	buf_init(&in, 64 * MIB);
	read_to_end(fd, &in);
	close(fd);
	int status = 0;
	sscanf(buf_str(&in), "HTTP/1.1 %d", &status);
	const char *start = strstr(buf_str(&in), "\r\n\r\n");
	if (body && start)
		buf_add(body, start + 4, in.len - (size_t)(start + 4 - buf_str(&in)));
	buf_release(&in);
	return status;
}

/* GET path as JSON (200 asserted); the caller frees it. */
static cJSON *get_json(const char *path)
{
	struct buf body;
	buf_init(&body, 64 * MIB);
	cr_assert(eq(int, call("GET", path, "", NULL, 0, &body), 200), "GET %s", path);
	cJSON *o = cJSON_Parse(buf_str(&body));
	cr_assert(o != NULL, "GET %s is not JSON: %.200s", path, buf_str(&body));
	buf_release(&body);
	return o;
}

static double number_at(const cJSON *o, const char *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj ? cJSON_GetObjectItemCaseSensitive(o, obj) : o, name);
	cr_assert(cJSON_IsNumber(v), "no number %s.%s", obj ? obj : "", name);
	return v->valuedouble;
}

/* A botchat user with a short message gets its answer. */
static void normal_botchat_client(void)
{
	static const char req[] = "{\"message\":\"hello\",\"userId\":\"normal\"}";
	struct buf body;
	buf_init(&body, MIB);
	cr_assert(eq(int, call("POST", "/api/chat", "", req, strlen(req), &body), 200));
	cr_assert(not(eq(ptr, strstr(buf_str(&body), "\"success\":true"), NULL)), "%s", buf_str(&body));
	buf_release(&body);
}

Test(budget, botchat_messages_stay_within_max_store_bytes)
{
	const long cap = 32 * MIB;
	const char *args[] = { "--time-scale", "0", "--max-store-bytes", "32M", NULL };
	mockd_start(&mockd, args);
	normal_botchat_client();
	long base = rss_bytes(), peak = base;
	/* 400 messages of 1.9 MB from 400 userIds: 760 MB if all were kept, and no rate limit applies. */
	const size_t text = 1900000;
	char *req = malloc(text + 100);
	cr_assert(req != NULL);
	for (int i = 0; i < 400; i++) {
		int n = snprintf(req, 100, "{\"userId\":\"attacker-%d\",\"message\":\"", i);
		memset(req + n, 'a' + i % 26, text);
		memcpy(req + n + text, "\"}", 3);
		cr_assert(eq(int, call("POST", "/api/chat", "", req, (size_t)n + text + 2, NULL), 200));
		long now = rss_bytes();
		if (now > peak)
			peak = now;
		cr_assert(lt(long, now - base, rss_allowance_kb((cap + SLACK) / 1024) * 1024),
			  "RSS %ld MB after %d messages (start %ld MB)",
			  now / MIB, i + 1, base / MIB);
		if (i % 100 == 50)
			normal_botchat_client();
	}
	free(req);
	normal_botchat_client();
	cJSON *h = get_json("/__admin/health");
	cr_assert(le(dbl, number_at(h, "store", "bytes"), number_at(h, "store", "max_bytes")));
	cr_assert(eq(dbl, number_at(h, "store", "max_bytes"), (double)cap));
	cr_assert(lt(dbl, number_at(h, "store", "conversations"), 20.0), "32 MiB holds 16 messages of 1.9 MB");
	cJSON_Delete(h);
	cr_log_info("botchat: RSS %ld MB at start, %ld MB at most, %ld MB at the end (cap 32 MiB)",
		    base / MIB, peak / MIB, rss_bytes() / MIB);
}

Test(budget, journal_of_large_404_bodies_is_bounded_and_reads_in_pages)
{
	const char *args[] = { "--journal", "1000", NULL };
	mockd_start(&mockd, args);
	long base = rss_bytes(), peak = base;
	cJSON *h = get_json("/__admin/health");
	long journal_max = (long)number_at(h, "journal", "max_bytes");
	cJSON_Delete(h);
	/* 1,000 bodies of 16 KiB to paths nobody owns, without a key: each 404 is journaled. */
	char body[16384];
	memset(body, 'j', sizeof(body));
	for (int i = 0; i < 1000; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/nowhere/%d", i);
		cr_assert(eq(int, call("POST", path, "", body, sizeof(body), NULL), 404));
		if (i % 100 == 0) {
			long now = rss_bytes();
			peak = now > peak ? now : peak;
			cr_assert(lt(long, now - base, rss_allowance_kb((journal_max + SLACK) / 1024) * 1024), "RSS %ld MB",
				  now / MIB);
		}
	}
	/* A normal widget client is served. */
	static const char ok[] = "{\"sessionId\":\"normal\",\"message\":\"hi\"}";
	cr_assert(eq(int, call("POST", "/v1/chat/stream", "x-api-key: " WIDGET_KEY "\r\n", ok, strlen(ok), NULL), 200));
	h = get_json("/__admin/health");
	cr_assert(eq(dbl, number_at(h, "journal", "entries"), 1000.0));
	cr_assert(le(dbl, number_at(h, "journal", "bytes"), (double)journal_max));
	double last = number_at(h, "journal", "last_seq");
	cJSON_Delete(h);
	/* Paging forward from 0 reads every entry once, 100 a page by default; the widget request was the
	 * 1,001st, so the first 404 fell out of the ring (seq 1: "missed" says so). */
	long seq = 0, seen = 0, pages = 0, want = 2;
	for (;;) {
		char path[96];
		snprintf(path, sizeof(path), "/__admin/journal?since=%ld", seq);
		cJSON *page = get_json(path);
		if (seq == 0)
			cr_assert(eq(dbl, number_at(page, NULL, "missed"), 1.0));
		const cJSON *entries = cJSON_GetObjectItemCaseSensitive(page, "entries"), *e;
		cr_assert(le(int, cJSON_GetArraySize(entries), 100));
		cJSON_ArrayForEach(e, entries) {
			cr_assert(eq(dbl, number_at(e, NULL, "seq"), (double)want++));
			if (strncmp(json_get_string(e, "path"), "/nowhere/", 9) == 0) {
				cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "truncated")), "4 KiB of 16 kept");
				cr_assert(eq(dbl, number_at(e, NULL, "body_bytes"), 16384.0));
			}
			seen++;
		}
		seq = (long)number_at(page, NULL, "next");
		bool more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page, "more"));
		cJSON_Delete(page);
		pages++;
		if (!more)
			break;
	}
	cr_assert(eq(long, seen, 1000));
	cr_assert(eq(long, seq, (long)last));
	cr_assert(ge(long, pages, 10));
	cJSON *page = get_json("/__admin/journal?limit=5");
	cr_assert(eq(int, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "entries")), 5));
	cJSON_Delete(page);
	cr_assert(eq(int, call("GET", "/__admin/journal?since=x", "", NULL, 0, NULL), 400));
	cr_log_info("journal: RSS %ld MB at start, %ld MB at most (journal max %ld MB)", base / MIB, peak / MIB,
		    journal_max / MIB);
}

Test(budget, a_reader_that_stops_holds_only_the_high_water)
{
	/* One rule of 400,000 short tokens (1.2 MB of text, 14 MB of NDJSON as widget sends it). */
	workdir_make("cc-budget");
	const char *rules = workdir_path("flood.json");
	FILE *f = fopen(rules, "w");
	cr_assert(f != NULL);
	fputs("{\"id\":\"flood\",\"api\":\"widget\",\"match\":{\"message\":\"flood\"},\"reply\":{\"text\":\"", f);
	for (int i = 0; i < 400000; i++)
		fputs(" ab", f);
	fputs("\"}}\n", f);
	fclose(f);
	const char *args[] = { "--time-scale", "0", "--scripts", rules, NULL };
	mockd_start(&mockd, args);
	static const char ok[] = "{\"sessionId\":\"normal\",\"message\":\"hi\"}";
	const char *key = "x-api-key: " WIDGET_KEY "\r\n";
	cr_assert(eq(int, call("POST", "/v1/chat/stream", key, ok, strlen(ok), NULL), 200));
	long base = rss_bytes();

	int fd = connect_mockd(4096);
	static const char flood[] = "{\"sessionId\":\"slow\",\"message\":\"flood\"}";
	send_request(fd, "POST", "/v1/chat/stream", key, flood, strlen(flood));
	usleep(2000 * 1000);  /* reads nothing for 2 s */
	long held = rss_bytes();
	cJSON *h = get_json("/__admin/health");
	double queued = number_at(h, "replies", "queued_bytes");
	cr_assert(eq(dbl, number_at(h, "replies", "open"), 1.0), "the reply waits for its reader");
	cJSON_Delete(h);
	/* The engine stops at 256 KiB waiting (the kernel holds the rest of what went out); unpaused, the 14 MB
	 * of NDJSON would all wait in mockd, past both bounds. */
	cr_assert(le(dbl, queued, 512.0 * 1024), "%.0f bytes queued", queued);
	cr_assert(lt(long, held - base, rss_allowance_kb(8 * 1024) * 1024),
		  "RSS %ld MB while the reader waits (from %ld MB)", held / MIB, base / MIB);
	/* A normal client is served meanwhile. */
	cr_assert(eq(int, call("POST", "/v1/chat/stream", key, ok, strlen(ok), NULL), 200));

	struct buf in;
	buf_init(&in, 64 * MIB);
	read_to_end(fd, &in);
	close(fd);
	cr_assert(not(eq(ptr, strstr(buf_str(&in), "\"type\":\"done\""), NULL)), "the stream ends with done");
	cr_assert(gt(sz, in.len, (size_t)400000 * 20), "every token arrived (%zu bytes)", in.len);
	buf_release(&in);
	cr_log_info("slow reader: RSS %ld MB at start, %ld MB while it waited, %.0f bytes queued", base / MIB,
		    held / MIB, queued);
}

Test(budget, a_paced_stream_that_waits_for_its_reader_slips_and_says_so)
{
	/* 300,000 short tokens (10 MB of NDJSON, more than the kernel takes unread), all due 100 ms in. */
	workdir_make("cc-budget");
	const char *rules = workdir_path("paced.json");
	FILE *f = fopen(rules, "w");
	cr_assert(f != NULL);
	fputs("{\"id\":\"paced\",\"api\":\"widget\",\"match\":{\"message\":\"paced\"},"
	      "\"timing\":{\"first_token_ms\":100,\"interval_ms\":0},\"reply\":{\"text\":\"",
	      f);
	for (int i = 0; i < 300000; i++)
		fputs(" ab", f);
	fputs("\"}}\n", f);
	fclose(f);
	const char *args[] = { "--time-scale", "1", "--scripts", rules, NULL };
	mockd_start_logged(&mockd, args, workdir_path("mockd.err"));
	const char *key = "x-api-key: " WIDGET_KEY "\r\n";

	int fd = connect_mockd(4096);
	static const char paced[] = "{\"sessionId\":\"slow\",\"message\":\"paced\"}";
	send_request(fd, "POST", "/v1/chat/stream", key, paced, strlen(paced));
	usleep(2500 * 1000);  /* reads nothing for 2.5 s: the schedule would have ended at 0.1 s */
	struct buf in;
	buf_init(&in, 64 * MIB);
	read_to_end(fd, &in);
	close(fd);
	cr_assert(not(eq(ptr, strstr(buf_str(&in), "\"type\":\"done\""), NULL)), "the stream ends with done");
	buf_release(&in);
	cr_assert(eq(int, mockd_stop(&mockd), 0));

	/* The stream's access-log line says how far its schedule slipped and how often it waited. */
	char *log = slurp_file(workdir_path("mockd.err"), 1u << 20);
	cr_assert(log != NULL);
	const char *line = strstr(log, "rule=paced");
	cr_assert(line != NULL, "no access-log line for the stream:\n%s", log);
	const char *slip = strstr(line, " slipped=");
	cr_assert(slip != NULL, "the line does not say the schedule slipped:\n%s", log);
	double ms = strtod(slip + strlen(" slipped="), NULL);
	const char *pauses = strstr(slip, " pauses=");
	cr_assert(pauses != NULL);
	long n = strtol(pauses + strlen(" pauses="), NULL, 10);
	cr_assert(ge(long, n, 1L));
	/* Paused at about 4 MB of 10, soon after 0.1 s, until read at 2.5 s. */
	cr_assert(gt(dbl, ms, 500.0), "slipped only %.1f ms:\n%s", ms, line);
	cr_assert(not(eq(ptr, strstr(line, "end=complete"), NULL)));
	cr_log_info("paced slow reader: slipped %.0f ms over %ld pauses", ms, n);
	free(log);
}
