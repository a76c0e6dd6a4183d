/*
 * The HTML report in a real browser.  bin/chatconform runs suites/botchat and
 * suites/widget against its own mockd started with --break widget-no-done
 * (botchat passes, widget fails), writes --html, and headless Chromium loads
 * the file and dumps the DOM after its script ran.  On that DOM:
 * - the verdict table has one row per API;
 * - the first failure group comes before the first passing case (botchat's
 *   passes are earlier in suite order than widget's failures);
 * - each group lists as many cases as it says, and one lists several;
 * - each case's anchor is its case id;
 * - each group's difference is printed once in the whole document;
 * - each failed HTTP step has a curl reproducer, with the widget key redacted;
 * - the script ran (the filters are shown).
 * Without /usr/bin/chromium the test fails and names the Debian package.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"
#include "../unit/unit.h"

#define OUT_MAX (64u << 20)
#define CHROMIUM "/usr/bin/chromium"

static void make_dir(void)
{
	workdir_make("cc-html");
}

static void remove_dir(void)
{
	workdir_remove();
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The text between from and the next to, after at; a new string, or NULL. */
static char *between(const char *at, const char *from, const char *to)
{
	const char *a = strstr(at, from);
	if (!a)
		return NULL;
	a += strlen(from);
	const char *b = strstr(a, to);
	return b ? strndup(a, (size_t)(b - a)) : NULL;
}

/* The document without its groups' differences (<pre class="diff">...</pre>); a new string. */
static char *without_diffs(const char *dom)
{
	char *out = strdup(dom);
	cr_assert(out != NULL);
	char *w = out;
	for (const char *p = dom; *p;) {
		const char *pre = strstr(p, "<pre class=\"diff\"");
		const char *end = pre ? strstr(pre, "</pre>") : NULL;
		size_t keep = pre && end ? (size_t)(pre - p) : strlen(p);
		memmove(w, p, keep);
		w += keep;
		p = pre && end ? end + strlen("</pre>") : p + keep;
	}
	*w = '\0';
	return out;
}

/* Run the suites with a break, load the report in Chromium; the DOM it dumped. */
static char *report_dom(const char *html)
{
	char cc[512];
	cr_assert(access(CHROMIUM, X_OK) == 0,
		  "%s is missing: install Debian's chromium package (scripts/deps.sh installs it)", CHROMIUM);
	bin_path("chatconform", cc, sizeof(cc));
	int code = workdir_sh("run.out", "run.err",
			      "%s run suites/botchat suites/widget --mockd-arg --break --mockd-arg widget-no-done "
			      "--html '%s' --junit '%s'", cc, html, workdir_path("r.xml"));
	cr_assert(eq(int, code, 1), "the run with a break should fail (exit 1), got %d", code);
	code = workdir_sh("dom.html", "chromium.err",
			  "timeout 120 " CHROMIUM " --headless --no-sandbox --disable-gpu --user-data-dir='%s' "
			  "--dump-dom 'file://%s'", workdir_path("profile"), html);
	char *dom = slurp_file(workdir_path("dom.html"), OUT_MAX);
	if (code != 0 || !strstr(dom, "</html>")) {
		char *err = slurp_file(workdir_path("chromium.err"), 1u << 16);
		cr_assert(false, "chromium exited %d without a DOM:\n%s", code, err);
	}
	return dom;
}

TestSuite(html, .init = make_dir, .fini = remove_dir, .timeout = 240);

