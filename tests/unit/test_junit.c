/* Unit tests for runner/report/junit.c: escaping, CDATA, times under a comma locale, a whole report against the schema. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "runner/report/junit.h"
#include "tests/unit/unit.h"

static struct buf out;

static void setup(void)
{
	buf_init(&out, 1 << 20);
}

static void teardown(void)
{
	buf_release(&out);
}

static const char *escaped(const char *s, size_t n)
{
	buf_reset(&out);
	junit_escape(&out, s, n);
	return buf_str(&out);
}

static const char *cdata(const char *s, size_t n)
{
	buf_reset(&out);
	junit_cdata(&out, s, n);
	return buf_str(&out);
}

TestSuite(junit, .init = setup, .fini = teardown);

Test(junit, escapes_markup)
{
	cr_assert(eq(str, STR(escaped("a&b<c>d\"e'f", 11)), STR("a&amp;b&lt;c&gt;d&quot;e&apos;f")));
}

Test(junit, drops_c0_controls_but_keeps_tab_lf_cr_as_references)
{
	const char in[] = "a\x01" "b\x1f" "c\td\ne\rf\x00g";
	cr_assert(eq(str, STR(escaped(in, sizeof(in) - 1)), STR("abc&#9;d&#10;e&#13;fg")));
}

Test(junit, replaces_invalid_utf8_with_replacement_character)
{
	cr_assert(eq(str, STR(escaped("x\xffy", 3)), STR("x\xef\xbf\xbdy")));
	/* A lead byte cut off at the end of the input. */
	cr_assert(eq(str, STR(escaped("z\xc3", 2)), STR("z\xef\xbf\xbd")));
	/* Overlong "/" and a UTF-16 surrogate are not UTF-8: one U+FFFD per byte. */
	cr_assert(eq(str, STR(escaped("\xc0\xaf", 2)), STR("\xef\xbf\xbd\xef\xbf\xbd")));
	cr_assert(eq(str, STR(escaped("\xed\xa0\x80", 3)), STR("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd")));
}

Test(junit, keeps_valid_utf8)
{
	const char *s = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd";   /* é € 😀 U+FFFD */
	cr_assert(eq(str, STR(escaped(s, strlen(s))), STR(s)));
}

Test(junit, drops_noncharacters_fffe_ffff)
{
	cr_assert(eq(str, STR(escaped("a\xef\xbf\xbe" "b\xef\xbf\xbf" "c", 9)), STR("abc")));
}

Test(junit, cdata_splits_end_marker)
{
	cr_assert(eq(str, STR(cdata("a]]>b", 5)), STR("<![CDATA[a]]]]><![CDATA[>b]]>")));
	cr_assert(eq(str, STR(cdata("]]]>", 4)), STR("<![CDATA[]]]]]><![CDATA[>]]>")));
	/* A dropped control between "]]" and ">" must not let the marker through. */
	cr_assert(eq(str, STR(cdata("]]\x01>", 4)), STR("<![CDATA[]]]]><![CDATA[>]]>")));
	/* Markup needs no escaping inside CDATA. */
	cr_assert(eq(str, STR(cdata("<a>&", 4)), STR("<![CDATA[<a>&]]>")));
}

Test(junit, cdata_cleans_characters)
{
	cr_assert(eq(str, STR(cdata("a\x02" "b\xff", 4)), STR("<![CDATA[ab\xef\xbf\xbd]]>")));
}

Test(junit, seconds_use_a_dot_whatever_the_locale)
{
	const char *const comma_locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8" };
	const char *set = NULL;
	for (size_t i = 0; i < sizeof(comma_locales) / sizeof(comma_locales[0]) && !set; i++)
		set = setlocale(LC_NUMERIC, comma_locales[i]);
	if (!set)
		cr_log_info("no locale with a decimal comma is installed; checking under C");
	char s[32];
	junit_seconds(12345.4, s, sizeof(s));
	cr_expect(eq(str, s, STR("12.345")));
	junit_seconds(999.6, s, sizeof(s));
	cr_expect(eq(str, s, STR("1.000")));
	junit_seconds(0, s, sizeof(s));
	cr_expect(eq(str, s, STR("0.000")));
	junit_seconds(-3, s, sizeof(s));
	cr_expect(eq(str, s, STR("0.000")));
	junit_seconds(7, s, sizeof(s));
	cr_expect(eq(str, s, STR("0.007")));
	setlocale(LC_NUMERIC, "C");
}

