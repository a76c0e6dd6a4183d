/*
 * junit: JUnit XML for CI tools (Jenkins, GitLab, GitHub annotations).
 *
 * The file is written one testcase at a time through a bounded buffer, so a
 * large run never needs the whole document in memory.
 */
#include "runner/report/junit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "runner/report/common.h"

#ifndef CHATCONFORM_VERSION
#define CHATCONFORM_VERSION "0.0.0"
#endif

#define SYSTEM_OUT_MAX (4u << 20)   /* a case's notes and transcript (both capped far lower by exec) */

/*
 * Every string goes through report_escape: invalid UTF-8 becomes U+FFFD, what
 * XML 1.0 forbids is dropped (C0 controls but tab, LF and CR; U+FFFE, U+FFFF),
 * markup is escaped in text and attributes, and "]]>" is split in CDATA.
 */
void junit_escape(struct buf *out, const char *s, size_t n)
{
	report_escape(out, s, n, ESC_XML_ATTR);
}

/* Element text: like an attribute, but tabs and newlines stay as they are, for readers of the file. */
static void escape_text(struct buf *out, const char *s, size_t n)
{
	report_escape(out, s, n, ESC_XML_TEXT);
}

void junit_cdata(struct buf *out, const char *s, size_t n)
{
	buf_adds(out, "<![CDATA[");
	report_escape(out, s, n, ESC_XML_CDATA);
	buf_adds(out, "]]>");
}

void junit_seconds(double ms, char *out, size_t size)
{
	report_seconds(ms, out, size);
}

static void attr(struct buf *out, const char *name, const char *value)
{
	buf_printf(out, " %s=\"", name);
	junit_escape(out, value, strlen(value));
	buf_addc(out, '"');
}

static void attr_size(struct buf *out, const char *name, size_t v)
{
	buf_printf(out, " %s=\"%zu\"", name, v);
}

static void attr_time(struct buf *out, const char *name, double ms)
{
	char s[32];
	junit_seconds(ms, s, sizeof(s));
	buf_printf(out, " %s=\"%s\"", name, s);
}

/*
 * The element a case gets: <failure> only when the failure counts; a SHOULD not
 * met and an INFO observation are passes with a note; a blocked case is <skipped>.
 */
static enum report_outcome outcome_of(const struct case_result *cr, int strict)
{
	enum report_outcome o = report_outcome(cr, strict);
	return o == OUTCOME_WARN ? OUTCOME_PASS : o;
}

/*
 * The failed attempts of a retried case, one element each with its message,
 * the clause and differences (stackTrace) and its exchange (system-out):
 * flakyFailure / flakyError when the case passed in the end, rerunFailure /
 * rerunError when it did not (Surefire's elements, which GitLab and Jenkins read).
 */
static void attempts(struct buf *out, const struct case_result *cr, int flaky)
{
	const struct tcase *c = cr->tcase;
	for (size_t i = 0; i < cr->nattempts; i++) {
		const struct case_attempt *a = &cr->attempts[i];
		int is_error = a->verdict == VERDICT_ERROR;
		const char *el = flaky ? (is_error ? "flakyError" : "flakyFailure")
				       : (is_error ? "rerunError" : "rerunFailure");
		const char *msg = a->message ? a->message : "";
		buf_printf(out, "      <%s", el);
		attr(out, "message", msg);
		attr(out, "type", is_error ? "error" : level_name(c->level));
		buf_adds(out, "><stackTrace>");
		buf_printf(out, "Attempt %zu of %zu. Clause: ", i + 1, cr->nattempts + 1);
		escape_text(out, c->clause, strlen(c->clause));
		buf_adds(out, "\n");
		if (is_error) {
			escape_text(out, msg, strlen(msg));
			buf_adds(out, "\n");
		}
		escape_text(out, buf_str(&a->diff), a->diff.len);
		buf_adds(out, "</stackTrace>");
		if (a->transcript.len) {
			buf_adds(out, "<system-out>");
			junit_cdata(out, a->transcript.data, a->transcript.len);
			buf_adds(out, "</system-out>");
		}
		buf_printf(out, "</%s>\n", el);
	}
}

/*
 * The figures of the case's streams, in system-out: the schema
 * (junit-10.xsd) allows <properties> in a testsuite but not in a testcase.
 */
