/*
 * pattern: PCRE2 with the shared dialect and limits (see pattern.h).
 */
#include "common/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <string.h>

/*
 * UTF: patterns and subjects are UTF-8 (JSON strings).  MATCH_INVALID_UTF: a
 * subject may still hold bytes that are not, and they must not stop the search.
 * DOTALL and DOLLAR_ENDONLY: "." and "$" mean what they meant under POSIX
 * regexec without REG_NEWLINE, so existing patterns keep their meaning.
 * No UCP: \d is [0-9], as a conformance check of an id or a date expects.
 */
#define PATTERN_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY)

int pattern_limits_init(struct pattern_limits *l)
{
	pcre2_match_context *m = pcre2_match_context_create(NULL);
	pcre2_compile_context *c = pcre2_compile_context_create(NULL);
	if (!m || !c) {
		pcre2_match_context_free(m);
		pcre2_compile_context_free(c);
		return -1;
	}
	pcre2_set_match_limit(m, l->match);
	pcre2_set_depth_limit(m, l->depth);
	pcre2_set_heap_limit(m, l->heap_kib);
	if (l->max_length)
		pcre2_set_max_pattern_length(c, l->max_length);
	l->match_context = m;
	l->compile_context = c;
	return 0;
}

void pattern_limits_release(struct pattern_limits *l)
{
	pcre2_match_context_free(l->match_context);
	pcre2_compile_context_free(l->compile_context);
	l->match_context = l->compile_context = NULL;
}

static void add_pcre2_message(struct buf *err, int code)
{
	PCRE2_UCHAR msg[256];
	if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
		strcpy((char *)msg, "unknown error");
	buf_adds(err, (const char *)msg);
}

struct pattern *pattern_compile(const char *pattern, const struct pattern_limits *l, struct buf *err)
{
	int code;
	PCRE2_SIZE offset;
	size_t len = strlen(pattern);
	/* Checked here too, so the message gives the limit rather than PCRE2's bare "too long". */
	if (l->max_length && len > l->max_length) {
		buf_printf(err, "the pattern is %zu bytes long, more than the limit of %zu", len, l->max_length);
		return NULL;
	}
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, PATTERN_OPTIONS, &code, &offset,
				       l->compile_context);
	if (!re) {
		add_pcre2_message(err, code);
		buf_printf(err, " at offset %zu", (size_t)offset);
		return NULL;
	}
	size_t size = 0;
	if (l->max_compiled && pcre2_pattern_info(re, PCRE2_INFO_SIZE, &size) == 0 && size > l->max_compiled) {
		buf_printf(err, "the pattern compiles to %zu bytes, more than the limit of %zu", size, l->max_compiled);
		pcre2_code_free(re);
		return NULL;
	}
	return (struct pattern *)re;
}

enum pattern_result pattern_search(const struct pattern *p, const char *subject, size_t n,
				   const struct pattern_limits *l, struct buf *err)
{
	/* One pair is enough: only whether it matches is asked, and a short ovector still says so. */
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	if (!md) {
		buf_adds(err, "out of memory");
		return PATTERN_ERROR;
	}
	int rc = pcre2_match((const pcre2_code *)p, (PCRE2_SPTR)subject, n, 0, 0, md, l->match_context);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return PATTERN_MATCH;
	if (rc == PCRE2_ERROR_NOMATCH)
		return PATTERN_NOMATCH;
	if (rc == PCRE2_ERROR_MATCHLIMIT) {
		buf_printf(err, "match limit exceeded (more than %u backtracking steps; the pattern backtracks too much)",
			   l->match);
	} else if (rc == PCRE2_ERROR_DEPTHLIMIT) {
		buf_printf(err, "depth limit exceeded (more than %u nested backtracking points)", l->depth);
	} else if (rc == PCRE2_ERROR_HEAPLIMIT) {
		buf_printf(err, "heap limit exceeded (more than %u KiB of backtracking frames)", l->heap_kib);
	} else {
		buf_adds(err, "the search failed: ");
		add_pcre2_message(err, rc);
	}
	return PATTERN_ERROR;
}

void pattern_free(struct pattern *p)
{
	pcre2_code_free((pcre2_code *)p);
}
