/*
 * report/common: text cleaning, times, outcomes and atomic files for every writer.
 */
#include "runner/report/common.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/utf8.h"

/* ---- text -------------------------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s[0..n) (lead byte >= 0x80), or 0. */
static size_t utf8_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!len || len > n || !utf8_valid(s, len))
		return 0;
	return len;
}

static uint32_t utf8_decode(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp = len == 2 ? p[0] & 0x1f : len == 3 ? p[0] & 0x0f : p[0] & 0x07;
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	return cp;
}

static int is_nonchar(uint32_t cp)
{
	return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

/* Whether a non-ASCII code point is kept as it is (else dropped, or escaped in JSON). */
static int keep_wide(uint32_t cp, enum report_esc mode)
{
	switch (mode) {
	case ESC_XML_ATTR:
	case ESC_XML_TEXT:
	case ESC_XML_CDATA:
		return cp != 0xfffe && cp != 0xffff;    /* what XML 1.0 forbids */
	case ESC_HTML:
	case ESC_LINE:
	case ESC_TAP_LINE:
	case ESC_JSON:
		/* C1 controls and noncharacters: parse errors in HTML, unprintable in YAML. */
		return !(cp >= 0x80 && cp <= 0x9f) && !is_nonchar(cp);
	}
	return 1;
}

static void json_ascii(struct buf *out, unsigned char c)
{
	switch (c) {
	case '"': buf_adds(out, "\\\""); break;
	case '\\': buf_adds(out, "\\\\"); break;
	case '\n': buf_adds(out, "\\n"); break;
	case '\t': buf_adds(out, "\\t"); break;
	case '\r': buf_adds(out, "\\r"); break;
	default:
		if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\u%04x", c);
		else
			buf_addc(out, (char)c);
		break;
	}
}

static void markup_ascii(struct buf *out, unsigned char c, enum report_esc mode)
{
	switch (c) {
	case '&': buf_adds(out, "&amp;"); return;
	case '<': buf_adds(out, "&lt;"); return;
	case '>': buf_adds(out, "&gt;"); return;
	case '"': buf_adds(out, "&quot;"); return;
	case '\'': buf_adds(out, mode == ESC_HTML ? "&#39;" : "&apos;"); return;
	default: break;
	}
	if (mode == ESC_HTML) {
		/* Tab and LF stay; CR (of CRLF) and every other control is a parse error or noise. */
		if (c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f))
			buf_addc(out, (char)c);
		return;
	}
	/* XML: in attributes, as references, so attribute-value normalisation keeps them. */
	switch (c) {
	case '\t': buf_adds(out, mode == ESC_XML_ATTR ? "&#9;" : "\t"); break;
	case '\n': buf_adds(out, mode == ESC_XML_ATTR ? "&#10;" : "\n"); break;
	case '\r': buf_adds(out, "&#13;"); break;
	default:
		if (c >= 0x20)
			buf_addc(out, (char)c);
		break;
	}
}

