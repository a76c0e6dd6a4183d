/*
 * html: one self-contained HTML file for a vendor to open: a conformance matrix
 * per API and section (MUST and SHOULD pass counts), every case with its
 * outcome, and each failure with its clause, the difference and the exchange.
 *
 * No network resource of any kind: the CSS and the few lines of script (the
 * outcome filters) are inline, and without script everything is shown.  All
 * text from suites and targets is escaped; controls and noncharacters, which
 * HTML forbids, are dropped.
 */
#ifndef CC_RUNNER_REPORT_HTML_H
#define CC_RUNNER_REPORT_HTML_H

#include "common/buf.h"
#include "runner/result.h"

#define HTML_REPORT_TRANSCRIPT_MAX (64u << 10)   /* bytes of one case's exchange shown */

/* Write rr to path through a temporary file and a rename; 0, or -1 with the reason in err. */
int html_report_write(const struct run_result *rr, const char *path, struct buf *err);

#endif
