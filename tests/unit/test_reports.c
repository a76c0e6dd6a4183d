/*
 * Unit tests for runner/report/: the JUnit, JSON and TAP writers against golden
 * files, the HTML report (valid, self-contained, escaped), the shared text
 * cleaner, and compare.
 *
 * The golden files are in tests/data/golden/ (GOLDEN_DIR overrides); run with
 * UPDATE_GOLDEN=1 to rewrite them after a deliberate change, and review the diff.
 * The host name and the version are replaced with HOST and VERSION before
 * comparing, so the files hold across machines and releases.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "runner/report/common.h"
#include "runner/report/compare.h"
#include "runner/report/html.h"
#include "runner/report/json.h"
#include "runner/report/junit.h"
#include "runner/report/tap.h"
#include "tests/unit/unit.h"

#ifndef CHATCONFORM_VERSION
#define CHATCONFORM_VERSION "0.0.0"
#endif

/* ---- a fixed run ------------------------------------------------------------------------- */

static char *widget_tags[] = { (char *)"auth", (char *)"smoke" };
static struct suite widget = { .name = (char *)"widget", .spec = (char *)"003_b326a3eb5b6fef58.txt",
			       .path = (char *)"suites/widget/auth.json" };
static struct suite deepwiki = { .name = (char *)"deepwiki", .spec = (char *)"000_deepwiki.txt",
				 .path = (char *)"suites/deepwiki/stream.json" };

