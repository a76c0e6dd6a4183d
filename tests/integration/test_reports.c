/*
 * The reports end to end: bin/chatconform runs widget suites against the bundled
 * mockd with --json, --tap and --html; the HTML goes through html5lib in strict
 * mode (tests/integration/check_html.py), the TAP through Perl's TAP::Parser, and
 * compare must find the regressions a mockd started with --break introduces,
 * with the baseline given as two shards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "harness.h"
#include "../unit/unit.h"

#define OUT_MAX (4u << 20)

static void make_dir(void)
{
	workdir_make("cc-reports");
}

static void remove_dir(void)
{
	workdir_remove();
}

/* chatconform run on the suite files with the extra options; its exit status. */
static int run(const char *suites, const char *opts, const char *out_name)
{
	char cc[512], mockd[512];
	bin_path("chatconform", cc, sizeof(cc));
	bin_path("mockd", mockd, sizeof(mockd));
	return workdir_sh(out_name, "run.err", "%s run %s --mockd %s --junit '%s' %s", cc, suites, mockd,
			  workdir_path("junit.xml"), opts);
}

static int compare(const char *args, char **out, char **err)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	int code = workdir_sh("compare.out", "compare.err", "%s compare %s", cc, args);
	*out = slurp_file(workdir_path("compare.out"), OUT_MAX);
	*err = slurp_file(workdir_path("compare.err"), OUT_MAX);
	return code;
}

TestSuite(reports_cli, .init = make_dir, .fini = remove_dir, .timeout = 180);

Test(reports_cli, run_writes_json_tap_and_html)
{
	char opts[1024];
	/* With a break, so the reports hold failures, differences and exchanges. */
	snprintf(opts, sizeof(opts), "--json '%s' --html '%s' --tap --mockd-arg=--break=widget-401-body",
		 workdir_path("r.json"), workdir_path("r.html"));
	int code = run("suites/widget/auth.json", opts, "r.tap");
	char *tap = slurp_file(workdir_path("r.tap"), OUT_MAX);
	char *err = slurp_file(workdir_path("run.err"), OUT_MAX);
	cr_assert(eq(int, code, 1), "chatconform run must fail on the break:\n%s\n%s", err, tap);

	/* stdout is TAP alone; the case lines and the summary went to stderr. */
	cr_assert(strncmp(tap, "TAP version 13\n1..", 18) == 0, "%s", tap);
	assert_contains(tap, "\nnot ok ");
	size_t tests = 0;
	for (char *line = tap; *line;) {
		char *nl = strchr(line, '\n');
		cr_assert(nl != NULL, "TAP ends with a newline");
		*nl = '\0';
		int ok = strncmp(line, "ok ", 3) == 0;
		tests += ok || strncmp(line, "not ok ", 7) == 0;
		cr_assert(ok || strncmp(line, "not ok ", 7) == 0 || line[0] == '#' || strncmp(line, "  ", 2) == 0 ||
			  strncmp(line, "TAP version", 11) == 0 || strncmp(line, "1..", 3) == 0,
			  "not a TAP line on stdout: %s", line);
		line = nl + 1;
	}
	assert_contains(err, "failed");

	/* The JSON: the documented format, every case, credentials redacted in the transcripts. */
	char *json = slurp_file(workdir_path("r.json"), OUT_MAX);
	cJSON *doc = json_parse_exact(json, strlen(json));
	cr_assert(doc != NULL, "the JSON report does not parse");
	cr_expect(eq(str, STR(json_get_string(doc, "format")), STR("chatconform-results/1")));
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	cr_expect(eq(sz, (size_t)cJSON_GetArraySize(cases), tests));
	/* Titles and clauses may quote the development key; the transcripts must not carry it. */
	assert_contains(json, "\"verdict\":\"fail\"");
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		const char *t = json_get_string(c, "transcript");
		cr_assert(t != NULL);
		cr_expect(strstr(t, "widget-dev-key-0123456789abcdef") == NULL, "a key in the transcript of %s",
			  json_get_string(c, "id"));
	}
	cJSON_Delete(doc);
	free(json);

	/* The HTML: valid (html5lib, strict), self-contained, and the target's URLs are only text. */
	char *html = slurp_file(workdir_path("r.html"), OUT_MAX);
	cr_expect(strstr(html, "src=") == NULL && strstr(html, "url(") == NULL && strstr(html, "<link") == NULL);
	cr_expect(strstr(html, "href=\"http") == NULL && strstr(html, "href='http") == NULL);
	assert_contains(html, "http://127.0.0.1:");   /* the transcripts do name the target, as text */
	cr_expect(strstr(html, "&gt; x-api-key: widget-dev-key-0123456789abcdef") == NULL,
		  "a key was written to an exchange in the HTML report");
	assert_contains(html, "<details><summary>Exchange (");
	free(html);
	if (access("/usr/bin/python3", X_OK) != 0) {
		cr_log_warn("no /usr/bin/python3: the HTML was not validated");
	} else {
		int v = workdir_sh("check.out", "check.err", "/usr/bin/python3 tests/integration/check_html.py '%s'",
			   workdir_path("r.html"));
		char *said = slurp_file(workdir_path("check.out"), OUT_MAX);
		if (v == 77)
			cr_log_warn("HTML not validated: %s", said);
		else
			cr_expect(eq(int, v, 0), "the HTML report is not valid or not self-contained:\n%s", said);
		free(said);
	}
	free(tap);
	free(err);
}

