/*
 * html: the vendor's report.  Layout, top to bottom:
 *
 *   the run (target, id, times) and its totals;
 *   the verdict of each API: one row each, MUST passed/run, SHOULD met/run,
 *     blocked, INFO, errors, skipped, flaky;
 *   the outcome filters (script only);
 *   failures, errors and notes of every API, grouped by cause: the cases whose
 *     difference (without its "step N:" label) reads the same on the same step
 *     of the same endpoint are one group, which prints the difference once
 *     and lists its cases, each with its clause, a curl reproducer of the
 *     failed HTTP step, its streams and its exchange;
 *   then each API: its matrix, its stream timings, every case under the
 *     document's section headings in the document's order (failures first in
 *     each), and the stream timelines of the cases that passed.
 *
 * Anchors are the case ids (escaped to valid ids); the report's own anchors
 * hold a ':', which no escaped case id does, so the two never meet.
 *
 * The model is built first (struct view), then written: APIs by first
 * appearance, sections by their place in the document (runner/report/docmap.h),
 * causes by a linear search per failed case, O(failures x causes).
 */
#include "runner/report/html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/utf8.h"
#include "runner/report/common.h"
#include "runner/report/docmap.h"
#include "runner/report/repro.h"
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
	"article[data-worst=fail]{border-left-color:#c62828}article[data-worst=warn]{border-left-color:#b26a00}"
	"article[data-worst=error]{border-left-color:#6a1b9a}article[data-worst=flaky]{border-left-color:#ad1457}"
	"article[data-worst=blocked]{border-left-color:#37474f}article[data-worst=info]{border-left-color:#00695c}"
	"article[data-outcome=pass]{border-left-color:#2e7d32}\n"
	"ol.cases{list-style:none;padding:0;margin:.4rem 0 0}ol.cases>li{border-top:1px solid #e3e7eb;padding:.5rem 0 .3rem}\n"
	"p.case{margin:0 0 .2rem}\n"
	"blockquote{margin:.3rem 0;padding:.2rem .8rem;border-left:3px solid #9aa5b1;background:#f7f8fa}\n"
	"pre{background:#f7f8fa;border:1px solid #e3e7eb;padding:.5rem;overflow:auto;max-height:32rem;"
	"white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem}\n"
	"pre.diff{background:#fff5f4;border-color:#f3c6c1}\n"
	"summary{cursor:pointer;color:#1f4e8c}\n"
	"fieldset{border:1px solid #d5dbe1;margin:1rem 0}fieldset label{margin-right:1rem}\n"
	".muted{color:#5f6b76}.verdict{font-weight:700}\n"
	"figure.tl{margin:.4rem 0}figure.tl figcaption{font-size:.85rem}svg.tl{display:block;max-width:100%;height:auto}\n"
	"[hidden]{display:none!important}\n";

/*
 * Shows the filters (hidden without script).  An unchecked outcome hides the
 * cases that have it; then every container of cases ([data-items]: a cause, a
 * section, an API's failures) with none left shown is hidden too, so a filter
 * never leaves an empty table or heading behind.
 */
static const char script[] =
	"(function(){var f=document.getElementById('filters');f.hidden=false;"
	"var boxes=f.querySelectorAll('input[type=checkbox]');"
	"function apply(){var off={},i,j;for(i=0;i<boxes.length;i++)off[boxes[i].value]=!boxes[i].checked;"
	"var items=document.querySelectorAll('[data-outcome]');"
	"for(i=0;i<items.length;i++)items[i].hidden=!!off[items[i].getAttribute('data-outcome')];"
	"var boxes2=document.querySelectorAll('[data-items]');"
	"for(i=0;i<boxes2.length;i++){var its=boxes2[i].querySelectorAll('[data-outcome]'),any=false;"
	"for(j=0;j<its.length&&!any;j++)any=!off[its[j].getAttribute('data-outcome')];boxes2[i].hidden=!any;}}"
	"for(var i=0;i<boxes.length;i++)boxes[i].addEventListener('change',apply);apply();})();\n";

static const char *const outcome_label[OUTCOME_COUNT] = {
	"passed", "failed", "SHOULD not met", "errors", "skipped", "flaky", "blocked", "INFO observed",
};
static const char *const outcome_badge[OUTCOME_COUNT] = { "PASS", "FAIL", "WARN", "ERROR", "SKIP", "FLAKY",
							  "BLOCKED", "INFO" };
