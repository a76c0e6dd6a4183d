/*
 * Unit tests for stream timing: the figures (runner/timing.c) and the "timing"
 * member of a stream (runner/match.c), on synthetic events whose at_ms are set
 * by hand, and its validation at load time with JSON paths (HTTP expect and a
 * ws collect).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "runner/match.h"
#include "runner/timing.h"
#include "runner/wsstep.h"
#include "tests/unit/unit.h"

#define MAXEV 64

static struct event ev[MAXEV];
static size_t nev;
static struct buf diff, err;

static void setup(void)
{
	nev = 0;
	buf_init(&diff, 1 << 20);
	buf_init(&err, 1 << 16);
}

static void teardown(void)
{
	for (size_t i = 0; i < nev; i++) {
		free(ev[i].type);
		cJSON_Delete(ev[i].json);
		free(ev[i].raw);
	}
	buf_release(&diff);
	buf_release(&err);
}

TestSuite(timing, .init = setup, .fini = teardown);

/* One token event arriving at at_ms since the reference. */
static void arrive(double at_ms)
{
	cr_assert(nev < MAXEV);
	struct event *e = &ev[nev++];
	e->type = strdup("token");
	e->raw = strdup("{\"type\":\"token\"}");
	e->raw_len = strlen(e->raw);
	e->json = cJSON_Parse(e->raw);
	e->at_ms = at_ms;
}

/* n events: the first at first_ms, then one every interval_ms. */
static void paced(size_t n, double first_ms, double interval_ms)
{
	for (size_t i = 0; i < n; i++)
		arrive(first_ms + (double)i * interval_ms);
}

/* stream_check_events of the stream object text; the failure count, lines in diff. */
static int check(const char *stream)
{
	cJSON *s = cJSON_Parse(stream);
	cr_assert(s != NULL, "bad test stream %s", stream);
	buf_reset(&diff);
	int n = stream_check_events(s, ev, nev, NULL, &diff);
	cJSON_Delete(s);
	return n;
}

/* expect_validate of the expectation text: the error text ("" when valid). */
static const char *validate(const char *expect)
{
	cJSON *e = cJSON_Parse(expect);
	cr_assert(e != NULL, "bad test expectation %s", expect);
	buf_reset(&err);
	int rc = expect_validate(e, "cases[0].steps[1].expect", &err);
	cJSON_Delete(e);
	cr_assert(eq(int, rc, err.len ? -1 : 0), "rc %d with %s", rc, buf_str(&err));
	return buf_str(&err);
}

/* ---- the figures ------------------------------------------------------------------------- */

Test(timing, figures_of_a_paced_stream)
{
	paced(25, 52.5, 40);
	struct stream_timing t;
	cr_assert(eq(int, timing_compute(ev, nev, 1, &t), 0));
	cr_expect(eq(sz, t.count, 25));
	cr_expect(eq(dbl, t.first_ms, 52.5));
	cr_expect(eq(dbl, t.last_ms, 52.5 + 24 * 40));
	cr_expect(eq(dbl, t.spread_ms, 960));
	cr_expect(eq(dbl, t.gap_p50_ms, 40));
	cr_expect(eq(dbl, t.gap_p99_ms, 40));
	cr_expect(eq(dbl, t.gap_max_ms, 40));
	cr_expect(eq(sz, t.nticks, 25));
	cr_expect(eq(dbl, t.ticks[24], t.last_ms));
	timing_release(&t);
}

