/*
 * http: one HTTP exchange through libcurl's easy API.
 *
 * The header and write callbacks fill the response as bytes arrive; a stream
 * is split into NDJSON lines or SSE events and parsed as it comes, so a long
 * stream never has to fit in memory twice.  libcurl knows connect and total
 * timeouts; the two it does not (first byte, idle) are checked in the progress
 * callback, which libcurl calls about once a second even while nothing arrives.
 */
#include "runner/http.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "common/json.h"
#include "common/redact.h"
#include "common/ndjson.h"
#include "common/sse.h"
#include "common/utf8.h"

#define STREAM_ERROR_LINE_MAX 200   /* bytes of a bad line or SSE data quoted in stream_error */
#define STATUS_LINE_MAX 128
#define NOT_STREAM_SHOW_MAX 200     /* bytes of the body (and content type) quoted in not_stream */

struct http_client {
	CURL *easy;
};

/* The state of one exchange, shared by the callbacks. */
struct xfer {
	CURL *easy;
	const struct http_request *req;
	struct response *resp;
	struct ndjson_decoder nd;
	struct sse_decoder sse;
	double t0;               /* monotonic ms when the exchange started */
	double sent_ms;          /* when the request was fully sent, since t0; -1 until then */
	double first_ms;         /* first response byte, since t0; -1 until then */
	double last_ms;          /* latest response byte, since t0 */
	double headers_ms;       /* the final response's headers complete, since t0; -1 until then */
	int decided;             /* the headers are complete and decode is set */
	int decode;              /* a stream was asked for and the response is one: feed the decoder */
	int capped;              /* we stopped the transfer on purpose (a cap, or leaving), not an error */
	char why[192];           /* our reason for aborting (first byte or idle timeout) */
	char status_line[STATUS_LINE_MAX];
	struct buf trailers;     /* trailer fields after a chunked body, as the transcript shows them */
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static double since(const struct xfer *x)
{
	return now_ms() - x->t0;
}

/* "10", "0.5": seconds as the messages show them. */
static void fmt_seconds(char *out, size_t size, double s)
{
	snprintf(out, size, "%g", s);
}

/* ---- transcripts and redaction ------------------------------------------------------------ */

void http_append_escaped(struct buf *out, const char *p, size_t n, int keep_lines)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f) {
			if (keep_lines && (c == '\n' || c == '\t'))
				buf_addc(out, (char)c);
			else
				buf_printf(out, "\\x%02x", c);
			i++;
			continue;
		}
		if (c < 0x80) {
			buf_addc(out, (char)c);
			i++;
			continue;
		}
		size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			     c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (len && len <= n - i && utf8_valid(p + i, len)) {
			buf_add(out, p + i, len);
			i += len;
		} else {
			buf_printf(out, "\\x%02x", c);
			i++;
		}
	}
}

/* Append one header line to a transcript, "> name: value" (dir '>' or '<'), a credential's value redacted. */
void http_transcript_header(struct buf *t, char dir, const char *name, const char *value)
{
	buf_printf(t, "%c %s: ", dir, name);
	if (redact_is_secret_name(name, strlen(name)))
		redact_value(t, value);
	else
		http_append_escaped(t, value, strlen(value), 0);
	buf_addc(t, '\n');
}

/* Append a body, cut to max bytes on a character boundary, saying how much was left out. */
static void transcript_body(struct buf *t, const char *p, size_t n, size_t max, int truncated)
{
	if (!n)
		return;
	size_t shown = utf8_truncate(p, n, max);
	http_append_escaped(t, p, shown, 1);
	if (shown && p[shown - 1] != '\n')
		buf_addc(t, '\n');
	if (shown < n || truncated)
		buf_printf(t, "...(%zu of %zu%s bytes shown)\n", shown, n, truncated ? "+" : "");
}

static void transcript_request(struct buf *t, const struct http_request *req, const char *method)
{
	buf_printf(t, "> %s ", method);
	redact_url(t, req->url);
	buf_addc(t, '\n');
	for (size_t i = 0; i < req->nheaders; i++)
		http_transcript_header(t, '>', req->headers[i].name, req->headers[i].value);
	if (req->body && req->body_len) {
		buf_adds(t, ">\n");
		transcript_body(t, req->body, req->body_len, HTTP_TRANSCRIPT_REQ_BODY, 0);
	}
}

