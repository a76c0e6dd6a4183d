/*
 * ndjson: newline-delimited JSON, both directions.
 *
 * The decoder is incremental: feed it bytes as they arrive, split anywhere, and
 * it hands back whole lines.  A line ends at "\n"; a "\r" before it is dropped,
 * so "\r\n" works too.  Empty lines are skipped.  The last line of a stream may
 * lack its "\n" (ndjson_finish delivers it).  Whether a line is JSON is for the
 * caller to decide, so that it can show the bytes that were not.
 */
#ifndef CC_NDJSON_H
#define CC_NDJSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

enum ndjson_result {
	NDJSON_OK = 0,
	NDJSON_TOO_LONG,   /* a line passed the decoder's maximum */
	NDJSON_STOPPED,    /* the callback asked to stop */
	NDJSON_NOMEM,
};

/* Called once per line, without its terminator; line_no counts from 1. Non-zero stops. */
typedef int (*ndjson_line_cb)(void *arg, const char *line, size_t len, size_t line_no);

struct ndjson_decoder {
	struct buf line;
	size_t line_no;
	ndjson_line_cb cb;
	void *arg;
};

/* Start a decoder whose lines may be at most max_line bytes. */
void ndjson_init(struct ndjson_decoder *d, size_t max_line, ndjson_line_cb cb, void *arg);
void ndjson_release(struct ndjson_decoder *d);
/* Feed n bytes; complete lines go to the callback before it returns. */
enum ndjson_result ndjson_feed(struct ndjson_decoder *d, const char *p, size_t n);
/* End of stream: deliver a last line that had no terminator. */
enum ndjson_result ndjson_finish(struct ndjson_decoder *d);

/* Append v as one line of NDJSON (unformatted JSON and "\n"). */
enum buf_result ndjson_encode(struct buf *out, const cJSON *v);

#endif
