/*
 * accesslog: one line on stderr for each request and for each WebSocket
 * message a client sends (docs/mockd.md, "Access log").
 *
 * A line says who asked what and how it went: client, method, path and query
 * (credentials redacted as the runner's transcripts redact them,
 * common/redact.h), status, bytes, duration, the API, the key (redacted), and
 * for a stream the rule that answered and how the stream ended. A stream's
 * line comes when the stream ends, with its whole body's bytes and duration,
 * not when its handler returns. As text (mockd: access: ...) or, with
 * --log json, one JSON object a line. Off with --quiet.
 */
#ifndef CC_MOCKD_ACCESSLOG_H
#define CC_MOCKD_ACCESSLOG_H

#include <stdbool.h>

#include "common/log.h"
#include "mockd/http.h"

/* Write lines in this format, or none when on is false; hooks the stream and WebSocket observers. */
void accesslog_init(enum log_format fmt, bool on);
/* An http_observer_fn: the line of a request answered (a stream's comes at its end). */
void accesslog_request(const struct mreq *r, void *arg);

#endif
