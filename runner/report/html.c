/*
 * html: the vendor's report.  Layout, top to bottom: what was run, the totals,
 * the outcome filters, then for each API its matrix (rows = sections), its
 * cases, and the details of every case that did not simply pass.
 *
 * APIs and sections appear in the order the cases first name them (suite
 * order); finding them is O(n^2) over the cases, which is nothing next to a run.
 */
#include "runner/report/html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/utf8.h"
#include "runner/report/common.h"
#include "runner/timing.h"

#ifndef CHATCONFORM_VERSION
#define CHATCONFORM_VERSION "0.0.0"
#endif

static const char style[] =
	"body{font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",sans-serif;margin:0 auto;max-width:72rem;"
	"padding:1rem 1.5rem;color:#1d2228;background:#fff}\n"
	"h1{font-size:1.6rem;margin:.2rem 0 .8rem}h2{margin-top:2.5rem;border-bottom:2px solid #d5dbe1}\n"
	"h3{margin-top:1.6rem}h4{margin:.2rem 0 .5rem;font-size:1rem}\n"
	"dl.meta{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:0}\n"
	"dl.meta dt{font-weight:600}dl.meta dd{margin:0;overflow-wrap:anywhere}\n"
	"table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #d5dbe1;padding:.25rem .6rem;"
	"text-align:left;vertical-align:top}\n"
	"thead th,tfoot th,tfoot td{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"td.all{background:#e3f4e6}td.some{background:#fbe3e1}td.warn{background:#fdf3d8}td.none{color:#8a939c}\n"
	"caption{text-align:left;font-weight:600;padding:.2rem 0}\n"
	".badge{display:inline-block;min-width:3.2rem;text-align:center;border-radius:3px;padding:0 .3rem;"
	"font-size:.8rem;font-weight:700;color:#fff}\n"
	".b-pass{background:#2e7d32}.b-fail{background:#c62828}.b-warn{background:#b26a00}"
	".b-error{background:#6a1b9a}.b-skip{background:#607080}.b-flaky{background:#ad1457}"
	".b-blocked{background:#37474f}.b-info{background:#00695c}\n"
	"article{border:1px solid #d5dbe1;border-left-width:5px;border-radius:3px;padding:.6rem .9rem;margin:.8rem 0}\n"
	"article[data-outcome=fail]{border-left-color:#c62828}article[data-outcome=warn]{border-left-color:#b26a00}"
	"article[data-outcome=error]{border-left-color:#6a1b9a}article[data-outcome=pass]{border-left-color:#2e7d32}"
	"article[data-outcome=flaky]{border-left-color:#ad1457}\n"
	"blockquote{margin:.3rem 0;padding:.2rem .8rem;border-left:3px solid #9aa5b1;background:#f7f8fa}\n"
	"pre{background:#f7f8fa;border:1px solid #e3e7eb;padding:.5rem;overflow:auto;max-height:32rem;"
	"white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem}\n"
	"fieldset{border:1px solid #d5dbe1;margin:1rem 0}fieldset label{margin-right:1rem}\n"
	".muted{color:#5f6b76}\n"
	"figure.tl{margin:.4rem 0}figure.tl figcaption{font-size:.85rem}svg.tl{display:block;max-width:100%;height:auto}\n"
	".hide-pass [data-outcome=pass],.hide-fail [data-outcome=fail],.hide-warn [data-outcome=warn],"
	".hide-error [data-outcome=error],.hide-skip [data-outcome=skip],.hide-flaky [data-outcome=flaky],"
	".hide-blocked [data-outcome=blocked],.hide-info [data-outcome=info]"
	"{display:none}\n";

/* Shows the filters (hidden without script) and hides what is unchecked. */
static const char script[] =
	"(function(){var f=document.getElementById('filters');f.hidden=false;"
	"var boxes=f.querySelectorAll('input[type=checkbox]');"
	"for(var i=0;i<boxes.length;i++){boxes[i].addEventListener('change',function(e){"
	"document.body.classList.toggle('hide-'+e.target.value,!e.target.checked);});}})();\n";

static const char *const outcome_label[OUTCOME_COUNT] = {
	"passed", "failed", "SHOULD not met", "errors", "skipped", "flaky", "blocked", "INFO observed",
};
static const char *const outcome_badge[OUTCOME_COUNT] = { "PASS", "FAIL", "WARN", "ERROR", "SKIP", "FLAKY",
							  "BLOCKED", "INFO" };

static void text(struct buf *out, const char *s)
{
	if (s)
		report_escape(out, s, strlen(s), ESC_HTML);
}

static void badge(struct buf *out, enum report_outcome o)
{
	buf_printf(out, "<span class=\"badge b-%s\">%s</span>", report_outcome_name(o), outcome_badge[o]);
}

/* True when cases[i] is the first to name its API (with section: its API and section). */
static int first_of(const struct run_result *rr, size_t i, int with_section)
{
	const struct tcase *c = rr->cases[i].tcase;
	for (size_t j = 0; j < i; j++) {
		const struct tcase *o = rr->cases[j].tcase;
		if (strcmp(o->suite->name, c->suite->name) == 0 &&
		    (!with_section || strcmp(o->section, c->section) == 0))
			return 0;
	}
	return 1;
}

static int same_api(const struct run_result *rr, size_t i, size_t j)
{
	return strcmp(rr->cases[i].tcase->suite->name, rr->cases[j].tcase->suite->name) == 0;
}

/* ---- the matrix -------------------------------------------------------------------------- */

struct tally {
	size_t must_pass, must_run;
	size_t should_pass, should_run;
	size_t info, info_noted;
	size_t errors, skipped, flaky, blocked;
};

static void tally_add(struct tally *t, const struct run_result *rr, const struct case_result *cr)
{
	enum report_outcome o = report_outcome(cr, rr->strict);
	if (o == OUTCOME_SKIP || o == OUTCOME_BLOCKED) {
		/* Neither reached its clause: counted apart, in no ratio. */
		t->skipped += o == OUTCOME_SKIP;
		t->blocked += o == OUTCOME_BLOCKED;
		return;
	}
	t->errors += o == OUTCOME_ERROR;
	t->flaky += o == OUTCOME_FLAKY;
	/* A flaky case met the clause on a rerun: passed, and counted in the Flaky column as well. */
	int met = o == OUTCOME_PASS || o == OUTCOME_FLAKY;
	switch (cr->tcase->level) {
	case LEVEL_MUST:
		t->must_run++;
		t->must_pass += met;
		break;
	case LEVEL_SHOULD:
		t->should_run++;
		t->should_pass += met;
		break;
	case LEVEL_INFO:
		t->info++;
		t->info_noted += o == OUTCOME_INFO;
		break;
	}
}

/* "passed/run" with a class: all passed, some did not (warn for SHOULD), or nothing ran. */
static void ratio_cell(struct buf *out, size_t pass, size_t run, const char *short_class)
{
	if (!run) {
		buf_adds(out, "<td class=\"n none\">\xe2\x80\x93</td>");
		return;
	}
	buf_printf(out, "<td class=\"n %s\">%zu/%zu</td>", pass == run ? "all" : short_class, pass, run);
}

static void tally_row(struct buf *out, const struct tally *t, int strict)
{
	ratio_cell(out, t->must_pass, t->must_run, "some");
	ratio_cell(out, t->should_pass, t->should_run, strict ? "some" : "warn");
	if (t->info_noted)
		buf_printf(out, "<td class=\"n\">%zu (%zu noted)</td>", t->info, t->info_noted);
	else
		buf_printf(out, "<td class=\"n\">%zu</td>", t->info);
	buf_printf(out, "<td class=\"n%s\">%zu</td><td class=\"n%s\">%zu</td><td class=\"n%s\">%zu</td>"
			"<td class=\"n\">%zu</td></tr>\n",
		   t->errors ? " some" : "", t->errors, t->blocked ? " warn" : "", t->blocked, t->flaky ? " warn" : "",
		   t->flaky, t->skipped);
}

static void matrix(struct buf *out, const struct run_result *rr, size_t first)
{
	struct tally all = { 0 };
	buf_adds(out, "<table class=\"matrix\">\n<caption>Conformance by section</caption>\n"
		      "<thead><tr><th scope=\"col\">Section</th><th scope=\"col\">MUST passed</th>"
		      "<th scope=\"col\">SHOULD passed</th><th scope=\"col\">INFO</th>"
		      "<th scope=\"col\">Errors</th><th scope=\"col\">Blocked</th><th scope=\"col\">Flaky</th><th scope=\"col\">Skipped</th></tr></thead>\n"
		      "<tbody>\n");
	for (size_t i = first; i < rr->ncases; i++) {
		if (!same_api(rr, i, first) || !first_of(rr, i, 1))
			continue;
		struct tally t = { 0 };
		const char *section = rr->cases[i].tcase->section;
		for (size_t j = i; j < rr->ncases; j++)
			if (same_api(rr, j, first) && strcmp(rr->cases[j].tcase->section, section) == 0)
				tally_add(&t, rr, &rr->cases[j]);
		buf_adds(out, "<tr><th scope=\"row\">");
		text(out, section);
		buf_adds(out, "</th>");
		tally_row(out, &t, rr->strict);
	}
	for (size_t j = first; j < rr->ncases; j++)
		if (same_api(rr, j, first))
			tally_add(&all, rr, &rr->cases[j]);
	buf_adds(out, "</tbody>\n<tfoot><tr><th scope=\"row\">All sections</th>");
	tally_row(out, &all, rr->strict);
	buf_adds(out, "</tfoot>\n</table>\n");
}

/* ---- stream timings ---------------------------------------------------------------------- */

#define TL_WIDTH  640    /* the timeline's drawing, in SVG units */
#define TL_HEIGHT 34
#define TL_PAD    6      /* left and right */
#define TL_AXIS_Y 22     /* the axis; ticks rise from it */

/* "step 2, ndjson" or "step 1, item 5, collect a (ws)". */
static void timing_label(struct buf *out, const struct stream_timing *t)
{
	buf_printf(out, "step %zu, ", t->step);
	if (t->item) {
		buf_printf(out, "item %zu, collect ", t->item);
		text(out, t->conn);
		buf_adds(out, " (WebSocket)");
	} else {
		buf_adds(out, t->kind);
	}
}

/* "25 events; first +52.3 ms; gap p50 40.0 ms, p99 41.2 ms; spread 960.0 ms; total 1012.4 ms". */
static void timing_figures(struct buf *out, const struct stream_timing *t)
{
	buf_printf(out, "%zu event%s", t->count, t->count == 1 ? "" : "s");
	if (t->count)
		buf_printf(out, "; first +%.1f ms", t->first_ms);
	if (t->count > 1)
		buf_printf(out, "; gap p50 %.1f ms, p99 %.1f ms; spread %.1f ms", t->gap_p50_ms, t->gap_p99_ms,
			   t->spread_ms);
	buf_printf(out, "; total %.1f ms", t->total_ms);
}

/*
 * One stream as an inline SVG: a time axis from the reference (0: the request
 * went out, or the last send) to the end of the stream, and a tick at each
 * arrival.  One path for all the ticks keeps a long stream small.
 */
static void timeline(struct buf *out, const struct stream_timing *t)
{
	double span = t->total_ms > t->last_ms ? t->total_ms : t->last_ms;
	if (span < 1)
		span = 1;
	const double w = TL_WIDTH - 2 * TL_PAD;
	buf_adds(out, "<figure class=\"tl\"><figcaption>");
	timing_label(out, t);
	buf_adds(out, ": ");
	timing_figures(out, t);
	buf_printf(out, "</figcaption>\n<svg class=\"tl\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
			"aria-label=\"arrivals of %zu events over %.1f ms\">",
		   TL_WIDTH, TL_HEIGHT, TL_WIDTH, TL_HEIGHT, t->count, span);
	buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9aa5b1\"/>", TL_PAD, TL_AXIS_Y,
		   TL_WIDTH - TL_PAD, TL_AXIS_Y);
	if (t->nticks) {
		buf_adds(out, "<path stroke=\"#1565c0\" fill=\"none\" d=\"");
		for (size_t i = 0; i < t->nticks; i++) {
			double at = t->ticks[i] < 0 ? 0 : t->ticks[i];
			buf_printf(out, "M%.1f 6V%d", TL_PAD + at / span * w, TL_AXIS_Y);
		}
		buf_adds(out, "\"/>");
	}
	buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#5f6b76\">0</text>"
			"<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#5f6b76\" text-anchor=\"end\">+%.1f ms</text>",
		   TL_PAD, TL_HEIGHT - 1, TL_WIDTH - TL_PAD, TL_HEIGHT - 1, span);
	buf_adds(out, "</svg></figure>\n");
}