/* The order a vendor reads outcomes in: what fails the run first, a plain pass and a skip last. */
static const int outcome_rank[OUTCOME_COUNT] = {
	[OUTCOME_FAIL] = 0, [OUTCOME_ERROR] = 1, [OUTCOME_WARN] = 2, [OUTCOME_BLOCKED] = 3,
	[OUTCOME_FLAKY] = 4, [OUTCOME_INFO] = 5, [OUTCOME_PASS] = 6, [OUTCOME_SKIP] = 7,
};

#define SEC_SEP " \xe2\x80\xba "   /* " › " between a heading and the one below it */

static void text(struct buf *out, const char *s)
{
	if (s)
		report_escape(out, s, strlen(s), ESC_HTML);
}

static void badge(struct buf *out, enum report_outcome o)
{
	buf_printf(out, "<span class=\"badge b-%s\">%s</span>", report_outcome_name(o), outcome_badge[o]);
}

/*
 * A case id as an HTML id: ASCII whitespace, '%', ':', controls and bytes
 * past ASCII as %XX.  One-to-one, never empty for a non-empty id, and never
 * holding ':' (the report's own anchors have one).  Case ids are [a-z0-9_.-]
 * (suite.c), which this leaves as they are.
 */
static void anchor(struct buf *out, const char *id)
{
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '%' || *p == ':')
			buf_printf(out, "%%%02X", *p);
		else if (*p == '&' || *p == '<' || *p == '>' || *p == '"' || *p == '\'')
			report_escape(out, (const char *)p, 1, ESC_HTML);
		else
			buf_addc(out, (char)*p);
	}
}

/* ---- the model ------------------------------------------------------------------------------ */

struct hsec {
	const char *name;       /* the case's section, as the suite names it */
	long pos;               /* its place in the document: its heading, else its first clause; -1 unknown */
	int heading;            /* the document has a heading line of this name */
	char *parents;          /* the headings above it, each followed by SEC_SEP, or NULL */
	size_t first;           /* its first case, to keep suite order where the document says nothing */
};

struct hapi {
	const struct suite *suite;   /* of its first case (name, spec) */
	size_t first;
	struct hsec *secs;           /* in the document's order */
	size_t nsecs;
	size_t ncauses, nfailed;     /* causes and cases in the failures part */
};

struct hcase {
	enum report_outcome o;
	size_t api, sec;             /* indexes into view.apis and that API's secs */
	size_t cause;                /* index into view.causes; SIZE_MAX for a pass or a skip */
	struct repro_step step;      /* the step that went wrong, borrowed from the transcript */
};

struct hcause {
	size_t api;
	size_t step;                 /* from 1; 0 when no step is known */
	char *endpoint;              /* "POST /chat", "WebSocket /ws/chat" or "" */
	char *diff;                  /* the difference, labels stripped */
	size_t *cases;
	size_t n, cap;
	enum report_outcome worst;
};

struct view {
	const struct run_result *rr;
	struct hapi *apis;
	size_t napis;
	struct hcase *cases;         /* one per rr->cases */
	struct hcause *causes;       /* sorted: by API, worst outcome, document order */
	size_t ncauses;
};

static void view_release(struct view *v)
{
	for (size_t a = 0; a < v->napis; a++) {
		for (size_t s = 0; s < v->apis[a].nsecs; s++)
			free(v->apis[a].secs[s].parents);
		free(v->apis[a].secs);
	}
	for (size_t k = 0; k < v->ncauses; k++) {
		free(v->causes[k].endpoint);
		free(v->causes[k].diff);
		free(v->causes[k].cases);
	}
	free(v->apis);
	free(v->cases);
	free(v->causes);
	memset(v, 0, sizeof(*v));
}

static int same_api(const struct run_result *rr, size_t i, size_t j)
{
	return strcmp(rr->cases[i].tcase->suite->name, rr->cases[j].tcase->suite->name) == 0;
}

