/*
 * hold: many concurrent streams at once, for bench/hold.sh.
 *
 * One process, one epoll, non-blocking sockets.  It opens N (10,000)
 * connections to 127.0.0.1:PORT as fast as connect() and the server's accept
 * queue allow (at most --window connects in progress at a time, none by
 * default), holds them all, then sends one streaming request on each (spread
 * over --spread ms) and reads every response to its end: the status line, the
 * headers, the chunked (or Content-Length, or close-delimited) body, whose
 * lines it scans for token lines and the terminating line (NDJSON lines, or
 * SSE "data:" lines).  Connecting everything first is what makes the N
 * streams concurrent: a stream of 20 tokens at 50 ms lasts a second, less
 * than 10,000 connects may take.
 *
 * A stream is complete when the response is 200, its body ended as its
 * framing says, the terminating line came and (with -t) it brought exactly T
 * tokens; anything else is a cut stream, with the first reason kept.  It
 * prints one JSON object: connections opened, connect errors and timeouts,
 * streams sent, complete and cut, bytes and tokens received, connect latency
 * p50/p99/max, the most streams open at once, wall time.  Exit 0 when all N
 * streams completed, 1 when any failed, 2 when it could not start (options,
 * or too few descriptors: it raises RLIMIT_NOFILE to N + 64 and says so when
 * the hard limit is lower).
 *
 * Caps: 100,000 connections, 600 s, 4 KiB a request.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

#define MAX_CONNS    100000
#define MAX_SECONDS  600
#define MAX_REQUEST  4096
#define LINE_KEEP    64     /* bytes of each line kept: enough to tell a token line or a header */
#define SPARE_FDS    64     /* descriptors beyond the connections: stdio, epoll, the loader */

static const char usage_text[] =
	"usage: hold [options] PORT\n"
	"\n"
	"Open N connections to 127.0.0.1:PORT, hold them all, send one streaming request on each\n"
	"and read every response to its terminating line; print one JSON object.\n"
	"\n"
	"  -n, --connections N    connections, one stream each (default 10000, at most 100000)\n"
	"  -w, --window W         at most W connects in progress at once (default 0: no limit)\n"
	"  -s, --spread-ms MS     send the N requests evenly over MS once all are connected (default 0)\n"
	"  -t, --tokens T         each stream must bring exactly T token lines (default 0: any number)\n"
	"  -p, --path PATH        request path (default /v1/chat/stream)\n"
	"  -H, --header H         a request header (repeatable)\n"
	"  -b, --body TEXT        request body; %d in it becomes the stream number\n"
	"                         (default {\"sessionId\":\"h%d\",\"message\":\"paced\"})\n"
	"      --token PREFIX     a token line starts with this (default {\"type\":\"token\")\n"
	"      --done PREFIX      the terminating line starts with this (default {\"type\":\"done\")\n"
	"                         (an SSE line's \"data:\" and one space are skipped before matching)\n"
	"  -c, --connect-timeout S  a connect not done in S seconds is an error (default 10)\n"
	"  -d, --max-seconds S    give up on the streams still open after S seconds in all (default 120)\n"
	"  -h, --help             print this help and exit\n";

enum state {
	S_NONE,        /* no socket yet */
	S_CONNECTING,
	S_IDLE,        /* connected, request not sent */
	S_HEAD,        /* request sent, reading the status line and headers */
	S_CHUNK_SIZE,
	S_CHUNK_EXT,   /* after ';' in a chunk-size line */
	S_CHUNK_DATA,
	S_CHUNK_CR,    /* the CRLF after a chunk's data */
	S_CHUNK_LF,
	S_TRAILER,
	S_LENGTH,      /* a Content-Length body */
	S_TO_CLOSE,    /* a body that ends with the connection */
	S_DONE,        /* complete */
	S_FAILED,
};

struct conn {
	int fd;
	uint8_t state;
	bool status_ok;           /* the status line said 200 */
	bool chunked;
	bool have_length;
	bool done_line;           /* the terminating line came */
	bool first_byte;          /* a response byte came: the stream counts as open */
	bool head_first;          /* the next header line is the status line */
	uint16_t line_len;        /* length of the current line (LINE_KEEP at most is kept) */
	uint32_t tokens;
	uint64_t left;            /* bytes left in the chunk, or of the Content-Length body */
	int64_t t_ns;             /* when connect() was called */
	char line[LINE_KEEP];
};

