/*
 * match: the one matcher engine for status, headers, JSON bodies and streams.
 *
 * Checking never stops at the first difference: every failed check appends one
 * line to diff ("body /error: expected \"Unauthorized\", got \"Forbidden\""),
 * so a report shows everything that was wrong with a response.
 *
 * Matchers are expanded with the step's variables before they are compared, so
 * {"equals": "${CONV}"} works.  Event numbers in diff lines count from 1.
 *
 * expect_validate runs at load time and rejects unknown keywords, bad regexes
 * and bad sequence expressions with the JSON path of the problem.  The
 * validators also compile each "regex" (PCRE2) once and keep it for the
 * checkers (runner/rx.h): a check finds it there and never compiles it again.
 */
#ifndef CC_RUNNER_MATCH_H
#define CC_RUNNER_MATCH_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "runner/response.h"
#include "runner/vars.h"

/* Check an "expect" object against a response; returns the number of failed checks (0 = all pass). */
int expect_check(const cJSON *expect, const struct response *resp, const struct vars *vars,
		 struct buf *diff);
/* Check one matcher (a literal, or an object of matcher keywords) against a value (NULL = absent). */
int matcher_check(const cJSON *matcher, const cJSON *actual, const char *where,
		  const struct vars *vars, struct buf *diff);
/*
 * Check a "stream" object (sequence, each, count, concat, same; "format" is not
 * looked at) against a list of events, such as frames collected from a
 * WebSocket.  Returns the number of failed checks.
 */
int stream_check_events(const cJSON *stream, const struct event *events, size_t n, const struct vars *vars,
			struct buf *diff);
/* Check an object of JSON Pointer -> matcher against doc; diff lines read "LABEL /pointer: ...". */
int pointer_map_check(const cJSON *map, const cJSON *doc, const char *label, const struct vars *vars,
		      struct buf *diff);
/* Validate a "stream" object; http: "format" is required, else (WebSocket frames) it is refused. */
int stream_validate(const cJSON *stream, const char *path, bool http, struct buf *err);
/* Validate an object of JSON Pointer -> matcher. */
int pointer_map_validate(const cJSON *map, const char *path, struct buf *err);
/* Validate an "expect" object; returns 0, or -1 with "path: what" lines appended to err. */
int expect_validate(const cJSON *expect, const char *path, struct buf *err);
/* Validate one matcher. */
int matcher_validate(const cJSON *matcher, const char *path, struct buf *err);
/*
 * Resolve a capture source against a response: "status", "header:NAME", "body:/ptr",
 * "stream:TYPE/ptr" (first event of TYPE).  Returns a new value, or NULL with err.
 */
cJSON *capture_value(const char *source, const struct response *resp, struct buf *err);
/* Validate a capture source's shape at load time; 0, or -1 with a "path: what" line in err. */
int capture_validate(const char *source, const char *path, struct buf *err);

#endif