static void timelines(struct buf *out, const struct case_result *cr)
{
	for (size_t k = 0; k < cr->timings.n; k++)
		timeline(out, &cr->timings.v[k]);
	if (cr->timings.dropped)
		buf_printf(out, "<p class=\"muted\">%zu more streams not kept.</p>\n", cr->timings.dropped);
}

/* A median cell: "–" when no stream has the figure. */
static void median_cell(struct buf *out, double *v, size_t n)
{
	if (!n) {
		buf_adds(out, "<td class=\"n none\">\xe2\x80\x93</td>");
		return;
	}
	buf_printf(out, "<td class=\"n\">%.1f</td>", timing_median(v, n));
}

/* One row of the timings table: the streams of kind (NULL: all) among the API's cases. */
static int timing_row(struct buf *out, const struct run_result *rr, size_t first, const char *kind,
		      const char *label)
{
	size_t n = 0;
	for (size_t i = first; i < rr->ncases; i++)
		if (same_api(rr, i, first))
			for (size_t k = 0; k < rr->cases[i].timings.n; k++)
				n += !kind || strcmp(rr->cases[i].timings.v[k].kind, kind) == 0;
	if (!n)
		return 0;
	double *count = malloc(n * sizeof(double)), *firsts = malloc(n * sizeof(double));
	double *p99 = malloc(n * sizeof(double)), *total = malloc(n * sizeof(double));
	size_t nc = 0, nf = 0, np = 0, nt = 0;
	if (count && firsts && p99 && total) {
		for (size_t i = first; i < rr->ncases; i++) {
			if (!same_api(rr, i, first))
				continue;
			for (size_t k = 0; k < rr->cases[i].timings.n; k++) {
				const struct stream_timing *t = &rr->cases[i].timings.v[k];
				if (kind && strcmp(t->kind, kind) != 0)
					continue;
				count[nc++] = (double)t->count;
				if (t->first_ms >= 0)
					firsts[nf++] = t->first_ms;
				if (t->gap_p99_ms >= 0)
					p99[np++] = t->gap_p99_ms;
				total[nt++] = t->total_ms;
			}
		}
		buf_printf(out, "<tr><th scope=\"row\">%s</th><td class=\"n\">%zu</td>", label, n);
		median_cell(out, count, nc);
		median_cell(out, firsts, nf);
		median_cell(out, p99, np);
		median_cell(out, total, nt);
		buf_adds(out, "</tr>\n");
	}
	free(count);
	free(firsts);
	free(p99);
	free(total);
	return 1;
}