static struct tcase cases[] = {
	{ .id = (char *)"widget.auth.ok", .title = (char *)"a good key is accepted", .section = (char *)"Auth",
	  .clause = (char *)"Requests carry x-api-key.", .level = LEVEL_MUST, .suite = &widget,
	  .tags = widget_tags, .ntags = 2 },
	{ .id = (char *)"widget.auth.body", .title = (char *)"401 body <b>&\"quoted\"' #hash \\ back",
	  .section = (char *)"Auth", .clause = (char *)"A 401 & {\"error\":\"Unauthorized\"}.", .level = LEVEL_MUST,
	  .suite = &widget },
	{ .id = (char *)"widget.auth.json_ct", .title = (char *)"401 is JSON", .section = (char *)"Auth",
	  .clause = (char *)"Errors should be JSON.", .level = LEVEL_SHOULD, .suite = &widget },
	{ .id = (char *)"widget.stream.timeout", .title = (char *)"the stream starts", .section = (char *)"Stream",
	  .clause = (char *)"Streams end with done.", .level = LEVEL_MUST, .suite = &widget },
	{ .id = (char *)"widget.stream.mock", .title = (char *)"a scripted fault", .section = (char *)"Stream",
	  .clause = (char *)"Faults are reported.", .level = LEVEL_MUST, .suite = &widget },
	{ .id = (char *)"deepwiki.stream.observed", .title = (char *)"observed: the model field",
	  .section = (char *)"Stream", .clause = (char *)"Nothing is said.", .level = LEVEL_INFO, .suite = &deepwiki },
	{ .id = (char *)"deepwiki.history.ok", .title = (char *)"history lists \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	  .section = (char *)"History", .clause = (char *)"History is newest last.", .level = LEVEL_SHOULD,
	  .suite = &deepwiki },
	{ .id = (char *)"widget.stream.retry", .title = (char *)"a stream that failed once", .section = (char *)"Stream",
	  .clause = (char *)"Streams end with done.", .level = LEVEL_MUST, .suite = &widget },
	{ .id = (char *)"widget.stream.blocked", .title = (char *)"history after a stream", .section = (char *)"Stream",
	  .clause = (char *)"History lists the stream.", .level = LEVEL_MUST, .suite = &widget },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct case_result results[NCASES];
static struct run_result rr;

static void add_attempt(struct case_result *cr, enum verdict v, const char *msg, const char *diff,
			const char *transcript)
{
	cr->attempts = realloc(cr->attempts, (cr->nattempts + 1) * sizeof(*cr->attempts));
	cr_assert(cr->attempts != NULL);
	struct case_attempt *a = &cr->attempts[cr->nattempts++];
	memset(a, 0, sizeof(*a));
	a->verdict = v;
	a->message = strdup(msg);
	a->time_ms = 7.25 * (double)cr->nattempts;
	buf_init(&a->diff, 1 << 16);
	buf_init(&a->transcript, 1 << 20);
	buf_adds(&a->diff, diff);
	buf_adds(&a->transcript, transcript);
}

/* A stream of the case: events arriving at ats (ms since the reference), the stream ending at total_ms. */
static void add_timing(struct case_result *cr, size_t step, size_t item, const char *kind, const double *ats,
		       size_t n, double total_ms)
{
	struct event ev[16] = { 0 };
	cr_assert(n <= 16);
	for (size_t i = 0; i < n; i++)
		ev[i].at_ms = ats[i];
	struct stream_timing t;
	memset(&t, 0, sizeof(t));
	cr_assert(eq(int, timing_compute(ev, n, 1, &t), 0));
	t.step = step;
	t.item = item;
	t.kind = kind;
	if (item)
		snprintf(t.conn, sizeof(t.conn), "a");
	t.total_ms = total_ms;
	timing_list_add(&cr->timings, &t);
}

static void fill_run(int strict)
{
	const enum verdict v[NCASES] = { VERDICT_PASS, VERDICT_FAIL, VERDICT_FAIL, VERDICT_ERROR, VERDICT_SKIP,
					 VERDICT_OBSERVED, VERDICT_PASS, VERDICT_FLAKY, VERDICT_BLOCKED };
	const char *msg[NCASES] = {
		NULL, "body: expected {\"error\":\"Unauthorized\"}, got {\"error\":\"unauthorized\"}",
		"content-type: expected JSON", "no first byte within 10 s", "mock-only: needs mockd # scripts",
		"observed: /model: observed \"x\" (not documented)", NULL,
		"passed on attempt 3 of 3; attempt 1: status: expected 200, got 500",
		"precondition not met: step 1: status: expected 200, got 404",
	};
	const char *transcript[NCASES] = {
		"> POST http://127.0.0.1:8080/v1/chat/stream\n> x-api-key: widg\xe2\x80\xa6(redacted)\n< HTTP/1.1 200 OK\n"
		"<\n{\"type\":\"start\",\"url\":\"https://example.test/doc\"}\n",
		"> POST /v1/chat/stream\n< HTTP/1.1 401\r\n<\n{\"a\":\"]]>\"}</pre><script>alert(1)</script>\x02\xff\n",
		"< content-type: text/plain\n< [\"\xc2\x85" "C1\xef\xbf\xbe" "nonchar\x7f" "del\"]\n",
		"> POST /v1/chat/stream\n(no answer)\n",
		"",
		"< {\"model\":\"x\"}\n",
		"< []\n",
		"> POST /v1/chat/stream\n< HTTP/1.1 200 OK\n",
		"--- step 1\n> POST /v1/chat/stream\n< HTTP/1.1 404 Not Found\n",
	};
	for (size_t i = 0; i < NCASES; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].tcase = &cases[i];
		results[i].verdict = v[i];
		results[i].message = msg[i] ? strdup(msg[i]) : NULL;
		results[i].time_ms = 12.5 * (double)(i + 1);
		results[i].started_at_ms = 1700000000123.0 + 100.0 * (double)i;
		buf_init(&results[i].diff, 1 << 16);
		buf_init(&results[i].transcript, 1 << 20);
		if (v[i] == VERDICT_FAIL)
			buf_printf(&results[i].diff, "%s\nheader x-trace: expected \"a\", got \"\x01]]>\xff\"\n", msg[i]);
		buf_adds(&results[i].transcript, transcript[i]);
	}
	buf_adds(&results[5].diff, "/model: observed \"x\" (not documented)\n");
	buf_adds(&results[8].diff, "step 1: status: expected 200, got 404\n");
	/* The flaky case failed, then erred, then passed; the erring case erred twice (--retries 1). */
	add_attempt(&results[7], VERDICT_FAIL, "status: expected 200, got 500", "status: expected 200, got 500\n",
		    "> POST /v1/chat/stream\n< HTTP/1.1 500 Internal Server Error\n<\n{\"error\":\"]]>\"}\n");
	add_attempt(&results[7], VERDICT_ERROR, "no first byte within 10 s", "", "> POST /v1/chat/stream\n(no answer)\n");
	add_attempt(&results[3], VERDICT_ERROR, "connection refused", "", "> POST /v1/chat/stream\n");
	/* Streams: a paced NDJSON one of a case that passed, a burst collected from a ws of a failed one,
	 * a one-event SSE stream and one without events of an INFO case. */
	const double paced[] = { 52.25, 92.5, 132.75, 172.5, 212.125 };
	const double burst[] = { 3.0, 3.125, 3.25, 3.375 };
	const double one[] = { 1500.5 };
	add_timing(&results[0], 1, 0, "ndjson", paced, 5, 230.0);
	add_timing(&results[1], 2, 3, "ws", burst, 4, 3.5);
	add_timing(&results[5], 1, 0, "sse", one, 1, 1501.0);
	add_timing(&results[5], 2, 0, "sse", NULL, 0, 12.0);
	memset(&rr, 0, sizeof(rr));
	rr.cases = results;
	rr.ncases = NCASES;
	snprintf(rr.target, sizeof(rr.target), "http://example.test/?a=1&b=<2> #x");
	snprintf(rr.run_id, sizeof(rr.run_id), "abcdef012345");
	snprintf(rr.shard, sizeof(rr.shard), "2/3");
	rr.started_at_ms = 1700000000000.0;
	rr.time_ms = 1234.5;
	rr.strict = strict;
}

static void release_run(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		free(results[i].message);
		results[i].message = NULL;
		buf_release(&results[i].diff);
		buf_release(&results[i].transcript);
		for (size_t j = 0; j < results[i].nattempts; j++)
			case_attempt_release(&results[i].attempts[j]);
		free(results[i].attempts);
		results[i].attempts = NULL;
		results[i].nattempts = 0;
		timing_list_release(&results[i].timings);
	}
}

