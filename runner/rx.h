/*
 * rx: the "regex" matcher's regular expressions, in PCRE2, compiled once.
 *
 * The dialect and the limits are common/pattern.h's (docs/fixture-format.md,
 * "Matchers"): every search runs under a match limit, a depth limit and a heap
 * limit, so a pattern that backtracks without end fails in milliseconds instead
 * of hanging a worker.
 *
 * The loader registers each pattern it validates (rx_register); workers then
 * find the compiled code in a table keyed by the pattern's text and never
 * compile it again.  The table is filled while suites load and is only read
 * while workers run; a read-write lock keeps it correct if both ever overlap.
 * A pattern not in the table (one with ${...} variables, expanded when the step
 * runs) is compiled for that one search.
 */
#ifndef CC_RUNNER_RX_H
#define CC_RUNNER_RX_H

#include <stddef.h>

#include "common/buf.h"

#define RX_MATCH_LIMIT  1000000u    /* backtracking steps of one search: about 40 ms at worst */
#define RX_DEPTH_LIMIT  100000u     /* nested backtracking frames of one search */
#define RX_HEAP_LIMIT_KIB 65536u    /* KiB of backtracking frames one search may use */
#define RX_TABLE_MAX    16384u      /* patterns kept compiled; past it, each search compiles its own */

enum rx_result {
	RX_MATCH = 0,
	RX_NOMATCH,
	RX_BAD_PATTERN,   /* the pattern does not compile; err says why and where */
	RX_ERROR,         /* the search gave up (a limit, memory); err says which */
};

/*
 * Compile pattern (a NUL-terminated string) and keep it for rx_search.  Returns
 * 0, or -1 with PCRE2's message and the byte offset appended to err
 * ("missing closing parenthesis at offset 1").  Thread-safe.
 */
int rx_register(const char *pattern, struct buf *err);
/*
 * Search the n bytes of subject for pattern anywhere.  Thread-safe.  A subject
 * that is not valid UTF-8 is searched too: invalid bytes match nothing.  On
 * RX_BAD_PATTERN or RX_ERROR, err gets the reason.
 */
enum rx_result rx_search(const char *pattern, const char *subject, size_t n, struct buf *err);
/* How many times a pattern was compiled since the process started (tests count them). */
unsigned long rx_compilations(void);
/* Free every kept pattern; only when no thread can be searching. */
void rx_table_release(void);

#endif