/* The API's stream figures, medians over its streams by kind; nothing when it has no stream. */
static void timing_table(struct buf *out, const struct run_result *rr, size_t first)
{
	struct buf rows;
	buf_init(&rows, 1u << 16);
	int kinds = timing_row(&rows, rr, first, "ndjson", "HTTP NDJSON") + timing_row(&rows, rr, first, "sse", "HTTP SSE") +
		    timing_row(&rows, rr, first, "ws", "WebSocket collect");
	if (kinds) {
		buf_adds(out, "<table class=\"timings\">\n<caption>Stream timings: medians over the streams, in ms "
			      "(HTTP from the request, WebSocket from the last message sent)</caption>\n"
			      "<thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Streams</th>"
			      "<th scope=\"col\">Events</th><th scope=\"col\">First event</th>"
			      "<th scope=\"col\">Gap p99</th><th scope=\"col\">Total</th></tr></thead>\n<tbody>\n");
		buf_add(out, rows.data, rows.len);
		buf_adds(out, "</tbody>\n");
		if (kinds > 1) {
			buf_adds(out, "<tfoot>");
			timing_row(out, rr, first, NULL, "All streams");
			buf_adds(out, "</tfoot>\n");
		}
		buf_adds(out, "</table>\n");
	}
	buf_release(&rows);
}

