/*
 * guard: what evhttp 2.1 does not do for a server facing hostile clients.
 *
 * - A deadline for a request's head: evhttp's timeout is reset by every read, so
 *   a client sending one header byte every 4 s held its connection for ever. A
 *   connection must deliver a whole request within --header-timeout of accept,
 *   and each later request within --header-timeout of its first byte (between
 *   requests --idle-timeout applies); otherwise it is closed.
 * - Accept at the descriptor limit: on EMFILE (or ENFILE, ENOBUFS, ENOMEM) a
 *   listener stops accepting for a moment instead of spinning on the error, the
 *   error is logged once a second at most, and connections are shed to make
 *   room: idle keep-alive ones first, then those that have waited longest for
 *   their head.
 *
 * It sees connections through evhttp's bufferevent callback (it makes each
 * connection's bufferevent) and an evbuffer callback on its input; it closes one
 * with shutdown(), so evhttp frees it on its own path when it reads the EOF.
 */
#ifndef CC_MOCKD_GUARD_H
#define CC_MOCKD_GUARD_H

#include <stdbool.h>

struct bufferevent;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;

/* Makes a connection's bufferevent (a TLS listener's, say); NULL means bufferevent_socket_new. */
typedef struct bufferevent *(*guard_bev_fn)(struct event_base *base, void *arg);

/* Watch every connection http accepts, with a head deadline of header_timeout_s; -1 when out of memory. */
int guard_init(struct evhttp *http, int header_timeout_s, guard_bev_fn make, void *make_arg);
/* Pause instead of spinning when b's accept fails (the descriptor limit). */
void guard_listener(struct evhttp_bound_socket *b);
/*
 * req has been read and handed to its route: its connection is idle until the
 * next request's first byte; streaming (a stream or a WebSocket keeps it) ends
 * the watch.
 */
void guard_request_done(struct evhttp_request *req, bool streaming);
/* Free the table (after evhttp_free). */
void guard_release(void);

#endif
