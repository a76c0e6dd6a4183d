/*
 * url: building the URL of a step (base + path + query), percent-encoding the query.
 */
#ifndef CC_RUNNER_URL_H
#define CC_RUNNER_URL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

/* Append s[0..n) percent-encoded: everything but RFC 3986 unreserved characters becomes %XX. */
void url_encode(struct buf *out, const char *s, size_t n);
/*
 * Append base (a trailing "/" dropped), path (which may hold "?..." already) and
 * query (an object of name -> string, number, boolean or array of them; NULL for
 * none), each name and value percent-encoded.  0, or -1 with the reason in err.
 */
int url_build(struct buf *out, const char *base, const char *path, const cJSON *query, struct buf *err);

#endif