/* ---- cases ------------------------------------------------------------------------------- */

/* Whether a case gets a details block: anything but a plain pass or skip. */
static int has_details(const struct case_result *cr, enum report_outcome o)
{
	return o == OUTCOME_FAIL || o == OUTCOME_WARN || o == OUTCOME_ERROR || o == OUTCOME_FLAKY ||
	       o == OUTCOME_BLOCKED || o == OUTCOME_INFO || cr->nattempts;
}

static void case_row(struct buf *out, const struct run_result *rr, size_t i)
{
	const struct case_result *cr = &rr->cases[i];
	const struct tcase *c = cr->tcase;
	enum report_outcome o = report_outcome(cr, rr->strict);
	char ms[40];
	report_millis(cr->time_ms, ms, sizeof(ms));
	int linked = has_details(cr, o) || cr->timings.n;
	buf_printf(out, "<tr data-outcome=\"%s\"><td>", report_outcome_name(o));
	badge(out, o);
	buf_adds(out, "</td><td>");
	if (linked)
		buf_printf(out, "<a href=\"#case-%zu\">", i + 1);
	buf_adds(out, "<code>");
	text(out, c->id);
	buf_adds(out, "</code>");
	if (linked)
		buf_adds(out, "</a>");
	buf_adds(out, " ");
	text(out, c->title);
	if (o == OUTCOME_SKIP && cr->message) {
		buf_adds(out, " <span class=\"muted\">(");
		text(out, cr->message);
		buf_adds(out, ")</span>");
	}
	buf_printf(out, "</td><td>%s</td><td>", level_name(c->level));
	text(out, c->section);
	buf_printf(out, "</td><td class=\"n\">%s</td></tr>\n", ms);
}