struct options {
	int port, conns, window, tokens;
	int64_t spread_ms, connect_timeout_s, max_seconds;
	const char *path, *body, *token, *done;
	const char *headers[16];
	int nheaders;
};

struct stats {
	long opened, connect_errors /* timeouts included */, connect_timeouts, sent, complete, cut, open_streams, peak_streams;
	uint64_t bytes, tokens;
	double *connect_ms;       /* latency of each connect that succeeded */
	long nconnect_ms;
	char first_error[200];
};

static struct options opt;
static struct stats st;
static struct conn *conns;
static int ep = -1;
static size_t token_len, done_len;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void note(long i, const char *what, const char *detail)
{
	if (!st.first_error[0])
		snprintf(st.first_error, sizeof(st.first_error), "connection %ld: %s%s%s", i, what,
			 detail ? ": " : "", detail ? detail : "");
}

/* Close c; a stream that was open no longer is. */
static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->first_byte && c->state != S_DONE && c->state != S_FAILED)
		st.open_streams--;
}

/* A stream (or a connection before its stream) failed: count it once, keep the first reason. */
static void conn_fail(struct conn *c, const char *what)
{
	if (c->state == S_DONE || c->state == S_FAILED)
		return;
	note(c - conns, what, NULL);
	if (c->state == S_CONNECTING || c->state == S_NONE)
		st.connect_errors++;
	else
		st.cut++;
	bool was_open = c->first_byte;
	c->first_byte = false;
	conn_close(c);
	if (was_open)
		st.open_streams--;
	c->state = S_FAILED;
}

/* The body ended as its framing says: complete if the rest holds. */
static void conn_end(struct conn *c)
{
	char what[96];
	if (!c->done_line) {
		conn_fail(c, "the body ended without the terminating line");
		return;
	}
	if (opt.tokens > 0 && c->tokens != (uint32_t)opt.tokens) {
		snprintf(what, sizeof(what), "%u tokens instead of %d", c->tokens, opt.tokens);
		conn_fail(c, what);
		return;
	}
	conn_close(c);
	c->state = S_DONE;
	st.complete++;
}

/* A header line (status line first) is complete in c->line (its first LINE_KEEP bytes). */
static void header_line(struct conn *c, size_t kept)
{
	const char *l = c->line;
	if (c->head_first) {
		c->head_first = false;
		c->status_ok = kept >= 12 && memcmp(l, "HTTP/1.", 7) == 0 && memcmp(l + 8, " 200", 4) == 0;
		if (!c->status_ok) {
			char what[96];
			snprintf(what, sizeof(what), "status line \"%.*s\"", (int)(kept < 40 ? kept : 40), l);
			conn_fail(c, what);
		}
		return;
	}
	if (kept == 0) {  /* the end of the headers */
		if (c->chunked)
			c->state = S_CHUNK_SIZE;
		else if (c->have_length)
			c->state = c->left ? S_LENGTH : S_DONE;
		else
			c->state = S_TO_CLOSE;
		if (c->state == S_DONE) {  /* Content-Length: 0 */
			c->state = S_LENGTH;
			conn_end(c);
		}
		return;
	}
	if (kept >= 18 && strncasecmp(l, "transfer-encoding:", 18) == 0) {
		c->chunked = memmem(l, kept, "chunked", 7) != NULL;
	} else if (kept >= 15 && strncasecmp(l, "content-length:", 15) == 0) {
		char num[32];
		size_t n = kept - 15 < sizeof(num) - 1 ? kept - 15 : sizeof(num) - 1;
		memcpy(num, l + 15, n);
		num[n] = '\0';
		c->have_length = true;
		c->left = strtoull(num, NULL, 10);
	}
}

/* A body line is complete in c->line. */
static void body_line(struct conn *c, size_t kept)
{
	const char *l = c->line;
	if (kept >= 5 && memcmp(l, "data:", 5) == 0) {
		l += 5;
		kept -= 5;
		if (kept && *l == ' ') {
			l++;
			kept--;
		}
	}
	if (kept >= token_len && memcmp(l, opt.token, token_len) == 0) {
		c->tokens++;
		st.tokens++;
	} else if (kept >= done_len && memcmp(l, opt.done, done_len) == 0) {
		c->done_line = true;
	}
}