/* One "< event N TYPE (+AT ms, gap G ms)" line. */
static void transcript_event(struct buf *t, const struct response *r, size_t i)
{
	const struct event *e = &r->events[i];
	buf_printf(t, "< event %zu ", i + 1);
	http_append_escaped(t, e->type, utf8_truncate(e->type, strlen(e->type), 64), 0);
	buf_printf(t, " (+%.1f ms", e->at_ms);
	if (i)
		buf_printf(t, ", gap %.1f ms", e->at_ms - r->events[i - 1].at_ms);
	buf_adds(t, ")\n");
}

/*
 * When each event of a decoded stream arrived, after the body: one line per
 * event, the first HTTP_TRANSCRIPT_EVENTS_HEAD and the last
 * HTTP_TRANSCRIPT_EVENTS_TAIL of a long stream, the middle in one line.
 */
static void transcript_events(struct buf *t, const struct response *r)
{
	size_t n = r->nevents;
	int elide = n > HTTP_TRANSCRIPT_EVENTS_HEAD + HTTP_TRANSCRIPT_EVENTS_TAIL + 1;
	for (size_t i = 0; i < n; i++) {
		if (elide && i == HTTP_TRANSCRIPT_EVENTS_HEAD) {
			size_t last = n - HTTP_TRANSCRIPT_EVENTS_TAIL - 1;
			buf_printf(t, "< ... events %zu to %zu (+%.1f to +%.1f ms) not shown\n", i + 1, last + 1,
				   r->events[i].at_ms, r->events[last].at_ms);
			i = last;
			continue;
		}
		transcript_event(t, r, i);
	}
}

static void transcript_response(struct buf *t, const struct xfer *x)
{
	const struct response *r = x->resp;
	/* Times since the request began to go out; the whole exchange (connect included) is total_ms. */
	if (x->status_line[0] && r->headers_ms >= 0)
		buf_printf(t, "< %s (headers +%.1f ms, end +%.1f ms)\n", x->status_line, r->headers_ms,
			   r->total_ms - r->sent_ms);
	else if (x->status_line[0])
		buf_printf(t, "< %s (%.0f ms)\n", x->status_line, r->total_ms);
	for (size_t i = 0; i < r->nheaders; i++)
		http_transcript_header(t, '<', r->headers[i].name, r->headers[i].value);
	if (r->body.len) {
		buf_adds(t, "<\n");
		transcript_body(t, r->body.data, r->body.len, HTTP_TRANSCRIPT_RESP_BODY, r->truncated);
	}
	if (r->format != STREAM_NONE)
		transcript_events(t, r);
	if (x->trailers.len) {
		buf_adds(t, "* trailer fields after the body (not headers: no expectation reads them):\n");
		buf_add(t, x->trailers.data, x->trailers.len);
	}
	if (r->left)
		buf_printf(t, "* left after %zu event%s: the runner closed the connection (leave_after)\n",
			   r->nevents, r->nevents == 1 ? "" : "s");
	if (r->stream_error)
		buf_printf(t, "! stream: %s\n", r->stream_error);
	if (r->transport_error)
		buf_printf(t, "! %s\n", r->transport_error);
}

/* ---- callbacks ---------------------------------------------------------------------------- */

static void set_error(char **slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set *slot to a formatted message unless it already holds one (the first problem is the one shown). */
static void set_error(char **slot, const char *fmt, ...)
{
	if (*slot)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(slot, fmt, ap) < 0)
		*slot = NULL;
	va_end(ap);
}

static void mark_byte(struct xfer *x)
{
	double t = since(x);
	if (x->first_ms < 0)
		x->first_ms = t;
	x->last_ms = t;
}

static char *trimmed_dup(const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	return strndup(p, n);
}

