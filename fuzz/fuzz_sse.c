/*
 * fuzz_sse: the SSE decoder and encoder (common/sse.c) against the WHATWG rules.
 *
 * The first 4 bytes choose the maximum, after how many events the callback
 * stops, the seed of the splits and the mode.  Mode "decode": the rest is a
 * stream, decoded whole and in random pieces, and both must match an
 * independent, whole-input reading of the rules in sse.h.  Mode "round trip":
 * the rest is an event name and data, which sse_encode writes and the decoder
 * must read back as one event (line ends in the data become LF).
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "common/buf.h"
#include "common/sse.h"
#include "fuzz/fuzz.h"

#define LOG_MAX (64u * 1024 * 1024)

struct run {
	struct buf log;          /* one record per event, then the result, dropped flag and retry */
	size_t events;
	size_t stop_after;       /* 0: never stop */
};

static void log_event(struct buf *log, const char *type, const char *data, size_t len, const char *id)
{
	buf_printf(log, "event type=%s id=%s len=%zu:", type, id, len);
	buf_add(log, data, len);
	buf_addc(log, '\n');
}

static int event_cb(void *arg, const struct sse_event *ev)
{
	struct run *r = arg;
	FUZZ_CHECK(ev->data[ev->data_len] == '\0', "event data is not NUL-terminated");
	log_event(&r->log, ev->type, ev->data, ev->data_len, ev->last_id);
	r->events++;
	return r->stop_after && r->events == r->stop_after;
}

/* Decode p[0..n) in pieces (whole when rng is NULL) and log the outcome. */
static void decode(struct run *r, size_t max, const char *p, size_t n, struct fuzz_rng *rng)
{
	struct sse_decoder d;
	enum sse_result res = SSE_OK;
	sse_init(&d, max, event_cb, r);
	size_t at = 0;
	while (at < n && res == SSE_OK) {
		size_t k = rng ? fuzz_piece(rng, n - at) : n - at;
		res = sse_feed(&d, p + at, k);
		at += k;
	}
	if (res == SSE_OK) {
		res = sse_finish(&d);
		buf_printf(&r->log, "result %d dropped=%d retry=%ld events=%zu\n", (int)res, (int)d.dropped,
			   d.retry_ms, d.events);
	} else {
		buf_printf(&r->log, "result %d\n", (int)res);
	}
	sse_release(&d);
}

/* ---- the model: the rules applied to the whole input at once -------------------------------- */

struct model {
	struct run *r;
	size_t max;
	struct buf data, type, id;
	long retry;
	bool stopped;
};

/* One line, without its end; returns an sse_result. */
static int model_line(struct model *m, const char *line, size_t len)
{
	if (len == 0) {
		if (m->data.len) {
			/* "message" only when no type was given; a given type is a C string, cut at a NUL */
			const char *type = m->type.len ? buf_str(&m->type) : "message";
			log_event(&m->r->log, type, m->data.data, m->data.len - 1, buf_str(&m->id));
			m->r->events++;
			if (m->r->stop_after && m->r->events == m->r->stop_after)
				m->stopped = true;
		}
		buf_reset(&m->data);
		buf_reset(&m->type);
		return m->stopped ? SSE_STOPPED : SSE_OK;
	}
	if (line[0] == ':')
		return SSE_OK;
	const char *colon = memchr(line, ':', len);
	size_t flen = colon ? (size_t)(colon - line) : len;
	const char *v = colon ? colon + 1 : line + len;
	size_t vlen = (size_t)(line + len - v);
	if (vlen && *v == ' ') {
		v++;
		vlen--;
	}
	if (flen == 4 && memcmp(line, "data", 4) == 0) {
		if (m->data.len + vlen + 1 > m->max + 1)
			return SSE_TOO_LONG;
		buf_add(&m->data, v, vlen);
		buf_addc(&m->data, '\n');
	} else if (flen == 5 && memcmp(line, "event", 5) == 0) {
		buf_reset(&m->type);
		buf_add(&m->type, v, vlen);
	} else if (flen == 2 && memcmp(line, "id", 2) == 0) {
		if (!memchr(v, '\0', vlen)) {
			buf_reset(&m->id);
			buf_add(&m->id, v, vlen);
		}
	} else if (flen == 5 && memcmp(line, "retry", 5) == 0 && vlen) {
		long ms = 0;
		size_t i;
		for (i = 0; i < vlen && v[i] >= '0' && v[i] <= '9'; i++)
			ms = ms > (LONG_MAX - (v[i] - '0')) / 10 ? LONG_MAX : ms * 10 + (v[i] - '0');
		if (i == vlen)
			m->retry = ms;
	}
	return SSE_OK;
}