/* A failed attempt of a retried case: its verdict, message, differences and exchange, folded. */
static void attempt_details(struct buf *out, const struct case_result *cr, size_t a)
{
	const struct case_attempt *at = &cr->attempts[a];
	char ms[40];
	report_millis(at->time_ms, ms, sizeof(ms));
	buf_printf(out, "<details class=\"attempt\"><summary>Attempt %zu of %zu: %s (%s ms)</summary>\n", a + 1,
		   cr->nattempts + 1, verdict_name(at->verdict), ms);
	if (at->message) {
		buf_adds(out, "<p>");
		text(out, at->message);
		buf_adds(out, "</p>\n");
	}
	if (at->diff.len) {
		buf_adds(out, "<pre class=\"diff\">\n");
		report_escape(out, at->diff.data, at->diff.len, ESC_HTML);
		buf_adds(out, "</pre>\n");
	}
	if (at->transcript.len) {
		size_t kept = utf8_truncate(at->transcript.data, at->transcript.len, HTML_REPORT_TRANSCRIPT_MAX);
		buf_adds(out, "<pre>\n");
		report_escape(out, at->transcript.data, kept, ESC_HTML);
		if (kept < at->transcript.len)
			buf_printf(out, "\n[cut at %zu bytes; the JUnit report has more]", kept);
		buf_adds(out, "</pre>\n");
	}
	buf_adds(out, "</details>\n");
}

