/*
 * Stream timing end to end: bin/chatconform runs tests/data/suites/timing
 * against the bundled mockd (at --time-scale 0).  Each case adds a scripted
 * rule, then streams its reply over HTTP (widget, NDJSON) or WebSocket
 * (deepwiki, a collect) and asks for "spread_ms": {"min": 300}:
 * - "paced": the rule says "scaled": false, so its 10 tokens come 40 ms apart
 *   in real time: the check passes;
 * - "unpaced": the same rule, scaled, so at scale 0 every event leaves at
 *   once: the check fails, saying so.
 * The JSON report carries each stream's figures, and the transcript the
 * arrival of each event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "harness.h"
#include "../unit/unit.h"

#define OUT_MAX (16u << 20)

static cJSON *doc;

static void run_suite(void)
{
	workdir_make("cc-timing");
	char extra[600];
	snprintf(extra, sizeof(extra), "-j 2 --junit '%s'", workdir_path("t.xml"));
	doc = run_suite_report("timing", extra, 1);  /* the unpaced cases fail the run */
}

static void finish(void)
{
	cJSON_Delete(doc);
	doc = NULL;
	workdir_remove();
}

TestSuite(timing_cli, .init = run_suite, .fini = finish, .timeout = 120);

static const cJSON *case_of(const char *id)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
		if (strcmp(json_get_string(c, "id"), id) == 0)
			return c;
	cr_fatal("no case %s in the report", id);
	return NULL;
}

/* The figure name of the case's only stream. */
static double figure(const cJSON *c, const char *name)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(c, "timings");
	cr_assert(eq(int, cJSON_GetArraySize(ts), 1), "one stream in %s", json_get_string(c, "id"));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ts, 0), name);
	cr_assert(cJSON_IsNumber(v), "%s of %s is a number", name, json_get_string(c, "id"));
	return v->valuedouble;
}

static void expect_outcome(const cJSON *c, const char *outcome)
{
	cr_expect(eq(str, STR(json_get_string(c, "outcome")), STR(outcome)), "%s: %s (%s)", json_get_string(c, "id"),
		  json_get_string(c, "outcome"), json_get_string(c, "message") ? json_get_string(c, "message") : "");
}

Test(timing_cli, an_http_stream_paced_in_real_time_passes_spread)
{
	const cJSON *c = case_of("widget.timing.paced");
	expect_outcome(c, "pass");
	/* start, ten tokens 40 ms apart (the first 50 ms after the request), done. */
	cr_expect(eq(dbl, figure(c, "count"), 12));
	cr_expect(figure(c, "spread_ms") >= 360, "spread %.3f", figure(c, "spread_ms"));
	cr_expect(figure(c, "gap_p50_ms") >= 35, "gap p50 %.3f", figure(c, "gap_p50_ms"));
	cr_expect(figure(c, "total_ms") >= figure(c, "spread_ms"));
	/* The transcript says when the headers and each event arrived. */
	const char *t = json_get_string(c, "transcript");
	assert_contains(t, "< HTTP/1.1 200 OK (headers +");
	assert_contains(t, "< event 1 start (+");
	assert_contains(t, "< event 12 done (+");
	assert_contains(t, ", gap ");
}

Test(timing_cli, an_http_stream_sent_at_once_fails_spread)
{
	const cJSON *c = case_of("widget.timing.unpaced");
	expect_outcome(c, "fail");
	const char *m = json_get_string(c, "message");
	cr_assert(m != NULL);
	assert_contains(m, "step 2: stream: timing: the 12 events arrived ");
	assert_contains(m, "expected at least 300 ms");
	cr_expect(figure(c, "spread_ms") < 300);
}

Test(timing_cli, a_ws_collect_paced_in_real_time_passes_spread)
{
	const cJSON *c = case_of("deepwiki.timing.paced");
	expect_outcome(c, "pass");
	cr_expect(eq(dbl, figure(c, "count"), 11));
	cr_expect(eq(dbl, figure(c, "item"), 4));
	/* Counted from the send (item 3), not from the connection's opening. */
	cr_expect(figure(c, "first_event_ms") >= 45 && figure(c, "first_event_ms") < 1000, "first %.3f",
		  figure(c, "first_event_ms"));
	cr_expect(figure(c, "spread_ms") >= 360, "spread %.3f", figure(c, "spread_ms"));
	assert_contains(json_get_string(c, "transcript"), " ms after item 3)");
}

Test(timing_cli, a_ws_collect_sent_at_once_fails_spread)
{
	const cJSON *c = case_of("deepwiki.timing.unpaced");
	expect_outcome(c, "fail");
	const char *m = json_get_string(c, "message");
	cr_assert(m != NULL);
	assert_contains(m, "ws item 4 (collect a): stream: timing: the 11 events arrived ");
	assert_contains(m, "expected at least 300 ms");
}

Test(timing_cli, junit_carries_the_figures)
{
	char *x = slurp_file(workdir_path("t.xml"), OUT_MAX);
	assert_contains(x, "Stream timings (ms; HTTP since the request went out, ws since the last send on the connection):");
	assert_contains(x, "  step 2 item 4 (collect a) ws: 11 events, first event ");
	free(x);
}
