/*
 * json: the whole run as one JSON document, "format": "chatconform-results/1"
 * (docs/reports.md, field by field).  It is the machine-readable result and
 * the input of `chatconform compare`.
 *
 * One case per line, in suite order; each transcript is cut at
 * JSON_REPORT_TRANSCRIPT_MAX bytes (on a character boundary) and says so.
 */
#ifndef CC_RUNNER_REPORT_JSON_H
#define CC_RUNNER_REPORT_JSON_H

#include "common/buf.h"
#include "runner/result.h"

#define JSON_REPORT_FORMAT "chatconform-results/1"
#define JSON_REPORT_TRANSCRIPT_MAX (16u << 10)

/* Write rr to path through a temporary file and a rename; 0, or -1 with the reason in err. */
int json_report_write(const struct run_result *rr, const char *path, struct buf *err);

#endif