static int sec_cmp(const void *pa, const void *pb)
{
	const struct hsec *a = pa, *b = pb;
	/* Sections found in the document first, by place; the rest in suite order. */
	if ((a->pos < 0) != (b->pos < 0))
		return a->pos < 0 ? 1 : -1;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* The sections of API a, in the document's order with the document's headings. */
static int api_sections(struct view *v, size_t a)
{
	const struct run_result *rr = v->rr;
	struct hapi *api = &v->apis[a];
	struct docmap doc;
	docmap_load(&doc, api->suite->spec_path);   /* no document: suite order, no parents */
	for (size_t i = api->first; i < rr->ncases; i++) {
		if (!same_api(rr, i, api->first))
			continue;
		const struct tcase *c = rr->cases[i].tcase;
		size_t s = 0;
		while (s < api->nsecs && strcmp(api->secs[s].name, c->section) != 0)
			s++;
		if (s == api->nsecs) {
			struct hsec *grown = realloc(api->secs, (api->nsecs + 1) * sizeof(*grown));
			if (!grown)
				goto fail;
			api->secs = grown;
			struct hsec *h = &api->secs[api->nsecs++];
			*h = (struct hsec){ .name = c->section, .first = i };
			h->pos = docmap_heading(&doc, c->section);
			h->heading = h->pos >= 0;
			if (h->heading) {
				struct buf p;
				buf_init(&p, 4096);
				docmap_parents(&doc, h->pos, SEC_SEP, &p);
				h->parents = p.len ? buf_detach(&p, NULL) : NULL;
				buf_release(&p);
			}
		}
		if (!api->secs[s].heading) {
			long q = docmap_quote(&doc, c->clause);
			if (q >= 0 && (api->secs[s].pos < 0 || q < api->secs[s].pos))
				api->secs[s].pos = q;
		}
	}
	if (api->nsecs)
		qsort(api->secs, api->nsecs, sizeof(*api->secs), sec_cmp);
	docmap_release(&doc);
	return 0;
fail:
	docmap_release(&doc);
	return -1;
}

/* The difference a case is grouped by: its differences, else its message, labels stripped. */
static char *case_difference(const struct case_result *cr)
{
	struct buf d;
	buf_init(&d, REPORT_CHUNK_MAX);
	if (cr->diff.len)
		repro_strip_labels(&d, cr->diff.data, cr->diff.len);
	else if (cr->message)
		repro_strip_labels(&d, cr->message, strlen(cr->message));
	while (d.len && d.data[d.len - 1] == '\n')
		d.len--;
	buf_addc(&d, '\0');
	char *s = buf_detach(&d, NULL);
	buf_release(&d);
	return s ? s : strdup("");
}

static int add_to_cause(struct view *v, size_t i)
{
	struct hcase *hc = &v->cases[i];
	const struct case_result *cr = &v->rr->cases[i];
	struct buf ep;
	char *diff = case_difference(cr);
	buf_init(&ep, 4096);
	repro_endpoint(&ep, &hc->step);
	buf_addc(&ep, '\0');
	const char *endpoint = buf_str(&ep);
	int rc = -1;
	if (!diff)
		goto out;
	size_t k = 0;
	while (k < v->ncauses && !(v->causes[k].api == hc->api && v->causes[k].step == hc->step.step &&
				   strcmp(v->causes[k].endpoint, endpoint) == 0 && strcmp(v->causes[k].diff, diff) == 0))
		k++;
	if (k == v->ncauses) {
		struct hcause *grown = realloc(v->causes, (v->ncauses + 1) * sizeof(*grown));
		if (!grown)
			goto out;
		v->causes = grown;
		v->causes[k] = (struct hcause){ .api = hc->api, .step = hc->step.step, .endpoint = strdup(endpoint),
						.diff = diff, .worst = hc->o };
		diff = NULL;
		v->ncauses++;
		if (!v->causes[k].endpoint)
			goto out;
	}
	struct hcause *c = &v->causes[k];
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4;
		size_t *grown = realloc(c->cases, cap * sizeof(*grown));
		if (!grown)
			goto out;
		c->cases = grown;
		c->cap = cap;
	}
	c->cases[c->n++] = i;
	if (outcome_rank[hc->o] < outcome_rank[c->worst])
		c->worst = hc->o;
	hc->cause = k;
	rc = 0;
out:
	free(diff);
	buf_release(&ep);
	return rc;
}

/* qsort has no argument: the view being sorted (reports are written by one thread). */
static const struct view *sorting;

static int case_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const struct hcase *ca = &sorting->cases[a], *cb = &sorting->cases[b];
	if (ca->sec != cb->sec)
		return ca->sec < cb->sec ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int cause_cmp(const void *pa, const void *pb)
{
	const struct hcause *a = pa, *b = pb;
	if (a->api != b->api)
		return a->api < b->api ? -1 : 1;
	if (a->worst != b->worst)
		return outcome_rank[a->worst] < outcome_rank[b->worst] ? -1 : 1;
	/* The larger cause first: one behaviour that breaks many cases is the first thing to fix. */
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return case_cmp(&a->cases[0], &b->cases[0]);
}

