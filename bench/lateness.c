/*
 * lateness: how late the tokens of paced NDJSON streams arrive, for bench/paced.sh.
 *
 * It opens N connections to 127.0.0.1:PORT, sends one streaming request on
 * each (spread evenly over --spread ms, as clients that did not all start in
 * the same millisecond), and reads the responses.  Token k of a stream (a line
 * that starts with {"type":"token") is due at
 *
 *     the moment its request was written + first_token + k x interval
 *
 * and its lateness is the moment the read() that completed its line returned
 * minus that.  It prints one JSON object: tokens seen and expected, errors,
 * and the p50, p99 and max of the lateness in ms (negative means early).
 *
 * Plain epoll and blocking connects: the client should cost as little as it
 * can, since it shares the 2 cores with the server it measures.  Hard caps:
 * 2,000 streams, 1,000 tokens each, 60 s, 64 KiB per read.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

#define MAX_STREAMS  2000
#define MAX_TOKENS   1000
#define MAX_SECONDS  60
#define MAX_REQUEST  4096
#define PREFIX_KEEP  32    /* bytes of each line kept: enough to tell a token line */

static const char usage_text[] =
	"usage: lateness [options] PORT\n"
	"\n"
	"Send N paced streaming requests to 127.0.0.1:PORT and measure how late each token arrives.\n"
	"\n"
	"options:\n"
	"  -n, --streams N        concurrent streams (default 1, at most 2000)\n"
	"  -r, --rounds R         run the N streams R times, one round after the other (default 1)\n"
	"  -t, --tokens T         tokens each stream must bring (default 20)\n"
	"  -f, --first-ms MS      the scripted first_token_ms (default 50)\n"
	"  -i, --interval-ms MS   the scripted interval_ms (default 50)\n"
	"  -s, --spread-ms MS     start the N requests evenly over MS (default: one interval)\n"
	"  -p, --path PATH        request path (default /v1/chat/stream)\n"
	"  -H, --header H         a request header (repeatable)\n"
	"  -b, --body TEXT        request body; %d in it becomes the stream number\n"
	"  -k, --by-token         also print, to stderr, p50/p99/max for each token index (where the time goes)\n"
	"  -h, --help             print this help and exit\n";

struct conn {
	int fd;
	int64_t sent_ns;          /* when its request was written; 0 before */
	int64_t start_ns;         /* when its request is to be written */
	char line[PREFIX_KEEP];   /* the start of the line being read */
	size_t line_len;
	int tokens;               /* token lines seen */
	bool done;                /* a done line or the end of the connection */
};

struct options {
	int port, streams, rounds, tokens;
	int64_t first_ms, interval_ms, spread_ms;
	const char *path, *body;
	const char *headers[16];
	int nheaders;
	bool by_token;
};

struct results {
	double *late_ms;          /* every token's lateness, up to cap */
	int *index;               /* the token index of each */
	size_t n, cap;
	long expected, errors;
	char first_error[160];
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void note_error(struct results *res, const char *what, int stream)
{
	if (!res->errors++)
		snprintf(res->first_error, sizeof(res->first_error), "stream %d: %s", stream, what);
}

static int connect_one(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Feed the bytes of one read to c's line scanner; at is when the read returned. */
static void scan(struct conn *c, const char *p, size_t n, int64_t at, const struct options *o,
		 struct results *res)
{
	static const char token[] = "{\"type\":\"token\"", done[] = "{\"type\":\"done\"";
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (c->line_len < PREFIX_KEEP)
				c->line[c->line_len] = p[i];
			c->line_len++;
			continue;
		}
		size_t kept = c->line_len < PREFIX_KEEP ? c->line_len : PREFIX_KEEP;
		if (kept >= sizeof(token) - 1 && memcmp(c->line, token, sizeof(token) - 1) == 0) {
			int64_t due = c->sent_ns + (o->first_ms + (int64_t)c->tokens * o->interval_ms) * 1000000;
			if (res->n < res->cap) {
				res->index[res->n] = c->tokens;
				res->late_ms[res->n++] = (double)(at - due) / 1e6;
			}
			c->tokens++;
		} else if (kept >= sizeof(done) - 1 && memcmp(c->line, done, sizeof(done) - 1) == 0) {
			c->done = true;
		}
		c->line_len = 0;
	}
}

