/*
 * fuzz_response: the runner's matchers (runner/match.c with seqre, rx, vars, timing) on a
 * response built from the input, as a suite's "expect" would check it.
 *
 * The input reads as text:
 *
 *   MSSS\n            M: a control character, SSS: the status (three digits; "000": no status line)
 *   {...expect...}\n--\n
 *   name: value\n ... \n\n   the response headers, then the body
 *
 * M's bits: 0-1 the body (0 JSON or text, 1 NDJSON, 2 SSE, 3 a stream asked for that is not one),
 * 2 a transport error, 3 a truncated body, 4-6 the ms between events.  A stream is decoded with the
 * shared decoders as runner/http.c does (a line or event that is not JSON sets stream_error and is
 * skipped; an SSE event without a "type" takes its event field).
 *
 * The expect object is validated as suite.c does (expect_validate, which compiles its regexes and
 * sequences); when valid it is checked with variables in scope: expect_check counts failures and
 * says what each is (a failure count with no line is a finding).  A few capture sources give a value
 * or a reason.  Then, where cheap, the response against itself: its JSON body matches
 * {"body": {"": {"equals": <the body>}}} (unless it names a member twice: cJSON_Compare cannot
 * compare those), and a decoded stream matches the sequence of its own event types and the count
 * of its events.  The compiled tables are released after every input.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/ndjson.h"
#include "common/sse.h"
#include "fuzz/fuzz.h"
#include "runner/match.h"
#include "runner/response.h"
#include "runner/rx.h"
#include "runner/vars.h"

#define MAX_EVENTS 1000
#define MAX_LINE (64u * 1024)

struct decode {
	struct response *r;
	double step_ms;
	struct sse_decoder *sse;
};

static void set_stream_error(struct response *r, const char *what)
{
	if (!r->stream_error)
		r->stream_error = strdup(what);
}

static int store(struct decode *d, cJSON *json, const char *raw, size_t len)
{
	if (response_add_event(d->r, json, raw, len, d->step_ms * (double)(d->r->nevents + 1), MAX_EVENTS) != 0) {
		set_stream_error(d->r, "too many events; stopped reading");
		return 1;
	}
	return 0;
}

static int line_cb(void *arg, const char *line, size_t len, size_t line_no)
{
	struct decode *d = arg;
	cJSON *json = json_parse_exact(line, len);
	if (!json) {
		set_stream_error(d->r, "a line is not JSON");
		return 0;
	}
	return store(d, json, line, len);
}

static int sse_cb(void *arg, const struct sse_event *ev)
{
	struct decode *d = arg;
	cJSON *json = json_parse_exact(ev->data, ev->data_len);
	if (!json) {
		set_stream_error(d->r, "an event's data is not JSON");
		return 0;
	}
	bool typed = json_get_string(json, "type") != NULL;
	if (store(d, json, ev->data, ev->data_len))
		return 1;
	if (!typed && strcmp(ev->type, "message") != 0) {
		struct event *e = &d->r->events[d->r->nevents - 1];
		free(e->type);
		e->type = strdup(ev->type);
		FUZZ_CHECK(e->type, "out of memory");
	}
	return 0;
}

/* Headers "name: value" lines up to an empty line (or the end); returns where the body starts. */
static const char *parse_headers(struct response *r, const char *p, const char *end)
{
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		if (!eol)
			eol = end;
		if (eol == p)
			return next;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon && r->nheaders < 64) {
			const char *v = colon + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			struct header *h = realloc(r->headers, (r->nheaders + 1) * sizeof(*h));
			FUZZ_CHECK(h, "out of memory");
			r->headers = h;
			h[r->nheaders].name = strndup(p, (size_t)(colon - p));
			h[r->nheaders].value = strndup(v, (size_t)(ve - v));
			r->nheaders++;
		}
		p = next;
	}
	return end;
}

static void build_response(struct response *r, unsigned mode, long status, const char *p, const char *end)
{
	r->status = status;
	const char *body = parse_headers(r, p, end);
	size_t blen = (size_t)(end - body);
	FUZZ_CHECK(buf_add(&r->body, body, blen) == BUF_OK, "the body does not fit");
	r->truncated = (mode >> 3) & 1;
	if ((mode >> 2) & 1)
		r->transport_error = strdup("connection reset by peer");
	struct decode d = { .r = r, .step_ms = (double)((mode >> 4) & 7) * 7.5 };
	switch (mode & 3) {
	case 1: {
		struct ndjson_decoder nd;
		ndjson_init(&nd, MAX_LINE, line_cb, &d);
		if (ndjson_feed(&nd, body, blen) == NDJSON_OK)
			ndjson_finish(&nd);
		else
			set_stream_error(r, "the stream stopped");
		ndjson_release(&nd);
		r->format = STREAM_NDJSON;
		break;
	}
	case 2: {
		struct sse_decoder sse;
		sse_init(&sse, MAX_LINE, sse_cb, &d);
		d.sse = &sse;
		if (sse_feed(&sse, body, blen) == SSE_OK)
			sse_finish(&sse);
		else
			set_stream_error(r, "the stream stopped");
		if (sse.dropped)
			set_stream_error(r, "the last event was dropped");
		sse_release(&sse);
		r->format = STREAM_SSE;
		break;
	}
	case 3:
		r->not_stream = strdup("not a stream: status 200, content-type text/plain");
		/* fall through: kept as a plain body */
	default:
		if (blen && !r->truncated)
			r->json = json_parse_exact(body, blen);
	}
}

static bool has_duplicate_names(const cJSON *v)
{
	for (const cJSON *c = v->child; c; c = c->next) {
		if (cJSON_IsObject(v))
			for (const cJSON *o = v->child; o != c; o = o->next)
				if (strcmp(o->string, c->string) == 0)
					return true;
		if (has_duplicate_names(c))
			return true;
	}
	return false;
}

