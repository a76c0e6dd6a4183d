/*
 * paced_ref: the floor for the paced-stream scenario of bench/paced.sh.
 *
 * A bare-socket writer with no HTTP library and no logic: it reads a request
 * (headers and Content-Length bytes), answers with chunked NDJSON headers and
 * the first line, then writes line k (k >= 1) at
 *
 *     the moment the request was read + first_ms + (k - 1) x interval_ms
 *
 * on a fixed schedule: mockd's pacing with nothing else.  Lines already due
 * go out in one write.  The lines are a body mockd sent (--lines, captured by
 * paced.sh), one chunk a line, so both servers send the same bytes.
 *
 * One thread, epoll, one timerfd armed at the earliest deadline of a binary
 * heap of connections: the timer is as precise as the kernel's, which is the
 * point of a floor.  Hard caps: 65,536 connections, 256 lines, 2 KiB a request
 * (the bench sends a few hundred bytes; a buffer a connection is most of its memory).
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
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS    65536  /* bench/hold.sh holds 10,000 */
#define MAX_LINES    256
#define MAX_REQUEST  2048
#define MAX_LINEFILE (1024 * 1024)

static const char usage_text[] =
	"usage: paced_ref --lines FILE [--first-ms MS] [--interval-ms MS] [--port-file F]\n"
	"\n"
	"Listen on 127.0.0.1 (a free port); answer every request with the lines of FILE as a chunked\n"
	"NDJSON stream, the first at once and the others on a fixed schedule.\n";

static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson; charset=utf-8\r\n"
			   "Cache-Control: no-store, no-transform\r\nTransfer-Encoding: chunked\r\n\r\n";

struct conn {
	int fd;
	char req[MAX_REQUEST];
	size_t req_len;
	bool streaming;
	int64_t req_ns;           /* when the request was complete */
	int next;                 /* the next line to write */
	int64_t due_ns;           /* when it is due */
	int heap_idx;             /* -1 when not waiting */
};

struct lines {
	char *chunk[MAX_LINES];   /* each line already framed as one HTTP chunk */
	size_t len[MAX_LINES];
	int n;
};

static struct lines lines;
static int64_t first_ns, interval_ns;
static struct conn *heap[MAX_CONNS];
static int heap_n;
static int nconns;                /* open connections: the heap holds at most one entry each */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the heap of deadlines ---------------------------------------------------------------- */

static void heap_swap(int a, int b)
{
	struct conn *t = heap[a];
	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_idx = a;
	heap[b]->heap_idx = b;
}

static void heap_fix(int i)
{
	while (i > 0 && heap[(i - 1) / 2]->due_ns > heap[i]->due_ns) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < heap_n && heap[l]->due_ns < heap[m]->due_ns)
			m = l;
		if (r < heap_n && heap[r]->due_ns < heap[m]->due_ns)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static void heap_push(struct conn *c)
{
	c->heap_idx = heap_n;
	heap[heap_n++] = c;
	heap_fix(c->heap_idx);
}

static void heap_remove(struct conn *c)
{
	int i = c->heap_idx;
	if (i < 0)
		return;
	c->heap_idx = -1;
	if (--heap_n == i)
		return;
	heap[i] = heap[heap_n];
	heap[i]->heap_idx = i;
	heap_fix(i);
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	heap_remove(c);
	close(c->fd);
	free(c);
	nconns--;
}

/* Write every line of c due by now in one write; schedule the next or end the stream. */
static int conn_write_due(struct conn *c, int64_t now)
{
	static char out[65536];
	size_t n = 0;
	if (!c->streaming) {
		memcpy(out, head, sizeof(head) - 1);
		n = sizeof(head) - 1;
		c->streaming = true;
		c->next = 0;
	}
	for (;;) {
		int64_t due = c->next == 0 ? c->req_ns : c->req_ns + first_ns + (c->next - 1) * interval_ns;
		if (c->next >= lines.n || due > now || n + lines.len[c->next] + 5 > sizeof(out)) {
			c->due_ns = due;
			break;
		}
		memcpy(out + n, lines.chunk[c->next], lines.len[c->next]);
		n += lines.len[c->next++];
	}
	if (c->next >= lines.n) {
		memcpy(out + n, "0\r\n\r\n", 5);
		n += 5;
		c->streaming = false;
		c->req_len = 0;
	}
	if (write(c->fd, out, n) != (ssize_t)n)
		return -1;  /* a few hundred bytes do not fit a socket its client reads: it is gone */
	if (c->streaming)
		heap_push(c);
	return 0;
}