Test(timing, gap_percentiles_are_nearest_rank)
{
	/* Gaps 10 x 9, then one of 500: p50 10, p99 500 (the 10th of 10), max 500 after event 11. */
	paced(10, 0, 10);
	arrive(590);
	struct stream_timing t;
	cr_assert(eq(int, timing_compute(ev, nev, 0, &t), 0));
	cr_expect(eq(dbl, t.gap_p50_ms, 10));
	cr_expect(eq(dbl, t.gap_p99_ms, 500));
	cr_expect(eq(dbl, t.gap_max_ms, 500));
	cr_expect(eq(sz, t.gap_max_at, 11));
	cr_expect(eq(ptr, t.ticks, NULL));
	double sorted[] = { 1, 2, 3, 4 };
	cr_expect(eq(dbl, timing_percentile(sorted, 4, 50), 2));
	cr_expect(eq(dbl, timing_percentile(sorted, 4, 99), 4));
	cr_expect(eq(dbl, timing_percentile(sorted, 0, 50), -1));
	double m[] = { 9, 1, 5, 3 };
	cr_expect(eq(dbl, timing_median(m, 4), 4));
	cr_expect(eq(dbl, timing_median(m, 3), 3));
}

Test(timing, no_event_and_one_event)
{
	struct stream_timing t;
	cr_assert(eq(int, timing_compute(ev, 0, 1, &t), 0));
	cr_expect(eq(sz, t.count, 0));
	cr_expect(eq(dbl, t.first_ms, -1));
	cr_expect(eq(dbl, t.spread_ms, -1));
	arrive(7);
	cr_assert(eq(int, timing_compute(ev, nev, 0, &t), 0));
	cr_expect(eq(dbl, t.first_ms, 7));
	cr_expect(eq(dbl, t.gap_max_ms, -1));
	cr_expect(eq(dbl, t.spread_ms, -1));
}

Test(timing, ticks_are_sampled_evenly_past_the_cap)
{
	struct event *many = calloc(2000, sizeof(*many));
	for (size_t i = 0; i < 2000; i++)
		many[i].at_ms = (double)i;
	struct stream_timing t;
	cr_assert(eq(int, timing_compute(many, 2000, 1, &t), 0));
	cr_expect(eq(sz, t.nticks, TIMING_MAX_TICKS));
	cr_expect(eq(dbl, t.ticks[0], 0));
	cr_expect(eq(dbl, t.ticks[TIMING_MAX_TICKS - 1], 1999));
	timing_release(&t);
	free(many);
}

Test(timing, list_keeps_at_most_the_cap)
{
	struct timing_list l = { 0 };
	paced(3, 0, 1);
	for (size_t i = 0; i < TIMING_MAX_STREAMS + 2; i++) {
		struct stream_timing t;
		cr_assert(eq(int, timing_compute(ev, nev, 1, &t), 0));
		t.step = i + 1;
		timing_list_add(&l, &t);
		cr_expect(eq(ptr, t.ticks, NULL), "the list took the ticks or freed them");
	}
	cr_expect(eq(sz, l.n, TIMING_MAX_STREAMS));
	cr_expect(eq(sz, l.dropped, 2));
	timing_list_release(&l);
	cr_expect(eq(sz, l.n, 0));
}

/* ---- the check --------------------------------------------------------------------------- */

Test(timing, a_burst_fails_spread_with_the_burst_message)
{
	/* 25 events within 0.4 ms: what an unpaced server sends. */
	paced(25, 3.0, 0.4 / 24);
	cr_assert(eq(int, check("{\"timing\":{\"spread_ms\":{\"min\":300}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: the 25 events arrived in one burst (spread 0.4 ms, expected at least 300 ms)\n")));
}

Test(timing, a_paced_stream_passes)
{
	paced(25, 52, 40);
	cr_assert(eq(int, check("{\"timing\":{\"first_event_ms\":{\"max\":300},\"gap_ms\":{\"max\":500},"
				"\"spread_ms\":{\"min\":300}}}"), 0), "%s", buf_str(&diff));
	cr_assert(eq(int, check("{\"timing\":{\"first_event_ms\":{\"min\":50,\"max\":60},\"spread_ms\":{\"range\":[900,1000]}}}"), 0),
		  "%s", buf_str(&diff));
}

