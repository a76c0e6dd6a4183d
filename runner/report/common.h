/*
 * report/common: what every report writer shares.
 *
 * - One cleaning pass for text that came from a target (report_escape): invalid
 *   UTF-8 becomes U+FFFD, the characters a format forbids are dropped, and the
 *   rest is escaped for that format.
 * - Times printed with a '.' whatever the locale.
 * - The outcome a case shows in every report (a SHOULD not met is a warning
 *   unless the run is strict).
 * - Report files: "-" is stdout, a regular file is replaced through a temporary
 *   file and a rename (a reader never sees half a report), a symbolic link is
 *   followed, a device or FIFO is written in place.
 * - Cases that never ran (unreachable target, interrupted run) as errors.
 */
#ifndef CC_RUNNER_REPORT_COMMON_H
#define CC_RUNNER_REPORT_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include "common/buf.h"
#include "runner/result.h"

#define REPORT_CHUNK_MAX (64u << 20)   /* the most one case may take in a report file */

enum report_esc {
	ESC_XML_ATTR,   /* XML attribute: markup escaped, tab/LF/CR as references */
	ESC_XML_TEXT,   /* XML element text: markup escaped, tab and LF as they are */
	ESC_XML_CDATA,  /* inside a CDATA section: "]]>" split into two sections */
	ESC_HTML,       /* HTML text or quoted attribute: & < > " ' escaped; controls and noncharacters dropped */
	ESC_JSON,       /* inside a JSON (and YAML) double-quoted string: controls as \uXXXX */
	ESC_LINE,       /* one console line: tab, CR and LF as spaces, other controls dropped */
	ESC_TAP_LINE,   /* a TAP test line: like ESC_LINE, and '#' and '\' escaped with '\' */
};

/* Append s[0..n) cleaned and escaped for mode. */
void report_escape(struct buf *out, const char *s, size_t n, enum report_esc mode);
/* Append a C string (NULL counts as "") as a JSON string, quotes included. */
void report_json_string(struct buf *out, const char *s);
/* Milliseconds as seconds with three decimals and a '.', whatever the locale: "12.345". */
void report_seconds(double ms, char *out, size_t size);
/* Milliseconds with three decimals and a '.', whatever the locale: "12.500". */
void report_millis(double ms, char *out, size_t size);

/* How a case shows in the reports, given the run's strictness. */
enum report_outcome {
	OUTCOME_PASS,
	OUTCOME_FAIL,    /* fails the run: a MUST failure, or a SHOULD failure when strict */
	OUTCOME_WARN,    /* a SHOULD not met, not strict: reported, never fails the run */
	OUTCOME_ERROR,
	OUTCOME_SKIP,
	OUTCOME_FLAKY,   /* failed, then passed on a rerun (--retries): reported, never fails the run */
	OUTCOME_BLOCKED, /* a precondition was not met: the clause was not checked; never fails the run */
	OUTCOME_INFO,    /* an INFO claim that did not hold: what was observed; never fails the run */
};
#define OUTCOME_COUNT 8

/*
 * The outcome of cr in a run that is strict or not: the one rule every writer
 * (console, JUnit, JSON, TAP, HTML) shows a case by.
 */
enum report_outcome report_outcome(const struct case_result *cr, int strict);
/* How many cases of the run have each outcome; count has OUTCOME_COUNT slots. */
void report_count_outcomes(const struct run_result *rr, size_t *count);
/* True when cases[i] is the first case of its API in rr (reports group by API in order of appearance). */
int report_first_of_api(const struct run_result *rr, size_t i);
/* "pass", "fail", "warn", "error", "skip", "flaky", "blocked", "info". */
const char *report_outcome_name(enum report_outcome o);

/*
 * A report file being written.  Where it goes depends on what path is:
 * - "-": standard output (left open);
 * - a regular file, or a name that does not exist yet: a temporary file in the
 *   same folder, renamed over path by report_file_commit, so a reader never sees
 *   half a report and nothing is left behind on failure;
 * - a symbolic link: followed; the file it names is treated by these rules
 *   (a regular file is replaced in the link target's folder, the link stays);
 * - anything else (a character device, a FIFO, a socket): written in place,
 *   never replaced nor removed.  A FIFO blocks until a reader opens it.
 * A folder is an error.
 */
enum report_file_kind {
	REPORT_FILE_REPLACE,   /* through tmp and a rename over dest */
	REPORT_FILE_IN_PLACE,  /* dest opened for writing as it is */
	REPORT_FILE_STDOUT,    /* "-" */
};

struct report_file {
	FILE *f;
	char *tmp;             /* REPORT_FILE_REPLACE: the temporary file, until renamed or removed */
	char *dest;            /* the file written: path, or where its symbolic links lead */
	const char *path;      /* as given, for messages */
	enum report_file_kind kind;
};

/* Open path for a report by the rules above; 0, or -1 with the reason in err (nothing is left behind). */
int report_file_open(struct report_file *rf, const char *path, struct buf *err);
/* Write b to the file and empty b; 0, or -1 with the reason in err. */
int report_file_flush(struct report_file *rf, struct buf *b, struct buf *err);
/* Finish the file (rename the temporary over dest); 0, or -1 with the reason in err (the temporary is removed). */
int report_file_commit(struct report_file *rf, struct buf *err);
/* Close and remove the temporary file, if any; never closes stdout; safe after commit and after a failed open. */
void report_file_abort(struct report_file *rf);
/*
 * Remove the temporary file being written, if any.  Async-signal-safe: for a
 * signal handler that is about to end the process (reports are written by one
 * thread, so there is at most one).
 */
void report_file_unlink_temp(void);

/*
 * Make every case that was never started (started_at_ms is 0: the executor
 * stopped before taking it, or the run never began) an error with message
 * reason, started when the run stopped.  0, or -1 when out of memory.
 */
int report_mark_not_run(struct run_result *rr, const char *reason);

#endif
