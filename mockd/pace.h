/*
 * pace: the schedule of a paced reply, kept as deadlines from a fixed start.
 *
 * A reply's events are due at
 *
 *     start + (first_token + k x interval [+ stall]) x scale [+ the jitter of event k]
 *
 * where start is when the reply began (or, for the replies of one loop turn, when
 * the first of them began: see pace_start), scale is --time-scale (1 for a rule
 * with "scaled": false), and each event's jitter is drawn once from the seeded
 * generator and applied to its own deadline only.  Every delay moves the
 * position on the schedule, never "from now": a loop that runs late does not
 * push the later events back, it finds them due and sends them together.
 *
 * Time is CLOCK_MONOTONIC in microseconds, not libevent's cached time (coarse,
 * and stale by however long the current loop turn has run) nor mockd's clock
 * (which the admin API moves).
 */
#ifndef CC_MOCKD_PACE_H
#define CC_MOCKD_PACE_H

#include <stdint.h>

struct reply_plan;

struct pace {
	int64_t start_us;     /* monotonic time the schedule counts from */
	int64_t at_ms;        /* position of the next event: the scripted delays so far, unscaled, no jitter */
	int64_t due_us;       /* monotonic time the next event is due: position and its jitter, scaled */
	double scale;         /* --time-scale, or 1 for a rule that is not scaled */
	int64_t jitter_ms;
};

/* The monotonic clock in microseconds. */
int64_t pace_now_us(void);
/*
 * Start p's schedule now (or with the first reply of this loop turn, begun at most 1 ms ago), with
 * plan's scale and jitter; the first event is due at once.
 */
void pace_start(struct pace *p, const struct reply_plan *plan);
/* The next event comes ms of scripted time after the previous one (its jitter is drawn here). */
void pace_next(struct pace *p, int64_t ms);
/* Move the rest of the schedule us later (a reply paused for a slow reader: it slips, not bursts). */
void pace_slip(struct pace *p, int64_t us);

#endif