/* Read what came; once a request (headers and Content-Length bytes) is complete, start its stream. */
static int conn_read(struct conn *c)
{
	ssize_t got = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (got <= 0)
		return -1;
	int64_t at = now_ns();
	c->req_len += (size_t)got;
	c->req[c->req_len] = '\0';
	if (c->streaming)
		return 0;  /* a pipelined request waits for the stream: not a case the bench makes */
	char *end = strstr(c->req, "\r\n\r\n");
	if (!end)
		return c->req_len + 1 < sizeof(c->req) ? 0 : -1;
	const char *cl = strcasestr(c->req, "\r\nContent-Length:");
	size_t body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	if ((size_t)(end + 4 - c->req) + body > c->req_len)
		return 0;
	c->req_ns = at;
	return conn_write_due(c, at);
}

static int load_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[8192];
	while (lines.n < MAX_LINES && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char *chunk = malloc(len + 32);
		if (!chunk)
			break;
		lines.len[lines.n] = (size_t)sprintf(chunk, "%zx\r\n%s\r\n", len, line);
		lines.chunk[lines.n++] = chunk;
	}
	fclose(f);
	return lines.n >= 2 ? 0 : -1;
}

static void arm(int tfd)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	if (heap_n) {
		int64_t due = heap[0]->due_ns;
		its.it_value.tv_sec = due / 1000000000;
		its.it_value.tv_nsec = due % 1000000000;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lines",       required_argument, NULL, 'l' },
		{ "first-ms",    required_argument, NULL, 'f' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "port-file",   required_argument, NULL, 'P' },
		{ "help",        no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lines_path = NULL, *port_file = NULL;
	long first_ms = 50, interval_ms = 50;
	int ch, lfd = -1, ep = -1, tfd = -1, rc = 1;
	while ((ch = getopt_long(argc, argv, "l:f:i:P:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': lines_path = optarg; break;
		case 'f': first_ms = strtol(optarg, NULL, 10); break;
		case 'i': interval_ms = strtol(optarg, NULL, 10); break;
		case 'P': port_file = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (!lines_path || first_ms < 0 || interval_ms < 0 || load_lines(lines_path) < 0) {
		fprintf(stderr, "paced_ref: --lines needs a file of at least two lines\n%s", usage_text);
		return 2;
	}
	first_ns = first_ms * 1000000;
	interval_ns = interval_ms * 1000000;
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/* The backlog: the kernel cuts it to net.core.somaxconn, which is what mockd asks for. */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	int one = 1;
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 65535) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		perror("paced_ref: cannot listen");
		goto out;
	}
	if ((ep = epoll_create1(0)) < 0 || (tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)) < 0)
		goto out;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	if (port_file) {
		FILE *f = fopen(port_file, "w");
		if (!f)
			goto out;
		fprintf(f, "127.0.0.1:%d\n", ntohs(sa.sin_port));
		fclose(f);
	}

	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno != EINTR)
			goto out;
		for (int k = 0; k < n; k++) {
			if (evs[k].data.ptr == NULL) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct conn *c = nconns < MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
					if (!c) {
						close(fd);
						continue;
					}
					nconns++;
					c->fd = fd;
					c->heap_idx = -1;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
			} else if (evs[k].data.ptr == &tfd) {
				uint64_t ticks;
				if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					goto out;
			} else {
				struct conn *c = evs[k].data.ptr;
				if (conn_read(c) < 0)
					conn_close(c);
			}
		}
		int64_t now = now_ns();
		while (heap_n && heap[0]->due_ns <= now) {
			struct conn *c = heap[0];
			heap_remove(c);
			if (conn_write_due(c, now) < 0)
				conn_close(c);
		}
		arm(tfd);
	}
out:
	if (tfd >= 0)
		close(tfd);
	if (ep >= 0)
		close(ep);
	if (lfd >= 0)
		close(lfd);
	return rc;
}