void report_escape(struct buf *out, const char *s, size_t n, enum report_esc mode)
{
	char prev[2] = { 0, 0 };   /* the last two bytes emitted, to catch "]]>" in CDATA */
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			size_t len = utf8_len(s + i, n - i);
			if (!len) {
				buf_adds(out, "\xef\xbf\xbd");
				i++;
			} else {
				uint32_t cp = utf8_decode(s + i, len);
				if (keep_wide(cp, mode))
					buf_add(out, s + i, len);
				else if (mode == ESC_JSON && cp <= 0xffff)
					buf_printf(out, "\\u%04x", (unsigned)cp);
				else if (mode == ESC_JSON)   /* a noncharacter above the BMP, as a surrogate pair */
					buf_printf(out, "\\u%04x\\u%04x", (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
						   (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
				i += len;
			}
			prev[0] = prev[1] = 0;
			continue;
		}
		i++;
		switch (mode) {
		case ESC_JSON:
			json_ascii(out, c);
			break;
		case ESC_LINE:
		case ESC_TAP_LINE:
			if (mode == ESC_TAP_LINE && (c == '#' || c == '\\'))
				buf_addc(out, '\\');
			if (c == '\n' || c == '\t' || c == '\r')
				buf_addc(out, ' ');
			else if (c >= 0x20 && c != 0x7f)
				buf_addc(out, (char)c);
			break;
		case ESC_XML_CDATA:
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				break;
			if (c == '>' && prev[0] == ']' && prev[1] == ']')
				buf_adds(out, "]]><![CDATA[");
			buf_addc(out, (char)c);
			prev[0] = prev[1];
			prev[1] = (char)c;
			break;
		case ESC_XML_ATTR:
		case ESC_XML_TEXT:
		case ESC_HTML:
			markup_ascii(out, c, mode);
			break;
		}
	}
}

void report_json_string(struct buf *out, const char *s)
{
	buf_addc(out, '"');
	if (s)
		report_escape(out, s, strlen(s), ESC_JSON);
	buf_addc(out, '"');
}

void report_seconds(double ms, char *out, size_t size)
{
	long long total = ms > 0 ? llround(ms) : 0;
	snprintf(out, size, "%lld.%03lld", total / 1000, total % 1000);
}

void report_millis(double ms, char *out, size_t size)
{
	long long total = ms > 0 && ms < 1e15 ? llround(ms * 1000) : 0;
	snprintf(out, size, "%lld.%03lld", total / 1000, total % 1000);
}

/* ---- outcomes ---------------------------------------------------------------------------- */

enum report_outcome report_outcome(const struct case_result *cr, int strict)
{
	switch (cr->verdict) {
	case VERDICT_FAIL:
		return case_result_fails_run(cr, strict) ? OUTCOME_FAIL : OUTCOME_WARN;
	case VERDICT_ERROR:
		return OUTCOME_ERROR;
	case VERDICT_SKIP:
		return OUTCOME_SKIP;
	case VERDICT_FLAKY:
		return OUTCOME_FLAKY;
	case VERDICT_BLOCKED:
		return OUTCOME_BLOCKED;
	case VERDICT_OBSERVED:
		return OUTCOME_INFO;
	case VERDICT_PASS:
		break;
	}
	return OUTCOME_PASS;
}

int report_first_of_api(const struct run_result *rr, size_t i)
{
	/* O(i): a report has a handful of APIs, so the writers' O(n * APIs) loops stay cheap. */
	const char *api = rr->cases[i].tcase->suite->name;
	for (size_t j = 0; j < i; j++)
		if (strcmp(rr->cases[j].tcase->suite->name, api) == 0)
			return 0;
	return 1;
}

const char *report_outcome_name(enum report_outcome o)
{
	static const char *const names[OUTCOME_COUNT] = { "pass", "fail", "warn", "error", "skip", "flaky",
							      "blocked", "info" };
	return (unsigned)o < OUTCOME_COUNT ? names[o] : "?";
}

/* ---- files ------------------------------------------------------------------------------- */

int report_file_open(struct report_file *rf, const char *path, struct buf *err)
{
	rf->f = NULL;
	rf->path = path;
	if (asprintf(&rf->tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		rf->tmp = NULL;
		buf_printf(err, "cannot write %s: out of memory", path);
		return -1;
	}
	rf->f = fopen(rf->tmp, "w");
	if (!rf->f) {
		buf_printf(err, "cannot write %s: %s", rf->tmp, strerror(errno));
		free(rf->tmp);
		rf->tmp = NULL;
		return -1;
	}
	return 0;
}

int report_file_flush(struct report_file *rf, struct buf *b, struct buf *err)
{
	int ok = fwrite(buf_str(b), 1, b->len, rf->f) == b->len;
	buf_reset(b);
	if (!ok)
		buf_printf(err, "cannot write %s: %s", rf->tmp, strerror(errno));
	return ok ? 0 : -1;
}

int report_file_commit(struct report_file *rf, struct buf *err)
{
	FILE *f = rf->f;
	rf->f = NULL;
	if (fclose(f) != 0) {
		buf_printf(err, "cannot write %s: %s", rf->tmp, strerror(errno));
		goto fail;
	}
	if (rename(rf->tmp, rf->path) != 0) {
		buf_printf(err, "cannot write %s: rename: %s", rf->path, strerror(errno));
		goto fail;
	}
	free(rf->tmp);
	rf->tmp = NULL;
	return 0;
fail:
	report_file_abort(rf);
	return -1;
}

void report_file_abort(struct report_file *rf)
{
	if (rf->f)
		fclose(rf->f);
	rf->f = NULL;
	if (rf->tmp)
		unlink(rf->tmp);
	free(rf->tmp);
	rf->tmp = NULL;
}

void report_count_outcomes(const struct run_result *rr, size_t *count)
{
	for (int o = 0; o < OUTCOME_COUNT; o++)
		count[o] = 0;
	for (size_t i = 0; i < rr->ncases; i++)
		count[report_outcome(&rr->cases[i], rr->strict)]++;
}
