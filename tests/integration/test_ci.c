/*
 * What a CI pipeline relies on, end to end with bin/chatconform:
 * - the shards of a run add up to the whole run, each case exactly once
 *   (JSON and JUnit), and --shard auto reads GitLab's CI_NODE_INDEX/CI_NODE_TOTAL;
 * - --retries turns a case that passes on its second attempt into a flaky
 *   case (exit 0, JUnit flakyFailure valid against the schema);
 * - --targets runs the suites against a "real" deployment (a mockd the runner
 *   did not start): mock-only, unnamed APIs and cases that need a second key
 *   are skipped with their reasons, and no credential of the file reaches a report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "harness.h"
#include "../unit/unit.h"

#define OUT_MAX (64u << 20)
#define SECRET "zz-secret-widget-key-0123456789"

/* A shell command line (printf-style) with stdout and stderr to run.out and run.err; its exit status. */
#define sh(...) workdir_sh("run.out", "run.err", __VA_ARGS__)

static void make_dir(void)
{
	workdir_make("cc-ci");
}

static void remove_dir(void)
{
	workdir_remove();
}

/* chatconform run with the options; its exit status. */
static int run(const char *opts)
{
	char cc[512], mockd[512];
	bin_path("chatconform", cc, sizeof(cc));
	bin_path("mockd", mockd, sizeof(mockd));
	return sh("%s run --mockd %s %s", cc, mockd, opts);
}

/* Assert that the file at path contains needle. */
static void file_contains(const char *path, const char *needle)
{
	char *text = slurp_file(path, OUT_MAX);
	assert_contains(text, needle);
	free(text);
}

static cJSON *load_json(const char *path)
{
	char *text = slurp_file(path, OUT_MAX);
	cJSON *doc = cJSON_Parse(text);
	cr_assert(doc != NULL, "%s is not JSON", path);
	free(text);
	return doc;
}

/* The case of id in a JSON report, or NULL. */
static const cJSON *find_case(const cJSON *doc, const char *id)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
		if (strcmp(json_get_string(c, "id"), id) == 0)
			return c;
	return NULL;
}

/* Each testcase's name attribute in a JUnit file, appended to names as "name\n". */
static void junit_names(const char *path, struct buf *names, size_t *count)
{
	char *x = slurp_file(path, OUT_MAX);
	for (const char *p = x; (p = strstr(p, "<testcase name=\"")) != NULL; p++) {
		p += strlen("<testcase name=\"");
		buf_add(names, p, strcspn(p, "\""));
		buf_addc(names, '\n');
		(*count)++;
	}
	free(x);
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text, sorted (they point into text). */
static char **sorted_lines(char *text, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));
	size_t i = 0;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && i < n; l = strtok_r(NULL, "\n", &save))
		v[i++] = l;
	cr_assert(eq(sz, i, n));
	qsort(v, n, sizeof(*v), line_cmp);
	return v;
}

TestSuite(ci, .init = make_dir, .fini = remove_dir, .timeout = 300);

/* ---- shards ------------------------------------------------------------------------------ */