static int view_build(struct view *v, const struct run_result *rr)
{
	memset(v, 0, sizeof(*v));
	v->rr = rr;
	if (rr->ncases && !(v->cases = calloc(rr->ncases, sizeof(*v->cases))))
		return -1;
	for (size_t i = 0; i < rr->ncases; i++) {
		if (!report_first_of_api(rr, i))
			continue;
		struct hapi *grown = realloc(v->apis, (v->napis + 1) * sizeof(*grown));
		if (!grown)
			return -1;
		v->apis = grown;
		v->apis[v->napis++] = (struct hapi){ .suite = rr->cases[i].tcase->suite, .first = i };
		if (api_sections(v, v->napis - 1) != 0)
			return -1;
	}
	for (size_t i = 0; i < rr->ncases; i++) {
		struct hcase *hc = &v->cases[i];
		const struct case_result *cr = &rr->cases[i];
		hc->o = report_outcome(cr, rr->strict);
		hc->cause = SIZE_MAX;
		while (!same_api(rr, i, v->apis[hc->api].first))
			hc->api++;
		const struct hapi *api = &v->apis[hc->api];
		while (hc->sec + 1 < api->nsecs && strcmp(api->secs[hc->sec].name, cr->tcase->section) != 0)
			hc->sec++;
		repro_last_step(cr->transcript.data ? cr->transcript.data : "", cr->transcript.len, &hc->step);
		if (hc->o != OUTCOME_PASS && hc->o != OUTCOME_SKIP && add_to_cause(v, i) != 0)
			return -1;
	}
	sorting = v;
	for (size_t k = 0; k < v->ncauses; k++)
		qsort(v->causes[k].cases, v->causes[k].n, sizeof(size_t), case_cmp);
	if (v->ncauses)  /* qsort's base may not be NULL, even for nothing */
		qsort(v->causes, v->ncauses, sizeof(*v->causes), cause_cmp);
	sorting = NULL;
	for (size_t k = 0; k < v->ncauses; k++) {
		v->apis[v->causes[k].api].ncauses++;
		v->apis[v->causes[k].api].nfailed += v->causes[k].n;
		for (size_t j = 0; j < v->causes[k].n; j++)
			v->cases[v->causes[k].cases[j]].cause = k;
	}
	return 0;
}

