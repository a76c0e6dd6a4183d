/*
 * mockd's config files and the admin rules API: every mistake listed at its line
 * and column, a single scripts file, regex limits and the rule budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"
#include "../unit/unit.h"

#define KEY_HEADER "x-api-key: widget-dev-key-0123456789abcdef"

static void setup(void)
{
	workdir_make("cc-config");
}

static void teardown(void)
{
	workdir_remove();
}

TestSuite(config, .init = setup, .fini = teardown, .timeout = 60);

/* Run mockd with args, expecting it to refuse to start; its stderr (free it). */
static char *mockd_refuses(const char *args)
{
	char bin[4096];
	int rc = workdir_sh("out", "err", "%s --listen 127.0.0.1:0 %s", bin_path("mockd", bin, sizeof(bin)), args);
	char *err = slurp_file(workdir_path("err"), 1 << 20);
	cr_assert(eq(int, rc, 2), "mockd %s exited %d:\n%s", args, rc, err);
	return err;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(config, a_scripts_file_with_five_mistakes_gets_five_messages)
{
	char *err = mockd_refuses("--scripts tests/data/config/five-mistakes.json");
	cr_expect(eq(int, count_lines(err), 5), "%s", err);
	assert_contains(err, "five-mistakes.json:3:36: rules[0].match.mesage: unknown member (did you mean message?");
	assert_contains(err, "five-mistakes.json:4:14: rules[1].api: unknown API \"widgit\" (did you mean widget?");
	assert_contains(err, "five-mistakes.json:5:18: rules[2].reply.txt: unknown member (did you mean text?");
	assert_contains(err, "five-mistakes.json:6:41: rules[3].fault.token: unknown member (did you mean tokens?");
	assert_contains(err, "five-mistakes.json:7:37: rules[4].timing.first_token_ms: expected a whole number");
	free(err);
}

Test(config, a_keys_file_with_five_mistakes_gets_five_messages)
{
	char *err = mockd_refuses("--keys tests/data/config/five-mistakes-keys.json");
	cr_expect(eq(int, count_lines(err), 5), "%s", err);
	assert_contains(err, "five-mistakes-keys.json:3:58: keys[0].scopes[1]: unknown scope \"reserch\" (did you mean research?");
	assert_contains(err, "five-mistakes-keys.json:4:14: keys[1].api: unknown API \"widgit\"");
	assert_contains(err, "five-mistakes-keys.json:5:37: keys[2].usr_id: unknown member (did you mean user_id?");
	assert_contains(err, "five-mistakes-keys.json:6:48: keys[3].quota: expected a whole number");
	assert_contains(err, "five-mistakes-keys.json:9:42: config.widget.rate_limit.limit: expected a whole number from 1 "
			     "to 1000000000, got string");
	free(err);
}

Test(config, both_files_are_checked_before_mockd_gives_up)
{
	char *err = mockd_refuses("--keys tests/data/config/five-mistakes-keys.json "
				  "--scripts tests/data/config/five-mistakes.json");
	cr_expect(eq(int, count_lines(err), 10), "%s", err);
	free(err);
}

Test(config, bad_json_is_placed)
{
	FILE *f = fopen(workdir_path("broken.json"), "w");
	cr_assert(f != NULL);
	fputs("{\n  \"rules\": [\n    { \"id\": \"x\", }\n  ]\n}\n", f);
	fclose(f);
	char args[4200];
	snprintf(args, sizeof(args), "--scripts %s", workdir_path("broken.json"));
	char *err = mockd_refuses(args);
	assert_contains(err, "broken.json:3:18: invalid JSON near '}'");
	free(err);
}

Test(config, a_single_scripts_file_loads_and_says_so)
{
	const char *args[] = { "--scripts", "tests/data/config/one-rule.json", "--time-scale", "0", NULL };
	struct mockd_proc m;
	mockd_start(&m, args);
	char u[256];
	const char *h[] = { KEY_HEADER, "Content-Type: application/json", NULL };
	snprintf(u, sizeof(u), "%s/v1/chat/stream", m.base);
	struct http_result r;
	const char *body = "{\"sessionId\":\"s1\",\"message\":\"single 42\"}";
	http_call("POST", u, h, body, strlen(body), &r);
	cr_expect(eq(long, r.status, 200));
	assert_contains(buf_str(&r.body), "from");
	http_result_release(&r);
	cr_expect(eq(int, mockd_stop(&m), 0));
}

/* POST body to /__admin/scripts of m. */
static void post_rules(const struct mockd_proc *m, const char *body, struct http_result *r)
{
	char u[256];
	const char *h[] = { "Content-Type: application/json", NULL };
	snprintf(u, sizeof(u), "%s/__admin/scripts", m->base);
	http_call("POST", u, h, body, strlen(body), r);
}

Test(config, the_admin_api_names_the_path_line_and_column)
{
	const char *args[] = { "--time-scale", "0", NULL };
	struct mockd_proc m;
	mockd_start(&m, args);
	struct http_result r;
	post_rules(&m, "[\n {\"match\": {\"mesage\": \"hi\"}},\n {\"fault\": {\"type\": \"eror_after\"}}\n]", &r);
	cr_expect(eq(long, r.status, 400));
	assert_contains(buf_str(&r.body), "body:2:13: [0].match.mesage: unknown member (did you mean message?");
	assert_contains(buf_str(&r.body), "body:3:21: [1].fault.type: unknown fault type \\\"eror_after\\\" (did you mean error_after?");
	assert_contains(buf_str(&r.body), "\"problems\"");
	http_result_release(&r);

	/* a followed by 22 "+": refused at once (POSIX regcomp took 7 s and 3 GB) */
	post_rules(&m, "{\"match\": {\"message\": {\"regex\": \"a++++++++++++++++++++++\"}}}", &r);
	cr_expect(eq(long, r.status, 400));
	assert_contains(buf_str(&r.body), "match.message.regex: not a usable regular expression");
	http_result_release(&r);
	cr_expect(eq(int, mockd_stop(&m), 0));
}

Test(config, a_catastrophic_regex_is_no_match_and_mockd_answers)
{
	const char *args[] = { "--time-scale", "0", NULL };
	struct mockd_proc m;
	mockd_start(&m, args);
	struct http_result r;
	post_rules(&m, "{\"api\": \"widget\", \"match\": {\"message\": {\"regex\": \"^(a+)+$\"}}, "
		       "\"reply\": {\"text\": \"matched\"}}", &r);
	cr_assert(eq(long, r.status, 201), "%s", buf_str(&r.body));
	http_result_release(&r);
	char u[256], body[256];
	const char *h[] = { KEY_HEADER, "Content-Type: application/json", NULL };
	snprintf(u, sizeof(u), "%s/v1/chat/stream", m.base);
	snprintf(body, sizeof(body), "{\"sessionId\":\"s1\",\"message\":\"%s\"}",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	http_call("POST", u, h, body, strlen(body), &r);
	cr_expect(eq(long, r.status, 200));
	cr_expect(strstr(buf_str(&r.body), "matched") == NULL, "%s", buf_str(&r.body));
	http_result_release(&r);
	cr_expect(eq(int, mockd_stop(&m), 0));
}

Test(config, rules_past_the_byte_budget_are_refused)
{
	/* The short rule costs 3 x 28 + 3 x 200 = 684; the big one about 1,400 more. */
	const char *args[] = { "--max-rule-bytes", "1000", NULL };
	struct mockd_proc m;
	mockd_start(&m, args);
	struct http_result r;
	post_rules(&m, "{\"reply\": {\"text\": \"short\"}}", &r);
	cr_expect(eq(long, r.status, 201), "%s", buf_str(&r.body));
	http_result_release(&r);
	char big[400];
	snprintf(big, sizeof(big), "{\"reply\": {\"text\": \"%0250d\"}}", 0);
	post_rules(&m, big, &r);
	cr_expect(eq(long, r.status, 413));
	assert_contains(buf_str(&r.body), "more than --max-rule-bytes 1000");
	http_result_release(&r);
	cr_expect(eq(int, mockd_stop(&m), 0));
}
