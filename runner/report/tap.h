/*
 * tap: the run as TAP version 13, for harnesses that read TAP (prove, tap-junit...).
 *
 * One test line per case in suite order, "ok N - ID: TITLE".  A SHOULD not met
 * in a run that is not strict is "not ok ... # TODO SHOULD not met": TAP
 * consumers list it but do not fail on it.  Skips are "ok ... # SKIP reason".
 * Failures, errors and TODOs carry a YAML block with the clause and the
 * differences.  docs/reports.md has the whole mapping.
 */
#ifndef CC_RUNNER_REPORT_TAP_H
#define CC_RUNNER_REPORT_TAP_H

#include <stdio.h>

#include "runner/result.h"

/* Write rr as TAP to out; 0, or -1 when out could not be written. */
int tap_write(const struct run_result *rr, FILE *out);
/* Write a TAP stream that stops before any test: "TAP version 13", "Bail out! reason". */
int tap_bail_out(FILE *out, const char *reason);

#endif
