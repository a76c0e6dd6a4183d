/*
 * tls: https and wss on every listener (--tls-cert, --tls-key), with OpenSSL 3
 * under libevent's bufferevent_openssl.
 *
 * tls_setup loads the certificate and key; tls_bufferevent_new builds each
 * accepted connection's bufferevent as a TLS server (given to evhttp through
 * guard_init, which owns evhttp's one bevcb).  From then on evhttp, the streams
 * (stream.c) and WebSocket (ws.c) read and write plain bytes through that
 * bufferevent; whoever writes to the socket itself (a stream's fast path, a
 * cut's last flush) asks tls_bufferevent first and writes through OpenSSL
 * instead (tls_flush_now).
 */
#ifndef CC_MOCKD_TLS_H
#define CC_MOCKD_TLS_H

#include <stdbool.h>

#include "common/buf.h"

struct bufferevent;

struct event_base;

/* Load cert and key (PEM files) to serve TLS; -1 with the reason in err. */
int tls_setup(const char *cert_file, const char *key_file, struct buf *err);
/* A TLS server bufferevent for an accepted connection (its socket comes later); NULL when short of memory. */
struct bufferevent *tls_bufferevent_new(struct event_base *base, void *arg);
/* True once tls_setup has succeeded. */
bool tls_enabled(void);
/* True when bev is a TLS bufferevent (its bytes must not be written to its socket directly). */
bool tls_bufferevent(struct bufferevent *bev);
/*
 * Encrypt and send what bev's output holds, without waiting: what the socket
 * does not take now is lost (the connection is about to go).  With notify, a
 * close_notify alert follows, so that the peer reads a clean end of the TLS
 * stream, like the FIN of a plain connection, not a truncation.
 */
void tls_flush_now(struct bufferevent *bev, bool notify);
/* Free the TLS context (after evhttp_free). */
void tls_release(void);

#endif
