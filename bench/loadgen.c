/*
 * loadgen: a small HTTP/1.1 load generator for bench/run.sh.
 *
 * It opens N keep-alive connections to 127.0.0.1:PORT and sends the same
 * request on each, one at a time (no pipelining), until a duration or a
 * request count is reached, then prints one JSON object: requests, errors,
 * seconds, requests_per_second, p50/p99/max latency in milliseconds.
 *
 * Only loopback is ever contacted, and everything is bounded: connections,
 * duration, requests, and the size of a response (headers, chunk sizes and
 * body), so a broken server costs an error, never unbounded memory or time.
 *
 * Responses are parsed, not just counted: Content-Length, chunked (with
 * extensions and trailers) and close-delimited bodies, "Connection: close",
 * 1xx interim responses, and bodyless statuses (204, 304, HEAD).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "bench/bench.h"

#define MAX_CONNECTIONS   256
#define MAX_DURATION_S    60.0
#define MAX_REQUESTS      10000000L
#define MAX_HEADERS       64                   /* request headers given with -H */
#define MAX_RESPONSE      (64L * 1024 * 1024)  /* the largest --max-response */
#define MAX_LINE          (16 * 1024)          /* a status, header, chunk-size or trailer line */
#define MAX_HEAD_BYTES    (64 * 1024)          /* the whole header section of a response */
#define MAX_SAMPLES       (1u << 21)           /* latencies kept; past it, a uniform reservoir */
#define REQUEST_TIMEOUT_S 10                   /* no byte for this long: the request failed */
#define RECONNECT_MS      10                   /* pause after an error, so a dead server is not spun on */

static const char usage_text[] =
	"usage: loadgen [options] PORT\n"
	"\n"
	"Send one HTTP/1.1 request repeatedly to 127.0.0.1:PORT over keep-alive connections and\n"
	"print {requests, errors, seconds, requests_per_second, p50_ms, p99_ms, max_ms, ...} as JSON.\n"
	"\n"
	"options:\n"
	"  -c, --connections N     concurrent connections (1-256, default 4)\n"
	"  -d, --duration S        stop after S seconds (0.1-60, default 3)\n"
	"  -n, --requests N        stop after N complete responses (default: no count, only the duration)\n"
	"  -X, --method M          request method (default GET)\n"
	"  -p, --path P            request target (default /)\n"
	"  -H, --header 'K: V'     a request header (repeatable, up to 64)\n"
	"  -b, --body TEXT         the request body (Content-Length is added)\n"
	"  -s, --status N          count a response with another status as an error\n"
	"  -m, --max-response B    largest response accepted, in bytes (default 1048576, at most 64 MiB)\n"
	"  -o, --save-body FILE    write the body of the first response on the first connection to FILE\n"
	"  -h, --help              print this help and exit\n";

/* ---- options and results ------------------------------------------------------------------- */

struct options {
	int port;
	int connections;
	double duration_s;
	long requests;           /* 0: no limit but the duration */
	const char *method;
	const char *path;
	const char *headers[MAX_HEADERS];
	int nheaders;
	const char *body;
	int expect_status;       /* 0: any status is a success */
	long max_response;
	const char *save_body;
};

struct stats {
	long completed;          /* responses read whole (whatever their status) */
	long ok;                 /* ... that were not errors */
	long errors;             /* connect, read, parse, size, timeout, unexpected status */
	long connects;
	long status_counts[6];   /* by first digit: [1] 1xx ... [5] 5xx, [0] other */
	uint32_t *samples;       /* latency in microseconds */
	size_t nsamples;
	uint64_t seen;           /* samples offered to the reservoir */
	uint64_t rng;
	uint32_t max_us;
	char first_error[160];
};

/* ---- one connection ------------------------------------------------------------------------ */

enum parse_state {
	P_STATUS,        /* the status line */
	P_HEADERS,       /* header lines up to the blank one */
	P_BODY_LENGTH,   /* Content-Length bytes */
	P_BODY_EOF,      /* no length: the body ends when the server closes */
	P_CHUNK_SIZE,
	P_CHUNK_DATA,
	P_CHUNK_CRLF,    /* the CRLF after a chunk's data */
	P_TRAILERS,
};

/* What a step of the parser found. */
enum parse_result {
	PR_MORE,         /* need more bytes */
	PR_DONE,         /* one whole response read */
	PR_ERROR,        /* the response is broken; the connection must go */
};