/* ---- files and golden comparison --------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b, 64u << 20);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cr_assert(eq(int, buf_add(&b, chunk, n), BUF_OK));
	fclose(f);
	if (len)
		*len = b.len;
	if (!b.data)
		buf_adds(&b, "");
	return buf_detach(&b, NULL);
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f != NULL, "cannot write %s", path);
	fputs(text, f);
	cr_assert(eq(int, fclose(f), 0));
}

static const char *tmp_path(const char *suffix)
{
	static char path[128];
	snprintf(path, sizeof(path), "/tmp/cc-reports-%ld-XXXXXX%s", (long)getpid(), suffix);
	int fd = mkstemps(path, (int)strlen(suffix));
	cr_assert(fd >= 0);
	close(fd);
	return path;
}

/* Replace every "from" in text (which is freed) with "to"; returns the new text. */
static char *replace_all(char *text, const char *from, const char *to)
{
	struct buf b;
	buf_init(&b, 64u << 20);
	const char *p = text;
	const char *hit;
	while ((hit = strstr(p, from)) != NULL) {
		buf_add(&b, p, (size_t)(hit - p));
		buf_adds(&b, to);
		p = hit + strlen(from);
	}
	buf_adds(&b, p);
	free(text);
	return buf_detach(&b, NULL);
}

/* The text made stable: the version and the host name of this machine replaced. */
static char *normalise(char *text)
{
	char host[300];
	text = replace_all(text, "\"chatconform_version\":\"" CHATCONFORM_VERSION "\"",
			   "\"chatconform_version\":\"VERSION\"");
	text = replace_all(text, "# chatconform " CHATCONFORM_VERSION ",", "# chatconform VERSION,");
	text = replace_all(text, "name=\"chatconform_version\" value=\"" CHATCONFORM_VERSION "\"",
			   "name=\"chatconform_version\" value=\"VERSION\"");
	char *h = strstr(text, " hostname=\"");
	while (h) {
		const char *end = strchr(h + 11, '"');
		cr_assert(end != NULL);
		snprintf(host, sizeof(host), "%.*s", (int)(end - h + 1), h);
		if (strcmp(host, " hostname=\"HOST\"") == 0)
			break;
		text = replace_all(text, host, " hostname=\"HOST\"");
		h = strstr(text, " hostname=\"");
	}
	return text;
}

static const char *golden_dir(void)
{
	const char *env = getenv("GOLDEN_DIR");
	return env && *env ? env : "tests/data/golden";
}

/* Compare the report at path (normalised) with the golden file name, or rewrite it with UPDATE_GOLDEN=1. */
static void check_golden(const char *path, const char *name)
{
	char golden[512];
	snprintf(golden, sizeof(golden), "%s/%s", golden_dir(), name);
	char *got = slurp(path, NULL);
	cr_assert(got != NULL, "the report %s was not written", path);
	got = normalise(got);
	const char *update = getenv("UPDATE_GOLDEN");
	if (update && strcmp(update, "1") == 0) {
		spit(golden, got);
		cr_log_warn("rewrote %s", golden);
		free(got);
		return;
	}
	char *want = slurp(golden, NULL);
	cr_assert(want != NULL, "cannot read %s (run from the top of the repository, or set GOLDEN_DIR)", golden);
	if (strcmp(got, want) != 0) {
		/* Leave what was written beside the golden file's name, for a diff. */
		char actual[600];
		snprintf(actual, sizeof(actual), "/tmp/cc-golden-actual-%s", name);
		spit(actual, got);
		cr_fatal("%s differs from the golden file: diff -u %s %s (UPDATE_GOLDEN=1 rewrites it)", name,
			       golden, actual);
	}
	free(got);
	free(want);
}

/* Comma-decimal locales must not change any number in a report. */
static void comma_locale(void)
{
	const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8" };
	const char *set = NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !set; i++)
		set = setlocale(LC_NUMERIC, names[i]);
	if (!set)
		cr_log_info("no locale with a decimal comma is installed; checking under C");
}

static void teardown(void)
{
	setlocale(LC_NUMERIC, "C");
	release_run();
}

TestSuite(reports, .fini = teardown);

/* ---- golden files ------------------------------------------------------------------------ */

Test(reports, junit_golden)
{
	comma_locale();
	fill_run(0);
	const char *path = tmp_path(".xml");
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, junit_write(&rr, path, &err), 0), "%s", buf_str(&err));
	check_golden(path, "junit.xml");
	unlink(path);
	buf_release(&err);
}

Test(reports, json_golden)
{
	comma_locale();
	fill_run(0);
	const char *path = tmp_path(".json");
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, json_report_write(&rr, path, &err), 0), "%s", buf_str(&err));
	check_golden(path, "results.json");
	unlink(path);
	buf_release(&err);
}