Test(reports_cli, tap_reads_with_perl_tap_parser)
{
	if (system("perl -MTAP::Parser -e 1 >/dev/null 2>&1") != 0)
		cr_skip_test("Perl's TAP::Parser is not installed");
	char opts[256];
	snprintf(opts, sizeof(opts), "--tap --mockd-arg=--break=widget-401-body");
	int code = run("suites/widget/auth.json", opts, "r.tap");
	cr_assert(eq(int, code, 1), "a break must fail the run");
	/* Every test is seen, no parse error, and the MUST failures are failures. */
	int v = workdir_sh("perl.out", "perl.err",
		   "perl -MTAP::Parser -e 'my $p = TAP::Parser->new({source => $ARGV[0]}); 1 while $p->next; "
		   "print join(\" \", \"planned=\" . $p->tests_planned, \"run=\" . $p->tests_run, "
		   "\"failed=\" . scalar($p->failed), \"errors=\" . scalar($p->parse_errors)), \"\\n\"; "
		   "print \"$_\\n\" for $p->parse_errors' '%s'", workdir_path("r.tap"));
	char *said = slurp_file(workdir_path("perl.out"), OUT_MAX);
	cr_assert(eq(int, v, 0), "%s", said);
	assert_contains(said, " errors=0\n");
	int planned = -1, ran = -2, failed = 0;
	cr_assert(eq(int, sscanf(said, "planned=%d run=%d failed=%d", &planned, &ran, &failed), 3), "%s", said);
	cr_expect(eq(int, planned, ran), "%s", said);
	cr_expect(failed > 0, "%s", said);
	free(said);
}

Test(reports_cli, compare_finds_the_regression_across_shards)
{
	char opts[512];
	/* The baseline as two shards (one file each), the current run broken, in one file. */
	snprintf(opts, sizeof(opts), "--json '%s'", workdir_path("base1.json"));
	cr_assert(eq(int, run("suites/widget/auth.json", opts, "run.out"), 0));
	snprintf(opts, sizeof(opts), "--json '%s'", workdir_path("base2.json"));
	cr_assert(eq(int, run("suites/widget/errors.json", opts, "run.out"), 0));
	snprintf(opts, sizeof(opts), "--json '%s' --mockd-arg=--break=widget-401-body", workdir_path("cur.json"));
	cr_assert(eq(int, run("suites/widget/auth.json suites/widget/errors.json", opts, "run.out"), 1));

	char args[1024], *out, *err;
	snprintf(args, sizeof(args), "--baseline '%s' --baseline '%s' --current '%s'", workdir_path("base1.json"),
		 workdir_path("base2.json"), workdir_path("cur.json"));
	cr_expect(eq(int, compare(args, &out, &err), 1), "%s%s", out, err);
	assert_contains(out, "Regressions (passed in the baseline, fail now): ");
	assert_contains(out, "  widget.auth.body_401  MUST  pass -> fail  ");
	assert_contains(out, " 0 added, 0 removed, ");
	free(out);
	free(err);

	/* The two-file form, the other way round: fixes, no regression. */
	snprintf(args, sizeof(args), "'%s' '%s'", workdir_path("cur.json"), workdir_path("base1.json"));
	cr_expect(eq(int, compare(args, &out, &err), 0), "%s%s", out, err);
	assert_contains(out, "  widget.auth.body_401  MUST  fail -> pass\n");
	assert_contains(out, "Removed (not in the current run): ");   /* the errors.json cases */
	free(out);
	free(err);
}

Test(reports_cli, compare_usage_and_bad_files_exit_2)
{
	char *out, *err;
	cr_expect(eq(int, compare("only-one.json", &out, &err), 2));
	assert_contains(err, "cannot compare: give BASELINE.json CURRENT.json");
	free(out);
	free(err);

	char args[512];
	snprintf(args, sizeof(args), "'%s' /nonexistent/cur.json", workdir_path("missing.json"));
	cr_expect(eq(int, compare(args, &out, &err), 2));
	assert_contains(err, "cannot read ");
	assert_contains(err, "missing.json: No such file or directory");
	free(out);
	free(err);

	FILE *f = fopen(workdir_path("junk.json"), "w");
	cr_assert(f != NULL);
	fputs("{\"format\": \"something-else/1\"}\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "--baseline '%s' --current '%s'", workdir_path("junk.json"), workdir_path("junk.json"));
	cr_expect(eq(int, compare(args, &out, &err), 2));
	assert_contains(err, "junk.json: format something-else/1 is not supported");
	free(out);
	free(err);
}
