/*
 * json: the machine-readable result.  Written by hand rather than through a
 * cJSON tree so the file streams one case at a time and its layout (one case
 * per line, fixed key order) stays stable for diffs and golden files.
 */
#include "runner/report/json.h"

#include <stdint.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/utf8.h"
#include "runner/report/common.h"

#ifndef CHATCONFORM_VERSION
#define CHATCONFORM_VERSION "0.0.0"
#endif

static void key(struct buf *out, const char *name)
{
	report_json_string(out, name);
	buf_addc(out, ':');
}

static void str_member(struct buf *out, const char *name, const char *value)
{
	key(out, name);
	report_json_string(out, value);
	buf_addc(out, ',');
}

/* A string that may be absent: null then. */
static void opt_member(struct buf *out, const char *name, const char *value)
{
	key(out, name);
	if (value)
		report_json_string(out, value);
	else
		buf_adds(out, "null");
	buf_addc(out, ',');
}

static void bytes_member(struct buf *out, const char *name, const char *s, size_t n)
{
	key(out, name);
	buf_addc(out, '"');
	report_escape(out, s ? s : "", n, ESC_JSON);
	buf_adds(out, "\",");
}

static void millis_member(struct buf *out, const char *name, double ms)
{
	char t[40];
	report_millis(ms, t, sizeof(t));
	key(out, name);
	buf_printf(out, "%s,", t);
}

/* "started_at" (ISO 8601) and "started_at_ms" (epoch milliseconds, an integer), sep between them. */
static void stamp_members(struct buf *out, double epoch_ms, const char *sep)
{
	char stamp[40];
	int64_t ms = epoch_ms > 0 ? (int64_t)epoch_ms : 0;
	iso8601_format(ms, stamp, sizeof(stamp));
	str_member(out, "started_at", stamp);
	buf_adds(out, sep);
	key(out, "started_at_ms");
	buf_printf(out, "%lld,", (long long)ms);
}

/* A figure in ms with three decimals, or null when it does not exist (-1: no event, or fewer than two). */
static void figure_member(struct buf *out, const char *name, double ms, int last)
{
	key(out, name);
	if (ms < 0) {
		buf_adds(out, "null");
	} else {
		char t[40];
		report_millis(ms, t, sizeof(t));
		buf_adds(out, t);
	}
	if (!last)
		buf_addc(out, ',');
}

/* The figures of each stream of the case (runner/timing.h); [] for a case without one. */
static void timings_member(struct buf *out, const struct timing_list *l)
{
	key(out, "timings");
	buf_addc(out, '[');
	for (size_t i = 0; i < l->n; i++) {
		const struct stream_timing *t = &l->v[i];
		buf_adds(out, i ? ",{" : "{");
		key(out, "step");
		buf_printf(out, "%zu,", t->step);
		key(out, "item");
		if (t->item)
			buf_printf(out, "%zu,", t->item);
		else
			buf_adds(out, "null,");
		opt_member(out, "connection", t->item ? t->conn : NULL);
		str_member(out, "kind", t->kind);
		key(out, "count");
		buf_printf(out, "%zu,", t->count);
		figure_member(out, "first_event_ms", t->first_ms, 0);
		figure_member(out, "gap_p50_ms", t->gap_p50_ms, 0);
		figure_member(out, "gap_p99_ms", t->gap_p99_ms, 0);
		figure_member(out, "gap_max_ms", t->gap_max_ms, 0);
		figure_member(out, "spread_ms", t->spread_ms, 0);
		figure_member(out, "total_ms", t->total_ms, 1);
		buf_addc(out, '}');
	}
	buf_addc(out, ']');
}