/* Feed one byte of a line (header or body); true when it ended a line. */
static inline bool line_byte(struct conn *c, char b)
{
	if (b == '\n')
		return true;
	if (c->line_len < LINE_KEEP)
		c->line[c->line_len] = b;
	if (c->line_len < UINT16_MAX)
		c->line_len++;
	return false;
}

static size_t line_kept(struct conn *c)
{
	size_t kept = c->line_len < LINE_KEEP ? c->line_len : LINE_KEEP;
	if (kept && c->line[kept - 1] == '\r' && c->line_len <= LINE_KEEP)
		kept--;
	c->line_len = 0;
	return kept;
}

/* Body bytes (already de-chunked) to the line scanner. */
static void body_bytes(struct conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (line_byte(c, p[i]))
			body_line(c, line_kept(c));
}

/* A last body line without its newline still counts, when the body ends. */
static void body_flush(struct conn *c)
{
	if (c->line_len)
		body_line(c, line_kept(c));
}

/* The end of a chunk-size line: data follows, or the last chunk (then trailers). */
static void chunk_size_done(struct conn *c)
{
	if (c->left) {
		c->state = S_CHUNK_DATA;
		return;
	}
	body_flush(c);
	c->state = S_TRAILER;
}

static int hexval(char b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	if (b >= 'a' && b <= 'f')
		return b - 'a' + 10;
	if (b >= 'A' && b <= 'F')
		return b - 'A' + 10;
	return -1;
}

/* The bytes of one read, through the response parser. */
static void feed(struct conn *c, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		char b = p[i];
		switch (c->state) {
		case S_HEAD:
			i++;
			if (line_byte(c, b))
				header_line(c, line_kept(c));
			break;
		case S_CHUNK_SIZE: {
			i++;
			int v = hexval(b);
			if (v >= 0) {
				if (c->left >> 60) {
					conn_fail(c, "a chunk size too large");
					return;
				}
				c->left = c->left * 16 + (uint64_t)v;
			} else if (b == ';' || b == ' ' || b == '\t') {
				c->state = S_CHUNK_EXT;
			} else if (b == '\n') {
				chunk_size_done(c);
			} else if (b != '\r') {
				conn_fail(c, "a broken chunk size line");
				return;
			}
			break;
		}
		case S_CHUNK_EXT:
			i++;
			if (b == '\n')
				chunk_size_done(c);
			break;
		case S_CHUNK_DATA: {
			size_t take = n - i < c->left ? n - i : (size_t)c->left;
			body_bytes(c, p + i, take);
			i += take;
			c->left -= take;
			if (!c->left)
				c->state = S_CHUNK_CR;
			break;
		}
		case S_CHUNK_CR:
		case S_CHUNK_LF:
			i++;
			if (b == '\r' && c->state == S_CHUNK_CR) {
				c->state = S_CHUNK_LF;
			} else if (b == '\n') {
				c->state = S_CHUNK_SIZE;
				c->left = 0;
			} else {
				conn_fail(c, "no CRLF after a chunk");
				return;
			}
			break;
		case S_TRAILER:
			i++;
			if (line_byte(c, b) && line_kept(c) == 0)
				conn_end(c);  /* bytes after it, if any, are ignored: not a case here */
			break;
		case S_LENGTH: {
			size_t take = n - i < c->left ? n - i : (size_t)c->left;
			body_bytes(c, p + i, take);
			i += take;
			c->left -= take;
			if (!c->left) {
				body_flush(c);
				conn_end(c);
			}
			break;
		}
		case S_TO_CLOSE:
			body_bytes(c, p + i, n - i);
			i = n;
			break;
		default:
			return;  /* done or failed: ignore the rest */
		}
		if (c->state == S_DONE || c->state == S_FAILED)
			return;
	}
}

/* ---- connecting -------------------------------------------------------------------------- */

static int open_one(long i)
{
	struct conn *c = &conns[i];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	c->t_ns = now_ns();
	c->state = S_CONNECTING;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(c, strerror(errno));
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		conn_fail(c, strerror(errno));
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u64 = (uint64_t)i };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_fail(c, strerror(errno));
		return -1;
	}
	return 0;
}

