/* guard: a deadline for a request's head, and accept at the descriptor limit (see guard.h). */
#include "mockd/guard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "mockd/mockd.h"

#define SWEEP_MS      250   /* how often late heads are looked for: a deadline is kept to within this */
#define SHED_BATCH    64    /* connections shed each time accept fails */
#define PAUSE_SHED_MS 10    /* accept again this soon when some were shed (their descriptors close first) */
#define PAUSE_MS      100   /* else this late: nothing could be freed, so do not spin */
#define MAX_WATCHED_LISTENERS 16

/*
 * One watched connection. The bufferevent is dereferenced only while it is
 * known to be alive: in its own input callback, from the request it serves,
 * while our reference holds it (from accept until its descriptor is known), or
 * once getpeername() on its descriptor still names its peer (evhttp closes the
 * socket only when it frees the connection).
 */
struct guard_conn {
	struct bufferevent *bev;
	struct evbuffer *input;
	struct evbuffer_cb_entry *cb;
	int fd;                            /* -1 until known */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	bool idle;                         /* between requests: in idle_q; else waiting for a head, in head_q */
	bool held;                         /* our reference from accept is still held */
	int64_t deadline_ms;
	TAILQ_ENTRY(guard_conn) link;
};
TAILQ_HEAD(guard_q, guard_conn);

struct guard_listener {
	struct evconnlistener *lev;
	struct event *resume;
};

static int header_timeout_ms;
static guard_bev_fn make_bev;
static void *make_bev_arg;
static struct guard_q head_q = TAILQ_HEAD_INITIALIZER(head_q);  /* by deadline, earliest first */
static struct guard_q idle_q = TAILQ_HEAD_INITIALIZER(idle_q);  /* by when they went idle */
static struct guard_conn **by_fd;                                 /* the connection on each descriptor */
static size_t by_fd_cap;
static struct guard_conn **fresh;                                 /* accepted, descriptor not yet known */
static size_t nfresh, fresh_cap;
static struct event *resolve_ev, *sweep_ev;
static struct guard_listener listeners[MAX_WATCHED_LISTENERS];
static size_t nlisteners;
static int64_t last_log_ms = -1;
static unsigned long unlogged;

/* ---- the table --------------------------------------------------------------------------- */

static struct guard_q *queue_of(struct guard_conn *g)
{
	return g->idle ? &idle_q : &head_q;
}

/* Drop g from every index and free it; detach from its input only when the connection lives on. */
static void forget(struct guard_conn *g, bool alive)
{
	TAILQ_REMOVE(queue_of(g), g, link);
	if (g->fd >= 0 && (size_t)g->fd < by_fd_cap && by_fd[g->fd] == g)
		by_fd[g->fd] = NULL;
	if (alive)
		evbuffer_remove_cb_entry(g->input, g->cb);
	free(g);
}

/* Learn g's descriptor and peer (its bufferevent is alive); -1 when the socket is already gone. */
static int resolve(struct guard_conn *g)
{
	if (g->fd >= 0)
		return 0;
	int fd = bufferevent_getfd(g->bev);
	g->peer_len = sizeof(g->peer);
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&g->peer, &g->peer_len) < 0)
		return -1;
	if ((size_t)fd >= by_fd_cap) {
		size_t cap = by_fd_cap ? by_fd_cap : 1024;
		while (cap <= (size_t)fd)
			cap *= 2;
		struct guard_conn **grown = realloc(by_fd, cap * sizeof(*grown));
		if (!grown)
			return -1;
		memset(grown + by_fd_cap, 0, (cap - by_fd_cap) * sizeof(*grown));
		by_fd = grown;
		by_fd_cap = cap;
	}
	/* The descriptor was someone else's: that connection is gone (its bufferevent too). */
	if (by_fd[fd])
		forget(by_fd[fd], false);
	by_fd[fd] = g;
	g->fd = fd;
	return 0;
}

