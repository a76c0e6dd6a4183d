/* The scripted backend: rule matching, once rules, faults, the default generator. */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
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

/* ---- sharing: plans reference their rule's answer (issue 11) ---------------------------------- */

static const char shared_rule[] =
	"{\"id\":\"shared\",\"match\":{\"message\":\"s\"},\"reply\":{\"text\":\"one two three four\"},"
	"\"fault\":{\"type\":\"http_error\",\"status\":503,\"code\":\"C\",\"message\":\"M\",\"body\":{\"e\":1}},"
	"\"sources\":[{\"title\":\"T\"}]}";

/* What a plan of shared_rule must still show, however the rule and the other plans have fared. */
static void assert_shared_plan(const struct reply_plan *p)
{
	cr_assert(eq(str, STR(p->rule_id), STR("shared")));
	cr_assert(eq(str, STR(p->text), STR("one two three four")));
	cr_assert(eq(sz, p->ntokens, 4));
	cr_assert(eq(str, STR(p->tokens[0]), STR("one")));
	cr_assert(eq(str, STR(p->tokens[3]), STR(" four")));
	cr_assert(eq(str, STR(p->fault_code), STR("C")));
	cr_assert(eq(str, STR(p->fault_message), STR("M")));
	cr_assert(cJSON_IsObject(p->fault_body));
	const cJSON *sources = cJSON_GetObjectItemCaseSensitive(p->extra, "sources");
	cr_assert(eq(str, STR(json_get_string(cJSON_GetArrayItem(sources, 0), "title")), STR("T")));
}

Test(script, plans_of_one_rule_share_its_answer)
{
	cr_assert(eq(int, add(shared_rule), 0));
	struct reply_plan a, b;
	script_plan("widget", NULL, "s", &a);
	script_plan("widget", NULL, "s", &b);
	assert_shared_plan(&a);
	assert_shared_plan(&b);
	cr_assert(eq(ptr, (void *)a.tokens, (void *)b.tokens), "one token array for both plans");
	cr_assert(eq(ptr, (void *)a.tokens[1], (void *)b.tokens[1]));
	cr_assert(eq(ptr, (void *)a.text, (void *)b.text));
	cr_assert(eq(ptr, (void *)a.fault_code, (void *)b.fault_code));
	cr_assert(eq(ptr, (void *)a.fault_body, (void *)b.fault_body));
	cr_assert(eq(ptr, (void *)a.extra, (void *)b.extra), "extra is the rule's definition, not a copy");
	plan_release(&a);
	assert_shared_plan(&b);
	plan_release(&b);
	/* The other order, and a third plan after both are gone. */
	script_plan("widget", NULL, "s", &a);
	script_plan("widget", NULL, "s", &b);
	plan_release(&b);
	assert_shared_plan(&a);
	plan_release(&a);
	script_plan("widget", NULL, "s", &a);
	assert_shared_plan(&a);
	plan_release(&a);
}

Test(script, a_deleted_rule_leaves_live_plans_whole)
{
	cr_assert(eq(int, add(shared_rule), 0));
	struct reply_plan a, b;
	script_plan("widget", NULL, "s", &a);
	script_plan("widget", NULL, "s", &b);
	script_clear_runtime(); /* the admin DELETE */
	struct reply_plan c;
	script_plan("widget", NULL, "s", &c);
	cr_assert(eq(str, STR(c.rule_id), STR("")), "the rule is gone");
	plan_release(&c);
	assert_shared_plan(&a);
	plan_release(&a);
	assert_shared_plan(&b);
	plan_release(&b);

	cr_assert(eq(int, add(shared_rule), 0));
	script_plan("widget", NULL, "s", &a);
	cr_assert(eq(int, script_reset(NULL, NULL), 0)); /* the admin reset, without --scripts */
	assert_shared_plan(&a);
	plan_release(&a);

	cr_assert(eq(int, add(shared_rule), 0));
	script_plan("widget", NULL, "s", &a);
	script_release(); /* shutdown with a reply still open */
	assert_shared_plan(&a);
	plan_release(&a);
}

