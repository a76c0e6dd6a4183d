/*
 * fuzz_ndjson: the NDJSON decoder (common/ndjson.c) against a model of its contract.
 *
 * The first 4 bytes choose the line maximum, after how many lines the callback
 * stops, and the seed of the splits; the rest is the stream.  It is decoded
 * whole, then fed in random pieces, and both must give exactly the lines, line
 * numbers and result that a direct reading of ndjson.h gives.
 */
#include <stdbool.h>
#include <string.h>

#include "common/buf.h"
#include "common/ndjson.h"
#include "fuzz/fuzz.h"

#define LOG_MAX (64u * 1024 * 1024)

struct run {
	struct buf log;          /* "line_no len:bytes\n" for each line delivered */
	size_t lines;
	size_t stop_after;       /* 0: never stop */
};

static int line_cb(void *arg, const char *line, size_t len, size_t line_no)
{
	struct run *r = arg;
	FUZZ_CHECK(len > 0, "an empty line was delivered (line %zu)", line_no);
	FUZZ_CHECK(!memchr(line, '\n', len), "a delivered line holds a LF (line %zu)", line_no);
	buf_printf(&r->log, "%zu %zu:", line_no, len);
	buf_add(&r->log, line, len);
	buf_addc(&r->log, '\n');
	r->lines++;
	return r->stop_after && r->lines == r->stop_after;
}

/* Decode p[0..n) in pieces (whole when rng is NULL); the final result is appended to the log. */
static void decode(struct run *r, size_t max, const char *p, size_t n, struct fuzz_rng *rng)
{
	struct ndjson_decoder d;
	enum ndjson_result res = NDJSON_OK;
	ndjson_init(&d, max, line_cb, r);
	size_t at = 0;
	while (at < n && res == NDJSON_OK) {
		size_t k = rng ? fuzz_piece(rng, n - at) : n - at;
		res = ndjson_feed(&d, p + at, k);
		at += k;
	}
	if (res == NDJSON_OK)
		res = ndjson_finish(&d);
	buf_printf(&r->log, "result %d\n", (int)res);
	ndjson_release(&d);
}

/* The contract read directly: lines end at LF, one CR before it is dropped, empty lines are skipped. */
static void model(struct run *r, size_t max, const char *p, size_t n)
{
	size_t at = 0, line_no = 0;
	enum ndjson_result res = NDJSON_OK;
	while (at < n) {
		const char *nl = memchr(p + at, '\n', n - at);
		size_t raw = nl ? (size_t)(nl - (p + at)) : n - at;
		if (raw > max) {            /* the buffer holds the CR too, so the raw length counts */
			res = NDJSON_TOO_LONG;
			break;
		}
		size_t len = raw && p[at + raw - 1] == '\r' ? raw - 1 : raw;
		line_no++;
		if (len) {
			buf_printf(&r->log, "%zu %zu:", line_no, len);
			buf_add(&r->log, p + at, len);
			buf_addc(&r->log, '\n');
			r->lines++;
			if (r->stop_after && r->lines == r->stop_after) {
				res = NDJSON_STOPPED;
				break;
			}
		}
		at += raw + (nl != NULL);
	}
	buf_printf(&r->log, "result %d\n", (int)res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	size_t max = 1 + ((size_t)data[0] | (size_t)data[1] << 8) % 512;
	size_t stop_after = data[2] % 8 == 0 ? data[2] / 8 : 0;
	struct fuzz_rng rng = { data[3] + 1 };
	const char *p = (const char *)data + 4;
	size_t n = size - 4;

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