Test(ci, shards_add_up_to_the_whole_run)
{
	char opts[1024];
	snprintf(opts, sizeof(opts), "--json '%s' --junit '%s'", workdir_path("all.json"), workdir_path("all.xml"));
	cr_assert(eq(int, run(opts), 0), "%s", slurp_file(workdir_path("run.err"), OUT_MAX));
	for (int k = 1; k <= 3; k++) {
		char json[32], xml[32];
		snprintf(json, sizeof(json), "s%d.json", k);
		snprintf(xml, sizeof(xml), "s%d.xml", k);
		snprintf(opts, sizeof(opts), "--shard %d/3 --json '%s' --junit '%s'", k, workdir_path(json), workdir_path(xml));
		cr_assert(eq(int, run(opts), 0), "%s", slurp_file(workdir_path("run.err"), OUT_MAX));
	}

	/* JSON: every id of the whole run in exactly one shard, and nothing else. */
	cJSON *all = load_json(workdir_path("all.json"));
	int total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(all, "cases"));
	cr_assert(total >= 585, "only %d cases", total);
	int sum = 0;
	cJSON *shard[3];
	for (int k = 0; k < 3; k++) {
		char json[32];
		snprintf(json, sizeof(json), "s%d.json", k + 1);
		shard[k] = load_json(workdir_path(json));
		char want[16];
		snprintf(want, sizeof(want), "%d/3", k + 1);
		cr_expect(eq(str, STR(json_get_string(shard[k], "shard")), STR(want)));
		int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(shard[k], "cases"));
		cr_expect(n > 0 && n < total, "shard %d has %d of %d", k + 1, n, total);
		sum += n;
	}
	cr_expect(eq(int, sum, total));
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(all, "cases")) {
		const char *id = json_get_string(c, "id");
		int in = 0;
		for (int k = 0; k < 3; k++)
			in += find_case(shard[k], id) != NULL;
		cr_expect(eq(int, in, 1), "%s is in %d shards", id, in);
	}

	/* JUnit: the union of the shards' testcases is the whole run's, each once. */
	struct buf whole, parts;
	size_t nwhole = 0, nparts = 0;
	buf_init(&whole, OUT_MAX);
	buf_init(&parts, OUT_MAX);
	junit_names(workdir_path("all.xml"), &whole, &nwhole);
	for (int k = 1; k <= 3; k++) {
		char xml[32];
		snprintf(xml, sizeof(xml), "s%d.xml", k);
		junit_names(workdir_path(xml), &parts, &nparts);
	}
	cr_assert(eq(sz, nparts, nwhole));
	cr_assert(eq(sz, nwhole, (size_t)total));
	char **a = sorted_lines(whole.data, nwhole), **b = sorted_lines(parts.data, nparts);
	for (size_t i = 0; i < nwhole; i++) {
		cr_assert(eq(str, a[i], b[i]), "JUnit of the shards differs at %zu", i);
		cr_assert(i == 0 || strcmp(a[i - 1], a[i]) != 0, "%s twice", a[i]);
	}
	free(a);
	free(b);
	buf_release(&whole);
	buf_release(&parts);

	/* compare reads the three shards as one run: nothing added, removed or regressed. */
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	cr_expect(eq(int, sh("%s compare --baseline '%s' --current '%s' --current '%s' --current '%s'", cc,
			     workdir_path("all.json"), workdir_path("s1.json"), workdir_path("s2.json"), workdir_path("s3.json")), 0));
	file_contains(workdir_path("run.out"), "0 regressions, 0 new warnings, 0 fixes, 0 added, 0 removed");

	/* --shard auto with GitLab's variables picks the same cases as --shard 2/3. */
	snprintf(opts, sizeof(opts), "--shard auto --json '%s'", workdir_path("auto.json"));
	char mockd[512];
	bin_path("mockd", mockd, sizeof(mockd));
	cr_assert(eq(int, sh("CI_NODE_INDEX=2 CI_NODE_TOTAL=3 %s run --mockd %s %s", cc, mockd, opts), 0));
	cJSON *autod = load_json(workdir_path("auto.json"));
	cr_expect(eq(str, STR(json_get_string(autod, "shard")), STR("2/3")));
	cr_expect(eq(int, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(autod, "cases")),
		     cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(shard[1], "cases"))));
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(autod, "cases"))
		cr_expect(find_case(shard[1], json_get_string(c, "id")) != NULL);
	cJSON_Delete(autod);
	for (int k = 0; k < 3; k++)
		cJSON_Delete(shard[k]);
	cJSON_Delete(all);
}