static void timings_text(struct buf *so, const struct timing_list *l)
{
	if (!l->n)
		return;
	buf_adds(so, "Stream timings (ms; HTTP since the request went out, ws since the last send on the connection):\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct stream_timing *t = &l->v[i];
		char f[40], p50[40], p99[40], mx[40], sp[40], tot[40];
		report_millis(t->first_ms, f, sizeof(f));
		report_millis(t->gap_p50_ms, p50, sizeof(p50));
		report_millis(t->gap_p99_ms, p99, sizeof(p99));
		report_millis(t->gap_max_ms, mx, sizeof(mx));
		report_millis(t->spread_ms, sp, sizeof(sp));
		report_millis(t->total_ms, tot, sizeof(tot));
		buf_printf(so, "  step %zu", t->step);
		if (t->item)
			buf_printf(so, " item %zu (collect %s)", t->item, t->conn);
		buf_printf(so, " %s: %zu event%s", t->kind, t->count, t->count == 1 ? "" : "s");
		if (t->count)
			buf_printf(so, ", first event %s", f);
		if (t->count > 1)
			buf_printf(so, ", gap p50 %s p99 %s max %s, spread %s", p50, p99, mx, sp);
		buf_printf(so, ", total %s\n", tot);
	}
	if (l->dropped)
		buf_printf(so, "  (%zu more streams not kept)\n", l->dropped);
}

static void testcase(struct buf *out, const struct run_result *rr, const struct case_result *cr,
		     const char *name)
{
	const struct tcase *c = cr->tcase;
	enum report_outcome o = outcome_of(cr, rr->strict);
	const char *msg = cr->message ? cr->message : "";

	buf_adds(out, "    <testcase");
	attr(out, "name", name);
	buf_printf(out, " classname=\"");
	junit_escape(out, c->suite->name, strlen(c->suite->name));
	buf_addc(out, '.');
	junit_escape(out, c->section, strlen(c->section));
	buf_addc(out, '"');
	attr_time(out, "time", cr->time_ms);
	buf_adds(out, ">\n");

	if (o == OUTCOME_FAIL || o == OUTCOME_ERROR) {
		const char *el = o == OUTCOME_FAIL ? "failure" : "error";
		buf_printf(out, "      <%s", el);
		attr(out, "message", msg);
		attr(out, "type", o == OUTCOME_FAIL ? level_name(c->level) : "error");
		buf_addc(out, '>');
		buf_adds(out, "Clause: ");
		escape_text(out, c->clause, strlen(c->clause));
		buf_adds(out, "\n");
		if (o == OUTCOME_ERROR) {
			escape_text(out, msg, strlen(msg));
			buf_adds(out, "\n");
		}
		escape_text(out, buf_str(&cr->diff), cr->diff.len);
		buf_printf(out, "</%s>\n", el);
		attempts(out, cr, 0);
	} else if (o == OUTCOME_FLAKY) {
		attempts(out, cr, 1);
	} else if (o == OUTCOME_SKIP || o == OUTCOME_BLOCKED) {
		/* A blocked case never reached its clause: skipped, with "precondition not met: ..." as the reason. */
		buf_adds(out, "      <skipped");
		attr(out, "message", msg);
		buf_adds(out, "/>\n");
	}

	/* What is not a failure but worth reading goes first in system-out, then the transcript. */
	struct buf so;
	buf_init(&so, SYSTEM_OUT_MAX);
	if (o == OUTCOME_FLAKY)
		buf_printf(&so, "Flaky: %s\n", msg);
	else if (cr->verdict == VERDICT_FAIL && o == OUTCOME_PASS)
		buf_printf(&so, "SHOULD not met: %s\nClause: %s\n%s\n", msg, c->clause, buf_str(&cr->diff));
	else if (o == OUTCOME_INFO)
		buf_printf(&so, "INFO, never a failure: %s\nClause: %s\n%s\n", msg, c->clause,
			   buf_str(&cr->diff));
	else if (o == OUTCOME_BLOCKED)
		buf_printf(&so, "Blocked: %s\n%s\n", msg, buf_str(&cr->diff));
	timings_text(&so, &cr->timings);
	buf_add(&so, cr->transcript.data ? cr->transcript.data : "", cr->transcript.len);
	if (so.len) {
		buf_adds(out, "      <system-out>");
		junit_cdata(out, so.data, so.len);
		buf_adds(out, "</system-out>\n");
	}
	buf_release(&so);
	buf_adds(out, "    </testcase>\n");
}

