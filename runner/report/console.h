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

/* --color: when the case lines are coloured. */
enum console_when {
	CONSOLE_AUTO,     /* when the console is a terminal, NO_COLOR is unset or empty and TERM is not dumb */
	CONSOLE_ALWAYS,   /* whatever the console and NO_COLOR (a flag on the command line wins over both) */
	CONSOLE_NEVER,
};

/* Whether case lines written to out are coloured, by when. */
int console_colour(enum console_when when, FILE *out);

/*
 * Print one finished case: its line, then its message, differences and attempts
 * indented; then the counter, when it is on.  Thread-safe against console_note,
 * not against itself (the executor holds its lock).
 */
void console_case(FILE *out, const struct case_result *cr, const struct console_style *style);
/*
 * Show "N/M" (cases finished, of total) on tty while the cases run, rewritten in
 * place with \r after each case line; only when tty is a terminal and TERM is not
 * dumb, so logs and pipes never see it.  Off until console_counter_stop, which
 * erases it.
 */
void console_counter_start(FILE *tty, size_t total);
void console_counter_stop(void);
/* Print one line (printf-style) on out, with the counter erased first and shown again after. */
void console_note(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the summary lines (one per API, a total, then "N passed, N failed"). */
void console_summary(FILE *out, const struct run_result *rr);

#endif
