/*
 * Unit tests for mockd/pace.c's start of a schedule: the replies begun in one
 * turn of the event loop, within 1 ms of the first, share its start (their
 * events then fall due together); later ones, and those of the next turn,
 * start when they begin. No start is ever later than the moment it was made.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <event2/event.h>

#include "mockd/mockd.h"
#include "mockd/pace.h"
#include "mockd/script.h"
#include "tests/unit/unit.h"

static struct pace started[5];
static int64_t before[5], made_at[5];  /* the clock just before and just after each pace_start */
static int nstarted;

static void spin_us(int64_t us)
{
	int64_t until = pace_now_us() + us;
	while (pace_now_us() < until)
		;
}

static void start_one(void)
{
	struct reply_plan plan;
	memset(&plan, 0, sizeof(plan));
	before[nstarted] = pace_now_us();
	pace_start(&started[nstarted], &plan);
	made_at[nstarted++] = pace_now_us();
}

/* One loop turn: two replies 0.2 ms apart, then one 1.5 ms after the first. */
static void first_turn(evutil_socket_t fd, short what, void *arg)
{
	start_one();
	spin_us(200);
	start_one();
	spin_us(1300);
	start_one();
}

/* The next turn: one reply at once. */
static void second_turn(evutil_socket_t fd, short what, void *arg)
{
	start_one();
}

Test(pace, replies_of_one_turn_within_a_millisecond_start_together)
{
	mockd_cfg.time_scale = 1.0;
	mockd_base = event_base_new();
	cr_assert(mockd_base != NULL);
	struct timeval now = { 0, 0 }, later = { 0, 2000 };
	cr_assert(event_base_once(mockd_base, -1, EV_TIMEOUT, first_turn, NULL, &now) == 0);
	cr_assert(event_base_once(mockd_base, -1, EV_TIMEOUT, second_turn, NULL, &later) == 0);
	event_base_dispatch(mockd_base);
	cr_assert(eq(int, nstarted, 4));

	/* 0.2 ms later in the same turn: the same start (unless this process was held off the CPU for 0.8 ms). */
	if (made_at[1] - started[0].start_us <= 1000)
		cr_expect(eq(i64, started[1].start_us, started[0].start_us), "0.2 ms later, in the same turn: the same start");
	else if (before[1] - started[0].start_us > 1000)
		cr_expect(gt(i64, started[1].start_us, started[0].start_us), "begun over 1 ms after: a start of its own");
	cr_expect(eq(i64, started[1].due_us, started[1].start_us), "the first event is due at the start");
	cr_expect(gt(i64, started[2].start_us, started[0].start_us + 1000), "1.5 ms later: a start of its own");
	cr_expect(gt(i64, started[3].start_us, started[2].start_us), "the next turn: a start of its own");
	for (int i = 0; i < nstarted; i++)
		cr_expect(le(i64, started[i].start_us, made_at[i]), "reply %d starts no later than it began", i);
	event_base_free(mockd_base);
	mockd_base = NULL;
}