static void headers_clear(struct response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct response *r = x->resp;
	size_t n = size * nmemb;
	mark_byte(x);
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new status line: an interim 1xx response came before; keep only the final one. */
		headers_clear(r);
		x->headers_ms = -1;
		size_t len = n;
		while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		struct buf sl;
		buf_init(&sl, sizeof(x->status_line) - 1);
		http_append_escaped(&sl, p, len < 100 ? len : 100, 0);
		snprintf(x->status_line, sizeof(x->status_line), "%s", buf_str(&sl));
		buf_release(&sl);
		return n;
	}
	if ((n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n')) {
		x->headers_ms = since(x);   /* the blank line: this response's headers are complete */
		return n;
	}
	const char *colon = memchr(p, ':', n);
	if (colon && x->headers_ms >= 0) {
		/* After the final response's headers: a trailer field of a chunked body, shown, not a header. */
		char *name = trimmed_dup(p, (size_t)(colon - p));
		char *value = trimmed_dup(colon + 1, n - (size_t)(colon + 1 - p));
		if (name && value && x->trailers.len < x->trailers.max / 2)
			http_transcript_header(&x->trailers, '<', name, value);
		free(name);
		free(value);
		return n;
	}
	if (!colon || r->nheaders >= HTTP_MAX_HEADERS)
		return n;   /* the blank line ending the headers, or one header too many: not kept */
	struct header *h = realloc(r->headers, (r->nheaders + 1) * sizeof(*h));
	if (!h)
		return 0;
	r->headers = h;
	h = &r->headers[r->nheaders];
	h->name = trimmed_dup(p, (size_t)(colon - p));
	h->value = trimmed_dup(colon + 1, n - (size_t)(colon + 1 - p));
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		return 0;
	}
	r->nheaders++;
	return n;
}

/* Set stream_error to what (e.g. "line 3") "is not JSON:" (or not UTF-8) and the bytes, cut and escaped. */
static void not_json(struct response *r, const char *what, const char *p, size_t len)
{
	if (r->stream_error)
		return;
	const char *why = utf8_valid(p, len) ? "is not JSON" : "is not valid UTF-8";
	struct buf shown;
	buf_init(&shown, STREAM_ERROR_LINE_MAX * 4 + 16);
	size_t cut = utf8_truncate(p, len, STREAM_ERROR_LINE_MAX);
	http_append_escaped(&shown, p, cut, 0);
	if (cut < len)
		buf_adds(&shown, "...");
	set_error(&r->stream_error, "%s %s: %s", what, why, buf_str(&shown));
	buf_release(&shown);
}

/* Keep a parsed event (takes json); non-zero when reading must stop. */
static int store_event(struct xfer *x, cJSON *json, const char *raw, size_t len)
{
	struct response *r = x->resp;
	if (r->nevents >= HTTP_MAX_EVENTS) {
		cJSON_Delete(json);
		set_error(&r->stream_error, "more than %u events; stopped reading", HTTP_MAX_EVENTS);
		return 1;
	}
	if (response_add_event(r, json, raw, len, since(x), HTTP_MAX_EVENTS) != 0) {
		set_error(&r->stream_error, "cannot store event %zu; stopped reading", r->nevents + 1);
		return 1;
	}
	/* Leave as a client that goes away does: what follows is never decoded (write_cb aborts). */
	if (x->req->leave_after_events && r->nevents >= x->req->leave_after_events) {
		r->left = true;
		return 1;
	}
	return 0;
}

static int stream_line_cb(void *arg, const char *line, size_t len, size_t line_no)
{
	struct xfer *x = arg;
	cJSON *json = json_parse_exact(line, len);
	if (!json) {
		char what[48];
		snprintf(what, sizeof(what), "line %zu", line_no);
		not_json(x->resp, what, line, len);
		return 0;   /* keep reading: the rest of the stream is still worth checking */
	}
	return store_event(x, json, line, len);
}

/*
 * One dispatched SSE event.  Its type for the matchers is the JSON "type"
 * member when there is one (as for NDJSON), else the SSE event field unless
 * that is the default "message", else "?".
 */
static int stream_sse_cb(void *arg, const struct sse_event *ev)
{
	struct xfer *x = arg;
	struct response *r = x->resp;
	cJSON *json = json_parse_exact(ev->data, ev->data_len);
	if (!json) {
		char what[48];
		snprintf(what, sizeof(what), "event %zu data", x->sse.events);
		not_json(r, what, ev->data, ev->data_len);
		return 0;   /* keep reading, as for NDJSON */
	}
	int typed = json_get_string(json, "type") != NULL;
	if (store_event(x, json, ev->data, ev->data_len))
		return 1;
	if (!typed && strcmp(ev->type, "message") != 0) {
		struct event *e = &r->events[r->nevents - 1];
		char *t = strdup(ev->type);
		if (!t) {
			set_error(&r->stream_error, "out of memory at event %zu; stopped reading",
				  x->sse.events);
			return 1;
		}
		free(e->type);
		e->type = t;
	}
	return 0;
}

