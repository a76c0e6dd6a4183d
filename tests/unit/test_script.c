/* The scripted backend: rule matching, once rules, faults, the default generator. */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "mockd/mockd.h"
#include "unit.h"
#include "mockd/script.h"

static void fresh(void)
{
	script_release();
	mockd_cfg.seed = 1;
}

TestSuite(script, .init = fresh, .fini = fresh);

static int add(const char *json)
{
	cJSON *j = cJSON_Parse(json);
	struct buf err;
	buf_init(&err, 4096);
	int rc = script_add(j, NULL, &err);
	buf_release(&err);
	cJSON_Delete(j);
	return rc;
}

Test(script, default_answer_is_deterministic)
{
	struct reply_plan a, b, c;
	script_plan("widget", NULL, "hello", &a);
	script_plan("widget", NULL, "hello", &b);
	script_plan("widget", NULL, "hello!", &c);
	cr_assert(eq(str, STR(a.text), STR(b.text)));
	cr_assert(ne(str, STR(a.text), STR(c.text)));
	cr_assert(gt(sz, a.ntokens, 0));
	cr_assert(eq(int, a.completion_tokens, (int)a.ntokens));
	size_t total = 0;
	for (size_t i = 0; i < a.ntokens; i++)
		total += strlen(a.tokens[i]);
	cr_assert(eq(sz, total, strlen(a.text)), "tokens add up to the text");
	mockd_cfg.seed = 2;
	struct reply_plan d;
	script_plan("widget", NULL, "hello", &d);
	cr_assert(ne(str, STR(a.text), STR(d.text)), "another seed, another answer");
	plan_release(&a);
	plan_release(&b);
	plan_release(&c);
	plan_release(&d);
}

Test(script, equals_contains_regex_and_api)
{
	cr_assert(eq(int, add("{\"api\":\"widget\",\"match\":{\"message\":\"exact\"},\"reply\":{\"text\":\"E\"}}"), 0));
	cr_assert(eq(int, add("{\"match\":{\"message\":{\"contains\":\"needle\"}},\"reply\":{\"text\":\"C\"}}"), 0));
	cr_assert(eq(int, add("{\"match\":{\"message\":{\"regex\":\"^re[0-9]+$\"}},\"reply\":{\"text\":\"R\"}}"), 0));
	struct reply_plan p;
	script_plan("widget", NULL, "exact", &p);
	cr_assert(eq(str, STR(p.text), STR("E")));
	plan_release(&p);
	script_plan("botchat", NULL, "exact", &p);
	cr_assert(ne(str, STR(p.text), STR("E")), "a rule for another API does not match");
	plan_release(&p);
	script_plan("widget", NULL, "hay needle hay", &p);
	cr_assert(eq(str, STR(p.text), STR("C")));
	plan_release(&p);
	script_plan("widget", NULL, "re42", &p);
	cr_assert(eq(str, STR(p.text), STR("R")));
	plan_release(&p);
	script_plan("widget", NULL, "re42x", &p);
	cr_assert(ne(str, STR(p.text), STR("R")));
	plan_release(&p);
}

Test(script, once_rules_are_consumed)
{
	add("{\"match\":{\"message\":\"m\"},\"once\":true,\"reply\":{\"tokens\":[\"a\",\" b\"]}}");
	struct reply_plan p;
	script_plan("widget", NULL, "m", &p);
	cr_assert(eq(sz, p.ntokens, 2));
	cr_assert(eq(str, STR(p.text), STR("a b")));
	plan_release(&p);
	script_plan("widget", NULL, "m", &p);
	cr_assert(ne(str, STR(p.text), STR("a b")));
	plan_release(&p);
}

Test(script, faults_and_timing)
{
	add("{\"match\":{\"message\":\"f\"},\"fault\":{\"type\":\"error_after\",\"tokens\":2},"
	    "\"timing\":{\"first_token_ms\":5,\"interval_ms\":7}}");
	struct reply_plan p;
	script_plan("widget", NULL, "f", &p);
	cr_assert(eq(int, p.fault, FAULT_ERROR_AFTER));
	cr_assert(eq(sz, p.fault_after, 2));
	cr_assert(eq(i64, p.first_token_ms, 5));
	cr_assert(eq(i64, p.interval_ms, 7));
	plan_release(&p);
}

Test(script, bad_rules_are_refused_whole)
{
	cr_assert(eq(int, add("{\"match\":{\"message\":{\"regex\":\"(\"}}}"), -1));
	cr_assert(eq(int, add("{\"fault\":{\"type\":\"explode\"}}"), -1));
	cr_assert(eq(int, add("{\"fault\":{\"type\":\"http_error\",\"status\":200}}"), -1));
	cr_assert(eq(int, add("{\"reply\":{\"text\":\"a\",\"tokens\":[]}}"), -1));
	cr_assert(eq(int, add("{\"typo\":1}"), -1));
	cr_assert(eq(int, add("[{\"reply\":{\"text\":\"ok\"}},{\"once\":\"yes\"}]"), -1));
	cJSON *list = script_list();
	cr_assert(eq(int, cJSON_GetArraySize(list), 0), "a batch with a bad rule adds nothing");
	cJSON_Delete(list);
}

Test(script, truncate_keeps_text_and_tokens_in_step)
{
	add("{\"match\":{\"message\":\"t\"},\"reply\":{\"text\":\"one two three four\"}}");
	struct reply_plan p;
	script_plan("widget", NULL, "t", &p);
	plan_truncate(&p, 2);
	cr_assert(eq(sz, p.ntokens, 2));
	cr_assert(eq(str, STR(p.text), STR("one two")));
	cr_assert(eq(int, p.completion_tokens, 2));
	plan_release(&p);
}