Test(reports, tap_golden)
{
	comma_locale();
	fill_run(0);
	const char *path = tmp_path(".tap");
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL);
	cr_assert(eq(int, tap_write(&rr, f), 0));
	fclose(f);
	check_golden(path, "results.tap");
	unlink(path);
}

Test(reports, tap_strict_golden)
{
	fill_run(1);
	const char *path = tmp_path(".tap");
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL);
	cr_assert(eq(int, tap_write(&rr, f), 0));
	fclose(f);
	check_golden(path, "results-strict.tap");
	unlink(path);
}

/* ---- JSON -------------------------------------------------------------------------------- */

static cJSON *write_and_parse(void)
{
	const char *path = tmp_path(".json");
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, json_report_write(&rr, path, &err), 0), "%s", buf_str(&err));
	buf_release(&err);
	size_t len;
	char *text = slurp(path, &len);
	unlink(path);
	cJSON *doc = json_parse_exact(text, len);
	cr_assert(doc != NULL, "not JSON:\n%s", text);
	free(text);
	return doc;
}

Test(reports, json_has_the_timings_of_each_stream)
{
	fill_run(0);
	cJSON *doc = write_and_parse();
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	const cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cs, 0), "timings"), 0);
	cr_assert(t0 != NULL);
	cr_expect(eq(str, STR(json_get_string(t0, "kind")), STR("ndjson")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t0, "item")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t0, "connection")));
	cr_expect(eq(dbl, cJSON_GetObjectItemCaseSensitive(t0, "count")->valuedouble, 5));
	cr_expect(eq(dbl, cJSON_GetObjectItemCaseSensitive(t0, "first_event_ms")->valuedouble, 52.25));
	cr_expect(eq(dbl, cJSON_GetObjectItemCaseSensitive(t0, "gap_p99_ms")->valuedouble, 40.25));
	cr_expect(eq(dbl, cJSON_GetObjectItemCaseSensitive(t0, "total_ms")->valuedouble, 230));
	const cJSON *t1 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cs, 1), "timings"), 0);
	cr_expect(eq(str, STR(json_get_string(t1, "kind")), STR("ws")));
	cr_expect(eq(dbl, cJSON_GetObjectItemCaseSensitive(t1, "item")->valuedouble, 3));
	cr_expect(eq(str, STR(json_get_string(t1, "connection")), STR("a")));
	/* One event: no gap, no spread; no event: no first either. */
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cs, 5), "timings");
	cr_assert(eq(int, cJSON_GetArraySize(ts), 2));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ts, 0), "gap_p50_ms")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ts, 0), "spread_ms")));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ts, 1), "first_event_ms")));
	/* A case without a stream has an empty array. */
	cr_expect(eq(int, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cs, 2), "timings")), 0));
	cJSON_Delete(doc);
}

Test(reports, json_is_valid_and_complete)
{
	fill_run(0);
	cJSON *doc = write_and_parse();
	cr_expect(eq(str, STR(json_get_string(doc, "format")), STR("chatconform-results/1")));
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	cr_assert(eq(int, cJSON_GetArraySize(cs), (int)NCASES));
	const cJSON *c1 = cJSON_GetArrayItem(cs, 1);
	cr_expect(eq(str, STR(json_get_string(c1, "id")), STR("widget.auth.body")));
	cr_expect(eq(str, STR(json_get_string(c1, "verdict")), STR("fail")));
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c1, "fails_run")));
	/* Invalid UTF-8 became U+FFFD; the control character survives as an escape. */
	assert_contains(json_get_string(c1, "difference"), "got \"\x01]]>\xef\xbf\xbd\"");
	const cJSON *c2 = cJSON_GetArrayItem(cs, 2);
	cr_expect(eq(str, STR(json_get_string(c2, "outcome")), STR("warn")));
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c2, "fails_run")));
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
	cr_expect(eq(int, cJSON_GetObjectItemCaseSensitive(sum, "fail")->valueint, 1));
	cr_expect(eq(int, cJSON_GetObjectItemCaseSensitive(sum, "warn")->valueint, 1));
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(sum, "passed")));
	cJSON_Delete(doc);
}

Test(reports, json_transcript_is_capped_on_a_character_boundary)
{
	fill_run(0);
	struct buf *t = &results[0].transcript;
	buf_reset(t);
	while (t->len < JSON_REPORT_TRANSCRIPT_MAX - 1)
		buf_addc(t, 'x');
	buf_adds(t, "\xe2\x82\xac and more after the cap");   /* a euro sign across the cap */
	cJSON *doc = write_and_parse();
	const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "cases"), 0);
	const char *kept = json_get_string(c0, "transcript");
	cr_expect(eq(sz, strlen(kept), JSON_REPORT_TRANSCRIPT_MAX - 1));
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c0, "transcript_truncated")));
	cr_expect(eq(dbl, cJSON_GetObjectItemCaseSensitive(c0, "transcript_bytes")->valuedouble, (double)t->len));
	cJSON_Delete(doc);
}

Test(reports, json_strict_counts_should_failures)
{
	fill_run(1);
	cJSON *doc = write_and_parse();
	const cJSON *c2 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "cases"), 2);
	cr_expect(eq(str, STR(json_get_string(c2, "outcome")), STR("fail")));
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c2, "fails_run")));
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "strict")));
	cJSON_Delete(doc);
}