Test(ci, bad_shards_and_retries_exit_2)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	const char *bad[] = { "--shard 0/3", "--shard 4/3", "--shard 1/1001", "--shard x", "--shard 1/",
			      "--retries 6", "--retries -1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* --retries is run's, not list's; either refuses a bad value before anything starts. */
		const char *cmd = strncmp(bad[i], "--retries", 9) == 0 ? "run" : "list";
		cr_expect(eq(int, sh("%s %s %s", cc, cmd, bad[i]), 2), "%s", bad[i]);
		file_contains(workdir_path("run.err"), "chatconform: cannot use --");
	}
	cr_expect(eq(int, sh("CI_NODE_INDEX=0 CI_NODE_TOTAL=3 %s list --shard auto", cc), 2));
	file_contains(workdir_path("run.err"), "CI_NODE_INDEX=0 is not a number from 1 to CI_NODE_TOTAL=3");
	cr_expect(eq(int, sh("CI_NODE_INDEX=1 CI_NODE_TOTAL=zero %s list --shard auto", cc), 2));
	/* Not in a parallel job: every case, said on stderr. */
	cr_expect(eq(int, sh("env -u CI_NODE_INDEX -u CI_NODE_TOTAL %s list --shard auto suites/widget", cc), 0));
	file_contains(workdir_path("run.err"), "CI_NODE_INDEX and CI_NODE_TOTAL are not set");
}

/* ---- retries ----------------------------------------------------------------------------- */

Test(ci, a_case_that_passes_on_its_rerun_is_flaky)
{
	char opts[1024];
	const char *scripts = "--mockd-arg=--scripts=tests/data/scripts/flaky";
	snprintf(opts, sizeof(opts), "tests/data/suites/flaky %s --junit '%s'", scripts, workdir_path("once.xml"));
	cr_expect(eq(int, run(opts), 1), "without --retries the first attempt's 500 fails the run");

	snprintf(opts, sizeof(opts), "tests/data/suites/flaky %s --retries 1 --junit '%s' --json '%s' --html '%s'",
		 scripts, workdir_path("flaky.xml"), workdir_path("flaky.json"), workdir_path("flaky.html"));
	cr_assert(eq(int, run(opts), 0), "%s", slurp_file(workdir_path("run.out"), OUT_MAX));
	file_contains(workdir_path("run.out"), "FLAKY   widget.flaky.once");
	file_contains(workdir_path("run.out"), "1 passed, 0 failed, 1 flaky");

	cJSON *doc = load_json(workdir_path("flaky.json"));
	const cJSON *c = find_case(doc, "widget.flaky.once");
	cr_assert(c != NULL);
	cr_expect(eq(str, STR(json_get_string(c, "verdict")), STR("flaky")));
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "fails_run")));
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(c, "attempts");
	cr_assert(eq(int, cJSON_GetArraySize(at), 1));
	cr_expect(eq(str, STR(json_get_string(cJSON_GetArrayItem(at, 0), "verdict")), STR("fail")));
	assert_contains(json_get_string(cJSON_GetArrayItem(at, 0), "message"), "expected 200, got 500");
	const cJSON *steady = find_case(doc, "widget.flaky.steady");
	cr_expect(eq(str, STR(json_get_string(steady, "verdict")), STR("pass")));
	cr_expect(eq(int, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(steady, "attempts")), 0));
	cJSON_Delete(doc);

	char *x = slurp_file(workdir_path("flaky.xml"), OUT_MAX);
	assert_contains(x, "<flakyFailure message=\"status: expected 200, got 500\" type=\"MUST\">");
	assert_contains(x, "HTTP/1.1 500");
	cr_expect(strstr(x, "<failure") == NULL);
	cr_expect(strstr(x, "failures=\"0\" errors=\"0\"") != NULL);
	free(x);
	cr_expect(eq(int, sh("scripts/check-junit.sh '%s'", workdir_path("flaky.xml")), 0), "%s",
		  slurp_file(workdir_path("run.err"), OUT_MAX));
	file_contains(workdir_path("flaky.html"), "<span class=\"badge b-flaky\">FLAKY</span>");
}

/* ---- real targets ------------------------------------------------------------------------ */

static struct mockd_proc deployment;