struct conn {
	struct loadgen *lg;
	struct bufferevent *bev;
	struct event *retry;     /* the pause before reconnecting */
	bool busy;               /* a request is out */
	int64_t sent_us;
	enum parse_state state;
	int status;
	long content_length;     /* -1: none */
	bool chunked;
	bool close_after;        /* "Connection: close" or HTTP/1.0 without keep-alive */
	bool no_body;            /* HEAD, 1xx, 204, 304 */
	long remaining;          /* body or chunk bytes still to read */
	long response_bytes;     /* of the response being read, headers included */
	long head_bytes;
	int nheader_lines;
};

struct loadgen {
	struct options opt;
	struct event_base *base;
	struct event *deadline;
	struct sockaddr_in addr;
	char *request;           /* the whole request, formatted once */
	size_t request_len;
	struct conn *conns;
	long started;            /* requests sent */
	bool stopping;
	int64_t start_us;
	int64_t end_us;
	struct stats st;
	FILE *save;              /* --save-body, until the first complete response */
	bool saved;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void conn_open(struct conn *c);
static void conn_send(struct conn *c);

static void note_error(struct loadgen *lg, const char *what)
{
	lg->st.errors++;
	if (!lg->st.first_error[0])
		snprintf(lg->st.first_error, sizeof(lg->st.first_error), "%s", what);
}

static void stop(struct loadgen *lg)
{
	if (lg->stopping)
		return;
	lg->stopping = true;
	lg->end_us = now_us();
	event_base_loopbreak(lg->base);
}

/* Keep a latency: all of them up to MAX_SAMPLES, then a uniform sample (Vitter's algorithm R). */
static void record_latency(struct stats *st, uint32_t us)
{
	if (us > st->max_us)
		st->max_us = us;
	st->seen++;
	if (st->nsamples < MAX_SAMPLES) {
		st->samples[st->nsamples++] = us;
		return;
	}
	st->rng = st->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	uint64_t j = (st->rng >> 11) % st->seen;
	if (j < MAX_SAMPLES)
		st->samples[j] = us;
}

static void conn_reset_parser(struct conn *c)
{
	c->state = P_STATUS;
	c->status = 0;
	c->content_length = -1;
	c->chunked = false;
	c->close_after = false;
	c->no_body = strcmp(c->lg->opt.method, "HEAD") == 0;
	c->remaining = 0;
	c->response_bytes = 0;
	c->head_bytes = 0;
	c->nheader_lines = 0;
}

/* Drop the connection; after an error, open a new one after a short pause. */
static void conn_close(struct conn *c, bool after_error)
{
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	c->busy = false;
	if (c->lg->stopping)
		return;
	if (after_error) {
		struct timeval tv = { 0, RECONNECT_MS * 1000 };
		evtimer_add(c->retry, &tv);
	} else {
		conn_open(c);
	}
}

static void conn_fail(struct conn *c, const char *what)
{
	note_error(c->lg, what);
	conn_close(c, true);
}

/* ---- response parsing ---------------------------------------------------------------------- */

/* Read one CRLF- or LF-ended line; NULL when it is not all here yet (*err set when it is too long). */
static char *read_line(struct conn *c, struct evbuffer *in, bool *err)
{
	size_t n = 0;
	char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	*err = false;
	if (!line) {
		if (evbuffer_get_length(in) > MAX_LINE)
			*err = true;
		return NULL;
	}
	if (n > MAX_LINE) {
		free(line);
		*err = true;
		return NULL;
	}
	c->response_bytes += (long)n + 2;
	return line;
}

static bool parse_status_line(struct conn *c, const char *line)
{
	int minor = 0, status = 0;
	char sp = 0;
	if (sscanf(line, "HTTP/1.%d %3d%c", &minor, &status, &sp) < 2 || status < 100 || status > 999)
		return false;
	if (minor < 0 || minor > 1)
		return false;
	c->status = status;
	c->close_after = minor == 0;   /* HTTP/1.0 closes unless it says keep-alive */
	if (status < 200 || status == 204 || status == 304)
		c->no_body = true;
	return true;
}

/* Does a comma-separated header value hold token (case-insensitive)? */
static bool has_token(const char *value, const char *token)
{
	size_t tl = strlen(token);
	const char *p = value;
	while (*p) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p += n;
	}
	return false;
}