Test(reports, unwritable_path_is_an_error)
{
	fill_run(0);
	struct buf err;
	buf_init(&err, 4096);
	cr_expect(eq(int, json_report_write(&rr, "/nonexistent-dir/x/r.json", &err), -1));
	assert_contains(buf_str(&err), "cannot write /nonexistent-dir/x/r.json");
	buf_reset(&err);
	cr_expect(eq(int, html_report_write(&rr, "/nonexistent-dir/x/r.html", &err), -1));
	assert_contains(buf_str(&err), "cannot write /nonexistent-dir/x/r.html");
	buf_release(&err);
}

/* ---- TAP --------------------------------------------------------------------------------- */

Test(reports, tap_bail_out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert(eq(int, tap_bail_out(f, "cannot reach http://x # now\n"), 0));
	fclose(f);
	cr_expect(eq(str, text, STR("TAP version 13\nBail out! cannot reach http://x \\# now \n")));
	free(text);
}

/* ---- HTML -------------------------------------------------------------------------------- */

static char *write_html(const char **path_out)
{
	const char *path = tmp_path(".html");
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, html_report_write(&rr, path, &err), 0), "%s", buf_str(&err));
	buf_release(&err);
	*path_out = path;
	return slurp(path, NULL);
}

Test(reports, html_escapes_and_has_the_matrix)
{
	fill_run(0);
	const char *path;
	char *h = write_html(&path);
	unlink(path);
	assert_contains(h, "<!DOCTYPE html>\n<html lang=\"en\">");
	/* The transcript's markup is text. */
	assert_contains(h, "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;\xef\xbf\xbd\n");
	cr_expect(strstr(h, "<script>alert") == NULL);
	assert_contains(h, "401 body &lt;b&gt;&amp;&quot;quoted&quot;&#39; #hash \\ back");
	/* Widget, Auth: 1 of 2 MUST, 0 of 1 SHOULD (a warning); Stream: an error, a skip, a flaky (met), a blocked. */
	assert_contains(h, "<tr><th scope=\"row\">Auth</th><td class=\"n some\">1/2</td><td class=\"n warn\">0/1</td>");
	assert_contains(h, "<tr><th scope=\"row\">Stream</th><td class=\"n some\">1/2</td>");
	assert_contains(h, "<th scope=\"col\">Flaky</th>");
	assert_contains(h, "<th scope=\"col\">Blocked</th>");
	assert_contains(h, "<td class=\"n some\">1</td><td class=\"n warn\">1</td><td class=\"n warn\">1</td>"
			   "<td class=\"n\">1</td></tr>");
	/* A blocked case says which precondition was not met. */
	assert_contains(h, "<span class=\"badge b-blocked\">BLOCKED</span>");
	assert_contains(h, "step 1: precondition not met</h4>\n<pre class=\"diff\" title=\"differences\">"
			   "status: expected 200, got 404</pre>");
	/* A flaky case: its badge, its filter, and each failed attempt with its exchange. */
	assert_contains(h, "<span class=\"badge b-flaky\">FLAKY</span>");
	assert_contains(h, "<input type=\"checkbox\" value=\"flaky\" checked> flaky (1)");
	assert_contains(h, "<summary>Attempt 1 of 3: fail (7.250 ms)</summary>");
	assert_contains(h, "<summary>Attempt 2 of 3: error (14.500 ms)</summary>");
	assert_contains(h, "&lt; HTTP/1.1 500 Internal Server Error");
	assert_contains(h, "<td class=\"n\">1 (1 noted)</td>");
	/* Each failure: its clause, its difference, its exchange in <details>. */
	assert_contains(h, "<blockquote>A 401 &amp; {&quot;error&quot;:&quot;Unauthorized&quot;}.</blockquote>");
	assert_contains(h, "<details><summary>Exchange (");
	/* Controls, C1 controls and noncharacters are dropped; CR too. */
	assert_contains(h, "[&quot;C1nonchardel&quot;]");
	cr_expect(strstr(h, "\r") == NULL);
	/* Filters exist but are hidden without script. */
	assert_contains(h, "<form id=\"filters\" hidden>");
	assert_contains(h, "<input type=\"checkbox\" value=\"warn\" checked>");
	free(h);
}

