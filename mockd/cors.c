#include "mockd/cors.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/http.h>

/*
 * The response headers a client may need to read besides the safelisted ones
 * (Content-Type, Cache-Control, ...): every other header mockd sends on an
 * HTTP response (grep reply_header in mockd/).
 */
#define EXPOSE "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, " \
	       "WWW-Authenticate, Allow, X-Accel-Buffering"

enum cors_mode {
	MODE_DEFAULT,  /* loopback listeners, loopback origins */
	MODE_LIST,     /* every listener, the --cors origins */
	MODE_OFF,
};

static enum cors_mode mode;
static const char *origins[CORS_MAX_ORIGINS];
static size_t norigins;
static bool any_origin;

/* SCHEME://HOST[:PORT] as a browser writes an origin: the length of its host part, or 0. */
static size_t origin_host(const char *o, const char **host)
{
	const char *p;
	if (strncasecmp(o, "http://", 7) == 0)
		p = o + 7;
	else if (strncasecmp(o, "https://", 8) == 0)
		p = o + 8;
	else
		return 0;
	size_t n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/");
	if (n == 0 || (*p == '[' && p[n - 1] != ']'))
		return 0;
	const char *rest = p + n;
	if (*rest == ':') {
		size_t digits = strspn(rest + 1, "0123456789");
		if (digits == 0 || digits > 5)
			return 0;
		rest += 1 + digits;
	}
	if (*rest)
		return 0;  /* a path, a query: not an origin */
	*host = p;
	return n;
}

int cors_allow(const char *origin)
{
	const char *host;
	if (strcmp(origin, "*") != 0 && strcmp(origin, "null") != 0 && !origin_host(origin, &host))
		return -1;
	if (norigins == CORS_MAX_ORIGINS)
		return -1;
	if (strcmp(origin, "*") == 0)
		any_origin = true;
	origins[norigins++] = origin;
	if (mode != MODE_OFF)
		mode = MODE_LIST;
	return 0;
}

void cors_off(void)
{
	mode = MODE_OFF;
}

void cors_reset(void)
{
	mode = MODE_DEFAULT;
	norigins = 0;
	any_origin = false;
}

/* localhost, *.localhost, 127.x.x.x, [::1]: a page served from this machine. */
static bool loopback_origin(const char *o)
{
	const char *host;
	size_t n = origin_host(o, &host);
	char h[64];
	if (n == 0 || n >= sizeof(h))
		return false;
	memcpy(h, host, n);
	h[n] = '\0';
	struct in_addr a4;
	if (strcasecmp(h, "localhost") == 0 || (n > 10 && strcasecmp(h + n - 10, ".localhost") == 0))
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return strcmp(h, "[::1]") == 0;
}

/* True when req came in on a loopback address of this machine (a getsockname). */
static bool local_loopback(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static const char *request_origin(struct evhttp_request *req)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
}

enum cors_verdict cors_check(struct evhttp_request *req)
{
	const char *origin = request_origin(req);
	if (!origin || mode == MODE_OFF)
		return CORS_NONE;
	if (mode == MODE_DEFAULT)
		return !local_loopback(req) ? CORS_NONE : loopback_origin(origin) ? CORS_ALLOWED : CORS_REFUSED;
	if (any_origin)
		return CORS_ALLOWED;
	for (size_t i = 0; i < norigins; i++)
		if (strcasecmp(origins[i], origin) == 0)
			return CORS_ALLOWED;
	return CORS_REFUSED;
}

enum cors_verdict cors_annotate(struct evhttp_request *req)
{
	enum cors_verdict v = cors_check(req);
	if (v == CORS_NONE)
		return v;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	/* The answer depends on the Origin (allowed or not), whatever it was: caches must know. */
	evhttp_add_header(out, "Vary", "Origin");
	if (v == CORS_ALLOWED) {
		/* "*" only when configured: the APIs' credentials are headers and query keys, never cookies. */
		evhttp_add_header(out, "Access-Control-Allow-Origin", any_origin ? "*" : request_origin(req));
		evhttp_add_header(out, "Access-Control-Expose-Headers", EXPOSE);
	}
	return v;
}

bool cors_is_preflight(struct evhttp_request *req)
{
	return evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS &&
	       evhttp_find_header(evhttp_request_get_input_headers(req), "Access-Control-Request-Method");
}

void cors_preflight_headers(struct evhttp_request *req, const char *methods)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *asked = evhttp_find_header(evhttp_request_get_input_headers(req), "Access-Control-Request-Headers");
	evhttp_add_header(out, "Access-Control-Allow-Methods", methods);
	if (asked && *asked)
		evhttp_add_header(out, "Access-Control-Allow-Headers", asked);
	evhttp_add_header(out, "Access-Control-Max-Age", CORS_MAX_AGE);
}