/* ---- a whole report ----------------------------------------------------------------------- */

static struct suite api = { .name = (char *)"widget" };
static struct tcase cases[] = {
	{ .id = (char *)"widget.a.pass", .title = (char *)"passes", .section = (char *)"Response",
	  .clause = (char *)"It works.", .level = LEVEL_MUST, .suite = &api },
	{ .id = (char *)"widget.a.fail", .title = (char *)"fails <badly> & \"loudly\"", .section = (char *)"Auth",
	  .clause = (char *)"A 401 & nothing else.", .level = LEVEL_MUST, .suite = &api },
	{ .id = (char *)"widget.a.should", .title = (char *)"a SHOULD", .section = (char *)"Auth",
	  .clause = (char *)"Should be JSON.", .level = LEVEL_SHOULD, .suite = &api },
	{ .id = (char *)"widget.a.error", .title = (char *)"times out", .section = (char *)"Stream",
	  .clause = (char *)"Streams end.", .level = LEVEL_MUST, .suite = &api },
	{ .id = (char *)"widget.a.skip", .title = (char *)"skipped", .section = (char *)"Stream",
	  .clause = (char *)"Mock only.", .level = LEVEL_MUST, .suite = &api },
	{ .id = (char *)"widget.a.info", .title = (char *)"observed", .section = (char *)"Stream",
	  .clause = (char *)"Nothing.", .level = LEVEL_INFO, .suite = &api },
	/* The same id and title twice (the loader forbids it; the writer must still keep names unique). */
	{ .id = (char *)"widget.a.pass", .title = (char *)"passes", .section = (char *)"Response",
	  .clause = (char *)"It works.", .level = LEVEL_MUST, .suite = &api },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct case_result results[NCASES];
static struct run_result rr;

static void fill_run(int strict)
{
	const enum verdict v[NCASES] = { VERDICT_PASS, VERDICT_FAIL, VERDICT_FAIL, VERDICT_ERROR, VERDICT_SKIP,
					 VERDICT_OBSERVED, VERDICT_PASS };
	const char *msg[NCASES] = { NULL, "status: expected 401, got 200", "content-type: expected JSON",
				    "no first byte within 10 s", "mock-only: needs mockd",
				    "observed: status: expected 200, got 404", NULL };
	for (size_t i = 0; i < NCASES; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].tcase = &cases[i];
		results[i].verdict = v[i];
		results[i].message = msg[i] ? strdup(msg[i]) : NULL;
		results[i].time_ms = 12.5 * (double)(i + 1);
		buf_init(&results[i].diff, 1 << 16);
		buf_init(&results[i].transcript, 1 << 16);
		if (msg[i] && v[i] == VERDICT_FAIL)
			buf_printf(&results[i].diff, "%s\nbody /error: expected \"Unauthorized\", got \"]]>\x01\"\n",
				   msg[i]);
		buf_printf(&results[i].transcript, "> GET /x\n< 200\n<\n{\"a\":\"]]>\"}\x02\xff\xef\xbf\xbe\n");
	}
	buf_adds(&results[5].diff, "status: expected 200, got 404\n");
	memset(&rr, 0, sizeof(rr));
	rr.cases = results;
	rr.ncases = NCASES;
	snprintf(rr.target, sizeof(rr.target), "http://example.test/?a=1&b=<2>");
	snprintf(rr.run_id, sizeof(rr.run_id), "abcdef012345");
	rr.started_at_ms = 1700000000123.0;
	rr.time_ms = 1234.0;
	rr.strict = strict;
}

static void release_run(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		free(results[i].message);
		buf_release(&results[i].diff);
		buf_release(&results[i].transcript);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL, "cannot open %s", path);
	static char text[1 << 18];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static const char *schema_path(void)
{
	const char *env = getenv("JUNIT_XSD");
	return env ? env : "schemas/junit-10.xsd";
}