Test(reports, html_shows_stream_timings)
{
	fill_run(0);
	const char *path;
	char *h = write_html(&path);
	unlink(path);
	/* Widget: one NDJSON stream (5 events) and one ws collect (4); medians of each, and of both. */
	assert_contains(h, "<tr><th scope=\"row\">HTTP NDJSON</th><td class=\"n\">1</td><td class=\"n\">5.0</td>"
			   "<td class=\"n\">52.2</td><td class=\"n\">40.2</td><td class=\"n\">230.0</td></tr>");
	assert_contains(h, "<tr><th scope=\"row\">WebSocket collect</th><td class=\"n\">1</td><td class=\"n\">4.0</td>"
			   "<td class=\"n\">3.0</td><td class=\"n\">0.1</td><td class=\"n\">3.5</td></tr>");
	assert_contains(h, "<tfoot><tr><th scope=\"row\">All streams</th><td class=\"n\">2</td><td class=\"n\">4.5</td>"
			   "<td class=\"n\">27.6</td>");
	/* Deepwiki: two SSE streams, one without events: no gap to take a median of. */
	assert_contains(h, "<tr><th scope=\"row\">HTTP SSE</th><td class=\"n\">2</td><td class=\"n\">0.5</td>"
			   "<td class=\"n\">1500.5</td><td class=\"n none\">\xe2\x80\x93</td><td class=\"n\">756.5</td></tr>");
	/* A case that passed gets an article with its timeline only, linked from its row. */
	assert_contains(h, "<h3>Stream timelines</h3>");
	assert_contains(h, "<a href=\"#widget.auth.ok\"><code>widget.auth.ok</code></a>");
	assert_contains(h, "<article id=\"widget.auth.ok\" data-outcome=\"pass\">");
	assert_contains(h, "<figcaption>step 1, ndjson: 5 events; first +52.2 ms; gap p50 39.8 ms, p99 40.2 ms; "
			   "spread 159.9 ms; total 230.0 ms</figcaption>");
	/* One tick per event on a 628-unit axis from 0 to the end of the stream (230 ms). */
	assert_contains(h, "d=\"M148.7 6V22M258.6 6V22M368.5 6V22M477.0 6V22M585.2 6V22\"");
	assert_contains(h, "text-anchor=\"end\">+230.0 ms</text>");
	/* A failed case shows its timeline in its details. */
	assert_contains(h, "<figcaption>step 2, item 3, collect a (WebSocket): 4 events; first +3.0 ms; gap p50 0.1 ms, "
			   "p99 0.1 ms; spread 0.4 ms; total 3.5 ms</figcaption>");
	assert_contains(h, "<figcaption>step 2, sse: 0 events; total 12.0 ms</figcaption>");
	free(h);
}

Test(reports, html_is_valid_and_self_contained)
{
	fill_run(0);
	const char *path;
	char *h = write_html(&path);
	free(h);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/integration/check_html.py '%s'", path);
	int st = system(cmd);
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	unlink(path);
	if (code == 77)
		cr_skip("python3-html5lib is not installed: the HTML was not validated");
	cr_expect(eq(int, code, 0), "tests/integration/check_html.py rejected the report");
}

Test(reports, html_with_no_cases)
{
	fill_run(0);
	rr.ncases = 0;
	const char *path;
	char *h = write_html(&path);
	unlink(path);
	assert_contains(h, "<p>No case ran.</p>");
	free(h);
}

/* ---- the shared cleaner ------------------------------------------------------------------ */

static const char *esc(const char *s, size_t n, enum report_esc mode)
{
	static struct buf b;
	buf_release(&b);
	buf_init(&b, 1 << 16);
	report_escape(&b, s, n, mode);
	return buf_str(&b);
}

Test(reports, escape_modes)
{
	const char s[] = "<a href='x'>&\t\"\x01\r\n#\\\xc2\x85\xef\xb7\x90\xf0\x9f\xbf\xbf\xff";
	size_t n = sizeof(s) - 1;
	cr_expect(eq(str, STR(esc(s, n, ESC_HTML)),
		     STR("&lt;a href=&#39;x&#39;&gt;&amp;\t&quot;\n#\\\xef\xbf\xbd")));
	cr_expect(eq(str, STR(esc(s, n, ESC_JSON)),
		     STR("<a href='x'>&\\t\\\"\\u0001\\r\\n#\\\\\\u0085\\ufdd0\\ud83f\\udfff\xef\xbf\xbd")));
	cr_expect(eq(str, STR(esc(s, n, ESC_TAP_LINE)), STR("<a href='x'>& \"  \\#\\\\\xef\xbf\xbd")));
	cr_expect(eq(str, STR(esc(s, n, ESC_LINE)), STR("<a href='x'>& \"  #\\\xef\xbf\xbd")));
	esc("", 0, ESC_LINE);
}

Test(reports, millis_use_a_dot_whatever_the_locale)
{
	comma_locale();
	char s[40];
	report_millis(12.5, s, sizeof(s));
	cr_expect(eq(str, s, STR("12.500")));
	report_millis(0.0004, s, sizeof(s));
	cr_expect(eq(str, s, STR("0.000")));
	report_millis(-1, s, sizeof(s));
	cr_expect(eq(str, s, STR("0.000")));
}

/* ---- compare ----------------------------------------------------------------------------- */

/* Write rr's cases [from, to) as a JSON report; returns its path (caller frees). */
static char *report_of(size_t from, size_t to)
{
	struct run_result part = rr;
	part.cases = results + from;
	part.ncases = to - from;
	char *path = strdup(tmp_path(".json"));
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, json_report_write(&part, path, &err), 0), "%s", buf_str(&err));
	buf_release(&err);
	return path;
}

