/*
 * console: the run as a person reads it in a terminal, one more report writer.
 *
 * One line per case as it finishes ("PASS  id  title (12 ms)"), with the word
 * of report_outcome (PASS FAIL WARN INFO BLOCKED ERROR SKIP FLAKY), then the
 * summary: a line per API, a total, and "N passed, N failed".
 */
#ifndef CC_RUNNER_REPORT_CONSOLE_H
#define CC_RUNNER_REPORT_CONSOLE_H

#include <stdio.h>

#include "runner/result.h"

struct console_style {
	int strict;     /* the run is strict: SHOULD failures and blocked cases fail it */
	int colour;     /* ANSI colours */
	int verbose;    /* the transcript of cases that fail the run */
};

/* Print one finished case: its line, then its message, differences and attempts indented. */
void console_case(FILE *out, const struct case_result *cr, const struct console_style *style);
/* Print the summary lines (one per API, a total, then "N passed, N failed"). */
void console_summary(FILE *out, const struct run_result *rr);

#endif
