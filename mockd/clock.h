/*
 * clock: mockd's notion of "now", which the admin API can move forward.
 *
 * Every rate-limit window and every timestamp mockd writes reads this clock, so
 * a suite can see a window reopen without waiting a minute.  Pacing of replies
 * uses CLOCK_MONOTONIC (mockd/pace.c), not this clock.
 */
#ifndef CC_MOCKD_CLOCK_H
#define CC_MOCKD_CLOCK_H

#include <stdint.h>

/* Epoch milliseconds: the wall clock plus every advance since the last reset. */
int64_t clock_now_ms(void);
/* Move the clock forward by ms (>= 0). */
void clock_advance(int64_t ms);
/*
 * Set the clock to epoch_ms, forward or back (the offset from the wall clock is
 * kept, so it goes on ticking from there).  Windows and timestamps already
 * written stay as they are: moving back can leave a window open longer.
 */
void clock_set(int64_t epoch_ms);
/* How far the clock has been moved. */
int64_t clock_offset_ms(void);
/* Back to the wall clock. */
void clock_reset(void);

#endif