/* One round: N connections, N requests spread over spread_ms, every response read to its done line. */
static int run_round(const struct options *o, const char *const *requests, const size_t *lens,
		     struct results *res)
{
	int ep = -1, rc = -1, open = 0;
	struct conn *conns = calloc((size_t)o->streams, sizeof(*conns));
	if (!conns)
		goto out;
	for (int i = 0; i < o->streams; i++)
		conns[i].fd = -1;
	if ((ep = epoll_create1(0)) < 0)
		goto out;
	/* Connect everything first, so the measured part is only requests and streams. */
	for (int i = 0; i < o->streams; i++) {
		if ((conns[i].fd = connect_one(o->port)) < 0) {
			note_error(res, strerror(errno), i);
			goto out;
		}
		fcntl(conns[i].fd, F_SETFL, fcntl(conns[i].fd, F_GETFL) | O_NONBLOCK);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0)
			goto out;
		open++;
	}
	int64_t t0 = now_ns() + 10000000, deadline = t0 + (int64_t)MAX_SECONDS * 1000000000;
	for (int i = 0; i < o->streams; i++)
		conns[i].start_ns = t0 + (o->streams > 1 ? o->spread_ms * 1000000 * i / o->streams : 0);
	int next_send = 0;
	static char rbuf[65536];
	while (open > 0) {
		int64_t now = now_ns();
		if (now > deadline) {
			note_error(res, "the streams did not end within 60 s", next_send);
			goto out;
		}
		while (next_send < o->streams && conns[next_send].start_ns <= now) {
			struct conn *c = &conns[next_send];
			c->sent_ns = now_ns();
			/* A request of a few hundred bytes fits an empty socket buffer whole. */
			if (write(c->fd, requests[next_send], lens[next_send]) != (ssize_t)lens[next_send]) {
				note_error(res, "short write of the request", next_send);
				c->done = true;
			}
			next_send++;
			now = now_ns();
		}
		int timeout = 100;
		if (next_send < o->streams) {
			int64_t wait = conns[next_send].start_ns - now;
			timeout = wait <= 0 ? 0 : (int)((wait + 999999) / 1000000);
		}
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			goto out;
		for (int k = 0; k < n; k++) {
			struct conn *c = &conns[evs[k].data.u32];
			ssize_t got = read(c->fd, rbuf, sizeof(rbuf));
			int64_t at = now_ns();
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (got > 0 && c->sent_ns)
				scan(c, rbuf, (size_t)got, at, o, res);
			if (got <= 0 || c->done) {
				if (!c->done)
					note_error(res, "the connection ended before the done line", (int)evs[k].data.u32);
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				c->done = true;
				open--;
			}
		}
	}
	for (int i = 0; i < o->streams; i++)
		if (conns[i].tokens != o->tokens) {
			char what[80];
			snprintf(what, sizeof(what), "%d tokens instead of %d", conns[i].tokens, o->tokens);
			note_error(res, what, i);
		}
	rc = 0;
out:
	for (int i = 0; conns && i < o->streams; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	free(conns);
	if (ep >= 0)
		close(ep);
	return rc;
}

