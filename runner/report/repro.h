/*
 * repro: the step of a case that went wrong, read back from its transcript,
 * and a curl command line that sends that request again.
 *
 * The transcript is the only record a report has of what was sent (variables
 * expanded, defaults and --header applied), and it is already redacted by
 * runner/http.c (credential headers and query parameters) and runner/exec.c
 * (targets-file and --header values): the reproducer copies it, so it shows
 * exactly what every other report shows and no second redaction exists.
 *
 * A case stops at the step that fails (runner/exec.c), so that step is the
 * last "--- step N" block of the transcript.  Its request body is what the
 * transcript kept (HTTP_TRANSCRIPT_REQ_BODY bytes, control bytes as \xNN).
 */
#ifndef CC_RUNNER_REPORT_REPRO_H
#define CC_RUNNER_REPORT_REPRO_H

#include <stddef.h>

#include "common/buf.h"

enum repro_kind {
	REPRO_NONE,    /* no step in the transcript (an error before any exchange, a cut transcript) */
	REPRO_HTTP,    /* a request step */
	REPRO_ADMIN,   /* a request to mockd's admin API */
	REPRO_WS,      /* a WebSocket step */
};

struct repro_step {
	enum repro_kind kind;
	size_t step;           /* from 1; 0 with REPRO_NONE */
	const char *block;     /* the step's lines in the transcript (borrowed), after its "--- step" line */
	size_t len;
};

/* Find the last step of transcript t[0..n); the result borrows t. */
void repro_last_step(const char *t, size_t n, struct repro_step *st);
/*
 * Append the step's endpoint: "POST /chat/research" (the URL's path, no host
 * nor query), "WebSocket /ws/chat"; nothing with REPRO_NONE or no request line.
 */
void repro_endpoint(struct buf *out, const struct repro_step *st);
/*
 * Append a shell command line (POSIX sh quoting) that sends the step's request
 * with curl: method, URL, headers and body as the transcript shows them.
 * Returns 0, or -1 (nothing appended) when the step is not an HTTP request.
 */
int repro_curl(struct buf *out, const struct repro_step *st);
/*
 * Append the text of a difference without the "step 2: " or "step 2,
 * request 3/5: " label runner/exec.c puts before each line, so that the same
 * difference reads the same in every case that shows it.
 */
void repro_strip_labels(struct buf *out, const char *s, size_t n);

#endif