static bool parse_header_line(struct conn *c, const char *line)
{
	const char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return false;
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	v += strspn(v, " \t");
	if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		char *end = NULL;
		if (*v < '0' || *v > '9')
			return false;
		errno = 0;
		long long cl = strtoll(v, &end, 10);
		end += strspn(end, " \t");
		if (errno || *end || cl < 0 || cl > c->lg->opt.max_response)
			return false;
		if (c->content_length >= 0 && c->content_length != cl)
			return false;   /* two different lengths: a smuggling shape, refuse it */
		c->content_length = (long)cl;
	} else if (nlen == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		/* chunked must be the last coding; anything else we cannot frame */
		const char *last = strrchr(v, ',');
		last = last ? last + 1 : v;
		last += strspn(last, " \t");
		if (strncasecmp(last, "chunked", 7) != 0 || last[7 + strspn(last + 7, " \t")] != '\0')
			return false;
		c->chunked = true;
	} else if (nlen == 10 && strncasecmp(line, "Connection", 10) == 0) {
		if (has_token(v, "close"))
			c->close_after = true;
		else if (has_token(v, "keep-alive"))
			c->close_after = false;
	}
	return true;
}

/* The header section is over: decide how the body is framed. */
static void start_body(struct conn *c)
{
	if (c->no_body) {
		c->state = P_BODY_LENGTH;
		c->remaining = 0;
	} else if (c->chunked) {
		c->state = P_CHUNK_SIZE;   /* chunked overrides any Content-Length (RFC 9112 6.3) */
	} else if (c->content_length >= 0) {
		c->state = P_BODY_LENGTH;
		c->remaining = c->content_length;
	} else {
		c->state = P_BODY_EOF;
		c->close_after = true;
	}
}

/* A chunk-size line: hex digits, then optional ";ext"; -1 when malformed or too big. */
static long parse_chunk_size(const char *line, long max)
{
	long v = 0;
	const char *p = line;
	if (!isxdigit((unsigned char)*p))
		return -1;
	for (; isxdigit((unsigned char)*p); p++) {
		int d = *p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10;
		if (v > (max - d) / 16)
			return -1;
		v = v * 16 + d;
	}
	p += strspn(p, " \t");
	if (*p && *p != ';')
		return -1;
	return v;
}

/* Body bytes: count them, and keep them when --save-body still waits for its response. */
static enum parse_result take_body(struct conn *c, struct evbuffer *in, size_t n)
{
	c->response_bytes += (long)n;
	if (c->response_bytes > c->lg->opt.max_response)
		return PR_ERROR;
	if (c->lg->save && !c->lg->saved && c == &c->lg->conns[0]) {
		char tmp[4096];
		size_t left = n;
		while (left) {
			size_t k = left < sizeof(tmp) ? left : sizeof(tmp);
			evbuffer_remove(in, tmp, k);
			fwrite(tmp, 1, k, c->lg->save);
			left -= k;
		}
		return PR_MORE;
	}
	evbuffer_drain(in, n);
	return PR_MORE;
}

