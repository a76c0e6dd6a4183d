/*
 * cors: Cross-Origin Resource Sharing, so that a page in a browser can call
 * mockd from another origin (a dev server on localhost:5173, a test page).
 *
 * On by default on loopback listeners, for pages on loopback origins
 * (http or https, localhost, 127.x.x.x or [::1], any port); --cors ORIGIN
 * (repeatable; "*" for any) turns it on for every listener with that list, and
 * --no-cors turns it off.  The HTTP core asks cors_annotate for every request
 * and answers preflights with cors_preflight; ws.c refuses a WebSocket
 * handshake from an origin cors_check refuses.  It knows no path and no API:
 * the core tells it which methods a path has.
 */
#ifndef CC_MOCKD_CORS_H
#define CC_MOCKD_CORS_H

#include <stdbool.h>

struct evhttp_request;

#define CORS_MAX_ORIGINS 32
#define CORS_MAX_AGE     "600"  /* seconds a browser may keep a preflight's answer */

enum cors_verdict {
	CORS_NONE,     /* no Origin header, or CORS is off for this connection: nothing to say */
	CORS_ALLOWED,  /* the origin may read the response */
	CORS_REFUSED,  /* a browser on that origin must not */
};

/* Allow origin ("*", "null" or SCHEME://HOST[:PORT]) on every listener; -1 when it is not one. */
int cors_allow(const char *origin);
/* Turn CORS off (--no-cors): no Access-Control-* header, no Origin check. */
void cors_off(void);
/* Back to the default (loopback listeners, loopback origins). */
void cors_reset(void);
/* What CORS says about req's Origin on req's connection. */
enum cors_verdict cors_check(struct evhttp_request *req);
/*
 * Add to req's response what an allowed origin needs on every response
 * (Access-Control-Allow-Origin, Access-Control-Expose-Headers, Vary); the verdict.
 */
enum cors_verdict cors_annotate(struct evhttp_request *req);
/* True when req is a preflight (OPTIONS with Access-Control-Request-Method). */
bool cors_is_preflight(struct evhttp_request *req);
/* Add a preflight's answer headers for an allowed origin; methods is what the path accepts ("GET, POST"). */
void cors_preflight_headers(struct evhttp_request *req, const char *methods);

#endif
