#include "mockd/tls.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ctx;

/* The newest OpenSSL error as text, into err after what. */
static void ssl_error(struct buf *err, const char *what, const char *file)
{
	char reason[256];
	ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
	buf_printf(err, "%s %s: %s", what, file, reason);
}

/*
 * evhttp's bevcb: each accepted connection gets a TLS server bufferevent (the
 * socket comes later, from evhttp's bufferevent_setfd, which starts the
 * handshake).  Dirty shutdowns are allowed: a client that closes its socket
 * without a close_notify (curl after a complete response, a browser tab that
 * goes) is an EOF, as over TCP, and not an error that evhttp would log.
 */
struct bufferevent *tls_bufferevent_new(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	/* Takes ownership of ssl (BEV_OPT_CLOSE_ON_FREE: SSL_free and the socket go with the bufferevent). */
	struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
								 BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int tls_setup(const char *cert_file, const char *key_file, struct buf *err)
{
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		buf_printf(err, "cannot create a TLS context");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/*
	 * No SSL_MODE_ENABLE_PARTIAL_WRITE: libevent's writer counts an SSL_write
	 * that returned n > 0 as its whole chunk written and moves on to the next.
	 */
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ssl_error(err, "cannot load the certificate", cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ssl_error(err, "cannot load the private key", key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		buf_printf(err, "the private key %s does not match the certificate %s", key_file, cert_file);
		goto fail;
	}
	return 0;
fail:
	tls_release();
	return -1;
}

bool tls_enabled(void)
{
	return ctx != NULL;
}

bool tls_bufferevent(struct bufferevent *bev)
{
	return ctx && bev && bufferevent_openssl_get_ssl(bev) != NULL;
}

void tls_flush_now(struct bufferevent *bev, bool notify)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	if (!ssl)
		return;
	struct evbuffer *out = bufferevent_get_output(bev);
	struct evbuffer_iovec v;
	while (evbuffer_peek(out, -1, NULL, &v, 1) > 0 && v.iov_len) {
		int n = SSL_write(ssl, v.iov_base, v.iov_len > 1u << 30 ? 1 << 30 : (int)v.iov_len);
		if (n <= 0)
			return;  /* the socket is full or gone: the rest is lost with the connection */
		evbuffer_drain(out, (size_t)n);
	}
	if (notify)
		SSL_shutdown(ssl);
}

void tls_release(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}
