/*
 * tap: TAP version 13 (testanything.org/tap-version-13-specification.html).
 *
 * Every one-line string in a YAML block is a double-quoted scalar with JSON
 * escapes, which YAML reads the same way; differences are a literal block of
 * cleaned lines.  Either way nothing a target sent can end the block early or
 * break the document.
 */
#include "runner/report/tap.h"

#include <string.h>

#include "common/buf.h"
#include "runner/report/common.h"

#ifndef CHATCONFORM_VERSION
#define CHATCONFORM_VERSION "0.0.0"
#endif

#define CASE_MAX (1u << 20)   /* one case's lines; diffs are capped far lower by exec */

/* "  name: "value"" on its own line, inside a YAML block. */
static void yaml_str(struct buf *out, const char *name, const char *value)
{
	buf_printf(out, "  %s: ", name);
	report_json_string(out, value);
	buf_addc(out, '\n');
}

/*
 * text as a YAML literal block ("name: |"), one cleaned line per line.  Blank
 * lines are left out, and so is the first line's indentation: both would end
 * or break the block for YAML readers (TAP::Parser's YAMLish stops at a blank
 * line).  A block, not a sequence of quoted strings, because YAMLish takes an
 * item like - "status: expected 200" for a mapping.
 */
static void yaml_block(struct buf *out, const char *name, const char *text, size_t n)
{
	size_t i = 0;
	int any = 0;
	while (i < n) {
		const char *line = text + i;
		const char *nl = memchr(line, '\n', n - i);
		size_t len = nl ? (size_t)(nl - line) : n - i;
		i += len + (nl != NULL);
		size_t lead = 0;
		while (lead < len && (line[lead] == ' ' || line[lead] == '\t' || line[lead] == '\r'))
			lead++;
		if (lead == len)
			continue;
		if (!any) {
			buf_printf(out, "  %s: |\n", name);
			line += lead;
			len -= lead;
		}
		any = 1;
		buf_adds(out, "    ");
		report_escape(out, line, len, ESC_LINE);
		buf_addc(out, '\n');
	}
}

static void test_line(struct buf *out, const struct run_result *rr, const struct case_result *cr, size_t n)
{
	const struct tcase *c = cr->tcase;
	enum report_outcome o = report_outcome(cr, rr->strict);
	const char *msg = cr->message ? cr->message : "";
	int ok = o == OUTCOME_PASS || o == OUTCOME_SKIP || o == OUTCOME_FLAKY || o == OUTCOME_INFO ||
		 (o == OUTCOME_BLOCKED && !case_result_fails_run(cr, rr->strict));

	buf_printf(out, "%s %zu - ", ok ? "ok" : "not ok", n);
	report_escape(out, c->id, strlen(c->id), ESC_TAP_LINE);
	buf_adds(out, ": ");
	report_escape(out, c->title, strlen(c->title), ESC_TAP_LINE);
	if (o == OUTCOME_SKIP || (o == OUTCOME_BLOCKED && ok)) {
		/*
		 * A blocked case did not reach its clause: a skip whose reason starts "precondition not met";
		 * in a strict run it fails, and a SKIP directive would make consumers count it as passed.
		 */
		buf_adds(out, " # SKIP ");
		report_escape(out, msg, strlen(msg), ESC_TAP_LINE);
	} else if (o == OUTCOME_WARN) {
		buf_adds(out, " # TODO SHOULD not met");
	} else if (o == OUTCOME_FLAKY) {
		/* Not a directive (only SKIP and TODO are): a comment consumers keep with the passing test. */
		buf_printf(out, " # flaky after %zu attempts", cr->nattempts + 1);
	}
	buf_addc(out, '\n');

	/* A YAML block for what a reader must see: failures, errors, unmet SHOULDs, INFO observations. */
	int observed = o == OUTCOME_INFO;
	if (ok && !observed && o != OUTCOME_FLAKY && o != OUTCOME_BLOCKED)
		return;
	char ms[40];
	report_millis(cr->time_ms, ms, sizeof(ms));
	buf_adds(out, "  ---\n");
	yaml_str(out, "api", c->suite->name);
	yaml_str(out, "section", c->section);
	yaml_str(out, "level", level_name(c->level));
	yaml_str(out, "verdict", verdict_name(cr->verdict));
	yaml_str(out, "clause", c->clause);
	if (cr->message)
		yaml_str(out, "message", cr->message);
	yaml_block(out, observed ? "observed" : "difference", buf_str(&cr->diff), cr->diff.len);
	if (cr->nattempts) {
		/* One line per failed attempt, as a literal block (see yaml_block for why not a list). */
		struct buf lines;
		buf_init(&lines, CASE_MAX);
		for (size_t i = 0; i < cr->nattempts; i++)
			buf_printf(&lines, "%zu %s: %s\n", i + 1, verdict_name(cr->attempts[i].verdict),
				   cr->attempts[i].message ? cr->attempts[i].message : "");
		yaml_block(out, "failed_attempts", buf_str(&lines), lines.len);
		buf_release(&lines);
	}
	buf_printf(out, "  duration_ms: %s\n", ms);
	buf_adds(out, "  ...\n");
}

int tap_write(const struct run_result *rr, FILE *out)
{
	struct buf b;
	size_t count[OUTCOME_COUNT] = { 0 };
	int rc = 0;

	buf_init(&b, CASE_MAX);
	buf_printf(&b, "TAP version 13\n1..%zu\n# chatconform %s, run ", rr->ncases, CHATCONFORM_VERSION);
	report_escape(&b, rr->run_id, strlen(rr->run_id), ESC_TAP_LINE);
	buf_adds(&b, ", target ");
	report_escape(&b, rr->target, strlen(rr->target), ESC_TAP_LINE);
	buf_adds(&b, rr->strict ? ", strict\n" : "\n");
	for (size_t i = 0; i < rr->ncases; i++) {
		count[report_outcome(&rr->cases[i], rr->strict)]++;
		test_line(&b, rr, &rr->cases[i], i + 1);
		if (fwrite(buf_str(&b), 1, b.len, out) != b.len)
			rc = -1;
		buf_reset(&b);
	}
	buf_printf(&b, "# %zu passed, %zu failed, %zu SHOULD not met, %zu errors, %zu skipped",
		   count[OUTCOME_PASS], count[OUTCOME_FAIL], count[OUTCOME_WARN], count[OUTCOME_ERROR],
		   count[OUTCOME_SKIP]);
	if (count[OUTCOME_BLOCKED])
		buf_printf(&b, ", %zu blocked", count[OUTCOME_BLOCKED]);
	if (count[OUTCOME_INFO])
		buf_printf(&b, ", %zu observed", count[OUTCOME_INFO]);
	if (count[OUTCOME_FLAKY])
		buf_printf(&b, ", %zu flaky", count[OUTCOME_FLAKY]);
	buf_addc(&b, '\n');
	if (fwrite(buf_str(&b), 1, b.len, out) != b.len || fflush(out) != 0)
		rc = -1;
	buf_release(&b);
	return rc;
}

int tap_bail_out(FILE *out, const char *reason)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_adds(&b, "TAP version 13\nBail out! ");
	report_escape(&b, reason, strlen(reason), ESC_TAP_LINE);
	buf_addc(&b, '\n');
	int rc = fwrite(buf_str(&b), 1, b.len, out) == b.len && fflush(out) == 0 ? 0 : -1;
	buf_release(&b);
	return rc;
}