struct compared {
	int status;
	char *out;
	char *err;
};

static struct compared run_compare(const char *const *base, size_t nbase, const char *const *cur, size_t ncur)
{
	struct compared c = { 0 };
	size_t olen, elen;
	FILE *out = open_memstream(&c.out, &olen);
	FILE *err = open_memstream(&c.err, &elen);
	c.status = (int)compare_files(base, nbase, cur, ncur, out, err);
	fclose(out);
	fclose(err);
	return c;
}

static void compared_free(struct compared *c)
{
	free(c->out);
	free(c->err);
}

static void set_verdict(size_t i, enum verdict v)
{
	results[i].verdict = v;
}

Test(reports, compare_counts_a_flaky_case_as_not_failing)
{
	fill_run(0);
	char *base = report_of(0, NCASES);       /* widget.stream.retry: flaky */
	set_verdict(7, VERDICT_FAIL);
	char *cur = report_of(0, NCASES);        /* flaky -> fail: a regression */
	const char *b[] = { base }, *c[] = { cur };
	struct compared r = run_compare(b, 1, c, 1);
	cr_expect(eq(int, r.status, 1), "%s%s", r.out, r.err);
	assert_contains(r.out, "  widget.stream.retry  MUST  flaky -> fail");
	compared_free(&r);
	/* fail -> flaky: a fix; flaky -> pass and pass -> flaky: unchanged. */
	r = run_compare(c, 1, b, 1);
	cr_expect(eq(int, r.status, 0), "%s%s", r.out, r.err);
	assert_contains(r.out, "Fixes (failed in the baseline, pass now): 1\n  widget.stream.retry  MUST  fail -> flaky\n");
	compared_free(&r);
	set_verdict(7, VERDICT_PASS);
	char *passed = report_of(0, NCASES);
	const char *p[] = { passed };
	r = run_compare(b, 1, p, 1);
	cr_expect(eq(int, r.status, 0), "%s%s", r.out, r.err);
	assert_contains(r.out, "0 regressions, 0 new warnings, 0 fixes, 0 added, 0 removed, 7 unchanged, 2 not checked");
	compared_free(&r);
	r = run_compare(p, 1, b, 1);
	cr_expect(eq(int, r.status, 0), "%s%s", r.out, r.err);
	assert_contains(r.out, "0 regressions, 0 new warnings, 0 fixes, 0 added, 0 removed, 7 unchanged, 2 not checked");
	compared_free(&r);
	unlink(base);
	unlink(cur);
	unlink(passed);
	free(base);
	free(cur);
	free(passed);
}

Test(reports, compare_regressions_fixes_added_removed)
{
	fill_run(0);
	char *base = report_of(0, NCASES);
	set_verdict(0, VERDICT_FAIL);   /* MUST pass -> fail: a regression */
	set_verdict(1, VERDICT_PASS);   /* MUST fail -> pass: a fix */
	set_verdict(3, VERDICT_PASS);   /* error -> pass: a fix */
	set_verdict(4, VERDICT_FAIL);   /* skip -> fail: neither */
	set_verdict(6, VERDICT_FAIL);   /* SHOULD pass -> fail, not strict: a new warning */
	cases[5].id = (char *)"deepwiki.stream.renamed";   /* removed one, added one */
	char *cur = report_of(0, NCASES);
	cases[5].id = (char *)"deepwiki.stream.observed";
	const char *b[] = { base }, *c[] = { cur };
	struct compared r = run_compare(b, 1, c, 1);
	cr_expect(eq(int, r.status, 1), "%s%s", r.out, r.err);
	assert_contains(r.out, "Regressions (passed in the baseline, fail now): 1\n  widget.auth.ok  MUST  pass -> fail");
	assert_contains(r.out, "New warnings (passed in the baseline, a SHOULD not met now; not strict): 1\n"
			       "  deepwiki.history.ok  SHOULD  pass -> fail");
	assert_contains(r.out, "Fixes (failed in the baseline, pass now): 2\n  widget.auth.body  MUST  fail -> pass\n"
			       "  widget.stream.timeout  MUST  error -> pass\n");
	assert_contains(r.out, "Added (not in the baseline): 1\n  deepwiki.stream.renamed  INFO  observed  observed: ");
	assert_contains(r.out, "Removed (not in the current run): 1\n  deepwiki.stream.observed  INFO  observed  observed: ");
	assert_contains(r.out, "1 regression, 1 new warning, 2 fixes, 1 added, 1 removed, 2 unchanged, "
			       "2 not checked on a side (skipped or blocked)\n");
	cr_expect(eq(str, r.err, STR("")));
	compared_free(&r);
	unlink(base);
	unlink(cur);
	free(base);
	free(cur);
}