static void connected(struct conn *c, int64_t at)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_fail(c, strerror(err));
		return;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(c - conns) };
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	st.connect_ms[st.nconnect_ms++] = (double)(at - c->t_ns) / 1e6;
	c->state = S_IDLE;
	st.opened++;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static char rbuf[65536];

static void readable(struct conn *c)
{
	for (;;) {
		ssize_t got = read(c->fd, rbuf, sizeof(rbuf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return;
		if (got <= 0) {
			if (c->state == S_TO_CLOSE) {
				body_flush(c);
				conn_end(c);
			}
			else
				conn_fail(c, got < 0 ? strerror(errno)
						     : c->state == S_IDLE ? "closed by the server before the request"
									  : "the connection ended before the response did");
			return;
		}
		st.bytes += (uint64_t)got;
		if (c->state == S_IDLE) {
			conn_fail(c, "bytes before the request");
			return;
		}
		if (!c->first_byte) {
			c->first_byte = true;
			if (++st.open_streams > st.peak_streams)
				st.peak_streams = st.open_streams;
		}
		feed(c, rbuf, (size_t)got);
		if (c->state == S_DONE || c->state == S_FAILED)
			return;
		if ((size_t)got < sizeof(rbuf))
			return;
	}
}

static void events(int timeout_ms, int64_t *connecting)
{
	struct epoll_event evs[512];
	int n = epoll_wait(ep, evs, 512, timeout_ms);
	int64_t at = now_ns();
	for (int k = 0; k < n; k++) {
		struct conn *c = &conns[evs[k].data.u64];
		if (c->state == S_CONNECTING) {
			(*connecting)--;
			connected(c, at);
			if (c->state == S_FAILED)
				continue;
		}
		if (c->fd >= 0 && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			readable(c);
	}
}

/* s as the inside of a JSON string. */
static void json_text(char *out, size_t size, const char *s)
{
	size_t n = 0;
	for (; *s && n + 7 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, size - n, "\\%c", ch);
		else if (ch < 0x20)
			n += (size_t)snprintf(out + n, size - n, "\\u%04x", ch);
		else
			out[n++] = (char)ch;
	}
	out[n] = '\0';
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connections",     required_argument, NULL, 'n' },
		{ "window",          required_argument, NULL, 'w' },
		{ "spread-ms",       required_argument, NULL, 's' },
		{ "tokens",          required_argument, NULL, 't' },
		{ "path",            required_argument, NULL, 'p' },
		{ "header",          required_argument, NULL, 'H' },
		{ "body",            required_argument, NULL, 'b' },
		{ "token",           required_argument, NULL, 'T' },
		{ "done",            required_argument, NULL, 'D' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "max-seconds",     required_argument, NULL, 'd' },
		{ "help",            no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int ch;
	opt = (struct options){ .conns = 10000, .connect_timeout_s = 10, .max_seconds = 120,
				.path = "/v1/chat/stream", .body = "{\"sessionId\":\"h%d\",\"message\":\"paced\"}",
				.token = "{\"type\":\"token\"", .done = "{\"type\":\"done\"" };
	while ((ch = getopt_long(argc, argv, "n:w:s:t:p:H:b:c:d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': if (bench_parse_long(optarg, 1, MAX_CONNS, &v)) goto bad; opt.conns = (int)v; break;
		case 'w': if (bench_parse_long(optarg, 0, MAX_CONNS, &v)) goto bad; opt.window = (int)v; break;
		case 's': if (bench_parse_long(optarg, 0, 60000, &v)) goto bad; opt.spread_ms = v; break;
		case 't': if (bench_parse_long(optarg, 0, 1000000, &v)) goto bad; opt.tokens = (int)v; break;
		case 'c': if (bench_parse_long(optarg, 1, MAX_SECONDS, &v)) goto bad; opt.connect_timeout_s = v; break;
		case 'd': if (bench_parse_long(optarg, 1, MAX_SECONDS, &v)) goto bad; opt.max_seconds = v; break;
		case 'p':
			if (*optarg != '/' || strpbrk(optarg, " \r\n"))
				goto bad;
			opt.path = optarg;
			break;
		case 'H':
			if (opt.nheaders == 16 || !strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
				goto bad;
			opt.headers[opt.nheaders++] = optarg;
			break;
		case 'b': opt.body = optarg; break;
		case 'T': if (!*optarg || strlen(optarg) > LINE_KEEP) goto bad; opt.token = optarg; break;
		case 'D': if (!*optarg || strlen(optarg) > LINE_KEEP) goto bad; opt.done = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: fputs(usage_text, stderr); return -1;
		}
	}
	if (optind + 1 != argc || bench_parse_long(argv[optind], 1, 65535, &v)) {
		fputs(usage_text, stderr);
		return -1;
	}
	opt.port = (int)v;
	/* The body is a template: %d is the only conversion it may hold. */
	for (const char *p = opt.body; (p = strchr(p, '%')); p += 2)
		if (p[1] != 'd' && p[1] != '%') {
			fprintf(stderr, "hold: --body: only %%d and %%%% may follow a %%\n");
			return -1;
		}
	token_len = strlen(opt.token);
	done_len = strlen(opt.done);
	return 0;
bad:
	fprintf(stderr, "hold: -%c: invalid value \"%s\" (see --help)\n", ch, optarg);
	return -1;
}

/* Enough descriptors for every connection, or say why not. */
static int raise_nofile(void)
{
	rlim_t need = (rlim_t)opt.conns + SPARE_FDS;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("hold: getrlimit(RLIMIT_NOFILE)");
		return -1;
	}
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr,
			"hold: cannot hold %d connections: they need %lu descriptors and RLIMIT_NOFILE's hard limit "
			"is %lu (raise it as root: ulimit -Hn, or limits.conf; or use -n %lu)\n",
			opt.conns, (unsigned long)need, (unsigned long)rl.rlim_max,
			(unsigned long)(rl.rlim_max > SPARE_FDS ? rl.rlim_max - SPARE_FDS : 0));
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		fprintf(stderr, "hold: cannot raise RLIMIT_NOFILE from %lu to %lu: %s\n",
			(unsigned long)rl.rlim_cur, (unsigned long)need, strerror(errno));
		return -1;
	}
	return 0;
}

/* Every connection to one address needs its own local port. */
static void check_port_range(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	long lo, hi;
	if (f && fscanf(f, "%ld %ld", &lo, &hi) == 2 && hi - lo + 1 < opt.conns)
		fprintf(stderr, "hold: warning: the local port range %ld-%ld holds %ld ports, fewer than %d "
				"connections: the rest will fail with EADDRNOTAVAIL\n", lo, hi, hi - lo + 1, opt.conns);
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	if (parse_options(argc, argv) < 0)
		return 2;
	if (raise_nofile() < 0)
		return 2;
	check_port_range();
	signal(SIGPIPE, SIG_IGN);

	/* The requests, built once: a template with the stream number in the body. */
	char head[MAX_REQUEST];
	int hn = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", opt.path);
	for (int h = 0; h < opt.nheaders && hn < MAX_REQUEST; h++)
		hn += snprintf(head + hn, sizeof(head) - (size_t)hn, "%s\r\n", opt.headers[h]);
	if (hn >= MAX_REQUEST - 128) {
		fprintf(stderr, "hold: the request headers are longer than %d bytes\n", MAX_REQUEST - 128);
		return 2;
	}
	conns = calloc((size_t)opt.conns, sizeof(*conns));
	st.connect_ms = calloc((size_t)opt.conns, sizeof(*st.connect_ms));
	if (!conns || !st.connect_ms || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("hold");
		return 2;
	}
	for (long i = 0; i < opt.conns; i++)
		conns[i].fd = -1;

	int64_t t0 = now_ns(), deadline = t0 + opt.max_seconds * 1000000000;
	int64_t connect_timeout = opt.connect_timeout_s * 1000000000, next_sweep = t0 + 100000000;

	/* 1. Connect everything, at most --window at a time. */
	long next = 0;
	int64_t connecting = 0;
	while ((next < opt.conns || connecting > 0) && now_ns() < deadline) {
		while (next < opt.conns && (!opt.window || connecting < opt.window)) {
			if (open_one(next++) == 0)
				connecting++;
			if ((next & 255) == 0)
				break;  /* let the server's answers in now and then */
		}
		events(next < opt.conns && (!opt.window || connecting < opt.window) ? 0 : 20, &connecting);
		int64_t now = now_ns();
		if (now >= next_sweep) {
			next_sweep = now + 100000000;
			for (long i = 0; i < next; i++)
				if (conns[i].state == S_CONNECTING && now - conns[i].t_ns > connect_timeout) {
					st.connect_timeouts++;
					connecting--;
					conn_fail(&conns[i], "connect timed out");
				}
		}
	}
	int64_t t_connected = now_ns();

	/* 2. A request on each connection, spread over --spread-ms. */
	int64_t t_send = now_ns();
	long sent_i = 0;
	while (sent_i < opt.conns || (st.complete + st.cut + st.connect_errors < opt.conns)) {
		int64_t now = now_ns();
		if (now >= deadline)
			break;
		while (sent_i < opt.conns &&
		       (opt.conns == 1 || now >= t_send + opt.spread_ms * 1000000 * sent_i / opt.conns)) {
			struct conn *c = &conns[sent_i];
			if (c->state == S_IDLE) {
				char body[1024], req[MAX_REQUEST + 1024];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
				int bn = snprintf(body, sizeof(body), opt.body, (int)sent_i);
#pragma GCC diagnostic pop
				if (bn < 0 || (size_t)bn >= sizeof(body))
					bn = (int)sizeof(body) - 1;
				int n = snprintf(req, sizeof(req), "%sContent-Type: application/json\r\n"
						 "Content-Length: %d\r\n\r\n%s", head, bn, body);
				/* A request of a few hundred bytes fits an empty socket buffer whole. */
				if (write(c->fd, req, (size_t)n) != n) {
					conn_fail(c, "short write of the request");
				} else {
					c->state = S_HEAD;
					c->head_first = true;
					st.sent++;
				}
			}
			sent_i++;
			if ((sent_i & 255) == 0)
				break;
		}
		int timeout = 100;
		if (sent_i < opt.conns) {
			int64_t due = t_send + opt.spread_ms * 1000000 * sent_i / opt.conns - now_ns();
			timeout = due <= 0 ? 0 : (int)((due + 999999) / 1000000);
		}
		events(timeout, &connecting);
	}
	int64_t t_end = now_ns();
	for (long i = 0; i < opt.conns; i++)
		if (conns[i].state != S_DONE && conns[i].state != S_FAILED) {
			bool stream = conns[i].state != S_NONE && conns[i].state != S_CONNECTING &&
				      conns[i].state != S_IDLE;
			conn_fail(&conns[i], stream ? "still open at --max-seconds" : "not connected at --max-seconds");
		}

	char first_error[sizeof(st.first_error) * 2];
	json_text(first_error, sizeof(first_error), st.first_error);
	qsort(st.connect_ms, (size_t)st.nconnect_ms, sizeof(*st.connect_ms), bench_cmp_double);
	printf("{\"connections\":%d,\"opened\":%ld,\"connect_errors\":%ld,\"connect_timeouts\":%ld,"
	       "\"sent\":%ld,\"complete\":%ld,\"cut\":%ld,\"peak_open_streams\":%ld,\"bytes\":%llu,"
	       "\"tokens\":%llu,\"expected_tokens\":%lld,\"connect_p50_ms\":%.3f,\"connect_p99_ms\":%.3f,"
	       "\"connect_max_ms\":%.3f,\"connect_seconds\":%.3f,\"stream_seconds\":%.3f,\"seconds\":%.3f,"
	       "\"errors\":%ld,\"first_error\":\"%s\"}\n",
	       opt.conns, st.opened, st.connect_errors, st.connect_timeouts, st.sent, st.complete, st.cut,
	       st.peak_streams, (unsigned long long)st.bytes, (unsigned long long)st.tokens,
	       (long long)opt.tokens * opt.conns, bench_percentile(st.connect_ms, st.nconnect_ms, 0.5),
	       bench_percentile(st.connect_ms, st.nconnect_ms, 0.99),
	       st.nconnect_ms ? st.connect_ms[st.nconnect_ms - 1] : 0, (double)(t_connected - t0) / 1e9,
	       (double)(t_end - t_send) / 1e9, (double)(t_end - t0) / 1e9, opt.conns - st.complete,
	       first_error);
	return st.complete == opt.conns ? 0 : 1;
}