Test(timing, a_spread_too_short_but_not_a_burst)
{
	paced(5, 5, 30);
	cr_assert(eq(int, check("{\"timing\":{\"spread_ms\":{\"min\":300}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: the 5 events arrived over 120.0 ms (+5.0 to +125.0 ms), expected at least 300 ms\n")));
	cr_assert(eq(int, check("{\"timing\":{\"spread_ms\":{\"max\":100}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: the 5 events arrived over 120.0 ms (+5.0 to +125.0 ms), expected at most 100 ms\n")));
}

Test(timing, the_largest_gap_is_named)
{
	paced(7, 0, 50);
	arrive(300 + 812);
	arrive(1150);
	cr_assert(eq(int, check("{\"timing\":{\"gap_ms\":{\"max\":500}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: the largest gap between events was 812.0 ms (events 7 to 8), expected at most 500 ms\n")));
	cr_assert(eq(int, check("{\"timing\":{\"gap_ms\":{\"min\":1000}}}"), 1));
	assert_contains(buf_str(&diff), "expected at least 1000 ms");
}

Test(timing, the_first_event)
{
	paced(3, 1520.25, 10);
	cr_assert(eq(int, check("{\"timing\":{\"first_event_ms\":{\"max\":300}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: the first event arrived at +1520.2 ms, expected at most 300 ms\n")));
	cr_assert(eq(int, check("{\"timing\":{\"first_event_ms\":{\"min\":2000}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: the first event arrived at +1520.2 ms, expected at least 2000 ms\n")));
}

Test(timing, other_matchers_see_the_figure_in_ms)
{
	paced(3, 10.25, 10);
	cr_assert(eq(int, check("{\"timing\":{\"first_event_ms\":{\"type\":\"number\",\"not\":{\"range\":[0,100]}}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream: timing: first_event_ms: expected not {\"range\":[0,100]}, got 10.25\n")));
}

Test(timing, too_few_events_fail_with_what_was_missing)
{
	cr_assert(eq(int, check("{\"timing\":{\"first_event_ms\":{\"max\":300},\"spread_ms\":{\"min\":1}}}"), 2));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: first_event_ms: no event arrived\n"
			 "stream: timing: spread_ms: 0 events: nothing to measure (it takes two)\n")));
	arrive(1);
	cr_assert(eq(int, check("{\"timing\":{\"gap_ms\":{\"max\":300}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream: timing: gap_ms: 1 event: nothing to measure (it takes two)\n")));
}

Test(timing, bounds_from_variables_that_are_not_numbers)
{
	paced(3, 1, 1);
	cr_assert(eq(int, check("{\"timing\":{\"spread_ms\":{\"min\":\"300\"}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream: timing: spread_ms: min must be a number of ms, got \"300\"\n")));
}

Test(timing, checked_with_the_rest_of_an_http_stream)
{
	struct response r;
	response_init(&r);
	r.status = 200;
	r.format = STREAM_NDJSON;
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, response_add_event(&r, cJSON_Parse("{\"type\":\"token\"}"), "{}", 2, 0.1 * i, 100), 0));
	cJSON *e = cJSON_Parse("{\"stream\":{\"format\":\"ndjson\",\"count\":{\"token\":4},\"timing\":{\"spread_ms\":{\"min\":300}}}}");
	struct vars *v = vars_new(NULL);
	cr_assert(eq(int, expect_check(e, &r, v, &diff), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: the 4 events arrived in one burst (spread 0.3 ms, expected at least 300 ms)\n")));
	vars_free(v);
	cJSON_Delete(e);
	response_release(&r);
}

/* ---- validation --------------------------------------------------------------------------- */

Test(timing, good_timing_objects_load)
{
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"first_event_ms\":{\"max\":300},"
				       "\"gap_ms\":{\"min\":0,\"max\":500},\"spread_ms\":{\"min\":300}}}}")), STR("")));
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"spread_ms\":{\"min\":\"${MIN}\"},"
				       "\"gap_ms\":{\"range\":[null,500]}}}}")), STR("")));
}