static void model(struct run *r, size_t max, const char *p, size_t n)
{
	struct model m = { .r = r, .max = max, .retry = -1 };
	buf_init(&m.data, LOG_MAX);
	buf_init(&m.type, LOG_MAX);
	buf_init(&m.id, LOG_MAX);
	int res = SSE_OK;
	size_t at = 0;
	bool dropped = false;
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		at = 3;
	while (at < n && res == SSE_OK) {
		size_t i = at;
		while (i < n && p[i] != '\r' && p[i] != '\n')
			i++;
		if (i - at > max) {
			res = SSE_TOO_LONG;
			break;
		}
		if (i == n) {               /* a last line without its end: dropped, unless a comment */
			dropped = p[at] != ':';
			break;
		}
		res = model_line(&m, p + at, i - at);
		at = i + 1 + (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n');
	}
	if (res == SSE_OK)
		buf_printf(&r->log, "result %d dropped=%d retry=%ld events=%zu\n", res,
			   (int)(dropped || m.data.len > 0), m.retry, r->events);
	else
		buf_printf(&r->log, "result %d\n", res);
	buf_release(&m.data);
	buf_release(&m.type);
	buf_release(&m.id);
}

/* ---- round trip ---------------------------------------------------------------------------- */

static int one_event_cb(void *arg, const struct sse_event *ev)
{
	struct run *r = arg;
	log_event(&r->log, ev->type, ev->data, ev->data_len, ev->last_id);
	r->events++;
	return 0;
}

/* name (up to the first NUL of the input, or NULL when there is none) and data (the rest). */
static void round_trip(const char *p, size_t n, struct fuzz_rng *rng)
{
	const char *nul = memchr(p, '\0', n);
	char *name = NULL;
	const char *data = p;
	size_t len = n;
	if (nul) {
		name = strndup(p, (size_t)(nul - p));
		data = nul + 1;
		len = n - (size_t)(nul - p) - 1;
	}
	struct buf out, want;
	struct run got = { 0 };
	buf_init(&out, LOG_MAX);
	buf_init(&want, LOG_MAX);
	buf_init(&got.log, LOG_MAX);
	FUZZ_CHECK(sse_encode(&out, name, data, len) == BUF_OK, "sse_encode failed");

	/* What must come back: the name up to a line end ("message" when empty), the data with CR and CRLF as LF. */
	size_t nl = name ? strcspn(name, "\r\n") : 0;
	struct buf norm;
	buf_init(&norm, LOG_MAX);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r') {
			buf_addc(&norm, '\n');
			if (i + 1 < len && data[i + 1] == '\n')
				i++;
		} else {
			buf_addc(&norm, data[i]);
		}
	}
	char type[600];
	snprintf(type, sizeof(type), "%.*s", (int)nl, nl ? name : "message");
	if (!nl)
		snprintf(type, sizeof(type), "message");
	log_event(&want, type, buf_str(&norm), norm.len, "");
	buf_release(&norm);

	struct sse_decoder d;
	sse_init(&d, LOG_MAX, one_event_cb, &got);
	size_t at = 0;
	enum sse_result res = SSE_OK;
	while (at < out.len && res == SSE_OK) {
		size_t k = fuzz_piece(rng, out.len - at);
		res = sse_feed(&d, out.data + at, k);
		at += k;
	}
	FUZZ_CHECK(res == SSE_OK, "decoding what sse_encode wrote failed: %d", (int)res);
	sse_finish(&d);
	FUZZ_CHECK(!d.dropped, "the encoded event was not ended");
	FUZZ_CHECK(got.events == 1, "%zu events from one encoded event", got.events);
	FUZZ_CHECK(got.log.len == want.len && memcmp(got.log.data, want.data, want.len) == 0,
		   "round trip differs:\n--- got\n%s--- want\n%s", buf_str(&got.log), buf_str(&want));
	sse_release(&d);
	buf_release(&got.log);
	buf_release(&want);
	buf_release(&out);
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	/* At least 4, so that a held-back BOM prefix (up to 2 bytes) never meets the line limit on its own. */
	size_t max = 4 + ((size_t)data[0] | (size_t)(data[1] & 3) << 8);
	size_t stop_after = data[2] % 8 == 0 ? data[2] / 8 : 0;
	struct fuzz_rng rng = { data[3] + 1u };
	const char *p = (const char *)data + 4;
	size_t n = size - 4;

	if (data[3] % 4 == 3) {
		if (n <= 512)   /* keeps the type name inside the model's buffer */
			round_trip(p, n, &rng);
		return 0;
	}
	struct run whole = { .stop_after = stop_after }, split = { .stop_after = stop_after },
		   want = { .stop_after = stop_after };
	buf_init(&whole.log, LOG_MAX);
	buf_init(&split.log, LOG_MAX);
	buf_init(&want.log, LOG_MAX);
	decode(&whole, max, p, n, NULL);
	decode(&split, max, p, n, &rng);
	model(&want, max, p, n);
	FUZZ_CHECK(whole.log.len == want.log.len && memcmp(buf_str(&whole.log), buf_str(&want.log), want.log.len) == 0,
		   "whole feed differs from the model:\n--- got\n%s--- want\n%s", buf_str(&whole.log), buf_str(&want.log));
	FUZZ_CHECK(split.log.len == want.log.len && memcmp(buf_str(&split.log), buf_str(&want.log), want.log.len) == 0,
		   "split feed differs from the model:\n--- got\n%s--- want\n%s", buf_str(&split.log), buf_str(&want.log));
	buf_release(&whole.log);
	buf_release(&split.log);
	buf_release(&want.log);
	return 0;
}
