#include "runner/response.h"

#include "common/json.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The default cap of a kept body; the HTTP client may set body.max lower or higher before filling it. */
#define RESPONSE_MAX_BODY (16u * 1024 * 1024)

void response_init(struct response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, RESPONSE_MAX_BODY);
	r->format = STREAM_NONE;
	r->first_byte_ms = -1;
	r->headers_ms = -1;
}

void response_release(struct response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	buf_release(&r->body);
	cJSON_Delete(r->json);
	for (size_t i = 0; i < r->nevents; i++) {
		free(r->events[i].type);
		cJSON_Delete(r->events[i].json);
		free(r->events[i].raw);
	}
	free(r->events);
	free(r->stream_error);
	free(r->not_stream);
	free(r->transport_error);
	size_t max = r->body.max;
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, max);
}

const char *response_header(const struct response *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (r->headers[i].name && strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* The media type alone decides: a stream's framing is the content type's promise. */
bool response_is_stream_type(enum stream_format format, const char *content_type)
{
	/* JSON Lines is NDJSON under another name; application/json-seq (RFC 7464) is framed by RS bytes, not lines. */
	static const char *const ndjson[] = { "application/x-ndjson", "application/ndjson", "application/jsonl",
					      "application/x-jsonl" };
	static const char *const sse[] = { "text/event-stream" };
	const char *const *types = format == STREAM_SSE ? sse : ndjson;
	size_t ntypes = format == STREAM_SSE ? sizeof(sse) / sizeof(sse[0]) : sizeof(ndjson) / sizeof(ndjson[0]);
	if (!content_type || format == STREAM_NONE)
		return false;
	const char *p = content_type + strspn(content_type, " \t");
	size_t n = strcspn(p, ";");
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < ntypes; i++)
		if (strlen(types[i]) == n && strncasecmp(p, types[i], n) == 0)
			return true;
	return false;
}

int response_add_event(struct response *r, cJSON *json, const char *raw, size_t raw_len, double at_ms,
		       size_t max_events)
{
	char *type = NULL, *copy = NULL;
	if (!json || r->nevents >= max_events)
		goto fail;
	/*
	 * The array holds 16 events at first and doubles whenever the count
	 * reaches a power of two past that, so its capacity is implied by nevents.
	 */
	size_t n = r->nevents;
	if (n == 0 || (n >= 16 && (n & (n - 1)) == 0)) {
		size_t cap = n ? n * 2 : 16;
		struct event *v = realloc(r->events, cap * sizeof(*v));
		if (!v)
			goto fail;
		r->events = v;
	}
	const char *t = json_get_string(json, "type");
	type = strdup(t ? t : "?");
	copy = malloc(raw_len + 1);
	if (!type || !copy)
		goto fail;
	if (raw_len)
		memcpy(copy, raw, raw_len);
	copy[raw_len] = '\0';
	struct event *e = &r->events[r->nevents++];
	e->type = type;
	e->json = json;
	e->raw = copy;
	e->raw_len = raw_len;
	e->at_ms = at_ms;
	return 0;
fail:
	free(type);
	free(copy);
	cJSON_Delete(json);
	return -1;
}
