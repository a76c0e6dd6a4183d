/*
 * The reports end to end: bin/chatconform runs widget suites against the bundled
 * mockd with --json, --tap and --html; the HTML goes through html5lib in strict
 * mode (tests/integration/check_html.py), the TAP through Perl's TAP::Parser, and
 * compare must find the regressions a mockd started with --break introduces,
 * with the baseline given as two shards.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "harness.h"
#include "../unit/unit.h"

#define OUT_MAX (4u << 20)

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cc-reports-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

/* A path in the test's folder. */
static const char *in_dir(const char *name)
{
	static char paths[8][256];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL, "cannot open %s", path);
	struct buf b;
	buf_init(&b, OUT_MAX);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (!b.data)
		buf_adds(&b, "");
	return buf_detach(&b, NULL);
}

/* Run a shell command line (printf-style), stdout and stderr to files of the test folder; its exit status. */
static int sh(const char *out_name, const char *err_name, const char *fmt, ...)
{
	char line[4096], cmd[5000];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s >'%s' 2>'%s'", line, in_dir(out_name), in_dir(err_name));
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* chatconform run on the suite files with the extra options; its exit status. */
static int run(const char *suites, const char *opts, const char *out_name)
{
	char cc[512], mockd[512];
	bin_path("chatconform", cc, sizeof(cc));
	bin_path("mockd", mockd, sizeof(mockd));
	return sh(out_name, "run.err", "%s run %s --mockd %s --junit '%s' %s", cc, suites, mockd,
		  in_dir("junit.xml"), opts);
}

static int compare(const char *args, char **out, char **err)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	int code = sh("compare.out", "compare.err", "%s compare %s", cc, args);
	*out = slurp(in_dir("compare.out"));
	*err = slurp(in_dir("compare.err"));
	return code;
}

TestSuite(reports_cli, .init = make_dir, .fini = remove_dir, .timeout = 180);

Test(reports_cli, run_writes_json_tap_and_html)
{
	char opts[1024];
	/* With a break, so the reports hold failures, differences and exchanges. */
	snprintf(opts, sizeof(opts), "--json '%s' --html '%s' --tap --mockd-arg=--break=widget-401-body",
		 in_dir("r.json"), in_dir("r.html"));
	int code = run("suites/widget/auth.json", opts, "r.tap");
	char *tap = slurp(in_dir("r.tap"));
	char *err = slurp(in_dir("run.err"));
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
	char *json = slurp(in_dir("r.json"));
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
	char *html = slurp(in_dir("r.html"));
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
		int v = sh("check.out", "check.err", "/usr/bin/python3 tests/integration/check_html.py '%s'",
			   in_dir("r.html"));
		char *said = slurp(in_dir("check.out"));
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
	int v = sh("perl.out", "perl.err",
		   "perl -MTAP::Parser -e 'my $p = TAP::Parser->new({source => $ARGV[0]}); 1 while $p->next; "
		   "print join(\" \", \"planned=\" . $p->tests_planned, \"run=\" . $p->tests_run, "
		   "\"failed=\" . scalar($p->failed), \"errors=\" . scalar($p->parse_errors)), \"\\n\"; "
		   "print \"$_\\n\" for $p->parse_errors' '%s'", in_dir("r.tap"));
	char *said = slurp(in_dir("perl.out"));
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
	snprintf(opts, sizeof(opts), "--json '%s'", in_dir("base1.json"));
	cr_assert(eq(int, run("suites/widget/auth.json", opts, "run.out"), 0));
	snprintf(opts, sizeof(opts), "--json '%s'", in_dir("base2.json"));
	cr_assert(eq(int, run("suites/widget/errors.json", opts, "run.out"), 0));
	snprintf(opts, sizeof(opts), "--json '%s' --mockd-arg=--break=widget-401-body", in_dir("cur.json"));
	cr_assert(eq(int, run("suites/widget/auth.json suites/widget/errors.json", opts, "run.out"), 1));

	char args[1024], *out, *err;
	snprintf(args, sizeof(args), "--baseline '%s' --baseline '%s' --current '%s'", in_dir("base1.json"),
		 in_dir("base2.json"), in_dir("cur.json"));
	cr_expect(eq(int, compare(args, &out, &err), 1), "%s%s", out, err);
	assert_contains(out, "Regressions (passed in the baseline, fail now): ");
	assert_contains(out, "  widget.auth.body_401  MUST  pass -> fail  ");
	assert_contains(out, " 0 added, 0 removed, ");
	free(out);
	free(err);

	/* The two-file form, the other way round: fixes, no regression. */
	snprintf(args, sizeof(args), "'%s' '%s'", in_dir("cur.json"), in_dir("base1.json"));
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
	snprintf(args, sizeof(args), "'%s' /nonexistent/cur.json", in_dir("missing.json"));
	cr_expect(eq(int, compare(args, &out, &err), 2));
	assert_contains(err, "cannot read ");
	assert_contains(err, "missing.json: No such file or directory");
	free(out);
	free(err);

	FILE *f = fopen(in_dir("junk.json"), "w");
	cr_assert(f != NULL);
	fputs("{\"format\": \"something-else/1\"}\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "--baseline '%s' --current '%s'", in_dir("junk.json"), in_dir("junk.json"));
	cr_expect(eq(int, compare(args, &out, &err), 2));
	assert_contains(err, "junk.json: format something-else/1 is not supported");
	free(out);
	free(err);
}