/* "§ POST /chat/stream › Streaming Response Format (SSE)": where a section is in its document. */
static void section_title(struct buf *out, const struct hsec *s)
{
	if (s->parents) {
		buf_adds(out, "<span class=\"muted\">");
		text(out, s->parents);
		buf_adds(out, "</span>");
	}
	text(out, s->name);
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

/* The API's matrix: one row per section, in the document's order, then all sections. */
static void matrix(struct buf *out, const struct view *v, size_t a)
{
	const struct run_result *rr = v->rr;
	const struct hapi *api = &v->apis[a];
	struct tally all = { 0 };
	buf_adds(out, "<table class=\"matrix\">\n<caption>Conformance by section of the document</caption>\n"
		      "<thead><tr><th scope=\"col\">Section</th><th scope=\"col\">MUST passed</th>"
		      "<th scope=\"col\">SHOULD met</th><th scope=\"col\">INFO</th>"
		      "<th scope=\"col\">Errors</th><th scope=\"col\">Blocked</th><th scope=\"col\">Flaky</th><th scope=\"col\">Skipped</th></tr></thead>\n"
		      "<tbody>\n");
	for (size_t s = 0; s < api->nsecs; s++) {
		struct tally t = { 0 };
		for (size_t j = api->first; j < rr->ncases; j++)
			if (v->cases[j].api == a && v->cases[j].sec == s)
				tally_add(&t, rr, &rr->cases[j]);
		buf_adds(out, "<tr><th scope=\"row\">");
		text(out, api->secs[s].name);
		buf_adds(out, "</th>");
		tally_row(out, &t, rr->strict);
	}
	for (size_t j = api->first; j < rr->ncases; j++)
		if (v->cases[j].api == a)
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

/* ---- the verdict of each API ---------------------------------------------------------------- */

static void verdicts(struct buf *out, const struct view *v)
{
	const struct run_result *rr = v->rr;
	buf_adds(out, "<section id=\"verdicts\">\n<h2>Verdict per API</h2>\n<table class=\"verdicts\">\n"
		      "<caption>MUST and SHOULD count the cases that reached their clause: a skipped or blocked "
		      "case is in neither.</caption>\n<thead><tr><th scope=\"col\">API</th><th scope=\"col\">Document</th>"
		      "<th scope=\"col\">Verdict</th><th scope=\"col\">MUST passed</th><th scope=\"col\">SHOULD met</th>"
		      "<th scope=\"col\">Blocked</th><th scope=\"col\">INFO</th><th scope=\"col\">Errors</th>"
		      "<th scope=\"col\">Flaky</th><th scope=\"col\">Skipped</th></tr></thead>\n<tbody>\n");
	for (size_t a = 0; a < v->napis; a++) {
		const struct hapi *api = &v->apis[a];
		struct tally t = { 0 };
		size_t fails = 0, warns = 0;
		for (size_t i = api->first; i < rr->ncases; i++) {
			if (v->cases[i].api != a)
				continue;
			tally_add(&t, rr, &rr->cases[i]);
			fails += case_result_fails_run(&rr->cases[i], rr->strict);
			warns += v->cases[i].o == OUTCOME_WARN;
		}
		buf_adds(out, "<tr class=\"api\"><th scope=\"row\"><a href=\"#api:");
		anchor(out, api->suite->name);
		buf_adds(out, "\">");
		text(out, api->suite->name);
		buf_adds(out, "</a></th><td>");
		text(out, api->suite->spec);
		buf_adds(out, "</td>");
		const char *cls = fails ? "some" : warns ? "warn" : "all";
		buf_printf(out, "<td class=\"verdict %s\">", t.must_run + t.should_run + t.info ? cls : "none");
		if (!t.must_run && !t.should_run && !t.info)
			buf_adds(out, "not tested");
		else if (fails)
			buf_printf(out, "does not conform: %zu case%s fail%s the run", fails, fails == 1 ? "" : "s",
				   fails == 1 ? "s" : "");
		else if (warns)
			buf_printf(out, "conforms to every MUST; %zu SHOULD not met", warns);
		else
			buf_adds(out, "conforms");
		if (api->ncauses) {
			buf_printf(out, " (<a href=\"#failures:");
			anchor(out, api->suite->name);
			buf_printf(out, "\">%zu cause%s</a>)", api->ncauses, api->ncauses == 1 ? "" : "s");
		}
		buf_adds(out, "</td>");
		ratio_cell(out, t.must_pass, t.must_run, "some");
		ratio_cell(out, t.should_pass, t.should_run, rr->strict ? "some" : "warn");
		buf_printf(out, "<td class=\"n%s\">%zu</td>", t.blocked ? " warn" : "", t.blocked);
		if (t.info_noted)
			buf_printf(out, "<td class=\"n\">%zu (%zu noted)</td>", t.info, t.info_noted);
		else
			buf_printf(out, "<td class=\"n\">%zu</td>", t.info);
		buf_printf(out, "<td class=\"n%s\">%zu</td><td class=\"n%s\">%zu</td><td class=\"n\">%zu</td></tr>\n",
			   t.errors ? " some" : "", t.errors, t.flaky ? " warn" : "", t.flaky, t.skipped);
	}
	buf_adds(out, "</tbody>\n</table>\n</section>\n");
}

/* ---- failures, grouped by cause ------------------------------------------------------------- */

/* The exchange of a case or an attempt, folded, cut at HTML_REPORT_TRANSCRIPT_MAX. */
static void exchange(struct buf *out, const struct buf *t, const char *what)
{
	if (!t->len)
		return;
	size_t kept = utf8_truncate(t->data, t->len, HTML_REPORT_TRANSCRIPT_MAX);
	buf_printf(out, "<details><summary>%s (%zu bytes)</summary>\n<pre>\n", what, t->len);
	report_escape(out, t->data, kept, ESC_HTML);
	if (kept < t->len)
		buf_printf(out, "\n[cut at %zu bytes; the JUnit report has more]", kept);
	buf_adds(out, "</pre></details>\n");
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
	exchange(out, &at->transcript, "Exchange");
	buf_adds(out, "</details>\n");
}

/*
 * True when the message says nothing the cause's difference does not: it is
 * one of its lines once the "precondition not met: " or "observed: " word
 * and the step label are left out.
 */
static int message_in(const char *message, const char *diff)
{
	static const char *const words[] = { "precondition not met: ", "observed: " };
	struct buf m;
	int in = 0;
	for (size_t w = 0; w < 2; w++)
		if (strncmp(message, words[w], strlen(words[w])) == 0)
			message += strlen(words[w]);
	buf_init(&m, REPORT_CHUNK_MAX);
	repro_strip_labels(&m, message, strlen(message));
	const char *s = buf_str(&m);
	size_t n = strlen(s);
	for (const char *p = diff; *p && !in;) {
		size_t len = strcspn(p, "\n");
		in = len == n && memcmp(p, s, n) == 0;
		p += len + (p[len] == '\n');
	}
	buf_release(&m);
	return in || !n;
}

/* One case of a cause: what it checks, what only it says, how to send its failed step again. */
static void cause_case(struct buf *out, const struct view *v, const struct hcause *cause, size_t i)
{
	const struct case_result *cr = &v->rr->cases[i];
	const struct tcase *c = cr->tcase;
	const struct hcase *hc = &v->cases[i];
	char ms[40];
	report_millis(cr->time_ms, ms, sizeof(ms));
	buf_adds(out, "<li class=\"case\" id=\"");
	anchor(out, c->id);
	buf_printf(out, "\" data-outcome=\"%s\">\n<p class=\"case\">", report_outcome_name(hc->o));
	badge(out, hc->o);
	buf_adds(out, " <a href=\"#");
	anchor(out, c->id);
	buf_adds(out, "\"><code>");
	text(out, c->id);
	buf_adds(out, "</code></a> ");
	text(out, c->title);
	buf_printf(out, " <span class=\"muted\">%s \xc2\xb7 \xc2\xa7 ", level_name(c->level));
	section_title(out, &v->apis[hc->api].secs[hc->sec]);
	buf_printf(out, " \xc2\xb7 %s ms</span></p>\n<blockquote>", ms);
	text(out, c->clause);
	buf_adds(out, "</blockquote>\n");
	if (cr->message && !message_in(cr->message, cause->diff)) {
		buf_adds(out, "<p>");
		text(out, cr->message);
		buf_adds(out, "</p>\n");
	}
	timelines(out, cr);
	for (size_t a = 0; a < cr->nattempts; a++)
		attempt_details(out, cr, a);
	if (hc->o != OUTCOME_FLAKY && hc->o != OUTCOME_INFO) {
		struct buf curl;
		buf_init(&curl, REPORT_CHUNK_MAX);
		if (repro_curl(&curl, &hc->step) == 0) {
			buf_printf(out, "<details class=\"repro\"><summary>Reproduce step %zu with curl</summary>\n"
					"<pre class=\"curl\">", hc->step.step);
			report_escape(out, curl.data, curl.len, ESC_HTML);
			buf_adds(out, "</pre></details>\n");
		}
		buf_release(&curl);
	}
	exchange(out, &cr->transcript, "Exchange");
	buf_adds(out, "</li>\n");
}

static void cause_article(struct buf *out, const struct view *v, size_t k, size_t nth)
{
	const struct hcause *cause = &v->causes[k];
	const struct hapi *api = &v->apis[cause->api];
	buf_adds(out, "<article class=\"cause\" id=\"cause:");
	anchor(out, api->suite->name);
	buf_printf(out, ":%zu\" data-items data-worst=\"%s\" data-count=\"%zu\">\n<h4>", nth,
		   report_outcome_name(cause->worst), cause->n);
	badge(out, cause->worst);
	buf_printf(out, " %zu case%s", cause->n, cause->n == 1 ? "" : "s");
	if (cause->endpoint[0] || cause->step) {
		buf_adds(out, ": ");
		if (cause->endpoint[0]) {
			buf_adds(out, "<code>");
			text(out, cause->endpoint);
			buf_adds(out, "</code>");
		}
		if (cause->step)
			buf_printf(out, "%sstep %zu", cause->endpoint[0] ? ", " : "", cause->step);
	}
	/* What a blocked case's message says before its difference, which is printed below. */
	if (cause->worst == OUTCOME_BLOCKED)
		buf_adds(out, ": precondition not met");
	buf_adds(out, "</h4>\n");
	if (cause->diff[0]) {
		buf_printf(out, "<pre class=\"diff\" title=\"%s\">", cause->worst == OUTCOME_INFO ? "observed" : "differences");
		text(out, cause->diff);
		buf_adds(out, "</pre>\n");
	}
	buf_adds(out, "<ol class=\"cases\">\n");
}

static int failures(struct buf *out, const struct view *v, struct report_file *rf, struct buf *err)
{
	size_t nfailed = 0;
	for (size_t a = 0; a < v->napis; a++)
		nfailed += v->apis[a].nfailed;
	if (!v->ncauses) {
		buf_adds(out, "<section id=\"failures\">\n<h2>Failures, errors and notes</h2>\n"
			      "<p>None: every case that ran passed.</p>\n</section>\n");
		return 0;
	}
	buf_printf(out, "<section id=\"failures\" data-items>\n<h2>Failures, errors and notes</h2>\n"
			"<p>%zu case%s in %zu group%s. A group is the cases whose difference reads the same on the "
			"same step of the same endpoint: most often one behaviour, so fix it once.</p>\n",
		   nfailed, nfailed == 1 ? "" : "s", v->ncauses, v->ncauses == 1 ? "" : "s");
	size_t k = 0;
	for (size_t a = 0; a < v->napis; a++) {
		const struct hapi *api = &v->apis[a];
		if (!api->ncauses)
			continue;
		buf_adds(out, "<section class=\"api-failures\" id=\"failures:");
		anchor(out, api->suite->name);
		buf_adds(out, "\" data-items>\n<h3>");
		text(out, api->suite->name);
		buf_printf(out, ": %zu case%s in %zu group%s</h3>\n", api->nfailed, api->nfailed == 1 ? "" : "s",
			   api->ncauses, api->ncauses == 1 ? "" : "s");
		for (size_t nth = 1; k < v->ncauses && v->causes[k].api == a; k++, nth++) {
			cause_article(out, v, k, nth);
			for (size_t j = 0; j < v->causes[k].n; j++) {
				cause_case(out, v, &v->causes[k], v->causes[k].cases[j]);
				if (report_file_flush(rf, out, err) != 0)
					return -1;
			}
			buf_adds(out, "</ol>\n</article>\n");
		}
		buf_adds(out, "</section>\n");
	}
	buf_adds(out, "</section>\n");
	return 0;
}

/* ---- each API: matrix, timings, cases by section, timelines --------------------------------- */

/* Whether a case has something to show below its row: details (a cause) or streams. */
static int has_target(const struct view *v, size_t i)
{
	return v->cases[i].cause != SIZE_MAX || v->rr->cases[i].timings.n;
}

static void case_row(struct buf *out, const struct view *v, size_t i)
{
	const struct case_result *cr = &v->rr->cases[i];
	const struct tcase *c = cr->tcase;
	enum report_outcome o = v->cases[i].o;
	char ms[40];
	report_millis(cr->time_ms, ms, sizeof(ms));
	int linked = has_target(v, i);
	buf_printf(out, "<tr data-outcome=\"%s\"><td>", report_outcome_name(o));
	badge(out, o);
	buf_adds(out, "</td><td>");
	if (linked) {
		buf_adds(out, "<a href=\"#");
		anchor(out, c->id);
		buf_adds(out, "\">");
	}
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
	buf_printf(out, "</td><td>%s</td><td class=\"n\">%s</td></tr>\n", level_name(c->level), ms);
}

/* The cases of one section, failures first (by outcome), then in suite order. */
static void section_cases(struct buf *out, const struct view *v, size_t a, size_t s)
{
	const struct hapi *api = &v->apis[a];
	buf_adds(out, "<section class=\"docsec\" id=\"sec:");
	anchor(out, api->suite->name);
	buf_printf(out, ":%zu\" data-items>\n<h3>\xc2\xa7 ", s + 1);
	section_title(out, &api->secs[s]);
	buf_adds(out, "</h3>\n<table class=\"cases\">\n<thead><tr><th scope=\"col\">Result</th>"
		      "<th scope=\"col\">Case</th><th scope=\"col\">Level</th><th scope=\"col\">ms</th></tr></thead>\n"
		      "<tbody>\n");
	for (int rank = 0; rank < OUTCOME_COUNT; rank++)
		for (size_t i = api->first; i < v->rr->ncases; i++)
			if (v->cases[i].api == a && v->cases[i].sec == s && outcome_rank[v->cases[i].o] == rank)
				case_row(out, v, i);
	buf_adds(out, "</tbody>\n</table>\n</section>\n");
}

/* A case that simply passed, with streams: its timelines only (no exchange, to keep the file small). */
static void case_timelines(struct buf *out, const struct view *v, size_t i)
{
	const struct case_result *cr = &v->rr->cases[i];
	enum report_outcome o = v->cases[i].o;
	buf_adds(out, "<article id=\"");
	anchor(out, cr->tcase->id);
	buf_printf(out, "\" data-outcome=\"%s\">\n<h4>", report_outcome_name(o));
	badge(out, o);
	buf_adds(out, " <code>");
	text(out, cr->tcase->id);
	buf_adds(out, "</code> ");
	text(out, cr->tcase->title);
	buf_adds(out, "</h4>\n");
	timelines(out, cr);
	buf_adds(out, "</article>\n");
}

static int api_part(struct buf *out, const struct view *v, size_t a, struct report_file *rf, struct buf *err)
{
	const struct run_result *rr = v->rr;
	const struct hapi *api = &v->apis[a];
	buf_adds(out, "<section class=\"api\" id=\"api:");
	anchor(out, api->suite->name);
	buf_adds(out, "\">\n<h2>");
	text(out, api->suite->name);
	if (api->suite->spec) {
		buf_adds(out, " <small class=\"muted\">");
		text(out, api->suite->spec);
		buf_adds(out, "</small>");
	}
	buf_adds(out, "</h2>\n");
	matrix(out, v, a);
	timing_table(out, rr, api->first);
	for (size_t s = 0; s < api->nsecs; s++) {
		section_cases(out, v, a, s);
		if (report_file_flush(rf, out, err) != 0)
			return -1;
	}
	/* The streams of the cases that did not fail (the others show theirs with their cause). */
	int any = 0;
	for (size_t i = api->first; i < rr->ncases; i++) {
		if (v->cases[i].api != a || !rr->cases[i].timings.n || v->cases[i].cause != SIZE_MAX)
			continue;
		if (!any)
			buf_adds(out, "<section class=\"timelines\" data-items>\n<h3>Stream timelines</h3>\n"
				      "<p class=\"muted\">When each event arrived: 0 is when the request went out "
				      "(WebSocket: the last message sent on the connection), one tick per event.</p>\n");
		any = 1;
		case_timelines(out, v, i);
		if (report_file_flush(rf, out, err) != 0)
			return -1;
	}
	if (any)
		buf_adds(out, "</section>\n");
	buf_adds(out, "</section>\n");
	return 0;
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
	buf_adds(out, ".</p>\n</header>\n");
}

static void filters(struct buf *out, const size_t count[OUTCOME_COUNT])
{
	buf_adds(out, "<form id=\"filters\" hidden>\n<fieldset><legend>Show</legend>\n");
	for (int o = 0; o < OUTCOME_COUNT; o++)
		buf_printf(out, "<label><input type=\"checkbox\" value=\"%s\" checked> %s (%zu)</label>\n",
			   report_outcome_name((enum report_outcome)o), outcome_label[o], count[o]);
	buf_adds(out, "</fieldset>\n</form>\n");
}

int html_report_write(const struct run_result *rr, const char *path, struct buf *err)
{
	struct report_file rf = { 0 };
	struct view v = { 0 };
	struct buf b;
	size_t count[OUTCOME_COUNT] = { 0 };
	int rc = -1;

	buf_init(&b, REPORT_CHUNK_MAX);
	if (view_build(&v, rr) != 0) {
		buf_printf(err, "cannot write %s: out of memory", path);
		goto out;
	}
	if (report_file_open(&rf, path, err) != 0)
		goto out;
	report_count_outcomes(rr, count);
	header(&b, rr, count);
	verdicts(&b, &v);
	filters(&b, count);
	buf_adds(&b, "<main>\n");
	if (!rr->ncases)
		buf_adds(&b, "<p>No case ran.</p>\n");
	else if (failures(&b, &v, &rf, err) != 0)
		goto out;
	for (size_t a = 0; a < v.napis; a++)
		if (api_part(&b, &v, a, &rf, err) != 0)
			goto out;
	buf_printf(&b, "</main>\n<script>\n%s</script>\n</body>\n</html>\n", script);
	if (report_file_flush(&rf, &b, err) != 0 || report_file_commit(&rf, err) != 0)
		goto out;
	rc = 0;
out:
	report_file_abort(&rf);
	view_release(&v);
	buf_release(&b);
	return rc;
}