/* Write the report to a temporary file; returns its path (static). */
static const char *write_report(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/cc-junit-test-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	struct buf err;
	buf_init(&err, 4096);
	int rc = junit_write(&rr, path, &err);
	cr_assert(eq(int, rc, 0), "junit_write: %s", buf_str(&err));
	buf_release(&err);
	return path;
}

Test(junit, full_report_is_valid_against_the_schema)
{
	cr_assert(access(schema_path(), R_OK) == 0, "schema %s not found (set JUNIT_XSD)", schema_path());
	if (system("command -v xmllint >/dev/null 2>&1") != 0)
		cr_skip("xmllint is not installed");
	fill_run(0);
	const char *path = write_report();
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema '%s' '%s' >/dev/null 2>&1", schema_path(), path);
	cr_expect(eq(int, system(cmd), 0), "%s", slurp(path));
	unlink(path);
	release_run();
}

Test(junit, full_report_content)
{
	fill_run(0);
	const char *path = write_report();
	const char *x = slurp(path);
	unlink(path);
	assert_contains(x, "<testsuites name=\"chatconform\" tests=\"7\" failures=\"1\" errors=\"1\" time=\"1.234\">");
	assert_contains(x, "<testsuite name=\"widget\" tests=\"7\" failures=\"1\" errors=\"1\" skipped=\"1\"");
	assert_contains(x, "timestamp=\"2023-11-14T22:13:20.123Z\"");
	assert_contains(x, "<property name=\"target\" value=\"http://example.test/?a=1&amp;b=&lt;2&gt;\"/>");
	assert_contains(x, "<property name=\"run_id\" value=\"abcdef012345\"/>");
	assert_contains(x, "<property name=\"strict\" value=\"false\"/>");
	assert_contains(x, "<testcase name=\"widget.a.fail: fails &lt;badly&gt; &amp; &quot;loudly&quot;\" "
			   "classname=\"widget.Auth\" time=\"0.025\">");
	assert_contains(x, "<failure message=\"status: expected 401, got 200\" type=\"MUST\">Clause: A 401 &amp; "
			   "nothing else.\nstatus: expected 401, got 200\nbody /error: expected &quot;Unauthorized&quot;, "
			   "got &quot;]]&gt;&quot;\n</failure>");
	assert_contains(x, "<error message=\"no first byte within 10 s\" type=\"error\">");
	assert_contains(x, "<skipped message=\"mock-only: needs mockd\"/>");
	/* A SHOULD failure, not strict: no <failure>, the note first in system-out. */
	assert_contains(x, "<system-out><![CDATA[SHOULD not met: content-type: expected JSON\n");
	cr_expect(strstr(x, "type=\"SHOULD\"") == NULL);
	assert_contains(x, "<system-out><![CDATA[INFO, never a failure: observed: status: expected 200, got "
			   "404\nClause: Nothing.\nstatus: expected 200, got 404\n");
	assert_contains(x, "{\"a\":\"]]]]><![CDATA[>\"}\xef\xbf\xbd\n]]></system-out>");
	assert_contains(x, "name=\"widget.a.pass: passes (2)\"");
	release_run();
}

Test(junit, strict_should_is_a_failure)
{
	fill_run(1);
	const char *path = write_report();
	const char *x = slurp(path);
	unlink(path);
	assert_contains(x, "failures=\"2\"");
	assert_contains(x, "<failure message=\"content-type: expected JSON\" type=\"SHOULD\">");
	assert_contains(x, "<property name=\"strict\" value=\"true\"/>");
	release_run();
}

Test(junit, unwritable_path_is_an_error)
{
	fill_run(0);
	struct buf err;
	buf_init(&err, 4096);
	cr_expect(eq(int, junit_write(&rr, "/nonexistent-dir/x/junit.xml", &err), -1));
	assert_contains(buf_str(&err), "cannot write /nonexistent-dir/x/junit.xml");
	buf_release(&err);
	release_run();
}
