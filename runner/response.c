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
