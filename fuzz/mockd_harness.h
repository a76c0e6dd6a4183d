/*
 * mockd_harness: mockd in the fuzzer's own process, and a client for it.
 *
 * mh_init sets mockd up once as main.c does (keys from fixtures/keys.json,
 * every API, the journal on, no access log, time scale 0, the guard), listening
 * on 127.0.0.1:0 of an event base the harness drives itself. A client is a
 * socket connected to it: what it sends is queued and written as the socket
 * takes it, what mockd answers is collected; mh_run turns the loop until a
 * condition holds, and aborts (a finding) when that takes longer than a bound.
 * mh_settle ends an input: it waits until mockd holds no connection, stream,
 * reply or WebSocket, then resets mockd through its lifecycle table, as
 * POST /__admin/reset does, so inputs are independent and memory does not grow.
 */
#ifndef CC_FUZZ_MOCKD_HARNESS_H
#define CC_FUZZ_MOCKD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MH_BOUND_MS 4000   /* a request mockd has not finished in this long is hung (or a rule's real-time delay) */

struct mh_client {
	int fd;
	unsigned char *out;        /* queued for mockd */
	size_t out_len, out_off, out_cap;
	unsigned char *in;         /* what mockd sent, NUL-terminated */
	size_t in_len, in_cap;
	bool eof;                  /* mockd closed (or reset) the connection */
	bool shut;                 /* our write side is shut (after out drained) */
	bool want_shut;
	int64_t deadline_us;
};

/* Set mockd up (once; later calls do nothing). */
void mh_init(void);
/* Connect a new client; its deadline is MH_BOUND_MS from now. */
void mh_open(struct mh_client *c);
/* Queue bytes for mockd. */
void mh_send(struct mh_client *c, const void *p, size_t n);
/* Shut our write side once everything queued has been written (mockd reads EOF). */
void mh_shutdown_write(struct mh_client *c);
/*
 * Turn the loop until done(c, arg) is true or mockd closed; false when the
 * bound passed first. what names the wait for the message.
 */
bool mh_run(struct mh_client *c, bool (*done)(struct mh_client *c, void *arg), void *arg);
/* One turn of the loop (without blocking) and whatever mockd sent collected; true when bytes arrived. */
bool mh_turn(struct mh_client *c);
/* Close the client and free its buffers. */
void mh_close(struct mh_client *c);
/*
 * After every client is closed: run the loop until mockd has let go of its
 * streams, replies and WebSockets (abort past the bound unless rules were
 * added, whose real-time delays may outlast it), then reset mockd.
 */
void mh_settle(void);
/* True when scripted rules are loaded (added by the input through the admin API). */
bool mh_rules_loaded(void);
/* True while c's bound has not passed. */
bool mh_in_time(const struct mh_client *c);
/* True when mockd has no reply in progress and nothing queued for a WebSocket. */
bool mh_idle(void);
/* Milliseconds since c was opened. */
int64_t mh_elapsed_ms(const struct mh_client *c);

#endif
