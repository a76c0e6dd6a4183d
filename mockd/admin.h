/* admin: the /__admin/ API (health, reset, scripts, journal, clock, ratelimits). */
#ifndef CC_MOCKD_ADMIN_H
#define CC_MOCKD_ADMIN_H

#include "common/buf.h"

struct api;
struct mreq;
extern const struct api admin_api;

/*
 * Record a finished request in the journal, unless it is an admin call: the
 * journal shows the traffic under test, not the test's own control calls.
 * An http_observer_fn (mockd/http.h); arg is unused.
 */
void admin_journal_cb(const struct mreq *r, void *arg);

#endif