/* expect_check on a valid expect: failures come with at least one line each time. */
static int check(const cJSON *expect, const struct response *r, const struct vars *vars, struct buf *diff)
{
	buf_reset(diff);
	int fails = expect_check(expect, r, vars, diff);
	FUZZ_CHECK(fails >= 0, "expect_check returned %d", fails);
	FUZZ_CHECK(!fails || diff->len > 0, "%d failures and no line to say what", fails);
	return fails;
}

/* The response against itself, where that is sure to pass. */
static void check_self(const struct response *r, struct buf *diff)
{
	struct buf err;
	buf_init(&err, 1u << 20);
	/* A transport error fails every check, as it must: no self-match then. */
	if (r->json && !r->not_stream && !r->transport_error && !has_duplicate_names(r->json)) {
		cJSON *ex = cJSON_CreateObject(), *body = cJSON_AddObjectToObject(ex, "body");
		cJSON *m = cJSON_AddObjectToObject(body, "");
		cJSON_AddItemToObject(m, "equals", cJSON_Duplicate(r->json, 1));
		FUZZ_CHECK(expect_validate(ex, "expect", &err) == 0 && err.len == 0, "the body as expected is refused: %s",
			   buf_str(&err));
		FUZZ_CHECK(check(ex, r, NULL, diff) == 0, "the body does not match itself: %s", buf_str(diff));
		cJSON_Delete(ex);
	}
	if (r->format != STREAM_NONE && r->nevents > 0 && r->nevents <= 64 && !r->stream_error &&
	    !r->transport_error) {
		struct buf seq;
		bool names = true;
		buf_init(&seq, 1u << 20);
		for (size_t i = 0; i < r->nevents && names; i++) {
			const char *t = r->events[i].type;
			names = (*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') || *t == '_';
			for (const char *c = t; *c && names; c++)
				names = strchr("_.-", *c) || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
					(*c >= '0' && *c <= '9');
			buf_printf(&seq, "%s%s", i ? " " : "", t);
		}
		cJSON *ex = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(ex, "stream");
		cJSON_AddStringToObject(s, "format", r->format == STREAM_SSE ? "sse" : "ndjson");
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(s, "count"), "*", (double)r->nevents);
		if (names)
			cJSON_AddStringToObject(s, "sequence", buf_str(&seq));
		buf_reset(&err);
		FUZZ_CHECK(expect_validate(ex, "expect", &err) == 0 && err.len == 0,
			   "the stream's own sequence \"%s\" is refused: %s", buf_str(&seq), buf_str(&err));
		FUZZ_CHECK(check(ex, r, NULL, diff) == 0, "the stream does not match its own sequence \"%s\": %s",
			   buf_str(&seq), buf_str(diff));
		cJSON_Delete(ex);
		buf_release(&seq);
	}
	buf_release(&err);
}

static void check_captures(const struct response *r)
{
	const char *sources[] = { "status", "header:content-type", "body:", "body:/type", "stream:start/type",
				  "stream:?", NULL };
	char own[300];
	struct buf err;
	buf_init(&err, 1u << 20);
	for (size_t i = 0; i <= sizeof(sources) / sizeof(*sources) - 1; i++) {
		const char *src = sources[i];
		if (!src) {
			if (!r->nevents)
				break;
			snprintf(own, sizeof(own), "stream:%.200s", r->events[0].type);
			src = own;
		}
		buf_reset(&err);
		cJSON *v = capture_value(src, r, &err);
		FUZZ_CHECK(v || err.len > 0, "capture %s: no value and no reason", src);
		FUZZ_CHECK(!v || err.len == 0, "capture %s: a value and a reason: %s", src, buf_str(&err));
		cJSON_Delete(v);
	}
	buf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4 || size > 256 * 1024)
		return 0;
	const char *text = (const char *)data, *end = text + size;
	unsigned mode = data[0];
	long status = (long)((data[1] - '0') % 10u) * 100 + (long)((data[2] - '0') % 10u) * 10 +
		      (long)((data[3] - '0') % 10u);
	const char *p = text + 4;
	if (p < end && *p == '\n')
		p++;
	const char *sep = memmem(p, (size_t)(end - p), "\n--\n", 4);
	const char *ex_end = sep ? sep : end, *resp_start = sep ? sep + 4 : end;

	struct response r;
	response_init(&r);
	build_response(&r, mode, status, resp_start, end);

	struct vars *vars = vars_new(NULL);
	vars_set_string(vars, "CONV", "conv-1");
	vars_set(vars, "N", cJSON_CreateNumber(3));
	struct buf err, diff;
	buf_init(&err, 1u << 20);
	buf_init(&diff, 1u << 22);

	cJSON *expect = json_parse_exact(p, (size_t)(ex_end - p));
	if (expect) {
		int rc = expect_validate(expect, "expect", &err);
		FUZZ_CHECK(rc == 0 || err.len > 0, "expect_validate refused and said nothing");
		if (rc == 0 && err.len == 0) {
			int fails = check(expect, &r, vars, &diff);
			if (getenv("FUZZ_SHOW"))   /* replaying an input: what the check said */
				fprintf(stderr, "expect: %d failed\n%s", fails, buf_str(&diff));
			check(expect, &r, NULL, &diff);
		} else if (getenv("FUZZ_SHOW")) {
			fprintf(stderr, "expect refused:\n%s", buf_str(&err));
		}
		cJSON_Delete(expect);
	}
	check_captures(&r);
	check_self(&r, &diff);

	buf_release(&diff);
	buf_release(&err);
	vars_free(vars);
	response_release(&r);
	buf_release(&r.body);
	rx_table_release();
	return 0;
}
