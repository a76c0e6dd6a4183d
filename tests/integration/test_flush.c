/*
 * Flushing per event, proven on every streaming path: the flush cases (suites/<api>/flush.json) pass
 * against mockd and fail against a mockd that holds each reply and sends it in one piece at the end
 * (its "held" breaks), with a message that says the events arrived in one burst.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "tests/integration/harness.h"

#define OUT_MAX (8u << 20)
#define STR(s) ((char *)(s))

struct held {
	const char *brk;       /* the mockd break that holds the reply */
	const char *suite;     /* the flush suite of its API */
	const char *case_id;   /* the mock-only case of that path */
};

static const struct held paths[] = {
	{ "widget-held-stream", "suites/widget/flush.json", "widget.flush.paced" },
	{ "widget-held-stream", "suites/widget/flush.json", "widget.flush.paced_alias" },
	{ "deepwiki-held-stream", "suites/deepwiki/flush.json", "deepwiki.flush.paced_sse" },
	{ "botchat-held-stream", "suites/botchat/flush.json", "botchat.flush.paced" },
	{ "deepwiki-ws-held-reply", "suites/deepwiki/flush.json", "deepwiki.flush.paced_ws" },
	{ "threads-held-reply", "suites/threads/flush.json", "threads.flush.paced" },
};

static void setup(void)
{
	workdir_make("cc-flush");
}

TestSuite(flush, .init = setup, .fini = workdir_remove, .timeout = 120);

/* Run the suite (with the break when not NULL); the JSON report's object of case_id, or NULL. Free doc. */
static const cJSON *run(const char *suite, const char *brk, const char *case_id, cJSON **doc)
{
	char cc[512], mockd[512];
	bin_path("chatconform", cc, sizeof(cc));
	bin_path("mockd", mockd, sizeof(mockd));
	int rc = workdir_sh("run.out", "run.err", "%s run %s --strict --mockd %s %s%s --json '%s'", cc, suite, mockd,
			    brk ? "--mockd-arg=--break=" : "", brk ? brk : "", workdir_path("r.json"));
	cr_assert(rc == 0 || rc == 1, "exit %d: %s", rc, slurp_file(workdir_path("run.err"), OUT_MAX));
	char *text = slurp_file(workdir_path("r.json"), OUT_MAX);
	cJSON *parsed = cJSON_Parse(text);
	free(text);
	cr_assert(parsed != NULL, "the JSON report does not parse");
	*doc = parsed;
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(*doc, "cases"))
		if (strcmp(json_get_string(c, "id"), case_id) == 0)
			return c;
	return NULL;
}

Test(flush, every_streaming_path_is_paced_event_by_event)
{
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cJSON *doc = NULL;
		const cJSON *c = run(paths[i].suite, NULL, paths[i].case_id, &doc);
		cr_assert(c != NULL, "%s not in the report", paths[i].case_id);
		cr_expect(eq(str, STR(json_get_string(c, "outcome")), STR("pass")), "%s: %s", paths[i].case_id,
			  json_get_string(c, "message"));
		cJSON_Delete(doc);
	}
}

Test(flush, a_held_reply_fails_with_one_burst_on_every_path)
{
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cJSON *doc = NULL;
		const cJSON *c = run(paths[i].suite, paths[i].brk, paths[i].case_id, &doc);
		cr_assert(c != NULL, "%s not in the report", paths[i].case_id);
		cr_expect(eq(str, STR(json_get_string(c, "outcome")), STR("fail")), "%s under %s: %s", paths[i].case_id,
			  paths[i].brk, json_get_string(c, "message"));
		const char *msg = json_get_string(c, "message");
		cr_expect(msg && strstr(msg, "arrived in one burst"), "%s under %s: %s", paths[i].case_id,
			  paths[i].brk, msg ? msg : "(no message)");
		cJSON_Delete(doc);
	}
}
