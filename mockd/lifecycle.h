/*
 * lifecycle: what each module of mockd does on a reset, at shutdown and at
 * exit, in one table.
 *
 * Each module with state has one entry, registered once at start-up; the
 * three walks below are the only places that reset, stop or free modules, so
 * a step cannot be in one list and missing from another (the shutdown list
 * once lost the WebSocket 1001 close that way).
 *
 *     reset     POST /__admin/reset: forget what the run added      in registration order
 *     shutdown  SIGTERM/SIGINT: stop accepting, end streams and     in registration order
 *               WebSockets the way each protocol ends them
 *     release   exit: free everything                               in reverse order
 *
 * So a module registers after the modules it uses when it is freed (the
 * WebSockets, whose teardown drops their replies, after the replies; the
 * listeners, whose evhttp_free would free connections under them, before the
 * streams and WebSockets).
 */
#ifndef CC_MOCKD_LIFECYCLE_H
#define CC_MOCKD_LIFECYCLE_H

#include <stdbool.h>

#include "common/buf.h"

#define LIFECYCLE_MAX 24

struct lifecycle {
	const char *name;                 /* "store": for messages */
	int (*reset)(struct buf *err);    /* -1 with err when it cannot (a script file gone bad); NULL: no state */
	void (*shutdown)(void);           /* NULL: nothing to do before the loop stops */
	void (*release)(void);            /* NULL: nothing to free */
};

/*
 * The entries of mockd's modules (lifecycle.c); main registers them, and its
 * listeners' own, in this order: the state, then the listeners, then the
 * transports that use both.
 */
extern const struct lifecycle accesslog_lifecycle; /* the access lines held for the loop turn's end */
extern const struct lifecycle store_lifecycle;     /* conversations */
extern const struct lifecycle ratelimit_lifecycle; /* rate-limit windows */
extern const struct lifecycle clock_lifecycle;     /* the admin clock's offset */
extern const struct lifecycle journal_lifecycle;   /* the request journal */
extern const struct lifecycle keys_lifecycle;      /* keys and their token usage */
extern const struct lifecycle rand_lifecycle;      /* the seeded generator */
extern const struct lifecycle apis_lifecycle;      /* each API's own state (struct api.reset) */
extern const struct lifecycle script_lifecycle;    /* the scripted rules */
extern const struct lifecycle reply_lifecycle;     /* paced replies: those left at exit (jobs) */
extern const struct lifecycle stream_lifecycle;    /* HTTP streams: ended with the API's error event */
extern const struct lifecycle ws_lifecycle;        /* WebSockets: closed with 1001 */

/*
 * Register every entry above in its order, with listeners (the program's own
 * entry for its evhttp and sockets; NULL for none) after the scripts and
 * before the replies, streams and WebSockets.
 */
void lifecycle_register_all(const struct lifecycle *listeners);
/* Add an entry (m must outlive the table: static); aborts past LIFECYCLE_MAX, a programming error. */
void lifecycle_register(const struct lifecycle *m);
/* Reset every module, in order; -1 with err naming the first that failed (the others are reset still). */
int lifecycle_reset(struct buf *err);
/* Shut every module down, in order. Once: a second call does nothing. */
void lifecycle_shutdown(void);
/* Free every module, in reverse order, and empty the table. */
void lifecycle_release(void);

#endif