/* Run the parser over what has arrived. */
static enum parse_result parse(struct conn *c, struct evbuffer *in)
{
	for (;;) {
		bool err = false;
		char *line = NULL;
		size_t avail = evbuffer_get_length(in);

		switch (c->state) {
		case P_STATUS:
		case P_HEADERS:
		case P_CHUNK_SIZE:
		case P_CHUNK_CRLF:
		case P_TRAILERS:
			line = read_line(c, in, &err);
			if (err)
				return PR_ERROR;
			if (!line)
				return PR_MORE;
			break;
		case P_BODY_LENGTH:
			if (c->remaining == 0)
				return PR_DONE;
			if (avail == 0)
				return PR_MORE;
			{
				size_t n = avail < (size_t)c->remaining ? avail : (size_t)c->remaining;
				if (take_body(c, in, n) == PR_ERROR)
					return PR_ERROR;
				c->remaining -= (long)n;
			}
			continue;
		case P_BODY_EOF:
			if (avail == 0)
				return PR_MORE;
			if (take_body(c, in, avail) == PR_ERROR)
				return PR_ERROR;
			continue;
		case P_CHUNK_DATA:
			if (c->remaining == 0) {
				c->state = P_CHUNK_CRLF;
				continue;
			}
			if (avail == 0)
				return PR_MORE;
			{
				size_t n = avail < (size_t)c->remaining ? avail : (size_t)c->remaining;
				if (take_body(c, in, n) == PR_ERROR)
					return PR_ERROR;
				c->remaining -= (long)n;
			}
			continue;
		}

		enum parse_result r = PR_MORE;
		switch (c->state) {
		case P_STATUS:
			if (!parse_status_line(c, line))
				r = PR_ERROR;
			else
				c->state = P_HEADERS;
			break;
		case P_HEADERS:
			c->head_bytes += (long)strlen(line) + 2;
			if (c->head_bytes > MAX_HEAD_BYTES || ++c->nheader_lines > 1000) {
				r = PR_ERROR;
			} else if (!*line) {
				if (c->status < 200) {
					/* an interim response: the real one follows on the same connection */
					long bytes = c->response_bytes;
					conn_reset_parser(c);
					c->response_bytes = bytes;
				} else {
					start_body(c);
				}
			} else if (!parse_header_line(c, line)) {
				r = PR_ERROR;
			}
			break;
		case P_CHUNK_SIZE:
			c->remaining = parse_chunk_size(line, c->lg->opt.max_response);
			if (c->remaining < 0)
				r = PR_ERROR;
			else
				c->state = c->remaining ? P_CHUNK_DATA : P_TRAILERS;
			break;
		case P_CHUNK_CRLF:
			if (*line)
				r = PR_ERROR;   /* the chunk was longer than its size said */
			else
				c->state = P_CHUNK_SIZE;
			break;
		case P_TRAILERS:
			if (!*line) {
				c->state = P_BODY_LENGTH;
				c->remaining = 0;
			} else if (!strchr(line, ':')) {
				r = PR_ERROR;
			}
			break;
		default:
			break;
		}
		free(line);
		if (c->response_bytes > c->lg->opt.max_response)
			r = PR_ERROR;
		if (r != PR_MORE)
			return r;
	}
}

/* ---- the request loop ---------------------------------------------------------------------- */

