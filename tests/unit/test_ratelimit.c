/* The fixed-window limiter, driven by mockd's movable clock. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "mockd/clock.h"
#include "mockd/ratelimit.h"

static void fresh(void)
{
	ratelimit_reset();
	clock_reset();
}

TestSuite(ratelimit, .init = fresh, .fini = fresh);

Test(ratelimit, allows_the_limit_then_refuses)
{
	struct rl_policy p = { "t.allow", 3, 60000, false, RL_FIXED };
	struct rl_result r;
	for (int i = 1; i <= 3; i++) {
		ratelimit_hit(&p, "client", clock_now_ms(), &r);
		cr_assert(r.allowed);
		cr_assert(eq(int, r.used, i));
		cr_assert(eq(int, r.remaining, 3 - i));
	}
	ratelimit_hit(&p, "client", clock_now_ms(), &r);
	cr_assert(not(r.allowed));
	cr_assert(eq(int, r.used, 3), "a rejected request does not count under this policy");
	cr_assert(eq(int, r.remaining, 0));
}

Test(ratelimit, rejected_requests_count_when_the_policy_says_so)
{
	struct rl_policy p = { "t.count", 2, 60000, true, RL_FIXED };
	struct rl_result r;
	for (int i = 0; i < 5; i++)
		ratelimit_hit(&p, "c", clock_now_ms(), &r);
	cr_assert(not(r.allowed));
	cr_assert(eq(int, r.used, 5));
}

Test(ratelimit, window_reopens_when_the_clock_moves)
{
	struct rl_policy p = { "t.window", 1, 60000, false, RL_FIXED };
	struct rl_result r;
	ratelimit_hit(&p, "c", clock_now_ms(), &r);
	cr_assert(r.allowed);
	ratelimit_hit(&p, "c", clock_now_ms(), &r);
	cr_assert(not(r.allowed));
	cr_assert(ge(int, r.retry_after_s, 59));
	cr_assert(le(int, r.retry_after_s, 60));
	clock_advance(59000);
	ratelimit_hit(&p, "c", clock_now_ms(), &r);
	cr_assert(not(r.allowed), "the window is 60 s from its first request");
	cr_assert(le(int, r.retry_after_s, 1));
	cr_assert(ge(int, r.retry_after_s, 1), "Retry-After is at least 1");
	clock_advance(1000);
	ratelimit_hit(&p, "c", clock_now_ms(), &r);
	cr_assert(r.allowed, "a new window opens at its end");
	cr_assert(eq(int, r.used, 1));
}

/* The window kinds the breaks use: fixed, sliding and extending tell apart only when requests are spread. */
static int allowed_at_61s(enum rl_kind kind, const char *name)
{
	struct rl_policy p = { name, 3, 60000, false, kind };
	struct rl_result r;
	int64_t t0 = 1000000;
	ratelimit_hit(&p, "c", t0, &r);               /* 1 early */
	ratelimit_hit(&p, "c", t0 + 30000, &r);       /* 2 late */
	ratelimit_hit(&p, "c", t0 + 30000, &r);
	ratelimit_hit(&p, "c", t0 + 30000, &r);
	cr_assert(not(r.allowed), "the window is full");
	int n = 0;
	for (int i = 0; i < 4; i++) {
		ratelimit_hit(&p, "c", t0 + 61000, &r);
		n += r.allowed;
	}
	return n;
}

Test(ratelimit, window_kinds_differ_when_requests_are_spread)
{
	cr_assert(eq(int, allowed_at_61s(RL_FIXED, "t.fixed"), 3), "a full window after the first one");
	cr_assert(eq(int, allowed_at_61s(RL_SLIDING, "t.sliding"), 1), "only the early request has slid out");
	cr_assert(eq(int, allowed_at_61s(RL_EXTENDING, "t.extending"), 0), "the last request moved the end to 90 s");
}

Test(ratelimit, keys_and_policies_are_separate)
{
	struct rl_policy a = { "t.a", 1, 60000, false, RL_FIXED }, b = { "t.b", 1, 60000, false, RL_FIXED };
	struct rl_result r;
	ratelimit_hit(&a, "x", clock_now_ms(), &r);
	ratelimit_hit(&a, "y", clock_now_ms(), &r);
	cr_assert(r.allowed, "another client has its own window");
	ratelimit_hit(&b, "x", clock_now_ms(), &r);
	cr_assert(r.allowed, "another policy has its own window");
	ratelimit_hit(&a, "x", clock_now_ms(), &r);
	cr_assert(not(r.allowed));
}

Test(ratelimit, snapshot_lists_open_windows_only)
{
	struct rl_policy p = { "t.snap", 5, 1000, false, RL_FIXED };
	struct rl_result r;
	ratelimit_hit(&p, "c1", clock_now_ms(), &r);
	cJSON *s = ratelimit_snapshot(clock_now_ms());
	cr_assert(eq(int, cJSON_GetArraySize(s), 1));
	cJSON_Delete(s);
	clock_advance(1000);
	s = ratelimit_snapshot(clock_now_ms());
	cr_assert(eq(int, cJSON_GetArraySize(s), 0));
	cJSON_Delete(s);
}
