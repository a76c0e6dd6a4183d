/*
 * junit: the run as JUnit XML, valid against the Jenkins xUnit schema
 * (shared/schemas/junit-10.xsd), one testsuite per API.
 *
 * Whatever a target sent ends up in the file, so every string is cleaned:
 * markup characters escaped, characters XML 1.0 forbids dropped, invalid UTF-8
 * replaced with U+FFFD, and "]]>" split so it never ends a CDATA block early.
 */
#ifndef CC_RUNNER_REPORT_JUNIT_H
#define CC_RUNNER_REPORT_JUNIT_H

#include <stddef.h>

#include "common/buf.h"
#include "runner/result.h"

/* Write rr to path through a temporary file and a rename; 0, or -1 with the reason in err. */
int junit_write(const struct run_result *rr, const char *path, struct buf *err);
/* Append s[0..n) escaped for an attribute value (tabs and newlines as references; fine in text too). */
void junit_escape(struct buf *out, const char *s, size_t n);
/* Append s[0..n) as one or more CDATA sections. */
void junit_cdata(struct buf *out, const char *s, size_t n);
/* Milliseconds as seconds with three decimals and a '.', whatever the locale: "12.345". */
void junit_seconds(double ms, char *out, size_t size);

#endif