/* "ID: TITLE" for each case, with " (2)", " (3)"... where classname and name would repeat. */
static char **case_names(const struct run_result *rr)
{
	char **names = calloc(rr->ncases ? rr->ncases : 1, sizeof(*names));
	if (!names)
		return NULL;
	for (size_t i = 0; i < rr->ncases; i++) {
		const struct tcase *c = rr->cases[i].tcase;
		int dup = 1;
		/* O(n^2) over the cases; the loader already keeps ids unique, so this only guards. */
		for (;;) {
			char *name = NULL;
			int w = dup == 1 ? asprintf(&name, "%s: %s", c->id, c->title)
					 : asprintf(&name, "%s: %s (%d)", c->id, c->title, dup);
			if (w < 0)
				goto fail;
			int clash = 0;
			for (size_t j = 0; j < i && !clash; j++) {
				const struct tcase *o = rr->cases[j].tcase;
				clash = strcmp(names[j], name) == 0 && strcmp(o->suite->name, c->suite->name) == 0 &&
					strcmp(o->section, c->section) == 0;
			}
			if (!clash) {
				names[i] = name;
				break;
			}
			free(name);
			dup++;
		}
	}
	return names;
fail:
	for (size_t i = 0; i < rr->ncases; i++)
		free(names[i]);
	free(names);
	return NULL;
}

int junit_write(const struct run_result *rr, const char *path, struct buf *err)
{
	struct report_file rf = { 0 };
	char **names = NULL;
	struct buf b;
	char host[256] = "localhost";
	char stamp[40];
	int rc = -1;

	buf_init(&b, REPORT_CHUNK_MAX);
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	iso8601_format((int64_t)rr->started_at_ms, stamp, sizeof(stamp));
	names = case_names(rr);
	if (!names) {
		buf_printf(err, "cannot write %s: out of memory", path);
		goto out;
	}
	if (report_file_open(&rf, path, err) != 0)
		goto out;

	size_t failures = 0, errors = 0;
	for (size_t i = 0; i < rr->ncases; i++) {
		enum report_outcome o = outcome_of(&rr->cases[i], rr->strict);
		failures += o == OUTCOME_FAIL;
		errors += o == OUTCOME_ERROR;
	}
	buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
	attr(&b, "name", "chatconform");
	attr_size(&b, "tests", rr->ncases);
	attr_size(&b, "failures", failures);
	attr_size(&b, "errors", errors);
	attr_time(&b, "time", rr->time_ms);
	buf_adds(&b, ">\n");

	/* One testsuite per API, in the order the APIs first appear (several files may share one). */
	for (size_t i = 0; i < rr->ncases; i++) {
		if (!report_first_of_api(rr, i))
			continue;
		const char *api = rr->cases[i].tcase->suite->name;
		size_t tests = 0, fail = 0, errs = 0, skipped = 0;
		double ms = 0;
		for (size_t j = i; j < rr->ncases; j++) {
			if (strcmp(rr->cases[j].tcase->suite->name, api) != 0)
				continue;
			enum report_outcome o = outcome_of(&rr->cases[j], rr->strict);
			tests++;
			fail += o == OUTCOME_FAIL;
			errs += o == OUTCOME_ERROR;
			skipped += o == OUTCOME_SKIP || o == OUTCOME_BLOCKED;
			ms += rr->cases[j].time_ms;
		}
		buf_adds(&b, "  <testsuite");
		attr(&b, "name", api);
		attr_size(&b, "tests", tests);
		attr_size(&b, "failures", fail);
		attr_size(&b, "errors", errs);
		attr_size(&b, "skipped", skipped);
		attr_time(&b, "time", ms);
		attr(&b, "timestamp", stamp);
		attr(&b, "hostname", host);
		buf_adds(&b, ">\n    <properties>\n");
		const char *props[][2] = {
			{ "target", rr->target },
			{ "run_id", rr->run_id },
			{ "chatconform_version", CHATCONFORM_VERSION },
			{ "strict", rr->strict ? "true" : "false" },
			{ "shard", rr->shard[0] ? rr->shard : NULL },
		};
		for (size_t p = 0; p < sizeof(props) / sizeof(props[0]); p++) {
			if (!props[p][1])
				continue;
			buf_adds(&b, "      <property");
			attr(&b, "name", props[p][0]);
			attr(&b, "value", props[p][1]);
			buf_adds(&b, "/>\n");
		}
		buf_adds(&b, "    </properties>\n");
		for (size_t j = i; j < rr->ncases; j++) {
			if (strcmp(rr->cases[j].tcase->suite->name, api) != 0)
				continue;
			testcase(&b, rr, &rr->cases[j], names[j]);
			if (report_file_flush(&rf, &b, err) != 0)
				goto out;
		}
		buf_adds(&b, "  </testsuite>\n");
	}
	buf_adds(&b, "</testsuites>\n");
	if (report_file_flush(&rf, &b, err) != 0 || report_file_commit(&rf, err) != 0)
		goto out;
	rc = 0;
out:
	report_file_abort(&rf);
	if (names)
		for (size_t i = 0; i < rr->ncases; i++)
			free(names[i]);
	free(names);
	buf_release(&b);
	return rc;
}
