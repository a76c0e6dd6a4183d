/* Unit tests for runner/vars.c: scopes, expansion forms, typed references, errors, limits. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "runner/vars.h"
#include "tests/unit/unit.h"

static struct vars *run, *suite, *tcase;
static struct buf err;

static void setup(void)
{
	run = vars_new(NULL);
	suite = vars_new(run);
	tcase = vars_new(suite);
	buf_init(&err, 4096);
	vars_set_string(run, "RUN_ID", "abc123def456");
	vars_set_string(run, "KEY", "run-key");
	vars_set_string(suite, "KEY", "suite-key");
	vars_set(suite, "N", cJSON_CreateNumber(42));
	vars_set(tcase, "OBJ", cJSON_Parse("{\"a\":[1,true,null]}"));
	vars_set(tcase, "FLAG", cJSON_CreateFalse());
	vars_set_string(tcase, "EMPTY", "");
	setenv("CC_TEST_ENV", "from-env", 1);
	unsetenv("CC_TEST_UNSET");
}

static void teardown(void)
{
	vars_free(tcase);
	vars_free(suite);
	vars_free(run);
	buf_release(&err);
}

TestSuite(vars, .init = setup, .fini = teardown);

/* Expand and return a static copy ("<NULL>" on failure). */
static char *expand(const char *s)
{
	static char out[4096];
	buf_reset(&err);
	char *r = vars_expand_string(tcase, s, &err);
	if (!r)
		return STR("<NULL>");
	strncpy(out, r, sizeof(out) - 1);
	out[sizeof(out) - 1] = '\0';
	free(r);
	return out;
}

Test(vars, lookup_falls_back_to_parents)
{
	cr_assert(eq(str, STR(vars_get(tcase, "KEY")->valuestring), STR("suite-key")));
	cr_assert(eq(str, STR(vars_get(tcase, "RUN_ID")->valuestring), STR("abc123def456")));
	cr_assert(eq(str, STR(vars_get(run, "KEY")->valuestring), STR("run-key")));
	cr_assert(vars_get(suite, "OBJ") == NULL);
	cr_assert(vars_get(tcase, "NOPE") == NULL);
}

Test(vars, set_again_replaces)
{
	vars_set_string(tcase, "X", "1");
	vars_set_string(tcase, "X", "2");
	cr_assert(eq(str, expand("${X}"), STR("2")));
}

Test(vars, strings_expand_in_place)
{
	cr_assert(eq(str, expand("s-${RUN_ID}"), STR("s-abc123def456")));
	cr_assert(eq(str, expand("${KEY}/${KEY}"), STR("suite-key/suite-key")));
	cr_assert(eq(str, expand("no refs at all"), STR("no refs at all")));
	cr_assert(eq(str, expand(""), STR("")));
	cr_assert(eq(str, expand("[${EMPTY}]"), STR("[]")));
}

Test(vars, non_strings_are_printed_inside_text)
{
	cr_assert(eq(str, expand("n=${N}"), STR("n=42")));
	cr_assert(eq(str, expand("o=${OBJ}"), STR("o={\"a\":[1,true,null]}")));
	cr_assert(eq(str, expand("${FLAG}!"), STR("false!")));
}

Test(vars, env_with_and_without_default)
{
	cr_assert(eq(str, expand("${env:CC_TEST_ENV}"), STR("from-env")));
	cr_assert(eq(str, expand("${env:CC_TEST_ENV|other}"), STR("from-env")));
	cr_assert(eq(str, expand("${env:CC_TEST_UNSET|fallback value}"), STR("fallback value")));
	cr_assert(eq(str, expand("<${env:CC_TEST_UNSET|}>"), STR("<>")));
	cr_assert(eq(str, expand("${env:CC_TEST_UNSET}"), STR("<NULL>")));
	cr_assert(eq(str, STR(buf_str(&err)),
		     STR("environment variable CC_TEST_UNSET is not set (write ${env:CC_TEST_UNSET|default})")));
}

Test(vars, dollar_dollar_brace_is_literal)
{
	cr_assert(eq(str, expand("$${KEY}"), STR("${KEY}")));
	cr_assert(eq(str, expand("a$${"), STR("a${")));
	cr_assert(eq(str, expand("$$ and $ alone"), STR("$$ and $ alone")));
	cr_assert(eq(str, expand("$${KEY}${KEY}"), STR("${KEY}suite-key")));
	cr_assert(eq(str, expand("price: 5$"), STR("price: 5$")));
}

Test(vars, unknown_name_is_an_error)
{
	cr_assert(eq(str, expand("a ${MISSING} b"), STR("<NULL>")));
	cr_assert(eq(str, STR(buf_str(&err)), STR("unknown variable ${MISSING}")));
}

