/*
 * sse: Server-Sent Events, both directions (see sse.h for the rules).
 *
 * The decoder keeps only the line being read and the event being built, so a
 * stream of any length and any chunking costs O(max) memory, and every byte
 * is looked at once.
 */
#include "sse.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

static const char bom[3] = { '\xef', '\xbb', '\xbf' };

/* ---- encoder ------------------------------------------------------------------------------ */

enum buf_result sse_encode(struct buf *out, const char *name, const char *data, size_t len)
{
	size_t start = out->len;
	enum buf_result r = BUF_OK;
	if (name) {
		/* A line end in the name would end the field early: the name stops at the first one. */
		r = buf_adds(out, "event: ");
		if (r == BUF_OK)
			r = buf_add(out, name, strcspn(name, "\r\n"));
		if (r == BUF_OK)
			r = buf_addc(out, '\n');
	}
	/* One "data: " line per line of data; "" is one empty data line, which decodes as "". */
	size_t i = 0;
	while (r == BUF_OK) {
		size_t j = i;
		while (j < len && data[j] != '\n' && data[j] != '\r')
			j++;
		r = buf_adds(out, "data: ");
		if (r == BUF_OK)
			r = buf_add(out, data + i, j - i);
		if (r == BUF_OK)
			r = buf_addc(out, '\n');
		if (j == len)
			break;
		i = j + (data[j] == '\r' && j + 1 < len && data[j + 1] == '\n' ? 2 : 1);
	}
	if (r == BUF_OK)
		r = buf_addc(out, '\n');
	if (r != BUF_OK)
		buf_truncate(out, start);
	return r;
}

/* ---- decoder ------------------------------------------------------------------------------ */

void sse_init(struct sse_decoder *d, size_t max, sse_event_cb cb, void *arg)
{
	buf_init(&d->line, max);
	/* Every data line adds a LF, and dispatch removes the last: max bytes of data need max + 1. */
	buf_init(&d->data, max < SIZE_MAX ? max + 1 : max);
	buf_init(&d->type, max);
	buf_init(&d->last_id, max);
	d->retry_ms = -1;
	d->started = false;
	d->bom_len = 0;
	d->after_cr = false;
	d->dropped = false;
	d->events = 0;
	d->cb = cb;
	d->arg = arg;
}

void sse_release(struct sse_decoder *d)
{
	buf_release(&d->line);
	buf_release(&d->data);
	buf_release(&d->type);
	buf_release(&d->last_id);
}

static enum sse_result from_buf(enum buf_result r)
{
	return r == BUF_TOO_BIG ? SSE_TOO_LONG : r == BUF_NOMEM ? SSE_NOMEM : SSE_OK;
}

static bool field_is(const char *f, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(f, name, n) == 0;
}

/* The blank line: deliver the event built so far, if it has data, and start the next one. */
static enum sse_result dispatch(struct sse_decoder *d)
{
	int stop = 0;
	if (d->data.len) {
		d->data.len--;                    /* the LF the last data line added */
		d->data.data[d->data.len] = '\0';
		struct sse_event ev = {
			.type = d->type.len ? d->type.data : "message",
			.data = buf_str(&d->data),
			.data_len = d->data.len,
			.last_id = buf_str(&d->last_id),
		};
		d->events++;
		stop = d->cb(d->arg, &ev);
	}
	/* The type is reset even when nothing was dispatched ("event: x" then a blank line). */
	buf_reset(&d->data);
	buf_reset(&d->type);
	return stop ? SSE_STOPPED : SSE_OK;
}

/* Retry value: ASCII digits only (at least one); saturates rather than overflows. */
static void set_retry(struct sse_decoder *d, const char *v, size_t n)
{
	if (!n)
		return;
	long ms = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return;
		int digit = v[i] - '0';
		ms = ms > (LONG_MAX - digit) / 10 ? LONG_MAX : ms * 10 + digit;
	}
	d->retry_ms = ms;
}

/* One complete line, without its end, is in d->line; act on it and empty it. */
static enum sse_result process_line(struct sse_decoder *d)
{
	const char *line = buf_str(&d->line);
	size_t len = d->line.len;
	enum sse_result r = SSE_OK;

	if (len == 0)
		return dispatch(d);
	if (line[0] == ':')
		goto out;   /* a comment */
	const char *colon = memchr(line, ':', len);
	size_t flen = colon ? (size_t)(colon - line) : len;
	const char *value = colon ? colon + 1 : line + len;
	size_t vlen = (size_t)(line + len - value);
	if (vlen && value[0] == ' ') {
		value++;
		vlen--;
	}
	if (field_is(line, flen, "data")) {
		r = from_buf(buf_add(&d->data, value, vlen));
		if (r == SSE_OK)
			r = from_buf(buf_addc(&d->data, '\n'));
	} else if (field_is(line, flen, "event")) {
		buf_reset(&d->type);
		r = from_buf(buf_add(&d->type, value, vlen));
	} else if (field_is(line, flen, "id")) {
		if (!memchr(value, '\0', vlen)) {
			buf_reset(&d->last_id);
			r = from_buf(buf_add(&d->last_id, value, vlen));
		}
	} else if (field_is(line, flen, "retry")) {
		set_retry(d, value, vlen);
	}
	/* Any other field is ignored. */
out:
	buf_reset(&d->line);
	return r;
}

/* Bytes past the BOM check: split into lines on CR, LF and CRLF. */
static enum sse_result feed_lines(struct sse_decoder *d, const char *p, size_t n)
{
	while (n) {
		if (d->after_cr) {
			d->after_cr = false;
			if (*p == '\n') {   /* the LF of a CRLF, maybe in the next feed */
				p++;
				n--;
				continue;
			}
		}
		size_t i = 0;
		while (i < n && p[i] != '\n' && p[i] != '\r')
			i++;
		enum sse_result r = from_buf(buf_add(&d->line, p, i));
		if (r != SSE_OK || i == n)
			return r;
		d->after_cr = p[i] == '\r';
		r = process_line(d);
		if (r != SSE_OK)
			return r;
		p += i + 1;
		n -= i + 1;
	}
	return SSE_OK;
}

enum sse_result sse_feed(struct sse_decoder *d, const char *p, size_t n)
{
	/* The first bytes may be a BOM, perhaps split across feeds: hold them back until it is clear. */
	while (!d->started && n) {
		if (*p == bom[d->bom_len]) {
			p++;
			n--;
			if (++d->bom_len == sizeof(bom)) {
				d->started = true;   /* a whole BOM: dropped */
				d->bom_len = 0;
			}
			continue;
		}
		/* Not a BOM after all: what was held back is the start of the first line. */
		d->started = true;
		size_t held = d->bom_len;
		d->bom_len = 0;
		enum sse_result r = feed_lines(d, bom, held);
		if (r != SSE_OK)
			return r;
	}
	return feed_lines(d, p, n);
}

enum sse_result sse_finish(struct sse_decoder *d)
{
	/* Data lines without their blank line, or a last line without its end that is not a comment. */
	bool unended_line = d->bom_len > 0 || (d->line.len > 0 && d->line.data[0] != ':');
	d->dropped = d->data.len > 0 || unended_line;
	buf_reset(&d->line);
	buf_reset(&d->data);
	buf_reset(&d->type);
	d->bom_len = 0;
	d->after_cr = false;
	return SSE_OK;
}