/* True when g's descriptor is still the socket it was accepted as. */
static bool alive(const struct guard_conn *g)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	return g->fd >= 0 && getpeername(g->fd, (struct sockaddr *)&ss, &len) == 0 && len == g->peer_len &&
	       memcmp(&ss, &g->peer, len) == 0;
}

/*
 * Close g's connection if it is still there: shutdown() makes evhttp read an
 * EOF and free it on its own path (closing the socket under it would not).
 * True when a live connection was closed.
 */
static bool close_conn(struct guard_conn *g)
{
	bool live = alive(g);
	if (live)
		shutdown(g->fd, SHUT_RDWR);
	forget(g, live);
	return live;
}

static void enqueue(struct guard_conn *g, bool idle)
{
	TAILQ_REMOVE(queue_of(g), g, link);
	g->idle = idle;
	g->deadline_ms = mono_ms() + header_timeout_ms;
	TAILQ_INSERT_TAIL(queue_of(g), g, link);
}

/* ---- callbacks ----------------------------------------------------------------------------- */

/* Bytes arrived: the first of a request starts its head's deadline. */
static void input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct guard_conn *g = arg;
	if (info->n_added == 0)
		return;
	resolve(g);
	if (g->idle)
		enqueue(g, false);
}

/* Right after accept (the same loop turn): the descriptors of the new connections are known now. */
static void resolve_cb(evutil_socket_t fd, short what, void *arg)
{
	size_t n = nfresh;
	nfresh = 0;
	for (size_t i = 0; i < n; i++) {
		struct guard_conn *g = fresh[i];
		struct bufferevent *bev = g->bev;
		bufferevent_data_cb readcb = NULL;
		bufferevent_getcb(bev, &readcb, NULL, NULL, NULL);
		g->held = false;
		/* No read callback: evhttp could not set the connection up and freed it. */
		if (!readcb || resolve(g) < 0)
			forget(g, true);
		bufferevent_decref(bev);
	}
}

/* Room for one more in fresh; -1 when out of memory. */
static int fresh_reserve(void)
{
	if (nfresh < fresh_cap)
		return 0;
	size_t cap = fresh_cap ? 2 * fresh_cap : 64;
	struct guard_conn **grown = realloc(fresh, cap * sizeof(*grown));
	if (!grown)
		return -1;
	fresh = grown;
	fresh_cap = cap;
	return 0;
}

/* evhttp's bufferevent callback: make the connection's bufferevent and watch it. */
static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	struct bufferevent *bev = make_bev ? make_bev(base, make_bev_arg) : bufferevent_socket_new(base, -1, 0);
	if (!bev)
		return NULL;
	struct guard_conn *g = calloc(1, sizeof(*g));
	if (!g || fresh_reserve() < 0) {
		free(g);
		return bev; /* out of memory: this one goes unwatched */
	}
	g->bev = bev;
	g->input = bufferevent_get_input(bev);
	g->fd = -1;
	g->cb = evbuffer_add_cb(g->input, input_cb, g);
	if (!g->cb) {
		free(g);
		return bev;
	}
	/* evhttp sets the descriptor after this returns: hold the bufferevent until resolve_cb learns it. */
	bufferevent_incref(bev);
	g->held = true;
	fresh[nfresh++] = g;
	g->deadline_ms = mono_ms() + header_timeout_ms;
	TAILQ_INSERT_TAIL(&head_q, g, link);
	event_active(resolve_ev, EV_TIMEOUT, 0);
	return bev;
}

/* Close the connections whose head is late. O(late ones): head_q is in deadline order. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	int64_t now = mono_ms();
	struct guard_conn *g;
	while ((g = TAILQ_FIRST(&head_q)) && g->deadline_ms <= now && !g->held)
		close_conn(g);
}

/* Close up to n connections: idle ones first, then those that have waited longest for their head. */
static unsigned shed(unsigned n)
{
	unsigned done = 0;
	struct guard_q *qs[2] = { &idle_q, &head_q };
	for (int q = 0; q < 2; q++) {
		struct guard_conn *g, *next;
		for (g = TAILQ_FIRST(qs[q]); g && done < n; g = next) {
			next = TAILQ_NEXT(g, link);
			if (!g->held && close_conn(g))
				done++;
		}
	}
	return done;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard_listener *l = arg;
	evconnlistener_enable(l->lev);
}

