#include "mockd/pace.h"

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

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

/*
 * When a schedule starts: at the moment its request was handled, except that
 * the replies of requests handled in one turn of the event loop, within
 * PACE_GROUP_US of the first of them, start together at its time. Their events
 * then fall due together and leave in one wake-up of the loop (10,000 streams
 * whose requests came at once would otherwise be spread by the time each
 * handler took, a wake-up an event). None starts before its request came: all
 * of the turn's requests had arrived when the turn began. libevent's cached
 * time tells one turn from the next (it is read again each turn).
 */
#define PACE_GROUP_US 1000

static int64_t start_now(void)
{
	static struct timeval turn;
	static int64_t first_us = INT64_MIN;
	struct timeval cached;
	int64_t now = pace_now_us();
	if (event_base_gettimeofday_cached(mockd_base, &cached) == 0 && cached.tv_sec == turn.tv_sec &&
	    cached.tv_usec == turn.tv_usec && now - first_us <= PACE_GROUP_US)
		return first_us;
	turn = cached;
	first_us = now;
	return now;
}

void pace_start(struct pace *p, const struct reply_plan *plan)
{
	p->start_us = start_now();
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
