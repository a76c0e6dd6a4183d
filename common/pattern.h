/*
 * pattern: one PCRE2 regular expression, compiled once and searched under limits.
 *
 * The dialect, shared by the runner's "regex" matcher (runner/rx.h) and mockd's
 * rules (docs/mockd.md): PCRE2 in UTF mode, with "." matching any character
 * including a newline and "$" matching only at the very end, as POSIX regexec
 * did without REG_NEWLINE; \d, \w, \s and [[:alpha:]] are ASCII (no PCRE2_UCP).
 * A search is unanchored.
 *
 * Untrusted patterns meet two kinds of limit.  Compiling: a cap on the pattern's
 * length and on its compiled size (PCRE2 compiles in time linear in the
 * pattern, so a long pattern is the only way to a slow compile).  Searching: a
 * match limit, a depth limit and a heap limit, so a pattern that backtracks
 * without end fails after a bounded number of steps instead of hanging.
 */
#ifndef CC_PATTERN_H
#define CC_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct pattern;   /* a compiled pattern (pcre2_code) */

struct pattern_limits {
	size_t max_length;       /* bytes of a pattern; 0: no limit */
	size_t max_compiled;     /* bytes of a compiled pattern; 0: no limit */
	uint32_t match;          /* backtracking steps of one search */
	uint32_t depth;          /* nested backtracking frames of one search */
	uint32_t heap_kib;       /* KiB of backtracking frames one search may use */
	void *match_context;     /* made by pattern_limits_init; read-only after, so threads may share it */
	void *compile_context;
};

enum pattern_result {
	PATTERN_MATCH = 0,
	PATTERN_NOMATCH,
	PATTERN_ERROR,           /* the search gave up (a limit, memory); err says which */
};

/* Make the PCRE2 contexts for the numbers already in l; 0, or -1 when out of memory. */
int pattern_limits_init(struct pattern_limits *l);
/* Free what pattern_limits_init made. */
void pattern_limits_release(struct pattern_limits *l);
/*
 * Compile pattern (NUL-terminated) under l's compile limits; NULL with the reason
 * appended to err ("missing closing parenthesis at offset 1", "longer than 4096 bytes").
 */
struct pattern *pattern_compile(const char *pattern, const struct pattern_limits *l, struct buf *err);
/* Search the n bytes of subject anywhere under l's limits; thread-safe.  Invalid UTF-8 bytes match nothing. */
enum pattern_result pattern_search(const struct pattern *p, const char *subject, size_t n,
				   const struct pattern_limits *l, struct buf *err);
/* Free a compiled pattern; NULL is fine. */
void pattern_free(struct pattern *p);

#endif
