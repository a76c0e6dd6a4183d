#include "mockd/pace.h"

#include <time.h>

#include "mockd/mockd.h"
#include "mockd/script.h"

/* Deadlines are capped a day after the start, as the delays they replace were. */
#define PACE_MAX_MS 86400000.0

int64_t pace_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void pace_start(struct pace *p, const struct reply_plan *plan)
{
	p->start_us = pace_now_us();
	p->at_ms = 0;
	p->due_us = p->start_us;
	p->scale = plan->unscaled ? 1.0 : mockd_cfg.time_scale;
	p->jitter_ms = plan->jitter_ms;
}

void pace_next(struct pace *p, int64_t ms)
{
	if (ms > 0)
		p->at_ms += ms;
	double at = (double)p->at_ms;
	/* One draw per event, as before: the same seed gives the same ids and jitter. */
	if (p->jitter_ms > 0)
		at += (double)((int64_t)(mockd_rand() % (uint64_t)(2 * p->jitter_ms + 1)) - p->jitter_ms);
	at *= p->scale;
	at = at < 0 ? 0 : at > PACE_MAX_MS ? PACE_MAX_MS : at;
	p->due_us = p->start_us + (int64_t)(at * 1000.0);
}

void pace_slip(struct pace *p, int64_t us)
{
	p->start_us += us;
	p->due_us += us;
}