Test(script, a_consumed_once_rule_leaves_its_plan_whole)
{
	cr_assert(eq(int, add("{\"id\":\"o\",\"once\":true,\"match\":{\"message\":\"o\"},"
			      "\"reply\":{\"tokens\":[\"x\",\" y\"]},\"fault\":{\"type\":\"error_after\","
			      "\"message\":\"gone\"},\"research\":{\"summary\":\"S\"}}"), 0));
	struct reply_plan p;
	script_plan("widget", NULL, "o", &p);
	cJSON *list = script_list();
	cr_assert(eq(int, cJSON_GetArraySize(list), 0), "the once rule is gone");
	cJSON_Delete(list);
	cr_assert(eq(str, STR(p.text), STR("x y")));
	cr_assert(eq(str, STR(p.tokens[1]), STR(" y")));
	cr_assert(eq(str, STR(p.fault_message), STR("gone")));
	const cJSON *research = cJSON_GetObjectItemCaseSensitive(p.extra, "research");
	cr_assert(eq(str, STR(json_get_string(research, "summary")), STR("S")));
	plan_release(&p);
}

Test(script, truncating_one_plan_leaves_the_others_alone)
{
	cr_assert(eq(int, add(shared_rule), 0));
	struct reply_plan a, b;
	script_plan("widget", NULL, "s", &a);
	script_plan("widget", NULL, "s", &b);
	plan_truncate(&a, 10); /* more than it has: nothing to do */
	cr_assert(eq(ptr, (void *)a.text, (void *)b.text));
	plan_truncate(&a, 3);
	plan_truncate(&a, 2); /* again, shorter: the first cut text is freed */
	cr_assert(eq(str, STR(a.text), STR("one two")));
	cr_assert(eq(sz, a.ntokens, 2));
	cr_assert(eq(int, a.completion_tokens, 2));
	cr_assert(eq(ptr, (void *)a.tokens, (void *)b.tokens), "the token array is still shared");
	assert_shared_plan(&b);
	cr_assert(eq(int, b.completion_tokens, 4));
	plan_release(&b);
	cr_assert(eq(str, STR(a.text), STR("one two")));
	plan_release(&a);
	struct reply_plan c;
	script_plan("widget", NULL, "s", &c);
	assert_shared_plan(&c); /* a new plan gets the whole answer */
	plan_release(&c);
}

Test(script, a_rule_without_reply_shares_its_definition)
{
	cr_assert(eq(int, add("{\"id\":\"noreply\",\"match\":{\"message\":\"n\"},"
			      "\"fault\":{\"type\":\"stall_after\",\"tokens\":1,\"ms\":5,\"message\":\"late\"}}"), 0));
	struct reply_plan a, b, d;
	script_plan("widget", NULL, "n", &a);
	script_plan("widget", NULL, "n", &b);
	script_clear_runtime();
	script_plan("widget", NULL, "n", &d); /* the generator's answer to the same message */
	cr_assert(eq(str, STR(a.text), STR(d.text)), "the generator writes the text");
	cr_assert(eq(sz, a.ntokens, d.ntokens));
	cr_assert(eq(i64, a.first_token_ms, 200), "at the generator's pace without a timing");
	cr_assert(eq(int, a.fault, FAULT_STALL_AFTER));
	cr_assert(eq(i64, a.fault_ms, 5));
	cr_assert(eq(str, STR(a.fault_message), STR("late")));
	cr_assert(eq(ptr, (void *)a.extra, (void *)b.extra));
	cr_assert(eq(str, STR(a.rule_id), STR("noreply")));
	plan_release(&a);
	cr_assert(eq(str, STR(b.fault_message), STR("late")));
	plan_release(&b);
	plan_release(&d);
}

Test(script, a_plan_moves_by_copy_and_releases_once)
{
	struct reply_plan a, moved;
	script_plan("widget", NULL, "nothing matches", &a);
	cr_assert(eq(str, STR(a.rule_id), STR("")));
	cr_assert(gt(sz, a.ntokens, 0));
	moved = a; /* what reply_start does */
	memset(&a, 0, sizeof(a));
	plan_release(&a); /* a zeroed plan: nothing to drop */
	size_t total = 0;
	for (size_t i = 0; i < moved.ntokens; i++)
		total += strlen(moved.tokens[i]);
	cr_assert(eq(sz, total, strlen(moved.text)));
	plan_release(&moved);
	plan_release(&moved); /* released plans are zeroed: a second release is harmless */
}