static void case_details(struct buf *out, const struct run_result *rr, size_t i)
{
	const struct case_result *cr = &rr->cases[i];
	const struct tcase *c = cr->tcase;
	enum report_outcome o = report_outcome(cr, rr->strict);

	buf_printf(out, "<article id=\"case-%zu\" data-outcome=\"%s\">\n<h4>", i + 1, report_outcome_name(o));
	badge(out, o);
	buf_adds(out, " <code>");
	text(out, c->id);
	buf_adds(out, "</code> ");
	text(out, c->title);
	buf_printf(out, "</h4>\n<p class=\"muted\">%s \xc2\xb7 ", level_name(c->level));
	text(out, c->section);
	if (c->suite->spec) {
		buf_adds(out, " \xc2\xb7 ");
		text(out, c->suite->spec);
	}
	buf_adds(out, "</p>\n<blockquote>");
	text(out, c->clause);
	buf_adds(out, "</blockquote>\n");
	if (cr->message) {
		buf_adds(out, "<p>");
		text(out, cr->message);
		buf_adds(out, "</p>\n");
	}
	if (cr->diff.len) {
		buf_printf(out, "<pre class=\"diff\" title=\"%s\">\n", o == OUTCOME_INFO ? "observed" : "differences");
		report_escape(out, cr->diff.data, cr->diff.len, ESC_HTML);
		buf_adds(out, "</pre>\n");
	}
	timelines(out, cr);
	for (size_t a = 0; a < cr->nattempts; a++)
		attempt_details(out, cr, a);
	if (cr->transcript.len) {
		size_t kept = utf8_truncate(cr->transcript.data, cr->transcript.len, HTML_REPORT_TRANSCRIPT_MAX);
		buf_printf(out, "<details><summary>Exchange (%zu bytes)</summary>\n<pre>\n", cr->transcript.len);
		report_escape(out, cr->transcript.data, kept, ESC_HTML);
		if (kept < cr->transcript.len)
			buf_printf(out, "\n[cut at %zu bytes; the JUnit report has more]", kept);
		buf_adds(out, "</pre></details>\n");
	}
	buf_adds(out, "</article>\n");
}

/* A case that simply passed, with streams: its timelines only (no exchange, to keep the file small). */
static void case_timelines(struct buf *out, const struct run_result *rr, size_t i)
{
	const struct case_result *cr = &rr->cases[i];
	enum report_outcome o = report_outcome(cr, rr->strict);
	buf_printf(out, "<article id=\"case-%zu\" data-outcome=\"%s\">\n<h4>", i + 1, report_outcome_name(o));
	badge(out, o);
	buf_adds(out, " <code>");
	text(out, cr->tcase->id);
	buf_adds(out, "</code> ");
	text(out, cr->tcase->title);
	buf_adds(out, "</h4>\n");
	timelines(out, cr);
	buf_adds(out, "</article>\n");
}

static void api_section(struct buf *out, const struct run_result *rr, size_t first, size_t index)
{
	const struct suite *s = rr->cases[first].tcase->suite;
	buf_printf(out, "<section id=\"api-%zu\">\n<h2>", index);
	text(out, s->name);
	if (s->spec) {
		buf_adds(out, " <small class=\"muted\">");
		text(out, s->spec);
		buf_adds(out, "</small>");
	}
	buf_adds(out, "</h2>\n");
	matrix(out, rr, first);
	timing_table(out, rr, first);
	buf_adds(out, "<h3>Cases</h3>\n<table class=\"cases\">\n<thead><tr><th scope=\"col\">Result</th>"
		      "<th scope=\"col\">Case</th><th scope=\"col\">Level</th><th scope=\"col\">Section</th>"
		      "<th scope=\"col\">ms</th></tr></thead>\n<tbody>\n");
	for (size_t i = first; i < rr->ncases; i++)
		if (same_api(rr, i, first))
			case_row(out, rr, i);
	buf_adds(out, "</tbody>\n</table>\n");
}