Test(html, a_real_browser_reads_the_vendor_layout)
{
	char *dom = report_dom(workdir_path("r.html"));

	/* One verdict row per API, before everything else. */
	char *verdicts = between(dom, "<table class=\"verdicts\">", "</table>");
	cr_assert(verdicts != NULL, "no verdict table");
	cr_expect(eq(sz, count(verdicts, "<tr class=\"api\">"), 2));
	assert_contains(verdicts, ">botchat</a>");
	assert_contains(verdicts, ">widget</a>");
	assert_contains(verdicts, "does not conform");
	free(verdicts);

	/* Failures before passes, though botchat's passes come first in suite order. */
	const char *first_cause = strstr(dom, "<article class=\"cause\"");
	const char *first_pass = strstr(dom, "data-outcome=\"pass\"");
	cr_assert(first_cause != NULL && first_pass != NULL);
	cr_expect(first_cause < first_pass, "a passing case comes before the first failure group");

	/* Each group lists the cases it counts; the case anchors are the case ids; the difference is printed once. */
	size_t groups = 0, largest = 0;
	char *rest = without_diffs(dom);
	for (const char *g = dom; (g = strstr(g, "<article class=\"cause\"")); g++) {
		groups++;
		const char *end = strstr(g, "</article>");
		cr_assert(end != NULL);
		char *n = between(g, "data-count=\"", "\"");
		cr_assert(n != NULL);
		size_t want = strtoul(n, NULL, 10);
		free(n);
		size_t listed = 0;
		for (const char *li = g; (li = strstr(li, "<li class=\"case\" id=\"")) && li < end; li++) {
			listed++;
			char *id = between(li, "<li class=\"case\" id=\"", "\"");
			char *code = between(li, "<code>", "</code>");
			cr_assert(id && code);
			cr_expect(eq(str, id, code), "the anchor %s is not the case id %s", id, code);
			free(id);
			free(code);
		}
		cr_expect(eq(sz, listed, want), "a group says %zu cases and lists %zu", want, listed);
		largest = want > largest ? want : largest;
		/* Once in its group; elsewhere only as the difference of another group (another endpoint or step). */
		char *diff = between(g, "<pre class=\"diff\" title=\"differences\">", "</pre>");
		cr_assert(diff != NULL && *diff);
		char *group = strndup(g, (size_t)(end - g));
		cr_expect(eq(sz, count(group, diff), 1), "the difference is printed %zu times in its group: %s",
			  count(group, diff), diff);
		cr_expect(strstr(rest, diff) == NULL, "the difference is printed outside the groups: %s", diff);
		free(group);
		free(diff);
	}
	free(rest);
	cr_expect(groups >= 2, "%zu failure groups", groups);
	cr_expect(largest >= 2, "no group gathers two cases of one cause");

	/* A curl reproducer per failed HTTP step, with the key redacted as the transcripts have it. */
	assert_contains(dom, "<pre class=\"curl\">curl -i -N -X 'POST' 'http://127.0.0.1:");
	assert_contains(dom, "-H 'x-api-key: widg…(redacted)'");
	size_t curls = 0;
	for (const char *c = dom; (c = strstr(c, "<pre class=\"curl\">")); c++, curls++) {
		char *cmd = between(c, "<pre class=\"curl\">", "</pre>");
		cr_assert(cmd != NULL);
		cr_expect(strstr(cmd, "widget-dev-key-0123456789abcdef") == NULL, "a reproducer has the key: %s", cmd);
		free(cmd);
	}
	cr_expect(curls >= 9, "%zu curl reproducers for 9 failed cases", curls);

	/* The script ran: the filters are shown. */
	assert_contains(dom, "<form id=\"filters\">");
	free(dom);
}

Test(html, the_report_is_valid_and_self_contained)
{
	char cc[512];
	bin_path("chatconform", cc, sizeof(cc));
	int code = workdir_sh("run.out", "run.err",
			      "%s run suites/widget --mockd-arg --break --mockd-arg widget-no-done --html '%s'", cc,
			      workdir_path("r.html"));
	cr_assert(eq(int, code, 1));
	code = workdir_sh("check.out", "check.err", "/usr/bin/python3 tests/integration/check_html.py '%s'",
			  workdir_path("r.html"));
	char *said = slurp_file(workdir_path("check.out"), 1u << 16);
	cr_expect(eq(int, code, 0), "check_html.py: %s", said);
	free(said);
}
