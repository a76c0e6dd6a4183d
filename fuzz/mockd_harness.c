/* mockd_harness: mockd in-process for the libFuzzer targets (see mockd_harness.h). */
#include "fuzz/mockd_harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "fuzz/fuzz.h"
#include "mockd/accesslog.h"
#include "mockd/admin.h"
#include "mockd/apis/apis.h"
#include "mockd/guard.h"
#include "mockd/http.h"
#include "mockd/journal.h"
#include "mockd/keys.h"
#include "mockd/lifecycle.h"
#include "mockd/mockd.h"
#include "mockd/reply.h"
#include "mockd/script.h"
#include "mockd/stream.h"
#include "mockd/ws.h"

#define KEYS_PATH "fixtures/keys.json"   /* make fuzz runs the targets from the repository's root */
#define TICK_US   2000                   /* the longest one turn of the loop waits */

static bool ready;
static struct sockaddr_in addr;
static struct event *tick, *wake;

/* Each finished request goes to the journal and the access log (off), as main.c's observe_cb. */
static void observe_cb(const struct mreq *r, void *arg)
{
	admin_journal_cb(r, NULL);
	accesslog_request(r, NULL);
}

static void nothing_cb(evutil_socket_t fd, short what, void *arg)
{
}

void mh_init(void)
{
	if (ready)
		return;
	struct buf err;
	buf_init(&err, 64 * 1024);
	signal(SIGPIPE, SIG_IGN);
	log_setup("mockd", LOG_TEXT, LOG_ERROR);  /* a warning a request (a regex that gave up) is noise here */
	mockd_cfg.time_scale = 0;
	mockd_cfg.keys_path = KEYS_PATH;
	mockd_rand_seed(mockd_cfg.seed);
	lifecycle_register_all(NULL);  /* the listeners are never freed: the process ends with the fuzzer */
	FUZZ_CHECK(keys_load(KEYS_PATH, &err) == 0, "cannot load %s (run from the repository's root): %s", KEYS_PATH,
		   buf_str(&err));
	FUZZ_CHECK(journal_init(JOURNAL_DEFAULT) == 0, "journal_init failed");

	struct event_config *ecfg = event_config_new();
	FUZZ_CHECK(ecfg, "event_config_new failed");
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	mockd_base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	FUZZ_CHECK(mockd_base, "cannot create the event base");

	struct evhttp *http = http_server_new(mockd_base, mockd_cfg.idle_timeout_s);
	FUZZ_CHECK(http, "cannot create the HTTP server");
	FUZZ_CHECK(guard_init(http, mockd_cfg.header_timeout_s, NULL, NULL) == 0, "guard_init failed");
	apis_register(mockd_cfg.apis);
	http_observe(observe_cb, NULL);
	accesslog_init(LOG_TEXT, false);

	struct evhttp_bound_socket *b = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	FUZZ_CHECK(b, "cannot listen on 127.0.0.1:0: %s", strerror(errno));
	guard_listener(b);
	int one = 1;
	evutil_socket_t lfd = evhttp_bound_socket_get_fd(b);
	setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	socklen_t len = sizeof(addr);
	FUZZ_CHECK(getsockname(lfd, (struct sockaddr *)&addr, &len) == 0, "getsockname failed");

	tick = evtimer_new(mockd_base, nothing_cb, NULL);
	FUZZ_CHECK(tick, "evtimer_new failed");
	buf_release(&err);
	ready = true;
}

static void reserve(unsigned char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	*p = realloc(*p, n);
	FUZZ_CHECK(*p, "out of memory");
	*cap = n;
}

static bool receive(struct mh_client *c);

/*
 * mockd wrote to us: read it now. A persistent event left readable would stay
 * active, and event_base_loop with EVLOOP_NONBLOCK (or ONCE) returns only once
 * no callback is active: it would spin for ever. At EOF the event goes.
 */
static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mh_client *c = arg;
	receive(c);
	if (c->eof && wake)
		event_del(wake);
}