/* A mockd the runner did not start: to chatconform, a real deployment. */
/* Criterion runs the suite's init (which makes the work folder) before this one. */
static void start_deployment(void)
{
	const char *args[] = { "--keys", "tests/data/targets/keys-with-secret.json", NULL };
	mockd_start(&deployment, args);
	setenv("CC_TEST_URL", deployment.base, 1);
	setenv("CC_TEST_WIDGET_KEY", SECRET, 1);
	setenv("CC_TEST_DEEPWIKI_KEY", "dw-dev-key", 1);
	unsetenv("CC_TEST_DEEPWIKI_KEY_2");
	unsetenv("CC_TEST_THREADS_TOKEN_2");
}

static void stop_deployment(void)
{
	mockd_stop(&deployment);
	remove_dir();
}

static int run_targets(const char *targets, const char *opts)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	return sh("%s run --targets %s %s", cc, targets, opts);
}

Test(ci, targets_file_runs_each_api_and_skips_with_reasons, .init = start_deployment, .fini = stop_deployment)
{
	char opts[2048];
	snprintf(opts, sizeof(opts), "--json '%s' --junit '%s' --html '%s' --tap -v", workdir_path("t.json"),
		 workdir_path("t.xml"), workdir_path("t.html"));
	cr_assert(eq(int, run_targets("tests/data/targets/mock-all.json", opts), 0), "%s",
		  slurp_file(workdir_path("run.err"), OUT_MAX));
	cJSON *doc = load_json(workdir_path("t.json"));
	const char *target = json_get_string(doc, "target");
	assert_contains(target, "targets tests/data/targets/mock-all.json: widget http://127.0.0.1:");
	assert_contains(target, ", threads http://127.0.0.1:");

	const cJSON *c = find_case(doc, "deepwiki.isolation.history_other_user");
	cr_expect(eq(str, STR(json_get_string(c, "verdict")), STR("skip")));
	cr_expect(eq(str, STR(json_get_string(c, "message")),
		     STR("needs KEY2 (a value of the deployment): set it in the targets file")));
	c = find_case(doc, "threads.history.other_profile_empty");
	cr_expect(eq(str, STR(json_get_string(c, "message")),
		     STR("needs TOKEN2 (a value of the deployment): set it in the targets file")));
	c = find_case(doc, "botchat.chat.envelope");
	cr_expect(eq(str, STR(json_get_string(c, "message")),
		     STR("no target for API botchat in tests/data/targets/mock-all.json")));
	c = find_case(doc, "widget.auth.dev_key");
	cr_expect(eq(str, STR(json_get_string(c, "message")), STR("mock-only: needs mockd")));
	c = find_case(doc, "widget.ratelimit.window_reopens");
	cr_expect(eq(str, STR(json_get_string(c, "verdict")), STR("skip")));
	/* The widget cases ran with the file's key, which only this deployment accepts. */
	c = find_case(doc, "widget.stream.order");
	if (c)
		cr_expect(eq(str, STR(json_get_string(c, "verdict")), STR("pass")));
	const cJSON *summary = cJSON_GetObjectItemCaseSensitive(doc, "summary");
	cr_expect(cJSON_GetObjectItemCaseSensitive(summary, "pass")->valueint > 200);
	cJSON_Delete(doc);

	/* No report, and not the console, shows a value of the targets file. */
	const char *files[] = { "t.json", "t.xml", "t.html", "run.out", "run.err" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text = slurp_file(workdir_path(files[i]), OUT_MAX);
		cr_expect(strstr(text, SECRET) == NULL, "%s shows the key", files[i]);
		cr_expect(strstr(text, "zz-secret") == NULL, "%s shows part of the key", files[i]);
		free(text);
	}
	cr_expect(eq(int, sh("scripts/check-junit.sh '%s'", workdir_path("t.xml")), 0));
}

