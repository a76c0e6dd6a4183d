/* Rules checked at load: positions, regex limits, the byte budget. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/jcheck.h"
#include "mockd/mockd.h"
#include "mockd/script.h"
#include "unit.h"

static void fresh(void)
{
	script_release();
	script_set_max_bytes(SCRIPT_DEFAULT_MAX_BYTES);
	mockd_cfg.seed = 1;
}

TestSuite(script_config, .init = fresh, .fini = fresh);

static int add_text(const char *text, struct buf *err)
{
	return script_add_text(text, strlen(text), NULL, err);
}

Test(script_config, positions_count_characters_from_one)
{
	size_t line, col;
	jcheck_line_col("ab\n\xc3\xa9x", 5, &line, &col);   /* after "é": one character */
	cr_expect(eq(sz, line, 2));
	cr_expect(eq(sz, col, 2));
}

Test(script_config, every_problem_of_a_batch_is_listed_and_nothing_added)
{
	struct buf err;
	buf_init(&err, 65536);
	cr_assert(eq(int, add_text("[{\"reply\":{\"text\":\"ok\"}},\n{\"once\":1,\"api\":\"widgit\"}]", &err), SCRIPT_BAD));
	assert_contains(buf_str(&err), "body:2:9: [1].once: expected true or false, got number\n");
	assert_contains(buf_str(&err), "body:2:17: [1].api: unknown API \"widgit\" (did you mean widget?");
	cJSON *list = script_list();
	cr_expect(eq(int, cJSON_GetArraySize(list), 0), "the good rule is not added either");
	cJSON_Delete(list);
	buf_release(&err);
}

Test(script_config, a_pathological_regex_is_refused_at_once)
{
	struct buf err;
	buf_init(&err, 4096);
	/* "a" and 22 "+": POSIX regcomp took 7 s and 3 GB */
	cr_expect(eq(int, add_text("{\"match\":{\"message\":{\"regex\":\"a++++++++++++++++++++++\"}}}", &err), SCRIPT_BAD));
	assert_contains(buf_str(&err), "match.message.regex: not a usable regular expression (PCRE2)");
	buf_reset(&err);
	char big[SCRIPT_MAX_REGEX + 100];
	snprintf(big, sizeof(big), "{\"match\":{\"message\":{\"regex\":\"%0*d\"}}}", SCRIPT_MAX_REGEX + 1, 0);
	cr_expect(eq(int, add_text(big, &err), SCRIPT_BAD));
	assert_contains(buf_str(&err), "more than the limit of 4096");
	buf_release(&err);
}

Test(script_config, a_catastrophic_search_is_no_match)
{
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, add_text("{\"match\":{\"message\":{\"regex\":\"^(a+)+$\"}},\"reply\":{\"text\":\"hit\"}}", &err),
		     SCRIPT_OK), "%s", buf_str(&err));
	char msg[4096];
	memset(msg, 'a', sizeof(msg) - 2);
	msg[sizeof(msg) - 2] = 'b';
	msg[sizeof(msg) - 1] = '\0';
	struct reply_plan p;
	script_plan("widget", NULL, msg, &p);
	cr_expect(eq(str, STR(p.rule_id), STR("")), "the default answer, not the rule");
	plan_release(&p);
	script_plan("widget", NULL, "aaaa", &p);
	cr_expect(eq(str, STR(p.text), STR("hit")), "a short message still matches");
	plan_release(&p);
	buf_release(&err);
}

Test(script_config, the_byte_budget_refuses_a_batch_past_it)
{
	struct buf err;
	buf_init(&err, 4096);
	/* A rule costs three times its text and 200 bytes a JSON value: "short" is 3 x 26 + 3 x 200 = 678. */
	script_set_max_bytes(1000);
	cr_expect(eq(int, add_text("{\"reply\":{\"text\":\"short\"}}", &err), SCRIPT_OK));
	cr_expect(eq(int, add_text("{\"reply\":{\"text\":\"a much longer reply than the budget allows\"}}", &err),
		     SCRIPT_FULL));
	assert_contains(buf_str(&err), "more than --max-rule-bytes 1000");
	size_t n, bytes, max;
	script_usage(&n, &bytes, &max);
	cr_expect(eq(sz, n, 1));
	cr_expect(eq(sz, bytes, 3 * strlen("{\"reply\":{\"text\":\"short\"}}") + 3 * 200));
	script_clear_runtime();
	script_usage(&n, &bytes, &max);
	cr_expect(eq(sz, bytes, 0), "removing a rule gives its bytes back");
	buf_release(&err);
}

/* fuzz_keys found it: a value or member name with a line break made one problem two lines. */
Test(script_config, a_quoted_value_or_name_stays_on_its_line)
{
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, add_text("{\"api\":\"wid\\nget\\\"\",\"x\\ny\":1}", &err), SCRIPT_BAD));
	assert_contains(buf_str(&err), "body:1:21: [\"x\\ny\"]: unknown member");
	assert_contains(buf_str(&err), "body:1:8: api: unknown API \"wid\\nget\\\"\" (");
	const char *s = buf_str(&err);
	size_t lines = 0;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	cr_expect(eq(sz, lines, 2), "%s", s);
	buf_release(&err);
}