/* One response was read whole: count it, then send the next request or stop. */
static void response_done(struct conn *c)
{
	struct loadgen *lg = c->lg;
	int64_t t = now_us();
	int64_t us = t - c->sent_us;
	struct stats *st = &lg->st;

	c->busy = false;
	st->completed++;
	st->status_counts[c->status >= 100 && c->status < 600 ? c->status / 100 : 0]++;
	if (lg->opt.expect_status && c->status != lg->opt.expect_status) {
		char what[64];
		snprintf(what, sizeof(what), "status %d, expected %d", c->status, lg->opt.expect_status);
		note_error(lg, what);
	} else {
		st->ok++;
		record_latency(st, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
	}
	if (lg->save && !lg->saved && c == &lg->conns[0]) {
		lg->saved = true;
		fclose(lg->save);
		lg->save = NULL;
	}
	if (lg->opt.requests && st->completed >= lg->opt.requests) {
		stop(lg);
		return;
	}
	if (c->close_after)
		conn_close(c, false);
	else
		conn_send(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (c->lg->stopping)
		return;
	if (!c->busy) {
		conn_fail(c, "bytes from the server with no request out");
		return;
	}
	switch (parse(c, in)) {
	case PR_MORE:
		break;
	case PR_DONE:
		if (evbuffer_get_length(in) && !c->close_after) {
			conn_fail(c, "bytes after the response (no pipelining was asked for)");
			return;
		}
		response_done(c);
		break;
	case PR_ERROR:
		conn_fail(c, "malformed or oversized response");
		break;
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (c->lg->stopping)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		evutil_socket_t fd = bufferevent_getfd(bev);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->lg->st.connects++;
		conn_send(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->busy && c->state == P_BODY_EOF) {
		c->state = P_BODY_LENGTH;   /* a close-delimited body ends here */
		c->remaining = 0;
		response_done(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !c->busy) {
		conn_close(c, false);        /* an idle keep-alive connection the server closed */
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		conn_fail(c, "timed out waiting for the response");
	else if (what & BEV_EVENT_EOF)
		conn_fail(c, "the server closed the connection mid-response");
	else
		conn_fail(c, "connection error");
}

static void conn_send(struct conn *c)
{
	struct loadgen *lg = c->lg;
	if (lg->stopping)
		return;
	if (lg->opt.requests && lg->started >= lg->opt.requests)
		return;   /* the others will bring the count home */
	lg->started++;
	conn_reset_parser(c);
	c->busy = true;
	c->sent_us = now_us();
	if (bufferevent_write(c->bev, lg->request, lg->request_len) != 0)
		conn_fail(c, "cannot queue the request");
}

static void conn_open(struct conn *c)
{
	struct loadgen *lg = c->lg;
	c->bev = bufferevent_socket_new(lg->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		note_error(lg, "cannot create a bufferevent");
		stop(lg);
		return;
	}
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	struct timeval tmo = { REQUEST_TIMEOUT_S, 0 };
	bufferevent_set_timeouts(c->bev, &tmo, &tmo);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&lg->addr, sizeof(lg->addr)) != 0)
		conn_fail(c, "cannot connect");
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_open(arg);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	stop(arg);
}

/* ---- setup and report ---------------------------------------------------------------------- */

static char *format_request(const struct options *o, size_t *len)
{
	size_t body_len = o->body ? strlen(o->body) : 0;
	size_t cap = strlen(o->method) + strlen(o->path) + body_len + 256;
	for (int i = 0; i < o->nheaders; i++)
		cap += strlen(o->headers[i]) + 2;
	char *r = malloc(cap);
	if (!r)
		return NULL;
	int n = snprintf(r, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: chatconform-loadgen\r\n",
			 o->method, o->path, o->port);
	for (int i = 0; i < o->nheaders; i++)
		n += snprintf(r + n, cap - (size_t)n, "%s\r\n", o->headers[i]);
	if (o->body || strcmp(o->method, "POST") == 0 || strcmp(o->method, "PUT") == 0)
		n += snprintf(r + n, cap - (size_t)n, "Content-Length: %zu\r\n", body_len);
	n += snprintf(r + n, cap - (size_t)n, "\r\n");
	if (body_len)
		memcpy(r + n, o->body, body_len);
	*len = (size_t)n + body_len;
	return r;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) in milliseconds; samples must be sorted. */
static double quantile_ms(const struct stats *st, double q)
{
	if (!st->nsamples)
		return 0;
	size_t rank = (size_t)ceil(q * (double)st->nsamples);
	if (rank < 1)
		rank = 1;
	return st->samples[rank - 1] / 1000.0;
}

static void print_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void report(struct loadgen *lg)
{
	struct stats *st = &lg->st;
	double secs = (double)(lg->end_us - lg->start_us) / 1e6;
	qsort(st->samples, st->nsamples, sizeof(st->samples[0]), cmp_u32);
	printf("{\"requests\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"requests_per_second\":%.1f,"
	       "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"connections\":%d,\"connects\":%ld,"
	       "\"status\":{\"1xx\":%ld,\"2xx\":%ld,\"3xx\":%ld,\"4xx\":%ld,\"5xx\":%ld,\"other\":%ld},\"first_error\":",
	       st->ok, st->errors, secs, secs > 0 ? (double)st->ok / secs : 0.0,
	       quantile_ms(st, 0.50), quantile_ms(st, 0.99), st->max_us / 1000.0, lg->opt.connections,
	       st->connects, st->status_counts[1], st->status_counts[2], st->status_counts[3],
	       st->status_counts[4], st->status_counts[5], st->status_counts[0]);
	if (st->first_error[0])
		print_json_string(stdout, st->first_error);
	else
		fputs("null", stdout);
	fputs("}\n", stdout);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "connections",  required_argument, NULL, 'c' },
		{ "duration",     required_argument, NULL, 'd' },
		{ "requests",     required_argument, NULL, 'n' },
		{ "method",       required_argument, NULL, 'X' },
		{ "path",         required_argument, NULL, 'p' },
		{ "header",       required_argument, NULL, 'H' },
		{ "body",         required_argument, NULL, 'b' },
		{ "status",       required_argument, NULL, 's' },
		{ "max-response", required_argument, NULL, 'm' },
		{ "save-body",    required_argument, NULL, 'o' },
		{ "help",         no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	char *end;
	int ch;

	*o = (struct options){ .connections = 4, .duration_s = 3.0, .method = "GET", .path = "/",
			       .max_response = 1024 * 1024 };
	while ((ch = getopt_long(argc, argv, "c:d:n:X:p:H:b:s:m:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (bench_parse_long(optarg, 1, MAX_CONNECTIONS, &v))
				goto bad;
			o->connections = (int)v;
			break;
		case 'd':
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration_s >= 0.1 && o->duration_s <= MAX_DURATION_S))
				goto bad;
			break;
		case 'n':
			if (bench_parse_long(optarg, 1, MAX_REQUESTS, &o->requests))
				goto bad;
			break;
		case 'X':
			if (!*optarg || strpbrk(optarg, " \r\n"))
				goto bad;
			o->method = optarg;
			break;
		case 'p':
			if (*optarg != '/' || strpbrk(optarg, " \r\n"))
				goto bad;
			o->path = optarg;
			break;
		case 'H':
			if (o->nheaders == MAX_HEADERS || !strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
				goto bad;
			o->headers[o->nheaders++] = optarg;
			break;
		case 'b':
			o->body = optarg;
			break;
		case 's':
			if (bench_parse_long(optarg, 100, 999, &v))
				goto bad;
			o->expect_status = (int)v;
			break;
		case 'm':
			if (bench_parse_long(optarg, 1024, MAX_RESPONSE, &o->max_response))
				goto bad;
			break;
		case 'o':
			o->save_body = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			return -1;
		}
	}
	if (optind + 1 != argc || bench_parse_long(argv[optind], 1, 65535, &v)) {
		fputs(usage_text, stderr);
		return -1;
	}
	o->port = (int)v;
	return 0;
bad:
	fprintf(stderr, "loadgen: -%c: invalid value \"%s\" (see --help)\n", ch, optarg);
	return -1;
}

int main(int argc, char **argv)
{
	struct loadgen lg = { 0 };
	int rc = 2;

	if (parse_options(argc, argv, &lg.opt))
		return 2;
	lg.request = format_request(&lg.opt, &lg.request_len);
	lg.st.samples = malloc(MAX_SAMPLES * sizeof(uint32_t));
	lg.conns = calloc((size_t)lg.opt.connections, sizeof(*lg.conns));
	lg.st.rng = 0x9e3779b97f4a7c15ULL;
	if (!lg.request || !lg.st.samples || !lg.conns) {
		fprintf(stderr, "loadgen: out of memory\n");
		goto fail;
	}
	if (lg.opt.save_body && !(lg.save = fopen(lg.opt.save_body, "wb"))) {
		fprintf(stderr, "loadgen: cannot open %s: %s\n", lg.opt.save_body, strerror(errno));
		goto fail;
	}
	lg.addr.sin_family = AF_INET;
	lg.addr.sin_port = htons((uint16_t)lg.opt.port);
	lg.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* loopback only, by design */

	lg.base = event_base_new();
	if (!lg.base)
		goto fail;
	lg.deadline = evtimer_new(lg.base, deadline_cb, &lg);
	if (!lg.deadline)
		goto fail;
	for (int i = 0; i < lg.opt.connections; i++) {
		lg.conns[i].lg = &lg;
		lg.conns[i].retry = evtimer_new(lg.base, retry_cb, &lg.conns[i]);
		if (!lg.conns[i].retry)
			goto fail;
	}

	double whole;
	double frac = modf(lg.opt.duration_s, &whole);
	struct timeval tv = { (time_t)whole, (suseconds_t)(frac * 1e6) };
	evtimer_add(lg.deadline, &tv);
	lg.start_us = now_us();
	for (int i = 0; i < lg.opt.connections; i++)
		conn_open(&lg.conns[i]);
	event_base_dispatch(lg.base);
	if (!lg.stopping)
		stop(&lg);   /* the loop ran dry: every connection gave up */
	report(&lg);
	rc = lg.st.ok > 0 ? 0 : 1;

fail:
	if (lg.conns) {
		for (int i = 0; i < lg.opt.connections; i++) {
			if (lg.conns[i].bev)
				bufferevent_free(lg.conns[i].bev);
			if (lg.conns[i].retry)
				event_free(lg.conns[i].retry);
		}
	}
	if (lg.save)
		fclose(lg.save);
	if (lg.deadline)
		event_free(lg.deadline);
	if (lg.base)
		event_base_free(lg.base);
	free(lg.conns);
	free(lg.st.samples);
	free(lg.request);
	return rc;
}