void mh_open(struct mh_client *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	FUZZ_CHECK(c->fd >= 0, "socket: %s", strerror(errno));
	/*
	 * The kernel completes the handshake on loopback before mockd accepts; a
	 * blocking connect would fail with EINTR when libFuzzer's timer signal
	 * comes, so connect without blocking and wait for it to be writable.
	 */
	FUZZ_CHECK(evutil_make_socket_nonblocking(c->fd) == 0, "nonblocking failed");
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		FUZZ_CHECK(errno == EINPROGRESS || errno == EINTR, "connect: %s", strerror(errno));
		struct pollfd pfd = { c->fd, POLLOUT, 0 };
		int rc;
		while ((rc = poll(&pfd, 1, MH_BOUND_MS)) < 0 && errno == EINTR)
			;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		FUZZ_CHECK(rc == 1 && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0,
			   "connect: %s", rc == 1 ? strerror(soerr) : "timed out");
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	reserve(&c->in, &c->in_cap, 1);
	c->in[0] = '\0';
	c->deadline_us = mono_us() + MH_BOUND_MS * 1000LL;
	/* The loop wakes when mockd writes to us, not only at the tick. */
	wake = event_new(mockd_base, c->fd, EV_READ | EV_PERSIST, wake_cb, c);
	FUZZ_CHECK(wake && event_add(wake, NULL) == 0, "event_add failed");
}

void mh_send(struct mh_client *c, const void *p, size_t n)
{
	if (!n)
		return;
	reserve(&c->out, &c->out_cap, c->out_len + n);
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

void mh_shutdown_write(struct mh_client *c)
{
	c->want_shut = true;
}

/* Write what the socket takes, read what mockd sent; true when bytes arrived. */
static bool exchange(struct mh_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		c->out_off = c->out_len;  /* mockd closed: the rest cannot go */
	}
	if (c->out_off == c->out_len && c->want_shut && !c->shut) {
		shutdown(c->fd, SHUT_WR);
		c->shut = true;
	}
	return receive(c);
}

static bool receive(struct mh_client *c)
{
	bool got = false;
	while (!c->eof) {
		reserve(&c->in, &c->in_cap, c->in_len + 65536 + 1);
		ssize_t n = recv(c->fd, c->in + c->in_len, 65536, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			c->in[c->in_len] = '\0';
			got = true;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		c->eof = true;  /* 0: mockd closed; an error (a reset) is the end too */
	}
	return got;
}

bool mh_turn(struct mh_client *c)
{
	exchange(c);
	event_base_loop(mockd_base, EVLOOP_NONBLOCK);
	return exchange(c);
}

/* One turn that waits TICK_US at most for something to happen. */
static void turn_waiting(void)
{
	struct timeval tv = { 0, TICK_US };
	evtimer_add(tick, &tv);
	event_base_loop(mockd_base, EVLOOP_ONCE);
	evtimer_del(tick);
}

bool mh_run(struct mh_client *c, bool (*done)(struct mh_client *c, void *arg), void *arg)
{
	for (;;) {
		exchange(c);
		if ((done && done(c, arg)) || c->eof)
			return true;
		if (mono_us() > c->deadline_us)
			return false;
		turn_waiting();
	}
}

void mh_close(struct mh_client *c)
{
	if (wake) {
		event_free(wake);
		wake = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->out);
	free(c->in);
	c->out = c->in = NULL;
}

bool mh_rules_loaded(void)
{
	size_t n = 0, bytes = 0, max = 0;
	script_usage(&n, &bytes, &max);
	return n > 0;
}

bool mh_in_time(const struct mh_client *c)
{
	return mono_us() <= c->deadline_us;
}

bool mh_idle(void)
{
	return reply_count() == 0 && ws_pending_total() == 0;
}

int64_t mh_elapsed_ms(const struct mh_client *c)
{
	return (mono_us() - (c->deadline_us - MH_BOUND_MS * 1000LL)) / 1000;
}

void mh_settle(void)
{
	int64_t deadline = mono_us() + MH_BOUND_MS * 1000LL;
	int quiet = 0;
	/* A few turns more once nothing is open: frees deferred to the loop (ws.c's evhttp_connection_free). */
	while (quiet < 3) {
		if (ws_count() == 0 && reply_count() == 0 && stream_count() == 0) {
			quiet++;
			event_base_loop(mockd_base, EVLOOP_NONBLOCK);
			continue;
		}
		quiet = 0;
		if (mono_us() > deadline) {
			if (mh_rules_loaded())
				break;  /* a rule's real-time delay: the next reset drops the rest */
			FUZZ_CHECK(false, "mockd still holds %zu WebSockets, %zu replies, %zu streams %d ms after the client left",
				   ws_count(), reply_count(), stream_count(), MH_BOUND_MS);
		}
		turn_waiting();
	}
	struct buf err;
	buf_init(&err, 4096);
	FUZZ_CHECK(lifecycle_reset(&err) == 0, "lifecycle_reset failed: %s", buf_str(&err));
	buf_release(&err);
}