/* p50/p99/max of each token index, to stderr: a late start shows in token 0, a drift in the last. */
static void print_by_token(const struct options *o, const struct results *res)
{
	double *v = calloc(res->n ? res->n : 1, sizeof(*v));
	if (!v)
		return;
	fprintf(stderr, "token   p50_ms   p99_ms   max_ms\n");
	for (int k = 0; k < o->tokens; k++) {
		size_t m = 0;
		for (size_t i = 0; i < res->n; i++)
			if (res->index[i] == k)
				v[m++] = res->late_ms[i];
		qsort(v, m, sizeof(*v), bench_cmp_double);
		fprintf(stderr, "%5d %8.2f %8.2f %8.2f\n", k, bench_percentile(v, m, 0.5), bench_percentile(v, m, 0.99),
			m ? v[m - 1] : 0);
	}
	free(v);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "streams",     required_argument, NULL, 'n' },
		{ "rounds",      required_argument, NULL, 'r' },
		{ "tokens",      required_argument, NULL, 't' },
		{ "first-ms",    required_argument, NULL, 'f' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "spread-ms",   required_argument, NULL, 's' },
		{ "path",        required_argument, NULL, 'p' },
		{ "header",      required_argument, NULL, 'H' },
		{ "body",        required_argument, NULL, 'b' },
		{ "by-token",    no_argument,       NULL, 'k' },
		{ "help",        no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int ch;
	*o = (struct options){ .streams = 1, .rounds = 1, .tokens = 20, .first_ms = 50, .interval_ms = 50,
			       .spread_ms = -1, .path = "/v1/chat/stream", .body = "{}" };
	while ((ch = getopt_long(argc, argv, "n:r:t:f:i:s:p:H:b:kh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': if (bench_parse_long(optarg, 1, MAX_STREAMS, &v)) goto bad; o->streams = (int)v; break;
		case 'r': if (bench_parse_long(optarg, 1, 100, &v)) goto bad; o->rounds = (int)v; break;
		case 't': if (bench_parse_long(optarg, 1, MAX_TOKENS, &v)) goto bad; o->tokens = (int)v; break;
		case 'f': if (bench_parse_long(optarg, 0, 10000, &v)) goto bad; o->first_ms = v; break;
		case 'i': if (bench_parse_long(optarg, 0, 10000, &v)) goto bad; o->interval_ms = v; break;
		case 's': if (bench_parse_long(optarg, 0, 10000, &v)) goto bad; o->spread_ms = v; break;
		case 'p':
			if (*optarg != '/' || strpbrk(optarg, " \r\n"))
				goto bad;
			o->path = optarg;
			break;
		case 'H':
			if (o->nheaders == 16 || !strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
				goto bad;
			o->headers[o->nheaders++] = optarg;
			break;
		case 'b': o->body = optarg; break;
		case 'k': o->by_token = true; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: fputs(usage_text, stderr); return -1;
		}
	}
	if (optind + 1 != argc || bench_parse_long(argv[optind], 1, 65535, &v)) {
		fputs(usage_text, stderr);
		return -1;
	}
	o->port = (int)v;
	if (o->spread_ms < 0)
		o->spread_ms = o->interval_ms;
	return 0;
bad:
	fprintf(stderr, "lateness: -%c: invalid value \"%s\" (see --help)\n", ch, optarg);
	return -1;
}

int main(int argc, char **argv)
{
	struct options o;
	struct results res = { 0 };
	char **requests = NULL;
	size_t *lens = NULL;
	int rc = 1;
	if (parse_options(argc, argv, &o) < 0)
		return 2;
	/* Up to 2,000 sockets: lift the soft limit on descriptors to the hard one. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	res.cap = (size_t)o.streams * (size_t)o.tokens * (size_t)o.rounds;
	res.late_ms = calloc(res.cap, sizeof(*res.late_ms));
	res.index = calloc(res.cap, sizeof(*res.index));
	requests = calloc((size_t)o.streams, sizeof(*requests));
	lens = calloc((size_t)o.streams, sizeof(*lens));
	if (!res.late_ms || !res.index || !requests || !lens)
		goto out;
	for (int i = 0; i < o.streams; i++) {
		char body[1024], head[MAX_REQUEST];
		/* The body is a template of ours: %d is the only conversion in it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(body, sizeof(body), o.body, i);
#pragma GCC diagnostic pop
		int n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", o.path);
		for (int h = 0; h < o.nheaders && n < MAX_REQUEST; h++)
			n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n", o.headers[h]);
		if (n < MAX_REQUEST)
			n += snprintf(head + n, sizeof(head) - (size_t)n,
				      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				      strlen(body), body);
		if (n >= MAX_REQUEST || !(requests[i] = strdup(head)))
			goto out;
		lens[i] = (size_t)n;
	}
	for (int r = 0; r < o.rounds; r++)
		if (run_round(&o, (const char *const *)requests, lens, &res) < 0)
			break;
	res.expected = (long)o.streams * o.tokens * o.rounds;
	if (o.by_token)
		print_by_token(&o, &res);
	qsort(res.late_ms, res.n, sizeof(*res.late_ms), bench_cmp_double);
	printf("{\"streams\":%d,\"rounds\":%d,\"tokens\":%zu,\"expected\":%ld,\"errors\":%ld,"
	       "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"min_ms\":%.2f,\"first_error\":\"%s\"}\n",
	       o.streams, o.rounds, res.n, res.expected, res.errors, bench_percentile(res.late_ms, res.n, 0.5),
	       bench_percentile(res.late_ms, res.n, 0.99), res.n ? res.late_ms[res.n - 1] : 0,
	       res.n ? res.late_ms[0] : 0, res.first_error);
	rc = res.errors || (long)res.n != res.expected;
out:
	for (int i = 0; requests && i < o.streams; i++)
		free(requests[i]);
	free(requests);
	free(lens);
	free(res.late_ms);
	free(res.index);
	return rc;
}