static void case_record(struct buf *out, const struct run_result *rr, const struct case_result *cr)
{
	const struct tcase *c = cr->tcase;
	enum report_outcome o = report_outcome(cr, rr->strict);

	buf_addc(out, '{');
	str_member(out, "id", c->id);
	str_member(out, "title", c->title);
	str_member(out, "api", c->suite->name);
	opt_member(out, "spec", c->suite->spec);
	opt_member(out, "file", c->suite->path);
	str_member(out, "section", c->section);
	str_member(out, "level", level_name(c->level));
	key(out, "tags");
	buf_addc(out, '[');
	for (size_t t = 0; t < c->ntags; t++) {
		if (t)
			buf_addc(out, ',');
		report_json_string(out, c->tags[t]);
	}
	buf_adds(out, "],");
	str_member(out, "verdict", verdict_name(cr->verdict));
	str_member(out, "outcome", report_outcome_name(o));
	key(out, "fails_run");
	buf_adds(out, case_result_fails_run(cr, rr->strict) ? "true," : "false,");
	str_member(out, "clause", c->clause);
	opt_member(out, "message", cr->message);
	bytes_member(out, "difference", cr->diff.data, cr->diff.len);
	stamp_members(out, cr->started_at_ms, "");
	millis_member(out, "time_ms", cr->time_ms);
	size_t n = cr->transcript.len;
	size_t kept = utf8_truncate(cr->transcript.data ? cr->transcript.data : "", n, JSON_REPORT_TRANSCRIPT_MAX);
	bytes_member(out, "transcript", cr->transcript.data, kept);
	key(out, "transcript_bytes");
	buf_printf(out, "%zu,", n);
	key(out, "transcript_truncated");
	buf_adds(out, kept < n ? "true," : "false,");
	/* The attempts that failed before the last one (--retries); [] for a case run once. */
	key(out, "attempts");
	buf_addc(out, '[');
	for (size_t i = 0; i < cr->nattempts; i++) {
		const struct case_attempt *a = &cr->attempts[i];
		buf_adds(out, i ? ",{" : "{");
		str_member(out, "verdict", verdict_name(a->verdict));
		opt_member(out, "message", a->message);
		key(out, "time_ms");
		char t[40];
		report_millis(a->time_ms, t, sizeof(t));
		buf_printf(out, "%s}", t);
	}
	buf_adds(out, "],");
	timings_member(out, &cr->timings);
	buf_addc(out, '}');
}

int json_report_write(const struct run_result *rr, const char *path, struct buf *err)
{
	struct report_file rf = { 0 };
	struct buf b;
	size_t count[OUTCOME_COUNT] = { 0 };
	int rc = -1;

	buf_init(&b, REPORT_CHUNK_MAX);
	if (report_file_open(&rf, path, err) != 0)
		goto out;
	report_count_outcomes(rr, count);

	buf_adds(&b, "{\n  ");
	str_member(&b, "format", JSON_REPORT_FORMAT);
	buf_adds(&b, "\n  ");
	str_member(&b, "chatconform_version", CHATCONFORM_VERSION);
	buf_adds(&b, "\n  ");
	str_member(&b, "run_id", rr->run_id);
	buf_adds(&b, "\n  ");
	str_member(&b, "target", rr->target);
	buf_adds(&b, "\n  ");
	opt_member(&b, "shard", rr->shard[0] ? rr->shard : NULL);
	buf_adds(&b, "\n  ");
	key(&b, "strict");
	buf_adds(&b, rr->strict ? "true,\n  " : "false,\n  ");
	stamp_members(&b, rr->started_at_ms, "\n  ");
	buf_adds(&b, "\n  ");
	millis_member(&b, "time_ms", rr->time_ms);
	buf_adds(&b, "\n  ");
	key(&b, "summary");
	buf_printf(&b, "{\"total\":%zu", rr->ncases);
	for (int o = 0; o < OUTCOME_COUNT; o++)
		buf_printf(&b, ",\"%s\":%zu", report_outcome_name((enum report_outcome)o), count[o]);
	buf_printf(&b, ",\"passed\":%s},\n  ", run_result_failures(rr) ? "false" : "true");
	key(&b, "cases");
	buf_adds(&b, "[\n");
	for (size_t i = 0; i < rr->ncases; i++) {
		buf_adds(&b, "    ");
		case_record(&b, rr, &rr->cases[i]);
		buf_adds(&b, i + 1 < rr->ncases ? ",\n" : "\n");
		if (report_file_flush(&rf, &b, err) != 0)
			goto out;
	}
	buf_adds(&b, "  ]\n}\n");
	if (report_file_flush(&rf, &b, err) != 0 || report_file_commit(&rf, err) != 0)
		goto out;
	rc = 0;
out:
	report_file_abort(&rf);
	buf_release(&b);
	return rc;
}
