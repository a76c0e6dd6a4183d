/*
 * Leaving a stream part way, end to end: bin/chatconform runs
 * tests/data/suites/leave against the bundled mockd.  The case scripts a
 * widget reply of ten tokens 300 ms apart in real time ("scaled": false: about
 * 3 s), reads it with "leave_after": {"events": 2} under a total timeout of
 * 2 s, sleeps, and streams again on the same session.  The step passes only
 * if the runner left: reading to the end would pass the total timeout (an
 * error of the case).  The report shows what was read and that the client left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "harness.h"
#include "../unit/unit.h"


static cJSON *doc;

static void run_suite(void)
{
	workdir_make("cc-leave");
	doc = run_suite_report("leave", "", 0);
}

static void finish(void)
{
	cJSON_Delete(doc);
	doc = NULL;
	workdir_remove();
}

TestSuite(leave_cli, .init = run_suite, .fini = finish, .timeout = 60);

static const cJSON *the_case(void)
{
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "cases"), 0);
	cr_assert(c != NULL, "no case in the report");
	cr_assert(eq(str, STR(json_get_string(c, "id")), STR("widget.leave.after_two_events")));
	return c;
}

Test(leave_cli, the_step_leaves_and_passes_on_what_it_read)
{
	const cJSON *c = the_case();
	cr_expect(eq(str, STR(json_get_string(c, "outcome")), STR("pass")), "%s",
		  json_get_string(c, "message") ? json_get_string(c, "message") : "");
	const char *t = json_get_string(c, "transcript");
	cr_assert(t != NULL);
	/* Step 2: two events read, then we left: no third, no timeout, no cut stream. */
	const char *from = strstr(t, "--- step 2\n"), *to = strstr(t, "--- step 3");
	cr_assert(from && to && from < to, "%s", t);
	char *step2 = strndup(from, (size_t)(to - from));
	assert_contains(step2, "< event 1 start (+");
	assert_contains(step2, "< event 2 token (+");
	assert_contains(step2, "* left after 2 events: the runner closed the connection (leave_after)\n");
	cr_expect(strstr(step2, "< event 3 ") == NULL, "a third event was read:\n%s", step2);
	cr_expect(strstr(step2, "total timeout") == NULL);
	cr_expect(strstr(step2, "ended inside") == NULL);
	free(step2);
	/* The sleep step, then a whole stream on a new connection of the same client. */
	assert_contains(t, "--- step 3 (sleep)\n* slept 0.1 s\n");
	assert_contains(t, "--- step 4\n");
	assert_contains(t, " done (+");
}

Test(leave_cli, the_report_keeps_the_figures_of_what_was_read)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(the_case(), "timings");
	cr_assert(eq(int, cJSON_GetArraySize(ts), 2), "a stream in step 2 and one in step 4");
	const cJSON *left = cJSON_GetArrayItem(ts, 0);
	cr_expect(eq(dbl, cJSON_GetObjectItemCaseSensitive(left, "step")->valuedouble, 2));
	cr_expect(eq(dbl, cJSON_GetObjectItemCaseSensitive(left, "count")->valuedouble, 2));
}