/* A run whose every selected case is skipped tested nothing: exit 2 with the reason, never a green run. */
Test(ci, a_run_that_skips_every_case_is_not_a_pass, .init = start_deployment, .fini = stop_deployment)
{
	char opts[1024];
	snprintf(opts, sizeof(opts), "suites/botchat --junit '%s'", workdir_path("none.xml"));
	cr_expect(eq(int, run_targets("tests/data/targets/mock-all.json", opts), 2));
	file_contains(workdir_path("run.err"), "chatconform: nothing was tested: all ");
	file_contains(workdir_path("run.err"), "selected cases were skipped (first: botchat.");
	file_contains(workdir_path("none.xml"), "no target for API botchat in tests/data/targets/mock-all.json");
}

Test(ci, a_second_key_from_the_targets_file_runs_the_isolation_cases, .init = start_deployment,
     .fini = stop_deployment)
{
	setenv("CC_TEST_DEEPWIKI_KEY_2", "dw-dev-key-2", 1);
	char opts[1024];
	snprintf(opts, sizeof(opts), "suites/deepwiki/isolation.json --json '%s'", workdir_path("iso.json"));
	cr_assert(eq(int, run_targets("tests/data/targets/mock-all.json", opts), 0), "%s",
		  slurp_file(workdir_path("run.out"), OUT_MAX));
	cJSON *doc = load_json(workdir_path("iso.json"));
	const cJSON *c = find_case(doc, "deepwiki.isolation.history_other_user");
	cr_expect(eq(str, STR(json_get_string(c, "verdict")), STR("pass")));
	cJSON_Delete(doc);

	/* --target URL, the one-API shortcut: a second key is given with --var. */
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	cr_assert(eq(int, sh("%s run suites/deepwiki/isolation.json --target %s --json '%s'", cc, deployment.base,
			     workdir_path("one.json")), 0));
	doc = load_json(workdir_path("one.json"));
	c = find_case(doc, "deepwiki.isolation.history_other_user");
	cr_expect(eq(str, STR(json_get_string(c, "message")),
		     STR("needs KEY2 (a value of the deployment): give it with --var KEY2=VALUE or a targets file")));
	cJSON_Delete(doc);
	cr_assert(eq(int, sh("%s run suites/deepwiki/isolation.json --target %s --var KEY2=dw-dev-key-2 --json '%s'",
			     cc, deployment.base, workdir_path("one.json")), 0));
	doc = load_json(workdir_path("one.json"));
	c = find_case(doc, "deepwiki.isolation.history_other_user");
	cr_expect(eq(str, STR(json_get_string(c, "verdict")), STR("pass")));
	cJSON_Delete(doc);
}

Test(ci, targets_mistakes, .init = start_deployment, .fini = stop_deployment)
{
	/* An unreachable API of the file: exit 3, naming the API and the file. */
	setenv("CC_TEST_URL", "http://127.0.0.1:1", 1);
	cr_expect(eq(int, run_targets("tests/data/targets/mock-all.json", "suites/widget/auth.json"), 3));
	file_contains(workdir_path("run.err"), "cannot reach http://127.0.0.1:1 (widget in tests/data/targets/mock-all.json)");
	setenv("CC_TEST_URL", deployment.base, 1);
	/* A file that is not valid, a missing variable, --target beside --targets: exit 2. */
	cr_expect(eq(int, run_targets("tests/data/targets/bad-reference.json", "suites/widget/auth.json"), 2));
	file_contains(workdir_path("run.err"), "the targets file tests/data/targets/bad-reference.json is invalid");
	unsetenv("CC_TEST_WIDGET_KEY");
	cr_expect(eq(int, run_targets("tests/data/targets/mock-all.json", "suites/widget/auth.json"), 2));
	file_contains(workdir_path("run.err"), "environment variable CC_TEST_WIDGET_KEY is not set");
	setenv("CC_TEST_WIDGET_KEY", SECRET, 1);
	cr_expect(eq(int, run_targets("tests/data/targets/mock-all.json", "--target http://127.0.0.1:1"), 2));
	file_contains(workdir_path("run.err"), "cannot use --target with --targets");
}