/* Feed n bytes to the stream's decoder; non-zero when the transfer must stop. */
static int feed_stream(struct xfer *x, const char *p, size_t n)
{
	struct response *r = x->resp;
	if (x->req->stream == STREAM_SSE) {
		enum sse_result sr = sse_feed(&x->sse, p, n);
		if (sr == SSE_TOO_LONG)
			set_error(&r->stream_error,
				  "event %zu: a line or the data is longer than %u bytes; stopped reading",
				  x->sse.events + 1, HTTP_MAX_LINE);
		else if (sr == SSE_NOMEM)
			set_error(&r->stream_error, "out of memory at event %zu; stopped reading",
				  x->sse.events + 1);
		return sr != SSE_OK;
	}
	enum ndjson_result nr = ndjson_feed(&x->nd, p, n);
	if (nr == NDJSON_OK)
		return 0;
	if (nr == NDJSON_TOO_LONG)
		set_error(&r->stream_error, "line %zu is longer than %u bytes; stopped reading",
			  x->nd.line_no + 1, HTTP_MAX_LINE);
	else if (nr == NDJSON_NOMEM)
		set_error(&r->stream_error, "out of memory at line %zu; stopped reading",
			  x->nd.line_no + 1);
	return 1;
}

/* End of a complete stream: a last NDJSON line without its newline; an SSE event without its blank line. */
static void finish_stream(struct xfer *x)
{
	if (x->req->stream == STREAM_NDJSON) {
		ndjson_finish(&x->nd);
		return;
	}
	sse_finish(&x->sse);
	/* Dropped as a browser drops it; said, so that a missing last event is not a mystery. */
	if (x->sse.dropped)
		set_error(&x->resp->stream_error,
			  "the stream ended inside event %zu (no blank line after it); the event was dropped",
			  x->sse.events + 1);
}

/*
 * Once the headers are complete (the first body byte, or the end of a response
 * without one): decode the body as the stream asked for only when the response
 * is one, a 2xx with that format's content type.  A 404's JSON error is then a
 * body the matchers can read, not a broken stream.
 */
static void decide_stream(struct xfer *x)
{
	if (x->decided)
		return;
	x->decided = 1;
	if (x->req->stream == STREAM_NONE)
		return;
	long status = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->decode = status >= 200 && status <= 299 &&
		    response_is_stream_type(x->req->stream, response_header(x->resp, "content-type"));
}

/* Say why a response to a stream request was not decoded: its status, content type and first bytes. */
static void not_a_stream(struct response *r)
{
	const char *ct = response_header(r, "content-type");
	struct buf shown;
	buf_init(&shown, 4 * NOT_STREAM_SHOW_MAX + 64);
	buf_adds(&shown, "content-type ");
	if (ct)
		http_append_escaped(&shown, ct, utf8_truncate(ct, strlen(ct), NOT_STREAM_SHOW_MAX), 0);
	else
		buf_adds(&shown, "(none)");
	buf_adds(&shown, ", body ");
	/* A trailing newline says nothing in a one-line reason. */
	size_t len = r->body.len;
	while (len && (r->body.data[len - 1] == '\n' || r->body.data[len - 1] == '\r'))
		len--;
	size_t cut = len ? utf8_truncate(r->body.data, len, NOT_STREAM_SHOW_MAX) : 0;
	if (!len)
		buf_adds(&shown, "(empty)");
	http_append_escaped(&shown, r->body.data, cut, 0);
	if (cut < len || r->truncated)
		buf_adds(&shown, "...");
	set_error(&r->not_stream, "not a stream: status %ld, %s", r->status, buf_str(&shown));
	buf_release(&shown);
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct response *r = x->resp;
	size_t n = size * nmemb;
	mark_byte(x);
	decide_stream(x);
	size_t room = r->body.max - r->body.len;
	size_t take = n < room ? n : room;
	if (buf_add(&r->body, p, take) != BUF_OK) {
		x->capped = 1;
		set_error(&r->transport_error, "out of memory reading the body");
		return 0;
	}
	/* A cap, or leave_after reached: returning 0 makes libcurl abort with CURLE_WRITE_ERROR and
	 * close the connection (the rest of the body is unread), which capped tells from an error. */
	if (x->decode && feed_stream(x, p, take)) {
		x->capped = 1;
		return 0;
	}
	if (take < n) {
		/* Past the cap: what we have is what the matchers see; stop the transfer. */
		r->truncated = true;
		x->capped = 1;
		if (x->decode)
			set_error(&r->stream_error, "the stream passed %u bytes; stopped reading",
				  HTTP_MAX_BODY);
		return 0;
	}
	return n;
}

