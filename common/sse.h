/*
 * sse: Server-Sent Events, both directions.
 *
 * The encoder writes what every chatconform stream sends: optional "event:",
 * one "data:" line per line of the data, and the blank line that dispatches.
 *
 * The decoder follows the WHATWG EventSource parsing rules (HTML Living
 * Standard, "Server-sent events", 9.2.6), not our own framing, so any server
 * a browser could read, we read the same way:
 *   - lines end in CR, LF or CRLF, also when a CRLF is split across reads;
 *   - one U+FEFF BOM (EF BB BF) is skipped, only as the very first bytes;
 *   - a line starting with ":" is a comment;
 *   - "field:value" with one optional space after the colon; a line with no
 *     colon is a field with an empty value;
 *   - "data" appends the value and a LF to the data buffer; "event" sets the
 *     type; "id" sets the last event id unless the value contains NUL;
 *     "retry" sets the reconnection time when the value is ASCII digits only;
 *     any other field is ignored;
 *   - a blank line dispatches: when the data buffer is empty nothing is
 *     dispatched; otherwise its last LF is removed and the event is delivered
 *     with the type (default "message"); either way data and type are reset;
 *   - at end of stream, a last line without its end, and an event that was
 *     not ended by a blank line, are dropped (the standard's "any pending
 *     data must be discarded"); the decoder notes that it dropped one.
 * Bytes are passed through as they are: invalid UTF-8 is not replaced by
 * U+FFFD, so a caller can show exactly what was sent.
 * Every buffer is capped: a line or an event past its maximum is an error.
 */
#ifndef CC_SSE_H
#define CC_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Append one event: "event: NAME\n" when name is not NULL, a "data: " line for
 * each line of data (split at LF, CR and CRLF; empty data is one empty line),
 * then "\n".  All or nothing: on BUF_TOO_BIG or BUF_NOMEM out is unchanged.
 * A name is cut at its first CR or LF, which would otherwise end the field.
 */
enum buf_result sse_encode(struct buf *out, const char *name, const char *data, size_t len);

struct sse_event {
	const char *type;        /* the event field, or "message"; a C string (cut at a NUL) */
	const char *data;        /* NUL-terminated; may contain LF between data lines (and NULs) */
	size_t data_len;
	const char *last_id;     /* the last event id so far ("" when none) */
};
/* The pointers are valid only during the callback. */

/* Called once per dispatched event; non-zero stops the decoder. */
typedef int (*sse_event_cb)(void *arg, const struct sse_event *ev);

enum sse_result {
	SSE_OK = 0,
	SSE_TOO_LONG,            /* a line or an event's data passed the maximum */
	SSE_STOPPED,             /* the callback asked to stop */
	SSE_NOMEM,
};
/* After SSE_TOO_LONG or SSE_NOMEM the decoder's state is undefined: do not feed it again. */

struct sse_decoder {
	struct buf line;         /* the line being read */
	struct buf data;         /* the data of the event being built */
	struct buf type;         /* its event type ("" = message) */
	struct buf last_id;
	long retry_ms;           /* -1 until a valid retry field */
	bool started;            /* past the optional BOM */
	unsigned char bom_len;   /* bytes of a BOM held back while !started (it may be split across feeds) */
	bool after_cr;           /* the last byte was a CR: a LF right after it is the same line end */
	bool dropped;            /* sse_finish dropped an unended event or line */
	size_t events;           /* dispatched so far, counting the one being delivered */
	sse_event_cb cb;
	void *arg;
};

/* A decoder whose lines (without their end) and event data may be at most max bytes each. */
void sse_init(struct sse_decoder *d, size_t max, sse_event_cb cb, void *arg);
void sse_release(struct sse_decoder *d);
/* Feed n bytes; complete events go to the callback before it returns. */
enum sse_result sse_feed(struct sse_decoder *d, const char *p, size_t n);
/* End of stream: a last line without its end and an event without its blank line are dropped (sets dropped). */
enum sse_result sse_finish(struct sse_decoder *d);

#endif