Test(vars, malformed_references_are_errors)
{
	cr_assert(eq(str, expand("x ${KEY"), STR("<NULL>")));
	assert_contains(buf_str(&err), "unterminated \"${\"");
	cr_assert(eq(str, expand("${}"), STR("<NULL>")));
	cr_assert(eq(str, STR(buf_str(&err)), STR("empty variable name in ${}")));
	cr_assert(eq(str, expand("${env:|x}"), STR("<NULL>")));
	assert_contains(buf_str(&err), "bad environment variable name");
}

/* fuzz_targets found it: a reference holding a line break made one problem two lines. */
Test(vars, a_reference_in_a_message_stays_on_one_line)
{
	cr_assert(eq(str, expand("${MIS\nSING}"), STR("<NULL>")));
	cr_assert(eq(str, STR(buf_str(&err)), STR("unknown variable ${MIS\\nSING}")));
	cr_assert(eq(str, expand("a\n\"b ${KEY"), STR("<NULL>")));
	cr_assert(eq(str, STR(buf_str(&err)), STR("unterminated \"${\" in \"a\\n\\\"b ${KEY\"")));
	cr_assert(eq(str, expand("${env:CC_\nUNSET}"), STR("<NULL>")));
	assert_contains(buf_str(&err), "environment variable CC_\\nUNSET is not set");
	cr_assert(eq(str, expand("${env:|\n}"), STR("<NULL>")));
	cr_assert(eq(str, STR(buf_str(&err)), STR("bad environment variable name in ${env:|\\n}")));
}

Test(vars, check_finds_syntax_errors_only)
{
	cr_assert(eq(int, vars_check("${ANYTHING} $${x} ${env:X|y}", &err), 0));
	cr_assert(eq(int, vars_check("${oops", &err), -1));
	cr_assert(eq(int, vars_check("${}", &err), -1));
}

Test(vars, exact_reference_keeps_json_type)
{
	cJSON *tmpl = cJSON_Parse("{\"n\":\"${N}\",\"o\":\"${OBJ}\",\"f\":\"${FLAG}\",\"s\":\"${N} items\","
				  "\"k\":\"${KEY}\",\"keep\":[1,null,{\"${KEY}\":\"${env:CC_TEST_ENV}\"}]}");
	cJSON *out = vars_expand_json(tcase, tmpl, &err);
	cr_assert(out != NULL, "%s", buf_str(&err));
	char *text = cJSON_PrintUnformatted(out);
	cr_assert(eq(str, text,
		     STR("{\"n\":42,\"o\":{\"a\":[1,true,null]},\"f\":false,\"s\":\"42 items\",\"k\":\"suite-key\","
			 "\"keep\":[1,null,{\"${KEY}\":\"from-env\"}]}")));
	free(text);
	cJSON_Delete(out);
	cJSON_Delete(tmpl);
}

Test(vars, json_expansion_reports_the_unknown_name)
{
	cJSON *tmpl = cJSON_Parse("{\"a\":[\"ok\",\"${NOPE}\"]}");
	cr_assert(vars_expand_json(tcase, tmpl, &err) == NULL);
	cr_assert(eq(str, STR(buf_str(&err)), STR("unknown variable ${NOPE}")));
	cJSON_Delete(tmpl);
	buf_reset(&err);
	tmpl = cJSON_CreateString("${NOPE} x");
	cr_assert(vars_expand_json(tcase, tmpl, &err) == NULL);
	cr_assert(eq(str, STR(buf_str(&err)), STR("unknown variable ${NOPE}")));
	cJSON_Delete(tmpl);
}

Test(vars, expansion_size_is_limited)
{
	/* 2000 bytes, referenced 1000 times = 2 MB > 1 MiB */
	char *big = malloc(2001);
	memset(big, 'x', 2000);
	big[2000] = '\0';
	vars_set_string(tcase, "BIG", big);
	free(big);
	char *tmpl = malloc(1000 * 6 + 1);
	tmpl[0] = '\0';
	for (int i = 0; i < 1000; i++)
		strcat(tmpl, "${BIG}");
	char *r = vars_expand_string(tcase, tmpl, &err);
	cr_assert(r == NULL);
	assert_contains(buf_str(&err), "expanded string longer than 1048576 bytes");
	free(tmpl);
}

Test(vars, no_parent_and_null_scope)
{
	struct vars *alone = vars_new(NULL);
	cr_assert(vars_get(alone, "KEY") == NULL);
	char *r = vars_expand_string(alone, "${KEY}", &err);
	cr_assert(r == NULL);
	vars_free(alone);
	vars_free(NULL);
}