static int xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = arg;
	const struct timeouts *to = &x->req->timeouts;
	double t = since(x);
	char s[32];
	if (x->first_ms >= 0) {
		if (t - x->last_ms <= to->idle * 1000.0)
			return 0;
		fmt_seconds(s, sizeof(s), to->idle);
		/* Events once the body is known to be a stream (or before anything of it came). */
		if (x->decode || (!x->decided && x->req->stream != STREAM_NONE))
			snprintf(x->why, sizeof(x->why), "idle for %s s after %zu events", s,
				 x->resp->nevents);
		else
			snprintf(x->why, sizeof(x->why), "idle for %s s after %zu bytes", s,
				 x->resp->body.len);
		return 1;
	}
	if (x->sent_ms < 0) {
		curl_off_t pre = 0;
		curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
		if (pre <= 0 || ulnow < ultotal)
			return 0;
		/* Without a body, the request went out at pretransfer; with one, when its last byte did. */
		x->sent_ms = ultotal == 0 ? (double)pre / 1000.0 : t;
	}
	if (t - x->sent_ms <= to->first_byte * 1000.0)
		return 0;
	fmt_seconds(s, sizeof(s), to->first_byte);
	snprintf(x->why, sizeof(x->why), "no first byte within %s s", s);
	return 1;
}

/* ---- the exchange ------------------------------------------------------------------------- */

/*
 * Make the response's times count from the moment the request began to go
 * out (libcurl's pretransfer time: after connect and TLS), so that they say
 * how long the server took, whatever the connection cost.  Events were
 * stamped since the start of the exchange as they arrived.
 */
static void rebase_times(struct xfer *x)
{
	struct response *r = x->resp;
	curl_off_t pre = 0;
	double sent = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK && pre > 0)
		sent = (double)pre / 1000.0;
	/* Never after the first byte: a server may answer before the request has all gone out. */
	if (x->first_ms >= 0 && sent > x->first_ms)
		sent = x->first_ms;
	r->sent_ms = sent;
	r->first_byte_ms = x->first_ms >= 0 ? x->first_ms - sent : -1;
	r->headers_ms = x->headers_ms >= 0 ? x->headers_ms - sent : -1;
	for (size_t i = 0; i < r->nevents; i++)
		r->events[i].at_ms -= sent;
}

struct http_client *http_client_new(void)
{
	struct http_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->easy = curl_easy_init();
	if (!c->easy) {
		free(c);
		return NULL;
	}
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->easy);
	free(c);
}

static int has_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

/* The header list for libcurl; NULL on failure. */
static struct curl_slist *build_headers(const struct http_request *req, int *fail)
{
	struct curl_slist *list = NULL;
	struct buf line;
	buf_init(&line, 1u << 20);
	*fail = 0;
	for (size_t i = 0; i < req->nheaders && !*fail; i++) {
		buf_reset(&line);
		/* "Name;" is how libcurl sends a header with an empty value. */
		if (req->headers[i].value[0])
			buf_printf(&line, "%s: %s", req->headers[i].name, req->headers[i].value);
		else
			buf_printf(&line, "%s;", req->headers[i].name);
		struct curl_slist *l = curl_slist_append(list, buf_str(&line));
		if (l)
			list = l;
		else
			*fail = 1;
	}
	/* A raw body goes as is: no form content type made up by libcurl. */
	if (!*fail && req->body && !has_header(req, "content-type")) {
		struct curl_slist *l = curl_slist_append(list, "Content-Type:");
		if (l)
			list = l;
		else
			*fail = 1;
	}
	/* libcurl would send "Expect: 100-continue" for large bodies and wait for the interim answer. */
	if (!*fail && !has_header(req, "expect")) {
		struct curl_slist *l = curl_slist_append(list, "Expect:");
		if (l)
			list = l;
		else
			*fail = 1;
	}
	buf_release(&line);
	return list;
}