/*
 * accept() failed with the listener still readable (EMFILE: the connection
 * waits in the queue). libevent would log and retry at once, in a loop: 100%
 * CPU and megabytes of the same line a second. Pause the listener, make room,
 * and log once a second at most.
 */
static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct guard_listener *l = NULL;
	for (size_t i = 0; i < nlisteners; i++)
		if (listeners[i].lev == lev)
			l = &listeners[i];
	unsigned freed = shed(SHED_BATCH);
	int pause_ms = freed ? PAUSE_SHED_MS : PAUSE_MS;
	if (l && l->resume) {
		struct timeval tv = { 0, pause_ms * 1000 };
		evconnlistener_disable(lev);
		evtimer_add(l->resume, &tv);
	}
	int64_t now = mono_ms();
	if (last_log_ms >= 0 && now - last_log_ms < 1000) {
		unlogged++;
		return;
	}
	log_warn("cannot accept: %s: closed %u idle or slow connections, accepting again in %d ms "
		 "(%lu more of these in the last second)", evutil_socket_error_to_string(err), freed, pause_ms,
		 unlogged);
	last_log_ms = now;
	unlogged = 0;
}

/* ---- the interface ------------------------------------------------------------------------- */

int guard_init(struct evhttp *http, int header_timeout_s, guard_bev_fn make, void *make_arg)
{
	header_timeout_ms = header_timeout_s * 1000;
	make_bev = make;
	make_bev_arg = make_arg;
	resolve_ev = event_new(mockd_base, -1, 0, resolve_cb, NULL);
	sweep_ev = event_new(mockd_base, -1, EV_PERSIST, sweep_cb, NULL);
	struct timeval tv = { 0, SWEEP_MS * 1000 };
	if (!resolve_ev || !sweep_ev || event_add(sweep_ev, &tv) < 0)
		return -1;
	evhttp_set_bevcb(http, bev_cb, NULL);
	return 0;
}

void guard_listener(struct evhttp_bound_socket *b)
{
	struct evconnlistener *lev = evhttp_bound_socket_get_listener(b);
	if (!lev || nlisteners == MAX_WATCHED_LISTENERS)
		return;
	struct guard_listener *l = &listeners[nlisteners++];
	l->lev = lev;
	l->resume = evtimer_new(mockd_base, resume_cb, l);
	evconnlistener_set_error_cb(lev, accept_error_cb);
}

void guard_request_done(struct evhttp_request *req, bool streaming)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	int fd = bev ? bufferevent_getfd(bev) : -1;
	struct guard_conn *g = fd >= 0 && (size_t)fd < by_fd_cap ? by_fd[fd] : NULL;
	if (!g || g->bev != bev)
		return;
	if (streaming)
		forget(g, true);
	else
		enqueue(g, true);
}

void guard_release(void)
{
	struct guard_conn *g;
	while ((g = TAILQ_FIRST(&head_q)))
		forget(g, false);
	while ((g = TAILQ_FIRST(&idle_q)))
		forget(g, false);
	for (size_t i = 0; i < nlisteners; i++)
		if (listeners[i].resume)
			event_free(listeners[i].resume);
	nlisteners = 0;
	if (resolve_ev)
		event_free(resolve_ev);
	if (sweep_ev)
		event_free(sweep_ev);
	resolve_ev = sweep_ev = NULL;
	free(by_fd);
	free(fresh);
	by_fd = fresh = NULL;
	by_fd_cap = nfresh = fresh_cap = 0;
}