static void header(struct buf *out, const struct run_result *rr, const size_t count[OUTCOME_COUNT])
{
	char stamp[40], secs[40];
	iso8601_format(rr->started_at_ms > 0 ? (int64_t)rr->started_at_ms : 0, stamp, sizeof(stamp));
	report_seconds(rr->time_ms, secs, sizeof(secs));
	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<title>chatconform report: ");
	text(out, rr->target);
	buf_printf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>Conformance report</h1>\n"
			"<dl class=\"meta\">\n<dt>Target</dt><dd>", style);
	text(out, rr->target);
	buf_adds(out, "</dd>\n<dt>Run</dt><dd><code>");
	text(out, rr->run_id);
	buf_printf(out, "</code></dd>\n<dt>Started</dt><dd>%s</dd>\n<dt>Duration</dt><dd>%s s</dd>\n"
			"<dt>Strict</dt><dd>%s</dd>\n<dt>chatconform</dt><dd>%s</dd>\n",
		   stamp, secs, rr->strict ? "yes: a SHOULD not met fails the run" :
		   "no: a SHOULD not met is a warning", CHATCONFORM_VERSION);
	if (rr->shard[0]) {
		buf_adds(out, "<dt>Shard</dt><dd>");
		text(out, rr->shard);
		buf_adds(out, "</dd>\n");
	}
	buf_adds(out, "</dl>\n");
	buf_printf(out, "<p>%zu cases:", rr->ncases);
	for (int o = 0; o < OUTCOME_COUNT; o++)
		buf_printf(out, "%s %zu %s", o ? "," : "", count[o], outcome_label[o]);
	buf_adds(out, ".</p>\n</header>\n<form id=\"filters\" hidden>\n<fieldset><legend>Show</legend>\n");
	for (int o = 0; o < OUTCOME_COUNT; o++)
		buf_printf(out, "<label><input type=\"checkbox\" value=\"%s\" checked> %s (%zu)</label>\n",
			   report_outcome_name((enum report_outcome)o), outcome_label[o], count[o]);
	buf_adds(out, "</fieldset>\n</form>\n<main>\n");
}

int html_report_write(const struct run_result *rr, const char *path, struct buf *err)
{
	struct report_file rf = { 0 };
	struct buf b;
	size_t count[OUTCOME_COUNT] = { 0 };
	int rc = -1;

	buf_init(&b, REPORT_CHUNK_MAX);
	if (report_file_open(&rf, path, err) != 0)
		goto out;
	report_count_outcomes(rr, count);
	header(&b, rr, count);

	size_t napi = 0;
	for (size_t i = 0; i < rr->ncases; i++) {
		if (!first_of(rr, i, 0))
			continue;
		api_section(&b, rr, i, ++napi);
		int any = 0;
		for (size_t j = i; j < rr->ncases; j++) {
			const struct case_result *cr = &rr->cases[j];
			if (!same_api(rr, i, j) || !has_details(cr, report_outcome(cr, rr->strict)))
				continue;
			if (!any)
				buf_adds(&b, "<h3>Failures, errors and notes</h3>\n");
			any = 1;
			case_details(&b, rr, j);
			if (report_file_flush(&rf, &b, err) != 0)
				goto out;
		}
		/* The streams of the cases that simply passed (the others show theirs in their details). */
		any = 0;
		for (size_t j = i; j < rr->ncases; j++) {
			const struct case_result *cr = &rr->cases[j];
			if (!same_api(rr, i, j) || !cr->timings.n || has_details(cr, report_outcome(cr, rr->strict)))
				continue;
			if (!any)
				buf_adds(&b, "<h3>Stream timelines</h3>\n<p class=\"muted\">When each event arrived: "
					     "0 is when the request went out (WebSocket: the last message sent on the "
					     "connection), one tick per event.</p>\n");
			any = 1;
			case_timelines(&b, rr, j);
			if (report_file_flush(&rf, &b, err) != 0)
				goto out;
		}
		buf_adds(&b, "</section>\n");
	}
	if (!rr->ncases)
		buf_adds(&b, "<p>No case ran.</p>\n");
	buf_printf(&b, "</main>\n<script>\n%s</script>\n</body>\n</html>\n", script);
	if (report_file_flush(&rf, &b, err) != 0 || report_file_commit(&rf, err) != 0)
		goto out;
	rc = 0;
out:
	report_file_abort(&rf);
	buf_release(&b);
	return rc;
}