static void describe_curl_error(struct xfer *x, CURLcode rc, const char *errbuf)
{
	struct response *r = x->resp;
	const struct timeouts *to = &x->req->timeouts;
	char s[32];
	if (rc == CURLE_ABORTED_BY_CALLBACK && x->why[0]) {
		set_error(&r->transport_error, "%s", x->why);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		curl_off_t connected = 0;
		curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connected);
		if (connected == 0 && to->connect <= to->total) {
			fmt_seconds(s, sizeof(s), to->connect);
			set_error(&r->transport_error, "connect timeout: no connection within %s s", s);
		} else {
			fmt_seconds(s, sizeof(s), to->total);
			set_error(&r->transport_error,
				  "total timeout: the exchange took more than %s s (%zu bytes, %zu events received)",
				  s, r->body.len, r->nevents);
		}
	} else if (rc == CURLE_OUT_OF_MEMORY) {
		/* What libcurl 7.88 answers to a header line past its 100 KiB limit, as well as to a real shortage. */
		set_error(&r->transport_error,
			  "libcurl gave up on the response: a header line over its 100 KiB limit, or memory ran out "
			  "(%s)", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else {
		/* libcurl's own detail says more than its generic text, when it has one. */
		set_error(&r->transport_error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
}

int http_exchange(struct http_client *c, const struct http_request *req, struct response *resp,
		  struct buf *transcript)
{
	CURL *e = c->easy;
	const char *method = req->method ? req->method : "GET";
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct xfer x;
	int rc = -1;
	int hfail = 0;

	memset(&x, 0, sizeof(x));
	buf_init(&x.trailers, 16 * 1024);
	x.easy = e;
	x.req = req;
	x.resp = resp;
	x.sent_ms = -1;
	x.first_ms = -1;
	x.headers_ms = -1;
	ndjson_init(&x.nd, HTTP_MAX_LINE, stream_line_cb, &x);
	sse_init(&x.sse, HTTP_MAX_LINE, stream_sse_cb, &x);
	buf_release(&resp->body);
	buf_init(&resp->body, HTTP_MAX_BODY);
	if (transcript)
		transcript_request(transcript, req, method);

	hdrs = build_headers(req, &hfail);
	if (hfail) {
		set_error(&resp->transport_error, "out of memory building the request headers");
		goto out;
	}
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	if (req->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(req->timeouts.connect * 1000.0));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeouts.total * 1000.0));
	/* Show the body exactly as the target sent it: no transparent decompression. */
	curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (req->body || strcmp(method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}

	x.t0 = now_ms();
	CURLcode cc = curl_easy_perform(e);
	resp->total_ms = since(&x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL); /* errbuf is this frame's; the handle lives on */
	if (cc != CURLE_OK && !x.capped)
		describe_curl_error(&x, cc, errbuf);

	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	decide_stream(&x);   /* a response without a body byte is decided here */
	if (x.decode) {
		resp->format = req->stream;
		if (cc == CURLE_OK)
			finish_stream(&x);
	} else if (req->stream != STREAM_NONE && status != 0) {
		not_a_stream(resp);
	}
	curl_off_t t = 0;
	if (curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK)
		resp->connect_ms = (double)t / 1000.0;
	rebase_times(&x);
	if (!x.decode && resp->body.len && !resp->truncated)
		resp->json = json_parse_exact(resp->body.data, resp->body.len);
	rc = resp->transport_error ? -1 : 0;
out:
	if (transcript)
		transcript_response(transcript, &x);
	curl_slist_free_all(hdrs);
	sse_release(&x.sse);
	ndjson_release(&x.nd);
	buf_release(&x.trailers);
	return rc;
}

int http_probe(const char *url, long timeout_ms, const char *ca_file, struct buf *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *e = curl_easy_init();
	int rc = -1;
	if (!e) {
		buf_adds(err, "cannot start libcurl");
		goto out;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	if (ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode cc = curl_easy_perform(e);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	if (cc != CURLE_OK) {
		buf_adds(err, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	rc = 0;
out:
	curl_easy_cleanup(e);
	return rc;
}