Test(timing, bad_timing_objects_are_rejected_with_paths)
{
	const char *p = "cases[0].steps[1].expect.stream.timing";
	char want[512];
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":300}}")),
		     STR("cases[0].steps[1].expect.stream.timing: must be an object of first_event_ms, gap_ms and spread_ms, got number\n")));
	snprintf(want, sizeof(want), "%s: empty: give first_event_ms, gap_ms or spread_ms\n", p);
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{}}}")), STR(want)));
	snprintf(want, sizeof(want), "%s.first_token_ms: unknown member (expected first_event_ms, gap_ms or spread_ms)\n", p);
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"first_token_ms\":{\"max\":1}}}}")),
		     STR(want)));
	snprintf(want, sizeof(want), "%s.gap_ms: must be {\"min\": ms, \"max\": ms} (either or both) or a matcher object, got number\n", p);
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"gap_ms\":500}}}")), STR(want)));
	snprintf(want, sizeof(want), "%s.spread_ms.min: must be a number of milliseconds >= 0, got string\n", p);
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"spread_ms\":{\"min\":\"300\"}}}}")),
		     STR(want)));
	snprintf(want, sizeof(want), "%s.spread_ms.min: must be a number of milliseconds >= 0, got number\n", p);
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"spread_ms\":{\"min\":-1}}}}")),
		     STR(want)));
	snprintf(want, sizeof(want), "%s.spread_ms: min 500 is greater than max 300\n", p);
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"spread_ms\":{\"min\":500,\"max\":300}}}}")),
		     STR(want)));
	snprintf(want, sizeof(want),
		 "%s.gap_ms.range: unknown member (expected min or max; a matcher keyword cannot be mixed with them)\n", p);
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"gap_ms\":{\"max\":5,\"range\":[0,1]}}}}")),
		     STR(want)));
	snprintf(want, sizeof(want), "%s.gap_ms.range: range must be [min, max] of numbers (null for an open end)\n", p);
	cr_expect(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"gap_ms\":{\"range\":5}}}}")),
		     STR(want)));
}

Test(timing, a_ws_collect_validates_its_timing_too)
{
	cJSON *ws = cJSON_Parse(
		"{\"connections\":{\"a\":{\"path\":\"/ws\"}},\"script\":[{\"connect\":\"a\"},"
		"{\"send\":\"a\",\"json\":{\"type\":\"message\"}},"
		"{\"collect\":\"a\",\"until\":{\"/type\":\"end\"},\"stream\":{\"timing\":{\"spread_ms\":{\"mn\":300}}}}]}");
	cr_assert(ws != NULL);
	cr_assert(eq(int, wsstep_validate(ws, "cases[2].steps[0].ws", &err), -1));
	assert_contains(buf_str(&err), "cases[2].steps[0].ws.script[2].stream.timing.spread_ms.mn: unknown matcher keyword");
	cJSON_Delete(ws);
}

Test(timing, of_measures_one_event_type)
{
	/* A start sent at once, then 8 tokens held and sent together at the end: the whole stream looks
	 * spread (the start is early), the tokens do not. */
	arrive(1.0);
	free(ev[0].type);
	ev[0].type = strdup("start");
	paced(8, 480.0, 0.05);
	cr_assert(eq(int, check("{\"timing\":{\"spread_ms\":{\"min\":300}}}"), 0), "%s", buf_str(&diff));
	cr_assert(eq(int, check("{\"timing\":{\"of\":\"token\",\"spread_ms\":{\"min\":300}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: timing: the 8 token events arrived in one burst (spread 0.4 ms, expected at least "
			 "300 ms)\n")));
	cr_assert(eq(int, check("{\"timing\":{\"of\":\"end\",\"first_event_ms\":{\"max\":10}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream: timing: first_event_ms: no end event arrived\n")));
	cr_assert(eq(str, STR(validate("{\"stream\":{\"format\":\"sse\",\"timing\":{\"of\":1,\"gap_ms\":{\"max\":5}}}}")),
		     STR("cases[0].steps[1].expect.stream.timing.of: must be an event type, got number\n")));
}
