/*
 * ratelimit: fixed-window counters, one per (policy, client key).
 *
 * A window starts at the first request that finds no open window and lasts
 * window_ms on mockd's clock.  Policies say whether rejected requests count
 * (the widget counts every request; deepwiki only the accepted ones).
 */
#ifndef CC_MOCKD_RATELIMIT_H
#define CC_MOCKD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/*
 * How a window moves.  Only RL_FIXED is documented by any API; the other two
 * exist so that breaks can show that the suites tell them apart.
 */
enum rl_kind {
	RL_FIXED = 0,            /* opened by the first counted request, ends window_ms later */
	RL_SLIDING,              /* counts the requests of the last window_ms, whenever that began */
	RL_EXTENDING,            /* every counted request moves the end to window_ms after it */
};

struct rl_policy {
	const char *name;        /* "widget", "deepwiki.chat", ...: counters are per policy */
	int limit;               /* requests allowed per window */
	int64_t window_ms;
	bool count_rejected;     /* a rejected request still uses up the window */
	enum rl_kind kind;       /* RL_FIXED unless a break asks otherwise */
};

struct rl_result {
	bool allowed;
	int limit;
	int used;                /* requests counted in the window, this one included when counted */
	int remaining;
	int64_t reset_at_ms;     /* when the window ends (epoch ms, mockd's clock) */
	int retry_after_s;       /* seconds until the window ends, at least 1 */
};

/* Count one request of key under policy at now_ms and say whether it is allowed. */
void ratelimit_hit(const struct rl_policy *p, const char *key, int64_t now_ms, struct rl_result *out);
/* Forget every window. */
void ratelimit_reset(void);
/* The open windows as JSON: [{policy, key, used, limit, reset_at}] (for the admin API). */
cJSON *ratelimit_snapshot(int64_t now_ms);

#endif