Test(reports, compare_strict_should_failure_is_a_regression)
{
	fill_run(0);
	char *base = report_of(0, NCASES);
	rr.strict = 1;
	set_verdict(6, VERDICT_FAIL);
	char *cur = report_of(0, NCASES);
	const char *b[] = { base }, *c[] = { cur };
	struct compared r = run_compare(b, 1, c, 1);
	cr_expect(eq(int, r.status, 1));
	assert_contains(r.out, "Regressions (passed in the baseline, fail now): 1\n  deepwiki.history.ok  SHOULD  pass -> fail");
	compared_free(&r);
	/* The same run against itself: nothing changed. */
	r = run_compare(c, 1, c, 1);
	cr_expect(eq(int, r.status, 0));
	assert_contains(r.out, "0 regressions, 0 new warnings, 0 fixes, 0 added, 0 removed, 7 unchanged, 2 not checked");
	compared_free(&r);
	unlink(base);
	unlink(cur);
	free(base);
	free(cur);
}

Test(reports, compare_across_shards)
{
	fill_run(0);
	char *s1 = report_of(0, 3), *s2 = report_of(3, NCASES);
	set_verdict(5, VERDICT_ERROR);
	char *c1 = report_of(0, 4), *c2 = report_of(4, NCASES);
	const char *b[] = { s1, s2 }, *c[] = { c2, c1 };
	struct compared r = run_compare(b, 2, c, 2);
	cr_expect(eq(int, r.status, 1), "%s%s", r.out, r.err);
	assert_contains(r.out, "Regressions (passed in the baseline, fail now): 1\n"
			       "  deepwiki.stream.observed  INFO  observed -> error");
	assert_contains(r.out, "0 added, 0 removed");
	compared_free(&r);
	/* The same shard twice on one side is a mistake, said with both places. */
	const char *dup[] = { s1, s1 };
	r = run_compare(dup, 2, c, 2);
	cr_expect(eq(int, r.status, 2));
	assert_contains(r.err, ": id widget.auth.body is also in");
	compared_free(&r);
	char *all[] = { s1, s2, c1, c2 };
	for (size_t i = 0; i < 4; i++) {
		unlink(all[i]);
		free(all[i]);
	}
}

/* The message compare gives for a baseline whose text is text. */
static char *compare_bad(const char *text)
{
	fill_run(0);
	char *good = report_of(0, NCASES);
	char *bad = strdup(tmp_path(".json"));
	spit(bad, text);
	const char *b[] = { bad }, *c[] = { good };
	struct compared r = run_compare(b, 1, c, 1);
	cr_expect(eq(int, r.status, 2), "%s", text);
	cr_expect(eq(str, r.out, STR("")));
	char *msg = replace_all(strdup(r.err), bad, "BAD");
	compared_free(&r);
	unlink(bad);
	unlink(good);
	free(bad);
	free(good);
	return msg;
}

Test(reports, compare_rejects_invalid_files)
{
	struct { const char *text, *said; } bad[] = {
		{ "{\"format\":\n\"x\" \"y\"}", "chatconform: BAD: not JSON (line 2)\n" },
		{ "{} trailing", "chatconform: BAD: not JSON (line 1)\n" },
		{ "\"\xff\"", "chatconform: BAD: not UTF-8 text\n" },
		{ "[]", "chatconform: BAD: not a chatconform JSON report" },
		{ "{\"format\":\"chatconform-results/2\",\"cases\":[]}",
		  "chatconform: BAD: format chatconform-results/2 is not supported (this chatconform reads "
		  "chatconform-results/1)\n" },
		{ "{\"format\":\"chatconform-results/1\"}", "chatconform: BAD: cases: expected an array\n" },
		{ "{\"format\":\"chatconform-results/1\",\"cases\":[1]}", "chatconform: BAD: cases[0]: expected an object\n" },
		{ "{\"format\":\"chatconform-results/1\",\"cases\":[{\"verdict\":\"pass\"}]}",
		  "chatconform: BAD: cases[0].id: expected a non-empty string\n" },
		{ "{\"format\":\"chatconform-results/1\",\"cases\":[{\"id\":\"a\",\"verdict\":\"ok\"}]}",
		  "chatconform: BAD: cases[0].verdict: expected one of pass fail error skip flaky blocked observed\n" },
		{ "{\"format\":\"chatconform-results/1\",\"cases\":[{\"id\":\"a\",\"verdict\":\"pass\",\"level\":\"MAY\"}]}",
		  "chatconform: BAD: cases[0].level: expected one of MUST SHOULD INFO\n" },
		{ "{\"format\":\"chatconform-results/1\",\"cases\":[{\"id\":\"a\",\"verdict\":\"pass\",\"level\":\"MUST\"}]}",
		  "chatconform: BAD: cases[0].fails_run: expected true or false\n" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *msg = compare_bad(bad[i].text);
		assert_contains(msg, bad[i].said);
		free(msg);
		release_run();
	}
}

Test(reports, compare_missing_file)
{
	const char *b[] = { "/nonexistent/base.json" }, *c[] = { "/nonexistent/cur.json" };
	struct compared r = run_compare(b, 1, c, 1);
	cr_expect(eq(int, r.status, 2));
	assert_contains(r.err, "chatconform: cannot read /nonexistent/base.json: No such file or directory\n");
	compared_free(&r);
}
