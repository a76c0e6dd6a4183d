/* admin: the /__admin/ API (health, reset, scripts, journal, clock, ratelimits). */
#ifndef CC_MOCKD_ADMIN_H
#define CC_MOCKD_ADMIN_H

#include "common/buf.h"

struct api;
extern const struct api admin_api;

/* Reset store, counters, clock, journal and rules (rules from --scripts are loaded again). */
int admin_reset_all(struct buf *err);

#endif
